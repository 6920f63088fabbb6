"""Register entries of the job / social-insurance subsidies that do not name the hired person.

Such an entry never counts for the founder (formerly a case filled in the applicant as its person):
naming a hire record it counts for that hire's person; naming the employer, or no one, it may be any
hired person's, so for those hires whether the subsidy was received is unknown (PROVISIONS §0) —
the same in one case, in a batch read from files with more rows than the small paths take, and
whatever the other entries say.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.batchio import load_directory
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID

PARAMS = load_parameters()
ON = dt.date(2024, 3, 20)
JOB = BY_ID["job_subsidy"]
SI = BY_ID["social_insurance_subsidy"]
NAMES = {0: "ineligible", 1: "undetermined", 2: "eligible"}
MONTHS = [f"2023-{m:02d}" for m in range(3, 13)] + ["2024-01", "2024-02"]

# (what the entry names, the status of the hire H<k>_1 of business B<k>, and of its H<k>_2)
VARIANTS: list[tuple[dict[str, str], str, str]] = [
    ({}, "undetermined", "undetermined"),  # names no one: may be either hired person's
    ({"subject_id": "B"}, "undetermined", "undetermined"),  # the employer: either hired person
    ({"subject_id": "H1"}, "ineligible", "eligible"),  # the hire record: its person
    ({"person_id": "E1"}, "ineligible", "eligible"),
    ({"subject_id": "E2"}, "eligible", "ineligible"),
    ({"person_id": "X"}, "eligible", "eligible"),  # someone not evaluated here
    ({"subject_id": "X"}, "eligible", "eligible"),
    ({"person_id": "P"}, "eligible", "eligible"),  # the founder, not hired here
]


def _case(k: int, names: dict[str, str]) -> dict[str, Any]:
    def ref(v: str) -> str:
        return {"B": f"B{k}", "H1": f"H{k}_1", "E1": f"E{k}_1", "E2": f"E{k}_2", "P": f"P{k}"}.get(v, f"X{k}")

    hires = [
        {
            "id": f"H{k}_{j}",
            "hire_date": "2023-01-01",
            "contract": True,
            "person": {
                "id": f"E{k}_{j}",
                "groups": ["poverty_registered"],
                "birth_date": "1990-01-01",
                "gender": "F",
            },
            "contributions": [{"month": m, "employer_fen": 72_000} for m in MONTHS],
        }
        for j in (1, 2)
    ]
    entry = {key: ref(v) for key, v in names.items()}
    return {
        "person": {"id": f"P{k}", "groups": ["returning_migrant_worker"]},
        "business": {"id": f"B{k}", "district": 500101, "founded_by_returning": True},
        "hires": hires,
        "received": [
            {"program": "job_subsidy", "period": "2023", **entry},
            {"program": "social_insurance_subsidy", "period": "2023", "months": 36, **entry},
        ],
    }


def _single(doc: dict[str, Any]) -> dict[tuple[str, str], str]:
    return {
        (r["program"], r["subject"]["id"]): r["status"]
        for r in evaluate(doc, ON, PARAMS)["programs"]
        if r["program"] in (JOB.id, SI.id)
    }


@pytest.mark.parametrize(("names", "first", "second"), VARIANTS)
def test_one_case(names: dict[str, str], first: str, second: str) -> None:
    got = _single(_case(0, names))
    for prog in (JOB.id, SI.id):
        assert (got[(prog, "H0_1")], got[(prog, "H0_2")]) == (first, second), (prog, names)


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write(directory: Path, docs: list[dict[str, Any]], nobody: bool = False) -> None:
    persons, businesses, hires, contributions, received = [], [], [], [], []
    for doc in docs:
        persons.append([doc["person"]["id"], "returning_migrant_worker", None, None])
        businesses.append([doc["business"]["id"], "500101", "true"])
        for h in doc["hires"]:
            p = h["person"]
            persons.append([p["id"], "|".join(p["groups"]), p["birth_date"], p["gender"]])
            hires.append([h["id"], doc["business"]["id"], p["id"], h["hire_date"], "true"])
            contributions += [[h["id"], c["month"], c["employer_fen"]] for c in h["contributions"]]
        for r in doc["received"]:
            # A case's entry naming no one is about its business (the batch file says so).
            subject = r.get("subject_id", None if "person_id" in r else doc["business"]["id"])
            received.append([r["program"], subject, r.get("person_id"), r["period"], r.get("months")])
    if nobody:
        received.append(["job_subsidy", None, None, "2023", None])
    _csv(directory / "persons.csv", ["id", "groups", "birth_date", "gender"], persons)
    _csv(directory / "businesses.csv", ["id", "district", "founded_by_returning"], businesses)
    _csv(directory / "hires.csv", ["id", "business_id", "person_id", "hire_date", "contract"], hires)
    _csv(directory / "contributions.csv", ["hire_id", "month", "employer_fen"], contributions)
    _csv(directory / "received.csv", ["program", "subject_id", "person_id", "period", "months"], received)


def _batch(directory: Path) -> dict[tuple[str, str], str]:
    facts, _ = load_directory(directory)
    out: dict[tuple[str, str], str] = {}
    for o in run(facts, ON, PARAMS):
        if o.program in (JOB, SI):
            ids = o.ctx.t["id"].values
            out.update({(o.program.id, str(ids[i])): NAMES[int(o.status[i])] for i in o.rows})
    return out


def test_batch_files_equal_single_cases(tmp_path: Path) -> None:
    docs = [_case(k, VARIANTS[k % len(VARIANTS)][0]) for k in range(40)]  # (80 hires, 120 persons)
    _write(tmp_path, docs)
    single: dict[tuple[str, str], str] = {}
    for doc in docs:
        single.update(_single(doc))
    assert _batch(tmp_path) == single
    assert set(single.values()) == {"eligible", "ineligible", "undetermined"}


def test_a_batch_entry_naming_no_one_may_be_anyones(tmp_path: Path) -> None:
    """In a batch file an entry of the job subsidy naming neither a subject nor a person may be
    any hired person's: every hire not already failing on the register is undetermined."""
    docs = [_case(k, {"person_id": "X"}) for k in range(3)] + [_case(3, {"person_id": "E1"})]
    _write(tmp_path, docs, nobody=True)
    got = _batch(tmp_path)
    job = {h: s for (p, h), s in got.items() if p == JOB.id}
    assert job.pop("H3_1") == "ineligible"
    assert set(job.values()) == {"undetermined"}
    assert {s for (p, _), s in got.items() if p == SI.id} == {"eligible", "ineligible"}
