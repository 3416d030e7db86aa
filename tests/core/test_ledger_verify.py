"""`verify` recomputes the ledger: a clean ledger passes; each kind of raw-SQL corruption is named."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from core.ledger import services as L
from core.ledger.verify import verify

DAY = date(2026, 11, 25)
OWNER = "2203.H-3-2-1201"


@pytest.fixture
def ledger(ctx):
    """Two books with entries, a reversal, and holds in every state."""
    L.create_book(ctx, "PROPERTY", "物业公司账簿", "property")
    L.open_account(ctx, "PROPERTY", "1002", "银行存款", "asset", credits_must_not_exceed_debits=True)
    L.open_account(ctx, "PROPERTY", OWNER, "预收房款", "liability", debits_must_not_exceed_credits=True)
    L.open_account(ctx, "PROPERTY", "6001", "物业费收入", "income")
    L.create_book(ctx, "ESCROW", "资金监管", "escrow")
    L.open_account(ctx, "ESCROW", "1002", "监管专户", "asset")
    L.open_account(ctx, "ESCROW", "2241", "监管资金", "liability")

    def post(desc, postings, book="PROPERTY"):
        return L.post(ctx, L.EntrySpec(book, DAY, desc, postings))

    post("deposit", [("1002", 50_000), (OWNER, -50_000)])
    post("fee", [("1002", 3_000), ("6001", -3_000)])
    wrong = post("wrong", [("1002", 700), ("6001", -700)])
    L.reverse(ctx, wrong, "reversal")
    post("escrow", [("1002", 90_000), ("2241", -90_000)], book="ESCROW")
    held = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 8_000, doc_id="pending")
    posted = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 5_000, doc_id="posted")
    L.post_hold(ctx, posted, 4_000, description="hold-post")
    voided = L.place_hold(ctx, "PROPERTY", OWNER, "6001", 1_000, doc_id="voided")
    L.void_hold(ctx, voided)
    return ctx, {"pending": held, "posted": posted, "voided": voided}


def run_verify(ctx):
    with ctx.read() as s:
        return verify(s)


def corrupt(ctx, *statements: str) -> None:
    """Edit the database behind the services' back, as an attacker or a bad restore would."""
    with ctx.db.writer() as s:
        if ctx.db.dialect == "sqlite":
            s.execute(text("PRAGMA ignore_check_constraints = ON"))
        else:
            s.execute(text("ALTER TABLE ledger_holds DROP CONSTRAINT ck_ledger_holds_status"))
            s.execute(text("ALTER TABLE ledger_holds DROP CONSTRAINT ck_ledger_holds_posted_within_amount"))
            s.execute(text("ALTER TABLE ledger_postings DROP CONSTRAINT ck_ledger_postings_amount_not_zero"))
        for sql in statements:
            s.execute(text(sql))
        s.commit()


def codes(result) -> set[str]:
    return {p["problem"] for p in result.problems}


ENTRY = "(SELECT id FROM ledger_entries WHERE description = '{}')"
ACCOUNT = "(SELECT a.id FROM ledger_accounts a JOIN ledger_books b ON b.id = a.book_id WHERE b.code = '{}' AND a.code = '{}')"


def test_clean_ledger_verifies(ledger):
    ctx, _ = ledger
    result = run_verify(ctx)
    assert result.ok, result.problems
    assert result.checked == 2 * 6  # six two-posting entries


def test_empty_ledger_verifies(ctx):
    result = run_verify(ctx)
    assert result.ok and result.checked == 0


def test_unbalanced_posting_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx,
        f"UPDATE ledger_postings SET amount_fen = amount_fen + 1 WHERE line_no = 1 AND entry_id = {ENTRY.format('fee')}",
    )
    result = run_verify(ctx)
    unbalanced = [p for p in result.problems if p["problem"] == "entry_unbalanced"]
    assert len(unbalanced) == 1 and unbalanced[0]["difference_fen"] == 1
    mismatch = [p for p in result.problems if p["problem"] == "account_posted_mismatch"]
    assert [(p["book"], p["account"]) for p in mismatch] == [("PROPERTY", "1002")]
    assert "does not balance" in unbalanced[0]["message"]


def test_edited_balance_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx,
        f"UPDATE ledger_accounts SET credits_posted_fen = credits_posted_fen + 100 WHERE id = {ACCOUNT.format('ESCROW', '2241')}",
    )
    result = run_verify(ctx)
    assert codes(result) == {"account_posted_mismatch", "book_unbalanced"}
    (mismatch,) = [p for p in result.problems if p["problem"] == "account_posted_mismatch"]
    assert (
        mismatch["book"],
        mismatch["account"],
        mismatch["credits_fen"],
        mismatch["expected_credits_fen"],
    ) == ("ESCROW", "2241", 90_100, 90_000)
    (book,) = [p for p in result.problems if p["problem"] == "book_unbalanced"]
    assert book["book"] == "ESCROW" and book["posted_fen"] == -100


def test_edited_pending_total_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx,
        f"UPDATE ledger_accounts SET debits_pending_fen = 0 WHERE id = {ACCOUNT.format('PROPERTY', OWNER)}",
    )
    assert "account_pending_mismatch" in codes(run_verify(ctx))


def test_orphan_hold_state_named(ledger):
    ctx, _ = ledger
    corrupt(ctx, "UPDATE ledger_holds SET status = 'posted' WHERE doc_id = 'pending'")
    result = run_verify(ctx)
    assert {"hold_inconsistent", "account_pending_mismatch"} <= codes(result)


def test_unknown_hold_status_named(ledger):
    ctx, _ = ledger
    corrupt(ctx, "UPDATE ledger_holds SET status = 'frozen' WHERE doc_id = 'voided'")
    assert "hold_bad_status" in codes(run_verify(ctx))


def test_posted_hold_without_matching_entry_named(ledger):
    ctx, holds = ledger
    corrupt(ctx, "UPDATE ledger_holds SET posted_fen = 3999 WHERE doc_id = 'posted'")
    result = run_verify(ctx)
    (problem,) = [p for p in result.problems if p["problem"] == "hold_entry_mismatch"]
    assert problem["hold"] == str(holds["posted"])


def test_overposted_hold_named(ledger):
    ctx, _ = ledger
    corrupt(ctx, "UPDATE ledger_holds SET posted_fen = 9000 WHERE doc_id = 'voided'")
    assert {"hold_overposted", "hold_inconsistent"} <= codes(run_verify(ctx))


def test_single_posting_entry_named(ledger):
    ctx, _ = ledger
    corrupt(ctx, f"DELETE FROM ledger_postings WHERE line_no = 2 AND entry_id = {ENTRY.format('escrow')}")
    result = run_verify(ctx)
    assert {"entry_too_few_postings", "entry_unbalanced", "account_posted_mismatch"} <= codes(result)
    assert result.checked == 11


def test_cross_book_posting_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx,
        f"UPDATE ledger_postings SET account_id = {ACCOUNT.format('ESCROW', '1002')} "
        f"WHERE line_no = 1 AND entry_id = {ENTRY.format('fee')}",
    )
    result = run_verify(ctx)
    assert "posting_other_book" in codes(result)


def test_overdrawn_account_named(ledger):
    ctx, _ = ledger
    # income is credit-heavy; forbidding credits beyond debits makes it overdrawn
    corrupt(
        ctx,
        f"UPDATE ledger_accounts SET credits_must_not_exceed_debits = TRUE WHERE id = {ACCOUNT.format('PROPERTY', '6001')}",
    )
    result = run_verify(ctx)
    (problem,) = [p for p in result.problems if p["problem"] == "account_overdrawn"]
    assert (problem["book"], problem["account"]) == ("PROPERTY", "6001")


def test_reversal_that_does_not_negate_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx, f"UPDATE ledger_entries SET reverses_id = {ENTRY.format('fee')} WHERE description = 'reversal'"
    )
    result = run_verify(ctx)
    assert codes(result) == {"reversal_mismatch"}


def test_zero_posting_named(ledger):
    ctx, _ = ledger
    corrupt(
        ctx,
        "INSERT INTO ledger_postings (entry_id, line_no, account_id, amount_fen) "
        f"SELECT {ENTRY.format('fee')}, 3, {ACCOUNT.format('PROPERTY', '6001')}, 0",
    )
    assert "posting_zero" in codes(run_verify(ctx))
