"""Pilot journeys through the Reports screen: reach it from the home menu and the command palette, preview a
trial balance in the terminal (title, parameters, pages, rows and totals), write Excel and PDF files (to the
exports folder by default), refuse bad parameters without writing anything; a cashier cannot open it."""

from __future__ import annotations

import io

import pytest
from textual.widgets import Input, OptionList, Select, Static

from console.screens.reports import ReportsScreen, produce
from core.clock import today
from core.errors import ValidationError
from core.ledger import services as ledger
from core.security.services import add_user
from reports import forms, registry
from tests.console.test_back_office import PASSWORD, _fast_hashing, as_user, make_app, run  # noqa: F401
from tests.console.test_console_app import log_in, settle


@pytest.fixture
def site(sqlite_ctx):
    """A site with a cashier (no reports) and a checker who may read the ledger and run reports."""
    add_user(sqlite_ctx, "maker", PASSWORD, display_name="收银员", roles=["cashier"])
    add_user(sqlite_ctx, "checker", PASSWORD, display_name="财务", roles=["finance", "auditor"])
    return sqlite_ctx


def _book(ctx) -> str:
    ledger.ensure_book(ctx, "RPT", "报表测试账簿", "property")
    ledger.ensure_account(ctx, "RPT", "1001", "库存现金", "asset")
    ledger.ensure_account(ctx, "RPT", "6001", "物业服务收入", "income")
    day = today(ctx.clock)
    ledger.post(ctx, ledger.EntrySpec("RPT", day, "物业费", [("1001", 123_456), ("6001", -123_456)]))
    ledger.post(ctx, ledger.EntrySpec("RPT", day, "物业费", [("1001", 10_000), ("6001", -10_000)]))
    return "RPT"


def preview_text(app) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=io.StringIO())
    console.print(app.screen.query_one("#report-preview", Static).content)
    return console.export_text()


async def open_reports(app, pilot) -> ReportsScreen:
    await app.run_action("goto('reports')")
    await settle(app, pilot)
    assert isinstance(app.screen, ReportsScreen)
    return app.screen


def test_generate_excel_and_preview_trial_balance(site, tmp_path):
    import openpyxl

    book = _book(site)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await log_in(app, pilot, "checker", PASSWORD)
            menu = app.screen.query_one("#menu", OptionList)
            assert "reports" in [menu.get_option_at_index(i).id for i in range(menu.option_count)]
            from console.app import available_places

            assert "reports" in [p.code for p in available_places(app)]  # so the Ctrl+P palette offers it
            screen = await open_reports(app, pilot)
            screen.select_report("trial_balance")
            await pilot.pause()
            assert screen.query_one("#row-book").display and not screen.query_one("#row-account").display
            screen.query_one("#field-book", Input).value = book
            screen.query_one("#format", Select).value = "xlsx"
            await pilot.pause()
            default = screen.default_path()
            assert default.parent == site.home.root / "exports" and default.suffix == ".xlsx"
            await pilot.press("ctrl+g")
            await settle(app, pilot)
            assert default.exists()
            sheet = openpyxl.load_workbook(io.BytesIO(default.read_bytes())).worksheets[0]
            assert sheet.max_row > 3
            text = preview_text(app)
            assert "Trial balance" in text and f"Book: {book}" in text
            assert "1,334.56" in text  # the period debits' total
            assert "Written to" in str(app.screen.query_one("#message", Static).content)

            # Ctrl+R previews as PDF: the page count is shown.
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert "Pages: 1" in preview_text(app)

            # A typed path wins; the PDF is a PDF.
            screen.query_one("#format", Select).value = "pdf"
            screen.query_one("#path", Input).value = str(tmp_path / "out" / "tb.pdf")
            await pilot.press("ctrl+g")
            await settle(app, pilot)
            assert (tmp_path / "out" / "tb.pdf").read_bytes().startswith(b"%PDF")

    run(scenario())


def test_bad_parameters_are_refused_and_nothing_is_written(site, tmp_path):
    _book(site)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await log_in(app, pilot, "checker", PASSWORD)
            screen = await open_reports(app, pilot)
            screen.select_report("trial_balance")
            screen.query_one("#path", Input).value = str(tmp_path / "tb.pdf")
            await pilot.press("ctrl+g")
            await settle(app, pilot)
            message = str(app.screen.query_one("#message", Static).content)
            assert "Book" in message and "Traceback" not in message
            assert app.focused is screen.query_one("#field-book", Input)  # taken to the field at fault
            screen.query_one("#field-book", Input).value = "RPT"
            screen.query_one("#field-period", Input).value = "2026-13"
            await pilot.press("ctrl+g")
            await settle(app, pilot)
            assert "is not a period" in str(app.screen.query_one("#message", Static).content)
            assert app.focused is screen.query_one("#field-period", Input)
            assert not (tmp_path / "tb.pdf").exists()
            assert not screen.running

    run(scenario())


def test_cashier_cannot_open_reports(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await log_in(app, pilot, "maker", PASSWORD)
            await app.run_action("goto('reports')")
            await settle(app, pilot)
            assert not isinstance(app.screen, ReportsScreen)
            assert not app.may_open("reports")

    run(scenario())


def test_produce_and_forms_without_ui(site, tmp_path):
    book = _book(site)
    checker = as_user(site, "checker")
    out = produce(checker, "trial_balance", {"period": "", "book": book}, None, None)
    assert out.pages == 1 and out.path is None
    table = out.summary.tables[0]
    assert table.row_count == 2 and table.totals is not None and "Total" in table.totals[0]
    assert forms.fields(registry.get("account_statement")) == ("period", "book", "account")
    assert "community" in forms.fields(registry.get("collection"))
    with pytest.raises(ValidationError):
        produce(checker, "account_statement", {"book": book, "account": ""}, "pdf", tmp_path / "a.pdf")
    assert not (tmp_path / "a.pdf").exists()
    cashier = as_user(site, "maker")
    assert forms.runnable(cashier.actor) == []
