"""The training service (clauses 2.4–2.5). Keyword-only functions over a Session; they never commit.

Who may do what (``Actor.role``):

- district staff (``district_reviewer``, ``window_clerk``) of a district: register providers and their
  accreditation, courses, classes held in their district, enrol persons (also by Excel), record
  attendance, complete classes, and 项目制 purchases (``district_reviewer``);
- a training provider (``training_provider``, linked by ``users.org_code``): its own classes, their
  rosters, attendance, completion and its subsidy claims;
- an applicant (``applicant``): enrols themself in an open class, withdraws.

Eligibility is the engine's (:func:`eligibility`): the SYB / 网络创业 / IYB programs evaluated on the
registry's facts of the person with the class's start date, every condition except 结业; a failed
condition refuses the enrolment with the program's own Chinese sentence, an unknown one is recorded as
「待核实」 and the enrolment goes ahead. A full class puts the person on its waiting list; when a place
frees (withdrawal) the first waiting person takes it (:func:`withdraw`).

Completion: a trainee completes when the share of sessions attended reaches the dated parameter
``training.completion_attendance_ratio``; a completed trainee gets a certificate code (verified by
:func:`verify_certificate`, which shows a masked name only). Claims: :func:`claim` opens one application
per completed trainee through :mod:`xiangchuang.applications.service` (kind ``training_<kind>``, subject
= the training record ``training_no``), the provider acting as its applicant (``org:<org_code>``), with
the certificate PDF and the class roster attached as materials.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.applications import attachments
from xiangchuang.applications import service as applications
from xiangchuang.applications.kinds import TOP_UP_KINDS
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.assemble import SYB_TOP_UP_PERIOD
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.engine.programs import BY_ID
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import (
    Accreditation,
    Application,
    Attendance,
    ClassTeacher,
    Course,
    Enrolment,
    Mentor,
    Person,
    Purchase,
    TrainingClass,
    TrainingProvider,
)
from xiangchuang.models.training import CLASS_MODES, COURSE_KINDS, PROVIDER_KINDS
from xiangchuang.outbox.service import enqueue
from xiangchuang.registry.assembler import assemble_facts, trainings_table
from xiangchuang.registry.matching import evaluate
from xiangchuang.registry.repository import Scope
from xiangchuang.training import repository as repo

ENGINE_PROGRAMS: Final = {"syb": "training_syb", "online": "training_online", "iyb": "training_iyb"}
KIND_LABELS: Final = {
    "syb": "SYB（创办你的企业）",
    "iyb": "IYB（改善你的企业）",
    "online": "网络创业培训",
    "skills": "技能培训",
    "package": "培训包",
}
MODE_LABELS: Final = {
    "on_site": "线下集中培训",
    "direct_train": "培训下乡“直通车”",
    "night_school": "农民夜校",
    "remote": "远程培训",
    "online": "网络培训",
}
PROVIDER_KIND_LABELS: Final = {"vocational_school": "职业院校", "training_institution": "职业培训机构"}
ENROLMENT_LABELS: Final = {
    "enrolled": "已报名",
    "waiting": "候补",
    "withdrawn": "已退出",
    "completed": "已结业",
    "not_completed": "未达结业要求",
}
CLASS_STATE_LABELS: Final = {"open": "报名中", "closed": "已截止报名", "finished": "已结业"}
STAFF_ROLES: Final = ("district_reviewer", "window_clerk")
COMPLETION_PARAM: Final = "training.completion_attendance_ratio"
TEACHER_FIELD: Final = "training.teacher_name"
_CODE_ALPHABET: Final = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
MAX_TEACHERS: Final = 10


@dataclass(frozen=True)
class Actor:
    """Who acts: ``actor`` is the audit name (login), ``provider_id`` set for a provider's account."""

    actor: str
    role: str
    district: int | None = None
    provider_id: int | None = None
    person_id: int | None = None


@dataclass(frozen=True)
class TeacherIn:
    mentor_no: str | None = None
    name: str | None = None
    subject: str | None = None


@dataclass
class Eligibility:
    program: str | None
    status: str  # eligible / ineligible / undetermined / open (not an engine program)
    refused: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "program": self.program,
            "status": self.status,
            "refused": self.refused,
            "unverified": self.unverified,
            "passed": self.passed,
        }

    @property
    def reason(self) -> str:
        return "；".join(self.refused)


def _audit(
    session: Session,
    key: bytes,
    who: Actor,
    action: str,
    subject: str,
    details: Mapping[str, Any],
    district: int | None,
    at: dt.datetime,
) -> None:
    record(
        session,
        key=key,
        actor=who.actor,
        actor_role=who.role,
        action=action,
        subject=subject,
        details=dict(details),
        district=district,
        at=at,
    )


def _insert(session: Session, row: Any, conflict: str) -> None:
    """Add and flush one row in a savepoint; a unique-constraint clash is a Conflict with ``conflict``."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(conflict) from None


def _staff_in(who: Actor, district: int, what: str) -> None:
    if who.role not in STAFF_ROLES:
        raise Forbidden(f"只有区县人社审核或街道/乡镇经办可以{what}")
    if who.district != district:
        raise Forbidden(f"无权{what}：不属于您所在区县（{district}）")


def may_run_class(who: Actor, klass: TrainingClass) -> None:
    """The provider of the class, or staff of the district where it is held."""
    if who.role == "training_provider":
        if who.provider_id is None or who.provider_id != klass.provider_id:
            raise Forbidden("只能管理本机构的培训班")
        return
    if who.role in STAFF_ROLES and who.district == klass.district:
        return
    raise Forbidden(f"无权管理该培训班（{klass.class_no}）")


# ---- providers, accreditation, courses -----------------------------------------------------------


def create_provider(
    session: Session,
    *,
    org_code: str,
    name: str,
    kind: str,
    district: int,
    who: Actor,
    audit_key: bytes,
    uscc: str | None = None,
    now: dt.datetime | None = None,
) -> TrainingProvider:
    at = fields.now_utc(now)
    fields.district(district, "所在区县")
    _staff_in(who, district, "登记培训机构")
    code = fields.text(org_code, "机构代码", 20) or ""
    if not code.isascii() or not code.replace("-", "").isalnum():
        raise ValidationFailed("机构代码：只能由字母、数字和连字符组成")
    if kind not in PROVIDER_KINDS:
        raise ValidationFailed(f"机构类型：须为{'、'.join(PROVIDER_KIND_LABELS.values())}之一")
    row = TrainingProvider(
        org_code=code,
        name=fields.text(name, "机构名称", 120) or "",
        kind=kind,
        district=district,
        uscc=fields.text(uscc, "统一社会信用代码", 18, required=False),
        active=True,
    )
    _insert(session, row, f"机构代码 {code} 已被登记")
    _audit(
        session,
        audit_key,
        who,
        "training.provider.create",
        f"training_providers:{code}",
        {"kind": kind},
        district,
        at,
    )
    return row


def parse_kinds(text: str | Iterable[str]) -> list[str]:
    items = text.replace("，", ",").split(",") if isinstance(text, str) else list(text)
    kinds = [k.strip() for k in items if k.strip()]
    if not kinds:
        raise ValidationFailed("认定培训类别：至少选择一项")
    bad = [k for k in kinds if k not in COURSE_KINDS]
    if bad:
        raise ValidationFailed(
            f"认定培训类别：{'、'.join(bad)} 不是已知类别（可选：{'、'.join(f'{k}（{v}）' for k, v in KIND_LABELS.items())}）"
        )
    return sorted(set(kinds), key=COURSE_KINDS.index)


def accredit(
    session: Session,
    *,
    provider_id: int,
    accreditation_no: str,
    course_kinds: str | Iterable[str],
    valid_from: dt.date,
    valid_until: dt.date,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Accreditation:
    """An accreditation granted by the district where the provider is registered (its reviewer only)."""
    at = fields.now_utc(now)
    provider = repo.provider(session, provider_id)
    if who.district is None:
        raise Forbidden("只有区县人社审核可以认定培训机构")
    _staff_in(who, provider.district, "认定培训机构")
    if who.role != "district_reviewer":
        raise Forbidden("只有区县人社审核可以认定培训机构")
    kinds = parse_kinds(course_kinds)
    if valid_until < valid_from:
        raise ValidationFailed("有效期：截止日期不能早于起始日期")
    row = Accreditation(
        provider_id=provider.id,
        accreditation_no=fields.text(accreditation_no, "认定文号", 40) or "",
        course_kinds=",".join(kinds),
        valid_from=valid_from,
        valid_until=valid_until,
        district=who.district,
        revoked=False,
    )
    _insert(session, row, f"认定文号 {row.accreditation_no} 已存在")
    _audit(
        session,
        audit_key,
        who,
        "training.accreditation.grant",
        f"training_accreditations:{row.accreditation_no}",
        {"provider": provider.org_code, "kinds": kinds, "from": str(valid_from), "until": str(valid_until)},
        who.district,
        at,
    )
    return row


def revoke_accreditation(
    session: Session, *, accreditation_id: int, who: Actor, audit_key: bytes, now: dt.datetime | None = None
) -> Accreditation:
    at = fields.now_utc(now)
    row = session.get(Accreditation, accreditation_id)
    if row is None:
        raise NotFound(f"认定记录（编号 {accreditation_id}）不存在")
    if who.role != "district_reviewer" or who.district != row.district:
        raise Forbidden("只有作出认定的区县人社审核可以撤销认定")
    if row.revoked:
        raise InvalidTransition("该认定已撤销")
    row.revoked = True
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.accreditation.revoke",
        f"training_accreditations:{row.accreditation_no}",
        {},
        row.district,
        at,
    )
    return row


def accredited_for(
    session: Session, provider_id: int, kind: str, start: dt.date, end: dt.date
) -> Accreditation | None:
    """The provider's accreditation covering ``kind`` over the whole period (not revoked)."""
    for a in repo.accreditations(session, provider_id):
        if (
            not a.revoked
            and kind in a.course_kinds.split(",")
            and a.valid_from <= start
            and end <= a.valid_until
        ):
            return a
    return None


def create_course(
    session: Session,
    *,
    course_code: str,
    kind: str,
    title: str,
    hours: int,
    content: str,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Course:
    at = fields.now_utc(now)
    if who.role not in (*STAFF_ROLES, "training_provider"):
        raise Forbidden("只有区县人社或培训机构可以登记课程")
    if kind not in COURSE_KINDS:
        raise ValidationFailed(f"课程类别：须为{'、'.join(KIND_LABELS.values())}之一")
    if not isinstance(hours, int) or not 1 <= hours <= 1000:
        raise ValidationFailed("课时：须为 1–1000 的整数")
    code = fields.text(course_code, "课程代码", 30) or ""
    row = Course(
        course_code=code,
        kind=kind,
        title=fields.text(title, "课程名称", 120) or "",
        hours=hours,
        content=fields.text(content, "课程内容", 4000) or "",
    )
    _insert(session, row, f"课程代码 {code} 已存在")
    _audit(
        session,
        audit_key,
        who,
        "training.course.create",
        f"training_courses:{code}",
        {"kind": kind, "hours": hours},
        who.district,
        at,
    )
    return row


# ---- classes ---------------------------------------------------------------------------------------


def create_class(
    session: Session,
    *,
    provider_id: int,
    course_id: int,
    mode: str,
    district: int,
    place: str,
    start_date: dt.date,
    end_date: dt.date,
    capacity: int,
    sessions: int,
    who: Actor,
    audit_key: bytes,
    cipher: FieldCipher,
    teachers: Sequence[TeacherIn] = (),
    purchase_id: int | None = None,
    now: dt.datetime | None = None,
) -> TrainingClass:
    at = fields.now_utc(now)
    provider = repo.provider(session, provider_id)
    course = repo.course(session, course_id)
    fields.district(district, "举办区县")
    if who.role == "training_provider":
        if who.provider_id != provider.id:
            raise Forbidden("只能为本机构开设培训班")
    else:
        _staff_in(who, district, "开设培训班")
    if mode not in CLASS_MODES:
        raise ValidationFailed(f"培训方式：须为{'、'.join(MODE_LABELS.values())}之一")
    if end_date < start_date:
        raise ValidationFailed("结束日期：不能早于开始日期")
    if not isinstance(capacity, int) or not 1 <= capacity <= 500:
        raise ValidationFailed("人数：须为 1–500 的整数")
    if not isinstance(sessions, int) or not 1 <= sessions <= 200:
        raise ValidationFailed("课次：须为 1–200 的整数")
    if not provider.active:
        raise InvalidTransition(f"培训机构 {provider.name} 已停用，不能开班")
    if accredited_for(session, provider.id, course.kind, start_date, end_date) is None:
        raise ValidationFailed(
            f"培训机构：{provider.name} 在 {start_date}–{end_date} 期间没有有效的「{KIND_LABELS[course.kind]}」培训认定"
        )
    if len(teachers) > MAX_TEACHERS:
        raise ValidationFailed(f"授课教师：最多 {MAX_TEACHERS} 名")
    if purchase_id is not None:
        purchase = repo.purchase(session, purchase_id)
        if purchase.provider_id != provider.id or purchase.course_kind != course.kind:
            raise ValidationFailed("项目制合同：合同的培训机构或培训类别与本班不符")
    teacher_rows = [_teacher(session, t, i, cipher) for i, t in enumerate(teachers, 1)]
    klass = TrainingClass(
        class_no=f"PX{china_date(at):%Y%m%d}{secrets.token_hex(3).upper()}",
        provider_id=provider.id,
        course_id=course.id,
        purchase_id=purchase_id,
        mode=mode,
        district=district,
        place=fields.text(place, "培训地点", 200) or "",
        start_date=start_date,
        end_date=end_date,
        capacity=capacity,
        sessions=sessions,
        state="open",
        version=1,
    )
    session.add(klass)
    session.flush()
    for row in teacher_rows:
        row.class_id = klass.id
        session.add(row)
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.class.create",
        f"training_classes:{klass.class_no}",
        {"provider": provider.org_code, "course": course.course_code, "mode": mode, "capacity": capacity},
        district,
        at,
    )
    return klass


def _teacher(session: Session, t: TeacherIn, i: int, cipher: FieldCipher) -> ClassTeacher:
    subject = fields.text(t.subject, f"第{i}名教师的授课内容", 60, required=False)
    if t.mentor_no:
        mentor = session.execute(
            select(Mentor).where(Mentor.mentor_no == t.mentor_no.strip())
        ).scalar_one_or_none()
        if mentor is None:
            raise ValidationFailed(f"第{i}名教师：导师编号 {t.mentor_no} 不在创业导师库中")
        if mentor.status != "active":
            raise ValidationFailed(f"第{i}名教师：导师 {mentor.mentor_no} 当前不在聘（状态 {mentor.status}）")
        return ClassTeacher(
            mentor_id=mentor.id,
            name_masked=f"创业导师 {mentor.mentor_no}",
            subject=subject,
        )
    name = fields.text(t.name, f"第{i}名教师姓名", 30)
    assert name is not None
    return ClassTeacher(
        name_enc=cipher.encrypt(name, TEACHER_FIELD),
        name_masked=mask_name(name),
        subject=subject,
    )


def set_class_state(
    session: Session,
    *,
    class_id: int,
    state: str,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> TrainingClass:
    """Close (or reopen) enrolment; finishing is :func:`complete_class`."""
    at = fields.now_utc(now)
    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    if state not in ("open", "closed"):
        raise ValidationFailed("报名状态：只能设为报名中或已截止报名")
    if klass.state == "finished":
        raise InvalidTransition("培训班已结业，不能再改变报名状态")
    klass.state = state
    klass.version += 1
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        f"training.class.{state}",
        f"training_classes:{klass.class_no}",
        {},
        klass.district,
        at,
    )
    return klass


# ---- eligibility and enrolment ---------------------------------------------------------------------


def eligibility(
    session: Session,
    *,
    person_id: int,
    kind: str,
    start_date: dt.date,
    on: dt.date,
    params: ParameterSet,
    district: int | None = None,
) -> Eligibility:
    """The engine's SYB / 网络创业 / IYB program for the person with a training starting on ``start_date``,
    every condition except 结业 (see the module docstring). Other kinds are open to everyone."""
    program_id = ENGINE_PROGRAMS.get(kind)
    if program_id is None:
        return Eligibility(None, "open")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"人员（编号 {person_id}）不在登记库中")
    facts = assemble_facts(session, on=on, district=None, subjects=Scope(person_ids=(person_id,)))
    ids = list(facts.tables["persons"]["id"].values)
    row = ids.index(person.person_no)
    facts.tables["trainings"] = trainings_table(
        ids=["__enrolment__"],
        person_rows=[row],
        kinds=[kind],
        start_days=[to_day(start_date)],
        completion_days=[None],
        districts=[district],
    )
    outcome = evaluate(facts, on=on, params=params, programs=(BY_ID[program_id],))[0]
    doc = Explainer(params).program(outcome, 0)
    result = Eligibility(program_id, "eligible")
    for c in doc["conditions"]:
        if c["id"] == "completed":
            continue
        if c["status"] == "fail":
            result.refused.append(str(c["message"]))
        elif c["status"] == "unknown":
            result.unverified.append(str(c["message"]))
        else:
            result.passed.append(str(c["message"]))
    result.status = "ineligible" if result.refused else ("undetermined" if result.unverified else "eligible")
    return result


def _seat_or_wait(session: Session, klass: TrainingClass) -> tuple[str, int | None]:
    if repo.taken(session, klass.id) < klass.capacity:
        return "enrolled", None
    return "waiting", repo.max_waiting_seq(session, klass.id) + 1


def enrol(
    session: Session,
    *,
    class_id: int,
    person_id: int,
    who: Actor,
    audit_key: bytes,
    params: ParameterSet,
    now: dt.datetime | None = None,
) -> Enrolment:
    """Enrol a person (eligibility from the engine; a full class → the waiting list)."""
    at = fields.now_utc(now)
    today = china_date(at)
    klass = repo.klass(session, class_id)
    course = repo.course(session, klass.course_id)
    if who.role == "applicant":
        if who.person_id is None or who.person_id != person_id:
            raise Forbidden("申请人只能为本人报名")
    else:
        may_run_class(who, klass)
    if klass.state != "open":
        raise InvalidTransition(f"培训班 {klass.class_no} {CLASS_STATE_LABELS[klass.state]}，不能报名")
    if klass.start_date < today and who.role == "applicant":
        raise InvalidTransition(f"培训班 {klass.class_no} 已于 {klass.start_date} 开班，请联系培训机构补报")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"人员（编号 {person_id}）不在登记库中")
    elig = eligibility(
        session,
        person_id=person_id,
        kind=course.kind,
        start_date=klass.start_date,
        on=today,
        params=params,
        district=klass.district,
    )
    if elig.status == "ineligible":
        raise ValidationFailed(f"不符合「{KIND_LABELS[course.kind]}」培训条件：{elig.reason}")
    state, seq = _seat_or_wait(session, klass)
    row = Enrolment(
        training_no=f"TR{china_date(at):%Y%m%d}{secrets.token_hex(4).upper()}",
        class_id=klass.id,
        person_id=person_id,
        state=state,
        waiting_seq=seq,
        enrolled_at=at,
        eligibility=elig.as_dict(),
        enrolled_by=who.actor,
    )
    _insert(session, row, f"该人员已报名培训班 {klass.class_no}，不能重复报名")
    _audit(
        session,
        audit_key,
        who,
        "training.enrol",
        f"training_enrolments:{row.training_no}",
        {"class": klass.class_no, "state": state, "eligibility": elig.status, "person": person.person_no},
        klass.district,
        at,
    )
    enqueue(
        session,
        template=f"training.{state}",
        payload={
            "training_no": row.training_no,
            "class_no": klass.class_no,
            "course": course.title,
            "message": (
                f"您已报名「{course.title}」（{klass.start_date} 开班）"
                if state == "enrolled"
                else f"「{course.title}」名额已满，您已列入候补第 {seq} 位，有空位时自动递补"
            ),
        },
        user=person.person_no,
    )
    return row


def withdraw(
    session: Session, *, enrolment_id: int, who: Actor, audit_key: bytes, now: dt.datetime | None = None
) -> tuple[Enrolment, Enrolment | None]:
    """Withdraw an enrolment; a freed place goes to the first on the waiting list (returned second)."""
    at = fields.now_utc(now)
    row = repo.enrolment(session, enrolment_id)
    klass = repo.klass(session, row.class_id)
    if who.role == "applicant":
        if who.person_id != row.person_id:
            raise Forbidden("只能退出本人的报名")
    else:
        may_run_class(who, klass)
    if row.state not in ("enrolled", "waiting"):
        raise InvalidTransition(f"报名状态为「{ENROLMENT_LABELS[row.state]}」，不能退出")
    if klass.state == "finished":
        raise InvalidTransition("培训班已结业，不能退出")
    freed = row.state == "enrolled"
    row.state, row.waiting_seq = "withdrawn", None
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.withdraw",
        f"training_enrolments:{row.training_no}",
        {"class": klass.class_no},
        klass.district,
        at,
    )
    promoted = _promote(session, klass, who, audit_key, at) if freed else None
    return row, promoted


def _promote(
    session: Session, klass: TrainingClass, who: Actor, audit_key: bytes, at: dt.datetime
) -> Enrolment | None:
    if repo.taken(session, klass.id) >= klass.capacity:
        return None
    nxt = repo.first_waiting(session, klass.id)
    if nxt is None:
        return None
    nxt.state, nxt.waiting_seq = "enrolled", None
    session.flush()
    person = session.get(Person, nxt.person_id)
    _audit(
        session,
        audit_key,
        who,
        "training.promote",
        f"training_enrolments:{nxt.training_no}",
        {"class": klass.class_no},
        klass.district,
        at,
    )
    if person is not None:
        enqueue(
            session,
            template="training.promoted",
            payload={
                "training_no": nxt.training_no,
                "class_no": klass.class_no,
                "message": f"您已从候补递补为培训班 {klass.class_no} 的正式学员",
            },
            user=person.person_no,
        )
    return nxt


def set_capacity(
    session: Session,
    *,
    class_id: int,
    capacity: int,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> list[Enrolment]:
    """Change a class's capacity; more places promote from the waiting list (returned)."""
    at = fields.now_utc(now)
    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    if not isinstance(capacity, int) or not 1 <= capacity <= 500:
        raise ValidationFailed("人数：须为 1–500 的整数")
    taken = repo.taken(session, klass.id)
    if capacity < taken:
        raise ValidationFailed(f"人数：已有 {taken} 名正式学员，不能少于 {taken}")
    klass.capacity = capacity
    klass.version += 1
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.class.capacity",
        f"training_classes:{klass.class_no}",
        {"capacity": capacity},
        klass.district,
        at,
    )
    out = []
    while (p := _promote(session, klass, who, audit_key, at)) is not None:
        out.append(p)
    return out


# ---- attendance and completion ---------------------------------------------------------------------


def record_attendance(
    session: Session,
    *,
    class_id: int,
    session_no: int,
    session_date: dt.date,
    present: Mapping[str, bool],
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> int:
    """Attendance of one session: ``present`` maps each trainee's ``training_no`` to present / absent.
    Every training_no must be an enrolled trainee of the class; all rows are written or none."""
    at = fields.now_utc(now)
    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    if klass.state == "finished":
        raise InvalidTransition("培训班已结业，不能再登记考勤")
    if not isinstance(session_no, int) or not 1 <= session_no <= klass.sessions:
        raise ValidationFailed(f"课次：须为 1–{klass.sessions} 的整数")
    if not klass.start_date <= session_date <= klass.end_date:
        raise ValidationFailed(f"上课日期：须在培训期间 {klass.start_date}–{klass.end_date} 内")
    if session_date > china_date(at):
        raise ValidationFailed("上课日期：不能晚于今天")
    enrolled = {e.training_no: e for e, _ in repo.roster(session, class_id) if e.state == "enrolled"}
    unknown = [no for no in present if no not in enrolled]
    if unknown:
        raise ValidationFailed(f"学员编号：{'、'.join(unknown[:5])} 不是本班正式学员")
    existing = repo.attendance(session, class_id)
    for no, here in present.items():
        e = enrolled[no]
        old = existing.get(e.id, {}).get(session_no)
        if old is None:
            session.add(
                Attendance(
                    enrolment_id=e.id,
                    session_no=session_no,
                    session_date=session_date,
                    present=bool(here),
                    recorded_by=who.actor,
                )
            )
        elif old != bool(here):
            session.execute(
                update(Attendance)
                .where(Attendance.enrolment_id == e.id, Attendance.session_no == session_no)
                .values(present=bool(here), session_date=session_date, recorded_by=who.actor)
            )
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.attendance",
        f"training_classes:{klass.class_no}",
        {"session": session_no, "present": sum(1 for v in present.values() if v), "rows": len(present)},
        klass.district,
        at,
    )
    return len(present)


def completion_ratio(params: ParameterSet, on: dt.date, district: int) -> Fraction:
    value = params[COMPLETION_PARAM].value_at(on, district)
    return Fraction(value)


@dataclass(frozen=True)
class CompletionResult:
    completed: list[Enrolment]
    not_completed: list[Enrolment]
    ratio: Fraction


def complete_class(
    session: Session,
    *,
    class_id: int,
    who: Actor,
    audit_key: bytes,
    params: ParameterSet,
    completion_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> CompletionResult:
    """Finish a class: each enrolled trainee completes when attended sessions / sessions ≥ the parameter."""
    at = fields.now_utc(now)
    today = china_date(at)
    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    if klass.state == "finished":
        raise InvalidTransition(f"培训班 {klass.class_no} 已结业")
    day = completion_date or klass.end_date
    if day < klass.end_date:
        raise ValidationFailed(f"结业日期：不能早于培训结束日期 {klass.end_date}")
    if day > today:
        raise ValidationFailed(f"结业日期：培训尚未结束（结业日期 {day} 晚于今天）")
    ratio = completion_ratio(params, day, klass.district)
    marks = repo.attendance(session, class_id)
    done, failed = [], []
    for e, _ in repo.roster(session, class_id):
        if e.state == "waiting":
            e.state, e.waiting_seq = "withdrawn", None
            continue
        if e.state != "enrolled":
            continue
        attended = sum(1 for v in marks.get(e.id, {}).values() if v)
        if Fraction(attended, klass.sessions) >= ratio:
            e.state, e.completion_date = "completed", day
            e.certificate_code = _certificate_code()
            e.certificate_issued_on = today
            done.append(e)
        else:
            e.state = "not_completed"
            failed.append(e)
    klass.state = "finished"
    klass.version += 1
    session.flush()
    _audit(
        session,
        audit_key,
        who,
        "training.class.complete",
        f"training_classes:{klass.class_no}",
        {"completed": len(done), "not_completed": len(failed), "ratio": str(ratio), "date": str(day)},
        klass.district,
        at,
    )
    return CompletionResult(done, failed, ratio)


def _certificate_code() -> str:
    return "XC-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def normalise_code(code: str) -> str:
    c = "".join(ch for ch in (code or "").upper() if ch.isalnum())
    if c.startswith("XC"):
        c = c[2:]
    return "XC-" + c


@dataclass(frozen=True)
class Verification:
    valid: bool
    code: str
    masked_name: str | None = None
    course: str | None = None
    kind_label: str | None = None
    hours: int | None = None
    provider: str | None = None
    class_no: str | None = None
    completion_date: dt.date | None = None
    message: str = ""


def verify_certificate(session: Session, *, code: str) -> Verification:
    """A public check of a certificate code: valid or not, with a masked name only."""
    norm = normalise_code(code)
    if len(norm) != 15:
        return Verification(False, norm, message="证书编号格式不正确（应为 XC- 加 12 位字母数字）")
    found = repo.by_certificate(session, norm)
    if found is None or found[0].state != "completed":
        return Verification(False, norm, message="未查到该证书：编号不存在或已失效")
    e, klass, course, provider, person = found
    return Verification(
        True,
        norm,
        masked_name=mask_name(person.name),
        course=course.title,
        kind_label=KIND_LABELS[course.kind],
        hours=course.hours,
        provider=provider.name,
        class_no=klass.class_no,
        completion_date=e.completion_date,
        message="证书有效",
    )


# ---- claims (through the application workflow) -----------------------------------------------------


def claimant(provider: TrainingProvider) -> str:
    """The applicant name of a provider's claims: every account of the provider acts on them."""
    return f"org:{provider.org_code}"


@dataclass(frozen=True)
class ClaimResult:
    created: list[Application]
    skipped: dict[str, str]  # training_no → why not


def claim(
    session: Session,
    *,
    class_id: int,
    who: Actor,
    audit_key: bytes,
    training_nos: Sequence[str] | None = None,
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> ClaimResult:
    """Open one subsidy application per completed trainee of a SYB / 网络创业 / IYB class (draft, the
    certificate and the class roster attached); the provider uploads the trainee's identity proof and
    submits (:func:`submit_claim`). A trainee with a live claim is skipped with the reason."""
    at = fields.now_utc(now)
    klass, program = _claimable(session, class_id, who, "只有开班的培训机构可以申领培训补贴")

    def decide(e: Enrolment, old: Application | None) -> str | _Claim:
        if old is not None and old.live_key is not None:
            return f"已有申请 {old.application_no}（{STATE_LABELS[old.state]}）"
        if old is not None and old.state == "disbursed":
            return f"已拨付（申请 {old.application_no}）"
        return _Claim(klass.class_no)

    return _file_claims(session, klass, program, _completed(session, class_id, training_nos), decide,
                        who=who, audit_key=audit_key, data_dir=data_dir, at=at, action="training.claim")  # fmt: skip


def claim_top_up(
    session: Session,
    *,
    class_id: int,
    who: Actor,
    audit_key: bytes,
    params: ParameterSet,
    training_nos: Sequence[str] | None = None,
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> ClaimResult:
    """补足差额 (README choice 6): one top-up application (period 「补差」) per completed trainee of a SYB
    class whose claim was approved at the reduced share and who has since registered a business within
    the window. Whether it is due is the engine's: the trainee's approved claim is determined again on
    today's date (the register holds what was paid), and a trainee it is not due for is skipped with
    the engine's reason. The provider then uploads the identity proof and submits, as for a claim."""
    at = fields.now_utc(now)
    today = china_date(at)
    klass, program = _claimable(session, class_id, who, "只有开班的培训机构可以申领补差")
    if program not in TOP_UP_KINDS:
        course = repo.course(session, klass.course_id)
        raise ValidationFailed(
            f"「{KIND_LABELS[course.kind]}」没有补足差额：只有SYB培训补贴按比例支付后可补差"
        )

    def decide(e: Enrolment, old: Application | None) -> str | _Claim:
        if old is not None and old.period == SYB_TOP_UP_PERIOD:
            return f"已有补差申请 {old.application_no}（{STATE_LABELS[old.state]}）"
        if old is None or old.state not in ("approved", "disbursed"):
            return "尚无已核准的补贴申请，不需要补差（请先申领补贴）"
        due = applications.determine(session, old, on=today, params=params)
        if due["status"] != "eligible":
            return f"不需补差：{_first_reason(due)}"
        return _Claim(SYB_TOP_UP_PERIOD, {"top_up_of": old.application_no}, due["amount_fen"])

    return _file_claims(session, klass, program, _completed(session, class_id, training_nos), decide,
                        who=who, audit_key=audit_key, data_dir=data_dir, at=at, action="training.claim_top_up")  # fmt: skip


@dataclass(frozen=True)
class _Claim:
    """What to file for one trainee: the application's period, extra form fields, the amount asked."""

    period: str
    form: Mapping[str, str] = field(default_factory=dict)
    amount_fen: int | None = None


def _claimable(session: Session, class_id: int, who: Actor, forbidden: str) -> tuple[TrainingClass, str]:
    """The class and its engine program, for its own provider, once it has finished."""
    klass = repo.klass(session, class_id)
    if who.role != "training_provider" or who.provider_id != klass.provider_id:
        raise Forbidden(forbidden)
    course = repo.course(session, klass.course_id)
    program = ENGINE_PROGRAMS.get(course.kind)
    if program is None:
        raise ValidationFailed(f"「{KIND_LABELS[course.kind]}」不属于创业培训补贴（SYB、IYB、网络创业）范围")
    if klass.state != "finished":
        raise InvalidTransition("培训班尚未结业，结业后方可申领补贴")
    return klass, program


def _file_claims(
    session: Session,
    klass: TrainingClass,
    program: str,
    rows: list[tuple[Enrolment, Person]],
    decide: Callable[[Enrolment, Application | None], str | _Claim],
    *,
    who: Actor,
    audit_key: bytes,
    data_dir: Path | None,
    at: dt.datetime,
    action: str,
) -> ClaimResult:
    """One draft application per trainee that ``decide`` files (the certificate and the class roster
    attached), the others skipped with its reason; one audit record for the batch."""
    from xiangchuang.training.excel import roster_xlsx

    provider = repo.provider(session, klass.provider_id)
    course = repo.course(session, klass.course_id)
    existing = repo.claims(session, [e.training_no for e, _ in rows])
    roster = roster_xlsx(session, class_id=klass.id)
    created: list[Application] = []
    skipped: dict[str, str] = {}
    me = claimant(provider)
    for e, person in rows:
        what = decide(e, existing.get(e.training_no))
        if isinstance(what, str):
            skipped[e.training_no] = what
            continue
        try:
            app = applications.create_application(
                session,
                kind=program,
                subject_key=e.training_no,
                period=what.period,
                district=klass.district,
                applicant_user=me,
                actor=me,
                role="applicant",
                actor_district=None,
                audit_key=audit_key,
                applicant_person_no=person.person_no,
                form={
                    "class_no": klass.class_no,
                    "provider": provider.org_code,
                    "course": course.course_code,
                    **what.form,
                },
                amount_requested_fen=what.amount_fen,
                now=at,
            )
        except (Conflict, ValidationFailed) as exc:  # 每类每人一次: another class's claim of the trainee
            skipped[e.training_no] = exc.message
            continue
        _attach_claim_materials(session, app, e, klass, roster, me, audit_key, data_dir, at)
        created.append(app)
    _audit(
        session,
        audit_key,
        who,
        action,
        f"training_classes:{klass.class_no}",
        {"applications": [a.application_no for a in created], "skipped": sorted(skipped)},
        klass.district,
        at,
    )
    return ClaimResult(created, skipped)


def _completed(
    session: Session, class_id: int, training_nos: Sequence[str] | None
) -> list[tuple[Enrolment, Person]]:
    """The class's completed trainees (only ``training_nos`` when given: each must be one of them)."""
    rows = [(e, p) for e, p in repo.roster(session, class_id) if e.state == "completed"]
    wanted = set(training_nos) if training_nos is not None else None
    if wanted is not None:
        unknown = wanted - {e.training_no for e, _ in rows}
        if unknown:
            raise ValidationFailed(f"学员编号：{'、'.join(sorted(unknown)[:5])} 不是本班已结业学员")
        rows = [(e, p) for e, p in rows if e.training_no in wanted]
    if not rows:
        raise ValidationFailed("本班没有可申领补贴的已结业学员")
    return rows


def _attach_claim_materials(
    session: Session,
    app: Application,
    e: Enrolment,
    klass: TrainingClass,
    roster: bytes,
    me: str,
    audit_key: bytes,
    data_dir: Path | None,
    at: dt.datetime,
) -> None:
    """A claim's certificate (generated) and the class roster, uploaded as the provider."""
    from xiangchuang.training.certificate import certificate_pdf

    pdf = certificate_pdf(session, enrolment_id=e.id)
    for material, name, content in (
        ("training_certificate", f"{e.certificate_code}.pdf", pdf),
        ("training_roster", f"{klass.class_no}.xlsx", roster),
    ):
        attachments.upload(
            session,
            application_id=app.id,
            material=material,
            filename=name,
            content=content,
            actor=me,
            role="applicant",
            actor_district=None,
            audit_key=audit_key,
            data_dir=data_dir,
            now=at,
        )


def _first_reason(determination: Mapping[str, Any]) -> str:
    """The engine's first condition that does not pass (or its status), in Chinese."""
    result = determination.get("result") or {}
    for c in result.get("conditions", []):
        if c.get("status") != "pass":
            return str(c.get("message"))
    return str(result.get("message") or result.get("status_label") or determination.get("status"))


def claim_application(session: Session, *, application_id: int, who: Actor) -> tuple[Application, Enrolment]:
    """A claim of the actor's provider (403 otherwise)."""
    app = session.get(Application, application_id)
    if app is None or app.subject_table != "trainings":
        raise NotFound(f"培训补贴申请（编号 {application_id}）不存在")
    e = repo.enrolment_by_no(session, app.subject_key)
    if e is None:
        raise NotFound(f"培训记录 {app.subject_key} 不存在")
    klass = repo.klass(session, e.class_id)
    if who.role != "training_provider" or who.provider_id != klass.provider_id:
        raise Forbidden("只能办理本机构的培训补贴申请")
    return app, e


def upload_claim_material(
    session: Session,
    *,
    application_id: int,
    material: str,
    filename: str,
    content: bytes,
    who: Actor,
    audit_key: bytes,
    data_dir: Path | None = None,
    now: dt.datetime | None = None,
) -> None:
    app, _ = claim_application(session, application_id=application_id, who=who)
    attachments.upload(
        session,
        application_id=app.id,
        material=material,
        filename=filename,
        content=content,
        actor=app.applicant_user,
        role="applicant",
        actor_district=None,
        audit_key=audit_key,
        data_dir=data_dir,
        now=now,
    )


def submit_claim(
    session: Session,
    *,
    application_id: int,
    who: Actor,
    audit_key: bytes,
    params: ParameterSet | None = None,
    now: dt.datetime | None = None,
) -> Application:
    app, _ = claim_application(session, application_id=application_id, who=who)
    action = "resubmit" if app.state == "returned" else "submit"
    result = applications.transition(
        session,
        application_id=app.id,
        action=action,
        actor=app.applicant_user,
        role="applicant",
        actor_district=None,
        audit_key=audit_key,
        params=params,
        now=now,
    )
    return result.application


# ---- 项目制 purchases ------------------------------------------------------------------------------


def create_purchase(
    session: Session,
    *,
    contract_no: str,
    provider_id: int,
    course_kind: str,
    trainees: int,
    price_fen: int,
    signed_on: dt.date,
    deliver_by: dt.date,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Purchase:
    at = fields.now_utc(now)
    if who.role != "district_reviewer" or who.district is None:
        raise Forbidden("只有区县人社审核可以登记项目制购买合同")
    provider = repo.provider(session, provider_id)
    if course_kind not in COURSE_KINDS:
        raise ValidationFailed(f"培训类别：须为{'、'.join(KIND_LABELS.values())}之一")
    if not isinstance(trainees, int) or not 1 <= trainees <= 100_000:
        raise ValidationFailed("购买人数：须为 1–100000 的整数")
    if not isinstance(price_fen, int) or not 0 < price_fen <= 10_000_000:
        raise ValidationFailed("单价：须为大于 0、不超过 100000 元的金额")
    if deliver_by < signed_on:
        raise ValidationFailed("完成期限：不能早于签订日期")
    if accredited_for(session, provider.id, course_kind, signed_on, signed_on) is None:
        raise ValidationFailed(
            f"培训机构：{provider.name} 在签订日没有有效的「{KIND_LABELS[course_kind]}」培训认定"
        )
    row = Purchase(
        contract_no=fields.text(contract_no, "合同编号", 40) or "",
        district=who.district,
        provider_id=provider.id,
        course_kind=course_kind,
        trainees=trainees,
        price_fen=price_fen,
        signed_on=signed_on,
        deliver_by=deliver_by,
        created_by=who.actor,
    )
    _insert(session, row, f"合同编号 {row.contract_no} 已存在")
    _audit(
        session,
        audit_key,
        who,
        "training.purchase.create",
        f"training_purchases:{row.contract_no}",
        {"provider": provider.org_code, "kind": course_kind, "trainees": trainees, "price_fen": price_fen},
        who.district,
        at,
    )
    return row


@dataclass(frozen=True)
class PurchaseProgress:
    purchase: Purchase
    delivered: int  # completed trainees in the purchase's classes
    countable: int  # delivered, capped at the contracted number
    amount_due_fen: int  # countable × price
    remaining: int


def purchase_progress(session: Session, purchase: Purchase) -> PurchaseProgress:
    delivered = repo.delivered(session, purchase.id)
    countable = min(delivered, purchase.trainees)
    return PurchaseProgress(
        purchase, delivered, countable, countable * purchase.price_fen, purchase.trainees - countable
    )


# ---- the trainee's own view ------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    kind: str
    label: str
    eligibility: Eligibility


def next_steps(session: Session, *, person_id: int, on: dt.date, params: ParameterSet) -> list[NextStep]:
    """For each of SYB / 网络创业 / IYB: whether the person could take it starting today (engine)."""
    rows = repo.person_enrolments(session, person_id)
    done = {co.kind for e, _, co, _ in rows if e.state == "completed"}
    active = {co.kind for e, _, co, _ in rows if e.state in ("enrolled", "waiting")}
    out = []
    for kind in ("syb", "online", "iyb"):
        elig = eligibility(session, person_id=person_id, kind=kind, start_date=on, on=on, params=params)
        if kind in done:
            elig = Eligibility(elig.program, "ineligible", refused=[f"您已完成{KIND_LABELS[kind]}培训"])
        elif kind in active:
            elig = Eligibility(elig.program, "enrolled", passed=[f"您已报名{KIND_LABELS[kind]}培训"])
        out.append(NextStep(kind, KIND_LABELS[kind], elig))
    return out


def certificate_bytes_for(session: Session, *, enrolment_id: int, who: Actor) -> tuple[Enrolment, bytes]:
    """The certificate PDF, for the trainee, the provider or district staff of the class."""
    from xiangchuang.training.certificate import certificate_pdf

    e = repo.enrolment(session, enrolment_id)
    if who.role == "applicant":
        if who.person_id != e.person_id:
            raise Forbidden("只能下载本人的培训证书")
    else:
        may_run_class(who, repo.klass(session, e.class_id))
    if e.state != "completed" or not e.certificate_code:
        raise InvalidTransition("该学员尚未结业，没有培训证书")
    return e, certificate_pdf(session, enrolment_id=e.id)


# ---- Excel imports (all rows or none) --------------------------------------------------------------


def import_enrolments(
    session: Session,
    *,
    class_id: int,
    content: bytes,
    who: Actor,
    audit_key: bytes,
    params: ParameterSet,
    now: dt.datetime | None = None,
) -> list[Enrolment]:
    """Enrol every person listed (column 登记库人员编号); any refused row refuses the whole file, with
    each row's reason."""
    from xiangchuang.training.excel import RowErrors, read_enrolments

    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    rows = read_enrolments(session, content)
    errors = RowErrors()
    made: list[Enrolment] = []
    nested = session.begin_nested()
    for n, person_id in rows:
        try:
            with session.begin_nested():
                made.append(
                    enrol(
                        session,
                        class_id=class_id,
                        person_id=person_id,
                        who=who,
                        audit_key=audit_key,
                        params=params,
                        now=now,
                    )
                )
        except (ValidationFailed, Conflict, InvalidTransition, NotFound, Forbidden) as exc:
            errors.add(n, "登记库人员编号", exc.message)
    if errors.errors:
        nested.rollback()
        errors.raise_if_any()
    nested.commit()
    return made


def import_attendance(
    session: Session,
    *,
    class_id: int,
    content: bytes,
    who: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> int:
    """Attendance rows (学员编号, 课次, 上课日期, 出勤); checked row by row, written all or none."""
    from xiangchuang.training.excel import RowErrors, read_attendance

    klass = repo.klass(session, class_id)
    may_run_class(who, klass)
    rows = read_attendance(content)
    errors = RowErrors()
    enrolled = {e.training_no for e, _ in repo.roster(session, class_id) if e.state == "enrolled"}
    by_session: dict[int, list[Any]] = {}
    for r in rows:
        if r.training_no not in enrolled:
            errors.add(r.row, "学员编号", f"{r.training_no} 不是本班正式学员")
        elif not 1 <= r.session_no <= klass.sessions:
            errors.add(r.row, "课次", f"须为 1–{klass.sessions}")
        elif not klass.start_date <= r.session_date <= klass.end_date:
            errors.add(r.row, "上课日期", f"须在培训期间 {klass.start_date}–{klass.end_date} 内")
        else:
            by_session.setdefault(r.session_no, []).append(r)
    for no, items in by_session.items():
        days = {r.session_date for r in items}
        if len(days) > 1:
            errors.add(items[0].row, "上课日期", f"第 {no} 课次出现多个日期")
    errors.raise_if_any()
    for no, items in sorted(by_session.items()):
        record_attendance(
            session,
            class_id=class_id,
            session_no=no,
            session_date=items[0].session_date,
            present={r.training_no: r.present for r in items},
            who=who,
            audit_key=audit_key,
            now=now,
        )
    return len(rows)
