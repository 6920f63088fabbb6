"""Queries of the training records (every list is filtered by the caller's scope)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiangchuang.errors import NotFound
from xiangchuang.models import (
    Accreditation,
    Application,
    Attendance,
    ClassTeacher,
    Course,
    Enrolment,
    Person,
    Purchase,
    TrainingClass,
    TrainingProvider,
)


def provider(session: Session, provider_id: int) -> TrainingProvider:
    row = session.get(TrainingProvider, provider_id)
    if row is None:
        raise NotFound(f"培训机构（编号 {provider_id}）不存在")
    return row


def provider_by_org(session: Session, org_code: str | None) -> TrainingProvider | None:
    if not org_code:
        return None
    return session.execute(
        select(TrainingProvider).where(TrainingProvider.org_code == org_code)
    ).scalar_one_or_none()


def providers(session: Session, district: int | None) -> Sequence[TrainingProvider]:
    stmt = select(TrainingProvider).order_by(TrainingProvider.id)
    if district is not None:
        stmt = stmt.where(TrainingProvider.district == district)
    return session.execute(stmt).scalars().all()


def accreditations(session: Session, provider_id: int) -> Sequence[Accreditation]:
    return (
        session.execute(
            select(Accreditation)
            .where(Accreditation.provider_id == provider_id)
            .order_by(Accreditation.valid_from, Accreditation.id)
        )
        .scalars()
        .all()
    )


def course(session: Session, course_id: int) -> Course:
    row = session.get(Course, course_id)
    if row is None:
        raise NotFound(f"课程（编号 {course_id}）不存在")
    return row


def courses(session: Session) -> Sequence[Course]:
    return session.execute(select(Course).order_by(Course.kind, Course.course_code)).scalars().all()


def klass(session: Session, class_id: int) -> TrainingClass:
    row = session.get(TrainingClass, class_id)
    if row is None:
        raise NotFound(f"培训班（编号 {class_id}）不存在")
    return row


def classes(
    session: Session,
    *,
    provider_id: int | None = None,
    district: int | None = None,
    open_only: bool = False,
    from_date: dt.date | None = None,
) -> Sequence[tuple[TrainingClass, Course, TrainingProvider]]:
    stmt = (
        select(TrainingClass, Course, TrainingProvider)
        .join(Course, Course.id == TrainingClass.course_id)
        .join(TrainingProvider, TrainingProvider.id == TrainingClass.provider_id)
        .order_by(TrainingClass.start_date, TrainingClass.id)
    )
    if provider_id is not None:
        stmt = stmt.where(TrainingClass.provider_id == provider_id)
    if district is not None:
        stmt = stmt.where(TrainingClass.district == district)
    if open_only:
        stmt = stmt.where(TrainingClass.state == "open")
    if from_date is not None:
        stmt = stmt.where(TrainingClass.start_date >= from_date)
    return [(c, co, p) for c, co, p in session.execute(stmt).all()]


def teachers(session: Session, class_id: int) -> Sequence[ClassTeacher]:
    return (
        session.execute(
            select(ClassTeacher).where(ClassTeacher.class_id == class_id).order_by(ClassTeacher.id)
        )
        .scalars()
        .all()
    )


def enrolment(session: Session, enrolment_id: int) -> Enrolment:
    row = session.get(Enrolment, enrolment_id)
    if row is None:
        raise NotFound(f"报名记录（编号 {enrolment_id}）不存在")
    return row


def enrolment_by_no(session: Session, training_no: str) -> Enrolment | None:
    return session.execute(select(Enrolment).where(Enrolment.training_no == training_no)).scalar_one_or_none()


def roster(session: Session, class_id: int) -> Sequence[tuple[Enrolment, Person]]:
    stmt = (
        select(Enrolment, Person)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.class_id == class_id)
        .order_by(Enrolment.state, Enrolment.waiting_seq, Enrolment.id)
    )
    return [(e, p) for e, p in session.execute(stmt).all()]


def taken(session: Session, class_id: int) -> int:
    """Places taken: enrolled, and (after completion) completed or not completed."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Enrolment)
            .where(
                Enrolment.class_id == class_id,
                Enrolment.state.in_(("enrolled", "completed", "not_completed")),
            )
        ).scalar_one()
    )


def first_waiting(session: Session, class_id: int) -> Enrolment | None:
    return (
        session.execute(
            select(Enrolment)
            .where(Enrolment.class_id == class_id, Enrolment.state == "waiting")
            .order_by(Enrolment.waiting_seq, Enrolment.id)
            .limit(1)
        )
        .scalars()
        .first()
    )


def max_waiting_seq(session: Session, class_id: int) -> int:
    value = session.execute(
        select(func.max(Enrolment.waiting_seq)).where(Enrolment.class_id == class_id)
    ).scalar_one()
    return int(value or 0)


def attendance(session: Session, class_id: int) -> dict[int, dict[int, bool]]:
    """enrolment id → session number → present."""
    rows = session.execute(
        select(Attendance.enrolment_id, Attendance.session_no, Attendance.present)
        .join(Enrolment, Enrolment.id == Attendance.enrolment_id)
        .where(Enrolment.class_id == class_id)
    ).all()
    out: dict[int, dict[int, bool]] = {}
    for eid, no, present in rows:
        out.setdefault(int(eid), {})[int(no)] = bool(present)
    return out


def person_enrolments(
    session: Session, person_id: int
) -> Sequence[tuple[Enrolment, TrainingClass, Course, TrainingProvider]]:
    stmt = (
        select(Enrolment, TrainingClass, Course, TrainingProvider)
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(Course, Course.id == TrainingClass.course_id)
        .join(TrainingProvider, TrainingProvider.id == TrainingClass.provider_id)
        .where(Enrolment.person_id == person_id)
        .order_by(TrainingClass.start_date, Enrolment.id)
    )
    return [(e, c, co, p) for e, c, co, p in session.execute(stmt).all()]


def by_certificate(
    session: Session, code: str
) -> tuple[Enrolment, TrainingClass, Course, TrainingProvider, Person] | None:
    row = session.execute(
        select(Enrolment, TrainingClass, Course, TrainingProvider, Person)
        .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
        .join(Course, Course.id == TrainingClass.course_id)
        .join(TrainingProvider, TrainingProvider.id == TrainingClass.provider_id)
        .join(Person, Person.id == Enrolment.person_id)
        .where(Enrolment.certificate_code == code)
    ).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


def claims(session: Session, training_nos: Sequence[str]) -> dict[str, Application]:
    """The latest application per training record (any state)."""
    if not training_nos:
        return {}
    rows = (
        session.execute(
            select(Application)
            .where(Application.subject_table == "trainings", Application.subject_key.in_(list(training_nos)))
            .order_by(Application.id)
        )
        .scalars()
        .all()
    )
    return {a.subject_key: a for a in rows}


def purchase(session: Session, purchase_id: int) -> Purchase:
    row = session.get(Purchase, purchase_id)
    if row is None:
        raise NotFound(f"项目制购买合同（编号 {purchase_id}）不存在")
    return row


def purchases(session: Session, district: int | None) -> Sequence[Purchase]:
    stmt = select(Purchase).order_by(Purchase.signed_on.desc(), Purchase.id)
    if district is not None:
        stmt = stmt.where(Purchase.district == district)
    return session.execute(stmt).scalars().all()


def delivered(session: Session, purchase_id: int) -> int:
    """Completed trainees in the classes run under a purchase."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Enrolment)
            .join(TrainingClass, TrainingClass.id == Enrolment.class_id)
            .where(TrainingClass.purchase_id == purchase_id, Enrolment.state == "completed")
        ).scalar_one()
    )
