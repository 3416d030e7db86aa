"""What the apps' report forms need from the registry: the reports an actor may run, the fields each one asks
for, parameters built from what the user typed, and a short text summary of a collected report (title,
parameters, first rows, totals) for a preview that is not a picture (the console)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from core.context import Actor, Context
from core.errors import ValidationError
from core.i18n import N_, gettext
from reports.formatting import cell_text
from reports.model import FACT_LINE, ReportData, Table
from reports.period import parse_period
from reports.registry import ReportDef, ReportParams, default_params
from reports.registry import runnable as registry_runnable

# The fields a form may show, in order; "building" narrows the batch notices (an option, not a parameter).
FIELDS = ("period", "book", "community", "account", "building")
FIELD_LABELS = {
    "period": N_("Period"),
    "book": N_("Book"),
    "community": N_("Community"),
    "account": N_("Account"),
    "building": N_("Building"),
}
_MISSING = {
    "book": N_("Book: choose the ledger book this report is for."),
    "community": N_("Community: choose the community this report is for."),
    "account": N_("Account: give the account code this statement is for."),
}
# Reports of these modules read per community; those that do not require one take it as an optional filter.
_COMMUNITY_MODULES = ("reports.property", "reports.ops", "reports.notices")
_BUILDING_MODULES = ("reports.notices",)
PREVIEW_ROWS_MAX = 20  # rows of each table shown in a text preview


def runnable(actor: Actor) -> list[ReportDef]:
    """The registered reports `actor` may run, by name (reports.view and each report's own permission)."""
    return registry_runnable(actor)


def fields(defn: ReportDef) -> tuple[str, ...]:
    """The form fields report `defn` asks for: always the period, then what it requires or may filter by."""
    module = getattr(defn.collect, "__module__", "")
    wanted = {"period", *defn.requires}
    if module in _COMMUNITY_MODULES:
        wanted.add("community")
    if module in _BUILDING_MODULES:
        wanted.add("building")
    return tuple(f for f in FIELDS if f in wanted)


def make_params(ctx: Context, defn: ReportDef, values: dict[str, str]) -> ReportParams:
    """ReportParams from the form's text fields (blank = not given; the period defaults to this month).
    A required field left blank is refused here, before anything is collected."""
    clean = {k: (v or "").strip() for k, v in values.items() if k in FIELDS}
    for needed in defn.requires:
        if not clean.get(needed):
            raise ValidationError(_MISSING[needed], field=needed)
    period = parse_period(clean["period"]) if clean.get("period") else None
    building = clean.get("building")
    return default_params(
        ctx,
        period=period,
        book=clean.get("book") or None,
        community=clean.get("community") or None,
        account=clean.get("account") or None,
        options={"building": building} if building else {},
    )


@dataclass(frozen=True)
class TableSummary:
    """The first rows of one table as text, and its totals row (when it has one)."""

    title: str
    headers: list[str]
    numeric: list[bool]  # right-aligned columns (money, counts, rates)
    rows: list[list[str]]
    row_count: int
    totals: list[str] | None


@dataclass(frozen=True)
class ReportSummary:
    title: str
    period: str
    facts: list[str]
    tables: list[TableSummary]


def materialise(data: ReportData) -> ReportData:
    """The report with every table's rows as a list, so a summary can read them and a renderer still can."""
    data.tables = [t if isinstance(t.rows, list) else replace(t, rows=list(t.rows)) for t in data.tables]
    return data


def _table_summary(table: Table, lang: str | None, rows_max: int) -> TableSummary:
    rows = list(table.rows)
    kinds = [c.kind for c in table.columns]
    shown = [[cell_text(k, v) for k, v in zip(kinds, row, strict=False)] for row in rows[:rows_max]]
    totals = None
    if table.has_totals():
        sums: dict[str, Any] = dict(table.totals or {})
        if not sums:
            keys = [c.key for c in table.columns]
            for col in table.columns:
                if col.total:
                    i = keys.index(col.key)
                    sums[col.key] = sum(r[i] or 0 for r in rows)
        totals = [cell_text(c.kind, sums[c.key]) if c.key in sums else "" for c in table.columns]
        totals[0] = totals[0] or gettext(table.total_label, lang)
    return TableSummary(
        title=gettext(table.title, lang) if table.title else "",
        headers=[gettext(c.title, lang) for c in table.columns],
        numeric=[c.kind in ("money", "int", "number", "percent") for c in table.columns],
        rows=shown,
        row_count=len(rows),
        totals=totals,
    )


def _title(data: ReportData, lang: str | None) -> str:
    text = gettext(data.title, lang)
    return text.format(**data.title_params) if data.title_params else text


def summary(data: ReportData, lang: str | None = None, rows_max: int = PREVIEW_ROWS_MAX) -> ReportSummary:
    """What a text preview shows of a collected report (call `materialise` first if rows may be a generator)."""
    facts = [gettext(FACT_LINE, lang).format(label=gettext(k, lang), value=v) for k, v in data.facts]
    return ReportSummary(
        title=_title(data, lang),
        period=data.period_label,
        facts=facts,
        tables=[_table_summary(t, lang, rows_max) for t in data.tables],
    )
