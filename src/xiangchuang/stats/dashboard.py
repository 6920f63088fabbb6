"""The statistics dashboard's data (clause 5.13 动态监测与分析): one indicator group of one quarter, for
the city (every district and the city figure) or for one district, as JSON-ready dicts that the page
(web/pages_stats.py, drawn with ECharts) and the API (web/api_stats.py) both serve.

Generic over the indicator registry: groups and indicators are discovered (:mod:`stats.indicators`), so
a module that registers its own indicators appears here without a change.

- A CLOSED quarter shows the figures of its closed snapshot (revision 0, with the close date and who
  closed it) and the dated revisions beside them — never recomputed; an open quarter shows live figures
  of the group's indicators only, marked provisional.
- The trend runs over the quarters up to the selected one: closed quarters from their published figures
  with the revisions applied, open ones computed live (the group's indicators only).
- Drill-down: a district figure → its breakdown by dimension (from the same snapshot); a count of
  applications → the applications behind it (recomputed from the data now, masked, scope-checked by
  the caller, and compared with the published figure).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.errors import NotFound, ValidationFailed
from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import Application, StatPublication
from xiangchuang.stats import indicators as registry
from xiangchuang.stats import service
from xiangchuang.stats.indicators import Indicator
from xiangchuang.stats.periods import Quarter, Window, quarter_range
from xiangchuang.stats.service import CITY, Key, district_codes, district_name

TREND_QUARTERS: Final = 4
SELECTABLE_QUARTERS: Final = 8
DRILL_LIMIT: Final = 500


def closed_quarters(session: Session) -> list[Quarter]:
    labels = session.execute(select(StatPublication.quarter).distinct()).scalars()
    return sorted(Quarter.parse(q) for q in labels)


def quarter_choices(session: Session, now: dt.datetime) -> list[dict[str, Any]]:
    """The quarters a user can pick: the last few up to the current one, and every closed one."""
    current = Quarter.of_instant(now)
    first = current
    for _ in range(SELECTABLE_QUARTERS - 1):
        first = first.prev()
    closed = set(closed_quarters(session))
    qs = sorted(set(quarter_range(first, current)) | closed, reverse=True)
    return [{"quarter": q.label, "label": q.zh, "closed": q in closed} for q in qs]


def default_quarter(session: Session, now: dt.datetime) -> Quarter:
    """The latest closed quarter; without one, the quarter before the current one (the last finished)."""
    closed = closed_quarters(session)
    return closed[-1] if closed else Quarter.of_instant(now).prev()


def group_of(group: str | None) -> str:
    ids = [g.id for g in registry.groups()]
    if group is None:
        return ids[0]
    if group not in ids:
        raise NotFound(f"指标分组 {group!r} 不存在；可选：{'、'.join(ids)}")
    return group


def _snapshot(
    session: Session, quarter: Quarter, inds: list[Indicator], district: int | None, now: dt.datetime
) -> dict[str, Any]:
    """Figures of ``inds`` for the quarter: the closed snapshot (revision 0) or live; with ``district``
    only that district's figures (no city row)."""
    wanted = {i.id for i in inds}
    pubs = service.publications(session, quarter)
    if pubs:
        report = service.quarter_report(session, quarter=quarter, district=district)
        figures = {k: v for k, v in report.figures.items() if k[0] in wanted}
        revisions = [
            {
                "revision": r.revision,
                "published_at": r.published_at.isoformat(),
                "published_by": r.published_by,
                "note": r.note,
                "changes": [
                    {**c, "indicator_label": registry.get(c["indicator"]).label}
                    for c in r.changes
                    if c["indicator"] in wanted and (district is None or c["district"] == district)
                ],
            }
            for r in report.revisions
        ]
        meta = {
            "status": "published",
            "status_label": "已关账发布",
            "revision": pubs[-1].revision,
            "published_at": pubs[0].published_at.isoformat(),
            "published_by": pubs[0].published_by,
            "computed_at": None,
            "revisions": revisions,
        }
    else:
        figures = service.compute(session, window=Window((quarter,)), indicators=inds, district=district)[
            quarter.label
        ]
        meta = {
            "status": "provisional",
            "status_label": "未关账（实时数，仅供参考）",
            "revision": None,
            "published_at": None,
            "published_by": None,
            "computed_at": now.isoformat(),
            "revisions": [],
        }
    if district is not None:
        figures = {k: v for k, v in figures.items() if k[1] == district}
    return {"figures": figures, **meta}


def _trend(
    session: Session, quarter: Quarter, inds: list[Indicator], district: int | None
) -> tuple[list[str], dict[Key, dict[str, int]]]:
    """Per (indicator, district, dim): {quarter: value} over the last quarters up to ``quarter``
    (closed: published figures with revisions; open: live)."""
    first = quarter
    for _ in range(TREND_QUARTERS - 1):
        first = first.prev()
    quarters = list(quarter_range(first, quarter))
    wanted = {i.id for i in inds}
    series: dict[Key, dict[str, int]] = defaultdict(dict)
    open_qs = []
    for q in quarters:
        current = service.current_figures(session, q)
        if current is None:
            open_qs.append(q)
            continue
        for k, v in current.items():
            if k[0] in wanted and (district is None or k[1] == district):
                series[k][q.label] = v
    if open_qs:
        live = service.compute(
            session, window=Window.of(open_qs[0], open_qs[-1]), indicators=inds, district=district
        )
        for q in open_qs:
            for k, v in live[q.label].items():
                series[k][q.label] = v
    return [q.label for q in quarters], series


def _total(ind: Indicator, figures: dict[Key, int], district: int) -> int | None:
    """The figure of a district without a dimension, or the sum of a partitioning dimension."""
    if not ind.has_dim:
        return figures.get((ind.id, district, ""), 0)
    if ind.dim_total:
        return sum(v for (i, d, _), v in figures.items() if i == ind.id and d == district)
    return None


def panel(
    ind: Indicator,
    figures: dict[Key, int],
    trend_quarters: list[str],
    trend: dict[Key, dict[str, int]],
    rows: list[int],
) -> dict[str, Any]:
    """One indicator: its table (rows = districts, columns = dims), and the three charts' series."""
    dims = [c for c, _ in ind.dims] if ind.dims is not None else None
    if dims is None:
        present: dict[str, int] = defaultdict(int)
        for (i, _d, dim), v in figures.items():
            if i == ind.id:
                present[dim] += v
        dims = sorted(present, key=lambda k: (-present[k], k)) if ind.has_dim else [""]
    columns = [{"dim": d, "label": ind.dim_name(d) if d else ind.label} for d in dims]
    table = []
    for d in rows:
        values = [figures.get((ind.id, d, dim), 0) for dim in dims]
        total = _total(ind, figures, d)
        table.append(
            {
                "district": d,
                "district_name": district_name(d),
                "values": values,
                "shown": [ind.shown(v) for v in values],
                "total": total,
                "total_shown": ind.shown(total) if total is not None else None,
            }
        )
    focus = rows[-1]  # the city row for the city, the district itself for a district
    by_district = [
        {"district": r["district"], "name": r["district_name"], "value": r["total_shown"]}
        for r in table
        if r["district"] != CITY and r["total"] is not None
    ]
    by_dim = (
        [
            {
                "dim": c["dim"],
                "name": c["label"],
                "value": ind.shown(figures.get((ind.id, focus, c["dim"]), 0)),
            }
            for c in columns
        ]
        if ind.has_dim
        else []
    )
    trend_series = []
    if ind.has_dim and not ind.dim_total:
        for c in columns[:8]:
            per_q = trend.get((ind.id, focus, c["dim"]), {})
            trend_series.append(
                {"name": c["label"], "values": [ind.shown(per_q.get(q, 0)) for q in trend_quarters]}
            )
    else:
        totals = []
        for q in trend_quarters:
            totals.append(sum(v.get(q, 0) for (i, d, _), v in trend.items() if i == ind.id and d == focus))
        trend_series.append(
            {"name": "合计" if ind.has_dim else ind.label, "values": [ind.shown(v) for v in totals]}
        )
    return {
        "id": ind.id,
        "label": ind.label,
        "unit": ind.unit,
        "measure": ind.measure,
        "cumulative": ind.cumulative,
        "additive": ind.additive,
        "dimension": ind.dim_label,
        "has_total": ind.dim_total or not ind.has_dim,
        "definition": ind.definition,
        "drillable": not ind.cumulative,
        "records": ind.entity == "applications",
        "columns": columns,
        "table": table,
        "charts": {
            "by_district": by_district,
            "by_dim": by_dim,
            "trend": {"quarters": trend_quarters, "series": trend_series},
        },
    }


def dashboard(
    session: Session,
    *,
    quarter: Quarter,
    group: str | None,
    district: int | None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The dashboard of one group and quarter: the city (``district`` None: every district and 全市) or one
    district (its own figures only)."""
    at = now or dt.datetime.now(dt.UTC)
    gid = group_of(group)
    inds = registry.all_indicators(gid)
    snap = _snapshot(session, quarter, inds, district, at)
    trend_quarters, trend = _trend(session, quarter, inds, district)
    rows = [district] if district is not None else [*district_codes(), CITY]
    groups = registry.groups()
    return {
        "quarter": quarter.label,
        "quarter_label": quarter.zh,
        "scope": "district" if district is not None else "city",
        "district": district,
        "district_name": district_name(district) if district is not None else "全市",
        "group": gid,
        "group_label": next(g.label for g in groups if g.id == gid),
        "groups": [{"id": g.id, "label": g.label} for g in groups],
        **{k: v for k, v in snap.items() if k != "figures"},
        "indicators": [panel(i, snap["figures"], trend_quarters, trend, rows) for i in inds],
    }


def breakdown(
    session: Session, *, indicator: str, quarter: Quarter, district: int, now: dt.datetime | None = None
) -> dict[str, Any]:
    """A district figure broken down by its dimension, from the same snapshot the dashboard shows."""
    ind = registry.get(indicator)
    snap = _snapshot(
        session, quarter, [ind], district if district != CITY else None, now or dt.datetime.now(dt.UTC)
    )
    figures = snap["figures"]
    dims = (
        [c for c, _ in ind.dims]
        if ind.dims is not None
        else sorted({k[2] for k in figures if k[0] == ind.id})
    )
    return {
        "indicator": ind.id,
        "label": ind.label,
        "unit": ind.unit,
        "quarter": quarter.label,
        "quarter_label": quarter.zh,
        "district": district,
        "district_name": district_name(district),
        "status": snap["status"],
        "status_label": snap["status_label"],
        "revision": snap["revision"],
        "published_at": snap["published_at"],
        "total": _total(ind, figures, district),
        "total_shown": ind.shown(_total(ind, figures, district) or 0),
        "dims": [
            {
                "dim": d,
                "label": ind.dim_name(d) if d else ind.label,
                "value": figures.get((ind.id, district, d), 0),
                "shown": ind.shown(figures.get((ind.id, district, d), 0)),
            }
            for d in dims
        ],
    }


def records(
    session: Session,
    *,
    indicator: str,
    quarter: Quarter,
    district: int,
    dim: str | None = None,
    limit: int = DRILL_LIMIT,
) -> dict[str, Any]:
    """The applications behind a count of applications in one district (masked: numbers, program, state
    and the applicant's subject number with its middle hidden — never a name or personal number)."""
    ind = registry.get(indicator)
    if ind.entity != "applications":
        raise ValidationFailed(f"指标「{ind.label}」统计的不是申请件，没有申请清单可查")
    if district == CITY:
        raise ValidationFailed("申请清单须按区县查看：请先选择区县")
    found = service.drill_down(
        session, indicator=indicator, quarter=quarter, district=district, dim=dim, limit=limit
    )
    ids = found["application_ids"]
    apps = (
        session.execute(
            select(Application).where(Application.id.in_(ids)).order_by(Application.application_no)
        )
        .scalars()
        .all()
        if ids
        else []
    )
    return {
        "indicator": ind.id,
        "label": ind.label,
        "quarter": quarter.label,
        "district": district,
        "district_name": district_name(district),
        "dim": dim,
        "dim_label": ind.dim_name(dim) if dim else None,
        "truncated": found["truncated"],
        "count": len(apps),
        "applications": [
            {
                "id": a.id,
                "application_no": a.application_no,
                "kind": a.kind,
                "kind_label": KINDS[a.kind].title if a.kind in KINDS else a.kind,
                "state": a.state,
                "state_label": STATE_LABELS.get(a.state, a.state),
                "street": a.street,
                "subject": mask_name_middle(a.subject_key),
            }
            for a in apps
        ],
    }
