"""A small training world: a district reviewer, a provider (accredited for SYB/IYB/网络创业), courses and
persons with the facts the engine reads (returning entrepreneur, intention, businesses)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from sqlalchemy import Engine

from tests.registry.factories import Registry
from xiangchuang.crypto import FieldCipher
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.registry.pii import Pii
from xiangchuang.training import service as svc
from xiangchuang.training.service import Actor

D = 500101
KEY = bytes(range(32))
PARAMS = load_parameters()
NOW = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)  # 2025-03-03 in Chongqing
REVIEWER = Actor("u-reviewer", "district_reviewer", D)
CLERK = Actor("u-clerk", "window_clerk", D)


@dataclass
class World:
    provider_id: int
    syb_course: int
    iyb_course: int
    skills_course: int
    preparing: int  # returning entrepreneur with an intention, no business: SYB yes, IYB no
    licensed: int  # licence 2024-03-03: SYB and IYB both on 2025-03-03 (exact anniversary)
    old_licence: int  # licence 2020-01-10: IYB only
    not_returning: int  # not a returning entrepreneur: SYB refused
    provider_actor: Actor


def build(engine: Engine, pii: Pii, key: bytes = KEY) -> World:
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(100)  # clear of other fixtures' synthetic ID numbers
        preparing = reg.person(no="P-PREP", returning_entrepreneur=True, startup_intention=True)
        licensed = reg.person(no="P-LIC", returning_entrepreneur=True, startup_intention=True)
        reg.business(no="B-LIC", founder=licensed, registration_date=dt.date(2024, 3, 3))
        old = reg.person(no="P-OLD", returning_entrepreneur=True, startup_intention=True)
        reg.business(no="B-OLD", founder=old, registration_date=dt.date(2020, 1, 10))
        local = reg.person(no="P-LOCAL", returning_entrepreneur=False, startup_intention=True)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        p = svc.create_provider(
            s, org_code="TP01", name="测试职业培训学校", kind="training_institution", district=D,
            who=REVIEWER, audit_key=key, now=NOW,
        )  # fmt: skip
        svc.accredit(
            s, provider_id=p.id, accreditation_no="渝人社认〔2025〕1号", course_kinds="syb,iyb,online,skills",
            valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2027, 12, 31), who=REVIEWER, audit_key=key, now=NOW,
        )  # fmt: skip
        courses = {}
        for code, kind, title in (
            ("C-SYB", "syb", "创办你的企业"),
            ("C-IYB", "iyb", "改善你的企业"),
            ("C-SK", "skills", "电商直播技能"),
        ):
            courses[kind] = svc.create_course(
                s, course_code=code, kind=kind, title=title, hours=56, content="创业意识、市场评估、企业计划",
                who=REVIEWER, audit_key=key, now=NOW,
            ).id  # fmt: skip
        pid = p.id
    return World(
        pid, courses["syb"], courses["iyb"], courses["skills"], preparing, licensed, old, local,
        Actor("u-provider", "training_provider", None, provider_id=pid),
    )  # fmt: skip


def new_class(
    engine: Engine,
    cipher: FieldCipher,
    w: World,
    course: int,
    *,
    capacity: int = 30,
    start: dt.date = dt.date(2025, 3, 3),
    end: dt.date = dt.date(2025, 3, 7),
    sessions: int = 5,
) -> int:
    with transaction(make_sessionmaker(engine)) as s:
        return svc.create_class(
            s, provider_id=w.provider_id, course_id=course, mode="night_school", district=D, place="万州区某镇农民夜校",
            start_date=start, end_date=end, capacity=capacity, sessions=sessions, who=w.provider_actor,
            audit_key=KEY, cipher=cipher, teachers=[svc.TeacherIn(name="王老师", subject="市场评估")], now=NOW,
        ).id  # fmt: skip
