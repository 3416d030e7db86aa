"""Property as an app of the payment hub: a successful order of app "property" settles the house's bills."""

from __future__ import annotations

from core.ledger.verify import verify
from core.payments import notify, shifts
from core.payments import services as payments
from core.property import billing, payhub
from tests.property.helpers import property_fee, small_community


def _setup(ctx):
    # Other tests stand in their own handler for app "property"; this one tests the real one.
    notify.register_handler(payhub.APP_ID, payhub.on_notice)
    c, houses = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-10")
    billing.bill_run(ctx, "2026-11")
    payments.ensure_payhub_books(ctx)
    payments.add_app(ctx, "物业", app_id=payhub.APP_ID)
    shifts.open_shift(ctx, 0)
    return houses[0]


def _due(ctx, house_id) -> int:
    return sum(line.outstanding_fen for line in billing.outstanding(ctx, house_id))


def test_hub_payment_settles_bills_once(ctx):
    house = _setup(ctx)
    due = _due(ctx, house.id)
    assert due == 2 * 22_375  # 89.50 m² × 2.50 元 × 2 months
    meta = payhub.payment_metadata(house.id, None, False)
    order = payments.counter_pay(ctx, payhub.APP_ID, "P-1", due, "物业费", tendered_fen=50_000, metadata=meta)
    assert order.status == "SUCCESS"
    assert _due(ctx, house.id) == 0
    # a repeat of the same order (retry) settles nothing twice
    payments.counter_pay(ctx, payhub.APP_ID, "P-1", due, "物业费", tendered_fen=50_000, metadata=meta)
    assert billing.prepaid_balance(ctx, house.id) == 0
    with ctx.read() as s:
        assert verify(s).ok


def test_counter_settling_in_its_own_transaction_is_not_doubled(ctx):
    house = _setup(ctx)
    meta = payhub.payment_metadata(house.id, None, False)
    with ctx.uow("property.counter.pay") as uow:
        payments.counter_pay(ctx, payhub.APP_ID, "P-2", 60_000, "物业费", tendered_fen=60_000, metadata=meta)
        again = billing.settle_payment_in(uow, billing.PaymentRecord(house.id, "cash", 60_000, "P-2"))
    assert again.total_fen == 60_000
    assert billing.prepaid_balance(ctx, house.id) == 60_000 - 2 * 22_375


def test_orders_without_a_house_are_left_alone(ctx):
    house = _setup(ctx)
    payments.counter_pay(ctx, payhub.APP_ID, "P-3", 1_000, "押金", tendered_fen=1_000, metadata={})
    assert _due(ctx, house.id) == 2 * 22_375
