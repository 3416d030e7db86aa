"""Repair tables: repair types with their SLA, work orders (an owner's request and its execution), materials."""

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

from core.db.base import Base, JSONType, UTCDateTime
from core.property.ops.models import in_list

PENDING = "pending"  # 待派单
GRABBABLE = "grabbable"  # 抢单池
DISPATCHED = "dispatched"  # 已派单, waiting for the worker to accept
ACCEPTED = "accepted"  # 已接单
IN_PROGRESS = "in_progress"  # 维修中
PAUSED = "paused"  # 暂停 (waiting for parts, the owner away)
COMPLETED = "completed"  # 已完工
RATED = "rated"  # 已评价
CLOSED = "closed"  # 已回访/关闭
CANCELLED = "cancelled"  # 已取消
STATUSES = (
    PENDING,
    GRABBABLE,
    DISPATCHED,
    ACCEPTED,
    IN_PROGRESS,
    PAUSED,
    COMPLETED,
    RATED,
    CLOSED,
    CANCELLED,
)

LOCATION_HOUSE = "house"
LOCATION_COMMON = "common"
LOCATIONS = (LOCATION_HOUSE, LOCATION_COMMON)


class RepairType(Base):
    """报修类型 — a kind of repair (水电, 门窗, 电梯, …) with its SLA in minutes and whether it is paid by default."""

    __tablename__ = "prop_repair_types"
    __table_args__ = (
        CheckConstraint("response_minutes > 0 AND completion_minutes >= response_minutes", name="sla"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    response_minutes: Mapped[int] = mapped_column(Integer)
    completion_minutes: Mapped[int] = mapped_column(Integer)
    grab_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkOrder(Base):
    """报修单/维修工单 — an owner's repair request and the work order that carries it out, with its SLA deadlines."""

    __tablename__ = "prop_work_orders"
    __table_args__ = (
        CheckConstraint(f"status IN ({in_list(STATUSES)})", name="status"),
        CheckConstraint(f"location_kind IN ({in_list(LOCATIONS)})", name="location_kind"),
        CheckConstraint(
            "(location_kind = 'house' AND house_id IS NOT NULL) OR "
            "(location_kind = 'common' AND house_id IS NULL AND common_area IS NOT NULL)",
            name="location",
        ),
        CheckConstraint("labor_fen >= 0 AND materials_fen >= 0 AND charge_fen >= 0", name="amounts"),
        CheckConstraint(
            "(rating_speed IS NULL OR rating_speed BETWEEN 1 AND 5) AND "
            "(rating_quality IS NULL OR rating_quality BETWEEN 1 AND 5)",
            name="rating",
        ),
        UniqueConstraint("number"),
        Index("ix_prop_work_orders_community_status", "community_id", "status", "created_at"),
        Index("ix_prop_work_orders_worker", "worker", "status"),
        Index("ix_prop_work_orders_respond_by", "status", "respond_by"),
        Index("ix_prop_work_orders_complete_by", "status", "complete_by"),
        Index("ix_prop_work_orders_deadline", "complete_by", "id"),  # the dispatch board's default order
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    repair_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_repair_types.id"))
    location_kind: Mapped[str] = mapped_column(String(10))
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    common_area: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSONType)
    preferred_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preferred_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime)
    complete_by: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completion_note: Mapped[str | None] = mapped_column(Text)
    completion_photos: Mapped[list[str] | None] = mapped_column(JSONType)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    labor_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    materials_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    charge_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    rating_speed: Mapped[int | None] = mapped_column(Integer)
    rating_quality: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_note: Mapped[str | None] = mapped_column(Text)
    visit_satisfied: Mapped[bool | None] = mapped_column(Boolean)


class WorkOrderMaterial(Base):
    """维修材料 — material used on a work order; charged to the owner only on a paid repair."""

    __tablename__ = "prop_work_order_materials"
    __table_args__ = (
        CheckConstraint("quantity > 0 AND unit_price_fen >= 0 AND amount_fen >= 0", name="amounts"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    work_order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_work_orders.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
