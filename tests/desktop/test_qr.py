"""WeChat/Alipay QR at the counter: the hub order's code shown with a countdown, polled until SUCCESS, or cancelled
(Esc closes the order at the channel and the hub); a fake channel adapter stands in for the simulator."""

from __future__ import annotations

from PySide6.QtCore import Qt

from core.payments import services as payments
from core.payments.channels.base import CLOSED, PAYING, SUCCESS, Channel, ChannelResult, RefundResult
from core.property import billing
from desktop.property.module import PayDialog, QrDialog
from tests.desktop.test_counter_app import find_and_open, window


class FakeQrChannel(Channel):
    """A remote QR channel: PAYING with a code until `pay(order_no)`, then SUCCESS; close() is recorded."""

    synchronous = False

    def __init__(self, code: str) -> None:
        self.code, self.paid, self.closed = code, set(), []

    def create(self, order) -> ChannelResult:
        return ChannelResult(PAYING, pay_info={"code_url": f"weixin://wxpay/bizpayurl?pr={order.order_no}"})

    def query(self, order_no: str) -> ChannelResult:
        if order_no in self.paid:
            return ChannelResult(SUCCESS, channel_trade_no=f"WX{order_no}", fee_fen=0)
        return ChannelResult(PAYING)

    def close(self, order_no: str) -> ChannelResult:
        self.closed.append(order_no)
        return ChannelResult(CLOSED)

    def refund(self, order_no, refund_no, amount_fen, total_fen) -> RefundResult:
        return RefundResult("SUCCESS")


class FakeChannels:
    def __init__(self) -> None:
        self.wechat = FakeQrChannel("wechat")

    def get(self, code: str) -> Channel:
        assert code == "wechat"
        return self.wechat

    def __contains__(self, code: str) -> bool:
        return code == "wechat"


def start_qr(qtbot, ctx):
    w, counter = window(qtbot, ctx)  # a plain cashier: QR is payments.counter.qr
    counter.open_shift("200.00")
    find_and_open(qtbot, w, counter, "1-1-101")
    counter.pay_selected()
    dlg = counter.last_dialog
    assert isinstance(dlg, PayDialog)
    fake = FakeChannels()
    dlg.channels = fake
    dlg.channel.setCurrentIndex(dlg.channel.findData("wechat"))
    assert not dlg.reference.isVisibleTo(dlg) and not dlg.tendered.isVisibleTo(dlg)
    first_key = dlg.key
    dlg.submit()
    dlg.submit()  # a double click makes one order
    qtbot.waitUntil(lambda: dlg.qr_dialog is not None, timeout=10_000)
    qr = dlg.qr_dialog
    assert isinstance(qr, QrDialog)
    assert qr.code.text().startswith("weixin://wxpay/bizpayurl?pr=")
    assert "5:00" in qr.countdown.text() or "4:5" in qr.countdown.text()
    return w, counter, dlg, qr, fake, first_key


def test_qr_payment_completed_by_the_channel(qtbot, site):
    ctx, data = site
    _w, _counter, dlg, qr, fake, key = start_qr(qtbot, ctx)
    order = payments.get_order(ctx, app_id="property", out_trade_no=key)
    assert order.status == "PAYING" and order.channel == "wechat"
    assert order.metadata["house_id"] == str(data["houses"][0].id) and len(order.metadata["bill_ids"]) == 2
    qr.poll_timer.stop()  # the test polls by hand, so a timer poll in flight cannot race it
    qtbot.waitUntil(lambda: not qr._polling, timeout=10_000)
    qr.poll()
    qtbot.waitUntil(lambda: not qr._polling, timeout=10_000)
    assert qr.isVisible() and qr.result is None  # still waiting
    fake.wechat.paid.add(order.order_no)
    payments.refresh_order(ctx, order.order_no, channels=fake)  # what the channel's callback does at the hub
    qr.poll()
    qtbot.waitUntil(lambda: dlg.result is not None, timeout=10_000)
    assert dlg.result.status == "SUCCESS" and dlg.result.order_no == order.order_no
    assert fake.wechat.closed == []
    assert billing.outstanding(ctx, data["houses"][0].id) == []  # the hub notice settled both bills
    assert len([o for o in payments.list_orders(ctx, app_id="property") if o.channel == "wechat"]) == 1


def test_qr_payment_cancelled_with_esc_closes_the_order(qtbot, site):
    ctx, data = site
    _w, _counter, dlg, qr, fake, key = start_qr(qtbot, ctx)
    qtbot.keyClick(qr, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not qr.isVisible(), timeout=10_000)
    order = payments.get_order(ctx, app_id="property", out_trade_no=key)
    assert order.status == "CLOSED" and fake.wechat.closed == [order.order_no]
    assert dlg.result is None and dlg.confirm.isEnabled() and dlg.key != key  # a retry is a new order
    assert dlg.error.text()
    assert len(billing.outstanding(ctx, data["houses"][0].id)) == 2  # nothing settled
