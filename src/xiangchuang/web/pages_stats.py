"""Statistics pages (clause 5.13): the dashboard (ECharts, vendored under /static/vendor/echarts), its
drill-down from a district figure to its breakdown and to the applications behind it, the quarterly
report downloads (Excel / PDF / CSV), and the monitoring alerts with their resolution.

Scope: the city administrator sees every district and the city figure; 区县 reviewers and finance staff
see their own district only (DistrictScope) — every district parameter is checked against it. Routes only
call :mod:`xiangchuang.stats` services."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from xiangchuang.errors import Forbidden, NotFound, ValidationFailed
from xiangchuang.models import User
from xiangchuang.stats import alerts as alert_service
from xiangchuang.stats import dashboard as dash
from xiangchuang.stats.periods import Quarter
from xiangchuang.stats.reports import FORMATS, write
from xiangchuang.stats.service import CITY, quarter_report
from xiangchuang.users.service import UserScope
from xiangchuang.web import nav
from xiangchuang.web.deps import DistrictScope, SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)

STATS_ROLES: Final = ("city_admin", "district_reviewer", "district_finance")
ALERT_ROLES: Final = ("city_admin", "district_reviewer", "district_finance", "window_clerk")
StatsUser = Annotated[User, Depends(require_role(*STATS_ROLES))]
AlertUser = Annotated[User, Depends(require_role(*ALERT_ROLES))]
MEDIA: Final = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
}
NO_STORE: Final = {"Cache-Control": "no-store"}

nav.add("/stats", "统计看板", STATS_ROLES, 50)
nav.add("/stats/alerts", "监测预警", ALERT_ROLES, 51)


def scope_district(scope: UserScope) -> int | None:
    """None for the city; the district of a district user (a district user without one sees nothing)."""
    if scope.level == "city":
        return None
    if scope.level in ("district", "street") and scope.district is not None:
        return scope.district
    raise Forbidden("您的账号未关联区县，无权查看统计数据")


def check_district(scope: UserScope, district: int | None) -> int:
    """The district asked for, if the user may see it (the city figure is the city's only)."""
    own = scope_district(scope)
    if district is None:
        if own is None:
            raise ValidationFailed("区县：请选择区县")
        return own
    if own is not None and district != own:
        raise Forbidden("无权查看其他区县的统计数据")
    return district


def quarter_or_default(db: SessionDep, quarter: str | None) -> Quarter:
    return Quarter.parse(quarter) if quarter else dash.default_quarter(db, now_utc())


@router.get("/stats")
def dashboard_page(
    request: Request,
    user: StatsUser,
    scope: DistrictScope,
    db: SessionDep,
    quarter: str | None = None,
    group: str | None = None,
) -> Response:
    q = quarter_or_default(db, quarter)
    data = dash.dashboard(db, quarter=q, group=group, district=scope_district(scope), now=now_utc())
    charts = {
        p["id"]: {"unit": p["unit"], "label": p["label"], "quarter": data["quarter"], **p["charts"]}
        for p in data["indicators"]
    }
    return render(
        request,
        "stats/dashboard.html",
        {
            "d": data,
            "quarters": dash.quarter_choices(db, now_utc()),
            "chart_json": json.dumps(charts, ensure_ascii=False).replace("</", "<\\/"),
            "formats": list(FORMATS),
            "city": CITY,
        },
        headers=NO_STORE,
    )


@router.get("/stats/drill")
def drill_page(
    request: Request,
    user: StatsUser,
    scope: DistrictScope,
    db: SessionDep,
    indicator: str = "applications_received",
    quarter: str | None = None,
    district: int | None = None,
    dim: str | None = None,
) -> Response:
    """A district figure → its breakdown by dimension and (for counts of applications) the applications."""
    q = quarter_or_default(db, quarter)
    d = check_district(scope, district)
    detail = dash.breakdown(db, indicator=indicator, quarter=q, district=d, now=now_utc())
    listing = None
    if dim is not None or not any(x["dim"] for x in detail["dims"]):
        try:
            listing = dash.records(db, indicator=indicator, quarter=q, district=d, dim=dim or None)
        except ValidationFailed as exc:
            listing = {"error": str(exc)}
    return render(
        request,
        "stats/drill.html",
        {
            "b": detail,
            "listing": listing,
            "dim": dim,
            "can_open": user.role in ("district_reviewer", "city_admin"),
        },
        headers=NO_STORE,
    )


@router.get("/stats/download/{fmt}")
def download(
    fmt: str, user: StatsUser, scope: DistrictScope, db: SessionDep, quarter: str | None = None
) -> Response:
    """The quarterly report as Excel, PDF or CSV (a district user's file holds their district only)."""
    if fmt not in FORMATS:
        raise NotFound(f"报表格式 {fmt!r} 不存在；可选：{'、'.join(FORMATS)}")
    q = quarter_or_default(db, quarter)
    district = scope_district(scope)
    report = quarter_report(db, quarter=q, district=district, now=now_utc())
    with tempfile.TemporaryDirectory(prefix="xc-stats-") as tmp:
        path = write(report, Path(tmp) / f"report.{fmt}", fmt=fmt, district=district)
        body = path.read_bytes()
    name = f"stats-{q.label}{'-' + str(district) if district else ''}.{fmt}"
    return Response(
        body,
        media_type=MEDIA[fmt],
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- monitoring alerts ----------------------------------------------------------------------------------


def visible_alerts(
    db: SessionDep, user: User, scope: UserScope, state: str | None = "open"
) -> list[dict[str, Any]]:
    """The city sees every alert; others the alerts of their district addressed to their role."""
    if scope.level == "city":
        return alert_service.list_alerts(db, state=state)
    if scope.district is None:
        return []
    return [
        a
        for a in alert_service.list_alerts(db, state=state, district=scope.district)
        if a["role"] == user.role
    ]


def check_alert(db: SessionDep, user: User, scope: UserScope, alert_id: int) -> None:
    if alert_id not in {a["id"] for a in visible_alerts(db, user, scope)}:
        raise Forbidden(f"预警 {alert_id} 不在您的处理范围内（或已处理）")


def resolve_visible(
    db: SessionDep, user: User, scope: UserScope, state: StateDep, alert_id: int, resolution: str
) -> None:
    """Resolve an alert the user sees (their role and district; the city any), with the note, audited."""
    check_alert(db, user, scope, alert_id)
    alert_service.resolve_alert(
        db,
        alert_id=alert_id,
        actor=user.login,
        role=user.role,
        actor_district=scope.district,
        resolution=resolution,
        audit_key=state.audit_key,
        now=now_utc(),
    )


def _alerts(request: Request, db: SessionDep, user: User, scope: UserScope, *, error: str | None = None,
            failed_id: int | None = None, status: int = 200) -> Response:  # fmt: skip
    return render(
        request,
        "stats/alerts.html",
        {"alerts": visible_alerts(db, user, scope), "error": error, "failed_id": failed_id},
        status=status,
        headers=NO_STORE,
    )


@router.get("/stats/alerts")
def alerts_page(request: Request, user: AlertUser, scope: DistrictScope, db: SessionDep) -> Response:
    return _alerts(request, db, user, scope)


@router.post("/stats/alerts/{alert_id}/resolve")
def resolve(
    alert_id: int,
    request: Request,
    user: AlertUser,
    scope: DistrictScope,
    db: SessionDep,
    state: StateDep,
    resolution: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    check_alert(db, user, scope, alert_id)
    if not resolution.strip():
        return _alerts(
            request, db, user, scope, error="处理说明：必填，请写明如何处理", failed_id=alert_id, status=422
        )
    resolve_visible(db, user, scope, state, alert_id, resolution)
    return RedirectResponse("/stats/alerts", status_code=303)
