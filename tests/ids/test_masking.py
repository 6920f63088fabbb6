from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.ids import mask_bank_card, mask_name, mask_phone, mask_resident_id, mask_uscc


def test_examples() -> None:
    assert mask_resident_id("500101199001011234") == "5001**********1234"
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("+86 138 0013 8000") == "+86138****8000"
    assert mask_bank_card("6222021234567890") == "**** **** **** 7890"
    assert mask_bank_card("6222 0212 3456 7890 123") == "**** **** **** 0123"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_uscc("91110000600037341L") == "911100********341L"


@pytest.mark.parametrize("func", [mask_resident_id, mask_phone, mask_bank_card, mask_uscc])
def test_short_inputs_fully_masked(func: object) -> None:
    assert callable(func)
    assert func("") == ""
    assert func("1234") == "****"
    assert set(func("12345678")) == {"*"}


def test_short_names() -> None:
    assert mask_name("") == ""
    assert mask_name("李") == "*"
    assert mask_name(" 王五 ") == "王*"


@given(st.text())
def test_masking_is_total(text: str) -> None:
    for func in (mask_resident_id, mask_phone, mask_bank_card, mask_name, mask_uscc):
        assert isinstance(func(text), str)


@given(st.text(alphabet="0123456789", min_size=15, max_size=18))
def test_resident_id_mask_hides_middle(text: str) -> None:
    masked = mask_resident_id(text)
    assert len(masked) == len(text)
    assert masked[:4] == text[:4]
    assert masked[-4:] == text[-4:]
    assert set(masked[4:-4]) == {"*"}
