"""Engine factory. SQLite: WAL, synchronous=FULL, foreign keys, busy timeout, writers BEGIN IMMEDIATE.

The same models run on PostgreSQL (the central hub); there writers lock the rows they change.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

BUSY_TIMEOUT_MS = 10_000


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
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Readers take a deferred snapshot; writers take the write lock up front, so two writers never
        # deadlock upgrading a read lock and a gapless counter can never be read twice.
        if conn.get_execution_options().get("anju_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


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
        self.engine.dispose()
