"""Pure ledger rules: the shape of a valid entry, the normal balance of an account, and the no-overdraft
limits (TigerBeetle's account flags), as functions without a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from core.errors import ValidationError
from core.i18n import N_

AMOUNT_ABS_MAX_FEN = 10**15  # 10 万亿元: far above any real entry, far below BigInteger overflow.
POSTINGS_PER_ENTRY_MAX = 10_000
ENTRIES_PER_BATCH_MAX = 200_000
DESCRIPTION_LEN_MAX = 200
DOC_TYPE_LEN_MAX = 40
DOC_ID_LEN_MAX = 80
NAME_LEN_MAX = 200
FUND_TYPE_LEN_MAX = 40

BOOK_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.:\-]{0,63}$")
ACCOUNT_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:\-]{0,79}$")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
DEBIT_NORMAL_TYPES = ("asset", "expense")


def format_yuan(amount_fen: int) -> str:
    """12345 → "123.45", -5 → "-0.05" (exact, no float)."""
    sign = "-" if amount_fen < 0 else ""
    whole, fen = divmod(abs(amount_fen), 100)
    return f"{sign}{whole}.{fen:02d}"


def is_amount(value: object) -> bool:
    """A fen amount is a real int: bool is an int in Python but never an amount."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_amount(value: object, *, field: str = "amount_fen") -> int:
    """A positive fen amount within the limit (holds, partial posts)."""
    if not is_amount(value):
        raise ValidationError(N_("An amount must be a whole number of fen."), field=field)
    if value <= 0:
        raise ValidationError(N_("The amount must be greater than zero."), field=field)
    if value >= AMOUNT_ABS_MAX_FEN:
        raise ValidationError(N_("The amount is too large."), field=field)
    return value


def check_postings(postings: Sequence[tuple[str, int]]) -> None:
    """A valid entry has 2.. postings, each a non-zero int below the limit, and they sum to exactly zero."""
    if len(postings) < 2:
        raise ValidationError(N_("A journal entry needs at least two postings."), field="postings")
    if len(postings) > POSTINGS_PER_ENTRY_MAX:
        raise ValidationError(
            N_("A journal entry may have at most {max} postings."),
            field="postings",
            max=POSTINGS_PER_ENTRY_MAX,
        )
    total = 0
    for line_no, posting in enumerate(postings, start=1):
        if len(posting) != 2:
            raise ValidationError(
                N_("Posting {line} must be an account code and an amount."), field="postings", line=line_no
            )
        code, amount = posting
        if not isinstance(code, str) or not code:
            raise ValidationError(N_("Posting {line} has no account code."), field="postings", line=line_no)
        if not is_amount(amount):
            raise ValidationError(
                N_("Posting {line}: the amount must be a whole number of fen."),
                field="postings",
                line=line_no,
            )
        if amount == 0:
            raise ValidationError(N_("Posting {line} has a zero amount."), field="postings", line=line_no)
        if abs(amount) >= AMOUNT_ABS_MAX_FEN:
            raise ValidationError(
                N_("Posting {line}: the amount is too large."), field="postings", line=line_no
            )
        total += amount
    if total != 0:
        raise ValidationError(
            N_("The entry does not balance: debits and credits differ by {difference} yuan."),
            field="postings",
            difference=format_yuan(total),
        )


def check_text(value: object, limit: int, field: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise ValidationError(N_("{name} must be text."), field=field, name=field)
    if required and not value.strip():
        raise ValidationError(N_("{name} is required."), field=field, name=field)
    if len(value) > limit:
        raise ValidationError(
            N_("{name} is longer than {max} characters."), field=field, name=field, max=limit
        )
    if CONTROL_RE.search(value):
        raise ValidationError(N_("{name} contains control characters."), field=field, name=field)
    return value


def check_business_date(value: object) -> date:
    # datetime is a subclass of date; an instant is not a 会计日期.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(N_("The business date must be a date."), field="business_date")
    return value


def normal_balance_fen(account_type: str, debits_fen: int, credits_fen: int) -> int:
    """The balance in the account's normal direction: asset/expense debit-normal, the rest credit-normal."""
    if account_type in DEBIT_NORMAL_TYPES:
        return debits_fen - credits_fen
    return credits_fen - debits_fen


@dataclass
class Totals:
    """An account's four running totals, as the overdraft simulation moves them."""

    debits_posted_fen: int = 0
    credits_posted_fen: int = 0
    debits_pending_fen: int = 0
    credits_pending_fen: int = 0


def exceeds_limit(
    totals: Totals, debits_must_not_exceed_credits: bool, credits_must_not_exceed_debits: bool
) -> bool:
    """TigerBeetle's rule: pending amounts count against the limit, pending receipts do not count for it."""
    if debits_must_not_exceed_credits:
        return totals.debits_pending_fen + totals.debits_posted_fen > totals.credits_posted_fen
    if credits_must_not_exceed_debits:
        return totals.credits_pending_fen + totals.credits_posted_fen > totals.debits_posted_fen
    return False
