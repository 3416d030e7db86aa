"""Community activities and their sign-ups (confirmed or on the waiting list, in order)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime
from core.property.ops.models import in_list

ACTIVITY_STATUSES = ("planned", "published", "finished", "cancelled")
SIGNUP_STATUSES = ("confirmed", "waitlisted", "cancelled")


class Activity(Base):
    """社区活动 — a community activity: time, place, content, capacity (people) and fee per person in fen."""

    __tablename__ = "prop_activities"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(ACTIVITY_STATUSES)})", name="status"),
        CheckConstraint("capacity > 0 AND fee_fen >= 0 AND ends_at > starts_at", name="terms"),
        Index("ix_prop_activities_community", "community_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ActivitySignup(Base):
    """活动报名 — one owner's sign-up for a party of people; waitlisted ones wait in `queue_no` order."""

    __tablename__ = "prop_activity_signups"
    __table_args__ = (
        UniqueConstraint("activity_id", "owner_id"),
        CheckConstraint(f"status IN ({in_list(SIGNUP_STATUSES)})", name="status"),
        CheckConstraint("party_size > 0", name="party_size"),
        Index("ix_prop_activity_signups_queue", "activity_id", "status", "queue_no"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    activity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_activities.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_owners.id"))
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"))
    party_size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    queue_no: Mapped[int] = mapped_column(Integer)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
