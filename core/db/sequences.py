"""Gapless counters: the next value is taken inside the caller's transaction, so a rollback returns it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db.base import Base


class Counter(Base):
    """计数器 — one gapless sequence (outbox site_seq, receipt numbers per year, …)."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


def take(session: Session, name: str, count: int = 1) -> int:
    """Reserve `count` consecutive values of counter `name`; return the first.

    One upsert statement: on SQLite the writer already holds the database write lock (BEGIN IMMEDIATE);
    on PostgreSQL the upsert locks the counter row until commit. Either way no value is skipped or repeated.
    """
    return take_many(session, ((name, count),))[name]


def take_many(session: Session, wants: Sequence[tuple[str, int]]) -> dict[str, int]:
    """`take` for several counters in one statement: {name: first value} for each (name, count) in `wants`.

    The counters are locked in the order given (PostgreSQL upserts the VALUES rows in order), so callers that
    take the same counters should name them in the same order, as `take` called one by one would.
    """
    if not wants:
        return {}
    params: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for i, (name, count) in enumerate(wants):
        if count < 1:
            raise ValueError("count must be positive")
        if name in counts:
            raise ValueError("each counter may be named once")
        counts[name] = count
        params[f"name_{i}"] = name
        params[f"count_{i}"] = count
    conn = session.connection()
    dialect = conn.dialect
    key = (dialect.name, dialect.paramstyle, len(wants))
    found = _TAKE_SQL.get(key)
    if found is None:
        found = _take_sql(dialect, len(wants))
        _TAKE_SQL[key] = found
    sql, order = found
    rows = conn.exec_driver_sql(sql, params if order is None else tuple(params[k] for k in order)).all()
    if len(rows) != len(counts):  # cannot happen: every VALUES row is inserted or updated, and returned
        raise RuntimeError("counter upsert returned the wrong number of rows")
    return {name: last - counts[name] + 1 for name, last in rows}


# The upsert's SQL text per (dialect, paramstyle, number of counters), compiled once: a counter is taken several
# times per payment, and SQLAlchemy's per-statement handling of a Core statement costs more than the upsert (a
# multi-row VALUES insert is not even in its compiled cache). Values are bound parameters (strings and ints, no
# bind processing), handed to the driver in the order the compiled text names them.
_TAKE_SQL: dict[tuple[str, str, int], tuple[str, tuple[str, ...] | None]] = {}


def _take_sql(dialect: Any, rows: int) -> tuple[str, tuple[str, ...] | None]:
    table = Counter.__table__
    insert = pg_insert if dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(
        [{"name": bindparam(f"name_{i}"), "value": bindparam(f"count_{i}")} for i in range(rows)]
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + stmt.excluded.value}
    ).returning(table.c.name, table.c.value)
    compiled = stmt.compile(dialect=dialect)
    return compiled.string, (tuple(compiled.positiontup) if compiled.positional else None)


def peek(session: Session, name: str) -> int:
    """The last value handed out (0 if none)."""
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar_one_or_none() or 0
