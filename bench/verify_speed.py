"""Benchmark: `ledger verify` over 1,000,000 postings (500,000 entries) — target well under 10 s.

Builds the ledger through the ledger's own write path (balances kept; audit and outbox skipped, verify does not
read them) over 1,000 household accounts with some holds, then times the verification. Prints the figures.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ledger_post import build_site
from core.ledger import services as ledger
from core.ledger.verify import verify

ENTRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
CHUNK = 100_000
HOUSEHOLDS = 1_000
HOLDS = 2_000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        ctx = build_site(Path(tmp_name))
        ledger.create_book(ctx, "REPAIRFUND:C001", "维修资金 C001", "repairfund")
        ledger.open_account(
            ctx, "REPAIRFUND:C001", "1002", "专户存款", "asset", credits_must_not_exceed_debits=True
        )
        for h in range(HOUSEHOLDS):
            ledger.open_account(
                ctx,
                "REPAIRFUND:C001",
                f"2203.H{h:04d}",
                f"业主 {h}",
                "liability",
                debits_must_not_exceed_credits=True,
            )
        t0 = time.perf_counter()
        done = 0
        while done < ENTRIES:
            n = min(CHUNK, ENTRIES - done)
            specs = [
                ledger.EntrySpec(
                    "REPAIRFUND:C001",
                    date(2026, 1, 1) + timedelta(days=(done + i) % 300),
                    f"缴存 {done + i}",
                    [
                        ("1002", 100 + (done + i) % 5_000),
                        (f"2203.H{(done + i) % HOUSEHOLDS:04d}", -(100 + (done + i) % 5_000)),
                    ],
                )
                for i in range(n)
            ]
            with ctx.uow() as uow:
                ledger._write_entries(
                    uow, specs
                )  # the real write path, without audit/outbox (not verified here)
            done += n
        for i in range(HOLDS):
            hold = ledger.place_hold(ctx, "REPAIRFUND:C001", f"2203.H{i % HOUSEHOLDS:04d}", "1002", 50)
            if i % 2:
                ledger.post_hold(ctx, hold, 30)
        build_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        with ctx.read() as session:
            result = verify(session)
        verify_s = time.perf_counter() - t0
        assert result.ok, result.problems[:3]
        print(
            f"ledger built:   {result.checked:>10,} postings ({ENTRIES:,} entries, {HOLDS:,} holds) in {build_s:6.2f} s"
        )
        print(
            f"ledger verify:  {result.checked:>10,} postings in {verify_s:6.2f} s  (target < 10 s)"
            f" {'OK' if verify_s < 10 else 'SLOW'}"
        )
        ctx.db.dispose()


if __name__ == "__main__":
    main()
