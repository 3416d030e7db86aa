"""The unit of work: one write transaction holding a change, its audit records and its outbox events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.jsonutil import canonical_json

WRITE_LOCK_TIMEOUT_S = 10.0

if TYPE_CHECKING:
    from core.context import Context


@dataclass(frozen=True)
class PendingAudit:
    action: str
    object_type: str
    object_id: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class PendingEvent:
    type: str
    payload: str
    schema_version: int


class UnitOfWork:
    """Opened by `Context.uow()`. `now` is the one instant of the whole transaction."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        # SQLite: queue behind this process's other writers (see Database.write_lock). Bounded by the busy
        # timeout, after which SQLite's own locking decides, as it would without the lock.
        self._write_lock = getattr(ctx.db, "write_lock", None)
        if self._write_lock is not None and not self._write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT_S):
            self._write_lock = None
        try:
            self.session = ctx.db.writer()
            self.now: datetime = ctx.clock.now()
        except BaseException:  # no unit of work to close: give the lock back here
            if self._write_lock is not None:
                self._write_lock.release()
                self._write_lock = None
            raise
        self._audit: list[PendingAudit] = []
        self._events: list[PendingEvent] = []
        self._after_commit: list[Callable[[], None]] = []

    def audit(
        self,
        action: str,
        object_type: str,
        object_id: object,
        before: Any = None,
        after: Any = None,
    ) -> None:
        """Record who did what to which object; written, hash-chained, when the transaction commits."""
        self._audit.append(
            PendingAudit(
                action,
                object_type,
                str(object_id),
                None if before is None else canonical_json(before),
                None if after is None else canonical_json(after),
            )
        )

    def audit_encoded(self, action: str, object_type: str, object_id: object, after_json: str) -> None:
        """`audit` with `after` already written as canonical JSON text (canonical_json of the same value), for a
        hot path that sends the same payload to the outbox too and should not encode it twice."""
        self._audit.append(PendingAudit(action, object_type, str(object_id), None, after_json))

    def emit(self, event_type: str, payload: Any, schema_version: int = 1) -> None:
        """Append a sync outbox event (numbered gaplessly per site at commit)."""
        self._events.append(PendingEvent(event_type, canonical_json(payload), schema_version))

    def emit_many(self, event_type: str, payloads: list[Any], schema_version: int = 1) -> None:
        self._events.extend(PendingEvent(event_type, canonical_json(p), schema_version) for p in payloads)

    def emit_encoded(self, event_type: str, payloads_json: list[str], schema_version: int = 1) -> None:
        """emit_many for payloads a bulk path has already written as canonical JSON text (see
        core.jsonutil.encode_json_str), so megabytes of payload are not built as objects and encoded again."""
        self._events.extend(PendingEvent(event_type, text, schema_version) for text in payloads_json)

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the transaction has committed (never if it rolls back)."""
        self._after_commit.append(fn)

    def commit(self) -> None:
        from core.audit.log import COUNTER as AUDIT_COUNTER
        from core.audit.log import write_records
        from core.db.sequences import take_many
        from core.sync.outbox import COUNTER as OUTBOX_COUNTER
        from core.sync.outbox import append_events

        self.session.flush()
        if self._audit and self._events:
            # Both counters in one statement, audit first (the order write_records then append_events took them).
            firsts = take_many(
                self.session, ((AUDIT_COUNTER, len(self._audit)), (OUTBOX_COUNTER, len(self._events)))
            )
            write_records(self.session, self.ctx.actor, self.now, self._audit, first=firsts[AUDIT_COUNTER])
            append_events(self.session, self.now, self._events, first=firsts[OUTBOX_COUNTER])
        elif self._audit:
            write_records(self.session, self.ctx.actor, self.now, self._audit)
        elif self._events:
            append_events(self.session, self.now, self._events)
        self.session.commit()
        self._audit.clear()
        self._events.clear()
        callbacks, self._after_commit = self._after_commit, []
        for fn in callbacks:
            fn()

    def rollback(self) -> None:
        self.session.rollback()
        self._audit.clear()
        self._events.clear()
        self._after_commit.clear()

    def close(self) -> None:
        try:
            self.session.close()
        finally:
            if self._write_lock is not None:
                self._write_lock.release()
                self._write_lock = None
