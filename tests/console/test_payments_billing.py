"""Pilot journeys through the payment hub and property billing screens: find an order and open its history;
dry-run then run a bill run and watch it finish; read arrears by building; refusals shown in words."""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import Input, Select, Static

from console.screens.billing import ArrearsScreen, BillRunScreen
from console.screens.payments import OrderScreen, PaymentsScreen
from console.widgets.paged_table import PagedTable
from core import listing
from core.errors import ValidationError
from core.payments import services as payments
from core.payments import shifts
from core.payments.lists import ORDERS, REFUNDS
from core.property import billing
from core.property.models import Bill
from core.security.services import add_user
from tests.console.test_back_office import PASSWORD, _fast_hashing, goto, make_app, run  # noqa: F401
from tests.console.test_console_app import log_in, settle, text_of
from tests.payments.conftest import cashier_actor
from tests.property.helpers import property_fee, small_community


def shown(app, selector: str) -> str:
    content = app.screen.query_one(selector, Static).content
    return content.plain if hasattr(content, "plain") else str(content)


@pytest.fixture
def hub(sqlite_ctx):
    """A site with two cash payments at the counter, a boss (admin) and a clerk who may not see payments."""
    payments.ensure_payhub_books(sqlite_ctx)
    payments.add_app(sqlite_ctx, "物业", app_id="property")
    cashier = sqlite_ctx.as_actor(cashier_actor())
    shifts.open_shift(cashier, 20000)
    payments.counter_pay(cashier, "property", "RCPT-0001", 12345, "物业费 1-1-101", tendered_fen=20000)
    payments.counter_pay(cashier, "property", "RCPT-0002", 5000, "停车费")
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    add_user(sqlite_ctx, "clerk", PASSWORD, display_name="前台", roles=["cashier"])
    return sqlite_ctx


def test_order_list_filters_by_number_amount_status_and_date(hub):
    page = listing.paged(hub, ORDERS, listing.ListQuery(filters={"number": "RCPT-0001"}))
    assert [r[1] for r in page.rows] == ["RCPT-0001"]
    assert listing.paged(hub, ORDERS, listing.ListQuery(filters={"amount": "123.45"})).rows[0][2] == 12345
    assert listing.count(hub, ORDERS, {"status": "SUCCESS", "channel": "cash"}) == 2
    assert listing.count(hub, ORDERS, {"date_to": "2000-01-01"}) == 0
    assert listing.count(hub, REFUNDS, {}) == 0
    order_no = page.rows[0][0]
    assert (
        listing.paged(hub, ORDERS, listing.ListQuery(filters={"number": order_no})).rows[0][1] == "RCPT-0001"
    )
    assert listing.count(hub, ORDERS, {"number": "NOPE"}) == 0
    with pytest.raises(ValidationError):
        listing.paged(hub, ORDERS, listing.ListQuery(filters={"status": "PAID-ISH"}))
    with pytest.raises(ValidationError):
        listing.paged(hub, ORDERS, listing.ListQuery(filters={"amount": "12.345"}))


def test_find_an_order_and_open_its_history(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f9")
            assert isinstance(app.screen, PaymentsScreen)
            orders = app.screen.query_one("#orders", PagedTable)
            assert len(orders.rows) == 2

            search = app.screen.query_one("#filter-number", Input)
            search.focus()
            await pilot.press(*"RCPT-0001")
            await pilot.press("enter")
            await pilot.pause(0.5)
            await settle(app, pilot)
            assert [r[1] for r in orders.rows] == ["RCPT-0001"]

            app.screen.query_one("#orders .rows").focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, OrderScreen)
            fields = text_of(app, "#order-fields")
            assert "123.45" in fields and "RCPT-0001" in fields
            history = text_of(app, "#order-history")
            assert "→" in history  # at least one recorded transition, with its status labels
            order = payments.get_order(hub, app_id="property", out_trade_no="RCPT-0001")
            assert len(app.screen.dossier.history) == len(payments.order_history(hub, order.order_no)) >= 1

            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, PaymentsScreen)

    run(scenario())


def test_payments_screen_refused_without_permission(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            before = type(app.screen)
            await goto(app, pilot, "f10")
            assert type(app.screen) is before  # cashier may not run bill runs

    run(scenario())


@pytest.fixture
def estate(sqlite_ctx):
    community, _houses = small_community(sqlite_ctx, houses=3, start=date(2026, 1, 1))
    property_fee(sqlite_ctx, community.id)
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    return sqlite_ctx, community


def _bills(ctx) -> int:
    from sqlalchemy import func, select

    with ctx.db.reader() as s:
        return s.execute(select(func.count()).select_from(Bill)).scalar_one()


def test_run_a_bill_run_and_watch_it_finish(estate):
    ctx, community = estate

    async def scenario() -> None:
        app = make_app(ctx)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f10")
            assert isinstance(app.screen, BillRunScreen)
            screen = app.screen
            screen.query_one("#community", Select).value = str(community.id)

            # A bad period is refused in words and nothing runs.
            screen.query_one("#period", Input).value = "2026-13"
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert text_of(app, "#message") and not screen.running
            assert _bills(ctx) == 0

            screen.query_one("#period", Input).value = "2026-11"
            await pilot.press("f12")
            await settle(app, pilot)
            assert "nothing was written" in shown(app, "#billrun-summary")
            assert _bills(ctx) == 0

            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert not screen.running and screen.query_one("#billrun-progress").display
            assert screen.query_one("#billrun-bar").percentage == 1  # the bar ran to the end
            assert "Done" in shown(app, "#billrun-state")
            summary = shown(app, "#billrun-summary")
            assert "finished" in summary and "3" in summary
            assert screen.last is not None and screen.last.bills_created == 3
            assert _bills(ctx) == 3

            # Again: idempotent, nothing more to bill.
            await pilot.press("ctrl+r")
            await settle(app, pilot)
            assert screen.last.bills_created == 0 and _bills(ctx) == 3

    run(scenario())


def test_arrears_by_building(estate, clock):
    ctx, community = estate
    billing.bill_run(ctx, "2026-01")

    async def scenario() -> None:
        app = make_app(ctx)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f11")
            assert isinstance(app.screen, ArrearsScreen)
            await settle(app, pilot)
            table = app.screen.query_one("#arrears")
            assert table.row_count == 2  # the whole community, then building 1
            expected = billing.arrears(ctx, community_id=community.id)
            cells = [str(c) for c in table.get_row_at(0)]
            assert f"{expected.houses:,}" == cells[1]

    run(scenario())


def test_bill_run_in_progress_shows_the_bar_and_refuses_a_second_start(estate, monkeypatch):
    import threading

    ctx, _community = estate
    release = threading.Event()
    real = billing.bill_run

    def slow(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(billing, "bill_run", slow)
    # The held run must be this process's (a child process would not see the patch): run it in the thread.
    import console.widgets.jobs as jobs

    monkeypatch.setattr(jobs, "context_spec", lambda _ctx: None)

    async def scenario() -> None:
        app = make_app(ctx)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f10")
            screen = app.screen
            screen.query_one("#period", Input).value = "2026-11"
            await pilot.press("ctrl+r")
            await pilot.pause(0.1)
            assert screen.running and screen.query_one("#billrun-progress").display
            assert "Billing 2026-11" in shown(app, "#billrun-state")
            await pilot.press("ctrl+r")  # the screen still answers keys while the run works
            await pilot.pause()
            assert "already running" in shown(app, "#message")
            release.set()
            await settle(app, pilot)
            assert not screen.running and screen.last.bills_created == 3

    run(scenario())


def test_the_bill_run_works_in_a_child_process(estate, monkeypatch):
    """The run's Python work must not hold this process's interpreter lock (keys must answer meanwhile)."""
    import console.widgets.jobs as jobs

    ctx, _community = estate
    calls = []
    real = jobs.run_in_process

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "run_in_process", counting)

    async def scenario() -> None:
        app = make_app(ctx)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f10")
            screen = app.screen
            screen.query_one("#period", Input).value = "2026-11"
            await pilot.press("ctrl+r")
            for _ in range(200):
                await pilot.pause(0.1)
                if not screen.running:
                    break
            await settle(app, pilot)
            assert not screen.running and screen.last.bills_created == 3

    run(scenario())
    assert calls and all(c.endswith("bill_run") for c in calls)
