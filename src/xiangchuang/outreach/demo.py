"""Demo records for outreach (``xiangchuang demo``): a synthetic register of people working elsewhere in the
demo district (made-up names, 199-numbers), a Spring Festival campaign with contacts, returnees linked to
registry founders and their businesses, 乡情 talent, and an introduced talent with a family request. All
through the service functions (so encrypted, validated and audited like real records). Idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.demo_seed import SeedContext
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import Business, Employment, Founder, OutreachPerson, Person
from xiangchuang.outreach import service as S

MARK = "演示"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("建国", "秀英", "志强", "海燕", "小龙", "春梅", "德明", "丽娟", "国庆", "晓东", "红霞", "永福")
PLACES = ("广东省深圳市", "广东省东莞市", "浙江省宁波市", "江苏省苏州市", "上海市", "福建省厦门市")
TRADES = (
    ("电子制造", "贴片、焊接"),
    ("建筑施工", "木工、钢筋"),
    ("餐饮", "川菜厨师、面点"),
    ("物流", "叉车、仓储管理"),
    ("服装", "缝纫、制版"),
    ("机械加工", "数控车床、钳工"),
)
TOWNS = ("龙兴镇", "双溪镇", "茨竹镇")
SCOPES = (("phone", "wechat"), ("phone",), ("phone", "sms", "visit"), ("wechat",))


def seed(session: Session, ctx: SeedContext) -> str:
    exists = session.execute(
        select(OutreachPerson.id).where(
            OutreachPerson.district == ctx.district, OutreachPerson.created_by == "demo.clerk"
        )
    ).first()
    if exists:
        return "外出人员联络：演示记录已存在，未重复创建"
    today = ctx.on
    clerk = S.Actor("demo.clerk", "window_clerk", ctx.district)
    reviewer = S.Actor("demo.reviewer", "district_reviewer", ctx.district)
    key = ctx.audit_key
    people = []
    for k in range(12):
        name = SURNAMES[k % len(SURNAMES)] + GIVEN[k % len(GIVEN)]
        trade, skills = TRADES[k % len(TRADES)]
        row = S.register_person(
            session,
            actor=clerk,
            cipher=ctx.cipher,
            data=S.PersonInput(
                name=name,
                phone=f"1990000{k:04d}",
                home_town=TOWNS[k % len(TOWNS)],
                work_place=PLACES[k % len(PLACES)],
                trade=trade,
                skills=skills,
                consent_on=today - dt.timedelta(days=40 + 20 * k),
                consent_scope=SCOPES[k % len(SCOPES)],
            ),
            audit_key=key,
            today=today,
        )
        people.append(row)
    start = today - dt.timedelta(days=30)
    campaign = S.create_campaign(
        session,
        actor=reviewer,
        name=f"{start.year}年春节返乡人员座谈走访（{MARK}）",
        occasion="spring_festival",
        starts_on=start,
        ends_on=today,
        description="春节前后走访返乡过年人员，介绍返乡创业扶持政策，了解返乡意向。",
        audit_key=key,
    )
    answers = ("interested", "will_return", "not_now", "no_answer", "will_return", "interested")
    contacts = 0
    for k, row in enumerate(people[:9]):
        method = row.consent_scope.split(",")[0]
        S.log_contact(
            session,
            actor=clerk,
            person_id=row.id,
            contacted_on=today - dt.timedelta(days=k + 1),
            method=method,
            answer=answers[k % len(answers)],
            note="介绍创业担保贷款和一次性创业补助",
            campaign_id=campaign.id,
            audit_key=key,
            today=today,
        )
        contacts += 1
    founders = session.execute(
        select(Person.person_no, Business.business_no)
        .join(Founder, Founder.person_id == Person.id)
        .join(Business, Business.id == Founder.business_id)
        .where(Business.district == ctx.district, Business.founded_by_returning.is_(True))
        .order_by(Business.id)
        .limit(2)
    ).all()
    returned = 0
    ventures = 0
    for row, (person_no, business_no) in zip(people[:2], founders, strict=False):
        taken = select(OutreachPerson.id).join(Person, Person.id == OutreachPerson.person_id)
        if session.execute(taken.where(Person.person_no == person_no)).first():
            continue
        S.record_return(
            session,
            actor=clerk,
            person_id=row.id,
            returned_on=today - dt.timedelta(days=3),
            person_no=person_no,
            audit_key=key,
            today=today,
        )
        returned += 1
        S.record_venture(session, actor=clerk, person_id=row.id, business_no=business_no, audit_key=key)
        ventures += 1
    kinds = ("nenggong_qiaojiang", "tu_zhuanjia", "xiang_chuangke")
    for k, row in enumerate(people[3:6]):
        trade, skills = TRADES[(k + 3) % len(TRADES)]
        S.add_hometown_talent(
            session,
            actor=clerk,
            kind=kinds[k],
            town=row.home_town,
            trade=trade,
            skills=skills,
            recognised_on=today - dt.timedelta(days=10),
            outreach_person_id=row.id,
            audit_key=key,
            today=today,
        )
    talents = 0
    hire = session.execute(
        select(Business.business_no, Person.person_no, Employment.hire_date)
        .join(Employment, Employment.business_id == Business.id)
        .join(Person, Person.id == Employment.person_id)
        .where(
            Business.district == ctx.district,
            Business.founded_by_returning.is_(True),
            Employment.left_on.is_(None),
            Employment.hire_date <= today,
        )
        .order_by(Employment.id)
        .limit(1)
    ).first()
    if hire is not None:
        business_no, person_no, hired_on = hire
        proposed = S.propose_talent(
            session,
            actor=clerk,
            business_no=business_no,
            person_no=person_no,
            position="生产技术主管",
            category="technical",
            qualification="中级工程师",
            hired_on=hired_on,
            evidence="劳动合同及近 6 个月社保缴费证明（演示）",
            audit_key=key,
            today=today,
        )
        S.decide_talent(
            session,
            actor=reviewer,
            talent_id=proposed.id,
            decision="recognised",
            note="材料齐全",
            audit_key=key,
            today=today,
        )
        S.create_family_request(
            session,
            actor=clerk,
            talent_id=proposed.id,
            kind="schooling",
            description="子女随迁，申请就近入读区内公办小学二年级",
            owner_department="区教委",
            received_on=today,
            params=load_parameters(),
            audit_key=key,
            today=today,
        )
        talents = 1
    return (
        f"外出人员联络：登记 {len(people)} 人，春节联络活动 1 个、联系记录 {contacts} 条，"
        f"返乡 {returned} 人、创办主体 {ventures} 户，乡情人才 3 人，引进人才 {talents} 人"
    )
