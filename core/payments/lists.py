"""The payment hub's paged lists, registered with core.listing: orders and refunds, searchable by any number,
channel, status, creation date and amount (in yuan, exact), for the back office's order search."""

from __future__ import annotations

from sqlalchemy import Select, or_, select

from core.i18n import N_
from core.listing import Column, Criteria, Filter, Source, instant_range, prefix, register
from core.money import parse_yuan
from core.payments.models import CHANNELS, ORDER_STATUSES, REFUND_STATUSES, PayOrder, PayRefund

ORDERS = "payments.orders"
REFUNDS = "payments.refunds"

ORDER_STATUS_LABELS: tuple[tuple[str, str], ...] = (
    ("CREATED", N_("Awaiting payment")),
    ("PAYING", N_("Paying")),
    ("UNKNOWN", N_("Unknown")),
    ("SUCCESS", N_("Payment succeeded")),
    ("FAILED", N_("Failed")),
    ("CLOSED", N_("Order closed")),
    ("PARTIALLY_REFUNDED", N_("Partly refunded")),
    ("REFUNDED", N_("Fully refunded")),
)
REFUND_STATUS_LABELS: tuple[tuple[str, str], ...] = (
    ("PROCESSING", N_("Processing")),
    ("SUCCESS", N_("Refund succeeded")),
    ("FAILED", N_("Failed")),
    ("UNKNOWN", N_("Unknown")),
)
CHANNEL_LABELS: tuple[tuple[str, str], ...] = (
    ("cash", N_("Cash")),
    ("pos", N_("Card (POS)")),
    ("wechat", N_("WeChat Pay")),
    ("alipay", N_("Alipay")),
    ("unionpay", N_("UnionPay")),
    ("bank_transfer", N_("Bank transfer")),
    ("bank_debit", N_("Bank debit")),
    ("housing_fund", N_("Housing fund")),
)
assert {c for c, _l in ORDER_STATUS_LABELS} == set(ORDER_STATUSES)
assert {c for c, _l in REFUND_STATUS_LABELS} == set(REFUND_STATUSES)
assert {c for c, _l in CHANNEL_LABELS} == set(CHANNELS)


def _orders(c: Criteria) -> Select:
    stmt = select(
        PayOrder.order_no,
        PayOrder.out_trade_no,
        PayOrder.amount_fen,
        PayOrder.channel,
        PayOrder.status,
        PayOrder.subject,
        PayOrder.created_at,
        PayOrder.refunded_fen,
    )
    if "number" in c:
        # A clerk holds whichever number the payer shows: ours, the app's, or the channel's.
        no = c["number"]
        stmt = stmt.where(
            or_(
                prefix(PayOrder.order_no, no.upper()),
                prefix(PayOrder.out_trade_no, no),
                prefix(PayOrder.channel_trade_no, no),
            )
        )
    if "channel" in c:
        stmt = stmt.where(PayOrder.channel == c["channel"])
    if "status" in c:
        stmt = stmt.where(PayOrder.status == c["status"])
    if "amount" in c:
        stmt = stmt.where(PayOrder.amount_fen == parse_yuan(c["amount"]))
    stmt = instant_range(stmt, PayOrder.created_at, c)
    return stmt


def _refunds(c: Criteria) -> Select:
    stmt = select(
        PayRefund.refund_no,
        PayRefund.out_refund_no,
        PayRefund.order_no,
        PayRefund.amount_fen,
        PayRefund.channel,
        PayRefund.status,
        PayRefund.reason,
        PayRefund.created_at,
    )
    if "number" in c:
        no = c["number"]
        stmt = stmt.where(
            or_(
                prefix(PayRefund.refund_no, no.upper()),
                prefix(PayRefund.order_no, no.upper()),
                prefix(PayRefund.out_refund_no, no),
                prefix(PayRefund.channel_refund_no, no),
            )
        )
    if "channel" in c:
        stmt = stmt.where(PayRefund.channel == c["channel"])
    if "status" in c:
        stmt = stmt.where(PayRefund.status == c["status"])
    if "amount" in c:
        stmt = stmt.where(PayRefund.amount_fen == parse_yuan(c["amount"]))
    stmt = instant_range(stmt, PayRefund.created_at, c)
    return stmt


register(
    Source(
        code=ORDERS,
        title=N_("Payment orders"),
        permission="payments.view",
        columns=(
            Column("order_no", N_("Order no."), "text", 19),
            Column("out_trade_no", N_("Merchant no."), "text", 14),
            Column("amount_fen", N_("Amount"), "fen", 11),
            Column("channel", N_("Channel"), "text", 8, labels=CHANNEL_LABELS),
            Column("status", N_("Status"), "text", 8, labels=ORDER_STATUS_LABELS),
            Column("subject", N_("Subject"), "text", 14),
            Column("created_at", N_("Created at"), "datetime", 16),
            Column("refunded_fen", N_("Refunded"), "fen", 10),
        ),
        filters=(
            Filter("number", N_("Any number")),
            Filter("channel", N_("Channel"), "choice", CHANNEL_LABELS),
            Filter("status", N_("Status"), "choice", ORDER_STATUS_LABELS),
            Filter("amount", N_("Amount"), "exact"),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_orders,
        sorts={
            "created_at": [PayOrder.created_at],
            "order_no": [PayOrder.order_no],
            "amount_fen": [PayOrder.amount_fen],
        },
        default_sort="created_at",
        default_descending=True,
        tiebreak=[PayOrder.order_no],
    )
)

register(
    Source(
        code=REFUNDS,
        title=N_("Refund orders"),
        permission="payments.view",
        columns=(
            Column("refund_no", N_("Refund no."), "text", 19),
            Column("out_refund_no", N_("Merchant refund no."), "text", 14),
            Column("order_no", N_("Order no."), "text", 19),
            Column("amount_fen", N_("Amount"), "fen", 11),
            Column("channel", N_("Channel"), "text", 8, labels=CHANNEL_LABELS),
            Column("status", N_("Status"), "text", 8, labels=REFUND_STATUS_LABELS),
            Column("reason", N_("Reason"), "text", 14),
            Column("created_at", N_("Created at"), "datetime", 16),
        ),
        filters=(
            Filter("number", N_("Any number")),
            Filter("channel", N_("Channel"), "choice", CHANNEL_LABELS),
            Filter("status", N_("Status"), "choice", REFUND_STATUS_LABELS),
            Filter("amount", N_("Amount"), "exact"),
            Filter("date_from", N_("From"), "date_from"),
            Filter("date_to", N_("To"), "date_to"),
        ),
        build=_refunds,
        sorts={
            "created_at": [PayRefund.created_at],
            "refund_no": [PayRefund.refund_no],
            "amount_fen": [PayRefund.amount_fen],
        },
        default_sort="created_at",
        default_descending=True,
        tiebreak=[PayRefund.refund_no],
    )
)
