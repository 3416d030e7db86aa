"""Read services the printed property reports need and the business packages do not offer on their own:
per-house dues for batch notices (缴费通知单, 催缴通知单), prepaid balance movements (预收), deposits held
(押金), and per-group statistics of repairs, parking and activities.

Every function is one read under the business line's view permission, in a few set-based queries (a
notice batch of a whole community must not cost a query per house).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from core.clock import BUSINESS_TZ
from core.context import Context
from core.errors import NotFound, ValidationError
from core.i18n import N_
from core.property import rules
from core.property.models import (
    Bill,
    BillLine,
    Building,
    DepositDeduction,
    DepositRefund,
    FeeItem,
    House,
    HouseOccupant,
    LateFeeWaiver,
    Owner,
    PaymentAllocation,
    PrepaidAccount,
    PrepaidMove,
)
from core.property.services import PERM_VIEW

NOTICE_KINDS = ("bill", "arrears")
CHARGE_SOURCE = "activity"  # the source_type activities record their sign-up charges under
HOUSES_MAX = 50_000  # one batch of notices: a very large community, not the whole country


def _day_start(day: date) -> datetime:
    """The instant a business date begins (Beijing midnight)."""
    return datetime.combine(day, time.min, BUSINESS_TZ)


def _check_span(start: date, end: date) -> None:
    if end < start:
        raise ValidationError(N_("The period ends before it starts."), field="period")


# ---------------------------------------------------------------------------------------------------------
# Houses and payers in bulk


def payer_names(s: Session, house_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The payer of each house — as `services.payer_name`: the current owner with the largest share, else
    any current occupant — for many houses in one query."""
    ids = list(house_ids)
    out: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        rows = s.execute(
            select(HouseOccupant.house_id, Owner.name)
            .join(Owner, Owner.id == HouseOccupant.owner_id)
            .where(HouseOccupant.house_id.in_(chunk), HouseOccupant.move_out_date.is_(None))
            .order_by(
                HouseOccupant.house_id,
                (HouseOccupant.relation == "owner").desc(),
                HouseOccupant.share_bp.desc(),
                HouseOccupant.move_in_date,
            )
        ).all()
        for house_id, name in rows:
            out.setdefault(house_id, name)
    return out


# ---------------------------------------------------------------------------------------------------------
# Notices: what each house owes


@dataclass(frozen=True)
class DueLine:
    """One unsettled (or, on a bill notice, billed) charge of a house."""

    item_code: str
    item_name: str
    period: str
    quantity: str
    unit_price: str
    amount_fen: int
    settled_fen: int  # paid + waived
    due_date: date
    late_fee_fen: int
    current: bool  # billed in the notice's periods (else brought forward from earlier periods)

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.settled_fen


@dataclass(frozen=True)
class HouseDues:
    """Everything a notice for one house shows."""

    house_id: uuid.UUID
    house_code: str
    building: str
    payer: str
    building_area_dm2: int
    prepaid_fen: int
    lines: list[DueLine] = field(default_factory=list)

    @property
    def current_fen(self) -> int:
        """Still to pay of the charges billed in the notice's periods."""
        return sum(ln.outstanding_fen for ln in self.lines if ln.current)

    @property
    def earlier_fen(self) -> int:
        """Still to pay of earlier periods' charges (往期欠费)."""
        return sum(ln.outstanding_fen for ln in self.lines if not ln.current)

    @property
    def late_fee_fen(self) -> int:
        return sum(ln.late_fee_fen for ln in self.lines)

    @property
    def total_fen(self) -> int:
        """What the house should pay now: outstanding charges and late fees, less its prepaid balance."""
        return max(0, self.current_fen + self.earlier_fen + self.late_fee_fen - self.prepaid_fen)

    @property
    def oldest_due(self) -> date | None:
        owed = [ln.due_date for ln in self.lines if ln.outstanding_fen > 0]
        return min(owed) if owed else None


def house_dues(
    ctx: Context,
    kind: str,
    *,
    community_id: uuid.UUID,
    period_from: str,
    period_to: str,
    as_of: date,
    building_id: uuid.UUID | None = None,
    house_id: uuid.UUID | None = None,
) -> list[HouseDues]:
    """Per house, by house code: for a `bill` notice the charges billed for periods `period_from`…`period_to`
    (settled or not) plus every earlier charge still unsettled; for an `arrears` notice every charge past its
    due date and unsettled as of `as_of`. Late fees are computed to `as_of`, net of approved waivers.
    Houses with nothing to show are left out."""
    if kind not in NOTICE_KINDS:
        raise ValidationError(N_("A notice is a bill notice or an arrears notice."), field="kind")
    p_from, p_to = rules.Period.parse(period_from), rules.Period.parse(period_to)
    with ctx.read(PERM_VIEW) as s:
        unsettled = BillLine.amount_fen > BillLine.paid_fen + BillLine.waived_fen
        if kind == "bill":
            in_periods = and_(BillLine.period >= str(p_from), BillLine.period <= str(p_to))
            wanted = in_periods | (unsettled & (BillLine.period < str(p_from)))
        else:
            in_periods = None
            wanted = unsettled & (BillLine.due_date < as_of)
        q = (
            select(
                BillLine.id, BillLine.house_id, FeeItem.code, FeeItem.name, BillLine.period, BillLine.quantity,
                BillLine.unit_price, BillLine.amount_fen, BillLine.paid_fen + BillLine.waived_fen,
                BillLine.due_date, FeeItem.late_daily_rate, FeeItem.late_grace_days, FeeItem.late_cap_fen,
            )
            .join(Bill, Bill.id == BillLine.bill_id)
            .join(FeeItem, FeeItem.id == BillLine.fee_item_id)
            .where(Bill.community_id == community_id, wanted)
            .order_by(BillLine.house_id, BillLine.period, BillLine.due_date, FeeItem.code)
        )  # fmt: skip
        if building_id is not None:
            q = q.where(Bill.building_id == building_id)
        if house_id is not None:
            q = q.where(BillLine.house_id == house_id)
        rows = s.execute(q).all()
        house_ids = list(dict.fromkeys(r[1] for r in rows))
        if len(house_ids) > HOUSES_MAX:
            raise ValidationError(
                N_("A batch prints at most {max} houses; choose a building."), field="scope", max=HOUSES_MAX
            )
        waived = _late_fee_waivers(s, [r[0] for r in rows if r[7] > r[8]], as_of)
        houses = _houses(s, house_ids)
        prepaid = _prepaid(s, house_ids)
        names = payer_names(s, house_ids)
    by_house: dict[uuid.UUID, list[DueLine]] = defaultdict(list)
    for line_id, hid, code, name, period, qty, price, amount, settled, due, rate, grace, cap in rows:
        due = due if isinstance(due, date) else date.fromisoformat(str(due))
        fee = (
            rules.late_fee(amount - settled, due, as_of, Decimal(rate), grace, cap) if amount > settled else 0
        )
        fee = max(0, fee - waived.get(line_id, 0))
        current = in_periods is not None and str(p_from) <= period <= str(p_to)
        by_house[hid].append(
            DueLine(code, name, period, qty, price, int(amount), int(settled), due, fee, current)
        )
    out = []
    for hid in house_ids:
        code, building, area = houses[hid]
        out.append(
            HouseDues(hid, code, building, names.get(hid, ""), area, prepaid.get(hid, 0), by_house[hid])
        )
    out.sort(key=lambda h: _code_key(h.house_code))
    return out


def _code_key(code: str) -> tuple:
    """House codes in the order a clerk walks them: 2-1-101 before 10-1-101."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in code.split("-"))


def _late_fee_waivers(s: Session, line_ids: list[uuid.UUID], as_of: date) -> dict[uuid.UUID, int]:
    out: dict[uuid.UUID, int] = {}
    for start in range(0, len(line_ids), 1000):
        chunk = line_ids[start : start + 1000]
        for line_id, total in s.execute(
            select(LateFeeWaiver.bill_line_id, func.sum(LateFeeWaiver.amount_fen))
            .where(
                LateFeeWaiver.bill_line_id.in_(chunk),
                LateFeeWaiver.status == "approved",
                LateFeeWaiver.as_of <= as_of,
            )
            .group_by(LateFeeWaiver.bill_line_id)
        ):
            out[line_id] = int(total or 0)
    return out


def _houses(s: Session, house_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str, int]]:
    out = {}
    for start in range(0, len(house_ids), 1000):
        chunk = house_ids[start : start + 1000]
        for hid, code, number, area in s.execute(
            select(House.id, House.code, Building.number, House.building_area_dm2)
            .join(Building, Building.id == House.building_id)
            .where(House.id.in_(chunk))
        ):
            out[hid] = (code, number, area)
    return out


def _prepaid(s: Session, house_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    out = {}
    for start in range(0, len(house_ids), 1000):
        chunk = house_ids[start : start + 1000]
        for hid, balance in s.execute(
            select(PrepaidAccount.house_id, PrepaidAccount.balance_fen).where(
                PrepaidAccount.house_id.in_(chunk)
            )
        ):
            out[hid] = int(balance)
    return out


def building_by_number(ctx: Context, community_id: uuid.UUID, number: str) -> uuid.UUID:
    """The id of building `number` of a community."""
    with ctx.read(PERM_VIEW) as s:
        bid = s.execute(
            select(Building.id).where(Building.community_id == community_id, Building.number == number)
        ).scalar_one_or_none()
    if bid is None:
        raise NotFound(N_("There is no building {number} in this community."), number=number)
    return bid


# ---------------------------------------------------------------------------------------------------------
# Prepaid balances (预收) and deposits held (押金)


@dataclass(frozen=True)
class PrepaidRow:
    """A house's prepaid balance over a span: opening + deposits − used − reversed = closing."""

    house_code: str
    payer: str
    opening_fen: int
    deposited_fen: int
    used_fen: int  # deducted by bills (a positive amount)
    reversed_fen: int  # taken back by a voided receipt (a positive amount)
    closing_fen: int
    last_move: datetime | None


def prepaid_balances(
    ctx: Context, *, start: date, end: date, community_id: uuid.UUID | None = None
) -> list[PrepaidRow]:
    """Per house with a prepaid balance or movement in [start, end] (business dates), from the prepaid moves;
    the closing balances add up to account 2203 as of `end`."""
    _check_span(start, end)
    t0, t1 = _day_start(start), _day_start(end + timedelta(days=1))
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(
                PrepaidMove.house_id,
                func.sum(PrepaidMove.amount_fen).filter(PrepaidMove.at < t0),
                func.sum(PrepaidMove.amount_fen).filter(PrepaidMove.at >= t0, PrepaidMove.kind == "deposit"),
                func.sum(PrepaidMove.amount_fen).filter(PrepaidMove.at >= t0, PrepaidMove.kind == "deduct"),
                func.sum(PrepaidMove.amount_fen).filter(PrepaidMove.at >= t0, PrepaidMove.kind == "reverse"),
                func.max(PrepaidMove.at),
            )
            .where(PrepaidMove.at < t1)
            .group_by(PrepaidMove.house_id)
        )
        if community_id is not None:
            q = q.join(House, House.id == PrepaidMove.house_id).where(House.community_id == community_id)
        rows = s.execute(q).all()
        houses = _houses(s, [r[0] for r in rows])
        names = payer_names(s, [r[0] for r in rows])
    out = []
    for hid, before, deposited, used, reversed_, last in rows:
        opening, deposited = int(before or 0), int(deposited or 0)
        used, reversed_ = -int(used or 0), -int(reversed_ or 0)
        closing = opening + deposited - used - reversed_
        if not (opening or deposited or used or reversed_):
            continue
        out.append(
            PrepaidRow(houses[hid][0], names.get(hid, ""), opening, deposited, used, reversed_, closing, last)
        )
    out.sort(key=lambda r: _code_key(r.house_code))
    return out


@dataclass(frozen=True)
class DepositRow:
    """A deposit charged to a house (押金, 装修保证金): charged, received as of the date, refunded or kept
    (deducted, forfeited) by then, still to receive."""

    house_code: str
    payer: str
    item_code: str
    item_name: str
    bill_no: str
    charged_on: date
    amount_fen: int
    received_fen: int
    returned_fen: int = 0

    @property
    def unpaid_fen(self) -> int:
        return self.amount_fen - self.received_fen

    @property
    def held_fen(self) -> int:
        return self.received_fen - self.returned_fen


def deposits_held(ctx: Context, *, as_of: date, community_id: uuid.UUID | None = None) -> list[DepositRow]:
    """Deposit charges billed on or before `as_of` and what was received for them by the end of that day
    (payments less reversals) and refunded or kept by then; charged less refunded or kept adds up to the 2241
    accounts as of `as_of`."""
    t1 = _day_start(as_of + timedelta(days=1))
    received = (
        select(PaymentAllocation.bill_line_id, func.sum(PaymentAllocation.amount_fen).label("fen"))
        .where(PaymentAllocation.at < t1)
        .group_by(PaymentAllocation.bill_line_id)
        .subquery()
    )
    refunded = (
        select(DepositRefund.bill_line_id, func.sum(DepositRefund.amount_fen).label("fen"))
        .where(DepositRefund.status == "refunded", DepositRefund.paid_at < t1)
        .group_by(DepositRefund.bill_line_id)
        .subquery()
    )
    kept = (
        select(DepositDeduction.bill_line_id, func.sum(DepositDeduction.amount_fen).label("fen"))
        .where(DepositDeduction.created_at < t1)
        .group_by(DepositDeduction.bill_line_id)
        .subquery()
    )
    with ctx.read(PERM_VIEW) as s:
        q = (
            select(
                BillLine.house_id, FeeItem.code, FeeItem.name, Bill.bill_no, Bill.bill_date, BillLine.amount_fen,
                func.coalesce(received.c.fen, 0), func.coalesce(refunded.c.fen, 0) + func.coalesce(kept.c.fen, 0),
            )
            .join(Bill, Bill.id == BillLine.bill_id)
            .join(FeeItem, FeeItem.id == BillLine.fee_item_id)
            .outerjoin(received, received.c.bill_line_id == BillLine.id)
            .outerjoin(refunded, refunded.c.bill_line_id == BillLine.id)
            .outerjoin(kept, kept.c.bill_line_id == BillLine.id)
            .where(FeeItem.rule == "deposit", Bill.bill_date <= as_of)
        )  # fmt: skip
        if community_id is not None:
            q = q.where(Bill.community_id == community_id)
        rows = s.execute(q).all()
        houses = _houses(s, list({r[0] for r in rows}))
        names = payer_names(s, list({r[0] for r in rows}))
    out = [
        DepositRow(houses[hid][0], names.get(hid, ""), code, name, no,
                   on if isinstance(on, date) else date.fromisoformat(str(on)), int(amount), int(got), int(back))
        for hid, code, name, no, on, amount, got, back in rows
    ]  # fmt: skip
    out.sort(key=lambda r: (_code_key(r.house_code), r.charged_on, r.bill_no))
    return out


# ---------------------------------------------------------------------------------------------------------
# Repairs, parking, activities


@dataclass(frozen=True)
class RepairTypeStats:
    """Work orders of one repair type reported in a span: volumes, times (minutes), SLA misses, ratings."""

    code: str
    name: str
    orders: int
    completed: int
    cancelled: int
    open: int
    avg_response_minutes: Decimal | None
    avg_completion_minutes: Decimal | None
    response_late: int
    completion_late: int
    rated: int
    avg_speed: Decimal | None
    avg_quality: Decimal | None
    charged_fen: int


def repair_stats_by_type(
    ctx: Context, *, start: date, end: date, community_id: uuid.UUID | None = None
) -> list[RepairTypeStats]:
    """`repairs.statistics` broken down by repair type (same rules for times, lateness and averages)."""
    from core.property.repairs import rules as rrules
    from core.property.repairs.models import RepairType, WorkOrder
    from core.property.repairs.services import PERM_VIEW as REPAIRS_VIEW

    _check_span(start, end)
    t0, t1 = _day_start(start), _day_start(end + timedelta(days=1))
    now = ctx.clock.now()
    with ctx.read(REPAIRS_VIEW) as s:
        q = (
            select(
                RepairType.code, RepairType.name, WorkOrder.status, WorkOrder.created_at, WorkOrder.accepted_at,
                WorkOrder.completed_at, WorkOrder.respond_by, WorkOrder.complete_by, WorkOrder.rating_speed,
                WorkOrder.rating_quality, WorkOrder.charge_fen,
            )
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .where(WorkOrder.created_at >= t0, WorkOrder.created_at < t1)
        )  # fmt: skip
        if community_id is not None:
            q = q.where(WorkOrder.community_id == community_id)
        rows = s.execute(q).all()
    groups: dict[tuple[str, str], list] = defaultdict(list)
    for row in rows:
        groups[(row[0], row[1])].append(row[2:])
    out = []
    for (code, name), orders in sorted(groups.items()):
        responses, completions, speeds, qualities = [], [], [], []
        cancelled = response_late = completion_late = charged = 0
        for st, created, accepted, completed, respond_by, complete_by, speed, quality, charge in orders:
            if st == "cancelled":
                cancelled += 1
            if accepted is not None:
                responses.append(rrules.minutes_between(created, accepted))
            if (accepted or now) > respond_by and st != "cancelled":
                response_late += 1
            if completed is not None:
                completions.append(rrules.minutes_between(created, completed))
            if (completed or now) > complete_by and st != "cancelled":
                completion_late += 1
            if speed is not None:
                speeds.append(speed)
                qualities.append(quality)
            charged += charge
        done = len(completions)
        out.append(
            RepairTypeStats(
                code, name, len(orders), done, cancelled, len(orders) - done - cancelled,
                rrules.average(responses), rrules.average(completions), response_late, completion_late,
                len(speeds), rrules.average(speeds), rrules.average(qualities), charged,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class ParkingAreaUsage:
    """One car park: its spaces now, the rentals active at the end of the span, and temporary parking in it."""

    code: str
    name: str
    spaces: int
    free: int
    sold: int
    rented: int
    occupied: int
    rentals: int
    rental_monthly_fen: int
    entries: int
    exits: int
    temporary_fee_fen: int


def parking_usage(ctx: Context, community_id: uuid.UUID, *, start: date, end: date) -> list[ParkingAreaUsage]:
    """Per car park: spaces by status (now), rental contracts running on `end` and their monthly fees, and
    entries, exits and temporary-parking fees in [start, end] (fees counted on the exit day, as
    `parking.usage_statistics` does)."""
    from core.property.parking.models import ParkingArea, ParkingRecord, ParkingRental, ParkingSpace
    from core.property.parking.services import PERM_VIEW as PARKING_VIEW

    _check_span(start, end)
    t0, t1 = _day_start(start), _day_start(end + timedelta(days=1))
    with ctx.read(PARKING_VIEW) as s:
        areas = s.execute(
            select(ParkingArea.id, ParkingArea.code, ParkingArea.name)
            .where(ParkingArea.community_id == community_id)
            .order_by(ParkingArea.code)
        ).all()
        spaces: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
        for area_id, status, n in s.execute(
            select(ParkingSpace.area_id, ParkingSpace.status, func.count())
            .where(ParkingSpace.community_id == community_id)
            .group_by(ParkingSpace.area_id, ParkingSpace.status)
        ):
            spaces[area_id][status] = n
        rentals = {
            area_id: (n, int(fen or 0))
            for area_id, n, fen in s.execute(
                select(ParkingSpace.area_id, func.count(), func.sum(ParkingRental.monthly_fee_fen))
                .join(ParkingSpace, ParkingSpace.id == ParkingRental.space_id)
                .where(
                    ParkingRental.community_id == community_id,
                    ParkingRental.start_date <= end,
                    ParkingRental.end_date >= end,
                    (ParkingRental.terminated_on.is_(None)) | (ParkingRental.terminated_on >= end),
                )
                .group_by(ParkingSpace.area_id)
            )
        }
        entries = dict(
            s.execute(
                select(ParkingRecord.area_id, func.count())
                .where(
                    ParkingRecord.community_id == community_id,
                    ParkingRecord.entered_at >= t0,
                    ParkingRecord.entered_at < t1,
                )
                .group_by(ParkingRecord.area_id)
            ).all()
        )
        exits = {
            area_id: (n, int(fen or 0))
            for area_id, n, fen in s.execute(
                select(ParkingRecord.area_id, func.count(), func.sum(ParkingRecord.fee_fen))
                .where(
                    ParkingRecord.community_id == community_id,
                    ParkingRecord.exited_at >= t0,
                    ParkingRecord.exited_at < t1,
                )
                .group_by(ParkingRecord.area_id)
            )
        }
    out = []
    for area_id, code, name in areas:
        by = spaces.get(area_id, {})
        n_rent, rent_fen = rentals.get(area_id, (0, 0))
        n_exit, fee = exits.get(area_id, (0, 0))
        out.append(
            ParkingAreaUsage(
                code, name, sum(by.values()), by.get("free", 0), by.get("sold", 0), by.get("rented", 0),
                by.get("occupied", 0), n_rent, rent_fen, entries.get(area_id, 0), n_exit, fee,
            )
        )  # fmt: skip
    return out


@dataclass(frozen=True)
class ActivitySignups:
    """One activity: capacity, people confirmed / waiting / attended, sign-ups cancelled, and its fees."""

    title: str
    starts_at: datetime
    place: str
    status: str
    capacity: int
    confirmed_people: int
    waitlisted_people: int
    cancelled_signups: int
    attended_people: int
    fee_fen: int  # per person
    fee_expected_fen: int  # fee × confirmed people
    fee_collected_fen: int  # sign-up charges paid and not due for refund


def activity_signups(
    ctx: Context, *, start: date, end: date, community_id: uuid.UUID | None = None
) -> list[ActivitySignups]:
    """Activities starting in [start, end] (business dates) with their sign-up figures, by start time."""
    from core.property.activities.models import Activity, ActivitySignup
    from core.property.activities.services import PERM_VIEW as ACTIVITIES_VIEW
    from core.property.ops.models import CHARGE_PAID, PendingCharge

    _check_span(start, end)
    t0, t1 = _day_start(start), _day_start(end + timedelta(days=1))
    with ctx.read(ACTIVITIES_VIEW) as s:
        q = select(Activity).where(Activity.starts_at >= t0, Activity.starts_at < t1)
        if community_id is not None:
            q = q.where(Activity.community_id == community_id)
        activities = s.execute(q.order_by(Activity.starts_at, Activity.title)).scalars().all()
        ids = [a.id for a in activities]
        figures: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        collected: dict[uuid.UUID, int] = {}
        if ids:
            for aid, status, attended, people, n in s.execute(
                select(
                    ActivitySignup.activity_id, ActivitySignup.status, ActivitySignup.attended,
                    func.sum(ActivitySignup.party_size), func.count(),
                )
                .where(ActivitySignup.activity_id.in_(ids))
                .group_by(ActivitySignup.activity_id, ActivitySignup.status, ActivitySignup.attended)
            ):  # fmt: skip
                f = figures[aid]
                f[f"{status}_people"] += int(people or 0)
                f[f"{status}_signups"] += n
                if status == "confirmed" and attended:
                    f["attended_people"] += int(people or 0)
            collected = {
                aid: int(fen or 0)
                for aid, fen in s.execute(
                    select(ActivitySignup.activity_id, func.sum(PendingCharge.amount_fen))
                    .join(PendingCharge, PendingCharge.source_id == ActivitySignup.id)
                    .where(
                        ActivitySignup.activity_id.in_(ids),
                        PendingCharge.source_type == CHARGE_SOURCE,
                        PendingCharge.status == CHARGE_PAID,
                    )
                    .group_by(ActivitySignup.activity_id)
                )
            }
    out = []
    for a in activities:
        f = figures[a.id]
        out.append(
            ActivitySignups(
                a.title, a.starts_at, a.place, a.status, a.capacity, f["confirmed_people"],
                f["waitlisted_people"], f["cancelled_signups"], f["attended_people"], a.fee_fen,
                a.fee_fen * f["confirmed_people"], collected.get(a.id, 0),
            )
        )  # fmt: skip
    return out
