"""JSON API v1 of the one-stop service (clause 3.7: windows, the 就业创业服务超市, requests, purchased
services, staff training) and of leaders' contact and coordination (clause 5.13). Signed-in users only
(the windows and the catalogue are public); every query is limited to the caller's scope; no personal
number or phone appears (an entrepreneur is named by the business number, staff by their login)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from xiangchuang.chinatime import china_date
from xiangchuang.ids import mask_name
from xiangchuang.models import User
from xiangchuang.models.services import (
    CoordinationMeeting,
    CoordinationTask,
    LiaisonProblem,
    ServiceOffering,
    ServiceRequest,
    ServiceWindow,
)
from xiangchuang.services import repository as repo
from xiangchuang.services import service as svc
from xiangchuang.users.service import UserScope, scope_for
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.workbench import clock

router = APIRouter(
    prefix="/api/v1/services",
    tags=["创业服务与联系企业"],
    responses=error_responses(401, 403, 404, 409, 422, 503),
)
STAFF_VIEW = ("window_clerk", "district_reviewer", "city_admin")
Requester = Annotated[
    User, Depends(require_role("applicant", "window_clerk", "district_reviewer", "city_admin"))
]
StaffView = Annotated[User, Depends(require_role(*STAFF_VIEW))]
Staff = Annotated[User, Depends(require_role(*svc.STAFF_ROLES))]
Applicant = Annotated[User, Depends(require_role("applicant"))]
Planner = Annotated[User, Depends(require_role("district_reviewer", "city_admin"))]
Reviewer = Annotated[User, Depends(require_role("district_reviewer"))]


def _now(request: Request) -> dt.datetime:
    return clock(request)


NowDep = Annotated[dt.datetime, Depends(_now)]
DistrictQuery = Annotated[int | None, Query(ge=100000, le=999999, description="区县代码（6位）")]


# --- response models ---------------------------------------------------------------------------------------


class WindowOut(BaseModel):
    window_no: str
    name: str
    level: str
    level_label: str
    district: int
    street: str | None
    centre: str
    address: str
    hours: str
    handles: list[str]
    handles_labels: list[str]
    staff_count: int


class OfferingOut(BaseModel):
    offering_no: str
    category: str
    category_label: str
    title: str
    provider_name: str
    provider_kind: str
    provider_kind_label: str
    district: int | None
    description: str
    fee_note: str


class RequestOut(BaseModel):
    request_no: str
    offering_no: str
    offering_title: str
    category: str
    district: int
    business_no: str | None
    on_behalf: bool
    detail: str
    state: str
    state_label: str
    handler_login: str | None
    purchase_no: str | None
    due_on: dt.date
    overdue: bool
    submitted_at: dt.datetime
    closed_at: dt.datetime | None
    outcome: str | None
    rating: int | None
    rating_comment: str | None


class PurchaseOut(BaseModel):
    purchase_no: str
    district: int
    contract_no: str
    provider_name: str
    offering_title: str
    quantity: int = Field(ge=1, le=100000)
    unit_price_fen: int = Field(ge=0, le=10**11)
    total_fen: int
    start_on: dt.date
    end_on: dt.date
    delivered: int
    in_progress: int
    remaining: int
    delivered_fen: int
    deliveries: list[str] = Field(default_factory=list)


class TrainingOut(BaseModel):
    id: int
    district: int
    street: str | None
    staff_name_masked: str
    topic: str
    organiser: str
    trained_on: dt.date
    hours: int
    passed: bool


class OfficialOut(BaseModel):
    official_no: str
    name: str
    title: str
    unit: str
    district: int
    businesses_now: int
    businesses_ever: int
    visits: int
    problems_raised: int
    problems_solved: int
    problems_overdue: int


class AssignmentOut(BaseModel):
    id: int
    official_no: str
    business_no: str
    since: dt.date
    until: dt.date | None
    end_reason: str | None


class VisitOut(BaseModel):
    visit_no: str
    official_no: str
    business_no: str
    visited_on: dt.date
    mode: str
    summary: str


class NoteOut(BaseModel):
    at: dt.datetime
    author: str
    kind: str
    note: str


class ProblemOut(BaseModel):
    problem_no: str
    business_no: str
    district: int
    official_no: str | None
    category: str
    description: str
    owner_department: str
    owner: str
    raised_on: dt.date
    due_on: dt.date
    state: str
    state_label: str
    overdue: bool
    resolution: str | None
    resolved_on: dt.date | None
    confirmed_on: dt.date | None
    notes: list[NoteOut] = Field(default_factory=list)


class TaskOut(BaseModel):
    task_no: str
    department: str
    owner: str
    description: str
    due_on: dt.date
    state: str
    overdue: bool
    done_on: dt.date | None
    done_note: str | None


class MeetingOut(BaseModel):
    meeting_no: str
    district: int
    held_on: dt.date
    title: str
    convener: str
    departments: list[str]
    decisions: list[str]
    tasks: list[TaskOut]


class DistrictSummaryOut(BaseModel):
    district: int
    windows: int = 0
    requests: int = 0
    requests_completed: int = 0
    rated: int = 0
    rating_avg: float | None = None
    purchased: int = 0
    delivered: int = 0
    staff_trained: int = 0
    officials: int = 0
    businesses_in_contact: int = 0
    visits: int = 0
    problems_raised: int = 0
    problems_solved: int = 0
    problems_overdue: int = 0
    tasks: int = 0
    tasks_open: int = 0
    tasks_overdue: int = 0


class SummaryOut(BaseModel):
    officials: list[OfficialOut]
    districts: list[DistrictSummaryOut]


# --- request bodies ----------------------------------------------------------------------------------------


class WindowIn(BaseModel):
    name: str = Field(max_length=120)
    level: str = Field(max_length=10)
    district: int | None = None
    street: str | None = Field(default=None, max_length=60)
    centre: str = Field(max_length=120)
    address: str = Field(max_length=200)
    hours: str = Field(max_length=120)
    handles: list[str] = Field(max_length=20)
    staff_logins: list[str] = Field(default_factory=list, max_length=50)


class OfferingIn(BaseModel):
    category: str = Field(max_length=20)
    title: str = Field(max_length=120)
    provider_name: str = Field(max_length=120)
    provider_kind: str = Field(max_length=10)
    district: int | None = None
    description: str = Field(max_length=500)
    fee_note: str = Field(max_length=120)


class RequestIn(BaseModel):
    offering_no: str = Field(max_length=40)
    detail: str = Field(max_length=500)
    business_no: str | None = Field(default=None, max_length=40)
    window_no: str | None = Field(default=None, max_length=40)


class AcceptIn(BaseModel):
    handler_login: str | None = Field(default=None, max_length=60)
    purchase_no: str | None = Field(default=None, max_length=40)


class TextIn(BaseModel):
    text: str = Field(max_length=1000)


class RateIn(BaseModel):
    rating: int
    comment: str | None = Field(default=None, max_length=300)


class PurchaseIn(BaseModel):
    contract_no: str = Field(max_length=60)
    provider_name: str = Field(max_length=120)
    offering_no: str = Field(max_length=40)
    quantity: int
    unit_price_fen: int
    start_on: dt.date
    end_on: dt.date


class TrainingIn(BaseModel):
    staff_name: str = Field(max_length=60)
    staff_login: str | None = Field(default=None, max_length=60)
    street: str | None = Field(default=None, max_length=60)
    topic: str = Field(max_length=120)
    organiser: str = Field(max_length=120)
    trained_on: dt.date
    hours: int
    passed: bool


class OfficialIn(BaseModel):
    name: str = Field(max_length=60)
    title: str = Field(max_length=60)
    unit: str = Field(max_length=120)


class AssignIn(BaseModel):
    business_no: str = Field(max_length=40)
    since: dt.date | None = None


class VisitIn(BaseModel):
    official_no: str = Field(max_length=40)
    business_no: str = Field(max_length=40)
    visited_on: dt.date
    mode: str = Field(max_length=10)
    summary: str = Field(max_length=1000)


class ProblemIn(BaseModel):
    business_no: str = Field(max_length=40)
    category: str = Field(max_length=20)
    description: str = Field(max_length=1000)
    owner_department: str = Field(max_length=20)
    owner: str = Field(max_length=60)
    due_on: dt.date | None = None
    visit_no: str | None = Field(default=None, max_length=40)


class ProgressIn(BaseModel):
    note: str = Field(max_length=1000)
    due_on: dt.date | None = None


class ConfirmIn(BaseModel):
    accept: bool
    note: str | None = Field(default=None, max_length=500)


class MeetingIn(BaseModel):
    title: str = Field(max_length=120)
    held_on: dt.date
    convener: str = Field(max_length=60)
    departments: list[str] = Field(max_length=20)
    decisions: list[str] = Field(max_length=50)


class TaskIn(BaseModel):
    department: str = Field(max_length=20)
    owner: str = Field(max_length=60)
    description: str = Field(max_length=500)
    due_on: dt.date | None = None


# --- converters --------------------------------------------------------------------------------------------


def window_out(w: ServiceWindow) -> WindowOut:
    return WindowOut(
        window_no=w.window_no, name=w.name, level=w.level, level_label=svc.LEVEL_LABELS[w.level],
        district=w.district, street=w.street, centre=w.centre, address=w.address, hours=w.hours,
        handles=list(w.handles), handles_labels=[svc.MATTERS.get(m, m) for m in w.handles],
        staff_count=len(w.staff_logins),
    )  # fmt: skip


def offering_out(o: ServiceOffering) -> OfferingOut:
    return OfferingOut(
        offering_no=o.offering_no, category=o.category, category_label=svc.CATEGORY_LABELS[o.category],
        title=o.title, provider_name=o.provider_name, provider_kind=o.provider_kind,
        provider_kind_label=svc.PROVIDER_KIND_LABELS[o.provider_kind], district=o.district,
        description=o.description, fee_note=o.fee_note,
    )  # fmt: skip


def requests_out(db: Any, rows: list[ServiceRequest], today: dt.date) -> list[RequestOut]:
    from xiangchuang.models import ServicePurchase

    offerings = repo.offerings_by_id(db, {r.offering_id for r in rows})
    businesses = repo.businesses_of(db, {r.business_id for r in rows if r.business_id is not None})
    pids = {r.purchase_id for r in rows if r.purchase_id is not None}
    purchases = (
        {p.id: p.purchase_no for p in db.query(ServicePurchase).filter(ServicePurchase.id.in_(pids))}
        if pids
        else {}
    )
    return [
        RequestOut(
            request_no=r.request_no,
            offering_no=offerings[r.offering_id].offering_no,
            offering_title=offerings[r.offering_id].title,
            category=offerings[r.offering_id].category,
            district=r.district,
            business_no=businesses[r.business_id].business_no if r.business_id else None,
            on_behalf=r.on_behalf_by is not None,
            detail=r.detail,
            state=r.state,
            state_label=svc.REQUEST_STATE_LABELS[r.state],
            handler_login=r.handler_login,
            purchase_no=purchases.get(r.purchase_id) if r.purchase_id else None,
            due_on=r.due_on,
            overdue=r.state in ("submitted", "accepted") and today > r.due_on,
            submitted_at=r.submitted_at,
            closed_at=r.closed_at,
            outcome=r.outcome,
            rating=r.rating,
            rating_comment=r.rating_comment,
        )
        for r in rows
    ]


def purchase_out(row: dict[str, Any]) -> PurchaseOut:
    p = row["purchase"]
    return PurchaseOut(
        purchase_no=p.purchase_no, district=p.district, contract_no=p.contract_no, provider_name=p.provider_name,
        offering_title=row["offering_title"], quantity=p.quantity, unit_price_fen=p.unit_price_fen,
        total_fen=row["total_fen"], start_on=p.start_on, end_on=p.end_on, delivered=row["delivered"],
        in_progress=row["in_progress"], remaining=row["remaining"], delivered_fen=row["delivered_fen"],
        deliveries=[r.request_no for r in row.get("deliveries", []) if r.state == "completed"],
    )  # fmt: skip


def problems_out(
    db: Any, rows: list[LiaisonProblem], today: dt.date, *, notes: bool = False
) -> list[ProblemOut]:
    businesses = repo.businesses_of(db, {p.business_id for p in rows})
    officials = repo.officials_by_id(db, {p.official_id for p in rows})
    out = []
    for p in rows:
        out.append(
            ProblemOut(
                problem_no=p.problem_no,
                business_no=businesses[p.business_id].business_no,
                district=p.district,
                official_no=officials[p.official_id].official_no if p.official_id in officials else None,
                category=p.category,
                description=p.description,
                owner_department=p.owner_department,
                owner=p.owner,
                raised_on=p.raised_on,
                due_on=p.due_on,
                state=p.state,
                state_label=svc.PROBLEM_STATE_LABELS[p.state],
                overdue=svc.is_overdue(p.due_on, p.state, today),
                resolution=p.resolution,
                resolved_on=p.resolved_on,
                confirmed_on=p.confirmed_on,
                notes=[
                    NoteOut(at=n.at, author=n.author, kind=n.kind, note=n.note)
                    for n in svc.problem_notes(db, p.id)
                ]
                if notes
                else [],
            )
        )
    return out


def task_out(t: CoordinationTask, today: dt.date) -> TaskOut:
    return TaskOut(
        task_no=t.task_no, department=t.department, owner=t.owner, description=t.description, due_on=t.due_on,
        state=t.state, overdue=t.state == "open" and today > t.due_on, done_on=t.done_on, done_note=t.done_note,
    )  # fmt: skip


def meeting_out(db: Any, scope: UserScope, m: CoordinationMeeting, today: dt.date) -> MeetingOut:
    return MeetingOut(
        meeting_no=m.meeting_no, district=m.district, held_on=m.held_on, title=m.title, convener=m.convener,
        departments=list(m.departments), decisions=[str(d) for d in m.decisions],
        tasks=[task_out(t, today) for t in svc.tasks_for(db, scope=scope, meeting_id=m.id)],
    )  # fmt: skip


def _ctx(state: Any, user: User, now: dt.datetime) -> dict[str, Any]:
    return {"scope": scope_for(user), "audit_key": state.audit_key, "now": now}


# --- windows and catalogue (public reads) -----------------------------------------------------------------


@router.get("/windows", response_model=list[WindowOut])
def list_windows(db: SessionDep, district: DistrictQuery = None) -> list[WindowOut]:
    return [window_out(w) for w in svc.windows(db, district=district)]


@router.post("/windows", response_model=WindowOut, status_code=201)
def post_window(body: WindowIn, db: SessionDep, state: StateDep, user: Planner, now: NowDep) -> WindowOut:
    return window_out(svc.create_window(db, **_ctx(state, user, now), **body.model_dump()))


@router.post("/windows/{window_no}/withdrawal", response_model=WindowOut)
def withdraw_window(window_no: str, db: SessionDep, state: StateDep, user: Planner, now: NowDep) -> WindowOut:
    w = svc.withdraw(db, **_ctx(state, user, now), kind="window", number=window_no)
    assert isinstance(w, ServiceWindow)
    return window_out(w)


@router.get("/catalogue", response_model=list[OfferingOut])
def list_catalogue(
    db: SessionDep,
    district: DistrictQuery = None,
    category: Annotated[str | None, Query(max_length=20)] = None,
) -> list[OfferingOut]:
    return [offering_out(o) for o in svc.catalogue(db, district=district, category=category)]


@router.post("/catalogue", response_model=OfferingOut, status_code=201)
def post_offering(
    body: OfferingIn, db: SessionDep, state: StateDep, user: Planner, now: NowDep
) -> OfferingOut:
    return offering_out(svc.create_offering(db, **_ctx(state, user, now), **body.model_dump()))


@router.post("/catalogue/{offering_no}/withdrawal", response_model=OfferingOut)
def withdraw_offering(
    offering_no: str, db: SessionDep, state: StateDep, user: Planner, now: NowDep
) -> OfferingOut:
    o = svc.withdraw(db, **_ctx(state, user, now), kind="offering", number=offering_no)
    assert isinstance(o, ServiceOffering)
    return offering_out(o)


# --- requests ----------------------------------------------------------------------------------------------


@router.get("/requests", response_model=list[RequestOut])
def list_requests(
    db: SessionDep, user: Requester, now: NowDep, state: Annotated[str | None, Query(max_length=12)] = None
) -> list[RequestOut]:
    scope = scope_for(user)
    return requests_out(db, svc.requests_for(db, scope=scope, state=state), china_date(now))


@router.post("/requests", response_model=RequestOut, status_code=201)
def post_request(
    body: RequestIn, db: SessionDep, state: StateDep, params: ParamsDep,
    user: Annotated[User, Depends(require_role("applicant", "window_clerk"))], now: NowDep,
) -> RequestOut:  # fmt: skip
    req = svc.request_service(db, **_ctx(state, user, now), params=params, **body.model_dump())
    return requests_out(db, [req], china_date(now))[0]


@router.get("/requests/{request_no}", response_model=RequestOut)
def get_request(request_no: str, db: SessionDep, user: Requester, now: NowDep) -> RequestOut:
    req = svc.get_request(db, scope=scope_for(user), request_no=request_no)
    return requests_out(db, [req], china_date(now))[0]


@router.post("/requests/{request_no}/accept", response_model=RequestOut)
def accept(
    request_no: str, body: AcceptIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> RequestOut:
    req = svc.accept_request(db, **_ctx(state, user, now), request_no=request_no, **body.model_dump())
    return requests_out(db, [req], china_date(now))[0]


@router.post("/requests/{request_no}/complete", response_model=RequestOut)
def complete(
    request_no: str, body: TextIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> RequestOut:
    req = svc.complete_request(db, **_ctx(state, user, now), request_no=request_no, outcome=body.text)
    return requests_out(db, [req], china_date(now))[0]


@router.post("/requests/{request_no}/reject", response_model=RequestOut)
def reject(
    request_no: str, body: TextIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> RequestOut:
    req = svc.reject_request(db, **_ctx(state, user, now), request_no=request_no, reason=body.text)
    return requests_out(db, [req], china_date(now))[0]


@router.post("/requests/{request_no}/cancel", response_model=RequestOut)
def cancel(request_no: str, db: SessionDep, state: StateDep, user: Applicant, now: NowDep) -> RequestOut:
    req = svc.cancel_request(db, **_ctx(state, user, now), request_no=request_no)
    return requests_out(db, [req], china_date(now))[0]


@router.post("/requests/{request_no}/rating", response_model=RequestOut)
def rate(
    request_no: str, body: RateIn, db: SessionDep, state: StateDep, user: Applicant, now: NowDep
) -> RequestOut:
    req = svc.rate_request(
        db, **_ctx(state, user, now), request_no=request_no, rating=body.rating, comment=body.comment
    )
    return requests_out(db, [req], china_date(now))[0]


# --- purchases and staff training --------------------------------------------------------------------------


@router.get("/purchases", response_model=list[PurchaseOut])
def list_purchases(db: SessionDep, user: StaffView) -> list[PurchaseOut]:
    d = svc.visible_districts(scope_for(user))
    return [purchase_out(r) for r in svc.purchase_progress(db, district=d)]


@router.post("/purchases", response_model=PurchaseOut, status_code=201)
def post_purchase(
    body: PurchaseIn, db: SessionDep, state: StateDep, user: Reviewer, now: NowDep
) -> PurchaseOut:
    p = svc.create_purchase(db, **_ctx(state, user, now), **body.model_dump())
    return purchase_out(svc.get_purchase(db, scope=scope_for(user), purchase_no=p.purchase_no))


@router.get("/purchases/{purchase_no}", response_model=PurchaseOut)
def get_purchase(purchase_no: str, db: SessionDep, user: StaffView) -> PurchaseOut:
    return purchase_out(svc.get_purchase(db, scope=scope_for(user), purchase_no=purchase_no))


@router.get("/staff-trainings", response_model=list[TrainingOut])
def list_trainings(db: SessionDep, user: StaffView) -> list[TrainingOut]:
    return [
        TrainingOut(
            id=t.id,
            district=t.district,
            street=t.street,
            staff_name_masked=mask_name(t.staff_name),
            topic=t.topic,
            organiser=t.organiser,
            trained_on=t.trained_on,
            hours=t.hours,
            passed=t.passed,
        )
        for t in svc.staff_trainings(db, scope=scope_for(user))
    ]


@router.post("/staff-trainings", response_model=TrainingOut, status_code=201)
def post_training(body: TrainingIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep) -> TrainingOut:
    t = svc.record_staff_training(db, **_ctx(state, user, now), **body.model_dump())
    return TrainingOut(
        id=t.id, district=t.district, street=t.street, staff_name_masked=mask_name(t.staff_name), topic=t.topic,
        organiser=t.organiser, trained_on=t.trained_on, hours=t.hours, passed=t.passed,
    )  # fmt: skip


# --- leaders' contact --------------------------------------------------------------------------------------


def _official_rows(db: Any, scope: UserScope, today: dt.date) -> list[OfficialOut]:
    rows = repo.official_summary(db, district=svc.visible_districts(scope), today=today)
    return [
        OfficialOut(
            official_no=r["official"].official_no,
            name=r["official"].name,
            title=r["official"].title,
            unit=r["official"].unit,
            district=r["official"].district,
            **{k: v for k, v in r.items() if k != "official"},
        )
        for r in rows
    ]


@router.get("/officials", response_model=list[OfficialOut])
def list_officials(db: SessionDep, user: StaffView, now: NowDep) -> list[OfficialOut]:
    return _official_rows(db, scope_for(user), china_date(now))


@router.post("/officials", response_model=OfficialOut, status_code=201)
def post_official(body: OfficialIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep) -> OfficialOut:
    o = svc.create_official(db, **_ctx(state, user, now), **body.model_dump())
    return next(
        r for r in _official_rows(db, scope_for(user), china_date(now)) if r.official_no == o.official_no
    )


def _assignment_out(db: Any, rows: list[Any]) -> list[AssignmentOut]:
    businesses = repo.businesses_of(db, {a.business_id for a in rows})
    officials = repo.officials_by_id(db, {a.official_id for a in rows})
    return [
        AssignmentOut(
            id=a.id,
            official_no=officials[a.official_id].official_no,
            business_no=businesses[a.business_id].business_no,
            since=a.since,
            until=a.until,
            end_reason=a.end_reason,
        )
        for a in rows
    ]


@router.get("/assignments", response_model=list[AssignmentOut])
def list_assignments(db: SessionDep, user: StaffView, current: bool = False) -> list[AssignmentOut]:
    d = svc.visible_districts(scope_for(user))
    return _assignment_out(db, repo.assignments(db, district=d, current_only=current))


@router.post("/officials/{official_no}/assignments", response_model=AssignmentOut, status_code=201)
def post_assignment(
    official_no: str, body: AssignIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> AssignmentOut:
    a = svc.assign_official(db, **_ctx(state, user, now), official_no=official_no, **body.model_dump())
    return _assignment_out(db, [a])[0]


@router.post("/assignments/{assignment_id}/end", response_model=AssignmentOut)
def end_assignment(
    assignment_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    body: TextIn,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    now: NowDep,
) -> AssignmentOut:
    a = svc.end_assignment(db, **_ctx(state, user, now), assignment_id=assignment_id, reason=body.text)
    return _assignment_out(db, [a])[0]


def _visit_out(db: Any, rows: list[Any]) -> list[VisitOut]:
    businesses = repo.businesses_of(db, {v.business_id for v in rows})
    officials = repo.officials_by_id(db, {v.official_id for v in rows})
    return [
        VisitOut(
            visit_no=v.visit_no,
            official_no=officials[v.official_id].official_no,
            business_no=businesses[v.business_id].business_no,
            visited_on=v.visited_on,
            mode=v.mode,
            summary=v.summary,
        )
        for v in rows
    ]


@router.get("/visits", response_model=list[VisitOut])
def list_visits(db: SessionDep, user: StaffView) -> list[VisitOut]:
    return _visit_out(db, repo.visits(db, district=svc.visible_districts(scope_for(user))))


@router.post("/visits", response_model=VisitOut, status_code=201)
def post_visit(body: VisitIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep) -> VisitOut:
    return _visit_out(db, [svc.record_visit(db, **_ctx(state, user, now), **body.model_dump())])[0]


@router.get("/problems", response_model=list[ProblemOut])
def list_problems(
    db: SessionDep, user: Requester, now: NowDep, state: Annotated[str | None, Query(max_length=12)] = None
) -> list[ProblemOut]:
    rows = svc.problems_for(db, scope=scope_for(user), state=state)
    return problems_out(db, rows, china_date(now))


@router.post("/problems", response_model=ProblemOut, status_code=201)
def post_problem(
    body: ProblemIn, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, now: NowDep
) -> ProblemOut:
    p = svc.raise_problem(db, **_ctx(state, user, now), params=params, **body.model_dump())
    return problems_out(db, [p], china_date(now))[0]


@router.get("/problems/{problem_no}", response_model=ProblemOut)
def get_problem(problem_no: str, db: SessionDep, user: Requester, now: NowDep) -> ProblemOut:
    p = svc.get_problem(db, scope=scope_for(user), problem_no=problem_no)
    return problems_out(db, [p], china_date(now), notes=True)[0]


@router.post("/problems/{problem_no}/progress", response_model=ProblemOut)
def post_progress(
    problem_no: str, body: ProgressIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> ProblemOut:
    p = svc.add_progress(
        db, **_ctx(state, user, now), problem_no=problem_no, note=body.note, due_on=body.due_on
    )
    return problems_out(db, [p], china_date(now), notes=True)[0]


@router.post("/problems/{problem_no}/resolve", response_model=ProblemOut)
def post_resolve(
    problem_no: str, body: TextIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> ProblemOut:
    p = svc.resolve_problem(db, **_ctx(state, user, now), problem_no=problem_no, resolution=body.text)
    return problems_out(db, [p], china_date(now), notes=True)[0]


@router.post("/problems/{problem_no}/confirmation", response_model=ProblemOut)
def post_confirm(
    problem_no: str, body: ConfirmIn, db: SessionDep, state: StateDep, user: Applicant, now: NowDep
) -> ProblemOut:
    p = svc.confirm_resolution(
        db, **_ctx(state, user, now), problem_no=problem_no, accept=body.accept, note=body.note
    )
    return problems_out(db, [p], china_date(now), notes=True)[0]


# --- coordination ------------------------------------------------------------------------------------------


@router.get("/meetings", response_model=list[MeetingOut])
def list_meetings(db: SessionDep, user: StaffView, now: NowDep) -> list[MeetingOut]:
    scope, today = scope_for(user), china_date(now)
    return [meeting_out(db, scope, m, today) for m in svc.meetings_for(db, scope=scope)]


@router.post("/meetings", response_model=MeetingOut, status_code=201)
def post_meeting(body: MeetingIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep) -> MeetingOut:
    m = svc.record_meeting(db, **_ctx(state, user, now), **body.model_dump())
    return meeting_out(db, scope_for(user), m, china_date(now))


@router.get("/meetings/{meeting_no}", response_model=MeetingOut)
def get_meeting(meeting_no: str, db: SessionDep, user: StaffView, now: NowDep) -> MeetingOut:
    scope = scope_for(user)
    return meeting_out(db, scope, svc.get_meeting(db, scope=scope, meeting_no=meeting_no), china_date(now))


@router.post("/meetings/{meeting_no}/tasks", response_model=TaskOut, status_code=201)
def post_task(
    meeting_no: str,
    body: TaskIn,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    now: NowDep,
) -> TaskOut:
    t = svc.assign_task(
        db, **_ctx(state, user, now), params=params, meeting_no=meeting_no, **body.model_dump()
    )
    return task_out(t, china_date(now))


@router.post("/tasks/{task_no}/done", response_model=TaskOut)
def post_task_done(
    task_no: str, body: TextIn, db: SessionDep, state: StateDep, user: Staff, now: NowDep
) -> TaskOut:
    t = svc.complete_task(db, **_ctx(state, user, now), task_no=task_no, note=body.text)
    return task_out(t, china_date(now))


@router.get("/summary", response_model=SummaryOut)
def summary(db: SessionDep, user: StaffView, now: NowDep) -> SummaryOut:
    scope = scope_for(user)
    d = svc.visible_districts(scope)
    rows = repo.district_summary(db, district=d, today=china_date(now))
    return SummaryOut(
        officials=_official_rows(db, scope, china_date(now)),
        districts=[DistrictSummaryOut(**{k: v for k, v in r.items() if k != "rating_sum"}) for r in rows],
    )
