"""The application factory: :func:`create_app` (settings in, app out; the engine is made here, not at import).

Also here: the security-header / no-store / access-log middleware (pure ASGI), and the one set of exception
handlers — a :class:`~xiangchuang.errors.DomainError` becomes Chinese JSON under ``/api`` and a Chinese HTML
page elsewhere; an unreachable database becomes 503 with a Chinese message and no stack trace.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Final

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiangchuang import __version__
from xiangchuang.audit import audit_key
from xiangchuang.config import Settings, get_settings
from xiangchuang.crypto import FieldCipher, KeyRing
from xiangchuang.db import make_counter_engine, make_engine, make_sessionmaker
from xiangchuang.engine.memory import freeze_startup_heap
from xiangchuang.engine.parameters import ParameterError, load_parameters
from xiangchuang.errors import DomainError
from xiangchuang.paramchanges.service import RecentParameters
from xiangchuang.users.ratelimit import Limit
from xiangchuang.users.service import SecurityPolicy
from xiangchuang.web import (
    api,
    api_admin,
    api_applications,
    api_carriers,
    api_city,
    api_community,
    api_jobs,
    api_loans,
    api_mentors,
    api_outreach,
    api_services,
    api_stats,
    api_training,
    health,
    pages,
    pages_admin,
    pages_applicant,
    pages_carriers,
    pages_city,
    pages_community,
    pages_contact,
    pages_jobs,
    pages_loans,
    pages_mentors,
    pages_outreach,
    pages_registry,
    pages_services,
    pages_staff,
    pages_stats,
    pages_training,
)
from xiangchuang.web.deps import AppState, LoginRequired, RateLimited, guard, is_api, track_connection
from xiangchuang.web.idempotency import IdempotencyMiddleware
from xiangchuang.web.inflight import InFlightLimit, pool_capacity
from xiangchuang.web.logs import logger
from xiangchuang.web.proxy import parse_trusted
from xiangchuang.web.render import render

SECURITY_HEADERS: Final = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"cross-origin-opener-policy", b"same-origin"),
)
DOCS_HEADERS: Final = tuple(
    (k, v.replace(b"style-src 'self'", b"style-src 'self' 'unsafe-inline'")) for k, v in SECURITY_HEADERS
)
DB_DOWN: Final = "数据库暂时无法访问，请稍后再试（系统已记录，无需重复提交）"
PARAMETERS_BROKEN: Final = "政策参数配置有误，暂时无法评估，请联系市级管理员更正（系统已记录）"
# Connections per worker process (PostgreSQL): 20 at most, so two workers stay well inside the server's
# default max_connections (100) beside the command-line jobs; also the bound on requests in flight.
POOL_SIZE: Final = 10
POOL_OVERFLOW: Final = 10
# The rate-limit counters' own pool: each request holds a connection for one statement, so a few stay open;
# bursts may open more, up to the requests in flight (never a wait for a counter connection).
COUNTER_POOL_SIZE: Final = 5


class SecurityMiddleware:
    """Adds the security headers to every response, ``Cache-Control: no-store`` to everything but static
    files (so no authenticated or personal page is ever cached), HSTS when cookies are Secure, a request
    id, and one JSON access-log line (route path only: never the query string, body or client)."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        static = scope["path"].startswith("/static/")
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.extend(DOCS_HEADERS if scope["path"] == "/docs" else SECURITY_HEADERS)
                headers.append(
                    (b"cache-control", b"public, max-age=3600" if static else b"no-store, max-age=0")
                )
                if not static:
                    headers.append((b"pragma", b"no-cache"))
                headers.append((b"x-request-id", request_id.encode()))
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            logger().info(
                "request",
                extra={
                    "event": "request",
                    "method": scope.get("method"),
                    "path": getattr(route, "path", None) or ("/static" if static else "(unmatched)"),
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "request_id": request_id,
                },
            )


def _error(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    if is_api(request) or request.url.path in ("/healthz", "/readyz"):
        return JSONResponse({"detail": message, "status": status}, status_code=status, headers=headers)
    return render(
        request, "error.html", {"message": message, "status": status}, status=status, headers=headers
    )


def _install_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
        return _error(request, exc.status, exc.message, headers)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if is_api(request):
            return JSONResponse(
                {"detail": "未登录或登录已过期：请先登录，或提供有效的 API 令牌", "status": 401},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path if request.method == "GET" else "/"
        response = RedirectResponse(f"/login?next={target}", status_code=303)
        response.delete_cookie("xc_session", path="/")
        return response

    @app.exception_handler(OperationalError)
    @app.exception_handler(DBAPIError)
    async def database_down(request: Request, exc: Exception) -> Response:
        logger().error("database error", extra={"event": "db_error", "error": type(exc).__name__})
        return _error(request, 503, DB_DOWN, {"Retry-After": "10"})

    @app.exception_handler(ParameterError)
    async def parameter_error(request: Request, exc: ParameterError) -> Response:
        # Parameters that are not consistent (e.g. a change approved before the check, README choice 81):
        # the engine's Chinese error, naming the parameter and the rule, not 「系统内部错误」.
        logger().error("parameter error", extra={"event": "parameter_error", "error": str(exc)})
        return _error(request, 503, f"{PARAMETERS_BROKEN}：{exc}")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = []
        for e in exc.errors()[:10]:
            where = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
            problems.append({"field": where, "rule": _zh_rule(e)})
        message = "；".join(f"{p['field'] or '请求'}：{p['rule']}" for p in problems)
        if is_api(request):
            return JSONResponse({"detail": message, "status": 422, "errors": problems}, status_code=422)
        return _error(request, 422, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400 and is_api(request):
            # FastAPI's "error parsing the body" (e.g. bytes that are not UTF-8): a malformed request like any
            # other, answered with the documented 422 body
            message = "请求体不是有效的 JSON（须为 UTF-8 编码）"
            problems = [{"field": "", "rule": message}]
            return JSONResponse({"detail": message, "status": 422, "errors": problems}, status_code=422)
            # A body the framework cannot even decode (not UTF-8, broken multipart): a malformed request,
            # answered like every other malformed API request (documented 422), not an undocumented 400.
            return _error(request, 422, "请求体无法解析：须为 UTF-8 编码的 JSON 或表单")
        message = {404: "页面不存在", 405: "不支持该请求方法"}.get(exc.status_code, "请求无法处理")
        return _error(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        frames = traceback.extract_tb(exc.__traceback__)[-3:]
        logger().error(
            "unhandled error",
            extra={
                "event": "unhandled",
                "error": type(exc).__name__,
                "where": [f"{Path(f.filename).name}:{f.lineno}:{f.name}" for f in frames],
            },
        )
        return _error(request, 500, "系统内部错误，请稍后再试（已记录）")


def _zh_rule(e: dict[str, Any]) -> str:
    kind = str(e.get("type", ""))
    return {
        "missing": "必填",
        "json_invalid": "不是有效的 JSON",
        "dict_type": "须为对象",
        "string_type": "须为文本",
        "int_parsing": "须为整数",
        "int_type": "须为整数",
        "bool_parsing": "须为是或否",
        "date_from_datetime_parsing": "须为日期 YYYY-MM-DD",
        "date_parsing": "须为日期 YYYY-MM-DD",
        "extra_forbidden": "不允许的字段",
        "greater_than_equal": "数值过小",
        "less_than_equal": "数值过大",
        "string_too_long": "过长",
        "literal_error": "取值不在允许范围内",
        "enum": "取值不在允许范围内",
    }.get(kind, "格式不正确")


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    """Build the app for ``settings`` (default: the environment). Opens no connection until a request.
    ``engine`` lets a caller (a test) supply the database engine instead of the settings' URL."""
    s = settings or get_settings()
    parse_trusted(s.trusted_proxies)  # a bad XIANGCHUANG_TRUSTED_PROXIES fails at start, in Chinese
    ring = KeyRing.load(s.keyring, s.resolved_keyring_file)
    own_engine = engine is None
    url = s.resolved_database_url
    pool = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW} if url.startswith("postgresql") else {}
    engine = engine or make_engine(url, hide_parameters=True, **pool)
    # Rate-limit counting on PostgreSQL: one autocommit statement on a pool of its own (db.make_counter_engine).
    counters = (
        make_counter_engine(
            url,
            hide_parameters=True,
            pool_size=COUNTER_POOL_SIZE,
            max_overflow=POOL_SIZE + POOL_OVERFLOW - COUNTER_POOL_SIZE,
        )
        if own_engine and pool
        else engine
    )
    limits = {
        ("POST", "/login"): Limit.parse("login", s.rate_login),
        ("POST", "/login/totp"): Limit.parse("login", s.rate_login),
        ("POST", "/checkup"): Limit.parse("checkup", s.rate_checkup),
        ("POST", "/api/v1/checkup"): Limit.parse("checkup", s.rate_checkup),
    }
    sessions = make_sessionmaker(engine)
    track_connection(sessions)
    state = AppState(
        settings=s,
        engine=engine,
        sessions=sessions,
        cipher=FieldCipher(ring),
        audit_key=audit_key(ring),
        policy=SecurityPolicy.from_settings(s),
        limits=limits,
        params=load_parameters(),
        counters=counters,
        recent_params=RecentParameters(s.public_params_max_age),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if own_engine:
            engine.dispose()
            counters.dispose()

    app = FastAPI(
        title="乡创通 API",
        description="渝人社发〔2020〕74号 返乡入乡创业政策：政策体检、项目说明。金额单位为分（整数）。",
        version=__version__,
        lifespan=lifespan,
        dependencies=[Depends(guard)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.xc = state
    _install_handlers(app)
    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(api_loans.router)
    app.include_router(api_city.router)
    app.include_router(api_admin.router)
    app.include_router(pages.router)
    app.include_router(pages_applicant.router)
    app.include_router(pages_staff.router)
    app.include_router(pages_registry.router)
    app.include_router(api_applications.router)
    app.include_router(pages_city.router)
    app.include_router(pages_admin.router)
    app.include_router(pages_loans.router)
    app.include_router(api_carriers.router)
    app.include_router(pages_carriers.router)
    app.include_router(pages_contact.router)
    app.include_router(api_training.public)
    app.include_router(api_training.router)
    app.include_router(pages_training.router)
    app.include_router(api_outreach.router)
    app.include_router(pages_outreach.router)
    app.include_router(api_services.router)
    app.include_router(pages_services.router)
    app.include_router(api_community.router)
    app.include_router(api_community.public_router)
    app.include_router(pages_community.router)
    app.include_router(api_jobs.router)
    app.include_router(pages_jobs.router)
    app.include_router(pages_mentors.router)
    app.include_router(api_mentors.router)
    app.include_router(pages_stats.router)
    app.include_router(api_stats.router)
    import swagger_ui_bundle

    @app.get("/docs", include_in_schema=False)
    def docs(request: Request) -> Response:
        """Swagger UI served from the vendored package (no CDN; no inline script)."""
        return render(request, "docs.html")

    static = resources.files("xiangchuang.web").joinpath("static")
    app.mount(
        "/static/swagger", StaticFiles(directory=str(swagger_ui_bundle.swagger_ui_path)), name="swagger"
    )
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.add_middleware(IdempotencyMiddleware)  # inside the security middleware: replays get its headers
    app.add_middleware(InFlightLimit, slots=pool_capacity(engine))  # web/inflight.py: no pool deadlock
    app.add_middleware(SecurityMiddleware, hsts=s.cookie_secure)
    logging.getLogger("xiangchuang.web").setLevel(logging.INFO)
    return app


def app_from_environment() -> FastAPI:
    """The uvicorn factory (``xiangchuang serve``): settings from XIANGCHUANG_* variables."""
    from xiangchuang.web.logs import configure_logging

    configure_logging()
    app = create_app(get_settings())
    # What startup built (modules, parameters, the engine's tables) lives as long as the server:
    # out of the cyclic collector's way (engine/memory.py). Not in create_app: a test makes many apps.
    freeze_startup_heap()
    return app
