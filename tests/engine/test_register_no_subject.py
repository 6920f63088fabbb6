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
from xiangchuang.engine.explain import Explainer
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


def _named_and_anonymous_batch(directory: Path) -> None:
    """B1 with its own entries, plus one entry of each program naming no subject."""
    _register_batch(directory, "B1")
    write_csv(
        directory / "received.csv",
        ["program", "subject_id", "person_id", "period", "months", "amount_fen", "district"],
        [
            ["online_sales_subsidy", "B1", None, "2022", None, 2_000_000, None],
            ["online_sales_subsidy", None, None, "2022", None, 2_000_000, None],
            # Three years named for B1 (the maximum), none of them the claim year 2023.
            ["startup_subsidy", "B1", None, "2020", None, None, None],
            ["startup_subsidy", "B1", None, "2021", None, None, None],
            ["startup_subsidy", "B1", None, "2022", None, None, None],
            ["startup_subsidy", None, None, "2019", None, None, None],
            ["workshop_award", "B1", None, "build", None, 10_000_000, None],
            ["workshop_award", "B1", None, "2022", None, 2_000_000, None],
            ["workshop_award", None, None, "build", None, 10_000_000, None],
        ],
    )


def test_an_entry_naming_the_business_still_fails_beside_one_naming_no_subject(tmp_path: Path) -> None:
    """README choice 16: an entry naming the business is enough to fail, whatever an entry naming no
    one leaves open; B1 in the batch is as its own case (which holds every entry as its own), and
    B2 is undetermined (the anonymous entries may be its)."""
    on = dt.date(2024, 3, 1)
    _named_and_anonymous_batch(tmp_path / "both")
    facts, _ = load_directory(tmp_path / "both")
    outcomes = run(facts, on, PARAMS)
    by_program = {o.program.id: o for o in outcomes}
    expected = {
        "online_sales_subsidy": {"not_received_before": "fail"},
        "startup_subsidy": {"within_max_years": "fail", "year_not_claimed": "unknown"},
    }
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
            {"program": "online_sales_subsidy", "period": "2022", "amount_fen": 2_000_000},
            *({"program": "startup_subsidy", "period": str(y)} for y in (2019, 2020, 2021, 2022)),
        ],
    }
    single = evaluate(copy.deepcopy(case), on, PARAMS)
    explainer = Explainer(PARAMS)
    for program, conditions in expected.items():
        o = by_program[program]
        doc = explainer.program(o, list(o.ctx.t["id"].values).index("B1"))
        assert doc["status"] == "ineligible", program
        got = {c["id"]: c["status"] for c in doc["conditions"] if c["id"] in conditions}
        assert got == conditions, program
        if program == "startup_subsidy":  # (the entry naming no one may be a 4th year: a least)
            years = next(c["message"] for c in doc["conditions"] if c["id"] == "within_max_years")
            assert years == "已享受至少3个年度，达到最长3年的上限"
        # Every condition the batch decides for B1 is decided the same way in B1's own case.
        own = {c["id"]: c["status"] for c in _program(single, program)["conditions"]}
        for c, state in got.items():
            assert state == "unknown" or own[c] == state, (program, c)
        assert _program(single, program)["status"] == "ineligible"
        rows = _rows(outcomes, program)
        assert "B1" not in rows  # ineligible
        assert rows["B2"]["status"] == "undetermined"
    # The workshop's construction part: named for B1 (known received), open for B2.
    built = by_program["startup_subsidy"].ctx.t["workshop_build_received"]
    assert built.known.tolist() == [True, False]
    assert built.values.tolist()[0] == 1
    claimed = by_program["startup_subsidy"].ctx.t["workshop_claimed_this_year"]
    assert claimed.known.tolist() == [False, False]  # 2023 may be the anonymous entries' year


def _award_batch(directory: Path, subjects: list[str | None]) -> None:
    directory.mkdir()
    write_csv(
        directory / "carriers.csv",
        ["id", "kind", "level", "district", "municipal_date", "award_year", "rating"],
        [
            ["C1", "returning_park", "municipal", 500235, "2021-06-01", 2023, "B"],
            ["C2", "returning_park", "municipal", 500235, "2021-06-01", 2023, "B"],
        ],
    )
    write_csv(
        directory / "received.csv",
        ["program", "subject_id", "person_id", "period", "months", "amount_fen", "district"],
        [["carrier_award", s, None, "oneoff", None, 60_000_000, None] for s in subjects],
    )


def _award_states(outcomes: list[Outcome]) -> dict[str, tuple[str, dict[str, str]]]:
    o = next(o for o in outcomes if o.program.id == "carrier_award")
    explainer = Explainer(PARAMS)
    out = {}
    for i, cid in enumerate(o.ctx.t["id"].values.tolist()):
        doc = explainer.program(o, i)
        out[str(cid)] = (doc["status"], {c["id"]: c["status"] for c in doc["conditions"]})
    return out


def test_a_carrier_award_entry_naming_no_carrier_may_be_any_carriers(tmp_path: Path) -> None:
    """README choice 16: a carrier-award one-off naming no carrier may be any carrier's, so no
    carrier's one-off is paid as if the register were empty; one naming the carrier still fails."""
    on = dt.date(2024, 3, 1)
    _award_batch(tmp_path / "anon", [None])
    facts, _ = load_directory(tmp_path / "anon")
    states = _award_states(run(facts, on, PARAMS))
    for cid in ("C1", "C2"):
        status, conditions = states[cid]
        assert status == "undetermined"
        assert conditions["oneoff"] == "unknown"
        assert conditions["register_clear"] == "unknown"
    _award_batch(tmp_path / "both", ["C1", None])
    facts, _ = load_directory(tmp_path / "both")
    states = _award_states(run(facts, on, PARAMS))
    assert states["C1"][1]["oneoff"] == "fail"
    assert states["C2"][1]["oneoff"] == "unknown"
    assert states["C2"][0] == "undetermined"
