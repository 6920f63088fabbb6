"""核准 determines the application again on the day (service._still_due): what was granted since its
second review counts before it is approved, so nothing is paid twice — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, KEY, LATER, PARAMS, application_in, state_of
from tests.applications.test_register import _approve, _budget, _grants, _reserved
from tests.applications.test_si_periods import SI, _registry
from xiangchuang.applications import disbursement
from xiangchuang.applications.service import ApprovalRefused
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.errors import InvalidTransition
from xiangchuang.models import AuditEvent, Determination


def test_the_second_of_two_overlapping_social_insurance_claims_is_not_approved(db_engine, pii):
    """Two claims of one hire, 2024-01/2024-06 and 2024-04/2024-09, both reviewed and publicised
    while neither was approved: the first is approved and registered; the second, determined again,
    overlaps the registered months (README choices 49, 60) and is refused in Chinese with the
    engine's reason — before, both were approved and 2024-04..06 paid twice."""
    _registry(db_engine, pii)
    _budget(db_engine)
    a = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    b = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-04/2024-09")
    _approve(db_engine, a)
    with pytest.raises(
        InvalidTransition, match=r"核准前按登记库当前数据.*重新判定.*不一致，不能核准"
    ) as refused:
        _approve(db_engine, b)
    assert "2024-04" in str(refused.value)  # (the engine's reason names the overlapping months)
    assert state_of(db_engine, a) == "approved" and state_of(db_engine, b) == "publicity"
    assert _reserved(db_engine, b) == 0
    assert [g.period for g in _grants(db_engine, program=SI)] == ["2024-01/2024-06"]


def test_an_application_still_due_is_approved_at_the_amount_publicised(db_engine, pii):
    _registry(db_engine, pii)
    _budget(db_engine)
    a = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    _approve(db_engine, a)
    assert state_of(db_engine, a) == "approved"
    (grant,) = _grants(db_engine, program=SI)
    assert grant.amount_fen == _reserved(db_engine, a) > 0


def test_the_workshop_award_year_is_the_applications_year(db_engine, pii):
    """The engine evaluates the year the application claims (businesses.claim_year), as for the
    startup subsidy: a 2023 application is determined for 2023, and once 2023 and 2024 are
    registered, another 2024 application is refused. Before, the engine evaluated its default year
    (2024) for the 2023 application, and a 2024 application was then paid for 2024 again."""
    from tests.applications.test_si_periods import _determination
    from tests.applications.test_workshop_build_facts import WS, YEAR_AWARD, _workshop

    _workshop(db_engine, pii, new_build=False, cost=None)
    _budget(db_engine)
    first = application_in(db_engine, "publicity", kind=WS, subject="B-WS", period="2023")
    det = _determination(db_engine, first, "second_review")
    (year_msg,) = [c["message"] for c in det["result"]["conditions"] if c["id"] == "claim_year_valid"]
    assert "2023" in year_msg and "2024" not in year_msg
    _approve(db_engine, first)
    second = application_in(db_engine, "publicity", kind=WS, subject="B-WS", period="2024年")
    _approve(db_engine, second)
    assert [(g.period, g.amount_fen) for g in _grants(db_engine, program=WS)] == [
        ("2023", YEAR_AWARD),
        ("2024", YEAR_AWARD),
    ]


def test_a_yearly_period_is_written_one_way() -> None:
    """「2024年」 and 「2024年度」 are the year 2024 (one once-per-year key, the register's period) —
    before, 「2024」 and 「2024年」 were two applications, each approved for the engine's 2024."""
    from xiangchuang.applications.kinds import check_period

    for kind in ("startup_subsidy", "workshop_award", "carrier_award", "job_subsidy"):
        assert [check_period(kind, t) for t in ("2024", " 2024年 ", "2024年度")] == ["2024"] * 3
        assert check_period(kind, "２０２４") == "２０２４"  # (not ASCII digits: not read as a year)


# ---- a refused approval names the engine's reasons and keeps its determination (README choice 88) ----


def _approve_committing(engine, app_id: int, now=LATER) -> None:
    """Approve as a request or a command does (``db.transaction``: a refusal that is a record is
    committed before it is raised again)."""
    with transaction(make_sessionmaker(engine)) as s:
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=now,
            params=PARAMS,
        )


def _kept(engine, app_id: int) -> list[Determination]:
    with Session(engine) as s:
        return list(
            s.scalars(
                select(Determination)
                .where(Determination.application_id == app_id, Determination.stage == "approval")
                .order_by(Determination.id)
            )
        )


def _refusal_audits(engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "application.approve_refused")))


def test_a_refused_approval_names_the_failed_conditions_and_keeps_its_determination(db_engine, pii):
    """The overlapping social-insurance claim: the refusal quotes every condition the engine finds
    unmet (its own messages), the day's determination is stored with the application (stage
    approval) and the audit entry of the refusal names it. Before, only the first condition was
    quoted and the determination was lost with the refusal."""
    _registry(db_engine, pii)
    _budget(db_engine)
    a = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    b = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-04/2024-09")
    _approve(db_engine, a)
    with pytest.raises(ApprovalRefused) as refused:
        _approve_committing(db_engine, b)
    (kept,) = _kept(db_engine, b)
    assert kept.status == "ineligible" and kept.on == LATER.date()
    assert refused.value.stored_id == kept.id
    failed = [c["message"] for c in kept.result["conditions"] if c["status"] != "pass"]
    assert failed and all(m in refused.value.message for m in failed)
    assert "本次判定已随申请保存" in refused.value.message
    assert state_of(db_engine, b) == "publicity" and _reserved(db_engine, b) == 0
    (audit,) = _refusal_audits(db_engine)
    assert audit.outcome == "denied" and audit.details["determination_id"] == kept.id
    assert audit.details["determination"] == "ineligible"
    # (a caller that rolls back on any error keeps nothing: the record is the caller's to commit)
    with pytest.raises(ApprovalRefused):
        _approve(db_engine, b)
    assert len(_kept(db_engine, b)) == 1


def test_an_undetermined_approval_names_the_missing_facts(db_engine, pii):
    """A startup subsidy whose year's employer contributions were cleared after the review (unknown):
    待定, the refusal names the missing fact by its Chinese label (the engine's ``missing``), and the
    stored determination lists it. Before, the refusal quoted the first unmet condition only."""
    from sqlalchemy import update

    from tests.applications import setup
    from xiangchuang.models import BusinessYear

    setup(db_engine, pii)
    _budget(db_engine)
    app = application_in(db_engine, "publicity", period="2024")
    with db_engine.begin() as conn:
        conn.execute(update(BusinessYear).values(employer_si_paid_fen=None))
    with pytest.raises(ApprovalRefused) as refused:
        _approve_committing(db_engine, app)
    (kept,) = _kept(db_engine, app)
    assert kept.status == "undetermined"
    labels = [m["label"] for m in kept.result["missing"]]
    assert labels and all(label in refused.value.message for label in labels)
    unknown = [c["message"] for c in kept.result["conditions"] if c["status"] == "unknown"]
    assert unknown and all(m in refused.value.message for m in unknown)
    assert "结论为「待定" in refused.value.message and state_of(db_engine, app) == "publicity"


def test_refusal_reasons_follow_the_engines_document() -> None:
    from xiangchuang.applications.service import refusal_reasons

    doc = {
        "status": "undetermined",
        "conditions": [
            {"id": "a", "status": "pass", "message": "甲"},
            {"id": "b", "status": "fail", "message": "乙不满足"},
            {"id": "g1", "status": "fail", "message": "丙", "group": "g"},
            {"id": "g2", "status": "pass", "message": "丁", "group": "g"},
            {"id": "h1", "status": "unknown", "message": "戊待核实", "group": "h"},
        ],
        "missing": [{"fact": "rating", "label": "年度绩效评估等次"}],
    }
    # (丙, a ground of g, not quoted: g holds by 丁 — an either/or route not taken is no reason)
    assert refusal_reasons(doc) == "乙不满足；戊待核实；尚缺：年度绩效评估等次"
    # (where the amount is what differs, a ground not passing may be a part not paid: quoted)
    lower = {**doc, "status": "eligible", "amount_rule": "甲部分¥1.00", "missing": []}
    assert refusal_reasons(lower) == "金额：甲部分¥1.00；乙不满足；丙；戊待核实"
    named = {**doc, "conditions": [{"id": "r", "status": "unknown", "message": "缺少事实：年度绩效评估等次"}]}
    assert refusal_reasons(named) == "缺少事实：年度绩效评估等次"  # (named once)
    assert (
        refusal_reasons({"status": "not_in_registry", "message": "登记库中没有该主体"})
        == "登记库中没有该主体"
    )
    lower = {
        "status": "eligible",
        "amount_rule": "一次性奖补¥1.00 + 绩效奖补待定",
        "conditions": doc["conditions"][:2],
    }
    assert refusal_reasons(lower) == "金额：一次性奖补¥1.00 + 绩效奖补待定；乙不满足"


def test_a_refusal_is_not_kept_against_an_application_another_transaction_approved_meanwhile(
    db_engine, pii, monkeypatch
):
    """Two approvals of one application at once (PostgreSQL; SQLite's writer lock serialises them):
    the second read the application before the first committed, and its determination then saw the
    first's grant of this very application (「已享受」). It used to keep that refusal — a 不予核准
    determination and audit entry against an application now approved. Its version has moved on:
    a conflict, nothing kept."""
    from tests.applications import setup
    from xiangchuang.applications import service
    from xiangchuang.errors import Conflict

    if db_engine.dialect.name == "sqlite":
        pytest.skip("SQLite's BEGIN IMMEDIATE serialises the two approvals: the race cannot happen")
    setup(db_engine, pii)
    _budget(db_engine)
    app_id = application_in(db_engine, "publicity", period="2024")
    real = service._check_scope
    fired: list[int] = []

    def first_approves_meanwhile(app, **kw):  # (this one has loaded the application: publicity)
        real(app, **kw)
        if not fired:
            fired.append(1)
            _approve(db_engine, app_id)

    monkeypatch.setattr(service, "_check_scope", first_approves_meanwhile)
    with pytest.raises(Conflict), transaction(make_sessionmaker(db_engine)) as s:
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=LATER,
            params=PARAMS,
        )
    assert state_of(db_engine, app_id) == "approved"
    with Session(db_engine) as s:
        stages = s.scalars(select(Determination.stage).where(Determination.application_id == app_id)).all()
        refused = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "application.approve_refused")
        ).all()
    assert "approval" not in stages and refused == []
