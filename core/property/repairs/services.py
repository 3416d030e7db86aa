"""Repair use cases: repair types and SLA, owners' requests, dispatch (assignment or 抢单), the work itself,
paid repairs, completion, rating, return visits, the owner's progress view, overdue alerts and statistics.

Work-order state machine (every arrow a compare-and-set recorded in the timeline):

    pending --open_grab--> grabbable --grab--> accepted            (first grabber wins)
    pending|grabbable --assign--> dispatched --accept--> accepted
    dispatched|accepted --transfer--> dispatched (another worker)   dispatched|accepted --return--> pending
    accepted --start--> in_progress --pause--> paused --resume--> in_progress --complete--> completed
    completed --rate--> rated;  completed|rated --visit--> closed
    pending|grabbable|dispatched --cancel--> cancelled
closed and cancelled are terminal.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from core.clock import BUSINESS_TZ, business_date
from core.context import Context
from core.errors import PermissionDenied, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.numbering import next_document_no
from core.property.models import Community, House, Owner
from core.property.ops import services as ops
from core.property.repairs import rules
from core.property.repairs.models import (
    ACCEPTED,
    CANCELLED,
    CLOSED,
    COMPLETED,
    DISPATCHED,
    GRABBABLE,
    IN_PROGRESS,
    LOCATION_COMMON,
    LOCATION_HOUSE,
    PAUSED,
    PENDING,
    RATED,
    RepairType,
    WorkOrder,
    WorkOrderMaterial,
)
from core.uow import UnitOfWork

PERM_VIEW = "property.repairs.view"
PERM_REPORT = "property.repairs.report"
PERM_DISPATCH = "property.repairs.dispatch"
PERM_WORK = "property.repairs.work"
PERM_RATE = "property.repairs.rate"
PERM_MANAGE = "property.repairs.manage"
OBJECT_TYPE = "prop_work_order"
EVENT_CHANGED = "property.work_order_changed"
LIST_LIMIT_MAX = 1000
SLA_MINUTES_MAX = 60 * 24 * 90
MATERIALS_MAX = 100

MACHINE = ops.Machine(
    object_type=OBJECT_TYPE,
    transitions={
        "open_grab": (frozenset({PENDING}), GRABBABLE),
        "assign": (frozenset({PENDING, GRABBABLE}), DISPATCHED),
        "grab": (frozenset({GRABBABLE}), ACCEPTED),
        "accept": (frozenset({DISPATCHED}), ACCEPTED),
        "transfer": (frozenset({DISPATCHED, ACCEPTED}), DISPATCHED),
        "return": (frozenset({DISPATCHED, ACCEPTED}), PENDING),
        "start": (frozenset({ACCEPTED}), IN_PROGRESS),
        "pause": (frozenset({IN_PROGRESS}), PAUSED),
        "resume": (frozenset({PAUSED}), IN_PROGRESS),
        "complete": (frozenset({IN_PROGRESS}), COMPLETED),
        "rate": (frozenset({COMPLETED}), RATED),
        "visit": (frozenset({COMPLETED, RATED}), CLOSED),
        "cancel": (frozenset({PENDING, GRABBABLE, DISPATCHED}), CANCELLED),
    },
    terminal=frozenset({CLOSED, CANCELLED}),
    event_type=EVENT_CHANGED,
)
MATERIAL_STATES = (ACCEPTED, IN_PROGRESS, PAUSED)


# --- views -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RepairTypeView:
    id: uuid.UUID
    code: str
    name: str
    response_minutes: int
    completion_minutes: int
    grab_allowed: bool
    active: bool


@dataclass(frozen=True)
class WorkOrderView:
    id: uuid.UUID
    number: str
    community_id: uuid.UUID
    repair_type_code: str
    location_kind: str
    house_id: uuid.UUID | None
    common_area: str | None
    owner_id: uuid.UUID | None
    description: str
    photos: list[str]
    preferred_from: datetime | None
    preferred_to: datetime | None
    status: str
    version: int
    worker: str | None
    created_at: datetime
    respond_by: datetime
    complete_by: datetime
    accepted_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    completion_photos: list[str]
    paid: bool
    labor_fen: int
    materials_fen: int
    charge_fen: int
    charge_id: uuid.UUID | None
    rating_speed: int | None
    rating_quality: int | None
    rating_comment: str | None
    allowed_actions: list[str]


@dataclass(frozen=True)
class MaterialView:
    name: str
    quantity: int
    unit_price_fen: int
    amount_fen: int
    added_by: str
    added_at: datetime


@dataclass(frozen=True)
class Progress:
    """What the owner sees: the order, its timeline (every step with who and when) and the materials used."""

    order: WorkOrderView
    timeline: list[ops.ChangeView]
    materials: list[MaterialView]


@dataclass(frozen=True)
class OverdueView:
    order: WorkOrderView
    kind: str  # response | completion
    minutes_late: int


@dataclass(frozen=True)
class RepairStats:
    orders: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    responded: int
    avg_response_minutes: Decimal | None
    completed: int
    avg_completion_minutes: Decimal | None
    response_late: int
    completion_late: int
    rated: int
    avg_speed: Decimal | None
    avg_quality: Decimal | None
    paid_fen: int


def _type_view(r: RepairType) -> RepairTypeView:
    return RepairTypeView(
        r.id, r.code, r.name, r.response_minutes, r.completion_minutes, r.grab_allowed, r.active
    )


def _view(row: WorkOrder, type_code: str) -> WorkOrderView:
    return WorkOrderView(
        row.id,
        row.number,
        row.community_id,
        type_code,
        row.location_kind,
        row.house_id,
        row.common_area,
        row.owner_id,
        row.description,
        list(row.photos or []),
        row.preferred_from,
        row.preferred_to,
        row.status,
        row.version,
        row.worker,
        row.created_at,
        row.respond_by,
        row.complete_by,
        row.accepted_at,
        row.completed_at,
        row.closed_at,
        list(row.completion_photos or []),
        row.paid,
        row.labor_fen,
        row.materials_fen,
        row.charge_fen,
        row.charge_id,
        row.rating_speed,
        row.rating_quality,
        row.rating_comment,
        MACHINE.allowed(row.status),
    )


def _type_code(session: Any, row: WorkOrder) -> str:
    return session.execute(select(RepairType.code).where(RepairType.id == row.repair_type_id)).scalar_one()


# --- repair types ----------------------------------------------------------------------------------------


def define_repair_type(
    ctx: Context,
    code: str,
    name: str,
    *,
    response_minutes: int,
    completion_minutes: int,
    grab_allowed: bool = True,
    active: bool = True,
) -> RepairTypeView:
    """Create or change a repair type and its SLA; orders already open keep the deadlines they were given."""
    code = ops.text(code, "code", 40)
    name = ops.text(name, "name", 100)
    response_minutes = ops.whole(response_minutes, "response_minutes", minimum=1, maximum=SLA_MINUTES_MAX)
    completion_minutes = ops.whole(
        completion_minutes, "completion_minutes", minimum=1, maximum=SLA_MINUTES_MAX
    )
    if completion_minutes < response_minutes:
        raise ValidationError(
            N_("The completion time cannot be shorter than the response time."), field="completion_minutes"
        )
    with ctx.uow(PERM_MANAGE) as uow:
        row = uow.session.execute(select(RepairType).where(RepairType.code == code)).scalar_one_or_none()
        before = None if row is None else _type_view(row).__dict__
        if row is None:
            row = RepairType(id=new_id(), code=code, created_at=uow.now)
            uow.session.add(row)
        row.name, row.response_minutes, row.completion_minutes = name, response_minutes, completion_minutes
        row.grab_allowed, row.active = bool(grab_allowed), bool(active)
        uow.session.flush()
        view = _type_view(row)
        uow.audit(
            "property.repair_type_define", "prop_repair_type", row.id, before=before, after=view.__dict__
        )
        uow.emit("property.repair_type_changed", view.__dict__)
        return view


def list_repair_types(ctx: Context) -> list[RepairTypeView]:
    with ctx.read(PERM_VIEW) as session:
        return [
            _type_view(r) for r in session.execute(select(RepairType).order_by(RepairType.code)).scalars()
        ]


# --- requests --------------------------------------------------------------------------------------------


def report(
    ctx: Context,
    *,
    community_id: uuid.UUID,
    repair_type: str,
    description: str,
    house_id: uuid.UUID | None = None,
    common_area: str | None = None,
    owner_id: uuid.UUID | None = None,
    contact_name: str | None = None,
    photos: list[str] | None = None,
    preferred_from: datetime | None = None,
    preferred_to: datetime | None = None,
) -> WorkOrderView:
    """An owner's repair request (报修): in their house or in a common area; it opens a pending work order."""
    description = ops.text(description, "description")
    contact_name = ops.text(contact_name, "contact_name", 100, required=False) or ""
    location_kind = LOCATION_HOUSE if house_id is not None else LOCATION_COMMON
    if location_kind == LOCATION_COMMON:
        common_area = ops.text(common_area, "common_area", 200)
    elif common_area is not None:
        raise ValidationError(
            N_("A repair is either in a house or in a common area, not both."), field="common_area"
        )
    if preferred_from is not None:
        ops.aware(preferred_from, "preferred_from")
    if preferred_to is not None:
        ops.aware(preferred_to, "preferred_to")
        if preferred_from is not None and preferred_to <= preferred_from:
            raise ValidationError(N_("The preferred time ends before it starts."), field="preferred_to")
    with ctx.uow(PERM_REPORT) as uow:
        s = uow.session
        community = ops.get_or_404(s, Community, community_id, "Community")
        rtype = s.execute(select(RepairType).where(RepairType.code == repair_type)).scalar_one_or_none()
        if rtype is None or not rtype.active:
            raise ValidationError(
                N_("Unknown repair type {code}."), field="repair_type", code=str(repair_type)
            )
        if house_id is not None:
            house = ops.get_or_404(s, House, house_id, "House")
            if house.community_id != community.id:
                raise ValidationError(N_("The house is not in this community."), field="house_id")
        if owner_id is not None:
            ops.get_or_404(s, Owner, owner_id, "Owner")
        clean_photos = ops.photos(s, photos)
        respond_by, complete_by = rules.deadlines(uow.now, rtype.response_minutes, rtype.completion_minutes)
        row = WorkOrder(
            id=new_id(),
            number=next_document_no(uow, "BX", business_date(uow.now).year),
            community_id=community.id,
            repair_type_id=rtype.id,
            location_kind=location_kind,
            house_id=ops.as_uuid(house_id, "House") if house_id is not None else None,
            common_area=common_area if location_kind == LOCATION_COMMON else None,
            owner_id=ops.as_uuid(owner_id, "Owner") if owner_id is not None else None,
            contact_name=contact_name,
            description=description,
            photos=clean_photos,
            preferred_from=preferred_from,
            preferred_to=preferred_to,
            status=PENDING,
            version=1,
            worker=None,
            created_at=uow.now,
            respond_by=respond_by,
            complete_by=complete_by,
            paid=False,
            labor_fen=0,
            materials_fen=0,
            charge_fen=0,
        )
        s.add(row)
        s.flush()
        ops.record_change(uow, OBJECT_TYPE, row.id, "report", None, PENDING, data={"number": row.number})
        view = _view(row, rtype.code)
        uow.audit(
            "prop_work_order.report",
            OBJECT_TYPE,
            row.id,
            after={
                "number": row.number,
                "type": rtype.code,
                "location": location_kind,
                "house_id": row.house_id,
            },
        )
        uow.emit(
            EVENT_CHANGED,
            {
                "id": row.id,
                "action": "report",
                "status": PENDING,
                "number": row.number,
                "community_id": row.community_id,
                "repair_type": rtype.code,
                "house_id": row.house_id,
                "owner_id": row.owner_id,
                "created_at": row.created_at,
                "respond_by": respond_by,
                "complete_by": complete_by,
                "version": 1,
            },
        )
        return view


def upload_photo(ctx: Context, filename: str, data: bytes, content_type: str | None = None) -> str:
    """Store a photo for a request or a completion; pass the returned fingerprint in `photos`."""
    return ops.store_photo(ctx, PERM_REPORT, filename, data, content_type)


# --- transitions -----------------------------------------------------------------------------------------


def _load(uow: UnitOfWork, order_id: uuid.UUID) -> WorkOrder:
    return ops.get_or_404(uow.session, WorkOrder, order_id, "Work order")


def _check_version(row: WorkOrder, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise StateError(N_("Someone else changed this record meanwhile; please look at it again."))


def _check_worker(ctx: Context, row: WorkOrder) -> None:
    """Only the assigned worker, or a dispatcher, may act on a worker's order."""
    if row.worker != ctx.actor.username and not ctx.actor.can(PERM_DISPATCH):
        raise PermissionDenied(N_("This work order is assigned to {worker}."), worker=row.worker or "-")


def _worker_name(worker: object) -> str:
    return ops.text(worker, "worker", 80)


def _move(
    ctx: Context,
    permission: str,
    order_id: uuid.UUID,
    action: str,
    *,
    reason: str | None = None,
    reason_required: bool = False,
    worker_only: bool = False,
    expected_version: int | None = None,
    values: Any = None,
    data: dict[str, Any] | None = None,
    before_move: Any = None,
) -> WorkOrderView:
    reason = ops.text(reason, "reason", required=reason_required)
    with ctx.uow(permission) as uow:
        row = _load(uow, order_id)
        _check_version(row, expected_version)
        MACHINE.target(action, row.status)  # refuse before anything else is looked at
        if worker_only:
            _check_worker(ctx, row)
        if before_move is not None:
            before_move(uow, row)
        vals = values(uow, row) if callable(values) else (values or {})
        ops.transition(
            uow,
            MACHINE,
            row,
            action,
            reason=reason,
            values=vals,
            data=data,
            payload={"number": row.number, "worker": vals.get("worker", row.worker)},
        )
        return _view(row, _type_code(uow.session, row))


def open_for_grab(ctx: Context, order_id: uuid.UUID, *, expected_version: int | None = None) -> WorkOrderView:
    """Put a pending order into the grab pool (抢单池) for any worker to take."""

    def check(uow: UnitOfWork, row: WorkOrder) -> None:
        if not uow.session.get(RepairType, row.repair_type_id).grab_allowed:
            raise StateError(N_("Orders of this repair type are assigned, not grabbed."))

    return _move(
        ctx, PERM_DISPATCH, order_id, "open_grab", expected_version=expected_version, before_move=check
    )


def assign(
    ctx: Context,
    order_id: uuid.UUID,
    worker: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
) -> WorkOrderView:
    """Dispatch to a named worker (派单); they must accept it."""
    worker = _worker_name(worker)
    return _move(
        ctx,
        PERM_DISPATCH,
        order_id,
        "assign",
        reason=reason,
        expected_version=expected_version,
        values={"worker": worker},
        data={"worker": worker},
    )


def grab(ctx: Context, order_id: uuid.UUID) -> WorkOrderView:
    """抢单: the acting worker takes an order from the pool. The compare-and-set lets exactly one grabber win."""
    me = ctx.actor.username

    def vals(uow: UnitOfWork, row: WorkOrder) -> dict[str, Any]:
        return {"worker": me, "accepted_at": row.accepted_at or uow.now}

    try:
        return _move(ctx, PERM_WORK, order_id, "grab", values=vals, data={"worker": me})
    except StateError as exc:
        if exc.msgid != ops.CHANGED_MEANWHILE:
            raise
        raise StateError(N_("Someone else took this order first."), code="already_grabbed") from exc


def accept(ctx: Context, order_id: uuid.UUID, *, expected_version: int | None = None) -> WorkOrderView:
    """The assigned worker accepts (接单); the first acceptance is the response time of the SLA."""
    return _move(
        ctx,
        PERM_WORK,
        order_id,
        "accept",
        worker_only=True,
        expected_version=expected_version,
        values=lambda uow, row: {"accepted_at": row.accepted_at or uow.now},
    )


def transfer(
    ctx: Context, order_id: uuid.UUID, worker: str, reason: str, *, expected_version: int | None = None
) -> WorkOrderView:
    """Hand the order to another worker (转单), who must accept it; a reason is required."""
    worker = _worker_name(worker)

    def check(uow: UnitOfWork, row: WorkOrder) -> None:
        if row.worker == worker:
            raise ValidationError(N_("The order is already with {worker}."), field="worker", worker=worker)

    return _move(
        ctx,
        PERM_WORK,
        order_id,
        "transfer",
        reason=reason,
        reason_required=True,
        worker_only=True,
        expected_version=expected_version,
        values={"worker": worker},
        data={"worker": worker},
        before_move=check,
    )


def return_order(
    ctx: Context, order_id: uuid.UUID, reason: str, *, expected_version: int | None = None
) -> WorkOrderView:
    """The worker gives the order back (退单) to be dispatched again; a reason is required."""
    return _move(
        ctx,
        PERM_WORK,
        order_id,
        "return",
        reason=reason,
        reason_required=True,
        worker_only=True,
        expected_version=expected_version,
        values={"worker": None},
    )


def start(ctx: Context, order_id: uuid.UUID, *, expected_version: int | None = None) -> WorkOrderView:
    return _move(ctx, PERM_WORK, order_id, "start", worker_only=True, expected_version=expected_version)


def pause(
    ctx: Context, order_id: uuid.UUID, reason: str, *, expected_version: int | None = None
) -> WorkOrderView:
    """Stop work for a while (waiting for parts, the owner away); a reason is required."""
    return _move(
        ctx,
        PERM_WORK,
        order_id,
        "pause",
        reason=reason,
        reason_required=True,
        worker_only=True,
        expected_version=expected_version,
    )


def resume(ctx: Context, order_id: uuid.UUID, *, expected_version: int | None = None) -> WorkOrderView:
    return _move(ctx, PERM_WORK, order_id, "resume", worker_only=True, expected_version=expected_version)


def cancel(
    ctx: Context, order_id: uuid.UUID, reason: str, *, expected_version: int | None = None
) -> WorkOrderView:
    """Cancel an order nobody has started (the owner withdrew it, a duplicate); a reason is required."""
    return _move(
        ctx,
        PERM_DISPATCH,
        order_id,
        "cancel",
        reason=reason,
        reason_required=True,
        expected_version=expected_version,
        values=lambda uow, row: {"closed_at": uow.now},
    )


def add_material(
    ctx: Context, order_id: uuid.UUID, name: str, quantity: int, unit_price_fen: int
) -> WorkOrderView:
    """Record material used (while the order is accepted, in progress or paused)."""
    name = ops.text(name, "name", 200)
    quantity = ops.whole(quantity, "quantity", minimum=1, maximum=100_000)
    unit_price_fen = ops.whole(unit_price_fen, "unit_price_fen")
    amount_fen = quantity * unit_price_fen
    with ctx.uow(PERM_WORK) as uow:
        row = _load(uow, order_id)
        if row.status not in MATERIAL_STATES:
            raise StateError(
                N_("Materials can only be added while the work is under way."), status=row.status
            )
        _check_worker(ctx, row)
        count = uow.session.execute(
            select(func.count())
            .select_from(WorkOrderMaterial)
            .where(WorkOrderMaterial.work_order_id == row.id)
        ).scalar_one()
        if count >= MATERIALS_MAX:
            raise ValidationError(N_("A work order has at most {max} material lines."), max=MATERIALS_MAX)
        result = uow.session.execute(
            update(WorkOrder)
            .where(
                WorkOrder.id == row.id,
                WorkOrder.version == row.version,
                WorkOrder.status.in_(MATERIAL_STATES),
            )
            .values(materials_fen=WorkOrder.materials_fen + amount_fen, version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise StateError(N_("Someone else changed this record meanwhile; please look at it again."))
        uow.session.add(
            WorkOrderMaterial(
                id=new_id(),
                work_order_id=row.id,
                name=name,
                quantity=quantity,
                unit_price_fen=unit_price_fen,
                amount_fen=amount_fen,
                added_by=ctx.actor.username,
                added_at=uow.now,
            )
        )
        uow.session.refresh(row)
        data = {
            "name": name,
            "quantity": quantity,
            "unit_price_fen": unit_price_fen,
            "amount_fen": amount_fen,
        }
        ops.record_change(uow, OBJECT_TYPE, row.id, "material", row.status, row.status, data=data)
        uow.audit("prop_work_order.material", OBJECT_TYPE, row.id, after=data)
        uow.emit(
            EVENT_CHANGED,
            {
                "id": row.id,
                "action": "material",
                "status": row.status,
                "version": row.version,
                "materials_fen": row.materials_fen,
                "material": data,
            },
        )
        return _view(row, _type_code(uow.session, row))


def complete(
    ctx: Context,
    order_id: uuid.UUID,
    *,
    note: str | None = None,
    photos: list[str] | None = None,
    paid: bool = False,
    labor_fen: int = 0,
    expected_version: int | None = None,
) -> WorkOrderView:
    """Finish the work (完工) with photos. A paid repair charges labour + materials to the owner as a pending
    charge for the payment hub; a free one (common areas, warranty) charges nothing."""
    note = ops.text(note, "note", required=False)
    labor_fen = ops.whole(labor_fen, "labor_fen")
    if not paid and labor_fen:
        raise ValidationError(N_("Labour is only charged on a paid repair."), field="labor_fen")
    with ctx.uow(PERM_WORK) as uow:
        row = _load(uow, order_id)
        _check_version(row, expected_version)
        MACHINE.target("complete", row.status)
        _check_worker(ctx, row)
        done_photos = ops.photos(uow.session, photos, "completion_photos")
        charge_fen = labor_fen + row.materials_fen if paid else 0
        values: dict[str, Any] = {
            "completed_at": uow.now,
            "completion_note": note,
            "completion_photos": done_photos,
            "paid": bool(paid),
            "labor_fen": labor_fen,
            "charge_fen": charge_fen,
        }
        if paid:
            if charge_fen <= 0:
                raise ValidationError(
                    N_("A paid repair needs labour or materials to charge."), field="labor_fen"
                )
            if row.location_kind != LOCATION_HOUSE:
                raise ValidationError(
                    N_("Repairs in common areas are not charged to an owner."), field="paid"
                )
            charge = ops.record_charge(
                uow,
                source_type="repair",
                source_id=row.id,
                amount_fen=charge_fen,
                subject=f"维修费 {row.number}",
                community_id=row.community_id,
                house_id=row.house_id,
                owner_id=row.owner_id,
            )
            values["charge_id"] = charge.id
        ops.transition(
            uow,
            MACHINE,
            row,
            "complete",
            values=values,
            data={"paid": bool(paid), "charge_fen": charge_fen, "photos": done_photos, "note": note},
            payload={"number": row.number, "charge_fen": charge_fen},
        )
        return _view(row, _type_code(uow.session, row))


def _rating(value: object, field: str) -> int:
    return ops.whole(value, field, minimum=1, maximum=5)


def rate(
    ctx: Context, order_id: uuid.UUID, *, speed: int, quality: int, comment: str | None = None
) -> WorkOrderView:
    """The owner rates the service (speed and quality 1–5, an optional comment); once per order."""
    speed, quality = _rating(speed, "speed"), _rating(quality, "quality")
    comment = ops.text(comment, "comment", required=False)
    data = {"speed": speed, "quality": quality, "comment": comment}
    return _move(
        ctx,
        PERM_RATE,
        order_id,
        "rate",
        data=data,
        values=lambda uow, row: {
            "rating_speed": speed,
            "rating_quality": quality,
            "rating_comment": comment,
            "rated_at": uow.now,
        },
    )


def return_visit(
    ctx: Context,
    order_id: uuid.UUID,
    *,
    note: str,
    satisfied: bool,
    speed: int | None = None,
    quality: int | None = None,
) -> WorkOrderView:
    """回访: staff call the owner back and close the order; a rating given on the phone is recorded if none yet."""
    note = ops.text(note, "note")
    if (speed is None) != (quality is None):
        raise ValidationError(N_("Give both the speed and the quality rating, or neither."), field="speed")
    rating = None if speed is None else (_rating(speed, "speed"), _rating(quality, "quality"))

    def vals(uow: UnitOfWork, row: WorkOrder) -> dict[str, Any]:
        v: dict[str, Any] = {"visit_note": note, "visit_satisfied": bool(satisfied), "closed_at": uow.now}
        if rating is not None and row.rated_at is None:
            v.update(rating_speed=rating[0], rating_quality=rating[1], rated_at=uow.now)
        return v

    return _move(
        ctx,
        PERM_DISPATCH,
        order_id,
        "visit",
        reason=note,
        values=vals,
        data={"satisfied": bool(satisfied), "rating": list(rating) if rating else None},
    )


# --- reads -----------------------------------------------------------------------------------------------


def get(ctx: Context, order_id: uuid.UUID) -> WorkOrderView:
    with ctx.read(PERM_VIEW) as s:
        row = ops.get_or_404(s, WorkOrder, order_id, "Work order")
        return _view(row, _type_code(s, row))


def progress(ctx: Context, order_id: uuid.UUID) -> Progress:
    """The owner's view of an order: where it is, and every step so far with who and when."""
    with ctx.read(PERM_VIEW) as s:
        row = ops.get_or_404(s, WorkOrder, order_id, "Work order")
        mats = s.execute(
            select(WorkOrderMaterial)
            .where(WorkOrderMaterial.work_order_id == row.id)
            .order_by(WorkOrderMaterial.added_at, WorkOrderMaterial.id)
        ).scalars()
        return Progress(
            _view(row, _type_code(s, row)),
            ops.history(s, OBJECT_TYPE, row.id),
            [
                MaterialView(m.name, m.quantity, m.unit_price_fen, m.amount_fen, m.added_by, m.added_at)
                for m in mats
            ],
        )


def list_orders(
    ctx: Context,
    *,
    community_id: uuid.UUID | None = None,
    status: str | None = None,
    worker: str | None = None,
    house_id: uuid.UUID | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[WorkOrderView]:
    """Newest first; filters combine."""
    limit = ops.whole(limit, "limit", minimum=1, maximum=LIST_LIMIT_MAX)
    offset = ops.whole(offset, "offset", maximum=10**9)
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(WorkOrder, RepairType.code)
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
            .limit(limit)
            .offset(offset)
        )
        if community_id is not None:
            q = q.where(WorkOrder.community_id == community_id)
        if status is not None:
            q = q.where(WorkOrder.status == status)
        if worker is not None:
            q = q.where(WorkOrder.worker == worker)
        if house_id is not None:
            q = q.where(WorkOrder.house_id == house_id)
        return [_view(row, code) for row, code in s.execute(q)]


def grab_pool(ctx: Context, community_id: uuid.UUID | None = None, limit: int = 200) -> list[WorkOrderView]:
    """Orders waiting to be grabbed, oldest first (the most urgent at the top)."""
    limit = ops.whole(limit, "limit", minimum=1, maximum=LIST_LIMIT_MAX)
    with ctx.read(PERM_WORK) as s:
        q = (
            select(WorkOrder, RepairType.code)
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .where(WorkOrder.status == GRABBABLE)
            .order_by(WorkOrder.respond_by, WorkOrder.id)
            .limit(limit)
        )
        if community_id is not None:
            q = q.where(WorkOrder.community_id == community_id)
        return [_view(row, code) for row, code in s.execute(q)]


def overdue(ctx: Context, *, community_id: uuid.UUID | None = None, limit: int = 500) -> list[OverdueView]:
    """Open orders past their SLA (the alert list): missed completion first, then missed response, most late first."""
    limit = ops.whole(limit, "limit", minimum=1, maximum=LIST_LIMIT_MAX)
    now = ctx.clock.now()
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(WorkOrder, RepairType.code)
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .where(
                or_(
                    and_(WorkOrder.status.in_(rules.AWAITING_COMPLETION), WorkOrder.complete_by < now),
                    and_(WorkOrder.status.in_(rules.AWAITING_RESPONSE), WorkOrder.respond_by < now),
                )
            )
            .order_by(WorkOrder.respond_by)
            .limit(limit)
        )
        if community_id is not None:
            q = q.where(WorkOrder.community_id == community_id)
        out = []
        for row, code in s.execute(q):
            kind = rules.overdue_kind(row.status, now, row.respond_by, row.complete_by)
            if kind is None:
                continue
            deadline = row.complete_by if kind == "completion" else row.respond_by
            out.append(OverdueView(_view(row, code), kind, rules.minutes_between(deadline, now)))
        out.sort(key=lambda o: (o.kind != "completion", -o.minutes_late, o.order.number))
        return out


def statistics(ctx: Context, *, community_id: uuid.UUID | None = None, start: date, end: date) -> RepairStats:
    """Repair volumes, response and completion times, SLA misses and ratings of orders reported in [start, end]
    (business dates)."""
    if end < start:
        raise ValidationError(N_("The period ends before it starts."), field="end")
    t0 = datetime.combine(start, time.min, BUSINESS_TZ)
    t1 = datetime.combine(end + timedelta(days=1), time.min, BUSINESS_TZ)
    now = ctx.clock.now()
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(
                WorkOrder.status,
                RepairType.code,
                WorkOrder.created_at,
                WorkOrder.accepted_at,
                WorkOrder.completed_at,
                WorkOrder.respond_by,
                WorkOrder.complete_by,
                WorkOrder.rating_speed,
                WorkOrder.rating_quality,
                WorkOrder.charge_fen,
            )
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .where(WorkOrder.created_at >= t0, WorkOrder.created_at < t1)
        )
        if community_id is not None:
            q = q.where(WorkOrder.community_id == community_id)
        rows = s.execute(q).all()
    by_status: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    responses, completions, speeds, qualities = [], [], [], []
    response_late = completion_late = paid_fen = 0
    for st, code, created, accepted, completed, respond_by, complete_by, speed, quality, charge in rows:
        by_status[st] += 1
        by_type[code] += 1
        if accepted is not None:
            responses.append(rules.minutes_between(created, accepted))
        if (accepted or now) > respond_by and st != CANCELLED:
            response_late += 1
        if completed is not None:
            completions.append(rules.minutes_between(created, completed))
        if (completed or now) > complete_by and st != CANCELLED:
            completion_late += 1
        if speed is not None:
            speeds.append(speed)
            qualities.append(quality)
        paid_fen += charge
    return RepairStats(
        orders=len(rows),
        by_status=dict(by_status),
        by_type=dict(by_type),
        responded=len(responses),
        avg_response_minutes=rules.average(responses),
        completed=len(completions),
        avg_completion_minutes=rules.average(completions),
        response_late=response_late,
        completion_late=completion_late,
        rated=len(speeds),
        avg_speed=rules.average(speeds),
        avg_quality=rules.average(qualities),
        paid_fen=paid_fen,
    )
