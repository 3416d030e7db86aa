"""Reconciliation (对账): the runs per channel and statement day, and the differences they found; a difference
is resolved with a decision and a note (core.payments.recon.services.resolve decides what is allowed and books
what the decision moves). Enter on a run shows its differences."""

from __future__ import annotations

from datetime import date

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Input, Select, Static, TabbedContent, TabPane

import core.payments.console_reads as reads
from console.keys import bindings
from console.messages import RowChosen, RowFocused
from console.screens.base import WorkScreen
from console.widgets.form import FormDialog, FormField
from console.widgets.paged_table import PagedTable
from core.i18n import _
from core.money import format_fen
from core.payments.recon import rules
from core.payments.recon import services as recon


def _label(pairs: tuple[tuple[str, str], ...], code: str | None) -> str:
    return _(dict(pairs).get(code or "", code or "—"))


def _fen(value: int | None) -> str:
    return "—" if value is None else format_fen(int(value))


def difference_renderable(row: dict) -> Table:
    """The detail panel of one difference (a row of the differences list)."""
    grid = Table.grid(padding=(0, 2))
    for _i in range(4):
        grid.add_column(no_wrap=True)
    grid.add_row(
        Text(_("Difference"), style="bold"),
        _label(reads.DIFFERENCE_KIND_LABELS, row["kind"]),
        Text(_("Document no."), style="bold"),
        str(row["doc_no"]),
    )
    grid.add_row(
        Text(_("Our amount"), style="bold"),
        f"{_fen(row['local_amount_fen'])} ({row['local_status'] or '—'})",
        Text(_("Channel amount"), style="bold"),
        f"{_fen(row['channel_amount_fen'])} ({row['channel_status'] or '—'})",
    )
    grid.add_row(
        Text(_("Our fee"), style="bold"),
        _fen(row["local_fee_fen"]),
        Text(_("Channel fee"), style="bold"),
        _fen(row["channel_fee_fen"]),
    )
    state = _label(reads.DIFFERENCE_STATUS_LABELS, row["status"])
    if row["decision"]:
        state += f": {_label(reads.DECISION_LABELS, row['decision'])} ({row['resolved_by']})"
    grid.add_row(
        Text(_("State"), style="bold"), Text(state), Text(_("Note"), style="bold"), Text(row["note"] or "")
    )
    return grid


class ReconScreen(WorkScreen):
    """对账 — runs and differences."""

    PLACE = "recon"
    SCOPES = ("recon", "list")
    BINDINGS = bindings("back", "recon")

    def __init__(self) -> None:
        super().__init__()
        self.current: dict | None = None

    def body(self) -> ComposeResult:
        with TabbedContent(id="recon-tabs", initial="tab-diffs"):
            with TabPane(_("Differences"), id="tab-diffs"):
                yield PagedTable(
                    reads.RECON_DIFFERENCES, self.context, export_dir=self.app.export_dir, id="diffs"
                )
                yield Static(Text(_("Choose a difference."), style="dim"), id="diff-detail", classes="panel")
            with TabPane(_("Reconciliation runs"), id="tab-runs"):
                yield PagedTable(reads.RECON_BATCHES, self.context, export_dir=self.app.export_dir, id="runs")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#diff-detail").border_title = _("Difference")
        # Open differences first: that is the work; clear the filter to see the resolved ones too.
        self.query_one("#diffs #filter-status", Select).value = "open"
        self.query_one("#diffs .rows").focus()

    def reload(self) -> None:
        for table in self.query(PagedTable):
            table.refresh_rows()

    # ------------------------------------------------------------------------------------ rows

    @on(RowFocused, "#diffs")
    def _focused(self, message: RowFocused) -> None:
        self.current = message.row
        self.query_one("#diff-detail", Static).update(difference_renderable(message.row))

    @on(RowChosen, "#diffs")
    def _chosen(self, message: RowChosen) -> None:
        self.current = message.row
        self.action_resolve()

    @on(RowChosen, "#runs")
    def _run_chosen(self, message: RowChosen) -> None:
        """A run's differences: the differences tab filtered to its channel and day."""
        day = message.row["business_date"]
        text = day.isoformat() if isinstance(day, date) else str(day)
        diffs = self.query_one("#diffs", PagedTable)
        self.query_one("#diffs #filter-channel", Select).value = message.row["channel"]
        self.query_one("#diffs #filter-date_from", Input).value = text
        self.query_one("#diffs #filter-date_to", Input).value = text
        self.query_one("#recon-tabs", TabbedContent).active = "tab-diffs"
        diffs.reload()
        diffs.query_one(".rows").focus()

    # ------------------------------------------------------------------------------------ actions

    def action_open_only(self) -> None:
        status = self.query_one("#diffs #filter-status", Select)
        status.value = Select.NULL if status.value == "open" else "open"

    def action_resolve(self) -> None:
        row = self.query_one("#diffs", PagedTable).current_row()
        if row is None:
            self.say_error(_("Choose a difference first."))
            return
        if row["status"] != "open":
            self.say_error(_("This difference is already resolved."))
            return
        allowed = rules.DECISIONS_BY_KIND.get(row["kind"], frozenset())
        choices = tuple((code, _(label)) for code, label in reads.DECISION_LABELS if code in allowed)
        title = _("Resolve {kind} of {doc_no}").format(
            kind=_label(reads.DIFFERENCE_KIND_LABELS, row["kind"]), doc_no=row["doc_no"]
        )
        fields = [
            FormField("decision", _("Decision"), choices=choices),
            FormField("note", _("Why (required)"), max_length=recon.NOTE_LEN_MAX),
        ]
        self.app.push_screen(
            FormDialog(title, fields, ok=_("Resolve")), lambda answer: self._resolve(row, answer)
        )

    def _resolve(self, row: dict, answer: dict[str, str] | None) -> None:
        if answer is None:
            return

        def done(view: recon.DifferenceView) -> None:
            self.say(
                _("Difference of {doc_no} resolved: {decision}.").format(
                    doc_no=view.doc_no, decision=_label(reads.DECISION_LABELS, view.decision)
                )
            )
            self.query_one("#diffs", PagedTable).refresh_rows()
            self.query_one("#runs", PagedTable).refresh_rows()

        self.call(recon.resolve, row["id"], answer["decision"], answer["note"], done=done, group="resolve")
