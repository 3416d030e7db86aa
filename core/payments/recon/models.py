"""Reconciliation tables: one batch per channel and statement day, its differences to resolve, and the pool of
orders and refunds waiting for the next day's statement.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime

RECON_CHANNELS = ("wechat", "alipay")
DIFFERENCE_KINDS = (
    "missing_at_channel",
    "missing_locally",
    "amount_mismatch",
    "status_mismatch",
    "fee_mismatch",
)
DIFFERENCE_STATUSES = ("open", "resolved")
DECISIONS = ("accept_channel", "accept_local", "refund_payer", "write_off")
DOC_KINDS = ("trade", "refund")
POOL_SIDES = ("local", "ahead")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class ReconBatch(Base):
    """对账批次 — the reconciliation of one channel's statement of one day, with its latest run's counts."""

    __tablename__ = "recon_batches"
    __table_args__ = (
        UniqueConstraint("channel", "business_date", name="uq_recon_batches_channel_day"),
        CheckConstraint(_in("channel", RECON_CHANNELS), name="channel"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    business_date: Mapped[date] = mapped_column(Date)
    statement_sha256: Mapped[str] = mapped_column(String(64))
    statement_lines: Mapped[int] = mapped_column(Integer, default=0)
    statement_trade_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    statement_refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    statement_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    missing_at_channel: Mapped[int] = mapped_column(Integer, default=0)
    missing_locally: Mapped[int] = mapped_column(Integer, default=0)
    amount_mismatch: Mapped[int] = mapped_column(Integer, default=0)
    status_mismatch: Mapped[int] = mapped_column(Integer, default=0)
    fee_mismatch: Mapped[int] = mapped_column(Integer, default=0)
    pending: Mapped[int] = mapped_column(Integer, default=0)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    run_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconDifference(Base):
    """差错 — one difference between a statement line and our records, resolved by a recorded decision."""

    __tablename__ = "recon_differences"
    __table_args__ = (
        CheckConstraint(_in("kind", DIFFERENCE_KINDS), name="kind"),
        CheckConstraint(_in("doc_kind", DOC_KINDS), name="doc_kind"),
        CheckConstraint(_in("status", DIFFERENCE_STATUSES), name="status"),
        CheckConstraint(f"decision IS NULL OR {_in('decision', DECISIONS)}", name="decision"),
        CheckConstraint(
            "(status = 'open' AND decision IS NULL) OR (status = 'resolved' AND decision IS NOT NULL)",
            name="resolved_has_decision",
        ),
        Index("ix_recon_differences_batch", "batch_id", "status"),
        Index("ix_recon_differences_doc", "doc_no"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    channel: Mapped[str] = mapped_column(String(20))
    business_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))
    doc_kind: Mapped[str] = mapped_column(String(10))
    doc_no: Mapped[str] = mapped_column(String(64))  # our order_no (trade) or refund_no (refund)
    order_no: Mapped[str] = mapped_column(String(64), default="")
    channel_trade_no: Mapped[str] = mapped_column(String(64), default="")
    channel_refund_no: Mapped[str] = mapped_column(String(64), default="")
    local_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    channel_amount_fen: Mapped[int | None] = mapped_column(BigInteger)
    local_fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    channel_fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    local_status: Mapped[str] = mapped_column(String(20), default="")
    channel_status: Mapped[str] = mapped_column(String(20), default="")
    channel_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    line_no: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    decision: Mapped[str | None] = mapped_column(String(20))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReconPending(Base):
    """待对账池 — an order or refund not yet on the channel's statement, or matched ahead of its own day.

    side "local": paid just before midnight, expected on the next day's statement (matched again then);
    side "ahead": our record is dated the next day but the channel booked it today, so tomorrow's run must
    not expect it again.
    """

    __tablename__ = "recon_pending"
    __table_args__ = (
        UniqueConstraint("channel", "side", "doc_kind", "doc_no", name="uq_recon_pending_doc"),
        CheckConstraint(_in("side", POOL_SIDES), name="side"),
        CheckConstraint(_in("doc_kind", DOC_KINDS), name="doc_kind"),
        Index("ix_recon_pending_open", "channel", "side", "consumed_batch_id"),
        Index("ix_recon_pending_created", "created_batch_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    side: Mapped[str] = mapped_column(String(10))
    doc_kind: Mapped[str] = mapped_column(String(10))
    doc_no: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_batch_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    consumed_batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
