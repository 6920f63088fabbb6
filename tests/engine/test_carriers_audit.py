"""Audit of the carrier programs (1.1, 3.8), the mentor service subsidy (2.6) and the parameter
output: each test fails on the code before its fix."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiangchuang.engine.api import evaluate

KINDS = "carrier_rent_reduction.carrier_kinds"


def _tenant(on_carrier: dict[str, Any] | None = None, **business: Any) -> dict[str, Any]:
    carrier = {
        "id": "C1",
        "kind": "incubator",
        "level": "municipal",
        "district": 500101,
        **(on_carrier or {}),
    }
    b = {
        "id": "B1",
        "district": 500101,
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2023-03-01",
        "status": "normal",
        "founded_by_returning": True,
        "tenancy_start": "2023-04-01",
        "rent_fen": 300000,
        "property_fee_fen": 12345,
        "utilities_fen": 50000,
        **business,
    }
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "carrier": carrier,
        "business": b,
    }


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    rows = [p for p in doc["programs"] if p["program"] == program]
    assert len(rows) == 1, rows
    return rows[0]


def _cond(result: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in result["conditions"] if c["id"] == cid)


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
