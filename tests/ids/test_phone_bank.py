from __future__ import annotations

import pytest

from xiangchuang.ids import IdValidationError, check_bank_card, validate_mobile
from xiangchuang.ids.bank_card import LUHN_WARNING


@pytest.mark.parametrize(
    "text",
    [
        "13800138000",
        "138 0013 8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "008613800138000",
        " 138-0013-8000 ",
    ],
)
def test_mobile_accepted(text: str) -> None:
    assert validate_mobile(text) == "+8613800138000"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "不能为空"),
        ("023 6812 3456", "不是手机号码"),  # Chongqing fixed line
        ("+1 650 253 0000", "+86"),
        ("1380013800", "不是有效"),
        ("138001380001", "不是有效"),
        ("abc", "格式无效"),
        ("12345678901", "不是有效"),
    ],
)
def test_mobile_rejected(text: str, fragment: str) -> None:
    with pytest.raises(IdValidationError) as info:
        validate_mobile(text)
    assert info.value.field == "手机号码"
    assert fragment in str(info.value)
    if len(text) >= 8:
        assert text not in str(info.value)


def test_bank_card_luhn_ok() -> None:
    result = check_bank_card("4111 1111 1111 1111")
    assert result.number == "4111111111111111"
    assert result.luhn_ok
    assert result.warning is None
    assert result.masked() == "**** **** **** 1111"


def test_bank_card_luhn_failure_is_a_warning() -> None:
    result = check_bank_card("4111111111111112")
    assert not result.luhn_ok
    assert result.warning == LUHN_WARNING == "银行卡号未通过Luhn校验，请核对"


@pytest.mark.parametrize("length", [12, 19])
def test_bank_card_length_bounds(length: int) -> None:
    assert len(check_bank_card("6" * length).number) == length


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1" * 11,
        "1" * 20,
        "6222-0212-3456-7890",
        "62220212345678a0",
        "６２２２０２１２３４５６７８９０",
    ],
)
def test_bank_card_rejected(text: str) -> None:
    with pytest.raises(IdValidationError) as info:
        check_bank_card(text)
    assert info.value.field == "银行卡号"
    if len(text.strip()) >= 8:
        assert text not in str(info.value)
