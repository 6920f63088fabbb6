"""JSON API v1 for the 三员: accounts (system / security administrator; never a hash or a secret) and the
audit log (audit administrator; personal values masked)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from xiangchuang.models import User
from xiangchuang.users import admin as svc
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import SessionDep, now_utc, require_role

# Every signed-in API answer may be one of the Chinese error bodies (web/app.py handlers).
router = APIRouter(
    prefix="/api/v1/admin", tags=["三员管理"], responses=error_responses(401, 403, 404, 409, 422, 503)
)
AccountAdmin = Annotated[User, Depends(require_role("sys_admin", "sec_admin"))]
AuditAdmin = Annotated[User, Depends(require_role("audit_admin"))]


class Account(BaseModel):
    id: int
    login: str
    display_name: str
    role: str
    district: int | None
    street: str | None
    org_name: str | None
    org_code: str | None
    disabled: bool
    locked: bool
    totp_enrolled: bool


class AuditEventOut(BaseModel):
    seq: int
    at: dt.datetime
    actor: str
    actor_role: str | None
    district: int | None
    action: str
    subject: str
    outcome: str
    details: dict[str, Any]


class AuditEvents(BaseModel):
    total: int
    page: int
    pages: int
    events: list[AuditEventOut]


@router.get("/users", response_model=list[Account], summary="账号列表（系统管理员、安全管理员）")
def users(db: SessionDep, admin: AccountAdmin) -> list[Account]:
    locked = {u.id for u in svc.locked_users(db, now_utc())}
    return [
        Account(
            id=u.id,
            login=u.login,
            display_name=u.display_name,
            role=u.role,
            district=u.district,
            street=u.street,
            org_name=u.org_name,
            org_code=u.org_code,
            disabled=u.disabled,
            locked=u.id in locked,
            totp_enrolled=u.totp_secret_enc is not None,
        )
        for u in svc.list_users(db)
    ]


@router.get(
    "/audit-events", response_model=AuditEvents, summary="审计日志（审计管理员；个人信息以 *** 代替）"
)
def audit_events(
    db: SessionDep,
    admin: AuditAdmin,
    page: int = 1,
    action: str | None = None,
    actor: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> AuditEvents:
    log = svc.audit_log(db, admin=admin, page=page, action=action, actor=actor, since=since, until=until)
    return AuditEvents(
        total=log.total, page=log.page, pages=log.pages, events=[AuditEventOut(**r) for r in log.rows]
    )
