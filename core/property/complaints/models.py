"""Complaint tickets and suggestions, each with an explicit state machine (history in prop_ops_status_changes)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime
from core.property.ops.models import in_list

COMPLAINT_STATUSES = ("submitted", "accepted", "assigned", "handling", "replied", "closed", "cancelled")
SUGGESTION_STATUSES = ("submitted", "evaluating", "adopted", "declined")


class Complaint(Base):
    """投诉工单 — an owner's complaint: accepted, assigned, handled, replied to, then confirmed or reopened."""

    __tablename__ = "prop_complaints"
    __table_args__ = (
        UniqueConstraint("number"),
        CheckConstraint(f"status IN ({in_list(COMPLAINT_STATUSES)})", name="status"),
        Index("ix_prop_complaints_community_status", "community_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    handler: Mapped[str | None] = mapped_column(String(80))
    reply: Mapped[str | None] = mapped_column(Text)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Suggestion(Base):
    """建议 — an owner's suggestion for the management, evaluated and adopted or declined with a reason."""

    __tablename__ = "prop_suggestions"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(SUGGESTION_STATUSES)})", name="status"),
        CheckConstraint("status <> 'declined' OR decision IS NOT NULL", name="decline_reason"),
        Index("ix_prop_suggestions_community_status", "community_id", "status", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    evaluator: Mapped[str | None] = mapped_column(String(80))
    decision: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
