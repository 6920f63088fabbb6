"""A claim year or sales year not yet ended passes on 1 January of the next year (「即将符合」).

The startup subsidy's claim year and the online-sales year must have ended (README choices 1, 46):
a year written as the evaluation date's own fails now and passes, by time alone, on 1 January of
the next year. The batch (files, more rows than the single case's small paths take) and each
business evaluated as its own case give the same documents — status, 「即将符合」 and its date, the
conditions' 「X起满足」 dates and distances — and ``match`` lists the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xiangchuang.batchio import load_directory, match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID

PARAMS = load_parameters()
PROGRAMS = (BY_ID["startup_subsidy"], BY_ID["online_sales_subsidy"])

# (registration date, claim year, sales year, employer SI paid in the claim year, online revenue in
# the sales year, the claim year already received)
VARIANTS: list[tuple[str, int | None, int | None, int | None, int, bool]] = [
    ("2020-05-01", 2024, 2024, 500_000, 60_000_000, False),  # both: 2025-01-01 on 2024-12-20
    ("2020-05-01", None, None, 500_000, 60_000_000, False),  # default years (2023): eligible
    ("2020-05-01", 2019, 2019, 500_000, 60_000_000, False),  # before registration: never
    ("2024-01-10", 2024, 2024, 500_000, 60_000_000, False),  # one year on 2025-01-10: the later
    ("2023-12-25", 2024, 2024, 500_000, 60_000_000, False),  # one year before the year's end
    ("2020-05-01", 2024, 2024, 500_000, 60_000_000, True),  # the year already received: not soon
    ("2020-05-01", 2024, 2024, None, 40_000_000, False),  # SI unknown, revenue short: not soon
    ("2020-05-01", 2025, 2025, 500_000, 60_000_000, False),  # next year: passes 2026-01-01
    (None, 2024, 2024, 500_000, 60_000_000, False),  # registration unknown: no date
]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _case(k: int) -> dict[str, Any]:
    reg, cy, sy, paid, revenue, received = VARIANTS[k % len(VARIANTS)]
    year_of = {y for y in (cy, sy) if y is not None} or {2023}
    business: dict[str, Any] = {
        "id": f"B{k}",
        "district": 500101,
        "kind": "enterprise",
        "size_class": "small_micro",
        "status": "normal",
        "founded_by_returning": True,
        "registration_date": reg,
        "claim_year": cy,
        "sales_year": sy,
        "years": {
            y: {
                "employer_si_paid_fen": paid,
                "online_revenue_fen": revenue,
                "online_orders": 0,
                "courier_fees_fen": 0,
            }
            for y in sorted(year_of)
        },
    }
    regs = [{"program": "startup_subsidy", "subject_id": f"B{k}", "period": str(cy)}] if received else []
    return {
        "person": {
            "id": f"P{k}",
            "groups": ["returning_migrant_worker"],
            "first_business": True,
            "returning_entrepreneur": True,
        },
        "business": {
            key: ({y: {f: v for f, v in row.items() if v is not None} for y, row in value.items()})
            if key == "years"
            else value
            for key, value in business.items()
            if value is not None
        },
        "received": regs,
    }


def _write(tmp: Path, docs: list[dict[str, Any]]) -> None:
    persons, businesses, years, received = [], [], [], []
    for doc in docs:
        p, b = doc["person"], doc["business"]
        persons.append([p["id"], "|".join(p["groups"]), "true", "true"])
        businesses.append(
            [
                b["id"],
                p["id"],
                b["district"],
                b["kind"],
                b["size_class"],
                b.get("registration_date"),
                b["status"],
                "true",
                b.get("claim_year"),
                b.get("sales_year"),
            ]
        )
        for y, row in b["years"].items():
            years.append(
                [
                    b["id"],
                    y,
                    row.get("employer_si_paid_fen"),
                    row["online_revenue_fen"],
                    row["online_orders"],
                    row["courier_fees_fen"],
                ]
            )
        for r in doc["received"]:
            received.append([r["program"], r["subject_id"], r["period"]])
    _csv(tmp / "persons.csv", ["id", "groups", "first_business", "returning_entrepreneur"], persons)
    _csv(
        tmp / "businesses.csv",
        [
            "id",
            "founder_id",
            "district",
            "kind",
            "size_class",
            "registration_date",
            "status",
            "founded_by_returning",
            "claim_year",
            "sales_year",
        ],
        businesses,
    )
    _csv(
        tmp / "business_years.csv",
        [
            "business_id",
            "year",
            "employer_si_paid_fen",
            "online_revenue_fen",
            "online_orders",
            "courier_fees_fen",
        ],
        years,
    )
    _csv(tmp / "received.csv", ["program", "subject_id", "period"], received)


@pytest.mark.parametrize("on", [dt.date(2024, 12, 20), dt.date(2024, 6, 1)], ids=str)
def test_batch_equals_single_cases_across_the_new_year(tmp_path: Path, on: dt.date) -> None:
    docs = [_case(k) for k in range(8 * len(VARIANTS))]  # (72 businesses: the general paths)
    _write(tmp_path, docs)
    facts, _ = load_directory(tmp_path)
    outcomes = run(facts, on, PARAMS, programs=PROGRAMS)
    ex = Explainer(PARAMS)
    batch = {}
    for o in outcomes:
        ids = o.ctx.t["id"].values
        for i in np.flatnonzero(o.applies):
            batch[(o.program.id, str(ids[i]))] = json.loads(
                json.dumps(ex.program(o, int(i)), sort_keys=True, ensure_ascii=False)
            )
    single = {}
    for doc in docs:
        for p in evaluate(doc, on, PARAMS)["programs"]:
            if p["program"] in BY_ID and BY_ID[p["program"]] in PROGRAMS:
                single[(p["program"], p["subject"]["id"])] = json.loads(
                    json.dumps(p, sort_keys=True, ensure_ascii=False)
                )
    assert batch == single

    listed = {(r["program"], r["subject_id"]): r for r in match_rows(outcomes).to_pylist()}
    soon = {k: r["eligible_from"] for k, r in listed.items() if r["status"] == "soon"}
    for key, doc in single.items():
        if doc.get("soon"):
            assert soon[key].isoformat() == doc["eligible_from"], key
        else:
            assert key not in soon, key
    if on == dt.date(2024, 12, 20):
        # Variant 0 (claim and sales year 2024): 2025-01-01; variant 3 (one year on 2025-01-10):
        # the later of the two dates; variant 4 (one year on 2024-12-25): the year's end.
        assert soon[("startup_subsidy", "B0")] == dt.date(2025, 1, 1)
        assert soon[("online_sales_subsidy", "B0")] == dt.date(2025, 1, 1)
        assert soon[("startup_subsidy", "B3")] == dt.date(2025, 1, 10)
        assert soon[("startup_subsidy", "B4")] == dt.date(2025, 1, 1)
        assert ("startup_subsidy", "B5") not in soon  # already received for 2024
        assert ("startup_subsidy", "B6") not in soon and ("online_sales_subsidy", "B6") not in soon
        assert ("startup_subsidy", "B7") not in soon  # 2026-01-01: beyond the horizon
        cond = {c["id"]: c for c in single[("startup_subsidy", "B7")]["conditions"]}
        assert cond["claim_year_valid"]["passes_on"] == "2026-01-01"
        cond = {c["id"]: c for c in single[("startup_subsidy", "B2")]["conditions"]}
        assert cond["claim_year_valid"]["status"] == "fail" and "passes_on" not in cond["claim_year_valid"]
        assert single[("startup_subsidy", "B1")]["status"] == "eligible"
    else:
        assert not soon
