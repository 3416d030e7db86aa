"""The shape every property administration screen shares: one or more paged lists (in tabs), a detail panel
under them that follows the cursor, and actions that call a core service on the selected row — so each screen
only says which lists it shows and what its actions call.

A row can be marked (e.g. a work order past its SLA in red) by the tab's `marker`; the detail panel shows the
row's fields at once and, when the tab has a `detail` reader, what that read returns (occupants, a timeline).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Static, TabbedContent, TabPane

from console.messages import RowFocused
from console.screens.base import WorkScreen
from console.widgets.form import FormDialog
from console.widgets.paged_table import PagedTable, format_cell
from core.context import Context
from core.i18n import _
from core.property.console_reads import Detail

DETAIL_LINES_TALL = 10  # the detail panel's height (with its border) on a terminal of 36 lines or more
DETAIL_LINES_SHORT = 6
DETAIL_DELAY_S = 0.15  # the detail is read when the cursor has rested this long on a row
DETAIL_HIDDEN = frozenset({"id", "version"})  # internal columns the detail panel leaves out


@dataclass(frozen=True)
class ListTab:
    """One list of a screen: the core.listing source, its tab title (msgid), and optional extras."""

    source: str
    label: str
    id: str
    detail: Callable[[Context, dict[str, Any]], Detail] | None = None
    marker: Callable[[dict[str, Any]], str | None] | None = None


@dataclass(frozen=True)
class Ask:
    """One field of a form: its label (translated), a hint shown in the empty box (codes, a date format)."""

    key: str
    label: str
    hint: str = ""
    value: str = ""
    max_length: int = 200


class SheetDialog(FormDialog):
    """A form of one line per field (label beside the box) that scrolls, so a dozen fields fit in 80×24.

    With `submit`, OK hands the values to it and the dialog stays open: `refused(message)` shows why in the dialog
    (the typed values kept, the user corrects them); the caller closes it once the service has done it.
    """

    AUTO_FOCUS = "Input"
    DEFAULT_CSS = """
    SheetDialog .sheet-error {
        height: auto;
        max-height: 3;
        color: $error;
        text-style: bold;
    }
    """

    def __init__(
        self,
        title: str,
        fields: list[Ask],
        ok: str | None = None,
        submit: Callable[[dict[str, str]], None] | None = None,
    ) -> None:
        super().__init__(title, fields, ok=ok)  # type: ignore[arg-type]
        self.submit = submit

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog sheet"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            with VerticalScroll(classes="sheet-fields"):
                for f in self.fields:
                    with Horizontal(classes="sheet-row"):
                        yield Label(f.label, classes="sheet-label")
                        yield Input(
                            value=f.value,
                            placeholder=f.hint,
                            id=f"field-{f.key}",
                            max_length=f.max_length,
                            compact=True,
                        )
            yield Static("", id="sheet-error", classes="sheet-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, id="ok", variant="primary", compact=True)
                yield Button(_("Cancel"), id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#sheet-error").display = False  # shown with the first refusal

    def values(self) -> dict[str, str]:
        return {f.key: self.query_one(f"#field-{f.key}", Input).value for f in self.fields}

    @on(Input.Submitted)
    def _sheet_submitted(self, event: Input.Submitted) -> None:
        if self.submit is None:
            return  # the plain form: FormDialog moves on or finishes
        event.prevent_default()
        event.stop()
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self._send()

    @on(Button.Pressed, "#ok")
    def _sheet_ok(self, event: Button.Pressed) -> None:
        if self.submit is not None:
            event.prevent_default()
            event.stop()
            self._send()

    def _send(self) -> None:
        if self.query_one("#ok", Button).disabled:
            return  # the service is still at work on the last OK
        self.query_one("#ok", Button).disabled = True
        self.query_one("#sheet-error", Static).update(_("Saving…"))
        self.query_one("#sheet-error").display = True
        if self.submit is not None:
            self.submit(self.values())

    def refused(self, message: str) -> None:
        """The service said no: show why under the fields and let the user correct them."""
        if not self.is_attached:
            return
        self.query_one("#sheet-error", Static).update(message)
        self.query_one("#ok", Button).disabled = False


class MarkedTable(PagedTable):
    """A paged list whose rows may be styled as a whole by `marker(row)` (None: as usual)."""

    def __init__(self, source: str, context: Callable[[], Context], *, marker=None, **kwargs: Any) -> None:
        super().__init__(source, context, **kwargs)
        self.marker = marker

    def _cells(self, row: tuple) -> list[Text | str]:
        cells = super()._cells(row)
        style = self.marker(dict(zip(self.source.column_keys(), row, strict=True))) if self.marker else None
        if not style:
            return cells
        out: list[Text | str] = []
        for cell in cells:
            text = cell.copy() if isinstance(cell, Text) else Text(cell)
            text.stylize(style)
            out.append(text)
        return out


class PropertyListScreen(WorkScreen):
    """A property screen: TABS of paged lists and a detail panel. ACTION_TABS: action → the tab it needs."""

    TABS: ClassVar[tuple[ListTab, ...]] = ()
    ACTION_TABS: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        super().__init__()
        self._detail_timer: Timer | None = None

    def body(self) -> ComposeResult:
        if len(self.TABS) == 1:
            yield self._table(self.TABS[0])
        else:
            with TabbedContent(classes="property-tabs"):
                for tab in self.TABS:
                    with TabPane(_(tab.label), id=f"tab-{tab.id}"):
                        yield self._table(tab)
        yield Static("", id="property-detail")

    def _table(self, tab: ListTab) -> MarkedTable:
        return MarkedTable(
            tab.source, self.context, marker=tab.marker, export_dir=self.app.export_dir, id=tab.id
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#property-detail").border_title = _("Detail")
        self._fit_detail()
        self.query_one(f"#{self.TABS[0].id} .rows").focus()

    def on_resize(self) -> None:
        self._fit_detail()

    def _fit_detail(self) -> None:
        # The list keeps at least half of a small terminal; a tall one gives the detail more lines.
        self.query_one("#property-detail").styles.max_height = (
            DETAIL_LINES_TALL if self.size.height >= 36 else DETAIL_LINES_SHORT
        )

    # ------------------------------------------------------------------------------------ lists

    def active_tab(self) -> ListTab:
        if len(self.TABS) == 1:
            return self.TABS[0]
        active = self.query_one(TabbedContent).active
        return next((t for t in self.TABS if f"tab-{t.id}" == active), self.TABS[0])

    def table(self, tab_id: str | None = None) -> PagedTable:
        return self.query_one(f"#{tab_id or self.active_tab().id}", PagedTable)

    def show_tab(self, tab_id: str) -> None:
        if len(self.TABS) > 1:
            self.query_one(TabbedContent).active = f"tab-{tab_id}"

    @on(TabbedContent.TabActivated)
    def _tab_changed(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        table = self.table()
        table.query_one(".rows").focus()
        row = table.current_row()
        self._show_detail(self.active_tab(), row)

    def reload(self) -> None:
        for table in self.query(PagedTable):
            table.refresh_rows()

    def selected(self) -> dict[str, Any] | None:
        """The row under the cursor of the active list, or a refusal on the message line."""
        row = self.table().current_row()
        if row is None:
            self.say_error(_("Choose a row in the list first."))
        return row

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tab = self.ACTION_TABS.get(action)
        return tab is None or self.active_tab().id == tab

    # ------------------------------------------------------------------------------------ detail

    @on(RowFocused)
    def _row_focused(self, message: RowFocused) -> None:
        tab = next((t for t in self.TABS if t.id == message.table.id), None)
        if tab is not None and tab is self.active_tab():
            self._show_detail(tab, message.row)

    def _show_detail(self, tab: ListTab, row: dict[str, Any] | None) -> None:
        panel = self.query_one("#property-detail", Static)
        if row is None:
            panel.update("")
            return
        panel.update(self._row_text(tab, row))
        if self._detail_timer is not None:
            self._detail_timer.stop()
        if tab.detail is not None:
            # Read once the cursor rests: holding the arrow key down starts no read per row passed.
            self._detail_timer = self.set_timer(DETAIL_DELAY_S, lambda: self._read_detail(tab, row))

    def _read_detail(self, tab: ListTab, row: dict[str, Any]) -> None:
        panel = self.query_one("#property-detail", Static)
        self.call(
            tab.detail,
            row,
            done=lambda d: self._more_detail(tab, row, d),
            failed=lambda m: panel.update(self._row_text(tab, row).append(f"\n{m}", style="red")),
            group="detail",
        )

    def _row_text(self, tab: ListTab, row: dict[str, Any]) -> Text:
        source = self.table(tab.id).source
        text = Text()
        for c in source.columns:
            value = row.get(c.key)
            if c.key in DETAIL_HIDDEN or value in (None, ""):
                continue
            if c.labels:
                value = _(dict(c.labels).get(value, value))
            cell = format_cell(c.kind, value)
            text.append(f"{_(c.label)}: ", style="dim")
            text.append(cell.plain if isinstance(cell, Text) else cell)
            text.append("   ")
        return text

    def _more_detail(self, tab: ListTab, row: dict[str, Any], detail: Detail) -> None:
        current = self.table(tab.id).current_row()
        if current is None or current.get("id") != row.get("id"):
            return  # the cursor moved on meanwhile
        # What the list cannot show comes first (newest step first), then the row's own fields: on a small
        # terminal the panel's first lines are the ones seen without scrolling.
        text = Text()
        for line in reversed(detail.lines):
            text.append(line + "\n")
        for label, value in detail.fields:
            text.append(f"{_(label)}: ", style="dim")
            text.append(str(value))
            text.append("   ")
        text.append_text(self._row_text(tab, row))
        self.query_one("#property-detail", Static).update(text)

    # ------------------------------------------------------------------------------------ actions

    def act(
        self, service: Callable[..., Any], *args: Any, said: str, tab_id: str | None = None, **kw: Any
    ) -> None:
        """Run a service on the selected record; on success say `said` and read the list again."""
        table = self.table(tab_id)

        def done(_result: Any) -> None:
            self.say(said)
            table.refresh_rows()

        self.call(service, *args, done=done, **kw)

    def ask(
        self, title: str, fields: list[Ask], then: Callable[[dict[str, str]], None], ok: str | None = None
    ) -> None:
        """A form dialog; `then(values)` runs unless it was cancelled."""

        def answered(values: dict[str, str] | None) -> None:
            if values is not None:
                then(values)

        self.app.push_screen(SheetDialog(title, fields, ok=ok), answered)  # type: ignore[arg-type]

    def form(
        self,
        title: str,
        fields: list[Ask],
        service: Callable[[Context, dict[str, str]], Any],
        said: str | Callable[[Any], str],
        *,
        tab_id: str | None = None,
        ok: str | None = None,
    ) -> None:
        """A form dialog whose OK runs `service(ctx, values)`. A refusal is shown in the dialog and nothing is
        saved; on success the dialog closes, the message line says `said` (or `said(result)`) and the list is read
        again."""
        table = self.table(tab_id)
        dialog = SheetDialog(title, fields, ok=ok)

        def done(result: Any) -> None:
            if dialog.is_attached:
                dialog.dismiss(None)
            self.say(said if isinstance(said, str) else said(result))
            table.refresh_rows()

        dialog.submit = lambda values: self.call(service, values, done=done, failed=dialog.refused)
        self.app.push_screen(dialog)
