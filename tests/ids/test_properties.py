"""Property tests: validators raise only IdValidationError, and make_* round-trips."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.engine.districts import district_codes
from xiangchuang.ids import (
    IdValidationError,
    check_bank_card,
    make_resident_id,
    make_uscc,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)
from xiangchuang.ids.uscc import CATEGORIES, CHARSET

TODAY = date(2024, 6, 1)

ID_ALPHABET = "0123456789Xx"
USCC_ALPHABET = CHARSET + CHARSET.lower() + "IOZSVioszv"
PHONE_ALPHABET = "0123456789+- ()"
CARD_ALPHABET = "0123456789 "


def _only_id_errors(func: object, text: str) -> None:
    assert callable(func)
    try:
        func(text)
    except IdValidationError as err:
        assert str(err).startswith(f"{err.field}：")


@given(st.text())
def test_resident_id_any_text(text: str) -> None:
    _only_id_errors(validate_resident_id, text)


@given(st.text(alphabet=ID_ALPHABET, min_size=18, max_size=18))
def test_resident_id_right_alphabet(text: str) -> None:
    try:
        rid = validate_resident_id(text, today=TODAY)
    except IdValidationError as err:
        assert text.upper() not in str(err)
    else:
        assert rid.number == text.upper()


@given(st.text())
def test_uscc_any_text(text: str) -> None:
    _only_id_errors(validate_uscc, text)


@given(st.text(alphabet=USCC_ALPHABET, min_size=18, max_size=18))
def test_uscc_right_alphabet(text: str) -> None:
    try:
        uscc = validate_uscc(text)
    except IdValidationError as err:
        assert text.upper() not in str(err)
    else:
        assert uscc.code == text.upper()


@given(st.text())
def test_mobile_any_text(text: str) -> None:
    _only_id_errors(validate_mobile, text)


@given(st.text(alphabet=PHONE_ALPHABET, min_size=0, max_size=24))
def test_mobile_right_alphabet(text: str) -> None:
    try:
        e164 = validate_mobile(text)
    except IdValidationError:
        pass
    else:
        assert e164.startswith("+861")
        assert len(e164) == 14


@given(st.text())
def test_bank_card_any_text(text: str) -> None:
    _only_id_errors(check_bank_card, text)


@given(st.text(alphabet=CARD_ALPHABET, min_size=0, max_size=25))
def test_bank_card_right_alphabet(text: str) -> None:
    try:
        result = check_bank_card(text)
    except IdValidationError:
        pass
    else:
        assert 12 <= len(result.number) <= 19
        assert (result.warning is None) == result.luhn_ok


@given(
    st.sampled_from(district_codes()),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)
def test_resident_id_round_trip(region: int, birth: date, seq: int) -> None:
    number = make_resident_id(region, birth, seq)
    rid = validate_resident_id(number, today=TODAY)
    assert rid.number == number
    assert rid.birth_date == birth
    assert rid.region_code == region
    assert rid.gender == ("M" if seq % 2 else "F")


@given(
    st.sampled_from(district_codes()),
    st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=17),
    st.integers(min_value=1, max_value=9),
)
def test_resident_id_single_substitution_detected(
    region: int, birth: date, seq: int, pos: int, delta: int
) -> None:
    number = make_resident_id(region, birth, seq)
    alphabet = "0123456789X"
    old = alphabet.index(number[pos])
    new = alphabet[(old + delta) % (11 if pos == 17 else 10)]
    mutated = number[:pos] + new + number[pos + 1 :]
    assert mutated != number
    try:
        validate_resident_id(mutated, today=TODAY)
    except IdValidationError:
        pass
    else:
        raise AssertionError("single-character change was not detected")


@given(
    st.sampled_from([(a, c) for a, cats in CATEGORIES.items() for c in cats]),
    st.integers(min_value=0, max_value=999999),
    st.integers(min_value=0, max_value=99_999_999),
)
def test_uscc_round_trip(pair: tuple[str, str], region: int, org_seq: int) -> None:
    authority, category = pair
    code = make_uscc(authority, category, region, org_seq)
    uscc = validate_uscc(code)
    assert (uscc.code, uscc.authority, uscc.category, uscc.region_code) == (code, authority, category, region)
    assert validate_uscc(code.lower()).code == code


@given(
    st.integers(min_value=0, max_value=99_999_999),
    st.integers(min_value=0, max_value=17),
    st.integers(min_value=1, max_value=30),
)
def test_uscc_single_substitution_detected(org_seq: int, pos: int, delta: int) -> None:
    code = make_uscc("9", "1", 500101, org_seq)
    new = CHARSET[(CHARSET.index(code[pos]) + delta) % 31]
    mutated = code[:pos] + new + code[pos + 1 :]
    try:
        validate_uscc(mutated)
    except IdValidationError:
        pass
    else:
        raise AssertionError("single-character change was not detected")
