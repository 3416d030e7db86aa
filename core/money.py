"""Money as an integer number of fen (分): parsing and formatting yuan, 大写 amounts for receipts, applying a
rate with one rounding, and largest-remainder allocation whose parts add up exactly. Never a float.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, Inexact, localcontext
from fractions import Fraction

from core.errors import ValidationError
from core.i18n import N_
from core.validate import to_halfwidth

FEN_PER_YUAN = 100
PARSE_FEN_MAX = 10**15  # 10 万亿 yuan: far above any real payment, far below BigInteger's limit
AMOUNT_TEXT_LEN_MAX = 64
# 大写 is written up to the 万亿 section (9999 万亿 yuan); beyond that the notation itself is not standard.
CHINESE_UPPER_FEN_MAX = 10**18 - 1

_FIELD = "amount"
_NUMBER_RE = re.compile(r"(?P<int>[0-9][0-9,]*)(?:\.(?P<frac>[0-9]+))?")
_GROUPED_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+")


def _require_int(value: object, name: str) -> int:
    # bool is an int subclass; True fen is a bug, not one fen.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


def parse_yuan(text: str, *, allow_negative: bool = False, max_fen: int = PARSE_FEN_MAX) -> int:
    """User input in yuan ("1,234.5", "¥12", "12元", full-width "１２３．４５") as fen, or ValidationError.

    A leading minus is accepted only with `allow_negative`; at most 2 decimals; thousands separators must
    group by three; |amount| must not exceed `max_fen`.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if len(text) > AMOUNT_TEXT_LEN_MAX:
        raise ValidationError(N_("The amount is too long."), field=_FIELD)
    s = to_halfwidth(text).strip()
    if not s:
        raise ValidationError(N_("Enter an amount."), field=_FIELD)
    negative = s.startswith("-")
    if negative:
        s = s[1:].lstrip()
    if s.startswith("¥"):
        s = s[1:].lstrip()
    if s.endswith("元"):
        s = s[:-1].rstrip()
    m = _NUMBER_RE.fullmatch(s)
    if not m:
        raise ValidationError(N_("“{text}” is not an amount in yuan."), field=_FIELD, text=text.strip())
    int_part, frac = m["int"], m["frac"] or ""
    if "," in int_part:
        if not _GROUPED_RE.fullmatch(int_part):
            raise ValidationError(
                N_("The thousands separators in “{text}” are misplaced."), field=_FIELD, text=text.strip()
            )
        int_part = int_part.replace(",", "")
    if len(frac) > 2:
        raise ValidationError(N_("An amount has at most 2 decimal places (fen)."), field=_FIELD)
    fen = int(int_part) * FEN_PER_YUAN + int(frac.ljust(2, "0"))
    if negative:
        if not allow_negative:
            raise ValidationError(N_("The amount must not be negative."), field=_FIELD)
        fen = -fen
    if abs(fen) > max_fen:
        raise ValidationError(N_("The amount must not exceed {max}."), field=_FIELD, max=format_fen(max_fen))
    return fen


def format_fen(fen: int, *, symbol: bool = True) -> str:
    """Fen for display: "¥1,234.56", "-¥1,234.56"; with symbol=False "1,234.56"."""
    _require_int(fen, "fen")
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{'¥' if symbol else ''}{yuan:,}.{cents:02d}"


def fen_to_yuan_str(fen: int) -> str:
    """Fen as plain yuan for files and exports: "1234.56", "-0.05" (no separators, no symbol)."""
    _require_int(fen, "fen")
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{yuan}.{cents:02d}"


def fen_to_decimal(fen: int) -> Decimal:
    """Fen as an exact Decimal of yuan with two places (1234 → Decimal("12.34"))."""
    _require_int(fen, "fen")
    return Decimal(fen_to_yuan_str(fen))  # built from the string, so no context rounding can apply


# ---------------------------------------------------------------------------------------------------------
# 大写 amounts, per 《正确填写票据和结算凭证的基本规定》: 壹拾 at the start, one 零 for a run of zeros, no 零
# for zeros ending a section, 零 after 元 when 角 is 0 but 分 is not, 整 after 元 or 角 when there is no 分.

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")


def _upper_section(n: int) -> str:
    """1..9999 in 大写; leading zeros are the caller's concern, trailing zeros are not written."""
    out: list[str] = []
    pending_zero = False
    for pos in (3, 2, 1, 0):
        d = n // 10**pos % 10
        if d == 0:
            pending_zero = bool(out)
        else:
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(_DIGITS[d] + _SMALL_UNITS[pos])
    return "".join(out)


def _upper_below_yi(n: int) -> str:
    """1..99,999,999 in 大写."""
    wan, rest = divmod(n, 10**4)
    if not wan:
        return _upper_section(n)
    text = _upper_section(wan) + "万"
    if rest:
        # A lower section starting with 0 (e.g. 10,0050) needs its 零; one ending the 万 section does not.
        text += ("零" if rest < 1000 else "") + _upper_section(rest)
    return text


def _upper_integer(n: int) -> str:
    """1..(10^16 - 1) in 大写: sections of 亿, then 万."""
    yi, rest = divmod(n, 10**8)
    if not yi:
        return _upper_below_yi(n)
    text = _upper_below_yi(yi) + "亿"
    if rest:
        text += ("零" if rest < 10**7 else "") + _upper_below_yi(rest)
    return text


def chinese_upper(fen: int) -> str:
    """The 大写 amount for receipts and vouchers: 105 → "壹元零伍分", 10 → "壹角整", 0 → "零元整"; negative → "负…"."""
    _require_int(fen, "fen")
    if abs(fen) > CHINESE_UPPER_FEN_MAX:
        raise ValidationError(N_("The amount is too large to write in Chinese capitals."), field=_FIELD)
    yuan, cents = divmod(abs(fen), FEN_PER_YUAN)
    jiao, fen_digit = divmod(cents, 10)
    if not yuan and not cents:
        return "零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_upper_integer(yuan) + "元")
        if not jiao and fen_digit:
            parts.append("零")
    if jiao:
        parts.append(_DIGITS[jiao] + "角")
    parts.append(_DIGITS[fen_digit] + "分" if fen_digit else "整")
    return ("负" if fen < 0 else "") + "".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Rates and allocation.


def _exact(value: object, name: str) -> Fraction:
    """An int or finite Decimal as an exact Fraction; floats are refused (they are not exact)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"{name} must be an int or a Decimal, got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValidationError(N_("The number {value} is not finite."), field=name, value=str(value))
    return Fraction(value)


def apply_rate(amount_fen: int, rate: Decimal | int, *, rounding: str = ROUND_HALF_UP) -> int:
    """amount × rate rounded once, at the end, to whole fen (ROUND_HALF_UP: halves away from zero)."""
    _require_int(amount_fen, "amount_fen")
    _exact(rate, "rate")
    rate = Decimal(rate)
    with localcontext() as ctx:
        # Enough precision for the exact product; Inexact trapped so a silent rounding cannot happen here.
        ctx.prec = len(str(abs(amount_fen))) + len(rate.as_tuple().digits) + 2
        ctx.traps[Inexact] = True
        product = Decimal(amount_fen) * rate
        ctx.traps[Inexact] = False
        ctx.prec = max(ctx.prec, product.adjusted() + 3)  # room for an exponent-shifted product (rate 1E+5)
        return int(product.quantize(Decimal(1), rounding=rounding))


def allocate(total_fen: int, weights: Sequence[int | Decimal]) -> list[int]:
    """Split `total_fen` in proportion to `weights` (largest remainder): parts sum exactly to the total.

    Each part is the floor or the ceiling of its exact share; leftover fen go to the largest remainders,
    ties to the earlier index. A negative total is split by its absolute value, then negated.
    """
    _require_int(total_fen, "total_fen")
    if not weights:
        raise ValidationError(N_("There is nothing to allocate the amount across."), field="weights")
    exact = [_exact(w, "weights") for w in weights]
    if any(w < 0 for w in exact):
        raise ValidationError(N_("An allocation weight must not be negative."), field="weights")
    weight_sum = sum(exact)
    if not weight_sum:
        raise ValidationError(
            N_("At least one allocation weight must be greater than zero."), field="weights"
        )
    magnitude = abs(total_fen)
    shares = [magnitude * w / weight_sum for w in exact]
    parts = [s.numerator // s.denominator for s in shares]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:leftover]:
        parts[i] += 1
    assert sum(parts) == magnitude, "allocation must add up to the total"
    return [-p for p in parts] if total_fen < 0 else parts


def allocate_evenly(total_fen: int, n: int) -> list[int]:
    """Split `total_fen` into `n` parts differing by at most one fen, the larger parts first."""
    _require_int(total_fen, "total_fen")
    _require_int(n, "n")
    if n < 1:
        raise ValidationError(N_("There is nothing to allocate the amount across."), field="n")
    base, extra = divmod(abs(total_fen), n)
    parts = [base + 1] * extra + [base] * (n - extra)
    return [-p for p in parts] if total_fen < 0 else parts
