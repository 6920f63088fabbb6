"""Typical entrepreneurs and commendations (clause 5.15).

A nomination names a registry person (and their business) with evidence read from the registry at the
time of nomination (jobs created, current staff, growth of employer social insurance and online sales).
The review is a mentor event of kind ``project_review`` created through
:func:`xiangchuang.mentors.service.create_event` — the nominations are its projects — so the panel is drawn,
sealed, scored and finalised by the mentor draw (clause 2.6); :func:`collect_results` reads the finalised
scores back (selected when the trimmed mean reaches ``community.nomination_min_score``). A story is
published only with the person's own recorded consent (date and the name they agree to show, encrypted);
withdrawing consent takes it off the public page at once. Commendations are recorded on the nomination
and, from the city level up, as a registry honour of the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiangchuang.community.common import (
    REVIEW_ROLES,
    STAFF_ROLES,
    audit,
    business_by_no,
    district_label,
    not_future,
    person_by_no,
    require_district,
    require_staff,
    visible_districts,
)
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.parameters import ParameterSet, load_parameters, thaw
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.fields import text
from xiangchuang.mentors import service as mentors
from xiangchuang.models import (
    Business,
    BusinessYear,
    Commendation,
    Employment,
    Founder,
    Honour,
    MentorEvent,
    MentorEventProject,
    Nomination,
    Person,
)
from xiangchuang.outbox import enqueue
from xiangchuang.users.service import UserScope

CATEGORIES: Final = {
    "returning_entrepreneur": "优秀返乡入乡创业者",
    "rural_business_leader": "农村创业带头人",
}
STATE_LABELS: Final = {
    "nominated": "已推荐",
    "in_review": "评审中",
    "selected": "入选",
    "not_selected": "未入选",
    "published": "已公开宣传",
}
LEVELS: Final = {"national": "国家级", "provincial": "省（市）级", "city": "市级", "district": "区县级"}
HONOUR_LEVELS: Final = ("national", "provincial", "city")  # 设区的市级以上: a registry honour
NAME_FIELD: Final = "community.publish_name"


def _nomination(session: Session, no: str) -> Nomination:
    n = session.execute(select(Nomination).where(Nomination.nomination_no == no)).scalar_one_or_none()
    if n is None:
        raise NotFound(f"推荐编号 {no} 不存在")
    return n


def evidence_from_registry(
    session: Session, *, person: Person, business: Business | None, on: dt.date
) -> dict[str, Any]:
    """Jobs created and growth, read from the registry (not typed in)."""
    ev: dict[str, Any] = {"source": "登记库", "as_of": on.isoformat()}
    if business is None:
        return ev
    hired = session.execute(
        select(func.count())
        .select_from(Employment)
        .where(Employment.business_id == business.id, Employment.hire_date <= on)
    ).scalar_one()
    current = session.execute(
        select(func.count())
        .select_from(Employment)
        .where(
            Employment.business_id == business.id,
            Employment.hire_date <= on,
            (Employment.left_on.is_(None)) | (Employment.left_on >= on),
        )
    ).scalar_one()
    ev.update(
        {
            "business_no": business.business_no,
            "registered_on": business.registration_date.isoformat(),
            "years_operating": round((on - business.registration_date).days / 365.25, 1),
            "jobs_created": int(hired),
            "current_staff": int(current),
            "staff_count_reported": business.staff_count,
        }
    )
    years = list(
        session.execute(
            select(BusinessYear)
            .where(BusinessYear.business_id == business.id, BusinessYear.year < on.year)
            .order_by(BusinessYear.year.desc())
            .limit(2)
        ).scalars()
    )
    if len(years) == 2:
        new, old = years
        for field, label in (
            ("employer_si_paid_fen", "si_growth_pct"),
            ("online_revenue_fen", "online_growth_pct"),
        ):
            a, b = getattr(old, field), getattr(new, field)
            if a and b is not None and a > 0:
                ev[label] = round((b - a) * 100 / a, 1)
        ev["growth_years"] = [old.year, new.year]
    return ev


def nominate(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    person_no: str,
    category: str,
    year: int,
    headline: str,
    story: str,
    today: dt.date,
    business_no: str | None = None,
) -> Nomination:
    require_staff(scope, STAFF_ROLES)
    if category not in CATEGORIES:
        raise ValidationFailed(f"推荐类别：应为 {'、'.join(CATEGORIES.values())} 之一")
    if not (2020 <= year <= today.year + 1):
        raise ValidationFailed(f"年度：须为 2020–{today.year + 1}")
    person = person_by_no(session, person_no)
    business = business_by_no(session, business_no) if business_no else None
    if business is not None:
        founded = session.execute(
            select(Founder.id).where(Founder.business_id == business.id, Founder.person_id == person.id)
        ).first()
        if founded is None:
            raise ValidationFailed(f"主体编号：{business_no} 不是人员 {person_no} 创办或经营的主体")
        district = business.district
    elif person.hukou_district is not None:
        district = person.hukou_district
    else:
        raise ValidationFailed("主体编号：该人员没有户籍区县，请指定其创办的主体")
    require_district(scope, district)
    headline_v = text(headline, "事迹标题", max_len=120) or ""
    story_v = text(story, "事迹材料", max_len=4000) or ""
    if session.execute(
        select(Nomination.id).where(
            Nomination.person_id == person.id, Nomination.year == year, Nomination.category == category
        )
    ).first():
        raise Conflict(f"人员 {person_no} 已被推荐为 {year} 年度{CATEGORIES[category]}")
    seq = session.execute(
        select(func.count()).select_from(Nomination).where(Nomination.year == year)
    ).scalar_one()
    no = f"DX{year}-{int(seq) + 1:04d}"
    while session.execute(select(Nomination.id).where(Nomination.nomination_no == no)).first():
        seq += 1
        no = f"DX{year}-{int(seq) + 1:04d}"
    n = Nomination(
        nomination_no=no,
        person_id=person.id,
        business_id=business.id if business else None,
        category=category,
        district=district,
        year=year,
        nominated_on=today,
        nominated_by=scope.login,
        headline=headline_v,
        story=story_v,
        evidence=evidence_from_registry(session, person=person, business=business, on=today),
        state="nominated",
        version=1,
    )
    session.add(n)
    session.flush()
    enqueue(
        session,
        template="community.nominated",
        user=person.person_no,
        payload={
            "nomination_no": no,
            "message": f"您已被推荐为{year}年度{CATEGORIES[category]}。入选后，经您本人同意才会公开宣传您的事迹。",
        },
    )
    audit(
        session,
        audit_key,
        scope,
        "community.nominate",
        f"nominations:{no}",
        district=district,
        details={"category": category, "year": year, "person_no": person_no},
    )
    return n


def open_review(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    keys: mentors.Keys,
    event_no: str,
    title: str,
    nomination_nos: Sequence[str],
    event_date: dt.date,
    unseal_at: dt.datetime,
    quotas: Sequence[tuple[str, str, int]],
    backups: int,
    organiser_user: str,
    supervisor_user: str,
    chair_user: str | None = None,
    params: ParameterSet | None = None,
) -> MentorEvent:
    """Create the review as a mentor event (project_review) whose projects are the nominations; the
    panel is then drawn by the mentor draw (commitments, reveals, draw) — nobody picks it."""
    require_staff(scope, ("city_admin",))
    if not nomination_nos:
        raise ValidationFailed("评审对象：至少选择一个推荐")
    noms = [_nomination(session, no) for no in dict.fromkeys(nomination_nos)]
    for n in noms:
        if n.state != "nominated":
            raise InvalidTransition(f"推荐 {n.nomination_no} 当前为「{STATE_LABELS[n.state]}」，不能再次送评")
    projects = []
    for n in noms:
        person = session.get(Person, n.person_id)
        business = session.get(Business, n.business_id) if n.business_id else None
        assert person is not None
        projects.append(
            mentors.ProjectIn(
                project_no=n.nomination_no,
                title=n.headline,
                person_no=person.person_no,
                business_no=business.business_no if business else None,
                returning=n.category == "returning_entrepreneur",
            )
        )
    role = "city_admin"
    ev = mentors.create_event(
        session,
        keys=keys,
        actor=scope.login,
        role=role,
        event_no=event_no,
        title=title,
        kind="project_review",
        event_date=event_date,
        unseal_at=unseal_at,
        quotas=quotas,
        backups=backups,
        projects=projects,
        organiser_user=organiser_user,
        supervisor_user=supervisor_user,
        chair_user=chair_user,
        params=params,
    )
    for n in noms:
        n.state = "in_review"
        n.event_id = ev.id
        n.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.review_open",
        f"mentor_event:{event_no}",
        district=None,
        details={"nominations": [n.nomination_no for n in noms]},
    )
    return ev


def collect_results(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    event_no: str,
    params: ParameterSet | None = None,
) -> list[Nomination]:
    """After the panel's scores are finalised (mentor event closed): scores and ranks onto the
    nominations; selected when the trimmed mean reaches the minimum score (parameter)."""
    require_staff(scope, ("city_admin",))
    ev = session.execute(select(MentorEvent).where(MentorEvent.event_no == event_no)).scalar_one_or_none()
    if ev is None:
        raise NotFound(f"评审活动 {event_no} 不存在")
    if ev.status != "closed":
        raise InvalidTransition(f"评审活动 {event_no} 的评分尚未汇总（须评审组全部评分并汇总后）")
    ps = params if params is not None else load_parameters()
    minimum = int(thaw(ps["community.nomination_min_score"].value_at(ev.event_date)))
    noms = list(
        session.execute(
            select(Nomination).where(Nomination.event_id == ev.id, Nomination.state == "in_review")
        ).scalars()
    )
    if not noms:
        raise Conflict(f"评审活动 {event_no} 没有待登记结果的推荐")
    for n in noms:
        p = session.execute(
            select(MentorEventProject).where(
                MentorEventProject.event_id == ev.id, MentorEventProject.project_no == n.nomination_no
            )
        ).scalar_one()
        n.score_milli = p.final_score_milli
        n.rank = p.rank
        n.state = "selected" if (p.final_score_milli or 0) >= minimum * 1000 else "not_selected"
        n.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.review_results",
        f"mentor_event:{event_no}",
        district=None,
        details={
            "min_score": minimum,
            "selected": [n.nomination_no for n in noms if n.state == "selected"],
            "not_selected": [n.nomination_no for n in noms if n.state == "not_selected"],
        },
    )
    return noms


def _own(scope: UserScope, n: Nomination) -> None:
    if scope.role != "applicant" or scope.person_id is None or scope.person_id != n.person_id:
        raise Forbidden("只有被推荐人本人可以同意或撤回公开宣传")


def give_consent(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    cipher: FieldCipher,
    nomination_no: str,
    publish_name: str,
    today: dt.date,
) -> Nomination:
    """The person agrees that their story is published under ``publish_name`` (e.g. 王某某 or 王创业)."""
    n = _nomination(session, nomination_no)
    _own(scope, n)
    name = (publish_name or "").strip()
    if not 2 <= len(name) <= 20:
        raise ValidationFailed("公开使用的姓名：须为 2–20 个字")
    if any(ch.isdigit() for ch in name):
        raise ValidationFailed("公开使用的姓名：不得包含数字")
    if n.consent_on is not None and n.consent_withdrawn_on is None:
        raise Conflict("您已同意公开宣传；如需更改姓名，请先撤回同意")
    n.consent_on = today
    n.consent_name_enc = cipher.encrypt(name, NAME_FIELD)
    n.consent_withdrawn_on = None
    n.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.publication_consent",
        f"nominations:{nomination_no}",
        district=n.district,
        details={"on": today.isoformat()},
    )
    return n


def withdraw_consent(
    session: Session, *, scope: UserScope, audit_key: bytes, nomination_no: str, today: dt.date
) -> Nomination:
    """Withdraw: a published story comes off the public page at once."""
    n = _nomination(session, nomination_no)
    _own(scope, n)
    if n.consent_on is None or n.consent_withdrawn_on is not None:
        raise InvalidTransition("没有可撤回的公开宣传同意")
    was_published = n.state == "published"
    n.consent_withdrawn_on = today
    n.consent_name_enc = None
    if was_published:
        n.state = "selected"
        n.published_on = None
    n.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.publication_withdraw",
        f"nominations:{nomination_no}",
        district=n.district,
        details={"unpublished": was_published},
    )
    return n


def publish(
    session: Session, *, scope: UserScope, audit_key: bytes, nomination_no: str, today: dt.date
) -> Nomination:
    require_staff(scope, REVIEW_ROLES)
    n = _nomination(session, nomination_no)
    require_district(scope, n.district)
    if n.state != "selected":
        raise InvalidTransition(
            f"推荐 {nomination_no} 当前为「{STATE_LABELS[n.state]}」：只有入选的典型可以公开宣传"
        )
    if n.consent_on is None or n.consent_withdrawn_on is not None or n.consent_name_enc is None:
        raise Forbidden("本人尚未同意公开宣传（或已撤回），不能公开")
    n.state = "published"
    n.published_on = today
    n.version += 1
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.publish",
        f"nominations:{nomination_no}",
        district=n.district,
        details={"on": today.isoformat()},
    )
    return n


def commend(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    nomination_no: str,
    title: str,
    level: str,
    awarded_on: dt.date,
    today: dt.date,
    reference: str | None = None,
) -> Commendation:
    """A commendation of a selected typical; from the city level up also a registry honour."""
    require_staff(scope, REVIEW_ROLES)
    n = _nomination(session, nomination_no)
    require_district(scope, n.district)
    if n.state not in ("selected", "published"):
        raise InvalidTransition(
            f"推荐 {nomination_no} 当前为「{STATE_LABELS[n.state]}」：只有入选的典型可以登记表彰"
        )
    if level not in LEVELS:
        raise ValidationFailed(f"表彰级别：应为 {'、'.join(LEVELS.values())} 之一")
    if level != "district" and scope.role != "city_admin":
        raise Forbidden("表彰级别：区县工作人员只能登记区县级表彰")
    title_v = text(title, "表彰名称", max_len=120) or ""
    ref_v = text(reference, "表彰文号", max_len=120, required=False)
    not_future(awarded_on, today, "表彰日期")
    if session.execute(
        select(Commendation.id).where(Commendation.nomination_id == n.id, Commendation.title == title_v)
    ).first():
        raise Conflict(f"推荐 {nomination_no} 已登记表彰「{title_v}」")
    c = Commendation(
        nomination_id=n.id,
        title=title_v,
        level=level,
        awarded_on=awarded_on,
        reference=ref_v,
        recorded_by=scope.login,
        recorded_at=dt.datetime.now(dt.UTC),
    )
    session.add(c)
    honour = False
    if (
        level in HONOUR_LEVELS
        and not session.execute(
            select(Honour.id).where(
                Honour.person_id == n.person_id, Honour.title == title_v, Honour.awarded_on == awarded_on
            )
        ).first()
    ):
        session.add(Honour(person_id=n.person_id, level=level, title=title_v, awarded_on=awarded_on))
        honour = True
    session.flush()
    audit(
        session,
        audit_key,
        scope,
        "community.commend",
        f"nominations:{nomination_no}",
        district=n.district,
        details={"level": level, "on": awarded_on.isoformat(), "registry_honour": honour},
    )
    return c


# ---- views -------------------------------------------------------------------------------------------


def _commendations(session: Session, nomination_id: int) -> list[dict[str, Any]]:
    return [
        {"title": c.title, "level": c.level, "level_label": LEVELS[c.level], "awarded_on": c.awarded_on}
        for c in session.execute(
            select(Commendation)
            .where(Commendation.nomination_id == nomination_id)
            .order_by(Commendation.awarded_on)
        ).scalars()
    ]


def _row(session: Session, n: Nomination) -> dict[str, Any]:
    person = session.get(Person, n.person_id)
    business = session.get(Business, n.business_id) if n.business_id else None
    ev = session.get(MentorEvent, n.event_id) if n.event_id else None
    return {
        "nomination_no": n.nomination_no,
        "person_no": person.person_no if person else None,
        "business_no": business.business_no if business else None,
        "business_name": business.name if business else None,
        "category": n.category,
        "category_label": CATEGORIES[n.category],
        "district": n.district,
        "district_name": district_label(n.district),
        "year": n.year,
        "headline": n.headline,
        "story": n.story,
        "evidence": n.evidence,
        "state": n.state,
        "state_label": STATE_LABELS[n.state],
        "event_no": ev.event_no if ev else None,
        "event_status": ev.status if ev else None,
        "score": n.score_milli / 1000 if n.score_milli is not None else None,
        "rank": n.rank,
        "consent": n.consent_on is not None and n.consent_withdrawn_on is None,
        "consent_on": n.consent_on,
        "consent_withdrawn_on": n.consent_withdrawn_on,
        "published_on": n.published_on,
        "commendations": _commendations(session, n.id),
    }


def list_nominations(session: Session, *, scope: UserScope, year: int | None = None) -> list[dict[str, Any]]:
    """Staff: their district's (city: all). Applicant: their own."""
    stmt = select(Nomination).order_by(Nomination.year.desc(), Nomination.nomination_no)
    if scope.role == "applicant":
        if scope.person_id is None:
            return []
        stmt = stmt.where(Nomination.person_id == scope.person_id)
    else:
        require_staff(scope)
        district = visible_districts(scope)
        if district is not None:
            stmt = stmt.where(Nomination.district == district)
    if year is not None:
        stmt = stmt.where(Nomination.year == year)
    return [_row(session, n) for n in session.execute(stmt).scalars()]


def nomination_view(session: Session, *, scope: UserScope, nomination_no: str) -> dict[str, Any]:
    n = _nomination(session, nomination_no)
    if scope.role == "applicant":
        _own(scope, n)
    else:
        require_staff(scope)
        require_district(scope, n.district)
    return _row(session, n)


def published_stories(session: Session, *, cipher: FieldCipher) -> list[dict[str, Any]]:
    """The public page: only published stories with current consent; the consented name, never a
    registry number, ID or contact."""
    out = []
    for n in session.execute(
        select(Nomination)
        .where(
            Nomination.state == "published",
            Nomination.consent_withdrawn_on.is_(None),
            Nomination.consent_name_enc.is_not(None),
        )
        .order_by(Nomination.published_on.desc(), Nomination.nomination_no)
    ).scalars():
        assert n.consent_name_enc is not None
        out.append(
            {
                "name": cipher.decrypt(n.consent_name_enc, NAME_FIELD),
                "category_label": CATEGORIES[n.category],
                "district_name": district_label(n.district),
                "year": n.year,
                "headline": n.headline,
                "story": n.story,
                "jobs_created": n.evidence.get("jobs_created"),
                "published_on": n.published_on,
                "commendations": [
                    {"title": c["title"], "level_label": c["level_label"], "awarded_on": c["awarded_on"]}
                    for c in _commendations(session, n.id)
                ],
            }
        )
    return out
