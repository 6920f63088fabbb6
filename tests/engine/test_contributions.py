"""Monthly contributions: runs for the job subsidy, claim sums for the social-insurance subsidy."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError


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


def test_a_month_given_twice_is_refused_not_added_up():
    """A hire's month is one row (the registry's unique key on employment and month): a second row for
    the month (e.g. injury insurance reported separately) was added to the first; it is now refused,
    naming both rows, so that a repeated row is never paid twice (¥4,320.00 became ¥14,040.00)."""
    months = [f"2023-{m:02d}" for m in range(7, 13)]
    rows = [{"month": m, "employer_fen": 50_000} for m in months]
    doc = evaluate(_case(rows), dt.date(2024, 1, 15))
    si = _program(doc, "social_insurance_subsidy")
    assert si["status"] == "eligible" and si["amount_fen"] == 6 * 50_000 and "6个月" in si["amount_rule"]
    rows += [{"month": "2023-12", "employer_fen": 7_000}]
    with pytest.raises(CaseError, match=r"缴费月份 2023-12 重复（hires\[0\]\.contributions\[5\] 已有）"):
        evaluate(_case(rows), dt.date(2024, 1, 15))


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


def _month(m: int) -> str:
    return f"{2020 + m // 12}-{m % 12 + 1:02d}"


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sets(st.integers(0, 59), max_size=30),  # paid months (with gaps), 2020-01 … 2024-12
            st.integers(0, 59),  # hire month
            st.integers(0, 59),  # claim period start
            st.integers(0, 12),  # claim period length - 1
            st.integers(0, 40),  # months already received
        ),
        min_size=1,
        max_size=6,
    ),
    st.randoms(use_true_random=False),
)
def test_social_insurance_claims_equal_a_month_by_month_count(hires, rnd):
    """Several hires in one case, paid months with and without gaps, rows in any order: each claim is
    the earliest months paid in the period, from the hire month on, within 36 months of the hire and
    the months left under the cap. (A month split over two rows, once added up, is refused now.)"""
    case = _case([])
    case["hires"], case["received"] = [], []
    expected = {}
    for j, (paid, hire_m, start, length, received) in enumerate(hires):
        rows = []
        for m in paid:
            fen = 10_000 + 137 * m + j
            rows.append({"month": _month(m), "employer_fen": fen})
        rnd.shuffle(rows)
        end = start + length
        hire = {
            "id": f"H{j}",
            "hire_date": f"{_month(hire_m)}-15",
            "contract": True,
            "si_period_start": _month(start),
            "si_period_end": _month(end),
            "person": {
                "id": f"E{j}",
                "groups": ["poverty_registered"],
                "birth_date": "1990-01-01",
                "gender": "M",
            },
            "contributions": rows,
        }
        case["hires"].append(hire)
        if received:
            case["received"].append(
                {
                    "program": "social_insurance_subsidy",
                    "person_id": f"E{j}",
                    "period": "2019",
                    "months": received,
                }
            )
        months = [m for m in sorted(paid) if max(start, hire_m) <= m <= min(end, hire_m + 35)]
        months = months[: max(36 - received, 0)]
        expected[f"H{j}"] = sum(10_000 + 137 * m + j for m in months)
    doc = evaluate(case, dt.date(2025, 6, 1))
    got = {
        p["subject"]["id"]: (p["amount_fen"] if p["status"] == "eligible" else 0)
        for p in doc["programs"]
        if p["program"] == "social_insurance_subsidy"
    }
    assert got == expected


def test_rows_that_refer_to_no_hire_give_no_runs():
    """Contribution rows none of which refers to a hire of the table (a batch whose hires were
    filtered out): every hire has no run, on the small path and the column path alike."""
    import numpy as np

    from xiangchuang.engine import assemble as asm

    months = np.asarray([600 + k for k in range(100)], dtype=np.int32)
    for rows in (np.full(100, 7, dtype=np.int64), np.full(100, -1, dtype=np.int64)):
        for small in (asm.SMALL, -1):
            saved, asm.SMALL = asm.SMALL, small
            try:
                runs = asm.contribution_runs(rows, months, 3, np.ones(100, dtype=np.int64))
            finally:
                asm.SMALL = saved
            assert runs.last.tolist() == [-1, -1, -1] and runs.run.tolist() == [0, 0, 0]
            assert runs.count.tolist() == [0, 0, 0] and runs.months.size == 0
