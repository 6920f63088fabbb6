"""三员 pages: 系统管理员 (accounts, roles, areas, TOTP enrolment, API tokens), 安全管理员 (security settings,
locked accounts, API tokens, the 三员's credentials) and 审计管理员 (the audit log, no personal values).
Every rule lives in :mod:`xiangchuang.users.admin`; a page for another administrator's work is 403."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from xiangchuang.engine.districts import load_districts as districts
from xiangchuang.models import User
from xiangchuang.users import admin as svc
from xiangchuang.users.service import API_SCOPES, ROLE_LABELS, totp_uri
from xiangchuang.web.deps import SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)

SysAdmin = Annotated[User, Depends(require_role("sys_admin"))]
SecAdmin = Annotated[User, Depends(require_role("sec_admin"))]
AuditAdmin = Annotated[User, Depends(require_role("audit_admin"))]
AccountAdmin = Annotated[User, Depends(require_role("sys_admin", "sec_admin"))]


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _users_page(request: Request, db: SessionDep, admin: User, **extra: object) -> Response:
    return render(
        request,
        "admin/users.html",
        {
            "users": svc.list_users(db),
            "locked": {u.id for u in svc.locked_users(db, now_utc())},
            "creatable": svc.CREATABLE_ROLES,
            "three": svc.THREE,
            "districts": districts(),
            "admin": admin,
            "shown": None,
            **extra,
        },
    )


@router.get("/admin/users")
def users_page(request: Request, db: SessionDep, admin: AccountAdmin) -> Response:
    return _users_page(request, db, admin)


@router.post("/admin/users")
def create_user(
    request: Request,
    db: SessionDep,
    state: StateDep,
    admin: SysAdmin,
    login: Annotated[str, Form(max_length=40)],
    display_name: Annotated[str, Form(max_length=60)],
    role: Annotated[str, Form(max_length=20)],
    district: Annotated[str | None, Form()] = None,
    street: Annotated[str | None, Form(max_length=60)] = None,
    org_name: Annotated[str | None, Form(max_length=80)] = None,
    org_code: Annotated[str | None, Form(max_length=20)] = None,
    person_id: Annotated[str | None, Form()] = None,
    business_id: Annotated[str | None, Form()] = None,
) -> Response:
    created = svc.admin_create_user(
        db,
        admin=admin,
        login=login,
        display_name=display_name,
        role=role,
        district=_int_or_none(district),
        street=street,
        org_name=org_name,
        org_code=org_code,
        person_id=_int_or_none(person_id),
        business_id=_int_or_none(business_id),
        cipher=state.cipher,
        audit_key=state.audit_key,
        policy=state.policy,
        now=now_utc(),
    )
    shown = {
        "login": created.user.login,
        "password": created.password,
        "secret": created.totp_secret,
        "uri": totp_uri(created.totp_secret, created.user.login) if created.totp_secret else None,
    }
    return _users_page(request, db, admin, shown=shown)


@router.post("/admin/users/{user_id}/reset-password")
def reset_password(
    user_id: int, request: Request, db: SessionDep, state: StateDep, admin: AccountAdmin
) -> Response:
    password = svc.reset_password(
        db, admin=admin, user_id=user_id, audit_key=state.audit_key, policy=state.policy, now=now_utc()
    )
    target = db.get(User, user_id)
    assert target is not None
    return _users_page(request, db, admin, shown={"login": target.login, "password": password})


@router.post("/admin/users/{user_id}/totp")
def enrol_totp(
    user_id: int, request: Request, db: SessionDep, state: StateDep, admin: AccountAdmin
) -> Response:
    secret = svc.enrol_totp(
        db, admin=admin, user_id=user_id, cipher=state.cipher, audit_key=state.audit_key, now=now_utc()
    )
    target = db.get(User, user_id)
    assert target is not None
    shown = {"login": target.login, "secret": secret, "uri": totp_uri(secret, target.login)}
    return _users_page(request, db, admin, shown=shown)


@router.post("/admin/users/{user_id}/disable")
def disable(user_id: int, db: SessionDep, state: StateDep, admin: AccountAdmin) -> Response:
    svc.admin_disable(db, admin=admin, user_id=user_id, audit_key=state.audit_key, now=now_utc())
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/area")
def set_area(
    user_id: int,
    db: SessionDep,
    state: StateDep,
    admin: SysAdmin,
    district: Annotated[str | None, Form()] = None,
    street: Annotated[str | None, Form(max_length=60)] = None,
    org_code: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    svc.set_area(
        db,
        admin=admin,
        user_id=user_id,
        district=_int_or_none(district),
        street=street,
        org_code=org_code,
        audit_key=state.audit_key,
        now=now_utc(),
    )
    return RedirectResponse("/admin/users", status_code=303)


# --- API tokens (system or security administrator) ---------------------------------------------------


def _tokens_page(request: Request, db: SessionDep, shown: dict[str, str] | None = None) -> Response:
    return render(
        request,
        "admin/tokens.html",
        {"tokens": svc.list_tokens(db), "scopes": API_SCOPES, "districts": districts(), "shown": shown},
    )


@router.get("/admin/tokens")
def tokens_page(request: Request, db: SessionDep, admin: AccountAdmin) -> Response:
    return _tokens_page(request, db)


@router.post("/admin/tokens")
async def issue_token(request: Request, db: SessionDep, state: StateDep, admin: AccountAdmin) -> Response:
    form = await request.form()
    raw, row = svc.issue_token(
        db,
        admin=admin,
        name=str(form.get("name", ""))[:80],
        owner_org=str(form.get("owner_org", "")),
        org_name=str(form.get("org_name", ""))[:80],
        org_code=str(form.get("org_code", ""))[:20] or None,
        district=_int_or_none(str(form.get("district", ""))),
        scopes=[str(s) for s in form.getlist("scopes")][:10],
        days=_int_or_none(str(form.get("days", ""))) or 0,
        audit_key=state.audit_key,
        now=now_utc(),
    )
    return _tokens_page(request, db, {"name": row.name, "token": raw})


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: int, db: SessionDep, state: StateDep, admin: AccountAdmin) -> Response:
    svc.revoke_token(db, admin=admin, token_id=token_id, audit_key=state.audit_key, now=now_utc())
    return RedirectResponse("/admin/tokens", status_code=303)


# --- security administrator ----------------------------------------------------------------------------


@router.get("/admin/security")
def security_page(request: Request, db: SessionDep, state: StateDep, admin: SecAdmin) -> Response:
    s = state.settings
    settings = [
        ("连续登录失败锁定阈值（次）", s.lockout_threshold),
        ("失败计数时间窗（分钟）", s.lockout_window_minutes),
        ("锁定时长（分钟）", s.lockout_minutes),
        ("会话空闲超时（分钟）", s.session_idle_minutes),
        ("会话绝对超时（小时）", s.session_absolute_hours),
        ("工作人员须使用动态口令（TOTP）", "是" if s.totp_for_staff else "否"),
        ("Cookie 仅经 HTTPS 发送", "是" if s.cookie_secure else "否"),
        ("登录限流（次数/秒数，每个来源地址）", s.rate_login),
        ("公开政策体检限流（次数/秒数）", s.rate_checkup),
        ("密码须含字符类别数", s.password_require_classes),
    ]
    return render(
        request,
        "admin/security.html",
        {"settings": settings, "locked": svc.locked_users(db, now_utc())},
    )


@router.post("/admin/security/unlock/{user_id}")
def unlock(user_id: int, db: SessionDep, state: StateDep, admin: SecAdmin) -> Response:
    svc.unlock(db, admin=admin, user_id=user_id, audit_key=state.audit_key, now=now_utc())
    return RedirectResponse("/admin/security", status_code=303)


# --- audit administrator -------------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_log(
    request: Request,
    db: SessionDep,
    admin: AuditAdmin,
    page: int = 1,
    action: str | None = None,
    actor: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Response:
    result = svc.audit_log(db, admin=admin, page=page, action=action, actor=actor, since=since, until=until)
    return render(
        request,
        "admin/audit.html",
        {
            "log": result,
            "filters": {"action": action or "", "actor": actor or "", "since": since, "until": until},
            "role_labels": ROLE_LABELS,
        },
    )
