"""Worked cases (src/xiangchuang/policy/cases/*.yaml): every expected value computed by hand from
PROVISIONS.md and the parameter files, checked against the engine.

Each file is a YAML list of cases::

    - name: 创业补助 — 正好满1年当天符合
      on: 2022-03-10
      case: {...case document...}
      expect:
        startup_subsidy:            # program id → one expectation, or a list (one per subject)
          subject: B1               # optional: the subject id (required when several rows)
          status: eligible
          amount_fen: 246913
          conditions: {operated_one_year: pass}
          missing: [registration_date]      # exactly these facts in "missing"
          soon: true
          eligible_from: 2022-03-10
          distance_contains: "还差1天"        # substring of a condition's distance or message
          rule_contains: "计金额未知"         # substring (or list of them) of the amount rule
          passes_on: {operated_one_year: 2022-03-10}   # a failed condition's 「X起满足」 date (null: none)
          alternatives: {revenue: 1, orders: 2}
          satisfied_by: [small_new_individual]
          absent: true              # the program must not appear at all
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections import Counter
from importlib import resources
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine, load_yaml
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import PROGRAM_IDS

KEYS = {
    "subject",
    "status",
    "amount_fen",
    "conditions",
    "missing",
    "soon",
    "eligible_from",
    "distance_contains",
    "rule_contains",
    "passes_on",
    "alternatives",
    "satisfied_by",
    "absent",
}


def _load_cases() -> list[dict[str, Any]]:
    root = resources.files("xiangchuang.policy").joinpath("cases")
    cases: list[dict[str, Any]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        doc = load_yaml(entry.read_text(encoding="utf-8")) or []
        assert isinstance(doc, list), f"{entry.name}: 须为案例列表"
        for i, case in enumerate(doc):
            assert isinstance(case, dict), f"{entry.name}[{i}]: 案例须为映射"
            case = dict(case)
            case["_file"] = entry.name
            cases.append(case)
    return cases


CASES = _load_cases()
PARAMS = load_parameters()


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _describe(row: dict[str, Any]) -> str:
    lines = [
        f"  {row['program']}[{row['subject']['id']}]: status={row['status']} amount_fen={row['amount_fen']}"
        f" missing={[m['fact'] for m in row.get('missing', [])]}"
        f" soon={row.get('soon', False)} eligible_from={row.get('eligible_from')}"
    ]
    for c in row["conditions"]:
        extra = f" 〔{c['distance']}〕" if c.get("distance") else ""
        lines.append(f"    - {c['id']}: {c['status']} — {c['message']}{extra}")
    return "\n".join(lines)


def _check_row(program: str, exp: dict[str, Any], row: dict[str, Any]) -> list[str]:
    errors: list[str] = []
    where = f"{program}[{row['subject']['id']}]"

    def differ(key: str, expected: Any, got: Any) -> None:
        if expected != got:
            errors.append(f"{where}.{key}: expected {expected!r}, got {got!r}")

    if "status" in exp:
        differ("status", exp["status"], row["status"])
    if "amount_fen" in exp:
        differ("amount_fen", exp["amount_fen"], row["amount_fen"])
    conds = {c["id"]: c for c in row["conditions"]}
    for cid, state in (exp.get("conditions") or {}).items():
        if cid not in conds:
            errors.append(f"{where}.conditions.{cid}: no such condition (have {sorted(conds)})")
        else:
            differ(f"conditions.{cid}", state, conds[cid]["status"])
    if "missing" in exp:
        differ("missing", sorted(exp["missing"]), sorted(m["fact"] for m in row.get("missing", [])))
    if "soon" in exp:
        differ("soon", bool(exp["soon"]), bool(row.get("soon", False)))
    if "eligible_from" in exp:
        differ("eligible_from", _date(exp["eligible_from"]).isoformat(), row.get("eligible_from"))
    if "distance_contains" in exp:
        wanted = exp["distance_contains"]
        texts = [c.get("distance") or "" for c in row["conditions"]] + [
            c["message"] for c in row["conditions"]
        ]
        for w in [wanted] if isinstance(wanted, str) else wanted:
            if not any(w in t for t in texts):
                errors.append(
                    f"{where}.distance_contains: {w!r} not found in any condition's distance/message"
                )
    if "rule_contains" in exp:  # substrings of the program's amount rule (``amount_rule``)
        wanted = exp["rule_contains"]
        for w in [wanted] if isinstance(wanted, str) else wanted:
            if w not in (row.get("amount_rule") or ""):
                errors.append(
                    f"{where}.rule_contains: {w!r} not in the amount rule {row.get('amount_rule')!r}"
                )
    for cid, when in (exp.get("passes_on") or {}).items():
        if cid in conds:
            want = None if when is None else _date(when).isoformat()
            differ(f"conditions.{cid}.passes_on", want, conds[cid].get("passes_on"))
        else:
            errors.append(f"{where}.passes_on.{cid}: no such condition (have {sorted(conds)})")
    if "alternatives" in exp:
        got = row.get("alternatives") or {}
        differ("alternatives", dict(exp["alternatives"]), {k: got.get(k) for k in exp["alternatives"]})
    if "satisfied_by" in exp:
        differ(
            "satisfied_by",
            sorted(exp["satisfied_by"]),
            sorted((row.get("any_of") or {}).get("satisfied_by", [])),
        )
    return errors


def _check_program(program: str, spec: Any, rows: list[dict[str, Any]]) -> list[str]:
    specs = spec if isinstance(spec, list) else [spec]
    errors: list[str] = []
    for n, exp in enumerate(specs):
        unknown = set(exp) - KEYS
        if unknown:
            errors.append(f"{program}: unknown expectation keys {sorted(unknown)}")
            continue
        if exp.get("absent"):
            if rows:
                errors.append(f"{program}: expected absent (not applicable), got {len(rows)} row(s)")
            continue
        if "subject" in exp:
            chosen = [r for r in rows if r["subject"]["id"] == str(exp["subject"])]
            if len(chosen) != 1:
                have = [r["subject"]["id"] for r in rows]
                errors.append(f"{program}: expected one row for subject {exp['subject']!r}, have {have}")
                continue
            row = chosen[0]
        elif isinstance(spec, list):
            if n >= len(rows):
                errors.append(f"{program}: expected at least {n + 1} row(s), got {len(rows)}")
                continue
            row = rows[n]
        else:
            if len(rows) != 1:
                errors.append(f"{program}: expected exactly one row, got {len(rows)} (name a subject)")
                continue
            row = rows[0]
        errors.extend(_check_row(program, exp, row))
    return errors


@pytest.mark.parametrize("worked", CASES, ids=[str(c.get("name")) for c in CASES])
def test_worked_case(worked: dict[str, Any]) -> None:
    doc = evaluate(worked["case"], _date(worked["on"]))
    errors: list[str] = []
    shown: list[str] = []
    for program, spec in worked["expect"].items():
        assert program in PROGRAM_IDS, f"{worked['_file']}: unknown program id {program!r}"
        rows = [r for r in doc["programs"] if r["program"] == program]
        errs = _check_program(program, spec, rows)
        if errs:
            errors.extend(errs)
            shown.extend(_describe(r) for r in rows)
    assert not errors, (
        f"{worked['_file']} — {worked['name']} (on {worked['on']})\n"
        + "\n".join(errors)
        + "\n engine result:\n"
        + "\n".join(shown)
    )


def test_case_catalogue() -> None:
    assert len(CASES) >= 80, f"only {len(CASES)} worked cases"
    names = Counter(str(c.get("name")) for c in CASES)
    dupes = [n for n, k in names.items() if k > 1]
    assert not dupes, f"duplicate case names: {dupes}"
    for c in CASES:
        assert {"name", "on", "case", "expect"} <= set(c), f"{c.get('_file')}: {c.get('name')} lacks a key"
    per_program = Counter(p for c in CASES for p in c["expect"])
    thin = {p: per_program.get(p, 0) for p in PROGRAM_IDS if per_program.get(p, 0) < 2}
    assert not thin, f"programs with fewer than 2 worked cases: {thin}"


def test_every_worked_case_evaluates_before_any_parameter_is_in_force() -> None:
    """A date before the notice (2010, 2019): list and table parameters without a value in force
    (exempt loan kinds, high-cap districts, the default rent schedule) count as empty — no crash —
    and the explanation cites them as without a value at that date."""
    cited_without_value = set()
    for worked in CASES:
        for on in (dt.date(2010, 1, 1), dt.date(2019, 6, 1)):
            doc = evaluate(worked["case"], on)
            assert doc["on"] == on.isoformat()
            for row in doc["programs"]:
                for p in row["parameters"]:
                    if p["value"] is None:
                        assert p["display"] == "该日期无有效参数"
                        cited_without_value.add(p["name"])
    assert {"loan.exempt_loan_kinds", "carrier_rent_reduction.default_schedule"} <= cited_without_value


def _prefixed(value: Any, k: int) -> Any:
    """A case with every id (``id``, ``*_id``) prefixed by ``K<k>Z``: cases combined into one batch
    share no subject."""
    if isinstance(value, dict):
        return {
            key: (
                f"K{k}Z{v}"
                if isinstance(key, str)
                and (key == "id" or key.endswith("_id"))
                and isinstance(v, str | int)
                and not isinstance(v, bool)
                else _prefixed(v, k)
            )
            for key, v in value.items()
        }
    if isinstance(value, list):
        return [_prefixed(v, k) for v in value]
    return value


def test_worked_cases_of_one_date_in_one_batch_are_explained_as_each_alone() -> None:
    """Every worked case of one date (and with or without a register) in one batch: each program's
    document, parameters cited and pending included, equals the case's own, word for word. (The
    registry differential leaves out loans; a loan program citing the other kind's term limit only
    in a batch went unseen there.)"""
    by_date: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for worked in CASES:
        by_date.setdefault((str(worked["on"]), "received" in worked["case"]), []).append(worked)
    compared = 0
    errors: list[str] = []
    for (on, _), group in sorted(by_date.items()):
        day = _date(on)
        singles = [evaluate(copy.deepcopy(w["case"]), day, PARAMS) for w in group]
        facts = combine([case_to_tables(_prefixed(copy.deepcopy(w["case"]), k)) for k, w in enumerate(group)])
        outs = run(facts, day, PARAMS)
        text = json.dumps(result_document(outs, PARAMS, day)["programs"], ensure_ascii=False)
        batch = json.loads(re.sub(r"K\d+Z", "", text))
        expected = [
            (w["name"], row)
            for o in outs
            for w, s in zip(group, singles, strict=True)
            for row in s["programs"]
            if row["program"] == o.program.id
        ]
        assert len(expected) == len(batch), f"{on}: {len(expected)} rows alone, {len(batch)} in the batch"
        for (name, alone), together in zip(expected, batch, strict=True):
            compared += 1
            if alone != together:
                keys = sorted(k for k in set(alone) | set(together) if alone.get(k) != together.get(k))
                errors.append(f"{on} {alone['program']} — {name}: differs in {keys}")
    assert compared > 400
    assert not errors, "\n".join(errors)
