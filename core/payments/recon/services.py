"""Reconciliation use cases: run a channel's statement of one day against our orders and refunds (one batch
per channel and day, re-runnable), list batches and differences, and resolve a difference with a decision.

A run streams the statement a block of rows at a time, holds our side keyed by order_no / refund_no (the
usual order of the day as one int of its amount and fee, others as compact tuples; the day before and after
included, for payments booked across midnight), writes differences in bulk, and keeps the next-day pool.
The matching stays in Python rather than SQL: a staging table would cost a million-row insert plus the same
million index lookups (measured: no faster on SQLite, and a bulk upload on PostgreSQL), and the per-line
rules (duplicates, the pool, lines matched ahead) would have to be restated in SQL for both databases. Re-running a day first undoes what its previous run left open (open differences, the pool
entries it created, the pool entries it consumed), so the result is the same and nothing is duplicated;
differences already resolved are kept and not raised again.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from core.clock import today
from core.context import Context
from core.db.bulk import binder, gc_paused, insert_rows
from core.errors import Conflict, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id, new_ids
from core.ledger.services import EntrySpec, ensure_account_in, post_in
from core.payments.models import PayOrder, PayRefund
from core.payments.recon import rules
from core.payments.recon.models import DECISIONS, RECON_CHANNELS, ReconBatch, ReconDifference, ReconPending
from core.payments.recon.statements import StatementReader
from core.uow import UnitOfWork

WRITE_CHUNK = 10_000  # differences buffered before a bulk insert: bounds memory on a day full of them
FETCH_CHUNK = 20_000
IN_CHUNK = 500
NOTE_LEN_MAX = 500
PAGE_SIZE_MAX = 1000
DOWNLOAD_BYTES_MAX = 2 * 1024**3  # a day's statement of a few million lines is well below this
DOWNLOAD_TIMEOUT_S = 120.0

_BATCHES = ReconBatch.__table__
_DIFFS = ReconDifference.__table__
_POOL = ReconPending.__table__
_ORDERS = PayOrder.__table__
_REFUNDS = PayRefund.__table__

_DIFF_COLUMNS = (
    "id", "batch_id", "channel", "business_date", "kind", "doc_kind", "doc_no", "order_no", "channel_trade_no",
    "channel_refund_no", "local_amount_fen", "channel_amount_fen", "local_fee_fen", "channel_fee_fen",
    "local_status", "channel_status", "channel_time", "line_no", "note", "status", "created_at",
)  # fmt: skip


@dataclass(frozen=True)
class ReconResult:
    """The outcome of one run: the counts the CLI prints, plus what waits in the pool."""

    batch_id: uuid.UUID
    channel: str
    business_date: date
    lines: int
    matched: int
    missing_at_channel: int
    missing_locally: int
    amount_mismatch: int
    status_mismatch: int
    fee_mismatch: int
    pending: int

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in rules.COUNT_KEYS}


@dataclass(frozen=True)
class BatchView:
    id: uuid.UUID
    channel: str
    business_date: date
    statement_sha256: str
    statement_lines: int
    matched: int
    missing_at_channel: int
    missing_locally: int
    amount_mismatch: int
    status_mismatch: int
    fee_mismatch: int
    pending: int
    open_differences: int
    runs: int
    run_by: str
    updated_at: datetime


@dataclass(frozen=True)
class DifferenceView:
    id: uuid.UUID
    batch_id: uuid.UUID
    channel: str
    business_date: date
    kind: str
    doc_kind: str
    doc_no: str
    order_no: str
    channel_trade_no: str
    local_amount_fen: int | None
    channel_amount_fen: int | None
    local_fee_fen: int | None
    channel_fee_fen: int | None
    local_status: str
    channel_status: str
    note: str
    status: str
    decision: str | None
    decision_note: str | None
    resolved_by: str | None
    resolved_at: datetime | None


# --------------------------------------------------------------------------------------------- inputs


def _check_channel(channel: str) -> str:
    if channel not in RECON_CHANNELS:
        raise ValidationError(
            N_("Reconciliation is for the channels {channels}; not {channel}."),
            field="channel",
            channels=", ".join(RECON_CHANNELS),
            channel=str(channel),
        )
    return channel


def _check_day(day: object) -> date:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValidationError(N_("Give the statement date as YYYY-MM-DD."), field="date")
    return day


# --------------------------------------------------------------------------------------------- download


def download_statement(ctx: Context, channel: str, day: date) -> Path:
    """Fetch the channel's statement of `day` (signed request to the channel, or its simulator) into a file.

    The file is kept in the site's statements/ directory as evidence of what was reconciled.
    """
    import httpx

    from core.payments import rules as pay_rules
    from core.payments.channels import ChannelConfig

    _check_channel(channel)
    _check_day(day)
    config = ChannelConfig.from_env()
    path = f"/{channel}/statements/{day.isoformat()}"
    signature = pay_rules.sim_sign(config.mch_key, pay_rules.sim_request_message("GET", path, b""))
    headers = {"X-Sim-Mch": config.mch_id, "X-Sim-Signature": signature}
    target_dir = (
        ctx.home.root / "statements" / channel if ctx.home is not None else Path(tempfile.gettempdir())
    )
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{channel}_{day.isoformat()}.csv"
    partial = target.with_suffix(".part")
    try:
        with httpx.stream(
            "GET", config.sim_url.rstrip("/") + path, headers=headers, timeout=DOWNLOAD_TIMEOUT_S
        ) as resp:
            if resp.status_code != 200:
                raise ValidationError(
                    N_("The channel did not give the statement of {day} (HTTP {status})."),
                    field="statement",
                    day=day.isoformat(),
                    status=resp.status_code,
                )
            size = 0
            with partial.open("wb") as fh:
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    if size > DOWNLOAD_BYTES_MAX:
                        raise ValidationError(N_("The statement download is too large."), field="statement")
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise ValidationError(
            N_("The channel could not be reached for the statement: {error}"),
            field="statement",
            error=str(exc),
        ) from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


# --------------------------------------------------------------------------------------------- run


def run_recon(ctx: Context, channel: str, day: date, statement: Path | None = None) -> ReconResult:
    """Reconcile `channel`'s statement of `day` (downloaded when no file is given); one transaction."""
    _check_channel(channel)
    _check_day(day)
    ctx.require("recon.run")
    if statement is None:
        statement = download_statement(ctx, channel, day)
    statement = Path(statement)
    if not statement.is_file():
        raise ValidationError(
            N_("There is no statement file {path}."), field="statement", path=str(statement)
        )
    digest = _sha256(statement)
    # A million acyclic tuples: the cycle collector would walk them again and again for nothing.
    with gc_paused(), ctx.uow("recon.run") as uow:
        return _run_in(uow, channel, day, statement, digest)


def _run_in(uow: UnitOfWork, channel: str, day: date, statement: Path, digest: str) -> ReconResult:
    s = uow.session
    batch_id, before = _open_batch(uow, channel, day)
    # Undo the previous run of this day: its open differences and its effect on the pool.
    s.execute(delete(_DIFFS).where(_DIFFS.c.batch_id == batch_id, _DIFFS.c.status == "open"))
    s.execute(delete(_POOL).where(_POOL.c.created_batch_id == batch_id, _POOL.c.consumed_batch_id.is_(None)))
    s.execute(update(_POOL).where(_POOL.c.consumed_batch_id == batch_id).values(consumed_batch_id=None))
    resolved = Counter(
        s.execute(
            select(_DIFFS.c.kind, _DIFFS.c.doc_kind, _DIFFS.c.doc_no).where(
                _DIFFS.c.batch_id == batch_id, _DIFFS.c.status == "resolved"
            )
        ).all()
    )
    pooled, older = _open_pool(s, channel, day)
    ahead = {
        (r.doc_kind, r.doc_no)
        for r in s.execute(
            select(_POOL.c.doc_kind, _POOL.c.doc_no).where(
                _POOL.c.channel == channel, _POOL.c.side == "ahead", _POOL.c.business_date == day
            )
        )
    }
    matcher = rules.Matcher(
        trades=_load_local(s, _ORDERS, _ORDERS.c.order_no, channel, day, older.get("trade", []), plain=True),
        refunds=_load_local(s, _REFUNDS, _REFUNDS.c.refund_no, channel, day, older.get("refund", [])),
        pooled=pooled,
        ahead=ahead,
    )
    writer = _DiffWriter(uow, batch_id, channel, day, resolved)

    def check_time(at: datetime, line_no: int) -> None:  # once per distinct time of the statement's lines
        if reader.day is not None and reader.day != day:  # known once the header is read: fail early
            raise _wrong_day(day, reader.day.isoformat())
        if at.date() != day:
            raise _wrong_day(day, at.date().isoformat(), line_no)

    reader = StatementReader(channel, statement, on_time=check_time)
    lines = matcher.feed_blocks(reader.blocks(), writer.add)
    if reader.day is not None and reader.day != day:
        raise _wrong_day(day, reader.day.isoformat())
    for diff in matcher.leftovers():
        writer.add(diff)
    writer.flush()
    _write_pool(s, uow.now, channel, day, batch_id, matcher)
    counts = matcher.counts
    totals = reader.computed
    s.execute(
        update(_BATCHES)
        .where(_BATCHES.c.id == batch_id)
        .values(
            statement_sha256=digest,
            statement_lines=lines,
            statement_trade_fen=totals.trade_fen,
            statement_refund_fen=totals.refund_fen,
            statement_fee_fen=totals.fee_fen,
            pending=matcher.pending,
            runs=_BATCHES.c.runs + 1,
            run_by=uow.ctx.actor.username,
            updated_at=uow.now,
            **counts,
        )
    )
    after = {"statement_sha256": digest, "lines": lines, "pending": matcher.pending, **counts}
    uow.audit("recon.run", "recon_batch", batch_id, before=before, after=after)
    uow.emit(
        "recon.batch_run", {"batch_id": str(batch_id), "channel": channel, "date": day.isoformat(), **after}
    )
    return ReconResult(batch_id, channel, day, lines, pending=matcher.pending, **counts)


def _wrong_day(day: date, found: str, line_no: int | None = None) -> ValidationError:
    if line_no is None:
        return ValidationError(
            N_("This statement is of {found}, not of {day}: is it the right file?"),
            field="statement",
            found=found,
            day=day.isoformat(),
        )
    return ValidationError(
        N_("Statement line {line} is dated {found}, not {day}: is it the right file?"),
        field="statement",
        line=line_no,
        found=found,
        day=day.isoformat(),
    )


def _open_batch(uow: UnitOfWork, channel: str, day: date) -> tuple[uuid.UUID, dict | None]:
    """The batch of (channel, day), locked for this run; created on the first run."""
    s = uow.session
    row = s.execute(
        select(_BATCHES)
        .where(_BATCHES.c.channel == channel, _BATCHES.c.business_date == day)
        .with_for_update()
    ).one_or_none()
    if row is not None:
        before = {k: getattr(row, k) for k in rules.COUNT_KEYS}
        return row.id, {"statement_sha256": row.statement_sha256, "runs": row.runs, **before}
    batch_id = new_id()
    try:
        with s.begin_nested():
            s.execute(
                insert(_BATCHES).values(
                    id=batch_id,
                    channel=channel,
                    business_date=day,
                    statement_sha256="",
                    statement_lines=0,
                    statement_trade_fen=0,
                    statement_refund_fen=0,
                    statement_fee_fen=0,
                    pending=0,
                    runs=0,
                    run_by=uow.ctx.actor.username,
                    created_at=uow.now,
                    updated_at=uow.now,
                    **dict.fromkeys(rules.COUNT_KEYS, 0),
                )
            )
    except Exception as exc:  # a concurrent first run of the same day inserted it first
        from sqlalchemy.exc import IntegrityError

        if isinstance(exc, IntegrityError):
            raise Conflict(
                N_("The {channel} statement of {day} is being reconciled right now; try again."),
                channel=channel,
                day=day.isoformat(),
            ) from None
        raise
    return batch_id, None


def _open_pool(s: Session, channel: str, day: date) -> tuple[set[tuple[str, str]], dict[str, list[str]]]:
    """Open `local` pool entries from before `day`, and those older than the day before (loaded apart)."""
    pooled: set[tuple[str, str]] = set()
    older: dict[str, list[str]] = {}
    rows = s.execute(
        select(_POOL.c.doc_kind, _POOL.c.doc_no, _POOL.c.business_date).where(
            _POOL.c.channel == channel,
            _POOL.c.side == "local",
            _POOL.c.consumed_batch_id.is_(None),
            _POOL.c.business_date < day,
        )
    )
    for doc_kind, doc_no, business_date in rows:
        pooled.add((doc_kind, doc_no))
        if business_date < day - timedelta(days=1):
            older.setdefault(doc_kind, []).append(doc_no)
    return pooled, older


def _load_local(
    s: Session, table, key_col, channel: str, day: date, older: Sequence[str], *, plain: bool = False
) -> dict:
    """Our orders (or refunds) of `channel` dated the day before, the day, and the day after, as Local tuples.

    With `plain` (orders), the usual order of the day — SUCCESS, paid before the pool window — comes as its
    rules.pair_key(amount_fen, fee_fen) instead, what rules.Matcher compares a block of statement rows with.

    A million rows are read through the driver's own cursor (values bound with the columns' processors, as
    core.db.bulk does for inserts): SQLAlchemy's Row objects would cost more than the query itself.
    """
    c = table.c
    paid_at = c.paid_at if table is _ORDERS else c.refunded_at
    fee = c.fee_fen if table is _ORDERS else c.fee_refund_fen
    bind_day = binder(s, c.business_date)
    bind_at = binder(s, paid_at)
    conn = s.connection()
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}[conn.dialect.paramstyle]
    q = conn.dialect.identifier_preparer
    key, amount, fee_, status, at = (
        q.quote(col.name) for col in (key_col, c.amount_fen, fee, c.status, paid_at)
    )
    source = q.format_table(table)
    select = (
        f"SELECT {key}, {amount}, {fee_}, {status}, "
        f"CASE WHEN business_date = {mark} THEN 0 WHEN business_date < {mark} THEN -1 ELSE 1 END, "
        f"CASE WHEN {at} >= {mark} THEN 1 ELSE 0 END FROM {source}"
    )
    d0, cutoff = bind_day(day), bind_at(rules.pool_cutoff(day))
    head = (d0, d0, cutoff)
    before, after = bind_day(day - timedelta(days=1)), bind_day(day + timedelta(days=1))
    out: dict = {}
    make = rules.Local._make
    cursor = conn.connection.dbapi_connection.cursor()

    def by_number(numbers: Sequence[str]) -> None:
        for i in range(0, len(numbers), IN_CHUNK):
            chunk = numbers[i : i + IN_CHUNK]
            cursor.execute(f"{select} WHERE {key} IN ({', '.join([mark] * len(chunk))})", (*head, *chunk))
            for row in cursor.fetchall():
                out[row[0]] = make(row[1:])

    try:
        if plain:
            # The day's own orders as (order_no, pair key); the key is NULL for any other kind of order,
            # which is then read in full by its number.
            cursor.execute(
                f"SELECT {key}, CASE WHEN {status} = {mark} AND {at} < {mark} AND {amount} >= 0 "
                f"AND {amount} < {mark} AND {fee_} >= 0 AND {fee_} < {mark} "
                f"THEN {amount} * {mark} + {fee_} END FROM {source} "
                f"WHERE channel = {mark} AND business_date = {mark}",
                ("SUCCESS", cutoff, rules.PAIR_MAX, rules.PAIR_MAX, 1 << rules.PAIR_BITS, channel, d0),
            )
            other: list[str] = []
            while rows := cursor.fetchmany(FETCH_CHUNK):
                out.update(rows)
                other += [row[0] for row in rows if row[1] is None]
            by_number(other)
            cursor.execute(f"{select} WHERE channel = {mark} AND business_date IN ({mark}, {mark})",
                           (*head, channel, before, after))  # fmt: skip
        else:
            cursor.execute(f"{select} WHERE channel = {mark} AND business_date BETWEEN {mark} AND {mark}",
                           (*head, channel, before, after))  # fmt: skip
        while rows := cursor.fetchmany(FETCH_CHUNK):
            for row in rows:
                out[row[0]] = make(row[1:])
        by_number(older)  # pool entries from before the day before
    finally:
        cursor.close()
    return out


class _DiffWriter:
    """Buffers differences and writes them with one executemany per chunk."""

    def __init__(
        self, uow: UnitOfWork, batch_id: uuid.UUID, channel: str, day: date, resolved: Counter
    ) -> None:
        self.session = uow.session
        self.resolved = resolved
        self.rows: list[tuple] = []
        b = {name: binder(self.session, _DIFFS.c[name]) for name in _DIFF_COLUMNS}
        self.bind_id = b["id"]
        self.bind_time = b["channel_time"]
        self.fixed = (b["batch_id"](batch_id), channel, b["business_date"](day))
        self.created = b["created_at"](uow.now)

    def add(self, d: rules.Difference) -> None:
        key = (d.kind, d.doc_kind, d.doc_no)
        if self.resolved and self.resolved.get(key, 0) > 0:
            self.resolved[key] -= 1  # decided already on an earlier run: not raised again
            return
        self.rows.append(
            (
                None,
                *self.fixed,
                d.kind,
                d.doc_kind,
                d.doc_no,
                d.order_no,
                d.channel_trade_no,
                d.channel_refund_no,
                d.local_amount_fen,
                d.channel_amount_fen,
                d.local_fee_fen,
                d.channel_fee_fen,
                d.local_status,
                d.channel_status,
                None if d.channel_time is None else self.bind_time(d.channel_time),
                d.line_no,
                d.note,
                "open",
                self.created,
            )
        )
        if len(self.rows) >= WRITE_CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        ids = new_ids(len(self.rows))
        rows = [(self.bind_id(i), *row[1:]) for i, row in zip(ids, self.rows, strict=True)]
        insert_rows(self.session, _DIFFS, _DIFF_COLUMNS, rows)
        self.rows = []


def _write_pool(
    s: Session, now: datetime, channel: str, day: date, batch_id: uuid.UUID, matcher: rules.Matcher
) -> None:
    if matcher.consumed:
        s.execute(
            update(_POOL)
            .where(
                _POOL.c.channel == channel,
                _POOL.c.side == "local",
                _POOL.c.doc_kind == bindparam("k"),
                _POOL.c.doc_no == bindparam("n"),
                _POOL.c.consumed_batch_id.is_(None),
            )
            .values(consumed_batch_id=batch_id)
            .execution_options(synchronize_session=False),
            [{"k": k, "n": n} for k, n in matcher.consumed],
        )
    if not matcher.new_pool:
        return
    wanted = {(p.side, p.doc_kind, p.doc_no): p for p in matcher.new_pool}
    nos = sorted({p.doc_no for p in matcher.new_pool})
    for i in range(0, len(nos), IN_CHUNK):
        existing = s.execute(
            select(_POOL.c.side, _POOL.c.doc_kind, _POOL.c.doc_no).where(
                _POOL.c.channel == channel, _POOL.c.doc_no.in_(nos[i : i + IN_CHUNK])
            )
        )
        for key in existing:
            wanted.pop(tuple(key), None)  # kept from an earlier run (consumed since): not created twice
    if wanted:
        s.execute(
            insert(_POOL),
            [
                {
                    "id": new_id(),
                    "channel": channel,
                    "side": p.side,
                    "doc_kind": p.doc_kind,
                    "doc_no": p.doc_no,
                    "business_date": day + timedelta(days=p.offset),
                    "amount_fen": p.amount_fen,
                    "created_batch_id": batch_id,
                    "consumed_batch_id": None,
                    "created_at": now,
                }
                for p in wanted.values()
            ],
        )


# --------------------------------------------------------------------------------------------- reads


def _check_page(limit: int) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(N_("Ask for between 1 and {max} rows."), field="limit", max=PAGE_SIZE_MAX)


def list_batches(
    ctx: Context, channel: str | None = None, day: date | None = None, limit: int = 100
) -> list[BatchView]:
    """Reconciliation batches, newest statement day first, with how many differences are still open."""
    _check_page(limit)
    if channel is not None:
        _check_channel(channel)
    with ctx.read("recon.view") as s:
        stmt = select(_BATCHES)
        if channel is not None:
            stmt = stmt.where(_BATCHES.c.channel == channel)
        if day is not None:
            stmt = stmt.where(_BATCHES.c.business_date == day)
        rows = s.execute(
            stmt.order_by(_BATCHES.c.business_date.desc(), _BATCHES.c.channel).limit(limit)
        ).all()
        open_counts: dict[uuid.UUID, int] = {}
        ids = [r.id for r in rows]
        if ids:
            q = (
                select(_DIFFS.c.batch_id, func.count())
                .where(_DIFFS.c.batch_id.in_(ids), _DIFFS.c.status == "open")
                .group_by(_DIFFS.c.batch_id)
            )
            open_counts = {batch_id: n for batch_id, n in s.execute(q)}
        return [
            BatchView(
                r.id,
                r.channel,
                r.business_date,
                r.statement_sha256,
                r.statement_lines,
                r.matched,
                r.missing_at_channel,
                r.missing_locally,
                r.amount_mismatch,
                r.status_mismatch,
                r.fee_mismatch,
                r.pending,
                open_counts.get(r.id, 0),
                r.runs,
                r.run_by,
                r.updated_at,
            )
            for r in rows
        ]


def _diff_view(r) -> DifferenceView:
    return DifferenceView(
        r.id,
        r.batch_id,
        r.channel,
        r.business_date,
        r.kind,
        r.doc_kind,
        r.doc_no,
        r.order_no,
        r.channel_trade_no,
        r.local_amount_fen,
        r.channel_amount_fen,
        r.local_fee_fen,
        r.channel_fee_fen,
        r.local_status,
        r.channel_status,
        r.note,
        r.status,
        r.decision,
        r.decision_note,
        r.resolved_by,
        r.resolved_at,
    )


def list_differences(
    ctx: Context,
    *,
    channel: str | None = None,
    day: date | None = None,
    status: str | None = "open",
    kind: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[DifferenceView]:
    """Differences to work through (open ones by default), in statement-day and document order."""
    _check_page(limit)
    if status not in (None, "open", "resolved"):
        raise ValidationError(N_("A difference is open or resolved."), field="status")
    if kind is not None and kind not in rules.DIFFERENCE_KINDS:
        raise ValidationError(N_("There is no kind of difference {kind}."), field="kind", kind=kind)
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError(N_("The offset must not be negative."), field="offset")
    with ctx.read("recon.view") as s:
        stmt = select(_DIFFS)
        for col, value in (("channel", channel), ("business_date", day), ("status", status), ("kind", kind)):
            if value is not None:
                stmt = stmt.where(_DIFFS.c[col] == value)
        stmt = stmt.order_by(_DIFFS.c.business_date, _DIFFS.c.doc_no, _DIFFS.c.id).limit(limit).offset(offset)
        return [_diff_view(r) for r in s.execute(stmt)]


def get_difference(ctx: Context, item_id: uuid.UUID) -> DifferenceView:
    with ctx.read("recon.view") as s:
        row = s.execute(select(_DIFFS).where(_DIFFS.c.id == item_id)).one_or_none()
    if row is None:
        raise NotFound(N_("There is no reconciliation difference {id}."), id=str(item_id))
    return _diff_view(row)


# --------------------------------------------------------------------------------------------- resolve

DECISION_DOC_TYPE = "recon_difference"


def _post_decision(uow: UnitOfWork, row, decision: str) -> uuid.UUID | None:
    """Post what `decision` on difference `row` moves (None when it moves nothing)."""
    from core.payments.services import BOOK, ensure_payhub_in

    facts = rules.DecisionFacts(
        row.kind, row.doc_kind, row.channel, row.local_amount_fen, row.channel_amount_fen, row.local_fee_fen,
        row.channel_fee_fen, row.local_status, row.channel_status,
    )  # fmt: skip
    postings = rules.decision_postings(facts, decision)
    if not postings:
        return None
    ensure_payhub_in(uow)
    code, name, kind = rules.DECISION_ACCOUNTS[decision]
    ensure_account_in(uow, BOOK, code, name, kind)
    text = f"对账差错 {row.channel} {row.business_date.isoformat()} {row.doc_no} {decision}"
    return post_in(uow, EntrySpec(BOOK, today(uow.ctx.clock), text, postings, DECISION_DOC_TYPE, str(row.id)))


def resolve(ctx: Context, item_id: uuid.UUID, decision: str, note: str) -> DifferenceView:
    """Close a difference with a decision (accept_channel, accept_local, refund_payer, write_off) and a note.

    The decision is recorded with who and when, audited, and sent to the hub; a resolved difference never
    changes again. A decision that moves money posts its balanced PAYHUB entry (rules.decision_postings,
    doc "recon_difference" / the difference id) in the same transaction; accept_local posts nothing.
    Operational follow-up (paying the refund out, correcting an order) is done through the payment services
    and referenced in the note.
    """
    if not isinstance(item_id, uuid.UUID):
        try:
            item_id = uuid.UUID(str(item_id))
        except ValueError:
            raise ValidationError(
                N_("“{id}” is not a difference id."), field="item_id", id=str(item_id)
            ) from None
    if decision not in DECISIONS:
        raise ValidationError(
            N_("The decision must be one of: {decisions}."), field="decision", decisions=", ".join(DECISIONS)
        )
    note = (note or "").strip()
    if not note:
        raise ValidationError(N_("Write down why this decision was taken."), field="note")
    if len(note) > NOTE_LEN_MAX:
        raise ValidationError(N_("The note is longer than {max} characters."), field="note", max=NOTE_LEN_MAX)
    with ctx.uow("recon.resolve") as uow:
        s = uow.session
        row = s.execute(select(_DIFFS).where(_DIFFS.c.id == item_id)).one_or_none()
        if row is None:
            raise NotFound(N_("There is no reconciliation difference {id}."), id=str(item_id))
        if decision not in rules.DECISIONS_BY_KIND[row.kind]:
            raise ValidationError(
                N_("A {kind} difference cannot be settled with “{decision}”; choose one of: {allowed}."),
                field="decision",
                kind=row.kind,
                decision=decision,
                allowed=", ".join(sorted(rules.DECISIONS_BY_KIND[row.kind])),
            )
        if row.status != "open":
            raise StateError(N_("This difference was already resolved ({decision})."), decision=row.decision)
        done = s.execute(
            update(_DIFFS)
            .where(_DIFFS.c.id == item_id, _DIFFS.c.status == "open")
            .values(
                status="resolved",
                decision=decision,
                decision_note=note,
                resolved_by=uow.ctx.actor.username,
                resolved_at=uow.now,
            )
        )
        if done.rowcount != 1:
            raise StateError(N_("This difference was resolved by someone else just now."))
        entry_id = _post_decision(uow, row, decision)
        after = {
            "kind": row.kind,
            "doc_no": row.doc_no,
            "decision": decision,
            "note": note,
            "entry_id": None if entry_id is None else str(entry_id),
        }
        uow.audit("recon.resolve", "recon_difference", item_id, before={"status": "open"}, after=after)
        uow.emit("recon.difference_resolved", {"id": str(item_id), "batch_id": str(row.batch_id), **after})
        row = s.execute(select(_DIFFS).where(_DIFFS.c.id == item_id)).one()
        return _diff_view(row)
