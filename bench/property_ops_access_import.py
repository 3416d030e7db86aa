"""Benchmark: import 100,000 access records from a device CSV, re-import it (all duplicates), and search one
person's day. Prints the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.clock import FakeClock
from core.context import Actor, Context
from core.db.engine import Database
from core.db.migrate import upgrade
from core.property.access import services as acc
from core.site import SiteHome

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def main() -> None:
    from core.bootstrap import create_site_identity
    from tests.property.ops_support import make_base

    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        home = SiteHome(Path(tmp) / "home")
        home.ensure_dirs()
        clock = FakeClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
        ctx = Context(db=db, actor=Actor.system(), clock=clock, home=home)
        create_site_identity(ctx, code="B01", name="bench")
        base = make_base(ctx)
        for n in range(20):
            acc.add_device(ctx, base.community_id, f"D{n}", f"门{n}", "door")
        t0 = datetime(2026, 11, 1)
        lines = ["time,device,person,direction,method,card"]
        for i in range(ROWS):
            at = t0 + timedelta(seconds=i * 20)
            lines.append(f"{at:%Y-%m-%d %H:%M:%S},D{i % 20},住户{i % 3000},{'in' if i % 2 else 'out'},card,")
        data = "\n".join(lines).encode()
        start = time.perf_counter()
        first = acc.import_records(ctx, base.community_id, data)
        t_import = time.perf_counter() - start
        start = time.perf_counter()
        again = acc.import_records(ctx, base.community_id, data)
        t_again = time.perf_counter() - start
        start = time.perf_counter()
        day0 = datetime(2026, 11, 10, tzinfo=UTC)
        found = acc.search_records(
            ctx, base.community_id, start=day0, end=day0 + timedelta(days=1), person="住户42"
        )
        t_search = time.perf_counter() - start
        print(f"import {first.imported:,} rows: {t_import:.2f} s")
        print(f"re-import ({again.duplicates:,} duplicates, {again.imported} new): {t_again:.2f} s")
        print(f"search one person's day ({len(found)} records): {t_search * 1000:.1f} ms")
        db.dispose()


if __name__ == "__main__":
    main()
