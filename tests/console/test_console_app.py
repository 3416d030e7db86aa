"""The back-office app driven like a user would: log in (wrong, then right), see the home figures, lock."""

from __future__ import annotations

import asyncio

import pytest
from textual.geometry import Region
from textual.widgets import DataTable, Input, Static

from console.app import AnjuApp
from console.screens.help import HelpScreen
from console.screens.home import HomeScreen
from console.screens.login import LoginScreen
from core.context import Actor, Context
from core.security import passwords
from core.security.services import add_user

PASSWORD = "s3cret-pass"


@pytest.fixture(autouse=True)
def _fast_hashing():
    # A login hashes a password; the production cost would make every test take seconds.
    cost = passwords.TEST_COST
    passwords.set_cost(cost.time_cost, cost.memory_cost_kib, cost.parallelism)


@pytest.fixture
def app_factory(sqlite_ctx):
    add_user(sqlite_ctx, "clerk", PASSWORD, display_name="王会计", roles=["finance"])

    def ctx_factory() -> Context:
        return Context(db=sqlite_ctx.db, actor=Actor.system(), clock=sqlite_ctx.clock, home=sqlite_ctx.home)

    return lambda: AnjuApp(ctx_factory)


def text_of(app: AnjuApp, selector: str) -> str:
    """The text a widget shows on screen right now, line by line."""
    widget = app.screen.query_one(selector, Static)
    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return "\n".join(line.text.rstrip() for line in lines).strip()


async def settle(app: AnjuApp, pilot) -> None:
    """Let workers finish, and the workers their messages start (a list load starts a detail load)."""
    for _ in range(3):
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()


async def log_in(app: AnjuApp, pilot, username: str, password: str) -> None:
    app.screen.query_one("#username", Input).value = username
    app.screen.query_one("#password", Input).value = password
    app.screen.query_one("#password", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)


def run(coro) -> None:
    asyncio.run(coro)


def test_wrong_password_shows_the_error_and_stays_on_login(app_factory):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert "测试站点 (T01)" in text_of(app, "#login-site")
            await log_in(app, pilot, "clerk", "wrong-pass1")
            assert isinstance(app.screen, LoginScreen)
            assert text_of(app, "#login-error") == "Wrong user name or password."
            assert app.screen.query_one("#password", Input).value == ""  # cleared for the next try
            assert app.actor is None

            await log_in(app, pilot, "nobody", "wrong-pass1")
            assert text_of(app, "#login-error") == "Wrong user name or password."
            assert isinstance(app.screen, LoginScreen)

    run(scenario())


def test_empty_fields_are_asked_for_without_calling_the_service(app_factory):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "", "")
            assert text_of(app, "#login-error") == "Enter your user name."
            await log_in(app, pilot, "clerk", "")
            assert text_of(app, "#login-error") == "Enter your password."
            assert isinstance(app.screen, LoginScreen)

    run(scenario())


def test_locked_account_message_is_shown(app_factory):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            for _ in range(passwords_failures_max()):
                await log_in(app, pilot, "clerk", "wrong-pass1")
            assert "locked" in text_of(app, "#login-error")
            await log_in(app, pilot, "clerk", PASSWORD)  # even the right password is refused now
            assert isinstance(app.screen, LoginScreen)
            assert "locked" in text_of(app, "#login-error")

    run(scenario())


def passwords_failures_max() -> int:
    from core.security.services import LOGIN_FAILURES_MAX

    return LOGIN_FAILURES_MAX


def overview_counts(app: AnjuApp) -> dict[str, str]:
    table = app.screen.query_one("#overview", DataTable)
    return {str(row.value): str(table.get_cell(row, "count")) for row in table.rows}


def test_login_shows_home_with_counts_and_ctrl_l_locks(app_factory, sqlite_ctx):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            assert isinstance(app.screen, HomeScreen)
            await settle(app, pilot)
            assert app.actor is not None and app.actor.username == "clerk"
            assert app.screen.ctx.actor.username == "clerk"

            counts = overview_counts(app)
            assert counts["users"] == "1"
            assert counts["roles"] == "6"  # the built-in roles
            assert counts["books"] == "0"
            assert counts["pending_approvals"] == "0"
            assert int(counts["audit_records"]) >= 3  # site creation, user creation, the login itself
            user_info = text_of(app, "#user-info")
            assert "王会计" in user_info and "clerk" in user_info and "Finance" in user_info
            assert "As of" in text_of(app, "#overview-status")

            # F1 opens the help over the home screen; Escape closes it.
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)

            # A change made elsewhere shows after F5.
            add_user(sqlite_ctx, "second", PASSWORD)
            await pilot.press("f5")
            await settle(app, pilot)
            assert overview_counts(app)["users"] == "2"

            await pilot.press("ctrl+l")
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert app.actor is None
            assert app.screen.query_one("#password", Input).value == ""

    run(scenario())


def test_lock_from_the_help_dialog_and_lock_needs_a_login(app_factory):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert app.check_action("lock", ()) is False  # nothing to lock before login
            await log_in(app, pilot, "clerk", PASSWORD)
            await settle(app, pilot)
            assert app.check_action("lock", ()) is True
            await pilot.press("f1")
            await pilot.pause()
            await pilot.press("ctrl+l")
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert len(app.screen_stack) == 2

    run(scenario())


def test_the_command_palette_reaches_the_actions(app_factory):
    from textual.command import CommandPalette

    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await settle(app, pilot)
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"lock")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert app.actor is None

    run(scenario())


def test_palette_offers_only_what_applies(app_factory):
    from console.app import available_commands

    def offered(app: AnjuApp) -> set[str]:
        return {spec.action for spec in available_commands(app)}

    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert offered(app) == {"help", "quit"}
            await log_in(app, pilot, "clerk", PASSWORD)
            await settle(app, pilot)
            assert offered(app) == {"help", "refresh", "lock", "quit"}

    run(scenario())


def test_help_opened_while_logging_in_does_not_survive_the_login(app_factory, monkeypatch):
    import threading

    from core.security import services

    release = threading.Event()
    real = services.authenticate

    def slow_authenticate(*args, **kwargs):
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "authenticate", slow_authenticate)

    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            app.screen.query_one("#username", Input).value = "clerk"
            app.screen.query_one("#password", Input).value = PASSWORD
            app.screen.query_one("#password", Input).focus()
            await pilot.press("enter")
            await pilot.press("f1")  # while the password is still being checked
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            release.set()
            await settle(app, pilot)
            assert isinstance(app.screen, HomeScreen)
            assert len(app.screen_stack) == 2

    run(scenario())


def test_a_database_without_a_site_says_so_on_the_login_screen(sqlite_db, clock):
    def ctx_factory() -> Context:
        return Context(db=sqlite_db, actor=Actor.system(), clock=clock)

    async def scenario() -> None:
        app = AnjuApp(ctx_factory)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert "no site identity" in text_of(app, "#login-error")

    run(scenario())


def test_an_idle_session_locks_itself(sqlite_ctx):
    add_user(sqlite_ctx, "clerk", PASSWORD, roles=["finance"])

    def ctx_factory() -> Context:
        return Context(db=sqlite_ctx.db, actor=Actor.system(), clock=sqlite_ctx.clock, home=sqlite_ctx.home)

    async def scenario() -> None:
        # 6 s: long enough that logging in and loading the dashboard on a loaded machine does not reach it.
        app = AnjuApp(ctx_factory, idle_lock_s=6.0)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await pilot.press("down")
            await settle(app, pilot)
            assert isinstance(app.screen, HomeScreen)
            for _ in range(9):  # keys keep it open past the idle time
                await pilot.pause(0.8)
                await pilot.press("down")
            assert isinstance(app.screen, HomeScreen)
            for _ in range(80):  # then, left alone, it locks (polled: a loaded machine is slow to get there)
                await pilot.pause(0.25)
                if isinstance(app.screen, LoginScreen):
                    break
            await settle(app, pilot)
            assert isinstance(app.screen, LoginScreen)
            assert app.actor is None

    run(scenario())


def test_escape_on_a_work_screen_goes_back_home(app_factory):
    async def scenario() -> None:
        app = app_factory()
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(app, pilot)
            await log_in(app, pilot, "clerk", PASSWORD)
            await pilot.press("f4")  # the ledger
            await settle(app, pilot)
            assert getattr(app.screen, "PLACE", None) == "ledger"
            await pilot.press("escape")
            await settle(app, pilot)
            assert isinstance(app.screen, HomeScreen)

    run(scenario())
