"""Statistics services: compute the indicators, close a quarter, record revisions, read figures, drill down.

Services take a Session and keyword-only arguments and never commit (the caller owns the transaction).

- :func:`compute` runs each indicator's aggregation twice — per district and city-wide — and returns
  integer figures keyed by (indicator, quarter, district, dim); district 0 is 全市. Cumulative
  indicators are running sums of their per-quarter buckets.
- :func:`close_quarter` freezes a finished quarter: its figures become revision 0 of
  ``stat_publications``, signed with who and when, and audited. A quarter is closed once.
- :func:`revise_quarter` recomputes a closed quarter; if any figure differs from what is published now it
  stores a dated revision holding exactly the changed figures and the values they replace (audited);
  the published figures are never updated.
- :func:`quarter_report` is what every reader uses: for a closed quarter the published figures and the
  revisions beside them; for an open quarter the live figures, marked provisional.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.audit.chain import record
from xiangchuang.config import get_settings
from xiangchuang.engine.districts import district_by_code, load_districts
from xiangchuang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xiangchuang.models import StatFigure, StatPublication
from xiangchuang.stats import indicators as registry
from xiangchuang.stats import repository as repo
from xiangchuang.stats.indicators import Indicator
from xiangchuang.stats.periods import Quarter, Window

CITY: Final = 0
CITY_LABEL: Final = "全市"
Key = tuple[str, int, str]  # (indicator, district, dim)


def district_name(code: int) -> str:
    if code == CITY:
        return CITY_LABEL
    try:
        return district_by_code(code).name
    except (KeyError, ValueError):
        return f"未知区县（{code}）"


def district_codes() -> list[int]:
    return [d.code for d in load_districts()]


# --- computing -------------------------------------------------------------------------------------------


def compute(
    session: Session,
    *,
    window: Window,
    indicators: Sequence[Indicator] | None = None,
    district: int | None = None,
) -> dict[str, dict[Key, int]]:
    """Figures per quarter label: {quarter: {(indicator, district, dim): value}} (zeros left out).

    With ``district`` only that district's rows are computed (and no city row)."""
    inds = list(indicators) if indicators is not None else registry.all_indicators()
    out: dict[str, dict[Key, int]] = {q.label: {} for q in window.quarters}
    order = [q.label for q in window.quarters]
    if district is None:
        together = repo.figures_many(session, inds, window, workers=get_settings().stats_workers)
    else:
        repo.tune(session)
    for ind in inds:
        if district is None:
            rows = together[ind.id]
        else:
            rows = repo.figures(session, ind, window, city=False, district=district)
        if ind.cumulative:
            flows: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
            for d, q, dim, value in rows:
                if q is not None:
                    flows[(int(d), str(dim))][str(q)] = int(value or 0)
            for (d, dim), by_q in flows.items():
                running = 0
                for label in order:
                    running += by_q.get(label, 0)
                    if running:
                        out[label][(ind.id, d, dim)] = running
        else:
            for d, q, dim, value in rows:
                if q is not None and value:
                    out[str(q)][(ind.id, int(d), str(dim))] = int(value)
    return out


def compute_quarter(session: Session, *, quarter: Quarter) -> dict[Key, int]:
    return compute(session, window=Window((quarter,)))[quarter.label]


# --- publishing ------------------------------------------------------------------------------------------


def _digest(figures: dict[Key, int]) -> str:
    canon = json.dumps(sorted([[*list(k), v] for k, v in figures.items()]), ensure_ascii=False)
    return hashlib.sha256(canon.encode()).hexdigest()


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def publications(session: Session, quarter: Quarter) -> list[StatPublication]:
    return list(
        session.execute(
            select(StatPublication)
            .where(StatPublication.quarter == quarter.label)
            .order_by(StatPublication.revision)
        ).scalars()
    )


def _figures_of(session: Session, publication_id: int) -> list[StatFigure]:
    return list(
        session.execute(select(StatFigure).where(StatFigure.publication_id == publication_id)).scalars()
    )


def _insert_figures(session: Session, publication_id: int, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        chunk = [{"publication_id": publication_id, **r} for r in rows[start : start + 5000]]
        session.execute(insert(StatFigure), chunk)


def close_quarter(
    session: Session,
    *,
    quarter: Quarter,
    actor: str,
    audit_key: bytes,
    role: str = "city_admin",
    now: dt.datetime | None = None,
) -> StatPublication:
    """Freeze a finished quarter's figures as its published revision 0 (who, when, digest; audited)."""
    at = _now(now)
    if Quarter.of_instant(at) <= quarter:
        raise ValidationFailed(f"{quarter.zh}尚未结束（按北京时间），不能关账")
    if role != "city_admin":
        raise Forbidden("季度关账须由市级管理员执行")
    figures = compute_quarter(session, quarter=quarter)
    pub = StatPublication(
        quarter=quarter.label,
        revision=0,
        published_by=actor,
        published_at=at,
        figure_count=len(figures),
        digest=_digest(figures),
        note="季度关账：发布数",
    )
    try:
        with session.begin_nested():
            session.add(pub)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{quarter.zh}已关账，发布数不可更改；如数据有更正请生成修订") from None
    _insert_figures(
        session,
        pub.id,
        [
            {"indicator": i, "district": d, "dim": dim, "value": v, "previous": None}
            for (i, d, dim), v in figures.items()
        ],
    )
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        action="stats.quarter_close",
        subject=f"stat_publications:{quarter.label}",
        details={"quarter": quarter.label, "figures": len(figures), "digest": pub.digest},
        at=at,
    )
    return pub


def current_figures(session: Session, quarter: Quarter) -> dict[Key, int] | None:
    """The published figures with every revision applied in order (None: the quarter is open)."""
    pubs = publications(session, quarter)
    if not pubs:
        return None
    figures: dict[Key, int] = {}
    for pub in pubs:
        for f in _figures_of(session, pub.id):
            figures[(f.indicator, f.district, f.dim)] = int(f.value)
    return {k: v for k, v in figures.items() if v}


def revise_quarter(
    session: Session,
    *,
    quarter: Quarter,
    actor: str,
    audit_key: bytes,
    note: str | None = None,
    role: str = "city_admin",
    now: dt.datetime | None = None,
) -> StatPublication | None:
    """Recompute a closed quarter; store the differences as a new dated revision (None: nothing changed)."""
    at = _now(now)
    if role != "city_admin":
        raise Forbidden("季度数据修订须由市级管理员执行")
    current = current_figures(session, quarter)
    if current is None:
        raise NotFound(f"{quarter.zh}尚未关账，没有可修订的发布数")
    fresh = compute_quarter(session, quarter=quarter)
    changed = {
        k: (fresh.get(k, 0), current.get(k, 0))
        for k in set(fresh) | set(current)
        if fresh.get(k, 0) != current.get(k, 0)
    }
    if not changed:
        return None
    last = session.execute(
        select(func.max(StatPublication.revision)).where(StatPublication.quarter == quarter.label)
    ).scalar_one()
    rows = [
        {"indicator": i, "district": d, "dim": dim, "value": new, "previous": old}
        for (i, d, dim), (new, old) in sorted(changed.items())
    ]
    pub = StatPublication(
        quarter=quarter.label,
        revision=int(last) + 1,
        published_by=actor,
        published_at=at,
        figure_count=len(rows),
        digest=_digest({k: v[0] for k, v in changed.items()}),
        note=(note or "重新计算与发布数不一致")[:500],
    )
    try:
        with session.begin_nested():
            session.add(pub)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{quarter.zh}正由他人同时生成修订，请稍后重试") from None
    _insert_figures(session, pub.id, rows)
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        action="stats.quarter_revise",
        subject=f"stat_publications:{quarter.label}",
        details={
            "quarter": quarter.label,
            "revision": pub.revision,
            "changed": len(rows),
            "digest": pub.digest,
        },
        at=at,
    )
    return pub


# --- reading ---------------------------------------------------------------------------------------------


@dataclass
class Revision:
    revision: int
    published_at: dt.datetime
    published_by: str
    note: str
    changes: list[dict[str, Any]]


@dataclass
class QuarterReport:
    """A quarter's figures as everyone reads them (JSON-ready through :meth:`as_json`)."""

    quarter: Quarter
    status: str  # "published" (closed) | "provisional" (open, live figures)
    figures: dict[Key, int]
    published_at: dt.datetime | None = None
    published_by: str | None = None
    revisions: list[Revision] = field(default_factory=list)
    computed_at: dt.datetime | None = None

    def value(self, indicator: str, district: int = CITY, dim: str = "") -> int:
        return self.figures.get((indicator, district, dim), 0)

    def dims_of(self, ind: Indicator) -> list[str]:
        """The dimension values shown for ``ind``: its fixed dims, or those present (by city total)."""
        if ind.dims is not None:
            return [c for c, _ in ind.dims]
        if not ind.has_dim:
            return [""]
        present: dict[str, int] = defaultdict(int)
        for (i, d, dim), v in self.figures.items():
            if i == ind.id and d == CITY:
                present[dim] += v
        return sorted(present, key=lambda k: (-present[k], k))

    def as_json(self, *, district: int | None = None) -> dict[str, Any]:
        groups = {g.id: g.label for g in registry.groups()}
        items = []
        for ind in registry.all_indicators():
            rows = []
            for (i, d, dim), v in sorted(self.figures.items()):
                if i != ind.id or (district is not None and d not in (district, CITY)):
                    continue
                rows.append(
                    {
                        "district": d,
                        "district_name": district_name(d),
                        "dim": dim,
                        "dim_label": ind.dim_name(dim) if dim else None,
                        "value": v,
                        "shown": ind.shown(v),
                    }
                )
            items.append(
                {
                    "id": ind.id,
                    "label": ind.label,
                    "unit": ind.unit,
                    "group": ind.group,
                    "group_label": groups[ind.group],
                    "additive": ind.additive,
                    "rows": rows,
                }
            )
        return {
            "quarter": self.quarter.label,
            "quarter_label": self.quarter.zh,
            "status": self.status,
            "status_label": "已关账发布" if self.status == "published" else "未关账（实时数，仅供参考）",
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "published_by": self.published_by,
            "computed_at": self.computed_at.isoformat() if self.computed_at else None,
            "indicators": items,
            "revisions": [
                {
                    "revision": r.revision,
                    "published_at": r.published_at.isoformat(),
                    "published_by": r.published_by,
                    "note": r.note,
                    "changes": r.changes,
                }
                for r in self.revisions
            ],
        }


def quarter_report(
    session: Session, *, quarter: Quarter, district: int | None = None, now: dt.datetime | None = None
) -> QuarterReport:
    """Closed: the published figures (revision 0) and the revisions beside them. Open: live, provisional."""
    pubs = publications(session, quarter)
    if not pubs:
        figures = compute(session, window=Window((quarter,)))[quarter.label]
        if district is not None:
            figures = {k: v for k, v in figures.items() if k[1] in (district, CITY)}
        return QuarterReport(quarter, "provisional", figures, computed_at=_now(now))
    original = pubs[0]
    figures = {
        (f.indicator, f.district, f.dim): int(f.value)
        for f in _figures_of(session, original.id)
        if district is None or f.district in (district, CITY)
    }
    revisions = []
    for pub in pubs[1:]:
        changes = [
            {
                "indicator": f.indicator,
                "district": f.district,
                "district_name": district_name(f.district),
                "dim": f.dim,
                "original": int(f.previous or 0),
                "revised": int(f.value),
            }
            for f in sorted(_figures_of(session, pub.id), key=lambda f: (f.indicator, f.district, f.dim))
            if district is None or f.district in (district, CITY)
        ]
        revisions.append(Revision(pub.revision, pub.published_at, pub.published_by, pub.note or "", changes))
    return QuarterReport(
        quarter,
        "published",
        figures,
        published_at=original.published_at,
        published_by=original.published_by,
        revisions=revisions,
    )


def trend(
    session: Session, *, indicator: str, first: Quarter, last: Quarter, district: int | None = None
) -> dict[str, Any]:
    """Quarter-over-quarter series of one indicator (closed quarters from their published figures)."""
    ind = registry.get(indicator)
    window = Window.of(first, last)
    live = compute(session, window=window, indicators=[ind], district=district)
    target = CITY if district is None else district
    series = []
    for q in window.quarters:
        pub = current_figures(session, q) if publications(session, q) else None
        figs = pub if pub is not None else live[q.label]
        by_dim: dict[str, int] = defaultdict(int)
        for (i, d, dim), v in figs.items():
            if i == ind.id and d == target:
                by_dim[dim] += v
        series.append(
            {
                "quarter": q.label,
                "status": "published" if pub is not None else "provisional",
                "values": {dim: ind.shown(v) for dim, v in sorted(by_dim.items())},
            }
        )
    return {"indicator": ind.id, "label": ind.label, "unit": ind.unit, "district": target, "series": series}


def drill_down(
    session: Session,
    *,
    indicator: str,
    quarter: Quarter,
    district: int | None = None,
    dim: str | None = None,
    limit: int = 1000,
) -> dict[str, Any]:
    """City → district → the records behind a number.

    Without ``district``: the figure per district (the city's breakdown). With ``district``: the entities
    counted there (application ids where there is an application), from the same source as the figure."""
    ind = registry.get(indicator)
    if dim is not None and ind.dims is not None and dim not in {c for c, _ in ind.dims}:
        raise ValidationFailed(f"指标「{ind.label}」没有维度值 {dim!r}")
    if ind.cumulative:
        raise ValidationFailed("累计指标请按对应的新增指标下钻")
    window = Window((quarter,))
    if district is None:
        repo.tune(session)
        rows = repo.figures(session, ind, window, city=False)
        by_district: dict[int, int] = defaultdict(int)
        for d, _q, dm, value in rows:
            if dim is None or dm == dim:
                by_district[int(d)] += int(value or 0)
        return {
            "indicator": ind.id,
            "label": ind.label,
            "unit": ind.unit,
            "quarter": quarter.label,
            "dim": dim,
            "level": "city",
            "districts": [
                {"district": d, "district_name": district_name(d), "value": v, "shown": ind.shown(v)}
                for d, v in sorted(by_district.items(), key=lambda kv: (-kv[1], kv[0]))
                if v
            ],
        }
    rows = repo.run(session, repo.drill_rows(ind, window, district=district, dim=dim, limit=limit + 1))
    truncated = len(rows) > limit
    rows = rows[:limit]
    return {
        "indicator": ind.id,
        "label": ind.label,
        "quarter": quarter.label,
        "district": district,
        "district_name": district_name(district),
        "dim": dim,
        "level": "district",
        "entity": ind.entity,
        "truncated": truncated,
        "application_ids": sorted({int(r.application_id) for r in rows if r.application_id is not None}),
        "records": [
            {
                "entity": r.entity,
                "dim": r.dim,
                "amount": int(r.amount) if r.amount is not None else None,
                "application_id": r.application_id,
            }
            for r in rows
        ],
    }


def indicator_ids(ids: Iterable[str] | None) -> list[Indicator]:
    return registry.select_indicators(ids)
