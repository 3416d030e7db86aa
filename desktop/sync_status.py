"""Sync with the central hub, as the counter sees it: a status-bar line (enrolled or not, events waiting, the
last round) refreshed off the UI thread, and "Sync now" (Ctrl+Shift+Y) running a round in the background."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QWidget

from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import _
from core.sync import client as sync
from desktop.qt import Tasks, error_text

REFRESH_MS = 60_000


def _local(at: datetime) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%m-%d %H:%M")


def status_text(st: sync.SyncStatus) -> str:
    """One line for the status bar."""
    if not st.enrolled:
        return _("Sync: this site is not enrolled at a hub")
    if st.last_round is not None and st.last_round.status == "failed":
        when = _local(st.last_round.finished_at)
        return _("Sync failed at {at}; {pending} change(s) waiting").format(at=when, pending=st.pending)
    if st.pending == 0:
        when = _local(st.last_success_at) if st.last_success_at else "-"
        return _("Synced with the hub (last {at})").format(at=when)
    return _("Sync: {pending} change(s) waiting for the hub").format(pending=st.pending)


class SyncIndicator(QObject):
    """The status-bar label and the background round. Nothing here touches the database on the UI thread."""

    def __init__(self, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.ctx: Context | None = None
        self.running = False
        self.label = QLabel()
        self.label.setObjectName("sync_status")
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    def set_context(self, ctx: Context) -> None:
        """Show the status for this actor (hidden if they may not see it) and refresh now."""
        self.ctx = ctx
        visible = ctx.actor.can("sync.view")
        self.label.setVisible(visible)
        if visible:
            self.refresh()
            self.timer.start()
        else:
            self.timer.stop()

    def refresh(self) -> None:
        ctx = self.ctx
        if ctx is None or self.running:
            return
        self.tasks.run(lambda: sync.status(ctx), self._show, self._show_error)

    def sync_now(self) -> None:
        """Run one round (backup, push, pull) in the background; a second press while it runs does nothing."""
        ctx = self.ctx
        if ctx is None or self.running:
            return
        self.running = True
        self.label.setText(_("Syncing with the hub…"))
        self.tasks.run(lambda: sync.run_round(ctx), self._done, self._failed)

    def _show(self, st: sync.SyncStatus) -> None:
        self.label.setText(status_text(st))
        self.label.setStyleSheet(
            "color: #b00020;" if st.last_round is not None and st.last_round.status == "failed" else ""
        )

    def _show_error(self, exc: BaseException) -> None:
        self.label.setText(error_text(exc))

    def _done(self, result: sync.RoundResult) -> None:
        self.running = False
        self.label.setStyleSheet("")
        self.label.setText(
            _("Sync done: {pushed} sent, {pulled} received").format(
                pushed=result.pushed, pulled=result.pulled
            )
        )
        QTimer.singleShot(5000, self.refresh)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.label.setStyleSheet("color: #b00020;")
        self.label.setText(_("Sync failed: {error}").format(error=error_text(exc)))
