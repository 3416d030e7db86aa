"""Demo data for smart property: one community of 1,200 houses in 12 buildings, owners and family members,
fee items, a year of monthly bill runs and counter payments (most owners pay, some fall into arrears).

Everything goes through the property services, each month with a clock set inside that month, so the
history (bills, receipts, late fees, ledger entries, audit) looks like a year of real use.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from core.clock import FakeClock, today
from core.context import Context
from core.i18n import _
from core.validate import make_id_number

COMMUNITY_CODE = "XFL"
# (buildings, units per building, floors, houses per floor): "full" is the realistic community of 1,200
# houses; "small" (24 houses) is for tests and a quick look.
SIZES = {"full": (12, 2, 25, 2), "small": (2, 1, 6, 2)}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力鹏宇浩然欣怡子涵雨轩梓晨"
REGIONS = ("110105", "110108", "310115", "440305", "320102", "330106")


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _months_back(end: date, count: int) -> list[date]:
    """First days of the `count` months ending with the month of `end`, oldest first."""
    months = []
    y, m = end.year, end.month
    for _i in range(count):
        months.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return months[::-1]


def _at(day: date, hour: int = 2) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def fill_property(ctx: Context, progress: Callable[[str], None], size: str = "full") -> bool:
    """Create the demo community unless it exists. Returns True when it created something."""
    from core.property import billing
    from core.property import services as ps

    if any(c.code == COMMUNITY_CODE for c in ps.list_communities(ctx)):
        return False
    buildings, units, floors, per_floor = SIZES[size]
    rng = random.Random(20261125)
    now_day = today(ctx.clock)
    months = _months_back(now_day, 12)
    start = months[0]
    clock = FakeClock(_at(start))
    hist = replace(ctx, clock=clock, _uow=None)

    progress(_("Creating the demo community ({n} houses) …").format(n=buildings * units * floors * per_floor))
    c = ps.create_community(
        hist, COMMUNITY_CODE, "幸福里小区", address="北京市朝阳区幸福路1号",
        area_dm2=12_500_000, household_count=buildings * units * floors * per_floor,
        property_company="安居示范物业服务有限公司",
    )  # fmt: skip
    houses = []
    with hist.uow("property.manage") as uow:
        for b in range(1, buildings + 1):
            ps.create_building_in(uow, c.id, str(b), name=f"{b}号楼", floors=floors)
            for u in range(1, units + 1):
                for f in range(1, floors + 1):
                    for n in range(1, per_floor + 1):
                        area = rng.choice((8950, 10420, 12680, 14300))
                        status = "occupied" if rng.random() < 0.93 else "vacant"
                        houses.append(
                            ps.add_house_in(
                                uow, c.id,
                                ps.HouseInput(str(b), str(u), f"{f}{n:02d}", area, area * 78 // 100, floor=f,
                                              layout="3室2厅" if area > 12000 else "2室1厅",
                                              status=status, charge_start_on=start),
                            )
                        )  # fmt: skip
        for i, h in enumerate(houses):
            birth = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 50))
            owner = ps.OwnerInput(
                _name(rng),
                id_number=make_id_number(rng.choice(REGIONS), birth, i % 1000),
                phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
            )
            owner_id = ps.create_owner_in(uow, owner)
            ps.add_occupant_in(uow, h.id, owner_id, "owner", share_bp=10_000, move_in_date=start)
            if rng.random() < 0.5:
                member = ps.create_owner_in(uow, ps.OwnerInput(_name(rng)))
                ps.add_occupant_in(uow, h.id, member, "family", move_in_date=start)

    billing.create_fee_item(
        hist, c.id, "WYF", "物业费", "building_area", unit_price="2.50", late_daily_rate="0.0003",
        late_grace_days=30, late_cap_fen=None,
    )  # fmt: skip
    billing.create_fee_item(hist, c.id, "GTF", "公摊费", "inner_area", unit_price="0.30", cycle="quarterly",
                            billing_mode="advance")  # fmt: skip
    billing.create_fee_item(hist, c.id, "LJF", "生活垃圾处理费", "fixed", amount_fen=1_500)

    # Many owners pay once a year (as is common), others every quarter or month; a few have stopped paying.
    habit = {
        h.id: rng.choices(("yearly", "quarterly", "monthly", "late"), (55, 25, 12, 8))[0] for h in houses
    }
    stopped_at = {h.id: rng.randrange(4, 10) for h in houses if habit[h.id] == "late"}
    for index, month in enumerate(months):
        period = f"{month:%Y-%m}"
        progress(_("Bill run and payments for {period} …").format(period=period))
        clock.set(_at(month))
        billing.bill_run(hist, period, community_id=c.id)
        if month > now_day.replace(day=1) - timedelta(days=1):
            break  # the current month is billed but not yet paid
        clock.set(_at(month + timedelta(days=rng.randrange(5, 20)), hour=3))
        # One transaction per month: the payments of a month commit together (a demo, not a counter).
        with hist.uow("property.counter.pay") as uow:
            for h in houses:
                kind = habit[h.id]
                if kind == "late" and index >= stopped_at[h.id]:
                    continue
                if kind == "quarterly" and index % 3 != 2:
                    continue
                if kind == "yearly" and index != len(months) - 2:
                    continue
                due = sum(line.outstanding_fen for line in billing.outstanding(hist, h.id))
                if due <= 0:
                    continue
                channel = rng.choices(("cash", "wechat", "alipay", "pos"), (30, 35, 25, 10))[0]
                extra = 100_00 if rng.random() < 0.03 else 0  # a few owners pay ahead: their prepaid balance
                record = billing.PaymentRecord(h.id, channel, due + extra, f"DEMO-{period}-{h.code}")
                billing.settle_payment_in(uow, record)
    return True
