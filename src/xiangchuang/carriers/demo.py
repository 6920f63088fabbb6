"""Demo records of the carriers service: one 返乡创业园 operated by the demo carrier operator (org code
``DEMOCR01``), its workstations and reduction schedule, tenants from the synthetic registry, three months
of bills (reductions by the engine), a rating and, when the engine finds someone eligible, a free
workstation. Synthetic data only; idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.carriers import repository as repo
from xiangchuang.carriers import service as S
from xiangchuang.carriers.repository import Actor
from xiangchuang.chinatime import CHINA
from xiangchuang.demo_seed import SeedContext
from xiangchuang.engine.dates import add_months_scalar
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import DomainError
from xiangchuang.models import Business, Person, PersonGroup, Tenancy
from xiangchuang.users.demo_accounts import DEMO_ORG_CODES

CARRIER_NO = "DEMO-CR01"


def seed(session: Session, ctx: SeedContext) -> str:
    if repo.carrier_by_no(session, CARRIER_NO) is not None:
        return f"创业载体演示数据已存在（{CARRIER_NO}），未重复创建"
    now = dt.datetime.combine(ctx.on, dt.time(10, 0), tzinfo=CHINA)
    actor = Actor("system:demo", "district_reviewer", ctx.district)
    params = load_parameters()
    S.create_carrier(
        session,
        data=S.CarrierInput(
            carrier_no=CARRIER_NO,
            name="演示区返乡创业园",
            kind="returning_park",
            level="municipal",
            district=ctx.district,
            address="演示区创业大道 1 号",
            capacity=30,
            services=("policy", "registration", "mentoring", "finance", "ecommerce"),
            operator="演示返乡创业园运营公司",
            operator_org_code=DEMO_ORG_CODES["carrier_operator"],
            district_date=dt.date(ctx.on.year - 4, 3, 1),
            municipal_date=dt.date(ctx.on.year - 2, 6, 1),
            workstations=20,
            free_workstations=4,
        ),
        actor=actor,
        audit_key=ctx.audit_key,
        now=now,
    )
    S.set_schedule(
        session,
        carrier_no=CARRIER_NO,
        steps=[
            {"year": 1, "rent": "100", "property": "50", "utilities": "20"},
            {"year": 2, "rent": "50", "property": "30", "utilities": "0"},
            {"year": 3, "rent": "30", "property": "0", "utilities": "0"},
        ],
        actor=actor,
        audit_key=ctx.audit_key,
        now=now,
    )
    taken = {b for (b,) in session.execute(select(Tenancy.business_id))}
    businesses = [
        b
        for b in session.scalars(
            select(Business)
            .where(Business.district == ctx.district, Business.status == "normal")
            .order_by(Business.id)
            .limit(200)
        )
        if b.id not in taken
    ]
    chosen = [b for b in businesses if b.size_class == "small_micro" and b.founded_by_returning][:4]
    chosen += [b for b in businesses if b not in chosen][: max(0, 6 - len(chosen))]
    for k, b in enumerate(chosen):
        start = add_months_scalar(ctx.on, -(4 + 5 * k))
        S.add_tenant(
            session,
            carrier_no=CARRIER_NO,
            data=S.TenantInput(
                business_no=b.business_no,
                start=max(start, b.registration_date),
                workstation=f"{5 + k:03d}",
                rent_fen=150_000 + 20_000 * k,
                property_fee_fen=30_000,
                utilities_fen=12_000 + 1_000 * k,
            ),
            actor=actor,
            audit_key=ctx.audit_key,
            now=now,
        )
    bills = 0
    first = ctx.on.replace(day=1)
    for back in (3, 2, 1):
        m = add_months_scalar(first, -back)
        bills += len(
            S.generate_bills(
                session,
                carrier_no=CARRIER_NO,
                month=m.year * 100 + m.month,
                params=params,
                actor=actor,
                audit_key=ctx.audit_key,
                now=now,
            )
        )
    S.record_rating(
        session,
        carrier_no=CARRIER_NO,
        year=ctx.on.year - 1,
        rating="A",
        score=92,
        evidence="演示区人社局〔演示〕1号 年度绩效评估报告：优秀",
        actor=actor,
        audit_key=ctx.audit_key,
        now=now,
    )
    granted = 0
    candidates = session.scalars(
        select(Person)
        .join(PersonGroup, PersonGroup.person_id == Person.id)
        .where(Person.startup_intention.is_(True), PersonGroup.group_code == "poverty_registered")
        .order_by(Person.id)
        .limit(5)
    ).all()
    for p in candidates:
        try:
            with session.begin_nested():
                S.allocate_free_workstation(
                    session,
                    carrier_no=CARRIER_NO,
                    person_no=p.person_no,
                    start=ctx.on,
                    params=params,
                    actor=actor,
                    audit_key=ctx.audit_key,
                    now=now,
                )
            granted += 1
            break
        except DomainError:
            continue
    return f"创业载体：{CARRIER_NO}（运营单位代码 {DEMO_ORG_CODES['carrier_operator']}），入驻企业 {len(chosen)} 户，账单 {bills} 张，免费工位 {granted} 个"
