"""Excel rendering of a ReportData with openpyxl in write-only (streaming) mode: real numbers with number
formats (yuan `#,##0.00` from exact Decimals), a frozen header, an auto filter, column widths, a totals row
of SUM formulas, signature lines, and the chart the PDF has on a sheet of its own.
"""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from core.i18n import gettext
from reports.formatting import cell_value, instant_text
from reports.model import (
    CHART_SHEET,
    FACT_LINE,
    PERIOD_LINE,
    PRINTED_LINE,
    SIGNATURE_LINE,
    Chart,
    ReportData,
    Table,
)
from reports.xlsx_rows import FastRows

YUAN_FORMAT = "#,##0.00"
FORMATS = {
    "money": YUAN_FORMAT,
    "int": "#,##0",
    "percent": "0.00%",
    "date": "yyyy-mm-dd",
    "number": "#,##0.####",
}
SHEET_TITLE_MAX = 31
PAPER_A4 = 9
HEADING_ROWS = 4  # the SpreadsheetML paper size code of A4
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADER_FILL = PatternFill("solid", fgColor="E8E8E8")
_THIN = Side(style="thin", color="444444")
_TOP = Border(top=Side(style="medium", color="000000"))
_HEADER_BORDER = Border(top=_THIN, bottom=_THIN, left=_THIN, right=_THIN)


def t(msgid: str, lang: str | None = None, **params: Any) -> str:
    text = gettext(msgid, lang)
    return text.format(**params) if params else text


def sheet_title(text: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("_", text)[:SHEET_TITLE_MAX] or "Sheet"
    title, n = base, 2
    while title in taken:
        suffix = f" ({n})"
        title, n = base[: SHEET_TITLE_MAX - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


class _CellMaker:
    """Styled write-only cells; a styled template per column kind is copied because building styles per
    cell dominates the time of a 100,000-row export."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self._templates: dict[tuple[str, bool], WriteOnlyCell] = {}

    def make(self, kind: str, value: Any, bold: bool = False) -> Any:
        if kind == "text" and not bold:
            return value
        key = (kind, bold)
        tpl = self._templates.get(key)
        if tpl is None:
            tpl = WriteOnlyCell(self.ws)
            if kind in FORMATS:
                tpl.number_format = FORMATS[kind]
            if bold:
                tpl.font = _BOLD
            self._templates[key] = tpl
        cell = WriteOnlyCell(self.ws, value)
        cell._style = tpl._style
        return cell


def _heading(ws, data: ReportData, lang: str | None, width: int) -> None:
    """Title, site and period, facts and who printed it, then a blank row: HEADING_ROWS rows."""
    title = WriteOnlyCell(ws, t(data.title, lang, **data.title_params))
    title.font = _TITLE
    ws.append([title])
    sub = [data.site_name]
    if data.period_label:
        sub.append(t(PERIOD_LINE, lang, period=data.period_label))
    ws.append(["    ".join(s for s in sub if s)])
    facts = "    ".join(t(FACT_LINE, lang, label=t(label, lang), value=value) for label, value in data.facts)
    printed = t(
        PRINTED_LINE,
        lang,
        time=instant_text(data.printed_at) if data.printed_at else "",
        user=data.printed_by,
    )
    ws.append([facts + ("    " if facts else "") + printed])
    ws.append([])
    for row in range(1, 4 if width > 1 else 1):
        ws.merged_cells.add(f"A{row}:{get_column_letter(max(width, 1))}{row}")


def _write_table(ws, data: ReportData, table: Table, lang: str | None) -> None:
    cols = list(table.columns)
    for i, c in enumerate(cols, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(8.0, c.width * 1.6)
    header_row = HEADING_ROWS + 1
    # Write-only sheets stream their view settings with the first row, so the pane is frozen before it.
    ws.freeze_panes = f"A{header_row + 1}"
    _heading(ws, data, lang, len(cols))
    header = []
    for c in cols:
        cell = WriteOnlyCell(ws, t(c.title, lang))
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    ws.print_title_rows = f"{header_row}:{header_row}"
    maker = _CellMaker(ws)
    kinds = [c.kind for c in cols]
    fast = FastRows(ws, kinds, FORMATS)
    count = 0
    for row in table.rows:
        if fast.enabled:
            ws.append(fast.row(row, header_row + count + 1))
        else:
            ws.append([maker.make(k, cell_value(k, v)) for k, v in zip(kinds, row, strict=True)])
        count += 1
    last = header_row + count
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(cols))}{max(last, header_row)}"
    if table.has_totals():
        totals: list[Any] = []
        for i, c in enumerate(cols, start=1):
            if i == 1 and not c.total:
                value: Any = t(table.total_label, lang)
                cell = maker.make("text", value, bold=True)
            elif c.total:
                letter = get_column_letter(i)
                formula = f"=SUM({letter}{header_row + 1}:{letter}{last})" if count else 0
                cell = maker.make(c.kind, formula, bold=True)
            elif table.totals and table.totals.get(c.key) is not None:  # a figure of the whole, not a sum
                cell = maker.make(c.kind, cell_value(c.kind, table.totals[c.key]), bold=True)
            else:
                cell = None
            totals.append(cell)
        ws.append(totals)
    if data.signatures:
        ws.append([])
        ws.append(["    ".join(t(SIGNATURE_LINE, lang, role=t(s, lang)) for s in data.signatures)])


def _write_chart(wb: Workbook, chart: Chart, lang: str | None, taken: set[str]) -> None:
    ws = wb.create_sheet(sheet_title(t(CHART_SHEET, lang), taken))
    ws.column_dimensions["A"].width = 18
    ws.append([""] + [t(name, lang) for name, _ in chart.series])
    maker = _CellMaker(ws)
    kind = "money" if chart.money else "number"
    for i, category in enumerate(chart.categories):
        values = [maker.make(kind, cell_value(kind, s[1][i])) for s in chart.series]
        ws.append([str(category), *values])
    n = len(chart.categories)
    plot = BarChart() if chart.kind == "bar" else LineChart()
    plot.title = t(chart.title, lang)
    plot.height, plot.width = 9, 18
    plot.y_axis.numFmt = YUAN_FORMAT if chart.money else "#,##0"
    plot.y_axis.delete = False
    plot.x_axis.delete = False
    values = Reference(ws, min_col=2, max_col=1 + len(chart.series), min_row=1, max_row=1 + n)
    plot.add_data(values, titles_from_data=True)
    plot.set_categories(Reference(ws, min_col=1, min_row=2, max_row=1 + n))
    ws.add_chart(plot, f"{get_column_letter(len(chart.series) + 3)}2")


def render_xlsx(data: ReportData, lang: str | None = None) -> bytes:
    """The report as .xlsx bytes."""
    buf = io.BytesIO()
    write_xlsx(data, buf, lang)
    return buf.getvalue()


def write_xlsx(data: ReportData, out: Any, lang: str | None = None) -> None:
    """Stream the report into `out` (a path or a binary file): rows are written as they are produced."""
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    tables = data.tables or [Table(columns=(), rows=())]
    for table in tables:
        name = t(table.title, lang) if table.title else t(data.title, lang, **data.title_params)
        ws = wb.create_sheet(sheet_title(name, taken))
        ws.page_setup.paperSize = PAPER_A4
        ws.page_setup.orientation = "landscape" if data.landscape else "portrait"
        ws.page_setup.fitToWidth = 1
        _write_table(ws, data, table, lang)
    if data.chart is not None:
        _write_chart(wb, data.chart, lang, taken)
    wb.save(out)
