"""创业载体 pages: the carrier operator (its carrier, tenants, workstations, bills), district staff (the
district's carriers, ratings, allocations) and the city overview. Routes only call
:mod:`xiangchuang.carriers` services; a refused form re-renders the page with the Chinese reason and
nothing written (each change runs in a savepoint)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.carriers import repository as repo
from xiangchuang.carriers import service as carriers
from xiangchuang.engine.districts import district_by_code
from xiangchuang.errors import DomainError, Refusal, ValidationFailed, page_status
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import Carrier, User
from xiangchuang.web import nav
from xiangchuang.web.api_carriers import MAX_UPLOAD, actor_of
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render
from xiangchuang.web.workbench import china_day, clock

router = APIRouter(include_in_schema=False)

Reader = Annotated[User, Depends(require_role(*repo.READ_ROLES))]
Manager = Annotated[User, Depends(require_role("carrier_operator", *repo.STAFF_ROLES))]
Staff = Annotated[User, Depends(require_role(*repo.STAFF_ROLES))]
Operator = Annotated[User, Depends(require_role("carrier_operator"))]
NO_STORE = {"Cache-Control": "no-store"}

nav.add("/carriers", "创业载体", repo.READ_ROLES, 35)


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f}"


def _district_name(code: int) -> str:
    try:
        return district_by_code(code).name
    except KeyError:
        return str(code)


def _int(text: str | None, what: str) -> int:
    t = (text or "").strip()
    if not t.lstrip("-").isdigit():
        raise ValidationFailed(f"{what}：须为整数")
    return int(t)


def _opt_date(text: str | None, what: str) -> dt.date | None:
    return carriers.parse_date(text, what) if (text or "").strip() else None


@router.get("/carriers")
def carrier_list(request: Request, db: SessionDep, params: ParamsDep, user: Reader) -> Response:
    return _list_page(request, db, user)


def _list_page(
    request: Request, db: SessionDep, user: User, error: str | None = None, form: Any = None
) -> Response:
    actor = actor_of(user)
    on = china_day(clock(request))
    rows: list[dict[str, Any]] = []
    for c in repo.carriers(db, actor):
        occ = carriers.occupancy(db, c, on)
        gross, red = repo.reduction_total(db, c.id)
        rows.append({"c": c, "occ": occ, "reduced": _yuan(red), "gross": _yuan(gross), "reduced_fen": red})
    by_district: dict[int, dict[str, int]] = {}
    for r in rows:
        d = by_district.setdefault(
            r["c"].district, {"n": 0, "total": 0, "used": 0, "tenants": 0, "reduced": 0}
        )
        d["n"] += 1
        d["total"] += r["occ"].total
        d["used"] += r["occ"].used
        d["tenants"] += r["occ"].tenants
        d["reduced"] += r["reduced_fen"]
    by_kind = Counter(carriers.KIND_LABELS[r["c"].kind] for r in rows)
    by_level = Counter(carriers.LEVEL_LABELS[r["c"].level] for r in rows)
    return render(
        request,
        "carriers/list.html",
        {
            "rows": rows,
            "by_kind": sorted(by_kind.items()),
            "by_level": sorted(by_level.items()),
            "by_district": sorted(by_district.items()),
            "district_name": _district_name,
            "yuan": _yuan,
            "total_ws": sum(r["occ"].total for r in rows),
            "used_ws": sum(r["occ"].used for r in rows),
            "is_staff": user.role in repo.STAFF_ROLES,
            "is_operator": user.role == "carrier_operator",
            "is_city": user.role in repo.CITY_ROLES,
            "no_org": user.role == "carrier_operator" and not user.org_code,
            "kinds": carriers.KIND_LABELS,
            "levels": carriers.LEVEL_LABELS,
            "services": carriers.SERVICE_LABELS,
            "district": user.district,
            "error": error,
            "form": form or {},
        },
        status=422 if error else 200,
        headers=NO_STORE,
    )


@router.post("/carriers/new")
def create_carrier(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    carrier_no: Annotated[str, Form(max_length=40)],
    name: Annotated[str, Form(max_length=120)],
    kind: Annotated[str, Form(max_length=30)],
    level: Annotated[str, Form(max_length=20)],
    address: Annotated[str, Form(max_length=200)],
    capacity: Annotated[str, Form(max_length=6)],
    workstations: Annotated[str, Form(max_length=6)] = "0",
    free_workstations: Annotated[str, Form(max_length=6)] = "0",
    operator: Annotated[str | None, Form(max_length=120)] = None,
    operator_org_code: Annotated[str | None, Form(max_length=20)] = None,
    level_date: Annotated[str | None, Form(max_length=10)] = None,
    municipal_date: Annotated[str | None, Form(max_length=10)] = None,
    services: Annotated[list[str] | None, Form()] = None,
) -> Response:
    form = {"carrier_no": carrier_no, "name": name, "address": address, "capacity": capacity}
    try:
        with db.begin_nested():
            lvl_date = _opt_date(level_date, "认定日期")
            muni = _opt_date(municipal_date, "认定为市级载体日期")
            data = carriers.CarrierInput(
                carrier_no=carrier_no,
                name=name,
                kind=kind,
                level=level,
                district=user.district or 0,
                address=address,
                capacity=_int(capacity, "容纳企业数"),
                services=tuple(services or ()),
                operator=operator,
                operator_org_code=(operator_org_code or "").strip() or None,
                district_date=lvl_date if level == "district" else None,
                municipal_date=muni if level == "national" else (lvl_date if level == "municipal" else muni),
                national_date=lvl_date if level == "national" else None,
                workstations=_int(workstations, "工位数"),
                free_workstations=_int(free_workstations, "免费工位数"),
            )
            c = carriers.create_carrier(
                db, data=data, actor=actor_of(user), audit_key=state.audit_key, now=clock(request)
            )
    except DomainError as exc:
        return _list_page(request, db, user, exc.message, form)
    return RedirectResponse(f"/carriers/{c.carrier_no}", status_code=303)


def _detail_page(
    request: Request,
    db: SessionDep,
    params: Any,
    user: User,
    carrier: Carrier,
    *,
    error: str | None = None,
    notice: str | None = None,
    month: int | None = None,
) -> Response:
    on = china_day(clock(request))
    occ = carriers.occupancy(db, carrier, on)
    taken = repo.occupied_numbers(db, carrier.id, on)
    own, schedule_problem = carriers.schedule_steps(carrier)
    bills = repo.bills(db, carrier.id, month=month)
    months = sorted({b.month for b, _ in repo.bills(db, carrier.id)}, reverse=True)
    gross, red = repo.reduction_total(db, carrier.id)
    is_manager = user.role == "carrier_operator" or (
        user.role in repo.STAFF_ROLES and user.district == carrier.district
    )
    return render(
        request,
        "carriers/detail.html",
        {
            "c": carrier,
            "kind_label": carriers.KIND_LABELS[carrier.kind],
            "level_label": carriers.LEVEL_LABELS[carrier.level],
            "services": [carriers.SERVICE_LABELS.get(s, s) for s in (carrier.services or "").split(",") if s],
            "occ": occ,
            "workstations": [(w, taken.get(w.number)) for w in repo.workstations(db, carrier.id)],
            "tenants": repo.tenancies(db, carrier.id),
            "by_tenant": repo.reductions_by_tenant(db, carrier.id),
            "schedule": own or ([] if schedule_problem else carriers.default_schedule(params, on)),
            "schedule_default": not own and schedule_problem is None,
            "schedule_problem": schedule_problem,
            "bills": bills,
            "months": months,
            "month": month,
            "month_label": carriers.month_label,
            "status_labels": carriers.STATUS_LABELS,
            "allocations": [
                (a, w, p.person_no, mask_name(p.name)) for a, w, p in repo.allocations(db, carrier.id)
            ],
            "ratings": repo.ratings(db, carrier.id),
            "rating_labels": carriers.RATING_LABELS,
            "awards": carriers.award_applications(db, carrier),
            "award_materials": KINDS["carrier_award"].materials,
            "state_labels": STATE_LABELS,
            "gross": _yuan(gross),
            "reduced": _yuan(red),
            "yuan": _yuan,
            "is_manager": is_manager,
            "is_staff": user.role in repo.STAFF_ROLES and user.district == carrier.district,
            "is_operator": user.role == "carrier_operator",
            "kinds": carriers.KIND_LABELS,
            "levels": carriers.LEVEL_LABELS,
            "all_services": carriers.SERVICE_LABELS,
            "own_services": [s for s in (carrier.services or "").split(",") if s],
            "today": on,
            "this_month": f"{on:%Y-%m}",
            "error": error,
            "notice": notice,
        },
        status=page_status(error),
        headers=NO_STORE,
    )


@router.get("/carriers/{carrier_no}")
def carrier_page(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    params: ParamsDep,
    user: Reader,
    month: str | None = None,
) -> Response:
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
    m = None
    if month:
        try:
            m = carriers.parse_month(month)
        except ValidationFailed as exc:
            return _detail_page(request, db, params, user, c, error=Refusal(exc))
    return _detail_page(request, db, params, user, c, month=m)


@router.get("/carriers/{carrier_no}/bills/{bill_no}")
def bill_page(request: Request, carrier_no: str, bill_no: str, db: SessionDep, user: Reader) -> Response:
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
    bill = repo.bill_by_no(db, bill_no)
    if bill is None or bill.carrier_id != c.id:
        from xiangchuang.errors import NotFound

        raise NotFound(f"账单 {bill_no} 不存在")
    from xiangchuang.models import Business, Tenancy

    b = db.get(Business, bill.business_id)
    t = db.get(Tenancy, bill.tenancy_id)
    return render(
        request,
        "carriers/bill.html",
        {
            "c": c,
            "bill": bill,
            "b": b,
            "t": t,
            "yuan": _yuan,
            "month": carriers.month_label(bill.month),
            "status_label": carriers.STATUS_LABELS.get(bill.status, bill.status),
        },
        headers=NO_STORE,
    )


def _act(
    request: Request, db: SessionDep, params: Any, user: User, carrier_no: str, work: Any, notice: str
) -> Response:
    """Run one change in a savepoint; on a refusal re-render the page with the reason (nothing written)."""
    c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
    try:
        with db.begin_nested():
            result = work(c)
    except DomainError as exc:
        db.expire_all()
        c = carriers.get_carrier(db, carrier_no=carrier_no, actor=actor_of(user))
        return _detail_page(request, db, params, user, c, error=Refusal(exc))
    suffix = f"?month={result}" if isinstance(result, str) and result else ""
    return RedirectResponse(f"/carriers/{carrier_no}{suffix}#{notice}", status_code=303)


@router.post("/carriers/{carrier_no}/tenants")
def add_tenant(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    business_no: Annotated[str, Form(max_length=40)],
    start: Annotated[str, Form(max_length=10)],
    rent: Annotated[str, Form(max_length=20)],
    property_fee: Annotated[str, Form(max_length=20)],
    utilities: Annotated[str, Form(max_length=20)],
    workstation: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    def work(c: Carrier) -> None:
        carriers.add_tenant(
            db,
            carrier_no=c.carrier_no,
            data=carriers.TenantInput(
                business_no=business_no,
                start=carriers.parse_date(start, "入驻日期"),
                workstation=workstation,
                rent_fen=carriers.yuan_to_fen(rent, "月场租（元）"),
                property_fee_fen=carriers.yuan_to_fen(property_fee, "月物业费（元）"),
                utilities_fen=carriers.yuan_to_fen(utilities, "月水电费（元）"),
            ),
            actor=actor_of(user),
            audit_key=state.audit_key,
            now=clock(request),
        )

    return _act(request, db, params, user, carrier_no, work, "tenants")


@router.post("/carriers/{carrier_no}/tenants/import")
async def import_tenants(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    file: Annotated[UploadFile, File()],
) -> Response:
    content = await file.read(MAX_UPLOAD + 1)
    from starlette.concurrency import run_in_threadpool

    def work(c: Carrier) -> None:
        if len(content) > MAX_UPLOAD:
            raise ValidationFailed("文件：不超过 20 MB")
        carriers.import_tenants(
            db, carrier_no=c.carrier_no, content=content, actor=actor_of(user), audit_key=state.audit_key,
            now=clock(request),
        )  # fmt: skip

    return await run_in_threadpool(_act, request, db, params, user, carrier_no, work, "tenants")


@router.get("/carriers-template/tenants.xlsx")
def tenants_template(user: Manager) -> Response:
    return Response(
        carriers.tenants_template(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="tenants-template.xlsx"'},
    )


@router.post("/carriers/{carrier_no}/bills")
def generate_bills(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    month: Annotated[str, Form(max_length=7)],
) -> Response:
    def work(c: Carrier) -> str:
        m = carriers.parse_month(month)
        made = carriers.generate_bills(
            db, carrier_no=c.carrier_no, month=m, params=params, actor=actor_of(user),
            audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip
        if not made:
            raise ValidationFailed(f"{carriers.month_label(m)}：没有待出账的入驻企业（已出账或无在驻企业）")
        return carriers.month_label(m)

    return _act(request, db, params, user, carrier_no, work, "bills")


@router.get("/carriers/{carrier_no}/bills.xlsx")
def export_bills(
    request: Request, carrier_no: str, db: SessionDep, state: StateDep, user: Reader, month: str | None = None
) -> Response:
    from xiangchuang.web.api_carriers import export_bills as api_export

    return api_export(request, carrier_no, db, state, user, month)


@router.post("/carriers/{carrier_no}/free-workstations")
def allocate(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    person_no: Annotated[str, Form(max_length=40)],
    start: Annotated[str, Form(max_length=10)],
    workstation: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    def work(c: Carrier) -> None:
        carriers.allocate_free_workstation(
            db, carrier_no=c.carrier_no, person_no=person_no, start=carriers.parse_date(start, "开始日期"),
            params=params, actor=actor_of(user), audit_key=state.audit_key,
            workstation=(workstation or "").strip() or None, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "free")


@router.post("/carriers/{carrier_no}/allocations/{allocation_no}/renew")
def renew(
    request: Request, carrier_no: str, allocation_no: str, db: SessionDep, state: StateDep, params: ParamsDep,
    user: Manager,
) -> Response:  # fmt: skip
    def work(c: Carrier) -> None:
        carriers.renew_allocation(
            db, allocation_no=allocation_no, params=params, actor=actor_of(user), audit_key=state.audit_key,
            now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "free")


@router.post("/carriers/{carrier_no}/schedule")
def set_schedule(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    rent: Annotated[list[str] | None, Form()] = None,
    property_fee: Annotated[list[str] | None, Form()] = None,
    utilities: Annotated[list[str] | None, Form()] = None,
) -> Response:
    def work(c: Carrier) -> None:
        r, p, u = rent or [], property_fee or [], utilities or []
        steps = [
            {
                "year": i + 1,
                "rent": r[i],
                "property": p[i] if i < len(p) else "",
                "utilities": u[i] if i < len(u) else "",
            }
            for i in range(len(r))
            if r[i].strip() or (i < len(p) and p[i].strip()) or (i < len(u) and u[i].strip())
        ]
        carriers.set_schedule(
            db, carrier_no=c.carrier_no, steps=steps, actor=actor_of(user), audit_key=state.audit_key,
            now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "schedule")


@router.post("/carriers/{carrier_no}/ratings")
def record_rating(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    year: Annotated[str, Form(max_length=4)],
    rating: Annotated[str, Form(max_length=4)],
    evidence: Annotated[str, Form(max_length=2000)],
    score: Annotated[str | None, Form(max_length=3)] = None,
) -> Response:
    def work(c: Carrier) -> None:
        carriers.record_rating(
            db, carrier_no=c.carrier_no, year=_int(year, "评估年度"), rating=rating, evidence=evidence,
            score=_int(score, "评估得分") if (score or "").strip() else None, actor=actor_of(user),
            audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "ratings")


@router.post("/carriers/{carrier_no}/awards")
def apply_award(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Operator,
    year: Annotated[str, Form(max_length=4)],
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def work(c: Carrier) -> None:
        carriers.apply_award(
            db, carrier_no=c.carrier_no, year=_int(year, "申请年度"), note=note, actor=actor_of(user),
            audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "awards")


@router.post("/carriers/{carrier_no}/awards/{application_id}/materials")
async def upload_material(
    request: Request,
    carrier_no: str,
    application_id: int,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Operator,
    material: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File()],
) -> Response:
    content = await file.read(MAX_UPLOAD + 1)
    filename = file.filename or "material"
    from starlette.concurrency import run_in_threadpool

    def work(c: Carrier) -> None:
        if len(content) > MAX_UPLOAD:
            raise ValidationFailed("文件：不超过 20 MB")
        carriers.upload_award_material(
            db, application_id=application_id, material=material, filename=filename, content=content,
            actor=actor_of(user), audit_key=state.audit_key, data_dir=state.settings.data_dir, now=clock(request),
        )  # fmt: skip

    return await run_in_threadpool(_act, request, db, params, user, carrier_no, work, "awards")


@router.post("/carriers/{carrier_no}/awards/{application_id}/submit")
def submit_award(
    request: Request, carrier_no: str, application_id: int, db: SessionDep, state: StateDep, params: ParamsDep,
    user: Operator,
) -> Response:  # fmt: skip
    def work(c: Carrier) -> None:
        carriers.submit_award(
            db, application_id=application_id, actor=actor_of(user), audit_key=state.audit_key, params=params,
            now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "awards")


@router.post("/carriers/{carrier_no}/edit")
def edit_carrier(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    name: Annotated[str, Form(max_length=120)],
    address: Annotated[str, Form(max_length=200)],
    capacity: Annotated[str, Form(max_length=6)],
    operator: Annotated[str | None, Form(max_length=120)] = None,
    operator_org_code: Annotated[str | None, Form(max_length=20)] = None,
    services: Annotated[list[str] | None, Form()] = None,
) -> Response:
    def work(c: Carrier) -> None:
        carriers.update_carrier(
            db, carrier_no=c.carrier_no, name=name, address=address, capacity=_int(capacity, "容纳企业数"),
            services=services or [], operator=operator, operator_org_code=operator_org_code,
            actor=actor_of(user), audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "info")


@router.post("/carriers/{carrier_no}/level")
def set_level(
    request: Request,
    carrier_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    level: Annotated[str, Form(max_length=20)],
    on: Annotated[str, Form(max_length=10)],
) -> Response:
    def work(c: Carrier) -> None:
        carriers.set_level(
            db, carrier_no=c.carrier_no, level=level, on=carriers.parse_date(on, "认定日期"),
            actor=actor_of(user), audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "info")


@router.post("/carriers/{carrier_no}/tenants/{tenancy_id}/end")
def end_tenancy(
    request: Request,
    carrier_no: str,
    tenancy_id: int,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    on: Annotated[str, Form(max_length=10)],
) -> Response:
    def work(c: Carrier) -> None:
        carriers.end_tenancy(
            db, carrier_no=c.carrier_no, tenancy_id=tenancy_id, end=carriers.parse_date(on, "退出日期"),
            actor=actor_of(user), audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "tenants")


@router.post("/carriers/{carrier_no}/allocations/{allocation_no}/end")
def end_allocation(
    request: Request,
    carrier_no: str,
    allocation_no: str,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Manager,
    on: Annotated[str, Form(max_length=10)],
) -> Response:
    def work(c: Carrier) -> None:
        carriers.end_allocation(
            db, allocation_no=allocation_no, on=carriers.parse_date(on, "退出日期"), actor=actor_of(user),
            audit_key=state.audit_key, now=clock(request),
        )  # fmt: skip

    return _act(request, db, params, user, carrier_no, work, "free")
