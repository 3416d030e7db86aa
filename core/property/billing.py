"""Fees and money of smart property: fee items, meter readings, bill runs, one-off charges, discounts, late
fees, prepaid accounts, payments with receipts, arrears and collection statistics.

Chart of book PROPERTY (物业公司账簿), all amounts in fen:
    1001            库存现金 cash taken at the counter
    1002.<channel>  银行存款/在途 money received through a channel (pos, wechat, alipay, bank, hub)
    1122            应收账款 what owners owe on bills (the control account of prop_bill_lines)
    2203            预收账款 houses' prepaid balances (the control account of prop_prepaid_accounts)
    2241.<item>     其他应付款 deposits held (押金, 装修保证金): owed back, never income
    6001.<item>     主营业务收入 fee income per fee item code, net of discounts
    6301.latefee    营业外收入 late fees (违约金) collected
A bill run accrues: Dr 1122 / Cr 6001.<item> (Cr 2241.<item> for deposits), one entry per community and
item. A payment: Dr 1001 or 1002.<channel> / Cr 1122 (bills), Cr 6301.latefee, Cr 2203 (overpayment).
Prepaid settling a new bill: Dr 2203 / Cr 1122. Revenue is recognised when a period is billed (billing in
advance included), so 2203 holds only money received before any bill asked for it.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import chain, groupby, islice, repeat
from operator import gt, itemgetter, sub

from sqlalchemy import and_, case, func, insert, literal, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from core.clock import today
from core.context import Actor, Context
from core.db import sequences
from core.db.bulk import binder, binds_uuid_as_hex, gc_paused, insert_rows
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id, new_id_hexes, new_ids
from core.jsonutil import encode_json_str
from core.ledger import services as ledger
from core.ledger.models import Account, Book
from core.ledger.services import EntrySpec
from core.money import chinese_upper, format_fen
from core.numbering import next_document_no
from core.property import fee_standards, rules
from core.property.models import (
    METER_KINDS,
    Bill,
    BillLine,
    BillRun,
    Community,
    Deposit,
    Discount,
    FeeItem,
    House,
    LateFeeWaiver,
    MeterReading,
    Payment,
    PaymentAllocation,
    PrepaidAccount,
    PrepaidMove,
    Receipt,
    ReceiptLine,
)
from core.property.services import PERM_MANAGE, PERM_VIEW, _get, payer_name, text
from core.uow import UnitOfWork

PERM_BILLING = "property.billing"
PERM_PAY = "property.counter.pay"
PERM_VOID = "property.counter.void"
PERM_DISCOUNT = "property.discount"
PERM_WAIVE = "property.latefee.waive"

BOOK = "PROPERTY"
ACC_CASH = "1001"
ACC_RECEIVABLE = "1122"
ACC_PREPAID = "2203"
ACC_LATE_FEE = "6301.latefee"
CHANNELS = ("cash", "pos", "wechat", "alipay", "bank", "hub")
PARKING_ITEM_CODE = "PARKING"
PROCESS_DISCOUNT = "property.discount"
PROCESS_WAIVER = "property.latefee_waiver"
EVENT_CHUNK = 500
BILL_NO_KIND = "ZD"
RECEIPT_KIND = "SJ"
PAYMENT_FEN_MAX = 10**11  # 10 亿 yuan at one counter payment: beyond it, a typo
METER_MILLI_MAX = 10**12
REFERENCE_MAX = 80
_PERIODIC_RULES = ("fixed", "building_area", "inner_area")
_ONCE_RULES = ("one_off", "deposit", "usage")

_LINES = BillLine.__table__
_BILLS = Bill.__table__


# ---------------------------------------------------------------------------------------------------------
# Fee items


@dataclass(frozen=True)
class FeeItemView:
    id: uuid.UUID
    community_id: uuid.UUID
    code: str
    name: str
    rule: str
    cycle: str
    billing_mode: str
    unit_price: str
    amount_fen: int
    tiers: list | None
    tier_scope: str
    meter_kind: str | None
    rounding: str
    prorate: bool
    due_days: int
    late_daily_rate: str
    late_grace_days: int
    late_cap_fen: int | None
    active: bool


def _item_view(i: FeeItem) -> FeeItemView:
    return FeeItemView(
        i.id, i.community_id, i.code, i.name, i.rule, i.cycle, i.billing_mode, i.unit_price, i.amount_fen,
        i.tiers, i.tier_scope, i.meter_kind, i.rounding, i.prorate, i.due_days, i.late_daily_rate,
        i.late_grace_days, i.late_cap_fen, i.active,
    )  # fmt: skip


def income_account(item_code: str, rule: str) -> str:
    return f"2241.{item_code}" if rule == "deposit" else f"6001.{item_code}"


def create_fee_item(
    ctx: Context,
    community_id: uuid.UUID,
    code: str,
    name: str,
    rule: str,
    *,
    cycle: str = "monthly",
    billing_mode: str = "arrears",
    unit_price: str | Decimal = "0",
    amount_fen: int = 0,
    tiers: list[dict] | None = None,
    tier_scope: str = "month",
    meter_kind: str | None = None,
    rounding: str = "half_up_fen",
    prorate: bool = True,
    due_days: int = 15,
    late_daily_rate: str | Decimal = "0",
    late_grace_days: int = 0,
    late_cap_fen: int | None = None,
    applies_to_use: str | None = None,
) -> FeeItemView:
    """Define a fee item (收费项目) and its charging standard; see FeeItem for the meaning of each field."""
    code = text(code, "code", 20).upper()
    if not code.replace("_", "").isalnum() or not code.isascii():
        raise ValidationError(N_("A fee item code is letters, digits and _ (at most 20)."), field="code")
    std = fee_standards.check_standard(
        rule, meter_kind, name=name, cycle=cycle, billing_mode=billing_mode, unit_price=unit_price,
        amount_fen=amount_fen, tiers=tiers, tier_scope=tier_scope, rounding=rounding, prorate=prorate,
        due_days=due_days,
    )  # fmt: skip
    rate = rules.decimal(late_daily_rate, "late_daily_rate", max_value=rules.RATE_MAX)
    if not isinstance(late_grace_days, int) or not 0 <= late_grace_days <= 366:
        raise ValidationError(N_("Due days and grace days are 0 to 366."), field="due_days")
    if late_cap_fen is not None and (not isinstance(late_cap_fen, int) or late_cap_fen < 0):
        raise ValidationError(N_("The late fee cap must be 0 or more."), field="late_cap_fen")
    with ctx.uow(PERM_MANAGE) as uow:
        s = uow.session
        _get(s, Community, community_id, "community")
        if s.execute(
            select(FeeItem.id).where(FeeItem.community_id == community_id, FeeItem.code == code)
        ).first():
            raise Conflict(N_("Fee item {code} already exists in this community."), code=code)
        item = FeeItem(
            id=new_id(),
            community_id=community_id,
            code=code,
            rule=rule,
            **vars(std),
            meter_kind=meter_kind if rule == "meter" else None,
            late_daily_rate=str(rate),
            late_grace_days=late_grace_days,
            late_cap_fen=late_cap_fen,
            applies_to_use=applies_to_use or None,
            created_at=uow.now,
        )
        s.add(item)
        s.flush()
        _ensure_chart(uow, [(code, std.name, rule)])
        view = _item_view(item)
        payload = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in vars(view).items()}
        uow.audit("property.fee_item_create", "prop_fee_item", item.id, after=payload)
        uow.emit("property.fee_item_created", payload)
        return view


def fee_items(ctx: Context, community_id: uuid.UUID) -> list[FeeItemView]:
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(FeeItem).where(FeeItem.community_id == community_id).order_by(FeeItem.code)
        ).scalars()
        return [_item_view(i) for i in rows]


def fee_item_by_code(s: Session, community_id: uuid.UUID, code: str) -> FeeItem:
    item = s.execute(
        select(FeeItem).where(FeeItem.community_id == community_id, FeeItem.code == code.upper())
    ).scalar_one_or_none()
    if item is None:
        raise NotFound(N_("There is no fee item {code} in this community."), code=code)
    return item


_BOOK_NAME = ("物业公司账簿", "property")


def _ensure_accounts(uow: UnitOfWork, wanted: Sequence[tuple[str, str, str]]) -> None:
    """Book PROPERTY and the `wanted` (code, name, type) accounts, opened if missing (idempotent).

    The usual case — everything already open with these settings — is one query; anything missing or different
    goes through the ledger's ensure_* functions, which open it or raise their Conflict.
    """
    rows = uow.session.execute(
        select(
            Book.name, Book.fund_type, Account.code, Account.name, Account.type,
            Account.debits_must_not_exceed_credits, Account.credits_must_not_exceed_debits,
        )
        .join(Account, and_(Account.book_id == Book.id, Account.code.in_([w[0] for w in wanted])), isouter=True)
        .where(Book.code == BOOK)
    ).all()  # fmt: skip
    found = {r[2]: (r[3], r[4], bool(r[5]), bool(r[6])) for r in rows if r[2] is not None}
    if (
        rows
        and (rows[0][0], rows[0][1]) == _BOOK_NAME
        and all(found.get(code) == (name, kind, False, False) for code, name, kind in wanted)
    ):
        return
    ledger.ensure_book_in(uow, BOOK, *_BOOK_NAME)
    for code, name, kind in wanted:
        ledger.ensure_account_in(uow, BOOK, code, name, kind)


_BASE_CHART = (
    (ACC_CASH, "库存现金", "asset"),
    (ACC_RECEIVABLE, "应收账款", "asset"),
    (ACC_PREPAID, "预收账款", "liability"),
    (ACC_LATE_FEE, "营业外收入-违约金", "income"),
)


def _ensure_chart(uow: UnitOfWork, items: Iterable[tuple[str, str, str]] = (), extra=()) -> None:
    """Open book PROPERTY and the accounts the bills and payments post to (idempotent)."""
    wanted = list(_BASE_CHART)
    for code, _name, rule in items:
        if rule == "deposit":
            wanted.append((income_account(code, rule), f"其他应付款-押金 {code}", "liability"))
        else:
            wanted.append((income_account(code, rule), f"主营业务收入 {code}", "income"))
    _ensure_accounts(uow, wanted + list(extra))


def _channel_chart(channel: str) -> tuple[str, tuple[tuple[str, str, str], ...]]:
    """The account a channel's money goes to, and the chart entry to open for it (none for cash)."""
    if channel == "cash":
        return ACC_CASH, ()
    code = f"1002.{channel}"
    return code, ((code, f"银行存款-{channel}", "asset"),)


def _channel_account(uow: UnitOfWork, channel: str) -> str:
    code, extra = _channel_chart(channel)
    if extra:
        _ensure_accounts(uow, extra)
    return code


# ---------------------------------------------------------------------------------------------------------
# Meter readings


def parse_reading(raw: object, field: str) -> int:
    """A meter reading typed or imported ("1234.5") in thousandths of a unit."""
    value = rules.decimal(
        str(raw) if raw is not None else "", field, max_value=Decimal(METER_MILLI_MAX) / 1000
    )
    milli = value * 1000
    if milli != milli.to_integral_value():
        raise ValidationError(N_("A meter reading has at most three decimals."), field=field)
    return int(milli)


def record_reading_in(
    uow: UnitOfWork,
    house_id: uuid.UUID,
    meter_kind: str,
    period: str,
    current_milli: int,
    *,
    previous_milli: int | None = None,
    read_on: date | None = None,
) -> uuid.UUID:
    if meter_kind not in METER_KINDS:
        raise ValidationError(N_("The meter kind must be water, electricity or gas."), field="meter_kind")
    p = rules.Period.parse(period)
    s = uow.session
    _get(s, House, house_id, "house")
    if previous_milli is None:
        previous_milli = (
            s.execute(
                select(MeterReading.current_milli)
                .where(
                    MeterReading.house_id == house_id,
                    MeterReading.meter_kind == meter_kind,
                    MeterReading.period < str(p),
                )
                .order_by(MeterReading.period.desc())
                .limit(1)
            ).scalar_one_or_none()
            or 0
        )
    if current_milli < previous_milli:
        raise ValidationError(
            N_("This reading ({current}) is below the previous one ({previous})."),
            field="current",
            current=f"{current_milli / 1000:g}",
            previous=f"{previous_milli / 1000:g}",
        )
    if s.execute(
        select(MeterReading.id).where(
            MeterReading.house_id == house_id,
            MeterReading.meter_kind == meter_kind,
            MeterReading.period == str(p),
        )
    ).first():
        raise Conflict(N_("This meter already has a reading for {period}."), period=str(p))
    reading_id = new_id()
    s.execute(
        insert(MeterReading).values(
            id=reading_id,
            house_id=house_id,
            meter_kind=meter_kind,
            period=str(p),
            previous_milli=previous_milli,
            current_milli=current_milli,
            read_on=read_on or today(uow.ctx.clock),
            created_at=uow.now,
        )
    )
    payload = {
        "id": str(reading_id),
        "house_id": str(house_id),
        "meter_kind": meter_kind,
        "period": str(p),
        "previous_milli": previous_milli,
        "current_milli": current_milli,
    }
    uow.audit("property.meter_reading", "prop_meter_reading", reading_id, after=payload)
    uow.emit("property.meter_read", payload)
    return reading_id


def record_reading(
    ctx: Context,
    house_id: uuid.UUID,
    meter_kind: str,
    period: str,
    current: str | Decimal,
    *,
    previous: str | Decimal | None = None,
    read_on: date | None = None,
) -> uuid.UUID:
    """Record a meter reading (抄表); the previous reading defaults to the last period's current one."""
    cur = parse_reading(current, "current")
    prev = parse_reading(previous, "previous") if previous is not None else None
    with ctx.uow(PERM_BILLING) as uow:
        return record_reading_in(uow, house_id, meter_kind, period, cur, previous_milli=prev, read_on=read_on)


# ---------------------------------------------------------------------------------------------------------
# Bill runs


@dataclass(frozen=True)
class BillRunResult:
    period: str
    bills_created: int
    lines_created: int
    amount_fen: int


# A bill line on its way to the database is a plain tuple (a bill run makes 400,000 of them, and a tuple costs a
# fraction of an object), its ids and dates already in driver form; `due` is also kept as a date to compare.
_HOUSE, _BUILDING, _COMMUNITY, _ITEM, _REF, _START, _END, _QTY, _UNIT, _GROSS, _DISCOUNT, _DUE, _DUE_RAW = (
    range(13)
)
_HOUSE_OF, _ITEM_OF = itemgetter(_HOUSE), itemgetter(_COMMUNITY, _ITEM)
_GROSS_OF, _DISCOUNT_OF = itemgetter(_GROSS), itemgetter(_DISCOUNT)


class _Binds:
    """Driver-form values of one session: ids (hex text on SQLite, uuid on PostgreSQL) and dates (cached)."""

    def __init__(self, session: Session) -> None:
        self.id = binder(session, _LINES.c.id)
        self._bind_date = binder(session, _LINES.c.period_start)
        self._dates: dict[date, object] = {}

    def date(self, value: date) -> object:
        got = self._dates.get(value)
        if got is None:
            got = self._dates[value] = self._bind_date(value)
        return got


def _line(
    b: _Binds,
    house: uuid.UUID,
    building: uuid.UUID,
    community: uuid.UUID,
    item: FeeItem,
    ref: str,
    start: date,
    end: date,
    quantity: str,
    unit_price: str,
    gross_fen: int,
    due: date,
) -> tuple:
    """One bill line tuple from ordinary values (the meter, parking and one-off paths: a few lines each)."""
    return (b.id(house), b.id(building), b.id(community), b.id(item.id), ref, b.date(start), b.date(end),
            quantity, unit_price, gross_fen, 0, due, b.date(due))  # fmt: skip


def _fast_ids(session: Session, count: int) -> list:
    """`count` new UUIDv7 ids (core.ids, full random tails) in driver form: hex text on SQLite, uuid elsewhere."""
    if count <= 0:
        return []
    if binds_uuid_as_hex(session, _LINES.c.id):
        return new_id_hexes(count)  # UUID.hex of the same ids, without the UUID objects
    return new_ids(count)


def _raw(session: Session):
    """The function turning a uuid.UUID into the value the driver stores (hex text on SQLite, uuid on PostgreSQL)."""
    return binder(session, House.__table__.c.id)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _discounts(
    s: Session, community_id: uuid.UUID, period: str, b: _Binds
) -> dict[tuple[object, object], Discount]:
    """Approved discounts in force for `period`: (raw house id or None for every house, raw item id) → discount."""
    rows = s.execute(
        select(Discount)
        .where(
            Discount.community_id == community_id,
            Discount.status == "approved",
            Discount.period_from <= period,
            Discount.period_to >= period,
        )
        .order_by(Discount.created_at)
    ).scalars()
    return {(b.id(d.house_id) if d.house_id else None, b.id(d.fee_item_id)): d for d in rows}


def _discounted(line: tuple, discounts: dict) -> tuple:
    d = discounts.get((line[_HOUSE], line[_ITEM])) or discounts.get((None, line[_ITEM]))
    if d is None:
        return line
    off = rules.discount_fen(line[_GROSS], d.kind, Decimal(d.rate_off), d.reduction_fen)
    return (*line[:_DISCOUNT], off, *line[_DISCOUNT + 1 :])


def _periodic_lines(
    s: Session, community: Community, items: Sequence[FeeItem], p: rules.Period, b: _Binds
) -> list:
    """Lines of the periodic `items` due in `p` for the houses of `community` not yet charged them.

    One pass over the community's houses for all the items: a column per item says whether the house is
    chargeable for it and not yet charged (one index probe of the unique (house, item, period, source) key).
    """
    due_items = [
        (i, span) for i in items if (span := rules.cycle_span(i.cycle, i.billing_mode, p)) is not None
    ]
    if not due_items:
        return []
    cols = []
    params = {
        "community": b.id(community.id),
        "period": str(p),
        "last": b.date(max(end for _i, (_start, end) in due_items)),
    }
    for k, (item, (_start, end)) in enumerate(due_items):
        use = f"AND h.use = :use{k} " if item.applies_to_use else ""
        cols.append(
            f"CASE WHEN h.charge_start_on <= :end{k} {use}AND NOT EXISTS (SELECT 1 FROM prop_bill_lines l "
            f"WHERE l.house_id = h.id AND l.fee_item_id = :item{k} AND l.period = :period AND l.source_ref = '') "
            "THEN 1 ELSE 0 END"
        )
        params[f"end{k}"] = b.date(end)
        params[f"item{k}"] = b.id(item.id)
        if item.applies_to_use:
            params[f"use{k}"] = item.applies_to_use
    rows = s.execute(
        sql_text(
            f"SELECT h.id, h.building_id, h.building_area_dm2, h.inner_area_dm2, h.charge_start_on, {', '.join(cols)} "
            "FROM prop_houses h WHERE h.community_id = :community AND h.status <> 'unsold' "
            "AND h.charge_start_on IS NOT NULL AND h.charge_start_on <= :last ORDER BY h.id"
        ),
        params,
    ).all()
    community_raw = b.id(community.id)
    round_ratio = rules.round_ratio
    lines: list[tuple] = []
    append = lines.append
    for k, (item, (start, end)) in enumerate(due_items):
        # Plain locals for the per-house loop (each ORM attribute read is a descriptor call; 400,000 add up).
        need = 5 + k
        area_at = 3 if item.rule == "inner_area" else 2
        rounding, prorate, fixed, amount_fen = (
            item.rounding,
            item.prorate,
            item.rule == "fixed",
            item.amount_fen,
        )
        pn, pd = Decimal(item.unit_price).as_integer_ratio()
        unit = format_fen(amount_fen, symbol=False) if fixed else item.unit_price
        due = (start if item.billing_mode == "advance" else end) + timedelta(days=item.due_days)
        iid, start_raw, end_raw, due_raw = b.id(item.id), b.date(start), b.date(end), b.date(due)
        full = rules.month_fraction(start, end, None, None)
        # The whole-span charge depends only on the area (or nothing, for a fixed fee): computed once per value.
        full_gross: dict[int | None, tuple[int, str]] = {}
        for row in rows:
            if not row[need]:
                continue
            charge_from = row[4]
            if prorate and charge_from > start_raw:  # moved in after the span began: prorated by day
                line_start = _as_date(charge_from)
                months = rules.month_fraction(start, end, line_start, None)
                if fixed:
                    gross = round_ratio(amount_fen * months.numerator, months.denominator, rounding)
                    qty = f"{months.numerator / months.denominator:.4g}"
                else:
                    area = row[area_at]
                    gross = round_ratio(area * pn * months.numerator, pd * months.denominator, rounding)
                    qty = f"{area // 100}.{area % 100:02d}"
                append((row[0], row[1], community_raw, iid, "", b.date(line_start), end_raw, qty, unit, gross, 0,
                        due, due_raw))  # fmt: skip
                continue
            key = None if fixed else row[area_at]
            got = full_gross.get(key)
            if got is None:
                if fixed:
                    got = (round_ratio(amount_fen * full.numerator, full.denominator, rounding),
                           f"{full.numerator / full.denominator:.4g}")  # fmt: skip
                else:
                    got = (round_ratio(key * pn * full.numerator, pd * full.denominator, rounding),
                           f"{key // 100}.{key % 100:02d}")  # fmt: skip
                full_gross[key] = got
            append(
                (
                    row[0],
                    row[1],
                    community_raw,
                    iid,
                    "",
                    start_raw,
                    end_raw,
                    got[1],
                    unit,
                    got[0],
                    0,
                    due,
                    due_raw,
                )
            )
    return lines


def _meter_lines(s: Session, community: Community, item: FeeItem, p: rules.Period, b: _Binds) -> list[tuple]:
    """Lines for the period's meter readings of `item`'s kind not yet billed; yearly tiers count the year so far."""
    rows = s.execute(
        sql_text(
            "SELECT r.house_id, h.building_id, r.previous_milli, r.current_milli FROM prop_meter_readings r "
            "JOIN prop_houses h ON h.id = r.house_id WHERE h.community_id = :community AND r.meter_kind = :kind "
            "AND r.period = :period AND NOT EXISTS (SELECT 1 FROM prop_bill_lines l WHERE l.house_id = r.house_id "
            "AND l.fee_item_id = :item AND l.period = :period AND l.source_ref = '')"
        ),
        {"community": b.id(community.id), "kind": item.meter_kind, "period": str(p), "item": b.id(item.id)},
    ).all()
    if not rows:
        return []
    tiers = rules.parse_tiers(item.tiers)
    used_before: dict[object, int] = {}
    if tiers and item.tier_scope == "year":
        used_before = dict(
            s.execute(
                sql_text(
                    "SELECT r.house_id, SUM(r.current_milli - r.previous_milli) FROM prop_meter_readings r "
                    "JOIN prop_houses h ON h.id = r.house_id WHERE h.community_id = :community "
                    "AND r.meter_kind = :kind AND r.period >= :first AND r.period < :period GROUP BY r.house_id"
                ),
                {
                    "community": b.id(community.id),
                    "kind": item.meter_kind,
                    "first": f"{p.year:04d}-01",
                    "period": str(p),
                },
            ).all()
        )
    price = Decimal(item.unit_price)
    due = p.last_day + timedelta(days=item.due_days)
    community_raw, iid, start_raw, end_raw, due_raw = (
        b.id(community.id), b.id(item.id), b.date(p.first_day), b.date(p.last_day), b.date(due),
    )  # fmt: skip
    unit = "阶梯" if tiers else item.unit_price
    lines = []
    for house, building, prev, cur in rows:
        usage = cur - prev
        gross = rules.usage_charge(usage, price, tiers, int(used_before.get(house) or 0), item.rounding)
        lines.append((house, building, community_raw, iid, "", start_raw, end_raw, f"{usage / 1000:g}", unit,
                      gross, 0, due, due_raw))  # fmt: skip
    return lines


def _parking_lines(
    s: Session, community: Community, item: FeeItem, p: rules.Period, b: _Binds
) -> list[tuple]:
    """Parking rentals billed through the parking package's billable_rentals, if it is installed."""
    try:
        from core.property.parking.services import billable_rentals
    except ImportError:
        return []
    charges = billable_rentals(s, community.id, str(p))
    if not charges:
        return []
    done = {
        r[0]
        for r in s.execute(
            select(BillLine.source_ref).where(BillLine.fee_item_id == item.id, BillLine.period == str(p))
        ).all()
    }
    houses = dict(
        s.execute(select(House.id, House.building_id).where(House.community_id == community.id)).all()
    )
    lines = []
    for c in charges:
        ref = str(c.contract_id)
        if ref in done or c.house_id not in houses:
            continue
        months = rules.month_fraction(p.first_day, p.last_day, c.start, c.end)
        if months <= 0:
            continue
        gross = rules.round_ratio(c.monthly_fee_fen * months.numerator, months.denominator, item.rounding)
        lines.append(
            _line(b, c.house_id, houses[c.house_id], community.id, item, ref, max(p.first_day, c.start),
                  min(p.last_day, c.end) if c.end else p.last_day, f"{months.numerator / months.denominator:.4g}",
                  format_fen(c.monthly_fee_fen, symbol=False), gross, p.first_day + timedelta(days=item.due_days))
        )  # fmt: skip
    return lines


def _collect_lines(
    s: Session, p: rules.Period, community_id: uuid.UUID | None
) -> tuple[list[tuple], dict[object, FeeItem]]:
    """The lines a run for `p` would create, and the fee items they charge (by raw id)."""
    b = _Binds(s)
    q = select(Community).order_by(Community.code)
    if community_id is not None:
        q = q.where(Community.id == community_id)
    communities = s.execute(q).scalars().all()
    if community_id is not None and not communities:
        raise NotFound(N_("There is no community {id}."), id=str(community_id))
    lines: list[tuple] = []
    items_by_raw: dict[object, FeeItem] = {}
    for c in communities:
        items = fee_standards.items_in_force(s, c.id, str(p))  # each with the standard in force for p
        items_by_raw.update((b.id(i.id), i) for i in items)
        periodic = [i for i in items if i.rule in _PERIODIC_RULES and i.code != PARKING_ITEM_CODE]
        found = _periodic_lines(s, c, periodic, p, b)
        for item in items:
            if item.rule == "meter":
                found += _meter_lines(s, c, item, p, b)
            elif item.code == PARKING_ITEM_CODE:
                found += _parking_lines(s, c, item, p, b)
        discounts = _discounts(s, c.id, str(p), b)
        if discounts:
            found = [_discounted(line, discounts) for line in found]
        lines += found
    return lines, items_by_raw


def bill_run(
    ctx: Context, period: str, *, community_id: uuid.UUID | None = None, dry_run: bool = False
) -> BillRunResult:
    """Generate the period's bills for every chargeable house, meter reading and parking rental (出账).

    Idempotent: (house, item, period, source) is charged once, so a second run creates nothing. A dry run
    computes the same result and writes nothing. Receivables are posted in bulk, one entry per community
    and item; the run has one audit record; bills travel to the hub in chunked events.
    """
    p = rules.Period.parse(period)
    if dry_run:
        ctx.require(PERM_BILLING)
        with ctx.read() as s, gc_paused():
            lines, _items = _collect_lines(s, p, community_id)
        return BillRunResult(
            str(p),
            len({line[_HOUSE] for line in lines}),
            len(lines),
            sum(line[_GROSS] - line[_DISCOUNT] for line in lines),
        )
    # The run builds hundreds of thousands of short-lived tuples: the cycle collector would walk them again
    # and again for nothing (reference counting frees them).
    with ctx.uow(PERM_BILLING) as uow, gc_paused():
        lines, items = _collect_lines(uow.session, p, community_id)
        if not lines:
            return BillRunResult(str(p), 0, 0, 0)
        return _write_run(uow, p, community_id, lines, items)


_BILL_COLUMNS = ("id", "bill_no", "run_id", "community_id", "building_id", "house_id", "period", "bill_date",
                 "due_date", "amount_fen", "paid_fen", "waived_fen", "status", "created_at")  # fmt: skip
_LINE_COLUMNS = ("id", "bill_id", "house_id", "fee_item_id", "period", "source_ref", "period_start", "period_end",
                 "quantity", "unit_price", "gross_fen", "discount_fen", "amount_fen", "paid_fen", "waived_fen",
                 "due_date")  # fmt: skip


def _by_house(lines: list[tuple]) -> tuple[list[tuple], Counter]:
    """`lines` grouped by house, the houses in the order they first appear (a stable sort by that order), and
    each house's line count in the same order. Done with C-level map/sort: no Python step per line."""
    houses = list(map(_HOUSE_OF, lines))
    counts = Counter(houses)  # insertion ordered: houses by first appearance
    rank = {house: n for n, house in enumerate(counts)}
    order = list(map(rank.__getitem__, houses))
    if any(map(gt, order, islice(order, 1, None))):  # not grouped yet (periodic lines come item by item)
        lines = list(map(lines.__getitem__, sorted(range(len(lines)), key=order.__getitem__)))
    return lines, counts


def _write_run(
    uow: UnitOfWork,
    p: rules.Period,
    community_id: uuid.UUID | None,
    lines: list[tuple],
    items: dict[object, FeeItem],
) -> BillRunResult:
    s = uow.session
    ctx = uow.ctx
    period = str(p)
    bill_day = today(ctx.clock)
    # The receivables: one entry per community and fee item (the bill lines are the sub-ledger behind 1122).
    # Lines come in runs of one item, so the sums are taken a run at a time.
    per_item: dict[tuple[object, object], int] = defaultdict(int)
    for key, run in groupby(lines, _ITEM_OF):
        got = list(run)
        per_item[key] += sum(map(_GROSS_OF, got)) - sum(map(_DISCOUNT_OF, got))
    total = sum(per_item.values())
    lines, counts = _by_house(lines)
    bills = len(counts)
    run_id = new_id()
    s.add(BillRun(
        id=run_id, period=period, community_id=community_id, bills_created=bills,
        lines_created=len(lines), amount_fen=total, created_by=ctx.actor.username, created_at=uow.now,
    ))  # fmt: skip
    s.flush()
    year = bill_day.year
    first_no = sequences.take(s, f"doc:{BILL_NO_KIND}:{year}", bills)
    prefix = f"{ctx.site.code}-{BILL_NO_KIND}{year}-"
    b = _Binds(s)
    bnow = binder(s, _BILLS.c.created_at)(uow.now)
    raw_run, bill_day_raw = b.id(run_id), b.date(bill_day)
    bill_ids = _fast_ids(s, bills)
    # The lines a column at a time (zip(*lines) transposes in C), then each line row zipped back together.
    (house_c, building_c, community_c, item_c, ref_c, start_c, end_c, qty_c, unit_c, gross_c, discount_c, due_c,
     due_raw_c) = zip(*lines, strict=True)  # fmt: skip
    net_c = list(map(sub, gross_c, discount_c))
    line_rows = list(zip(
        _fast_ids(s, len(lines)), chain.from_iterable(map(repeat, bill_ids, counts.values())), house_c, item_c,
        repeat(period), ref_c, start_c, end_c, qty_c, unit_c, gross_c, discount_c, net_c, repeat(0), repeat(0),
        due_raw_c,
    ))  # fmt: skip
    bill_rows = []
    add_bill = bill_rows.append
    events = []
    add_event = events.append
    hex_ids = binds_uuid_as_hex(s, _BILLS.c.house_id)
    no_json = encode_json_str(prefix)[:-1]  # '"<prefix>' (quoted as canonical JSON quotes it)
    at = 0
    for n, (house, k) in enumerate(counts.items()):
        end = at + k
        amount = sum(net_c[at:end]) if k > 1 else net_c[at]
        due_at = at
        if k > 1:
            due = min(due_c[at:end])
            due_at = due_c.index(due, at, end)
        bill_no = f"{prefix}{first_no + n:07d}"
        add_bill((bill_ids[n], bill_no, raw_run, community_c[at], building_c[at], house, period, bill_day_raw,
                  due_raw_c[due_at], amount, 0, 0, "paid" if amount == 0 else "unpaid", bnow))  # fmt: skip
        # The event's payload as canonical JSON text (sorted keys, no spaces): no 100,000 dicts to encode.
        house_text = (f"{house[:8]}-{house[8:12]}-{house[12:16]}-{house[16:20]}-{house[20:]}" if hex_ids
                      else str(house))  # fmt: skip
        add_event(f'{{"amount_fen":{amount},"bill_no":{no_json}{first_no + n:07d}","due_date":"{due_c[due_at].isoformat()}",'
                  f'"house_id":"{house_text}","period":"{period}"}}')  # fmt: skip
        at = end
    insert_rows(s, _BILLS, _BILL_COLUMNS, bill_rows)
    insert_rows(s, _LINES, _LINE_COLUMNS, line_rows)
    used = {items[iid] for _c, iid in per_item}
    _ensure_chart(uow, {(i.code, i.name, i.rule) for i in used})
    specs = [
        EntrySpec(BOOK, bill_day, f"物业账单 {p} {items[iid].name}",
                  [(ACC_RECEIVABLE, fen), (income_account(items[iid].code, items[iid].rule), -fen)],
                  doc_type="prop_bill_run", doc_id=str(run_id))
        for (_c, iid), fen in sorted(per_item.items(), key=lambda kv: (str(kv[0][0]), items[kv[0][1]].code))
        if fen > 0
    ]  # fmt: skip
    if specs:
        ledger.post_many_in(uow, specs)
    summary = {
        "period": period,
        "community_id": str(community_id) if community_id else None,
        "bills_created": bills,
        "lines_created": len(lines),
        "amount_fen": total,
        "first_bill_no": bill_rows[0][1],
        "last_bill_no": bill_rows[-1][1],
    }
    uow.audit("property.bill_run", "prop_bill_run", run_id, after=summary)
    uow.emit("property.bill_run", {"id": str(run_id), **summary})
    run_json = encode_json_str(str(run_id))
    uow.emit_encoded(
        "property.bills_created",
        [
            f'{{"bills":[{",".join(events[i : i + EVENT_CHUNK])}],"run_id":{run_json}}}'
            for i in range(0, len(events), EVENT_CHUNK)
        ],
    )
    _settle_from_prepaid_in(uow, list(counts))
    return BillRunResult(period, bills, len(lines), total)


def charge_once(
    ctx: Context,
    house_id: uuid.UUID,
    item_code: str,
    *,
    period: str | None = None,
    quantity: str | Decimal | None = None,
    amount_fen: int | None = None,
) -> uuid.UUID:
    """Charge a one-off, deposit or usage item to a house (装修保证金, a usage × price service); returns the bill id."""
    with ctx.uow(PERM_BILLING) as uow:
        s = uow.session
        house = _get(s, House, house_id, "house")
        item = fee_item_by_code(s, house.community_id, item_code)
        if item.rule not in _ONCE_RULES:
            raise ValidationError(N_("Fee item {code} is charged by bill runs, not once."), code=item.code)
        on = today(ctx.clock)
        p = rules.Period.parse(period) if period else rules.period_of(on)
        item = fee_standards.billable_standard(s, item, str(p))
        qty = ""
        if item.rule == "usage":
            if quantity is None:
                raise ValidationError(N_("Enter the quantity used."), field="quantity")
            q = rules.decimal(quantity, "quantity", max_value=Decimal(10**9))
            gross = rules.round_fen(Fraction(q) * Fraction(Decimal(item.unit_price)) * 100, item.rounding)
            qty = str(q)
        else:
            gross = amount_fen if amount_fen is not None else item.amount_fen
            if isinstance(gross, bool) or not isinstance(gross, int) or not 0 < gross <= PAYMENT_FEN_MAX:
                raise ValidationError(N_("The amount must be greater than 0."), field="amount_fen")
        ref = str(new_id())
        b = _Binds(s)
        line = _line(b, house.id, house.building_id, house.community_id, item, ref, on, on, qty,
                     item.unit_price if item.rule == "usage" else format_fen(gross, symbol=False), gross,
                     on + timedelta(days=item.due_days))  # fmt: skip
        _write_run(uow, p, house.community_id, [line], {b.id(item.id): item})
        return s.execute(select(BillLine.bill_id).where(BillLine.source_ref == ref)).scalar_one()


# ---------------------------------------------------------------------------------------------------------
# Bills, outstanding lines, late fees


@dataclass(frozen=True)
class LineView:
    id: uuid.UUID
    bill_id: uuid.UUID
    bill_no: str
    item_code: str
    item_name: str
    period: str
    period_start: date
    period_end: date
    quantity: str
    unit_price: str
    gross_fen: int
    discount_fen: int
    amount_fen: int
    paid_fen: int
    waived_fen: int
    due_date: date

    @property
    def outstanding_fen(self) -> int:
        return self.amount_fen - self.paid_fen - self.waived_fen


@dataclass(frozen=True)
class BillView:
    id: uuid.UUID
    bill_no: str
    house_id: uuid.UUID
    period: str
    bill_date: date
    due_date: date
    amount_fen: int
    paid_fen: int
    waived_fen: int
    status: str


def _line_query():
    return (
        select(BillLine, Bill.bill_no, FeeItem.code, FeeItem.name)
        .join(Bill, Bill.id == BillLine.bill_id)
        .join(FeeItem, FeeItem.id == BillLine.fee_item_id)
    )


def _line_view(row) -> LineView:
    ln, bill_no, code, name = row
    return LineView(
        ln.id, ln.bill_id, bill_no, code, name, ln.period, ln.period_start, ln.period_end, ln.quantity,
        ln.unit_price, ln.gross_fen, ln.discount_fen, ln.amount_fen, ln.paid_fen, ln.waived_fen, ln.due_date,
    )  # fmt: skip


def _outstanding_lines(
    s: Session, house_id: uuid.UUID, bill_ids: Sequence[uuid.UUID] | None = None
) -> list[LineView]:
    """Unsettled lines of a house, oldest first (due date, period, bill number, item)."""
    q = _line_query().where(
        BillLine.house_id == house_id, BillLine.amount_fen > BillLine.paid_fen + BillLine.waived_fen
    )
    if bill_ids:
        q = q.where(BillLine.bill_id.in_(list(bill_ids)))
    q = q.order_by(BillLine.due_date, BillLine.period, Bill.bill_no, FeeItem.code)
    return [_line_view(r) for r in s.execute(q).all()]


def house_bills(ctx: Context, house_id: uuid.UUID, *, unpaid_only: bool = False) -> list[BillView]:
    with ctx.read(PERM_VIEW) as s:
        q = select(Bill).where(Bill.house_id == house_id)
        if unpaid_only:
            q = q.where(Bill.status.in_(("unpaid", "partially_paid")))
        rows = s.execute(q.order_by(Bill.due_date, Bill.bill_no)).scalars()
        return [
            BillView(
                b.id,
                b.bill_no,
                b.house_id,
                b.period,
                b.bill_date,
                b.due_date,
                b.amount_fen,
                b.paid_fen,
                b.waived_fen,
                b.status,
            )
            for b in rows
        ]


def bill_lines(ctx: Context, bill_id: uuid.UUID) -> list[LineView]:
    with ctx.read(PERM_VIEW) as s:
        bill = _get(s, Bill, bill_id, "bill")
        # Lines are reached through the house (the unique index leads with house_id; no bill_id index to keep up).
        q = _line_query().where(BillLine.house_id == bill.house_id, BillLine.bill_id == bill.id)
        return [_line_view(r) for r in s.execute(q.order_by(FeeItem.code)).all()]


def outstanding(ctx: Context, house_id: uuid.UUID) -> list[LineView]:
    """The house's unsettled bill lines, oldest first."""
    with ctx.read(PERM_VIEW) as s:
        return _outstanding_lines(s, house_id)


def _line_late_fees(
    s: Session, lines: Sequence[LineView], items: dict[str, FeeItem], as_of: date
) -> dict[uuid.UUID, int]:
    """违约金 of each line to `as_of` net of approved waivers (lines without one are left out).

    The waivers are looked up once for the lines that have a fee at all: paying on time costs no query.
    """
    fees = {}
    for ln in lines:
        item = items[ln.item_code]
        fee = rules.late_fee(
            ln.outstanding_fen, ln.due_date, as_of, Decimal(item.late_daily_rate), item.late_grace_days,
            item.late_cap_fen,
        )  # fmt: skip
        if fee > 0:
            fees[ln.id] = fee
    if not fees:
        return {}
    # int(): PostgreSQL's SUM of a bigint is numeric.
    waived = dict(
        s.execute(
            select(LateFeeWaiver.bill_line_id, func.sum(LateFeeWaiver.amount_fen))
            .where(
                LateFeeWaiver.bill_line_id.in_(list(fees)),
                LateFeeWaiver.status == "approved",
                LateFeeWaiver.as_of <= as_of,
            )
            .group_by(LateFeeWaiver.bill_line_id)
        ).all()
    )
    out = {line_id: fee - int(waived.get(line_id) or 0) for line_id, fee in fees.items()}
    return {line_id: fee for line_id, fee in out.items() if fee > 0}


def _items_by_code(s: Session, community_id: uuid.UUID) -> dict[str, FeeItem]:
    return {
        i.code: i for i in s.execute(select(FeeItem).where(FeeItem.community_id == community_id)).scalars()
    }


def late_fees(ctx: Context, house_id: uuid.UUID, as_of: date | None = None) -> dict[uuid.UUID, int]:
    """违约金 per unsettled bill line of a house, computed to `as_of` (default today), net of approved waivers."""
    as_of = as_of or today(ctx.clock)
    with ctx.read(PERM_VIEW) as s:
        house = _get(s, House, house_id, "house")
        return _line_late_fees(
            s, _outstanding_lines(s, house_id), _items_by_code(s, house.community_id), as_of
        )


def _set_line_paid(s: Session, line_id: uuid.UUID, expected_paid: int, new_paid: int) -> None:
    done = s.execute(
        update(BillLine)
        .where(BillLine.id == line_id, BillLine.paid_fen == expected_paid)
        .values(paid_fen=new_paid)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise StateError(N_("A bill changed while it was being settled; please try again."))


def _set_lines_paid(s: Session, changes: Sequence[tuple[uuid.UUID, int, int]]) -> None:
    """_set_line_paid for many lines in one compare-and-set UPDATE: (line id, expected paid, new paid)."""
    if len(changes) == 1:
        _set_line_paid(s, *changes[0])
        return
    if not changes:
        return
    done = s.execute(
        update(BillLine)
        .where(or_(*(and_(BillLine.id == i, BillLine.paid_fen == old) for i, old, _new in changes)))
        .values(
            paid_fen=case(
                {i: literal(new, _LINES.c.paid_fen.type) for i, _old, new in changes}, value=BillLine.id
            )
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != len(changes):
        raise StateError(N_("A bill changed while it was being settled; please try again."))


def _refresh_bills(s: Session, bill_ids: Iterable[uuid.UUID]) -> None:
    """Recompute amount, paid and status of bills from their lines (status follows the money, never set by hand)."""
    wanted = set(bill_ids)
    if not wanted:
        return
    # Lines are reached through the bill's house (the unique index leads with house_id; no bill_id index).
    sums = s.execute(
        select(
            Bill.id, func.sum(BillLine.amount_fen), func.sum(BillLine.paid_fen), func.sum(BillLine.waived_fen)
        )
        .join(BillLine, and_(BillLine.house_id == Bill.house_id, BillLine.bill_id == Bill.id))
        .where(Bill.id.in_(list(wanted)))
        .group_by(Bill.id)
    ).all()
    if len(sums) != len(wanted):
        raise StateError(N_("A bill changed while it was being settled; please try again."))
    changes = []
    for bill_id, amount, paid, waived in sums:
        amount, paid, waived = int(amount), int(paid), int(waived)
        if amount and waived == amount:
            status = "waived"
        elif paid + waived >= amount:
            status = "paid"
        elif paid + waived > 0:
            status = "partially_paid"
        else:
            status = "unpaid"
        changes.append(
            {"id": bill_id, "amount_fen": amount, "paid_fen": paid, "waived_fen": waived, "status": status}
        )
    # One executemany by primary key (the ORM's bulk UPDATE): one statement for all the bills.
    s.execute(update(Bill), changes, execution_options={"synchronize_session": False})


# ---------------------------------------------------------------------------------------------------------
# Prepaid accounts


def prepaid_balance(ctx: Context, house_id: uuid.UUID) -> int:
    with ctx.read(PERM_VIEW) as s:
        return (
            s.execute(
                select(PrepaidAccount.balance_fen).where(PrepaidAccount.house_id == house_id)
            ).scalar_one_or_none()
            or 0
        )


def _prepaid_change(s: Session, house_id: uuid.UUID, delta: int, kind: str, ref: str, now) -> None:
    row = s.get(PrepaidAccount, house_id)
    if row is None:
        if delta < 0:
            raise StateError(N_("The house has no prepaid balance."))
        s.add(PrepaidAccount(house_id=house_id, balance_fen=delta, updated_at=now))
    else:
        if row.balance_fen + delta < 0:
            raise StateError(
                N_("The house's prepaid balance ({balance}) is too small for this."),
                balance=format_fen(row.balance_fen),
            )
        done = s.execute(
            update(PrepaidAccount)
            .where(PrepaidAccount.house_id == house_id, PrepaidAccount.balance_fen == row.balance_fen)
            .values(balance_fen=row.balance_fen + delta, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise StateError(N_("The prepaid balance changed meanwhile; please try again."))
        s.expire(row)
    s.add(PrepaidMove(id=new_id(), house_id=house_id, amount_fen=delta, kind=kind, ref=ref, at=now))
    s.flush()


def _settle_from_prepaid_in(uow: UnitOfWork, raw_house_ids: Sequence[object]) -> int:
    """Settle unpaid lines of these houses from their prepaid balances, oldest first (Dr 2203 / Cr 1122)."""
    s = uow.session
    with_balance = s.execute(
        select(PrepaidAccount.house_id, PrepaidAccount.balance_fen).where(PrepaidAccount.balance_fen > 0)
    ).all()
    if not with_balance:
        return 0
    raw = _raw(s)
    wanted = set(raw_house_ids)
    total = 0
    for house_id, balance in with_balance:
        if raw(house_id) not in wanted:
            continue
        lines = _outstanding_lines(s, house_id)
        parts, _left = rules.settle_oldest_first(balance, [ln.outstanding_fen for ln in lines])
        used = sum(parts)
        if not used:
            continue
        for ln, part in zip(lines, parts, strict=True):
            if part:
                _set_line_paid(s, ln.id, ln.paid_fen, ln.paid_fen + part)
                s.add(
                    PaymentAllocation(
                        id=new_id(),
                        payment_id=None,
                        bill_line_id=ln.id,
                        amount_fen=part,
                        source="prepaid",
                        at=uow.now,
                    )
                )
        _refresh_bills(s, {ln.bill_id for ln, part in zip(lines, parts, strict=True) if part})
        _prepaid_change(s, house_id, -used, "deduct", "bill_run", uow.now)
        total += used
    if total:
        _ensure_chart(uow)
        ledger.post_in(
            uow,
            EntrySpec(
                BOOK,
                today(uow.ctx.clock),
                "预存款抵扣物业账单",
                [(ACC_PREPAID, total), (ACC_RECEIVABLE, -total)],
                doc_type="prop_prepaid",
            ),
        )
        uow.audit("property.prepaid_settle", "prop_prepaid", "bill_run", after={"amount_fen": total})
        uow.emit("property.prepaid_settled", {"amount_fen": total})
    return total


# ---------------------------------------------------------------------------------------------------------
# Payments and receipts


@dataclass(frozen=True)
class PaymentRecord:
    """Money received for a house: by the counter, or by the payment hub when an order succeeds.

    `reference` is the caller's idempotency key (the hub's out_trade_no, or a counter slip number).
    """

    house_id: uuid.UUID
    channel: str
    amount_fen: int
    reference: str


@dataclass(frozen=True)
class ReceiptLineView:
    line_no: int
    item_name: str
    period: str
    quantity: str
    unit_price: str
    amount_fen: int


@dataclass(frozen=True)
class ReceiptView:
    id: uuid.UUID
    receipt_no: str
    house_id: uuid.UUID
    house_code: str
    payer: str
    total_fen: int
    total_upper: str
    cashier: str
    channel: str
    status: str
    issued_at: object
    print_count: int
    copy_mark: str  # "补打" on a reprint, "作废" on a voided receipt, "" on the first print
    lines: tuple[ReceiptLineView, ...]


def _receipt_view(s: Session, r: Receipt) -> ReceiptView:
    lines = s.execute(
        select(ReceiptLine).where(ReceiptLine.receipt_id == r.id).order_by(ReceiptLine.line_no)
    ).scalars()
    code = s.execute(select(House.code).where(House.id == r.house_id)).scalar_one()
    mark = "作废" if r.status == "voided" else ("补打" if r.print_count > 1 else "")
    return ReceiptView(
        r.id, r.receipt_no, r.house_id, code, r.payer, r.total_fen, r.total_upper, r.cashier, r.channel, r.status,
        r.issued_at, r.print_count, mark,
        tuple(ReceiptLineView(ln.line_no, ln.item_name, ln.period, ln.quantity, ln.unit_price, ln.amount_fen) for ln in lines),
    )  # fmt: skip


def _check_record(record: PaymentRecord) -> PaymentRecord:
    if record.channel not in CHANNELS:
        raise ValidationError(
            N_("Unknown payment channel {channel}."), field="channel", channel=str(record.channel)
        )
    if (
        isinstance(record.amount_fen, bool)
        or not isinstance(record.amount_fen, int)
        or not 0 < record.amount_fen <= PAYMENT_FEN_MAX
    ):
        raise ValidationError(N_("The amount must be greater than 0."), field="amount_fen")
    ref = text(record.reference, "reference", REFERENCE_MAX)
    return PaymentRecord(record.house_id, record.channel, record.amount_fen, ref)


def settle_payment_in(
    uow: UnitOfWork,
    record: PaymentRecord,
    *,
    bill_ids: Sequence[uuid.UUID] | None = None,
    collect_late_fee: bool = False,
) -> ReceiptView:
    """Settle a house's bills with money received and issue the receipt (收据), inside the caller's transaction.

    Oldest lines first (or only those of `bill_ids`), partial payment allowed; with `collect_late_fee` a line's
    late fee is collected together with the payment that settles the whole line (never for a line the payment
    does not clear, which keeps accruing on what it still owes: so no day of late fee is ever charged twice). What is left goes to the house's prepaid account. Idempotent on
    `reference`: the same payment again returns the same receipt; other content under it is a Conflict.
    """
    record = _check_record(record)
    s = uow.session
    ctx = uow.ctx
    # The payment and its receipt in one query: a repeat (the hub's notice settled it first) needs both.
    found = s.execute(
        select(Payment, Receipt)
        .join(Receipt, Receipt.payment_id == Payment.id)
        .where(Payment.reference == record.reference)
    ).one_or_none()
    if found is not None:
        existing, existing_receipt = found
        if (existing.house_id, existing.channel, existing.amount_fen) != (
            record.house_id,
            record.channel,
            record.amount_fen,
        ):
            raise Conflict(
                N_("Payment reference {reference} was already used for another payment."),
                reference=record.reference,
            )
        return _receipt_view(s, existing_receipt)
    house = _get(s, House, record.house_id, "house")
    lines = _outstanding_lines(s, house.id, bill_ids)
    if bill_ids and not lines:
        raise StateError(N_("The chosen bills have nothing left to pay."))
    on = today(ctx.clock)
    late_total = 0
    if collect_late_fee:
        fees = _line_late_fees(s, lines, _items_by_code(s, house.community_id), on)
        late_total = rules.late_fees_collected(
            record.amount_fen, [(fees.get(ln.id, 0), ln.outstanding_fen) for ln in lines]
        )
    parts, left = rules.settle_oldest_first(
        record.amount_fen - late_total, [ln.outstanding_fen for ln in lines]
    )
    settled = sum(parts)
    assert settled + left + late_total == record.amount_fen, "a payment is spread exactly"
    paid = [(ln, part) for ln, part in zip(lines, parts, strict=True) if part]
    # The lines first, in one compare-and-set: a concurrent payment fails here before anything else is written.
    _set_lines_paid(s, [(ln.id, ln.paid_fen, ln.paid_fen + part) for ln, part in paid])
    payment_id = new_id()
    receipt_lines: list[ReceiptLineView] = []
    for ln, part in paid:
        span = (
            ln.period
            if ln.period_start.month == ln.period_end.month
            else f"{ln.period_start:%Y-%m}~{ln.period_end:%Y-%m}"
        )
        receipt_lines.append(
            ReceiptLineView(len(receipt_lines) + 1, ln.item_name, span, ln.quantity, ln.unit_price, part)
        )
    if late_total:
        receipt_lines.append(
            ReceiptLineView(len(receipt_lines) + 1, "违约金", on.isoformat(), "", "", late_total)
        )
    if left:
        _prepaid_change(s, house.id, left, "deposit", record.reference, uow.now)
        receipt_lines.append(ReceiptLineView(len(receipt_lines) + 1, "预存款", on.isoformat(), "", "", left))
    _refresh_bills(s, {ln.bill_id for ln, _part in paid})
    channel_account, channel_chart = _channel_chart(record.channel)
    _ensure_chart(uow, extra=channel_chart)
    postings = [(channel_account, record.amount_fen)]
    if settled:
        postings.append((ACC_RECEIVABLE, -settled))
    if late_total:
        postings.append((ACC_LATE_FEE, -late_total))
    if left:
        postings.append((ACC_PREPAID, -left))
    receipt_no = next_document_no(uow, RECEIPT_KIND, on.year)
    entry_id = ledger.post_in(
        uow,
        EntrySpec(
            BOOK,
            on,
            f"物业收费 {house.code} {receipt_no}",
            postings,
            doc_type="prop_receipt",
            doc_id=receipt_no,
        ),
    )
    s.add(Payment(
        id=payment_id, house_id=house.id, channel=record.channel, amount_fen=record.amount_fen,
        late_fee_fen=late_total, prepaid_fen=left, reference=record.reference, cashier=ctx.actor.username,
        received_at=uow.now, entry_id=entry_id,
    ))  # fmt: skip
    s.flush()  # the payment before its allocations and receipt (foreign keys); each list below is one executemany
    s.add_all([
        PaymentAllocation(id=i, payment_id=payment_id, bill_line_id=ln.id, amount_fen=part, source="payment", at=uow.now)
        for i, (ln, part) in zip(new_ids(len(paid)), paid, strict=True)
    ])  # fmt: skip
    receipt_id = new_id()
    receipt = Receipt(
        id=receipt_id, receipt_no=receipt_no, payment_id=payment_id, house_id=house.id, payer=payer_name(s, house.id),
        total_fen=record.amount_fen, total_upper=chinese_upper(record.amount_fen), cashier=ctx.actor.username,
        channel=record.channel, status="issued", print_count=1, issued_at=uow.now,
    )  # fmt: skip
    s.add(receipt)
    s.flush()
    s.add_all([
        ReceiptLine(receipt_id=receipt_id, line_no=rl.line_no, item_name=rl.item_name, period=rl.period,
                    quantity=rl.quantity, unit_price=rl.unit_price, amount_fen=rl.amount_fen)
        for rl in receipt_lines
    ])  # fmt: skip
    s.flush()
    payload = {
        "receipt_no": receipt_no,
        "house_id": str(house.id),
        "channel": record.channel,
        "amount_fen": record.amount_fen,
        "settled_fen": settled,
        "late_fee_fen": late_total,
        "prepaid_fen": left,
        "reference": record.reference,
    }
    uow.audit("property.payment", "prop_receipt", receipt_id, after=payload)
    uow.emit("property.payment_received", payload)
    # The view from what was just written (the same values _receipt_view would read back).
    return ReceiptView(
        receipt_id, receipt_no, house.id, house.code, receipt.payer, record.amount_fen, receipt.total_upper,
        receipt.cashier, record.channel, "issued", receipt.issued_at, 1, "", tuple(receipt_lines),
    )  # fmt: skip


def pay_at_counter(
    ctx: Context,
    house_id: uuid.UUID,
    amount_fen: int,
    channel: str = "cash",
    *,
    reference: str | None = None,
    bill_ids: Sequence[uuid.UUID] | None = None,
    collect_late_fee: bool = False,
) -> ReceiptView:
    """Take a payment at the counter (柜台收费) and issue its receipt."""
    record = PaymentRecord(house_id, channel, amount_fen, reference or f"CTR-{new_id().hex}")
    with ctx.uow(PERM_PAY) as uow:
        return settle_payment_in(uow, record, bill_ids=bill_ids, collect_late_fee=collect_late_fee)


def get_receipt(ctx: Context, receipt_id: uuid.UUID) -> ReceiptView:
    with ctx.read(PERM_VIEW) as s:
        return _receipt_view(s, _get(s, Receipt, receipt_id, "receipt"))


def reprint_receipt(ctx: Context, receipt_id: uuid.UUID) -> ReceiptView:
    """Print a receipt again: the copy is marked 补打 and the reprint is recorded."""
    with ctx.uow(PERM_PAY) as uow:
        s = uow.session
        r = _get(s, Receipt, receipt_id, "receipt")
        done = s.execute(
            update(Receipt).where(Receipt.id == r.id, Receipt.print_count == r.print_count)
            .values(print_count=r.print_count + 1).execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != 1:
            raise StateError(N_("The receipt changed meanwhile; please try again."))
        s.refresh(r)
        uow.audit(
            "property.receipt_reprint",
            "prop_receipt",
            r.id,
            after={"receipt_no": r.receipt_no, "print_count": r.print_count},
        )
        return _receipt_view(s, r)


def void_receipt(ctx: Context, receipt_id: uuid.UUID, reason: str) -> ReceiptView:
    """Void a receipt (作废): the number is kept, the ledger entry reversed, the bills and prepaid balance restored."""
    reason = text(reason, "reason", 400)
    with ctx.uow(PERM_VOID) as uow:
        s = uow.session
        r = _get(s, Receipt, receipt_id, "receipt")
        if r.status != "issued":
            raise StateError(N_("Receipt {no} is already void."), no=r.receipt_no)
        pay = s.get(Payment, r.payment_id)
        allocs = (
            s.execute(
                select(PaymentAllocation).where(
                    PaymentAllocation.payment_id == pay.id, PaymentAllocation.source == "payment"
                )
            )
            .scalars()
            .all()
        )
        if pay.prepaid_fen:
            _prepaid_change(s, pay.house_id, -pay.prepaid_fen, "reverse", r.receipt_no, uow.now)
        bills = set()
        for a in allocs:
            line = s.get(BillLine, a.bill_line_id)
            _set_line_paid(s, line.id, line.paid_fen, line.paid_fen - a.amount_fen)
            # A deposit line: what was refunded, kept or asked for must still be covered once this money is gone
            # (read after the line's compare-and-set, which a refund's reservation also locks first).
            dep = s.execute(select(Deposit).where(Deposit.bill_line_id == line.id)).scalar_one_or_none()
            if (
                dep is not None
                and dep.refunded_fen + dep.deducted_fen + dep.reserved_fen > line.paid_fen - a.amount_fen
            ):
                raise StateError(
                    N_(
                        "Receipt {no} paid a deposit that was since refunded, kept or asked back; it cannot be voided."
                    ),
                    no=r.receipt_no,
                )
            s.add(
                PaymentAllocation(
                    id=new_id(),
                    payment_id=pay.id,
                    bill_line_id=line.id,
                    amount_fen=-a.amount_fen,
                    source="reversal",
                    at=uow.now,
                )
            )
            bills.add(line.bill_id)
        _refresh_bills(s, bills)
        done = s.execute(
            update(Receipt).where(Receipt.id == r.id, Receipt.status == "issued")
            .values(status="voided", voided_at=uow.now, voided_by=ctx.actor.username, void_reason=reason)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != 1:
            raise StateError(N_("Receipt {no} is already void."), no=r.receipt_no)
        reversal = ledger.reverse_in(uow, pay.entry_id, f"作废收据 {r.receipt_no}: {reason}"[:200])
        s.execute(
            update(Receipt)
            .where(Receipt.id == r.id)
            .values(reversal_entry_id=reversal)
            .execution_options(synchronize_session=False)
        )
        s.refresh(r)
        payload = {"receipt_no": r.receipt_no, "reason": reason, "reversal_entry_id": str(reversal)}
        uow.audit("property.receipt_void", "prop_receipt", r.id, before={"status": "issued"}, after=payload)
        uow.emit("property.receipt_voided", payload)
        return _receipt_view(s, r)


# ---------------------------------------------------------------------------------------------------------
# Discounts and late-fee waivers (approved through core.workflow)


def _ensure_processes(ctx: Context) -> None:
    from core.workflow import services as wf

    for code, name in (
        (PROCESS_DISCOUNT, N_("Property fee discount")),
        (PROCESS_WAIVER, N_("Late fee waiver")),
    ):
        try:
            wf.get_process(ctx.as_actor(Actor.system("property")), code)
        except NotFound:
            wf.ensure_process(
                ctx.as_actor(Actor.system("property")),
                code,
                name,
                [{"role": "approver", "name": N_("Approve")}],
            )


@dataclass(frozen=True)
class DiscountView:
    id: uuid.UUID
    kind: str
    house_id: uuid.UUID | None
    fee_item_id: uuid.UUID
    rate_off: str
    reduction_fen: int
    period_from: str
    period_to: str
    status: str
    approval_id: uuid.UUID | None


def _discount_view(d: Discount) -> DiscountView:
    return DiscountView(
        d.id,
        d.kind,
        d.house_id,
        d.fee_item_id,
        d.rate_off,
        d.reduction_fen,
        d.period_from,
        d.period_to,
        d.status,
        d.approval_id,
    )


def request_discount(
    ctx: Context,
    fee_item_id: uuid.UUID,
    kind: str,
    *,
    house_id: uuid.UUID | None = None,
    rate_off: str | Decimal = "0",
    reduction_fen: int = 0,
    period_from: str,
    period_to: str | None = None,
    reason: str,
) -> DiscountView:
    """Ask for a discount (优惠); once approved by someone else (maker-checker) it reduces the bills of its
    periods already issued and still owed (apply_discount_to_bills_in) and those the bill runs issue later.

    percentage: `rate_off` of each charge; reduction: `reduction_fen` off each charge; free_months: the
    periods from..to are free; vacancy: `rate_off` for a house that is vacant (空置房); prepay_year: `rate_off`
    over the twelve prepaid months from `period_from`.
    """
    from core.workflow import services as wf

    reason = text(reason, "reason", 400)
    p_from = rules.Period.parse(period_from)
    # A prepay-a-year discount covers the twelve months paid for; the others run from..to (default one month).
    p_to = (
        p_from.add(11) if kind == "prepay_year" else (rules.Period.parse(period_to) if period_to else p_from)
    )
    if p_to < p_from:
        raise ValidationError(N_("The discount ends before it starts."), field="period_to")
    if kind not in ("percentage", "reduction", "free_months", "vacancy", "prepay_year"):
        raise ValidationError(N_("Unknown discount kind {kind}."), field="kind", kind=str(kind))
    rate = rules.decimal(rate_off, "rate_off", max_value=Decimal(1))
    if kind in ("percentage", "vacancy", "prepay_year") and rate <= 0:
        raise ValidationError(N_("A discount rate is between 0 and 1."), field="rate_off")
    if kind == "reduction" and (not isinstance(reduction_fen, int) or reduction_fen <= 0):
        raise ValidationError(N_("A reduction needs an amount above 0."), field="reduction_fen")
    if kind in ("vacancy", "prepay_year", "free_months") and house_id is None:
        raise ValidationError(N_("This discount is for one house; choose the house."), field="house_id")
    _ensure_processes(ctx)
    with ctx.uow(PERM_DISCOUNT) as uow:
        s = uow.session
        item = _get(s, FeeItem, fee_item_id, "fee item")
        if house_id is not None:
            house = _get(s, House, house_id, "house")
            if house.community_id != item.community_id:
                raise ValidationError(
                    N_("The house and the fee item belong to different communities."), field="house_id"
                )
            if kind == "vacancy" and house.status != "vacant":
                raise StateError(N_("A vacancy rate needs the house to be recorded as vacant."))
        d = Discount(
            id=new_id(), community_id=item.community_id, house_id=house_id, fee_item_id=item.id, kind=kind,
            rate_off=str(rate), reduction_fen=reduction_fen if kind == "reduction" else 0, period_from=str(p_from),
            period_to=str(p_to), reason=reason, status="pending", created_by=ctx.actor.username, created_at=uow.now,
        )  # fmt: skip
        s.add(d)
        s.flush()
        inst = wf.submit(
            ctx, PROCESS_DISCOUNT, object_type="prop_discount", object_id=str(d.id),
            title=f"{item.name} {kind} {p_from}~{p_to}", payload={"kind": kind, "rate_off": str(rate), "reduction_fen": d.reduction_fen},
        )  # fmt: skip
        d.approval_id = inst.id
        s.flush()
        view = _discount_view(d)
        uow.audit(
            "property.discount_request",
            "prop_discount",
            d.id,
            after={"kind": kind, "item": item.code, "from": str(p_from), "to": str(p_to), "reason": reason},
        )
        return view


def _decide(model: type, status: str, event: str):
    def handler(ctx: Context, uow: UnitOfWork, inst) -> None:
        s = uow.session
        done = s.execute(
            update(model).where(model.id == uuid.UUID(inst.object_id), model.status == "pending")
            .values(status=status).execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != 1:
            raise StateError(N_("This request was already decided."))
        uow.audit(event, model.__tablename__, inst.object_id, after={"status": status})
        uow.emit(event, {"id": inst.object_id, "status": status})

    return handler


_approve_discount = _decide(Discount, "approved", "property.discount_approved")


def _discount_approved(ctx: Context, uow: UnitOfWork, inst) -> None:
    """An approved discount takes effect on the bills already issued (still owed) as well as on later runs."""
    _approve_discount(ctx, uow, inst)
    apply_discount_to_bills_in(uow, uuid.UUID(inst.object_id))


def apply_discount_to_bills_in(uow: UnitOfWork, discount_id: uuid.UUID) -> tuple[int, int]:
    """Reduce the existing bill lines an approved discount covers; returns (lines reduced, fen taken off).

    Covered: lines of the discount's fee item and periods (of its house, or of every house of the community)
    that carry no discount yet and are still owed. A fully paid line is left alone (money already received
    is not handed back by a discount: that is a refund); a partly paid line is reduced by at most what it
    still owes. The receivable goes down with the income it was booked to: Dr 6001.<item> / Cr 1122.
    """
    s = uow.session
    d = s.execute(select(Discount).where(Discount.id == discount_id)).scalar_one()
    if d.status != "approved":
        raise StateError(N_("Only an approved discount can be applied."))
    item = s.get(FeeItem, d.fee_item_id)
    houses = (
        [d.house_id]
        if d.house_id
        else select(House.id).where(House.community_id == d.community_id).scalar_subquery()
    )
    rows = s.execute(
        select(BillLine.id, BillLine.bill_id, BillLine.gross_fen, BillLine.amount_fen, BillLine.paid_fen,
               BillLine.waived_fen)
        .where(BillLine.house_id.in_(houses), BillLine.fee_item_id == d.fee_item_id,
               BillLine.period >= d.period_from, BillLine.period <= d.period_to, BillLine.discount_fen == 0,
               BillLine.amount_fen > BillLine.paid_fen + BillLine.waived_fen)
        .order_by(BillLine.period, BillLine.house_id)
    ).all()  # fmt: skip
    rate = Decimal(d.rate_off)
    total = reduced = 0
    bills = set()
    for line_id, bill_id, gross, amount, paid, waived in rows:
        off = min(rules.discount_fen(gross, d.kind, rate, d.reduction_fen), amount - paid - waived)
        if off <= 0:
            continue
        done = s.execute(
            update(BillLine)
            .where(BillLine.id == line_id, BillLine.discount_fen == 0, BillLine.paid_fen == paid,
                   BillLine.waived_fen == waived)
            .values(discount_fen=off, amount_fen=amount - off)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if done.rowcount != 1:
            raise StateError(N_("A bill changed while it was being settled; please try again."))
        total += off
        reduced += 1
        bills.add(bill_id)
    if not total:
        return 0, 0
    _refresh_bills(s, bills)
    _ensure_chart(uow, [(item.code, item.name, item.rule)])
    ledger.post_in(
        uow,
        EntrySpec(
            BOOK,
            today(uow.ctx.clock),
            f"物业优惠 {item.name} {d.period_from}~{d.period_to}",
            [(income_account(item.code, item.rule), total), (ACC_RECEIVABLE, -total)],
            doc_type="prop_discount",
            doc_id=str(d.id),
        ),
    )
    payload = {"discount_id": str(d.id), "item": item.code, "lines": reduced, "amount_fen": total}
    uow.audit("property.discount_applied", "prop_discount", d.id, after=payload)
    uow.emit("property.discount_applied", payload)
    return reduced, total


def request_late_fee_waiver(
    ctx: Context, bill_line_id: uuid.UUID, reason: str, as_of: date | None = None
) -> uuid.UUID:
    """Ask to waive the late fee of a bill line accrued up to `as_of` (default today); effective once approved."""
    from core.workflow import services as wf

    reason = text(reason, "reason", 400)
    as_of = as_of or today(ctx.clock)
    _ensure_processes(ctx)
    with ctx.uow(PERM_WAIVE) as uow:
        s = uow.session
        row = s.execute(_line_query().where(BillLine.id == bill_line_id)).one_or_none()
        if row is None:
            raise NotFound(N_("There is no bill line {id}."), id=str(bill_line_id))
        line = _line_view(row)
        item = s.get(FeeItem, row[0].fee_item_id)
        fee = _line_late_fees(s, [line], {line.item_code: item}, as_of).get(line.id, 0)
        if fee <= 0:
            raise StateError(N_("This bill line has no late fee to waive."))
        w = LateFeeWaiver(
            id=new_id(),
            bill_line_id=line.id,
            amount_fen=fee,
            as_of=as_of,
            reason=reason,
            status="pending",
            created_by=ctx.actor.username,
            created_at=uow.now,
        )
        s.add(w)
        s.flush()
        inst = wf.submit(
            ctx,
            PROCESS_WAIVER,
            object_type="prop_late_fee_waiver",
            object_id=str(w.id),
            title=f"违约金减免 {line.bill_no}",
            amount_fen=fee,
        )
        w.approval_id = inst.id
        s.flush()
        uow.audit(
            "property.late_fee_waiver_request",
            "prop_late_fee_waiver",
            w.id,
            after={"line": str(line.id), "amount_fen": fee, "as_of": as_of.isoformat(), "reason": reason},
        )
        return w.id


def _register_handlers() -> None:
    from core.workflow.services import register_handler

    register_handler(
        PROCESS_DISCOUNT,
        on_approved=_discount_approved,
        on_rejected=_decide(Discount, "rejected", "property.discount_rejected"),
    )
    register_handler(
        PROCESS_WAIVER,
        on_approved=_decide(LateFeeWaiver, "approved", "property.late_fee_waived"),
        on_rejected=_decide(LateFeeWaiver, "rejected", "property.late_fee_waiver_rejected"),
    )


_register_handlers()


# ---------------------------------------------------------------------------------------------------------
# Arrears and statistics


@dataclass(frozen=True)
class ArrearsView:
    """欠费: what is overdue as of a date, by ageing bucket (days past the due date)."""

    as_of: date
    houses: int
    total_fen: int
    buckets: dict[str, int]


def arrears(
    ctx: Context,
    *,
    community_id: uuid.UUID | None = None,
    building_id: uuid.UUID | None = None,
    house_id: uuid.UUID | None = None,
    as_of: date | None = None,
) -> ArrearsView:
    """Overdue amounts (past their due date, unsettled) of a house, building or community, by ageing bucket."""
    as_of = as_of or today(ctx.clock)
    if not (community_id or building_id or house_id):
        raise ValidationError(N_("Choose a community, a building or a house."), field="scope")
    conds = [Bill.status.in_(("unpaid", "partially_paid")), Bill.due_date < as_of]
    if community_id:
        conds.append(Bill.community_id == community_id)
    if building_id:
        conds.append(Bill.building_id == building_id)
    if house_id:
        conds.append(Bill.house_id == house_id)
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(
            select(Bill.due_date, func.sum(Bill.amount_fen - Bill.paid_fen - Bill.waived_fen), func.count(func.distinct(Bill.house_id)))
            .where(and_(*conds)).group_by(Bill.due_date)
        ).all()  # fmt: skip
        houses = s.execute(select(func.count(func.distinct(Bill.house_id))).where(and_(*conds))).scalar_one()
    buckets = dict.fromkeys(rules.AGEING_LABELS, 0)
    for due, owed, _n in rows:
        buckets[rules.ageing_bucket((as_of - _as_date(due)).days)] += int(owed or 0)
    return ArrearsView(as_of, houses, sum(buckets.values()), buckets)


@dataclass(frozen=True)
class CollectionRow:
    """应收/实收/欠费 of one group (community, building or fee item) for the periods asked, and the collection rate."""

    key: str
    name: str
    receivable_fen: int
    received_fen: int
    outstanding_fen: int
    waived_fen: int
    collection_rate: Decimal


def collection_stats(
    ctx: Context,
    period_from: str,
    period_to: str,
    *,
    by: str = "community",
    community_id: uuid.UUID | None = None,
) -> list[CollectionRow]:
    """Receivable, received, outstanding and the collection rate (收缴率 = received / receivable) per group."""
    p_from, p_to = rules.Period.parse(period_from), rules.Period.parse(period_to)
    from core.property.models import Building

    group = {
        "community": (Community.code, Community.name, BillLine.__table__.c.house_id),
        "building": (Building.number, Building.name, None),
        "fee_item": (FeeItem.code, FeeItem.name, None),
    }
    if by not in group:
        raise ValidationError(N_("Group by community, building or fee_item."), field="by")
    key_col, name_col, _ = group[by]
    q = (
        select(key_col, name_col, func.sum(BillLine.amount_fen), func.sum(BillLine.paid_fen), func.sum(BillLine.waived_fen))
        .select_from(BillLine)
        .join(Bill, Bill.id == BillLine.bill_id)
        .join(FeeItem, FeeItem.id == BillLine.fee_item_id)
        .join(Community, Community.id == Bill.community_id)
        .join(Building, Building.id == Bill.building_id)
        .where(BillLine.period >= str(p_from), BillLine.period <= str(p_to))
        .group_by(key_col, name_col)
        .order_by(key_col)
    )  # fmt: skip
    if community_id:
        q = q.where(Bill.community_id == community_id)
    with ctx.read(PERM_VIEW) as s:
        rows = s.execute(q).all()
    out = []
    for key, name, amount, paid, waived in rows:
        amount, paid, waived = int(amount or 0), int(paid or 0), int(waived or 0)
        rate = (Decimal(paid) / Decimal(amount)).quantize(Decimal("0.0001")) if amount else Decimal(0)
        out.append(CollectionRow(str(key), name or "", amount, paid, amount - paid - waived, waived, rate))
    return out


def prepaid_total(ctx: Context, community_id: uuid.UUID | None = None) -> int:
    """预收: the prepaid balances held (of one community, or all)."""
    with ctx.read(PERM_VIEW) as s:
        q = select(func.coalesce(func.sum(PrepaidAccount.balance_fen), 0))
        if community_id:
            q = q.join(House, House.id == PrepaidAccount.house_id).where(House.community_id == community_id)
        return int(s.execute(q).scalar_one())
