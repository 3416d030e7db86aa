"""WAL checkpoints of a site's SQLite file run on a helper thread, not in the writer that commits."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from core.db import engine as engine_mod
from core.db.engine import Database


class _Calls(list):
    def __init__(self) -> None:
        super().__init__()
        self.done = threading.Event()


@pytest.fixture
def calls(monkeypatch):
    """Every background checkpoint: (path, thread name)."""
    seen = _Calls()
    done = seen.done
    real = engine_mod.checkpoint

    def recording(path):
        seen.append((str(path), threading.current_thread().name))
        try:
            return real(path)
        finally:
            done.set()

    monkeypatch.setattr(engine_mod, "checkpoint", recording)
    return seen


def _commit(db: Database, n: int) -> None:
    for i in range(n):
        with db.writer() as s, s.begin():
            s.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": i})


def test_every_so_many_commits_are_checkpointed_off_the_writer(tmp_path, calls):
    db = Database(f"sqlite:///{tmp_path / 'a.db'}")
    try:
        with db.writer() as s, s.begin():
            s.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
            assert (
                s.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
                == engine_mod.WAL_AUTOCHECKPOINT_PAGES
            )
        _commit(db, engine_mod.CHECKPOINT_EVERY_COMMITS - 2)  # with the CREATE: one short of the mark
        time.sleep(0.2)
        assert calls == []
        _commit(db, 1)
        assert calls.done.wait(10)
        assert calls == [(str((tmp_path / "a.db").resolve()), "sqlite-checkpoint")]
        # The WAL was copied back: a checkpoint now finds every frame already in the database.
        busy, frames, done = engine_mod.checkpoint(tmp_path / "a.db")
        assert busy == 0 and frames == done
    finally:
        db.dispose()


def test_a_checkpoint_never_creates_a_database(tmp_path):
    with pytest.raises(sqlite3.OperationalError):
        engine_mod.checkpoint(tmp_path / "gone.db")
    assert list(tmp_path.iterdir()) == []


def test_forget_drops_a_pending_checkpoint_and_waits_for_a_running_one(tmp_path, monkeypatch):
    checkpointer = engine_mod._Checkpointer()
    gate = threading.Event()
    ran: list[str] = []

    def slow(path):
        gate.wait(10)
        ran.append(str(path))

    monkeypatch.setattr(engine_mod, "checkpoint", slow)
    first, second = str(tmp_path / "first.db"), str(tmp_path / "second.db")
    checkpointer.request(first)
    deadline = time.monotonic() + 10
    while checkpointer._running != first and time.monotonic() < deadline:
        time.sleep(0.01)
    checkpointer.request(second)  # waits behind the first
    checkpointer.forget(second)  # a Database disposed: its checkpoint is not run
    threading.Timer(0.2, gate.set).start()
    checkpointer.forget(first)  # returns only once the running checkpoint has finished
    assert ran == [first]
    time.sleep(0.2)
    assert ran == [first]
