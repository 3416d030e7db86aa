"""Tests of core.validate: 居民身份证号 (GB 11643 MOD 11-2), 统一社会信用代码 (GB 32100 MOD 31), bank cards (Luhn)
and mainland mobile numbers — worked examples, rejections, and error-detection properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.validate import (
    USCC_CHARSET,
    IdNumberInfo,
    bank_card,
    id_number,
    id_number_info,
    luhn_check_digit,
    make_id_number,
    make_uscc,
    mobile,
    to_halfwidth,
    uscc,
)

TODAY = date(2025, 6, 15)

# ---------------------------------------------------------------------------------------------------------
# 居民身份证号


def test_commonly_cited_id_number_is_valid() -> None:
    # The example used in GB 11643 write-ups: region 110105 (北京朝阳), born 1949-12-31, sequence 002.
    assert id_number("11010519491231002X", today=TODAY) == "11010519491231002X"
    assert make_id_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    info = id_number_info("11010519491231002X", today=TODAY)
    assert info == IdNumberInfo(
        number="11010519491231002X",
        region_code="110105",
        birth_date=date(1949, 12, 31),
        sequence="002",
        sex="F",  # 17th digit 2 is even
    )


@pytest.mark.parametrize(
    ("number", "birth", "sex"),
    [
        ("440305200002291232", date(2000, 2, 29), "M"),  # leap day; 17th digit 3
        ("310104198507014517", date(1985, 7, 1), "M"),
        ("11010519491231002X", date(1949, 12, 31), "F"),
    ],
)
def test_id_number_info(number: str, birth: date, sex: str) -> None:
    info = id_number_info(number, today=TODAY)
    assert info.birth_date == birth
    assert info.sex == sex


def test_id_number_check_digit_worked_by_hand() -> None:
    # 11010519491231002: Σ digit×weight (7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2) = 167; 167 mod 11 = 2 → "X".
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip("11010519491231002", weights, strict=True))
    assert total == 167 and total % 11 == 2
    assert make_id_number("110105", date(1949, 12, 31), 2)[-1] == "X"


@pytest.mark.parametrize(
    "text",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "１１０１０５１９４９１２３１００２Ｘ",
        "110105\u300019491231002x",
    ],
)
def test_id_number_normalises(text: str) -> None:
    assert id_number(text, today=TODAY) == "11010519491231002X"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter the ID number"),
        ("   ", "Enter the ID number"),
        ("11010519491231002", "18 characters; this one has 17"),
        ("110105194912310021X", "18 characters; this one has 19"),
        ("110105491231002", "18 characters; this one has 15"),  # old 15-digit numbers are not accepted
        ("1101051949123100X2", "only digits"),
        ("11010519491231002Y", "only digits"),
        ("1101051949A231002X", "only digits"),
        ("110105-19491231002", "only digits"),
        ("110105-19491231-002X", "this one has 20"),
        ("010105194912310026", "region code"),
        ("110105194902300023", "19490230 .* not a real date"),
        ("110105194913010023", "not a real date"),
        ("110105190002290023", "not a real date"),  # 1900 is not a leap year
        ("110105000001010023", "not a real date"),
        ("11010518991231002X", "1899-12-31 .* between 1900-01-01 and today"),
        ("11010519491231002" + "1", "check character"),
        ("11010519491231003X", "check character"),
        ("x" * 65, "too long"),
    ],
)
def test_id_number_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as err:
        id_number(text, today=TODAY)
    assert err.value.field == "id_number"


def test_id_number_birth_date_bounded_by_callers_today() -> None:
    born_today = make_id_number("110105", TODAY, 7)
    assert id_number(born_today, today=TODAY) == born_today
    with pytest.raises(ValidationError, match="between 1900-01-01 and today"):
        id_number(born_today, today=TODAY - timedelta(days=1))
    oldest = make_id_number("110105", date(1900, 1, 1), 7)
    assert id_number(oldest, today=TODAY) == oldest


def test_id_number_requires_today() -> None:
    with pytest.raises(TypeError):
        id_number("11010519491231002X")  # type: ignore[call-arg]


def test_make_id_number_refuses_bad_parts() -> None:
    for region in ("010105", "11010", "1101055", "11010a"):
        with pytest.raises(ValueError):
            make_id_number(region, date(1990, 1, 1), 1)
    for seq in (-1, 1000):
        with pytest.raises(ValueError):
            make_id_number("110105", date(1990, 1, 1), seq)


regions = st.integers(100000, 999999).map(str)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(0, 999)


@given(regions, births, seqs)
def test_generated_id_numbers_pass(region: str, birth: date, seq: int) -> None:
    number = make_id_number(region, birth, seq)
    info = id_number_info(number.lower(), today=TODAY)
    assert info.number == number
    assert info.region_code == region
    assert info.birth_date == birth
    assert info.sequence == f"{seq:03d}"
    assert info.sex == ("M" if (seq % 10) % 2 else "F")


@given(regions, births, seqs, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_id_number_single_substitution_is_caught(
    region: str, birth: date, seq: int, pos: int, replacement: str
) -> None:
    number = make_id_number(region, birth, seq)
    assume(number[pos] != replacement)
    changed = number[:pos] + replacement + number[pos + 1 :]
    with pytest.raises(ValidationError):
        id_number(changed, today=TODAY)


@given(regions, births, seqs, st.integers(0, 16))
def test_id_number_adjacent_transposition_is_caught(region: str, birth: date, seq: int, pos: int) -> None:
    number = make_id_number(region, birth, seq)
    assume(number[pos] != number[pos + 1])
    swapped = number[:pos] + number[pos + 1] + number[pos] + number[pos + 2 :]
    with pytest.raises(ValidationError):
        id_number(swapped, today=TODAY)


# ---------------------------------------------------------------------------------------------------------
# 统一社会信用代码


def test_standard_example_uscc_is_valid() -> None:
    # The sample code printed in GB 32100-2015 explanations.
    assert uscc("91350100M000100Y43") == "91350100M000100Y43"
    assert make_uscc("91350100M000100Y4") == "91350100M000100Y43"


def test_uscc_check_character_worked_by_hand() -> None:
    # Σ value×weight = 9 + 3 + 27 + 135 + 26 + 21×20 + 1×8 + 30×30 + 4×28 = 1640; 1640 mod 31 = 28; 31 - 28 = 3.
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    values = [USCC_CHARSET.index(ch) for ch in "91350100M000100Y4"]
    assert values == [9, 1, 3, 5, 0, 1, 0, 0, 21, 0, 0, 0, 1, 0, 0, 30, 4]  # M = 21, Y = 30
    total = sum(v * w for v, w in zip(values, weights, strict=True))
    assert total == 1640 and total % 31 == 28
    assert USCC_CHARSET[(31 - total % 31) % 31] == "3"


@pytest.mark.parametrize(
    "text", ["91350100m000100y43", " 9135 0100 M000 100Y 43 ", "９１３５０１００Ｍ０００１００Ｙ４３"]
)
def test_uscc_normalises(text: str) -> None:
    assert uscc(text) == "91350100M000100Y43"


def test_uscc_check_character_can_be_zero() -> None:
    # Σ ≡ 0 (mod 31) gives check value 31 → written as "0", not an out-of-range index.
    body = next(b for b in (f"91110000{n:09d}" for n in range(10_000)) if make_uscc(b)[-1] == "0")
    assert uscc(make_uscc(body)).endswith("0")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter the unified social credit code"),
        ("91350100M000100Y4", "18 characters; this one has 17"),
        ("91350100M000100Y433", "18 characters; this one has 19"),
        ("91350100M000100I43", "cannot contain I"),
        ("91350100O000100Y43", "cannot contain O"),
        ("91350100M000100S4Z", "cannot contain S Z"),
        ("91350100V000100Y43", "cannot contain V"),
        ("91350100M0001-0Y43", "cannot contain -"),
        ("913A0100M000100Y43", "3 to 8 .* digits"),
        ("91350100M000100Y44", "check character"),
        ("91350100M000100Y4A", "check character"),
    ],
)
def test_uscc_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as err:
        uscc(text)
    assert err.value.field == "uscc"


def test_make_uscc_refuses_bad_body() -> None:
    for body in ("91350100M000100Y", "91350100M000100Y4X", "91350100M000100I4"):
        with pytest.raises(ValueError):
            make_uscc(body)


uscc_bodies = st.builds(
    lambda head, region, org: head + region + org,
    st.text(USCC_CHARSET, min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text(USCC_CHARSET, min_size=9, max_size=9),
)


@given(uscc_bodies)
def test_generated_uscc_pass(body: str) -> None:
    code = make_uscc(body)
    assert uscc(code.lower()) == code


@given(uscc_bodies, st.integers(0, 17), st.sampled_from(USCC_CHARSET))
def test_uscc_single_substitution_is_caught(body: str, pos: int, replacement: str) -> None:
    code = make_uscc(body)
    assume(code[pos] != replacement)
    with pytest.raises(ValidationError):
        uscc(code[:pos] + replacement + code[pos + 1 :])


# ---------------------------------------------------------------------------------------------------------
# Bank cards


def test_luhn_worked_examples() -> None:
    assert luhn_check_digit("7992739871") == "3"  # the textbook example 79927398713
    assert luhn_check_digit("411111111111111") == "1"
    assert luhn_check_digit("0") == "0"
    with pytest.raises(ValueError):
        luhn_check_digit("12a")
    with pytest.raises(ValueError):
        luhn_check_digit("١٢")


@pytest.mark.parametrize(
    "text",
    ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "４１１１１１１１１１１１１１１１"],
)
def test_bank_card_normalises(text: str) -> None:
    assert bank_card(text) == "4111111111111111"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter the bank card number"),
        (" - ", "Enter the bank card number"),
        ("79927398713", "12 to 19 digits; this one has 11"),
        ("4111 1111 1111 1111 1111", "this one has 20"),
        ("4111111111111112", "check digit"),
        ("4111x11111111111", "only digits"),
        ("4111.1111.1111.1111", "only digits"),
    ],
)
def test_bank_card_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as err:
        bank_card(text)
    assert err.value.field == "bank_card"


card_bodies = st.text("0123456789", min_size=11, max_size=18)


@given(card_bodies)
def test_generated_bank_cards_pass(body: str) -> None:
    number = body + luhn_check_digit(body)
    spaced = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    assert bank_card(spaced) == number


@given(card_bodies, st.data())
def test_bank_card_single_digit_error_is_caught(body: str, data: st.DataObject) -> None:
    number = body + luhn_check_digit(body)
    pos = data.draw(st.integers(0, len(number) - 1))
    replacement = data.draw(st.sampled_from("0123456789").filter(lambda d: d != number[pos]))
    with pytest.raises(ValidationError, match="check digit"):
        bank_card(number[:pos] + replacement + number[pos + 1 :])


# ---------------------------------------------------------------------------------------------------------
# Mobile numbers


@pytest.mark.parametrize(
    "text",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "86 13812345678",
        "0086-138-1234-5678",
        "１３８１２３４５６７８",
        "＋８６１３８１２３４５６７８",
    ],
)
def test_mobile_normalises(text: str) -> None:
    assert mobile(text) == "13812345678"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_mobile_prefixes(prefix: str) -> None:
    assert mobile(prefix + "912345678") == prefix + "912345678"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Enter the mobile number"),
        ("12812345678", "11 digits and starts with 13 to 19"),
        ("10812345678", "11 digits"),
        ("1381234567", "11 digits"),
        ("138123456789", "11 digits"),
        ("23812345678", "11 digits"),
        ("+1 13812345678", "11 digits"),
        ("+86 010 12345678", "11 digits"),
        ("138(1234)5678", "11 digits"),
        ("8613812345678 9", "11 digits"),
        ("1381234567a", "11 digits"),
        ("(+86)13812345678", "11 digits"),
    ],
)
def test_mobile_rejects(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as err:
        mobile(text)
    assert err.value.field == "mobile"


def test_validators_refuse_non_text() -> None:
    for validator in (uscc, bank_card, mobile):
        with pytest.raises(TypeError):
            validator(13812345678)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        id_number(110105, today=TODAY)  # type: ignore[arg-type]


def test_to_halfwidth_folds_only_fullwidth_forms() -> None:
    assert to_halfwidth("１２３．４５，ＡＢｘ－￥\u3000") == "123.45,ABx-¥ "
    assert to_halfwidth("²½١") == "²½١"
