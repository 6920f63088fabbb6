"""JSON API v1 for labour demand and job matching (clause 4.11), the twin of the ``/jobs`` pages.

The board (published posts) is public and holds no personal data. Seekers are shown to businesses and
staff by seeker number, masked name, category, skills and place — never an ID number or phone.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from xiangchuang.engine.districts import district_by_code
from xiangchuang.errors import ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.jobs import repository as repo
from xiangchuang.jobs import service
from xiangchuang.jobs.catalogue import (
    APPLICATION_STATE_LABELS,
    CONTRACT_KINDS,
    POST_STATE_LABELS,
    SEEKER_CATEGORIES,
    TRADES,
    skills_text,
)
from xiangchuang.models import JobPost, User
from xiangchuang.web import workbench as wb
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role

router = APIRouter(
    prefix="/api/v1/jobs",
    tags=["用工需求与岗位匹配"],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
Reporter = Annotated[User, Depends(require_role("applicant", "window_clerk"))]
Staff = Annotated[User, Depends(require_role("window_clerk", "district_reviewer"))]
Reader = Annotated[
    User, Depends(require_role("applicant", "window_clerk", "district_reviewer", "city_admin"))
]
QueueReader = Annotated[User, Depends(require_role("window_clerk", "district_reviewer", "city_admin"))]


def actor_of(user: User) -> service.Actor:
    return service.Actor(user.login, user.role, user.district, user.business_id, user.person_id)


def district_name(code: int) -> str:
    try:
        return district_by_code(code).name
    except KeyError:
        return str(code)


class PublicPost(BaseModel):
    """A post as the public board shows it (no personal data)."""

    model_config = ConfigDict(extra="forbid")
    post_no: str
    title: str
    business_name: str
    trade: str
    trade_label: str
    skills: list[str]
    skills_label: str
    positions: int
    positions_left: int
    wage_min_yuan: int
    wage_max_yuan: int
    district: int
    district_name: str
    town: str
    start_date: dt.date
    contract_kind: str
    contract_label: str
    contract_months: int | None
    terms: str | None
    published_on: dt.date | None


class ManagedPost(PublicPost):
    """What the business and district staff see besides."""

    state: str
    state_label: str
    reject_reason: str | None
    hired: int
    version: int


def public_post(post: JobPost, business_name: str) -> dict[str, Any]:
    return {
        "post_no": post.post_no,
        "title": post.title,
        "business_name": business_name,
        "trade": post.trade,
        "trade_label": TRADES.get(post.trade, post.trade),
        "skills": [c for c in post.skills.split(",") if c],
        "skills_label": skills_text(post.skills) or "不限",
        "positions": post.positions,
        "positions_left": max(post.positions - post.hired, 0),
        "wage_min_yuan": post.wage_min_fen // 100,
        "wage_max_yuan": post.wage_max_fen // 100,
        "district": post.district,
        "district_name": district_name(post.district),
        "town": post.town,
        "start_date": post.start_date,
        "contract_kind": post.contract_kind,
        "contract_label": CONTRACT_KINDS.get(post.contract_kind, post.contract_kind),
        "contract_months": post.contract_months,
        "terms": post.terms,
        "published_on": post.published_on,
    }


def managed_post(db: Session, post: JobPost) -> ManagedPost:
    from xiangchuang.models import Business

    business = db.get(Business, post.business_id)
    return ManagedPost(
        **public_post(post, business.name if business else ""),
        state=post.state,
        state_label=POST_STATE_LABELS[post.state],
        reject_reason=post.reject_reason,
        hired=post.hired,
        version=post.version,
    )


class BoardPage(BaseModel):
    total: int
    page: int
    posts: list[PublicPost]


@router.get(
    "/posts", response_model=BoardPage, summary="招聘岗位（公开）", responses=error_responses(422, 503)
)
def board(
    db: SessionDep,
    district: Annotated[int | None, Query(ge=500000, le=599999, description="区县代码")] = None,
    town: Annotated[str | None, Query(max_length=40)] = None,
    trade: Annotated[str | None, Query(max_length=30)] = None,
    min_wage: Annotated[int | None, Query(ge=0, le=100000, description="月工资（元）不低于")] = None,
    q: Annotated[str | None, Query(max_length=40)] = None,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
) -> BoardPage:
    if trade and trade not in TRADES:
        raise ValidationFailed(f"trade：行业须为 {'、'.join(TRADES)} 之一")
    f = repo.BoardFilter(
        district=district,
        town=(town or "").strip() or None,
        trade=trade or None,
        min_wage_fen=None if min_wage is None else min_wage * 100,
        text=(q or "").strip() or None,
    )
    rows, total = repo.board(db, f, page=page)
    return BoardPage(total=total, page=page, posts=[PublicPost(**public_post(p, n)) for p, n in rows])


@router.get(
    "/posts/{post_no}",
    response_model=PublicPost,
    summary="岗位详情（公开）",
    responses=error_responses(404, 503),
)
def post_detail(post_no: str, db: SessionDep) -> PublicPost:
    from xiangchuang.models import Business

    post = service.get_post(db, actor=None, post_no=post_no)
    business = db.get(Business, post.business_id)
    return PublicPost(**public_post(post, business.name if business else ""))


class PostRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    business_no: str | None = Field(None, max_length=40, description="窗口代办时必填：经营主体编号")
    title: str = Field(max_length=60)
    trade: str = Field(max_length=30)
    skills: list[str] = Field(default_factory=list, max_length=8)
    positions: int
    wage_min_yuan: int
    wage_max_yuan: int
    district: int | None = None
    town: str = Field(max_length=40)
    start_date: dt.date
    contract_kind: str = Field(max_length=20)
    contract_months: int | None = None
    terms: str | None = Field(None, max_length=300)


def post_input(body: PostRequest) -> service.PostInput:
    return service.PostInput(
        title=body.title,
        trade=body.trade,
        skills=body.skills,
        positions=body.positions,
        wage_min_yuan=body.wage_min_yuan,
        wage_max_yuan=body.wage_max_yuan,
        town=body.town,
        start_date=body.start_date,
        contract_kind=body.contract_kind,
        contract_months=body.contract_months,
        terms=body.terms,
        district=body.district,
    )


@router.post("/posts", response_model=ManagedPost, status_code=201, summary="报送用工需求")
def report(
    request: Request, db: SessionDep, state: StateDep, user: Reporter, body: Annotated[PostRequest, Body()]
) -> ManagedPost:
    post = service.report_post(
        db,
        actor=actor_of(user),
        data=post_input(body),
        business_no=body.business_no,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return managed_post(db, post)


@router.put(
    "/posts/{post_no}", response_model=ManagedPost, summary="修改待核实或已退回的用工需求（重新核实）"
)
def update(
    post_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Reporter,
    body: Annotated[PostRequest, Body()],
) -> ManagedPost:
    post = service.update_post(
        db,
        actor=actor_of(user),
        post_no=post_no,
        data=post_input(body),
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return managed_post(db, post)


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["publish", "reject"]
    reason: str | None = Field(None, max_length=200)
    version: int | None = None


@router.post("/posts/{post_no}/verify", response_model=ManagedPost, summary="核实并发布 / 退回（区县）")
def verify(
    post_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    body: Annotated[VerifyRequest, Body()],
) -> ManagedPost:
    post = service.verify_post(
        db,
        actor=actor_of(user),
        post_no=post_no,
        decision=body.decision,
        reason=body.reason,
        expected_version=body.version,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return managed_post(db, post)


@router.post("/posts/{post_no}/close", response_model=ManagedPost, summary="关闭岗位")
def close(post_no: str, request: Request, db: SessionDep, state: StateDep, user: Reporter) -> ManagedPost:
    post = service.close_post(
        db, actor=actor_of(user), post_no=post_no, audit_key=state.audit_key, now=wb.clock(request)
    )
    return managed_post(db, post)


@router.get("/queue", response_model=list[ManagedPost], summary="待核实的用工需求（本区县）")
def queue(db: SessionDep, user: QueueReader) -> list[ManagedPost]:
    district = None if user.role == "city_admin" else user.district
    return [managed_post(db, p) for p, _ in repo.queue(db, district)]


class SeekerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_no: str | None = Field(None, max_length=40, description="窗口办理：登记库人员编号（或 id_number）")
    id_number: str | None = Field(None, max_length=18, description="窗口办理：身份证号（只用于查找，不返回）")
    category: str = Field(max_length=20)
    district: int
    town: str = Field(max_length=40)
    skills: list[str] = Field(max_length=8)
    trades: list[str] = Field(default_factory=list, max_length=11)
    wage_expected_yuan: int = 0
    available_from: dt.date | None = None
    phone: str | None = Field(None, max_length=20, description="联系电话（加密保存，不返回）")


class SeekerView(BaseModel):
    """A seeker as businesses and staff see them: no ID number, no phone, masked name."""

    model_config = ConfigDict(extra="forbid")
    seeker_no: str
    name_masked: str
    category: str
    category_label: str
    district: int
    district_name: str
    town: str
    skills: list[str]
    skills_label: str
    trades: list[str]
    wage_expected_yuan: int
    available_from: dt.date | None
    state: str
    has_phone: bool


def seeker_view(db: Session, seeker: Any) -> SeekerView:
    from xiangchuang.models import Person

    person = db.get(Person, seeker.person_id)
    return SeekerView(
        seeker_no=seeker.seeker_no,
        name_masked=mask_name(person.name) if person else "",
        category=seeker.category,
        category_label=SEEKER_CATEGORIES.get(seeker.category, seeker.category),
        district=seeker.district,
        district_name=district_name(seeker.district),
        town=seeker.town,
        skills=[c for c in seeker.skills.split(",") if c],
        skills_label=skills_text(seeker.skills),
        trades=[t for t in seeker.trades.split(",") if t],
        wage_expected_yuan=seeker.wage_expected_fen // 100,
        available_from=seeker.available_from,
        state=seeker.state,
        has_phone=seeker.phone_enc is not None,
    )


@router.post("/seekers", response_model=SeekerView, status_code=201, summary="求职登记（本人或窗口）")
def register(
    request: Request, db: SessionDep, state: StateDep, user: Reporter, body: Annotated[SeekerRequest, Body()]
) -> SeekerView:
    seeker = service.register_seeker(
        db,
        actor=actor_of(user),
        data=service.SeekerInput(
            category=body.category,
            district=body.district,
            town=body.town,
            skills=body.skills,
            trades=body.trades,
            wage_expected_yuan=body.wage_expected_yuan,
            available_from=body.available_from,
            phone=body.phone,
        ),
        person_no=body.person_no,
        id_number=body.id_number,
        pii=wb.pii(state),
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return seeker_view(db, seeker)


@router.post("/seekers/{seeker_no}/withdraw", response_model=SeekerView, summary="撤回求职登记")
def withdraw(seeker_no: str, request: Request, db: SessionDep, state: StateDep, user: Reporter) -> SeekerView:
    seeker = service.withdraw_seeker(
        db, actor=actor_of(user), seeker_no=seeker_no, audit_key=state.audit_key, now=wb.clock(request)
    )
    return seeker_view(db, seeker)


class PostMatch(BaseModel):
    rank: int
    score: float
    reasons: list[str]
    post: PublicPost


class SeekerMatch(BaseModel):
    rank: int
    score: float
    reasons: list[str]
    seeker: SeekerView


@router.get("/seekers/{seeker_no}/matches", response_model=list[PostMatch], summary="为求职者推荐岗位")
def seeker_matches(
    seeker_no: str, request: Request, db: SessionDep, params: ParamsDep, user: Reader
) -> list[PostMatch]:
    found = service.matches_for_seeker(
        db, actor=actor_of(user), seeker_no=seeker_no, params=params, on=wb.china_day(wb.clock(request))
    )
    return [
        PostMatch(
            rank=m.rank,
            score=m.score,
            reasons=m.reasons,
            post=PublicPost(**public_post(m.post, m.business_name or "")),  # type: ignore[arg-type]
        )
        for m in found
    ]


@router.get("/posts/{post_no}/matches", response_model=list[SeekerMatch], summary="为岗位推荐人选")
def post_matches(
    post_no: str, request: Request, db: SessionDep, params: ParamsDep, user: Reader
) -> list[SeekerMatch]:
    found = service.matches_for_post(
        db, actor=actor_of(user), post_no=post_no, params=params, on=wb.china_day(wb.clock(request))
    )
    return [
        SeekerMatch(rank=m.rank, score=m.score, reasons=m.reasons, seeker=seeker_view(db, m.seeker))
        for m in found
    ]


class ApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seeker_no: str = Field(max_length=40)
    post_no: str = Field(max_length=40)


class ApplicationView(BaseModel):
    id: int
    post_no: str
    seeker_no: str
    state: str
    state_label: str
    score: float | None
    hire_date: dt.date | None
    employment_no: str | None


def application_view(db: Session, app: Any) -> ApplicationView:
    from xiangchuang.models import Employment, JobSeeker

    post, seeker = db.get(JobPost, app.post_id), db.get(JobSeeker, app.seeker_id)
    emp = db.get(Employment, app.employment_id) if app.employment_id else None
    return ApplicationView(
        id=app.id,
        post_no=post.post_no if post else "",
        seeker_no=seeker.seeker_no if seeker else "",
        state=app.state,
        state_label=APPLICATION_STATE_LABELS[app.state],
        score=None if app.score_milli is None else app.score_milli / 1000,
        hire_date=app.hire_date,
        employment_no=emp.employment_no if emp else None,
    )


@router.post("/applications", response_model=ApplicationView, status_code=201, summary="应聘")
def apply(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Reporter,
    body: Annotated[ApplyRequest, Body()],
) -> ApplicationView:
    app = service.apply(
        db,
        actor=actor_of(user),
        seeker_no=body.seeker_no,
        post_no=body.post_no,
        params=params,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return application_view(db, app)


@router.get("/posts/{post_no}/applications", response_model=list[ApplicationView], summary="岗位的应聘记录")
def post_applications(post_no: str, db: SessionDep, user: Reader) -> list[ApplicationView]:
    post = service.get_post(db, actor=actor_of(user), post_no=post_no)
    service.check_post_reader(actor_of(user), post)
    return [application_view(db, a) for a, _, _ in repo.applications_of_post(db, post.id)]


class HireRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hire_date: dt.date
    contract_start: dt.date | None = None
    contract_end: dt.date | None = None


@router.post(
    "/applications/{application_id}/hire", response_model=ApplicationView, summary="录用（生成用工记录）"
)
def hire(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Reporter,
    body: Annotated[HireRequest, Body()],
) -> ApplicationView:
    service.hire(
        db,
        actor=actor_of(user),
        application_id=application_id,
        hire_date=body.hire_date,
        contract_start=body.contract_start,
        contract_end=body.contract_end,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    from xiangchuang.models import JobApplication

    return application_view(db, db.get(JobApplication, application_id))


@router.post("/applications/{application_id}/decline", response_model=ApplicationView, summary="未录用")
def decline(
    application_id: int, request: Request, db: SessionDep, state: StateDep, user: Reporter
) -> ApplicationView:
    app = service.decline(
        db,
        actor=actor_of(user),
        application_id=application_id,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return application_view(db, app)


class TrainingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider_kind: Literal["business", "cooperative", "association", "artisan"]
    business_no: str | None = Field(None, max_length=40)
    person_no: str | None = Field(None, max_length=40)
    provider_name: str | None = Field(None, max_length=120)
    founded_by_returning: bool | None = None
    district: int | None = None
    course: str = Field(max_length=80)
    course_level: str = Field(max_length=20)
    skilled_post: bool | None = None
    trainees: int
    start_date: dt.date
    completion_date: dt.date


class TrainingView(BaseModel):
    training_no: str
    provider_kind: str
    district: int
    course: str
    course_level: str
    trainees: int
    completion_date: dt.date


class SubsidyApplicationView(BaseModel):
    application_id: int
    application_no: str
    kind: str
    state: str
    subject_key: str


@router.post("/trainings", response_model=TrainingView, status_code=201, summary="登记岗位培训")
def record_training(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Reporter,
    body: Annotated[TrainingRequest, Body()],
) -> TrainingView:
    t = service.record_training(
        db,
        actor=actor_of(user),
        data=service.TrainingInput(
            provider_kind=body.provider_kind,
            course=body.course,
            course_level=body.course_level,
            trainees=body.trainees,
            start_date=body.start_date,
            completion_date=body.completion_date,
            skilled_post=body.skilled_post,
            provider_name=body.provider_name,
            founded_by_returning=body.founded_by_returning,
            district=body.district,
        ),
        business_no=body.business_no,
        person_no=body.person_no,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return TrainingView(
        training_no=t.training_no,
        provider_kind=t.provider_kind,
        district=t.district,
        course=t.course,
        course_level=t.course_level,
        trainees=t.trainees,
        completion_date=t.completion_date,
    )


@router.post(
    "/trainings/{training_no}/apply",
    response_model=SubsidyApplicationView,
    status_code=201,
    summary="申请岗位培训补贴（进入申请办理流程）",
)
def apply_training(
    training_no: str, request: Request, db: SessionDep, state: StateDep, user: Reporter
) -> SubsidyApplicationView:
    applicant = wb.applicant_actor(db, user) if user.role == "applicant" else None
    app = service.apply_training_subsidy(
        db,
        actor=actor_of(user),
        applicant_actor=applicant,
        training_no=training_no,
        audit_key=state.audit_key,
        now=wb.clock(request),
    )
    return SubsidyApplicationView(
        application_id=app.id,
        application_no=app.application_no,
        kind=app.kind,
        state=app.state,
        subject_key=app.subject_key,
    )
