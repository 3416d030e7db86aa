"""Pure fee rules: worked examples with known answers, and properties that must hold for any input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.property import rules
from core.property.rules import Period, Tier

WATER = rules.parse_tiers(
    [{"up_to": "10", "price": "3.00"}, {"up_to": "20", "price": "4.50"}, {"up_to": None, "price": "6.00"}]
)
# Electricity per year: 2,160 kWh at 0.4883, up to 4,200 at 0.5383, beyond at 0.7883 (北京居民阶梯电价).
POWER = rules.parse_tiers(
    [
        {"up_to": "2160", "price": "0.4883"},
        {"up_to": "4200", "price": "0.5383"},
        {"up_to": None, "price": "0.7883"},
    ]
)


def test_period_parse_and_bounds():
    p = Period.parse("2026-02")
    assert (p.first_day, p.last_day, p.days) == (date(2026, 2, 1), date(2026, 2, 28), 28)
    assert str(p.add(11)) == "2027-01" and str(p.add(-2)) == "2025-12"
    for bad in ("2026-13", "2026-1", "26-11", "", "2026-00"):
        with pytest.raises(ValidationError):
            Period.parse(bad)


def test_cycles_in_advance_and_in_arrears():
    assert rules.cycle_span("monthly", "arrears", Period(2026, 11)) == (date(2026, 11, 1), date(2026, 11, 30))
    assert rules.cycle_span("quarterly", "advance", Period(2026, 10)) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert rules.cycle_span("quarterly", "advance", Period(2026, 11)) is None
    assert rules.cycle_span("quarterly", "arrears", Period(2026, 12)) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert rules.cycle_span("half_yearly", "advance", Period(2026, 7)) == (
        date(2026, 7, 1),
        date(2026, 12, 31),
    )
    assert rules.cycle_span("yearly", "arrears", Period(2026, 12)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert rules.cycle_span("yearly", "arrears", Period(2026, 11)) is None
    assert rules.cycle_span("once", "advance", Period(2026, 11)) is None


def test_area_fee_worked_example():
    # 89.50 m² × 2.50 元/m²·月 = 223.75 元 a month; a quarter 671.25 元.
    assert rules.area_charge(8950, Decimal("2.50"), Fraction(1)) == 22375
    assert rules.area_charge(8950, Decimal("2.50"), Fraction(3)) == 67125
    # 套内 70.00 m² × 1.85 = 129.50 元
    assert rules.area_charge(7000, Decimal("1.85"), Fraction(1)) == 12950


def test_proration_move_in_mid_month():
    # Moving in on 11-16: 15 of November's 30 days → half of 223.75 = 111.875 → 111.88 (half up).
    months = rules.month_fraction(date(2026, 11, 1), date(2026, 11, 30), date(2026, 11, 16), None)
    assert months == Fraction(1, 2)
    assert rules.area_charge(8950, Decimal("2.50"), months) == 11188
    # A quarter starting 10-01 with move-in on 11-16: half of November and all of December = 1.5 months.
    q = rules.month_fraction(date(2026, 10, 1), date(2026, 12, 31), date(2026, 11, 16), None)
    assert q == Fraction(3, 2)
    # Days counted against each month's own length: February 2026 has 28 days.
    assert rules.month_fraction(date(2026, 2, 1), date(2026, 2, 28), date(2026, 2, 15), None) == Fraction(
        14, 28
    )


def test_rounding_rules():
    assert rules.round_ratio(11875, 1000) == 12  # 11.875 fen → 12
    assert rules.round_ratio(11875, 1000, "down_fen") == 11
    assert rules.round_ratio(11875, 100, "half_up_jiao") == 120  # 118.75 fen → 1.20 元
    assert rules.round_ratio(11449, 100, "half_up_jiao") == 110
    assert rules.round_ratio(5, 10) == 1 and rules.round_ratio(4, 10) == 0
    assert rules.round_ratio(-5, 10) == -1
    with pytest.raises(ValueError):
        rules.round_ratio(1, 1, "banker")


def test_tiered_water_across_tiers():
    # 25 t in one month: 10 × 3.00 + 10 × 4.50 + 5 × 6.00 = 105.00 元
    assert rules.usage_charge(25_000, Decimal(0), WATER) == 10500
    # 8.5 t: all in the first tier = 25.50 元
    assert rules.usage_charge(8_500, Decimal(0), WATER) == 2550
    # Monthly tiers start again every month (already_used 0).
    assert rules.usage_charge(12_000, Decimal(0), WATER) == 3900


def test_electricity_tiers_count_the_whole_year():
    # 300 kWh in a month when 2,000 kWh were used earlier in the year: 160 at 0.4883 + 140 at 0.5383.
    # = 78.128 + 75.362 = 153.49 元
    assert rules.usage_charge(300_000, Decimal(0), POWER, already_used_milli=2_000_000) == 15349
    # The same 300 kWh early in the year: all first tier, 146.49 元.
    assert rules.usage_charge(300_000, Decimal(0), POWER) == 14649


def test_flat_usage_price():
    # (1,250.5 − 1,230.0) m³ of gas × 2.63 元 = 53.915 → 53.92
    assert rules.usage_charge(20_500, Decimal("2.63")) == 5392


def test_tiers_must_rise_and_end_open():
    with pytest.raises(ValidationError):
        rules.parse_tiers(
            [{"up_to": "10", "price": "1"}, {"up_to": "5", "price": "2"}, {"up_to": None, "price": "3"}]
        )
    with pytest.raises(ValidationError):
        rules.parse_tiers([{"up_to": "10", "price": "1"}])
    with pytest.raises(ValidationError):
        rules.parse_tiers([{"up_to": None, "price": "1"}, {"up_to": "10", "price": "2"}])


def test_discounts():
    assert rules.discount_fen(22375, "percentage", Decimal("0.10")) == 2238  # 22.375 → 22.38
    assert rules.discount_fen(22375, "reduction", reduction_fen=5000) == 5000
    assert rules.discount_fen(3000, "reduction", reduction_fen=5000) == 3000  # never more than the charge
    assert rules.discount_fen(22375, "free_months") == 22375
    assert rules.discount_fen(22375, "vacancy", Decimal("0.5")) == 11188
    with pytest.raises(ValidationError):
        rules.discount_fen(100, "percentage", Decimal("1.5"))


def test_late_fee_after_grace():
    # 223.75 元 due 2026-12-15, 0.03 %/day, 10 days' grace; as of 2027-01-24: 30 days late.
    # 22375 × 0.0003 × 30 = 201.375 fen → 2.01 元
    due = date(2026, 12, 15)
    assert rules.late_days(due, date(2027, 1, 24), 10) == 30
    assert rules.late_fee(22375, due, date(2027, 1, 24), Decimal("0.0003"), 10) == 201
    assert rules.late_fee(22375, due, date(2026, 12, 25), Decimal("0.0003"), 10) == 0  # still within grace
    assert rules.late_fee(22375, due, date(2027, 1, 24), Decimal("0.0003"), 10, cap_fen=150) == 150
    assert rules.late_fee(0, due, date(2030, 1, 1), Decimal("0.0003")) == 0


def test_ageing_buckets():
    assert [rules.ageing_bucket(d) for d in (0, 30, 31, 90, 91, 180, 181, 365, 366, 2000)] == [
        "0-30", "0-30", "31-90", "31-90", "91-180", "91-180", "181-365", "181-365", ">365", ">365",
    ]  # fmt: skip


def test_settle_oldest_first():
    assert rules.settle_oldest_first(500, [300, 300, 300]) == ([300, 200, 0], 0)
    assert rules.settle_oldest_first(1000, [300, 300]) == ([300, 300], 400)


# --- properties ------------------------------------------------------------------------------------------

prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=4)
areas = st.integers(min_value=1, max_value=10**6)


@given(areas, prices, st.integers(min_value=1, max_value=12))
def test_area_charge_is_linear_in_whole_months(area_dm2, price, months):
    one = Fraction(area_dm2) * Fraction(price)
    got = rules.area_charge(area_dm2, price, Fraction(months))
    assert abs(got - one * months) <= Fraction(1, 2)


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**6))
def test_roundings_stay_within_their_unit(num, den):
    exact = Fraction(num, den)
    assert abs(rules.round_ratio(num, den) - exact) <= Fraction(1, 2)
    down = rules.round_ratio(num, den, "down_fen")
    assert 0 <= exact - down < 1
    jiao = rules.round_ratio(num, den, "half_up_jiao")
    assert jiao % 10 == 0 and abs(jiao - exact) <= 5


@given(st.integers(min_value=0, max_value=5_000_000), st.integers(min_value=0, max_value=5_000_000))
def test_tiered_usage_is_additive_across_a_year(first_milli, second_milli):
    # Billing two months separately with the year's running total equals billing their sum at once (exactly).
    a = rules.tiered_yuan(Fraction(first_milli, 1000), POWER)
    b = rules.tiered_yuan(Fraction(second_milli, 1000), POWER, Fraction(first_milli, 1000))
    assert a + b == rules.tiered_yuan(Fraction(first_milli + second_milli, 1000), POWER)


@given(
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=0, max_value=40)
)
def test_proration_never_exceeds_the_span(move_in, extra_days):
    p = Period(move_in.year, move_in.month)
    m = rules.month_fraction(p.first_day, p.add(2).last_day, move_in, None)
    assert 0 < m <= 3


@given(
    st.integers(min_value=0, max_value=10**8),
    st.integers(min_value=0, max_value=3000),
    st.integers(min_value=0, max_value=60),
)
def test_late_fee_grows_with_time_and_respects_the_cap(owed, days, grace):
    due = date(2026, 1, 1)
    rate = Decimal("0.0003")
    early = rules.late_fee(owed, due, date.fromordinal(due.toordinal() + days), rate, grace)
    later = rules.late_fee(owed, due, date.fromordinal(due.toordinal() + days + 1), rate, grace)
    assert 0 <= early <= later
    assert (
        rules.late_fee(owed, due, date.fromordinal(due.toordinal() + days), rate, grace, cap_fen=100) <= 100
    )


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**7), max_size=20),
)
def test_settlement_spreads_the_payment_exactly(amount, owed):
    parts, left = rules.settle_oldest_first(amount, owed)
    assert sum(parts) + left == amount
    assert all(0 <= p <= o for p, o in zip(parts, owed, strict=True))
    # Oldest first: a later line gets money only when every earlier one is settled.
    for i, p in enumerate(parts):
        if p:
            assert all(parts[j] == owed[j] for j in range(i))


def test_tier_dataclass_is_plain():
    assert Tier(None, Decimal("1")).up_to is None
