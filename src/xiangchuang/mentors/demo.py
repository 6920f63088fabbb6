"""Demo records of the mentor pool (``xiangchuang demo``): a small synthetic pool in the demo district,
one finished review (draw after unseal, scores, ranks, awards, a 渝创渝新 selection with progress) and one
upcoming review whose draw is done and still sealed, in which the demo mentor account (``demo.mentor``)
holds a seat; two service records of the demo mentor (one confirmed by the organiser).

The draws run through the service exactly as for real events (commitments, reveals, seed, audit); the
organiser is ``demo.city`` and the supervisor ``demo.reviewer`` (the demo accounts of those roles)."""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA, china_date
from xiangchuang.demo_seed import SeedContext
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import service as S
from xiangchuang.models import Business, Founder, Mentor, MentorEvent, Person
from xiangchuang.users.demo_accounts import PREFIX

ORGANISER: Final = f"{PREFIX}city"
SUPERVISOR: Final = f"{PREFIX}reviewer"
DEMO_MENTOR_LOGIN: Final = f"{PREFIX}mentor"
# (specialty, level, how many); the first mentor is the demo account's
POOL: Final = (("agriculture", "city", 3), ("ecommerce", "district", 4), ("marketing", "city", 5))


def _draw(s: Session, keys: S.Keys, event_no: str, at: dt.datetime) -> None:
    secrets = {ORGANISER: D.make_secret(), SUPERVISOR: D.make_secret()}
    for user, party in ((ORGANISER, "organiser"), (SUPERVISOR, "supervisor")):
        S.commit(
            s,
            keys=keys,
            actor=user,
            role=party,
            event_no=event_no,
            commitment=D.commitment(event_no, party, secrets[user]),
            now=at,
        )
    for user, secret in secrets.items():
        S.reveal(s, keys=keys, actor=user, role="organiser", event_no=event_no, secret=secret, now=at)
    S.run_draw(s, keys=keys, actor=ORGANISER, role="organiser", event_no=event_no, now=at)


def seed(session: Session, ctx: SeedContext) -> str:
    if session.execute(select(Mentor.id).where(Mentor.mentor_no == "DEMO-M01")).first() is not None:
        return "创业导师库：演示导师和评审活动已存在，未重复创建"
    keys = S.Keys(ctx.cipher, ctx.audit_key)
    projects = session.execute(
        select(Business.business_no, Person.person_no)
        .join(Founder, Founder.business_id == Business.id)
        .join(Person, Person.id == Founder.person_id)
        .where(Business.district == ctx.district)
        .order_by(Business.id)
        .limit(4)
    ).all()
    if len(projects) < 4:
        return "创业导师库：演示区县的经营主体不足 4 户，未创建演示评审活动"
    founders = {p for _, p in projects}
    need = sum(n for *_, n in POOL)
    people = [
        pid
        for pid, no in session.execute(
            select(Person.id, Person.person_no).order_by(Person.id.desc()).limit(need + 10)
        ).all()
        if no not in founders
    ][:need]
    if len(people) < need:
        return "创业导师库：登记库人员不足，未创建演示导师"
    k = 0
    for specialty, level, n in POOL:
        for _ in range(n):
            k += 1
            session.add(
                Mentor(
                    mentor_no=f"DEMO-M{k:02d}",
                    person_id=people[k - 1],
                    level=level,
                    specialty=specialty,
                    employer_name=f"演示导师单位{k}",
                    district=ctx.district,
                    available=True,
                    status="active",
                    user_id=DEMO_MENTOR_LOGIN if k == 1 else f"demo-mentor-{k:02d}",
                )
            )
    session.flush()
    now = dt.datetime.now(dt.UTC)
    today = china_date(now)
    ps = [
        S.ProjectIn(f"XM{i + 1}", f"演示参评项目{i + 1}", p, b, i % 2 == 0)
        for i, (b, p) in enumerate(projects)
    ]

    # A finished review 60 days ago: draw, scores by every seat, ranks, awards, acceleration.
    past_day = today - dt.timedelta(days=60)
    past_draw = dt.datetime.combine(S.working_days_before(past_day, 1), dt.time(9, 0), CHINA)
    S.create_event(
        session,
        keys=keys,
        actor=ORGANISER,
        role="city_admin",
        event_no="DEMO-HD1",
        title="演示：返乡创业大赛复赛",
        kind="competition_round",
        event_date=past_day,
        unseal_at=dt.datetime.combine(past_day, dt.time(8, 30), CHINA),
        quotas=[("marketing", "city", 3), ("ecommerce", "district", 2)],
        backups=1,
        projects=ps[:2],
        organiser_user=ORGANISER,
        supervisor_user=SUPERVISOR,
        district=ctx.district,
    )
    _draw(session, keys, "DEMO-HD1", past_draw)
    seated = S._seated_users(session, keys, "DEMO-HD1")
    scored_at = dt.datetime.combine(past_day, dt.time(15, 0), CHINA)
    for i, user in enumerate(seated):
        for j, p in enumerate(ps[:2]):
            S.submit_score(
                session,
                keys=keys,
                actor=user,
                event_no="DEMO-HD1",
                project_no=p.project_no,
                score=88 - 6 * j + i,
                now=scored_at,
            )
    ranked = S.finalize_scores(
        session,
        keys=keys,
        actor=ORGANISER,
        role="city_admin",
        event_no="DEMO-HD1",
        awards=[("一等奖", 1), ("二等奖", 1)],
        now=scored_at,
    )
    winner = next(r for r in ranked if r.project_no == ps[0].project_no)  # XM1 is a returning project
    sel = S.select_for_acceleration(
        session,
        keys=keys,
        actor=ORGANISER,
        role="city_admin",
        year=past_day.year,
        event_no="DEMO-HD1",
        project_no=winner.project_no,
        note="获奖返乡创业项目",
        now=scored_at,
    )
    for kind, progress, text in (("brand", 40, "区域公用品牌授权"), ("financing", 60, "对接创业担保贷款")):
        S.record_support(
            session,
            keys=keys,
            actor=ORGANISER,
            role="city_admin",
            selection_id=sel.id,
            kind=kind,
            on=past_day + dt.timedelta(days=20),
            description=text,
            progress=progress,
        )

    # An upcoming review tomorrow: drawn now, sealed until the morning of the review; the demo mentor
    # (one of the three agriculture/city mentors, all seated) sees their seat.
    day = today + dt.timedelta(days=1)
    S.create_event(
        session,
        keys=keys,
        actor=ORGANISER,
        role="city_admin",
        event_no="DEMO-HD2",
        title="演示：返乡创业项目评审",
        kind="project_review",
        event_date=day,
        unseal_at=dt.datetime.combine(day, dt.time(8, 30), CHINA),
        quotas=[("agriculture", "city", 3), ("ecommerce", "district", 1)],
        backups=0,
        projects=ps[2:],
        organiser_user=ORGANISER,
        supervisor_user=SUPERVISOR,
    )
    _draw(session, keys, "DEMO-HD2", now)

    for no, activity, units, confirm in (("DEMO-FW1", "lecture", 2, True), ("DEMO-FW2", "pairing", 1, False)):
        S.record_service(
            session,
            keys=keys,
            actor=ORGANISER,
            role="city_admin",
            service_no=no,
            mentor_no="DEMO-M01",
            activity=activity,
            units=units,
            district=ctx.district,
            occurred_on=today - dt.timedelta(days=10),
            organiser="演示区县就业服务中心",
        )
        if confirm:
            S.confirm_service(
                session, keys=keys, actor=ORGANISER, role="city_admin", service_no=no, rating="good"
            )
    events = session.execute(select(MentorEvent.event_no)).scalars().all()
    return f"创业导师库：{k} 名演示导师，{len(events)} 场评审活动（1 场已完成评分与加速遴选，1 场已抽取待揭封），2 条服务记录"
