"""The bulk-insert path: rows go to the driver's executemany with values bound as SQLAlchemy would bind them.

At 100,000 rows SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself, so hot paths
(ledger batches, outbox events) bind each value with the column type's own processor and hand the driver one
parameterised statement. Values are always bound parameters, never formatted into SQL.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Column, Table, insert
from sqlalchemy.orm import Session


def binder(session: Session, column: Column) -> Callable[[object], object]:
    """The function SQLAlchemy would apply to a value of `column` before handing it to the driver."""
    proc = column.type._cached_bind_processor(session.get_bind().dialect)
    return proc if proc is not None else (lambda value: value)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a bulk path builds hundreds of thousands of acyclic objects (row tuples,
    UUIDs): each full collection would walk every live object again, a quarter of the Python time at 100,000
    entries. Reference counting still frees everything; the collector resumes (if it was on) on the way out.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def binds_uuid_as_hex(session: Session, column: Column) -> bool:
    """True when `column` binds a UUID as its 32-digit hex text (SQLAlchemy's Uuid on SQLite), so a bulk path
    can format ids from their ints instead of building UUID objects only to bind them."""
    probe = uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF)
    return binder(session, column)(probe) == probe.hex


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """INSERT `rows` (tuples in `columns` order, values already passed through `binder`) in one executemany."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    key = (table, tuple(columns), dialect.name, dialect.paramstyle)
    sql = _INSERT_SQL.get(key)
    if sql is None:
        mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
        if mark is None:  # another driver: take the ordinary Core path
            session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
            return
        q = dialect.identifier_preparer
        sql = (
            f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
            f"VALUES ({', '.join([mark] * len(columns))})"
        )
        _INSERT_SQL[key] = sql
    conn.exec_driver_sql(sql, rows)


# The INSERT text per (table, columns, dialect): hot paths insert into the same few tables on every commit.
_INSERT_SQL: dict[tuple, str] = {}
