"""Gapless counters: the next value is taken inside the caller's transaction, so a rollback returns it."""

from __future__ import annotations

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
    if count < 1:
        raise ValueError("count must be positive")
    conn = session.connection()
    stmt = _TAKE.get(conn.dialect.name)
    if stmt is None:
        stmt = _take_statement(conn.dialect.name)
    last = conn.execute(stmt, {"name": name, "count": count}).scalar_one()
    return last - count + 1


# One prebuilt upsert per dialect over the Core table: building an ORM upsert each time costs more than the
# statement itself (a counter is taken several times per payment).
_TAKE: dict[str, Any] = {}


def _take_statement(dialect: str) -> Any:
    table = Counter.__table__
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(table).values(name=bindparam("name"), value=bindparam("count"))
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.name], set_={"value": table.c.value + stmt.excluded.value}
    ).returning(table.c.value)
    _TAKE[dialect] = stmt
    return stmt


def peek(session: Session, name: str) -> int:
    """The last value handed out (0 if none)."""
    return session.execute(select(Counter.value).where(Counter.name == name)).scalar_one_or_none() or 0
