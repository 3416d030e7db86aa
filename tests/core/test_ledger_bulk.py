"""The bulk posting path: its fast checks never accept what the per-entry checks refuse, its payload text is
exactly canonical JSON, its digest follows the documented definition, and odd-but-valid input posts the same.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.audit.models import AuditRecord
from core.errors import ValidationError
from core.ids import new_id, new_id_ints, new_ids, new_ids_with_hex, uuid_of_int
from core.jsonutil import canonical_json
from core.ledger import rules
from core.ledger import services as L
from core.ledger.models import JournalEntry
from core.ledger.verify import verify
from core.sync.models import OutboxEvent

DAY = date(2026, 11, 25)


@pytest.fixture
def books(ctx):
    L.create_book(ctx, "PROPERTY", "物业公司账簿", "property")
    L.open_account(ctx, "PROPERTY", "1001", "库存现金", "asset")
    L.open_account(ctx, "PROPERTY", "1002", "银行存款", "asset", credits_must_not_exceed_debits=True)
    L.open_account(ctx, "PROPERTY", "6001", "物业费收入", "income")
    L.open_account(ctx, "PROPERTY", "6002", "停车费收入", "income")
    L.create_book(ctx, "REPAIRFUND:C001", "维修资金 C001", "repairfund")
    L.open_account(ctx, "REPAIRFUND:C001", "1002", "专户存款", "asset")
    L.open_account(ctx, "REPAIRFUND:C001", "9999", "其他", "equity")
    return ctx


def reference_payload(entry_id: uuid.UUID, spec: L.EntrySpec, reverses: uuid.UUID | None = None) -> dict:
    """The entry payload as the per-entry implementation built it (the object canonical_json must match)."""
    return {
        "entry_id": str(entry_id),
        "book": spec.book,
        "business_date": spec.business_date.isoformat(),
        "description": spec.description,
        "doc_type": spec.doc_type,
        "doc_id": spec.doc_id,
        "reverses_id": str(reverses) if reverses else None,
        "postings": [[code, amount] for code, amount in spec.postings],
    }


def reference_digest(ids: list[uuid.UUID], specs: list[L.EntrySpec]) -> str:
    """post_many_in's documented definition, computed the slow, obvious way."""
    lines = []
    for entry_id, spec in zip(ids, specs, strict=True):
        fields = [str(entry_id), spec.book, spec.business_date.isoformat(), spec.description]
        fields += [spec.doc_type, spec.doc_id, ""]
        for code, amount in spec.postings:
            fields += [code, str(amount)]
        lines.append("\x1f".join(fields))
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def columns(specs: list[L.EntrySpec]) -> L._Columns:
    cols = L._plainly_valid(specs)
    assert cols is not None
    return cols


# --- pure: payload text, digest, fast checks ----------------------------------------------------------------

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x7f"), max_size=30)
clean = text.filter(lambda t: not rules.CONTROL_RE.search(t))
code = st.from_regex(rules.ACCOUNT_CODE_RE, fullmatch=True)
amount = st.integers(-(10**15) + 1, 10**15 - 1).filter(bool)


@st.composite
def entry_specs(draw) -> L.EntrySpec:
    debits = draw(st.lists(st.tuples(code, st.integers(1, 10**9)), min_size=1, max_size=4))
    credit = (draw(code), -sum(a for _, a in debits))
    postings = draw(st.permutations([*debits, credit]))
    return L.EntrySpec(
        draw(st.sampled_from(["PROPERTY", "REPAIRFUND:C001", 'Q"\\'])),
        draw(st.dates()),
        draw(clean.filter(str.strip)),
        postings,
        doc_type=draw(clean),
        doc_id=draw(clean),
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(entry_specs(), min_size=1, max_size=6), st.booleans())
def test_payload_text_is_canonical_json_and_digest_follows_its_definition(specs, reversal):
    ids = new_ids(len(specs))
    reverses = [new_id() if reversal and i == 0 else None for i in range(len(specs))]
    digest, texts = L._entry_texts(columns(specs), [str(i) for i in ids], reverses if reversal else None)
    for entry_id, spec, rev, got in zip(ids, specs, reverses, texts, strict=True):
        assert got == canonical_json(reference_payload(entry_id, spec, rev))
    if not reversal:
        assert digest == reference_digest(ids, specs)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.builds(
            L.EntrySpec,
            st.sampled_from(["PROPERTY", ""]),
            st.one_of(st.dates(), st.datetimes()),
            st.one_of(text, st.just("  ")),
            st.lists(st.tuples(st.one_of(code, st.just("")), st.one_of(amount, st.just(0))), max_size=4),
            doc_type=st.one_of(text, st.text(max_size=45)),
            doc_id=text,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_fast_checks_accept_only_what_the_per_entry_checks_accept(specs):
    if L._plainly_valid(specs) is not None:
        for spec in specs:
            L._check_spec(spec)  # raises if the fast path let something through


def test_fast_checks_take_the_usual_batch_and_leave_odd_ones_to_the_precise_checks():
    usual = [
        L.EntrySpec("B", DAY, "x", [("1", 5), ("2", -5)]),
        L.EntrySpec("B", DAY, "y", [("1", 1), ("2", -1)]),
    ]
    assert L._plainly_valid(usual) is not None
    three = [L.EntrySpec("B", DAY, "x", [("1", 5), ("2", -2), ("3", -3)])]
    assert L._plainly_valid(usual + three) is not None
    # unbalanced only in total across a two- and a three-posting entry: caught per entry
    assert L._plainly_valid([L.EntrySpec("B", DAY, "x", [("1", 5), ("2", -4), ("3", -2)]), usual[0]]) is None
    assert L._plainly_valid([L.EntrySpec("B", DAY, "x", [("1", 5), ("2", -6)])]) is None
    assert L._plainly_valid([L.EntrySpec("B", datetime(2026, 1, 1), "x", [("1", 5), ("2", -5)])]) is None
    assert L._plainly_valid([L.EntrySpec("B", DAY, "a\nb", [("1", 5), ("2", -5)])]) is None
    assert L._plainly_valid([L.EntrySpec("B", DAY, "x", [("1", True), ("2", -1)])]) is None
    assert L._plainly_valid([L.EntrySpec("B", DAY, "x", "ab")]) is None


def test_bulk_ids_are_uuid7_in_order_and_behave_like_uuids():
    before = new_id()
    ints = new_id_ints(5000)
    after = new_id()
    ids = [uuid_of_int(i) for i in ints]
    assert before < ids[0] and ids == sorted(ids) and ids[-1] < after and len(set(ids)) == 5000
    for i in ids[:50]:
        plain = uuid.UUID(int=i.int)
        assert (i.version, i.variant) == (7, uuid.RFC_4122)
        assert i == plain and hash(i) == hash(plain) and str(i) == str(plain) and i.hex == plain.hex
        assert uuid.UUID(str(i)) == i


# --- through the database (SQLite and PostgreSQL) ------------------------------------------------------------


def events(ctx) -> list[dict]:
    with ctx.read() as s:
        rows = s.execute(
            select(OutboxEvent.payload)
            .where(OutboxEvent.type == "ledger.entries_posted")
            .order_by(OutboxEvent.site_seq)
        ).scalars()
        return [e for p in rows for e in json.loads(p)["entries"]]


def test_mixed_batch_of_books_and_posting_counts_posts_like_one_by_one(books):
    ctx = books
    specs = [
        L.EntrySpec("PROPERTY", DAY, '引号 " 与 \\ 反斜杠', [("1002", 300), ("6001", -200), ("6002", -100)]),
        L.EntrySpec("REPAIRFUND:C001", DAY, "缴存", [("1002", 50), ("9999", -50)], doc_type="d", doc_id="1"),
        L.EntrySpec("PROPERTY", date(2026, 12, 1), "😀 emoji", [("1001", 7), ("6001", -7)]),
    ]
    ids = L.post_batch(ctx, specs)
    with ctx.read() as s:
        after = json.loads(
            s.execute(select(AuditRecord.after_json).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        )
    assert after["sha256"] == reference_digest(ids, specs)
    assert events(ctx) == [reference_payload(i, sp) for i, sp in zip(ids, specs, strict=True)]
    assert [L.get_entry(ctx, i).postings for i in ids] == [tuple(sp.postings) for sp in specs]
    assert L.get_balance(ctx, "PROPERTY", "6001").balance_fen == 207
    assert L.get_balance(ctx, "REPAIRFUND:C001", "9999").balance_fen == 50
    with ctx.read() as s:
        assert verify(s).ok


class Code(str):
    def __str__(self) -> str:  # a subclass that would lie when printed
        return "6002"


class Fen(int):
    def __str__(self) -> str:
        return "0"


def test_odd_but_valid_input_is_stored_hashed_and_sent_as_plain_values(books):
    ctx = books
    odd = L.EntrySpec("PROPERTY", DAY, "odd", [["1001", Fen(25)], (Code("6001"), -25)])
    plain = L.EntrySpec("PROPERTY", DAY, "odd", [("1001", 25), ("6001", -25)])
    (entry_id,) = L.post_batch(ctx, [odd])
    assert L.get_entry(ctx, entry_id).postings == (("1001", 25), ("6001", -25))
    assert events(ctx)[-1] == reference_payload(entry_id, plain)
    with ctx.read() as s:
        after = json.loads(
            s.execute(select(AuditRecord.after_json).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        )
    assert after["sha256"] == reference_digest([entry_id], [plain])


def test_the_first_bad_posting_in_batch_order_is_named(books):
    ctx = books
    L.close_account(ctx, "PROPERTY", "6002")
    good = L.EntrySpec("PROPERTY", DAY, "ok", [("1001", 1), ("6001", -1)])
    cases = [
        ([good, good, L.EntrySpec("PROPERTY", DAY, "x", [("1001", 1), ("7777", -1)])], 3, "7777", "exist"),
        ([good, L.EntrySpec("PROPERTY", DAY, "x", [("1001", 1), ("6002", -1)]), good], 2, "6002", "closed"),
        ([good, L.EntrySpec("REPAIRFUND:C001", DAY, "x", [("1002", 1), ("6001", -1)])], 2, "6001", "exist"),
    ]
    for batch, entry, account, word in cases:
        with pytest.raises(ValidationError) as err:
            L.post_batch(ctx, batch)
        assert (err.value.params["entry"], err.value.params["account"]) == (entry, account)
        assert word in err.value.msgid
    with pytest.raises(ValidationError) as err:
        L.post_batch(ctx, [good, L.EntrySpec("NOBOOK", DAY, "x", [("1", 1), ("2", -1)])])
    assert err.value.params["entry"] == 2
    with ctx.read() as s:
        assert s.execute(select(JournalEntry.id)).first() is None


def test_an_entry_is_still_reversed_at_most_once_by_the_database(books):
    """The unique index on reverses_id now leaves NULLs out; it must still refuse a second reversal."""
    ctx = books
    entry = L.post(ctx, L.EntrySpec("PROPERTY", DAY, "fee", [("1001", 10), ("6001", -10)]))
    L.reverse(ctx, entry, "mistake")
    with pytest.raises(IntegrityError, match=r"(?i)unique|duplicate"), ctx.uow() as uow:
        L._write_entries(
            uow, [L.EntrySpec("PROPERTY", DAY, "again", [("6001", 10), ("1001", -10)])], reverses=[entry]
        )


def test_bulk_hex_is_the_uuid_hex_across_a_millisecond_carry(monkeypatch):
    import core.ids

    monkeypatch.setitem(core.ids._last, "ms", core.ids.time.time_ns() // 1_000_000 + 50)
    monkeypatch.setitem(core.ids._last, "seq", 0xFFD)
    ids, hexes = new_ids_with_hex(6)
    assert [i.hex for i in ids] == hexes and ids == sorted(ids) and len(set(ids)) == 6
    assert [core.ids.id_time_ms(i) for i in ids] == [core.ids._last["ms"] - 1] * 2 + [
        core.ids._last["ms"]
    ] * 4
    assert all((i.version, i.variant) == (7, uuid.RFC_4122) for i in ids)
