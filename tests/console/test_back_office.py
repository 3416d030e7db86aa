"""Journeys through the back office with Pilot: approvals (maker-checker), the ledger's journal and trial
balance, the audit log with Verify, users, a million-row-style paged list, export, and the palette."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from console.app import AnjuApp
from console.screens.approvals import ApprovalsScreen
from console.screens.audit import AuditScreen
from console.screens.ledger import LedgerScreen
from console.screens.users import UsersScreen
from console.widgets.paged_table import PagedTable
from core.context import Actor, Context
from core.ledger.services import EntrySpec, ensure_account, ensure_book, post_batch
from core.security import passwords
from core.security.models import User
from core.security.services import actor_for_user, add_user
from core.workflow import services as workflow
from tests.console.test_console_app import log_in, settle, text_of

PASSWORD = "s3cret-pass"


@pytest.fixture(autouse=True)
def _fast_hashing():
    cost = passwords.TEST_COST
    passwords.set_cost(cost.time_cost, cost.memory_cost_kib, cost.parallelism)


def as_user(ctx: Context, username: str) -> Context:
    with ctx.db.reader() as s:
        from sqlalchemy import select

        user = s.scalars(select(User).where(User.username == username)).one()
        return ctx.as_actor(actor_for_user(s, user))


@pytest.fixture
def site(sqlite_ctx):
    """A site with a maker (cashier), a checker (approver + finance + auditor) and a one-step approval process."""
    add_user(sqlite_ctx, "maker", PASSWORD, display_name="收银员", roles=["cashier"])
    add_user(sqlite_ctx, "checker", PASSWORD, display_name="审批人", roles=["approver", "finance", "auditor"])
    add_user(sqlite_ctx, "boss", PASSWORD, display_name="管理员", roles=["admin"])
    workflow.ensure_process(sqlite_ctx, "demo.refund", "退款", [{"role": "approver", "name": "审批"}])
    return sqlite_ctx


def make_app(ctx: Context) -> AnjuApp:
    def ctx_factory() -> Context:
        return Context(db=ctx.db, actor=Actor.system(), clock=ctx.clock, home=ctx.home)

    return AnjuApp(ctx_factory, idle_lock_s=None)


def run(coro) -> None:
    asyncio.run(coro)


def screen_text(app: AnjuApp) -> str:
    """Every character on the screen right now (the SVG screenshot's text, tags removed)."""
    import html
    import re

    svg = app.export_screenshot()
    return html.unescape(re.sub(r"<[^>]+>", "", svg)).replace("\xa0", " ")


def shown(app: AnjuApp, selector: str) -> str:
    """The text a Static was last given (whether or not it has been laid out yet)."""
    content = app.screen.query_one(selector, Static).content
    return content.plain if hasattr(content, "plain") else str(content)


async def goto(app: AnjuApp, pilot, key: str) -> None:
    await pilot.press(key)
    await settle(app, pilot)
    await pilot.pause(0.2)
    await settle(app, pilot)


def test_approve_anothers_request_and_be_refused_for_ones_own(site):
    other = workflow.submit(
        as_user(site, "maker"),
        "demo.refund",
        object_type="demo.payment",
        object_id="P1",
        title="退款 P1",
        amount_fen=25600,
    )
    own = workflow.submit(
        as_user(site, "checker"), "demo.refund", object_type="demo.payment", object_id="P2", title="退款 P2"
    )

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "checker", PASSWORD)
            await goto(app, pilot, "f3")
            assert isinstance(app.screen, ApprovalsScreen)
            queue = app.screen.query_one("#queue", DataTable)
            assert queue.row_count == 1  # one's own request never waits for oneself
            assert "退款 P1" in text_of(app, "#approval-detail")
            assert "256.00" in text_of(app, "#approval-detail")

            # Reject needs a reason: refused inline by the service, nothing changes.
            queue.focus()
            await pilot.press("r")
            await settle(app, pilot)
            assert "reason" in text_of(app, "#message")
            assert workflow.get_instance(site, other.id).instance.status == "pending"

            await pilot.press("a")
            await settle(app, pilot)
            assert "Approved" in text_of(app, "#message")
            assert workflow.get_instance(site, other.id).instance.status == "approved"
            assert queue.row_count == 0

            # One's own request, found under All requests: approving it is refused, in words.
            app.screen.query_one("#approval-tabs", TabbedContent).active = "tab-all"
            await settle(app, pilot)
            all_list = app.screen.query_one("#all-requests", PagedTable)
            all_list.refresh_rows()
            await settle(app, pilot)
            titles = [row[2] for row in all_list.rows]
            all_list.query_one(DataTable).move_cursor(row=titles.index("退款 P2"))
            await settle(app, pilot)
            assert app.screen.current is not None and app.screen.current.id == own.id
            all_list.query_one(DataTable).focus()
            await pilot.press("a")
            await settle(app, pilot)
            assert "someone else must approve" in text_of(app, "#message")
            assert workflow.get_instance(site, own.id).instance.status == "pending"

    run(scenario())


def _post_entries(ctx: Context, n: int) -> None:
    ensure_book(ctx, "PROP", "物业账簿", "property")
    ensure_account(ctx, "PROP", "1001", "库存现金", "asset")
    ensure_account(ctx, "PROP", "6001", "物业服务收入", "income")
    post_batch(
        ctx,
        [
            EntrySpec(
                "PROP", date(2025, 3, 1 + i % 28), f"收款{i}", [("1001", 10000 + i), ("6001", -(10000 + i))]
            )
            for i in range(n)
        ],
    )


def test_journal_trial_balance_statement_and_ledger_verify(site):
    _post_entries(site, 300)  # 600 postings: more than a window of the paged list

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "checker", PASSWORD)
            await goto(app, pilot, "f4")
            assert isinstance(app.screen, LedgerScreen)
            await settle(app, pilot)
            accounts = app.screen.query_one("#accounts", DataTable)
            assert accounts.row_count == 2
            total = sum(10000 + i for i in range(300))
            assert f"{total / 100:,.2f}" in screen_text(app)

            tabs = app.screen.query_one("#ledger-tabs", TabbedContent)
            tabs.active = "tab-journal"
            await settle(app, pilot)
            journal = app.screen.query_one("#journal", PagedTable)
            assert journal.total == 600 and journal.exact
            assert len(journal.rows) == 200  # only a window is held
            table = journal.query_one(DataTable)
            table.focus()
            # Scroll down past the window: the list moves its window, the cursor keeps its place in the list.
            for _ in range(4):
                await pilot.press("pagedown")
                await settle(app, pilot)
            await pilot.press("ctrl+end")
            await settle(app, pilot)
            assert journal.first + table.cursor_row == 599
            assert journal.first > 0 and len(journal.rows) <= 200
            assert "600" in journal.query_one(".list-status", Static).render().plain
            await pilot.press("ctrl+home")
            await settle(app, pilot)
            assert journal.first == 0 and table.cursor_row == 0

            tabs.active = "tab-trial"
            await settle(app, pilot)
            assert "balanced" in text_of(app, "#trial-total")
            as_of = app.screen.query_one("#as-of", Input)
            as_of.value = "2025-03-01"
            as_of.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            day_one = sum(10000 + i for i in range(300) if i % 28 == 0)
            assert f"{day_one / 100:,.2f}" in text_of(app, "#trial-total")

            tabs.active = "tab-accounts"
            await settle(app, pilot)
            accounts.focus()
            accounts.move_cursor(row=0)
            await pilot.press("s")
            await settle(app, pilot)
            assert tabs.active == "tab-statement"
            statement = app.screen.query_one("#statement", PagedTable)
            assert statement.total == 300
            assert (
                statement.rows[0][7] == statement.rows[0][6]
            )  # the running balance starts at the first line

            await pilot.press("v")
            await settle(app, pilot)
            assert "600" in shown(app, "#verify-result") and "check out" in shown(app, "#verify-result")

    run(scenario())


def test_audit_log_filter_and_verify(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "checker", PASSWORD)
            await goto(app, pilot, "f6")
            assert isinstance(app.screen, AuditScreen)
            audit = app.screen.query_one(PagedTable)
            assert audit.rows[0][3] == "auth.login"  # newest first: this login
            assert "auth.login" in text_of(app, "#audit-detail")
            action = app.screen.query_one("#filter-action", Input)
            action.value = "user.create"
            action.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert audit.total == 3 and {r[3] for r in audit.rows} == {"user.create"}
            bad = app.screen.query_one("#filter-date_from", Input)
            bad.value = "yesterday"
            bad.focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert "YYYY-MM-DD" in audit.query_one(".list-status", Static).render().plain

            await pilot.press("v")
            await settle(app, pilot)
            verdict = shown(app, "#verify-result")
            assert "check out" in verdict

    run(scenario())


def test_audit_verify_needs_its_permission(site):
    add_user(site, "viewer", PASSWORD, roles=["cashier"])  # no audit.view: the screen is not offered

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "viewer", PASSWORD)
            await goto(app, pilot, "f6")
            assert not isinstance(app.screen, AuditScreen)
            assert app.check_action("goto", ("audit",)) is False

    run(scenario())


def test_users_add_disable_and_refusals_inline(site):
    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            await goto(app, pilot, "f7")
            assert isinstance(app.screen, UsersScreen)
            users = app.screen.query_one(PagedTable)
            assert [r[0] for r in users.rows] == ["boss", "checker", "maker"]

            await pilot.press("n")
            await pilot.pause()
            dialog = app.screen
            dialog.query_one("#field-username", Input).value = "newbie"
            dialog.query_one("#field-display_name", Input).value = "新人"
            dialog.query_one("#field-password", Input).value = "short"
            dialog.query_one("#field-roles", Input).value = "cashier"
            dialog.query_one("#field-roles", Input).focus()
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, UsersScreen)
            assert "password" in text_of(app, "#message").lower()  # the policy's refusal, in words
            assert [r[0] for r in users.rows] == ["boss", "checker", "maker"]

            # Disable the maker (confirm), then see the status change in the list.
            table = users.query_one(DataTable)
            table.focus()
            table.move_cursor(row=2)
            await pilot.press("d")
            await pilot.pause()
            await pilot.click("#yes")
            await settle(app, pilot)
            assert "disabled" in text_of(app, "#message")
            assert users.rows[2][2] == "disabled"

            # One's own account cannot be disabled: the service says so.
            table.move_cursor(row=0)
            await pilot.press("d")
            await pilot.pause()
            await pilot.click("#yes")
            await settle(app, pilot)
            assert "own account" in text_of(app, "#message")

    run(scenario())


def test_export_writes_the_filtered_list_to_excel(site, tmp_path):
    from openpyxl import load_workbook

    _post_entries(site, 40)

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "checker", PASSWORD)
            await goto(app, pilot, "f4")
            app.screen.query_one("#ledger-tabs", TabbedContent).active = "tab-journal"
            await settle(app, pilot)
            journal = app.screen.query_one("#journal", PagedTable)
            journal.query_one(DataTable).focus()
            await pilot.press("ctrl+e")
            await settle(app, pilot)
            await pilot.pause(0.2)

    run(scenario())
    files = list((site.home.root / "exports").glob("ledger-journal-*.xlsx"))
    assert len(files) == 1
    sheet = load_workbook(files[0], read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 81  # header + 80 postings
    assert rows[0][0] == "Date"
    debit_total = sum(r[5] for r in rows[1:])
    assert round(debit_total * 100) == sum(10000 + i for i in range(40))  # Excel keeps numbers as doubles


def test_palette_reaches_screens_and_screen_actions(site):
    from textual.command import CommandPalette

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "checker", PASSWORD)
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"Audit log")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AuditScreen)
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Verify")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(app, pilot)
            await pilot.pause(0.2)
            await settle(app, pilot)
            assert "check out" in shown(app, "#verify-result")

    run(scenario())


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
def test_key_screens_render_their_labels(site, size):
    """Snapshot-style: at fixed sizes the key screens show their labels, and nothing raises."""
    _post_entries(site, 5)
    expected = {
        "f2": ["Alerts", "Pending approvals"],  # the dashboard's first panels (the counts are further down)
        "f3": ["Waiting for you", "All requests", "Request"],
        "f4": ["Accounts", "Journal", "Trial balance", "1001"],
        "f6": ["Who", "Action", "auth.login", "Record"],
        "f7": ["User name", "checker"],
        "f8": ["Backup file", "Site"],
    }

    async def scenario() -> None:
        app = make_app(site)
        async with app.run_test(size=size) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "boss", PASSWORD)
            for key, labels in expected.items():
                await goto(app, pilot, key)
                shown = screen_text(app)
                for label in labels:
                    assert label in shown, (key, label)
                assert "Traceback" not in shown

    run(scenario())
