"""A workshop award applied for through the one-stop service is determined from the registry's
新建车间 and 车间建设投入 (``businesses.workshop_new_build`` / ``workshop_build_cost_fen``, migration
0028): with both known the review has an amount and passes, approval registers the year's award and the
construction subsidy apart (README choice 51); without them the award stays undetermined and cannot pass
review (PROVISIONS §0: unknown is never read as "not new" or 0).

The amounts, by hand, from the parameters in force on NOW (policy/parameters/30_employment.yaml):

- yearly employment award (``workshop_award.tiers``): 25 persons employed → the tier from 20 persons,
  40,000 yuan = 4,000,000 fen (README choice 40: yuan to fen exactly);
- construction subsidy (``workshop_award.build_rate`` 0.50, ``workshop_award.build_cap`` 500,000 yuan =
  50,000,000 fen): cost 186,000.51 yuan = 18,600,051 fen × 0.50 = 9,300,025.5 → half up 9,300,026 fen,
  below the cap;
- together 4,000,000 + 9,300,026 = 13,300,026 fen (133,000.26 yuan).
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.applications import act, application_in, create, setup, state_of
from tests.applications.test_register import _approve, _budget, _grants
from tests.applications.test_si_periods import _determine
from tests.registry.factories import Registry
from xiangchuang.engine.assemble import WORKSHOP_BUILD_PERIOD
from xiangchuang.errors import InvalidTransition

WS = "workshop_award"
YEAR_AWARD = 4_000_000  # 25 employed: the 20-person tier, 40,000 yuan
BUILD = 9_300_026  # 18,600,051 fen × 0.50, half up
COST = 18_600_051  # 186,000.51 yuan


def _workshop(engine, pii, *, new_build: bool | None, cost: int | None) -> None:
    setup(engine, pii)
    with engine.begin() as conn:
        reg = Registry(conn, pii, start=700)
        owner = reg.person(no="P-WS")
        reg.business(
            no="B-WS",
            founder=owner,
            registration_date=dt.date(2021, 4, 1),
            workshop_recognised=True,
            workshop_employed=25,
            workshop_new_build=new_build,
            workshop_build_cost_fen=cost,
        )


def test_a_new_workshop_with_its_cost_is_determined_passes_review_and_is_registered_in_parts(db_engine, pii):
    _workshop(db_engine, pii, new_build=True, cost=COST)
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", kind=WS, subject="B-WS", period="2024")
    det = _determine(db_engine, app_id)
    assert det["status"] == "eligible", det["result"]
    assert det["amount_fen"] == YEAR_AWARD + BUILD == 13_300_026
    info = det["result"]["amount_info"]
    assert (info["employment_award_fen"], info["build_fen"]) == (YEAR_AWARD, BUILD)
    columns = det["facts"]["businesses"]["columns"]
    assert (columns["workshop_new_build"], columns["workshop_build_cost_fen"]) == ([True], [COST])

    _approve(db_engine, app_id)
    assert state_of(db_engine, app_id) == "approved"
    got = [(g.subject_key, g.period, g.amount_fen) for g in _grants(db_engine, program=WS)]
    assert got == [("B-WS", "2024", YEAR_AWARD), ("B-WS", WORKSHOP_BUILD_PERIOD, BUILD)]


@pytest.mark.parametrize(
    ("new_build", "cost", "status", "amount", "missing"),
    [
        (None, None, "undetermined", None, ["workshop_new_build"]),  # the registry as it used to be
        (None, COST, "undetermined", None, ["workshop_new_build"]),  # a cost alone says nothing
        (True, None, "undetermined", None, ["workshop_build_cost_fen"]),
        (False, None, "eligible", YEAR_AWARD, []),  # not new: no construction part, its cost is not read
        (None, 0, "eligible", YEAR_AWARD, []),  # README choice 34: no cost, no construction subsidy
        (True, COST, "eligible", YEAR_AWARD + BUILD, []),
    ],
)
def test_the_determination_follows_the_registry_build_facts(
    db_engine, pii, new_build, cost, status, amount, missing
):
    _workshop(db_engine, pii, new_build=new_build, cost=cost)
    app_id = create(db_engine, kind=WS, subject="B-WS", period="2024", materials=False)
    det = _determine(db_engine, app_id)
    assert (det["status"], det["amount_fen"]) == (status, amount), det["result"]
    assert [m["fact"] for m in det["result"].get("missing", [])] == missing


def test_an_undetermined_workshop_award_cannot_pass_review(db_engine, pii):
    _workshop(db_engine, pii, new_build=None, cost=None)
    app_id = application_in(db_engine, "first_review", kind=WS, subject="B-WS", period="2024")
    with pytest.raises(InvalidTransition, match="待定"):
        act(db_engine, app_id, "pass_first_review", "window_clerk")
