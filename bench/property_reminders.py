"""Benchmark: the daily arrears reminder run for a 10,000-house community (one owner with a phone per house,
every house overdue): the dry run, the run that queues an app push, an SMS and a printed notice per house, and
the repeated run on the same day that sends nothing.

Usage: .venv/bin/python bench/property_reminders.py [houses]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import property_billrun as base
from sqlalchemy import insert, select

from core.ids import new_ids
from core.property import billing, reminders
from core.property.models import House, HouseOccupant, Owner

HOUSES = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000


def add_owners(ctx, community_id) -> None:
    with ctx.uow() as uow:
        s = uow.session
        houses = s.execute(select(House.id).where(House.community_id == community_id)).scalars().all()
        ids = new_ids(len(houses))
        s.execute(insert(Owner), [
            {"id": oid, "kind": "individual", "name": f"业主{i}", "id_number_enc": None, "id_number_bidx": None,
             "phone_enc": ctx.pii.encrypt(f"138{i:08d}"), "phone_bidx": None, "uscc": None, "created_at": uow.now}
            for i, oid in enumerate(ids)
        ])  # fmt: skip
        s.execute(insert(HouseOccupant), [
            {"id": rid, "house_id": hid, "owner_id": oid, "relation": "owner", "share_bp": 10000,
             "move_in_date": date(2026, 1, 1), "move_out_date": None, "created_at": uow.now}
            for rid, hid, oid in zip(new_ids(len(houses)), houses, ids, strict=True)
        ])  # fmt: skip


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - t0:6.2f} s  {result.to_dict()}")
    return result


def main() -> None:
    base.HOUSES = HOUSES
    with tempfile.TemporaryDirectory() as tmp:
        ctx = base.build_site(Path(tmp))
        (c,) = base.build_houses(ctx)
        add_owners(ctx, c.id)
        billing.bill_run(ctx, "2026-11")
        due = billing.house_bills(ctx, _first_house(ctx, c.id))[0].due_date
        reminders.set_schedule(ctx, c.id, "after_due", 1, ["app_push", "sms", "printed"])
        reminders.set_schedule(ctx, c.id, "every", 7, ["app_push", "sms"])
        on = due + timedelta(days=1)
        print(f"{HOUSES:,} houses, all overdue since {due}")
        timed("dry run", lambda: reminders.run_reminders(ctx, on, dry_run=True))
        first = timed("run (queues and records)", lambda: reminders.run_reminders(ctx, on))
        again = timed("repeated run, same day", lambda: reminders.run_reminders(ctx, on))
        assert first.messages == 3 * HOUSES and again.messages == 0


def _first_house(ctx, community_id):
    with ctx.read() as s:
        return s.execute(select(House.id).where(House.community_id == community_id).limit(1)).scalar_one()


if __name__ == "__main__":
    main()
