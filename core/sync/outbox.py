"""Appending to the outbox inside the caller's transaction (the bulk path: one executemany per commit)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import sequences
from core.db.bulk import binder, insert_rows
from core.ids import new_ids
from core.sync.models import OutboxEvent

if TYPE_CHECKING:
    from core.uow import PendingEvent

COUNTER = "outbox"
_TABLE = OutboxEvent.__table__
_COLUMNS = ("site_seq", "event_id", "type", "schema_version", "payload", "created_at")


def append_events(
    session: Session, at: datetime, pending: Sequence[PendingEvent], first: int | None = None
) -> None:
    """Append `pending` inside the caller's transaction. `first`: the site_seq already taken from the "outbox"
    counter for them (`sequences.take_many` with other counters in one statement), else taken here."""
    if first is None:
        first = sequences.take(session, COUNTER, len(pending))
    bind_id = binder(session, _TABLE.c.event_id)
    created = binder(session, _TABLE.c.created_at)(at)
    ids = new_ids(len(pending))
    insert_rows(
        session,
        _TABLE,
        _COLUMNS,
        [
            (first + i, bind_id(ids[i]), p.type, p.schema_version, p.payload, created)
            for i, p in enumerate(pending)
        ],
    )


def pending_count(session: Session, after_seq: int = 0) -> int:
    return session.execute(select(func.count()).where(OutboxEvent.site_seq > after_seq)).scalar_one()
