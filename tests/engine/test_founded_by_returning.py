"""由返乡入乡创业人员创办 (online sales, job subsidy): the business's own flag where given, else its
founder's returning/incoming entrepreneur flag (as 首次创办: the business's value wins)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiangchuang.batchio import match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()
ON = dt.date(2024, 3, 1)


def _case(bid: str, founder: bool | None, business: bool | None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": f"P{bid}", "groups": ["returning_migrant_worker"]}
    if founder is not None:
        person["returning_entrepreneur"] = founder
    biz: dict[str, Any] = {
        "id": bid,
        "district": 500101,
        "kind": "enterprise",
        "registration_date": "2021-01-05",
        "status": "normal",
        "years": {2023: {"online_revenue_fen": 60_000_000, "online_orders": 10, "courier_fees_fen": 100}},
    }
    if business is not None:
        biz["founded_by_returning"] = business
    months = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02"]
    hire = {
        "id": f"H{bid}",
        "person": {"id": f"W{bid}", "groups": ["poverty_registered"]},
        "hire_date": "2023-01-01",
        "contract": True,
        "contributions": [{"month": m} for m in months],
    }
    return {"person": person, "business": biz, "hires": [hire], "received": []}


def _status(doc: dict[str, Any], program: str) -> str:
    return str(next(p for p in doc["programs"] if p["program"] == program)["status"])


WANT = {
    # (founder's flag, business's flag) → status of both programs
    "B1": ((True, None), "eligible"),  # the founder's flag decides where the business's is not given
    "B2": ((False, None), "ineligible"),
    "B3": ((True, False), "ineligible"),  # the business's own flag wins
    "B4": ((None, None), "undetermined"),
}


def test_the_founders_flag_applies_where_the_businesss_is_unknown() -> None:
    cases = [_case(bid, *flags) for bid, (flags, _) in WANT.items()]
    for case in cases:
        doc = evaluate(case, ON, PARAMS)
        want = WANT[case["business"]["id"]][1]
        assert _status(doc, "online_sales_subsidy") == want
        assert _status(doc, "job_subsidy") == want
    rows = match_rows(run(combine([case_to_tables(c) for c in cases]), ON, PARAMS), include_undetermined=True)
    got = {(r["program"], r["subject_id"]): r["status"] for r in rows.to_pylist()}
    for bid, (_, want) in WANT.items():
        for program, subject in (("online_sales_subsidy", bid), ("job_subsidy", f"H{bid}")):
            assert got.get((program, subject), "ineligible") == want, (program, subject)
