"""Core review (three): each test fails on the code before its fix.

- A loan naming a borrower who is not among the persons has an unknown borrower: the waiver's
  honour and 二次创业 grounds do not read the founder's facts (choice 79; 批量输入表).
- Months already subsidised (social insurance) count once each, on the batch path too (choice 49).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from xiangchuang.batchio import load_directory
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import ParameterSet, load_parameters

PARAMS = load_parameters()


def _rows(doc: dict[str, Any], program: str) -> dict[str, dict[str, Any]]:
    return {r["subject"]["id"]: r for r in doc["programs"] if r["program"] == program}


def _alone(case: dict[str, Any], on: dt.date, params: ParameterSet, program: str) -> dict[str, Any]:
    rows = _rows(evaluate(copy.deepcopy(case), on, params), program)
    assert len(rows) == 1
    return next(iter(rows.values()))


def _together(cases: list[dict[str, Any]], on: dt.date, params: ParameterSet, program: str) -> dict[str, Any]:
    facts = combine([case_to_tables(copy.deepcopy(c)) for c in cases])
    return _rows(result_document(run(facts, on, params), params, on), program)


def _cond(row: dict[str, Any], cid: str) -> dict[str, Any] | None:
    return next((c for c in row["conditions"] if c["id"] == cid), None)


def _write(directory: Path, name: str, header: list[str], rows: list[list[str]]) -> None:
    with open(directory / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(header)
        out.writerows(rows)


# ---- 3. a loan naming a borrower who is not among the persons -----------------------------------


def test_an_unresolved_borrower_is_unknown_not_the_founder(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "persons",
        ["id", "groups", "honour_city_level", "second_time_founder_stable"],
        [["P1", "returning_migrant_worker", "true", "true"]],
    )
    _write(
        tmp_path,
        "businesses",
        [
            "id",
            "district",
            "kind",
            "size_class",
            "founder_id",
            "honour_city_level",
            "credit_rated",
            "recommended_by",
        ],
        [["B1", "500103", "enterprise", "small_micro", "P1", "false", "false", "none"]],
    )
    header = ["id", "kind", "borrower_id", "business_id", "district", "contract_date", "amount_fen"]
    header += ["term_months", "new_loan", "recommended_by", "credit_rated"]
    common = ["B1", "500103", "2024-06-01", "30000000", "36", "true", "none", "false"]
    _write(
        tmp_path,
        "loans",
        header,
        [
            ["L1", "individual", "PX", *common],  # names PX, who is not in persons.csv
            ["L2", "small_micro", "", *common],  # names no borrower: the founder's facts (choice 79)
        ],
    )
    facts, report = load_directory(tmp_path)
    assert report.unresolved == {"loans.borrower_id": 1}
    on = dt.date(2024, 7, 1)
    rows = _rows(result_document(run(facts, on, PARAMS), PARAMS, on), "counter_guarantee_waiver")
    named = rows["L1"]
    for cid in ("honoured", "second_time_founder"):
        got = _cond(named, cid)
        assert got is not None and got["status"] == "unknown", got
    assert {"borrower__honour_city_level", "borrower__second_time_founder_stable"} <= {
        m["fact"] for m in named["missing"]
    }
    founder = rows["L2"]
    for cid in ("honoured", "second_time_founder"):
        got = _cond(founder, cid)
        assert got is not None and got["status"] == "pass", got


# ---- 6. months already subsidised, counted once each (the vectorized path) ----------------------


def test_distinct_months_match_a_month_set_per_person() -> None:
    from xiangchuang.engine.assemble import _distinct_months  # (the helper this review adds)

    rng = np.random.default_rng(20240715)
    n = 4000
    who = rng.integers(0, 300, n).astype(np.int64)
    first = rng.integers(600, 700, n).astype(np.int64)
    last = first + rng.integers(0, 24, n)
    rows, adds = _distinct_months(who, first, last)
    got = np.bincount(rows, weights=adds, minlength=300).astype(np.int64)
    want = np.zeros(300, dtype=np.int64)
    for p in range(300):
        at = np.flatnonzero(who == p)
        want[p] = len({m for i in at.tolist() for m in range(int(first[i]), int(last[i]) + 1)})
    assert got.tolist() == want.tolist()
    assert (adds >= 0).all()


def test_a_range_registered_twice_counts_once_in_a_batch_as_alone() -> None:
    """Forty persons (past the single-case path), each with 2021-01/2022-06 registered twice: 18 months
    used each, so 18 left and a 6-month claim is paid in full, as each case alone."""

    def case(k: int) -> dict[str, Any]:
        contributions = [{"month": f"2023-{m:02d}", "employer_fen": 72000} for m in range(1, 7)]
        return {
            "business": {"id": f"B{k}", "district": 500101, "founded_by_returning": True},
            "hires": [
                {
                    "id": f"H{k}",
                    "hire_date": "2023-01-10",
                    "contract": True,
                    "si_period_start": "2023-01",
                    "si_period_end": "2023-06",
                    "person": {
                        "id": f"W{k}",
                        "groups": ["poverty_registered"],
                        "birth_date": "1985-01-01",
                        "gender": "M",
                    },
                    "contributions": contributions,
                }
            ],
            "received": [
                {"program": "social_insurance_subsidy", "person_id": f"W{k}", "period": "2021-01/2022-06"},
                {"program": "social_insurance_subsidy", "person_id": f"W{k}", "period": "2021-01/2022-06"},
            ],
        }

    on = dt.date(2023, 7, 15)
    cases = [case(k) for k in range(40)]
    alone = _alone(cases[0], on, PARAMS, "social_insurance_subsidy")
    assert alone["status"] == "eligible" and alone["amount_fen"] == 432000
    together = _together(cases, on, PARAMS, "social_insurance_subsidy")
    assert {r["status"] for r in together.values()} == {"eligible"}
    assert {r["amount_fen"] for r in together.values()} == {432000}
