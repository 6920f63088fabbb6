"""What the community services share: who may act (a :class:`UserScope`), audit, lookups, text checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.audit.chain import record
from xiangchuang.engine.districts import district_by_code
from xiangchuang.errors import Forbidden, NotFound, ValidationFailed
from xiangchuang.models import Business, Person
from xiangchuang.users.service import UserScope

STAFF_ROLES: Final = ("window_clerk", "district_reviewer", "city_admin")
REVIEW_ROLES: Final = ("district_reviewer", "city_admin")


def district_label(code: int | None) -> str:
    if code is None:
        return "全市"
    try:
        return district_by_code(code).name
    except (KeyError, ValueError):
        return f"未知区县（{code}）"


def require_staff(scope: UserScope, roles: tuple[str, ...] = STAFF_ROLES) -> None:
    if scope.role not in roles:
        raise Forbidden("您的角色无权办理此项业务")


def require_district(scope: UserScope, district: int) -> None:
    """The record's district must be in the user's scope (city sees all, district staff their own)."""
    if scope.level == "city":
        return
    if scope.level in ("district", "street") and scope.district == district:
        return
    raise Forbidden(f"{district_label(district)}的记录不在您的管辖范围内")


def check_district(code: int, field: str = "区县") -> int:
    return fields.district(code, field)


def visible_districts(scope: UserScope) -> int | None:
    """None: every district (city); else the one district a district or street user works for."""
    if scope.level == "city":
        return None
    if scope.level in ("district", "street") and scope.district is not None:
        return scope.district
    raise Forbidden("您的账号没有区县范围，不能查看本项业务")


def not_future(day: dt.date, today: dt.date, field: str) -> dt.date:
    if day > today:
        raise ValidationFailed(f"{field}：不能晚于今天（{today.isoformat()}）")
    return day


def business_by_no(session: Session, business_no: str) -> Business:
    b = session.execute(select(Business).where(Business.business_no == business_no)).scalar_one_or_none()
    if b is None:
        raise NotFound(f"主体编号 {business_no} 不存在")
    return b


def person_by_no(session: Session, person_no: str) -> Person:
    p = session.execute(select(Person).where(Person.person_no == person_no)).scalar_one_or_none()
    if p is None:
        raise NotFound(f"人员编号 {person_no} 不存在")
    return p


def audit(
    session: Session,
    key: bytes,
    scope: UserScope,
    action: str,
    subject: str,
    *,
    district: int | None,
    details: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> None:
    record(
        session,
        key=key,
        actor=scope.login,
        actor_role=scope.role,
        action=action,
        subject=subject,
        details=details,
        district=district,
        at=at,
    )
