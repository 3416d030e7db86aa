"""Harder faults: the site killed mid-round, a database restored from an old backup (regression detected at
the hub and the site, then recovered from the hub), and a seeded randomized soak."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.db.backup import create_backup, restore_backup
from core.ledger.models import JournalEntry
from core.sync import protocol as p
from core.sync.client import _client, _read_batch, recover, run_round
from core.sync.protocol import SyncError, SyncRefused
from hub.sync_apply import list_sites, verify_site
from tests.sync.conftest import ROOT, FlakyTransport, assert_consistent, open_books, post_entries

ANJU = str(Path(sys.executable).parent / "anju")


def test_site_killed_mid_round_then_resumes(hub, site):
    open_books(site.ctx)
    for _ in range(30):
        post_entries(site.ctx, 1)
    post_entries(site.ctx, 3000)
    rng = random.Random(5)
    env = {**os.environ, "ANJU_HOME": str(site.home), "ANJU_LANG": "en"}
    for _ in range(2):
        proc = subprocess.Popen(
            [ANJU, "sync", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    run_round(site.ctx)
    assert_consistent(hub, site)
    # the CLI's own JSON shape
    out = subprocess.run(
        [ANJU, "sync", "--json", "--no-backup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    import json

    assert set(json.loads(out.stdout)) == {"pushed", "pulled", "acked_seq"}


def test_restore_from_old_backup_is_detected_and_recovered(hub, site, tmp_path):
    open_books(site.ctx)
    post_entries(site.ctx, 40)
    run_round(site.ctx, backup=False)
    old = tmp_path / "yesterday.db"
    create_backup(site.home / "anju.db", old)
    for _ in range(5):  # made after the backup, pushed to the hub, then lost at the site
        post_entries(site.ctx, 7)
    run_round(site.ctx, backup=False)
    with site.ctx.read() as s:
        entries_before = s.execute(select(func.count()).select_from(JournalEntry)).scalar_one()
    site.ctx.db.dispose()
    restore_backup(old, site.home / "anju.db", keep_copy_dir=tmp_path / "kept")
    post_entries(site.ctx, 1)  # new work after the restore reuses seqs the hub holds
    post_entries(site.ctx, 2)

    # the site notices the hub holds what it lost ...
    with pytest.raises(SyncError) as err:
        run_round(site.ctx, backup=False)
    assert err.value.code == p.REGRESSION
    # ... and so does the hub when such a batch arrives
    _, client = _client(site.ctx, None)
    with site.ctx.read() as s:
        from core.sync.models import SyncState

        acked = s.get(SyncState, 1).acked_seq
    batch = _read_batch(site.ctx, acked + 1)
    with site.ctx.read() as s:
        from core.sync.client import _event_id_at

        prev = _event_id_at(s, acked)
    with pytest.raises(SyncRefused) as err:
        client.call(
            p.PATH_PUSH,
            {"first_seq": batch[0][0], "last_seq": batch[-1][0], "prev_event_id": prev, "events": batch},
        )
    client.close()
    assert err.value.code == p.REGRESSION
    assert next(s for s in list_sites(hub.ctx) if s.name == site.name).regression_at is not None

    result = recover(site.ctx)
    assert result.recovered == 5 and result.entries == 35 and result.renumbered == 2
    with site.ctx.read() as s:
        assert s.execute(select(func.count()).select_from(JournalEntry)).scalar_one() == entries_before + 3
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)
    assert verify_site(hub.ctx, site.name).ok
    assert next(s for s in list_sites(hub.ctx) if s.name == site.name).regression_at is None
    again = recover(site.ctx)  # nothing left to recover
    assert again.recovered == 0


def test_recover_after_restore_without_new_work(hub, site, tmp_path):
    open_books(site.ctx)
    post_entries(site.ctx, 5)
    run_round(site.ctx, backup=False)
    old = tmp_path / "old.db"
    create_backup(site.home / "anju.db", old)
    post_entries(site.ctx, 4)
    run_round(site.ctx, backup=False)
    site.ctx.db.dispose()
    restore_backup(old, site.home / "anju.db", keep_copy_dir=tmp_path / "kept")
    with pytest.raises(SyncError) as err:
        run_round(site.ctx, backup=False)
    assert err.value.code == p.REGRESSION
    assert recover(site.ctx).entries == 4
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)


def test_soak_random_faults_seeded(hub, site):
    """Many rounds, random work and random cuts; after every completed round the hub equals the site."""
    seed = int(os.environ.get("ANJU_SOAK_SEED", "20261125"))
    rng = random.Random(seed)
    open_books(site.ctx)
    deadline = time.monotonic() + 25
    rounds = completed = 0
    while time.monotonic() < deadline and rounds < 60:
        rounds += 1
        for _ in range(rng.randrange(0, 4)):
            post_entries(site.ctx, rng.choice([1, 1, 2, 50, 700]), rng)
        if rng.random() < 0.2:
            site.clock.advance(hours=rng.uniform(-10, 10))
        transport = FlakyTransport(rng, p_before=rng.choice([0, 0.1]), p_after=rng.choice([0, 0.2]))
        try:
            run_round(site.ctx, transport=transport, backup=rng.random() < 0.1)
        except SyncError as err:
            assert err.code == "unreachable", err.message()
            continue
        completed += 1
        assert_consistent(hub, site)
    run_round(site.ctx, backup=False)
    assert_consistent(hub, site)
    assert completed > 3, f"seed {seed}: only {completed} of {rounds} rounds completed"
