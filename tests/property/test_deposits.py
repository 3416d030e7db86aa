"""Deposits (押金, 装修保证金): held when paid, refunded through approval and the hub (or cash), deductions and
forfeiture with reasons — worked examples with known amounts, and the ledger verifying at the end."""

from __future__ import annotations

import pytest

from core.errors import NotFound, PermissionDenied, StateError, ValidationError
from core.ledger import services as ledger
from core.ledger.verify import verify
from core.payments import notify, shifts
from core.payments import services as payments
from core.property import billing, counter, deposits, payhub
from core.workflow import services as wf
from tests.property.helpers import person, small_community

DEPOSIT_FEN = 200_000  # 装修保证金 2,000.00 元


def _balance(ctx, code: str) -> int:
    return ledger.get_balance(ctx, billing.BOOK, code).balance_fen


def _ledger_ok(ctx) -> None:
    with ctx.read() as s:
        result = verify(s)
    assert result.ok, result.to_dict()


def _clerk(ctx, *, shift: bool = True):
    """The property clerk; with `shift` (the default) at the counter with an open shift, as paying a deposit
    back in cash needs."""
    clerk = person(
        ctx, "zhao", "property",
        perms=("property.*", "workflow.submit", "workflow.view", "payments.shift.*", "payments.view",
               "payments.counter.*", "payments.pay"),
    )  # fmt: skip
    if shift and shifts.open_shift_of(clerk, "zhao") is None:
        shifts.open_shift(clerk, 0)
    return clerk


def _approver(ctx):
    return person(ctx, "wang", "approver", perms=("workflow.*", "property.view"))


def _paid_deposit(ctx, *, via_hub: bool = True):
    """House 1-1-101 billed a 装修保证金 of 2,000.00 元 and paid it (through the hub's counter, or at the property
    counter in cash). Returns (house, deposit id)."""
    notify.register_handler(payhub.APP_ID, payhub.on_notice)
    c, houses = small_community(ctx, houses=2)
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=DEPOSIT_FEN)
    house = houses[0]
    bill_id = billing.charge_once(ctx, house.id, "ZXBZJ")
    if via_hub:
        payments.ensure_payhub_books(ctx)
        payments.add_app(ctx, "物业", app_id=payhub.APP_ID)
        shifts.open_shift(ctx, 0)
        meta = payhub.payment_metadata(house.id, [bill_id], False)
        order = payments.counter_pay(
            ctx,
            payhub.APP_ID,
            "DEP-PAY-1",
            DEPOSIT_FEN,
            "装修保证金",
            tendered_fen=DEPOSIT_FEN,
            metadata=meta,
        )
        assert order.status == "SUCCESS"
    else:
        billing.pay_at_counter(ctx, house.id, DEPOSIT_FEN, "cash", reference="SLIP-1", bill_ids=[bill_id])
    (dep,) = deposits.list_deposits(ctx, house_id=house.id)
    return house, dep.id


def test_paid_deposit_is_listed_as_held_and_the_liability_is_on_the_books(ctx):
    house, dep_id = _paid_deposit(ctx)
    (dep,) = deposits.list_deposits(ctx, house_id=house.id)
    assert (dep.id, dep.item_code, dep.paid_fen, dep.balance_fen, dep.status) == (
        dep_id, "ZXBZJ", DEPOSIT_FEN, DEPOSIT_FEN, "held",
    )  # fmt: skip
    assert (dep.payment_reference, dep.payment_channel, dep.house_code) == ("DEP-PAY-1", "cash", "1-1-101")
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN  # owed back to the owner, never income
    held = deposits.deposits_held(ctx)
    assert (held.count, held.balance_fen, held.by_item) == (1, DEPOSIT_FEN, {"ZXBZJ": DEPOSIT_FEN})
    assert deposits.list_deposits(ctx, status="refunded") == []
    _ledger_ok(ctx)


def test_refund_through_the_hub_after_approval_and_a_deduction(ctx):
    _house, dep_id = _paid_deposit(ctx)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 150_000, "装修验收合格")
    assert (rf.status, rf.method, rf.out_trade_no) == ("pending", "original", "DEP-PAY-1")
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == 150_000
    with pytest.raises(StateError):  # not approved yet: nothing is paid out
        deposits.pay_refund(ctx, rf.id)
    with pytest.raises(PermissionDenied):
        wf.approve(clerk, rf.approval_id)  # maker-checker: one's own request is refused
    wf.approve(_approver(ctx), rf.approval_id)
    paid = deposits.pay_refund(ctx, rf.id)  # the cashier whose shift took the deposit pays it back
    assert paid.status == "refunded"
    order = payments.get_order(ctx, app_id=payhub.APP_ID, out_trade_no="DEP-PAY-1")
    assert (order.status, order.refunded_fen) == ("PARTIALLY_REFUNDED", 150_000)
    assert deposits.pay_refund(ctx, rf.id) == paid  # a repeat pays nothing twice
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.refunded_fen, dep.reserved_fen, dep.balance_fen, dep.status) == (
        150_000,
        0,
        50_000,
        "partly_refunded",
    )
    # The owner damaged a wall: 300.00 元 kept, then the rest (200.00 元) goes back in cash.
    dep = deposits.deduct(clerk, dep_id, 30_000, "墙面损坏")
    assert (dep.deducted_fen, dep.balance_fen, dep.status) == (30_000, 20_000, "partly_refunded")
    rf2 = deposits.request_refund(clerk, dep_id, 20_000, "余额退还", method="cash")
    wf.approve(_approver(ctx), rf2.approval_id)
    assert deposits.pay_refund(clerk, rf2.id).status == "refunded"
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.refunded_fen, dep.deducted_fen, dep.balance_fen, dep.status) == (
        170_000,
        30_000,
        0,
        "refunded",
    )
    assert _balance(ctx, "2241.ZXBZJ") == 0
    assert _balance(ctx, "6301.deposit") == 30_000
    # 1001 took 2,000.00 in and paid 1,500.00 (hub refund of a cash order) + 200.00 (counter) out.
    assert _balance(ctx, "1001") == DEPOSIT_FEN - 150_000 - 20_000
    assert deposits.deposits_held(ctx).balance_fen == 0
    refunds, deductions = deposits.deposit_history(ctx, dep_id)
    assert [(r.amount_fen, r.method, r.status) for r in refunds] == [
        (150_000, "original", "refunded"),
        (20_000, "cash", "refunded"),
    ]
    assert [(d.kind, d.amount_fen, d.reason) for d in deductions] == [("deduction", 30_000, "墙面损坏")]
    with pytest.raises(StateError):  # nothing left to refund
        deposits.request_refund(clerk, dep_id, 1, "再退")
    _ledger_ok(ctx)


def test_refund_more_than_held_or_twice_is_refused_and_nothing_changes(ctx):
    _house, dep_id = _paid_deposit(ctx, via_hub=False)
    clerk = _clerk(ctx)
    with pytest.raises(ValidationError):
        deposits.request_refund(clerk, dep_id, DEPOSIT_FEN + 1, "多退", method="cash")
    with pytest.raises(ValidationError):  # paid at the property counter, not through the hub
        deposits.request_refund(clerk, dep_id, 1_000, "原路退回")
    with pytest.raises(ValidationError):
        deposits.request_refund(clerk, dep_id, 0, "零元", method="cash")
    with pytest.raises(ValidationError):
        deposits.request_refund(clerk, dep_id, 1_000, "  ", method="cash")
    assert deposits.list_refunds(ctx) == []
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == 0
    first = deposits.request_refund(clerk, dep_id, DEPOSIT_FEN, "退房", method="cash")
    with pytest.raises(ValidationError):  # the whole deposit is already asked for
        deposits.request_refund(clerk, dep_id, 1, "又退", method="cash")
    with pytest.raises(StateError):  # a refund is open: no forfeiture meanwhile
        deposits.forfeit(clerk, dep_id, "违约")
    wf.approve(_approver(ctx), first.approval_id)
    deposits.pay_refund(clerk, first.id)
    with pytest.raises(StateError):
        deposits.request_refund(clerk, dep_id, 1, "再退一次", method="cash")
    assert _balance(ctx, "2241.ZXBZJ") == 0 and _balance(ctx, "1001") == 0
    with pytest.raises(NotFound):
        deposits.get_deposit(ctx, "not-a-deposit")
    _ledger_ok(ctx)


def test_rejected_refund_releases_the_amount_and_forfeiture_keeps_the_rest(ctx):
    _house, dep_id = _paid_deposit(ctx, via_hub=False)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 50_000, "提前退", method="cash")
    wf.reject(_approver(ctx), rf.approval_id, "装修未验收")
    assert deposits.list_refunds(ctx, status="rejected")[0].id == rf.id
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == 0
    with pytest.raises(StateError):
        deposits.pay_refund(clerk, rf.id)
    dep = deposits.forfeit(clerk, dep_id, "违规装修拆改承重墙")
    assert (dep.deducted_fen, dep.balance_fen, dep.status) == (DEPOSIT_FEN, 0, "forfeited")
    assert deposits.list_deposits(ctx, status="forfeited")[0].id == dep_id
    with pytest.raises(StateError):
        deposits.deduct(clerk, dep_id, 1, "再扣")
    assert _balance(ctx, "6301.deposit") == DEPOSIT_FEN and _balance(ctx, "2241.ZXBZJ") == 0
    nobody = person(ctx, "qian", "cashier", perms=("property.view",))
    with pytest.raises(PermissionDenied):
        deposits.deduct(nobody, dep_id, 1, "x")
    _ledger_ok(ctx)


def test_status_rule():
    assert deposits.deposit_status(100, 0, 0) == "held"
    assert deposits.deposit_status(100, 0, 30) == "held"
    assert deposits.deposit_status(100, 40, 0) == "partly_refunded"
    assert deposits.deposit_status(100, 70, 30) == "refunded"
    assert deposits.deposit_status(100, 0, 100) == "forfeited"
    assert deposits.deposit_status(100, 40, 60, forfeited=True) == "forfeited"


def test_cli_list_refund_pay_and_deduct(ctx, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from console.cli import main

    _house, dep_id = _paid_deposit(ctx)
    monkeypatch.setattr("console.cli.Site.context", lambda self, **kw: ctx)
    monkeypatch.setattr("console.cli.Site.close", lambda self: None)
    run = CliRunner()
    home = ["--home", str(tmp_path / "site")]
    out = run.invoke(main, [*home, "property", "deposits", "list", "--house", "1-1-101", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["held_fen"] == DEPOSIT_FEN and data["deposits"][0]["id"] == str(dep_id)
    args = [
        *home,
        "property",
        "deposits",
        "refund",
        str(dep_id),
        "--amount",
        "1500.00",
        "--reason",
        "验收合格",
    ]
    out = run.invoke(main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    rf = json.loads(out.output)
    assert (rf["status"], rf["amount_fen"], rf["method"]) == ("pending", 150_000, "original")
    out = run.invoke(
        main, [*home, "property", "deposits", "refund", str(dep_id), "--amount", "600", "--reason", "多退"]
    )
    assert out.exit_code == 2 and "Traceback" not in out.output  # refused with a message: 500.00 is left
    wf.approve(_approver(ctx), rf["approval_id"])
    out = run.invoke(main, [*home, "property", "deposits", "pay-refund", rf["id"], "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["status"] == "refunded"
    out = run.invoke(
        main, [*home, "property", "deposits", "deduct", str(dep_id), "--amount", "100", "--reason", "门损"]
    )
    assert out.exit_code == 0, out.output
    out = run.invoke(main, [*home, "property", "deposits", "list", "--json"])
    assert json.loads(out.output)["held_fen"] == DEPOSIT_FEN - 150_000 - 10_000
    _ledger_ok(ctx)


def test_hub_refund_still_processing_is_finished_by_paying_again(ctx):
    """The channel answers "processing": the deposit refund waits (refunding, nothing posted) until the hub
    knows the outcome; paying again then posts it once."""
    from core.payments.channels.base import RefundResult
    from core.payments.channels.counter import CashChannel

    class Later(CashChannel):
        synchronous = False

        def refund(self, order_no, refund_no, amount_fen, total_fen):
            return RefundResult("PROCESSING")

        def query_refund(self, refund_no):
            return RefundResult("SUCCESS", "CH-R-1")

    class Channels:
        def get(self, code):
            return Later()

    _house, dep_id = _paid_deposit(ctx)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, DEPOSIT_FEN, "退房")
    wf.approve(_approver(ctx), rf.approval_id)
    waiting = deposits.pay_refund(ctx, rf.id, channels=Channels())
    assert (waiting.status, waiting.hub_refund_no is not None) == ("refunding", True)
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN  # nothing posted while the outcome is unknown
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == DEPOSIT_FEN
    assert deposits.pay_refund(ctx, rf.id, channels=Channels()).status == "refunding"
    payments.refresh_refund(ctx, waiting.hub_refund_no, channels=Channels())  # the hub's query job
    done = deposits.pay_refund(ctx, rf.id, channels=Channels())
    assert done.status == "refunded"
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.refunded_fen, dep.reserved_fen, dep.status) == (DEPOSIT_FEN, 0, "refunded")
    assert _balance(ctx, "2241.ZXBZJ") == 0 and _balance(ctx, "1001") == 0
    _ledger_ok(ctx)


def test_hub_refund_refused_by_the_channel_gives_the_amount_back(ctx):
    from core.payments.channels.base import RefundResult
    from core.payments.channels.counter import CashChannel

    class Refusing(CashChannel):
        def refund(self, order_no, refund_no, amount_fen, total_fen):
            return RefundResult("FAILED", message="account closed")

    class Channels:
        def get(self, code):
            return Refusing()

    _house, dep_id = _paid_deposit(ctx)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 80_000, "退房")
    wf.approve(_approver(ctx), rf.approval_id)
    assert deposits.pay_refund(ctx, rf.id, channels=Channels()).status == "failed"
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.reserved_fen, dep.refunded_fen, dep.balance_fen, dep.status) == (0, 0, DEPOSIT_FEN, "held")
    with pytest.raises(StateError):
        deposits.pay_refund(ctx, rf.id)
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN
    again = deposits.request_refund(clerk, dep_id, DEPOSIT_FEN, "改为现金退还", method="cash")
    assert again.status == "pending"
    _ledger_ok(ctx)


def test_voiding_the_receipt_of_a_deposit_refunded_reserved_or_deducted_is_refused(ctx):
    """A receipt that paid a deposit cannot be voided once part of the deposit is refunded, asked for or kept:
    that would give the money back twice and leave the deposit negative."""
    house, dep_id = _paid_deposit(ctx, via_hub=False)
    clerk = _clerk(ctx)
    (receipt_id,) = _receipt_ids(ctx, house.id)
    rf = deposits.request_refund(clerk, dep_id, 50_000, "部分退", method="cash")
    with pytest.raises(StateError):  # reserved by a refund still waiting for approval
        billing.void_receipt(ctx, receipt_id, "收错了")
    wf.approve(_approver(ctx), rf.approval_id)
    deposits.pay_refund(clerk, rf.id)
    with pytest.raises(StateError):  # refunded
        billing.void_receipt(ctx, receipt_id, "收错了")
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.paid_fen, dep.refunded_fen, dep.balance_fen) == (DEPOSIT_FEN, 50_000, DEPOSIT_FEN - 50_000)
    assert billing.get_receipt(ctx, receipt_id).status == "issued"
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN - 50_000
    _ledger_ok(ctx)


def test_voiding_the_receipt_of_a_deducted_deposit_is_refused_but_an_untouched_one_voids(ctx):
    house, dep_id = _paid_deposit(ctx, via_hub=False)
    (receipt_id,) = _receipt_ids(ctx, house.id)
    deposits.deduct(_clerk(ctx), dep_id, 1_000, "损坏公共设施")
    with pytest.raises(StateError):
        billing.void_receipt(ctx, receipt_id, "收错了")
    assert deposits.get_deposit(ctx, dep_id).balance_fen == DEPOSIT_FEN - 1_000
    house2, _bill2 = _second_paid_deposit(ctx)
    (receipt2,) = _receipt_ids(ctx, house2.id)
    assert billing.void_receipt(ctx, receipt2, "收错了").status == "voided"
    assert deposits.list_deposits(ctx, house_id=house2.id) == []
    _ledger_ok(ctx)


def _receipt_ids(ctx, house_id):
    from sqlalchemy import select

    from core.property.models import Receipt

    with ctx.read() as s:
        return list(s.execute(select(Receipt.id).where(Receipt.house_id == house_id)).scalars())


def _second_paid_deposit(ctx):
    from sqlalchemy import select

    from core.property.models import House

    with ctx.read() as s:
        house = s.execute(select(House).where(House.code != "1-1-101").order_by(House.code)).scalars().first()
    bill_id = billing.charge_once(ctx, house.id, "ZXBZJ")
    billing.pay_at_counter(ctx, house.id, DEPOSIT_FEN, "cash", reference="SLIP-2", bill_ids=[bill_id])
    return house, bill_id


def test_a_deposit_paid_in_parts_after_its_first_part_was_refunded_holds_the_rest_again(ctx):
    """500.00 of a 2,000.00 deposit paid and refunded (status refunded); the rest paid later is held again:
    listed, counted in deposits held, and refundable — never stuck behind the old status."""
    notify.register_handler(payhub.APP_ID, payhub.on_notice)
    c, houses = small_community(ctx, houses=1)
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=DEPOSIT_FEN)
    house = houses[0]
    bill_id = billing.charge_once(ctx, house.id, "ZXBZJ")
    billing.pay_at_counter(ctx, house.id, 50_000, "cash", reference="SLIP-A", bill_ids=[bill_id])
    (dep,) = deposits.list_deposits(ctx, house_id=house.id)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep.id, 50_000, "先退", method="cash")
    wf.approve(_approver(ctx), rf.approval_id)
    deposits.pay_refund(clerk, rf.id)
    assert deposits.get_deposit(ctx, dep.id).status == "refunded"
    billing.pay_at_counter(
        ctx, house.id, DEPOSIT_FEN - 50_000, "cash", reference="SLIP-B", bill_ids=[bill_id]
    )
    got = deposits.get_deposit(ctx, dep.id)
    assert (got.paid_fen, got.refunded_fen, got.balance_fen, got.status) == (
        DEPOSIT_FEN, 50_000, DEPOSIT_FEN - 50_000, "partly_refunded",
    )  # fmt: skip
    assert deposits.deposits_held(ctx).balance_fen == DEPOSIT_FEN - 50_000 == _balance(ctx, "2241.ZXBZJ")
    assert [d.id for d in deposits.list_deposits(ctx, status="partly_refunded")] == [dep.id]
    assert deposits.list_deposits(ctx, status="refunded") == []
    rf2 = deposits.request_refund(clerk, dep.id, DEPOSIT_FEN - 50_000, "退房", method="cash")
    wf.approve(_approver(ctx), rf2.approval_id)
    deposits.pay_refund(clerk, rf2.id)
    got = deposits.get_deposit(ctx, dep.id)
    assert (got.balance_fen, got.status) == (0, "refunded")
    assert deposits.deposits_held(ctx).balance_fen == 0 == _balance(ctx, "2241.ZXBZJ")
    _ledger_ok(ctx)


def test_a_forfeited_part_payment_does_not_swallow_money_paid_later(ctx):
    notify.register_handler(payhub.APP_ID, payhub.on_notice)
    c, houses = small_community(ctx, houses=1)
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=DEPOSIT_FEN)
    house = houses[0]
    bill_id = billing.charge_once(ctx, house.id, "ZXBZJ")
    billing.pay_at_counter(ctx, house.id, 50_000, "cash", reference="SLIP-A", bill_ids=[bill_id])
    (dep,) = deposits.list_deposits(ctx, house_id=house.id)
    clerk = _clerk(ctx)
    assert deposits.forfeit(clerk, dep.id, "违规").status == "forfeited"
    billing.pay_at_counter(
        ctx, house.id, DEPOSIT_FEN - 50_000, "cash", reference="SLIP-B", bill_ids=[bill_id]
    )
    got = deposits.get_deposit(ctx, dep.id)
    assert (got.balance_fen, got.status) == (DEPOSIT_FEN - 50_000, "held")
    assert deposits.deposits_held(ctx).balance_fen == DEPOSIT_FEN - 50_000 == _balance(ctx, "2241.ZXBZJ")
    got = deposits.deduct(clerk, dep.id, 10_000, "损坏")
    assert (got.balance_fen, got.status) == (DEPOSIT_FEN - 60_000, "held")
    _ledger_ok(ctx)


def test_an_approved_refund_the_hub_refuses_can_be_cancelled_with_a_reason(ctx):
    """The hub refuses the refund (the order was refunded in full meanwhile): retrying is refused again and
    changes nothing; the operator cancels it with a reason, the amount is held again, nothing was posted."""
    from sqlalchemy import select

    from core.audit.models import AuditRecord
    from core.sync.models import OutboxEvent

    _house, dep_id = _paid_deposit(ctx)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 80_000, "退房")
    wf.approve(_approver(ctx), rf.approval_id)
    payments.refund(ctx, payhub.APP_ID, "DEP-PAY-1", "R-ELSEWHERE", DEPOSIT_FEN, "误操作全额退款")
    liability = _balance(ctx, "2241.ZXBZJ")
    for _ in range(2):  # pay out, and retry: the hub refuses each time, the refund stays approved
        with pytest.raises(StateError):  # the order is REFUNDED: nothing left to refund
            deposits.pay_refund(clerk, rf.id)
        assert deposits.list_refunds(ctx, status="approved")[0].id == rf.id
        assert deposits.get_deposit(ctx, dep_id).reserved_fen == 80_000
    with pytest.raises(ValidationError):  # a reason is required
        deposits.cancel_refund(clerk, rf.id, "  ")
    with pytest.raises(NotFound):
        deposits.cancel_refund(clerk, "no-such-refund", "x")
    nobody = person(ctx, "qian", "cashier", perms=("property.view",))
    with pytest.raises(PermissionDenied):
        deposits.cancel_refund(nobody, rf.id, "x")
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == 80_000

    done = deposits.cancel_refund(clerk, rf.id, "原订单已全额退款，改走其他方式")
    assert done.status == "failed"
    dep = deposits.get_deposit(ctx, dep_id)
    assert (dep.reserved_fen, dep.refunded_fen, dep.balance_fen, dep.status) == (0, 0, DEPOSIT_FEN, "held")
    assert _balance(ctx, "2241.ZXBZJ") == liability == DEPOSIT_FEN  # nothing was posted for it
    with pytest.raises(StateError):  # cancelled once; neither paid out nor cancelled again
        deposits.pay_refund(clerk, rf.id)
    with pytest.raises(StateError):
        deposits.cancel_refund(clerk, rf.id, "again")
    with ctx.read() as s:
        audit = s.execute(
            select(AuditRecord).where(AuditRecord.action == "property.deposit_refund_cancelled")
        ).scalar_one()
        assert "原订单已全额退款" in (audit.after_json or "")
        assert s.execute(
            select(OutboxEvent.site_seq).where(OutboxEvent.type == "property.deposit_refund_cancelled")
        ).scalar_one()
    # The amount can be asked for again (in cash now).
    again = deposits.request_refund(clerk, dep_id, DEPOSIT_FEN, "改为现金退还", method="cash")
    assert again.status == "pending"
    _ledger_ok(ctx)


def test_a_pending_or_paid_refund_cannot_be_cancelled(ctx):
    _house, dep_id = _paid_deposit(ctx, via_hub=False)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 10_000, "部分退", method="cash")
    with pytest.raises(StateError):  # still waiting for approval: withdraw it in the approval instead
        deposits.cancel_refund(clerk, rf.id, "不退了")
    wf.approve(_approver(ctx), rf.approval_id)
    deposits.pay_refund(clerk, rf.id)
    with pytest.raises(StateError):
        deposits.cancel_refund(clerk, rf.id, "已经付了")
    assert deposits.get_deposit(ctx, dep_id).refunded_fen == 10_000
    _ledger_ok(ctx)


def test_a_cash_deposit_refund_lowers_the_clerks_expected_cash_and_needs_an_open_shift(ctx):
    """A shift takes a 300.00 cash payment and pays a 200.00 deposit back in cash: it expects float + 100.00
    and closes balanced on that count. Without an open shift the payout is refused and nothing changes."""
    _house, dep_id = _paid_deposit(ctx, via_hub=False)
    payments.ensure_payhub_books(ctx)
    payments.add_app(ctx, "物业", app_id=payhub.APP_ID)
    clerk = _clerk(ctx, shift=False)
    rf = deposits.request_refund(clerk, dep_id, 20_000, "退还部分押金", method="cash")
    wf.approve(_approver(ctx), rf.approval_id)
    with pytest.raises(StateError) as refused:  # no open shift: no cash leaves any drawer
        deposits.pay_refund(clerk, rf.id)
    assert refused.value.code == "no_open_shift"
    assert deposits.list_refunds(ctx, status="approved")[0].id == rf.id
    assert deposits.get_deposit(ctx, dep_id).refunded_fen == 0
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN

    shift = shifts.open_shift(clerk, 5_000)
    payments.counter_pay(clerk, payhub.APP_ID, "T-1", 30_000, "物业费", tendered_fen=30_000)
    assert deposits.pay_refund(clerk, rf.id).status == "refunded"
    assert deposits.pay_refund(clerk, rf.id).status == "refunded"  # a repeat pays nothing twice
    assert shifts.expected_cash(clerk, shift.id)["cash"] == 5_000 + 30_000 - 20_000
    # The counter's close dialog shows the same figure the close decides on.
    assert counter.expected_by_channel(clerk, shift)["cash"] == 15_000
    with pytest.raises(NotFound):
        shifts.expected_cash(clerk, rf.id)
    with pytest.raises(ValidationError):  # the count the old code expected (the payout ignored) is short
        shifts.close_shift(clerk, {"10000": 3, "5000": 1})
    closed = shifts.close_shift(clerk, {"10000": 1, "5000": 1})  # 5,000 + 30,000 − 20,000
    assert (closed.status, closed.expected["cash"], closed.difference_fen) == ("CLOSED", 15_000, 0)
    assert closed.shift_no == shift.shift_no
    totals = shifts.daily_close(ctx, shift.business_date)
    assert totals["channels"]["cash"]["paid_out_fen"] == 20_000
    assert _balance(ctx, "2241.ZXBZJ") == DEPOSIT_FEN - 20_000
    _ledger_ok(ctx)


def test_cli_cancel_refund(ctx, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    from console.cli import main

    _house, dep_id = _paid_deposit(ctx, via_hub=False)
    clerk = _clerk(ctx)
    rf = deposits.request_refund(clerk, dep_id, 30_000, "退房", method="cash")
    wf.approve(_approver(ctx), rf.approval_id)
    monkeypatch.setattr("console.cli.Site.context", lambda self, **kw: ctx)
    monkeypatch.setattr("console.cli.Site.close", lambda self: None)
    run = CliRunner()
    home = ["--home", str(tmp_path / "site")]
    out = run.invoke(main, [*home, "property", "deposits", "cancel-refund", str(rf.id), "--reason", " "])
    assert out.exit_code == 2 and "Traceback" not in out.output
    args = [*home, "property", "deposits", "cancel-refund", str(rf.id), "--reason", "业主改为抵扣物业费"]
    out = run.invoke(main, [*args, "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["status"] == "failed"
    assert deposits.get_deposit(ctx, dep_id).balance_fen == DEPOSIT_FEN
    assert deposits.get_deposit(ctx, dep_id).reserved_fen == 0
    _ledger_ok(ctx)
