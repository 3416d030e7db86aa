"""The collection and arrears ageing reports from a community with known bills and payments, checked
against core.property's own figures; both formats read back, the chart present in each."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import NotFound, ValidationError
from core.property import billing
from core.property import services as ps
from reports import registry
from reports.period import parse_period
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, sheet_table, workbook

HOUSE_FEE = 22_375  # 89.50 m² × 2.50 元


@pytest.fixture
def community(ctx):
    c = ps.create_community(ctx, "C1", "幸福里小区", address="北京市朝阳区幸福路1号")
    houses = {}
    for building in ("1", "2"):
        ps.create_building(ctx, c.id, building, floors=18)
        for number in ("101", "102") if building == "1" else ("101",):
            h = ps.HouseInput(building, "1", number, 8950, 7000, floor=1, layout="2室1厅", status="occupied",
                              charge_start_on=date(2026, 1, 1))  # fmt: skip
            houses[f"{building}-{number}"] = ps.add_house(ctx, c.id, h)
    billing.create_fee_item(ctx, c.id, "WYF", "物业费", "building_area", unit_price="2.50")
    for period in ("2026-09", "2026-10", "2026-11"):
        billing.bill_run(ctx, period)
    billing.pay_at_counter(ctx, houses["1-101"].id, 3 * HOUSE_FEE, "cash")
    billing.pay_at_counter(ctx, houses["2-101"].id, 30_000, "wechat")  # September and part of October
    return ctx, c


def test_collection_numbers(community):
    ctx, c = community
    data = registry.collect(ctx, "collection", registry.ReportParams(parse_period("2026-Q4"), community="C1"))
    # Q4 holds October and November only: 2 months × 3 houses.
    by_building, by_item, by_month = data.tables
    assert by_building.totals["receivable"] == 6 * HOUSE_FEE
    data = registry.collect(
        ctx, "collection", registry.ReportParams(parse_period("2026-09-01..2026-11-30"), community="C1")
    )
    by_building, by_item, by_month = data.tables
    assert [(r[0], r[2], r[3], r[5]) for r in by_building.rows] == [
        ("1", 6 * HOUSE_FEE, 3 * HOUSE_FEE, 3 * HOUSE_FEE),
        ("2", 3 * HOUSE_FEE, 30_000, 3 * HOUSE_FEE - 30_000),
    ]
    assert [(r[0], r[2], r[3]) for r in by_month.rows] == [
        ("2026-09", 3 * HOUSE_FEE, 2 * HOUSE_FEE),
        ("2026-10", 3 * HOUSE_FEE, HOUSE_FEE + 30_000 - HOUSE_FEE),
        ("2026-11", 3 * HOUSE_FEE, HOUSE_FEE),
    ]
    (item,) = by_item.rows
    stats = billing.collection_stats(ctx, "2026-09", "2026-11", by="fee_item", community_id=c.id)
    assert (item[0], item[2], item[3], item[5]) == (
        "WYF",
        stats[0].receivable_fen,
        stats[0].received_fen,
        stats[0].outstanding_fen,
    )
    assert item[6] == Decimal("0.4823")  # 97,125 / 201,375
    for table in data.tables:  # every grouping adds up to the same whole
        assert table.totals["receivable"] == 201_375 and table.totals["received"] == 97_125
        assert table.totals["rate"] == Decimal("0.4823")  # the whole's rate, not a sum of the rows' rates
    assert data.chart.categories == ["2026-09", "2026-10", "2026-11"]


def test_collection_excel_and_pdf(community, zh, tmp_path):
    ctx, _ = community
    params = registry.ReportParams(parse_period("2026-09-01..2026-11-30"), community="C1")
    wb = workbook(registry.render(ctx, "collection", params, "xlsx"))
    assert len(wb.worksheets) == 4 and len(wb.worksheets[-1]._charts) == 1
    header, rows, header_row = sheet_table(wb.worksheets[0])
    assert header[:4] == ["编码", "名称", "应收", "实收"]
    assert [Decimal(str(r[3])) for r in rows[:2]] == [Decimal("671.25"), Decimal("300")]
    assert rows[2][3] == f"=SUM(D{header_row + 1}:D{header_row + 2})"
    assert wb.worksheets[0].cell(header_row + 1, 7).number_format == "0.00%"
    content = registry.render(ctx, "collection", params, "pdf")
    pages = pdf_text(content)
    text = "".join(pages)
    for expected in (
        "物业费收缴统计表",
        "幸福里小区",
        "按楼栋",
        "按收费项目",
        "按月份",
        "2,013.75",
        "971.25",
        "48.23%",
        "各月应收与实收",
    ):
        assert expected in text, expected
    assert_no_tofu(text)
    images = pdf_pngs(content, tmp_path / "collection")
    assert len(images) == len(pages) >= 1
    for img in images:
        assert_not_blank(img)


def test_collection_of_every_community_without_a_filter(community):
    ctx, _ = community
    data = registry.collect(ctx, "collection", registry.ReportParams(parse_period("2026-11")))
    (row,) = data.tables[0].rows
    assert row[:4] == ("C1", "幸福里小区", 3 * HOUSE_FEE, HOUSE_FEE)


def test_arrears_ageing_matches_the_property_figures(community, zh):
    ctx, c = community
    params = registry.ReportParams(parse_period("2027-01-20"), community="C1")
    data = registry.collect(ctx, "arrears_ageing", params)
    (table,) = data.tables
    rows = {r[0]: r for r in table.rows}
    assert rows["1"][1] == 1 and rows["1"][-1] == 3 * HOUSE_FEE
    assert rows["2"][1] == 1 and rows["2"][-1] == 3 * HOUSE_FEE - 30_000
    whole = billing.arrears(ctx, community_id=c.id, as_of=date(2027, 1, 20))
    assert table.totals["total"] == whole.total_fen == 201_375 - 97_125
    # due 2026-10-15 → 97 days; 2026-11-15 and 2026-12-15 → 31-90 days
    assert whole.buckets["91-180"] == HOUSE_FEE and table.totals["b2"] == HOUSE_FEE
    wb = workbook(registry.render(ctx, "arrears_ageing", params, "xlsx"))
    _, xrows, _ = sheet_table(wb.worksheets[0])
    assert sum(Decimal(str(r[-1])) for r in xrows[:2]) == Decimal("1042.50")
    text = pdf_text(registry.render(ctx, "arrears_ageing", params, "pdf"))[0]
    assert "欠费账龄分析表" in text and "1,042.50" in text


def test_arrears_ageing_needs_a_real_community(community):
    ctx, _ = community
    with pytest.raises(ValidationError):
        registry.collect(ctx, "arrears_ageing", registry.ReportParams(parse_period("2026-11")))
    with pytest.raises(NotFound):
        registry.collect(
            ctx, "arrears_ageing", registry.ReportParams(parse_period("2026-11"), community="NOPE")
        )
