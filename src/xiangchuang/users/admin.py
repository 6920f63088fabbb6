"""三员 administration: what the system, security and audit administrators may each do, and nothing more.

- 系统管理员 (sys_admin): creates accounts, disables them, resets passwords, sets district / street / bank
  code, enrols TOTP (the secret is shown once), issues and revokes API tokens — for every account except
  the 三员 themselves (otherwise a system administrator could take over the auditor's account).
- 安全管理员 (sec_admin): reads the security settings, unlocks locked accounts, disables accounts, issues
  and revokes API tokens, and resets passwords / TOTP of the 三员 accounts (never their own).
- 审计管理员 (audit_admin): reads the audit log (no personal values) and verifies the chain; changes
  nothing.

No administrator acts on their own account here. Every change is audited (``user.*``, ``api_token.*``).
Keyword-only functions over a Session; they never commit.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from xiangchuang.audit import record
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.districts import is_district
from xiangchuang.errors import Forbidden, NotFound, ValidationFailed
from xiangchuang.models import ApiToken, AuditEvent, User, UserSession
from xiangchuang.models.users import DISTRICT_ROLES
from xiangchuang.users.passwords import check_password, hash_password
from xiangchuang.users.service import (
    ROLE_LABELS,
    SecurityPolicy,
    aware,
    create_api_token,
    create_user,
    new_totp_secret,
    revoke_api_token,
    set_totp_secret,
)

THREE: Final = ("sys_admin", "sec_admin", "audit_admin")
CREATABLE_ROLES: Final = tuple(r for r in ROLE_LABELS if r not in THREE)
_BANK_CODE_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
PII_KEY_PARTS: Final = (
    "phone",
    "mobile",
    "id_no",
    "id_number",
    "idcard",
    "account",
    "bank_no",
    "name",
    "address",
)


def _actor(user: User) -> str:
    return f"user:{user.id}"


def _target(session: Session, admin: User, user_id: int) -> User:
    """The account an administrator acts on: never their own; the 三员 only by the security admin; other
    accounts by the system administrator (the security administrator may only disable and unlock them)."""
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(f"账号 {user_id} 不存在")
    if target.id == admin.id:
        raise Forbidden("三员分立：管理员不能在此修改自己的账号")
    if target.role in THREE and admin.role != "sec_admin":
        raise Forbidden("三员分立：系统/安全/审计管理员账号的凭据只能由安全管理员重置")
    if target.role not in THREE and admin.role != "sys_admin":
        raise Forbidden("三员分立：普通账号由系统管理员管理")
    return target


def _require(admin: User, *roles: str) -> None:
    if admin.role not in roles or admin.disabled:
        raise Forbidden(f"三员分立：此操作只能由{'或'.join(ROLE_LABELS[r] for r in roles)}办理")


def _check_code(code: str | None) -> str | None:
    if code is None or not code.strip():
        return None
    code = code.strip()
    if not 2 <= len(code) <= 20 or set(code) - _BANK_CODE_CHARS:
        raise ValidationFailed("银行代码：须为 2–20 位字母或数字")
    return code


def temporary_password() -> str:
    """A random one-time password that meets the password rules (the user changes it after sign-in)."""
    return f"Xc-{secrets.token_urlsafe(12)}-7k"


@dataclass(frozen=True)
class Created:
    user: User
    password: str
    totp_secret: str | None


def admin_create_user(
    session: Session,
    *,
    admin: User,
    login: str,
    display_name: str,
    role: str,
    district: int | None,
    street: str | None,
    org_name: str | None,
    org_code: str | None,
    person_id: int | None,
    business_id: int | None,
    cipher: FieldCipher,
    audit_key: bytes,
    policy: SecurityPolicy,
    now: dt.datetime,
) -> Created:
    _require(admin, "sys_admin")
    if role not in CREATABLE_ROLES:
        raise Forbidden("三员分立：系统管理员不能创建系统/安全/审计管理员账号（由部署时的命令行初始化）")
    if role == "bank" and (_check_code(org_code) is None or district is None):
        raise ValidationFailed("银行代码和区县：经办银行账号须填写本行代码和所在区县")
    if role == "guarantee_fund" and district is None:
        raise ValidationFailed("区县：担保基金账号须指定所服务的区县")
    password = temporary_password()
    secret = new_totp_secret() if role != "applicant" else None
    user = create_user(
        session,
        login=login,
        display_name=display_name,
        role=role,
        password=password,
        actor=_actor(admin),
        audit_key=audit_key,
        district=district,
        street=street or None,
        person_id=person_id,
        business_id=business_id,
        org_name=(org_name or "").strip() or None,
        totp_secret=secret,
        cipher=cipher,
        policy=policy,
        now=now,
    )
    user.org_code = _check_code(org_code)
    session.flush()
    return Created(user, password, secret)


def _end_sessions(session: Session, user_id: int) -> int:
    result = session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def reset_password(
    session: Session, *, admin: User, user_id: int, audit_key: bytes, policy: SecurityPolicy, now: dt.datetime
) -> str:
    """A new one-time password (returned once); every session of the account ends."""
    _require(admin, "sys_admin", "sec_admin")
    target = _target(session, admin, user_id)
    password = temporary_password()
    check_password(password, login=target.login, rules=policy.password)
    target.password_hash = hash_password(password, policy.argon2)
    target.password_changed_at = now
    target.failed_count = 0
    target.locked_until = None
    ended = _end_sessions(session, target.id)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=_actor(admin),
        actor_role=admin.role,
        action="user.reset_password",
        subject=f"user:{target.id}",
        details={"sessions_ended": ended},
        at=now,
    )
    return password


def enrol_totp(
    session: Session, *, admin: User, user_id: int, cipher: FieldCipher, audit_key: bytes, now: dt.datetime
) -> str:
    """A new TOTP secret (returned once, shown once); the old one stops working."""
    _require(admin, "sys_admin", "sec_admin")
    target = _target(session, admin, user_id)
    secret = new_totp_secret()
    set_totp_secret(session, user=target, secret=secret, cipher=cipher)
    _end_sessions(session, target.id)
    record(
        session,
        key=audit_key,
        actor=_actor(admin),
        actor_role=admin.role,
        action="user.totp_enrol",
        subject=f"user:{target.id}",
        at=now,
    )
    return secret


def set_area(
    session: Session,
    *,
    admin: User,
    user_id: int,
    district: int | None,
    street: str | None,
    org_code: str | None,
    audit_key: bytes,
    now: dt.datetime,
) -> User:
    _require(admin, "sys_admin")
    target = _target(session, admin, user_id)
    if district is not None and not is_district(district):
        raise ValidationFailed(f"区县：{district} 不是重庆市的区县代码")
    if target.role in DISTRICT_ROLES and district is None:
        raise ValidationFailed(f"区县：{ROLE_LABELS[target.role]}账号须指定所属区县")
    street = (street or "").strip() or None
    if street is not None and (target.role != "window_clerk" or len(street) > 60):
        raise ValidationFailed("街道：只有街道/乡镇经办账号可指定街道（不超过 60 个字符）")
    code = _check_code(org_code)
    if code is not None and target.role != "bank":
        raise ValidationFailed("银行代码：只有经办银行账号可指定")
    target.district, target.street, target.org_code = district, street, code
    _end_sessions(session, target.id)  # the new scope applies from the next sign-in
    session.flush()
    record(
        session,
        key=audit_key,
        actor=_actor(admin),
        actor_role=admin.role,
        action="user.set_area",
        subject=f"user:{target.id}",
        details={"district": district, "street_set": street is not None, "org_code": code},
        district=district,
        at=now,
    )
    return target


def unlock(session: Session, *, admin: User, user_id: int, audit_key: bytes, now: dt.datetime) -> User:
    _require(admin, "sec_admin")
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(f"账号 {user_id} 不存在")
    target.locked_until = None
    target.failed_count = 0
    target.failed_window_start = None
    session.flush()
    record(
        session,
        key=audit_key,
        actor=_actor(admin),
        actor_role=admin.role,
        action="user.unlock",
        subject=f"user:{target.id}",
        at=now,
    )
    return target


def locked_users(session: Session, now: dt.datetime) -> list[User]:
    rows = session.execute(select(User).where(User.locked_until.is_not(None)).order_by(User.id)).scalars()
    return [u for u in rows if (aware(u.locked_until) or now) > now]


def list_users(session: Session) -> list[User]:
    return list(session.execute(select(User).order_by(User.id)).scalars())


def issue_token(
    session: Session,
    *,
    admin: User,
    name: str,
    owner_org: str,
    org_name: str,
    org_code: str | None,
    district: int | None,
    scopes: list[str],
    days: int,
    audit_key: bytes,
    now: dt.datetime,
) -> tuple[str, ApiToken]:
    _require(admin, "sys_admin", "sec_admin")
    if district is None or not is_district(district):
        raise ValidationFailed("区县：API 令牌须指定机构所服务的重庆市区县")
    code = _check_code(org_code)
    if owner_org == "bank" and code is None:
        raise ValidationFailed("银行代码：经办银行的令牌须填写本行代码")
    if not 1 <= days <= 366:
        raise ValidationFailed("有效期：1–366 天")
    raw, row = create_api_token(
        session,
        name=name,
        owner_org=owner_org,
        org_name=org_name,
        scopes=scopes,
        expires_at=now + dt.timedelta(days=days),
        actor=_actor(admin),
        audit_key=audit_key,
        now=now,
    )
    row.org_code, row.district = code, district
    session.flush()
    return raw, row


def revoke_token(session: Session, *, admin: User, token_id: int, audit_key: bytes, now: dt.datetime) -> None:
    _require(admin, "sys_admin", "sec_admin")
    revoke_api_token(session, token_id=token_id, actor=_actor(admin), audit_key=audit_key, now=now)


def list_tokens(session: Session) -> list[ApiToken]:
    return list(session.execute(select(ApiToken).order_by(ApiToken.id.desc())).scalars())


# --- the audit log, for the audit administrator ---------------------------------------------------------


def _safe_details(details: dict[str, Any]) -> dict[str, Any]:
    """Details with the value of any key that could hold personal data replaced by ***."""
    out: dict[str, Any] = {}
    for k, v in (details or {}).items():
        if any(part in k.lower() for part in PII_KEY_PARTS):
            out[k] = "***"
        elif isinstance(v, dict):
            out[k] = _safe_details(v)
        elif isinstance(v, str) and len(v) > 80:
            out[k] = v[:80] + "…"
        else:
            out[k] = v
    return out


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def audit_log(
    session: Session,
    *,
    admin: User,
    page: int = 1,
    per_page: int = 50,
    action: str | None = None,
    actor: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> AuditPage:
    _require(admin, "audit_admin")
    conds: list[ColumnElement[bool]] = []
    if action:
        conds.append(AuditEvent.action.like(f"{action.strip()[:60]}%"))
    if actor:
        conds.append(AuditEvent.actor == actor.strip()[:64])
    if since:
        conds.append(AuditEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC) - dt.timedelta(hours=8))
    if until:
        conds.append(
            AuditEvent.at
            < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC) - dt.timedelta(hours=8)
        )
    total = int(session.execute(select(func.count()).select_from(AuditEvent).where(*conds)).scalar_one())
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(AuditEvent)
        .where(*conds)
        .order_by(AuditEvent.seq.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).scalars()
    out = [
        {
            "seq": r.seq,
            "at": aware(r.at),
            "actor": r.actor,
            "actor_role": r.actor_role,
            "district": r.district,
            "action": r.action,
            "subject": r.subject,
            "outcome": r.outcome,
            "details": _safe_details(r.details),
        }
        for r in rows
    ]
    return AuditPage(out, total, page, pages)


def admin_disable(session: Session, *, admin: User, user_id: int, audit_key: bytes, now: dt.datetime) -> User:
    """Disable an account (ordinary accounts: system administrator; the 三员: security administrator)."""
    from xiangchuang.users.service import disable_user

    _require(admin, "sys_admin", "sec_admin")
    target = session.get(User, user_id)
    if target is None:
        raise NotFound(f"账号 {user_id} 不存在")
    if target.id == admin.id:
        raise Forbidden("三员分立：管理员不能在此修改自己的账号")
    if target.role in THREE and admin.role != "sec_admin":
        raise Forbidden("三员分立：系统/安全/审计管理员账号只能由安全管理员停用")
    if target.role not in THREE and admin.role != "sys_admin":
        raise Forbidden("三员分立：普通账号由系统管理员管理")
    return disable_user(
        session, user_id=user_id, actor=_actor(admin), actor_role=admin.role, audit_key=audit_key, now=now
    )
