"""Read queries of the mentor pool for pages, the API and statistics. No selection (who was drawn) is
ever read here: that exists only in the sealed manifest, behind :mod:`xiangchuang.mentors.service`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import (
    AccelerationSelection,
    DrawCommitment,
    Mentor,
    MentorDraw,
    MentorEvent,
    MentorEventProject,
    MentorService,
    Person,
)

PAGE: Final = 200


@dataclass(frozen=True)
class PoolRow:
    mentor_no: str
    masked_name: str
    level: str
    specialty: str
    district: int
    employer_name: str | None
    available: bool
    status: str
    has_login: bool


def pool(
    session: Session,
    *,
    district: int | None = None,
    level: str | None = None,
    specialty: str | None = None,
    status: str | None = None,
    q: str | None = None,
    limit: int = PAGE,
) -> list[PoolRow]:
    """The pool, filtered; names masked (a list never shows a full name)."""
    stmt = select(Mentor, Person.name).join(Person, Person.id == Mentor.person_id)
    if district is not None:
        stmt = stmt.where(Mentor.district == district)
    if level:
        stmt = stmt.where(Mentor.level == level)
    if specialty:
        stmt = stmt.where(Mentor.specialty == specialty)
    if status:
        stmt = stmt.where(Mentor.status == status)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Mentor.mentor_no == q, Mentor.employer_name.like(like), Person.name == q))
    rows = session.execute(stmt.order_by(Mentor.mentor_no).limit(limit)).all()
    return [
        PoolRow(
            m.mentor_no,
            mask_name_middle(name or ""),
            m.level,
            m.specialty,
            m.district,
            m.employer_name,
            bool(m.available),
            m.status,
            m.user_id is not None,
        )
        for m, name in rows
    ]


def events(session: Session, *, district: int | None = None) -> list[MentorEvent]:
    """Events, newest first; ``district`` limits to that district's events."""
    stmt = select(MentorEvent)
    if district is not None:
        stmt = stmt.where(MentorEvent.district == district)
    return list(
        session.execute(stmt.order_by(MentorEvent.event_date.desc(), MentorEvent.id.desc())).scalars()
    )


def event(session: Session, event_no: str) -> MentorEvent | None:
    return session.execute(select(MentorEvent).where(MentorEvent.event_no == event_no)).scalar_one_or_none()


def projects(session: Session, event_id: int) -> list[MentorEventProject]:
    return list(
        session.execute(
            select(MentorEventProject)
            .where(MentorEventProject.event_id == event_id)
            .order_by(
                MentorEventProject.rank.is_(None), MentorEventProject.rank, MentorEventProject.project_no
            )
        ).scalars()
    )


def commitments(session: Session, event_id: int) -> list[DrawCommitment]:
    return list(
        session.execute(
            select(DrawCommitment).where(DrawCommitment.event_id == event_id).order_by(DrawCommitment.id)
        ).scalars()
    )


def draw(session: Session, event_id: int) -> MentorDraw | None:
    return session.execute(select(MentorDraw).where(MentorDraw.event_id == event_id)).scalar_one_or_none()


@dataclass(frozen=True)
class ServiceRow:
    service_no: str
    mentor_no: str
    activity: str
    units: int
    district: int
    occurred_on: dt.date
    organiser: str
    rating: str | None
    confirmed: bool


def services(
    session: Session, *, district: int | None = None, mentor_id: int | None = None, limit: int = PAGE
) -> list[ServiceRow]:
    stmt = select(MentorService, Mentor.mentor_no).join(Mentor, Mentor.id == MentorService.mentor_id)
    if district is not None:
        stmt = stmt.where(MentorService.district == district)
    if mentor_id is not None:
        stmt = stmt.where(MentorService.mentor_id == mentor_id)
    rows = session.execute(
        stmt.order_by(MentorService.occurred_on.desc(), MentorService.id.desc()).limit(limit)
    )
    return [
        ServiceRow(
            s.service_no,
            no,
            s.activity,
            s.units,
            s.district,
            s.occurred_on,
            s.organiser,
            s.rating,
            s.confirmed_at is not None,
        )
        for s, no in rows.all()
    ]


def mentor_of_user(session: Session, login: str) -> Mentor | None:
    return session.execute(select(Mentor).where(Mentor.user_id == login)).scalar_one_or_none()


def award_candidates(session: Session, year: int) -> list[tuple[MentorEvent, MentorEventProject]]:
    """Award-winning returning-entrepreneur projects of the year not yet selected for acceleration."""
    chosen = select(AccelerationSelection.project_id).where(AccelerationSelection.year == year)
    rows = session.execute(
        select(MentorEvent, MentorEventProject)
        .join(MentorEventProject, MentorEventProject.event_id == MentorEvent.id)
        .where(
            MentorEvent.year == year,
            MentorEventProject.award.is_not(None),
            MentorEventProject.is_returning.is_(True),
            MentorEventProject.id.not_in(chosen),
        )
        .order_by(MentorEvent.event_no, MentorEventProject.rank)
    ).all()
    return [(e, p) for e, p in rows]


def count_mentors(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Mentor)).scalar_one())


def service_mentor_person(session: Session, service_no: str) -> tuple[MentorService, str] | None:
    """A service record and its mentor's registry person number (the applicant of the subsidy)."""
    row = session.execute(
        select(MentorService, Person.person_no)
        .join(Mentor, Mentor.id == MentorService.mentor_id)
        .join(Person, Person.id == Mentor.person_id)
        .where(MentorService.service_no == service_no)
    ).first()
    return None if row is None else (row[0], str(row[1]))
