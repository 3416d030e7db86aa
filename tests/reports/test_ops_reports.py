"""Repairs, parking usage and activity sign-up reports from known work orders, car parks and activities:
per-group figures checked by hand and their totals against the business packages' own statistics; both
formats read back and the PDFs previewed as PNG."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import NotFound, ValidationError
from core.property.activities import services as act
from core.property.ops import services as ops
from core.property.parking import rules as prules
from core.property.parking import services as park
from core.property.repairs import services as rs
from reports import registry
from reports.period import parse_period
from tests.property.ops_support import as_person, make_base
from tests.reports.conftest import assert_no_tofu, pdf_text, sheet_table, workbook
from tests.reports.test_preview import assert_png_pages, pending_zh

PNG_DIR = Path("/tmp/anju-report-pngs")
RULE = prules.FeeRule(free_minutes=15, first_minutes=60, first_fen=500, step_minutes=30, step_fen=200)


@pytest.fixture
def zh2(zh, monkeypatch):
    pending_zh(monkeypatch)
    return zh


def _params(period: str = "2026-11", community: str | None = "C1") -> registry.ReportParams:
    return registry.ReportParams(parse_period(period), community=community)


@pytest.fixture
def repairs(ctx, clock):
    """Three orders reported 2026-11-25: two plumbing (one on time, one late on both counts, rated 5 / 4 and
    charged 50.00), one lift order cancelled."""
    base = make_base(ctx)
    rs.define_repair_type(ctx, "plumbing", "水电维修", response_minutes=60, completion_minutes=240)
    rs.define_repair_type(
        ctx, "lift", "电梯", response_minutes=10, completion_minutes=120, grab_allowed=False
    )
    worker = as_person(ctx, "w1", "property.repairs.work", "property.repairs.view")
    kw = dict(community_id=base.community_id, description="厨房水管漏水", house_id=base.house_ids[0])
    fast, slow = (rs.report(ctx, repair_type="plumbing", **kw) for _ in range(2))
    lift = rs.report(ctx, repair_type="lift", **kw)
    for order in (fast, slow):
        rs.assign(ctx, order.id, "w1")
    clock.advance(minutes=30)
    rs.accept(worker, fast.id)
    rs.start(worker, fast.id)
    clock.advance(minutes=60)  # 90 minutes after the report: the response was late
    rs.accept(worker, slow.id)
    rs.start(worker, slow.id)
    clock.advance(minutes=90)  # 180
    rs.complete(worker, fast.id, note="换阀门", paid=True, labor_fen=5000)
    rs.rate(ctx, fast.id, speed=5, quality=4)
    clock.advance(minutes=120)  # 300: completion late
    rs.complete(worker, slow.id, note="换水管")
    rs.cancel(ctx, lift.id, "业主撤回")
    return ctx, base


def test_repairs_by_type(repairs, zh2):
    ctx, base = repairs
    data = registry.collect(ctx, "repairs", _params())
    (table,) = data.tables
    rows = {r[0]: r for r in table.rows}
    assert rows["lift 电梯"][1:5] == (1, 0, 1, 0)
    plumbing = rows["plumbing 水电维修"]
    assert plumbing[1:5] == (2, 2, 0, 0)
    assert plumbing[5:7] == (Decimal("1.0"), Decimal("4.0"))  # (30 + 90) / 2 min, (180 + 300) / 2 min
    assert plumbing[7:] == (1, 1, 1, Decimal("5.0"), Decimal("4.0"), 5000)
    whole = rs.statistics(
        ctx, community_id=base.community_id, start=date(2026, 11, 1), end=date(2026, 11, 30)
    )
    assert table.totals["orders"] == whole.orders == 3
    assert table.totals["completed"] == whole.completed and table.totals["charged"] == whole.paid_fen
    assert (
        table.totals["resp_late"] == whole.response_late
        and table.totals["comp_late"] == whole.completion_late
    )
    assert registry.collect(ctx, "repairs", _params("2026-10")).tables[0].rows == []
    wb = workbook(registry.render(ctx, "repairs", _params(), "xlsx"))
    header, xrows, header_row = sheet_table(wb.worksheets[0])
    assert header[:2] == ["报修类型", "工单数"] and len(wb.worksheets[-1]._charts) == 1
    assert rows_by_first(xrows)["plumbing 水电维修"][12] == 50
    assert xrows[2][1] == f"=SUM(B{header_row + 1}:B{header_row + 2})"
    content = registry.render(ctx, "repairs", _params(), "pdf")
    text = "".join(pdf_text(content))
    for expected in ("报修统计表", "水电维修", "完成率", "66.67%", "50.00"):
        assert expected in text, expected
    assert_no_tofu(text)
    assert_png_pages(content, len(pdf_text(content)), PNG_DIR / "repairs")


def rows_by_first(rows: list[list]) -> dict:
    return {r[0]: r for r in rows if r and r[0]}


def test_parking_usage(ctx, clock, zh2):
    base = make_base(ctx)
    b1 = park.create_area(ctx, base.community_id, "B1", "地下一层", "underground")
    fixed = park.add_spaces(ctx, b1.id, ["B1-001", "B1-002", "B1-003", "B1-004"], kind="fixed")
    park.add_spaces(ctx, b1.id, ["T-01", "T-02"], kind="temporary")
    g = park.create_area(ctx, base.community_id, "G", "地面", "above_ground")
    park.add_spaces(ctx, g.id, ["G-01"], kind="temporary")
    park.assign_space(ctx, fixed[0].id, base.house_ids[0])
    park.rent_space(ctx, fixed[1].id, house_id=base.house_ids[1], start_date=date(2026, 11, 10),
                    end_date=date(2027, 11, 9), monthly_fee_fen=30_000)  # fmt: skip
    park.rent_space(ctx, fixed[2].id, house_id=base.house_ids[2], start_date=date(2026, 6, 1),
                    end_date=date(2026, 10, 31), monthly_fee_fen=25_000)  # ended before November's end  # fmt: skip
    park.set_fee_rule(ctx, base.community_id, RULE)
    for plate in ("粤B12345D", "京B23456"):
        park.vehicle_enter(ctx, b1.id, plate)
    park.vehicle_enter(ctx, g.id, "京C34567")
    clock.advance(minutes=95)
    park.vehicle_exit(ctx, b1.id, "粤B12345D")  # 95 min: 5.00 + 2 × 2.00
    park.vehicle_exit(ctx, b1.id, "京B23456")
    data = registry.collect(ctx, "parking_usage", _params())
    (table,) = data.tables
    (b1_row, g_row) = table.rows
    # Spaces as they are now (the ended contract's space is still marked rented); one contract runs on 11-30.
    assert b1_row[:6] == ("B1 地下一层", 6, 3, 1, 2, 0)
    assert b1_row[6] == Decimal("0.5") and b1_row[7:] == (1, 30_000, 2, 2, 1_800)
    assert g_row[1:] == (1, 1, 0, 0, 0, Decimal("0"), 0, 0, 1, 0, 0)
    whole = park.usage_statistics(ctx, base.community_id, start=date(2026, 11, 1), end=date(2026, 11, 30))
    assert table.totals["temp_fee"] == whole.temporary_fee_fen == 1_800
    assert table.totals["entries"] == whole.entries and table.totals["spaces"] == whole.spaces == 7
    wb = workbook(registry.render(ctx, "parking_usage", _params(), "xlsx"))
    _, xrows, _ = sheet_table(wb.worksheets[0])
    assert Decimal(str(xrows[0][11])) == Decimal("18.00") and xrows[0][6] == pytest.approx(0.5)
    content = registry.render(ctx, "parking_usage", _params(), "pdf")
    text = "".join(pdf_text(content))
    assert "停车使用统计表" in text and "18.00" in text and "50.00%" in text and "42.86%" in text
    assert_no_tofu(text)
    assert_png_pages(content, len(pdf_text(content)), PNG_DIR / "parking_usage")
    with pytest.raises(ValidationError):  # a car park belongs to a community
        registry.collect(ctx, "parking_usage", _params(community=None))
    with pytest.raises(NotFound):
        registry.collect(ctx, "parking_usage", _params(community="NOPE"))


def test_activity_signups(ctx, clock, zh2):
    base = make_base(ctx)
    o = base.owner_ids
    start = clock.now() + timedelta(days=3)
    paid = act.publish(ctx, act.plan(ctx, community_id=base.community_id, title="中秋游园会", content="猜灯谜",
                                     place="中心花园", starts_at=start, ends_at=start + timedelta(hours=2),
                                     capacity=3, fee_fen=2_000).id)  # fmt: skip
    free = act.publish(ctx, act.plan(ctx, community_id=base.community_id, title="义诊", content="量血压",
                                     place="会所", starts_at=start + timedelta(hours=3),
                                     ends_at=start + timedelta(hours=5), capacity=50).id)  # fmt: skip
    act.signup(ctx, paid.id, o[0], party_size=2, house_id=base.house_ids[0])  # confirmed, 40.00 charged
    act.signup(ctx, paid.id, o[1], party_size=2)  # waiting: 2 + 2 > 3
    act.signup(ctx, paid.id, o[2])  # waiting behind o[1]
    act.signup(ctx, free.id, o[3])
    act.signup(ctx, free.id, o[2])
    act.cancel_signup(ctx, free.id, o[2])
    (charge,) = ops.list_charges(ctx, source_type="activity")
    ops.mark_charge_paid(ctx, charge.id, "HUB-1")
    clock.advance(days=3, minutes=10)
    act.record_attendance(ctx, paid.id, [o[0]])
    data = registry.collect(ctx, "activity_signups", _params())
    rows = {r[0]: r for r in data.tables[0].rows}
    assert rows["中秋游园会"][3:] == (3, 2, 3, 0, 2, Decimal("0.6667"), 2_000, 4_000, 4_000)
    assert rows["义诊"][3:] == (50, 1, 0, 1, 0, Decimal("0.02"), 0, 0, 0)
    stats = act.statistics(ctx, paid.id)
    assert (stats.confirmed_people, stats.waitlisted_people, stats.attended_people, stats.fee_expected_fen) == (
        2, 3, 2, 4_000,
    )  # fmt: skip
    assert data.tables[0].totals["collected"] == 4_000
    assert registry.collect(ctx, "activity_signups", _params("2026-12")).tables[0].rows == []
    wb = workbook(registry.render(ctx, "activity_signups", _params(), "xlsx"))
    header, xrows, _ = sheet_table(wb.worksheets[0])
    assert header[0] == "活动" and Decimal(str(rows_by_first(xrows)["中秋游园会"][11])) == Decimal("40.00")
    content = registry.render(ctx, "activity_signups", _params(), "pdf")
    text = "".join(pdf_text(content))
    assert "活动报名统计表" in text and "中秋游园会" in text and "66.67%" in text
    assert_no_tofu(text)
    assert_png_pages(content, 1, PNG_DIR / "activity_signups")


def test_reports_are_listed(zh2):
    names = {row["name"] for row in registry.listing()}
    assert {"bill_notice", "arrears_notice", "prepaid_balances", "deposits_held", "repairs", "parking_usage",
            "activity_signups"} <= names  # fmt: skip
