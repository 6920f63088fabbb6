"""Read-side queries of the service windows, the supermarket and leaders' contact: the per-official and
per-district summaries (set-based, one GROUP BY each; same SQL on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xiangchuang.models import Business
from xiangchuang.models.services import (
    CoordinationTask,
    LiaisonAssignment,
    LiaisonOfficial,
    LiaisonProblem,
    LiaisonVisit,
    ServiceOffering,
    ServicePurchase,
    ServiceRequest,
    ServiceWindow,
    StaffTraining,
)

OPEN_PROBLEM = ("open", "in_progress")


def _problem_counts(today: dt.date) -> tuple[Any, Any, Any]:
    raised = func.count(LiaisonProblem.id)
    solved = func.sum(case((LiaisonProblem.state == "closed", 1), else_=0))
    overdue = func.sum(
        case((LiaisonProblem.state.in_(OPEN_PROBLEM) & (LiaisonProblem.due_on < today), 1), else_=0)
    )
    return raised, solved, overdue


def official_summary(session: Session, *, district: int | None, today: dt.date) -> list[dict[str, Any]]:
    """Per official: businesses now assigned (and ever), visits, problems raised / confirmed solved / overdue."""
    officials = select(LiaisonOfficial).order_by(LiaisonOfficial.district, LiaisonOfficial.id)
    if district is not None:
        officials = officials.where(LiaisonOfficial.district == district)
    rows = {o.id: o for o in session.execute(officials).scalars()}
    if not rows:
        return []
    ids = list(rows)
    assigned = dict(
        session.execute(
            select(LiaisonAssignment.official_id, func.count(LiaisonAssignment.id))
            .where(LiaisonAssignment.official_id.in_(ids), LiaisonAssignment.until.is_(None))
            .group_by(LiaisonAssignment.official_id)
        ).all()
    )
    ever = dict(
        session.execute(
            select(LiaisonAssignment.official_id, func.count(func.distinct(LiaisonAssignment.business_id)))
            .where(LiaisonAssignment.official_id.in_(ids))
            .group_by(LiaisonAssignment.official_id)
        ).all()
    )
    visits = dict(
        session.execute(
            select(LiaisonVisit.official_id, func.count(LiaisonVisit.id))
            .where(LiaisonVisit.official_id.in_(ids))
            .group_by(LiaisonVisit.official_id)
        ).all()
    )
    raised, solved, overdue = _problem_counts(today)
    problems = {
        oid: (int(r), int(s or 0), int(o or 0))
        for oid, r, s, o in session.execute(
            select(LiaisonProblem.official_id, raised, solved, overdue)
            .where(LiaisonProblem.official_id.in_(ids))
            .group_by(LiaisonProblem.official_id)
        ).all()
    }
    out = []
    for oid, o in rows.items():
        r, s, od = problems.get(oid, (0, 0, 0))
        out.append(
            {
                "official": o,
                "businesses_now": int(assigned.get(oid, 0)),
                "businesses_ever": int(ever.get(oid, 0)),
                "visits": int(visits.get(oid, 0)),
                "problems_raised": r,
                "problems_solved": s,
                "problems_overdue": od,
            }
        )
    return out


def district_summary(session: Session, *, district: int | None, today: dt.date) -> list[dict[str, Any]]:
    """Per district: windows, requests (completed, average rating), purchases (bought / delivered), staff
    trained, officials, businesses in contact, visits, problems, coordination tasks (open / overdue)."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: defaultdict(int))

    def where(stmt: Any, col: Any) -> Any:
        return stmt if district is None else stmt.where(col == district)

    for d, n in session.execute(
        where(
            select(ServiceWindow.district, func.count()).where(ServiceWindow.active.is_(True)),
            ServiceWindow.district,
        ).group_by(ServiceWindow.district)
    ).all():
        out[d]["windows"] = int(n)
    done = func.sum(case((ServiceRequest.state == "completed", 1), else_=0))
    for d, n, c, rated, stars in session.execute(
        where(
            select(
                ServiceRequest.district,
                func.count(),
                done,
                func.count(ServiceRequest.rating),
                func.sum(ServiceRequest.rating),
            ),
            ServiceRequest.district,
        ).group_by(ServiceRequest.district)
    ).all():
        out[d].update(
            requests=int(n), requests_completed=int(c or 0), rated=int(rated), rating_sum=int(stars or 0)
        )
    for d, qty in session.execute(
        where(
            select(ServicePurchase.district, func.sum(ServicePurchase.quantity)), ServicePurchase.district
        ).group_by(ServicePurchase.district)
    ).all():
        out[d]["purchased"] = int(qty or 0)
    for d, n in session.execute(
        where(
            select(ServicePurchase.district, func.count(ServiceRequest.id))
            .join(ServiceRequest, ServiceRequest.purchase_id == ServicePurchase.id)
            .where(ServiceRequest.state == "completed"),
            ServicePurchase.district,
        ).group_by(ServicePurchase.district)
    ).all():
        out[d]["delivered"] = int(n)
    for d, n in session.execute(
        where(
            select(StaffTraining.district, func.count(func.distinct(StaffTraining.staff_name))),
            StaffTraining.district,
        ).group_by(StaffTraining.district)
    ).all():
        out[d]["staff_trained"] = int(n)
    for d, n in session.execute(
        where(select(LiaisonOfficial.district, func.count()), LiaisonOfficial.district).group_by(
            LiaisonOfficial.district
        )
    ).all():
        out[d]["officials"] = int(n)
    for d, n in session.execute(
        where(
            select(LiaisonAssignment.district, func.count()).where(LiaisonAssignment.until.is_(None)),
            LiaisonAssignment.district,
        ).group_by(LiaisonAssignment.district)
    ).all():
        out[d]["businesses_in_contact"] = int(n)
    for d, n in session.execute(
        where(select(LiaisonVisit.district, func.count()), LiaisonVisit.district).group_by(
            LiaisonVisit.district
        )
    ).all():
        out[d]["visits"] = int(n)
    raised, solved, overdue = _problem_counts(today)
    for d, r, s, o in session.execute(
        where(select(LiaisonProblem.district, raised, solved, overdue), LiaisonProblem.district).group_by(
            LiaisonProblem.district
        )
    ).all():
        out[d].update(problems_raised=int(r), problems_solved=int(s or 0), problems_overdue=int(o or 0))
    open_t = func.sum(case((CoordinationTask.state == "open", 1), else_=0))
    late_t = func.sum(
        case(((CoordinationTask.state == "open") & (CoordinationTask.due_on < today), 1), else_=0)
    )
    for d, n, o, late in session.execute(
        where(
            select(CoordinationTask.district, func.count(), open_t, late_t), CoordinationTask.district
        ).group_by(CoordinationTask.district)
    ).all():
        out[d].update(tasks=int(n), tasks_open=int(o or 0), tasks_overdue=int(late or 0))
    rows = []
    for d in sorted(out):
        row = dict(out[d])
        row["district"] = d
        row["rating_avg"] = round(row["rating_sum"] / row["rated"], 2) if row.get("rated") else None
        rows.append(row)
    return rows


def businesses_of(session: Session, ids: set[int]) -> dict[int, Business]:
    if not ids:
        return {}
    return {b.id: b for b in session.execute(select(Business).where(Business.id.in_(ids))).scalars()}


def offerings_by_id(session: Session, ids: set[int]) -> dict[int, ServiceOffering]:
    if not ids:
        return {}
    return {
        o.id: o for o in session.execute(select(ServiceOffering).where(ServiceOffering.id.in_(ids))).scalars()
    }


def officials_by_id(session: Session, ids: set[int | None]) -> dict[int, LiaisonOfficial]:
    real = {i for i in ids if i is not None}
    if not real:
        return {}
    return {
        o.id: o
        for o in session.execute(select(LiaisonOfficial).where(LiaisonOfficial.id.in_(real))).scalars()
    }


def assignments(
    session: Session, *, district: int | None, current_only: bool = False
) -> list[LiaisonAssignment]:
    stmt = select(LiaisonAssignment).order_by(LiaisonAssignment.business_id, LiaisonAssignment.since.desc())
    if district is not None:
        stmt = stmt.where(LiaisonAssignment.district == district)
    if current_only:
        stmt = stmt.where(LiaisonAssignment.until.is_(None))
    return list(session.execute(stmt).scalars())


def visits(session: Session, *, district: int | None) -> list[LiaisonVisit]:
    stmt = select(LiaisonVisit).order_by(LiaisonVisit.visited_on.desc(), LiaisonVisit.id.desc())
    if district is not None:
        stmt = stmt.where(LiaisonVisit.district == district)
    return list(session.execute(stmt).scalars())


def officials(session: Session, *, district: int | None) -> list[LiaisonOfficial]:
    stmt = select(LiaisonOfficial).order_by(LiaisonOfficial.district, LiaisonOfficial.id)
    if district is not None:
        stmt = stmt.where(LiaisonOfficial.district == district)
    return list(session.execute(stmt).scalars())
