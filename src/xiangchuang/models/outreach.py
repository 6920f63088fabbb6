"""Outreach to local people working elsewhere (clause 4.12, 本地外出人员联络机制).

- :class:`OutreachPerson`: the register — home district and town, where they work, trade, skills, contact
  details (name, mobile and another contact are SM4 ciphertexts; the mobile has a blind index), consent to
  be contacted (date and scope: the channels they agreed to), and what became of them (returned, linked to
  the registry person). Purged after the retention period or when consent is withdrawn.
- :class:`OutreachCampaign` and :class:`OutreachContact`: campaigns (e.g. 春节返乡座谈) and the contact log.
- :class:`OutreachVenture`: a business a returnee started, linked to the registry's business.
- :class:`IntroducedTalent` and :class:`FamilyServiceRequest`: introduced talent recognised by district
  staff, and the requests for the public services their families need, tracked to an answer.
- :class:`HometownTalent`: 乡情 talent records (田秀才, 土专家, 乡创客, 能工巧匠) with their skills.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Timestamps

CONSENT_CHANNELS = ("phone", "sms", "wechat", "visit")
CONTACT_METHODS = ("phone", "sms", "wechat", "visit", "event")
CONTACT_ANSWERS = ("no_answer", "not_now", "interested", "will_return", "returned", "declined")
PERSON_STATUSES = ("away", "returned")
TALENT_KINDS = ("tian_xiucai", "tu_zhuanjia", "xiang_chuangke", "nenggong_qiaojiang")
INTRODUCED_CATEGORIES = ("technical", "management")
INTRODUCED_STATES = ("pending", "recognised", "refused")
FAMILY_KINDS = ("schooling", "housing", "medical_insurance_transfer")
FAMILY_STATES = ("open", "in_progress", "answered")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class OutreachPerson(Timestamps, Base):
    __tablename__ = "outreach_people"
    __table_args__ = (
        CheckConstraint(_in("status", PERSON_STATUSES), name="status_known"),
        CheckConstraint("status <> 'returned' OR returned_on IS NOT NULL", name="returned_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref_no: Mapped[str] = mapped_column(String(24), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)  # home district (户籍/家乡区县)
    home_town: Mapped[str] = mapped_column(String(60))  # 乡镇/街道
    work_place: Mapped[str] = mapped_column(String(120))  # where they work (省市/城市)
    trade: Mapped[str] = mapped_column(String(60))
    skills: Mapped[str] = mapped_column(String(400))  # comma-separated skill words
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    other_contact_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    consent_on: Mapped[dt.date] = mapped_column(Date)
    consent_scope: Mapped[str] = mapped_column(String(60))  # comma-separated CONSENT_CHANNELS
    consent_withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="away")
    returned_on: Mapped[dt.date | None] = mapped_column(Date)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class OutreachCampaign(Timestamps, Base):
    __tablename__ = "outreach_campaigns"
    __table_args__ = (
        UniqueConstraint("district", "name"),
        CheckConstraint("ends_on >= starts_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(80))
    occasion: Mapped[str] = mapped_column(String(20))  # spring_festival | mid_autumn | routine | other
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))


class OutreachContact(Base):
    """One contact with a registered person: who, when, how, the answer (the note holds no personal data)."""

    __tablename__ = "outreach_contacts"
    __table_args__ = (
        CheckConstraint(_in("method", CONTACT_METHODS), name="method_known"),
        CheckConstraint(_in("answer", CONTACT_ANSWERS), name="answer_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outreach_person_id: Mapped[int] = mapped_column(
        ForeignKey("outreach_people.id", ondelete="CASCADE"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_campaigns.id", ondelete="SET NULL"), index=True
    )
    district: Mapped[int] = mapped_column(Integer, index=True)
    contacted_on: Mapped[dt.date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    answer: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(String(400), default="")
    recorded_by: Mapped[str] = mapped_column(String(64))


class OutreachVenture(Base):
    """A business (registry) started by a returnee of the register."""

    __tablename__ = "outreach_ventures"
    __table_args__ = (UniqueConstraint("outreach_person_id", "business_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outreach_person_id: Mapped[int] = mapped_column(
        ForeignKey("outreach_people.id", ondelete="CASCADE"), index=True
    )
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    started_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))


class IntroducedTalent(Timestamps, Base):
    """Technical / management staff hired by a returning entrepreneur's business, proposed for recognition
    as introduced talent (引进人才); a district reviewer decides with the evidence."""

    __tablename__ = "introduced_talents"
    __table_args__ = (
        UniqueConstraint("business_id", "person_id"),
        CheckConstraint(_in("category", INTRODUCED_CATEGORIES), name="category_known"),
        CheckConstraint(_in("state", INTRODUCED_STATES), name="state_known"),
        CheckConstraint("state = 'pending' OR decided_by IS NOT NULL", name="decided_has_decider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    position: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(20))
    qualification: Mapped[str] = mapped_column(String(120), default="")  # 职称/学历/技能等级
    hired_on: Mapped[dt.date] = mapped_column(Date)
    evidence: Mapped[str] = mapped_column(String(200))  # 劳动合同、社保缴费等证明材料的编号/说明
    state: Mapped[str] = mapped_column(String(12), default="pending")
    proposed_by: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    decision_note: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class FamilyServiceRequest(Timestamps, Base):
    """A request for a public service an introduced talent's family needs, tracked to an answer."""

    __tablename__ = "family_service_requests"
    __table_args__ = (
        CheckConstraint(_in("kind", FAMILY_KINDS), name="kind_known"),
        CheckConstraint(_in("state", FAMILY_STATES), name="state_known"),
        CheckConstraint("state <> 'answered' OR answered_on IS NOT NULL", name="answered_has_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    talent_id: Mapped[int] = mapped_column(
        ForeignKey("introduced_talents.id", ondelete="CASCADE"), index=True
    )
    district: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(1000))
    owner_department: Mapped[str] = mapped_column(String(60))
    received_on: Mapped[dt.date] = mapped_column(Date)
    deadline: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), default="open")
    answer: Mapped[str | None] = mapped_column(String(1000))
    answered_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class HometownTalent(Timestamps, Base):
    """乡情 talent (田秀才, 土专家, 乡创客, 能工巧匠): a registry person or a person of the register."""

    __tablename__ = "hometown_talents"
    __table_args__ = (
        CheckConstraint(_in("kind", TALENT_KINDS), name="kind_known"),
        CheckConstraint("person_id IS NOT NULL OR outreach_person_id IS NOT NULL", name="has_person"),
        UniqueConstraint("person_id", "kind"),
        UniqueConstraint("outreach_person_id", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(30))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    outreach_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("outreach_people.id", ondelete="CASCADE"), index=True
    )
    town: Mapped[str] = mapped_column(String(60))
    trade: Mapped[str] = mapped_column(String(60))
    skills: Mapped[str] = mapped_column(String(400))
    recognised_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
