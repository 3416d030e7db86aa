"""Paged read models: any list a UI shows (audit log, journal, users…) read one page at a time from SQL.

A UI asks `paged(ctx, code, ListQuery(...))` and gets a `Page`; sorting, filtering, LIMIT/OFFSET and counting
happen in the database, so a list of a million rows opens as fast as one of ten. Each list is a registered
`Source` with its own permission, columns, filters and sortable keys; a business package registers its lists
with `register(...)`. `stream(...)` reads a whole filtered list in batches for export.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from core.clock import BUSINESS_TZ
from core.context import Context
from core.errors import NotFound, ValidationError
from core.i18n import N_

PAGE_SIZE_MAX = 1000
# Counting stops here: the first page must not wait for a count over millions of rows. `count()` is exact.
COUNT_CAP = 10_000
FILTER_VALUE_MAX_CHARS = 100
STREAM_BATCH_ROWS = 5000
# A column of kind "fen" holds integer fen; "date" a business date; "datetime" a UTC instant.
KINDS = ("text", "int", "fen", "date", "datetime", "bool")
# Filter kinds: "prefix" (starts with), "contains", "exact", "choice" (one of choices), "date_from"/"date_to"
# (business dates, inclusive), "int".
FILTER_KINDS = ("prefix", "contains", "exact", "choice", "date_from", "date_to", "int")


@dataclass(frozen=True)
class Column:
    """One column of a list: `label` is an English msgid; `width` a hint in terminal cells."""

    key: str
    label: str
    kind: str = "text"
    width: int | None = None
    # Stored codes and how to show them (English msgids), e.g. ("active", "Active").
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Filter:
    """One filter of a list. `choices` are (value, label msgid) for kind "choice"; `required` lists need it."""

    key: str
    label: str
    kind: str = "prefix"
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False


@dataclass(frozen=True)
class ListQuery:
    """What to read: filter values by filter key (text as typed), a sort key, and the window."""

    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str | None = None
    descending: bool | None = None
    offset: int = 0
    limit: int = 100


@dataclass(frozen=True)
class Page:
    """One page: `rows` are tuples in the source's column order (plain values: str, int, date, datetime).

    `total_estimate` is exact when `exact`; otherwise at least that many rows match (the count was capped).
    """

    rows: list[tuple]
    offset: int
    total_estimate: int
    exact: bool


Criteria = dict[str, Any]
Builder = Callable[[Criteria], Select]


@dataclass(frozen=True)
class Source:
    """A registered list. `build(criteria)` returns a SELECT of exactly the columns (in order) with the
    filters applied; `sorts` maps sort keys to ORDER BY expressions; `tiebreak` makes every order total,
    so paging never skips or repeats a row. `after` may complete a page's rows (e.g. a user's roles)."""

    code: str
    title: str
    permission: str
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...]
    build: Builder
    sorts: Mapping[str, Sequence[ColumnElement]]
    default_sort: str
    default_descending: bool
    tiebreak: Sequence[ColumnElement]
    after: Callable[[Session, list[tuple]], list[tuple]] | None = None

    def column_keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.columns)


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> None:
    """Add (or replace) a list; business packages call this at import time."""
    _SOURCES[source.code] = source


def get_source(code: str) -> Source:
    _load_builtin()
    source = _SOURCES.get(code)
    if source is None:
        raise NotFound(N_("There is no list called {list}."), list=code)
    return source


def sources_for(ctx: Context) -> list[Source]:
    """The lists the actor may read."""
    _load_builtin()
    return [s for s in _SOURCES.values() if ctx.actor.can(s.permission)]


# ---------------------------------------------------------------------------------------------- criteria


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix(expr: ColumnElement, value: str) -> ColumnElement:
    return expr.like(_like_escape(value) + "%", escape="\\")


def contains(expr: ColumnElement, value: str) -> ColumnElement:
    return expr.ilike("%" + _like_escape(value) + "%", escape="\\")


def _parse_date(text: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError(N_("{field}: write the date as YYYY-MM-DD."), field=label, value=text) from exc


def day_start_utc(day: date) -> datetime:
    """The first instant of business date `day` (Asia/Shanghai), for filters on UTC instants."""
    return datetime.combine(day, time(0), tzinfo=BUSINESS_TZ)


def day_end_utc(day: date) -> datetime:
    """The first instant after business date `day`."""
    return day_start_utc(day + timedelta(days=1))


def instant_range(stmt: Select, column: ColumnElement, c: Criteria) -> Select:
    """Apply the criteria's `date_from`/`date_to` (business dates, both inclusive) to an instant column."""
    if "date_from" in c:
        stmt = stmt.where(column >= day_start_utc(c["date_from"]))
    if "date_to" in c:
        stmt = stmt.where(column < day_end_utc(c["date_to"]))
    return stmt


def date_range(stmt: Select, column: ColumnElement, c: Criteria) -> Select:
    """Apply the criteria's `date_from`/`date_to` (both inclusive) to a business-date column."""
    if "date_from" in c:
        stmt = stmt.where(column >= c["date_from"])
    if "date_to" in c:
        stmt = stmt.where(column <= c["date_to"])
    return stmt


def parse_criteria(source: Source, raw: Mapping[str, str]) -> Criteria:
    """Typed filter values from the text the user typed; ValidationError names the field that is wrong."""
    known = {f.key: f for f in source.filters}
    criteria: Criteria = {}
    for key, value in raw.items():
        spec = known.get(key)
        if spec is None:
            raise ValidationError(N_("This list has no filter {filter}."), field=key, filter=key)
        if value is None:
            continue
        text = str(value).strip()
        if not text:
            continue
        if len(text) > FILTER_VALUE_MAX_CHARS:
            raise ValidationError(
                N_("A filter value has at most {max} characters."), field=key, max=FILTER_VALUE_MAX_CHARS
            )
        if spec.kind in ("date_from", "date_to"):
            criteria[key] = _parse_date(text, key)
        elif spec.kind == "int":
            if not re.fullmatch(r"-?\d{1,18}", text):
                raise ValidationError(N_("{field}: write a whole number."), field=key)
            criteria[key] = int(text)
        elif spec.kind == "choice":
            if text not in {v for v, _label in spec.choices}:
                raise ValidationError(N_("{field}: not one of the choices."), field=key)
            criteria[key] = text
        else:
            criteria[key] = text
    for spec in source.filters:
        if spec.required and spec.key not in criteria:
            raise ValidationError(N_("Choose {field} first."), field=spec.key)
    return criteria


def _check_window(query: ListQuery) -> None:
    if (
        isinstance(query.limit, bool)
        or not isinstance(query.limit, int)
        or not 1 <= query.limit <= PAGE_SIZE_MAX
    ):
        raise ValidationError(N_("A page holds 1 to {max} rows."), field="limit", max=PAGE_SIZE_MAX)
    if isinstance(query.offset, bool) or not isinstance(query.offset, int) or query.offset < 0:
        raise ValidationError(N_("The offset cannot be negative."), field="offset")


def _ordered(source: Source, stmt: Select, query: ListQuery) -> Select:
    key = query.sort or source.default_sort
    if key not in source.sorts:
        raise ValidationError(N_("This list cannot be sorted by {column}."), field="sort", column=str(key))
    desc = source.default_descending if query.descending is None else bool(query.descending)
    exprs = [*source.sorts[key], *source.tiebreak]
    return stmt.order_by(*[e.desc() if desc else e.asc() for e in exprs])


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value


def _rows(source: Source, session: Session, result) -> list[tuple]:
    rows = [tuple(_plain(v) for v in r) for r in result]
    return source.after(session, rows) if source.after and rows else rows


# ---------------------------------------------------------------------------------------------- reading


def paged(ctx: Context, code: str, query: ListQuery) -> Page:
    """One page of the list `code` (permission of the list checked). The count is capped at COUNT_CAP."""
    source = get_source(code)
    _check_window(query)
    criteria = parse_criteria(source, query.filters)
    with ctx.read(source.permission) as s:
        base = source.build(criteria)
        stmt = _ordered(source, base, query).limit(query.limit).offset(query.offset)
        rows = _rows(source, s, s.execute(stmt))
        if query.offset == 0 and len(rows) < query.limit:
            return Page(rows, 0, len(rows), True)  # the whole list is on this page: nothing to count
        capped = base.order_by(None).limit(COUNT_CAP + 1).subquery()
        n = s.execute(select(func.count()).select_from(capped)).scalar_one()
        if n <= COUNT_CAP:
            return Page(rows, query.offset, n, True)
        return Page(rows, query.offset, max(COUNT_CAP, query.offset + len(rows)), False)


def count(ctx: Context, code: str, filters: Mapping[str, str]) -> int:
    """The exact number of rows of the list `code` that match `filters` (may take a moment on big lists)."""
    source = get_source(code)
    criteria = parse_criteria(source, filters)
    with ctx.read(source.permission) as s:
        sub = source.build(criteria).order_by(None).subquery()
        return s.execute(select(func.count()).select_from(sub)).scalar_one()


def stream(
    ctx: Context,
    code: str,
    query: ListQuery,
    *,
    batch_rows: int = STREAM_BATCH_ROWS,
    rows_max: int | None = None,
) -> Iterator[list[tuple]]:
    """Every row of the filtered, sorted list in batches (one read transaction, one pass): for export.

    `query.offset`/`limit` are ignored; `rows_max` stops early (an Excel sheet holds 1,048,576 rows).
    """
    source = get_source(code)
    criteria = parse_criteria(source, query.filters)
    batch_rows = max(1, min(batch_rows, 50_000))
    with ctx.read(source.permission) as s:
        stmt = _ordered(source, source.build(criteria), query)
        if rows_max is not None:
            stmt = stmt.limit(rows_max)
        result = s.execute(stmt.execution_options(yield_per=batch_rows))
        for partition in result.partitions(batch_rows):
            yield _rows(source, s, partition)


# ---------------------------------------------------------------------------------------------- built-in lists

_loaded = {"builtin": False}


def _load_builtin() -> None:
    if _loaded["builtin"]:
        return
    _loaded["builtin"] = True
    for make in (_audit_source, _journal_source, _statement_source, _users_source, _approvals_source):
        source = make()
        _SOURCES.setdefault(source.code, source)


def _audit_source() -> Source:
    from core.audit.models import AuditRecord as A

    def build(c: Criteria) -> Select:
        stmt = select(
            A.seq, A.at, A.actor_name, A.action, A.object_type, A.object_id, A.before_json, A.after_json
        )
        if "actor" in c:
            stmt = stmt.where(prefix(A.actor_name, c["actor"].lower()))
        if "action" in c:
            stmt = stmt.where(prefix(A.action, c["action"]))
        if "object" in c:
            # An object is named by its type ("user") or its id (a uuid, an order no.).
            stmt = stmt.where(or_(A.object_type == c["object"], A.object_id == c["object"]))
        stmt = instant_range(stmt, A.at, c)
        return stmt

    return Source(
        code="audit",
        title=N_("Audit log"),
        permission="audit.view",
        columns=(
            Column("seq", N_("No."), "int", 9),
            Column("at", N_("Time"), "datetime", 19),
            Column("actor", N_("Who"), "text", 14),
            Column("action", N_("Action"), "text", 22),
            Column("object_type", N_("Object"), "text", 16),
            Column("object_id", N_("Object id"), "text", 34),
            Column("before", N_("Before"), "text", 30),
            Column("after", N_("After"), "text", 40),
        ),
        filters=(
            Filter("actor", N_("Who")),
            Filter("action", N_("Action")),
            Filter("object", N_("Object"), "exact"),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        # seq is the order of writing; sorting by time is the same order, so both use the primary key.
        sorts={"seq": [A.seq], "at": [A.seq]},
        default_sort="seq",
        default_descending=True,
        tiebreak=[],
    )


def _journal_source() -> Source:
    from core.ledger.models import Account, Book, JournalEntry, Posting

    E, P, AC, B = JournalEntry, Posting, Account, Book

    def build(c: Criteria) -> Select:
        stmt = (
            select(
                E.business_date,
                E.id,
                P.line_no,
                AC.code,
                AC.name,
                case((P.amount_fen > 0, P.amount_fen), else_=0),
                case((P.amount_fen < 0, -P.amount_fen), else_=0),
                E.description,
                E.doc_type,
                E.doc_id,
                E.created_by,
            )
            .select_from(E)
            .join(B, B.id == E.book_id)
            .join(P, P.entry_id == E.id)
            .join(AC, AC.id == P.account_id)
            .where(B.code == c["book"])
        )
        stmt = date_range(stmt, E.business_date, c)
        if "account" in c:
            stmt = stmt.where(prefix(AC.code, c["account"]))
        if "doc" in c:
            stmt = stmt.where(or_(E.doc_id == c["doc"], E.doc_type == c["doc"]))
        if "text" in c:
            stmt = stmt.where(contains(E.description, c["text"]))
        return stmt

    return Source(
        code="ledger.journal",
        title=N_("Journal"),
        permission="ledger.view",
        columns=_journal_columns(),
        filters=(
            Filter("book", N_("Book"), "exact", required=True),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
            Filter("account", N_("Account")),
            Filter("doc", N_("Document"), "exact"),
            Filter("text", N_("Description"), "contains"),
        ),
        build=build,
        sorts={"date": [E.business_date]},
        default_sort="date",
        default_descending=True,
        tiebreak=[E.id, P.line_no],
    )


def _journal_columns() -> tuple[Column, ...]:
    return (
        Column("date", N_("Date"), "date", 10),
        Column("entry", N_("Entry"), "text", 36),
        Column("line", N_("Line"), "int", 4),
        Column("account", N_("Account"), "text", 14),
        Column("account_name", N_("Account name"), "text", 16),
        Column("debit", N_("Debit"), "fen", 14),
        Column("credit", N_("Credit"), "fen", 14),
        Column("description", N_("Description"), "text", 24),
        Column("doc_type", N_("Document type"), "text", 12),
        Column("doc_id", N_("Document"), "text", 20),
        Column("by", N_("By"), "text", 12),
    )


def _statement_source() -> Source:
    from core.ledger.models import Account, Book, JournalEntry, Posting

    E, P, AC, B = JournalEntry, Posting, Account, Book

    def build(c: Criteria) -> Select:
        # The running balance is over the whole account (not just the filtered dates), in posting order,
        # in the debit direction; the screen flips it for accounts whose normal side is credit.
        running = func.sum(P.amount_fen).over(order_by=(E.business_date, E.id, P.line_no))
        inner = (
            select(
                E.business_date.label("business_date"),
                E.id.label("entry_id"),
                P.line_no.label("line_no"),
                E.description.label("description"),
                E.doc_type.label("doc_type"),
                E.doc_id.label("doc_id"),
                P.amount_fen.label("amount_fen"),
                running.label("running_fen"),
            )
            .select_from(P)
            .join(E, E.id == P.entry_id)
            .join(AC, AC.id == P.account_id)
            .join(B, B.id == AC.book_id)
            .where(B.code == c["book"], AC.code == c["account"])
            .subquery("stmt")
        )
        stmt = select(
            inner.c.business_date,
            inner.c.entry_id,
            inner.c.line_no,
            inner.c.description,
            inner.c.doc_type,
            inner.c.doc_id,
            inner.c.amount_fen,
            inner.c.running_fen,
        )
        stmt = date_range(stmt, inner.c.business_date, c)
        return stmt

    # Sort expressions refer to the subquery's columns by name; they are bound when the statement is built.
    date_col, entry_col, line_col = (literal_column(n) for n in ("business_date", "entry_id", "line_no"))
    return Source(
        code="ledger.statement",
        title=N_("Account statement"),
        permission="ledger.view",
        columns=(
            Column("date", N_("Date"), "date", 10),
            Column("entry", N_("Entry"), "text", 36),
            Column("line", N_("Line"), "int", 4),
            Column("description", N_("Description"), "text", 24),
            Column("doc_type", N_("Document type"), "text", 12),
            Column("doc_id", N_("Document"), "text", 20),
            Column("amount", N_("Amount (debit +)"), "fen", 14),
            Column("running", N_("Running balance (debit +)"), "fen", 16),
        ),
        filters=(
            Filter("book", N_("Book"), "exact", required=True),
            Filter("account", N_("Account"), "exact", required=True),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"date": [date_col]},
        default_sort="date",
        default_descending=False,
        tiebreak=[entry_col, line_col],
    )


_USER_STATUS = (("active", N_("Active")), ("disabled", N_("Disabled")))


def _users_source() -> Source:
    from core.security.models import User, UserRole

    def build(c: Criteria) -> Select:
        stmt = select(
            User.username,
            User.display_name,
            User.status,
            User.id,  # replaced by the roles in `after`
            User.failed_logins,
            User.locked_until,
            User.last_login_at,
            User.created_at,
        )
        if "username" in c:
            stmt = stmt.where(prefix(User.username, c["username"].lower()))
        if "name" in c:
            stmt = stmt.where(contains(User.display_name, c["name"]))
        if "status" in c:
            stmt = stmt.where(User.status == c["status"])
        return stmt

    def with_roles(s: Session, rows: list[tuple]) -> list[tuple]:
        ids = [uuid.UUID(r[3]) for r in rows]
        roles: dict[str, list[str]] = {str(i): [] for i in ids}
        for uid, code in s.execute(
            select(UserRole.user_id, UserRole.role_code)
            .where(UserRole.user_id.in_(ids))
            .order_by(UserRole.role_code)
        ):
            roles[str(uid)].append(code)
        return [(*r[:3], ",".join(roles[r[3]]), *r[4:]) for r in rows]

    return Source(
        code="users",
        title=N_("Users"),
        permission="users.view",
        columns=(
            Column("username", N_("User name"), "text", 14),
            Column("display_name", N_("Name"), "text", 12),
            Column("status", N_("Status"), "text", 8, labels=_USER_STATUS),
            Column("roles", N_("Roles"), "text", 18),
            Column("failed_logins", N_("Failed logins"), "int", 6),
            Column("locked_until", N_("Locked until"), "datetime", 16),
            Column("last_login_at", N_("Last login"), "datetime", 16),
            Column("created_at", N_("Created"), "datetime", 16),
        ),
        filters=(
            Filter("username", N_("User name")),
            Filter("name", N_("Name"), "contains"),
            Filter(
                "status",
                N_("Status"),
                "choice",
                choices=_USER_STATUS,
            ),
        ),
        build=build,
        sorts={
            "username": [User.username],
            "display_name": [User.display_name],
            "status": [User.status],
            "last_login_at": [User.last_login_at],
            "created_at": [User.created_at],
        },
        default_sort="username",
        default_descending=False,
        tiebreak=[User.id],
        after=with_roles,
    )


def _approvals_source() -> Source:
    from core.workflow.models import STATUS_LABELS, STATUSES
    from core.workflow.models import ApprovalInstance as I

    def build(c: Criteria) -> Select:
        stmt = select(
            I.submitted_at,
            I.process_code,
            I.title,
            I.amount_fen,
            I.submitted_by_name,
            I.status,
            I.current_role,
            I.decided_at,
            I.id,
        )
        if "status" in c:
            stmt = stmt.where(I.status == c["status"])
        if "process" in c:
            stmt = stmt.where(prefix(I.process_code, c["process"]))
        if "submitter" in c:
            stmt = stmt.where(prefix(I.submitted_by_name, c["submitter"].lower()))
        stmt = instant_range(stmt, I.submitted_at, c)
        return stmt

    return Source(
        code="approvals",
        title=N_("Approvals"),
        permission="workflow.view",
        columns=(
            Column("submitted_at", N_("Submitted"), "datetime", 16),
            Column("process", N_("Process"), "text", 18),
            Column("title", N_("Title"), "text", 24),
            Column("amount", N_("Amount"), "fen", 12),
            Column("submitter", N_("Submitted by"), "text", 10),
            Column("status", N_("Status"), "text", 8, labels=tuple(STATUS_LABELS.items())),
            Column("role", N_("Waiting for"), "text", 10),
            Column("decided_at", N_("Decided"), "datetime", 16),
            Column("id", N_("Id"), "text", 36),
        ),
        filters=(
            Filter("status", N_("Status"), "choice", choices=tuple((s, STATUS_LABELS[s]) for s in STATUSES)),
            Filter("process", N_("Process")),
            Filter("submitter", N_("Submitted by")),
            Filter("date_from", N_("From date"), "date_from"),
            Filter("date_to", N_("To date"), "date_to"),
        ),
        build=build,
        sorts={"submitted_at": [I.submitted_at], "amount": [I.amount_fen], "status": [I.status]},
        default_sort="submitted_at",
        default_descending=True,
        tiebreak=[I.id],
    )
