"""The plain data a report is made of — tables of typed columns, a chart, heading facts, signature lines —
built by a report's `collect` from what core services return, and turned into PDF or Excel by the renderers.

Money stays integer fen here; a renderer turns it into yuan only at the page or cell boundary.
Text marked as a msgid (titles, column titles, labels) is translated when rendered; data values never are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from core.i18n import N_

ColumnKind = Literal["text", "money", "int", "number", "percent", "date"]
KINDS: tuple[str, ...] = ("text", "money", "int", "number", "percent", "date")

# 制表 / 审核 / 负责人: who drew the report up, who checked it, who answers for it.
DEFAULT_SIGNATURES: tuple[str, ...] = (N_("Prepared by"), N_("Reviewed by"), N_("Approved by"))


@dataclass(frozen=True)
class Column:
    """One column: `title` is a msgid; `width` is relative (PDF) and in characters ×2 (Excel)."""

    key: str
    title: str
    kind: ColumnKind = "text"
    width: float = 10.0
    total: bool = False  # summed in the totals row

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")
        if self.total and self.kind not in ("money", "int", "number"):
            raise ValueError(f"column {self.key!r}: only numeric columns have totals")


@dataclass
class Table:
    """Rows aligned with `columns` (money as int fen, percent as a Decimal fraction, 0.25 = 25%).

    `rows` may be any iterable (a generator streams a large export); `totals` holds the sums of the
    `total` columns when they are known up front (the PDF prints them; Excel writes SUM formulas).
    """

    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    title: str | None = None  # msgid
    totals: dict[str, int | Decimal] | None = None
    total_label: str = N_("Total")
    # Rows drawn in bold (subtotals, section headings), by index; PDF only.
    emphasis: frozenset[int] = frozenset()

    def has_totals(self) -> bool:
        return any(c.total for c in self.columns)


@dataclass(frozen=True)
class Chart:
    """A bar or line chart: one value per category per series; money series in fen."""

    title: str  # msgid
    categories: Sequence[str]
    series: Sequence[tuple[str, Sequence[int | Decimal]]]  # (msgid, values)
    kind: Literal["bar", "line"] = "bar"
    money: bool = True


@dataclass(frozen=True)
class FormPage:
    """One printed form on a page of its own — a notice to one house: facts as (label msgid, value), opening
    paragraphs, a table of its lines, bold summary lines (label msgid, value) and closing paragraphs.
    Paragraphs are (msgid, params) and params are data; the form's signature lines are the report's."""

    facts: Sequence[tuple[str, str]]
    table: Table
    intro: Sequence[tuple[str, dict[str, Any]]] = ()
    summary: Sequence[tuple[str, str]] = ()
    paragraphs: Sequence[tuple[str, dict[str, Any]]] = ()


@dataclass
class ReportData:
    """Everything a renderer needs; `site_name`, `printed_at` and `printed_by` are filled in by render()."""

    name: str
    title: str  # msgid
    period_label: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)  # (label msgid, value) under the title
    tables: list[Table] = field(default_factory=list)
    chart: Chart | None = None
    notes: list[str] = field(default_factory=list)  # msgids, printed after the tables
    landscape: bool = False
    signatures: Sequence[str] = DEFAULT_SIGNATURES
    site_name: str = ""
    printed_at: datetime | None = None
    printed_by: str = ""
    title_params: dict[str, Any] = field(default_factory=dict)
    # Forms printed one per page (batch notices); the PDF prints these instead of `tables`, while Excel
    # writes `tables` (one row per form).
    pages: list[FormPage] = field(default_factory=list)


# Page furniture shared by the PDF and Excel renderers.
PRINTED_LINE = N_("Printed at {time} by {user}")
PAGE_LINE = N_("Page {page} / {pages}")
SIGNATURE_LINE = N_("{role}: ____________")
PERIOD_LINE = N_("Period: {period}")
CHART_SHEET = N_("Chart")
FACT_LINE = N_("{label}: {value}")
