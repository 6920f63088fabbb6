"""Outreach to local people working elsewhere (clause 4.12): the register with consent and retention, the
contact log and campaigns, returns and the businesses returnees start, introduced talent and their
families' public-service requests, and the 乡情 talent pool.

Keyword-only functions over a Session; they never commit. Every state change writes one audit record in
the same transaction (details: codes and ids, never personal data); so does every view of an unmasked
contact (:func:`reveal_contact`). Names, mobiles and other contacts of the register are SM4 ciphertexts
(field cipher) with an HMAC blind index on the mobile; lists show masked values only.

Who may do what: 街道/乡镇 window clerks (their street) and district staff (their district) keep the
register, campaigns, contacts and talent records; recognising introduced talent is a district reviewer's
decision (not the proposer's own); the purge runs as a scheduled command.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy import Engine, Select, delete, func, or_, select, text
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.audit import record
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.ids import mask_phone, validate_mobile
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import (
    Business,
    Employment,
    FamilyServiceRequest,
    Founder,
    HometownTalent,
    IntroducedTalent,
    OutreachCampaign,
    OutreachContact,
    OutreachPerson,
    OutreachVenture,
    Person,
    User,
)
from xiangchuang.models.outreach import (
    CONSENT_CHANNELS,
    CONTACT_ANSWERS,
    CONTACT_METHODS,
    FAMILY_KINDS,
    INTRODUCED_CATEGORIES,
    TALENT_KINDS,
)


class _Districted(Protocol):
    district: Any


R = TypeVar("R", bound=_Districted)

NAME_FIELD: Final = "outreach.name"
PHONE_FIELD: Final = "outreach.phone"
OTHER_FIELD: Final = "outreach.other_contact"
STAFF_ROLES: Final = ("window_clerk", "district_reviewer")
DECIDER_ROLE: Final = "district_reviewer"
RETENTION_PARAM: Final = "outreach.retention_months"
FAMILY_DAYS_PARAM: Final = "outreach.family_request_days"
PURGE_ACTOR: Final = "system:outreach-purge"

CHANNEL_LABELS: Final = {"phone": "电话", "sms": "短信", "wechat": "微信", "visit": "上门走访"}
METHOD_LABELS: Final = {**CHANNEL_LABELS, "event": "座谈/活动现场"}
ANSWER_LABELS: Final = {
    "no_answer": "未接通/未回复",
    "not_now": "暂无返乡打算",
    "interested": "有意向，需进一步了解政策",
    "will_return": "计划返乡（创业/就业）",
    "returned": "已返乡",
    "declined": "不愿再被联系",
}
STATUS_LABELS: Final = {"away": "在外", "returned": "已返乡"}
OCCASION_LABELS: Final = {
    "spring_festival": "春节返乡走访/座谈",
    "mid_autumn": "中秋国庆联络",
    "routine": "日常联络",
    "other": "其他",
}
TALENT_LABELS: Final = {
    "tian_xiucai": "田秀才",
    "tu_zhuanjia": "土专家",
    "xiang_chuangke": "乡创客",
    "nenggong_qiaojiang": "能工巧匠",
}
CATEGORY_LABELS: Final = {"technical": "技术人才", "management": "管理人才"}
INTRODUCED_LABELS: Final = {"pending": "待认定", "recognised": "已认定", "refused": "不予认定"}
FAMILY_LABELS: Final = {
    "schooling": "子女入学",
    "housing": "住房保障",
    "medical_insurance_transfer": "医保转移接续",
}
FAMILY_STATE_LABELS: Final = {
    "open": "已登记，待责任部门受理",
    "in_progress": "责任部门办理中",
    "answered": "已答复",
}

_NAME = re.compile(r"[\u4e00-\u9fff·A-Za-z ]{2,30}")
_SEP = re.compile(r"[，,、;；\s]+")

assert set(CHANNEL_LABELS) == set(CONSENT_CHANNELS) and set(METHOD_LABELS) == set(CONTACT_METHODS)
assert set(ANSWER_LABELS) == set(CONTACT_ANSWERS) and set(TALENT_LABELS) == set(TALENT_KINDS)
assert set(CATEGORY_LABELS) == set(INTRODUCED_CATEGORIES) and set(FAMILY_LABELS) == set(FAMILY_KINDS)


# --- who acts ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """A member of staff: login, role, district and (for a 街道/乡镇 clerk) street."""

    login: str
    role: str
    district: int | None
    street: str | None = None

    @property
    def audit(self) -> dict[str, Any]:
        return {"actor": self.login, "actor_role": self.role, "district": self.district}


def actor_of(user: User) -> Actor:
    if user.role not in STAFF_ROLES or user.district is None or user.disabled:
        raise Forbidden("外出人员联络：只有区县人社工作人员和街道/乡镇经办人员可以办理")
    street = user.street if user.role == "window_clerk" else None
    return Actor(user.login, user.role, user.district, street)


def scoped_people(stmt: Select[Any], actor: Actor) -> Select[Any]:
    """The register rows the actor may see: their district, and for a street clerk their town only."""
    stmt = stmt.where(OutreachPerson.district == actor.district)
    if actor.street:
        stmt = stmt.where(OutreachPerson.home_town == actor.street)
    return stmt


def _person_in_scope(session: Session, actor: Actor, person_id: int) -> OutreachPerson:
    row = session.get(OutreachPerson, person_id)
    if (
        row is None
        or row.district != actor.district
        or (actor.street is not None and row.home_town != actor.street)
    ):
        raise NotFound(f"外出人员登记 {person_id} 不存在（或不在您的辖区）")
    return row


def person_by_ref(session: Session, *, actor: Actor, ref_no: str) -> OutreachPerson:
    stmt = scoped_people(select(OutreachPerson), actor).where(OutreachPerson.ref_no == ref_no.strip())
    row: OutreachPerson | None = session.execute(stmt).scalar_one_or_none()
    if row is None:
        raise ValidationFailed("外出人员登记编号：不在本辖区登记中")
    return row


# --- input ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonInput:
    """One register entry as typed (a form, the API or an Excel row)."""

    name: str
    phone: str
    home_town: str
    work_place: str
    trade: str
    skills: str
    consent_on: str | dt.date
    consent_scope: str | Iterable[str]
    other_contact: str = ""


@dataclass(frozen=True)
class CleanPerson:
    name: str
    phone: str  # E.164
    home_town: str
    work_place: str
    trade: str
    skills: str
    consent_on: dt.date
    consent_scope: tuple[str, ...]
    other_contact: str


_CHANNEL_BY_LABEL: Final = {**{v: k for k, v in CHANNEL_LABELS.items()}, **{k: k for k in CHANNEL_LABELS}}


def parse_scope(value: str | Iterable[str]) -> tuple[str, ...]:
    parts = [p for p in _SEP.split(value.strip())] if isinstance(value, str) else [str(p) for p in value]
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        code = _CHANNEL_BY_LABEL.get(p)
        if code is None:
            raise ValueError(p)
        if code not in out:
            out.append(code)
    return tuple(sorted(out, key=CONSENT_CHANNELS.index))


def _text_field(value: str, label: str, low: int, high: int, errors: list[tuple[str, str]], key: str) -> str:
    t = (value or "").strip()
    if not low <= len(t) <= high:
        need = f"不能为空，且不超过 {high} 个字" if low else f"不超过 {high} 个字"
        errors.append((key, f"{label}：{need}"))
    return t


def check_person(data: PersonInput, *, today: dt.date) -> tuple[CleanPerson | None, list[tuple[str, str]]]:
    """Validate one entry; returns the clean entry or every (field, Chinese message) problem."""
    errors: list[tuple[str, str]] = []
    name = (data.name or "").strip()
    if not _NAME.fullmatch(name):
        errors.append(("name", "姓名：须为 2–30 个汉字或字母"))
    phone = ""
    try:
        phone = validate_mobile((data.phone or "").strip())
    except ValueError:
        errors.append(("phone", "手机号：不是有效的中国大陆手机号"))
    town = _text_field(data.home_town, "家乡乡镇/街道", 1, 60, errors, "home_town")
    place = _text_field(data.work_place, "务工地", 1, 120, errors, "work_place")
    trade = _text_field(data.trade, "从事行业", 1, 60, errors, "trade")
    skills = ",".join(s for s in _SEP.split((data.skills or "").strip()) if s)
    if len(skills) > 400:
        errors.append(("skills", "技能：不超过 400 个字"))
    other = _text_field(data.other_contact, "其他联系方式", 0, 60, errors, "other_contact")
    consent_on: dt.date | None = None
    if isinstance(data.consent_on, dt.date):
        consent_on = data.consent_on
    else:
        try:
            consent_on = dt.date.fromisoformat(str(data.consent_on or "").strip()[:10])
        except ValueError:
            errors.append(("consent_on", "同意联系日期：须为日期 YYYY-MM-DD"))
    if consent_on is not None and consent_on > today:
        errors.append(("consent_on", f"同意联系日期：不能晚于今天（{today.isoformat()}）"))
    scope: tuple[str, ...] = ()
    try:
        scope = parse_scope(data.consent_scope)
    except ValueError as exc:
        errors.append(("consent_scope", f"同意的联系方式：“{exc}”不是可选项（电话、短信、微信、上门走访）"))
    else:
        if not scope:
            errors.append(("consent_scope", "同意的联系方式：至少选择一种（电话、短信、微信、上门走访）"))
    if errors or consent_on is None:
        return None, errors
    return CleanPerson(name, phone, town, place, trade, skills, consent_on, scope, other), []


def _raise(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise ValidationFailed("；".join(m for _, m in errors))


# --- the register -----------------------------------------------------------------------------------------


def _ref_no(today: dt.date) -> str:
    return f"WC{today:%Y%m%d}{secrets.token_hex(4).upper()}"


def _new_person(cipher: FieldCipher, clean: CleanPerson, *, actor: Actor, today: dt.date) -> OutreachPerson:
    assert actor.district is not None
    return OutreachPerson(
        ref_no=_ref_no(today),
        district=actor.district,
        home_town=clean.home_town,
        work_place=clean.work_place,
        trade=clean.trade,
        skills=clean.skills,
        name_enc=cipher.encrypt(clean.name, NAME_FIELD),
        phone_enc=cipher.encrypt(clean.phone, PHONE_FIELD),
        phone_bidx=cipher.blind_index(clean.phone, PHONE_FIELD),
        other_contact_enc=cipher.encrypt(clean.other_contact, OTHER_FIELD) if clean.other_contact else None,
        consent_on=clean.consent_on,
        consent_scope=",".join(clean.consent_scope),
        status="away",
        created_by=actor.login,
    )


def _street_check(actor: Actor, town: str) -> None:
    if actor.street and town != actor.street:
        raise Forbidden(f"家乡乡镇/街道：您只能登记本街道/乡镇（{actor.street}）的人员")


def register_person(
    session: Session,
    *,
    actor: Actor,
    cipher: FieldCipher,
    data: PersonInput,
    audit_key: bytes,
    today: dt.date,
) -> OutreachPerson:
    clean, errors = check_person(data, today=today)
    _raise(errors)
    assert clean is not None
    _street_check(actor, clean.home_town)
    bidx = cipher.blind_index(clean.phone, PHONE_FIELD)
    if session.execute(select(OutreachPerson.id).where(OutreachPerson.phone_bidx == bidx)).first():
        raise Conflict("手机号：该手机号已在外出人员登记中（不重复登记）")
    row = _new_person(cipher, clean, actor=actor, today=today)
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.person.register",
        subject=f"outreach_people:{row.id}",
        details={"ref_no": row.ref_no, "consent_scope": list(clean.consent_scope), "source": "form"},
    )
    return row


@dataclass(frozen=True)
class MaskedPerson:
    id: int
    ref_no: str
    district: int
    home_town: str
    work_place: str
    trade: str
    skills: tuple[str, ...]
    name: str  # masked
    phone: str  # masked
    consent_on: dt.date
    consent_scope: tuple[str, ...]
    consent_withdrawn_on: dt.date | None
    status: str
    returned_on: dt.date | None
    person_no: str | None
    retain_until: dt.date


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def retention_months(params: ParameterSet, on: dt.date, district: int | None = None) -> int:
    months: int = params[RETENTION_PARAM].value_at(on, district)
    return months


def masked(
    session: Session, row: OutreachPerson, cipher: FieldCipher, params: ParameterSet, today: dt.date
) -> MaskedPerson:
    person_no = None
    if row.person_id is not None:
        person_no = session.execute(select(Person.person_no).where(Person.id == row.person_id)).scalar()
    return MaskedPerson(
        id=row.id,
        ref_no=row.ref_no,
        district=row.district,
        home_town=row.home_town,
        work_place=row.work_place,
        trade=row.trade,
        skills=tuple(s for s in row.skills.split(",") if s),
        name=mask_name(cipher.decrypt(row.name_enc, NAME_FIELD)),
        phone=mask_phone(cipher.decrypt(row.phone_enc, PHONE_FIELD)),
        consent_on=row.consent_on,
        consent_scope=tuple(s for s in row.consent_scope.split(",") if s),
        consent_withdrawn_on=row.consent_withdrawn_on,
        status=row.status,
        returned_on=row.returned_on,
        person_no=person_no,
        retain_until=add_months(row.consent_on, retention_months(params, today, row.district)),
    )


def list_people(
    session: Session,
    *,
    actor: Actor,
    cipher: FieldCipher,
    params: ParameterSet,
    today: dt.date,
    status: str | None = None,
    trade: str | None = None,
    phone: str | None = None,
    limit: int = 200,
) -> list[MaskedPerson]:
    """The register in the actor's scope, masked; ``phone`` looks one person up by the blind index."""
    stmt = scoped_people(select(OutreachPerson), actor).order_by(OutreachPerson.id.desc()).limit(limit)
    if status in STATUS_LABELS:
        stmt = stmt.where(OutreachPerson.status == status)
    if trade:
        stmt = stmt.where(OutreachPerson.trade == trade.strip())
    if phone:
        try:
            e164 = validate_mobile(phone.strip())
        except ValueError:
            raise ValidationFailed("手机号：不是有效的中国大陆手机号") from None
        stmt = stmt.where(OutreachPerson.phone_bidx == cipher.blind_index(e164, PHONE_FIELD))
    return [masked(session, r, cipher, params, today) for r in session.execute(stmt).scalars()]


def get_person(
    session: Session,
    *,
    actor: Actor,
    cipher: FieldCipher,
    params: ParameterSet,
    person_id: int,
    today: dt.date,
) -> MaskedPerson:
    return masked(session, _person_in_scope(session, actor, person_id), cipher, params, today)


@dataclass(frozen=True)
class Revealed:
    name: str
    phone: str
    other_contact: str | None


def reveal_contact(
    session: Session, *, actor: Actor, cipher: FieldCipher, person_id: int, audit_key: bytes
) -> Revealed:
    """The full name and contact, for staff about to contact the person; audited (who, whose record)."""
    row = _person_in_scope(session, actor, person_id)
    if row.consent_withdrawn_on is not None:
        raise Conflict("联系方式：本人已撤回同意联系，不能查看完整联系方式（记录将被删除）")
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.person.reveal_contact",
        subject=f"outreach_people:{row.id}",
        details={"ref_no": row.ref_no, "fields": ["name", "phone", "other_contact"]},
    )
    return Revealed(
        cipher.decrypt(row.name_enc, NAME_FIELD),
        cipher.decrypt(row.phone_enc, PHONE_FIELD),
        cipher.decrypt(row.other_contact_enc, OTHER_FIELD) if row.other_contact_enc else None,
    )


def withdraw_consent(
    session: Session, *, actor: Actor, person_id: int, on: dt.date, audit_key: bytes, today: dt.date
) -> OutreachPerson:
    """Record that the person withdrew consent; the next purge deletes the record."""
    row = _person_in_scope(session, actor, person_id)
    if row.consent_withdrawn_on is not None:
        raise Conflict(f"同意联系：已于 {row.consent_withdrawn_on.isoformat()} 撤回")
    if on > today or on < row.consent_on:
        raise ValidationFailed("撤回日期：须在同意联系日期与今天之间")
    row.consent_withdrawn_on = on
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.consent.withdraw",
        subject=f"outreach_people:{row.id}",
        details={"ref_no": row.ref_no, "on": on.isoformat()},
    )
    return row


def renew_consent(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    on: str | dt.date,
    scope: str | Iterable[str],
    audit_key: bytes,
    today: dt.date,
) -> OutreachPerson:
    """The person confirmed (again) that they may be contacted, by the channels in ``scope``: the consent
    date moves to ``on`` and the retention period runs from it."""
    row = _person_in_scope(session, actor, person_id)
    _active(row)
    day = fields.date(on, "同意联系日期")
    if day > today or day < row.consent_on:
        raise ValidationFailed("同意联系日期：须在原同意日期与今天之间")
    try:
        channels = parse_scope(scope)
    except ValueError as exc:
        raise ValidationFailed(f"同意的联系方式：“{exc}”不是可选项（电话、短信、微信、上门走访）") from None
    if not channels:
        raise ValidationFailed("同意的联系方式：至少选择一种（电话、短信、微信、上门走访）")
    row.consent_on = day
    row.consent_scope = ",".join(channels)
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.consent.renew",
        subject=f"outreach_people:{row.id}",
        details={"on": day.isoformat(), "consent_scope": list(channels)},
    )
    return row


def _active(row: OutreachPerson) -> None:
    if row.consent_withdrawn_on is not None:
        raise Conflict("同意联系：本人已撤回同意，不能再联系或修改（记录将被删除）")


# --- campaigns and the contact log ------------------------------------------------------------------------


def create_campaign(
    session: Session,
    *,
    actor: Actor,
    name: str,
    occasion: str,
    starts_on: str | dt.date,
    ends_on: str | dt.date,
    description: str,
    audit_key: bytes,
) -> OutreachCampaign:
    if actor.role != DECIDER_ROLE:
        raise Forbidden("联络活动：由区县人社工作人员创建")
    assert actor.district is not None
    name = name.strip()
    if not 2 <= len(name) <= 80:
        raise ValidationFailed("活动名称：2–80 个字")
    if occasion not in OCCASION_LABELS:
        raise ValidationFailed("活动类型：须为春节返乡、中秋国庆、日常联络或其他")
    start, end = fields.date(starts_on, "开始日期"), fields.date(ends_on, "结束日期")
    if end < start:
        raise ValidationFailed("结束日期：不能早于开始日期")
    if len(description) > 2000:
        raise ValidationFailed("活动说明：不超过 2000 个字")
    dup = select(OutreachCampaign.id).where(
        OutreachCampaign.district == actor.district, OutreachCampaign.name == name
    )
    if session.execute(dup).first():
        raise Conflict("活动名称：本区县已有同名活动")
    row = OutreachCampaign(
        district=actor.district,
        name=name,
        occasion=occasion,
        starts_on=start,
        ends_on=end,
        description=description.strip(),
        created_by=actor.login,
    )
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.campaign.create",
        subject=f"outreach_campaigns:{row.id}",
        details={"occasion": occasion, "starts_on": start.isoformat(), "ends_on": end.isoformat()},
    )
    return row


def campaigns(session: Session, *, actor: Actor) -> list[OutreachCampaign]:
    stmt = select(OutreachCampaign).where(OutreachCampaign.district == actor.district)
    return list(session.execute(stmt.order_by(OutreachCampaign.starts_on.desc())).scalars())


def _in_district(session: Session, model: type[R], row_id: int, actor: Actor, what: str) -> R:
    """The row of ``model`` with ``row_id`` if it belongs to the actor's district (else 404: another
    district's records do not exist for them)."""
    row = session.get(model, row_id)
    if row is None or row.district != actor.district:
        raise NotFound(f"{what} {row_id} 不存在（或不在本区县）")
    return row


def get_campaign(session: Session, *, actor: Actor, campaign_id: int) -> OutreachCampaign:
    return _in_district(session, OutreachCampaign, campaign_id, actor, "联络活动")


def log_contact(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    contacted_on: str | dt.date,
    method: str,
    answer: str,
    note: str = "",
    campaign_id: int | None = None,
    audit_key: bytes,
    today: dt.date,
) -> OutreachContact:
    """One contact. The channel must be one the person consented to (a campaign event they attended is
    always allowed); a person who declines further contact has their consent recorded as withdrawn."""
    row = _person_in_scope(session, actor, person_id)
    _active(row)
    day = fields.date(contacted_on, "联系日期")
    if day > today or day < row.consent_on:
        raise ValidationFailed("联系日期：须在同意联系日期与今天之间")
    if method not in METHOD_LABELS:
        raise ValidationFailed("联系方式：须为电话、短信、微信、上门走访或座谈/活动现场")
    if method != "event" and method not in row.consent_scope.split(","):
        raise Forbidden(f"联系方式：本人未同意通过“{METHOD_LABELS[method]}”联系")
    if answer not in ANSWER_LABELS:
        raise ValidationFailed("联系结果：不是可选项")
    note = note.strip()
    if len(note) > 400:
        raise ValidationFailed("备注：不超过 400 个字")
    if campaign_id is not None:
        campaign = get_campaign(session, actor=actor, campaign_id=campaign_id)
        if not campaign.starts_on <= day <= campaign.ends_on:
            raise ValidationFailed(
                f"联系日期：不在活动“{campaign.name}”期间（{campaign.starts_on}—{campaign.ends_on}）"
            )
    contact = OutreachContact(
        outreach_person_id=row.id,
        campaign_id=campaign_id,
        district=row.district,
        contacted_on=day,
        method=method,
        answer=answer,
        note=note,
        recorded_by=actor.login,
    )
    session.add(contact)
    if answer == "declined":
        row.consent_withdrawn_on = day
        row.version += 1
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.contact.log",
        subject=f"outreach_contacts:{contact.id}",
        details={
            "outreach_person_id": row.id,
            "campaign_id": campaign_id,
            "method": method,
            "answer": answer,
            "consent_withdrawn": answer == "declined",
        },
    )
    return contact


def contacts_of(session: Session, *, actor: Actor, person_id: int) -> list[OutreachContact]:
    _person_in_scope(session, actor, person_id)
    stmt = select(OutreachContact).where(OutreachContact.outreach_person_id == person_id)
    return list(session.execute(stmt.order_by(OutreachContact.contacted_on, OutreachContact.id)).scalars())


def campaign_contacts(
    session: Session, *, actor: Actor, campaign_id: int
) -> list[tuple[OutreachContact, str]]:
    get_campaign(session, actor=actor, campaign_id=campaign_id)
    stmt = (
        select(OutreachContact, OutreachPerson.ref_no)
        .join(OutreachPerson, OutreachPerson.id == OutreachContact.outreach_person_id)
        .where(OutreachContact.campaign_id == campaign_id)
    )
    if actor.street:
        stmt = stmt.where(OutreachPerson.home_town == actor.street)
    return [(c, ref) for c, ref in session.execute(stmt.order_by(OutreachContact.id)).all()]


# --- returns and ventures ---------------------------------------------------------------------------------


def _registry_person(session: Session, person_no: str) -> Person:
    person = session.execute(select(Person).where(Person.person_no == person_no.strip())).scalar_one_or_none()
    if person is None:
        raise ValidationFailed(f"登记库人员编号：{person_no.strip()[:40]} 不在登记库中")
    return person


def record_return(
    session: Session,
    *,
    actor: Actor,
    person_id: int,
    returned_on: str | dt.date,
    person_no: str | None,
    audit_key: bytes,
    today: dt.date,
) -> OutreachPerson:
    """The person came home; ``person_no`` links them to the registry person (for their businesses)."""
    row = _person_in_scope(session, actor, person_id)
    _active(row)
    day = fields.date(returned_on, "返乡日期")
    if day > today:
        raise ValidationFailed("返乡日期：不能晚于今天")
    if row.status == "returned":
        raise InvalidTransition(f"返乡：已于 {row.returned_on} 登记返乡")
    linked = _registry_person(session, person_no) if person_no and person_no.strip() else None
    if linked is not None:
        other = select(OutreachPerson.id).where(
            OutreachPerson.person_id == linked.id, OutreachPerson.id != row.id
        )
        if session.execute(other).first():
            raise Conflict("登记库人员编号：该人员已与另一条外出人员登记关联")
    row.status = "returned"
    row.returned_on = day
    row.person_id = linked.id if linked is not None else None
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.person.return",
        subject=f"outreach_people:{row.id}",
        details={"returned_on": day.isoformat(), "person_id": row.person_id},
    )
    return row


def link_person(
    session: Session, *, actor: Actor, person_id: int, person_no: str, audit_key: bytes
) -> OutreachPerson:
    row = _person_in_scope(session, actor, person_id)
    _active(row)
    if row.status != "returned":
        raise InvalidTransition("关联登记库：须先登记返乡")
    linked = _registry_person(session, person_no)
    row.person_id = linked.id
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.person.link",
        subject=f"outreach_people:{row.id}",
        details={"person_id": linked.id},
    )
    return row


def record_venture(
    session: Session, *, actor: Actor, person_id: int, business_no: str, audit_key: bytes
) -> OutreachVenture:
    """A business the returnee started: it must be in the registry with the linked person as a founder."""
    row = _person_in_scope(session, actor, person_id)
    if row.status != "returned" or row.person_id is None:
        raise InvalidTransition("创办主体：须先登记返乡并关联登记库人员")
    business = session.execute(
        select(Business).where(Business.business_no == business_no.strip())
    ).scalar_one_or_none()
    if business is None:
        raise ValidationFailed(f"经营主体编号：{business_no.strip()[:40]} 不在登记库中")
    founder = select(Founder.id).where(Founder.business_id == business.id, Founder.person_id == row.person_id)
    if session.execute(founder).first() is None:
        raise ValidationFailed("经营主体编号：登记库中该主体的创办人/经营者不是此人")
    dup = select(OutreachVenture.id).where(
        OutreachVenture.outreach_person_id == row.id, OutreachVenture.business_id == business.id
    )
    if session.execute(dup).first():
        raise Conflict("经营主体编号：已登记过")
    venture = OutreachVenture(
        outreach_person_id=row.id,
        business_id=business.id,
        district=row.district,
        started_on=business.registration_date,
        recorded_by=actor.login,
    )
    session.add(venture)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.venture.record",
        subject=f"outreach_ventures:{venture.id}",
        details={"outreach_person_id": row.id, "business_id": business.id},
    )
    return venture


def ventures_of(session: Session, *, actor: Actor, person_id: int) -> list[tuple[OutreachVenture, Business]]:
    _person_in_scope(session, actor, person_id)
    stmt = (
        select(OutreachVenture, Business)
        .join(Business, Business.id == OutreachVenture.business_id)
        .where(OutreachVenture.outreach_person_id == person_id)
    )
    return [(v, b) for v, b in session.execute(stmt.order_by(OutreachVenture.id)).all()]


# --- the purge --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    withdrawn: tuple[int, ...]
    expired: tuple[int, ...]
    contacts: int
    ventures: int
    talents: int

    @property
    def total(self) -> int:
        return len(self.withdrawn) + len(self.expired)


def purge(
    session: Session, *, params: ParameterSet, today: dt.date, audit_key: bytes, actor: str = PURGE_ACTOR
) -> PurgeResult:
    """Delete register records whose consent was withdrawn or whose retention period (counted from the
    consent date, in months as the dated parameter says today) has passed — with their contact log,
    venture links and 乡情 talent records. One audit row with the counts and the ids (no personal data).
    On SQLite, ``secure_delete`` is switched on first so the deleted ciphertexts are overwritten."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))
    rows = session.execute(
        select(
            OutreachPerson.id,
            OutreachPerson.district,
            OutreachPerson.consent_on,
            OutreachPerson.consent_withdrawn_on,
        )
    ).all()
    withdrawn, expired = [], []
    for pid, district, consent_on, withdrawn_on in rows:
        if withdrawn_on is not None:
            withdrawn.append(pid)
        elif add_months(consent_on, retention_months(params, today, district)) < today:
            expired.append(pid)
    ids = withdrawn + expired
    counts = {"contacts": 0, "ventures": 0, "talents": 0}
    if ids:
        for key, model, col in (
            ("contacts", OutreachContact, OutreachContact.outreach_person_id),
            ("ventures", OutreachVenture, OutreachVenture.outreach_person_id),
            ("talents", HometownTalent, HometownTalent.outreach_person_id),
        ):
            counts[key] = session.execute(delete(model).where(col.in_(ids))).rowcount or 0  # type: ignore[attr-defined]
        session.execute(delete(OutreachPerson).where(OutreachPerson.id.in_(ids)))
    result = PurgeResult(tuple(sorted(withdrawn)), tuple(sorted(expired)), **counts)
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role="system",
        action="outreach.purge",
        subject=f"outreach_people:purge-{today.isoformat()}",
        details={
            "on": today.isoformat(),
            "retention_months": retention_months(params, today),
            "withdrawn": len(withdrawn),
            "expired": len(expired),
            "withdrawn_ids": list(result.withdrawn),
            "expired_ids": list(result.expired),
            "contacts": counts["contacts"],
            "ventures": counts["ventures"],
            "talents": counts["talents"],
        },
    )
    return result


PURGED_TABLES: Final = ("outreach_contacts", "outreach_ventures", "hometown_talents", "outreach_people")


def scrub_storage(engine: Engine) -> None:
    """After a purge has committed: make the storage drop the deleted rows' bytes. SQLite: checkpoint and
    truncate the write-ahead log (its older frames still hold the deleted pages; ``secure_delete`` zeroed
    them in the database pages). PostgreSQL: VACUUM the purged tables (dead tuples hold the old rows)."""
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cur.close()
        finally:
            raw.close()
    elif engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in PURGED_TABLES:
                conn.execute(text(f'VACUUM "{table}"'))


# --- introduced talent and their families -----------------------------------------------------------------


def _is_returning_business(session: Session, business: Business) -> bool:
    if business.founded_by_returning:
        return True
    stmt = (
        select(Founder.id)
        .join(Person, Person.id == Founder.person_id)
        .where(Founder.business_id == business.id, Person.returning_entrepreneur.is_(True))
    )
    return session.execute(stmt).first() is not None


def propose_talent(
    session: Session,
    *,
    actor: Actor,
    business_no: str,
    person_no: str,
    position: str,
    category: str,
    qualification: str,
    hired_on: str | dt.date,
    evidence: str,
    audit_key: bytes,
    today: dt.date,
) -> IntroducedTalent:
    """Propose a hire of a returning entrepreneur's business for recognition as introduced talent. The
    business must be a returning entrepreneur's in the actor's district and employ the person (registry)."""
    business = session.execute(
        select(Business).where(Business.business_no == business_no.strip())
    ).scalar_one_or_none()
    if business is None or business.district != actor.district:
        raise ValidationFailed("经营主体编号：不在本区县登记库中")
    if not _is_returning_business(session, business):
        raise ValidationFailed("经营主体：不是返乡入乡创业人员创办的主体（引进人才限返乡创业企业聘用人员）")
    person = _registry_person(session, person_no)
    employed = select(Employment.id).where(
        Employment.business_id == business.id,
        Employment.person_id == person.id,
        or_(Employment.left_on.is_(None), Employment.left_on >= today),
    )
    if session.execute(employed).first() is None:
        raise ValidationFailed("人员：登记库中没有此人在该主体的在职用工记录")
    if category not in CATEGORY_LABELS:
        raise ValidationFailed("人才类别：须为技术人才或管理人才")
    position, qualification, evidence = position.strip(), qualification.strip(), evidence.strip()
    if not 1 <= len(position) <= 60:
        raise ValidationFailed("岗位：不能为空，且不超过 60 个字")
    if len(qualification) > 120:
        raise ValidationFailed("职称/学历/技能等级：不超过 120 个字")
    if not 2 <= len(evidence) <= 200:
        raise ValidationFailed("证明材料：须写明（如劳动合同编号、社保缴费证明），不超过 200 个字")
    day = fields.date(hired_on, "聘用日期")
    if day > today or day < business.registration_date:
        raise ValidationFailed("聘用日期：须在主体登记日期与今天之间")
    dup = select(IntroducedTalent.id).where(
        IntroducedTalent.business_id == business.id, IntroducedTalent.person_id == person.id
    )
    if session.execute(dup).first():
        raise Conflict("引进人才：该人员在该主体已有认定记录")
    assert actor.district is not None
    row = IntroducedTalent(
        district=actor.district,
        business_id=business.id,
        person_id=person.id,
        position=position,
        category=category,
        qualification=qualification,
        hired_on=day,
        evidence=evidence,
        state="pending",
        proposed_by=actor.login,
    )
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.talent.propose",
        subject=f"introduced_talents:{row.id}",
        details={"business_id": business.id, "person_id": person.id, "category": category},
    )
    return row


def _talent_in_scope(session: Session, actor: Actor, talent_id: int) -> IntroducedTalent:
    return _in_district(session, IntroducedTalent, talent_id, actor, "引进人才记录")


def decide_talent(
    session: Session,
    *,
    actor: Actor,
    talent_id: int,
    decision: str,
    note: str,
    audit_key: bytes,
    today: dt.date,
) -> IntroducedTalent:
    """A district reviewer (not the proposer) recognises or refuses, with a note."""
    if actor.role != DECIDER_ROLE:
        raise Forbidden("引进人才认定：由区县人社审核人员决定")
    row = _talent_in_scope(session, actor, talent_id)
    if row.state != "pending":
        raise InvalidTransition(f"引进人才认定：当前状态为“{INTRODUCED_LABELS[row.state]}”，不能再决定")
    if row.proposed_by == actor.login:
        raise Forbidden("引进人才认定：提出人不能自己认定（须另一名审核人员）")
    if decision not in ("recognised", "refused"):
        raise ValidationFailed("认定结论：须为认定或不予认定")
    note = note.strip()
    if len(note) > 400 or (decision == "refused" and not note):
        raise ValidationFailed("认定意见：不予认定须写明理由，且不超过 400 个字")
    row.state = decision
    row.decided_by = actor.login
    row.decided_on = today
    row.decision_note = note or None
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action=f"outreach.talent.{'recognise' if decision == 'recognised' else 'refuse'}",
        subject=f"introduced_talents:{row.id}",
        details={"state": decision},
    )
    return row


@dataclass(frozen=True)
class TalentRow:
    id: int
    state: str
    person_no: str
    name: str  # masked unless asked for the programme export
    business_no: str
    business_name: str
    position: str
    category: str
    qualification: str
    hired_on: dt.date
    decided_on: dt.date | None
    open_requests: int


def introduced_talents(
    session: Session, *, actor: Actor, state: str | None = None, full_names: bool = False
) -> list[TalentRow]:
    """The district's introduced talent; ``state="recognised"`` is what the talent programmes see."""
    open_requests = (
        select(FamilyServiceRequest.talent_id, func.count().label("n"))
        .where(FamilyServiceRequest.state != "answered")
        .group_by(FamilyServiceRequest.talent_id)
        .subquery()
    )
    stmt = (
        select(
            IntroducedTalent,
            Person.person_no,
            Person.name,
            Business.business_no,
            Business.name,
            open_requests.c.n,
        )
        .join(Person, Person.id == IntroducedTalent.person_id)
        .join(Business, Business.id == IntroducedTalent.business_id)
        .outerjoin(open_requests, open_requests.c.talent_id == IntroducedTalent.id)
        .where(IntroducedTalent.district == actor.district)
        .order_by(IntroducedTalent.id)
    )
    if state in INTRODUCED_LABELS:
        stmt = stmt.where(IntroducedTalent.state == state)
    out = []
    for t, person_no, name, business_no, business_name, n in session.execute(stmt).all():
        out.append(
            TalentRow(
                t.id,
                t.state,
                person_no,
                name if full_names else mask_name(name),
                business_no,
                business_name,
                t.position,
                t.category,
                t.qualification,
                t.hired_on,
                t.decided_on,
                int(n or 0),
            )
        )
    return out


def programme_export(session: Session, *, actor: Actor, audit_key: bytes) -> list[TalentRow]:
    """The recognised talent with full names for the district's talent programmes (项目申报、职称评审):
    a view of personal data, audited with the ids exported."""
    rows = introduced_talents(session, actor=actor, state="recognised", full_names=True)
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.talent.export",
        subject=f"introduced_talents:district-{actor.district}",
        details={"count": len(rows), "ids": [r.id for r in rows]},
    )
    return rows


def create_family_request(
    session: Session,
    *,
    actor: Actor,
    talent_id: int,
    kind: str,
    description: str,
    owner_department: str,
    received_on: str | dt.date,
    params: ParameterSet,
    audit_key: bytes,
    today: dt.date,
) -> FamilyServiceRequest:
    talent = _talent_in_scope(session, actor, talent_id)
    if talent.state != "recognised":
        raise InvalidTransition("家庭服务诉求：只为已认定的引进人才登记")
    if kind not in FAMILY_LABELS:
        raise ValidationFailed("诉求类别：须为子女入学、住房保障或医保转移接续")
    description, owner_department = description.strip(), owner_department.strip()
    if not 2 <= len(description) <= 1000:
        raise ValidationFailed("诉求内容：2–1000 个字")
    if not 2 <= len(owner_department) <= 60:
        raise ValidationFailed("责任部门：须填写（如区教委、区住房城乡建委、区医保局），不超过 60 个字")
    day = fields.date(received_on, "登记日期")
    if day > today:
        raise ValidationFailed("登记日期：不能晚于今天")
    days: int = params[FAMILY_DAYS_PARAM].value_at(day, actor.district)
    row = FamilyServiceRequest(
        talent_id=talent.id,
        district=talent.district,
        kind=kind,
        description=description,
        owner_department=owner_department,
        received_on=day,
        deadline=day + dt.timedelta(days=days),
        state="open",
        recorded_by=actor.login,
    )
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.family.create",
        subject=f"family_service_requests:{row.id}",
        details={"talent_id": talent.id, "kind": kind, "deadline": row.deadline.isoformat()},
    )
    return row


def advance_family_request(
    session: Session,
    *,
    actor: Actor,
    request_id: int,
    action: str,
    answer: str = "",
    audit_key: bytes,
    today: dt.date,
) -> FamilyServiceRequest:
    """``accept`` (the owner department took it: open → in_progress) or ``answer`` (→ answered)."""
    row = _in_district(session, FamilyServiceRequest, request_id, actor, "家庭服务诉求")
    allowed = {"accept": ("open",), "answer": ("open", "in_progress")}
    if action not in allowed:
        raise ValidationFailed("操作：须为受理或答复")
    if row.state not in allowed[action]:
        raise InvalidTransition(
            f"家庭服务诉求：当前状态为“{FAMILY_STATE_LABELS[row.state]}”，不能{'受理' if action == 'accept' else '答复'}"
        )
    if action == "answer":
        answer = answer.strip()
        if not 2 <= len(answer) <= 1000:
            raise ValidationFailed("答复内容：2–1000 个字")
        row.answer = answer
        row.answered_on = today
        row.state = "answered"
    else:
        row.state = "in_progress"
    row.version += 1
    record(
        session,
        key=audit_key,
        **actor.audit,
        action=f"outreach.family.{action}",
        subject=f"family_service_requests:{row.id}",
        details={"state": row.state, "overdue": today > row.deadline},
    )
    return row


def family_requests(session: Session, *, actor: Actor, open_only: bool = False) -> list[FamilyServiceRequest]:
    stmt = select(FamilyServiceRequest).where(FamilyServiceRequest.district == actor.district)
    if open_only:
        stmt = stmt.where(FamilyServiceRequest.state != "answered")
    return list(
        session.execute(stmt.order_by(FamilyServiceRequest.deadline, FamilyServiceRequest.id)).scalars()
    )


# --- 乡情 talent ------------------------------------------------------------------------------------------


def add_hometown_talent(
    session: Session,
    *,
    actor: Actor,
    kind: str,
    town: str,
    trade: str,
    skills: str,
    recognised_on: str | dt.date,
    person_no: str | None = None,
    outreach_person_id: int | None = None,
    audit_key: bytes,
    today: dt.date,
) -> HometownTalent:
    """A 田秀才 / 土专家 / 乡创客 / 能工巧匠 record: a registry person or a person of the register."""
    if kind not in TALENT_LABELS:
        raise ValidationFailed("人才类型：须为田秀才、土专家、乡创客或能工巧匠")
    person_id = None
    if person_no and person_no.strip():
        person_id = _registry_person(session, person_no).id
    elif outreach_person_id is not None:
        _active(_person_in_scope(session, actor, outreach_person_id))
    else:
        raise ValidationFailed("人员：须填写登记库人员编号或选择外出人员登记")
    errors: list[tuple[str, str]] = []
    town = _text_field(town, "所在乡镇/街道", 1, 60, errors, "town")
    trade = _text_field(trade, "行业/领域", 1, 60, errors, "trade")
    skill_text = ",".join(s for s in _SEP.split(skills.strip()) if s)
    if not 1 <= len(skill_text) <= 400:
        errors.append(("skills", "技能：至少一项，不超过 400 个字"))
    _raise(errors)
    _street_check(actor, town)
    day = fields.date(recognised_on, "认定日期")
    if day > today:
        raise ValidationFailed("认定日期：不能晚于今天")
    col = HometownTalent.person_id if person_id is not None else HometownTalent.outreach_person_id
    key = person_id if person_id is not None else outreach_person_id
    if session.execute(select(HometownTalent.id).where(col == key, HometownTalent.kind == kind)).first():
        raise Conflict(f"人才类型：此人已登记为{TALENT_LABELS[kind]}")
    assert actor.district is not None
    row = HometownTalent(
        district=actor.district,
        kind=kind,
        person_id=person_id,
        outreach_person_id=outreach_person_id if person_id is None else None,
        town=town,
        trade=trade,
        skills=skill_text,
        recognised_on=day,
        recorded_by=actor.login,
    )
    session.add(row)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.hometown_talent.add",
        subject=f"hometown_talents:{row.id}",
        details={"kind": kind, "person_id": person_id, "outreach_person_id": row.outreach_person_id},
    )
    return row


@dataclass(frozen=True)
class PoolEntry:
    """One 乡情 talent for labour matching: no personal data; ``person_no`` names a registry person,
    ``outreach_ref`` a person of the register (contact them through the outreach pages)."""

    talent_id: int
    kind: str
    kind_label: str
    district: int
    town: str
    trade: str
    skills: tuple[str, ...]
    person_no: str | None
    outreach_ref: str | None
    away: bool  # still working elsewhere (a person of the register who has not returned)
    recognised_on: dt.date = field(compare=False)


def talent_pool(session: Session, district: int) -> list[PoolEntry]:
    """The 乡情 talent (田秀才, 土专家, 乡创客, 能工巧匠) of ``district`` with their skills, for labour
    matching (clause 4.11/4.12). Register persons who withdrew consent are left out. Ordered by id."""
    stmt = (
        select(HometownTalent, Person.person_no, OutreachPerson.ref_no, OutreachPerson.status)
        .outerjoin(Person, Person.id == HometownTalent.person_id)
        .outerjoin(OutreachPerson, OutreachPerson.id == HometownTalent.outreach_person_id)
        .where(
            HometownTalent.district == district,
            or_(HometownTalent.outreach_person_id.is_(None), OutreachPerson.consent_withdrawn_on.is_(None)),
        )
        .order_by(HometownTalent.id)
    )
    return [
        PoolEntry(
            t.id,
            t.kind,
            TALENT_LABELS[t.kind],
            t.district,
            t.town,
            t.trade,
            tuple(s for s in t.skills.split(",") if s),
            person_no,
            ref,
            status == "away",
            t.recognised_on,
        )
        for t, person_no, ref, status in session.execute(stmt).all()
    ]


# --- import and export ------------------------------------------------------------------------------------

IMPORT_COLUMNS: Final = (
    ("name", "姓名"),
    ("phone", "手机号"),
    ("home_town", "家乡乡镇/街道"),
    ("work_place", "务工地"),
    ("trade", "从事行业"),
    ("skills", "技能"),
    ("consent_on", "同意联系日期"),
    ("consent_scope", "同意的联系方式"),
    ("other_contact", "其他联系方式"),
)
REQUIRED_COLUMNS: Final = tuple(k for k, _ in IMPORT_COLUMNS if k != "other_contact")


@dataclass(frozen=True)
class RowError:
    row: int  # the sheet's row number (header = 1)
    field: str  # the column header
    message: str


@dataclass(frozen=True)
class ImportOutcome:
    inserted: int
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def import_register(
    session: Session,
    *,
    actor: Actor,
    cipher: FieldCipher,
    rows: Sequence[tuple[int, Mapping[str, str]]],
    audit_key: bytes,
    today: dt.date,
    max_rows: int = 5000,
) -> ImportOutcome:
    """All or nothing: every row is validated (fields, duplicates in the file and in the register, the
    clerk's town); with any error nothing is written and every problem is returned per row and column."""
    header = dict(IMPORT_COLUMNS)
    errors: list[RowError] = []
    if not rows:
        errors.append(RowError(1, "文件", "没有数据行"))
    if len(rows) > max_rows:
        errors.append(RowError(1, "文件", f"一次最多导入 {max_rows} 行"))
    clean_rows: list[CleanPerson] = []
    seen: dict[str, int] = {}
    for number, raw in rows[:max_rows]:
        data = PersonInput(**{k: str(raw.get(k, "") or "") for k, _ in IMPORT_COLUMNS})
        clean, problems = check_person(data, today=today)
        errors.extend(RowError(number, header[f], m) for f, m in problems)
        if clean is None:
            continue
        if actor.street and clean.home_town != actor.street:
            errors.append(
                RowError(
                    number, header["home_town"], f"家乡乡镇/街道：只能导入本街道/乡镇（{actor.street}）的人员"
                )
            )
        bidx = cipher.blind_index(clean.phone, PHONE_FIELD)
        if bidx in seen:
            errors.append(RowError(number, header["phone"], f"手机号：与第 {seen[bidx]} 行重复"))
        seen[bidx] = number
        clean_rows.append(clean)
    if seen:
        existing = set(
            session.execute(
                select(OutreachPerson.phone_bidx).where(OutreachPerson.phone_bidx.in_(list(seen)))
            ).scalars()
        )
        for bidx in existing:
            errors.append(RowError(seen[bidx], header["phone"], "手机号：已在外出人员登记中（不重复登记）"))
    if errors:
        return ImportOutcome(0, tuple(sorted(errors, key=lambda e: (e.row, e.field))))
    made = [_new_person(cipher, c, actor=actor, today=today) for c in clean_rows]
    session.add_all(made)
    session.flush()
    record(
        session,
        key=audit_key,
        **actor.audit,
        action="outreach.person.import",
        subject=f"outreach_people:district-{actor.district}",
        details={"inserted": len(made), "ids": [m.id for m in made]},
    )
    return ImportOutcome(len(made), ())
