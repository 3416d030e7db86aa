"""Pilot journeys through the payment hub's back-office screens: resolve a reconciliation difference (and be
refused without a note), re-send a failed notification, settle a day, switch a channel and change its fee rate,
add a routing rule, add an app and see its secret once, read the sync status; and the lists behind them (paged,
filtered, sorted in SQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from textual.widgets import Input, Select, Static

from console.screens.apps import AppsScreen
from console.screens.notify_log import NotifyLogScreen
from console.screens.recon import ReconScreen
from console.screens.routing import RoutingScreen
from console.screens.settlement import SettlementScreen
from console.screens.sync import SyncScreen, lag_text
from console.widgets.form import FormDialog, ShownOnceDialog
from console.widgets.paged_table import PagedTable
from core import listing
from core.audit.models import AuditRecord
from core.errors import ValidationError
from core.payments import routing
from core.payments import services as payments
from core.payments.console_reads import (
    APPS,
    CHANNELS,
    NOTIFICATIONS,
    RECON_BATCHES,
    RECON_DIFFERENCES,
    ROUTES,
    SETTLEMENTS,
)
from core.payments.models import PayChannel, PayNotification
from core.payments.recon import services as recon
from core.payments.recon.models import ReconDifference
from core.payments.settlement import services as settlement
from core.payments.settlement.models import SettlementBatch
from core.security.services import add_user
from tests.console.test_back_office import PASSWORD, _fast_hashing, make_app, run, screen_text  # noqa: F401
from tests.console.test_console_app import log_in, settle
from tests.console.test_dashboard import notice
from tests.payments.test_recon import DAY, add_order, at, seed_day, write


def message(app) -> str:
    content = app.screen.query_one("#message", Static).content
    return content.plain if hasattr(content, "plain") else str(content)


async def open_place(app, pilot, place: str) -> None:
    await app.run_action(f"goto('{place}')")
    await settle(app, pilot)
    await pilot.pause(0.2)
    await settle(app, pilot)


async def answer(app, pilot, /, **values: str) -> None:
    """Fill the open FormDialog and press OK."""
    dialog = app.screen
    assert isinstance(dialog, FormDialog)
    for key, value in values.items():
        widget = dialog.query_one(f"#field-{key}")
        if isinstance(widget, Select):
            widget.value = value
        else:
            assert isinstance(widget, Input)
            widget.value = value
    await pilot.pause()
    await pilot.click("#ok")
    await settle(app, pilot)
    await pilot.pause(0.2)
    await settle(app, pilot)


def count(ctx, model, *where) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def hub(sqlite_ctx, tmp_path):
    """A reconciled day with every kind of difference, yesterday's payments of the property app (with its
    payee), a failed notification, a boss (admin) and a cashier."""
    ctx = sqlite_ctx
    payments.add_app(ctx, "物业", app_id="property")
    trades, refunds = seed_day(ctx)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    add_order(ctx, "T01PY1", 30000, 180, paid=at(DAY - timedelta(days=1), 11))
    add_order(ctx, "T01PY2", 12000, 72, paid=at(DAY - timedelta(days=1), 15), channel="alipay")
    settlement.set_payee(ctx, "property", "安居物业服务有限公司", "6222020200112233445", "工商银行")
    notice(ctx, "pay:T01P0000009:SUCCESS", "GAVE_UP")
    add_user(ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    add_user(ctx, "clerk", PASSWORD, display_name="前台", roles=["cashier"])
    return ctx


# ---------------------------------------------------------------------------------------------- lists


def test_hub_lists_page_filter_and_sort_in_sql(hub):
    q = listing.ListQuery
    assert listing.count(hub, RECON_DIFFERENCES, {}) == 6
    assert listing.count(hub, RECON_DIFFERENCES, {"status": "open", "kind": "status_mismatch"}) == 2
    page = listing.paged(hub, RECON_DIFFERENCES, q(filters={"number": "T01PD"}))
    (row,) = page.rows
    assert row[2:6] == ("amount_mismatch", "T01PD", 5000, 5001)
    by_doc = listing.paged(hub, RECON_DIFFERENCES, q(sort="doc_no", descending=False, limit=2, offset=1))
    assert [r[3] for r in by_doc.rows] == ["T01PC", "T01PD"]  # PB, then PC and PD
    (batch,) = listing.paged(hub, RECON_BATCHES, q()).rows
    assert batch[:5] == (DAY, "wechat", 8, 3, 6)  # day, channel, lines, matched, still open
    assert listing.count(hub, RECON_BATCHES, {"date_from": "2026-11-26"}) == 0
    assert listing.count(hub, NOTIFICATIONS, {"status": "GAVE_UP"}) == 1
    assert listing.count(hub, CHANNELS, {"enabled": "yes"}) == 8
    routes = listing.paged(hub, ROUTES, q()).rows
    assert routes[0][5] == "wechat > alipay > unionpay" and routes[0][1] == "*"
    assert [r[0] for r in listing.paged(hub, APPS, q()).rows] == ["property"]
    assert listing.count(hub, SETTLEMENTS, {}) == 0
    with pytest.raises(ValidationError):
        listing.paged(hub, RECON_DIFFERENCES, q(filters={"kind": "made_up"}))
    with pytest.raises(ValidationError):
        listing.paged(hub, NOTIFICATIONS, q(sort="url"))


# ---------------------------------------------------------------------------------------------- recon


def test_resolve_a_reconciliation_difference(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "recon")
            assert isinstance(app.screen, ReconScreen)
            diffs = app.screen.query_one("#diffs", PagedTable)
            assert diffs.total == 6  # the open ones

            diffs.query_one("#filter-number", Input).value = "T01PB"
            diffs.reload()
            await settle(app, pilot)
            assert [r[3] for r in diffs.rows] == ["T01PB"]
            assert "Missing at channel" in screen_text(app)  # the detail panel

            # Without a note the service refuses, in words, and nothing changes.
            await pilot.press("d")
            await pilot.pause()
            await answer(app, pilot, decision="write_off", note="")
            assert "Write down why" in message(app)
            assert count(hub, ReconDifference, ReconDifference.status == "open") == 6

            # The decisions offered are those the kind allows (refund_payer does not settle this kind).
            await pilot.press("d")
            await pilot.pause()
            offered = app.screen.query_one("#field-decision", Select)
            assert {str(v) for _label, v in offered._options if v is not Select.NULL} == {
                "accept_channel",
                "accept_local",
                "write_off",
            }
            await answer(app, pilot, decision="accept_local", note="渠道次日补单")
            assert "resolved" in message(app)
            (done,) = recon.list_differences(hub, status="resolved")
            assert (done.doc_no, done.decision, done.resolved_by) == ("T01PB", "accept_local", "boss")
            assert diffs.rows == []  # the list shows open differences only

            # A resolved one is not resolved twice: clear the state filter and try.
            diffs.query_one("#filter-status", Select).value = Select.NULL
            await settle(app, pilot)
            assert [r[10] for r in diffs.rows] == ["resolved"]
            await pilot.press("d")
            await pilot.pause()
            assert not isinstance(app.screen, FormDialog)
            assert "already resolved" in message(app)

    run(scenario())


def test_a_run_opens_its_differences_and_the_cashier_may_not_open_recon(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "recon")
            screen = app.screen
            await pilot.click("#recon-tabs Tab#--content-tab-tab-runs")
            await settle(app, pilot)
            runs = screen.query_one("#runs", PagedTable)
            runs.query_one(".rows").focus()
            await pilot.press("enter")
            await settle(app, pilot)
            diffs = screen.query_one("#diffs", PagedTable)
            assert diffs.filters() == {
                "status": "open",
                "channel": "wechat",
                "date_from": DAY.isoformat(),
                "date_to": DAY.isoformat(),
            }
            assert diffs.total == 6

            await pilot.press("ctrl+l")
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await open_place(app, pilot, "recon")
            assert not isinstance(app.screen, ReconScreen)

    run(scenario())


# ---------------------------------------------------------------------------------------------- notifications


def test_resend_a_failed_notification(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "notify_log")
            assert isinstance(app.screen, NotifyLogScreen)
            table = app.screen.query_one("#notices", PagedTable)
            assert [r[0] for r in table.rows] == ["pay:T01P0000009:SUCCESS"]
            assert "HTTP 500" in screen_text(app)

            # Cancelling the question changes nothing.
            await pilot.press("s")
            await pilot.pause()
            await pilot.press("escape")
            await settle(app, pilot)
            assert count(hub, PayNotification, PayNotification.status == "GAVE_UP") == 1

            await pilot.press("s")
            await pilot.pause()
            await pilot.click("#yes")
            await settle(app, pilot)
            await pilot.pause(0.2)
            await settle(app, pilot)
            assert "sent again" in message(app)
            assert count(hub, PayNotification, PayNotification.status == "PENDING") == 1
            assert count(hub, AuditRecord, AuditRecord.action == "payments.notify_resend") == 1
            assert table.rows[0][4] == "PENDING"

    run(scenario())


# ---------------------------------------------------------------------------------------------- settlement


def test_settle_a_day_and_read_the_batch(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "settlement")
            assert isinstance(app.screen, SettlementScreen)

            # Today is not over: refused in words, nothing written.
            await pilot.press("n")
            await pilot.pause()
            await answer(app, pilot, day=DAY.isoformat(), app="property")
            assert "not over yet" in message(app)
            await pilot.press("n")
            await pilot.pause()
            await answer(app, pilot, day="25/11/2026", app="")
            assert "YYYY-MM-DD" in message(app)
            assert count(hub, SettlementBatch) == 0

            await pilot.press("n")
            await pilot.pause()
            yesterday = (DAY - timedelta(days=1)).isoformat()
            assert app.screen.query_one("#field-day", Input).value == yesterday
            await answer(app, pilot, app="property")
            # The day's Alipay and WeChat Pay statements were not reconciled: settling waits for them.
            assert "cannot be settled" in message(app)
            assert count(hub, SettlementBatch) == 0
            await pilot.press("n")
            await pilot.pause()
            await answer(app, pilot, app="property", override="银行要求今日划款，对账补做")
            assert "1 settlement batches" in message(app)
            table = app.screen.query_one("#batches", PagedTable)
            assert len(table.rows) == 1
            gross, fees, net = table.rows[0][5], table.rows[0][7], table.rows[0][8]
            assert (gross, fees, net) == (42000, 252, 42000 - 252)
            await settle(app, pilot)
            text = screen_text(app)
            assert "WeChat Pay" in text and "Alipay" in text and "安居物业服务有限公司" in text

    run(scenario())


# ---------------------------------------------------------------------------------------------- routing, apps


def test_switch_a_channel_change_its_rate_and_add_a_rule(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "routing")
            assert isinstance(app.screen, RoutingScreen)
            channels = app.screen.query_one("#channels", PagedTable)
            assert channels.current_row()["code"] == "alipay"  # sorted by code
            await pilot.press("e")
            await settle(app, pilot)
            assert count(hub, PayChannel, PayChannel.code == "alipay", PayChannel.enabled.is_(False)) == 1
            assert channels.rows[0][2] is False

            await pilot.press("r")
            await pilot.pause()
            await answer(app, pilot, rate="0.5")  # above the 10% a rate may be
            assert "fee rate" in message(app).lower()
            await pilot.press("r")
            await pilot.pause()
            await answer(app, pilot, rate="0.0055")
            assert [c.fee_rate for c in routing.list_channels(hub) if c.code == "alipay"] == ["0.0055"]

            await pilot.click("#routing-tabs Tab#--content-tab-tab-routes")
            await settle(app, pilot)
            before = len(routing.list_routes(hub))
            await pilot.press("n")
            await pilot.pause()
            await answer(
                app, pilot, channels="wechat bitcoin", app="", method="", min="", max="", priority="5"
            )
            assert "bitcoin" in message(app)
            assert len(routing.list_routes(hub)) == before
            await pilot.press("n")
            await pilot.pause()
            await answer(
                app,
                pilot,
                channels="unionpay, wechat",
                app="property",
                method="qr",
                min="1000",
                max="",
                priority="5",
            )
            rules = routing.list_routes(hub)
            assert len(rules) == before + 1
            new = rules[0]  # priority 5 comes first
            assert (new.channels, new.app_id, new.min_amount_fen, new.max_amount_fen) == (
                ("unionpay", "wechat"),
                "property",
                100000,
                None,
            )
            routes = app.screen.query_one("#routes", PagedTable)
            assert routes.rows[0][5] == "unionpay > wechat"

    run(scenario())


def test_add_an_app_shows_its_secret_once(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "apps")
            assert isinstance(app.screen, AppsScreen)
            await pilot.press("n")
            await pilot.pause()
            await answer(app, pilot, name="社区商城", app_id="Bad Id!", url="")
            assert "lower-case" in message(app)

            await pilot.press("n")
            await pilot.pause()
            await answer(app, pilot, name="社区商城", app_id="shop", url="https://shop.example/notify")
            assert isinstance(app.screen, ShownOnceDialog)
            shown = str(app.screen.query_one("#shown-once", Static).content)
            secret = payments.app_secret(hub, "shop")
            assert secret and secret in shown and "shop" in shown
            await pilot.click("#ok")
            await settle(app, pilot)
            assert isinstance(app.screen, AppsScreen)
            assert [r[0] for r in app.screen.query_one("#apps", PagedTable).rows] == ["property", "shop"]
            assert secret not in screen_text(app)

    run(scenario())


def test_the_cashier_is_refused_hub_changes_in_words(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await open_place(app, pilot, "routing")
            assert isinstance(app.screen, RoutingScreen)  # payments.view: may look
            await pilot.press("e")
            await settle(app, pilot)
            assert "may not change" in message(app)
            assert count(hub, PayChannel, PayChannel.enabled.is_(False)) == 0
            await open_place(app, pilot, "apps")
            await pilot.press("n")
            await pilot.pause()
            assert not isinstance(app.screen, FormDialog)
            assert "may not add apps" in message(app)

    run(scenario())


# ---------------------------------------------------------------------------------------------- sync


def test_sync_status_and_a_round_that_cannot_start(hub):
    async def scenario() -> None:
        app = make_app(hub)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await open_place(app, pilot, "sync")
            assert isinstance(app.screen, SyncScreen)
            text = screen_text(app)
            assert "not enrolled" in text and "Events waiting" in text
            assert app.screen.status is not None and app.screen.status.pending > 0
            await pilot.press("s")
            await settle(app, pilot)
            assert app.screen.running is False
            assert message(app) and "Traceback" not in message(app)
            assert "Something went wrong" not in message(app)  # a domain error, in words

    run(scenario())


def test_lag_is_said_in_a_sensible_unit():
    assert lag_text(None) == "nothing waiting"
    assert lag_text(59) == "59 seconds"
    assert lag_text(600) == "10 minutes"
    assert lag_text(5 * 3600) == "5 hours"
    assert lag_text(3 * 86400) == "3 days"
