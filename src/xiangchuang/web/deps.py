"""Request dependencies: the database session, who is asking, their scope, CSRF and rate limits.

- :data:`SessionDep`: one transaction per request, committed when the route function returns (before the
  response is sent), rolled back if it raises.
- :data:`CurrentUser`: a fully signed-in user (session cookie after password and, for staff, TOTP).
  Missing → 401 on ``/api``, a redirect to the login page elsewhere.
- :func:`require_role`: the user's role is one of those named, else 403.
- :data:`DistrictScope`: the one dependency that yields the user's data scope (own / street / district
  / city); routes filter every query through it.
- :func:`guard` runs on every request (app-wide dependency): the DB-backed rate limit for the routes that
  have one (in a short transaction of its own, before the request's transaction starts), then CSRF for
  every unsafe request — with a session cookie the session's token must come back in the ``csrf_token``
  form field or the ``X-CSRF-Token`` header; an anonymous form post (the login form, the check-up) must
  echo the ``xc_csrf`` cookie (double submit).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Depends, Request
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from xiangchuang.config import Settings
from xiangchuang.crypto import FieldCipher
from xiangchuang.db import transaction
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.errors import DomainError, Forbidden, NotFound
from xiangchuang.models import User
from xiangchuang.paramchanges.service import RecentParameters, effective_parameters
from xiangchuang.users import ratelimit
from xiangchuang.users.service import (
    ROLE_LABELS,
    ActiveSession,
    ApiPrincipal,
    SecurityPolicy,
    UserScope,
    authenticate_api_token,
    load_session,
    scope_for,
)
from xiangchuang.web.proxy import parse_trusted, real_client

SESSION_COOKIE: Final = "xc_session"
ANON_CSRF_COOKIE: Final = "xc_csrf"
CSRF_FIELD: Final = "csrf_token"
CSRF_HEADER: Final = "x-csrf-token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AppState:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    cipher: FieldCipher
    audit_key: bytes
    policy: SecurityPolicy
    limits: dict[tuple[str, str], ratelimit.Limit]  # (method, path) → limit
    params: ParameterSet
    # The rate-limit counters' engine (PostgreSQL: autocommit, a pool of its own; else ``engine``).
    counters: Engine
    recent_params: RecentParameters  # the public pages' parameters, at most a second or so old


@dataclass(frozen=True)
class Viewer:
    login: str
    display_name: str
    role: str


class LoginRequired(Exception):
    """No valid session: 401 for the API, a redirect to the login page for pages."""


class CsrfFailed(DomainError):
    status = 403


class RateLimited(DomainError):
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def get_state(request: Request) -> AppState:  # async: no thread-pool hop for a field read
    state: AppState = request.app.state.xc
    return state


StateDep = Annotated[AppState, Depends(get_state)]


CONNECTED: Final = "xc_connected"


def track_connection(sessions: sessionmaker[Session]) -> None:
    """Mark a session of ``sessions`` once it has taken a database connection (``session.info``), so a
    request that never touched the database ends without a thread-pool hop (see :func:`get_db`)."""

    @event.listens_for(sessions, "after_begin")
    def _connected(session: Session, _transaction: Any, _connection: Any) -> None:
        session.info[CONNECTED] = True


def _end(session: Session, ok: bool) -> None:
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_db(state: StateDep) -> AsyncIterator[Session]:
    """The request's session. Making it opens no connection (the first query does, in whatever thread
    runs it); at the end the transaction is committed (or rolled back if the route raised) in the thread
    pool — or, when the request never used the database (``/healthz``, an anonymous page, a public API
    call), simply closed on the event loop: no I/O, no thread-pool hop."""
    session = state.sessions()
    ok = False
    try:
        yield session
        ok = True
    except DomainError as exc:
        ok = exc.keeps_record  # (a refusal that is itself a record: committed, see DomainError)
        raise
    finally:
        if session.info.get(CONNECTED) or session.new or session.dirty or session.deleted:
            await run_in_threadpool(_end, session, ok)  # (objects added but not yet flushed: written too)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def current_params(state: StateDep, db: SessionDep) -> ParameterSet:
    """The parameters in force: the YAML files plus the city's approved (four-eyes) changes."""
    return effective_parameters(db, state.params)


ParamsDep = Annotated[ParameterSet, Depends(current_params)]


def public_params(state: StateDep, db: SessionDep) -> ParameterSet:
    """The parameters for answers that are shown and never stored (the public check-up, the programme
    pages): at most ``public_params_max_age`` seconds old, usually without a query
    (:class:`~xiangchuang.paramchanges.service.RecentParameters`)."""
    return state.recent_params.get(db, state.params)


PublicParamsDep = Annotated[ParameterSet, Depends(public_params)]


def client_address(request: Request) -> str:
    """The real client address (``X-Forwarded-For`` honoured only from trusted proxies: web/proxy.py)."""
    settings: Settings = request.app.state.xc.settings
    return real_client(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        parse_trusted(settings.trusted_proxies),
    )


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _active_session(request: Request, state: AppState, db: Session) -> ActiveSession | None:
    """The request's session (any stage), looked up once per request."""
    if hasattr(request.state, "active"):
        active: ActiveSession | None = request.state.active
        return active
    raw = request.cookies.get(SESSION_COOKIE)
    found = load_session(db, raw_id=raw, policy=state.policy, now=now_utc()) if raw else None
    request.state.active = found
    request.state.authenticated = bool(found and found.full)
    # Plain copies for rendering (an error page is drawn after the transaction has rolled back).
    request.state.csrf = found.row.csrf_token if found else None
    request.state.viewer = (
        Viewer(found.user.login, found.user.display_name, found.user.role) if found and found.full else None
    )
    return found


def optional_session(request: Request, state: StateDep, db: SessionDep) -> ActiveSession | None:
    return _active_session(request, state, db)


MaybeSession = Annotated[ActiveSession | None, Depends(optional_session)]


async def current_session(active: MaybeSession) -> ActiveSession:
    if active is None or not active.full:
        raise LoginRequired()
    return active


CurrentSession = Annotated[ActiveSession, Depends(current_session)]


async def current_user(active: CurrentSession) -> User:
    return active.user


CurrentUser = Annotated[User, Depends(current_user)]


def require_role(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets through only users with one of ``roles`` (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"您的角色（{ROLE_LABELS.get(user.role, user.role)}）无权访问此功能")
        return user

    return check


async def district_scope(user: CurrentUser) -> UserScope:
    return scope_for(user)


DistrictScope = Annotated[UserScope, Depends(district_scope)]


@dataclass(frozen=True)
class Caller:
    """Who calls the API: a signed-in user (cookie) or another agency's system (bearer token)."""

    user: User | None = None
    token: ApiPrincipal | None = None


def api_caller(request: Request, active: MaybeSession, db: SessionDep) -> Caller:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        principal = authenticate_api_token(db, token=header[7:].strip(), now=now_utc())
        if principal is None:
            raise LoginRequired()
        request.state.authenticated = True
        return Caller(token=principal)
    if active is not None and active.full:
        return Caller(user=active.user)
    raise LoginRequired()


ApiCaller = Annotated[Caller, Depends(api_caller)]


def token_scope_if_presented(scope: str) -> Callable[[Request, AppState], Awaitable[None]]:
    """For public endpoints: anyone may call; a caller that presents a bearer token must present a valid
    one that holds ``scope`` (401 / 403), so a token issued for other work is not silently accepted.
    Without a token this costs nothing (no database session, no thread-pool hop: the public check-up's
    hot path); with one, the token is checked in a short transaction of its own."""

    def lookup(state: AppState, raw: str) -> ApiPrincipal | None:
        with transaction(state.sessions) as db:
            return authenticate_api_token(db, token=raw, now=now_utc())

    async def check(request: Request, state: StateDep) -> None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("bearer "):
            return
        principal = await run_in_threadpool(lookup, state, header[7:].strip())
        if principal is None:
            raise LoginRequired()
        if scope not in principal.scopes:
            raise Forbidden(f"API 令牌没有“{scope}”权限")

    return check


# --- the app-wide guard: rate limits, then CSRF -------------------------------------------------------


def _rate_limit(state: AppState, request: Request) -> None:
    limit = state.limits.get((request.method, request.url.path))
    if limit is None:
        return
    verdict = ratelimit.count(state.counters, limit=limit, client=client_address(request), now=now_utc())
    if not verdict.allowed:
        raise RateLimited(
            f"请求过于频繁：每 {limit.seconds} 秒最多 {limit.count} 次，请 {verdict.retry_after} 秒后再试",
            verdict.retry_after,
        )


def anon_csrf_token(request: Request) -> str:
    """The double-submit token for anonymous forms (set as a cookie by the page that shows the form)."""
    token = request.cookies.get(ANON_CSRF_COOKIE)
    if not token or len(token) > 100:
        token = getattr(request.state, "new_anon_csrf", None) or secrets.token_urlsafe(32)
        request.state.new_anon_csrf = token
    return token


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


# Row ids are PostgreSQL ``integer`` columns: a larger number in a path names no row. Refused before any
# query, since the database would reject the bound value itself (an error, not "not found").
MAX_ROW_ID: Final = 2**31 - 1


def _int_path_params(dependant: Any) -> Iterator[str]:
    for param in dependant.path_params:
        if param.field_info.annotation is int:
            yield param.alias
    for sub in dependant.dependencies:
        yield from _int_path_params(sub)


def row_ids(values: Iterable[Any]) -> list[int]:
    """The row ids among form values (digits within :data:`MAX_ROW_ID`; anything else names no row)."""
    return [int(v) for v in map(str, values) if v.isdigit() and int(v) <= MAX_ROW_ID]


def check_path_ids(request: Request) -> None:
    """404 for an integer path parameter past any row id (every route, including ones added later)."""
    if not request.path_params:
        return
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    for name in _int_path_params(dependant):
        raw = str(request.path_params.get(name, ""))
        if raw.lstrip("+-").isdigit() and abs(int(raw)) > MAX_ROW_ID:
            raise NotFound("所请求的记录不存在")


async def guard(request: Request, state: StateDep, db: SessionDep) -> None:
    check_path_ids(request)
    if request.method in SAFE_METHODS:
        return
    await run_in_threadpool(_rate_limit, state, request)
    submitted = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    is_form = content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))
    if submitted is None and is_form:
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    has_cookie = SESSION_COOKIE in request.cookies
    active = await run_in_threadpool(_active_session, request, state, db) if has_cookie else None
    if active is not None:
        if not _same(submitted, active.row.csrf_token):
            raise CsrfFailed("安全校验失败（CSRF 令牌缺失或不符）：请刷新页面后重试")
        return
    # A browser form without a session (login CSRF, forged check-ups): double submit.
    if is_form and not _same(submitted, request.cookies.get(ANON_CSRF_COOKIE)):
        raise CsrfFailed("安全校验失败（表单已过期或来源不明）：请刷新页面后重试")


def csrf_for(request: Request) -> str:
    """The token a page embeds in its forms: the session's, or the anonymous double-submit one."""
    token: str | None = getattr(request.state, "csrf", None)
    return token or anon_csrf_token(request)
