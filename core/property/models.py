"""Property tables: the base data (communities, buildings, units, houses, owners, occupants, facilities), fee
items, meter readings, bill runs with bills and lines, discounts, late-fee waivers, prepaid accounts, payments
and receipts. Areas are integer dm² (0.01 m²), money integer fen, prices and rates Decimal text.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, JSONType, UTCDateTime

HOUSE_STATUSES = ("unsold", "vacant", "occupied", "renovating")
OWNER_KINDS = ("individual", "company")
RELATIONS = ("owner", "family", "tenant")
FEE_RULES = ("fixed", "building_area", "inner_area", "meter", "usage", "one_off", "deposit")
FEE_CYCLES = ("monthly", "quarterly", "half_yearly", "yearly", "once")
BILLING_MODES = ("advance", "arrears")
ROUNDINGS = ("half_up_fen", "down_fen", "half_up_jiao")
METER_KINDS = ("water", "electricity", "gas")
BILL_STATUSES = ("unpaid", "partially_paid", "paid", "waived")
DISCOUNT_KINDS = ("percentage", "reduction", "free_months", "vacancy", "prepay_year")
APPROVAL_STATUSES = ("pending", "approved", "rejected")
RECEIPT_STATUSES = ("issued", "voided")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _one_of(column: str, values: tuple[str, ...]) -> str:
    """The CHECK of `_in` written as ORed equalities, for tables filled in bulk: SQLite evaluates an IN list of
    more than two values through a temporary b-tree built afresh for every inserted row (a third of the cost
    of inserting a bill), while comparisons cost next to nothing."""
    return " OR ".join(f"{column} = {v!r}" for v in values)


# ---------------------------------------------------------------------------------------------------------
# 基础信息


class Community(Base):
    """小区 — a residential community managed by the property company."""

    __tablename__ = "prop_communities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(400), default="")
    area_dm2: Mapped[int] = mapped_column(BigInteger, default=0)
    household_count: Mapped[int] = mapped_column(Integer, default=0)
    property_company: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("area_dm2 >= 0 AND household_count >= 0", name="not_negative"),)


class Building(Base):
    """楼栋 — a building of a community."""

    __tablename__ = "prop_buildings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    number: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100), default="")
    floors: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "number"),
        CheckConstraint("floors >= 0", name="floors"),
    )


class Unit(Base):
    """单元 — a stairwell/entrance of a building."""

    __tablename__ = "prop_units"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_buildings.id"))
    number: Mapped[str] = mapped_column(String(20))

    __table_args__ = (UniqueConstraint("building_id", "number"),)


class House(Base):
    """房屋 — a house (flat, shop, garage); `code` is the display code "3-2-1201", unique per community."""

    __tablename__ = "prop_houses"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_buildings.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_units.id"), nullable=True)
    number: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(60))
    floor: Mapped[int] = mapped_column(Integer, default=0)
    building_area_dm2: Mapped[int] = mapped_column(BigInteger)
    inner_area_dm2: Mapped[int] = mapped_column(BigInteger)
    layout: Mapped[str] = mapped_column(String(40), default="")
    use: Mapped[str] = mapped_column(String(20), default="住宅")
    status: Mapped[str] = mapped_column(String(16), default="unsold")
    # Fees accrue from this date (交房/起收日期); before it the house is not charged. Null: not chargeable yet.
    charge_start_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        Index("ix_prop_houses_code", "code"),
        CheckConstraint(_in("status", HOUSE_STATUSES), name="status"),
        CheckConstraint(
            "building_area_dm2 > 0 AND inner_area_dm2 > 0 AND inner_area_dm2 <= building_area_dm2",
            name="areas",
        ),
    )


class HouseStatusChange(Base):
    """房屋状态变更 — who moved a house from one status to another, when and why."""

    __tablename__ = "prop_house_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(400), default="")
    actor: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Owner(Base):
    """业主/住户 — a person or company; 身份证号 and phone are encrypted, searchable by blind index."""

    __tablename__ = "prop_owners"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="individual")
    name: Mapped[str] = mapped_column(String(200), index=True)
    id_number_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_number_bidx: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    phone_bidx: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    uscc: Mapped[str | None] = mapped_column(String(18), nullable=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("kind", OWNER_KINDS), name="kind"),
        CheckConstraint("kind = 'company' OR uscc IS NULL", name="uscc_company_only"),
    )


class HouseOccupant(Base):
    """房屋住户 — an owner, family member or tenant of a house, with the owner's share and move-in/out dates."""

    __tablename__ = "prop_house_occupants"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_owners.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    # Owners' shares in basis points (10000 = 100 %); 0 for family and tenants.
    share_bp: Mapped[int] = mapped_column(Integer, default=0)
    move_in_date: Mapped[date] = mapped_column(Date)
    move_out_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("relation", RELATIONS), name="relation"),
        CheckConstraint("share_bp >= 0 AND share_bp <= 10000", name="share"),
        CheckConstraint("relation = 'owner' OR share_bp = 0", name="share_owner_only"),
        CheckConstraint("move_out_date IS NULL OR move_out_date >= move_in_date", name="dates"),
    )


class Facility(Base):
    """设施设备 — equipment of a community (电梯, 消防设备, 路灯, …) with its maintenance dates."""

    __tablename__ = "prop_facilities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200), default="")
    installed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_maintained_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_maintenance_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------------------------------------------------
# 费用


class FeeItem(Base):
    """收费项目 — a fee item of a community with its charging standard (rule, price, cycle, rounding, late fee).

    Prices and rates are Decimal text: `unit_price` in yuan per unit (元/m²·月 for area rules, 元/吨 or 元/度
    for meters), `tiers` a JSON list [{"up_to": "180", "price": "0.52"}, …, {"up_to": null, "price": …}].
    """

    __tablename__ = "prop_fee_items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    rule: Mapped[str] = mapped_column(String(16))
    cycle: Mapped[str] = mapped_column(String(16), default="monthly")
    billing_mode: Mapped[str] = mapped_column(String(8), default="arrears")
    unit_price: Mapped[str] = mapped_column(String(24), default="0")
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tiers: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    tier_scope: Mapped[str] = mapped_column(String(8), default="month")
    meter_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    rounding: Mapped[str] = mapped_column(String(16), default="half_up_fen")
    prorate: Mapped[bool] = mapped_column(default=True)
    due_days: Mapped[int] = mapped_column(Integer, default=15)
    late_daily_rate: Mapped[str] = mapped_column(String(24), default="0")
    late_grace_days: Mapped[int] = mapped_column(Integer, default=0)
    late_cap_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    applies_to_use: Mapped[str | None] = mapped_column(String(20), nullable=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "code"),
        CheckConstraint(_in("rule", FEE_RULES), name="rule"),
        CheckConstraint(_in("cycle", FEE_CYCLES), name="cycle"),
        CheckConstraint(_in("billing_mode", BILLING_MODES), name="billing_mode"),
        CheckConstraint(_in("rounding", ROUNDINGS), name="rounding"),
        CheckConstraint("tier_scope IN ('month', 'year')", name="tier_scope"),
        CheckConstraint("amount_fen >= 0 AND due_days >= 0 AND late_grace_days >= 0", name="not_negative"),
    )


class FeeItemVersion(Base):
    """收费标准版本 — a fee item's charging standard from one billing period on (调价, 停用); see fee_standards.py.

    An item without versions is billed by its own row. The first change writes the standard it replaces as the
    version in force "from the start" (effective_from "0000-01"); the item's row always holds the latest one.
    """

    __tablename__ = "prop_fee_item_versions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    fee_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_fee_items.id"))
    effective_from: Mapped[str] = mapped_column(String(7))
    name: Mapped[str] = mapped_column(String(100))
    cycle: Mapped[str] = mapped_column(String(16))
    billing_mode: Mapped[str] = mapped_column(String(8))
    unit_price: Mapped[str] = mapped_column(String(24))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    tiers: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    tier_scope: Mapped[str] = mapped_column(String(8))
    rounding: Mapped[str] = mapped_column(String(16))
    prorate: Mapped[bool] = mapped_column()
    due_days: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column()
    reason: Mapped[str] = mapped_column(String(400), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("fee_item_id", "effective_from"),
        CheckConstraint(_in("cycle", FEE_CYCLES), name="cycle"),
        CheckConstraint(_in("billing_mode", BILLING_MODES), name="billing_mode"),
        CheckConstraint(_in("rounding", ROUNDINGS), name="rounding"),
        CheckConstraint("tier_scope IN ('month', 'year')", name="tier_scope"),
        CheckConstraint("amount_fen >= 0 AND due_days >= 0", name="not_negative"),
    )


class MeterReading(Base):
    """抄表 — a meter reading of a house for a period; readings in thousandths of a unit (吨, 度, m³)."""

    __tablename__ = "prop_meter_readings"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    meter_kind: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(7))
    previous_milli: Mapped[int] = mapped_column(BigInteger)
    current_milli: Mapped[int] = mapped_column(BigInteger)
    read_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("house_id", "meter_kind", "period"),
        Index("ix_prop_meter_readings_period", "period"),
        CheckConstraint(_in("meter_kind", METER_KINDS), name="meter_kind"),
        CheckConstraint("previous_milli >= 0 AND current_milli >= previous_milli", name="readings"),
    )


class BillRun(Base):
    """账单批次 — one bill run for a period (and optionally one community), with what it created."""

    __tablename__ = "prop_bill_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    community_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_communities.id"), nullable=True)
    bills_created: Mapped[int] = mapped_column(Integer)
    lines_created: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Bill(Base):
    """账单 — the charges of one house from one bill run, with its due date and settlement status."""

    __tablename__ = "prop_bills"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bill_no: Mapped[str] = mapped_column(String(40), unique=True)
    run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("prop_bill_runs.id"), nullable=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    building_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_buildings.id"))
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    bill_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="unpaid")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_prop_bills_community_status", "community_id", "status", "due_date"),
        CheckConstraint(_one_of("status", BILL_STATUSES), name="status"),
        CheckConstraint(
            "amount_fen >= 0 AND paid_fen >= 0 AND waived_fen >= 0 AND paid_fen + waived_fen <= amount_fen",
            name="amounts",
        ),
    )


class BillLine(Base):
    """账单明细 — one fee item of one house for one period; (house, item, period, source) is charged once."""

    __tablename__ = "prop_bill_lines"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_bills.id"))
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    fee_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_fee_items.id"))
    period: Mapped[str] = mapped_column(String(7))
    # What else makes the charge unique: "" for house charges, the parking contract or meter reading id.
    source_ref: Mapped[str] = mapped_column(String(40), default="")
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    quantity: Mapped[str] = mapped_column(String(24), default="")
    unit_price: Mapped[str] = mapped_column(String(24), default="")
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    discount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    due_date: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("house_id", "fee_item_id", "period", "source_ref"),
        CheckConstraint(
            "gross_fen >= 0 AND discount_fen >= 0 AND amount_fen = gross_fen - discount_fen "
            "AND paid_fen >= 0 AND waived_fen >= 0 AND paid_fen + waived_fen <= amount_fen",
            name="amounts",
        ),
    )


class Discount(Base):
    """优惠 — a discount for a house (or every house) on a fee item over a span of periods; applied once approved."""

    __tablename__ = "prop_discounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    house_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("prop_houses.id"), nullable=True, index=True
    )
    fee_item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_fee_items.id"))
    kind: Mapped[str] = mapped_column(String(16))
    # percentage and vacancy: the share of the charge taken off, Decimal text ("0.5" = half off).
    rate_off: Mapped[str] = mapped_column(String(24), default="0")
    reduction_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    period_from: Mapped[str] = mapped_column(String(7))
    period_to: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(String(400), default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint(_in("kind", DISCOUNT_KINDS), name="kind"),
        CheckConstraint(_in("status", APPROVAL_STATUSES), name="status"),
        CheckConstraint("reduction_fen >= 0 AND period_from <= period_to", name="values"),
    )


class LateFeeWaiver(Base):
    """违约金减免 — waiving the late fee of a bill line (all of it, up to a date), once approved."""

    __tablename__ = "prop_late_fee_waivers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_bill_lines.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    as_of: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("status", APPROVAL_STATUSES), name="status"),
        CheckConstraint("amount_fen >= 0", name="amount"),
    )


class PrepaidAccount(Base):
    """预存账户 — a house's prepaid balance; the sum over houses equals ledger account 2203 of book PROPERTY."""

    __tablename__ = "prop_prepaid_accounts"

    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance_not_negative"),)


class PrepaidMove(Base):
    """预存流水 — one change of a prepaid balance (deposit from a payment, deduction by a bill, reversal)."""

    __tablename__ = "prop_prepaid_moves"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(80), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("kind IN ('deposit', 'deduct', 'reverse')", name="kind"),)


class Payment(Base):
    """缴费记录 — money received for a house (counter or hub), settling bill lines; the rest goes to prepaid."""

    __tablename__ = "prop_payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    late_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    prepaid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reference: Mapped[str] = mapped_column(String(80))
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    cashier: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("reference"),
        CheckConstraint("amount_fen > 0 AND late_fee_fen >= 0 AND prepaid_fen >= 0", name="amounts"),
    )


class PaymentAllocation(Base):
    """缴费分配 — how much of a payment (or prepaid deduction) settled one bill line."""

    __tablename__ = "prop_payment_allocations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("prop_payments.id"), nullable=True, index=True
    )
    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_bill_lines.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("amount_fen <> 0", name="amount"),
        CheckConstraint("source IN ('payment', 'prepaid', 'reversal')", name="source"),
    )


class Receipt(Base):
    """收据 — a receipt for one payment: gapless number per site and year; a void keeps the number."""

    __tablename__ = "prop_receipts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(40), unique=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_payments.id"), unique=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    payer: Mapped[str] = mapped_column(String(200), default="")
    total_fen: Mapped[int] = mapped_column(BigInteger)
    total_upper: Mapped[str] = mapped_column(String(100))
    cashier: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="issued")
    print_count: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    voided_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    void_reason: Mapped[str | None] = mapped_column(String(400), nullable=True)
    reversal_entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)

    __table_args__ = (
        CheckConstraint(_in("status", RECEIPT_STATUSES), name="status"),
        CheckConstraint("total_fen > 0 AND print_count >= 0", name="values"),
    )


class ReceiptLine(Base):
    """收据明细 — one line of a receipt: item, period, quantity/area, unit price, amount."""

    __tablename__ = "prop_receipt_lines"

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_receipts.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    item_name: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[str] = mapped_column(String(24), default="")
    unit_price: Mapped[str] = mapped_column(String(24), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)


# ---------------------------------------------------------------------------------------------------------
# 押金 (deposits) — see core/property/deposits.py

DEPOSIT_STATUSES = ("held", "partly_refunded", "refunded", "forfeited")
DEPOSIT_REFUND_STATUSES = ("pending", "approved", "rejected", "refunding", "refunded", "failed")
DEPOSIT_REFUND_METHODS = ("original", "cash")
DEPOSIT_DEDUCTION_KINDS = ("deduction", "forfeit")


class Deposit(Base):
    """押金台账 — what became of a deposit (押金, 装修保证金) paid on a deposit bill line: refunds, deductions.

    The deposit's id is its bill line's id; the row is written at the first refund request or deduction (until
    then the deposit is simply held). `reserved_fen` is asked for in refunds not yet paid out or refused.
    """

    __tablename__ = "prop_deposits"

    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_bill_lines.id"), primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"), index=True)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    deducted_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="held")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __table_args__ = (
        CheckConstraint(_in("status", DEPOSIT_STATUSES), name="status"),
        CheckConstraint("refunded_fen >= 0 AND deducted_fen >= 0 AND reserved_fen >= 0", name="amounts"),
    )


class DepositRefund(Base):
    """押金退还 — giving (part of) a deposit back: approved by someone other than the requester, then paid out as
    a refund of the original payment order through the hub, or in cash at the counter."""

    __tablename__ = "prop_deposit_refunds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_deposits.bill_line_id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(400))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    approval_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    out_trade_no: Mapped[str | None] = mapped_column(String(80), nullable=True)
    hub_refund_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    requested_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint(_in("status", DEPOSIT_REFUND_STATUSES), name="status"),
        CheckConstraint(_in("method", DEPOSIT_REFUND_METHODS), name="method"),
        CheckConstraint("amount_fen > 0", name="amount"),
    )


class DepositDeduction(Base):
    """押金扣除 — money kept from a deposit (damage, forfeiture) with its reason; income of the property company."""

    __tablename__ = "prop_deposit_deductions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    bill_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_deposits.bill_line_id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(400))
    entry_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(_in("kind", DEPOSIT_DEDUCTION_KINDS), name="kind"),
        CheckConstraint("amount_fen > 0", name="amount"),
    )


# ---------------------------------------------------------------------------------------------------------
# 催缴 (arrears reminders) — see core/property/reminders.py

REMINDER_KINDS = ("before_due", "after_due", "every")
REMINDER_CHANNELS = ("app_push", "sms", "printed")


class ReminderSchedule(Base):
    """催缴计划 — one rule of a community's reminder schedule: N days before the due date, N days after it, or
    every N days while a house is in arrears, through the channels listed."""

    __tablename__ = "prop_reminder_schedules"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    kind: Mapped[str] = mapped_column(String(16))
    days: Mapped[int] = mapped_column(Integer)
    channels: Mapped[list] = mapped_column(JSONType)
    active: Mapped[bool] = mapped_column(default=True)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("community_id", "kind", "days"),
        CheckConstraint(_in("kind", REMINDER_KINDS), name="kind"),
        CheckConstraint("days >= 1 AND days <= 366", name="days"),
    )


class ReminderStop(Base):
    """免催名单 — a house or an owner not to be reminded, with the reason and an optional last day."""

    __tablename__ = "prop_reminder_stops"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("prop_houses.id"), nullable=True, index=True
    )
    owner_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("prop_owners.id"), nullable=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(400))
    until: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (CheckConstraint("(house_id IS NULL) <> (owner_id IS NULL)", name="one_target"),)


class ReminderSent(Base):
    """催缴记录 — one reminder to one recipient of a house on one day through one channel: the house's history,
    and what makes a second run on the same day send nothing again."""

    __tablename__ = "prop_reminders_sent"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    house_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_houses.id"))
    community_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("prop_communities.id"))
    on_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))
    owed_fen: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(String(1000))
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("house_id", "on_date", "channel", "recipient"),
        Index("ix_prop_reminders_sent_community_date", "community_id", "on_date"),
        CheckConstraint(_in("channel", REMINDER_CHANNELS), name="channel"),
        CheckConstraint(_in("kind", REMINDER_KINDS), name="kind"),
    )
