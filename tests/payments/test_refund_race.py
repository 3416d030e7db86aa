"""Refunds racing each other from parallel threads never exceed the amount paid (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from core.context import Actor
from core.errors import AnjuError
from core.ledger.services import get_balance
from core.payments import services
from core.payments.models import PayRefund

THREADS = 8


def test_parallel_refunds_never_exceed_paid(counter_ctx, pay_ctx):
    order = services.counter_pay(counter_ctx, "property", "RACE", 10000, "s", channel="pos", reference="T1")
    barrier = threading.Barrier(THREADS)
    ok: list[str] = []
    refused: list[str] = []

    def worker(i: int) -> None:
        c = pay_ctx.as_actor(Actor.system(f"t{i}"))
        barrier.wait()
        try:
            view, _ = services.refund(c, "property", "RACE", f"RR{i}", 3000, "race")
            ok.append(view.refund_no)
        except AnjuError as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 3 and len(refused) == THREADS - 3
    assert set(refused) <= {"refund_exceeds", "conflict"}
    with pay_ctx.read() as s:
        total = s.execute(
            select(func.sum(PayRefund.amount_fen)).where(PayRefund.status == "SUCCESS")
        ).scalar_one()
    assert total == 9000
    view = services.get_order(pay_ctx, order_no=order.order_no)
    assert view.refunded_fen == 9000 and view.status == "PARTIALLY_REFUNDED"
    assert get_balance(pay_ctx, "PAYHUB", "2202.property").balance_fen == 1000


def test_parallel_same_refund_key_creates_one(counter_ctx, pay_ctx):
    services.counter_pay(counter_ctx, "property", "SAME", 10000, "s", channel="pos", reference="T1")
    barrier = threading.Barrier(THREADS)
    results: list[tuple[str, bool]] = []

    def worker(i: int) -> None:
        c = pay_ctx.as_actor(Actor.system(f"t{i}"))
        barrier.wait()
        view, created = services.refund(c, "property", "SAME", "ONE", 4000, "dup")
        results.append((view.refund_no, created))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == THREADS
    assert len({no for no, _ in results}) == 1 and sum(c for _, c in results) == 1
    assert services.get_order(pay_ctx, app_id="property", out_trade_no="SAME").refunded_fen == 4000
