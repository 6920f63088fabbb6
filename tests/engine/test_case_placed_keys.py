"""Keys a case row takes from where it is written (README choice 65).

A nested row (a person's other loan, a business year, a hire's contribution) belongs to its parent:
the key naming the parent is left out of the case schema, and written anyway it is refused, naming
the field — before, the loader silently replaced it with the parent's. A hire may name its person
both by ``person_id`` and by a nested ``person``: they must agree (the same id, or a person without
an id, which then takes ``person_id``); two different ids are refused rather than one dropped.
Each rule holds on the one-case fast path and on the general path alike.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from contextlib import nullcontext
from importlib import resources
from typing import Any

import jsonschema
import pytest

from tests.engine.test_case_fast import general_paths
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError, case_to_tables, load_yaml
from xiangchuang.engine.schema import case_schema

ON = dt.date(2024, 3, 20)


def _example() -> dict[str, Any]:
    text = (
        resources.files("xiangchuang.policy").joinpath("examples/returning_founder.yaml").read_text("utf-8")
    )
    doc: dict[str, Any] = load_yaml(text)
    return doc


def _with(edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(_example())
    edit(doc)
    return doc


def _contribution_hire_id(doc: dict[str, Any]) -> None:
    doc["hires"][0]["contributions"][0]["hire_id"] = doc["hires"][0].get("id", "H1")


def _year_business_id(doc: dict[str, Any]) -> None:
    year = next(iter(doc["business"]["years"]))
    doc["business"]["years"][year]["business_id"] = doc["business"]["id"]


def _year_year(doc: dict[str, Any]) -> None:
    year = next(iter(doc["business"]["years"]))
    doc["business"]["years"][year]["year"] = int(year)


def _other_loan_person_id(doc: dict[str, Any]) -> None:
    doc["person"]["other_loans"] = [
        {"kind": "housing", "amount_fen": 100_000_00, "person_id": doc["person"]["id"]}
    ]


PLACED = [
    pytest.param(
        _contribution_hire_id, "hires[0].contributions[0].hire_id", "所在的招用记录", id="contribution"
    ),
    pytest.param(_year_business_id, ".business_id", "所在的经营主体与年度键", id="year-business"),
    pytest.param(_year_year, ".year", "所在的经营主体与年度键", id="year-year"),
    pytest.param(_other_loan_person_id, "person.other_loans[0].person_id", "所在的人员", id="other-loan"),
]


def test_the_example_has_what_the_edits_need() -> None:
    doc = _example()
    assert doc["hires"][0]["contributions"] and doc["business"]["years"] and "person" in doc["hires"][0]
    case_to_tables(doc)  # (valid as it is)


@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize(("edit", "field", "parent"), PLACED)
def test_a_key_the_position_sets_is_refused_naming_it(
    edit: Any, field: str, parent: str, general: bool
) -> None:
    doc = _with(edit)
    with general_paths() if general else nullcontext(), pytest.raises(CaseError) as err:
        case_to_tables(doc)
    assert err.value.field.endswith(field)
    assert f"由{parent}决定，不能另写" in str(err.value)


@pytest.mark.parametrize(("edit", "field", "parent"), PLACED)
def test_the_schema_refuses_the_same_keys(edit: Any, field: str, parent: str) -> None:
    validator = jsonschema.Draft202012Validator(case_schema())
    assert validator.is_valid(_json(_example()))
    assert not validator.is_valid(_json(_with(edit)))


def _json(doc: dict[str, Any]) -> Any:
    """The document as JSON gives it (dates as text)."""
    return json.loads(json.dumps(doc, default=str))


def _hire_names(person_id: Any, person_id_of_person: Any) -> dict[str, Any]:
    def edit(doc: dict[str, Any]) -> None:
        hire = doc["hires"][0]
        hire["person_id"] = person_id
        if person_id_of_person is None:
            hire["person"].pop("id", None)
        else:
            hire["person"]["id"] = person_id_of_person

    return _with(edit)


@pytest.mark.parametrize("general", [False, True])
def test_a_hire_naming_two_different_persons_is_refused(general: bool) -> None:
    doc = _hire_names("W9", "W1")
    with general_paths() if general else nullcontext(), pytest.raises(CaseError) as err:
        case_to_tables(doc)
    assert err.value.field == "hires[0].person_id"
    assert "W9" in str(err.value) and "W1" in str(err.value) and "不一致" in str(err.value)


@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize(("named", "own"), [("W1", "W1"), ("W1", None), (7, "7"), (7.0, None)])
def test_a_hire_naming_its_person_both_ways_alike_is_that_person(named: Any, own: Any, general: bool) -> None:
    plain = _hire_names("W1" if named == "W1" else "7", None)
    del plain["hires"][0]["person_id"]
    plain["hires"][0]["person"]["id"] = "W1" if named == "W1" else "7"
    with general_paths() if general else nullcontext():
        facts = case_to_tables(_hire_names(named, own))
        person_ids = facts.tables["persons"]["id"].values.tolist()
        assert person_ids == case_to_tables(plain).tables["persons"]["id"].values.tolist()
        assert ("W1" if named == "W1" else "7") in person_ids
    assert evaluate(_hire_names(named, own), ON) == evaluate(plain, ON)
