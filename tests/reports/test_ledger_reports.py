"""Ledger reports from a book with known numbers: figures read back from Excel and PDF and checked against
the ledger's own services; each PDF rendered to PNG, not blank, with the expected pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.context import Actor
from core.errors import NotFound, PermissionDenied, ValidationError
from core.ledger import services as L
from core.money import fen_to_decimal
from reports import registry
from reports.period import parse_period
from tests.reports.conftest import assert_no_tofu, assert_not_blank, pdf_pngs, pdf_text, sheet_table, workbook

NOV = parse_period("2026-11")


def params(**kw) -> registry.ReportParams:
    return registry.ReportParams(period=kw.pop("period", NOV), book=kw.pop("book", "PROPERTY"), **kw)


def yuan(fen: int) -> Decimal:
    return fen_to_decimal(fen)


def money_cells(rows, col: int) -> list[Decimal]:
    return [Decimal(str(r[col])) for r in rows if r[col] is not None and not str(r[col]).startswith("=")]


def data_rows(rows: list[list]) -> tuple[list[list], list]:
    """Data rows and the totals row (the row whose numeric cells are SUM formulas)."""
    for i, r in enumerate(rows):
        if any(isinstance(v, str) and v.startswith("=SUM(") for v in r):
            return rows[:i], r
    raise AssertionError("no totals row")


def sum_formula_total(ws, formula: str) -> Decimal:
    """Evaluate "=SUM(D6:D13)" over the sheet (openpyxl does not compute formulas)."""
    rng = formula[len("=SUM(") : -1]
    total = Decimal(0)
    for row in ws[rng]:
        for cell in row:
            if cell.value is not None:
                total += Decimal(str(cell.value))
    return total


def test_trial_balance_excel_matches_the_ledger(book):
    ctx = book
    content = registry.render(ctx, "trial_balance", params(), "xlsx")
    ws = workbook(content).worksheets[0]
    header, rows, header_row = sheet_table(ws)
    assert header[:2] == ["Account code", "Account name"]
    body, totals = data_rows(rows)
    closing = {line.account_code: line for line in L.trial_balance(ctx, "PROPERTY", as_of=date(2026, 11, 30))}
    opening = {line.account_code: line for line in L.trial_balance(ctx, "PROPERTY", as_of=date(2026, 10, 31))}
    assert [r[0] for r in body] == sorted(closing)
    for r in body:
        c, o = closing[r[0]], opening[r[0]]
        assert Decimal(str(r[5])) == yuan(c.debits_fen - o.debits_fen)
        assert Decimal(str(r[6])) == yuan(c.credits_fen - o.credits_fen)
        net = c.debits_fen - c.credits_fen
        assert Decimal(str(r[7])) - Decimal(str(r[8])) == yuan(net)
    # Totals are SUM formulas over exactly the data rows; their values are the ledger's totals.
    assert totals[3] == f"=SUM(D{header_row + 1}:D{header_row + len(body)})"
    period_dr = sum_formula_total(ws, totals[5])
    period_cr = sum_formula_total(ws, totals[6])
    assert period_dr == period_cr == Decimal("17650.49")
    assert sum_formula_total(ws, totals[7]) == sum_formula_total(ws, totals[8]) == Decimal("115134.55")
    # Real numbers with the yuan format, a frozen header and a filter over the table.
    assert ws.cell(header_row + 1, 4).number_format == "#,##0.00"
    assert isinstance(ws.cell(header_row + 1, 4).value, int | float)
    assert ws.freeze_panes == f"A{header_row + 1}"
    assert ws.auto_filter.ref == f"A{header_row}:I{header_row + len(body)}"
    assert ws.column_dimensions["B"].width > ws.column_dimensions["C"].width


def test_trial_balance_pdf_in_chinese(book, zh, tmp_path):
    content = registry.render(book, "trial_balance", params(), "pdf")
    pages = pdf_text(content)
    assert len(pages) == 1
    text = pages[0]
    for expected in (
        "试算平衡表",
        "测试站点",
        "2026-11",
        "物业服务收入",
        "17,650.49",
        "115,134.55",
        "借贷平衡",
    ):
        assert expected in text
    for label in ("制表", "审核", "负责人", "第 1 页 / 共 1 页", "打印人：system"):
        assert label in text
    assert_no_tofu(text)
    (img,) = pdf_pngs(content, tmp_path / "tb")
    assert_not_blank(img)
    assert img.width > img.height  # landscape


def test_trial_balance_pdf_embeds_the_cjk_font(book):
    content = registry.render(book, "trial_balance", params(), "pdf")
    assert b"/FontFile2" in content  # an embedded TrueType font program
    assert b"NotoSansSC" in content  # the shipped font, not a system one


def test_account_statement_runs_from_the_opening_balance(book):
    ctx = book
    content = registry.render(ctx, "account_statement", params(account="1001"), "xlsx")
    ws = workbook(content).worksheets[0]
    _, rows, _ = sheet_table(ws)
    body, totals = data_rows(rows)
    assert Decimal(str(body[0][5])) == Decimal("1234.56")  # opening balance row
    assert [Decimal(str(r[3])) for r in body[1:]] == [Decimal("3300"), Decimal("99.99")]
    closing = L.trial_balance(ctx, "PROPERTY", as_of=date(2026, 11, 30))
    (cash,) = [line for line in closing if line.account_code == "1001"]
    assert Decimal(str(body[-1][5])) == yuan(cash.balance_fen) == Decimal("4634.55")
    assert sum_formula_total(ws, totals[3]) == Decimal("3399.99")


def test_account_statement_needs_an_account_and_a_real_one(book):
    with pytest.raises(ValidationError):
        registry.render(book, "account_statement", params(), "pdf")
    with pytest.raises(NotFound):
        registry.render(book, "account_statement", params(account="9999"), "pdf")


def test_journal_lists_every_posting_of_the_period(book, zh):
    content = registry.render(book, "journal", params(), "xlsx")
    ws = workbook(content).worksheets[0]
    _, rows, _ = sheet_table(ws)
    body, totals = data_rows(rows)
    entries = L.journal(book, "PROPERTY", NOV.start, NOV.end, limit=1000)
    assert len(body) == sum(len(e.postings) for e in entries) == 10
    assert sum_formula_total(ws, totals[5]) == sum_formula_total(ws, totals[6]) == Decimal("17650.49")
    text = pdf_text(registry.render(book, "journal", params(), "pdf"))[0]
    assert "序时账" in text and "预收物业费 喆堃" in text and "2203 预收账款" in text


def test_income_statement_known_numbers(book):
    content = registry.render(book, "income_statement", params(), "xlsx")
    wb = workbook(content)
    income_ws, expense_ws, surplus_ws = wb.worksheets
    _, rows, _ = sheet_table(income_ws)
    body, totals = data_rows(rows)
    assert {r[0]: Decimal(str(r[2])) for r in body} == {"6001": Decimal("8800"), "6051": Decimal("99.99")}
    assert sum_formula_total(income_ws, totals[2]) == Decimal("8899.99")
    assert sum_formula_total(income_ws, totals[3]) == Decimal("10134.55")  # year to date
    _, rows, _ = sheet_table(expense_ws)
    body, totals = data_rows(rows)
    assert sum_formula_total(expense_ws, totals[2]) == Decimal("450.50")
    _, rows, _ = sheet_table(surplus_ws)
    assert [Decimal(str(v)) for v in rows[0][1:3]] == [Decimal("8449.49"), Decimal("9684.05")]


def test_balance_sheet_balances_against_the_ledger(book, zh):
    ctx = book
    data = registry.collect(ctx, "balance_sheet", params())
    assets, claims = data.tables
    balances = {
        line.account_code: line.balance_fen for line in L.trial_balance(ctx, "PROPERTY", as_of=NOV.end)
    }
    assert assets.totals["closing"] == sum(balances[c] for c in ("1001", "1002", "1122")) == 11_468_405
    assert claims.totals["closing"] == assets.totals["closing"]
    assert claims.totals["opening"] == assets.totals["opening"] == 10_123_456
    text = pdf_text(registry.render(ctx, "balance_sheet", params(), "pdf"))[0]
    assert "资产负债表" in text and "114,684.05" in text and "资产合计等于负债和净资产合计" in text


def test_a_long_journal_spans_pages_with_page_x_of_y(book, zh, tmp_path):
    ctx = book
    specs = [
        L.EntrySpec(
            "PROPERTY", date(2026, 11, 1 + i % 28), f"收取物业费 {i}", [("1001", 100 + i), ("6001", -100 - i)]
        )
        for i in range(200)
    ]
    L.post_batch(ctx, specs)
    content = registry.render(ctx, "journal", params(), "pdf")
    pages = pdf_text(content)
    n = len(pages)
    assert n >= 5
    for k, text in enumerate(pages, start=1):
        assert f"第 {k} 页 / 共 {n} 页" in text
        assert "借方" in text  # the table header repeats on every page
    images = pdf_pngs(content, tmp_path / "journal")
    assert len(images) == n
    for img in images:
        assert_not_blank(img)


def test_reports_need_the_reports_permission_and_the_ledgers(book):
    ctx = book
    nobody = ctx.as_actor(Actor(None, "clerk", permissions=frozenset({"ledger.view"})))
    with pytest.raises(PermissionDenied):
        registry.render(nobody, "trial_balance", params(), "pdf")
    reporter = ctx.as_actor(Actor(None, "viewer", permissions=frozenset({"reports.view"})))
    with pytest.raises(PermissionDenied):
        registry.render(reporter, "trial_balance", params(), "pdf")
    both = ctx.as_actor(
        Actor(None, "finance", "财务小王", permissions=frozenset({"reports.view", "ledger.view"}))
    )
    data = registry.collect(both, "trial_balance", params())
    assert data.printed_by == "财务小王"


def test_unknown_report_book_and_format_are_refused(book):
    with pytest.raises(NotFound):
        registry.render(book, "nonsense", params(), "pdf")
    with pytest.raises(NotFound):
        registry.render(book, "trial_balance", params(book="NOBOOK"), "pdf")
    with pytest.raises(ValidationError):
        registry.render(book, "trial_balance", params(book=None), "pdf")
    with pytest.raises(ValidationError):
        registry.render(book, "trial_balance", params(), "docx")


def test_an_empty_period_still_prints_zero_totals(book):
    content = registry.render(book, "journal", params(period=parse_period("2025-01")), "xlsx")
    ws = workbook(content).worksheets[0]
    _, rows, _ = sheet_table(ws)
    assert rows[0][0] in ("Total",)
    assert rows[0][5] == 0


def test_listing_names_every_ledger_report():
    names = {row["name"] for row in registry.listing()}
    assert {"trial_balance", "account_statement", "journal", "income_statement", "balance_sheet"} <= names
    assert all(set(row) == {"name", "title"} for row in registry.listing())
