"""The renderers on their own: Excel cells round-trip exactly through both row writers, awkward text stays
intact, periods parse, a chart reaches both formats, long text wraps instead of running over."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from reports.model import Chart, Column, ReportData, Table
from reports.pdf import render_pdf
from reports.period import parse_period
from reports.xlsx import render_xlsx
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, sheet_table, workbook

COLS = (
    Column("name", "Name", width=30),
    Column("day", "Date", "date", 10),
    Column("n", "Count", "int", 8, total=True),
    Column("amount", "Amount", "money", 12, total=True),
    Column("rate", "Rate", "percent", 8),
)
ROWS = [
    ("A & B <c> \x07bell", date(2026, 11, 3), 3, -5, Decimal("0.1234")),
    ("  leading spaces", date(2026, 2, 28), 0, 123_456_789_012, None),
    (None, None, None, None, Decimal("1")),
    ("喆堃玥 " * 30, date(2026, 11, 30), 12, 1, Decimal("0")),
]


def data(rows=ROWS, **kw) -> ReportData:
    return ReportData(
        name="t",
        title="Test",
        period_label="2026-11",
        tables=[Table(COLS, rows, totals={"n": 15, "amount": 123_456_789_008})],
        site_name="测试站点",
        printed_at=datetime(2026, 11, 25, 2, tzinfo=UTC),
        printed_by="tester",
        **kw,
    )


@pytest.mark.parametrize("fast", [True, False])
def test_excel_cells_round_trip(fast, monkeypatch):
    import reports.xlsx_rows

    monkeypatch.setattr(reports.xlsx_rows, "LXML", not fast)  # False → our row writer, True → openpyxl's
    ws = workbook(render_xlsx(data())).worksheets[0]
    header, rows, header_row = sheet_table(ws)
    assert header == ["Name", "Date", "Count", "Amount", "Rate"]
    r1, r2, r3, r4 = rows[:4]
    assert r1[0] == "A & B <c> bell"  # the control character is dropped, the rest kept
    assert r1[1] == datetime(2026, 11, 3)
    assert (r1[2], Decimal(str(r1[3])), Decimal(str(r1[4]))) == (3, Decimal("-0.05"), Decimal("0.1234"))
    assert r2[0] == "  leading spaces" and Decimal(str(r2[3])) == Decimal("1234567890.12")
    assert r3[:4] == [None, None, None, None]
    assert r4[0].startswith("喆堃玥")
    assert ws.cell(header_row + 1, 4).number_format == "#,##0.00"
    assert ws.cell(header_row + 1, 5).number_format == "0.00%"
    assert ws.cell(header_row + 1, 2).number_format == "yyyy-mm-dd"
    assert rows[4][3] == f"=SUM(D{header_row + 1}:D{header_row + 4})"


def test_pdf_wraps_long_text_and_prints_totals(zh, tmp_path):
    content = render_pdf(data())
    (text,) = pdf_text(content)
    assert "1,234,567,890.08" in text and "-0.05" in text and "12.34%" in text
    assert text.count("喆堃玥") == 30
    assert_no_tofu(text)
    (img,) = pdf_pngs(content, tmp_path / "wrap", scale=1.3)
    assert_not_blank(img)


def test_chart_in_pdf_and_excel(zh, tmp_path):
    chart = Chart(
        "Collection",
        ["1栋", "2栋", "3栋"],
        [("Receivable", [100_000, 80_000, 0]), ("Collected", [90_000, 20_000, 0])],
    )
    report = data(chart=chart)
    wb = workbook(render_xlsx(report))
    chart_ws = wb.worksheets[-1]
    assert len(chart_ws._charts) == 1
    assert next(chart_ws.iter_rows(min_row=2, values_only=True))[:3] == ("1栋", 1000, 900)
    content = render_pdf(report)
    (text,) = pdf_text(content)
    assert "Collection" in text and "2栋" in text
    (img,) = pdf_pngs(content, tmp_path / "chart")
    assert_not_blank(img)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2024-2", date(2024, 2, 1), date(2024, 2, 29)),
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-11-03", date(2026, 11, 3), date(2026, 11, 3)),
        ("2026-11-01..2026-11-15", date(2026, 11, 1), date(2026, 11, 15)),
    ],
)
def test_periods(text, start, end):
    p = parse_period(text)
    assert (p.start, p.end) == (start, end)


@pytest.mark.parametrize(
    "bad", ["", "2026-13", "2026-Q5", "11/2026", "2026-11-30..2026-11-01", "1990-01-01..2026-01-01", "x"]
)
def test_bad_periods_refused(bad):
    with pytest.raises(ValidationError):
        parse_period(bad)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(0, 800))
def test_months_tile_the_period(start, days):
    end = date.fromordinal(start.toordinal() + days)
    p = parse_period(f"{start.isoformat()}..{end.isoformat()}")
    months = p.months()
    assert months[0][0] == start and months[-1][1] == end
    for (_, a_end, _), (b_start, _, _) in itertools.pairwise(months):
        assert date.fromordinal(a_end.toordinal() + 1) == b_start


def _page_break_report(rows_n: int, signatures: tuple[str, ...] = ()) -> bytes:
    cols = (Column("name", "Name", width=30), Column("amount", "Amount", "money", 12, total=True))
    rows = [(f"row {i:03d}", i) for i in range(1, rows_n + 1)]
    return render_pdf(
        ReportData(
            name="t",
            title="Test",
            period_label="2026-11",
            tables=[Table(cols, rows, totals={"amount": sum(r[1] for r in rows)})],
            site_name="测试站点",
            printed_at=datetime(2026, 11, 25, 2, tzinfo=UTC),
            printed_by="tester",
            signatures=signatures,
        )
    )


def _rows_on(page_text: str) -> list[str]:
    return [line for line in page_text.splitlines() if line.startswith("row ")]


def test_a_page_break_never_leaves_the_totals_or_the_signatures_alone():
    # For every length that spills onto a second page, the last page holds at least one data row with the
    # totals row, and the signature lines stand under the table's end, not on a page of their own.
    first_page_rows = None
    for n in range(30, 90):
        pages = pdf_text(_page_break_report(n))
        if len(pages) > 1 and first_page_rows is None:
            first_page_rows = n
        last = pages[-1]
        assert "Total" in last
        if len(pages) > 1:
            assert _rows_on(last), f"{n} rows: the totals row alone on page {len(pages)}"
        assert sum(len(_rows_on(p)) for p in pages) == n
    assert first_page_rows is not None, "no length tried spills over a page"
    for n in range(first_page_rows - 6, first_page_rows + 2):
        pages = pdf_text(_page_break_report(n, signatures=("Prepared by", "Checked by")))
        assert "Prepared by" in pages[-1]
        assert _rows_on(pages[-1]), f"{n} rows: the signature lines alone on page {len(pages)}"
        assert "Name" in pages[-1]  # the header repeats above the carried-over rows
        assert sum(len(_rows_on(p)) for p in pages) == n


def test_a_total_that_is_not_a_sum_is_printed_and_written(zh):
    cols = (Column("n", "Count", "int", 8, total=True), Column("rate", "Rate", "percent", 8))
    report = ReportData(
        name="t",
        title="Test",
        period_label="2026-11",
        tables=[
            Table(cols, [(1, Decimal("0.5")), (3, Decimal("0.25"))], totals={"n": 4, "rate": Decimal("0.3")})
        ],
        site_name="测试站点",
        printed_at=datetime(2026, 11, 25, 2, tzinfo=UTC),
        printed_by="tester",
    )
    (text,) = pdf_text(render_pdf(report))
    assert "30.00%" in text
    ws = workbook(render_xlsx(report)).worksheets[0]
    _header, rows, _row = sheet_table(ws)
    assert rows[2][0].startswith("=SUM(") and Decimal(str(rows[2][1])) == Decimal("0.3")
