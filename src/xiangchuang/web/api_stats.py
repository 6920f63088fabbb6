"""JSON API v1 for the statistics (clause 5.13): the indicator catalogue, the dashboard of a group and
quarter, a quarter's figures, drill-down (breakdown by dimension, applications behind a count), and the
monitoring alerts with their resolution. The same data as the pages, per role: the city administrator
sees every district and the city; 区县 reviewers and finance staff their own district only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from xiangchuang.models import User
from xiangchuang.stats import alerts as alert_service
from xiangchuang.stats import dashboard as dash
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.service import quarter_report
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import DistrictScope, SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.pages_stats import (
    ALERT_ROLES,
    STATS_ROLES,
    check_district,
    quarter_or_default,
    resolve_visible,
    scope_district,
    visible_alerts,
)

router = APIRouter(
    prefix="/api/v1/stats", tags=["统计监测"], responses=error_responses(401, 403, 404, 409, 422, 503)
)
StatsUser = Annotated[User, Depends(require_role(*STATS_ROLES))]
AlertUser = Annotated[User, Depends(require_role(*ALERT_ROLES))]


class IndicatorOut(BaseModel):
    id: str
    label: str
    unit: str
    group: str
    group_label: str
    measure: str
    cumulative: bool
    dimension: str | None
    dims: list[dict[str, str]] | None
    additive: bool
    entity: str
    definition: str


class TableRow(BaseModel):
    district: int
    district_name: str
    values: list[int]
    shown: list[float | int]
    total: int | None
    total_shown: float | int | None


class Panel(BaseModel):
    id: str
    label: str
    unit: str
    measure: str
    cumulative: bool
    additive: bool
    dimension: str | None
    has_total: bool
    definition: str
    drillable: bool
    records: bool
    columns: list[dict[str, str]]
    table: list[TableRow]
    charts: dict[str, Any]


class DashboardOut(BaseModel):
    quarter: str
    quarter_label: str
    scope: str = Field(description="city：全市各区县；district：本区县")
    district: int | None
    district_name: str
    group: str
    group_label: str
    groups: list[dict[str, str]]
    status: str = Field(description="published：关账快照（发布数）；provisional：实时数")
    status_label: str
    revision: int | None
    published_at: str | None
    published_by: str | None
    computed_at: str | None
    revisions: list[dict[str, Any]]
    indicators: list[Panel]


class QuarterOut(BaseModel):
    quarter: str
    quarter_label: str
    status: str
    status_label: str
    published_at: str | None
    published_by: str | None
    computed_at: str | None
    indicators: list[dict[str, Any]]
    revisions: list[dict[str, Any]]


class BreakdownOut(BaseModel):
    indicator: str
    label: str
    unit: str
    quarter: str
    quarter_label: str
    district: int
    district_name: str
    status: str
    status_label: str
    revision: int | None
    published_at: str | None
    total: int | None
    total_shown: float | int
    dims: list[dict[str, Any]]


class RecordOut(BaseModel):
    id: int
    application_no: str
    kind: str
    kind_label: str
    state: str
    state_label: str
    street: str | None
    subject: str = Field(description="申请主体编号（脱敏）")


class RecordsOut(BaseModel):
    indicator: str
    label: str
    quarter: str
    district: int
    district_name: str
    dim: str | None
    dim_label: str | None
    truncated: bool
    count: int
    applications: list[RecordOut]


class AlertOut(BaseModel):
    id: int
    rule: str
    rule_label: str
    district: int | None
    district_name: str
    role: str
    role_label: str
    subject: str
    message: str
    state: str
    first_seen_at: str
    last_seen_at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution: str | None


class ResolveIn(BaseModel):
    resolution: str = Field(min_length=1, max_length=500, description="处理说明")


@router.get("/indicators", response_model=list[IndicatorOut], summary="统计指标目录（含各模块登记的指标）")
def indicators(user: StatsUser) -> list[dict[str, Any]]:
    return registry.catalogue()


@router.get(
    "/dashboard", response_model=DashboardOut, summary="统计看板：一个季度、一个指标分组（按角色范围）"
)
def dashboard(
    user: StatsUser,
    scope: DistrictScope,
    db: SessionDep,
    quarter: str | None = None,
    group: str | None = None,
) -> dict[str, Any]:
    q = quarter_or_default(db, quarter)
    return dash.dashboard(db, quarter=q, group=group, district=scope_district(scope), now=now_utc())


@router.get(
    "/quarter", response_model=QuarterOut, summary="季度统计数（已关账：发布数与修订；未关账：实时数）"
)
def quarter_figures(
    user: StatsUser, scope: DistrictScope, db: SessionDep, quarter: str | None = None
) -> dict[str, Any]:
    q = quarter_or_default(db, quarter)
    district = scope_district(scope)
    doc = quarter_report(db, quarter=q, district=district, now=now_utc()).as_json(district=district)
    if district is not None:  # a district sees its own rows only (not the city figure)
        for item in doc["indicators"]:
            item["rows"] = [r for r in item["rows"] if r["district"] == district]
        for rev in doc["revisions"]:
            rev["changes"] = [c for c in rev["changes"] if c["district"] == district]
    return doc


@router.get("/breakdown", response_model=BreakdownOut, summary="下钻：区县数字按维度分解（与看板同一快照）")
def breakdown(
    user: StatsUser,
    scope: DistrictScope,
    db: SessionDep,
    indicator: str = "applications_received",
    quarter: str | None = None,
    district: int | None = None,
) -> dict[str, Any]:
    q = quarter_or_default(db, quarter)
    return dash.breakdown(
        db, indicator=indicator, quarter=q, district=check_district(scope, district), now=now_utc()
    )


@router.get("/records", response_model=RecordsOut, summary="下钻：申请件数背后的申请清单（脱敏）")
def records(
    user: StatsUser,
    scope: DistrictScope,
    db: SessionDep,
    indicator: str = "applications_received",
    quarter: str | None = None,
    district: int | None = None,
    dim: str | None = None,
) -> dict[str, Any]:
    q = quarter_or_default(db, quarter)
    return dash.records(db, indicator=indicator, quarter=q, district=check_district(scope, district), dim=dim)


@router.get(
    "/alerts", response_model=list[AlertOut], summary="未处理的监测预警（本角色、本区县；市级为全部）"
)
def alerts(user: AlertUser, scope: DistrictScope, db: SessionDep) -> list[dict[str, Any]]:
    return visible_alerts(db, user, scope)


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut, summary="处理预警（须填写处理说明）")
def resolve_alert(
    alert_id: int, body: ResolveIn, user: AlertUser, scope: DistrictScope, db: SessionDep, state: StateDep
) -> dict[str, Any]:
    resolve_visible(db, user, scope, state, alert_id, body.resolution)
    return next(a for a in alert_service.list_alerts(db, state=None) if a["id"] == alert_id)
