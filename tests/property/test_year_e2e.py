"""A property company's year, end to end: a small community of two buildings billed every month for 2026 with
the clock moving, payments at the counter and through the payment hub, a house in arrears paying late with its
late fees, a discount approved mid-year, a year paid in advance, a refund through approval, arrears reminders —
and at the end the ledger and the audit chain verify and every total agrees with figures worked out here."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from core.audit.log import verify as audit_verify
from core.ledger import services as ledger
from core.ledger.verify import verify as ledger_verify
from core.payments import notify, shifts
from core.payments import services as payments
from core.property import billing, counter, payhub, reminders
from core.property import services as ps
from core.property.models import Bill, BillLine
from core.workflow import services as wf
from tests.property.helpers import person

YEAR = 2026
WYF_PRICE_FEN_PER_M2 = 250  # 物业费 2.50 元/m²·月, billed in arrears, due 15 days after the month
LJF_FEN = 1000  # 垃圾费 10.00 元 a month
LATE_RATE_PER_DAY = (3, 10_000)  # 0.03 %/day after 10 days' grace
GRACE_DAYS = 10
DISCOUNT_RATE = (1, 10)  # 10 % off B's 物业费 for June to August
PREPAID_FEN = 320_000  # D pays 3,200.00 in advance in January
AREAS_DM2 = {"A": 8950, "B": 12000, "C": 7530, "D": 10000}


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def _wyf(house: str) -> int:
    return AREAS_DM2[house] * WYF_PRICE_FEN_PER_M2 // 100  # dm² × fen/m² ÷ 100: exact for these areas


def _due(month: int) -> date:
    first_of_next = date(YEAR + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1) + timedelta(days=15)


def _late_fee(owed_fen: int, month: int, on: date) -> int:
    days = max(0, (on - (_due(month) + timedelta(days=GRACE_DAYS))).days)
    return _half_up(owed_fen * LATE_RATE_PER_DAY[0] * days, LATE_RATE_PER_DAY[1])


def _at(clock, y: int, m: int, d: int) -> date:
    clock.set(datetime(y, m, d, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai, the same business date
    return date(y, m, d)


def _owed(ctx, house_id) -> int:
    return sum(ln.outstanding_fen for ln in billing.outstanding(ctx, house_id))


def _balance(ctx, code: str) -> int:
    return ledger.get_balance(ctx, billing.BOOK, code).balance_fen


def test_a_year_of_a_small_community(ctx, clock):
    # --- the community: two buildings, four houses, two fee items, the hub app and a cashier's shift
    notify.register_handler(payhub.APP_ID, payhub.on_notice)  # other tests stand in their own handler
    c = ps.create_community(ctx, "Y1", "四季花园", address="杭州市西湖区文三路1号")
    ps.create_building(ctx, c.id, "1", floors=6)
    ps.create_building(ctx, c.id, "2", floors=6)
    start = date(YEAR, 1, 1)
    houses = {
        name: ps.add_house(ctx, c.id, ps.HouseInput(b, "1", n, AREAS_DM2[name], AREAS_DM2[name] * 8 // 10,
                                                   status="occupied", charge_start_on=start))
        for name, b, n in (("A", "1", "101"), ("B", "1", "102"), ("C", "2", "101"), ("D", "2", "102"))
    }  # fmt: skip
    A, B, C, D = (houses[k].id for k in "ABCD")
    wyf = billing.create_fee_item(
        ctx, c.id, "WYF", "物业费", "building_area", unit_price="2.50", late_daily_rate="0.0003",
        late_grace_days=GRACE_DAYS,
    )  # fmt: skip
    billing.create_fee_item(ctx, c.id, "LJF", "垃圾费", "fixed", amount_fen=LJF_FEN)
    payments.ensure_payhub_books(ctx)
    payments.add_app(ctx, "物业", app_id=payhub.APP_ID)
    shifts.open_shift(ctx, 0)
    reminders.set_schedule(ctx, c.id, "after_due", 5, ["printed"])
    approver = person(ctx, "wang", "approver", perms=("workflow.*", "property.view"))
    monthly = {k: _wyf(k) + LJF_FEN for k in "ABCD"}
    assert monthly == {"A": 23375, "B": 31000, "C": 19825, "D": 26000}

    # --- D pays a year ahead before any bill: it all goes to the prepaid account
    _at(clock, YEAR, 1, 5)
    billing.pay_at_counter(ctx, D, PREPAID_FEN, "cash", reference="D-PREPAY")
    assert billing.prepaid_balance(ctx, D) == PREPAID_FEN

    b_paid = {}  # month → what B paid through the hub that day
    b_receipts = {}
    for month in range(1, 13):
        _at(clock, YEAR + month // 12, month % 12 + 1, 1)  # the run on the 1st of the next month
        period = f"{YEAR}-{month:02d}"
        result = billing.bill_run(ctx, period)
        assert (result.bills_created, result.lines_created) == (4, 8)
        assert billing.bill_run(ctx, period) == billing.BillRunResult(
            period, 0, 0, 0
        )  # a rerun creates nothing
        if month == 6:
            # Approved after June was billed: June's unpaid bill is reduced now, July and August at their runs.
            d = billing.request_discount(ctx, wyf.id, "percentage", house_id=B, rate_off="0.10",
                                         period_from="2026-06", period_to="2026-08", reason="业委会减免")  # fmt: skip
            wf.approve(approver, d.approval_id)
        # A pays at the counter, B through the hub, exactly what they owe; D's prepaid settled its bill.
        assert _owed(ctx, A) == monthly["A"]
        billing.pay_at_counter(ctx, A, monthly["A"], "cash", reference=f"A-{period}")
        owed_b = _owed(ctx, B)
        # No late fee on B: March was owed again only because of the office's own refund.
        req = counter.PaymentRequest(
            B, (), owed_b, "pos", key=f"B-{period}", reference=f"POS{month:02d}", collect_late_fee=False
        )
        r = counter.take_payment(ctx, req)
        assert _owed(ctx, B) == 0 and r.receipt.total_fen == owed_b
        b_paid[month], b_receipts[month] = owed_b, r.receipt.id
        assert _owed(ctx, D) == 0
        if month == 1:
            # Late fees start after the grace period: nothing on 25 Feb, the first day's on 26 Feb.
            (jan_wyf,) = [ln for ln in billing.outstanding(ctx, C) if ln.item_code == "WYF"]
            assert billing.late_fees(ctx, C, date(YEAR, 2, 25)) == {}
            assert billing.late_fees(ctx, C, date(YEAR, 2, 26)) == {
                jan_wyf.id: _late_fee(_wyf("C"), 1, date(YEAR, 2, 26))
            }
        if month == 3:
            # B's March payment was made twice over in the owner's view: refunded through an approval (maker-checker),
            # paid out at the counter; March is owed again and is paid with April.
            _at(clock, YEAR, 4, 10)
            req = counter.request_refund(ctx, b_receipts[3], b_paid[3], "业主重复缴费")
            wf.approve(approver, req.id)
            counter.pay_out_refund(ctx, req.id)
            assert _owed(ctx, B) == monthly["B"]
        if month == 9:
            # C, in arrears since January, pays everything on 20 October with the late fees.
            on = _at(clock, YEAR, 10, 20)
            late = sum(_late_fee(_wyf("C"), m, on) for m in range(1, 10))
            assert late == 5968
            assert _owed(ctx, C) == 9 * monthly["C"]
            r = billing.pay_at_counter(ctx, C, 9 * monthly["C"] + late, "wechat", collect_late_fee=True)
            assert r.lines[-1].item_name == "违约金" and r.lines[-1].amount_fen == late
            assert _owed(ctx, C) == 0
        if month == 10:
            # The reminder schedule fires 5 days after a due date for houses still owing: only C, once.
            on = _at(clock, YEAR, 11, 20)
            sent = reminders.run_reminders(ctx, on)
            assert (sent.houses, sent.by_channel["printed"]) == (1, 1)
            assert [(h.on_date, h.channel, h.owed_fen) for h in reminders.history(ctx, C)] == [
                (on, "printed", monthly["C"])  # October's bill, due 15 November
            ]
            assert reminders.run_reminders(ctx, on).messages == 0  # the same day again sends nothing

    # --- B: full price but June to August at 10 % off the 物业费, March paid twice and refunded once
    discount = _half_up(_wyf("B") * DISCOUNT_RATE[0], DISCOUNT_RATE[1])
    assert discount == 3000
    assert b_paid == {1: 31000, 2: 31000, 3: 31000, 4: 62000, 5: 31000, 6: 28000, 7: 28000, 8: 28000,
                      9: 31000, 10: 31000, 11: 31000, 12: 31000}  # fmt: skip

    # --- the year's figures, worked out from the fee standards alone
    billed = 12 * sum(monthly.values()) - 3 * discount
    received = 12 * monthly["A"] + (12 * monthly["B"] - 3 * discount) + 9 * monthly["C"] + 12 * monthly["D"]
    outstanding = 3 * monthly["C"]  # C's October to December
    prepaid = PREPAID_FEN - 12 * monthly["D"]
    late = 5968
    assert (billed, received, outstanding, prepaid) == (1_193_400, 1_133_925, 59_475, 8_000)
    assert billed == received + outstanding  # 应收 = 实收 + 欠费
    with ctx.read() as s:
        lines = s.execute(
            select(
                func.sum(BillLine.amount_fen), func.sum(BillLine.paid_fen), func.sum(BillLine.discount_fen)
            )
        ).one()
        assert tuple(int(v) for v in lines) == (billed, received, 3 * discount)
        assert s.execute(select(func.count()).select_from(Bill)).scalar_one() == 48
    stats = {r.key: r for r in billing.collection_stats(ctx, "2026-01", "2026-12", by="fee_item")}
    wyf_billed = 12 * sum(_wyf(k) for k in "ABCD") - 3 * discount
    assert (stats["WYF"].receivable_fen, stats["WYF"].outstanding_fen) == (wyf_billed, 3 * _wyf("C"))
    assert (stats["LJF"].receivable_fen, stats["LJF"].received_fen) == (48 * LJF_FEN, 45 * LJF_FEN)
    assert billing.prepaid_total(ctx, c.id) == prepaid
    year_end = _at(clock, YEAR + 1, 1, 20)
    view = billing.arrears(ctx, community_id=c.id, as_of=year_end)
    # C's October bill is 66 days overdue, November's 36, December's 5.
    assert (view.houses, view.total_fen) == (1, outstanding)
    assert view.buckets == {
        "0-30": monthly["C"],
        "31-90": 2 * monthly["C"],
        "91-180": 0,
        "181-365": 0,
        ">365": 0,
    }

    # --- the books: receivable, prepaid, income and the money by where it came in
    assert _balance(ctx, "1122") == outstanding
    assert _balance(ctx, "2203") == prepaid
    assert _balance(ctx, "6001.WYF") == wyf_billed and _balance(ctx, "6001.LJF") == 48 * LJF_FEN
    assert _balance(ctx, "6301.latefee") == late
    assert _balance(ctx, "1001") == 12 * monthly["A"] + PREPAID_FEN
    assert _balance(ctx, "1002.wechat") == 9 * monthly["C"] + late
    assert _balance(ctx, "1002.pos") == sum(b_paid.values()) - b_paid[3]
    with ctx.read() as s:
        checked = ledger_verify(s)
        assert checked.ok, checked.to_dict()
        chain = audit_verify(s)
        assert chain.ok, chain.to_dict()
