"""The login screen: user name and password; a failed login shows the service's message beside the form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from console.widgets.topbar import TopBar
from core.context import Actor
from core.errors import AnjuError
from core.i18n import _

if TYPE_CHECKING:
    from console.app import AnjuApp

USERNAME_MAX_CHARS = 64
PASSWORD_MAX_CHARS = 256


class LoginScreen(Screen[None]):
    """登录 — asks who you are; posts `LoggedIn` when core.security accepts the password."""

    app: AnjuApp

    class LoggedIn(Message):
        def __init__(self, actor: Actor) -> None:
            super().__init__()
            self.actor = actor

    def compose(self) -> ComposeResult:
        yield TopBar()
        with Vertical(id="login-box"):
            yield Static(_("Log in to the back office"), id="login-title")
            yield Static("", id="login-site")
            yield Label(_("User name"))
            yield Input(id="username", max_length=USERNAME_MAX_CHARS)
            yield Label(_("Password"))
            yield Input(id="password", password=True, max_length=PASSWORD_MAX_CHARS)
            yield Button(_("Log in"), id="login-button", variant="primary")
            yield Static("", id="login-error")
        yield Footer()

    def on_mount(self) -> None:
        site = self.app.site
        text = f"{site.name} ({site.code})" if site else ""
        self.query_one(TopBar).set_site(text)
        self.query_one("#login-site", Static).update(Text(text))
        if self.app.site_problem:  # no usable site: say so where the clerk is looking
            self._show_error(self.app.site_problem)
        self.query_one("#username", Input).focus()

    @on(Input.Submitted, "#username")
    def _next_field(self) -> None:
        self.query_one("#password", Input).focus()

    @on(Input.Submitted, "#password")
    @on(Button.Pressed, "#login-button")
    def submit(self) -> None:
        username = self.query_one("#username", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not username:
            self._show_error(_("Enter your user name."))
            self.query_one("#username", Input).focus()
            return
        if not password:
            self._show_error(_("Enter your password."))
            self.query_one("#password", Input).focus()
            return
        self._busy(True)
        self._show_error(_("Checking…"))
        self._authenticate(username, password)

    @work(thread=True, exclusive=True, group="login")
    def _authenticate(self, username: str, password: str) -> None:
        # The password hash is slow on purpose, so this runs off the UI thread.
        from core.security.services import authenticate

        try:
            actor = authenticate(self.app.ctx_factory(), username, password)
        except AnjuError as err:
            self.app.call_from_thread(self._failed, str(err))
        except Exception as err:  # a clerk sees a sentence, never a traceback; the log keeps the detail
            self.log.error(repr(err))
            self.app.call_from_thread(
                self._failed, _("The login could not be checked: {error}").format(error=type(err).__name__)
            )
        else:
            self.app.call_from_thread(self.post_message, self.LoggedIn(actor))

    def _failed(self, message: str) -> None:
        self._busy(False)
        self._show_error(message)
        password = self.query_one("#password", Input)
        password.value = ""
        password.focus()

    def _busy(self, busy: bool) -> None:
        for widget in self.query("#login-box Input, #login-box Button"):
            widget.disabled = busy

    def _show_error(self, message: str) -> None:
        # Plain text: a message may contain brackets that are not markup.
        self.query_one("#login-error", Static).update(Text(message))
