"""A loan's (or any subject's) district unknown (README choice 69).

Without district values, a rate within the lowest cap any district may have passes and one above
the highest fails; between is unknown. With district values of a parameter the program used, the
city's values may not be the row's own: the row is undecided (the district listed as missing, the
amount rule not quoted with the city's figures), unless it fails on a condition that reads none of
those parameters. A registry gives the same as each case alone."""

from __future__ import annotations

import copy
import datetime as dt
from importlib import resources
from typing import Any

import numpy as np

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import DISTRICT_KNOWN, run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import DatedValue, load_parameters, with_dated_values

OVERLAY = str(resources.files("xiangchuang.policy").joinpath("overlays", "demo-districts.yaml"))
ON = dt.date(2024, 10, 5)

# Contract 2024-06-01: LPR 345, the usual cap +150 (495), the listed districts' cap higher.
CASE: dict[str, Any] = {
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
    "loan": {
        "kind": "individual",
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


def _row(doc: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == pid)


def _cond(row: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((c for c in row["conditions"] if c["id"] == cid), None)


def _case(rate: int, district: int | None = None) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    case["loan"]["rate_bp"] = rate
    if district is not None:
        case["loan"]["district"] = district
    return case


def test_rate_cap_with_the_district_unknown_is_bounded_by_the_city_caps() -> None:
    params = load_parameters()
    high = params["loan.rate_cap_high_over_lpr_bp"].value_at(dt.date(2024, 6, 1))
    assert high > 150
    inside = _row(evaluate(_case(495), ON, params), "loan_interest_subsidy")
    assert _cond(inside, "rate_within_cap")["status"] == "pass"  # type: ignore[index]
    assert inside["status"] == "eligible" and inside["amount_fen"] > 0
    assert "上限495基点" in _cond(inside, "rate_within_cap")["message"]  # type: ignore[index]
    between = _row(evaluate(_case(496), ON, params), "loan_interest_subsidy")
    assert _cond(between, "rate_within_cap")["status"] == "unknown"  # type: ignore[index]
    assert between["status"] == "undetermined"
    assert any(m["fact"] == "district" for m in between["missing"])
    above = _row(evaluate(_case(345 + high + 1), ON, params), "loan_interest_subsidy")
    assert _cond(above, "rate_within_cap")["status"] == "fail"  # type: ignore[index]
    assert above["status"] == "ineligible"
    # The district known: its own cap, as before.
    known = _row(evaluate(_case(496, district=500103), ON, params), "loan_interest_subsidy")
    assert _cond(known, "rate_within_cap")["status"] == "fail"  # type: ignore[index]


def test_district_values_leave_an_unknown_district_undecided() -> None:
    params = load_parameters(OVERLAY)  # 开州 (500154) raises the ceiling and the subsidised share
    doc = evaluate(_case(480), ON, params)
    for pid in ("loan_individual", "loan_interest_subsidy"):
        row = _row(doc, pid)
        assert row["status"] == "undetermined", (pid, row["status"])
        rule = _cond(row, DISTRICT_KNOWN)
        assert rule is not None and rule["status"] == "unknown"
        assert "所在区县未知" in rule["message"] and "个人创业担保贷款额度上限" in rule["message"], rule
        assert [m["fact"] for m in row["missing"]] == ["district"]
        assert row["amount_rule"].startswith("尚缺贷款所在区县"), row["amount_rule"]
    # Known districts: 开州 its own values (the district paying the raise), another the city's.
    kz = _row(evaluate(_case(480, 500154), ON, params), "loan_interest_subsidy")
    city = _row(evaluate(_case(480, 500103), ON, params), "loan_interest_subsidy")
    assert kz["status"] == city["status"] == "eligible"
    assert kz["amount_fen"] > city["amount_fen"]
    assert _cond(kz, DISTRICT_KNOWN) is None and _cond(city, DISTRICT_KNOWN) is None
    # Without district values the same unknown district decides (the rule is not there).
    plain = _row(evaluate(_case(480), ON, load_parameters()), "loan_interest_subsidy")
    assert plain["status"] == "eligible" and _cond(plain, DISTRICT_KNOWN) is None


def test_a_row_failing_on_a_condition_without_district_values_still_fails() -> None:
    params = load_parameters(OVERLAY)
    case = _case(480)
    case["person"]["groups"] = ["dibao"]  # not in the loan's groups, which no district changes
    row = _row(evaluate(case, ON, params), "loan_interest_subsidy")
    assert row["status"] == "ineligible"
    assert _cond(row, DISTRICT_KNOWN) is None


def test_a_registry_gives_the_same_as_each_case_alone() -> None:
    params = load_parameters(OVERLAY)
    cases = [_case(480), _case(480, 500154), _case(480, 500103), _case(700), _case(496)]
    alone = [
        {
            p["program"]: (p["status"], p["amount_fen"], p["amount_rule"])
            for p in evaluate(c, ON, params)["programs"]
        }
        for c in cases
    ]
    # The cases as one batch, each with its own borrower (one person's several loans in progress
    # would decide each other: one_loan_per_borrower, README choice 18).
    outcomes = run(combine([case_to_tables(c) for c in cases]), ON, params)
    ex = Explainer(params)
    seen = 0
    for o in outcomes:
        if o.program.subject != "loans":
            continue
        for i in np.flatnonzero(o.applies).tolist():
            doc = ex.program(o, i)
            assert alone[i][o.program.id] == (doc["status"], doc["amount_fen"], doc["amount_rule"]), (
                o.program.id,
                i,
            )
            seen += 1
    assert seen >= 3 * len(cases)


# A small/micro-firm loan, its district (and its business's) not given.
SMALL_MICRO_CASE: dict[str, Any] = {
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
    "business": {"id": "B1", "size_class": "small_micro", "new_eligible_hires": 3, "staff_count": 10},
    "loan": {
        "kind": "small_micro",
        "contract_date": "2024-06-01",
        "amount_fen": 30000000,
        "term_months": 24,
        "rate_bp": 480,
        "settle_start": "2024-07-01",
        "settle_end": "2024-09-30",
        "principal_fen": 30000000,
        "excluded_days": 0,
        "credit_rated": True,
    },
    "received": [],
}


def _district_value(name: str, value: Any) -> Any:
    """The built-in parameters with one district's own value of ``name`` only (开州, 2024-06-01)."""
    extra = DatedValue(name, dt.date(2024, 6, 1), value, "测试", district=500154, paid_by="区县财政")
    return with_dated_values(load_parameters(), [extra])


def test_a_district_value_of_another_kinds_parameter_leaves_a_small_micro_loan_decided() -> None:
    """Before: a district's own individual-loan ceiling (or the individual loans' waiver limit, or
    their term limit) left a small/micro-firm loan of unknown district undetermined in the interest
    subsidy (the ceiling of every kind was read and cited for every loan). A parameter that cannot
    change the row's result does not wait for its district (README choice 69)."""
    plain = {p["program"]: p for p in evaluate(SMALL_MICRO_CASE, ON, load_parameters())["programs"]}
    for name, value in (
        ("loan_individual.ceiling", 400000),
        ("counter_guarantee_waiver.small_loan_max", 150000),
        ("loan_individual.max_term_months", 48),
        ("loan.borrower_groups", ["returning_migrant_worker", "college_graduate", "veteran", "dibao"]),
    ):
        params = _district_value(name, value)
        doc = {p["program"]: p for p in evaluate(SMALL_MICRO_CASE, ON, params)["programs"]}
        for pid in ("loan_small_micro", "loan_interest_subsidy", "counter_guarantee_waiver"):
            assert doc[pid]["status"] == plain[pid]["status"] == "eligible", (name, pid, doc[pid]["status"])
            assert doc[pid]["amount_fen"] == plain[pid]["amount_fen"], (name, pid)
            assert _cond(doc[pid], DISTRICT_KNOWN) is None, (name, pid)
            assert name not in {c["name"] for c in doc[pid]["parameters"]}, (name, pid)
    # An individual loan of unknown district still waits for it: the ceiling is its own.
    case = copy.deepcopy(SMALL_MICRO_CASE)
    case["loan"]["kind"] = "individual"
    doc = evaluate(case, ON, _district_value("loan_individual.ceiling", 400000))
    for pid in ("loan_individual", "loan_interest_subsidy"):
        row = _row(doc, pid)
        assert row["status"] == "undetermined", pid
        assert _cond(row, DISTRICT_KNOWN) is not None, pid
