"""PDF rendering of a ReportData with reportlab platypus: A4 (portrait or landscape), heading with site,
period and facts, tables whose header repeats on every page, totals, a chart, signature lines, and a footer
with printed-at, printed-by and "page x / y". Chinese is drawn with the embedded CJK font.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from typing import Any

from reportlab import rl_config
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)
from reportlab.platypus import Table as RLTable
from reportlab.platypus.flowables import Flowable

from core.i18n import gettext
from reports import fonts
from reports.formatting import cell_text, instant_text
from reports.grid import GridTable, make_row, wrap_text
from reports.model import (
    FACT_LINE,
    PAGE_LINE,
    PERIOD_LINE,
    PRINTED_LINE,
    SIGNATURE_LINE,
    Chart,
    FormPage,
    ReportData,
    Table,
)

# Page streams zlib-compressed but not also ASCII85-armoured: smaller files, and the pure-Python encoder was a
# quarter of the time of a 1,000-page notice batch. Every PDF reader takes binary streams.
rl_config.useA85 = 0

BODY_SIZE = 9
MARGIN = 15 * mm
GRID = colors.HexColor("#444444")
HEADER_BG = colors.HexColor("#E8E8E8")
SERIES_COLOURS = (
    colors.HexColor("#2F5597"),
    colors.HexColor("#C55A11"),
    colors.HexColor("#548235"),
    colors.HexColor("#7F6000"),
    colors.HexColor("#7030A0"),
)
NUMERIC = ("money", "int", "number", "percent")


def t(msgid: str, lang: str | None = None, **params: Any) -> str:
    text = gettext(msgid, lang)
    return text.format(**params) if params else text


def styles() -> dict[str, ParagraphStyle]:
    fonts.register()
    return {
        "title": ParagraphStyle(
            "title", fontName=fonts.FONT_BOLD, fontSize=16, leading=22, alignment=TA_CENTER, spaceAfter=2
        ),
        "sub": ParagraphStyle("sub", fontName=fonts.FONT, fontSize=9.5, leading=13, alignment=TA_CENTER),
        "facts": ParagraphStyle("facts", fontName=fonts.FONT, fontSize=9, leading=12),
        "h2": ParagraphStyle(
            "h2", fontName=fonts.FONT_BOLD, fontSize=11, leading=15, spaceBefore=6, spaceAfter=3
        ),
        "head": ParagraphStyle(
            "head", fontName=fonts.FONT_BOLD, fontSize=BODY_SIZE, leading=BODY_SIZE + 2, alignment=TA_CENTER
        ),
        "cell": ParagraphStyle("cell", fontName=fonts.FONT, fontSize=BODY_SIZE, leading=BODY_SIZE + 2),
        "note": ParagraphStyle("note", fontName=fonts.FONT, fontSize=8.5, leading=11),
    }


def esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def numbered_canvas(draw_page: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that holds its pages back until save(), so each can be stamped with 'page x / y'."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, **kw)
            self._held: list[dict] = []

        def showPage(self) -> None:
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._held)
            for number, state in enumerate(self._held, start=1):
                self.__dict__.update(state)
                draw_page(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


def page_decorator(data: ReportData, lang: str | None) -> Callable[[Canvas, int, int], None]:
    title = t(data.title, lang, **data.title_params)
    printed = t(
        PRINTED_LINE,
        lang,
        time=instant_text(data.printed_at) if data.printed_at else "",
        user=data.printed_by,
    )

    def draw(c: Canvas, number: int, total: int) -> None:
        width, height = c._pagesize
        c.saveState()
        c.setFont(fonts.FONT, 8)
        c.setFillColor(colors.HexColor("#555555"))
        c.drawString(MARGIN, height - 10 * mm, data.site_name)
        c.drawRightString(width - MARGIN, height - 10 * mm, title)
        c.setStrokeColor(colors.HexColor("#999999"))
        c.setLineWidth(0.4)
        c.line(MARGIN, height - 11.5 * mm, width - MARGIN, height - 11.5 * mm)
        c.line(MARGIN, 11.5 * mm, width - MARGIN, 11.5 * mm)
        c.drawString(MARGIN, 8 * mm, printed)
        c.drawRightString(width - MARGIN, 8 * mm, t(PAGE_LINE, lang, page=number, pages=total))
        c.restoreState()

    return draw


def _fits(text: str, width: float) -> bool:
    # A cheap upper bound first: no glyph of the font is wider than the font size.
    return len(text) * BODY_SIZE <= width or stringWidth(text, fonts.FONT, BODY_SIZE) <= width


def table_flowable(table: Table, avail_width: float, lang: str | None) -> GridTable:
    cols = list(table.columns)
    scale = avail_width / sum(c.width for c in cols)
    widths = [c.width * scale for c in cols]
    kinds = [c.kind for c in cols]
    header = make_row([t(c.title, lang) for c in cols], widths, BODY_SIZE, bold=True)
    rows = [
        make_row(
            [cell_text(k, v) for k, v in zip(kinds, row, strict=True)],
            widths,
            BODY_SIZE,
            bold=i in table.emphasis,
        )
        for i, row in enumerate(table.rows)
    ]
    if table.has_totals() and table.totals is not None:
        texts = [""] * len(cols)
        texts[0] = t(table.total_label, lang)
        for i, c in enumerate(cols):
            if c.total:
                texts[i] = cell_text(c.kind, table.totals.get(c.key, 0))
            elif c.key in table.totals:  # a figure of the whole that is not a sum (the overall rate)
                texts[i] = cell_text(c.kind, table.totals[c.key])
        rows.append(make_row(texts, widths, BODY_SIZE, bold=True, total=True))
    return GridTable(header, rows, widths, [k in NUMERIC for k in kinds], BODY_SIZE)


def _yuan(value: int | Any, money: bool) -> float:
    # Chart geometry is drawn in floats; the amounts printed in the tables stay exact.
    return float(value) / 100 if money else float(value)


def chart_flowable(chart: Chart, width: float, lang: str | None) -> Drawing:
    height = 62 * mm
    d = Drawing(width, height + 10 * mm)
    d.add(
        String(
            width / 2,
            height + 5 * mm,
            t(chart.title, lang),
            fontName=fonts.FONT_BOLD,
            fontSize=10,
            textAnchor="middle",
        )
    )
    plot = VerticalBarChart() if chart.kind == "bar" else HorizontalLineChart()
    plot.x, plot.y = 18 * mm, 14 * mm
    plot.width, plot.height = width - 22 * mm - 38 * mm, height - 18 * mm
    plot.data = [[_yuan(v, chart.money) for v in values] for _, values in chart.series]
    plot.categoryAxis.categoryNames = [str(c) for c in chart.categories]
    plot.categoryAxis.labels.fontName = fonts.FONT
    plot.categoryAxis.labels.fontSize = 7
    if len(chart.categories) > 8:
        plot.categoryAxis.labels.angle = 30
        plot.categoryAxis.labels.boxAnchor = "ne"
    plot.valueAxis.labels.fontName = fonts.FONT
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.forceZero = True
    plot.valueAxis.labelTextFormat = "{:,.0f}".format
    if not chart.money:  # counts: whole-number ticks, or the rounded labels repeat ("1, 2, 2")
        top = max((float(v) for _, values in chart.series for v in values), default=0.0)
        plot.valueAxis.valueStep = max(1, math.ceil(top / 5))
    for i in range(len(chart.series)):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        if chart.kind == "bar":
            plot.bars[i].fillColor = colour
            plot.bars[i].strokeColor = None
        else:
            plot.lines[i].strokeColor = colour
            plot.lines[i].strokeWidth = 1.5
    d.add(plot)
    legend = Legend()
    legend.x, legend.y = width - 36 * mm, height - 6 * mm
    legend.fontName = fonts.FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.colorNamePairs = [
        (SERIES_COLOURS[i % len(SERIES_COLOURS)], t(name, lang)) for i, (name, _) in enumerate(chart.series)
    ]
    d.add(legend)
    return d


def signature_flowable(labels: Sequence[str], width: float, lang: str | None) -> RLTable:
    cells = [t(SIGNATURE_LINE, lang, role=t(label, lang)) for label in labels]
    tbl = RLTable([cells], colWidths=[width / len(labels)] * len(labels))
    tbl.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("TOPPADDING", (0, 0), (-1, -1), 14),
            ]
        )
    )
    return tbl


def heading(data: ReportData, lang: str | None, st: dict) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(esc(t(data.title, lang, **data.title_params)), st["title"])]
    sub = [data.site_name]
    if data.period_label:
        sub.append(t(PERIOD_LINE, lang, period=data.period_label))
    out.append(Paragraph(esc("    ".join(s for s in sub if s)), st["sub"]))
    if data.facts:
        # Paragraphs collapse runs of spaces; non-breaking ones keep the facts apart.
        facts = "&nbsp;&nbsp;&nbsp;&nbsp; ".join(
            esc(t(FACT_LINE, lang, label=t(label, lang), value=value)) for label, value in data.facts
        )
        out.append(Paragraph(facts, st["facts"]))
    out.append(Spacer(1, 3 * mm))
    return out


class FormFlowable(Flowable):
    """One form filling one page, drawn straight on the canvas (a notice batch is thousands of pages; platypus
    paragraphs per page would cost more than the rest of the document)."""

    def __init__(self, data: ReportData, form: FormPage, lang: str | None) -> None:
        super().__init__()
        self.data, self.form, self.lang = data, form, lang

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width, self.height = avail_width, avail_height
        return avail_width, avail_height

    def _paragraphs(self, y: float, items: Sequence[tuple[str, dict[str, Any]]], size: float) -> float:
        c, lang = self.canv, self.lang
        for msgid, params in items:
            for line in wrap_text(t(msgid, lang, **params), fonts.FONT, size, self.width):
                y -= size * 1.6
                c.drawString(0, y, line)
        return y

    def draw(self) -> None:
        c, data, form, lang, width = self.canv, self.data, self.form, self.lang, self.width
        y = self.height
        c.setFont(fonts.FONT_BOLD, 18)
        y -= 20
        c.drawCentredString(width / 2, y, t(data.title, lang, **data.title_params))
        sub = [data.site_name]
        if data.period_label:
            sub.append(t(PERIOD_LINE, lang, period=data.period_label))
        c.setFont(fonts.FONT, 9.5)
        y -= 16
        c.drawCentredString(width / 2, y, "    ".join(s for s in sub if s))
        y -= 8
        # Facts three to a row, each in a third of the width; a long one wraps and the row grows.
        c.setFont(fonts.FONT, 9.5)
        third = width / 3
        facts = [t(FACT_LINE, lang, label=t(label, lang), value=value) for label, value in form.facts]
        for start in range(0, len(facts), 3):
            cells = [wrap_text(text, fonts.FONT, 9.5, third - 6) for text in facts[start : start + 3]]
            for col, lines in enumerate(cells):
                for k, line in enumerate(lines):
                    c.drawString(col * third, y - 15 - k * 12, line)
            y -= 15 + 12 * (max(len(lines) for lines in cells) - 1)
        y -= 6
        c.setFont(fonts.FONT, 10.5)
        y = self._paragraphs(y, form.intro, 10.5) - 8
        grid = table_flowable(form.table, width, lang)
        _, h = grid.wrap(width, y)
        grid.drawOn(c, 0, y - h)
        y -= h + 6
        c.setFont(fonts.FONT_BOLD, 10.5)
        for label, value in form.summary:
            y -= 16
            c.drawRightString(width, y, t(FACT_LINE, lang, label=t(label, lang), value=value))
        c.setFont(fonts.FONT, 10)
        y = self._paragraphs(y - 4, form.paragraphs, 10)
        if data.signatures:
            c.setFont(fonts.FONT, 10.5)
            cell = width / len(data.signatures)
            for i, label in enumerate(data.signatures):
                c.drawString(i * cell, max(8.0, y - 34), t(SIGNATURE_LINE, lang, role=t(label, lang)))


def _form_story(data: ReportData, lang: str | None) -> list[Flowable]:
    story: list[Flowable] = []
    for i, form in enumerate(data.pages):
        if i:
            story.append(PageBreak())
        story.append(FormFlowable(data, form, lang))
    return story


def render_pdf(data: ReportData, lang: str | None = None) -> bytes:
    """The report as PDF bytes; a report with form pages prints one form per page instead of its tables."""
    st = styles()
    pagesize = landscape(A4) if data.landscape else A4
    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
        title=t(data.title, lang, **data.title_params),
        author=data.printed_by,
        creator="Anju",
    )
    frame = Frame(
        doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body",
        leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0,
    )  # fmt: skip
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    if data.pages:
        doc.build(_form_story(data, lang), canvasmaker=numbered_canvas(page_decorator(data, lang)))
        return buf.getvalue()
    story: list[Flowable] = heading(data, lang, st)
    grids: list[GridTable] = []
    for table in data.tables:
        if table.title:
            story.append(Paragraph(esc(t(table.title, lang)), st["h2"]))
        grids.append(table_flowable(table, doc.width, lang))
        story.append(grids[-1])
        story.append(Spacer(1, 4 * mm))
    if data.chart is not None:
        story.append(KeepTogether([chart_flowable(data.chart, doc.width, lang)]))
    for note in data.notes:
        story.append(Paragraph(esc(t(note, lang)), st["note"]))
    if data.signatures:
        lines = signature_flowable(data.signatures, doc.width, lang)
        if grids and data.chart is None and not data.notes:
            # The signature lines sign the table above them: never on a page of their own.
            grids[-1].keep_after = 10 * mm + lines.wrap(doc.width, doc.height)[1]
        story.append(KeepTogether([Spacer(1, 6 * mm), lines]))
    while story and isinstance(story[-1], Spacer):
        story.pop()  # a gap after the last thing that does not fit would start a blank page of its own
    doc.build(story, canvasmaker=numbered_canvas(page_decorator(data, lang)))
    return buf.getvalue()
