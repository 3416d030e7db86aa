"""The hot paths stay lean: a counter payment is a fixed, small number of SQL statements in one transaction,
and an API order's nonce is recorded in the order's own transaction (no separate write for it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

from core.errors import Conflict, ValidationError
from core.payments import services
from core.payments.models import PayNonce, PayOrder
from hub.signing import NonceStore

# A counter payment: one read (app, idempotency key, shift, channel), order no., order, history (one
# executemany), ledger (balances, entry, postings; its book and accounts are known from earlier posts),
# handler savepoint (3), notification and attempt, audit (counter, previous hash, record), outbox (counter,
# events). BEGIN/COMMIT not counted.
COUNTER_PAYMENT_STATEMENTS_MAX = 17


def _count_statements(db, fn) -> list[str]:
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return [s for s in seen if s.split()[0].upper() not in ("BEGIN", "COMMIT")]


def test_counter_payment_statement_budget(counter_ctx, pay_ctx):
    services.counter_pay(counter_ctx, "property", "WARM", 100, "warm-up")  # first-use lookups, caches
    stmts = _count_statements(
        pay_ctx.db,
        lambda: services.counter_pay(counter_ctx, "property", "S-1", 12345, "物业费", tendered_fen=20000),
    )
    assert len(stmts) <= COUNTER_PAYMENT_STATEMENTS_MAX, "\n".join(stmts)
    assert sum(s.startswith("UPDATE pay_orders") for s in stmts) == 0  # written once, already paid
    order = services.get_order(pay_ctx, app_id="property", out_trade_no="S-1")
    assert (
        order.status == "SUCCESS"
        and order.change_fen == 20000 - 12345
        and order.pay_info["change_fen"] == 7655
    )
    history = services.order_history(pay_ctx, order.order_no)
    assert [(e.from_status, e.to_status) for e in history] == [(None, "CREATED"), ("CREATED", "SUCCESS")]
    assert history[1].channel_request == {"amount_fen": 12345, "tendered_fen": 20000}
    # the repeat reads, and writes nothing but its (empty) transaction
    again = _count_statements(
        pay_ctx.db,
        lambda: services.counter_pay(counter_ctx, "property", "S-1", 12345, "物业费", tendered_fen=20000),
    )
    assert not [s for s in again if not s.lstrip().upper().startswith("SELECT")]


def _nonces(ctx) -> dict[str, object]:
    with ctx.read() as s:
        return dict(s.execute(select(PayNonce.nonce, PayNonce.seen_at)).all())


def test_order_records_its_request_nonce_in_its_transaction(pay_ctx, clock):
    now = clock.now()
    _, created = services.create_order(
        pay_ctx, "property", "N-1", 500, "s", method="debit", request_nonce=("nonce-0001", now)
    )
    assert created and set(_nonces(pay_ctx)) == {"nonce-0001"}
    # a same-content repeat commits its nonce too
    _, created = services.create_order(
        pay_ctx, "property", "N-1", 500, "s", method="debit", request_nonce=("nonce-0002", now)
    )
    assert not created and set(_nonces(pay_ctx)) == {"nonce-0001", "nonce-0002"}
    # a refused request writes nothing, its nonce included (the API hands that one to the flush)
    with pytest.raises(Conflict):
        services.create_order(
            pay_ctx, "property", "N-1", 501, "s", method="debit", request_nonce=("nonce-0003", now)
        )
    with pytest.raises(ValidationError):
        services.create_order(
            pay_ctx, "property", "N-2", 0, "s", method="debit", request_nonce=("nonce-0004", now)
        )
    assert set(_nonces(pay_ctx)) == {"nonce-0001", "nonce-0002"}
    with pay_ctx.read() as s:
        assert s.execute(select(PayOrder.out_trade_no)).scalars().all() == ["N-1"]


def test_nonce_store_leaves_owned_nonces_to_the_caller(pay_ctx, clock):
    store = NonceStore()
    now = clock.now()
    assert store.add("property", "owned-0001", now, save=False)
    assert not store.add("property", "owned-0001", now + timedelta(seconds=1))  # still refused as a replay
    assert store.flush(pay_ctx) == 0 and _nonces(pay_ctx) == {}
    store.save_later("property", "owned-0001", now)
    assert store.flush(pay_ctx) == 1 and set(_nonces(pay_ctx)) == {"owned-0001"}
    store.save_later("property", "owned-0001", now)  # already written: harmless
    assert store.flush(pay_ctx) == 1 and set(_nonces(pay_ctx)) == {"owned-0001"}


def test_order_lost_to_a_concurrent_twin_still_records_its_nonce(pay_ctx, clock, monkeypatch):
    # Two requests with the same out_trade_no race: the loser's insert hits the unique constraint, its
    # transaction (and the nonce in it) rolls back, and it answers with the winner's order. Its nonce must
    # still reach pay_nonces, or a hub restart forgets it and the signed request can be replayed.
    now = clock.now()
    first, _ = services.create_order(
        pay_ctx, "property", "N-R", 500, "s", method="debit", request_nonce=("nonce-r001", now)
    )
    real = services._existing_order
    calls = []

    def not_yet_visible(s, app_id, out_trade_no, request_hash):
        calls.append(out_trade_no)
        return None if len(calls) == 1 else real(s, app_id, out_trade_no, request_hash)

    monkeypatch.setattr(services, "_existing_order", not_yet_visible)
    again, created = services.create_order(
        pay_ctx, "property", "N-R", 500, "s", method="debit", request_nonce=("nonce-r002", now)
    )
    assert not created and again.order_no == first.order_no and len(calls) == 2
    assert set(_nonces(pay_ctx)) == {"nonce-r001", "nonce-r002"}


class _DatabaseDown:
    """A context whose write transaction cannot be opened (database locked or unreachable)."""

    def __init__(self, clock):
        self.clock = clock

    def uow(self, permission=None):
        raise RuntimeError("database is locked")


def test_nonce_flush_that_fails_keeps_its_nonces_for_the_next_flush(pay_ctx, clock):
    store = NonceStore()
    now = clock.now()
    assert store.add("property", "kept-0001", now)
    store.save_later("property", "kept-0002", now)
    with pytest.raises(RuntimeError):
        store.flush(_DatabaseDown(clock))
    assert not store.add("property", "kept-0001", now)  # still refused in memory
    assert store.flush(pay_ctx) == 2 and set(_nonces(pay_ctx)) == {"kept-0001", "kept-0002"}
