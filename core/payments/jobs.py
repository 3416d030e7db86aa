"""The payment jobs: close expired orders, ask the channels about PAYING/UNKNOWN orders and unsettled refunds,
retry notifications. `run_once` runs each once (`anju payments jobs run-once`); the hub runs it periodically.
Each job works in bounded batches, one transaction per order, so one stuck order never holds up the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from core.context import Context
from core.payments import notify, rules, services
from core.payments.channels import COUNTER_CHANNELS, Channels, default_channels
from core.payments.models import PayOrder, PayRefund

PERM_JOBS = "payments.jobs"
BATCH_MAX = 200
# An order just handed to the channel is left alone this long: its callback is usually on the way.
QUERY_AFTER = timedelta(seconds=5)


@dataclass(frozen=True)
class JobReport:
    expired_closed: int
    orders_queried: int
    orders_resolved: int
    refunds_resolved: int
    notifications_delivered: int


def close_expired(ctx: Context, *, channels: Channels | None = None, limit: int = BATCH_MAX) -> int:
    """Close open orders past their expiry (asking the channel first: one paid at the last second is kept)."""
    ctx.require(PERM_JOBS)
    with ctx.read() as s:
        rows = s.execute(
            select(PayOrder.app_id, PayOrder.out_trade_no)
            .where(
                PayOrder.status.in_(rules.ORDER_OPEN),
                PayOrder.expire_at < ctx.clock.now(),
                PayOrder.batch_no.is_(None),
            )
            .order_by(PayOrder.expire_at)
            .limit(limit)
        ).all()
    closed = 0
    for app_id, out_trade_no in rows:
        try:
            view = services.close_order(
                ctx, app_id, out_trade_no, reason="expired", channels=channels, permission=PERM_JOBS
            )
        except services.StateError:
            continue  # the channel could not confirm; the next run tries again
        closed += view.status == rules.CLOSED
    return closed


def query_open(ctx: Context, *, channels: Channels | None = None, limit: int = BATCH_MAX) -> tuple[int, int]:
    """Ask the channel about PAYING and UNKNOWN orders; returns (asked, resolved)."""
    ctx.require(PERM_JOBS)
    channels = channels or default_channels()
    with ctx.read() as s:
        rows = s.execute(
            select(PayOrder.order_no, PayOrder.status)
            .where(
                PayOrder.status.in_((rules.PAYING, rules.UNKNOWN, rules.CREATED)),
                PayOrder.channel.not_in((*COUNTER_CHANNELS, "bank_debit")),
                PayOrder.updated_at <= ctx.clock.now() - QUERY_AFTER,
            )
            .order_by(PayOrder.updated_at)
            .limit(limit)
        ).all()
    resolved = 0
    for order_no, before in rows:
        view = services.refresh_order(ctx, order_no, channels=channels)
        resolved += view.status != before and view.status not in rules.ORDER_OPEN
    return len(rows), resolved


def query_refunds(ctx: Context, *, channels: Channels | None = None, limit: int = BATCH_MAX) -> int:
    ctx.require(PERM_JOBS)
    with ctx.read() as s:
        nos = (
            s.execute(
                select(PayRefund.refund_no)
                .where(
                    PayRefund.status.in_(("PROCESSING", rules.UNKNOWN)),
                    PayRefund.created_at <= ctx.clock.now() - QUERY_AFTER,
                )
                .limit(limit)
            )
            .scalars()
            .all()
        )
    done = 0
    for refund_no in nos:
        done += services.refresh_refund(ctx, refund_no, channels=channels).status in (
            rules.SUCCESS,
            rules.FAILED,
        )
    return done


def retry_notifications(ctx: Context) -> int:
    ctx.require(PERM_JOBS)
    return notify.deliver_inprocess(ctx) + notify.deliver_http_due(ctx)


def run_once(ctx: Context, *, channels: Channels | None = None) -> JobReport:
    """Run every job once, in this order: expiry, queries, notifications (which carries their results)."""
    ctx.require(PERM_JOBS)
    closed = close_expired(ctx, channels=channels)
    asked, resolved = query_open(ctx, channels=channels)
    refunds = query_refunds(ctx, channels=channels)
    delivered = retry_notifications(ctx)
    return JobReport(closed, asked, resolved, refunds, delivered)
