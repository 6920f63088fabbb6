"""Indicators of the mentor pool (clauses 2.6, 3.9): mentors in the pool by level and district, service
records and their workload, mentor service subsidies approved, review events and draws per quarter.

No indicator reads who was drawn (that exists only in the sealed manifest): draws are counted by status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, cast, func, literal, null, select
from sqlalchemy.types import Integer

from xiangchuang.mentors import labels as L
from xiangchuang.models import (
    Business,
    Mentor,
    MentorDraw,
    MentorEvent,
    MentorEventProject,
    MentorService,
    Person,
)
from xiangchuang.stats import repository as r
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import Window

GROUP = "mentors"
LEVEL_DIMS = tuple(L.LEVEL.items())
ACTIVITY_DIMS = tuple(L.ACTIVITY.items())
DRAW_DIMS = (("drawn", "抽取完成"), ("incomplete", "评审组不完整"), ("failed", "抽取失败"))

register_group(Group(GROUP, "创业导师", 100))


def _one() -> Any:
    return literal(1, Integer())


def _no_app() -> Any:
    return cast(null(), Integer())


def src_mentors(w: Window) -> Select[Any]:
    return select(
        Mentor.id.label("entity"),
        Mentor.district.label("district"),
        Mentor.created_at.label("at"),
        Mentor.level.label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(Mentor.status != "retired", Mentor.created_at < w.until("instant"))


def src_services(*, units: bool) -> Any:
    def source(w: Window) -> Select[Any]:
        lo = w.since("date")
        stmt = select(
            MentorService.id.label("entity"),
            MentorService.district.label("district"),
            MentorService.occurred_on.label("at"),
            MentorService.activity.label("dim"),
            (MentorService.units if units else _one()).label("amount"),
            _no_app().label("application_id"),
        ).where(MentorService.occurred_on < w.until("date"))
        if lo is not None:
            stmt = stmt.where(MentorService.occurred_on >= lo)
        if units:
            stmt = stmt.where(MentorService.confirmed_at.is_not(None))
        return stmt

    return source


def src_subsidies(w: Window) -> Select[Any]:
    stmt: Select[Any] = r.src_application_event("approve", amount="approved", kind="mentor_service_subsidy")(
        w
    )
    return stmt


def _event_district() -> Any:
    """A district event's own district; a city event's: the lowest district of its projects' businesses,
    else of its applicants' household registration."""
    biz = (
        select(func.min(Business.district))
        .join(MentorEventProject, MentorEventProject.business_id == Business.id)
        .where(MentorEventProject.event_id == MentorEvent.id)
        .scalar_subquery()
    )
    hukou = (
        select(func.min(Person.hukou_district))
        .join(MentorEventProject, MentorEventProject.person_id == Person.id)
        .where(MentorEventProject.event_id == MentorEvent.id)
        .scalar_subquery()
    )
    return func.coalesce(MentorEvent.district, biz, hukou)


def src_events(w: Window) -> Select[Any]:
    lo = w.since("date")
    stmt = select(
        MentorEvent.id.label("entity"),
        _event_district().label("district"),
        MentorEvent.event_date.label("at"),
        MentorEvent.kind.label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(MentorEvent.event_date < w.until("date"))
    return stmt if lo is None else stmt.where(MentorEvent.event_date >= lo)


def src_draws(w: Window) -> Select[Any]:
    lo = w.since("instant")
    stmt = (
        select(
            MentorDraw.id.label("entity"),
            _event_district().label("district"),
            MentorDraw.drawn_at.label("at"),
            MentorDraw.status.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(MentorEvent, MentorEvent.id == MentorDraw.event_id)
        .where(MentorDraw.drawn_at < w.until("instant"))
    )
    return stmt if lo is None else stmt.where(MentorDraw.drawn_at >= lo)


register(
    Indicator(
        "mentors_in_pool",
        "在库创业导师",
        "人",
        GROUP,
        src_mentors,
        "instant",
        cumulative=True,
        dims=LEVEL_DIMS,
        dim_label="导师层级",
        dim_total=True,
        entity="mentors",
        definition="截至季末已入库、当前未退出的导师，按导师所在区县和层级（市级、区县级）。",
    )
)
register(
    Indicator(
        "mentor_services",
        "导师服务记录",
        "条",
        GROUP,
        src_services(units=False),
        "date",
        dims=ACTIVITY_DIMS,
        dim_label="服务类型",
        dim_total=True,
        entity="mentor_services",
        definition="按服务日期计入季度、按服务所在区县计入区县；含尚未经组织单位确认的记录。",
    )
)
register(
    Indicator(
        "mentor_service_units",
        "已确认服务工作量",
        "次",
        GROUP,
        src_services(units=True),
        "date",
        measure="sum",
        dims=ACTIVITY_DIMS,
        dim_label="服务类型",
        dim_total=True,
        entity="mentor_services",
        definition="组织单位已确认的服务记录的工作量（授课/评审次数、结对对数）之和。",
    )
)
register(
    Indicator(
        "mentor_subsidies_approved",
        "核准导师服务补助",
        "元",
        GROUP,
        src_subsidies,
        "instant",
        measure="sum",
        scale=100,
        decimals=2,
        definition="“创业导师服务补助”申请公示期满核准的金额（规则引擎按已确认服务记录计算），按核准时间计入季度。",
    )
)
register(
    Indicator(
        "mentor_events",
        "评审活动",
        "场",
        GROUP,
        src_events,
        "date",
        dims=tuple(L.EVENT_KIND.items()),
        dim_label="活动类型",
        dim_total=True,
        entity="mentor_events",
        definition="创业大赛和项目评审活动，按活动日期计入季度；区县活动计入本区县，市级活动计入参评项目所在区县"
        "（多个区县时取代码最小者）。",
    )
)
register(
    Indicator(
        "mentor_draws",
        "导师随机抽取",
        "次",
        GROUP,
        src_draws,
        "instant",
        dims=DRAW_DIMS,
        dim_label="抽取结果",
        dim_total=True,
        entity="mentor_draws",
        definition="按抽取时间计入季度；失败的抽取（可用导师不足）写明原因，不放宽规则。不含导师姓名。",
    )
)
