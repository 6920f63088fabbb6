"""「参数待核实」 only for a parameter that decided the row (README choice 42): a ground of
``any_of`` that did not hold, or a list extending the notice's groups where the notice's own groups
admit the person, did not decide it — its unverified value does not make the result pending."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()
ON = dt.date(2024, 6, 20)


def _program(case: dict[str, Any], program: str) -> dict[str, Any]:
    return next(p for p in evaluate(case, ON, PARAMS)["programs"] if p["program"] == program)


def _workstation(birth_date: str, groups: list[str]) -> dict[str, Any]:
    return {
        "person": {
            "id": "P1",
            "birth_date": birth_date,
            "groups": groups,
            "startup_intention": True,
            "holds_free_workstation": False,
        },
        "received": [],  # (none granted: README choice 85)
    }


def test_a_ground_that_did_not_hold_is_not_pending_where_another_did() -> None:
    """A 50-year-old 脱贫人口 gets a free workstation through the (confirmed) group list; the
    assumed youth age limit did not decide it. A 30-year-old with no group: the age decides."""
    old = _program(_workstation("1974-01-01", ["poverty_registered"]), "free_workstation")
    assert old["status"] == "eligible"
    assert "free_workstation.youth_max_age" not in old["pending_parameters"]
    youth = next(
        c
        for c in old["conditions"]
        if "free_workstation.youth_max_age" in [p["name"] for p in c["parameters"]]
    )
    assert youth["status"] == "fail"  # (still cited by its own ground's condition)
    young = _program(_workstation("1994-01-01", []), "free_workstation")
    assert young["status"] == "eligible"
    assert "free_workstation.youth_max_age" in young["pending_parameters"]


def _hire(groups: list[str]) -> dict[str, Any]:
    return {
        "business": {"id": "B1", "district": 500235, "kind": "enterprise", "size_class": "small_micro",
                     "founded_by_returning": True},
        "hires": [{"id": "H1", "person": {"id": "W1", "groups": groups, "birth_date": "1990-01-01", "gender": "M"},
                   "hire_date": "2024-01-02", "contract": True,
                   "contributions": [{"month": f"2024-0{m}", "employer_fen": 50_000} for m in range(1, 6)]}],
        "received": [],
    }  # fmt: skip


@pytest.mark.parametrize(
    ("program", "extension", "notice_group", "extended_group"),
    [
        ("job_subsidy", "job_subsidy.extra_groups", "poverty_registered", "disabled"),
        (
            "social_insurance_subsidy",
            "social_insurance_subsidy.extra_groups",
            "poverty_registered",
            "age_4050",
        ),
    ],
)
def test_a_groups_extension_is_cited_only_where_it_admits_the_person(
    program: str, extension: str, notice_group: str, extended_group: str
) -> None:
    by_notice = _program(_hire([notice_group]), program)
    assert extension not in by_notice["pending_parameters"]
    assert extension not in [p["name"] for p in by_notice["parameters"]]
    by_extension = _program(_hire([extended_group]), program)
    group = next(c for c in by_extension["conditions"] if c["id"] == "hired_group")
    assert group["status"] == "pass"
    assert extension in by_extension["pending_parameters"]
    assert extension in [p["name"] for p in group["parameters"]]
    neither = _program(_hire(["veteran"]), program)  # both lists decided that it fails
    assert extension in [p["name"] for p in neither["parameters"]]
