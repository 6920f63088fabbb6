"""Indicators of support after failure (3.10), places and trades (5.14) and typical entrepreneurs (5.15),
per district and quarter: closed businesses offered support, consents, referrals and their outcomes,
work-injury insurance participation of small employers, tagged businesses, demonstration villages and
towns, businesses reached by rural projects, nominations, commendations and published stories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, and_, case, literal, select, union_all

from xiangchuang.models import (
    Business,
    BusinessTag,
    ClosureCase,
    ClosureReferral,
    Commendation,
    Nomination,
    Place,
    PlaceDesignation,
    ProjectReach,
    RuralProject,
)
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import Window
from xiangchuang.stats.repository import _NO_DIM, _in_window, _no_app, _one, _text

KIND_DIMS = (
    ("employment_service", "就业服务"),
    ("employment_assistance", "就业援助"),
    ("social_relief", "社会救助"),
)
OUTCOME_DIMS = (
    ("employed", "已就业"),
    ("self_employed", "再次创业"),
    ("training", "参加培训"),
    ("assistance_granted", "获得就业援助"),
    ("relief_granted", "获得社会救助"),
    ("not_eligible", "不符合条件"),
    ("refused", "本人放弃"),
    ("unreachable", "无法联系"),
)
INJURY_DIMS = (("insured", "已缴纳工伤保险"), ("not_insured", "未缴纳工伤保险"))
TAG_DIMS = (
    ("county_product", "一县一品"),
    ("village_product", "一村一品"),
    ("township_industry", "一乡一业"),
)
LEVEL_DIMS = (("national", "国家级"), ("provincial", "省（市）级"), ("city", "市级"), ("district", "区县级"))
PROJECT_DIMS = (("info_to_village", "信息进村入户"), ("ecommerce_to_rural", "电子商务进农村"))
CATEGORY_DIMS = (
    ("returning_entrepreneur", "优秀返乡入乡创业者"),
    ("rural_business_leader", "农村创业带头人"),
)

register_group(Group("community", "创业帮扶与典型", 95))


def _nodim() -> Any:
    return _text(_NO_DIM)


def _window(column: Any, w: Window) -> list[Any]:
    return _in_window(column, w, "date")


def src_closures_offered(w: Window) -> Select[Any]:
    return select(
        ClosureCase.id.label("entity"),
        ClosureCase.district.label("district"),
        ClosureCase.offered_on.label("at"),
        _nodim().label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(*_window(ClosureCase.offered_on, w))


def src_closures_consented(w: Window) -> Select[Any]:
    return select(
        ClosureCase.id.label("entity"),
        ClosureCase.district.label("district"),
        ClosureCase.consent_on.label("at"),
        _nodim().label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(
        ClosureCase.consent_on.is_not(None),
        ClosureCase.state != "declined",
        *_window(ClosureCase.consent_on, w),
    )


def src_referrals(w: Window) -> Select[Any]:
    return (
        select(
            ClosureReferral.id.label("entity"),
            ClosureCase.district.label("district"),
            ClosureReferral.referred_on.label("at"),
            ClosureReferral.kind.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(ClosureCase, ClosureCase.id == ClosureReferral.case_id)
        .where(*_window(ClosureReferral.referred_on, w))
    )


def src_referral_outcomes(w: Window) -> Select[Any]:
    return (
        select(
            ClosureReferral.id.label("entity"),
            ClosureCase.district.label("district"),
            ClosureReferral.outcome_on.label("at"),
            ClosureReferral.outcome.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(ClosureCase, ClosureCase.id == ClosureReferral.case_id)
        .where(ClosureReferral.outcome.is_not(None), *_window(ClosureReferral.outcome_on, w))
    )


def src_injury_participation(w: Window) -> Any:
    """Small employers in the last month of each quarter, insured against work injury or not (the same
    definition as the monitoring rule: community.service.injury_participation)."""
    from xiangchuang.community.service import small_employers

    parts = []
    for q in w.quarters:
        sub = small_employers(q.last_month)
        parts.append(
            select(
                sub.c.id.label("entity"),
                sub.c.district.label("district"),
                literal(q.last_month, Integer()).label("at"),
                case((sub.c.insured, "insured"), else_="not_insured").label("dim"),
                _one().label("amount"),
                _no_app().label("application_id"),
            )
        )
    return union_all(*parts) if len(parts) > 1 else parts[0]


def src_tagged_businesses(w: Window) -> Select[Any]:
    return (
        select(
            Business.id.label("entity"),
            Business.district.label("district"),
            Business.registration_date.label("at"),
            BusinessTag.tag_kind.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(BusinessTag, BusinessTag.business_id == Business.id)
        .where(*_window(Business.registration_date, w))
    )


def src_demonstration_places(w: Window) -> Select[Any]:
    return (
        select(
            Place.id.label("entity"),
            Place.district.label("district"),
            PlaceDesignation.designated_on.label("at"),
            PlaceDesignation.level.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(PlaceDesignation, PlaceDesignation.place_id == Place.id)
        .where(*_window(PlaceDesignation.designated_on, w))
    )


def src_project_reach(w: Window) -> Select[Any]:
    return (
        select(
            ProjectReach.business_id.label("entity"),
            RuralProject.district.label("district"),
            ProjectReach.reached_on.label("at"),
            RuralProject.kind.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(RuralProject, RuralProject.id == ProjectReach.project_id)
        .where(*_window(ProjectReach.reached_on, w))
    )


def src_nominations(w: Window) -> Select[Any]:
    return select(
        Nomination.id.label("entity"),
        Nomination.district.label("district"),
        Nomination.nominated_on.label("at"),
        Nomination.category.label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(*_window(Nomination.nominated_on, w))


def src_commendations(w: Window) -> Select[Any]:
    return (
        select(
            Commendation.id.label("entity"),
            Nomination.district.label("district"),
            Commendation.awarded_on.label("at"),
            Commendation.level.label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        )
        .join(Nomination, Nomination.id == Commendation.nomination_id)
        .where(*_window(Commendation.awarded_on, w))
    )


def src_published(w: Window) -> Select[Any]:
    return select(
        Nomination.id.label("entity"),
        Nomination.district.label("district"),
        Nomination.published_on.label("at"),
        _nodim().label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(
        and_(Nomination.state == "published", Nomination.published_on.is_not(None)),
        *_window(Nomination.published_on, w),
    )


def _reg(
    id: str,
    label: str,
    unit: str,
    source: Any,
    definition: str,
    *,
    time: str = "date",
    entity: str,
    dims: tuple[tuple[str, str], ...] | None = None,
    dim_label: str | None = None,
    dim_total: bool = False,
    cumulative: bool = False,
) -> None:
    register(
        Indicator(
            id,
            label,
            unit,
            "community",
            source,
            time,  # type: ignore[arg-type]
            cumulative=cumulative,
            dims=dims,
            dim_label=dim_label,
            dim_total=dim_total,
            entity=entity,
            definition=definition,
        )
    )


_reg(
    "closures_offered",
    "注销主体发起帮扶告知",
    "户",
    src_closures_offered,
    "经营主体在登记库注销后，向创办人发起就业服务、就业援助、社会救助转介告知的户数，按告知日期计入季度、按主体登记区县计入区县。",
    entity="closure_cases",
)
_reg(
    "closures_consented",
    "本人同意转介",
    "户",
    src_closures_consented,
    "创办人本人同意转介（含事后撤回）的户数，按同意日期计入季度；本人不同意的不计。",
    entity="closure_cases",
)
_reg(
    "referrals_by_kind",
    "转介件数",
    "件",
    src_referrals,
    "在本人同意范围内的转介，按转介日期计入季度；维度为转介类型。",
    entity="closure_referrals",
    dims=KIND_DIMS,
    dim_label="转介类型",
    dim_total=True,
)
_reg(
    "referral_outcomes",
    "转介结果",
    "件",
    src_referral_outcomes,
    "已登记结果的转介，按结果日期计入季度；维度为结果。",
    entity="closure_referrals",
    dims=OUTCOME_DIMS,
    dim_label="结果",
    dim_total=True,
)
_reg(
    "injury_participation",
    "季末小微雇主工伤保险参保",
    "户",
    src_injury_participation,
    "季度最后一个月有在岗雇工的小微经营主体（规模为小微或未填写，当月未注销），按当月是否缴纳工伤保险单位部分分列；"
    "参保率 = 已缴纳 ÷ 合计。与监测预警规则（小微经营主体工伤保险参保率偏低）口径相同。",
    time="month",
    entity="businesses",
    dims=INJURY_DIMS,
    dim_label="工伤保险",
    dim_total=True,
)
_reg(
    "tagged_businesses",
    "累计标注特色产业标签的经营主体",
    "户",
    src_tagged_businesses,
    "标注一县一品、一村一品或一乡一业标签的经营主体，按主体登记日期累计至季末；一户多类标签的在各类分别计入。",
    entity="businesses",
    dims=TAG_DIMS,
    dim_label="标签类型",
    cumulative=True,
)
_reg(
    "demonstration_places",
    "累计示范村镇",
    "个",
    src_demonstration_places,
    "认定为示范村镇的乡镇和村，按认定日期累计至季末；维度为认定级别（一地多级的分别计入）。",
    entity="places",
    dims=LEVEL_DIMS,
    dim_label="级别",
    cumulative=True,
)
_reg(
    "project_reach",
    "信息进村入户、电商进农村覆盖主体",
    "户",
    src_project_reach,
    "项目登记的覆盖（服务）经营主体，按服务日期计入季度、按项目所在区县计入区县；维度为项目类型。",
    entity="businesses",
    dims=PROJECT_DIMS,
    dim_label="项目类型",
)
_reg(
    "nominations",
    "创业典型推荐",
    "人次",
    src_nominations,
    "推荐的优秀返乡入乡创业者和农村创业带头人，按推荐日期计入季度；维度为类别。",
    entity="nominations",
    dims=CATEGORY_DIMS,
    dim_label="类别",
    dim_total=True,
)
_reg(
    "commendations",
    "创业典型表彰",
    "项",
    src_commendations,
    "登记的表彰，按表彰日期计入季度；维度为表彰级别。",
    entity="commendations",
    dims=LEVEL_DIMS,
    dim_label="级别",
    dim_total=True,
)
_reg(
    "stories_published",
    "公开宣传的创业典型",
    "人",
    src_published,
    "经本人同意公开宣传（当前仍公开）的创业典型，按公开日期计入季度。",
    entity="nominations",
)
