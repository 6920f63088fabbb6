"""HTML pages: home, 政策体检 (a three-step questionnaire and its result), the program pages, sign-in
(password, then TOTP for staff), sign-out, and the signed-in user's page. Routes only call services."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from xiangchuang.audit import verification
from xiangchuang.checkup import catalogue, questionnaire
from xiangchuang.checkup.service import PUBLIC_STATUS, china_today, run_checkup
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.errors import NotFound, ValidationFailed
from xiangchuang.models import Business, User
from xiangchuang.users import service as users
from xiangchuang.web.deps import (
    SESSION_COOKIE,
    CurrentSession,
    DistrictScope,
    MaybeSession,
    PublicParamsDep,
    SessionDep,
    StateDep,
    now_utc,
    require_role,
)
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)


def _set_session_cookie(response: Response, raw: str, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, raw, httponly=True, samesite="lax", secure=secure, path="/")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target[:200]
    return "/me"


@router.get("/")
def home(request: Request, active: MaybeSession, params: PublicParamsDep) -> Response:
    return render(request, "home.html", {"programs": catalogue.catalogue(params, china_today())})


# --- 政策体检 ------------------------------------------------------------------------------------------


def _checkup_page(request: Request, step: int, answers: dict[str, Any], error: str | None = None) -> Response:
    return render(
        request,
        "checkup.html",
        {
            "step": step,
            "steps": questionnaire.STEPS,
            "answers": answers,
            "error": error,
            "q": questionnaire,
            "districts": questionnaire.districts(),
            "groups": questionnaire.groups(),
            "today": china_today().isoformat(),
            "last_year": china_today().year - 1,
        },
        status=422 if error else 200,
    )


@router.get("/checkup")
def checkup_start(request: Request, active: MaybeSession) -> Response:
    return _checkup_page(request, 1, {})


@router.post("/checkup")
async def checkup_step(request: Request, active: MaybeSession, params: PublicParamsDep) -> Response:
    form = await request.form()
    answers = questionnaire.answers_from_form(form)
    step = int(str(form.get("step", "1"))) if str(form.get("step", "1")).isdigit() else 1
    step = min(max(step, 1), len(questionnaire.STEPS))
    action = str(form.get("action", "next"))
    today = china_today()
    try:
        case = questionnaire.build_case(answers, today)  # validates everything answered so far
    except ValidationFailed as exc:
        return _checkup_page(request, step, answers, exc.message)
    if action == "back":
        return _checkup_page(request, max(step - 1, 1), answers)
    if action == "next" and step < len(questionnaire.STEPS):
        return _checkup_page(request, step + 1, answers)
    doc = run_checkup(case, params=params, on=today)
    return render(
        request,
        "checkup_result.html",
        {"doc": doc, "answers": answers, "public_status": PUBLIC_STATUS, "q": questionnaire},
    )


# --- programs -----------------------------------------------------------------------------------------


@router.get("/programs")
def programs(request: Request, active: MaybeSession, params: PublicParamsDep) -> Response:
    return render(request, "programs.html", {"programs": catalogue.catalogue(params, china_today())})


@router.get("/programs/{program_id}")
def program(program_id: str, request: Request, active: MaybeSession, params: PublicParamsDep) -> Response:
    entry = catalogue.program(program_id, params, china_today())
    if entry is None:
        raise NotFound(f"项目 {program_id} 不存在")
    return render(request, "program.html", {"p": entry})


# --- sign-in / sign-out -------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, active: MaybeSession, next: str | None = None) -> Response:
    if active is not None and active.full:
        return RedirectResponse(_safe_next(next), status_code=303)
    if active is not None and active.row.stage == "mfa":
        return RedirectResponse("/login/totp", status_code=303)
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    state: StateDep,
    active: MaybeSession,
    login: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    at = now_utc()
    if active is not None:  # a new session id at every sign-in: drop the old one
        db.delete(active.row)
        request.state.active = request.state.csrf = request.state.viewer = None
    result = users.authenticate(
        db, login=login, password=password, audit_key=state.audit_key, policy=state.policy, now=at
    )
    if not result.ok or result.user is None:
        return render(
            request,
            "login.html",
            {"next": _safe_next(next), "error": result.message, "login": login[:40]},
            status=423 if result.outcome == "locked" else 401,
        )
    user = result.user
    if users.needs_totp(user, state.policy):
        if user.totp_secret_enc is None:
            return render(
                request,
                "login.html",
                {
                    "next": "/me",
                    "error": "工作人员账号须绑定动态口令（TOTP），请联系安全管理员",
                    "login": login[:40],
                },
                status=403,
            )
        started = users.start_session(db, user=user, stage="mfa", policy=state.policy, now=at)
        response = RedirectResponse(f"/login/totp?next={_safe_next(next)}", status_code=303)
    else:
        started = users.start_session(db, user=user, stage="full", policy=state.policy, now=at)
        response = RedirectResponse(_safe_next(next), status_code=303)
    _set_session_cookie(response, started.raw_id, state.settings.cookie_secure)
    return response


@router.get("/login/totp")
def totp_page(request: Request, active: MaybeSession, next: str | None = None) -> Response:
    if active is None or active.row.stage != "mfa":
        return RedirectResponse("/login", status_code=303)
    return render(request, "totp.html", {"next": _safe_next(next), "error": None})


@router.post("/login/totp")
def totp(
    request: Request,
    db: SessionDep,
    state: StateDep,
    active: MaybeSession,
    code: Annotated[str, Form(max_length=20)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    if active is None or active.row.stage != "mfa":
        return RedirectResponse("/login", status_code=303)
    at = now_utc()
    result = users.verify_totp(
        db,
        active=active,
        code=code,
        cipher=state.cipher,
        audit_key=state.audit_key,
        policy=state.policy,
        now=at,
    )
    if not result.ok:
        if result.auth is not None and result.auth.outcome == "locked":
            db.delete(active.row)
            response = render(
                request, "login.html", {"next": "/me", "error": result.auth.message}, status=423
            )
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response
        return render(
            request,
            "totp.html",
            {"next": _safe_next(next), "error": "动态口令错误或已使用过，请输入新的动态口令"},
            status=401,
        )
    started = users.complete_login(db, active=active, policy=state.policy, now=at)
    done = RedirectResponse(_safe_next(next), status_code=303)
    _set_session_cookie(done, started.raw_id, state.settings.cookie_secure)
    return done


@router.post("/logout")
def logout(request: Request, db: SessionDep, state: StateDep, active: CurrentSession) -> Response:
    users.logout(db, active=active, audit_key=state.audit_key, now=now_utc())
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- signed in ----------------------------------------------------------------------------------------


@router.get("/me")
def me(request: Request, active: CurrentSession, scope: DistrictScope, db: SessionDep) -> Response:
    """The signed-in user's page: who they are, their data scope and the registry within it."""
    stmt = select(func.count()).select_from(Business)
    if scope.level in ("district", "street"):
        stmt = stmt.where(Business.district == scope.district)
    elif scope.level == "own":
        stmt = stmt.where(Business.id == (scope.business_id if scope.business_id is not None else -1))
    businesses = db.execute(stmt).scalar_one()
    district = (
        district_by_code(scope.district).name
        if scope.district is not None and is_district(scope.district)
        else None
    )
    return render(
        request,
        "me.html",
        {"scope": scope, "district_name": district, "businesses": businesses, "scope_labels": SCOPE_LABELS},
    )


@router.get("/audit")
def audit_page(
    request: Request,
    state: StateDep,
    db: SessionDep,
    user: Annotated[User, Depends(require_role("audit_admin"))],
) -> Response:
    """审计管理员: verify the audit hash chain (the result names the first broken record)."""
    result = verification(db, state.audit_key)
    return render(request, "audit.html", {"result": result})


SCOPE_LABELS = {"own": "本人/本机构", "street": "本街道/乡镇", "district": "本区县", "city": "全市"}
