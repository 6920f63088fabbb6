"""JSON API v1 for support after failure (3.10), places and trades (5.14) and typical entrepreneurs (5.15).

District staff (window clerks, reviewers) work in their district, the city administrator everywhere; the
applicant gives or withdraws their own consents. The review panel of the nominations is the mentor draw:
``/reviews`` creates the mentor event, and the commit / reveal / draw / score / finalize routes call the
mentor service's own functions. ``/stories`` is public (published stories with consent only).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from xiangchuang.chinatime import china_date
from xiangchuang.community import places as P
from xiangchuang.community import service as S
from xiangchuang.community import typical as T
from xiangchuang.errors import Forbidden
from xiangchuang.mentors import service as mentors
from xiangchuang.models import User
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import CurrentUser, DistrictScope, ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.workbench import clock

router = APIRouter(
    prefix="/api/v1/community",
    tags=["创业失败帮扶、一村一品、创业典型"],
    responses=error_responses(401, 403, 404, 409, 422),
)
public_router = APIRouter(prefix="/api/v1/community", tags=["创业典型（公开）"])

STAFF = ("window_clerk", "district_reviewer", "city_admin")
Staff = Annotated[User, Depends(require_role(*STAFF))]
Reviewer = Annotated[User, Depends(require_role("district_reviewer", "city_admin"))]
CityAdmin = Annotated[User, Depends(require_role("city_admin"))]
Mentor = Annotated[User, Depends(require_role("mentor"))]


def today(request: Request) -> dt.date:
    return china_date(clock(request))


Today = Annotated[dt.date, Depends(today)]


class Done(BaseModel):
    no: str
    state: str | None = None


# ---- after failure -----------------------------------------------------------------------------------


class PendingClosure(BaseModel):
    business_no: str
    name: str
    district: int
    district_name: str
    closed_on: dt.date | None
    founder_person_no: str | None
    days_since: int | None


class FollowupOut(BaseModel):
    on: dt.date
    note: str
    recorded_by: str


class ReferralOut(BaseModel):
    referral_no: str
    kind: str
    kind_label: str
    agency: str
    owner: str
    state: str
    state_label: str
    referred_on: dt.date
    next_followup_on: dt.date | None
    overdue: bool
    outcome: str | None
    outcome_label: str | None
    outcome_on: dt.date | None
    followups: list[FollowupOut]


class CaseOut(BaseModel):
    case_no: str
    business_no: str
    business_name: str
    district: int
    district_name: str
    founder_person_no: str | None
    closed_on: dt.date
    offered_on: dt.date
    state: str
    state_label: str
    consent_on: dt.date | None
    consent_scope: list[str]
    consent_via: str | None
    withdrawn_on: dt.date | None
    referrals: list[ReferralOut]


def _case_out(v: S.CaseView) -> CaseOut:
    data: dict[str, Any] = {
        k: getattr(v, k) for k in CaseOut.model_fields if k not in ("referrals", "consent_scope")
    }
    return CaseOut(
        **data,
        consent_scope=list(v.consent_scope),
        referrals=[
            ReferralOut(
                **{k: getattr(r, k) for k in ReferralOut.model_fields if k != "followups"},
                followups=[FollowupOut(on=a, note=b, recorded_by=c) for a, b, c in r.followups],
            )
            for r in v.referrals
        ],
    )


class OfferIn(BaseModel):
    business_no: str = Field(max_length=40)


class ConsentIn(BaseModel):
    kinds: list[str] = Field(
        max_length=3, description="employment_service / employment_assistance / social_relief"
    )
    consent_on: dt.date


class OnIn(BaseModel):
    on: dt.date


class ReferIn(BaseModel):
    kind: str = Field(max_length=30)
    agency: str = Field(max_length=200)
    owner: str = Field(max_length=100)
    referred_on: dt.date
    next_followup_on: dt.date | None = None


class FollowupIn(BaseModel):
    on: dt.date
    note: str = Field(max_length=1000)
    next_followup_on: dt.date | None = None


class OutcomeIn(BaseModel):
    outcome: str = Field(max_length=30)
    on: dt.date
    note: str | None = Field(default=None, max_length=1000)


@router.get(
    "/closures/pending", response_model=list[PendingClosure], summary="新注销且尚未发起帮扶的经营主体"
)
def pending(
    db: SessionDep, scope: DistrictScope, user: Staff, params: ParamsDep, day: Today
) -> list[PendingClosure]:
    return [PendingClosure(**r) for r in S.closed_without_offer(db, scope=scope, today=day, params=params)]


@router.get(
    "/closures", response_model=list[CaseOut], summary="创业失败帮扶记录（工作人员：本区县；申请人：本人）"
)
def cases(db: SessionDep, scope: DistrictScope, user: CurrentUser, day: Today) -> list[CaseOut]:
    return [_case_out(v) for v in S.list_cases(db, scope=scope, today=day)]


@router.post("/closures", response_model=CaseOut, status_code=201, summary="对已注销主体的创办人发起帮扶告知")
def offer(
    body: OfferIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Staff, day: Today
) -> CaseOut:
    case = S.offer(db, scope=scope, audit_key=state.audit_key, business_no=body.business_no, today=day)
    return _case_out(S.case_view(db, scope=scope, case_no=case.case_no, today=day))


@router.get("/closures/{case_no}", response_model=CaseOut, summary="一条帮扶记录")
def case(case_no: str, db: SessionDep, scope: DistrictScope, user: CurrentUser, day: Today) -> CaseOut:
    return _case_out(S.case_view(db, scope=scope, case_no=case_no, today=day))


@router.post("/closures/{case_no}/consent", response_model=CaseOut, summary="登记本人同意（日期与范围）")
def consent(
    case_no: str,
    body: ConsentIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: CurrentUser,
    day: Today,
) -> CaseOut:
    S.record_consent(
        db,
        scope=scope,
        audit_key=state.audit_key,
        case_no=case_no,
        kinds=body.kinds,
        consent_on=body.consent_on,
        today=day,
    )
    return _case_out(S.case_view(db, scope=scope, case_no=case_no, today=day))


@router.post("/closures/{case_no}/decline", response_model=CaseOut, summary="登记本人不同意")
def decline(
    case_no: str,
    body: OnIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: CurrentUser,
    day: Today,
) -> CaseOut:
    S.decline(db, scope=scope, audit_key=state.audit_key, case_no=case_no, on=body.on, today=day)
    return _case_out(S.case_view(db, scope=scope, case_no=case_no, today=day))


@router.post(
    "/closures/{case_no}/withdraw", response_model=CaseOut, summary="撤回同意（未办结的转介随之取消）"
)
def withdraw(
    case_no: str,
    body: OnIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: CurrentUser,
    day: Today,
) -> CaseOut:
    S.withdraw_consent(db, scope=scope, audit_key=state.audit_key, case_no=case_no, on=body.on, today=day)
    return _case_out(S.case_view(db, scope=scope, case_no=case_no, today=day))


@router.post(
    "/closures/{case_no}/referrals", response_model=CaseOut, status_code=201, summary="转介（同意范围内）"
)
def refer(
    case_no: str,
    body: ReferIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    params: ParamsDep,
    day: Today,
) -> CaseOut:
    S.refer(
        db,
        scope=scope,
        audit_key=state.audit_key,
        case_no=case_no,
        kind=body.kind,
        agency=body.agency,
        owner=body.owner,
        referred_on=body.referred_on,
        next_followup_on=body.next_followup_on,
        today=day,
        params=params,
    )
    return _case_out(S.case_view(db, scope=scope, case_no=case_no, today=day))


@router.post("/referrals/{referral_no}/followups", response_model=Done, status_code=201, summary="登记回访")
def followup(
    referral_no: str,
    body: FollowupIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    params: ParamsDep,
    day: Today,
) -> Done:
    S.follow_up(
        db,
        scope=scope,
        audit_key=state.audit_key,
        referral_no=referral_no,
        on=body.on,
        note=body.note,
        next_followup_on=body.next_followup_on,
        today=day,
        params=params,
    )
    return Done(no=referral_no, state="in_progress")


@router.post("/referrals/{referral_no}/outcome", response_model=Done, summary="登记转介结果")
def outcome(
    referral_no: str,
    body: OutcomeIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    day: Today,
) -> Done:
    r = S.record_outcome(
        db,
        scope=scope,
        audit_key=state.audit_key,
        referral_no=referral_no,
        outcome=body.outcome,
        on=body.on,
        note=body.note,
        today=day,
    )
    return Done(no=r.referral_no, state=r.state)


class InjuryRow(BaseModel):
    district: int
    district_name: str
    month: int
    employers: int
    insured: int
    ratio: float | None


@router.get(
    "/injury-participation", response_model=list[InjuryRow], summary="小微经营主体工伤保险参保率（按区县）"
)
def injury(
    db: SessionDep, scope: DistrictScope, user: Staff, day: Today, month: int | None = None
) -> list[InjuryRow]:
    from xiangchuang.community.common import visible_districts

    m = month or S.previous_month(day)
    return [InjuryRow(**r) for r in S.injury_participation(db, month=m, district=visible_districts(scope))]


class UninsuredOut(BaseModel):
    business_no: str
    name: str
    district_name: str
    staff_count: int | None


@router.get(
    "/injury-participation/uninsured",
    response_model=list[UninsuredOut],
    summary="当月有雇工但未缴纳工伤保险的小微经营主体（本区县；市级为全市）",
)
def uninsured(
    db: SessionDep, scope: DistrictScope, user: Staff, day: Today, month: int | None = None
) -> list[UninsuredOut]:
    m = month or S.previous_month(day)
    return [UninsuredOut(**r) for r in S.uninsured_employers(db, scope=scope, month=m)]


# ---- places and trades -------------------------------------------------------------------------------


class BusinessTagIn(BaseModel):
    business_no: str = Field(max_length=40)
    tag_kind: str = Field(max_length=30)
    tag: str = Field(max_length=100)


class PlaceIn(BaseModel):
    place_code: str = Field(max_length=40)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=10)
    district: int
    town_code: str | None = Field(default=None, max_length=40)


class TagIn(BaseModel):
    tag_kind: str = Field(max_length=30)
    tag: str = Field(max_length=100)


class DesignationIn(BaseModel):
    title: str = Field(max_length=200)
    level: str = Field(max_length=20)
    designated_on: dt.date
    reference: str | None = Field(default=None, max_length=200)
    tag: str | None = Field(default=None, max_length=100)


class ProjectIn(BaseModel):
    project_no: str = Field(max_length=60)
    kind: str = Field(max_length=30)
    title: str = Field(max_length=200)
    district: int
    start_on: dt.date
    end_on: dt.date | None = None
    place_code: str | None = Field(default=None, max_length=40)
    operator: str | None = Field(default=None, max_length=200)


class ReachIn(BaseModel):
    business_no: str = Field(max_length=40)
    reached_on: dt.date
    service: str | None = Field(default=None, max_length=300)


class PlaceOut(BaseModel):
    place_code: str
    name: str
    kind: str
    kind_label: str
    district_name: str
    town: str | None
    tags: list[str]
    designations: list[str]


class ReachedOut(BaseModel):
    business_no: str
    name: str
    reached_on: dt.date


class ProjectOut(BaseModel):
    project_no: str
    kind: str
    kind_label: str
    title: str
    district_name: str
    operator: str | None
    start_on: dt.date
    end_on: dt.date | None
    businesses: list[ReachedOut]


class TagReportRow(BaseModel):
    tag_kind: str
    tag_kind_label: str
    tag: str
    businesses: int
    open_businesses: int
    staff: int
    districts: str
    places: int
    demonstration_places: int
    reached_info: int
    reached_ecommerce: int


@router.post(
    "/business-tags", response_model=Done, status_code=201, summary="给经营主体加一县一品/一村一品标签"
)
def business_tag(
    body: BusinessTagIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Staff
) -> Done:
    P.tag_business(
        db,
        scope=scope,
        audit_key=state.audit_key,
        business_no=body.business_no,
        tag_kind=body.tag_kind,
        tag=body.tag,
    )
    return Done(no=body.business_no)


@router.get("/places", response_model=list[PlaceOut], summary="乡镇和村（含标签、示范称号）")
def places(db: SessionDep, scope: DistrictScope, user: Staff) -> list[PlaceOut]:
    return [PlaceOut(**p) for p in P.places(db, scope=scope)]


@router.post("/places", response_model=Done, status_code=201, summary="登记乡镇或村")
def add_place(body: PlaceIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Reviewer) -> Done:
    p = P.add_place(db, scope=scope, audit_key=state.audit_key, **body.model_dump())
    return Done(no=p.place_code)


@router.post("/places/{place_code}/tags", response_model=Done, status_code=201, summary="给村镇加标签")
def place_tag(
    place_code: str, body: TagIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Reviewer
) -> Done:
    P.tag_place(
        db,
        scope=scope,
        audit_key=state.audit_key,
        place_code=place_code,
        tag_kind=body.tag_kind,
        tag=body.tag,
    )
    return Done(no=place_code)


@router.post(
    "/places/{place_code}/designations", response_model=Done, status_code=201, summary="认定示范村镇"
)
def designation(
    place_code: str,
    body: DesignationIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Reviewer,
    day: Today,
) -> Done:
    P.designate(
        db, scope=scope, audit_key=state.audit_key, place_code=place_code, today=day, **body.model_dump()
    )
    return Done(no=place_code)


@router.get(
    "/projects", response_model=list[ProjectOut], summary="信息进村入户、电子商务进农村项目及覆盖主体"
)
def projects(db: SessionDep, scope: DistrictScope, user: Staff) -> list[ProjectOut]:
    return [ProjectOut(**p) for p in P.projects(db, scope=scope)]


@router.post("/projects", response_model=Done, status_code=201, summary="登记项目")
def add_project(
    body: ProjectIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Reviewer
) -> Done:
    p = P.add_project(db, scope=scope, audit_key=state.audit_key, **body.model_dump())
    return Done(no=p.project_no)


@router.post(
    "/projects/{project_no}/reach", response_model=Done, status_code=201, summary="登记项目覆盖的主体"
)
def project_reach(
    project_no: str,
    body: ReachIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Staff,
    day: Today,
) -> Done:
    P.reach(db, scope=scope, audit_key=state.audit_key, project_no=project_no, today=day, **body.model_dump())
    return Done(no=project_no)


@router.get("/tag-report", response_model=list[TagReportRow], summary="按标签统计")
def tag_report(db: SessionDep, scope: DistrictScope, user: Staff) -> list[TagReportRow]:
    return [TagReportRow(**r) for r in P.tag_report(db, scope=scope)]


@router.get(
    "/tag-report.xlsx",
    summary="按标签统计（Excel）",
    response_class=Response,
    responses={200: {"content": {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}}}},
)
def tag_report_xlsx(db: SessionDep, scope: DistrictScope, user: Staff, day: Today) -> Response:
    data = P.tag_report_xlsx(db, scope=scope, today=day)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="tag-report-{day.isoformat()}.xlsx"'},
    )


# ---- typical entrepreneurs ---------------------------------------------------------------------------


class CommendationOut(BaseModel):
    title: str
    level: str
    level_label: str
    awarded_on: dt.date


class NominationOut(BaseModel):
    nomination_no: str
    person_no: str | None = Field(description="登记库人员编号（不是身份证号）")
    business_no: str | None
    business_name: str | None
    category: str
    category_label: str
    district: int
    district_name: str
    year: int
    headline: str
    story: str
    evidence: dict[str, Any]
    state: str
    state_label: str
    event_no: str | None
    event_status: str | None
    score: float | None
    rank: int | None
    consent: bool
    consent_on: dt.date | None
    consent_withdrawn_on: dt.date | None
    published_on: dt.date | None
    commendations: list[CommendationOut]


class NominateIn(BaseModel):
    person_no: str = Field(max_length=40)
    business_no: str | None = Field(default=None, max_length=40)
    category: str = Field(max_length=30)
    year: int
    headline: str = Field(max_length=200)
    story: str = Field(max_length=6000)


class QuotaIn(BaseModel):
    specialty: str = Field(max_length=30)
    level: str = Field(max_length=10)
    count: int = Field(ge=1, le=50)


class ReviewIn(BaseModel):
    event_no: str = Field(max_length=40)
    title: str = Field(max_length=120)
    nomination_nos: list[str] = Field(max_length=200)
    event_date: dt.date
    unseal_at: dt.datetime
    quotas: list[QuotaIn] = Field(max_length=20)
    backups: int = Field(ge=0, le=20)
    organiser_user: str = Field(max_length=60)
    supervisor_user: str = Field(max_length=60)
    chair_user: str | None = Field(default=None, max_length=60)


class CommitIn(BaseModel):
    commitment: str = Field(max_length=64)


class RevealIn(BaseModel):
    secret: str = Field(max_length=64)


class ScoreIn(BaseModel):
    project_no: str = Field(max_length=40)
    score: int


class ConsentPublishIn(BaseModel):
    publish_name: str = Field(max_length=40)


class CommendIn(BaseModel):
    title: str = Field(max_length=200)
    level: str = Field(max_length=20)
    awarded_on: dt.date
    reference: str | None = Field(default=None, max_length=200)


class StoryOut(BaseModel):
    name: str
    category_label: str
    district_name: str
    year: int
    headline: str
    story: str
    jobs_created: int | None
    published_on: dt.date | None
    commendations: list[dict[str, Any]]


def _mkeys(state: StateDep) -> mentors.Keys:
    return mentors.Keys(state.cipher, state.audit_key)


def _mentor_role(user: User) -> str:
    if user.role not in mentors.ROLES:
        raise Forbidden("您的角色不能参与评审抽选")
    return user.role


@router.get(
    "/nominations",
    response_model=list[NominationOut],
    summary="创业典型推荐（工作人员：本区县；申请人：本人）",
)
def nominations(
    db: SessionDep, scope: DistrictScope, user: CurrentUser, year: int | None = None
) -> list[NominationOut]:
    return [NominationOut(**r) for r in T.list_nominations(db, scope=scope, year=year)]


@router.post(
    "/nominations", response_model=NominationOut, status_code=201, summary="推荐创业典型（证据取自登记库）"
)
def nominate(
    body: NominateIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: Staff, day: Today
) -> NominationOut:
    n = T.nominate(db, scope=scope, audit_key=state.audit_key, today=day, **body.model_dump())
    return NominationOut(**T.nomination_view(db, scope=scope, nomination_no=n.nomination_no))


@router.get("/nominations/{nomination_no}", response_model=NominationOut, summary="一条推荐")
def nomination(nomination_no: str, db: SessionDep, scope: DistrictScope, user: CurrentUser) -> NominationOut:
    return NominationOut(**T.nomination_view(db, scope=scope, nomination_no=nomination_no))


@router.post(
    "/reviews", response_model=Done, status_code=201, summary="送评：以导师库随机抽取评审组（创建评审活动）"
)
def open_review(
    body: ReviewIn, db: SessionDep, state: StateDep, scope: DistrictScope, user: CityAdmin, params: ParamsDep
) -> Done:
    ev = T.open_review(
        db,
        scope=scope,
        audit_key=state.audit_key,
        keys=_mkeys(state),
        event_no=body.event_no,
        title=body.title,
        nomination_nos=body.nomination_nos,
        event_date=body.event_date,
        unseal_at=body.unseal_at,
        quotas=[(q.specialty, q.level, q.count) for q in body.quotas],
        backups=body.backups,
        organiser_user=body.organiser_user,
        supervisor_user=body.supervisor_user,
        chair_user=body.chair_user,
        params=params,
    )
    return Done(no=ev.event_no, state=ev.status)


@router.post(
    "/reviews/{event_no}/commit", response_model=Done, summary="组织方/监督方提交随机数承诺（导师抽选）"
)
def commit(
    event_no: str,
    body: CommitIn,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: CurrentUser,
    params: ParamsDep,
) -> Done:
    c = mentors.commit(
        db,
        keys=_mkeys(state),
        actor=user.login,
        role=_mentor_role(user),
        event_no=event_no,
        commitment=body.commitment,
        now=clock(request),
        params=params,
    )
    return Done(no=event_no, state=c.party)


@router.post("/reviews/{event_no}/reveal", response_model=Done, summary="组织方/监督方揭示秘密（导师抽选）")
def reveal(
    event_no: str, body: RevealIn, request: Request, db: SessionDep, state: StateDep, user: CurrentUser
) -> Done:
    c = mentors.reveal(
        db,
        keys=_mkeys(state),
        actor=user.login,
        role=_mentor_role(user),
        event_no=event_no,
        secret=body.secret,
        now=clock(request),
    )
    return Done(no=event_no, state=c.party)


@router.post("/reviews/{event_no}/draw", response_model=Done, summary="抽取评审组（导师抽选，结果密封）")
def draw(event_no: str, request: Request, db: SessionDep, state: StateDep, user: CurrentUser) -> Done:
    d = mentors.run_draw(
        db,
        keys=_mkeys(state),
        actor=user.login,
        role=_mentor_role(user),
        event_no=event_no,
        now=clock(request),
    )
    return Done(no=event_no, state=d.status)


@router.post(
    "/reviews/{event_no}/scores",
    response_model=Done,
    status_code=201,
    summary="评审专家独立评分（密封至全部提交）",
)
def score(
    event_no: str, body: ScoreIn, request: Request, db: SessionDep, state: StateDep, user: Mentor
) -> Done:
    mentors.submit_score(
        db,
        keys=_mkeys(state),
        actor=user.login,
        event_no=event_no,
        project_no=body.project_no,
        score=body.score,
        now=clock(request),
    )
    return Done(no=body.project_no, state="scored")


@router.post(
    "/reviews/{event_no}/finalize", response_model=list[NominationOut], summary="汇总评分并登记入选结果"
)
def finalize(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: CityAdmin,
    params: ParamsDep,
) -> list[NominationOut]:
    mentors.finalize_scores(
        db, keys=_mkeys(state), actor=user.login, role="city_admin", event_no=event_no, now=clock(request)
    )
    noms = T.collect_results(db, scope=scope, audit_key=state.audit_key, event_no=event_no, params=params)
    return [NominationOut(**T.nomination_view(db, scope=scope, nomination_no=n.nomination_no)) for n in noms]


@router.post(
    "/nominations/{nomination_no}/consent", response_model=Done, summary="本人同意公开宣传（可撤回）"
)
def publish_consent(
    nomination_no: str,
    body: ConsentPublishIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: CurrentUser,
    day: Today,
) -> Done:
    T.give_consent(
        db,
        scope=scope,
        audit_key=state.audit_key,
        cipher=state.cipher,
        nomination_no=nomination_no,
        publish_name=body.publish_name,
        today=day,
    )
    return Done(no=nomination_no, state="consented")


@router.post(
    "/nominations/{nomination_no}/withdraw-consent", response_model=Done, summary="本人撤回公开宣传同意"
)
def publish_withdraw(
    nomination_no: str, db: SessionDep, state: StateDep, scope: DistrictScope, user: CurrentUser, day: Today
) -> Done:
    n = T.withdraw_consent(db, scope=scope, audit_key=state.audit_key, nomination_no=nomination_no, today=day)
    return Done(no=nomination_no, state=n.state)


@router.post("/nominations/{nomination_no}/publish", response_model=Done, summary="公开宣传（须本人同意）")
def publish(
    nomination_no: str, db: SessionDep, state: StateDep, scope: DistrictScope, user: Reviewer, day: Today
) -> Done:
    n = T.publish(db, scope=scope, audit_key=state.audit_key, nomination_no=nomination_no, today=day)
    return Done(no=nomination_no, state=n.state)


@router.post(
    "/nominations/{nomination_no}/commendations", response_model=Done, status_code=201, summary="登记表彰"
)
def commend(
    nomination_no: str,
    body: CommendIn,
    db: SessionDep,
    state: StateDep,
    scope: DistrictScope,
    user: Reviewer,
    day: Today,
) -> Done:
    T.commend(
        db,
        scope=scope,
        audit_key=state.audit_key,
        nomination_no=nomination_no,
        today=day,
        **body.model_dump(),
    )
    return Done(no=nomination_no)


@public_router.get(
    "/stories", response_model=list[StoryOut], summary="创业典型事迹（公开，仅本人同意公开的姓名）"
)
def stories(db: SessionDep, state: StateDep) -> list[StoryOut]:
    return [StoryOut(**s) for s in T.published_stories(db, cipher=state.cipher)]
