"""Property operations reports from core.property's read services: repairs (`repairs`: volumes by repair
type, response and completion times, SLA misses, ratings), parking usage (`parking_usage`: spaces and
occupancy, rentals, temporary-parking income per car park) and activity sign-ups (`activity_signups`:
capacity, signed up, waiting, attended and fees per activity).
"""

from __future__ import annotations

from decimal import Decimal

from core.context import Context
from core.i18n import N_, _
from core.money import format_fen
from core.property import report_reads as rr
from core.property import services as ps
from core.property.repairs import services as repairs
from reports.formatting import percent_text, ratio
from reports.model import Chart, Column, ReportData, Table
from reports.registry import ReportDef, ReportParams, register


def _community_fact(community: ps.CommunityView | None) -> list[tuple[str, str]]:
    return [(N_("Community"), f"{community.code} {community.name}")] if community else []


def _hours(minutes: Decimal | None) -> Decimal | None:
    """Average minutes as hours to one place, the unit a manager reads response times in."""
    return None if minutes is None else (minutes / 60).quantize(Decimal("0.1"))


def collect_repairs(ctx: Context, p: ReportParams) -> ReportData:
    community = ps.community_by_code(ctx, p.community) if p.community else None
    cid = community.id if community else None
    by_type = rr.repair_stats_by_type(ctx, start=p.period.start, end=p.period.end, community_id=cid)
    whole = repairs.statistics(ctx, community_id=cid, start=p.period.start, end=p.period.end)
    cols = (
        Column("type", N_("Repair type"), width=14),
        Column("orders", N_("Orders"), "int", 7, total=True),
        Column("completed", N_("Completed"), "int", 7, total=True),
        Column("cancelled", N_("Cancelled"), "int", 7, total=True),
        Column("open", N_("Open"), "int", 6, total=True),
        Column("response", N_("Avg. response (h)"), "number", 9),
        Column("completion", N_("Avg. completion (h)"), "number", 9),
        Column("resp_late", N_("Response late"), "int", 7, total=True),
        Column("comp_late", N_("Completion late"), "int", 7, total=True),
        Column("rated", N_("Rated"), "int", 6, total=True),
        Column("speed", N_("Speed rating"), "number", 7),
        Column("quality", N_("Quality rating"), "number", 7),
        Column("charged", N_("Charged"), "money", 10, total=True),
    )
    rows = [
        (f"{r.code} {r.name}", r.orders, r.completed, r.cancelled, r.open, _hours(r.avg_response_minutes),
         _hours(r.avg_completion_minutes), r.response_late, r.completion_late, r.rated, r.avg_speed,
         r.avg_quality, r.charged_fen)
        for r in by_type
    ]  # fmt: skip
    totals = {c.key: sum(row[i] for row in rows) for i, c in enumerate(cols) if c.total}
    done_rate = percent_text(ratio(whole.completed, whole.orders)) or "—"
    facts = [
        *_community_fact(community),
        (N_("Orders"), str(whole.orders)),
        (N_("Completion rate"), done_rate),
        (N_("Avg. response (h)"), str(_hours(whole.avg_response_minutes) or "—")),
        (N_("Avg. completion (h)"), str(_hours(whole.avg_completion_minutes) or "—")),
        (N_("Speed rating"), str(whole.avg_speed or "—")),
        (N_("Quality rating"), str(whole.avg_quality or "—")),
    ]
    chart = Chart(
        N_("Work orders by repair type"),
        [r.code for r in by_type],
        [(N_("Orders"), [r.orders for r in by_type]), (N_("Completed"), [r.completed for r in by_type])],
        money=False,
    )
    return ReportData(
        name="repairs",
        title=N_("Repairs"),
        period_label=p.period.label,
        facts=facts,
        tables=[Table(cols, rows, totals=totals, title=N_("By repair type"))],
        chart=chart if by_type else None,
        notes=[
            N_(
                "Orders reported in the period. Times run from the report to acceptance and to completion; "
                "ratings are 1 to 5."
            ),
        ],
        landscape=True,
    )


def collect_parking_usage(ctx: Context, p: ReportParams) -> ReportData:
    community = ps.community_by_code(ctx, p.community)
    areas = rr.parking_usage(ctx, community.id, start=p.period.start, end=p.period.end)
    cols = (
        Column("area", N_("Car park"), width=14),
        Column("spaces", N_("Spaces"), "int", 7, total=True),
        Column("free", N_("Free"), "int", 7, total=True),
        Column("sold", N_("Sold"), "int", 7, total=True),
        Column("rented", N_("Rented"), "int", 7, total=True),
        Column("occupied", N_("Occupied"), "int", 7, total=True),
        Column("rate", N_("Occupancy"), "percent", 8),
        Column("rentals", N_("Rental contracts"), "int", 8, total=True),
        Column("rent", N_("Monthly rent"), "money", 11, total=True),
        Column("entries", N_("Entries"), "int", 7, total=True),
        Column("exits", N_("Exits"), "int", 7, total=True),
        Column("temp_fee", N_("Temporary parking income"), "money", 12, total=True),
    )
    rows = [
        (f"{a.code} {a.name}", a.spaces, a.free, a.sold, a.rented, a.occupied,
         ratio(a.spaces - a.free, a.spaces), a.rentals, a.rental_monthly_fen, a.entries, a.exits,
         a.temporary_fee_fen)
        for a in areas
    ]  # fmt: skip
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    used = totals["spaces"] - totals["free"]
    facts = [
        *_community_fact(community),
        (N_("Occupancy"), percent_text(ratio(used, totals["spaces"])) or "—"),
        (N_("Temporary parking income"), format_fen(totals["temp_fee"])),
    ]
    chart = Chart(
        N_("Temporary parking income by car park"),
        [a.code for a in areas],
        [(N_("Temporary parking income"), [a.temporary_fee_fen for a in areas])],
    )
    return ReportData(
        name="parking_usage",
        title=N_("Parking usage"),
        period_label=p.period.label,
        facts=facts,
        tables=[Table(cols, rows, totals=totals, title=N_("By car park"))],
        chart=chart if areas else None,
        notes=[
            N_(
                "Spaces are as they are now; rentals are those running on the period's last day; entries, "
                "exits and income are the period's."
            ),
        ],
        landscape=True,
    )


def collect_activity_signups(ctx: Context, p: ReportParams) -> ReportData:
    community = ps.community_by_code(ctx, p.community) if p.community else None
    acts = rr.activity_signups(
        ctx, start=p.period.start, end=p.period.end, community_id=community.id if community else None
    )
    cols = (
        Column("title", N_("Activity"), width=16),
        Column("starts", N_("Starts"), "date", 11),
        Column("status", N_("Status"), width=7),
        Column("capacity", N_("Capacity"), "int", 7, total=True),
        Column("confirmed", N_("Signed up"), "int", 7, total=True),
        Column("waiting", N_("Waiting"), "int", 7, total=True),
        Column("cancelled", N_("Cancelled"), "int", 7, total=True),
        Column("attended", N_("Attended"), "int", 7, total=True),
        Column("fill", N_("Filled"), "percent", 7),
        Column("fee", N_("Fee per person"), "money", 9),
        Column("expected", N_("Fees due"), "money", 10, total=True),
        Column("collected", N_("Fees collected"), "money", 10, total=True),
    )
    rows = [
        (a.title, a.starts_at, _status(a.status), a.capacity, a.confirmed_people, a.waitlisted_people,
         a.cancelled_signups, a.attended_people, ratio(a.confirmed_people, a.capacity), a.fee_fen,
         a.fee_expected_fen, a.fee_collected_fen)
        for a in acts
    ]  # fmt: skip
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    facts = [*_community_fact(community), (N_("Activities"), str(len(rows)))]
    return ReportData(
        name="activity_signups",
        title=N_("Activity sign-ups"),
        period_label=p.period.label,
        facts=facts,
        tables=[Table(cols, rows, totals=totals)],
        notes=[N_("People, not sign-ups, except the cancelled column; activities starting in the period.")],
        landscape=True,
    )


ACTIVITY_STATUS_TITLES = {
    "planned": N_("Planned"),
    "published": N_("Published"),
    "finished": N_("Finished"),
    "cancelled": N_("Cancelled"),
}


def _status(code: str) -> str:
    return _(ACTIVITY_STATUS_TITLES[code]) if code in ACTIVITY_STATUS_TITLES else code


REPAIRS = register(ReportDef("repairs", N_("Repairs"), collect_repairs, "property.repairs.view"))
PARKING_USAGE = register(
    ReportDef(
        "parking_usage",
        N_("Parking usage"),
        collect_parking_usage,
        "property.parking.view",
        requires=("community",),
    )
)
ACTIVITY_SIGNUPS = register(
    ReportDef(
        "activity_signups", N_("Activity sign-ups"), collect_activity_signups, "property.activities.view"
    )
)
