"""The bulk-insert path: rows go to the driver's executemany with values bound as SQLAlchemy would bind them.

At 100,000 rows SQLAlchemy's per-row parameter handling costs more than SQLite's insert itself, so hot paths
(ledger batches, outbox events) bind each value with the column type's own processor and hand the driver one
parameterised statement. Values are always bound parameters, never formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Column, Table, insert
from sqlalchemy.orm import Session


def binder(session: Session, column: Column) -> Callable[[object], object]:
    """The function SQLAlchemy would apply to a value of `column` before handing it to the driver."""
    proc = column.type._cached_bind_processor(session.get_bind().dialect)
    return proc if proc is not None else (lambda value: value)


def insert_rows(session: Session, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
    """INSERT `rows` (tuples in `columns` order, values already passed through `binder`) in one executemany."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(dialect.paramstyle)
    if mark is None:  # another driver: take the ordinary Core path
        session.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    q = dialect.identifier_preparer
    sql = (
        f"INSERT INTO {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(sql, rows)
