"""The payment hub's back office: order and refund search (paged from SQL, by any number, channel, status,
date or amount) and an order's detail — its fields, its state history with the raw channel messages of each
step, and the callbacks the channels sent about it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

import core.payments.lists  # noqa: F401 - registers the order and refund lists
from console.keys import bindings
from console.messages import RowChosen
from console.screens.base import WorkScreen
from console.widgets.paged_table import PagedTable
from core.clock import BUSINESS_TZ
from core.context import Context
from core.i18n import _
from core.money import format_fen
from core.payments import services as payments
from core.payments.lists import CHANNEL_LABELS, ORDER_STATUS_LABELS

RAW_CHARS_MAX = 2000  # a channel message longer than this is cut in the panel (the database keeps it whole)
CALLBACKS_SHOWN_MAX = 50


def _when(at) -> str:
    return at.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M:%S") if at else "—"


def _raw(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= RAW_CHARS_MAX else text[:RAW_CHARS_MAX] + "…"


@dataclass(frozen=True)
class OrderDossier:
    """Everything the detail screen shows of one order, read in one worker."""

    order: payments.OrderView
    history: list[payments.OrderEventView]
    callbacks: list[dict[str, Any]]


def order_dossier(ctx: Context, order_no: str) -> OrderDossier:
    """The order, its state history and its channel callbacks (payments.view)."""
    return OrderDossier(
        payments.get_order(ctx, order_no=order_no),
        payments.order_history(ctx, order_no),
        payments.list_callbacks(ctx, order_no=order_no, limit=CALLBACKS_SHOWN_MAX),
    )


def status_label(code: str | None) -> str:
    return _(dict(ORDER_STATUS_LABELS).get(code or "", code or "—"))


def dossier_renderables(d: OrderDossier) -> tuple[Table, Text, Text]:
    """(fields, history, callbacks) of an order, ready for the panels."""
    o = d.order
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    grid.add_row(_("Order no."), o.order_no)
    grid.add_row(_("Merchant no."), f"{o.app_id} / {o.out_trade_no}")
    grid.add_row(_("Status"), status_label(o.status))
    grid.add_row(_("Amount"), format_fen(o.amount_fen))
    if o.refunded_fen:
        grid.add_row(_("Refunded"), format_fen(o.refunded_fen))
    grid.add_row(_("Fee"), f"{format_fen(o.fee_fen)} ({o.fee_rate})")
    grid.add_row(
        _("Channel"), f"{_(dict(CHANNEL_LABELS).get(o.channel, o.channel))} {o.channel_trade_no or ''}"
    )
    grid.add_row(_("Subject"), Text(o.subject))
    if o.payer:
        grid.add_row(_("Payer"), Text(o.payer))
    grid.add_row(_("Created at"), _when(o.created_at))
    grid.add_row(_("Paid at"), _when(o.paid_at))
    grid.add_row(_("Expires at"), _when(o.expire_at))
    history = Text()
    for e in d.history:
        history.append(f"{_when(e.at)}  ", style="dim")
        history.append(f"{status_label(e.from_status)} → {status_label(e.to_status)}", style="bold")
        history.append(f"  {e.actor}")
        if e.reason:
            history.append(f"  {e.reason}", style="italic")
        history.append("\n")
        if e.channel_request is not None:
            history.append("  " + _("Sent to channel") + ": ", style="cyan")
            history.append(_raw(e.channel_request) + "\n")
        if e.channel_response is not None:
            history.append("  " + _("Channel answered") + ": ", style="cyan")
            history.append(_raw(e.channel_response) + "\n")
    if not d.history:
        history.append(_("No state changes recorded."), style="dim")
    callbacks = Text()
    for c in d.callbacks:
        callbacks.append(f"{_when(c['received_at'])}  {c['channel']}  ", style="dim")
        callbacks.append(str(c["outcome"]), style="bold")
        if c["detail"]:
            callbacks.append(f"  {c['detail']}")
        callbacks.append("\n")
    if not d.callbacks:
        callbacks.append(_("No callbacks received."), style="dim")
    return grid, history, callbacks


class PaymentsScreen(WorkScreen):
    """支付订单 — search orders and refunds; Enter opens an order."""

    PLACE = "payments"
    SCOPES = ("payments", "list")
    BINDINGS = bindings("back", "payments")

    def body(self) -> ComposeResult:
        with TabbedContent(id="payment-tabs"):
            with TabPane(_("Payment orders"), id="tab-orders"):
                yield PagedTable("payments.orders", self.context, export_dir=self.app.export_dir, id="orders")
            with TabPane(_("Refund orders"), id="tab-refunds"):
                yield PagedTable(
                    "payments.refunds", self.context, export_dir=self.app.export_dir, id="refunds"
                )

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#orders .rows").focus()

    def reload(self) -> None:
        for table in self.query(PagedTable):
            table.refresh_rows()

    @on(RowChosen)
    def _chosen(self, message: RowChosen) -> None:
        self.open_order(str(message.row["order_no"]))

    def action_open_order(self) -> None:
        tabs = self.query_one("#payment-tabs", TabbedContent)
        table = self.query_one("#orders" if tabs.active == "tab-orders" else "#refunds", PagedTable)
        row = table.current_row()
        if row is None:
            self.say_error(_("Choose an order first."))
            return
        self.open_order(str(row["order_no"]))

    def open_order(self, order_no: str) -> None:
        self.app.push_screen(OrderScreen(order_no))


class OrderScreen(WorkScreen):
    """订单详情 — one order, its state history with raw channel messages, its callbacks. Escape returns."""

    PLACE = "order"
    SCOPES = ("order",)
    BINDINGS = bindings("order")

    def __init__(self, order_no: str) -> None:
        super().__init__()
        self.order_no = order_no
        self.dossier: OrderDossier | None = None

    def body(self) -> ComposeResult:
        with VerticalScroll(id="order-scroll"):
            yield Static(_("Reading…"), id="order-fields", classes="panel")
            yield Static("", id="order-history", classes="panel")
            yield Static("", id="order-callbacks", classes="panel")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#order-fields").border_title = _("Order {order_no}").format(order_no=self.order_no)
        self.query_one("#order-history").border_title = _("State history and channel messages")
        self.query_one("#order-callbacks").border_title = _("Channel callbacks")
        self.query_one("#order-scroll").focus()
        self.reload()

    def reload(self) -> None:
        self.call(order_dossier, self.order_no, done=self._show, group="order")

    def _show(self, dossier: OrderDossier) -> None:
        self.dossier = dossier
        grid, history, callbacks = dossier_renderables(dossier)
        self.query_one("#order-fields", Static).update(Group(grid))
        self.query_one("#order-history", Static).update(history)
        self.query_one("#order-callbacks", Static).update(callbacks)

    def action_close(self) -> None:
        self.app.pop_screen()
