"""Ledger use cases: books and accounts, balanced entries (one, or a fast batch), reversals, two-phase holds,
and balance/journal queries.

Public functions take a Context and check a permission (ledger.manage, ledger.post, ledger.hold, ledger.view).
The `*_in(uow, ...)` variants run inside a transaction another service already opened (it has checked its own
permission), so a business change and its ledger entries commit together or not at all.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate, chain, cycle, islice, repeat
from operator import add, attrgetter, itemgetter

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from core.clock import business_date as business_date_of
from core.context import Context
from core.db.bulk import binder, binds_uuid_as_hex, gc_paused, insert_rows
from core.errors import Conflict, InsufficientFunds, IntegrityProblem, NotFound, StateError, ValidationError
from core.i18n import N_
from core.ids import new_id, new_ids_with_hex
from core.jsonutil import encode_json_str
from core.ledger import rules
from core.ledger.models import Account, Book, Hold, JournalEntry, Posting
from core.uow import UnitOfWork

PAGE_SIZE_MAX = 1000
EXPIRE_BATCH_MAX = 10_000
_IN_CHUNK = 500  # ids/codes per IN (...) list, well below every driver's parameter limit

_BOOKS = Book.__table__
_ACCOUNTS = Account.__table__
_ENTRIES = JournalEntry.__table__
_POSTINGS = Posting.__table__
_HOLDS = Hold.__table__


# ---------------------------------------------------------------------------------------------------------
# Inputs and views


@dataclass(frozen=True)
class EntrySpec:
    """A journal entry to post: postings are (account code, amount_fen), debit > 0, credit < 0."""

    book: str
    business_date: date
    description: str
    postings: Sequence[tuple[str, int]]
    doc_type: str = ""
    doc_id: str = ""


@dataclass(frozen=True)
class BookView:
    id: uuid.UUID
    code: str
    name: str
    fund_type: str
    currency: str
    created_at: datetime


@dataclass(frozen=True)
class AccountView:
    id: uuid.UUID
    book: str
    code: str
    name: str
    type: str
    debits_must_not_exceed_credits: bool
    credits_must_not_exceed_debits: bool
    closed: bool


@dataclass(frozen=True)
class BalanceView:
    book: str
    account_code: str
    name: str
    type: str
    debits_posted_fen: int
    credits_posted_fen: int
    debits_pending_fen: int
    credits_pending_fen: int
    balance_fen: int  # posted, in the account's normal direction


@dataclass(frozen=True)
class TrialBalanceLine:
    account_code: str
    name: str
    type: str
    debits_fen: int
    credits_fen: int
    balance_fen: int


@dataclass(frozen=True)
class StatementLine:
    entry_id: uuid.UUID
    line_no: int
    business_date: date
    created_at: datetime
    description: str
    doc_type: str
    doc_id: str
    amount_fen: int


@dataclass(frozen=True)
class EntryView:
    id: uuid.UUID
    book: str
    business_date: date
    created_at: datetime
    description: str
    doc_type: str
    doc_id: str
    reverses_id: uuid.UUID | None
    created_by: str
    postings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class HoldView:
    id: uuid.UUID
    book: str
    debit_account: str
    credit_account: str
    amount_fen: int
    posted_fen: int
    status: str
    expires_at: datetime | None
    created_at: datetime
    resolved_at: datetime | None
    doc_type: str
    doc_id: str
    post_entry_id: uuid.UUID | None


@dataclass(frozen=True)
class _Acct:
    id: uuid.UUID
    code: str
    type: str
    dmnec: bool  # debits must not exceed credits
    cmned: bool  # credits must not exceed debits
    closed: bool


# ---------------------------------------------------------------------------------------------------------
# Books and accounts


def _book_view(row) -> BookView:
    return BookView(row.id, row.code, row.name, row.fund_type, row.currency, row.created_at)


def _check_book_input(code: str, name: str, fund_type: str) -> None:
    if not isinstance(code, str) or not rules.BOOK_CODE_RE.match(code):
        raise ValidationError(
            N_("A book code is capital letters, digits and . _ : - (at most 64), e.g. REPAIRFUND:C001."),
            field="code",
        )
    rules.check_text(name, rules.NAME_LEN_MAX, "name", required=True)
    rules.check_text(fund_type, rules.FUND_TYPE_LEN_MAX, "fund_type", required=True)


def _load_book(session: Session, code: str) -> BookView:
    row = session.execute(select(_BOOKS).where(_BOOKS.c.code == code)).one_or_none()
    if row is None:
        raise NotFound(N_("There is no book {book}."), book=code)
    return _book_view(row)


def create_book_in(uow: UnitOfWork, code: str, name: str, fund_type: str) -> BookView:
    _check_book_input(code, name, fund_type)
    s = uow.session
    if s.execute(select(_BOOKS.c.id).where(_BOOKS.c.code == code)).first() is not None:
        raise Conflict(N_("A book {book} already exists."), book=code)
    book = BookView(new_id(), code, name.strip(), fund_type.strip(), "CNY", uow.now)
    s.execute(insert(_BOOKS).values(**book.__dict__))
    after = {"code": book.code, "name": book.name, "fund_type": book.fund_type, "currency": book.currency}
    uow.audit("ledger.book_create", "ledger_book", book.id, after=after)
    uow.emit("ledger.book_created", {"id": str(book.id), **after})
    return book


def create_book(ctx: Context, code: str, name: str, fund_type: str) -> BookView:
    """Open the books of one segregated fund (账簿)."""
    with ctx.uow("ledger.manage") as uow:
        return create_book_in(uow, code, name, fund_type)


def ensure_book_in(uow: UnitOfWork, code: str, name: str, fund_type: str) -> BookView:
    """The book `code`, created if missing; an existing one with other attributes is a Conflict."""
    row = uow.session.execute(select(_BOOKS).where(_BOOKS.c.code == code)).one_or_none()
    if row is None:
        return create_book_in(uow, code, name, fund_type)
    if row.name != name.strip() or row.fund_type != fund_type.strip():
        raise Conflict(N_("Book {book} already exists with a different name or fund type."), book=code)
    return _book_view(row)


def ensure_book(ctx: Context, code: str, name: str, fund_type: str) -> BookView:
    with ctx.uow("ledger.manage") as uow:
        return ensure_book_in(uow, code, name, fund_type)


def _account_view(book: str, row) -> AccountView:
    return AccountView(
        row.id,
        book,
        row.code,
        row.name,
        row.type,
        bool(row.debits_must_not_exceed_credits),
        bool(row.credits_must_not_exceed_debits),
        bool(row.closed),
    )


def open_account_in(
    uow: UnitOfWork,
    book: str,
    code: str,
    name: str,
    type: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> AccountView:
    if not isinstance(code, str) or not rules.ACCOUNT_CODE_RE.match(code):
        raise ValidationError(
            N_("An account code is letters, digits and . _ : - (at most 80), e.g. 1002.wechat."), field="code"
        )
    rules.check_text(name, rules.NAME_LEN_MAX, "name", required=True)
    if type not in rules.ACCOUNT_TYPES:
        raise ValidationError(
            N_("The account type must be one of: asset, liability, equity, income, expense."), field="type"
        )
    if debits_must_not_exceed_credits and credits_must_not_exceed_debits:
        raise ValidationError(N_("An account can have only one of the two overdraft limits."), field="flags")
    s = uow.session
    bk = _load_book(s, book)
    exists = s.execute(
        select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.book_id == bk.id, _ACCOUNTS.c.code == code)
    ).first()
    if exists is not None:
        raise Conflict(N_("Account {account} already exists in book {book}."), account=code, book=book)
    account_id = new_id()
    row = {
        "id": account_id,
        "book_id": bk.id,
        "code": code,
        "name": name.strip(),
        "type": type,
        "debits_must_not_exceed_credits": bool(debits_must_not_exceed_credits),
        "credits_must_not_exceed_debits": bool(credits_must_not_exceed_debits),
        "debits_posted_fen": 0,
        "credits_posted_fen": 0,
        "debits_pending_fen": 0,
        "credits_pending_fen": 0,
        "closed": False,
        "created_at": uow.now,
    }
    s.execute(insert(_ACCOUNTS).values(**row))
    after = {
        "book": book,
        "code": code,
        "name": row["name"],
        "type": type,
        "debits_must_not_exceed_credits": row["debits_must_not_exceed_credits"],
        "credits_must_not_exceed_debits": row["credits_must_not_exceed_debits"],
    }
    uow.audit("ledger.account_open", "ledger_account", account_id, after=after)
    uow.emit("ledger.account_opened", {"id": str(account_id), **after})
    return AccountView(
        account_id,
        book,
        code,
        row["name"],
        type,
        row["debits_must_not_exceed_credits"],
        row["credits_must_not_exceed_debits"],
        False,
    )


def open_account(
    ctx: Context,
    book: str,
    code: str,
    name: str,
    type: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> AccountView:
    """Open an account (科目/账户) in `book`; the flags forbid overdrawing it (TigerBeetle's account flags)."""
    with ctx.uow("ledger.manage") as uow:
        return open_account_in(
            uow,
            book,
            code,
            name,
            type,
            debits_must_not_exceed_credits=debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        )


def ensure_account_in(
    uow: UnitOfWork,
    book: str,
    code: str,
    name: str,
    type: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> AccountView:
    """The account, opened if missing; an existing one with another name, type or limit is a Conflict."""
    bk = _load_book(uow.session, book)
    row = uow.session.execute(
        select(_ACCOUNTS).where(_ACCOUNTS.c.book_id == bk.id, _ACCOUNTS.c.code == code)
    ).one_or_none()
    if row is None:
        return open_account_in(
            uow,
            book,
            code,
            name,
            type,
            debits_must_not_exceed_credits=debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        )
    view = _account_view(book, row)
    if (view.name, view.type, view.debits_must_not_exceed_credits, view.credits_must_not_exceed_debits) != (
        name.strip(),
        type,
        bool(debits_must_not_exceed_credits),
        bool(credits_must_not_exceed_debits),
    ):
        raise Conflict(
            N_("Account {account} already exists in book {book} with other settings."),
            account=code,
            book=book,
        )
    return view


def ensure_account(
    ctx: Context,
    book: str,
    code: str,
    name: str,
    type: str,
    *,
    debits_must_not_exceed_credits: bool = False,
    credits_must_not_exceed_debits: bool = False,
) -> AccountView:
    with ctx.uow("ledger.manage") as uow:
        return ensure_account_in(
            uow,
            book,
            code,
            name,
            type,
            debits_must_not_exceed_credits=debits_must_not_exceed_credits,
            credits_must_not_exceed_debits=credits_must_not_exceed_debits,
        )


def close_account_in(uow: UnitOfWork, book: str, code: str) -> None:
    s = uow.session
    bk = _load_book(s, book)
    row = s.execute(
        select(_ACCOUNTS).where(_ACCOUNTS.c.book_id == bk.id, _ACCOUNTS.c.code == code).with_for_update()
    ).one_or_none()
    if row is None:
        raise NotFound(N_("Account {account} does not exist in book {book}."), account=code, book=book)
    if row.closed:
        raise StateError(N_("Account {account} in book {book} is already closed."), account=code, book=book)
    if row.debits_posted_fen != row.credits_posted_fen or row.debits_pending_fen or row.credits_pending_fen:
        raise StateError(
            N_("Account {account} in book {book} still has a balance or pending holds; it cannot be closed."),
            account=code,
            book=book,
        )
    done = s.execute(
        update(_ACCOUNTS).where(_ACCOUNTS.c.id == row.id, _ACCOUNTS.c.closed.is_(False)).values(closed=True)
    )
    if done.rowcount != 1:
        raise StateError(N_("Account {account} in book {book} is already closed."), account=code, book=book)
    uow.audit(
        "ledger.account_close", "ledger_account", row.id, before={"closed": False}, after={"closed": True}
    )
    uow.emit("ledger.account_closed", {"id": str(row.id), "book": book, "code": code})


def close_account(ctx: Context, book: str, code: str) -> None:
    """Close an account with a zero balance and no pending holds; nothing can be posted to it afterwards."""
    with ctx.uow("ledger.manage") as uow:
        close_account_in(uow, book, code)


# ---------------------------------------------------------------------------------------------------------
# Posting entries


def _chunks(items: Sequence, size: int = _IN_CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _accounts_by_code(session: Session, book_id: uuid.UUID, codes: Iterable[str]) -> dict[str, _Acct]:
    found: dict[str, _Acct] = {}
    for chunk in _chunks(sorted(set(codes))):
        for r in session.execute(_ACCOUNTS_BY_CODE, {"book_id": book_id, "codes": list(chunk)}):
            found[r.code] = _Acct(r.id, r.code, r.type, bool(r[3]), bool(r[4]), bool(r.closed))
    return found


# Prebuilt (expanding IN) lookups and the balance update: a one-entry post should not pay for building them.
_ACCOUNTS_BY_CODE = select(
    _ACCOUNTS.c.id,
    _ACCOUNTS.c.code,
    _ACCOUNTS.c.type,
    _ACCOUNTS.c.debits_must_not_exceed_credits,
    _ACCOUNTS.c.credits_must_not_exceed_debits,
    _ACCOUNTS.c.closed,
).where(_ACCOUNTS.c.book_id == bindparam("book_id"), _ACCOUNTS.c.code.in_(bindparam("codes", expanding=True)))
_BOOKS_BY_CODE = select(_BOOKS.c.code, _BOOKS.c.id).where(
    _BOOKS.c.code.in_(bindparam("codes", expanding=True))
)
_ADD_TO_BALANCES = (
    update(_ACCOUNTS)
    .where(_ACCOUNTS.c.id == bindparam("b_id"), _ACCOUNTS.c.closed.is_(False))
    .values(
        debits_posted_fen=_ACCOUNTS.c.debits_posted_fen + bindparam("b_debits"),
        credits_posted_fen=_ACCOUNTS.c.credits_posted_fen + bindparam("b_credits"),
    )
)


def _check_spec(spec: EntrySpec) -> None:
    if not isinstance(spec, EntrySpec):
        raise ValidationError(N_("An entry must be given as an EntrySpec."))
    if not isinstance(spec.book, str) or not spec.book:
        raise ValidationError(N_("The entry names no book."), field="book")
    rules.check_business_date(spec.business_date)
    rules.check_text(spec.description, rules.DESCRIPTION_LEN_MAX, "description", required=True)
    rules.check_text(spec.doc_type, rules.DOC_TYPE_LEN_MAX, "doc_type")
    rules.check_text(spec.doc_id, rules.DOC_ID_LEN_MAX, "doc_id")
    rules.check_postings(spec.postings)


def _lock_totals(session: Session, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, rules.Totals]:
    """Read (and on PostgreSQL lock, in id order so writers never deadlock) the totals of `account_ids`."""
    totals: dict[uuid.UUID, rules.Totals] = {}
    for chunk in _chunks(sorted(set(account_ids))):
        stmt = (
            select(
                _ACCOUNTS.c.id,
                _ACCOUNTS.c.debits_posted_fen,
                _ACCOUNTS.c.credits_posted_fen,
                _ACCOUNTS.c.debits_pending_fen,
                _ACCOUNTS.c.credits_pending_fen,
            )
            .where(_ACCOUNTS.c.id.in_(chunk))
            .order_by(_ACCOUNTS.c.id)
            .with_for_update()
        )
        for r in session.execute(stmt):
            totals[r.id] = rules.Totals(r[1], r[2], r[3], r[4])
    return totals


_ENTRY_COLUMNS = (
    "id",
    "book_id",
    "business_date",
    "created_at",
    "description",
    "doc_type",
    "doc_id",
    "reverses_id",
    "created_by",
)
_POSTING_COLUMNS = ("entry_id", "line_no", "account_id", "amount_fen")
_SPEC_FIELDS = tuple(
    map(attrgetter, ("book", "business_date", "description", "doc_type", "doc_id", "postings"))
)
_CODE, _AMOUNT = itemgetter(0), itemgetter(1)
_STR = {str}
_POSTING_TYPES = {tuple, list}
_US_JOIN = "\x1f".join


@dataclass
class _Columns:
    """A validated batch column by column, every value of its exact type (str, int, date)."""

    books: Sequence[str]
    dates: Sequence[date]
    descriptions: Sequence[str]
    doc_types: Sequence[str]
    doc_ids: Sequence[str]
    lens: list[int]  # postings per entry
    codes: Sequence[str]  # every posting of the batch, in order
    amounts: Sequence[int]


def _plainly_valid(specs: Sequence[EntrySpec]) -> _Columns | None:
    """The batch by columns when every entry is plainly valid, else None (then the per-entry checks decide).

    The same rules as _check_spec, applied to whole columns with C-speed built-ins instead of 100,000 Python
    calls. It only ever says yes to what _check_spec accepts: anything unusual (a subclass, a list where a
    tuple is usual, a problem anywhere) returns None and the precise checks name the entry and the problem.
    """
    try:
        if set(map(type, specs)) != {EntrySpec}:
            return None
        # One C-level pass per column (zip(*rows) would make 100,000 iterators).
        books, dates, descs, doc_types, doc_ids, postings = (list(map(get, specs)) for get in _SPEC_FIELDS)
        if set(map(type, books)) != _STR or "" in set(books) or set(map(type, dates)) != {date}:
            return None
        if set(map(type, chain(descs, doc_types, doc_ids))) != _STR:
            return None
        if (
            max(map(len, descs)) > rules.DESCRIPTION_LEN_MAX
            or max(map(len, doc_types)) > rules.DOC_TYPE_LEN_MAX
            or max(map(len, doc_ids)) > rules.DOC_ID_LEN_MAX
            or not all(map(str.strip, descs))
            # Concatenating cannot create a control character, so one search covers every field.
            or rules.CONTROL_RE.search("".join(chain(descs, doc_types, doc_ids)))
        ):
            return None
        lens = list(map(len, postings))
        if min(lens) < 2 or max(lens) > rules.POSTINGS_PER_ENTRY_MAX:
            return None
        flat = list(chain.from_iterable(postings))
        if not set(map(type, flat)) <= _POSTING_TYPES or set(map(len, flat)) != {2}:
            return None
        codes, amounts = list(map(_CODE, flat)), list(map(_AMOUNT, flat))
        if set(map(type, codes)) != _STR or "" in set(codes) or set(map(type, amounts)) != {int}:
            return None
        limit = rules.AMOUNT_ABS_MAX_FEN
        if 0 in amounts or max(amounts) >= limit or min(amounts) <= -limit:
            return None
        if lens.count(2) == len(lens):
            if any(map(add, amounts[0::2], amounts[1::2])):
                return None
        else:
            # Every entry balances iff the running total is zero at the end of every entry.
            running = [0, *accumulate(amounts)]
            if any(map(running.__getitem__, accumulate(lens))):
                return None
    except (TypeError, ValueError):
        return None
    return _Columns(books, dates, descs, doc_types, doc_ids, lens, codes, amounts)


def _batch_columns(specs: Sequence[EntrySpec]) -> _Columns:
    """Validate the batch; the first bad entry raises, with its number (1-based) as `entry`."""
    columns = _plainly_valid(specs)
    if columns is not None:
        return columns
    for index, spec in enumerate(specs):
        try:
            _check_spec(spec)
        except ValidationError as err:
            err.params.setdefault("entry", index + 1)
            raise
    # Valid, but unusual in form (str/int subclasses, lists for tuples): take exact-typed copies, so what is
    # written, hashed and sent is the plain value (str.__str__/int.__int__ ignore a subclass's overrides).
    flat = [posting for spec in specs for posting in spec.postings]
    return _Columns(
        [str.__str__(spec.book) for spec in specs],
        [spec.business_date for spec in specs],
        [str.__str__(spec.description) for spec in specs],
        [str.__str__(spec.doc_type) for spec in specs],
        [str.__str__(spec.doc_id) for spec in specs],
        [len(spec.postings) for spec in specs],
        [str.__str__(code) for code, _ in flat],
        [int.__int__(amount) for _, amount in flat],
    )


class _Written:
    """What _write_entries wrote: ids, each entry's outbox payload as canonical JSON, the batch digest."""

    def __init__(self, ids: list[uuid.UUID], entry_json: list[str], total_debits_fen: int, digest: str):
        self.ids = ids
        self.entry_json = entry_json
        self.total_debits_fen = total_debits_fen
        self.digest = digest

    @property
    def payloads(self) -> list[dict]:
        """The entries' payloads as objects (for one entry's audit record; a batch never needs them)."""
        return [json.loads(text) for text in self.entry_json]


def _raise_bad_posting(columns: _Columns, slots: list[int | None], accts: list[_Acct]) -> None:
    """The first posting, in batch order, to a missing or closed account: refuse it, naming its entry."""
    ends = list(accumulate(columns.lens))
    entry = 0
    for p, slot in enumerate(slots):
        while p >= ends[entry]:
            entry += 1
        if slot is None:
            raise ValidationError(
                N_("Account {account} does not exist in book {book}."),
                field="postings",
                account=columns.codes[p],
                book=columns.books[entry],
                entry=entry + 1,
            )
        if accts[slot].closed:
            raise ValidationError(
                N_("Account {account} in book {book} is closed."),
                field="postings",
                account=columns.codes[p],
                book=columns.books[entry],
                entry=entry + 1,
            )


def _entry_texts(
    cols: _Columns, id_texts: Sequence[str], reverses: Sequence[uuid.UUID | None] | None
) -> tuple[str, list[str]]:
    """The batch's audit digest (defined in post_many_in) and each entry's outbox payload as canonical JSON.

    Built as text a column at a time (str.join over zip, f-strings: the cheapest formatting CPython has), so
    100,000 entries cost no payload objects and no second encoding. The payload text equals canonical_json of
    the entry's payload object (sorted keys, no spaces, strings quoted by the same encoder); tests check it.
    """
    lens, codes = cols.lens, cols.codes
    amounts = list(map(str, cols.amounts))  # exact ints: str() is what the digest and JSON both print
    if reverses:
        rev_text: Iterable = [str(r) if r else "" for r in reverses]
        rev_json: Iterable = [f'"{r}"' if r else "null" for r in reverses]
    else:
        rev_text, rev_json = repeat(""), repeat("null")
    day_iso = {d: d.isoformat() for d in set(cols.dates)}
    isos = list(map(day_iso.__getitem__, cols.dates))
    enc = encode_json_str
    code_json = {code: enc(code) for code in set(codes)}
    codes_json = list(map(code_json.__getitem__, codes))
    # Fields never contain control characters (check_text, code patterns), so \x1f and \n separate unambiguously.
    head = (id_texts, cols.books, isos, cols.descriptions, cols.doc_types, cols.doc_ids, rev_text)
    # (zip strict=False below: rev_text/rev_json are an endless repeat() when nothing is reversed)
    if lens.count(2) == len(lens):
        a0, a1 = amounts[0::2], amounts[1::2]
        lines = map(_US_JOIN, zip(*head, codes[0::2], a0, codes[1::2], a1, strict=False))
        json_postings: Iterable = [
            f"[[{c0},{x0}],[{c1},{x1}]]"
            for c0, x0, c1, x1 in zip(codes_json[0::2], a0, codes_json[1::2], a1, strict=True)
        ]
    else:
        fields = iter(zip(codes, amounts, strict=True))
        per_entry = [_US_JOIN(chain.from_iterable(islice(fields, k))) for k in lens]
        lines = map(_US_JOIN, zip(*head, per_entry, strict=False))
        parts = iter([f"[{c},{x}]" for c, x in zip(codes_json, amounts, strict=True)])
        json_postings = ["[" + ",".join(islice(parts, k)) + "]" for k in lens]
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    book_json = {code: enc(code) for code in set(cols.books)}
    type_json = {doc_type: enc(doc_type) for doc_type in set(cols.doc_types)}
    entry_json = [
        f'{{"book":{b},"business_date":"{d}","description":{x},"doc_id":{i},"doc_type":{t},"entry_id":"{e}",'
        f'"postings":{p},"reverses_id":{r}}}'
        for b, d, x, i, t, e, p, r in zip(
            map(book_json.__getitem__, cols.books),
            isos,
            map(enc, cols.descriptions),
            map(enc, cols.doc_ids),
            map(type_json.__getitem__, cols.doc_types),
            id_texts,
            json_postings,
            rev_json,
            strict=False,
        )
    ]
    return digest, entry_json


# Open accounts by database, as (book code, account code) → (book id, account): what a payment's entry would
# otherwise read twice (its book, its accounts) on every post. An account's id, book, type and limits never
# change and books and accounts are never deleted; only `closed` can, and the balance update that every post
# makes matches open accounts only, so a cached account closed (or gone, in a database restored under the
# same Database) since is caught there and the batch resolved afresh. Filled only from committed reads.
_ACCOUNT_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_ACCOUNT_CACHE_MAX = 10_000


def _account_cache(uow: UnitOfWork) -> dict | None:
    """This database's cache, or None where a driver cannot count an executemany's rows (no check possible)."""
    db = uow.ctx.db
    cache = _ACCOUNT_CACHES.get(db)
    if cache is None:
        if not uow.session.get_bind().dialect.supports_sane_multi_rowcount:
            return None
        cache = _ACCOUNT_CACHES.setdefault(db, {})
    return cache


def _cached_accounts(
    cache: dict, cols: _Columns, book_codes: list[str]
) -> tuple[dict[str, uuid.UUID], list[_Acct], dict, Sequence] | None:
    """(books, accounts by slot, slot by key, key per posting) from the cache, or None if any is missing."""
    if len(book_codes) == 1:
        book = book_codes[0]
        keys: Sequence = cols.codes
        wanted = {code: (book, code) for code in set(keys)}
    else:
        keys = list(zip(chain.from_iterable(map(repeat, cols.books, cols.lens)), cols.codes, strict=True))
        wanted = {key: key for key in set(keys)}
    books: dict[str, uuid.UUID] = {}
    slot_accts: list[_Acct] = []
    slot_of: dict = {}
    for key, cache_key in wanted.items():
        hit = cache.get(cache_key)
        if hit is None:
            return None
        books[cache_key[0]] = hit[0]
        slot_of[key] = len(slot_accts)
        slot_accts.append(hit[1])
    return books, slot_accts, slot_of, keys


def _remember_after_commit(
    uow: UnitOfWork,
    cache: dict,
    books: dict[str, uuid.UUID],
    book_codes: list[str],
    slot_of: dict,
    slot_accts: list[_Acct],
) -> None:
    """Cache the open accounts just read once the transaction commits (a rollback may undo their creation)."""
    found = {}
    for key, slot in slot_of.items():
        book, code = (book_codes[0], key) if isinstance(key, str) else key
        acct = slot_accts[slot]
        if not acct.closed:
            found[(book, code)] = (books[book], acct)
    if not found:
        return

    def remember() -> None:
        if len(cache) + len(found) > _ACCOUNT_CACHE_MAX:
            cache.clear()
        cache.update(found)

    uow.after_commit(remember)


def _write_entries(
    uow: UnitOfWork, specs: Sequence[EntrySpec], reverses: Sequence[uuid.UUID | None] | None = None
) -> _Written:
    """Validate, check limits, and write `specs` with their balance changes; nothing is written on refusal.

    The batch is handled column by column (ids, books, dates, codes, amounts): at 100,000 entries a Python
    statement per entry costs more than SQLite's insert, so per-entry work is done by C-level map/zip.
    """
    with gc_paused():
        return _write_entries_now(uow, specs, reverses)


def _write_entries_now(
    uow: UnitOfWork, specs: Sequence[EntrySpec], reverses: Sequence[uuid.UUID | None] | None = None
) -> _Written:
    if not specs:
        raise ValidationError(N_("There are no entries to post."))
    if len(specs) > rules.ENTRIES_PER_BATCH_MAX:
        raise ValidationError(
            N_("At most {max} entries can be posted in one batch."), max=rules.ENTRIES_PER_BATCH_MAX
        )
    cols = _batch_columns(specs)
    s = uow.session
    lens, codes = cols.lens, cols.codes

    # Resolve every book and account once for the whole batch: from the accounts this database has already
    # shown open (no statement), else by reading them.
    book_codes = sorted(set(cols.books))
    cache = _account_cache(uow)
    cached = _cached_accounts(cache, cols, book_codes) if cache is not None else None
    if cached is not None:
        return _write_resolved(uow, specs, reverses, cols, *cached, cache=cache)
    books: dict[str, uuid.UUID] = {}
    for chunk in _chunks(book_codes):
        for r in s.execute(_BOOKS_BY_CODE, {"codes": list(chunk)}):
            books[r.code] = r.id
    if len(books) != len(book_codes):
        index = next(i for i, book in enumerate(cols.books) if book not in books)
        raise ValidationError(
            N_("There is no book {book}."), field="book", book=cols.books[index], entry=index + 1
        )
    # Accounts by slot number: list indexing keeps the per-posting work cheap at 100,000 entries.
    slot_accts: list[_Acct] = []
    slot_of: dict = {}
    if len(book_codes) == 1:
        keys: Sequence = codes
        for code, acct in _accounts_by_code(s, books[book_codes[0]], set(codes)).items():
            slot_of[code] = len(slot_accts)
            slot_accts.append(acct)
    else:
        keys = list(zip(chain.from_iterable(map(repeat, cols.books, lens)), codes, strict=True))
        wanted: dict[str, set[str]] = {}
        for book, code in set(keys):
            wanted.setdefault(book, set()).add(code)
        for book, book_wanted in wanted.items():
            for code, acct in _accounts_by_code(s, books[book], book_wanted).items():
                slot_of[(book, code)] = len(slot_accts)
                slot_accts.append(acct)
    if cache is not None:
        _remember_after_commit(uow, cache, books, book_codes, slot_of, slot_accts)
    return _write_resolved(uow, specs, reverses, cols, books, slot_accts, slot_of, keys)


def _write_resolved(
    uow: UnitOfWork,
    specs: Sequence[EntrySpec],
    reverses: Sequence[uuid.UUID | None] | None,
    cols: _Columns,
    books: dict[str, uuid.UUID],
    slot_accts: list[_Acct],
    slot_of: dict,
    keys: Sequence,
    *,
    cache: dict | None = None,
) -> _Written:
    """Write a validated batch whose books and accounts are resolved (`cache`: they came from the cache)."""
    s = uow.session
    n = len(specs)
    lens, amounts = cols.lens, cols.amounts
    two = lens.count(2) == n  # the usual shape: one debit, one credit
    slots = list(map(slot_of.get, keys))
    used = set(slots)
    if None in used or any(slot_accts[i].closed for i in used):
        _raise_bad_posting(cols, slots, slot_accts)

    debit_totals = [0] * len(slot_accts)
    credit_totals = [0] * len(slot_accts)
    for slot, amount in zip(slots, amounts, strict=True):
        if amount > 0:
            debit_totals[slot] += amount
        else:
            credit_totals[slot] -= amount
    total_debits_fen = sum(filter((0).__lt__, amounts))
    # Safety: the batch as a whole must balance, whatever the per-entry checks above concluded.
    if sum(amounts) != 0 or sum(debit_totals) != sum(credit_totals) or total_debits_fen != sum(debit_totals):
        raise IntegrityProblem(N_("Internal error: a ledger batch did not balance; nothing was written."))

    limited_slots = {i for i in used if slot_accts[i].dmnec or slot_accts[i].cmned}
    if limited_slots:
        limited = {slot_accts[i].id: slot_accts[i] for i in limited_slots}
        entry_of_posting = chain.from_iterable(map(repeat, range(n), lens))
        moves = [
            (index, slot_accts[slot].id, amount)
            for index, slot, amount in zip(entry_of_posting, slots, amounts, strict=True)
            if slot in limited_slots
        ]
        _simulate_limits(s, specs, limited, moves)

    # Ids: the UUID objects, the 32-hex form SQLite stores, and the text form (str(uuid)) made from that.
    ids, hexes = new_ids_with_hex(n)
    texts = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes]
    bind_id = binder(s, _ENTRIES.c.id)
    bound_ids = hexes if binds_uuid_as_hex(s, _ENTRIES.c.id) else list(map(bind_id, ids))
    rev_bound = [bind_id(r) if r else None for r in reverses] if reverses else repeat(None)
    bind_date = binder(s, _ENTRIES.c.business_date)
    day_bound = {d: bind_date(d) for d in set(cols.dates)}
    book_bound = {code: bind_id(book_id) for code, book_id in books.items()}
    slot_bound = [bind_id(a.id) for a in slot_accts]

    entry_rows = list(
        zip(
            bound_ids,
            map(book_bound.__getitem__, cols.books),
            map(day_bound.__getitem__, cols.dates),
            repeat(binder(s, _ENTRIES.c.created_at)(uow.now)),
            cols.descriptions,
            cols.doc_types,
            cols.doc_ids,
            rev_bound,
            repeat(uow.ctx.actor.username[:80]),
        )
    )
    if two:
        posting_entries: Iterable = chain.from_iterable(zip(bound_ids, bound_ids, strict=True))
        line_nos: Iterable = cycle((1, 2))
    else:
        posting_entries = chain.from_iterable(map(repeat, bound_ids, lens))
        line_nos = chain.from_iterable(map(range, repeat(1), map((1).__add__, lens)))
    posting_rows = list(
        zip(posting_entries, line_nos, map(slot_bound.__getitem__, slots), amounts, strict=False)
    )

    digest, entry_json = _entry_texts(cols, texts, reverses)

    changed = sorted(  # id order: concurrent writers lock rows in the same order
        (slot_accts[i].id, debit_totals[i], credit_totals[i])
        for i in range(len(slot_accts))
        if debit_totals[i] or credit_totals[i]
    )
    # The balances first, of open accounts only: every account of the batch must match, which is what proves
    # cached accounts still open (and still there); the inserts below follow only then.
    moved = s.execute(_ADD_TO_BALANCES, [{"b_id": a, "b_debits": d, "b_credits": c} for a, d, c in changed])
    if moved.rowcount != len(changed) and s.get_bind().dialect.supports_sane_multi_rowcount:
        # Undo exactly what matched (the same open rows; this transaction holds them).
        s.execute(_ADD_TO_BALANCES, [{"b_id": a, "b_debits": -d, "b_credits": -c} for a, d, c in changed])
        if cache is not None:  # a cached account was closed since: read them all afresh (and refuse it)
            cache.clear()
            return _write_entries_now(uow, specs, reverses)
        raise Conflict(N_("An account of this entry was closed meanwhile; try again."))
    insert_rows(s, _ENTRIES, _ENTRY_COLUMNS, entry_rows)
    insert_rows(s, _POSTINGS, _POSTING_COLUMNS, posting_rows)
    if limited_slots:
        _assert_within_limits(s, limited)
    return _Written(ids, entry_json, total_debits_fen, digest)


def _simulate_limits(
    s: Session,
    specs: Sequence[EntrySpec],
    limited: dict[uuid.UUID, _Acct],
    moves: list[tuple[int, uuid.UUID, int]],
) -> None:
    """Apply the batch to the limited accounts entry by entry, as it will be written; refuse the first overdraft."""
    totals = _lock_totals(s, limited)
    i = 0
    while i < len(moves):
        index = moves[i][0]
        touched: set[uuid.UUID] = set()
        while i < len(moves) and moves[i][0] == index:
            _, account_id, amount = moves[i]
            t = totals[account_id]
            if amount > 0:
                t.debits_posted_fen += amount
            else:
                t.credits_posted_fen -= amount
            touched.add(account_id)
            i += 1
        for account_id in sorted(touched):
            acct = limited[account_id]
            if rules.exceeds_limit(totals[account_id], acct.dmnec, acct.cmned):
                spec = specs[index]
                raise InsufficientFunds(
                    N_(
                        "Account {account} in book {book} does not have enough funds for entry {entry} ({description})."
                    ),
                    account=acct.code,
                    book=spec.book,
                    entry=index + 1,
                    description=spec.description,
                )


def _assert_within_limits(s: Session, limited: dict[uuid.UUID, _Acct]) -> None:
    """Re-read the limited accounts after writing: the simulation and the database must agree."""
    for account_id, t in _lock_totals(s, limited).items():
        acct = limited[account_id]
        if rules.exceeds_limit(t, acct.dmnec, acct.cmned):
            raise IntegrityProblem(
                N_("Internal error: account {account} went past its limit; nothing was written."),
                account=acct.code,
            )


def post_in(uow: UnitOfWork, spec: EntrySpec) -> uuid.UUID:
    """Post one entry inside the caller's transaction: one audit record and one outbox event."""
    written = _write_entries(uow, [spec])
    # The entry's payload text is canonical JSON already (the outbox sends the same text): not decoded and
    # encoded again for the audit record.
    uow.audit_encoded("ledger.post", "journal_entry", written.ids[0], written.entry_json[0])
    _emit_entries(uow, written)
    return written.ids[0]


EVENT_ENTRIES_MAX = 500


def _emit_entries(uow: UnitOfWork, written: _Written) -> None:
    """Outbox events "ledger.entries_posted" carrying up to EVENT_ENTRIES_MAX entries each, in posting order.

    Entries travel in chunks rather than one event each: a 100,000-entry batch is 200 events, not 100,000 rows.
    Each event is {"entries": [payload, ...]} in canonical JSON, joined from the entries' own canonical text.
    """
    texts = written.entry_json
    uow.emit_encoded(
        "ledger.entries_posted",
        [
            '{"entries":[' + ",".join(texts[i : i + EVENT_ENTRIES_MAX]) + "]}"
            for i in range(0, len(texts), EVENT_ENTRIES_MAX)
        ],
    )


def post_many_in(uow: UnitOfWork, specs: Sequence[EntrySpec]) -> list[uuid.UUID]:
    """Post a batch inside the caller's transaction: all or nothing, one audit record, entries in outbox events.

    The audit record's sha256 is over the entries in order, one line each: entry id, book, business date,
    description, doc type, doc id, reversed entry id (or empty), then account code and amount per posting,
    joined by U+001F; lines joined by newlines.
    """
    written = _write_entries(uow, specs)
    summary = {
        "count": len(written.ids),
        "total_debits_fen": written.total_debits_fen,
        "first_entry_id": str(written.ids[0]),
        "last_entry_id": str(written.ids[-1]),
        "sha256": written.digest,
    }
    uow.audit("ledger.post_batch", "journal_batch", written.ids[0], after=summary)
    _emit_entries(uow, written)
    return written.ids


def post(ctx: Context, spec: EntrySpec) -> uuid.UUID:
    """Post one balanced journal entry (记账)."""
    with ctx.uow("ledger.post") as uow:
        return post_in(uow, spec)


def post_batch(ctx: Context, specs: Sequence[EntrySpec]) -> list[uuid.UUID]:
    """Post many entries in one transaction, all or nothing (overdraft limits checked entry by entry)."""
    with ctx.uow("ledger.post") as uow:
        return post_many_in(uow, specs)


def reverse_in(
    uow: UnitOfWork, entry_id: uuid.UUID, reason: str, business_date: date | None = None
) -> uuid.UUID:
    """A new entry with the original's postings negated; an entry is reversed at most once, and a reversal is
    never itself reversed (post a new, correct entry instead)."""
    rules.check_text(reason, rules.DESCRIPTION_LEN_MAX, "reason", required=True)
    s = uow.session
    orig = s.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id).with_for_update()).one_or_none()
    if orig is None:
        raise NotFound(N_("There is no journal entry {entry}."), entry=str(entry_id))
    if orig.reverses_id is not None:
        raise StateError(
            N_("Entry {entry} is itself a reversal and cannot be reversed; post a new entry instead."),
            entry=str(entry_id),
        )
    earlier = s.execute(select(_ENTRIES.c.id).where(_ENTRIES.c.reverses_id == entry_id)).scalar_one_or_none()
    if earlier is not None:
        raise Conflict(
            N_("Entry {entry} was already reversed by entry {reversal}."),
            entry=str(entry_id),
            reversal=str(earlier),
        )
    book = s.execute(select(_BOOKS.c.code).where(_BOOKS.c.id == orig.book_id)).scalar_one()
    lines = s.execute(
        select(_ACCOUNTS.c.code, _POSTINGS.c.amount_fen)
        .join(_ACCOUNTS, _ACCOUNTS.c.id == _POSTINGS.c.account_id)
        .where(_POSTINGS.c.entry_id == entry_id)
        .order_by(_POSTINGS.c.line_no)
    ).all()
    spec = EntrySpec(
        book=book,
        business_date=business_date or business_date_of(uow.now),
        description=reason,
        postings=[(code, -amount) for code, amount in lines],
        doc_type=orig.doc_type,
        doc_id=orig.doc_id,
    )
    written = _write_entries(uow, [spec], reverses=[entry_id])
    uow.audit("ledger.reverse", "journal_entry", written.ids[0], after=written.payloads[0])
    _emit_entries(uow, written)
    return written.ids[0]


def reverse(ctx: Context, entry_id: uuid.UUID, reason: str, business_date: date | None = None) -> uuid.UUID:
    """Reverse (冲销) a posted entry with a new, negating entry."""
    with ctx.uow("ledger.post") as uow:
        return reverse_in(uow, entry_id, reason, business_date)


# ---------------------------------------------------------------------------------------------------------
# Holds (two-phase transfers)


def _move_pending(
    s: Session, debit_account_id: uuid.UUID, credit_account_id: uuid.UUID, amount_fen: int
) -> None:
    """Add `amount_fen` (negative to release) to the debit side's debits_pending and the credit side's credits_pending."""
    s.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == debit_account_id)
        .values(debits_pending_fen=_ACCOUNTS.c.debits_pending_fen + amount_fen)
    )
    s.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == credit_account_id)
        .values(credits_pending_fen=_ACCOUNTS.c.credits_pending_fen + amount_fen)
    )


def _hold_payload(hold_id: uuid.UUID, **fields: object) -> dict:
    return {
        "hold_id": str(hold_id),
        **{k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in fields.items()},
    }


def place_hold_in(
    uow: UnitOfWork,
    book: str,
    debit_account: str,
    credit_account: str,
    amount_fen: int,
    *,
    expires_at: datetime | None = None,
    doc_type: str = "",
    doc_id: str = "",
) -> uuid.UUID:
    """Reserve `amount_fen` from debit to credit account (冻结): pending until posted, voided or expired."""
    rules.check_amount(amount_fen)
    rules.check_text(doc_type, rules.DOC_TYPE_LEN_MAX, "doc_type")
    rules.check_text(doc_id, rules.DOC_ID_LEN_MAX, "doc_id")
    if expires_at is not None:
        if not isinstance(expires_at, datetime) or expires_at.tzinfo is None:
            raise ValidationError(N_("The expiry must be a time with a time zone."), field="expires_at")
        if expires_at <= uow.now:
            raise ValidationError(N_("The expiry must be in the future."), field="expires_at")
    if debit_account == credit_account:
        raise ValidationError(N_("A hold needs two different accounts."), field="credit_account")
    s = uow.session
    bk = _load_book(s, book)
    accts = _accounts_by_code(s, bk.id, [debit_account, credit_account])
    for code in (debit_account, credit_account):
        if code not in accts:
            raise ValidationError(
                N_("Account {account} does not exist in book {book}."), account=code, book=book
            )
        if accts[code].closed:
            raise ValidationError(N_("Account {account} in book {book} is closed."), account=code, book=book)
    debit, credit = accts[debit_account], accts[credit_account]
    totals = _lock_totals(s, [debit.id, credit.id])
    totals[debit.id].debits_pending_fen += amount_fen
    totals[credit.id].credits_pending_fen += amount_fen
    for acct in (debit, credit):
        if rules.exceeds_limit(totals[acct.id], acct.dmnec, acct.cmned):
            raise InsufficientFunds(
                N_(
                    "Account {account} in book {book} does not have enough funds for a hold of {amount} yuan."
                ),
                account=acct.code,
                book=book,
                amount=rules.format_yuan(amount_fen),
            )
    hold_id = new_id()
    s.execute(
        insert(_HOLDS).values(
            id=hold_id,
            book_id=bk.id,
            debit_account_id=debit.id,
            credit_account_id=credit.id,
            amount_fen=amount_fen,
            posted_fen=0,
            status="pending",
            expires_at=expires_at,
            created_at=uow.now,
            resolved_at=None,
            doc_type=doc_type,
            doc_id=doc_id,
            post_entry_id=None,
        )
    )
    _move_pending(s, debit.id, credit.id, amount_fen)
    payload = _hold_payload(
        hold_id,
        book=book,
        debit_account=debit_account,
        credit_account=credit_account,
        amount_fen=amount_fen,
        expires_at=expires_at.isoformat() if expires_at else None,
        doc_type=doc_type,
        doc_id=doc_id,
    )
    uow.audit("ledger.hold_place", "ledger_hold", hold_id, after=payload)
    uow.emit("ledger.hold_placed", payload)
    return hold_id


def place_hold(
    ctx: Context,
    book: str,
    debit_account: str,
    credit_account: str,
    amount_fen: int,
    *,
    expires_at: datetime | None = None,
    doc_type: str = "",
    doc_id: str = "",
) -> uuid.UUID:
    with ctx.uow("ledger.hold") as uow:
        return place_hold_in(
            uow,
            book,
            debit_account,
            credit_account,
            amount_fen,
            expires_at=expires_at,
            doc_type=doc_type,
            doc_id=doc_id,
        )


def _pending_hold(uow: UnitOfWork, hold_id: uuid.UUID):
    """The hold, locked; refused unless it is pending and not past its expiry."""
    row = uow.session.execute(select(_HOLDS).where(_HOLDS.c.id == hold_id).with_for_update()).one_or_none()
    if row is None:
        raise NotFound(N_("There is no hold {hold}."), hold=str(hold_id))
    if row.status != "pending":
        raise StateError(N_("Hold {hold} is already {status}."), hold=str(hold_id), status=row.status)
    if row.expires_at is not None and row.expires_at <= uow.now:
        raise StateError(
            N_("Hold {hold} expired at {expires_at}; it is released by the expiry sweep."),
            code="expired",
            hold=str(hold_id),
            expires_at=row.expires_at.isoformat(),
        )
    return row


def _resolve(uow: UnitOfWork, hold_id: uuid.UUID, status: str, posted_fen: int) -> None:
    """Compare-and-set pending → `status`: a hold resolves exactly once."""
    done = uow.session.execute(
        update(_HOLDS)
        .where(_HOLDS.c.id == hold_id, _HOLDS.c.status == "pending")
        .values(status=status, posted_fen=posted_fen, resolved_at=uow.now)
    )
    if done.rowcount != 1:
        raise StateError(N_("Hold {hold} is no longer pending."), hold=str(hold_id))


def post_hold_in(
    uow: UnitOfWork,
    hold_id: uuid.UUID,
    amount_fen: int | None = None,
    business_date: date | None = None,
    description: str | None = None,
) -> uuid.UUID:
    """Post all or part of a pending hold as a journal entry; the rest is released. Returns the entry id."""
    hold = _pending_hold(uow, hold_id)
    amount = hold.amount_fen if amount_fen is None else rules.check_amount(amount_fen)
    if amount > hold.amount_fen:
        raise ValidationError(
            N_("Cannot post {amount} yuan from a hold of {held} yuan."),
            field="amount_fen",
            amount=rules.format_yuan(amount),
            held=rules.format_yuan(hold.amount_fen),
        )
    s = uow.session
    book = s.execute(select(_BOOKS.c.code).where(_BOOKS.c.id == hold.book_id)).scalar_one()
    codes = dict(
        s.execute(
            select(_ACCOUNTS.c.id, _ACCOUNTS.c.code).where(
                _ACCOUNTS.c.id.in_([hold.debit_account_id, hold.credit_account_id])
            )
        ).all()
    )
    spec = EntrySpec(
        book=book,
        business_date=business_date or business_date_of(uow.now),
        description=description or f"hold {hold_id}",
        postings=[(codes[hold.debit_account_id], amount), (codes[hold.credit_account_id], -amount)],
        doc_type=hold.doc_type,
        doc_id=hold.doc_id,
    )
    _check_spec(spec)  # before the hold changes state
    _resolve(uow, hold_id, "posted", amount)
    _move_pending(s, hold.debit_account_id, hold.credit_account_id, -hold.amount_fen)
    written = _write_entries(uow, [spec])
    entry_id = written.ids[0]
    s.execute(update(_HOLDS).where(_HOLDS.c.id == hold_id).values(post_entry_id=entry_id))
    after = {"status": "posted", "posted_fen": amount, "post_entry_id": str(entry_id)}
    uow.audit("ledger.hold_post", "ledger_hold", hold_id, before={"status": "pending"}, after=after)
    _emit_entries(uow, written)
    uow.emit("ledger.hold_posted", _hold_payload(hold_id, **after))
    return entry_id


def post_hold(
    ctx: Context,
    hold_id: uuid.UUID,
    amount_fen: int | None = None,
    business_date: date | None = None,
    description: str | None = None,
) -> uuid.UUID:
    with ctx.uow("ledger.hold") as uow:
        return post_hold_in(uow, hold_id, amount_fen, business_date, description)


def void_hold_in(uow: UnitOfWork, hold_id: uuid.UUID) -> None:
    """Release a pending hold without posting anything (解冻)."""
    hold = _pending_hold(uow, hold_id)
    _resolve(uow, hold_id, "voided", 0)
    _move_pending(uow.session, hold.debit_account_id, hold.credit_account_id, -hold.amount_fen)
    uow.audit(
        "ledger.hold_void", "ledger_hold", hold_id, before={"status": "pending"}, after={"status": "voided"}
    )
    uow.emit("ledger.hold_voided", _hold_payload(hold_id, status="voided"))


def void_hold(ctx: Context, hold_id: uuid.UUID) -> None:
    with ctx.uow("ledger.hold") as uow:
        void_hold_in(uow, hold_id)


def expire_holds_in(uow: UnitOfWork) -> int:
    """Mark pending holds whose expiry has passed as expired and release them (at most EXPIRE_BATCH_MAX)."""
    s = uow.session
    rows = s.execute(
        select(_HOLDS.c.id, _HOLDS.c.debit_account_id, _HOLDS.c.credit_account_id, _HOLDS.c.amount_fen)
        .where(_HOLDS.c.status == "pending", _HOLDS.c.expires_at.is_not(None), _HOLDS.c.expires_at <= uow.now)
        .order_by(_HOLDS.c.id)
        .limit(EXPIRE_BATCH_MAX)
        .with_for_update()
    ).all()
    if not rows:
        return 0
    ids = [r.id for r in rows]
    for chunk in _chunks(ids):
        done = s.execute(
            update(_HOLDS)
            .where(_HOLDS.c.id.in_(chunk), _HOLDS.c.status == "pending")
            .values(status="expired", resolved_at=uow.now)
        )
        if done.rowcount != len(chunk):
            raise StateError(N_("A hold changed state during the expiry sweep; try again."))
    debit_release: dict[uuid.UUID, int] = {}
    credit_release: dict[uuid.UUID, int] = {}
    for r in rows:
        debit_release[r.debit_account_id] = debit_release.get(r.debit_account_id, 0) + r.amount_fen
        credit_release[r.credit_account_id] = credit_release.get(r.credit_account_id, 0) + r.amount_fen
    s.execute(
        update(_ACCOUNTS)
        .where(_ACCOUNTS.c.id == bindparam("b_id"))
        .values(
            debits_pending_fen=_ACCOUNTS.c.debits_pending_fen - bindparam("b_debits"),
            credits_pending_fen=_ACCOUNTS.c.credits_pending_fen - bindparam("b_credits"),
        ),
        [
            {"b_id": a, "b_debits": debit_release.get(a, 0), "b_credits": credit_release.get(a, 0)}
            for a in sorted(set(debit_release) | set(credit_release))
        ],
    )
    uow.audit(
        "ledger.hold_expire",
        "ledger_hold",
        ids[0],
        after={"count": len(ids), "hold_ids": [str(i) for i in ids]},
    )
    uow.emit_many("ledger.hold_expired", [_hold_payload(i, status="expired") for i in ids])
    return len(ids)


def expire_holds(ctx: Context) -> int:
    """The expiry sweep: run it on a schedule; returns how many holds expired."""
    with ctx.uow("ledger.hold") as uow:
        return expire_holds_in(uow)


# ---------------------------------------------------------------------------------------------------------
# Queries


def _check_page(limit: int, offset: int) -> None:
    if not rules.is_amount(limit) or not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(N_("A page holds 1 to {max} rows."), field="limit", max=PAGE_SIZE_MAX)
    if not rules.is_amount(offset) or offset < 0:
        raise ValidationError(N_("The offset cannot be negative."), field="offset")


def _load_account(session: Session, book: str, code: str):
    bk = _load_book(session, book)
    row = session.execute(
        select(_ACCOUNTS).where(_ACCOUNTS.c.book_id == bk.id, _ACCOUNTS.c.code == code)
    ).one_or_none()
    if row is None:
        raise NotFound(N_("Account {account} does not exist in book {book}."), account=code, book=book)
    return bk, row


def list_books(ctx: Context) -> list[BookView]:
    with ctx.read("ledger.view") as s:
        return [_book_view(r) for r in s.execute(select(_BOOKS).order_by(_BOOKS.c.code))]


def list_accounts(ctx: Context, book: str) -> list[AccountView]:
    with ctx.read("ledger.view") as s:
        bk = _load_book(s, book)
        rows = s.execute(select(_ACCOUNTS).where(_ACCOUNTS.c.book_id == bk.id).order_by(_ACCOUNTS.c.code))
        return [_account_view(book, r) for r in rows]


def get_balance(ctx: Context, book: str, account_code: str) -> BalanceView:
    with ctx.read("ledger.view") as s:
        _, r = _load_account(s, book, account_code)
        return BalanceView(
            book,
            r.code,
            r.name,
            r.type,
            r.debits_posted_fen,
            r.credits_posted_fen,
            r.debits_pending_fen,
            r.credits_pending_fen,
            rules.normal_balance_fen(r.type, r.debits_posted_fen, r.credits_posted_fen),
        )


def trial_balance(ctx: Context, book: str, as_of: date | None = None) -> list[TrialBalanceLine]:
    """试算平衡表: every account's posted debits and credits (up to `as_of` business date when given)."""
    with ctx.read("ledger.view") as s:
        bk = _load_book(s, book)
        accounts = s.execute(
            select(
                _ACCOUNTS.c.id,
                _ACCOUNTS.c.code,
                _ACCOUNTS.c.name,
                _ACCOUNTS.c.type,
                _ACCOUNTS.c.debits_posted_fen,
                _ACCOUNTS.c.credits_posted_fen,
            )
            .where(_ACCOUNTS.c.book_id == bk.id)
            .order_by(_ACCOUNTS.c.code)
        ).all()
        if as_of is None:
            sums = {a.id: (a.debits_posted_fen, a.credits_posted_fen) for a in accounts}
        else:
            rules.check_business_date(as_of)
            amount = _POSTINGS.c.amount_fen
            stmt = (
                select(
                    _POSTINGS.c.account_id,
                    func.coalesce(func.sum(amount).filter(amount > 0), 0),
                    func.coalesce(func.sum(-amount).filter(amount < 0), 0),
                )
                .join(_ENTRIES, _ENTRIES.c.id == _POSTINGS.c.entry_id)
                .where(_ENTRIES.c.book_id == bk.id, _ENTRIES.c.business_date <= as_of)
                .group_by(_POSTINGS.c.account_id)
            )
            sums = {r[0]: (int(r[1]), int(r[2])) for r in s.execute(stmt)}
        lines = []
        for a in accounts:
            d, c = sums.get(a.id, (0, 0))
            lines.append(
                TrialBalanceLine(a.code, a.name, a.type, d, c, rules.normal_balance_fen(a.type, d, c))
            )
        return lines


def account_statement(
    ctx: Context,
    book: str,
    account_code: str,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[StatementLine]:
    """The account's postings in business-date order (明细账), one page."""
    _check_page(limit, offset)
    with ctx.read("ledger.view") as s:
        _, acct = _load_account(s, book, account_code)
        stmt = (
            select(
                _POSTINGS.c.entry_id,
                _POSTINGS.c.line_no,
                _ENTRIES.c.business_date,
                _ENTRIES.c.created_at,
                _ENTRIES.c.description,
                _ENTRIES.c.doc_type,
                _ENTRIES.c.doc_id,
                _POSTINGS.c.amount_fen,
            )
            .join(_ENTRIES, _ENTRIES.c.id == _POSTINGS.c.entry_id)
            .where(_POSTINGS.c.account_id == acct.id)
        )
        if date_from is not None:
            stmt = stmt.where(_ENTRIES.c.business_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(_ENTRIES.c.business_date <= date_to)
        stmt = (
            stmt.order_by(_ENTRIES.c.business_date, _ENTRIES.c.id, _POSTINGS.c.line_no)
            .limit(limit)
            .offset(offset)
        )
        return [StatementLine(*r) for r in s.execute(stmt)]


def _entry_views(s: Session, book: str, rows: Sequence) -> list[EntryView]:
    ids = [r.id for r in rows]
    lines: dict[uuid.UUID, list[tuple[str, int]]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        stmt = (
            select(_POSTINGS.c.entry_id, _ACCOUNTS.c.code, _POSTINGS.c.amount_fen)
            .join(_ACCOUNTS, _ACCOUNTS.c.id == _POSTINGS.c.account_id)
            .where(_POSTINGS.c.entry_id.in_(chunk))
            .order_by(_POSTINGS.c.entry_id, _POSTINGS.c.line_no)
        )
        for entry_id, code, amount in s.execute(stmt):
            lines[entry_id].append((code, amount))
    return [
        EntryView(
            r.id,
            book,
            r.business_date,
            r.created_at,
            r.description,
            r.doc_type,
            r.doc_id,
            r.reverses_id,
            r.created_by,
            tuple(lines[r.id]),
        )
        for r in rows
    ]


def journal(
    ctx: Context,
    book: str,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[EntryView]:
    """The book's entries with their postings in business-date order (日记账), one page."""
    _check_page(limit, offset)
    with ctx.read("ledger.view") as s:
        bk = _load_book(s, book)
        stmt = select(_ENTRIES).where(_ENTRIES.c.book_id == bk.id)
        if date_from is not None:
            stmt = stmt.where(_ENTRIES.c.business_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(_ENTRIES.c.business_date <= date_to)
        rows = s.execute(
            stmt.order_by(_ENTRIES.c.business_date, _ENTRIES.c.id).limit(limit).offset(offset)
        ).all()
        return _entry_views(s, book, rows)


def get_entry(ctx: Context, entry_id: uuid.UUID) -> EntryView:
    with ctx.read("ledger.view") as s:
        row = s.execute(select(_ENTRIES).where(_ENTRIES.c.id == entry_id)).one_or_none()
        if row is None:
            raise NotFound(N_("There is no journal entry {entry}."), entry=str(entry_id))
        book = s.execute(select(_BOOKS.c.code).where(_BOOKS.c.id == row.book_id)).scalar_one()
        return _entry_views(s, book, [row])[0]


def get_hold(ctx: Context, hold_id: uuid.UUID) -> HoldView:
    with ctx.read("ledger.view") as s:
        h = s.execute(select(_HOLDS).where(_HOLDS.c.id == hold_id)).one_or_none()
        if h is None:
            raise NotFound(N_("There is no hold {hold}."), hold=str(hold_id))
        book = s.execute(select(_BOOKS.c.code).where(_BOOKS.c.id == h.book_id)).scalar_one()
        codes = dict(
            s.execute(
                select(_ACCOUNTS.c.id, _ACCOUNTS.c.code).where(
                    _ACCOUNTS.c.id.in_([h.debit_account_id, h.credit_account_id])
                )
            ).all()
        )
        return HoldView(
            h.id,
            book,
            codes[h.debit_account_id],
            codes[h.credit_account_id],
            h.amount_fen,
            h.posted_fen,
            h.status,
            h.expires_at,
            h.created_at,
            h.resolved_at,
            h.doc_type,
            h.doc_id,
            h.post_entry_id,
        )
