"""The notification log (通知记录): every notice of a payment or refund result to its app, with its attempts and
last error; re-send one (core.payments.notify.resend makes it due now; the job sends it)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

import core.payments.console_reads as reads
from console.keys import bindings
from console.messages import RowFocused
from console.screens.base import WorkScreen
from console.screens.dialogs import ConfirmDialog
from console.widgets.paged_table import PagedTable, format_cell
from core.i18n import _
from core.payments import notify


def notice_renderable(row: dict) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(_("Notice"), Text(row["event_key"]))
    grid.add_row(_("Callback address"), Text(row["url"] or _("in-process handler")))
    grid.add_row(
        _("Status"),
        Text(f"{_(dict(reads.NOTIFY_STATUS_LABELS).get(row['status'], row['status']))} · "
             + _("{n} attempts").format(n=row["attempts"])),
    )  # fmt: skip
    grid.add_row(_("Next attempt"), format_cell("datetime", row["next_attempt_at"]))
    grid.add_row(_("Last error"), Text(row["last_error"] or "—"))
    return grid


class NotifyLogScreen(WorkScreen):
    """通知记录 — the notices and their delivery."""

    PLACE = "notify_log"
    SCOPES = ("notify_log", "list")
    BINDINGS = bindings("back", "notify_log")

    def body(self) -> ComposeResult:
        yield PagedTable(reads.NOTIFICATIONS, self.context, export_dir=self.app.export_dir, id="notices")
        yield Static(Text(_("Choose a notice."), style="dim"), id="notice-detail", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#notice-detail").border_title = _("Notice")
        self.query_one("#notices .rows").focus()

    def reload(self) -> None:
        self.query_one("#notices", PagedTable).refresh_rows()

    @on(RowFocused, "#notices")
    def _focused(self, message: RowFocused) -> None:
        self.query_one("#notice-detail", Static).update(notice_renderable(message.row))

    def action_resend(self) -> None:
        row = self.query_one("#notices", PagedTable).current_row()
        if row is None:
            self.say_error(_("Choose a notice first."))
            return
        key = str(row["event_key"])
        question = _("Send the notice {key} to {app} again?").format(key=key, app=row["app_id"])
        self.app.push_screen(
            ConfirmDialog(question, yes=_("Re-send")), lambda yes: self._resend(key) if yes else None
        )

    def _resend(self, key: str) -> None:
        def done(_result: object) -> None:
            self.say(_("The notice {key} will be sent again now.").format(key=key))
            self.reload()

        self.call(notify.resend, key, done=done, group="resend")
