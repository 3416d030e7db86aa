"""The Anju back-office terminal app: log in, then work screen by screen; every action is in the key table.

The app never touches the database itself: it calls core services with a Context built by `ctx_factory`
(one per call, since a Context belongs to one thread and services run in worker threads).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from textual import events
from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.timer import Timer

from console.keys import KEYS, PLACES, SCOPED, KeySpec, Place, app_bindings, help_rows
from console.screens.help import HelpScreen
from console.screens.login import LoginScreen
from core.clock import Clock, SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.errors import AnjuError
from core.i18n import _
from core.site import SiteHome, SiteInfo

# A back office left unattended locks itself (a cashier's terminal must not stay logged in over lunch).
IDLE_LOCK_S = 10 * 60

# Places whose screen takes no arguments: (module, class), imported only when first opened.
SCREEN_CLASSES: dict[str, tuple[str, str]] = {
    "recon": ("console.screens.recon", "ReconScreen"),
    "settlement": ("console.screens.settlement", "SettlementScreen"),
    "notify_log": ("console.screens.notify_log", "NotifyLogScreen"),
    "routing": ("console.screens.routing", "RoutingScreen"),
    "apps": ("console.screens.apps", "AppsScreen"),
    "sync": ("console.screens.sync", "SyncScreen"),
    "reports": ("console.screens.reports", "ReportsScreen"),
    # Property administration (console/screens/property_admin.py and property_import.py).
    "property_base": ("console.screens.property_admin", "PropertyBaseScreen"),
    "property_import": ("console.screens.property_import", "PropertyImportScreen"),
    "property_fees": ("console.screens.property_admin", "FeesScreen"),
    "property_parking": ("console.screens.property_admin", "ParkingScreen"),
    "property_access": ("console.screens.property_admin", "AccessScreen"),
    "property_security": ("console.screens.property_admin", "SecurityScreen"),
    "property_notices": ("console.screens.property_admin", "NoticesScreen"),
    "property_complaints": ("console.screens.property_admin", "ComplaintsScreen"),
    "property_activities": ("console.screens.property_admin", "ActivitiesScreen"),
    "property_workorders": ("console.screens.property_admin", "WorkOrdersScreen"),
}

__all__ = ["IDLE_LOCK_S", "KEYS", "AnjuApp", "AnjuCommands", "available_commands", "run_console"]


def available_commands(app: App[object]) -> list[KeySpec]:
    """The actions of the app key table that apply now (the palette itself aside)."""
    return [k for k in KEYS if k.action != "command_palette" and app.check_action(k.action, ()) is True]


def available_places(app: AnjuApp) -> list[Place]:
    """The screens the logged-in user may open (none before login)."""
    return [p for p in PLACES if app.may_open(p.code)]


def screen_commands(screen: Screen[object]) -> list[KeySpec]:
    """The actions of the current screen (and of its paged lists) that apply now."""
    scopes = getattr(screen, "SCOPES", ())
    found: list[KeySpec] = []
    for scope in scopes:
        for spec in SCOPED[scope]:
            if scope == "list" or screen.check_action(spec.action, ()) is not False:
                found.append(spec)
    return found


class AnjuCommands(Provider):
    """The command palette (Ctrl+P): every app action, every screen one may open, this screen's actions."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app: AnjuApp = self.app  # type: ignore[assignment]
        found: list[tuple[str, str, Callable[[], object]]] = []
        for spec in available_commands(app):
            found.append((_(spec.label), _(spec.help), partial(app.run_action, spec.action)))
        for place in available_places(app):
            title = _("Go to: {place}").format(place=_(place.label))
            found.append((title, _(place.help), partial(app.run_action, f"goto('{place.code}')")))
        screen = app.screen_stack[-1] if app.screen_stack else None
        # The palette is itself a screen: act on the one beneath it.
        for candidate in reversed(app.screen_stack):
            if getattr(candidate, "SCOPES", None) is not None and not isinstance(candidate, HelpScreen):
                screen = candidate
                break
        if screen is not None and app.actor is not None:
            for spec in screen_commands(screen):
                found.append((_(spec.label), _(spec.help), partial(app.run_screen_action, screen, spec)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = max(matcher.match(title), matcher.match(help_text) * 0.5)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


class AnjuApp(App[None]):
    """The back office. `ctx_factory()` returns a fresh system Context of the site to log in with."""

    CSS_PATH = "app.tcss"
    TITLE = "Anju"
    BINDINGS = app_bindings()
    COMMANDS = {AnjuCommands}  # noqa: RUF012
    COMMAND_PALETTE_BINDING = "ctrl+p"

    def __init__(
        self, ctx_factory: Callable[[], Context], *, idle_lock_s: float | None = IDLE_LOCK_S
    ) -> None:
        super().__init__()
        self.ctx_factory = ctx_factory
        self.idle_lock_s = idle_lock_s
        self.actor: Actor | None = None
        self.site: SiteInfo | None = None
        self.site_problem: str | None = None
        self._idle_timer: Timer | None = None

    def on_mount(self) -> None:
        self.title = _("Anju back office")
        try:
            self.site = self.ctx_factory().site
        except AnjuError as err:
            self.site_problem = str(err)
        if self.idle_lock_s:
            self._idle_timer = self.set_interval(self.idle_lock_s, self._idle_lock, name="idle-lock")
        self.push_screen(LoginScreen())

    async def on_event(self, event: events.Event) -> None:
        # Any key or click counts as activity and restarts the idle countdown.
        if self._idle_timer is not None and isinstance(event, (events.Key, events.MouseDown)):
            self._idle_timer.reset()
        await super().on_event(event)

    async def _idle_lock(self) -> None:
        """A terminal left logged in is locked after `idle_lock_s` without a key or click."""
        if self.actor is not None:
            await self.action_lock()

    # -------------------------------------------------------------------------------- session

    def user_context(self) -> Context:
        """A Context acting as the logged-in user (for one worker; make another for the next)."""
        if self.actor is None:
            raise RuntimeError("nobody is logged in")
        return self.ctx_factory().as_actor(self.actor)

    async def on_login_screen_logged_in(self, message: LoginScreen.LoggedIn) -> None:
        from console.screens.home import HomeScreen

        self.actor = message.actor
        await self._replace_base_screen(HomeScreen(self.user_context()))
        self.run_worker(_warm_up, thread=True, group="warm-up", exit_on_error=False)

    async def action_lock(self) -> None:
        """Forget the user and show the login screen, closing any dialog on top."""
        self.actor = None
        await self._replace_base_screen(LoginScreen())
        self.refresh_bindings()

    async def _replace_base_screen(self, screen: Screen[None]) -> None:
        # Dialogs (help, palette) opened meanwhile belong to the screen being replaced: close them first.
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(screen)

    # -------------------------------------------------------------------------------- actions

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            scopes = getattr(self.screen, "SCOPES", ()) if self.actor is not None else ()
            self.push_screen(HelpScreen(help_rows(*scopes)))

    def action_refresh(self) -> None:
        reload = getattr(self.screen, "reload", None) or getattr(self.screen, "load", None)
        if reload is not None:
            reload()

    def may_open(self, place: str) -> bool:
        if self.actor is None:
            return False
        for p in PLACES:
            if p.code == place:
                return p.permission is None or self.actor.can(p.permission)
        return False

    async def action_goto(self, place: str) -> None:
        """Open one of the PLACES (replacing the current work screen; dialogs on top are closed)."""
        if not self.may_open(place):
            if self.actor is not None:
                self.notify(_("You do not have permission to open this screen."), severity="warning")
            return
        current = self.screen_stack[-1] if self.screen_stack else None
        if getattr(current, "PLACE", None) == place:
            return
        await self._replace_base_screen(self._make_screen(place))

    def _make_screen(self, place: str) -> Screen[None]:
        # Imported here, not at the top: the login screen must come up fast, before the work screens load.
        if place == "home":
            from console.screens.home import HomeScreen

            return HomeScreen(self.user_context())
        if place == "approvals":
            from console.screens.approvals import ApprovalsScreen

            return ApprovalsScreen()
        if place == "ledger":
            from console.screens.ledger import LedgerScreen

            return LedgerScreen()
        if place == "audit":
            from console.screens.audit import AuditScreen

            return AuditScreen()
        if place == "users":
            from console.screens.users import UsersScreen

            return UsersScreen()
        if place == "site":
            from console.screens.site import SiteScreen

            return SiteScreen()
        if place == "payments":
            from console.screens.payments import PaymentsScreen

            return PaymentsScreen()
        if place == "billrun":
            from console.screens.billing import BillRunScreen

            return BillRunScreen()
        if place == "arrears":
            from console.screens.billing import ArrearsScreen

            return ArrearsScreen()
        if place in SCREEN_CLASSES:
            import importlib

            module, name = SCREEN_CLASSES[place]
            return getattr(importlib.import_module(module), name)()
        raise ValueError(place)

    def run_screen_action(self, screen: Screen[object], spec: KeySpec) -> None:
        """Run a screen's action from the palette (a list action goes to the screen's focused list)."""
        if spec.action in {k.action for k in SCOPED["list"]}:
            from console.widgets.paged_table import PagedTable

            lists = list(screen.query(PagedTable))
            focused = self.focused
            target = next((t for t in lists if focused is not None and focused in t.walk_children()), None)
            target = target or next((t for t in lists if t.display), None)
            if target is not None:
                self.call_later(target.run_action, spec.action)
            return
        self.call_later(screen.run_action, spec.action)

    def export_dir(self) -> Path:
        """Where exports are written: `exports/` in the site directory (or the working directory)."""
        home = self.ctx_factory().home
        return (home.root / "exports") if home is not None else Path.cwd() / "exports"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "goto":
            return self.actor is not None and bool(parameters) and self.may_open(str(parameters[0]))
        for spec in KEYS:
            if spec.action == action and spec.needs_login:
                return self.actor is not None
        return True


def run_console(
    home: SiteHome, db: Database, clock: Clock | None = None, *, idle_lock_s: float | None = IDLE_LOCK_S
) -> None:
    """Run the back office on the site at `home` until the user quits (locking after `idle_lock_s` idle)."""
    clock = clock or SystemClock()

    def ctx_factory() -> Context:
        return Context(db=db, actor=Actor.system(), clock=clock, home=home)

    AnjuApp(ctx_factory, idle_lock_s=idle_lock_s).run()


# The work screens behind the function keys: imported in the background once someone has logged in, so the first
# F-key opens its screen without first loading its module and the models behind it (≈0.2-0.5 s).
WARM_MODULES = (
    "console.screens.approvals",
    "console.screens.ledger",
    "console.screens.audit",
    "console.screens.users",
    "console.screens.site",
    "console.screens.payments",
    "console.screens.billing",
)


def _warm_up() -> None:
    import gc
    import importlib

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:
            continue
    # What exists now (modules, classes, styles, the catalogue) lives as long as the app: move it out of the
    # cycle collector's reach, so a full collection in the middle of opening a screen does not walk it again.
    gc.freeze()
