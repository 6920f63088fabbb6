"""`match` (the batch over files) and `check` (one case) give the same status and amount.

Businesses of a small synthetic set are turned into case documents (founder, business with its
years, hires with their persons and monthly contributions, the register of what was received) and
evaluated one by one; the batch over the same files must agree for every business-level and
hire-level program. Only subjects whose facts a case can hold completely are compared: a founder
with one business, and hired persons hired only once in the whole set.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from tests.synth_cases import clean, contributions_and_years
from xiangchuang import synth
from xiangchuang.cli import app
from xiangchuang.engine.api import evaluate

ON = dt.date(2026, 1, 20)
PROGRAMS = ("startup_subsidy", "online_sales_subsidy", "job_subsidy", "social_insurance_subsidy")


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[dict[str, Any]]], dict[Any, Any]]:
    d = tmp_path_factory.mktemp("synth")
    tables = synth.generate(400, seed=11)
    synth.write(tables, d / "in", "csv")
    out = d / "out.csv"
    res = CliRunner().invoke(
        app, ["match", str(d / "in"), "--on", ON.isoformat(), "-o", str(out), "--include-undetermined"]
    )
    assert res.exit_code == 0, res.output
    rows = {name: t.to_pylist() for name, t in tables.items()}
    got = {
        (r["program"], r["subject_id"]): (r["status"], r["amount_fen"])
        for r in pacsv.read_csv(out).to_pylist()
    }
    return rows, got


def _cases(rows: dict[str, list[dict[str, Any]]]) -> list[tuple[str, dict[str, Any], list[str]]]:
    persons = {p["id"]: p for p in rows["persons"]}
    founded = Counter(b["founder_id"] for b in rows["businesses"])
    hired = Counter(h["person_id"] for h in rows["hires"])
    contributions, years = contributions_and_years(rows)
    hires: dict[str, list[dict[str, Any]]] = {}
    for h in rows["hires"]:
        hires.setdefault(h["business_id"], []).append(h)
    out = []
    for b in rows["businesses"]:
        founder = b["founder_id"]
        bh = hires.get(b["id"], [])
        if (
            founded[founder] != 1
            or hired[founder]
            or b["carrier_id"] is not None
            or any(hired[h["person_id"]] != 1 or h["person_id"] in founded for h in bh)
        ):
            continue
        people = {founder} | {h["person_id"] for h in bh}
        subjects = {b["id"]} | people
        case: dict[str, Any] = {
            "person": clean(persons[founder], "persons"),
            "business": clean(b, "businesses", ("founder_id", "carrier_id")),
            "hires": [],
            "received": [
                clean(r, "received")
                for r in rows["received"]
                if r["subject_id"] in subjects or r["person_id"] in people
            ],
        }
        case["person"]["other_loans"] = [
            clean(o, "other_loans", ("person_id",)) for o in rows["other_loans"] if o["person_id"] == founder
        ]
        case["business"]["years"] = years.get(b["id"], {})
        for h in bh:
            hm = clean(h, "hires", ("business_id", "person_id"))
            hm["person"] = clean(persons[h["person_id"]], "persons")
            hm["contributions"] = contributions.get(h["id"], [])
            case["hires"].append(hm)
        out.append((b["id"], case, [h["id"] for h in bh]))
    return out


def test_match_rows_equal_check_results(
    batch: tuple[dict[str, list[dict[str, Any]]], dict[Any, Any]],
) -> None:
    rows, got = batch
    cases = _cases(rows)
    assert len(cases) > 100
    compared = Counter()
    for _bid, case, _hire_ids in cases:
        doc = evaluate(case, ON)
        for p in doc["programs"]:
            if p["program"] not in PROGRAMS:
                continue
            key = (p["program"], p["subject"]["id"])
            if p["status"] == "eligible":
                want: tuple[str, int] | None = ("eligible", p["amount_fen"])
            elif p.get("soon"):
                want = ("soon", got.get(key, ("soon", None))[1])  # (soon rows carry a prospective amount)
            elif p["status"] == "undetermined":
                want = ("undetermined", got.get(key, ("undetermined", None))[1])
            else:
                want = None
            assert got.get(key) == want, (key, p["status"], p["amount_fen"], got.get(key))
            compared[p["status"]] += 1
    assert compared["eligible"] > 20 and compared["ineligible"] > 20
