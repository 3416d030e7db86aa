"""What a review of the counter on the demo site turned up: a clerk whose roles give no counter (finance) gets a
window instead of a crash, the receipts panel and the status bar speak the clerk's language (channels, roles,
the reprint mark), and a payment of nothing is refused in the dialog before anything is written."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import func, select

from core.payments.models import PayOrder
from core.property.models import Payment
from core.security import services as security
from desktop.property.module import PayDialog, receipt_html
from desktop.shell import MainWindow
from tests.desktop.conftest import PASSWORD
from tests.desktop.test_counter_app import find_and_open, idle, login, window


def count(ctx, model) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_a_user_without_a_counter_gets_a_window_not_a_crash(qtbot, site):
    ctx, _data = site
    security.add_user(ctx, "appr1", PASSWORD, display_name="审批丙", roles=["approver"])
    actor = login(qtbot, ctx, "appr1").actor
    assert actor is not None and not actor.can("property.view")
    w = MainWindow(
        ctx, actor
    )  # the property counter reads receipts, which an approver may not: it is not built
    qtbot.addWidget(w)
    assert w.modules == [] and w.tabs.currentWidget().objectName() == "no_modules"
    assert w.who.text() == "Logged in: 审批丙 (Approver)"  # the role's name, not its code


def test_receipts_panel_names_the_channel_and_the_reprint_is_marked(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx)
    assert "(Cashier)" in w.who.text()
    counter.open_shift("0")
    find_and_open(qtbot, w, counter, "1-1-101")
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.channel.setCurrentIndex(dlg.channel.findData("pos"))
    dlg.reference.setText("T-1")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10_000)
    idle(qtbot, w)
    channel = counter.receipts.source.columns.index(
        next(c for c in counter.receipts.source.columns if c.key == "channel")
    )
    shown = counter.receipts.data(counter.receipts.index(0, channel), Qt.ItemDataRole.DisplayRole)
    assert shown == "POS card"  # not the code "pos"
    counter.reprint()
    qtbot.waitUntil(
        lambda: counter.last_dialog is not dlg and bool(counter.last_dialog.receipt.copy_mark), timeout=5000
    )
    receipt = counter.last_dialog.receipt
    html = receipt_html(receipt, "站点")
    assert "【REPRINT】" in html and "补打" not in html
    assert "<thead>" in html  # the column headings repeat on each printed page of a long receipt


def test_a_payment_of_nothing_is_refused_in_the_dialog(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx)
    counter.open_shift("0")
    find_and_open(qtbot, w, counter, "1-1-102")
    orders, payments = count(ctx, PayOrder), count(ctx, Payment)
    counter.lines.checked = set()  # the clerk unticks every line
    counter.pay_selected()
    dlg = counter.last_dialog
    assert isinstance(dlg, PayDialog) and dlg.amount.text() == "0.00"
    qtbot.keyClick(dlg.confirm, Qt.Key.Key_Return)
    idle(qtbot, w)
    assert dlg.error.isVisibleTo(dlg) and "more than ¥0.00" in dlg.error.text()
    assert "amount_fen" not in dlg.error.text()
    assert dlg.result is None and dlg.confirm.isEnabled()
    assert (count(ctx, PayOrder), count(ctx, Payment)) == (orders, payments)
