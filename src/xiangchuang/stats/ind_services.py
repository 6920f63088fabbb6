"""Indicators and monitoring rules of the one-stop service (clause 3.7: windows, the 就业创业服务超市,
purchased services) and of 领导干部联系企业 / 会商 (clause 5.13): requests by service type and completion,
ratings, purchased units delivered, visits, problems raised / solved / overdue, coordination tasks overdue —
per district and quarter. Two alert rules (``stats.alerts``) flag overdue problems and overdue
coordination tasks to the district's reviewers through the outbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, String, cast, literal, null, select
from sqlalchemy.orm import Session

from xiangchuang.models import Business
from xiangchuang.models.services import (
    CoordinationTask,
    LiaisonProblem,
    LiaisonVisit,
    ServiceOffering,
    ServicePurchase,
    ServiceRequest,
)
from xiangchuang.services.service import (
    CATEGORY_LABELS,
    DEPARTMENTS,
    PROBLEM_CATEGORIES,
    VISIT_MODE_LABELS,
)
from xiangchuang.stats.alerts import Context, Finding, rule
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import TimeKind, Window

CATEGORY_DIMS = tuple(CATEGORY_LABELS.items())
PROBLEM_DIMS = tuple(PROBLEM_CATEGORIES.items())
MODE_DIMS = tuple(VISIT_MODE_LABELS.items())
STAR_DIMS = tuple((str(i), f"{i} 星") for i in range(5, 0, -1))


def _window(column: Any, w: Window, kind: TimeKind) -> list[ColumnElement[bool]]:
    lo = w.since(kind)
    out = [column < w.until(kind)]
    if lo is not None:
        out.append(column >= lo)
    return out


def _one() -> ColumnElement[int]:
    return literal(1, Integer())


def _no_dim() -> ColumnElement[str]:
    return literal("", String())


def _no_app() -> ColumnElement[Any]:
    return cast(null(), Integer())


def _source(
    entity: Any, district: Any, at: Any, kind: TimeKind, dim: Any = None, amount: Any = None, *,
    where: tuple[Any, ...] = (), join_offering: bool = False,
) -> Callable[[Window], Select[Any]]:  # fmt: skip
    """An indicator source over one table: (entity, district, at, dim, amount, application_id) rows in the
    window, filtered by ``where``; ``join_offering`` adds the request's catalogue offering (its category)."""

    def source(w: Window) -> Select[Any]:
        stmt = select(
            entity.label("entity"),
            district.label("district"),
            at.label("at"),
            (_no_dim() if dim is None else dim).label("dim"),
            (_one() if amount is None else amount).label("amount"),
            _no_app().label("application_id"),
        )
        if join_offering:
            stmt = stmt.join(ServiceOffering, ServiceOffering.id == ServiceRequest.offering_id)
        return stmt.where(*where, *_window(at, w, kind))

    return source


R, P = ServiceRequest, LiaisonProblem
_completed = R.state == "completed"
_late_problem = (P.resolved_on.is_(None)) | (P.resolved_on > P.due_on)
_late_task = (CoordinationTask.done_on.is_(None)) | (CoordinationTask.done_on > CoordinationTask.due_on)
src_requests = _source(
    R.id, R.district, R.submitted_at, "instant", ServiceOffering.category, join_offering=True
)
src_requests_completed = _source(
    R.id,
    R.district,
    R.closed_at,
    "instant",
    ServiceOffering.category,
    where=(_completed,),
    join_offering=True,
)
src_ratings = _source(
    R.id, R.district, R.rated_at, "instant", cast(R.rating, String()), where=(R.rating.is_not(None),)
)
src_purchased_units = _source(
    ServicePurchase.id,
    ServicePurchase.district,
    ServicePurchase.start_on,
    "date",
    amount=ServicePurchase.quantity,
)
src_purchase_delivered = _source(
    R.id, R.district, R.closed_at, "instant", where=(_completed, R.purchase_id.is_not(None))
)
src_visits = _source(
    LiaisonVisit.id, LiaisonVisit.district, LiaisonVisit.visited_on, "date", LiaisonVisit.mode
)
src_problems_raised = _source(P.id, P.district, P.raised_on, "date", P.category)
src_problems_solved = _source(
    P.id, P.district, P.confirmed_on, "date", P.category, where=(P.state == "closed",)
)
# deadline in the quarter, not resolved by it (or resolved late)
src_problems_overdue = _source(P.id, P.district, P.due_on, "date", P.category, where=(_late_problem,))
src_tasks_overdue = _source(
    CoordinationTask.id, CoordinationTask.district, CoordinationTask.due_on, "date", CoordinationTask.department,
    where=(_late_task,),
)  # fmt: skip


register_group(Group("services", "创业服务与联系企业", 90))

_REQ = "就业创业服务超市的服务请求（含窗口代办），按提交时间（北京时间）计入季度、按请求所在区县计入区县。"
for ind in (
    Indicator("svc_requests", "服务超市服务请求", "件", "services", src_requests, "instant",
              dims=CATEGORY_DIMS, dim_label="服务类别", dim_total=True, entity="svc_requests", definition=_REQ),
    Indicator("svc_requests_completed", "服务请求办结", "件", "services", src_requests_completed, "instant",
              dims=CATEGORY_DIMS, dim_label="服务类别", dim_total=True, entity="svc_requests",
              definition="状态为已办结的服务请求，按办结时间计入季度。"),
    Indicator("svc_ratings", "服务评价", "件", "services", src_ratings, "instant", dims=STAR_DIMS,
              dim_label="评价星级", dim_total=True, entity="svc_requests",
              definition="创业者对已办结服务请求的评价（1–5 星），按评价时间计入季度。"),
    Indicator("svc_purchased_units", "购买服务合同数量", "次", "services", src_purchased_units, "date",
              measure="sum", entity="svc_purchases",
              definition="区县购买服务合同约定的服务次数，按服务期起始日计入季度。"),
    Indicator("svc_purchase_delivered", "购买服务已交付", "次", "services", src_purchase_delivered, "instant",
              entity="svc_requests", definition="计入购买服务合同并已办结的服务请求，按办结时间计入季度。"),
    Indicator("svc_visits", "领导干部走访企业", "次", "services", src_visits, "date", dims=MODE_DIMS,
              dim_label="走访方式", dim_total=True, entity="svc_visits",
              definition="联系企业的领导干部的走访记录，按走访日期计入季度。"),
    Indicator("svc_problems_raised", "企业反映问题", "个", "services", src_problems_raised, "date",
              dims=PROBLEM_DIMS, dim_label="问题类别", dim_total=True, entity="svc_problems",
              definition="联系企业中收集的问题，按登记日期计入季度。"),
    Indicator("svc_problems_solved", "问题解决（企业确认）", "个", "services", src_problems_solved, "date",
              dims=PROBLEM_DIMS, dim_label="问题类别", dim_total=True, entity="svc_problems",
              definition="企业确认已解决的问题，按确认日期计入季度。"),
    Indicator("svc_problems_overdue", "问题逾期未办结", "个", "services", src_problems_overdue, "date",
              dims=PROBLEM_DIMS, dim_label="问题类别", dim_total=True, entity="svc_problems",
              definition="办结时限落在本季度、到期时仍未办结（或办结晚于时限）的问题，按办结时限计入季度。"),
    Indicator("svc_tasks_overdue", "会商任务逾期", "项", "services", src_tasks_overdue, "date",
              dims=tuple(DEPARTMENTS.items()), dim_label="责任部门", dim_total=True, entity="svc_tasks",
              definition="会商会议分解的任务中，完成时限落在本季度、到期时仍未完成（或完成晚于时限）的任务。"),
):  # fmt: skip
    register(ind)


# --- monitoring (动态监测): overdue problems and coordination tasks -------------------------------------------


@rule("svc_problem_overdue", "联系企业问题逾期未办结")
def _problem_overdue(session: Session, ctx: Context) -> list[Finding]:
    rows = session.execute(
        select(LiaisonProblem, Business.name)
        .join(Business, Business.id == LiaisonProblem.business_id)
        .where(LiaisonProblem.state.in_(("open", "in_progress")), LiaisonProblem.due_on < ctx.today)
        .order_by(LiaisonProblem.id)
    ).all()
    out = []
    for p, business_name in rows:
        late = (ctx.today - p.due_on).days
        out.append(
            Finding(
                key=f"{p.problem_no}:{p.due_on.isoformat()}",
                district=p.district,
                role="district_reviewer",
                subject=f"svc_problems:{p.problem_no}",
                message=(
                    f"{business_name}反映的问题 {p.problem_no}（{PROBLEM_CATEGORIES.get(p.category, p.category)}，"
                    f"责任部门 {DEPARTMENTS.get(p.owner_department, p.owner_department)}）已超过办结时限 "
                    f"{p.due_on.isoformat()} {late} 天"
                ),
                details={"problem_no": p.problem_no, "due_on": p.due_on.isoformat(), "late_days": late},
            )
        )
    return out


@rule("svc_task_overdue", "会商任务逾期未完成")
def _task_overdue(session: Session, ctx: Context) -> list[Finding]:
    rows = session.execute(
        select(CoordinationTask)
        .where(CoordinationTask.state == "open", CoordinationTask.due_on < ctx.today)
        .order_by(CoordinationTask.id)
    ).scalars()
    out = []
    for t in rows:
        late = (ctx.today - t.due_on).days
        out.append(
            Finding(
                key=f"{t.task_no}:{t.due_on.isoformat()}",
                district=t.district,
                role="district_reviewer",
                subject=f"svc_tasks:{t.task_no}",
                message=(
                    f"会商任务 {t.task_no}（{DEPARTMENTS.get(t.department, t.department)}）已超过完成时限 "
                    f"{t.due_on.isoformat()} {late} 天"
                ),
                details={"task_no": t.task_no, "due_on": t.due_on.isoformat(), "late_days": late},
            )
        )
    return out


OVERDUE_RULES = ("svc_problem_overdue", "svc_task_overdue")
