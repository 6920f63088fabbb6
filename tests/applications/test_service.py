"""The workflow service: scope, reasons, audit, determinations, publicity and objections, notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.applications import (
    ACTORS,
    D1,
    D2,
    KEY,
    LATER,
    NOW,
    PARAMS,
    act,
    application_in,
    audit_count,
    create,
    setup,
    state_of,
)
from xiangchuang.applications import calendar, service
from xiangchuang.audit.chain import verify
from xiangchuang.db import make_sessionmaker
from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.models import (
    Application,
    AuditEvent,
    Base,
    BusinessYear,
    Determination,
    Objection,
    OutboxMessage,
    TransitionLog,
)


def _determinations(engine, app_id):
    with Session(engine) as s:
        return (
            s.execute(
                select(Determination).where(Determination.application_id == app_id).order_by(Determination.id)
            )
            .scalars()
            .all()
        )


# --- reasons, roles and scope ---------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_return_without_a_reason_is_refused(db_engine, pii, reason):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with pytest.raises(ValidationFailed, match="原因"):
        act(db_engine, app_id, "return", "window_clerk", reason=reason)
    assert state_of(db_engine, app_id) == "submitted"


@pytest.mark.parametrize(
    ("state", "action", "role"),
    [
        ("submitted", "refuse", "window_clerk"),
        ("first_review", "reject", "window_clerk"),
        ("second_review", "reject", "district_reviewer"),
        ("publicity", "object", "district_reviewer"),
        ("objection", "dismiss_objection", "district_reviewer"),
    ],
)
def test_reason_required_actions_refuse_a_missing_reason(db_engine, pii, state, action, role):
    setup(db_engine, pii)
    app_id = application_in(db_engine, state)
    with pytest.raises(ValidationFailed):
        act(db_engine, app_id, action, role)
    assert state_of(db_engine, app_id) == state


def test_a_reason_with_a_personal_number_is_refused(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with pytest.raises(ValidationFailed, match="身份证号"):
        act(db_engine, app_id, "return", "window_clerk", reason="请核对 13800001234 的材料")


def test_the_return_note_tells_the_applicant_what_to_fix(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "returned")
    with Session(db_engine) as s:
        app = s.get(Application, app_id)
        assert app is not None and app.return_note == "请补充材料说明"
    assert act(db_engine, app_id, "resubmit", "applicant").application.state == "submitted"


def test_a_reviewer_of_another_district_cannot_act(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "second_review")
    with pytest.raises(Forbidden, match="其他区县"):
        act(db_engine, app_id, "pass_second_review", "district_reviewer", district=D2)
    assert act(db_engine, app_id, "pass_second_review", "district_reviewer").application.state == "publicity"


def test_a_clerk_of_another_district_cannot_accept(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with pytest.raises(Forbidden):
        act(db_engine, app_id, "accept", "window_clerk", district=D2)


def test_an_applicant_acts_only_on_their_own_application(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine)
    with pytest.raises(Forbidden, match="本人"):
        act(db_engine, app_id, "submit", "applicant", actor="u-someone-else")


def test_city_admin_reads_every_district_but_cannot_act(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "second_review")
    with make_sessionmaker(db_engine)() as s:
        app = service.get_application(
            s, application_id=app_id, actor="u-city", role="city_admin", actor_district=None
        )
        assert app.district == D1
        with pytest.raises(Forbidden):
            service.get_application(
                s, application_id=app_id, actor="u-r2", role="district_reviewer", actor_district=D2
            )
        with pytest.raises(NotFound):
            service.get_application(
                s, application_id=9999, actor="u-city", role="city_admin", actor_district=None
            )
    with pytest.raises(Forbidden):
        act(db_engine, app_id, "pass_second_review", "city_admin")


def test_a_clerk_creates_and_submits_on_behalf_and_it_is_recorded(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine, role="window_clerk")
    result = act(db_engine, app_id, "submit", "window_clerk")
    app = result.application
    assert (
        app.on_behalf
        and app.submitted_by == ACTORS["window_clerk"]
        and app.created_by == ACTORS["window_clerk"]
    )
    assert app.applicant_user == ACTORS["applicant"]
    with Session(db_engine) as s:
        last = s.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar_one()
    assert last.action == "application.submit" and last.details["on_behalf"] is True


def test_a_clerk_cannot_create_for_another_district(db_engine, pii):
    setup(db_engine, pii)
    with make_sessionmaker(db_engine)() as s, s.begin(), pytest.raises(Forbidden):
        service.create_application(
            s,
            kind="startup_subsidy",
            subject_key="B-OTHER",
            period="2024",
            district=D2,
            applicant_user="u-applicant",
            actor="u-clerk",
            role="window_clerk",
            actor_district=D1,
            audit_key=KEY,
        )


def test_a_form_with_a_personal_number_is_refused(db_engine, pii):
    with make_sessionmaker(db_engine)() as s, s.begin(), pytest.raises(ValidationFailed, match="申请表"):
        service.create_application(
            s,
            kind="startup_subsidy",
            subject_key="B-VET",
            period="2024",
            district=D1,
            applicant_user="u-applicant",
            actor="u-applicant",
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            form={"联系电话": "13800001234"},
        )


# --- one live application per subject, program and period -----------------------------------------


def test_a_second_live_application_for_the_same_subject_program_and_period_is_a_conflict(db_engine, pii):
    setup(db_engine, pii)
    first = create(db_engine, period="2024")
    with pytest.raises(Conflict, match="重复申请"):
        create(db_engine, period="2024")
    create(db_engine, period="2023")  # another period
    create(db_engine, kind="online_sales_subsidy", period="2024")  # another program
    act(db_engine, first, "withdraw", "applicant")
    create(db_engine, period="2024")  # the withdrawn one is no longer live


def test_the_database_refuses_two_live_rows_for_the_same_live_key(db_engine):
    row = {
        "kind": "startup_subsidy",
        "subject_table": "businesses",
        "subject_key": "B1",
        "period": "2024",
        "district": D1,
        "state": "draft",
        "live_key": "startup_subsidy|B1|2024",
        "applicant_user": "u",
        "created_by": "u",
        "form": {},
    }
    with db_engine.begin() as conn:
        conn.execute(insert(Application), [{**row, "application_no": "A1"}])
    with pytest.raises(DBAPIError), db_engine.begin() as conn:
        conn.execute(insert(Application), [{**row, "application_no": "A2"}])
    with pytest.raises(DBAPIError), db_engine.begin() as conn:  # an ended application has no live key
        conn.execute(insert(Application), [{**row, "application_no": "A3", "state": "withdrawn"}])


# --- audit, log, notifications ----------------------------------------------------------------------


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _lag(engine) -> dict[int, dt.datetime | None]:
    """{transition id: at of the application's previous transition by (at, id)} — the LAG definition."""
    with Session(engine) as s:
        rows = s.execute(
            select(
                TransitionLog.id,
                func.lag(TransitionLog.at, type_=TransitionLog.at.type).over(
                    partition_by=TransitionLog.application_id, order_by=(TransitionLog.at, TransitionLog.id)
                ),
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_a_transition_stores_when_the_step_it_leaves_was_entered(db_engine, pii):
    """entered_at = the previous transition's at in (at, id) order: NULL first, ties on at by id, and a
    transition written with an earlier clock than the last one is put in its place (the later one's
    entered_at follows it)."""
    setup(db_engine, pii)
    app_id = create(db_engine)
    day = dt.timedelta(days=1)
    for action, role, now in (
        ("submit", "applicant", NOW),
        ("accept", "window_clerk", NOW),  # the same instant: after submit by id
        ("start_first_review", "window_clerk", NOW + 3 * day),
        ("pass_first_review", "window_clerk", NOW + day),  # a clock set back
    ):
        act(db_engine, app_id, action, role, now=now)
    with Session(db_engine) as s:
        rows = s.execute(
            select(TransitionLog.id, TransitionLog.action, TransitionLog.entered_at)
            .where(TransitionLog.application_id == app_id)
            .order_by(TransitionLog.id)
        ).all()
    got = {action: _utc(at) for _, action, at in rows}
    assert got == {
        "submit": None,
        "accept": NOW,
        "start_first_review": NOW + day,  # now after pass_first_review in (at, id) order
        "pass_first_review": NOW,
    }
    lag = _lag(db_engine)
    assert {i: at for i, _, at in rows} == {i: lag[i] for i, _, _ in rows}


def test_each_transition_writes_one_audit_row_and_one_log_row_and_the_chain_verifies(db_engine, pii):
    setup(db_engine, pii)
    app_id = create(db_engine)
    for action, role in (
        ("submit", "applicant"),
        ("accept", "window_clerk"),
        ("start_first_review", "window_clerk"),
    ):
        before = audit_count(db_engine)
        act(db_engine, app_id, action, role)
        assert audit_count(db_engine) == before + 1
    with Session(db_engine) as s:
        logs = s.execute(select(TransitionLog).where(TransitionLog.application_id == app_id)).scalars().all()
        assert [(lg.from_state, lg.action, lg.to_state) for lg in logs] == [
            ("draft", "submit", "submitted"),
            ("submitted", "accept", "accepted"),
            ("accepted", "start_first_review", "first_review"),
        ]
        events = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [e.action for e in events] == [
            "application.create",
            *["attachment.upload"] * 4,  # the four required materials of 创业补助
            "application.submit",
            "application.accept",
            "application.start_first_review",
        ]
        assert verify(s, KEY) is None


def test_a_rolled_back_transition_writes_no_audit_row_log_or_notification(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with Session(db_engine) as s:
        counts = [
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (AuditEvent, TransitionLog, OutboxMessage)
        ]
    with make_sessionmaker(db_engine)() as s, s.begin():
        service.transition(
            s,
            application_id=app_id,
            action="accept",
            actor="u-clerk",
            role="window_clerk",
            actor_district=D1,
            audit_key=KEY,
            now=NOW,
            params=PARAMS,
        )
        s.rollback()
    with Session(db_engine) as s:
        after = [
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (AuditEvent, TransitionLog, OutboxMessage)
        ]
        assert after == counts
        assert verify(s, KEY) is None
    assert state_of(db_engine, app_id) == "submitted"


def test_notifications_go_to_the_applicant_and_the_next_role_in_the_district(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "first_review")
    with Session(db_engine) as s:
        before = s.execute(select(func.max(OutboxMessage.id))).scalar_one()
    act(db_engine, app_id, "pass_first_review", "window_clerk")
    with Session(db_engine) as s:
        msgs = s.execute(select(OutboxMessage).where(OutboxMessage.id > before)).scalars().all()
    recipients = {(m.recipient_user, m.recipient_role, m.recipient_district, m.template) for m in msgs}
    assert recipients == {
        (ACTORS["applicant"], None, None, "application.second_review"),
        (None, "district_reviewer", D1, "application.task"),
    }


# --- determinations at review ----------------------------------------------------------------------


def test_each_review_stores_a_determination_with_engine_and_parameter_versions(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "publicity")
    dets = _determinations(db_engine, app_id)
    assert [d.stage for d in dets] == ["checkup", "first_review", "second_review"]
    for d in dets:
        assert d.status == "eligible" and d.amount_fen == 197_531
        assert d.engine_version == ENGINE_VERSION and d.parameters_version == PARAMS.version[:80]
        assert d.on == dt.date(2025, 3, 3)
        assert d.result["program"] == "startup_subsidy" and d.result["conditions"]
        assert "B-VET" in d.facts["businesses"]["columns"]["id"]
    assert dets[1].result["difference_from_checkup"] == {}


def test_determinations_cannot_be_updated(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "second_review")
    det_id = _determinations(db_engine, app_id)[0].id
    with pytest.raises(DBAPIError), db_engine.begin() as conn:
        conn.execute(update(Determination).where(Determination.id == det_id).values(status="ineligible"))
    assert _determinations(db_engine, app_id)[0].status == "eligible"


def test_the_review_shows_the_difference_from_the_checkup(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "first_review")
    with db_engine.begin() as conn:  # the registry changes between check-up and review
        conn.execute(
            update(BusinessYear).values(employer_si_paid_fen=500_000).where(BusinessYear.year == 2024)
        )
    result = act(db_engine, app_id, "pass_first_review", "window_clerk")
    assert result.difference == {"amount_fen": {"checkup": 197_531, "now": 100_000}}
    assert result.determination is not None and result.determination.amount_fen == 100_000
    assert _determinations(db_engine, app_id)[-1].result["difference_from_checkup"] == result.difference


def test_an_ineligible_subject_cannot_pass_review_but_can_be_rejected_with_the_evidence_stored(
    db_engine, pii
):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "first_review", kind="online_sales_subsidy", subject="B-ONLINE2")
    with pytest.raises(InvalidTransition, match="不符合"):
        act(db_engine, app_id, "pass_first_review", "window_clerk")
    result = act(db_engine, app_id, "reject", "window_clerk", reason="已享受过线上销售一次性补助")
    assert result.application.state == "rejected" and result.application.live_key is None
    assert result.determination is not None and result.determination.status == "ineligible"


def test_a_subject_missing_from_the_registry_cannot_pass_review(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "first_review", subject="B-NOWHERE")
    with pytest.raises(InvalidTransition, match="登记库中无此主体"):
        act(db_engine, app_id, "pass_first_review", "window_clerk")


# --- publicity and objections ------------------------------------------------------------------------


def test_publicity_lasts_five_working_days_and_approval_waits_for_its_end(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "publicity")
    with Session(db_engine) as s:
        app = s.get(Application, app_id)
        assert app is not None
        assert app.publicity_start == dt.date(2025, 3, 3)
        assert app.publicity_end == dt.date(2025, 3, 10) == calendar.add_working_days(dt.date(2025, 3, 3), 5)
    on_last_day = dt.datetime(2025, 3, 10, 8, 0, tzinfo=dt.UTC)
    with pytest.raises(InvalidTransition, match="公示期至 2025-03-10"):
        act(db_engine, app_id, "approve", "district_reviewer", now=on_last_day)
    next_day = dt.datetime(2025, 3, 10, 16, 30, tzinfo=dt.UTC)  # 00:30 on 11 March in Chongqing
    result = act(db_engine, app_id, "approve", "district_reviewer", now=next_day)
    assert result.application.state == "approved" and result.application.amount_approved_fen == 197_531


def test_an_objection_blocks_approval_until_resolved(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "objection")
    with pytest.raises(InvalidTransition):
        act(db_engine, app_id, "approve", "district_reviewer", now=LATER)
    act(db_engine, app_id, "object", "window_clerk", reason="另有群众反映")
    act(db_engine, app_id, "dismiss_objection", "district_reviewer", reason="经实地核查，异议不成立")
    with Session(db_engine) as s:
        objections = s.execute(select(Objection).where(Objection.application_id == app_id)).scalars().all()
    assert len(objections) == 2 and all(o.resolved_at is not None for o in objections)
    assert {o.resolution for o in objections} == {"经实地核查，异议不成立"}
    assert act(db_engine, app_id, "approve", "district_reviewer", now=LATER).application.state == "approved"


def test_an_open_objection_row_blocks_approval_by_its_guard(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "publicity")
    with db_engine.begin() as conn:
        conn.execute(
            insert(Objection).values(
                application_id=app_id, text="来信反映", raised_by="u-clerk", raised_at=NOW
            )
        )
    with pytest.raises(InvalidTransition, match="1 条公示异议未处理"):
        act(db_engine, app_id, "approve", "district_reviewer", now=LATER)


def test_an_upheld_objection_sends_the_application_back_to_second_review(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "objection")
    result = act(db_engine, app_id, "review_again", "district_reviewer", reason="异议成立，重新核查经营情况")
    assert result.application.state == "second_review"
    again = act(db_engine, app_id, "pass_second_review", "district_reviewer", now=LATER)
    assert again.application.publicity_start == LATER.date()
    assert [d.stage for d in _determinations(db_engine, app_id)][-2:] == ["second_review", "second_review"]


def test_stale_expected_version_is_a_conflict(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    with Session(db_engine) as s:
        version = s.execute(
            text("SELECT version FROM applications WHERE id = :i"), {"i": app_id}
        ).scalar_one()
    with pytest.raises(Conflict):
        act(db_engine, app_id, "accept", "window_clerk", expected_version=version - 1)
    assert (
        act(db_engine, app_id, "accept", "window_clerk", expected_version=version).application.version
        == version + 1
    )


# --- migration 0004 ------------------------------------------------------------------------------------


_TABLES = {"applications", "determinations", "application_transitions", "application_objections"}


def test_migration_0004_upgrades_downgrades_and_matches_the_models(fresh_engine):
    upgrade(fresh_engine, "0003")
    assert not _TABLES & set(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine, "0004")
    assert set(inspect(fresh_engine).get_table_names()) >= _TABLES
    upgrade(fresh_engine)  # later revisions too: at head the schema equals the models
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    downgrade(fresh_engine, "0003")
    assert not _TABLES & set(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine, "0004")  # the trigger was dropped with its table: upgrading again works
    assert set(inspect(fresh_engine).get_table_names()) >= _TABLES


def test_a_program_that_does_not_apply_to_the_subject_is_determined_not_applicable(db_engine, pii):
    """B-VET is no carrier's tenant: rent reduction is not about it. The determination says so in Chinese
    (it used to fail inside the explainer, which only explains rows a program applies to)."""
    from xiangchuang.db import make_sessionmaker

    setup(db_engine, pii)
    with make_sessionmaker(db_engine)() as session:
        probe = Application(kind="carrier_rent_reduction", subject_table="businesses", subject_key="B-VET")
        det = service.determine(session, probe, on=NOW.date(), params=PARAMS)
    assert det["status"] == "not_applicable"
    assert det["result"]["message"].startswith("该主体不属于")
    assert det["facts"]["businesses"]["n"] == 1
