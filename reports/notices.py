"""Batch notices to houses, one page per house for a community, a building or one house: the bill / payment
notice (`bill_notice`, 缴费通知单) and the arrears notice (`arrears_notice`, 催缴通知单). The PDF prints the
forms; the Excel file has one row per house with the same figures, and totals.

Figures come from `core.property.report_reads.house_dues`; late fees are computed to the notice date (the
period's last day, or today if that is earlier), net of approved waivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from core.clock import today
from core.context import Context
from core.i18n import N_
from core.money import format_fen
from core.property import report_reads as rr
from core.property import services as ps
from reports.model import Column, FormPage, ReportData, Table
from reports.registry import ReportDef, ReportParams, register

FORM_LINES_MAX = 20  # more lines than this are summed per fee item, so a notice always fits one page
PAY_WITHIN_DAYS = 15  # an arrears notice asks for payment within this many days of its date
NOTICE_SIGNATURES = (N_("Property service centre (seal)"), N_("Date"))
DEAR = N_("Dear {name}:")
BILL_INTRO = N_(
    "The property charges of your house for {period} are listed below; please pay them by {date}."
)
ARREARS_INTRO = N_(
    "As of {date} the charges below of your house are past their due date. Please pay them by {deadline}; "
    "late fees accrue under the property service contract."
)
EARLIER_MARK = N_("* charges of earlier periods still unpaid.")
HOW_TO_PAY = N_(
    "You can pay at the property service centre counter, by WeChat Pay or Alipay, or by bank transfer. "
    "If you have already paid, please disregard this notice."
)

BILL_LINE_COLUMNS = (
    Column("item", N_("Fee item"), width=14),
    Column("period", N_("Billing period"), width=15),
    Column("quantity", N_("Quantity / area"), "number", 10),
    Column("price", N_("Unit price"), "number", 10),
    Column("amount", N_("Amount"), "money", 11, total=True),
    Column("settled", N_("Paid"), "money", 11, total=True),
    Column("owed", N_("Outstanding"), "money", 11, total=True),
)
ARREARS_LINE_COLUMNS = (
    Column("item", N_("Fee item"), width=14),
    Column("period", N_("Billing period"), width=15),
    Column("due", N_("Due date"), "date", 11),
    Column("days", N_("Days overdue"), "int", 8),
    Column("owed", N_("Arrears"), "money", 12, total=True),
    Column("late", N_("Late fees"), "money", 11, total=True),
)
BILL_HOUSE_COLUMNS = (
    Column("house", N_("House"), width=10),
    Column("payer", N_("Payer"), width=10),
    Column("area", N_("Building area (㎡)"), "number", 9),
    Column("current", N_("This period"), "money", 11, total=True),
    Column("earlier", N_("Earlier arrears"), "money", 11, total=True),
    Column("late", N_("Late fees"), "money", 10, total=True),
    Column("prepaid", N_("Prepaid balance"), "money", 11, total=True),
    Column("to_pay", N_("Amount to pay"), "money", 11, total=True),
    Column("pay_by", N_("Pay by"), "date", 10),
)
ARREARS_HOUSE_COLUMNS = (
    Column("house", N_("House"), width=10),
    Column("payer", N_("Payer"), width=10),
    Column("lines", N_("Charges overdue"), "int", 8, total=True),
    Column("oldest", N_("Overdue since"), "date", 10),
    Column("owed", N_("Arrears"), "money", 11, total=True),
    Column("late", N_("Late fees"), "money", 10, total=True),
    Column("prepaid", N_("Prepaid balance"), "money", 11, total=True),
    Column("to_pay", N_("Amount to pay"), "money", 11, total=True),
)


def area_text(dm2: int) -> str:
    """Square decimetres as square metres to two places ("89.50")."""
    return f"{dm2 // 100}.{dm2 % 100:02d}"


def _collapse(lines: Sequence[rr.DueLine]) -> list[rr.DueLine]:
    """Too many lines for one page: one line per fee item (earlier periods' first), periods as a range."""
    if len(lines) <= FORM_LINES_MAX:
        return list(lines)
    groups: dict[tuple[bool, str], list[rr.DueLine]] = {}
    for ln in lines:
        groups.setdefault((ln.current, ln.item_code), []).append(ln)
    out = []
    for _key, group in sorted(groups.items()):
        periods = sorted(ln.period for ln in group)
        span = periods[0] if periods[0] == periods[-1] else f"{periods[0]} – {periods[-1]}"
        first = group[0]
        out.append(
            rr.DueLine(
                first.item_code, first.item_name, span, "", "", sum(ln.amount_fen for ln in group),
                sum(ln.settled_fen for ln in group), min(ln.due_date for ln in group),
                sum(ln.late_fee_fen for ln in group), first.current,
            )
        )  # fmt: skip
    return out


def _totals(columns: Sequence[Column], rows: Sequence[Sequence]) -> dict[str, int]:
    return {c.key: sum(r[i] for r in rows) for i, c in enumerate(columns) if c.total}


def _scope(ctx: Context, p: ReportParams) -> tuple[ps.CommunityView, dict, list[tuple[str, str]]]:
    community = ps.community_by_code(ctx, p.community)
    facts = [(N_("Community"), f"{community.code} {community.name}")]
    kw: dict = {}
    building = (p.options.get("building") or "").strip()
    house = (p.options.get("house") or "").strip()
    if building:
        kw["building_id"] = rr.building_by_number(ctx, community.id, building)
        facts.append((N_("Building"), building))
    if house:
        kw["house_id"] = ps.find_house(ctx, house, community.id).id
        facts.append((N_("House"), house))
    return community, kw, facts


def _notice_date(ctx: Context, p: ReportParams) -> date:
    return min(p.period.end, today(ctx.clock))


def _house_facts(h: rr.HouseDues, on: date) -> list[tuple[str, str]]:
    return [
        (N_("House"), h.house_code),
        (N_("Payer"), h.payer or "—"),
        (N_("Building area"), f"{area_text(h.building_area_dm2)} ㎡"),
        (N_("Notice date"), on.isoformat()),
    ]


def _money_summary(h: rr.HouseDues, first: tuple[str, int], second: tuple[str, int] | None) -> list:
    out = [(first[0], format_fen(first[1]))]
    if second is not None:
        out.append((second[0], format_fen(second[1])))
    out += [
        (N_("Late fees"), format_fen(h.late_fee_fen)),
        (N_("Prepaid balance"), format_fen(h.prepaid_fen)),
        (N_("Amount to pay"), format_fen(h.total_fen)),
    ]
    return out


def bill_notices(
    dues: Sequence[rr.HouseDues], on: date, period_label: str
) -> tuple[list[FormPage], list[tuple]]:
    """The payment notice of each house that owes something, and its row of the Excel summary."""
    pages, rows = [], []
    for h in dues:
        if h.current_fen + h.earlier_fen <= 0:
            continue
        table_rows = [
            (ln.item_name, ln.period if ln.current else f"{ln.period} *", ln.quantity, ln.unit_price,
             ln.amount_fen, ln.settled_fen, ln.outstanding_fen)
            for ln in _collapse(h.lines)
        ]  # fmt: skip
        current_due = [ln.due_date for ln in h.lines if ln.current and ln.outstanding_fen > 0]
        pay_by = max(current_due) if current_due else h.oldest_due
        pay_by_text = pay_by.isoformat() if pay_by else "—"
        pages.append(
            FormPage(
                facts=[*_house_facts(h, on), (N_("Pay by"), pay_by_text)],
                intro=[
                    (DEAR, {"name": h.payer or h.house_code}),
                    (BILL_INTRO, {"period": period_label, "date": pay_by_text}),
                ],
                table=Table(BILL_LINE_COLUMNS, table_rows, totals=_totals(BILL_LINE_COLUMNS, table_rows)),
                summary=_money_summary(
                    h, (N_("This period"), h.current_fen), (N_("Earlier arrears"), h.earlier_fen)
                ),
                paragraphs=[(EARLIER_MARK, {}), (HOW_TO_PAY, {})],
            )
        )
        rows.append(
            (h.house_code, h.payer, Decimal(h.building_area_dm2).scaleb(-2), h.current_fen, h.earlier_fen,
             h.late_fee_fen, h.prepaid_fen, h.total_fen, pay_by)
        )  # fmt: skip
    return pages, rows


def arrears_notices(dues: Sequence[rr.HouseDues], on: date) -> tuple[list[FormPage], list[tuple]]:
    """The arrears notice of each house, and its row of the Excel summary."""
    pay_by = (on + timedelta(days=PAY_WITHIN_DAYS)).isoformat()
    pages, rows = [], []
    for h in dues:
        table_rows = [
            (
                ln.item_name,
                ln.period,
                ln.due_date,
                (on - ln.due_date).days,
                ln.outstanding_fen,
                ln.late_fee_fen,
            )
            for ln in _collapse(h.lines)
        ]
        owed = h.earlier_fen + h.current_fen
        since = h.oldest_due.isoformat() if h.oldest_due else "—"
        pages.append(
            FormPage(
                facts=[*_house_facts(h, on), (N_("Overdue since"), since)],
                intro=[
                    (DEAR, {"name": h.payer or h.house_code}),
                    (ARREARS_INTRO, {"date": on.isoformat(), "deadline": pay_by}),
                ],
                table=Table(
                    ARREARS_LINE_COLUMNS, table_rows, totals=_totals(ARREARS_LINE_COLUMNS, table_rows)
                ),
                summary=_money_summary(h, (N_("Arrears"), owed), None),
                paragraphs=[(HOW_TO_PAY, {})],
            )
        )
        rows.append(
            (
                h.house_code,
                h.payer,
                len(h.lines),
                h.oldest_due,
                owed,
                h.late_fee_fen,
                h.prepaid_fen,
                h.total_fen,
            )
        )
    return pages, rows


def _dues(ctx: Context, p: ReportParams, kind: str) -> tuple[list[rr.HouseDues], date, list[tuple[str, str]]]:
    community, kw, facts = _scope(ctx, p)
    months = p.period.months()
    on = _notice_date(ctx, p)
    dues = rr.house_dues(
        ctx,
        kind,
        community_id=community.id,
        period_from=months[0][2],
        period_to=months[-1][2],
        as_of=on,
        **kw,
    )
    return dues, on, facts


def notice_report(
    kind: str, pages: list[FormPage], rows: list[tuple], period_label: str, facts: list[tuple[str, str]]
) -> ReportData:
    """The batch as a report: the forms for the PDF, one row per house (and totals) for Excel."""
    bill = kind == "bill"
    columns = BILL_HOUSE_COLUMNS if bill else ARREARS_HOUSE_COLUMNS
    return ReportData(
        name="bill_notice" if bill else "arrears_notice",
        title=N_("Payment notice") if bill else N_("Arrears notice"),
        period_label=period_label,
        facts=[*facts, (N_("Notices"), str(len(pages)))],
        tables=[
            Table(
                columns,
                rows,
                title=N_("Payment notices") if bill else N_("Arrears notices"),
                totals=_totals(columns, rows),
            )
        ],
        pages=pages,
        signatures=NOTICE_SIGNATURES,
    )


def collect_bill_notice(ctx: Context, p: ReportParams) -> ReportData:
    dues, on, facts = _dues(ctx, p, "bill")
    pages, rows = bill_notices(dues, on, p.period.label)
    return notice_report("bill", pages, rows, p.period.label, facts)


def collect_arrears_notice(ctx: Context, p: ReportParams) -> ReportData:
    dues, on, facts = _dues(ctx, p, "arrears")
    pages, rows = arrears_notices(dues, on)
    return notice_report("arrears", pages, rows, p.period.label, [*facts, (N_("As of"), on.isoformat())])


BILL_NOTICE = register(
    ReportDef(
        "bill_notice", N_("Payment notice"), collect_bill_notice, "property.view", requires=("community",)
    )
)
ARREARS_NOTICE = register(
    ReportDef(
        "arrears_notice",
        N_("Arrears notice"),
        collect_arrears_notice,
        "property.view",
        requires=("community",),
    )
)
