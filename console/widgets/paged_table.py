"""A list of any size: the table holds only a window of rows around the cursor, read page by page from a core
read model (core.listing) in worker threads; filters above it, sorting by clicking a column title, export to Excel.

The window moves as the cursor nears its edge, so a list of a million rows opens at once and scrolls without
ever holding more than WINDOW_ROWS rows. Workers post messages; stale pages (from before a filter or sort
change, or overtaken by a newer request) are dropped by request number.

Kept light, because every list screen opens through it: cells are ready-made Text made in the worker that
read the page (the table never parses markup; the UI thread only fills it), columns of a fixed width are not
measured cell by cell, plain one-line cells are drawn as one segment each (not through Rich's generic
padding and styling), the status line has a fixed size (a new text re-lays nothing out), and the export bar
is mounted only when an export starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.render import measure
from textual.timer import Timer
from textual.widgets import DataTable, Input, ProgressBar, Select, Static
from textual.worker import get_current_worker

from console.keys import bindings
from console.messages import (
    CountKnown,
    ExportFinished,
    ExportProgress,
    JumpRequested,
    ListFailed,
    PageLoaded,
    RowChosen,
    RowFocused,
)
from console.widgets.export import EXPORT_ROWS_MAX, excel_value, export_list, export_source  # noqa: F401
from console.widgets.jobs import JobCancelled, JobFailed, JobRefused, context_spec, run_in_process
from core.clock import BUSINESS_TZ
from core.context import Context
from core.errors import AnjuError
from core.i18n import _
from core.listing import Column, ListQuery, Source, count, get_source, paged
from core.money import format_fen


def measure_width(console: Any, renderable: Any) -> int:
    """The width a one-line cell needs (what DataTable measures, without its generic path for a Text)."""
    if isinstance(renderable, Text):
        return renderable.cell_len
    return measure(console, renderable, 1)


WINDOW_ROWS = 200  # rows held by the table at a time
MARGIN_ROWS = 20  # the window moves when the cursor comes this close to its edge
FILTER_DELAY_S = 0.4  # typing in a filter re-reads the list after this pause


def format_cell(kind: str, value: Any) -> Text:
    """How a value of a column kind is shown: money as yuan right-aligned, instants in business time.
    Always a Text: a str cell would be parsed as markup by the table each time it is drawn."""
    if value is None:
        return Text("")
    if kind == "fen":
        return Text(format_fen(int(value), symbol=False), justify="right")
    if kind == "int":
        return Text(f"{value}", justify="right")
    if kind == "datetime" and isinstance(value, datetime):
        return Text(value.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S"))
    if kind == "date" and isinstance(value, date):
        return Text(value.isoformat())
    if kind == "bool":
        return Text(_("yes") if value else _("no"))
    # Plain text, never markup: a description may hold brackets.
    return Text(str(value).replace("\n", " "))


class WindowTable(DataTable):
    """The table of a paged list: Ctrl+Home/Ctrl+End mean the whole list's first/last row, not the window's.

    Its rows are one line high and most columns have a fixed width, so new rows are not measured cell by
    cell (DataTable would format and measure all 200 rows × columns of a window after each page); only
    columns without a width are measured."""

    def _update_dimensions(self, new_rows) -> None:  # type: ignore[no-untyped-def]
        if self._labelled_row_exists or any(
            self.rows[key].auto_height for key in new_rows if key in self.rows
        ):
            super()._update_dimensions(new_rows)
            return
        auto = [(i, column) for i, column in enumerate(self.ordered_columns) if column.auto_width]
        if auto:
            console = self.app.console
            for key in new_rows:
                index = self._row_locations.get(key)
                if index is None:
                    continue
                cells = self._get_row_renderables(index).cells
                for i, column in auto:
                    column.content_width = max(column.content_width, measure_width(console, cells[i]))
        width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(width + self._row_label_column_width, self._total_row_height + header)

    def _render_cell(  # type: ignore[no-untyped-def]
        self, row_index: int, column_index: int, base_style: Style, width: int, cursor=False, hover=False
    ):
        """A one-line body cell of plain Text (one style, no spans) drawn directly as one segment — what
        DataTable draws through Rich's generic padding and styling renderables, at a fraction of the cost.
        Every other cell (headers, labels, styled or multi-line text) takes DataTable's path."""
        if row_index < 0 or column_index < 0 or self.cell_padding != 1 or width < 2:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        key = (
            row_key,
            self._column_locations.get_key(column_index),
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._cell_render_cache.get(key)
        if cached is not None:
            return cached
        cell = self._get_row_renderables(row_index).cells[column_index]
        if (
            not isinstance(cell, Text)
            or cell.spans
            or cell.style
            or cell.justify not in (None, "left", "default", "right")
            or cell.overflow not in (None, "fold", "crop")
            or self.rows[row_key].height != 1
            or row_index < self.fixed_rows
            or column_index < self.fixed_columns
            or "\n" in cell.plain
            or "\t" in cell.plain
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        component_style, post_style = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        inner = width - 2
        plain = cell.plain
        if cell.justify == "right" and cell_len(plain) < inner:
            body = " " * (inner - cell_len(plain)) + plain
        else:
            body = set_cell_size(plain, inner)
        style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        lines = [[Segment(f" {body} ", style + post_style)]]
        self._cell_render_cache[key] = lines
        return lines

    def action_scroll_top(self) -> None:
        self.post_message(JumpRequested(last=False))

    def action_scroll_bottom(self) -> None:
        self.post_message(JumpRequested(last=True))


class PagedTable(Vertical):
    """A paged list of the core read model `source`. `fixed` filters are set by the screen (e.g. the book)
    and not shown; `context` returns a fresh Context of the logged-in user for each worker."""

    BINDINGS = bindings("list")

    def __init__(
        self,
        source: str,
        context: Callable[[], Context],
        *,
        fixed: Mapping[str, str] | None = None,
        export_dir: Callable[[], Path] | None = None,
        window_rows: int = WINDOW_ROWS,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=("paged " + (classes or "")).strip())
        self.source: Source = get_source(source)
        self.context = context
        self.fixed: dict[str, str] = dict(fixed or {})
        self.export_dir = export_dir or (lambda: Path.cwd())
        self.window_rows = window_rows
        self.sort: str = self.source.default_sort
        self.descending: bool = self.source.default_descending
        self.first = 0  # absolute index of the table's first row
        self.rows: list[tuple] = []  # the rows held (raw values, column order)
        self.total = 0
        self.exact = True
        self.generation = 0  # filters or sort changed
        self.request = 0  # the latest page request
        self._busy = False
        self.loaded_once = False
        self._jump_last = False
        self._counting = False
        self._counted = -1  # the generation whose exact count is known
        self._filter_timer: Timer | None = None
        self._exporting = False
        # Cells of a page made in the worker that read it (by request number), so the UI thread only fills
        # the table with them.
        self._prepared: dict[int, list[list[Text | str]]] = {}

    # ------------------------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        visible = [f for f in self.source.filters if f.key not in self.fixed]
        if visible:
            with Horizontal(classes="filters"):
                for f in visible:
                    if f.kind == "choice":
                        yield Select(
                            [(_(label), value) for value, label in f.choices],
                            prompt=_(f.label),
                            id=f"filter-{f.key}",
                            classes="filter",
                            compact=True,
                        )
                    else:
                        hint = " YYYY-MM-DD" if f.kind in ("date_from", "date_to") else ""
                        yield Input(
                            placeholder=_(f.label) + hint,
                            id=f"filter-{f.key}",
                            classes="filter",
                            compact=True,
                            max_length=100,
                        )
        yield WindowTable(cursor_type="row", zebra_stripes=True, classes="rows")
        # The export bar is mounted into the foot when an export starts (most lists are never exported).
        with Horizontal(classes="list-foot"):
            yield Static("", classes="list-status")

    def on_mount(self) -> None:
        self._add_columns()
        self.reload()

    def _add_columns(self) -> None:
        table = self.query_one(WindowTable)
        table.clear(columns=True)
        for c in self.source.columns:
            table.add_column(self._title(c), key=c.key, width=self._width(c))

    def _cells(self, row: tuple) -> list[Text | str]:
        cells: list[Text | str] = []
        for c, value in zip(self.source.columns, row, strict=True):
            if c.labels and value is not None:
                value = _(dict(c.labels).get(value, value))
            cells.append(format_cell(c.kind, value))
        return cells

    def _title(self, c: Column) -> Text:
        label = _(c.label)
        if c.key == self.sort:
            label += " ▼" if self.descending else " ▲"
        elif c.key in self.source.sorts:
            label += " ·"
        return Text(label, justify="right" if c.kind in ("fen", "int") else "left")

    @staticmethod
    def _width(c: Column) -> int | None:
        if c.width is None:
            return None
        return max(c.width, Text(_(c.label)).cell_len + 2)

    # ------------------------------------------------------------------------------------ filters

    def filters(self) -> dict[str, str]:
        values = dict(self.fixed)
        for f in self.source.filters:
            if f.key in self.fixed:
                continue
            widget = self.query_one(f"#filter-{f.key}")
            if isinstance(widget, Select):
                if widget.value is not Select.NULL:
                    values[f.key] = str(widget.value)
            elif isinstance(widget, Input) and widget.value.strip():
                values[f.key] = widget.value.strip()
        return values

    def set_fixed(self, **fixed: str) -> None:
        """Change the screen-set filters (another book, another account) and read from the top."""
        self.fixed.update(fixed)
        self.reload()

    @on(Input.Changed, ".filter")
    def _filter_typed(self, event: Input.Changed) -> None:
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY_S, self.reload)

    @on(Input.Submitted, ".filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self.reload()
        self.query_one(WindowTable).focus()

    @on(Select.Changed, ".filter")
    def _filter_chosen(self, event: Select.Changed) -> None:
        event.stop()
        self.reload()

    def action_focus_filters(self) -> None:
        first = self.query(".filter")
        if first:
            first.first().focus()

    # ------------------------------------------------------------------------------------ sorting

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        key = str(event.column_key.value)
        if key not in self.source.sorts:
            self.app.notify(_("This list cannot be sorted by that column."), severity="warning")
            return
        if key == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = key, False
        self._add_columns()
        self.reload()

    # ------------------------------------------------------------------------------------ reading

    def reload(self) -> None:
        """Read the list again from its first row (after a filter or sort change, or F5)."""
        self.generation += 1
        self._counting = False
        self._jump_last = False
        self._request(0, 0)

    def refresh_rows(self) -> None:
        """Read the current window again, keeping the cursor's place (after an action changed a row)."""
        self.generation += 1
        self._counting = False
        cursor = self.first + max(0, self.query_one(WindowTable).cursor_row)
        self._request(self.first, cursor)

    def _request(self, offset: int, cursor: int) -> None:
        self.request += 1
        self._busy = True
        query = ListQuery(
            filters=self.filters(),
            sort=self.sort,
            descending=self.descending,
            offset=max(0, offset),
            limit=self.window_rows,
        )
        self._status(_("Reading…"))
        self.run_worker(
            partial(self._fetch, self.request, self.generation, query, cursor),
            thread=True,
            group=f"page-{id(self)}",
            exclusive=True,
        )

    def _fetch(self, request: int, generation: int, query: ListQuery, cursor: int) -> None:
        try:
            page = paged(self.context(), self.source.code, query)
        except AnjuError as err:
            self.post_message(ListFailed(generation, str(err)))
        except Exception as err:  # a clerk sees a sentence, never a traceback; the log keeps the detail
            self.log.error(repr(err))
            self.post_message(
                ListFailed(
                    generation, _("The list could not be read: {error}").format(error=type(err).__name__)
                )
            )
        else:
            self._prepared = {request: [self._cells(row) for row in page.rows]}
            self.post_message(PageLoaded(request, page, cursor))

    @on(PageLoaded)
    def _page_loaded(self, message: PageLoaded) -> None:
        message.stop()
        if message.request != self.request:
            return  # overtaken by a newer request
        self._busy = False
        page = message.page
        if not page.rows and page.offset > 0:
            # The list shrank under us (or the end was overestimated): show its real end.
            self._request(max(0, page.offset - self.window_rows), page.offset - 1)
            return
        self.first = page.offset
        self.rows = page.rows
        if page.exact or self._counted != self.generation:
            self.total, self.exact = page.total_estimate, page.exact
        table = self.query_one(WindowTable)
        table.clear()
        cells = self._prepared.pop(message.request, None)
        if cells is None or len(cells) != len(page.rows):
            cells = [self._cells(row) for row in page.rows]
        table.add_rows(cells)
        if page.rows:
            row = min(max(0, message.cursor - page.offset), len(page.rows) - 1)
            table.move_cursor(row=row, animate=False, scroll=True)
        self.loaded_once = True
        self._show_position()
        if not self.exact and not self._counting:
            self._count()

    @on(ListFailed)
    def _failed(self, message: ListFailed) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._busy = False
        self._counting = False
        self._status(message.message, error=True)

    def _count(self) -> None:
        self._counting = True
        generation, filters = self.generation, self.filters()

        def work() -> None:
            try:
                total = count(self.context(), self.source.code, filters)
            except AnjuError as err:
                self.post_message(ListFailed(generation, str(err)))
            else:
                self.post_message(CountKnown(generation, total))

        self.run_worker(work, thread=True, group=f"count-{id(self)}", exclusive=True)

    @on(CountKnown)
    def _count_known(self, message: CountKnown) -> None:
        message.stop()
        if message.generation != self.generation:
            return
        self._counting = False
        self._counted = self.generation
        self.total, self.exact = message.total, True
        self._show_position()
        if self._jump_last:
            self._jump_last = False
            self._jump(last=True)

    # ------------------------------------------------------------------------------------ moving

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        row = event.cursor_row
        if not self.rows or row < 0 or row != self.query_one(WindowTable).cursor_row:
            return  # a stale event from before the table was refilled
        self._show_position()
        if row < len(self.rows):
            self.post_message(RowFocused(self, self.source.code, self.row_at(row)))
        if self._busy:
            return
        absolute = self.first + row
        held_end = self.first + len(self.rows)
        more_below = held_end < self.total or not self.exact
        if row >= len(self.rows) - MARGIN_ROWS and more_below and len(self.rows) == self.window_rows:
            self._request(absolute - self.window_rows // 2, absolute)
        elif row < MARGIN_ROWS and self.first > 0:
            self._request(max(0, absolute - self.window_rows // 2), absolute)

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.rows):
            self.post_message(RowChosen(self, self.source.code, self.row_at(event.cursor_row)))

    @on(JumpRequested)
    def _jump_requested(self, message: JumpRequested) -> None:
        message.stop()
        self._jump(message.last)

    def action_first(self) -> None:
        self._jump(last=False)

    def action_last(self) -> None:
        self._jump(last=True)

    def _jump(self, last: bool) -> None:
        if not last:
            self._request(0, 0)
            return
        if not self.exact:
            self._jump_last = True
            if not self._counting:
                self._count()
            self._status(_("Counting the rows…"))
            return
        end = max(0, self.total - 1)
        self._request(max(0, self.total - self.window_rows), end)

    def row_at(self, index: int) -> dict[str, Any]:
        """The row at table index `index` as {column key: raw value}."""
        return dict(zip(self.source.column_keys(), self.rows[index], strict=True))

    def current_row(self) -> dict[str, Any] | None:
        table = self.query_one(WindowTable)
        if not self.rows or not 0 <= table.cursor_row < len(self.rows):
            return None
        return self.row_at(table.cursor_row)

    # ------------------------------------------------------------------------------------ status

    def _show_position(self) -> None:
        if not self.rows:
            self._status(_("No rows."))
            return
        row = self.first + max(0, self.query_one(WindowTable).cursor_row) + 1
        total = f"{self.total:,}" if self.exact else f"{self.total:,}+"
        self._status(_("Row {row} of {total}").format(row=f"{row:,}", total=total))

    def _status(self, text: str, *, error: bool = False) -> None:
        # One line of fixed height: a new text needs no new layout of the screen.
        self.query_one(".list-status", Static).update(
            Text(text, style="bold red" if error else "dim", no_wrap=True, overflow="ellipsis"), layout=False
        )

    # ------------------------------------------------------------------------------------ export

    def action_export(self) -> None:
        if self._exporting:
            self.app.notify(_("An export is already running."), severity="warning")
            return
        self._exporting = True
        stamp = datetime.now(BUSINESS_TZ).strftime("%Y%m%d-%H%M%S")
        path = self.export_dir() / f"{self.source.code.replace('.', '-')}-{stamp}.xlsx"
        query = ListQuery(filters=self.filters(), sort=self.sort, descending=self.descending)
        self._export_bar().update(total=None, progress=0)
        self.run_worker(partial(self._export, query, path), thread=True, group=f"export-{id(self)}")

    def _export(self, query: ListQuery, path: Path) -> None:
        """Write the file in a process of its own (building a million rows must not starve the keys); a
        database no other process can open is exported from this thread."""
        worker = get_current_worker()

        def progress(done: int, total: int) -> None:
            self.post_message(ExportProgress(done, total))

        ctx = self.context()
        spec = context_spec(ctx)
        try:
            if spec is None:
                rows = export_list(ctx, self.source, query, path, progress, lambda: worker.is_cancelled)
            else:
                module = self.source.build.__module__
                rows = run_in_process(
                    spec,
                    "console.widgets.export:export_source",
                    (module, self.source.code, query, str(path)),
                    progress=progress,
                    cancelled=lambda: worker.is_cancelled,
                )
        except JobCancelled:
            path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)
            return
        except (AnjuError, JobRefused) as err:
            self.post_message(ExportFinished(None, 0, str(err)))
        except Exception as err:  # shown as a sentence; the log keeps the detail
            self.log.error(repr(err))
            kind = err.kind if isinstance(err, JobFailed) else type(err).__name__
            self.post_message(ExportFinished(None, 0, _("The export failed: {error}").format(error=kind)))
        else:
            self.post_message(ExportFinished(str(path), rows))

    def _export_bar(self) -> ProgressBar:
        """The export's progress bar in the list's foot (mounted the first time, shown while exporting)."""
        bars = self.query(".export-progress")
        if bars:
            bar = bars.first(ProgressBar)
        else:
            bar = ProgressBar(classes="export-progress", show_eta=False)
            self.query_one(".list-foot").mount(bar)
        bar.display = True
        return bar

    @on(ExportProgress)
    def _export_progress(self, message: ExportProgress) -> None:
        message.stop()
        bars = self.query(".export-progress")
        if bars:
            bars.first(ProgressBar).update(total=max(1, message.total), progress=message.done)

    @on(ExportFinished)
    def _export_finished(self, message: ExportFinished) -> None:
        self._exporting = False
        bars = self.query(".export-progress")
        if bars:
            bars.first().display = False
        if message.error:
            self.app.notify(message.error, severity="error", timeout=10)
        else:
            self.app.notify(
                _("Exported {rows} rows to {path}").format(rows=f"{message.rows:,}", path=message.path),
                timeout=10,
            )
