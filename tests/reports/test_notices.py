"""Batch notices (缴费通知单, 催缴通知单), prepaid balances and deposits held, from a community with known bills,
payments, a prepaid overpayment and a deposit: figures checked against core.property and the ledger, both
formats read back, the PDF turned into PNG pages through reports.preview."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.errors import NotFound, ValidationError
from core.ledger import services as L
from core.property import billing
from core.property import services as ps
from reports import notices, registry
from reports.period import parse_period
from tests.reports.conftest import assert_no_tofu, pdf_text, sheet_table, workbook
from tests.reports.test_preview import assert_png_pages, pending_zh

HOUSE_FEE = 22_375  # 89.50 m² × 2.50 元
DEPOSIT = 200_000
PNG_DIR = Path("/tmp/anju-report-pngs")


@pytest.fixture
def zh2(zh, monkeypatch):
    pending_zh(monkeypatch)
    return zh


@pytest.fixture
def estate(ctx):
    """C1 幸福里小区: houses 1-1-101 (张三, paid up and 100.00 prepaid), 1-1-102 (nobody paid the fees; its
    2,000.00 renovation deposit paid), 2-1-101 (李四, paid 300.00); bills for 2026-09…11, today 2026-11-25."""
    c = ps.create_community(ctx, "C1", "幸福里小区", address="北京市朝阳区幸福路1号")
    houses = {}
    for building in ("1", "2"):
        ps.create_building(ctx, c.id, building, floors=18)
        for number in ("101", "102") if building == "1" else ("101",):
            h = ps.HouseInput(building, "1", number, 8950, 7000, floor=1, layout="2室1厅", status="occupied",
                              charge_start_on=date(2026, 1, 1))  # fmt: skip
            houses[f"{building}-{number}"] = ps.add_house(ctx, c.id, h)
    for name, key in (("张三", "1-101"), ("李四", "2-101")):
        owner = ps.create_owner(ctx, ps.OwnerInput(name))
        ps.add_occupant(
            ctx, houses[key].id, owner.id, "owner", share_bp=10_000, move_in_date=date(2026, 1, 1)
        )
    billing.create_fee_item(
        ctx, c.id, "WYF", "物业费", "building_area", unit_price="2.50", late_daily_rate="0.0005"
    )
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=DEPOSIT)
    for period in ("2026-09", "2026-10", "2026-11"):
        billing.bill_run(ctx, period)
    deposit_bill = billing.charge_once(ctx, houses["1-102"].id, "ZXBZJ")
    billing.pay_at_counter(ctx, houses["1-101"].id, 3 * HOUSE_FEE + 10_000, "cash")
    billing.pay_at_counter(ctx, houses["2-101"].id, 30_000, "wechat")
    billing.pay_at_counter(ctx, houses["1-102"].id, DEPOSIT, "pos", bill_ids=[deposit_bill])
    return ctx, c, houses


def _params(period: str, **options: str) -> registry.ReportParams:
    return registry.ReportParams(parse_period(period), community="C1", options=options)


def _balance(ctx, prefix: str, as_of: date) -> int:
    """Credit balance of the PROPERTY accounts starting with `prefix`, from the ledger itself."""
    lines = L.trial_balance(ctx, "PROPERTY", as_of=as_of)
    return sum(ln.credits_fen - ln.debits_fen for ln in lines if ln.account_code.startswith(prefix))


def test_arrears_notice_figures_match_core(estate):
    ctx, c, houses = estate
    data = registry.collect(ctx, "arrears_notice", _params("2026-11"))
    assert dict(data.facts)["As of"] == "2026-11-25"  # the period's end is later than today
    (table,) = data.tables
    rows = {r[0]: r for r in table.rows}
    assert list(rows) == ["1-1-102", "2-1-101"]  # 1-1-101 is paid up: no notice
    on = date(2026, 11, 25)
    assert rows["1-1-102"][2:5] == (2, date(2026, 10, 15), 2 * HOUSE_FEE)
    assert rows["2-1-101"][4] == 2 * HOUSE_FEE - 30_000
    for code, row in rows.items():
        building, _, number = code.split("-")
        late = sum(billing.late_fees(ctx, houses[f"{building}-{number}"].id, on).values())
        assert late > 0 and row[5] == late
        assert row[7] == row[4] + row[5]  # nothing prepaid
    whole = billing.arrears(ctx, community_id=c.id, as_of=on)
    assert table.totals["owed"] == whole.total_fen == 2 * HOUSE_FEE + 2 * HOUSE_FEE - 30_000
    assert len(data.pages) == 2
    form = data.pages[1]
    assert [r[0] for r in form.table.rows] == ["物业费"]
    assert form.table.totals["owed"] == 2 * HOUSE_FEE - 30_000


def test_bill_notice_figures(estate):
    ctx, _, _houses = estate
    data = registry.collect(ctx, "bill_notice", _params("2026-11"))
    rows = {r[0]: r for r in data.tables[0].rows}
    assert list(rows) == ["1-1-102", "2-1-101"]
    # 1-1-102: November unpaid, the paid deposit (billed in November) shown, September and October brought forward.
    _house, payer, area, current, earlier, late, prepaid, to_pay, pay_by = rows["1-1-102"]
    assert (payer, area, current, earlier, prepaid) == ("", Decimal("89.50"), HOUSE_FEE, 2 * HOUSE_FEE, 0)
    assert to_pay == current + earlier + late and pay_by == date(2026, 12, 15)
    assert rows["2-1-101"][1:5] == ("李四", Decimal("89.50"), HOUSE_FEE, 2 * HOUSE_FEE - 30_000)
    form = data.pages[0]
    items = [(r[0], r[1], r[4], r[6]) for r in form.table.rows]
    assert ("装修保证金", "2026-11", DEPOSIT, 0) in items
    assert ("物业费", "2026-09 *", HOUSE_FEE, HOUSE_FEE) in items
    assert form.table.totals["owed"] == 3 * HOUSE_FEE
    # A house that is paid up gets no notice, even when asked for by name.
    assert registry.collect(ctx, "bill_notice", _params("2026-11", house="1-1-101")).pages == []


def test_notices_narrow_to_a_building_or_a_house(estate):
    ctx, _, _ = estate
    one = registry.collect(ctx, "arrears_notice", _params("2026-11", building="2"))
    assert [r[0] for r in one.tables[0].rows] == ["2-1-101"] and ("Building", "2") in one.facts
    house = registry.collect(ctx, "bill_notice", _params("2026-11", house="1-1-102"))
    assert [r[0] for r in house.tables[0].rows] == ["1-1-102"]
    with pytest.raises(NotFound):
        registry.collect(ctx, "arrears_notice", _params("2026-11", building="9"))
    with pytest.raises(NotFound):
        registry.collect(ctx, "bill_notice", _params("2026-11", house="9-9-999"))
    with pytest.raises(ValidationError):  # a notice batch is for a community
        registry.collect(ctx, "bill_notice", registry.ReportParams(parse_period("2026-11")))


def test_notice_pdf_one_page_per_house(estate, zh2):
    ctx, _, _ = estate
    content = registry.render(ctx, "arrears_notice", _params("2026-11"), "pdf")
    pages = pdf_text(content)
    assert len(pages) == 2
    for i, (text, name) in enumerate(zip(pages, ("1-1-102", "2-1-101"), strict=True), start=1):
        assert "催缴通知单" in text and name in text and f"第 {i} 页 / 共 2 页" in text, text
        assert_no_tofu(text)
    assert "尊敬的 李四" in pages[1] and "147.50" in pages[1]  # 2 × 223.75 − 300.00
    assert "447.50" in pages[0]  # 2 × 223.75
    assert_png_pages(content, 2, PNG_DIR / "arrears_notice")
    bill = registry.render(ctx, "bill_notice", _params("2026-11"), "pdf")
    text = pdf_text(bill)
    assert len(text) == 2 and "缴费通知单" in text[0] and "2,000.00" in text[0] and "671.25" in text[0]
    assert_png_pages(bill, 2, PNG_DIR / "bill_notice")


def test_notice_excel_one_row_per_house(estate, zh2):
    ctx, _, _ = estate
    wb = workbook(registry.render(ctx, "arrears_notice", _params("2026-11"), "xlsx"))
    header, rows, header_row = sheet_table(wb.worksheets[0])
    assert header[:5] == ["房屋", "缴款人", "欠费笔数", "最早欠费日", "欠费"]
    assert [r[0] for r in rows[:2]] == ["1-1-102", "2-1-101"]
    assert [Decimal(str(r[4])) for r in rows[:2]] == [Decimal("447.50"), Decimal("147.50")]
    assert rows[2][4] == f"=SUM(E{header_row + 1}:E{header_row + 2})"
    assert wb.worksheets[0].cell(header_row + 1, 5).number_format == "#,##0.00"


def test_a_long_arrears_history_still_fits_one_page(zh2):
    """More lines than fit: summed per fee item, one page per house all the same."""
    from core.property.report_reads import DueLine

    lines = [
        DueLine("WYF", "物业费", f"{2024 + m // 12}-{m % 12 + 1:02d}", "89.50", "2.50", HOUSE_FEE, 0,
                date(2024 + m // 12, m % 12 + 1, 15), 100, False)
        for m in range(30)
    ] + [DueLine("SF", "水费", f"2026-{m:02d}", "12", "5.00", 6_000, 1_000, date(2026, m, 20), 0, False)
         for m in range(1, 11)]  # fmt: skip
    folded = notices._collapse(lines)
    assert [(ln.item_code, ln.period, ln.amount_fen, ln.late_fee_fen) for ln in folded] == [
        ("SF", "2026-01 – 2026-10", 60_000, 0),
        ("WYF", "2024-01 – 2026-06", 30 * HOUSE_FEE, 3_000),
    ]
    assert notices._collapse(lines[:5]) == lines[:5]


def test_prepaid_balances_add_up_to_the_ledger(estate, zh2):
    ctx, c, _houses = estate
    data = registry.collect(ctx, "prepaid_balances", _params("2026-11"))
    (table,) = data.tables
    assert [(r[0], r[1], r[2], r[3], r[6]) for r in table.rows] == [("1-1-101", "张三", 0, 10_000, 10_000)]
    assert (
        table.totals["closing"]
        == billing.prepaid_total(ctx, c.id)
        == _balance(ctx, "2203", date(2026, 11, 30))
    )
    before = registry.collect(ctx, "prepaid_balances", _params("2026-10"))
    assert before.tables[0].rows == [] and _balance(ctx, "2203", date(2026, 10, 31)) == 0
    wb = workbook(registry.render(ctx, "prepaid_balances", _params("2026-11"), "xlsx"))
    _, rows, _ = sheet_table(wb.worksheets[0])
    assert Decimal(str(rows[0][6])) == Decimal("100.00")
    content = registry.render(ctx, "prepaid_balances", _params("2026-11"), "pdf")
    text = "".join(pdf_text(content))
    assert "预收款余额表" in text and "100.00" in text
    assert_no_tofu(text)
    assert_png_pages(content, 1, PNG_DIR / "prepaid_balances")


def test_deposits_held_add_up_to_the_ledger(estate, zh2):
    ctx, _, _ = estate
    data = registry.collect(ctx, "deposits_held", _params("2026-11"))
    (table,) = data.tables
    ((house, _, item, _, on, amount, received, returned, held, unpaid),) = table.rows
    assert (house, item, on, amount, received, returned, held, unpaid) == (
        "1-1-102",
        "ZXBZJ 装修保证金",
        date(2026, 11, 25),
        DEPOSIT,
        DEPOSIT,
        0,
        DEPOSIT,
        0,
    )
    assert table.totals["amount"] == _balance(ctx, "2241", date(2026, 11, 30)) == DEPOSIT
    assert registry.collect(ctx, "deposits_held", _params("2026-10")).tables[0].rows == []
    content = registry.render(ctx, "deposits_held", _params("2026-11"), "pdf")
    assert "押金台账" in pdf_text(content)[0]
    assert_no_tofu(pdf_text(content)[0])
    assert_png_pages(content, 1, PNG_DIR / "deposits_held")


def test_preview_of_a_notice_batch(estate):
    """What the apps show before printing: one PNG per notice."""
    from reports import preview

    ctx, _, _ = estate
    pngs = preview.render_report(ctx, "arrears_notice", _params("2026-11"), dpi=50)
    assert len(pngs) == 2 and all(p.startswith(b"\x89PNG") for p in pngs)
    with pytest.raises(ValidationError):
        preview.render_report(ctx, "arrears_notice", _params("2026-11"), dpi=5)


def test_reads_refuse_bad_input_and_need_the_property_permission(estate):
    from core.errors import PermissionDenied
    from core.property import report_reads as rr
    from tests.property.ops_support import as_person

    ctx, c, _ = estate
    kw = dict(community_id=c.id, period_from="2026-11", period_to="2026-11", as_of=date(2026, 11, 25))
    with pytest.raises(ValidationError):
        rr.house_dues(ctx, "reminder", **kw)
    with pytest.raises(ValidationError):
        rr.house_dues(ctx, "bill", **{**kw, "period_from": "2026-13"})
    with pytest.raises(ValidationError):
        rr.prepaid_balances(ctx, start=date(2026, 11, 30), end=date(2026, 11, 1))
    with pytest.raises(ValidationError):
        rr.activity_signups(ctx, start=date(2026, 11, 30), end=date(2026, 11, 1))
    reader = as_person(ctx, "viewer", "reports.view")  # may print reports, may not see property data
    for name in ("bill_notice", "prepaid_balances", "deposits_held"):
        with pytest.raises(PermissionDenied):
            registry.collect(reader, name, _params("2026-11"))


def test_deposits_held_less_what_was_refunded_or_kept_still_add_up_to_the_ledger(estate):
    """After a deduction and a refund the report no longer shows the whole deposit as held: what is held is
    received less refunded or kept, and charged less refunded or kept is the 2241 balance."""
    from core.property import deposits
    from core.workflow import services as wf
    from tests.property.helpers import person

    ctx, _, houses = estate
    (dep,) = deposits.list_deposits(ctx, house_id=houses["1-102"].id)
    clerk = person(ctx, "zhao", "property", perms=("property.*", "workflow.submit", "workflow.view"))
    deposits.deduct(clerk, dep.id, 10_000, "损坏公共设施")
    rf = deposits.request_refund(clerk, dep.id, 50_000, "部分退还", method="cash")
    wf.approve(person(ctx, "wang", "approver", perms=("workflow.*", "property.view")), rf.approval_id)
    from core.payments import shifts  # cash paid back at the counter leaves the clerk's open shift

    shifts.open_shift(person(ctx, "zhao", "cashier", perms=("payments.shift.open",)), 0)
    deposits.pay_refund(clerk, rf.id)
    data = registry.collect(ctx, "deposits_held", _params("2026-11"))
    (table,) = data.tables
    keys = [c.key for c in table.columns]
    (row,) = table.rows
    got = dict(zip(keys, row, strict=True))
    assert (got["amount"], got["received"], got["returned"], got["held"], got["unpaid"]) == (
        DEPOSIT, DEPOSIT, 60_000, DEPOSIT - 60_000, 0,
    )  # fmt: skip
    ledger_2241 = _balance(ctx, "2241", date(2026, 11, 30))
    assert ledger_2241 == DEPOSIT - 60_000 == table.totals["amount"] - table.totals["returned"]
    assert table.totals["held"] == deposits.deposits_held(ctx).balance_fen
    # As of October's end nothing was charged yet; the month's report reads back as Excel.
    assert registry.collect(ctx, "deposits_held", _params("2026-10")).tables[0].rows == []
    assert registry.render(ctx, "deposits_held", _params("2026-11"), "xlsx")
