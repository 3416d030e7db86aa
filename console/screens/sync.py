"""Sync status (同步状态): whether the site is enrolled at the central hub, the last round and the last success,
events waiting to go up and how long the oldest has waited; S runs a round in a worker with its progress
(core.sync.client, the same functions as `anju sync` and `anju sync status`)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import ProgressBar, Static

from console.keys import bindings
from console.screens.base import WorkScreen
from core.clock import BUSINESS_TZ
from core.i18n import N_, _
from core.sync import client as sync

PHASES = {"backup": N_("Backing up"), "push": N_("Sending events"), "pull": N_("Receiving reference data")}


def _when(at) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


def lag_text(seconds: int | None) -> str:
    """How long the oldest pending event has waited, in the largest sensible unit."""
    if seconds is None:
        return _("nothing waiting")
    if seconds < 120:
        return _("{n} seconds").format(n=seconds)
    if seconds < 2 * 3600:
        return _("{n} minutes").format(n=seconds // 60)
    if seconds < 2 * 86400:
        return _("{n} hours").format(n=seconds // 3600)
    return _("{n} days").format(n=seconds // 86400)


def status_renderable(st: sync.SyncStatus) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    if st.enrolled:
        grid.add_row(_("Central hub"), Text(f"{st.hub_url} ({st.hub_site_id})"))
    else:
        grid.add_row(_("Central hub"), Text(_("not enrolled: run 'anju sync enroll' first"), style="yellow"))
    grid.add_row(_("Events waiting"), f"{st.pending:,}  ({st.acked_seq:,} / {st.local_seq:,})")
    grid.add_row(_("Oldest waiting for"), lag_text(st.lag_s))
    last = st.last_round
    if last is None:
        grid.add_row(_("Last round"), _("never"))
    else:
        outcome = Text(
            _("ok") if last.status == "ok" else _("failed"),
            style="green" if last.status == "ok" else "bold red",
        )
        outcome.append(f"  {_when(last.finished_at)}  ")
        outcome.append(_("sent {pushed}, received {pulled}").format(pushed=last.pushed, pulled=last.pulled))
        if last.error:
            outcome.append(f"\n{last.error}", style="red")
        grid.add_row(_("Last round"), outcome)
    grid.add_row(_("Last success"), _when(st.last_success_at))
    grid.add_row(_("Scheduled at"), st.schedule_at or "—")
    grid.add_row(_("Reference version"), str(st.reference_version))
    return grid


class SyncScreen(WorkScreen):
    """同步状态."""

    PLACE = "sync"
    SCOPES = ("sync",)
    BINDINGS = bindings("back", "sync")

    def __init__(self) -> None:
        super().__init__()
        self.status: sync.SyncStatus | None = None
        self.running = False

    def body(self) -> ComposeResult:
        with VerticalScroll(id="sync-scroll"):
            yield Static(_("Reading…"), id="sync-status", classes="panel")
            yield Static("", id="sync-phase")
            yield ProgressBar(id="sync-progress", show_eta=False)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#sync-status").border_title = _("Sync with the central hub")
        self.query_one("#sync-progress").display = False
        self.reload()

    def reload(self) -> None:
        self.call(sync.status, done=self._show, group="status")

    def _show(self, st: sync.SyncStatus) -> None:
        self.status = st
        self.query_one("#sync-status", Static).update(status_renderable(st))

    def action_sync_now(self) -> None:
        if self.running:
            self.say_error(_("A sync round is already running."))
            return
        if self.app.actor is None or not self.app.actor.can("sync.run"):
            self.say_error(_("You may not run a sync round."))
            return
        self.running = True
        bar = self.query_one("#sync-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.say(_("Sync round started…"))

        def progress(phase: str, done: int, total: int) -> None:
            self.app.call_from_thread(self._progress, phase, done, total)

        self.call(sync.run_round, progress=progress, done=self._done, failed=self._failed, group="round")

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.query_one("#sync-phase", Static).update(Text(_(PHASES.get(phase, phase)), style="dim"))
        self.query_one("#sync-progress", ProgressBar).update(total=max(1, total), progress=done)

    def _finish(self) -> None:
        self.running = False
        self.query_one("#sync-progress").display = False
        self.query_one("#sync-phase", Static).update("")
        self.reload()

    def _done(self, result: sync.RoundResult) -> None:
        self._finish()
        self.say(
            _("Sync round done: sent {pushed}, received {pulled}.").format(
                pushed=result.pushed, pulled=result.pulled
            )
        )

    def _failed(self, message: str) -> None:
        self._finish()
        self.say_error(message)
