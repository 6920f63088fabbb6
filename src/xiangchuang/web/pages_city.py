"""City pages: every parameter with its dated history, four-eyes parameter changes, and the district
overview (applications by state, amounts approved / paid per district). City administrators only;
district staff see the parameter list read-only."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import case, func, select

from xiangchuang.applications.workflow import STATE_LABELS as APP_STATE_LABELS
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.engine.parameters import Parameter
from xiangchuang.errors import NotFound
from xiangchuang.models import Application, User
from xiangchuang.paramchanges import service as changes
from xiangchuang.web.deps import ParamsDep, SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)

CityAdmin = Annotated[User, Depends(require_role("city_admin"))]
ParamReader = Annotated[
    User, Depends(require_role("city_admin", "district_reviewer", "district_finance", "window_clerk"))
]
PAID_STATES = ("disbursed",)


def _history(p: Parameter) -> list[dict[str, Any]]:
    rows = []
    for v in sorted(p.versions, key=lambda v: (v.district or 0, v.since)):
        d = v.as_dict(p.unit)
        d["district_name"] = district_by_code(v.district).name if v.district else "全市"
        d["note"] = v.note
        rows.append(d)
    return rows


@router.get("/city/parameters")
def parameter_list(request: Request, user: ParamReader, params: ParamsDep, db: SessionDep) -> Response:
    today = changes.china_day(now_utc())
    items = []
    for name in sorted(params):
        p = params[name]
        current = p.version_at(today)
        items.append(
            {
                "name": name,
                "label": p.label,
                "unit": p.unit,
                "clause": p.clause,
                "current": current.as_dict(p.unit) if current else None,
                "versions": len(p.versions),
            }
        )
    pending = [c for c in changes.list_changes(db) if c.state == "pending"]
    return render(
        request,
        "city/parameters.html",
        {"items": items, "pending": pending, "today": today, "can_change": user.role == "city_admin"},
    )


@router.get("/city/parameters/{name}")
def parameter_page(
    name: str, request: Request, user: ParamReader, params: ParamsDep, db: SessionDep
) -> Response:
    if name not in params:
        raise NotFound(f"参数 {name} 不存在")
    p = params[name]
    return render(
        request,
        "city/parameter.html",
        {
            "p": p,
            "history": _history(p),
            "changes": changes.list_changes(db, name),
            "state_labels": changes.STATE_LABELS,
            "me": f"user:{user.id}",
            "can_change": user.role == "city_admin",
            "today": changes.china_day(now_utc()).isoformat(),
        },
    )


@router.post("/city/parameters/{name}/changes")
def request_change(
    name: str,
    db: SessionDep,
    state: StateDep,
    user: CityAdmin,
    value: Annotated[str, Form(max_length=2000)],
    since: Annotated[dt.date, Form()],
    reason: Annotated[str, Form(max_length=1000)],
    reference: Annotated[str, Form(max_length=200)],
) -> Response:
    changes.request_change(
        db,
        user=user,
        params=state.params,
        name=name,
        value_text=value,
        since=since,
        reason=reason,
        reference=reference,
        audit_key=state.audit_key,
        now=now_utc(),
    )
    return RedirectResponse(f"/city/parameters/{name}", status_code=303)


@router.post("/city/changes/{change_id}/{decision}")
def decide_change(
    change_id: int,
    decision: str,
    db: SessionDep,
    state: StateDep,
    user: CityAdmin,
    note: Annotated[str | None, Form(max_length=1000)] = None,
) -> Response:
    change = changes.decide(
        db,
        user=user,
        params=state.params,
        change_id=change_id,
        decision=decision,
        note=note,
        audit_key=state.audit_key,
        now=now_utc(),
    )
    return RedirectResponse(f"/city/parameters/{change.name}", status_code=303)


def district_overview(db: SessionDep) -> list[dict[str, Any]]:
    rows = db.execute(
        select(
            Application.district,
            Application.state,
            func.count(),
            func.coalesce(func.sum(Application.amount_approved_fen), 0),
            func.coalesce(
                func.sum(
                    case((Application.state.in_(PAID_STATES), Application.amount_approved_fen), else_=0)
                ),
                0,
            ),
        ).group_by(Application.district, Application.state)
    ).all()
    out: dict[int, dict[str, Any]] = {}
    for district, st, count, approved, paid in rows:
        entry = out.setdefault(
            district,
            {
                "district": district,
                "name": district_by_code(district).name if is_district(district) else str(district),
                "states": {},
                "total": 0,
                "approved_fen": 0,
                "paid_fen": 0,
            },
        )
        entry["states"][st] = int(count)
        entry["total"] += int(count)
        entry["approved_fen"] += int(approved or 0)
        entry["paid_fen"] += int(paid or 0)
    return [out[k] for k in sorted(out)]


@router.get("/city/districts")
def districts_page(request: Request, user: CityAdmin, db: SessionDep) -> Response:
    rows = district_overview(db)
    used = sorted({s for r in rows for s in r["states"]}, key=list(APP_STATE_LABELS).index)
    return render(
        request,
        "city/districts.html",
        {"rows": rows, "states": used, "state_labels": APP_STATE_LABELS},
    )
