"""Engine factory. SQLite: WAL, synchronous=FULL, foreign keys, busy timeout, writers BEGIN IMMEDIATE, and WAL
checkpoints on a helper thread (off the writers' path).

The same models run on PostgreSQL (the central hub); there writers lock the rows they change.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 10_000
# WAL checkpoints. SQLite's own (automatic) checkpoint runs in the writer that commits past 1,000 WAL pages: with
# synchronous=FULL that writer copies the pages back and fsyncs the database file before it returns, which one
# counter payment in ~25 paid for (a payment writes ~40 pages). Here a helper thread checkpoints every
# CHECKPOINT_EVERY_COMMITS commits instead (PASSIVE: it never blocks a writer), and the automatic checkpoint
# is kept as a backstop at WAL_AUTOCHECKPOINT_PAGES (≈40 MB at 4 KiB pages) for what the thread cannot keep
# up with: other processes' writers, one huge transaction, or a WAL that never restarts because a commit
# lands during every checkpoint.
CHECKPOINT_EVERY_COMMITS = 100
WAL_AUTOCHECKPOINT_PAGES = 10_000

_log = logging.getLogger(__name__)


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Take transaction control away from pysqlite so we choose BEGIN vs BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Readers take a deferred snapshot; writers take the write lock up front, so two writers never
        # deadlock upgrading a read lock and a gapless counter can never be read twice.
        if conn.get_execution_options().get("anju_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class _Checkpointer:
    """PASSIVE WAL checkpoints of SQLite files on one helper thread per process, started when first needed.

    A request names a file; requests coalesce while one is waiting. The thread opens its own short connection
    for each checkpoint (so it holds no file open between them) and never creates a database: a file that is
    gone is skipped. `forget` drops a file's pending request and waits for a running one (a Database being
    disposed, its directory about to be removed).
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: dict[str, None] = {}  # an ordered set of paths
        self._running: str | None = None
        self._thread: threading.Thread | None = None

    def request(self, path: str) -> None:
        with self._cond:
            if path in self._pending:
                return
            self._pending[path] = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()
            self._cond.notify()

    def forget(self, path: str) -> None:
        with self._cond:
            self._pending.pop(path, None)
            while self._running == path:
                self._cond.wait()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                path = next(iter(self._pending))
                del self._pending[path]
                self._running = path
            try:
                checkpoint(path)
            except Exception:  # a checkpoint is an optimisation; SQLite's own backstop remains
                _log.debug("background checkpoint of %s failed", path, exc_info=True)
            finally:
                with self._cond:
                    self._running = None
                    self._cond.notify_all()


def checkpoint(path: str | Path) -> tuple[int, int, int]:
    """Run a PASSIVE checkpoint of the SQLite file `path` on a connection of its own; (busy, WAL frames,
    frames checkpointed), as PRAGMA wal_checkpoint reports. Never creates the file."""
    conn = sqlite3.connect(Path(path).resolve().as_uri() + "?mode=rw", uri=True, timeout=0)
    try:
        row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()
    return tuple(row)


_checkpointer = _Checkpointer()


class Database:
    """One database (a site's SQLite file or the hub's PostgreSQL) and its session factories."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        kwargs: dict = {"echo": echo}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
        self._writer = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # SQLite has one writer at a time. Writers of this process queue on this lock (taken by the unit of
        # work) instead of polling SQLite's busy handler, whose sleeps grow to 100 ms (or a whole second
        # where the library was built without usleep) and starve some threads under load.
        self.write_lock: threading.RLock | None = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else None
        )
        self._reader = sessionmaker(self.engine.execution_options(anju_readonly=True), expire_on_commit=False)
        self._commits = 0
        self._checkpoint_path: str | None = None
        if self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._checkpoint_path = str(Path(self.engine.url.database).resolve())
            event.listen(self.engine, "commit", self._on_commit)

    def _on_commit(self, _conn) -> None:
        # Counted as the commit starts; the thread's checkpoint then covers what is committed when it runs.
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY_COMMITS and self._checkpoint_path is not None:
            self._commits = 0
            _checkpointer.request(self._checkpoint_path)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        """The file of a SQLite database, None for a server database."""
        if self.dialect != "sqlite":
            return None
        return Path(self.engine.url.database) if self.engine.url.database else None

    def writer(self) -> Session:
        """A session whose transaction takes the write lock at BEGIN (SQLite)."""
        return self._writer()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only session. Closing it ends the transaction and detaches what was read, loaded as it was."""
        session = self._reader()
        try:
            yield session
        finally:
            session.close()

    def dispose(self) -> None:
        if self._checkpoint_path is not None:
            _checkpointer.forget(self._checkpoint_path)
        self.engine.dispose()
