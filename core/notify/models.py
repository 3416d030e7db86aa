"""The message outbox: one row per message and channel, delivered (and retried) by a sender."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, LargeBinary, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime

CHANNELS = ("app_push", "sms", "notice_board")
STATUSES = ("pending", "sent", "failed")


class Message(Base):
    """消息 — a message waiting for, or done with, delivery through one channel to one recipient.

    The address (a phone for SMS) is encrypted like every personal datum; app pushes go to an owner id, a
    notice-board message to a place ("3号楼大堂").
    """

    __tablename__ = "notify_messages"
    __table_args__ = (
        CheckConstraint("channel IN ('app_push', 'sms', 'notice_board')", name="channel"),
        CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        Index("ix_notify_messages_pending", "status", "next_attempt_at"),
        Index("ix_notify_messages_source", "source_type", "source_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    channel: Mapped[str] = mapped_column(String(14))
    recipient: Mapped[str] = mapped_column(String(200))
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(40))
    source_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(String(400))
