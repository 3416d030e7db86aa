"""The approvals queue (maker-checker): the requests waiting for this user, the selected one's details and
history, and approve / reject / send back with a comment. core.workflow decides who may decide; its refusals
(your own request, a step you already decided, another role's step) are shown inline, never as a traceback."""

from __future__ import annotations

import uuid

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane

from console.keys import bindings
from console.messages import RowFocused
from console.screens.base import WorkScreen
from console.widgets.paged_table import PagedTable
from core.clock import BUSINESS_TZ
from core.i18n import N_, _
from core.money import format_fen
from core.workflow import services as workflow
from core.workflow.models import STATUS_LABELS

QUEUE_ROWS_MAX = 500
DECISION_LABELS = {
    "submit": N_("submitted"),
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "send_back": N_("sent back"),
    "withdraw": N_("withdrew"),
    "comment": N_("commented"),
}


def _when(at) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M") if at else ""


class ApprovalsScreen(WorkScreen):
    """审批 — my queue."""

    PLACE = "approvals"
    SCOPES = ("approvals", "list")
    BINDINGS = bindings("back", "approvals")

    def __init__(self) -> None:
        super().__init__()
        self.queue: list[workflow.InstanceView] = []
        self.current: workflow.InstanceView | None = None  # the request shown in the detail panel

    def body(self) -> ComposeResult:
        with Horizontal(id="approvals-body"):
            with TabbedContent(id="approval-tabs"):
                with TabPane(_("Waiting for you"), id="tab-queue"):
                    yield DataTable(id="queue", cursor_type="row", zebra_stripes=True)
                    yield Static("", id="queue-status")
                with TabPane(_("All requests"), id="tab-all"):
                    yield PagedTable(
                        "approvals", self.context, export_dir=self.app.export_dir, id="all-requests"
                    )
            with Vertical(id="approval-panel", classes="panel"):
                yield Static("", id="approval-detail")
        yield Input(
            placeholder=_("Comment (a reason is required to reject or send back)"),
            id="comment",
            max_length=2000,
        )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#approval-panel").border_title = _("Request")
        table = self.query_one("#queue", DataTable)
        table.add_column(_("Submitted"), key="at", width=16)
        table.add_column(_("Title"), key="title", width=20)
        table.add_column(Text(_("Amount"), justify="right"), key="amount", width=10)
        table.add_column(_("Submitted by"), key="by", width=10)
        table.focus()
        self.reload()

    # ------------------------------------------------------------------------------------ reading

    def reload(self) -> None:
        self.query_one("#queue-status", Static).update(Text(_("Reading…"), style="dim"))
        self.call(workflow.pending_for, QUEUE_ROWS_MAX, done=self._show_queue, group="queue")

    def _show_queue(self, queue: list[workflow.InstanceView]) -> None:
        self.queue = queue
        table = self.query_one("#queue", DataTable)
        table.clear()
        for inst in queue:
            amount = format_fen(inst.amount_fen, symbol=False) if inst.amount_fen is not None else ""
            table.add_row(
                _when(inst.submitted_at),
                Text(inst.title),
                Text(amount, justify="right"),
                Text(inst.submitted_by_name),
                key=str(inst.id),
            )
        status = (
            _("Requests waiting for you: {n}").format(n=len(queue)) if queue else _("Nothing waits for you.")
        )
        self.query_one("#queue-status", Static).update(Text(status, style="dim"))
        if not queue:
            self.current = None
            self.query_one("#approval-detail", Static).update("")

    @on(DataTable.RowHighlighted, "#queue")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key is None or event.row_key.value is None:
            return
        self.call(
            workflow.get_instance, uuid.UUID(event.row_key.value), done=self._show_detail, group="detail"
        )

    @on(RowFocused, "#all-requests")
    def _focused(self, message: RowFocused) -> None:
        self.call(workflow.get_instance, uuid.UUID(message.row["id"]), done=self._show_detail, group="detail")

    def _show_detail(self, detail: workflow.InstanceDetail) -> None:
        inst = detail.instance
        self.current = inst
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row(_("Title"), Text(inst.title))
        grid.add_row(_("Process"), inst.process_code)
        if inst.amount_fen is not None:
            grid.add_row(_("Amount"), format_fen(inst.amount_fen))
        grid.add_row(_("Object"), f"{inst.object_type} {inst.object_id}")
        grid.add_row(_("Submitted by"), f"{inst.submitted_by_name}  {_when(inst.submitted_at)}")
        grid.add_row(_("Status"), _(STATUS_LABELS.get(inst.status, inst.status)))
        steps = Text()
        for i, step in enumerate(inst.steps):
            mark = "▶ " if i == inst.current_step and not inst.is_terminal else "  "
            steps.append(
                f"{mark}{i + 1}. {_(step.name)} ({step.role})\n", style="bold" if mark.strip() else ""
            )
        grid.add_row(_("Steps"), steps)
        history = Text()
        for action in detail.actions:
            history.append(
                f"{_when(action.at)} {action.actor_name} {_(DECISION_LABELS.get(action.decision, action.decision))}"
            )
            if action.comment:
                history.append(f": {action.comment}", style="italic")
            history.append("\n")
        grid.add_row(_("History"), history)
        if inst.payload:
            grid.add_row(_("Details"), Text(", ".join(f"{k}={v}" for k, v in inst.payload.items())))
        self.query_one("#approval-detail", Static).update(Group(grid))

    # ------------------------------------------------------------------------------------ deciding

    def _decide(self, service, done_message: str) -> None:
        inst = self.current
        if inst is None:
            self.say_error(_("Choose a request first."))
            return
        comment = self.query_one("#comment", Input).value.strip() or None

        def done(_view: workflow.InstanceView) -> None:
            self.query_one("#comment", Input).value = ""
            self.say(done_message.format(title=inst.title))
            self.reload()
            self.query_one("#all-requests", PagedTable).refresh_rows()

        self.call(service, inst.id, comment, expected_version=inst.version, done=done, group="decide")

    def action_approve(self) -> None:
        self._decide(workflow.approve, _("Approved: {title}"))

    def action_reject(self) -> None:
        self._decide(workflow.reject, _("Rejected: {title}"))

    def action_send_back(self) -> None:
        self._decide(workflow.send_back, _("Sent back: {title}"))
