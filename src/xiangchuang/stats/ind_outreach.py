"""Outreach indicators (clause 4.12 本地外出人员联络机制), per district (the person's home district) and
quarter: people registered, people contacted, people who returned, businesses started by returnees, and
introduced talent recognised. Counted from the outreach tables as they stand (records purged after
withdrawal or retention leave the later counts; a published quarter keeps its stored figures)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from xiangchuang.models import IntroducedTalent, OutreachContact, OutreachPerson, OutreachVenture
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import Window
from xiangchuang.stats.repository import _in_window, _no_app, _one, _text

NO_DIM = ""

register_group(Group("outreach", "外出人员联络", 70))


def src_registered(w: Window) -> Select[Any]:
    return select(
        OutreachPerson.id.label("entity"),
        OutreachPerson.district.label("district"),
        OutreachPerson.created_at.label("at"),
        _text(NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(*_in_window(OutreachPerson.created_at, w, "instant"))


def src_contacted(w: Window) -> Select[Any]:
    return select(
        OutreachContact.outreach_person_id.label("entity"),
        OutreachContact.district.label("district"),
        OutreachContact.contacted_on.label("at"),
        _text(NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(*_in_window(OutreachContact.contacted_on, w, "date"))


def src_returned(w: Window) -> Select[Any]:
    return select(
        OutreachPerson.id.label("entity"),
        OutreachPerson.district.label("district"),
        OutreachPerson.returned_on.label("at"),
        _text(NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(OutreachPerson.returned_on.is_not(None), *_in_window(OutreachPerson.returned_on, w, "date"))


def src_ventures(w: Window) -> Select[Any]:
    return select(
        OutreachVenture.business_id.label("entity"),
        OutreachVenture.district.label("district"),
        OutreachVenture.started_on.label("at"),
        _text(NO_DIM).label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(*_in_window(OutreachVenture.started_on, w, "date"))


def src_introduced(w: Window) -> Select[Any]:
    return select(
        IntroducedTalent.id.label("entity"),
        IntroducedTalent.district.label("district"),
        IntroducedTalent.decided_on.label("at"),
        IntroducedTalent.category.label("dim"),
        _one().label("amount"),
        _no_app().label("application_id"),
    ).where(IntroducedTalent.state == "recognised", *_in_window(IntroducedTalent.decided_on, w, "date"))


register(
    Indicator(
        "outreach_registered",
        "新登记外出人员",
        "人",
        "outreach",
        src_registered,
        "instant",
        entity="outreach_people",
        definition="本季度新登记（表单或 Excel 导入）且经本人同意联系的本地外出人员，按家乡区县计。",
    )
)
register(
    Indicator(
        "outreach_registered_total",
        "外出人员联络登记在册",
        "人",
        "outreach",
        src_registered,
        "instant",
        cumulative=True,
        entity="outreach_people",
        definition="截至季末仍在登记中的外出人员（撤回同意或超过保存期限的登记清理后不再计入）。",
    )
)
register(
    Indicator(
        "outreach_contacted",
        "联系外出人员",
        "人",
        "outreach",
        src_contacted,
        "date",
        dims=(
            ("phone", "电话"),
            ("sms", "短信"),
            ("wechat", "微信"),
            ("visit", "上门走访"),
            ("event", "座谈/活动"),
        ),
        dim_label="联系方式",
        entity="outreach_people",
        definition="本季度至少联系过一次（电话、短信、微信、上门走访或座谈活动）的登记人员，按联系日期，每人每季度计一次。",
    )
)
register(
    Indicator(
        "outreach_returned",
        "外出人员返乡",
        "人",
        "outreach",
        src_returned,
        "date",
        entity="outreach_people",
        definition="登记人员中本季度登记返乡的人数（按返乡日期，家乡区县）。",
    )
)
register(
    Indicator(
        "outreach_ventures",
        "返乡人员创办经营主体",
        "户",
        "outreach",
        src_ventures,
        "date",
        entity="businesses",
        definition="登记返乡人员创办并与登记库关联的经营主体，按主体登记日期所在季度、返乡人员家乡区县计。",
    )
)
register(
    Indicator(
        "introduced_talent",
        "认定引进人才",
        "人",
        "outreach",
        src_introduced,
        "date",
        dims=(("technical", "技术人才"), ("management", "管理人才")),
        dim_label="人才类别",
        dim_total=True,
        entity="introduced_talents",
        definition="返乡入乡创业企业聘用、经区县人社认定的技术和管理人才，按认定日期所在季度计。",
    )
)
