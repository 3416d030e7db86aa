"""The help dialog (F1): every key of the app and what it does, from the app's one key table."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from core.i18n import _


def key_display(key: str) -> str:
    """`ctrl+l` → `Ctrl+L`, `f1` → `F1`."""
    return "+".join(part.upper() if len(part) <= 3 else part.capitalize() for part in key.split("+"))


class HelpScreen(ModalScreen[None]):
    """帮助 — a dialog over the current screen; Escape or F1 closes it."""

    BINDINGS = [Binding("escape", "dismiss", show=False)]  # noqa: RUF012

    def __init__(self, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="none", show_cursor=False)
            yield table
            yield Static(Text(_("Esc closes this help."), style="dim"), id="help-hint")

    def on_mount(self) -> None:
        self.query_one("#help-box").border_title = _("Keys")
        table = self.query_one("#help-keys", DataTable)
        table.add_column(_("Key"))
        table.add_column(_("Action"))
        table.add_column(_("What it does"))
        for key, label, help_text in self.keys:
            table.add_row(key_display(key), label, help_text)

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)
