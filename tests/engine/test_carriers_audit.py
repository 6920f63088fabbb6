"""Audit of the carrier programs (1.1, 3.8), the mentor service subsidy (2.6) and the parameter
output: each test fails on the code before its fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.engine.test_carriers_review import _cond, _program, _tenant
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import ParameterError, ParameterSet, load_parameters

KINDS = "carrier_rent_reduction.carrier_kinds"
ON = dt.date(2024, 3, 31)


# ---- 「参数待核实」 lists only values whose status is secondary or assumed ----


def test_a_confirmed_parameter_without_a_value_in_force_is_not_pending():
    """Before the notice the confirmed carrier kinds have no value: the row fails on
    parameters_in_force, and the parameter is cited without a value but not as 「参数待核实」."""
    r = _program(evaluate(_tenant({"schedule": "1:100/0/0"}), dt.date(2019, 3, 31)), "carrier_rent_reduction")
    assert r["status"] == "ineligible"
    assert _cond(r, "parameters_in_force")["status"] == "fail"
    cited = next(p for p in r["parameters"] if p["name"] == KINDS)
    assert cited["value"] is None and cited["pending"] is False
    assert KINDS not in r["pending_parameters"]
    award = _program(
        evaluate({"carrier": {"id": "C1", "kind": "incubator"}}, dt.date(2019, 3, 31)), "carrier_award"
    )
    assert "carrier_award.kinds" not in award["pending_parameters"]


# ---- carrier_award: a part whose basis is unknown is 「待定」, not ¥0.00 (README 36, 68) ----


def test_award_part_with_unknown_basis_is_pending_not_zero():
    case = {
        "carrier": {
            "id": "C1",
            "kind": "returning_park",
            "level": "municipal",
            "district": 500235,
            "municipal_date": "2021-06-01",
            "award_year": 2023,
        },
        "received": [],
    }
    r = _program(evaluate(case, dt.date(2024, 3, 1)), "carrier_award")
    assert r["status"] == "eligible" and r["amount_fen"] == 60_000_000
    assert r["amount_rule"] == "一次性奖补¥600,000.00 + 绩效奖补待定（缺年度绩效评估等次） + 国家级追加¥0.00"
    # Known parts keep their figures: the national bonus failed (¥0.00 is its real value).
    case["carrier"]["rating"] = "B"
    r = _program(evaluate(case, dt.date(2024, 3, 1)), "carrier_award")
    assert r["amount_rule"] == "一次性奖补¥600,000.00 + 绩效奖补¥200,000.00 + 国家级追加¥0.00"


# ---- district_known: only the district a row's value was looked up by, only where it was used ----

_FAR_OVERLAY = (
    "carrier_rent_reduction.default_schedule:\n"
    "  districts:\n"
    "    500120:\n"
    "      - since: 2022-01-01\n"
    "        paid_by: 区县财政\n"
    "        status: assumed\n"
    "        reference: 测试\n"
    "        value:\n"
    "          - {year: 1, rent: 10000, property: 10000, utilities: 5000}\n"
    "          - {year: 2, rent: 5000, property: 0, utilities: 0}\n"
    "          - {year: 3, rent: 3000, property: 0, utilities: 0}\n"
)


def _far_params(tmp_path: Path) -> ParameterSet:
    overlay = tmp_path / "far.yaml"
    overlay.write_text(_FAR_OVERLAY, encoding="utf-8")
    return load_parameters(str(overlay))


def _no_business_district(carrier: dict[str, Any] | None = None) -> dict[str, Any]:
    case = _tenant(carrier)
    del case["business"]["district"]
    return case


@pytest.mark.parametrize(
    ("carrier", "status", "amount"),
    [
        ({}, "eligible", 306173),  # the carrier's district (500101) decides the default: known
        ({"schedule": "1:100/100/100;2:50/50/50"}, "eligible", 362345),  # its own: no default used
        ({"district": None}, "undetermined", None),  # neither district known: 500120 may be it
    ],
)
def test_district_known_asks_only_for_the_district_the_schedule_is_looked_up_by(
    tmp_path: Path, carrier: dict[str, Any], status: str, amount: int | None
):
    params = _far_params(tmp_path)
    case = _no_business_district(carrier)
    if carrier.get("district", 0) is None:
        del case["carrier"]["district"]
    r = _program(evaluate(case, ON, params), "carrier_rent_reduction")
    assert r["status"] == status, r["conditions"]
    assert r["amount_fen"] == amount
    known = [c for c in r["conditions"] if c["id"] == "district_known"]
    assert [c["status"] for c in known] == ([] if status == "eligible" else ["unknown"])


def test_district_known_in_a_batch_is_as_each_case_alone(tmp_path: Path):
    params = _far_params(tmp_path)
    cases = [
        _no_business_district(),
        _no_business_district({"schedule": "1:80/0/0"}),
        _tenant({"district": 500120}),
        _tenant(),
    ]
    del cases[3]["carrier"]["district"]
    del cases[3]["business"]["district"]
    singles = [_program(evaluate(c, ON, params), "carrier_rent_reduction") for c in cases]
    assert [s["status"] for s in singles] == ["eligible", "eligible", "eligible", "undetermined"]
    outcomes = run(combine([case_to_tables(c) for c in cases]), ON, params)
    o = next(o for o in outcomes if o.program.id == "carrier_rent_reduction")
    ex = Explainer(params)
    assert [ex.program(o, i) for i in range(len(cases))] == singles


@pytest.mark.parametrize(("carrier", "soon"), [({}, True), ({"district": None}, False)])
def test_soon_asks_only_for_the_district_the_schedule_is_looked_up_by(
    tmp_path: Path, carrier: dict[str, Any], soon: bool
):
    """A tenancy starting within 30 days is 「即将符合」 with the carrier's district known, even with the
    business's unknown (the default schedule goes by the carrier's); with neither, it is not listed
    (README choices 11 and 69: one definition of the rows whose district is open)."""
    params = _far_params(tmp_path)
    case = _no_business_district()
    if carrier.get("district", 0) is None:
        del case["carrier"]["district"]
    start = ON + dt.timedelta(days=10)
    case["business"]["tenancy_start"] = start.isoformat()
    r = _program(evaluate(case, ON, params), "carrier_rent_reduction")
    assert r.get("soon", False) is soon, r["conditions"]
    assert r.get("eligible_from") == (start.isoformat() if soon else None)


# ---- a district's default schedule applies only where it is no less generous (README 72) ----


def _schedule_overlay(tmp_path: Path, rows: list[str]) -> ParameterSet:
    overlay = tmp_path / "schedule.yaml"
    overlay.write_text(
        "carrier_rent_reduction.default_schedule:\n"
        "  districts:\n"
        "    500101:\n"
        "      - since: 2022-01-01\n"
        "        paid_by: 区县财政\n"
        "        status: assumed\n"
        "        reference: 测试\n"
        "        value:\n" + "".join(f"          - {r}\n" for r in rows),
        encoding="utf-8",
    )
    return load_parameters(str(overlay))


@pytest.mark.parametrize(
    ("rows", "amount", "district_part"),
    [
        # lower in year 1 (rent 20% < 100%): the city's schedule applies in 500101
        (
            [
                "{year: 1, rent: 2000, property: 5000, utilities: 0}",
                "{year: 2, rent: 5000, property: 0, utilities: 0}",
                "{year: 3, rent: 3000, property: 0, utilities: 0}",
            ],
            306173,
            0,
        ),
        # higher in year 1 but lacking year 3 (counts as 0 < 30%): the city's applies
        (
            [
                "{year: 1, rent: 10000, property: 10000, utilities: 5000}",
                "{year: 2, rent: 5000, property: 0, utilities: 0}",
            ],
            306173,
            0,
        ),
        # no cell below the city's (a year 4 of its own is extra): the district's, it pays the rest
        (
            [
                "{year: 1, rent: 10000, property: 10000, utilities: 5000}",
                "{year: 2, rent: 5000, property: 0, utilities: 0}",
                "{year: 3, rent: 3000, property: 0, utilities: 0}",
                "{year: 4, rent: 1000, property: 0, utilities: 0}",
            ],
            337345,
            31172,
        ),
    ],
)
def test_district_default_schedule_applies_only_if_no_less_generous(
    tmp_path: Path, rows: list[str], amount: int, district_part: int
):
    params = _schedule_overlay(tmp_path, rows)
    r = _program(evaluate(_tenant(), ON, params), "carrier_rent_reduction")
    assert r["status"] == "eligible" and r["amount_fen"] == amount
    parts = {f["source"]: f["amount_fen"] for f in r["funding"]}
    assert parts.get("区县财政", 0) == district_part


def test_row_key_is_refused_on_rows_without_it(tmp_path: Path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text(
        "x.rows:\n  label: 测试\n  unit: table\n  clause: '1.1'\n  reference: 测试\n  status: assumed\n"
        "  generous: higher\n  row_key: year\n  values:\n"
        "    - {since: 2020-01-01, value: [{rent: 1}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ParameterError, match="row_key"):
        load_parameters(str(overlay))
