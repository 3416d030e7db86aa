"""Pure fee rules of smart property: billing periods and cycles, proration by day, area/fixed/meter/tiered
charges, rounding per item, discounts, late fees (违约金) and arrears ageing. No database; exact arithmetic
(Decimal inputs are converted to Fractions) with one rounding at the end.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from core.errors import ValidationError
from core.i18n import N_

PERIOD_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}
ROUNDINGS = ("half_up_fen", "down_fen", "half_up_jiao")
PRICE_MAX = Decimal("1000000")  # 元 per unit: far above any real standard, catches a misplaced decimal point
RATE_MAX = Decimal("0.01")  # 1 %/day: beyond it a late fee is usurious, and a typo
AGEING_BUCKETS = ((0, 30, "0-30"), (31, 90, "31-90"), (91, 180, "91-180"), (181, 365, "181-365"))
AGEING_LAST = ">365"
AGEING_LABELS = (*(b[2] for b in AGEING_BUCKETS), AGEING_LAST)


# ---------------------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True, order=True)
class Period:
    """A billing month (计费月份) "2026-11"."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = PERIOD_RE.match(text.strip()) if isinstance(text, str) else None
        if not m:
            raise ValidationError(N_("A period is written YYYY-MM, e.g. 2026-11."), field="period")
        return cls(int(m.group(1)), int(m.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    def add(self, months: int) -> Period:
        index = self.year * 12 + self.month - 1 + months
        return Period(index // 12, index % 12 + 1)


def period_of(day: date) -> Period:
    return Period(day.year, day.month)


def cycle_span(cycle: str, mode: str, period: Period) -> tuple[date, date] | None:
    """The service span a bill run for `period` charges for an item of this cycle, or None if not due then.

    Cycles are aligned to the calendar year (quarters start in January, April, July, October). Billed in
    advance, a cycle is charged in its first month; in arrears, in its last month.
    """
    if cycle == "once":
        return None
    months = CYCLE_MONTHS[cycle]
    offset = (period.month - 1) % months
    if mode == "advance":
        if offset != 0:
            return None
        return period.first_day, period.add(months - 1).last_day
    if offset != months - 1:
        return None
    return period.add(-(months - 1)).first_day, period.last_day


def month_fraction(
    span_start: date, span_end: date, charge_from: date | None, charge_to: date | None
) -> Fraction:
    """How many months of the span [span_start, span_end] are charged, prorated by day within each month.

    Only days from `charge_from` (move-in, 起收日期) up to `charge_to` (inclusive) count; a whole month counts 1
    whatever its length, a partial month counts days/days-in-month.
    """
    lo = max(span_start, charge_from) if charge_from else span_start
    hi = min(span_end, charge_to) if charge_to else span_end
    if hi < lo:
        return Fraction(0)
    total = Fraction(0)
    p = period_of(lo)
    while p.first_day <= hi:
        first, last = max(p.first_day, lo), min(p.last_day, hi)
        total += Fraction((last - first).days + 1, p.days)
        p = p.add(1)
    return total


# ---------------------------------------------------------------------------------------------------------
# Numbers


def decimal(text: str | Decimal | int, field: str, *, max_value: Decimal = PRICE_MAX) -> Decimal:
    """A non-negative, finite Decimal from text or Decimal (never a float), at most `max_value`."""
    if isinstance(text, bool | float):
        raise TypeError(f"{field} must be a Decimal, an int or text, not {type(text).__name__}")
    try:
        value = Decimal(str(text).strip()) if not isinstance(text, Decimal) else text
    except InvalidOperation:
        raise ValidationError(N_("“{text}” is not a number."), field=field, text=str(text)) from None
    if not value.is_finite() or value < 0 or value > max_value:
        raise ValidationError(N_("{field} must be between 0 and {max}."), field=field, max=str(max_value))
    return value


def round_ratio(numerator: int, denominator: int, rounding: str = "half_up_fen") -> int:
    """Round the exact fen amount numerator/denominator by the item's rule (integers only: the bill-run hot path).

    half_up_fen: halves away from zero to the fen; down_fen: toward zero; half_up_jiao: halves up to 10 fen.
    """
    if rounding not in ROUNDINGS:
        raise ValueError(f"unknown rounding {rounding!r}")
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    numerator = abs(numerator)
    if rounding == "down_fen":
        return sign * (numerator // denominator)
    unit = 10 if rounding == "half_up_jiao" else 1
    den = denominator * unit
    return sign * ((2 * numerator + den) // (2 * den)) * unit


def round_fen(value: Fraction | Decimal | int, rounding: str = "half_up_fen") -> int:
    """Round an exact amount of fen by the item's rule (see round_ratio)."""
    value = Fraction(value)
    return round_ratio(value.numerator, value.denominator, rounding)


# ---------------------------------------------------------------------------------------------------------
# Charges


def area_charge(
    area_dm2: int, price_yuan_m2_month: Decimal, months: Fraction, rounding: str = "half_up_fen"
) -> int:
    """面积 × 单价 × 月数: area in dm² (0.01 m²) × 元/m²·月 is fen per month exactly (0.01 × 100 = 1)."""
    if area_dm2 < 0:
        raise ValueError("area must not be negative")
    pn, pd = price_yuan_m2_month.as_integer_ratio()
    return round_ratio(area_dm2 * pn * months.numerator, pd * months.denominator, rounding)


def fixed_charge(monthly_fen: int, months: Fraction, rounding: str = "half_up_fen") -> int:
    """A fixed monthly amount over (possibly prorated) months."""
    return round_fen(monthly_fen * months, rounding)


@dataclass(frozen=True)
class Tier:
    """One step of a tiered price: usage up to `up_to` units (cumulative, None = no limit) costs `price` 元/unit."""

    up_to: Decimal | None
    price: Decimal


def parse_tiers(raw: Sequence[dict] | None) -> tuple[Tier, ...]:
    """Tiers from stored JSON; thresholds must rise and only the last may be open-ended."""
    if not raw:
        return ()
    tiers: list[Tier] = []
    for i, t in enumerate(raw):
        up = t.get("up_to")
        up_to = None if up in (None, "") else decimal(up, "up_to", max_value=Decimal(10**9))
        tiers.append(Tier(up_to, decimal(t.get("price", ""), "price")))
        last = i == len(raw) - 1
        if up_to is None and not last:
            raise ValidationError(N_("Only the last tier may have no upper limit."), field="tiers")
        if i and tiers[i - 1].up_to is not None and up_to is not None and up_to <= tiers[i - 1].up_to:
            raise ValidationError(N_("Tier limits must rise from one tier to the next."), field="tiers")
    if tiers[-1].up_to is not None:
        raise ValidationError(N_("The last tier must have no upper limit."), field="tiers")
    return tuple(tiers)


def tiered_yuan(usage: Fraction, tiers: Sequence[Tier], already_used: Fraction = Fraction(0)) -> Fraction:
    """The exact price in yuan of `usage` units when `already_used` units of the same scope came before.

    Yearly tiers (electricity) pass the year's earlier usage as `already_used`; monthly tiers (water) pass 0.
    """
    if usage < 0 or already_used < 0:
        raise ValueError("usage must not be negative")
    total = Fraction(0)
    lo, hi = already_used, already_used + usage
    floor = Fraction(0)
    for tier in tiers:
        ceiling = Fraction(tier.up_to) if tier.up_to is not None else None
        seg_lo = max(lo, floor)
        seg_hi = hi if ceiling is None else min(hi, ceiling)
        if seg_hi > seg_lo:
            total += (seg_hi - seg_lo) * Fraction(tier.price)
        if ceiling is None:
            break
        floor = ceiling
    return total


def usage_charge(
    usage_milli: int,
    price: Decimal,
    tiers: Sequence[Tier] = (),
    already_used_milli: int = 0,
    rounding: str = "half_up_fen",
) -> int:
    """(本期 − 上期) × 单价 with optional tiers; usage in thousandths of a unit, result in fen."""
    usage = Fraction(usage_milli, 1000)
    yuan = tiered_yuan(usage, tiers, Fraction(already_used_milli, 1000)) if tiers else usage * Fraction(price)
    return round_fen(yuan * 100, rounding)


# ---------------------------------------------------------------------------------------------------------
# Discounts and late fees


def discount_fen(gross_fen: int, kind: str, rate_off: Decimal = Decimal(0), reduction_fen: int = 0) -> int:
    """The part of a charge a discount takes off (never more than the charge).

    percentage / vacancy / prepay_year: gross × rate_off (half up); reduction: a fixed amount;
    free_months: the whole charge (the discount's period span is the free months).
    """
    if gross_fen < 0:
        raise ValueError("gross must not be negative")
    if kind in ("percentage", "vacancy", "prepay_year"):
        if not Decimal(0) <= rate_off <= Decimal(1):
            raise ValidationError(N_("A discount rate is between 0 and 1."), field="rate_off")
        off = round_fen(gross_fen * Fraction(rate_off))
    elif kind == "reduction":
        off = reduction_fen
    elif kind == "free_months":
        off = gross_fen
    else:
        raise ValueError(f"unknown discount kind {kind!r}")
    return max(0, min(off, gross_fen))


def late_days(due_date: date, as_of: date, grace_days: int) -> int:
    """Days a late fee runs: after the due date plus the grace period, up to and including `as_of`."""
    return max(0, (as_of - (due_date + timedelta(days=grace_days))).days)


def late_fee(
    outstanding_fen: int,
    due_date: date,
    as_of: date,
    daily_rate: Decimal,
    grace_days: int = 0,
    cap_fen: int | None = None,
) -> int:
    """违约金: outstanding × daily rate × days late (after grace), rounded half up once, at most `cap_fen`."""
    if outstanding_fen <= 0 or daily_rate <= 0:
        return 0
    days = late_days(due_date, as_of, grace_days)
    fee = round_fen(outstanding_fen * Fraction(daily_rate) * days)
    return fee if cap_fen is None else min(fee, cap_fen)


def late_fees_collected(amount_fen: int, lines: Sequence[tuple[int, int]]) -> int:
    """The late fees a payment of `amount_fen` collects over (late fee, outstanding) lines, oldest first: a
    line's fee only together with the whole line, stopping at the first line the payment cannot clear (that
    line and the later ones keep their fees, to be collected with the payment that settles them)."""
    collected = 0
    left = amount_fen
    for fee, outstanding in lines:
        need = fee + outstanding
        if left < need:
            break
        collected += fee
        left -= need
    return collected


def ageing_bucket(days_overdue: int) -> str:
    """The arrears ageing bucket (账龄) of a charge overdue by `days_overdue` days."""
    for lo, hi, label in AGEING_BUCKETS:
        if days_overdue <= hi and days_overdue >= lo:
            return label
    return AGEING_LAST if days_overdue > 365 else AGEING_BUCKETS[0][2]


def settle_oldest_first(amount_fen: int, outstanding: Sequence[int]) -> tuple[list[int], int]:
    """Spread a payment over outstanding amounts in the given order; returns (parts, left over)."""
    if amount_fen < 0:
        raise ValueError("amount must not be negative")
    parts = []
    left = amount_fen
    for owed in outstanding:
        take = min(left, max(owed, 0))
        parts.append(take)
        left -= take
    return parts, left
