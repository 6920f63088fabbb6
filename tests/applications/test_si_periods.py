"""The application's claim period is the period the engine evaluates, and the social-insurance subsidy
never pays a month twice: its period is a month range 「YYYY-MM/YYYY-MM」 (checked when the application is
made), the determination evaluates it (not the engine's default), approval registers the months
claimed, so the second claim of a year is registered beside the first and a claim overlapping them is
refused at review. The startup subsidy's claim year is likewise the application's year."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.applications import NOW, PARAMS, act, application_in, create, invite, setup
from tests.applications.test_register import _approve, _budget, _grants
from tests.registry.factories import Registry
from xiangchuang.applications import invitations, service
from xiangchuang.engine.programs.employment import default_claim_period
from xiangchuang.errors import InvalidTransition, ValidationFailed
from xiangchuang.models import Application, Determination

SI = "social_insurance_subsidy"


def _registry(engine, pii) -> None:
    setup(engine, pii)
    with engine.begin() as conn:
        reg = Registry(conn, pii, start=500)
        founder = reg.person(no="P-BOSS", groups=["veteran"])
        b = reg.business(no="B-SI", founder=founder, registration_date=dt.date(2022, 5, 1))
        worker = reg.person(no="P-POOR", groups=["poverty_registered"], birth_date=dt.date(1985, 4, 1))
        h = reg.hire(b, worker, dt.date(2023, 7, 1), no="H-POOR")
        reg.contributions(
            h, [y * 100 + m for y in (2023, 2024, 2025) for m in range(1, 13) if y * 100 + m >= 202307]
        )


def _determination(engine, app_id: int, stage: str) -> dict:
    with Session(engine) as s:
        row = (
            s.execute(
                select(Determination)
                .where(Determination.application_id == app_id, Determination.stage == stage)
                .order_by(Determination.id.desc())
            )
            .scalars()
            .first()
        )
        assert row is not None
        return {"result": dict(row.result), "facts": dict(row.facts)}


def _determine(engine, app_id: int) -> dict:
    with Session(engine) as s:
        app = s.get(Application, app_id)
        assert app is not None
        return service.determine(s, app, on=NOW.date(), params=PARAMS)


def _period(engine, app_id: int) -> str:
    with Session(engine) as s:
        return s.execute(select(Application.period).where(Application.id == app_id)).scalar_one()


@pytest.mark.parametrize("bad", ["2024", "2024-01", "2024-06/2024-01", "2024-13/2025-01", "2024上半年"])
def test_a_social_insurance_period_that_is_not_a_month_range_is_refused(db_engine, pii, bad):
    _registry(db_engine, pii)
    with pytest.raises(ValidationFailed, match=r"申请期间（社保补贴申领月份）.*YYYY-MM/YYYY-MM"):
        create(db_engine, kind=SI, subject="H-POOR", period=bad, materials=False)


@pytest.mark.parametrize(
    ("kind", "subject", "period", "message"),
    [
        (
            SI,
            "H-POOR",
            "2099-07/2100-06",
            "申请期间（社保补贴申领月份） 2100-06 超出范围，须在1900-01至2099-12之间",
        ),
        (
            SI,
            "H-POOR",
            "1899-12/1900-05",
            "申请期间（社保补贴申领月份） 1899-12 超出范围，须在1900-01至2099-12之间",
        ),
        ("startup_subsidy", "B-SI", "2100", "申请期间 2100 超出范围，须在1900至2099之间"),
        ("job_subsidy", "H-POOR", "1899", "申请期间 1899 超出范围，须在1900至2099之间"),
    ],
)
def test_a_period_outside_the_supported_range_gets_the_range_rule(
    db_engine, pii, kind, subject, period, message
):
    """A claim period of 2100 read as a format error (「须写作 YYYY-MM/YYYY-MM…」, which it is written as),
    or, as a year, was taken and evaluated: now the range's rule (README choice 28), as a case's or a
    batch file's register period says it; the last months and year are still periods."""
    _registry(db_engine, pii)
    with pytest.raises(ValidationFailed) as exc:
        create(db_engine, kind=kind, subject=subject, period=period, materials=False)
    assert str(exc.value) == message
    assert _period(
        db_engine, create(db_engine, kind=SI, subject="H-POOR", period="2099-07/2099-12", materials=False)
    )


def test_a_period_written_with_zhi_is_stored_in_the_one_form(db_engine, pii):
    _registry(db_engine, pii)
    app_id = create(db_engine, kind=SI, subject="H-POOR", period="2024-01至2024-06", materials=False)
    assert _period(db_engine, app_id) == "2024-01/2024-06"


def test_the_determination_evaluates_the_application_period(db_engine, pii):
    """Reviewed on 2025-03-03 the engine's default would be 2024-09..2025-02 (6 months); the
    application claims 2024-10..2024-12 and is determined on those 3 months."""
    _registry(db_engine, pii)
    app_id = application_in(db_engine, "second_review", kind=SI, subject="H-POOR", period="2024-10/2024-12")
    doc = _determination(db_engine, app_id, "first_review")["result"]
    assert doc["status"] == "eligible", doc
    assert doc["amount_info"]["claim_months"] == 3
    cond = next(c for c in doc["conditions"] if c["id"] == "contributions_in_period")
    assert "申领期2024-10至2024-12" in cond["message"]


def test_two_claims_of_a_year_are_registered_and_an_overlapping_one_is_refused(db_engine, pii):
    _registry(db_engine, pii)
    _budget(db_engine)
    second_half = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-07/2024-12")
    _approve(db_engine, second_half)
    first_half = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    _approve(db_engine, first_half)  # (registered as the year "2024", this was refused as a duplicate)
    grants = _grants(db_engine, program=SI)
    assert [(g.period, g.months, g.months_from) for g in grants] == [
        ("2024-07/2024-12", 6, 0),
        ("2024-01/2024-06", 6, 6),
    ]
    overlapping = application_in(
        db_engine, "first_review", kind=SI, subject="H-POOR", period="2024-11/2025-02"
    )
    with pytest.raises(InvalidTransition, match="不符合"):
        act(db_engine, overlapping, "pass_first_review", "window_clerk")
    doc = _determine(db_engine, overlapping)["result"]
    cond = next(c for c in doc["conditions"] if c["id"] == "months_not_subsidised")
    assert cond["status"] == "fail"
    assert "2024-11至2024-12已享受社保补贴" in cond["message"] and cond["distance"] == "可从2025-01起申领"


def test_an_invitation_claims_the_engine_default_period(db_engine, pii):
    _registry(db_engine, pii)
    assert invitations.default_period(SI, NOW.date()) == default_claim_period(NOW.date()) == "2024-09/2025-02"
    app_id = invite(db_engine, kind=SI, subject="H-POOR")
    assert _period(db_engine, app_id) == "2024-09/2025-02"
    doc = _determination(db_engine, app_id, "checkup")["result"]
    assert doc["status"] == "eligible" and doc["amount_info"]["claim_months"] == 6


def test_the_startup_claim_year_is_the_application_year(db_engine, pii):
    """B-VET is eligible for 2024 (the engine's default on 2025-03-03); an application for 2023 is
    determined on 2023 (whose year facts the registry lacks: undetermined), not on the default."""
    setup(db_engine, pii)
    for year, status in (("2024", "eligible"), ("2023", "undetermined")):
        app_id = create(db_engine, period=year, materials=False)
        got = _determine(db_engine, app_id)
        assert got["facts"]["businesses"]["columns"]["claim_year"] == [int(year)]
        assert got["result"]["status"] == status, got["result"]
