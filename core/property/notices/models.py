"""Notices and announcements, and their recipients with read status."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime
from core.property.ops.models import in_list

NOTICE_KINDS = ("notice", "announcement")
CATEGORIES = ("outage", "activity", "maintenance", "safety", "regulation", "policy", "other")
SCOPES = ("community", "buildings", "houses")
NOTICE_STATUSES = ("draft", "published", "withdrawn")


class Notice(Base):
    """通知/公告 — a notice (停水停电, activity) or an announcement (规定, 政策) for a community, buildings or houses."""

    __tablename__ = "prop_notices"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(NOTICE_KINDS)})", name="kind"),
        CheckConstraint(f"category IN ({in_list(CATEGORIES)})", name="category"),
        CheckConstraint(f"scope IN ({in_list(SCOPES)})", name="scope"),
        CheckConstraint(f"status IN ({in_list(NOTICE_STATUSES)})", name="status"),
        Index("ix_prop_notices_community", "community_id", "status", "published_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    kind: Mapped[str] = mapped_column(String(14))
    category: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(10))
    # Building or house ids (as text) for the buildings/houses scopes; empty for the whole community.
    targets: Mapped[list[Any]] = mapped_column(JSONType)
    channels: Mapped[list[Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer, default=0)


class NoticeRecipient(Base):
    """通知接收人 — one resident a notice was sent to, and when they read it."""

    __tablename__ = "prop_notice_recipients"
    __table_args__ = (
        UniqueConstraint("notice_id", "owner_id"),
        Index("ix_prop_notice_recipients_owner", "owner_id", "read_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    notice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_notices.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_owners.id"))
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
