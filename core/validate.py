"""Validators for identity and account numbers a clerk types in: 居民身份证号 (GB 11643), 统一社会信用代码
(GB 32100), bank card numbers (Luhn) and mainland mobile numbers. Each returns the normalised value or raises
ValidationError naming the problem; no database is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from core.errors import ValidationError
from core.i18n import N_

# Typed input is limited before any work is done on it, so a pasted novel cannot cost anything.
INPUT_LEN_MAX = 64

# Full-width forms (typed with a Chinese IME) map to their ASCII twins; nothing else is folded, because
# NFKC would also turn "²" into "2" and let odd text through as digits.
_HALFWIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)}  # ！..～ → !..~ (digits, letters, punctuation)
_HALFWIDTH.update({0x3000: 0x20, 0xFFE5: 0xA5, 0x2212: 0x2D, 0xFE63: 0x2D})  # 　 ￥ − ﹣


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation (and ￥, the ideographic space, − and ﹣) as ASCII."""
    return text.translate(_HALFWIDTH)


def _clean(text: str, *, field: str, drop: str) -> str:
    """Half-width `text` with every character of `drop` removed; refuses non-text and over-long input."""
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    if len(text) > INPUT_LEN_MAX:
        raise ValidationError(N_("The input is too long."), field=field)
    text = to_halfwidth(text)
    return "".join(ch for ch in text if ch not in drop and not ch.isspace())


# ---------------------------------------------------------------------------------------------------------
# 居民身份证号 — GB 11643-1999, check character by ISO 7064 MOD 11-2.

ID_NUMBER_LEN = 18
ID_BIRTH_MIN = date(1900, 1, 1)
# Weight of position i (1-based, from the left) is 2^(18-i) mod 11.
_ID_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK = "10X98765432"  # indexed by (weighted sum mod 11)
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")


def _id_check_char(body17: str) -> str:
    total = sum(int(ch) * w for ch, w in zip(body17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


@dataclass(frozen=True, slots=True)
class IdNumberInfo:
    """What a 居民身份证号 says about its holder."""

    number: str
    region_code: str
    birth_date: date
    sequence: str
    sex: Literal["M", "F"]


def id_number_info(text: str, *, today: date) -> IdNumberInfo:
    """Validate an 18-character 居民身份证号 and read its region, birth date and sex (odd 17th digit = male).

    Spaces are ignored and a lowercase x is accepted; `today` bounds the birth date (the caller's clock).
    """
    field = "id_number"
    number = _clean(text, field=field, drop="").upper()
    if not number:
        raise ValidationError(N_("Enter the ID number."), field=field)
    if len(number) != ID_NUMBER_LEN:
        raise ValidationError(
            N_("An ID number has 18 characters; this one has {count}."), field=field, count=len(number)
        )
    if not _ID_RE.fullmatch(number):
        raise ValidationError(
            N_("An ID number has only digits, with X allowed as the last character."), field=field
        )
    if number[0] == "0":
        raise ValidationError(N_("The region code at the start of the ID number is not valid."), field=field)
    raw_birth = number[6:14]
    try:
        birth = date(int(raw_birth[:4]), int(raw_birth[4:6]), int(raw_birth[6:]))
    except ValueError:
        raise ValidationError(
            N_("The birth date {date} in the ID number is not a real date."), field=field, date=raw_birth
        ) from None
    if not ID_BIRTH_MIN <= birth <= today:
        raise ValidationError(
            N_("The birth date {date} in the ID number is not between 1900-01-01 and today."),
            field=field,
            date=birth.isoformat(),
        )
    if _id_check_char(number[:17]) != number[17]:
        raise ValidationError(
            N_("The check character of the ID number is wrong; please look for a typing error."), field=field
        )
    return IdNumberInfo(
        number=number,
        region_code=number[:6],
        birth_date=birth,
        sequence=number[14:17],
        sex="M" if int(number[16]) % 2 else "F",
    )


def id_number(text: str, *, today: date) -> str:
    """The normalised (upper-case X, no spaces) 18-character 居民身份证号, or ValidationError."""
    return id_number_info(text, today=today).number


def make_id_number(region: str, birth: date, seq: int) -> str:
    """Build a valid 居民身份证号 (tests, demo data): 6-digit region, birth date, sequence 0–999, check char."""
    if not re.fullmatch(r"[1-9][0-9]{5}", region):
        raise ValueError(f"region must be 6 digits not starting with 0: {region!r}")
    if not 0 <= seq <= 999:
        raise ValueError(f"seq must be 0..999: {seq}")
    if birth.year < 1000:
        raise ValueError(f"birth year must have 4 digits: {birth}")
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + _id_check_char(body)


# ---------------------------------------------------------------------------------------------------------
# 统一社会信用代码 — GB 32100-2015, check character by weighted MOD 31.

USCC_LEN = 18
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, Z, S, V
_USCC_VALUE = {ch: i for i, ch in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _uscc_check_char(body17: str) -> str:
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body17, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def uscc(text: str) -> str:
    """The normalised (upper-case, no spaces) 统一社会信用代码, or ValidationError."""
    field = "uscc"
    code = _clean(text, field=field, drop="").upper()
    if not code:
        raise ValidationError(N_("Enter the unified social credit code."), field=field)
    if len(code) != USCC_LEN:
        raise ValidationError(
            N_("A unified social credit code has 18 characters; this one has {count}."),
            field=field,
            count=len(code),
        )
    bad = sorted({ch for ch in code if ch not in _USCC_VALUE})
    if bad:
        raise ValidationError(
            N_(
                "A unified social credit code cannot contain {chars} (the letters I, O, Z, S and V are never used)."
            ),
            field=field,
            chars=" ".join(bad),
        )
    if not code[2:8].isdigit():
        # Positions 3–8 are the registering authority's administrative division code: digits only.
        raise ValidationError(
            N_("Characters 3 to 8 of a unified social credit code must be digits (the region code)."),
            field=field,
        )
    if _uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(
            N_(
                "The check character of the unified social credit code is wrong; please look for a typing error."
            ),
            field=field,
        )
    return code


def make_uscc(body17: str) -> str:
    """Append the MOD 31 check character to the first 17 characters of a 统一社会信用代码 (tests, demo data)."""
    if len(body17) != 17 or any(ch not in _USCC_VALUE for ch in body17):
        raise ValueError(f"body must be 17 characters of {USCC_CHARSET}: {body17!r}")
    return body17 + _uscc_check_char(body17)


# ---------------------------------------------------------------------------------------------------------
# Bank card numbers — 12 to 19 digits, last digit by the Luhn algorithm.

BANK_CARD_LEN_MIN = 12
BANK_CARD_LEN_MAX = 19


def _luhn_sum(digits: str) -> int:
    """Luhn sum of `digits` whose last digit is the check digit (counted from the right, every second doubled)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total


def luhn_check_digit(body: str) -> str:
    """The Luhn check digit to append to the digit string `body`."""
    if not body.isascii() or not body.isdigit():
        raise ValueError(f"body must be ASCII digits: {body!r}")
    return str((10 - _luhn_sum(body + "0") % 10) % 10)


def bank_card(text: str) -> str:
    """The bank card number as bare digits (spaces and dashes dropped), or ValidationError."""
    field = "bank_card"
    number = _clean(text, field=field, drop="-")
    if not number:
        raise ValidationError(N_("Enter the bank card number."), field=field)
    if not (number.isascii() and number.isdigit()):
        raise ValidationError(N_("A bank card number has only digits."), field=field)
    if not BANK_CARD_LEN_MIN <= len(number) <= BANK_CARD_LEN_MAX:
        raise ValidationError(
            N_("A bank card number has 12 to 19 digits; this one has {count}."),
            field=field,
            count=len(number),
        )
    if _luhn_sum(number) % 10:
        raise ValidationError(
            N_(
                "The bank card number is wrong (its check digit does not match); please look for a typing error."
            ),
            field=field,
        )
    return number


# ---------------------------------------------------------------------------------------------------------
# Mainland mobile numbers.

_MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


def mobile(text: str) -> str:
    """The 11-digit mainland mobile number (country code +86/0086/86, spaces and dashes dropped)."""
    field = "mobile"
    number = _clean(text, field=field, drop="-")
    if not number:
        raise ValidationError(N_("Enter the mobile number."), field=field)
    if number.startswith("+86"):
        number = number[3:]
    elif number.startswith("0086"):
        number = number[4:]
    elif number.startswith("86") and len(number) == 13:
        number = number[2:]
    if not (number.isascii() and _MOBILE_RE.fullmatch(number)):
        raise ValidationError(
            N_("A mainland mobile number has 11 digits and starts with 13 to 19."), field=field
        )
    return number
