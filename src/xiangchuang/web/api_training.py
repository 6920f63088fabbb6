"""JSON API v1 for 创业培训 (clauses 2.4–2.5): the class list and certificate check (public), enrolment,
attendance, completion, certificates, provider claims through the application workflow, providers,
accreditation, courses and 项目制 purchases. Signed-in users only (cookie + ``X-CSRF-Token``); no trainee
is shown by name or number beyond the registry's person number and a masked name."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.chinatime import china_date
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import Person, TrainingClass, User
from xiangchuang.training import repository as repo
from xiangchuang.training import service as svc
from xiangchuang.training.service import Actor
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import ApiCaller, ParamsDep, SessionDep, StateDep
from xiangchuang.web.pages_training import actor_of
from xiangchuang.web.workbench import clock

router = APIRouter(
    prefix="/api/v1/training", tags=["创业培训"], responses=error_responses(401, 403, 404, 409, 422, 503)
)
public = APIRouter(prefix="/api/v1/training", tags=["创业培训"], responses=error_responses(404, 422, 503))
MAX_UPLOAD = 10 * 1024 * 1024


class ClassOut(BaseModel):
    id: int
    class_no: str
    course_code: str
    course_title: str
    kind: str
    kind_label: str
    hours: int
    mode: str
    mode_label: str
    district: int
    place: str
    start_date: dt.date
    end_date: dt.date
    capacity: int
    taken: int
    sessions: int
    state: str
    provider_name: str
    teachers: list[str]


class EnrolmentOut(BaseModel):
    id: int
    training_no: str
    class_id: int
    person_no: str
    masked_name: str
    state: str
    state_label: str
    waiting_seq: int | None
    attended: int
    completion_date: dt.date | None
    certificate_code: str | None
    eligibility: dict[str, Any]
    claim_application_no: str | None = None
    claim_state: str | None = None


class ClassDetail(ClassOut):
    roster: list[EnrolmentOut] = Field(default_factory=list, description="仅开班机构与区县人社可见")


class EnrolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_no: str | None = Field(
        default=None, max_length=40, description="机构/区县代报时填写；申请人本人报名不填"
    )


class WithdrawOut(BaseModel):
    withdrawn: EnrolmentOut
    promoted_training_no: str | None


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    session_no: int = Field(ge=1, le=200)
    session_date: dt.date
    present: dict[str, bool] = Field(description="学员编号 → 是否出勤")


class CompletionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    completion_date: dt.date | None = None


class CompletionOut(BaseModel):
    completed: list[str]
    not_completed: list[str]
    ratio: str


class Verification(BaseModel):
    valid: bool
    code: str
    message: str
    masked_name: str | None
    course: str | None
    kind_label: str | None
    hours: int | None
    provider: str | None
    class_no: str | None
    completion_date: dt.date | None


class ClaimsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    training_nos: list[str] | None = None


class ClaimOut(BaseModel):
    id: int
    application_no: str
    kind: str
    subject_key: str
    state: str
    state_label: str
    amount_approved_fen: int | None


class ClaimsOut(BaseModel):
    created: list[ClaimOut]
    skipped: dict[str, str]


class ClassIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider_id: int | None = None
    course_id: int
    mode: str
    district: int
    place: str = Field(max_length=200)
    start_date: dt.date
    end_date: dt.date
    capacity: int
    sessions: int
    teacher_names: list[str] = Field(default_factory=list, max_length=10)
    mentor_nos: list[str] = Field(default_factory=list, max_length=10)
    purchase_id: int | None = None


class ProviderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    org_code: str = Field(max_length=20)
    name: str = Field(max_length=120)
    kind: str
    uscc: str | None = Field(default=None, max_length=18)


class AccreditationOut(BaseModel):
    id: int
    accreditation_no: str
    course_kinds: list[str]
    valid_from: dt.date
    valid_until: dt.date
    district: int
    revoked: bool


class ProviderOut(BaseModel):
    id: int
    org_code: str
    name: str
    kind: str
    district: int
    accreditations: list[AccreditationOut]


class AccreditationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accreditation_no: str = Field(max_length=40)
    course_kinds: list[str]
    valid_from: dt.date
    valid_until: dt.date


class CourseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    course_code: str = Field(max_length=30)
    kind: str
    title: str = Field(max_length=120)
    hours: int
    content: str = Field(max_length=4000)


class CourseOut(BaseModel):
    id: int
    course_code: str
    kind: str
    title: str
    hours: int
    content: str


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_no: str = Field(max_length=40)
    provider_id: int
    course_kind: str
    trainees: int
    price_fen: int
    signed_on: dt.date
    deliver_by: dt.date


class PurchaseOut(BaseModel):
    id: int
    contract_no: str
    district: int
    provider_id: int
    course_kind: str
    trainees: int
    price_fen: int
    delivered: int
    countable: int
    amount_due_fen: int
    remaining: int
    deliver_by: dt.date


class NextStepOut(BaseModel):
    kind: str
    label: str
    status: str
    reasons: list[str]


class MyTraining(BaseModel):
    enrolments: list[EnrolmentOut]
    next_steps: list[NextStepOut]


def _user(caller: ApiCaller) -> User:
    if caller.user is None:
        raise Forbidden("创业培训接口仅供登录用户使用，不接受 API 令牌")
    return caller.user


def _actor(caller: ApiCaller, db: SessionDep) -> Actor:
    return actor_of(db, _user(caller))


def _class_out(db: SessionDep, c: TrainingClass) -> dict[str, Any]:
    course = repo.course(db, c.course_id)
    provider = repo.provider(db, c.provider_id)
    return {
        "id": c.id,
        "class_no": c.class_no,
        "course_code": course.course_code,
        "course_title": course.title,
        "kind": course.kind,
        "kind_label": svc.KIND_LABELS[course.kind],
        "hours": course.hours,
        "mode": c.mode,
        "mode_label": svc.MODE_LABELS[c.mode],
        "district": c.district,
        "place": c.place,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "capacity": c.capacity,
        "taken": repo.taken(db, c.id),
        "sessions": c.sessions,
        "state": c.state,
        "provider_name": provider.name,
        "teachers": [t.name_masked for t in repo.teachers(db, c.id)],
    }


def _enrolment_out(db: SessionDep, e: Any, person: Person | None = None) -> EnrolmentOut:
    person = person or db.get(Person, e.person_id)
    assert person is not None
    marks = repo.attendance(db, e.class_id).get(e.id, {})
    claim = repo.claims(db, [e.training_no]).get(e.training_no)
    return EnrolmentOut(
        id=e.id,
        training_no=e.training_no,
        class_id=e.class_id,
        person_no=person.person_no,
        masked_name=mask_name(person.name),
        state=e.state,
        state_label=svc.ENROLMENT_LABELS[e.state],
        waiting_seq=e.waiting_seq,
        attended=sum(1 for v in marks.values() if v),
        completion_date=e.completion_date,
        certificate_code=e.certificate_code,
        eligibility=e.eligibility or {},
        claim_application_no=claim.application_no if claim else None,
        claim_state=claim.state if claim else None,
    )


def _claim_out(a: Any) -> ClaimOut:
    return ClaimOut(
        id=a.id,
        application_no=a.application_no,
        kind=a.kind,
        subject_key=a.subject_key,
        state=a.state,
        state_label=STATE_LABELS[a.state],
        amount_approved_fen=a.amount_approved_fen,
    )


# ---- public -----------------------------------------------------------------------------------------


@public.get("/classes", response_model=list[ClassOut], summary="报名中的培训班（公开）")
def list_classes(
    request: Request,
    db: SessionDep,
    kind: Annotated[
        str | None, Query(max_length=10, description="培训类别：syb、iyb、online、skills、package")
    ] = None,
    district: Annotated[int | None, Query(ge=100000, le=999999, description="举办区县代码（6 位）")] = None,
) -> list[dict[str, Any]]:
    today = china_date(clock(request))
    rows = repo.classes(db, open_only=True, district=district)
    return [
        _class_out(db, c) for c, co, _ in rows if c.end_date >= today and (kind is None or co.kind == kind)
    ]


@public.get(
    "/certificates/{code}", response_model=Verification, summary="证书真伪查询（公开，仅显示脱敏姓名）"
)
def verify(code: str, db: SessionDep) -> Verification:
    v = svc.verify_certificate(db, code=code[:40])
    return Verification(
        valid=v.valid,
        code=v.code,
        message=v.message,
        masked_name=v.masked_name,
        course=v.course,
        kind_label=v.kind_label,
        hours=v.hours,
        provider=v.provider,
        class_no=v.class_no,
        completion_date=v.completion_date,
    )


# ---- classes and enrolment ----------------------------------------------------------------------------


@router.get("/classes/{class_id}", response_model=ClassDetail)
def get_class(class_id: int, db: SessionDep, caller: ApiCaller) -> ClassDetail:
    who = _actor(caller, db)
    klass = repo.klass(db, class_id)
    out = ClassDetail(**_class_out(db, klass))
    try:
        svc.may_run_class(who, klass)
    except Forbidden:
        return out
    out.roster = [_enrolment_out(db, e, p) for e, p in repo.roster(db, class_id)]
    return out


@router.post("/classes", response_model=ClassOut, status_code=201)
def create_class(
    body: ClassIn, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> dict[str, Any]:
    who = _actor(caller, db)
    provider_id = who.provider_id if who.role == "training_provider" else body.provider_id
    if provider_id is None:
        raise ValidationFailed("培训机构（provider_id）：必填（培训机构账号须已关联机构）")
    teachers = [svc.TeacherIn(mentor_no=m) for m in body.mentor_nos] + [
        svc.TeacherIn(name=n) for n in body.teacher_names
    ]
    klass = svc.create_class(
        db,
        provider_id=provider_id,
        course_id=body.course_id,
        mode=body.mode,
        district=body.district,
        place=body.place,
        start_date=body.start_date,
        end_date=body.end_date,
        capacity=body.capacity,
        sessions=body.sessions,
        who=who,
        audit_key=state.audit_key,
        now=clock(request),
        cipher=state.cipher,
        teachers=teachers,
        purchase_id=body.purchase_id,
    )
    return _class_out(db, klass)


@router.post("/classes/{class_id}/enrolments", response_model=EnrolmentOut, status_code=201)
def enrol(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    caller: ApiCaller,
    body: Annotated[EnrolIn | None, Body()] = None,
) -> EnrolmentOut:
    who = _actor(caller, db)
    if who.role == "applicant":
        if who.person_id is None:
            raise Forbidden("您的账号尚未关联登记库中的人员，请到街道/乡镇窗口核实身份")
        person_id = who.person_id
    else:
        no = (body.person_no if body else None) or ""
        pk = db.execute(select(Person.id).where(Person.person_no == no.strip())).scalar_one_or_none()
        if pk is None:
            raise ValidationFailed(f"登记库人员编号（person_no）：{no.strip() or '未填写'} 不在登记库中")
        person_id = int(pk)
    e = svc.enrol(
        db,
        class_id=class_id,
        person_id=person_id,
        who=who,
        audit_key=state.audit_key,
        now=clock(request),
        params=params,
    )
    return _enrolment_out(db, e)


@router.post("/enrolments/{enrolment_id}/withdraw", response_model=WithdrawOut)
def withdraw(
    enrolment_id: int, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> WithdrawOut:
    row, promoted = svc.withdraw(
        db, enrolment_id=enrolment_id, who=_actor(caller, db), audit_key=state.audit_key, now=clock(request)
    )
    return WithdrawOut(
        withdrawn=_enrolment_out(db, row), promoted_training_no=promoted.training_no if promoted else None
    )


@router.post("/classes/{class_id}/attendance", response_model=dict[str, int])
def attendance(
    class_id: int, body: AttendanceIn, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> dict[str, int]:
    n = svc.record_attendance(
        db,
        class_id=class_id,
        session_no=body.session_no,
        session_date=body.session_date,
        present=body.present,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return {"recorded": n}


@router.post("/classes/{class_id}/completion", response_model=CompletionOut)
def completion(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    caller: ApiCaller,
    body: CompletionIn | None = None,
) -> CompletionOut:
    res = svc.complete_class(
        db,
        class_id=class_id,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
        params=params,
        completion_date=body.completion_date if body else None,
    )
    return CompletionOut(
        completed=[e.training_no for e in res.completed],
        not_completed=[e.training_no for e in res.not_completed],
        ratio=str(res.ratio),
    )


@router.get(
    "/enrolments/{enrolment_id}/certificate",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "培训合格证 PDF"}},
)
def certificate(enrolment_id: int, db: SessionDep, caller: ApiCaller) -> Response:
    e, pdf = svc.certificate_bytes_for(db, enrolment_id=enrolment_id, who=_actor(caller, db))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{e.certificate_code}.pdf"'},
    )


@router.get("/me", response_model=MyTraining, summary="我的培训：课程、证书、可参加的培训（按引擎判定）")
def me(request: Request, db: SessionDep, params: ParamsDep, caller: ApiCaller) -> MyTraining:
    user = _user(caller)
    if user.role != "applicant":
        raise Forbidden("「我的培训」仅供申请人使用")
    if user.person_id is None:
        return MyTraining(enrolments=[], next_steps=[])
    rows = repo.person_enrolments(db, user.person_id)
    steps = svc.next_steps(db, person_id=user.person_id, on=china_date(clock(request)), params=params)
    return MyTraining(
        enrolments=[_enrolment_out(db, e) for e, _, _, _ in rows],
        next_steps=[
            NextStepOut(
                kind=s.kind,
                label=s.label,
                status=s.eligibility.status,
                reasons=s.eligibility.refused or s.eligibility.unverified or s.eligibility.passed,
            )
            for s in steps
        ],
    )


# ---- claims -------------------------------------------------------------------------------------------


@router.post("/classes/{class_id}/claims", response_model=ClaimsOut, status_code=201)
def claims(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    caller: ApiCaller,
    body: ClaimsIn | None = None,
) -> ClaimsOut:
    res = svc.claim(
        db,
        class_id=class_id,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
        training_nos=body.training_nos if body else None,
        data_dir=state.settings.data_dir,
    )
    return ClaimsOut(created=[_claim_out(a) for a in res.created], skipped=res.skipped)


@router.post("/classes/{class_id}/top-up", response_model=ClaimsOut, status_code=201)
def claims_top_up(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    caller: ApiCaller,
    body: ClaimsIn | None = None,
) -> ClaimsOut:
    """补足差额 (SYB): top-up applications (period 补差) for the trainees the engine finds it due for."""
    res = svc.claim_top_up(
        db,
        class_id=class_id,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        params=params,
        now=clock(request),
        training_nos=body.training_nos if body else None,
        data_dir=state.settings.data_dir,
    )
    return ClaimsOut(created=[_claim_out(a) for a in res.created], skipped=res.skipped)


@router.post("/claims/{application_id}/materials", response_model=ClaimOut)
async def claim_material(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    caller: ApiCaller,
    material: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File()],
) -> ClaimOut:
    content = await file.read(MAX_UPLOAD + 1)
    name = file.filename or "upload"

    def go() -> ClaimOut:
        who = _actor(caller, db)
        svc.upload_claim_material(
            db,
            application_id=application_id,
            material=material,
            filename=name,
            content=content,
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
            data_dir=state.settings.data_dir,
        )
        app, _ = svc.claim_application(db, application_id=application_id, who=who)
        return _claim_out(app)

    return await run_in_threadpool(go)


@router.post("/claims/{application_id}/submit", response_model=ClaimOut)
def claim_submit(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    caller: ApiCaller,
) -> ClaimOut:
    app = svc.submit_claim(
        db,
        application_id=application_id,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
        params=params,
    )
    return _claim_out(app)


# ---- providers, courses, purchases ----------------------------------------------------------------------


def _provider_out(db: SessionDep, p: Any) -> ProviderOut:
    return ProviderOut(
        id=p.id,
        org_code=p.org_code,
        name=p.name,
        kind=p.kind,
        district=p.district,
        accreditations=[
            AccreditationOut(
                id=a.id,
                accreditation_no=a.accreditation_no,
                course_kinds=a.course_kinds.split(","),
                valid_from=a.valid_from,
                valid_until=a.valid_until,
                district=a.district,
                revoked=a.revoked,
            )
            for a in repo.accreditations(db, p.id)
        ],
    )


def _staff(caller: ApiCaller) -> User:
    user = _user(caller)
    if user.role not in (*svc.STAFF_ROLES, "city_admin"):
        raise Forbidden("仅区县人社审核、街道/乡镇经办和市级管理员可查看")
    return user


@router.get("/providers", response_model=list[ProviderOut])
def providers(db: SessionDep, caller: ApiCaller) -> list[ProviderOut]:
    user = _staff(caller)
    district = None if user.role == "city_admin" else user.district
    return [_provider_out(db, p) for p in repo.providers(db, district)]


@router.post("/providers", response_model=ProviderOut, status_code=201)
def create_provider(
    body: ProviderIn, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> ProviderOut:
    user = _user(caller)
    p = svc.create_provider(
        db,
        org_code=body.org_code,
        name=body.name,
        kind=body.kind,
        district=user.district or 0,
        uscc=body.uscc,
        who=actor_of(db, user),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return _provider_out(db, p)


@router.post("/providers/{provider_id}/accreditations", response_model=ProviderOut, status_code=201)
def accredit(
    provider_id: int,
    body: AccreditationIn,
    request: Request,
    db: SessionDep,
    state: StateDep,
    caller: ApiCaller,
) -> ProviderOut:
    svc.accredit(
        db,
        provider_id=provider_id,
        accreditation_no=body.accreditation_no,
        course_kinds=body.course_kinds,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return _provider_out(db, repo.provider(db, provider_id))


@router.get("/courses", response_model=list[CourseOut])
def courses(db: SessionDep, caller: ApiCaller) -> list[CourseOut]:
    _user(caller)
    return [
        CourseOut(
            id=c.id, course_code=c.course_code, kind=c.kind, title=c.title, hours=c.hours, content=c.content
        )
        for c in repo.courses(db)
    ]


@router.post("/courses", response_model=CourseOut, status_code=201)
def create_course(
    body: CourseIn, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> CourseOut:
    c = svc.create_course(
        db,
        course_code=body.course_code,
        kind=body.kind,
        title=body.title,
        hours=body.hours,
        content=body.content,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return CourseOut(
        id=c.id, course_code=c.course_code, kind=c.kind, title=c.title, hours=c.hours, content=c.content
    )


def _purchase_out(g: svc.PurchaseProgress) -> PurchaseOut:
    p = g.purchase
    return PurchaseOut(
        id=p.id,
        contract_no=p.contract_no,
        district=p.district,
        provider_id=p.provider_id,
        course_kind=p.course_kind,
        trainees=p.trainees,
        price_fen=p.price_fen,
        delivered=g.delivered,
        countable=g.countable,
        amount_due_fen=g.amount_due_fen,
        remaining=g.remaining,
        deliver_by=p.deliver_by,
    )


@router.get("/purchases", response_model=list[PurchaseOut])
def purchases(db: SessionDep, caller: ApiCaller) -> list[PurchaseOut]:
    user = _staff(caller)
    district = None if user.role == "city_admin" else user.district
    return [_purchase_out(svc.purchase_progress(db, p)) for p in repo.purchases(db, district)]


@router.post("/purchases", response_model=PurchaseOut, status_code=201)
def create_purchase(
    body: PurchaseIn, request: Request, db: SessionDep, state: StateDep, caller: ApiCaller
) -> PurchaseOut:
    p = svc.create_purchase(
        db,
        contract_no=body.contract_no,
        provider_id=body.provider_id,
        course_kind=body.course_kind,
        trainees=body.trainees,
        price_fen=body.price_fen,
        signed_on=body.signed_on,
        deliver_by=body.deliver_by,
        who=_actor(caller, db),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return _purchase_out(svc.purchase_progress(db, p))
