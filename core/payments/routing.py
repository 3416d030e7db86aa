"""Channels and routing rules: per-channel switch and fee rate, and rules (app, method, amount range →
channels in fallback order) that choose the channel of an order whose app did not name one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, select, update

from core.context import Context
from core.errors import NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.payments import rules
from core.payments.models import CHANNELS, PayChannel, PayRoute
from core.sync.reference import refuse_if_hub_owned
from core.uow import UnitOfWork

# Default fee rates (a site changes them with `set_channel`); counter channels cost nothing per payment.
DEFAULT_CHANNELS: dict[str, tuple[str, str]] = {
    "cash": ("现金", "0"),
    "pos": ("POS 刷卡", "0.0038"),
    "wechat": ("微信支付", "0.006"),
    "alipay": ("支付宝", "0.006"),
    "unionpay": ("银联", "0.0025"),
    "bank_transfer": ("银行转账", "0"),
    "bank_debit": ("银行代扣", "0.001"),
    "housing_fund": ("公积金账户扣款", "0"),
}
# (method, channels): "qr" is a QR code the payer scans; an order with no method takes the last rule ("" is
# "no method", whereas None in a rule means "any method" — a debit order must never fall back to a QR code).
DEFAULT_ROUTES: tuple[tuple[str | None, tuple[str, ...], int], ...] = (
    ("qr", ("wechat", "alipay", "unionpay"), 100),
    ("wechat", ("wechat",), 100),
    ("alipay", ("alipay",), 100),
    ("unionpay", ("unionpay",), 100),
    ("debit", ("bank_debit",), 100),
    ("", ("wechat", "alipay", "unionpay"), 1000),
)
ROUTES_MAX = 500
# Reference kinds the central hub publishes (core/payments/reference.py): a site does not edit those items.
KIND_CHANNEL = "payments.channel"
KIND_ROUTE = "payments.route"


@dataclass(frozen=True)
class ChannelView:
    code: str
    name: str
    enabled: bool
    fee_rate: str


@dataclass(frozen=True)
class RouteView:
    id: uuid.UUID
    app_id: str | None
    method: str | None
    min_amount_fen: int
    max_amount_fen: int | None
    channels: tuple[str, ...]
    priority: int
    enabled: bool


def ensure_defaults_in(uow: UnitOfWork) -> None:
    s = uow.session
    have = set(s.execute(select(PayChannel.code)).scalars())
    for code, (name, rate) in DEFAULT_CHANNELS.items():
        if code not in have:
            s.add(PayChannel(code=code, name=name, enabled=True, fee_rate=rate, updated_at=uow.now))
    if s.execute(select(PayRoute.id).limit(1)).first() is None:
        for method, chans, priority in DEFAULT_ROUTES:
            s.add(
                PayRoute(
                    id=new_id(),
                    app_id=None,
                    method=method,
                    min_amount_fen=0,
                    max_amount_fen=None,
                    channels=list(chans),
                    priority=priority,
                    enabled=True,
                    created_at=uow.now,
                )
            )
    s.flush()


_CHANNELS_T = PayChannel.__table__
_ROUTES_T = PayRoute.__table__
# Prebuilt over the Core tables (every order asks): building ORM selects per call costs more than running them.
_CHANNEL_ROW = select(_CHANNELS_T.c.enabled, _CHANNELS_T.c.fee_rate).where(
    _CHANNELS_T.c.code == bindparam("code")
)
_ALL_CHANNELS = select(_CHANNELS_T.c.code, _CHANNELS_T.c.enabled, _CHANNELS_T.c.fee_rate)
_ENABLED_ROUTES = select(
    _ROUTES_T.c.channels,
    _ROUTES_T.c.app_id,
    _ROUTES_T.c.method,
    _ROUTES_T.c.min_amount_fen,
    _ROUTES_T.c.max_amount_fen,
    _ROUTES_T.c.priority,
).where(_ROUTES_T.c.enabled.is_(True))


def enabled_rate_in(uow: UnitOfWork, code: str) -> Decimal | None:
    """The fee rate of channel `code` if it is switched on now, else None."""
    row = uow.session.execute(_CHANNEL_ROW, {"code": code}).first()
    if row is None or not row.enabled:
        return None
    return rules.parse_rate(row.fee_rate)


def candidates_in(
    uow: UnitOfWork,
    app_id: str,
    method: str,
    amount_fen: int,
    channel: str | None,
    *,
    exclude: tuple[str, ...] = (),
) -> list[tuple[str, Decimal]]:
    """The channels to try for an order, in order, each with its fee rate (to snapshot on the order).

    A named channel is the only candidate and must be enabled. Otherwise the routing rules choose: the
    enabled channels of the first matching rule that has any, in the rule's fallback order."""
    s = uow.session
    if channel is not None:
        rate = None if channel in exclude else enabled_rate_in(uow, channel)
        if rate is None:
            raise StateError(
                N_("Channel {channel} is not available."), code="channel_disabled", channel=channel
            )
        return [(channel, rate)]
    rates = {code: rate for code, on, rate in s.execute(_ALL_CHANNELS) if on and code not in exclude}
    routes = [
        rules.RouteRule(tuple(r.channels), r.app_id, r.method, r.min_amount_fen, r.max_amount_fen, r.priority)
        for r in s.execute(_ENABLED_ROUTES)
    ]
    chosen = rules.route_channels(routes, app_id, method, amount_fen, rates)
    if not chosen:
        raise StateError(
            N_("No channel is available for this payment (method {method}, {amount} fen)."),
            code="no_channel",
            method=method or "-",
            amount=amount_fen,
        )
    return [(code, rules.parse_rate(rates[code])) for code in chosen]


def pick_in(
    uow: UnitOfWork,
    app_id: str,
    method: str,
    amount_fen: int,
    channel: str | None,
    *,
    exclude: tuple[str, ...] = (),
) -> tuple[str, Decimal]:
    """The channel for an order and its fee rate: the first of `candidates_in`."""
    return candidates_in(uow, app_id, method, amount_fen, channel, exclude=exclude)[0]


def list_channels(ctx: Context) -> list[ChannelView]:
    with ctx.read("payments.view") as s:
        return [
            ChannelView(c.code, c.name, c.enabled, c.fee_rate)
            for c in s.execute(select(PayChannel).order_by(PayChannel.code)).scalars()
        ]


def set_channel(
    ctx: Context, code: str, *, enabled: bool | None = None, fee_rate: str | None = None
) -> ChannelView:
    """Switch a channel on or off, or change its fee rate (orders keep the rate they were created with)."""
    if code not in CHANNELS:
        raise ValidationError(N_("There is no channel {channel}."), field="channel", channel=str(code))
    if fee_rate is not None:
        try:
            fee_rate = str(rules.parse_rate(fee_rate))
        except ValueError:
            raise ValidationError(
                N_("A fee rate is a decimal between 0 and 0.1, e.g. 0.006."), field="fee_rate"
            ) from None
    with ctx.uow("payments.manage") as uow:
        refuse_if_hub_owned(uow.session, KIND_CHANNEL, code)  # the central hub's setting wins at a site
        row = uow.session.get(PayChannel, code)
        if row is None:
            raise NotFound(N_("There is no channel {channel}."), channel=code)
        before = {"enabled": row.enabled, "fee_rate": row.fee_rate}
        values = {"updated_at": uow.now}
        if enabled is not None:
            values["enabled"] = bool(enabled)
        if fee_rate is not None:
            values["fee_rate"] = fee_rate
        uow.session.execute(update(PayChannel).where(PayChannel.code == code).values(**values))
        uow.session.refresh(row)
        after = {"enabled": row.enabled, "fee_rate": row.fee_rate}
        uow.audit("payments.channel_set", "pay_channel", code, before=before, after=after)
        uow.emit("payments.channel_changed", {"code": code, **after})
        return ChannelView(row.code, row.name, row.enabled, row.fee_rate)


def add_route(
    ctx: Context,
    channels: list[str],
    *,
    app_id: str | None = None,
    method: str | None = None,
    min_amount_fen: int = 0,
    max_amount_fen: int | None = None,
    priority: int = 100,
) -> RouteView:
    if not channels or len(channels) > len(CHANNELS) or any(c not in CHANNELS for c in channels):
        raise ValidationError(N_("A route lists one or more known channels."), field="channels")
    if len(set(channels)) != len(channels):
        raise ValidationError(N_("A route lists each channel once."), field="channels")
    for value in (min_amount_fen, priority):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationError(
                N_("Amounts and priority must be whole numbers, not negative."), field="route"
            )
    if max_amount_fen is not None and (
        not isinstance(max_amount_fen, int) or max_amount_fen < min_amount_fen
    ):
        raise ValidationError(N_("The maximum amount must not be below the minimum."), field="max_amount_fen")
    with ctx.uow("payments.manage") as uow:
        count = len(list(uow.session.execute(select(PayRoute.id)).scalars()))
        if count >= ROUTES_MAX:
            raise ValidationError(
                N_("There are too many routing rules (at most {max})."), field="route", max=ROUTES_MAX
            )
        route = PayRoute(
            id=new_id(),
            app_id=app_id or None,
            method=method or None,
            min_amount_fen=min_amount_fen,
            max_amount_fen=max_amount_fen,
            channels=list(channels),
            priority=priority,
            enabled=True,
            created_at=uow.now,
        )
        uow.session.add(route)
        view = _route_view(route)
        after = {**view.__dict__, "id": str(view.id), "channels": list(view.channels)}
        uow.audit("payments.route_add", "pay_route", route.id, after=after)
        uow.emit("payments.route_added", after)
        return view


def _route_view(r: PayRoute) -> RouteView:
    return RouteView(
        r.id, r.app_id, r.method, r.min_amount_fen, r.max_amount_fen, tuple(r.channels), r.priority, r.enabled
    )


def list_routes(ctx: Context) -> list[RouteView]:
    with ctx.read("payments.view") as s:
        rows = s.execute(select(PayRoute).order_by(PayRoute.priority, PayRoute.created_at)).scalars()
        return [_route_view(r) for r in rows]


def set_route_enabled(ctx: Context, route_id: uuid.UUID, enabled: bool) -> None:
    with ctx.uow("payments.manage") as uow:
        refuse_if_hub_owned(uow.session, KIND_ROUTE, str(route_id))
        res = uow.session.execute(
            update(PayRoute).where(PayRoute.id == route_id).values(enabled=bool(enabled))
        )
        if res.rowcount != 1:
            raise NotFound(N_("There is no routing rule {route}."), route=str(route_id))
        uow.audit("payments.route_set", "pay_route", route_id, after={"enabled": bool(enabled)})
        uow.emit("payments.route_changed", {"id": str(route_id), "enabled": bool(enabled)})
