"""Unit of work, audit chain, outbox, gapless counters, document numbers, ids and clock."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, text, update

from core.audit.log import verify as verify_audit
from core.audit.models import AuditRecord
from core.clock import FakeClock, business_date
from core.context import Actor
from core.db import sequences
from core.errors import PermissionDenied
from core.ids import id_time_ms, new_id
from core.numbering import next_document_no
from core.sync.models import OutboxEvent


def _audited_change(ctx, n: int = 1, fail: bool = False) -> None:
    with ctx.uow() as uow:
        for i in range(n):
            uow.audit("test.change", "thing", i, before={"v": i}, after={"v": i + 1})
            uow.emit("test.changed", {"i": i})
        if fail:
            raise RuntimeError("boom")


def test_uow_commits_audit_and_outbox_together(ctx):
    _audited_change(ctx, 3)
    with ctx.read() as s:
        actions = s.execute(select(AuditRecord.action).where(AuditRecord.action == "test.change")).all()
        events = s.execute(select(OutboxEvent).where(OutboxEvent.type == "test.changed")).scalars().all()
    assert len(actions) == 3
    assert len(events) == 3
    seqs = [e.site_seq for e in events]
    assert seqs == list(range(seqs[0], seqs[0] + 3))


def test_uow_rolls_back_everything_on_error(ctx):
    with ctx.read() as s:
        before_audit = s.execute(select(AuditRecord)).all()
        before_events = s.execute(select(OutboxEvent)).all()
    with pytest.raises(RuntimeError):
        _audited_change(ctx, 2, fail=True)
    with ctx.read() as s:
        assert len(s.execute(select(AuditRecord)).all()) == len(before_audit)
        assert len(s.execute(select(OutboxEvent)).all()) == len(before_events)
    # the counters were given back: the next event continues without a gap
    _audited_change(ctx, 1)
    with ctx.read() as s:
        seqs = sorted(s.execute(select(OutboxEvent.site_seq)).scalars())
    assert seqs == list(range(1, len(seqs) + 1))


def test_nested_uow_joins_the_outer_transaction(ctx):
    with pytest.raises(RuntimeError), ctx.uow() as outer:
        with ctx.uow() as inner:
            assert inner is outer
            inner.audit("test.inner", "thing", 1)
        raise RuntimeError("outer fails after inner finished")
    with ctx.read() as s:
        assert s.execute(select(AuditRecord).where(AuditRecord.action == "test.inner")).first() is None


def test_permission_is_checked_before_anything_happens(ctx):
    clerk = ctx.as_actor(Actor(user_id=new_id(), username="clerk", permissions=frozenset({"payments.*"})))
    with pytest.raises(PermissionDenied) as err, clerk.uow("ledger.post"):
        pytest.fail("body must not run")
    assert "ledger.post" in str(err.value)
    assert clerk.actor.can("payments.counter.take")
    assert not clerk.actor.can("ledger.post")


def test_audit_chain_verifies_and_detects_edit_delete_insert(ctx):
    _audited_change(ctx, 5)
    with ctx.read() as s:
        result = verify_audit(s)
    assert result.ok, result.problems
    assert result.checked >= 5

    with ctx.db.engine.begin() as conn:
        conn.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(after_json='{"v":999}'))
    with ctx.read() as s:
        problems = verify_audit(s).problems
    assert any(p["problem"] == "altered" and p["seq"] == 3 for p in problems)


def test_audit_detects_deleted_record_and_cut_tail(ctx):
    _audited_change(ctx, 6)
    with ctx.read() as s:
        last = s.execute(select(AuditRecord.seq).order_by(AuditRecord.seq.desc())).scalars().first()
    with ctx.db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": last})
    with ctx.read() as s:
        problems = verify_audit(s).problems
    kinds = {(p["problem"], p["seq"]) for p in problems}
    assert ("missing", 2) in kinds
    assert ("truncated", last) in kinds


def test_audit_detects_inserted_record(ctx):
    _audited_change(ctx, 3)
    with ctx.db.engine.begin() as conn:
        row = conn.execute(select(AuditRecord).where(AuditRecord.seq == 2)).mappings().one()
        conn.execute(text("UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 2"))
        forged = dict(row)
        forged["id"] = uuid.uuid4()
        forged["seq"] = 2
        conn.execute(AuditRecord.__table__.insert(), forged)
        conn.execute(text("UPDATE audit_log SET seq = seq - 999 WHERE seq > 1000"))
    with ctx.read() as s:
        problems = verify_audit(s).problems
    assert problems and min(p["seq"] for p in problems) <= 3


def test_counter_is_gapless_and_unique_under_concurrent_writers(sqlite_ctx):
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        local = sqlite_ctx.as_actor(sqlite_ctx.actor)
        try:
            for _ in range(25):
                with local.uow() as uow:
                    results.append(sequences.take(uow.session, "doc:test"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(results) == list(range(1, 101))


def test_document_numbers_are_site_prefixed_per_year_and_rollback_keeps_them(ctx):
    with ctx.uow() as uow:
        first = next_document_no(uow, "SJ", 2026)
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        next_document_no(uow, "SJ", 2026)
        raise RuntimeError
    with ctx.uow() as uow:
        second = next_document_no(uow, "SJ", 2026)
        other_year = next_document_no(uow, "SJ", 2027)
    assert first == "T01-SJ2026-000001"
    assert second == "T01-SJ2026-000002"
    assert other_year == "T01-SJ2027-000001"


def test_ids_are_unique_time_ordered_uuid7():
    ids = [new_id() for _ in range(5000)]
    assert len(set(ids)) == 5000
    assert ids == sorted(ids)
    assert all(i.version == 7 for i in ids[:10])
    assert abs(id_time_ms(ids[0]) - int(datetime.now(UTC).timestamp() * 1000)) < 5000


def test_clock_business_date_is_shanghai():
    clock = FakeClock(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))  # 00:30 on 1 January in Shanghai
    assert business_date(clock.now()) == date(2027, 1, 1)
    clock.advance(hours=-1)
    assert business_date(clock.now()) == date(2026, 12, 31)
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 1, 1))


def test_utc_datetimes_round_trip_aware(ctx):
    _audited_change(ctx, 1)
    with ctx.read() as s:
        at = s.execute(select(AuditRecord.at).order_by(AuditRecord.seq.desc())).scalars().first()
    assert at.tzinfo is not None and at.utcoffset().total_seconds() == 0
    assert at == ctx.clock.now()


def test_a_validation_message_naming_its_field_shows_the_field():
    from core.errors import ValidationError

    err = ValidationError("Please fill in {field}.", field="title")
    assert (err.field, err.message("en")) == ("title", "Please fill in title.")
    plain = ValidationError("A name is required.", field="name")
    assert plain.message("en") == "A name is required." and "field" not in plain.params
