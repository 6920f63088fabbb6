"""The social-insurance subsidy pays a month once within one evaluation too (``months_claimed_once``).

Several hire records of one person evaluated together (one case, a batch of cases, a batch read
from files) are each compared with the months the earlier records claim (hire date, then row):

- against a row-by-row reference in Kleene logic (random cases with ties, missing hire dates,
  contracts, contributions and birth dates, register entries and written claim periods), on single
  cases and on their batch;
- against what the register makes of it: approving the records one at a time in that order (each
  evaluated alone, its claimed months then registered) pays exactly the records, and the amounts,
  that the evaluation of them together finds eligible;
- a batch read from files explains each record word for word as its business's own case does.

The 36-month limit counts the months of the earlier records of the same evaluation too (README
choice 63): the same sequential-approval equivalence (with registers and claim periods long enough
for the limit to bite), and batches against single cases, word for word, facts missing included.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.synth_cases import check_cases_then_batch, month_list, write_csv
from xiangchuang.batchio import load_directory
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.dates import from_day, month_index_scalar, month_label, to_day
from xiangchuang.engine.evaluate import run, run_program
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BY_ID
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN

PARAMS = load_parameters()
ON = dt.date(2024, 5, 15)  # default claim period 2023-11 .. 2024-04
ON_MONTH = month_index_scalar(ON)
SI = BY_ID["social_insurance_subsidy"]
NAMES = {0: "ineligible", 1: "undetermined", 2: "eligible"}
COND = "months_claimed_once"

HIRE_DATES = [
    "2023-01-10",
    "2023-08-10",
    "2023-08-10",
    "2023-10-01",
    "2023-12-01",
    "2024-01-20",
    "2024-02-01",
]
SPANS = [
    ("2023-01", "2023-12"),
    ("2023-08", "2024-04"),
    ("2023-10", "2024-04"),
    ("2023-12", "2024-02"),
    ("2024-01", "2024-02"),
    ("2024-02", "2024-04"),
]


def _name_person(
    hire: dict[str, Any],
    who: str,
    declared: set[str],
    rng: np.random.Generator,
    *,
    complete: bool,
    undated: float,
    older: float,
) -> None:
    """The hired person: by ``person_id`` once declared, else declared here (a key-group man, his
    birth date missing with chance ``undated`` unless ``complete``, born 1966 with chance ``older``)."""
    if who in declared:
        hire["person_id"] = who
        return
    declared.add(who)
    person: dict[str, Any] = {"id": who, "groups": ["poverty_registered"], "gender": "M"}
    if complete or rng.random() > undated:
        person["birth_date"] = "1985-04-01" if rng.random() > older else "1966-03-01"
    hire["person"] = person


def _random_case(rng: np.random.Generator, k: int, *, complete: bool = False) -> dict[str, Any]:
    """One business, up to 5 hires of up to 3 persons; unless ``complete``, some facts missing."""
    persons = [f"C{k}E{p}" for p in range(int(rng.integers(1, 4)))]
    declared: set[str] = set()
    hires = []
    for j in range(int(rng.integers(1, 6))):
        who = persons[int(rng.integers(0, len(persons)))]
        hire: dict[str, Any] = {"id": f"C{k}H{j}", "contract": True}
        hired = HIRE_DATES[int(rng.integers(0, len(HIRE_DATES)))]
        if complete or rng.random() > 0.1:
            hire["hire_date"] = hired
        if not complete:
            u = rng.random()
            if u < 0.1:
                hire["contract"] = False
            elif u < 0.2:
                del hire["contract"]
        first, last = SPANS[int(rng.integers(0, len(SPANS)))]
        first = max(first, hired[:7])
        if complete or rng.random() > 0.05:
            hire["contributions"] = [{"month": m, "employer_fen": 72_000} for m in month_list(first, last)]
            if not complete and hire["contributions"] and rng.random() < 0.08:
                del hire["contributions"][-1]["employer_fen"]  # an amount not given
        if rng.random() < 0.15:
            hire["si_period_start"], hire["si_period_end"] = "2024-01", "2024-04"
        if not complete and rng.random() < 0.05:
            pass  # no person
        else:
            _name_person(hire, who, declared, rng, complete=complete, undated=0.1, older=0.2)
        hires.append(hire)
    received = []
    if declared and rng.random() < 0.3:
        period = ["2023-06/2023-10", "2024-03/2024-03", "2022"][
            int(rng.integers(0, 3 if not complete else 2))
        ]
        received.append(
            {"program": "social_insurance_subsidy", "person_id": sorted(declared)[0], "period": period}
        )
    return {
        "business": {"id": f"C{k}B", "district": 500101, "founded_by_returning": True},
        "hires": hires,
        "received": received,
    }


def reference(rows: list[dict[str, Any]]) -> list[int]:
    """Per hire, ``months_claimed_once`` record by record: FAIL where an overlapping record of the
    same person surely comes first and surely gets its months, UNKNOWN where one may, else PASS. A
    record gets its months where it meets every other condition and this one (recursively); the
    order is unknown where either hire date is. ``rows``: person (None: not given), hire day (None),
    the other conditions' combined state, the months compared (window) and the months claimed."""
    memo: dict[int, int] = {}

    def meets(a: tuple[int, int], b: tuple[int, int]) -> bool:
        return a[0] <= a[1] and b[0] <= b[1] and a[0] <= b[1] and a[1] >= b[0]

    def state(i: int) -> int:
        if i in memo:
            return memo[i]
        r = rows[i]
        out = int(PASS)
        for j, e in enumerate(rows):
            if j == i or r["person"] is None or e["person"] != r["person"]:
                continue
            if e["others"] == FAIL or not meets(e["claimed"], r["window"]):
                continue
            if r["day"] is None or e["day"] is None:
                out = min(out, int(UNKNOWN))
            elif (e["day"], j) < (r["day"], i):
                out = min(out, 2 - min(e["others"], state(j)))
        memo[i] = out
        return out

    return [state(i) for i in range(len(rows))]


def _check_against_reference(facts: Any) -> set[int]:
    o = run_program(SI, facts, to_day(ON), PARAMS)
    t = o.ctx.t
    others = np.full(t.n, PASS, dtype=np.int8)
    for c in SI.conditions:
        if c.id != COND:
            others = np.minimum(others, o.conds[c.id].state)
    person, hd, start, end = t["person_id"], t["hire_date"], t["si_period_start"], t["si_period_end"]
    info = o.amount_out.info
    first_claimed = info["claimed_first_month"].make()  # type: ignore[union-attr]
    last_claimed = info["claimed_last_month"].make()  # type: ignore[union-attr]
    rows = []
    for i in range(t.n):
        s = int(start.values[i]) if start.known[i] else ON_MONTH - 6
        e = int(end.values[i]) if end.known[i] else ON_MONTH - 1
        dated = bool(hd.known[i])
        lo = max(s, month_index_scalar(from_day(int(hd.values[i])))) if dated else s
        window = (lo, min(e, ON_MONTH))
        exact = dated and bool(t["si_run_months"].known[i])
        claimed = (int(first_claimed[i]), int(last_claimed[i])) if exact else window
        rows.append(
            {
                "person": int(person.values[i]) if person.known[i] and person.values[i] >= 0 else None,
                "day": int(hd.values[i]) if dated else None,
                "others": int(others[i]),
                "window": window,
                "claimed": claimed,
            }
        )
    got = o.conds[COND].state.tolist()
    assert got == reference(rows)
    return set(got)


@pytest.mark.parametrize("seed", range(6))
def test_matches_the_reference_on_cases_and_batches(seed: int) -> None:
    rng = np.random.default_rng(seed)
    docs = [_random_case(rng, k) for k in range(40)]
    check_cases_then_batch(docs, ON, _check_against_reference)
    # The batch gives each case's own results (only records of one person are compared).
    outcome = run(combine([case_to_tables(d) for d in docs]), ON, PARAMS, programs=(SI,))[0]
    ids = outcome.ctx.t["id"].values
    got = {str(ids[i]): (NAMES[int(outcome.status[i])], int(outcome.amount[i])) for i in outcome.rows}
    for doc in docs:
        for r in evaluate(doc, ON, PARAMS)["programs"]:
            if r["program"] == SI.id:
                assert got[r["subject"]["id"]] == (r["status"], r["amount_fen"] or 0), r["subject"]["id"]


def _alone(doc: dict[str, Any], hire: dict[str, Any], received: list[dict[str, Any]]) -> dict[str, Any]:
    """The SI result of one hire evaluated as a case of its own, with ``received`` as the register."""
    person = next(h["person"] for h in doc["hires"] if "person" in h and h["person"]["id"] == _who(hire))
    alone = {k: v for k, v in hire.items() if k != "person_id"}
    alone["person"] = person
    case = {"business": doc["business"], "hires": [alone], "received": doc["received"] + received}
    return next(r for r in evaluate(case, ON, PARAMS)["programs"] if r["program"] == SI.id)


def _who(hire: dict[str, Any]) -> str:
    return str(hire["person"]["id"] if "person" in hire else hire["person_id"])


def _one_at_a_time(doc: dict[str, Any]) -> dict[str, tuple[str, int | None]]:
    """Per hire, the SI status and amount when the hires are evaluated alone in hire order (hire
    date, then row), each approval registered with the months it claimed (``claimed_first_month``
    .. ``claimed_last_month``, ``claim_months``) before the next is evaluated."""
    order = sorted(range(len(doc["hires"])), key=lambda j: (doc["hires"][j]["hire_date"], j))
    approved: list[dict[str, Any]] = []
    one_by_one = {}
    for j in order:
        hire = doc["hires"][j]
        row = _alone(doc, hire, approved)
        one_by_one[hire["id"]] = (row["status"], row["amount_fen"])
        if row["status"] == "eligible":
            info = row["amount_info"]
            period = f"{month_label(info['claimed_first_month'])}/{month_label(info['claimed_last_month'])}"
            approved.append(
                {"program": SI.id, "person_id": _who(hire), "period": period, "months": info["claim_months"]}
            )
    return one_by_one


@pytest.mark.parametrize("seed", range(4))
def test_together_equals_approving_one_at_a_time(seed: int) -> None:
    """With every fact known: the records found eligible together are exactly those approved when
    each is evaluated alone in hire order (hire date, then row) and every approval is registered
    with the months it claimed (``claimed_first_month`` .. ``claimed_last_month``)."""
    rng = np.random.default_rng(100 + seed)
    overlapping = 0
    for k in range(25):
        doc = _random_case(rng, k, complete=True)
        together = {
            r["subject"]["id"]: (r["status"], r["amount_fen"])
            for r in evaluate(doc, ON, PARAMS)["programs"]
            if r["program"] == SI.id
        }
        assert together == _one_at_a_time(doc), k
        overlapping += sum(
            1
            for r in evaluate(doc, ON, PARAMS)["programs"]
            if r["program"] == SI.id
            for c in r["conditions"]
            if c["id"] == COND and c["status"] == "fail"
        )
    assert overlapping  # (the random cases do overlap)


# ---- a batch read from files explains each record as its case does ------------------------------


def _write_batch(tmp_path: Path, docs: list[dict[str, Any]]) -> None:
    persons, businesses, hires, contributions, received = [], [], [], [], []
    for doc in docs:
        businesses.append([doc["business"]["id"], "500101", "true"])
        for h in doc["hires"]:
            if "person" in h:
                p = h["person"]
                persons.append([p["id"], "|".join(p["groups"]), p.get("birth_date"), p["gender"]])
            hires.append(
                [
                    h["id"],
                    doc["business"]["id"],
                    _who(h),
                    h.get("hire_date"),
                    h.get("contract"),
                    h.get("si_period_start"),
                    h.get("si_period_end"),
                ]
            )
            contributions += [[h["id"], c["month"], c.get("employer_fen")] for c in h["contributions"]]
        for r in doc["received"]:
            received.append([r["program"], r["person_id"], r.get("period"), r.get("months")])
    write_csv(tmp_path / "persons.csv", ["id", "groups", "birth_date", "gender"], persons)
    write_csv(tmp_path / "businesses.csv", ["id", "district", "founded_by_returning"], businesses)
    write_csv(
        tmp_path / "hires.csv",
        ["id", "business_id", "person_id", "hire_date", "contract", "si_period_start", "si_period_end"],
        hires,
    )
    write_csv(tmp_path / "contributions.csv", ["hire_id", "month", "employer_fen"], contributions)
    write_csv(tmp_path / "received.csv", ["program", "person_id", "period", "months"], received)


def test_a_batch_explains_each_record_as_its_case(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    docs = []
    for k in range(30):
        doc = _random_case(rng, k, complete=True)
        if rng.random() < 0.3:
            del doc["hires"][0]["hire_date"]  # (the order open: undetermined)
        docs.append(doc)
    _write_batch(tmp_path, docs)
    facts, _ = load_directory(tmp_path)
    outcome = run(facts, ON, PARAMS, programs=(SI,))[0]
    ids = outcome.ctx.t["id"].values
    ex = Explainer(PARAMS)
    seen = set()
    for doc in docs:
        for row in evaluate(doc, ON, PARAMS)["programs"]:
            if row["program"] != SI.id:
                continue
            batch = ex.program(outcome, int(np.flatnonzero(ids == row["subject"]["id"])[0]))
            assert batch == row, row["subject"]["id"]
            cond = next(c for c in row["conditions"] if c["id"] == COND)
            seen.add(cond["status"])
            if cond["status"] == "fail":
                assert "该人员更早的招用记录" in cond["message"] and "起申领" in cond["distance"]
    assert seen == {"pass", "fail", "unknown"}


# ---- the limit counts the months earlier records of the evaluation claim (README choice 63) --------

LIMIT_HIRE_DATES = ["2022-03-01", "2023-01-10", "2023-06-01", "2023-11-01", "2024-01-02", "2024-02-15"]
LIMIT_SPANS = [
    ("2022-03", "2023-10"),
    ("2023-01", "2024-04"),
    ("2023-06", "2023-12"),
    ("2023-11", "2024-01"),
    ("2024-01", "2024-02"),
    ("2024-02", "2024-04"),
]


def _random_limit_case(rng: np.random.Generator, k: int, *, complete: bool = False) -> dict[str, Any]:
    """One business, 2 to 4 hires of one or two persons, most with months registered before (20 to
    35, in a range before any claim) and some with claim periods of up to 26 months, so that the
    months of a person's records reach the limit together; near retirement (a longer limit) for some
    persons. Unless ``complete``: some hire dates, contracts, birth dates and amounts missing."""
    persons = [f"L{k}E{p}" for p in range(int(rng.integers(1, 3)))]
    declared: set[str] = set()
    hires = []
    for j in range(int(rng.integers(2, 5))):
        who = persons[0] if rng.random() < 0.8 else persons[-1]
        hired = LIMIT_HIRE_DATES[int(rng.integers(0, len(LIMIT_HIRE_DATES)))]
        hire: dict[str, Any] = {"id": f"L{k}H{j}", "contract": bool(rng.random() > 0.15)}
        if complete or rng.random() > 0.15:
            hire["hire_date"] = hired
        if not complete and rng.random() < 0.1:
            del hire["contract"]
        first, last = LIMIT_SPANS[int(rng.integers(0, len(LIMIT_SPANS)))]
        first = max(first, hired[:7])
        fen = 70_000 + 1_000 * j
        hire["contributions"] = [
            {"month": m, "employer_fen": fen + i} for i, m in enumerate(month_list(first, last))
        ]
        if not complete and hire["contributions"] and rng.random() < 0.08:
            del hire["contributions"][0]["employer_fen"]  # an amount not given
        if rng.random() < 0.4:
            hire["si_period_start"] = ["2022-03", "2023-01", "2023-06"][int(rng.integers(0, 3))]
            hire["si_period_end"] = "2024-04"
        _name_person(hire, who, declared, rng, complete=complete, undated=0.15, older=0.25)
        hires.append(hire)
    received = [
        {"program": SI.id, "person_id": who, "period": "2018-01/2020-12", "months": int(rng.integers(20, 36))}
        for who in sorted(declared)
        if rng.random() < 0.75
    ]
    return {
        "business": {"id": f"L{k}B", "district": 500101, "founded_by_returning": True},
        "hires": hires,
        "received": received,
    }


def _limit_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in evaluate(doc, ON, PARAMS)["programs"] if r["program"] == SI.id]


def _months_left(row: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in row["conditions"] if c["id"] == "months_left")


@pytest.mark.parametrize("seed", range(4))
def test_limit_together_equals_approving_one_at_a_time(seed: int) -> None:
    """The records found eligible together, and their amounts (claims cut to the months left), are
    exactly those of approving them one at a time, each approval registering its months."""
    rng = np.random.default_rng(300 + seed)
    cut = none_left = 0
    for k in range(30):
        doc = _random_limit_case(rng, k, complete=True)
        rows = _limit_rows(doc)
        together = {r["subject"]["id"]: (r["status"], r["amount_fen"]) for r in rows}
        assert together == _one_at_a_time(doc), k
        for r in rows:
            left = _months_left(r)
            if "在本次评估中申领" in left["message"]:
                if left["status"] == "fail":
                    none_left += 1
                elif r["status"] == "eligible":
                    cut += 1
    assert cut and none_left  # (the random cases do reach the limit together)


@pytest.mark.parametrize("seed", range(3))
def test_limit_batch_explains_each_record_as_its_case(seed: int, tmp_path: Path) -> None:
    """A batch of cases (tables combined, and the same read from files) explains each hire record
    word for word as its business's own case does, missing facts and undetermined records included."""
    rng = np.random.default_rng(400 + seed)
    docs = [_random_limit_case(rng, k) for k in range(40)]
    combined = run(combine([case_to_tables(d) for d in docs]), ON, PARAMS, programs=(SI,))[0]
    _write_batch(tmp_path, docs)
    from_files = run(load_directory(tmp_path)[0], ON, PARAMS, programs=(SI,))[0]
    ex = Explainer(PARAMS)
    seen = set()
    for doc in docs:
        for row in _limit_rows(doc):
            for outcome in (combined, from_files):
                ids = outcome.ctx.t["id"].values
                got = ex.program(outcome, int(np.flatnonzero(ids == row["subject"]["id"])[0]))
                assert got == row, row["subject"]["id"]
            left = _months_left(row)
            if "在本次评估中申领" in left["message"]:
                seen.add(left["status"])
    assert seen == {"pass", "fail", "unknown"}
