"""The social-insurance subsidy never pays a month twice: register periods as month ranges.

``months_not_subsidised`` reads the hired person's register entries (``YYYY-MM/YYYY-MM`` or
``YYYY-MM至YYYY-MM``; a year or other text is vague) against the claim period; one case and a batch
read from files (more rows than the small paths take) give the same results. The default claim
period offered elsewhere (applications) is the engine's own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.synth_cases import write_csv
from xiangchuang.batchio import load_directory
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.assemble import format_month_range, month_range
from xiangchuang.engine.dates import parse_month
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID
from xiangchuang.engine.programs.employment import default_claim_period

PARAMS = load_parameters()
ON = dt.date(2024, 5, 15)  # default claim period 2023-11 .. 2024-04
SI = BY_ID["social_insurance_subsidy"]
NAMES = {0: "ineligible", 1: "undetermined", 2: "eligible"}
STATES = {0: "fail", 1: "unknown", 2: "pass"}
MONTHS = [f"2023-{m:02d}" for m in range(8, 13)] + [f"2024-{m:02d}" for m in range(1, 5)]

# (the entries of the first hired person, as (period, months); the expected state of the condition
# for that person's hire)
VARIANTS: list[tuple[list[tuple[str | None, int | None]], str]] = [
    ([], "pass"),
    ([("2023-09/2024-02", 6)], "fail"),
    ([("2023-09至2024-02", 6)], "fail"),
    ([("2023-05/2023-10", 6)], "pass"),  # ends just before the claim period
    ([("2024-04/2024-04", 1)], "fail"),  # the claim period's last month
    ([("2024", 6)], "unknown"),
    ([("2022", 6)], "pass"),
    ([(None, 3)], "unknown"),
    ([("2024年上半年", 6)], "unknown"),
    ([("2022", 6), ("2023-12/2024-01", 2)], "fail"),
    ([("2023-01/2023-06", 6), ("2024", 3)], "unknown"),
    ([("2023-13/2024-02", 6)], "unknown"),  # not a month: other text
    ([("2024-02/2023-09", 6)], "unknown"),  # last before first: other text
    # Gap months: a claim period between two subsidised ranges is claimable; one that overlaps a
    # range fails and names the gap months before it (they may be claimed on their own).
    ([("2023-05/2023-10", 6), ("2024-05/2024-07", 3)], "pass"),
    ([("2023-09/2023-10", 2), ("2024-01/2024-02", 2)], "fail"),  # gap 2023-11..2023-12
    ([("2023-11/2023-12", 2), ("2024-03/2024-03", 1)], "fail"),  # gap 2024-01..2024-02
    ([("2023", 3), ("2024-01/2024-02", 2)], "fail"),  # 2023-11..12 may be the year's: not named
]

# For the failing gap variants, the distance of months_not_subsidised (the gap months and from when on).
GAP_DISTANCES = {
    len(VARIANTS)
    - 3: "申领期中2023-11至2023-12有单位缴费且未享受社保补贴，可按这些月份另行申领；其后可从2024-03起申领",
    len(VARIANTS)
    - 2: "申领期中2024-01至2024-02有单位缴费且未享受社保补贴，可按这些月份另行申领；其后可从2024-04起申领",
    len(VARIANTS) - 1: "可从2024-03起申领",
}


def _case(k: int, entries: list[tuple[str | None, int | None]]) -> dict[str, Any]:
    hires = [
        {
            "id": f"H{k}_{j}",
            "hire_date": "2023-08-10",
            "contract": True,
            "person": {
                "id": f"E{k}_{j}",
                "groups": ["poverty_registered"],
                "birth_date": "1985-04-01",
                "gender": "M",
            },
            "contributions": [{"month": m, "employer_fen": 72_000} for m in MONTHS],
        }
        for j in (1, 2)
    ]
    received = [
        {"program": "social_insurance_subsidy", "person_id": f"E{k}_1", "period": p, "months": m}
        for p, m in entries
    ]
    # The second hired person has an entry that never touches the claim period.
    received.append(
        {
            "program": "social_insurance_subsidy",
            "person_id": f"E{k}_2",
            "period": "2020-01/2020-06",
            "months": 6,
        }
    )
    return {
        "business": {"id": f"B{k}", "district": 500101, "founded_by_returning": True},
        "hires": hires,
        "received": [{key: v for key, v in r.items() if v is not None} for r in received],
    }


def _single(doc: dict[str, Any]) -> dict[str, tuple[str, str, int | None]]:
    out = {}
    for r in evaluate(doc, ON, PARAMS)["programs"]:
        if r["program"] == SI.id:
            cond = next(c for c in r["conditions"] if c["id"] == "months_not_subsidised")
            out[r["subject"]["id"]] = (r["status"], cond["status"], r.get("amount_fen"))
    return out


@pytest.mark.parametrize(("entries", "state"), VARIANTS)
def test_one_case(entries: list[tuple[str | None, int | None]], state: str) -> None:
    got = _single(_case(0, entries))
    assert got["H0_1"][1] == state, entries
    assert got["H0_2"][:2] == ("eligible", "pass")


def _write_batch(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    persons, businesses, hires, contributions, received = [], [], [], [], []
    for doc in docs:
        businesses.append([doc["business"]["id"], "500101", "true"])
        for h in doc["hires"]:
            p = h["person"]
            persons.append([p["id"], "|".join(p["groups"]), p["birth_date"], p["gender"]])
            hires.append([h["id"], doc["business"]["id"], p["id"], h["hire_date"], "true"])
            contributions += [[h["id"], c["month"], c["employer_fen"]] for c in h["contributions"]]
        for r in doc["received"]:
            received.append([r["program"], r["person_id"], r.get("period"), r.get("months")])
    write_csv(tmp_path / "persons.csv", ["id", "groups", "birth_date", "gender"], persons)
    write_csv(tmp_path / "businesses.csv", ["id", "district", "founded_by_returning"], businesses)
    write_csv(tmp_path / "hires.csv", ["id", "business_id", "person_id", "hire_date", "contract"], hires)
    write_csv(tmp_path / "contributions.csv", ["hire_id", "month", "employer_fen"], contributions)
    write_csv(tmp_path / "received.csv", ["program", "person_id", "period", "months"], received)


def test_batch_files_equal_single_cases(tmp_path: Path) -> None:
    docs = [_case(k, VARIANTS[k % len(VARIANTS)][0]) for k in range(45)]  # (90 hires)
    _write_batch(tmp_path, docs)
    single: dict[str, tuple[str, str, int | None]] = {}
    for doc in docs:
        single.update(_single(doc))
    facts, _ = load_directory(tmp_path)
    batch: dict[str, tuple[str, str, int | None]] = {}
    for o in run(facts, ON, PARAMS, programs=(SI,)):
        ids = o.ctx.t["id"].values
        cond = o.conds["months_not_subsidised"].state
        for i in o.rows:
            status = NAMES[int(o.status[i])]
            amount = None if status == "undetermined" else int(o.amount[i])
            batch[str(ids[i])] = (status, STATES[int(cond[i])], amount)
    assert batch == single
    assert {s for _, s, _ in single.values()} == {"pass", "fail", "unknown"}


def test_month_range_reads_both_forms_and_refuses_the_rest() -> None:
    m = parse_month
    assert month_range("2023-09/2024-02") == (m("2023-09"), m("2024-02"))
    assert month_range(" 2023-09 至 2024-02 ") == (m("2023-09"), m("2024-02"))
    assert month_range("2024-03/2024-03") == (m("2024-03"), m("2024-03"))
    for bad in (
        "2024",
        "2024-03",
        "2024-02/2023-09",
        "2023-00/2023-05",
        "2023-9/2024-2",
        "1899-01/1899-02",
        "",
    ):
        assert month_range(bad) is None, bad
    assert format_month_range(m("2023-09"), m("2024-02")) == "2023-09/2024-02"


def test_the_default_claim_period_is_the_one_the_engine_evaluates() -> None:
    assert default_claim_period(dt.date(2024, 5, 15)) == "2023-11/2024-04"
    assert default_claim_period(dt.date(2024, 1, 31)) == "2023-07/2023-12"
    doc = _case(0, [])
    row = next(r for r in evaluate(doc, ON, PARAMS)["programs"] if r["program"] == SI.id)
    cond = next(c for c in row["conditions"] if c["id"] == "contributions_in_period")
    first, last = default_claim_period(ON).split("/")
    assert f"申领期{first}至{last}" in cond["message"]


def test_gap_months_are_named_alike_in_a_case_and_a_batch(tmp_path: Path) -> None:
    """A claim period overlapping a subsidised range fails (README choice 49) and says which of its
    months no entry covers — gap months between or before the ranges, with contributions — and from
    when on the months are claimable; the batch explains it word for word as the case does."""
    docs = [_case(k, VARIANTS[k % len(VARIANTS)][0]) for k in range(45)]  # (90 hires)
    _write_batch(tmp_path, docs)
    facts, _ = load_directory(tmp_path)
    outcome = run(facts, ON, PARAMS, programs=(SI,))[0]
    ids = outcome.ctx.t["id"].values
    ex = Explainer(PARAMS)
    for k, doc in enumerate(docs):
        row = next(
            r
            for r in evaluate(doc, ON, PARAMS)["programs"]
            if r["program"] == SI.id and r["subject"]["id"] == f"H{k}_1"
        )
        cond = next(c for c in row["conditions"] if c["id"] == "months_not_subsidised")
        want = GAP_DISTANCES.get(k % len(VARIANTS))
        if want is not None:
            assert cond["distance"] == want, k
        batch = ex.program(outcome, int(np.flatnonzero(ids == f"H{k}_1")[0]))
        assert batch == row, k
