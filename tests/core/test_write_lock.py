"""The in-process SQLite write lock (Database.write_lock, taken by the unit of work): released on every way a
transaction ends, so no other thread of the process is left waiting on it."""

from __future__ import annotations

import threading

import pytest

from core.errors import PermissionDenied


def _free_for_another_thread(db) -> bool:
    """True if a thread other than this one can take the write lock at once."""
    got: list[bool] = []

    def probe() -> None:
        ok = db.write_lock.acquire(blocking=False)
        got.append(ok)
        if ok:
            db.write_lock.release()

    t = threading.Thread(target=probe)
    t.start()
    t.join()
    return got == [True]


def test_lock_released_after_commit_and_after_rollback(sqlite_ctx):
    db = sqlite_ctx.db
    assert db.write_lock is not None
    with sqlite_ctx.uow():
        assert not _free_for_another_thread(db)
    assert _free_for_another_thread(db)
    with pytest.raises(RuntimeError), sqlite_ctx.uow():
        raise RuntimeError("boom")
    assert _free_for_another_thread(db)


def test_nested_uow_on_another_context_of_the_same_thread_does_not_wait(sqlite_ctx):
    other = sqlite_ctx.as_actor(sqlite_ctx.actor)
    with sqlite_ctx.uow():
        done = threading.Event()

        def inner() -> None:
            with other.uow():  # same thread: the lock is re-entrant
                done.set()

        inner()
        assert done.is_set()
    assert _free_for_another_thread(sqlite_ctx.db)


def test_lock_released_when_the_transaction_cannot_be_opened(sqlite_ctx, monkeypatch):
    db = sqlite_ctx.db

    def no_session():
        raise RuntimeError("cannot open a session")

    monkeypatch.setattr(db, "writer", no_session)
    with pytest.raises(RuntimeError), sqlite_ctx.uow():
        pass
    monkeypatch.undo()
    assert _free_for_another_thread(db)


def test_lock_released_when_a_disabled_account_is_refused(sqlite_ctx, monkeypatch):
    from core.security import passwords
    from core.security.services import add_user, authenticate, disable_user

    monkeypatch.setattr(passwords, "needs_rehash", lambda _h: False)
    add_user(sqlite_ctx, "clerk1", "counter2026")
    clerk = sqlite_ctx.as_actor(authenticate(sqlite_ctx, "clerk1", "counter2026"))
    disable_user(sqlite_ctx, "clerk1")
    with pytest.raises(PermissionDenied), clerk.uow():
        pass
    assert _free_for_another_thread(sqlite_ctx.db)
