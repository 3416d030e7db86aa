"""Writing and verifying the audit chain.

hash(n) = SHA-256 over the record's fields and hash(n-1), joined with a unit separator (U+001F). Ids enter the
hash as 32 hex digits and the instant as `YYYY-MM-DD HH:MM:SS.ffffff` UTC — the forms SQLite stores — so
verification can hash the raw stored text without converting a million rows to Python objects. `seq` comes from
the gapless counter "audit", so an edited, deleted or inserted record breaks the chain at a named place; the
counter also catches records cut off the end.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from core.audit.models import AuditRecord
from core.db import sequences
from core.db.bulk import binder, insert_rows
from core.i18n import N_
from core.ids import new_ids

if TYPE_CHECKING:
    from core.context import Actor
    from core.uow import PendingAudit

GENESIS_HASH = "0" * 64
COUNTER = "audit"
VERIFY_BATCH_SIZE = 20_000
AT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
SEP = "\x1f"
NULL = "\x00"


def _id_text(value: uuid.UUID | str | None) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else value.hex


def _at_text(value: datetime | str) -> str:
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).strftime(AT_FORMAT) if value.tzinfo else value.strftime(AT_FORMAT)


def record_hash(fields: Sequence[str]) -> str:
    """Hash of one record: `fields` are seq, id, at, actor_id, actor_name, action, object_type, object_id,
    before, after, prev_hash — all as text (None written as NUL)."""
    return hashlib.sha256(SEP.join(fields).encode("utf-8")).hexdigest()


def write_records(
    session: Session, actor: Actor, at: datetime, pending: Sequence[PendingAudit], first: int | None = None
) -> None:
    """Append `pending` to the chain inside the caller's transaction. `first`: the seq already taken from the
    "audit" counter for them (`sequences.take_many` with other counters in one statement), else taken here."""
    if first is None:
        first = sequences.take(session, COUNTER, len(pending))
    conn = session.connection()
    prev = GENESIS_HASH
    if first > 1:
        prev = conn.execute(_PREV_HASH, {"seq": first - 1}).scalar_one()
    at = at.astimezone(UTC)
    at_text = at.strftime(AT_FORMAT)
    actor_text = _id_text(actor.user_id)
    bind_id = binder(session, _TABLE.c.id)
    at_bound = binder(session, _TABLE.c.at)(at)
    actor_bound = binder(session, _TABLE.c.actor_id)(actor.user_id)
    username = actor.username
    ids = new_ids(len(pending))
    rows = []
    for offset, p in enumerate(pending):
        seq = first + offset
        rid = ids[offset]
        digest = record_hash(
            (
                str(seq), rid.hex, at_text, actor_text, username, p.action, p.object_type,
                p.object_id, NULL if p.before is None else p.before, NULL if p.after is None else p.after, prev,
            )
        )  # fmt: skip
        rows.append(
            (
                seq, bind_id(rid), at_bound, actor_bound, username, p.action, p.object_type, p.object_id,
                p.before, p.after, prev, digest,
            )
        )  # fmt: skip
        prev = digest
    insert_rows(session, _TABLE, _COLUMNS, rows)


# Prebuilt over the Core table, rows handed to the driver's executemany (core.db.bulk): a payment writes a record
# or two, and SQLAlchemy's per-statement and per-row handling costs more than SQLite's insert.
_TABLE = AuditRecord.__table__
_PREV_HASH = select(_TABLE.c.hash).where(_TABLE.c.seq == bindparam("seq"))
_COLUMNS = (
    "seq", "id", "at", "actor_id", "actor_name", "action", "object_type", "object_id", "before_json",
    "after_json", "prev_hash", "hash",
)  # fmt: skip


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


_VERIFY_SQL = (
    "SELECT seq, id, at, actor_id, actor_name, action, object_type, object_id, before_json, after_json, "
    "prev_hash, hash FROM audit_log ORDER BY seq"
)


def _raw_rows(session: Session) -> Iterable[tuple]:
    """Rows as the driver returns them (text on SQLite; uuid/datetime objects on PostgreSQL), in batches."""
    result = session.connection().exec_driver_sql(_VERIFY_SQL)
    while batch := result.fetchmany(VERIFY_BATCH_SIZE):
        yield from batch


def verify(session: Session) -> VerifyResult:
    """Walk the chain; report every broken link by seq (edited, deleted, inserted or cut-off records)."""
    result = VerifyResult()
    problems = result.problems
    expected_seq = 1
    prev = GENESIS_HASH
    sha256 = hashlib.sha256
    checked = 0
    for seq, rid, at, actor_id, actor_name, action, otype, oid, before, after, prev_hash, digest in _raw_rows(
        session
    ):
        checked += 1
        if seq != expected_seq:
            missing = seq > expected_seq
            problems.append(
                {
                    "seq": expected_seq,
                    "problem": "missing" if missing else "duplicate",
                    "message": N_("audit records {first}..{last} are missing")
                    if missing
                    else N_("audit record {first} appears out of order"),
                    "first": expected_seq,
                    "last": seq - 1,
                }
            )
        if prev_hash != prev:
            problems.append(
                {
                    "seq": seq,
                    "problem": "broken_link",
                    "message": N_(
                        "audit record {seq} does not follow the record before it (inserted or deleted)"
                    ),
                    "first": seq,
                }
            )
        text = SEP.join(
            (
                str(seq), rid if rid.__class__ is str else _id_text(rid),
                at if at.__class__ is str else _at_text(at),
                "" if actor_id is None else (actor_id if actor_id.__class__ is str else _id_text(actor_id)),
                actor_name, action, otype, oid, NULL if before is None else before, NULL if after is None else after,
                prev_hash,
            )
        )  # fmt: skip
        if sha256(text.encode("utf-8")).hexdigest() != digest:
            problems.append(
                {
                    "seq": seq,
                    "problem": "altered",
                    "message": N_("audit record {seq} was altered after it was written"),
                    "first": seq,
                }
            )
        prev = digest
        expected_seq = seq + 1
    result.checked = checked
    last = sequences.peek(session, COUNTER)
    if last >= expected_seq:
        problems.append(
            {
                "seq": expected_seq,
                "problem": "truncated",
                "message": N_("audit records {first}..{last} were removed from the end"),
                "first": expected_seq,
                "last": last,
            }
        )
    return result
