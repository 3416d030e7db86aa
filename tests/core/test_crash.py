"""A process killed in the middle of posting leaves the database consistent: whole batches or nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.audit.log import verify as verify_audit
from core.context import Actor, Context
from core.db.engine import Database
from core.ledger.models import JournalEntry
from core.ledger.verify import verify as verify_ledger
from core.site import SiteHome
from core.sync.models import OutboxEvent

BATCH = 500

CHILD = textwrap.dedent(
    f"""
    import sys
    from datetime import date
    from core.context import Actor, Context
    from core.clock import SystemClock
    from core.db.engine import Database
    from core.site import SiteHome
    from core.ledger import services as ledger

    home = SiteHome(__import__("pathlib").Path(sys.argv[1]))
    ctx = Context(db=Database(home.db_url), actor=Actor.system(), clock=SystemClock(), home=home)
    n = 0
    while True:
        specs = [ledger.EntrySpec("B", date(2026, 11, 25), "crash", (("cash", 100), ("income", -100)))
                 for _ in range({BATCH})]
        ledger.post_batch(ctx, specs)
        n += 1
        print(n, flush=True)
    """
)


@pytest.mark.slow
def test_killed_mid_batch_leaves_whole_batches(tmp_path: Path, clock):
    from core.bootstrap import init_site
    from core.ledger import services as ledger

    home = SiteHome(tmp_path / "site")
    init_site(home, code="CR", name="crash", admin_user="admin", admin_password="Secret123")
    db = Database(home.db_url)
    ctx = Context(db=db, actor=Actor.system(), clock=clock, home=home)
    ledger.create_book(ctx, "B", "book", "property")
    ledger.open_account(ctx, "B", "cash", "cash", "asset")
    ledger.open_account(ctx, "B", "income", "income", "income")

    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home.root)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ},
    )
    # wait until a few batches have committed, then kill without warning, mid-write
    committed = 0
    deadline = time.time() + 60
    while committed < 3 and time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line)
    time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert committed >= 3, "child never committed a batch"

    db.dispose()
    db = Database(home.db_url)
    ctx = Context(db=db, actor=Actor.system(), clock=clock, home=home)
    with ctx.read() as s:
        entries = s.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
        events = s.execute(select(func.count()).select_from(OutboxEvent)).scalar_one()
        carried = sum(
            len(json.loads(p)["entries"])
            for p in s.execute(
                select(OutboxEvent.payload).where(OutboxEvent.type == "ledger.entries_posted")
            ).scalars()
        )
        ledger_result = verify_ledger(s)
        audit_result = verify_audit(s)
        max_seq = s.execute(select(func.max(OutboxEvent.site_seq))).scalar_one()
    assert entries % BATCH == 0 and entries >= committed * BATCH
    assert carried == entries  # every committed entry is on its way to the hub, none twice
    assert max_seq == events
    assert ledger_result.ok, ledger_result.problems
    assert audit_result.ok, audit_result.problems
    db.dispose()
