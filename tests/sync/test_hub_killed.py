"""The hub killed in the middle of applying a batch: PostgreSQL holds none of that batch, and the next round
delivers everything exactly once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, func, select, text

from core.sync.client import run_round, status
from core.sync.models import HubLedgerEntry, HubSiteEvent
from core.sync.protocol import SyncError
from tests.sync.conftest import assert_consistent, open_books, post_entries


def _held(hub) -> tuple[int, int]:
    with hub.ctx.read() as s:
        return (
            s.execute(select(func.count()).select_from(HubSiteEvent)).scalar_one(),
            s.execute(select(func.count()).select_from(HubLedgerEntry)).scalar_one(),
        )


def test_hub_killed_mid_batch_applies_nothing_and_the_next_round_completes(hub, site):
    if not hub.db_url.startswith("postgresql"):
        pytest.skip("the lock that holds the hub inside its transaction is PostgreSQL's")
    open_books(site.ctx)
    post_entries(site.ctx, 3000)
    run_round(site.ctx, backup=False)  # the hub holds the first part
    post_entries(site.ctx, 2000)
    before = _held(hub)

    engine = create_engine(hub.db_url)
    outcome: dict[str, BaseException | None] = {}

    def push() -> None:
        try:
            run_round(site.ctx, backup=False)
            outcome["error"] = None
        except BaseException as err:
            outcome["error"] = err

    try:
        with engine.connect() as holder, engine.connect() as watcher:
            tx = holder.begin()
            # The hub writes a batch's events and entries, then its postings: holding the postings table makes
            # it wait there, inside its transaction, with half of the batch written.
            holder.execute(text("LOCK TABLE hub_ledger_postings IN EXCLUSIVE MODE"))
            pusher = threading.Thread(target=push)
            pusher.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND query LIKE 'COPY %hub_ledger_postings%'"
                    )
                ).scalar_one()
                watcher.commit()
                if waiting:
                    break
                time.sleep(0.02)
            else:
                pytest.fail("the hub never reached the middle of the batch")
            hub.proc.kill()  # SIGKILL: no cleanup, no commit
            hub.proc.wait(timeout=10)
            tx.rollback()
        pusher.join(timeout=60)
    finally:
        engine.dispose()
    assert isinstance(outcome["error"], SyncError)
    assert _held(hub) == before  # nothing of the interrupted batch is at the hub
    assert status(site.ctx).last_round.status == "failed"

    hub.start(same_port=True)
    result = run_round(site.ctx, backup=False)
    assert result.pushed > 0
    assert_consistent(hub, site)
    assert status(site.ctx).pending == 0
