"""Parking use cases: areas and spaces, vehicles, fixed-space assignment, rental contracts (billed by C's bill
runs through `billable_rentals`), entry/exit with temporary-parking fees, live occupancy and usage statistics.

Space state machine: free --assign--> sold --release--> free; free --rent--> rented --end_rental--> free;
free --occupy--> occupied --vacate--> free. No terminal state: a space outlives its holders.
"""

from __future__ import annotations

import calendar
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from core.clock import BUSINESS_TZ, business_date
from core.context import Context
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.numbering import next_document_no
from core.property.models import Community, House, Owner
from core.property.ops import services as ops
from core.property.parking import rules
from core.property.parking.models import (
    AREA_KINDS,
    FREE,
    OCCUPIED,
    RENTAL_ACTIVE,
    RENTAL_ENDED,
    RENTAL_TERMINATED,
    RENTED,
    SOLD,
    SPACE_KINDS,
    ParkingArea,
    ParkingFeeRule,
    ParkingRecord,
    ParkingRental,
    ParkingSpace,
    Vehicle,
)

PERM_VIEW = "property.parking.view"
PERM_MANAGE = "property.parking.manage"
PERM_RENT = "property.parking.rent"
PERM_GATE = "property.parking.gate"
OBJECT_TYPE_SPACE = "prop_parking_space"
EVENT_SPACE = "property.parking_space_changed"
EVENT_RENTAL = "property.parking_rental_changed"
EVENT_RECORD = "property.parking_record_changed"
PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
RENTAL_MONTHS_MAX = 12 * 20
MONTHLY_FEE_MAX_FEN = 100_000_00

SPACE_MACHINE = ops.Machine(
    object_type=OBJECT_TYPE_SPACE,
    transitions={
        "assign": (frozenset({FREE}), SOLD),
        "release": (frozenset({SOLD}), FREE),
        "rent": (frozenset({FREE}), RENTED),
        "end_rental": (frozenset({RENTED}), FREE),
        "occupy": (frozenset({FREE}), OCCUPIED),
        "vacate": (frozenset({OCCUPIED}), FREE),
    },
    terminal=frozenset(),
    event_type=EVENT_SPACE,
)


@dataclass(frozen=True)
class ParkingCharge:
    """What a bill run charges for one rental in one period: the days [start, end] of the month it covers."""

    house_id: uuid.UUID
    space_id: uuid.UUID
    contract_id: uuid.UUID
    monthly_fee_fen: int
    start: date
    end: date


@dataclass(frozen=True)
class AreaView:
    id: uuid.UUID
    community_id: uuid.UUID
    code: str
    name: str
    kind: str


@dataclass(frozen=True)
class SpaceView:
    id: uuid.UUID
    area_id: uuid.UUID
    number: str
    location: str
    kind: str
    status: str
    version: int
    house_id: uuid.UUID | None
    owner_id: uuid.UUID | None
    retired: bool = False


@dataclass(frozen=True)
class VehicleView:
    id: uuid.UUID
    community_id: uuid.UUID
    owner_id: uuid.UUID
    house_id: uuid.UUID | None
    plate: str
    kind: str
    brand: str
    color: str
    active: bool


@dataclass(frozen=True)
class RentalView:
    id: uuid.UUID
    number: str
    space_id: uuid.UUID
    house_id: uuid.UUID
    owner_id: uuid.UUID | None
    start_date: date
    end_date: date
    monthly_fee_fen: int
    status: str
    terminated_on: date | None


@dataclass(frozen=True)
class RecordView:
    id: uuid.UUID
    area_id: uuid.UUID
    plate: str
    vehicle_id: uuid.UUID | None
    entered_at: datetime
    exited_at: datetime | None
    minutes: int | None
    fee_fen: int | None
    fee_note: str | None


@dataclass(frozen=True)
class Occupancy:
    """Live state of one car park: spaces by status and the vehicles inside now."""

    area_id: uuid.UUID
    area_code: str
    area_name: str
    spaces: int
    free: int
    sold: int
    rented: int
    occupied: int
    temporary_spaces: int
    vehicles_inside: int
    temporary_free: int


@dataclass(frozen=True)
class UsageStats:
    entries: int
    exits: int
    temporary_fee_fen: int
    avg_stay_minutes: int | None
    spaces: int
    spaces_by_status: dict[str, int]
    active_rentals: int
    rental_monthly_fen: int


def _space_view(r: ParkingSpace) -> SpaceView:
    return SpaceView(
        r.id,
        r.area_id,
        r.number,
        r.location,
        r.kind,
        r.status,
        r.version,
        r.house_id,
        r.owner_id,
        r.retired_at is not None,
    )


def _vehicle_view(r: Vehicle) -> VehicleView:
    return VehicleView(
        r.id, r.community_id, r.owner_id, r.house_id, r.plate, r.kind, r.brand, r.color, r.active
    )


def _rental_view(r: ParkingRental) -> RentalView:
    return RentalView(
        r.id,
        r.number,
        r.space_id,
        r.house_id,
        r.owner_id,
        r.start_date,
        r.end_date,
        r.monthly_fee_fen,
        r.status,
        r.terminated_on,
    )


def _record_view(r: ParkingRecord) -> RecordView:
    minutes = None if r.exited_at is None else rules.stay_minutes(r.entered_at, r.exited_at)
    return RecordView(
        r.id, r.area_id, r.plate, r.vehicle_id, r.entered_at, r.exited_at, minutes, r.fee_fen, r.fee_note
    )


def _house_in(session: Session, house_id: object, community_id: uuid.UUID) -> House:
    house = ops.get_or_404(session, House, house_id, "House")
    if house.community_id != community_id:
        raise ValidationError(N_("The house is not in this community."), field="house_id")
    return house


# --- areas and spaces ------------------------------------------------------------------------------------


def create_area(ctx: Context, community_id: uuid.UUID, code: str, name: str, kind: str) -> AreaView:
    code = ops.text(code, "code", 20)
    name = ops.text(name, "name", 100)
    kind = ops.choice(kind, "kind", AREA_KINDS)
    with ctx.uow(PERM_MANAGE) as uow:
        community = ops.get_or_404(uow.session, Community, community_id, "Community")
        exists = uow.session.execute(
            select(ParkingArea.id).where(ParkingArea.community_id == community.id, ParkingArea.code == code)
        ).first()
        if exists:
            raise Conflict(N_("Car park {area} already exists."), area=code)
        row = ParkingArea(
            id=new_id(), community_id=community.id, code=code, name=name, kind=kind, created_at=uow.now
        )
        uow.session.add(row)
        uow.session.flush()
        view = AreaView(row.id, row.community_id, code, name, kind)
        uow.audit("property.parking_area_create", "prop_parking_area", row.id, after=view.__dict__)
        uow.emit("property.parking_area_changed", view.__dict__)
        return view


def add_spaces(
    ctx: Context, area_id: uuid.UUID, numbers: list[str], *, kind: str, location: str = ""
) -> list[SpaceView]:
    """Register spaces of one kind in an area (all or none: a duplicate number refuses the lot)."""
    kind = ops.choice(kind, "kind", SPACE_KINDS)
    location = ops.text(location, "location", 200, required=False) or ""
    if not isinstance(numbers, list | tuple) or not numbers or len(numbers) > 5000:
        raise ValidationError(N_("Give 1 to 5000 space numbers."), field="numbers")
    clean = [ops.text(n, "numbers", 20) for n in numbers]
    if len(set(clean)) != len(clean):
        raise ValidationError(N_("A space number is given twice."), field="numbers")
    with ctx.uow(PERM_MANAGE) as uow:
        area = ops.get_or_404(uow.session, ParkingArea, area_id, "Parking area")
        taken = set(
            uow.session.execute(
                select(ParkingSpace.number).where(
                    ParkingSpace.area_id == area.id, ParkingSpace.number.in_(clean)
                )
            ).scalars()
        )
        if taken:
            raise Conflict(N_("Space {number} already exists in this area."), number=sorted(taken)[0])
        rows = [
            ParkingSpace(
                id=new_id(),
                community_id=area.community_id,
                area_id=area.id,
                number=n,
                location=location,
                kind=kind,
                status=FREE,
                version=1,
                created_at=uow.now,
            )
            for n in clean
        ]
        uow.session.add_all(rows)
        uow.session.flush()
        uow.audit(
            "property.parking_spaces_add",
            "prop_parking_area",
            area.id,
            after={"kind": kind, "numbers": clean},
        )
        uow.emit_many(
            EVENT_SPACE,
            [
                {
                    "id": r.id,
                    "action": "create",
                    "area_id": area.id,
                    "number": r.number,
                    "kind": kind,
                    "status": FREE,
                    "version": 1,
                }
                for r in rows
            ],
        )
        return [_space_view(r) for r in rows]


def area_by_code(ctx: Context, community_id: uuid.UUID, code: str) -> AreaView:
    """The car park of a community with this code (as a clerk types it)."""
    with ctx.read(PERM_VIEW) as s:
        row = s.execute(
            select(ParkingArea).where(
                ParkingArea.community_id == community_id, ParkingArea.code == code.strip()
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(N_("There is no car park {area} in this community."), area=code.strip())
        return AreaView(row.id, row.community_id, row.code, row.name, row.kind)


def space_by_number(ctx: Context, area_id: uuid.UUID, number: str) -> SpaceView:
    with ctx.read(PERM_VIEW) as s:
        row = s.execute(
            select(ParkingSpace).where(ParkingSpace.area_id == area_id, ParkingSpace.number == number.strip())
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(N_("There is no space {number} in this car park."), number=number.strip())
        return _space_view(row)


def _in_service(row: ParkingSpace) -> None:
    if row.retired_at is not None:
        raise StateError(N_("Space {number} is retired."), number=row.number)


def update_space(
    ctx: Context, space_id: uuid.UUID, *, location: str | None = None, kind: str | None = None
) -> SpaceView:
    """Correct a space's location, or make a free space fixed or temporary (a held space keeps its kind)."""
    location = None if location is None else (ops.text(location, "location", 200, required=False) or "")
    kind = None if kind is None else ops.choice(kind, "kind", SPACE_KINDS)
    with ctx.uow(PERM_MANAGE) as uow:
        row = ops.get_or_404(uow.session, ParkingSpace, space_id, "Parking space")
        _in_service(row)
        before = {"location": row.location, "kind": row.kind}
        if kind is not None and kind != row.kind and row.status != FREE:
            raise StateError(N_("Only a free space can change between fixed and temporary."))
        row.location = row.location if location is None else location
        row.kind = row.kind if kind is None else kind
        after = {"location": row.location, "kind": row.kind}
        if after == before:
            raise ValidationError(N_("Nothing was changed."), field="location")
        row.version += 1
        uow.session.flush()
        uow.audit("property.parking_space_update", OBJECT_TYPE_SPACE, row.id, before=before, after=after)
        uow.emit(EVENT_SPACE, {"id": row.id, "action": "update", "version": row.version, **after})
        return _space_view(row)


def retire_space(ctx: Context, space_id: uuid.UUID, reason: str) -> SpaceView:
    """停用 a free space: it stays in the lists and reports for its history, and is never given out again."""
    reason = ops.text(reason, "reason")
    with ctx.uow(PERM_MANAGE) as uow:
        row = ops.get_or_404(uow.session, ParkingSpace, space_id, "Parking space")
        _in_service(row)
        if row.status != FREE:
            raise StateError(N_("Only a free space can be retired; end its rental or release it first."))
        row.retired_at = uow.now
        row.version += 1
        uow.session.flush()
        uow.audit(
            "property.parking_space_retire",
            OBJECT_TYPE_SPACE,
            row.id,
            before={"retired": False},
            after={"retired": True, "reason": reason},
        )
        uow.emit(EVENT_SPACE, {"id": row.id, "action": "retire", "version": row.version, "reason": reason})
        return _space_view(row)


def _space_move(
    ctx: Context,
    permission: str,
    space_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    values: dict | None = None,
    check=None,
) -> SpaceView:
    with ctx.uow(permission) as uow:
        row = ops.get_or_404(uow.session, ParkingSpace, space_id, "Parking space")
        if action in ("assign", "rent", "occupy"):
            _in_service(row)
        SPACE_MACHINE.target(action, row.status)
        if check is not None:
            check(uow, row)
        ops.transition(
            uow,
            SPACE_MACHINE,
            row,
            action,
            reason=reason,
            values=values,
            data={k: v for k, v in (values or {}).items() if v is not None} or None,
        )
        return _space_view(row)


def _fixed_only(uow, row: ParkingSpace) -> None:
    if row.kind != "fixed":
        raise StateError(N_("Only fixed spaces can be sold or rented."))


def assign_space(
    ctx: Context, space_id: uuid.UUID, house_id: uuid.UUID, owner_id: uuid.UUID | None = None
) -> SpaceView:
    """Give a fixed space to a house (a sold space, 产权车位) for good."""

    def check(uow, row: ParkingSpace) -> None:
        _fixed_only(uow, row)
        _house_in(uow.session, house_id, row.community_id)
        if owner_id is not None:
            ops.get_or_404(uow.session, Owner, owner_id, "Owner")

    return _space_move(
        ctx,
        PERM_MANAGE,
        space_id,
        "assign",
        check=check,
        values={
            "house_id": ops.as_uuid(house_id, "House"),
            "owner_id": None if owner_id is None else ops.as_uuid(owner_id, "Owner"),
        },
    )


def release_space(ctx: Context, space_id: uuid.UUID, reason: str) -> SpaceView:
    reason = ops.text(reason, "reason")
    return _space_move(
        ctx, PERM_MANAGE, space_id, "release", reason=reason, values={"house_id": None, "owner_id": None}
    )


def set_occupied(ctx: Context, space_id: uuid.UUID, occupied: bool) -> SpaceView:
    """A space sensor (or the patrol) reports a temporary space taken or left."""
    return _space_move(ctx, PERM_GATE, space_id, "occupy" if occupied else "vacate")


# --- vehicles --------------------------------------------------------------------------------------------


def register_vehicle(
    ctx: Context,
    community_id: uuid.UUID,
    owner_id: uuid.UUID,
    plate: str,
    *,
    house_id: uuid.UUID | None = None,
    brand: str = "",
    color: str = "",
) -> VehicleView:
    parsed = rules.parse_plate(plate)
    brand = ops.text(brand, "brand", 60, required=False) or ""
    color = ops.text(color, "color", 20, required=False) or ""
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        owner = ops.get_or_404(s, Owner, owner_id, "Owner")
        if house_id is not None:
            _house_in(s, house_id, community.id)
        dup = s.execute(
            select(Vehicle.id).where(
                Vehicle.community_id == community.id, Vehicle.plate == parsed.number, Vehicle.active
            )
        ).first()
        if dup:
            raise Conflict(
                N_("Vehicle {plate} is already registered in this community."), plate=parsed.number
            )
        row = Vehicle(
            id=new_id(),
            community_id=community.id,
            owner_id=owner.id,
            house_id=None if house_id is None else ops.as_uuid(house_id, "House"),
            plate=parsed.number,
            kind=parsed.kind,
            brand=brand,
            color=color,
            active=True,
            created_at=uow.now,
        )
        s.add(row)
        s.flush()
        view = _vehicle_view(row)
        uow.audit("property.vehicle_register", "prop_vehicle", row.id, after=view.__dict__)
        uow.emit("property.vehicle_changed", view.__dict__)
        return view


def remove_vehicle(ctx: Context, vehicle_id: uuid.UUID) -> VehicleView:
    with ctx.uow(PERM_MANAGE) as uow:
        row = ops.get_or_404(uow.session, Vehicle, vehicle_id, "Vehicle")
        if not row.active:
            return _vehicle_view(row)
        row.active, row.removed_at = False, uow.now
        uow.session.flush()
        view = _vehicle_view(row)
        uow.audit(
            "property.vehicle_remove",
            "prop_vehicle",
            row.id,
            before={"active": True},
            after={"active": False},
        )
        uow.emit("property.vehicle_changed", view.__dict__)
        return view


def list_vehicles(
    ctx: Context, *, community_id: uuid.UUID, owner_id: uuid.UUID | None = None
) -> list[VehicleView]:
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(Vehicle)
            .where(Vehicle.community_id == community_id, Vehicle.active)
            .order_by(Vehicle.plate)
        )
        if owner_id is not None:
            q = q.where(Vehicle.owner_id == owner_id)
        return [_vehicle_view(v) for v in s.execute(q).scalars()]


# --- rentals ---------------------------------------------------------------------------------------------


def rent_space(
    ctx: Context,
    space_id: uuid.UUID,
    *,
    house_id: uuid.UUID,
    start_date: date,
    end_date: date,
    monthly_fee_fen: int,
    owner_id: uuid.UUID | None = None,
) -> RentalView:
    """A rental contract (车位租赁) for a free fixed space; the bill runs charge its monthly fee."""
    if not isinstance(start_date, date) or not isinstance(end_date, date):
        raise ValidationError(N_("Give the start and end dates."), field="start_date")
    if end_date < start_date:
        raise ValidationError(N_("The contract ends before it starts."), field="end_date")
    if (end_date - start_date).days > RENTAL_MONTHS_MAX * 31:
        raise ValidationError(
            N_("A rental runs at most {years} years."), field="end_date", years=RENTAL_MONTHS_MAX // 12
        )
    monthly_fee_fen = ops.whole(monthly_fee_fen, "monthly_fee_fen", maximum=MONTHLY_FEE_MAX_FEN)
    with ctx.uow(PERM_RENT) as uow:
        s = uow.session
        space = ops.get_or_404(s, ParkingSpace, space_id, "Parking space")
        _in_service(space)
        SPACE_MACHINE.target("rent", space.status)
        _fixed_only(uow, space)
        house = _house_in(s, house_id, space.community_id)
        if owner_id is not None:
            ops.get_or_404(s, Owner, owner_id, "Owner")
        row = ParkingRental(
            id=new_id(),
            number=next_document_no(uow, "CW", business_date(uow.now).year),
            community_id=space.community_id,
            space_id=space.id,
            house_id=house.id,
            owner_id=None if owner_id is None else ops.as_uuid(owner_id, "Owner"),
            start_date=start_date,
            end_date=end_date,
            monthly_fee_fen=monthly_fee_fen,
            status=RENTAL_ACTIVE,
            version=1,
            terminated_on=None,
            created_at=uow.now,
        )
        s.add(row)
        s.flush()
        ops.transition(
            uow,
            SPACE_MACHINE,
            space,
            "rent",
            values={"house_id": house.id, "owner_id": row.owner_id},
            data={"contract": row.number},
        )
        view = _rental_view(row)
        uow.audit("property.parking_rent", "prop_parking_rental", row.id, after=view.__dict__)
        uow.emit(EVENT_RENTAL, {**view.__dict__, "community_id": row.community_id, "action": "create"})
        return view


def _close_rental(
    uow, row: ParkingRental, status: str, terminated_on: date | None, reason: str | None
) -> None:
    result = uow.session.execute(
        update(ParkingRental)
        .where(
            ParkingRental.id == row.id,
            ParkingRental.status == RENTAL_ACTIVE,
            ParkingRental.version == row.version,
        )
        .values(status=status, terminated_on=terminated_on, version=row.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StateError(ops.CHANGED_MEANWHILE)
    uow.session.refresh(row)
    space = uow.session.get(ParkingSpace, row.space_id)
    if space.status == RENTED:
        ops.transition(
            uow,
            SPACE_MACHINE,
            space,
            "end_rental",
            reason=reason,
            values={"house_id": None, "owner_id": None},
            data={"contract": row.number},
        )
    uow.audit(
        f"property.parking_rental_{status}",
        "prop_parking_rental",
        row.id,
        before={"status": RENTAL_ACTIVE},
        after={"status": status, "terminated_on": terminated_on, "reason": reason},
    )
    uow.emit(EVENT_RENTAL, {**_rental_view(row).__dict__, "action": status, "reason": reason})


def terminate_rental(ctx: Context, rental_id: uuid.UUID, last_day: date, reason: str) -> RentalView:
    """End a contract early; `last_day` is the last day billed (not before the start, not after the end)."""
    reason = ops.text(reason, "reason")
    if not isinstance(last_day, date):
        raise ValidationError(N_("Give the last day of the rental."), field="last_day")
    with ctx.uow(PERM_RENT) as uow:
        row = ops.get_or_404(uow.session, ParkingRental, rental_id, "Rental")
        if row.status != RENTAL_ACTIVE:
            raise StateError(N_("This rental has already ended."), status=row.status)
        if not row.start_date <= last_day <= row.end_date:
            raise ValidationError(N_("The last day must fall within the contract."), field="last_day")
        _close_rental(uow, row, RENTAL_TERMINATED, last_day, reason)
        return _rental_view(row)


def end_expired_rentals(ctx: Context) -> int:
    """Close contracts whose end date has passed and free their spaces (a nightly job). Returns how many."""
    today = business_date(ctx.clock.now())
    with ctx.uow(PERM_RENT) as uow:
        rows = (
            uow.session.execute(
                select(ParkingRental).where(
                    ParkingRental.status == RENTAL_ACTIVE, ParkingRental.end_date < today
                )
            )
            .scalars()
            .all()
        )
        for row in rows:
            _close_rental(uow, row, RENTAL_ENDED, None, None)
        return len(rows)


def list_rentals(
    ctx: Context, *, community_id: uuid.UUID, status: str | None = RENTAL_ACTIVE
) -> list[RentalView]:
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(ParkingRental)
            .where(ParkingRental.community_id == community_id)
            .order_by(ParkingRental.number)
        )
        if status is not None:
            q = q.where(ParkingRental.status == status)
        return [_rental_view(r) for r in s.execute(q).scalars()]


def period_bounds(period: str) -> tuple[date, date]:
    """'2026-11' → (2026-11-01, 2026-11-30)."""
    m = PERIOD_RE.match(period) if isinstance(period, str) else None
    if m is None:
        raise ValidationError(N_("A period is written YYYY-MM, such as 2026-11."), field="period")
    year, month = int(m[1]), int(m[2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def billable_rentals(session: Session, community_id: uuid.UUID, period: str) -> list[ParkingCharge]:
    """Rental contracts to bill for `period` (YYYY-MM), each with the days of that month it covers.

    For the fee engine's bill runs: every contract (active, ended or terminated) whose days overlap the month;
    `start`/`end` are clipped to the month and to a termination, so partial months can be prorated by day.
    """
    first, last = period_bounds(period)
    rows = session.execute(
        select(ParkingRental)
        .where(
            ParkingRental.community_id == community_id,
            ParkingRental.start_date <= last,
            ParkingRental.end_date >= first,
            or_(ParkingRental.terminated_on.is_(None), ParkingRental.terminated_on >= first),
        )
        .order_by(ParkingRental.number)
    ).scalars()
    out = []
    for r in rows:
        end = min(r.end_date, last, r.terminated_on or r.end_date)
        out.append(
            ParkingCharge(r.house_id, r.space_id, r.id, r.monthly_fee_fen, max(r.start_date, first), end)
        )
    return out


# --- temporary parking -----------------------------------------------------------------------------------


def set_fee_rule(
    ctx: Context,
    community_id: uuid.UUID,
    rule: rules.FeeRule,
    *,
    area_id: uuid.UUID | None = None,
) -> rules.FeeRule:
    """The tariff for the community's car parks, or one area's (which then overrides the community's)."""
    if not isinstance(rule, rules.FeeRule):
        raise ValidationError(N_("The fee rule is not valid."), field="rule")
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        if area_id is not None:
            area = ops.get_or_404(s, ParkingArea, area_id, "Parking area")
            if area.community_id != community.id:
                raise ValidationError(N_("The parking area is not in this community."), field="area_id")
        row = s.execute(
            select(ParkingFeeRule).where(
                ParkingFeeRule.community_id == community.id,
                ParkingFeeRule.area_id.is_(None) if area_id is None else ParkingFeeRule.area_id == area_id,
            )
        ).scalar_one_or_none()
        terms = {
            k: getattr(rule, k)
            for k in (
                "free_minutes",
                "first_minutes",
                "first_fen",
                "step_minutes",
                "step_fen",
                "daily_cap_fen",
            )
        }
        before = None
        if row is None:
            row = ParkingFeeRule(id=new_id(), community_id=community.id, area_id=area_id, created_at=uow.now)
            s.add(row)
        else:
            before = {k: getattr(row, k) for k in terms}
        for k, v in terms.items():
            setattr(row, k, v)
        s.flush()
        uow.audit("property.parking_fee_rule", "prop_parking_fee_rule", row.id, before=before, after=terms)
        uow.emit(
            "property.parking_fee_rule_changed",
            {"id": row.id, "community_id": community.id, "area_id": area_id, **terms},
        )
        return rule


def _rule_for(session: Session, area: ParkingArea) -> rules.FeeRule | None:
    rows = (
        session.execute(
            select(ParkingFeeRule).where(
                ParkingFeeRule.community_id == area.community_id,
                or_(ParkingFeeRule.area_id == area.id, ParkingFeeRule.area_id.is_(None)),
            )
        )
        .scalars()
        .all()
    )
    rows.sort(key=lambda r: r.area_id is None)  # the area's own rule first
    if not rows:
        return None
    r = rows[0]
    return rules.FeeRule(
        r.free_minutes, r.first_minutes, r.first_fen, r.step_minutes, r.step_fen, r.daily_cap_fen
    )


def _space_holder(session: Session, community_id: uuid.UUID, vehicle: Vehicle | None) -> bool:
    """A registered vehicle whose house holds a sold or rented space parks without a temporary fee."""
    if vehicle is None or vehicle.house_id is None:
        return False
    return (
        session.execute(
            select(ParkingSpace.id).where(
                ParkingSpace.community_id == community_id,
                ParkingSpace.house_id == vehicle.house_id,
                ParkingSpace.status.in_((SOLD, RENTED)),
            )
        ).first()
        is not None
    )


def vehicle_enter(ctx: Context, area_id: uuid.UUID, plate: str, *, at: datetime | None = None) -> RecordView:
    """A vehicle passes the entry barrier; a vehicle already inside the community is refused (a misread plate)."""
    parsed = rules.parse_plate(plate)
    with ctx.uow(PERM_GATE) as uow:
        s = uow.session
        at = uow.now if at is None else ops.aware(at, "at")
        area = ops.get_or_404(s, ParkingArea, area_id, "Parking area")
        inside = s.execute(
            select(ParkingRecord.id).where(
                ParkingRecord.community_id == area.community_id,
                ParkingRecord.plate == parsed.number,
                ParkingRecord.exited_at.is_(None),
            )
        ).first()
        if inside:
            raise Conflict(N_("Vehicle {plate} is already inside."), plate=parsed.number)
        vehicle = s.execute(
            select(Vehicle).where(
                Vehicle.community_id == area.community_id, Vehicle.plate == parsed.number, Vehicle.active
            )
        ).scalar_one_or_none()
        row = ParkingRecord(
            id=new_id(),
            community_id=area.community_id,
            area_id=area.id,
            plate=parsed.number,
            vehicle_id=vehicle.id if vehicle else None,
            entered_at=at,
        )
        s.add(row)
        s.flush()
        view = _record_view(row)
        uow.emit(EVENT_RECORD, {**view.__dict__, "action": "enter"})
        return view


def vehicle_exit(ctx: Context, area_id: uuid.UUID, plate: str, *, at: datetime | None = None) -> RecordView:
    """A vehicle leaves: the stay is closed and its temporary-parking fee computed (0 for a space holder)."""
    parsed = rules.parse_plate(plate)
    with ctx.uow(PERM_GATE) as uow:
        s = uow.session
        at = uow.now if at is None else ops.aware(at, "at")
        area = ops.get_or_404(s, ParkingArea, area_id, "Parking area")
        row = s.execute(
            select(ParkingRecord).where(
                ParkingRecord.community_id == area.community_id,
                ParkingRecord.plate == parsed.number,
                ParkingRecord.exited_at.is_(None),
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(N_("Vehicle {plate} has no entry record."), plate=parsed.number)
        if at < row.entered_at:
            raise ValidationError(N_("The exit time is before the entry time."), field="at")
        vehicle = s.get(Vehicle, row.vehicle_id) if row.vehicle_id else None
        if _space_holder(s, area.community_id, vehicle):
            fee, note = 0, "space_holder"
        else:
            rule = _rule_for(s, area)
            if rule is None:
                raise ValidationError(
                    N_("No temporary parking fee rule is set for this car park."), field="area_id"
                )
            fee = rules.fee_for_stay(rule, row.entered_at, at)
            note = "free_minutes" if fee == 0 else None
        result = s.execute(
            update(ParkingRecord)
            .where(ParkingRecord.id == row.id, ParkingRecord.exited_at.is_(None))
            .values(exited_at=at, fee_fen=fee, fee_note=note)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(ops.CHANGED_MEANWHILE)
        s.refresh(row)
        view = _record_view(row)
        uow.audit(
            "property.parking_exit", "prop_parking_record", row.id, after={"plate": row.plate, "fee_fen": fee}
        )
        uow.emit(EVENT_RECORD, {**view.__dict__, "action": "exit"})
        return view


# --- occupancy and statistics ----------------------------------------------------------------------------


def occupancy(ctx: Context, community_id: uuid.UUID) -> list[Occupancy]:
    """Live occupancy per car park: spaces by status, vehicles inside, temporary spaces still free."""
    with ctx.read(PERM_VIEW) as s:
        areas = (
            s.execute(
                select(ParkingArea).where(ParkingArea.community_id == community_id).order_by(ParkingArea.code)
            )
            .scalars()
            .all()
        )
        counts: dict[tuple, int] = {
            (a, k, st): n
            for a, k, st, n in s.execute(
                select(ParkingSpace.area_id, ParkingSpace.kind, ParkingSpace.status, func.count())
                .where(ParkingSpace.community_id == community_id, ParkingSpace.retired_at.is_(None))
                .group_by(ParkingSpace.area_id, ParkingSpace.kind, ParkingSpace.status)
            )
        }
        inside = dict(
            s.execute(
                select(ParkingRecord.area_id, func.count())
                .where(ParkingRecord.community_id == community_id, ParkingRecord.exited_at.is_(None))
                .group_by(ParkingRecord.area_id)
            ).all()
        )
        # Inside vehicles without a held space use temporary spaces.
        temp_inside = dict(
            s.execute(
                select(ParkingRecord.area_id, func.count())
                .where(
                    ParkingRecord.community_id == community_id,
                    ParkingRecord.exited_at.is_(None),
                    or_(
                        ParkingRecord.vehicle_id.is_(None),
                        ~ParkingRecord.vehicle_id.in_(
                            select(Vehicle.id).join(
                                ParkingSpace,
                                and_(
                                    ParkingSpace.house_id == Vehicle.house_id,
                                    ParkingSpace.status.in_((SOLD, RENTED)),
                                ),
                            )
                        ),
                    ),
                )
                .group_by(ParkingRecord.area_id)
            ).all()
        )
    out = []
    for a in areas:

        def n(status: str, kind: str | None = None, area=a) -> int:
            return sum(
                v
                for (aid, k, st), v in counts.items()
                if aid == area.id and st == status and (kind is None or k == kind)
            )

        total = sum(v for (aid, _, _), v in counts.items() if aid == a.id)
        temp_total = sum(v for (aid, k, _), v in counts.items() if aid == a.id and k == "temporary")
        temp_free = max(0, n(FREE, "temporary") - temp_inside.get(a.id, 0))
        out.append(
            Occupancy(
                a.id,
                a.code,
                a.name,
                total,
                n(FREE),
                n(SOLD),
                n(RENTED),
                n(OCCUPIED),
                temp_total,
                inside.get(a.id, 0),
                temp_free,
            )
        )
    return out


def usage_statistics(ctx: Context, community_id: uuid.UUID, *, start: date, end: date) -> UsageStats:
    """Entries, exits, temporary fees and stays in [start, end] (business dates), with today's space mix."""
    if end < start:
        raise ValidationError(N_("The period ends before it starts."), field="end")
    t0 = datetime.combine(start, time.min, BUSINESS_TZ)
    t1 = datetime.combine(end + timedelta(days=1), time.min, BUSINESS_TZ)
    with ctx.read(PERM_VIEW) as s:
        entries = s.execute(
            select(func.count())
            .select_from(ParkingRecord)
            .where(
                ParkingRecord.community_id == community_id,
                ParkingRecord.entered_at >= t0,
                ParkingRecord.entered_at < t1,
            )
        ).scalar_one()
        exits = s.execute(
            select(ParkingRecord.entered_at, ParkingRecord.exited_at, ParkingRecord.fee_fen).where(
                ParkingRecord.community_id == community_id,
                ParkingRecord.exited_at >= t0,
                ParkingRecord.exited_at < t1,
            )
        ).all()
        by_status = Counter(
            dict(
                s.execute(
                    select(ParkingSpace.status, func.count())
                    .where(ParkingSpace.community_id == community_id, ParkingSpace.retired_at.is_(None))
                    .group_by(ParkingSpace.status)
                ).all()
            )
        )
        rentals = s.execute(
            select(func.count(), func.coalesce(func.sum(ParkingRental.monthly_fee_fen), 0)).where(
                ParkingRental.community_id == community_id, ParkingRental.status == RENTAL_ACTIVE
            )
        ).one()
    stays = [rules.stay_minutes(a, b) for a, b, _ in exits]
    return UsageStats(
        entries=entries,
        exits=len(exits),
        temporary_fee_fen=sum(f or 0 for _, _, f in exits),
        avg_stay_minutes=(sum(stays) // len(stays)) if stays else None,
        spaces=sum(by_status.values()),
        spaces_by_status=dict(by_status),
        active_rentals=rentals[0],
        rental_monthly_fen=int(rentals[1]),
    )
