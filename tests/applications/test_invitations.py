"""免申即享: invitations from a stored 政策找人 run — pre-filled, with the engine's determination, notified,
idempotent per (run, subject, program); confirm → reviewed like any other; decline; expiry."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.applications import (
    ACTORS,
    D1,
    D2,
    EXPIRED,
    KEY,
    NOW,
    PARAMS,
    act,
    create,
    setup,
    state_of,
)
from xiangchuang.applications import invitations
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, InvalidTransition
from xiangchuang.models import (
    Application,
    AuditEvent,
    Determination,
    Invitation,
    MatchResult,
    OutboxMessage,
)
from xiangchuang.registry.matching import run_match


def _run(engine, district=D1) -> int:
    with make_sessionmaker(engine)() as s, s.begin():
        return run_match(session=s, on=NOW.date(), district=district, params=PARAMS, workers=1).run.id


def _invite(engine, run_id, *, role="district_reviewer", district=D1, programs=("startup_subsidy",), now=NOW):
    with make_sessionmaker(engine)() as s, s.begin():
        return invitations.create_invitations(
            s,
            run_id=run_id,
            actor=ACTORS[role],
            role=role,
            actor_district=district,
            audit_key=KEY,
            programs=programs,
            params=PARAMS,
            now=now,
        )


def _count(engine, model) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_an_eligible_result_becomes_a_prefilled_invited_application_with_the_engines_determination(
    db_engine, pii
):
    setup(db_engine, pii)
    run_id = _run(db_engine)
    report = _invite(db_engine, run_id)
    [app_id] = report.created
    with Session(db_engine) as s:
        app = s.get(Application, app_id)
        result = s.execute(
            select(MatchResult).where(MatchResult.run_id == run_id, MatchResult.program == "startup_subsidy")
        ).scalar_one()
        assert app is not None and app.state == "invited"
        assert (app.kind, app.subject_key, app.period, app.district) == (
            "startup_subsidy",
            "B-VET",
            "2024",
            D1,
        )
        assert app.applicant_user == app.applicant_person_no == "P-VET"
        assert app.amount_requested_fen == result.amount_fen == 197_531
        assert app.form["来源"] == "政策找人（免申即享）" and app.form["匹配运行"] == run_id
        [det] = s.execute(select(Determination).where(Determination.application_id == app_id)).scalars().all()
        assert det.stage == "checkup" and det.status == "eligible" and det.amount_fen == 197_531
        assert det.result["source"] == {"match_run": run_id, "match_result": result.id}
        assert det.on == NOW.date() and det.result["conditions"]
        inv = s.execute(select(Invitation)).scalar_one()
        assert (inv.run_id, inv.result_id, inv.application_id) == (run_id, result.id, app_id)
        assert (inv.expires_on - NOW.date()).days == 30
        msg = s.execute(
            select(OutboxMessage).where(OutboxMessage.template == "application.invited")
        ).scalar_one()
        assert msg.recipient_user == "P-VET" and "免申即享" in msg.payload["message"]
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "application.invite")).scalar_one()
        assert event.details["match_run"] == run_id


def test_creating_invitations_again_for_the_same_run_creates_nothing(db_engine, pii):
    setup(db_engine, pii)
    run_id = _run(db_engine)
    first = _invite(db_engine, run_id, programs=None)
    assert first.created
    counts = [_count(db_engine, m) for m in (Application, Invitation, OutboxMessage, AuditEvent)]
    again = _invite(db_engine, run_id, programs=None)
    assert again.created == [] and again.existing == len(first.created)
    assert [_count(db_engine, m) for m in (Application, Invitation, OutboxMessage, AuditEvent)] == counts


def test_a_subject_with_a_live_application_is_skipped_with_the_reason(db_engine, pii):
    setup(db_engine, pii)
    create(db_engine, period="2024")
    report = _invite(db_engine, _run(db_engine))
    assert report.created == []
    assert report.skipped == [
        ("startup_subsidy", "B-VET", "该主体已有「创业补助」2024 期间的有效申请（或已享受），不再邀请")
    ]


def test_a_reviewer_invites_only_their_district_and_an_applicant_cannot_invite(db_engine, pii):
    setup(db_engine, pii)
    run_id = _run(db_engine, district=None)
    assert _invite(db_engine, run_id, district=D2).created  # B-OTHER
    with Session(db_engine) as s:
        assert set(s.execute(select(Application.district)).scalars()) == {D2}
    with pytest.raises(Forbidden):
        _invite(db_engine, run_id, role="applicant", district=None)


def test_a_confirmed_invitation_is_submitted_without_materials_and_reviewed_like_any_other(db_engine, pii):
    setup(db_engine, pii)
    [app_id] = _invite(db_engine, _run(db_engine)).created
    result = act(db_engine, app_id, "confirm", "applicant")
    assert result.application.state == "submitted" and result.application.submitted_by == "P-VET"
    assert result.determination is not None and result.determination.stage == "checkup"
    for action, role in (
        ("accept", "window_clerk"),
        ("start_first_review", "window_clerk"),
        ("pass_first_review", "window_clerk"),
    ):
        act(db_engine, app_id, action, role)
    assert state_of(db_engine, app_id) == "second_review"


def test_a_declined_invitation_ends_and_frees_the_period_for_a_new_application(db_engine, pii):
    setup(db_engine, pii)
    [app_id] = _invite(db_engine, _run(db_engine)).created
    assert act(db_engine, app_id, "decline", "applicant").application.live_key is None
    assert state_of(db_engine, app_id) == "declined"
    create(db_engine, period="2024")


def test_an_invitation_cannot_be_confirmed_after_its_last_day_and_the_job_expires_it(db_engine, pii):
    setup(db_engine, pii)
    [app_id] = _invite(db_engine, _run(db_engine)).created
    with pytest.raises(InvalidTransition, match="过期"):
        act(db_engine, app_id, "confirm", "applicant", now=EXPIRED)
    with make_sessionmaker(db_engine)() as s, s.begin():
        assert invitations.expire_invitations(s, audit_key=KEY, now=NOW, params=PARAMS) == []
    with make_sessionmaker(db_engine)() as s, s.begin():
        assert invitations.expire_invitations(s, audit_key=KEY, now=EXPIRED, params=PARAMS) == [app_id]
    assert state_of(db_engine, app_id) == "expired"
    with Session(db_engine) as s:
        event = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
        assert (event.action, event.actor, event.actor_role) == (
            "application.expire",
            "system:invitations",
            "system",
        )
    with pytest.raises(Forbidden):
        act(db_engine, app_id, "confirm", "window_clerk", district=D2)
