"""`anju recon run --json` prints exactly the six counts; `recon list`/`resolve` and `settlement` work from
the command line on a real site directory (subprocesses, as an operator runs them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from hub.sim.statements import SimTrade, wechat_statement

ROOT = Path(__file__).resolve().parents[2]
DAY = date(2026, 11, 25)
ENTRY = "from console.cli import main; main(prog_name='anju')"  # what the installed `anju` script runs


def anju(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ANJU_LANG": "en", "ANJU_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_recon_run_json_shape_list_and_resolve(tmp_path):
    home = tmp_path / "site"
    pw = tmp_path / "pw.txt"
    pw.write_text("Admin2026pw\n")
    r = anju(home, "init", "--site-code", "T01", "--admin-password-file", str(pw))
    assert r.returncode == 0, r.stderr
    paid = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    statement = tmp_path / "bill.csv"
    trade = SimTrade(
        "1900000109", "wx1", "T01PUNKNOWN1", "4200001", 990, 6, Decimal("0.006"), "SUCCESS", paid
    )
    statement.write_bytes(wechat_statement(DAY, [trade], []))

    r = anju(
        home,
        "recon",
        "run",
        "--channel",
        "wechat",
        "--date",
        "2026-11-25",
        "--statement",
        str(statement),
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "matched": 0,
        "missing_at_channel": 0,
        "missing_locally": 1,
        "amount_mismatch": 0,
        "status_mismatch": 0,
        "fee_mismatch": 0,
    }
    again = anju(
        home,
        "recon",
        "run",
        "--channel",
        "wechat",
        "--date",
        "2026-11-25",
        "--statement",
        str(statement),
        "--json",
    )
    assert again.stdout == r.stdout

    r = anju(home, "recon", "list", "--differences", "--json")
    (item,) = json.loads(r.stdout)
    assert item["kind"] == "missing_locally" and item["doc_no"] == "T01PUNKNOWN1"
    r = anju(home, "recon", "resolve", item["id"], "--decision", "refund_payer", "--note", "无此订单，退回")
    assert r.returncode == 0, r.stderr
    r = anju(home, "recon", "resolve", item["id"], "--decision", "write_off", "--note", "again")
    assert r.returncode == 2 and "already resolved" in r.stderr
    r = anju(home, "recon", "list", "--json")
    (batch,) = json.loads(r.stdout)
    assert batch["open_differences"] == 0 and batch["runs"] == 2

    bad = anju(
        home, "recon", "run", "--channel", "wechat", "--date", "2026-13-01", "--statement", str(statement)
    )
    assert bad.returncode != 0
    r = anju(home, "settlement", "run", "--date", "2026-11-24", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["batches"] == [] and Path(out["transfer_file"]).is_file()
