"""Property billing in the back office: the bill run (出账) — choose the period and the community, try a dry
run, then run it in a worker thread with a progress indicator and read the summary — and arrears (欠费) of a
community, building by building (in natural order) by ageing bucket, with the reminders sent and scheduled."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Input, ProgressBar, Select, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from console.keys import bindings
from console.screens.base import WorkScreen
from console.screens.dialogs import ConfirmDialog
from console.widgets.paged_table import PagedTable
from core.clock import today
from core.context import Context
from core.errors import AnjuError
from core.i18n import _
from core.money import format_fen
from core.property import billing, reminders
from core.property import rules as property_rules
from core.property import services as property_services
from core.property.console_reads import REMINDER_CHANNEL, REMINDER_KIND, REMINDERS_SENT, natural_key

ALL = "__all__"


def _communities(ctx: Context) -> list[property_services.CommunityView]:
    return property_services.list_communities(ctx)


def summary_text(result: billing.BillRunResult, *, dry_run: bool, seconds: float | None = None) -> Text:
    """The outcome of a bill run (or dry run) in a few words a clerk can read."""
    head = (
        _("Dry run for {period}: nothing was written.") if dry_run else _("Bill run for {period} finished.")
    )
    text = Text(head.format(period=result.period) + "\n", style="bold yellow" if dry_run else "bold green")
    grid = [
        (_("Houses billed"), f"{result.bills_created:,}"),
        (_("Bill lines"), f"{result.lines_created:,}"),
        (_("Amount"), format_fen(result.amount_fen)),
    ]
    if seconds is not None:
        grid.append((_("Time taken"), _("{seconds} s").format(seconds=f"{seconds:.1f}")))
    for label, value in grid:
        text.append(f"{label}: ", style="dim")
        text.append(value + "\n")
    if not result.lines_created:
        text.append(_("Nothing to bill: every house is already charged for this period."), style="dim")
    return text


class BillRunScreen(WorkScreen):
    """出账 — the period's bills for every chargeable house, with a dry run first."""

    PLACE = "billrun"
    SCOPES = ("billrun",)
    BINDINGS = bindings("back", "billrun")

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.last: billing.BillRunResult | None = None
        self._started = 0.0

    def body(self) -> ComposeResult:
        with Vertical(id="billrun-form", classes="panel"):
            with Horizontal(classes="form-row"):
                yield Static(_("Period"), classes="form-label")
                yield Input(placeholder="YYYY-MM", id="period", max_length=7, compact=True)
            with Horizontal(classes="form-row"):
                yield Static(_("Community"), classes="form-label")
                yield Select([(_("All communities"), ALL)], value=ALL, id="community", compact=True)
            with Horizontal(classes="form-row buttons"):
                yield Button(_("Dry run"), id="dry-run", compact=True)
                yield Button(_("Run"), id="run", variant="primary", compact=True)
        with Vertical(id="billrun-progress", classes="panel"):
            yield Static("", id="billrun-state")
            yield ProgressBar(total=None, id="billrun-bar", show_eta=False)
        yield Static("", id="billrun-summary", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#billrun-form").border_title = _("Bill run")
        self.query_one("#billrun-summary").border_title = _("Summary")
        self.query_one("#billrun-progress").display = False
        period = self.query_one("#period", Input)
        period.value = today(self.app.ctx_factory().clock).strftime("%Y-%m")
        period.focus()
        self.call(_communities, done=self._show_communities, group="communities")

    def _show_communities(self, communities: list[property_services.CommunityView]) -> None:
        options = [(_("All communities"), ALL)] + [(f"{c.code} {c.name}", str(c.id)) for c in communities]
        self.query_one("#community", Select).set_options(options)
        self.query_one("#community", Select).value = ALL

    def _choice(self) -> tuple[str, uuid.UUID | None] | None:
        period = self.query_one("#period", Input).value.strip()
        try:
            property_rules.Period.parse(period)
        except AnjuError as err:
            self.say_error(str(err))
            return None
        value = self.query_one("#community", Select).value
        community = uuid.UUID(str(value)) if value not in (ALL, Select.BLANK, None) else None
        return period, community

    @on(Button.Pressed, "#dry-run")
    def action_dry_run(self) -> None:
        self._start(dry_run=True)

    @on(Button.Pressed, "#run")
    def action_run(self) -> None:
        self._start(dry_run=False)

    def _start(self, *, dry_run: bool) -> None:
        if self.running:
            self.say_error(_("A bill run is already running; wait for it to finish."))
            return
        choice = self._choice()
        if choice is None:
            return
        period, community = choice
        self.running = True
        self._started = time.monotonic()
        self.query_one("#billrun-progress").display = True
        bar = self.query_one("#billrun-bar", ProgressBar)
        bar.update(total=None, progress=0)
        state = _("Dry run for {period}…") if dry_run else _("Billing {period}…")
        self.query_one("#billrun-state", Static).update(Text(state.format(period=period), style="bold"))
        self.query_one("#billrun-summary", Static).update("")
        self.say("")
        for button in self.query(Button):
            button.disabled = True
        self._bill_run(self.context(), period, community, dry_run)

    @work(thread=True, exclusive=True, group="billrun", exit_on_error=False)
    def _bill_run(
        self, ctx: Context, period: str, community: uuid.UUID | None, dry_run: bool
    ) -> tuple[billing.BillRunResult, bool]:
        # The run itself goes to a child process: 100,000 houses are seconds of Python, and in this thread they
        # would hold the interpreter lock and make every key wait (the issue asks for input within 100 ms).
        from textual.worker import get_current_worker

        from console.widgets.jobs import JobRefused, context_spec, run_in_process, target_of

        spec = context_spec(ctx)
        if spec is None:  # a database another process cannot open (in-memory): run it here
            return billing.bill_run(ctx, period, community_id=community, dry_run=dry_run), dry_run
        worker = get_current_worker()
        try:
            result = run_in_process(
                spec,
                target_of(billing.bill_run),
                (period,),
                {"community_id": community, "dry_run": dry_run},
                cancelled=lambda: worker.is_cancelled,
            )
        except JobRefused as refused:  # the service's own sentence, already translated
            raise AnjuError(refused.message) from None
        return result, dry_run

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "billrun" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            return
        self.running = False
        seconds = time.monotonic() - self._started
        for button in self.query(Button):
            button.disabled = False
        bar = self.query_one("#billrun-bar", ProgressBar)
        bar.update(total=1, progress=1 if event.state == WorkerState.SUCCESS else 0)
        if event.state == WorkerState.SUCCESS:
            result, dry_run = event.worker.result
            self.last = result
            self.query_one("#billrun-state", Static).update(Text(_("Done."), style="bold green"))
            self.query_one("#billrun-summary", Static).update(
                summary_text(result, dry_run=dry_run, seconds=seconds)
            )
            if not dry_run:
                self.say(_("Bill run finished: {n} bills.").format(n=f"{result.bills_created:,}"))
        else:
            error = event.worker.error
            if isinstance(error, AnjuError):
                message = str(error)
            else:  # a clerk sees a sentence, never a traceback; the log keeps the detail
                self.log.error(repr(error))
                message = _("Something went wrong: {error}").format(error=type(error).__name__)
            self.query_one("#billrun-state", Static).update(Text(_("Stopped."), style="bold red"))
            self.say_error(message)


@dataclass(frozen=True)
class ArrearsRow:
    """Arrears of one building (or of the whole community when `building` is empty)."""

    building: str
    view: billing.ArrearsView


def arrears_by_building(ctx: Context, community_id: uuid.UUID) -> list[ArrearsRow]:
    """The community's arrears, then each building's in natural order ("1, 2, 10", not "1, 10, 2")."""
    rows = [ArrearsRow("", billing.arrears(ctx, community_id=community_id))]
    buildings = property_services.list_buildings(ctx, community_id)
    for b in sorted(buildings, key=lambda b: natural_key(b.number)):
        name = f"{b.number} {b.name}".strip()
        rows.append(ArrearsRow(name, billing.arrears(ctx, building_id=b.id)))
    return rows


def reminder_plan(
    ctx: Context, community_id: uuid.UUID
) -> tuple[reminders.RunResult, list[reminders.ScheduleView]]:
    """What today's reminder run would send for the community (a dry run), and its schedule."""
    return (
        reminders.run_reminders(ctx, community_id=community_id, dry_run=True),
        reminders.list_schedules(ctx, community_id),
    )


def schedule_text(schedules: list[reminders.ScheduleView]) -> Text:
    """A community's reminder schedule in words: one line per rule."""
    text = Text()
    kinds = dict(REMINDER_KIND)
    channels = dict(REMINDER_CHANNEL)
    for rule in schedules:
        line = _("{kind}: {days} days, by {channels}").format(
            kind=_(kinds.get(rule.kind, rule.kind)),
            days=rule.days,
            channels="、".join(_(channels.get(c, c)) for c in rule.channels),
        )
        text.append(
            line + ("" if rule.active else " " + _("(stopped)")) + "\n", style="" if rule.active else "dim"
        )
    if not schedules:
        text.append(_("No reminder schedule: nothing is sent automatically."), style="dim")
    return text


def run_text(result: reminders.RunResult) -> str:
    """A reminder run (or dry run) in one sentence."""
    by_channel = dict(REMINDER_CHANNEL)
    parts = "、".join(f"{_(by_channel.get(c, c))} {n}" for c, n in result.by_channel.items() if n)
    return _("{houses} houses, {messages} messages ({parts}); {stopped} left out by the stop list.").format(
        houses=result.houses, messages=result.messages, parts=parts or "0", stopped=result.stopped
    )


class ArrearsScreen(WorkScreen):
    """欠费 — overdue amounts of a community, building by building, by age; the reminders sent and scheduled."""

    PLACE = "arrears"
    SCOPES = ("arrears", "list")
    BINDINGS = bindings("back", "arrears")

    def __init__(self) -> None:
        super().__init__()
        self.codes: dict[str, str] = {}  # community id → code (the reminders list filters by code)

    def body(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Static(_("Community"), classes="form-label")
            yield Select([], prompt=_("Choose a community"), id="arrears-community", compact=True)
        with TabbedContent(id="arrears-tabs"):
            with TabPane(_("By building"), id="tab-arrears"):
                yield DataTable(id="arrears", cursor_type="row", zebra_stripes=True)
                yield Static("", id="arrears-status")
            with TabPane(_("Reminders sent"), id="tab-reminders"):
                yield PagedTable(
                    REMINDERS_SENT,
                    self.context,
                    fixed={"community": ""},
                    export_dir=self.app.export_dir,
                    id="reminders-sent",
                )
            with TabPane(_("Reminder schedule"), id="tab-schedule"):
                yield Static("", id="reminder-schedule")
                yield Static("", id="reminder-today")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#arrears-community", Select).focus()
        self.call(_communities, done=self._show_communities, group="communities")

    def _show_communities(self, communities: list[property_services.CommunityView]) -> None:
        self.codes = {str(c.id): c.code for c in communities}
        select = self.query_one("#arrears-community", Select)
        select.set_options([(f"{c.code} {c.name}", str(c.id)) for c in communities])
        if communities:
            select.value = str(communities[0].id)

    @on(Select.Changed, "#arrears-community")
    def _chosen(self, event: Select.Changed) -> None:
        self.reload()

    def _community(self) -> uuid.UUID | None:
        value = self.query_one("#arrears-community", Select).value
        return None if value in (Select.BLANK, None) else uuid.UUID(str(value))

    def reload(self) -> None:
        community = self._community()
        if community is None:
            return
        self.query_one("#arrears-status", Static).update(Text(_("Reading…"), style="dim"))
        self.call(arrears_by_building, community, done=self._show, group="arrears")
        self.query_one("#reminders-sent", PagedTable).set_fixed(community=self.codes[str(community)])
        self.call(reminder_plan, community, done=self._show_plan, failed=self._plan_failed, group="reminders")

    def _show_plan(self, plan: tuple[reminders.RunResult, list[reminders.ScheduleView]]) -> None:
        result, schedules = plan
        self.query_one("#reminder-schedule", Static).update(schedule_text(schedules))
        today_text = _("Due today ({date}): {what}").format(date=result.on.isoformat(), what=run_text(result))
        self.query_one("#reminder-today", Static).update(Text("\n" + today_text, style="bold"))

    def _plan_failed(self, message: str) -> None:
        # Someone who may see arrears but not run reminders still sees the arrears.
        self.query_one("#reminder-today", Static).update(Text(message, style="dim"))

    def action_send_reminders(self) -> None:
        """Today's reminders for the community: what would go out first, then send on confirmation."""
        community = self._community()
        if community is None:
            self.say_error(_("Choose a community first."))
            return
        self.call(reminder_plan, community, done=lambda plan: self._confirm_send(community, plan[0]))

    def _confirm_send(self, community: uuid.UUID, dry: reminders.RunResult) -> None:
        if not dry.messages:
            self.say(_("No reminders are due today for this community."))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.call(
                    reminders.run_reminders,
                    community_id=community,
                    done=lambda result: self._sent(result),
                )

        question = _("Send today's reminders? {what}").format(what=run_text(dry))
        self.app.push_screen(ConfirmDialog(question, _("Send")), answered)

    def _sent(self, result: reminders.RunResult) -> None:
        self.say(_("Reminders sent: {what}").format(what=run_text(result)))
        self.reload()

    def _show(self, rows: list[ArrearsRow]) -> None:
        table = self.query_one("#arrears", DataTable)
        table.clear(columns=True)
        labels = list(property_rules.AGEING_LABELS)
        table.add_column(_("Building"), key="building", width=16)
        table.add_column(Text(_("Houses"), justify="right"), key="houses", width=6)
        table.add_column(Text(_("Overdue"), justify="right"), key="total", width=12)
        for label in labels:
            table.add_column(Text(label, justify="right"), key=f"b-{label}", width=10)
        for r in rows:
            v = r.view
            name = Text(r.building or _("Whole community"), style="" if r.building else "bold")
            cells = [
                name,
                Text(f"{v.houses:,}", justify="right"),
                Text(
                    format_fen(v.total_fen, symbol=False),
                    justify="right",
                    style="bold" if v.total_fen else "",
                ),
            ]
            cells += [Text(format_fen(v.buckets.get(lb, 0), symbol=False), justify="right") for lb in labels]
            table.add_row(*cells)
        as_of = rows[0].view.as_of.isoformat() if rows else ""
        self.query_one("#arrears-status", Static).update(
            Text(_("Overdue as of {date}, by days past the due date.").format(date=as_of), style="dim")
        )
