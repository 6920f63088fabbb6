"""Accounts and authentication. Keyword-only functions over a Session; they never commit.

- :func:`create_user`: validated login, role, area and link; password policy; argon2id.
- :func:`authenticate`: password check with lockout — the Nth failure within the window locks the
  account for ``lockout_duration`` (the clock is the ``now`` argument, so tests control it). A locked or
  disabled account is refused even with the right password. Unknown logins cost the same time.
- :func:`start_session` issues a **new** random session id at every login step (the browser's old id is
  never promoted); only its SHA-256 is stored. :func:`load_session` enforces the idle and absolute
  timeouts and deletes expired rows; :func:`logout` and :func:`disable_user` delete rows server-side.
- :func:`verify_totp`: staff second factor; a code is accepted once (the step is stored and must grow);
  a wrong code counts as a failed login.
- API tokens (:func:`create_api_token`, :func:`authenticate_api_token`): hashed, scoped, expiring.
- Audit: ``auth.login`` (success / failure / denied), ``auth.lockout``, ``auth.logout``, ``auth.totp``,
  ``user.create``, ``user.disable``, ``api_token.create``. Details carry reason codes only — never the
  typed login name, password or code (an unknown login is recorded as subject ``user:unknown``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

import pyotp
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from xiangchuang.audit import record
from xiangchuang.chinatime import CHINA as _CHINA
from xiangchuang.config import Settings
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.districts import is_district
from xiangchuang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xiangchuang.models import ApiToken, Business, Person, User, UserSession
from xiangchuang.models.users import API_ORGS, DISTRICT_ROLES, USER_ROLES
from xiangchuang.users.passwords import (
    Argon2Params,
    PasswordRules,
    burn_time,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)

ROLE_LABELS: Final = {
    "applicant": "申请人（创业者）",
    "window_clerk": "街道/乡镇经办",
    "district_reviewer": "区县人社审核",
    "district_finance": "区县财政",
    "city_admin": "市级管理员",
    "bank": "承办银行",
    "guarantee_fund": "担保基金",
    "mentor": "创业导师",
    "sys_admin": "系统管理员",
    "sec_admin": "安全管理员",
    "audit_admin": "审计管理员",
    "training_provider": "培训机构",
    "carrier_operator": "创业载体运营方",
}
STAFF_ROLES: Final = tuple(r for r in USER_ROLES if r != "applicant")
API_SCOPES: Final = {
    "checkup": "政策体检",
    "loans:read": "读取贷款申请与还款计划",
    "loans:write": "登记放款、还款与贴息结算",
    "guarantees:write": "登记担保审核结果",
}
TOTP_FIELD: Final = "user.totp_secret"
TOTP_PERIOD: Final = 30
TOTP_ISSUER: Final = "乡创通"
_LOGIN = re.compile(r"[a-z][a-z0-9._-]{2,39}")

ScopeLevel = Literal["own", "street", "district", "city"]


@dataclass(frozen=True)
class SecurityPolicy:
    lockout_threshold: int = 5
    lockout_window: dt.timedelta = dt.timedelta(minutes=15)
    lockout_duration: dt.timedelta = dt.timedelta(minutes=15)
    idle_timeout: dt.timedelta = dt.timedelta(minutes=30)
    absolute_timeout: dt.timedelta = dt.timedelta(hours=12)
    mfa_timeout: dt.timedelta = dt.timedelta(minutes=5)
    totp_for_staff: bool = True
    argon2: Argon2Params = field(default_factory=Argon2Params)
    password: PasswordRules = field(default_factory=PasswordRules)

    @classmethod
    def from_settings(cls, s: Settings) -> SecurityPolicy:
        return cls(
            lockout_threshold=s.lockout_threshold,
            lockout_window=dt.timedelta(minutes=s.lockout_window_minutes),
            lockout_duration=dt.timedelta(minutes=s.lockout_minutes),
            idle_timeout=dt.timedelta(minutes=s.session_idle_minutes),
            absolute_timeout=dt.timedelta(hours=s.session_absolute_hours),
            totp_for_staff=s.totp_for_staff,
            argon2=Argon2Params(memory_kib=s.argon2_memory_kib, time_cost=s.argon2_time_cost),
            password=PasswordRules(require_classes=s.password_require_classes),
        )


DEFAULT_POLICY: Final = SecurityPolicy()


def _now(now: dt.datetime | None) -> dt.datetime:
    at = now if now is not None else dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return at.astimezone(dt.UTC)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands stored UTC times back naive; PostgreSQL aware."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def is_staff(user: User) -> bool:
    return user.role != "applicant"


def needs_totp(user: User, policy: SecurityPolicy = DEFAULT_POLICY) -> bool:
    return policy.totp_for_staff and is_staff(user)


# --- accounts ------------------------------------------------------------------------------------------


def check_login_name(login: str) -> str:
    login = login.strip().lower()
    if not _LOGIN.fullmatch(login):
        raise ValidationFailed(
            "登录名：须以字母开头，由 3–40 个小写字母、数字或 . _ - 组成（不要使用手机号或身份证号）"
        )
    return login


def create_user(
    session: Session,
    *,
    login: str,
    display_name: str,
    role: str,
    password: str,
    actor: str,
    audit_key: bytes,
    district: int | None = None,
    street: str | None = None,
    person_id: int | None = None,
    business_id: int | None = None,
    org_name: str | None = None,
    totp_secret: str | None = None,
    cipher: FieldCipher | None = None,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> User:
    at = _now(now)
    login = check_login_name(login)
    display_name = display_name.strip()
    if not display_name or len(display_name) > 60:
        raise ValidationFailed("显示名称：不能为空，且不超过 60 个字符")
    if role not in USER_ROLES:
        raise ValidationFailed(f"角色：{role!r} 不存在，可选 {'、'.join(USER_ROLES)}")
    if district is not None and not is_district(district):
        raise ValidationFailed(f"区县：{district} 不是重庆市的区县代码")
    if role in DISTRICT_ROLES and district is None:
        raise ValidationFailed(f"区县：{ROLE_LABELS[role]}账号须指定所属区县")
    if street is not None and (role != "window_clerk" or not street.strip() or len(street) > 60):
        raise ValidationFailed("街道：只有街道/乡镇经办账号可指定街道（不超过 60 个字符）")
    if role == "applicant":
        if person_id is None and business_id is None:
            raise ValidationFailed("关联主体：申请人账号须关联登记库中的人员或经营主体")
        if person_id is not None and session.get(Person, person_id) is None:
            raise ValidationFailed(f"关联人员：登记库中没有编号 {person_id} 的人员")
        if business_id is not None and session.get(Business, business_id) is None:
            raise ValidationFailed(f"关联经营主体：登记库中没有编号 {business_id} 的经营主体")
    elif person_id is not None or business_id is not None:
        raise ValidationFailed("关联主体：只有申请人账号关联登记库中的人员或经营主体")
    check_password(password, login=login, rules=policy.password)
    if session.execute(select(User.id).where(User.login == login)).first() is not None:
        raise Conflict(f"登录名：{login} 已被使用")
    secret_enc = None
    if totp_secret is not None:
        if cipher is None:
            raise ValueError("a cipher is needed to store a TOTP secret")
        secret_enc = cipher.encrypt(totp_secret, TOTP_FIELD)
    user = User(
        login=login,
        display_name=display_name,
        role=role,
        district=district,
        street=street.strip() if street else None,
        person_id=person_id,
        business_id=business_id,
        org_name=org_name,
        password_hash=hash_password(password, policy.argon2),
        password_changed_at=at,
        totp_secret_enc=secret_enc,
        failed_count=0,
        disabled=False,
    )
    session.add(user)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=actor,
        action="user.create",
        subject=f"user:{user.id}",
        details={"role": role, "district": district, "totp": secret_enc is not None},
        district=district,
        at=at,
    )
    return user


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, login: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_PERIOD).provisioning_uri(name=login, issuer_name=TOTP_ISSUER)


def set_totp_secret(session: Session, *, user: User, secret: str, cipher: FieldCipher) -> None:
    user.totp_secret_enc = cipher.encrypt(secret, TOTP_FIELD)
    user.totp_last_step = None
    session.flush()


def disable_user(
    session: Session,
    *,
    user_id: int,
    actor: str,
    actor_role: str,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> User:
    """Disable an account and end every session it has, server-side (系统管理员 or 安全管理员)."""
    if actor_role not in ("sys_admin", "sec_admin"):
        raise Forbidden("只有系统管理员或安全管理员可以停用账号")
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"账号 {user_id} 不存在")
    user.disabled = True
    ended = getattr(session.execute(delete(UserSession).where(UserSession.user_id == user_id)), "rowcount", 0)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=actor_role,
        action="user.disable",
        subject=f"user:{user_id}",
        details={"sessions_ended": int(ended or 0)},
        at=_now(now),
    )
    return user


# --- password step and lockout -------------------------------------------------------------------------


@dataclass(frozen=True)
class AuthResult:
    outcome: Literal["ok", "invalid", "locked", "disabled"]
    user: User | None = None
    locked_until: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    @property
    def message(self) -> str:
        if self.outcome == "ok":
            return "登录成功"
        if self.outcome == "locked":
            until = self.locked_until.astimezone(_CHINA).strftime("%H:%M") if self.locked_until else ""
            return f"登录失败次数过多，账号已临时锁定{f'至 {until}（北京时间）' if until else ''}，请稍后再试"
        if self.outcome == "disabled":
            return "账号已停用，请联系系统管理员"
        return "登录名或密码错误"


def _audit_login(
    session: Session,
    *,
    audit_key: bytes,
    user: User | None,
    outcome: str,
    reason: str,
    at: dt.datetime,
    action: str = "auth.login",
) -> None:
    record(
        session,
        key=audit_key,
        actor=user.login if user else "anonymous",
        actor_role=user.role if user else None,
        district=user.district if user else None,
        action=action,
        subject=f"user:{user.id}" if user else "user:unknown",
        outcome=outcome,
        details={"reason": reason},
        at=at,
    )


def _is_locked(user: User, at: dt.datetime) -> bool:
    until = aware(user.locked_until)
    return until is not None and at < until


def register_failure(
    session: Session, *, user: User, audit_key: bytes, policy: SecurityPolicy, at: dt.datetime, reason: str
) -> AuthResult:
    """Count one failed login (password or TOTP); the Nth failure within the window locks the account."""
    start = aware(user.failed_window_start)
    if start is None or at - start >= policy.lockout_window:
        user.failed_window_start = at
        user.failed_count = 1
    else:
        user.failed_count = user.failed_count + 1
    _audit_login(session, audit_key=audit_key, user=user, outcome="failure", reason=reason, at=at)
    if user.failed_count >= policy.lockout_threshold:
        user.locked_until = at + policy.lockout_duration
        user.failed_count = 0
        user.failed_window_start = None
        session.flush()
        record(
            session,
            key=audit_key,
            actor=user.login,
            actor_role=user.role,
            district=user.district,
            action="auth.lockout",
            subject=f"user:{user.id}",
            outcome="denied",
            details={"failures": policy.lockout_threshold, "minutes": policy.lockout_duration.seconds // 60},
            at=at,
        )
        return AuthResult("locked", user, aware(user.locked_until))
    session.flush()
    return AuthResult("invalid", user)


def _find_user(session: Session, login: str) -> User | None:
    login = login.strip().lower()
    if not _LOGIN.fullmatch(login):
        return None
    return session.execute(select(User).where(User.login == login)).scalar_one_or_none()


def authenticate(
    session: Session,
    *,
    login: str,
    password: str,
    audit_key: bytes,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> AuthResult:
    """Check a login name and password. Writes counters and audit rows; the caller commits either way."""
    at = _now(now)
    user = _find_user(session, login)
    if user is None:
        burn_time(password, policy.argon2)
        _audit_login(
            session, audit_key=audit_key, user=None, outcome="failure", reason="unknown_login", at=at
        )
        return AuthResult("invalid")
    if user.disabled:
        burn_time(password, policy.argon2)
        _audit_login(session, audit_key=audit_key, user=user, outcome="denied", reason="disabled", at=at)
        return AuthResult("disabled", user)
    if _is_locked(user, at):
        burn_time(password, policy.argon2)
        _audit_login(session, audit_key=audit_key, user=user, outcome="denied", reason="locked", at=at)
        return AuthResult("locked", user, aware(user.locked_until))
    if not verify_password(user.password_hash, password, policy.argon2):
        return register_failure(
            session, user=user, audit_key=audit_key, policy=policy, at=at, reason="bad_password"
        )
    if needs_rehash(user.password_hash, policy.argon2):
        user.password_hash = hash_password(password, policy.argon2)
    user.failed_count = 0
    user.failed_window_start = None
    user.locked_until = None
    session.flush()
    if not needs_totp(user, policy):
        _audit_login(session, audit_key=audit_key, user=user, outcome="success", reason="password", at=at)
    return AuthResult("ok", user)


# --- sessions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartedSession:
    raw_id: str  # goes into the cookie; never stored
    row: UserSession


@dataclass(frozen=True)
class ActiveSession:
    user: User
    row: UserSession

    @property
    def full(self) -> bool:
        return self.row.stage == "full"


def start_session(
    session: Session,
    *,
    user: User,
    stage: Literal["mfa", "full"],
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> StartedSession:
    """A new session with a fresh random id (256 bits) and CSRF token."""
    at = _now(now)
    raw = secrets.token_urlsafe(32)
    lifetime = policy.mfa_timeout if stage == "mfa" else policy.absolute_timeout
    row = UserSession(
        id_hash=token_hash(raw),
        user_id=user.id,
        stage=stage,
        csrf_token=secrets.token_urlsafe(32),
        created_at=at,
        last_seen_at=at,
        expires_at=at + lifetime,
    )
    session.add(row)
    session.flush()
    return StartedSession(raw, row)


def load_session(
    session: Session,
    *,
    raw_id: str,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
    touch_every: dt.timedelta = dt.timedelta(seconds=60),
) -> ActiveSession | None:
    """The live session for a cookie value, or None (unknown, idle, past its absolute expiry, or the account
    disabled or locked — expired rows are deleted)."""
    at = _now(now)
    if not raw_id or len(raw_id) > 200:
        return None
    row = session.execute(
        select(UserSession).where(UserSession.id_hash == token_hash(raw_id))
    ).scalar_one_or_none()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    last_seen, expires = aware(row.last_seen_at), aware(row.expires_at)
    assert last_seen is not None and expires is not None
    idle = policy.mfa_timeout if row.stage == "mfa" else policy.idle_timeout
    if user is None or user.disabled or at >= expires or at - last_seen >= idle or _is_locked(user, at):
        session.execute(delete(UserSession).where(UserSession.id == row.id))
        return None
    if at - last_seen >= touch_every:
        row.last_seen_at = at
        session.flush()
    return ActiveSession(user, row)


def logout(
    session: Session, *, active: ActiveSession, audit_key: bytes, now: dt.datetime | None = None
) -> None:
    """End the session server-side (the cookie alone is worthless afterwards)."""
    at = _now(now)
    session.execute(delete(UserSession).where(UserSession.id == active.row.id))
    record(
        session,
        key=audit_key,
        actor=active.user.login,
        actor_role=active.user.role,
        district=active.user.district,
        action="auth.logout",
        subject=f"user:{active.user.id}",
        at=at,
    )


def complete_login(
    session: Session,
    *,
    active: ActiveSession,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> StartedSession:
    """Replace a pre-TOTP session by a full one with a new id (session fixation)."""
    session.execute(delete(UserSession).where(UserSession.id == active.row.id))
    return start_session(session, user=active.user, stage="full", policy=policy, now=now)


# --- TOTP ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpResult:
    ok: bool
    auth: AuthResult | None = None  # on failure: invalid or locked
    reason: str = ""


def _matching_step(secret: str, code: str, at: dt.datetime, window: int = 1) -> int | None:
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_PERIOD)
    now_step = int(at.timestamp()) // TOTP_PERIOD
    for step in range(now_step - window, now_step + window + 1):
        if hmac.compare_digest(totp.at(step * TOTP_PERIOD), code):
            return step
    return None


def verify_totp(
    session: Session,
    *,
    active: ActiveSession,
    code: str,
    cipher: FieldCipher,
    audit_key: bytes,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> TotpResult:
    """Check a staff member's code. Each code works once: the accepted step is stored and must grow (an
    ``UPDATE … WHERE totp_last_step < step`` so two concurrent uses cannot both pass)."""
    at = _now(now)
    user = active.user
    if user.totp_secret_enc is None:
        return TotpResult(False, reason="not_enrolled")
    if _is_locked(user, at):
        _audit_login(session, audit_key=audit_key, user=user, outcome="denied", reason="locked", at=at)
        return TotpResult(False, AuthResult("locked", user, aware(user.locked_until)), "locked")
    secret = cipher.decrypt(user.totp_secret_enc, TOTP_FIELD)
    step = _matching_step(secret, code, at)
    accepted = False
    if step is not None:
        res = session.execute(
            update(User)
            .where(User.id == user.id)
            .where((User.totp_last_step.is_(None)) | (User.totp_last_step < step))
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        accepted = getattr(res, "rowcount", 0) == 1
        if accepted:
            session.refresh(user)
    if not accepted:
        reason = "totp_reused" if step is not None else "bad_totp"
        auth = register_failure(session, user=user, audit_key=audit_key, policy=policy, at=at, reason=reason)
        return TotpResult(False, auth, reason)
    _audit_login(session, audit_key=audit_key, user=user, outcome="success", reason="totp", at=at)
    return TotpResult(True)


# --- API tokens ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiPrincipal:
    token_id: int
    name: str
    owner_org: str
    org_name: str
    scopes: frozenset[str]

    @property
    def actor(self) -> str:
        return f"api_token:{self.token_id}"


def create_api_token(
    session: Session,
    *,
    name: str,
    owner_org: str,
    org_name: str,
    scopes: Iterable[str],
    expires_at: dt.datetime,
    actor: str,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> tuple[str, ApiToken]:
    """A new token for a bank's or the guarantee fund's system. The plaintext is returned once."""
    at = _now(now)
    if owner_org not in API_ORGS:
        raise ValidationFailed(f"所属机构类型：须为 {'、'.join(API_ORGS)} 之一")
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in API_SCOPES]
    if unknown or not wanted:
        raise ValidationFailed(f"权限范围：须为 {'、'.join(API_SCOPES)} 中的一项或多项")
    if aware(expires_at) is None or _now(expires_at) <= at:
        raise ValidationFailed("有效期：须晚于当前时间")
    if not name.strip() or not org_name.strip():
        raise ValidationFailed("令牌名称和机构名称：不能为空")
    raw = "xct_" + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_hash(raw),
        prefix=raw[:12],
        name=name.strip()[:80],
        owner_org=owner_org,
        org_name=org_name.strip()[:80],
        scopes=wanted,
        created_by=actor,
        created_at=at,
        expires_at=_now(expires_at),
    )
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        actor=actor,
        action="api_token.create",
        subject=f"api_token:{row.id}",
        details={"owner_org": owner_org, "scopes": wanted},
        at=at,
    )
    return raw, row


def authenticate_api_token(
    session: Session, *, token: str, now: dt.datetime | None = None
) -> ApiPrincipal | None:
    at = _now(now)
    if not token.startswith("xct_") or len(token) > 200:
        return None
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    expires = aware(row.expires_at)
    if expires is None or at >= expires:
        return None
    last = aware(row.last_used_at)
    if last is None or at - last >= dt.timedelta(minutes=1):
        row.last_used_at = at
        session.flush()
    return ApiPrincipal(row.id, row.name, row.owner_org, row.org_name, frozenset(row.scopes))


def revoke_api_token(
    session: Session, *, token_id: int, actor: str, audit_key: bytes, now: dt.datetime | None = None
) -> None:
    at = _now(now)
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"API 令牌 {token_id} 不存在")
    row.revoked_at = at
    session.flush()
    record(
        session, key=audit_key, actor=actor, action="api_token.revoke", subject=f"api_token:{token_id}", at=at
    )


# --- data scope ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserScope:
    """What a user may see: their own records, a street, a district or the whole city.

    - ``own``: applicants (their linked person / business), mentors (their assignments), banks and the
      guarantee fund (their own organisation's loans), and the system and security administrators, who
      see no business records at all.
    - ``street``: a 街道/乡镇 clerk with a street; ``district``: district staff (a clerk without a street
      works for the whole district); ``city``: the city office and the audit administrator.
    """

    level: ScopeLevel
    user_id: int
    login: str
    role: str
    district: int | None = None
    street: str | None = None
    person_id: int | None = None
    business_id: int | None = None
    org_name: str | None = None

    def covers_district(self, district: int) -> bool:
        if self.level == "city":
            return True
        if self.level in ("district", "street"):
            return self.district == district
        return False


def scope_for(user: User) -> UserScope:
    base = {
        "user_id": user.id,
        "login": user.login,
        "role": user.role,
        "district": user.district,
        "street": user.street,
        "person_id": user.person_id,
        "business_id": user.business_id,
        "org_name": user.org_name,
    }
    if user.role in ("city_admin", "audit_admin"):
        return UserScope(level="city", **base)  # type: ignore[arg-type]
    if user.role == "window_clerk" and user.street:
        return UserScope(level="street", **base)  # type: ignore[arg-type]
    if user.role in DISTRICT_ROLES:
        return UserScope(level="district", **base)  # type: ignore[arg-type]
    return UserScope(level="own", **base)  # type: ignore[arg-type]
