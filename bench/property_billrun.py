"""Benchmark: a property bill run over 100,000 houses × 4 periodic fee items (target < 10 s), the repeated run
that creates nothing (target < 3 s), and arrears by ageing bucket for a 10,000-house community (target < 200 ms).

Houses are built with bulk inserts (10 communities of 10,000 houses), then `bill_run` is timed as a clerk
would run it. Each figure is wall time and, in brackets, this process's CPU time: on a shared, loaded machine
the CPU time is the one to compare between runs. Usage: .venv/bin/python bench/property_billrun.py [houses]
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import FakeClock
from core.context import Actor, Context
from core.db.bulk import binder, insert_rows
from core.db.engine import Database
from core.ids import new_ids
from core.property import billing
from core.property import services as ps
from core.property.models import House
from core.site import SiteHome

HOUSES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
PER_COMMUNITY = 10_000


def build_site(tmp: Path) -> Context:
    from core.bootstrap import create_site_identity
    from core.db.migrate import upgrade

    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db.engine)
    home = SiteHome(tmp / "home")
    home.ensure_dirs()
    ctx = Context(db=db, actor=Actor.system("bench"), clock=FakeClock(), home=home)
    create_site_identity(ctx, code="BENCH", name="bench")
    return ctx


def build_houses(ctx: Context) -> list:
    communities = []
    for n in range(max(1, HOUSES // PER_COMMUNITY)):
        c = ps.create_community(ctx, f"C{n:03d}", f"小区{n}")
        buildings = [ps.create_building(ctx, c.id, str(b), floors=25) for b in range(1, 21)]
        count = min(PER_COMMUNITY, HOUSES - n * PER_COMMUNITY)
        with ctx.uow() as uow:
            s = uow.session
            t = House.__table__
            bid, bdate, bnow = (
                binder(s, t.c.id),
                binder(s, t.c.charge_start_on),
                binder(s, t.c.created_at)(uow.now),
            )
            start = bdate(date(2026, 1, 1))
            rows = []
            for i, hid in enumerate(new_ids(count)):
                b = buildings[i % len(buildings)]
                number = f"{i // len(buildings) // 4 + 1:02d}{i // len(buildings) % 4 + 1:02d}"
                area = 6000 + (i * 37) % 9000
                rows.append((bid(hid), bid(c.id), bid(b.id), None, number, f"{b.number}-{number}", 1, area, area * 8 // 10,
                             "", "住宅", "occupied", start, bnow))  # fmt: skip
            insert_rows(s, t, ("id", "community_id", "building_id", "unit_id", "number", "code", "floor",
                               "building_area_dm2", "inner_area_dm2", "layout", "use", "status", "charge_start_on",
                               "created_at"), rows)  # fmt: skip
        billing.create_fee_item(ctx, c.id, "WYF", "物业费", "building_area", unit_price="2.50")
        billing.create_fee_item(ctx, c.id, "DTF", "电梯费", "building_area", unit_price="0.45")
        billing.create_fee_item(
            ctx, c.id, "GTF", "公摊费", "inner_area", unit_price="0.30", rounding="half_up_jiao"
        )
        billing.create_fee_item(ctx, c.id, "LJF", "垃圾费", "fixed", amount_fen=1000)
        communities.append(c)
    return communities


def _timed(fn, *args, **kwargs):
    """(result, wall seconds, CPU seconds) of one call."""
    w0, c0 = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ctx = build_site(Path(tmp))
        communities, wall, cpu = _timed(build_houses, ctx)
        print(f"built {HOUSES:,} houses in {len(communities)} communities: {wall:.1f} s (cpu {cpu:.1f} s)")

        first, wall, cpu = _timed(billing.bill_run, ctx, "2026-11")
        print(f"bill run:          {wall:6.2f} s (cpu {cpu:5.2f} s)  {first}  (target < 10 s)")

        again, wall, cpu = _timed(billing.bill_run, ctx, "2026-11")
        print(
            f"repeated bill run: {wall:6.2f} s (cpu {cpu:5.2f} s)  {again}  (target < 3 s, creates nothing)"
        )
        assert again.bills_created == 0 and again.lines_created == 0

        billing.bill_run(ctx, "2026-12", community_id=communities[0].id)
        ctx.clock.set(ctx.clock.now().replace(year=2027, month=6))
        timings = [_timed(billing.arrears, ctx, community_id=communities[0].id) for _ in range(5)]
        view = timings[0][0]
        print(f"arrears (10,000-house community, best of 5): {min(t[1] for t in timings) * 1000:6.1f} ms "
              f"(cpu {min(t[2] for t in timings) * 1000:5.1f} ms)  total {view.total_fen} fen {view.buckets}  "
              "(target < 200 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
