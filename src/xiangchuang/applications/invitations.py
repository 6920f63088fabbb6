"""免申即享: invitations made from a stored 政策找人 result.

:func:`create_invitations` turns the eligible results of a match run (``match_results``, status
``eligible``; ``soon`` ones are not yet eligible and get none) into applications in state ``invited``:

- pre-filled: kind = the program, subject and district from the result, the claim period by the
  kind's convention on the run's date (one-off kinds ``once``; the social-insurance subsidy the engine's
  default claim months, the six months before the run's month, ``2023-11/2024-04``; yearly kinds the last
  full calendar year, as the engine assumes; otherwise the run's year), the amount the engine found as the
  requested amount;
- the engine's determination attached: the program re-derived on the registry facts at the run's date
  with the parameters in force (the YAML with the city's approved changes,
  ``paramchanges.service.effective_parameters``, as the web's), stored as the application's check-up
  determination, naming the run and result it came from;
- addressed to the subject's person (a person, or the business's legal representative): the account
  of an applicant is their registry person number (the login layer maps accounts to persons);
- an outbox notice to that person, an audit record per invitation.

Idempotent per (run, subject, program): the ``application_invitations`` row is unique on it, so
running it twice (or twice at once) creates nothing new. A subject that already has a live application
for the same program and period (or holds the program's once-only key) is skipped with the reason.

The invitation lasts ``applications.invitation_valid_days`` days from the day it is made; confirming
after that is refused, and :func:`expire_invitations` (a scheduled job, role ``system``) moves the
unanswered ones to ``expired``. Once confirmed, the application is submitted and reviewed like any other.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications import repository as repo
from xiangchuang.applications import service
from xiangchuang.applications.kinds import KINDS, SI_PERIOD
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.engine.assemble import default_claim_year
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.engine.programs.employment import default_claim_period
from xiangchuang.errors import Forbidden
from xiangchuang.models import Application, Determination, Invitation, MatchResult, MatchRun
from xiangchuang.outbox.service import enqueue
from xiangchuang.paramchanges.service import effective_parameters

SYSTEM_ACTOR: Final = "system:invitations"


@dataclass
class InvitationReport:
    created: list[int] = field(default_factory=list)  # application ids
    existing: int = 0  # already invited from this run
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (program, subject, reason)


def valid_days(on: dt.date, params: ParameterSet | None = None) -> int:
    value = (params or load_parameters())["applications.invitation_valid_days"].value_at(on)
    if not isinstance(value, int) or value < 1:
        raise ValueError("参数 applications.invitation_valid_days 在该日期没有有效值")
    return value


def default_period(kind: str, on: dt.date) -> str:
    """The claim period offered on ``on``: the engine's own default where the engine reads the
    period (the social-insurance subsidy's six months before ``on``'s month, the startup subsidy's
    last completed year), so the invitation claims what the match evaluated."""
    convention = KINDS[kind].period
    if convention == SI_PERIOD:
        return default_claim_period(on)
    if convention.endswith("once"):
        return "once"
    if convention.startswith("年度"):
        return str(default_claim_year(to_day(on)))
    return str(on.year)


def create_invitations(
    session: Session,
    *,
    run_id: int,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    programs: Sequence[str] | None = None,
    params: ParameterSet | None = None,
    now: dt.datetime | None = None,
) -> InvitationReport:
    """Invite the eligible subjects of a run (a district reviewer: their district's results; the
    scheduled job, role ``system``: all)."""
    at = now if now is not None else dt.datetime.now(dt.UTC)
    today = china_date(at)
    if role == "district_reviewer":
        if actor_district is None:
            raise Forbidden("区县人社审核人员须属于一个区县")
        district: int | None = actor_district
    elif role == "system":
        district = None
    else:
        raise Forbidden("只有区县人社审核人员（或定时任务）可以发出免申即享邀请")
    ps = params if params is not None else effective_parameters(session, load_parameters())
    run = repo.match_run(session, run_id)
    wanted = [p for p in (programs or KINDS) if p in KINDS]
    expires_on = today + dt.timedelta(days=valid_days(today, ps))
    report = InvitationReport()
    for result in repo.match_results(
        session, run_id=run.id, statuses=("eligible",), programs=wanted, district=district
    ):
        if repo.invitation_for(
            session, run_id=run.id, subject_key=result.subject_key, program=result.program
        ):
            report.existing += 1
            continue
        reason = _invite(
            session,
            run=run,
            result=result,
            actor=actor,
            role=role,
            audit_key=audit_key,
            params=ps,
            at=at,
            expires_on=expires_on,
            report=report,
        )
        if reason is not None:
            report.skipped.append((result.program, result.subject_key, reason))
    return report


def _invite(
    session: Session,
    *,
    run: MatchRun,
    result: MatchResult,
    actor: str,
    role: str,
    audit_key: bytes,
    params: ParameterSet,
    at: dt.datetime,
    expires_on: dt.date,
    report: InvitationReport,
) -> str | None:
    kind = KINDS[result.program]
    person_no = repo.person_no_for_subject(session, kind.subject_table, result.subject_key, on=run.on)
    if person_no is None:
        return "登记库中找不到该主体的申请人（个人或经营主体的法定代表人）"
    period = default_period(kind.id, run.on)
    app = Application(
        application_no=f"SQ{china_date(at):%Y%m%d}{secrets.token_hex(5).upper()}",
        kind=kind.id,
        subject_table=kind.subject_table,
        subject_key=result.subject_key,
        period=period,
        district=result.district,
        state="invited",
        live_key=f"{kind.id}|{result.subject_key}|{period}",
        exclusive_key=service.exclusive_key(session, kind.id, result.subject_key),
        applicant_user=person_no,
        applicant_person_no=person_no,
        created_by=actor,
        on_behalf=False,
        form={"来源": "政策找人（免申即享）", "匹配运行": run.id, "匹配日期": run.on.isoformat()},
        amount_requested_fen=result.amount_fen,
        version=1,
    )
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
            session.add(
                Invitation(
                    run_id=run.id,
                    result_id=result.id,
                    program=result.program,
                    subject_key=result.subject_key,
                    application_id=app.id,
                    expires_on=expires_on,
                    created_by=actor,
                    created_at=at,
                )
            )
            session.flush()
    except IntegrityError:
        if repo.invitation_for(
            session, run_id=run.id, subject_key=result.subject_key, program=result.program
        ):
            report.existing += 1  # made by a concurrent run of this function
            return None
        return f"该主体已有「{kind.title}」{period} 期间的有效申请（或已享受），不再邀请"
    determination = service.determine(session, app, on=run.on, params=params)
    determination["result"]["source"] = {"match_run": run.id, "match_result": result.id}
    session.add(Determination(application_id=app.id, stage="checkup", **determination))
    enqueue(
        session,
        template="application.invited",
        payload={
            "application_no": app.application_no,
            "kind": kind.id,
            "title": kind.title,
            "state": "invited",
            "amount": format_fen(result.amount_fen),
            "expires_on": expires_on.isoformat(),
            "message": (
                f"经政策找人比对，您可能符合「{kind.title}」（预计 {format_fen(result.amount_fen)}），"
                f"无需提交材料，请于 {expires_on:%Y年%m月%d日} 前确认申请（免申即享）；确认后仍须经审核"
            ),
        },
        user=person_no,
    )
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action="application.invite",
        subject=f"applications:{app.application_no}",
        details={
            "kind": kind.id,
            "match_run": run.id,
            "match_result": result.id,
            "determination": determination["status"],
        },
        at=at,
    )
    report.created.append(app.id)
    return None


def expire_invitations(
    session: Session, *, audit_key: bytes, now: dt.datetime | None = None, params: ParameterSet | None = None
) -> list[int]:
    """Move every invitation not answered by its last day to ``expired`` (the scheduled job)."""
    at = now if now is not None else dt.datetime.now(dt.UTC)
    expired = repo.expired_invitations(session, today=china_date(at))
    for app_id in expired:
        service.transition(
            session,
            application_id=app_id,
            action="expire",
            actor=SYSTEM_ACTOR,
            role="system",
            actor_district=None,
            audit_key=audit_key,
            now=at,
            params=params,
        )
    return expired
