"""Channels and routing (渠道与路由): each channel's switch and fee rate, and the routing rules (app, method,
amount range → channels in fallback order). E switches the selected channel or rule on or off, R changes a
channel's fee rate, N adds a rule; core.payments.routing checks every value."""

from __future__ import annotations

import uuid

from textual.app import ComposeResult
from textual.widgets import TabbedContent, TabPane

import core.payments.console_reads as reads
from console.keys import bindings
from console.screens.base import WorkScreen
from console.widgets.form import FormDialog, FormField
from console.widgets.paged_table import PagedTable
from core.errors import ValidationError
from core.i18n import N_, _
from core.money import parse_yuan
from core.payments import routing
from core.payments.lists import CHANNEL_LABELS
from core.payments.models import CHANNELS


def _whole(text: str, field: str) -> int:
    text = text.strip()
    if not text.isdigit():
        raise ValidationError(N_("{field}: write a whole number."), field=field)
    return int(text)


def add_route_from_form(ctx, answer: dict[str, str]) -> routing.RouteView:
    """A routing rule from the form's text: channels separated by spaces or commas, amounts in yuan."""
    channels = [c for c in answer["channels"].replace(",", " ").replace(">", " ").split() if c]
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise ValidationError(
            N_("Unknown channel {channel}; use: {channels}."),
            field="channels",
            channel=unknown[0],
            channels=", ".join(CHANNELS),
        )
    low = parse_yuan(answer["min"]) if answer["min"].strip() else 0
    high = parse_yuan(answer["max"]) if answer["max"].strip() else None
    priority = _whole(answer["priority"] or "100", "priority")
    return routing.add_route(
        ctx,
        channels,
        app_id=answer["app"].strip() or None,
        method=answer["method"].strip() or None,
        min_amount_fen=low,
        max_amount_fen=high,
        priority=priority,
    )


class RoutingScreen(WorkScreen):
    """渠道与路由 — channels and routing rules."""

    PLACE = "routing"
    SCOPES = ("routing", "list")
    BINDINGS = bindings("back", "routing")

    def body(self) -> ComposeResult:
        with TabbedContent(id="routing-tabs"):
            with TabPane(_("Channels"), id="tab-channels"):
                yield PagedTable(reads.CHANNELS, self.context, export_dir=self.app.export_dir, id="channels")
            with TabPane(_("Routing rules"), id="tab-routes"):
                yield PagedTable(reads.ROUTES, self.context, export_dir=self.app.export_dir, id="routes")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#channels .rows").focus()

    def reload(self) -> None:
        for table in self.query(PagedTable):
            table.refresh_rows()

    def _on_routes(self) -> bool:
        return self.query_one("#routing-tabs", TabbedContent).active == "tab-routes"

    def _may_manage(self) -> bool:
        if self.app.actor is None or not self.app.actor.can("payments.manage"):
            self.say_error(_("You may not change channels or routing rules."))
            return False
        return True

    def action_toggle(self) -> None:
        if not self._may_manage():
            return
        table = self.query_one("#routes" if self._on_routes() else "#channels", PagedTable)
        row = table.current_row()
        if row is None:
            self.say_error(_("Choose a row first."))
            return
        enable = not row["enabled"]
        if self._on_routes():
            rid = uuid.UUID(str(row["id"]))
            self.call(
                routing.set_route_enabled, rid, enable, done=lambda _r: self._changed(table), group="set"
            )
        else:
            self.call(
                routing.set_channel,
                row["code"],
                enabled=enable,
                done=lambda _r: self._changed(table),
                group="set",
            )

    def _changed(self, table: PagedTable) -> None:
        self.say(_("Saved."))
        table.refresh_rows()

    def action_fee_rate(self) -> None:
        if not self._may_manage():
            return
        if self._on_routes():
            self.say_error(_("Fee rates belong to channels: open the Channels tab."))
            return
        table = self.query_one("#channels", PagedTable)
        row = table.current_row()
        if row is None:
            self.say_error(_("Choose a channel first."))
            return
        code = str(row["code"])
        title = _("Fee rate of {channel}").format(channel=_(dict(CHANNEL_LABELS).get(code, code)))
        fields = [
            FormField("rate", _("Fee rate (e.g. 0.006 for 0.6%)"), value=str(row["fee_rate"]), max_length=12)
        ]

        def chosen(answer: dict[str, str] | None) -> None:
            if answer is not None:
                self.call(
                    routing.set_channel, code, fee_rate=answer["rate"].strip(),
                    done=lambda _r: self._changed(table), group="set",
                )  # fmt: skip

        self.app.push_screen(FormDialog(title, fields, ok=_("Save")), chosen)

    def action_add_route(self) -> None:
        if not self._may_manage():
            return
        fields = [
            FormField("channels", _("Channels in fallback order (e.g. wechat alipay)"), max_length=200),
            FormField("app", _("App id (empty: every app)"), max_length=40),
            FormField("method", _("Method (empty: any; qr, debit, wechat…)"), max_length=20),
            FormField("min", _("From amount in yuan (empty: 0)"), max_length=20),
            FormField("max", _("To amount in yuan (empty: no limit)"), max_length=20),
            FormField("priority", _("Priority (lower first)"), value="100", max_length=6),
        ]
        table = self.query_one("#routes", PagedTable)

        def chosen(answer: dict[str, str] | None) -> None:
            if answer is not None:
                self.call(add_route_from_form, answer, done=lambda _r: self._changed(table), group="set")

        self.app.push_screen(FormDialog(_("New routing rule"), fields, ok=_("Add")), chosen)
