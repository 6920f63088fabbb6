"""Values not yet in force are never borrowed (README choices 25 and 90).

Each test makes a parameter set in which one parameter's values start later than the date it is
read (the evaluation date, or a loan's contract date): the engine must not quote, nor decide
anything from, its earliest value — a condition reading it fails naming it, an amount rule names it
instead of its figures, a route's amount is not shown, the city's part of a district-funded amount
is nothing, and nothing is 「即将符合」 without a horizon in force."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import ParameterSet, _builtin_docs, parse_parameters

NO_VALUE = "该日期尚无有效的政策参数（{}），本条件不能满足"
AMOUNT_NO_VALUE = "该日期尚无有效的政策参数（{}），不计算金额"


def _later(name: str, since: str, districts: dict[int, Any] | None = None) -> ParameterSet:
    """The built-in parameters with every city value of ``name`` starting on ``since`` instead (and
    ``districts``: district values of it, ``{code: value}`` from the notice's first day)."""
    docs = copy.deepcopy(_builtin_docs())
    for _, doc in docs:
        if name in doc:
            for v in doc[name]["values"]:
                v["since"] = since
            for code, value in (districts or {}).items():
                doc[name].setdefault("districts", {})[code] = [
                    {"since": "2020-08-05", "value": value, "paid_by": "区县财政", "status": "assumed"}
                ]
    return parse_parameters(docs)


def _label(params: ParameterSet, name: str) -> str:
    return params[name].label


def _row(doc: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == pid)


def _cond(row: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in row["conditions"] if c["id"] == cid)


ONLINE: dict[str, Any] = {
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
    "business": {
        "id": "B1",
        "district": 500154,
        "kind": "enterprise",
        "registration_date": "2021-01-05",
        "status": "normal",
        "founded_by_returning": True,
        "years": {2023: {"online_revenue_fen": 60000000, "online_orders": 2500, "courier_fees_fen": 1234567}},
    },
    "received": [],
}
ON = dt.date(2024, 3, 1)


def test_online_sales_route_amount_of_a_rate_not_in_force_is_not_quoted() -> None:
    """Before: 「按快递费：¥3,703.70」 and alternatives {orders: 370370} from the 30% of a later date."""
    name = "online_sales_subsidy.courier_rate"
    params = _later(name, "2025-01-01")
    row = _row(evaluate(ONLINE, ON, params), "online_sales_subsidy")
    assert row["status"] == "ineligible"
    assert row["amount_rule"] == AMOUNT_NO_VALUE.format(_label(params, name))
    assert row["alternatives"] == {"revenue": 3000000, "orders": None}
    assert _cond(row, "orders_route")["message"] == NO_VALUE.format(_label(params, name))
    assert _cond(row, "chosen_route")["status"] == "fail"


def test_online_sales_route_of_a_threshold_not_in_force_is_not_chosen() -> None:
    """Before: 「未选申领方式，默认取较高者，该方式符合条件」 (passed on the later threshold) and the
    revenue route's amount shown."""
    name = "online_sales_subsidy.revenue_threshold"
    params = _later(name, "2025-01-01")
    row = _row(evaluate(ONLINE, ON, params), "online_sales_subsidy")
    chosen = _cond(row, "chosen_route")
    assert chosen["status"] == "fail"
    assert chosen["message"] == NO_VALUE.format(_label(params, name))
    assert row["alternatives"] == {"revenue": None, "orders": 370370}
    assert row["amount_rule"] == AMOUNT_NO_VALUE.format(_label(params, name))


LOAN: dict[str, Any] = {
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
    "loan": {
        "kind": "individual",
        "district": 500103,
        "contract_date": "2024-06-01",
        "amount_fen": 30000000,
        "term_months": 36,
        "rate_bp": 480,
        "settle_start": "2024-07-01",
        "settle_end": "2024-09-30",
        "principal_fen": 30000000,
        "excluded_days": 0,
    },
    "received": [],
}
LOAN_ON = dt.date(2024, 10, 5)


def test_interest_subsidy_rule_quotes_no_rate_nor_day_count_not_in_force() -> None:
    """Before: the rule quoted 「÷ 360」 and the LPR 「345基点」 of a later date for a loan whose
    contract date has none."""
    for name, figure in (("loan_interest_subsidy.day_count", "÷ 360"), ("loan.lpr_1y_bp", "345基点")):
        params = _later(name, "2024-07-01")
        row = _row(evaluate(LOAN, LOAN_ON, params), "loan_interest_subsidy")
        assert row["status"] == "ineligible", name
        assert figure not in row["amount_rule"], (name, row["amount_rule"])
        assert row["amount_rule"] == AMOUNT_NO_VALUE.format(_label(params, name)), name


def test_another_loans_term_limit_not_in_force_decides_nothing() -> None:
    """Before: a borrower's earlier loan without a term was taken to run the later date's 36 months
    (「已有一笔…尚未到期的创业担保贷款」); now the condition says the limit has no value in force."""
    name = "loan_individual.max_term_months"
    params = _later(name, "2025-01-01")
    case = copy.deepcopy(LOAN)
    earlier = {**case["loan"], "contract_date": "2024-01-10"}
    del earlier["term_months"]
    case["loans"] = [earlier, case.pop("loan")]
    doc = evaluate(case, LOAN_ON, params)
    rows = [p for p in doc["programs"] if p["program"] == "loan_individual"]
    later = rows[1]
    one = _cond(later, "one_loan_per_borrower")
    assert one["status"] == "fail"
    assert one["message"] == NO_VALUE.format(_label(params, name))


SI: dict[str, Any] = {
    "business": {
        "id": "B1",
        "district": 500235,
        "kind": "enterprise",
        "size_class": "small_micro",
        "founded_by_returning": True,
    },
    "hires": [
        {
            "id": "H1",
            "person": {
                "id": "W1",
                "groups": ["poverty_registered"],
                "birth_date": "1985-04-01",
                "gender": "M",
            },
            "hire_date": "2023-07-01",
            "contract": True,
            "si_period_start": "2023-09",
            "si_period_end": "2024-02",
            "contributions": [{"month": f"2023-{m:02d}", "employer_fen": 81234} for m in range(7, 13)]
            + [{"month": f"2024-{m:02d}", "employer_fen": 81234} for m in (1, 2)],
        }
    ],
    "received": [],
}


def test_retirement_age_not_in_force_limits_nothing() -> None:
    """Before: 「已享受0个月，未超过36个月」 passed with the retirement date of a later age."""
    name = "social_insurance_subsidy.retirement_age_male"
    params = _later(name, "2025-01-01")
    row = _row(evaluate(SI, dt.date(2024, 3, 15), params), "social_insurance_subsidy")
    assert row["status"] == "ineligible"
    months = _cond(row, "months_left")
    assert months["status"] == "fail"
    assert months["message"] == NO_VALUE.format(_label(params, name))


def test_a_district_value_before_the_citys_first_is_all_the_districts() -> None:
    """A district's rate in force before the city has one: the city's part is nothing (before: the
    city's later 5% was borrowed, and the city was shown paying all of it)."""
    name = "online_sales_subsidy.revenue_rate"
    params = _later(name, "2025-01-01", {500154: "0.05"})
    row = _row(evaluate(ONLINE, ON, params), "online_sales_subsidy")
    assert row["status"] == "eligible" and row["amount_fen"] == 3000000
    assert [(f["source"], f["amount_fen"]) for f in row["funding"]] == [
        ("市级及以上资金", 0),
        ("区县财政", 3000000),
    ]


def test_no_horizon_in_force_lists_nothing_soon() -> None:
    """Before: the later date's 30-day horizon made a business one day short of a year 「即将符合」."""
    case = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "first_business": True},
        "business": {
            "id": "B1",
            "district": 500101,
            "kind": "enterprise",
            "size_class": "small_micro",
            "registration_date": "2021-03-10",
            "status": "normal",
            "years": {2021: {"employer_si_paid_fen": 1234567}},
        },
        "received": [],
    }
    on = dt.date(2022, 3, 9)
    assert _row(evaluate(case, on), "startup_subsidy").get("soon") is True
    row = _row(evaluate(case, on, _later("general.soon_horizon_days", "2023-01-01")), "startup_subsidy")
    assert row["status"] == "ineligible"
    assert not row.get("soon")


def test_a_soon_rows_city_part_borrows_no_value_either() -> None:
    """A 「即将符合」 row (its sales year ends within the horizon) whose district's rate is in force
    before the city has one: the projected amount is all the district's (before: the city's later
    rate was borrowed for the city's part)."""
    name = "online_sales_subsidy.revenue_rate"
    params = _later(name, "2025-06-01", {500154: "0.05"})
    case = copy.deepcopy(ONLINE)
    case["business"]["sales_year"] = 2024
    case["business"]["years"] = {2024: case["business"]["years"][2023]}
    row = _row(evaluate(case, dt.date(2024, 12, 20), params), "online_sales_subsidy")
    assert row.get("soon") is True and row["projected_amount_fen"] == 3000000
    assert [(f["source"], f["amount_fen"]) for f in row["funding"]] == [
        ("市级及以上资金", 0),
        ("区县财政", 3000000),
    ]
