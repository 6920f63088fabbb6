"""One-stop service (clause 3.7) and leaders' contact / coordination (clause 5.13).

Keyword-only functions over a Session; they never commit. Each change writes an audit record in the same
transaction (details: numbers and codes, never a name or personal number); people are told through the
outbox. Who may act is decided here from the caller's :class:`~xiangchuang.users.service.UserScope`:

- 窗口与超市目录: district reviewers for their district, the city office for any (a city-wide offering
  has no district); clerks read.
- 服务请求: an entrepreneur (applicant) requests for themself; a window clerk files one for a registry
  business of the district (事务代办); clerks and reviewers of the district accept (handler, optional
  purchase contract it counts against), complete or reject; the requester cancels while submitted and
  rates (1–5) once completed.
- 购买服务: district reviewers record a contract; completed requests linked to it are its deliveries, and
  no more requests can be linked than the contract's quantity.
- 领导干部联系企业 and 会商: clerks and reviewers of the district; the business (its applicant account)
  confirms or rejects a proposed resolution.

Default deadlines are the dated parameters ``services.*`` (policy/parameters/75_service_windows.yaml).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.audit.chain import record
from xiangchuang.chinatime import china_date
from xiangchuang.engine.districts import is_district
from xiangchuang.engine.parameters import ParameterSet, thaw
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.models import Business, Founder, Person, User
from xiangchuang.models.services import (
    OFFERING_CATEGORIES,
    VISIT_MODES,
    CoordinationMeeting,
    CoordinationTask,
    LiaisonAssignment,
    LiaisonOfficial,
    LiaisonProblem,
    LiaisonVisit,
    ProblemNote,
    ServiceOffering,
    ServicePurchase,
    ServiceRequest,
    ServiceWindow,
    StaffTraining,
)
from xiangchuang.outbox.service import enqueue
from xiangchuang.users.service import UserScope

CATEGORY_LABELS: Final = {
    "registration": "注册登记代办",
    "accounting": "代理记账",
    "legal": "法律咨询",
    "financing": "融资对接",
    "ecommerce": "电子商务",
    "angel_fund": "天使投资基金",
    "venture_fund": "创业投资基金",
    "policy": "政策咨询",
    "other": "其他",
}
assert set(CATEGORY_LABELS) == set(OFFERING_CATEGORIES)
MATTERS: Final = {
    "policy_consult": "政策咨询",
    "on_behalf": "事务代办",
    "registration": "注册登记",
    "subsidy": "补贴申领",
    "loan": "创业担保贷款",
    "training": "创业培训报名",
    "supermarket": "服务超市对接",
}
LEVEL_LABELS: Final = {"district": "区县政务服务中心", "town": "镇街政务服务中心"}
PROVIDER_KIND_LABELS: Final = {"public": "公共服务机构", "market": "签约市场化服务机构"}
REQUEST_STATE_LABELS: Final = {
    "submitted": "已提交",
    "accepted": "办理中",
    "completed": "已办结",
    "rejected": "不予办理",
    "cancelled": "已撤回",
}
PROBLEM_STATE_LABELS: Final = {
    "open": "待办理",
    "in_progress": "办理中",
    "resolved": "已办结待企业确认",
    "closed": "企业已确认解决",
}
TASK_STATE_LABELS: Final = {"open": "未完成", "done": "已完成"}
VISIT_MODE_LABELS: Final = {"on_site": "实地走访", "phone": "电话联系", "meeting": "座谈会"}
DEPARTMENTS: Final = {
    "hrss": "人力社保",
    "finance": "财政",
    "agriculture": "农业农村",
    "market": "市场监管",
    "tax": "税务",
    "commerce": "商务",
    "financial": "金融监管",
    "natural_resources": "规划自然资源",
    "town": "镇街",
    "other": "其他",
}
PROBLEM_CATEGORIES: Final = {
    "financing": "融资",
    "land": "用地用房",
    "labour": "用工",
    "policy": "政策落实",
    "market": "市场销售",
    "infrastructure": "水电路网",
    "permits": "审批办证",
    "other": "其他",
}
assert set(VISIT_MODE_LABELS) == set(VISIT_MODES)
STAFF_ROLES: Final = ("window_clerk", "district_reviewer")
MAX_TEXT: Final = 500


# --- small checks ------------------------------------------------------------------------------------------


def _key(value: str | None, what: str) -> str:
    """A number or login used for a lookup: trimmed; a control character or an over-long value finds nothing."""
    t = (value or "").strip()
    if len(t) > 60 or any(ord(c) < 32 for c in t):
        raise NotFound(f"{what}：{t[:60]!r} 不存在")
    return t


def _number(prefix: str, district: int | None, on: dt.date) -> str:
    # hyphens keep the digits in short runs (never mistaken for a card or ID number)
    return f"{prefix}-{district or 0}-{on:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _param_days(
    params: ParameterSet, name: str, on: dt.date, district: int | None, key: str | None = None
) -> int:
    value = thaw(params[name].value_at(on, district))
    if key is not None:
        value = value.get(key, value.get("other"))
    return int(value)


def _deadline(text: str | dt.date | None, default: dt.date, today: dt.date, what: str) -> dt.date:
    t = (text or "").strip() if isinstance(text, str) else text
    if not t:
        return default
    if isinstance(t, dt.date):
        day = t
    else:
        try:
            day = dt.date.fromisoformat(t)
        except ValueError:
            raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None
    if day < today:
        raise ValidationFailed(f"{what}：不能早于今天（{today.isoformat()}）")
    return day


def _staff(scope: UserScope, district: int, what: str) -> None:
    if scope.role not in STAFF_ROLES:
        raise Forbidden(f"只有街道/乡镇经办或区县审核人员可以{what}")
    if scope.district != district:
        raise Forbidden(f"无权{what}：记录属于区县 {district}，您的区县是 {scope.district}")


def _district_of(scope: UserScope, district: int | None) -> int:
    """The district a new staff record belongs to: the caller's, or (city office) the one given."""
    if scope.role == "city_admin":
        if district is None or not is_district(district):
            raise ValidationFailed("区县：须为重庆市的区县代码（如 500101）")
        return district
    if scope.district is None:
        raise Forbidden("您的账号没有所属区县，不能登记")
    if district is not None and district != scope.district:
        raise Forbidden(f"只能登记本区县（{scope.district}）的记录")
    return scope.district


def _audit(
    session: Session, audit_key: bytes, scope: UserScope, action: str, subject: str, district: int | None,
    now: dt.datetime, **details: Any,
) -> None:  # fmt: skip
    record(
        session, key=audit_key, actor=scope.login, actor_role=scope.role, action=f"services.{action}",
        subject=subject, district=district, details=details, at=now,
    )  # fmt: skip


def visible_districts(scope: UserScope) -> int | None:
    """The district a staff scope is limited to (None: the whole city). Others see no staff records."""
    if scope.level == "city":
        return None
    if scope.level in ("district", "street") and scope.district is not None:
        return scope.district
    raise Forbidden("您的角色无权查看服务与联系企业记录")


# --- windows and the catalogue -----------------------------------------------------------------------------


def create_window(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, name: str, level: str,
    district: int | None, street: str | None, centre: str, address: str, hours: str, handles: Iterable[str],
    staff_logins: Iterable[str],
) -> ServiceWindow:  # fmt: skip
    if scope.role not in ("district_reviewer", "city_admin"):
        raise Forbidden("只有区县审核人员或市级管理员可以设立服务窗口")
    d = _district_of(scope, district)
    level = fields.choice(level, "窗口层级", LEVEL_LABELS)
    town = fields.text(street, "所在镇街", 60, required=level == "town")
    if level == "district":
        town = None
    matters = sorted(set(handles))
    if not matters:
        raise ValidationFailed("办理事项：请至少选择一项")
    bad = [m for m in matters if m not in MATTERS]
    if bad:
        raise ValidationFailed(f"办理事项：不认识 {'、'.join(bad)}；可选 {'、'.join(MATTERS.values())}")
    logins = sorted({s.strip() for s in staff_logins if s.strip()})
    if logins:
        found = dict(
            session.execute(
                select(User.login, User.role).where(User.login.in_([_key(x, "窗口人员账号") for x in logins]))
            ).all()
        )
        missing = [x for x in logins if x not in found]
        if missing:
            raise ValidationFailed(f"窗口人员：账号 {'、'.join(missing)} 不存在")
        wrong = [x for x in logins if found[x] not in STAFF_ROLES]
        if wrong:
            raise ValidationFailed(f"窗口人员：账号 {'、'.join(wrong)} 不是经办或审核人员")
    window = ServiceWindow(
        window_no=_number("CK", d, china_date(now)), name=fields.required_text(name, "窗口名称", 120), level=level, district=d,
        street=town, centre=fields.required_text(centre, "所在政务服务中心", 120), address=fields.required_text(address, "地址", 200),
        hours=fields.required_text(hours, "办公时间", 120), handles=matters, staff_logins=logins, active=True,
    )  # fmt: skip
    session.add(window)
    session.flush()
    _audit(session, audit_key, scope, "window_create", f"svc_windows:{window.window_no}", d, now,
           level=level, handles=matters, staff=len(logins))  # fmt: skip
    return window


def create_offering(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, category: str, title: str,
    provider_name: str, provider_kind: str, district: int | None, description: str, fee_note: str,
) -> ServiceOffering:  # fmt: skip
    if scope.role == "city_admin":
        if district is not None and not is_district(district):
            raise ValidationFailed("区县：须为重庆市的区县代码，或留空表示全市")
        d = district
    elif scope.role == "district_reviewer":
        d = _district_of(scope, district)
    else:
        raise Forbidden("只有区县审核人员或市级管理员可以维护服务超市目录")
    offering = ServiceOffering(
        offering_no=_number("FW", d, china_date(now)), category=fields.choice(category, "服务类别", CATEGORY_LABELS),
        title=fields.required_text(title, "服务名称", 120), provider_name=fields.required_text(provider_name, "服务机构", 120),
        provider_kind=fields.choice(provider_kind, "机构性质", PROVIDER_KIND_LABELS), district=d,
        description=fields.required_text(description, "服务内容", 500), fee_note=fields.required_text(fee_note, "收费说明", 120), active=True,
    )  # fmt: skip
    session.add(offering)
    session.flush()
    _audit(session, audit_key, scope, "offering_create", f"svc_offerings:{offering.offering_no}", d, now,
           category=offering.category, provider_kind=offering.provider_kind)  # fmt: skip
    return offering


def withdraw(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    now: dt.datetime,
    kind: str,
    number: str,
) -> ServiceWindow | ServiceOffering:
    """Close a window or take a service off the catalogue (the record and its requests stay; audited)."""
    model: type[ServiceWindow] | type[ServiceOffering]
    if kind == "window":
        model, label = ServiceWindow, "服务窗口"
        row: Any = session.execute(
            select(ServiceWindow).where(ServiceWindow.window_no == _key(number, "窗口编号"))
        ).scalar()
    elif kind == "offering":
        model, label = ServiceOffering, "服务"
        row = session.execute(
            select(ServiceOffering).where(ServiceOffering.offering_no == _key(number, "服务编号"))
        ).scalar()
    else:
        raise ValidationFailed("撤销对象：须为窗口或服务")
    if row is None or (scope.level != "city" and row.district != scope.district):
        raise NotFound(f"{label} {number} 不存在")
    if scope.role not in ("district_reviewer", "city_admin") or (
        row.district is None and scope.role != "city_admin"
    ):
        raise Forbidden(f"只有区县审核人员（本区县）或市级管理员（全市服务）可以撤销{label}")
    if not row.active:
        raise InvalidTransition(f"{label} {number} 已撤销")
    row.active = False
    session.flush()
    _audit(
        session, audit_key, scope, f"{kind}_withdraw", f"{model.__tablename__}:{number}", row.district, now
    )
    return row  # type: ignore[no-any-return]


def windows(session: Session, *, district: int | None = None) -> list[ServiceWindow]:
    stmt = select(ServiceWindow).where(ServiceWindow.active.is_(True))
    if district is not None:
        stmt = stmt.where(ServiceWindow.district == district)
    return list(
        session.execute(
            stmt.order_by(ServiceWindow.district, ServiceWindow.level, ServiceWindow.id)
        ).scalars()
    )


def catalogue(
    session: Session, *, district: int | None = None, category: str | None = None
) -> list[ServiceOffering]:
    """Active offerings: city-wide ones and (with ``district``) that district's."""
    stmt = select(ServiceOffering).where(ServiceOffering.active.is_(True))
    if district is not None:
        stmt = stmt.where((ServiceOffering.district.is_(None)) | (ServiceOffering.district == district))
    if category:
        stmt = stmt.where(ServiceOffering.category == fields.choice(category, "服务类别", CATEGORY_LABELS))
    return list(session.execute(stmt.order_by(ServiceOffering.category, ServiceOffering.id)).scalars())


def _offering(session: Session, offering_no: str) -> ServiceOffering:
    o = session.execute(
        select(ServiceOffering).where(ServiceOffering.offering_no == _key(offering_no, "服务编号"))
    ).scalar()
    if o is None or not o.active:
        raise NotFound(f"服务 {offering_no} 不存在或已下架")
    return o


def business_by_no(session: Session, business_no: str) -> Business:
    b = session.execute(
        select(Business).where(Business.business_no == _key(business_no, "经营主体编号"))
    ).scalar()
    if b is None:
        raise NotFound(f"经营主体编号：登记库中没有 {business_no!r}")
    return b


# --- service requests --------------------------------------------------------------------------------------


def request_service(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, params: ParameterSet,
    offering_no: str, detail: str, business_no: str | None = None, window_no: str | None = None,
) -> ServiceRequest:  # fmt: skip
    """An entrepreneur requests a catalogue service; a clerk may file it for a registry business (代办)."""
    today = china_date(now)
    offering = _offering(session, offering_no)
    text = fields.required_text(detail, "需求说明", 500)
    on_behalf = None
    district: int | None
    if scope.role == "applicant":
        person_id, business_id = scope.person_id, scope.business_id
        if business_id is not None:
            district = session.execute(
                select(Business.district).where(Business.id == business_id)
            ).scalar_one()
        elif person_id is not None:
            district = session.execute(select(Person.hukou_district).where(Person.id == person_id)).scalar()
        else:
            district = None
        if district is None:
            raise ValidationFailed("您的账号尚未关联登记库中的人员或经营主体，请到服务窗口办理")
    elif scope.role == "window_clerk":
        business = business_by_no(session, business_no or "")
        if business.district != scope.district:
            raise Forbidden(f"只能为本区县的经营主体代办（该主体属于区县 {business.district}）")
        district, business_id, on_behalf = business.district, business.id, scope.login
        person_id = session.execute(
            select(Founder.person_id).where(Founder.business_id == business.id).order_by(Founder.id).limit(1)
        ).scalar()
    else:
        raise Forbidden("只有创业者本人或窗口经办（代办）可以提交服务请求")
    if offering.district is not None and offering.district != district:
        raise ValidationFailed(f"服务 {offering.offering_no} 只面向区县 {offering.district}")
    window = None
    if window_no:
        window = session.execute(
            select(ServiceWindow).where(ServiceWindow.window_no == _key(window_no, "受理窗口"))
        ).scalar()
        if window is None or window.district != district:
            raise ValidationFailed(f"受理窗口：本区县没有窗口 {window_no}")
    days = _param_days(params, "services.request_deadline_days", today, district, offering.category)
    req = ServiceRequest(
        request_no=_number("FQ", district, today), offering_id=offering.id, district=district,
        street=window.street if window else scope.street if on_behalf else None,
        window_id=window.id if window else None, person_id=person_id, business_id=business_id,
        requester_login=scope.login, on_behalf_by=on_behalf, detail=text, state="submitted",
        due_on=today + dt.timedelta(days=days), submitted_at=now,
    )  # fmt: skip
    session.add(req)
    session.flush()
    _audit(session, audit_key, scope, "request_submit", f"svc_requests:{req.request_no}", district, now,
           offering=offering.offering_no, on_behalf=bool(on_behalf), due_on=req.due_on.isoformat())  # fmt: skip
    enqueue(session, template="services.request_submitted", role="window_clerk", district=district,
            payload={"request_no": req.request_no, "offering": offering.title})  # fmt: skip
    return req


def get_request(session: Session, *, scope: UserScope, request_no: str) -> ServiceRequest:
    req = session.execute(
        select(ServiceRequest).where(ServiceRequest.request_no == _key(request_no, "服务请求编号"))
    ).scalar()
    if req is None or not can_see_request(scope, req):
        raise NotFound(f"服务请求 {request_no} 不存在")
    return req


def can_see_request(scope: UserScope, req: ServiceRequest) -> bool:
    if scope.level == "city":
        return True
    if scope.role == "applicant":
        return req.requester_login == scope.login or (
            scope.business_id is not None and req.business_id == scope.business_id
        )
    if scope.level == "street":
        return req.district == scope.district and (req.street is None or req.street == scope.street)
    return scope.level == "district" and req.district == scope.district


def _staff_request(session: Session, scope: UserScope, request_no: str, what: str) -> ServiceRequest:
    req = get_request(session, scope=scope, request_no=request_no)
    _staff(scope, req.district, what)
    return req


def accept_request(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, request_no: str,
    handler_login: str | None = None, purchase_no: str | None = None,
) -> ServiceRequest:  # fmt: skip
    req = _staff_request(session, scope, request_no, "受理服务请求")
    if req.state != "submitted":
        raise InvalidTransition(
            f"服务请求 {request_no} 当前为「{REQUEST_STATE_LABELS[req.state]}」，不能受理"
        )
    handler = (handler_login or "").strip() or scope.login
    h = session.execute(select(User).where(User.login == _key(handler, "承办人"))).scalar()
    if h is None or h.role not in STAFF_ROLES or h.district != req.district:
        raise ValidationFailed(f"承办人：{handler} 不是本区县的经办或审核人员")
    purchase = None
    if purchase_no:
        purchase = session.execute(
            select(ServicePurchase)
            .where(ServicePurchase.purchase_no == _key(purchase_no, "购买服务合同"))
            .with_for_update()
        ).scalar()
        if purchase is None or purchase.district != req.district:
            raise ValidationFailed(f"购买服务合同：本区县没有 {purchase_no}")
        if purchase.offering_id != req.offering_id:
            raise ValidationFailed(f"购买服务合同：{purchase_no} 购买的不是这项服务")
        today = china_date(now)
        if not purchase.start_on <= today <= purchase.end_on:
            raise ValidationFailed(
                f"购买服务合同：{purchase_no} 的服务期为 {purchase.start_on}–{purchase.end_on}，今天不在期内"
            )
        used = session.execute(
            select(func.count(ServiceRequest.id)).where(
                ServiceRequest.purchase_id == purchase.id, ServiceRequest.state.in_(("accepted", "completed"))
            )
        ).scalar_one()
        if used >= purchase.quantity:
            raise Conflict(f"购买服务合同：{purchase_no} 的 {purchase.quantity} 次服务已全部使用")
    req.state, req.handler_login, req.accepted_at = "accepted", handler, now
    req.purchase_id = purchase.id if purchase else None
    session.flush()
    _audit(session, audit_key, scope, "request_accept", f"svc_requests:{req.request_no}", req.district, now,
           handler=handler, purchase=purchase.purchase_no if purchase else None)  # fmt: skip
    enqueue(session, template="services.request_accepted", user=req.requester_login,
            payload={"request_no": req.request_no, "due_on": req.due_on.isoformat()})  # fmt: skip
    return req


def complete_request(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, request_no: str, outcome: str
) -> ServiceRequest:
    req = _staff_request(session, scope, request_no, "办结服务请求")
    if req.state != "accepted":
        raise InvalidTransition(
            f"服务请求 {request_no} 当前为「{REQUEST_STATE_LABELS[req.state]}」，须先受理才能办结"
        )
    req.outcome = fields.required_text(outcome, "办理结果", 500)
    req.state, req.closed_at = "completed", now
    session.flush()
    _audit(session, audit_key, scope, "request_complete", f"svc_requests:{req.request_no}", req.district, now,
           on_time=china_date(now) <= req.due_on)  # fmt: skip
    enqueue(session, template="services.request_completed", user=req.requester_login,
            payload={"request_no": req.request_no})  # fmt: skip
    return req


def reject_request(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, request_no: str, reason: str
) -> ServiceRequest:
    req = _staff_request(session, scope, request_no, "处理服务请求")
    if req.state not in ("submitted", "accepted"):
        raise InvalidTransition(
            f"服务请求 {request_no} 当前为「{REQUEST_STATE_LABELS[req.state]}」，不能不予办理"
        )
    req.outcome = fields.required_text(reason, "不予办理理由", 500)
    req.state, req.closed_at, req.purchase_id = "rejected", now, None
    session.flush()
    _audit(session, audit_key, scope, "request_reject", f"svc_requests:{req.request_no}", req.district, now)
    enqueue(session, template="services.request_rejected", user=req.requester_login,
            payload={"request_no": req.request_no})  # fmt: skip
    return req


def cancel_request(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, request_no: str
) -> ServiceRequest:
    req = get_request(session, scope=scope, request_no=request_no)
    if req.requester_login != scope.login:
        raise Forbidden("只有提交人可以撤回服务请求")
    if req.state != "submitted":
        raise InvalidTransition(f"服务请求 {request_no} 已{REQUEST_STATE_LABELS[req.state]}，不能撤回")
    req.state, req.closed_at = "cancelled", now
    session.flush()
    _audit(session, audit_key, scope, "request_cancel", f"svc_requests:{req.request_no}", req.district, now)
    return req


def rate_request(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, request_no: str,
    rating: int | str | None, comment: str | None = None,
) -> ServiceRequest:  # fmt: skip
    req = get_request(session, scope=scope, request_no=request_no)
    if scope.role != "applicant" or not (
        req.requester_login == scope.login
        or (scope.business_id is not None and req.business_id == scope.business_id)
    ):
        raise Forbidden("只有提出请求的创业者可以评价")
    if req.state != "completed":
        raise InvalidTransition(
            f"服务请求 {request_no} 当前为「{REQUEST_STATE_LABELS[req.state]}」，办结后才能评价"
        )
    if req.rating is not None:
        raise Conflict(f"服务请求 {request_no} 已评价（{req.rating} 星），不能重复评价")
    try:
        stars = int(str(rating).strip())
    except ValueError:
        stars = 0
    if not 1 <= stars <= 5:
        raise ValidationFailed("评价：须为 1–5 的整数（星）")
    req.rating, req.rating_comment, req.rated_at = (
        stars,
        fields.text(comment, "评价意见", 300, required=False),
        now,
    )
    session.flush()
    _audit(session, audit_key, scope, "request_rate", f"svc_requests:{req.request_no}", req.district, now,
           rating=stars)  # fmt: skip
    return req


def requests_for(session: Session, *, scope: UserScope, state: str | None = None) -> list[ServiceRequest]:
    stmt = select(ServiceRequest)
    if scope.role == "applicant":
        cond = ServiceRequest.requester_login == scope.login
        if scope.business_id is not None:
            cond = cond | (ServiceRequest.business_id == scope.business_id)
        stmt = stmt.where(cond)
    else:
        d = visible_districts(scope)
        if d is not None:
            stmt = stmt.where(ServiceRequest.district == d)
        if scope.level == "street":
            stmt = stmt.where((ServiceRequest.street.is_(None)) | (ServiceRequest.street == scope.street))
    if state:
        stmt = stmt.where(ServiceRequest.state == fields.choice(state, "状态", REQUEST_STATE_LABELS))
    return list(
        session.execute(stmt.order_by(ServiceRequest.submitted_at.desc(), ServiceRequest.id.desc())).scalars()
    )


# --- purchased services ------------------------------------------------------------------------------------


def create_purchase(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, contract_no: str,
    provider_name: str, offering_no: str, quantity: int | str, unit_price_fen: int, start_on: str | dt.date,
    end_on: str | dt.date,
) -> ServicePurchase:  # fmt: skip
    if scope.role != "district_reviewer" or scope.district is None:
        raise Forbidden("只有区县审核人员可以登记购买服务合同")
    offering = _offering(session, offering_no)
    if offering.district not in (None, scope.district):
        raise ValidationFailed(f"服务 {offering_no} 不面向本区县")
    try:
        qty = int(str(quantity).strip())
    except ValueError:
        qty = 0
    if not 1 <= qty <= 100000:
        raise ValidationFailed("购买数量：须为 1–100000 的整数（次）")
    if not 0 <= unit_price_fen <= 10**11:
        raise ValidationFailed("单价：须为 0–10 亿元之间的金额")
    start, end = fields.date(start_on, "服务期起"), fields.date(end_on, "服务期止")
    if end < start:
        raise ValidationFailed("服务期止：不能早于服务期起")
    purchase = ServicePurchase(
        purchase_no=_number("GM", scope.district, china_date(now)), district=scope.district,
        contract_no=fields.required_text(contract_no, "合同编号", 60), provider_name=fields.required_text(provider_name, "服务机构", 120),
        offering_id=offering.id, quantity=qty, unit_price_fen=unit_price_fen, start_on=start, end_on=end,
        created_by=scope.login,
    )  # fmt: skip
    session.add(purchase)
    session.flush()
    _audit(session, audit_key, scope, "purchase_create", f"svc_purchases:{purchase.purchase_no}", scope.district,
           now, offering=offering.offering_no, quantity=qty, unit_price_fen=unit_price_fen)  # fmt: skip
    return purchase


def purchase_progress(session: Session, *, district: int | None) -> list[dict[str, Any]]:
    """Each contract with its delivered (completed requests), in-progress and remaining counts."""
    delivered = func.sum(case((ServiceRequest.state == "completed", 1), else_=0))
    linked = func.sum(case((ServiceRequest.state.in_(("accepted", "completed")), 1), else_=0))
    stmt = (
        select(
            ServicePurchase,
            ServiceOffering.title,
            linked.label("linked"),
            delivered.label("delivered"),
        )
        .join(ServiceOffering, ServiceOffering.id == ServicePurchase.offering_id)
        .outerjoin(ServiceRequest, ServiceRequest.purchase_id == ServicePurchase.id)
        .group_by(ServicePurchase.id, ServiceOffering.title)
        .order_by(ServicePurchase.id.desc())
    )
    if district is not None:
        stmt = stmt.where(ServicePurchase.district == district)
    rows = session.execute(stmt).all()
    out = []
    for p, title, used, done in rows:
        done = int(done or 0)
        out.append(
            {
                "purchase": p,
                "offering_title": title,
                "delivered": done,
                "in_progress": int(used or 0) - done,
                "remaining": p.quantity - int(used or 0),
                "total_fen": p.quantity * p.unit_price_fen,
                "delivered_fen": done * p.unit_price_fen,
            }
        )
    return out


def get_purchase(session: Session, *, scope: UserScope, purchase_no: str) -> dict[str, Any]:
    d = visible_districts(scope)
    for row in purchase_progress(session, district=d):
        if row["purchase"].purchase_no == purchase_no:
            row["deliveries"] = list(
                session.execute(
                    select(ServiceRequest)
                    .where(ServiceRequest.purchase_id == row["purchase"].id)
                    .order_by(ServiceRequest.id)
                ).scalars()
            )
            return row
    raise NotFound(f"购买服务合同 {purchase_no} 不存在")


# --- grass-roots staff training ----------------------------------------------------------------------------


def record_staff_training(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, staff_name: str,
    staff_login: str | None, topic: str, organiser: str, trained_on: str | dt.date, hours: int | str,
    passed: bool, street: str | None = None,
) -> StaffTraining:  # fmt: skip
    if scope.role not in STAFF_ROLES or scope.district is None:
        raise Forbidden("只有经办或区县审核人员可以登记基层服务人员培训")
    day = fields.date(trained_on, "培训日期")
    if day > china_date(now):
        raise ValidationFailed("培训日期：不能晚于今天")
    try:
        h = int(str(hours).strip())
    except ValueError:
        h = 0
    if not 1 <= h <= 500:
        raise ValidationFailed("学时：须为 1–500 的整数")
    login = (staff_login or "").strip() or None
    if (
        login is not None
        and session.execute(select(User.id).where(User.login == _key(login, "人员账号"))).first() is None
    ):
        raise ValidationFailed(f"人员账号：{login} 不存在（没有账号的人员可留空）")
    row = StaffTraining(
        district=scope.district, street=fields.text(street, "所在镇街", 60, required=False) or scope.street,
        staff_name=fields.required_text(staff_name, "人员姓名", 60), staff_login=login, topic=fields.required_text(topic, "培训内容", 120),
        organiser=fields.required_text(organiser, "培训组织单位", 120), trained_on=day, hours=h, passed=bool(passed),
        recorded_by=scope.login,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _audit(session, audit_key, scope, "staff_training", f"svc_staff_trainings:{row.id}", scope.district, now,
           hours=h, passed=bool(passed))  # fmt: skip
    return row


def staff_trainings(session: Session, *, scope: UserScope) -> list[StaffTraining]:
    d = visible_districts(scope)
    stmt = select(StaffTraining).order_by(StaffTraining.trained_on.desc(), StaffTraining.id.desc())
    if d is not None:
        stmt = stmt.where(StaffTraining.district == d)
    return list(session.execute(stmt).scalars())


# --- leaders' contact (领导干部联系企业) -------------------------------------------------------------------


def create_official(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    now: dt.datetime,
    name: str,
    title: str,
    unit: str,
) -> LiaisonOfficial:
    if scope.role not in STAFF_ROLES or scope.district is None:
        raise Forbidden("只有经办或区县审核人员可以登记联系企业的领导干部")
    official = LiaisonOfficial(
        official_no=_number("GB", scope.district, china_date(now)), name=fields.required_text(name, "姓名", 60),
        title=fields.required_text(title, "职务", 60), unit=fields.required_text(unit, "单位", 120), district=scope.district, active=True,
    )  # fmt: skip
    session.add(official)
    session.flush()
    _audit(
        session,
        audit_key,
        scope,
        "official_create",
        f"svc_officials:{official.official_no}",
        scope.district,
        now,
    )
    return official


def _official(session: Session, scope: UserScope, official_no: str) -> LiaisonOfficial:
    o = session.execute(
        select(LiaisonOfficial).where(LiaisonOfficial.official_no == _key(official_no, "干部编号"))
    ).scalar()
    if o is None or (scope.level != "city" and o.district != scope.district):
        raise NotFound(f"领导干部 {official_no} 不存在")
    return o


def assign_official(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, official_no: str,
    business_no: str, since: str | dt.date | None = None,
) -> LiaisonAssignment:  # fmt: skip
    """Assign an official to a business; a previous official's open assignment ends (history kept)."""
    official = _official(session, scope, official_no)
    _staff(scope, official.district, "安排联系企业")
    business = business_by_no(session, business_no)
    if business.district != official.district:
        raise ValidationFailed(f"经营主体 {business_no} 不在区县 {official.district}，不能由该领导干部联系")
    if not official.active:
        raise ValidationFailed(f"领导干部 {official_no} 已停用")
    today = china_date(now)
    start = fields.date(since, "联系起始日期") if since else today
    current = session.execute(
        select(LiaisonAssignment)
        .where(LiaisonAssignment.business_id == business.id, LiaisonAssignment.until.is_(None))
        .with_for_update()
    ).scalar()
    if current is not None:
        if current.official_id == official.id:
            raise Conflict(f"领导干部 {official_no} 已在联系经营主体 {business_no}")
        if start < current.since:
            raise ValidationFailed(f"联系起始日期：不能早于上一任联系的起始日期 {current.since}")
        current.until, current.end_reason = start, "改由其他领导干部联系"
        session.flush()
    row = LiaisonAssignment(
        official_id=official.id, business_id=business.id, district=business.district, since=start,
        assigned_by=scope.login,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _audit(session, audit_key, scope, "official_assign", f"svc_assignments:{row.id}", business.district, now,
           official=official.official_no, business=business.business_no,
           replaced=current.id if current is not None else None)  # fmt: skip
    return row


def end_assignment(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, assignment_id: int, reason: str
) -> LiaisonAssignment:
    row = session.get(LiaisonAssignment, assignment_id)
    if row is None or (scope.level != "city" and row.district != scope.district):
        raise NotFound(f"联系安排 {assignment_id} 不存在")
    _staff(scope, row.district, "结束联系安排")
    if row.until is not None:
        raise InvalidTransition(f"联系安排 {assignment_id} 已于 {row.until} 结束")
    row.until, row.end_reason = max(china_date(now), row.since), fields.required_text(reason, "结束原因", 200)
    session.flush()
    _audit(session, audit_key, scope, "official_unassign", f"svc_assignments:{row.id}", row.district, now)
    return row


def record_visit(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, official_no: str,
    business_no: str, visited_on: str | dt.date, mode: str, summary: str,
) -> LiaisonVisit:  # fmt: skip
    official = _official(session, scope, official_no)
    _staff(scope, official.district, "登记走访")
    business = business_by_no(session, business_no)
    if business.district != official.district:
        raise ValidationFailed(f"经营主体 {business_no} 不在区县 {official.district}")
    day = fields.date(visited_on, "走访日期")
    if day > china_date(now):
        raise ValidationFailed("走访日期：不能晚于今天")
    visit = LiaisonVisit(
        visit_no=_number("ZF", business.district, day), official_id=official.id, business_id=business.id,
        district=business.district, visited_on=day, mode=fields.choice(mode, "走访方式", VISIT_MODE_LABELS),
        summary=fields.required_text(summary, "走访情况", 1000), recorded_by=scope.login,
    )  # fmt: skip
    session.add(visit)
    session.flush()
    _audit(session, audit_key, scope, "visit_record", f"svc_visits:{visit.visit_no}", business.district, now,
           official=official.official_no, business=business.business_no, mode=mode)  # fmt: skip
    return visit


def raise_problem(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, params: ParameterSet,
    business_no: str, category: str, description: str, owner_department: str, owner: str,
    due_on: str | dt.date | None = None, visit_no: str | None = None,
) -> LiaisonProblem:  # fmt: skip
    business = business_by_no(session, business_no)
    _staff(scope, business.district, "登记企业反映的问题")
    today = china_date(now)
    default = today + dt.timedelta(
        days=_param_days(params, "services.problem_deadline_days", today, business.district)
    )
    visit = None
    if visit_no:
        visit = session.execute(
            select(LiaisonVisit).where(LiaisonVisit.visit_no == _key(visit_no, "走访编号"))
        ).scalar()
        if visit is None or visit.business_id != business.id:
            raise ValidationFailed(f"走访记录：经营主体 {business_no} 没有走访 {visit_no}")
    official_id = (
        visit.official_id
        if visit
        else session.execute(
            select(LiaisonAssignment.official_id).where(
                LiaisonAssignment.business_id == business.id, LiaisonAssignment.until.is_(None)
            )
        ).scalar()
    )
    problem = LiaisonProblem(
        problem_no=_number("WT", business.district, today), business_id=business.id, district=business.district,
        official_id=official_id, visit_id=visit.id if visit else None,
        category=fields.choice(category, "问题类别", PROBLEM_CATEGORIES), description=fields.required_text(description, "问题描述", 1000),
        owner_department=fields.choice(owner_department, "责任部门", DEPARTMENTS), owner=fields.required_text(owner, "责任人", 60),
        raised_on=today, due_on=_deadline(due_on, default, today, "办结时限"), state="open", raised_by=scope.login,
    )  # fmt: skip
    session.add(problem)
    session.flush()
    _audit(session, audit_key, scope, "problem_raise", f"svc_problems:{problem.problem_no}", business.district, now,
           business=business.business_no, category=category, department=owner_department,
           due_on=problem.due_on.isoformat())  # fmt: skip
    return problem


def get_problem(session: Session, *, scope: UserScope, problem_no: str) -> LiaisonProblem:
    p = session.execute(
        select(LiaisonProblem).where(LiaisonProblem.problem_no == _key(problem_no, "问题编号"))
    ).scalar()
    if p is None:
        raise NotFound(f"问题 {problem_no} 不存在")
    if scope.role == "applicant":
        if scope.business_id != p.business_id:
            raise NotFound(f"问题 {problem_no} 不存在")
    elif scope.level != "city" and not (
        scope.level in ("district", "street") and scope.district == p.district
    ):
        raise NotFound(f"问题 {problem_no} 不存在")
    return p


def _note(
    session: Session, problem: LiaisonProblem, author: str, kind: str, note: str, now: dt.datetime
) -> None:
    session.add(ProblemNote(problem_id=problem.id, at=now, author=author, kind=kind, note=note))


def add_progress(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, problem_no: str, note: str,
    due_on: str | dt.date | None = None,
) -> LiaisonProblem:  # fmt: skip
    p = get_problem(session, scope=scope, problem_no=problem_no)
    _staff(scope, p.district, "登记办理进展")
    if p.state not in ("open", "in_progress"):
        raise InvalidTransition(
            f"问题 {problem_no} 当前为「{PROBLEM_STATE_LABELS[p.state]}」，不能再登记进展"
        )
    text = fields.required_text(note, "进展情况", 1000)
    old_due = p.due_on
    if due_on:
        p.due_on = _deadline(due_on, p.due_on, china_date(now), "调整后的办结时限")
    p.state = "in_progress"
    _note(session, p, scope.login, "progress", text, now)
    session.flush()
    _audit(session, audit_key, scope, "problem_progress", f"svc_problems:{p.problem_no}", p.district, now,
           due_changed=p.due_on != old_due, due_on=p.due_on.isoformat())  # fmt: skip
    return p


def resolve_problem(
    session: Session,
    *,
    scope: UserScope,
    audit_key: bytes,
    now: dt.datetime,
    problem_no: str,
    resolution: str,
) -> LiaisonProblem:
    p = get_problem(session, scope=scope, problem_no=problem_no)
    _staff(scope, p.district, "办结问题")
    if p.state not in ("open", "in_progress"):
        raise InvalidTransition(f"问题 {problem_no} 当前为「{PROBLEM_STATE_LABELS[p.state]}」，不能办结")
    p.resolution, p.resolved_on, p.state = (
        fields.required_text(resolution, "解决情况", 1000),
        china_date(now),
        "resolved",
    )
    _note(session, p, scope.login, "resolution", p.resolution, now)
    session.flush()
    _audit(session, audit_key, scope, "problem_resolve", f"svc_problems:{p.problem_no}", p.district, now,
           on_time=p.resolved_on <= p.due_on)  # fmt: skip
    for login in session.execute(
        select(User.login).where(User.business_id == p.business_id, User.role == "applicant")
    ).scalars():
        enqueue(
            session, template="services.problem_resolved", user=login, payload={"problem_no": p.problem_no}
        )
    return p


def confirm_resolution(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, problem_no: str, accept: bool,
    note: str | None = None,
) -> LiaisonProblem:  # fmt: skip
    """The business confirms the resolution (closed) or rejects it with a reason (back to 办理中)."""
    if scope.role != "applicant":
        raise Forbidden("只有反映问题的企业（创业者账号）可以确认解决情况")
    p = get_problem(session, scope=scope, problem_no=problem_no)
    if p.state != "resolved":
        raise InvalidTransition(
            f"问题 {problem_no} 当前为「{PROBLEM_STATE_LABELS[p.state]}」，办结后才能确认"
        )
    if accept:
        p.state, p.confirmed_on, p.confirmed_by = "closed", china_date(now), scope.login
        _note(
            session,
            p,
            scope.login,
            "confirmed",
            fields.text(note, "意见", 500, required=False) or "企业确认问题已解决",
            now,
        )
    else:
        text = fields.required_text(note, "不认可的理由", 500)
        p.state, p.resolved_on = "in_progress", None
        _note(session, p, scope.login, "rejected", text, now)
        enqueue(session, template="services.problem_reopened", role="district_reviewer", district=p.district,
                payload={"problem_no": p.problem_no})  # fmt: skip
    session.flush()
    _audit(session, audit_key, scope, "problem_confirm" if accept else "problem_reject",
           f"svc_problems:{p.problem_no}", p.district, now)  # fmt: skip
    return p


def problems_for(session: Session, *, scope: UserScope, state: str | None = None) -> list[LiaisonProblem]:
    stmt = select(LiaisonProblem)
    if scope.role == "applicant":
        if scope.business_id is None:
            return []
        stmt = stmt.where(LiaisonProblem.business_id == scope.business_id)
    else:
        d = visible_districts(scope)
        if d is not None:
            stmt = stmt.where(LiaisonProblem.district == d)
    if state:
        stmt = stmt.where(LiaisonProblem.state == fields.choice(state, "状态", PROBLEM_STATE_LABELS))
    return list(session.execute(stmt.order_by(LiaisonProblem.due_on, LiaisonProblem.id)).scalars())


def problem_notes(session: Session, problem_id: int) -> list[ProblemNote]:
    return list(
        session.execute(
            select(ProblemNote)
            .where(ProblemNote.problem_id == problem_id)
            .order_by(ProblemNote.at, ProblemNote.id)
        ).scalars()
    )


def is_overdue(due_on: dt.date, state: str, today: dt.date) -> bool:
    return state in ("open", "in_progress") and today > due_on


# --- coordination (会商机制) -------------------------------------------------------------------------------


def record_meeting(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, title: str, held_on: str | dt.date,
    convener: str, departments: Iterable[str], decisions: Iterable[str],
) -> CoordinationMeeting:  # fmt: skip
    if scope.role not in STAFF_ROLES or scope.district is None:
        raise Forbidden("只有经办或区县审核人员可以登记会商会议")
    day = fields.date(held_on, "会议日期")
    if day > china_date(now):
        raise ValidationFailed("会议日期：不能晚于今天")
    depts = sorted(set(departments))
    if len(depts) < 2:
        raise ValidationFailed("参会部门：会商须至少两个部门参加")
    for d in depts:
        fields.choice(d, "参会部门", DEPARTMENTS)
    items = [t.strip() for t in decisions if t.strip()]
    if not items:
        raise ValidationFailed("议定事项：至少填写一项")
    if any(len(t) > 500 or "\x00" in t for t in items):
        raise ValidationFailed("议定事项：每项最多 500 个字，不能含有空字符")
    meeting = CoordinationMeeting(
        meeting_no=_number("HS", scope.district, day), district=scope.district, held_on=day,
        title=fields.required_text(title, "会议名称", 120), convener=fields.required_text(convener, "召集人", 60), departments=depts,
        decisions=items, recorded_by=scope.login,
    )  # fmt: skip
    session.add(meeting)
    session.flush()
    _audit(session, audit_key, scope, "meeting_record", f"svc_meetings:{meeting.meeting_no}", scope.district, now,
           departments=depts, decisions=len(items))  # fmt: skip
    return meeting


def get_meeting(session: Session, *, scope: UserScope, meeting_no: str) -> CoordinationMeeting:
    m = session.execute(
        select(CoordinationMeeting).where(CoordinationMeeting.meeting_no == _key(meeting_no, "会议编号"))
    ).scalar()
    d = visible_districts(scope)
    if m is None or (d is not None and m.district != d):
        raise NotFound(f"会商会议 {meeting_no} 不存在")
    return m


def assign_task(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, params: ParameterSet,
    meeting_no: str, department: str, owner: str, description: str, due_on: str | dt.date | None = None,
) -> CoordinationTask:  # fmt: skip
    m = get_meeting(session, scope=scope, meeting_no=meeting_no)
    _staff(scope, m.district, "分解会商任务")
    dept = fields.choice(department, "责任部门", DEPARTMENTS)
    today = china_date(now)
    default = max(
        m.held_on
        + dt.timedelta(days=_param_days(params, "services.task_deadline_days", m.held_on, m.district)),
        today,
    )
    task = CoordinationTask(
        task_no=_number("RW", m.district, today), meeting_id=m.id, district=m.district, department=dept,
        owner=fields.required_text(owner, "责任人", 60), description=fields.required_text(description, "任务内容", 500),
        due_on=_deadline(due_on, default, today, "完成时限"), state="open",
    )  # fmt: skip
    session.add(task)
    session.flush()
    _audit(session, audit_key, scope, "task_assign", f"svc_tasks:{task.task_no}", m.district, now,
           meeting=m.meeting_no, department=dept, due_on=task.due_on.isoformat())  # fmt: skip
    enqueue(session, template="services.task_assigned", role="district_reviewer", district=m.district,
            payload={"task_no": task.task_no, "department": DEPARTMENTS[dept]})  # fmt: skip
    return task


def complete_task(
    session: Session, *, scope: UserScope, audit_key: bytes, now: dt.datetime, task_no: str, note: str
) -> CoordinationTask:
    task = session.execute(
        select(CoordinationTask).where(CoordinationTask.task_no == _key(task_no, "任务编号"))
    ).scalar()
    d = visible_districts(scope)
    if task is None or (d is not None and task.district != d):
        raise NotFound(f"会商任务 {task_no} 不存在")
    _staff(scope, task.district, "办结会商任务")
    if task.state != "open":
        raise InvalidTransition(f"会商任务 {task_no} 已于 {task.done_on} 完成")
    task.state, task.done_on, task.done_by = "done", china_date(now), scope.login
    task.done_note = fields.required_text(note, "完成情况", 500)
    session.flush()
    _audit(session, audit_key, scope, "task_done", f"svc_tasks:{task.task_no}", task.district, now,
           on_time=task.done_on <= task.due_on)  # fmt: skip
    return task


def meetings_for(session: Session, *, scope: UserScope) -> list[CoordinationMeeting]:
    d = visible_districts(scope)
    stmt = select(CoordinationMeeting).order_by(
        CoordinationMeeting.held_on.desc(), CoordinationMeeting.id.desc()
    )
    if d is not None:
        stmt = stmt.where(CoordinationMeeting.district == d)
    return list(session.execute(stmt).scalars())


def tasks_for(session: Session, *, scope: UserScope, meeting_id: int | None = None) -> list[CoordinationTask]:
    d = visible_districts(scope)
    stmt = select(CoordinationTask).order_by(CoordinationTask.due_on, CoordinationTask.id)
    if d is not None:
        stmt = stmt.where(CoordinationTask.district == d)
    if meeting_id is not None:
        stmt = stmt.where(CoordinationTask.meeting_id == meeting_id)
    return list(session.execute(stmt).scalars())
