"""The statutory retirement date by the 2024 decision on the gradual delay (README choice 52),
checked against the decision's own tables (附件1, 附件3) at their first, middle and last rows."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from xiangchuang.engine.dates import add_months_scalar, from_day, to_day
from xiangchuang.engine.facts import Col, Table
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.program import NOT_USED, Ctx
from xiangchuang.engine.programs.employment import _RetirementDelay

# (birth date, sex, retirement age in months) from the decision's tables.
ROWS = [
    ("1964-12-31", "male", 60 * 12),  # before 1965-01: no delay
    ("1965-01-01", "male", 60 * 12 + 1),  # 1965年1月—4月: 60岁1个月
    ("1965-04-30", "male", 60 * 12 + 1),
    ("1965-05-01", "male", 60 * 12 + 2),  # 1965年5月—8月: 60岁2个月
    ("1976-08-15", "male", 62 * 12 + 11),  # 1976年5月—8月: 62岁11个月
    ("1976-09-01", "male", 63 * 12),  # 1976年9月起: 63岁
    ("1990-02-28", "male", 63 * 12),
    ("1974-12-31", "female", 50 * 12),  # (original age 50) before 1975-01: no delay
    ("1975-01-01", "female", 50 * 12 + 1),  # 1975年1月—2月: 50岁1个月
    ("1975-03-10", "female", 50 * 12 + 2),  # 1975年3月—4月: 50岁2个月
    ("1984-10-31", "female", 54 * 12 + 11),  # 1984年9月—10月: 54岁11个月
    ("1984-11-01", "female", 55 * 12),  # 1984年11月起: 55岁
    ("2000-02-29", "female", 55 * 12),
]


def _ctx(on: dt.date) -> Ctx:
    n = len(ROWS)
    born = np.asarray([to_day(dt.date.fromisoformat(b)) for b, _, _ in ROWS], dtype=np.int32)
    table = Table("hires", n, {"person__birth_date": Col(born, np.ones(n, dtype=bool))})
    return Ctx(load_parameters(), table, to_day(on))


@pytest.mark.parametrize("sex", ["male", "female"])
def test_retirement_dates_follow_the_decisions_tables(sex):
    ctx = _ctx(dt.date(2025, 6, 1))
    rows = np.asarray([k for k, r in enumerate(ROWS) if r[1] == sex], dtype=np.int64)
    born = ctx.t["person__birth_date"].values[rows]
    age = ctx.ints(f"social_insurance_subsidy.retirement_age_{sex}")
    got = _RetirementDelay(ctx, sex, age).retirement(born, rows)
    for k, day in zip(rows.tolist(), got.tolist(), strict=True):
        b, _, months = ROWS[k]
        assert from_day(day) == add_months_scalar(dt.date.fromisoformat(b), months), ROWS[k]


def test_before_the_decision_is_in_force_the_original_age_and_no_delay_parameter_is_used():
    ctx = _ctx(dt.date(2024, 12, 31))
    rows = np.arange(len(ROWS), dtype=np.int64)
    born = ctx.t["person__birth_date"].values
    age = ctx.ints("social_insurance_subsidy.retirement_age_male")
    got = _RetirementDelay(ctx, "male", age).retirement(born, rows)
    for b, day in zip((r[0] for r in ROWS), got.tolist(), strict=True):
        assert from_day(day) == add_months_scalar(dt.date.fromisoformat(b), 60 * 12)
    for k in ("from", "step", "max"):
        used = ctx.used[f"social_insurance_subsidy.retirement_delay_{k}_male"]
        assert bool((used == NOT_USED).all())
