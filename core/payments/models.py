"""Payment hub tables: apps, channels and routing rules, payment orders with their transition history, refunds,
inbound channel callbacks, notifications to business lines, replay nonces, cashier shifts and daily closes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime

CHANNELS = ("cash", "pos", "wechat", "alipay", "unionpay", "bank_transfer", "bank_debit", "housing_fund")
ORDER_STATUSES = (
    "CREATED",
    "PAYING",
    "UNKNOWN",
    "SUCCESS",
    "FAILED",
    "CLOSED",
    "PARTIALLY_REFUNDED",
    "REFUNDED",
)
REFUND_STATUSES = ("PROCESSING", "SUCCESS", "FAILED", "UNKNOWN")
NOTIFY_STATUSES = ("PENDING", "DELIVERED", "GAVE_UP")
SHIFT_STATUSES = ("OPEN", "PENDING_APPROVAL", "CLOSED")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PayApp(Base):
    """接入应用 — a business line or external system that pays through the hub, with its signing secret."""

    __tablename__ = "pay_apps"
    __table_args__ = (CheckConstraint("status IN ('ACTIVE', 'DISABLED')", name="status"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    app_id: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    # Encrypted with the site's PII key: the hub needs the raw secret to check HMAC signatures.
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    notify_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="ACTIVE")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PayChannel(Base):
    """支付渠道 — one channel's switch and its fee rate (snapshotted on each order)."""

    __tablename__ = "pay_channels"
    __table_args__ = (CheckConstraint(_in("code", CHANNELS), name="code"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    fee_rate: Mapped[str] = mapped_column(String(20))  # a Decimal as text, e.g. "0.006"
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PayRoute(Base):
    """路由规则 — for an app (or any), a method (or any) and an amount range: channels in fallback order."""

    __tablename__ = "pay_routes"
    __table_args__ = (
        CheckConstraint("min_amount_fen >= 0", name="min_amount"),
        CheckConstraint("max_amount_fen IS NULL OR max_amount_fen >= min_amount_fen", name="max_amount"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    app_id: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str | None] = mapped_column(String(20))
    min_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    max_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    channels: Mapped[list[str]] = mapped_column(JSONType)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PayOrder(Base):
    """支付订单 — one payment an app asked for, its channel, fee snapshot and state."""

    __tablename__ = "pay_orders"
    __table_args__ = (
        UniqueConstraint("app_id", "out_trade_no", name="uq_pay_orders_app_out_trade_no"),
        CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("refunded_fen >= 0 AND refunded_fen <= amount_fen", name="refunded_range"),
        CheckConstraint("fee_fen >= 0", name="fee_nonneg"),
        Index("ix_pay_orders_status_expire", "status", "expire_at"),
        Index("ix_pay_orders_business_date", "business_date", "channel"),
        Index("ix_pay_orders_shift", "shift_id"),
        # The order lists open newest first (created_at, then order_no): a million orders page from the index.
        Index("ix_pay_orders_created", "created_at", "order_no"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    app_id: Mapped[str] = mapped_column(String(40))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(200))
    payer: Mapped[str] = mapped_column(String(100), default="")
    method: Mapped[str] = mapped_column(String(20), default="")
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    channel_trade_no: Mapped[str | None] = mapped_column(String(64))
    fee_rate: Mapped[str] = mapped_column(String(20))
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    business_date: Mapped[date | None] = mapped_column(Date)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    expire_at: Mapped[datetime] = mapped_column(UTCDateTime)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    pay_info: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    notify_url: Mapped[str | None] = mapped_column(String(500))
    request_hash: Mapped[str] = mapped_column(String(64))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    cashier: Mapped[str | None] = mapped_column(String(64))
    tendered_fen: Mapped[int | None] = mapped_column(BigInteger)
    change_fen: Mapped[int | None] = mapped_column(BigInteger)
    batch_no: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PayOrderEvent(Base):
    """订单流水 — one state transition of an order or refund: who, when, why, and the channel's raw exchange."""

    __tablename__ = "pay_order_events"
    __table_args__ = (Index("ix_pay_order_events_order", "order_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pay_orders.id"))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(200), default="")
    channel_request: Mapped[Any | None] = mapped_column(JSONType)
    channel_response: Mapped[Any | None] = mapped_column(JSONType)


class PayRefund(Base):
    """退款单 — a refund of (part of) a paid order."""

    __tablename__ = "pay_refunds"
    __table_args__ = (
        UniqueConstraint("app_id", "out_refund_no", name="uq_pay_refunds_app_out_refund_no"),
        CheckConstraint(_in("status", REFUND_STATUSES), name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("fee_refund_fen >= 0", name="fee_nonneg"),
        Index("ix_pay_refunds_order", "order_id"),
        Index("ix_pay_refunds_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    refund_no: Mapped[str] = mapped_column(String(32), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pay_orders.id"))
    order_no: Mapped[str] = mapped_column(String(32))
    app_id: Mapped[str] = mapped_column(String(40))
    out_refund_no: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    fee_refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20))
    channel_refund_no: Mapped[str | None] = mapped_column(String(64))
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    business_date: Mapped[date | None] = mapped_column(Date)
    request_hash: Mapped[str] = mapped_column(String(64))
    shift_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PayCallback(Base):
    """渠道回调记录 — every inbound channel callback as received, and what the hub made of it."""

    __tablename__ = "pay_callbacks"
    __table_args__ = (Index("ix_pay_callbacks_order_no", "order_no"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_no: Mapped[str | None] = mapped_column(String(64))
    # ACCEPTED, DUPLICATE, FORGED, MISMATCH, UNKNOWN_ORDER, REFUSED (a state the order cannot take)
    outcome: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)


class PayNotification(Base):
    """业务通知 — a durable notice of a payment or refund result to the app, retried until acknowledged."""

    __tablename__ = "pay_notifications"
    __table_args__ = (
        CheckConstraint(_in("status", NOTIFY_STATUSES), name="status"),
        Index("ix_pay_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    # One notice per (order or refund, resulting state): "pay:<order_no>:SUCCESS".
    event_key: Mapped[str] = mapped_column(String(100), unique=True)
    app_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # pay | refund
    object_no: Mapped[str] = mapped_column(String(32))
    url: Mapped[str | None] = mapped_column(String(500))  # None: an in-process handler
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PayNotifyAttempt(Base):
    """通知尝试 — one delivery attempt of a notification and its outcome."""

    __tablename__ = "pay_notify_attempts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pay_notifications.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok: Mapped[bool] = mapped_column(Boolean)
    http_status: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(String(300), default="")
    error: Mapped[str] = mapped_column(String(300), default="")


class PayNonce(Base):
    """请求随机数 — nonces of signed API requests seen within the replay window."""

    __tablename__ = "pay_nonces"

    app_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PayShift(Base):
    """收银班次 — a cashier's shift: opening float, counter payments, counted cash and its difference."""

    __tablename__ = "pay_shifts"
    __table_args__ = (
        CheckConstraint(_in("status", SHIFT_STATUSES), name="status"),
        CheckConstraint("float_fen >= 0", name="float_nonneg"),
        # One open shift per cashier: every counter payment belongs to exactly one.
        Index(
            "uq_pay_shifts_open_cashier",
            "cashier",
            unique=True,
            sqlite_where=text("status = 'OPEN'"),
            postgresql_where=text("status = 'OPEN'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    shift_no: Mapped[str] = mapped_column(String(40), unique=True)
    cashier: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))
    business_date: Mapped[date] = mapped_column(Date)
    float_fen: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counted_fen: Mapped[int | None] = mapped_column(BigInteger)
    counted_detail: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    expected: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    difference_fen: Mapped[int | None] = mapped_column(BigInteger)
    difference_reason: Mapped[str | None] = mapped_column(String(200))
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PayDailyClose(Base):
    """日结 — the site's totals for one business date, closed once."""

    __tablename__ = "pay_daily_closes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, unique=True)
    totals: Mapped[dict[str, Any]] = mapped_column(JSONType)
    closed_by: Mapped[str] = mapped_column(String(64))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PayCashMovement(Base):
    """班次现金收付 — cash paid out of (or into) a cashier's drawer outside a payment order, e.g. a deposit
    refunded in cash at the counter; it belongs to the cashier's open shift and moves its expected cash."""

    __tablename__ = "pay_cash_movements"
    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount_not_zero"),
        # One movement per business document: paying the same refund out twice is impossible.
        UniqueConstraint("doc_type", "doc_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    shift_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pay_shifts.id"), index=True)
    cashier: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # > 0 into the drawer, < 0 paid out
    doc_type: Mapped[str] = mapped_column(String(40))
    doc_id: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(String(200))
    business_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
