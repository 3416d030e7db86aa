"""Payment hub use cases: apps, payment orders (idempotent create, counter payments, close), the order state
machine as compare-and-set transitions with their history, refunds that can never exceed what was paid,
inbound channel callbacks, and the PAYHUB ledger entries for every payment, refund and fee.

Calls to a remote channel are made outside any transaction: the order is written first (CREATED), the
channel is asked, and its answer is applied in a second transaction by compare-and-set, so a crash in
between leaves an order the query job resolves, never a payment the hub does not know about.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.clock import business_date
from core.context import Context
from core.db import sequences
from core.db.groupcommit import GroupCommit
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.jsonutil import canonical_json
from core.ledger.services import EntrySpec, ensure_account_in, ensure_book_in, post_in
from core.payments import notify, rules
from core.payments.channels import COUNTER_CHANNELS, REMOTE_CHANNELS, Channels, default_channels
from core.payments.channels.base import (
    CLOSED,
    FAILED,
    NOT_FOUND,
    PAYING,
    REFUND_PROCESSING,
    SUCCESS,
    UNKNOWN,
    ChannelOrder,
    ChannelResult,
    ForgedCallback,
    RefundResult,
)
from core.payments.models import (
    CHANNELS,
    PayApp,
    PayCallback,
    PayNonce,
    PayOrder,
    PayOrderEvent,
    PayRefund,
)
from core.uow import UnitOfWork

PERM_VIEW = "payments.view"
PERM_MANAGE = "payments.manage"
PERM_PAY = "payments.pay"
PERM_COUNTER = "payments.counter.take"
PERM_REFUND = "payments.refund"

BOOK = "PAYHUB"
ACCOUNT_BANK = "1002"
ACCOUNT_FEE = "6602.fee"
ACCOUNT_CASH_OVER_SHORT = "6603.cash_over_short"

AMOUNT_FEN_MAX = 10**12  # 100 亿 yuan: far above any one payment
EXPIRE_MINUTES_DEFAULT = 30
EXPIRE_MINUTES_MAX = 7 * 24 * 60
SUBJECT_MAX = 200
PAYER_MAX = 100
METADATA_JSON_MAX = 4000
LIST_MAX = 1000
OUT_NO_RE = re.compile(r"^[A-Za-z0-9_\-|*.:]{1,64}$")
APP_ID_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
METHOD_RE = re.compile(r"^[a-z_]{0,20}$")
URL_RE = re.compile(r"^https?://[^\s]{1,490}$")


# ------------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class AppView:
    app_id: str
    name: str
    notify_url: str | None
    status: str
    created_at: datetime


@dataclass(frozen=True)
class OrderView:
    order_no: str
    app_id: str
    out_trade_no: str
    status: str
    amount_fen: int
    subject: str
    payer: str
    method: str
    channel: str
    channel_trade_no: str | None
    pay_info: dict[str, Any]
    fee_rate: str
    fee_fen: int
    refunded_fen: int
    paid_at: datetime | None
    business_date: date | None
    expire_at: datetime
    created_at: datetime
    metadata: dict[str, Any]
    shift_id: uuid.UUID | None
    tendered_fen: int | None
    change_fen: int | None

    def api_dict(self) -> dict[str, Any]:
        """The order as the HTTP API shows it."""
        return {
            "order_no": self.order_no,
            "out_trade_no": self.out_trade_no,
            "status": self.status,
            "amount_fen": self.amount_fen,
            "subject": self.subject,
            "channel": self.channel,
            "channel_trade_no": self.channel_trade_no,
            "pay_info": self.pay_info,
            "refunded_fen": self.refunded_fen,
            "paid_at": self.paid_at.isoformat() if self.paid_at else None,
            "expire_at": self.expire_at.isoformat(),
            "metadata": self.metadata,
        }


@dataclass(frozen=True)
class RefundView:
    refund_no: str
    app_id: str
    out_refund_no: str
    order_no: str
    out_trade_no: str
    status: str
    amount_fen: int
    fee_refund_fen: int
    reason: str
    channel: str
    channel_refund_no: str | None
    refunded_at: datetime | None
    created_at: datetime

    def api_dict(self) -> dict[str, Any]:
        return {
            "refund_no": self.refund_no,
            "out_refund_no": self.out_refund_no,
            "out_trade_no": self.out_trade_no,
            "order_no": self.order_no,
            "status": self.status,
            "amount_fen": self.amount_fen,
            "reason": self.reason,
            "refunded_at": self.refunded_at.isoformat() if self.refunded_at else None,
        }


@dataclass(frozen=True)
class OrderEventView:
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    reason: str
    refund_id: uuid.UUID | None
    channel_request: Any
    channel_response: Any


def _order_view(o: PayOrder) -> OrderView:
    return OrderView(
        o.order_no,
        o.app_id,
        o.out_trade_no,
        o.status,
        o.amount_fen,
        o.subject,
        o.payer,
        o.method,
        o.channel,
        o.channel_trade_no,
        dict(o.pay_info or {}),
        o.fee_rate,
        o.fee_fen,
        o.refunded_fen,
        o.paid_at,
        o.business_date,
        o.expire_at,
        o.created_at,
        dict(o.metadata_ or {}),
        o.shift_id,
        o.tendered_fen,
        o.change_fen,
    )


def _refund_view(r: PayRefund, out_trade_no: str) -> RefundView:
    return RefundView(
        r.refund_no,
        r.app_id,
        r.out_refund_no,
        r.order_no,
        out_trade_no,
        r.status,
        r.amount_fen,
        r.fee_refund_fen,
        r.reason,
        r.channel,
        r.channel_refund_no,
        r.refunded_at,
        r.created_at,
    )


# ------------------------------------------------------------------------------------------------- validation


def _text(value: object, field: str, max_len: int, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError(N_("{field} must be text."), field=field)
    value = value.strip()
    if required and not value:
        raise ValidationError(N_("{field} is required."), field=field)
    if len(value) > max_len or any(ord(c) < 32 for c in value):
        raise ValidationError(
            N_("{field} must be at most {max} characters, without control characters."),
            field=field,
            max=max_len,
        )
    return value


def _amount(value: object, field: str = "amount_fen") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= AMOUNT_FEN_MAX:
        raise ValidationError(N_("{field} must be a whole number of fen above zero."), field=field)
    return value


def _out_no(value: object, field: str) -> str:
    if not isinstance(value, str) or not OUT_NO_RE.match(value):
        raise ValidationError(
            N_("{field} must be 1 to 64 letters, digits or _-|*.: characters."), field=field
        )
    return value


def _url(value: object, field: str = "notify_url") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not URL_RE.match(value):
        raise ValidationError(N_("{field} must be an http(s) URL."), field=field)
    return value


def _metadata(value: object) -> dict[str, Any]:
    from core.jsonutil import canonical_json

    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError(N_("metadata must be a JSON object."), field="metadata")
    try:
        size = len(canonical_json(value))
    except (TypeError, ValueError):
        raise ValidationError(N_("metadata must be a JSON object."), field="metadata") from None
    if size > METADATA_JSON_MAX:
        raise ValidationError(
            N_("metadata is too large (at most {max} characters)."), field="metadata", max=METADATA_JSON_MAX
        )
    return value


# ------------------------------------------------------------------------------------------------- ledger set-up


def ensure_payhub_in(uow: UnitOfWork) -> None:
    """The PAYHUB book with its bank, clearing (per channel), fee and cash-difference accounts; channel rows."""
    from core.payments import routing

    ensure_book_in(uow, BOOK, "支付中台", "payhub")
    ensure_account_in(uow, BOOK, ACCOUNT_BANK, "银行存款", "asset")
    for ch in CHANNELS:
        ensure_account_in(uow, BOOK, f"1012.{ch}", f"渠道待清算 {ch}", "asset")
    ensure_account_in(uow, BOOK, ACCOUNT_FEE, "渠道手续费", "expense")
    ensure_account_in(uow, BOOK, ACCOUNT_CASH_OVER_SHORT, "现金长短款", "expense")
    routing.ensure_defaults_in(uow)


def ensure_payhub_books(ctx: Context) -> None:
    """Set up the PAYHUB book and the default channels and routes (idempotent)."""
    with ctx.uow(PERM_MANAGE) as uow:
        ensure_payhub_in(uow)


def _ensure_app_account_in(uow: UnitOfWork, app_id: str) -> None:
    ensure_account_in(uow, BOOK, f"2202.{app_id}", f"应付应用款 {app_id}", "liability")


# ------------------------------------------------------------------------------------------------- apps


def add_app(
    ctx: Context, name: str, notify_url: str | None = None, *, app_id: str | None = None
) -> tuple[str, str]:
    """Register an app (a business line or an external system): returns (app_id, secret). The secret is
    shown this once and kept encrypted."""
    name = _text(name, "name", 100)
    notify_url = _url(notify_url)
    if app_id is None:
        app_id = "app_" + secrets.token_hex(8)
    elif not isinstance(app_id, str) or not APP_ID_RE.match(app_id):
        raise ValidationError(
            N_("An app id is 2 to 40 lower-case letters, digits or _, starting with a letter."),
            field="app_id",
        )
    secret = secrets.token_urlsafe(32)
    blob = ctx.pii.encrypt(secret)
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        if s.execute(select(PayApp.id).where(PayApp.app_id == app_id)).first() is not None:
            raise Conflict(N_("An app {app} already exists."), app=app_id)
        ensure_payhub_in(uow)
        _ensure_app_account_in(uow, app_id)
        s.add(
            PayApp(
                id=new_id(),
                app_id=app_id,
                name=name,
                secret=blob,
                notify_url=notify_url,
                status="ACTIVE",
                created_at=uow.now,
            )
        )
        after = {"app_id": app_id, "name": name, "notify_url": notify_url}
        uow.audit("payments.app_add", "pay_app", app_id, after=after)
        uow.emit("payments.app_added", after)
    notify.forget_secret(app_id)
    return app_id, secret


def list_apps(ctx: Context) -> list[AppView]:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(select(PayApp).order_by(PayApp.app_id).limit(LIST_MAX)).scalars()
        return [AppView(a.app_id, a.name, a.notify_url, a.status, a.created_at) for a in rows]


def app_secret(ctx: Context, app_id: str) -> str | None:
    """The raw secret of an active app (for signature checks), or None. Internal: callers authenticate."""
    with ctx.read() as s:
        row = s.execute(
            select(PayApp.secret).where(PayApp.app_id == app_id, PayApp.status == "ACTIVE")
        ).scalar_one_or_none()
    return None if row is None else ctx.pii.decrypt(row)


def _check_app(s: Session, app_id: object) -> None:
    """The app must exist and be active (one prebuilt lookup of its status)."""
    if not isinstance(app_id, str):
        raise NotFound(N_("There is no app {app}."), app=str(app_id))
    _check_app_status(app_id, s.execute(_APP_STATUS, {"app_id": app_id}).scalar_one_or_none())


def _check_app_status(app_id: str, status: str | None) -> None:
    if status is None:
        raise NotFound(N_("There is no app {app}."), app=app_id)
    if status != "ACTIVE":
        raise StateError(N_("App {app} is disabled."), app=app_id)


# Statements on the hot paths (a counter payment, an API order) are built once, over the Core tables: building an
# ORM statement per call costs several times what SQLite spends executing it.
_APPS = PayApp.__table__
_ORDERS = PayOrder.__table__
_APP_STATUS = select(_APPS.c.status).where(_APPS.c.app_id == bindparam("app_id"))
_ORDER_KEY = select(_ORDERS.c.id, _ORDERS.c.request_hash).where(
    _ORDERS.c.app_id == bindparam("app_id"), _ORDERS.c.out_trade_no == bindparam("out_trade_no")
)
_ORDER_INSERT = insert(_ORDERS)
_ORDER_CAS: dict[tuple[str, ...], Any] = {}


def _order_cas(keys: tuple[str, ...]) -> Any:
    """UPDATE pay_orders SET <keys> WHERE id, status and version are as loaded: one statement per key set."""
    stmt = _ORDER_CAS.get(keys)
    if stmt is None:
        stmt = (
            update(_ORDERS)
            .where(
                _ORDERS.c.id == bindparam("w_id"),
                _ORDERS.c.status == bindparam("w_status"),
                _ORDERS.c.version == bindparam("w_version"),
            )
            .values({k: bindparam(f"v_{k}", type_=_ORDERS.c[k].type) for k in keys})
        )
        _ORDER_CAS[keys] = stmt
    return stmt


# ------------------------------------------------------------------------------------------------- transitions


def _record(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    from_status: str | None,
    to_status: str,
    reason: str,
    request: Any = None,
    response: Any = None,
    refund_id: uuid.UUID | None = None,
) -> None:
    # A plain executemany-style insert: one cached statement, not one compiled per set of values. In a group
    # commit the writer applies the batch's history rows together, in one executemany after the bodies.
    row = _event_row(uow, order_id, from_status, to_status, reason, request, response, refund_id)
    defer = getattr(uow, "defer_insert", None)
    if defer is not None:
        defer(_EVENT_INSERT, row)
    else:
        uow.session.execute(_EVENT_INSERT, row)


def _event_row(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    from_status: str | None,
    to_status: str,
    reason: str,
    request: Any = None,
    response: Any = None,
    refund_id: uuid.UUID | None = None,
    *,
    actor: str | None = None,
) -> dict[str, Any]:
    return {
        "id": new_id(),
        "order_id": order_id,
        "refund_id": refund_id,
        "from_status": from_status,
        "to_status": to_status,
        "actor": actor if actor is not None else uow.ctx.actor.username[:64],
        "at": uow.now,
        "reason": reason[:200],
        "channel_request": request,
        "channel_response": response,
    }


_EVENT_INSERT = insert(PayOrderEvent.__table__)


def _move(
    uow: UnitOfWork,
    order: PayOrder,
    to: str,
    reason: str,
    *,
    request: Any = None,
    response: Any = None,
    refund_id: uuid.UUID | None = None,
    **values: Any,
) -> None:
    """Compare-and-set the order from its loaded state and version to `to`, and record the transition."""
    current = order.status
    if not rules.can_move(rules.ORDER_TRANSITIONS, current, to):
        raise StateError(
            N_("Order {order} cannot go from {current} to {new}."),
            order=order.order_no,
            current=current,
            new=to,
        )
    values = {"status": to, "updated_at": uow.now, "version": order.version + 1, **values}
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(w_id=order.id, w_status=current, w_version=order.version)
    result = uow.session.execute(_order_cas(tuple(values)), params)
    if result.rowcount != 1:
        raise Conflict(N_("Order {order} was changed at the same time; try again."), order=order.order_no)
    for key, value in values.items():
        _set_loaded(order, key, value)
    _record(uow, order.id, current, to, reason, request, response, refund_id)


def _load_order_for_update(s: Session, **where: Any) -> PayOrder | None:
    keys = tuple(sorted(where))
    stmt = _FOR_UPDATE.get(keys)
    if stmt is None:
        stmt = (
            select(PayOrder)
            .filter_by(**{k: bindparam(f"k_{k}") for k in keys})
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        _FOR_UPDATE[keys] = stmt
    return s.execute(stmt, {f"k_{k}": v for k, v in where.items()}).scalar_one_or_none()


_FOR_UPDATE: dict[tuple[str, ...], Any] = {}  # one prebuilt locking select per key set (order_no, id, ...)


def _post(
    uow: UnitOfWork, when: date, description: str, postings: list[tuple[str, int]], doc_type: str, doc_id: str
):
    return post_in(uow, EntrySpec(BOOK, when, description, postings, doc_type, doc_id))


def _mark_paid_in(uow: UnitOfWork, order: PayOrder, result: ChannelResult, reason: str) -> None:
    """SUCCESS: the fee from the rate snapshotted on the order, the ledger entries, audit, event, notice."""
    paid_at = result.paid_at or uow.now
    day = business_date(paid_at)
    fee = rules.fee_fen(order.amount_fen, Decimal(order.fee_rate))
    _move(
        uow,
        order,
        rules.SUCCESS,
        reason,
        request=result.request,
        response=result.response,
        paid_at=paid_at,
        business_date=day,
        fee_fen=fee,
        channel_trade_no=result.channel_trade_no or order.channel_trade_no,
    )
    _paid_effects_in(uow, order, paid_at, day, fee)


def _paid_effects_in(
    uow: UnitOfWork,
    order: PayOrder,
    paid_at: datetime,
    day: date,
    fee: int,
    *,
    handled_by_caller: bool = False,
) -> None:
    """What follows an order's move to SUCCESS: its ledger entries, audit record, outbox event and notice
    (`handled_by_caller`: see notify.enqueue_in)."""
    clearing = f"1012.{order.channel}"
    _post(
        uow,
        day,
        f"收款 {order.order_no}",
        [(clearing, order.amount_fen), (f"2202.{order.app_id}", -order.amount_fen)],
        "pay_order",
        order.order_no,
    )
    if fee:
        _post(
            uow,
            day,
            f"手续费 {order.order_no}",
            [(ACCOUNT_FEE, fee), (clearing, -fee)],
            "pay_fee",
            order.order_no,
        )
    payload = {
        "order_no": order.order_no,
        "app_id": order.app_id,
        "out_trade_no": order.out_trade_no,
        "amount_fen": order.amount_fen,
        "fee_fen": fee,
        "channel": order.channel,
        "channel_trade_no": order.channel_trade_no,
        "paid_at": paid_at.isoformat(),
        "business_date": day.isoformat(),
    }
    payload_json = canonical_json(payload)  # one encoding for the audit record and the outbox event
    uow.audit_encoded("payments.order_paid", "pay_order", order.order_no, payload_json)
    uow.emit_encoded("payments.order_paid", [payload_json])
    notify.enqueue_in(
        uow,
        order.app_id,
        "pay",
        order.order_no,
        rules.SUCCESS,
        {
            **payload,
            "status": rules.SUCCESS,
            "subject": order.subject,
            "metadata": dict(order.metadata_ or {}),
        },
        order.notify_url,
        fresh=True,  # the compare-and-set into this state happened once, just now
        handled_by_caller=handled_by_caller,
    )


def _end_unpaid_in(
    uow: UnitOfWork, order: PayOrder, to: str, result: ChannelResult | None, reason: str
) -> None:
    """FAILED or CLOSED: no money moved; the app is told."""
    _move(
        uow,
        order,
        to,
        reason,
        request=result.request if result else None,
        response=result.response if result else None,
    )
    payload = {
        "order_no": order.order_no,
        "app_id": order.app_id,
        "out_trade_no": order.out_trade_no,
        "status": to,
    }
    uow.audit(f"payments.order_{to.lower()}", "pay_order", order.order_no, after=payload)
    uow.emit("payments.order_ended", payload)
    notify.enqueue_in(
        uow,
        order.app_id,
        "pay",
        order.order_no,
        to,
        {**payload, "amount_fen": order.amount_fen},
        order.notify_url,
        fresh=True,  # the compare-and-set into this state happened once, just now
    )


def apply_channel_result_in(uow: UnitOfWork, order: PayOrder, result: ChannelResult, reason: str) -> bool:
    """Move an open order by what the channel said; True if it changed. Answers that say nothing new
    (still paying, unknown, not found) leave it as it is, except that a channel that knows the order
    turns UNKNOWN into PAYING."""
    if order.status not in rules.ORDER_OPEN:
        return False
    if result.status == SUCCESS:
        if result.channel_trade_no:
            _set_loaded(order, "channel_trade_no", order.channel_trade_no or result.channel_trade_no)
        _mark_paid_in(uow, order, result, reason)
        return True
    if result.status in (FAILED, CLOSED):
        _end_unpaid_in(uow, order, result.status, result, reason)
        return True
    if result.status == PAYING and order.status != rules.PAYING:
        extra: dict[str, Any] = {}
        if result.channel_trade_no:
            extra["channel_trade_no"] = result.channel_trade_no
        if result.pay_info:
            extra["pay_info"] = result.pay_info
        _move(uow, order, rules.PAYING, reason, request=result.request, response=result.response, **extra)
        return True
    if result.status == UNKNOWN and order.status == rules.CREATED:
        _move(uow, order, rules.UNKNOWN, reason, request=result.request, response=result.response)
        return True
    return False


# ------------------------------------------------------------------------------------------------- orders


def _order_hash(**fields: Any) -> str:
    return rules.request_hash(fields)


def _existing_order(s: Session, app_id: str, out_trade_no: str, request_hash: str) -> PayOrder | None:
    key = s.execute(_ORDER_KEY, {"app_id": app_id, "out_trade_no": out_trade_no}).first()
    if key is None:
        return None
    if key.request_hash != request_hash:
        raise Conflict(
            N_("Order {out_trade_no} already exists with different content."),
            code="order_conflict",
            out_trade_no=out_trade_no,
        )
    return s.execute(select(PayOrder).where(PayOrder.id == key.id)).scalar_one()


def _next_no(uow: UnitOfWork, kind: str) -> str:
    day = business_date(uow.now).strftime("%Y%m%d")
    n = sequences.take(uow.session, f"pay:{kind}:{day}")
    return f"{uow.ctx.site.code}{kind}{day}{n:06d}"


def _new_order(
    uow: UnitOfWork,
    *,
    app_id: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    payer: str,
    method: str,
    channel: str,
    fee_rate: str,
    expire_at: datetime,
    metadata: dict,
    notify_url: str | None,
    request_hash: str,
    status: str = rules.CREATED,
    **extra: Any,
) -> PayOrder:
    """Insert a CREATED order and its first history row. The order is written by one prebuilt Core insert
    (no ORM flush); the returned object is a transient copy of what was written, never re-read."""
    values = _order_row(
        uow,
        order_no=_next_no(uow, "P"),
        app_id=app_id,
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        subject=subject,
        payer=payer,
        method=method,
        channel=channel,
        fee_rate=fee_rate,
        expire_at=expire_at,
        metadata=metadata,
        notify_url=notify_url,
        request_hash=request_hash,
        status=status,
        **extra,
    )
    uow.session.execute(_ORDER_INSERT, values)
    _record(uow, values["id"], None, status, "created")
    return _as_order(values)


def _order_row(uow: UnitOfWork, **fields: Any) -> dict[str, Any]:
    """Every column of a new order (by column name), defaults filled in."""
    row: dict[str, Any] = {
        "id": new_id(),
        "channel_trade_no": None,
        "fee_fen": 0,
        "paid_at": None,
        "business_date": None,
        "refunded_fen": 0,
        "pay_info": {},
        "shift_id": None,
        "cashier": None,
        "tendered_fen": None,
        "change_fen": None,
        "batch_no": None,
        "created_at": uow.now,
        "updated_at": uow.now,
        "version": 1,
    }
    row.update(fields)
    return row


def _set_loaded(order: PayOrder, key: str, value: Any) -> None:
    """Bring the in-memory order up to date with what was just written (no ORM change to flush)."""
    if isinstance(order, _NewOrder):
        setattr(order, key, value)
    else:
        set_committed_value(order, key, value)


class _NewOrder(SimpleNamespace):
    """The row just inserted, read by attribute like a PayOrder (column `metadata` is `metadata_`) without the
    cost of an instrumented ORM object; never attached to the session."""


def _as_order(values: dict[str, Any]) -> PayOrder:
    attrs = dict(values)
    attrs["metadata_"] = attrs.pop("metadata")
    return _NewOrder(**attrs)  # type: ignore[return-value]


def create_order(
    ctx: Context,
    app_id: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    *,
    channel: str | None = None,
    method: str | None = None,
    payer: str | None = None,
    expire_minutes: int | None = None,
    notify_url: str | None = None,
    metadata: dict | None = None,
    channels: Channels | None = None,
    permission: str = PERM_PAY,
    request_nonce: tuple[str, datetime] | None = None,
    writer: GroupCommit | None = None,
) -> tuple[OrderView, bool]:
    """Create a payment order for a remote or batch channel and hand it to the channel.

    Returns (order, created). The same app + out_trade_no with the same content returns the original order
    (created=False); with different content it is a Conflict. Counter channels go through `counter_pay`.
    `permission`: what the caller must hold (a counter's QR payment checks the counter's own permission).
    `request_nonce`: (nonce, seen at) of the signed API request, recorded against replay in the order's own
    transaction (pay_nonces), so no separate write is needed for it.
    `writer`: a group-commit writer (the hub API's) that applies the order's two transactions together with
    other requests' in one durable commit each; without it each runs in its own `ctx.uow`.
    """
    out_trade_no = _out_no(out_trade_no, "out_trade_no")
    amount_fen = _amount(amount_fen)
    subject = _text(subject, "subject", SUBJECT_MAX)
    payer = _text(payer, "payer", PAYER_MAX, required=False)
    if method is not None and (not isinstance(method, str) or not METHOD_RE.match(method)):
        raise ValidationError(N_("method must be a few lower-case letters."), field="method")
    method = method or ""
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(N_("There is no channel {channel}."), field="channel", channel=str(channel))
    if channel in COUNTER_CHANNELS:
        raise ValidationError(
            N_("Channel {channel} is taken at the counter, within a cashier's shift."),
            field="channel",
            channel=channel,
        )
    if expire_minutes is None:
        expire_minutes = EXPIRE_MINUTES_DEFAULT
    if (
        isinstance(expire_minutes, bool)
        or not isinstance(expire_minutes, int)
        or not 1 <= expire_minutes <= EXPIRE_MINUTES_MAX
    ):
        raise ValidationError(
            N_("expire_minutes must be between 1 and {max}."), field="expire_minutes", max=EXPIRE_MINUTES_MAX
        )
    notify_url = _url(notify_url)
    metadata = _metadata(metadata)
    digest = _order_hash(
        amount_fen=amount_fen,
        subject=subject,
        payer=payer,
        method=method,
        channel=channel,
        expire_minutes=expire_minutes,
        notify_url=notify_url,
        metadata=metadata,
    )
    channels = channels or default_channels()

    def open_order(uow: UnitOfWork) -> OrderView | _Opened:
        return _open_order_in(
            uow,
            app_id,
            out_trade_no,
            amount_fen,
            subject,
            payer=payer,
            method=method,
            channel=channel,
            expire_minutes=expire_minutes,
            notify_url=notify_url,
            metadata=metadata,
            digest=digest,
            request_nonce=request_nonce,
        )

    try:
        opened = _write(ctx, permission, writer, open_order)
    except IntegrityError:
        # A concurrent request with the same out_trade_no won the unique constraint: answer as a repeat.
        with ctx.read(permission) as s:
            existing = _existing_order(s, app_id, out_trade_no, digest)
            if existing is None:
                raise
            view = _order_view(existing)
        if request_nonce is not None:  # it rolled back with the losing insert: record it on its own
            _write(ctx, permission, writer, lambda uow: _record_nonce_in(uow, app_id, *request_nonce))
        return view, False
    if not isinstance(opened, _Opened):
        return opened, False  # the same order again
    order_no, request, chosen, fallbacks, written = opened

    result = _create_at(channels.get(chosen), request)
    while fallbacks and result.status in (FAILED, UNKNOWN):
        # The channel refused or failed to answer: move the order to the rule's next channel, if it is
        # certain the failed one holds no live order (refused, or closed there), and ask that one.
        closed = None
        if result.status == UNKNOWN:
            try:
                closed = channels.get(chosen).close(order_no)
            except Exception:  # unreachable: the order may exist there, so it stays (UNKNOWN, applied below)
                break
            if closed.status not in (CLOSED, NOT_FOUND):
                break  # it may exist there: the order stays on it, UNKNOWN, for the query job
        with ctx.uow(permission) as uow:
            order = _load_order_for_update(uow.session, order_no=order_no)
            assert order is not None
            nxt = _reroute_in(uow, order, result, closed, fallbacks)
        written = None  # moved since it was written: read it again below
        if nxt is None:
            break
        chosen = nxt
        result = _create_at(channels.get(chosen), request)

    def record_answer(uow: UnitOfWork) -> OrderView:
        if written is not None:
            # The order as the first transaction wrote it, not read again: the compare-and-set of its first
            # move checks that it is still so. If something moved it meanwhile (a callback, a close), that
            # move wrote nothing, and the order is read and the answer applied to what it is now.
            order = _NewOrder(**vars(written))  # a fresh copy for each attempt of the writer
            try:
                apply_channel_result_in(uow, order, result, "channel create")
                return _order_view(order)
            except Conflict:
                if order.version != written.version:
                    raise  # the first move was written: this conflict is something else's
        order = _order_row_for_update(uow.session, order_no)
        assert order is not None
        apply_channel_result_in(uow, order, result, "channel create")
        return _order_view(order)

    return _write(ctx, permission, writer, record_answer), True


class _Opened(tuple):
    """A new order's (order_no, what the channel is told, chosen channel, fallback channels, the order as
    written)."""

    __slots__ = ()


_ORDER_BY_NO_FOR_UPDATE = select(_ORDERS).where(_ORDERS.c.order_no == bindparam("order_no")).with_for_update()


def _order_row_for_update(s: Session, order_no: str) -> PayOrder | None:
    """The order, locked, read by one Core select into a plain object like a just-inserted one (no ORM
    instance to build; `_move` and `_set_loaded` keep it up to date)."""
    row = s.connection().execute(_ORDER_BY_NO_FOR_UPDATE, {"order_no": order_no}).mappings().first()
    return None if row is None else _as_order(dict(row))


def _write(
    ctx: Context, permission: str, writer: GroupCommit | None, body: Callable[[UnitOfWork], Any]
) -> Any:
    """Run `body` in one write transaction: the context's own, or a member of the writer's group commit."""
    if writer is None:
        with ctx.uow(permission) as uow:
            return body(uow)
    return writer.run(ctx, permission, body)


def _open_order_in(
    uow: UnitOfWork,
    app_id: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    *,
    payer: str,
    method: str,
    channel: str | None,
    expire_minutes: int,
    notify_url: str | None,
    metadata: dict,
    digest: str,
    request_nonce: tuple[str, datetime] | None,
) -> OrderView | _Opened:
    """create_order's first transaction: the existing order of the same content (its view), or a new CREATED
    order routed to its channel (an _Opened)."""
    from core.payments import routing

    s = uow.session
    _check_app(s, app_id)
    if request_nonce is not None:
        _record_nonce_in(uow, app_id, *request_nonce)
    existing = _existing_order(s, app_id, out_trade_no, digest)
    if existing is not None:
        return _order_view(existing)
    candidates = routing.candidates_in(uow, app_id, method, amount_fen, channel, exclude=COUNTER_CHANNELS)
    chosen, rate = candidates[0]
    fallbacks = [code for code, _ in candidates[1:]]  # a routed order's next channels, in order
    order = _new_order(
        uow,
        app_id=app_id,
        out_trade_no=out_trade_no,
        amount_fen=amount_fen,
        subject=subject,
        payer=payer,
        method=method,
        channel=chosen,
        fee_rate=str(rate),
        expire_at=uow.now + timedelta(minutes=expire_minutes),
        metadata=metadata,
        notify_url=notify_url,
        request_hash=digest,
    )
    after = {
        "order_no": order.order_no,
        "app_id": app_id,
        "out_trade_no": out_trade_no,
        "amount_fen": amount_fen,
        "channel": chosen,
    }
    uow.audit("payments.order_create", "pay_order", order.order_no, after=after)
    uow.emit("payments.order_created", after)
    request = ChannelOrder(order.order_no, amount_fen, subject, order.expire_at, payer)
    return _Opened((order.order_no, request, chosen, fallbacks, order))


_NONCE_INSERT: dict[str, Any] = {}


def _record_nonce_in(uow: UnitOfWork, app_id: str, nonce: str, seen_at: datetime) -> None:
    """Record a signed request's nonce (the hub's replay guard); already recorded is fine."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect = uow.session.get_bind().dialect.name
    stmt = _NONCE_INSERT.get(dialect)
    if stmt is None:
        ins = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _NONCE_INSERT[dialect] = ins(PayNonce.__table__).on_conflict_do_nothing()
    row = {"app_id": app_id, "nonce": nonce[:64], "seen_at": seen_at}
    defer = getattr(uow, "defer_insert", None)
    if defer is not None:  # a group commit: with the batch's other nonces, in one executemany
        defer(stmt, row)
    else:
        uow.session.execute(stmt, row)


def _create_at(adapter: Any, request: ChannelOrder) -> ChannelResult:
    """Hand the order to a channel. An adapter that raises has told us nothing: UNKNOWN, like a timeout."""
    try:
        return adapter.create(request)
    except Exception as exc:  # a real adapter's bug or transport error must not leave the order untold
        return ChannelResult(
            UNKNOWN, response={"error": f"{type(exc).__name__}: {exc}"[:200]}, message="adapter error"
        )


def _reroute_in(
    uow: UnitOfWork,
    order: PayOrder,
    failed: ChannelResult,
    closed: ChannelResult | None,
    fallbacks: list[str],
) -> str | None:
    """Move a CREATED order from the channel that failed at create to the next enabled one of `fallbacks`
    (consumed as tried), snapshotting that channel's fee rate; the failed attempt goes to the history with
    the channel's raw request and response. None if the order moved on meanwhile or no fallback is left."""
    from core.payments import routing

    if order.status != rules.CREATED:
        return None
    while fallbacks:
        code = fallbacks.pop(0)
        rate = routing.enabled_rate_in(uow, code)  # switched off since the order was routed: skip it
        if rate is None:
            continue
        previous = order.channel
        values = {"channel": code, "fee_rate": str(rate), "updated_at": uow.now, "version": order.version + 1}
        params = {f"v_{k}": v for k, v in values.items()}
        params.update(w_id=order.id, w_status=order.status, w_version=order.version)
        if uow.session.execute(_order_cas(tuple(values)), params).rowcount != 1:
            raise Conflict(N_("Order {order} was changed at the same time; try again."), order=order.order_no)
        for key, value in values.items():
            _set_loaded(order, key, value)
        why = failed.message or failed.status
        response = (
            failed.response if closed is None else {"create": failed.response, "close": closed.response}
        )
        _record(
            uow,
            order.id,
            rules.CREATED,
            rules.CREATED,
            f"channel {previous} failed at create ({why}); trying {code}",
            failed.request,
            response,
        )
        after = {"order_no": order.order_no, "from_channel": previous, "channel": code, "reason": why}
        uow.audit("payments.order_rerouted", "pay_order", order.order_no, after=after)
        uow.emit("payments.order_rerouted", after)
        return code
    return None


def counter_pay(
    ctx: Context,
    app_id: str,
    out_trade_no: str,
    amount_fen: int,
    subject: str,
    *,
    channel: str = "cash",
    tendered_fen: int | None = None,
    reference: str | None = None,
    payer: str | None = None,
    metadata: dict | None = None,
    channels: Channels | None = None,
    handled_by_caller: bool = False,
) -> OrderView:
    """A payment taken at the counter (cash with change, POS card, bank transfer, provident fund), paid at
    once, within the open shift of the acting cashier. Idempotent like `create_order`.

    `handled_by_caller`: the calling business line acts on the payment itself in the same transaction (the
    property counter settles the bills), so the app's in-process notice handler is not run for it."""
    out_trade_no = _out_no(out_trade_no, "out_trade_no")
    amount_fen = _amount(amount_fen)
    subject = _text(subject, "subject", SUBJECT_MAX)
    payer = _text(payer, "payer", PAYER_MAX, required=False)
    if channel not in COUNTER_CHANNELS:
        raise ValidationError(
            N_("Channel {channel} is not a counter channel."), field="channel", channel=str(channel)
        )
    if channel == "cash":
        if tendered_fen is None:
            tendered_fen = amount_fen
        tendered_fen = _amount(tendered_fen, "tendered_fen")
        if tendered_fen < amount_fen:
            raise ValidationError(N_("The cash tendered is less than the amount due."), field="tendered_fen")
        reference = None
    else:
        tendered_fen = None
        reference = _text(reference, "reference", 64)
    metadata = _metadata(metadata)
    digest = _order_hash(
        amount_fen=amount_fen,
        subject=subject,
        payer=payer,
        channel=channel,
        reference=reference,
        metadata=metadata,
    )
    channels = channels or default_channels()
    adapter = channels.get(channel)
    if not isinstance(app_id, str):
        raise NotFound(N_("There is no app {app}."), app=str(app_id))
    with ctx.uow(PERM_COUNTER) as uow:
        s = uow.session
        # What the payment reads before it writes, in one statement: the app, an order already under this
        # out_trade_no, the cashier's open shift, the channel's switch and fee rate. Checked in that order.
        found = s.execute(
            _counter_lookup(),
            {
                "app_id": app_id,
                "out_trade_no": out_trade_no,
                "cashier": ctx.actor.username,
                "channel": channel,
            },
        ).one()
        _check_app_status(app_id, found.app_status)
        if found.order_hash is not None:  # a repeat: the same content returns the order, else a Conflict
            existing = _existing_order(s, app_id, out_trade_no, digest)
            assert existing is not None, "the order was read in this transaction"
            return _order_view(existing)
        shift_id = found.shift_id
        if shift_id is None:
            raise StateError(N_("Open a shift before taking payments at the counter."), code="no_open_shift")
        if not found.channel_enabled:
            raise StateError(
                N_("Channel {channel} is not available."), code="channel_disabled", channel=channel
            )
        chosen, rate = channel, rules.parse_rate(found.fee_rate)
        expire_at = uow.now + timedelta(minutes=EXPIRE_MINUTES_DEFAULT)
        change = rules.change_fen(amount_fen, tendered_fen) if tendered_fen is not None else None
        order_no = _next_no(uow, "P")
        result = adapter.create(
            ChannelOrder(order_no, amount_fen, subject, expire_at, payer, tendered_fen, reference)
        )
        if result.status != SUCCESS:
            raise StateError(N_("The channel {channel} refused the payment."), channel=channel)
        # Created and paid within this one transaction, which nobody else sees before it commits: the row is
        # written once, already SUCCESS, and both transitions (None → CREATED, CREATED → SUCCESS with the
        # channel's raw request and response) go to the history in one statement. No compare-and-set can
        # have a competitor for a row that is not yet visible, so none is issued.
        paid_at = result.paid_at or uow.now
        day = business_date(paid_at)
        fee = rules.fee_fen(amount_fen, rate)
        values = _order_row(
            uow,
            order_no=order_no,
            app_id=app_id,
            out_trade_no=out_trade_no,
            amount_fen=amount_fen,
            subject=subject,
            payer=payer,
            method="counter",
            channel=chosen,
            fee_rate=str(rate),
            expire_at=expire_at,
            metadata=metadata,
            notify_url=None,
            request_hash=digest,
            status=rules.SUCCESS,
            shift_id=shift_id,
            cashier=ctx.actor.username[:64],
            tendered_fen=tendered_fen,
            change_fen=change,
            channel_trade_no=result.channel_trade_no,
            pay_info=dict(result.pay_info or {}),
            fee_fen=fee,
            paid_at=paid_at,
            business_date=day,
        )
        s.execute(_ORDER_INSERT, values)
        actor = ctx.actor.username[:64]
        s.execute(
            _EVENT_INSERT,
            [
                _event_row(uow, values["id"], None, rules.CREATED, "created", actor=actor),
                _event_row(
                    uow,
                    values["id"],
                    rules.CREATED,
                    rules.SUCCESS,
                    "paid at the counter",
                    result.request,
                    result.response,
                    actor=actor,
                ),
            ],
        )
        order = _as_order(values)
        _paid_effects_in(uow, order, paid_at, day, fee, handled_by_caller=handled_by_caller)
        return _order_view(order)


_COUNTER_LOOKUP: list[Any] = []


def _counter_lookup() -> Any:
    """The one statement a counter payment reads with: each value is the same indexed lookup it would be on
    its own (a scalar subquery), so the statement costs one round trip instead of four. Built on first use."""
    if not _COUNTER_LOOKUP:
        from core.payments.models import PayChannel, PayShift
        from core.payments.shifts import OPEN

        channels_t, shifts_t = PayChannel.__table__, PayShift.__table__
        by_code = channels_t.c.code == bindparam("channel")
        _COUNTER_LOOKUP.append(
            select(
                select(_APPS.c.status)
                .where(_APPS.c.app_id == bindparam("app_id"))
                .scalar_subquery()
                .label("app_status"),
                select(_ORDERS.c.request_hash)
                .where(
                    _ORDERS.c.app_id == bindparam("app_id"),
                    _ORDERS.c.out_trade_no == bindparam("out_trade_no"),
                )
                .scalar_subquery()
                .label("order_hash"),
                select(shifts_t.c.id)
                .where(shifts_t.c.cashier == bindparam("cashier"), shifts_t.c.status == OPEN)
                .scalar_subquery()
                .label("shift_id"),
                select(channels_t.c.enabled).where(by_code).scalar_subquery().label("channel_enabled"),
                select(channels_t.c.fee_rate).where(by_code).scalar_subquery().label("fee_rate"),
            )
        )
    return _COUNTER_LOOKUP[0]


def _find_order(s: Session, app_id: str | None, out_trade_no: str | None, order_no: str | None) -> PayOrder:
    if order_no is not None:
        row = s.execute(select(PayOrder).where(PayOrder.order_no == order_no)).scalar_one_or_none()
    else:
        row = s.execute(
            select(PayOrder).where(PayOrder.app_id == app_id, PayOrder.out_trade_no == out_trade_no)
        ).scalar_one_or_none()
    if row is None:
        raise NotFound(
            N_("There is no payment order {order}."),
            code="order_not_found",
            order=order_no or out_trade_no or "",
        )
    return row


def get_order(
    ctx: Context, *, app_id: str | None = None, out_trade_no: str | None = None, order_no: str | None = None
) -> OrderView:
    with ctx.read(PERM_VIEW) as s:
        return _order_view(_find_order(s, app_id, out_trade_no, order_no))


def list_orders(
    ctx: Context, *, app_id: str | None = None, status: str | None = None, limit: int = 100
) -> list[OrderView]:
    limit = max(1, min(int(limit), LIST_MAX))
    with ctx.read(PERM_VIEW) as s:
        stmt = select(PayOrder).order_by(PayOrder.created_at.desc(), PayOrder.order_no.desc()).limit(limit)
        if app_id:
            stmt = stmt.where(PayOrder.app_id == app_id)
        if status:
            stmt = stmt.where(PayOrder.status == status)
        return [_order_view(o) for o in s.execute(stmt).scalars()]


def order_history(ctx: Context, order_no: str) -> list[OrderEventView]:
    with ctx.read(PERM_VIEW) as s:
        order = _find_order(s, None, None, order_no)
        rows = s.execute(
            select(PayOrderEvent)
            .where(PayOrderEvent.order_id == order.id)
            .order_by(PayOrderEvent.at, PayOrderEvent.id)
        ).scalars()
        return [
            OrderEventView(
                e.at,
                e.from_status,
                e.to_status,
                e.actor,
                e.reason,
                e.refund_id,
                e.channel_request,
                e.channel_response,
            )
            for e in rows
        ]


def refresh_order(ctx: Context, order_no: str, *, channels: Channels | None = None) -> OrderView:
    """Ask the channel about an open order and apply the answer (what the query job does for each)."""
    channels = channels or default_channels()
    with ctx.read() as s:
        order = _find_order(s, None, None, order_no)
        status, channel = order.status, order.channel
    if status not in rules.ORDER_OPEN or channel in COUNTER_CHANNELS:
        return get_order(ctx, order_no=order_no)
    result = channels.get(channel).query(order_no)
    with ctx.uow() as uow:
        order = _load_order_for_update(uow.session, order_no=order_no)
        assert order is not None
        if (
            result.status == NOT_FOUND
            and order.status == rules.UNKNOWN
            and uow.now - order.created_at > UNKNOWN_GRACE
        ):
            # The channel never received it, and enough time passed for any in-flight request to land.
            _end_unpaid_in(uow, order, rules.FAILED, result, "not known to the channel")
        else:
            apply_channel_result_in(uow, order, result, "channel query")
        view = _order_view(order)
    return view


UNKNOWN_GRACE = timedelta(minutes=5)


def close_order(
    ctx: Context,
    app_id: str,
    out_trade_no: str,
    *,
    reason: str = "closed by the app",
    channels: Channels | None = None,
    permission: str = PERM_PAY,
) -> OrderView:
    """Close an unpaid order (at the channel first, so the payer can no longer pay it). If the channel says
    it was paid meanwhile, the order becomes SUCCESS instead, and that is what is returned."""
    channels = channels or default_channels()
    with ctx.read(permission) as s:
        order = _find_order(s, app_id, out_trade_no, None)
        if order.status not in rules.ORDER_OPEN:
            raise StateError(
                N_("Order {order} is {status} and cannot be closed."),
                code="order_not_closable",
                order=order.order_no,
                status=order.status,
            )
        if order.batch_no:
            raise StateError(
                N_("Order {order} was sent to the bank in debit batch {batch}; wait for the result file."),
                order=order.order_no,
                batch=order.batch_no,
            )
        order_no, channel = order.order_no, order.channel
    adapter = channels.get(channel)
    result = adapter.close(order_no)
    if result.status == SUCCESS or result.status == UNKNOWN:
        # Paid meanwhile, or the channel could not say: ask before deciding anything.
        probe = adapter.query(order_no)
        if probe.status == SUCCESS or result.status == UNKNOWN:
            result = probe
    with ctx.uow(permission) as uow:
        order = _load_order_for_update(uow.session, order_no=order_no)
        assert order is not None
        if order.status in rules.ORDER_OPEN:
            if result.status == SUCCESS:
                _mark_paid_in(uow, order, result, "paid before it could be closed")
            elif result.status in (CLOSED, NOT_FOUND):
                _end_unpaid_in(uow, order, rules.CLOSED, result, reason)
            else:
                raise StateError(
                    N_("The channel could not confirm the close of {order}; try again later."), order=order_no
                )
        view = _order_view(order)
    return view


# ------------------------------------------------------------------------------------------------- refunds


def _refund_hash(out_trade_no: str, amount_fen: int, reason: str) -> str:
    return rules.request_hash({"out_trade_no": out_trade_no, "amount_fen": amount_fen, "reason": reason})


def _existing_refund(s: Session, app_id: str, out_refund_no: str, digest: str) -> PayRefund | None:
    row = s.execute(
        select(PayRefund).where(PayRefund.app_id == app_id, PayRefund.out_refund_no == out_refund_no)
    ).scalar_one_or_none()
    if row is not None and row.request_hash != digest:
        raise Conflict(
            N_("Refund {out_refund_no} already exists with different content."),
            code="refund_conflict",
            out_refund_no=out_refund_no,
        )
    return row


def _out_trade_no_of(s: Session, order_id: uuid.UUID) -> str:
    return s.execute(select(PayOrder.out_trade_no).where(PayOrder.id == order_id)).scalar_one()


def refund(
    ctx: Context,
    app_id: str,
    out_trade_no: str,
    out_refund_no: str,
    amount_fen: int,
    reason: str,
    *,
    channels: Channels | None = None,
    permission: str = PERM_REFUND,
) -> tuple[RefundView, bool]:
    """Refund (part of) a paid order. Returns (refund, created); a same-content repeat returns the original.

    The amount is reserved on the order by one compare-and-set (refunded_fen + amount <= amount_fen), so
    refunds racing each other can never together exceed what was paid; a refund the channel refuses gives
    its reservation back.
    """
    from core.payments import shifts

    out_trade_no = _out_no(out_trade_no, "out_trade_no")
    out_refund_no = _out_no(out_refund_no, "out_refund_no")
    amount_fen = _amount(amount_fen)
    reason = _text(reason, "reason", 200)
    digest = _refund_hash(out_trade_no, amount_fen, reason)
    channels = channels or default_channels()
    try:
        with ctx.uow(permission) as uow:
            s = uow.session
            _check_app(s, app_id)
            existing = _existing_refund(s, app_id, out_refund_no, digest)
            if existing is not None:
                return _refund_view(existing, _out_trade_no_of(s, existing.order_id)), False
            order = _load_order_for_update(s, app_id=app_id, out_trade_no=out_trade_no)
            if order is None:
                raise NotFound(
                    N_("There is no payment order {order}."), code="order_not_found", order=out_trade_no
                )
            if order.status not in rules.ORDER_PAID:
                raise StateError(
                    N_("Order {order} is {status}; only a paid order can be refunded."),
                    code="order_not_refundable",
                    order=order.order_no,
                    status=order.status,
                )
            shift_id = shifts.open_shift_id_in(uow, ctx.actor.username) if order.channel == "cash" else None
            reserved = s.execute(
                update(PayOrder)
                .where(
                    PayOrder.id == order.id,
                    PayOrder.status.in_(rules.ORDER_PAID),
                    PayOrder.refunded_fen + amount_fen <= PayOrder.amount_fen,
                )
                .values(
                    refunded_fen=PayOrder.refunded_fen + amount_fen,
                    version=PayOrder.version + 1,
                    updated_at=uow.now,
                )
            )
            if reserved.rowcount != 1:
                raise ValidationError(
                    N_("The refund exceeds what is left to refund on order {order} ({left} fen)."),
                    code="refund_exceeds",
                    field="amount_fen",
                    order=order.order_no,
                    left=order.amount_fen - order.refunded_fen,
                )
            rf = PayRefund(
                id=new_id(),
                refund_no=_next_no(uow, "R"),
                order_id=order.id,
                order_no=order.order_no,
                app_id=app_id,
                out_refund_no=out_refund_no,
                channel=order.channel,
                amount_fen=amount_fen,
                fee_refund_fen=0,
                reason=reason,
                status=REFUND_PROCESSING,
                request_hash=digest,
                shift_id=shift_id,
                created_at=uow.now,
                version=1,
            )
            s.add(rf)
            s.flush()
            _record(
                uow, order.id, order.status, order.status, f"refund {rf.refund_no} requested", refund_id=rf.id
            )
            after = {
                "refund_no": rf.refund_no,
                "order_no": order.order_no,
                "out_refund_no": out_refund_no,
                "amount_fen": amount_fen,
            }
            uow.audit("payments.refund_request", "pay_refund", rf.refund_no, after=after)
            uow.emit("payments.refund_requested", after)
            refund_no, order_no, total, channel = (
                rf.refund_no,
                order.order_no,
                order.amount_fen,
                order.channel,
            )
            adapter = channels.get(channel)
            if adapter.synchronous:
                result = adapter.refund(order_no, refund_no, amount_fen, total)
                _apply_refund_result_in(uow, rf, result)
                return _refund_view(rf, out_trade_no), True
    except IntegrityError:
        with ctx.read(permission) as s:
            existing = _existing_refund(s, app_id, out_refund_no, digest)
            if existing is None:
                raise
            return _refund_view(existing, out_trade_no), False

    result = adapter.refund(order_no, refund_no, amount_fen, total)
    with ctx.uow(permission) as uow:
        rf = uow.session.execute(
            select(PayRefund)
            .where(PayRefund.refund_no == refund_no)
            .execution_options(populate_existing=True)
        ).scalar_one()
        _apply_refund_result_in(uow, rf, result)
        view = _refund_view(rf, out_trade_no)
    return view, True


def _move_refund(uow: UnitOfWork, rf: PayRefund, to: str, **values: Any) -> None:
    current = rf.status
    if not rules.can_move(rules.REFUND_TRANSITIONS, current, to):
        raise StateError(
            N_("Refund {refund} cannot go from {current} to {new}."),
            refund=rf.refund_no,
            current=current,
            new=to,
        )
    values = {"status": to, "version": rf.version + 1, **values}
    res = uow.session.execute(
        update(PayRefund)
        .where(PayRefund.id == rf.id, PayRefund.status == current, PayRefund.version == rf.version)
        .values(**values)
    )
    if res.rowcount != 1:
        raise Conflict(N_("Refund {refund} was changed at the same time; try again."), refund=rf.refund_no)
    for key, value in values.items():
        set_committed_value(rf, key, value)


def _apply_refund_result_in(uow: UnitOfWork, rf: PayRefund, result: RefundResult) -> bool:
    """Apply the channel's answer to a PROCESSING/UNKNOWN refund; True if it changed."""
    s = uow.session
    if rf.status not in (REFUND_PROCESSING, rules.UNKNOWN):
        return False
    order = _load_order_for_update(s, id=rf.order_id)
    assert order is not None
    if result.status == SUCCESS:
        done = s.execute(
            select(
                func.coalesce(func.sum(PayRefund.amount_fen), 0),
                func.coalesce(func.sum(PayRefund.fee_refund_fen), 0),
            ).where(PayRefund.order_id == order.id, PayRefund.status == SUCCESS)
        ).one()
        before_fen, fee_before_fen = int(done[0]), int(done[1])
        fee_back = rules.refund_fee_fen(
            order.amount_fen, order.fee_fen, rf.amount_fen, before_fen, fee_before_fen
        )
        day = business_date(uow.now)
        _move_refund(
            uow,
            rf,
            SUCCESS,
            fee_refund_fen=fee_back,
            refunded_at=uow.now,
            business_date=day,
            channel_refund_no=result.channel_refund_no,
        )
        new_status = rules.status_after_refund(order.amount_fen, before_fen + rf.amount_fen)
        _move(
            uow,
            order,
            new_status,
            f"refund {rf.refund_no} succeeded",
            request=result.request,
            response=result.response,
            refund_id=rf.id,
        )
        clearing = f"1012.{order.channel}"
        _post(
            uow,
            day,
            f"退款 {rf.refund_no}",
            [(f"2202.{order.app_id}", rf.amount_fen), (clearing, -rf.amount_fen)],
            "pay_refund",
            rf.refund_no,
        )
        if fee_back:
            _post(
                uow,
                day,
                f"退手续费 {rf.refund_no}",
                [(clearing, fee_back), (ACCOUNT_FEE, -fee_back)],
                "pay_fee_refund",
                rf.refund_no,
            )
        payload = {
            "refund_no": rf.refund_no,
            "out_refund_no": rf.out_refund_no,
            "order_no": order.order_no,
            "out_trade_no": order.out_trade_no,
            "app_id": order.app_id,
            "amount_fen": rf.amount_fen,
            "fee_refund_fen": fee_back,
            "status": SUCCESS,
            "refunded_at": uow.now.isoformat(),
        }
        uow.audit("payments.refund_succeeded", "pay_refund", rf.refund_no, after=payload)
        uow.emit("payments.refund_succeeded", payload)
        notify.enqueue_in(
            uow, order.app_id, "refund", rf.refund_no, SUCCESS, payload, order.notify_url, fresh=True
        )
        return True
    if result.status in (FAILED, NOT_FOUND):
        _move_refund(uow, rf, FAILED)
        # Give the reservation back; the CHECK keeps refunded_fen >= 0 whatever happens.
        s.execute(
            update(PayOrder)
            .where(PayOrder.id == order.id)
            .values(
                refunded_fen=PayOrder.refunded_fen - rf.amount_fen,
                version=PayOrder.version + 1,
                updated_at=uow.now,
            )
        )
        _record(
            uow,
            order.id,
            order.status,
            order.status,
            f"refund {rf.refund_no} failed",
            result.request,
            result.response,
            rf.id,
        )
        payload = {
            "refund_no": rf.refund_no,
            "out_refund_no": rf.out_refund_no,
            "order_no": order.order_no,
            "status": FAILED,
        }
        uow.audit("payments.refund_failed", "pay_refund", rf.refund_no, after=payload)
        uow.emit("payments.refund_failed", payload)
        notify.enqueue_in(
            uow, order.app_id, "refund", rf.refund_no, FAILED, payload, order.notify_url, fresh=True
        )
        return True
    if rf.status == REFUND_PROCESSING:
        _move_refund(uow, rf, rules.UNKNOWN)
        _record(
            uow,
            order.id,
            order.status,
            order.status,
            f"refund {rf.refund_no} unknown",
            result.request,
            result.response,
            rf.id,
        )
        return True
    return False


def refresh_refund(ctx: Context, refund_no: str, *, channels: Channels | None = None) -> RefundView:
    """Ask the channel about a refund that is not settled and apply the answer (the query job's step)."""
    channels = channels or default_channels()
    with ctx.read() as s:
        rf = s.execute(select(PayRefund).where(PayRefund.refund_no == refund_no)).scalar_one_or_none()
        if rf is None:
            raise NotFound(N_("There is no refund {refund}."), code="refund_not_found", refund=refund_no)
        status, channel = rf.status, rf.channel
    if status in (REFUND_PROCESSING, rules.UNKNOWN):
        result = channels.get(channel).query_refund(refund_no)
        if result.status not in (UNKNOWN, REFUND_PROCESSING):
            with ctx.uow() as uow:
                rf = uow.session.execute(
                    select(PayRefund)
                    .where(PayRefund.refund_no == refund_no)
                    .execution_options(populate_existing=True)
                ).scalar_one()
                _apply_refund_result_in(uow, rf, result)
            return get_refund(ctx, refund_no=refund_no)


def get_refund(
    ctx: Context, *, app_id: str | None = None, out_refund_no: str | None = None, refund_no: str | None = None
) -> RefundView:
    with ctx.read(PERM_VIEW) as s:
        if refund_no is not None:
            rf = s.execute(select(PayRefund).where(PayRefund.refund_no == refund_no)).scalar_one_or_none()
        else:
            rf = s.execute(
                select(PayRefund).where(PayRefund.app_id == app_id, PayRefund.out_refund_no == out_refund_no)
            ).scalar_one_or_none()
        if rf is None:
            raise NotFound(
                N_("There is no refund {refund}."),
                code="refund_not_found",
                refund=refund_no or out_refund_no or "",
            )
        return _refund_view(rf, _out_trade_no_of(s, rf.order_id))


# ------------------------------------------------------------------------------------------------- callbacks

CALLBACK_ACCEPTED = "ACCEPTED"
CALLBACK_DUPLICATE = "DUPLICATE"
CALLBACK_FORGED = "FORGED"
CALLBACK_MISMATCH = "MISMATCH"
CALLBACK_UNKNOWN_ORDER = "UNKNOWN_ORDER"
CALLBACK_REFUSED = "REFUSED"


def handle_callback(
    ctx: Context, channel: str, headers: Mapping[str, str], body: bytes, *, channels: Channels | None = None
) -> str:
    """Verify and apply a channel's asynchronous notice; returns the outcome, always recorded.

    The signature is checked first, then the merchant, the order no., the channel and the amount: a forged
    or mismatched callback changes nothing. A repeat of a notice already applied is harmless (DUPLICATE).
    No permission is checked: the channel authenticates with its signature, not as a user.
    """
    channels = channels or default_channels()
    text = body.decode("utf-8", errors="replace")[:16_384]

    def record(uow: UnitOfWork, outcome: str, order_no: str | None, detail: str) -> str:
        uow.session.add(
            PayCallback(
                id=new_id(),
                channel=channel[:20],
                received_at=uow.now,
                order_no=order_no,
                outcome=outcome,
                detail=detail[:300],
                body=text,
            )
        )
        if outcome in (CALLBACK_FORGED, CALLBACK_MISMATCH):
            uow.audit(
                "payments.callback_rejected",
                "pay_callback",
                order_no or "-",
                after={"channel": channel, "outcome": outcome, "detail": detail},
            )
        return outcome

    if channel not in REMOTE_CHANNELS:
        with ctx.uow() as uow:
            return record(uow, CALLBACK_FORGED, None, "no such remote channel")
    adapter = channels.get(channel)
    try:
        data = adapter.parse_callback(headers, body)
    except ForgedCallback as exc:
        with ctx.uow() as uow:
            return record(uow, CALLBACK_FORGED, None, str(exc))
    with ctx.uow() as uow:
        if data.mch_id != channels.config.mch_id:
            return record(uow, CALLBACK_MISMATCH, data.out_trade_no, f"merchant {data.mch_id}")
        order = _load_order_for_update(uow.session, order_no=data.out_trade_no)
        if order is None:
            return record(uow, CALLBACK_UNKNOWN_ORDER, data.out_trade_no, "no such order")
        if order.channel != channel:
            return record(uow, CALLBACK_MISMATCH, order.order_no, f"order is on channel {order.channel}")
        if data.amount_fen != order.amount_fen:
            return record(
                uow, CALLBACK_MISMATCH, order.order_no, f"amount {data.amount_fen} != {order.amount_fen}"
            )
        if (
            order.channel_trade_no
            and data.channel_trade_no
            and data.channel_trade_no != order.channel_trade_no
        ):
            return record(uow, CALLBACK_MISMATCH, order.order_no, "channel trade no. differs")
        result = ChannelResult(
            data.status,
            data.channel_trade_no or None,
            paid_at=data.paid_at,
            fee_fen=data.fee_fen,
            request=None,
            response=data.raw,
        )
        if order.status in rules.ORDER_OPEN:
            apply_channel_result_in(uow, order, result, "channel callback")
            outcome = record(uow, CALLBACK_ACCEPTED, order.order_no, data.status)
        elif (
            data.status == SUCCESS
            and order.status in (rules.SUCCESS, rules.PARTIALLY_REFUNDED, rules.REFUNDED)
        ) or data.status == order.status:
            outcome = record(uow, CALLBACK_DUPLICATE, order.order_no, data.status)
        else:
            # E.g. paid after we closed it: kept for reconciliation, the order is not reopened.
            outcome = record(
                uow, CALLBACK_REFUSED, order.order_no, f"{data.status} for a {order.status} order"
            )
    return outcome


def list_callbacks(ctx: Context, *, order_no: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    limit = max(1, min(int(limit), LIST_MAX))
    with ctx.read(PERM_VIEW) as s:
        stmt = select(PayCallback).order_by(PayCallback.received_at, PayCallback.id).limit(limit)
        if order_no:
            stmt = stmt.where(PayCallback.order_no == order_no)
        return [
            {
                "channel": c.channel,
                "received_at": c.received_at,
                "order_no": c.order_no,
                "outcome": c.outcome,
                "detail": c.detail,
            }
            for c in s.execute(stmt).scalars()
        ]


# ------------------------------------------------------------------------------------------------- bank debit

DEBIT_BATCH_MAX = 10_000


def export_debit_batch(ctx: Context) -> tuple[str | None, bytes]:
    """Put every waiting bank-debit order (PAYING, in no batch) into a new batch: (batch no., request file).
    An order in a batch waits for the bank's result file; it is not closed meanwhile."""
    from core.payments.channels.bank_debit import write_request_file

    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        orders = list(
            s.execute(
                select(PayOrder)
                .where(
                    PayOrder.channel == "bank_debit",
                    PayOrder.status == rules.PAYING,
                    PayOrder.batch_no.is_(None),
                )
                .order_by(PayOrder.order_no)
                .limit(DEBIT_BATCH_MAX)
                .with_for_update()
            ).scalars()
        )
        if not orders:
            return None, write_request_file([])
        batch_no = _next_no(uow, "D")
        for o in orders:
            res = s.execute(
                update(PayOrder)
                .where(PayOrder.id == o.id, PayOrder.version == o.version, PayOrder.batch_no.is_(None))
                .values(batch_no=batch_no, version=o.version + 1, updated_at=uow.now)
            )
            if res.rowcount != 1:
                raise Conflict(N_("Order {order} was changed at the same time; try again."), order=o.order_no)
            _record(uow, o.id, o.status, o.status, f"in debit batch {batch_no}")
        rows = [(o.order_no, o.payer, o.amount_fen, o.subject) for o in orders]
        uow.audit("payments.debit_batch_export", "pay_debit_batch", batch_no, after={"orders": len(rows)})
        uow.emit("payments.debit_batch_exported", {"batch_no": batch_no, "orders": [r[0] for r in rows]})
        return batch_no, write_request_file(rows)


def import_debit_results(ctx: Context, data: bytes) -> dict[str, int]:
    """Apply the bank's result file: `S` lines pay their orders, `F` lines fail them. Lines for orders not
    waiting in a batch, or whose amount differs, change nothing and are counted as rejected. Idempotent."""
    from core.payments.channels.bank_debit import parse_result_file

    try:
        lines = parse_result_file(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError(
            N_("The result file cannot be read: {detail}"), field="file", detail=str(exc)[:200]
        ) from None
    counts = {"paid": 0, "failed": 0, "already": 0, "rejected": 0}
    with ctx.uow(PERM_MANAGE) as uow:
        for line in lines:
            order = _load_order_for_update(uow.session, order_no=line.order_no)
            if (
                order is None
                or order.channel != "bank_debit"
                or not order.batch_no
                or order.amount_fen != line.amount_fen
            ):
                counts["rejected"] += 1
                continue
            if order.status not in rules.ORDER_OPEN:
                counts["already"] += 1
                continue
            raw = {"result": "S" if line.ok else "F", "bank_ref": line.bank_ref, "message": line.message}
            if line.ok:
                _mark_paid_in(
                    uow,
                    order,
                    ChannelResult(SUCCESS, line.bank_ref or None, response=raw),
                    "bank debit result",
                )
                counts["paid"] += 1
            else:
                _end_unpaid_in(
                    uow, order, rules.FAILED, ChannelResult(FAILED, response=raw), "bank debit refused"
                )
                counts["failed"] += 1
        uow.audit("payments.debit_results_import", "pay_debit_batch", "-", after=counts)
    return counts
