"""Core review (three): each test fails on the code before its fix.

- ``district_known`` is decided per row: a row's parameters left open by an unknown district are its
  own, never another row's (README choice 69; batch = single).
- Job subsidy 「即将符合」: the one-listing-per-person rule comes before dropping a row whose projected
  amount is unknown, so a later hire of the person is never listed instead (choices 11, 33, 59).
- A loan naming a borrower who is not among the persons has an unknown borrower: the waiver's
  honour and 二次创业 grounds do not read the founder's facts (choice 79; 批量输入表).
- A record without a district gives the same result alone and in a batch: an on-the-job training is
  undetermined where a district has values of a parameter it reads (choice 69), a training record
  gets the city standard (choice 38).
- Months already subsidised (social insurance) count once each, on the batch path too (choice 49).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from xiangchuang.batchio import load_directory, match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import ParameterSet, load_parameters

PARAMS = load_parameters()


def _overlay(tmp_path: Path, text: str) -> ParameterSet:
    path = tmp_path / "overlay.yaml"
    path.write_text(text, encoding="utf-8")
    return load_parameters(str(path))


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


# ---- 1. district_known per row ------------------------------------------------------------------

_CARRIER_OVERLAY = """
carrier_rent_reduction.carrier_kinds:
  districts:
    500101:
      - {since: 2021-01-01, value: [incubator, returning_park, guidance_station], paid_by: 区县财政, status: assumed, reference: 测试}
carrier_rent_reduction.default_schedule:
  districts:
    500101:
      - since: 2021-01-01
        paid_by: 区县财政
        status: assumed
        reference: 测试
        value:
          - {year: 1, rent: 10000, property: 10000, utilities: 0}
          - {year: 2, rent: 5000, property: 0, utilities: 0}
          - {year: 3, rent: 3000, property: 0, utilities: 0}
"""


def _tenant(k: int, carrier: dict[str, Any], tenancy_start: str) -> dict[str, Any]:
    return {
        "person": {"id": f"P{k}", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "carrier": {"id": f"C{k}", "kind": "incubator", "level": "district", **carrier},
        "business": {
            "id": f"B{k}",
            "kind": "enterprise",
            "size_class": "small_micro",
            "registration_date": "2021-03-01",
            "status": "normal",
            "founded_by_returning": True,
            "rent_fen": 300000,
            "property_fee_fen": 10000,
            "utilities_fen": 50000,
            "tenancy_start": tenancy_start,
        },
    }


def test_a_row_failing_on_its_own_schedule_stays_ineligible_beside_a_row_open_on_the_default(
    tmp_path: Path,
) -> None:
    """A: its carrier's own schedule gives nothing in tenancy year 3 (no district value changes that:
    it does not read the default schedule). B: no schedule, no district: the default is open. A is
    ineligible alone and beside B, with no district_known rule."""
    params = _overlay(tmp_path, _CARRIER_OVERLAY)
    on = dt.date(2024, 7, 1)
    a = _tenant(1, {"district": 500103, "schedule": "1:100/100/100"}, "2022-01-01")
    b = _tenant(2, {}, "2024-01-01")
    alone = _alone(a, on, params, "carrier_rent_reduction")
    assert alone["status"] == "ineligible"
    together = _together([a, b], on, params, "carrier_rent_reduction")
    assert together["B1"]["status"] == "ineligible"
    assert _cond(together["B1"], "district_known") is None
    assert together["B1"] == alone
    assert together["B2"]["status"] == "undetermined"
    assert together["B2"] == _alone(b, on, params, "carrier_rent_reduction")


_LOAN_OVERLAY = """
loan_individual.ceiling:
  districts:
    500154:
      - {since: 2024-06-01, value: 400000, paid_by: 区县财政, status: assumed, reference: 测试}
loan_small_micro.max_term_months:
  districts:
    500101:
      - {since: 2020-01-01, value: 36, paid_by: 区县财政, status: assumed, reference: 测试}
"""


def test_the_district_known_message_names_only_the_rows_own_parameters(tmp_path: Path) -> None:
    """L0 reads the individual ceiling only; another person's loan of unknown kind cites the small/micro
    term limit. L0's message names the ceiling alone, in a batch as alone."""
    params = _overlay(tmp_path, _LOAN_OVERLAY)
    on = dt.date(2024, 7, 1)
    loan = {"kind": "individual", "contract_date": "2024-06-01", "amount_fen": 10000000, "term_months": 36}
    x = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loans": [{"id": "L0", **loan}],
    }
    y = {
        "person": {"id": "P2", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loans": [{"id": "L1", **loan}, {"id": "L2", "contract_date": "2020-09-01", "amount_fen": 10000000}],
    }
    alone = _alone(x, on, params, "loan_individual")
    together = _together([x, y], on, params, "loan_individual")
    rule = _cond(together["L0"], "district_known")
    assert rule is not None and rule["status"] == "unknown"
    assert "个人创业担保贷款额度上限" in rule["message"]
    assert "小微企业创业担保贷款期限上限" not in rule["message"]
    assert together["L0"] == alone


# ---- 2. job subsidy 「即将符合」: one listing per person before an unknown amount -----------------

_JOB_OVERLAY = """
job_subsidy.amount:
  districts:
    500101:
      - {since: 2020-01-01, value: 7000, paid_by: 区县财政, status: assumed, reference: 测试}
"""


def _job_batch(directory: Path, months: list[str]) -> None:
    _write(directory, "persons", ["id", "groups"], [["E1", "poverty_registered"]])
    _write(
        directory,
        "businesses",
        ["id", "district", "founded_by_returning"],
        [["B1", "", "true"], ["B2", "500103", "true"]],
    )
    _write(
        directory,
        "hires",
        ["id", "business_id", "person_id", "hire_date", "contract"],
        [["H1", "B1", "E1", "2023-06-01", "true"], ["H2", "B2", "E1", "2023-06-10", "true"]],
    )
    _write(
        directory,
        "contributions",
        ["hire_id", "month", "employer_fen"],
        [[h, m, "72000"] for h in ("H1", "H2") for m in months],
    )
    _write(
        directory, "received", ["program", "subject_id", "person_id", "period", "months", "amount_fen"], []
    )


def _job_rows(directory: Path, on: dt.date, params: ParameterSet) -> dict[str, dict[str, Any]]:
    facts, _ = load_directory(directory)
    table = match_rows(run(facts, on, params), include_undetermined=True)
    return {r["subject_id"]: r for r in table.to_pylist() if r["program"] == "job_subsidy"}


def test_a_later_hire_is_not_listed_soon_where_the_persons_first_hire_has_an_unknown_amount(
    tmp_path: Path,
) -> None:
    """E1's two hires both reach 12 months on 2024-06-01. H1 (earlier, district unknown) comes first
    but its amount is unknown where a district has its own amount: it is not listed, and H2 — which
    can never be paid while H1 goes first — is not listed in its place either."""
    params = _overlay(tmp_path, _JOB_OVERLAY)
    months = [f"2023-{m:02d}" for m in range(6, 13)] + [f"2024-{m:02d}" for m in range(1, 5)]
    _job_batch(tmp_path, months)
    # With the city's values only, H1 is the one listed.
    city = _job_rows(tmp_path, dt.date(2024, 5, 15), PARAMS)
    assert {k: r["status"] for k, r in city.items()} == {"H1": "soon"}
    rows = _job_rows(tmp_path, dt.date(2024, 5, 15), params)
    assert all(r["status"] != "soon" for r in rows.values()), rows
    # On that date (the 12th month paid): H1 goes first and is undetermined; H2 is not eligible.
    _job_batch(tmp_path, [*months, "2024-05"])
    later = _job_rows(tmp_path, dt.date(2024, 6, 1), params)
    assert {k: r["status"] for k, r in later.items()} == {"H1": "undetermined"}
    # H2's explanation names H1 as the person's first record, not as 「起符合」 (it will not be).
    _job_batch(tmp_path, months)
    facts, _ = load_directory(tmp_path)
    on = dt.date(2024, 5, 15)
    doc = result_document(run(facts, on, params), params, on)
    h2 = _rows(doc, "job_subsidy")["H2"]
    text = " ".join(str(c.get("message", "")) + str(c.get("distance", "")) for c in h2["conditions"])
    assert "H1将于2024-06-01起满足各项条件（预计金额待定，未列为即将符合）" in text, text


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


# ---- 4. a training record without a district: the same alone and in a batch ---------------------

_TRAINING_OVERLAY = """
training_online.amount:
  districts:
    500235:
      - {since: 2020-08-05, value: 1500, paid_by: 区县财政, status: assumed, reference: 测试}
onjob_training_subsidy.per_trainee:
  districts:
    500235:
      - since: 2020-08-05
        paid_by: 区县财政
        status: assumed
        reference: 测试
        value: {junior: 1200, intermediate: 1500, senior: 2000, special: 800}
"""


def _onjob(k: int, district: int | None) -> dict[str, Any]:
    o: dict[str, Any] = {
        "id": f"O{k}",
        "provider_kind": "business",
        "founded_by_returning": True,
        "course_level": "junior",
        "trainees": 10,
        "skilled_post": True,
        "completion_date": "2024-01-10",
    }
    if district is not None:
        o["district"] = district
    return {"onjob_trainings": [o], "received": []}


def _online(k: int, district: int | None) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": f"T{k}",
        "person_id": f"P{k}",
        "kind": "online",
        "start_date": "2024-01-10",
        "completion_date": "2024-01-20",
    }
    if district is not None:
        t["district"] = district
    person = {
        "id": f"P{k}",
        "returning_entrepreneur": True,
        "startup_intention": True,
        "has_licence": True,
        "licence_date": "2023-09-01",
    }
    return {"person": person, "trainings": [t], "received": []}


def test_a_record_without_a_district_is_the_same_alone_and_in_a_batch(tmp_path: Path) -> None:
    """Where a district raised the standard: an on-the-job training without a district is undetermined
    with the district missing (choice 69), and a training record without one gets the city standard
    (choice 38) — whether or not another row of the table names a district."""
    params = _overlay(tmp_path, _TRAINING_OVERLAY)
    on = dt.date(2024, 3, 15)
    onjob = _alone(_onjob(1, None), on, params, "onjob_training_subsidy")
    assert onjob["status"] == "undetermined", onjob
    assert [m["fact"] for m in onjob["missing"]] == ["district"]
    online = _alone(_online(1, None), on, params, "training_online")
    assert online["status"] == "eligible" and online["amount_fen"] == 130000, online
    for make, program, key, alone in (
        (_onjob, "onjob_training_subsidy", "O1", onjob),
        (_online, "training_online", "T1", online),
    ):
        together = _together([make(1, None), make(2, 500101)], on, params, program)
        assert together[key] == alone
        assert together[key.replace("1", "2")]["status"] == "eligible"  # (500101: the city's standard)


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
