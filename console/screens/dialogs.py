"""Small dialogs over a screen: confirm, a choice of several. Each returns its answer through `dismiss` (None
when cancelled); the screen that opened it calls the service. A form of fields is console.widgets.form's
FormDialog (the one form dialog of the back office)."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, SelectionList, Static

from console.keys import bindings
from core.i18n import _


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question; Escape means no."""

    BINDINGS = bindings("dialog")

    def __init__(self, question: str, yes: str | None = None) -> None:
        super().__init__()
        self.question = question
        self.yes = yes or _("Yes")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.question), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, id="yes", variant="warning")
                yield Button(_("Cancel"), id="no")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_cancel(self) -> None:
        self.dismiss(False)


class ChoiceDialog(ModalScreen[list[str] | None]):
    """Tick any of several options (space toggles); returns the chosen values."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str, options: list[tuple[str, str]], chosen: set[str]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options
        self.chosen = chosen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield SelectionList[str](
                *[(label, value, value in self.chosen) for value, label in self.options], id="choices"
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("OK"), id="ok", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.dismiss(list(self.query_one("#choices", SelectionList).selected))
        else:
            self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
