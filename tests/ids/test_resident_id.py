from __future__ import annotations

from datetime import date

import pytest

from xiangchuang.ids import IdValidationError, check_char, make_resident_id, validate_resident_id
from xiangchuang.ids.resident_id import PROVINCE_PREFIXES

TODAY = date(2024, 6, 1)

# Example from GB 11643-1999 itself (北京市朝阳区, 1949-12-31, female).
STANDARD_EXAMPLE = "11010519491231002X"


def _with_check(first17: str) -> str:
    return first17 + check_char(first17)


def _error(text: str, today: date = TODAY) -> IdValidationError:
    with pytest.raises(IdValidationError) as info:
        validate_resident_id(text, today=today)
    err = info.value
    assert err.field == "身份证号"
    assert str(err).startswith("身份证号：")
    stripped = text.strip()
    if len(stripped) >= 8:
        assert stripped not in str(err)
        assert stripped.upper() not in str(err)
    return err


def test_standard_example() -> None:
    rid = validate_resident_id(STANDARD_EXAMPLE, today=TODAY)
    assert rid.number == STANDARD_EXAMPLE
    assert rid.birth_date == date(1949, 12, 31)
    assert rid.gender == "F"
    assert rid.region_code == 110105


def test_check_char_known_answers() -> None:
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"  # second GB 11643 example (born 1880)


def test_lowercase_x_is_accepted_and_normalized() -> None:
    rid = validate_resident_id("11010519491231002x", today=TODAY)
    assert rid.number == STANDARD_EXAMPLE


def test_surrounding_whitespace_is_stripped() -> None:
    assert validate_resident_id(f"  {STANDARD_EXAMPLE}\n", today=TODAY).number == STANDARD_EXAMPLE


def test_male_when_17th_digit_odd() -> None:
    number = make_resident_id(500101, date(1990, 1, 1), 123)
    rid = validate_resident_id(number, today=TODAY)
    assert rid.gender == "M"
    assert rid.region_code == 500101
    assert rid.birth_date == date(1990, 1, 1)


def test_wrong_check_char() -> None:
    err = _error("110105194912310021")
    assert err.rule == "校验码错误（GB 11643 MOD 11-2），应为X"
    assert str(err) == "身份证号：校验码错误（GB 11643 MOD 11-2），应为X"


def test_feb_29_on_non_leap_year_rejected() -> None:
    err = _error(_with_check("50010120230229001"))
    assert "出生日期" in err.rule


def test_feb_29_on_leap_year_accepted() -> None:
    assert validate_resident_id(_with_check("50010120240229001"), today=TODAY).birth_date == date(2024, 2, 29)


@pytest.mark.parametrize("ymd", ["19900230", "19901301", "19900001", "19900100", "19901131"])
def test_impossible_dates_rejected(ymd: str) -> None:
    assert "出生日期" in _error(_with_check(f"500101{ymd}001")).rule


def test_future_birth_date_rejected() -> None:
    assert _error(_with_check("50010120240602001")).rule == "出生日期晚于当前日期"


def test_birth_today_accepted() -> None:
    assert validate_resident_id(_with_check("50010120240601001"), today=TODAY).birth_date == TODAY


def test_before_1900_rejected() -> None:
    assert _error("440524188001010014").rule == "出生日期早于1900年1月1日"


def test_unknown_province_rejected() -> None:
    err = _error(_with_check("99010119900101001"))
    assert "省级行政区划代码" in err.rule


@pytest.mark.parametrize("prefix", sorted(PROVINCE_PREFIXES))
def test_all_official_provinces_accepted(prefix: int) -> None:
    number = make_resident_id(prefix * 10000 + 101, date(1985, 5, 5), 42)
    assert validate_resident_id(number, today=TODAY).region_code == prefix * 10000 + 101


def test_province_set_is_the_official_one() -> None:
    assert len(PROVINCE_PREFIXES) == 34
    assert {10, 16, 20, 24, 30, 38, 40, 47, 49, 55, 60, 66, 70, 72, 80, 83, 91, 99}.isdisjoint(
        PROVINCE_PREFIXES
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "11010519491231002",  # 17 chars
        "11010519491231002XX",  # 19 chars
        "1101051949123100XX",  # X not last
        "11010519491231002Y",
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "110105-9491231002X",
        "11010519491231 02X",
    ],
)
def test_malformed_rejected(text: str) -> None:
    _error(text)


def test_default_today_is_real_today() -> None:
    far_future = _with_check("50010199991231001")
    with pytest.raises(IdValidationError):
        validate_resident_id(far_future)


def test_non_string_rejected() -> None:
    with pytest.raises(IdValidationError):
        validate_resident_id(110105194912310021)  # type: ignore[arg-type]


def test_make_resident_id_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        make_resident_id(500101, date(1990, 1, 1), 1000)
    with pytest.raises(ValueError):
        make_resident_id(990101, date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_resident_id(50010, date(1990, 1, 1), 1)
    with pytest.raises(ValueError):
        make_resident_id(500101, date(1899, 12, 31), 1)


def test_check_char_requires_17_digits() -> None:
    with pytest.raises(IdValidationError):
        check_char("1234")
