"""Pages of the one-stop service (clause 3.7) and of leaders' contact / coordination (clause 5.13).

- public: ``/service-windows`` lists the 创业服务专门窗口 and the 就业创业服务超市 catalogue;
- the entrepreneur: the catalogue with a request form, their requests (cancel, rate), the problems their
  business raised (confirm or reject the resolution);
- window clerks and district reviewers (their district; a street clerk sees the street's requests):
  windows, catalogue, requests (accept / complete / reject, 代办), purchased services with deliveries,
  staff training, officials (assignments with history), visits, problems (progress, resolution),
  coordination meetings and tasks; the city office: everything read-only plus the overview.

A form with bad input is shown again with the Chinese reason (``role="alert"``) and nothing written
(each change runs in a savepoint). Routes only call :mod:`xiangchuang.services`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA, china_date
from xiangchuang.errors import DomainError, Refusal, ValidationFailed, page_status
from xiangchuang.ids import mask_name
from xiangchuang.models import ServicePurchase, User
from xiangchuang.services import repository as repo
from xiangchuang.services import service as svc
from xiangchuang.stats.service import district_name
from xiangchuang.users.service import UserScope, scope_for
from xiangchuang.web import nav
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render
from xiangchuang.web.workbench import clock

router = APIRouter(include_in_schema=False)
STAFF_VIEW = ("window_clerk", "district_reviewer", "city_admin")
Anyone = Annotated[User, Depends(require_role("applicant", *STAFF_VIEW))]
StaffView = Annotated[User, Depends(require_role(*STAFF_VIEW))]
Staff = Annotated[User, Depends(require_role(*svc.STAFF_ROLES))]
Filer = Annotated[User, Depends(require_role("applicant", "window_clerk"))]
Applicant = Annotated[User, Depends(require_role("applicant"))]
Planner = Annotated[User, Depends(require_role("district_reviewer", "city_admin"))]
Reviewer = Annotated[User, Depends(require_role("district_reviewer"))]
T = TypeVar("T")

nav.add("/services/catalogue", "服务超市", ("applicant", "window_clerk"), 45)
nav.add("/services/requests", "服务请求", ("applicant", *STAFF_VIEW), 46)
nav.add("/services/problems", "企业问题", ("applicant", *STAFF_VIEW), 47)
nav.add("/services/windows", "服务窗口", STAFF_VIEW, 48)
nav.add("/services/officials", "联系企业", STAFF_VIEW, 49)
nav.add("/services/meetings", "会商", STAFF_VIEW, 50)
nav.add("/services/overview", "服务概况", STAFF_VIEW, 51)

LABELS = {
    "categories": svc.CATEGORY_LABELS,
    "matters": svc.MATTERS,
    "levels": svc.LEVEL_LABELS,
    "provider_kinds": svc.PROVIDER_KIND_LABELS,
    "request_states": svc.REQUEST_STATE_LABELS,
    "problem_states": svc.PROBLEM_STATE_LABELS,
    "task_states": svc.TASK_STATE_LABELS,
    "modes": svc.VISIT_MODE_LABELS,
    "departments": svc.DEPARTMENTS,
    "problem_categories": svc.PROBLEM_CATEGORIES,
}


def _attempt(db: Session, fn: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run a change in a savepoint: on a refusal nothing of it stays, and the reason is returned."""
    try:
        with db.begin_nested():
            return fn(), None
    except DomainError as exc:
        return None, Refusal(exc)


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    out: dict[str, Any] = {}
    for key in form:
        values = [str(v) for v in form.getlist(key)]
        out[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
    return out


def _list(form: dict[str, Any], key: str) -> list[str]:
    v = form.get(key, [])
    return [v] if isinstance(v, str) else list(v)


def _opt_int(text: str | None, what: str) -> int | None:
    t = (text or "").strip()
    if not t:
        return None
    if not t.isdigit() or len(t) > 9:
        raise ValidationFailed(f"{what}：须为整数")
    return int(t)


def _yuan_to_fen(text: str | None, what: str) -> int:
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed(f"{what}：须为金额（元，最多两位小数）") from None
    cents = value * 100
    if cents != cents.to_integral_value() or value < 0:
        raise ValidationFailed(f"{what}：须为非负金额，最多两位小数")
    return int(cents)


def _ctx(request: Request, state: Any, user: User) -> dict[str, Any]:
    return {"scope": scope_for(user), "audit_key": state.audit_key, "now": clock(request)}


def _china_time(at: dt.datetime) -> str:
    return at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _page(request: Request, name: str, ctx: dict[str, Any], error: str | None) -> Response:
    return render(
        request,
        f"services/{name}.html",
        {
            **LABELS,
            "district_name": district_name,
            "mask_name": mask_name,
            "china_time": _china_time,
            **ctx,
            "error": error,
        },
        status=page_status(error),
    )


def _scope_district(scope: UserScope) -> int | None:
    return svc.visible_districts(scope)


# --- public ------------------------------------------------------------------------------------------------


@router.get("/service-windows")
def public_windows(request: Request, db: SessionDep) -> Response:
    return _page(request, "public", {"windows": svc.windows(db), "offerings": svc.catalogue(db)}, None)


# --- windows and catalogue ---------------------------------------------------------------------------------


def _windows_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    d = _scope_district(scope_for(user))
    return _page(
        request,
        "windows",
        {
            "windows": svc.windows(db, district=d),
            "can_create": user.role in ("district_reviewer", "city_admin"),
            "is_city": user.role == "city_admin",
            "form": form or {},
        },
        error,
    )


@router.get("/services/windows")
def windows_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _windows_page(request, db, user)


@router.post("/services/windows")
async def windows_create(request: Request, db: SessionDep, state: StateDep, user: Planner) -> Response:
    f = await _form(request)

    def run() -> Any:
        return svc.create_window(
            db, **_ctx(request, state, user), name=f.get("name", ""), level=f.get("level", ""),
            district=_opt_int(f.get("district"), "区县"), street=f.get("street"), centre=f.get("centre", ""),
            address=f.get("address", ""), hours=f.get("hours", ""), handles=_list(f, "handles"),
            staff_logins=str(f.get("staff_logins", "")).replace("，", ",").split(","),
        )  # fmt: skip

    _, error = _attempt(db, run)
    if error:
        return _windows_page(request, db, user, error, f)
    return RedirectResponse("/services/windows", status_code=303)


def _offerings_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    d = _scope_district(scope_for(user))
    return _page(
        request,
        "offerings",
        {
            "offerings": svc.catalogue(db, district=d),
            "can_create": user.role in ("district_reviewer", "city_admin"),
            "is_city": user.role == "city_admin",
            "form": form or {},
        },
        error,
    )


@router.get("/services/offerings")
def offerings_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _offerings_page(request, db, user)


@router.post("/services/offerings")
async def offerings_create(request: Request, db: SessionDep, state: StateDep, user: Planner) -> Response:
    f = await _form(request)

    def run() -> Any:
        return svc.create_offering(
            db, **_ctx(request, state, user), category=f.get("category", ""), title=f.get("title", ""),
            provider_name=f.get("provider_name", ""), provider_kind=f.get("provider_kind", ""),
            district=_opt_int(f.get("district"), "区县"), description=f.get("description", ""),
            fee_note=f.get("fee_note", ""),
        )  # fmt: skip

    _, error = _attempt(db, run)
    if error:
        return _offerings_page(request, db, user, error, f)
    return RedirectResponse("/services/offerings", status_code=303)


@router.post("/services/{kind}/{number}/withdraw")
def withdraw(
    request: Request, kind: str, number: str, db: SessionDep, state: StateDep, user: Planner
) -> Response:
    if kind not in ("windows", "offerings"):
        raise ValidationFailed(f"撤销对象 {kind!r} 不存在")
    page = _windows_page if kind == "windows" else _offerings_page
    _, error = _attempt(
        db, lambda: svc.withdraw(db, **_ctx(request, state, user), kind=kind[:-1], number=number)
    )
    if error:
        return page(request, db, user, error)
    return RedirectResponse(f"/services/{kind}", status_code=303)


# --- catalogue and requests --------------------------------------------------------------------------------


def _catalogue_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    scope = scope_for(user)
    district = scope.district
    if user.role == "applicant" and user.business_id is not None:
        from xiangchuang.models import Business

        b = db.get(Business, user.business_id)
        district = b.district if b is not None else None
    return _page(
        request,
        "catalogue",
        {
            "offerings": svc.catalogue(db, district=district),
            "windows": svc.windows(db, district=district) if district is not None else [],
            "is_clerk": user.role == "window_clerk",
            "form": form or {},
        },
        error,
    )


@router.get("/services/catalogue")
def catalogue_page(request: Request, db: SessionDep, user: Filer) -> Response:
    return _catalogue_page(request, db, user)


@router.post("/services/requests/new")
async def request_create(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Filer
) -> Response:
    f = await _form(request)

    def run() -> Any:
        return svc.request_service(
            db, **_ctx(request, state, user), params=params, offering_no=f.get("offering_no", ""),
            detail=f.get("detail", ""), business_no=f.get("business_no") or None, window_no=f.get("window_no") or None,
        )  # fmt: skip

    req, error = _attempt(db, run)
    if error or req is None:
        return _catalogue_page(request, db, user, error, f)
    return RedirectResponse(f"/services/requests/{req.request_no}", status_code=303)


@router.get("/services/requests")
def requests_page(request: Request, db: SessionDep, user: Anyone, state: str | None = None) -> Response:
    scope = scope_for(user)
    rows = svc.requests_for(db, scope=scope, state=state if state in svc.REQUEST_STATE_LABELS else None)
    return _page(
        request,
        "requests",
        {
            "rows": rows,
            "offerings": repo.offerings_by_id(db, {r.offering_id for r in rows}),
            "businesses": repo.businesses_of(db, {r.business_id for r in rows if r.business_id}),
            "is_applicant": user.role == "applicant",
            "today": china_date(clock(request)),
            "filter": state,
        },
        None,
    )


def _request_page(
    request: Request, db: Session, user: User, request_no: str, error: str | None = None
) -> Response:
    scope = scope_for(user)
    req = svc.get_request(db, scope=scope, request_no=request_no)
    offering = repo.offerings_by_id(db, {req.offering_id})[req.offering_id]
    purchase = db.get(ServicePurchase, req.purchase_id) if req.purchase_id else None
    purchases = [
        r["purchase"]
        for r in svc.purchase_progress(db, district=req.district)
        if r["purchase"].offering_id == req.offering_id and r["remaining"] > 0
    ]
    mine = user.role == "applicant" and req.requester_login == user.login
    return _page(
        request,
        "request",
        {
            "r": req,
            "offering": offering,
            "purchase": purchase,
            "purchases": purchases if req.state == "submitted" else [],
            "business": repo.businesses_of(db, {req.business_id}).get(req.business_id)
            if req.business_id
            else None,
            "can_handle": user.role in svc.STAFF_ROLES and user.district == req.district,
            "can_cancel": mine and req.state == "submitted",
            "can_rate": user.role == "applicant" and req.state == "completed" and req.rating is None,
            "today": china_date(clock(request)),
        },
        error,
    )


@router.get("/services/requests/{request_no}")
def request_page(request: Request, request_no: str, db: SessionDep, user: Anyone) -> Response:
    return _request_page(request, db, user, request_no)


@router.post("/services/requests/{request_no}/{action}")
async def request_act(
    request: Request, request_no: str, action: str, db: SessionDep, state: StateDep, user: Anyone
) -> Response:
    f = await _form(request)
    ctx = _ctx(request, state, user)
    actions: dict[str, Callable[[], Any]] = {
        "accept": lambda: svc.accept_request(
            db,
            **ctx,
            request_no=request_no,
            handler_login=f.get("handler_login") or None,
            purchase_no=f.get("purchase_no") or None,
        ),
        "complete": lambda: svc.complete_request(db, **ctx, request_no=request_no, outcome=f.get("text", "")),
        "reject": lambda: svc.reject_request(db, **ctx, request_no=request_no, reason=f.get("text", "")),
        "cancel": lambda: svc.cancel_request(db, **ctx, request_no=request_no),
        "rate": lambda: svc.rate_request(
            db, **ctx, request_no=request_no, rating=f.get("rating"), comment=f.get("comment")
        ),
    }
    if action not in actions:
        raise ValidationFailed(f"操作 {action!r} 不存在")
    _, error = _attempt(db, actions[action])
    if error:
        return _request_page(request, db, user, request_no, error)
    return RedirectResponse(f"/services/requests/{request_no}", status_code=303)


# --- purchases and staff training --------------------------------------------------------------------------


def _purchases_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    d = _scope_district(scope_for(user))
    return _page(
        request,
        "purchases",
        {
            "rows": svc.purchase_progress(db, district=d),
            "offerings": svc.catalogue(db, district=d),
            "can_create": user.role == "district_reviewer",
            "form": form or {},
        },
        error,
    )


@router.get("/services/purchases")
def purchases_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _purchases_page(request, db, user)


@router.post("/services/purchases")
async def purchases_create(request: Request, db: SessionDep, state: StateDep, user: Reviewer) -> Response:
    f = await _form(request)

    def run() -> Any:
        return svc.create_purchase(
            db, **_ctx(request, state, user), contract_no=f.get("contract_no", ""),
            provider_name=f.get("provider_name", ""), offering_no=f.get("offering_no", ""),
            quantity=f.get("quantity", ""), unit_price_fen=_yuan_to_fen(f.get("unit_price"), "单价"),
            start_on=f.get("start_on", ""), end_on=f.get("end_on", ""),
        )  # fmt: skip

    p, error = _attempt(db, run)
    if error or p is None:
        return _purchases_page(request, db, user, error, f)
    return RedirectResponse(f"/services/purchases/{p.purchase_no}", status_code=303)


@router.get("/services/purchases/{purchase_no}")
def purchase_page(request: Request, purchase_no: str, db: SessionDep, user: StaffView) -> Response:
    row = svc.get_purchase(db, scope=scope_for(user), purchase_no=purchase_no)
    return _page(request, "purchase", {"row": row}, None)


def _training_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    return _page(
        request,
        "staff_training",
        {
            "rows": svc.staff_trainings(db, scope=scope_for(user)),
            "can_create": user.role in svc.STAFF_ROLES,
            "form": form or {},
        },
        error,
    )


@router.get("/services/staff-training")
def training_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _training_page(request, db, user)


@router.post("/services/staff-training")
async def training_create(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)

    def run() -> Any:
        return svc.record_staff_training(
            db, **_ctx(request, state, user), staff_name=f.get("staff_name", ""), staff_login=f.get("staff_login"),
            topic=f.get("topic", ""), organiser=f.get("organiser", ""), trained_on=f.get("trained_on", ""),
            hours=f.get("hours", ""), passed=f.get("passed") == "1", street=f.get("street"),
        )  # fmt: skip

    _, error = _attempt(db, run)
    if error:
        return _training_page(request, db, user, error, f)
    return RedirectResponse("/services/staff-training", status_code=303)


# --- leaders' contact --------------------------------------------------------------------------------------


def _officials_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    scope = scope_for(user)
    d = _scope_district(scope)
    history = repo.assignments(db, district=d)
    return _page(
        request,
        "officials",
        {
            "rows": repo.official_summary(db, district=d, today=china_date(clock(request))),
            "history": history,
            "officials_by_id": repo.officials_by_id(db, {a.official_id for a in history}),
            "businesses": repo.businesses_of(db, {a.business_id for a in history}),
            "can_edit": user.role in svc.STAFF_ROLES,
            "form": form or {},
        },
        error,
    )


@router.get("/services/officials")
def officials_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _officials_page(request, db, user)


@router.post("/services/officials")
async def officials_create(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: svc.create_official(
            db,
            **_ctx(request, state, user),
            name=f.get("name", ""),
            title=f.get("title", ""),
            unit=f.get("unit", ""),
        ),
    )
    if error:
        return _officials_page(request, db, user, error, f)
    return RedirectResponse("/services/officials", status_code=303)


@router.post("/services/officials/assign")
async def officials_assign(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: svc.assign_official(
            db,
            **_ctx(request, state, user),
            official_no=f.get("official_no", ""),
            business_no=f.get("business_no", ""),
            since=f.get("since") or None,
        ),
    )
    if error:
        return _officials_page(request, db, user, error, f)
    return RedirectResponse("/services/officials", status_code=303)


@router.post("/services/assignments/{assignment_id}/end")
async def assignment_end(
    request: Request,
    assignment_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    db: SessionDep,
    state: StateDep,
    user: Staff,
) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: svc.end_assignment(
            db, **_ctx(request, state, user), assignment_id=assignment_id, reason=f.get("reason", "")
        ),
    )
    if error:
        return _officials_page(request, db, user, error, f)
    return RedirectResponse("/services/officials", status_code=303)


def _visits_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    d = _scope_district(scope_for(user))
    rows = repo.visits(db, district=d)
    return _page(
        request,
        "visits",
        {
            "rows": rows,
            "officials": repo.officials(db, district=d),
            "officials_by_id": repo.officials_by_id(db, {v.official_id for v in rows}),
            "businesses": repo.businesses_of(db, {v.business_id for v in rows}),
            "can_edit": user.role in svc.STAFF_ROLES,
            "form": form or {},
        },
        error,
    )


@router.get("/services/visits")
def visits_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _visits_page(request, db, user)


@router.post("/services/visits")
async def visits_create(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: svc.record_visit(
            db,
            **_ctx(request, state, user),
            official_no=f.get("official_no", ""),
            business_no=f.get("business_no", ""),
            visited_on=f.get("visited_on", ""),
            mode=f.get("mode", ""),
            summary=f.get("summary", ""),
        ),
    )
    if error:
        return _visits_page(request, db, user, error, f)
    return RedirectResponse("/services/visits", status_code=303)


def _problems_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    scope = scope_for(user)
    rows = svc.problems_for(db, scope=scope)
    return _page(
        request,
        "problems",
        {
            "rows": rows,
            "businesses": repo.businesses_of(db, {p.business_id for p in rows}),
            "is_applicant": user.role == "applicant",
            "can_edit": user.role in svc.STAFF_ROLES,
            "today": china_date(clock(request)),
            "is_overdue": svc.is_overdue,
            "form": form or {},
        },
        error,
    )


@router.get("/services/problems")
def problems_page(request: Request, db: SessionDep, user: Anyone) -> Response:
    return _problems_page(request, db, user)


@router.post("/services/problems")
async def problems_create(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff
) -> Response:
    f = await _form(request)
    p, error = _attempt(
        db,
        lambda: svc.raise_problem(
            db,
            **_ctx(request, state, user),
            params=params,
            business_no=f.get("business_no", ""),
            category=f.get("category", ""),
            description=f.get("description", ""),
            owner_department=f.get("owner_department", ""),
            owner=f.get("owner", ""),
            due_on=f.get("due_on") or None,
            visit_no=f.get("visit_no") or None,
        ),
    )
    if error or p is None:
        return _problems_page(request, db, user, error, f)
    return RedirectResponse(f"/services/problems/{p.problem_no}", status_code=303)


def _problem_page(
    request: Request, db: Session, user: User, problem_no: str, error: str | None = None
) -> Response:
    scope = scope_for(user)
    p = svc.get_problem(db, scope=scope, problem_no=problem_no)
    return _page(
        request,
        "problem",
        {
            "p": p,
            "business": repo.businesses_of(db, {p.business_id})[p.business_id],
            "official": repo.officials_by_id(db, {p.official_id}).get(p.official_id)
            if p.official_id
            else None,
            "notes": svc.problem_notes(db, p.id),
            "can_edit": user.role in svc.STAFF_ROLES and user.district == p.district,
            "can_confirm": user.role == "applicant" and p.state == "resolved",
            "overdue": svc.is_overdue(p.due_on, p.state, china_date(clock(request))),
        },
        error,
    )


@router.get("/services/problems/{problem_no}")
def problem_page(request: Request, problem_no: str, db: SessionDep, user: Anyone) -> Response:
    return _problem_page(request, db, user, problem_no)


@router.post("/services/problems/{problem_no}/{action}")
async def problem_act(
    request: Request, problem_no: str, action: str, db: SessionDep, state: StateDep, user: Anyone
) -> Response:
    f = await _form(request)
    ctx = _ctx(request, state, user)
    actions: dict[str, Callable[[], Any]] = {
        "progress": lambda: svc.add_progress(
            db, **ctx, problem_no=problem_no, note=f.get("note", ""), due_on=f.get("due_on") or None
        ),
        "resolve": lambda: svc.resolve_problem(
            db, **ctx, problem_no=problem_no, resolution=f.get("resolution", "")
        ),
        "confirm": lambda: svc.confirm_resolution(
            db, **ctx, problem_no=problem_no, accept=f.get("accept") == "1", note=f.get("note")
        ),
    }
    if action not in actions:
        raise ValidationFailed(f"操作 {action!r} 不存在")
    _, error = _attempt(db, actions[action])
    if error:
        return _problem_page(request, db, user, problem_no, error)
    return RedirectResponse(f"/services/problems/{problem_no}", status_code=303)


# --- coordination ------------------------------------------------------------------------------------------


def _meetings_page(
    request: Request, db: Session, user: User, error: str | None = None, form: Any = None
) -> Response:
    scope = scope_for(user)
    tasks = svc.tasks_for(db, scope=scope)
    return _page(
        request,
        "meetings",
        {
            "rows": svc.meetings_for(db, scope=scope),
            "open_tasks": [t for t in tasks if t.state == "open"],
            "today": china_date(clock(request)),
            "can_edit": user.role in svc.STAFF_ROLES,
            "form": form or {},
        },
        error,
    )


@router.get("/services/meetings")
def meetings_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    return _meetings_page(request, db, user)


@router.post("/services/meetings")
async def meetings_create(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    m, error = _attempt(
        db,
        lambda: svc.record_meeting(
            db,
            **_ctx(request, state, user),
            title=f.get("title", ""),
            held_on=f.get("held_on", ""),
            convener=f.get("convener", ""),
            departments=_list(f, "departments"),
            decisions=str(f.get("decisions", "")).splitlines(),
        ),
    )
    if error or m is None:
        return _meetings_page(request, db, user, error, f)
    return RedirectResponse(f"/services/meetings/{m.meeting_no}", status_code=303)


def _meeting_page(
    request: Request, db: Session, user: User, meeting_no: str, error: str | None = None
) -> Response:
    scope = scope_for(user)
    m = svc.get_meeting(db, scope=scope, meeting_no=meeting_no)
    return _page(
        request,
        "meeting",
        {
            "m": m,
            "tasks": svc.tasks_for(db, scope=scope, meeting_id=m.id),
            "today": china_date(clock(request)),
            "can_edit": user.role in svc.STAFF_ROLES and user.district == m.district,
        },
        error,
    )


@router.get("/services/meetings/{meeting_no}")
def meeting_page(request: Request, meeting_no: str, db: SessionDep, user: StaffView) -> Response:
    return _meeting_page(request, db, user, meeting_no)


@router.post("/services/meetings/{meeting_no}/tasks")
async def meeting_task(
    request: Request, meeting_no: str, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff
) -> Response:
    f = await _form(request)
    _, error = _attempt(
        db,
        lambda: svc.assign_task(
            db,
            **_ctx(request, state, user),
            params=params,
            meeting_no=meeting_no,
            department=f.get("department", ""),
            owner=f.get("owner", ""),
            description=f.get("description", ""),
            due_on=f.get("due_on") or None,
        ),
    )
    if error:
        return _meeting_page(request, db, user, meeting_no, error)
    return RedirectResponse(f"/services/meetings/{meeting_no}", status_code=303)


@router.post("/services/tasks/{task_no}/done")
async def task_done(request: Request, task_no: str, db: SessionDep, state: StateDep, user: Staff) -> Response:
    f = await _form(request)
    meeting_no = str(f.get("meeting_no", ""))
    _, error = _attempt(
        db,
        lambda: svc.complete_task(db, **_ctx(request, state, user), task_no=task_no, note=f.get("note", "")),
    )
    if error:
        if meeting_no:
            return _meeting_page(request, db, user, meeting_no, error)
        return _meetings_page(request, db, user, error)
    return RedirectResponse(
        f"/services/meetings/{meeting_no}" if meeting_no else "/services/meetings", status_code=303
    )


# --- overview ----------------------------------------------------------------------------------------------


@router.get("/services/overview")
def overview_page(request: Request, db: SessionDep, user: StaffView) -> Response:
    scope = scope_for(user)
    d = _scope_district(scope)
    today = china_date(clock(request))
    return _page(
        request,
        "overview",
        {
            "districts": repo.district_summary(db, district=d, today=today),
            "officials": repo.official_summary(db, district=d, today=today),
            "is_city": user.role == "city_admin",
        },
        None,
    )
