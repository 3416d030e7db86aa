"""The site side of sync: enrolment, one round (backup, push, pull, summary), status, schedule, and recovery
of a site restored from an old backup.

A round is safe to cut or kill at any point: the hub applies each batch in one transaction and tells the site
the highest site_seq it holds; the next attempt resumes from there. Nothing at the site is changed by a push.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, update

from core.context import Context
from core.errors import SiteError, ValidationError
from core.i18n import N_
from core.ids import new_id
from core.sync import protocol as p
from core.sync.models import OutboxEvent, SyncRound, SyncState
from core.sync.protocol import SyncError, SyncRefused

KEY_FILE = "sync.key"
BACKUP_PREFIX = "sync-"
BACKUPS_KEEP_DEFAULT = 7
TIMEOUT_S = 60.0
ROUND_BATCHES_MAX = 1_000_000  # a bound on the push loop; far above any real backlog / BATCH_EVENTS_MAX
ERROR_TEXT_MAX = 1000
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

_OUTBOX = OutboxEvent.__table__
Progress = Callable[[str, int, int], None]  # (phase, done, total)


# ---------------------------------------------------------------------------------------------- enrolment


def enroll(ctx: Context, url: str, hub_site_id: str, key_text: str) -> None:
    """Store the hub's URL, the site id it gave, and the key (keys/sync.key, mode 0600) at this site."""
    url = (url or "").strip().rstrip("/")
    if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", url) or len(url) > 500:
        raise ValidationError(N_("The hub URL must start with http:// or https://."), field="url")
    try:
        site_id = uuid.UUID(hub_site_id)
    except (ValueError, TypeError):
        raise ValidationError(N_("The site id is not valid."), field="site_id") from None
    key = p.parse_key(key_text)
    if ctx.home is None:
        raise SiteError(N_("No site directory: the sync key cannot be stored."))
    ctx.require("sync.manage")
    keys_dir = ctx.home.keys_dir
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = keys_dir / f".{KEY_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    with ctx.uow("sync.manage") as uow:
        state = uow.session.get(SyncState, 1)
        before = None
        if state is None:
            state = SyncState(
                id=1, acked_seq=0, reference_version=0, summary_seq=0, backups_keep=BACKUPS_KEEP_DEFAULT
            )
            uow.session.add(state)
        else:
            before = {"hub_url": state.hub_url, "hub_site_id": str(state.hub_site_id)}
        state.hub_url, state.hub_site_id, state.key_file, state.enrolled_at = url, site_id, KEY_FILE, uow.now
        uow.audit(
            "sync.enroll", "sync_state", 1, before=before, after={"hub_url": url, "hub_site_id": str(site_id)}
        )
        # The key file goes into place only with the row that names it.
        uow.after_commit(lambda: os.replace(tmp, keys_dir / KEY_FILE))


def _load_state(ctx: Context) -> SyncState:
    with ctx.read() as s:
        state = s.get(SyncState, 1)
    if state is None:
        raise SyncError(
            N_("This site is not enrolled at a hub; run 'anju sync enroll URL --site-id … --key-file …'."),
            code="not_enrolled",
        )
    return state


def _read_key(ctx: Context, state: SyncState) -> bytes:
    assert ctx.home is not None
    path = ctx.home.keys_dir / state.key_file
    try:
        return p.parse_key(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        raise SyncError(
            N_("The sync key {path} is missing; enrol the site again."), code="no_key", path=str(path)
        ) from None


# ------------------------------------------------------------------------------------------------- client


class HubClient:
    """Signed requests to the hub; every answer's signature and nonce are checked before it is believed."""

    def __init__(
        self,
        url: str,
        site_id: uuid.UUID,
        key: bytes,
        ctx: Context,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.site_id = site_id
        self._key = key
        self._ctx = ctx
        self._http = httpx.Client(base_url=url, transport=transport, timeout=TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    def call(self, path: str, fields: dict[str, Any]) -> dict[str, Any]:
        nonce = p.new_nonce()
        body = p.encode(
            {
                "site_id": str(self.site_id),
                "nonce": nonce,
                "sent_at": self._ctx.clock.now().isoformat(),
                **fields,
            }
        )
        return self.send(path, body, nonce)

    def send(self, path: str, body: bytes, nonce: str) -> dict[str, Any]:
        headers = {
            p.HEADER_SITE: str(self.site_id),
            p.HEADER_SIGNATURE: p.sign_request(self._key, path, body),
            "Content-Type": "application/json",
        }
        try:
            response = self._http.post(path, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SyncError(
                N_("The hub cannot be reached ({detail}); nothing was lost, run the sync again later."),
                code="unreachable",
                detail=type(exc).__name__,
            ) from None
        content = response.content
        if response.status_code != 200:
            error = {}
            with contextlib.suppress(SyncRefused):
                error = p.decode_object(content).get("error") or {}
            code = error.get("code") if isinstance(error, dict) else None
            if code == p.CONFLICT:
                raise _held(error.get("params"))
            raise SyncRefused(
                N_("The hub refused the request ({refusal}): {reason}"),
                code=code if isinstance(code, str) else "http_error",
                refusal=code if isinstance(code, str) else "http_error",
                reason=str(error.get("message") if isinstance(error, dict) else "")
                or f"HTTP {response.status_code}",
            )
        if not p.response_signature_ok(self._key, path, content, response.headers.get(p.HEADER_SIGNATURE)):
            raise SyncError(
                N_("The hub's answer is not signed with this site's key; it was ignored."), code="bad_answer"
            )
        answer = p.decode_object(content)
        if answer.get("nonce") != nonce:
            raise SyncError(
                N_("The hub's answer belongs to another request; it was ignored."), code="bad_answer"
            )
        return answer


def _held(params: Any) -> SyncRefused:
    """The hub holds this site's batch back: a record it already holds with other content (a number reissued
    after a restore from an old backup). The message names the conflict the hub operator decides."""
    params = params if isinstance(params, dict) else {}
    return SyncRefused(
        N_(
            "The hub holds this site's events back from event {seq} on: {record} is already at the hub with other "
            "content. Sync conflict {conflicts} waits for a decision at the hub ('anju hub sync-conflicts "
            "resolve'); the next sync after it goes on by itself, nothing is lost."
        ),
        code=p.CONFLICT,
        seq=str(params.get("seq", "?")),
        record=str(params.get("record", "?")),
        conflicts=str(params.get("conflicts", "?")),
    )


def _client(ctx: Context, transport: httpx.BaseTransport | None) -> tuple[SyncState, HubClient]:
    state = _load_state(ctx)
    return state, HubClient(state.hub_url, state.hub_site_id, _read_key(ctx, state), ctx, transport)


# -------------------------------------------------------------------------------------------------- round


@dataclass(frozen=True)
class RoundResult:
    pushed: int
    pulled: int
    acked_seq: int


def _local_max(s) -> int:
    return s.execute(select(func.coalesce(func.max(_OUTBOX.c.site_seq), 0))).scalar_one()


def _event_id_at(s, seq: int) -> str | None:
    value = s.execute(select(_OUTBOX.c.event_id).where(_OUTBOX.c.site_seq == seq)).scalar_one_or_none()
    return str(value) if value is not None else None


def _regression(acked: int, local_max: int) -> SyncError:
    return SyncError(
        N_(
            "Regression: the hub holds this site's events up to {acked}, which this database does not have "
            "(its last is {local}); it was probably restored from an old backup. Run 'anju sync recover'."
        ),
        code=p.REGRESSION,
        acked=acked,
        local=local_max,
    )


def _check_no_regression(ctx: Context, answer: dict[str, Any]) -> int:
    acked = answer.get("acked_seq")
    if not p.is_int(acked) or acked < 0:
        raise SyncError(N_("The hub's answer is malformed."), code="bad_answer")
    with ctx.read() as s:
        local_max = _local_max(s)
        if acked > local_max:
            raise _regression(acked, local_max)
        if acked and _event_id_at(s, acked) != answer.get("acked_event_id"):
            raise _regression(acked, local_max)
    return acked


def backup_before_round(ctx: Context, keep: int) -> Path | None:
    """The online backup a round starts with, in backups/ as sync-<UTC time>.db; only the newest `keep` stay."""
    from core.db.backup import checksum_path, create_backup

    db_path = ctx.db.path
    if ctx.home is None or db_path is None:
        return None
    backups = ctx.home.backups_dir
    backups.mkdir(exist_ok=True)
    stamp = ctx.clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    dest = backups / f"{BACKUP_PREFIX}{stamp}.db"
    n = 1
    while dest.exists():
        n += 1
        dest = backups / f"{BACKUP_PREFIX}{stamp}-{n}.db"
    create_backup(db_path, dest)
    for old in sorted(backups.glob(f"{BACKUP_PREFIX}*.db"))[:-keep]:
        old.unlink(missing_ok=True)
        checksum_path(old).unlink(missing_ok=True)
    # A round killed during its backup leaves the temporary copy behind; it is never a valid backup.
    for leftover in backups.glob(f".{BACKUP_PREFIX}*.tmp"):
        if leftover.stat().st_mtime < dest.stat().st_mtime:
            leftover.unlink(missing_ok=True)
    return dest


def _read_batch(ctx: Context, first: int) -> list[list[Any]]:
    """The events from site_seq `first` on, as wire lists, up to the batch limits. Reads through its own
    read-only session (never the caller's transaction), so the next batch can be read on another thread while
    the hub applies the current one."""
    with ctx.db.reader() as s:
        rows = s.execute(
            select(
                _OUTBOX.c.site_seq,
                _OUTBOX.c.event_id,
                _OUTBOX.c.type,
                _OUTBOX.c.schema_version,
                _OUTBOX.c.created_at,
                _OUTBOX.c.payload,
            )
            .where(_OUTBOX.c.site_seq >= first)
            .order_by(_OUTBOX.c.site_seq)
            .limit(p.BATCH_EVENTS_MAX)
        ).all()
    batch, size = [], 0
    for r in rows:
        size += len(r.payload) + 100
        if batch and size > p.BATCH_BYTES_TARGET:
            break
        batch.append(
            [r.site_seq, str(r.event_id), r.type, r.schema_version, r.created_at.isoformat(), r.payload]
        )
    return batch


def push(ctx: Context, client: HubClient, acked: int, progress: Progress | None = None) -> tuple[int, int]:
    """Push every event after `acked` in batches; returns (events the hub applied, its acked_seq).

    While the hub applies one batch, the next one is read and prepared on a helper thread (the two overlap:
    the hub is another process, and this thread only waits on the socket meanwhile). A prepared batch is used
    only if the hub acknowledged exactly up to the event before it; otherwise it is read again from the mark.
    """
    with ctx.read() as s:
        total = _local_max(s) - acked
        prev = _event_id_at(s, acked) if acked else None
    pushed = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-read") as reader:
        batch = _read_batch(ctx, acked + 1)
        for _ in range(ROUND_BATCHES_MAX):
            if not batch:
                break
            ahead = reader.submit(_read_batch, ctx, batch[-1][0] + 1)
            try:
                answer = client.call(
                    p.PATH_PUSH,
                    {
                        "first_seq": batch[0][0],
                        "last_seq": batch[-1][0],
                        "prev_event_id": prev,
                        "events": batch,
                    },
                )
                new_acked = answer.get("acked_seq")
                if not p.is_int(new_acked) or new_acked < batch[-1][0]:
                    raise SyncError(N_("The hub did not acknowledge the batch."), code="bad_answer")
            except BaseException:
                ahead.cancel()
                raise
            pushed += answer.get("applied", 0)
            if new_acked == batch[-1][0]:
                acked, prev = new_acked, batch[-1][1]
                _remember_acked(ctx, acked)
                batch = ahead.result()
            else:  # the hub already held more than this batch: go on from its mark, naming the event there
                ahead.cancel()
                acked = new_acked
                _remember_acked(ctx, acked)
                with ctx.read() as s:
                    prev = _event_id_at(s, acked)
                batch = _read_batch(ctx, acked + 1)
            if progress:
                progress("push", min(pushed, total), total)
    return pushed, acked


def _remember_acked(ctx: Context, acked: int) -> None:
    with ctx.uow("sync.run") as uow:
        uow.session.execute(update(SyncState).where(SyncState.id == 1).values(acked_seq=acked))


def pull_reference(ctx: Context, client: HubClient, since: int, progress: Progress | None = None) -> int:
    """Pull reference data changes after version `since`, page by page, each page applied in one transaction."""
    from core.sync.reference import apply_changes

    pulled = 0
    for _ in range(ROUND_BATCHES_MAX):
        answer = client.call(p.PATH_REFERENCE, {"since_version": since, "limit": p.PAGE_REFERENCE_MAX})
        changes = answer.get("changes")
        if not isinstance(changes, list) or not changes:
            break
        versions = [c[0] for c in changes]
        if versions != sorted(versions) or versions[0] <= since:
            raise SyncError(N_("The hub's answer is malformed."), code="bad_answer")
        with ctx.uow("sync.run") as uow:
            pulled += apply_changes(uow, changes)
            uow.session.execute(
                update(SyncState).where(SyncState.id == 1).values(reference_version=versions[-1])
            )
        since = versions[-1]
        if progress:
            progress("pull", pulled, max(pulled, answer.get("latest_version", since) - since + pulled))
    return pulled


def site_totals(ctx: Context) -> tuple[int, list[list[Any]]]:
    """The site's ledger totals per book and business day with the outbox seq they are as of (one snapshot)."""
    from core.ledger.models import Book, JournalEntry, Posting

    e, b, po = JournalEntry.__table__, Book.__table__, Posting.__table__
    amount = po.c.amount_fen
    with ctx.read() as s:
        through = _local_max(s)
        per_entry = (
            select(
                po.c.entry_id,
                func.sum(amount).filter(amount > 0).label("d"),
                func.sum(-amount).filter(amount < 0).label("c"),
            )
            .group_by(po.c.entry_id)
            .subquery()
        )
        rows = s.execute(
            select(
                b.c.code, e.c.business_date, func.count(), func.sum(per_entry.c.d), func.sum(per_entry.c.c)
            )
            .select_from(e.join(b, b.c.id == e.c.book_id).join(per_entry, per_entry.c.entry_id == e.c.id))
            .group_by(b.c.code, e.c.business_date)
            .order_by(b.c.code, e.c.business_date)
        ).all()
    return through, [[r[0], r[1].isoformat(), int(r[2]), int(r[3] or 0), int(r[4] or 0)] for r in rows]


def send_summary(ctx: Context, client: HubClient, force: bool = False) -> bool:
    """Send the site's signed totals unless the hub already has them as of the current outbox seq."""
    with ctx.read() as s:
        if not force and _local_max(s) == _load_state(ctx).summary_seq:
            return False
    through, totals = site_totals(ctx)
    client.call(p.PATH_SUMMARY, {"through_seq": through, "totals": totals})
    with ctx.uow("sync.run") as uow:
        uow.session.execute(update(SyncState).where(SyncState.id == 1).values(summary_seq=through))
    return True


def run_round(
    ctx: Context,
    *,
    transport: httpx.BaseTransport | None = None,
    progress: Progress | None = None,
    backup: bool = True,
) -> RoundResult:
    """One sync round: online backup, push all pending events, pull reference data, send the signed summary.

    The round is recorded in sync_rounds whether it succeeds or fails; a failure raises after recording.
    """
    ctx.require("sync.run")
    started = ctx.clock.now()
    state, client = _client(ctx, transport)
    pushed = pulled = 0
    acked = state.acked_seq
    try:
        if backup:
            if progress:
                progress("backup", 0, 1)
            backup_before_round(ctx, state.backups_keep)
        acked = _check_no_regression(ctx, client.call(p.PATH_STATE, {}))
        pushed, acked = push(ctx, client, acked, progress)
        pulled = pull_reference(ctx, client, _load_state(ctx).reference_version, progress)
        send_summary(ctx, client)
    except Exception as err:
        _record_round(ctx, started, "failed", pushed, pulled, acked, err)
        raise
    finally:
        client.close()
    _record_round(ctx, started, "ok", pushed, pulled, acked, None)
    return RoundResult(pushed, pulled, acked)


def _record_round(
    ctx: Context, started: datetime, status: str, pushed: int, pulled: int, acked: int, err: Exception | None
) -> None:
    code = getattr(err, "code", type(err).__name__) if err else ""
    text = (err.message("en") if hasattr(err, "message") else str(err)) if err else ""
    try:
        with ctx.uow("sync.run") as uow:
            uow.session.add(
                SyncRound(
                    id=new_id(),
                    started_at=started,
                    finished_at=ctx.clock.now(),
                    status=status,
                    pushed=pushed,
                    pulled=pulled,
                    acked_seq=acked,
                    error_code=str(code)[:40],
                    error=text[:ERROR_TEXT_MAX],
                )
            )
    except Exception:
        if err is None:
            raise
        # Recording a failed round must not hide why it failed.


# ------------------------------------------------------------------------------------------------- status


@dataclass(frozen=True)
class RoundView:
    started_at: datetime
    finished_at: datetime
    status: str
    pushed: int
    pulled: int
    acked_seq: int
    error_code: str
    error: str


@dataclass(frozen=True)
class SyncStatus:
    enrolled: bool
    hub_url: str | None
    hub_site_id: str | None
    acked_seq: int
    local_seq: int
    pending: int
    oldest_pending_at: datetime | None
    lag_s: int | None  # how long the oldest event not yet at the hub has waited
    reference_version: int
    schedule_at: str | None
    last_round: RoundView | None
    last_success_at: datetime | None


def status(ctx: Context) -> SyncStatus:
    with ctx.read("sync.view") as s:
        state = s.get(SyncState, 1)
        acked = state.acked_seq if state else 0
        local = _local_max(s)
        oldest = s.execute(
            select(func.min(_OUTBOX.c.created_at)).where(_OUTBOX.c.site_seq > acked)
        ).scalar_one()
        last = s.scalars(
            select(SyncRound).order_by(SyncRound.started_at.desc(), SyncRound.finished_at.desc()).limit(1)
        ).first()
        last_ok = s.execute(
            select(func.max(SyncRound.finished_at)).where(SyncRound.status == "ok")
        ).scalar_one()
    if oldest is not None and oldest.tzinfo is None:  # an aggregate bypasses the column type on SQLite
        oldest = datetime.fromisoformat(str(oldest)).replace(tzinfo=ctx.clock.now().tzinfo)
    if last_ok is not None and not isinstance(last_ok, datetime):
        last_ok = datetime.fromisoformat(str(last_ok))
    if last_ok is not None and last_ok.tzinfo is None:
        last_ok = last_ok.replace(tzinfo=ctx.clock.now().tzinfo)
    return SyncStatus(
        enrolled=state is not None,
        hub_url=state.hub_url if state else None,
        hub_site_id=str(state.hub_site_id) if state else None,
        acked_seq=acked,
        local_seq=local,
        pending=max(local - acked, 0),
        oldest_pending_at=oldest,
        lag_s=int((ctx.clock.now() - oldest).total_seconds()) if oldest else None,
        reference_version=state.reference_version if state else 0,
        schedule_at=state.schedule_at if state else None,
        last_round=(
            RoundView(
                last.started_at,
                last.finished_at,
                last.status,
                last.pushed,
                last.pulled,
                last.acked_seq,
                last.error_code,
                last.error,
            )
            if last
            else None
        ),
        last_success_at=last_ok,
    )


# ----------------------------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Schedule:
    at: str
    systemd_service: str
    systemd_timer: str
    cron_line: str


def schedule(ctx: Context, at: str, anju_command: str = "anju") -> Schedule:
    """Store the wish to sync daily at `at` (HH:MM, site local time) and the timer lines that do it."""
    at = (at or "").strip()
    m = _TIME_RE.match(at)
    if not m:
        raise ValidationError(N_("The time is HH:MM, e.g. 02:00."), field="at")
    state = _load_state(ctx)
    with ctx.uow("sync.manage") as uow:
        uow.session.execute(update(SyncState).where(SyncState.id == 1).values(schedule_at=at))
        uow.audit("sync.schedule", "sync_state", 1, before={"at": state.schedule_at}, after={"at": at})
    home = str(ctx.home.root) if ctx.home else ""
    command = f"{anju_command} --home {home} sync" if home else f"{anju_command} sync"
    return Schedule(
        at=at,
        systemd_service=(
            "[Unit]\nDescription=Anju sync with the central hub\n\n"
            f"[Service]\nType=oneshot\nExecStart={command}\n"
        ),
        systemd_timer=(
            "[Unit]\nDescription=Anju nightly sync\n\n"
            f"[Timer]\nOnCalendar=*-*-* {at}:00\nPersistent=true\nRandomizedDelaySec=300\n\n"
            "[Install]\nWantedBy=timers.target\n"
        ),
        cron_line=f"{int(m.group(2))} {int(m.group(1))} * * * {command}",
    )


# ------------------------------------------------------------------------------------------------ recover


@dataclass(frozen=True)
class RecoverResult:
    recovered: int  # events the hub held that this site had lost, now back in the outbox
    entries: int  # journal entries re-created from them
    renumbered: int  # events made here after the restore, moved after the hub's events
    acked_seq: int


def recover(ctx: Context, *, transport: httpx.BaseTransport | None = None) -> RecoverResult:
    """Bring back the events the hub holds beyond what this (restored) database has.

    Events already matching the hub's are kept; events made here after the restore, which the hub does not
    have, are renumbered after the hub's last seq (so they push next round); the hub's events are put back
    into the outbox with their original ids and the ledger records they carry are re-created. All in one
    transaction. See core/sync/recover.py for what is and is not re-created.
    """
    from core.db import sequences
    from core.sync.outbox import COUNTER
    from core.sync.recover import reapply_ledger_event

    ctx.require("sync.manage")
    state, client = _client(ctx, transport)
    try:
        hub_acked = client.call(p.PATH_STATE, {}).get("acked_seq")
        if not p.is_int(hub_acked):
            raise SyncError(N_("The hub's answer is malformed."), code="bad_answer")
        # Everything up to the acked_seq this database remembers was confirmed by the hub before the backup
        # was taken, so it is identical on both sides; compare from there on.
        cursor = min(state.acked_seq, hub_acked)
        fetched: list[list[Any]] = []
        while cursor < hub_acked:
            page = (
                client.call(p.PATH_EVENTS, {"after_seq": cursor, "limit": p.PAGE_EVENTS_MAX}).get("events")
                or []
            )
            if not page or page[0][0] != cursor + 1:
                raise SyncError(N_("The hub's answer is malformed."), code="bad_answer")
            fetched.extend(page)
            cursor = page[-1][0]
    finally:
        client.close()
    with ctx.uow("sync.manage") as uow:
        s = uow.session
        local_max = _local_max(s)
        local_ids = {
            seq: str(eid)
            for seq, eid in s.execute(
                select(_OUTBOX.c.site_seq, _OUTBOX.c.event_id).where(
                    _OUTBOX.c.site_seq > (fetched[0][0] - 1 if fetched else local_max)
                )
            )
        }
        divergence = fetched[0][0] - 1 if fetched else local_max
        for ev in fetched:
            if local_ids.get(ev[0]) != ev[1]:
                break
            divergence = ev[0]
        missing = [ev for ev in fetched if ev[0] > divergence]
        lost_here = local_max - divergence if missing else 0
        entries = 0
        if missing:
            # Events made here after the restore move after the hub's: negate first so no seq collides.
            s.execute(
                update(_OUTBOX).where(_OUTBOX.c.site_seq > divergence).values(site_seq=-_OUTBOX.c.site_seq)
            )
            shift = hub_acked - divergence
            s.execute(
                update(_OUTBOX).where(_OUTBOX.c.site_seq < 0).values(site_seq=-_OUTBOX.c.site_seq + shift)
            )
            for seq, event_id, type_, version, created_at, payload in missing:
                s.add(
                    OutboxEvent(
                        site_seq=seq,
                        event_id=uuid.UUID(event_id),
                        type=type_,
                        schema_version=version,
                        payload=payload,
                        created_at=datetime.fromisoformat(created_at),
                    )
                )
            s.flush()
            for _seq, _event_id, type_, _version, created_at, payload in missing:
                if type_.startswith("ledger."):
                    entries += reapply_ledger_event(uow, type_, payload, datetime.fromisoformat(created_at))
            top = hub_acked + lost_here
            current = sequences.peek(s, COUNTER)
            if top > current:
                sequences.take(s, COUNTER, top - current)
            s.execute(update(SyncState).where(SyncState.id == 1).values(acked_seq=hub_acked, summary_seq=0))
            uow.audit(
                "sync.recover",
                "sync_state",
                1,
                after={
                    "recovered": len(missing),
                    "entries": entries,
                    "renumbered": lost_here,
                    "from_seq": divergence + 1,
                    "hub_acked_seq": hub_acked,
                },
            )
    return RecoverResult(len(missing), entries, lost_here, hub_acked)
