"""Labour demand (用工需求), job seekers, matching, applications and hires, on-job trainings (clause 4.11).

Keyword-only functions over a Session; they never commit (the request or command owns the
transaction), and every state change writes its audit record in the same transaction.

Who does what:

- A business (an applicant account linked to a business) reports its needs; a window clerk may report
  for a business of their district (代办). District staff (window clerk, district reviewer) of the post's
  district verify a reported post and publish it on the public board, or return it with a reason.
- A job seeker is a registry person: an applicant account linked to a person registers themself; a
  window clerk registers a person of the registry (by person number or 身份证号) who wants to work in
  the clerk's district. The contact phone is encrypted (blind index for lookup), like ``persons.phone``.
- Matching ranks open posts for a seeker and active seekers for a post (:mod:`xiangchuang.jobs.matching`).
- A seeker applies to a published post (or the clerk for them); the business (or district staff)
  records the hire, which creates or updates the business's :class:`~xiangchuang.models.Employment`
  row — the record the job and social-insurance subsidies read.
- On-job trainings (岗位培训) are recorded by the provider (business/cooperative account, artisan
  account) or by a window clerk (also for associations); the subsidy is applied for through the one
  application workflow (kind ``onjob_training_subsidy``), whose determination the assembler builds from
  these records.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.applications import service as applications
from xiangchuang.applications.repository import founder_of
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.jobs import repository as repo
from xiangchuang.jobs.catalogue import (
    CONTRACT_KINDS,
    COURSE_LEVELS,
    PROVIDER_KINDS,
    SEEKER_CATEGORIES,
    SKILLS,
    TRADES,
    parse_skills,
    skill_mask,
)
from xiangchuang.jobs.matching import (
    MatchParams,
    Side,
    reasons,
    score_pairs,
    top_posts,
    top_seekers,
    town_keys,
)
from xiangchuang.models import (
    Application,
    Business,
    Employment,
    JobApplication,
    JobPost,
    JobSeeker,
    OnjobTraining,
    Person,
    PersonGroup,
)
from xiangchuang.outbox import enqueue
from xiangchuang.registry.pii import Pii

STAFF: Final = ("window_clerk", "district_reviewer")
READERS: Final = (*STAFF, "city_admin")
MAX_WAGE_YUAN: Final = 100_000


@dataclass(frozen=True)
class Actor:
    """Who acts: login, role, district (staff), and the business / person an applicant account speaks for."""

    login: str
    role: str
    district: int | None = None
    business_id: int | None = None
    person_id: int | None = None


def _no(prefix: str, at: dt.datetime) -> str:
    return f"{prefix}{china_date(at):%Y%m%d}{secrets.token_hex(4).upper()}"


def _audit(
    session: Session,
    key: bytes,
    actor: Actor,
    action: str,
    subject: str,
    district: int | None,
    at: dt.datetime,
    **details: Any,
) -> None:
    record(
        session,
        key=key,
        actor=actor.login,
        actor_role=actor.role,
        district=district,
        action=action,
        subject=subject,
        details=details,
        at=at,
    )


def _staff_of(actor: Actor, district: int, doing: str) -> None:
    if actor.role not in STAFF:
        raise Forbidden(f"只有区县人社窗口或审核人员可以{doing}")
    if actor.district != district:
        raise Forbidden(f"无权{doing}其他区县（{district_by_code(district).name}）的记录")


def _may_read_district(actor: Actor, district: int) -> bool:
    return actor.role == "city_admin" or (actor.role in STAFF and actor.district == district)


# ---- posts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostInput:
    title: str
    trade: str
    skills: str | list[str] | tuple[str, ...]
    positions: Any
    wage_min_yuan: Any
    wage_max_yuan: Any
    town: str
    start_date: dt.date | str | None
    contract_kind: str
    contract_months: Any = None
    terms: str | None = None
    district: Any = None  # default: the business's district


def _post_values(inp: PostInput, business: Business, today: dt.date) -> dict[str, Any]:
    title = fields.text(inp.title, "岗位名称", max_len=60)
    if inp.trade not in TRADES:
        raise ValidationFailed(f"行业/工种：须为 {'、'.join(TRADES.values())} 之一")
    skills = parse_skills(inp.skills, "所需技能")
    positions = fields.integer(inp.positions, "招聘人数", 1, 500)
    lo = fields.integer(inp.wage_min_yuan, "月工资下限（元）", 1, MAX_WAGE_YUAN)
    hi = fields.integer(inp.wage_max_yuan, "月工资上限（元）", 1, MAX_WAGE_YUAN)
    if hi < lo:
        raise ValidationFailed("月工资上限（元）：不能低于下限")
    town = fields.text(inp.town, "工作地点（乡镇/街道）", max_len=40)
    district = (
        business.district if inp.district in (None, "") else fields.district(inp.district, "工作地点（区县）")
    )
    start = fields.date(inp.start_date, "到岗日期")
    assert start is not None
    if start < today - dt.timedelta(days=30) or start > today + dt.timedelta(days=730):
        raise ValidationFailed("到岗日期：须在今天前 30 天至今后 2 年之内")
    if inp.contract_kind not in CONTRACT_KINDS:
        raise ValidationFailed(f"用工形式：须为 {'、'.join(CONTRACT_KINDS.values())} 之一")
    months: int | None = None
    if inp.contract_kind == "fixed_term" or inp.contract_months not in (None, ""):
        months = fields.integer(inp.contract_months, "合同期限（月）", 1, 120)
    return {
        "title": title,
        "trade": inp.trade,
        "skills": ",".join(skills),
        "positions": positions,
        "wage_min_fen": lo * 100,
        "wage_max_fen": hi * 100,
        "town": town,
        "district": district,
        "start_date": start,
        "contract_kind": inp.contract_kind,
        "contract_months": months,
        "terms": fields.text(inp.terms, "其他用工条件", max_len=300, required=False),
    }


def _business_for(session: Session, actor: Actor, business_no: str | None) -> Business:
    if actor.role == "applicant":
        if actor.business_id is None:
            raise Forbidden("您的账号没有关联经营主体，不能发布用工需求；请到街道/乡镇窗口办理")
        business = session.get(Business, actor.business_id)
        if business is None:
            raise NotFound("账号关联的经营主体不存在")
        return business
    if actor.role == "window_clerk":
        no = (business_no or "").strip()
        business = session.execute(select(Business).where(Business.business_no == no)).scalar_one_or_none()
        if business is None or business.district != actor.district:
            raise NotFound(f"经营主体编号：本区县登记库中没有 {no or '（空）'}")
        return business
    raise Forbidden("只有经营主体（申请人账号）或街道/乡镇窗口可以报送用工需求")


def report_post(
    session: Session,
    *,
    actor: Actor,
    data: PostInput,
    audit_key: bytes,
    business_no: str | None = None,
    now: dt.datetime | None = None,
) -> JobPost:
    """A business's labour need (state 待核实), by the business or by a window clerk on its behalf."""
    at = fields.now_utc(now)
    business = _business_for(session, actor, business_no)
    if business.status != "normal" or business.deregistration_date is not None:
        raise ValidationFailed(f"经营主体 {business.business_no} 不在正常经营状态，不能报送用工需求")
    values = _post_values(data, business, china_date(at))
    post = JobPost(
        post_no=_no("GW", at),
        business_id=business.id,
        state="reported",
        reported_by=actor.login,
        on_behalf=actor.role == "window_clerk",
        hired=0,
        version=1,
        **values,
    )
    session.add(post)
    session.flush()
    _audit(
        session,
        audit_key,
        actor,
        "jobs.post.report",
        f"job_posts:{post.post_no}",
        post.district,
        at,
        business_no=business.business_no,
        positions=post.positions,
        on_behalf=post.on_behalf,
    )
    enqueue(
        session,
        template="jobs.post_reported",
        payload={"post_no": post.post_no, "title": post.title, "message": "新的用工需求待核实"},
        role="district_reviewer",
        district=post.district,
    )
    return post


def update_post(
    session: Session,
    *,
    actor: Actor,
    post_no: str,
    data: PostInput,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> JobPost:
    """Correct a post that is waiting for verification or was returned (it goes back to 待核实)."""
    at = fields.now_utc(now)
    post = _post(session, post_no)
    _owner_or_staff(session, actor, post, "修改用工需求")
    if post.state not in ("reported", "rejected"):
        raise InvalidTransition(
            f"用工需求 {post_no} 当前为「{post.state}」，只有待核实或已退回的需求可以修改"
        )
    business = session.get(Business, post.business_id)
    assert business is not None
    for k, v in _post_values(data, business, china_date(at)).items():
        setattr(post, k, v)
    post.state, post.reject_reason = "reported", None
    post.version += 1
    session.flush()
    _audit(session, audit_key, actor, "jobs.post.update", f"job_posts:{post.post_no}", post.district, at)
    return post


def _post(session: Session, post_no: str) -> JobPost:
    post = repo.post_by_no(session, (post_no or "").strip())
    if post is None:
        raise NotFound(f"用工需求 {post_no} 不存在")
    return post


def _owner_or_staff(session: Session, actor: Actor, post: JobPost, doing: str) -> None:
    if actor.role == "applicant":
        if actor.business_id != post.business_id:
            raise Forbidden(f"只能{doing}本单位的用工需求")
        return
    _staff_of(actor, post.district, doing)


def get_post(session: Session, *, actor: Actor | None, post_no: str) -> JobPost:
    """A post: published ones for anyone; others for the business and the district's staff."""
    post = _post(session, post_no)
    if post.state in ("published", "filled"):
        return post
    if actor is None:
        raise NotFound(f"用工需求 {post_no} 不存在或尚未发布")
    if actor.role == "applicant" and actor.business_id == post.business_id:
        return post
    if _may_read_district(actor, post.district):
        return post
    raise NotFound(f"用工需求 {post_no} 不存在或尚未发布")


def _notify_business(session: Session, post: JobPost, template: str, payload: dict[str, Any]) -> None:
    """A message to the business's account (addressed, as in the workflow, by the legal representative's
    registry person number); none when the registry names no representative."""
    founder = founder_of(session, post.business_id, on=china_date(fields.now_utc()))
    if founder is not None:
        enqueue(session, template=template, payload=payload, user=founder.person_no)


def check_post_reader(actor: Actor, post: JobPost) -> None:
    """The business that owns the post, or staff of its district (the city office reads all)."""
    if actor.role == "applicant":
        if actor.business_id != post.business_id:
            raise Forbidden("只能查看本单位岗位的应聘与推荐")
    elif not _may_read_district(actor, post.district):
        raise Forbidden("无权查看其他区县岗位的应聘与推荐")


def verify_post(
    session: Session,
    *,
    actor: Actor,
    post_no: str,
    decision: str,
    audit_key: bytes,
    reason: str | None = None,
    expected_version: int | None = None,
    now: dt.datetime | None = None,
) -> JobPost:
    """District staff: 核实通过并发布 (``publish``) or 退回 (``reject``, with a reason)."""
    at = fields.now_utc(now)
    post = _post(session, post_no)
    _staff_of(actor, post.district, "核实发布用工需求")
    if decision not in ("publish", "reject"):
        raise ValidationFailed("核实结论：须为 publish（核实通过并发布）或 reject（退回）")
    if post.state != "reported":
        raise InvalidTransition(f"用工需求 {post_no} 当前不是待核实状态，不能核实")
    why = fields.text(reason, "退回原因", max_len=200, required=decision == "reject")
    seen = post.version if expected_version is None else expected_version
    values: dict[str, Any] = {
        "verified_by": actor.login,
        "verified_at": at,
        "version": seen + 1,
        "state": "published" if decision == "publish" else "rejected",
        "published_on": china_date(at) if decision == "publish" else None,
        "reject_reason": why if decision == "reject" else None,
    }
    done = session.execute(
        update(JobPost).where(JobPost.id == post.id, JobPost.version == seen).values(**values)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(f"用工需求 {post_no} 已被他人处理，请刷新后重试")
    session.refresh(post)
    _audit(
        session,
        audit_key,
        actor,
        f"jobs.post.{decision}",
        f"job_posts:{post.post_no}",
        post.district,
        at,
        state=post.state,
    )
    _notify_business(
        session,
        post,
        f"jobs.post_{'published' if decision == 'publish' else 'rejected'}",
        {
            "post_no": post.post_no,
            "title": post.title,
            "message": "用工需求已核实，已在招聘岗位中发布"
            if decision == "publish"
            else "用工需求被退回，请修改后重新报送",
            **({"reason": why} if why else {}),
        },
    )
    return post


def close_post(
    session: Session, *, actor: Actor, post_no: str, audit_key: bytes, now: dt.datetime | None = None
) -> JobPost:
    """The business (or district staff) takes a post off the board."""
    at = fields.now_utc(now)
    post = _post(session, post_no)
    _owner_or_staff(session, actor, post, "关闭用工需求")
    if post.state in ("closed", "filled"):
        raise InvalidTransition(f"用工需求 {post_no} 已关闭或已招满")
    post.state = "closed"
    post.version += 1
    session.flush()
    _audit(session, audit_key, actor, "jobs.post.close", f"job_posts:{post.post_no}", post.district, at)
    return post


# ---- seekers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeekerInput:
    category: str
    district: Any
    town: str
    skills: str | list[str] | tuple[str, ...]
    trades: str | list[str] | tuple[str, ...] = ()
    wage_expected_yuan: Any = 0
    available_from: dt.date | str | None = None
    phone: str | None = None


def _person_for(
    session: Session, actor: Actor, pii: Pii, person_no: str | None, id_number: str | None
) -> Person:
    if actor.role == "applicant":
        if actor.person_id is None:
            raise Forbidden("您的账号没有关联登记库人员，请到街道/乡镇窗口办理求职登记")
        person = session.get(Person, actor.person_id)
        if person is None:
            raise NotFound("账号关联的人员不存在")
        return person
    if actor.role != "window_clerk":
        raise Forbidden("只有求职者本人或街道/乡镇窗口可以办理求职登记")
    if id_number and id_number.strip():
        try:
            index = pii.id_index(id_number)
        except ValueError:
            raise ValidationFailed("身份证号：格式或校验码不正确") from None
        person = session.execute(select(Person).where(Person.id_number_bidx == index)).scalar_one_or_none()
    elif person_no and person_no.strip():
        person = session.execute(
            select(Person).where(Person.person_no == person_no.strip())
        ).scalar_one_or_none()
    else:
        raise ValidationFailed("人员：请填写登记库人员编号或身份证号")
    if person is None:
        raise NotFound("人员：登记库中没有此人，请先办理人员登记")
    return person


# A category other than 其他 must be shown by the registry: the person's key group in force (or, for
# graduates, a graduation date) — the registry is the record, the seeker's word is not.
_CATEGORY_GROUP: Final = {
    "returning_worker": "returning_migrant_worker",
    "graduate": "college_graduate",
    "unemployed": "registered_unemployed",
}


def _check_category(session: Session, person: Person, category: str, on: dt.date) -> None:
    group = _CATEGORY_GROUP.get(category)
    if group is None or (category == "graduate" and person.graduation_date is not None):
        return
    found = session.execute(
        select(PersonGroup.id)
        .where(
            PersonGroup.person_id == person.id,
            PersonGroup.group_code == group,
            or_(PersonGroup.since.is_(None), PersonGroup.since <= on),
            or_(PersonGroup.until.is_(None), PersonGroup.until >= on),
        )
        .limit(1)
    ).first()
    if found is None:
        raise ValidationFailed(
            f"人员类别：登记库中此人没有有效的“{SEEKER_CATEGORIES[category]}”身份；"
            "请先核实人员登记，或选择“其他求职人员”"
        )


def register_seeker(
    session: Session,
    *,
    actor: Actor,
    data: SeekerInput,
    pii: Pii,
    audit_key: bytes,
    person_no: str | None = None,
    id_number: str | None = None,
    now: dt.datetime | None = None,
) -> JobSeeker:
    """Register (or update) a job seeker: a registry person with skills, place and wage expectation."""
    at = fields.now_utc(now)
    person = _person_for(session, actor, pii, person_no, id_number)
    if data.category not in SEEKER_CATEGORIES:
        raise ValidationFailed(f"人员类别：须为 {'、'.join(SEEKER_CATEGORIES.values())} 之一")
    district = fields.district(data.district, "期望工作区县")
    if actor.role == "window_clerk" and district != actor.district:
        raise Forbidden("窗口只能为在本区县求职的人员办理登记")
    town = fields.text(data.town, "期望工作乡镇/街道", max_len=40)
    skills = parse_skills(data.skills, "技能")
    if not skills:
        raise ValidationFailed("技能：至少填写 1 项（可从技能目录中选择）")
    raw_trades = (
        [t.strip() for t in data.trades.replace("、", ",").split(",")]
        if isinstance(data.trades, str)
        else list(data.trades)
    )
    trades = [t for t in raw_trades if t]
    for t in trades:
        if t not in TRADES:
            raise ValidationFailed(f"意向行业：「{t[:20]}」不在行业目录中")
    wage = fields.integer(data.wage_expected_yuan or 0, "期望月工资（元）", 0, MAX_WAGE_YUAN)
    available = fields.optional_date(data.available_from, "可到岗日期")
    phone_enc = phone_bidx = None
    if data.phone and data.phone.strip():
        try:
            phone_enc, phone_bidx = pii.phone(data.phone)
        except ValueError:
            raise ValidationFailed("联系电话：须为有效的手机号码") from None
    _check_category(session, person, data.category, china_date(at))
    values = {
        "category": data.category,
        "district": district,
        "town": town,
        "skills": ",".join(skills),
        "trades": ",".join(dict.fromkeys(trades)),
        "wage_expected_fen": wage * 100,
        "available_from": available,
        "state": "active",
        "registered_by": actor.login,
    }
    seeker = repo.seeker_of_person(session, person.id)
    created = seeker is None
    if seeker is None:
        seeker = JobSeeker(seeker_no=_no("QZ", at), person_id=person.id, **values)
        session.add(seeker)
    else:
        if actor.role == "window_clerk" and seeker.district != actor.district and seeker.state == "active":
            raise Forbidden("此人已在其他区县登记求职，请由该区县窗口办理变更")
        for k, v in values.items():
            setattr(seeker, k, v)
    if phone_enc is not None:
        seeker.phone_enc, seeker.phone_bidx = phone_enc, phone_bidx
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("此人已办理求职登记") from None
    _audit(
        session,
        audit_key,
        actor,
        "jobs.seeker.register" if created else "jobs.seeker.update",
        f"job_seekers:{seeker.seeker_no}",
        district,
        at,
        category=data.category,
        skills=len(skills),
    )
    return seeker


def _seeker(session: Session, seeker_no: str) -> JobSeeker:
    seeker = repo.seeker_by_no(session, (seeker_no or "").strip())
    if seeker is None:
        raise NotFound(f"求职登记 {seeker_no} 不存在")
    return seeker


def get_seeker(session: Session, *, actor: Actor, seeker_no: str) -> JobSeeker:
    seeker = _seeker(session, seeker_no)
    if actor.role == "applicant":
        if actor.person_id != seeker.person_id:
            raise Forbidden("只能查看本人的求职登记")
    elif not _may_read_district(actor, seeker.district):
        raise Forbidden("无权查看其他区县的求职登记")
    return seeker


def withdraw_seeker(
    session: Session, *, actor: Actor, seeker_no: str, audit_key: bytes, now: dt.datetime | None = None
) -> JobSeeker:
    at = fields.now_utc(now)
    seeker = get_seeker(session, actor=actor, seeker_no=seeker_no)
    if actor.role == "city_admin":
        raise Forbidden("市级管理员不能办理求职登记")
    seeker.state = "withdrawn"
    session.flush()
    _audit(
        session,
        audit_key,
        actor,
        "jobs.seeker.withdraw",
        f"job_seekers:{seeker.seeker_no}",
        seeker.district,
        at,
    )
    return seeker


# ---- matching -----------------------------------------------------------------------------------


@dataclass
class Match:
    rank: int
    score: float
    reasons: list[str]
    post: JobPost | None = None
    business_name: str | None = None
    seeker: JobSeeker | None = None
    person: Person | None = None


def _reasons_for(mp: MatchParams, seeker: JobSeeker, post: JobPost, level: int) -> list[str]:
    have = set(seeker.skills.split(","))
    required = [c for c in post.skills.split(",") if c]
    return reasons(
        overlap=[c for c in required if c in have],
        required=required,
        place_level=level,
        region=mp.regions.get(post.district),
        wage_min_fen=post.wage_min_fen,
        wage_max_fen=post.wage_max_fen,
        expected_fen=seeker.wage_expected_fen,
    )


def matches_for_seeker(
    session: Session, *, actor: Actor, seeker_no: str, params: ParameterSet, on: dt.date
) -> list[Match]:
    """The best open posts for a seeker, with the reasons in Chinese."""
    seeker = get_seeker(session, actor=actor, seeker_no=seeker_no)
    mp = MatchParams.from_params(params, on, seeker.district)
    market = repo.market(session, on=on, extra_seeker_ids=(seeker.id,))
    i = market.seeker_ids.index(seeker.id)
    one = _take(market.seekers, np.asarray([i]))
    ranking = top_posts(one, market.posts, mp)
    picked = [int(j) for j in ranking.index[0] if j >= 0]
    if not picked:
        return []
    pairs = score_pairs(one, market.posts, np.zeros(len(picked), dtype=np.int64), np.asarray(picked), mp)
    posts = {
        p.id: p
        for p in session.execute(
            select(JobPost).where(JobPost.id.in_([market.post_ids[j] for j in picked]))
        ).scalars()
    }
    ids = [p.business_id for p in posts.values()]
    names = {
        int(b): str(n)
        for b, n in session.execute(select(Business.id, Business.name).where(Business.id.in_(ids)))
    }
    out = []
    for r, j in enumerate(picked):
        post = posts[market.post_ids[j]]
        out.append(
            Match(
                rank=r + 1,
                score=round(
                    float(ranking.score[0, r]), 3
                ),  # float32 → three decimals, as stored (score_milli)
                reasons=_reasons_for(mp, seeker, post, int(pairs.place_level[r])),
                post=post,
                business_name=names.get(post.business_id),
            )
        )
    return out


def matches_for_post(
    session: Session, *, actor: Actor, post_no: str, params: ParameterSet, on: dt.date
) -> list[Match]:
    """The best active seekers for a post (the business or the district's staff), with reasons."""
    post = _post(session, post_no)
    if actor.role == "applicant":
        if actor.business_id != post.business_id:
            raise Forbidden("只能查看本单位岗位的推荐人选")
    elif not _may_read_district(actor, post.district):
        raise Forbidden("无权查看其他区县岗位的推荐人选")
    if post.state != "published":
        raise InvalidTransition("只有已发布且未招满的岗位才推荐人选")
    mp = MatchParams.from_params(params, on, post.district)
    market = repo.market(session, on=on)
    if post.id not in market.post_ids:
        return []
    j = market.post_ids.index(post.id)
    ranking = top_seekers(market.seekers, market.posts, j, mp)
    picked = [int(i) for i in ranking.index[0] if i >= 0]
    if not picked:
        return []
    pairs = score_pairs(market.seekers, market.posts, np.asarray(picked), np.full(len(picked), j), mp)
    rows = session.execute(
        select(JobSeeker, Person)
        .join(Person, Person.id == JobSeeker.person_id)
        .where(JobSeeker.id.in_([market.seeker_ids[i] for i in picked]))
    ).all()
    by_id = {s.id: (s, p) for s, p in rows}
    out = []
    for r, i in enumerate(picked):
        seeker, person = by_id[market.seeker_ids[i]]
        out.append(
            Match(
                rank=r + 1,
                score=round(
                    float(ranking.score[0, r]), 3
                ),  # float32 → three decimals, as stored (score_milli)
                reasons=_reasons_for(mp, seeker, post, int(pairs.place_level[r])),
                seeker=seeker,
                person=person,
            )
        )
    return out


def _take(side: Side, rows: Any) -> Side:
    return Side(side.mask[rows], side.district[rows], side.town[rows], side.wage_lo[rows], side.wage_hi[rows])


# ---- applications and hires ---------------------------------------------------------------------


def apply(
    session: Session,
    *,
    actor: Actor,
    seeker_no: str,
    post_no: str,
    params: ParameterSet,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> JobApplication:
    """A seeker applies for a published post (or a window clerk for them)."""
    at = fields.now_utc(now)
    seeker = get_seeker(session, actor=actor, seeker_no=seeker_no)
    if actor.role not in ("applicant", "window_clerk"):
        raise Forbidden("只有求职者本人或街道/乡镇窗口可以办理应聘")
    if seeker.state != "active":
        raise InvalidTransition("求职登记不是有效状态（已录用或已撤回），不能应聘")
    post = _post(session, post_no)
    if post.state != "published" or post.hired >= post.positions:
        raise InvalidTransition(f"岗位 {post.post_no} 未发布或已招满，不能应聘")
    mp = MatchParams.from_params(params, china_date(at), post.district)
    towns = town_keys([seeker.district, post.district], [seeker.town, post.town])
    s_side = Side(
        np.asarray([skill_mask(seeker.skills)], dtype=np.uint64),
        np.asarray([seeker.district], dtype=np.int64),
        towns[:1],
        np.asarray([seeker.wage_expected_fen], dtype=np.float32),
        np.asarray([seeker.wage_expected_fen], dtype=np.float32),
    )
    p_side = Side(
        np.asarray([skill_mask(post.skills)], dtype=np.uint64),
        np.asarray([post.district], dtype=np.int64),
        towns[1:],
        np.asarray([post.wage_min_fen], dtype=np.float32),
        np.asarray([post.wage_max_fen], dtype=np.float32),
    )
    pair = score_pairs(s_side, p_side, np.zeros(1, np.int64), np.zeros(1, np.int64), mp)
    app = JobApplication(
        post_id=post.id,
        seeker_id=seeker.id,
        state="applied",
        score_milli=round(float(pair.total[0]) * 1000) if pair.eligible[0] else None,
        applied_at=at,
        applied_by=actor.login,
    )
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
    except IntegrityError:
        raise Conflict(f"已应聘岗位 {post.post_no}，不能重复应聘") from None
    _audit(
        session,
        audit_key,
        actor,
        "jobs.apply",
        f"job_applications:{app.id}",
        post.district,
        at,
        post_no=post.post_no,
        seeker_no=seeker.seeker_no,
    )
    _notify_business(
        session,
        post,
        "jobs.applied",
        {"post_no": post.post_no, "title": post.title, "message": "有新的应聘，请及时处理"},
    )
    return app


def _application(session: Session, application_id: int) -> tuple[JobApplication, JobPost, JobSeeker]:
    app = session.get(JobApplication, application_id)
    if app is None:
        raise NotFound(f"应聘记录 {application_id} 不存在")
    post, seeker = session.get(JobPost, app.post_id), session.get(JobSeeker, app.seeker_id)
    assert post is not None and seeker is not None
    return app, post, seeker


def hire(
    session: Session,
    *,
    actor: Actor,
    application_id: int,
    hire_date: dt.date | str | None,
    audit_key: bytes,
    contract_start: dt.date | str | None = None,
    contract_end: dt.date | str | None = None,
    now: dt.datetime | None = None,
) -> Employment:
    """Record a hire: the application becomes 已录用, the post counts it (已招满 when full), the seeker is
    hired, and the business's employment record for this person is created or updated."""
    at = fields.now_utc(now)
    app, post, seeker = _application(session, application_id)
    _owner_or_staff(session, actor, post, "录用")
    if app.state != "applied":
        raise InvalidTransition("只有“已应聘”的记录可以录用")
    if post.hired >= post.positions:
        raise InvalidTransition(f"岗位 {post.post_no} 已招满")
    day = fields.date(hire_date, "入职日期")
    assert day is not None
    today = china_date(at)
    if day > today + dt.timedelta(days=90) or day < today - dt.timedelta(days=365):
        raise ValidationFailed("入职日期：须在今天前 1 年至今后 90 天之内")
    c_start = fields.optional_date(contract_start, "合同起始日期")
    c_end = fields.optional_date(contract_end, "合同终止日期")
    if c_start is not None and c_end is not None and c_end <= c_start:
        raise ValidationFailed("合同终止日期：须晚于合同起始日期")
    if post.contract_kind == "fixed_term" and c_start is not None and c_end is None and post.contract_months:
        c_end = _add_months(c_start, post.contract_months)
    done = session.execute(
        update(JobPost)
        .where(JobPost.id == post.id, JobPost.hired < JobPost.positions)
        .values(hired=JobPost.hired + 1, version=JobPost.version + 1)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise Conflict(f"岗位 {post.post_no} 已招满")
    session.refresh(post)
    if post.hired >= post.positions:
        post.state = "filled"
    employment = session.execute(
        select(Employment).where(
            Employment.business_id == post.business_id,
            Employment.person_id == seeker.person_id,
            Employment.hire_date == day,
        )
    ).scalar_one_or_none()
    created = employment is None
    if employment is None:
        employment = Employment(
            employment_no=_no("JY", at),
            business_id=post.business_id,
            person_id=seeker.person_id,
            hire_date=day,
        )
        session.add(employment)
    employment.post = post.title
    employment.contract = c_start is not None or post.contract_kind in ("fixed_term", "open_ended", "task")
    employment.contract_start = c_start or (day if employment.contract else None)
    employment.contract_end = c_end
    employment.left_on = None
    session.flush()
    app.state, app.decided_at, app.decided_by = "hired", at, actor.login
    app.hire_date, app.employment_id = day, employment.id
    seeker.state = "hired"
    session.flush()
    business = session.get(Business, post.business_id)
    _audit(
        session,
        audit_key,
        actor,
        "jobs.hire",
        f"job_applications:{app.id}",
        post.district,
        at,
        post_no=post.post_no,
        seeker_no=seeker.seeker_no,
        employment_no=employment.employment_no,
        business_no=business.business_no if business else None,
        employment_created=created,
    )
    return employment


def decline(
    session: Session, *, actor: Actor, application_id: int, audit_key: bytes, now: dt.datetime | None = None
) -> JobApplication:
    at = fields.now_utc(now)
    app, post, _ = _application(session, application_id)
    _owner_or_staff(session, actor, post, "处理应聘")
    if app.state != "applied":
        raise InvalidTransition("只有“已应聘”的记录可以标记为未录用")
    app.state, app.decided_at, app.decided_by = "declined", at, actor.login
    session.flush()
    _audit(session, audit_key, actor, "jobs.decline", f"job_applications:{app.id}", post.district, at)
    return app


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# ---- on-job trainings (岗位培训) -------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingInput:
    provider_kind: str
    course: str
    course_level: str
    trainees: Any
    start_date: dt.date | str | None
    completion_date: dt.date | str | None
    skilled_post: bool | None = None
    provider_name: str | None = None  # associations
    founded_by_returning: bool | None = None  # providers without a registry business
    district: Any = None


def record_training(
    session: Session,
    *,
    actor: Actor,
    data: TrainingInput,
    audit_key: bytes,
    business_no: str | None = None,
    person_no: str | None = None,
    now: dt.datetime | None = None,
) -> OnjobTraining:
    """An on-job training course, by its provider (business/cooperative or artisan account) or a clerk."""
    at = fields.now_utc(now)
    kind = data.provider_kind
    if kind not in PROVIDER_KINDS:
        raise ValidationFailed(f"培训主体：须为 {'、'.join(PROVIDER_KINDS.values())} 之一")
    business: Business | None = None
    person: Person | None = None
    name: str | None = None
    founded = data.founded_by_returning
    if kind in ("business", "cooperative"):
        business = _business_for(session, actor, business_no)
        if kind == "cooperative" and business.kind != "farmer_cooperative":
            raise ValidationFailed(f"培训主体：经营主体 {business.business_no} 不是农民专业合作社")
        district = business.district
        founded = None
    elif kind == "artisan":
        if actor.role == "applicant":
            if actor.person_id is None:
                raise Forbidden("您的账号没有关联登记库人员，不能以手工艺传承人身份登记培训")
            person = session.get(Person, actor.person_id)
        elif actor.role == "window_clerk":
            no = (person_no or "").strip()
            person = session.execute(select(Person).where(Person.person_no == no)).scalar_one_or_none()
            if person is None:
                raise NotFound(f"手工艺传承人：登记库中没有人员 {no or '（空）'}")
        else:
            raise Forbidden("只有培训主体本人或街道/乡镇窗口可以登记岗位培训")
        district = (
            fields.district(data.district, "所在区县")
            if data.district not in (None, "")
            else (actor.district or 0)
        )
        if person is not None and not district:
            district = person.hukou_district or 0
        if not is_district(district):
            raise ValidationFailed("所在区县：请填写手工艺传承人所在的区县代码")
    else:  # association: no registry row, recorded at the window
        if actor.role != "window_clerk":
            raise Forbidden("专业技术协会的岗位培训请到街道/乡镇窗口登记")
        name = fields.text(data.provider_name, "协会名称", max_len=120)
        district = actor.district or 0
    if actor.role == "window_clerk" and district != actor.district:
        raise Forbidden("窗口只能登记本区县培训主体的培训")
    course = fields.text(data.course, "培训项目", max_len=80)
    if data.course_level not in COURSE_LEVELS:
        raise ValidationFailed(f"培训等级：须为 {'、'.join(COURSE_LEVELS.values())} 之一")
    trainees = fields.integer(data.trainees, "培训合格人数", 1, 1000)
    start = fields.date(data.start_date, "培训开始日期")
    end = fields.date(data.completion_date, "培训结业日期")
    assert start is not None and end is not None
    if end < start:
        raise ValidationFailed("培训结业日期：不能早于开始日期")
    if end > china_date(at):
        raise ValidationFailed("培训结业日期：不能晚于今天（结业后再登记）")
    if kind == "business" and data.skilled_post is None:
        raise ValidationFailed("技能岗位：企业职工培训须写明是否为技能岗位培训")
    training = OnjobTraining(
        training_no=_no("PX", at),
        provider_kind=kind,
        business_id=business.id if business else None,
        person_id=person.id if person else None,
        provider_name=name,
        founded_by_returning=founded,
        district=district,
        course=course,
        course_level=data.course_level,
        skilled_post=data.skilled_post,
        trainees=trainees,
        start_date=start,
        completion_date=end,
        recorded_by=actor.login,
    )
    session.add(training)
    session.flush()
    _audit(
        session,
        audit_key,
        actor,
        "jobs.training.record",
        f"onjob_trainings:{training.training_no}",
        district,
        at,
        provider_kind=kind,
        trainees=trainees,
        level=data.course_level,
    )
    return training


def training_applicant(session: Session, training: OnjobTraining) -> str:
    """The applicant id of an on-job training's subsidy application: the provider business's founder
    or the artisan (registry person numbers, as the workflow uses), else the training itself."""
    if training.person_id is not None:
        person = session.get(Person, training.person_id)
        if person is not None:
            return person.person_no
    if training.business_id is not None:
        founder = founder_of(session, training.business_id, on=china_date(fields.now_utc()))
        if founder is not None:
            return founder.person_no
    return f"org:{training.training_no}"


def apply_training_subsidy(
    session: Session,
    *,
    actor: Actor,
    applicant_actor: str | None,
    training_no: str,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Application:
    """Create the 岗位培训补贴 application (a draft of the one workflow) for a recorded training.

    ``applicant_actor``: the workflow's applicant id of an applicant account (its person number)."""
    training = session.execute(
        select(OnjobTraining).where(OnjobTraining.training_no == (training_no or "").strip())
    ).scalar_one_or_none()
    if training is None:
        raise NotFound(f"岗位培训 {training_no} 不存在")
    applicant = training_applicant(session, training)
    if actor.role == "applicant":
        mine = (training.business_id is not None and training.business_id == actor.business_id) or (
            training.person_id is not None and training.person_id == actor.person_id
        )
        if not mine or applicant_actor is None:
            raise Forbidden("只能为本单位（本人）登记的岗位培训申请补贴")
        kw: dict[str, Any] = {"actor": applicant_actor, "role": "applicant", "actor_district": None}
        applicant = applicant_actor
    elif actor.role == "window_clerk":
        kw = {"actor": actor.login, "role": "window_clerk", "actor_district": actor.district}
    else:
        raise Forbidden("只有培训主体或街道/乡镇窗口可以申请岗位培训补贴")
    return applications.create_application(
        session,
        kind="onjob_training_subsidy",
        subject_key=training.training_no,
        period=f"{training.completion_date:%Y-%m}",
        district=training.district,
        applicant_user=applicant,
        applicant_person_no=None if applicant.startswith("org:") else applicant,
        audit_key=audit_key,
        now=now,
        **kw,
    )


# ---- 乡情 talent (clause 4.12) in the matching for a post ----------------------------------------------


@dataclass(frozen=True)
class TalentMatch:
    """A 乡情 talent (田秀才, 土专家, 乡创客, 能工巧匠) of the post's district whose skills meet the post's:
    no personal data — staff contact them through the outreach register (``outreach_ref``) or the registry
    person (``person_no``) with their recorded consent."""

    rank: int
    kind_label: str
    town: str
    trade: str
    matched: tuple[str, ...]  # the post's skills (labels) the talent has
    reasons: tuple[str, ...]
    person_no: str | None
    outreach_ref: str | None
    away: bool


def _talent_skill_codes(skills: tuple[str, ...]) -> set[str]:
    """The catalogue codes a talent's free-text skills name: a code, or text that contains a catalogue
    label or is contained in one (「竹编」 → 竹编; 「柑橘种植技术」 → 种植技术; 「种植」 → 种植技术)."""
    out: set[str] = set()
    for skill in skills:
        text = skill.strip()
        if not text:
            continue
        if text in SKILLS:
            out.add(text)
            continue
        out.update(
            code for code, label in SKILLS.items() if label in text or (len(text) >= 2 and text in label)
        )
    return out


def talent_for_post(session: Session, *, actor: Actor, post_no: str) -> list[TalentMatch]:
    """The district's 乡情 talent (outreach.talent_pool: consented only) that has at least one of the
    post's required skills, most shared skills first, then those in the post's town, then the register
    order. The same skill catalogue as the seekers' matching; the talent records carry no wage or
    availability, so only skills and place are compared (and the reasons say so)."""
    from xiangchuang.outreach.service import talent_pool

    post = _post(session, post_no)
    if actor.role == "applicant":
        if actor.business_id != post.business_id:
            raise Forbidden("只能查看本单位岗位的推荐人选")
    elif not _may_read_district(actor, post.district):
        raise Forbidden("无权查看其他区县岗位的推荐人选")
    required = [c for c in post.skills.split(",") if c]
    scored = []
    for entry in talent_pool(session, post.district):
        have = _talent_skill_codes(entry.skills)
        shared = [c for c in required if c in have] if required else sorted(have)
        if not shared:
            continue
        same_town = bool(post.town) and entry.town == post.town
        reasons = [
            f"技能相符 {len(shared)}/{len(required) or len(shared)} 项（{'、'.join(SKILLS[c] for c in shared)}）",
            "地点：同一乡镇" if same_town else "地点：同一区县",
            "尚在外地务工（经外出人员联络联系）" if entry.away else "已在本地",
        ]
        scored.append((-len(shared), not same_town, entry.talent_id, entry, tuple(shared), tuple(reasons)))
    scored.sort(key=lambda t: (t[0], t[1], t[2]))
    return [
        TalentMatch(
            rank=r + 1,
            kind_label=e.kind_label,
            town=e.town,
            trade=e.trade,
            matched=tuple(SKILLS[c] for c in shared),
            reasons=reasons,
            person_no=e.person_no,
            outreach_ref=e.outreach_ref,
            away=e.away,
        )
        for r, (_, _, _, e, shared, reasons) in enumerate(scored)
    ]
