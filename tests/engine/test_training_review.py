"""Training programs (2.4): each kind at most once per person among the trainings evaluated together,
messages without dates made from an unknown licence date, the SYB amount message, and which SYB rows
have an amount that depends on an unknown fact.

The rule ``once_per_kind`` is checked against a row-by-row reference on random tables (one case, a
batch of cases, a large table), and a batch read from files against its single cases.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from xiangchuang.batchio import load_directory
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.assemble import Facts, assemble
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.evaluate import run, run_program
from xiangchuang.engine.facts import FACTS, Col, Table
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.program import Ctx
from xiangchuang.engine.programs import BY_ID
from xiangchuang.engine.programs.training import syb_registered
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN

PARAMS = load_parameters()
ON = dt.date(2024, 6, 1)
KINDS = ("syb", "online", "iyb")
PROGRAMS = tuple(BY_ID[f"training_{k}"] for k in KINDS)
STATE = {"fail": FAIL, "unknown": UNKNOWN, "pass": PASS}


# ---- the reference: one row at a time ----------------------------------------------------------


def reference(rows: list[dict[str, Any]], on: dt.date) -> list[int]:
    """Per row, one pair of trainings at a time: FAIL where another training of the same person and
    kind that surely counts (completed by ``on``, start known and not after the completion, and
    meeting its own stage condition — ``stage``: the row's ``early_stage`` / ``established`` state)
    surely comes first; else UNKNOWN where another that may count (its stage condition or, the start
    unknown, its completion unknown) may come first; else PASS. Order: completion, then start,
    then row; an unknown start may be any start; a training not completed by ``on`` comes after
    every completed one."""
    lo_inf, hi_inf = dt.date.min, dt.date.max
    far = (dt.date.max, dt.date.max, len(rows))
    info = []
    for i, r in enumerate(rows):
        s, c = r.get("start_date"), r.get("completion_date")
        placed = r.get("person") is not None and r.get("kind") is not None and c is not None and c <= on
        placed = placed and (s is None or s <= c)
        if not placed:
            info.append((int(FAIL), far, far))
            continue
        done = PASS if s is not None else UNKNOWN
        counts = min(int(done), int(r["stage"]))
        lo = (c, s if s is not None else lo_inf, i if s is not None else -1)
        hi = (c, s if s is not None else hi_inf, i if s is not None else len(rows))
        info.append((counts, lo, hi))
    groups: dict[tuple[Any, Any], list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault((r.get("person"), r.get("kind")), []).append(i)
    out = []
    for i, r in enumerate(rows):
        state = int(PASS)
        if r.get("person") is not None:
            for j in groups[(r["person"], r.get("kind"))]:
                if j == i:
                    continue
                counts, lo, _ = info[j]
                if counts == PASS and lo < info[i][1]:
                    state = int(FAIL)
                    break
                if counts != FAIL and lo < info[i][2]:
                    state = int(UNKNOWN)
        out.append(state)
    return out


def _stage_states(outcomes: list[Any]) -> list[int]:
    """Per training row, the state of its own stage condition (from the program of its kind)."""
    by_kind = {o.program.id.removeprefix("training_"): o for o in outcomes}
    kinds = FACTS["trainings"]["kind"].choices
    t = outcomes[0].ctx.t
    out = []
    for i in range(t.n):
        kind = kinds[int(t["kind"].values[i])]
        o = by_kind[kind]
        out.append(int(o.conds["established" if kind == "iyb" else "early_stage"].state[i]))
    return out


DAYS = [dt.date(2024, 1, 5), dt.date(2024, 1, 20), dt.date(2024, 3, 1), dt.date(2024, 5, 31), ON]
LATER = [dt.date(2024, 6, 2), dt.date(2024, 7, 1)]


def _random_case(rng: np.random.Generator, person: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A case (one person, up to 6 trainings with many ties) and its rows for the reference."""
    trainings, rows = [], []
    for _ in range(int(rng.integers(0, 7))):
        kind = KINDS[int(rng.integers(0, 3))]
        start = DAYS[int(rng.integers(0, len(DAYS)))] if rng.random() > 0.1 else None
        pool = DAYS + LATER
        comp = pool[int(rng.integers(0, len(pool)))] if rng.random() > 0.2 else None
        unknown_person = rng.random() < 0.1
        t: dict[str, Any] = {"kind": kind}
        if start is not None:
            t["start_date"] = start.isoformat()
        if comp is not None:
            t["completion_date"] = comp.isoformat()
        if unknown_person:
            t["person_id"] = None
        trainings.append(t)
        rows.append(
            {
                "person": None if unknown_person else person,
                "kind": kind,
                "start_date": start,
                "completion_date": comp,
            }
        )
    who: dict[str, Any] = {"id": person, "returning_entrepreneur": True}
    for fact, values in (
        ("startup_intention", (True, False, None)),
        ("has_licence", (False, True, True, None)),
        ("licence_date", (*(d.isoformat() for d in DAYS[:4]), None)),
    ):
        v = values[int(rng.integers(0, len(values)))]
        if v is not None:
            who[fact] = v
    case = {
        "person": who,
        "trainings": trainings,
        "received": [],
    }
    return case, rows


def _once_states(outcomes: list[Any]) -> list[int]:
    """The once_per_kind state of every training row, from the program of the row's kind."""
    by_kind = {o.program.id.removeprefix("training_"): o for o in outcomes}
    kinds = FACTS["trainings"]["kind"].choices
    t = outcomes[0].ctx.t
    out = []
    for i in range(t.n):
        o = by_kind[kinds[int(t["kind"].values[i])]]
        out.append(int(o.conds["once_per_kind"].state[i]))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_once_per_kind_matches_the_reference_in_a_case_and_in_a_batch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    made = [_random_case(rng, f"P{k}") for k in range(40)]
    expected_all: list[int] = []
    for case, rows in made:
        if not rows:
            continue
        # The single case: the same rule, and the explanation agrees with the state.
        outcomes = run(case_to_tables(case), ON, PARAMS, programs=PROGRAMS)
        for r, stage in zip(rows, _stage_states(outcomes), strict=True):
            r["stage"] = stage
        expected = reference(rows, ON)
        expected_all += expected
        assert _once_states(outcomes) == expected, (case, expected)
        doc = evaluate(case, ON, PARAMS)
        by_id = {(r["program"], r["subject"]["id"]): r for r in doc["programs"]}
        for i, r in enumerate(rows):
            got = by_id[(f"training_{r['kind']}", f"T{i + 1}")]
            cond = next(c for c in got["conditions"] if c["id"] == "once_per_kind")
            assert STATE[cond["status"]] == expected[i]
            if expected[i] == FAIL:
                assert "每类培训每人限享受一次" in cond["message"]
                assert re.search(r"（T\d+，\d{4}-\d\d-\d\d结业）", cond["message"]), cond["message"]
    # The batch (more than 64 rows: the column paths) gives the same states row for row.
    batch = combine([case_to_tables(c) for c, _ in made])
    assert batch.tables["trainings"].n > 64
    got = _once_states(run(batch, ON, PARAMS, programs=PROGRAMS))
    wrong = [i for i, (a, b) in enumerate(zip(got, expected_all, strict=True)) if a != b]
    assert not wrong, f"rows {wrong[:5]} differ"
    assert {int(FAIL), int(UNKNOWN), int(PASS)} <= set(expected_all)  # every outcome is exercised


def test_once_per_kind_on_a_large_table() -> None:
    """200,000 trainings of 40,000 persons: the column code against the reference."""
    rng = np.random.default_rng(7)
    n, n_persons = 200_000, 40_000
    base = to_day(dt.date(2023, 1, 1))
    person = rng.integers(0, n_persons, n)
    person_known = rng.random(n) > 0.02
    kind = rng.integers(0, 3, n).astype(np.int32)
    start = (base + rng.integers(0, 500, n)).astype(np.int32)
    comp = (start + rng.integers(-3, 60, n)).astype(np.int32)
    comp_known = rng.random(n) > 0.1
    persons = Table("persons", n_persons)
    persons["id"] = Col(
        np.asarray([f"P{k}" for k in range(n_persons)], dtype=object), np.ones(n_persons, bool)
    )
    # Person facts that make the trainings' own stage conditions pass, fail or stay unknown.
    everyone = np.ones(n_persons, dtype=bool)
    persons["returning_entrepreneur"] = Col(everyone.copy(), everyone.copy())
    persons["startup_intention"] = Col(rng.random(n_persons) < 0.3, rng.random(n_persons) > 0.05)
    persons["has_licence"] = Col(rng.random(n_persons) < 0.7, rng.random(n_persons) > 0.05)
    persons["licence_date"] = Col(
        (base - 200 + rng.integers(0, 700, n_persons)).astype(np.int32), rng.random(n_persons) > 0.05
    )
    trainings = Table("trainings", n)
    ones = np.ones(n, dtype=bool)
    trainings["id"] = Col(np.asarray([f"T{k}" for k in range(n)], dtype=object), ones)
    trainings["person_id"] = Col(person.astype(np.int64), person_known)  # unknown: any value
    trainings["kind"] = Col(kind, ones)
    start_known = rng.random(n) > 0.05  # (unknown: the training may or may not be completed)
    trainings["start_date"] = Col(start, start_known)
    trainings["completion_date"] = Col(comp, comp_known)
    facts = Facts({"persons": persons, "trainings": trainings})
    on = to_day(dt.date(2024, 3, 1))
    assemble(facts, on)
    got = np.full(n, -1, dtype=np.int64)
    stage = np.full(n, -1, dtype=np.int64)
    for k, prog in zip(KINDS, PROGRAMS, strict=True):
        out = run_program(prog, facts, on, PARAMS)
        mine = kind == FACTS["trainings"]["kind"].choices.index(k)
        got[mine] = out.conds["once_per_kind"].state[mine]
        stage[mine] = out.conds["established" if k == "iyb" else "early_stage"].state[mine]
    day0 = dt.date(1970, 1, 1)
    rows = [
        {
            "person": int(person[i]) if person_known[i] else None,
            "kind": int(kind[i]),
            "start_date": day0 + dt.timedelta(days=int(start[i])) if start_known[i] else None,
            "completion_date": day0 + dt.timedelta(days=int(comp[i])) if comp_known[i] else None,
            "stage": int(stage[i]),
        }
        for i in range(n)
    ]
    wrong = np.flatnonzero(got != np.asarray(reference(rows, dt.date(2024, 3, 1))))
    assert wrong.size == 0, f"{wrong.size} rows differ, e.g. {wrong[:5].tolist()}"
    assert (got == FAIL).sum() > 10_000  # the rule decides something here
    assert (got == UNKNOWN).sum() > 1_000
    assert (stage == FAIL).sum() > 10_000  # trainings failing their own stage condition block nothing


def test_one_training_passes_and_unknown_person_is_unaffected() -> None:
    case = {
        "person": {
            "id": "P1",
            "returning_entrepreneur": True,
            "startup_intention": True,
            "has_licence": False,
        },
        "trainings": [
            {
                "id": "T1",
                "kind": "syb",
                "person_id": None,
                "start_date": "2024-01-06",
                "completion_date": "2024-01-17",
            },
            {"id": "T2", "kind": "syb", "start_date": "2024-05-06", "completion_date": "2024-05-17"},
        ],
        "received": [],
    }
    doc = evaluate(case, ON, PARAMS)
    rows = {r["subject"]["id"]: r for r in doc["programs"] if r["program"] == "training_syb"}
    assert rows["T2"]["status"] == "eligible" and rows["T2"]["amount_fen"] == 50000
    assert rows["T1"]["status"] == "undetermined"
    assert {c["id"]: c["status"] for c in rows["T1"]["conditions"]}["once_per_kind"] == "pass"
    one = evaluate({**case, "trainings": case["trainings"][1:]}, ON, PARAMS)
    (row,) = [r for r in one["programs"] if r["program"] == "training_syb"]
    assert row["status"] == "eligible"


# ---- a batch read from files equals its single cases ------------------------------------------


def _csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_batch_files_equal_single_cases(tmp_path: Path) -> None:
    """The same trainings as files (``xiangchuang match``) and as one case per person (``check``)."""
    people = {
        "P1": [("syb", "2024-01-06", "2024-01-17"), ("syb", "2024-05-06", "2024-05-17"), ("online", "2024-02-06", "2024-02-17"), ("online", "2024-03-06", "2024-03-17")],
        "P2": [("syb", "2024-03-01", "2024-03-10"), ("syb", "2024-02-20", "2024-03-10"), ("syb", "2024-01-02", None)],
        "P3": [("syb", "2024-05-20", "2024-06-20"), ("syb", "2024-04-01", "2024-04-12"), ("iyb", "2024-04-01", "2024-04-12")],
        "P4": [("online", "2024-03-01", "2024-03-10"), ("online", "2024-03-01", "2024-03-10")],
    }  # fmt: skip
    _csv(
        tmp_path / "persons.csv",
        ["id", "returning_entrepreneur", "startup_intention", "has_licence"],
        [[p, "true", "true", "false"] for p in people],
    )
    rows, k = [], 0
    for p, ts in people.items():
        for kind, s, c in ts:
            k += 1
            rows.append([f"T{k}", p, kind, s, c])
    _csv(tmp_path / "trainings.csv", ["id", "person_id", "kind", "start_date", "completion_date"], rows)
    _csv(tmp_path / "received.csv", ["program", "subject_id", "period", "amount_fen"], [])
    facts, _ = load_directory(tmp_path)
    assemble(facts, to_day(ON))
    batch: dict[tuple[str, str], tuple[str, int]] = {}
    names = {0: "ineligible", 1: "undetermined", 2: "eligible"}
    for prog in PROGRAMS:
        o = run_program(prog, facts, to_day(ON), PARAMS, details=False)
        ids = o.ctx.t["id"].values
        for i in o.rows:
            batch[(prog.id, str(ids[i]))] = (names[int(o.status[i])], int(o.amount[i]))
    single: dict[tuple[str, str], tuple[str, int]] = {}
    k = 0
    for p, ts in people.items():
        trainings = []
        for kind, s, c in ts:
            k += 1
            trainings.append(
                {"id": f"T{k}", "kind": kind, "start_date": s, **({"completion_date": c} if c else {})}
            )
        case = {
            "person": {
                "id": p,
                "returning_entrepreneur": True,
                "startup_intention": True,
                "has_licence": False,
            },
            "trainings": trainings,
            "received": [],
        }
        for r in json.loads(json.dumps(evaluate(case, ON, PARAMS)))["programs"]:
            if r["program"].startswith("training_"):
                single[(r["program"], r["subject"]["id"])] = (r["status"], r["amount_fen"] or 0)
    assert batch == single
    eligible = sorted(key for key, (status, _) in single.items() if status == "eligible")
    assert eligible == [
        ("training_online", "T11"),
        ("training_online", "T3"),
        ("training_syb", "T1"),
        ("training_syb", "T6"),
        ("training_syb", "T9"),
    ]


# ---- messages from an unknown or absent licence -------------------------------------------------


def _training_texts(doc: dict[str, Any]) -> list[str]:
    out = []
    for r in doc["programs"]:
        if r["program"].startswith("training_"):
            out.append(r["amount_rule"])
            for c in r["conditions"]:
                out.append(c["message"])
                out.append(c.get("distance", ""))
                if c["id"] in ("early_stage", "established"):
                    assert "passes_on" not in c, c
    return out


@pytest.mark.parametrize(
    ("has", "lic", "intent"),
    list(
        itertools.product(
            [True, False, None], [None, "2020-01-10", "2023-06-01", "2024-05-20"], [True, False, None]
        )
    ),
)
def test_licence_messages_never_quote_a_fill_date(
    has: bool | None, lic: str | None, intent: bool | None
) -> None:
    person: dict[str, Any] = {"id": "P1", "returning_entrepreneur": True}
    for key, value in (("has_licence", has), ("licence_date", lic), ("startup_intention", intent)):
        if value is not None:
            person[key] = value
    case = {
        "person": person,
        "trainings": [
            {"id": f"T{k + 1}", "kind": kind, "start_date": "2024-05-06", "completion_date": "2024-05-17"}
            for k, kind in enumerate(KINDS)
        ],
        "received": [],
    }
    doc = evaluate(case, ON, PARAMS)
    for text in _training_texts(doc):
        assert not re.search(r"19[67]\d-", text), text
        assert "还差-" not in text, text
        assert "{" not in text, text
    conds = {
        (r["program"], c["id"]): c
        for r in doc["programs"]
        for c in r["conditions"]
        if r["program"].startswith("training_")
    }
    iyb = conds[("training_iyb", "established")]
    if has is False:
        assert iyb["status"] == "fail"
        assert iyb["message"] == "未取得营业执照，不属于IYB培训对象（须取得营业执照满1年）"
        assert iyb["distance"] == "须先取得营业执照，并满1年"
    elif iyb["status"] == "fail":
        assert lic is not None and "起可参加IYB" in iyb["message"] and "还差" in iyb["distance"]
    syb = conds[("training_syb", "early_stage")]
    if syb["status"] == "fail":
        if has is False:
            assert syb["message"] == "未取得营业执照且无创业意愿，不属于准备创业或创业初期人员"
        else:
            assert lic is not None
            assert f"（{lic}取得）" in syb["message"] or "起应参加IYB培训" in syb["message"]


def test_the_exact_messages_with_a_known_licence() -> None:
    case = {
        "person": {"id": "P1", "returning_entrepreneur": True, "startup_intention": True, "has_licence": True, "licence_date": "2023-05-10"},
        "trainings": [
            {"id": "T1", "kind": "iyb", "start_date": "2024-05-09", "completion_date": "2024-05-19"},
            {"id": "T2", "kind": "online", "start_date": "2024-05-11", "completion_date": "2024-05-21"},
        ],
        "received": [],
    }  # fmt: skip
    doc = evaluate(case, ON, PARAMS)
    conds = {(r["program"], c["id"]): c for r in doc["programs"] for c in r["conditions"]}
    iyb = conds[("training_iyb", "established")]
    assert iyb["message"] == "培训开始时取得营业执照未满1年（2024-05-10起可参加IYB）"
    assert iyb["distance"] == "培训开始日距取得营业执照满1年还差1天"
    online = conds[("training_online", "early_stage")]
    assert online["message"] == "培训开始时取得营业执照已超过1年（2024-05-10起应参加IYB培训）"


# ---- the SYB amount ---------------------------------------------------------------------------


def _syb(case: dict[str, Any], on: dt.date = ON) -> dict[str, Any]:
    (row,) = [r for r in evaluate(case, on, PARAMS)["programs"] if r["program"] == "training_syb"]
    return row


def test_syb_amount_message() -> None:
    person = {"id": "P1", "returning_entrepreneur": True, "startup_intention": True, "has_licence": False}
    case = {
        "person": person,
        "trainings": [
            {"id": "T1", "kind": "syb", "start_date": "2024-01-06", "completion_date": "2024-01-17"}
        ],
        "received": [],
    }
    row = _syb(case)
    assert row["amount_rule"] == "每人¥1,000.00；结业后6个月内（2024-07-17及以前）未登记经营主体的按50%支付"
    assert row["amount_info"] == {"full_fen": 100000, "deadline_date": to_day(dt.date(2024, 7, 17))}
    unknown = {**case, "trainings": [{"id": "T1", "kind": "syb", "start_date": "2024-01-06"}]}
    assert _syb(unknown)["amount_rule"] == "每人¥1,000.00；结业后6个月内未登记经营主体的按50%支付"


def _registered(person: dict[str, Any]) -> int:
    case = {
        "person": {"id": "P1", "returning_entrepreneur": True, "startup_intention": True, **person},
        "trainings": [
            {"id": "T1", "kind": "syb", "start_date": "2024-05-06", "completion_date": "2024-05-17"}
        ],
        "received": [],
    }
    facts = case_to_tables(case)
    assemble(facts, to_day(dt.date(2024, 9, 1)))
    ctx = Ctx(PARAMS, facts.tables["trainings"], to_day(dt.date(2024, 9, 1)), tables=facts.tables)
    return int(syb_registered(ctx)[0])


def test_syb_registration_is_unknown_when_has_licence_is_unknown() -> None:
    """The full amount needs a licence by the deadline (2024-11-17). A known licence date with an
    unknown has_licence is not taken as a licence (as in early_stage): registration is unknown,
    and that row's amount depends on the unknown has_licence (see syb_amount)."""
    assert _registered({"has_licence": True, "licence_date": "2024-06-01"}) == PASS
    assert _registered({"has_licence": True, "licence_date": "2024-11-17"}) == PASS
    assert _registered({"has_licence": True, "licence_date": "2024-11-18"}) == FAIL
    assert _registered({"has_licence": False}) == FAIL
    assert _registered({"licence_date": "2024-11-18"}) == FAIL
    assert _registered({"licence_date": "2024-06-01"}) == UNKNOWN
    assert _registered({"has_licence": True}) == UNKNOWN


# ---- the SYB top-up under a district's raised standard -----------------------------------------

_RAISED = """
training_syb.amount:
  districts:
    500101:
      - {since: 2023-01-01, value: 1200, paid_by: 区县财政, status: assumed, reference: 测试}
"""
_RAISED_SHARE = """
training_syb.no_business_share:
  districts:
    500101:
      - {since: 2023-01-01, value: "0.6", paid_by: 区县财政, status: assumed, reference: 测试}
"""


def _funding(case: dict[str, Any], on: dt.date, params: Any) -> tuple[int, int, int]:
    """The SYB row's amount and its city and district parts (fen)."""
    (row,) = [r for r in evaluate(case, on, params)["programs"] if r["program"] == "training_syb"]
    parts = {f["source"]: f["amount_fen"] for f in row["funding"]}
    return row["amount_fen"], parts.get("市级及以上资金", 0), parts.get("区县财政", 0)


def _syb_case(has_licence: bool, received_fen: int | None) -> dict[str, Any]:
    person: dict[str, Any] = {"id": "P1", "returning_entrepreneur": True, "startup_intention": True}
    person |= {"has_licence": True, "licence_date": "2024-07-31"} if has_licence else {"has_licence": False}
    received = (
        []
        if received_fen is None
        else [{"program": "training_syb", "subject_id": "P1", "amount_fen": received_fen}]
    )
    return {
        "person": person,
        "trainings": [
            {
                "id": "T1",
                "kind": "syb",
                "start_date": "2024-01-20",
                "completion_date": "2024-01-31",
                "district": 500101,
            }
        ],
        "received": received,
    }


@pytest.mark.parametrize(
    ("overlays", "first", "top_up"),
    [
        # ¥1,200 in the district (city ¥1,000), 50% first: the city pays ¥500 + ¥500, the district ¥100 + ¥100.
        ((_RAISED,), (60000, 50000, 10000), (60000, 50000, 10000)),
        # The district's share raised too (60%): its first part (¥220) already exceeds its raised
        # part over both grants (¥200); the top-up is the city's (never a negative district part).
        ((_RAISED, _RAISED_SHARE), (72000, 50000, 22000), (48000, 48000, 0)),
    ],
)
def test_syb_top_up_charges_the_district_only_its_raised_part(
    tmp_path: Path, overlays: tuple[str, ...], first: tuple[int, int, int], top_up: tuple[int, int, int]
) -> None:
    paths = []
    for k, text in enumerate(overlays):
        path = tmp_path / f"o{k}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    params = load_parameters(*paths)
    assert _funding(_syb_case(False, None), dt.date(2024, 3, 1), params) == first
    assert _funding(_syb_case(True, first[0]), dt.date(2024, 9, 1), params) == top_up
    # A first grant at the city's standard (paid before the district raised it): the city has paid
    # its ¥500 of the reduced share, the district pays the whole raised part in the top-up.
    if len(overlays) == 1:
        assert _funding(_syb_case(True, 50000), dt.date(2024, 9, 1), params) == (70000, 50000, 20000)
    # A batch (the same top-up beside a training held elsewhere) gives the same district part.
    elsewhere = _syb_case(True, first[0])
    elsewhere["person"]["id"] = "P2"
    elsewhere["received"][0]["subject_id"] = "P2"
    elsewhere["trainings"][0] |= {"id": "T2", "district": 500102}
    facts = combine([case_to_tables(_syb_case(True, first[0])), case_to_tables(elsewhere)])
    assemble(facts, to_day(dt.date(2024, 9, 1)))
    out = run_program(BY_ID["training_syb"], facts, to_day(dt.date(2024, 9, 1)), params)
    assert out.amount.tolist() == [top_up[0], 100000 - first[0]]  # (elsewhere: the city standard)
    assert out.district_part.tolist() == [top_up[2], 0]
