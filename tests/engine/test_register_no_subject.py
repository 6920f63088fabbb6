"""Register entries of a batch that name no subject (README choice 16, as for the job subsidy)."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

from tests.synth_cases import write_csv
from xiangchuang.batchio import load_directory, match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.evaluate import Outcome, run
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == program)


def _rows(outcomes: list[Outcome], program: str) -> dict[str, dict[str, Any]]:
    rows = match_rows(outcomes, include_undetermined=True).to_pylist()
    return {r["subject_id"]: r for r in rows if r["program"] == program}


def _register_batch(directory: Path, subject: str | None) -> None:
    directory.mkdir()
    write_csv(
        directory / "persons.csv",
        ["id", "groups", "returning_entrepreneur", "first_business"],
        [["P1", "returning_migrant_worker", "true", "true"], ["P2", "college_graduate", "true", "true"]],
    )
    write_csv(
        directory / "businesses.csv",
        ["id", "district", "kind", "registration_date", "status", "founded_by_returning", "founder_id"],
        [
            ["B1", 500101, "enterprise", "2021-01-05", "normal", "true", "P1"],
            ["B2", 500101, "enterprise", "2021-01-05", "normal", "true", "P2"],
        ],
    )
    write_csv(
        directory / "business_years.csv",
        [
            "business_id",
            "year",
            "online_revenue_fen",
            "online_orders",
            "courier_fees_fen",
            "employer_si_paid_fen",
        ],
        [["B1", 2023, 60_000_000, 10, 100, 1_000_000], ["B2", 2023, 60_000_000, 10, 100, 1_000_000]],
    )
    write_csv(
        directory / "received.csv",
        ["program", "subject_id", "person_id", "period", "months", "amount_fen", "district"],
        [
            ["online_sales_subsidy", subject, None, "2022", None, 2_000_000, None],
            ["startup_subsidy", subject, None, "2023", None, None, None],
        ],
    )


def test_a_batch_register_entry_naming_no_subject_may_be_any_businesss(tmp_path: Path) -> None:
    """An entry naming no subject leaves every business's 'already received' unknown (as the job
    subsidy's, README choice 16): never paid again as if the register were empty."""
    on = dt.date(2024, 3, 1)
    _register_batch(tmp_path / "anon", None)
    facts, _ = load_directory(tmp_path / "anon")
    outcomes = run(facts, on, PARAMS)
    for program in ("online_sales_subsidy", "startup_subsidy"):
        rows = _rows(outcomes, program)
        assert {b: r["status"] for b, r in rows.items()} == {"B1": "undetermined", "B2": "undetermined"}
    # Naming B1: B1 fails as its own case does (the case names no subject: the case's business);
    # B2 is eligible.
    _register_batch(tmp_path / "named", "B1")
    facts, _ = load_directory(tmp_path / "named")
    outcomes = run(facts, on, PARAMS)
    case = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "business": {
            "id": "B1",
            "district": 500101,
            "kind": "enterprise",
            "registration_date": "2021-01-05",
            "status": "normal",
            "founded_by_returning": True,
            "years": {
                2023: {
                    "online_revenue_fen": 60_000_000,
                    "online_orders": 10,
                    "courier_fees_fen": 100,
                    "employer_si_paid_fen": 1_000_000,
                }
            },
        },
        "received": [
            {"program": "online_sales_subsidy", "period": "2022", "amount_fen": 2_000_000},
            {"program": "startup_subsidy", "period": "2023"},
        ],
    }
    single = evaluate(copy.deepcopy(case), on, PARAMS)
    for program in ("online_sales_subsidy", "startup_subsidy"):
        assert _program(single, program)["status"] == "ineligible"
        rows = _rows(outcomes, program)
        assert "B1" not in rows
        assert rows["B2"]["status"] == "eligible"
