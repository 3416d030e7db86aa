"""The Reports dialog of the desktop app: pick a registered report, give its period and book / community,
preview its pages (rendered off the UI thread from the very PDF that is printed), print it through the system
printer, or save it as PDF or Excel. Enter previews, Ctrl+P prints, Ctrl+S saves the PDF, Esc closes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QKeySequence, QPainter, QPixmap, QShortcut
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from core.clock import today
from core.context import Context
from core.i18n import _
from desktop.qt import ErrorLabel, Tasks, busy_bar
from reports import forms, preview, registry
from reports.registry import ReportDef, ReportParams

PREVIEW_DPI = 110  # sharp enough at 100% on a counter screen, small enough to render a long report quickly
PRINT_DPI = 300  # pages are printed as images at this resolution (PDFium draws them exactly as previewed)
ZOOMS = (50, 75, 100, 125, 150, 200)
ZOOM_FIT = 0  # fit the page width to the view
PAGE_GAP = 12


def period_choices(ctx: Context) -> list[str]:
    """Quick choices for the period box: this month, last month, this quarter, this year (any other typed)."""
    day = today(ctx.clock)
    last = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return [
        f"{day.year:04d}-{day.month:02d}",
        f"{last[0]:04d}-{last[1]:02d}",
        f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}",
        f"{day.year:04d}",
    ]


@dataclass(frozen=True)
class Preview:
    """A rendered report: which report and parameters, its PDF and its pages as PNG."""

    name: str
    params: ReportParams
    pdf: bytes
    pages: list[bytes]


def print_pages(printer: QPrinter, pages: list[bytes]) -> int:
    """Paint the page images onto `printer`, one per sheet, scaled to fit and centred. Returns pages printed."""
    printer.setFullPage(True)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer refused to start")
    try:
        for i, png in enumerate(pages):
            image = QImage.fromData(png, "PNG")
            if i:
                printer.newPage()
            area = painter.viewport()
            size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            x = area.x() + (area.width() - size.width()) // 2
            y = area.y() + (area.height() - size.height()) // 2
            painter.drawImage(QRect(x, y, size.width(), size.height()), image)
    finally:
        painter.end()
    return len(pages)


def _render_preview(ctx: Context, name: str, params: ReportParams) -> Preview:
    pdf = registry.render(ctx, name, params, "pdf")
    return Preview(name, params, pdf, preview.render_pages(pdf, dpi=PREVIEW_DPI))


class PageView(QScrollArea):
    """The preview's pages one under another, at a zoom; tells which page is in view."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page_view")
        self.images: list[QImage] = []
        self.labels: list[QLabel] = []
        self.zoom = ZOOM_FIT
        inner = QWidget()
        inner.setStyleSheet("background: #808080;")
        self.column = QVBoxLayout(inner)
        self.column.setSpacing(PAGE_GAP)
        self.column.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.setWidget(inner)
        self.setWidgetResizable(True)

    def show_pages(self, pages: list[bytes]) -> None:
        for label in self.labels:
            label.deleteLater()
        self.images = [QImage.fromData(png, "PNG") for png in pages]
        self.labels = []
        for i, _img in enumerate(self.images):
            label = QLabel()
            label.setObjectName(f"page_{i + 1}")
            self.labels.append(label)
            self.column.addWidget(label, 0, Qt.AlignmentFlag.AlignHCenter)
        self.set_zoom(self.zoom)
        self.verticalScrollBar().setValue(0)

    def fit_percent(self) -> int:
        """The zoom at which the widest page fills the view's width."""
        widest = max((image.width() for image in self.images), default=0)
        room = self.viewport().width() - 2 * PAGE_GAP
        return max(ZOOMS[0], min(ZOOMS[-1], room * 100 // widest)) if widest else 100

    def set_zoom(self, zoom: int) -> None:
        self.zoom = zoom
        percent = self.fit_percent() if zoom == ZOOM_FIT else zoom
        for image, label in zip(self.images, self.labels, strict=True):
            size = QSize(image.width() * percent // 100, image.height() * percent // 100)
            label.setPixmap(
                QPixmap.fromImage(image).scaled(
                    size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            )
            label.setFixedSize(size)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.zoom == ZOOM_FIT and self.images:
            self.set_zoom(ZOOM_FIT)

    def current_page(self) -> int:
        """1-based number of the page at the middle of the view (0 when there are none)."""
        if not self.labels:
            return 0
        middle = self.verticalScrollBar().value() + self.viewport().height() // 2
        for i, label in enumerate(self.labels):
            if label.y() + label.height() + PAGE_GAP // 2 >= middle:
                return i + 1
        return len(self.labels)

    def go_to(self, page: int) -> None:
        if 1 <= page <= len(self.labels):
            self.verticalScrollBar().setValue(self.labels[page - 1].y())


class ReportsPanel(QDialog):
    """报表: the reports the actor may run, their parameters, preview, print and save."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.tasks = Tasks(self)
        self.shown: Preview | None = None
        self.saved_path: str | None = None
        self.setWindowTitle(_("Reports"))
        self.setObjectName("reports_panel")

        self.report_list = QListWidget()
        self.report_list.setObjectName("report_list")
        self.report_list.setMaximumWidth(260)
        for defn in forms.runnable(ctx.actor):
            item = QListWidgetItem(registry.listing_title(defn))
            item.setData(Qt.ItemDataRole.UserRole, defn.name)
            item.setToolTip(defn.name)
            self.report_list.addItem(item)
        self.report_list.currentRowChanged.connect(self._report_changed)
        self.report_list.itemActivated.connect(lambda _item: self.preview())

        self.period = QComboBox()
        self.period.setObjectName("period")
        self.period.setEditable(True)
        self.period.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.period.addItems(period_choices(ctx))
        self.period.setToolTip(_("2026-11, 2026-Q4, 2026, 2026-11-03 or 2026-11-01..2026-11-30"))
        self.book = self._combo("book")
        self.community = self._combo("community")
        self.account = QLineEdit()
        self.account.setObjectName("account")
        self.building = QLineEdit()
        self.building.setObjectName("building")
        self.inputs: dict[str, QWidget] = {
            "period": self.period,
            "book": self.book,
            "community": self.community,
            "account": self.account,
            "building": self.building,
        }
        self.form = QFormLayout()
        for key, widget in self.inputs.items():
            self.form.addRow(_(forms.FIELD_LABELS[key]), widget)

        self.preview_btn = QPushButton(_("Preview (Enter)"))
        self.preview_btn.setObjectName("preview")
        self.preview_btn.setDefault(True)
        self.preview_btn.clicked.connect(self.preview)
        self.print_btn = QPushButton(_("Print… (Ctrl+P)"))
        self.print_btn.setObjectName("print")
        self.print_btn.clicked.connect(self.print_dialog)
        self.pdf_btn = QPushButton(_("Save PDF… (Ctrl+S)"))
        self.pdf_btn.setObjectName("save_pdf")
        self.pdf_btn.clicked.connect(lambda: self.save("pdf"))
        self.xlsx_btn = QPushButton(_("Save Excel… (Ctrl+Shift+S)"))
        self.xlsx_btn.setObjectName("save_xlsx")
        self.xlsx_btn.clicked.connect(lambda: self.save("xlsx"))
        close_btn = QPushButton(_("Close (Esc)"))
        close_btn.setAutoDefault(False)
        close_btn.clicked.connect(self.reject)
        for button in (self.print_btn, self.pdf_btn, self.xlsx_btn):
            button.setAutoDefault(False)
        QShortcut(QKeySequence("Ctrl+P"), self, self.print_dialog)
        QShortcut(QKeySequence("Ctrl+S"), self, lambda: self.save("pdf"))
        QShortcut(QKeySequence("Ctrl+Shift+S"), self, lambda: self.save("xlsx"))
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, lambda: self._step_zoom(1))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, lambda: self._step_zoom(-1))

        self.error = ErrorLabel()
        self.error.setObjectName("report_error")
        self.status = QLabel()
        self.status.setObjectName("report_status")
        self.progress = busy_bar()
        self.tasks.busy.connect(self.progress.setVisible)

        self.pages = PageView()
        self.pages.verticalScrollBar().valueChanged.connect(lambda _v: self._update_page_label())
        self.page_label = QLabel()
        self.page_label.setObjectName("page_label")
        self.zoom = QComboBox()
        self.zoom.setObjectName("zoom")
        self.zoom.addItem(_("Fit width"), ZOOM_FIT)
        for z in ZOOMS:
            self.zoom.addItem(f"{z}%", z)
        self.zoom.setCurrentIndex(0)
        self.zoom.currentIndexChanged.connect(lambda _i: self.pages.set_zoom(self.zoom.currentData()))

        buttons = QHBoxLayout()
        for button in (self.preview_btn, self.print_btn, self.pdf_btn, self.xlsx_btn):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close_btn)
        viewer_bar = QHBoxLayout()
        viewer_bar.addWidget(self.page_label)
        viewer_bar.addStretch(1)
        viewer_bar.addWidget(QLabel(_("Zoom")))
        viewer_bar.addWidget(self.zoom)
        right = QVBoxLayout()
        right.addLayout(self.form)
        right.addLayout(buttons)
        right.addWidget(self.error)
        right.addWidget(self.status)
        right.addWidget(self.progress)
        right.addLayout(viewer_bar)
        right.addWidget(self.pages, 1)
        left = QVBoxLayout()
        left.addWidget(QLabel(_("Reports")))
        left.addWidget(self.report_list, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.resize(1100, 760)

        if self.report_list.count():
            self.report_list.setCurrentRow(0)
        else:
            self.error.show_error(_("There is no report you may run."))
        self._set_ready(False)
        self._load_choices()

    # ------------------------------------------------------------------------------------ the form

    def _combo(self, name: str) -> QComboBox:
        box = QComboBox()
        box.setObjectName(name)
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        return box

    def _load_choices(self) -> None:
        """Fill the book and community boxes from the services (what the actor may not read stays empty)."""
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def read() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
            from core.ledger import services as ledger

            books, communities = [], []
            if job_ctx.actor.can("ledger.view"):
                books = [(b.code, b.name) for b in ledger.list_books(job_ctx)]
            if job_ctx.actor.can("property.view"):
                try:
                    from core.property import services as ps
                except ModuleNotFoundError:
                    ps = None
                if ps is not None:
                    communities = [(c.code, c.name) for c in ps.list_communities(job_ctx)]
            return books, communities

        self.tasks.run(read, self._choices_read, self.error.show_error)

    def _choices_read(self, found: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
        books, communities = found
        for box, rows in ((self.book, books), (self.community, communities)):
            typed = box.currentText()
            box.clear()
            if box is self.community:
                box.addItem("", "")
            for code, name in rows:
                box.addItem(f"{code} {name}", code)
            if typed:
                box.setEditText(typed)
            elif box is self.book and rows:
                box.setCurrentIndex(0)

    def current_report(self) -> ReportDef | None:
        item = self.report_list.currentItem()
        return registry.get(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_report(self, name: str) -> None:
        for row in range(self.report_list.count()):
            if self.report_list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.report_list.setCurrentRow(row)
                return
        raise KeyError(name)

    def _report_changed(self, _row: int) -> None:
        defn = self.current_report()
        wanted = forms.fields(defn) if defn is not None else ()
        for key, widget in self.inputs.items():
            self.form.setRowVisible(widget, key in wanted)
        self.error.clear_error()

    def _value(self, key: str) -> str:
        widget = self.inputs[key]
        if isinstance(widget, QComboBox):
            text = widget.currentText().strip()
            # A chosen entry shows "CODE name"; its code is what the report takes.
            index = widget.findText(text)
            if index >= 0 and widget.itemData(index):
                return str(widget.itemData(index))
            return text.split(" ", 1)[0] if text else ""
        assert isinstance(widget, QLineEdit)
        return widget.text().strip()

    def params(self) -> ReportParams:
        defn = self.current_report()
        if defn is None:
            raise ValueError("no report chosen")
        wanted = forms.fields(defn)
        return forms.make_params(self.ctx, defn, {k: self._value(k) for k in wanted})

    # ------------------------------------------------------------------------------------ actions

    def _start(self) -> tuple[ReportDef, ReportParams] | None:
        self.error.clear_error()
        defn = self.current_report()
        if defn is None:
            self.error.show_error(_("Choose a report first."))
            return None
        try:
            return defn, self.params()
        except Exception as exc:
            self.error.show_error(exc)
            return None

    def preview(self) -> None:
        """Render the chosen report's pages in the background and show them."""
        started = self._start()
        if started is None:
            return
        defn, params = started
        job_ctx = self.ctx.as_actor(self.ctx.actor)
        self.status.setText(_("Preparing {title}…").format(title=registry.listing_title(defn)))
        self.preview_btn.setEnabled(False)
        self.tasks.run(lambda: _render_preview(job_ctx, defn.name, params), self._previewed, self._failed)

    def _previewed(self, shown: Preview) -> None:
        self.shown = shown
        self.preview_btn.setEnabled(True)
        self.pages.show_pages(shown.pages)
        total = preview.page_count(shown.pdf)
        title = registry.listing_title(registry.get(shown.name))
        self.status.setText(
            _("{title}, {period} — pages: {pages}").format(
                title=title, period=shown.params.period.label, pages=total
            )
        )
        self._set_ready(True)
        self._update_page_label()

    def _failed(self, exc: BaseException) -> None:
        self.preview_btn.setEnabled(True)
        self.status.setText("")
        self.error.show_error(exc)

    def _set_ready(self, ready: bool) -> None:
        self.print_btn.setEnabled(ready)

    def _update_page_label(self) -> None:
        total = len(self.pages.labels)
        self.page_label.setText(
            _("Page {page} / {pages}").format(page=self.pages.current_page(), pages=total) if total else ""
        )

    def _step_zoom(self, step: int) -> None:
        index = max(0, min(len(ZOOMS) - 1, self.zoom.currentIndex() + step))
        self.zoom.setCurrentIndex(index)

    def _preview_is_current(self) -> bool:
        defn = self.current_report()
        if self.shown is None or defn is None or defn.name != self.shown.name:
            return False
        try:
            return self.params() == self.shown.params
        except Exception:
            return False

    def print_dialog(self) -> None:
        """Print the previewed pages through the system print dialog (preview first if need be)."""
        if not self._preview_is_current():
            self.error.show_error(_("Preview the report first (Enter), then print it."))
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(registry.listing_title(registry.get(self.shown.name)))
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(_("Print report"))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.print_to(printer)

    def print_to(self, printer: QPrinter) -> None:
        """Render the previewed PDF at print resolution in the background, then paint it onto `printer`."""
        shown = self.shown
        if shown is None:
            self.error.show_error(_("Preview the report first (Enter), then print it."))
            return
        self.status.setText(_("Printing…"))

        def printed(pages: list[bytes]) -> None:
            try:
                count = print_pages(printer, pages)
            except Exception as exc:
                self.error.show_error(exc)
                return
            self.status.setText(_("Sent {pages} pages to the printer.").format(pages=count))

        self.tasks.run(lambda: preview.render_pages(shown.pdf, dpi=PRINT_DPI), printed, self._failed)

    def save(self, fmt: str, path: str | None = None) -> None:
        """Write the report as PDF or Excel to `path` (asked for when not given), in the background."""
        started = self._start()
        if started is None:
            return
        defn, params = started
        if path is None:
            suffix = "pdf" if fmt == "pdf" else "xlsx"
            default = str(Path.home() / f"{defn.name}-{params.period.label}.{suffix}")
            title = _("Save PDF") if fmt == "pdf" else _("Save Excel")
            pattern = "PDF (*.pdf)" if fmt == "pdf" else "Excel (*.xlsx)"
            path, _chosen = QFileDialog.getSaveFileName(self, title, default, pattern)
            if not path:
                return
        target = Path(path)
        shown = self.shown if fmt == "pdf" and self._preview_is_current() else None
        job_ctx = self.ctx.as_actor(self.ctx.actor)

        def write() -> str:
            content = shown.pdf if shown is not None else registry.render(job_ctx, defn.name, params, fmt)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            return str(target)

        self.status.setText(_("Saving…"))
        self.tasks.run(write, self._saved, self._failed)

    def _saved(self, path: str) -> None:
        self.saved_path = path
        self.status.setText(_("Saved to {path}.").format(path=path))
