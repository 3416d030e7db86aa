"""Group commit (the hub API's order writes): several requests' transactions in one durable commit, each in its
own savepoint — one failing request does not fail the others, the audit chain and the outbox stay gapless with
each record's own actor, and two requests for the same out_trade_no in one batch make one order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.audit.log import verify
from core.audit.models import AuditRecord
from core.context import Actor, Context
from core.db import sequences
from core.db.groupcommit import GroupCommit
from core.errors import Conflict, StateError, ValidationError
from core.i18n import N_
from core.payments import services
from core.payments.channels import ChannelConfig, Channels
from core.payments.channels.base import PAYING, Channel, ChannelResult, RefundResult
from core.payments.models import PayNonce, PayOrder
from core.sync.models import OutboxEvent

APP_PERMISSIONS = frozenset({"payments.pay", "payments.view", "payments.refund"})


class InstantQr(Channel):
    """A QR channel that answers at once (the batching, not the channel, is under test)."""

    code = "wechat"

    def create(self, order):
        return ChannelResult(
            PAYING,
            "4200" + order.order_no,
            {"code_url": "weixin://wxpay/bizpayurl?pr=x"},
            request={},
            response={},
        )

    def refund(self, order_no, refund_no, amount_fen, total_fen):
        return RefundResult("FAILED")


def app_ctx(ctx: Context, app_id: str) -> Context:
    return ctx.as_actor(
        Actor(
            user_id=None,
            username=f"app:{app_id}",
            display_name=app_id,
            roles=("app",),
            permissions=APP_PERMISSIONS,
        )
    )


def in_one_batch(writer: GroupCommit, ctx: Context, calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run `calls` on threads while the writer is held inside a first body, so that every write they hand it
    queues up and is applied in the next batch. Returns ("ok", result) or ("error", exception) per call."""
    entered, gate = threading.Event(), threading.Event()

    def hold(_uow) -> None:
        entered.set()
        assert gate.wait(20)

    holder = threading.Thread(target=writer.run, args=(ctx.as_actor(ctx.actor), None, hold))
    holder.start()
    assert entered.wait(20)
    results: list[tuple[str, Any]] = [("none", None)] * len(calls)

    def runner(i: int, fn: Callable[[], Any]) -> None:
        try:
            results[i] = ("ok", fn())
        except Exception as exc:
            results[i] = ("error", exc)

    threads = [threading.Thread(target=runner, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while writer._queue.qsize() < len(calls):
        assert time.monotonic() < deadline, "the calls did not queue"
        time.sleep(0.01)
    gate.set()
    for t in [*threads, holder]:
        t.join(timeout=30)
    return results


@pytest.fixture
def writer(db):
    w = GroupCommit(db)
    yield w
    w.close()


def _count(ctx: Context, model) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def _outbox_seqs(ctx: Context) -> list[int]:
    with ctx.read() as s:
        return list(s.execute(select(OutboxEvent.site_seq).order_by(OutboxEvent.site_seq)).scalars())


def test_one_failing_member_does_not_fail_the_others(ctx, writer):
    audit_before, seqs_before = _count(ctx, AuditRecord), _outbox_seqs(ctx)

    def body(name: str, fail: bool):
        def run(uow):
            value = sequences.take(uow.session, "group-commit-test")
            uow.audit("test.group_member", "test", name, after={"value": value})
            uow.emit("test.group_member", {"name": name})
            if fail:
                raise ValidationError(N_("The test refuses {name}."), name=name)
            return value

        return run

    actors = [ctx.as_actor(Actor.system(f"member{i}")) for i in range(4)]
    calls = [
        (lambda c=c, i=i: writer.run(c, None, body(f"m{i}", fail=(i == 1)))) for i, c in enumerate(actors)
    ]
    batches_before = writer.batches
    results = in_one_batch(writer, ctx, calls)

    assert writer.batches - batches_before == 2  # the held body's batch, then all four together
    assert [r[0] for r in results] == ["ok", "error", "ok", "ok"]
    assert isinstance(results[1][1], ValidationError)
    assert [r[1] for r in results if r[0] == "ok"] == [1, 2, 3]  # the refused member's number was given back
    with ctx.read() as s:
        assert sequences.peek(s, "group-commit-test") == 3
        rows = s.execute(
            select(AuditRecord.actor_name, AuditRecord.object_id)
            .where(AuditRecord.action == "test.group_member")
            .order_by(AuditRecord.seq)
        ).all()
        assert verify(s).ok
    assert [tuple(r) for r in rows] == [("member0", "m0"), ("member2", "m2"), ("member3", "m3")]
    assert _count(ctx, AuditRecord) == audit_before + 3
    seqs = _outbox_seqs(ctx)
    assert seqs == list(range(1, len(seqs_before) + 4))  # gapless


def test_a_failed_commit_fails_every_member_and_writes_nothing(ctx, writer, monkeypatch):
    import core.sync.outbox as outbox

    def broken(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outbox, "append_events", broken)

    def body(uow):
        sequences.take(uow.session, "group-commit-fail")
        uow.emit("test.group_member", {})
        return "written"

    members = [ctx.as_actor(ctx.actor) for _ in range(3)]
    calls = [lambda c=c: writer.run(c, None, body) for c in members]
    results = in_one_batch(writer, ctx, calls)
    assert all(kind == "error" and isinstance(exc, RuntimeError) for kind, exc in results)
    with ctx.read() as s:
        assert sequences.peek(s, "group-commit-fail") == 0


def test_a_closed_writer_refuses_work(ctx, writer):
    assert writer.run(ctx, None, lambda uow: 42) == 42
    writer.close()
    with pytest.raises(RuntimeError):
        writer.run(ctx, None, lambda uow: 43)


def test_permission_is_checked_before_queueing(ctx, writer):
    from core.errors import PermissionDenied

    nobody = ctx.as_actor(Actor(user_id=None, username="nobody"))
    with pytest.raises(PermissionDenied):
        writer.run(nobody, "payments.pay", lambda uow: 1)


@pytest.fixture
def orders(ctx, writer):
    services.ensure_payhub_books(ctx)
    services.add_app(ctx, "外部", app_id="ext")
    services.add_app(ctx, "停用", app_id="off")
    from core.payments.models import PayApp

    with ctx.uow() as uow:
        uow.session.execute(update(PayApp).where(PayApp.app_id == "off").values(status="DISABLED"))
    channels = Channels(ChannelConfig())
    channels.use("wechat", InstantQr())

    def create(app_id: str, no: str, amount: int, nonce: str):
        return lambda: services.create_order(
            app_ctx(ctx, app_id),
            app_id,
            no,
            amount,
            "物业费",
            channel="wechat",
            channels=channels,
            request_nonce=(nonce, datetime.now(UTC)),
            writer=writer,
        )

    return create


def test_same_out_trade_no_twice_in_one_batch_makes_one_order(ctx, writer, orders):
    results = in_one_batch(
        writer,
        ctx,
        [
            orders("ext", "SAME-1", 500, "nonce-0001"),
            orders("ext", "SAME-1", 500, "nonce-0002"),
            orders("ext", "SAME-1", 999, "nonce-0003"),
            orders("ext", "OTHER-1", 700, "nonce-0004"),
        ],
    )
    kinds = [r[0] for r in results]
    assert kinds == ["ok", "ok", "error", "ok"]
    (first, created_first), (second, created_second) = results[0][1], results[1][1]
    assert {created_first, created_second} == {True, False}
    assert first.order_no == second.order_no
    assert isinstance(results[2][1], Conflict)
    assert results[3][1][1] is True
    with ctx.read() as s:
        assert s.execute(select(func.count()).where(PayOrder.out_trade_no == "SAME-1")).scalar_one() == 1
        status = s.execute(select(PayOrder.status).where(PayOrder.out_trade_no == "SAME-1")).scalar_one()
        assert status == "PAYING"
        # Every nonce that reached the database is recorded (the conflicting one's with its refusal: none).
        nonces = set(s.execute(select(PayNonce.nonce)).scalars())
        assert {"nonce-0001", "nonce-0002", "nonce-0004"} <= nonces
        assert verify(s).ok


def test_a_refused_order_in_a_batch_leaves_the_others(ctx, writer, orders):
    results = in_one_batch(
        writer,
        ctx,
        [
            orders("ext", "OK-1", 100, "nonce-1001"),
            orders("off", "NO-1", 100, "nonce-1002"),
            orders("ext", "OK-2", 200, "nonce-1003"),
        ],
    )
    assert [r[0] for r in results] == ["ok", "error", "ok"]
    assert isinstance(results[1][1], StateError)
    assert results[0][1][0].status == results[2][1][0].status == "PAYING"
    with ctx.read() as s:
        assert sorted(s.execute(select(PayOrder.out_trade_no)).scalars()) == ["OK-1", "OK-2"]
        assert "nonce-1002" not in set(s.execute(select(PayNonce.nonce)).scalars())
        actors = set(
            s.execute(
                select(AuditRecord.actor_name).where(AuditRecord.action == "payments.order_create")
            ).scalars()
        )
        assert actors == {"app:ext"}
        assert verify(s).ok


def test_a_member_whose_orm_flush_breaks_the_transaction_does_not_fail_the_others(ctx, writer):
    from sqlalchemy.exc import IntegrityError

    from core.db.sequences import Counter

    with ctx.uow() as uow:
        sequences.take(uow.session, "group-commit-taken")

    def good(name: str):
        def run(uow):
            uow.audit("test.group_member", "test", name)
            return sequences.take(uow.session, "group-commit-orm")

        return run

    def clash(uow):  # an ORM insert of a row that exists: its flush fails and SQLAlchemy ends the transaction
        uow.session.add(Counter(name="group-commit-taken", value=5))
        uow.session.flush()

    bodies = [good("a"), clash, good("b")]
    members = [ctx.as_actor(ctx.actor) for _ in bodies]
    results = in_one_batch(
        writer, ctx, [lambda c=c, b=b: writer.run(c, None, b) for c, b in zip(members, bodies, strict=True)]
    )
    assert [r[0] for r in results] == ["ok", "error", "ok"]
    assert isinstance(results[1][1], IntegrityError)
    assert sorted([results[0][1], results[2][1]]) == [1, 2]
    with ctx.read() as s:
        assert sequences.peek(s, "group-commit-orm") == 2
        assert sequences.peek(s, "group-commit-taken") == 1
        assert verify(s).ok
