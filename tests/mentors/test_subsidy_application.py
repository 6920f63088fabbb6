"""mentor_service_subsidy through the one application workflow, on both databases: a service record the
organiser confirmed is read by the assembler into the engine's ``mentor_services`` table, so the review's
determination is the engine's amount and the application is approved with it; an unconfirmed record
cannot pass review; a grant already paid for the record makes it ineligible."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.applications import KEY, PATHS, act, create, setup
from xiangchuang.engine.api import evaluate
from xiangchuang.errors import InvalidTransition
from xiangchuang.mentors import service as S
from xiangchuang.models import Determination, Mentor, Person
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.repository import Scope, ScopeSql, mentor_services_query

D1 = 500101


def _mentor_with_services(engine, pii) -> None:
    keys = S.Keys(pii.cipher, KEY)
    with Session(engine) as s, s.begin():
        person = s.execute(select(Person.id).where(Person.person_no == "P-VET")).scalar_one()
        s.add(
            Mentor(
                mentor_no="T-VET",
                person_id=person,
                level="city",
                specialty="agriculture",
                district=D1,
                available=True,
                status="active",
                user_id="u-mentor",
            )
        )
        s.flush()
        for no, activity, units in (("FW-1", "lecture", 3), ("FW-2", "pairing", 2)):
            S.record_service(
                s,
                keys=keys,
                actor="u-org",
                role="organiser",
                service_no=no,
                mentor_no="T-VET",
                activity=activity,
                units=units,
                district=D1,
                occurred_on=dt.date(2025, 2, 1),
                organiser="万州区就业局",
            )
        S.confirm_service(
            s, keys=keys, actor="u-org", role="organiser", service_no="FW-1", rating="excellent"
        )


def test_assembler_reads_service_records_like_the_service_rows(db_engine, pii):
    setup(db_engine, pii)
    _mentor_with_services(db_engine, pii)
    on = dt.date(2025, 3, 3)
    with Session(db_engine) as s:
        facts = assemble_facts(s, on=on, district=None)
        t = facts.tables["mentor_services"]
        assert t.n == 2 and list(t["id"].values) == ["FW-1", "FW-2"]
        assert list(t["confirmed"].values) == [True, False]
        assert bool(t["rating"].known[0]) and not bool(t["rating"].known[1])  # no rating: unknown
        one = assemble_facts(s, on=on, district=None, subjects=Scope(mentor_service_ids=(2,)))
        assert one.tables["mentor_services"].n <= 1
        other = assemble_facts(s, on=on, district=500102)
        assert other.tables["mentor_services"].n == 0
        rows = S.service_rows(s)
        assert len(s.execute(mentor_services_query(ScopeSql(None, None, None, None, on))).all()) == 2
    # the DB facts and the service's case rows give the engine the same answer
    by_case = {
        r["subject"]["id"]: (r["status"], r.get("amount_fen"))
        for r in evaluate({"mentor_services": rows, "received": []}, on)["programs"]
        if r["program"] == "mentor_service_subsidy"
    }
    assert by_case["FW-1"] == ("eligible", 360_000)  # 3 lectures × 1,000 yuan × 1.2 (excellent)


def test_subsidy_applied_reviewed_and_approved_with_the_engine_amount(db_engine, pii):
    setup(db_engine, pii)
    _mentor_with_services(db_engine, pii)
    app_id = create(
        db_engine, kind="mentor_service_subsidy", subject="FW-1", period="2025Q1", role="window_clerk"
    )
    for action, role, reason, now in PATHS["approved"]:
        result = act(db_engine, app_id, action, role, reason=reason, now=now)
    assert result.application.state == "approved"
    assert result.application.amount_approved_fen == 360_000
    with Session(db_engine) as s:
        dets = s.execute(
            select(Determination).where(Determination.application_id == app_id).order_by(Determination.id)
        ).scalars()
        dets = list(dets)
    assert [d.stage for d in dets] == ["checkup", "first_review", "second_review"]
    assert all(d.status == "eligible" and d.amount_fen == 360_000 for d in dets)
    assert dets[1].facts["mentor_services"]["columns"]["id"] == ["FW-1"]


def test_an_unconfirmed_service_record_cannot_pass_review(db_engine, pii):
    setup(db_engine, pii)
    _mentor_with_services(db_engine, pii)
    app_id = create(
        db_engine, kind="mentor_service_subsidy", subject="FW-2", period="2025Q1", role="window_clerk"
    )
    for action, role, reason, now in PATHS["first_review"]:
        act(db_engine, app_id, action, role, reason=reason, now=now)
    with pytest.raises(InvalidTransition):
        act(db_engine, app_id, "pass_first_review", "window_clerk")


def test_a_record_already_paid_is_ineligible_in_review(db_engine, pii):
    from tests.registry.factories import Registry

    setup(db_engine, pii)
    _mentor_with_services(db_engine, pii)
    with db_engine.begin() as conn:
        Registry(conn, pii).grant("mentor_service_subsidy", "FW-1", period="2025", amount_fen=360_000)
    app_id = create(
        db_engine, kind="mentor_service_subsidy", subject="FW-1", period="2025Q1", role="window_clerk"
    )
    for action, role, reason, now in PATHS["first_review"]:
        act(db_engine, app_id, action, role, reason=reason, now=now)
    with pytest.raises(InvalidTransition):
        act(db_engine, app_id, "pass_first_review", "window_clerk")
    with Session(db_engine) as s:
        det = (
            s.execute(
                select(Determination)
                .where(Determination.application_id == app_id)
                .order_by(Determination.id.desc())
            )
            .scalars()
            .first()
        )
    assert det is not None and det.status != "eligible"
    assert det.facts["received"]["columns"]["subject_id"] == ["FW-1"]
