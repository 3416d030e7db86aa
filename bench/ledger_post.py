"""Benchmark: posting 100,000 two-posting entries in one `post_batch` (target: at least 50,000 entries/s on SQLite).

Includes validation, balances, the batch's audit record and its outbox events ("ledger.entries_posted", 500
entries each). In the same run, raw sqlite3 `executemany` floors (WAL, synchronous=FULL, one transaction, commit
included, as the app runs):

  A  the same 200,000 posting rows into a table built from our ledger_postings model (its key, index, CHECK,
     WITHOUT ROWID), foreign keys off;
  B  200,000 rows of 4 integers into a plain 4-column table (the "2 million rows/s" figure);
  C  our whole write as raw SQL: the 100,000 entry rows and 200,000 posting rows into our full schema with
     foreign keys on: what SQLite itself needs for this batch, before any Python work.

Machines running other jobs make single timings noisy, so it runs several rounds (each in a fresh database)
and prints the median of each figure and of each ratio; compare ratios within a round.

usage: .venv/bin/python bench/ledger_post.py [ENTRIES] [--rounds N]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine

from core.context import Actor, Context
from core.db.engine import Database
from core.ids import new_ids
from core.ledger import services as ledger
from core.site import SiteHome

DAY = date(2026, 11, 25)


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


def make_specs(count: int) -> list[ledger.EntrySpec]:
    return [
        ledger.EntrySpec(
            "BENCH",
            DAY,
            f"物业费 {i}",
            [("1002", 100 + i % 9_000), ("6001", -(100 + i % 9_000))],
            doc_type="bill",
            doc_id=f"B{i:08d}",
        )
        for i in range(count)
    ]


def connect(path: Path, *, foreign_keys: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    return conn


def timed_insert(conn: sqlite3.Connection, inserts: list[tuple[str, list[tuple]]]) -> float:
    t0 = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    for sql, rows in inserts:
        conn.executemany(sql, rows)
    conn.execute("COMMIT")
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds


def our_schema(path: Path) -> None:
    import core.models  # noqa: F401
    from core.db.base import Base

    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    engine.dispose()


def raw_floors(tmp: Path, count: int) -> dict[str, float]:
    """Seconds for plain sqlite3 to write the batch's rows (floors A, B, C of the module docstring)."""
    book, account_a, account_b = (i.hex for i in new_ids(3))
    entries = [i.hex for i in new_ids(count)]  # time-ordered like the ledger's ids, so keys append
    created = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    entry_rows = [
        (e, book, DAY.isoformat(), created, f"物业费 {i}", "bill", f"B{i:08d}", None, "bench")
        for i, e in enumerate(entries)
    ]
    posting_rows = []
    for i, e in enumerate(entries):
        posting_rows.append((e, 1, account_a, 100 + i % 9_000))
        posting_rows.append((e, 2, account_b, -(100 + i % 9_000)))
    insert_postings = (
        "INSERT INTO ledger_postings (entry_id, line_no, account_id, amount_fen) VALUES (?, ?, ?, ?)"
    )
    insert_entries = (
        "INSERT INTO ledger_entries (id, book_id, business_date, created_at, description, doc_type, doc_id,"
        " reverses_id, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    floors = {}

    our_schema(tmp / "raw_a.db")
    floors["A"] = timed_insert(
        connect(tmp / "raw_a.db", foreign_keys=False), [(insert_postings, posting_rows)]
    )

    conn = connect(tmp / "raw_b.db", foreign_keys=False)
    conn.execute("CREATE TABLE t (a INTEGER, b INTEGER, c INTEGER, d INTEGER)")
    int_rows = [(i, i % 2 + 1, i % 7, 100 + i % 9_000) for i in range(2 * count)]
    floors["B"] = timed_insert(conn, [("INSERT INTO t VALUES (?, ?, ?, ?)", int_rows)])

    our_schema(tmp / "raw_c.db")
    conn = connect(tmp / "raw_c.db", foreign_keys=True)
    conn.execute(
        "INSERT INTO ledger_books (id, code, name, fund_type, currency, created_at) VALUES (?, 'RAW', 'raw',"
        " 'property', 'CNY', ?)",
        (book, created),
    )
    for account, code in ((account_a, "1002"), (account_b, "6001")):
        conn.execute(
            "INSERT INTO ledger_accounts (id, book_id, code, name, type, debits_must_not_exceed_credits,"
            " credits_must_not_exceed_debits, debits_posted_fen, credits_posted_fen, debits_pending_fen,"
            " credits_pending_fen, closed, created_at) VALUES (?, ?, ?, 'raw', 'asset', 0, 0, 0, 0, 0, 0, 0, ?)",
            (account, book, code, created),
        )
    floors["C"] = timed_insert(conn, [(insert_entries, entry_rows), (insert_postings, posting_rows)])
    return floors


def one_round(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        ctx = build_site(tmp)
        ledger.create_book(ctx, "BENCH", "bench book", "property")
        ledger.open_account(ctx, "BENCH", "1002", "bank", "asset")
        ledger.open_account(ctx, "BENCH", "6001", "fee income", "income")
        specs = make_specs(count)
        t0 = time.perf_counter()
        ids = ledger.post_batch(ctx, specs)
        post_s = time.perf_counter() - t0
        assert len(ids) == count
        balance = ledger.get_balance(ctx, "BENCH", "1002")
        expected = sum(100 + i % 9_000 for i in range(count))
        assert balance.balance_fen == expected, (balance, expected)

        # The same batch again, timed by phase: the ledger's write path alone (validation, entries, postings,
        # balances), then the unit of work's commit (its audit record, outbox events, COMMIT).
        t0 = time.perf_counter()
        with ctx.uow("ledger.post") as uow:
            written = ledger._write_entries(uow, specs)
            t1 = time.perf_counter()
            uow.audit("ledger.post_batch", "journal_batch", written.ids[0], after={"sha256": written.digest})
            ledger._emit_entries(uow, written)
            t2 = time.perf_counter()
        t3 = time.perf_counter()
        ctx.db.dispose()
        figures = {"post": post_s, "write": t1 - t0, "events": t2 - t1, "commit": t3 - t2}
        figures.update(raw_floors(tmp, count))
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("entries", nargs="?", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.entries
    rounds = []
    for r in range(args.rounds):
        f = one_round(n)
        rounds.append(f)
        print(
            f"round {r + 1}: post_batch {f['post']:5.2f} s = {n / f['post']:>7,.0f} entries/s | raw A {f['A']:5.2f} s"
            f"  B {f['B']:5.2f} s  C {f['C']:5.2f} s | ledger/A {f['post'] / f['A']:4.1f}x"
            f"  ledger/B {f['post'] / f['B']:5.1f}x  ledger/C {f['post'] / f['C']:4.2f}x",
            flush=True,
        )

    def med(key: str) -> float:
        return statistics.median(f[key] for f in rounds)

    def med_ratio(key: str) -> float:
        return statistics.median(f["post"] / f[key] for f in rounds)

    rate = n / med("post")
    print(f"\nmedians of {len(rounds)} rounds, {n:,} two-posting entries ({2 * n:,} posting rows):")
    print(
        f"ledger post_batch:  {med('post'):6.2f} s = {rate:>9,.0f} entries/s  (target >= 50,000)"
        f" {'OK' if rate >= 50_000 else 'SLOW'}"
    )
    print(
        f"  by phase (a second batch): write path {med('write'):5.2f} s (validate, entries, postings, balances),"
        f" audit+events {med('events'):5.2f} s, commit {med('commit'):5.2f} s (audit chain, outbox rows, COMMIT)"
    )
    print(
        f"raw A  postings into our ledger_postings table: {med('A'):6.2f} s = {2 * n / med('A'):>10,.0f} rows/s"
        f"   ledger / A = {med_ratio('A'):5.1f}x"
    )
    print(
        f"raw B  4-integer rows into a plain table:       {med('B'):6.2f} s = {2 * n / med('B'):>10,.0f} rows/s"
        f"   ledger / B = {med_ratio('B'):5.1f}x"
    )
    print(
        f"raw C  entries + postings, our schema, FKs on:  {med('C'):6.2f} s = {n / med('C'):>10,.0f} entries/s"
        f"   ledger / C = {med_ratio('C'):5.2f}x  (C caps the ledger at {n / med('C'):,.0f} entries/s)"
    )


if __name__ == "__main__":
    main()
