"""Excel import of property base data in the back office: buildings, houses, owners or meter readings.

The file is checked row by row first; a file with errors imports nothing and the report lists every bad row
(row, column, what is wrong). The clerk then fixes the file, or chooses to import the good rows only.
The same import as `anju property import KIND FILE [--good-rows-only]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, Select, Static

from console.keys import bindings
from console.screens.base import WorkScreen
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _

KINDS: tuple[tuple[str, str], ...] = (
    ("houses", N_("House list")),
    ("owners", N_("Owners")),
    ("buildings", N_("Buildings")),
    ("meter-readings", N_("Meter readings")),
)


def import_file(ctx: Context, kind: str, path: str, good_rows_only: bool) -> Any:
    """Check (and, if clean or asked to, import) the file; the report of core.property.importexport."""
    from reports.xlsx_io import import_property_file

    file = Path(path).expanduser()
    if not file.is_file():
        raise ValidationError(N_("There is no file {path}."), field="file", path=str(file))
    return import_property_file(ctx, kind, file, good_rows_only=good_rows_only)


def write_template(ctx: Context, kind: str, folder: Path) -> Path:
    """The empty template of `kind` (header row and one example row) in `folder`."""
    from reports.xlsx_io import write_property_template

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"template-{kind}.xlsx"
    write_property_template(kind, path)
    return path


class PropertyImportScreen(WorkScreen):
    """导入 — import an Excel file of houses, owners, buildings or meter readings, with its validation report."""

    PLACE = "property_import"
    SCOPES = ("property_import",)
    BINDINGS = bindings("back", "property_import")

    def __init__(self) -> None:
        super().__init__()
        self.report: Any = None
        self.checked: tuple[str, str] | None = None  # (kind, path) of the last report
        self.running = False

    def body(self) -> ComposeResult:
        with Vertical(id="import-form", classes="panel"):
            with Horizontal(classes="form-row"):
                yield Static(_("Kind"), classes="form-label")
                yield Select(
                    [(_(label), code) for code, label in KINDS],
                    value="houses",
                    id="import-kind",
                    compact=True,
                    allow_blank=False,
                )
            with Horizontal(classes="form-row"):
                yield Static(_("File"), classes="form-label")
                yield Input(
                    placeholder=_("Path of the .xlsx file"), id="import-path", compact=True, max_length=1000
                )
            with Horizontal(classes="form-row buttons"):
                yield Button(_("Check and import"), id="import-run", variant="primary", compact=True)
                yield Button(_("Import the good rows"), id="import-good", compact=True, disabled=True)
                yield Button(_("Template"), id="import-template", compact=True)
        yield Static("", id="import-summary")
        yield DataTable(id="import-errors", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#import-form").border_title = _("Import from Excel")
        table = self.query_one("#import-errors", DataTable)
        table.add_column(Text(_("Row"), justify="right"), key="row", width=6)
        table.add_column(_("Column"), key="column", width=12)
        table.add_column(_("Problem"), key="message")
        self.query_one("#import-path", Input).focus()

    def _choice(self) -> tuple[str, str] | None:
        kind = str(self.query_one("#import-kind", Select).value)
        path = self.query_one("#import-path", Input).value.strip()
        if not path:
            self.say_error(_("Type the path of the file to import."))
            return None
        return kind, path

    @on(Input.Submitted, "#import-path")
    @on(Button.Pressed, "#import-run")
    def action_run_import(self) -> None:
        choice = self._choice()
        if choice is not None:
            self._start(*choice, good_rows_only=False)

    @on(Button.Pressed, "#import-good")
    def action_import_good(self) -> None:
        choice = self._choice()
        if choice is None:
            return
        if self.checked != choice or self.report is None or not self.report.rejected:
            self.say_error(_("Check the file first: the good rows are imported after its report was read."))
            return
        self._start(*choice, good_rows_only=True)

    @on(Button.Pressed, "#import-template")
    def action_template(self) -> None:
        kind = str(self.query_one("#import-kind", Select).value)
        self.call(
            write_template,
            kind,
            self.app.export_dir(),
            done=lambda path: self.say(_("Template written to {path}.").format(path=path)),
        )

    @on(Select.Changed, "#import-kind")
    def _kind_changed(self) -> None:
        self.checked = None
        self.query_one("#import-good", Button).disabled = True

    def _start(self, kind: str, path: str, *, good_rows_only: bool) -> None:
        if self.running:
            self.say_error(_("An import is already running; wait for it to finish."))
            return
        self.running = True
        self.say("")
        self.query_one("#import-summary", Static).update(Text(_("Checking the file…"), style="bold"))
        self.call(
            import_file,
            kind,
            path,
            good_rows_only,
            done=lambda report: self._show(kind, path, report, good_rows_only),
            failed=self._failed,
            group="import",
        )

    def _failed(self, message: str) -> None:
        self.running = False
        self.query_one("#import-summary", Static).update("")
        self.say_error(message)

    def _show(self, kind: str, path: str, report: Any, good_rows_only: bool) -> None:
        self.running = False
        self.report = report
        self.checked = (kind, path)
        table = self.query_one("#import-errors", DataTable)
        table.clear()
        for e in report.errors:
            table.add_row(Text(str(e["row"]), justify="right"), str(e["column"]), Text(str(e["message"])))
        summary = Text()
        if report.rejected and not report.imported and not good_rows_only:
            summary.append(
                _("Nothing was imported: {n} rows have errors.").format(n=f"{report.rejected:,}"),
                style="bold red",
            )
            summary.append(" " + _("Fix the file and check it again, or import the good rows only (G)."))
            self.query_one("#import-good", Button).disabled = False
            table.focus()  # G (import the good rows) works from the report
        else:
            summary.append(_("Imported {n} rows.").format(n=f"{report.imported:,}"), style="bold green")
            if report.rejected:
                summary.append(
                    " " + _("{n} rows with errors were left out.").format(n=f"{report.rejected:,}"),
                    style="yellow",
                )
            self.query_one("#import-good", Button).disabled = True
            self.say(_("Imported {n} rows.").format(n=f"{report.imported:,}"))
        if len(report.errors) < report.rejected:
            summary.append(
                "\n" + _("The first {shown} problems are listed.").format(shown=len(report.errors)),
                style="dim",
            )
        self.query_one("#import-summary", Static).update(summary)
