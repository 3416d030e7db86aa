"""Benchmark: reconcile a 1,000,000-line WeChat Pay statement against 1,000,000 orders on SQLite
(target: under 15 s and under 1 GiB peak memory).

A child process builds the site (migrations), bulk-inserts the orders (core.db.bulk.insert_rows) and writes
the statement with the simulator's writer — 0.1 % of lines seeded with an amount difference, 0.1 % of orders
absent from the statement, 0.1 % of lines absent locally — so this process's peak RSS measures run_recon
alone. Usage: bench/recon_1m.py [N] [--dir DIR]: with --dir the built site is kept in DIR (pristine copy
bench.db.orig) and reused by the next run with the same N, so run-to-run comparisons skip the long build.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DAY = date(2026, 11, 25)
CHUNK = 50_000


def order_no(i: int) -> str:
    return f"BENCHP2026112500{i:07d}"


def build(tmp: Path, n: int) -> None:
    from core.bootstrap import create_site_identity
    from core.context import Actor, Context
    from core.db.bulk import binder, insert_rows
    from core.db.engine import Database
    from core.db.migrate import upgrade
    from core.ids import new_ids
    from core.payments.models import PayOrder
    from core.site import SiteHome
    from hub.sim.statements import SimTrade, write_wechat_statement

    db = Database(f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db.engine)
    home = SiteHome(tmp / "home")
    home.ensure_dirs()
    ctx = Context(db=db, actor=Actor.system("bench"), home=home)
    create_site_identity(ctx, code="BENCH", name="bench")
    start = datetime(2026, 11, 25, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai; spread over ~14 hours
    table = PayOrder.__table__
    cols = (
        "id", "order_no", "app_id", "out_trade_no", "amount_fen", "subject", "payer", "method", "channel", "status",
        "channel_trade_no", "fee_rate", "fee_fen", "paid_at", "business_date", "refunded_fen", "expire_at",
        "metadata", "pay_info", "request_hash", "created_at", "updated_at", "version",
    )  # fmt: skip
    with ctx.uow() as uow:
        b = {c: binder(uow.session, table.c[c]) for c in cols}
        day = b["business_date"](DAY)
        meta = b["metadata"]({})
        for lo in range(0, n, CHUNK):
            ids = new_ids(min(CHUNK, n - lo))
            rows = []
            for k, uid in enumerate(ids):
                i = lo + k
                paid = start + timedelta(milliseconds=50 * i)
                amount = 100 + i % 50_000
                rows.append(
                    (
                        b["id"](uid), order_no(i), "property", f"OUT{i}", amount, "物业费", "", "qr", "wechat",
                        "SUCCESS", f"4200{i:012d}", "0.006", (amount * 6 + 500) // 1000, b["paid_at"](paid), day, 0,
                        b["expire_at"](paid), meta, meta, "x" * 64, b["created_at"](paid), b["updated_at"](paid), 1,
                    )
                )  # fmt: skip
            insert_rows(uow.session, table, cols, rows)

    def trades():
        for i in range(n):
            if i % 1000 == 7:
                continue  # missing at the channel
            amount = 100 + i % 50_000 + (1 if i % 1000 == 3 else 0)
            paid = start + timedelta(milliseconds=50 * i)
            fee = (amount * 6 + 500) // 1000
            yield SimTrade("1900000109", "wx1", order_no(i), f"4200{i:012d}", amount, fee, Decimal("0.006"),
                           "SUCCESS", paid, "物业费", "oU")  # fmt: skip
            if i % 1000 == 5:
                yield SimTrade("1900000109", "wx1", f"BENCHX{i:010d}", f"4299{i:012d}", 500, 3, Decimal("0.006"),
                               "SUCCESS", paid, "物业费", "oU")  # fmt: skip

    write_wechat_statement(tmp / "statement.csv", DAY, trades(), [])
    db.dispose()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--build":
        build(Path(sys.argv[2]), int(sys.argv[3]))
        return
    args = sys.argv[1:]
    keep: Path | None = None
    if "--dir" in args:
        i = args.index("--dir")
        keep = Path(args[i + 1])
        del args[i : i + 2]
    n = int(args[0]) if args else 1_000_000
    from core.context import Actor, Context
    from core.db.engine import Database
    from core.payments.recon.services import run_recon
    from core.site import SiteHome

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = keep or Path(tmp_name)
        marker = tmp / f"built-{n}"
        t0 = time.perf_counter()
        if keep is not None and marker.exists():
            shutil.copyfile(tmp / "bench.db.orig", tmp / "bench.db")
            shutil.rmtree(tmp / "home", ignore_errors=True)
            shutil.copytree(tmp / "home.orig", tmp / "home")
        else:
            tmp.mkdir(parents=True, exist_ok=True)
            subprocess.run([sys.executable, __file__, "--build", str(tmp), str(n)], check=True)
            if keep is not None:
                shutil.copyfile(tmp / "bench.db", tmp / "bench.db.orig")
                shutil.copytree(tmp / "home", tmp / "home.orig", dirs_exist_ok=True)
                marker.touch()
        build_s = time.perf_counter() - t0
        size_mb = (tmp / "statement.csv").stat().st_size / 1e6
        ctx = Context(db=Database(f"sqlite:///{tmp / 'bench.db'}"), actor=Actor.system("bench"),
                      home=SiteHome(tmp / "home"))  # fmt: skip
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        usage0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        result = run_recon(ctx, "wechat", DAY, tmp / "statement.csv")
        seconds = time.perf_counter() - t0
        usage1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu_s = usage1.ru_utime + usage1.ru_stime - usage0.ru_utime - usage0.ru_stime
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
        ctx.db.dispose()
    print(
        f"{n:,} orders and a {size_mb:,.0f} MB statement ready in {build_s:.1f} s (built in a child, or copied)"
    )
    print(f"counts: {result.counts()}  pending={result.pending}  lines={result.lines:,}")
    print(
        f"run_recon: {seconds:6.2f} s (target < 15 s) {'OK' if seconds < 15 else 'SLOW'};"
        f" peak RSS {peak_mib:,.0f} MiB (before the run {rss_before:,.0f} MiB; target < 1024 MiB)"
        f" {'OK' if peak_mib < 1024 else 'TOO MUCH'}"
    )
    print(f"  CPU time of the run {cpu_s:6.2f} s (wall time above depends on other load on the machine)")


if __name__ == "__main__":
    main()
