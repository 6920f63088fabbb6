"""JSON API v1: 政策体检 and the program catalogue (public), and who the caller is (session or token).

Response models are Pydantic (they are the OpenAPI document other agencies' systems read). The check-up
result is the engine's stable result document (``xiangchuang schema result``), unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Body, Depends, Header
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from xiangchuang.audit import verification
from xiangchuang.checkup import catalogue
from xiangchuang.checkup.service import china_today, run_checkup
from xiangchuang.engine.schema import case_schema
from xiangchuang.errors import NotFound
from xiangchuang.models import User
from xiangchuang.users.service import ROLE_LABELS, scope_for
from xiangchuang.web.deps import (
    ApiCaller,
    PublicParamsDep,
    SessionDep,
    StateDep,
    public_params,
    require_role,
    token_scope_if_presented,
)


class FieldProblem(BaseModel):
    field: str
    rule: str


class ErrorBody(BaseModel):
    detail: str = Field(description="中文错误说明（指明字段与规则）")
    status: int
    errors: list[FieldProblem] | None = Field(None, description="逐项的字段与规则（请求格式错误时）")


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    labels = {
        401: "未登录或令牌无效",
        403: "无权访问",
        404: "不存在",
        409: "与当前状态冲突（已处理、重复提交或版本已变）",
        429: "请求过于频繁",
        422: "请求格式错误（中文说明指明字段与规则）",
        503: "数据库暂时无法访问，或政策参数配置有误",
    }
    return {c: {"model": ErrorBody, "description": labels[c]} for c in codes}


# Every API error is the same small Chinese JSON body (web/app.py's handlers), documented here.
router = APIRouter(prefix="/api/v1", tags=["API v1"], responses=error_responses(422, 503))


# Documented here, handled by web/idempotency.py (before the route runs).
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[!-~]{1,200}$",
        description="幂等键（建议 UUID）：同一请求重发只处理一次，跨工作进程有效",
    ),
]
IDEMPOTENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "幂等键格式错误"},
    401: {"model": ErrorBody, "description": "令牌无效"},
    403: {"model": ErrorBody, "description": "令牌无此权限"},
    409: {"model": ErrorBody, "description": "幂等键已用于不同的请求，或首次请求仍在处理"},
    422: {"model": ErrorBody, "description": "案例格式错误（中文说明指明字段）"},
    429: {"model": ErrorBody, "description": "请求过于频繁"},
    503: {"model": ErrorBody, "description": "数据库暂时无法访问，或政策参数配置有误"},
}


class Parameter(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    label: str | None = None
    value: Any = None
    unit: str | None = None
    since: str | None = None
    reference: str | None = None
    status: str | None = None
    pending: bool | None = None
    display: str | None = None


class ConditionResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    status: Literal["pass", "fail", "unknown"]
    clause: str
    message: str = Field(description="中文说明（满足 / 不满足 / 缺少什么）")
    distance: str | None = Field(None, description="距离满足还差多少（不满足时）")
    passes_on: str | None = Field(None, description="将于该日满足（时间条件）")
    group: Literal["any_of"] | None = None
    parameters: list[Parameter]


class Missing(BaseModel):
    fact: str
    label: str


class Funding(BaseModel):
    model_config = ConfigDict(extra="allow")
    source: str
    amount_fen: int


class ProgramResult(BaseModel):
    model_config = ConfigDict(extra="allow")
    program: str
    title: str
    clause: str
    subject: dict[str, str]
    status: Literal["eligible", "ineligible", "undetermined"]
    status_label: str
    amount_fen: int | None = Field(description="符合时为金额（分），不符合为0，待定为null")
    amount: str | None = None
    amount_capital: str | None = None
    benefit: str
    amount_rule: str
    conditions: list[ConditionResult]
    missing: list[Missing]
    soon: bool | None = Field(None, description="即将符合（时间条件将在期限内满足）")
    eligible_from: str | None = None
    funding: list[Funding] | None = None
    pending_parameters: list[str]


class CheckupResult(BaseModel):
    on: str = Field(description="评估日期")
    engine_version: str
    parameters_version: str
    programs: list[ProgramResult]


class CatalogueCondition(BaseModel):
    id: str
    clause: str
    text: str
    any_of: bool
    facts: list[Missing]
    parameters: list[str]


class CatalogueParameter(BaseModel):
    name: str
    label: str
    display: str
    since: str | None
    reference: str | None
    status: str | None
    pending: bool


class ProgramSummary(BaseModel):
    id: str
    title: str
    clause: str
    clause_title: str
    summary: str
    benefit: str
    paid_to: str
    subject: str


class ProgramDetail(ProgramSummary):
    amount_rule: str
    conditions: list[CatalogueCondition]
    any_of_label: str | None
    prepare: list[Missing]
    parameters: list[CatalogueParameter]
    on: str


class AuditCheck(BaseModel):
    ok: bool
    checked: int = Field(description="已校验的审计记录条数")
    head_seq: int | None
    head_hash: str | None
    broken_seq: int | None = Field(None, description="第一条断裂记录的序号")
    message: str


class Me(BaseModel):
    kind: Literal["user", "api_token"]
    login: str | None = None
    display_name: str | None = None
    role: str | None = None
    role_label: str | None = None
    scope: Literal["own", "street", "district", "city"] | None = None
    district: int | None = None
    org: str | None = None
    scopes: list[str] | None = None


def _district_numbers_too(node: Any) -> Any:
    """The case schema's district codes may be a string or a number; its pattern (500xxx) only binds the
    string form, so the number form gets the same range (the engine accepts 500000–500999 either way)."""
    if isinstance(node, dict):
        out = {k: _district_numbers_too(v) for k, v in node.items()}
        if out.get("pattern") == r"^500\d{3}$" and "integer" in (out.get("type") or ()):
            out.update(minimum=500000, maximum=500999)
        return out
    if isinstance(node, list):
        return [_district_numbers_too(v) for v in node]
    return node


# The request body is the engine's case document (`xiangchuang schema case`), unknown keys refused.
CASE_SCHEMA = _district_numbers_too({k: v for k, v in case_schema().items() if not k.startswith("$")})
CASE_EXAMPLE = {
    "on": "2024-03-20",
    "person": {"id": "P1", "groups": ["returning_migrant_worker"], "first_business": True},
    "business": {
        "id": "B1",
        "district": "500101",
        "kind": "enterprise",
        "registration_date": "2022-03-10",
        "status": "normal",
        "years": {"2023": {"employer_si_paid_fen": 8640000}},
    },
    "received": [],
}


@router.post(
    "/checkup",
    response_model=CheckupResult,
    response_model_exclude_unset=True,
    summary="政策体检：评估一个案例",
    description="案例格式见 `xiangchuang schema case`：缺省的键表示未知，空列表表示确知没有；金额为分。"
    "不带 `on` 时按今天（北京时间）评估。可带 `Idempotency-Key` 请求头：同一调用者以同一键重发同一请求时"
    "返回首次的结果（`Idempotency-Replayed: true`），同一键用于不同请求时返回 409。",
    responses=IDEMPOTENT_RESPONSES,
    openapi_extra={"requestBody": {"content": {"application/json": {"schema": CASE_SCHEMA}}}},
)
async def checkup(
    # The token check runs first, in a short transaction of its own, before the request's session takes a
    # connection (on SQLite every transaction takes the write lock: the other order deadlocks → 503).
    _token: Annotated[None, Depends(token_scope_if_presented("checkup"))],
    state: StateDep,
    db: SessionDep,
    _key: IdempotencyKey = None,
    case: dict[str, Any] = Body(..., examples=[CASE_EXAMPLE]),  # noqa: B008
) -> Response:
    def work() -> bytes:
        # The parameters (usually no query: deps.public_params) and the engine run, in one thread-pool hop
        # (benchmarks/web_load_bench.py). The engine's document is plain JSON data and already the
        # documented shape: encoded once here, by orjson, instead of FastAPI's validate-then-serialise pass
        # through the response model (the model still documents it in the OpenAPI, and
        # tests/web/test_schemathesis.py checks responses against it).
        return orjson.dumps(run_checkup(case, params=public_params(state, db)))

    return Response(await run_in_threadpool(work), media_type="application/json")


@router.get("/programs", response_model=list[ProgramSummary], summary="全部扶持项目")
def programs(params: PublicParamsDep) -> list[dict[str, Any]]:
    return catalogue.catalogue(params, china_today())


@router.get(
    "/programs/{program_id}",
    response_model=ProgramDetail,
    summary="一个项目：条件、依据、需准备的信息",
    responses=error_responses(404),
)
def program(program_id: str, params: PublicParamsDep) -> dict[str, Any]:
    entry = catalogue.program(program_id, params, china_today())
    if entry is None:
        raise NotFound(f"项目 {program_id} 不存在")
    return entry


@router.get(
    "/me", response_model=Me, summary="当前调用者（登录用户或 API 令牌）", responses=error_responses(401, 403)
)
def me(caller: ApiCaller) -> Me:
    if caller.token is not None:
        t = caller.token
        return Me(kind="api_token", org=t.org_name, scopes=sorted(t.scopes), role=t.owner_org)
    user = caller.user
    assert user is not None
    scope = scope_for(user)
    return Me(
        kind="user",
        login=user.login,
        display_name=user.display_name,
        role=user.role,
        role_label=ROLE_LABELS[user.role],
        scope=scope.level,
        district=user.district,
    )


@router.get(
    "/audit/verify",
    response_model=AuditCheck,
    summary="校验审计日志哈希链（审计管理员）",
    responses=error_responses(401, 403),
)
def audit_verify(
    state: StateDep, db: SessionDep, user: Annotated[User, Depends(require_role("audit_admin"))]
) -> AuditCheck:
    result = verification(db, state.audit_key)
    return AuditCheck(
        ok=result.ok,
        checked=result.checked,
        head_seq=result.head_seq,
        head_hash=result.head_hash,
        broken_seq=result.broken.seq if result.broken else None,
        message=result.message,
    )
