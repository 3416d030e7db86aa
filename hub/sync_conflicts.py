"""Held batches: a pushed record (an order, refund or receipt number, a bill run) that the hub already holds
with other content. The hub never overwrites on its own, as a bank would not: an identical re-delivery is
skipped, a different one holds the site's batch back (refused, nothing of it applied) and becomes a conflict
an operator sees with the exact event and both versions, and decides — keep the hub's record or take the
site's — with a reason. The decision is recorded (audit) and applied when the site pushes the batch again.

`place_rows` is called by the typed-record handlers (hub/sync_records.py) inside the batch's transaction;
`record_conflicts` runs after that transaction was rolled back; `list_conflicts` and `resolve_conflict` are
the operator's services (`anju hub sync-conflicts list|resolve`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.context import Context
from core.db import sequences
from core.errors import NotFound, StateError, ValidationError
from core.i18n import N_
from core.jsonutil import canonical_json
from core.sync.models import HubSite, HubSyncConflict

COUNTER = "hub_sync_conflict"
REASON_MAX = 400
LIST_MAX = 1000
KEYS_PER_QUERY = 1000
DECISIONS = ("hub", "site")
STATUS_LABELS = {
    "open": N_("Waiting for a decision"),
    "resolved": N_("Decided, applied with the site's next push"),
    "applied": N_("Decided and applied"),
}
_BATCH = "hub_sync_batch"  # Session.info key of the batch being applied
_CONFLICTS = HubSyncConflict.__table__
_SITES = HubSite.__table__


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def version_of(columns: tuple[str, ...], values: tuple) -> dict[str, Any]:
    """A record as plain JSON values (the site id left out: it is the conflict's own)."""
    return {c: _plain(v) for c, v in zip(columns, values, strict=True) if c != "site_id"}


def _content(version: dict[str, Any]) -> dict[str, Any]:
    """What must be equal for two deliveries to be the same record: everything but the event's seq."""
    return {k: v for k, v in version.items() if k != "site_seq"}


@dataclass(frozen=True)
class Found:
    """A conflict met while applying a batch (not yet recorded: the batch's transaction is rolled back)."""

    site_seq: int
    event_id: uuid.UUID
    event_type: str
    record_kind: str
    record_key: str
    hub_version: dict[str, Any]
    site_version: dict[str, Any]


@dataclass
class BatchConflicts:
    """What one batch met: conflicts to hold it back for, and decisions it applied (marked when it commits)."""

    site_id: uuid.UUID
    found: list[Found] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    _decided: dict[tuple[uuid.UUID, str, str], Any] | None = None

    def decision(self, s: Session, event_id: uuid.UUID, kind: str, key: str) -> Any:
        if self._decided is None:
            rows = s.execute(
                select(
                    _CONFLICTS.c.id,
                    _CONFLICTS.c.event_id,
                    _CONFLICTS.c.record_kind,
                    _CONFLICTS.c.record_key,
                    _CONFLICTS.c.decision,
                    _CONFLICTS.c.hub_version,
                    _CONFLICTS.c.site_version,
                ).where(_CONFLICTS.c.site_id == self.site_id, _CONFLICTS.c.status == "resolved")
            ).all()
            self._decided = {(r.event_id, r.record_kind, r.record_key): r for r in rows}
        return self._decided.get((event_id, kind, key))


def begin_batch(s: Session, site_id: uuid.UUID) -> BatchConflicts:
    batch = BatchConflicts(site_id)
    s.info[_BATCH] = batch
    return batch


def end_batch(s: Session) -> None:
    s.info.pop(_BATCH, None)


def mark_applied(s: Session, batch: BatchConflicts, now: datetime) -> None:
    """In the batch's transaction: the decisions it applied are done (compare-and-set from resolved)."""
    if batch.applied:
        s.execute(
            update(_CONFLICTS)
            .where(_CONFLICTS.c.id.in_(batch.applied), _CONFLICTS.c.status == "resolved")
            .values(status="applied", applied_at=now)
        )


def place_rows(
    s: Session,
    table,
    columns: tuple[str, ...],
    key: str,
    pending: list[tuple[Any, tuple, tuple]],
) -> list[tuple]:
    """Decide for each new record of a batch (event, plain values, bound values) whether it is written.

    A key the hub does not hold yet is written. The same content again (an identical re-delivery) is skipped.
    Other content is a conflict: held unless an operator decided it — "hub" skips the site's record, "site"
    replaces the hub's (whose version stays in the conflict). Returns the bound rows to insert.
    """
    if not pending:
        return []
    batch: BatchConflicts = s.info[_BATCH]
    key_at = columns.index(key)
    keys = sorted({values[key_at] for _e, values, _b in pending})
    held: dict[str, tuple] = {}
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        for r in s.execute(
            select(*[table.c[c] for c in columns]).where(
                table.c.site_id == batch.site_id, table.c[key].in_(chunk)
            )
        ):
            held[r[key_at]] = tuple(r)
    if not held and len(keys) == len(pending):
        return [bound for _e, _v, bound in pending]  # the usual case: nothing held, no key twice
    out: dict[str, tuple] = {}
    current = {k: (version_of(columns, v), "hub") for k, v in held.items()}
    for event, values, bound in pending:
        record_key = values[key_at]
        mine = version_of(columns, values)
        theirs = current.get(record_key)
        if theirs is None:
            out[record_key] = bound
            current[record_key] = (mine, "batch")
            continue
        if _content(theirs[0]) == _content(mine):
            continue  # the same record delivered again: harmless
        decided = batch.decision(s, event.event_id, table.name, record_key)
        if (
            decided is None
            or _content(json.loads(decided.hub_version)) != _content(theirs[0])
            or _content(json.loads(decided.site_version)) != _content(mine)
        ):
            batch.found.append(
                Found(event.site_seq, event.event_id, event.type, table.name, record_key, theirs[0], mine)
            )
            continue
        batch.applied.append(decided.id)
        if decided.decision == "hub":
            continue
        if theirs[1] == "hub":
            s.execute(delete(table).where(table.c.site_id == batch.site_id, table.c[key] == record_key))
        out[record_key] = bound
        current[record_key] = (mine, "batch")
    return list(out.values())


# -------------------------------------------------------------------------------- after the batch was refused


def record_conflicts(ctx: Context, site_id: uuid.UUID, found: list[Found]) -> list[int]:
    """Record (or refresh) the conflicts a refused batch met, in their own transaction; returns their ids.

    A conflict already open is seen again (count, time, versions as now); one decided on versions that have
    changed since (another decision replaced the hub's record) is opened again for a new decision."""
    for attempt in range(2):
        try:
            return _record(ctx, site_id, found)
        except IntegrityError:  # the same conflict recorded by a concurrent push of this site
            if attempt:
                raise
    return []


def _record(ctx: Context, site_id: uuid.UUID, found: list[Found]) -> list[int]:
    ids: list[int] = []
    with ctx.uow("hub.sync.receive") as uow:
        s = uow.session
        for f in found:
            hub_text = canonical_json(f.hub_version)
            site_text = canonical_json(f.site_version)
            row = s.execute(
                select(HubSyncConflict).where(
                    HubSyncConflict.site_id == site_id,
                    HubSyncConflict.event_id == f.event_id,
                    HubSyncConflict.record_kind == f.record_kind,
                    HubSyncConflict.record_key == f.record_key,
                )
            ).scalar_one_or_none()
            if row is None:
                row = HubSyncConflict(
                    id=sequences.take(s, COUNTER), site_id=site_id, event_id=f.event_id, site_seq=f.site_seq,
                    event_type=f.event_type, record_kind=f.record_kind, record_key=f.record_key,
                    hub_version=hub_text, site_version=site_text, status="open", detected_at=uow.now,
                    last_seen_at=uow.now, seen_count=1,
                )  # fmt: skip
                s.add(row)
                s.flush()
                uow.audit(
                    "hub.sync_conflict_held",
                    "hub_sync_conflict",
                    row.id,
                    after={"site_id": str(site_id), "event_id": str(f.event_id), "site_seq": f.site_seq,
                           "record": f"{f.record_kind}:{f.record_key}", "hub": f.hub_version, "site": f.site_version},
                )  # fmt: skip
            else:
                reopen = row.status != "open"
                before = {"status": row.status, "decision": row.decision, "hub": row.hub_version}
                row.site_seq, row.hub_version, row.site_version = f.site_seq, hub_text, site_text
                row.last_seen_at, row.seen_count = uow.now, row.seen_count + 1
                if reopen:
                    row.status, row.decision, row.reason, row.decided_by, row.decided_at = (
                        "open", None, None, None, None,
                    )  # fmt: skip
                    s.flush()
                    uow.audit(
                        "hub.sync_conflict_reopened", "hub_sync_conflict", row.id, before=before,
                        after={"status": "open", "hub": f.hub_version, "site": f.site_version},
                    )  # fmt: skip
            ids.append(row.id)
    return sorted(set(ids))


# --------------------------------------------------------------------------------------------- the operator


@dataclass(frozen=True)
class ConflictView:
    """同步冲突 — one held record: the event that brought it, the hub's and the site's versions, the decision."""

    id: int
    site: str
    site_id: uuid.UUID
    event_id: uuid.UUID
    site_seq: int
    event_type: str
    record_kind: str
    record_key: str
    hub_version: dict[str, Any]
    site_version: dict[str, Any]
    status: str
    detected_at: datetime
    last_seen_at: datetime
    seen_count: int
    decision: str | None
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    applied_at: datetime | None

    @property
    def differs(self) -> list[str]:
        """The fields whose values differ between the two versions (the event's seq aside)."""
        a, b = _content(self.hub_version), _content(self.site_version)
        return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))

    def to_dict(self) -> dict[str, Any]:
        out = {k: _plain(v) for k, v in self.__dict__.items()}
        out["differs"] = self.differs
        return out


def _view(r: Any, site_name: str) -> ConflictView:
    return ConflictView(
        r.id, site_name, r.site_id, r.event_id, r.site_seq, r.event_type, r.record_kind, r.record_key,
        json.loads(r.hub_version), json.loads(r.site_version), r.status, r.detected_at, r.last_seen_at,
        r.seen_count, r.decision, r.reason, r.decided_by, r.decided_at, r.applied_at,
    )  # fmt: skip


def list_conflicts(ctx: Context, *, status: str | None = None, site: str | None = None) -> list[ConflictView]:
    """Conflicts, oldest first: all, or those with `status` (open: batches held now), of one site or all."""
    if status is not None and status not in STATUS_LABELS:
        raise ValidationError(N_("Unknown conflict status {status}."), field="status", status=str(status))
    with ctx.read("hub.sites.view") as s:
        q = (
            select(HubSyncConflict, _SITES.c.name)
            .join(_SITES, _SITES.c.site_id == HubSyncConflict.site_id)
            .order_by(HubSyncConflict.id)
            .limit(LIST_MAX)
        )
        if status is not None:
            q = q.where(HubSyncConflict.status == status)
        if site is not None:
            from hub.sync_apply import _find_site

            q = q.where(HubSyncConflict.site_id == _find_site(s, site).site_id)
        return [_view(r, name) for r, name in s.execute(q).all()]


def _conflict_id(value: object) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number <= 0:
        raise NotFound(N_("There is no sync conflict {id}."), id=str(value))
    return number


def get_conflict(ctx: Context, conflict_id: object) -> ConflictView:
    number = _conflict_id(conflict_id)
    with ctx.read("hub.sites.view") as s:
        row = s.execute(
            select(HubSyncConflict, _SITES.c.name)
            .join(_SITES, _SITES.c.site_id == HubSyncConflict.site_id)
            .where(HubSyncConflict.id == number)
        ).first()
        if row is None:
            raise NotFound(N_("There is no sync conflict {id}."), id=str(conflict_id))
        return _view(row[0], row[1])


def resolve_conflict(ctx: Context, conflict_id: object, keep: str, reason: str) -> ConflictView:
    """Decide an open conflict: keep the hub's record ("hub": the site's event is kept as an event, its record
    is not applied) or take the site's ("site": it replaces the hub's record; the hub's version stays in the
    conflict). The decision, who made it and why are recorded; it is applied with the site's next push."""
    number = _conflict_id(conflict_id)
    if keep not in DECISIONS:
        raise ValidationError(N_("Keep the hub's record or the site's: hub or site."), field="keep")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError(N_("Give the reason for the decision."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationError(
            N_("The reason is longer than {max} characters."), field="reason", max=REASON_MAX
        )
    with ctx.uow("hub.sites.manage") as uow:
        s = uow.session
        row = s.get(HubSyncConflict, number)
        if row is None:
            raise NotFound(N_("There is no sync conflict {id}."), id=str(conflict_id))
        done = s.execute(
            update(_CONFLICTS)
            .where(_CONFLICTS.c.id == number, _CONFLICTS.c.status == "open")
            .values(
                status="resolved",
                decision=keep,
                reason=reason,
                decided_by=ctx.actor.username[:80],
                decided_at=uow.now,
            )
        )
        if done.rowcount != 1:
            raise StateError(
                N_("Sync conflict {id} was already decided ({decision})."),
                id=number,
                decision=row.decision or "",
            )
        uow.audit(
            "hub.sync_conflict_resolved",
            "hub_sync_conflict",
            number,
            before={"status": "open"},
            after={"status": "resolved", "keep": keep, "reason": reason, "record": f"{row.record_kind}:{row.record_key}",
                   "hub": json.loads(row.hub_version), "site": json.loads(row.site_version)},
        )  # fmt: skip
    return get_conflict(ctx, number)
