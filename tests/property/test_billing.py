"""Bill runs, payments, receipts, prepaid accounts, discounts, late fees and arrears — worked examples with
known answers, on SQLite and PostgreSQL, ending with the ledger verifying."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.context import Actor
from core.errors import Conflict, PermissionDenied, StateError, ValidationError
from core.ledger import services as ledger
from core.ledger.verify import verify
from core.property import billing, rules
from core.property import services as ps
from core.property.models import Bill, BillLine
from core.sync.models import OutboxEvent
from core.workflow import services as wf
from tests.property.helpers import person, property_fee, small_community

WATER_TIERS = [
    {"up_to": "10", "price": "3.00"},
    {"up_to": "20", "price": "4.50"},
    {"up_to": None, "price": "6.00"},
]
POWER_TIERS = [
    {"up_to": "2160", "price": "0.4883"},
    {"up_to": "4200", "price": "0.5383"},
    {"up_to": None, "price": "0.7883"},
]


def _ledger_ok(ctx) -> None:
    with ctx.read() as s:
        result = verify(s)
    assert result.ok, result.to_dict()


def _balance(ctx, code: str) -> int:
    return ledger.get_balance(ctx, billing.BOOK, code).balance_fen


def _count(ctx, model) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_area_bill_run_worked_example_idempotent_and_dry_run(ctx):
    c, houses = small_community(ctx)
    property_fee(ctx, c.id)  # 89.50 m² × 2.50 = 223.75 元 per house
    dry = billing.bill_run(ctx, "2026-11", dry_run=True)
    assert dry == billing.BillRunResult("2026-11", 3, 3, 67125)
    assert _count(ctx, Bill) == 0  # a dry run writes nothing
    first = billing.bill_run(ctx, "2026-11")
    assert first == dry
    again = billing.bill_run(ctx, "2026-11")
    assert again == billing.BillRunResult("2026-11", 0, 0, 0)
    assert _count(ctx, Bill) == 3 and _count(ctx, BillLine) == 3
    assert _balance(ctx, "1122") == 67125 and _balance(ctx, "6001.WYF") == 67125
    bills = billing.house_bills(ctx, houses[0].id)
    assert [(b.amount_fen, b.status, b.due_date) for b in bills] == [(22375, "unpaid", date(2026, 12, 15))]
    bill_nos = {b.bill_no for h in houses for b in billing.house_bills(ctx, h.id)}
    assert bill_nos == {f"T01-ZD2026-{n:07d}" for n in (1, 2, 3)}
    with ctx.read() as s:
        types = [t for (t,) in s.execute(select(OutboxEvent.type))]
    assert types.count("property.bills_created") == 1 and types.count("property.bill_run") == 1
    _ledger_ok(ctx)


def test_proration_for_a_house_moving_in_mid_month(ctx):
    c, _ = small_community(ctx, houses=0)
    h = ps.add_house(
        ctx,
        c.id,
        ps.HouseInput("1", "1", "201", 8950, 7000, status="occupied", charge_start_on=date(2026, 11, 16)),
    )
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    (line,) = billing.outstanding(ctx, h.id)
    assert (line.period_start, line.amount_fen) == (date(2026, 11, 16), 11188)  # 15/30 × 223.75 = 111.875


def test_unsold_and_not_yet_chargeable_houses_are_not_billed(ctx):
    c, _ = small_community(ctx, houses=0)
    ps.add_house(
        ctx,
        c.id,
        ps.HouseInput("1", "1", "301", 8950, 7000, status="unsold", charge_start_on=date(2026, 1, 1)),
    )
    ps.add_house(ctx, c.id, ps.HouseInput("1", "1", "302", 8950, 7000, status="vacant"))
    ps.add_house(
        ctx,
        c.id,
        ps.HouseInput("1", "1", "303", 8950, 7000, status="vacant", charge_start_on=date(2027, 1, 1)),
    )
    property_fee(ctx, c.id)
    assert billing.bill_run(ctx, "2026-11").bills_created == 0


def test_quarterly_in_advance_and_rounding_to_jiao(ctx):
    c, houses = small_community(ctx, houses=1)
    billing.create_fee_item(
        ctx, c.id, "GTF", "公摊费", "inner_area", unit_price="0.333", cycle="quarterly", billing_mode="advance",
        rounding="half_up_jiao",
    )  # fmt: skip
    assert billing.bill_run(ctx, "2026-11").lines_created == 0  # not the first month of a quarter
    r = billing.bill_run(ctx, "2027-01")
    # 70.00 m² × 0.333 × 3 months = 69.93 元 → 69.90 (to the jiao); due 15 days after the quarter starts.
    (line,) = billing.outstanding(ctx, houses[0].id)
    assert (r.amount_fen, line.period_end, line.due_date) == (6990, date(2027, 3, 31), date(2027, 1, 16))


def test_meter_bills_tiered_water_and_yearly_electricity(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    billing.create_fee_item(ctx, c.id, "SF", "水费", "meter", meter_kind="water", tiers=WATER_TIERS)
    billing.create_fee_item(
        ctx, c.id, "DF", "电费", "meter", meter_kind="electricity", tiers=POWER_TIERS, tier_scope="year"
    )
    billing.record_reading(ctx, h.id, "water", "2026-11", "145", previous="120")  # 25 t
    billing.record_reading(ctx, h.id, "electricity", "2026-10", "2000", previous="0")
    billing.record_reading(ctx, h.id, "electricity", "2026-11", "2300")  # previous defaults to 2000
    r = billing.bill_run(ctx, "2026-11")
    lines = {ln.item_code: ln.amount_fen for ln in billing.outstanding(ctx, h.id)}
    # water 10×3 + 10×4.5 + 5×6 = 105.00; power 160×0.4883 + 140×0.5383 = 153.49 (the year's 2,000 kWh came first)
    assert lines == {"SF": 10500, "DF": 15349}
    assert r.amount_fen == 25849
    with pytest.raises(ValidationError):
        billing.record_reading(ctx, h.id, "water", "2026-12", "100")  # below the previous 145
    with pytest.raises(Conflict):
        billing.record_reading(ctx, h.id, "water", "2026-11", "150")


def test_payment_oldest_first_partial_overpayment_prepaid_and_receipt(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    owner = ps.create_owner(ctx, ps.OwnerInput("张三", id_number="11010519491231002X", phone="13812345678"))
    ps.add_occupant(ctx, h.id, owner.id, "owner")
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-10")
    billing.bill_run(ctx, "2026-11")
    partial = billing.pay_at_counter(ctx, h.id, 30000, "cash", reference="SLIP-1")  # 300.00 元
    assert [(ln.period, ln.amount_fen) for ln in partial.lines] == [("2026-10", 22375), ("2026-11", 7625)]
    assert (partial.total_upper, partial.payer, partial.receipt_no) == (
        "叁佰元整",
        "张三",
        "T01-SJ2026-000001",
    )
    statuses = [b.status for b in billing.house_bills(ctx, h.id)]
    assert statuses == ["paid", "partially_paid"]
    # The same slip again returns the same receipt; another amount under it is refused.
    assert billing.pay_at_counter(ctx, h.id, 30000, "cash", reference="SLIP-1").id == partial.id
    with pytest.raises(Conflict):
        billing.pay_at_counter(ctx, h.id, 100, "cash", reference="SLIP-1")
    over = billing.pay_at_counter(ctx, h.id, 50005, "wechat")  # 500.05: 147.50 settles, 352.55 prepaid
    assert over.total_upper == "伍佰元零伍分"
    assert [ln.item_name for ln in over.lines] == ["物业费", "预存款"]
    assert billing.prepaid_balance(ctx, h.id) == 35255
    # The next bill run settles December from the prepaid account automatically.
    billing.bill_run(ctx, "2026-12")
    assert billing.prepaid_balance(ctx, h.id) == 35255 - 22375
    assert all(b.status == "paid" for b in billing.house_bills(ctx, h.id))
    assert _balance(ctx, "2203") == 35255 - 22375
    assert _balance(ctx, "1122") == 0
    assert _balance(ctx, "1001") == 30000 and _balance(ctx, "1002.wechat") == 50005
    _ledger_ok(ctx)


def test_void_receipt_keeps_number_reverses_ledger_and_restores_bills(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    r = billing.pay_at_counter(ctx, h.id, 30000)
    assert billing.reprint_receipt(ctx, r.id).copy_mark == "补打"
    cashier = person(ctx, "li", "cashier", perms=("property.counter.pay", "property.view"))
    with pytest.raises(PermissionDenied):
        billing.void_receipt(cashier, r.id, "收错")
    voided = billing.void_receipt(ctx, r.id, "收错金额")
    assert (voided.receipt_no, voided.status, voided.copy_mark) == (r.receipt_no, "voided", "作废")
    assert [b.status for b in billing.house_bills(ctx, h.id)] == ["unpaid"]
    assert billing.prepaid_balance(ctx, h.id) == 0
    assert _balance(ctx, "1001") == 0 and _balance(ctx, "1122") == 22375
    with pytest.raises(StateError):
        billing.void_receipt(ctx, r.id, "again")
    assert (
        billing.pay_at_counter(ctx, h.id, 100).receipt_no == "T01-SJ2026-000002"
    )  # the number is never reused
    _ledger_ok(ctx)


def test_void_refused_when_prepaid_already_used_and_nothing_changes(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    r = billing.pay_at_counter(ctx, h.id, 30000)  # all prepaid: no bills yet
    billing.bill_run(ctx, "2026-11")  # uses 223.75 of it
    with pytest.raises(StateError):
        billing.void_receipt(ctx, r.id, "退款")
    assert billing.get_receipt(ctx, r.id).status == "issued"
    assert billing.prepaid_balance(ctx, h.id) == 30000 - 22375


def test_bad_payment_input_writes_nothing(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    for amount, channel in ((0, "cash"), (-5, "cash"), (100, "bitcoin")):
        with pytest.raises(ValidationError):
            billing.pay_at_counter(ctx, h.id, amount, channel)
    nobody = ctx.as_actor(Actor(None, "x", permissions=frozenset({"property.view"})))
    with pytest.raises(PermissionDenied):
        billing.pay_at_counter(nobody, h.id, 100)
    assert billing.house_bills(ctx, h.id)[0].status == "unpaid"
    assert billing.prepaid_balance(ctx, h.id) == 0


def _approver(ctx):
    return person(ctx, "wang", "approver", perms=("workflow.*", "property.view"))


def test_discount_needs_approval_then_applies_to_bill_runs(ctx):
    c, (h1, h2, _h3) = small_community(ctx)
    item = property_fee(ctx, c.id)
    clerk = person(ctx, "zhao", "property")
    d = billing.request_discount(
        clerk, item.id, "percentage", house_id=h1.id, rate_off="0.10", period_from="2026-11", period_to="2026-12", reason="老人优惠"
    )  # fmt: skip
    assert d.status == "pending"
    billing.bill_run(ctx, "2026-11")  # not approved yet: full price
    assert billing.outstanding(ctx, h1.id)[0].discount_fen == 0
    with pytest.raises(PermissionDenied):
        wf.approve(clerk, d.approval_id)  # maker-checker
    wf.approve(_approver(ctx), d.approval_id)
    billing.bill_run(ctx, "2026-12")
    dec = next(ln for ln in billing.outstanding(ctx, h1.id) if ln.period == "2026-12")
    assert (dec.gross_fen, dec.discount_fen, dec.amount_fen) == (22375, 2238, 20137)
    assert [ln.discount_fen for ln in billing.outstanding(ctx, h2.id)] == [0, 0]
    _ledger_ok(ctx)


def test_vacancy_rate_needs_a_vacant_house(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    with pytest.raises(StateError):
        billing.request_discount(
            ctx, item.id, "vacancy", house_id=h.id, rate_off="0.5", period_from="2026-11", reason="空置"
        )
    ps.change_house_status(ctx, h.id, "vacant", "业主外出")
    d = billing.request_discount(
        ctx, item.id, "vacancy", house_id=h.id, rate_off="0.5", period_from="2026-11", reason="空置"
    )
    wf.approve(_approver(ctx), d.approval_id)
    billing.bill_run(ctx, "2026-11")
    assert billing.outstanding(ctx, h.id)[0].amount_fen == 22375 - 11188


def test_late_fee_after_grace_and_waiver_with_approval(ctx, clock):
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id, late_daily_rate="0.0003", late_grace_days=10)
    billing.bill_run(ctx, "2026-11")  # due 2026-12-15
    (line,) = billing.outstanding(ctx, h.id)
    assert billing.late_fees(ctx, h.id, date(2026, 12, 25)) == {}
    assert billing.late_fees(ctx, h.id, date(2027, 1, 24)) == {line.id: 201}  # 22375 × 0.0003 × 30
    waiver = billing.request_late_fee_waiver(ctx, line.id, "疫情减免", as_of=date(2027, 1, 24))
    assert billing.late_fees(ctx, h.id, date(2027, 1, 24)) == {line.id: 201}  # pending: still owed
    with ctx.read() as s:
        from core.property.models import LateFeeWaiver

        approval = s.get(LateFeeWaiver, waiver).approval_id
    wf.approve(_approver(ctx), approval)
    assert billing.late_fees(ctx, h.id, date(2027, 1, 24)) == {}
    assert billing.late_fees(ctx, h.id, date(2027, 1, 25)) == {line.id: 208 - 201}  # it keeps running after


def test_late_fee_collected_with_payment(ctx, clock):
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id, late_daily_rate="0.0003", late_grace_days=10)
    billing.bill_run(ctx, "2026-11")
    clock.set(clock.now().replace(year=2027, month=1, day=24))
    r = billing.pay_at_counter(ctx, h.id, 22375 + 201, collect_late_fee=True)
    assert [(ln.item_name, ln.amount_fen) for ln in r.lines] == [("物业费", 22375), ("违约金", 201)]
    assert _balance(ctx, "6301.latefee") == 201
    _ledger_ok(ctx)


def test_arrears_ageing_by_house_building_community(ctx, clock):
    c, (h1, _h2, h3) = small_community(ctx)
    property_fee(ctx, c.id)
    for period in ("2026-05", "2026-09", "2026-11"):
        billing.bill_run(ctx, period)
    billing.pay_at_counter(ctx, h3.id, 3 * 22375)
    view = billing.arrears(ctx, community_id=c.id, as_of=date(2027, 1, 20))
    # due 2026-06-15 (219 days), 2026-10-15 (97 days), 2026-12-15 (36 days), for 2 houses
    assert view.buckets == {"0-30": 0, "31-90": 44750, "91-180": 44750, "181-365": 44750, ">365": 0}
    assert (view.houses, view.total_fen) == (2, 134250)
    assert billing.arrears(ctx, house_id=h1.id, as_of=date(2027, 1, 20)).total_fen == 67125
    assert billing.arrears(ctx, building_id=h1.building_id, as_of=date(2027, 1, 20)).total_fen == 134250
    stats = billing.collection_stats(ctx, "2026-01", "2026-12", by="fee_item")
    assert [
        (r.key, r.receivable_fen, r.received_fen, r.outstanding_fen, str(r.collection_rate)) for r in stats
    ] == [("WYF", 201375, 67125, 134250, "0.3333")]


def test_one_off_deposit_is_a_liability_not_income(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    billing.create_fee_item(ctx, c.id, "ZXBZJ", "装修保证金", "deposit", cycle="once", amount_fen=300000)
    billing.charge_once(ctx, h.id, "ZXBZJ")
    assert _balance(ctx, "2241.ZXBZJ") == 300000 and _balance(ctx, "1122") == 300000
    with pytest.raises(ValidationError):
        billing.create_fee_item(ctx, c.id, "YJ", "押金", "deposit", cycle="monthly", amount_fen=100)


def test_fee_item_validation(ctx):
    c, _ = small_community(ctx, houses=0)
    bad = [
        dict(code="X1", name="x", rule="building_area", unit_price="0"),
        dict(code="X2", name="x", rule="building_area", unit_price="-1"),
        dict(code="X3", name="x", rule="meter", meter_kind="steam"),
        dict(code="X4", name="x", rule="fixed", amount_fen=0),
        dict(code="X5", name="x", rule="fixed", amount_fen=100, late_daily_rate="0.5"),
        dict(code="X6", name="x", rule="nonsense"),
    ]
    for kw in bad:
        with pytest.raises(ValidationError):
            billing.create_fee_item(ctx, c.id, **kw)
    property_fee(ctx, c.id)
    with pytest.raises(Conflict):
        property_fee(ctx, c.id)
    assert [i.code for i in billing.fee_items(ctx, c.id)] == ["WYF"]


def test_bill_run_needs_permission_and_a_valid_period(ctx):
    c, _ = small_community(ctx)
    property_fee(ctx, c.id)
    cashier = person(ctx, "li", "cashier", perms=("property.counter.*", "property.view"))
    with pytest.raises(PermissionDenied):
        billing.bill_run(cashier, "2026-11")
    with pytest.raises(PermissionDenied):
        billing.bill_run(cashier, "2026-11", dry_run=True)
    with pytest.raises(ValidationError):
        billing.bill_run(ctx, "2026-13")
    assert _count(ctx, Bill) == 0


def test_failed_bill_run_leaves_nothing(ctx, monkeypatch):
    c, _ = small_community(ctx)
    property_fee(ctx, c.id)

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(billing.ledger, "post_many_in", boom)
    with pytest.raises(RuntimeError):
        billing.bill_run(ctx, "2026-11")
    assert _count(ctx, Bill) == 0 and _count(ctx, BillLine) == 0
    monkeypatch.undo()
    assert billing.bill_run(ctx, "2026-11").bills_created == 3
    _ledger_ok(ctx)


def test_payment_issues_few_statements(ctx):
    """A payment loads what it needs in a few queries: no per-line ORM round trips (the demo pays thousands)."""
    from sqlalchemy import event

    c, (h, *_) = small_community(ctx, houses=1)
    ps.add_occupant(ctx, h.id, ps.create_owner(ctx, ps.OwnerInput("张三")).id, "owner")
    property_fee(ctx, c.id)
    for period in ("2026-08", "2026-09", "2026-10", "2026-11"):
        billing.bill_run(ctx, period)
    billing.pay_at_counter(ctx, h.id, 100, reference="WARM")  # the chart and sequences exist from here on
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        r = billing.pay_at_counter(ctx, h.id, 4 * 22375 + 500, reference="MANY")
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    assert [ln.amount_fen for ln in r.lines] == [22375 - 100, 22375, 22375, 22375, 600]
    assert all(b.status == "paid" for b in billing.house_bills(ctx, h.id))
    assert billing.prepaid_balance(ctx, h.id) == 600
    assert len(statements) <= 30, statements  # 56 before: per-line updates, inserts and bill refreshes
    _ledger_ok(ctx)


def _line_of(ctx, house_id, period: str):
    with ctx.read() as s:
        return s.execute(
            select(BillLine).where(BillLine.house_id == house_id, BillLine.period == period)
        ).scalar_one()


def test_approved_discount_reduces_existing_unpaid_bills_not_paid_ones(ctx):
    from core.audit.log import verify as audit_verify

    c, (h1, h2, h3) = small_community(ctx)
    item = property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-10")
    billing.bill_run(ctx, "2026-11")
    billing.pay_at_counter(ctx, h1.id, 22375 + 10000)  # October paid, November 100.00 of 223.75 paid
    d = billing.request_discount(
        ctx, item.id, "percentage", rate_off="0.10", period_from="2026-10", period_to="2026-11", reason="疫情减免"
    )  # fmt: skip
    assert _balance(ctx, "1122") == 6 * 22375 - 32375  # nothing changes before the approval
    wf.approve(_approver(ctx), d.approval_id)
    # 10 % of 223.75 = 22.375 → 22.38 off each line still owed: h1 Nov, h2 Oct+Nov, h3 Oct+Nov (5 lines).
    assert _line_of(ctx, h1.id, "2026-10").discount_fen == 0  # paid: untouched
    nov = _line_of(ctx, h1.id, "2026-11")
    assert (nov.gross_fen, nov.discount_fen, nov.amount_fen, nov.paid_fen) == (22375, 2238, 20137, 10000)
    assert [(b.amount_fen, b.paid_fen, b.status) for b in billing.house_bills(ctx, h1.id)] == [
        (22375, 22375, "paid"),
        (20137, 10000, "partially_paid"),
    ]
    assert [b.amount_fen for b in billing.house_bills(ctx, h2.id)] == [20137, 20137]
    assert _balance(ctx, "1122") == 6 * 22375 - 32375 - 5 * 2238  # 90685
    assert _balance(ctx, "6001.WYF") == 6 * 22375 - 5 * 2238  # 123060
    assert sum(ln.outstanding_fen for h in (h1, h2, h3) for ln in billing.outstanding(ctx, h.id)) == 90685
    # The discount ended in November: December is billed in full; approving again is impossible.
    billing.bill_run(ctx, "2026-12")
    assert _line_of(ctx, h3.id, "2026-12").discount_fen == 0
    with ctx.read() as s:
        from core.audit.models import AuditRecord

        actions = [a for (a,) in s.execute(select(AuditRecord.action))]
        assert actions.count("property.discount_applied") == 1
        assert audit_verify(s).ok
    _ledger_ok(ctx)


def test_free_month_on_a_partly_paid_line_takes_off_only_what_is_owed(ctx):
    c, (h, *_) = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    billing.pay_at_counter(ctx, h.id, 20000)
    d = billing.request_discount(
        ctx, item.id, "free_months", house_id=h.id, period_from="2026-11", reason="物业补偿"
    )
    wf.approve(_approver(ctx), d.approval_id)
    line = _line_of(ctx, h.id, "2026-11")
    assert (line.discount_fen, line.amount_fen, line.paid_fen) == (2375, 20000, 20000)
    assert [b.status for b in billing.house_bills(ctx, h.id)] == ["paid"]
    assert _balance(ctx, "1122") == 0 and _balance(ctx, "6001.WYF") == 20000
    _ledger_ok(ctx)


def test_rejected_or_failed_discount_changes_no_bill(ctx, monkeypatch):
    c, (h, *_) = small_community(ctx, houses=1)
    item = property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    d1 = billing.request_discount(ctx, item.id, "reduction", house_id=h.id, reduction_fen=5000, period_from="2026-11", reason="x")  # fmt: skip
    wf.reject(_approver(ctx), d1.approval_id, "不符合条件")
    assert _line_of(ctx, h.id, "2026-11").amount_fen == 22375
    d2 = billing.request_discount(ctx, item.id, "reduction", house_id=h.id, reduction_fen=5000, period_from="2026-11", reason="y")  # fmt: skip

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(billing.ledger, "post_in", boom)
    with pytest.raises(RuntimeError):
        wf.approve(_approver(ctx), d2.approval_id)
    monkeypatch.undo()
    assert (
        _line_of(ctx, h.id, "2026-11").amount_fen == 22375
    )  # the approval and its effect rolled back together
    with ctx.uow("property.discount") as uow, pytest.raises(StateError):
        billing.apply_discount_to_bills_in(uow, d2.id)  # still pending
    wf.approve(_approver(ctx), d2.approval_id)
    assert _line_of(ctx, h.id, "2026-11").amount_fen == 22375 - 5000
    assert _balance(ctx, "1122") == 22375 - 5000
    _ledger_ok(ctx)


def test_late_fees_of_many_lines_need_one_waiver_query(ctx, clock):
    from sqlalchemy import event

    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id, late_daily_rate="0.0003", late_grace_days=10)
    for period in ("2026-08", "2026-09", "2026-10"):
        billing.bill_run(ctx, period)
    clock.set(clock.now().replace(year=2026, month=12, day=4))
    # due 09-15, 10-15, 11-15; grace to 09-25, 10-25, 11-25: 70, 40 and 9 days at 6.7125 fen a day
    assert sorted(billing.late_fees(ctx, h.id).values()) == [60, 269, 470]
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", count)
    try:
        r = billing.pay_at_counter(ctx, h.id, 3 * 22375 + 799, collect_late_fee=True)
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", count)
    assert r.lines[-1].amount_fen == 799 and billing.outstanding(ctx, h.id) == []
    assert sum("prop_late_fee_waivers" in st for st in statements) == 1
    _ledger_ok(ctx)


def test_one_run_mixes_cycles_uses_and_move_ins_and_reruns_only_bill_the_new(ctx):
    c, (h1,) = small_community(ctx, houses=1)
    shop = ps.add_house(
        ctx, c.id, ps.HouseInput("1", "1", "S1", 5000, 4000, use="商铺", status="occupied", charge_start_on=date(2026, 1, 1))
    )  # fmt: skip
    late = ps.add_house(
        ctx, c.id, ps.HouseInput("1", "1", "102", 8950, 7000, status="occupied", charge_start_on=date(2027, 1, 16))
    )  # fmt: skip
    property_fee(ctx, c.id)  # monthly, prorated by day
    billing.create_fee_item(
        ctx, c.id, "GTF", "公摊费", "inner_area", unit_price="0.333", cycle="quarterly", billing_mode="advance",
        rounding="half_up_jiao", prorate=False,
    )  # fmt: skip
    billing.create_fee_item(ctx, c.id, "SPF", "商铺管理费", "fixed", amount_fen=5000, applies_to_use="商铺")
    dry = billing.bill_run(ctx, "2027-01", dry_run=True)
    first = billing.bill_run(ctx, "2027-01")
    # WYF 223.75 | 125.00 | 16/31 × 223.75 = 115.48; GTF 70 m² × 0.333 × 3 = 69.93 → 69.90 | 40 m² → 40.00 |
    # not prorated: 69.90; SPF the shop only: 50.00.
    assert (
        first
        == dry
        == billing.BillRunResult("2027-01", 3, 7, 22375 + 12500 + 11548 + 6990 + 4000 + 6990 + 5000)
    )
    owed = {
        h.id: sorted((ln.item_code, ln.amount_fen, ln.period_start.isoformat()) for ln in billing.outstanding(ctx, h.id))
        for h in (h1, shop, late)
    }  # fmt: skip
    assert owed[shop.id] == [
        ("GTF", 4000, "2027-01-01"),
        ("SPF", 5000, "2027-01-01"),
        ("WYF", 12500, "2027-01-01"),
    ]
    assert owed[late.id] == [("GTF", 6990, "2027-01-01"), ("WYF", 11548, "2027-01-16")]
    assert billing.bill_run(ctx, "2027-01") == billing.BillRunResult("2027-01", 0, 0, 0)
    newcomer = ps.add_house(
        ctx, c.id, ps.HouseInput("1", "1", "103", 8950, 7000, status="occupied", charge_start_on=date(2026, 6, 1))
    )  # fmt: skip
    assert billing.bill_run(ctx, "2027-01") == billing.BillRunResult("2027-01", 1, 2, 22375 + 6990)
    assert len(billing.house_bills(ctx, newcomer.id)) == 1
    # February: WYF for the four houses (the late one in full now) and the shop's SPF; GTF is quarterly.
    assert billing.bill_run(ctx, "2027-02") == billing.BillRunResult(
        "2027-02", 4, 5, 3 * 22375 + 12500 + 5000
    )
    _ledger_ok(ctx)


def test_a_late_fee_is_collected_only_with_the_payment_that_clears_its_line(ctx, clock):
    """No day of late fee is charged twice: a payment that does not clear a line leaves that line's late fee to
    the payment that does (it keeps accruing on what is still owed), and lines it does not reach pay none."""
    c, (h, *_) = small_community(ctx, houses=1)
    property_fee(ctx, c.id, late_daily_rate="0.0003", late_grace_days=10)
    for period in ("2026-09", "2026-10"):
        billing.bill_run(ctx, period)
    clock.set(clock.now().replace(year=2026, month=12, day=4))
    fees = sorted(billing.late_fees(ctx, h.id).values())  # September's line and October's
    assert fees == [60, 269]  # due 10-15 and 11-15, grace 10 days
    # Enough for September's line and its fee and a part of October's: October's fee is not collected now.
    first = billing.pay_at_counter(ctx, h.id, 22375 + 269 + 10000, collect_late_fee=True)
    assert [(ln.item_name, ln.amount_fen) for ln in first.lines] == [
        ("物业费", 22375),
        ("物业费", 10000),
        ("违约金", 269),
    ]
    # Too little to clear even the oldest line: all of it goes to that line, no late fee at all.
    second = billing.pay_at_counter(ctx, h.id, 100, collect_late_fee=True)
    assert [(ln.item_name, ln.amount_fen) for ln in second.lines] == [("物业费", 100)]
    # October's line is cleared later: its late fee on what it still owed is collected once, with it.
    owed = billing.outstanding(ctx, h.id)[0].outstanding_fen
    late = billing.late_fees(ctx, h.id)
    assert owed == 22375 - 10000 - 100 and list(late.values()) == [rules.late_fee(
        owed, date(2026, 11, 15), date(2026, 12, 4), Decimal("0.0003"), 10)]  # fmt: skip
    last = billing.pay_at_counter(ctx, h.id, owed + sum(late.values()), collect_late_fee=True)
    assert last.lines[-1].amount_fen == sum(late.values()) and billing.outstanding(ctx, h.id) == []
    assert _balance(ctx, "6301.latefee") == 269 + sum(late.values())
    _ledger_ok(ctx)


def test_late_fees_collected_rule():
    assert rules.late_fees_collected(1000, []) == 0
    assert rules.late_fees_collected(1000, [(10, 990)]) == 10  # exactly clears the line and its fee
    assert rules.late_fees_collected(999, [(10, 990)]) == 0  # one fen short: the fee waits for the line
    assert rules.late_fees_collected(5000, [(10, 990), (20, 980), (30, 5000)]) == 30  # stops at the third
    assert rules.late_fees_collected(5000, [(0, 100), (50, 4850)]) == 50
