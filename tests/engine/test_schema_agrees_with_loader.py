"""The case schema (``xiangchuang schema case``) and the case loader accept the same documents.

Every single edit of the example case, then seeded random multiple edits — a value replaced by one
of many right and wrong values (text, numbers, floats, booleans, lists, objects, dates, months and
codes in and out of form and range, ids), a key removed, an unknown or a parent's key added — are
given to both. Whatever the loader accepts the schema accepts, and the other way round, except for
what JSON Schema cannot say: that an id is unique, that a reference names a row of the case, that a
hire's ``person_id`` and its ``person`` agree, that a hire's claim period does not end before it
starts (README choice 5), that a number written with a fraction stays within
2^53 (README choices 64, 65), and that a register period written as a year or a month range names
the supported range (README choice 66). And evaluating any edited case gives a result document or a
Chinese ``CaseError``, never another exception.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from collections.abc import Iterator
from importlib import resources
from typing import Any

import jsonschema
import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError, case_to_tables, load_yaml
from xiangchuang.engine.schema import case_schema

VALUES: list[Any] = [
    None, "", "abc", "２０２４", -1, 0, 1, 2**63, 3.5, 202403.0, 100.0, True, False, [], {}, [1, 2],
    {"a": 1}, "2024-02-30", "2024-13", "1899-12-31", "2100-01-01", "2099-12-31", "1900-01-01",
    "500101", 500101, 500101.0, "１", " 2024-03-01", "2024-03-01 ", "2024-03-01T00:00", [None], [{}],
    "-5", "00", "P1", "H1", "B1", "E1", "L1", "2024-03", " 2024-03", 202403, 209913, "2023", 2023,
    "individual", "enterprise", ["veteran"], ["zz"], "normal", 1e20, -0.0, 10**15, 10**15 - 1,
    "job_subsidy", "zz_subsidy", "0500101", "500101 ", 5001010, "5001０1", "110101", 110101, "+500101",
    "2023-09/2024-02", "2023-09至2024-02", "2023", "F", "M", "f", "small_micro", "2024-3", "202403",
    "0", "+1", "1_000", 1.5e3, -1.0, "１２", "true",
]  # fmt: skip
ADDED_KEYS = ["zz", "id", "person_id", "hire_id", "business_id", "year", "district", "groups", "on", "note"]
# What JSON Schema cannot say (a rule across the document, or a float's exactness).
BEYOND_SCHEMA = ("重复", "在案例中不存在", "不一致", "无法精确表示为整数", "止月不早于起月")
# A register entry's period is free text, but one written as a year or a month range must name the
# supported range (README choice 28): left to the loader (a year may be written in any digits).
PERIOD = ".period"
EDITS = 600


def _example() -> dict[str, Any]:
    text = (
        resources.files("xiangchuang.policy").joinpath("examples/returning_founder.yaml").read_text("utf-8")
    )
    doc: dict[str, Any] = json.loads(json.dumps(load_yaml(text), default=str))  # (as JSON gives it)
    return doc


def _paths(x: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _paths(v, (*at, k))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _paths(v, (*at, i))


def _at(x: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        x = x[k]
    return x


def _edited(rng: random.Random, base: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    for _ in range(rng.choice([1, 1, 2])):
        path = rng.choice(list(_paths(doc))[1:])
        parent, key = _at(doc, path[:-1]), path[-1]
        op = rng.random()
        if op < 0.7:
            parent[key] = copy.deepcopy(rng.choice(VALUES))
        elif op < 0.85:
            del parent[key]
        elif isinstance(parent, dict):
            parent[rng.choice(ADDED_KEYS)] = copy.deepcopy(rng.choice(VALUES))
        else:
            parent.append(copy.deepcopy(rng.choice(VALUES)))
    return doc


def _single_edits(base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every single edit: each value at each place, each key removed, each key added to each object."""
    for path in list(_paths(base))[1:]:
        for value in VALUES:
            doc = copy.deepcopy(base)
            _at(doc, path[:-1])[path[-1]] = copy.deepcopy(value)
            yield doc
        doc = copy.deepcopy(base)
        del _at(doc, path[:-1])[path[-1]]
        yield doc
    for path in _paths(base):
        parent = _at(base, path)
        if isinstance(parent, dict):
            for key in ADDED_KEYS:
                if key not in parent:
                    for value in VALUES:
                        doc = copy.deepcopy(base)
                        _at(doc, path)[key] = copy.deepcopy(value)
                        yield doc


def _cases() -> list[dict[str, Any]]:
    """Every single edit of the example (with one contribution month: the others repeat its places),
    then random multiple edits."""
    rng, base = random.Random(20261128), _example()
    base["hires"][0]["contributions"] = base["hires"][0]["contributions"][:1]
    base["received"] = [
        {"program": "training_online", "subject_id": "P1", "period": "2023", "amount_fen": 10000}
    ]
    return [*_single_edits(base), *(_edited(rng, base) for _ in range(EDITS))]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(case_schema(), format_checker=jsonschema.FormatChecker())


def test_the_example_is_valid_to_both(validator: jsonschema.Draft202012Validator) -> None:
    doc = _example()
    assert validator.is_valid(doc)
    case_to_tables(doc)
    base = _cases()[0]  # (the edited cases' base, with a register entry: the first edit replaces a value)
    assert base["received"] and len(base["hires"][0]["contributions"]) == 1


def test_the_schema_and_the_loader_accept_the_same_edited_cases(
    validator: jsonschema.Draft202012Validator,
) -> None:
    loader_only: list[str] = []
    schema_only: list[str] = []
    accepted = refused = 0
    for doc in _cases():
        try:
            case_to_tables(doc)
        except CaseError as exc:
            refused += 1
            beyond = any(rule in exc.rule for rule in BEYOND_SCHEMA) or exc.field.endswith(PERIOD)
            if validator.is_valid(doc) and not beyond:
                schema_only.append(str(exc))
            continue
        accepted += 1
        errors = list(validator.iter_errors(doc))
        if errors:
            e = errors[0]
            loader_only.append(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:120]}")
    assert not loader_only, loader_only[:10]
    assert not schema_only, schema_only[:10]
    assert accepted > EDITS // 10 and refused > EDITS // 10  # (the edits try both sides)


def test_an_edited_case_evaluates_or_gets_a_chinese_case_error() -> None:
    for doc in _cases()[::20]:
        try:
            evaluate(doc, dt.date(2024, 3, 20))
        except CaseError as exc:
            assert not exc.rule.isascii(), str(exc)
