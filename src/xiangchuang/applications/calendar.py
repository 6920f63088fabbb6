"""Working days by the Chinese holiday calendar (公示 counts working days).

Sources, in order:

1. ``policy/holidays.yaml`` — an editable override: extra holidays and working weekend days by date;
   ``covered_years`` lists the years whose whole 国务院办公厅 arrangement has been entered there.
2. ``chinesecalendar`` — knows the official arrangement up to its release.
3. Beyond both: Monday–Friday, with a :class:`CalendarWarning` naming the year, so nobody silently
   counts a holiday as a working day.

Counting: :func:`add_working_days` returns the n-th working day *after* ``start`` (the start day is not
counted, 《民法典》第二百零一条). A publicity published on ``start`` ends at the end of
:func:`publicity_end` (第二百零三条: 24:00 of the last day); approval is possible from the next day.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import chinese_calendar
import yaml

from xiangchuang.engine.parameters import load_parameters


class CalendarWarning(UserWarning):
    """A date lies beyond both the holiday table and chinesecalendar: counted Monday–Friday."""


@dataclass(frozen=True)
class HolidayTable:
    holidays: frozenset[dt.date]
    workdays: frozenset[dt.date]
    covered_years: frozenset[int]
    source: str


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"节假日表 {where} 中的日期 {value!r} 格式不正确，应为 YYYY-MM-DD") from None


def parse_holiday_table(doc: dict[str, Any], *, source: str = "<内存>") -> HolidayTable:
    holidays = frozenset(_date(v, "holidays") for v in doc.get("holidays") or [])
    workdays = frozenset(_date(v, "workdays") for v in doc.get("workdays") or [])
    both = holidays & workdays
    if both:
        raise ValueError(f"节假日表中 {', '.join(sorted(d.isoformat() for d in both))} 同时列为假日和工作日")
    return HolidayTable(
        holidays=holidays,
        workdays=workdays,
        covered_years=frozenset(int(y) for y in doc.get("covered_years") or []),
        source=source,
    )


def load_holiday_table(path: Path | None = None) -> HolidayTable:
    if path is None:
        return _builtin_table()
    return parse_holiday_table(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, source=str(path))


@cache
def _builtin_table() -> HolidayTable:
    ref = resources.files("xiangchuang").joinpath("policy", "holidays.yaml")
    return parse_holiday_table(
        yaml.safe_load(ref.read_text(encoding="utf-8")) or {}, source="policy/holidays.yaml"
    )


def _library_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:  # chinesecalendar's signal for a year it has no data for (not a stub)
        return False
    return True


def is_working_day(day: dt.date, *, table: HolidayTable | None = None) -> bool:
    t = table or _builtin_table()
    if day in t.holidays:
        return False
    if day in t.workdays:
        return True
    if day.year not in t.covered_years:
        if _library_knows(day.year):
            return bool(chinese_calendar.is_workday(day))
        warnings.warn(
            CalendarWarning(
                f"{day.year} 年的节假日安排既不在 chinesecalendar 中，也未录入节假日表（{t.source}）："
                "暂按周一至周五计算工作日，请尽快补录当年安排"
            ),
            stacklevel=2,
        )
    return day.weekday() < 5


def add_working_days(start: dt.date, n: int, *, table: HolidayTable | None = None) -> dt.date:
    """The n-th working day after ``start`` (``start`` itself is not counted); n = 0 returns ``start``."""
    if n < 0:
        raise ValueError("工作日数不能为负")
    day, left = start, n
    while left:
        day += dt.timedelta(days=1)
        if is_working_day(day, table=table):
            left -= 1
    return day


def publicity_working_days(on: dt.date | None = None) -> int:
    """The dated parameter ``applications.publicity_working_days`` in force on ``on`` (default today)."""
    value = load_parameters()["applications.publicity_working_days"].value_at(on or dt.date.today())
    if not isinstance(value, int) or value < 1:
        raise ValueError("参数 applications.publicity_working_days 在该日期没有有效值")
    return value


def publicity_end(start: dt.date, *, table: HolidayTable | None = None) -> dt.date:
    """Last day of a publicity published on ``start`` (approval is possible from the next day)."""
    return add_working_days(start, publicity_working_days(start), table=table)
