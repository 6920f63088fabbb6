"""Mentor pool, events, sealed draws, scoring and the 渝创渝新 acceleration programme (clauses 2.6, 3.9).

Keyword-only services that take a Session and never commit; every state change writes an audit
record in the same transaction, notifications go through the outbox.

Draw lifecycle: ``create_event`` (planned) → ``commit`` by each required party (committing; when the
last one is in, the inputs are frozen: pool, history and event as pseudonymous JSON, encrypted, with
their SHA-256) → ``reveal`` by each party → ``draw`` (no earlier than the event's earliest draw time)
→ sealed until ``unseal_at`` → scoring → closed.

Confidentiality: the selection exists only inside the encrypted manifest (field ``mentor.draw``);
``mentor_draw_slots`` says "slot 3 confirmed" without a mentor. Before ``unseal_at`` no role gets a
name: :func:`draw_view` returns slots only, :func:`export_manifest` refuses; a mentor sees only their own
assignment (:func:`my_assignment`). Every access to a draw is audited (``mentor_draw.view``,
``mentor_draw.view_sealed``, ``mentor_draw.own_assignment``, ``mentor_draw.export``).

Pseudonyms in the manifest are HMAC-SM3 blind indexes (fields ``draw.mentor``, ``draw.person``,
``draw.business``) truncated to 16 hex digits: stable across draws, so the history matches, and not
reversible without the key ring.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.applications.calendar import is_working_day
from xiangchuang.audit.chain import audit_key, record
from xiangchuang.chinatime import CHINA
from xiangchuang.crypto import FieldCipher, KeyRing
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.mentors import draw as D
from xiangchuang.models import (
    AccelerationSelection,
    AccelerationSupport,
    Business,
    DrawCommitment,
    Employment,
    Mentor,
    MentorDraw,
    MentorDrawSlot,
    MentorEvent,
    MentorEventProject,
    MentorInvolvement,
    MentorRelation,
    MentorScore,
    MentorService,
    Person,
)
from xiangchuang.models.mentors import MENTOR_STATUSES, SUPPORT_KINDS
from xiangchuang.outbox import enqueue

STAFF_ROLES: Final = ("city_admin", "district_reviewer", "organiser", "supervisor", "chair", "auditor")
ROLES: Final = (*STAFF_ROLES, "mentor")
EVENT_ADMINS: Final = ("city_admin", "organiser")
MANIFEST_FIELD: Final = "mentor.draw"
INPUTS_FIELD: Final = "mentor.draw_inputs"
SCORE_FIELD: Final = "mentor.score"
TIE_RULES: Final = {
    "higher_median": "平均分相同时，中位数高者列前；仍相同按项目编号",
    "higher_max": "平均分相同时，最高分高者列前；仍相同按项目编号",
    "project_no": "平均分相同时，按项目编号（事先公布的抽签顺序）",
}
ACTIVITIES: Final = ("lecture", "assessment", "pairing", "other")
RATINGS: Final = ("excellent", "good", "pass", "poor")
MAX_SCORE: Final = 100


@dataclass(frozen=True)
class Keys:
    cipher: FieldCipher
    audit: bytes

    @classmethod
    def from_ring(cls, ring: KeyRing) -> Keys:
        return cls(FieldCipher(ring), audit_key(ring))


def _now(now: dt.datetime | None) -> dt.datetime:
    """An aware moment in UTC (what is stored: SQLite keeps no offset)."""
    if now is not None and now.tzinfo is None:
        raise ValidationFailed("时间须带时区")
    return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite returns naive datetimes: they were stored as UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)


def _role(role: str) -> None:
    if role not in ROLES:
        raise Forbidden(f"未知角色 {role}")


def _audit(
    session: Session,
    keys: Keys,
    *,
    actor: str,
    role: str,
    action: str,
    subject: str,
    details: Mapping[str, Any] | None = None,
    outcome: str = "success",
    now: dt.datetime | None = None,
) -> None:
    record(
        session,
        key=keys.audit,
        actor=actor,
        actor_role=role,
        action=action,
        subject=subject,
        details=details,
        outcome=outcome,
        at=now,
    )


# ---- pseudonyms --------------------------------------------------------------------------------------


def mentor_pseudonym(cipher: FieldCipher, mentor_no: str) -> str:
    return "m-" + cipher.blind_index(mentor_no, "draw.mentor")[:16]


def person_pseudonym(cipher: FieldCipher, person_id: int) -> str:
    return "p-" + cipher.blind_index(str(person_id), "draw.person")[:16]


def _norm_name(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", name).split()).lower()


def employer_keys(cipher: FieldCipher, *, uscc: str | None, name: str | None) -> list[str]:
    """A business is matched by its USCC, or by its normalized name when a mentor gave no USCC."""
    out = []
    if uscc:
        out.append("b-" + cipher.blind_index("uscc:" + uscc, "draw.business")[:16])
    if name:
        out.append("b-" + cipher.blind_index("name:" + _norm_name(name), "draw.business")[:16])
    return out


def _mentor_employer(cipher: FieldCipher, m: Mentor) -> str | None:
    keys = employer_keys(cipher, uscc=m.employer_uscc, name=None if m.employer_uscc else m.employer_name)
    return keys[0] if keys else None


# ---- mentors -----------------------------------------------------------------------------------------


def _mentor_by_no(session: Session, mentor_no: str) -> Mentor:
    m = session.execute(select(Mentor).where(Mentor.mentor_no == mentor_no)).scalar_one_or_none()
    if m is None:
        raise NotFound(f"导师编号 {mentor_no} 不存在")
    return m


def _mentor_of_user(session: Session, user: str) -> Mentor:
    m = session.execute(select(Mentor).where(Mentor.user_id == user)).scalar_one_or_none()
    if m is None:
        raise Forbidden("当前账号不是导师库中的导师")
    return m


def _person_by_no(session: Session, person_no: str) -> Person:
    p = session.execute(select(Person).where(Person.person_no == person_no)).scalar_one_or_none()
    if p is None:
        raise NotFound(f"人员编号 {person_no} 不存在：请先导入人员")
    return p


def my_profile(session: Session, *, keys: Keys, actor: str) -> dict[str, Any]:
    """A mentor's own profile (only their own)."""
    m = _mentor_of_user(session, actor)
    person = session.get(Person, m.person_id)
    assert person is not None
    return {
        "mentor_no": m.mentor_no,
        "name": person.name,
        "level": m.level,
        "specialty": m.specialty,
        "other_specialties": m.other_specialties,
        "employer_name": m.employer_name,
        "district": m.district,
        "available": m.available,
        "status": m.status,
    }


_OWN_FIELDS: Final = ("available", "other_specialties", "employer_name", "employer_uscc")


def update_own_profile(
    session: Session, *, keys: Keys, actor: str, changes: Mapping[str, Any], now: dt.datetime | None = None
) -> Mentor:
    """A mentor maintains their own availability, other specialties and employer."""
    m = _mentor_of_user(session, actor)
    bad = set(changes) - set(_OWN_FIELDS)
    if bad:
        raise ValidationFailed(f"导师本人不能修改：{'、'.join(sorted(bad))}（层级、主专业由管理部门认定）")
    if "available" in changes and not isinstance(changes["available"], bool):
        raise ValidationFailed("可参加抽选（available）须为是/否")
    for k, v in changes.items():
        setattr(m, k, v)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role="mentor",
        action="mentor.profile_update",
        subject=f"mentor:{m.mentor_no}",
        details={"fields": sorted(changes)},
        now=now,
    )
    return m


def declare_relation(
    session: Session, *, keys: Keys, actor: str, person_no: str, relation: str, now: dt.datetime | None = None
) -> MentorRelation:
    """A mentor declares a relative (spouse, direct line, collateral within 3 generations, in-law)."""
    if relation not in D.RELATIONS:
        raise ValidationFailed(f"关系 {relation} 无效，应为 {'、'.join(D.RELATIONS)} 之一")
    m = _mentor_of_user(session, actor)
    p = _person_by_no(session, person_no)
    rel = MentorRelation(mentor_id=m.id, person_id=p.id, relation=relation)
    session.add(rel)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role="mentor",
        action="mentor.relation_declare",
        subject=f"mentor:{m.mentor_no}",
        details={"relation": relation},
        now=now,
    )
    return rel


def record_involvement(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    mentor_no: str,
    kind: str,
    on: dt.date,
    person_no: str | None = None,
    business_no: str | None = None,
) -> MentorInvolvement:
    """Mentored, invested in or advised a person or business (recusal for N years)."""
    _role(role)
    if kind not in D.INVOLVEMENTS:
        raise ValidationFailed(f"利害关系类型 {kind} 无效，应为 {'、'.join(D.INVOLVEMENTS)} 之一")
    if (person_no is None) == (business_no is None):
        raise ValidationFailed("须且只能指定一个人员编号或主体编号")
    m = _mentor_by_no(session, mentor_no)
    if role == "mentor" and m.user_id != actor:
        raise Forbidden("导师只能申报本人的利害关系")
    if role not in ("mentor", *EVENT_ADMINS):
        raise Forbidden("无权登记导师利害关系")
    pid = _person_by_no(session, person_no).id if person_no else None
    bid = None
    if business_no:
        b = session.execute(select(Business).where(Business.business_no == business_no)).scalar_one_or_none()
        if b is None:
            raise NotFound(f"主体编号 {business_no} 不存在")
        bid = b.id
    inv = MentorInvolvement(mentor_id=m.id, person_id=pid, business_id=bid, kind=kind, on_date=on)
    session.add(inv)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor.involvement_record",
        subject=f"mentor:{m.mentor_no}",
        details={"kind": kind, "on": on.isoformat()},
    )
    return inv


# ---- service records (→ mentor_service_subsidy) ------------------------------------------------------


def record_service(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    service_no: str,
    mentor_no: str,
    activity: str,
    units: int,
    district: int,
    occurred_on: dt.date,
    organiser: str,
) -> MentorService:
    _role(role)
    if role not in (*EVENT_ADMINS, "district_reviewer", "mentor"):
        raise Forbidden("无权登记导师服务记录")
    if activity not in ACTIVITIES:
        raise ValidationFailed(f"服务类型 {activity} 无效，应为 {'、'.join(ACTIVITIES)} 之一")
    if isinstance(units, bool) or not isinstance(units, int) or units <= 0:
        raise ValidationFailed("服务工作量（次/场/对）须为正整数")
    m = _mentor_by_no(session, mentor_no)
    if role == "mentor" and m.user_id != actor:
        raise Forbidden("导师只能登记本人的服务记录")
    rec = MentorService(
        service_no=service_no,
        mentor_id=m.id,
        activity=activity,
        units=units,
        district=district,
        occurred_on=occurred_on,
        organiser=organiser,
    )
    session.add(rec)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_service.record",
        subject=f"mentor_service:{service_no}",
        details={"activity": activity, "units": units},
    )
    return rec


def confirm_service(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    service_no: str,
    rating: str,
    now: dt.datetime | None = None,
) -> MentorService:
    """The organiser confirms the service and rates its effectiveness (服务实效)."""
    _role(role)
    if role not in (*EVENT_ADMINS, "district_reviewer"):
        raise Forbidden("只有组织单位或经办人员可以确认服务记录")
    if rating not in RATINGS:
        raise ValidationFailed(f"服务实效评价 {rating} 无效，应为 {'、'.join(RATINGS)} 之一")
    rec = session.execute(
        select(MentorService).where(MentorService.service_no == service_no)
    ).scalar_one_or_none()
    if rec is None:
        raise NotFound(f"服务记录 {service_no} 不存在")
    if rec.confirmed_at is not None:
        raise InvalidTransition(f"服务记录 {service_no} 已确认")
    m = session.get(Mentor, rec.mentor_id)
    if m is not None and m.user_id == actor:
        raise Forbidden("导师不能确认本人的服务记录")
    rec.rating = rating
    rec.confirmed_by = actor
    rec.confirmed_at = _now(now)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_service.confirm",
        subject=f"mentor_service:{service_no}",
        details={"rating": rating},
        now=now,
    )
    return rec


def service_rows(session: Session, *, district: int | None = None) -> list[dict[str, Any]]:
    """The engine's ``mentor_services`` rows (case format) for ``mentor_service_subsidy``."""
    stmt = select(MentorService, Mentor).join(Mentor, Mentor.id == MentorService.mentor_id)
    if district is not None:
        stmt = stmt.where(MentorService.district == district)
    out = []
    for rec, m in session.execute(stmt.order_by(MentorService.id)).all():
        out.append(
            {
                "id": rec.service_no,
                "mentor_id": m.mentor_no,
                "district": rec.district,
                "level": m.level,
                "activity": rec.activity,
                "units": rec.units,
                "rating": rec.rating,
                "confirmed": rec.confirmed_at is not None,
            }
        )
    return out


# ---- events ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectIn:
    project_no: str
    title: str
    person_no: str | None = None
    business_no: str | None = None
    returning: bool = False


def working_days_before(day: dt.date, n: int) -> dt.date:
    """The n-th working day before ``day`` (``day`` itself not counted)."""
    left = n
    while left:
        day -= dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def _params(params: ParameterSet | None) -> ParameterSet:
    return params if params is not None else load_parameters()


def create_event(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    event_no: str,
    title: str,
    kind: str,
    event_date: dt.date,
    unseal_at: dt.datetime,
    quotas: Sequence[tuple[str, str, int]],
    backups: int,
    projects: Sequence[ProjectIn],
    organiser_user: str,
    supervisor_user: str,
    chair_user: str | None = None,
    staff_person_nos: Sequence[str] = (),
    district: int | None = None,
    recuse_same_district: bool = False,
    public_value_source: str | None = None,
    tie_rule: str = "higher_median",
    params: ParameterSet | None = None,
) -> MentorEvent:
    """A competition round or project review. The earliest draw time (N working days before the event,
    00:00 China time) and the trimmed-mean threshold come from dated parameters."""
    _role(role)
    if role not in EVENT_ADMINS:
        raise Forbidden("只有市级管理员或活动组织方可以创建评审活动")
    if kind not in D.EVENT_KINDS:
        raise ValidationFailed(f"活动类型 {kind} 无效，应为 {'、'.join(D.EVENT_KINDS)} 之一")
    if tie_rule not in TIE_RULES:
        raise ValidationFailed(f"同分规则 {tie_rule} 无效，应为 {'、'.join(TIE_RULES)} 之一")
    if organiser_user == supervisor_user:
        raise ValidationFailed("组织方与监督方须为不同的人")
    if not projects:
        raise ValidationFailed("评审活动须至少有一个项目")
    ps = _params(params)
    n_days = int(ps["mentor_draw.earliest_working_days"].value_at(event_date))
    earliest_day = working_days_before(event_date, n_days)
    # Stored in UTC: SQLite keeps no offset, and everything read back is taken as UTC.
    earliest = dt.datetime.combine(earliest_day, dt.time(0, 0), CHINA).astimezone(dt.UTC)
    if unseal_at.tzinfo is None:
        raise ValidationFailed("揭封时间须带时区")
    unseal_at = unseal_at.astimezone(dt.UTC)
    if unseal_at < earliest:
        raise ValidationFailed("揭封时间不得早于最早抽取时间")
    q = [{"specialty": s, "level": lv, "count": int(c)} for s, lv, c in quotas]
    staff_ids = [_person_by_no(session, no).id for no in staff_person_nos]
    ev = MentorEvent(
        event_no=event_no,
        title=title,
        kind=kind,
        district=district,
        event_date=event_date,
        earliest_draw_at=earliest,
        unseal_at=unseal_at,
        panel_size=sum(x["count"] for x in q),
        backups=backups,
        quotas=q,
        staff_person_ids=staff_ids,
        recuse_same_district=recuse_same_district,
        public_value_source=public_value_source,
        tie_rule=tie_rule,
        trim_threshold=int(ps["mentor_scoring.trim_threshold"].value_at(event_date)),
        organiser_user=organiser_user,
        supervisor_user=supervisor_user,
        chair_user=chair_user,
        status="planned",
        year=event_date.year,
    )
    session.add(ev)
    session.flush()
    for p in projects:
        pid = _person_by_no(session, p.person_no).id if p.person_no else None
        bid = None
        if p.business_no:
            b = session.execute(
                select(Business).where(Business.business_no == p.business_no)
            ).scalar_one_or_none()
            if b is None:
                raise NotFound(f"主体编号 {p.business_no} 不存在")
            bid = b.id
        if pid is None and bid is None:
            raise ValidationFailed(f"项目 {p.project_no} 须指定申报人或申报主体")
        session.add(
            MentorEventProject(
                event_id=ev.id,
                project_no=p.project_no,
                title=p.title,
                person_id=pid,
                business_id=bid,
                is_returning=p.returning,
            )
        )
    session.flush()
    # Validate quotas and panel rules now (fail early, same rules as the draw).
    try:
        D.normalize_inputs(_draft_inputs(session, keys, ev, ps, commitments=False))
    except D.DrawInputError as exc:
        raise ValidationFailed(str(exc)) from None
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_event.create",
        subject=f"mentor_event:{event_no}",
        details={"kind": kind, "panel_size": ev.panel_size, "backups": backups, "tie_rule": tie_rule},
    )
    return ev


def _event(session: Session, event_no: str) -> MentorEvent:
    ev = session.execute(
        select(MentorEvent).where(MentorEvent.event_no == event_no).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if ev is None:
        raise NotFound(f"评审活动 {event_no} 不存在")
    return ev


def _rules(ev: MentorEvent, ps: ParameterSet) -> dict[str, Any]:
    on = ev.event_date
    return {
        "involvement_years": int(ps["mentor_draw.involvement_years"].value_at(on)),
        "max_draws_12_months": int(ps["mentor_draw.max_draws_12_months"].value_at(on)),
        "max_per_applicant_year": int(ps["mentor_draw.max_per_applicant_year"].value_at(on)),
        "cool_down_days": int(ps["mentor_draw.cool_down_days"].value_at(on)),
        "recuse_same_district": ev.recuse_same_district,
        "min_final_panel": int(ps["mentor_draw.min_final_panel"].value_at(on)),
        "required_parties": sorted(ps["mentor_draw.required_parties"].value_at(on)),
    }


def _project_parties(session: Session, keys: Keys, ev: MentorEvent) -> list[dict[str, Any]]:
    c = keys.cipher
    out = []
    rows = session.execute(
        select(MentorEventProject).where(MentorEventProject.event_id == ev.id).order_by(MentorEventProject.id)
    ).scalars()
    for p in rows:
        persons, businesses, employers, districts = [], [], [], set()
        if p.person_id is not None:
            persons.append(person_pseudonym(c, p.person_id))
            jobs = session.execute(
                select(Business)
                .join(Employment, Employment.business_id == Business.id)
                .where(
                    Employment.person_id == p.person_id,
                    Employment.hire_date <= ev.event_date,
                    or_(Employment.left_on.is_(None), Employment.left_on >= ev.event_date),
                )
            ).scalars()
            for job in jobs:
                employers += employer_keys(c, uscc=job.uscc, name=job.name)
        if p.business_id is not None:
            own = session.get(Business, p.business_id)
            assert own is not None
            businesses += employer_keys(c, uscc=own.uscc, name=own.name)
            districts.add(own.district)
        if p.person_id is not None:
            person = session.get(Person, p.person_id)
            if person is not None and person.hukou_district is not None and p.business_id is None:
                districts.add(person.hukou_district)
        out.append(
            {
                "id": p.project_no,
                "persons": persons,
                "businesses": businesses,
                "employers": employers,
                "districts": sorted(districts),
            }
        )
    return out


def _pool(session: Session, keys: Keys, ev: MentorEvent) -> list[dict[str, Any]]:
    c = keys.cipher
    strata = {(q["specialty"], q["level"]) for q in ev.quotas}
    mentors = [
        m
        for m in session.execute(
            select(Mentor).where(Mentor.status != "retired").order_by(Mentor.id)
        ).scalars()
        if (m.specialty, m.level) in strata
    ]
    ids = [m.id for m in mentors]
    rels: dict[int, list[dict[str, str]]] = {}
    invs: dict[int, list[dict[str, str]]] = {}
    if ids:
        for r in session.execute(select(MentorRelation).where(MentorRelation.mentor_id.in_(ids))).scalars():
            rels.setdefault(r.mentor_id, []).append(
                {"person": person_pseudonym(c, r.person_id), "relation": r.relation}
            )
        for v in session.execute(
            select(MentorInvolvement).where(MentorInvolvement.mentor_id.in_(ids))
        ).scalars():
            if v.person_id is not None:
                parties = [person_pseudonym(c, v.person_id)]
            else:
                b = session.get(Business, v.business_id)
                assert b is not None
                parties = employer_keys(c, uscc=b.uscc, name=b.name)
            for party in parties:
                invs.setdefault(v.mentor_id, []).append(
                    {"party": party, "kind": v.kind, "date": v.on_date.isoformat()}
                )
    return [
        {
            "mentor": mentor_pseudonym(c, m.mentor_no),
            "person": person_pseudonym(c, m.person_id),
            "specialty": m.specialty,
            "level": m.level,
            "employer": _mentor_employer(c, m),
            "district": m.district,
            "available": bool(m.available and m.status == "active"),
            "relations": rels.get(m.id, []),
            "involvements": invs.get(m.id, []),
        }
        for m in mentors
    ]


def _history(session: Session, keys: Keys, ev: MentorEvent) -> list[dict[str, Any]]:
    """Final panels of earlier draws within the last year (and a day), from their sealed manifests."""
    since = D.years_before(ev.event_date, 1) - dt.timedelta(days=1)
    rows = session.execute(
        select(MentorDraw, MentorEvent)
        .join(MentorEvent, MentorEvent.id == MentorDraw.event_id)
        .where(
            MentorEvent.id != ev.id, MentorEvent.event_date >= since, MentorEvent.event_date <= ev.event_date
        )
        .order_by(MentorEvent.event_date, MentorEvent.id)
    ).all()
    out = []
    for d, other in rows:
        if d.status == "failed":
            continue
        man = _manifest(keys, d)
        applicants = sorted(
            {x for p in man["inputs"]["event"]["projects"] for x in (*p["persons"], *p["businesses"])}
        )
        out.append(
            {
                "event": other.event_no,
                "date": other.event_date.isoformat(),
                "mentors": [p["mentor"] for p in man["result"]["panel"]],
                "applicants": applicants,
            }
        )
    return out


def _draft_inputs(
    session: Session, keys: Keys, ev: MentorEvent, ps: ParameterSet, *, commitments: bool = True
) -> dict[str, Any]:
    c = keys.cipher
    rules = _rules(ev, ps)
    if commitments:
        commits = [
            {"party": x.party, "commitment": x.commitment}
            for x in session.execute(select(DrawCommitment).where(DrawCommitment.event_id == ev.id)).scalars()
        ]
    else:
        commits = [{"party": p, "commitment": "0" * 64} for p in rules["required_parties"]]
    return {
        "event": {
            "id": ev.event_no,
            "kind": ev.kind,
            "date": ev.event_date.isoformat(),
            "earliest_draw_time": _aware(ev.earliest_draw_at).astimezone(CHINA).isoformat(),
            "panel_size": ev.panel_size,
            "backups": ev.backups,
            "quotas": ev.quotas,
            "projects": _project_parties(session, keys, ev),
            "staff": [person_pseudonym(c, pid) for pid in ev.staff_person_ids],
        },
        "rules": rules,
        "pool": _pool(session, keys, ev),
        "history": _history(session, keys, ev),
        "commitments": commits,
        "public_value_source": ev.public_value_source,
    }


# ---- commitments, reveals, the draw -------------------------------------------------------------------


def _party_of(ev: MentorEvent, actor: str) -> str:
    if actor == ev.organiser_user:
        return "organiser"
    if actor == ev.supervisor_user:
        return "supervisor"
    raise Forbidden("只有本活动的组织方和监督方可以提交承诺和揭示秘密")


def commit(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    event_no: str,
    commitment: str,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
) -> DrawCommitment:
    """A party's hash commitment; when the last required party has committed, the inputs are frozen."""
    _role(role)
    ev = _event(session, event_no)
    party = _party_of(ev, actor)
    if ev.status not in ("planned", "committing"):
        raise InvalidTransition("承诺已截止：抽取输入已冻结")
    if len(commitment) != 64 or not set(commitment) <= set("0123456789abcdef"):
        raise ValidationFailed("承诺须为64位小写十六进制 SHA-256 值")
    exists = session.execute(
        select(DrawCommitment).where(DrawCommitment.event_id == ev.id, DrawCommitment.party == party)
    ).scalar_one_or_none()
    if exists is not None:
        raise Conflict(f"{party} 已提交承诺，不能更改")
    t = _now(now)
    row = DrawCommitment(event_id=ev.id, party=party, actor=actor, commitment=commitment, committed_at=t)
    session.add(row)
    ev.status = "committing"
    session.flush()
    ps = _params(params)
    have = set(
        session.execute(select(DrawCommitment.party).where(DrawCommitment.event_id == ev.id)).scalars()
    )
    frozen = False
    if set(ps["mentor_draw.required_parties"].value_at(ev.event_date)) <= have:
        inputs = D.normalize_inputs(_draft_inputs(session, keys, ev, ps))
        ev.inputs_enc = keys.cipher.encrypt(D.canonical_json(inputs).decode("utf-8"), INPUTS_FIELD)
        ev.inputs_sha256 = D.inputs_sha256(inputs)
        ev.inputs_at = t
        frozen = True
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.commit",
        subject=f"mentor_event:{event_no}",
        details={"party": party, "commitment": commitment, "inputs_frozen": frozen},
        now=now,
    )
    return row


def reveal(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    event_no: str,
    secret: str,
    now: dt.datetime | None = None,
) -> DrawCommitment:
    _role(role)
    ev = _event(session, event_no)
    party = _party_of(ev, actor)
    if ev.inputs_sha256 is None:
        raise InvalidTransition("所有参与方提交承诺、抽取输入冻结之后才能揭示秘密")
    row = session.execute(
        select(DrawCommitment).where(DrawCommitment.event_id == ev.id, DrawCommitment.party == party)
    ).scalar_one()
    if row.secret is not None:
        raise Conflict(f"{party} 已揭示")
    try:
        ok = D.commitment(ev.event_no, party, secret) == row.commitment
    except D.DrawInputError as exc:
        raise ValidationFailed(str(exc)) from None
    if not ok:
        _audit(
            session,
            keys,
            actor=actor,
            role=role,
            action="mentor_draw.reveal",
            subject=f"mentor_event:{event_no}",
            details={"party": party},
            outcome="denied",
            now=now,
        )
        raise ValidationFailed(f"揭示的秘密与 {party} 事先提交的承诺不符")
    row.secret = secret
    row.revealed_at = _now(now)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.reveal",
        subject=f"mentor_event:{event_no}",
        details={"party": party},
        now=now,
    )
    return row


def set_public_value(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    event_no: str,
    value: str,
    now: dt.datetime | None = None,
) -> MentorEvent:
    """Enter the public value announced in advance (e.g. that evening's lottery numbers)."""
    _role(role)
    ev = _event(session, event_no)
    if actor not in (ev.organiser_user, ev.supervisor_user):
        raise Forbidden("只有组织方或监督方可以录入公开随机值")
    if ev.public_value_source is None:
        raise InvalidTransition("本活动未事先公告公开随机值来源")
    if ev.public_value is not None:
        raise Conflict("公开随机值已录入")
    ev.public_value = value
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.public_value",
        subject=f"mentor_event:{event_no}",
        details={"value": value},
        now=now,
    )
    return ev


def _manifest(keys: Keys, d: MentorDraw) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(keys.cipher.decrypt(d.manifest_enc, MANIFEST_FIELD))
    return data


def _seal(keys: Keys, d: MentorDraw, manifest: Mapping[str, Any]) -> None:
    d.manifest_enc = keys.cipher.encrypt(D.canonical_json(manifest).decode("utf-8"), MANIFEST_FIELD)


def _mentors_by_pseudonym(session: Session, keys: Keys, pseudonyms: set[str]) -> dict[str, Mentor]:
    out = {}
    for m in session.execute(select(Mentor)).scalars():
        p = mentor_pseudonym(keys.cipher, m.mentor_no)
        if p in pseudonyms:
            out[p] = m
    return out


def _notify_seat(session: Session, ev: MentorEvent, m: Mentor, slot: int) -> None:
    enqueue(
        session,
        template="mentor_draw.assigned",
        user=m.user_id or f"mentor:{m.mentor_no}",
        payload={
            "event_no": ev.event_no,
            "title": ev.title,
            "event_date": ev.event_date.isoformat(),
            "slot": slot,
            "message": "您已被随机抽选为评审专家，请在系统中确认是否参加；名单揭封前请勿对外透露。",
        },
    )


def run_draw(
    session: Session, *, keys: Keys, actor: str, role: str, event_no: str, now: dt.datetime | None = None
) -> MentorDraw:
    """Draw (nobody picks): frozen inputs + revealed secrets (+ public value) → sealed manifest."""
    _role(role)
    ev = _event(session, event_no)
    if actor not in (ev.organiser_user, ev.supervisor_user) and role != "city_admin":
        raise Forbidden("只有组织方、监督方或市级管理员可以启动抽取")
    t = _now(now)
    if t < _aware(ev.earliest_draw_at):
        raise InvalidTransition(
            f"未到最早抽取时间 {_aware(ev.earliest_draw_at).astimezone(CHINA):%Y-%m-%d %H:%M}（活动前规定工作日内）"
        )
    if ev.inputs_enc is None:
        raise InvalidTransition("尚有参与方未提交承诺")
    if session.execute(select(MentorDraw.id).where(MentorDraw.event_id == ev.id)).first() is not None:
        raise Conflict("本活动已抽取，不能重新抽取（谢绝由备选依次递补）")
    commits = list(session.execute(select(DrawCommitment).where(DrawCommitment.event_id == ev.id)).scalars())
    missing = [c.party for c in commits if c.secret is None]
    if missing:
        raise InvalidTransition(f"尚未揭示秘密：{'、'.join(sorted(missing))}")
    inputs = json.loads(keys.cipher.decrypt(ev.inputs_enc, INPUTS_FIELD))
    try:
        man = D.run(
            inputs,
            [{"party": c.party, "secret": c.secret or ""} for c in commits],
            ev.public_value,
        )
    except D.DrawInputError as exc:
        raise ValidationFailed(str(exc)) from None
    res = man["result"]
    d = MentorDraw(
        event_id=ev.id,
        status=res["status"],
        drawn_at=t,
        drawn_by=actor,
        seed=res["seed"],
        inputs_sha256=man["inputs_sha256"],
        failure=res["failure"]["message"] if res["failure"] else None,
        manifest_enc=b"",
        version=1,
    )
    _seal(keys, d, man)
    session.add(d)
    session.flush()
    ev.status = "failed" if res["status"] == "failed" else "drawn"
    seated = {p["mentor"]: p for p in res["panel"]}
    by_p = _mentors_by_pseudonym(session, keys, set(seated))
    for p in res["panel"]:
        session.add(
            MentorDrawSlot(
                draw_id=d.id, slot=p["slot"], stratum=p["stratum"], status="notified", changed_at=t
            )
        )
        _notify_seat(session, ev, by_p[p["mentor"]], p["slot"])
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.draw",
        subject=f"mentor_event:{event_no}",
        details={
            "status": res["status"],
            "seed": res["seed"],
            "inputs_sha256": man["inputs_sha256"],
            "slots": len(res["panel"]),
            "failure": d.failure or "",
        },
        outcome="success" if res["status"] != "failed" else "failure",
        now=now,
    )
    return d


def _draw_of(session: Session, ev: MentorEvent) -> MentorDraw:
    d = session.execute(
        select(MentorDraw).where(MentorDraw.event_id == ev.id).execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if d is None:
        raise NotFound(f"评审活动 {ev.event_no} 尚未抽取")
    return d


def _sealed(ev: MentorEvent, t: dt.datetime) -> bool:
    return t < _aware(ev.unseal_at)


@dataclass(frozen=True)
class SlotView:
    slot: int
    stratum: str
    status: str
    mentor_no: str | None  # None while sealed (or for a role that may not see names)
    name: str | None


@dataclass(frozen=True)
class DrawView:
    event_no: str
    status: str
    sealed: bool
    seed: str | None
    failure: str | None
    slots: tuple[SlotView, ...]


def draw_view(
    session: Session, *, keys: Keys, actor: str, role: str, event_no: str, now: dt.datetime | None = None
) -> DrawView:
    """Slots and their status for staff. Names only after ``unseal_at`` and only for the event's
    supervisor, chair, organiser and city administrators; every call is audited."""
    _role(role)
    if role == "mentor":
        raise Forbidden("导师只能查看本人的抽选结果")
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    t = _now(now)
    sealed = _sealed(ev, t)
    may_see = not sealed and (
        role == "city_admin" or actor in (ev.supervisor_user, ev.chair_user, ev.organiser_user)
    )
    slots = list(
        session.execute(
            select(MentorDrawSlot).where(MentorDrawSlot.draw_id == d.id).order_by(MentorDrawSlot.slot)
        ).scalars()
    )
    names: dict[int, tuple[str, str]] = {}
    if may_see:
        man = _manifest(keys, d)
        by_p = _mentors_by_pseudonym(session, keys, {p["mentor"] for p in man["result"]["panel"]})
        for p in man["result"]["panel"]:
            m = by_p[p["mentor"]]
            person = session.get(Person, m.person_id)
            names[p["slot"]] = (m.mentor_no, person.name if person else "")
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.view_sealed" if sealed else "mentor_draw.view",
        subject=f"mentor_event:{event_no}",
        details={"names_shown": bool(names)},
        now=now,
    )
    return DrawView(
        event_no=ev.event_no,
        status=d.status,
        sealed=sealed,
        seed=None if sealed else d.seed,
        failure=d.failure,
        slots=tuple(
            SlotView(s.slot, s.stratum, s.status, *(names.get(s.slot) or (None, None))) for s in slots
        ),
    )


@dataclass(frozen=True)
class Assignment:
    event_no: str
    title: str
    event_date: dt.date
    slot: int
    status: str


def my_assignment(
    session: Session, *, keys: Keys, actor: str, event_no: str, now: dt.datetime | None = None
) -> Assignment | None:
    """The mentor's own seat (or None). No other name is ever returned. Audited."""
    m = _mentor_of_user(session, actor)
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    man = _manifest(keys, d)
    me = mentor_pseudonym(keys.cipher, m.mentor_no)
    seat = next((p for p in man["result"]["panel"] if p["mentor"] == me), None)
    _audit(
        session,
        keys,
        actor=actor,
        role="mentor",
        action="mentor_draw.own_assignment",
        subject=f"mentor_event:{event_no}",
        details={"seated": seat is not None},
        now=now,
    )
    if seat is None:
        return None
    status = session.execute(
        select(MentorDrawSlot.status).where(
            MentorDrawSlot.draw_id == d.id, MentorDrawSlot.slot == seat["slot"]
        )
    ).scalar_one()
    return Assignment(ev.event_no, ev.title, ev.event_date, seat["slot"], status)


def respond(
    session: Session, *, keys: Keys, actor: str, event_no: str, accept: bool, now: dt.datetime | None = None
) -> Assignment | None:
    """The seated mentor confirms, or declines: the slot passes to the next backup of the stratum (or a
    supplementary round from the same seed chain); the replacement is notified. Returns the mentor's
    seat after the response (None after a decline)."""
    m = _mentor_of_user(session, actor)
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    t = _now(now)
    if t >= _aware(ev.unseal_at):
        raise InvalidTransition("名单已揭封，不能再确认或谢绝")
    man = _manifest(keys, d)
    me = mentor_pseudonym(keys.cipher, m.mentor_no)
    seat = next((p for p in man["result"]["panel"] if p["mentor"] == me), None)
    if seat is None:
        raise Forbidden("您不在本活动的评审组中")
    slot = session.execute(
        select(MentorDrawSlot).where(MentorDrawSlot.draw_id == d.id, MentorDrawSlot.slot == seat["slot"])
    ).scalar_one()
    if accept:
        slot.status = "confirmed"
        slot.changed_at = t
        session.flush()
        _audit(
            session,
            keys,
            actor=actor,
            role="mentor",
            action="mentor_draw.confirm",
            subject=f"mentor_event:{event_no}",
            details={"slot": seat["slot"]},
            now=now,
        )
        return Assignment(ev.event_no, ev.title, ev.event_date, seat["slot"], "confirmed")
    declines = [
        *man["declines"],
        {"mentor": me, "at": t.astimezone(CHINA).replace(microsecond=0).isoformat()},
    ]
    again = D.run(man["inputs"], man["reveals"], man["public_value"], declines)
    res = again["result"]
    last = res["replacements"][-1]
    _seal(keys, d, again)
    d.status = res["status"]
    d.version += 1
    new = last.get("replacement")
    slot.changed_at = t
    if new is None:
        slot.status = "vacant"
        d.failure = last.get("message")
    else:
        slot.status = "notified"
        by_p = _mentors_by_pseudonym(session, keys, {new})
        _notify_seat(session, ev, by_p[new], seat["slot"])
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role="mentor",
        action="mentor_draw.decline",
        subject=f"mentor_event:{event_no}",
        details={
            "slot": seat["slot"],
            "replaced": new is not None,
            "supplementary_round": int(last.get("supplementary_round", 0)),
        },
        now=now,
    )
    return None


def export_manifest(
    session: Session, *, keys: Keys, actor: str, role: str, event_no: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The pseudonymous manifest for publication, after unseal only. Audited (also refusals)."""
    _role(role)
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    if _sealed(ev, _now(now)) or role == "mentor":
        _audit(
            session,
            keys,
            actor=actor,
            role=role,
            action="mentor_draw.export",
            subject=f"mentor_event:{event_no}",
            outcome="denied",
            now=now,
        )
        if role == "mentor":
            raise Forbidden("导师不能导出抽选清单")
        raise Forbidden(
            f"抽选结果密封至 {_aware(ev.unseal_at).astimezone(CHINA):%Y-%m-%d %H:%M}，揭封后才能导出清单"
        )
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_draw.export",
        subject=f"mentor_event:{event_no}",
        details={"seed": d.seed},
        now=now,
    )
    return _manifest(keys, d)


# ---- scoring -----------------------------------------------------------------------------------------


def submit_score(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    event_no: str,
    project_no: str,
    score: int,
    now: dt.datetime | None = None,
) -> MentorScore:
    """A seated mentor scores a project independently; the score is sealed (encrypted) until all are in."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= MAX_SCORE:
        raise ValidationFailed(f"评分须为0–{MAX_SCORE}的整数")
    m = _mentor_of_user(session, actor)
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    if ev.status not in ("drawn", "scoring"):
        raise InvalidTransition("本活动当前不接受评分")
    man = _manifest(keys, d)
    me = mentor_pseudonym(keys.cipher, m.mentor_no)
    seat = next((p for p in man["result"]["panel"] if p["mentor"] == me), None)
    if seat is None:
        raise Forbidden("您不在本活动的评审组中")
    proj = session.execute(
        select(MentorEventProject).where(
            MentorEventProject.event_id == ev.id, MentorEventProject.project_no == project_no
        )
    ).scalar_one_or_none()
    if proj is None:
        raise NotFound(f"项目 {project_no} 不在本活动中")
    if session.execute(
        select(MentorScore.id).where(MentorScore.project_id == proj.id, MentorScore.slot == seat["slot"])
    ).first():
        raise Conflict("该项目您已评分，不能修改")
    row = MentorScore(
        event_id=ev.id,
        project_id=proj.id,
        slot=seat["slot"],
        score_enc=keys.cipher.encrypt(str(score), SCORE_FIELD),
        scored_at=_now(now),
    )
    session.add(row)
    ev.status = "scoring"
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role="mentor",
        action="mentor_score.submit",
        subject=f"mentor_event:{event_no}",
        details={"project": project_no},
        now=now,
    )
    return row


def scoring_progress(session: Session, *, event_no: str) -> tuple[int, int]:
    """(scores in, scores expected): no score value is ever shown before all are in."""
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    seats = session.execute(
        select(func.count())
        .select_from(MentorDrawSlot)
        .where(MentorDrawSlot.draw_id == d.id, MentorDrawSlot.status != "vacant")
    ).scalar_one()
    projects = session.execute(
        select(func.count()).select_from(MentorEventProject).where(MentorEventProject.event_id == ev.id)
    ).scalar_one()
    got = session.execute(
        select(func.count()).select_from(MentorScore).where(MentorScore.event_id == ev.id)
    ).scalar_one()
    return int(got), int(seats) * int(projects)


def trimmed_mean_milli(scores: Sequence[int], threshold: int) -> int:
    """Mean × 1000 rounded half up; with ≥ ``threshold`` scores the highest and lowest are dropped."""
    if not scores:
        raise ValueError("没有评分")
    xs = sorted(scores)
    if len(xs) >= threshold:
        xs = xs[1:-1]
    total, n = sum(xs) * 1000, len(xs)
    return (2 * total + n) // (2 * n)


def _median_milli(scores: Sequence[int]) -> int:
    xs = sorted(scores)
    n = len(xs)
    return xs[n // 2] * 1000 if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) * 500


def rank_key(tie_rule: str, project_no: str, scores: Sequence[int], threshold: int) -> tuple[int, int, str]:
    """Sort key (ascending = better): trimmed mean, then the tie rule stated in advance, then number."""
    mean = trimmed_mean_milli(scores, threshold)
    if tie_rule == "higher_median":
        second = _median_milli(scores)
    elif tie_rule == "higher_max":
        second = max(scores) * 1000
    else:
        second = 0
    return (-mean, -second, project_no)


@dataclass(frozen=True)
class Ranked:
    project_no: str
    rank: int
    score_milli: int
    award: str | None


def finalize_scores(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    event_no: str,
    awards: Sequence[tuple[str, int]] = (),
    now: dt.datetime | None = None,
) -> list[Ranked]:
    """When every seated member has scored every project: unseal the scores, trimmed means, ranks by
    the event's tie rule, awards in rank order (e.g. [("一等奖", 1), ("二等奖", 2)])."""
    _role(role)
    ev = _event(session, event_no)
    if role != "city_admin" and actor not in (ev.organiser_user, ev.chair_user):
        raise Forbidden("只有组织方、评审组长或市级管理员可以汇总评分")
    got, need = scoring_progress(session, event_no=event_no)
    if got < need or need == 0:
        raise InvalidTransition(f"评分尚未全部提交（{got}/{need}），评分保持密封")
    projects = list(
        session.execute(select(MentorEventProject).where(MentorEventProject.event_id == ev.id)).scalars()
    )
    by_project: dict[int, list[int]] = {p.id: [] for p in projects}
    for s in session.execute(select(MentorScore).where(MentorScore.event_id == ev.id)).scalars():
        by_project[s.project_id].append(int(keys.cipher.decrypt(s.score_enc, SCORE_FIELD)))
    order = sorted(
        projects, key=lambda p: rank_key(ev.tie_rule, p.project_no, by_project[p.id], ev.trim_threshold)
    )
    labels = [name for name, n in awards for _ in range(n)]
    out = []
    for i, p in enumerate(order):
        p.rank = i + 1
        p.final_score_milli = trimmed_mean_milli(by_project[p.id], ev.trim_threshold)
        p.award = labels[i] if i < len(labels) else None
        out.append(Ranked(p.project_no, p.rank, p.final_score_milli, p.award))
    ev.status = "closed"
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor_score.finalize",
        subject=f"mentor_event:{event_no}",
        details={"projects": len(out), "tie_rule": ev.tie_rule, "trim_threshold": ev.trim_threshold},
        now=now,
    )
    return out


# ---- 渝创渝新 acceleration (3.9) ----------------------------------------------------------------------


def select_for_acceleration(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    year: int,
    event_no: str,
    project_no: str,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> AccelerationSelection:
    """Select an award-winning returning-entrepreneur project of ``year`` for follow-up support."""
    _role(role)
    if role not in EVENT_ADMINS:
        raise Forbidden("只有市级管理员或组织方可以遴选加速项目")
    ev = _event(session, event_no)
    if ev.year != year:
        raise ValidationFailed(f"活动 {event_no} 属于 {ev.year} 年，不是 {year} 年")
    p = session.execute(
        select(MentorEventProject).where(
            MentorEventProject.event_id == ev.id, MentorEventProject.project_no == project_no
        )
    ).scalar_one_or_none()
    if p is None:
        raise NotFound(f"项目 {project_no} 不在活动 {event_no} 中")
    if p.award is None:
        raise ValidationFailed(f"项目 {project_no} 未获奖，不能入选渝创渝新加速计划")
    if not p.is_returning:
        raise ValidationFailed(f"项目 {project_no} 不是返乡入乡创业项目")
    dup = session.execute(
        select(AccelerationSelection.id).where(
            AccelerationSelection.year == year, AccelerationSelection.project_id == p.id
        )
    ).first()
    if dup:
        raise Conflict(f"项目 {project_no} 已入选 {year} 年加速计划")
    sel = AccelerationSelection(
        year=year, project_id=p.id, selected_by=actor, selected_at=_now(now), note=note
    )
    session.add(sel)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="acceleration.select",
        subject=f"mentor_event:{event_no}",
        details={"project": project_no, "year": year},
        now=now,
    )
    return sel


def record_support(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    selection_id: int,
    kind: str,
    on: dt.date,
    description: str,
    progress: int,
) -> AccelerationSupport:
    _role(role)
    if role not in (*EVENT_ADMINS, "district_reviewer"):
        raise Forbidden("无权登记跟踪扶持记录")
    if kind not in SUPPORT_KINDS:
        raise ValidationFailed(f"扶持类型 {kind} 无效，应为 {'、'.join(SUPPORT_KINDS)} 之一")
    if isinstance(progress, bool) or not isinstance(progress, int) or not 0 <= progress <= 100:
        raise ValidationFailed("进度须为0–100的整数（百分比）")
    sel = session.get(AccelerationSelection, selection_id)
    if sel is None:
        raise NotFound(f"加速项目 {selection_id} 不存在")
    last = session.execute(
        select(func.max(AccelerationSupport.progress)).where(
            AccelerationSupport.selection_id == selection_id, AccelerationSupport.kind == kind
        )
    ).scalar_one()
    if last is not None and progress < last:
        raise ValidationFailed(f"进度不能倒退（该类扶持已达 {last}%）")
    row = AccelerationSupport(
        selection_id=selection_id,
        kind=kind,
        on_date=on,
        description=description,
        progress=progress,
        recorded_by=actor,
    )
    session.add(row)
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="acceleration.support",
        subject=f"acceleration:{selection_id}",
        details={"kind": kind, "progress": progress},
    )
    return row


def acceleration_report(session: Session, *, year: int) -> list[dict[str, Any]]:
    """Each selected project of the year with its latest progress per support kind."""
    out = []
    rows = session.execute(
        select(AccelerationSelection, MentorEventProject)
        .join(MentorEventProject, MentorEventProject.id == AccelerationSelection.project_id)
        .where(AccelerationSelection.year == year)
        .order_by(AccelerationSelection.id)
    ).all()
    for sel, p in rows:
        latest: dict[str, int] = {}
        for s in session.execute(
            select(AccelerationSupport)
            .where(AccelerationSupport.selection_id == sel.id)
            .order_by(AccelerationSupport.on_date, AccelerationSupport.id)
        ).scalars():
            latest[s.kind] = s.progress
        out.append({"selection_id": sel.id, "project_no": p.project_no, "award": p.award, "progress": latest})
    return out


# ---- pool administration (pages and API) -------------------------------------------------------------


def set_status(
    session: Session,
    *,
    keys: Keys,
    actor: str,
    role: str,
    mentor_no: str,
    status: str,
    now: dt.datetime | None = None,
) -> Mentor:
    """The city office sets a mentor's status (在库 / 暂停 / 退出); a retired mentor leaves every later pool."""
    _role(role)
    if role != "city_admin":
        raise Forbidden("只有市级管理员可以变更导师状态")
    if status not in MENTOR_STATUSES:
        raise ValidationFailed(f"导师状态 {status} 无效，应为 {'、'.join(MENTOR_STATUSES)} 之一")
    m = _mentor_by_no(session, mentor_no)
    if m.status == status:
        raise Conflict(f"导师 {mentor_no} 已是该状态")
    before = m.status
    m.status = status
    session.flush()
    _audit(
        session,
        keys,
        actor=actor,
        role=role,
        action="mentor.status",
        subject=f"mentor:{mentor_no}",
        details={"from": before, "to": status},
        now=now,
    )
    return m


def my_relations(session: Session, *, actor: str) -> list[tuple[str, str]]:
    """The mentor's own declared relatives: (person number, relation code)."""
    m = _mentor_of_user(session, actor)
    rows = session.execute(
        select(Person.person_no, MentorRelation.relation)
        .join(MentorRelation, MentorRelation.person_id == Person.id)
        .where(MentorRelation.mentor_id == m.id)
        .order_by(MentorRelation.id)
    ).all()
    return [(str(no), str(rel)) for no, rel in rows]


def my_assignments(
    session: Session, *, keys: Keys, actor: str, now: dt.datetime | None = None
) -> list[Assignment]:
    """Every seat the mentor holds (each event's lookup audited as ``mentor_draw.own_assignment``)."""
    _mentor_of_user(session, actor)
    events = session.execute(
        select(MentorEvent.event_no)
        .join(MentorDraw, MentorDraw.event_id == MentorEvent.id)
        .order_by(MentorEvent.event_date.desc(), MentorEvent.id.desc())
    ).scalars()
    out = []
    for no in list(events):
        seat = my_assignment(session, keys=keys, actor=actor, event_no=no, now=now)
        if seat is not None:
            out.append(seat)
    return out


def my_scored_projects(session: Session, *, keys: Keys, actor: str, event_no: str) -> set[str]:
    """The projects the mentor has already scored in the event (their own seat only; no values)."""
    m = _mentor_of_user(session, actor)
    ev = _event(session, event_no)
    d = _draw_of(session, ev)
    me = mentor_pseudonym(keys.cipher, m.mentor_no)
    seat = next((p for p in _manifest(keys, d)["result"]["panel"] if p["mentor"] == me), None)
    if seat is None:
        return set()
    rows = session.execute(
        select(MentorEventProject.project_no)
        .join(MentorScore, MentorScore.project_id == MentorEventProject.id)
        .where(MentorScore.event_id == ev.id, MentorScore.slot == seat["slot"])
    ).scalars()
    return set(rows)


def _seated_users(session: Session, keys: Keys, event_no: str) -> list[str]:
    """The seated mentors' logins in slot order (for the demo seeder, which scores as each of them)."""
    d = _draw_of(session, _event(session, event_no))
    panel = sorted(_manifest(keys, d)["result"]["panel"], key=lambda p: p["slot"])
    by_p = _mentors_by_pseudonym(session, keys, {p["mentor"] for p in panel})
    return [by_p[p["mentor"]].user_id or "" for p in panel]
