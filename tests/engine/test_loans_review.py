"""Loan programs: the distance to the hire ratio, partner counts that would overflow, unclear other
loans, and the interest subsidy on the registry's (several-row) path as in the single case."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID
from xiangchuang.engine.programs.loans import _needed_hires

PARAMS = load_parameters()


def _fewest_hires(h: int, s: int, r1: tuple[int, int], r2: tuple[int, int], threshold: int) -> int:
    """By search: the fewest extra eligible hires k that pass (s + k staff, h + k of them new hires)."""
    k = 0
    while True:
        staff, hires = s + k, h + k
        n, d = r2 if staff > threshold else r1
        if staff > 0 and hires * d >= n * staff:
            return k
        k += 1


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 260),
    st.data(),
    st.sampled_from([(3, 20), (1, 10), (1, 2), (9, 10)]),  # ratios below 100%
    st.sampled_from([(2, 25), (1, 20), (1, 10)]),
    st.sampled_from([0, 1, 10, 100]),
)
def test_needed_hires_is_the_fewest_that_pass(
    s: int, data: st.DataObject, r1: tuple[int, int], r2: tuple[int, int], threshold: int
) -> None:
    h = data.draw(st.integers(0, s))
    one = [np.asarray([x], dtype=np.int64) for x in (h, s, *r1, *r2, threshold)]
    got = int(_needed_hires(*one)[0])
    assert got == _fewest_hires(h, s, r1, r2, threshold)


def test_needed_hires_with_no_staff_is_one() -> None:
    h = np.asarray([0, 0, 0, 0], dtype=np.int64)
    s = np.asarray([0, 1, 6, 20], dtype=np.int64)
    ratio = [np.asarray([v], dtype=np.int64) for v in (3, 20, 2, 25, 100)]
    assert _needed_hires(h, s, *ratio).tolist() == [1, 1, 2, 4]


def _partnership(partners: int, on: str = "2023-01-01") -> dict[str, Any]:
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loan": {
            "kind": "partnership",
            "partners": partners,
            "contract_date": on,
            "amount_fen": 10**13,
            "district": "500103",
        },
    }


def test_huge_partner_counts_give_the_partnership_total_on_every_path() -> None:
    """10**13 partners: no int64 overflow, neither for one case (Python ints) nor for a batch."""
    on = dt.date(2023, 3, 1)
    for partners in (6, 7, 2**31, 10**13, 10**15 - 1):
        doc = evaluate(_partnership(partners), on)
        row = next(p for p in doc["programs"] if p["program"] == "loan_individual")
        assert (row["status"], row["amount_fen"]) == ("eligible", 110_000_000), partners
    facts = combine([case_to_tables(_partnership(p)) for p in [2, 3, 10**13, 10**15 - 1] * 10])
    (out,) = run(facts, on, PARAMS, programs=[BY_ID["loan_individual"]])
    assert out.amount.tolist() == [44_000_000, 66_000_000, 110_000_000, 110_000_000] * 10


def _interest_case(**loan: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "kind": "individual",
        "district": "500103",
        "contract_date": "2023-01-10",
        "amount_fen": 20_000_000,
        "term_months": 36,
        "lpr_bp": 365,
        "rate_bp": 515,
        "settle_start": "2023-04-01",
        "settle_end": "2023-06-30",
        "principal_fen": 20_000_000,
        "excluded_days": 0,
    }
    base.update(loan)
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loan": {k: v for k, v in base.items() if v is not None},
    }


def test_interest_subsidy_in_a_batch_equals_the_single_cases() -> None:
    on = dt.date(2026, 7, 5)
    cases = [
        _interest_case(),
        _interest_case(settle_start="2026-04-01", settle_end="2026-06-30"),
        _interest_case(term_months=None, settle_start="2025-10-10", settle_end="2026-01-09"),
        _interest_case(term_months=None, settle_start="2025-10-11", settle_end="2026-01-10"),
        _interest_case(kind=None, term_months=30, settle_start="2025-04-01", settle_end="2025-06-30"),
        _interest_case(kind="partnership"),
        _interest_case(kind="partnership", partners=3),
        _interest_case(excluded_days=None),
    ]
    cases[0]["person"]["other_loans"] = [{"kind": "consumer"}]
    singles = []
    for case in cases:
        doc = evaluate(case, on)
        singles.append(next(p for p in doc["programs"] if p["program"] == "loan_interest_subsidy"))
    assert [r["status"] for r in singles] == [
        "undetermined",  # a consumer loan of unknown amount
        "ineligible",  # beyond the 36-month term
        "eligible",  # no term given: 36 months; ends the day before maturity (算头不算尾)
        "ineligible",  # ends on the maturity day, which bears no interest
        "undetermined",  # kind unknown: 30 months is within 36 but not within 24
        "undetermined",  # partners unknown
        "eligible",
        "undetermined",  # 展期/逾期 days unknown
    ]
    assert [m["fact"] for m in singles[0]["missing"]] == ["borrower__other_loans"]
    within = {c["id"]: c["status"] for c in singles[4]["conditions"]}
    assert within["settlement_within_term"] == "unknown"
    assert within["loan_term_within_limit"] == "unknown"
    facts = combine([case_to_tables(copy.deepcopy(c)) for c in cases * 3])
    outcomes = run(facts, on, PARAMS)
    doc = result_document(outcomes, PARAMS, on)
    batch = [p for p in doc["programs"] if p["program"] == "loan_interest_subsidy"]
    strip = ("subject",)
    for k, row in enumerate(batch):
        one = singles[k % len(cases)]
        assert {x: v for x, v in row.items() if x not in strip} == {
            x: v for x, v in one.items() if x not in strip
        }, k


def test_other_loans_evaluated_twice_and_at_another_date_give_the_same_result() -> None:
    """no_blocking_loans marks the borrower's other-loans information as incomplete in the loans
    table (so the explanation names it): evaluating the same tables again, or first at a date
    before the parameters are in force, changes nothing."""
    case = _interest_case()
    case["person"]["other_loans"] = [{"kind": "consumer"}, {"amount_fen": 100}]
    facts = case_to_tables(case)
    on = dt.date(2023, 7, 5)
    first = result_document(run(facts, on, PARAMS), PARAMS, on)
    early = result_document(run(facts, dt.date(2019, 6, 1), PARAMS), PARAMS, dt.date(2019, 6, 1))
    again = result_document(run(facts, on, PARAMS), PARAMS, on)
    assert first == again
    loan = next(p for p in first["programs"] if p["program"] == "loan_individual")
    assert loan["status"] == "undetermined"
    cond = next(c for c in loan["conditions"] if c["id"] == "no_blocking_loans")
    assert "1笔贷款种类未知，1笔消费贷款金额未知" in cond["message"]
    # Which loans are exempt is read on the loan's contract date (2023-01-10), not the evaluation
    # date: evaluated in 2019 the condition is as open as in 2023.
    loan_early = next(p for p in early["programs"] if p["program"] == "loan_individual")
    assert {c["id"]: c["status"] for c in loan_early["conditions"]}["no_blocking_loans"] == "unknown"
    # A loan contracted before the rules (2020-04-01): no kind exempt, the loans block whatever they are.
    case["loan"]["contract_date"] = "2020-03-01"
    before = result_document(run(case_to_tables(case), on, PARAMS), PARAMS, on)
    loan_before = next(p for p in before["programs"] if p["program"] == "loan_individual")
    assert {c["id"]: c["status"] for c in loan_before["conditions"]}["no_blocking_loans"] == "fail"


_CONSUMER_BOUND_500154 = (
    "loan.consumer_loan_exempt_below:\n"
    "  districts:\n"
    "    500154:\n"
    "      - {since: 2021-01-01, value: 100000, paid_by: 区县财政, status: assumed, reference: 测试}\n"
)


def test_other_loans_use_each_loans_own_district_value_in_any_order(tmp_path: Path) -> None:
    """A district that relaxes the small-consumer-loan bound (1.2: 适当放宽申请条件) relaxes it for
    its own loans only: an 80,000-yuan consumer loan blocks a loan in 渝中 (bound 50,000) and not one
    in 开州 (bound 100,000), whichever row comes first, and each row as in its single case."""
    overlay = tmp_path / "o.yaml"
    overlay.write_text(_CONSUMER_BOUND_500154, encoding="utf-8")
    params = load_parameters(str(overlay))
    on = dt.date(2023, 5, 1)
    person = {
        "id": "P1",
        "groups": ["returning_migrant_worker"],
        "other_loans": [{"kind": "consumer", "amount_fen": 8000000}],
    }
    loans = {
        "L1": {
            "id": "L1",
            "kind": "individual",
            "district": 500103,
            "contract_date": "2023-05-01",
            "term_months": 36,
        },
        "L2": {
            "id": "L2",
            "kind": "individual",
            "district": 500154,
            "contract_date": "2023-05-01",
            "term_months": 36,
        },
    }
    expected = {"L1": "fail", "L2": "pass"}

    def blocking(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
        out = {}
        for p in doc["programs"]:
            if p["program"] == "loan_individual":
                c = next(c for c in p["conditions"] if c["id"] == "no_blocking_loans")
                out[p["subject"]["id"]] = (c["status"], c["message"])
        return out

    singles: dict[str, tuple[str, str]] = {}
    for loan in loans.values():
        singles.update(blocking(evaluate({"person": person, "loan": loan}, on, params)))
    assert {k: v[0] for k, v in singles.items()} == expected
    for order in (["L1", "L2"], ["L2", "L1"]):
        both = blocking(evaluate({"person": person, "loans": [loans[k] for k in order]}, on, params))
        assert both == singles, order
