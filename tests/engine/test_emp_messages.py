"""Messages of the online-sales amount and the job subsidy's contributions that state no figure for
an unknown fact and describe what happened (PROVISIONS §0; README choices 7, 39)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == program)


def _online(route: str | None, revenue: int | None) -> dict[str, Any]:
    business: dict[str, Any] = {
        "id": "B1",
        "district": 500101,
        "kind": "enterprise",
        "registration_date": "2021-01-05",
        "status": "normal",
        "founded_by_returning": True,
        "years": {
            2023: {"online_revenue_fen": revenue, "online_orders": 2500, "courier_fees_fen": 1_000_000}
        },
    }
    if route is not None:
        business["online_route"] = route
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"]},
        "business": business,
        "received": [],
    }


@pytest.mark.parametrize(
    ("route", "revenue", "want"),
    [
        # Revenue unknown, the orders route chosen: eligible; the revenue route is not ¥0.00.
        ("orders", None, "按销售额：无法计算（缺少事实）；按快递费：¥3,000.00；申请人选择按快递费申领"),
        # The applicant chose the lower route: not 「默认取较高者」.
        ("orders", 60_000_000, "按销售额：¥30,000.00；按快递费：¥3,000.00；申请人选择按快递费申领"),
        (None, 60_000_000, "按销售额：¥30,000.00；按快递费：¥3,000.00；默认取较高者"),
    ],
)
def test_online_sales_amount_rule_names_unknown_routes_and_the_choice(
    route: str | None, revenue: int | None, want: str
) -> None:
    doc = _program(evaluate(_online(route, revenue), dt.date(2024, 3, 1), PARAMS), "online_sales_subsidy")
    assert doc["status"] == "eligible"
    assert doc["amount_rule"].startswith(want)


def test_job_subsidy_payments_only_before_the_hire_are_none_of_this_hire() -> None:
    case = {
        "business": {"id": "B1", "district": 500235, "kind": "enterprise", "founded_by_returning": True},
        "hires": [
            {
                "id": "H1",
                "person": {"id": "W1", "groups": ["poverty_registered"]},
                "hire_date": "2023-10-01",
                "contract": True,
                "contributions": [{"month": f"2023-{m:02d}"} for m in range(1, 7)],
            }
        ],
        "received": [],
    }
    doc = _program(evaluate(case, dt.date(2024, 3, 15), PARAMS), "job_subsidy")
    msg = next(c["message"] for c in doc["conditions"] if c["id"] == "consecutive_contributions")
    assert msg.startswith("无本次招用的社会保险缴费记录")
    assert "中断" not in msg
