"""Routing fallback at order creation: a channel that refuses, times out or breaks at create hands the order to
the next enabled channel of its routing rule, every attempt in the order's history; a channel switched off is
never tried; an order the failed channel may still hold is not moved."""

from __future__ import annotations

import pytest

from core.errors import StateError
from core.payments import routing, services
from core.payments.channels import ChannelConfig, Channels
from core.payments.channels.base import (
    CLOSED,
    FAILED,
    NOT_FOUND,
    PAYING,
    UNKNOWN,
    Channel,
    ChannelOrder,
    ChannelResult,
    RefundResult,
)


class FakeChannel(Channel):
    """An in-process stand-in for a remote channel: answers create with `create_status` (or raises), close
    with `close_status`, and remembers every call."""

    synchronous = False

    def __init__(
        self, code: str, create_status: str = PAYING, close_status: str = CLOSED, boom: bool = False
    ):
        self.code = code
        self.create_status = create_status
        self.close_status = close_status
        self.boom = boom
        self.created: list[str] = []
        self.closed: list[str] = []

    def create(self, order: ChannelOrder) -> ChannelResult:
        self.created.append(order.order_no)
        if self.boom:
            raise RuntimeError("adapter exploded")
        req = {"out_trade_no": order.order_no, "amount_fen": order.amount_fen}
        if self.create_status == PAYING:
            info = {"code_url": f"https://qr.example/{self.code}/{order.order_no}"}
            return ChannelResult(
                PAYING, f"{self.code}-{order.order_no}", info, request=req, response={"ok": 1}
            )
        message = "timeout" if self.create_status == UNKNOWN else "HTTP 400"
        return ChannelResult(self.create_status, request=req, response={"err": self.code}, message=message)

    def close(self, order_no: str) -> ChannelResult:
        self.closed.append(order_no)
        return ChannelResult(self.close_status, response={"closed": self.close_status})

    def refund(self, order_no: str, refund_no: str, amount_fen: int, total_fen: int) -> RefundResult:
        raise AssertionError("not used")


def _channels(**fakes: FakeChannel) -> Channels:
    chans = Channels(ChannelConfig(sim_url="http://127.0.0.1:9"))  # nothing listens: no fake may leak out
    for code, fake in fakes.items():
        chans.use(code, fake)
    return chans


def _qr(pay_ctx, out_no: str, chans: Channels, amount: int = 10000):
    return services.create_order(pay_ctx, "property", out_no, amount, "物业费", method="qr", channels=chans)


def _history(pay_ctx, order_no: str) -> list[tuple[str | None, str, str]]:
    return [(e.from_status, e.to_status, e.reason) for e in services.order_history(pay_ctx, order_no)]


def test_refused_channel_falls_back_to_next_in_rule_order(pay_ctx):
    wechat, alipay = FakeChannel("wechat", FAILED), FakeChannel("alipay")
    routing.set_channel(pay_ctx, "alipay", fee_rate="0.0055")
    view, created = _qr(pay_ctx, "FB1", _channels(wechat=wechat, alipay=alipay))
    assert created and view.status == "PAYING" and view.channel == "alipay"
    assert view.fee_rate == "0.0055" and view.pay_info["code_url"].startswith("https://qr.example/alipay/")
    assert wechat.created == [view.order_no] and alipay.created == [view.order_no]
    assert wechat.closed == []  # a refusal leaves nothing open at the channel
    history = _history(pay_ctx, view.order_no)
    assert [(f, t) for f, t, _ in history] == [
        (None, "CREATED"),
        ("CREATED", "CREATED"),
        ("CREATED", "PAYING"),
    ]
    assert history[1][2] == "channel wechat failed at create (HTTP 400); trying alipay"
    raw = services.order_history(pay_ctx, view.order_no)[1]
    assert raw.channel_request["out_trade_no"] == view.order_no and raw.channel_response == {"err": "wechat"}
    # the same request again is the same order, on the channel it ended on; nothing is asked again
    again, created = _qr(pay_ctx, "FB1", _channels(wechat=wechat, alipay=alipay))
    assert not created and again.order_no == view.order_no and again.channel == "alipay"
    assert len(wechat.created) == 1 and len(alipay.created) == 1


def test_timeout_closes_at_failed_channel_then_falls_back(pay_ctx):
    wechat, alipay = FakeChannel("wechat", UNKNOWN, close_status=NOT_FOUND), FakeChannel("alipay")
    view, _ = _qr(pay_ctx, "FB2", _channels(wechat=wechat, alipay=alipay))
    assert view.channel == "alipay" and view.status == "PAYING"
    assert wechat.closed == [view.order_no]
    raw = services.order_history(pay_ctx, view.order_no)[1]
    assert raw.reason.startswith("channel wechat failed at create (timeout)")
    assert raw.channel_response == {"create": {"err": "wechat"}, "close": {"closed": NOT_FOUND}}


def test_adapter_error_counts_as_failure_and_every_channel_is_tried(pay_ctx):
    wechat = FakeChannel("wechat", boom=True)
    alipay = FakeChannel("alipay", FAILED)
    unionpay = FakeChannel("unionpay")
    view, _ = _qr(pay_ctx, "FB3", _channels(wechat=wechat, alipay=alipay, unionpay=unionpay))
    assert view.channel == "unionpay" and view.status == "PAYING"
    reasons = [r for _, _, r in _history(pay_ctx, view.order_no)]
    assert reasons[1] == "channel wechat failed at create (adapter error); trying alipay"
    assert reasons[2] == "channel alipay failed at create (HTTP 400); trying unionpay"


def test_all_channels_refusing_fails_the_order_once(pay_ctx):
    fakes = {c: FakeChannel(c, FAILED) for c in ("wechat", "alipay", "unionpay")}
    view, _ = _qr(pay_ctx, "FB4", _channels(**fakes))
    assert view.status == "FAILED" and view.channel == "unionpay"
    assert [len(f.created) for f in fakes.values()] == [1, 1, 1]
    assert [t for _, t, _ in _history(pay_ctx, view.order_no)] == [
        "CREATED", "CREATED", "CREATED", "FAILED",
    ]  # fmt: skip


def test_disabled_channel_is_never_tried(pay_ctx):
    wechat, alipay, unionpay = FakeChannel("wechat", FAILED), FakeChannel("alipay"), FakeChannel("unionpay")
    routing.set_channel(pay_ctx, "alipay", enabled=False)
    view, _ = _qr(pay_ctx, "FB5", _channels(wechat=wechat, alipay=alipay, unionpay=unionpay))
    assert view.channel == "unionpay" and alipay.created == []
    # switched off while the first channel was being asked: skipped at fallback time too
    chans = _channels(wechat=wechat, alipay=alipay, unionpay=unionpay)
    routing.set_channel(pay_ctx, "alipay", enabled=True)

    class SwitchOffDuringCreate(FakeChannel):
        def create(self, order: ChannelOrder) -> ChannelResult:
            routing.set_channel(pay_ctx, "alipay", enabled=False)
            return super().create(order)

    chans.use("wechat", SwitchOffDuringCreate("wechat", FAILED))
    view, _ = _qr(pay_ctx, "FB6", chans)
    assert view.channel == "unionpay" and alipay.created == []


def test_channel_that_may_hold_the_order_keeps_it(pay_ctx):
    wechat, alipay = FakeChannel("wechat", UNKNOWN, close_status=UNKNOWN), FakeChannel("alipay")
    view, _ = _qr(pay_ctx, "FB7", _channels(wechat=wechat, alipay=alipay))
    assert view.status == "UNKNOWN" and view.channel == "wechat" and alipay.created == []
    assert [(f, t) for f, t, _ in _history(pay_ctx, view.order_no)] == [
        (None, "CREATED"),
        ("CREATED", "UNKNOWN"),
    ]


def test_named_channel_never_falls_back(pay_ctx):
    wechat, alipay = FakeChannel("wechat", FAILED), FakeChannel("alipay")
    view, _ = services.create_order(
        pay_ctx,
        "property",
        "FB8",
        100,
        "s",
        channel="wechat",
        channels=_channels(wechat=wechat, alipay=alipay),
    )
    assert view.status == "FAILED" and view.channel == "wechat" and alipay.created == []
    routing.set_channel(pay_ctx, "wechat", enabled=False)
    with pytest.raises(StateError):
        services.create_order(pay_ctx, "property", "FB9", 100, "s", channel="wechat", channels=_channels())
    with pytest.raises(services.NotFound):
        services.get_order(pay_ctx, app_id="property", out_trade_no="FB9")


def test_route_channels_rule():
    from core.payments import rules

    routes = [rules.RouteRule(("wechat", "alipay", "unionpay"), method="qr")]
    assert rules.route_channels(routes, "a", "qr", 1, ["unionpay", "wechat"]) == ("wechat", "unionpay")
    assert rules.route_channels(routes, "a", "qr", 1, []) == ()
    assert rules.route_channels(routes, "a", "card", 1, ["wechat"]) == ()


class _CloseBreaks(FakeChannel):
    """A channel that times out at create and whose close cannot be reached either (raises)."""

    def close(self, order_no: str) -> ChannelResult:
        self.closed.append(order_no)
        raise ConnectionError("channel unreachable")


def test_close_that_raises_keeps_order_unknown_on_failed_channel(pay_ctx):
    # The failed channel may still hold the order: it must stay there, UNKNOWN for the query job, and the
    # caller must get the order back, not an exception that leaves it CREATED and never asked about.
    wechat, alipay = _CloseBreaks("wechat", UNKNOWN), FakeChannel("alipay")
    view, created = _qr(pay_ctx, "FB9", _channels(wechat=wechat, alipay=alipay))
    assert created and view.channel == "wechat" and view.status == "UNKNOWN"
    assert wechat.closed == [view.order_no] and alipay.created == []
    assert [(f, t) for f, t, _ in _history(pay_ctx, view.order_no)] == [
        (None, "CREATED"),
        ("CREATED", "UNKNOWN"),
    ]
