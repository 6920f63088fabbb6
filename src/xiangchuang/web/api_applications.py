"""JSON API v1 for the application workflow (signed-in users; the twins of the ``/my`` and ``/staff``
pages), with one response model per audience: an applicant sees their application, its timeline in
applicant wording and what to fix; staff also see the subject, the determinations with the difference
from the check-up, and the version to send back (optimistic locking). Bearer tokens (banks, the guarantee
fund) have no access here."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from xiangchuang.applications import attachments, disbursement, service
from xiangchuang.applications import repository as repo
from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import ACTIONS, STATE_LABELS
from xiangchuang.models import Application, User
from xiangchuang.web import workbench as wb
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import MAX_ROW_ID, SessionDep, StateDep, current_params, require_role
from xiangchuang.web.pages_applicant import my_subjects, registry_checkup

# Every signed-in API answer may be one of these Chinese error bodies (web/app.py's handlers).
router = APIRouter(
    prefix="/api/v1",
    tags=["申请办理 / applications"],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
Applicant = Annotated[User, Depends(require_role("applicant"))]
Worker = Annotated[
    User, Depends(require_role("applicant", "window_clerk", "district_reviewer", "district_finance"))
]
Staff = Annotated[
    User, Depends(require_role("window_clerk", "district_reviewer", "district_finance", "city_admin"))
]


class Step(BaseModel):
    at: dt.datetime
    label: str
    reason: str | None = None
    on_behalf: bool = False


class MaterialFiles(BaseModel):
    material: str
    label: str
    required: bool
    rule: str
    files: list[str] = Field(description="已上传的文件名")


class ApplicantApplication(BaseModel):
    """What the applicant sees of their own application."""

    model_config = ConfigDict(extra="forbid")
    id: int
    application_no: str
    kind: str
    title: str
    period: str
    state: str
    state_label: str
    amount_requested_fen: int | None
    amount_approved_fen: int | None
    return_note: str | None = Field(description="退回补正：需要补正的内容")
    decision_reason: str | None
    publicity_start: dt.date | None
    publicity_end: dt.date | None
    version: int
    allowed_actions: list[str]
    timeline: list[Step]
    materials: list[MaterialFiles]


class ActionOffer(BaseModel):
    action: str
    label: str
    reason_required: bool


class DeterminationView(BaseModel):
    stage: str
    on: dt.date
    status: str
    amount_fen: int | None
    engine_version: str
    parameters_version: str
    difference_from_checkup: dict[str, Any] | None
    conditions: list[dict[str, Any]]
    missing: list[str] = []  # the facts the engine lacked (Chinese labels): why a result is 待定


class StaffApplication(BaseModel):
    """What district staff see (no personal numbers: the subject by its registry number)."""

    model_config = ConfigDict(extra="forbid")
    id: int
    application_no: str
    kind: str
    title: str
    subject_table: str
    subject_key: str
    district: int
    street: str | None
    period: str
    state: str
    state_label: str
    on_behalf: bool
    amount_requested_fen: int | None
    amount_approved_fen: int | None
    return_note: str | None
    decision_reason: str | None
    publicity_start: dt.date | None
    publicity_end: dt.date | None
    version: int
    actions: list[ActionOffer]
    determinations: list[DeterminationView]
    timeline: list[Step]
    materials: list[MaterialFiles]


class QueueItem(BaseModel):
    id: int
    application_no: str
    kind: str
    title: str
    subject_key: str
    state: str
    state_label: str
    amount_requested_fen: int | None
    on_behalf: bool
    created_at: dt.datetime


class QueuePage(BaseModel):
    total: int
    page: int
    page_size: int
    pages: int
    items: list[QueueItem]


class ApplicantSummary(BaseModel):
    id: int
    application_no: str
    kind: str
    title: str
    period: str
    state: str
    state_label: str


class ActionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal[ACTIONS]  # type: ignore[valid-type]
    reason: str | None = Field(None, max_length=500)
    expected_version: int | None = Field(
        None, ge=1, le=MAX_ROW_ID, description="页面上看到的版本号（乐观锁）"
    )


class CreateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=40)
    period: str = Field(max_length=20)
    amount_requested_fen: int | None = Field(None, ge=0)
    description: str | None = Field(None, max_length=1000)
    district: int | None = Field(
        None, description="所在区县代码：仅当登记库中没有申请人创办或就业的经营主体时使用（不读取户籍）"
    )


def _materials(db: Any, app: Application) -> list[MaterialFiles]:
    return [
        MaterialFiles(
            material=m["material"].id,
            label=m["material"].label,
            required=m["material"].required,
            rule=m["material"].rule,
            files=[f.original_name for f in m["files"]],
        )
        for m in wb.materials(db, app)
    ]


def _steps(db: Any, app: Application, audience: str) -> list[Step]:
    return [
        Step(at=t.at, label=t.label, reason=t.reason, on_behalf=t.on_behalf)
        for t in wb.timeline(db, app, audience=audience)
    ]


def applicant_view(db: Any, app: Application) -> ApplicantApplication:
    return ApplicantApplication(
        id=app.id,
        application_no=app.application_no,
        kind=app.kind,
        title=KINDS[app.kind].title,
        period=app.period,
        state=app.state,
        state_label=STATE_LABELS[app.state],
        amount_requested_fen=app.amount_requested_fen,
        amount_approved_fen=app.amount_approved_fen,
        return_note=app.return_note,
        decision_reason=app.decision_reason,
        publicity_start=app.publicity_start,
        publicity_end=app.publicity_end,
        version=app.version,
        allowed_actions=[r.action for r in wb.actions_for(app, "applicant")],
        timeline=_steps(db, app, "applicant"),
        materials=_materials(db, app),
    )


def staff_view(db: Any, app: Application, role: str) -> StaffApplication:
    return StaffApplication(
        id=app.id,
        application_no=app.application_no,
        kind=app.kind,
        title=KINDS[app.kind].title,
        subject_table=app.subject_table,
        subject_key=app.subject_key,
        district=app.district,
        street=app.street,
        period=app.period,
        state=app.state,
        state_label=STATE_LABELS[app.state],
        on_behalf=app.on_behalf,
        amount_requested_fen=app.amount_requested_fen,
        amount_approved_fen=app.amount_approved_fen,
        return_note=app.return_note,
        decision_reason=app.decision_reason,
        publicity_start=app.publicity_start,
        publicity_end=app.publicity_end,
        version=app.version,
        actions=[
            ActionOffer(action=r.action, label=r.staff_label, reason_required="reason_required" in r.guards)
            for r in ([] if role == "city_admin" else wb.actions_for(app, role))
        ],
        determinations=[
            DeterminationView(
                stage=d.stage,
                on=d.on,
                status=d.status,
                amount_fen=d.amount_fen,
                engine_version=d.engine_version,
                parameters_version=d.parameters_version,
                difference_from_checkup=d.result.get("difference_from_checkup"),
                conditions=[
                    {k: c.get(k) for k in ("id", "status", "clause", "message")}
                    for c in d.result.get("conditions", [])
                ],
                missing=[str(m.get("label") or m.get("fact")) for m in d.result.get("missing") or []],
            )
            for d in repo.determinations(db, app.id)
        ],
        timeline=_steps(db, app, "staff"),
        materials=_materials(db, app),
    )


@router.get("/my/applications", response_model=list[ApplicantSummary], summary="我的申请")
def my_applications(db: SessionDep, user: Applicant) -> list[ApplicantSummary]:
    actor = wb.applicant_actor(db, user)
    page = repo.work_queue(
        db, actor=actor, role="applicant", actor_district=None, sort="created", descending=True, page_size=200
    )
    return [
        ApplicantSummary(
            id=a.id,
            application_no=a.application_no,
            kind=a.kind,
            title=KINDS[a.kind].title,
            period=a.period,
            state=a.state,
            state_label=STATE_LABELS[a.state],
        )
        for a in page.items
    ]


@router.get("/my/applications/{application_id}", response_model=ApplicantApplication, summary="我的申请详情")
def my_application(application_id: int, db: SessionDep, user: Applicant) -> ApplicantApplication:
    actor = wb.applicant_actor(db, user)
    app = service.get_application(
        db, application_id=application_id, actor=actor, role="applicant", actor_district=None
    )
    return applicant_view(db, app)


@router.post(
    "/my/applications", response_model=ApplicantApplication, status_code=201, summary="创建申请（草稿）"
)
def create_mine(
    request: Request, db: SessionDep, state: StateDep, user: Applicant, body: Annotated[CreateRequest, Body()]
) -> ApplicantApplication:
    from xiangchuang.errors import ValidationFailed
    from xiangchuang.web.pages_applicant import form_answers

    kind = KINDS.get(body.kind)
    subject = my_subjects(db, user).get(kind.subject_table) if kind else None
    if kind is None or subject is None:
        raise ValidationFailed(f"kind：申请类型 {body.kind!r} 不存在，或您的账号没有可申请该项目的主体")
    actor = wb.applicant_actor(db, user)
    app = service.create_application(
        db,
        kind=kind.id,
        subject_key=subject,
        period=body.period,
        district=wb.applicant_district(
            db, user, on=wb.china_day(wb.clock(request)), chosen=str(body.district or "")
        ),
        applicant_user=actor,
        applicant_person_no=actor,
        actor=actor,
        role="applicant",
        actor_district=None,
        audit_key=state.audit_key,
        form=form_answers(body.description),
        amount_requested_fen=body.amount_requested_fen,
        now=wb.clock(request),
    )
    return applicant_view(db, app)


@router.get("/my/checkup", summary="按登记信息体检（结果文档同公开体检）")
def my_checkup(request: Request, db: SessionDep, state: StateDep, user: Applicant) -> dict[str, Any]:
    return registry_checkup(db, state, user, wb.china_day(wb.clock(request)))


@router.get("/staff/queue", response_model=QueuePage, summary="工作台（本辖区）")
def staff_queue(
    db: SessionDep,
    user: Staff,
    state: Annotated[list[str] | None, Query(max_length=20)] = None,
    kind: Annotated[list[str] | None, Query(max_length=20)] = None,
    sort: Annotated[str, Query(max_length=20)] = "created",
    desc: bool = False,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
) -> QueuePage:
    found = repo.work_queue(
        db,
        **wb.actor_for(db, user).kw(),
        filters=repo.QueueFilter(states=tuple(state or ()), kinds=tuple(kind or ())),
        sort=sort,
        descending=desc,
        page=page,
        page_size=page_size,
    )
    return QueuePage(
        total=found.total,
        page=found.page,
        page_size=found.page_size,
        pages=found.pages,
        items=[
            QueueItem(
                id=a.id,
                application_no=a.application_no,
                kind=a.kind,
                title=KINDS[a.kind].title,
                subject_key=a.subject_key,
                state=a.state,
                state_label=STATE_LABELS[a.state],
                amount_requested_fen=a.amount_requested_fen,
                on_behalf=a.on_behalf,
                created_at=a.created_at,
            )
            for a in found.items
        ],
    )


@router.get(
    "/staff/applications/{application_id}", response_model=StaffApplication, summary="申请详情（工作人员）"
)
def staff_application(application_id: int, db: SessionDep, user: Staff) -> StaffApplication:
    actor = wb.actor_for(db, user)
    app = service.get_application(db, application_id=application_id, **actor.kw())
    return staff_view(db, app, actor.role)


@router.post(
    "/applications/{application_id}/actions",
    response_model=ApplicantApplication | StaffApplication,
    summary="办理一步（按流程表；申请人与工作人员各得其视图）",
)
def act(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Worker,
    body: Annotated[ActionRequest, Body()],
) -> ApplicantApplication | StaffApplication:
    actor = wb.actor_for(db, user)
    result = disbursement.act(
        db,
        application_id=application_id,
        action=body.action,
        reason=body.reason,
        audit_key=state.audit_key,
        now=wb.clock(request),
        params=current_params(state, db),
        expected_version=body.expected_version,
        **actor.kw(),
    )
    app = result.application
    return applicant_view(db, app) if actor.role == "applicant" else staff_view(db, app, actor.role)


@router.get("/my/applications/{application_id}/missing", response_model=list[str], summary="尚缺的必需材料")
def missing(application_id: int, db: SessionDep, user: Applicant) -> list[str]:
    actor = wb.applicant_actor(db, user)
    app = service.get_application(
        db, application_id=application_id, actor=actor, role="applicant", actor_district=None
    )
    return [m.label for m in attachments.missing_required(db, app)]
