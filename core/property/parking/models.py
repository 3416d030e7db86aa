"""Parking tables: areas, spaces, vehicles, rental contracts, temporary-parking fee rules and entry/exit records."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, UTCDateTime
from core.property.ops.models import in_list

AREA_KINDS = ("above_ground", "underground")
SPACE_KINDS = ("fixed", "temporary")
FREE, SOLD, RENTED, OCCUPIED = "free", "sold", "rented", "occupied"
SPACE_STATUSES = (FREE, SOLD, RENTED, OCCUPIED)
VEHICLE_KINDS = ("fuel", "new_energy")
RENTAL_ACTIVE, RENTAL_ENDED, RENTAL_TERMINATED = "active", "ended", "terminated"
RENTAL_STATUSES = (RENTAL_ACTIVE, RENTAL_ENDED, RENTAL_TERMINATED)


class ParkingArea(Base):
    """停车区域 — a car park of a community, above ground or underground."""

    __tablename__ = "prop_parking_areas"
    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint(f"kind IN ({in_list(AREA_KINDS)})", name="kind"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingSpace(Base):
    """车位 — one space: fixed (sold or rented to a house) or temporary (临停); its status and holder."""

    __tablename__ = "prop_parking_spaces"
    __table_args__ = (
        UniqueConstraint("area_id", "number"),
        CheckConstraint(f"kind IN ({in_list(SPACE_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({in_list(SPACE_STATUSES)})", name="status"),
        CheckConstraint(
            "status NOT IN ('sold', 'rented') OR (kind = 'fixed' AND house_id IS NOT NULL)", name="holder"
        ),
        Index("ix_prop_parking_spaces_community_status", "community_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_parking_areas.id"))
    number: Mapped[str] = mapped_column(String(20))
    location: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 停用: a retired space (built over, turned into a bike shed) is kept for its history but never given out.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vehicle(Base):
    """车辆 — a vehicle registered to an owner (and house); the plate is unique in the community while registered."""

    __tablename__ = "prop_vehicles"
    __table_args__ = (
        CheckConstraint(f"kind IN ({in_list(VEHICLE_KINDS)})", name="kind"),
        Index("ix_prop_vehicles_plate", "community_id", "plate"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_owners.id"), index=True)
    house_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_houses.id"))
    plate: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))
    brand: Mapped[str] = mapped_column(String(60), default="")
    color: Mapped[str] = mapped_column(String(20), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ParkingRental(Base):
    """车位租赁合同 — a fixed space rented to a house for a period at a monthly fee (billed by the bill runs)."""

    __tablename__ = "prop_parking_rentals"
    __table_args__ = (
        UniqueConstraint("number"),
        CheckConstraint(f"status IN ({in_list(RENTAL_STATUSES)})", name="status"),
        CheckConstraint("end_date >= start_date AND monthly_fee_fen >= 0", name="terms"),
        CheckConstraint("terminated_on IS NULL OR terminated_on >= start_date", name="terminated_on"),
        Index("ix_prop_parking_rentals_community", "community_id", "status", "start_date"),
        Index("ix_prop_parking_rentals_space", "space_id", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(String(40))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    space_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_parking_spaces.id"))
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_owners.id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    monthly_fee_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingFeeRule(Base):
    """临停收费规则 — temporary parking tariff of an area (or the whole community when area_id is null)."""

    __tablename__ = "prop_parking_fee_rules"
    __table_args__ = (
        CheckConstraint(
            "free_minutes >= 0 AND first_minutes > 0 AND first_fen >= 0 AND step_minutes > 0 AND step_fen >= 0 "
            "AND (daily_cap_fen IS NULL OR daily_cap_fen >= 0)",
            name="terms",
        ),
        Index("ix_prop_parking_fee_rules_scope", "community_id", "area_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    area_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_parking_areas.id"))
    free_minutes: Mapped[int] = mapped_column(Integer)
    first_minutes: Mapped[int] = mapped_column(Integer)
    first_fen: Mapped[int] = mapped_column(BigInteger)
    step_minutes: Mapped[int] = mapped_column(Integer)
    step_fen: Mapped[int] = mapped_column(BigInteger)
    daily_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ParkingRecord(Base):
    """出入记录 — one stay of a vehicle in a car park: entry, exit, and the temporary-parking fee charged."""

    __tablename__ = "prop_parking_records"
    __table_args__ = (
        CheckConstraint("exited_at IS NULL OR exited_at >= entered_at", name="times"),
        CheckConstraint("fee_fen IS NULL OR fee_fen >= 0", name="fee"),
        Index("ix_prop_parking_records_open", "area_id", "exited_at"),
        Index("ix_prop_parking_records_plate", "community_id", "plate", "entered_at"),
        Index("ix_prop_parking_records_entered", "community_id", "entered_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    area_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_parking_areas.id"))
    plate: Mapped[str] = mapped_column(String(10))
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_vehicles.id"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    exited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fee_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Why no fee (a registered vehicle with a space, within free minutes), shown on the exit screen.
    fee_note: Mapped[str | None] = mapped_column(String(100))
