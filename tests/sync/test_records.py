"""The hub keeps typed records of what sites did (payments, refunds, receipts and voids, bill runs), applied from
the pushed events in the batch's transaction, and answers centre-level totals across sites from them."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from core.payments import services as pay
from core.payments import shifts
from core.property import billing
from core.sync.client import run_round
from core.sync.models import HubBillRun, HubPayment, HubReceipt, HubReceiptVoid, HubRefund
from hub.sync_apply import _find_site
from hub.sync_records import centre_collections, centre_receipts
from tests.payments.conftest import cashier_actor
from tests.property.helpers import property_fee, small_community
from tests.sync.conftest import assert_consistent, new_site


def _payments_at(site_ctx, amounts: list[int], refund_fen: int) -> None:
    pay.ensure_payhub_books(site_ctx)
    pay.add_app(site_ctx, "物业", app_id="property")
    cashier = site_ctx.as_actor(cashier_actor())
    shifts.open_shift(cashier, 20000)
    for i, amount in enumerate(amounts):
        pay.counter_pay(cashier, "property", f"T-{i}", amount, "物业费", tendered_fen=amount)
    shifts.open_shift(site_ctx, 0)  # a cash refund is paid out of the refunding person's own till
    pay.refund(site_ctx, "property", "T-0", "R-0", refund_fen, "多收")


def _count(hub, model, site_id) -> int:
    with hub.ctx.read() as s:
        return s.execute(select(func.count()).select_from(model).where(model.site_id == site_id)).scalar_one()


def test_payments_refunds_receipts_and_bill_runs_become_hub_records(hub, site, tmp_path, sqlite_template):
    _payments_at(site.ctx, [12345, 500, 2000], 345)
    c, (h, *_) = small_community(site.ctx, houses=2)
    property_fee(site.ctx, c.id)
    billing.bill_run(site.ctx, "2026-11")
    kept = billing.pay_at_counter(site.ctx, h.id, 30000, "cash", reference="SLIP-1")
    voided = billing.pay_at_counter(site.ctx, h.id, 100, "cash", reference="SLIP-2")
    billing.void_receipt(site.ctx, voided.id, "收错金额")

    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)
    with hub.ctx.read() as s:
        site_id = _find_site(s, site.name).site_id
        payments = s.scalars(select(HubPayment).where(HubPayment.site_id == site_id)).all()
        refunds = s.scalars(select(HubRefund).where(HubRefund.site_id == site_id)).all()
        receipts = {
            r.receipt_no: r for r in s.scalars(select(HubReceipt).where(HubReceipt.site_id == site_id))
        }
        voids = s.scalars(select(HubReceiptVoid).where(HubReceiptVoid.site_id == site_id)).all()
        runs = s.scalars(select(HubBillRun).where(HubBillRun.site_id == site_id)).all()
    assert sorted(p.amount_fen for p in payments) == [500, 2000, 12345]
    assert {p.channel for p in payments} == {"cash"} and all(p.app_id == "property" for p in payments)
    assert [(r.amount_fen, r.app_id) for r in refunds] == [(345, "property")]
    assert {p.order_no for p in payments} >= {refunds[0].order_no}
    assert receipts[kept.receipt_no].amount_fen == 30000
    assert [(v.receipt_no, v.reason) for v in voids] == [(voided.receipt_no, "收错金额")]
    assert [(r.period, r.bills_created, r.amount_fen) for r in runs] == [("2026-11", 2, 2 * 22375)]

    # A second round brings nothing new and doubles nothing.
    assert run_round(site.ctx, backup=False).pushed == 0
    assert _count(hub, HubPayment, site_id) == 3 and _count(hub, HubReceipt, site_id) == 2

    # Centre-level totals cover every site: a second site's payments add up next to the first's.
    other = new_site(hub, tmp_path, sqlite_template)
    try:
        _payments_at(other.ctx, [700], 100)
        run_round(other.ctx, backup=False)
        day = payments[0].business_date
        rows = centre_collections(hub.ctx, date(day.year, 1, 1), date(day.year, 12, 31))
        mine = [r for r in rows if r.site == site.name]
        theirs = [r for r in rows if r.site == other.name]
        assert sum(r.amount_fen for r in mine) == 14845 and sum(r.refunded_fen for r in mine) == 345
        assert [(r.payments, r.amount_fen, r.refunded_fen, r.net_fen) for r in theirs] == [(1, 700, 100, 600)]
        # The same from the command line, as JSON for other programs.
        from tests.test_cli import anju

        out = anju(
            hub.home, "hub", "collections", "--from", f"{day.year}-01-01", "--to", f"{day.year}-12-31",
            "--db", hub.db_url, "--json",
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        cli_rows = json.loads(out.stdout)
        assert {(r["site"], r["amount_fen"], r["net_fen"]) for r in cli_rows if r["site"] == other.name} == {
            (other.name, 700, 600)
        }
        bad = anju(
            hub.home, "hub", "collections", "--from", "2026-13-01", "--to", "2026-12-31", "--db", hub.db_url
        )
        assert bad.returncode != 0 and "Traceback" not in bad.stderr
        by_site = {r.site: r for r in centre_receipts(hub.ctx)}
        assert (by_site[site.name].receipts, by_site[site.name].voided, by_site[site.name].voided_fen) == (
            2,
            1,
            100,
        )
    finally:
        other.ctx.db.dispose()


def test_a_malformed_business_event_refuses_the_whole_batch(hub, site):
    """A payment event missing its amount is refused with the batch: no event and no record is held."""
    from core.sync.models import HubSiteEvent, OutboxEvent
    from core.sync.protocol import SyncRefused

    _payments_at(site.ctx, [1000], 1)
    with site.ctx.uow() as uow:
        uow.emit("payments.order_paid", {"order_no": "X1", "app_id": "property", "channel": "cash"})
    with pytest.raises(SyncRefused) as refused:
        run_round(site.ctx, backup=False)
    assert refused.value.code == "malformed"
    with hub.ctx.read() as s:
        site_id = _find_site(s, site.name).site_id
        held = s.execute(
            select(func.count()).select_from(HubSiteEvent).where(HubSiteEvent.site_id == site_id)
        ).scalar_one()
    with site.ctx.read() as s:
        bad_seq = s.execute(select(func.max(OutboxEvent.site_seq))).scalar_one()
        payload = json.loads(s.get(OutboxEvent, bad_seq).payload)
    assert payload["order_no"] == "X1"
    # Every pending event travelled in one batch with the bad one; none of them, and no record, is held.
    assert bad_seq < 5000 and held == 0
    assert _count(hub, HubPayment, site_id) == 0 and _count(hub, HubRefund, site_id) == 0
