"""Printing at the counter: a document (receipt, handover slip) as Qt rich text, shown in a print preview with
print-to-printer and save-as-PDF, on the paper chosen in the settings: A4, A5 or the 3-part continuous form
(三联: one page per ply)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import QPageLayout, QPageSize, QTextDocument
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo, QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QWidget

from core.i18n import N_, _
from core.money import format_fen

# 241-2 continuous stationery (9.5 in × 5.5 in), the usual paper of dot-matrix 三联 receipts.
CONTINUOUS_MM = (241.0, 139.7)
PLIES = (N_("Part 1: stub"), N_("Part 2: payer's copy"), N_("Part 3: accounting copy"))
PAGE_BREAK = "<div style='page-break-before: always'></div>"


def page_html(body: str, paper: str) -> str:
    """The document for the paper: on the 三联 form, one copy per ply, each on its own page and named."""
    if paper != "triplicate":
        return body
    plies = [f"<p align='right'><b>{escape(_(ply))}</b></p>{body}" for ply in PLIES]
    return PAGE_BREAK.join(plies)


def configure(printer: QPrinter, paper: str, printer_name: str = "") -> QPrinter:
    """Paper size and orientation for `paper`; a named printer if it is installed (else the default)."""
    if printer_name and printer_name in QPrinterInfo.availablePrinterNames():
        printer.setPrinterName(printer_name)
    if paper == "A4":
        layout = QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(15, 15, 15, 15)
        )
    elif paper == "A5":
        layout = QPageLayout(
            QPageSize(QPageSize.PageSizeId.A5), QPageLayout.Orientation.Landscape, QMarginsF(10, 10, 10, 10)
        )
    else:
        size = QPageSize(
            QSizeF(*CONTINUOUS_MM), QPageSize.Unit.Millimeter, "241-2", QPageSize.SizeMatchPolicy.ExactMatch
        )
        layout = QPageLayout(size, QPageLayout.Orientation.Portrait, QMarginsF(8, 8, 8, 8))
    layout.setUnits(QPageLayout.Unit.Millimeter)
    printer.setPageLayout(layout)
    return printer


def document(html: str, paper: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setHtml(page_html(html, paper))
    return doc


def print_html(printer: QPrinter, html: str, paper: str) -> None:
    document(html, paper).print_(printer)


def save_pdf(html: str, path: str, paper: str) -> str:
    """The document printed into a PDF file (what the preview's save-as-PDF writes)."""
    printer = configure(QPrinter(QPrinter.PrinterMode.HighResolution), paper)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(path)
    print_html(printer, html, paper)
    return path


class PreviewDialog(QPrintPreviewDialog):
    """Qt's print preview of one document on the chosen paper: its toolbar prints (to the printer set in
    the settings) and its page setup changes the paper; Ctrl+S in the caller saves a PDF."""

    def __init__(
        self, html: str, paper: str, title: str, printer_name: str = "", parent: QWidget | None = None
    ):
        self.printer = configure(QPrinter(QPrinter.PrinterMode.HighResolution), paper, printer_name)
        super().__init__(self.printer, parent)
        self.html, self.paper = html, paper
        self.setWindowTitle(title)
        self.paintRequested.connect(lambda p: print_html(p, self.html, self.paper))
        self.resize(900, 700)

    def preview_widget(self) -> QPrintPreviewWidget:
        return self.findChild(QPrintPreviewWidget)

    def page_count(self) -> int:
        widget = self.preview_widget()
        widget.updatePreview()
        return widget.pageCount()


def _cell(kind: str, value: object) -> tuple[str, str]:
    if value is None:
        return "", "left"
    if kind == "money":
        return format_fen(int(value)), "right"
    if kind == "int":
        return f"{int(value):,}", "right"
    return str(value), "left"


def report_html(report) -> str:
    """A reports.model.ReportData (the handover slip, a daily close) as rich text for the preview."""
    head = f"<h3 align='center'>{escape(report.site_name)} {escape(_(report.title))}</h3>"
    if report.period_label:
        head += f"<p align='center'>{escape(report.period_label)}</p>"
    facts = " &nbsp; ".join(
        f"{escape(_(label))}: <b>{escape(str(value))}</b>" for label, value in report.facts
    )
    parts = [head, f"<p>{facts}</p>"]
    for table in report.tables:
        if table.title:
            parts.append(f"<p><b>{escape(_(table.title))}</b></p>")
        header = "".join(f"<th>{escape(_(c.title))}</th>" for c in table.columns)
        rows = []
        for i, row in enumerate(table.rows):
            cells = []
            for col, value in zip(table.columns, row, strict=False):
                text, align = _cell(col.kind, value)
                text = f"<b>{escape(text)}</b>" if i in table.emphasis else escape(text)
                cells.append(f"<td align='{align}'>{text}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        if table.totals:
            cells = []
            for j, col in enumerate(table.columns):
                if j == 0:
                    cells.append(f"<td><b>{escape(_(table.total_label))}</b></td>")
                else:
                    text, align = _cell(col.kind, table.totals.get(col.key)) if col.total else ("", "left")
                    cells.append(f"<td align='{align}'><b>{escape(text)}</b></td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        parts.append(
            "<table width='100%' border='1' cellspacing='0' cellpadding='3'>"
            f"<tr>{header}</tr>{''.join(rows)}</table>"
        )
    for note in report.notes:
        parts.append(f"<p>{escape(_(note))}</p>")
    sign = " &nbsp; &nbsp; ".join(f"{escape(_(role))}: ____________" for role in report.signatures)
    parts.append(f"<p><br>{sign}</p>")
    return "".join(parts)
