"""The property counter's use cases as core services (the desktop calls them; no Qt): the universal search, a
counter payment recorded in the cashier's shift and settled on the house's bills in one transaction, and
voiding a receipt of the current shift (the cash goes back out of the drawer through a hub refund).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select

from core.clock import today
from core.context import Context
from core.errors import NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.payments import services as payments
from core.payments import shifts
from core.property import billing, payhub
from core.property import services as ps
from core.property.models import Payment, Receipt

APP_ID = "property"
# The hub's counter channel → the channel the property receipt names.
CHANNELS = {"cash": "cash", "pos": "pos", "bank_transfer": "bank"}
HITS_MAX = 30
_ID_RE = re.compile(r"^\d{17}[\dXx]$")
_PHONE_RE = re.compile(r"^1\d{10}$")
_CODE_RE = re.compile(r"^[0-9A-Za-z]+(-[0-9A-Za-z]*)*$")


@dataclass(frozen=True)
class Hit:
    """One search result: a house and who owns it (phone masked unless the clerk may see it)."""

    house_id: uuid.UUID
    house_code: str
    community: str
    owner: str
    phone: str
    matched: str  # what matched: code, owner, phone, id_number, receipt


def _communities(ctx: Context) -> dict[uuid.UUID, str]:
    return {c.id: c.name for c in ps.list_communities(ctx)}


def _hit(ctx: Context, house: ps.HouseView, names: dict[uuid.UUID, str], matched: str) -> Hit:
    owners = [o for o in ps.occupants(ctx, house.id) if o.relation == "owner"] or ps.occupants(ctx, house.id)
    owner_name, phone = "", ""
    if owners:
        owner_name = owners[0].owner_name
        phone = ps.get_owner(ctx, owners[0].owner_id).phone or ""
    return Hit(house.id, house.code, names.get(house.community_id, ""), owner_name, phone, matched)


def _owner_hits(ctx: Context, owners: list[ps.OwnerView], matched: str, names) -> list[Hit]:
    hits = []
    for o in owners:
        for h in ps.houses_of_owner(ctx, o.id):
            hits.append(Hit(h.id, h.code, names.get(h.community_id, ""), o.name, o.phone or "", matched))
    return hits[:HITS_MAX]


def receipt_by_no(ctx: Context, receipt_no: str) -> billing.ReceiptView:
    with ctx.read(billing.PERM_VIEW) as s:
        rid = s.execute(select(Receipt.id).where(Receipt.receipt_no == receipt_no)).scalar_one_or_none()
    if rid is None:
        raise NotFound(N_("There is no receipt {no}."), no=receipt_no)
    return billing.get_receipt(ctx, rid)


def search(ctx: Context, text: str, *, limit: int = HITS_MAX) -> list[Hit]:
    """Houses matching what the clerk typed: an ID number or mobile (exact, through the blind index), a
    receipt number, a house code prefix ("3-2-12"), or an owner's name (exact)."""
    q = (text or "").strip()
    if not q:
        return []
    names = _communities(ctx)
    if _ID_RE.match(q):
        try:
            return _owner_hits(ctx, ps.search_owners(ctx, id_number=q), "id_number", names)
        except ValidationError:
            return []
    if _PHONE_RE.match(q):
        return _owner_hits(ctx, ps.search_owners(ctx, phone=q), "phone", names)
    if q.upper().startswith(ctx.site.code.upper()) and "SJ" in q.upper():
        try:
            r = receipt_by_no(ctx, q.upper())
        except NotFound:
            return []
        return [_hit(ctx, ps.get_house(ctx, r.house_id), names, "receipt")]
    if _CODE_RE.match(q):
        hits: list[Hit] = []
        for cid in names:
            for h in ps.search_houses(ctx, cid, code_prefix=q, limit=limit):
                hits.append(_hit(ctx, h, names, "code"))
        return sorted(hits, key=lambda h: (h.house_code, h.community))[:limit]
    return _owner_hits(ctx, ps.search_owners(ctx, name=q, limit=limit), "owner", names)


@dataclass(frozen=True)
class HouseDetail:
    house: ps.HouseView
    community: str
    owners: list[ps.OwnerView]
    occupants: list[ps.OccupantView]
    lines: list[billing.LineView]  # unpaid lines, oldest first
    late_fees: dict[uuid.UUID, int]
    prepaid_fen: int
    bills: list[billing.BillView]  # unpaid first, then the rest by due date


def house_detail(ctx: Context, house_id: uuid.UUID) -> HouseDetail:
    house = ps.get_house(ctx, house_id)
    occ = ps.occupants(ctx, house_id)
    owners = [ps.get_owner(ctx, o.owner_id) for o in occ]
    bills = billing.house_bills(ctx, house_id)
    bills.sort(key=lambda b: (b.status in ("paid", "waived"), b.due_date, b.bill_no))
    return HouseDetail(
        house,
        _communities(ctx).get(house.community_id, ""),
        owners,
        occ,
        billing.outstanding(ctx, house_id),
        billing.late_fees(ctx, house_id),
        billing.prepaid_balance(ctx, house_id),
        bills,
    )


def new_attempt_key() -> str:
    """An idempotency key for one payment attempt: a retry with it returns the first result."""
    return f"DSK-{new_id().hex}"


@dataclass(frozen=True)
class PaymentRequest:
    house_id: uuid.UUID
    bill_ids: tuple[uuid.UUID, ...]
    amount_fen: int
    channel: str  # cash | pos | bank_transfer
    key: str
    tendered_fen: int | None = None
    reference: str | None = None
    collect_late_fee: bool = True


@dataclass(frozen=True)
class PaymentResult:
    receipt: billing.ReceiptView
    order_no: str
    change_fen: int


def take_payment(ctx: Context, req: PaymentRequest) -> PaymentResult:
    """Take a counter payment: the hub records it in the cashier's open shift (cash with change, POS slip,
    transfer reference) and the house's chosen bills are settled, late fees first, the rest to prepaid — all
    in one transaction, so either both are there or neither. Idempotent on `req.key`."""
    if req.channel not in CHANNELS:
        raise ValidationError(N_("Choose a payment channel."), field="channel")
    house = ps.get_house(ctx, req.house_id)
    with ctx.uow(billing.PERM_PAY) as uow:
        order = payments.counter_pay(
            ctx,
            APP_ID,
            req.key,
            req.amount_fen,
            f"物业收费 {house.code}",
            channel=req.channel,
            tendered_fen=req.tendered_fen if req.channel == "cash" else None,
            reference=req.reference if req.channel != "cash" else None,
            metadata=payhub.payment_metadata(req.house_id, list(req.bill_ids), req.collect_late_fee),
        )
        receipt = billing.settle_payment_in(
            uow,
            billing.PaymentRecord(req.house_id, CHANNELS[req.channel], req.amount_fen, req.key),
            bill_ids=list(req.bill_ids) or None,
            collect_late_fee=req.collect_late_fee,
        )
        return PaymentResult(receipt, order.order_no, order.change_fen or 0)


def my_open_shift(ctx: Context) -> shifts.ShiftView | None:
    for s in reversed(shifts.list_shifts(ctx, today(ctx.clock))):
        if s.cashier == ctx.actor.username[:64] and s.status == shifts.OPEN:
            return s
    return None


def void_receipt(ctx: Context, receipt_id: uuid.UUID, reason: str) -> billing.ReceiptView:
    """Void a receipt taken in the clerk's current shift: the bills are restored and the money handed back
    through a hub refund of the counter order, in one transaction."""
    if not (reason or "").strip():
        raise ValidationError(N_("Give a reason for voiding the receipt."), field="reason")
    shift = my_open_shift(ctx)
    r = billing.get_receipt(ctx, receipt_id)
    if shift is None or r.cashier != ctx.actor.username or r.issued_at < shift.opened_at:
        raise StateError(N_("Only a receipt of your current shift can be voided."))
    with ctx.read(billing.PERM_VIEW) as s:
        reference = s.execute(
            select(Payment.reference)
            .join(Receipt, Receipt.payment_id == Payment.id)
            .where(Receipt.id == r.id)
        ).scalar_one()
    with ctx.uow(billing.PERM_VOID) as uow:
        view = billing.void_receipt(ctx, receipt_id, reason)
        if reference.startswith("DSK-"):
            payments.refund(ctx, APP_ID, reference, f"V{reference[4:]}"[:64], r.total_fen, reason.strip())
        del uow
        return view


def parse_fen(text: str, field: str) -> int:
    """Yuan as typed ("1,234.5") → fen; ValidationError naming `field` otherwise."""
    from core.money import parse_yuan

    try:
        return parse_yuan(text or "")
    except ValidationError as exc:
        raise ValidationError(exc.msgid, field=field, **exc.params) from None


def expected_by_channel(ctx: Context, shift: shifts.ShiftView) -> dict[str, int]:
    """What the drawer should hold by channel: the float plus cash taken, and other channels' takings.
    (Refunds are netted by `shifts.close_shift` itself when it decides.)"""
    from sqlalchemy import func

    from core.payments.models import PayOrder

    with ctx.read("payments.view") as s:
        rows = s.execute(
            select(PayOrder.channel, func.sum(PayOrder.amount_fen))
            .where(PayOrder.shift_id == shift.id, PayOrder.status == "SUCCESS")
            .group_by(PayOrder.channel)
        ).all()
    out = {ch: int(v or 0) for ch, v in rows}
    out["cash"] = out.get("cash", 0) + shift.float_fen
    return dict(sorted(out.items()))
