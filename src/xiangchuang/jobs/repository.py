"""Queries of the jobs service: the public board, a business's posts, the staff queue, seekers, and the
arrays matching runs on. Every staff list takes the district to filter by (None: the whole city)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.jobs.catalogue import skill_mask
from xiangchuang.jobs.matching import Side, town_keys
from xiangchuang.models import Business, JobApplication, JobPost, JobSeeker, OnjobTraining, Person

PAGE: int = 50


@dataclass(frozen=True)
class BoardFilter:
    district: int | None = None
    town: str | None = None
    trade: str | None = None
    min_wage_fen: int | None = None  # the post's maximum reaches it
    text: str | None = None  # in the post title


def board(session: Session, f: BoardFilter, *, page: int = 1) -> tuple[list[tuple[JobPost, str]], int]:
    """The public board: published posts with the business name (a business is not personal data)."""
    stmt = select(JobPost, Business.name).join(Business, Business.id == JobPost.business_id)
    stmt = stmt.where(JobPost.state == "published", JobPost.hired < JobPost.positions)
    if f.district is not None:
        stmt = stmt.where(JobPost.district == f.district)
    if f.town:
        stmt = stmt.where(JobPost.town.contains(f.town))
    if f.trade:
        stmt = stmt.where(JobPost.trade == f.trade)
    if f.min_wage_fen is not None:
        stmt = stmt.where(JobPost.wage_max_fen >= f.min_wage_fen)
    if f.text:
        stmt = stmt.where(or_(JobPost.title.contains(f.text), Business.name.contains(f.text)))
    total = int(session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())
    rows = session.execute(
        stmt.order_by(JobPost.published_on.desc(), JobPost.id.desc()).limit(PAGE).offset((page - 1) * PAGE)
    ).all()
    return [(p, str(name)) for p, name in rows], total


def post_by_no(session: Session, post_no: str) -> JobPost | None:
    return session.execute(select(JobPost).where(JobPost.post_no == post_no)).scalar_one_or_none()


def seeker_by_no(session: Session, seeker_no: str) -> JobSeeker | None:
    return session.execute(select(JobSeeker).where(JobSeeker.seeker_no == seeker_no)).scalar_one_or_none()


def seeker_of_person(session: Session, person_id: int) -> JobSeeker | None:
    return session.execute(select(JobSeeker).where(JobSeeker.person_id == person_id)).scalar_one_or_none()


def business_posts(session: Session, business_id: int) -> list[JobPost]:
    return list(
        session.execute(select(JobPost).where(JobPost.business_id == business_id).order_by(JobPost.id.desc()))
        .scalars()
        .all()
    )


def queue(session: Session, district: int | None, state: str = "reported") -> list[tuple[JobPost, str]]:
    stmt = select(JobPost, Business.name).join(Business, Business.id == JobPost.business_id)
    stmt = stmt.where(JobPost.state == state)
    if district is not None:
        stmt = stmt.where(JobPost.district == district)
    return [(p, str(n)) for p, n in session.execute(stmt.order_by(JobPost.id).limit(200)).all()]


def seekers_in(session: Session, district: int | None) -> list[tuple[JobSeeker, Person]]:
    stmt = select(JobSeeker, Person).join(Person, Person.id == JobSeeker.person_id)
    if district is not None:
        stmt = stmt.where(JobSeeker.district == district)
    return [(s, p) for s, p in session.execute(stmt.order_by(JobSeeker.id.desc()).limit(200)).all()]


def applications_of_post(session: Session, post_id: int) -> list[tuple[JobApplication, JobSeeker, Person]]:
    stmt = (
        select(JobApplication, JobSeeker, Person)
        .join(JobSeeker, JobSeeker.id == JobApplication.seeker_id)
        .join(Person, Person.id == JobSeeker.person_id)
        .where(JobApplication.post_id == post_id)
        .order_by(JobApplication.id)
    )
    return [(a, s, p) for a, s, p in session.execute(stmt).all()]


def applications_of_seeker(session: Session, seeker_id: int) -> list[tuple[JobApplication, JobPost, str]]:
    stmt = (
        select(JobApplication, JobPost, Business.name)
        .join(JobPost, JobPost.id == JobApplication.post_id)
        .join(Business, Business.id == JobPost.business_id)
        .where(JobApplication.seeker_id == seeker_id)
        .order_by(JobApplication.id.desc())
    )
    return [(a, p, str(n)) for a, p, n in session.execute(stmt).all()]


def onjob_trainings(
    session: Session,
    *,
    district: int | None = None,
    business_id: int | None = None,
    person_id: int | None = None,
) -> list[OnjobTraining]:
    stmt = select(OnjobTraining)
    conds = []
    if district is not None:
        conds.append(OnjobTraining.district == district)
    if business_id is not None or person_id is not None:
        conds.append(
            or_(
                and_(OnjobTraining.business_id.is_not(None), OnjobTraining.business_id == business_id),
                and_(OnjobTraining.person_id.is_not(None), OnjobTraining.person_id == person_id),
            )
        )
    if conds:
        stmt = stmt.where(*conds)
    return list(session.execute(stmt.order_by(OnjobTraining.id.desc()).limit(200)).scalars().all())


# ---- arrays for matching -------------------------------------------------------------------------


@dataclass
class Market:
    """Open posts and active seekers as matching arrays, with their database rows' ids in order."""

    posts: Side
    seekers: Side
    post_ids: list[int]
    seeker_ids: list[int]


def market(session: Session, *, on: dt.date, extra_seeker_ids: tuple[int, ...] = ()) -> Market:
    """Every open post and every active seeker (plus ``extra_seeker_ids`` whatever their state)."""
    posts = session.execute(
        select(
            JobPost.id,
            JobPost.skills,
            JobPost.district,
            JobPost.town,
            JobPost.wage_min_fen,
            JobPost.wage_max_fen,
        )
        .where(JobPost.state == "published", JobPost.hired < JobPost.positions)
        .order_by(JobPost.id)
    ).all()
    cond = JobSeeker.state == "active"
    if extra_seeker_ids:
        cond = or_(cond, JobSeeker.id.in_(extra_seeker_ids))
    seekers = session.execute(
        select(
            JobSeeker.id, JobSeeker.skills, JobSeeker.district, JobSeeker.town, JobSeeker.wage_expected_fen
        )
        .where(cond)
        .order_by(JobSeeker.id)
    ).all()
    towns = town_keys(
        [int(r[2]) for r in posts] + [int(r[2]) for r in seekers],
        [str(r[3]) for r in posts] + [str(r[3]) for r in seekers],
    )
    n = len(posts)
    post_side = Side(
        mask=np.asarray([skill_mask(r[1]) for r in posts], dtype=np.uint64),
        district=np.asarray([r[2] for r in posts], dtype=np.int64),
        town=towns[:n],
        wage_lo=np.asarray([r[4] for r in posts], dtype=np.float32),
        wage_hi=np.asarray([r[5] for r in posts], dtype=np.float32),
    )
    wage = np.asarray([r[4] for r in seekers], dtype=np.float32)
    seeker_side = Side(
        mask=np.asarray([skill_mask(r[1]) for r in seekers], dtype=np.uint64),
        district=np.asarray([r[2] for r in seekers], dtype=np.int64),
        town=towns[n:],
        wage_lo=wage,
        wage_hi=wage,
    )
    return Market(post_side, seeker_side, [int(r[0]) for r in posts], [int(r[0]) for r in seekers])
