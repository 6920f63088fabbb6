"""The training service on both databases: engine eligibility at enrolment (incl. the exact anniversary),
waiting list and promotion, attendance and the dated completion threshold, certificates (PDF text read
back with pdftotext) and public verification, provider claims through the application workflow to
disbursed with the SYB 6-month rule from the registry, 项目制 delivery, and bad input that writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.registry.factories import Registry
from tests.training.world import CLERK, KEY, NOW, PARAMS, REVIEWER, D, World, build, new_class
from xiangchuang.applications import disbursement
from xiangchuang.applications import service as apps
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.tri import FAIL, PASS
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from xiangchuang.models import (
    Application,
    Attendance,
    AuditEvent,
    Determination,
    Enrolment,
    Grant,
    TrainingClass,
)
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.repository import Scope
from xiangchuang.training import service as svc
from xiangchuang.training.certificate import certificate_pdf
from xiangchuang.training.excel import roster_xlsx
from xiangchuang.training.service import Actor

DATA = Path(tempfile.mkdtemp(prefix="xc-training-"))
AFTER = dt.datetime(2025, 3, 10, 2, 0, tzinfo=dt.UTC)  # after the classes ended (2025-03-07)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def world(db_engine, pii) -> World:
    return build(db_engine, pii)


def _s(db_engine):
    return transaction(make_sessionmaker(db_engine))


def _enrol(db_engine, class_id, person, who=CLERK, now=NOW):
    with _s(db_engine) as s:
        e = svc.enrol(s, class_id=class_id, person_id=person, who=who, audit_key=KEY, params=PARAMS, now=now)
        return e.id, e.state, e.training_no


def _attend_all(db_engine, class_id, w, nos, sessions=5, skip=()):
    for k in range(1, sessions + 1):
        with _s(db_engine) as s:
            svc.record_attendance(
                s, class_id=class_id, session_no=k, session_date=dt.date(2025, 3, 2 + k),
                present={no: (no, k) not in skip for no in nos}, who=w.provider_actor, audit_key=KEY, now=AFTER,
            )  # fmt: skip


def test_engine_eligibility_and_the_exact_anniversary(db_engine, pii, world):
    on = dt.date(2025, 3, 3)
    with _s(db_engine) as s:
        e = lambda person, kind, start=on: svc.eligibility(  # noqa: E731
            s, person_id=person, kind=kind, start_date=start, on=on, params=PARAMS
        )
        assert e(world.preparing, "syb").status == "eligible"
        assert e(world.preparing, "iyb").status == "ineligible"
        # licence 2024-03-03, start 2025-03-03: the exact anniversary — both SYB and IYB hold
        assert e(world.licensed, "syb").status == "eligible"
        assert e(world.licensed, "iyb").status == "eligible"
        # one day earlier IYB fails with the distance, one day later SYB fails
        early = e(world.licensed, "iyb", dt.date(2025, 3, 2))
        assert early.status == "ineligible" and "未满1年" in early.reason
        assert e(world.licensed, "syb", dt.date(2025, 3, 4)).status == "ineligible"
        old = e(world.old_licence, "syb")
        assert old.status == "ineligible" and "应参加IYB培训" in old.reason
        assert e(world.old_licence, "iyb").status == "eligible"
        local = e(world.not_returning, "syb")
        assert local.status == "ineligible" and "不是返乡入乡创业人员" in local.reason
        assert e(world.not_returning, "skills").status == "open"


def test_refused_enrolment_has_the_reason_and_writes_nothing(db_engine, pii, world):
    syb = new_class(db_engine, pii.cipher, world, world.syb_course)
    with _s(db_engine) as s:
        before = s.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ValidationFailed, match=r"不符合「SYB（创办你的企业）」培训条件：.*应参加IYB培训"):
        _enrol(db_engine, syb, world.old_licence)
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Enrolment)) == 0
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == before
    # an applicant enrols only themself; a provider only in its own classes
    with pytest.raises(Forbidden):
        _enrol(db_engine, syb, world.preparing, who=Actor("P-LIC", "applicant", person_id=world.licensed))
    with pytest.raises(Forbidden):
        _enrol(db_engine, syb, world.preparing, who=Actor("x", "training_provider", provider_id=999))
    _enrol(db_engine, syb, world.preparing)
    with pytest.raises(Conflict, match="不能重复报名"):
        _enrol(db_engine, syb, world.preparing)


def test_waiting_list_and_promotion(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.skills_course, capacity=1)
    first = _enrol(db_engine, cls, world.preparing)
    second = _enrol(db_engine, cls, world.licensed)
    third = _enrol(db_engine, cls, world.old_licence)
    assert first[1] == "enrolled" and second[1] == "waiting" and third[1] == "waiting"
    with _s(db_engine) as s:
        _, promoted = svc.withdraw(s, enrolment_id=first[0], who=CLERK, audit_key=KEY, now=NOW)
        assert promoted is not None and promoted.id == second[0]
    with _s(db_engine) as s:
        assert [
            p.id for p in svc.set_capacity(s, class_id=cls, capacity=2, who=CLERK, audit_key=KEY, now=NOW)
        ] == [third[0]]
        with pytest.raises(ValidationFailed, match="不能少于 2"):
            svc.set_capacity(s, class_id=cls, capacity=1, who=CLERK, audit_key=KEY, now=NOW)


def test_completion_threshold_certificate_and_verification(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    a = _enrol(db_engine, cls, world.preparing)
    b = _enrol(db_engine, cls, world.licensed)
    # a misses 1 of 5 (80 % = the threshold, included), b misses 2 (60 %)
    _attend_all(db_engine, cls, world, [a[2], b[2]], skip={(a[2], 2), (b[2], 1), (b[2], 4)})
    with _s(db_engine) as s, pytest.raises(ValidationFailed, match="课次：须为 1–5"):
        svc.record_attendance(
            s, class_id=cls, session_no=6, session_date=dt.date(2025, 3, 7), present={a[2]: True},
            who=world.provider_actor, audit_key=KEY, now=AFTER,
        )  # fmt: skip
    with _s(db_engine) as s:
        res = svc.complete_class(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER
        )
        assert [e.id for e in res.completed] == [a[0]] and [e.id for e in res.not_completed] == [b[0]]
        code = res.completed[0].certificate_code
    assert code and code.startswith("XC-")
    with _s(db_engine) as s:
        pdf = certificate_pdf(s, enrolment_id=a[0])
    assert pdf.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode()
        assert "培训合格证" in text and code in text and "创办你的企业" in text and "2025-03-07" in text
    with _s(db_engine) as s:
        ok = svc.verify_certificate(s, code=code.lower().replace("-", ""))
        assert ok.valid and ok.course == "创办你的企业" and ok.masked_name and "*" in ok.masked_name
        assert not svc.verify_certificate(s, code="XC-AAAAAAAAAAAA").valid
        assert not svc.verify_certificate(s, code="nonsense").valid
        with pytest.raises(InvalidTransition, match="尚未结业"):
            certificate_pdf(s, enrolment_id=b[0])
        assert s.get(TrainingClass, cls).state == "finished"


def _drive(db_engine, app_id, action, role, actor, now, district=D):
    with _s(db_engine) as s:
        return apps.transition(
            s, application_id=app_id, action=action, actor=actor, role=role, actor_district=district,
            audit_key=KEY, now=now, params=PARAMS,
        ).application.state  # fmt: skip


def _claim_and_pay(db_engine, world, cls, later: dt.datetime) -> Application:
    with _s(db_engine) as s:
        res = svc.claim(s, class_id=cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=AFTER)
        assert len(res.created) == 1
        app_id = res.created[0].id
    return _submit_and_pay(db_engine, world, app_id, later)


def _submit_and_pay(db_engine, world, app_id: int, later: dt.datetime) -> Application:
    with _s(db_engine) as s, pytest.raises(ValidationFailed, match="缺少必需材料「身份证明」"):
        svc.submit_claim(
            s, application_id=app_id, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER
        )
    with _s(db_engine) as s:
        svc.upload_claim_material(
            s, application_id=app_id, material="identity", filename="id.pdf", content=PDF,
            who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=AFTER,
        )  # fmt: skip
        assert svc.submit_claim(s, application_id=app_id, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER).state == "submitted"  # fmt: skip
    for action in ("accept", "start_first_review", "pass_first_review"):
        _drive(db_engine, app_id, action, "window_clerk", "u-clerk", later)
    assert (
        _drive(db_engine, app_id, "pass_second_review", "district_reviewer", "u-reviewer", later)
        == "publicity"
    )
    approve_at = later + dt.timedelta(days=20)
    assert _drive(db_engine, app_id, "approve", "district_reviewer", "u-reviewer", approve_at) == "approved"
    _drive(db_engine, app_id, "start_disbursement", "district_finance", "u-fin", approve_at)
    assert (
        _drive(db_engine, app_id, "confirm_disbursement", "district_finance", "u-fin", approve_at)
        == "disbursed"
    )
    with _s(db_engine) as s:
        return s.get(Application, app_id)


def test_claim_through_the_workflow_syb_six_month_rule(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    a = _enrol(db_engine, cls, world.preparing)
    _attend_all(db_engine, cls, world, [a[2]])
    with _s(db_engine) as s:
        with pytest.raises(InvalidTransition, match="尚未结业"):
            svc.claim(s, class_id=cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=AFTER)
        with pytest.raises(Forbidden):
            svc.claim(s, class_id=cls, who=CLERK, audit_key=KEY, data_dir=DATA, now=AFTER)
        svc.complete_class(s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
    # reviewed with no business in the registry: the reduced share (50 % of 1,000 yuan)
    app = _claim_and_pay(db_engine, world, cls, dt.datetime(2025, 3, 11, 2, 0, tzinfo=dt.UTC))
    assert app.state == "disbursed" and app.amount_approved_fen == 50_000
    with _s(db_engine) as s:
        dets = s.scalars(select(Determination).where(Determination.application_id == app.id)).all()
        assert {d.stage for d in dets} >= {"checkup", "first_review", "second_review"}
        assert all(d.status == "eligible" for d in dets)
        again = svc.claim(s, class_id=cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=AFTER)
        assert not again.created and "已拨付" in next(iter(again.skipped.values()))


def test_syb_full_amount_when_the_registry_shows_a_business_within_six_months(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    a = _enrol(db_engine, cls, world.preparing)
    _attend_all(db_engine, cls, world, [a[2]])
    with _s(db_engine) as s:
        svc.complete_class(s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
    with db_engine.begin() as conn:
        Registry(conn, pii).business(
            no="B-PREP", founder=world.preparing, registration_date=dt.date(2025, 6, 1)
        )
    app = _claim_and_pay(db_engine, world, cls, dt.datetime(2025, 6, 10, 2, 0, tzinfo=dt.UTC))
    assert app.amount_approved_fen == 100_000


def _submit_and_approve(db_engine, world, app_id: int, at: dt.datetime) -> Application:
    """Submit a claim at ``at`` and take it to 核准 as production does (disbursement.act: the budget
    reservation and the register row in one savepoint; the other claim tests stop short of the register)."""
    with _s(db_engine) as s:
        svc.upload_claim_material(
            s, application_id=app_id, material="identity", filename="id.pdf", content=PDF,
            who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=at,
        )  # fmt: skip
        svc.submit_claim(
            s, application_id=app_id, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=at
        )
        disbursement.open_budget(s, district=D, amount_fen=10_000_000, at=at, note="测试预算")
    for action in ("accept", "start_first_review", "pass_first_review"):
        _drive(db_engine, app_id, action, "window_clerk", "u-clerk", at)
    assert (
        _drive(db_engine, app_id, "pass_second_review", "district_reviewer", "u-reviewer", at) == "publicity"
    )
    with _s(db_engine) as s:
        result = disbursement.act(
            s, application_id=app_id, action="approve", actor="u-reviewer", role="district_reviewer",
            actor_district=D, audit_key=KEY, now=at + dt.timedelta(days=20), params=PARAMS,
        )  # fmt: skip
        assert result.application.state == "approved"
    with _s(db_engine) as s:
        return s.get(Application, app_id)


def _claim_and_approve(db_engine, world, cls, at: dt.datetime) -> Application:
    with _s(db_engine) as s:
        res = svc.claim(s, class_id=cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=at)
        assert len(res.created) == 1
    return _submit_and_approve(db_engine, world, res.created[0].id, at)


def test_syb_top_up_after_a_business_registered_within_six_months(db_engine, pii, world):
    """补足差额 (README choice 6): paid the reduced share with no business, the trainee registers one
    within 6 months of completion; the provider's top-up claim (period 补差) pays the difference once,
    registered as a second SYB row; a second top-up claim is skipped."""
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    a = _enrol(db_engine, cls, world.preparing)
    _attend_all(db_engine, cls, world, [a[2]])
    with _s(db_engine) as s:
        svc.complete_class(s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
    with _s(db_engine) as s:
        early = svc.claim_top_up(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, data_dir=DATA, now=AFTER
        )
        assert not early.created and "尚无已核准" in early.skipped[a[2]]
    first = _claim_and_approve(db_engine, world, cls, dt.datetime(2025, 3, 11, 2, 0, tzinfo=dt.UTC))
    assert first.amount_approved_fen == 50_000
    later = dt.datetime(2025, 6, 10, 2, 0, tzinfo=dt.UTC)
    with _s(db_engine) as s:  # no business yet: the engine says no top-up is due, with its reason
        res = svc.claim_top_up(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, data_dir=DATA, now=later
        )
        assert not res.created and "不需补差" in res.skipped[a[2]] and "未登记经营主体" in res.skipped[a[2]]
    with db_engine.begin() as conn:
        Registry(conn, pii).business(
            no="B-PREP", founder=world.preparing, registration_date=dt.date(2025, 6, 1)
        )
    with _s(db_engine) as s:
        res = svc.claim_top_up(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, data_dir=DATA, now=later
        )
        assert len(res.created) == 1 and res.created[0].period == "补差"
        assert res.created[0].amount_requested_fen == 50_000
        top_id = res.created[0].id
    top = _submit_and_approve(db_engine, world, top_id, later)
    assert top.amount_approved_fen == 50_000  # 1,000 − 500 yuan
    with _s(db_engine) as s:
        rows = s.execute(
            select(Grant.period, Grant.amount_fen).where(Grant.program == "training_syb").order_by(Grant.id)
        ).all()
        assert [r.amount_fen for r in rows] == [50_000, 50_000] and rows[1].period == "补差"
        again = svc.claim_top_up(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, data_dir=DATA, now=later
        )
        assert not again.created and "已有补差申请" in again.skipped[a[2]]
        # The application service itself refuses a second top-up of the trainee (one per trainee).
        with pytest.raises(Conflict):
            apps.create_application(
                s, kind="training_syb", subject_key=a[2], period="补差", district=D,
                applicant_user="org:x", actor="org:x", role="applicant", actor_district=None, audit_key=KEY,
                now=later,
            )  # fmt: skip


def test_syb_top_up_is_not_due_after_the_window_and_only_for_syb(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    a = _enrol(db_engine, cls, world.preparing)
    _attend_all(db_engine, cls, world, [a[2]])
    with _s(db_engine) as s:
        svc.complete_class(s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
    with _s(db_engine) as s, pytest.raises(ValidationFailed, match="不需要补差"):  # nothing registered yet
        apps.create_application(
            s, kind="training_syb", subject_key=a[2], period="补差", district=D,
            applicant_user="org:x", actor="org:x", role="applicant", actor_district=None, audit_key=KEY,
        )  # fmt: skip
    _claim_and_approve(db_engine, world, cls, dt.datetime(2025, 3, 11, 2, 0, tzinfo=dt.UTC))
    with db_engine.begin() as conn:  # registered after completion + 6 months
        Registry(conn, pii).business(
            no="B-LATE", founder=world.preparing, registration_date=dt.date(2025, 10, 1)
        )
    with _s(db_engine) as s:
        res = svc.claim_top_up(
            s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, data_dir=DATA,
            now=dt.datetime(2025, 10, 10, 2, 0, tzinfo=dt.UTC),
        )  # fmt: skip
        assert not res.created and "不补差额" in res.skipped[a[2]]
        # 补差 is a SYB-only period, and needs a registered claim of the trainee to top up.
        with pytest.raises(ValidationFailed, match="只用于SYB培训补贴"):
            apps.create_application(
                s, kind="training_iyb", subject_key=a[2], period="补差", district=D,
                applicant_user="org:x", actor="org:x", role="applicant", actor_district=None, audit_key=KEY,
            )  # fmt: skip


def test_purchase_delivery_and_amount_due(db_engine, pii, world):
    with _s(db_engine) as s:
        with pytest.raises(Forbidden):
            svc.create_purchase(
                s, contract_no="HT-1", provider_id=world.provider_id, course_kind="skills", trainees=2,
                price_fen=150_000, signed_on=dt.date(2025, 2, 1), deliver_by=dt.date(2025, 12, 31), who=CLERK,
                audit_key=KEY, now=NOW,
            )  # fmt: skip
        with pytest.raises(ValidationFailed, match="没有有效的"):
            svc.create_purchase(
                s, contract_no="HT-1", provider_id=world.provider_id, course_kind="package", trainees=2,
                price_fen=150_000, signed_on=dt.date(2025, 2, 1), deliver_by=dt.date(2025, 12, 31), who=REVIEWER,
                audit_key=KEY, now=NOW,
            )  # fmt: skip
        p = svc.create_purchase(
            s, contract_no="HT-1", provider_id=world.provider_id, course_kind="skills", trainees=2,
            price_fen=150_000, signed_on=dt.date(2025, 2, 1), deliver_by=dt.date(2025, 12, 31), who=REVIEWER,
            audit_key=KEY, now=NOW,
        )  # fmt: skip
        pid = p.id
    with _s(db_engine) as s:
        cls = svc.create_class(
            s, provider_id=world.provider_id, course_id=world.skills_course, mode="direct_train", district=D,
            place="某村文化室", start_date=dt.date(2025, 3, 3), end_date=dt.date(2025, 3, 7), capacity=5, sessions=5,
            who=world.provider_actor, audit_key=KEY, cipher=pii.cipher, purchase_id=pid, now=NOW,
        ).id  # fmt: skip
    nos = [_enrol(db_engine, cls, p)[2] for p in (world.preparing, world.licensed, world.old_licence)]
    _attend_all(db_engine, cls, world, nos)
    with _s(db_engine) as s:
        svc.complete_class(s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER)
        prog = svc.purchase_progress(s, svc.repo.purchase(s, pid))
        assert (prog.delivered, prog.countable, prog.amount_due_fen, prog.remaining) == (3, 2, 300_000, 0)


def test_bad_class_input(db_engine, pii, world):
    kw = dict(
        provider_id=world.provider_id, course_id=world.syb_course, mode="night_school", district=D, place="夜校",
        start_date=dt.date(2025, 3, 3), end_date=dt.date(2025, 3, 7), capacity=30, sessions=5,
        who=world.provider_actor, audit_key=KEY, cipher=pii.cipher, now=NOW,
    )  # fmt: skip
    for over, msg in (
        ({"capacity": 0}, "人数：须为 1–500 的整数"),
        ({"mode": "boat"}, "培训方式"),
        ({"end_date": dt.date(2025, 3, 1)}, "结束日期"),
        ({"start_date": dt.date(2024, 6, 1)}, "没有有效的「SYB（创办你的企业）」培训认定"),
        ({"district": 123}, "不是重庆市的区县代码"),
        ({"teachers": [svc.TeacherIn(mentor_no="M-NONE")]}, "不在创业导师库中"),
    ):
        with _s(db_engine) as s, pytest.raises(ValidationFailed, match=msg):
            svc.create_class(s, **{**kw, **over})
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(TrainingClass)) == 0


def test_excel_import_all_or_nothing_and_roster_export(db_engine, pii, world):
    cls = new_class(db_engine, pii.cipher, world, world.syb_course)

    def book(rows, header=("登记库人员编号",)):
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(list(header))
        for r in rows:
            ws.append(list(r))
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()

    bad = book([("P-PREP",), ("P-OLD",), ("P-NOBODY",), ("P-PREP",)])
    with _s(db_engine) as s, pytest.raises(ValidationFailed) as err:
        svc.import_enrolments(s, class_id=cls, content=bad, who=CLERK, audit_key=KEY, params=PARAMS, now=NOW)
    assert "第 4 行「登记库人员编号」：P-NOBODY 不在登记库中" in err.value.message
    assert "第 5 行「登记库人员编号」：与第 2 行重复" in err.value.message
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Enrolment)) == 0
    with _s(db_engine) as s, pytest.raises(ValidationFailed, match=r"第 3 行.*应参加IYB培训"):
        svc.import_enrolments(
            s,
            class_id=cls,
            content=book([("P-PREP",), ("P-OLD",)]),
            who=CLERK,
            audit_key=KEY,
            params=PARAMS,
            now=NOW,
        )
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Enrolment)) == 0
        made = svc.import_enrolments(
            s,
            class_id=cls,
            content=book([("P-PREP",), ("P-LIC",)]),
            who=CLERK,
            audit_key=KEY,
            params=PARAMS,
            now=NOW,
        )
        nos = [e.training_no for e in made]
    att = book(
        [(nos[0], 1, "2025-03-03", "是"), (nos[1], 1, "2025-03-03", "否")],
        ("学员编号", "课次", "上课日期", "出勤"),
    )
    with _s(db_engine) as s, pytest.raises(ValidationFailed, match="第 2 行「出勤」"):
        svc.import_attendance(
            s, class_id=cls, content=book([(nos[0], 1, "2025-03-03", "也许")], ("学员编号", "课次", "上课日期", "出勤")),
            who=CLERK, audit_key=KEY, now=AFTER,
        )  # fmt: skip
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Attendance)) == 0
        assert svc.import_attendance(s, class_id=cls, content=att, who=CLERK, audit_key=KEY, now=AFTER) == 2
        data = roster_xlsx(s, class_id=cls, cipher=pii.cipher)
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == 2 and all("*" in str(r[2]) and "*" in str(r[3]) for r in rows)
    with pytest.raises(ValidationFailed, match="须为 Excel"), _s(db_engine) as s:
        svc.import_enrolments(
            s, class_id=cls, content=b"not excel", who=CLERK, audit_key=KEY, params=PARAMS, now=NOW
        )


def test_each_kind_once_per_trainee_across_classes(db_engine, pii, world):
    """每类每人一次: a second SYB class of the same trainee gets no second claim (database-enforced key)."""
    claims = []
    for _ in range(2):
        cls = new_class(db_engine, pii.cipher, world, world.syb_course)
        a = _enrol(db_engine, cls, world.preparing)
        _attend_all(db_engine, cls, world, [a[2]])
        with _s(db_engine) as s:
            svc.complete_class(
                s, class_id=cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER
            )
            claims.append(
                svc.claim(s, class_id=cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=AFTER)
            )
    assert len(claims[0].created) == 1 and not claims[1].created
    assert "每类培训补贴每人只能享受一次" in next(iter(claims[1].skipped.values()))
    with _s(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(Application)) == 1


def test_only_the_providers_district_accredits_it(db_engine, pii, world):
    """Regression (scope matrix, issue #7): a district reviewer could accredit a provider registered in
    another district (the check compared the reviewer's district with itself); now only the reviewer of the
    provider's district may, and the refusal writes nothing."""
    from xiangchuang.models import Accreditation

    other = Actor("u-reviewer-b", "district_reviewer", 500102)
    with _s(db_engine) as s:
        before = s.execute(select(func.count()).select_from(Accreditation)).scalar_one()
    with pytest.raises(Forbidden, match="认定培训机构"), _s(db_engine) as s:
        svc.accredit(
            s, provider_id=world.provider_id, accreditation_no="外区认〔2025〕9号", course_kinds="syb",
            valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2026, 12, 31), who=other, audit_key=KEY, now=NOW,
        )  # fmt: skip
    with _s(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Accreditation)).scalar_one() == before
        svc.accredit(
            s, provider_id=world.provider_id, accreditation_no="渝人社认〔2025〕9号", course_kinds="syb",
            valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2026, 12, 31), who=REVIEWER, audit_key=KEY,
            now=NOW,
        )  # fmt: skip


def test_an_earlier_classs_reduced_share_is_not_topped_up_by_a_later_class(db_engine, pii, world):
    """README choice 6: SYB is paid once per person. A trainee enrolled in two SYB classes, paid the
    reduced share for class A (no business yet), who completes class B and then registers a
    business, gets no difference through class B: the register row of A's claim names the month A
    was completed (its period), so the engine sees it was paid for an earlier class. A's own top-up
    stays due. (The row used to carry A's class number, which dates nothing: B's claim was due.)"""
    a_cls = new_class(db_engine, pii.cipher, world, world.syb_course)
    b_cls = new_class(
        db_engine, pii.cipher, world, world.syb_course, start=dt.date(2025, 4, 7), end=dt.date(2025, 4, 11)
    )
    a = _enrol(db_engine, a_cls, world.preparing)
    b = _enrol(db_engine, b_cls, world.preparing)
    _attend_all(db_engine, a_cls, world, [a[2]])
    with _s(db_engine) as s:
        svc.complete_class(
            s, class_id=a_cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=AFTER
        )
    first = _claim_and_approve(db_engine, world, a_cls, dt.datetime(2025, 3, 11, 2, 0, tzinfo=dt.UTC))
    assert first.amount_approved_fen == 50_000
    with _s(db_engine) as s:  # the register row's period is the month class A was completed
        assert (
            s.execute(select(Grant.period).where(Grant.program == "training_syb")).scalar_one() == "2025-03"
        )
    b_done = dt.datetime(2025, 4, 14, 2, 0, tzinfo=dt.UTC)
    for k in range(1, 6):
        with _s(db_engine) as s:
            svc.record_attendance(
                s, class_id=b_cls, session_no=k, session_date=dt.date(2025, 4, 6 + k),
                present={b[2]: True}, who=world.provider_actor, audit_key=KEY, now=b_done,
            )  # fmt: skip
    with _s(db_engine) as s:
        svc.complete_class(
            s, class_id=b_cls, who=world.provider_actor, audit_key=KEY, params=PARAMS, now=b_done
        )
    with db_engine.begin() as conn:
        Registry(conn, pii).business(
            no="B-PREP", founder=world.preparing, registration_date=dt.date(2025, 6, 1)
        )
    later = dt.datetime(2025, 6, 10, 2, 0, tzinfo=dt.UTC)
    with _s(db_engine) as s:  # the one-stop service refuses a second SYB claim of the trainee …
        res = svc.claim(s, class_id=b_cls, who=world.provider_actor, audit_key=KEY, data_dir=DATA, now=later)
        assert not res.created and "每类培训补贴每人只能享受一次" in res.skipped[b[2]]
    # … and the engine over the registry (政策找人) no longer lists class B for the difference.
    with _s(db_engine) as s:
        facts = assemble_facts(
            s, on=later.date(), district=None, subjects=Scope(person_ids=(world.preparing,))
        )
    syb = next(o for o in run(facts, later.date(), PARAMS) if o.program.id == "training_syb")
    ids = facts.tables["trainings"]["id"].values.tolist()
    row_a, row_b = ids.index(a[2]), ids.index(b[2])
    assert syb.status[row_b] == FAIL and not syb.soon[row_b]
    # (the earlier training record fails B's once_per_kind too; the register row alone must also
    # say that A's reduced share is not B's to top up — it did not when its period was A's class no.)
    conds = {c["id"]: c for c in Explainer(PARAMS).program(syb, row_b)["conditions"]}
    assert conds["not_received"]["status"] == "fail", conds["not_received"]
    assert "2025-03" in conds["not_received"]["message"] and "不补差额" in conds["not_received"]["message"]
    assert syb.status[row_a] == PASS and syb.amount[row_a] == 50_000  # A's own difference
    with _s(db_engine) as s:  # class A's own difference is still due
        top = svc.claim_top_up(
            s,
            class_id=a_cls,
            who=world.provider_actor,
            audit_key=KEY,
            params=PARAMS,
            data_dir=DATA,
            now=later,
        )
        assert len(top.created) == 1 and top.created[0].amount_requested_fen == 50_000, top.skipped
