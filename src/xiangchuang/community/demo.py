"""Demo records of support after failure, places and trades, and typical entrepreneurs (synthetic only).

Runs through the same services as the pages: offers to founders of deregistered demo businesses with
consent, referrals, a follow-up and an outcome; a town and two villages with 一村一品 tags, a demonstration
designation, a 信息进村入户 and an 电子商务进农村 project reaching tagged businesses; two nominations, one of
them reviewed by a panel drawn with the mentor draw (three synthetic mentors of their own stratum when
the pool has none), scored, selected, consented by the (synthetic) person, published and commended."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA
from xiangchuang.community import places as P
from xiangchuang.community import service as S
from xiangchuang.community import typical as T
from xiangchuang.demo_seed import SeedContext
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import service as M
from xiangchuang.models import (
    Business,
    ClosureCase,
    Employment,
    Founder,
    Mentor,
    Nomination,
    Person,
    Place,
)
from xiangchuang.users.service import UserScope

CITY: Final = UserScope(level="city", user_id=0, login="demo.city", role="city_admin")
SUPERVISOR: Final = "demo.supervisor"
STRATUM: Final = ("agriculture", "district")


def _before(day: dt.date, on: dt.date) -> dt.date:
    return min(day, on)


def _closures(session: Session, ctx: SeedContext) -> int:
    rows = list(
        session.execute(
            select(Business)
            .where(
                or_(
                    and_(Business.deregistration_date.is_not(None), Business.deregistration_date <= ctx.on),
                    and_(Business.deregistration_date.is_(None), Business.status == "deregistered"),
                ),
                exists(select(Founder.id).where(Founder.business_id == Business.id)),
            )
            .order_by(Business.deregistration_date.desc(), Business.id)
            .limit(3)
        ).scalars()
    )
    key = ctx.audit_key
    for i, b in enumerate(rows):
        offered = _before(S.closed_on(b) + dt.timedelta(days=5), ctx.on)
        case = S.offer(session, scope=CITY, audit_key=key, business_no=b.business_no, today=offered)
        if i == 2:
            continue  # waiting for the founder's answer
        consent = _before(offered + dt.timedelta(days=3), ctx.on)
        S.record_consent(
            session, scope=CITY, audit_key=key, case_no=case.case_no,
            kinds=["employment_service", "social_relief"], consent_on=consent, today=ctx.on,
        )  # fmt: skip
        kind = "employment_service" if i == 0 else "social_relief"
        agency = "区公共就业服务中心" if i == 0 else "街道民政办"
        ref = S.refer(
            session, scope=CITY, audit_key=key, case_no=case.case_no, kind=kind, agency=agency,
            owner="演示经办人", referred_on=consent, today=ctx.on,
        )  # fmt: skip
        if i == 0:
            fu = _before(consent + dt.timedelta(days=14), ctx.on)
            S.follow_up(
                session, scope=CITY, audit_key=key, referral_no=ref.referral_no, on=fu,
                note="已推荐本地企业岗位3个，本人有意向", today=ctx.on,
            )  # fmt: skip
            S.record_outcome(
                session, scope=CITY, audit_key=key, referral_no=ref.referral_no, outcome="employed",
                on=_before(fu + dt.timedelta(days=10), ctx.on), today=ctx.on, note="在本区农产品加工企业就业",
            )  # fmt: skip
    return len(rows)


def _places(session: Session, ctx: SeedContext) -> int:
    key, d = ctx.audit_key, ctx.district
    P.add_place(
        session, scope=CITY, audit_key=key, place_code=f"{d}-T01", name="演示镇", kind="town", district=d
    )
    for n, name in ((1, "青山村"), (2, "柑香村")):
        P.add_place(
            session, scope=CITY, audit_key=key, place_code=f"{d}-V0{n}", name=name, kind="village",
            district=d, town_code=f"{d}-T01",
        )  # fmt: skip
        P.tag_place(
            session,
            scope=CITY,
            audit_key=key,
            place_code=f"{d}-V0{n}",
            tag_kind="village_product",
            tag="柑橘",
        )
    P.tag_place(
        session,
        scope=CITY,
        audit_key=key,
        place_code=f"{d}-T01",
        tag_kind="township_industry",
        tag="柑橘加工",
    )
    P.designate(
        session, scope=CITY, audit_key=key, place_code=f"{d}-V02", title="全国一村一品示范村镇", level="national",
        designated_on=dt.date(ctx.on.year - 1, 12, 1), today=ctx.on, reference="农办市〔演示〕1号", tag="柑橘",
    )  # fmt: skip
    open_biz = list(
        session.execute(
            select(Business.business_no)
            .where(Business.district == d, Business.deregistration_date.is_(None))
            .order_by(Business.id)
            .limit(4)
        ).scalars()
    )
    for no in open_biz:
        P.tag_business(
            session, scope=CITY, audit_key=key, business_no=no, tag_kind="village_product", tag="柑橘"
        )
    start = dt.date(ctx.on.year, 1, 1)
    for pno, kind, title in (
        (f"XX-{d}-01", "info_to_village", "益农信息社建设（演示）"),
        (f"DS-{d}-01", "ecommerce_to_rural", "电子商务进农村综合示范（演示）"),
    ):
        P.add_project(
            session, scope=CITY, audit_key=key, project_no=pno, kind=kind, title=title, district=d,
            start_on=start, place_code=f"{d}-V02", operator="区商务委（演示）",
        )  # fmt: skip
        for no in open_biz[:2]:
            P.reach(
                session, scope=CITY, audit_key=key, project_no=pno, business_no=no,
                reached_on=_before(start + dt.timedelta(days=60), ctx.on), today=ctx.on, service="开设网店、培训",
            )  # fmt: skip
    return len(open_biz)


def _review_mentors(session: Session, exclude: set[int]) -> list[Mentor]:
    """Three mentors of the demo stratum with logins; made from persons who found or work nowhere."""
    have = list(
        session.execute(
            select(Mentor).where(
                Mentor.specialty == STRATUM[0], Mentor.level == STRATUM[1], Mentor.user_id.is_not(None)
            )
        ).scalars()
    )
    if len(have) >= 3:
        return have
    candidates = session.execute(
        select(Person)
        .where(
            ~exists(select(Founder.id).where(Founder.person_id == Person.id)),
            ~exists(select(Employment.id).where(Employment.person_id == Person.id)),
            ~exists(select(Mentor.id).where(Mentor.person_id == Person.id)),
        )
        .order_by(Person.id)
        .limit(3 - len(have) + len(exclude))
    ).scalars()
    made: list[Mentor] = []
    for p in candidates:
        if p.id in exclude or len(have) + len(made) >= 3:
            continue
        m = Mentor(
            mentor_no=f"DEMO-CM{len(made) + 1}",
            person_id=p.id,
            level=STRATUM[1],
            specialty=STRATUM[0],
            district=p.hukou_district or 500101,
            available=True,
            status="active",
            user_id=f"demo.cmentor{len(made) + 1}",
        )
        session.add(m)
        made.append(m)
    session.flush()
    return have + made


def _typical(session: Session, ctx: SeedContext) -> str:
    key = ctx.audit_key
    founders = session.execute(
        select(Person.person_no, Business.business_no, Person.id)
        .join(Founder, Founder.person_id == Person.id)
        .join(Business, Business.id == Founder.business_id)
        .where(Business.district == ctx.district, Business.deregistration_date.is_(None))
        .order_by(Business.staff_count.desc().nulls_last(), Business.id)
        .limit(2)
    ).all()
    if len(founders) < 2:
        return "推荐 0 人（演示区县没有足够的正常经营主体）"
    nominated_on = _before(dt.date(ctx.on.year, 9, 1), ctx.on)
    noms = []
    for (person_no, business_no, _), cat, headline, story in zip(
        founders,
        ("returning_entrepreneur", "rural_business_leader"),
        ("返乡创办柑橘合作社，带动乡亲增收", "网店卖出大山里的土特产"),
        (
            "在外务工十年后返乡，流转土地发展柑橘种植，成立合作社统一品牌和销售，带动周边农户就业增收。",
            "组织村民开设网店，对接电商平台和快递网点，让本村土特产卖到全国。",
        ),
        strict=True,
    ):
        noms.append(
            T.nominate(
                session,
                scope=CITY,
                audit_key=key,
                person_no=person_no,
                business_no=business_no,
                category=cat,
                year=nominated_on.year,
                headline=headline,
                story=story,
                today=nominated_on,
            )
        )
    event_day = _before(nominated_on + dt.timedelta(days=30), ctx.on)
    outcome = review_and_publish(
        session, ctx, noms[0], event_day=event_day, publish_name="刘某某", exclude={f[2] for f in founders}
    )
    return f"推荐 2 人，其中 1 人{outcome}"


def review_and_publish(
    session: Session,
    ctx: SeedContext,
    n: Nomination,
    *,
    event_day: dt.date,
    publish_name: str,
    exclude: set[int],
) -> str:
    """Review one nomination by a panel drawn with the mentor draw (commitments, reveals, draw, scores,
    finalisation), then — selected — the person's consent, publication and a city commendation."""
    key = ctx.audit_key
    mentors = _review_mentors(session, exclude)
    if len(mentors) < 3:
        return "未送评（导师库人数不足）"
    event_no = f"DXPS-{n.nomination_no}"
    unseal = dt.datetime.combine(event_day, dt.time(8, 0), CHINA)
    mkeys = M.Keys(ctx.cipher, key)
    T.open_review(
        session, scope=CITY, audit_key=key, keys=mkeys, event_no=event_no,
        title=f"{event_day.year}年度创业典型评审（演示）", nomination_nos=[n.nomination_no],
        event_date=event_day, unseal_at=unseal, quotas=[(STRATUM[0], STRATUM[1], 3)], backups=0,
        organiser_user=CITY.login, supervisor_user=SUPERVISOR,
    )  # fmt: skip
    secrets = {CITY.login: D.make_secret(), SUPERVISOR: D.make_secret()}
    for actor, party in ((CITY.login, "organiser"), (SUPERVISOR, "supervisor")):
        M.commit(
            session, keys=mkeys, actor=actor, role=party, event_no=event_no,
            commitment=D.commitment(event_no, party, secrets[actor]),
        )  # fmt: skip
    for actor, party in ((CITY.login, "organiser"), (SUPERVISOR, "supervisor")):
        M.reveal(session, keys=mkeys, actor=actor, role=party, event_no=event_no, secret=secrets[actor])
    d = M.run_draw(session, keys=mkeys, actor=CITY.login, role="organiser", event_no=event_no)
    if d.status == "failed":
        return f"评审组抽取未成功（{d.failure}）"
    view = M.draw_view(session, keys=mkeys, actor=CITY.login, role="city_admin", event_no=event_no)
    seated = [
        session.execute(select(Mentor).where(Mentor.mentor_no == s.mentor_no)).scalar_one()
        for s in view.slots
    ]
    if any(m.user_id is None for m in seated):
        return "评审组已抽取，待专家评分"
    for m, score in zip(seated, (92, 88, 90), strict=False):
        assert m.user_id is not None
        M.submit_score(
            session, keys=mkeys, actor=m.user_id, event_no=event_no, project_no=n.nomination_no, score=score
        )
    M.finalize_scores(session, keys=mkeys, actor=CITY.login, role="city_admin", event_no=event_no)
    T.collect_results(session, scope=CITY, audit_key=key, event_no=event_no)
    if n.state == "selected":
        person = UserScope(level="own", user_id=0, login="person", role="applicant", person_id=n.person_id)
        T.give_consent(
            session, scope=person, audit_key=key, cipher=ctx.cipher, nomination_no=n.nomination_no,
            publish_name=publish_name, today=event_day,
        )  # fmt: skip
        T.publish(session, scope=CITY, audit_key=key, nomination_no=n.nomination_no, today=event_day)
        T.commend(
            session, scope=CITY, audit_key=key, nomination_no=n.nomination_no, title="重庆市返乡创业之星（演示）",
            level="city", awarded_on=event_day, today=ctx.on, reference="渝人社〔演示〕1号",
        )  # fmt: skip
    return f"经随机抽取的评审组评审，{T.STATE_LABELS[n.state]}"


def seed(session: Session, ctx: SeedContext) -> str:
    if (
        session.execute(select(func.count()).select_from(ClosureCase)).scalar_one()
        or session.execute(select(Place.id).limit(1)).first()
        or session.execute(select(Nomination.id).limit(1)).first()
    ):
        return "创业失败帮扶、一村一品、创业典型：已有演示记录，跳过"
    closures = _closures(session, ctx)
    tagged = _places(session, ctx)
    typical = _typical(session, ctx)
    return (
        f"创业失败帮扶 {closures} 户；一村一品标注主体 {tagged} 户、村镇 3 个、项目 2 个；创业典型：{typical}"
    )
