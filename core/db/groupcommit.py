"""Group commit: one writer thread applies several requests' writes in one transaction, so their durable
commit (one fsync of SQLite's WAL with synchronous=FULL) is shared.

A caller hands `GroupCommit.run` a body — the inside of what would be its own `with ctx.uow(permission)`
block — and waits. The writer takes every body waiting (up to `max_batch`), opens one transaction, and runs
each body in its own SAVEPOINT with a unit of work of its own (`now` is the transaction's one instant, shared
by the batch). A body that raises rolls back to its savepoint only and gets its exception; the others go on.
Plain inserts a body deferred (`defer_insert`: order history rows, nonces) are then applied, one executemany
per statement for the whole batch, and the audit records and outbox events of the bodies that succeeded are appended in their order — each
record with its own body's actor — so the hash chain and the gapless site_seq are exactly what one
transaction per request, run one after the other, would have written. Every caller is answered only after
the one commit returned (durable); if anything after the bodies fails (the audit write, the commit), every
caller of the batch gets the error and nothing of the batch was written. `after_commit` callbacks of the
bodies that succeeded run after the commit, on the writer thread.

Savepoints are issued on the DB-API connection (SQLAlchemy's nested-transaction bookkeeping costs more than a
small body). A body must leave no ORM change unflushed (it is flushed before the savepoint is released), and
after a body fails the session forgets every ORM object it holds, so nothing the failed body loaded or changed
is seen by the next one.

Nothing waits for a batch to fill: a batch is whatever queued while the previous one was committing, so a lone
request pays no extra latency.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from core.uow import WRITE_LOCK_TIMEOUT_S, UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from core.context import Context
    from core.db.engine import Database

T = TypeVar("T")
log = logging.getLogger("anju.groupcommit")

MAX_BATCH_DEFAULT = 64
_STOP = object()


class _MemberUnit(UnitOfWork):
    """One request's unit of work inside a shared transaction: the same interface as UnitOfWork (audit,
    emit, after_commit, session, now), but the writer thread — not the block — writes its pending records
    inside the request's savepoint and commits."""

    def __init__(self, ctx: Context, session: Session, now: datetime) -> None:  # no lock, no own session
        self.ctx = ctx
        self.session = session
        self.now = now
        self._write_lock = None
        self._audit = []
        self._events = []
        self._after_commit = []
        self._inserts: list[tuple[Any, dict[str, Any]]] = []

    def defer_insert(self, statement: Any, row: dict[str, Any]) -> None:
        """Queue a plain insert (one that nothing in the batch reads back) for the writer to apply after the
        bodies, with the batch's other rows of the same statement in one executemany."""
        self._inserts.append((statement, row))

    def commit(self) -> None:  # pragma: no cover - a member never commits on its own
        raise RuntimeError("a group-commit member is committed by its writer")


class _Restart(Exception):
    """A body's failure ended the shared transaction itself: run the batch's other bodies again."""


class _Item:
    __slots__ = ("body", "ctx", "done", "error", "result", "unit")

    def __init__(self, ctx: Context, body: Callable[[UnitOfWork], Any]) -> None:
        self.ctx = ctx
        self.body = body
        self.result: Any = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.unit: _MemberUnit | None = None


class GroupCommit:
    """The writer thread of one database. `run` may be called from any number of threads."""

    def __init__(
        self, db: Database, *, max_batch: int = MAX_BATCH_DEFAULT, name: str = "anju-group-commit"
    ) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._started = False
        self._closed = False
        self._start_lock = threading.Lock()
        # Figures for benchmarks and tests: transactions committed and bodies run in them.
        self.batches = 0
        self.members = 0

    def run(self, ctx: Context, permission: str | None, body: Callable[[UnitOfWork], T]) -> T:
        """Run `body(uow)` in a shared transaction as `with ctx.uow(permission) as uow: body(uow)` would, and
        return its result once the transaction is durable (or raise what the body or the commit raised)."""
        if permission:
            ctx.require(permission)
        if ctx._uow is not None:  # already inside a transaction: join it, as ctx.uow() does
            return body(ctx._uow)
        item = _Item(ctx, body)
        with self._start_lock:  # nothing is queued behind the writer's stop mark
            if self._closed:
                raise RuntimeError("the group-commit writer is closed")
            if not self._started:
                self._thread.start()
                self._started = True
            self._queue.put(item)
        item.done.wait()
        if item.error is not None:
            raise item.error
        return item.result

    def close(self, timeout_s: float = 10.0) -> None:
        """Finish the requests already handed in, then stop the writer."""
        with self._start_lock:
            if self._closed:
                return
            self._closed = True
            started = self._started
            if started:
                self._queue.put(_STOP)
        if started:
            self._thread.join(timeout=timeout_s)

    def _loop(self) -> None:
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stop = True
                batch = [item for item in batch if item is not _STOP]
            if not batch:
                continue
            try:
                self._run_batch(batch)
            except BaseException as exc:  # never leave a caller waiting
                log.exception("group commit failed")
                for item in batch:
                    if not item.done.is_set():
                        item.error = item.error or exc
                        item.done.set()

    def _run_batch(self, batch: list[_Item]) -> None:
        lock = getattr(self.db, "write_lock", None)
        locked = lock is not None and lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S)
        committed: list[_Item] = []
        try:
            pending = batch
            while pending:
                committed = []
                session = self.db.writer()
                try:
                    try:
                        self._apply(session, pending, committed)
                    except _Restart:
                        # A body broke the whole transaction (an ORM flush failed): it has its error; the
                        # others run again, from the start, in a fresh one.
                        session.rollback()
                        pending = [item for item in pending if item.error is None]
                        for item in pending:
                            item.result, item.unit = None, None
                        continue
                    if committed:
                        session.commit()
                    else:
                        session.rollback()
                    pending = []
                except BaseException as exc:
                    # The shared transaction failed (or could not commit): nothing of this batch was written,
                    # and every caller not already refused by its own body gets the error.
                    committed.clear()
                    for item in pending:
                        if item.error is None:
                            item.error, item.result, item.unit = exc, None, None
                    try:
                        session.rollback()
                    except Exception:
                        log.exception("group commit rollback failed")
                    raise
                finally:
                    session.close()
        finally:
            if locked:
                lock.release()
            self.batches += 1
            self.members += len(committed)
            for item in committed:
                for fn in item.unit._after_commit if item.unit else ():
                    try:
                        fn()
                    except Exception:
                        log.exception("after-commit callback failed")
            for item in batch:
                item.done.set()

    def _apply(self, session: Session, batch: list[_Item], ok: list[_Item]) -> None:
        """Run each body in its own savepoint, appending the ones that succeeded to `ok` in order; then write
        their audit records (grouped by actor, in order) and outbox events."""
        from core.audit.log import write_records
        from core.context import _refuse_disabled_account
        from core.sync.outbox import append_events

        now = batch[0].ctx.clock.now()
        raw = session.connection().connection.driver_connection

        def sql(statement: str) -> None:
            cursor = raw.cursor()
            try:
                cursor.execute(statement)
            finally:
                cursor.close()

        for item in batch:
            ctx = item.ctx
            unit = _MemberUnit(ctx, session, now)
            sql("SAVEPOINT anju_group_member")
            ctx._uow = unit
            try:
                if ctx.actor.user_id is not None:
                    _refuse_disabled_account(session, ctx.actor)
                item.result = item.body(unit)
                session.flush()
            except Exception as exc:
                item.error, item.result = exc, None
                if not session.is_active:
                    raise _Restart from exc
                # If even this fails, the whole batch fails (the caller of _apply).
                sql("ROLLBACK TO SAVEPOINT anju_group_member")
                sql("RELEASE SAVEPOINT anju_group_member")
                session.expunge_all()
                continue
            finally:
                ctx._uow = None
            sql("RELEASE SAVEPOINT anju_group_member")
            item.unit = unit
            ok.append(item)

        grouped: dict[int, tuple[Any, list[dict[str, Any]]]] = {}
        for item in ok:  # each statement's rows in the order the bodies queued them
            for statement, row in item.unit._inserts:
                grouped.setdefault(id(statement), (statement, []))[1].append(row)
        for statement, rows in grouped.values():
            session.execute(statement, rows)

        start = 0
        while start < len(ok):  # consecutive members of one actor share one append to the chain
            actor = ok[start].ctx.actor
            end = start + 1
            while end < len(ok) and ok[end].ctx.actor == actor:
                end += 1
            audit = [record for item in ok[start:end] for record in item.unit._audit]
            if audit:
                write_records(session, actor, now, audit)
            start = end
        events = [event for item in ok for event in item.unit._events]
        if events:
            append_events(session, now, events)
