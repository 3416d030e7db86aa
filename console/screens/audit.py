"""The audit log viewer: every recorded action, newest first, filtered by who/action/object/date, with the
selected record's before and after, and Verify (the hash chain walked in a worker, the verdict in a panel)."""

from __future__ import annotations

import json

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

from console.keys import bindings
from console.messages import RowFocused
from console.screens.base import WorkScreen
from console.widgets.jobs import VerifySummary, call_in_process, target_of, verify_summary
from console.widgets.paged_table import PagedTable
from core.audit.log import VerifyResult
from core.i18n import _, translate
from core.overview import check_audit

PROBLEMS_SHOWN_MAX = 5


def _pretty(raw: str | None) -> str:
    if raw is None:
        return "—"
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False, sort_keys=True)
    except ValueError:
        return raw


def verdict_text(result: VerifyResult | VerifySummary, what: str) -> Text:
    """The result of a verify (or its summary) as a few lines a clerk can read."""
    if result.ok:
        return Text(
            _("{what}: all {count} records check out.").format(what=what, count=f"{result.checked:,}"),
            style="bold green",
        )
    lines = Text(
        _("{what}: {n} problems in {count} records.").format(
            what=what, n=f"{problem_count(result):,}", count=f"{result.checked:,}"
        ),
        style="bold red",
    )
    for problem in result.problems[:PROBLEMS_SHOWN_MAX]:
        params = {k: v for k, v in problem.items() if k not in ("problem", "message")}
        lines.append("\n• " + translate(problem.get("message", problem.get("problem", "")), params))
    return lines


def problem_count(result: VerifyResult | VerifySummary) -> int:
    return result.problem_count if isinstance(result, VerifySummary) else len(result.problems)


class AuditScreen(WorkScreen):
    """审计日志 — read the log, verify the chain."""

    PLACE = "audit"
    SCOPES = ("audit", "list")
    BINDINGS = bindings("back", "audit")
    # Focus goes straight to the list (not first to a filter and then to the list: each move re-lays the footer).
    AUTO_FOCUS = "#audit-list .rows"

    def __init__(self) -> None:
        super().__init__()
        self._detail_lines = -1

    def body(self) -> ComposeResult:
        yield PagedTable("audit", self.context, export_dir=self.app.export_dir, id="audit-list")
        yield Static("", id="audit-detail", classes="detail")
        yield Static("", id="verify-result", classes="verdict")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#audit-detail").border_title = _("Record")
        self.query_one("#verify-result").display = False
        self.query_one("#audit-list .rows").focus()

    @on(RowFocused)
    def _show_record(self, message: RowFocused) -> None:
        row = message.row
        text = Text()
        text.append(
            f"#{row['seq']}  {row['action']}  {row['object_type']} {row['object_id']}\n", style="bold"
        )
        text.append(_("Before") + ": ", style="dim")
        text.append(_pretty(row["before"]) + "\n")
        text.append(_("After") + ": ", style="dim")
        text.append(_pretty(row["after"]))
        detail = self.query_one("#audit-detail", Static)
        # The panel is as high as its text (up to its max-height): lay the screen out again only when the
        # number of lines changes, not on every move of the cursor.
        width = detail.content_region.width
        lines = len(text.wrap(self.app.console, width)) if width > 0 else -1
        detail.update(text, layout=lines != self._detail_lines or lines < 0)
        self._detail_lines = lines

    def reload(self) -> None:
        self.query_one(PagedTable).refresh_rows()

    def action_verify(self) -> None:
        panel = self.query_one("#verify-result", Static)
        panel.display = True
        panel.update(Text(_("Verifying the audit log…"), style="dim"))
        # In a process of its own: a verify walks every record in Python, and keys must not wait for it. Only
        # a summary comes back (a broken chain may have a million problems; the panel shows the first few).
        call_in_process(
            self,
            verify_summary,
            target_of(check_audit),
            done=self._verified,
            failed=self._verify_failed,
            group="verify",
        )

    def _verified(self, result: VerifySummary) -> None:
        self.query_one("#verify-result", Static).update(verdict_text(result, _("Audit log")))

    def _verify_failed(self, message: str) -> None:
        self.query_one("#verify-result", Static).update(Text(message, style="bold red"))
