"""Writing and verifying the audit chain.

hash(n) = SHA-256 of the record's fields and hash(n-1), joined with a unit separator. `seq` comes from the
gapless counter "audit", so an edited, deleted or inserted record breaks the chain at a named place; the
counter also catches records cut off the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.audit.models import AuditRecord
from core.db import sequences
from core.ids import new_id

if TYPE_CHECKING:
    from core.context import Actor
    from core.uow import PendingAudit

GENESIS_HASH = "0" * 64
COUNTER = "audit"
VERIFY_BATCH_SIZE = 20_000


def record_hash(
    seq: int,
    record_id: str,
    at: datetime,
    actor_id: str,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    before_json: str | None,
    after_json: str | None,
    prev_hash: str,
) -> str:
    text = "\x1f".join(
        (
            str(seq),
            record_id,
            at.strftime("%Y-%m-%dT%H:%M:%S.%f"),
            actor_id,
            actor_name,
            action,
            object_type,
            object_id,
            before_json if before_json is not None else "\x00",
            after_json if after_json is not None else "\x00",
            prev_hash,
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_records(session: Session, actor: Actor, at: datetime, pending: Sequence[PendingAudit]) -> None:
    """Append `pending` to the chain inside the caller's transaction."""
    first = sequences.take(session, COUNTER, len(pending))
    prev = GENESIS_HASH
    if first > 1:
        prev = session.execute(select(AuditRecord.hash).where(AuditRecord.seq == first - 1)).scalar_one()
    actor_id = str(actor.user_id) if actor.user_id else ""
    rows = []
    for offset, p in enumerate(pending):
        seq = first + offset
        rid = new_id()
        digest = record_hash(
            seq,
            str(rid),
            at,
            actor_id,
            actor.username,
            p.action,
            p.object_type,
            p.object_id,
            p.before,
            p.after,
            prev,
        )
        rows.append(
            {
                "seq": seq,
                "id": rid,
                "at": at,
                "actor_id": actor.user_id,
                "actor_name": actor.username,
                "action": p.action,
                "object_type": p.object_type,
                "object_id": p.object_id,
                "before_json": p.before,
                "after_json": p.after,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    session.execute(insert(AuditRecord), rows)


@dataclass
class VerifyResult:
    checked: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "problems": self.problems}


def _rows(session: Session) -> Iterable[tuple]:
    cols = (
        AuditRecord.seq,
        AuditRecord.id,
        AuditRecord.at,
        AuditRecord.actor_id,
        AuditRecord.actor_name,
        AuditRecord.action,
        AuditRecord.object_type,
        AuditRecord.object_id,
        AuditRecord.before_json,
        AuditRecord.after_json,
        AuditRecord.prev_hash,
        AuditRecord.hash,
    )
    stmt = select(*cols).order_by(AuditRecord.seq).execution_options(yield_per=VERIFY_BATCH_SIZE)
    yield from session.execute(stmt)


def verify(session: Session) -> VerifyResult:
    """Walk the chain; report every broken link by seq (edited, deleted, inserted or cut-off records)."""
    from core.i18n import N_

    result = VerifyResult()
    expected_seq = 1
    prev = GENESIS_HASH
    for seq, rid, at, actor_id, actor_name, action, otype, oid, before, after, prev_hash, digest in _rows(
        session
    ):
        result.checked += 1
        if seq != expected_seq:
            kind = "missing" if seq > expected_seq else "duplicate"
            result.problems.append(
                {
                    "seq": expected_seq,
                    "problem": kind,
                    "message": N_("audit records {first}..{last} are missing")
                    if kind == "missing"
                    else N_("audit record {first} appears out of order"),
                    "first": expected_seq,
                    "last": seq - 1,
                }
            )
        if prev_hash != prev:
            result.problems.append(
                {
                    "seq": seq,
                    "problem": "broken_link",
                    "message": N_(
                        "audit record {seq} does not follow the record before it (inserted or deleted)"
                    ),
                    "first": seq,
                }
            )
        actual = record_hash(
            seq,
            str(rid),
            at,
            str(actor_id) if actor_id else "",
            actor_name,
            action,
            otype,
            oid,
            before,
            after,
            prev_hash,
        )
        if actual != digest:
            result.problems.append(
                {
                    "seq": seq,
                    "problem": "altered",
                    "message": N_("audit record {seq} was altered after it was written"),
                    "first": seq,
                }
            )
        prev = digest
        expected_seq = seq + 1
    last = sequences.peek(session, COUNTER)
    if last >= expected_seq:
        result.problems.append(
            {
                "seq": expected_seq,
                "problem": "truncated",
                "message": N_("audit records {first}..{last} were removed from the end"),
                "first": expected_seq,
                "last": last,
            }
        )
    return result
