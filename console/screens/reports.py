"""Reports (报表): choose a registered report and its period / book / community, preview it in the terminal
(title, parameters, page count, the first rows and totals of its tables) and generate it as PDF or Excel
into a file (default: the site's exports folder), in a worker with its progress."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.cells import cell_len
from rich.console import Console, Group
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import Input, Label, OptionList, ProgressBar, Select, Static
from textual.widgets.option_list import Option

from console.keys import bindings
from console.screens.base import WorkScreen
from core.context import Context
from core.errors import ValidationError
from core.i18n import N_, _
from reports import forms, preview, registry
from reports.model import FACT_LINE

PHASES = {
    "collect": N_("Reading the figures"),
    "render": N_("Rendering"),
    "write": N_("Writing the file"),
}
COLUMN_MIN_MAX = 12  # a column is never squeezed below its content or this many cells, whichever is less
PREVIEW_TABLES_MAX = 3
PREVIEW_WIDTH_MAX = 400  # tables shown in the terminal preview (the file has them all)


@dataclass(frozen=True)
class Outcome:
    """What a preview or a generation produced: the summary, the page count (PDF) and the file written."""

    name: str
    params_text: str
    summary: forms.ReportSummary
    pages: int | None
    path: Path | None = None
    size: int = 0


def params_text(values: dict[str, str], period_label: str) -> str:
    """The parameters as one line: "Period: 2026-11  Book: PROPERTY"."""
    line = _(FACT_LINE)
    period = forms.FIELD_LABELS["period"]
    parts = [line.format(label=_(period), value=period_label)]
    parts += [
        line.format(label=_(forms.FIELD_LABELS[k]), value=v) for k, v in values.items() if k != "period" and v
    ]
    return "  ".join(parts)


def produce(
    ctx: Context,
    name: str,
    values: dict[str, str],
    fmt: str | None,
    path: Path | None,
    progress: Callable[[str], None] = lambda _phase: None,
) -> Outcome:
    """Collect report `name` once; summarise it; render it as PDF for a preview (page count) or as `fmt`
    into `path`. Bad parameters are refused before anything is read or written."""
    defn = registry.get(name)
    params = forms.make_params(ctx, defn, values)
    progress("collect")
    data = forms.materialise(registry.collect(ctx, name, params))
    summary = forms.summary(data)
    progress("render")
    content = registry.render_data(data, fmt or "pdf")
    pages = preview.page_count(content) if (fmt or "pdf") == "pdf" else None
    written = None
    if fmt is not None and path is not None:
        progress("write")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written = path
    return Outcome(name, params_text(values, params.period.label), summary, pages, written, len(content))


def outcome_renderable(out: Outcome) -> Group:
    """The terminal preview: title, parameters, pages, facts, then each table's first rows and its totals."""
    parts: list = [Text(out.summary.title, style="bold"), Text(out.params_text)]
    if out.pages is not None:
        parts.append(Text(_("Pages: {pages}").format(pages=out.pages)))
    for fact in out.summary.facts:
        parts.append(Text(fact, style="dim"))
    for ts in out.summary.tables[:PREVIEW_TABLES_MAX]:
        table = Table(title=ts.title or None, expand=False, show_lines=False, header_style="bold")
        for i, header in enumerate(ts.headers):
            # Narrow columns (dates, numbers) keep their width; long text gives way with an ellipsis.
            widest = max([cell_len(header), *(cell_len(r[i]) for r in ts.rows if i < len(r))])
            table.add_column(
                header,
                justify="right" if ts.numeric[i] else "left",
                overflow="ellipsis",
                no_wrap=True,
                min_width=min(widest, COLUMN_MIN_MAX),
            )
        for row in ts.rows:
            table.add_row(*row)
        if ts.totals is not None:
            table.add_row(*ts.totals, style="bold")
        parts.append(table)
        if ts.row_count > len(ts.rows):
            parts.append(
                Text(_("… and {n} more rows in the file.").format(n=ts.row_count - len(ts.rows)), style="dim")
            )
    if out.path is not None:
        parts.append(
            Text(_("Written to {path} ({size} bytes).").format(path=out.path, size=out.size), style="green")
        )
    return Group(*parts)


def natural_width(renderable: Group) -> int:
    """The width (cells) the preview takes when nothing is squeezed, up to PREVIEW_WIDTH_MAX."""
    console = Console(width=PREVIEW_WIDTH_MAX, file=io.StringIO())
    return Measurement.get(console, console.options, renderable).maximum


class ReportsScreen(WorkScreen):
    """报表."""

    PLACE = "reports"
    SCOPES = ("reports",)
    BINDINGS = bindings("back", "reports")
    DEFAULT_CSS = """
    ReportsScreen #reports-body { height: 1fr; }
    ReportsScreen .report-box {
        border: round $primary; border-title-color: $text; border-title-style: bold; padding: 0 1;
    }
    ReportsScreen #report-list { width: 32; max-width: 35%; height: 1fr; }
    ReportsScreen #report-form { width: 1fr; height: 1fr; }
    ReportsScreen .report-field { height: 1; margin-bottom: 1; }
    ReportsScreen .report-label { width: 12; padding: 0 1; }
    ReportsScreen .report-field Input { width: 1fr; }
    ReportsScreen #format { width: 20; }
    ReportsScreen #report-phase { height: 1; }
    ReportsScreen #report-preview-scroll { height: 1fr; min-height: 6; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.last: Outcome | None = None

    def body(self) -> ComposeResult:
        with Horizontal(id="reports-body"):
            yield OptionList(id="report-list", classes="report-box")
            with Vertical(id="report-form"):
                for key in forms.FIELDS:
                    with Horizontal(classes="report-field", id=f"row-{key}"):
                        yield Label(_(forms.FIELD_LABELS[key]), classes="report-label")
                        yield Input(id=f"field-{key}", placeholder=self._hint(key), compact=True)
                with Horizontal(classes="report-field"):
                    yield Label(_("Format"), classes="report-label")
                    yield Select(
                        [("PDF", "pdf"), ("Excel", "xlsx")],
                        value="pdf",
                        allow_blank=False,
                        id="format",
                        compact=True,
                    )
                with Horizontal(classes="report-field"):
                    yield Label(_("File"), classes="report-label")
                    yield Input(id="path", compact=True)
                yield Static("", id="report-phase")
                yield ProgressBar(id="report-progress", show_eta=False)
                with ScrollableContainer(id="report-preview-scroll", classes="report-box"):
                    yield Static(_("Choose a report; Ctrl+R previews it here."), id="report-preview")

    def _hint(self, key: str) -> str:
        return {
            "period": _("2026-11, 2026-Q4, 2026 or 2026-11-01..2026-11-30 (default: this month)"),
            "book": _("Ledger book code, e.g. PROPERTY"),
            "community": _("Community code"),
            "account": _("Account code"),
            "building": _("Building number (notices)"),
        }[key]

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#report-list").border_title = _("Reports")
        self.query_one("#report-preview-scroll").border_title = _("Preview")
        self.query_one("#report-progress").display = False
        listing = self.query_one("#report-list", OptionList)
        actor = self.app.actor
        for defn in forms.runnable(actor) if actor is not None else []:
            listing.add_option(Option(registry.listing_title(defn), id=defn.name))
        if listing.option_count:
            listing.highlighted = 0
            self._show_fields()
        else:
            self.say_error(_("There is no report you may run."))
        listing.focus()

    # ------------------------------------------------------------------------------------ the form

    def report_name(self) -> str | None:
        listing = self.query_one("#report-list", OptionList)
        if listing.highlighted is None:
            return None
        return listing.get_option_at_index(listing.highlighted).id

    def select_report(self, name: str) -> None:
        listing = self.query_one("#report-list", OptionList)
        listing.highlighted = listing.get_option_index(name)
        self._show_fields()

    @on(OptionList.OptionHighlighted, "#report-list")
    def _highlighted(self, _event: OptionList.OptionHighlighted) -> None:
        self._show_fields()

    @on(OptionList.OptionSelected, "#report-list")
    def _selected(self, _event: OptionList.OptionSelected) -> None:
        self.action_preview()

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self.action_preview()

    @on(Select.Changed, "#format")
    def _format_changed(self, _event: Select.Changed) -> None:
        self._update_path_hint()

    def _show_fields(self) -> None:
        name = self.report_name()
        wanted = forms.fields(registry.get(name)) if name else ()
        for key in forms.FIELDS:
            self.query_one(f"#row-{key}").display = key in wanted
        self._update_path_hint()

    def values(self) -> dict[str, str]:
        name = self.report_name()
        wanted = forms.fields(registry.get(name)) if name else ()
        return {k: self.query_one(f"#field-{k}", Input).value.strip() for k in wanted}

    def fmt(self) -> str:
        return str(self.query_one("#format", Select).value)

    def default_path(self) -> Path:
        name = self.report_name() or "report"
        period = self.query_one("#field-period", Input).value.strip().replace("..", "_").replace("/", "_")
        stem = f"{name}-{period}" if period else name
        return self.app.export_dir() / f"{stem}.{self.fmt()}"

    def _update_path_hint(self) -> None:
        self.query_one("#path", Input).placeholder = str(self.default_path())

    def target_path(self) -> Path:
        typed = self.query_one("#path", Input).value.strip()
        return Path(typed).expanduser() if typed else self.default_path()

    # ------------------------------------------------------------------------------------ actions

    def action_preview(self) -> None:
        """Ctrl+R: collect the report and show its summary and page count here."""
        self._start(None, None)

    def action_generate(self) -> None:
        """Ctrl+G: write the report as PDF or Excel to the file (default: the exports folder)."""
        self._start(self.fmt(), self.target_path())

    def _start(self, fmt: str | None, path: Path | None) -> None:
        name = self.report_name()
        if name is None:
            self.say_error(_("Choose a report first."))
            return
        if self.running:
            self.say_error(_("A report is already being prepared."))
            return
        values = self.values()
        try:  # cheap checks first, here: the clerk is taken to the field at fault
            forms.make_params(self.context(), registry.get(name), values)
        except ValidationError as err:
            self.say_error(str(err))
            if err.field in forms.FIELDS:
                self.query_one(f"#field-{err.field}", Input).focus()
            return
        self.running = True
        bar = self.query_one("#report-progress", ProgressBar)
        bar.update(total=len(PHASES), progress=0)
        bar.display = True
        self.say(_("Preparing {title}…").format(title=registry.listing_title(registry.get(name))))

        def progress(phase: str) -> None:
            self.app.call_from_thread(self._progress, phase)

        self.call(
            produce,
            name,
            values,
            fmt,
            path,
            progress=progress,
            done=self._done,
            failed=self._failed,
            group="report",
        )

    def _progress(self, phase: str) -> None:
        self.query_one("#report-phase", Static).update(Text(_(PHASES[phase]), style="dim"))
        self.query_one("#report-progress", ProgressBar).update(progress=list(PHASES).index(phase))

    def _finish(self) -> None:
        self.running = False
        self.query_one("#report-progress").display = False
        self.query_one("#report-phase", Static).update("")

    def _done(self, out: Outcome) -> None:
        self._finish()
        self.last = out
        renderable = outcome_renderable(out)
        shown = self.query_one("#report-preview", Static)
        # As wide as the tables want (the box scrolls sideways) rather than squeezing their columns away.
        shown.styles.width = natural_width(renderable)
        shown.update(renderable)
        if out.path is not None:
            self.say(_("Written to {path} ({size} bytes).").format(path=out.path, size=out.size))
        else:
            self.say(_("Preview ready; Ctrl+G writes the file."))

    def _failed(self, message: str) -> None:
        self._finish()
        self.say_error(message)
