"""Businesses, founders (business history), tags, honours, recommendations, credit ratings, year figures."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen, Timestamps


class Business(Timestamps, Base):
    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint("uscc IS NOT NULL OR registration_no IS NOT NULL", name="has_registration"),
        CheckConstraint(
            "workshop_build_cost_fen IS NULL OR workshop_build_cost_fen >= 0", name="build_cost_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_no: Mapped[str] = mapped_column(String(40), unique=True)
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    registration_no: Mapped[str | None] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    size_class: Mapped[str | None] = mapped_column(String(20))
    registration_date: Mapped[dt.date] = mapped_column(Date)
    deregistration_date: Mapped[dt.date | None] = mapped_column(Date)
    district: Mapped[int] = mapped_column(Integer, index=True)
    industry: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    founded_by_returning: Mapped[bool | None] = mapped_column(Boolean)
    staff_count: Mapped[int | None] = mapped_column(Integer)
    new_eligible_hires: Mapped[int | None] = mapped_column(Integer)
    workshop_recognised: Mapped[bool | None] = mapped_column(Boolean)
    workshop_employed: Mapped[int | None] = mapped_column(Integer)
    # 新建车间（申请建设补助）and its 建设投入 (migration 0028): unknown until filled in (NULL), never
    # read as "not new" / 0 (PROVISIONS §0; README choice 51).
    workshop_new_build: Mapped[bool | None] = mapped_column(Boolean)
    workshop_build_cost_fen: Mapped[int | None] = mapped_column(Fen)


class Founder(Base):
    """Who founded or runs a business (法定代表人 / 经营者 / 合伙人), and since when."""

    __tablename__ = "founders"
    __table_args__ = (UniqueConstraint("business_id", "person_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    since: Mapped[dt.date | None] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)


class BusinessTag(Base):
    """一县一品 / 一村一品 / 一乡一业 tags (clause 5.14)."""

    __tablename__ = "business_tags"
    __table_args__ = (UniqueConstraint("business_id", "tag_kind", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    tag_kind: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str] = mapped_column(String(60))


class BusinessYear(Base):
    """Figures per business and calendar year: employer social-insurance paid, online sales."""

    __tablename__ = "business_years"
    __table_args__ = (
        UniqueConstraint("business_id", "year"),
        CheckConstraint("employer_si_paid_fen IS NULL OR employer_si_paid_fen >= 0", name="si_non_negative"),
        CheckConstraint("online_revenue_fen IS NULL OR online_revenue_fen >= 0", name="revenue_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    employer_si_paid_fen: Mapped[int | None] = mapped_column(Fen)
    online_revenue_fen: Mapped[int | None] = mapped_column(Fen)
    online_orders: Mapped[int | None] = mapped_column(BigInteger)
    courier_fees_fen: Mapped[int | None] = mapped_column(Fen)


class Honour(Base):
    """A 设区的市级以上 honour of a person, a business or a project (counter-guarantee waiver)."""

    __tablename__ = "honours"
    __table_args__ = (
        CheckConstraint("person_id IS NOT NULL OR business_id IS NOT NULL", name="has_holder"),
        UniqueConstraint("person_id", "business_id", "title", "awarded_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[str] = mapped_column(String(20))  # city | provincial | national | district
    title: Mapped[str] = mapped_column(String(120))
    awarded_on: Mapped[dt.date] = mapped_column(Date)


class Recommendation(Base):
    """A project recommended by a 全国创业孵化示范基地 or a 信用社区（乡村）."""

    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("business_id", "recommended_by", "recommended_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    recommended_by: Mapped[str] = mapped_column(String(40))  # national_incubator_demo | credit_community
    recommender_name: Mapped[str | None] = mapped_column(String(120))
    recommended_on: Mapped[dt.date] = mapped_column(Date)


class CreditRating(Base):
    """A financial institution's creditworthiness rating of a business, merchant or farmer."""

    __tablename__ = "credit_ratings"
    __table_args__ = (
        CheckConstraint("person_id IS NOT NULL OR business_id IS NOT NULL", name="has_subject"),
        UniqueConstraint("person_id", "business_id", "institution", "rated_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    institution: Mapped[str] = mapped_column(String(120))
    rated_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
