"""Tests of core.money: parsing and formatting yuan, 大写 amounts (worked examples, an independent oracle and a
reverse parser), rate application and largest-remainder allocation."""

from __future__ import annotations

import re
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import (
    CHINESE_UPPER_FEN_MAX,
    PARSE_FEN_MAX,
    allocate,
    allocate_evenly,
    apply_rate,
    chinese_upper,
    fen_to_decimal,
    fen_to_yuan_str,
    format_fen,
    parse_yuan,
)

# ---------------------------------------------------------------------------------------------------------
# parse_yuan


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.01", 1),
        ("0.1", 10),
        ("12", 1200),
        ("12.5", 1250),
        ("1234.56", 123456),
        ("1,234.5", 123450),
        ("1,234,567.89", 123456789),
        ("¥12", 1200),
        ("￥12", 1200),
        ("¥ 12.30", 1230),
        ("12元", 1200),
        ("12.05 元", 1205),
        ("¥12元", 1200),
        ("１２３．４５", 12345),
        ("１，２３４", 123400),
        ("￥１，２３４．５０", 123450),
        ("  7.00  ", 700),
        ("\u30008\u3000", 800),  # ideographic spaces around
        ("007", 700),
        ("10000000000000", PARSE_FEN_MAX),
    ],
)
def test_parse_yuan_accepts(text: str, fen: int) -> None:
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [("-1", -100), ("-¥1,234.56", -123456), ("－１２．３", -1230), ("−5", -500), ("- 0.01", -1), ("-0", 0)],
)
def test_parse_yuan_negative_only_when_allowed(text: str, fen: int) -> None:
    assert parse_yuan(text, allow_negative=True) == fen
    with pytest.raises(ValidationError, match="must not be negative") as err:
        parse_yuan(text)
    assert err.value.field == "amount"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter an amount"),
        ("   ", "Enter an amount"),
        ("\u3000", "Enter an amount"),
        ("1.234", "at most 2 decimal places"),
        ("0.001", "at most 2 decimal places"),
        ("1.230", "at most 2 decimal places"),
        ("1,23", "thousands separators"),
        ("1,2345", "thousands separators"),
        ("1234,567", "thousands separators"),
        ("1,234,56", "thousands separators"),
        ("1,,234", "thousands separators"),
        ("1,234,", "thousands separators"),
        (",123", "not an amount"),
        ("abc", "not an amount"),
        ("12a", "not an amount"),
        ("1.2.3", "not an amount"),
        (".5", "not an amount"),
        ("5.", "not an amount"),
        ("1 234", "not an amount"),
        ("+5", "not an amount"),
        ("--5", "not an amount"),
        ("¥-5", "not an amount"),
        ("1e3", "not an amount"),
        ("NaN", "not an amount"),
        ("Infinity", "not an amount"),
        ("0x10", "not an amount"),
        ("1_000", "not an amount"),
        ("١٢", "not an amount"),  # Arabic-Indic digits are not accepted as money
        ("1²", "not an amount"),  # NFKC would have made this "12"
        ("¥", "not an amount"),
        ("元", "not an amount"),
        ("12元元", "not an amount"),
        ("10000000000000.01", "must not exceed"),
        ("1" * 65, "too long"),
    ],
)
def test_parse_yuan_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as err:
        parse_yuan(text, allow_negative=True)
    assert err.value.field == "amount"


def test_parse_yuan_max_fen() -> None:
    assert parse_yuan("100", max_fen=10_000) == 10_000
    with pytest.raises(ValidationError, match=r"must not exceed ¥100\.00"):
        parse_yuan("100.01", max_fen=10_000)
    with pytest.raises(ValidationError, match="must not exceed"):
        parse_yuan("-100.01", max_fen=10_000, allow_negative=True)


def test_parse_yuan_refuses_non_text() -> None:
    with pytest.raises(TypeError):
        parse_yuan(12.5)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# format_fen, fen_to_yuan_str, fen_to_decimal


@pytest.mark.parametrize(
    ("fen", "shown", "plain", "export"),
    [
        (0, "¥0.00", "0.00", "0.00"),
        (1, "¥0.01", "0.01", "0.01"),
        (-5, "-¥0.05", "-0.05", "-0.05"),
        (100, "¥1.00", "1.00", "1.00"),
        (123456, "¥1,234.56", "1,234.56", "1234.56"),
        (-123456, "-¥1,234.56", "-1,234.56", "-1234.56"),
        (100000000, "¥1,000,000.00", "1,000,000.00", "1000000.00"),
        (99999, "¥999.99", "999.99", "999.99"),
    ],
)
def test_format(fen: int, shown: str, plain: str, export: str) -> None:
    assert format_fen(fen) == shown
    assert format_fen(fen, symbol=False) == plain
    assert fen_to_yuan_str(fen) == export
    assert fen_to_decimal(fen) == Decimal(export)
    assert str(fen_to_decimal(fen)) == export


def test_fen_to_decimal_is_exact_beyond_context_precision() -> None:
    fen = 10**40 + 1
    assert fen_to_decimal(fen) == Decimal("1" + "0" * 37 + "0.01")


@pytest.mark.parametrize("bad", [1.5, True, "12", Decimal("1")])
def test_format_refuses_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        format_fen(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        fen_to_yuan_str(bad)  # type: ignore[arg-type]


@given(st.integers(-PARSE_FEN_MAX, PARSE_FEN_MAX))
def test_format_parse_round_trip(fen: int) -> None:
    assert parse_yuan(format_fen(fen), allow_negative=True) == fen
    assert parse_yuan(format_fen(fen, symbol=False), allow_negative=True) == fen
    assert parse_yuan(fen_to_yuan_str(fen), allow_negative=True) == fen
    assert fen_to_decimal(fen) * 100 == fen


# ---------------------------------------------------------------------------------------------------------
# chinese_upper — worked examples


@pytest.mark.parametrize(
    ("fen", "upper"),
    [
        # from the brief
        (1, "壹分"),
        (10, "壹角整"),
        (100, "壹元整"),
        (1_234_567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
        (100_100, "壹仟零壹元整"),
        (10_005_000, "壹拾万零伍拾元整"),
        (0, "零元整"),
        (105, "壹元零伍分"),
        (1_000_000_000_00, "壹拾亿元整"),
        # from 《正确填写票据和结算凭证的基本规定》 (where it allows two forms we write the one without the optional 零)
        (140950, "壹仟肆佰零玖元伍角整"),  # ￥1409.50
        (600700, "陆仟零柒元整"),  # ￥6007.00
        (168032, "壹仟陆佰捌拾元叁角贰分"),  # ￥1680.32
        (10700053, "壹拾万柒仟元伍角叁分"),  # ￥107000.53
        (1640902, "壹万陆仟肆佰零玖元零贰分"),  # ￥16409.02
        (32504, "叁佰贰拾伍元零肆分"),  # ￥325.04
        # fractions without yuan
        (5, "伍分"),
        (15, "壹角伍分"),
        (90, "玖角整"),
        (99, "玖角玖分"),
        # 拾 always with its digit, at the start and inside
        (1000, "壹拾元整"),
        (1500, "壹拾伍元整"),
        (11000, "壹佰壹拾元整"),
        (101000, "壹仟零壹拾元整"),
        (100000000, "壹佰万元整"),
        # zero runs inside a section, and sections ending in zero
        (100001, "壹仟元零壹分"),
        (1000100, "壹万零壹元整"),
        (1001000, "壹万零壹拾元整"),
        (1010000, "壹万零壹佰元整"),
        (1100000, "壹万壹仟元整"),
        (10100000, "壹拾万壹仟元整"),
        (100100000, "壹佰万壹仟元整"),  # zeros at 十万 and 万 close the 万 section; 仟 is not 0
        (100010000, "壹佰万零壹佰元整"),
        (10010000, "壹拾万零壹佰元整"),
        (20002000, "贰拾万零贰拾元整"),
        (123400000, "壹佰贰拾叁万肆仟元整"),
        (100000000_00, "壹亿元整"),
        (100000001_00, "壹亿零壹元整"),
        (100010000_00, "壹亿零壹万元整"),
        (100001000_00, "壹亿零壹仟元整"),
        (101000000_00, "壹亿零壹佰万元整"),
        (110000000_00, "壹亿壹仟万元整"),
        (1000000000_00, "壹拾亿元整"),
        (1010000000_00, "壹拾亿壹仟万元整"),
        (1000000100_00, "壹拾亿零壹佰元整"),
        (1234567890_12, "壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元壹角贰分"),
        (1000000000000_00, "壹万亿元整"),
        (1000100000000_00, "壹万零壹亿元整"),
        (1000000010000_00, "壹万亿零壹万元整"),
        (1200000000000_00, "壹万贰仟亿元整"),
        (1000010000000_00, "壹万亿壹仟万元整"),
        (1000000001000_00, "壹万亿零壹仟元整"),
        (10000000000000_00, "壹拾万亿元整"),
        (CHINESE_UPPER_FEN_MAX, "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        # negatives
        (-1, "负壹分"),
        (-100, "负壹元整"),
        (-1_234_567, "负壹万贰仟叁佰肆拾伍元陆角柒分"),
    ],
)
def test_chinese_upper_examples(fen: int, upper: str) -> None:
    assert chinese_upper(fen) == upper
    assert parse_upper(upper) == fen
    assert oracle_upper(fen) == upper


def test_chinese_upper_limits() -> None:
    with pytest.raises(ValidationError, match="too large") as err:
        chinese_upper(CHINESE_UPPER_FEN_MAX + 1)
    assert err.value.field == "amount"
    with pytest.raises(ValidationError):
        chinese_upper(-CHINESE_UPPER_FEN_MAX - 1)
    with pytest.raises(TypeError):
        chinese_upper(1.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# chinese_upper — a reverse parser and an independent oracle, both written here from the rules, not the code

_NUM = {ch: i for i, ch in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_section(text: str) -> int:
    """壹仟零贰拾 → 1020; strict: digit, unit, digit, unit… with units decreasing, one 零 only between."""
    value, digit, last_unit = 0, None, 10_000
    for ch in text:
        if ch == "零":
            assert digit is None and value, f"misplaced 零 in {text!r}"
        elif ch in _NUM:
            assert digit is None, f"two digits in a row in {text!r}"
            digit = _NUM[ch]
        else:
            unit = _SMALL[ch]
            assert digit is not None and unit < last_unit, f"bad unit in {text!r}"
            value, digit, last_unit = value + digit * unit, None, unit
    assert "零零" not in text
    return value + (digit or 0)


def _parse_integer(text: str) -> int:
    if "亿" in text:
        high, _, low = text.partition("亿")
        return _parse_integer(high) * 10**8 + _parse_integer(low.removeprefix("零"))
    if "万" in text:
        high, _, low = text.partition("万")
        return _parse_section(high) * 10**4 + _parse_section(low.removeprefix("零"))
    return _parse_section(text)


def parse_upper(text: str) -> int:
    """Read a 大写 amount back to fen."""
    sign = -1 if text.startswith("负") else 1
    text = text.removeprefix("负")
    if text == "零元整":
        return 0
    m = re.fullmatch(
        r"(?:(?P<yuan>[^元]+)元)?(?P<zero>零)?(?:(?P<jiao>.)角)?(?:(?P<fen>.)分)?(?P<whole>整)?", text
    )
    assert m, text
    assert bool(m["whole"]) != bool(m["fen"]), f"整 iff no 分: {text!r}"
    assert bool(m["zero"]) == bool(m["yuan"] and not m["jiao"] and m["fen"]), f"零 after 元: {text!r}"
    yuan = _parse_integer(m["yuan"]) if m["yuan"] else 0
    jiao = _NUM[m["jiao"]] if m["jiao"] else 0
    fen = _NUM[m["fen"]] if m["fen"] else 0
    assert yuan or jiao or fen
    return sign * (yuan * 100 + jiao * 10 + fen)


def _split_boundary(high: int, low: int) -> int | None:
    """The position of the 亿 (8) or 万 (4, 12) unit that first separates digit positions high > low."""
    if low < 8 <= high:
        return 8
    for boundary in (4, 12):
        if low < boundary <= high:
            return boundary
    return None


def oracle_upper(fen: int) -> str:
    """大写 from the digit positions: a 零 stands for the zeros between two written digits, except when those
    zeros only close the higher section and the lower digit is the top digit (仟) of its section — the
    case the rules let us write without 零 (壹拾万柒仟, 壹佰万壹仟)."""
    if fen == 0:
        return "零元整"
    sign = "负" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    jiao, fen_digit = divmod(cents, 10)
    digits = str(yuan)[::-1] if yuan else ""  # digits[p] is the digit at position p (个 = 0)
    out = []
    prev = None  # position of the last digit written
    for p in reversed(range(len(digits))):
        d = int(digits[p])
        if d:
            if prev is not None and prev - p > 1 and _split_boundary(prev, p) != p + 1:
                out.append("零")
            out.append("零壹贰叁肆伍陆柒捌玖"[d] + ("", "拾", "佰", "仟")[p % 4])
            prev = p
        if p in (4, 12) and any(c != "0" for c in digits[p : p + 4]):
            out.append("万")
        if p == 8 and any(c != "0" for c in digits[8:16]):
            out.append("亿")
    if yuan:
        out.append("元")
        if not jiao and fen_digit:
            out.append("零")
    if jiao:
        out.append("零壹贰叁肆伍陆柒捌玖"[jiao] + "角")
    out.append("零壹贰叁肆伍陆柒捌玖"[fen_digit] + "分" if fen_digit else "整")
    return sign + "".join(out)


# Numbers rich in zeros are where the 零 rules bite.
zero_rich_fen = st.lists(st.sampled_from("00000001234567899"), min_size=1, max_size=18).map(
    lambda ds: int("".join(ds))
)


@given(st.integers(0, 10**13) | zero_rich_fen.filter(lambda n: n <= 10**13))
@example(0)
@example(10**13)
def test_chinese_upper_round_trip(fen: int) -> None:
    text = chinese_upper(fen)
    assert parse_upper(text) == fen
    assert parse_upper(chinese_upper(-fen)) == -fen


def test_chinese_upper_round_trip_exhaustive_small() -> None:
    for fen in range(0, 2_000_000, 7):
        assert parse_upper(chinese_upper(fen)) == fen


@given(st.integers(-CHINESE_UPPER_FEN_MAX, CHINESE_UPPER_FEN_MAX) | zero_rich_fen)
def test_chinese_upper_matches_oracle(fen: int) -> None:
    assert chinese_upper(fen) == oracle_upper(fen)


@given(st.integers(-CHINESE_UPPER_FEN_MAX, CHINESE_UPPER_FEN_MAX) | zero_rich_fen)
def test_chinese_upper_properties(fen: int) -> None:
    text = chinese_upper(fen)
    assert "零零" not in text
    assert not text.endswith("零")
    assert text.endswith(("整", "分"))
    # 整 is written exactly when there is no 分 (after 元, and after 角 as the brief's 壹角整 shows).
    assert ("整" in text) == (fen % 10 == 0)
    assert text.startswith("负") == (fen < 0)
    # 拾 always carries its digit: 壹拾, never a bare 拾 at the start or after 零/万/亿.
    assert not re.search(r"(^|负|零|万|亿|元)拾", text)
    # Only 0 itself starts with 零.
    assert text.removeprefix("负").startswith("零") == (fen == 0)
    assert set(text) <= set("负零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整")


# ---------------------------------------------------------------------------------------------------------
# apply_rate


@pytest.mark.parametrize(
    ("amount", "rate", "rounding", "expected"),
    [
        (10000, Decimal("0.05"), ROUND_HALF_UP, 500),
        (12345, Decimal("0.005"), ROUND_HALF_UP, 62),  # 61.725
        (10, Decimal("0.25"), ROUND_HALF_UP, 3),  # 2.5 → 3
        (10, Decimal("0.25"), ROUND_HALF_EVEN, 2),
        (10, Decimal("0.25"), ROUND_DOWN, 2),
        (-10, Decimal("0.25"), ROUND_HALF_UP, -3),  # halves away from zero
        (12345, Decimal("0.0005"), ROUND_HALF_UP, 6),  # 6.1725
        (0, Decimal("0.3"), ROUND_HALF_UP, 0),
        (999, 2, ROUND_HALF_UP, 1998),
        (10**15, Decimal("1E+5"), ROUND_HALF_UP, 10**20),
        # a product with more digits than the default 28-digit context must not be rounded before the end
        # (the default context would round the product to …0.5000 and then up to …001)
        (1, Decimal("500000000000000.49999999999999999999"), ROUND_HALF_UP, 500000000000000),
        (3, Decimal("166666666666666.83333333333333333333"), ROUND_HALF_UP, 500000000000000),
    ],
)
def test_apply_rate(amount: int, rate: Decimal, rounding: str, expected: int) -> None:
    assert apply_rate(amount, rate, rounding=rounding) == expected


@given(st.integers(-(10**15), 10**15), st.decimals(min_value=-10, max_value=10, places=8, allow_nan=False))
def test_apply_rate_rounds_once(amount: int, rate: Decimal) -> None:
    exact = Fraction(amount) * Fraction(rate)
    result = apply_rate(amount, rate)
    assert abs(result - exact) <= Fraction(1, 2)
    if abs(result - exact) == Fraction(1, 2):
        assert abs(result) > abs(exact)  # half away from zero


def test_apply_rate_refuses_float_and_nan() -> None:
    with pytest.raises(TypeError):
        apply_rate(100, 0.05)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        apply_rate(100, Decimal("NaN"))
    with pytest.raises(ValidationError):
        apply_rate(100, Decimal("Infinity"))
    with pytest.raises(TypeError):
        apply_rate(1.0, Decimal(1))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------------
# allocate


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (200, [1, 1, 1], [67, 67, 66]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (100, [1], [100]),
        (0, [3, 5], [0, 0]),
        (1, [1, 1], [1, 0]),  # tie: earlier index first
        (1, [1, 2], [0, 1]),
        (10, [0, 1, 0], [0, 10, 0]),
        (1000, [Decimal("85.50"), Decimal("120.25"), Decimal("64.25")], [317, 445, 238]),
        (7, [Decimal("0.1"), Decimal("0.2"), Decimal("0.7")], [1, 1, 5]),  # 0.7, 1.4, 4.9
        (5, [2, 3, 5], [1, 2, 2]),  # 1.0, 1.5, 2.5: both .5 remainders, earlier one wins the extra fen
    ],
)
def test_allocate_examples(total: int, weights: list, parts: list[int]) -> None:
    assert allocate(total, weights) == parts


@pytest.mark.parametrize(
    ("weights", "problem"),
    [
        ([], "nothing to allocate"),
        ([1, -1], "must not be negative"),
        ([Decimal("-0.01"), 2], "must not be negative"),
        ([0, 0], "greater than zero"),
        ([Decimal(0)], "greater than zero"),
        ([Decimal("NaN")], "not finite"),
    ],
)
def test_allocate_rejects(weights: list, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        allocate(100, weights)


def test_allocate_refuses_floats() -> None:
    with pytest.raises(TypeError):
        allocate(100, [0.5, 0.5])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        allocate(100, [True, 1])  # type: ignore[list-item]


weights_st = st.lists(
    st.integers(0, 10**6) | st.decimals(min_value=0, max_value=10**4, places=3, allow_nan=False),
    min_size=1,
    max_size=30,
).filter(lambda ws: sum(ws) > 0)


@given(st.integers(-(10**13), 10**13), weights_st)
def test_allocate_properties(total: int, weights: list) -> None:
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert sum(parts) == total
    weight_sum = sum(Fraction(w) for w in weights)
    for part, w in zip(parts, weights, strict=True):
        share = total * Fraction(w) / weight_sum
        assert abs(part - share) < 1  # floor or ceiling of the exact share
        if w == 0:
            assert part == 0
    # monotone in weight: a larger weight never gets less (in absolute value), equal weights differ by ≤ 1
    for i in range(len(weights)):
        for j in range(len(weights)):
            if weights[i] > weights[j]:
                assert abs(parts[i]) >= abs(parts[j])
            if weights[i] == weights[j] and i < j:
                assert 0 <= abs(parts[i]) - abs(parts[j]) <= 1
    assert allocate(-total, weights) == [-p for p in parts]


@given(st.integers(-(10**13), 10**13), st.integers(1, 200))
def test_allocate_evenly(total: int, n: int) -> None:
    parts = allocate_evenly(total, n)
    assert parts == allocate(total, [1] * n)
    assert sum(parts) == total
    assert max(parts) - min(parts) <= 1


def test_allocate_evenly_examples_and_errors() -> None:
    assert allocate_evenly(10, 3) == [4, 3, 3]
    assert allocate_evenly(-10, 4) == [-3, -3, -2, -2]
    assert allocate_evenly(2, 5) == [1, 1, 0, 0, 0]
    with pytest.raises(ValidationError, match="nothing to allocate"):
        allocate_evenly(10, 0)
