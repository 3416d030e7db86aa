"""Property fee reports from core.property's read services: the collection report (`collection`: 应收 /
实收 / 欠费 / 预收 and the collection rate by community or building, fee item and month, with a chart), the
arrears ageing report (`arrears_ageing`: what is overdue by building and by days past due), prepaid balances
(`prepaid_balances`, 预收款余额表) and deposits held (`deposits_held`, 押金台账).
"""

from __future__ import annotations

from core.context import Context
from core.i18n import N_
from core.money import format_fen
from core.property import billing
from core.property import report_reads as rr
from core.property import rules as prules
from core.property import services as ps
from reports.formatting import natural_key, percent_text, ratio
from reports.model import Chart, Column, ReportData, Table
from reports.registry import ReportDef, ReportParams, register

COLLECTION_COLUMNS = (
    Column("key", N_("Code"), width=8),
    Column("name", N_("Group name"), width=16),
    Column("receivable", N_("Receivable"), "money", 12, total=True),
    Column("received", N_("Collected"), "money", 12, total=True),
    Column("waived", N_("Waived"), "money", 10, total=True),
    Column("outstanding", N_("Outstanding"), "money", 12, total=True),
    Column("rate", N_("Collection rate"), "percent", 9),
)


def _community(ctx: Context, code: str | None) -> ps.CommunityView | None:
    return ps.community_by_code(ctx, code) if code else None


def _collection_table(rows: list[tuple], title: str) -> Table:
    totals: dict = {c.key: sum(r[i] for r in rows) for i, c in enumerate(COLLECTION_COLUMNS) if c.total}
    totals["rate"] = ratio(totals["received"], totals["receivable"])  # the whole's rate, not a sum of rates
    return Table(COLLECTION_COLUMNS, rows, title=title, totals=totals)


def _row(key: str, name: str, receivable: int, received: int, waived: int, outstanding: int) -> tuple:
    # The rate is received / receivable, computed here from the fen amounts so every table agrees.
    return (key, name, receivable, received, waived, outstanding, ratio(received, receivable))


def collect_collection(ctx: Context, p: ReportParams) -> ReportData:
    community = _community(ctx, p.community)
    cid = community.id if community else None
    months = p.period.months()
    first, last = months[0][2], months[-1][2]
    by = "building" if community else "community"
    groups = [
        _row(r.key, r.name, r.receivable_fen, r.received_fen, r.waived_fen, r.outstanding_fen)
        for r in sorted(
            billing.collection_stats(ctx, first, last, by=by, community_id=cid),
            key=lambda r: natural_key(r.key),
        )
    ]
    items = [
        _row(r.key, r.name, r.receivable_fen, r.received_fen, r.waived_fen, r.outstanding_fen)
        for r in billing.collection_stats(ctx, first, last, by="fee_item", community_id=cid)
    ]
    by_month = []
    for _start, _end, label in months:
        stats = billing.collection_stats(ctx, label, label, by="community", community_id=cid)
        sums = [
            sum(getattr(r, f) for r in stats)
            for f in ("receivable_fen", "received_fen", "waived_fen", "outstanding_fen")
        ]
        by_month.append(_row(label, "", *sums))
    prepaid = billing.prepaid_total(ctx, cid)
    receivable = sum(r[2] for r in groups)
    received = sum(r[3] for r in groups)
    facts = [(N_("Community"), f"{community.code} {community.name}")] if community else []
    facts += [
        (N_("Overall collection rate"), percent_text(ratio(received, receivable)) or "—"),
        (N_("Prepaid balances held"), format_fen(prepaid)),
    ]
    chart = Chart(
        N_("Receivable and collected by month"),
        [r[0] for r in by_month],
        [(N_("Receivable"), [r[2] for r in by_month]), (N_("Collected"), [r[3] for r in by_month])],
    )
    return ReportData(
        name="collection",
        title=N_("Property fee collection"),
        period_label=p.period.label,
        facts=facts,
        tables=[
            _collection_table(groups, N_("By building") if community else N_("By community")),
            _collection_table(items, N_("By fee item")),
            _collection_table(by_month, N_("By month")),
        ],
        chart=chart,
        landscape=True,
    )  # fmt: skip


def collect_arrears_ageing(ctx: Context, p: ReportParams) -> ReportData:
    community = ps.community_by_code(ctx, p.community)
    as_of = p.period.end
    labels = prules.AGEING_LABELS
    cols = [
        Column("building", N_("Building"), width=10),
        Column("houses", N_("Houses in arrears"), "int", 8, total=True),
    ]
    cols += [Column(f"b{i}", label, "money", 11, total=True) for i, label in enumerate(labels)]
    cols.append(Column("total", N_("Total arrears"), "money", 12, total=True))
    rows = []
    for b in sorted(ps.list_buildings(ctx, community.id), key=lambda b: natural_key(str(b.number))):
        view = billing.arrears(ctx, building_id=b.id, as_of=as_of)
        # "1号楼" already says its number; a name that does not gets the number in front.
        name = b.name if str(b.number) in (b.name or "") else f"{b.number} {b.name}".strip()
        rows.append((name, view.houses, *(view.buckets.get(label, 0) for label in labels), view.total_fen))
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    whole = billing.arrears(ctx, community_id=community.id, as_of=as_of)
    chart = Chart(
        N_("Arrears by days overdue"),
        list(labels),
        [(N_("Arrears"), [whole.buckets.get(label, 0) for label in labels])],
    )
    return ReportData(
        name="arrears_ageing",
        title=N_("Arrears ageing"),
        period_label=p.period.label,
        facts=[
            (N_("Community"), f"{community.code} {community.name}"),
            (N_("As of"), as_of.isoformat()),
            (N_("Houses in arrears"), str(whole.houses)),
        ],
        tables=[Table(cols, rows, totals=totals, title=N_("By building (days past the due date)"))],
        chart=chart,
        notes=[N_("Amounts are unpaid bills past their due date, by how many days they are overdue.")],
        landscape=True,
    )


COLLECTION = register(
    ReportDef("collection", N_("Property fee collection"), collect_collection, "property.view")
)
ARREARS_AGEING = register(
    ReportDef(
        "arrears_ageing",
        N_("Arrears ageing"),
        collect_arrears_ageing,
        "property.view",
        requires=("community",),
    )
)


def collect_prepaid_balances(ctx: Context, p: ReportParams) -> ReportData:
    community = _community(ctx, p.community)
    rows = [
        (r.house_code, r.payer, r.opening_fen, r.deposited_fen, r.used_fen, r.reversed_fen, r.closing_fen, r.last_move)
        for r in rr.prepaid_balances(
            ctx, start=p.period.start, end=p.period.end, community_id=community.id if community else None
        )
    ]  # fmt: skip
    cols = (
        Column("house", N_("House"), width=10),
        Column("payer", N_("Payer"), width=10),
        Column("opening", N_("Opening balance"), "money", 11, total=True),
        Column("deposited", N_("Prepaid in"), "money", 11, total=True),
        Column("used", N_("Used for bills"), "money", 11, total=True),
        Column("reversed", N_("Reversed"), "money", 10, total=True),
        Column("closing", N_("Closing balance"), "money", 11, total=True),
        Column("last", N_("Last movement"), "date", 12),
    )
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    facts = [(N_("Community"), f"{community.code} {community.name}")] if community else []
    facts += [
        (N_("Houses"), str(sum(1 for r in rows if r[6]))),
        (N_("As of"), p.period.end.isoformat()),
    ]
    return ReportData(
        name="prepaid_balances",
        title=N_("Prepaid balances"),
        period_label=p.period.label,
        facts=facts,
        tables=[Table(cols, rows, totals=totals)],
        notes=[
            N_(
                "Opening + prepaid in - used for bills - reversed = closing; the closing total is account 2203."
            )
        ],
        landscape=True,
    )


def collect_deposits_held(ctx: Context, p: ReportParams) -> ReportData:
    community = _community(ctx, p.community)
    as_of = p.period.end
    deposits = rr.deposits_held(ctx, as_of=as_of, community_id=community.id if community else None)
    rows = [
        (d.house_code, d.payer, f"{d.item_code} {d.item_name}", d.bill_no, d.charged_on, d.amount_fen,
         d.received_fen, d.returned_fen, d.held_fen, d.unpaid_fen)
        for d in deposits
    ]  # fmt: skip
    cols = (
        Column("house", N_("House"), width=9),
        Column("payer", N_("Payer"), width=9),
        Column("item", N_("Deposit"), width=13),
        Column("bill", N_("Bill no."), width=14),
        Column("on", N_("Charged on"), "date", 10),
        Column("amount", N_("Charged"), "money", 11, total=True),
        Column("received", N_("Received"), "money", 11, total=True),
        Column("returned", N_("Refunded or kept"), "money", 11, total=True),
        Column("held", N_("Held"), "money", 11, total=True),
        Column("unpaid", N_("Not yet paid"), "money", 11, total=True),
    )
    totals = {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}
    facts = [(N_("Community"), f"{community.code} {community.name}")] if community else []
    facts.append((N_("As of"), as_of.isoformat()))
    return ReportData(
        name="deposits_held",
        title=N_("Deposits held"),
        period_label=p.period.label,
        facts=facts,
        tables=[Table(cols, rows, totals=totals)],
        notes=[
            N_(
                "Deposits charged up to the end of the period; charged less refunded or kept is the 2241 accounts."
            )
        ],
        landscape=True,
    )


PREPAID_BALANCES = register(
    ReportDef("prepaid_balances", N_("Prepaid balances"), collect_prepaid_balances, "property.view")
)
DEPOSITS_HELD = register(
    ReportDef("deposits_held", N_("Deposits held"), collect_deposits_held, "property.view")
)
