"""Demo records of the job board (``xiangchuang demo``): synthetic labour needs of the demo district's
businesses (most published, a few waiting for verification), job seekers from the registry's synthetic
persons, a few applications and one hire, and two on-job trainings. Idempotent: nothing happens when
posts exist. Goes through the service functions, so every record is validated and audited."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA
from xiangchuang.demo_seed import SeedContext
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.jobs import service
from xiangchuang.jobs.catalogue import CONTRACT_KINDS, SKILLS_BY_TRADE, TRADES
from xiangchuang.models import Business, Founder, JobPost, Person, PersonGroup
from xiangchuang.registry.pii import Pii

CATEGORY_GROUPS = (
    ("unemployed", "registered_unemployed"),
    ("graduate", "college_graduate"),
    ("returning_worker", "returning_migrant_worker"),
)
TOWNS = ("城关镇", "龙驹镇", "白羊镇", "长岭镇", "高梁镇")
TITLES = {
    "agriculture": "种植养殖技术员",
    "food_processing": "农产品加工工",
    "manufacturing": "生产线操作工",
    "construction": "建筑施工员",
    "ecommerce": "电商运营专员",
    "logistics": "配送司机",
    "tourism": "民宿服务员",
    "crafts": "手工艺制作工",
    "care": "养老护理员",
    "repair": "维修技师",
    "management": "会计/文员",
}


def seed(session: Session, ctx: SeedContext) -> str:
    if session.execute(select(JobPost.id).limit(1)).first() is not None:
        return "用工需求演示数据已存在，跳过"
    rng = np.random.default_rng(411)
    now = dt.datetime.combine(ctx.on, dt.time(10, 0), tzinfo=CHINA)
    clerk = service.Actor("demo-seed", "window_clerk", ctx.district)
    reviewer = service.Actor("demo-seed", "district_reviewer", ctx.district)
    businesses = list(
        session.execute(
            select(Business)
            .join(Founder, Founder.business_id == Business.id)
            .where(Business.district == ctx.district, Business.status == "normal")
            .order_by(Business.id)
            .distinct()
            .limit(12)
        ).scalars()
    )
    trades = list(TRADES)
    posts = []
    for i, business in enumerate(businesses):
        trade = trades[i % len(trades)]
        skills = list(
            rng.choice(SKILLS_BY_TRADE[trade], size=min(2, len(SKILLS_BY_TRADE[trade])), replace=False)
        )
        lo = int(rng.integers(30, 60)) * 100
        post = service.report_post(
            session,
            actor=clerk,
            business_no=business.business_no,
            data=service.PostInput(
                title=TITLES[trade],
                trade=trade,
                skills=skills,
                positions=int(rng.integers(1, 6)),
                wage_min_yuan=lo,
                wage_max_yuan=lo + int(rng.integers(5, 25)) * 100,
                town=TOWNS[i % len(TOWNS)],
                start_date=ctx.on + dt.timedelta(days=int(rng.integers(7, 60))),
                contract_kind="fixed_term" if i % 3 else list(CONTRACT_KINDS)[i % len(CONTRACT_KINDS)],
                contract_months=12
                if i % 3
                else (6 if list(CONTRACT_KINDS)[i % len(CONTRACT_KINDS)] == "fixed_term" else None),
                terms="缴纳社会保险，提供工作餐",
            ),
            audit_key=ctx.audit_key,
            now=now,
        )
        if i % 4 != 3:
            service.verify_post(
                session,
                actor=reviewer,
                post_no=post.post_no,
                decision="publish",
                audit_key=ctx.audit_key,
                now=now,
            )
        posts.append(post)
    founders = select(Founder.person_id)
    persons = list(
        session.execute(
            select(Person).where(Person.id.not_in(founders)).order_by(Person.id).limit(20)
        ).scalars()
    )
    pii = Pii(ctx.cipher)
    seekers = []
    groups: dict[int, set[str]] = {}
    for pid, code in session.execute(
        select(PersonGroup.person_id, PersonGroup.group_code).where(
            PersonGroup.person_id.in_([p.id for p in persons])
        )
    ):
        groups.setdefault(int(pid), set()).add(str(code))
    for i, person in enumerate(persons):
        mine = groups.get(person.id, set())
        category = next(
            (c for c, g in CATEGORY_GROUPS if g in mine or (c == "graduate" and person.graduation_date)),
            "other",
        )
        trade = trades[(i * 5) % len(trades)]
        codes = SKILLS_BY_TRADE[trade]
        skills = list(rng.choice(codes, size=min(len(codes), int(rng.integers(1, 4))), replace=False))
        seekers.append(
            service.register_seeker(
                session,
                actor=clerk,
                person_no=person.person_no,
                data=service.SeekerInput(
                    category=category,
                    district=ctx.district,
                    town=TOWNS[i % len(TOWNS)],
                    skills=skills,
                    trades=[trade],
                    wage_expected_yuan=int(rng.integers(30, 70)) * 100,
                ),
                pii=pii,
                audit_key=ctx.audit_key,
                now=now,
            )
        )
    params = load_parameters()
    applied = 0
    hired = 0
    for seeker in seekers[:8]:
        found = service.matches_for_seeker(
            session, actor=clerk, seeker_no=seeker.seeker_no, params=params, on=ctx.on
        )
        if not found or found[0].post is None:
            continue
        app = service.apply(
            session,
            actor=clerk,
            seeker_no=seeker.seeker_no,
            post_no=found[0].post.post_no,
            params=params,
            audit_key=ctx.audit_key,
            now=now,
        )
        applied += 1
        if hired == 0:
            service.hire(
                session,
                actor=clerk,
                application_id=app.id,
                hire_date=ctx.on,
                contract_start=ctx.on,
                audit_key=ctx.audit_key,
                now=now,
            )
            hired += 1
    trainings = 0
    if businesses:
        service.record_training(
            session,
            actor=clerk,
            business_no=businesses[0].business_no,
            data=service.TrainingInput(
                provider_kind="business",
                course="电商直播技能培训",
                course_level="intermediate",
                trainees=12,
                skilled_post=True,
                start_date=ctx.on - dt.timedelta(days=40),
                completion_date=ctx.on - dt.timedelta(days=10),
            ),
            audit_key=ctx.audit_key,
            now=now,
        )
        trainings += 1
    service.record_training(
        session,
        actor=clerk,
        data=service.TrainingInput(
            provider_kind="association",
            provider_name="演示区竹编专业技术协会",
            founded_by_returning=True,
            course="竹编初级培训",
            course_level="junior",
            trainees=8,
            start_date=ctx.on - dt.timedelta(days=30),
            completion_date=ctx.on - dt.timedelta(days=3),
        ),
        audit_key=ctx.audit_key,
        now=now,
    )
    trainings += 1
    return (
        f"用工需求 {len(posts)} 条（已发布 {sum(1 for p in posts if p.state == 'published')}），"
        f"求职登记 {len(seekers)} 人，应聘 {applied} 次，录用 {hired} 人，岗位培训 {trainings} 期"
    )
