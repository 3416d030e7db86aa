"""Changing a fee item's standard from a chosen period (调价, 停用): issued bills stay as they are, the bill runs from
that period use the new standard, and bad changes write nothing — worked examples, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.errors import PermissionDenied, StateError, ValidationError
from core.ledger.verify import verify
from core.property import billing, fee_standards
from core.property.models import BillLine, FeeItemVersion
from core.property.services import PERM_VIEW
from core.sync.models import OutboxEvent
from tests.property.helpers import person, property_fee, small_community


def _lines(ctx, period: str) -> list[tuple[str, int, str]]:
    with ctx.read() as s:
        rows = s.execute(
            select(BillLine.unit_price, BillLine.gross_fen, BillLine.due_date)
            .where(BillLine.period == period)
            .order_by(BillLine.gross_fen)
        ).all()
    return [tuple(r) for r in rows]


def _versions(ctx) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(FeeItemVersion)).scalar_one()


def test_price_change_from_december_leaves_november_alone(ctx):
    c, _houses = small_community(ctx)
    item = property_fee(ctx, c.id)  # 89.50 m² × 2.50 = 223.75 元
    assert billing.bill_run(ctx, "2026-11").amount_fen == 3 * 22375
    assert fee_standards.edit_start(ctx, item.id).first_period == "2026-12"
    fee_standards.change_fee_item(ctx, item.id, "2026-12", "物价局批复调价", unit_price="3.00", due_days=10)
    # The November rerun creates nothing new, and November's bills keep the old price.
    assert billing.bill_run(ctx, "2026-11") == billing.BillRunResult("2026-11", 0, 0, 0)
    assert _lines(ctx, "2026-11") == [("2.50", 22375, date(2026, 12, 15))] * 3
    # December: 89.50 × 3.00 = 268.50 元, due 10 days after the month.
    assert billing.bill_run(ctx, "2026-12") == billing.BillRunResult("2026-12", 3, 3, 3 * 26850)
    assert _lines(ctx, "2026-12") == [("3.00", 26850, date(2027, 1, 10))] * 3
    # The list shows the latest standard; the history keeps both, newest first.
    (view,) = billing.fee_items(ctx, c.id)
    assert (view.unit_price, view.due_days) == ("3.00", 10)
    hist = fee_standards.history(ctx, item.id)
    assert [(v.effective_from, v.standard.unit_price) for v in hist] == [
        ("2026-12", "3.00"),
        (fee_standards.BASE_PERIOD, "2.50"),
    ]
    with ctx.read() as s:
        assert verify(s).ok
        types = [t for (t,) in s.execute(select(OutboxEvent.type))]
    assert types.count("property.fee_item_changed") == 1


def test_a_house_billed_late_for_november_gets_the_november_price(ctx):
    c, _houses = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    fee_standards.change_fee_item(ctx, item.id, "2027-01", "明年调价", unit_price="3.00")
    # Set ahead of time: the bill runs before January still use 2.50.
    assert billing.bill_run(ctx, "2026-12").amount_fen == 22375
    assert billing.bill_run(ctx, "2027-01").amount_fen == 26850
    assert billing.bill_run(ctx, "2026-11").amount_fen == 22375  # a month billed late keeps its own standard


def test_retiring_stops_future_bill_runs_and_one_off_charges(ctx):
    c, houses = small_community(ctx, houses=2)
    item = property_fee(ctx, c.id)
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=200000)
    deposit = next(i for i in billing.fee_items(ctx, c.id) if i.code == "ZXBZJ")
    billing.bill_run(ctx, "2026-11")
    fee_standards.retire_fee_item(ctx, item.id, "2026-12", "改由业委会直收")
    assert billing.bill_run(ctx, "2026-12") == billing.BillRunResult("2026-12", 0, 0, 0)
    assert len(_lines(ctx, "2026-11")) == 2  # issued bills stay
    (view,) = [i for i in billing.fee_items(ctx, c.id) if i.code == "WYF"]
    assert view.active is False
    fee_standards.retire_fee_item(ctx, deposit.id, "2026-11", "停收")
    with pytest.raises(StateError):
        billing.charge_once(ctx, houses[0].id, "ZXBZJ")
    # Taken up again from February: January is still not billed, February is.
    fee_standards.change_fee_item(ctx, item.id, "2027-02", "恢复收费", active=True)
    assert billing.bill_run(ctx, "2027-01").lines_created == 0
    assert billing.bill_run(ctx, "2027-02").lines_created == 2


def test_a_change_for_a_billed_period_is_refused_and_writes_nothing(ctx):
    c, _houses = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    with pytest.raises(StateError) as err:
        fee_standards.change_fee_item(ctx, item.id, "2026-11", "补调", unit_price="3.00")
    assert err.value.params["next"] == "2026-12"
    bad = [
        dict(unit_price="0"),  # an area item needs a price above 0
        dict(unit_price="abc"),
        dict(cycle="once"),  # an area item needs a cycle
        dict(rounding="to_the_yuan"),
        dict(due_days=400),
        dict(tiers=[{"up_to": "10", "price": "1"}, {"up_to": None, "price": "2"}]),  # tiers only for meters
        dict(name=" "),
        dict(unit_price="2.50"),  # nothing changed
    ]
    for kw in bad:
        with pytest.raises(ValidationError):
            fee_standards.change_fee_item(ctx, item.id, "2026-12", "调价", **kw)
    with pytest.raises(ValidationError):
        fee_standards.change_fee_item(ctx, item.id, "2026-12", " ", unit_price="3.00")  # a reason is needed
    with pytest.raises(ValidationError):
        fee_standards.change_fee_item(ctx, item.id, "2026/12", "调价", unit_price="3.00")
    viewer = person(ctx, "viewer", perms=(PERM_VIEW,))
    with pytest.raises(PermissionDenied):
        fee_standards.change_fee_item(viewer, item.id, "2026-12", "调价", unit_price="3.00")
    assert _versions(ctx) == 0
    (view,) = billing.fee_items(ctx, c.id)
    assert view.unit_price == "2.50"


def test_a_cycle_change_must_start_where_both_cycles_begin(ctx):
    c, _houses = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)  # monthly in arrears
    with pytest.raises(ValidationError) as err:
        fee_standards.change_fee_item(
            ctx, item.id, "2027-02", "按季预收", cycle="quarterly", billing_mode="advance"
        )
    assert err.value.params["example"] == "2027-04"
    fee_standards.change_fee_item(
        ctx, item.id, "2027-04", "按季预收", cycle="quarterly", billing_mode="advance"
    )
    for period in ("2027-01", "2027-02", "2027-03"):  # monthly in arrears up to March
        assert billing.bill_run(ctx, period).amount_fen == 22375
    # April bills April to June in advance: 3 × 223.75; May and June bill nothing; no month twice.
    assert billing.bill_run(ctx, "2027-04").amount_fen == 3 * 22375
    assert billing.bill_run(ctx, "2027-05").lines_created == 0
    assert billing.bill_run(ctx, "2027-06").lines_created == 0
    assert billing.bill_run(ctx, "2027-07").amount_fen == 3 * 22375


def test_a_later_change_replaces_one_set_for_a_later_period(ctx):
    c, _houses = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    fee_standards.change_fee_item(ctx, item.id, "2027-03", "调价", unit_price="3.50")
    fee_standards.change_fee_item(ctx, item.id, "2027-01", "改为一月调价", unit_price="3.00")
    hist = fee_standards.history(ctx, item.id)
    assert [(v.effective_from, v.standard.unit_price) for v in hist] == [
        ("2027-01", "3.00"),
        (fee_standards.BASE_PERIOD, "2.50"),
    ]
    assert billing.bill_run(ctx, "2027-03").amount_fen == 26850  # the March change is gone


def test_meter_tiers_change_from_a_period(ctx):
    c, houses = small_community(ctx, houses=1)
    water = billing.create_fee_item(
        ctx, c.id, "SF", "水费", "meter", meter_kind="water", unit_price="3.00",
    )  # fmt: skip
    tiers = [{"up_to": "10", "price": "3.00"}, {"up_to": None, "price": "6.00"}]
    fee_standards.change_fee_item(ctx, water.id, "2026-12", "阶梯水价", tiers=tiers)
    billing.record_reading(ctx, houses[0].id, "water", "2026-11", "15", previous="0")
    billing.record_reading(ctx, houses[0].id, "water", "2026-12", "30")
    assert billing.bill_run(ctx, "2026-11").amount_fen == 4500  # 15 t × 3.00
    assert billing.bill_run(ctx, "2026-12").amount_fen == 6000  # 10 × 3.00 + 5 × 6.00
    with pytest.raises(ValidationError):  # tiers must rise and end open
        fee_standards.change_fee_item(ctx, water.id, "2027-01", "x", tiers=[{"up_to": "10", "price": "1"}])
