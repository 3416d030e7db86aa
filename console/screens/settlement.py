"""Settlement (结算): the batches per app and business day (gross, refunds, fees, net, payee), a batch's figures
by channel, and settling a finished day for one app or all (core.payments.settlement.services.run_settlement,
idempotent per app and day)."""

from __future__ import annotations

from datetime import date, timedelta

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Static

import core.payments.console_reads as reads
from console.keys import bindings
from console.messages import RowFocused
from console.screens.base import WorkScreen
from console.widgets.form import FormDialog, FormField
from console.widgets.paged_table import PagedTable
from core.clock import today
from core.errors import ValidationError
from core.i18n import N_, _
from core.money import format_fen
from core.payments.lists import CHANNEL_LABELS
from core.payments.settlement import services as settlement


def batch_renderable(view: settlement.SettlementView) -> Table:
    """A batch's figures, with one line per channel."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(justify="right")
    grid.add_column(justify="right")
    grid.add_column(justify="right")
    grid.add_row(
        f"{view.batch_no} · {view.app_id} · {view.business_date.isoformat()}",
        _("Gross"),
        _("Refunded"),
        _("Fees"),
    )
    for code, figures in sorted((view.by_channel or {}).items()):
        grid.add_row(
            Text(_(dict(CHANNEL_LABELS).get(code, code)), style=""),
            format_fen(int(figures.get("gross_fen", 0)), symbol=False),
            format_fen(int(figures.get("refunds_fen", 0)), symbol=False),
            format_fen(int(figures.get("fees_fen", 0)), symbol=False),
        )
    grid.add_row(
        _("Net to {payee}").format(payee=view.payee_name),
        "",
        "",
        Text(format_fen(view.net_fen), style="bold"),
    )
    return grid


def batch_detail(ctx, app_id: str, day: date) -> settlement.SettlementView | None:
    found = settlement.list_settlements(ctx, day=day, app_id=app_id)
    return found[0] if found else None


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(N_("Give the settlement date as YYYY-MM-DD."), field="date") from None


class SettlementScreen(WorkScreen):
    """结算批次 — list, detail, settle a day."""

    PLACE = "settlement"
    SCOPES = ("settlement", "list")
    BINDINGS = bindings("back", "settlement")

    def body(self) -> ComposeResult:
        yield PagedTable(reads.SETTLEMENTS, self.context, export_dir=self.app.export_dir, id="batches")
        yield Static(Text(_("Choose a batch."), style="dim"), id="batch-detail", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#batch-detail").border_title = _("Settlement batch")
        self.query_one("#batches .rows").focus()

    def reload(self) -> None:
        self.query_one("#batches", PagedTable).refresh_rows()

    @on(RowFocused, "#batches")
    def _focused(self, message: RowFocused) -> None:
        row = message.row
        self.call(batch_detail, row["app_id"], row["business_date"], done=self._show, group="detail")

    def _show(self, view: settlement.SettlementView | None) -> None:
        if view is not None:
            self.query_one("#batch-detail", Static).update(batch_renderable(view))

    def action_settle(self) -> None:
        if self.app.actor is None or not self.app.actor.can(settlement.PERM_RUN):
            self.say_error(_("You may not run the settlement."))
            return
        yesterday = today(self.app.user_context().clock) - timedelta(days=1)
        fields = [
            FormField("day", _("Business day (YYYY-MM-DD)"), value=yesterday.isoformat(), max_length=10),
            FormField("app", _("App id (empty: every app of the day)"), max_length=40),
            FormField(
                "override",
                _("Reason to settle before reconciliation is done (usually empty)"),
                max_length=500,
            ),
        ]
        self.app.push_screen(FormDialog(_("Settle a day"), fields, ok=_("Settle")), self._settle)

    def _settle(self, answer: dict[str, str] | None) -> None:
        if answer is None:
            return

        def run(ctx, day_text: str, app: str, override: str) -> list[settlement.SettlementView]:
            return settlement.run_settlement(
                ctx, parse_day(day_text), app or None, override_reason=override or None
            )

        def done(views: list[settlement.SettlementView]) -> None:
            net = sum(v.net_fen for v in views)
            self.say(
                _("{n} settlement batches for the day, net {net}.").format(n=len(views), net=format_fen(net))
            )
            self.reload()

        self.call(
            run, answer["day"], answer["app"].strip(), answer["override"].strip(), done=done, group="settle"
        )
