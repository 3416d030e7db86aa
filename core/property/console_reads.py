"""The back office's paged lists of smart property, registered with core.listing: base data, fees, meter readings,
parking, access control and security, notices, complaints, activities and the work-order board; and the
detail reads the back office shows beside them (an owner's personal data masked unless the actor may see it).

Lists name a community by its code (a filter every list has), so a clerk types "C1", never an id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _
from core.listing import (
    Column,
    Criteria,
    Filter,
    Source,
    contains,
    date_range,
    instant_range,
    prefix,
    register,
)
from core.money import format_fen
from core.property import services as ps
from core.property.access.models import AccessCredential, AccessDevice, AccessRecord, Alarm, Camera
from core.property.activities.models import Activity, ActivitySignup
from core.property.complaints.models import Complaint, Suggestion
from core.property.models import (
    Bill,
    BillLine,
    Building,
    Community,
    Discount,
    FeeItem,
    House,
    HouseOccupant,
    LateFeeWaiver,
    MeterReading,
    Owner,
    ReminderSent,
)
from core.property.notices.models import Notice
from core.property.ops import services as ops
from core.property.parking.models import ParkingArea, ParkingRental, ParkingSpace, Vehicle
from core.property.repairs.models import RepairType, WorkOrder

COMMUNITIES = "property.communities"
BUILDINGS = "property.buildings"
HOUSES = "property.houses"
OWNERS = "property.owners"
FEE_ITEMS = "property.fee_items"
LATE_FEE_RULES = "property.late_fee_rules"
DISCOUNTS = "property.discounts"
WAIVERS = "property.late_fee_waivers"
METER_READINGS = "property.meter_readings"
SPACES = "property.parking_spaces"
VEHICLES = "property.vehicles"
RENTALS = "property.rentals"
DEVICES = "property.access_devices"
CREDENTIALS = "property.credentials"
ACCESS_RECORDS = "property.access_records"
CAMERAS = "property.cameras"
ALARMS = "property.alarms"
NOTICES = "property.notices"
COMPLAINTS = "property.complaints"
SUGGESTIONS = "property.suggestions"
ACTIVITIES = "property.activities"
SIGNUPS = "property.signups"
WORK_ORDERS = "property.work_orders"
REMINDERS_SENT = "property.reminders_sent"

PERM_VIEW = ps.PERM_VIEW
OWNER_NAMES_MAX = 3  # a house's owners shown in the list; the detail shows them all

Labels = tuple[tuple[str, str], ...]

HOUSE_STATUS: Labels = (
    ("unsold", N_("Unsold")),
    ("vacant", N_("Vacant")),
    ("occupied", N_("Moved in")),
    ("renovating", N_("Renovating")),
)
OWNER_KIND: Labels = (("individual", N_("Individual")), ("company", N_("Company")))
RELATION: Labels = (("owner", N_("Owner")), ("family", N_("Family")), ("tenant", N_("Tenant")))
FEE_RULE: Labels = (
    ("fixed", N_("Fixed amount")),
    ("building_area", N_("Building area")),
    ("inner_area", N_("Inner area")),
    ("meter", N_("Meter reading")),
    ("usage", N_("Usage")),
    ("one_off", N_("One-off")),
    ("deposit", N_("Deposit")),
)
FEE_CYCLE: Labels = (
    ("monthly", N_("Monthly")),
    ("quarterly", N_("Quarterly")),
    ("half_yearly", N_("Half-yearly")),
    ("yearly", N_("Yearly")),
    ("once", N_("Once")),
)
BILLING_MODE: Labels = (("advance", N_("In advance")), ("arrears", N_("In arrears")))
METER_KIND: Labels = (("water", N_("Water")), ("electricity", N_("Electricity")), ("gas", N_("Gas")))
DISCOUNT_KIND: Labels = (
    ("percentage", N_("Percentage")),
    ("reduction", N_("Fixed reduction")),
    ("free_months", N_("Free months")),
    ("vacancy", N_("Vacant-house rate")),
    ("prepay_year", N_("Prepay a year")),
)
DECISION: Labels = (("pending", N_("Pending")), ("approved", N_("Approved")), ("rejected", N_("Rejected")))
SPACE_KIND: Labels = (("fixed", N_("Fixed")), ("temporary", N_("Temporary")))
SPACE_STATUS: Labels = (
    ("free", N_("Free")),
    ("sold", N_("Sold")),
    ("rented", N_("Rented")),
    ("occupied", N_("Occupied")),
)
VEHICLE_KIND: Labels = (("fuel", N_("Fuel")), ("new_energy", N_("New energy")))
RENTAL_STATUS: Labels = (("active", N_("In force")), ("ended", N_("Ended")), ("terminated", N_("Terminated")))
DEVICE_KIND: Labels = (("gate", N_("Gate")), ("door", N_("Door")), ("barrier", N_("Barrier")))
CREDENTIAL_KIND: Labels = (("card", N_("Card")), ("face", N_("Face")))
CREDENTIAL_STATUS: Labels = (("active", N_("Valid")), ("revoked", N_("Revoked")))
DIRECTION: Labels = (("in", N_("In")), ("out", N_("Out")))
METHOD: Labels = (
    ("card", N_("Card")),
    ("face", N_("Face")),
    ("password", N_("Password")),
    ("qr", N_("QR code")),
    ("remote", N_("Remote")),
)
ALARM_KIND: Labels = (
    ("intrusion", N_("Intrusion")),
    ("fire", N_("Fire")),
    ("device_offline", N_("Device offline")),
    ("tamper", N_("Tamper")),
    ("smoke", N_("Smoke")),
    ("other", N_("Other")),
)
ALARM_STATUS: Labels = (
    ("received", N_("Awaiting acknowledgement")),
    ("acknowledged", N_("Acknowledged")),
    ("dispatched", N_("Dispatched")),
    ("closed", N_("Closed out")),
)
NOTICE_KIND: Labels = (("notice", N_("Notice")), ("announcement", N_("Announcement")))
NOTICE_CATEGORY: Labels = (
    ("outage", N_("Outage")),
    ("activity", N_("Activity")),
    ("maintenance", N_("Maintenance")),
    ("safety", N_("Safety")),
    ("regulation", N_("Regulation")),
    ("policy", N_("Policy")),
    ("other", N_("Other")),
)
NOTICE_SCOPE: Labels = (
    ("community", N_("Community")),
    ("buildings", N_("Buildings")),
    ("houses", N_("Chosen houses")),
)
NOTICE_STATUS: Labels = (
    ("draft", N_("Draft")),
    ("published", N_("Published")),
    ("withdrawn", N_("Withdrawn")),
)
COMPLAINT_CATEGORY: Labels = (
    ("service", N_("Service")),
    ("environment", N_("Environment")),
    ("security", N_("Security")),
    ("noise", N_("Noise")),
    ("facility", N_("Facility")),
    ("fee", N_("Fees and charges")),
    ("neighbour", N_("Neighbour")),
    ("other", N_("Other")),
)
COMPLAINT_STATUS: Labels = (
    ("submitted", N_("Submitted")),
    ("accepted", N_("Accepted")),
    ("assigned", N_("Assigned")),
    ("handling", N_("Handling")),
    ("replied", N_("Replied")),
    ("closed", N_("Closed out")),
    ("cancelled", N_("Cancelled")),
)
SUGGESTION_STATUS: Labels = (
    ("submitted", N_("Submitted")),
    ("evaluating", N_("Evaluating")),
    ("adopted", N_("Adopted")),
    ("declined", N_("Declined")),
)
ACTIVITY_STATUS: Labels = (
    ("planned", N_("Planned")),
    ("published", N_("Published")),
    ("finished", N_("Finished")),
    ("cancelled", N_("Cancelled")),
)
SIGNUP_STATUS: Labels = (
    ("confirmed", N_("Confirmed")),
    ("waitlisted", N_("Waiting list")),
    ("cancelled", N_("Cancelled")),
)
WORK_ORDER_STATUS: Labels = (
    ("pending", N_("To dispatch")),
    ("grabbable", N_("In grab pool")),
    ("dispatched", N_("Dispatched")),
    ("accepted", N_("Accepted")),
    ("in_progress", N_("In progress")),
    ("paused", N_("Paused")),
    ("completed", N_("Completed")),
    ("rated", N_("Rated")),
    ("closed", N_("Closed out")),
    ("cancelled", N_("Cancelled")),
)
# The board's default view: orders someone still has to act on.
WORK_ORDER_OPEN = ("pending", "grabbable", "dispatched", "accepted", "in_progress", "paused")
WORK_ORDER_VIEW: Labels = (("open", N_("Open orders")), *WORK_ORDER_STATUS)


REMINDER_CHANNEL: Labels = (
    ("app_push", N_("App push")),
    ("sms", N_("SMS")),
    ("printed", N_("Printed notice")),
)
REMINDER_KIND: Labels = (
    ("before_due", N_("Before the due date")),
    ("after_due", N_("After the due date")),
    ("every", N_("Every few days")),
)


# ---------------------------------------------------------------------------------------------- helpers


def natural_key(code: str) -> tuple:
    """Sort key that orders building and house codes as people do: "1, 2, 10", not "1, 10, 2"."""
    parts: list[tuple[int, int | str]] = []
    digits = ""
    text = ""
    for ch in code:
        if ch.isdigit():
            if text:
                parts.append((1, text))
                text = ""
            digits += ch
        else:
            if digits:
                parts.append((0, int(digits)))
                digits = ""
            text += ch
    if digits:
        parts.append((0, int(digits)))
    if text:
        parts.append((1, text))
    return tuple(parts)


def natural(expr: ColumnElement) -> list[ColumnElement]:
    """ORDER BY expressions that put "2" before "10" for codes of digits (shorter first, then by text)."""
    return [func.length(expr), expr]


def _community(stmt: Select, column: ColumnElement, c: Criteria) -> Select:
    """Join the community of `column` and apply the "community" filter (code prefix)."""
    stmt = stmt.join(Community, Community.id == column)
    if "community" in c:
        stmt = stmt.where(prefix(Community.code, c["community"].upper()))
    return stmt


def _uuid(value: str, field: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ValidationError(N_("{field}: not a valid id."), field=field) from None


def _m2(dm2: int | None) -> str | None:
    return None if dm2 is None else f"{dm2 // 100}.{dm2 % 100:02d}"


def _milli(value: int | None) -> str | None:
    if value is None:
        return None
    whole, frac = divmod(value, 1000)
    return f"{whole}.{frac:03d}".rstrip("0").rstrip(".") if frac else str(whole)


def _map_columns(*changes: tuple[int, Callable[[Any], Any]]) -> Callable[[Session, list[tuple]], list[tuple]]:
    """An `after` hook that formats some columns of each row (areas in m², readings in units)."""

    def after(_s: Session, rows: list[tuple]) -> list[tuple]:
        out = []
        for row in rows:
            values = list(row)
            for index, fn in changes:
                values[index] = fn(values[index])
            out.append(tuple(values))
        return out

    return after


COMMUNITY_FILTER = Filter("community", N_("Community code"))


def _count(model: type, column: ColumnElement, key: ColumnElement) -> ColumnElement:
    return (
        select(func.count()).select_from(model).where(column == key).correlate_except(model).scalar_subquery()
    )


# ---------------------------------------------------------------------------------------------- base data


def _communities() -> Source:
    buildings = _count(Building, Building.community_id, Community.id)
    houses = _count(House, House.community_id, Community.id)

    def build(c: Criteria) -> Select:
        stmt = select(
            Community.code,
            Community.name,
            Community.address,
            Community.area_dm2,
            Community.household_count,
            buildings,
            houses,
            Community.property_company,
            Community.id,
        )
        if "community" in c:
            stmt = stmt.where(prefix(Community.code, c["community"].upper()))
        if "name" in c:
            stmt = stmt.where(contains(Community.name, c["name"]))
        return stmt

    return Source(
        code=COMMUNITIES,
        title=N_("Communities"),
        permission=PERM_VIEW,
        columns=(
            Column("code", N_("Code"), "text", 8),
            Column("name", N_("Community name"), "text", 16),
            Column("address", N_("Address"), "text", 20),
            Column("area", N_("Area (m²)"), "text", 10),
            Column("households", N_("Households"), "int", 6),
            Column("buildings", N_("Buildings"), "int", 5),
            Column("houses", N_("Houses"), "int", 6),
            Column("company", N_("Property company"), "text", 14),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER, Filter("name", N_("Community name"), "contains")),
        build=build,
        sorts={"code": [Community.code], "name": [Community.name], "houses": [houses]},
        default_sort="code",
        default_descending=False,
        tiebreak=[Community.id],
        after=_map_columns((3, _m2)),
    )


def _buildings() -> Source:
    houses = _count(House, House.building_id, Building.id)

    def build(c: Criteria) -> Select:
        stmt = _community(
            select(Community.code, Building.number, Building.name, Building.floors, houses, Building.id),
            Building.community_id,
            c,
        )
        if "building" in c:
            stmt = stmt.where(Building.number == c["building"])
        return stmt

    return Source(
        code=BUILDINGS,
        title=N_("Buildings"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 8),
            Column("number", N_("Building"), "text", 8),
            Column("name", N_("Building name"), "text", 16),
            Column("floors", N_("Floors"), "int", 6),
            Column("houses", N_("Houses"), "int", 6),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER, Filter("building", N_("Building"), "exact")),
        build=build,
        sorts={"number": [Community.code, *natural(Building.number)], "houses": [houses]},
        default_sort="number",
        default_descending=False,
        tiebreak=[Building.id],
    )


def _house_owners(s: Session, rows: list[tuple]) -> list[tuple]:
    """The page's houses with their current owners' names (at most OWNER_NAMES_MAX each) and areas in m²."""
    ids = [uuid.UUID(r[-1]) for r in rows]
    names: dict[str, list[str]] = {str(i): [] for i in ids}
    for house_id, name in s.execute(
        select(HouseOccupant.house_id, Owner.name)
        .join(Owner, Owner.id == HouseOccupant.owner_id)
        .where(
            HouseOccupant.house_id.in_(ids),
            HouseOccupant.relation == "owner",
            HouseOccupant.move_out_date.is_(None),
        )
        .order_by(HouseOccupant.house_id, HouseOccupant.share_bp.desc(), Owner.name)
    ):
        held = names[str(house_id)]
        if len(held) < OWNER_NAMES_MAX:
            held.append(name)
    out = []
    for r in rows:
        values = list(r)
        values[4], values[5] = _m2(values[4]), _m2(values[5])
        values[9] = "、".join(names[r[-1]])
        out.append(tuple(values))
    return out


def _houses() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                House.code,
                Community.code,
                Building.number,
                House.floor,
                House.building_area_dm2,
                House.inner_area_dm2,
                House.layout,
                House.use,
                House.status,
                House.id,  # replaced by the owners' names
                House.charge_start_on,
                House.id,
            ).join(Building, Building.id == House.building_id),
            House.community_id,
            c,
        )
        if "building" in c:
            stmt = stmt.where(Building.number == c["building"])
        if "code" in c:
            stmt = stmt.where(prefix(House.code, c["code"]))
        if "status" in c:
            stmt = stmt.where(House.status == c["status"])
        return stmt

    return Source(
        code=HOUSES,
        title=N_("House list"),
        permission=PERM_VIEW,
        columns=(
            Column("code", N_("House"), "text", 10),
            Column("community", N_("Community"), "text", 6),
            Column("building", N_("Building"), "text", 4),
            Column("floor", N_("Floor"), "int", 4),
            Column("building_area", N_("Building area (m²)"), "text", 8),
            Column("inner_area", N_("Inner area (m²)"), "text", 8),
            Column("layout", N_("Layout"), "text", 8),
            Column("use", N_("Use"), "text", 6),
            Column("status", N_("Status"), "text", 6, labels=HOUSE_STATUS),
            Column("owners", N_("Owners"), "text", 14),
            Column("charge_start_on", N_("Charged from"), "date", 10),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("building", N_("Building"), "exact"),
            Filter("code", N_("House")),
            Filter("status", N_("Status"), "choice", choices=HOUSE_STATUS),
        ),
        build=build,
        # By code the first page comes from the index at any size; by building is the natural order
        # ("2" before "10"), which sorts the whole (filtered) list first.
        sorts={
            "code": [House.code],
            "building": [Community.code, *natural(Building.number), *natural(House.code)],
            "floor": [House.floor],
            "building_area": [House.building_area_dm2],
            "status": [House.status],
            "charge_start_on": [House.charge_start_on],
        },
        default_sort="code",
        default_descending=False,
        tiebreak=[House.id],
        after=_house_owners,
    )


def _owners() -> Source:
    houses = (
        select(func.count())
        .select_from(HouseOccupant)
        .where(HouseOccupant.owner_id == Owner.id, HouseOccupant.move_out_date.is_(None))
        .correlate_except(HouseOccupant)
        .scalar_subquery()
    )

    def build(c: Criteria) -> Select:
        # Personal data (ID number, phone) is not in the list: the detail shows it, masked unless pii.reveal.
        stmt = select(Owner.name, Owner.kind, Owner.uscc, houses, Owner.created_at, Owner.id)
        if "name" in c:
            stmt = stmt.where(prefix(Owner.name, c["name"]))
        if "kind" in c:
            stmt = stmt.where(Owner.kind == c["kind"])
        if "house" in c:
            lives = select(HouseOccupant.owner_id).join(House, House.id == HouseOccupant.house_id)
            stmt = stmt.where(Owner.id.in_(lives.where(prefix(House.code, c["house"]))))
        return stmt

    return Source(
        code=OWNERS,
        title=N_("Owners"),
        permission=PERM_VIEW,
        columns=(
            Column("name", N_("Owner name"), "text", 14),
            Column("kind", N_("Kind"), "text", 6, labels=OWNER_KIND),
            Column("uscc", N_("Credit code"), "text", 18),
            Column("houses", N_("Houses"), "int", 6),
            Column("created_at", N_("Registered"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            Filter("name", N_("Owner name")),
            Filter("kind", N_("Kind"), "choice", choices=OWNER_KIND),
            Filter("house", N_("House")),
        ),
        build=build,
        sorts={"name": [Owner.name], "created_at": [Owner.created_at], "houses": [houses]},
        default_sort="name",
        default_descending=False,
        tiebreak=[Owner.id],
    )


# ---------------------------------------------------------------------------------------------- fees


def _fee_items() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                FeeItem.code,
                FeeItem.name,
                FeeItem.rule,
                FeeItem.cycle,
                FeeItem.billing_mode,
                FeeItem.unit_price,
                FeeItem.amount_fen,
                FeeItem.meter_kind,
                FeeItem.due_days,
                FeeItem.prorate,
                FeeItem.active,
                FeeItem.id,
            ),
            FeeItem.community_id,
            c,
        )
        if "rule" in c:
            stmt = stmt.where(FeeItem.rule == c["rule"])
        if "code" in c:
            stmt = stmt.where(prefix(FeeItem.code, c["code"].upper()))
        return stmt

    return Source(
        code=FEE_ITEMS,
        title=N_("Fee items"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("code", N_("Code"), "text", 8),
            Column("name", N_("Item name"), "text", 10),
            Column("rule", N_("Rule"), "text", 8, labels=FEE_RULE),
            Column("cycle", N_("Cycle"), "text", 6, labels=FEE_CYCLE),
            Column("mode", N_("Billed"), "text", 6, labels=BILLING_MODE),
            Column("unit_price", N_("Unit price"), "text", 8),
            Column("amount", N_("Amount"), "fen", 10),
            Column("meter_kind", N_("Meter"), "text", 6, labels=METER_KIND),
            Column("due_days", N_("Due days"), "int", 5),
            Column("prorate", N_("Prorated"), "bool", 4),
            Column("active", N_("Active"), "bool", 4),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("code", N_("Code")),
            Filter("rule", N_("Rule"), "choice", FEE_RULE),
        ),
        build=build,
        sorts={"code": [Community.code, FeeItem.code], "name": [FeeItem.name], "rule": [FeeItem.rule]},
        default_sort="code",
        default_descending=False,
        tiebreak=[FeeItem.id],
    )


def _late_fee_rules() -> Source:
    def build(c: Criteria) -> Select:
        return _community(
            select(
                Community.code,
                FeeItem.code,
                FeeItem.name,
                FeeItem.due_days,
                FeeItem.late_grace_days,
                FeeItem.late_daily_rate,
                FeeItem.late_cap_fen,
                FeeItem.id,
            ),
            FeeItem.community_id,
            c,
        )

    return Source(
        code=LATE_FEE_RULES,
        title=N_("Late-fee rules"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("code", N_("Fee item"), "text", 8),
            Column("name", N_("Item name"), "text", 10),
            Column("due_days", N_("Due days"), "int", 5),
            Column("grace_days", N_("Grace days"), "int", 5),
            Column("daily_rate", N_("Daily rate"), "text", 10),
            Column("cap", N_("Cap"), "fen", 10),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER,),
        build=build,
        sorts={"code": [Community.code, FeeItem.code]},
        default_sort="code",
        default_descending=False,
        tiebreak=[FeeItem.id],
    )


def _discounts() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                House.code,
                FeeItem.code,
                Discount.kind,
                Discount.rate_off,
                Discount.reduction_fen,
                Discount.period_from,
                Discount.period_to,
                Discount.status,
                Discount.created_by,
                Discount.reason,
                Discount.created_at,
                Discount.id,
            )
            .join(FeeItem, FeeItem.id == Discount.fee_item_id)
            .outerjoin(House, House.id == Discount.house_id),
            Discount.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(Discount.status == c["status"])
        if "kind" in c:
            stmt = stmt.where(Discount.kind == c["kind"])
        return stmt

    return Source(
        code=DISCOUNTS,
        title=N_("Discounts"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("item", N_("Fee item"), "text", 6),
            Column("kind", N_("Kind"), "text", 8, labels=DISCOUNT_KIND),
            Column("rate_off", N_("Rate off"), "text", 6),
            Column("reduction", N_("Reduction"), "fen", 8),
            Column("from", N_("From period"), "text", 7),
            Column("to", N_("To period"), "text", 7),
            Column("status", N_("Status"), "text", 6, labels=DECISION),
            Column("by", N_("By"), "text", 8),
            Column("reason", N_("Reason"), "text", 16),
            Column("created_at", N_("Requested"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("status", N_("Status"), "choice", DECISION),
            Filter("kind", N_("Kind"), "choice", DISCOUNT_KIND),
        ),
        build=build,
        sorts={"created_at": [Discount.created_at], "from": [Discount.period_from]},
        default_sort="created_at",
        default_descending=True,
        tiebreak=[Discount.id],
    )


def _waivers() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                House.code,
                FeeItem.code,
                BillLine.period,
                LateFeeWaiver.amount_fen,
                LateFeeWaiver.as_of,
                LateFeeWaiver.status,
                LateFeeWaiver.created_by,
                LateFeeWaiver.reason,
                LateFeeWaiver.created_at,
                LateFeeWaiver.id,
            )
            .select_from(LateFeeWaiver)
            .join(BillLine, BillLine.id == LateFeeWaiver.bill_line_id)
            .join(Bill, Bill.id == BillLine.bill_id)
            .join(House, House.id == BillLine.house_id)
            .join(FeeItem, FeeItem.id == BillLine.fee_item_id),
            Bill.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(LateFeeWaiver.status == c["status"])
        return stmt

    return Source(
        code=WAIVERS,
        title=N_("Late-fee waivers"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("item", N_("Fee item"), "text", 6),
            Column("period", N_("Period"), "text", 7),
            Column("amount", N_("Amount"), "fen", 10),
            Column("as_of", N_("As of"), "date", 10),
            Column("status", N_("Status"), "text", 6, labels=DECISION),
            Column("by", N_("By"), "text", 8),
            Column("reason", N_("Reason"), "text", 16),
            Column("created_at", N_("Requested"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER, Filter("status", N_("Status"), "choice", DECISION)),
        build=build,
        sorts={"created_at": [LateFeeWaiver.created_at], "amount": [LateFeeWaiver.amount_fen]},
        default_sort="created_at",
        default_descending=True,
        tiebreak=[LateFeeWaiver.id],
    )


def _meter_readings() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                House.code,
                MeterReading.meter_kind,
                MeterReading.period,
                MeterReading.previous_milli,
                MeterReading.current_milli,
                MeterReading.current_milli - MeterReading.previous_milli,
                MeterReading.read_on,
                MeterReading.id,
            ).join(House, House.id == MeterReading.house_id),
            House.community_id,
            c,
        )
        if "period" in c:
            stmt = stmt.where(MeterReading.period == c["period"])
        if "house" in c:
            stmt = stmt.where(prefix(House.code, c["house"]))
        if "kind" in c:
            stmt = stmt.where(MeterReading.meter_kind == c["kind"])
        return stmt

    return Source(
        code=METER_READINGS,
        title=N_("Meter readings"),
        permission=PERM_VIEW,
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("kind", N_("Meter"), "text", 6, labels=METER_KIND),
            Column("period", N_("Period"), "text", 7),
            Column("previous", N_("Previous"), "text", 10),
            Column("current", N_("Current"), "text", 10),
            Column("usage", N_("Usage"), "text", 8),
            Column("read_on", N_("Read on"), "date", 10),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("period", N_("Period (YYYY-MM)"), "exact"),
            Filter("house", N_("House")),
            Filter("kind", N_("Meter"), "choice", METER_KIND),
        ),
        build=build,
        sorts={
            "period": [MeterReading.period],
            "house": [House.code],
            "usage": [MeterReading.current_milli - MeterReading.previous_milli],
        },
        default_sort="period",
        default_descending=True,
        tiebreak=[MeterReading.id],
        after=_map_columns((4, _milli), (5, _milli), (6, _milli)),
    )


# ---------------------------------------------------------------------------------------------- parking


def _spaces() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                ParkingArea.code,
                ParkingSpace.number,
                ParkingSpace.location,
                ParkingSpace.kind,
                ParkingSpace.status,
                House.code,
                ParkingSpace.retired_at,
                ParkingSpace.id,
            )
            .join(ParkingArea, ParkingArea.id == ParkingSpace.area_id)
            .outerjoin(House, House.id == ParkingSpace.house_id),
            ParkingSpace.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(ParkingSpace.status == c["status"])
        if "number" in c:
            stmt = stmt.where(prefix(ParkingSpace.number, c["number"]))
        return stmt

    return Source(
        code=SPACES,
        title=N_("Parking spaces"),
        permission="property.parking.view",
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("area", N_("Car park"), "text", 6),
            Column("number", N_("Space"), "text", 8),
            Column("location", N_("Location"), "text", 14),
            Column("kind", N_("Kind"), "text", 6, labels=SPACE_KIND),
            Column("status", N_("Status"), "text", 6, labels=SPACE_STATUS),
            Column("house", N_("House"), "text", 10),
            Column("retired_at", N_("Retired"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("number", N_("Space")),
            Filter("status", N_("Status"), "choice", SPACE_STATUS),
        ),
        build=build,
        sorts={
            "number": [Community.code, ParkingArea.code, *natural(ParkingSpace.number)],
            "status": [ParkingSpace.status],
        },
        default_sort="number",
        default_descending=False,
        tiebreak=[ParkingSpace.id],
    )


def _vehicles() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Vehicle.plate,
                Community.code,
                House.code,
                Owner.name,
                Vehicle.kind,
                Vehicle.brand,
                Vehicle.color,
                Vehicle.active,
                Vehicle.created_at,
                Vehicle.id,
            )
            .join(Owner, Owner.id == Vehicle.owner_id)
            .outerjoin(House, House.id == Vehicle.house_id),
            Vehicle.community_id,
            c,
        )
        if "plate" in c:
            stmt = stmt.where(prefix(Vehicle.plate, c["plate"].upper()))
        return stmt

    return Source(
        code=VEHICLES,
        title=N_("Vehicles"),
        permission="property.parking.view",
        columns=(
            Column("plate", N_("Plate"), "text", 9),
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("owner", N_("Owner"), "text", 10),
            Column("kind", N_("Kind"), "text", 6, labels=VEHICLE_KIND),
            Column("brand", N_("Brand"), "text", 8),
            Column("color", N_("Colour"), "text", 4),
            Column("active", N_("Active"), "bool", 4),
            Column("created_at", N_("Registered"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER, Filter("plate", N_("Plate"))),
        build=build,
        sorts={"plate": [Vehicle.plate], "created_at": [Vehicle.created_at]},
        default_sort="plate",
        default_descending=False,
        tiebreak=[Vehicle.id],
    )


def _rentals() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                ParkingRental.number,
                Community.code,
                ParkingSpace.number,
                House.code,
                ParkingRental.start_date,
                ParkingRental.end_date,
                ParkingRental.monthly_fee_fen,
                ParkingRental.status,
                ParkingRental.terminated_on,
                ParkingRental.id,
            )
            .join(ParkingSpace, ParkingSpace.id == ParkingRental.space_id)
            .join(House, House.id == ParkingRental.house_id),
            ParkingRental.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(ParkingRental.status == c["status"])
        if "house" in c:
            stmt = stmt.where(prefix(House.code, c["house"]))
        return stmt

    return Source(
        code=RENTALS,
        title=N_("Rental contracts"),
        permission="property.parking.view",
        columns=(
            Column("number", N_("Contract no."), "text", 18),
            Column("community", N_("Community"), "text", 6),
            Column("space", N_("Space"), "text", 8),
            Column("house", N_("House"), "text", 10),
            Column("start", N_("Start"), "date", 10),
            Column("end", N_("End"), "date", 10),
            Column("fee", N_("Monthly fee"), "fen", 9),
            Column("status", N_("Status"), "text", 6, labels=RENTAL_STATUS),
            Column("terminated_on", N_("Terminated"), "date", 10),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("house", N_("House")),
            Filter("status", N_("Status"), "choice", RENTAL_STATUS),
        ),
        build=build,
        sorts={"number": [ParkingRental.number], "end": [ParkingRental.end_date]},
        default_sort="number",
        default_descending=True,
        tiebreak=[ParkingRental.id],
    )


# ---------------------------------------------------------------------------------------------- access, security


def _devices() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Community.code,
                AccessDevice.code,
                AccessDevice.name,
                AccessDevice.kind,
                AccessDevice.location,
                AccessDevice.online,
                AccessDevice.last_heartbeat_at,
                AccessDevice.retired_at,
                AccessDevice.id,
            ),
            AccessDevice.community_id,
            c,
        )
        if "online" in c:
            stmt = stmt.where(AccessDevice.online.is_(c["online"] == "yes"))
        return stmt

    return Source(
        code=DEVICES,
        title=N_("Access devices"),
        permission="property.access.view",
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("code", N_("Code"), "text", 8),
            Column("name", N_("Device name"), "text", 12),
            Column("kind", N_("Kind"), "text", 6, labels=DEVICE_KIND),
            Column("location", N_("Location"), "text", 14),
            Column("online", N_("Online"), "bool", 4),
            Column("heartbeat", N_("Last heartbeat"), "datetime", 16),
            Column("retired_at", N_("Retired"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("online", N_("Online"), "choice", (("yes", N_("yes")), ("no", N_("no")))),
        ),
        build=build,
        sorts={"code": [Community.code, AccessDevice.code], "heartbeat": [AccessDevice.last_heartbeat_at]},
        default_sort="code",
        default_descending=False,
        tiebreak=[AccessDevice.id],
    )


def _credentials() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Owner.name,
                Community.code,
                House.code,
                AccessCredential.kind,
                AccessCredential.identifier,
                AccessCredential.valid_from,
                AccessCredential.valid_until,
                AccessCredential.status,
                AccessCredential.id,
            )
            .join(Owner, Owner.id == AccessCredential.owner_id)
            .join(House, House.id == AccessCredential.house_id),
            AccessCredential.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(AccessCredential.status == c["status"])
        if "house" in c:
            stmt = stmt.where(prefix(House.code, c["house"]))
        return stmt

    return Source(
        code=CREDENTIALS,
        title=N_("Access cards"),
        permission="property.access.view",
        columns=(
            Column("owner", N_("Holder"), "text", 10),
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("kind", N_("Kind"), "text", 4, labels=CREDENTIAL_KIND),
            Column("identifier", N_("Card no."), "text", 12),
            Column("valid_from", N_("Valid from"), "date", 10),
            Column("valid_until", N_("Valid until"), "date", 10),
            Column("status", N_("Status"), "text", 6, labels=CREDENTIAL_STATUS),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("house", N_("House")),
            Filter("status", N_("Status"), "choice", CREDENTIAL_STATUS),
        ),
        build=build,
        sorts={"house": [House.code], "valid_until": [AccessCredential.valid_until]},
        default_sort="house",
        default_descending=False,
        tiebreak=[AccessCredential.id],
    )


def _access_records() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                AccessRecord.at,
                Community.code,
                AccessDevice.code,
                AccessRecord.person,
                AccessRecord.direction,
                AccessRecord.method,
                AccessRecord.id,
            ).join(AccessDevice, AccessDevice.id == AccessRecord.device_id),
            AccessRecord.community_id,
            c,
        )
        if "device" in c:
            stmt = stmt.where(AccessDevice.code == c["device"])
        if "person" in c:
            stmt = stmt.where(prefix(AccessRecord.person, c["person"]))
        return instant_range(stmt, AccessRecord.at, c)

    return Source(
        code=ACCESS_RECORDS,
        title=N_("Access records"),
        permission="property.access.view",
        columns=(
            Column("at", N_("Time"), "datetime", 19),
            Column("community", N_("Community"), "text", 6),
            Column("device", N_("Device"), "text", 8),
            Column("person", N_("Person"), "text", 10),
            Column("direction", N_("Direction"), "text", 4, labels=DIRECTION),
            Column("method", N_("Method"), "text", 6, labels=METHOD),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("device", N_("Device"), "exact"),
            Filter("person", N_("Person")),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"at": [AccessRecord.at]},
        default_sort="at",
        default_descending=True,
        tiebreak=[AccessRecord.id],
    )


def _cameras() -> Source:
    def build(c: Criteria) -> Select:
        # The stream URL may carry the recorder's password: the list shows the recorder and channel only.
        return _community(
            select(
                Community.code,
                Camera.code,
                Camera.name,
                Camera.location,
                Camera.recorder,
                Camera.channel,
                Camera.retention_days,
                Camera.retired_at,
                Camera.id,
            ),
            Camera.community_id,
            c,
        )

    return Source(
        code=CAMERAS,
        title=N_("Cameras"),
        permission="property.access.view",
        columns=(
            Column("community", N_("Community"), "text", 6),
            Column("code", N_("Code"), "text", 8),
            Column("name", N_("Camera name"), "text", 12),
            Column("location", N_("Location"), "text", 14),
            Column("recorder", N_("Recorder"), "text", 10),
            Column("channel", N_("Channel"), "int", 4),
            Column("retention", N_("Kept (days)"), "int", 5),
            Column("retired_at", N_("Retired"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER,),
        build=build,
        sorts={"code": [Community.code, Camera.code]},
        default_sort="code",
        default_descending=False,
        tiebreak=[Camera.id],
    )


def _alarms() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Alarm.raised_at,
                Community.code,
                Alarm.kind,
                Alarm.location,
                Alarm.description,
                Alarm.status,
                Alarm.acknowledged_by,
                Alarm.dispatched_to,
                Alarm.response_seconds,
                Alarm.id,
            ),
            Alarm.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(
                Alarm.status != "closed" if c["status"] == "open" else Alarm.status == c["status"]
            )
        if "kind" in c:
            stmt = stmt.where(Alarm.kind == c["kind"])
        return instant_range(stmt, Alarm.raised_at, c)

    return Source(
        code=ALARMS,
        title=N_("Alarms"),
        permission="property.access.view",
        columns=(
            Column("raised_at", N_("Raised"), "datetime", 16),
            Column("community", N_("Community"), "text", 6),
            Column("kind", N_("Kind"), "text", 6, labels=ALARM_KIND),
            Column("location", N_("Location"), "text", 12),
            Column("description", N_("Alarm details"), "text", 16),
            Column("status", N_("Status"), "text", 6, labels=ALARM_STATUS),
            Column("acknowledged_by", N_("Acknowledged by"), "text", 8),
            Column("dispatched_to", N_("Dispatched to"), "text", 8),
            Column("response", N_("Response (s)"), "int", 6),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("status", N_("Status"), "choice", (("open", N_("Not closed")), *ALARM_STATUS)),
            Filter("kind", N_("Kind"), "choice", ALARM_KIND),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"raised_at": [Alarm.raised_at], "status": [Alarm.status]},
        default_sort="raised_at",
        default_descending=True,
        tiebreak=[Alarm.id],
    )


# ---------------------------------------------------------------------------------------------- residents


def _notices() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Notice.created_at,
                Community.code,
                Notice.kind,
                Notice.category,
                Notice.title,
                Notice.scope,
                Notice.status,
                Notice.published_at,
                Notice.recipients,
                Notice.version,
                Notice.id,
            ),
            Notice.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(Notice.status == c["status"])
        if "kind" in c:
            stmt = stmt.where(Notice.kind == c["kind"])
        if "title" in c:
            stmt = stmt.where(contains(Notice.title, c["title"]))
        return stmt

    return Source(
        code=NOTICES,
        title=N_("Notices and announcements"),
        permission="property.notices.view",
        columns=(
            Column("created_at", N_("Written"), "datetime", 16),
            Column("community", N_("Community"), "text", 6),
            Column("kind", N_("Kind"), "text", 6, labels=NOTICE_KIND),
            Column("category", N_("Category"), "text", 6, labels=NOTICE_CATEGORY),
            Column("title", N_("Title"), "text", 18),
            Column("scope", N_("Audience"), "text", 6, labels=NOTICE_SCOPE),
            Column("status", N_("Status"), "text", 6, labels=NOTICE_STATUS),
            Column("published_at", N_("Published"), "datetime", 16),
            Column("recipients", N_("Recipients"), "int", 6),
            Column("version", N_("Version"), "int", 3),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("title", N_("Title"), "contains"),
            Filter("kind", N_("Kind"), "choice", NOTICE_KIND),
            Filter("status", N_("Status"), "choice", NOTICE_STATUS),
        ),
        build=build,
        sorts={"created_at": [Notice.created_at], "published_at": [Notice.published_at]},
        default_sort="created_at",
        default_descending=True,
        tiebreak=[Notice.id],
    )


def _complaints() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Complaint.number,
                Complaint.created_at,
                Community.code,
                House.code,
                Complaint.category,
                Complaint.content,
                Complaint.status,
                Complaint.handler,
                Complaint.reopen_count,
                Complaint.id,
            ).outerjoin(House, House.id == Complaint.house_id),
            Complaint.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(Complaint.status == c["status"])
        if "category" in c:
            stmt = stmt.where(Complaint.category == c["category"])
        if "handler" in c:
            stmt = stmt.where(Complaint.handler == c["handler"])
        return instant_range(stmt, Complaint.created_at, c)

    return Source(
        code=COMPLAINTS,
        title=N_("Complaints"),
        permission="property.complaints.view",
        columns=(
            Column("number", N_("Complaint no."), "text", 18),
            Column("created_at", N_("Submitted at"), "datetime", 16),
            Column("community", N_("Community"), "text", 6),
            Column("house", N_("House"), "text", 10),
            Column("category", N_("Category"), "text", 6, labels=COMPLAINT_CATEGORY),
            Column("content", N_("Content"), "text", 20),
            Column("status", N_("Status"), "text", 6, labels=COMPLAINT_STATUS),
            Column("handler", N_("Handler"), "text", 8),
            Column("reopened", N_("Reopened"), "int", 3),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("status", N_("Status"), "choice", COMPLAINT_STATUS),
            Filter("category", N_("Category"), "choice", COMPLAINT_CATEGORY),
            Filter("handler", N_("Handler"), "exact"),
        ),
        build=build,
        sorts={
            "created_at": [Complaint.created_at],
            "number": [Complaint.number],
            "status": [Complaint.status],
        },
        default_sort="created_at",
        default_descending=True,
        tiebreak=[Complaint.id],
    )


def _suggestions() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Suggestion.created_at,
                Community.code,
                Suggestion.title,
                Suggestion.content,
                Suggestion.status,
                Suggestion.evaluator,
                Suggestion.decision,
                Suggestion.id,
            ),
            Suggestion.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(Suggestion.status == c["status"])
        return stmt

    return Source(
        code=SUGGESTIONS,
        title=N_("Suggestions"),
        permission="property.complaints.view",
        columns=(
            Column("created_at", N_("Submitted at"), "datetime", 16),
            Column("community", N_("Community"), "text", 6),
            Column("title", N_("Title"), "text", 14),
            Column("content", N_("Content"), "text", 20),
            Column("status", N_("Status"), "text", 6, labels=SUGGESTION_STATUS),
            Column("evaluator", N_("Evaluator"), "text", 8),
            Column("decision", N_("Decision"), "text", 14),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(COMMUNITY_FILTER, Filter("status", N_("Status"), "choice", SUGGESTION_STATUS)),
        build=build,
        sorts={"created_at": [Suggestion.created_at], "status": [Suggestion.status]},
        default_sort="created_at",
        default_descending=True,
        tiebreak=[Suggestion.id],
    )


def _activities() -> Source:
    seats = (
        select(func.coalesce(func.sum(ActivitySignup.party_size), 0))
        .where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "confirmed")
        .correlate_except(ActivitySignup)
        .scalar_subquery()
    )
    waiting = (
        select(func.count())
        .select_from(ActivitySignup)
        .where(ActivitySignup.activity_id == Activity.id, ActivitySignup.status == "waitlisted")
        .correlate_except(ActivitySignup)
        .scalar_subquery()
    )

    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                Activity.title,
                Community.code,
                Activity.starts_at,
                Activity.place,
                Activity.capacity,
                seats,
                waiting,
                Activity.fee_fen,
                Activity.status,
                Activity.id,
            ),
            Activity.community_id,
            c,
        )
        if "status" in c:
            stmt = stmt.where(Activity.status == c["status"])
        return instant_range(stmt, Activity.starts_at, c)

    return Source(
        code=ACTIVITIES,
        title=N_("Community activities"),
        permission="property.activities.view",
        columns=(
            Column("title", N_("Title"), "text", 14),
            Column("community", N_("Community"), "text", 6),
            Column("starts_at", N_("Starts"), "datetime", 16),
            Column("place", N_("Place"), "text", 10),
            Column("capacity", N_("Capacity"), "int", 5),
            Column("seats", N_("Signed up"), "int", 5),
            Column("waiting", N_("Waiting"), "int", 5),
            Column("fee", N_("Sign-up fee"), "fen", 8),
            Column("status", N_("Status"), "text", 6, labels=ACTIVITY_STATUS),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("status", N_("Status"), "choice", ACTIVITY_STATUS),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"starts_at": [Activity.starts_at], "title": [Activity.title]},
        default_sort="starts_at",
        default_descending=True,
        tiebreak=[Activity.id],
    )


def _signups() -> Source:
    def build(c: Criteria) -> Select:
        stmt = (
            select(
                Activity.title,
                Owner.name,
                House.code,
                ActivitySignup.party_size,
                ActivitySignup.status,
                ActivitySignup.queue_no,
                ActivitySignup.attended,
                ActivitySignup.signed_up_at,
                ActivitySignup.id,
            )
            .select_from(ActivitySignup)
            .join(Activity, Activity.id == ActivitySignup.activity_id)
            .join(Owner, Owner.id == ActivitySignup.owner_id)
            .outerjoin(House, House.id == ActivitySignup.house_id)
        )
        stmt = _community(stmt, Activity.community_id, c)
        if "activity" in c:
            stmt = stmt.where(ActivitySignup.activity_id == _uuid(c["activity"], "activity"))
        if "status" in c:
            stmt = stmt.where(ActivitySignup.status == c["status"])
        return stmt

    return Source(
        code=SIGNUPS,
        title=N_("Sign-ups"),
        permission="property.activities.view",
        columns=(
            Column("activity", N_("Activity"), "text", 14),
            Column("owner", N_("Resident"), "text", 10),
            Column("house", N_("House"), "text", 10),
            Column("party", N_("People"), "int", 4),
            Column("status", N_("Status"), "text", 6, labels=SIGNUP_STATUS),
            Column("queue_no", N_("Queue no."), "int", 4),
            Column("attended", N_("Attended"), "bool", 4),
            Column("signed_up_at", N_("Signed up"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("activity", N_("Activity"), "exact"),
            Filter("status", N_("Status"), "choice", SIGNUP_STATUS),
        ),
        build=build,
        sorts={"signed_up_at": [ActivitySignup.signed_up_at], "queue_no": [ActivitySignup.queue_no]},
        default_sort="signed_up_at",
        default_descending=False,
        tiebreak=[ActivitySignup.id],
    )


# ---------------------------------------------------------------------------------------------- work orders


def _work_orders() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                WorkOrder.number,
                WorkOrder.status,
                WorkOrder.complete_by,
                WorkOrder.worker,
                func.coalesce(House.code, WorkOrder.common_area),
                WorkOrder.description,
                WorkOrder.respond_by,
                RepairType.name,
                WorkOrder.created_at,
                Community.code,
                WorkOrder.version,
                WorkOrder.id,
            )
            .join(RepairType, RepairType.id == WorkOrder.repair_type_id)
            .outerjoin(House, House.id == WorkOrder.house_id),
            WorkOrder.community_id,
            c,
        )
        view = c.get("view", "open")
        if view == "open":
            stmt = stmt.where(WorkOrder.status.in_(WORK_ORDER_OPEN))
        elif view != "all":
            stmt = stmt.where(WorkOrder.status == view)
        if "worker" in c:
            stmt = stmt.where(WorkOrder.worker == c["worker"])
        if "number" in c:
            stmt = stmt.where(prefix(WorkOrder.number, c["number"].upper()))
        return instant_range(stmt, WorkOrder.created_at, c)

    return Source(
        code=WORK_ORDERS,
        title=N_("Work orders"),
        permission="property.repairs.view",
        columns=(
            # The deadlines come early so that an 80-column terminal shows them without scrolling.
            Column("number", N_("Work order no."), "text", 18),
            Column("status", N_("Status"), "text", 11, labels=WORK_ORDER_STATUS),
            Column("complete_by", N_("Complete by"), "datetime", 19),
            Column("worker", N_("Worker"), "text", 8),
            Column("location", N_("Where"), "text", 10),
            Column("description", N_("Problem described"), "text", 16),
            Column("respond_by", N_("Respond by"), "datetime", 19),
            Column("type", N_("Repair type"), "text", 8),
            Column("created_at", N_("Reported"), "datetime", 19),
            Column("community", N_("Community"), "text", 6),
            Column("version", N_("Version"), "int", 3),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("view", N_("Status"), "choice", (*WORK_ORDER_VIEW, ("all", N_("All orders")))),
            Filter("number", N_("Work order no.")),
            Filter("worker", N_("Worker"), "exact"),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        # The board's default: the most urgent deadline first.
        sorts={
            "complete_by": [WorkOrder.complete_by],
            "respond_by": [WorkOrder.respond_by],
            "created_at": [WorkOrder.created_at],
            "number": [WorkOrder.number],
            "status": [WorkOrder.status],
        },
        default_sort="complete_by",
        default_descending=False,
        tiebreak=[WorkOrder.id],
    )


# ---------------------------------------------------------------------------------------------- reminders


def _reminders_sent() -> Source:
    def build(c: Criteria) -> Select:
        stmt = _community(
            select(
                ReminderSent.on_date,
                House.code,
                ReminderSent.channel,
                ReminderSent.kind,
                ReminderSent.owed_fen,
                ReminderSent.body,
                ReminderSent.id,
            ).join(House, House.id == ReminderSent.house_id),
            ReminderSent.community_id,
            c,
        )
        if "house" in c:
            stmt = stmt.where(prefix(House.code, c["house"]))
        if "channel" in c:
            stmt = stmt.where(ReminderSent.channel == c["channel"])
        return date_range(stmt, ReminderSent.on_date, c)

    return Source(
        code=REMINDERS_SENT,
        title=N_("Reminders sent"),
        permission=PERM_VIEW,
        columns=(
            Column("on_date", N_("Date"), "date", 10),
            Column("house", N_("House"), "text", 10),
            Column("channel", N_("Channel"), "text", 8, labels=REMINDER_CHANNEL),
            Column("kind", N_("Reminder"), "text", 10, labels=REMINDER_KIND),
            Column("owed", N_("Owed"), "fen", 10),
            Column("body", N_("Text"), "text", 30),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            COMMUNITY_FILTER,
            Filter("house", N_("House")),
            Filter("channel", N_("Channel"), "choice", REMINDER_CHANNEL),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"on_date": [ReminderSent.on_date], "house": [House.code], "owed": [ReminderSent.owed_fen]},
        default_sort="on_date",
        default_descending=True,
        tiebreak=[ReminderSent.id],
    )


def _fit(source: Source) -> Source:
    """Coded columns as wide as their longest English label (Chinese ones are never wider)."""
    columns = tuple(
        replace(c, width=max(c.width or 0, *(len(label) for _code, label in c.labels))) if c.labels else c
        for c in source.columns
    )
    return replace(source, columns=columns)


for _make in (
    _communities,
    _buildings,
    _houses,
    _owners,
    _fee_items,
    _late_fee_rules,
    _discounts,
    _waivers,
    _meter_readings,
    _spaces,
    _vehicles,
    _rentals,
    _devices,
    _credentials,
    _access_records,
    _cameras,
    _alarms,
    _notices,
    _complaints,
    _suggestions,
    _activities,
    _signups,
    _work_orders,
    _reminders_sent,
):
    register(_fit(_make()))


# ---------------------------------------------------------------------------------------------- details


@dataclass(frozen=True)
class Detail:
    """What the detail panel shows of one record: (label msgid, value) pairs, then lines of a history."""

    fields: Sequence[tuple[str, str]]
    lines: Sequence[str] = ()


def _when(at: datetime | None) -> str:
    from core.clock import BUSINESS_TZ

    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") if at else "—"


def trail_lines(changes: Sequence[ops.ChangeView], labels: Labels = ()) -> list[str]:
    """One line per transition: when, from → to (translated by `labels`), who, why."""
    names = dict(labels)

    def name(status: str | None) -> str:
        return _(names[status]) if status in names else (status or "—")

    return [
        f"{_when(ch.at)}  {name(ch.from_status)} → {name(ch.to_status)}  {ch.actor_name}"
        + (f"  {ch.reason}" if ch.reason else "")
        for ch in changes
    ]


def house_detail(ctx: Context, house_id: uuid.UUID) -> Detail:
    """Everyone who lives in a house (owners with shares, family, tenants), moved out ones included."""
    people = ps.occupants(ctx, house_id, include_history=True)
    relation = dict(RELATION)
    lines = [
        f"{p.owner_name}  {_(relation.get(p.relation, p.relation))}"
        + (f"  {p.share_bp / 100:g}%" if p.relation == "owner" else "")
        + f"  {p.move_in_date.isoformat()} → {p.move_out_date.isoformat() if p.move_out_date else ''}"
        for p in people
    ]
    return Detail((), lines)


def owner_detail(ctx: Context, owner_id: uuid.UUID) -> Detail:
    """An owner with ID number and phone masked unless the actor holds pii.reveal, and their houses."""
    owner = ps.get_owner(ctx, owner_id)
    houses = ps.houses_of_owner(ctx, owner_id)
    fields = [
        (N_("ID number"), owner.id_number or "—"),
        (N_("Phone"), owner.phone or "—"),
    ]
    if owner.uscc:
        fields.append((N_("Credit code"), owner.uscc))
    return Detail(fields, [h.code for h in houses])


def work_order_detail(ctx: Context, order_id: uuid.UUID) -> Detail:
    """A work order's description and timeline (every transition with who, when and why)."""
    from core.property.repairs import services as repairs

    order = repairs.get(ctx, order_id)
    with ctx.read(repairs.PERM_VIEW) as s:
        trail = ops.history(s, repairs.OBJECT_TYPE, order_id)
    fields: list[tuple[str, str]] = [(N_("Photos"), str(len(order.photos)))]
    if order.preferred_from and order.preferred_to:
        fields.append((N_("Preferred time"), f"{_when(order.preferred_from)} – {_when(order.preferred_to)}"))
    if order.charge_fen:
        fields.append((N_("Charge"), format_fen(order.charge_fen)))
    if order.rating_speed is not None:
        fields.append(
            (N_("Rating"), f"{order.rating_speed}/{order.rating_quality} {order.rating_comment or ''}")
        )
    return Detail(fields, trail_lines(trail, WORK_ORDER_STATUS))


def trail_detail(
    ctx: Context, permission: str, object_type: str, object_id: uuid.UUID, labels: Labels = ()
) -> Detail:
    """The transitions of a complaint, suggestion, alarm, notice or activity (who, when, why)."""
    with ctx.read(permission) as s:
        return Detail((), trail_lines(ops.history(s, object_type, object_id), labels))
