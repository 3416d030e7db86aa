"""Payment hub read services for the finance office: the daily cash journal by channel (日记账: counts, gross,
refunds, fees and net per channel per business day) and the refunds of a period.

Figures are those the hub books: a payment counts on its business date once its money arrived (SUCCESS,
and it keeps counting after a later refund), a refund on its own business date once it succeeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from core.context import Context
from core.errors import ValidationError
from core.i18n import N_
from core.payments.models import CHANNELS, REFUND_STATUSES, PayOrder, PayRefund

PERM_VIEW = "payments.view"
PAID_STATES = ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")
PERIOD_DAYS_MAX = 366
PAGE_SIZE_MAX = 5000

_ORDERS = PayOrder.__table__
_REFUNDS = PayRefund.__table__


@dataclass(frozen=True)
class JournalLine:
    """One channel's business day (fen; refunds and fees as positive amounts, fees net of fees given back)."""

    business_date: date
    channel: str
    payments: int
    gross_fen: int
    refunds: int
    refunds_fen: int
    fees_fen: int

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refunds_fen - self.fees_fen


@dataclass(frozen=True)
class RefundLine:
    refund_no: str
    out_refund_no: str
    order_no: str
    app_id: str
    channel: str
    amount_fen: int
    fee_refund_fen: int
    reason: str
    status: str
    business_date: date | None
    refunded_at: datetime | None
    created_at: datetime


def _check_period(date_from: object, date_to: object) -> None:
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if not isinstance(value, date) or isinstance(value, datetime):
            raise ValidationError(N_("Give the dates as YYYY-MM-DD."), field=name)
    if date_to < date_from:  # type: ignore[operator]
        raise ValidationError(N_("The period ends before it starts."), field="date_to")
    if (date_to - date_from).days >= PERIOD_DAYS_MAX:  # type: ignore[operator]
        raise ValidationError(N_("A period is at most {max} days."), field="date_to", max=PERIOD_DAYS_MAX)


def _check_filters(app_id: str | None, channel: str | None) -> None:
    if channel is not None and channel not in CHANNELS:
        raise ValidationError(N_("There is no channel {channel}."), field="channel", channel=str(channel))
    if app_id is not None and (not isinstance(app_id, str) or not app_id or len(app_id) > 40):
        raise ValidationError(N_("There is no app {app}."), field="app_id", app=str(app_id))


def cash_journal(
    ctx: Context,
    date_from: date,
    date_to: date,
    *,
    app_id: str | None = None,
    channel: str | None = None,
) -> list[JournalLine]:
    """The daily cash journal by channel over a period (at most a year), in date and channel order.

    A channel appears on a day when it had a payment or a refund that day.
    """
    _check_period(date_from, date_to)
    _check_filters(app_id, channel)
    o, r = _ORDERS.c, _REFUNDS.c
    paid = [o.business_date.between(date_from, date_to), o.status.in_(PAID_STATES)]
    refunded = [r.business_date.between(date_from, date_to), r.status == "SUCCESS"]
    if app_id is not None:
        paid.append(o.app_id == app_id)
        refunded.append(r.app_id == app_id)
    if channel is not None:
        paid.append(o.channel == channel)
        refunded.append(r.channel == channel)
    days: dict[tuple[date, str], list[int]] = {}
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(o.business_date, o.channel, func.count(), func.sum(o.amount_fen), func.sum(o.fee_fen))
            .where(*paid)
            .group_by(o.business_date, o.channel)
        )
        for day, ch, n, amount, fee in rows:
            days[(day, ch)] = [int(n), int(amount or 0), 0, 0, int(fee or 0)]
        rows = s.execute(
            select(
                r.business_date, r.channel, func.count(), func.sum(r.amount_fen), func.sum(r.fee_refund_fen)
            )
            .where(*refunded)
            .group_by(r.business_date, r.channel)
        )
        for day, ch, n, amount, fee_back in rows:
            figures = days.setdefault((day, ch), [0, 0, 0, 0, 0])
            figures[2] += int(n)
            figures[3] += int(amount or 0)
            figures[4] -= int(fee_back or 0)
    return [JournalLine(day, ch, *figures) for (day, ch), figures in sorted(days.items())]


def list_refunds(
    ctx: Context,
    date_from: date,
    date_to: date,
    *,
    app_id: str | None = None,
    channel: str | None = None,
    status: str | None = "SUCCESS",
    limit: int = 1000,
    offset: int = 0,
) -> list[RefundLine]:
    """Refunds booked on a business day of the period (succeeded ones by default), in date and number order."""
    _check_period(date_from, date_to)
    _check_filters(app_id, channel)
    if status is not None and status not in REFUND_STATUSES:
        raise ValidationError(N_("There is no refund status {status}."), field="status", status=str(status))
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(N_("Ask for between 1 and {max} rows."), field="limit", max=PAGE_SIZE_MAX)
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError(N_("The offset must not be negative."), field="offset")
    r = _REFUNDS.c
    stmt = select(
        r.refund_no, r.out_refund_no, r.order_no, r.app_id, r.channel, r.amount_fen, r.fee_refund_fen, r.reason,
        r.status, r.business_date, r.refunded_at, r.created_at,
    ).where(r.business_date.between(date_from, date_to))  # fmt: skip
    for col, value in ((r.app_id, app_id), (r.channel, channel), (r.status, status)):
        if value is not None:
            stmt = stmt.where(col == value)
    stmt = stmt.order_by(r.business_date, r.refund_no).limit(limit).offset(offset)
    with ctx.read(PERM_VIEW) as s:
        return [RefundLine(*row) for row in s.execute(stmt)]
