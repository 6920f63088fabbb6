"""The shared field rules (xiangchuang.fields): every service's forms and API calls use these."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang import fields
from xiangchuang.errors import ValidationFailed


def _refused(fn, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as exc:
        fn(*args, **kwargs)
    return str(exc.value)


def test_text_trims_and_names_the_field() -> None:
    assert fields.text("  合作社  ", "名称", 10) == "合作社"
    assert fields.text("   ", "备注", 10, required=False) is None
    assert "名称：必填" in _refused(fields.text, " ", "名称", 10)
    assert "名称：不超过 3 个字符（现 4 个）" in _refused(fields.text, "一二三四", "名称", 3)


def test_text_control_characters() -> None:
    assert fields.text("第一行\n第二行\t完", "说明", 50) == "第一行\n第二行\t完"
    assert "会议名称：不能含有空字符" in _refused(fields.text, "会\x00议", "会议名称", 50)
    assert "控制字符" in _refused(fields.text, "响\x07铃", "说明", 50)


def test_text_refuses_personal_numbers_unless_the_field_holds_them() -> None:
    for value in ("联系 13800138000", "身份证 11010519491231002X", "卡号 6222021234567890128"):
        assert "不得包含身份证号、手机号或银行卡号" in _refused(fields.text, value, "说明", 80)
    assert fields.text("13800138000", "手机号", 20, personal_numbers=True) == "13800138000"


def test_integer() -> None:
    assert fields.integer(" 12 ", "人数", 1, 500) == 12
    assert fields.integer(500, "人数", 1, 500) == 500
    for bad in (0, 501, "x", None, True, "1.5"):
        assert _refused(fields.integer, bad, "人数", 1, 500) == "人数：须为 1–500 的整数"


def test_district() -> None:
    assert fields.district("500101") == 500101
    assert fields.district(500236, "所在区县") == 500236
    assert "所在区县：123 不是重庆市的区县代码" in _refused(fields.district, 123, "所在区县")
    assert "须为重庆市区县代码" in _refused(fields.district, "万州", "区县")
    assert "须为重庆市区县代码" in _refused(fields.district, True)


def test_dates() -> None:
    assert fields.date("2024-02-29", "入职日期") == dt.date(2024, 2, 29)
    assert fields.date(dt.datetime(2024, 3, 1, 8, 0), "入职日期") == dt.date(2024, 3, 1)
    assert "入职日期：须为日期 YYYY-MM-DD" in _refused(fields.date, "2023-02-29", "入职日期")
    assert "入职日期：必填" in _refused(fields.date, "", "入职日期")
    assert fields.optional_date("  ", "可到岗日期") is None
    assert fields.optional_date("2025-01-31", "可到岗日期") == dt.date(2025, 1, 31)


def test_choice() -> None:
    options = {"phone": "电话", "visit": "走访"}
    assert fields.choice("visit", "方式", options) == "visit"
    assert _refused(fields.choice, "mail", "方式", options) == "方式：须为 电话、走访 之一"


@given(st.text(max_size=80))
def test_text_only_ever_raises_a_validation_error(value: str) -> None:
    try:
        out = fields.text(value, "说明", 40, required=False)
    except ValidationFailed as exc:
        assert str(exc).startswith("说明：")
    else:
        assert out is None or (0 < len(out) <= 40 and out == out.strip())


@given(st.one_of(st.text(max_size=20), st.integers(), st.none(), st.booleans()))
def test_integer_and_district_only_ever_raise_validation_errors(value: object) -> None:
    for fn, args in ((fields.integer, ("数量", 0, 10)), (fields.district, ("区县",))):
        with contextlib.suppress(ValidationFailed):
            fn(value, *args)  # type: ignore[operator]
