"""Several gapless counters taken in one statement (the commit path takes "audit" and "outbox" together)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from core.audit.log import verify as verify_audit
from core.audit.models import AuditRecord
from core.db import sequences
from core.sync.models import OutboxEvent


def test_take_many_reserves_each_range_and_rollback_returns_them(ctx):
    with ctx.uow() as uow:
        assert sequences.take(uow.session, "t:a", 2) == 1
        got = sequences.take_many(uow.session, [("t:a", 3), ("t:b", 1), ("t:c", 5)])
    assert got == {"t:a": 3, "t:b": 1, "t:c": 1}
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        assert sequences.take_many(uow.session, [("t:a", 1), ("t:b", 2)]) == {"t:a": 6, "t:b": 2}
        raise RuntimeError("roll back")
    with ctx.uow() as uow:  # the rolled-back values are handed out again
        assert sequences.take_many(uow.session, [("t:b", 1), ("t:a", 1)]) == {"t:b": 2, "t:a": 6}
    with ctx.read() as s:
        assert (sequences.peek(s, "t:a"), sequences.peek(s, "t:b"), sequences.peek(s, "t:c")) == (6, 2, 5)


def test_take_many_refuses_bad_input_and_changes_nothing(ctx):
    with ctx.uow() as uow:
        sequences.take(uow.session, "t:x")
    for wants in ([("t:x", 0)], [("t:x", 1), ("t:y", -1)], [("t:x", 1), ("t:x", 2)]):
        with pytest.raises(ValueError), ctx.uow() as uow:
            sequences.take_many(uow.session, wants)
    with pytest.raises(ValueError), ctx.uow() as uow:
        sequences.take(uow.session, "t:x", 0)
    with ctx.uow() as uow:
        assert sequences.take_many(uow.session, []) == {}
    with ctx.read() as s:
        assert (sequences.peek(s, "t:x"), sequences.peek(s, "t:y")) == (1, 0)


def test_commit_takes_audit_and_outbox_counters_in_one_statement(ctx):
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    def change(n_audit: int, n_events: int) -> None:
        with ctx.uow() as uow:
            for i in range(n_audit):
                uow.audit("test.many", "thing", i, after={"i": i})
            for i in range(n_events):
                uow.emit("test.many", {"i": i})

    change(1, 1)
    event.listen(ctx.db.engine, "before_cursor_execute", listener)
    try:
        change(3, 2)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", listener)
    assert sum(s.startswith("INSERT INTO counters") for s in seen) == 1, seen
    change(2, 0)  # audit alone, events alone: each takes its own counter
    change(0, 2)
    with ctx.read() as s:
        seqs = s.execute(select(AuditRecord.seq).order_by(AuditRecord.seq)).scalars().all()
        site_seqs = s.execute(select(OutboxEvent.site_seq).order_by(OutboxEvent.site_seq)).scalars().all()
        assert seqs == list(range(1, len(seqs) + 1))
        assert site_seqs == list(range(1, len(site_seqs) + 1))
        assert sequences.peek(s, "audit") == len(seqs) and sequences.peek(s, "outbox") == len(site_seqs)
        assert verify_audit(s).ok


def test_a_failed_commit_returns_both_counters(ctx):
    with ctx.uow() as uow:
        uow.audit("test.many", "thing", 1)
        uow.emit("test.many", {"i": 1})
    with ctx.read() as s:
        audit_before, outbox_before = sequences.peek(s, "audit"), sequences.peek(s, "outbox")
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        uow.audit("test.many", "thing", 2)
        uow.emit("test.many", {"i": 2})
        raise RuntimeError("boom")
    with ctx.uow() as uow:
        uow.audit("test.many", "thing", 3)
        uow.emit("test.many", {"i": 3})
    with ctx.read() as s:
        assert (sequences.peek(s, "audit"), sequences.peek(s, "outbox")) == (
            audit_before + 1,
            outbox_before + 1,
        )
        assert verify_audit(s).ok
