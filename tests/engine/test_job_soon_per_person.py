"""岗位补贴每人一次: a person is listed once — eligible if any of their hire records is, otherwise
「即将符合」 by the record that reaches its date first.

A batch read from files (more hire records than the single case's small paths take; persons hired
by two businesses) lists, for the job subsidy, at most one eligible-or-「即将符合」 row per person
(``match``'s rows stay one per hire record: the record listed is named). Where both records are of
one business, the batch explains them as the business's own case does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np

from tests.synth_cases import month_list
from xiangchuang.batchio import load_directory, match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID

PARAMS = load_parameters()
ON = dt.date(2024, 5, 15)  # paid months expected up to 2024-04; 11 months to 2024-04: 2024-06-01
JOB = BY_ID["job_subsidy"]


# Per variant, the hire records: (suffix, person suffix, business suffix, hire date, first paid
# month); every run is paid up to 2024-04. The expected rows: suffix → (status, eligible_from).
SOON, NOW = "2023-06", "2023-03"  # 11 months (2024-06-01) and 14 months (eligible now)
VARIANTS: list[tuple[list[tuple[str, str, str, str, str]], dict[str, tuple[str, str | None]]]] = [
    # An earlier hire reaching 12 months soon, a later one eligible now (two businesses).
    ([("a", "1", "x", "2023-01-10", SOON), ("b", "1", "y", "2023-03-01", NOW)], {"b": ("eligible", None)}),
    # The same within one business.
    ([("a", "1", "x", "2023-01-10", SOON), ("b", "1", "x", "2023-03-01", NOW)], {"b": ("eligible", None)}),
    # Two records soon on the same date: the earlier hire.
    (
        [("a", "1", "x", "2023-05-20", SOON), ("b", "1", "y", "2023-01-10", SOON)],
        {"b": ("soon", "2024-06-01")},
    ),
    # One record soon, alone.
    ([("a", "1", "x", "2023-01-10", SOON)], {"a": ("soon", "2024-06-01")}),
    # Two persons, each soon.
    (
        [("a", "1", "x", "2023-01-10", SOON), ("b", "2", "x", "2023-05-20", SOON)],
        {"a": ("soon", "2024-06-01"), "b": ("soon", "2024-06-01")},
    ),
    # An earlier hire eligible now, a later one soon: the later fails 每人一次 already.
    ([("a", "1", "x", "2023-01-10", NOW), ("b", "1", "y", "2023-05-20", SOON)], {"a": ("eligible", None)}),
]


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write(tmp: Path, copies: int) -> dict[str, dict[str, tuple[str, str | None]]]:
    persons, businesses, hires, contributions = set(), set(), [], []
    expected: dict[str, dict[str, tuple[str, str | None]]] = {}
    for c in range(copies):
        for v, (records, rows) in enumerate(VARIANTS):
            tag = f"{c}_{v}"
            for suffix, person, business, hired, first in records:
                hid, pid, bid = f"H{tag}{suffix}", f"E{tag}_{person}", f"B{tag}{business}"
                persons.add(pid)
                businesses.add(bid)
                hires.append([hid, bid, pid, hired, "true"])
                contributions += [[hid, m, 72_000] for m in month_list(first, "2024-04")]
            expected[tag] = {f"H{tag}{s}": want for s, want in rows.items()}
    _csv(tmp / "persons.csv", ["id", "groups"], [[p, "poverty_registered"] for p in sorted(persons)])
    _csv(
        tmp / "businesses.csv",
        ["id", "district", "founded_by_returning"],
        [[b, 500101, "true"] for b in sorted(businesses)],
    )
    _csv(tmp / "hires.csv", ["id", "business_id", "person_id", "hire_date", "contract"], hires)
    _csv(tmp / "contributions.csv", ["hire_id", "month", "employer_fen"], contributions)
    _csv(tmp / "received.csv", ["program", "person_id", "period"], [])
    return expected


def test_one_row_per_person_in_the_batch(tmp_path: Path) -> None:
    expected = _write(tmp_path, copies=8)  # (~100 hire records: the general paths)
    facts, _ = load_directory(tmp_path)
    outcomes = run(facts, ON, PARAMS, programs=(JOB,))
    rows = [r for r in match_rows(outcomes).to_pylist() if r["program"] == JOB.id]
    got: dict[str, tuple[str, str | None]] = {
        r["subject_id"]: (r["status"], r["eligible_from"].isoformat() if r["eligible_from"] else None)
        for r in rows
    }
    want = {hid: v for per in expected.values() for hid, v in per.items()}
    assert got == want
    # Every record not listed (though its run reaches 12 months in time) names the record listed.
    o = outcomes[0]
    ids = o.ctx.t["id"].values
    doc = Explainer(PARAMS).program(o, int(np.flatnonzero(ids == "H0_0a")[0]))
    cond = next(c for c in doc["conditions"] if c["id"] == "consecutive_contributions")
    assert "该人员的招用记录H0_0b现已可享受岗位补贴" in cond["distance"]
    assert cond["passes_on"] == "2024-06-01" and "soon" not in doc


def test_one_business_explains_as_its_case(tmp_path: Path) -> None:
    _write(tmp_path, copies=8)
    facts, _ = load_directory(tmp_path)
    outcome = run(facts, ON, PARAMS, programs=(JOB,))[0]
    ids = outcome.ctx.t["id"].values
    ex = Explainer(PARAMS)
    case = {
        "business": {"id": "B0_1x", "district": 500101, "founded_by_returning": True},
        "hires": [
            {
                "id": hid,
                "hire_date": hired,
                "contract": True,
                "person": {"id": "E0_1_1", "groups": ["poverty_registered"]},
                "contributions": [{"month": m, "employer_fen": 72_000} for m in month_list(first, "2024-04")],
            }
            for hid, hired, first in (("H0_1a", "2023-01-10", SOON), ("H0_1b", "2023-03-01", NOW))
        ],
        "received": [],
    }
    case["hires"][1]["person_id"] = case["hires"][1].pop("person")["id"]
    for p in evaluate(case, ON, PARAMS)["programs"]:
        if p["program"] != JOB.id:
            continue
        i = int(np.flatnonzero(ids == p["subject"]["id"])[0])
        batch = json.loads(json.dumps(ex.program(outcome, i), ensure_ascii=False))
        assert batch == json.loads(json.dumps(p, ensure_ascii=False)), p["subject"]["id"]
