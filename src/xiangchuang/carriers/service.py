"""The carriers service: keyword-only functions over a Session (never commit).

- Carriers (返乡创业园, 创业孵化基地, 孵化服务指导站（联络站）, 农村电商公共服务中心, 快递物流园区) with
  place, level and its dates, capacity, numbered workstations, services offered and the operating
  organisation (``operator_org_code`` = the carrier_operator accounts' ``users.org_code``).
- Each carrier's reduction schedule (by year of tenancy: rent / property fee / utilities, percent) is
  entered as structured steps, validated here and stored in the engine's own format
  (``carrier_rent_reduction``'s ``parse_schedule`` reads it back: one definition).
- Tenants (registry businesses) with workstation, monthly rent / property fee / utilities; Excel import
  all-or-nothing.
- Monthly bills: the reduction of every tenant's bill is computed by the engine's
  ``carrier_rent_reduction`` over the registry facts (assembled as for a review) with the month's amounts;
  the bill stores the engine's status and Chinese explanation.
- Free workstations: ``free_workstation`` decides on the registry facts of the person; a refusal raises
  :class:`ValidationFailed` with the engine's reason. Term (parameter ``free_workstation.term_months``,
  the city's value as in the engine) and renewal (the engine decides again, the workstation being renewed not counting as "already held").
- Ratings with their evidence (district staff); awards through the application workflow (kind
  ``carrier_award``, the operator organisation is the applicant ``org:<code>``).

Every change writes an audit record (codes and ids only) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.applications import attachments
from xiangchuang.applications import service as applications
from xiangchuang.audit import record
from xiangchuang.carriers import repository as repo
from xiangchuang.carriers.repository import Actor
from xiangchuang.chinatime import china_date
from xiangchuang.engine.dates import OutOfRange, add_months_scalar, check_supported, check_year
from xiangchuang.engine.dates import parse_month as month_number
from xiangchuang.engine.districts import is_district
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.facts import Col
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.engine.programs import BY_ID
from xiangchuang.engine.schedule import ScheduleError, parse_schedule
from xiangchuang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xiangchuang.models import (
    Application,
    Carrier,
    CarrierBill,
    CarrierRating,
    Person,
    Tenancy,
    Workstation,
    WorkstationAllocation,
)
from xiangchuang.models.carriers import CARRIER_KINDS, CARRIER_LEVELS, RATINGS
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.matching import evaluate
from xiangchuang.registry.repository import Scope

KIND_LABELS: Final = {
    "returning_park": "返乡创业园",
    "incubator": "创业孵化基地",
    "station": "孵化服务指导站（联络站）",
    "ecommerce_center": "农村电商公共服务中心",
    "logistics_park": "快递物流园区",
}
LEVEL_LABELS: Final = {"national": "国家级", "municipal": "市级", "district": "区县级"}
SERVICE_LABELS: Final = {
    "policy": "政策咨询",
    "registration": "登记代办",
    "training": "创业培训",
    "mentoring": "创业指导",
    "finance": "融资对接",
    "ecommerce": "电商运营",
    "logistics": "仓储物流",
    "marketing": "市场推广",
}
RATING_LABELS: Final = {"A": "A（优秀）", "B": "B（良好）", "C": "C（合格）", "none": "不合格（无等次）"}
STATUS_LABELS: Final = {"eligible": "减免", "ineligible": "不减免", "undetermined": "待核实（不减免）"}
MAX_WORKSTATIONS: Final = 2000
MAX_FEE_FEN: Final = 10_000_000_00  # ten million yuan a month: a sanity bound on one bill line
TENANT_COLUMNS: Final = (
    "经营主体编号",
    "入驻日期",
    "工位号",
    "月场租（元）",
    "月物业费（元）",
    "月水电费（元）",
)
assert set(KIND_LABELS) == set(CARRIER_KINDS) and set(LEVEL_LABELS) == set(CARRIER_LEVELS)
assert set(RATING_LABELS) == set(RATINGS)


def _audit(
    session: Session,
    actor: Actor,
    key: bytes,
    action: str,
    subject: str,
    district: int | None,
    at: dt.datetime,
    **details: Any,
) -> None:
    record(
        session,
        key=key,
        actor=actor.id,
        actor_role=actor.role,
        action=action,
        subject=subject,
        details=details,
        district=district,
        at=at,
    )


# ---- scope -------------------------------------------------------------------------------------------


def _check_read(actor: Actor, carrier: Carrier) -> None:
    if actor.role in repo.CITY_ROLES:
        return
    if actor.role in repo.DISTRICT_ROLES and actor.district == carrier.district:
        return
    if actor.role == "carrier_operator" and actor.org_code and actor.org_code == carrier.operator_org_code:
        return
    raise Forbidden("无权查看该载体（不在您的辖区或不是您运营的载体）")


def _check_staff(actor: Actor, district: int) -> None:
    if actor.role not in repo.STAFF_ROLES:
        raise Forbidden("只有区县人社审核或街道/乡镇经办人员可以办理此项")
    if actor.district != district:
        raise Forbidden(f"无权办理其他区县（{district}）的载体事项")


def _check_manage(actor: Actor, carrier: Carrier) -> None:
    """Tenants, workstations and bills: the carrier's operator, or staff of its district."""
    if actor.role == "carrier_operator":
        if actor.org_code and actor.org_code == carrier.operator_org_code:
            return
        raise Forbidden("只能办理本单位运营的载体")
    _check_staff(actor, carrier.district)


def get_carrier(session: Session, *, carrier_no: str, actor: Actor) -> Carrier:
    carrier = repo.carrier_by_no(session, carrier_no)
    if carrier is None:
        raise NotFound(f"载体编号：{carrier_no} 不存在")
    _check_read(actor, carrier)
    return carrier


# ---- parsing helpers (forms, API and Excel share them) -------------------------------------------------


def yuan_to_fen(value: object, what: str) -> int:
    """Yuan (text or number, at most two decimals, ≥ 0) → integer fen."""
    text = str(value if value is not None else "").strip().replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"{what}：须为金额（元，最多两位小数）") from None
    cents = amount * 100
    if not amount.is_finite() or amount < 0 or cents != cents.to_integral_value():
        raise ValidationFailed(f"{what}：须为不小于 0 的金额，最多两位小数")
    fen = int(cents)
    if fen > MAX_FEE_FEN:
        raise ValidationFailed(f"{what}：金额过大（每月不超过 1000 万元）")
    return fen


def _supported_date(d: dt.date, what: str) -> dt.date:
    """``d`` when it lies in the supported range (``engine.dates.check_supported``, README choice 28),
    else :class:`ValidationFailed` with the range's one wording naming ``what``
    (「入驻日期 2100-01-01 超出范围，须在1900-01-01至2099-12-31之间」). Every service below that takes a
    date a user enters (a form, the API, an Excel row) passes it here before anything is written."""
    try:
        return check_supported(d)
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule(what)) from None


def parse_date(value: object, what: str) -> dt.date:
    """A date as a form or an Excel cell gives it (its range: the service that takes it, ``_supported_date``)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None


def parse_month(value: object) -> int:
    """'2025-03' or 202503 → 202503: a bill month is an input month, one of the supported range
    (``engine.dates.parse_month``, README choice 28). No earlier bound of its own (it was 2000, which
    no rule names): whether a month's bill has a reduction is the engine's, by its dated parameters,
    and a month not yet begun is refused by ``generate_bills`` (a business rule). The text is a
    month's text form (``engine.dates.MONTH_TEXT``) or six ASCII digits YYYYMM, spaces around it
    trimmed (a form field): every hyphen was dropped before, so 「20-2503」 and 「2025-0-3」 read as
    2025-03, and full-width digits were taken."""
    text = str(value or "").strip()
    try:
        if len(text) == 7 and text[4] == "-":  # YYYY-MM: exactly a case's month text
            month_number(text)
            text = text[:4] + text[5:]
        elif len(text) != 6 or not (text.isascii() and text.isdigit()):
            raise ValueError(text)
        else:
            month_number(int(text))
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule("账单月份")) from None
    except ValueError:
        raise ValidationFailed("账单月份：须为 YYYY-MM（如 2025-03）") from None
    return int(text)


def month_label(month: int) -> str:
    return f"{month // 100}-{month % 100:02d}"


# ---- the reduction schedule --------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleStep:
    """One year of tenancy: the percentages off rent, property fee and utilities (0–100, 2 decimals)."""

    year: int
    rent_pct: Decimal
    property_pct: Decimal
    utilities_pct: Decimal


def _pct(value: object, what: str) -> Decimal:
    try:
        pct = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationFailed(f"{what}：须为 0–100 的百分比（最多两位小数）") from None
    if not pct.is_finite() or not 0 <= pct <= 100 or pct != pct.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{what}：须为 0–100 的百分比（最多两位小数）")
    return pct


def validate_schedule(steps: Sequence[Mapping[str, Any]]) -> str:
    """Structured steps → the engine's schedule text (validated; years 1..n, each once, in order).

    Each step: ``year`` (入驻第几年), ``rent`` / ``property`` / ``utilities`` (percent off, 0–100).
    An empty list clears the carrier's own schedule (the default parameter schedule applies)."""
    if len(steps) > 20:
        raise ValidationFailed("减免方案：最多 20 个年次")
    parsed: list[ScheduleStep] = []
    for i, step in enumerate(steps, start=1):
        raw_year = str(step.get("year", "")).strip()
        if not raw_year.isdigit() or int(raw_year) != i:
            raise ValidationFailed(f"减免方案第 {i} 行：入驻年次须依次为 1、2、3……（此行应为 {i}）")
        parsed.append(
            ScheduleStep(
                i,
                _pct(step.get("rent", ""), f"减免方案第 {i} 年场租减免比例"),
                _pct(step.get("property", ""), f"减免方案第 {i} 年物业费减免比例"),
                _pct(step.get("utilities", ""), f"减免方案第 {i} 年水电费减免比例"),
            )
        )
    text = ";".join(
        f"{s.year}:{s.rent_pct.normalize():f}/{s.property_pct.normalize():f}/{s.utilities_pct.normalize():f}"
        for s in parsed
    )
    try:
        parse_schedule(text)  # the engine's reader must accept exactly what is stored
    except ScheduleError as exc:
        raise ValidationFailed(str(exc)) from None
    return text


def schedule_steps(carrier: Carrier) -> tuple[list[dict[str, Any]], str | None]:
    """The carrier's own schedule as rows (percent), via the engine's parser; [] = none (default
    applies). A schedule stored before the reader became stricter (e.g. a skipped year) is not read:
    no rows and the reader's Chinese message, so that the page says so instead of failing (the
    engine treats its tenants' reduction as undetermined until the schedule is saved again)."""
    if not carrier.schedule:
        return [], None
    try:
        steps = parse_schedule(carrier.schedule)
    except ScheduleError as exc:
        return (
            [],
            f"保存的减免方案“{carrier.schedule}”无法读取：{exc}；在驻经营主体的场租减免暂为待定，请重新保存减免方案",
        )
    return [
        {"year": y, "rent": r / 100, "property": p / 100, "utilities": u / 100} for y, r, p, u in steps
    ], None


def default_schedule(params: ParameterSet, on: dt.date) -> list[dict[str, Any]]:
    from xiangchuang.engine.parameters import thaw

    rows = thaw(params["carrier_rent_reduction.default_schedule"].value_at(on))
    return [
        {
            "year": int(r["year"]),
            "rent": int(r["rent"]) / 100,
            "property": int(r["property"]) / 100,
            "utilities": int(r["utilities"]) / 100,
        }
        for r in rows
    ]


# ---- carriers ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CarrierInput:
    carrier_no: str
    name: str
    kind: str
    level: str
    district: int
    address: str
    capacity: int
    services: tuple[str, ...] = ()
    operator: str | None = None
    operator_org_code: str | None = None
    district_date: dt.date | None = None
    municipal_date: dt.date | None = None
    national_date: dt.date | None = None
    workstations: int = 0  # numbered 001…n
    free_workstations: int = 0  # the first n of them are free workstations


def _recognition(level: str) -> str:
    """The name of a level's recognition date (认定为市级载体日期 …)."""
    return f"认定为{LEVEL_LABELS[level]}载体日期"


def _validate_carrier(data: CarrierInput) -> None:
    if not data.carrier_no.strip() or len(data.carrier_no) > 40:
        raise ValidationFailed("载体编号：不能为空，且不超过 40 个字符")
    if not data.name.strip() or len(data.name) > 120:
        raise ValidationFailed("载体名称：不能为空，且不超过 120 个字符")
    if data.kind not in KIND_LABELS:
        raise ValidationFailed(f"载体类型：须为 {'、'.join(KIND_LABELS.values())} 之一")
    if data.level not in LEVEL_LABELS:
        raise ValidationFailed("载体级别：须为 国家级、市级 或 区县级")
    if not is_district(data.district):
        raise ValidationFailed(f"所在区县：{data.district} 不是重庆市的区县代码")
    if not data.address.strip() or len(data.address) > 200:
        raise ValidationFailed("载体地址：不能为空，且不超过 200 个字符")
    if not 1 <= data.capacity <= 10000:
        raise ValidationFailed("容纳企业数（capacity）：须为 1–10000 的整数")
    bad = [s for s in data.services if s not in SERVICE_LABELS]
    if bad:
        raise ValidationFailed(
            f"服务项目：{'、'.join(bad)} 不在可选范围（{'、'.join(SERVICE_LABELS.values())}）"
        )
    if not 0 <= data.workstations <= MAX_WORKSTATIONS:
        raise ValidationFailed(f"工位数：须为 0–{MAX_WORKSTATIONS} 的整数")
    if not 0 <= data.free_workstations <= data.workstations:
        raise ValidationFailed("免费工位数：须为 0 到工位数之间的整数")
    for level, day in (
        ("district", data.district_date),
        ("municipal", data.municipal_date),
        ("national", data.national_date),
    ):
        if day is not None:
            _supported_date(day, _recognition(level))
    if data.level == "national" and data.national_date is None:
        raise ValidationFailed("认定为国家级载体日期：国家级载体须填写")
    if data.level in ("national", "municipal") and data.municipal_date is None:
        raise ValidationFailed("认定为市级载体日期：市级及以上载体须填写")
    if data.municipal_date and data.national_date and data.national_date < data.municipal_date:
        raise ValidationFailed("认定为国家级载体日期：不能早于认定为市级载体日期")
    if data.operator_org_code is not None and not (1 <= len(data.operator_org_code) <= 20):
        raise ValidationFailed("运营单位代码：1–20 个字符")


def create_carrier(
    session: Session, *, data: CarrierInput, actor: Actor, audit_key: bytes, now: dt.datetime | None = None
) -> Carrier:
    """Register a carrier with its workstations (district staff of the carrier's district)."""
    at = fields.now_utc(now)
    _validate_carrier(data)
    _check_staff(actor, data.district)
    carrier = Carrier(
        carrier_no=data.carrier_no.strip(),
        name=data.name.strip(),
        kind=data.kind,
        level=data.level,
        district=data.district,
        address=data.address.strip(),
        capacity=data.capacity,
        services=",".join(data.services) or None,
        operator=(data.operator or "").strip() or None,
        operator_org_code=(data.operator_org_code or "").strip() or None,
        district_date=data.district_date,
        municipal_date=data.municipal_date,
        national_date=data.national_date,
    )
    try:
        with session.begin_nested():
            session.add(carrier)
            session.flush()
    except IntegrityError:
        raise Conflict(f"载体编号：{data.carrier_no} 已存在") from None
    for i in range(1, data.workstations + 1):
        session.add(Workstation(carrier_id=carrier.id, number=f"{i:03d}", free=i <= data.free_workstations))
    session.flush()
    _audit(
        session,
        actor,
        audit_key,
        "carrier.create",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        kind=carrier.kind,
        level=carrier.level,
        workstations=data.workstations,
    )
    return carrier


def update_carrier(
    session: Session,
    *,
    carrier_no: str,
    name: str,
    address: str,
    capacity: int,
    services: Sequence[str],
    operator: str | None,
    operator_org_code: str | None,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Carrier:
    """Change a carrier's name, place, capacity, services and operator (district staff). The capacity
    cannot fall below the tenants in residence today."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_staff(actor, carrier.district)
    data = CarrierInput(
        carrier_no=carrier.carrier_no,
        name=name,
        kind=carrier.kind,
        level=carrier.level,
        district=carrier.district,
        address=address,
        capacity=capacity,
        services=tuple(services),
        operator=operator,
        operator_org_code=(operator_org_code or "").strip() or None,
        municipal_date=carrier.municipal_date,
        national_date=carrier.national_date,
    )
    _validate_carrier(data)
    tenants = len(repo.tenancies(session, carrier.id, on=china_date(at)))
    if capacity < tenants:
        raise ValidationFailed(f"容纳企业数（capacity）：不能少于目前在驻的 {tenants} 家企业")
    carrier.name, carrier.address, carrier.capacity = name.strip(), address.strip(), capacity
    carrier.services = ",".join(services) or None
    carrier.operator = (operator or "").strip() or None
    carrier.operator_org_code = data.operator_org_code
    _audit(
        session,
        actor,
        audit_key,
        "carrier.update",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        capacity=capacity,
        services=carrier.services,
        operator_org_code=carrier.operator_org_code,
    )
    return carrier


def set_level(
    session: Session,
    *,
    carrier_no: str,
    level: str,
    on: dt.date,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Carrier:
    """Record a (new) recognition level and its date (区县级 / 市级 / 国家级)."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_staff(actor, carrier.district)
    if level not in LEVEL_LABELS:
        raise ValidationFailed("载体级别：须为 国家级、市级 或 区县级")
    _supported_date(on, _recognition(level))
    if level == "national":
        if carrier.municipal_date is None:
            raise ValidationFailed("载体级别：须先认定为市级载体，才能认定为国家级")
        if on < carrier.municipal_date:
            raise ValidationFailed("认定日期：国家级认定日期不能早于市级认定日期")
        carrier.national_date = on
    elif level == "municipal":
        carrier.municipal_date = on
    else:
        carrier.district_date = on
    carrier.level = level
    _audit(
        session,
        actor,
        audit_key,
        "carrier.level",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        level=level,
        on=on.isoformat(),
    )
    return carrier


def set_schedule(
    session: Session,
    *,
    carrier_no: str,
    steps: Sequence[Mapping[str, Any]],
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Carrier:
    """The carrier's own reduction schedule (operator or district staff)."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    text = validate_schedule(steps)
    carrier.schedule = text or None
    _audit(
        session,
        actor,
        audit_key,
        "carrier.schedule",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        schedule=text,
    )
    return carrier


def add_workstations(
    session: Session,
    *,
    carrier_no: str,
    count: int,
    free: bool,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> list[Workstation]:
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    existing = repo.workstations(session, carrier.id)
    if not 1 <= count <= MAX_WORKSTATIONS - len(existing):
        raise ValidationFailed(f"新增工位数：须为 1–{MAX_WORKSTATIONS - len(existing)} 的整数")
    numbers = {w.number for w in existing}
    made: list[Workstation] = []
    i = 0
    while len(made) < count:
        i += 1
        number = f"{i:03d}"
        if number in numbers:
            continue
        w = Workstation(carrier_id=carrier.id, number=number, free=free)
        session.add(w)
        made.append(w)
    session.flush()
    _audit(
        session,
        actor,
        audit_key,
        "carrier.workstations",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        added=count,
        free=free,
    )
    return made


# ---- tenants -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TenantInput:
    business_no: str
    start: dt.date
    workstation: str | None
    rent_fen: int
    property_fee_fen: int
    utilities_fen: int


def _add_tenant(session: Session, carrier: Carrier, data: TenantInput, taken: dict[str, str]) -> Tenancy:
    _supported_date(data.start, "入驻日期")
    business = repo.business_by_no(session, data.business_no)
    if business is None:
        raise ValidationFailed(f"经营主体编号：{data.business_no} 不在登记库中（请先在登记库登记该主体）")
    active = repo.tenancies(session, carrier.id, on=data.start)
    if any(t.business_id == business.id for t, _ in active):
        raise ValidationFailed(f"经营主体编号：{data.business_no} 在 {data.start} 已是本载体的入驻企业")
    if carrier.capacity is not None and len(active) >= carrier.capacity:
        raise ValidationFailed(f"入驻企业数已达载体容量（{carrier.capacity} 家）")
    number = (data.workstation or "").strip() or None
    if number is not None:
        ws = repo.workstation(session, carrier.id, number)
        if ws is None:
            raise ValidationFailed(f"工位号：{number} 不是本载体的工位")
        if ws.free:
            raise ValidationFailed(f"工位号：{number} 是免费创业工位，须经“分配免费工位”（政策引擎判定）使用")
        if number in taken:
            raise ValidationFailed(f"工位号：{number} 已被占用（{taken[number]}）")
    for what, fen in (
        ("月场租", data.rent_fen),
        ("月物业费", data.property_fee_fen),
        ("月水电费", data.utilities_fen),
    ):
        if not 0 <= fen <= MAX_FEE_FEN:
            raise ValidationFailed(f"{what}：须为 0–1000 万元的金额")
    tenancy = Tenancy(
        business_id=business.id,
        carrier_id=carrier.id,
        start=data.start,
        workstation=number,
        rent_fen=data.rent_fen,
        property_fee_fen=data.property_fee_fen,
        utilities_fen=data.utilities_fen,
    )
    try:
        with session.begin_nested():
            session.add(tenancy)
            session.flush()
    except IntegrityError:
        raise Conflict(f"经营主体编号：{data.business_no} 已有同一入驻日期的入驻记录") from None
    if number is not None:
        taken[number] = business.business_no
    return tenancy


def add_tenant(
    session: Session,
    *,
    carrier_no: str,
    data: TenantInput,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Tenancy:
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    tenancy = _add_tenant(session, carrier, data, repo.occupied_numbers(session, carrier.id, data.start))
    _audit(
        session,
        actor,
        audit_key,
        "carrier.tenant.add",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        business=data.business_no,
        tenancy=tenancy.id,
        workstation=tenancy.workstation,
    )
    return tenancy


def end_tenancy(
    session: Session,
    *,
    carrier_no: str,
    tenancy_id: int,
    end: dt.date,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Tenancy:
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    tenancy = session.get(Tenancy, tenancy_id)
    if tenancy is None or tenancy.carrier_id != carrier.id:
        raise NotFound(f"入驻记录 {tenancy_id} 不存在")
    if tenancy.end is not None:
        raise Conflict("该入驻记录已退出")
    _supported_date(end, "退出日期")
    if end < tenancy.start:
        raise ValidationFailed("退出日期：不能早于入驻日期")
    tenancy.end = end
    _audit(
        session,
        actor,
        audit_key,
        "carrier.tenant.end",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        tenancy=tenancy.id,
        end=end.isoformat(),
    )
    return tenancy


@dataclass
class ImportReport:
    rows: int
    errors: list[str]


def import_tenants(
    session: Session,
    *,
    carrier_no: str,
    content: bytes,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> ImportReport:
    """Tenants from an .xlsx sheet (columns :data:`TENANT_COLUMNS`, one header row). Every row is
    checked; any error → nothing is written and every error is reported (row, column, rule)."""
    from openpyxl import load_workbook

    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise ValidationFailed("文件：不是有效的 Excel（.xlsx）文件") from None
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    if not rows or tuple(str(c or "").strip() for c in rows[0][: len(TENANT_COLUMNS)]) != TENANT_COLUMNS:
        raise ValidationFailed(f"表头：须为 {'、'.join(TENANT_COLUMNS)}")
    body = [r for r in rows[1:] if any(c not in (None, "") for c in r)]
    if not body:
        raise ValidationFailed("文件中没有入驻企业数据行")
    if len(body) > 2000:
        raise ValidationFailed("一次最多导入 2000 行")
    errors: list[str] = []
    parsed: list[tuple[int, TenantInput]] = []
    for n, r in enumerate(rows[1:], start=2):
        if not any(c not in (None, "") for c in r):
            continue
        cells = list(r) + [None] * (len(TENANT_COLUMNS) - len(r))
        problems: list[str] = []

        def field(parse: Any, *args: Any, problems: list[str] = problems) -> Any:
            try:
                return parse(*args)
            except ValidationFailed as exc:
                problems.append(exc.message)
                return None

        no = str(cells[0] or "").strip()
        if not no:
            problems.append("经营主体编号：不能为空")
        start = field(parse_date, cells[1], "入驻日期")
        rent = field(yuan_to_fen, cells[3], "月场租（元）")
        prop = field(yuan_to_fen, cells[4], "月物业费（元）")
        util = field(yuan_to_fen, cells[5], "月水电费（元）")
        if problems:
            errors.append(f"第 {n} 行：" + "，".join(problems))
            continue
        number = str(cells[2]).strip() if cells[2] not in (None, "") else None
        parsed.append((n, TenantInput(no, start, number, rent, prop, util)))
    # Every parsed row is also checked against the registry and the carrier, in a savepoint rolled back
    # when any row (parsed or not) has an error: one report with every problem, nothing written.
    taken_by_date: dict[dt.date, dict[str, str]] = {}
    savepoint = session.begin_nested()
    for n, data in parsed:
        taken = taken_by_date.setdefault(data.start, repo.occupied_numbers(session, carrier.id, data.start))
        try:
            _add_tenant(session, carrier, data, taken)
        except (ValidationFailed, Conflict) as exc:
            errors.append(f"第 {n} 行：{exc.message}")
    if errors:
        savepoint.rollback()
        errors.sort(key=lambda e: int(e.split(" ")[1]))
        raise ValidationFailed("导入失败，未写入任何数据。" + "；".join(errors[:50]))
    savepoint.commit()
    _audit(
        session,
        actor,
        audit_key,
        "carrier.tenant.import",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        rows=len(parsed),
    )
    return ImportReport(len(parsed), [])


def tenants_template() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "入驻企业"
    ws.append(list(TENANT_COLUMNS))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- bills with the engine's reduction ----------------------------------------------------------------


def _engine_reason(doc: Mapping[str, Any]) -> str:
    status = doc["status"]
    conds = doc.get("conditions", [])
    if status == "eligible":
        sched = [c["message"] for c in conds if c["id"] == "within_schedule"]
        return "；".join([*sched, str(doc.get("amount_rule", ""))])
    if status == "ineligible":
        return "；".join(c["message"] for c in conds if c["status"] == "fail") or "不符合减免条件"
    missing = "、".join(m["label"] for m in doc.get("missing", []))
    return f"待核实：缺少 {missing or '所需信息'}（本月暂不减免）"


@dataclass(frozen=True)
class BillAmounts:
    rent_fen: int
    property_fee_fen: int
    utilities_fen: int


def _month_bounds(month: int) -> tuple[dt.date, dt.date]:
    first = dt.date(month // 100, month % 100, 1)
    return first, add_months_scalar(first, 1) - dt.timedelta(days=1)


def generate_bills(
    session: Session,
    *,
    carrier_no: str,
    month: int,
    params: ParameterSet,
    actor: Actor,
    audit_key: bytes,
    utilities: Mapping[str, int] | None = None,
    now: dt.datetime | None = None,
) -> list[CarrierBill]:
    """One bill per tenant in force during ``month`` (YYYYMM) that has none yet: the tenancy's monthly
    rent and property fee, the month's utilities (``utilities`` by business number, else the tenancy's
    monthly figure), and the reduction of the engine's ``carrier_rent_reduction`` evaluated on the later
    of the month's first day and the tenancy start (the year of tenancy is counted on that day)."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    first, last = _month_bounds(month)
    if first > china_date(at):
        raise ValidationFailed(f"账单月份：{month_label(month)} 尚未开始，不能出账")
    utilities = dict(utilities or {})
    for no, fen in utilities.items():
        if not 0 <= fen <= MAX_FEE_FEN:
            raise ValidationFailed(f"{no} 的本月水电费：须为 0–1000 万元的金额")
    existing = {b.tenancy_id for b, _ in repo.bills(session, carrier.id, month=month)}
    todo = [
        (t, b)
        for t, b in repo.tenancies(session, carrier.id)
        if t.start <= last and (t.end is None or t.end >= first) and t.id not in existing
    ]
    unknown = set(utilities) - {b.business_no for _, b in todo}
    if unknown:
        raise ValidationFailed(f"本月水电费：{'、'.join(sorted(unknown))} 不是本月待出账的入驻企业")
    by_day: dict[dt.date, list[tuple[Tenancy, Any]]] = {}
    for t, b in todo:
        by_day.setdefault(max(first, t.start), []).append((t, b))
    program = BY_ID["carrier_rent_reduction"]
    explainer = Explainer(params)
    made: list[CarrierBill] = []
    for on, group in sorted(by_day.items()):
        facts = assemble_facts(
            session, on=on, district=None, subjects=Scope(business_ids=tuple(b.id for _, b in group))
        )
        biz = facts.tables["businesses"]
        row_of = {str(v): i for i, v in enumerate(biz["id"].values)}
        amounts: dict[int, BillAmounts] = {}
        rent = np.zeros(biz.n, dtype=np.int64)
        prop = np.zeros(biz.n, dtype=np.int64)
        util = np.zeros(biz.n, dtype=np.int64)
        known = np.zeros(biz.n, dtype=bool)
        for t, b in group:
            a = BillAmounts(
                t.rent_fen or 0, t.property_fee_fen or 0, utilities.get(b.business_no, t.utilities_fen or 0)
            )
            amounts[t.id] = a
            i = row_of[b.business_no]
            rent[i], prop[i], util[i], known[i] = a.rent_fen, a.property_fee_fen, a.utilities_fen, True
        # The month's bill is the period the reduction applies to: the engine reads these amounts.
        biz["rent_fen"] = Col(rent, known.copy())
        biz["property_fee_fen"] = Col(prop, known.copy())
        biz["utilities_fen"] = Col(util, known.copy())
        outcomes = evaluate(facts, on=on, params=params, programs=(program,))
        outcome = outcomes[0] if outcomes else None
        carrier_ids = facts.tables["carriers"]["id"].values
        for t, b in group:
            a = amounts[t.id]
            gross = a.rent_fen + a.property_fee_fen + a.utilities_fen
            i = row_of[b.business_no]
            cuts = (0, 0, 0)
            year: int | None = None
            if outcome is None or not outcome.applies[i]:
                status, reason = "ineligible", "该企业在出账日不是载体的入驻企业"
            else:
                ref = outcome.ctx.t["carrier_id"]
                same = bool(ref.known[i]) and str(carrier_ids[int(ref.values[i])]) == carrier.carrier_no
                doc = explainer.program(outcome, i)
                status = str(doc["status"])
                reason = _engine_reason(doc)
                if not same:
                    status, reason = (
                        "undetermined",
                        "该企业同时入驻其他载体，按最近入驻的载体减免，本载体本月不减免",
                    )
                elif status == "eligible":
                    info = outcome.amount_out.info
                    cuts = (
                        int(np.asarray(info["rent_cut_fen"])[i]),
                        int(np.asarray(info["property_cut_fen"])[i]),
                        int(np.asarray(info["utilities_cut_fen"])[i]),
                    )
                    year = int(np.asarray(info["tenancy_year"])[i])
            reduction = sum(cuts)
            bill = CarrierBill(
                bill_no=f"ZD{month}{secrets.token_hex(4).upper()}",
                tenancy_id=t.id,
                carrier_id=carrier.id,
                business_id=b.id,
                month=month,
                rent_fen=a.rent_fen,
                property_fee_fen=a.property_fee_fen,
                utilities_fen=a.utilities_fen,
                gross_fen=gross,
                tenancy_year=year,
                rent_cut_fen=cuts[0],
                property_cut_fen=cuts[1],
                utilities_cut_fen=cuts[2],
                reduction_fen=reduction,
                due_fen=gross - reduction,
                status=status,
                reason=reason[:2000],
            )
            session.add(bill)
            made.append(bill)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(f"{month_label(month)} 的账单正在由他人生成，请刷新后重试") from None
    _audit(
        session,
        actor,
        audit_key,
        "carrier.bills.generate",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        month=month,
        bills=len(made),
        reduction_fen=sum(b.reduction_fen for b in made),
    )
    return made


def export_bills(session: Session, *, carrier_no: str, month: int | None, actor: Actor) -> bytes:
    """The carrier's bills (one month or all) as .xlsx, with a total row."""
    from openpyxl import Workbook

    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "账单"
    ws.append(
        [f"{carrier.name}（{carrier.carrier_no}）入驻企业账单" + (f" {month_label(month)}" if month else "")]
    )
    header = [
        "账单编号", "月份", "经营主体编号", "企业名称", "入驻年次", "场租（元）", "物业费（元）", "水电费（元）",
        "应收合计（元）", "场租减免（元）", "物业费减免（元）", "水电费减免（元）", "减免合计（元）", "实收（元）", "减免判定", "说明",
    ]  # fmt: skip
    ws.append(header)
    totals = [0] * 8
    for bill, b in repo.bills(session, carrier.id, month=month):
        money = [
            bill.rent_fen, bill.property_fee_fen, bill.utilities_fen, bill.gross_fen,
            bill.rent_cut_fen, bill.property_cut_fen, bill.utilities_cut_fen, bill.reduction_fen,
        ]  # fmt: skip
        for k, v in enumerate(money):
            totals[k] += v
        ws.append(
            [bill.bill_no, month_label(bill.month), b.business_no, b.name, bill.tenancy_year]
            + [Decimal(v) / 100 for v in money]
            + [Decimal(bill.due_fen) / 100, STATUS_LABELS.get(bill.status, bill.status), bill.reason]
        )
    ws.append(
        ["合计", "", "", "", ""] + [Decimal(v) / 100 for v in totals] + [Decimal(totals[3] - totals[7]) / 100]
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---- free workstations (engine: free_workstation) ------------------------------------------------------


def _decide_free_workstation(
    session: Session, person: Person, *, on: dt.date, params: ParameterSet, renewing: bool
) -> tuple[bool, str]:
    facts = assemble_facts(session, on=on, district=None, subjects=Scope(person_ids=(person.id,)))
    persons = facts.tables["persons"]
    rows = np.flatnonzero(persons["id"].values == person.person_no)
    if renewing and rows.size:
        # The workstation being renewed is the one the person holds: it does not count as "already held".
        held = persons["holds_free_workstation"]
        values = np.asarray(held.values).astype(bool).copy()
        known = np.asarray(held.known).copy()
        values[rows] = False
        known[rows] = True
        persons["holds_free_workstation"] = Col(values, known)
    if rows.size:
        # The allocation delivers a workstation; an approved application registered for the person is
        # the grant it may deliver, not a second one (README choice 85): the carrier's decision reads
        # only whether the person holds one, as before the register was read.
        granted = persons["free_workstation_received"]
        counts = np.asarray(granted.values, dtype=np.int64).copy()
        seen = np.asarray(granted.known).copy()
        counts[rows] = 0
        seen[rows] = True
        persons["free_workstation_received"] = Col(counts, seen)
    outcomes = evaluate(facts, on=on, params=params, programs=(BY_ID["free_workstation"],))
    if not outcomes or not rows.size:
        return False, "登记库中没有该人员，无法判定"
    i = int(rows[0])
    doc = Explainer(params).program(outcomes[0], i)
    status = doc["status"]
    if status == "eligible":
        passed = [c["message"] for c in doc["conditions"] if c["status"] == "pass"]
        return True, "；".join([*passed, str(doc.get("amount_rule", ""))])
    if status == "ineligible":
        failed = [
            c["message"] for c in doc["conditions"] if c["status"] == "fail" and c.get("group") != "any_of"
        ]
        if not failed:  # none of the alternatives passes
            alts = [c["message"] for c in doc["conditions"] if c.get("group") == "any_of"]
            failed = [f"不符合“{doc.get('any_of', {}).get('label', '')}”：" + "；".join(alts)]
        return False, "；".join(failed)
    missing = "、".join(m["label"] for m in doc.get("missing", []))
    return False, f"无法判定：登记库缺少 {missing or '所需信息'}，请先补充后再分配"


def _workstation_term(params: ParameterSet, on: dt.date) -> int:
    """A free workstation's term (months): the city's value, as the engine's ``free_workstation``
    quotes it and ``xiangchuang params --district`` shows it (its subject is a person, evaluated at
    the city's values; README choice 38): a district's value is not applied here either."""
    return int(params["free_workstation.term_months"].value_at(on))


def allocate_free_workstation(
    session: Session,
    *,
    carrier_no: str,
    person_no: str,
    start: dt.date,
    params: ParameterSet,
    actor: Actor,
    audit_key: bytes,
    workstation: str | None = None,
    now: dt.datetime | None = None,
) -> WorkstationAllocation:
    """Allocate a free workstation if the engine finds the person eligible on ``start``; otherwise
    :class:`ValidationFailed` with the engine's reason. Nothing is written on a refusal."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_manage(actor, carrier)
    _supported_date(start, "开始日期")
    person = repo.person_by_no(session, person_no)
    if person is None:
        raise ValidationFailed(f"人员编号：{person_no} 不在登记库中")
    held = repo.active_allocation_of(session, person.id, start)
    if held is not None:
        raise ValidationFailed(f"不予分配：该人员已在使用免费工位（{held.allocation_no}，至 {held.end}）")
    taken = repo.occupied_numbers(session, carrier.id, start)
    free = [w for w in repo.workstations(session, carrier.id) if w.free and w.number not in taken]
    if workstation:
        chosen = repo.workstation(session, carrier.id, workstation)
        if chosen is None or not chosen.free:
            raise ValidationFailed(f"工位号：{workstation} 不是本载体的免费工位")
        if chosen.number in taken:
            raise ValidationFailed(f"工位号：{workstation} 已被占用")
    elif free:
        chosen = free[0]
    else:
        raise ValidationFailed("本载体没有空闲的免费工位")
    ok, reason = _decide_free_workstation(session, person, on=start, params=params, renewing=False)
    if not ok:
        raise ValidationFailed(f"不予分配免费工位：{reason}")
    term = _workstation_term(params, start)
    alloc = WorkstationAllocation(
        allocation_no=f"GW{start:%Y%m}{secrets.token_hex(4).upper()}",
        workstation_id=chosen.id,
        carrier_id=carrier.id,
        person_id=person.id,
        start=start,
        end=add_months_scalar(start, term) - dt.timedelta(days=1),
        renewals=0,
        status="active",
        decision=reason[:2000],
    )
    session.add(alloc)
    person.holds_free_workstation = True
    session.flush()
    _audit(
        session,
        actor,
        audit_key,
        "carrier.free_workstation.allocate",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        allocation=alloc.allocation_no,
        person=person.person_no,
        workstation=chosen.number,
        term_months=term,
    )
    return alloc


def renew_allocation(
    session: Session,
    *,
    allocation_no: str,
    params: ParameterSet,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> WorkstationAllocation:
    """Extend by one more term from the day after the current end, if the engine (on that day) still
    finds the person eligible."""
    at = fields.now_utc(now)
    alloc = repo.allocation_by_no(session, allocation_no)
    if alloc is None:
        raise NotFound(f"工位分配编号：{allocation_no} 不存在")
    carrier = session.get(Carrier, alloc.carrier_id)
    assert carrier is not None
    _check_read(actor, carrier)
    _check_manage(actor, carrier)
    if alloc.status != "active":
        raise ValidationFailed("该免费工位已退出，不能续期")
    person = session.get(Person, alloc.person_id)
    assert person is not None
    new_start = alloc.end + dt.timedelta(days=1)
    ok, reason = _decide_free_workstation(session, person, on=new_start, params=params, renewing=True)
    if not ok:
        raise ValidationFailed(f"不予续期：{reason}")
    term = _workstation_term(params, new_start)
    alloc.end = add_months_scalar(new_start, term) - dt.timedelta(days=1)
    alloc.renewals += 1
    alloc.decision = reason[:2000]
    _audit(
        session,
        actor,
        audit_key,
        "carrier.free_workstation.renew",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        allocation=alloc.allocation_no,
        end=alloc.end.isoformat(),
    )
    return alloc


def end_allocation(
    session: Session,
    *,
    allocation_no: str,
    on: dt.date,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> WorkstationAllocation:
    at = fields.now_utc(now)
    alloc = repo.allocation_by_no(session, allocation_no)
    if alloc is None:
        raise NotFound(f"工位分配编号：{allocation_no} 不存在")
    carrier = session.get(Carrier, alloc.carrier_id)
    assert carrier is not None
    _check_read(actor, carrier)
    _check_manage(actor, carrier)
    if alloc.status != "active":
        raise ValidationFailed("该免费工位已退出")
    _supported_date(on, "退出日期")
    if on < alloc.start:
        raise ValidationFailed("退出日期：不能早于开始日期")
    alloc.status, alloc.ended_on, alloc.end = "ended", on, min(alloc.end, on)
    person = session.get(Person, alloc.person_id)
    if person is not None:
        person.holds_free_workstation = False
    _audit(
        session,
        actor,
        audit_key,
        "carrier.free_workstation.end",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        allocation=alloc.allocation_no,
    )
    return alloc


# ---- ratings and awards -------------------------------------------------------------------------------


def record_rating(
    session: Session,
    *,
    carrier_no: str,
    year: int,
    rating: str,
    evidence: str,
    actor: Actor,
    audit_key: bytes,
    score: int | None = None,
    now: dt.datetime | None = None,
) -> CarrierRating:
    """A yearly performance rating with its evidence (district staff). One per carrier and year."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _check_staff(actor, carrier.district)
    today = china_date(at)
    try:  # (an input year: one of the supported range, README choice 28)
        check_year(year)
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule("评估年度")) from None
    if year >= today.year:  # (the business rule: a year is rated once it has ended)
        raise ValidationFailed(f"评估年度：须为已结束的年度（{today.year - 1}年及以前）")
    if rating not in RATING_LABELS:
        raise ValidationFailed("评估等次：须为 A、B、C 或 不合格（none）")
    evidence = evidence.strip()
    if not 4 <= len(evidence) <= 2000:
        raise ValidationFailed("评估依据：须填写评估报告文号及结论摘要（4–2000 个字符）")
    if score is not None and not 0 <= score <= 100:
        raise ValidationFailed("评估得分：须为 0–100 的整数")
    from xiangchuang.audit import contains_personal_number

    if contains_personal_number(evidence):
        raise ValidationFailed("评估依据：不得包含身份证号、手机号或银行卡号")
    row = CarrierRating(
        carrier_id=carrier.id,
        year=year,
        rating=rating,
        score=score,
        evidence=evidence,
        rated_on=today,
        recorded_by=actor.id[:60],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(f"{carrier.carrier_no} 的 {year} 年度评估等次已登记") from None
    _audit(
        session,
        actor,
        audit_key,
        "carrier.rating",
        f"carriers:{carrier.carrier_no}",
        carrier.district,
        at,
        year=year,
        rating=rating,
    )
    return row


def _operator(actor: Actor, carrier: Carrier) -> None:
    if actor.role != "carrier_operator" or not actor.org_code or actor.org_code != carrier.operator_org_code:
        raise Forbidden("只有该载体的运营单位可以申请载体奖补")


def apply_award(
    session: Session,
    *,
    carrier_no: str,
    year: int,
    actor: Actor,
    audit_key: bytes,
    note: str = "",
    now: dt.datetime | None = None,
) -> Application:
    """A draft ``carrier_award`` application for ``year`` by the carrier's operator (the workflow's
    applicant is the organisation, ``org:<code>``)."""
    at = fields.now_utc(now)
    carrier = get_carrier(session, carrier_no=carrier_no, actor=actor)
    _operator(actor, carrier)
    last = china_date(at).year - 1
    if year != last:
        # One applies for the last completed year (its rating is recorded early in the next year); the
        # review, publicity and approval judge the performance award of the year applied for, with
        # that year's rating, whenever they happen (applications.service._claim_period_facts).
        raise ValidationFailed(
            f"申请年度：载体奖补按上一完整年度申请，须为 {last}（绩效奖补按该年度的评估等次判定）"
        )
    return applications.create_application(
        session,
        kind="carrier_award",
        subject_key=carrier.carrier_no,
        period=str(year),
        district=carrier.district,
        applicant_user=actor.applicant_id,
        actor=actor.applicant_id,
        role="applicant",
        actor_district=None,
        audit_key=audit_key,
        form={"载体": carrier.name, "说明": note.strip()[:500]},
        now=at,
    )


def _award_app(session: Session, application_id: int, actor: Actor) -> Application:
    app = session.get(Application, application_id)
    if app is None or app.kind != "carrier_award":
        raise NotFound(f"载体奖补申请 {application_id} 不存在")
    carrier = get_carrier(session, carrier_no=app.subject_key, actor=actor)
    _operator(actor, carrier)
    return app


def upload_award_material(
    session: Session,
    *,
    application_id: int,
    material: str,
    filename: str,
    content: bytes,
    actor: Actor,
    audit_key: bytes,
    data_dir: Any = None,
    now: dt.datetime | None = None,
) -> None:
    _award_app(session, application_id, actor)
    attachments.upload(
        session,
        application_id=application_id,
        material=material,
        filename=filename,
        content=content,
        actor=actor.applicant_id,
        role="applicant",
        actor_district=None,
        audit_key=audit_key,
        data_dir=data_dir,
        now=now,
    )


def submit_award(
    session: Session,
    *,
    application_id: int,
    actor: Actor,
    audit_key: bytes,
    params: ParameterSet,
    now: dt.datetime | None = None,
) -> Application:
    _award_app(session, application_id, actor)
    result = applications.submit(
        session,
        application_id=application_id,
        actor=actor.applicant_id,
        role="applicant",
        actor_district=None,
        audit_key=audit_key,
        params=params,
        now=now,
    )
    return result.application


def award_applications(session: Session, carrier: Carrier) -> list[Application]:
    from sqlalchemy import select

    return list(
        session.scalars(
            select(Application)
            .where(Application.kind == "carrier_award", Application.subject_key == carrier.carrier_no)
            .order_by(Application.id.desc())
        )
    )


# ---- summaries ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Occupancy:
    total: int
    used: int
    free_total: int
    free_used: int
    tenants: int


def occupancy(session: Session, carrier: Carrier, on: dt.date) -> Occupancy:
    ws = repo.workstations(session, carrier.id)
    taken = repo.occupied_numbers(session, carrier.id, on)
    return Occupancy(
        total=len(ws),
        used=sum(1 for w in ws if w.number in taken),
        free_total=sum(1 for w in ws if w.free),
        free_used=sum(1 for w in ws if w.free and w.number in taken),
        tenants=len(repo.tenancies(session, carrier.id, on=on)),
    )
