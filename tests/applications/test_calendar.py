"""Working days by the Chinese holiday calendar, with the editable table as override and fallback."""

from __future__ import annotations

import datetime as dt
import warnings

import pytest

from xiangchuang.applications.calendar import (
    CalendarWarning,
    add_working_days,
    is_working_day,
    load_holiday_table,
    parse_holiday_table,
    publicity_end,
    publicity_working_days,
)

D = dt.date
PUB: dict[str, object] = {}  # holiday-table documents need no other keys


def test_publicity_over_national_day_2025_skips_the_holidays_and_counts_the_working_saturday():
    # 2025: 1–8 October off; Sunday 28 September and Saturday 11 October are working days.
    assert add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 14)
    assert publicity_end(D(2025, 9, 30)) == D(2025, 10, 14)


def test_an_adjusted_working_weekend_day_counts():
    assert is_working_day(D(2025, 9, 28))  # Sunday, 调休上班
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)


def test_the_start_day_is_not_counted():
    assert add_working_days(D(2025, 3, 3), 1) == D(2025, 3, 4)
    assert add_working_days(D(2025, 3, 3), 0) == D(2025, 3, 3)
    with pytest.raises(ValueError):
        add_working_days(D(2025, 3, 3), -1)


def test_publicity_lasts_the_dated_parameter_of_working_days():
    from xiangchuang.engine.parameters import load_parameters

    assert publicity_working_days(D(2025, 9, 30)) == 5
    p = load_parameters()["applications.publicity_working_days"]
    assert p.version_at(D(2025, 9, 30)).status == "assumed"


def test_the_table_overrides_the_library_both_ways():
    table = parse_holiday_table({**PUB, "holidays": ["2025-03-04"], "workdays": ["2025-03-08"]})
    assert not is_working_day(D(2025, 3, 4), table=table)
    assert is_working_day(D(2025, 3, 8), table=table)
    assert add_working_days(D(2025, 3, 3), 2, table=table) == D(2025, 3, 6)


def test_a_year_beyond_both_sources_warns_and_counts_monday_to_friday():
    with pytest.warns(CalendarWarning, match="2099"):
        assert add_working_days(D(2099, 1, 2), 1) == D(2099, 1, 5)  # Friday → Monday


def test_a_year_entered_in_the_table_does_not_warn():
    table = parse_holiday_table({**PUB, "holidays": ["2099-01-01"], "covered_years": [2099]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not is_working_day(D(2099, 1, 1), table=table)
        assert is_working_day(D(2099, 1, 2), table=table)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({**PUB, "holidays": ["2025-13-01"]}, "格式不正确"),
        ({**PUB, "holidays": ["2025-03-04"], "workdays": ["2025-03-04"]}, "同时列为"),
    ],
)
def test_a_bad_holiday_table_is_refused_with_a_chinese_message(doc, message):
    with pytest.raises(ValueError, match=message):
        parse_holiday_table(doc)


def test_a_table_file_can_be_loaded(tmp_path):
    path = tmp_path / "holidays.yaml"
    path.write_text("holidays: [2025-03-04]\n", encoding="utf-8")
    table = load_holiday_table(path)
    assert D(2025, 3, 4) in table.holidays
    # 5 working days after 2025-03-03, skipping the extra holiday on 03-04: 03-05 … 03-07, 03-10, 03-11.
    assert publicity_end(D(2025, 3, 3), table=table) == D(2025, 3, 11)
