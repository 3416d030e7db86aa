"""The ledger's cache of open accounts (a post reads no book or account it has seen open before) never lets an
entry reach an account that is closed or gone: another process closing it, or a creation rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from core.context import Context
from core.db.engine import Database
from core.errors import ValidationError
from core.ledger import services as L
from tests.core.test_ledger import books, snapshot, spec  # noqa: F401  (books is a fixture)


def _statements(db: Database, fn) -> list[str]:
    seen: list[str] = []

    def listener(conn, cursor, statement, *_):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return seen


def _reads_accounts(stmts: list[str]) -> bool:
    return any(s.lstrip().startswith("SELECT") and "FROM ledger_accounts" in s for s in stmts)


def test_a_second_post_reads_no_book_or_account(books):  # noqa: F811
    ctx = books
    first = _statements(ctx.db, lambda: L.post(ctx, spec([("1001", 100), ("6001", -100)])))
    again = _statements(ctx.db, lambda: L.post(ctx, spec([("1001", 200), ("6001", -200)])))
    assert _reads_accounts(first) and not _reads_accounts(again)
    assert len(again) == len(first) - 2  # the book and the accounts
    assert L.get_balance(ctx, "PROPERTY", "1001").balance_fen == 300


def test_an_account_closed_elsewhere_is_refused(books, tmp_path):  # noqa: F811
    ctx = books
    L.open_account(ctx, "PROPERTY", "1003", "旧账户", "asset")
    L.post(ctx, spec([("1003", 100), ("6001", -100)]))  # now known open here
    L.post(ctx, spec([("6001", 100), ("1003", -100)]))  # back to zero, so it may be closed
    # Another process (its own Database on the same file or server) closes it.
    other = Database(ctx.db.url)
    try:
        L.close_account(
            Context(db=other, actor=ctx.actor, clock=ctx.clock, home=ctx.home), "PROPERTY", "1003"
        )
    finally:
        other.dispose()
    before = snapshot(ctx)
    with pytest.raises(ValidationError, match="closed"):
        L.post(ctx, spec([("1003", 100), ("6001", -100)]))
    assert snapshot(ctx) == before
    assert L.get_balance(ctx, "PROPERTY", "6001").balance_fen == 0
    # Its neighbours in the same entry were not left changed by the refused attempt, and still post.
    L.post(ctx, spec([("1001", 100), ("6001", -100)]))
    assert L.get_balance(ctx, "PROPERTY", "1001").balance_fen == 100


def test_an_account_whose_creation_rolled_back_is_not_remembered(books):  # noqa: F811
    ctx = books

    class Undo(Exception):
        pass

    with pytest.raises(Undo), ctx.uow("ledger.post") as uow:
        L.open_account(ctx, "PROPERTY", "1004", "临时", "asset")
        L.post_in(uow, spec([("1004", 100), ("6001", -100)]))
        raise Undo
    before = snapshot(ctx)
    with pytest.raises(ValidationError, match="does not exist"):
        L.post(ctx, spec([("1004", 100), ("6001", -100)]))
    assert snapshot(ctx) == before
