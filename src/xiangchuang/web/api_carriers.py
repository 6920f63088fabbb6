"""JSON API v1 for 创业载体 (/api/v1/carriers/...): carriers, workstations, tenants, free workstations,
monthly bills with the engine's reductions, ratings and award applications. Carrier operators see and
manage their own carriers (users.org_code), district staff their district's, the city reads everything.
Persons appear by registry number and masked name only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from xiangchuang.carriers import repository as repo
from xiangchuang.carriers import service as carriers
from xiangchuang.carriers.repository import Actor
from xiangchuang.errors import ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import Carrier, User
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.workbench import china_day, clock

router = APIRouter(
    prefix="/api/v1/carriers", tags=["创业载体"], responses=error_responses(401, 403, 404, 409, 422, 503)
)

Reader = Annotated[User, Depends(require_role(*repo.READ_ROLES))]
Manager = Annotated[User, Depends(require_role("carrier_operator", *repo.STAFF_ROLES))]
Staff = Annotated[User, Depends(require_role(*repo.STAFF_ROLES))]
Operator = Annotated[User, Depends(require_role("carrier_operator"))]
MAX_UPLOAD = 20 * 1024 * 1024


def actor_of(user: User) -> Actor:
    return Actor(id=user.login, role=user.role, district=user.district, org_code=user.org_code)


class CarrierSummary(BaseModel):
    carrier_no: str
    name: str
    kind: str
    kind_label: str
    level: str
    level_label: str
    district: int
    capacity: int | None
    workstations: int
    workstations_used: int
    tenants: int
    operator: str | None


class ScheduleRow(BaseModel):
    year: int = Field(description="入驻第几年（1、2、3……）")
    rent: float = Field(description="场租减免百分比")
    property: float = Field(description="物业费减免百分比")
    utilities: float = Field(description="水电费减免百分比")


class WorkstationOut(BaseModel):
    number: str
    free: bool
    used_by: str | None


class TenantOut(BaseModel):
    tenancy_id: int
    business_no: str
    business_name: str
    start: dt.date
    end: dt.date | None
    workstation: str | None
    rent_fen: int | None
    property_fee_fen: int | None
    utilities_fen: int | None
    reduced_fen: int = Field(description="累计减免（分）")


class AllocationOut(BaseModel):
    allocation_no: str
    workstation: str
    person_no: str
    person_name_masked: str
    start: dt.date
    end: dt.date
    renewals: int
    status: str
    decision: str


class RatingOut(BaseModel):
    year: int
    rating: str
    rating_label: str
    score: int | None
    evidence: str
    rated_on: dt.date


class AwardOut(BaseModel):
    id: int
    application_no: str
    period: str
    state: str


class CarrierDetail(CarrierSummary):
    address: str | None
    services: list[str]
    district_date: dt.date | None
    municipal_date: dt.date | None
    national_date: dt.date | None
    operator_org_code: str | None
    schedule: list[ScheduleRow] = Field(description="载体自定减免方案；为空时按默认方案")
    schedule_is_default: bool
    schedule_problem: str | None = Field(
        default=None,
        description="保存的减免方案无法读取时的说明（此时 schedule 为空，在驻主体的场租减免待定）",
    )
    workstation_list: list[WorkstationOut]
    tenant_list: list[TenantOut]
    allocations: list[AllocationOut]
    ratings: list[RatingOut]
    awards: list[AwardOut]
    gross_billed_fen: int
    reduced_fen: int


class BillOut(BaseModel):
    bill_no: str
    month: str
    business_no: str
    business_name: str
    tenancy_year: int | None
    rent_fen: int
    property_fee_fen: int
    utilities_fen: int
    gross_fen: int
    rent_cut_fen: int
    property_cut_fen: int
    utilities_cut_fen: int
    reduction_fen: int
    due_fen: int
    status: str
    reason: str


class CarrierIn(BaseModel):
    carrier_no: str = Field(max_length=40)
    name: str = Field(max_length=120)
    kind: str = Field(max_length=30)
    level: str = Field(max_length=20)
    district: int
    address: str = Field(max_length=200)
    capacity: int
    services: list[str] = Field(default_factory=list, max_length=20)
    operator: str | None = Field(default=None, max_length=120)
    operator_org_code: str | None = Field(default=None, max_length=20)
    district_date: dt.date | None = None
    municipal_date: dt.date | None = None
    national_date: dt.date | None = None
    workstations: int = 0
    free_workstations: int = 0


class CarrierUpdate(BaseModel):
    name: str = Field(max_length=120)
    address: str = Field(max_length=200)
    capacity: int
    services: list[str] = Field(default_factory=list, max_length=20)
    operator: str | None = Field(default=None, max_length=120)
    operator_org_code: str | None = Field(default=None, max_length=20)


class LevelIn(BaseModel):
    level: str = Field(max_length=20)
    on: dt.date


class WorkstationsIn(BaseModel):
    count: int
    free: bool = False


class TenantIn(BaseModel):
    business_no: str = Field(max_length=40)
    start: dt.date
    workstation: str | None = Field(default=None, max_length=20)
    rent_fen: int
    property_fee_fen: int
    utilities_fen: int


class EndIn(BaseModel):
    on: dt.date


class BillsIn(BaseModel):
    month: str = Field(description="YYYY-MM", max_length=7)
    utilities_fen: dict[str, int] = Field(
        default_factory=dict, description="本月水电费（分），按经营主体编号"
    )


class AllocationIn(BaseModel):
    person_no: str = Field(max_length=40)
    start: dt.date
    workstation: str | None = Field(default=None, max_length=20)


class RatingIn(BaseModel):
    year: int
    rating: str = Field(max_length=4)
    evidence: str = Field(max_length=2000)
    score: int | None = None


class AwardIn(BaseModel):
    year: int
    note: str = Field(default="", max_length=500)


class ImportOut(BaseModel):
    rows: int


def summary(db: SessionDep, c: Carrier, on: dt.date) -> CarrierSummary:
    occ = carriers.occupancy(db, c, on)
    return CarrierSummary(
        carrier_no=c.carrier_no,
        name=c.name,
        kind=c.kind,
        kind_label=carriers.KIND_LABELS.get(c.kind, c.kind),
        level=c.level,
        level_label=carriers.LEVEL_LABELS.get(c.level, c.level),
        district=c.district,
        capacity=c.capacity,
        workstations=occ.total,
        workstations_used=occ.used,
        tenants=occ.tenants,
        operator=c.operator,
    )


def detail(db: SessionDep, c: Carrier, on: dt.date, params: Any) -> CarrierDetail:
    taken = repo.occupied_numbers(db, c.id, on)
    reduced = {no: red for no, _, _, _, red in repo.reductions_by_tenant(db, c.id)}
    gross, red = repo.reduction_total(db, c.id)
    own, problem = carriers.schedule_steps(c)
    return CarrierDetail(
        **summary(db, c, on).model_dump(),
        address=c.address,
        services=[s for s in (c.services or "").split(",") if s],
        district_date=c.district_date,
        municipal_date=c.municipal_date,
        national_date=c.national_date,
        operator_org_code=c.operator_org_code,
        schedule=[
            ScheduleRow(**r) for r in (own or ([] if problem else carriers.default_schedule(params, on)))
        ],
        schedule_is_default=not own and problem is None,
        schedule_problem=problem,
        workstation_list=[
            WorkstationOut(number=w.number, free=w.free, used_by=taken.get(w.number))
            for w in repo.workstations(db, c.id)
        ],
        tenant_list=[
            TenantOut(
                tenancy_id=t.id,
                business_no=b.business_no,
                business_name=b.name,
                start=t.start,
                end=t.end,
                workstation=t.workstation,
                rent_fen=t.rent_fen,
                property_fee_fen=t.property_fee_fen,
                utilities_fen=t.utilities_fen,
                reduced_fen=reduced.get(b.business_no, 0),
            )
            for t, b in repo.tenancies(db, c.id)
        ],
        allocations=[
            AllocationOut(
                allocation_no=a.allocation_no,
                workstation=w.number,
                person_no=p.person_no,
                person_name_masked=mask_name(p.name),
                start=a.start,
                end=a.end,
                renewals=a.renewals,
                status=a.status,
                decision=a.decision,
            )
            for a, w, p in repo.allocations(db, c.id)
        ],
        ratings=[
            RatingOut(
                year=r.year,
                rating=r.rating,
                rating_label=carriers.RATING_LABELS[r.rating],
                score=r.score,
                evidence=r.evidence,
                rated_on=r.rated_on,
            )
            for r in repo.ratings(db, c.id)
        ],
        awards=[
            AwardOut(id=a.id, application_no=a.application_no, period=a.period, state=a.state)
            for a in carriers.award_applications(db, c)
        ],
        gross_billed_fen=gross,
        reduced_fen=red,
    )


def bill_out(bill: Any, b: Any) -> BillOut:
    return BillOut(
        bill_no=bill.bill_no,
        month=carriers.month_label(bill.month),
        business_no=b.business_no,
        business_name=b.name,
        tenancy_year=bill.tenancy_year,
        rent_fen=bill.rent_fen,
        property_fee_fen=bill.property_fee_fen,
        utilities_fen=bill.utilities_fen,
        gross_fen=bill.gross_fen,
        rent_cut_fen=bill.rent_cut_fen,
        property_cut_fen=bill.property_cut_fen,
        utilities_cut_fen=bill.utilities_cut_fen,
        reduction_fen=bill.reduction_fen,
        due_fen=bill.due_fen,
        status=bill.status,
        reason=bill.reason,
    )


@router.get("", response_model=list[CarrierSummary], summary="载体列表（按角色范围）")
def list_carriers(request: Request, db: SessionDep, user: Reader) -> list[CarrierSummary]:
    on = china_day(clock(request))
    return [summary(db, c, on) for c in repo.carriers(db, actor_of(user))]


@router.post("", response_model=CarrierDetail, status_code=201, summary="登记载体（区县人社）")
def create(
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    body: Annotated[CarrierIn, Body()],
) -> CarrierDetail:
    data = carriers.CarrierInput(**{**body.model_dump(), "services": tuple(body.services)})
    c = carriers.create_carrier(
        db, data=data, actor=actor_of(user), audit_key=state.audit_key, now=clock(request)
    )
    return detail(db, c, china_day(clock(request)), params)


@router.get(
    "/{carrier_no}", response_model=CarrierDetail, summary="载体详情：工位、入驻企业、免费工位、评估、奖补"
)
def get_one(
    request: Request, carrier_no: str, db: SessionDep, params: ParamsDep, user: Reader
) -> CarrierDetail:
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
    return detail(db, c, china_day(clock(request)), params)


@router.put("/{carrier_no}", response_model=CarrierDetail, summary="修改载体信息（区县人社）")
def put_carrier(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    body: Annotated[CarrierUpdate, Body()],
) -> CarrierDetail:
    c = carriers.update_carrier(
        db, carrier_no=carrier_no, **body.model_dump(), actor=actor_of(user), audit_key=state.audit_key,
        now=clock(request),
    )  # fmt: skip
    return detail(db, c, china_day(clock(request)), params)


@router.put("/{carrier_no}/schedule", response_model=CarrierDetail, summary="设置载体减免方案（按入驻年次）")
def put_schedule(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    body: Annotated[list[dict[str, Any]], Body(max_length=20)],
) -> CarrierDetail:
    c = carriers.set_schedule(
        db,
        carrier_no=carrier_no,
        steps=body,
        actor=actor_of(user),
        audit_key=state.audit_key,
        now=clock(request),
    )
    return detail(db, c, china_day(clock(request)), params)


@router.post("/{carrier_no}/level", response_model=CarrierDetail, summary="登记载体级别及认定日期")
def post_level(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    body: Annotated[LevelIn, Body()],
) -> CarrierDetail:
    c = carriers.set_level(
        db, carrier_no=carrier_no, level=body.level, on=body.on, actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    return detail(db, c, china_day(clock(request)), params)


@router.post("/{carrier_no}/workstations", response_model=list[WorkstationOut], summary="新增工位")
def post_workstations(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    user: Manager,
    body: Annotated[WorkstationsIn, Body()],
) -> list[WorkstationOut]:
    made = carriers.add_workstations(
        db, carrier_no=carrier_no, count=body.count, free=body.free, actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    return [WorkstationOut(number=w.number, free=w.free, used_by=None) for w in made]


@router.post("/{carrier_no}/tenants", response_model=TenantOut, status_code=201, summary="登记入驻企业")
def post_tenant(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    user: Manager,
    body: Annotated[TenantIn, Body()],
) -> TenantOut:
    t = carriers.add_tenant(
        db, carrier_no=carrier_no, data=carriers.TenantInput(**body.model_dump()), actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    b = repo.business_by_no(db, body.business_no)
    assert b is not None
    return TenantOut(
        tenancy_id=t.id, business_no=b.business_no, business_name=b.name, start=t.start, end=t.end,
        workstation=t.workstation, rent_fen=t.rent_fen, property_fee_fen=t.property_fee_fen,
        utilities_fen=t.utilities_fen, reduced_fen=0,
    )  # fmt: skip


@router.post(
    "/{carrier_no}/tenants/import", response_model=ImportOut, summary="Excel 导入入驻企业（全部或不导入）"
)
async def import_tenants(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    user: Manager,
    file: Annotated[UploadFile, File()],
) -> ImportOut:
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed("文件：不超过 20 MB")
    from starlette.concurrency import run_in_threadpool

    report = await run_in_threadpool(
        carriers.import_tenants, db, carrier_no=carrier_no, content=content, actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    return ImportOut(rows=report.rows)


@router.post("/{carrier_no}/tenants/{tenancy_id}/end", response_model=TenantOut, summary="入驻企业退出")
def end_tenant(
    request: Request, carrier_no: str, tenancy_id: int, db: SessionDep, state: StateDep, user: Manager,
    body: Annotated[EndIn, Body()],
) -> TenantOut:  # fmt: skip
    t = carriers.end_tenancy(
        db, carrier_no=carrier_no, tenancy_id=tenancy_id, end=body.on, actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    from xiangchuang.models import Business

    b = db.get(Business, t.business_id)
    assert b is not None
    return TenantOut(
        tenancy_id=t.id, business_no=b.business_no, business_name=b.name, start=t.start, end=t.end,
        workstation=t.workstation, rent_fen=t.rent_fen, property_fee_fen=t.property_fee_fen,
        utilities_fen=t.utilities_fen, reduced_fen=0,
    )  # fmt: skip


@router.post(
    "/{carrier_no}/bills",
    response_model=list[BillOut],
    status_code=201,
    summary="生成月度账单（减免由引擎计算）",
)
def post_bills(
    request: Request, carrier_no: str, db: SessionDep, state: StateDep, params: ParamsDep, user: Manager,
    body: Annotated[BillsIn, Body()],
) -> list[BillOut]:  # fmt: skip
    month = carriers.parse_month(body.month)
    made = carriers.generate_bills(
        db, carrier_no=carrier_no, month=month, params=params, actor=actor_of(user), audit_key=state.audit_key,
        utilities=body.utilities_fen, now=clock(request),
    )  # fmt: skip
    rows = (
        {bill.bill_no: (bill, b) for bill, b in repo.bills(db, made[0].carrier_id, month=month)}
        if made
        else {}
    )
    return [bill_out(*rows[m.bill_no]) for m in made]


@router.get("/{carrier_no}/bills", response_model=list[BillOut], summary="账单（可按月份）")
def get_bills(carrier_no: str, db: SessionDep, user: Reader, month: str | None = None) -> list[BillOut]:
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
    m = carriers.parse_month(month) if month else None
    return [bill_out(bill, b) for bill, b in repo.bills(db, c.id, month=m)]


@router.get("/{carrier_no}/bills.xlsx", summary="导出账单（Excel）", response_class=Response)
def export_bills(
    request: Request, carrier_no: str, db: SessionDep, state: StateDep, user: Reader, month: str | None = None
) -> Response:
    m = carriers.parse_month(month) if month else None
    actor = actor_of(user)
    content = carriers.export_bills(db, carrier_no=carrier_no, month=m, actor=actor)
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor)
    from xiangchuang.audit import record

    record(
        db, key=state.audit_key, actor=actor.id, actor_role=actor.role, action="carrier.bills.export",
        subject=f"carriers:{carrier_no}", details={"month": m}, district=c.district, at=clock(request),
    )  # fmt: skip
    name = f"bills-{carrier_no}-{m or 'all'}.xlsx"
    return Response(
        content,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


@router.post(
    "/{carrier_no}/free-workstations",
    response_model=AllocationOut,
    status_code=201,
    summary="分配免费工位（引擎判定）",
)
def post_allocation(
    request: Request, carrier_no: str, db: SessionDep, state: StateDep, params: ParamsDep, user: Manager,
    body: Annotated[AllocationIn, Body()],
) -> AllocationOut:  # fmt: skip
    a = carriers.allocate_free_workstation(
        db, carrier_no=carrier_no, person_no=body.person_no, start=body.start, params=params,
        actor=actor_of(user), audit_key=state.audit_key, workstation=body.workstation, now=clock(request),
    )  # fmt: skip
    return _allocation_out(db, a)


def _allocation_out(db: SessionDep, a: Any) -> AllocationOut:
    from xiangchuang.models import Person, Workstation

    w = db.get(Workstation, a.workstation_id)
    p = db.get(Person, a.person_id)
    assert w is not None and p is not None
    return AllocationOut(
        allocation_no=a.allocation_no, workstation=w.number, person_no=p.person_no,
        person_name_masked=mask_name(p.name), start=a.start, end=a.end, renewals=a.renewals,
        status=a.status, decision=a.decision,
    )  # fmt: skip


@router.post(
    "/allocations/{allocation_no}/renew", response_model=AllocationOut, summary="免费工位续期（引擎判定）"
)
def renew(
    request: Request, allocation_no: str, db: SessionDep, state: StateDep, params: ParamsDep, user: Manager
) -> AllocationOut:
    a = carriers.renew_allocation(
        db, allocation_no=allocation_no, params=params, actor=actor_of(user), audit_key=state.audit_key,
        now=clock(request),
    )  # fmt: skip
    return _allocation_out(db, a)


@router.post("/allocations/{allocation_no}/end", response_model=AllocationOut, summary="免费工位退出")
def end_allocation(
    request: Request,
    allocation_no: str,
    db: SessionDep,
    state: StateDep,
    user: Manager,
    body: Annotated[EndIn, Body()],
) -> AllocationOut:
    a = carriers.end_allocation(
        db, allocation_no=allocation_no, on=body.on, actor=actor_of(user), audit_key=state.audit_key,
        now=clock(request),
    )  # fmt: skip
    return _allocation_out(db, a)


@router.post(
    "/{carrier_no}/ratings", response_model=RatingOut, status_code=201, summary="登记年度绩效评估等次及依据"
)
def post_rating(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    body: Annotated[RatingIn, Body()],
) -> RatingOut:
    r = carriers.record_rating(
        db, carrier_no=carrier_no, year=body.year, rating=body.rating, evidence=body.evidence,
        score=body.score, actor=actor_of(user), audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    return RatingOut(
        year=r.year, rating=r.rating, rating_label=carriers.RATING_LABELS[r.rating], score=r.score,
        evidence=r.evidence, rated_on=r.rated_on,
    )  # fmt: skip


@router.post("/{carrier_no}/awards", response_model=AwardOut, status_code=201, summary="申请载体奖补（草稿）")
def post_award(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    user: Operator,
    body: Annotated[AwardIn, Body()],
) -> AwardOut:
    app = carriers.apply_award(
        db, carrier_no=carrier_no, year=body.year, note=body.note, actor=actor_of(user),
        audit_key=state.audit_key, now=clock(request),
    )  # fmt: skip
    return AwardOut(id=app.id, application_no=app.application_no, period=app.period, state=app.state)


@router.post("/awards/{application_id}/materials", response_model=AwardOut, summary="上传奖补申请材料")
async def post_award_material(
    request: Request, application_id: int, db: SessionDep, state: StateDep, user: Operator,
    material: Annotated[str, Form(max_length=40)], file: Annotated[UploadFile, File()],
) -> AwardOut:  # fmt: skip
    content = await file.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed("文件：不超过 20 MB")
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(
        carriers.upload_award_material, db, application_id=application_id, material=material,
        filename=file.filename or "material", content=content, actor=actor_of(user), audit_key=state.audit_key,
        data_dir=state.settings.data_dir, now=clock(request),
    )  # fmt: skip
    from xiangchuang.models import Application

    app = db.get(Application, application_id)
    assert app is not None
    return AwardOut(id=app.id, application_no=app.application_no, period=app.period, state=app.state)


@router.post("/awards/{application_id}/submit", response_model=AwardOut, summary="提交奖补申请")
def submit_award(
    request: Request, application_id: int, db: SessionDep, state: StateDep, params: ParamsDep, user: Operator
) -> AwardOut:
    app = carriers.submit_award(
        db, application_id=application_id, actor=actor_of(user), audit_key=state.audit_key, params=params,
        now=clock(request),
    )  # fmt: skip
    return AwardOut(id=app.id, application_no=app.application_no, period=app.period, state=app.state)
