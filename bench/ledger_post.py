"""Benchmark: posting 100,000 two-posting entries in one `post_batch` (target: at least 50,000 entries/s on SQLite).

Includes balances, the batch's one audit record and one outbox event per entry. Then times raw sqlite3
`executemany` of the same 200,000 posting rows (WAL, synchronous=FULL) and prints the ratio to that floor.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.context import Actor, Context
from core.db.engine import Database
from core.ids import new_id
from core.ledger import services as ledger
from core.site import SiteHome

ENTRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000


def build_site(tmp: Path) -> Context:
    import core.models  # noqa: F401
    from core.bootstrap import create_site_identity
    from core.db.base import Base

    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    Base.metadata.create_all(db.engine)  # the lead switches this to migrations
    home = SiteHome(tmp / "home")
    home.ensure_dirs()
    ctx = Context(db=db, actor=Actor.system("bench"), home=home)
    create_site_identity(ctx, code="BENCH", name="bench")
    return ctx


def raw_floor(tmp: Path, rows: list[tuple[str, int, str, int]]) -> float:
    """Seconds for plain sqlite3 to insert `rows` into a similar postings table and commit."""
    conn = sqlite3.connect(tmp / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE postings (entry_id CHAR(32) NOT NULL, line_no INTEGER NOT NULL, account_id CHAR(32) NOT NULL,"
        " amount_fen BIGINT NOT NULL, PRIMARY KEY (entry_id, line_no))"
    )
    conn.execute("CREATE INDEX ix_postings_account ON postings (account_id)")
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany("INSERT INTO postings VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ctx = build_site(tmp)
        ledger.create_book(ctx, "BENCH", "bench book", "property")
        ledger.open_account(ctx, "BENCH", "1002", "bank", "asset")
        ledger.open_account(ctx, "BENCH", "6001", "fee income", "income")
        day = date(2026, 11, 25)
        specs = [
            ledger.EntrySpec(
                "BENCH",
                day,
                f"物业费 {i}",
                [("1002", 100 + i % 9_000), ("6001", -(100 + i % 9_000))],
                doc_type="bill",
                doc_id=f"B{i:08d}",
            )
            for i in range(ENTRIES)
        ]
        t0 = time.perf_counter()
        ids = ledger.post_batch(ctx, specs)
        post_s = time.perf_counter() - t0
        assert len(ids) == ENTRIES
        balance = ledger.get_balance(ctx, "BENCH", "1002")
        expected = sum(100 + i % 9_000 for i in range(ENTRIES))
        assert balance.balance_fen == expected, (balance, expected)

        # The same batch through the ledger's write path alone (entries, postings, balances), without the
        # unit of work's audit record and outbox events, to show where the time goes.
        t0 = time.perf_counter()
        with ctx.uow() as uow:
            ledger._write_entries(uow, specs)
            write_s = time.perf_counter() - t0
        commit_only_s = time.perf_counter() - t0 - write_s

        account_a, account_b = new_id().hex, new_id().hex
        rows = []
        for i in range(ENTRIES):
            entry = new_id().hex  # time-ordered like the ledger's ids, so the primary key appends
            rows.append((entry, 1, account_a, 100 + i % 9_000))
            rows.append((entry, 2, account_b, -(100 + i % 9_000)))
        raw_s = raw_floor(tmp, rows)
        ctx.db.dispose()

        rate = ENTRIES / post_s
        print(
            f"ledger post_batch:   {ENTRIES:>9,} entries ({2 * ENTRIES:,} postings) in {post_s:6.2f} s"
            f"  = {rate:>9,.0f} entries/s  (target >= 50,000) {'OK' if rate >= 50_000 else 'SLOW'}"
        )
        print(
            f"  of which ledger write path {write_s:6.2f} s; its commit {commit_only_s:6.2f} s; the rest "
            f"({post_s - write_s - commit_only_s:5.2f} s) is audit + {ENTRIES:,} outbox events (core/uow, core/sync)"
        )
        print(
            f"raw sqlite3 floor:   {2 * ENTRIES:>9,} posting rows executemany in {raw_s:6.2f} s"
            f"  = {ENTRIES / raw_s:>9,.0f} entries/s"
        )
        print(
            f"ratio ledger / raw:  {post_s / raw_s:6.1f}x the raw insert time "
            "(ledger adds entries, balances, audit, one outbox event per entry)"
        )


if __name__ == "__main__":
    main()
