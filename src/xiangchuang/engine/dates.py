"""Dates as int32 day numbers (days since 1970-01-01) and the 民法典 period rules.

Periods (民法典 第201–203条): a period of n years/months from date D ends on the corresponding day
n years/months later; when that month has no corresponding day (29 Feb, 31st) it ends on the last
day of that month. ``anniversary`` implements exactly that, for scalars and for columns.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import numpy as np
import numpy.typing as npt

EPOCH: Final = dt.date(1970, 1, 1)
DayArray = npt.NDArray[np.int32]


def to_day(d: dt.date) -> int:
    """Day number of a date."""
    return (d - EPOCH).days


def from_day(n: int) -> dt.date:
    """Date of a day number."""
    return EPOCH + dt.timedelta(days=int(n))


def parse_date(text: str | dt.date) -> dt.date:
    """ISO date (YYYY-MM-DD) or a date object."""
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    return dt.date.fromisoformat(str(text).strip())


def add_months_scalar(d: dt.date, months: int) -> dt.date:
    """D plus n months; a missing corresponding day becomes the month's last day."""
    idx = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(idx, 12)
    last = _month_length(year, month0 + 1)
    return dt.date(year, month0 + 1, min(d.day, last))


def anniversary_scalar(d: dt.date, years: int) -> dt.date:
    """The n-th anniversary of D (29 Feb → 28 Feb in common years)."""
    return add_months_scalar(d, 12 * years)


def _month_length(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (dt.date(year, month + 1, 1) - dt.date(year, month, 1)).days


def add_months(days: DayArray, months: int | npt.NDArray[np.int64]) -> DayArray:
    """Column version of :func:`add_months_scalar` (vectorized, no Python loop)."""
    d64 = days.astype("datetime64[D]")
    month_start = d64.astype("datetime64[M]")
    day_of_month = (d64 - month_start.astype("datetime64[D]")).astype(np.int64)
    target_month = month_start + np.asarray(months).astype("timedelta64[M]")
    target_start = target_month.astype("datetime64[D]")
    target_len = ((target_month + np.timedelta64(1, "M")).astype("datetime64[D]") - target_start).astype(
        np.int64
    )
    out = target_start + np.minimum(day_of_month, target_len - 1).astype("timedelta64[D]")
    result: DayArray = out.astype(np.int64).astype(np.int32)
    return result


def anniversary(days: DayArray, years: int | npt.NDArray[np.int64]) -> DayArray:
    """Column version of :func:`anniversary_scalar`."""
    return add_months(days, np.asarray(years, dtype=np.int64) * 12)


def month_index(days: DayArray) -> npt.NDArray[np.int32]:
    """Months since 1970-01 of each day (a month number usable for consecutive-month runs)."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64).astype(np.int32)


def month_index_scalar(d: dt.date) -> int:
    return (d.year - 1970) * 12 + d.month - 1


def month_label(m: int) -> str:
    """'2024-03' for a month number."""
    year, month0 = divmod(int(m), 12)
    return f"{1970 + year:04d}-{month0 + 1:02d}"


def parse_month(text: str | int) -> int:
    """Month number from 'YYYY-MM' or an int YYYYMM."""
    if isinstance(text, int):
        year, month = divmod(text, 100)
    else:
        parts = str(text).strip().split("-")
        if len(parts) != 2:
            raise ValueError(text)
        year, month = int(parts[0]), int(parts[1])
    if not 1 <= month <= 12:
        raise ValueError(text)
    return (year - 1970) * 12 + month - 1


def years_of(days: DayArray) -> npt.NDArray[np.int32]:
    """Calendar year of each day."""
    return (days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970).astype(np.int32)


def completed_years(start: DayArray, on: DayArray) -> npt.NDArray[np.int32]:
    """Whole years completed from start to on, by the anniversary rule (age, years of tenancy)."""
    sy = years_of(start).astype(np.int64)
    oy = years_of(on).astype(np.int64)
    n = oy - sy
    reached = anniversary(start, n) <= on
    return (n - (~reached)).astype(np.int32)
