"""Benchmark of the back office's property lists (issue 6: first page of a 1,000,000-row list under 300 ms):
a community of 1,000,000 houses in 1,000 buildings, each with an owner, and the first page of the houses list
(in natural order and by other keys), the owners list and a filtered page, as core.listing reads them for the
back office. Prints the figures. Usage: `.venv/bin/python bench/property_lists.py [houses]`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANJU_ARGON2_TEST", "1")

HOUSES = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 1_000_000
PER_BUILDING = 1_000
CHUNK = 50_000
RUNS = 3


def build_site(root: Path):
    from core.bootstrap import create_site_identity
    from core.clock import SystemClock
    from core.context import Actor, Context
    from core.db.bulk import binder, insert_rows
    from core.db.engine import Database
    from core.db.migrate import upgrade
    from core.property.models import Building, Community, House, HouseOccupant, Owner
    from core.site import SiteHome

    home = SiteHome(root)
    home.ensure_dirs()
    db = Database(home.db_url)
    upgrade(db.engine)
    ctx = Context(db=db, actor=Actor.system(), clock=SystemClock(), home=home)
    create_site_identity(ctx, code="B01", name="基准站点")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with db.writer() as session:

        def put(model, rows: list[dict]) -> None:
            table = model.__table__
            cols = list(rows[0])
            bind = {c: binder(session, table.c[c]) for c in cols}
            insert_rows(session, table, cols, [tuple(bind[c](r[c]) for c in cols) for r in rows])

        cid = uuid.uuid4()
        put(Community, [{"id": cid, "code": "BIG", "name": "百万小区", "address": "", "area_dm2": 0,
                         "household_count": HOUSES, "property_company": "", "created_at": now}])  # fmt: skip
        buildings = [uuid.uuid4() for _ in range(max(1, HOUSES // PER_BUILDING))]
        put(Building, [{"id": b, "community_id": cid, "number": str(n + 1), "name": "", "floors": 30,
                        "created_at": now} for n, b in enumerate(buildings)])  # fmt: skip
        for begin in range(0, HOUSES, CHUNK):
            houses, owners, occupants = [], [], []
            for i in range(begin, min(HOUSES, begin + CHUNK)):
                b = i // PER_BUILDING
                hid, oid = uuid.uuid4(), uuid.uuid4()
                houses.append({"id": hid, "community_id": cid, "building_id": buildings[b % len(buildings)],
                               "number": str(i % PER_BUILDING + 1), "code": f"{b + 1}-{i % PER_BUILDING + 1}",
                               "floor": i % 30, "building_area_dm2": 8000 + i % 5000, "inner_area_dm2": 7000,
                               "layout": "", "use": "住宅", "status": "occupied", "created_at": now})  # fmt: skip
                owners.append({"id": oid, "kind": "individual", "name": f"业主{i:07d}", "created_at": now})
                occupants.append({"id": uuid.uuid4(), "house_id": hid, "owner_id": oid, "relation": "owner",
                                  "share_bp": 10000, "move_in_date": date(2026, 1, 1), "created_at": now})  # fmt: skip
            put(House, houses)
            put(Owner, owners)
            put(HouseOccupant, occupants)
        session.commit()
    print(f"houses built:                    {HOUSES:>10,}  in {time.perf_counter() - t0:6.1f} s")
    return ctx


def first_page_ms(ctx, code: str, **query) -> float:
    from core.listing import ListQuery, paged

    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        page = paged(ctx, code, ListQuery(limit=200, **query))
        times.append((time.perf_counter() - t0) * 1000)
        assert page.rows
    return statistics.median(times)


def main() -> None:
    import core.property.console_reads as reads

    with tempfile.TemporaryDirectory() as tmp:
        ctx = build_site(Path(tmp) / "site")
        cases = [
            ("houses by code (default)", reads.HOUSES, {}),
            ("houses by code, from the end", reads.HOUSES, {"descending": True}),
            ("houses by building, natural order", reads.HOUSES, {"sort": "building"}),
            ("houses by floor", reads.HOUSES, {"sort": "floor"}),
            ("houses of building 5", reads.HOUSES, {"filters": {"building": "5"}}),
            ("houses, code starts with 77-", reads.HOUSES, {"filters": {"code": "77-"}}),
            ("owners by name", reads.OWNERS, {}),
            ("buildings", reads.BUILDINGS, {}),
        ]
        for label, code, query in cases:
            ms = first_page_ms(ctx, code, **query)
            verdict = "ok" if ms < 300 else "SLOW"
            print(f"first page, {label:<34} {ms:8.1f} ms  (target < 300 ms: {verdict})")


if __name__ == "__main__":
    main()
