"""The property counter's use cases as core services (the desktop calls them; no Qt): the universal search, a
counter payment recorded in the cashier's shift and settled on the house's bills in one transaction,
voiding a receipt of the current shift (the cash goes back out of the drawer through a hub refund), refunds
of older receipts through an approval (maker-checker) and paid out at the counter, and the house's panels
(deposits, parking, open repairs, activities open for sign-up).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select

from core.context import Context
from core.errors import NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.payments import services as payments
from core.payments import shifts
from core.property import billing, deposits, payhub
from core.property import services as ps
from core.property.models import House, HouseOccupant, Owner, Payment, Receipt

APP_ID = "property"
# A clerk's own counter actions: the counter's permissions, not the back office's general pay/refund rights.
PERM_QR = "payments.counter.qr"
PERM_VOID = "payments.counter.void"
PERM_REFUND = "payments.counter.refund"
PROCESS_REFUND = "property.counter_refund"
# The counter channels and the receipt channel each maps to: the same map the hub notice uses, so a counter
# payment and its notice settle one payment under one channel.
CHANNELS = {c: payhub.CHANNEL_OF[c] for c in ("cash", "pos", "bank_transfer")}
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
    matched: str  # what matched: code, owner, phone, id_number, receipt, plate


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


def _code_hits(ctx: Context, code_prefix: str, names: dict[uuid.UUID, str], limit: int) -> list[Hit]:
    """Houses of every community whose code starts with `code_prefix`, with their main owner: one range
    query on the code index and one for the owners (not a query per community and per hit, which took
    seconds on 100,000 houses)."""
    limit = max(1, min(limit, HITS_MAX))
    with ctx.read(ps.PERM_VIEW) as s:
        houses = s.execute(
            select(House.id, House.code, House.community_id)
            # A range on the indexed code instead of LIKE, so no wildcard typed can widen the search.
            .where(House.code >= code_prefix, House.code < code_prefix + "\uffff")
            .order_by(House.code, House.community_id)
            .limit(limit)
        ).all()
        if not houses:
            return []
        occ = s.execute(
            select(HouseOccupant.house_id, Owner)
            .join(Owner, Owner.id == HouseOccupant.owner_id)
            .where(
                HouseOccupant.house_id.in_([h.id for h in houses]),
                HouseOccupant.move_out_date.is_(None),
            )
            .order_by(
                (HouseOccupant.relation == "owner").desc(),
                HouseOccupant.share_bp.desc(),
                HouseOccupant.move_in_date,
                HouseOccupant.id,
            )
        ).all()
        main_owner: dict[uuid.UUID, ps.OwnerView] = {}
        for house_id, owner in occ:
            if house_id not in main_owner:
                main_owner[house_id] = ps._owner_view(ctx, owner)  # masks the phone per the clerk's rights
    hits = []
    for h in houses:
        o = main_owner.get(h.id)
        hits.append(
            Hit(
                h.id,
                h.code,
                names.get(h.community_id, ""),
                o.name if o else "",
                (o.phone or "") if o else "",
                "code",
            )
        )
    return sorted(hits, key=lambda x: (x.house_code, x.community))


def receipt_by_no(ctx: Context, receipt_no: str) -> billing.ReceiptView:
    with ctx.read(billing.PERM_VIEW) as s:
        rid = s.execute(select(Receipt.id).where(Receipt.receipt_no == receipt_no)).scalar_one_or_none()
    if rid is None:
        raise NotFound(N_("There is no receipt {no}."), no=receipt_no)
    return billing.get_receipt(ctx, rid)


def search(ctx: Context, text: str, *, limit: int = HITS_MAX) -> list[Hit]:
    """Houses matching what the clerk typed: an ID number or mobile (exact, through the blind index), a
    receipt number, a house code prefix ("3-2-12"), a licence plate ("京A12345"), or an owner's name (exact)."""
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
    if _CODE_RE.match(q) and len(q) <= 60:
        return _code_hits(ctx, q, names, limit)
    plate = _as_plate(q)
    if plate is not None:
        return _plate_hits(ctx, plate, names, limit)
    return _owner_hits(ctx, ps.search_owners(ctx, name=q, limit=limit), "owner", names)


def _as_plate(text: str) -> str | None:
    """The normalised plate if `text` is a mainland licence plate ("京A·12345", "粤b d12345"), else None."""
    from core.property.parking.rules import parse_plate

    if not text or not ("\u4e00" <= text[0] <= "\u9fff"):
        return None
    try:
        return parse_plate(text).number
    except ValidationError:
        return None


def _plate_hits(ctx: Context, plate: str, names: dict[uuid.UUID, str], limit: int) -> list[Hit]:
    """The houses of the owners of the registered vehicles with this plate (the house the vehicle is
    registered to first, else every house of its owner)."""
    from core.property.parking.models import Vehicle

    with ctx.read(ps.PERM_VIEW) as s:
        vehicles = s.execute(
            select(Vehicle.owner_id, Vehicle.house_id)
            .where(Vehicle.plate == plate, Vehicle.active)
            .order_by(Vehicle.created_at)
            .limit(max(1, min(limit, HITS_MAX)))
        ).all()
    hits: list[Hit] = []
    for owner_id, house_id in vehicles:
        owner = ps.get_owner(ctx, owner_id)
        houses = [ps.get_house(ctx, house_id)] if house_id else ps.houses_of_owner(ctx, owner_id)
        for h in houses:
            hits.append(
                Hit(h.id, h.code, names.get(h.community_id, ""), owner.name, owner.phone or "", "plate")
            )
    return hits[:HITS_MAX]


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
    in one transaction, so either both are there or neither. Idempotent on `req.key`.

    The bills are settled once, here: the hub's notice of this payment is recorded as handled by this caller
    (the "property" handler settles hub payments made elsewhere, such as QR), and an error settling (e.g. the
    chosen bills were paid meanwhile) refuses the whole payment instead of leaving a notice to retry."""
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
            handled_by_caller=True,
        )
        # A repeat of the same key settles nothing again: settle_payment_in returns the receipt it issued.
        receipt = billing.settle_payment_in(
            uow,
            billing.PaymentRecord(req.house_id, CHANNELS[req.channel], req.amount_fen, req.key),
            bill_ids=list(req.bill_ids) or None,
            collect_late_fee=req.collect_late_fee,
        )
        return PaymentResult(receipt, order.order_no, order.change_fen or 0)


QR_CHANNELS = ("wechat", "alipay")
QR_EXPIRE_MINUTES = 5


def start_qr_payment(ctx: Context, req: PaymentRequest, *, channels=None) -> payments.OrderView:
    """Ask the hub for a WeChat/Alipay QR order for the chosen bills; the payer scans `pay_info["code_url"]`.
    The hub's notice for app "property" settles the bills when the channel reports the payment, so nothing
    is settled here. Idempotent on `req.key` (a retry returns the same order and code)."""
    if req.channel not in QR_CHANNELS:
        raise ValidationError(N_("Choose a payment channel."), field="channel")
    house = ps.get_house(ctx, req.house_id)
    order, _created = payments.create_order(
        ctx,
        APP_ID,
        req.key,
        req.amount_fen,
        f"物业收费 {house.code}",
        channel=req.channel,
        expire_minutes=QR_EXPIRE_MINUTES,
        metadata=payhub.payment_metadata(req.house_id, list(req.bill_ids), req.collect_late_fee),
        channels=channels,
        permission=PERM_QR,
    )
    return order


def qr_order(ctx: Context, key: str) -> payments.OrderView:
    """The QR order as the hub knows it now (the counter polls this until SUCCESS)."""
    return payments.get_order(ctx, app_id=APP_ID, out_trade_no=key)


def cancel_qr_payment(ctx: Context, key: str, *, channels=None) -> payments.OrderView:
    """Close the QR order at the channel and the hub; if it was paid meanwhile the SUCCESS order is returned."""
    return payments.close_order(
        ctx, APP_ID, key, reason="cancelled at the counter", channels=channels, permission=PERM_QR
    )


def my_open_shift(ctx: Context) -> shifts.ShiftView | None:
    """The clerk's open shift, also one opened yesterday and still running past midnight."""
    return shifts.open_shift_of(ctx, ctx.actor.username[:64])


def _granted(ctx: Context, *permissions: str) -> Context:
    """The same context and open transaction, acting with `permissions` added: a counter use case has checked
    its own permission and its own rule (the clerk's shift, an approval) and then does the general step on the
    clerk's behalf. The audit still names the clerk."""
    actor = ctx.actor
    return replace(ctx, actor=replace(actor, permissions=actor.permissions | frozenset(permissions)))


def _hub_reference(ctx: Context, receipt_id: uuid.UUID) -> str:
    with ctx.read(billing.PERM_VIEW) as s:
        return s.execute(
            select(Payment.reference)
            .join(Receipt, Receipt.payment_id == Payment.id)
            .where(Receipt.id == receipt_id)
        ).scalar_one()


def void_receipt(ctx: Context, receipt_id: uuid.UUID, reason: str) -> billing.ReceiptView:
    """Void a receipt taken in the clerk's current shift: the bills are restored and the money handed back
    through a hub refund of the counter order, in one transaction. The counter's own permission
    (`payments.counter.void`, which cashiers hold) is all it takes — limited to the clerk's own open shift;
    voiding any other receipt is the back office's `property.counter.void`, refunding anything else
    `payments.refund`."""
    if not (reason or "").strip():
        raise ValidationError(N_("Give a reason for voiding the receipt."), field="reason")
    ctx.require(PERM_VOID)
    shift = my_open_shift(ctx)
    r = billing.get_receipt(ctx, receipt_id)
    if shift is None or r.cashier != ctx.actor.username or r.issued_at < shift.opened_at:
        raise StateError(N_("Only a receipt of your current shift can be voided."))
    reference = _hub_reference(ctx, r.id)
    with ctx.uow(PERM_VOID) as uow:
        view = billing.void_receipt(_granted(ctx, billing.PERM_VOID), receipt_id, reason)
        if reference.startswith("DSK-"):
            payments.refund(
                ctx,
                APP_ID,
                reference,
                f"V{reference[4:]}"[:64],
                r.total_fen,
                reason.strip(),
                permission=PERM_VOID,
            )
        del uow
        return view


# ---------------------------------------------------------------------------------------------------------
# Refunds of older receipts: the clerk asks, an approver decides (maker-checker), the clerk pays out.


@dataclass(frozen=True)
class RefundRequestView:
    """退款申请 — a clerk's request to refund a receipt, and where it stands."""

    id: uuid.UUID  # the approval instance
    receipt_id: uuid.UUID
    receipt_no: str
    amount_fen: int
    reason: str
    status: str  # pending | approved | rejected | withdrawn | paid
    requested_by: str
    requested_at: datetime


def _ensure_refund_process(ctx: Context) -> None:
    from core.context import Actor
    from core.workflow import services as wf

    system = ctx.as_actor(Actor.system("property"))
    try:
        wf.get_process(system, PROCESS_REFUND)
    except NotFound:
        wf.ensure_process(
            system, PROCESS_REFUND, N_("Counter refund"), [{"role": "approver", "name": N_("Approve")}]
        )


def request_refund(ctx: Context, receipt_id: uuid.UUID, amount_fen: int, reason: str) -> RefundRequestView:
    """Ask to refund a paid receipt (one no longer voidable in the clerk's shift). Nothing moves until an
    approver other than the clerk approves; the clerk then pays it out (`pay_out_refund`). The refund returns
    the whole receipt — its bills become unpaid again — so the amount must be the receipt's total."""
    from core.workflow import services as wf

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(N_("Give a reason for the refund."), field="reason")
    if len(reason) > 200:
        raise ValidationError(N_("The reason is too long (at most {n} characters)."), field="reason", n=200)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationError(N_("The refund amount must be above 0."), field="amount")
    ctx.require(PERM_REFUND)
    r = billing.get_receipt(ctx, receipt_id)
    if r.status != "issued":
        raise StateError(N_("Receipt {no} is already void."), no=r.receipt_no)
    if amount_fen != r.total_fen:
        from core.money import format_fen

        raise ValidationError(
            N_("A counter refund returns the whole receipt: {amount}. Take a new payment for any part kept."),
            field="amount",
            amount=format_fen(r.total_fen),
        )
    reference = _hub_reference(ctx, r.id)
    try:
        order = payments.get_order(ctx, app_id=APP_ID, out_trade_no=reference)
    except NotFound:
        raise StateError(
            N_("Receipt {no} was not paid through the payment hub; it cannot be refunded here."),
            no=r.receipt_no,
        ) from None
    if order.amount_fen - order.refunded_fen < amount_fen:
        raise StateError(N_("Receipt {no} has already been refunded."), no=r.receipt_no)
    _ensure_refund_process(ctx)
    with ctx.uow(PERM_REFUND) as uow:
        inst = wf.submit(
            ctx,
            PROCESS_REFUND,
            object_type="prop_receipt",
            object_id=str(r.id),
            title=f"退款 {r.receipt_no} {r.house_code}",
            amount_fen=amount_fen,
            payload={"receipt_no": r.receipt_no, "house_id": str(r.house_id), "reason": reason},
        )
        uow.audit(
            "property.refund_request",
            "prop_receipt",
            r.id,
            after={"receipt_no": r.receipt_no, "amount_fen": amount_fen, "reason": reason},
        )
    return _refund_request_view(inst, "issued")


def _refund_request_view(inst, receipt_status: str) -> RefundRequestView:
    status = inst.status
    if status == "approved" and receipt_status == "voided":
        status = "paid"
    return RefundRequestView(
        inst.id,
        uuid.UUID(inst.object_id),
        inst.payload.get("receipt_no", ""),
        int(inst.amount_fen or 0),
        inst.payload.get("reason", ""),
        status,
        inst.submitted_by_name,
        inst.submitted_at,
    )


def refund_requests(ctx: Context, house_id: uuid.UUID, limit: int = 50) -> list[RefundRequestView]:
    """The house's refund requests, newest first, each with its state (paid once paid out)."""
    from core.workflow import services as wf
    from core.workflow.models import ApprovalInstance

    with ctx.read(billing.PERM_VIEW) as s:
        receipts = dict(
            s.execute(select(Receipt.id, Receipt.status).where(Receipt.house_id == house_id)).all()
        )
        if not receipts:
            return []
        ids = (
            s.execute(
                select(ApprovalInstance.id)
                .where(
                    ApprovalInstance.process_code == PROCESS_REFUND,
                    ApprovalInstance.object_type == "prop_receipt",
                    ApprovalInstance.object_id.in_([str(i) for i in receipts]),
                )
                .order_by(ApprovalInstance.submitted_at.desc(), ApprovalInstance.id.desc())
                .limit(max(1, min(limit, 200)))
            )
            .scalars()
            .all()
        )
    views = [wf.get_instance(ctx, i).instance for i in ids]
    return [_refund_request_view(v, receipts.get(uuid.UUID(v.object_id), "")) for v in views]


def pay_out_refund(ctx: Context, request_id: uuid.UUID) -> billing.ReceiptView:
    """Pay out an approved refund at the counter, in the clerk's shift (cash leaves the drawer): the receipt
    is voided (bills and prepaid restored, ledger reversed) and the hub refunds the order — in one
    transaction, at most once (the receipt can be voided once; the hub refund number is the request's)."""
    from core.workflow import services as wf

    ctx.require(PERM_REFUND)
    inst = wf.get_instance(ctx, request_id).instance
    if inst.process_code != PROCESS_REFUND:
        raise NotFound(N_("There is no refund request {id}."), id=str(request_id))
    if inst.status != "approved":
        raise StateError(N_("The refund request is {status}; only an approved refund is paid out."),
                         status=inst.status)  # fmt: skip
    receipt_id = uuid.UUID(inst.object_id)
    r = billing.get_receipt(ctx, receipt_id)
    if r.status != "issued":
        raise StateError(N_("Receipt {no} is already void."), no=r.receipt_no)
    reference = _hub_reference(ctx, receipt_id)
    reason = f"退款 {inst.payload.get('reason', '')}".strip()
    with ctx.uow(PERM_REFUND) as uow:
        view = billing.void_receipt(_granted(ctx, billing.PERM_VOID), receipt_id, reason)
        payments.refund(
            ctx, APP_ID, reference, f"RF{request_id.hex}", int(inst.amount_fen or 0), reason[:200],
            permission=PERM_REFUND,
        )  # fmt: skip
        uow.audit("property.refund_paid", "prop_receipt", receipt_id,
                  after={"receipt_no": r.receipt_no, "request": str(request_id)})  # fmt: skip
        return view


def parse_fen(text: str, field: str) -> int:
    """Yuan as typed ("1,234.5") → fen; ValidationError naming `field` otherwise."""
    from core.money import parse_yuan

    try:
        return parse_yuan(text or "")
    except ValidationError as exc:
        raise ValidationError(exc.msgid, field=field, **exc.params) from None


def expected_by_channel(ctx: Context, shift: shifts.ShiftView) -> dict[str, int]:
    """What the drawer should hold by channel — the float plus cash taken, less cash refunded and cash paid out
    (deposit refunds), and other channels' takings — exactly as closing the shift will decide it."""
    return shifts.expected_cash(ctx, shift.id)


PAID_STATUSES = ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED")


@dataclass(frozen=True)
class ChannelTotal:
    """One channel's line of the shift summary (金额 in fen)."""

    channel: str
    payments: int
    paid_fen: int
    refunds: int
    refunded_fen: int

    @property
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


@dataclass(frozen=True)
class ShiftSummary:
    """今日汇总 — what the clerk took in one shift, by channel, and the totals."""

    shift: shifts.ShiftView
    channels: list[ChannelTotal]

    @property
    def payments(self) -> int:
        return sum(c.payments for c in self.channels)

    @property
    def paid_fen(self) -> int:
        return sum(c.paid_fen for c in self.channels)

    @property
    def refunds(self) -> int:
        return sum(c.refunds for c in self.channels)

    @property
    def refunded_fen(self) -> int:
        return sum(c.refunded_fen for c in self.channels)

    @property
    def net_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


def shift_summary(ctx: Context, shift: shifts.ShiftView | None = None) -> ShiftSummary:
    """Counts and totals by channel for the clerk's shift (the open one unless given): orders paid in it
    (a later refund does not un-count the payment) and refunds paid out in it, each summed in SQL."""
    from sqlalchemy import func

    from core.payments.models import PayOrder, PayRefund

    shift = shift or my_open_shift(ctx)
    if shift is None:
        raise StateError(N_("You have no open shift."))
    with ctx.read("payments.view") as s:
        paid = s.execute(
            select(PayOrder.channel, func.count(), func.sum(PayOrder.amount_fen))
            .where(PayOrder.shift_id == shift.id, PayOrder.status.in_(PAID_STATUSES))
            .group_by(PayOrder.channel)
        ).all()
        refunded = s.execute(
            select(PayRefund.channel, func.count(), func.sum(PayRefund.amount_fen))
            .where(PayRefund.shift_id == shift.id, PayRefund.status == "SUCCESS")
            .group_by(PayRefund.channel)
        ).all()
    by: dict[str, list[int]] = {}
    for ch, n, fen in paid:
        by.setdefault(ch, [0, 0, 0, 0])[0:2] = [int(n), int(fen or 0)]
    for ch, n, fen in refunded:
        by.setdefault(ch, [0, 0, 0, 0])[2:4] = [int(n), int(fen or 0)]
    return ShiftSummary(shift, [ChannelTotal(ch, *v) for ch, v in sorted(by.items())])


# ---------------------------------------------------------------------------------------------------------
# The house's side panels: deposits, parking, open repairs, activities open for sign-up. A panel the clerk's
# roles do not cover is None (the counter says so), never an error.


@dataclass(frozen=True)
class ParkingLine:
    """A parking space the house holds (assigned or rented), or one of its vehicles (space empty)."""

    space: str
    kind: str
    status: str
    plate: str
    until: date | None


@dataclass(frozen=True)
class RepairLine:
    number: str
    repair_type: str
    description: str
    status: str
    created_at: datetime
    complete_by: datetime


@dataclass(frozen=True)
class ActivityLine:
    """A published activity of the house's community with its places: capacity, taken, waiting."""

    id: uuid.UUID
    title: str
    place: str
    starts_at: datetime
    fee_fen: int
    capacity: int
    confirmed: int
    waiting: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.confirmed)


@dataclass(frozen=True)
class HousePanels:
    deposits: list[deposits.DepositView] | None  # paid deposits, from core.property.deposits
    parking: list[ParkingLine] | None
    repairs: list[RepairLine] | None
    activities: list[ActivityLine] | None


PANEL_ROWS_MAX = 50


def house_parking(ctx: Context, house_id: uuid.UUID) -> list[ParkingLine]:
    """Spaces assigned to or rented by the house, then the house's vehicles."""
    from core.property.parking import services as parking
    from core.property.parking.models import ParkingArea, ParkingRental, ParkingSpace, Vehicle

    with ctx.read(parking.PERM_VIEW) as s:
        rented = dict(
            s.execute(
                select(ParkingRental.space_id, ParkingRental.end_date).where(
                    ParkingRental.house_id == house_id, ParkingRental.status == parking.RENTAL_ACTIVE
                )
            ).all()
        )
        spaces = s.execute(
            select(ParkingSpace, ParkingArea.name)
            .join(ParkingArea, ParkingArea.id == ParkingSpace.area_id)
            .where(
                (ParkingSpace.house_id == house_id) | ParkingSpace.id.in_(list(rented) or [uuid.UUID(int=0)])
            )
            .order_by(ParkingArea.name, ParkingSpace.number)
            .limit(PANEL_ROWS_MAX)
        ).all()
        plates = (
            s.execute(
                select(Vehicle.plate)
                .where(Vehicle.house_id == house_id, Vehicle.active)
                .order_by(Vehicle.plate)
                .limit(PANEL_ROWS_MAX)
            )
            .scalars()
            .all()
        )
    lines = [
        ParkingLine(f"{area} {sp.number}", sp.kind, sp.status, "", rented.get(sp.id)) for sp, area in spaces
    ]
    return lines + [ParkingLine("", "", "", plate, None) for plate in plates]


def house_repairs(ctx: Context, house_id: uuid.UUID) -> list[RepairLine]:
    """The house's repair work orders that are not closed or cancelled, newest first."""
    from core.property.repairs import services as repairs

    orders = repairs.list_orders(ctx, house_id=house_id, limit=PANEL_ROWS_MAX)
    return [
        RepairLine(o.number, o.repair_type_code, o.description, o.status, o.created_at, o.complete_by)
        for o in orders
        if o.status not in repairs.MACHINE.terminal
    ]


def open_activities(ctx: Context, community_id: uuid.UUID) -> list[ActivityLine]:
    """Published activities of the community that have not started, soonest first, with places taken."""
    from sqlalchemy import func

    from core.property.activities import services as activities
    from core.property.activities.models import Activity, ActivitySignup

    now = ctx.clock.now()
    with ctx.read(activities.PERM_VIEW) as s:
        rows = (
            s.execute(
                select(Activity)
                .where(
                    Activity.community_id == community_id,
                    Activity.status == "published",
                    Activity.starts_at > now,
                )
                .order_by(Activity.starts_at, Activity.id)
                .limit(PANEL_ROWS_MAX)
            )
            .scalars()
            .all()
        )
        counts: dict[tuple[uuid.UUID, str], int] = {}
        if rows:
            for aid, status, people in s.execute(
                select(ActivitySignup.activity_id, ActivitySignup.status, func.sum(ActivitySignup.party_size))
                .where(ActivitySignup.activity_id.in_([a.id for a in rows]))
                .group_by(ActivitySignup.activity_id, ActivitySignup.status)
            ).all():
                counts[(aid, status)] = int(people or 0)
    return [
        ActivityLine(
            a.id,
            a.title,
            a.place,
            a.starts_at,
            a.fee_fen,
            a.capacity,
            counts.get((a.id, "confirmed"), 0),
            counts.get((a.id, "waitlisted"), 0),
        )
        for a in rows
    ]


def house_panels(ctx: Context, house_id: uuid.UUID) -> HousePanels:
    """Everything the house view shows beside its bills; each panel only if the clerk may see it."""
    from core.property.activities import services as activities
    from core.property.parking import services as parking
    from core.property.repairs import services as repairs

    house = ps.get_house(ctx, house_id)
    can = ctx.actor.can
    return HousePanels(
        deposits.list_deposits(ctx, house_id=house_id) if can(deposits.PERM_VIEW) else None,
        house_parking(ctx, house_id) if can(parking.PERM_VIEW) else None,
        house_repairs(ctx, house_id) if can(repairs.PERM_VIEW) else None,
        open_activities(ctx, house.community_id) if can(activities.PERM_VIEW) else None,
    )
