"""JSON API v1 for outreach (clause 4.12): the register of local people working elsewhere (masked; the full
contact only through the audited ``reveal``), campaigns and the contact log, returns and ventures,
introduced talent and their families' service requests, and the 乡情 talent pool. For district staff
(their district) and 街道/乡镇 window clerks (their town); every change is audited by the service."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from xiangchuang.chinatime import china_date
from xiangchuang.models import FamilyServiceRequest, OutreachCampaign, OutreachContact, User
from xiangchuang.outreach import service as S
from xiangchuang.web.api import ErrorBody, error_responses
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.workbench import clock

# A body that is not JSON at all is refused by FastAPI before any dependency runs (400, Chinese body).
router = APIRouter(
    prefix="/api/v1/outreach",
    tags=["外出人员联络"],
    responses={
        **error_responses(401, 403, 404, 409, 422, 503),
        400: {"model": ErrorBody, "description": "请求体不是有效的 JSON"},
    },
)
Staff = Annotated[User, Depends(require_role(*S.STAFF_ROLES))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonIn(Strict):
    name: str = Field(max_length=30, description="姓名（加密保存）")
    phone: str = Field(max_length=20, description="手机号（加密保存，盲索引查重）")
    home_town: str = Field(max_length=60)
    work_place: str = Field(max_length=120)
    trade: str = Field(max_length=60)
    skills: str = Field(default="", max_length=400, description="技能，以顿号或逗号分隔")
    consent_on: dt.date
    consent_scope: list[Literal["phone", "sms", "wechat", "visit"]] = Field(max_length=4)
    other_contact: str = Field(default="", max_length=60)


class PersonOut(BaseModel):
    id: int
    ref_no: str
    district: int
    home_town: str
    work_place: str
    trade: str
    skills: list[str]
    name_masked: str
    phone_masked: str
    consent_on: dt.date
    consent_scope: list[str]
    consent_withdrawn_on: dt.date | None
    status: str
    status_label: str
    returned_on: dt.date | None
    person_no: str | None = Field(description="登记库人员编号（返乡后关联）")
    retain_until: dt.date


class ContactOut(BaseModel):
    id: int
    campaign_id: int | None
    contacted_on: dt.date
    method: str
    answer: str
    answer_label: str
    note: str
    recorded_by: str


class VentureOut(BaseModel):
    business_no: str
    business_name: str
    started_on: dt.date


class PersonDetail(PersonOut):
    contacts: list[ContactOut]
    ventures: list[VentureOut]


class RevealedOut(BaseModel):
    name: str
    phone: str
    other_contact: str | None


class WithdrawIn(Strict):
    on: dt.date


class RenewIn(Strict):
    on: dt.date
    consent_scope: list[Literal["phone", "sms", "wechat", "visit"]] = Field(max_length=4)


class ContactIn(Strict):
    contacted_on: dt.date
    method: Literal["phone", "sms", "wechat", "visit", "event"]
    answer: Literal["no_answer", "not_now", "interested", "will_return", "returned", "declined"]
    note: str = Field(default="", max_length=400)
    campaign_id: int | None = None


class ReturnIn(Strict):
    returned_on: dt.date
    person_no: str | None = Field(default=None, max_length=40)


class VentureIn(Strict):
    business_no: str = Field(max_length=40)


class CampaignIn(Strict):
    name: str = Field(max_length=80)
    occasion: Literal["spring_festival", "mid_autumn", "routine", "other"]
    starts_on: dt.date
    ends_on: dt.date
    description: str = Field(default="", max_length=2000)


class CampaignOut(BaseModel):
    id: int
    district: int
    name: str
    occasion: str
    starts_on: dt.date
    ends_on: dt.date
    description: str


class CampaignContactOut(ContactOut):
    ref_no: str


class HometownTalentIn(Strict):
    kind: Literal["tian_xiucai", "tu_zhuanjia", "xiang_chuangke", "nenggong_qiaojiang"]
    town: str = Field(max_length=60)
    trade: str = Field(max_length=60)
    skills: str = Field(max_length=400)
    recognised_on: dt.date
    person_no: str | None = Field(default=None, max_length=40)
    outreach_person_id: int | None = None


class PoolEntryOut(BaseModel):
    talent_id: int
    kind: str
    kind_label: str
    district: int
    town: str
    trade: str
    skills: list[str]
    person_no: str | None
    outreach_ref: str | None
    away: bool
    recognised_on: dt.date


class IntroducedIn(Strict):
    business_no: str = Field(max_length=40)
    person_no: str = Field(max_length=40)
    position: str = Field(max_length=60)
    category: Literal["technical", "management"]
    qualification: str = Field(default="", max_length=120)
    hired_on: dt.date
    evidence: str = Field(max_length=200)


class DecisionIn(Strict):
    decision: Literal["recognised", "refused"]
    note: str = Field(default="", max_length=400)


class IntroducedOut(BaseModel):
    id: int
    state: str
    state_label: str
    person_no: str
    name_masked: str
    business_no: str
    business_name: str
    position: str
    category: str
    qualification: str
    hired_on: dt.date
    decided_on: dt.date | None
    open_requests: int


class FamilyIn(Strict):
    talent_id: int
    kind: Literal["schooling", "housing", "medical_insurance_transfer"]
    description: str = Field(max_length=1000)
    owner_department: str = Field(max_length=60)
    received_on: dt.date


class FamilyActionIn(Strict):
    answer: str = Field(default="", max_length=1000)


class FamilyOut(BaseModel):
    id: int
    talent_id: int
    kind: str
    kind_label: str
    description: str
    owner_department: str
    received_on: dt.date
    deadline: dt.date
    overdue: bool
    state: str
    state_label: str
    answer: str | None
    answered_on: dt.date | None


def _today(request: Request) -> dt.date:
    return china_date(clock(request))


def _person_out(p: S.MaskedPerson) -> PersonOut:
    return PersonOut(
        id=p.id,
        ref_no=p.ref_no,
        district=p.district,
        home_town=p.home_town,
        work_place=p.work_place,
        trade=p.trade,
        skills=list(p.skills),
        name_masked=p.name,
        phone_masked=p.phone,
        consent_on=p.consent_on,
        consent_scope=list(p.consent_scope),
        consent_withdrawn_on=p.consent_withdrawn_on,
        status=p.status,
        status_label=S.STATUS_LABELS[p.status],
        returned_on=p.returned_on,
        person_no=p.person_no,
        retain_until=p.retain_until,
    )


def _contact_out(c: OutreachContact) -> ContactOut:
    return ContactOut(
        id=c.id,
        campaign_id=c.campaign_id,
        contacted_on=c.contacted_on,
        method=c.method,
        answer=c.answer,
        answer_label=S.ANSWER_LABELS[c.answer],
        note=c.note,
        recorded_by=c.recorded_by,
    )


def _detail(
    db: SessionDep, state: StateDep, params: ParamsDep, actor: S.Actor, person_id: int, today: dt.date
) -> PersonDetail:
    p = S.get_person(db, actor=actor, cipher=state.cipher, params=params, person_id=person_id, today=today)
    return PersonDetail(
        **_person_out(p).model_dump(),
        contacts=[_contact_out(c) for c in S.contacts_of(db, actor=actor, person_id=person_id)],
        ventures=[
            VentureOut(business_no=b.business_no, business_name=b.name, started_on=v.started_on)
            for v, b in S.ventures_of(db, actor=actor, person_id=person_id)
        ],
    )


@router.get("/people", response_model=list[PersonOut])
def list_people(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    status: Literal["away", "returned"] | None = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
) -> list[PersonOut]:
    """本辖区外出人员登记（姓名、手机号脱敏）；``phone`` 按盲索引精确查找。"""
    rows = S.list_people(
        db,
        actor=S.actor_of(user),
        cipher=state.cipher,
        params=params,
        today=_today(request),
        status=status,
        phone=phone,
    )
    return [_person_out(p) for p in rows]


@router.post("/people", response_model=PersonDetail, status_code=201)
def register_person(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, body: PersonIn
) -> PersonDetail:
    actor, today = S.actor_of(user), _today(request)
    row = S.register_person(
        db,
        actor=actor,
        cipher=state.cipher,
        data=S.PersonInput(**body.model_dump()),
        audit_key=state.audit_key,
        today=today,
    )
    return _detail(db, state, params, actor, row.id, today)


@router.get("/people/{person_id}", response_model=PersonDetail)
def get_person(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, person_id: int
) -> PersonDetail:
    return _detail(db, state, params, S.actor_of(user), person_id, _today(request))


@router.post("/people/{person_id}/reveal", response_model=RevealedOut)
def reveal(db: SessionDep, state: StateDep, user: Staff, person_id: int) -> RevealedOut:
    """完整姓名和联系方式（每次查看写入审计）。"""
    r = S.reveal_contact(
        db, actor=S.actor_of(user), cipher=state.cipher, person_id=person_id, audit_key=state.audit_key
    )
    return RevealedOut(name=r.name, phone=r.phone, other_contact=r.other_contact)


@router.post("/people/{person_id}/withdraw-consent", response_model=PersonDetail)
def withdraw(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    person_id: int,
    body: WithdrawIn,
) -> PersonDetail:
    actor, today = S.actor_of(user), _today(request)
    S.withdraw_consent(
        db, actor=actor, person_id=person_id, on=body.on, audit_key=state.audit_key, today=today
    )
    return _detail(db, state, params, actor, person_id, today)


@router.post("/people/{person_id}/renew-consent", response_model=PersonDetail)
def renew(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    person_id: int,
    body: RenewIn,
) -> PersonDetail:
    """本人再次确认同意联系（可调整联系方式范围）：保存期限自新的同意日期起算。"""
    actor, today = S.actor_of(user), _today(request)
    S.renew_consent(
        db,
        actor=actor,
        person_id=person_id,
        on=body.on,
        scope=body.consent_scope,
        audit_key=state.audit_key,
        today=today,
    )
    return _detail(db, state, params, actor, person_id, today)


@router.post("/people/{person_id}/contacts", response_model=ContactOut, status_code=201)
def log_contact(
    request: Request, db: SessionDep, state: StateDep, user: Staff, person_id: int, body: ContactIn
) -> ContactOut:
    c = S.log_contact(
        db,
        actor=S.actor_of(user),
        person_id=person_id,
        **body.model_dump(),
        audit_key=state.audit_key,
        today=_today(request),
    )
    return _contact_out(c)


@router.post("/people/{person_id}/return", response_model=PersonDetail)
def record_return(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    person_id: int,
    body: ReturnIn,
) -> PersonDetail:
    actor, today = S.actor_of(user), _today(request)
    S.record_return(
        db,
        actor=actor,
        person_id=person_id,
        returned_on=body.returned_on,
        person_no=body.person_no,
        audit_key=state.audit_key,
        today=today,
    )
    return _detail(db, state, params, actor, person_id, today)


@router.post("/people/{person_id}/ventures", response_model=PersonDetail, status_code=201)
def record_venture(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    person_id: int,
    body: VentureIn,
) -> PersonDetail:
    actor = S.actor_of(user)
    S.record_venture(
        db, actor=actor, person_id=person_id, business_no=body.business_no, audit_key=state.audit_key
    )
    return _detail(db, state, params, actor, person_id, _today(request))


def _campaign_out(c: OutreachCampaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        district=c.district,
        name=c.name,
        occasion=c.occasion,
        starts_on=c.starts_on,
        ends_on=c.ends_on,
        description=c.description,
    )


@router.get("/campaigns", response_model=list[CampaignOut])
def list_campaigns(db: SessionDep, user: Staff) -> list[CampaignOut]:
    return [_campaign_out(c) for c in S.campaigns(db, actor=S.actor_of(user))]


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
def create_campaign(db: SessionDep, state: StateDep, user: Staff, body: CampaignIn) -> CampaignOut:
    c = S.create_campaign(db, actor=S.actor_of(user), **body.model_dump(), audit_key=state.audit_key)
    return _campaign_out(c)


@router.get("/campaigns/{campaign_id}/contacts", response_model=list[CampaignContactOut])
def campaign_contacts(db: SessionDep, user: Staff, campaign_id: int) -> list[CampaignContactOut]:
    rows = S.campaign_contacts(db, actor=S.actor_of(user), campaign_id=campaign_id)
    return [CampaignContactOut(**_contact_out(c).model_dump(), ref_no=ref) for c, ref in rows]


def _pool_out(p: S.PoolEntry) -> PoolEntryOut:
    return PoolEntryOut(
        talent_id=p.talent_id,
        kind=p.kind,
        kind_label=p.kind_label,
        district=p.district,
        town=p.town,
        trade=p.trade,
        skills=list(p.skills),
        person_no=p.person_no,
        outreach_ref=p.outreach_ref,
        away=p.away,
        recognised_on=p.recognised_on,
    )


@router.get("/talents", response_model=list[PoolEntryOut])
def talent_pool(db: SessionDep, user: Staff) -> list[PoolEntryOut]:
    """本区县乡情人才库（田秀才、土专家、乡创客、能工巧匠）及技能，不含个人信息。"""
    assert user.district is not None
    S.actor_of(user)
    return [_pool_out(p) for p in S.talent_pool(db, user.district)]


@router.post("/talents", response_model=PoolEntryOut, status_code=201)
def add_talent(
    request: Request, db: SessionDep, state: StateDep, user: Staff, body: HometownTalentIn
) -> PoolEntryOut:
    actor = S.actor_of(user)
    row = S.add_hometown_talent(
        db, actor=actor, **body.model_dump(), audit_key=state.audit_key, today=_today(request)
    )
    assert actor.district is not None
    return next(_pool_out(p) for p in S.talent_pool(db, actor.district) if p.talent_id == row.id)


def _introduced_out(r: S.TalentRow) -> IntroducedOut:
    return IntroducedOut(
        id=r.id,
        state=r.state,
        state_label=S.INTRODUCED_LABELS[r.state],
        person_no=r.person_no,
        name_masked=r.name,
        business_no=r.business_no,
        business_name=r.business_name,
        position=r.position,
        category=r.category,
        qualification=r.qualification,
        hired_on=r.hired_on,
        decided_on=r.decided_on,
        open_requests=r.open_requests,
    )


@router.get("/introduced", response_model=list[IntroducedOut])
def list_introduced(
    db: SessionDep, user: Staff, state: Literal["pending", "recognised", "refused"] | None = None
) -> list[IntroducedOut]:
    """本区县引进人才（``state=recognised``：人才项目申报、职称评审可见的名单；姓名脱敏）。"""
    return [_introduced_out(r) for r in S.introduced_talents(db, actor=S.actor_of(user), state=state)]


def _one_introduced(db: SessionDep, actor: S.Actor, talent_id: int) -> IntroducedOut:
    return next(_introduced_out(r) for r in S.introduced_talents(db, actor=actor) if r.id == talent_id)


@router.post("/introduced", response_model=IntroducedOut, status_code=201)
def propose(
    request: Request, db: SessionDep, state: StateDep, user: Staff, body: IntroducedIn
) -> IntroducedOut:
    actor = S.actor_of(user)
    row = S.propose_talent(
        db, actor=actor, **body.model_dump(), audit_key=state.audit_key, today=_today(request)
    )
    return _one_introduced(db, actor, row.id)


@router.post("/introduced/{talent_id}/decision", response_model=IntroducedOut)
def decide(
    request: Request, db: SessionDep, state: StateDep, user: Staff, talent_id: int, body: DecisionIn
) -> IntroducedOut:
    actor = S.actor_of(user)
    S.decide_talent(
        db,
        actor=actor,
        talent_id=talent_id,
        decision=body.decision,
        note=body.note,
        audit_key=state.audit_key,
        today=_today(request),
    )
    return _one_introduced(db, actor, talent_id)


def _family_out(r: FamilyServiceRequest, today: dt.date) -> FamilyOut:
    return FamilyOut(
        id=r.id,
        talent_id=r.talent_id,
        kind=r.kind,
        kind_label=S.FAMILY_LABELS[r.kind],
        description=r.description,
        owner_department=r.owner_department,
        received_on=r.received_on,
        deadline=r.deadline,
        overdue=r.state != "answered" and today > r.deadline,
        state=r.state,
        state_label=S.FAMILY_STATE_LABELS[r.state],
        answer=r.answer,
        answered_on=r.answered_on,
    )


@router.get("/family-requests", response_model=list[FamilyOut])
def list_family(request: Request, db: SessionDep, user: Staff, open_only: bool = False) -> list[FamilyOut]:
    today = _today(request)
    return [_family_out(r, today) for r in S.family_requests(db, actor=S.actor_of(user), open_only=open_only)]


@router.post("/family-requests", response_model=FamilyOut, status_code=201)
def create_family(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff, body: FamilyIn
) -> FamilyOut:
    today = _today(request)
    row = S.create_family_request(
        db,
        actor=S.actor_of(user),
        **body.model_dump(),
        params=params,
        audit_key=state.audit_key,
        today=today,
    )
    return _family_out(row, today)


@router.post("/family-requests/{request_id}/{action}", response_model=FamilyOut)
def advance_family(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    request_id: int,
    action: Literal["accept", "answer"],
    body: FamilyActionIn,
) -> FamilyOut:
    today = _today(request)
    row = S.advance_family_request(
        db,
        actor=S.actor_of(user),
        request_id=request_id,
        action=action,
        answer=body.answer,
        audit_key=state.audit_key,
        today=today,
    )
    return _family_out(row, today)
