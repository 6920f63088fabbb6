"""Demo records of the service windows, the 就业创业服务超市, purchased services, staff training, leaders'
contact and coordination (``xiangchuang demo``; see :mod:`xiangchuang.demo_seed`). Synthetic only; made
through the service functions, so every record is audited like a real one."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.chinatime import CHINA
from xiangchuang.demo_seed import SeedContext
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import Business, ServiceWindow, User
from xiangchuang.services import service as svc
from xiangchuang.users.service import UserScope

OFFERINGS = (
    ("registration", "营业执照办理代办", "区政务服务中心", "public", "免费"),
    ("accounting", "小微企业代理记账", "演示财务咨询有限公司", "market", "政府购买，创业者免费"),
    ("legal", "创业法律咨询", "区法律援助中心", "public", "免费"),
    ("financing", "创业担保贷款与银行融资对接", "区就业和人才服务局", "public", "免费"),
    ("ecommerce", "农村电商开店辅导", "演示电子商务服务公司", "market", "首次免费"),
    ("angel_fund", "天使投资项目对接", "演示天使投资基金", "market", "免费对接"),
    ("venture_fund", "创业投资基金路演", "演示创业投资基金", "market", "免费对接"),
)


def seed(session: Session, ctx: SeedContext) -> str:
    d = ctx.district
    if session.execute(select(ServiceWindow.id).where(ServiceWindow.district == d)).first() is not None:
        return "创业服务窗口与联系企业：演示记录已存在，未重复生成"
    params = load_parameters()
    now = dt.datetime(ctx.on.year, ctx.on.month, ctx.on.day, 10, 0, tzinfo=CHINA).astimezone(dt.UTC)
    clerk_login = session.execute(
        select(User.login).where(User.role == "window_clerk", User.district == d).order_by(User.id)
    ).scalar()
    base = {"user_id": 0, "district": d}
    reviewer = UserScope(level="district", login="demo.reviewer", role="district_reviewer", **base)  # type: ignore[arg-type]
    clerk = UserScope(level="district", login=clerk_login or "demo.clerk", role="window_clerk", **base)  # type: ignore[arg-type]
    kw: dict[str, Any] = {"audit_key": ctx.audit_key, "now": now}
    svc.create_window(
        session, scope=reviewer, **kw, name="创业服务专门窗口（区县）", level="district", district=None, street=None,
        centre="区政务服务中心", address="区政务服务中心一楼 8 号窗口", hours="工作日 9:00–12:00，14:00–17:30",
        handles=["policy_consult", "on_behalf", "registration", "subsidy", "loan", "supermarket"],
        staff_logins=[clerk_login] if clerk_login else [],
    )  # fmt: skip
    svc.create_window(
        session, scope=reviewer, **kw, name="创业服务专门窗口（镇街）", level="town", district=None, street="演示镇",
        centre="演示镇便民服务中心", address="演示镇便民服务中心 3 号窗口", hours="工作日 9:00–17:00",
        handles=["policy_consult", "on_behalf", "training", "supermarket"], staff_logins=[],
    )  # fmt: skip
    offerings = {
        cat: svc.create_offering(
            session,
            scope=reviewer,
            **kw,
            category=cat,
            title=title,
            provider_name=provider,
            provider_kind=kind,
            district=None,
            description=f"{title}：为返乡入乡创业人员提供{svc.CATEGORY_LABELS[cat]}服务（演示）",
            fee_note=fee,
        )
        for cat, title, provider, kind, fee in OFFERINGS
    }
    purchase = svc.create_purchase(
        session, scope=reviewer, **kw, contract_no="演示-购买服务-001", provider_name="演示财务咨询有限公司",
        offering_no=offerings["accounting"].offering_no, quantity=50, unit_price_fen=30000,
        start_on=ctx.on - dt.timedelta(days=30), end_on=ctx.on + dt.timedelta(days=335),
    )  # fmt: skip
    businesses = list(
        session.execute(
            select(Business).where(Business.district == d).order_by(Business.id).limit(4)
        ).scalars()
    )
    made = 0
    for i, b in enumerate(businesses):
        cat = ("accounting", "legal", "ecommerce", "financing")[i % 4]
        req = svc.request_service(
            session, scope=clerk, **kw, params=params, offering_no=offerings[cat].offering_no,
            detail=f"{svc.CATEGORY_LABELS[cat]}需求（演示）", business_no=b.business_no,
        )  # fmt: skip
        made += 1
        if clerk_login and i < 3:
            svc.accept_request(
                session, scope=clerk, **kw, request_no=req.request_no,
                purchase_no=purchase.purchase_no if cat == "accounting" else None,
            )  # fmt: skip
            if i < 2:
                svc.complete_request(
                    session, scope=clerk, **kw, request_no=req.request_no, outcome="已办结（演示）"
                )
                owner = UserScope(
                    level="own", login="demo.applicant", role="applicant", user_id=0, business_id=b.id
                )
                svc.rate_request(
                    session, scope=owner, **kw, request_no=req.request_no, rating=5 - i, comment="演示评价"
                )
    for name, hours in (("演示经办甲", 16), ("演示经办乙", 8)):
        svc.record_staff_training(
            session, scope=clerk, **kw, staff_name=name, staff_login=None, topic="返乡入乡创业政策与服务规范",
            organiser="区就业和人才服务局", trained_on=ctx.on - dt.timedelta(days=20), hours=hours, passed=True,
        )  # fmt: skip
    officials = [
        svc.create_official(session, scope=clerk, **kw, name=n, title=t, unit=u)
        for n, t, u in (("演示干部甲", "副区长", "区人民政府"), ("演示干部乙", "局长", "区人力社保局"))
    ]
    problems = 0
    for i, b in enumerate(businesses[:3]):
        o = officials[i % 2]
        svc.assign_official(session, scope=clerk, **kw, official_no=o.official_no, business_no=b.business_no,
                            since=ctx.on - dt.timedelta(days=60))  # fmt: skip
        visit = svc.record_visit(
            session, scope=clerk, **kw, official_no=o.official_no, business_no=b.business_no,
            visited_on=ctx.on - dt.timedelta(days=10), mode="on_site", summary="走访了解经营和用工情况（演示）",
        )  # fmt: skip
        p = svc.raise_problem(
            session, scope=clerk, **kw, params=params, business_no=b.business_no,
            category=("financing", "labour", "land")[i], description="企业反映的困难（演示）",
            owner_department=("hrss", "hrss", "natural_resources")[i], owner="责任科室（演示）",
            visit_no=visit.visit_no,
        )  # fmt: skip
        problems += 1
        if i == 0:
            svc.add_progress(
                session, scope=clerk, **kw, problem_no=p.problem_no, note="已对接承办银行（演示）"
            )
            svc.resolve_problem(
                session, scope=clerk, **kw, problem_no=p.problem_no, resolution="贷款已发放（演示）"
            )
            owner = UserScope(
                level="own", login="demo.applicant", role="applicant", user_id=0, business_id=b.id
            )
            svc.confirm_resolution(session, scope=owner, **kw, problem_no=p.problem_no, accept=True)
        elif i == 1:
            svc.add_progress(
                session, scope=clerk, **kw, problem_no=p.problem_no, note="已发布招聘信息（演示）"
            )
    meeting = svc.record_meeting(
        session, scope=clerk, **kw, title="返乡入乡创业工作会商（演示）", held_on=ctx.on - dt.timedelta(days=5),
        convener="分管副区长", departments=["hrss", "finance", "agriculture"],
        decisions=["设立创业服务专门窗口", "政府购买代理记账服务 50 次"],
    )  # fmt: skip
    t1 = svc.assign_task(session, scope=clerk, **kw, params=params, meeting_no=meeting.meeting_no,
                         department="finance", owner="区财政局", description="落实购买服务资金")  # fmt: skip
    svc.assign_task(session, scope=clerk, **kw, params=params, meeting_no=meeting.meeting_no,
                    department="agriculture", owner="区农业农村委", description="梳理一村一品产业清单")  # fmt: skip
    svc.complete_task(session, scope=clerk, **kw, task_no=t1.task_no, note="资金已下达（演示）")
    return (
        f"创业服务窗口与联系企业：窗口 2 个、服务超市 {len(offerings)} 项、服务请求 {made} 件、购买服务合同 1 份、"
        f"基层人员培训 2 人次、联系干部 2 名、走访与问题各 {problems} 个、会商会议 1 次（任务 2 项）"
    )
