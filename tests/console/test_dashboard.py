"""The home dashboard: core.overview.dashboard's figures on a seeded site (collections by channel and line, the
collection rate, arrears, open work orders by age, alerts), sections hidden from roles that may not see them,
and the home screen showing those same numbers."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import insert

from core.context import Actor
from core.ids import new_id
from core.overview import dashboard
from core.payments.models import PayNotification
from core.property import billing
from core.property.repairs import services as repairs
from core.security.services import add_user
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run, screen_text  # noqa: F401
from tests.console.test_console_app import log_in, settle
from tests.payments.test_recon import DAY, add_order, at
from tests.property.helpers import property_fee, small_community

HOUSE_MONTH_FEN = 22375  # 89.50 m² × 2.50 yuan


def notice(ctx, key: str, status: str) -> None:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        uow.session.execute(
            insert(PayNotification).values(
                id=new_id(), event_key=key, app_id="shop", kind="pay", object_no=key[-8:], url="http://x/cb",
                payload={}, status=status, attempts=8, next_attempt_at=now, last_error="HTTP 500",
                delivered_at=None, created_at=now, version=1,
            )
        )  # fmt: skip


@pytest.fixture
def board_site(sqlite_ctx):
    """Collections of today and this month on two channels and two lines, last month's and a closed order
    (not counted); two months of bills; three open work orders of different ages; one failed notice."""
    ctx = sqlite_ctx
    assert ctx.clock.now().date() == DAY  # FakeClock: 2026-11-25 10:00 in Beijing
    add_order(ctx, "T01P1", 10000, 60)  # today, wechat, property
    add_order(ctx, "T01P2", 2500, 0, channel="cash")  # today, cash, property
    add_order(ctx, "T01P3", 7000, 42, paid=at(date(2026, 11, 3), 9))  # this month
    add_order(ctx, "T01P4", 999, 6, paid=at(date(2026, 10, 31), 9))  # last month: not counted
    add_order(ctx, "T01P5", 555, 3, status="CLOSED")  # never paid: not counted
    with ctx.uow() as uow:  # one payment of another line (app) today
        from sqlalchemy import update

        from core.payments.models import PayOrder

        uow.session.execute(update(PayOrder).where(PayOrder.order_no == "T01P2").values(app_id="shop"))

    community, houses = small_community(ctx, houses=3, start=date(2026, 1, 1))
    property_fee(ctx, community.id)
    billing.bill_run(ctx, "2026-10")
    billing.bill_run(ctx, "2026-11")

    repairs.define_repair_type(ctx, "PIPE", "水管", response_minutes=60, completion_minutes=24 * 60)
    clock = ctx.clock
    clock.advance(days=-10)  # reported 10 days ago: past its one-day deadline
    repairs.report(
        ctx, community_id=community.id, repair_type="PIPE", description="漏水", house_id=houses[0].id
    )
    clock.advance(days=8)  # 2 days ago
    repairs.report(
        ctx, community_id=community.id, repair_type="PIPE", description="堵塞", house_id=houses[1].id
    )
    clock.advance(days=2, hours=-3)  # 3 hours ago
    repairs.report(ctx, community_id=community.id, repair_type="PIPE", description="滴水", common_area="大堂")
    clock.advance(hours=3)

    ctx.community_id = community.id  # type: ignore[attr-defined] - for the tests' own checks
    notice(ctx, "pay:T01P0000001:SUCCESS", "GAVE_UP")
    notice(ctx, "pay:T01P0000002:SUCCESS", "DELIVERED")
    add_user(ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    add_user(ctx, "clerk", PASSWORD, display_name="前台", roles=["cashier"])
    return ctx


def test_dashboard_figures_on_a_known_site(board_site):
    d = dashboard(board_site)
    c = d.collections
    assert c is not None
    assert (c.today_fen, c.today_count) == (12500, 2)
    assert (c.month_fen, c.month_count) == (19500, 3)
    assert c.by_channel == (("wechat", 10000, 17000), ("cash", 2500, 2500))
    assert c.by_line == (("property", 10000, 17000), ("shop", 2500, 2500))

    p = d.property
    assert p is not None and p.period == "2026-11"
    assert p.billed_fen == 3 * HOUSE_MONTH_FEN and p.collected_fen == 0
    assert p.collection_rate == 0.0
    overdue = billing.arrears(board_site, community_id=board_site.community_id)  # the service's own view
    assert p.arrears_fen == overdue.total_fen > 0
    assert p.arrears_houses == overdue.houses == 3
    assert p.work_orders_by_age == (1, 1, 0, 1)
    assert p.work_orders_overdue == 2  # 10 days and 2 days old, with a one-day SLA

    codes = {a.code: a.params for a in d.alerts}
    assert codes["notify"] == {"count": 1}
    assert codes["work_orders"] == {"count": 2}
    assert "recon" not in codes and "sync" not in codes
    assert d.pending_approvals == 0
    assert d.sync is not None and d.sync.last_status is None and d.sync.pending_events > 0


def test_dashboard_leaves_out_what_the_role_may_not_see(board_site):
    nobody = board_site.as_actor(Actor(user_id=uuid.uuid4(), username="x", permissions=frozenset()))
    d = dashboard(nobody)
    assert d.collections is None and d.property is None and d.sync is None
    assert d.alerts == ()


def test_home_screen_shows_the_dashboard_numbers(board_site):
    async def scenario() -> None:
        app = make_app(board_site)
        async with app.run_test(size=(120, 60)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await settle(app, pilot)
            text = screen_text(app)
            for expected in ("Collections", "125.00", "195.00", "WeChat Pay", "shop", "Alerts"):
                assert expected in text, expected
            assert "1 notifications failed" in text
            assert "2 work orders are past their deadline" in text
            assert "0.0%" in text  # nothing of November collected yet
            # The menu offers the hub screens that have no function key.
            assert "Reconciliation" in text and "Sync status" in text

            # The clerk (cashier) sees collections but not the property or sync figures' alerts of others.
            await pilot.press("ctrl+l")
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await settle(app, pilot)
            text = screen_text(app)
            assert "125.00" in text
            assert "Reconciliation" not in text  # recon.view is not the cashier's

    run(scenario())


def test_dashboard_read_failure_is_a_sentence(board_site, monkeypatch):
    import console.screens.home as home

    def broken(_ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(home, "dashboard", broken)

    async def scenario() -> None:
        app = make_app(board_site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await settle(app, pilot)
            status = app.screen.query_one("#overview-status").content
            assert "could not be read" in str(status) and "RuntimeError" in str(status)
            assert "Traceback" not in screen_text(app)

    run(scenario())


def test_the_menu_opens_a_screen_without_a_function_key(board_site):
    from textual.widgets import OptionList

    from console.screens.sync import SyncScreen

    async def scenario() -> None:
        app = make_app(board_site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            menu = app.screen.query_one("#menu", OptionList)
            menu.focus()
            menu.highlighted = menu.get_option_index("sync")
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, SyncScreen)

    run(scenario())
