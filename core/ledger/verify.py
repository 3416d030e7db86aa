"""`anju ledger verify`: recompute every ledger invariant from the postings and holds with SQL aggregates,
trusting nothing stored (bean-check for Anju). Each problem names what is wrong and where.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from core.audit.log import VerifyResult
from core.i18n import N_
from core.ledger.models import HOLD_STATUSES, Account, Book, Hold, JournalEntry, Posting

_A = Account.__table__
_B = Book.__table__
_E = JournalEntry.__table__
_P = Posting.__table__
_H = Hold.__table__

PROBLEMS_PER_CHECK_MAX = 1000  # a corrupt database must not turn verify into a million-line report


def _add(result: VerifyResult, problem: str, message: str, **params: object) -> None:
    result.problems.append(
        {
            "problem": problem,
            "message": message,
            **{k: (str(v) if not isinstance(v, int) else v) for k, v in params.items()},
        }
    )


def verify(session: Session) -> VerifyResult:
    """Check every entry, account total, hold and book of the ledger; `checked` counts the postings."""
    result = VerifyResult()
    result.checked = session.execute(select(func.count()).select_from(_P)).scalar_one()
    _check_entries(session, result)
    _check_cross_book(session, result)
    _check_account_totals(session, result)
    _check_limits(session, result)
    _check_holds(session, result)
    _check_books(session, result)
    _check_reversals(session, result)
    return result


def _check_entries(s: Session, result: VerifyResult) -> None:
    """Every entry has at least two postings and sums to zero."""
    per_entry = (
        select(_P.c.entry_id, func.count().label("n"), func.sum(_P.c.amount_fen).label("total"))
        .group_by(_P.c.entry_id)
        .subquery()
    )
    stmt = (
        select(_E.c.id, func.coalesce(per_entry.c.n, 0), func.coalesce(per_entry.c.total, 0))
        .select_from(_E.outerjoin(per_entry, per_entry.c.entry_id == _E.c.id))
        .where(or_(per_entry.c.n.is_(None), per_entry.c.n < 2, per_entry.c.total != 0))
        .order_by(_E.c.id)
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for entry_id, n, total in s.execute(stmt):
        if n < 2:
            _add(
                result,
                "entry_too_few_postings",
                N_("entry {entry} has {count} posting(s); it needs at least two"),
                entry=entry_id,
                count=int(n),
            )
        if total != 0:
            _add(
                result,
                "entry_unbalanced",
                N_("entry {entry} does not balance: its postings sum to {difference_fen} fen"),
                entry=entry_id,
                difference_fen=int(total),
            )
    stmt = select(_P.c.entry_id, _P.c.line_no).where(_P.c.amount_fen == 0).limit(PROBLEMS_PER_CHECK_MAX)
    for entry_id, line_no in s.execute(stmt):
        _add(
            result,
            "posting_zero",
            N_("entry {entry} line {line} has a zero amount"),
            entry=entry_id,
            line=line_no,
        )


def _check_cross_book(s: Session, result: VerifyResult) -> None:
    """Every posting's account lies in its entry's book (funds never mix)."""
    stmt = (
        select(_P.c.entry_id, _P.c.line_no)
        .select_from(_P.join(_E, _E.c.id == _P.c.entry_id).join(_A, _A.c.id == _P.c.account_id))
        .where(_A.c.book_id != _E.c.book_id)
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for entry_id, line_no in s.execute(stmt):
        _add(
            result,
            "posting_other_book",
            N_("entry {entry} line {line} posts to an account of another book"),
            entry=entry_id,
            line=line_no,
        )


def _check_account_totals(s: Session, result: VerifyResult) -> None:
    """Stored posted totals equal the sums of the postings; pending totals equal the pending holds."""
    amount = _P.c.amount_fen
    posted = (
        select(
            _P.c.account_id,
            func.sum(case((amount > 0, amount), else_=0)).label("d"),
            func.sum(case((amount < 0, -amount), else_=0)).label("c"),
        )
        .group_by(_P.c.account_id)
        .subquery()
    )
    pending_d = (
        select(_H.c.debit_account_id.label("account_id"), func.sum(_H.c.amount_fen).label("amt"))
        .where(_H.c.status == "pending")
        .group_by(_H.c.debit_account_id)
        .subquery()
    )
    pending_c = (
        select(_H.c.credit_account_id.label("account_id"), func.sum(_H.c.amount_fen).label("amt"))
        .where(_H.c.status == "pending")
        .group_by(_H.c.credit_account_id)
        .subquery()
    )
    d = func.coalesce(posted.c.d, 0)
    c = func.coalesce(posted.c.c, 0)
    pd = func.coalesce(pending_d.c.amt, 0)
    pc = func.coalesce(pending_c.c.amt, 0)
    stmt = (
        select(
            _A.c.id,
            _B.c.code,
            _A.c.code,
            _A.c.debits_posted_fen,
            _A.c.credits_posted_fen,
            d,
            c,
            _A.c.debits_pending_fen,
            _A.c.credits_pending_fen,
            pd,
            pc,
        )
        .select_from(
            _A.join(_B, _B.c.id == _A.c.book_id)
            .outerjoin(posted, posted.c.account_id == _A.c.id)
            .outerjoin(pending_d, pending_d.c.account_id == _A.c.id)
            .outerjoin(pending_c, pending_c.c.account_id == _A.c.id)
        )
        .where(
            or_(
                _A.c.debits_posted_fen != d,
                _A.c.credits_posted_fen != c,
                _A.c.debits_pending_fen != pd,
                _A.c.credits_pending_fen != pc,
            )
        )
        .order_by(_B.c.code, _A.c.code)
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for _id, book, code, sd, sc, rd, rc, spd, spc, rpd, rpc in s.execute(stmt):
        if (sd, sc) != (rd, rc):
            _add(
                result,
                "account_posted_mismatch",
                N_(
                    "account {account} in book {book}: stored posted totals {debits_fen}/{credits_fen} fen, "
                    "postings sum to {expected_debits_fen}/{expected_credits_fen} fen"
                ),
                book=book,
                account=code,
                debits_fen=int(sd),
                credits_fen=int(sc),
                expected_debits_fen=int(rd),
                expected_credits_fen=int(rc),
            )
        if (spd, spc) != (rpd, rpc):
            _add(
                result,
                "account_pending_mismatch",
                N_(
                    "account {account} in book {book}: stored pending totals {debits_fen}/{credits_fen} fen, "
                    "pending holds sum to {expected_debits_fen}/{expected_credits_fen} fen"
                ),
                book=book,
                account=code,
                debits_fen=int(spd),
                credits_fen=int(spc),
                expected_debits_fen=int(rpd),
                expected_credits_fen=int(rpc),
            )


def _check_limits(s: Session, result: VerifyResult) -> None:
    """No account with an overdraft limit is past it (pending amounts count against the limit)."""
    over = or_(
        and_(
            _A.c.debits_must_not_exceed_credits,
            _A.c.debits_pending_fen + _A.c.debits_posted_fen > _A.c.credits_posted_fen,
        ),
        and_(
            _A.c.credits_must_not_exceed_debits,
            _A.c.credits_pending_fen + _A.c.credits_posted_fen > _A.c.debits_posted_fen,
        ),
    )
    stmt = (
        select(_B.c.code, _A.c.code)
        .select_from(_A.join(_B, _B.c.id == _A.c.book_id))
        .where(over)
        .order_by(_B.c.code, _A.c.code)
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for book, code in s.execute(stmt):
        _add(
            result,
            "account_overdrawn",
            N_("account {account} in book {book} is overdrawn past its limit"),
            book=book,
            account=code,
        )


def _check_holds(s: Session, result: VerifyResult) -> None:
    """Hold states are valid and consistent; a posted hold has its entry, moving exactly the posted amount."""
    stmt = select(_H.c.id, _H.c.status).where(_H.c.status.not_in(HOLD_STATUSES)).limit(PROBLEMS_PER_CHECK_MAX)
    for hold_id, status in s.execute(stmt):
        _add(
            result,
            "hold_bad_status",
            N_("hold {hold} has an unknown status {status}"),
            hold=hold_id,
            status=status,
        )
    stmt = (
        select(_H.c.id, _H.c.amount_fen, _H.c.posted_fen)
        .where(or_(_H.c.posted_fen < 0, _H.c.posted_fen > _H.c.amount_fen, _H.c.amount_fen <= 0))
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for hold_id, amount, posted in s.execute(stmt):
        _add(
            result,
            "hold_overposted",
            N_("hold {hold} posted {posted_fen} fen of {amount_fen} fen"),
            hold=hold_id,
            posted_fen=int(posted),
            amount_fen=int(amount),
        )
    # The fields that must go with each status.
    inconsistent = or_(
        and_(
            _H.c.status == "pending",
            or_(_H.c.posted_fen != 0, _H.c.resolved_at.is_not(None), _H.c.post_entry_id.is_not(None)),
        ),
        and_(
            _H.c.status == "posted",
            or_(_H.c.posted_fen <= 0, _H.c.resolved_at.is_(None), _H.c.post_entry_id.is_(None)),
        ),
        and_(
            _H.c.status.in_(("voided", "expired")),
            or_(_H.c.posted_fen != 0, _H.c.resolved_at.is_(None), _H.c.post_entry_id.is_not(None)),
        ),
        and_(_H.c.status == "expired", or_(_H.c.expires_at.is_(None), _H.c.expires_at > _H.c.resolved_at)),
    )
    stmt = select(_H.c.id, _H.c.status).where(inconsistent).limit(PROBLEMS_PER_CHECK_MAX)
    for hold_id, status in s.execute(stmt):
        _add(
            result,
            "hold_inconsistent",
            N_("hold {hold} is {status} but its amounts or dates do not fit that state"),
            hold=hold_id,
            status=status,
        )
    # A posted hold's entry: in the hold's book, exactly debit posted_fen to the debit account and credit it from
    # the credit account.
    debit_line = aliased(_P)
    credit_line = aliased(_P)
    n_lines = (
        select(func.count()).select_from(_P).where(_P.c.entry_id == _H.c.post_entry_id).scalar_subquery()
    )
    matching = (
        select(literal(1))
        .select_from(debit_line.join(credit_line, credit_line.c.entry_id == debit_line.c.entry_id))
        .where(
            debit_line.c.entry_id == _H.c.post_entry_id,
            debit_line.c.account_id == _H.c.debit_account_id,
            debit_line.c.amount_fen == _H.c.posted_fen,
            credit_line.c.account_id == _H.c.credit_account_id,
            credit_line.c.amount_fen == -_H.c.posted_fen,
        )
        .exists()
    )
    entry_book = select(_E.c.book_id).where(_E.c.id == _H.c.post_entry_id).scalar_subquery()
    stmt = (
        select(_H.c.id, _H.c.post_entry_id)
        .where(_H.c.status == "posted", _H.c.post_entry_id.is_not(None))
        .where(or_(~matching, n_lines != 2, entry_book != _H.c.book_id))
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    for hold_id, entry_id in s.execute(stmt):
        _add(
            result,
            "hold_entry_mismatch",
            N_(
                "hold {hold} is posted but entry {entry} does not move its posted amount between its accounts"
            ),
            hold=hold_id,
            entry=entry_id,
        )


def _check_books(s: Session, result: VerifyResult) -> None:
    """Each book's stored totals balance (试算平衡): all debits equal all credits, posted and pending."""
    stmt = (
        select(
            _B.c.code,
            func.coalesce(func.sum(_A.c.debits_posted_fen), 0)
            - func.coalesce(func.sum(_A.c.credits_posted_fen), 0),
            func.coalesce(func.sum(_A.c.debits_pending_fen), 0)
            - func.coalesce(func.sum(_A.c.credits_pending_fen), 0),
        )
        .select_from(_B.outerjoin(_A, _A.c.book_id == _B.c.id))
        .group_by(_B.c.code)
        .order_by(_B.c.code)
    )
    for book, posted_diff, pending_diff in s.execute(stmt):
        if posted_diff != 0 or pending_diff != 0:
            _add(
                result,
                "book_unbalanced",
                N_(
                    "book {book} does not balance: debits exceed credits by {posted_fen} fen posted, {pending_fen} fen pending"
                ),
                book=book,
                posted_fen=int(posted_diff),
                pending_fen=int(pending_diff),
            )


def _check_reversals(s: Session, result: VerifyResult) -> None:
    """A reversal is in its original's book, is not itself reversed, and negates the original line by line."""
    orig = aliased(_E)
    stmt = (
        select(_E.c.id, _E.c.reverses_id)
        .select_from(_E.join(orig, orig.c.id == _E.c.reverses_id))
        .where(or_(orig.c.book_id != _E.c.book_id, orig.c.reverses_id.is_not(None)))
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    bad = {entry_id: original for entry_id, original in s.execute(stmt)}
    rev_line = aliased(_P)
    orig_line = aliased(_P)
    n_rev = select(func.count()).select_from(rev_line).where(rev_line.c.entry_id == _E.c.id).scalar_subquery()
    n_orig = (
        select(func.count())
        .select_from(orig_line)
        .where(orig_line.c.entry_id == _E.c.reverses_id)
        .scalar_subquery()
    )
    n_match = (
        select(func.count())
        .select_from(rev_line.join(orig_line, and_(orig_line.c.line_no == rev_line.c.line_no)))
        .where(
            rev_line.c.entry_id == _E.c.id,
            orig_line.c.entry_id == _E.c.reverses_id,
            orig_line.c.account_id == rev_line.c.account_id,
            orig_line.c.amount_fen == -rev_line.c.amount_fen,
        )
        .scalar_subquery()
    )
    stmt = (
        select(_E.c.id, _E.c.reverses_id)
        .where(_E.c.reverses_id.is_not(None))
        .where(or_(n_rev != n_orig, n_match != n_rev))
        .limit(PROBLEMS_PER_CHECK_MAX)
    )
    bad.update({entry_id: original for entry_id, original in s.execute(stmt)})
    for entry_id, original in sorted(bad.items(), key=lambda kv: str(kv[0])):
        _add(
            result,
            "reversal_mismatch",
            N_("entry {entry} is recorded as reversing entry {original} but does not negate it"),
            entry=entry_id,
            original=original,
        )
