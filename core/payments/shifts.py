"""Cashier shifts (班次) and the site's daily close (日结): a shift opens with a float, every counter payment
and cash refund — also cash paid out outside a payment order, such as a deposit refunded in cash
(`pay_out_cash_in`) — belongs to the open shift of its cashier, and it closes with cash counted by denomination
against what is expected; a difference (长款/短款) needs a reason and a supervisor's approval
(workflow process "payments.shift_difference") before it is booked and the shift is closed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import business_date
from core.context import Actor, Context
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.ledger.services import EntrySpec, post_in
from core.payments import rules
from core.payments.models import PayCashMovement, PayDailyClose, PayOrder, PayRefund, PayShift
from core.uow import UnitOfWork
from core.workflow import services as workflow

PROCESS = "payments.shift_difference"
PROCESS_STEPS = [{"role": "approver", "name": "主管审批"}]
# Notes and coins in fen: ¥100 … ¥0.01.
DENOMINATIONS_FEN = (10000, 5000, 2000, 1000, 500, 100, 50, 10, 5, 2, 1)
PIECES_MAX = 1_000_000
FLOAT_FEN_MAX = 10_000_000
OPEN, PENDING_APPROVAL, CLOSED = "OPEN", "PENDING_APPROVAL", "CLOSED"


@dataclass(frozen=True)
class ShiftView:
    id: uuid.UUID
    shift_no: str
    cashier: str
    status: str
    business_date: date
    float_fen: int
    opened_at: datetime
    closed_at: datetime | None
    expected: dict[str, int] | None
    counted_fen: int | None
    difference_fen: int | None  # counted − expected cash: > 0 长款 (over), < 0 短款 (short)
    difference_reason: str | None
    approval_id: uuid.UUID | None


def _view(r: PayShift) -> ShiftView:
    return ShiftView(
        r.id,
        r.shift_no,
        r.cashier,
        r.status,
        r.business_date,
        r.float_fen,
        r.opened_at,
        r.closed_at,
        dict(r.expected) if r.expected else None,
        r.counted_fen,
        r.difference_fen,
        r.difference_reason,
        r.approval_id,
    )


def open_shift_id_in(uow: UnitOfWork, cashier: str) -> uuid.UUID:
    """The open shift of `cashier`; StateError if there is none (a counter payment needs one)."""
    sid = uow.session.execute(
        select(PayShift.id).where(PayShift.cashier == cashier, PayShift.status == OPEN)
    ).scalar_one_or_none()
    if sid is None:
        raise StateError(N_("Open a shift before taking payments at the counter."), code="no_open_shift")
    return sid


def pay_out_cash_in(
    uow: UnitOfWork, amount_fen: int, doc_type: str, doc_id: str, description: str
) -> uuid.UUID:
    """Record cash the acting clerk pays out of the drawer outside a payment order (a deposit refunded in
    cash), in the caller's transaction: it belongs to the clerk's open shift and lowers its expected cash.
    StateError if the clerk has no open shift (as for a counter payment); one movement per document."""
    assert isinstance(amount_fen, int) and amount_fen > 0, "a payout is a positive amount"
    cashier = uow.ctx.actor.username[:64]
    sid = uow.session.execute(
        select(PayShift.id).where(PayShift.cashier == cashier, PayShift.status == OPEN)
    ).scalar_one_or_none()
    if sid is None:
        raise StateError(N_("Open a shift before paying out cash at the counter."), code="no_open_shift")
    movement_id = new_id()
    uow.session.add(
        PayCashMovement(
            id=movement_id,
            shift_id=sid,
            cashier=cashier,
            amount_fen=-amount_fen,
            doc_type=doc_type[:40],
            doc_id=doc_id[:80],
            description=description[:200],
            business_date=business_date(uow.now),
            created_at=uow.now,
        )
    )
    uow.session.flush()
    return movement_id


def open_shift(ctx: Context, float_fen: int) -> ShiftView:
    """Open a shift for the acting cashier with a cash float (备用金)."""
    if isinstance(float_fen, bool) or not isinstance(float_fen, int) or not 0 <= float_fen <= FLOAT_FEN_MAX:
        raise ValidationError(N_("The float must be a whole number of fen, not negative."), field="float_fen")
    cashier = ctx.actor.username[:64]
    try:
        with ctx.uow("payments.shift.open") as uow:
            s = uow.session
            if s.execute(
                select(PayShift.id).where(PayShift.cashier == cashier, PayShift.status == OPEN)
            ).first():
                raise Conflict(N_("You already have an open shift."), code="shift_open")
            day = business_date(uow.now)
            from core.db import sequences

            n = sequences.take(s, f"pay:shift:{day:%Y%m%d}")
            row = PayShift(
                id=new_id(),
                shift_no=f"{ctx.site.code}S{day:%Y%m%d}{n:04d}",
                cashier=cashier,
                status=OPEN,
                business_date=day,
                float_fen=float_fen,
                opened_at=uow.now,
                version=1,
            )
            s.add(row)
            s.flush()
            after = {"shift_no": row.shift_no, "cashier": cashier, "float_fen": float_fen}
            uow.audit("payments.shift_open", "pay_shift", row.shift_no, after=after)
            uow.emit("payments.shift_opened", after)
            return _view(row)
    except IntegrityError:  # a concurrent open won the one-open-shift-per-cashier index
        raise Conflict(N_("You already have an open shift."), code="shift_open") from None


def expected_cash(ctx: Context, shift_id: uuid.UUID) -> dict[str, int]:
    """What the shift should hold by channel, exactly as closing it will decide (float, cash taken, cash
    refunded, cash paid out outside payment orders) — for a close dialog to show before the count."""
    with ctx.read("payments.view") as s:
        shift = s.get(PayShift, shift_id)
        if shift is None:
            raise NotFound(N_("There is no shift {shift}."), shift=str(shift_id))
        return _expected(s, shift)


def _expected_in(uow: UnitOfWork, shift: PayShift) -> dict[str, int]:
    return _expected(uow.session, shift)


def _expected(s: Session, shift: PayShift) -> dict[str, int]:
    """What should be there, by channel: the cash float plus cash taken less cash refunded and less cash paid
    out outside payment orders (deposit refunds); other channels' takings (POS slips, transfer references) as
    recorded."""
    paid = s.execute(
        select(PayOrder.channel, func.sum(PayOrder.amount_fen))
        .where(PayOrder.shift_id == shift.id)
        .group_by(PayOrder.channel)
    ).all()
    refunded = s.execute(
        select(PayRefund.channel, func.sum(PayRefund.amount_fen))
        .where(PayRefund.shift_id == shift.id, PayRefund.status == rules.SUCCESS)
        .group_by(PayRefund.channel)
    ).all()
    moved = s.execute(
        select(func.coalesce(func.sum(PayCashMovement.amount_fen), 0)).where(
            PayCashMovement.shift_id == shift.id
        )
    ).scalar_one()
    rows = [(ch, int(v)) for ch, v in paid] + [(ch, -int(v)) for ch, v in refunded]
    expected = rules.sum_by(rows)
    expected["cash"] = expected.get("cash", 0) + shift.float_fen + int(moved)
    return dict(sorted(expected.items()))


def count_cash(counted: dict[Any, Any]) -> int:
    """The total of a count by denomination ({"10000": 3, "50": 2} → 30100 fen); ValidationError if odd."""
    if not isinstance(counted, dict) or len(counted) > len(DENOMINATIONS_FEN):
        raise ValidationError(N_("Count the cash by denomination."), field="counted")
    total = 0
    for key, pieces in counted.items():
        try:
            denom = int(key)
        except (TypeError, ValueError):
            denom = -1
        if denom not in DENOMINATIONS_FEN:
            raise ValidationError(
                N_("{value} is not a denomination of the yuan."), field="counted", value=str(key)
            )
        if isinstance(pieces, bool) or not isinstance(pieces, int) or not 0 <= pieces <= PIECES_MAX:
            raise ValidationError(
                N_("The number of pieces must be a whole number, not negative."), field="counted"
            )
        total += denom * pieces
    return total


def _ensure_process(ctx: Context) -> None:
    system = ctx.as_actor(Actor.system("payments"))
    workflow.ensure_process(system, PROCESS, "收银长短款审批", PROCESS_STEPS)


def close_shift(ctx: Context, counted: dict[Any, Any], *, reason: str | None = None) -> ShiftView:
    """Close the acting cashier's open shift (or recount one whose difference was rejected).

    Equal counts close it at once. A difference needs a reason and goes to a supervisor; the shift waits
    in PENDING_APPROVAL and is closed, with the difference booked, when the approval is granted.
    """
    counted_fen = count_cash(counted)
    detail = {str(int(k)): v for k, v in counted.items()}
    if reason is not None:
        reason = reason.strip()[:200] or None
    _ensure_process(ctx)
    cashier = ctx.actor.username[:64]
    with ctx.uow("payments.shift.close") as uow:
        s = uow.session
        shift = s.execute(
            select(PayShift)
            .where(
                PayShift.cashier == cashier,
                PayShift.status.in_((OPEN, PENDING_APPROVAL)),
                PayShift.approval_id.is_(None),
            )
            .order_by(PayShift.opened_at)
            .limit(1)
            .with_for_update()
        ).scalar_one_or_none()
        if shift is None:
            raise NotFound(N_("You have no open shift to close."), code="no_open_shift")
        expected = _expected_in(uow, shift)
        difference = counted_fen - expected["cash"]
        if difference and not reason:
            raise ValidationError(
                N_("The cash counted differs from the expected by {diff} fen: give a reason."),
                field="reason",
                diff=difference,
            )
        values: dict[str, Any] = {
            "counted_fen": counted_fen,
            "counted_detail": detail,
            "expected": expected,
            "difference_fen": difference,
            "difference_reason": reason if difference else None,
            "version": shift.version + 1,
        }
        if difference == 0:
            values.update(status=CLOSED, closed_at=uow.now)
        else:
            values.update(status=PENDING_APPROVAL)
        res = s.execute(
            update(PayShift)
            .where(PayShift.id == shift.id, PayShift.version == shift.version)
            .values(**values)
        )
        if res.rowcount != 1:
            raise Conflict(N_("The shift was changed at the same time; try again."))
        if difference:
            kind = "长款" if difference > 0 else "短款"
            inst = workflow.submit(
                ctx,
                PROCESS,
                object_type="pay_shift",
                object_id=str(shift.id),
                title=f"{shift.shift_no} {kind} {abs(difference)} 分",
                amount_fen=abs(difference),
                payload={"shift_no": shift.shift_no, "difference_fen": difference, "reason": reason},
                comment=reason,
            )
            s.execute(update(PayShift).where(PayShift.id == shift.id).values(approval_id=inst.id))
        s.refresh(shift)
        after = {
            "shift_no": shift.shift_no,
            "expected": expected,
            "counted_fen": counted_fen,
            "difference_fen": difference,
        }
        uow.audit("payments.shift_close", "pay_shift", shift.shift_no, after=after)
        uow.emit("payments.shift_counted", after)
        return _view(shift)


def _on_approved(ctx: Context, uow: UnitOfWork, inst: Any) -> None:
    s = uow.session
    shift = s.get(PayShift, uuid.UUID(inst.object_id))
    if shift is None or shift.status != PENDING_APPROVAL:
        raise StateError(N_("The shift is not waiting for approval."))
    res = s.execute(
        update(PayShift)
        .where(
            PayShift.id == shift.id, PayShift.status == PENDING_APPROVAL, PayShift.version == shift.version
        )
        .values(status=CLOSED, closed_at=uow.now, version=shift.version + 1)
    )
    if res.rowcount != 1:
        raise Conflict(N_("The shift was changed at the same time; try again."))
    diff = int(shift.difference_fen or 0)
    from core.payments.services import ACCOUNT_CASH_OVER_SHORT, BOOK

    # Short: the missing cash leaves the drawer's account as a loss. Over: the surplus comes in.
    post_in(
        uow,
        EntrySpec(
            BOOK,
            shift.business_date,
            f"{'长款' if diff > 0 else '短款'} {shift.shift_no}",
            [("1012.cash", diff), (ACCOUNT_CASH_OVER_SHORT, -diff)],
            "pay_shift",
            shift.shift_no,
        ),
    )
    after = {"shift_no": shift.shift_no, "difference_fen": diff}
    uow.audit("payments.shift_difference_booked", "pay_shift", shift.shift_no, after=after)
    uow.emit("payments.shift_closed", after)


def _on_rejected(ctx: Context, uow: UnitOfWork, inst: Any) -> None:
    # The cashier recounts: the shift stays pending with no approval attached, ready for close_shift again.
    uow.session.execute(
        update(PayShift).where(PayShift.id == uuid.UUID(inst.object_id)).values(approval_id=None)
    )


workflow.register_handler(
    PROCESS, on_approved=_on_approved, on_rejected=_on_rejected, on_withdrawn=_on_rejected
)


def get_shift(ctx: Context, shift_no: str) -> ShiftView:
    with ctx.read("payments.view") as s:
        row = s.execute(select(PayShift).where(PayShift.shift_no == shift_no)).scalar_one_or_none()
        if row is None:
            raise NotFound(N_("There is no shift {shift}."), shift=shift_no)
        return _view(row)


def open_shift_of(ctx: Context, cashier: str) -> ShiftView | None:
    """The cashier's open shift whatever day it was opened (a shift may run past midnight), or None."""
    with ctx.read("payments.view") as s:
        row = s.execute(
            select(PayShift).where(PayShift.cashier == cashier, PayShift.status == OPEN)
        ).scalar_one_or_none()
        return _view(row) if row is not None else None


def list_shifts(ctx: Context, day: date | None = None, limit: int = 200) -> list[ShiftView]:
    with ctx.read("payments.view") as s:
        stmt = select(PayShift).order_by(PayShift.opened_at).limit(max(1, min(limit, 1000)))
        if day is not None:
            stmt = stmt.where(PayShift.business_date == day)
        return [_view(r) for r in s.execute(stmt).scalars()]


def daily_close(ctx: Context, day: date) -> dict[str, Any]:
    """Close the site's business date (日结): every shift of the day closed; totals by channel recorded once."""
    with ctx.uow("payments.shift.daily_close") as uow:
        s = uow.session
        if s.execute(select(PayDailyClose.id).where(PayDailyClose.business_date == day)).first():
            raise Conflict(N_("{day} is already closed."), code="day_closed", day=day.isoformat())
        unfinished = (
            s.execute(
                select(PayShift.shift_no).where(PayShift.business_date == day, PayShift.status != CLOSED)
            )
            .scalars()
            .all()
        )
        if unfinished:
            raise StateError(
                N_("Close every shift of the day first: {shifts}."),
                code="shifts_open",
                shifts=", ".join(unfinished),
            )
        paid = s.execute(
            select(PayOrder.channel, func.count(), func.sum(PayOrder.amount_fen), func.sum(PayOrder.fee_fen))
            .where(PayOrder.business_date == day)
            .group_by(PayOrder.channel)
        ).all()
        refunded = s.execute(
            select(PayRefund.channel, func.count(), func.sum(PayRefund.amount_fen))
            .where(PayRefund.business_date == day, PayRefund.status == rules.SUCCESS)
            .group_by(PayRefund.channel)
        ).all()
        diffs = s.execute(
            select(func.coalesce(func.sum(PayShift.difference_fen), 0)).where(PayShift.business_date == day)
        ).scalar_one()
        channels: dict[str, dict[str, int]] = {}
        for ch, n, amount, fee in paid:
            channels.setdefault(ch, {}).update(
                payments=int(n), paid_fen=int(amount or 0), fee_fen=int(fee or 0)
            )
        for ch, n, amount in refunded:
            channels.setdefault(ch, {}).update(refunds=int(n), refunded_fen=int(amount or 0))
        paid_out = s.execute(
            select(func.count(), func.coalesce(func.sum(-PayCashMovement.amount_fen), 0)).where(
                PayCashMovement.business_date == day
            )
        ).one()
        if paid_out[0]:  # cash paid out outside payment orders (deposit refunds)
            channels.setdefault("cash", {}).update(payouts=int(paid_out[0]), paid_out_fen=int(paid_out[1]))
        totals = {
            "date": day.isoformat(),
            "channels": dict(sorted(channels.items())),
            "cash_difference_fen": int(diffs),
        }
        s.add(
            PayDailyClose(
                id=new_id(),
                business_date=day,
                totals=totals,
                closed_by=ctx.actor.username[:64],
                closed_at=uow.now,
            )
        )
        uow.audit("payments.daily_close", "pay_daily_close", day.isoformat(), after=totals)
        uow.emit("payments.day_closed", totals)
        return totals
