"""A counter payment settles the house's bills exactly once: the counter settles them itself, in the payment's
transaction, and the hub's notice of that payment is recorded as handled by it (no second settlement)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit.log import verify as audit_verify
from core.errors import StateError
from core.ledger.models import JournalEntry
from core.ledger.verify import verify as ledger_verify
from core.payments import notify, shifts
from core.payments import services as payments
from core.payments.models import PayNotification, PayOrder
from core.property import billing, counter, payhub
from core.property.models import Payment, Receipt
from tests.property.helpers import property_fee, small_community


def _setup(ctx):
    notify.register_handler(
        payhub.APP_ID, payhub.on_notice
    )  # the real handler (other tests stand in their own)
    c, houses = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-10")
    billing.bill_run(ctx, "2026-11")
    payments.ensure_payhub_books(ctx)
    payments.add_app(ctx, "物业", app_id=payhub.APP_ID)
    shifts.open_shift(ctx, 0)
    return houses[0]


@pytest.fixture
def settle_calls(monkeypatch):
    """Every call of billing.settle_payment_in (the counter's and the hub handler's), by payment reference."""
    calls: list[str] = []
    real = billing.settle_payment_in

    def spy(uow, record, **kw):
        calls.append(record.reference)
        return real(uow, record, **kw)

    monkeypatch.setattr(billing, "settle_payment_in", spy)
    return calls


def _counts(ctx, key: str) -> dict[str, int]:
    with ctx.read() as s:
        order_no = s.execute(select(PayOrder.order_no).where(PayOrder.out_trade_no == key)).scalar_one()
        return {
            "payments": s.execute(
                select(func.count()).select_from(Payment).where(Payment.reference == key)
            ).scalar_one(),
            "receipts": s.execute(
                select(func.count())
                .select_from(Receipt)
                .join(Payment, Payment.id == Receipt.payment_id)
                .where(Payment.reference == key)
            ).scalar_one(),
            "hub_entries": s.execute(
                select(func.count())
                .select_from(JournalEntry)
                .where(JournalEntry.doc_type == "pay_order", JournalEntry.doc_id == order_no)
            ).scalar_one(),
            "notices": s.execute(
                select(func.count()).select_from(PayNotification).where(PayNotification.object_no == order_no)
            ).scalar_one(),
        }


def test_one_counter_payment_is_settled_once(ctx, settle_calls):
    house = _setup(ctx)
    due = sum(ln.outstanding_fen for ln in billing.outstanding(ctx, house.id))
    req = counter.PaymentRequest(house.id, (), due, "cash", key="K-1", tendered_fen=50_000)

    result = counter.take_payment(ctx, req)

    assert settle_calls == ["K-1"]  # the counter's own settlement; the notice handler did not settle again
    assert result.receipt.total_fen == due and result.change_fen == 50_000 - due
    assert billing.outstanding(ctx, house.id) == []
    assert _counts(ctx, "K-1") == {"payments": 1, "receipts": 1, "hub_entries": 1, "notices": 1}
    [n] = notify.list_notifications(ctx, object_no=result.order_no)
    assert (n["status"], n["attempts"], n["url"]) == ("DELIVERED", 1, None)
    with ctx.read() as s:
        assert ledger_verify(s).ok and audit_verify(s).ok

    # The same key again (a retry after a lost answer) returns the first receipt and writes nothing.
    again = counter.take_payment(ctx, req)
    assert again.receipt.id == result.receipt.id and again.order_no == result.order_no
    assert _counts(ctx, "K-1") == {"payments": 1, "receipts": 1, "hub_entries": 1, "notices": 1}


def test_a_hub_payment_of_the_same_app_is_still_settled_by_the_notice(ctx, settle_calls):
    house = _setup(ctx)
    meta = payhub.payment_metadata(house.id, None, False)
    payments.counter_pay(ctx, payhub.APP_ID, "H-1", 10_000, "物业费", tendered_fen=10_000, metadata=meta)
    assert settle_calls == ["H-1"]  # the handler, once
    assert _counts(ctx, "H-1")["receipts"] == 1


def test_settling_refused_refuses_the_whole_payment(ctx, settle_calls):
    house = _setup(ctx)
    bills = billing.outstanding(ctx, house.id)
    first = counter.take_payment(
        ctx, counter.PaymentRequest(house.id, (bills[0].bill_id,), 1_000, "cash", key="K-2")
    )
    assert first.receipt.total_fen == 1_000
    paid_off = counter.PaymentRequest(
        house.id, (bills[0].bill_id,), bills[0].outstanding_fen - 1_000, "cash", key="K-3"
    )
    counter.take_payment(ctx, paid_off)
    with ctx.read() as s:
        orders_before = s.execute(select(func.count()).select_from(PayOrder)).scalar_one()
        notices_before = s.execute(select(func.count()).select_from(PayNotification)).scalar_one()

    # That bill has nothing left: the settlement refuses, and so the hub keeps no order and no notice of it.
    with pytest.raises(StateError):
        counter.take_payment(
            ctx, counter.PaymentRequest(house.id, (bills[0].bill_id,), 500, "cash", key="K-4")
        )
    with ctx.read() as s:
        assert s.execute(select(func.count()).select_from(PayOrder)).scalar_one() == orders_before
        assert s.execute(select(func.count()).select_from(PayNotification)).scalar_one() == notices_before
        assert (
            s.execute(
                select(func.count()).select_from(Payment).where(Payment.reference == "K-4")
            ).scalar_one()
            == 0
        )
    assert settle_calls == ["K-2", "K-3", "K-4"]
