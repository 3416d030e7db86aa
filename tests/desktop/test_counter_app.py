"""Journeys through the counter app, driven with qtbot offscreen: login, search, pay, receipt, ledger, shifts."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from core.ledger.verify import verify as verify_ledger
from core.payments.models import PayOrder
from core.property import billing
from core.property.lists import RECEIPTS
from core.property.models import Payment
from desktop.models import PagedListModel, RowsModel
from desktop.property.module import BILL_COLUMNS, HIT_COLUMNS, LINE_COLUMNS, PayDialog, PropertyCounter
from desktop.shell import LoginDialog, MainWindow
from tests.desktop.conftest import PASSWORD


def login(qtbot, ctx, user, password=PASSWORD) -> LoginDialog:
    dlg = LoginDialog(ctx)
    qtbot.addWidget(dlg)
    qtbot.keyClicks(dlg.username, user)
    qtbot.keyClicks(dlg.password, password)
    dlg.try_login()
    return dlg


def window(qtbot, ctx, user="cashier1") -> tuple[MainWindow, PropertyCounter]:
    dlg = login(qtbot, ctx, user)
    assert dlg.actor is not None
    w = MainWindow(ctx, dlg.actor)
    qtbot.addWidget(w)
    w.show()
    counter = next((m for m in w.modules if isinstance(m, PropertyCounter)), None)
    return w, counter


def ledger_ok(ctx) -> bool:
    with ctx.read() as s:
        result = verify_ledger(s)
    assert not result.problems, result.problems
    return result.checked > 0


def idle(qtbot, w) -> None:
    qtbot.waitUntil(lambda: w.tasks.running == 0, timeout=10_000)


def count(ctx, model) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_login_wrong_disabled_and_locked_users_get_clear_messages(qtbot, site):
    ctx, _data = site
    assert login(qtbot, ctx, "cashier1").actor.username == "cashier1"
    bad = login(qtbot, ctx, "cashier1", "wrong")
    assert bad.actor is None and bad.error.isVisibleTo(bad) and bad.error.text()
    off = login(qtbot, ctx, "off1")
    assert off.actor is None and "disabled" in off.error.text()
    for _i in range(5):
        login(qtbot, ctx, "auditor1", "nope")
    locked = login(qtbot, ctx, "auditor1")
    assert locked.actor is None and locked.error.text() != bad.error.text()


def find_and_open(qtbot, w, counter, text):
    assert counter.search.hasFocus() or w.focusWidget() is counter.search
    if text.isascii():
        qtbot.keyClicks(counter.search, text)
    else:  # QTest types ASCII only; Chinese arrives as an input method would insert it
        counter.search.insert(text)
    qtbot.waitUntil(lambda: len(counter.hits.items) > 0, timeout=5000)
    qtbot.keyClick(counter.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: counter.detail is not None, timeout=5000)
    idle(qtbot, w)


@pytest.mark.parametrize("query", ["1-1-101", "张三", "13800138000", "110101199003071233"])
def test_find_a_house_by_code_owner_phone_and_id(qtbot, site, query):
    ctx, data = site
    w, counter = window(qtbot, ctx)
    find_and_open(qtbot, w, counter, query)
    assert counter.detail.house.id == data["houses"][0].id
    hit = counter.hits.items[0]
    assert hit.owner == "张三" and hit.phone != "13800138000" and "*" in hit.phone  # masked


def test_pay_two_bills_in_cash_with_change_then_receipt_and_ledger(qtbot, site, tmp_path):
    ctx, data = site
    w, counter = window(qtbot, ctx)
    counter.open_shift("200.00")
    assert "200.00" in counter.shift_label.text()
    find_and_open(qtbot, w, counter, "1-1-101")
    lines = counter.detail.lines
    assert len(lines) == 2 and [ln.period for ln in lines] == ["2026-01", "2026-02"]
    due = sum(ln.outstanding_fen for ln in lines) + sum(counter.detail.late_fees.values())
    counter.pay_selected()
    dlg = counter.last_dialog
    assert isinstance(dlg, PayDialog) and dlg.total_label.text() == f"¥{due / 100:,.2f}"
    qtbot.keyClicks(dlg.tendered, "1000")
    assert dlg.change.text() == f"¥{(100000 - due) / 100:,.2f}"
    qtbot.keyClick(dlg.confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10_000)
    result = dlg.result
    assert result.change_fen == 100000 - due and result.receipt.total_fen == due
    assert [ln.period for ln in result.receipt.lines][:2] == ["2026-01", "2026-02"]
    qtbot.waitUntil(lambda: counter.last_dialog is not dlg, timeout=5000)
    receipt_dlg = counter.last_dialog
    assert result.receipt.receipt_no in receipt_dlg.view.toPlainText()
    pdf = receipt_dlg.print_to_pdf(str(tmp_path / "r.pdf"))
    assert (tmp_path / "r.pdf").read_bytes()[:4] == b"%PDF"
    assert receipt_dlg.save_pdf(str(tmp_path / "a5.pdf")) and (tmp_path / "a5.pdf").stat().st_size > 1000
    del pdf
    idle(qtbot, w)
    assert counter.detail.lines == [] and billing.outstanding(ctx, data["houses"][0].id) == []
    report = ledger_ok(ctx)
    assert report
    with ctx.read() as s:
        order = s.execute(select(PayOrder)).scalar_one()
    assert order.channel == "cash" and order.amount_fen == due and order.tendered_fen == 100000
    # The receipt list of the house shows it; reprint marks 补打.
    assert counter.receipts.rowCount() == 1
    counter.reprint()
    qtbot.waitUntil(lambda: counter.last_dialog is not receipt_dlg, timeout=5000)
    assert counter.last_dialog.receipt.copy_mark == "补打"


def test_overpayment_goes_to_prepaid_and_void_restores_bills(qtbot, site):
    ctx, data = site
    w, counter = window(qtbot, ctx)
    counter.open_shift("0")
    find_and_open(qtbot, w, counter, "1-1-102")
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.amount.setText("1000.00")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10_000)
    idle(qtbot, w)
    due = 2 * 22375
    assert billing.prepaid_balance(ctx, data["houses"][1].id) == 100000 - due
    assert counter.prepaid.text().endswith(f"¥{(100000 - due) / 100:,.2f}")
    # The cashier voids a receipt of the open shift: bills open again, prepaid back, cash refunded in the shift.
    counter.void("收错户")
    idle(qtbot, w)
    assert billing.prepaid_balance(ctx, data["houses"][1].id) == 0
    assert len(billing.outstanding(ctx, data["houses"][1].id)) == 2
    assert ledger_ok(ctx)


def test_double_click_and_retry_make_one_payment(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx)
    counter.open_shift("0")
    find_and_open(qtbot, w, counter, "1-1-103")
    counter.pay_selected()
    dlg = counter.last_dialog
    qtbot.mouseDClick(dlg.confirm, Qt.MouseButton.LeftButton)
    dlg.submit()  # a third press while it runs
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10_000)
    idle(qtbot, w)
    assert dlg.attempts == 1
    # A retry of the same attempt (same key) returns the same receipt and writes nothing new.
    from core.property import counter as svc

    again = svc.take_payment(counter.ctx, dlg.request())
    assert again.receipt.receipt_no == dlg.result.receipt.receipt_no
    assert count(ctx, Payment) == 1 and count(ctx, PayOrder) == 1


def test_payment_needs_an_open_shift_error_shown_next_to_it(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx)
    find_and_open(qtbot, w, counter, "1-1-101")
    counter.pay_selected()
    dlg = counter.last_dialog
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.error.text() != "", timeout=10_000)
    assert "shift" in dlg.error.text() and dlg.confirm.isEnabled() and dlg.result is None
    assert count(ctx, Payment) == 0


def test_role_without_the_right_sees_no_payment_and_is_refused(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx, "auditor1")
    texts = [a.text() for m in w.menuBar().actions() if m.menu() for a in m.menu().actions()]
    assert not any("F5" in t for t in texts) and any("F6" not in t for t in texts)
    find_and_open(qtbot, w, counter, "1-1-101")
    assert not counter.pay_btn.isEnabled()
    counter.pay_selected()
    assert "permission" in counter.action_error.text()
    assert count(ctx, Payment) == 0


def test_close_shift_with_a_shortage_goes_to_approval(qtbot, site):
    ctx, _data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("200.00")
    dlg = counter.close_shift()
    dlg.spins[10000].setValue(1)
    dlg.spins[5000].setValue(1)
    assert "short" in dlg.diff.text()
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.error.text() != "", timeout=5000)  # a difference needs a reason
    dlg.reason.setText("找零差错")
    dlg.submit()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=5000)
    assert dlg.result.status == "PENDING_APPROVAL" and dlg.result.difference_fen == -5000


def test_lock_screen_and_switch_user(qtbot, site):
    ctx, _data = site
    w, _counter = window(qtbot, ctx)
    w.lock()
    assert w.locked and not w.menuBar().isEnabled()
    w.unlock_password.setText("wrong")
    assert not w.try_unlock() and w.unlock_error.text()
    w.unlock_password.setText(PASSWORD)
    assert w.try_unlock() and not w.locked
    other = login(qtbot, ctx, "auditor1").actor
    w.start(other)
    assert "审计乙" in w.who.text() and w.ctx.actor.username == "auditor1"


def test_models_pass_qtmodeltester(qtmodeltester, site):
    ctx, data = site
    lines = billing.outstanding(ctx, data["houses"][0].id)
    m = RowsModel(LINE_COLUMNS, [(ln, 0) for ln in lines])
    m.checkable = True
    m.set_rows([(ln, 0) for ln in lines])
    qtmodeltester.check(m)
    qtmodeltester.check(RowsModel(BILL_COLUMNS, billing.house_bills(ctx, data["houses"][0].id)))
    qtmodeltester.check(RowsModel(HIT_COLUMNS, []))
    billing.pay_at_counter(ctx, data["houses"][0].id, 100)
    paged = PagedListModel(ctx, RECEIPTS, {}, page_rows=1)
    qtmodeltester.check(paged)
    audit = PagedListModel(ctx, "audit", {}, page_rows=5)
    assert audit.canFetchMore()
    audit.fetchMore()
    assert audit.rowCount() == 10
    qtmodeltester.check(audit)
