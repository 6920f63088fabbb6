"""``/healthz`` (the process answers) and ``/readyz`` (the database answers and is at the migrations head)."""

from __future__ import annotations

from functools import cache
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from xiangchuang.web.deps import AppState

router = APIRouter(tags=["运行状态"])


HEALTHY: Final = b'{"status":"ok"}'


@router.get("/healthz", summary="存活检查", response_model=dict[str, str])
async def healthz() -> Response:  # async and pre-encoded: the process answers, nothing else
    return Response(HEALTHY, media_type="application/json")


@cache
def _head() -> str | None:
    from alembic.script import ScriptDirectory

    from xiangchuang.dbmigrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _check(state: AppState) -> tuple[int, dict[str, str]]:
    head = _head()
    try:
        with state.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return 503, {"status": "unavailable", "detail": "数据库无法访问"}
    if current != head:
        return 503, {
            "status": "unavailable",
            "detail": f"数据库版本 {current} 不是最新版本 {head}：请运行 xiangchuang db upgrade",
        }
    return 200, {"status": "ready", "database": state.engine.dialect.name, "migration": str(current)}


@router.get("/readyz", summary="就绪检查（数据库可访问且已迁移到最新版本）")
async def readyz(request: Request) -> JSONResponse:
    status, body = await run_in_threadpool(_check, request.app.state.xc)
    return JSONResponse(body, status_code=status)
