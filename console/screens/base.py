"""What every work screen shares: the top bar, a message line for results and refusals, the footer, and
`call()` — run a core service in a worker thread as the logged-in user, then show its result or its error."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Static

from console.widgets.footer import KeyFooter
from console.widgets.topbar import TopBar
from core.context import Context
from core.errors import AnjuError
from core.i18n import _

if TYPE_CHECKING:
    from console.app import AnjuApp


def actor_label(ctx_actor) -> str:
    return (
        f"{ctx_actor.display_name} ({ctx_actor.username})" if ctx_actor.display_name else ctx_actor.username
    )


class WorkScreen(Screen[None]):
    """A screen of the back office after login. Subclasses set PLACE and SCOPES and write `body()`."""

    app: AnjuApp
    PLACE: ClassVar[str] = ""
    SCOPES: ClassVar[tuple[str, ...]] = ()

    def compose(self) -> ComposeResult:
        actor = self.app.actor
        yield TopBar(user=actor_label(actor) if actor else "")
        with Vertical(classes="work-body"):
            yield from self.body()
        yield Static("", id="message", classes="work-message")
        yield KeyFooter()

    def body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        site = self.app.site
        if site is not None:
            self.query_one(TopBar).set_site(f"{site.name} ({site.code})")

    # ------------------------------------------------------------------------------------ services

    def context(self) -> Context:
        """A fresh Context of the logged-in user (one per worker: a Context belongs to one thread)."""
        return self.app.user_context()

    def call(
        self,
        service: Callable[..., Any],
        *args: Any,
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
        group: str = "call",
        **kwargs: Any,
    ) -> None:
        """Run `service(ctx, *args, **kwargs)` off the UI thread; `done(result)` or the error on the message line."""

        def work() -> None:
            try:
                result = service(self.context(), *args, **kwargs)
            except AnjuError as err:
                self.app.call_from_thread(failed or self.say_error, str(err))
            except Exception as err:  # a clerk sees a sentence, never a traceback; the log keeps the detail
                self.log.error(repr(err))
                message = _("Something went wrong: {error}").format(error=type(err).__name__)
                self.app.call_from_thread(failed or self.say_error, message)
            else:
                if done is not None:
                    self.app.call_from_thread(done, result)

        self.run_worker(work, thread=True, group=group)

    def say(self, text: str) -> None:
        self.query_one("#message", Static).update(Text(text, style="green"))

    def say_error(self, text: str) -> None:
        self.query_one("#message", Static).update(Text(text, style="bold red"))

    def reload(self) -> None:
        """F5: read what this screen shows again."""

    async def action_back(self) -> None:
        """Esc: back to the home screen."""
        await self.app.run_action("goto('home')")
