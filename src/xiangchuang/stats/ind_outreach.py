"""Outreach indicators (clause 4.12 本地外出人员联络机制), per district (the person's home district) and
quarter: people registered, people contacted, people who returned, businesses started by returnees, and
introduced talent recognised. Counted from the outreach tables as they stand (records purged after
withdrawal or retention leave the later counts; a published quarter keeps its stored figures)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, select

from xiangchuang.models import IntroducedTalent, OutreachContact, OutreachPerson, OutreachVenture
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import TimeKind, Window
from xiangchuang.stats.repository import _in_window, _no_app, _one, _text

NO_DIM = ""

register_group(Group("outreach", "外出人员联络", 85))


def _source(
    entity: Any, district: Any, at: Any, kind: TimeKind, dim: Any = None, *where: Any
) -> Callable[[Window], Select[Any]]:
    """A source over one outreach table: the entity, its district, the moment it counts, an optional
    dimension and extra filters; the window's bounds are applied on ``at``."""

    def source(w: Window) -> Select[Any]:
        return select(
            entity.label("entity"),
            district.label("district"),
            at.label("at"),
            (dim if dim is not None else _text(NO_DIM)).label("dim"),
            _one().label("amount"),
            _no_app().label("application_id"),
        ).where(*where, *_in_window(at, w, kind))

    return source


src_registered = _source(OutreachPerson.id, OutreachPerson.district, OutreachPerson.created_at, "instant")
src_contacted = _source(
    OutreachContact.outreach_person_id, OutreachContact.district, OutreachContact.contacted_on, "date"
)
src_returned = _source(
    OutreachPerson.id,
    OutreachPerson.district,
    OutreachPerson.returned_on,
    "date",
    None,
    OutreachPerson.returned_on.is_not(None),
)
src_ventures = _source(
    OutreachVenture.business_id, OutreachVenture.district, OutreachVenture.started_on, "date"
)
src_introduced = _source(
    IntroducedTalent.id,
    IntroducedTalent.district,
    IntroducedTalent.decided_on,
    "date",
    IntroducedTalent.category,
    IntroducedTalent.state == "recognised",
)


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
