"""Approval tables (maker-checker): process definitions, approval instances, their actions and attachments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime
from core.i18n import N_

STATUS_PENDING = "pending"
STATUS_APPROVED = "approved"
STATUS_REJECTED = "rejected"
STATUS_WITHDRAWN = "withdrawn"
STATUSES = (STATUS_PENDING, STATUS_APPROVED, STATUS_REJECTED, STATUS_WITHDRAWN)
TERMINAL_STATUSES = frozenset({STATUS_APPROVED, STATUS_REJECTED, STATUS_WITHDRAWN})

DECISION_SUBMIT = "submit"
DECISION_APPROVE = "approve"
DECISION_REJECT = "reject"
DECISION_SEND_BACK = "send_back"
DECISION_WITHDRAW = "withdraw"
DECISION_COMMENT = "comment"
DECISIONS = (
    DECISION_SUBMIT,
    DECISION_APPROVE,
    DECISION_REJECT,
    DECISION_SEND_BACK,
    DECISION_WITHDRAW,
    DECISION_COMMENT,
)
# Labels for the UIs (English msgids).
STATUS_LABELS = {
    STATUS_PENDING: N_("Pending"),
    STATUS_APPROVED: N_("Approved"),
    STATUS_REJECTED: N_("Rejected"),
    STATUS_WITHDRAWN: N_("Withdrawn"),
}
DECISION_LABELS = {
    DECISION_SUBMIT: N_("Submitted"),
    DECISION_APPROVE: N_("Approved"),
    DECISION_REJECT: N_("Rejected"),
    DECISION_SEND_BACK: N_("Sent back"),
    DECISION_WITHDRAW: N_("Withdrawn"),
    DECISION_COMMENT: N_("Comment"),
}
# Decisions that count as "acting on a step" for the maker-checker rule.
STEP_DECISIONS = (DECISION_APPROVE, DECISION_REJECT, DECISION_SEND_BACK)


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class ProcessDefinition(Base):
    """审批流程 — an approval chain: the ordered steps (a role each) a request of this kind must pass."""

    __tablename__ = "workflow_processes"

    code: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # [{"role": "finance", "name": "Finance review"}, ...]; names are English msgids.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ApprovalInstance(Base):
    """审批单 — one request going through a process; keeps the steps it started with."""

    __tablename__ = "workflow_instances"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    process_code: Mapped[str] = mapped_column(String(80), ForeignKey("workflow_processes.code"))
    process_version: Mapped[int] = mapped_column(Integer)
    # Snapshot of the definition's steps at submission, so a later edit never changes a running approval.
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    object_type: Mapped[str] = mapped_column(String(80))
    object_id: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    submitted_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    submitted_by_name: Mapped[str] = mapped_column(String(80))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    current_step: Mapped[int] = mapped_column(Integer)
    # The role of the current step while pending (denormalised from `steps` for the "my queue" query).
    current_role: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint("current_step >= 0", name="current_step"),
        Index("ix_workflow_instances_process_status", "process_code", "status"),
        Index("ix_workflow_instances_status_role", "status", "current_role"),
        Index("ix_workflow_instances_object", "object_type", "object_id"),
        # At most one pending approval per (process, object): the database enforces it even under a race.
        Index(
            "uq_workflow_instances_pending_object",
            "process_code",
            "object_type",
            "object_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class ApprovalAction(Base):
    """审批记录 — one thing someone did to an instance: submit, approve, reject, send back, withdraw, comment."""

    __tablename__ = "workflow_actions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workflow_instances.id"))
    step: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    actor_name: Mapped[str] = mapped_column(String(80))
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(f"decision IN ({_in(DECISIONS)})", name="decision"),
        Index("ix_workflow_actions_instance", "instance_id", "at"),
    )


class Attachment(Base):
    """附件 — a stored file, addressed by the SHA-256 of its content (identical content is stored once)."""

    __tablename__ = "workflow_attachments"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InstanceAttachment(Base):
    """审批附件 — a file attached to an approval instance, under the name it was uploaded with."""

    __tablename__ = "workflow_instance_attachments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    instance_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("workflow_instances.id"))
    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("workflow_attachments.sha256"))
    filename: Mapped[str] = mapped_column(String(200))
    added_by_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    added_by_name: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("instance_id", "sha256"),)
