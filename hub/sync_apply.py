"""The hub side of sync: site enrolment, the signed-request gate, applying pushed batches (one transaction each,
idempotent, gapless, regression-aware), reference data publishing, and the per-site consistency check.

HTTP-free on purpose: hub/sync_api.py only moves bytes between FastAPI and `HubSync.handle`, so the same code
is tested in-process and behind uvicorn. Event types are applied through a registry of handlers keyed by
(type, schema_version); every event is kept in hub_site_events whether or not a handler knows it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit.log import VerifyResult
from core.context import Context
from core.db import sequences
from core.db.bulk import binder, insert_rows
from core.errors import Conflict, IntegrityProblem, NotFound, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.sync import protocol as p
from core.sync.models import (
    HubLedgerEntry,
    HubLedgerPosting,
    HubReferenceChange,
    HubSite,
    HubSiteEvent,
    HubSiteSummary,
    HubSyncNonce,
)
from core.sync.protocol import SyncRefused, WireEvent
from core.sync.reference import validate_item
from hub import sync_conflicts as conflicts

REFERENCE_COUNTER = "hub_reference"
SITE_NAME_LEN_MAX = 100
REFERENCE_KIND_LEN_MAX = 40
REFERENCE_KEY_LEN_MAX = 120
REFERENCE_PAYLOAD_BYTES_MAX = 256 * 1024

_SITES = HubSite.__table__
_EVENTS = HubSiteEvent.__table__
_NONCES = HubSyncNonce.__table__
_ENTRIES = HubLedgerEntry.__table__
_POSTINGS = HubLedgerPosting.__table__
_REFERENCE = HubReferenceChange.__table__
_SUMMARIES = HubSiteSummary.__table__


def _write_rows(session: Session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Bulk insert of bound rows: COPY on PostgreSQL (an order of magnitude faster than executemany for the
    tens of thousands of rows a batch brings), the executemany path elsewhere.

    (Formatting the COPY text ourselves instead of psycopg's `write_row` was tried: no faster on a quiet
    machine, and one more escaping rule to get right.)"""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        insert_rows(session, table, columns, rows)
        return
    raw = session.connection().connection.dbapi_connection
    q = session.get_bind().dialect.identifier_preparer
    sql = f"COPY {q.format_table(table)} ({', '.join(q.quote(c) for c in columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


# ------------------------------------------------------------------------------------------ handler registry


@dataclass(frozen=True)
class HeldEvent:
    """An event being applied at the hub: the wire fields, and the payload parsed once."""

    site_seq: int
    event_id: uuid.UUID
    type: str
    schema_version: int
    created_at: datetime
    payload: str
    data: Any = field(compare=False)


HubHandler = Callable[[Session, uuid.UUID, list[HeldEvent]], None]
_HANDLERS: dict[tuple[str, int], HubHandler] = {}


def register_hub_handler(event_type: str, schema_version: int, handler: HubHandler) -> None:
    """Apply events of `event_type`/`schema_version` with `handler(session, site_id, events)`.

    The handler runs inside the batch's transaction (it must not commit) and gets the batch's events of that
    type in site_seq order. Raising refuses the whole batch. Events without a handler are only stored.
    """
    _HANDLERS[(event_type, schema_version)] = handler


def _apply_ledger_entries(session: Session, site_id: uuid.UUID, events: list[HeldEvent]) -> None:
    """ "ledger.entries_posted" v1 → hub_ledger_entries/postings keyed by (site_id, entry_id)."""
    bind_id = binder(session, _ENTRIES.c.entry_id)
    bind_date = binder(session, _ENTRIES.c.business_date)
    site = bind_id(site_id)
    entry_rows: list[tuple] = []
    posting_rows: list[tuple] = []
    dates: dict[str, object] = {}
    for event in events:
        entries = event.data.get("entries") if isinstance(event.data, dict) else None
        if not isinstance(entries, list):
            raise SyncRefused(
                N_("Event {seq} carries no ledger entries."), code=p.MALFORMED, seq=event.site_seq
            )
        for entry in entries:
            try:
                entry_id = bind_id(uuid.UUID(entry["entry_id"]))
                iso = entry["business_date"]
                bound_date = dates.get(iso)
                if bound_date is None:
                    bound_date = dates[iso] = bind_date(date.fromisoformat(iso))
                reverses = entry.get("reverses_id")
                debits = credits = 0
                for line_no, (code, amount) in enumerate(entry["postings"], start=1):
                    if not p.is_int(amount) or amount == 0 or not isinstance(code, str):
                        raise ValueError("bad posting")
                    if amount > 0:
                        debits += amount
                    else:
                        credits -= amount
                    posting_rows.append((site, entry_id, line_no, code, amount))
                if debits != credits or debits <= 0:
                    raise ValueError("unbalanced")
                entry_rows.append(
                    (
                        site,
                        entry_id,
                        event.site_seq,
                        entry["book"],
                        bound_date,
                        entry["description"],
                        entry.get("doc_type") or "",
                        entry.get("doc_id") or "",
                        bind_id(uuid.UUID(reverses)) if reverses else None,
                        debits,
                        credits,
                    )
                )
            except (KeyError, TypeError, ValueError, AttributeError):
                raise SyncRefused(
                    N_("Event {seq} carries a malformed or unbalanced ledger entry; the batch was refused."),
                    code=p.MALFORMED,
                    seq=event.site_seq,
                ) from None
    _write_rows(
        session,
        _ENTRIES,
        (
            "site_id",
            "entry_id",
            "site_seq",
            "book",
            "business_date",
            "description",
            "doc_type",
            "doc_id",
            "reverses_id",
            "debits_fen",
            "credits_fen",
        ),
        entry_rows,
    )
    _write_rows(
        session, _POSTINGS, ("site_id", "entry_id", "line_no", "account_code", "amount_fen"), posting_rows
    )


register_hub_handler("ledger.entries_posted", 1, _apply_ledger_entries)


# ------------------------------------------------------------------------------------------------ enrolment


@dataclass(frozen=True)
class Enrolment:
    site_id: uuid.UUID
    key: str  # 64 hex digits; shown once, stored only encrypted


@dataclass(frozen=True)
class HubSiteView:
    site_id: uuid.UUID
    name: str
    status: str
    acked_seq: int
    enrolled_at: datetime
    last_push_at: datetime | None
    clock_skew_s: int | None
    regression_at: datetime | None
    regression_detail: str


def enroll_site(ctx: Context, name: str) -> Enrolment:
    """Enrol a site: a new site id and a random 32-byte signing key (stored encrypted with the hub's PII key)."""
    name = (name or "").strip()
    if not name or len(name) > SITE_NAME_LEN_MAX or any(ord(c) < 32 for c in name):
        raise ValidationError(
            N_("A site name is 1 to {max} characters without control characters."),
            field="name",
            max=SITE_NAME_LEN_MAX,
        )
    key = p.new_key()
    key_enc = ctx.pii.encrypt(key.hex())
    with ctx.uow("hub.sites.manage") as uow:
        s = uow.session
        if s.execute(select(_SITES.c.site_id).where(_SITES.c.name == name)).first() is not None:
            raise Conflict(N_("A site named {name} is already enrolled."), name=name)
        site_id = new_id()
        s.add(
            HubSite(
                site_id=site_id, name=name, key_enc=key_enc, status="active", acked_seq=0, enrolled_at=uow.now
            )
        )
        uow.audit("hub.site_enroll", "hub_site", site_id, after={"name": name})
    return Enrolment(site_id, key.hex())


def _site_view(row: HubSite) -> HubSiteView:
    return HubSiteView(
        row.site_id,
        row.name,
        row.status,
        row.acked_seq,
        row.enrolled_at,
        row.last_push_at,
        row.clock_skew_s,
        row.regression_at,
        row.regression_detail,
    )


def list_sites(ctx: Context) -> list[HubSiteView]:
    with ctx.read("hub.sites.view") as s:
        return [_site_view(r) for r in s.scalars(select(HubSite).order_by(HubSite.name))]


def _find_site(s: Session, site: str) -> HubSite:
    """A site by name or id."""
    row = s.scalars(select(HubSite).where(HubSite.name == site)).first()
    if row is None:
        try:
            row = s.get(HubSite, uuid.UUID(site))
        except ValueError:
            row = None
    if row is None:
        raise NotFound(N_("No site {site} is enrolled at this hub."), site=site)
    return row


def set_site_status(ctx: Context, site: str, status: str) -> None:
    """Disable a site (its requests are refused) or enable it again."""
    if status not in ("active", "disabled"):
        raise ValidationError(N_("A site is active or disabled."), field="status")
    with ctx.uow("hub.sites.manage") as uow:
        row = _find_site(uow.session, site)
        before = row.status
        row.status = status
        uow.audit(
            "hub.site_status", "hub_site", row.site_id, before={"status": before}, after={"status": status}
        )


# --------------------------------------------------------------------------------------------- reference data


def publish_reference(ctx: Context, kind: str, key: str, payload: dict[str, Any]) -> int:
    """Publish a change of hub-owned reference data; returns its version (monotonic, gapless)."""
    if not isinstance(kind, str) or not 0 < len(kind) <= REFERENCE_KIND_LEN_MAX:
        raise ValidationError(N_("A reference data kind is 1 to {max} characters."), field="kind", max=40)
    if not isinstance(key, str) or not 0 < len(key) <= REFERENCE_KEY_LEN_MAX:
        raise ValidationError(N_("A reference data key is 1 to {max} characters."), field="key", max=120)
    if not isinstance(payload, dict):
        raise ValidationError(N_("Reference data is a JSON object."), field="payload")
    try:
        validate_item(kind, key, payload)
    except IntegrityProblem as err:
        raise ValidationError(
            N_("Sites would refuse this {kind} item: {reason}"),
            field="payload",
            kind=kind,
            reason=err.message(),
        ) from None
    text = p.encode(payload).decode("utf-8")
    if len(text.encode("utf-8")) > REFERENCE_PAYLOAD_BYTES_MAX:
        raise ValidationError(N_("The reference data item is too large."), field="payload")
    with ctx.uow("hub.reference.manage") as uow:
        version = sequences.take(uow.session, REFERENCE_COUNTER)
        uow.session.add(
            HubReferenceChange(
                version=version,
                kind=kind,
                key=key,
                payload=text,
                published_at=uow.now,
                published_by=ctx.actor.username[:80],
            )
        )
        uow.audit("hub.reference_publish", "hub_reference", f"{kind}:{key}", after={"version": version})
    return version


# ------------------------------------------------------------------------------------------ the request gate


@dataclass(frozen=True)
class HubReply:
    status: int
    body: bytes
    signature: str | None = None


def _error_reply(err: SyncRefused, key: bytes | None, path: str) -> HubReply:
    body = p.encode({"error": {"code": err.code, "message": err.message("en"), "params": _plain(err.params)}})
    status = p.HTTP_STATUS.get(err.code, 400)
    return HubReply(status, body, p.sign_response(key, path, body) if key else None)


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, str | int) else str(v) for k, v in params.items()}


class HubSync:
    """Answers the sync requests of enrolled sites. One instance per hub process; each request gets its own
    context (a Context belongs to one thread)."""

    def __init__(self, ctx: Context) -> None:
        self._base = ctx
        self._keys: dict[uuid.UUID, bytes] = {}

    def _ctx(self) -> Context:
        return self._base.as_actor(self._base.actor)

    def handle(self, path: str, site_header: str | None, signature: str | None, body: bytes) -> HubReply:
        key: bytes | None = None
        try:
            if len(body) > p.BODY_BYTES_MAX:
                raise SyncRefused(N_("The sync message is too large."), code=p.TOO_LARGE)
            site_id, key, status = self._site_key(site_header)
            if signature is None:
                raise SyncRefused(N_("The request is not signed."), code=p.UNSIGNED)
            if not p.request_signature_ok(key, path, body, signature):
                raise SyncRefused(N_("The request's signature is wrong."), code=p.BAD_SIGNATURE)
            if status != "active":
                raise SyncRefused(N_("This site is disabled at the hub."), code=p.SITE_DISABLED)
            msg = p.decode_object(body)
            if msg.get("site_id") != str(site_id):
                raise SyncRefused(N_("The message names another site."), code=p.MALFORMED)
            nonce = msg.get("nonce")
            if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
                raise SyncRefused(N_("The message carries no valid nonce."), code=p.MALFORMED)
            ctx = self._ctx()
            now = ctx.clock.now()
            sent_at = p.parse_instant(msg.get("sent_at"))
            if abs((sent_at - now).total_seconds()) > p.CLOCK_WINDOW_S:
                raise SyncRefused(
                    N_(
                        "The message was sent at {sent_at} by the site's clock, too far from the hub's {now}: "
                        "a stale (replayed) message, or a site clock more than {hours} hours off."
                    ),
                    code=p.STALE,
                    sent_at=sent_at.isoformat(),
                    now=now.isoformat(),
                    hours=p.CLOCK_WINDOW_S // 3600,
                )
            skew_s = int((sent_at - now).total_seconds())
            handler = {
                p.PATH_STATE: self._state,
                p.PATH_PUSH: self._push,
                p.PATH_EVENTS: self._events,
                p.PATH_REFERENCE: self._reference,
                p.PATH_SUMMARY: self._summary,
            }.get(path)
            if handler is None:
                raise SyncRefused(N_("Unknown sync request {path}."), code=p.MALFORMED, path=path)
            answer = handler(ctx, site_id, msg, skew_s)
            answer["nonce"] = nonce
            answer["hub_time"] = now.isoformat()
            out = p.encode(answer)
            return HubReply(200, out, p.sign_response(key, path, out))
        except SyncRefused as err:
            return _error_reply(err, key, path)

    def _site_key(self, site_header: str | None) -> tuple[uuid.UUID, bytes, str]:
        try:
            site_id = uuid.UUID(site_header or "")
        except ValueError:
            raise SyncRefused(N_("The request names no enrolled site."), code=p.UNKNOWN_SITE) from None
        with self._base.db.reader() as s:
            row = s.execute(
                select(_SITES.c.key_enc, _SITES.c.status).where(_SITES.c.site_id == site_id)
            ).first()
        if row is None:
            raise SyncRefused(N_("The request names no enrolled site."), code=p.UNKNOWN_SITE)
        key = self._keys.get(site_id)
        if key is None:
            key = self._keys[site_id] = bytes.fromhex(self._base.pii.decrypt(row.key_enc))
        return site_id, key, row.status

    # ---------------------------------------------------------------------------------------- requests

    def _state(self, ctx: Context, site_id: uuid.UUID, msg: dict, skew_s: int) -> dict:
        with ctx.read() as s:
            acked = s.execute(select(_SITES.c.acked_seq).where(_SITES.c.site_id == site_id)).scalar_one()
            acked_id = None
            if acked:
                acked_id = s.execute(
                    select(_EVENTS.c.event_id).where(
                        _EVENTS.c.site_id == site_id, _EVENTS.c.site_seq == acked
                    )
                ).scalar_one()
            version = s.execute(select(func.coalesce(func.max(_REFERENCE.c.version), 0))).scalar_one()
        return {
            "acked_seq": acked,
            "acked_event_id": str(acked_id) if acked_id else None,
            "reference_version": int(version),
            "clock_skew_s": skew_s,
        }

    def _push(self, ctx: Context, site_id: uuid.UUID, msg: dict, skew_s: int) -> dict:
        events, first, last, prev = _parse_batch(msg)
        try:
            with ctx.uow("hub.sync.receive") as uow:
                applied, acked = _apply_batch(
                    uow.session, uow.now, site_id, msg["nonce"], events, first, last, prev
                )
                uow.session.execute(
                    update(_SITES)
                    .where(_SITES.c.site_id == site_id)
                    .values(clock_skew_s=skew_s, **({"last_push_at": uow.now} if applied else {}))
                )
        except BatchHeld as held:
            raise _held_refusal(
                conflicts.record_conflicts(self._ctx(), site_id, held.found), held.found
            ) from None
        except SyncRefused as err:
            if err.code == p.REGRESSION:
                self._record_regression(site_id, err)
            raise
        except IntegrityError:
            # Only a uniqueness conflict gets here (event id held under another seq, a nonce raced in).
            raise SyncRefused(
                N_("The batch repeats events or a nonce the hub already holds; it was not applied."),
                code=p.REPLAYED,
            ) from None
        return {"acked_seq": acked, "applied": applied}

    def _record_regression(self, site_id: uuid.UUID, err: SyncRefused) -> None:
        with self._ctx().uow("hub.sync.receive") as uow:
            uow.session.execute(
                update(_SITES)
                .where(_SITES.c.site_id == site_id)
                .values(regression_at=uow.now, regression_detail=err.message("en")[:500])
            )
            uow.audit("hub.site_regression", "hub_site", site_id, after={"detail": err.message("en")[:500]})

    def _events(self, ctx: Context, site_id: uuid.UUID, msg: dict, skew_s: int) -> dict:
        after = msg.get("after_seq")
        limit = msg.get("limit", p.PAGE_EVENTS_MAX)
        if not p.is_int(after) or after < 0 or not p.is_int(limit) or limit < 1:
            raise SyncRefused(N_("The events request is malformed."), code=p.MALFORMED)
        limit = min(limit, p.PAGE_EVENTS_MAX)
        with ctx.read() as s:
            acked = s.execute(select(_SITES.c.acked_seq).where(_SITES.c.site_id == site_id)).scalar_one()
            rows = s.execute(
                select(
                    _EVENTS.c.site_seq,
                    _EVENTS.c.event_id,
                    _EVENTS.c.type,
                    _EVENTS.c.schema_version,
                    _EVENTS.c.created_at,
                    _EVENTS.c.payload,
                )
                .where(_EVENTS.c.site_id == site_id, _EVENTS.c.site_seq > after)
                .order_by(_EVENTS.c.site_seq)
                .limit(limit)
            ).all()
        out, size = [], 0
        for r in rows:
            size += len(r.payload)
            if out and size > p.BATCH_BYTES_TARGET:
                break
            out.append(
                [r.site_seq, str(r.event_id), r.type, r.schema_version, r.created_at.isoformat(), r.payload]
            )
        return {"acked_seq": acked, "events": out}

    def _reference(self, ctx: Context, site_id: uuid.UUID, msg: dict, skew_s: int) -> dict:
        since = msg.get("since_version")
        limit = msg.get("limit", p.PAGE_REFERENCE_MAX)
        if not p.is_int(since) or since < 0 or not p.is_int(limit) or limit < 1:
            raise SyncRefused(N_("The reference data request is malformed."), code=p.MALFORMED)
        with ctx.read() as s:
            rows = s.execute(
                select(_REFERENCE.c.version, _REFERENCE.c.kind, _REFERENCE.c.key, _REFERENCE.c.payload)
                .where(_REFERENCE.c.version > since)
                .order_by(_REFERENCE.c.version)
                .limit(min(limit, p.PAGE_REFERENCE_MAX))
            ).all()
            latest = s.execute(select(func.coalesce(func.max(_REFERENCE.c.version), 0))).scalar_one()
        return {"changes": [list(r) for r in rows], "latest_version": int(latest)}

    def _summary(self, ctx: Context, site_id: uuid.UUID, msg: dict, skew_s: int) -> dict:
        through = msg.get("through_seq")
        totals = msg.get("totals")
        if not p.is_int(through) or through < 0 or not isinstance(totals, list):
            raise SyncRefused(N_("The summary is malformed."), code=p.MALFORMED)
        if len(totals) > p.SUMMARY_ROWS_MAX:
            raise SyncRefused(N_("The sync message is too large."), code=p.TOO_LARGE)
        for row in totals:
            if (
                not isinstance(row, list)
                or len(row) != 5
                or not isinstance(row[0], str)
                or not isinstance(row[1], str)
                or not all(p.is_int(v) for v in row[2:])
            ):
                raise SyncRefused(N_("The summary is malformed."), code=p.MALFORMED)
        try:
            with ctx.uow("hub.sync.receive") as uow:
                _use_nonce(uow.session, uow.now, site_id, msg["nonce"])
                uow.session.add(
                    HubSiteSummary(
                        id=new_id(),
                        site_id=site_id,
                        through_seq=through,
                        totals=p.encode(totals).decode("utf-8"),
                        sent_at=p.parse_instant(msg["sent_at"]),
                        received_at=uow.now,
                    )
                )
        except IntegrityError:
            raise SyncRefused(
                N_("This message was already received (replayed nonce)."), code=p.REPLAYED
            ) from None
        return {"stored": True}


class BatchHeld(Exception):
    """Raised inside a batch's transaction (rolling it back) when it brings records the hub holds otherwise."""

    def __init__(self, found: list[conflicts.Found]) -> None:
        super().__init__(f"{len(found)} conflict(s)")
        self.found = found


def _held_refusal(ids: list[int], found: list[conflicts.Found]) -> SyncRefused:
    first = found[0]
    return SyncRefused(
        N_(
            "The batch is held: event {seq} ({type}) brings {record}, which the hub already holds with other "
            "content. Nothing of the batch was applied. Sync conflict {conflicts} waits for the hub operator "
            "('anju hub sync-conflicts list', then 'resolve'); the push goes on once it is decided."
        ),
        code=p.CONFLICT,
        seq=first.site_seq,
        type=first.event_type,
        record=f"{first.record_kind} {first.record_key}",
        conflicts=", ".join(str(i) for i in ids),
        count=len(ids),
    )


def _parse_batch(msg: dict) -> tuple[list[WireEvent], int, int, str | None]:
    raw = msg.get("events")
    first, last, prev = msg.get("first_seq"), msg.get("last_seq"), msg.get("prev_event_id")
    if not isinstance(raw, list) or not raw or not p.is_int(first) or not p.is_int(last):
        raise SyncRefused(N_("The batch is malformed."), code=p.MALFORMED)
    if len(raw) > p.BATCH_EVENTS_MAX:
        raise SyncRefused(N_("A batch holds at most {max} events."), code=p.TOO_LARGE, max=p.BATCH_EVENTS_MAX)
    events = [WireEvent.from_list(item) for item in raw]
    for offset, event in enumerate(events):
        if event.site_seq != first + offset:
            raise SyncRefused(
                N_("The batch's events are not in consecutive site_seq order from {first}."),
                code=p.OUT_OF_ORDER,
                first=first,
            )
    if events[-1].site_seq != last:
        raise SyncRefused(N_("The batch's last_seq does not match its events."), code=p.OUT_OF_ORDER)
    if (first == 1) != (prev is None) or (prev is not None and not isinstance(prev, str)):
        raise SyncRefused(N_("The batch does not name the event before it."), code=p.MALFORMED)
    return events, first, last, prev


def _use_nonce(s: Session, now: datetime, site_id: uuid.UUID, nonce: str) -> None:
    """Record the nonce (refused if seen) and forget those too old to be accepted again anyway."""
    seen = s.execute(
        select(_NONCES.c.nonce).where(_NONCES.c.site_id == site_id, _NONCES.c.nonce == nonce)
    ).first()
    if seen is not None:
        raise SyncRefused(
            N_("This batch was already received (its nonce was used); it is refused as a replay."),
            code=p.REPLAYED,
        )
    s.execute(
        delete(_NONCES).where(
            _NONCES.c.site_id == site_id,
            _NONCES.c.received_at < now - timedelta(seconds=2 * p.CLOCK_WINDOW_S),
        )
    )
    s.add(HubSyncNonce(site_id=site_id, nonce=nonce, received_at=now))
    s.flush()


def _apply_batch(
    s: Session,
    now: datetime,
    site_id: uuid.UUID,
    nonce: str,
    events: list[WireEvent],
    first: int,
    last: int,
    prev: str | None,
) -> tuple[int, int]:
    """Check and apply one batch in the caller's transaction; returns (events applied, acked_seq)."""
    acked = s.execute(
        select(_SITES.c.acked_seq).where(_SITES.c.site_id == site_id).with_for_update()
    ).scalar_one()
    _use_nonce(s, now, site_id, nonce)
    if first > acked + 1:
        raise SyncRefused(
            N_("The batch starts at site_seq {first} but the hub holds only up to {acked}: a gap."),
            code=p.GAP,
            first=first,
            acked=acked,
        )
    # The event before the batch and every event the batch repeats must be the ones the hub holds: a site
    # restored from an old backup numbers new events with seqs the hub already holds under other ids.
    check_from = max(first - 1, 1)
    check_to = min(last, acked)
    if check_to >= check_from:
        held = dict(
            s.execute(
                select(_EVENTS.c.site_seq, _EVENTS.c.event_id).where(
                    _EVENTS.c.site_id == site_id,
                    _EVENTS.c.site_seq >= check_from,
                    _EVENTS.c.site_seq <= check_to,
                )
            ).all()
        )
        sent = {e.site_seq: e.event_id for e in events}
        if prev is not None:
            sent[first - 1] = prev
        for seq in range(check_from, check_to + 1):
            if str(held.get(seq)) != sent.get(seq):
                raise SyncRefused(
                    N_(
                        "Regression: the hub holds site_seq {seq} as another event; the site database was "
                        "probably restored from an old backup. Run 'anju sync recover' at the site."
                    ),
                    code=p.REGRESSION,
                    seq=seq,
                )
    new = [e for e in events if e.site_seq > acked]
    if not new:
        return 0, acked  # the whole batch is already held: idempotent
    held_events = []
    for e in new:
        try:
            data = json.loads(e.payload)
            held_events.append(
                HeldEvent(
                    e.site_seq,
                    uuid.UUID(e.event_id),
                    e.type,
                    e.schema_version,
                    p.parse_instant(e.created_at),
                    e.payload,
                    data,
                )
            )
        except ValueError:
            raise SyncRefused(N_("Event {seq} is malformed."), code=p.MALFORMED, seq=e.site_seq) from None
    bind_id = binder(s, _EVENTS.c.event_id)
    bind_at = binder(s, _EVENTS.c.created_at)
    site = bind_id(site_id)
    received = bind_at(now)
    _write_rows(
        s,
        _EVENTS,
        ("site_id", "site_seq", "event_id", "type", "schema_version", "payload", "created_at", "received_at"),
        [
            (
                site,
                e.site_seq,
                bind_id(e.event_id),
                e.type,
                e.schema_version,
                e.payload,
                bind_at(e.created_at),
                received,
            )
            for e in held_events
        ],
    )
    by_handler: dict[tuple[str, int], list[HeldEvent]] = {}
    for e in held_events:
        if (e.type, e.schema_version) in _HANDLERS:
            by_handler.setdefault((e.type, e.schema_version), []).append(e)
    batch = conflicts.begin_batch(s, site_id)
    try:
        for handler_key, group in by_handler.items():
            _HANDLERS[handler_key](s, site_id, group)
    finally:
        conflicts.end_batch(s)
    if batch.found:  # every conflict of the batch, not only the first; the caller records them
        raise BatchHeld(batch.found)
    conflicts.mark_applied(s, batch, now)
    done = s.execute(
        update(_SITES)
        .where(_SITES.c.site_id == site_id, _SITES.c.acked_seq == acked)
        .values(acked_seq=last, regression_at=None, regression_detail="")
    )
    if done.rowcount != 1:  # compare-and-set: a concurrent push moved the mark first
        raise SyncRefused(
            N_("Another push of this site ran at the same time; try again."),
            code=p.GAP,
            first=first,
            acked=acked,
        )
    return len(new), last


# ------------------------------------------------------------------------------------------ consistency check


DayTotals = dict[tuple[str, str], tuple[int, int, int]]  # (book, ISO date) → (entries, debits, credits)


def hub_totals(s: Session, site_id: uuid.UUID, through_seq: int | None = None) -> DayTotals:
    """The hub's ledger totals of one site per book and business day (up to `through_seq` when given)."""
    stmt = select(
        _ENTRIES.c.book,
        _ENTRIES.c.business_date,
        func.count(),
        func.sum(_ENTRIES.c.debits_fen),
        func.sum(_ENTRIES.c.credits_fen),
    ).where(_ENTRIES.c.site_id == site_id)
    if through_seq is not None:
        stmt = stmt.where(_ENTRIES.c.site_seq <= through_seq)
    stmt = stmt.group_by(_ENTRIES.c.book, _ENTRIES.c.business_date)
    return {(r[0], r[1].isoformat()): (int(r[2]), int(r[3]), int(r[4])) for r in s.execute(stmt)}


@dataclass(frozen=True)
class CentreTotal:
    site: str
    book: str
    business_date: date
    entries: int
    debits_fen: int


def centre_totals(
    ctx: Context, date_from: date | None = None, date_to: date | None = None
) -> list[CentreTotal]:
    """Centre-level ledger totals per site, book and business day, over every site's entries held here."""
    with ctx.read("hub.sites.view") as s:
        stmt = (
            select(
                _SITES.c.name,
                _ENTRIES.c.book,
                _ENTRIES.c.business_date,
                func.count(),
                func.sum(_ENTRIES.c.debits_fen),
            )
            .join(_SITES, _SITES.c.site_id == _ENTRIES.c.site_id)
            .group_by(_SITES.c.name, _ENTRIES.c.book, _ENTRIES.c.business_date)
            .order_by(_SITES.c.name, _ENTRIES.c.book, _ENTRIES.c.business_date)
        )
        if date_from is not None:
            stmt = stmt.where(_ENTRIES.c.business_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(_ENTRIES.c.business_date <= date_to)
        return [CentreTotal(r[0], r[1], r[2], int(r[3]), int(r[4])) for r in s.execute(stmt)]


def verify_site(ctx: Context, site: str) -> VerifyResult:
    """Compare the site's latest signed summary (its own totals per book and day, as of one outbox seq) with
    the entries the hub holds from that site up to the same seq. `checked` counts the (book, day) pairs."""
    result = VerifyResult()
    with ctx.read("hub.sites.view") as s:
        row = _find_site(s, site)
        summary = s.execute(
            select(_SUMMARIES.c.through_seq, _SUMMARIES.c.totals)
            .where(_SUMMARIES.c.site_id == row.site_id)
            .order_by(_SUMMARIES.c.received_at.desc(), _SUMMARIES.c.through_seq.desc())
            .limit(1)
        ).first()
        if summary is None:
            result.problems.append(
                {
                    "problem": "no_summary",
                    "message": N_("Site {site} has sent no summary yet; run 'anju sync' at the site."),
                    "site": row.name,
                }
            )
            return result
        if row.acked_seq < summary.through_seq:
            result.problems.append(
                {
                    "problem": "behind",
                    "message": N_(
                        "The hub holds events up to {acked} but the site's summary is as of {through}."
                    ),
                    "acked": row.acked_seq,
                    "through": summary.through_seq,
                }
            )
        theirs: DayTotals = {(r[0], r[1]): (r[2], r[3], r[4]) for r in json.loads(summary.totals)}
        ours = hub_totals(s, row.site_id, summary.through_seq)
    for book, day in sorted(set(theirs) | set(ours)):
        result.checked += 1
        site_t = theirs.get((book, day), (0, 0, 0))
        hub_t = ours.get((book, day), (0, 0, 0))
        if site_t != hub_t:
            result.problems.append(
                {
                    "problem": "totals_differ",
                    "message": N_(
                        "Book {book} on {day}: the site has {site_entries} entries, debits {site_debits_fen} fen, "
                        "credits {site_credits_fen} fen; the hub has {hub_entries}, {hub_debits_fen}, {hub_credits_fen}."
                    ),
                    "book": book,
                    "day": day,
                    "site_entries": site_t[0],
                    "site_debits_fen": site_t[1],
                    "site_credits_fen": site_t[2],
                    "hub_entries": hub_t[0],
                    "hub_debits_fen": hub_t[1],
                    "hub_credits_fen": hub_t[2],
                }
            )
    return result


def held_event_ids(ctx: Context, site: str) -> list[tuple[int, uuid.UUID]]:
    """(site_seq, event_id) of every event held from `site` (tests and audits)."""
    with ctx.read("hub.sites.view") as s:
        row = _find_site(s, site)
        return [
            (r[0], r[1])
            for r in s.execute(
                select(_EVENTS.c.site_seq, _EVENTS.c.event_id)
                .where(_EVENTS.c.site_id == row.site_id)
                .order_by(_EVENTS.c.site_seq)
            )
        ]


# Typed business records (payments, refunds, receipts, bill runs) register their handlers on import.
import hub.sync_records  # noqa: E402, F401
