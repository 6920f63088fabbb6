"""JSON API v1 for the city office: parameter changes (four-eyes) and the district overview."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from xiangchuang.models import User
from xiangchuang.paramchanges import service as changes
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import ParamsDep, SessionDep, require_role
from xiangchuang.web.pages_city import district_overview

# Every signed-in API answer may be one of the Chinese error bodies (web/app.py handlers).
router = APIRouter(
    prefix="/api/v1/city", tags=["市级管理"], responses=error_responses(401, 403, 404, 409, 422, 503)
)
CityAdmin = Annotated[User, Depends(require_role("city_admin"))]


class ParameterChangeOut(BaseModel):
    id: int
    name: str
    value: Any
    since: dt.date
    reference: str
    reason: str
    state: str
    state_label: str
    requested_by: str
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str | None


class DistrictRow(BaseModel):
    district: int
    name: str
    states: dict[str, int]
    total: int
    approved_fen: int
    paid_fen: int


class ParameterValue(BaseModel):
    since: str
    value: Any
    reference: str
    status: str
    district: int | None
    pending: bool


class ParameterOut(BaseModel):
    name: str
    label: str
    unit: str
    clause: str
    versions: list[ParameterValue]


@router.get(
    "/parameter-changes", response_model=list[ParameterChangeOut], summary="参数调整申请（市级管理员）"
)
def parameter_changes(db: SessionDep, user: CityAdmin, name: str | None = None) -> list[ParameterChangeOut]:
    return [
        ParameterChangeOut(
            id=c.id,
            name=c.name,
            value=c.value,
            since=c.since,
            reference=c.reference,
            reason=c.reason,
            state=c.state,
            state_label=changes.STATE_LABELS[c.state],
            requested_by=c.requested_by,
            decided_by=c.decided_by,
            decided_at=c.decided_at,
            decision_note=c.decision_note,
        )
        for c in changes.list_changes(db, name)
    ]


@router.get(
    "/parameters/{name}", response_model=ParameterOut, summary="一个参数的全部取值（含已复核的市级调整）"
)
def parameter(name: str, params: ParamsDep, user: CityAdmin) -> ParameterOut:
    from xiangchuang.errors import NotFound

    if name not in params:
        raise NotFound(f"参数 {name} 不存在")
    p = params[name]
    return ParameterOut(
        name=p.name,
        label=p.label,
        unit=p.unit,
        clause=p.clause,
        versions=[
            ParameterValue(**{k: v for k, v in x.as_dict(p.unit).items() if k in ParameterValue.model_fields})
            for x in sorted(p.versions, key=lambda v: (v.district or 0, v.since))
        ],
    )


@router.get(
    "/districts",
    response_model=list[DistrictRow],
    summary="区县概况：按状态的申请件数、核准与已拨付金额（分）",
)
def districts(db: SessionDep, user: CityAdmin) -> list[DistrictRow]:
    return [DistrictRow(**row) for row in district_overview(db)]
