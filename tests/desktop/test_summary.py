"""Today's summary (F8): counts and totals by channel for the clerk's shift, refunds netted, shortcut and errors."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from core.property import counter as svc
from desktop.property.module import SummaryDialog
from tests.desktop.test_counter_app import idle, window


def pay(ctx, house_id, bill_ids, amount_fen, channel, **kw) -> svc.PaymentResult:
    req = svc.PaymentRequest(house_id, tuple(bill_ids), amount_fen, channel, svc.new_attempt_key(), **kw)
    return svc.take_payment(ctx, req)


def test_summary_by_channel_with_a_void_netted(qtbot, site):
    ctx, data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("200.00")
    clerk = counter.ctx
    house = data["houses"][0].id
    lines = svc.house_detail(clerk, house).lines
    cash = pay(clerk, house, [lines[0].bill_id], lines[0].outstanding_fen, "cash", tendered_fen=100_000)
    pay(clerk, house, [lines[1].bill_id], lines[1].outstanding_fen + 5_000, "pos", reference="T1")
    svc.void_receipt(clerk, cash.receipt.id, "录错")  # the cashier's own shift: payments.counter.void

    s = svc.shift_summary(clerk)
    by = {c.channel: c for c in s.channels}
    assert set(by) == {"cash", "pos"}
    assert (by["cash"].payments, by["cash"].paid_fen) == (1, lines[0].outstanding_fen)
    assert (by["cash"].refunds, by["cash"].refunded_fen, by["cash"].net_fen) == (
        1,
        lines[0].outstanding_fen,
        0,
    )
    assert (by["pos"].payments, by["pos"].paid_fen, by["pos"].refunds) == (
        1,
        lines[1].outstanding_fen + 5_000,
        0,
    )
    assert s.payments == 2 and s.net_fen == lines[1].outstanding_fen + 5_000

    # The F8 action is in the window's menus (offscreen has no active window to deliver the key to).
    f8 = [a for a in counter.actions() if a.shortcut() == QKeySequence("F8")]
    assert len(f8) == 1
    f8[0].trigger()
    qtbot.waitUntil(lambda: isinstance(counter.last_dialog, SummaryDialog), timeout=5000)
    dlg = counter.last_dialog
    m = dlg.model
    assert m.rowCount() == 3  # cash, POS, total
    cells = [[m.data(m.index(r, c)) for c in range(m.columnCount())] for r in range(m.rowCount())]
    assert cells[-1][1] == "2" and cells[-1][3] == "1"
    assert cells[-1][5] == f"¥{(lines[1].outstanding_fen + 5_000) / 100:,.2f}"
    assert m.data(m.index(0, 2), Qt.ItemDataRole.TextAlignmentRole) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    )
    assert "2" in dlg.net.text()


def test_summary_without_an_open_shift_shows_the_error(qtbot, site):
    ctx, _data = site
    w, counter = window(qtbot, ctx)
    counter.show_summary()
    idle(qtbot, w)
    assert counter.action_error.text() and not isinstance(counter.last_dialog, SummaryDialog)


def test_summary_model_passes_qtmodeltester(qtmodeltester, qtbot, site):
    ctx, _data = site
    _w, counter = window(qtbot, ctx)
    counter.open_shift("100.00")
    dlg = SummaryDialog(svc.shift_summary(counter.ctx))
    qtbot.addWidget(dlg)
    assert dlg.model.rowCount() == 1  # only the total line
    qtmodeltester.check(dlg.model)
