"""Quarters by China date (UTC+8) and the SQL that puts a date, an instant or a month into its quarter.

A quarter runs from 00:00 China time on its first day to 00:00 China time on the first day of the next
quarter: an event at 2026-06-30T16:30Z (2026-07-01 00:30 in Chongqing) belongs to 2026Q3. Timestamps are
stored in UTC, so the boundaries are computed here, in Python, as UTC instants and compared in SQL —
the same ``CASE`` expression runs on SQLite and PostgreSQL and uses indexes on the time column, with no
time-zone functions in the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import ColumnElement, case, null
from sqlalchemy.sql.elements import ColumnElement as _CE

from xiangchuang.chinatime import CHINA
from xiangchuang.engine.dates import OutOfRange, check_year
from xiangchuang.errors import ValidationFailed

_QUARTER = re.compile(r"(\d{4})\s*[Qq]([1-4])")
_ZH_Q: Final = {1: "一", 2: "二", 3: "三", 4: "四"}

TimeKind = Literal["date", "instant", "month"]


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str) -> Quarter:
        m = _QUARTER.fullmatch(text.strip())
        if m is None:
            raise ValidationFailed(f"季度 {text!r} 格式错误，应如 2026Q3（年份 + Q + 1–4）")
        try:  # (a year of the supported range, README choice 28: its months are input months)
            year = check_year(int(m.group(1)))
        except OutOfRange as exc:
            raise ValidationFailed(f"季度 {text.strip()}：{exc}") from None
        return cls(year, int(m.group(2)))

    @classmethod
    def of_date(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def of_instant(cls, moment: dt.datetime) -> Quarter:
        return cls.of_date(moment.astimezone(CHINA).date())

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def zh(self) -> str:
        return f"{self.year}年第{_ZH_Q[self.q]}季度"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def end(self) -> dt.date:
        """The first day of the next quarter (exclusive bound)."""
        return self.next().start

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def start_utc(self) -> dt.datetime:
        return china_midnight_utc(self.start)

    @property
    def end_utc(self) -> dt.datetime:
        return china_midnight_utc(self.end)

    @property
    def first_month(self) -> int:
        return self.year * 100 + 3 * self.q - 2

    @property
    def last_month(self) -> int:
        return self.year * 100 + 3 * self.q

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.q == 4 else Quarter(self.year, self.q + 1)

    def prev(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.q == 1 else Quarter(self.year, self.q - 1)

    def __str__(self) -> str:
        return self.label


def china_midnight_utc(day: dt.date) -> dt.datetime:
    """00:00 China time on ``day``, as an aware UTC instant."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(dt.UTC)


def quarter_range(first: Quarter, last: Quarter) -> tuple[Quarter, ...]:
    if last < first:
        raise ValidationFailed(f"季度范围 {first}–{last} 无效：结束季度早于开始季度")
    out = [first]
    while out[-1] < last:
        out.append(out[-1].next())
    return tuple(out)


@dataclass(frozen=True)
class Window:
    """Consecutive quarters over which indicators are aggregated (GROUP BY district, quarter)."""

    quarters: tuple[Quarter, ...]
    open_start: bool = False  # cumulative figures: everything before the first quarter counts too

    def __post_init__(self) -> None:
        if not self.quarters:
            raise ValidationFailed("统计期间至少须包含一个季度")
        for a, b in zip(self.quarters, self.quarters[1:], strict=False):
            if b != a.next():
                raise ValidationFailed("统计期间的季度须连续")

    @classmethod
    def of(cls, *quarters: Quarter | str) -> Window:
        qs = sorted(q if isinstance(q, Quarter) else Quarter.parse(q) for q in quarters)
        return cls(quarter_range(qs[0], qs[-1]))

    @property
    def first(self) -> Quarter:
        return self.quarters[0]

    @property
    def last(self) -> Quarter:
        return self.quarters[-1]

    def bounds(self, kind: TimeKind) -> tuple[object, object]:
        """(lower inclusive, upper exclusive) of the window for a column of ``kind``."""
        return _bound(self.first, kind, end=False), _bound(self.last, kind, end=True)

    def since(self, kind: TimeKind) -> object | None:
        """The lower bound a source may filter on early (None for cumulative figures)."""
        return None if self.open_start else _bound(self.first, kind, end=False)

    def until(self, kind: TimeKind) -> object:
        return _bound(self.last, kind, end=True)

    def bucket(self, column: ColumnElement[object], kind: TimeKind, *, cumulative: bool = False) -> _CE[str]:
        """The quarter label of ``column`` (a CASE over the quarter ends). With ``cumulative`` everything
        before the window falls into its first quarter, so running sums give totals at each quarter end."""
        conds = self._bucket_conditions(column, kind, cumulative=cumulative)
        return case(*((c, q.label) for c, q in zip(conds, self.quarters, strict=True)), else_=null())

    def bucket_index(
        self, column: ColumnElement[object], kind: TimeKind, *, cumulative: bool = False
    ) -> _CE[int]:
        """:meth:`bucket` as the quarter's position in the window (0, 1, …) instead of its label."""
        conds = self._bucket_conditions(column, kind, cumulative=cumulative)
        return case(*((c, i) for i, c in enumerate(conds)), else_=null())

    def _bucket_conditions(
        self, column: ColumnElement[object], kind: TimeKind, *, cumulative: bool
    ) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for i, quarter in enumerate(self.quarters):
            cond: ColumnElement[bool] = column < _bound(quarter, kind, end=True)
            if i == 0 and not cumulative:
                cond = cond & (column >= _bound(quarter, kind, end=False))
            out.append(cond)
        return out


def _bound(quarter: Quarter, kind: TimeKind, *, end: bool) -> object:
    if kind == "date":
        return quarter.end if end else quarter.start
    if kind == "instant":
        return quarter.end_utc if end else quarter.start_utc
    if end:  # months YYYYMM, exclusive
        nxt = quarter.next()
        return nxt.first_month
    return quarter.first_month


def labels(quarters: Sequence[Quarter]) -> list[str]:
    return [q.label for q in quarters]
