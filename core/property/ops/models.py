"""Shared tables of the property operations: the status history of every ticket-like record, pending charges."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime

CHARGE_PENDING = "pending"
CHARGE_PAID = "paid"
CHARGE_CANCELLED = "cancelled"
CHARGE_REFUND_DUE = "refund_due"
CHARGE_STATUSES = (CHARGE_PENDING, CHARGE_PAID, CHARGE_CANCELLED, CHARGE_REFUND_DUE)


def in_list(values: tuple[str, ...]) -> str:
    """A CHECK constraint's `IN (...)` list of fixed codes (never user input)."""
    return ", ".join(f"'{v}'" for v in values)


class StatusChange(Base):
    """状态变更记录 — one transition of a work order, alarm, complaint, …: who moved it, when, why."""

    __tablename__ = "prop_ops_status_changes"
    __table_args__ = (Index("ix_prop_ops_status_changes_object", "object_type", "object_id", "at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_name: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class PendingCharge(Base):
    """待收费用 — money an owner owes for a paid repair or activity, waiting to be collected through the hub."""

    __tablename__ = "prop_ops_pending_charges"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(CHARGE_STATUSES)})", name="status"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        Index("ix_prop_ops_pending_charges_source", "source_type", "source_id"),
        Index("ix_prop_ops_pending_charges_status", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    community_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    house_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    subject: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_ref: Mapped[str | None] = mapped_column(String(80))
