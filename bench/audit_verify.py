"""Benchmark: `anju audit verify` over 1,000,000 audit records (target: under 10 s).

Builds a site with a million chained records (written through the same code path services use, in chunks),
then times the verification. Prints the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.audit.log import verify, write_records
from core.clock import SystemClock
from core.context import Actor
from core.db.engine import Database
from core.db.migrate import upgrade
from core.uow import PendingAudit

RECORDS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
CHUNK = 50_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(db.engine)
        actor = Actor.system("bench")
        clock = SystemClock()
        t0 = time.perf_counter()
        done = 0
        while done < RECORDS:
            n = min(CHUNK, RECORDS - done)
            pending = [
                PendingAudit(
                    "payments.order_paid",
                    "pay_order",
                    str(done + i),
                    '{"status":"PAYING"}',
                    f'{{"status":"SUCCESS","amount_fen":{(done + i) % 100000}}}',
                )
                for i in range(n)
            ]
            with db.writer() as session:
                write_records(session, actor, clock.now(), pending)
                session.commit()
            done += n
        build_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        with db.reader() as session:
            result = verify(session)
        verify_s = time.perf_counter() - t0
        assert result.ok and result.checked == RECORDS, result.problems[:3]
        print(
            f"audit records written:       {RECORDS:>10,}  in {build_s:6.2f} s  ({RECORDS / build_s:,.0f}/s)"
        )
        print(f"audit verify:                {RECORDS:>10,}  in {verify_s:6.2f} s  (target < 10 s)")
        db.dispose()


if __name__ == "__main__":
    main()
