"""The home screen after login: the dashboard (collections, property figures, approvals and sync, alerts), a
menu of every screen the user may open, what exists at the site in numbers, and who is logged in."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Grid, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static
from textual.widgets.option_list import Option

from console.widgets.topbar import TopBar
from core.clock import BUSINESS_TZ
from core.context import Context
from core.errors import AnjuError
from core.i18n import N_, _
from core.overview import Dashboard, Overview, dashboard, site_overview

if TYPE_CHECKING:
    from console.app import AnjuApp

# Wide enough for 9,999,999,999 and the column title.
COUNT_CELLS = 13
# Below this many cells the dashboard panels stack in one column.
TWO_COLUMNS_MIN_WIDTH = 100
# (panel id, title msgid) of the dashboard, in order.
# Alerts first: on a small terminal they must be seen without scrolling.
DASHBOARD_PANELS: tuple[tuple[str, str], ...] = (
    ("dash-alerts", N_("Alerts")),
    ("dash-work", N_("Approvals and sync")),
    ("dash-collections", N_("Collections")),
    ("dash-property", N_("Property")),
)

# (Overview field, row label msgid), in the order shown.
OVERVIEW_ROWS: tuple[tuple[str, str], ...] = (
    ("users", N_("Users")),
    ("roles", N_("Roles")),
    ("books", N_("Books")),
    ("accounts", N_("Accounts")),
    ("journal_entries", N_("Journal entries")),
    ("postings", N_("Postings")),
    ("audit_records", N_("Audit records")),
    ("pending_approvals", N_("Pending approvals")),
    ("outbox_pending", N_("Events not yet synced")),
)


def role_title(code: str) -> str:
    """A built-in role's translated name; a site-defined role shows its code."""
    from core.security.permissions import BUILTIN_ROLES

    spec = BUILTIN_ROLES.get(code)
    return _(spec.name) if spec else code


class HomeScreen(Screen[None]):
    """首页 — the first screen after login."""

    app: AnjuApp
    PLACE = "home"
    SCOPES: tuple[str, ...] = ()

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.board: Dashboard | None = None

    def compose(self) -> ComposeResult:
        actor = self.ctx.actor
        shown = f"{actor.display_name} ({actor.username})" if actor.display_name else actor.username
        yield TopBar(user=shown)
        with VerticalScroll(id="home-body"), Grid(id="dashboard"):
            for panel_id, _title in DASHBOARD_PANELS:
                yield Static(Text("…", style="dim"), id=panel_id, classes="panel dash-panel")
            with Vertical(id="menu-panel", classes="panel dash-panel"):
                yield OptionList(id="menu")
            with Vertical(id="overview-panel", classes="panel dash-panel"):
                table: DataTable[Text] = DataTable(id="overview", cursor_type="row", zebra_stripes=True)
                yield table
                yield Static("", id="overview-status")
            with Vertical(id="user-panel", classes="panel dash-panel"):
                yield Static(self._user_text(), id="user-info")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#overview-panel").border_title = _("What exists")
        self.query_one("#user-panel").border_title = _("You")
        self.query_one("#menu-panel").border_title = _("Go to")
        for panel_id, title in DASHBOARD_PANELS:
            self.query_one(f"#{panel_id}").border_title = _(title)
        self._fill_menu()
        self._lay_out(self.app.size.width)
        site = self.app.site
        if site is not None:
            self.query_one(TopBar).set_site(f"{site.name} ({site.code})")
        table = self.query_one("#overview", DataTable)
        labels = [Text(_(label)) for _field, label in OVERVIEW_ROWS]
        header = Text(_("Records"))
        # Columns as wide as their text in the chosen language (CJK is two cells a character), no wider.
        label_w = max(t.cell_len for t in [header, *labels])
        table.add_column(header, key="label", width=label_w)
        table.add_column(Text(_("Count"), justify="right"), key="count", width=COUNT_CELLS)
        for (field, _label), text in zip(OVERVIEW_ROWS, labels, strict=True):
            table.add_row(text, Text("…", justify="right"), key=field)
        self.load()

    def _fill_menu(self) -> None:
        from console.app import available_places

        menu = self.query_one("#menu", OptionList)
        for place in available_places(self.app):
            if place.code == self.PLACE:
                continue
            key = place.key.upper() if place.key else ""
            label = Text(_(place.label))
            if key:
                label.append(f"  {key}", style="dim")
            menu.add_option(Option(label, id=place.code))

    @on(OptionList.OptionSelected, "#menu")
    def _menu_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        # Later, from the app's queue: going elsewhere replaces this screen, which must not wait on itself.
        self.app.call_later(self.app.run_action, f"goto('{event.option.id}')")

    def on_resize(self, event: events.Resize) -> None:
        self._lay_out(event.size.width)

    def _lay_out(self, width: int) -> None:
        """Two columns of panels on a wide terminal, one on a narrow one."""
        self.query_one("#dashboard", Grid).styles.grid_size_columns = (
            2 if width >= TWO_COLUMNS_MIN_WIDTH else 1
        )

    def _user_text(self) -> Group:
        actor = self.ctx.actor
        roles = ", ".join(role_title(code) for code in actor.roles) or _("(none)")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row(_("Name"), actor.display_name or actor.username)
        grid.add_row(_("User name"), actor.username)
        grid.add_row(_("Roles"), roles)
        hint = Text(_("Press F1 for help, Ctrl+P for all commands."), style="dim")
        return Group(grid, Text(""), hint)

    # ------------------------------------------------------------------------------------ loading

    def load(self) -> None:
        self.query_one("#overview-status", Static).update(Text(_("Reading…")))
        self._read_overview()

    @work(thread=True, exclusive=True, group="overview")
    def _read_overview(self) -> None:
        # Counting may take a moment on a big site; the UI stays responsive meanwhile.
        try:
            overview = site_overview(self.app.ctx_factory().as_actor(self.ctx.actor))
            board = dashboard(self.app.ctx_factory().as_actor(self.ctx.actor))
        except AnjuError as err:
            self.app.call_from_thread(self._show_problem, str(err))
        except Exception as err:  # a clerk sees a sentence, never a traceback; the log keeps the detail
            self.log.error(repr(err))
            self.app.call_from_thread(
                self._show_problem,
                _("The figures could not be read: {error}").format(error=type(err).__name__),
            )
        else:
            self.app.call_from_thread(self._show, overview)
            self.app.call_from_thread(self._show_dashboard, board)

    def _show(self, overview: Overview) -> None:
        table = self.query_one("#overview", DataTable)
        for field, _label in OVERVIEW_ROWS:
            value = getattr(overview, field)
            table.update_cell(field, "count", Text(f"{value:,}", justify="right"))
        at = self.ctx.clock.now().astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S")
        self.query_one("#overview-status", Static).update(
            Text(_("As of {time}").format(time=at), style="dim")
        )

    def _show_dashboard(self, board: Dashboard) -> None:
        from console.screens import dashboard as panels

        self.board = board
        self.query_one("#dash-collections", Static).update(panels.collections_renderable(board))
        self.query_one("#dash-property", Static).update(panels.property_renderable(board))
        self.query_one("#dash-work", Static).update(panels.work_renderable(board))
        self.query_one("#dash-alerts", Static).update(panels.alerts_renderable(board))

    def _show_problem(self, message: str) -> None:
        self.query_one("#overview-status", Static).update(Text(message, style="bold red"))
