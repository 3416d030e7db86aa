"""Counter payments (cash with change, POS), idempotency, ledger entries, refunds and shifts, on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.errors import Conflict, PermissionDenied, StateError, ValidationError
from core.ledger.services import get_balance
from core.payments import notify, services, shifts
from core.payments.models import PayNotification, PayOrder, PayOrderEvent


def _count(ctx, model) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_cash_payment_with_change_books_and_notifies(counter_ctx, pay_ctx):
    seen = []
    notify.register_handler("property", lambda uow, notice: seen.append(notice["out_trade_no"]))
    try:
        o = services.counter_pay(
            counter_ctx, "property", "BILL-1", 12345, "物业费 2026-11", tendered_fen=20000
        )
    finally:
        notify.unregister_handler("property")
    assert o.status == "SUCCESS" and o.change_fen == 7655 and o.tendered_fen == 20000
    assert o.order_no.startswith("T01P") and len(o.order_no) <= 32
    assert o.shift_id is not None and o.fee_fen == 0 and o.business_date is not None
    assert seen == ["BILL-1"]
    assert get_balance(pay_ctx, "PAYHUB", "1012.cash").balance_fen == 12345
    assert get_balance(pay_ctx, "PAYHUB", "2202.property").balance_fen == 12345
    hist = services.order_history(pay_ctx, o.order_no)
    assert [(h.from_status, h.to_status) for h in hist] == [(None, "CREATED"), ("CREATED", "SUCCESS")]
    with pay_ctx.read() as s:
        n = s.execute(select(PayNotification)).scalar_one()
    assert n.status == "DELIVERED" and n.attempts == 1


def test_repeat_returns_original_and_conflict_changes_nothing(counter_ctx):
    a = services.counter_pay(counter_ctx, "property", "BILL-2", 500, "水费")
    b = services.counter_pay(counter_ctx, "property", "BILL-2", 500, "水费")
    assert a.order_no == b.order_no
    before = (_count(counter_ctx, PayOrder), _count(counter_ctx, PayOrderEvent))
    with pytest.raises(Conflict):
        services.counter_pay(counter_ctx, "property", "BILL-2", 501, "水费")
    assert (_count(counter_ctx, PayOrder), _count(counter_ctx, PayOrderEvent)) == before


@pytest.mark.parametrize(
    "kw",
    [
        {"amount_fen": 0},
        {"amount_fen": -5},
        {"amount_fen": 1.5},
        {"amount_fen": True},
        {"tendered_fen": 10},
        {"subject": ""},
        {"out_trade_no": "bad no with spaces"},
        {"channel": "wechat"},
        {"channel": "pos"},  # no terminal reference
    ],
)
def test_bad_counter_input_writes_nothing(counter_ctx, kw):
    args = {"app_id": "property", "out_trade_no": "X1", "amount_fen": 100, "subject": "s"} | kw
    with pytest.raises(ValidationError):
        services.counter_pay(counter_ctx, **args)
    assert _count(counter_ctx, PayOrder) == 0


def test_counter_payment_needs_open_shift_and_permission(pay_ctx):
    from tests.payments.conftest import cashier_actor

    no_shift = pay_ctx.as_actor(cashier_actor("c2"))
    with pytest.raises(StateError):
        services.counter_pay(no_shift, "property", "B", 100, "s")
    auditor = pay_ctx.as_actor(cashier_actor("aud").__class__(None, "aud", permissions=frozenset({"*.view"})))
    with pytest.raises(PermissionDenied):
        services.counter_pay(auditor, "property", "B", 100, "s")
    assert _count(pay_ctx, PayOrder) == 0


def test_pos_fee_and_partial_then_full_refund(counter_ctx, pay_ctx):
    o = services.counter_pay(
        counter_ctx, "property", "P1", 10000, "停车费", channel="pos", reference="TR0001"
    )
    assert o.fee_rate == "0.0038" and o.fee_fen == 38 and o.channel_trade_no == "TR0001"
    r1, created = services.refund(pay_ctx, "property", "P1", "R1", 3333, "多收")
    assert created and r1.status == "SUCCESS" and r1.fee_refund_fen == 13  # 38 × 3333 / 10000 = 12.67 → 13
    again, created = services.refund(pay_ctx, "property", "P1", "R1", 3333, "多收")
    assert not created and again.refund_no == r1.refund_no
    with pytest.raises(Conflict):
        services.refund(pay_ctx, "property", "P1", "R1", 3000, "多收")
    with pytest.raises(ValidationError):
        services.refund(pay_ctx, "property", "P1", "R2", 6668, "too much")
    r2, _ = services.refund(pay_ctx, "property", "P1", "R2", 6667, "退清")
    assert r2.fee_refund_fen == 38 - 13
    o = services.get_order(pay_ctx, order_no=o.order_no)
    assert o.status == "REFUNDED" and o.refunded_fen == 10000
    assert get_balance(pay_ctx, "PAYHUB", "2202.property").balance_fen == 0
    assert get_balance(pay_ctx, "PAYHUB", "6602.fee").balance_fen == 0
    assert get_balance(pay_ctx, "PAYHUB", "1012.pos").balance_fen == 0
    with pytest.raises(StateError):
        services.refund(pay_ctx, "property", "P1", "R3", 1, "again")


def test_shift_closed_with_shortage_needs_approval(counter_ctx, pay_ctx, db):
    from core.context import Actor
    from core.workflow import services as wf

    services.counter_pay(counter_ctx, "property", "S1", 10050, "物业费", tendered_fen=20000)
    services.counter_pay(counter_ctx, "property", "S2", 5000, "水费", channel="pos", reference="T9")
    with pytest.raises(ValidationError):
        shifts.close_shift(counter_ctx, {"10000": 3})  # short, without a reason
    view = shifts.close_shift(counter_ctx, {"10000": 3}, reason="找零错误")
    # expected cash: float 20000 + 10050 = 30050; counted 30000 → short 50
    assert view.expected == {"cash": 30050, "pos": 5000}
    assert view.difference_fen == -50 and view.status == "PENDING_APPROVAL"
    with pytest.raises(StateError):
        services.counter_pay(counter_ctx, "property", "S3", 100, "s")
    approver = pay_ctx.as_actor(
        Actor(user_id=None, username="boss", roles=("approver",), permissions=frozenset({"workflow.*"}))
    )
    wf.approve(approver, view.approval_id)
    done = shifts.get_shift(pay_ctx, view.shift_no)
    assert done.status == "CLOSED" and done.closed_at is not None
    assert get_balance(pay_ctx, "PAYHUB", "6603.cash_over_short").balance_fen == 50
    assert get_balance(pay_ctx, "PAYHUB", "1012.cash").balance_fen == 10050 - 50
    totals = shifts.daily_close(pay_ctx, view.business_date)
    assert totals["channels"]["cash"]["paid_fen"] == 10050 and totals["cash_difference_fen"] == -50
    with pytest.raises(Conflict):
        shifts.daily_close(pay_ctx, view.business_date)


def test_shift_balanced_closes_at_once_and_daily_close_waits_for_open_shifts(counter_ctx, pay_ctx):
    services.counter_pay(counter_ctx, "property", "S1", 100, "s")
    day = shifts.list_shifts(pay_ctx)[0].business_date
    with pytest.raises(StateError):
        shifts.daily_close(pay_ctx, day)
    view = shifts.close_shift(counter_ctx, {"10000": 2, "100": 1})
    assert view.status == "CLOSED" and view.difference_fen == 0
    shifts.open_shift(counter_ctx, 0)
    with pytest.raises(Conflict):
        shifts.open_shift(counter_ctx, 0)


def test_failing_handler_keeps_payment_and_retries(counter_ctx, pay_ctx, clock):
    calls = []

    def flaky(uow, notice):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("property down")

    notify.register_handler("property", flaky)
    try:
        o = services.counter_pay(counter_ctx, "property", "F1", 100, "s")
        assert o.status == "SUCCESS"
        assert notify.deliver_inprocess(pay_ctx) == 0  # not due yet (backoff)
        clock.advance(seconds=16)
        assert notify.deliver_inprocess(pay_ctx) == 1
        assert notify.deliver_inprocess(pay_ctx) == 0
    finally:
        notify.unregister_handler("property")
    assert len(calls) == 2


def test_failure_while_booking_leaves_nothing_half_done(counter_ctx, monkeypatch):
    from core.payments.models import PayNotification, PayRefund

    def broken(uow, spec):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "post_in", broken)
    with pytest.raises(RuntimeError):
        services.counter_pay(counter_ctx, "property", "CRASH", 100, "s")
    for model in (PayOrder, PayOrderEvent, PayNotification, PayRefund):
        assert _count(counter_ctx, model) == 0
    monkeypatch.undo()
    assert services.counter_pay(counter_ctx, "property", "CRASH", 100, "s").status == "SUCCESS"


def test_permissions_for_refund_and_manage(counter_ctx, pay_ctx):
    from core.context import Actor

    services.counter_pay(counter_ctx, "property", "PERM", 100, "s")
    with pytest.raises(PermissionDenied):
        services.refund(counter_ctx, "property", "PERM", "R1", 50, "x")  # a cashier cannot refund
    viewer = pay_ctx.as_actor(Actor(None, "aud", permissions=frozenset({"*.view"})))
    with pytest.raises(PermissionDenied):
        services.add_app(viewer, "x")
    from core.payments import jobs, routing

    with pytest.raises(PermissionDenied):
        routing.set_channel(viewer, "wechat", enabled=False)
    with pytest.raises(PermissionDenied):
        jobs.run_once(viewer)
    assert [a.app_id for a in services.list_apps(viewer)] == ["property"]


def test_disabled_channel_falls_back_and_rate_is_snapshotted(pay_ctx):
    from core.payments import routing

    routing.set_channel(pay_ctx, "bank_debit", fee_rate="0.002")
    a, _ = services.create_order(pay_ctx, "property", "RT1", 10000, "s", method="debit")
    routing.set_channel(pay_ctx, "bank_debit", fee_rate="0.005")
    assert services.get_order(pay_ctx, order_no=a.order_no).fee_rate == "0.002"
    routing.set_channel(pay_ctx, "bank_debit", enabled=False)
    with pytest.raises(StateError):
        services.create_order(pay_ctx, "property", "RT2", 10000, "s", method="debit")
    with pytest.raises(ValidationError):
        routing.set_channel(pay_ctx, "wechat", fee_rate="0.5")
    routing.add_route(pay_ctx, ["bank_debit", "unionpay"], app_id="property", method="card", priority=10)
    routing.set_channel(pay_ctx, "unionpay", enabled=False)
    with pytest.raises(StateError):
        services.create_order(pay_ctx, "property", "RT3", 100, "s", method="card")
    routing.set_channel(pay_ctx, "bank_debit", enabled=True)
    c, _ = services.create_order(pay_ctx, "property", "RT3", 100, "s", method="card")
    assert c.channel == "bank_debit"
