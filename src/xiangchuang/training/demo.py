"""Demo training records (synthetic): the demo provider (org_code DEMOTP01, the demo training-provider
account's organisation) accredited in the demo district, the course catalogue, a finished SYB class with
attendance, completions and certificates, an open IYB class and an open 农民夜校 skills class, enrolments
of registry persons of the district (each through the engine's eligibility: refused persons are skipped),
and a 项目制 purchase. Idempotent: nothing is made when the provider exists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import china_date
from xiangchuang.demo_seed import SeedContext
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import DomainError
from xiangchuang.models import Business, Founder, Person
from xiangchuang.training import repository as repo
from xiangchuang.training import service as svc
from xiangchuang.users.demo_accounts import DEMO_ORG_CODES

COURSES = (
    (
        "DEMO-SYB",
        "syb",
        "创办你的企业（SYB）",
        56,
        "创业意识、创业计划书、市场评估、企业人员组织、财务与风险",
    ),
    ("DEMO-IYB", "iyb", "改善你的企业（IYB）", 40, "营销、采购、成本核算、库存管理、记账与经营计划"),
    ("DEMO-ONLINE", "online", "网络创业培训", 60, "网店开设、直播带货、网络营销与物流"),
    ("DEMO-SKILL", "skills", "乡村电商直播技能", 24, "短视频拍摄、直播话术、农产品上行"),
    ("DEMO-PKG", "package", "柑橘种植创业培训包", 32, "特色种植技术与产销对接（培训包）"),
)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(2, 0), tzinfo=dt.UTC)


def seed(session: Session, ctx: SeedContext) -> str:
    code = DEMO_ORG_CODES["training_provider"]
    if repo.provider_by_org(session, code) is not None:
        return f"演示培训机构 {code} 已存在，未重复创建"
    params = load_parameters()
    staff = svc.Actor("demo.seed", "district_reviewer", ctx.district)
    on, key, cipher = ctx.on, ctx.audit_key, ctx.cipher
    start = _at(on - dt.timedelta(days=60))
    provider = svc.create_provider(
        session, org_code=code, name="重庆市演示职业培训学校", kind="training_institution", district=ctx.district,
        who=staff, audit_key=key, now=start,
    )  # fmt: skip
    svc.accredit(
        session, provider_id=provider.id, accreditation_no=f"演示认〔{on.year}〕1号",
        course_kinds=("syb", "iyb", "online", "skills", "package"), valid_from=on - dt.timedelta(days=365),
        valid_until=on + dt.timedelta(days=730), who=staff, audit_key=key, now=start,
    )  # fmt: skip
    course_ids = {}
    for course_code, kind, title, hours, content in COURSES:
        course_ids[kind] = svc.create_course(
            session, course_code=course_code, kind=kind, title=title, hours=hours, content=content, who=staff,
            audit_key=key, now=start,
        ).id  # fmt: skip
    me = svc.Actor("demo.provider", "training_provider", None, provider_id=provider.id)
    purchase = svc.create_purchase(
        session, contract_no=f"演示购〔{on.year}〕1号", provider_id=provider.id, course_kind="skills", trainees=30,
        price_fen=80_000, signed_on=on - dt.timedelta(days=60), deliver_by=on + dt.timedelta(days=180), who=staff,
        audit_key=key, now=start,
    )  # fmt: skip

    def open_class(
        kind: str, mode: str, first: dt.date, days: int, cap: int, place: str, **kw: object
    ) -> int:
        return svc.create_class(
            session, provider_id=provider.id, course_id=course_ids[kind], mode=mode, district=ctx.district,
            place=place, start_date=first, end_date=first + dt.timedelta(days=days - 1), capacity=cap, sessions=days,
            who=me, audit_key=key, cipher=cipher, teachers=[svc.TeacherIn(name="李明华", subject="创业实务")],
            now=start, **kw,  # type: ignore[arg-type]
        ).id  # fmt: skip

    done = open_class("syb", "on_site", on - dt.timedelta(days=30), 5, 30, "区人力资源市场三楼培训室")
    # the open classes start after the later of the demo date and today, so the demo's users can enrol
    ahead = max(on, china_date(dt.datetime.now(dt.UTC)))
    iyb = open_class("iyb", "remote", ahead + dt.timedelta(days=14), 4, 25, "远程直播课堂")
    night = open_class(
        "skills", "night_school", ahead + dt.timedelta(days=7), 6, 3, "某镇农民夜校", purchase_id=purchase.id
    )
    people = session.execute(
        select(Person.id)
        .join(Founder, Founder.person_id == Person.id, isouter=True)
        .join(Business, Business.id == Founder.business_id, isouter=True)
        .where(Person.returning_entrepreneur.is_(True))
        .where((Business.district == ctx.district) | (Person.hukou_district == ctx.district))
        .order_by(Person.id)
        .distinct()
        .limit(40)
    ).scalars()
    made = {done: 0, iyb: 0, night: 0}
    for pid in people:
        for cid, cap in ((done, 12), (iyb, 8), (night, 5)):
            if made[cid] >= cap:
                continue
            try:
                with session.begin_nested():
                    svc.enrol(session, class_id=cid, person_id=int(pid), who=staff, audit_key=key, params=params,
                              now=start)  # fmt: skip
                made[cid] += 1
            except DomainError:
                continue
    trainees = [e.training_no for e, _ in repo.roster(session, done) if e.state == "enrolled"]
    klass = repo.klass(session, done)
    for k in range(1, klass.sessions + 1):
        present = {no: (i + k) % 7 != 0 for i, no in enumerate(trainees)}
        svc.record_attendance(
            session, class_id=done, session_no=k, session_date=klass.start_date + dt.timedelta(days=k - 1),
            present=present, who=me, audit_key=key, now=_at(on),
        )  # fmt: skip
    finished = svc.complete_class(session, class_id=done, who=me, audit_key=key, params=params, now=_at(on))
    return (
        f"培训机构 {code}、课程 {len(COURSES)} 门、培训班 3 个（结业 {len(finished.completed)} 人、"
        f"报名 {made[iyb]} 人、夜校 {made[night]} 人含候补）、项目制合同 1 份"
    )
