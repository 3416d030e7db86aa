"""Benchmark: push 100,000 outbox events from a SQLite site to the hub on PostgreSQL over loopback HTTP
(target < 15 s), then a round with nothing new (target < 1 s). Prints the figures.

Run: .venv/bin/python bench/sync_push.py [--events N]   (needs PostgreSQL server binaries, like the tests)
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from core.clock import SystemClock  # noqa: E402
from core.context import Actor, Context  # noqa: E402
from core.db.engine import Database  # noqa: E402
from core.db.migrate import upgrade  # noqa: E402
from core.ledger import services as ledger  # noqa: E402
from core.site import SiteHome  # noqa: E402
from core.sync.client import enroll, run_round  # noqa: E402
from hub.sync_api import hub_context  # noqa: E402
from hub.sync_apply import enroll_site  # noqa: E402
from tests.pg import PgCluster, find_bin_dir  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_site(home: Path, events: int) -> Context:
    """A site whose outbox holds `events` events: one journal entry each (the heaviest realistic kind)."""
    from core.bootstrap import create_site_identity

    site_home = SiteHome(home)
    site_home.ensure_dirs()
    db = Database(site_home.db_url)
    upgrade(db.engine)
    ctx = Context(db=db, actor=Actor.system(), clock=SystemClock(), home=site_home)
    create_site_identity(ctx, code="B01", name="bench")
    ledger.ensure_book(ctx, "PROP:C001", "物业费", "property")
    ledger.ensure_account(ctx, "PROP:C001", "1002", "银行存款", "asset")
    ledger.ensure_account(ctx, "PROP:C001", "6001", "物业费收入", "income")
    made = 3
    spec = ledger.EntrySpec("PROP:C001", date(2026, 11, 20), "物业费", [("1002", 100), ("6001", -100)])
    chunk = 5000
    while made < events:
        n = min(chunk, events - made)
        with ctx.uow("ledger.post") as uow:
            # one event per entry: post_many_in would pack 500 entries into one event
            written = ledger._write_entries(uow, [spec] * n)
            uow.emit_many("ledger.entries_posted", [{"entries": [pl]} for pl in written.payloads])
        made += n
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    bin_dir = find_bin_dir()
    if bin_dir is None:
        sys.exit("PostgreSQL server binaries not found")
    tmp = Path(tempfile.mkdtemp(prefix="anju-bench-sync-"))
    cluster = PgCluster(bin_dir)
    cluster.start()
    proc = None
    try:
        admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE hub"))
        admin.dispose()
        hub_url_db = cluster.url("hub")
        hub_ctx = hub_context(hub_url_db, tmp / "hub")
        upgrade(hub_ctx.db.engine)
        t0 = time.perf_counter()
        site = make_site(tmp / "site", args.events)
        print(f"site prepared: {args.events} events in {time.perf_counter() - t0:.1f} s")
        port = _free_port()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub.sync_api",
                "--db",
                hub_url_db,
                "--home",
                str(tmp / "hub"),
                "--port",
                str(port),
            ],
            cwd=ROOT,
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        enrolment = enroll_site(hub_ctx, "bench")
        enroll(site, f"http://127.0.0.1:{port}", str(enrolment.site_id), enrolment.key)

        t0 = time.perf_counter()
        result = run_round(site, backup=False)
        push_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        empty = run_round(site, backup=False)
        empty_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        run_round(site, backup=True)
        backup_s = time.perf_counter() - t0
        print(
            f"push {result.pushed} events: {push_s:.2f} s ({result.pushed / push_s:,.0f} events/s; target < 15 s)"
        )
        print(f"round with nothing new: {empty_s * 1000:.0f} ms (pushed {empty.pushed}; target < 1 s)")
        print(f"round with nothing new, with its online backup: {backup_s * 1000:.0f} ms")
        site.db.dispose()
        hub_ctx.db.dispose()
    finally:
        if proc is not None:
            proc.kill()
            proc.wait()
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
