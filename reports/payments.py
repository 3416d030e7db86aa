"""Payment hub reports from core.payments' read services: the reconciliation report (`reconciliation`:
每日对账结果 by channel and day, and every difference with its decision).

Still missing (no read service yet): the daily cash journal by channel and the refunds report need orders
and refunds listed by business date; the daily close (日结单) renders from the hub's totals in reports.shift.
"""

from __future__ import annotations

from datetime import timedelta

from core.context import Context
from core.i18n import N_, gettext
from core.payments.recon import services as recon
from reports.model import Column, ReportData, Table
from reports.registry import ReportDef, ReportParams, register
from reports.shift import channel_name

PAGE = 1000
DIFFERENCES_MAX = 100_000

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


RECONCILIATION = register(ReportDef("reconciliation", N_("Reconciliation report"), collect_reconciliation))
