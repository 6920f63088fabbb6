"""Page rendering: Jinja2 templates with the signed-in user, the CSRF token and role labels in context."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import STATUS_LABELS
from xiangchuang.users.service import ROLE_LABELS
from xiangchuang.web import nav
from xiangchuang.web.deps import ANON_CSRF_COOKIE, csrf_for


@cache
def templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(resources.files("xiangchuang.web").joinpath("templates")))
    t.env.globals["role_labels"] = ROLE_LABELS
    t.env.globals["nav_for"] = nav.for_role
    t.env.globals["fen"] = format_fen  # an amount in fen as the engine writes it (¥1,234.56)
    t.env.globals["param_status"] = STATUS_LABELS  # a parameter's status as `check` names it
    return t


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    ctx = {
        "request": request,
        "user": getattr(request.state, "viewer", None),
        "csrf_token": csrf_for(request),
        **(context or {}),
    }
    response = templates().TemplateResponse(request, name, ctx, status_code=status, headers=headers)
    new = getattr(request.state, "new_anon_csrf", None)
    if new:
        secure = request.app.state.xc.settings.cookie_secure
        response.set_cookie(ANON_CSRF_COOKIE, new, httponly=True, samesite="lax", secure=secure, path="/")
    return response
