"""Queries of the application domain (the services hold the rules, this module the SQL).

Functions take a Session and never commit. :func:`work_queue` is the staff work list the pages use:
applications in the actor's scope, filtered by state, kind, district, street (the window where the
application was made, ``form['街道']``), date and text, sorted and paged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, select, update
from sqlalchemy.orm import Session

from xiangchuang.applications.kinds import KINDS
from xiangchuang.errors import Forbidden, NotFound, ValidationFailed
from xiangchuang.models import (
    Application,
    Attachment,
    Business,
    Carrier,
    Determination,
    Employment,
    Enrolment,
    Grant,
    Invitation,
    MatchResult,
    MatchRun,
    Objection,
    Person,
    PublicityBatch,
    PublicityLine,
    TransitionLog,
)
from xiangchuang.models.applications import APPLICATION_STATES
from xiangchuang.registry.repository import founder_in_force

# --- one application -------------------------------------------------------------------------------


def load(session: Session, application_id: int) -> Application:
    """The application as it is in the database now (refreshed), or NotFound."""
    app = session.execute(
        select(Application).where(Application.id == application_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if app is None:
        raise NotFound(f"申请 {application_id} 不存在")
    return app


def append_transition(session: Session, row: TransitionLog) -> TransitionLog:
    """Add one transition to its application's history with ``entered_at`` filled: the ``at`` of the
    transition before it in (at, id) order — the last one at or before ``row.at`` (a new row has the
    largest id), NULL if none. Should the history hold a later transition (a clock set back), that one
    now follows the new row: its ``entered_at`` becomes ``row.at``. Both are probes of the history index
    (application_id, at, id); the caller holds the application's row (its version update) so no other
    transition of it is written meanwhile."""
    history = (TransitionLog.application_id == row.application_id,)
    row.entered_at = session.execute(
        select(TransitionLog.at)
        .where(*history, TransitionLog.at <= row.at)
        .order_by(TransitionLog.at.desc(), TransitionLog.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    successor = (
        select(TransitionLog.id)
        .where(*history, TransitionLog.at > row.at)
        .order_by(TransitionLog.at, TransitionLog.id)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(
        update(TransitionLog)
        .where(TransitionLog.id == successor)
        .values(entered_at=row.at)
        .execution_options(synchronize_session=False)
    )
    session.add(row)
    return row


def open_objections(session: Session, application_id: int) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(Objection)
            .where(Objection.application_id == application_id, Objection.resolved_at.is_(None))
        ).scalar_one()
    )


def latest_amount(session: Session, application_id: int, stage: str = "second_review") -> int | None:
    """The amount of the latest determination at ``stage`` (None when there is none or no amount)."""
    value = session.execute(
        select(Determination.amount_fen)
        .where(Determination.application_id == application_id, Determination.stage == stage)
        .order_by(Determination.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if value is None else int(value)


def latest_checkup(session: Session, application_id: int) -> tuple[str, int | None] | None:
    """(status, amount) of the latest check-up determination."""
    row = session.execute(
        select(Determination.status, Determination.amount_fen)
        .where(Determination.application_id == application_id, Determination.stage == "checkup")
        .order_by(Determination.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (str(row.status), None if row.amount_fen is None else int(row.amount_fen))


def determinations(session: Session, application_id: int) -> Sequence[Determination]:
    return (
        session.execute(
            select(Determination)
            .where(Determination.application_id == application_id)
            .order_by(Determination.id)
        )
        .scalars()
        .all()
    )


# --- registry look-ups for the application's subject -------------------------------------------------


def hired_person_no(session: Session, employment_no: str) -> str | None:
    """The person number of the person hired under an employment (job / social-insurance subsidies)."""
    value = session.execute(
        select(Person.person_no)
        .join(Employment, Employment.person_id == Person.id)
        .where(Employment.employment_no == employment_no)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def has_grant(session: Session, program: str, subject_key: str, *, exclude_period: str | None = None) -> bool:
    """Whether the register holds a grant of ``program`` for ``subject_key`` (optionally not counting
    the rows of one period)."""
    stmt = select(Grant.id).where(Grant.program == program, Grant.subject_key == subject_key)
    if exclude_period is not None:
        stmt = stmt.where(Grant.period != exclude_period)
    return session.execute(stmt.limit(1)).first() is not None


def trainee_person_no(session: Session, training_no: str) -> str | None:
    """The person number of the trainee of a training record (training subsidies: once per kind)."""
    value = session.execute(
        select(Person.person_no)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(Enrolment.training_no == training_no)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def founder_of(session: Session, business_id: int, *, on: dt.date) -> Person | None:
    """The business's legal representative / operator in force on ``on``: the founder the engine sees
    (one definition, :func:`xiangchuang.registry.repository.founder_in_force`; README choice 23)."""
    return founder_in_force(session, business_id, on)


@dataclass(frozen=True)
class SubjectNames:
    person: Person | None
    business_name: str | None


def subject_names(session: Session, app: Application, *, on: dt.date) -> SubjectNames:
    """The person and business to show for an application on a publicity list of ``on`` (a business
    application without a person: the legal representative in force on ``on``)."""
    person: Person | None = None
    business_name: str | None = None
    if app.applicant_person_no:
        person = session.execute(
            select(Person).where(Person.person_no == app.applicant_person_no)
        ).scalar_one_or_none()
    business: Business | None = None
    if app.subject_table == "businesses":
        business = session.execute(
            select(Business).where(Business.business_no == app.subject_key)
        ).scalar_one_or_none()
    elif app.subject_table == "hires":
        business = session.execute(
            select(Business)
            .join(Employment, Employment.business_id == Business.id)
            .where(Employment.employment_no == app.subject_key)
        ).scalar_one_or_none()
    elif app.subject_table == "persons" and person is None:
        person = session.execute(
            select(Person).where(Person.person_no == app.subject_key)
        ).scalar_one_or_none()
    elif app.subject_table == "carriers":
        business_name = session.execute(
            select(Carrier.name).where(Carrier.carrier_no == app.subject_key)
        ).scalar_one_or_none()
    if business is not None:
        business_name = business.name
        if person is None:
            person = founder_of(session, business.id, on=on)
    return SubjectNames(person, business_name)


def business_id_of(session: Session, subject_table: str, subject_key: str) -> int | None:
    """The registry business an application's subject belongs to: the business itself, or a hire's
    employer; None for any other subject (a person, a training, a carrier …) or a key not in the registry."""
    business_id: Any = None
    if subject_table == "businesses":
        business_id = session.execute(select(Business.id).where(Business.business_no == subject_key)).scalar()
    elif subject_table == "hires":
        business_id = session.execute(
            select(Employment.business_id).where(Employment.employment_no == subject_key)
        ).scalar()
    return None if business_id is None else int(business_id)


def person_no_for_subject(
    session: Session, subject_table: str, subject_key: str, *, on: dt.date
) -> str | None:
    """Whose account an invitation goes to: the person, or the business's legal representative in
    force on ``on`` (the match date; for a hire, the employer's)."""
    if subject_table == "persons":
        found = session.execute(select(Person.person_no).where(Person.person_no == subject_key)).scalar()
        return None if found is None else str(found)
    business_id = business_id_of(session, subject_table, subject_key)
    if business_id is None:
        return None
    person = founder_of(session, int(business_id), on=on)
    return None if person is None else person.person_no


# --- attachments -------------------------------------------------------------------------------------


def attachment(session: Session, attachment_id: int) -> Attachment | None:
    return session.get(Attachment, attachment_id)


def attachment_by_content(
    session: Session, *, application_id: int, material: str, sha256: str
) -> Attachment | None:
    return session.execute(
        select(Attachment).where(
            Attachment.application_id == application_id,
            Attachment.material == material,
            Attachment.sha256 == sha256,
        )
    ).scalar_one_or_none()


def attachments_of(session: Session, application_id: int) -> Sequence[Attachment]:
    return (
        session.execute(
            select(Attachment).where(Attachment.application_id == application_id).order_by(Attachment.id)
        )
        .scalars()
        .all()
    )


def materials_present(session: Session, application_id: int) -> set[str]:
    return set(
        session.execute(
            select(Attachment.material).where(Attachment.application_id == application_id).distinct()
        ).scalars()
    )


def all_attachment_hashes(session: Session) -> set[str]:
    return set(session.execute(select(Attachment.sha256).distinct()).scalars())


# --- publicity ---------------------------------------------------------------------------------------


def publicity_batch_on(session: Session, *, district: int, start: dt.date) -> PublicityBatch | None:
    return session.execute(
        select(PublicityBatch).where(PublicityBatch.district == district, PublicityBatch.start_date == start)
    ).scalar_one_or_none()


def publicity_batch(
    session: Session, *, batch_id: int | None = None, batch_no: str | None = None
) -> PublicityBatch:
    query = select(PublicityBatch)
    query = (
        query.where(PublicityBatch.id == batch_id)
        if batch_id is not None
        else query.where(PublicityBatch.batch_no == batch_no)
    )
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"公示批次 {batch_no if batch_no is not None else batch_id} 不存在")
    return found


def next_line_seq(session: Session, batch_id: int) -> int:
    top = session.execute(
        select(func.coalesce(func.max(PublicityLine.seq), 0)).where(PublicityLine.batch_id == batch_id)
    ).scalar_one()
    return int(top) + 1


def current_line(session: Session, application_id: int) -> PublicityLine | None:
    """The application's listed (not withdrawn) publicity line, if any."""
    return session.execute(
        select(PublicityLine)
        .where(PublicityLine.application_id == application_id, PublicityLine.status == "listed")
        .order_by(PublicityLine.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def line_in_batch(session: Session, *, batch_id: int, application_id: int) -> PublicityLine | None:
    return session.execute(
        select(PublicityLine).where(
            PublicityLine.batch_id == batch_id, PublicityLine.application_id == application_id
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class LineRow:
    line: PublicityLine
    application: Application
    person: Person | None
    open_objections: int


def batch_lines(session: Session, batch_id: int, *, listed_only: bool = False) -> list[LineRow]:
    open_count = (
        select(Objection.publicity_line_id, func.count().label("n"))
        .where(Objection.resolved_at.is_(None), Objection.publicity_line_id.is_not(None))
        .group_by(Objection.publicity_line_id)
        .subquery()
    )
    query = (
        select(PublicityLine, Application, Person, func.coalesce(open_count.c.n, 0))
        .join(Application, Application.id == PublicityLine.application_id)
        .outerjoin(Person, Person.id == PublicityLine.person_id)
        .outerjoin(open_count, open_count.c.publicity_line_id == PublicityLine.id)
        .where(PublicityLine.batch_id == batch_id)
        .order_by(PublicityLine.seq)
    )
    if listed_only:
        query = query.where(PublicityLine.status == "listed")
    return [LineRow(line, app, person, int(n)) for line, app, person, n in session.execute(query)]


def line_objections(session: Session, line_id: int) -> Sequence[Objection]:
    return (
        session.execute(
            select(Objection).where(Objection.publicity_line_id == line_id).order_by(Objection.id)
        )
        .scalars()
        .all()
    )


# --- invitations -------------------------------------------------------------------------------------


def match_run(session: Session, run_id: int) -> MatchRun:
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound(f"政策找人运行 {run_id} 不存在")
    return run


def match_results(
    session: Session,
    *,
    run_id: int,
    statuses: Sequence[str],
    programs: Sequence[str] | None,
    district: int | None,
) -> Sequence[MatchResult]:
    query = select(MatchResult).where(MatchResult.run_id == run_id, MatchResult.status.in_(statuses))
    if programs is not None:
        query = query.where(MatchResult.program.in_(programs))
    if district is not None:
        query = query.where(MatchResult.district == district)
    return session.execute(query.order_by(MatchResult.id)).scalars().all()


def invitation_for(session: Session, *, run_id: int, subject_key: str, program: str) -> Invitation | None:
    return session.execute(
        select(Invitation).where(
            Invitation.run_id == run_id, Invitation.subject_key == subject_key, Invitation.program == program
        )
    ).scalar_one_or_none()


def invitation_of(session: Session, application_id: int) -> Invitation | None:
    return session.execute(
        select(Invitation).where(Invitation.application_id == application_id)
    ).scalar_one_or_none()


def expired_invitations(session: Session, *, today: dt.date, limit: int = 1000) -> list[int]:
    """Applications still 'invited' whose invitation ended before ``today``."""
    return list(
        session.execute(
            select(Application.id)
            .join(Invitation, Invitation.application_id == Application.id)
            .where(Application.state == "invited", Invitation.expires_on < today)
            .order_by(Application.id)
            .limit(limit)
        ).scalars()
    )


# --- the work queue ----------------------------------------------------------------------------------

SORTS: Final = {
    "created": Application.created_at,
    "updated": Application.updated_at,
    "application_no": Application.application_no,
    "amount": Application.amount_requested_fen,
    "state": Application.state,
    "kind": Application.kind,
}
MAX_PAGE_SIZE: Final = 200


@dataclass(frozen=True)
class QueueFilter:
    """What a staff work list shows. Empty tuples / None mean "any"."""

    states: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    district: int | None = None  # city_admin only; staff always see their own district
    street: str | None = None  # 街道/乡镇 (the window where the application was made)
    subject_key: str | None = None
    application_no: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None  # inclusive
    on_behalf: bool | None = None
    has_open_objection: bool | None = None


@dataclass(frozen=True)
class Page:
    items: list[Application]
    total: int
    page: int
    page_size: int
    sort: str
    descending: bool
    filters: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def _queue_conditions(
    flt: QueueFilter, *, role: str, actor: str, actor_district: int | None
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if role == "applicant":
        where.append(Application.applicant_user == actor)
    elif role == "city_admin":
        if flt.district is not None:
            where.append(Application.district == flt.district)
    elif role in ("window_clerk", "district_reviewer", "district_finance"):
        if actor_district is None:
            raise Forbidden("工作人员须属于一个区县")
        if flt.district is not None and flt.district != actor_district:
            raise Forbidden(f"无权查看其他区县（{flt.district}）的申请")
        where.append(Application.district == actor_district)
    else:
        raise Forbidden(f"角色 {role!r} 没有申请工作台")
    bad_states = set(flt.states) - set(APPLICATION_STATES)
    if bad_states:
        raise ValidationFailed(f"状态筛选中有未知状态：{'、'.join(sorted(bad_states))}")
    bad_kinds = set(flt.kinds) - set(KINDS)
    if bad_kinds:
        raise ValidationFailed(f"申请类型筛选中有未知类型：{'、'.join(sorted(bad_kinds))}")
    if flt.states:
        where.append(Application.state.in_(flt.states))
    if flt.kinds:
        where.append(Application.kind.in_(flt.kinds))
    if flt.street:
        where.append(_street(flt.street))
    if flt.subject_key:
        where.append(Application.subject_key == flt.subject_key.strip())
    if flt.application_no:
        where.append(Application.application_no == flt.application_no.strip())
    china = dt.timezone(dt.timedelta(hours=8))
    if flt.created_from is not None:
        # bound in UTC: SQLite keeps CURRENT_TIMESTAMP as UTC text, PostgreSQL compares instants
        start = dt.datetime.combine(flt.created_from, dt.time(), china).astimezone(dt.UTC)
        where.append(Application.created_at >= start)
    if flt.created_to is not None:
        end = dt.datetime.combine(flt.created_to + dt.timedelta(days=1), dt.time(), china).astimezone(dt.UTC)
        where.append(Application.created_at < end)
    if flt.on_behalf is not None:
        where.append(Application.on_behalf.is_(flt.on_behalf))
    if flt.has_open_objection is not None:
        exists = (
            select(Objection.id)
            .where(Objection.application_id == Application.id, Objection.resolved_at.is_(None))
            .exists()
        )
        where.append(exists if flt.has_open_objection else ~exists)
    return where


def _street(street: str) -> ColumnElement[bool]:
    return Application.street == street.strip()


def work_queue(
    session: Session,
    *,
    actor: str,
    role: str,
    actor_district: int | None,
    filters: QueueFilter | None = None,
    sort: str = "created",
    descending: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> Page:
    """Applications in the actor's scope matching ``filters``, sorted (ties by id) and paged."""
    flt = filters or QueueFilter()
    if sort not in SORTS:
        raise ValidationFailed(f"排序字段 {sort!r} 不正确，可选：{'、'.join(SORTS)}")
    if page < 1:
        raise ValidationFailed("页码从 1 开始")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"每页条数须在 1–{MAX_PAGE_SIZE} 之间")
    where = _queue_conditions(flt, role=role, actor=actor, actor_district=actor_district)
    base = select(Application).where(and_(*where)) if where else select(Application)
    total = int(session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    column: Any = SORTS[sort]
    order: list[Any] = (
        [column.desc().nulls_last(), Application.id.desc()]
        if descending
        else [column.asc().nulls_last(), Application.id.asc()]
    )
    items: list[Application] = list(
        session.execute(base.order_by(*order).offset((page - 1) * page_size).limit(page_size)).scalars()
    )
    return Page(items, total, page, page_size, sort, descending, filters=_describe(flt))


def _describe(flt: QueueFilter) -> dict[str, Any]:
    return {k: v for k, v in flt.__dict__.items() if v not in (None, ())}


def states_count(session: Session, *, district: int | None) -> dict[str, int]:
    """Applications per state (a dashboard's counters), for one district or the city."""
    query = select(Application.state, func.count()).group_by(Application.state)
    if district is not None:
        query = query.where(Application.district == district)
    return {str(s): int(n) for s, n in session.execute(query)}


__all__ = [
    "LineRow",
    "Page",
    "QueueFilter",
    "SubjectNames",
    "attachment",
    "attachment_by_content",
    "attachments_of",
    "batch_lines",
    "current_line",
    "determinations",
    "expired_invitations",
    "founder_of",
    "hired_person_no",
    "invitation_for",
    "invitation_of",
    "latest_amount",
    "latest_checkup",
    "line_in_batch",
    "line_objections",
    "load",
    "match_results",
    "match_run",
    "materials_present",
    "next_line_seq",
    "open_objections",
    "person_no_for_subject",
    "publicity_batch",
    "publicity_batch_on",
    "states_count",
    "subject_names",
    "work_queue",
]
