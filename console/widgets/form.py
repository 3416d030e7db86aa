"""The back office's form dialog — text fields, password fields and choices (a decision, a channel, an app) —
and a dialog that shows a secret once. Each returns its answer through `dismiss` (None when cancelled); the
screen that opened it calls the service, which checks the values. Every screen's form is this one FormDialog
(console/screens/dialogs.py keeps only the yes/no and tick-several dialogs)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from console.keys import bindings
from core.i18n import _


@dataclass(frozen=True)
class FormField:
    """A text field (hidden as typed when `password`), or a choice when `choices` are given ((value,
    translated label) pairs)."""

    key: str
    label: str  # already translated
    value: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    placeholder: str = ""
    max_length: int = 500
    password: bool = False


class FormDialog(ModalScreen[dict[str, str] | None]):
    """Fields and OK; returns {key: text or chosen value ("" when nothing chosen)}. Enter in a text field goes
    on to the next field, and in the last one answers OK. A subclass may lay the fields out otherwise
    (SheetDialog): any field object with a `key` works, as long as its widget's id is `field-<key>`."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str, fields: list[FormField], ok: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.ok = ok or _("OK")

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            for f in self.fields:
                yield Label(f.label)
                if f.choices:
                    yield Select(
                        [(label, value) for value, label in f.choices],
                        value=f.value if f.value in {v for v, _l in f.choices} else Select.NULL,
                        prompt=f.placeholder or f.label,
                        id=f"field-{f.key}",
                        compact=True,
                    )
                else:
                    yield Input(
                        value=f.value,
                        placeholder=f.placeholder,
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
        event.stop()
        widgets = [self.query_one(f"#field-{f.key}") for f in self.fields]
        after = widgets[widgets.index(event.input) + 1 :] if event.input in widgets else []
        if after:
            after[0].focus()
        else:
            self._finish()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "ok":
            self._finish()
        else:
            self.dismiss(None)

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.key}")
            if isinstance(widget, Select):
                out[f.key] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                assert isinstance(widget, Input)
                out[f.key] = widget.value
        return out

    def _finish(self) -> None:
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ShownOnceDialog(ModalScreen[None]):
    """Shows something that will not be shown again (an app's secret): copy it now, then close."""

    BINDINGS = bindings("dialog")

    def __init__(self, title: str, lines: list[tuple[str, str]], warning: str) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines
        self.warning = warning

    def compose(self) -> ComposeResult:
        text = Text()
        for label, value in self.lines:
            text.append(f"{label}: ", style="bold")
            text.append(value + "\n")
        with Vertical(classes="dialog"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(text, id="shown-once", classes="dialog-text")
            yield Static(Text(self.warning, style="bold yellow"), classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(_("I have copied it"), id="ok", variant="primary")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_cancel(self) -> None:
        self.dismiss(None)
