"""A free workstation is granted once: the application's period is ``once`` (any other is refused in
Chinese), and an approval's register row (``grants``, read by the engine as ``received``) makes the engine
find the person ineligible afterwards, in a review and in 政策找人; a carrier's allocation of the
workstation is not refused for the grant it delivers (README choice 85)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.applications import NOW, PARAMS, application_in, create, setup
from tests.applications.test_register import _approve, _grants
from tests.registry.factories import Registry
from xiangchuang.applications import service
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import ValidationFailed
from xiangchuang.models import Application, MatchResult
from xiangchuang.registry.matching import run_match


def _young(db_engine, pii) -> None:
    setup(db_engine, pii)
    with db_engine.begin() as conn:
        Registry(conn, pii).person(
            no="P-YOUNG", birth_date=dt.date(1996, 4, 1), startup_intention=True, holds_free_workstation=False
        )


def _matched(db_engine) -> list[str]:
    """政策找人 over the registry: the stored (eligible or soon-eligible) free-workstation results."""
    with make_sessionmaker(db_engine)() as s, s.begin():
        run_id = run_match(session=s, on=NOW.date(), district=None, params=PARAMS, workers=1).run.id
    with Session(db_engine) as s:
        stmt = select(MatchResult.status).where(
            MatchResult.run_id == run_id,
            MatchResult.program == "free_workstation",
            MatchResult.subject_key == "P-YOUNG",
        )
        return list(s.execute(stmt).scalars())


def test_the_free_workstation_period_is_once(db_engine, pii):
    _young(db_engine, pii)
    with pytest.raises(ValidationFailed) as exc:
        create(db_engine, kind="free_workstation", subject="P-YOUNG", period="2025")
    assert exc.value.message == "申请期间「2025」：「免费创业工位」为一次性支持，申请期间只能填写「once」"
    assert create(db_engine, kind="free_workstation", subject="P-YOUNG", period=" once ")


def test_an_approved_free_workstation_is_not_granted_again(db_engine, pii):
    _young(db_engine, pii)
    assert _matched(db_engine) == ["eligible"]
    first = application_in(db_engine, "publicity", kind="free_workstation", subject="P-YOUNG", period="once")
    _approve(db_engine, first)
    assert [(g.subject_key, g.period) for g in _grants(db_engine, program="free_workstation")] == [
        ("P-YOUNG", "once")
    ]
    assert _matched(db_engine) == []  # (only eligible and soon results are stored)
    with Session(db_engine) as s:
        app = s.get(Application, first)
        assert app is not None
        doc = service.determine(s, app, on=NOW.date(), params=PARAMS)["result"]
    assert doc["status"] == "ineligible"
    [cond] = [c for c in doc["conditions"] if c["id"] == "not_granted"]
    assert (cond["status"], cond["message"]) == ("fail", "已登记享受过免费创业工位（已核准的不重复提供）")
