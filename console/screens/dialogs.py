"""Small dialogs over a screen: confirm, a form of text fields, a choice of several. Each returns its answer
through `dismiss` (None when cancelled); the screen that opened it calls the service."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, SelectionList, Static

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


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # already translated
    password: bool = False
    value: str = ""
    max_length: int = 200


class FormDialog(ModalScreen[dict[str, str] | None]):
    """A few text fields and OK; returns {key: text}. The service checks the values, not this dialog."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str, fields: list[Field], ok: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok or _("OK")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            for f in self.fields:
                yield Label(f.label)
                yield Input(
                    value=f.value,
                    password=f.password,
                    id=f"field-{f.key}",
                    max_length=f.max_length,
                    compact=True,
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.ok, id="ok", variant="primary")
                yield Button(_("Cancel"), id="cancel")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
        else:
            self._finish()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self._finish()
        else:
            self.dismiss(None)

    def _finish(self) -> None:
        self.dismiss({f.key: self.query_one(f"#field-{f.key}", Input).value for f in self.fields})

    def action_cancel(self) -> None:
        self.dismiss(None)


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
