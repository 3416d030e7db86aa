"""Access-control and security tables: devices, credentials with grants, access records, cameras, alarms."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
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

DEVICE_KINDS = ("gate", "door", "barrier")
CREDENTIAL_KINDS = ("card", "face")
CREDENTIAL_STATUSES = ("active", "revoked")
DIRECTIONS = ("in", "out")
METHODS = ("card", "face", "password", "qr", "remote")
ALARM_KINDS = ("intrusion", "fire", "device_offline", "tamper", "smoke", "other")
ALARM_STATUSES = ("received", "acknowledged", "dispatched", "closed")


class AccessDevice(Base):
    """门禁设备 — a gate, door or barrier; online while its heartbeat is fresh."""

    __tablename__ = "prop_access_devices"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint(f"kind IN ({in_list(DEVICE_KINDS)})", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    building_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_buildings.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 停用: a removed device keeps its access records; it opens nothing and raises no offline alarm.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AccessCredential(Base):
    """门禁卡/人脸 — a card or face credential issued to a resident for a house, valid for a period."""

    __tablename__ = "prop_access_credentials"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(CREDENTIAL_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({in_list(CREDENTIAL_STATUSES)})", name="status"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
        Index("ix_prop_access_credentials_holder", "owner_id", "house_id", "status"),
        Index("ix_prop_access_credentials_identifier", "community_id", "kind", "identifier", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_owners.id"))
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    kind: Mapped[str] = mapped_column(String(8))
    # Card number, or the face template's reference in the device vendor's store (never the image itself).
    identifier: Mapped[str] = mapped_column(String(80))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(200))


class AccessGrant(Base):
    """门禁权限 — a credential may open every device of a building, or one device (a community gate)."""

    __tablename__ = "prop_access_grants"
    __table_args__ = (
        CheckConstraint("(building_id IS NULL) <> (device_id IS NULL)", name="one_target"),
        Index("ix_prop_access_grants_credential", "credential_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    credential_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_access_credentials.id"))
    building_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_buildings.id"))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_access_devices.id"))


class AccessRecord(Base):
    """通行记录 — one opening of a device: when, who, which way, how (imported from the devices)."""

    __tablename__ = "prop_access_records"
    __table_args__ = (
        CheckConstraint(f"direction IN ({in_list(DIRECTIONS)})", name="direction"),
        CheckConstraint(f"method IN ({in_list(METHODS)})", name="method"),
        UniqueConstraint("device_id", "at", "person", "direction"),
        Index("ix_prop_access_records_community_at", "community_id", "at"),
        Index("ix_prop_access_records_owner_at", "owner_id", "at"),
        Index("ix_prop_access_records_person", "community_id", "person"),
        Index("ix_prop_access_records_at", "at", "id"),  # the back office's newest-first page
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_access_devices.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    person: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"))
    credential_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_access_credentials.id"))
    direction: Mapped[str] = mapped_column(String(4))
    method: Mapped[str] = mapped_column(String(10))


class Camera(Base):
    """监控摄像头 — a camera: where it looks, its stream, the recorder keeping its video and for how long."""

    __tablename__ = "prop_cameras"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint("retention_days > 0 AND channel >= 0", name="terms"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200))
    stream_url: Mapped[str] = mapped_column(String(400))
    recorder: Mapped[str] = mapped_column(String(100))
    channel: Mapped[int] = mapped_column(Integer, default=0)
    retention_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 停用: a removed camera; its recordings stay reachable for their retention.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Alarm(Base):
    """报警 — an alarm received from a sensor, camera or device, acknowledged, dispatched and closed."""

    __tablename__ = "prop_alarms"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(ALARM_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({in_list(ALARM_STATUSES)})", name="status"),
        Index("ix_prop_alarms_community_status", "community_id", "status", "raised_at"),
        Index("ix_prop_alarms_raised_at", "raised_at", "id"),  # the back office's newest-first page
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    kind: Mapped[str] = mapped_column(String(16))
    device_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_access_devices.id"))
    camera_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_cameras.id"))
    location: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(14))
    version: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(80))
    dispatched_to: Mapped[str | None] = mapped_column(String(80))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    resolution: Mapped[str | None] = mapped_column(Text)
