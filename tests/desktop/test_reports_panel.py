"""The desktop Reports dialog: the reports the actor may run, preview off the UI thread with page x/y and zoom,
print to a (PDF) printer, save PDF and Excel; bad input and refusals shown inline; a clerk without
reports.view gets no Reports menu."""

from __future__ import annotations

import io
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter

from core.ledger import services as ledger
from desktop.reports_panel import ReportsPanel, period_choices
from desktop.shell import MainWindow
from tests.console.test_back_office import as_user
from tests.desktop.conftest import PASSWORD  # noqa: F401

WAIT_MS = 30_000


def _wait_idle(qtbot, panel: ReportsPanel) -> None:
    qtbot.waitUntil(lambda: panel.tasks.running == 0, timeout=WAIT_MS)


def _book_with_entries(ctx) -> str:
    """A PROPERTY book with two entries in the current month, so the trial balance has numbers."""
    from core.clock import today

    ledger.ensure_book(ctx, "RPT", "报表测试账簿", "property")
    ledger.ensure_account(ctx, "RPT", "1001", "库存现金", "asset")
    ledger.ensure_account(ctx, "RPT", "6001", "物业服务收入", "income")
    day = today(ctx.clock)
    ledger.post(ctx, ledger.EntrySpec("RPT", day, "物业费", [("1001", 123_456), ("6001", -123_456)]))
    return "RPT"


@pytest.fixture
def panel(site, qtbot):
    ctx, _data = site
    book = _book_with_entries(ctx)
    auditor = as_user(ctx, "auditor1")
    dlg = ReportsPanel(auditor)
    qtbot.addWidget(dlg)
    dlg.show()
    _wait_idle(qtbot, dlg)
    dlg.book_code = book
    return dlg


def _choose(panel: ReportsPanel, name: str, **values: str) -> None:
    panel.select_report(name)
    for key, value in values.items():
        widget = panel.inputs[key]
        if hasattr(widget, "setEditText"):
            widget.setEditText(value)
        else:
            widget.setText(value)


def test_preview_shows_pages_with_page_label_and_zoom(panel, qtbot, tmp_path):
    names = [
        panel.report_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.report_list.count())
    ]
    assert "trial_balance" in names and "collection" in names
    _choose(panel, "trial_balance", book=panel.book_code)
    assert panel.form.isRowVisible(panel.book) and not panel.form.isRowVisible(panel.account)
    qtbot.keyClick(panel.report_list, Qt.Key.Key_Return)
    _wait_idle(qtbot, panel)
    assert not panel.error.isVisible(), panel.error.text()
    assert panel.shown is not None and panel.shown.pdf.startswith(b"%PDF")
    pages = len(panel.shown.pages)
    assert pages >= 1
    assert panel.page_label.text() == f"Page 1 / {pages}"
    first = panel.pages.labels[0]
    assert first.pixmap() is not None and not first.pixmap().isNull()
    panel.zoom.setCurrentIndex(panel.zoom.findData(100))
    width = first.width()
    panel.zoom.setCurrentIndex(panel.zoom.findData(200))
    assert first.width() == pytest.approx(width * 2, abs=2)
    qtbot.keyClick(panel, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert panel.zoom.currentData() == 150
    # The page is a real picture: not all white.
    image = first.pixmap().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 2
    panel.zoom.setCurrentIndex(0)  # fit width
    qtbot.wait(50)
    assert first.width() <= panel.pages.viewport().width()
    panel.grab().save(os.environ.get("REPORTS_PANEL_PNG", str(tmp_path / "panel.png")))


def test_save_pdf_and_excel_write_files(panel, qtbot, tmp_path):
    import openpyxl

    _choose(panel, "trial_balance", book=panel.book_code)
    panel.save("pdf", str(tmp_path / "tb.pdf"))
    _wait_idle(qtbot, panel)
    assert (tmp_path / "tb.pdf").read_bytes().startswith(b"%PDF")
    assert panel.status.text() == f"Saved to {tmp_path / 'tb.pdf'}."
    panel.save("xlsx", str(tmp_path / "out" / "tb.xlsx"))
    _wait_idle(qtbot, panel)
    book = openpyxl.load_workbook(io.BytesIO((tmp_path / "out" / "tb.xlsx").read_bytes()))
    assert book.worksheets[0].max_row > 3


def test_print_paints_every_page(panel, qtbot, tmp_path):
    _choose(panel, "trial_balance", book=panel.book_code)
    panel.print_dialog()  # nothing previewed yet: told to preview first, no dialog
    assert "Preview the report first" in panel.error.text()
    panel.preview()
    _wait_idle(qtbot, panel)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    panel.print_to(printer)
    _wait_idle(qtbot, panel)
    from reports.preview import page_count

    assert page_count((tmp_path / "printed.pdf").read_bytes()) == len(panel.shown.pages)
    assert panel.status.text() == f"Sent {len(panel.shown.pages)} pages to the printer."


def test_bad_input_is_shown_inline_and_nothing_written(panel, qtbot, tmp_path):
    _choose(panel, "trial_balance", book="")
    panel.save("pdf", str(tmp_path / "x.pdf"))
    assert panel.error.isVisible() and "Book" in panel.error.text()
    _choose(panel, "trial_balance", book=panel.book_code, period="2026-13-99")
    panel.preview()
    assert "is not a period" in panel.error.text()
    _choose(panel, "trial_balance", book="NOPE", period=period_choices(panel.ctx)[0])
    panel.preview()
    _wait_idle(qtbot, panel)
    assert panel.error.isVisible() and "Traceback" not in panel.error.text()
    assert panel.shown is None and not (tmp_path / "x.pdf").exists()
    assert panel.preview_btn.isEnabled()


def test_reports_menu_only_for_actors_who_may_view_reports(site, qtbot):
    ctx, _data = site
    auditor = as_user(ctx, "auditor1")
    window = MainWindow(ctx, auditor.actor)
    qtbot.addWidget(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Reports" in titles
    dlg = window.open_reports()
    assert isinstance(dlg, ReportsPanel)
    qtbot.waitUntil(lambda: dlg.tasks.running == 0, timeout=WAIT_MS)
    qtbot.keyClick(dlg, Qt.Key.Key_Escape)
    assert not dlg.isVisible()

    cashier = as_user(ctx, "cashier1")
    window.start(cashier.actor)
    assert "&Reports" not in [a.text() for a in window.menuBar().actions()]
    assert window.open_reports() is None  # the old shortcut, if still bound, opens nothing


def _listed(panel: ReportsPanel) -> list[str]:
    return [
        panel.report_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(panel.report_list.count())
    ]


def test_the_dialog_lists_only_the_reports_the_user_may_run(site, qtbot):
    from core.security import services as security
    from tests.desktop.conftest import PASSWORD as PW

    ctx, _data = site
    security.add_user(ctx, "fin1", PW, display_name="财务丙", roles=["finance"])
    security.add_user(ctx, "prop1", PW, display_name="物业丁", roles=["property"])
    finance = ReportsPanel(as_user(ctx, "fin1"))
    qtbot.addWidget(finance)
    _wait_idle(qtbot, finance)
    assert "settlement" in _listed(finance) and "trial_balance" in _listed(finance)
    assert "collection" in _listed(finance)  # finance reads receivables (property.view)
    assert "repairs" not in _listed(finance)  # but not the property operations
    clerk = ReportsPanel(as_user(ctx, "prop1"))
    qtbot.addWidget(clerk)
    _wait_idle(qtbot, clerk)
    assert "collection" in _listed(clerk) and "cash-journal" in _listed(clerk)
    assert not {"settlement", "trial_balance", "reconciliation"} & set(_listed(clerk))
    with pytest.raises(KeyError):
        clerk.select_report("settlement")
