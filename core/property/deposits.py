"""Deposits (押金, 装修保证金): what each house holds, refunds through approval and the payment hub, deductions.

A deposit is a bill line of a fee item with rule "deposit": billing it credits the liability 2241.<item>, and
once (part of) it is paid the house holds that much. A refund is asked for, approved by someone else
(maker-checker, core.workflow), then paid out — as a refund of the original payment order through the hub, or
in cash at the counter: Dr 2241.<item> / Cr the account the money came in on. A deduction (damage, …) or a
forfeiture keeps money as income: Dr 2241.<item> / Cr 6301.deposit. The refundable balance is
paid − refunded − deducted − reserved (asked for in refunds still open), and a refund reserves its amount by one
compare-and-set, so two requests can never together give back more than was paid.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.orm import Session

from core.clock import today
from core.context import Actor, Context
from core.errors import AnjuError, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.ledger import services as ledger
from core.ledger.services import EntrySpec
from core.money import format_fen
from core.property import billing
from core.property.models import (
    BillLine,
    Deposit,
    DepositDeduction,
    DepositRefund,
    FeeItem,
    House,
    Payment,
    PaymentAllocation,
)
from core.property.services import PERM_VIEW, text
from core.uow import UnitOfWork

PERM_REFUND = "property.deposits.refund"
PERM_DEDUCT = "property.deposits.deduct"
PROCESS_REFUND = "property.deposit_refund"
ACC_DEDUCTION = "6301.deposit"
HUB_APP_ID = "property"  # core.property.payhub.APP_ID, without importing the hub's notice registration here
HUB_REFUND_REASON = "押金退还"
REASON_MAX = 400
LIST_MAX = 5000
STATUS_LABELS = {
    "held": N_("Held"),
    "partly_refunded": N_("Partly refunded"),
    "refunded": N_("Refunded"),
    "forfeited": N_("Forfeited"),
}
REFUND_STATUS_LABELS = {
    "pending": N_("Waiting for approval"),
    "approved": N_("Approved, to pay out"),
    "rejected": N_("Rejected"),
    "refunding": N_("Refund in progress"),
    "refunded": N_("Refunded"),
    "failed": N_("Refund failed"),
}


def deposit_status(paid_fen: int, refunded_fen: int, deducted_fen: int, *, forfeited: bool = False) -> str:
    """held / partly_refunded / refunded / forfeited from the amounts (pure).

    Nothing left and something refunded: refunded; nothing left and nothing refunded: all of it was kept, so
    forfeited. A deduction alone leaves a deposit held (with less in it).
    """
    if forfeited:
        return "forfeited"
    left = paid_fen - refunded_fen - deducted_fen
    if left <= 0:
        return "refunded" if refunded_fen > 0 else "forfeited"
    return "partly_refunded" if refunded_fen > 0 else "held"


@dataclass(frozen=True)
class DepositView:
    """押金 — one deposit of a house: `id` is its bill line's id; `balance_fen` is what is still held."""

    id: uuid.UUID
    house_id: uuid.UUID
    house_code: str
    community_id: uuid.UUID
    item_code: str
    item_name: str
    period: str
    paid_fen: int
    refunded_fen: int
    deducted_fen: int
    reserved_fen: int
    balance_fen: int
    status: str
    payment_reference: str
    payment_channel: str

    def to_dict(self) -> dict:
        return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class DepositRefundView:
    id: uuid.UUID
    deposit_id: uuid.UUID
    amount_fen: int
    method: str
    reason: str
    status: str
    approval_id: uuid.UUID | None
    out_trade_no: str | None
    hub_refund_no: str | None
    requested_by: str
    created_at: datetime
    paid_by: str | None
    paid_at: datetime | None

    def to_dict(self) -> dict:
        return {k: str(v) if isinstance(v, uuid.UUID | datetime) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class DeductionView:
    id: uuid.UUID
    deposit_id: uuid.UUID
    kind: str
    amount_fen: int
    reason: str
    created_by: str
    created_at: datetime


def _refund_view(r: DepositRefund) -> DepositRefundView:
    return DepositRefundView(
        r.id, r.bill_line_id, r.amount_fen, r.method, r.reason, r.status, r.approval_id, r.out_trade_no,
        r.hub_refund_no, r.requested_by, r.created_at, r.paid_by, r.paid_at,
    )  # fmt: skip


_REFUNDED = func.coalesce(Deposit.refunded_fen, 0)
_HELD = BillLine.paid_fen - _REFUNDED - func.coalesce(Deposit.deducted_fen, 0)
# deposit_status in SQL, from the amounts as they are now: money paid on a deposit line after it was refunded or
# kept in full (a deposit paid in parts) is held again; the stored status only says whether it was forfeited.
_STATUS = case(
    (_HELD > 0, case((_REFUNDED > 0, "partly_refunded"), else_="held")),
    (and_(func.coalesce(Deposit.status, "held") != "forfeited", _REFUNDED > 0), "refunded"),
    else_="forfeited",
)


def _query():
    return (
        select(BillLine.id, BillLine.house_id, House.code, House.community_id, FeeItem.code, FeeItem.name,
               BillLine.period, BillLine.paid_fen, Deposit.refunded_fen, Deposit.deducted_fen,
               Deposit.reserved_fen, _STATUS)
        .join(FeeItem, and_(FeeItem.id == BillLine.fee_item_id, FeeItem.rule == "deposit"))
        .join(House, House.id == BillLine.house_id)
        .outerjoin(Deposit, Deposit.bill_line_id == BillLine.id)
        .where(BillLine.paid_fen > 0)
    )  # fmt: skip


def _payments_of(s: Session, line_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    """The latest payment (reference, channel) that paid each deposit line."""
    out: dict[uuid.UUID, tuple[str, str]] = {}
    if not line_ids:
        return out
    rows = s.execute(
        select(PaymentAllocation.bill_line_id, Payment.reference, Payment.channel)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(PaymentAllocation.bill_line_id.in_(line_ids), PaymentAllocation.source == "payment")
        .order_by(PaymentAllocation.at)
    ).all()
    for line_id, ref, channel in rows:
        out[line_id] = (ref, channel)
    return out


def _views(s: Session, rows) -> list[DepositView]:
    pays = _payments_of(s, [r[0] for r in rows])
    out = []
    for lid, hid, code, cid, icode, iname, period, paid, refunded, deducted, reserved, status in rows:
        refunded, deducted, reserved = refunded or 0, deducted or 0, reserved or 0
        ref, channel = pays.get(lid, ("", "prepaid"))
        out.append(DepositView(
            lid, hid, code, cid, icode, iname, period, paid, refunded, deducted, reserved,
            paid - refunded - deducted, status or "held", ref, channel,
        ))  # fmt: skip
    return out


def list_deposits(
    ctx: Context,
    *,
    house_id: uuid.UUID | None = None,
    community_id: uuid.UUID | None = None,
    status: str | None = None,
) -> list[DepositView]:
    """Deposits paid, per house (for the counter) or per community (for the "deposits held" report)."""
    if status is not None and status not in ("held", "partly_refunded", "refunded", "forfeited"):
        raise ValidationError(N_("Unknown deposit status {status}."), field="status", status=str(status))
    q = _query().order_by(House.code, BillLine.period, BillLine.id).limit(LIST_MAX)
    if house_id is not None:
        q = q.where(BillLine.house_id == house_id)
    if community_id is not None:
        q = q.where(House.community_id == community_id)
    if status is not None:
        q = q.where(status == _STATUS)
    with ctx.read(PERM_VIEW) as s:
        return _views(s, s.execute(q).all())


def _deposit_id(deposit_id: object) -> uuid.UUID:
    try:
        return deposit_id if isinstance(deposit_id, uuid.UUID) else uuid.UUID(str(deposit_id))
    except ValueError:
        raise NotFound(N_("There is no paid deposit {id}."), id=str(deposit_id)) from None


def get_deposit(ctx: Context, deposit_id: uuid.UUID) -> DepositView:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(_query().where(BillLine.id == _deposit_id(deposit_id))).all()
        if not rows:
            raise NotFound(N_("There is no paid deposit {id}."), id=str(deposit_id))
        return _views(s, rows)[0]


@dataclass(frozen=True)
class DepositsHeld:
    """押金余额 — how many deposits still hold money and how much (the report "deposits held")."""

    count: int
    balance_fen: int
    by_item: dict[str, int]


def deposits_held(ctx: Context, community_id: uuid.UUID | None = None) -> DepositsHeld:
    """Sum of the balances of deposits not yet refunded or kept, in total and per fee item code."""
    q = (
        select(FeeItem.code, func.count(), func.sum(_HELD))
        .select_from(BillLine)
        .join(FeeItem, and_(FeeItem.id == BillLine.fee_item_id, FeeItem.rule == "deposit"))
        .outerjoin(Deposit, Deposit.bill_line_id == BillLine.id)
        .where(BillLine.paid_fen > 0, _HELD > 0)
        .group_by(FeeItem.code)
    )  # fmt: skip
    if community_id is not None:
        q = q.where(FeeItem.community_id == community_id)
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(q).all()
    by_item = {code: int(total or 0) for code, _n, total in rows}
    return DepositsHeld(sum(int(n) for _c, n, _t in rows), sum(by_item.values()), by_item)


def deposit_history(
    ctx: Context, deposit_id: uuid.UUID
) -> tuple[list[DepositRefundView], list[DeductionView]]:
    """The refunds (any status) and deductions of one deposit, oldest first."""
    with ctx.read(PERM_VIEW) as s:
        refunds = s.execute(
            select(DepositRefund).where(DepositRefund.bill_line_id == deposit_id).order_by(DepositRefund.created_at)
        ).scalars()  # fmt: skip
        deductions = s.execute(
            select(DepositDeduction)
            .where(DepositDeduction.bill_line_id == deposit_id)
            .order_by(DepositDeduction.created_at)
        ).scalars()
        return [_refund_view(r) for r in refunds], [
            DeductionView(d.id, d.bill_line_id, d.kind, d.amount_fen, d.reason, d.created_by, d.created_at)
            for d in deductions
        ]


def list_refunds(ctx: Context, *, status: str | None = None, limit: int = 500) -> list[DepositRefundView]:
    """Deposit refunds, newest first (the counter's "approved, to pay out" list with status="approved")."""
    q = select(DepositRefund).order_by(DepositRefund.created_at.desc()).limit(max(1, min(limit, LIST_MAX)))
    if status is not None:
        q = q.where(DepositRefund.status == status)
    with ctx.read(PERM_VIEW) as s:
        return [_refund_view(r) for r in s.execute(q).scalars()]


# ---------------------------------------------------------------------------------------------------------
# Writing


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= billing.PAYMENT_FEN_MAX:
        raise ValidationError(N_("The amount must be greater than 0."), field="amount_fen")
    return value


def _deposit_line_in(uow: UnitOfWork, deposit_id: object) -> tuple[BillLine, FeeItem, House, Deposit]:
    """The paid deposit line, its item and house, and its Deposit row (written now if this is the first action)."""
    s = uow.session
    line = s.get(BillLine, _deposit_id(deposit_id))
    item = s.get(FeeItem, line.fee_item_id) if line is not None else None
    if line is None or item is None or item.rule != "deposit" or line.paid_fen <= 0:
        raise NotFound(N_("There is no paid deposit {id}."), id=str(deposit_id))
    dep = s.get(Deposit, line.id)
    if dep is None:
        dep = Deposit(
            bill_line_id=line.id, house_id=line.house_id, refunded_fen=0, deducted_fen=0, reserved_fen=0,
            status="held", updated_at=uow.now, version=1,
        )  # fmt: skip
        s.add(dep)
        s.flush()
    return line, item, s.get(House, line.house_id), dep


def _left(line: BillLine, dep: Deposit) -> int:
    return line.paid_fen - dep.refunded_fen - dep.deducted_fen - dep.reserved_fen


def _take(uow: UnitOfWork, line: BillLine, dep: Deposit, amount_fen: int, **values) -> None:
    """Reserve or deduct `amount_fen` from the deposit by one compare-and-set that keeps it within what was paid."""
    # What is paid now, with the line locked: a receipt being voided meanwhile (billing.void_receipt) either
    # finished first (and less is paid) or waits for this and then sees the reservation. The amounts decide,
    # not the stored status: a deposit paid in parts holds again what was paid after a refund or forfeiture.
    paid_fen = uow.session.execute(
        select(BillLine.paid_fen).where(BillLine.id == line.id).with_for_update()
    ).scalar_one()
    if paid_fen - dep.refunded_fen - dep.deducted_fen <= 0:
        raise StateError(N_("Nothing is left in this deposit: it was refunded or kept in full."))
    done = uow.session.execute(
        update(Deposit)
        .where(
            Deposit.bill_line_id == line.id,
            Deposit.refunded_fen + Deposit.deducted_fen + Deposit.reserved_fen + amount_fen <= paid_fen,
        )
        .values(version=Deposit.version + 1, updated_at=uow.now, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise ValidationError(
            N_("That is more than the deposit still holds ({left})."),
            field="amount_fen",
            left=format_fen(_left(line, dep)),
        )
    uow.session.refresh(dep)


def _restatus(uow: UnitOfWork, line: BillLine, dep: Deposit, *, forfeited: bool = False) -> None:
    dep.status = deposit_status(line.paid_fen, dep.refunded_fen, dep.deducted_fen, forfeited=forfeited)
    uow.session.flush()


def _ensure_process(ctx: Context) -> None:
    from core.workflow import services as wf

    system = ctx.as_actor(Actor.system("property"))
    try:
        wf.get_process(system, PROCESS_REFUND)
    except NotFound:
        wf.ensure_process(
            system, PROCESS_REFUND, N_("Deposit refund"), [{"role": "approver", "name": N_("Approve")}]
        )


def request_refund(
    ctx: Context, deposit_id: uuid.UUID, amount_fen: int, reason: str, *, method: str = "original"
) -> DepositRefundView:
    """Ask to give `amount_fen` of a deposit back; someone else approves it, then `pay_refund` pays it out.

    method "original": a refund of the payment order the deposit was paid with (it must have been paid through
    the hub); "cash": cash at the counter.
    """
    from core.payments.models import PayOrder
    from core.workflow import services as wf

    amount_fen = _amount(amount_fen)
    reason = text(reason, "reason", REASON_MAX)
    if method not in ("original", "cash"):
        raise ValidationError(N_("A deposit is refunded to the original payment or in cash."), field="method")
    _ensure_process(ctx)
    with ctx.uow(PERM_REFUND) as uow:
        s = uow.session
        line, item, house, dep = _deposit_line_in(uow, deposit_id)
        out_trade_no = None
        if method == "original":
            pays = _payments_of(s, [line.id])
            ref = pays.get(line.id, ("", ""))[0]
            order = s.execute(
                select(PayOrder.out_trade_no).where(
                    PayOrder.app_id == HUB_APP_ID,
                    PayOrder.out_trade_no == ref,
                    PayOrder.status.in_(("SUCCESS", "PARTIALLY_REFUNDED")),
                )
            ).scalar_one_or_none()
            if order is None:
                raise ValidationError(
                    N_("This deposit was not paid through the payment hub; refund it in cash."),
                    field="method",
                )
            out_trade_no = order
        _take(uow, line, dep, amount_fen, reserved_fen=Deposit.reserved_fen + amount_fen)
        rf = DepositRefund(
            id=new_id(), bill_line_id=line.id, amount_fen=amount_fen, method=method, reason=reason,
            status="pending", out_trade_no=out_trade_no, requested_by=ctx.actor.username, created_at=uow.now,
        )  # fmt: skip
        s.add(rf)
        s.flush()
        inst = wf.submit(
            ctx, PROCESS_REFUND, object_type="prop_deposit_refund", object_id=str(rf.id),
            title=f"{item.name}退还 {house.code}", amount_fen=amount_fen,
            payload={"house": house.code, "item": item.code, "method": method, "reason": reason},
        )  # fmt: skip
        rf.approval_id = inst.id
        s.flush()
        payload = {"deposit_id": str(line.id), "house": house.code, "amount_fen": amount_fen, "method": method,
                   "reason": reason}  # fmt: skip
        uow.audit("property.deposit_refund_request", "prop_deposit_refund", rf.id, after=payload)
        uow.emit("property.deposit_refund_requested", {"id": str(rf.id), **payload})
        return _refund_view(rf)


def _release_in(uow: UnitOfWork, rf: DepositRefund) -> None:
    uow.session.execute(
        update(Deposit)
        .where(Deposit.bill_line_id == rf.bill_line_id)
        .values(
            reserved_fen=Deposit.reserved_fen - rf.amount_fen, version=Deposit.version + 1, updated_at=uow.now
        )
        .execution_options(synchronize_session=False)
    )


def _move(uow: UnitOfWork, rf_id: uuid.UUID, expected: tuple[str, ...], to: str, **values) -> DepositRefund:
    """Compare-and-set a refund's status; StateError if someone else moved it first."""
    done = uow.session.execute(
        update(DepositRefund)
        .where(DepositRefund.id == rf_id, DepositRefund.status.in_(expected))
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise StateError(N_("This deposit refund was already handled."))
    rf = uow.session.get(DepositRefund, rf_id)
    uow.session.refresh(rf)
    return rf


def _on_approved(ctx: Context, uow: UnitOfWork, inst) -> None:
    rf = _move(uow, uuid.UUID(inst.object_id), ("pending",), "approved")
    uow.audit("property.deposit_refund_approved", "prop_deposit_refund", rf.id, after={"status": "approved"})
    uow.emit("property.deposit_refund_approved", {"id": str(rf.id), "amount_fen": rf.amount_fen})


def _on_refused(status_event: str):
    def handler(ctx: Context, uow: UnitOfWork, inst) -> None:
        rf = _move(uow, uuid.UUID(inst.object_id), ("pending",), "rejected")
        _release_in(uow, rf)
        uow.audit(status_event, "prop_deposit_refund", rf.id, after={"status": "rejected"})
        uow.emit(status_event, {"id": str(rf.id)})

    return handler


def _register_handlers() -> None:
    from core.workflow.services import register_handler

    refused = _on_refused("property.deposit_refund_rejected")
    register_handler(PROCESS_REFUND, on_approved=_on_approved, on_rejected=refused, on_withdrawn=refused)


_register_handlers()


def _finish_in(uow: UnitOfWork, rf_id: uuid.UUID, account: str, extra_chart=()) -> DepositRefund:
    """The refund was paid out: post it, mark it refunded and move its amount from reserved to refunded."""
    s = uow.session
    rf = _move(
        uow, rf_id, ("approved", "refunding"), "refunded", paid_by=uow.ctx.actor.username, paid_at=uow.now
    )
    line = s.get(BillLine, rf.bill_line_id)
    item = s.get(FeeItem, line.fee_item_id)
    house = s.get(House, line.house_id)
    dep = s.get(Deposit, line.id)
    liability = billing.income_account(item.code, "deposit")
    billing._ensure_chart(uow, [(item.code, item.name, "deposit")], extra=extra_chart)
    entry_id = ledger.post_in(
        uow,
        EntrySpec(
            billing.BOOK, today(uow.ctx.clock), f"押金退还 {house.code} {item.name}",
            [(liability, rf.amount_fen), (account, -rf.amount_fen)],
            doc_type="prop_deposit_refund", doc_id=str(rf.id),
        ),
    )  # fmt: skip
    rf.entry_id = entry_id
    s.execute(
        update(Deposit)
        .where(Deposit.bill_line_id == line.id, Deposit.reserved_fen >= rf.amount_fen)
        .values(reserved_fen=Deposit.reserved_fen - rf.amount_fen, refunded_fen=Deposit.refunded_fen + rf.amount_fen,
                version=Deposit.version + 1, updated_at=uow.now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    s.refresh(dep)
    assert dep.refunded_fen + dep.deducted_fen + dep.reserved_fen <= line.paid_fen, (
        "a refund within the deposit"
    )
    _restatus(uow, line, dep)
    payload = {"deposit_id": str(line.id), "house": house.code, "amount_fen": rf.amount_fen, "method": rf.method,
               "account": account}  # fmt: skip
    uow.audit("property.deposit_refunded", "prop_deposit_refund", rf.id, after=payload)
    uow.emit("property.deposit_refunded", {"id": str(rf.id), **payload})
    return rf


def pay_refund(ctx: Context, refund_id: uuid.UUID, *, channels=None) -> DepositRefundView:
    """Pay out an approved deposit refund: cash at the counter, or a refund of the original hub order.

    Safe to repeat: a paid refund is returned as it is; a hub refund still processing is finished by calling
    this again once the channel has answered (the hub's refund is idempotent on the deposit refund's id).
    """
    from core.payments import services as payments

    with ctx.read(PERM_VIEW) as s:
        rf = s.get(DepositRefund, refund_id)
        if rf is None:
            raise NotFound(N_("There is no deposit refund {id}."), id=str(refund_id))
        view = _refund_view(rf)
        _reference, channel = _payments_of(s, [rf.bill_line_id]).get(rf.bill_line_id, ("", "cash"))
    if view.status == "refunded":
        return view
    if view.status not in ("approved", "refunding"):
        raise StateError(
            N_("This deposit refund is {status}; only an approved refund is paid out."), status=view.status
        )
    if view.method == "cash":
        from core.payments import shifts

        with ctx.uow(PERM_REFUND) as uow:
            # The cash leaves the clerk's drawer: it belongs to the clerk's open shift (refused without one).
            shifts.pay_out_cash_in(
                uow, view.amount_fen, "prop_deposit_refund", str(view.id), f"押金退还 {view.amount_fen} 分"
            )
            return _refund_view(_finish_in(uow, view.id, billing.ACC_CASH))
    # Claim the refund first, so a cancellation cannot slip in while the hub is paying it out.
    with ctx.uow(PERM_REFUND) as uow:
        _move(uow, view.id, ("approved", "refunding"), "refunding")
    try:
        hub, _created = payments.refund(
            ctx, HUB_APP_ID, view.out_trade_no, _hub_refund_no(view.id), view.amount_fen, HUB_REFUND_REASON,
            channels=channels, permission=PERM_REFUND,
        )  # fmt: skip
    except AnjuError:
        # The hub refused it (nothing was refunded there): back to approved, to pay out again or cancel.
        with ctx.uow(PERM_REFUND) as uow, contextlib.suppress(StateError):
            if _hub_refund_of(uow.session, view.id) is None:
                _move(uow, view.id, ("refunding",), "approved")
        raise
    with ctx.uow(PERM_REFUND) as uow:
        if hub.status == "SUCCESS":
            account, chart = billing._channel_chart(channel)
            return _refund_view(_finish_in(uow, view.id, account, chart))
        if hub.status == "FAILED":
            rf = _move(uow, view.id, ("approved", "refunding"), "failed", hub_refund_no=hub.refund_no)
            _release_in(uow, rf)
            uow.audit(
                "property.deposit_refund_failed", "prop_deposit_refund", rf.id, after={"hub": hub.refund_no}
            )
            return _refund_view(rf)
        rf = _move(uow, view.id, ("approved", "refunding"), "refunding", hub_refund_no=hub.refund_no)
        return _refund_view(rf)


def _hub_refund_no(refund_id: uuid.UUID) -> str:
    """The hub's out_refund_no of a deposit refund (the hub's refund is idempotent on it)."""
    return f"DEP-{refund_id.hex}"


def _hub_refund_of(s: Session, refund_id: uuid.UUID) -> tuple[str, str] | None:
    """(refund_no, status) of the hub's refund for this deposit refund, if the hub ever made one."""
    from core.payments.models import PayRefund

    row = s.execute(
        select(PayRefund.refund_no, PayRefund.status).where(
            PayRefund.app_id == HUB_APP_ID, PayRefund.out_refund_no == _hub_refund_no(refund_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


def cancel_refund(ctx: Context, refund_id: uuid.UUID, reason: str) -> DepositRefundView:
    """Cancel an approved deposit refund that was not paid out — the hub refused it (the order was closed or
    refunded elsewhere), or the owner will be paid another way — with the reason. Its amount is held in the
    deposit again (nothing was posted for it, so the ledger is unchanged); it ends as "failed" and a new
    request may follow. Refused while the hub has a refund of it that did not fail: pay out again to finish it."""
    reason = text(reason, "reason", REASON_MAX)
    with ctx.uow(PERM_REFUND) as uow:
        s = uow.session
        try:
            rf = s.get(
                DepositRefund, refund_id if isinstance(refund_id, uuid.UUID) else uuid.UUID(str(refund_id))
            )
        except ValueError:
            rf = None
        if rf is None:
            raise NotFound(N_("There is no deposit refund {id}."), id=str(refund_id))
        if rf.status != "approved":
            raise StateError(
                N_("This deposit refund is {status}; only an approved refund not paid out can be cancelled."),
                status=rf.status,
            )
        hub = _hub_refund_of(s, rf.id)
        if hub is not None and hub[1] != "FAILED":
            raise StateError(
                N_("The hub has refund {refund} of it ({status}); pay it out again to finish it."),
                refund=hub[0],
                status=hub[1],
            )
        rf = _move(uow, rf.id, ("approved",), "failed", hub_refund_no=hub[0] if hub else rf.hub_refund_no)
        _release_in(uow, rf)
        payload = {"deposit_id": str(rf.bill_line_id), "amount_fen": rf.amount_fen, "reason": reason,
                   "hub_refund_no": rf.hub_refund_no}  # fmt: skip
        uow.audit(
            "property.deposit_refund_cancelled", "prop_deposit_refund", rf.id,
            before={"status": "approved"}, after={"status": "failed", **payload},
        )  # fmt: skip
        uow.emit("property.deposit_refund_cancelled", {"id": str(rf.id), **payload})
        return _refund_view(rf)


def deduct(ctx: Context, deposit_id: uuid.UUID, amount_fen: int, reason: str) -> DepositView:
    """Keep `amount_fen` of a deposit (damage, unpaid charges, …) as income, with the reason."""
    amount_fen = _amount(amount_fen)
    reason = text(reason, "reason", REASON_MAX)
    with ctx.uow(PERM_DEDUCT) as uow:
        line, item, house, dep = _deposit_line_in(uow, deposit_id)
        _take(uow, line, dep, amount_fen, deducted_fen=Deposit.deducted_fen + amount_fen)
        _keep_in(uow, line, item, house, dep, amount_fen, "deduction", reason)
    return get_deposit(ctx, line.id)


def forfeit(ctx: Context, deposit_id: uuid.UUID, reason: str) -> DepositView:
    """Keep all that is left of a deposit (没收), with the reason; refused while a refund of it is open."""
    reason = text(reason, "reason", REASON_MAX)
    with ctx.uow(PERM_DEDUCT) as uow:
        line, item, house, dep = _deposit_line_in(uow, deposit_id)
        if dep.reserved_fen:
            raise StateError(N_("A refund of this deposit is still open; decide it first."))
        amount_fen = _left(line, dep)
        if amount_fen <= 0:
            raise StateError(N_("Nothing is left in this deposit: it was refunded or kept in full."))
        _take(uow, line, dep, amount_fen, deducted_fen=Deposit.deducted_fen + amount_fen)
        _keep_in(uow, line, item, house, dep, amount_fen, "forfeit", reason)
    return get_deposit(ctx, line.id)


def _keep_in(
    uow: UnitOfWork,
    line: BillLine,
    item: FeeItem,
    house: House,
    dep: Deposit,
    amount_fen: int,
    kind: str,
    reason: str,
) -> None:
    billing._ensure_chart(
        uow, [(item.code, item.name, "deposit")], extra=((ACC_DEDUCTION, "营业外收入-押金扣除", "income"),)
    )
    entry_id = ledger.post_in(
        uow,
        EntrySpec(
            billing.BOOK, today(uow.ctx.clock), f"押金{'没收' if kind == 'forfeit' else '扣除'} {house.code} {item.name}",
            [(billing.income_account(item.code, "deposit"), amount_fen), (ACC_DEDUCTION, -amount_fen)],
            doc_type="prop_deposit_deduction", doc_id=str(line.id),
        ),
    )  # fmt: skip
    d = DepositDeduction(
        id=new_id(), bill_line_id=line.id, kind=kind, amount_fen=amount_fen, reason=reason, entry_id=entry_id,
        created_by=uow.ctx.actor.username, created_at=uow.now,
    )  # fmt: skip
    uow.session.add(d)
    _restatus(uow, line, dep, forfeited=kind == "forfeit")
    payload = {
        "deposit_id": str(line.id),
        "house": house.code,
        "kind": kind,
        "amount_fen": amount_fen,
        "reason": reason,
    }
    uow.audit(f"property.deposit_{kind}", "prop_deposit_deduction", d.id, after=payload)
    uow.emit(f"property.deposit_{kind}", payload)
