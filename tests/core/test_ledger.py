"""Ledger services: posting, refusals that write nothing, overdraft limits, reversals, holds, queries."""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.audit.models import AuditRecord
from core.context import Actor
from core.errors import Conflict, InsufficientFunds, NotFound, PermissionDenied, StateError, ValidationError
from core.ledger import rules
from core.ledger import services as L
from core.ledger.models import Account, Hold, JournalEntry, Posting
from core.ledger.verify import verify
from core.sync.models import OutboxEvent

DAY = date(2026, 11, 25)


@pytest.fixture
def books(ctx):
    """PROPERTY: bank (may not go below zero), cash, owner deposits (may not go below zero), fee income.
    REPAIRFUND:C001: a second, segregated book."""
    L.create_book(ctx, "PROPERTY", "物业公司账簿", "property")
    L.open_account(ctx, "PROPERTY", "1002", "银行存款", "asset", credits_must_not_exceed_debits=True)
    L.open_account(ctx, "PROPERTY", "1001", "库存现金", "asset")
    L.open_account(
        ctx,
        "PROPERTY",
        "2203.H-3-2-1201",
        "预收房款 3-2-1201",
        "liability",
        debits_must_not_exceed_credits=True,
    )
    L.open_account(ctx, "PROPERTY", "6001", "物业费收入", "income")
    L.create_book(ctx, "REPAIRFUND:C001", "维修资金 C001", "repairfund")
    L.open_account(ctx, "REPAIRFUND:C001", "1002", "专户存款", "asset")
    L.open_account(ctx, "REPAIRFUND:C001", "9999", "其他", "equity")
    return ctx


def spec(postings, description="物业费", book="PROPERTY", day=DAY, **kw) -> L.EntrySpec:
    return L.EntrySpec(book, day, description, postings, **kw)


def snapshot(ctx) -> tuple:
    """Everything a refused call must leave untouched."""
    with ctx.read() as s:
        return (
            s.execute(select(func.count()).select_from(JournalEntry)).scalar_one(),
            s.execute(select(func.count()).select_from(Posting)).scalar_one(),
            s.execute(select(func.count()).select_from(Hold)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditRecord)).scalar_one(),
            s.execute(select(func.count()).select_from(OutboxEvent)).scalar_one(),
            tuple(
                s.execute(
                    select(
                        Account.code,
                        Account.debits_posted_fen,
                        Account.credits_posted_fen,
                        Account.debits_pending_fen,
                        Account.credits_pending_fen,
                    ).order_by(Account.id)
                ).all()
            ),
        )


def balance(ctx, code, book="PROPERTY") -> int:
    return L.get_balance(ctx, book, code).balance_fen


def assert_verified(ctx) -> None:
    with ctx.read() as s:
        result = verify(s)
    assert result.ok, result.problems


# --- posting -------------------------------------------------------------------------------------------


def test_balanced_entry_posts_and_updates_balances(books):
    ctx = books
    entry_id = L.post(ctx, spec([("1001", 12_345), ("6001", -12_345)], doc_type="bill", doc_id="B1"))
    cash = L.get_balance(ctx, "PROPERTY", "1001")
    assert (cash.debits_posted_fen, cash.credits_posted_fen, cash.balance_fen) == (12_345, 0, 12_345)
    income = L.get_balance(ctx, "PROPERTY", "6001")
    assert (income.credits_posted_fen, income.balance_fen) == (12_345, 12_345)  # credit-normal
    entry = L.get_entry(ctx, entry_id)
    assert entry.postings == (("1001", 12_345), ("6001", -12_345))
    assert (entry.doc_type, entry.doc_id, entry.created_by, entry.book) == (
        "bill",
        "B1",
        "system",
        "PROPERTY",
    )
    with ctx.read() as s:
        audit = s.execute(select(AuditRecord).where(AuditRecord.action == "ledger.post")).scalars().all()
        events = (
            s.execute(select(OutboxEvent).where(OutboxEvent.type == "ledger.entries_posted")).scalars().all()
        )
    assert len(audit) == 1 and audit[0].object_id == str(entry_id)
    assert len(events) == 1
    (payload,) = json.loads(events[0].payload)["entries"]
    assert payload["entry_id"] == str(entry_id)
    assert payload["postings"] == [["1001", 12_345], ["6001", -12_345]]
    assert payload["business_date"] == "2026-11-25"
    assert_verified(ctx)


@pytest.mark.parametrize(
    ("postings", "fragment"),
    [
        ([("1001", 100), ("6001", -99)], "differ by 0.01 yuan"),
        ([("1001", 100)], "at least two postings"),
        ([("1001", 100), ("6001", 0), ("6001", -100)], "zero amount"),
        ([("1001", 1.0), ("6001", -1.0)], "whole number of fen"),
        ([("1001", True), ("6001", -1)], "whole number of fen"),
        ([("1001", 10**15), ("6001", -(10**15))], "too large"),
        ([("1001", 100), ("7777", -100)], "Account 7777 does not exist in book PROPERTY"),
        ([("1001", 100), ("9999", -100)], "Account 9999 does not exist in book PROPERTY"),  # REPAIRFUND's
    ],
)
def test_bad_entries_are_refused_and_write_nothing(books, postings, fragment):
    ctx = books
    before = snapshot(ctx)
    with pytest.raises(ValidationError) as err:
        L.post(ctx, spec(postings))
    assert fragment in str(err.value)
    assert snapshot(ctx) == before


def test_unbalanced_message_names_difference_in_yuan(books):
    with pytest.raises(ValidationError) as err:
        L.post(books, spec([("1001", 150_000), ("6001", -100_000)]))
    assert "500.00 yuan" in str(err.value)


def test_bad_header_fields_refused(books):
    ctx = books
    before = snapshot(ctx)
    for bad in (
        spec([("1001", 1), ("6001", -1)], description=""),
        spec([("1001", 1), ("6001", -1)], description="x" * 201),
        spec([("1001", 1), ("6001", -1)], description="a\x1fb"),
        spec([("1001", 1), ("6001", -1)], book="NOPE"),
        L.EntrySpec("PROPERTY", "2026-11-25", "x", [("1001", 1), ("6001", -1)]),
    ):
        with pytest.raises(ValidationError):
            L.post(ctx, bad)
    assert snapshot(ctx) == before


def test_closed_account_refused(books):
    ctx = books
    L.open_account(ctx, "PROPERTY", "1003", "旧账户", "asset")
    L.close_account(ctx, "PROPERTY", "1003")
    before = snapshot(ctx)
    with pytest.raises(ValidationError, match="closed"):
        L.post(ctx, spec([("1003", 100), ("6001", -100)]))
    assert snapshot(ctx) == before
    with pytest.raises(StateError):
        L.close_account(ctx, "PROPERTY", "1003")


def test_account_with_balance_cannot_be_closed(books):
    ctx = books
    L.post(ctx, spec([("1001", 100), ("6001", -100)]))
    with pytest.raises(StateError):
        L.close_account(ctx, "PROPERTY", "1001")


def test_cross_book_entry_refused(books):
    """Account codes resolve in the entry's own book: another book's account is simply not there."""
    ctx = books
    L.post(ctx, spec([("1002", 500), ("9999", -500)], book="REPAIRFUND:C001"))
    before = snapshot(ctx)
    with pytest.raises(ValidationError, match="does not exist in book REPAIRFUND:C001"):
        L.post(ctx, spec([("1002", 500), ("6001", -500)], book="REPAIRFUND:C001"))
    assert snapshot(ctx) == before


def test_overdraft_refused(books):
    ctx = books
    before = snapshot(ctx)
    with pytest.raises(InsufficientFunds) as err:  # pay out of an empty bank account
        L.post(ctx, spec([("6001", 100), ("1002", -100)], description="退款"))
    assert "1002" in str(err.value) and "退款" in str(err.value)
    assert snapshot(ctx) == before
    with pytest.raises(InsufficientFunds):  # refund more than the owner deposited
        L.post(ctx, spec([("2203.H-3-2-1201", 1), ("1001", -1)]))
    assert snapshot(ctx) == before


def test_batch_with_overdraft_in_middle_writes_nothing(books):
    ctx = books
    L.post(ctx, spec([("1002", 1_000), ("6001", -1_000)]))
    before = snapshot(ctx)
    batch = [
        spec([("6001", 600), ("1002", -600)], description="一"),
        spec([("6001", 600), ("1002", -600)], description="二"),  # 1,200 out of 1,000: refused
        spec([("1002", 5_000), ("6001", -5_000)], description="三"),  # would have covered it, but comes later
    ]
    with pytest.raises(InsufficientFunds) as err:
        L.post_batch(ctx, batch)
    assert err.value.params["entry"] == 2 and err.value.params["account"] == "1002"
    assert snapshot(ctx) == before
    # in the other order it is fine
    L.post_batch(ctx, [batch[2], batch[0], batch[1]])
    assert balance(ctx, "1002") == 1_000 + 5_000 - 1_200
    assert_verified(ctx)


def test_batch_posts_all_with_one_audit_record_and_event_per_entry(books):
    ctx = books
    with ctx.read() as s:
        audit_before = s.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    ids = L.post_batch(
        ctx, [spec([("1001", 100 + i), ("6001", -(100 + i))], doc_id=f"B{i}") for i in range(50)]
    )
    assert len(ids) == 50 and len(set(ids)) == 50
    assert balance(ctx, "1001") == sum(100 + i for i in range(50))
    with ctx.read() as s:
        audit = s.execute(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1)).scalar_one()
        assert s.execute(select(func.count()).select_from(AuditRecord)).scalar_one() == audit_before + 1
        events = (
            s.execute(
                select(OutboxEvent.payload)
                .where(OutboxEvent.type == "ledger.entries_posted")
                .order_by(OutboxEvent.site_seq)
            )
            .scalars()
            .all()
        )
    assert audit.action == "ledger.post_batch"
    after = json.loads(audit.after_json)
    assert after["count"] == 50 and after["total_debits_fen"] == sum(100 + i for i in range(50))
    assert (after["first_entry_id"], after["last_entry_id"]) == (str(ids[0]), str(ids[-1]))
    assert len(after["sha256"]) == 64
    assert [e["entry_id"] for p in events for e in json.loads(p)["entries"]] == [str(i) for i in ids]


def test_batch_with_a_bad_entry_writes_nothing(books):
    ctx = books
    before = snapshot(ctx)
    with pytest.raises(ValidationError) as err:
        L.post_batch(ctx, [spec([("1001", 1), ("6001", -1)]), spec([("1001", 1), ("6001", -2)])])
    assert err.value.params["entry"] == 2
    with pytest.raises(ValidationError):
        L.post_batch(ctx, [])
    assert snapshot(ctx) == before


def test_post_in_joins_the_callers_transaction(books):
    """A business service posts inside its own unit of work: an error after posting rolls the entry back too."""
    ctx = books
    before = snapshot(ctx)
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        L.post_in(uow, spec([("1001", 100), ("6001", -100)]))
        L.post_many_in(uow, [spec([("1001", 100), ("6001", -100)])])
        raise RuntimeError("business step failed")
    assert snapshot(ctx) == before


def test_permission_denied_without_ledger_post(books):
    clerk = books.as_actor(Actor(None, "clerk", permissions=frozenset({"ledger.view"})))
    before = snapshot(books)
    with pytest.raises(PermissionDenied):
        L.post(clerk, spec([("1001", 100), ("6001", -100)]))
    with pytest.raises(PermissionDenied):
        L.post_batch(clerk, [spec([("1001", 100), ("6001", -100)])])
    with pytest.raises(PermissionDenied):
        L.place_hold(clerk, "PROPERTY", "1001", "6001", 100)
    with pytest.raises(PermissionDenied):
        L.create_book(clerk, "X", "x", "property")
    assert snapshot(books) == before
    assert L.get_balance(clerk, "PROPERTY", "1001").balance_fen == 0  # may still look
    nobody = books.as_actor(Actor(None, "nobody"))
    with pytest.raises(PermissionDenied):
        L.get_balance(nobody, "PROPERTY", "1001")


# --- books and accounts --------------------------------------------------------------------------------


def test_books_and_accounts_setup(books):
    ctx = books
    with pytest.raises(Conflict):
        L.create_book(ctx, "PROPERTY", "again", "property")
    with pytest.raises(Conflict):
        L.open_account(ctx, "PROPERTY", "1001", "again", "asset")
    with pytest.raises(ValidationError):
        L.create_book(ctx, "lower case", "x", "property")
    with pytest.raises(ValidationError):
        L.open_account(ctx, "PROPERTY", "1009", "x", "cash")
    with pytest.raises(ValidationError):
        L.open_account(
            ctx,
            "PROPERTY",
            "1009",
            "x",
            "asset",
            debits_must_not_exceed_credits=True,
            credits_must_not_exceed_debits=True,
        )
    with pytest.raises(NotFound):
        L.open_account(ctx, "NOPE", "1009", "x", "asset")
    assert L.ensure_book(ctx, "PROPERTY", "物业公司账簿", "property").code == "PROPERTY"
    with pytest.raises(Conflict):
        L.ensure_book(ctx, "PROPERTY", "物业公司账簿", "escrow")
    made = L.ensure_account(ctx, "PROPERTY", "1002.wechat", "微信", "asset")
    assert L.ensure_account(ctx, "PROPERTY", "1002.wechat", "微信", "asset") == made
    with pytest.raises(Conflict):
        L.ensure_account(ctx, "PROPERTY", "1002.wechat", "微信", "asset", credits_must_not_exceed_debits=True)
    assert [b.code for b in L.list_books(ctx)] == ["PROPERTY", "REPAIRFUND:C001"]
    assert "1002.wechat" in [a.code for a in L.list_accounts(ctx, "PROPERTY")]


# --- reversals -----------------------------------------------------------------------------------------


def test_reversal_and_double_reversal(books):
    ctx = books
    original = L.post(ctx, spec([("1002", 800), ("6001", -800)], doc_type="bill", doc_id="B7"))
    reversal = L.reverse(ctx, original, "录入错误")
    assert balance(ctx, "1002") == 0 and balance(ctx, "6001") == 0
    entry = L.get_entry(ctx, reversal)
    assert entry.reverses_id == original
    assert entry.postings == (("1002", -800), ("6001", 800))
    assert (entry.doc_type, entry.doc_id, entry.description) == ("bill", "B7", "录入错误")
    before = snapshot(ctx)
    with pytest.raises(Conflict):
        L.reverse(ctx, original, "again")
    with pytest.raises(StateError):  # a reversal is not reversed: post a new entry instead
        L.reverse(ctx, reversal, "undo the undo")
    with pytest.raises(NotFound):
        L.reverse(ctx, uuid.UUID(int=1), "x")
    with pytest.raises(ValidationError):
        L.reverse(ctx, original, "")
    assert snapshot(ctx) == before
    assert_verified(ctx)


def test_reversal_obeys_overdraft_limits(books):
    ctx = books
    deposit = L.post(ctx, spec([("1001", 1_000), ("2203.H-3-2-1201", -1_000)], description="预收"))
    L.post(ctx, spec([("2203.H-3-2-1201", 600), ("1001", -600)], description="退部分"))
    before = snapshot(ctx)
    with pytest.raises(
        InsufficientFunds
    ):  # reversing the deposit would take 1,000 out of an account holding 400
        L.reverse(ctx, deposit, "撤销预收")
    assert snapshot(ctx) == before


# --- holds ---------------------------------------------------------------------------------------------


@pytest.fixture
def funded(books):
    """The owner has deposited 10,000 fen (PROPERTY 2203.H-3-2-1201 credit 10,000)."""
    L.post(books, spec([("1002", 10_000), ("2203.H-3-2-1201", -10_000)], description="预收"))
    return books


OWNER = "2203.H-3-2-1201"


def test_hold_counts_against_the_limit(funded):
    ctx = funded
    hold = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 7_000, doc_type="escrow", doc_id="E1")
    bal = L.get_balance(ctx, "PROPERTY", OWNER)
    assert (bal.debits_pending_fen, bal.balance_fen) == (7_000, 10_000)
    assert L.get_balance(ctx, "PROPERTY", "6001").credits_pending_fen == 7_000
    before = snapshot(ctx)
    with pytest.raises(InsufficientFunds):
        L.place_hold(ctx, "PROPERTY", OWNER, "6001", 3_001)
    with pytest.raises(InsufficientFunds):  # the held money cannot be spent by an entry either
        L.post(ctx, spec([(OWNER, 3_001), ("1001", -3_001)]))
    assert snapshot(ctx) == before
    assert L.get_hold(ctx, hold).status == "pending"
    assert_verified(ctx)


def test_post_hold_partially_releases_the_rest(funded):
    ctx = funded
    hold = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 7_000, doc_type="escrow", doc_id="E1")
    entry_id = L.post_hold(ctx, hold, 2_500)
    view = L.get_hold(ctx, hold)
    assert (view.status, view.posted_fen, view.post_entry_id) == ("posted", 2_500, entry_id)
    assert view.resolved_at == ctx.clock.now()
    owner = L.get_balance(ctx, "PROPERTY", OWNER)
    assert (owner.debits_pending_fen, owner.debits_posted_fen, owner.balance_fen) == (0, 2_500, 7_500)
    assert L.get_balance(ctx, "PROPERTY", "6001").credits_pending_fen == 0
    entry = L.get_entry(ctx, entry_id)
    assert entry.postings == ((OWNER, 2_500), ("6001", -2_500)) and entry.doc_id == "E1"
    assert_verified(ctx)


def test_hold_resolves_only_once(funded):
    ctx = funded
    hold = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 1_000)
    L.post_hold(ctx, hold)
    before = snapshot(ctx)
    with pytest.raises(StateError):
        L.post_hold(ctx, hold)
    with pytest.raises(StateError):
        L.void_hold(ctx, hold)
    assert snapshot(ctx) == before
    other = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 1_000)
    with pytest.raises(ValidationError):
        L.post_hold(ctx, other, 1_001)
    with pytest.raises(ValidationError):
        L.post_hold(ctx, other, 0)
    L.void_hold(ctx, other)
    with pytest.raises(StateError):
        L.void_hold(ctx, other)
    assert L.get_hold(ctx, other).status == "voided"
    assert L.get_balance(ctx, "PROPERTY", OWNER).debits_pending_fen == 0
    assert_verified(ctx)


def test_hold_input_refused(funded):
    ctx = funded
    before = snapshot(ctx)
    for kwargs in (
        {"amount_fen": 0},
        {"amount_fen": -5},
        {"amount_fen": 10.0},
        {"credit_account": OWNER},
        {"credit_account": "9999"},
        {"expires_at": ctx.clock.now()},
    ):
        args = {"debit_account": OWNER, "credit_account": "6001", "amount_fen": 100, **kwargs}
        with pytest.raises(ValidationError):
            L.place_hold(ctx, "PROPERTY", args.pop("debit_account"), args.pop("credit_account"), **args)
    with pytest.raises(NotFound):
        L.void_hold(ctx, uuid.UUID(int=5))
    assert snapshot(ctx) == before


def test_holds_expire_via_the_sweep(funded, clock):
    ctx = funded
    soon = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 4_000, expires_at=clock.now() + timedelta(hours=1))
    later = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 1_000, expires_at=clock.now() + timedelta(days=2))
    forever = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 500)
    assert L.expire_holds(ctx) == 0
    clock.advance(hours=1)
    before = snapshot(ctx)
    with pytest.raises(StateError) as err:  # expired by time, not yet swept: cannot be posted
        L.post_hold(ctx, soon)
    assert err.value.code == "expired"
    with pytest.raises(StateError):
        L.void_hold(ctx, soon)
    assert snapshot(ctx) == before
    assert L.expire_holds(ctx) == 1
    assert L.expire_holds(ctx) == 0
    assert L.get_hold(ctx, soon).status == "expired"
    assert L.get_hold(ctx, later).status == "pending"
    assert L.get_balance(ctx, "PROPERTY", OWNER).debits_pending_fen == 1_500
    clock.advance(days=3)
    assert L.expire_holds(ctx) == 1
    assert L.get_hold(ctx, forever).status == "pending"
    assert_verified(ctx)


# --- queries -------------------------------------------------------------------------------------------


def test_trial_balance_and_statements(books):
    ctx = books
    L.post(ctx, spec([("1001", 1_000), ("6001", -1_000)], day=date(2026, 11, 1), description="十一月"))
    L.post(ctx, spec([("1002", 3_000), ("6001", -3_000)], day=date(2026, 12, 1), description="十二月"))
    L.post(ctx, spec([("1002", 700), ("1001", -700)], day=date(2026, 12, 2), description="存现"))
    lines = L.trial_balance(ctx, "PROPERTY")
    assert sum(ln.debits_fen for ln in lines) == sum(ln.credits_fen for ln in lines) == 4_700
    by_code = {ln.account_code: ln for ln in lines}
    assert by_code["1001"].balance_fen == 300 and by_code["6001"].balance_fen == 4_000
    november = {ln.account_code: ln for ln in L.trial_balance(ctx, "PROPERTY", as_of=date(2026, 11, 30))}
    assert november["1001"].balance_fen == 1_000 and november["1002"].balance_fen == 0
    assert sum(ln.debits_fen - ln.credits_fen for ln in november.values()) == 0
    rows = L.account_statement(ctx, "PROPERTY", "1001")
    assert [(r.business_date, r.amount_fen) for r in rows] == [
        (date(2026, 11, 1), 1_000),
        (date(2026, 12, 2), -700),
    ]
    assert len(L.account_statement(ctx, "PROPERTY", "1001", date_from=date(2026, 12, 1))) == 1
    assert len(L.account_statement(ctx, "PROPERTY", "1001", limit=1, offset=1)) == 1
    page = L.journal(ctx, "PROPERTY", date_to=date(2026, 12, 1))
    assert [e.description for e in page] == ["十一月", "十二月"]
    with pytest.raises(ValidationError):
        L.journal(ctx, "PROPERTY", limit=10_000)
    with pytest.raises(NotFound):
        L.get_balance(ctx, "PROPERTY", "4040")


# --- properties ----------------------------------------------------------------------------------------

CODES = ["1001", "1002", "6001", OWNER]


@st.composite
def balanced_entries(draw):
    """Random balanced entries over the PROPERTY accounts without limits (1001, 6001) and with them."""
    n = draw(st.integers(2, 5))
    codes = draw(st.lists(st.sampled_from(["1001", "6001", "1002", OWNER]), min_size=n, max_size=n))
    amounts = draw(st.lists(st.integers(-(10**6), 10**6).filter(bool), min_size=n - 1, max_size=n - 1))
    last = -sum(amounts)
    if last == 0:
        amounts[0] += 1
        last = -1
    return list(zip(codes, [*amounts, last], strict=True))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(balanced_entries(), min_size=1, max_size=4), min_size=1, max_size=3))
def test_random_balanced_entries_keep_every_invariant(books, batches):
    ctx = books
    for batch in batches:
        specs = [spec(postings) for postings in batch]
        with contextlib.suppress(InsufficientFunds):  # refused as a whole; the invariants hold either way
            L.post_batch(ctx, specs)
    assert_verified(ctx)
    with ctx.read() as s:
        sums = dict(
            s.execute(
                select(Account.code, func.coalesce(func.sum(Posting.amount_fen), 0))
                .outerjoin(Posting, Posting.account_id == Account.id)
                .group_by(Account.code)
            ).all()
        )
    for code in CODES:
        bal = L.get_balance(ctx, "PROPERTY", code)
        assert bal.debits_posted_fen - bal.credits_posted_fen == sums.get(code, 0)
        if code == "1002":
            assert bal.debits_posted_fen >= bal.credits_posted_fen
        if code == OWNER:
            assert bal.credits_posted_fen >= bal.debits_posted_fen


@given(postings=balanced_entries())
def test_check_postings_accepts_any_balanced_entry(postings):
    rules.check_postings(postings)


@given(postings=balanced_entries(), delta=st.integers(-(10**6), 10**6).filter(bool))
def test_check_postings_refuses_any_unbalanced_entry(postings, delta):
    code, amount = postings[0]
    if amount + delta == 0:
        return
    broken = [(code, amount + delta), *postings[1:]]
    with pytest.raises(ValidationError) as err:
        rules.check_postings(broken)
    assert rules.format_yuan(delta) in str(err.value)


@given(st.integers(-(10**15), 10**15))
def test_format_yuan_round_trips(fen):
    text = rules.format_yuan(fen)
    whole, _, cents = text.lstrip("-").partition(".")
    assert len(cents) == 2
    assert (int(whole) * 100 + int(cents)) * (-1 if text.startswith("-") else 1) == fen
