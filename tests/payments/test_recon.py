"""Reconciliation on both databases: a full day with every kind of difference seeded, re-run idempotence,
the next-day pool, resolving differences, refused statements changing nothing, and the CLI's JSON shape."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from core.clock import BUSINESS_TZ
from core.context import Actor
from core.errors import NotFound, PermissionDenied, StateError, ValidationError
from core.ids import new_id
from core.payments.models import PayOrder, PayRefund
from core.payments.recon import services as recon
from core.payments.recon.models import ReconBatch, ReconDifference, ReconPending
from hub.sim.statements import SimRefund, SimTrade, alipay_statement, wechat_statement

DAY = date(2026, 11, 25)
NEXT = DAY + timedelta(days=1)


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=BUSINESS_TZ).astimezone(UTC)


def add_order(ctx, no, amount, fee, status="SUCCESS", paid=None, channel="wechat", day=None) -> None:
    paid = paid or at(DAY, 10)
    with ctx.uow() as uow:
        uow.session.execute(
            insert(PayOrder).values(
                id=new_id(), order_no=no, app_id="property", out_trade_no=f"OUT-{no}", amount_fen=amount,
                subject="物业费", payer="", method="qr", channel=channel, status=status,
                channel_trade_no=f"42{no}", fee_rate="0.006", fee_fen=fee,
                paid_at=paid if status in ("SUCCESS", "PARTIALLY_REFUNDED", "REFUNDED") else None,
                business_date=day or paid.astimezone(BUSINESS_TZ).date(), refunded_fen=0,
                expire_at=paid + timedelta(hours=2), metadata_={}, pay_info={}, request_hash="x" * 64,
                created_at=paid, updated_at=paid, version=1,
            )
        )  # fmt: skip


def add_refund(ctx, no, order_no, amount, fee_back, status="SUCCESS", when=None, channel="wechat") -> None:
    when = when or at(DAY, 15)
    with ctx.uow() as uow:
        order_id = uow.session.execute(select(PayOrder.id).where(PayOrder.order_no == order_no)).scalar_one()
        uow.session.execute(
            insert(PayRefund).values(
                id=new_id(), refund_no=no, order_id=order_id, order_no=order_no, app_id="property",
                out_refund_no=f"OUTR-{no}", channel=channel, amount_fen=amount, fee_refund_fen=fee_back,
                reason="退费", status=status, channel_refund_no=None,
                refunded_at=when if status == "SUCCESS" else None, business_date=when.astimezone(BUSINESS_TZ).date(),
                request_hash="y" * 64, created_at=when, version=1,
            )
        )  # fmt: skip


def ch_trade(no, amount, fee, when=None) -> SimTrade:
    return SimTrade(
        "1900000109", "wx1", no, f"42{no}", amount, fee, Decimal("0.006"), "SUCCESS", when or at(DAY, 10)
    )


def ch_refund(no, order_no, amount, fee_back, when=None) -> SimRefund:
    return SimRefund(no, f"50{no}", order_no, f"42{order_no}", amount, fee_back, when or at(DAY, 15))


def write(tmp_path: Path, day: date, trades, refunds, channel="wechat") -> Path:
    path = tmp_path / f"{channel}_{day}.csv"
    writer = wechat_statement if channel == "wechat" else alipay_statement
    path.write_bytes(writer(day, trades, refunds))
    return path


def seed_day(ctx) -> tuple[list[SimTrade], list[SimRefund]]:
    """Our side and the channel's side of DAY, with one of each kind of difference."""
    add_order(ctx, "T01PA", 10000, 60)  # matched
    add_order(ctx, "T01PB", 2000, 12)  # missing at channel
    add_order(ctx, "T01PD", 5000, 30)  # amount mismatch (channel 5001)
    add_order(ctx, "T01PE", 3000, 18, status="UNKNOWN")  # status mismatch (channel paid)
    add_order(ctx, "T01PF", 4000, 24)  # fee mismatch (channel 25)
    add_order(ctx, "T01PG", 1500, 9, paid=at(DAY, 23, 50))  # paid before midnight: waits in the pool
    add_order(ctx, "T01PH", 800, 5, paid=at(NEXT, 0, 0, 2))  # ours the next day, the channel's today
    add_order(ctx, "T01PX", 700, 4, status="CLOSED")  # never paid, not on the statement: fine
    add_order(ctx, "T01PZ", 900, 5, channel="alipay")  # another channel: not in this reconciliation
    add_refund(ctx, "T01RA", "T01PA", 1000, 6)  # matched
    add_refund(ctx, "T01RB", "T01PA", 500, 3, status="PROCESSING")  # status mismatch (channel refunded)
    trades = [
        ch_trade("T01PA", 10000, 60),
        ch_trade("T01PC", 6600, 40),  # missing locally
        ch_trade("T01PD", 5001, 30),
        ch_trade("T01PE", 3000, 18),
        ch_trade("T01PF", 4000, 25),
        ch_trade("T01PH", 800, 5, when=at(DAY, 23, 59, 59)),
    ]
    refunds = [ch_refund("T01RA", "T01PA", 1000, 6), ch_refund("T01RB", "T01PA", 500, 3)]
    return trades, refunds


EXPECTED = {
    "matched": 3,  # PA, PH, RA
    "missing_at_channel": 1,
    "missing_locally": 1,
    "amount_mismatch": 1,
    "status_mismatch": 2,  # PE, RB
    "fee_mismatch": 1,
}


def count(ctx, model, *where) -> int:
    with ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def test_full_day_classifies_every_kind_of_difference(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    result = recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    assert result.counts() == EXPECTED
    assert result.lines == 8 and result.pending == 1
    diffs = {(d.kind, d.doc_no) for d in recon.list_differences(ctx, channel="wechat", day=DAY)}
    assert diffs == {
        ("missing_at_channel", "T01PB"),
        ("missing_locally", "T01PC"),
        ("amount_mismatch", "T01PD"),
        ("status_mismatch", "T01PE"),
        ("status_mismatch", "T01RB"),
        ("fee_mismatch", "T01PF"),
    }
    d = next(x for x in recon.list_differences(ctx, kind="amount_mismatch"))
    assert (d.local_amount_fen, d.channel_amount_fen, d.channel_trade_no) == (5000, 5001, "42T01PD")
    with ctx.read() as s:
        pool = s.execute(select(ReconPending.side, ReconPending.doc_no)).all()
    assert sorted(pool) == [("ahead", "T01PH"), ("local", "T01PG")]
    (batch,) = recon.list_batches(ctx)
    assert (batch.matched, batch.open_differences, batch.pending, batch.runs) == (3, 6, 1, 1)


def test_rerun_gives_the_same_result_and_duplicates_nothing(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    path = write(tmp_path, DAY, trades, refunds)
    first = recon.run_recon(ctx, "wechat", DAY, path)
    rows = count(ctx, ReconDifference), count(ctx, ReconPending), count(ctx, ReconBatch)
    second = recon.run_recon(ctx, "wechat", DAY, path)
    assert second.counts() == first.counts() and second.pending == first.pending
    assert second.batch_id == first.batch_id
    assert (count(ctx, ReconDifference), count(ctx, ReconPending), count(ctx, ReconBatch)) == rows
    assert recon.list_batches(ctx)[0].runs == 2


def test_resolved_differences_survive_a_rerun_and_are_not_raised_again(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    path = write(tmp_path, DAY, trades, refunds)
    recon.run_recon(ctx, "wechat", DAY, path)
    item = next(d for d in recon.list_differences(ctx) if d.kind == "missing_locally")
    done = recon.resolve(ctx, item.id, "refund_payer", "无此订单，原路退回付款人")
    assert (done.status, done.decision, done.resolved_by) == ("resolved", "refund_payer", "system")
    again = recon.run_recon(ctx, "wechat", DAY, path)
    assert again.counts() == EXPECTED  # still counted as a difference of the day
    open_now = recon.list_differences(ctx, status="open")
    assert item.id not in {d.id for d in open_now} and len(open_now) == 5
    assert recon.get_difference(ctx, item.id).decision == "refund_payer"
    assert count(ctx, ReconDifference) == 6


def test_next_day_matches_the_pool_and_does_not_expect_what_was_matched_ahead(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    add_order(ctx, "T01PN", 1200, 7, paid=at(NEXT, 9))
    nxt = [ch_trade("T01PG", 1500, 9, when=at(NEXT, 0, 0, 30)), ch_trade("T01PN", 1200, 7, when=at(NEXT, 9))]
    result = recon.run_recon(ctx, "wechat", NEXT, write(tmp_path, NEXT, nxt, []))
    # PG (from the pool) and PN match; PH, ours of NEXT, was on DAY's statement and is not missing.
    assert result.counts() == {**dict.fromkeys(EXPECTED, 0), "matched": 2}
    with ctx.read() as s:
        g = s.execute(select(ReconPending).where(ReconPending.doc_no == "T01PG")).scalar_one()
    assert g.consumed_batch_id == result.batch_id
    # Re-running NEXT gives the same; re-running DAY keeps the consumed pool entry (no duplicate).
    assert recon.run_recon(ctx, "wechat", NEXT, write(tmp_path, NEXT, nxt, [])).counts() == result.counts()
    assert recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds)).counts() == EXPECTED
    assert count(ctx, ReconPending, ReconPending.doc_no == "T01PG") == 1


def test_a_pooled_order_the_next_statement_lacks_is_missing_at_channel_then(ctx, tmp_path):
    add_order(ctx, "T01PG", 1500, 9, paid=at(DAY, 23, 50))
    first = recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, [], []))
    assert first.pending == 1 and first.missing_at_channel == 0
    second = recon.run_recon(ctx, "wechat", NEXT, write(tmp_path, NEXT, [], []))
    assert second.missing_at_channel == 1 and second.pending == 0
    (d,) = recon.list_differences(ctx, day=NEXT)
    assert (d.doc_no, d.note) == ("T01PG", "pooled from an earlier day")


def test_alipay_day_reconciles_too(ctx, tmp_path):
    add_order(ctx, "T01PZ", 900, 5, channel="alipay")
    add_order(ctx, "T01PY", 100, 1, channel="alipay")
    path = write(tmp_path, DAY, [ch_trade("T01PZ", 900, 5), ch_trade("T01PQ", 50, 0)], [], channel="alipay")
    result = recon.run_recon(ctx, "alipay", DAY, path)
    assert (result.matched, result.missing_locally, result.missing_at_channel) == (1, 1, 1)


# ------------------------------------------------------------------------------------------- refusals


def test_a_statement_that_does_not_add_up_changes_nothing(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    path = write(tmp_path, DAY, trades, refunds)
    path.write_bytes(path.read_bytes().replace(b"`8,", b"`9,"))
    with pytest.raises(ValidationError, match="does not add up"):
        recon.run_recon(ctx, "wechat", DAY, path)
    assert count(ctx, ReconBatch) == count(ctx, ReconDifference) == count(ctx, ReconPending) == 0


def test_a_failed_rerun_leaves_the_previous_result_in_place(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    good = write(tmp_path, DAY, trades, refunds)
    recon.run_recon(ctx, "wechat", DAY, good)
    before = count(ctx, ReconDifference), count(ctx, ReconPending)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(good.read_bytes()[:-30])
    with pytest.raises(ValidationError):
        recon.run_recon(ctx, "wechat", DAY, bad)
    assert (count(ctx, ReconDifference), count(ctx, ReconPending)) == before
    assert recon.list_batches(ctx)[0].runs == 1


def test_the_statement_of_another_day_is_refused(ctx, tmp_path):
    path = write(tmp_path, NEXT, [ch_trade("T01PA", 100, 1, when=at(NEXT, 9))], [])
    with pytest.raises(ValidationError, match="right file"):
        recon.run_recon(ctx, "wechat", DAY, path)
    path = write(tmp_path, NEXT, [], [], channel="alipay")
    with pytest.raises(ValidationError, match="right file"):
        recon.run_recon(ctx, "alipay", DAY, path)
    assert count(ctx, ReconBatch) == 0


def test_bad_input_and_missing_permission_are_refused(ctx, tmp_path):
    path = write(tmp_path, DAY, [], [])
    with pytest.raises(ValidationError):
        recon.run_recon(ctx, "cash", DAY, path)
    with pytest.raises(ValidationError):
        recon.run_recon(ctx, "wechat", "2026-11-25", path)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        recon.run_recon(ctx, "wechat", DAY, tmp_path / "nope.csv")
    clerk = ctx.as_actor(Actor(None, "viewer", permissions=frozenset({"recon.view"})))
    with pytest.raises(PermissionDenied):
        recon.run_recon(clerk, "wechat", DAY, path)
    assert count(ctx, ReconBatch) == 0


def test_resolve_refusals(ctx, tmp_path):
    trades, refunds = seed_day(ctx)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, trades, refunds))
    fee = next(d for d in recon.list_differences(ctx) if d.kind == "fee_mismatch")
    with pytest.raises(ValidationError):
        recon.resolve(ctx, fee.id, "refund_payer", "不适用")  # not a choice for a fee difference
    with pytest.raises(ValidationError):
        recon.resolve(ctx, fee.id, "accept_channel", "   ")
    with pytest.raises(ValidationError):
        recon.resolve(ctx, fee.id, "ignore", "x")
    with pytest.raises(NotFound):
        recon.resolve(ctx, uuid.uuid4(), "accept_channel", "x")
    auditor = ctx.as_actor(Actor(None, "auditor", permissions=frozenset({"*.view"})))
    with pytest.raises(PermissionDenied):
        recon.resolve(auditor, fee.id, "accept_channel", "x")
    assert recon.get_difference(ctx, fee.id).status == "open"
    recon.resolve(ctx, fee.id, "accept_channel", "渠道费率调整，按渠道记账")
    with pytest.raises(StateError):
        recon.resolve(ctx, fee.id, "write_off", "again")
    assert recon.get_difference(ctx, fee.id).decision == "accept_channel"


def test_resolution_is_audited(ctx, tmp_path):
    from core.audit.models import AuditRecord

    add_order(ctx, "T01PB", 2000, 12)
    recon.run_recon(ctx, "wechat", DAY, write(tmp_path, DAY, [], []))
    (d,) = recon.list_differences(ctx)
    recon.resolve(ctx, d.id, "write_off", "渠道确认未收款，核销")
    with ctx.read() as s:
        actions = (
            s.execute(select(AuditRecord.action).where(AuditRecord.object_id == str(d.id))).scalars().all()
        )
    assert actions == ["recon.resolve"]
