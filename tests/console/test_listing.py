"""core.listing, the paged read models behind every list of the back office: paging, sorting, filters, counts,
permissions and streaming, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from core.context import Actor
from core.errors import NotFound, PermissionDenied, ValidationError
from core.ledger.services import EntrySpec, ensure_account, ensure_book, post_batch
from core.listing import COUNT_CAP, ListQuery, count, paged, sources_for, stream
from core.security.services import add_user, disable_user


def _ledger(ctx, n: int) -> None:
    ensure_book(ctx, "PROP", "物业账簿", "property")
    ensure_account(ctx, "PROP", "1001", "现金", "asset")
    ensure_account(ctx, "PROP", "6001", "收入", "income")
    specs = [
        EntrySpec(
            "PROP",
            date(2025, 1, 1 + i % 28),
            f"收款 {i}",
            [("1001", 100 + i), ("6001", -(100 + i))],
            "rcpt",
            f"R{i:04d}",
        )
        for i in range(n)
    ]
    post_batch(ctx, specs)


def test_journal_pages_cover_every_posting_once_in_order(ctx):
    _ledger(ctx, 30)
    seen = []
    offset = 0
    while True:
        page = paged(ctx, "ledger.journal", ListQuery({"book": "PROP"}, offset=offset, limit=7))
        if not page.rows:
            break
        assert page.exact and page.total_estimate == 60
        seen.extend(page.rows)
        offset += 7
    assert len(seen) == 60
    assert len({(r[1], r[2]) for r in seen}) == 60  # (entry, line) never repeats
    dates = [r[0] for r in seen]
    assert dates == sorted(dates, reverse=True)  # default: newest first
    # debit and credit columns: each line is one or the other, in fen
    assert all((r[5] > 0) != (r[6] > 0) for r in seen)
    assert sum(r[5] for r in seen) == sum(r[6] for r in seen)


def test_journal_filters_and_sort(ctx):
    _ledger(ctx, 30)
    page = paged(ctx, "ledger.journal", ListQuery({"book": "PROP", "account": "600"}, descending=False))
    assert page.total_estimate == 30 and {r[3] for r in page.rows} == {"6001"}
    assert [r[0] for r in page.rows] == sorted(r[0] for r in page.rows)
    page = paged(
        ctx, "ledger.journal", ListQuery({"book": "PROP", "date_from": "2025-01-03", "date_to": "2025-01-03"})
    )
    assert {r[0] for r in page.rows} == {date(2025, 1, 3)}
    page = paged(ctx, "ledger.journal", ListQuery({"book": "PROP", "doc": "R0005"}))
    assert page.total_estimate == 2
    # a percent sign is text, not a wildcard
    assert paged(ctx, "ledger.journal", ListQuery({"book": "PROP", "account": "%"})).rows == []
    assert paged(ctx, "ledger.journal", ListQuery({"book": "NONE"})).rows == []


def test_statement_running_balance(ctx):
    _ledger(ctx, 5)
    page = paged(ctx, "ledger.statement", ListQuery({"book": "PROP", "account": "1001"}))
    amounts = [r[6] for r in page.rows]
    running = [r[7] for r in page.rows]
    assert running == [sum(amounts[: i + 1]) for i in range(len(amounts))]


def test_bad_queries_are_refused(ctx):
    with pytest.raises(ValidationError):
        paged(ctx, "ledger.journal", ListQuery({}))  # the book is required
    with pytest.raises(ValidationError):
        paged(ctx, "ledger.journal", ListQuery({"book": "PROP", "date_from": "1.1.2025"}))
    with pytest.raises(ValidationError):
        paged(ctx, "audit", ListQuery({"nope": "x"}))
    with pytest.raises(ValidationError):
        paged(ctx, "audit", ListQuery(sort="actor"))  # not a sortable column
    with pytest.raises(ValidationError):
        paged(ctx, "audit", ListQuery(limit=0))
    with pytest.raises(ValidationError):
        paged(ctx, "audit", ListQuery(offset=-1))
    with pytest.raises(ValidationError):
        paged(ctx, "users", ListQuery({"status": "sleeping"}))
    with pytest.raises(NotFound):
        paged(ctx, "nothing", ListQuery())


def test_each_list_checks_its_permission(ctx):
    auditor = ctx.as_actor(Actor(None, "eve", permissions=frozenset({"*.view"})))
    paged(auditor, "audit", ListQuery())
    clerk = ctx.as_actor(Actor(None, "bob", permissions=frozenset({"ledger.view"})))
    with pytest.raises(PermissionDenied):
        paged(clerk, "audit", ListQuery())
    with pytest.raises(PermissionDenied):
        list(stream(clerk, "users", ListQuery()))
    assert {s.code for s in sources_for(clerk)} == {"ledger.journal", "ledger.statement"}


def test_users_list_with_roles_and_status_filter(ctx):
    add_user(ctx, "alice", "s3cret-pass", roles=["finance", "approver"])
    add_user(ctx, "bob", "s3cret-pass", roles=["cashier"])
    disable_user(ctx, "bob")
    page = paged(ctx, "users", ListQuery())
    rows = {r[0]: r for r in page.rows}
    assert rows["alice"][3] == "approver,finance" and rows["bob"][2] == "disabled"
    page = paged(ctx, "users", ListQuery({"status": "active"}))
    assert [r[0] for r in page.rows] == ["alice"]
    page = paged(ctx, "users", ListQuery(sort="username", descending=True))
    assert [r[0] for r in page.rows] == ["bob", "alice"]


def test_audit_filters(ctx):
    add_user(ctx, "alice", "s3cret-pass")
    page = paged(ctx, "audit", ListQuery({"action": "user."}))
    assert [r[3] for r in page.rows] == ["user.create"]
    page = paged(ctx, "audit", ListQuery({"object": "user"}))
    assert page.total_estimate == 1
    today = ctx.clock.now().date().isoformat()
    assert paged(ctx, "audit", ListQuery({"date_to": "2000-01-01"})).rows == []
    assert paged(ctx, "audit", ListQuery({"actor": "SYS"})).total_estimate >= 1  # user names are lower-case
    assert today


def test_count_is_capped_on_a_page_and_exact_on_request(ctx, monkeypatch):
    import core.listing as listing

    _ledger(ctx, 20)
    monkeypatch.setattr(listing, "COUNT_CAP", 15)
    page = paged(ctx, "ledger.journal", ListQuery({"book": "PROP"}, limit=10))
    assert not page.exact and page.total_estimate == 15
    assert count(ctx, "ledger.journal", {"book": "PROP"}) == 40
    far = paged(ctx, "ledger.journal", ListQuery({"book": "PROP"}, offset=30, limit=10))
    assert far.total_estimate == 40 and len(far.rows) == 10
    assert COUNT_CAP >= 1000


def test_stream_reads_everything_in_batches(ctx):
    _ledger(ctx, 25)
    batches = list(stream(ctx, "ledger.journal", ListQuery({"book": "PROP"}), batch_rows=8))
    assert [len(b) for b in batches] == [8, 8, 8, 8, 8, 8, 2]
    assert [len(b) for b in stream(ctx, "ledger.journal", ListQuery({"book": "PROP"}), rows_max=5)] == [5]
