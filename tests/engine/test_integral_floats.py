"""An integer in a case may be written as a number with a zero fraction (README choice 64).

The case schema (``xiangchuang schema case``) declares counts, fen amounts, months YYYYMM, years,
district codes and ids as JSON Schema "integer", which counts 202403.0 an integer. The case loader
reads such a number exactly as the integer, with the integer's checks; 3.5, NaN, infinity, a
boolean and a float beyond 2^53 (no longer the integer it looks like) are refused, naming the field.

The integer places are found by walking the schema, so a fact added later is covered.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import xiangchuang.engine.case as C
from tests.engine.test_case_fast import _describe, general_paths
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.schema import case_schema

ON = dt.date(2024, 3, 20)
SCHEMA = case_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
YEAR_KEY = "2023"  # (the key under business.years the walk writes to)

Path_ = tuple[str | int, ...]


def _integer_places(node: dict[str, Any], path: Path_ = ()) -> Iterator[tuple[Path_, dict[str, Any]]]:
    """Every property of the case schema whose type includes "integer", with its path in a case
    (array items at index 0, ``business.years`` at the year ``YEAR_KEY``)."""
    types = node.get("type")
    if "integer" in (types if isinstance(types, list) else [types]):
        yield path, node
    for key, sub in node.get("properties", {}).items():
        yield from _integer_places(sub, (*path, key))
    for sub in node.get("patternProperties", {}).values():
        yield from _integer_places(sub, (*path, YEAR_KEY))
    if isinstance(node.get("items"), dict):
        yield from _integer_places(node["items"], (*path, 0))


PLACES = dict(_integer_places(SCHEMA))


def _base() -> dict[str, Any]:
    """The example case (JSON data, as the schema sees it), with every object the schema describes
    present once and every id an integer, so that a reference can be written as a number."""
    text = Path(str(resources.files("xiangchuang.policy").joinpath("examples/returning_founder.yaml")))
    doc: dict[str, Any] = json.loads(json.dumps(C.load_yaml(text.read_text(encoding="utf-8")), default=str))
    doc["person"]["id"] = 1
    doc["person"]["other_loans"] = [{"amount_fen": 500_000}]
    doc["business"].update(id=2, carrier_id=7)
    doc["hires"][0]["id"] = 3
    doc["hires"][0]["person"]["id"] = 4
    doc["loan"]["id"] = 5
    doc["loans"] = [{"id": 6, "kind": "small_micro", "amount_fen": 100_000_000}]
    doc["carrier"] = {"id": 7, "district": "500101"}
    doc["trainings"] = [{"id": 8}]
    doc["mentor_services"] = [{"id": 9}]
    doc["carriers"] = [{"id": 10}]
    doc["onjob_trainings"] = [{"id": 11}]
    doc["received"] = [{"program": "startup_subsidy", "subject_id": 2, "period": 2023}]
    return doc


BASE = _base()

# The integer written at a place that takes any integer or none in particular (an id, a reference, a
# text read as its digits), by the place's name: an id the case has where it names one.
BY_NAME = {
    "founder_id": 1,
    "borrower_id": 1,
    "carrier_id": 7,
    "business_id": 2,
    "subject_id": 2,  # (received[0] is a startup subsidy: its subject is the business)
    "mentor_id": 42,
    "period": 2023,
    "program": 1,  # (no program is a number: refused as an integer, and as 1.0 alike)
    "schedule": 1,  # (a schedule is text such as 1:100/100/100: refused as 1, and as 1.0 alike)
}
BY_PATH: dict[Path_, int] = {
    ("hires", 0, "person_id"): 1,  # (the hire as a reference, without its person: see _base_for)
    ("received", 0, "person_id"): 4,  # the hired person
    ("trainings", 0, "person_id"): 1,
    # (the example's own first month, 2023-02, as YYYYMM: another month of the hire's would be that
    # month given twice, which is refused: a hire's month once, as the registry's unique key)
    ("hires", 0, "contributions", 0, "month"): 202302,
}
# Places where no integer is a valid value for the loader: the float is refused as the integer is.
PROGRAM: Path_ = ("received", 0, "program")  # (checked against the programs before it is read)
REFUSED_AS_INTEGER = {PROGRAM, ("carrier", "schedule"), ("carriers", 0, "schedule")}


def _base_for(path: Path_) -> dict[str, Any]:
    """The base case, for a hire's ``person_id`` without the hire's own ``person`` (which, given,
    names the hired person instead)."""
    if path == ("hires", 0, "person_id"):
        doc = copy.deepcopy(BASE)
        del doc["hires"][0]["person"]
        return doc
    return BASE


def _get(doc: Any, path: Path_) -> Any:
    for key in path:
        if isinstance(key, int):
            if not isinstance(doc, list) or len(doc) <= key:
                return None
        elif not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _put(doc: dict[str, Any], path: Path_, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _with(path: Path_, value: Any) -> dict[str, Any]:
    """The base case (for ``path``) with ``value`` written at ``path``."""
    return _put(_base_for(path), path, value)


def _integer_for(path: Path_, node: dict[str, Any]) -> int:
    """A valid integer for the place: the example's own, an id the case has, else one of the
    schema's (an enum's first number, a month's or a range's middle, 12 for a count or an amount)."""
    given = _get(BASE, path)
    if type(given) is int:
        return given
    if path in BY_PATH:
        return BY_PATH[path]
    if path[-1] == "id":
        raise AssertionError(f"the base case has no integer id at {path}")
    if path[-1] in BY_NAME:
        return BY_NAME[path[-1]]
    if "enum" in node:
        return next(v for v in node["enum"] if type(v) is int)
    if "anyOf" in node:  # a month YYYYMM: the one of the example's year 2023 in the middle
        return 202306
    if node.get("minimum") == 0 and node["type"] == ["integer", "null"]:  # (a count or an amount)
        return 12
    if "maximum" in node:
        return (node["minimum"] + node["maximum"]) // 2 if "minimum" in node else node["maximum"]
    raise AssertionError(f"no integer chosen for {path}: {node}")


def _field(path: Path_) -> str:
    """The loader's name of a place: hires[0].person.id."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else f"{'.' if out else ''}{key}"
    return out


def _outcome(doc: dict[str, Any]) -> Any:
    """The tables of the case (fast and general paths) and its evaluation, or the error."""
    try:
        tables = _describe(C.case_to_tables(doc))
        with general_paths():
            general = _describe(C.case_to_tables(doc))
        return tables, general, evaluate(doc, ON)
    except C.CaseError as exc:
        return ("error", exc.field, exc.rule)


def test_the_walk_finds_the_integer_places_of_every_kind():
    """The walk reaches every table the case names, and each kind of integer place."""
    assert len(PLACES) >= 70
    fields = {_field(p) for p in PLACES}
    for field in [
        "business.staff_count",  # a count
        "loan.amount_fen",  # fen
        "hires[0].contributions[0].month",  # a month YYYYMM
        "hires[0].si_period_start",
        "business.claim_year",  # a year
        "carrier.award_year",
        "business.district",  # a district code
        "person.hukou_district",  # a division code
        "person.other_loans[0].amount_fen",
        f"business.years.{YEAR_KEY}.online_orders",
        "received[0].months",  # the register
        "received[0].amount_fen",
        "received[0].period",
        "received[0].subject_id",
        "hires[0].person.id",  # an id
        "loans[0].borrower_id",  # a reference
        "onjob_trainings[0].trainees",
        "mentor_services[0].units",
    ]:
        assert field in fields, field


def test_the_base_case_is_valid_and_evaluates():
    assert not list(VALIDATOR.iter_errors(BASE))
    assert evaluate(BASE, ON)["programs"]


@pytest.mark.parametrize("path", list(PLACES), ids=_field)
def test_an_integer_written_with_a_zero_fraction_reads_as_the_integer(path):
    """The schema accepts both forms, and the loader reads them alike: the same tables on both
    paths, the same evaluation (or, where no integer is valid, the same error)."""
    value = _integer_for(path, PLACES[path])
    as_int, as_float = _with(path, value), _with(path, float(value))
    assert type(_get(as_float, path)) is float
    assert not [e.message for e in VALIDATOR.iter_errors(as_int)]
    assert not [e.message for e in VALIDATOR.iter_errors(as_float)]
    want = _outcome(as_int)
    if path in REFUSED_AS_INTEGER:
        assert want[0] == "error" and want[1] == _field(path)
    else:
        assert want[0] != "error", want
    assert _outcome(as_float) == want


def test_every_row_shape_is_walked():
    """A reference is read both in a table of one row (the business) and of several (the loans:
    ``loan`` and ``loans[0]``); months and amounts in a column of several rows (contributions)."""
    facts = C.case_to_tables(BASE)
    assert facts["businesses"].n == 1 and facts["loans"].n == 2 and facts["contributions"].n >= 2
    assert facts["persons"].n == 2 and facts["carriers"].n == 2


def _refused(doc: dict[str, Any], path: Path_) -> C.CaseError:
    with pytest.raises(C.CaseError) as info:
        C.case_to_tables(doc)
    assert info.value.field == _field(path), info.value
    return info.value


NOT_AN_INTEGER = [3.5, 202403.5, -0.5, math.nan, math.inf, -math.inf]


@pytest.mark.parametrize("bad", NOT_AN_INTEGER, ids=repr)
@pytest.mark.parametrize("path", [p for p in PLACES if p != PROGRAM], ids=_field)
def test_a_number_with_a_fraction_is_refused_naming_the_field(path, bad):
    exc = _refused(_with(path, bad), path)
    assert "不能是小数" in exc.rule, exc
    assert not exc.rule.isascii()


def test_the_refusal_of_a_fraction_says_an_integer_is_wanted():
    def rule(path: Path_, bad: float) -> str:
        return _refused(_with(path, bad), path).rule

    assert rule(("business", "staff_count"), 3.5) == "现有职工人数（含当年新招用）须为整数，不能是小数或文本"
    assert rule(("loan", "amount_fen"), 100.5) == "申请/合同金额（分）须为整数（分），不能是小数或文本"
    assert "整数 YYYYMM" in rule(("hires", 0, "contributions", 0, "month"), 202403.5)
    assert "（或整数）" in rule(("received", 0, "period"), 2023.5)
    assert "（或整数）" in rule(("loans", 0, "borrower_id"), 1.5)


@pytest.mark.parametrize("path", list(PLACES), ids=_field)
def test_a_float_beyond_2_to_the_53_is_refused(path):
    """1.0e18 is not the integer its text may have been (2**60 + 1 reads as 2**60): refused, not
    rounded, at every place (the program aside: not a program in any form)."""
    exc = _refused(_with(path, float(2**60)), path)
    if path != PROGRAM:
        assert "数值过大" in exc.rule and "无法精确表示为整数" in exc.rule, exc


def test_2_to_the_53_is_the_last_float_read_as_an_integer():
    path: Path_ = ("hires", 0, "person", "id")  # (an id: no range of its own below 2**53)
    assert _outcome(_with(path, float(2**53))) == _outcome(_with(path, 2**53))
    exc = _refused(_with(path, float(2**53 + 2)), path)
    assert "无法精确表示为整数" in exc.rule


@pytest.mark.parametrize("path", list(PLACES), ids=_field)
def test_a_boolean_is_not_an_integer(path):
    """True is not 1 (nor False 0), at every integer place: refused, naming the field."""
    for flag in (True, False):
        _refused(_with(path, flag), path)


def test_the_integer_checks_hold_for_the_float():
    """The float is the integer, with the integer's checks: a negative count, a year outside the
    supported range, a month 13, a district not of Chongqing are refused as for the integer."""
    for path, bad in [
        (("business", "staff_count"), -1),
        (("business", "claim_year"), 1899),
        (("hires", 0, "contributions", 0, "month"), 202313),
        (("business", "district"), 500999),
        (("person", "hukou_district"), 990101),
        (("loan", "amount_fen"), 10**15),
    ]:
        as_float = _refused(_with(path, float(bad)), path)
        assert as_float.rule == _refused(_with(path, bad), path).rule
