"""A carrier bill month (API, page, command) is a case's month text or YYYYMM, nothing looser."""

from __future__ import annotations

import pytest

from xiangchuang.carriers.service import parse_month
from xiangchuang.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "month"),
    [("2025-03", 202503), ("202503", 202503), (" 2025-03 ", 202503), (202503, 202503), ("1900-01", 190001)],
)
def test_the_forms_of_a_bill_month(value: object, month: int) -> None:
    assert parse_month(value) == month


@pytest.mark.parametrize(
    "value",
    # Every hyphen was dropped, so the first three read as 2025-03; full-width digits were taken.
    ["20-2503", "2025-0-3", "-202503", "２０２５-０３", "２０２５０３", "2025-3", "2025-13", "202500", "2025/03",
     "", None, True, 2025.03],
)  # fmt: skip
def test_other_text_is_refused_naming_the_field(value: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        parse_month(value)
    assert str(exc.value).startswith("账单月份：须为 YYYY-MM"), exc.value


def test_a_month_outside_the_range_is_named_as_such() -> None:
    with pytest.raises(ValidationFailed, match="账单月份 2100-01 超出范围"):
        parse_month("2100-01")
    with pytest.raises(ValidationFailed, match="账单月份 2100-01 超出范围"):
        parse_month(210001)
