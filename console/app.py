"""The Anju back-office terminal app: log in, then work screen by screen; every action is in the key table.

The app never touches the database itself: it calls core services with a Context built by `ctx_factory`
(one per call, since a Context belongs to one thread and services run in worker threads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen
from textual.timer import Timer

from console.screens.help import HelpScreen
from console.screens.home import HomeScreen
from console.screens.login import LoginScreen
from core.clock import Clock, SystemClock
from core.context import Actor, Context
from core.db.engine import Database
from core.errors import AnjuError
from core.i18n import N_, _
from core.site import SiteHome, SiteInfo

# A back office left unattended locks itself (a cashier's terminal must not stay logged in over lunch).
IDLE_LOCK_S = 10 * 60


@dataclass(frozen=True)
class KeySpec:
    """One app action: its key, its footer label and palette help (English msgids), and when it applies."""

    key: str
    action: str
    label: str
    help: str
    needs_login: bool = False
    show: bool = True


# The one place keys are bound. Screens add no global keys; the palette lists these same actions.
KEYS: tuple[KeySpec, ...] = (
    KeySpec("f1", "help", N_("Help"), N_("Show the keys and what they do")),
    KeySpec("f5", "refresh", N_("Refresh"), N_("Read the figures on this screen again"), needs_login=True),
    KeySpec("ctrl+l", "lock", N_("Lock"), N_("Log out and return to the login screen"), needs_login=True),
    KeySpec("ctrl+q", "quit", N_("Quit"), N_("Close the back office")),
    KeySpec("ctrl+p", "command_palette", N_("Commands"), N_("Search every action by name"), show=False),
)


def _bindings() -> list[Binding]:
    # Labels are translated when this module is imported; the CLI chooses the language before that.
    return [Binding(k.key, k.action, _(k.label), show=k.show, priority=True, tooltip=_(k.help)) for k in KEYS]


def available_commands(app: App[object]) -> list[KeySpec]:
    """The actions of the key table that apply now (the palette itself aside)."""
    return [k for k in KEYS if k.action != "command_palette" and app.check_action(k.action, ()) is True]


class AnjuCommands(Provider):
    """The command palette (Ctrl+P): every action of the key table that applies on the current screen."""

    def _available(self) -> list[KeySpec]:
        return available_commands(self.app)

    async def discover(self) -> Hits:
        for spec in self._available():
            yield DiscoveryHit(_(spec.label), partial(self.app.run_action, spec.action), help=_(spec.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for spec in self._available():
            title = _(spec.label)
            score = max(matcher.match(title), matcher.match(_(spec.help)) * 0.5)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, spec.action),
                    help=_(spec.help),
                )


class AnjuApp(App[None]):
    """The back office. `ctx_factory()` returns a fresh system Context of the site to log in with."""

    CSS_PATH = "app.tcss"
    TITLE = "Anju"
    BINDINGS = _bindings()
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
        self.actor = message.actor
        await self._replace_base_screen(HomeScreen(self.user_context()))

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
            self.push_screen(HelpScreen([(k.key, _(k.label), _(k.help)) for k in KEYS]))

    def action_refresh(self) -> None:
        if isinstance(self.screen, HomeScreen):
            self.screen.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
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
