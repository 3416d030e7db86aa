"""The settings dialog (Ctrl+,): shows the site directory, edits the printer, receipt paper and language."""

from __future__ import annotations

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core.context import Context
from core.i18n import LANGUAGES, _
from desktop.qt import ErrorLabel
from desktop.settings import LANGUAGE_NAMES, PAPERS, DesktopSettings, load, save


class SettingsDialog(QDialog):
    """Ctrl+, : the site directory (shown), printer, receipt paper and language; Enter saves, Esc cancels."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.saved: DesktopSettings | None = None
        current = load(ctx)
        self.setWindowTitle(_("Settings"))
        home = QLabel(str(ctx.home.root) if ctx.home else _("(none)"))
        home.setObjectName("site_dir")
        home.setWordWrap(True)
        self.printer = QComboBox()
        self.printer.setObjectName("printer")
        self.printer.addItem(_("System default printer"), "")
        for name in QPrinterInfo.availablePrinterNames():
            self.printer.addItem(name, name)
        if current.printer and self.printer.findData(current.printer) < 0:
            self.printer.addItem(_("{name} (not installed)").format(name=current.printer), current.printer)
        self.printer.setCurrentIndex(max(0, self.printer.findData(current.printer)))
        self.paper = QComboBox()
        self.paper.setObjectName("paper")
        for code, label in PAPERS:
            self.paper.addItem(_(label), code)
        self.paper.setCurrentIndex(max(0, self.paper.findData(current.paper)))
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES.get(code, code), code)
        self.language.setCurrentIndex(max(0, self.language.findData(current.language)))
        self.error = ErrorLabel()
        form = QFormLayout()
        form.addRow(_("Site directory"), home)
        form.addRow(_("Printer"), self.printer)
        form.addRow(_("Receipt paper"), self.paper)
        form.addRow(_("Language (applies at the next start)"), self.language)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText(_("Save (Enter)"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_("Cancel (Esc)"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)

    def submit(self) -> None:
        chosen = DesktopSettings(
            self.printer.currentData() or "", self.paper.currentData(), self.language.currentData()
        )
        try:
            save(self.ctx, chosen)
        except Exception as exc:
            self.error.show_error(exc)
            return
        self.saved = chosen
        self.accept()
