"""Review 3 (rev-emp): what the worked cases (policy/cases/emp_review3.yaml) cannot check — the amount
rule's text (no figure for an unknown fact, README choice 68), an on-the-job training count past the
amount bound in a batch (README choice 28: that row only, never an overflow that stops the batch,
and the batch equals the single cases), and the workshop award's district values outside the
published bounds (refused when the parameters load). Each test fails on the code before it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.explain import AMOUNT_PENDING
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()


def _program(case: dict[str, Any], on: str, pid: str) -> dict[str, Any]:
    doc = evaluate(case, dt.date.fromisoformat(on), PARAMS)
    (row,) = [p for p in doc["programs"] if p["program"] == pid]
    return row


def _si_case(**hire: Any) -> dict[str, Any]:
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    return {
        "business": {"id": "B1", "district": 500235, "kind": "enterprise", "founded_by_returning": True},
        "hires": [
            {
                "id": "H1",
                "person": {
                    "id": "W1",
                    "groups": ["poverty_registered"],
                    "birth_date": "1990-01-01",
                    "gender": "M",
                },
                "contract": True,
                "contributions": [{"month": m, "employer_fen": 72000} for m in months],
                **hire,
            }
        ],
        "received": [],
    }


def test_si_rule_without_the_hire_date_quotes_no_figure() -> None:
    """The hire date unknown: no 「计¥0.00（0个月）」, the rule names the hire date (README choice 68)."""
    row = _program(_si_case(), "2024-01-20", "social_insurance_subsidy")
    assert row["status"] == "undetermined"
    assert "¥0.00" not in row["amount_rule"] and "0个月" not in row["amount_rule"], row["amount_rule"]
    assert row["amount_rule"] == AMOUNT_PENDING.format(missing="招用日期")
    # Known: the figures as before.
    row = _program(_si_case(hire_date="2023-01-01"), "2024-01-20", "social_insurance_subsidy")
    assert row["status"] == "eligible" and "¥4,320.00（6个月）" in row["amount_rule"], row["amount_rule"]
