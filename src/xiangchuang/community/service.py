"""Support after a business fails (clause 3.10): offers, the founder's consent, referrals to employment
services / employment assistance / social relief followed up to an outcome; and work-injury insurance
participation of small businesses (read from the registry's monthly contributions).

Keyword-only functions over a Session; they never commit. Every change writes an audit record in the same
transaction (details: numbers and codes, never a name). The founder is told through the outbox.

Life of a case: ``offer`` (a deregistered business; state ``offered``) → the founder consents, with a date
and a scope (which referrals) — by themselves (applicant page) or recorded by staff from a signed form
(``consented``), or declines (``declined``) → ``refer`` per consented kind (referral ``referred``: agency,
owner, next follow-up date) → ``follow_up`` (``in_progress``, next date) → ``record_outcome``
(``completed``); when every referral is completed or cancelled the case is ``closed``. Withdrawing consent
(``withdrawn``) cancels the open referrals; consent may be given again later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA
from xiangchuang.community.common import (
    STAFF_ROLES,
    audit,
    business_by_no,
    district_label,
    not_future,
    require_district,
    require_staff,
    visible_districts,
)
from xiangchuang.engine.dates import OutOfRange, parse_month
from xiangchuang.engine.parameters import ParameterSet, load_parameters, thaw
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.fields import text
from xiangchuang.models import (
    Business,
    ClosureCase,
    ClosureFollowup,
    ClosureReferral,
    Contribution,
    Employment,
    Founder,
    Person,
)
from xiangchuang.models.community import REFERRAL_KINDS
from xiangchuang.outbox import enqueue
from xiangchuang.users.service import UserScope

KIND_LABELS: Final = {
    "employment_service": "就业服务",
    "employment_assistance": "就业援助",
    "social_relief": "社会救助",
}
KIND_CODES: Final = {"employment_service": "JY", "employment_assistance": "YZ", "social_relief": "JZ"}
CASE_LABELS: Final = {
    "offered": "已告知待同意",
    "consented": "已同意转介",
    "declined": "本人不同意",
    "withdrawn": "已撤回同意",
    "closed": "已办结",
}
REFERRAL_LABELS: Final = {
    "referred": "已转介",
    "in_progress": "跟踪中",
    "completed": "已有结果",
    "cancelled": "已取消",
}
OUTCOMES: Final = {
    "employed": "已就业",
    "self_employed": "再次创业",
    "training": "参加培训",
    "assistance_granted": "获得就业援助",
    "relief_granted": "获得社会救助",
    "not_eligible": "不符合条件",
    "refused": "本人放弃",
    "unreachable": "无法联系",
}
FOUNDER_ROLES: Final = ("legal_representative", "operator", "partner", "shareholder")


def _params(params: ParameterSet | None) -> ParameterSet:
    return params if params is not None else load_parameters()


def _value(ps: ParameterSet, name: str, on: dt.date, district: int | None = None) -> Any:
    return thaw(ps[name].value_at(on, district))


# ---- newly closed businesses -------------------------------------------------------------------------


def _founder(session: Session, business_id: int) -> Person | None:
    """The founder the offer is made to: the legal representative or operator first, the earliest since."""
    rows = session.execute(
        select(Person, Founder.role)
        .join(Founder, Founder.person_id == Person.id)
        .where(Founder.business_id == business_id)
        .order_by(Founder.since, Founder.id)
    ).all()
    for wanted in FOUNDER_ROLES:
        for person, role in rows:
            if role == wanted:
                return person
    return rows[0][0] if rows else None


def closed_on(b: Business) -> dt.date:
    """The closing date: the deregistration date, or — deregistered without a date in the registry —
    the (China) day the registry record was last updated."""
    if b.deregistration_date is not None:
        return b.deregistration_date
    at = b.updated_at if b.updated_at.tzinfo else b.updated_at.replace(tzinfo=dt.UTC)
    return at.astimezone(CHINA).date()


def closed_without_offer(
    session: Session, *, scope: UserScope, today: dt.date, params: ParameterSet | None = None
) -> list[dict[str, Any]]:
    """Businesses deregistered within the look-back period (parameter) that have no offer yet."""
    require_staff(scope)
    ps = _params(params)
    days = int(_value(ps, "community.closure_lookback_days", today))
    since = today - dt.timedelta(days=days)
    since_at = dt.datetime.combine(since, dt.time(0, 0), CHINA).astimezone(dt.UTC)
    stmt = (
        select(Business)
        .where(
            or_(
                and_(
                    Business.deregistration_date.is_not(None),
                    Business.deregistration_date >= since,
                    Business.deregistration_date <= today,
                ),
                # deregistered without a date: the day the registry recorded it stands for it
                and_(
                    Business.deregistration_date.is_(None),
                    Business.status == "deregistered",
                    Business.updated_at >= since_at,
                ),
            ),
            ~exists(select(ClosureCase.id).where(ClosureCase.business_id == Business.id)),
        )
        .order_by(Business.deregistration_date.desc(), Business.business_no)
    )
    district = visible_districts(scope)
    if district is not None:
        stmt = stmt.where(Business.district == district)
    out = []
    for b in session.execute(stmt).scalars():
        founder = _founder(session, b.id)
        out.append(
            {
                "business_no": b.business_no,
                "name": b.name,
                "district": b.district,
                "district_name": district_label(b.district),
                "closed_on": closed_on(b),
                "founder_person_no": founder.person_no if founder else None,
                "days_since": (today - closed_on(b)).days,
            }
        )
    return out


def offer(
    session: Session, *, scope: UserScope, audit_key: bytes, business_no: str, today: dt.date
) -> ClosureCase:
    """Offer support to the founder of a deregistered business (one case per business)."""
    require_staff(scope)
    b = business_by_no(session, business_no)
    require_district(scope, b.district)
    if b.deregistration_date is None and b.status != "deregistered":
        raise ValidationFailed(
            f"主体编号：{business_no} 在登记库中未注销，只有已注销的主体才能发起创业失败帮扶"
        )
    if session.execute(select(ClosureCase.id).where(ClosureCase.business_id == b.id)).first():
        raise Conflict(f"主体 {business_no} 已发起帮扶，不能重复发起")
    founder = _founder(session, b.id)
    case = ClosureCase(
        case_no=f"BF-{b.business_no}",
        business_id=b.id,
        person_id=founder.id if founder else None,
        district=b.district,
        closed_on=closed_on(b),
        offered_on=today,
        offered_by=scope.login,
        state="offered",
        version=1,
    )
    session.add(case)
    session.flush()
    if founder is not None:
        enqueue(
            session,
            template="community.closure_offer",
            user=founder.person_no,
            payload={
                "case_no": case.case_no,
                "message": "您创办的经营主体已注销。经本人同意，我们可为您转介就业服务、就业援助和社会救助，"
                "请登录系统在“帮扶与宣传”中选择是否同意。",
            },
        )
    audit(
        session,
        audit_key,
        scope,
        "community.closure_offer",
        f"closure_cases:{case.case_no}",
        district=b.district,
        details={"business_no": b.business_no, "founder_known": founder is not None},
    )
    return case


def _case(session: Session, case_no: str) -> ClosureCase:
    c = session.execute(select(ClosureCase).where(ClosureCase.case_no == case_no)).scalar_one_or_none()
    if c is None:
        raise NotFound(f"帮扶编号 {case_no} 不存在")
    return c


def _may_consent(scope: UserScope, case: ClosureCase) -> str:
    """'self' for the founder, 'staff' for district staff recording a signed form; else refused."""
    if scope.role == "applicant":
        if case.person_id is None or scope.person_id != case.person_id:
            raise Forbidden("只有该主体的创办人本人可以同意或撤回")
        return "self"
    require_staff(scope)
    require_district(scope, case.district)
    return "staff"


def record_consent(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    case_no: str,
    kinds: Sequence[str],
    consent_on: dt.date,
    today: dt.date,
) -> ClosureCase:
    """The founder's consent with its date and scope (the referral kinds agreed to)."""
    case = _case(session, case_no)
    via = _may_consent(scope, case)
    if case.state not in ("offered", "withdrawn", "declined"):
        raise InvalidTransition(f"帮扶 {case_no} 当前为「{CASE_LABELS[case.state]}」，不能再次登记同意")
    chosen = sorted(set(kinds))
    if not chosen:
        raise ValidationFailed("同意范围：至少选择一项（就业服务、就业援助、社会救助）")
    bad = [k for k in chosen if k not in REFERRAL_KINDS]
    if bad:
        raise ValidationFailed(f"同意范围：{'、'.join(bad)} 无效，应为 就业服务、就业援助、社会救助")
    not_future(consent_on, today, "同意日期")
    if consent_on < case.offered_on:
        raise ValidationFailed(f"同意日期：不能早于告知日期 {case.offered_on.isoformat()}")
    case.state = "consented"
    case.consent_on = consent_on
    case.consent_scope = chosen
    case.consent_via = via
    case.consent_recorded_by = scope.login
    case.withdrawn_on = None
    case.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.closure_consent",
        f"closure_cases:{case_no}",
        district=case.district,
        details={"scope": chosen, "via": via, "on": consent_on.isoformat()},
    )
    return case


def decline(
    session: Session, *, scope: UserScope, audit_key: bytes, case_no: str, on: dt.date, today: dt.date
) -> ClosureCase:
    case = _case(session, case_no)
    via = _may_consent(scope, case)
    if case.state != "offered":
        raise InvalidTransition(f"帮扶 {case_no} 当前为「{CASE_LABELS[case.state]}」，不能登记不同意")
    not_future(on, today, "日期")
    case.state = "declined"
    case.consent_on = on
    case.consent_scope = []
    case.consent_via = via
    case.consent_recorded_by = scope.login
    case.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.closure_decline",
        f"closure_cases:{case_no}",
        district=case.district,
        details={"via": via},
    )
    return case


def withdraw_consent(
    session: Session, *, scope: UserScope, audit_key: bytes, case_no: str, on: dt.date, today: dt.date
) -> ClosureCase:
    """Withdraw consent: open referrals are cancelled (their history stays)."""
    case = _case(session, case_no)
    via = _may_consent(scope, case)
    if case.state != "consented":
        raise InvalidTransition(f"帮扶 {case_no} 当前为「{CASE_LABELS[case.state]}」，没有可撤回的同意")
    not_future(on, today, "撤回日期")
    cancelled = 0
    for r in _referrals(session, case.id):
        if r.state in ("referred", "in_progress"):
            r.state = "cancelled"
            r.next_followup_on = None
            r.outcome_note = "本人撤回同意"
            cancelled += 1
    case.state = "withdrawn"
    case.withdrawn_on = on
    case.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.closure_withdraw",
        f"closure_cases:{case_no}",
        district=case.district,
        details={"via": via, "cancelled_referrals": cancelled},
    )
    return case


def _referrals(session: Session, case_id: int) -> list[ClosureReferral]:
    return list(
        session.execute(
            select(ClosureReferral).where(ClosureReferral.case_id == case_id).order_by(ClosureReferral.id)
        ).scalars()
    )


def refer(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    case_no: str,
    kind: str,
    agency: str,
    owner: str,
    referred_on: dt.date,
    today: dt.date,
    next_followup_on: dt.date | None = None,
    params: ParameterSet | None = None,
) -> ClosureReferral:
    """Refer the founder within the consent's scope; the owner follows it up by the next date."""
    require_staff(scope)
    case = _case(session, case_no)
    require_district(scope, case.district)
    if kind not in REFERRAL_KINDS:
        raise ValidationFailed("转介类型：应为 就业服务、就业援助、社会救助 之一")
    if case.state != "consented":
        raise InvalidTransition(f"帮扶 {case_no} 当前为「{CASE_LABELS[case.state]}」：须本人同意后才能转介")
    if kind not in (case.consent_scope or []):
        raise Forbidden(f"转介类型：本人未同意转介{KIND_LABELS[kind]}（同意范围外）")
    agency_v = text(agency, "承接机构", max_len=120)
    owner_v = text(owner, "跟踪责任人", max_len=60)
    not_future(referred_on, today, "转介日期")
    if case.consent_on is not None and referred_on < case.consent_on:
        raise ValidationFailed(f"转介日期：不能早于本人同意日期 {case.consent_on.isoformat()}")
    ps = _params(params)
    nxt = next_followup_on or referred_on + dt.timedelta(
        days=int(_value(ps, "community.followup_interval_days", referred_on, case.district))
    )
    if nxt <= referred_on:
        raise ValidationFailed("下次回访日期：须晚于转介日期")
    no = f"{case.case_no}-{KIND_CODES[kind]}"
    if session.execute(select(ClosureReferral.id).where(ClosureReferral.referral_no == no)).first():
        raise Conflict(f"已转介{KIND_LABELS[kind]}（{no}），不能重复转介")
    r = ClosureReferral(
        referral_no=no,
        case_id=case.id,
        kind=kind,
        agency=agency_v or "",
        owner=owner_v or "",
        state="referred",
        referred_on=referred_on,
        next_followup_on=nxt,
    )
    session.add(r)
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.referral_create",
        f"closure_referrals:{no}",
        district=case.district,
        details={"kind": kind, "next_followup_on": nxt.isoformat()},
    )
    return r


def _referral(session: Session, referral_no: str) -> tuple[ClosureReferral, ClosureCase]:
    r = session.execute(
        select(ClosureReferral).where(ClosureReferral.referral_no == referral_no)
    ).scalar_one_or_none()
    if r is None:
        raise NotFound(f"转介编号 {referral_no} 不存在")
    case = session.get(ClosureCase, r.case_id)
    assert case is not None
    return r, case


def follow_up(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    referral_no: str,
    on: dt.date,
    note: str,
    today: dt.date,
    next_followup_on: dt.date | None = None,
    params: ParameterSet | None = None,
) -> ClosureFollowup:
    require_staff(scope)
    r, case = _referral(session, referral_no)
    require_district(scope, case.district)
    if r.state not in ("referred", "in_progress"):
        raise InvalidTransition(f"转介 {referral_no} 当前为「{REFERRAL_LABELS[r.state]}」，不能再登记回访")
    note_v = text(note, "回访情况", max_len=500)
    not_future(on, today, "回访日期")
    if on < r.referred_on:
        raise ValidationFailed(f"回访日期：不能早于转介日期 {r.referred_on.isoformat()}")
    ps = _params(params)
    nxt = next_followup_on or on + dt.timedelta(
        days=int(_value(ps, "community.followup_interval_days", on, case.district))
    )
    if nxt <= on:
        raise ValidationFailed("下次回访日期：须晚于本次回访日期")
    f = ClosureFollowup(
        referral_id=r.id, on_date=on, note=note_v or "", recorded_by=scope.login, next_followup_on=nxt
    )
    session.add(f)
    r.state = "in_progress"
    r.next_followup_on = nxt
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.referral_followup",
        f"closure_referrals:{referral_no}",
        district=case.district,
        details={"on": on.isoformat(), "next_followup_on": nxt.isoformat()},
    )
    return f


def record_outcome(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    referral_no: str,
    outcome: str,
    on: dt.date,
    today: dt.date,
    note: str | None = None,
) -> ClosureReferral:
    """The referral's outcome; when no referral of the case is open any more, the case is closed."""
    require_staff(scope)
    r, case = _referral(session, referral_no)
    require_district(scope, case.district)
    if outcome not in OUTCOMES:
        raise ValidationFailed(f"转介结果：应为 {'、'.join(OUTCOMES.values())} 之一")
    if r.state not in ("referred", "in_progress"):
        raise InvalidTransition(f"转介 {referral_no} 当前为「{REFERRAL_LABELS[r.state]}」，不能登记结果")
    note_v = text(note, "结果说明", max_len=500, required=False)
    not_future(on, today, "结果日期")
    if on < r.referred_on:
        raise ValidationFailed(f"结果日期：不能早于转介日期 {r.referred_on.isoformat()}")
    r.state = "completed"
    r.outcome = outcome
    r.outcome_on = on
    r.outcome_note = note_v
    r.next_followup_on = None
    session.flush()
    open_left = [x for x in _referrals(session, case.id) if x.state in ("referred", "in_progress")]
    if not open_left:
        case.state = "closed"
        case.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.referral_outcome",
        f"closure_referrals:{referral_no}",
        district=case.district,
        details={"outcome": outcome, "case_closed": case.state == "closed"},
    )
    return r


# ---- views -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralView:
    referral_no: str
    kind: str
    kind_label: str
    agency: str
    owner: str
    state: str
    state_label: str
    referred_on: dt.date
    next_followup_on: dt.date | None
    overdue: bool
    outcome: str | None
    outcome_label: str | None
    outcome_on: dt.date | None
    followups: tuple[tuple[dt.date, str, str], ...]


@dataclass(frozen=True)
class CaseView:
    case_no: str
    business_no: str
    business_name: str
    district: int
    district_name: str
    founder_person_no: str | None
    closed_on: dt.date
    offered_on: dt.date
    state: str
    state_label: str
    consent_on: dt.date | None
    consent_scope: tuple[str, ...]
    consent_via: str | None
    withdrawn_on: dt.date | None
    referrals: tuple[ReferralView, ...]


def _view(session: Session, case: ClosureCase, today: dt.date) -> CaseView:
    b = session.get(Business, case.business_id)
    assert b is not None
    person = session.get(Person, case.person_id) if case.person_id else None
    refs = []
    for r in _referrals(session, case.id):
        fs = session.execute(
            select(ClosureFollowup).where(ClosureFollowup.referral_id == r.id).order_by(ClosureFollowup.id)
        ).scalars()
        refs.append(
            ReferralView(
                referral_no=r.referral_no,
                kind=r.kind,
                kind_label=KIND_LABELS[r.kind],
                agency=r.agency,
                owner=r.owner,
                state=r.state,
                state_label=REFERRAL_LABELS[r.state],
                referred_on=r.referred_on,
                next_followup_on=r.next_followup_on,
                overdue=r.next_followup_on is not None and r.next_followup_on < today,
                outcome=r.outcome,
                outcome_label=OUTCOMES.get(r.outcome) if r.outcome else None,
                outcome_on=r.outcome_on,
                followups=tuple((f.on_date, f.note, f.recorded_by) for f in fs),
            )
        )
    return CaseView(
        case_no=case.case_no,
        business_no=b.business_no,
        business_name=b.name,
        district=case.district,
        district_name=district_label(case.district),
        founder_person_no=person.person_no if person else None,
        closed_on=case.closed_on,
        offered_on=case.offered_on,
        state=case.state,
        state_label=CASE_LABELS[case.state],
        consent_on=case.consent_on,
        consent_scope=tuple(case.consent_scope or ()),
        consent_via=case.consent_via,
        withdrawn_on=case.withdrawn_on,
        referrals=tuple(refs),
    )


def case_view(session: Session, *, scope: UserScope, case_no: str, today: dt.date) -> CaseView:
    case = _case(session, case_no)
    if scope.role == "applicant":
        if case.person_id is None or scope.person_id != case.person_id:
            raise Forbidden("只能查看本人的帮扶记录")
    else:
        require_staff(scope)
        require_district(scope, case.district)
    return _view(session, case, today)


def list_cases(
    session: Session, *, scope: UserScope, today: dt.date, state: str | None = None
) -> list[CaseView]:
    """Staff: the cases of their district (city: all). Applicant: their own."""
    stmt = select(ClosureCase).order_by(ClosureCase.closed_on.desc(), ClosureCase.id)
    if scope.role == "applicant":
        if scope.person_id is None:
            return []
        stmt = stmt.where(ClosureCase.person_id == scope.person_id)
    else:
        require_staff(scope, STAFF_ROLES)
        district = visible_districts(scope)
        if district is not None:
            stmt = stmt.where(ClosureCase.district == district)
    if state:
        stmt = stmt.where(ClosureCase.state == state)
    return [_view(session, c, today) for c in session.execute(stmt).scalars()]


# ---- work-injury insurance participation ----------------------------------------------------------------


def month_bounds(month: int) -> tuple[dt.date, dt.date]:
    """(first day, last day) of a YYYYMM month. The month a query names is an input month: one of the
    supported range (``engine.dates.parse_month``, README choice 28), no range of its own."""
    try:
        parse_month(month)
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule("月份")) from None
    except ValueError:
        raise ValidationFailed(f"月份：{month} 无效，应为 YYYYMM") from None
    y, m = divmod(month, 100)
    first = dt.date(y, m, 1)
    nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
    return first, nxt - dt.timedelta(days=1)


def previous_month(day: dt.date) -> int:
    first = day.replace(day=1) - dt.timedelta(days=1)
    return first.year * 100 + first.month


def small_employers(month: int) -> Any:
    """Small businesses (小微 or no size class: individual businesses, cooperatives) open in the month
    with at least one employment running in it: (business id, district, insured). Set-based: the payers
    of the employer's injury part are one DISTINCT set joined to the businesses (the month's
    contributions come from the (month, employment) index); "an employment running in the month" is a
    semi-join (EXISTS) in the (business_id, hire_date, left_on) index — not a DISTINCT over every
    employment first (PostgreSQL hashed all of them: ~0.5 s of ~1.7 s at a million applications)."""
    first, last = month_bounds(month)
    active = exists(
        select(Employment.id).where(
            Employment.business_id == Business.id,
            Employment.hire_date <= last,
            or_(Employment.left_on.is_(None), Employment.left_on >= first),
        )
    )
    payers = (
        select(Employment.business_id.label("bid"))
        .join(Contribution, Contribution.employment_id == Employment.id)
        .where(Contribution.month == month, Contribution.employer_injury_fen > 0)
        .distinct()
        .subquery("payers")
    )
    return (
        select(Business.id, Business.district, payers.c.bid.is_not(None).label("insured"))
        .outerjoin(payers, payers.c.bid == Business.id)
        .where(
            active,
            or_(Business.size_class.is_(None), Business.size_class == "small_micro"),
            Business.registration_date <= last,
            or_(Business.deregistration_date.is_(None), Business.deregistration_date >= first),
        )
        .subquery()
    )


def injury_participation(
    session: Session, *, month: int, district: int | None = None
) -> list[dict[str, Any]]:
    """Per district: small employers, those paying the employer's injury insurance part, the ratio."""
    sub = small_employers(month)
    stmt = select(
        sub.c.district,
        func.count().label("employers"),
        func.sum(case((sub.c.insured, 1), else_=0)).label("insured"),
    ).group_by(sub.c.district)
    if district is not None:
        stmt = stmt.where(sub.c.district == district)
    out = []
    for d, employers, insured in session.execute(stmt.order_by(sub.c.district)).all():
        employers, insured = int(employers), int(insured or 0)
        out.append(
            {
                "district": int(d),
                "district_name": district_label(int(d)),
                "month": month,
                "employers": employers,
                "insured": insured,
                "ratio": insured / employers if employers else None,
            }
        )
    return out


def uninsured_employers(session: Session, *, scope: UserScope, month: int) -> list[dict[str, Any]]:
    """The small employers of the scope that paid no injury insurance in the month (staff's to-do)."""
    require_staff(scope)
    sub = small_employers(month)
    stmt = (
        select(Business)
        .join(sub, sub.c.id == Business.id)
        .where(sub.c.insured.is_(False))
        .order_by(Business.district, Business.business_no)
    )
    district = visible_districts(scope)
    if district is not None:
        stmt = stmt.where(Business.district == district)
    return [
        {
            "business_no": b.business_no,
            "name": b.name,
            "district_name": district_label(b.district),
            "staff_count": b.staff_count,
        }
        for b in session.execute(stmt).scalars()
    ]
