"""Monthly contributions: runs for the job subsidy, claim sums for the social-insurance subsidy."""

from __future__ import annotations

import datetime as dt

from xiangchuang.engine.api import evaluate


def _case(contributions):
    return {
        "business": {"id": "B1", "district": "500101", "founded_by_returning": True},
        "hires": [
            {
                "id": "H1",
                "hire_date": "2023-01-01",
                "contract": True,
                "person": {
                    "id": "E1",
                    "groups": ["poverty_registered"],
                    "birth_date": "1990-01-01",
                    "gender": "M",
                },
                "contributions": contributions,
            }
        ],
        "received": [],
    }


def _program(doc, pid):
    return next(p for p in doc["programs"] if p["program"] == pid)


def test_several_rows_for_one_month_add_up_and_count_as_one_month():
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    rows = [{"month": m, "employer_fen": 50_000} for m in months]
    rows += [{"month": "2023-12", "employer_fen": 7_000}]  # e.g. injury insurance reported separately
    doc = evaluate(_case(rows), dt.date(2024, 1, 15))
    si = _program(doc, "social_insurance_subsidy")
    assert si["status"] == "eligible"
    assert si["amount_fen"] == 6 * 50_000 + 7_000
    assert "6个月" in si["amount_rule"]


def test_unsorted_rows_give_the_same_results_as_sorted_rows():
    months = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02"]
    rows = [{"month": m, "employer_fen": 40_000} for m in months]
    on = dt.date(2024, 3, 10)
    assert evaluate(_case(rows), on) == evaluate(_case(list(reversed(rows))), on)
    job = _program(evaluate(_case(rows), on), "job_subsidy")
    assert job["status"] == "eligible"


def test_the_36_month_cap_counts_months_already_received():
    rows = [{"month": f"2024-{m:02d}", "employer_fen": 10_000} for m in range(1, 13)]
    case = _case(rows)
    case["received"] = [
        {"program": "social_insurance_subsidy", "person_id": "E1", "period": "2023", "months": 33}
    ]
    case["hires"][0]["si_period_start"] = "2024-01"
    case["hires"][0]["si_period_end"] = "2024-12"
    si = _program(evaluate(case, dt.date(2025, 1, 10)), "social_insurance_subsidy")
    assert si["status"] == "eligible" and si["amount_fen"] == 3 * 10_000  # 36 - 33 months left
