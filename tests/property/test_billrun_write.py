"""The bulk write of a bill run: lines of several items and a meter grouped into one bill per house with the
earliest due date, bill numbers in house order, the bills' outbox events as canonical JSON, and the bills' status
CHECK (written as ORed equalities for speed) still refusing an unknown status — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.jsonutil import canonical_json
from core.property import billing
from core.property.models import Bill
from core.sync.models import OutboxEvent
from tests.property.helpers import property_fee, small_community


def test_lines_of_items_and_meters_make_one_bill_per_house_with_the_earliest_due_date(ctx):
    c, houses = small_community(ctx, houses=3)
    property_fee(ctx, c.id, due_days=20)  # monthly in arrears: due 2026-11-30 + 20 = 2026-12-20
    billing.create_fee_item(
        ctx, c.id, "GTF", "公摊费", "inner_area", unit_price="0.30", cycle="quarterly", billing_mode="advance",
        due_days=10,
    )  # fmt: skip  # the quarter Oct–Dec in advance: due 2026-10-01 + 10 = 2026-10-11
    billing.create_fee_item(
        ctx, c.id, "SF", "水费", "meter", meter_kind="water", unit_price="3.00", due_days=5
    )
    billing.record_reading(
        ctx, houses[2].id, "water", "2026-10", "110", previous="100"
    )  # 10 t × 3.00 = 30.00
    result = billing.bill_run(ctx, "2026-10")
    # WYF 89.50 m² × 2.50 = 223.75; GTF 70 m² × 0.30 × 3 = 63.00; water 30.00 for the third house only.
    assert result == billing.BillRunResult("2026-10", 3, 7, 3 * 22375 + 3 * 6300 + 3000)
    bills = [billing.house_bills(ctx, h.id) for h in houses]
    assert [len(b) for b in bills] == [1, 1, 1]
    got = [(b[0].amount_fen, b[0].due_date) for b in bills]
    assert got == [(28675, date(2026, 10, 11)), (28675, date(2026, 10, 11)), (31675, date(2026, 10, 11))]
    assert [b[0].bill_no for b in bills] == [f"T01-ZD2026-{n:07d}" for n in (1, 2, 3)]
    for b in bills:
        lines = billing.bill_lines(ctx, b[0].id)
        assert sum(ln.amount_fen for ln in lines) == b[0].amount_fen
    with ctx.read() as s:
        payloads = (
            s.execute(select(OutboxEvent.payload).where(OutboxEvent.type == "property.bills_created"))
            .scalars()
            .all()
        )
    assert len(payloads) == 1
    event = json.loads(payloads[0])
    assert payloads[0] == canonical_json(event)  # the text built by hand is exactly the canonical encoding
    assert event["bills"] == [
        {"amount_fen": b[0].amount_fen, "bill_no": b[0].bill_no, "due_date": "2026-10-11",
         "house_id": str(h.id), "period": "2026-10"}
        for b, h in zip(bills, houses, strict=True)
    ]  # fmt: skip


def test_bills_status_check_still_refuses_an_unknown_status(ctx):
    c, houses = small_community(ctx, houses=1)
    property_fee(ctx, c.id)
    billing.bill_run(ctx, "2026-11")
    with pytest.raises(IntegrityError), ctx.uow() as uow:
        uow.session.execute(update(Bill).values(status="overdue"))
    for status in ("partially_paid", "paid", "waived", "unpaid"):
        with ctx.uow() as uow:
            uow.session.execute(update(Bill).values(status=status))
    assert [b.status for b in billing.house_bills(ctx, houses[0].id)] == ["unpaid"]


def test_bulk_hex_ids_are_ascending_uuid7():
    from uuid import UUID

    from core.ids import new_id, new_id_hexes

    before = new_id()
    ids = new_id_hexes(5000)
    assert len(set(ids)) == 5000 and ids == sorted(ids) and ids[0] > before.hex
    parsed = [UUID(hex=h) for h in ids]
    assert all(
        u.version == 7 and u.variant == "specified in RFC 4122" and u.hex == h
        for u, h in zip(parsed, ids, strict=True)
    )
    assert new_id().hex > ids[-1] and new_id_hexes(0) == []
