"""The workshop tier table within its published range (README choice 81), checked whenever a parameter set
is built — from the files, an overlay, or approved changes (``with_dated_values``) — against the range in
force on the same day for the same district, never in the middle of an evaluation. Before, a table outside
the range raised ``ParameterError`` from the evaluation (a traceback in ``check``/``match``, HTTP 500 in the
public check-up), and lowering ``workshop_award.award_max`` by a dated change took every workshop
evaluation down from that date. Each test fails on the code before it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import (
    DatedValue,
    ParameterError,
    load_parameters,
    parse_parameters,
    with_dated_values,
)

BASE = load_parameters()
TOP_80K = [{"min_employed": 10, "award": 20000}, {"min_employed": 50, "award": 80000}]


def workshop_case(district: int = 500102) -> dict[str, Any]:
    """A recognised workshop employing 55 (the top tier of the city's table), not newly built."""
    return {
        "business": {
            "id": "B1",
            "district": district,
            "kind": "enterprise",
            "registration_date": "2021-01-01",
            "status": "normal",
            "workshop_recognised": True,
            "workshop_employed": 55,
            "workshop_new_build": False,
        },
        "received": [],
    }


def _award(params: Any, on: dt.date, district: int = 500102) -> int:
    (row,) = [
        p
        for p in evaluate(workshop_case(district), on, params)["programs"]
        if p["program"] == "workshop_award"
    ]
    assert row["status"] == "eligible", row
    return int(row["amount_fen"])


def test_lowering_the_range_below_the_table_is_refused_when_the_change_is_laid_over():
    """award_max 80,000 from 2024-01-01 with the city's top tier at 100,000: a parameter error naming the
    table (全市, its start date), the amount, the range and the day it applies from — not an error in every
    later workshop evaluation."""
    lower = DatedValue("workshop_award.award_max", dt.date(2024, 1, 1), 80000, "测试")
    with pytest.raises(ParameterError) as err:
        with_dated_values(BASE, [lower])
    assert str(err.value) == (
        "参数 workshop_award.tiers（全市，2020-08-05起的取值）：奖补金额¥100,000.00超出年度带动就业奖补的"
        "公布范围¥20,000.00至¥80,000.00（2024-01-01起全市适用的参数 workshop_award.award_min、"
        "workshop_award.award_max），请更正其中之一"
    )


def test_the_table_and_the_range_changed_together_apply_from_their_date():
    """The table lowered first, then the range, from the same day: consistent; the award follows the table
    in force (100,000 before the day, 80,000 from it)."""
    params = with_dated_values(
        BASE,
        [
            DatedValue("workshop_award.tiers", dt.date(2024, 1, 1), TOP_80K, "测试"),
            DatedValue("workshop_award.award_max", dt.date(2024, 1, 1), 80000, "测试"),
        ],
    )
    assert _award(params, dt.date(2023, 12, 31)) == 10_000_000
    assert _award(params, dt.date(2024, 1, 1)) == 8_000_000


def test_a_range_lowered_one_day_before_the_table_is_refused_for_that_day():
    """The check is per day: a range lowered on 2023-12-31 meets the old table (100,000) for one day."""
    with pytest.raises(ParameterError, match=r"2023-12-31起全市适用"):
        with_dated_values(
            BASE,
            [
                DatedValue("workshop_award.tiers", dt.date(2024, 1, 1), TOP_80K, "测试"),
                DatedValue("workshop_award.award_max", dt.date(2023, 12, 31), 80000, "测试"),
            ],
        )


def test_a_district_range_holds_the_city_table_applied_there(tmp_path: Path):
    """A district's own award_max (overlay) below the city's top tier, which applies in that district: the
    error names the city's table and the district whose range it breaks, when the overlay is read."""
    path = tmp_path / "range.yaml"
    path.write_text(
        "workshop_award.award_max:\n  districts:\n    500238:\n"
        "      - {since: 2022-01-01, value: 90000, paid_by: 区县财政, status: assumed, reference: 测试}\n",
        encoding="utf-8",
    )
    with pytest.raises(
        ParameterError, match=r"tiers（全市，2020-08-05起的取值）.*2022-01-01起区县 500238适用"
    ):
        load_parameters(str(path))


def test_a_table_within_the_range_in_force_is_accepted_and_paid(tmp_path: Path):
    """A district table at the top of the range (100,000) is accepted and paid in full (bounds inclusive)."""
    path = tmp_path / "tiers.yaml"
    path.write_text(
        "workshop_award.tiers:\n  districts:\n    500101:\n      - since: 2021-01-01\n"
        "        paid_by: 区县财政\n        status: assumed\n        reference: 测试\n        value:\n"
        "          - {min_employed: 10, award: 20000}\n          - {min_employed: 50, award: 100000}\n",
        encoding="utf-8",
    )
    assert _award(load_parameters(str(path)), dt.date(2024, 3, 20), 500101) == 10_000_000


@pytest.mark.parametrize(
    "bounds",
    [
        {"column": "award", "label": "奖补金额", "min": "x.min", "max": "x.max"},  # no rule
        {"column": "award", "label": "奖补金额", "min": "x.min", "max": "x.none", "rule": "范围"},
        {"column": "award", "label": "奖补金额", "min": "x.min", "max": "x.count", "rule": "范围"},
        {"column": "award", "label": "奖补金额", "min": "x.min", "max": "x.max", "rule": ""},
    ],
)
def test_bounds_are_declared_completely(bounds: dict[str, str]):
    """``bounds`` names the column, its label, two amount parameters and the rule; anything else is an
    error of the parameter files."""
    doc: dict[str, Any] = {
        "x.min": {
            "unit": "yuan",
            "reference": "r",
            "status": "assumed",
            "values": [{"since": "2020-01-01", "value": 1}],
        },
        "x.max": {
            "unit": "yuan",
            "reference": "r",
            "status": "assumed",
            "values": [{"since": "2020-01-01", "value": 9}],
        },
        "x.count": {
            "unit": "count",
            "reference": "r",
            "status": "assumed",
            "values": [{"since": "2020-01-01", "value": 9}],
        },
        "x.table": {
            "unit": "table",
            "reference": "r",
            "status": "assumed",
            "bounds": bounds,
            "values": [{"since": "2020-01-01", "value": [{"award": 5}]}],
        },
    }
    with pytest.raises(ParameterError, match=r"参数 x\.table：bounds"):
        parse_parameters([("t.yaml", doc)])
    ok = dict(doc, **{"x.table": dict(doc["x.table"], bounds={**bounds, "max": "x.max", "rule": "范围"})})
    assert parse_parameters([("t.yaml", ok)])["x.table"].bounds is not None
