"""核准 writes the register of what was granted (``grants``), in the approval's own savepoint.

The register is what every once-only / at-most-n rule reads (the engine's ``received`` table, assembled
from it), so an approval that is not registered would let the same subject be paid again. Approval
(:func:`xiangchuang.applications.disbursement.act`) calls :func:`register_approval` after the budget
reservation; a refusal here raises :class:`~xiangchuang.errors.Conflict` and the savepoint leaves the
application, the ledger and the register as they were.

Who the register row is about is the engine's own definition (``engine.case.RECEIVED_SUBJECT``): a
business for startup / online-sales / workshop / rent reduction; the hired person for the job and
social-insurance subsidies (``subject_key`` = ``person_key`` = the person number, as the grant import
writes them); the trainee for the training subsidies (each kind once per person); the carrier for carrier
awards.

What the database holds, so that two approvals racing each other cannot both pass:

- startup_subsidy: each approval takes the next free ``slot`` 1..``startup_subsidy.max_years`` (the
  parameter in force on the approval date); ``(program, subject_key, slot)`` is unique and the table's
  check keeps slots within 1..3, so the fourth year is refused by the database even when the code's
  count was read before another approval committed;
- social_insurance_subsidy: the months are the engine's ``claim_months`` for this claim (the explanation's
  ``amount_info``) and the period is the months claimed, 「YYYY-MM/YYYY-MM」 (``claimed_first_month`` to
  ``claimed_last_month``: two claims of one year are two periods, and the engine refuses a claim
  overlapping them); each row records ``months_from``, the months already registered for the person
  before it (counted as the engine counts them: distinct months), and ``(program, person_key,
  months_from)`` is unique — two concurrent approvals for one person compute the same ``months_from`` and
  the second fails, so the running total can be checked against the person's limit as the engine
  determined it (``claim_limit_months``: 36 months, or up to retirement) without a lost update;
- online sales, training and job subsidies: the partial unique indexes of models/grants.py;
- every program: ``(program, subject_key, period)`` unique.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications.kinds import KINDS
from xiangchuang.engine.assemble import (
    SYB_TOP_UP_PERIOD,
    WORKSHOP_BUILD_PERIOD,
    format_month_range,
    si_months_registered,
)
from xiangchuang.engine.dates import month_index_scalar, month_label
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.errors import Conflict, ValidationFailed
from xiangchuang.models import Application, Carrier, Determination, Employment, Enrolment, Grant, Person

__all__ = ["SUBJECT_RESOLVERS", "RegisterSubject", "register_approval", "subject_of"]


@dataclass(frozen=True)
class RegisterSubject:
    kind: str  # business | person | carrier | …
    key: str  # the register's subject_key
    person_key: str | None  # the hired / trained person, where the program counts per person


def _business(session: Session, app: Application) -> RegisterSubject:
    return RegisterSubject("business", app.subject_key, None)


def _person(session: Session, app: Application) -> RegisterSubject:
    return RegisterSubject("person", app.subject_key, app.subject_key)


def _hire(session: Session, app: Application) -> RegisterSubject:
    person_no = session.execute(
        select(Person.person_no)
        .join(Employment, Employment.person_id == Person.id)
        .where(Employment.employment_no == app.subject_key)
    ).scalar_one_or_none()
    if person_no is None:
        raise ValidationFailed(f"已享受登记：登记库中没有用工记录 {app.subject_key}，无法登记被招用人员")
    return RegisterSubject("person", person_no, person_no)


def _carrier(session: Session, app: Application) -> RegisterSubject:
    if session.execute(select(Carrier.id).where(Carrier.carrier_no == app.subject_key)).first() is None:
        raise ValidationFailed(f"已享受登记：登记库中没有载体 {app.subject_key}")
    return RegisterSubject("carrier", app.subject_key, None)


def _trainee(session: Session, app: Application) -> RegisterSubject:
    """A training record (enrolment): the trainee is the subject — each kind once per person."""
    person_no = session.execute(
        select(Person.person_no)
        .join(Enrolment, Enrolment.person_id == Person.id)
        .where(Enrolment.training_no == app.subject_key)
    ).scalar_one_or_none()
    if person_no is None:
        raise ValidationFailed(f"已享受登记：没有培训记录 {app.subject_key}，无法登记学员")
    return RegisterSubject("person", person_no, person_no)


def _other(session: Session, app: Application) -> RegisterSubject:
    # A record of a service package (a training, a mentor service, an on-job training): the record
    # itself is the subject, the applicant's person (if any) is the person counted.
    singular = app.subject_table[:-1] if app.subject_table.endswith("s") else app.subject_table
    return RegisterSubject(singular[:20], app.subject_key, app.applicant_person_no)


# By the application's subject table; a service package whose records are subjects of applications may
# add its own resolver here (e.g. the trainee of a training record).
SUBJECT_RESOLVERS: Final[dict[str, Callable[[Session, Application], RegisterSubject]]] = {
    "businesses": _business,
    "persons": _person,
    "hires": _hire,
    "carriers": _carrier,
    "trainings": _trainee,
}


def subject_of(session: Session, app: Application) -> RegisterSubject:
    return SUBJECT_RESOLVERS.get(app.subject_table, _other)(session, app)


def _amount_info(session: Session, app: Application) -> dict[str, Any]:
    result = session.execute(
        select(Determination.result)
        .where(Determination.application_id == app.id, Determination.stage == "second_review")
        .order_by(Determination.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    info = (result or {}).get("amount_info") or {}
    return dict(info)


def _startup_slot(session: Session, subject: RegisterSubject, *, on: dt.date, params: ParameterSet) -> int:
    max_years = int(params["startup_subsidy.max_years"].value_at(on))
    taken = set(
        session.execute(
            select(Grant.slot).where(
                Grant.program == "startup_subsidy", Grant.subject_key == subject.key, Grant.slot.is_not(None)
            )
        ).scalars()
    )
    free = [s for s in range(1, max_years + 1) if s not in taken]
    if not free:
        raise Conflict(
            f"创业补助：经营主体 {subject.key} 已享受 {len(taken)} 个年度，"
            f"已达最多 {max_years} 年的上限（已享受登记），不能再核准"
        )
    return free[0]


def _si_period(session: Session, app: Application) -> str:
    """The months this claim pays, as the register's period 「YYYY-MM/YYYY-MM」: the first and last
    month the engine claimed (``amount_info``; within the application's claim period, from the hire
    month, up to the review date). The engine reads them back so that no month is paid twice."""
    info = _amount_info(session, app)
    first, last = info.get("claimed_first_month"), info.get("claimed_last_month")
    if not isinstance(first, int) or not isinstance(last, int) or first < 0 or last < first:
        raise ValidationFailed(
            "社保补贴核准：复审判定中没有补贴的起止月份（claimed_first_month / claimed_last_month），"
            "请重新复审后再核准"
        )
    return format_month_range(first, last)


def _training_period(session: Session, app: Application) -> str:
    """A training subsidy's register period: the month the trainee completed the class 「YYYY-MM」
    (the application's period is the class number, which dates nothing). The engine reads an entry
    dated before a later class's completion as paid for an earlier class, whose reduced SYB share
    that class does not top up (README choice 6); the month of the class itself never does."""
    done = session.execute(
        select(Enrolment.completion_date).where(Enrolment.training_no == app.subject_key)
    ).scalar_one_or_none()
    if done is None:
        raise ValidationFailed(f"已享受登记：培训记录 {app.subject_key} 没有结业日期，不能登记培训补贴")
    return month_label(month_index_scalar(done))


def _si_months(session: Session, app: Application, subject: RegisterSubject) -> tuple[int, int]:
    """(months of this claim, months registered for the person before it), held to the engine's own
    rule: the months registered are counted as the engine counts them (distinct months,
    ``si_months_registered``, README choice 49) and, with this claim's, may not pass the person's limit
    as the second review determined it (``claim_limit_months``: 36, or up to retirement where fewer
    than 5 years remained at hire, README choice 5). Other approvals registered since the review are
    counted, so a claim the register has overtaken is sent back to review."""
    info = _amount_info(session, app)
    months, limit = info.get("claim_months"), info.get("claim_limit_months")
    if not isinstance(months, int) or months <= 0:
        raise ValidationFailed("社保补贴核准：复审判定中没有补贴月数（claim_months），请重新复审后再核准")
    if not isinstance(limit, int) or limit < 0:
        raise ValidationFailed(
            "社保补贴核准：复审判定中没有该人员的最长补贴月数（claim_limit_months），请重新复审后再核准"
        )
    entries = session.execute(
        select(Grant.period, Grant.months).where(
            Grant.program == "social_insurance_subsidy", Grant.person_key == subject.person_key
        )
    ).all()
    before = si_months_registered([(period, got) for period, got in entries])
    if before is None:
        raise Conflict(
            f"社保补贴：人员 {subject.person_key} 的已享受登记中有既未写补贴月数、也未写月份区间的记录，"
            "已享受月数无法确定，不能核准；请核对已享受登记后退回复审重新判定"
        )
    if before + months > limit:
        raise Conflict(
            f"社保补贴：人员 {subject.person_key} 已享受 {before} 个月，本次 {months} 个月将超过"
            f"最长 {limit} 个月的上限（复审认定；已享受登记按不同月份计），不能核准；请退回复审按剩余月数重新判定"
        )
    return months, before


def register_approval(
    session: Session, *, application: Application, on: dt.date, params: ParameterSet
) -> Grant:
    """Write the approved application into the register (same transaction); refuse what it would break."""
    kind = KINDS[application.kind]
    program = kind.id
    subject = subject_of(session, application)
    slot = months = months_from = None
    period = application.period
    if program == "startup_subsidy":
        slot = _startup_slot(session, subject, on=on, params=params)
    elif program == "social_insurance_subsidy":
        months, months_from = _si_months(session, application, subject)
        period = _si_period(session, application)
    elif application.subject_table == "trainings" and period != SYB_TOP_UP_PERIOD:
        period = _training_period(session, application)
    grant = Grant(
        program=program,
        subject_kind=subject.kind,
        subject_key=subject.key,
        person_key=subject.person_key,
        period=period,
        slot=slot,
        months=months,
        months_from=months_from,
        amount_fen=int(application.amount_approved_fen or 0),
        district=application.district,
        source=f"workflow:{application.application_no}"[:40],
        granted_on=on,
    )
    if program == "carrier_award":
        grants = _carrier_award_parts(session, application, grant)
    elif program == "workshop_award":
        grants = _workshop_award_parts(session, application, grant)
    else:
        grants = [grant]
    try:
        with session.begin_nested():
            session.add_all(grants)
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"已享受登记：{kind.title}对 {subject.key}（所属期间 {period}）已有登记，"
            "或另一笔同时核准的申请已占用同一名额；同一主体不重复享受，不能核准"
        ) from None
    return grants[0]


# The engine's carrier_award reads its register by part (engine/programs/carriers.py ``_award_register``):
# the one-off municipal award ("oneoff"), the yearly performance award ("performance:<year>") and the
# national-level uplift ("national"). An approved award is registered as one row per part it paid (the
# amounts of the second-review determination), so each part is once-only in the database.
_AWARD_PARTS: Final = (
    ("oneoff_fen", "oneoff"),
    ("performance_fen", "performance:{year}"),
    ("national_fen", "national"),
)


def _workshop_award_parts(session: Session, app: Application, template: Grant) -> list[Grant]:
    """A workshop award is registered as its year's employment award (period = the year) and, when
    it paid one, the construction subsidy apart (period ``build``): the engine pays a workshop's
    construction subsidy once (``assemble.WORKSHOP_BUILD_PERIOD``), and the database keeps the
    ``build`` row unique per workshop."""
    info = _amount_info(session, app)
    build = int(info.get("build_fen") or 0)
    award = int(info.get("employment_award_fen") or 0)
    if award + build != template.amount_fen:
        raise ValidationFailed(
            "车间奖补核准：复审判定中的奖补构成（带动就业奖补、建设补助）与核准金额不一致，请重新复审后再核准"
        )
    parts = [(template.period, award), (WORKSHOP_BUILD_PERIOD, build)]
    return [_part(template, period, fen) for period, fen in parts if fen > 0 or period == template.period]


def _part(template: Grant, period: str, fen: int) -> Grant:
    """One part of an award registered as several rows (the same subject, source and date)."""
    return Grant(
        program=template.program,
        subject_kind=template.subject_kind,
        subject_key=template.subject_key,
        person_key=None,
        period=period,
        amount_fen=fen,
        district=template.district,
        source=template.source,
        granted_on=template.granted_on,
    )


def _carrier_award_parts(session: Session, app: Application, template: Grant) -> list[Grant]:
    info = _amount_info(session, app)
    parts = [(period.format(year=app.period), int(info.get(key) or 0)) for key, period in _AWARD_PARTS]
    paid = [(period, fen) for period, fen in parts if fen > 0]
    if not paid:
        raise ValidationFailed(
            "载体奖补核准：复审判定中没有奖补构成（一次性/绩效/国家级），请重新复审后再核准"
        )
    return [_part(template, period, fen) for period, fen in paid]
