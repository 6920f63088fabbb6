"""What the application pages share: who the actor is, the clock, and the read models of an application.

The applicant's actor id (one mapping, used everywhere applications, invitations and messages name an
applicant): **the registry person number (``persons.person_no``) of the person the account speaks for**
— the account's linked person, or, for an account linked only to a business, that business's founder
(the legal representative / operator in force today, as the engine reads it), the same rule
:func:`~xiangchuang.applications.repository.person_no_for_subject` uses when a 免申即享 invitation is made before the person has an account. So an invitation made from a
政策找人 result reaches the person as soon as they sign in, ``Application.applicant_user`` and the
in-app messages' ``recipient_user`` hold that number, and a login name (which the security administrator
may change) never ends up in a record. Staff act as their login name.

The clock: every page and API route of the application workflow asks :func:`clock` for "now". It is the
real time, unless the application object carries a ``test_clock`` attribute — set only by the
end-to-end test's server wrapper (``tests/e2e/serve_app.py``, not part of the installed package), so no
setting, environment variable or request can move it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.applications import repository as repo
from xiangchuang.applications.disbursement import BATCH_ACTIONS
from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import STATE_LABELS, Row, allowed_actions, table_for
from xiangchuang.engine.districts import is_district, load_districts
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.models import Application, Attachment, Business, Person, TransitionLog, User
from xiangchuang.registry.assembler import person_district
from xiangchuang.registry.pii import Pii
from xiangchuang.web.deps import AppState, now_utc

CHINA = dt.timezone(dt.timedelta(hours=8))
STAFF_WORK_ROLES = ("window_clerk", "district_reviewer", "district_finance", "city_admin")


def clock(request: Request) -> dt.datetime:
    hook: Callable[[], dt.datetime] | None = getattr(request.app.state, "test_clock", None)
    return hook() if hook is not None else now_utc()


def applicant_person(db: Session, user: User, *, on: dt.date | None = None) -> Person | None:
    """The registry person an applicant account speaks for (see the module docstring); for an account
    linked only to a business, its legal representative in force on ``on`` (default: today in China)."""
    if user.person_id is not None:
        return db.get(Person, user.person_id)
    if user.business_id is not None:
        return repo.founder_of(db, user.business_id, on=on or china_day(now_utc()))
    return None


def district_options() -> list[tuple[int, str]]:
    """(code, name) of the 41 districts, for the 「所在区县」 field of an applicant's form."""
    return [(d.code, d.name) for d in load_districts()]


def applicant_district(db: Session, user: User, *, on: dt.date, chosen: str = "") -> int:
    """The district an applicant's application or loan is filed under: the account's business, else
    the account's district, else the district the engine files the person under on ``on`` (where they
    founded, else work: registry.assembler.person_district), else the district the applicant chose on
    the form (「所在区县」). Never the 户籍 (README choice 12: no rule reads it, and an incoming
    entrepreneur's may be any county in China)."""
    if user.business_id is not None:
        business = db.get(Business, user.business_id)
        if business is not None:
            return business.district
    if user.district is not None:
        return user.district
    person = applicant_person(db, user, on=on)
    if person is not None:
        found = person_district(db, person.person_no, on=on)
        if found is not None:
            return found
    raw = chosen.strip()
    if not raw:
        raise ValidationFailed(
            "所在区县：登记库中没有您创办或就业的经营主体，无法确定区县，请选择您申请的区县"
        )
    code = int(raw) if raw.isdigit() else 0
    if not is_district(code):
        raise ValidationFailed(f"所在区县：{raw} 不是重庆市的区县代码，请从列表中选择")
    return code


def applicant_actor(db: Session, user: User) -> str:
    person = applicant_person(db, user)
    if person is None:
        raise Forbidden("您的账号尚未关联登记库中的人员或经营主体，请到街道/乡镇窗口核实身份")
    return person.person_no


@dataclass(frozen=True)
class Actor:
    actor: str
    role: str
    district: int | None

    def kw(self) -> dict[str, Any]:
        return {"actor": self.actor, "role": self.role, "actor_district": self.district}


def actor_for(db: Session, user: User) -> Actor:
    if user.role == "applicant":
        return Actor(applicant_actor(db, user), "applicant", None)
    if user.role in STAFF_WORK_ROLES:
        return Actor(user.login, user.role, user.district)
    raise Forbidden("您的角色不办理补贴申请")


def pii(state: AppState) -> Pii:
    return Pii(state.cipher)


def china_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(CHINA).date()


def yuan(fen: int | None) -> str:
    return "—" if fen is None else f"{fen / 100:,.2f} 元"


@dataclass(frozen=True)
class TimelineStep:
    at: dt.datetime
    label: str
    reason: str | None
    on_behalf: bool


def timeline(db: Session, app: Application, *, audience: str) -> list[TimelineStep]:
    """The application's moves, oldest first, labelled for the applicant or for staff."""
    rows = db.execute(
        select(TransitionLog).where(TransitionLog.application_id == app.id).order_by(TransitionLog.id)
    ).scalars()
    table = {(r.from_state, r.action): r for r in table_for(app.kind)}
    out = []
    for log in rows:
        row = table.get((log.from_state, log.action))
        if row is None:
            label = STATE_LABELS.get(log.to_state, log.to_state)
        else:
            label = row.applicant_label if audience == "applicant" else row.staff_label
        show_reason = (
            log.reason if log.action in ("return", "refuse", "reject") or audience != "applicant" else None
        )
        out.append(
            TimelineStep(
                log.at,
                label,
                show_reason,
                log.role == "window_clerk" and log.action in ("submit", "resubmit", "confirm"),
            )
        )
    return out


def materials(db: Session, app: Application) -> list[dict[str, Any]]:
    files = list(repo.attachments_of(db, app.id))
    out = []
    for m in KINDS[app.kind].materials:
        out.append({"material": m, "files": [f for f in files if f.material == m.id]})
    return out


def actions_for(app: Application, role: str) -> list[Row]:
    """The moves a user may make on this page or API: the table's, less 发起拨付 / 确认已拨付, which
    happen only through disbursement batches (applications/disbursement.py)."""
    return [r for r in allowed_actions(app.kind, app.state, role) if r.action not in BATCH_ACTIONS]


def subject_label(db: Session, app: Application) -> str:
    if app.subject_table == "businesses":
        name = db.execute(select(Business.name).where(Business.business_no == app.subject_key)).scalar()
        return f"{name or '（登记库中无此主体）'}（{app.subject_key}）"
    return app.subject_key


def attachment_rows(db: Session, app: Application) -> list[Attachment]:
    return list(repo.attachments_of(db, app.id))
