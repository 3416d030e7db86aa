"""Payment hub reports from core.payments' read services: the reconciliation report (`reconciliation`:
每日对账结果 by channel and day, and every difference with its decision), the daily cash journal by channel
(`cash-journal`, 日记账), the refunds of a period (`refunds`) and the settlement statement per business line
(`settlement`, 结算单). The daily close (日结单) renders from the hub's totals in reports.shift.
"""

from __future__ import annotations

from datetime import timedelta

from core.context import Context
from core.errors import PermissionDenied
from core.i18n import N_, gettext
from core.payments import journal
from core.payments import services as payments
from core.payments.recon import services as recon
from core.payments.settlement import services as settlement
from reports.model import Chart, Column, ReportData, Table
from reports.registry import ReportDef, ReportParams, register
from reports.shift import channel_name

PAGE = 1000
DIFFERENCES_MAX = 100_000
REFUNDS_MAX = 200_000  # a longer list is a query, not a report

DIFFERENCE_TITLES = {
    "missing_at_channel": N_("Missing at the channel"),
    "missing_locally": N_("Missing locally"),
    "amount_mismatch": N_("Amount differs"),
    "status_mismatch": N_("Status differs"),
    "fee_mismatch": N_("Fee differs"),
}


DECISION_TITLES = {
    "accept_channel": N_("Accept the channel's record"),
    "accept_local": N_("Accept our record"),
    "refund_payer": N_("Refund the payer"),
    "write_off": N_("Write off"),
}


def _days(p: ReportParams):
    day = p.period.start
    while day <= p.period.end:
        yield day
        day += timedelta(days=1)


def collect_reconciliation(ctx: Context, p: ReportParams) -> ReportData:
    batches = []
    for day in _days(p):
        batches += sorted(recon.list_batches(ctx, day=day, limit=100), key=lambda b: b.channel)
    batch_cols = (
        Column("day", N_("Date"), "date", 9),
        Column("channel", N_("Channel"), width=9),
        Column("lines", N_("Statement lines"), "int", 7, total=True),
        Column("matched", N_("Matched"), "int", 7, total=True),
        Column("missing_at_channel", N_("Missing at the channel"), "int", 7, total=True),
        Column("missing_locally", N_("Missing locally"), "int", 7, total=True),
        Column("amount", N_("Amount differs"), "int", 7, total=True),
        Column("status", N_("Status differs"), "int", 7, total=True),
        Column("fee", N_("Fee differs"), "int", 7, total=True),
        Column("pending", N_("Waiting for the next day"), "int", 7, total=True),
        Column("open", N_("Still open"), "int", 7, total=True),
    )
    batch_rows = [
        (
            b.business_date, channel_name(b.channel), b.statement_lines, b.matched, b.missing_at_channel,
            b.missing_locally, b.amount_mismatch, b.status_mismatch, b.fee_mismatch, b.pending, b.open_differences,
        )
        for b in batches
    ]  # fmt: skip
    batch_totals = {c.key: sum(r[i] for r in batch_rows) for i, c in enumerate(batch_cols) if c.total}
    diff_cols = (
        Column("day", N_("Date"), "date", 9),
        Column("channel", N_("Channel"), width=8),
        Column("kind", N_("Difference"), width=11),
        Column("doc", N_("Document"), width=12),
        Column("local", N_("Our amount"), "money", 10, total=True),
        Column("remote", N_("Channel amount"), "money", 10, total=True),
        Column("local_fee", N_("Our fee"), "money", 8),
        Column("remote_fee", N_("Channel fee"), "money", 8),
        Column("status", N_("State"), width=8),
        Column("decision", N_("Decision"), width=16),
    )
    diff_rows = []
    for day in _days(p):
        offset = 0
        while offset < DIFFERENCES_MAX:
            page = recon.list_differences(ctx, day=day, status=None, limit=PAGE, offset=offset)
            for d in page:
                decision = " ".join(
                    x for x in (d.decision or "", d.decision_note or "", d.resolved_by or "") if x
                )
                diff_rows.append(
                    (
                        d.business_date, channel_name(d.channel), gettext(DIFFERENCE_TITLES.get(d.kind, d.kind)),
                        d.doc_no, d.local_amount_fen, d.channel_amount_fen, d.local_fee_fen, d.channel_fee_fen,
                        gettext(N_("open")) if d.status == "open" else gettext(N_("resolved")), decision,
                    )
                )  # fmt: skip
            if len(page) < PAGE:
                break
            offset += PAGE
    diff_totals = {
        "local": sum(r[4] or 0 for r in diff_rows),
        "remote": sum(r[5] or 0 for r in diff_rows),
    }
    return ReportData(
        name="reconciliation",
        title=N_("Reconciliation report"),
        period_label=p.period.label,
        facts=[(N_("Statements"), str(len(batch_rows))), (N_("Differences"), str(len(diff_rows)))],
        tables=[
            Table(batch_cols, batch_rows, title=N_("Statements by day and channel"), totals=batch_totals),
            Table(diff_cols, diff_rows, title=N_("Differences"), totals=diff_totals),
        ],
        landscape=True,
    )


RECONCILIATION = register(
    ReportDef("reconciliation", N_("Reconciliation report"), collect_reconciliation, "recon.view")
)


# ---------------------------------------------------------------------------------------------------------
# 日记账: the daily cash journal by channel


def _journal_cols(with_day: bool) -> list[Column]:
    cols = [Column("day", N_("Date"), "date", 9)] if with_day else []
    cols += [
        Column("channel", N_("Channel"), width=11),
        Column("payments", N_("Payments"), "int", 7, total=True),
        Column("gross", N_("Received"), "money", 12, total=True),
        Column("refunds", N_("Refunds"), "int", 7, total=True),
        Column("refunded", N_("Refunded"), "money", 12, total=True),
        Column("fee", N_("Channel fee"), "money", 10, total=True),
        Column("net", N_("Net"), "money", 12, total=True),
    ]
    return cols


def _totals(cols: list[Column], rows: list[tuple]) -> dict[str, int]:
    return {c.key: sum(r[i] for r in rows) for i, c in enumerate(cols) if c.total}


def collect_cash_journal(ctx: Context, p: ReportParams) -> ReportData:
    lines = journal.cash_journal(ctx, p.period.start, p.period.end)
    day_cols = _journal_cols(with_day=True)
    day_rows = [
        (x.business_date, channel_name(x.channel), x.payments, x.gross_fen, x.refunds, x.refunds_fen, x.fees_fen,
         x.net_fen)
        for x in lines
    ]  # fmt: skip
    by_channel: dict[str, list[int]] = {}
    for x in lines:
        acc = by_channel.setdefault(x.channel, [0] * 6)
        for i, v in enumerate((x.payments, x.gross_fen, x.refunds, x.refunds_fen, x.fees_fen, x.net_fen)):
            acc[i] += v
    channel_cols = _journal_cols(with_day=False)
    channel_rows = [(channel_name(ch), *v) for ch, v in sorted(by_channel.items())]
    day_totals = _totals(day_cols, day_rows)
    chart = None
    if channel_rows:
        chart = Chart(
            N_("Net takings by channel"),
            [r[0] for r in channel_rows],
            [(N_("Received"), [r[2] for r in channel_rows]), (N_("Net"), [r[6] for r in channel_rows])],
        )
    return ReportData(
        name="cash-journal",
        title=N_("Daily cash journal by channel"),
        period_label=p.period.label,
        facts=[
            (N_("Days with takings"), str(len({x.business_date for x in lines}))),
            (N_("Payments"), str(day_totals.get("payments", 0))),
        ],
        tables=[
            Table(
                channel_cols, channel_rows, title=N_("By channel"), totals=_totals(channel_cols, channel_rows)
            ),
            Table(day_cols, day_rows, title=N_("By day and channel"), totals=day_totals),
        ],
        chart=chart,
        landscape=True,
    )


CASH_JOURNAL = register(
    ReportDef("cash-journal", N_("Daily cash journal by channel"), collect_cash_journal, "payments.view")
)


# ---------------------------------------------------------------------------------------------------------
# 退款报表


def collect_refunds(ctx: Context, p: ReportParams) -> ReportData:
    cols = (
        Column("day", N_("Date"), "date", 9),
        Column("refund_no", N_("Refund no."), width=14),
        Column("order_no", N_("Order no."), width=14),
        Column("app", N_("Business line"), width=9),
        Column("channel", N_("Channel"), width=9),
        Column("amount", N_("Refunded"), "money", 10, total=True),
        Column("fee_back", N_("Fee given back"), "money", 9, total=True),
        Column("reason", N_("Reason"), width=16),
    )
    rows: list[tuple] = []
    while len(rows) < REFUNDS_MAX:
        page = journal.list_refunds(ctx, p.period.start, p.period.end, limit=PAGE, offset=len(rows))
        rows += [
            (r.business_date, r.refund_no, r.order_no, r.app_id, channel_name(r.channel), r.amount_fen,
             r.fee_refund_fen, r.reason)
            for r in page
        ]  # fmt: skip
        if len(page) < PAGE:
            break
    totals = _totals(list(cols), rows)
    return ReportData(
        name="refunds",
        title=N_("Refunds report"),
        period_label=p.period.label,
        facts=[(N_("Refunds"), str(len(rows)))],
        tables=[Table(cols, rows, title=N_("Refunds report"), totals=totals)],
        landscape=True,
    )


REFUNDS = register(ReportDef("refunds", N_("Refunds report"), collect_refunds, "payments.view"))


# ---------------------------------------------------------------------------------------------------------
# 结算单: the settlement statement per business line


def _app_names(ctx: Context) -> dict[str, str]:
    try:
        return {a.app_id: a.name for a in payments.list_apps(ctx)}
    except PermissionDenied:  # the settlement figures need their own permission only; names are a nicety
        return {}


def collect_settlement(ctx: Context, p: ReportParams) -> ReportData:
    batches = sorted(
        settlement.list_settlements(ctx, date_from=p.period.start, date_to=p.period.end),
        key=lambda b: (b.app_id, b.business_date),
    )
    names = _app_names(ctx)

    def line(app_id: str) -> str:
        name = names.get(app_id)
        return f"{app_id} {name}" if name and name != app_id else app_id

    money = ("gross_fen", "refunds_fen", "fees_fen", "net_fen")
    summary_cols = [
        Column("app", N_("Business line"), width=16),
        Column("batches", N_("Settlement batches"), "int", 7, total=True),
        Column("orders", N_("Payments"), "int", 7, total=True),
        Column("refunds", N_("Refunds"), "int", 7, total=True),
        Column("gross", N_("Received"), "money", 12, total=True),
        Column("refunded", N_("Refunded"), "money", 12, total=True),
        Column("fee", N_("Channel fee"), "money", 10, total=True),
        Column("net", N_("Net paid out"), "money", 12, total=True),
    ]
    per_app: dict[str, list[int]] = {}
    per_channel: dict[tuple[str, str], list[int]] = {}
    for b in batches:
        acc = per_app.setdefault(b.app_id, [0] * 7)
        for i, v in enumerate(
            (1, b.order_count, b.refund_count, b.gross_fen, b.refunds_fen, b.fees_fen, b.net_fen)
        ):
            acc[i] += v
        for ch, figures in b.by_channel.items():
            cacc = per_channel.setdefault((b.app_id, ch), [0] * 3)
            for i, key in enumerate(money[:3]):
                cacc[i] += int(figures.get(key, 0))
    summary_rows = [(line(app), *v) for app, v in sorted(per_app.items())]
    channel_cols = [
        Column("app", N_("Business line"), width=16),
        Column("channel", N_("Channel"), width=11),
        Column("gross", N_("Received"), "money", 12, total=True),
        Column("refunded", N_("Refunded"), "money", 12, total=True),
        Column("fee", N_("Channel fee"), "money", 10, total=True),
        Column("net", N_("Net"), "money", 12, total=True),
    ]
    channel_rows = [
        (line(app), channel_name(ch), g, r, f, g - r - f)
        for (app, ch), (g, r, f) in sorted(per_channel.items())
    ]
    batch_cols = [
        Column("day", N_("Date"), "date", 9),
        Column("batch_no", N_("Batch no."), width=12),
        Column("app", N_("Business line"), width=12),
        Column("orders", N_("Payments"), "int", 6, total=True),
        Column("refunds", N_("Refunds"), "int", 6, total=True),
        Column("gross", N_("Received"), "money", 11, total=True),
        Column("refunded", N_("Refunded"), "money", 11, total=True),
        Column("fee", N_("Channel fee"), "money", 9, total=True),
        Column("net", N_("Net paid out"), "money", 11, total=True),
        Column("payee", N_("Payee"), width=14),
    ]
    batch_rows = [
        (b.business_date, b.batch_no, b.app_id, b.order_count, b.refund_count, b.gross_fen, b.refunds_fen,
         b.fees_fen, b.net_fen, b.payee_name)
        for b in batches
    ]  # fmt: skip
    return ReportData(
        name="settlement",
        title=N_("Settlement statement"),
        period_label=p.period.label,
        facts=[(N_("Business lines"), str(len(per_app))), (N_("Settlement batches"), str(len(batches)))],
        tables=[
            Table(
                summary_cols,
                summary_rows,
                title=N_("By business line"),
                totals=_totals(summary_cols, summary_rows),
            ),
            Table(
                channel_cols,
                channel_rows,
                title=N_("By business line and channel"),
                totals=_totals(channel_cols, channel_rows),
            ),
            Table(
                batch_cols, batch_rows, title=N_("Settlement batches"), totals=_totals(batch_cols, batch_rows)
            ),
        ],
        landscape=True,
    )


SETTLEMENT = register(
    ReportDef("settlement", N_("Settlement statement"), collect_settlement, "payments.settlement.view")
)
