"""A district's list parameter extends the city's, never narrows it: a district list lacking any of
the city's entries yields to the city's list that day (as a table, README choice 72); the messages
name the list in force for the row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters

_OVERLAY = """\
startup_subsidy.key_groups:
  districts:
    500105:
      - {since: 2021-01-01, value: [college_graduate], paid_by: 区县财政, status: assumed, reference: 测试}
    500101:
      - {since: 2021-01-01, value: [college_graduate, veteran, returning_migrant_worker, registered_unemployed], paid_by: 区县财政, status: assumed, reference: 测试}
job_subsidy.extra_groups:
  districts:
    500238:
      - {since: 2021-01-01, value: [age_4050], paid_by: 区县财政, status: assumed, reference: 测试}
loan.borrower_groups:
  districts:
    500105:
      - {since: 2021-01-01, value: [veteran], paid_by: 区县财政, status: assumed, reference: 测试}
"""


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("lists") / "lists.yaml"
    path.write_text(_OVERLAY, encoding="utf-8")
    return load_parameters(str(path))


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == program)


def _message(doc: dict[str, Any], cid: str) -> str:
    return next(c["message"] for c in doc["conditions"] if c["id"] == cid)


def test_a_narrower_district_list_yields_to_the_citys(params: Any) -> None:
    on = dt.date(2023, 5, 1)
    for name, district in (
        ("startup_subsidy.key_groups", 500105),
        ("job_subsidy.extra_groups", 500238),
        ("loan.borrower_groups", 500105),
    ):
        p = params[name]
        assert p.value_at(on, district) == p.value_at(on), name
    wider = params["startup_subsidy.key_groups"].value_at(on, 500101)
    assert "registered_unemployed" in wider


def _startup(district: int, group: str) -> dict[str, Any]:
    return {
        "person": {"id": "P1", "groups": [group], "first_business": True},
        "business": {
            "id": "B1",
            "district": district,
            "kind": "enterprise",
            "registration_date": "2021-03-10",
            "status": "normal",
            "years": {2022: {"employer_si_paid_fen": 1_000_003}},
        },
        "received": [],
    }


def test_startup_key_groups_of_a_district_extend_the_citys(params: Any) -> None:
    on = dt.date(2023, 5, 1)
    # 500105 lists only 高校毕业生: the city's list applies, a veteran is a key group there.
    doc = _program(evaluate(_startup(500105, "veteran"), on, params), "startup_subsidy")
    assert (doc["status"], doc["amount_fen"]) == ("eligible", 200_001)
    assert (
        _message(doc, "founder_key_group") == "创办人属于创业补助重点群体（高校毕业生、退役军人、返乡农民工）"
    )
    # 500101 adds 登记失业人员: its message names the list in force there; the district pays.
    doc = _program(evaluate(_startup(500101, "registered_unemployed"), on, params), "startup_subsidy")
    assert (doc["status"], doc["amount_fen"]) == ("eligible", 200_001)
    assert "登记失业人员" in _message(doc, "founder_key_group")
    assert {f["source"]: f["amount_fen"] for f in doc["funding"]}["区县财政"] == 200_001
    # Elsewhere the city's list, named as such.
    doc = _program(evaluate(_startup(500102, "registered_unemployed"), on, params), "startup_subsidy")
    assert doc["status"] == "ineligible"
    assert (
        _message(doc, "founder_key_group")
        == "创办人不属于创业补助重点群体（高校毕业生、退役军人、返乡农民工）"
    )


def test_job_subsidy_groups_of_a_district_extend_the_citys(params: Any) -> None:
    months = [f"2023-{m:02d}" for m in range(1, 13)] + ["2024-01", "2024-02"]
    case = {
        "business": {"id": "B1", "district": 500238, "kind": "enterprise", "founded_by_returning": True},
        "hires": [
            {
                "id": "H1",
                "person": {"id": "W1", "groups": ["hard_to_employ"]},
                "hire_date": "2023-01-01",
                "contract": True,
                "contributions": [{"month": m} for m in months],
            }
        ],
        "received": [],
    }
    doc = _program(evaluate(case, dt.date(2024, 3, 15), params), "job_subsidy")
    assert (doc["status"], doc["amount_fen"]) == ("eligible", 600_000)
    assert "就业困难人员、残疾人" in _message(doc, "hired_group")
