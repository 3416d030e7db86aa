"""The site and its database: identity and paths, the integrity check, an online backup and a restore, each
in a worker with a progress bar. A restore replaces every record, so the session locks afterwards."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, ProgressBar, Static

from console.keys import bindings
from console.screens.base import WorkScreen
from console.screens.dialogs import ConfirmDialog
from core.clock import BUSINESS_TZ
from core.context import Context
from core.db import backup as dbbackup
from core.errors import SiteError
from core.i18n import N_, _


def _db_path(ctx: Context) -> Path:
    if ctx.home is None:
        raise SiteError(N_("No site directory: backup and restore are unavailable."))
    return ctx.home.db_path


class SiteScreen(WorkScreen):
    """站点与备份 — site, database check, backup, restore."""

    PLACE = "site"
    SCOPES = ("site",)
    BINDINGS = bindings("back", "site")

    def body(self) -> ComposeResult:
        with Vertical(id="site-info", classes="panel"):
            yield Static("", id="site-facts")
        with Vertical(id="site-backup", classes="panel"):
            yield Label(_("Backup file"))
            yield Input(id="backup-path", compact=True)
            yield ProgressBar(id="backup-progress", show_eta=False)
            yield Static("", id="backup-result")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#site-info").border_title = _("Site")
        self.query_one("#site-backup").border_title = _("Backup and restore")
        self.query_one("#backup-progress").display = False
        ctx = self.app.ctx_factory()
        stamp = datetime.now(BUSINESS_TZ).strftime("%Y%m%d-%H%M%S")
        if ctx.home is not None:
            self.query_one("#backup-path", Input).value = str(ctx.home.backups_dir / f"anju-{stamp}.db")
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        site = self.app.site
        if site is not None:
            grid.add_row(_("Site"), f"{site.name} ({site.code})")
            grid.add_row(_("Site id"), str(site.site_id))
        grid.add_row(_("Site directory"), str(ctx.home.root) if ctx.home else "—")
        grid.add_row(_("Database"), str(ctx.db.path) if ctx.db.path else ctx.db.dialect)
        self.query_one("#site-facts", Static).update(grid)

    # ------------------------------------------------------------------------------------ actions

    def _path(self) -> Path | None:
        text = self.query_one("#backup-path", Input).value.strip()
        if not text:
            self.say_error(_("Enter the backup file's path."))
            return None
        return Path(text).expanduser()

    def _progress(self, remaining: int, total: int) -> None:
        bar = self.query_one("#backup-progress", ProgressBar)
        self.app.call_from_thread(bar.update, total=max(1, total), progress=max(0, total - remaining))

    def _start(self, text: str) -> None:
        bar = self.query_one("#backup-progress", ProgressBar)
        bar.update(total=None, progress=0)
        bar.display = True
        self.query_one("#backup-result", Static).update(Text(text, style="dim"))

    def _result(self, text: str, *, error: bool = False) -> None:
        self.query_one("#backup-progress").display = False
        self.query_one("#backup-result", Static).update(
            Text(text, style="bold red" if error else "bold green")
        )

    def action_check(self) -> None:
        def check(ctx: Context) -> dbbackup.CheckResult:
            ctx.require("backup.manage")
            return dbbackup.check_database(_db_path(ctx))

        def done(result: dbbackup.CheckResult) -> None:
            if result.ok:
                self._result(
                    _("The database passed its integrity check ({pages} pages).").format(
                        pages=result.page_count
                    )
                )
            else:
                self._result("; ".join(result.problems), error=True)

        self._start(_("Checking the database…"))
        self.call(check, done=done, failed=lambda m: self._result(m, error=True), group="db")

    def action_backup(self) -> None:
        dest = self._path()
        if dest is None:
            return

        def backup(ctx: Context) -> dbbackup.BackupInfo:
            ctx.require("backup.manage")
            return dbbackup.create_backup(_db_path(ctx), dest, progress=self._progress)

        def done(info: dbbackup.BackupInfo) -> None:
            self._result(
                _("Backup written: {path} ({size} bytes).").format(
                    path=info.path, size=f"{info.size_bytes:,}"
                )
            )

        self._start(_("Backing up…"))
        self.call(backup, done=done, failed=lambda m: self._result(m, error=True), group="db")

    def action_restore(self) -> None:
        source = self._path()
        if source is None:
            return
        question = _("Replace the whole database with {path}? A copy of the current one is kept.").format(
            path=source
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._restore(source)

        self.app.push_screen(ConfirmDialog(question, _("Restore")), answered)

    def _restore(self, source: Path) -> None:
        def restore(ctx: Context) -> dbbackup.RestoreInfo:
            ctx.require("backup.manage")
            home = ctx.home
            return dbbackup.restore_backup(
                source,
                _db_path(ctx),
                progress=self._progress,
                keep_copy_dir=home.backups_dir if home else None,
                clock=ctx.clock,
            )

        def done(info: dbbackup.RestoreInfo) -> None:
            self._result(_("Restored from {path}.").format(path=info.backup))
            self.app.notify(_("The database was restored; log in again."), timeout=10)
            self.app.call_later(self.app.action_lock)

        self._start(_("Restoring…"))
        self.call(restore, done=done, failed=lambda m: self._result(m, error=True), group="db")
