"""Labour demand and job matching (clause 4.11): posts reported by businesses, job seekers, applications
and hires; on-job training records (岗位培训) whose subsidy goes through the application workflow.

- A post (用工需求) belongs to a registry business; it holds no personal data and, once district staff
  have verified it, is shown on the public job board.
- A job seeker is a registry person (``person_id``): 身份证号 and name stay in ``persons``; the contact
  phone given at registration is stored as a ciphertext with a blind index, like ``persons.phone``.
- A hire creates (or updates) the business's :class:`~xiangchuang.models.Employment` row, which is what
  the job and social-insurance subsidies read.
- Skills are codes of :mod:`xiangchuang.jobs.catalogue`, stored comma-separated.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen, Timestamps

POST_STATES = ("reported", "published", "rejected", "filled", "closed")
SEEKER_CATEGORIES = ("returning_worker", "graduate", "unemployed", "other")
SEEKER_STATES = ("active", "hired", "withdrawn")
JOB_APPLICATION_STATES = ("applied", "hired", "declined", "withdrawn")
CONTRACT_KINDS = ("fixed_term", "open_ended", "task", "part_time", "seasonal")
ONJOB_PROVIDER_KINDS = ("business", "cooperative", "association", "artisan")
ONJOB_COURSE_LEVELS = ("junior", "intermediate", "senior", "special")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class JobPost(Timestamps, Base):
    """A labour need (用工需求) of a business: post, number, skills, wage range, place, start, contract."""

    __tablename__ = "job_posts"
    __table_args__ = (
        CheckConstraint(_in("state", POST_STATES), name="state_valid"),
        CheckConstraint(_in("contract_kind", CONTRACT_KINDS), name="contract_kind_valid"),
        CheckConstraint("positions >= 1 AND positions <= 500", name="positions_range"),
        CheckConstraint("wage_min_fen >= 0 AND wage_max_fen >= wage_min_fen", name="wage_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_no: Mapped[str] = mapped_column(String(40), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    town: Mapped[str] = mapped_column(String(40))  # 乡镇/街道
    title: Mapped[str] = mapped_column(String(60))  # 岗位名称
    trade: Mapped[str] = mapped_column(String(30), index=True)  # 行业/工种大类 (catalogue code)
    skills: Mapped[str] = mapped_column(String(400))  # required skill codes, comma-separated
    positions: Mapped[int] = mapped_column(Integer)
    wage_min_fen: Mapped[int] = mapped_column(Fen)  # monthly
    wage_max_fen: Mapped[int] = mapped_column(Fen)
    start_date: Mapped[dt.date] = mapped_column(Date)
    contract_kind: Mapped[str] = mapped_column(String(20))
    contract_months: Mapped[int | None] = mapped_column(Integer)
    terms: Mapped[str | None] = mapped_column(String(300))  # other terms: hours, board, insurance
    state: Mapped[str] = mapped_column(String(20), index=True)
    reported_by: Mapped[str] = mapped_column(String(60))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_by: Mapped[str | None] = mapped_column(String(60))
    verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    published_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    hired: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)


class JobSeeker(Timestamps, Base):
    """A registered job seeker (求职登记): a registry person with skills, place and wage expectation."""

    __tablename__ = "job_seekers"
    __table_args__ = (
        CheckConstraint(_in("category", SEEKER_CATEGORIES), name="category_valid"),
        CheckConstraint(_in("state", SEEKER_STATES), name="state_valid"),
        CheckConstraint("wage_expected_fen >= 0", name="wage_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    seeker_no: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    category: Mapped[str] = mapped_column(String(20))
    district: Mapped[int] = mapped_column(Integer, index=True)  # where the person wants to work
    town: Mapped[str] = mapped_column(String(40))
    skills: Mapped[str] = mapped_column(String(400))
    trades: Mapped[str] = mapped_column(String(200))  # wanted trades, comma-separated
    wage_expected_fen: Mapped[int] = mapped_column(Fen)  # monthly minimum expected
    available_from: Mapped[dt.date | None] = mapped_column(Date)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    registered_by: Mapped[str] = mapped_column(String(60))


class JobApplication(Base):
    """A seeker's application to a post (应聘), and the hire that may follow."""

    __tablename__ = "job_applications"
    __table_args__ = (
        UniqueConstraint("post_id", "seeker_id"),
        CheckConstraint(_in("state", JOB_APPLICATION_STATES), name="state_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("job_posts.id", ondelete="CASCADE"), index=True)
    seeker_id: Mapped[int] = mapped_column(ForeignKey("job_seekers.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    score_milli: Mapped[int | None] = mapped_column(Integer)  # match score × 1000 when applied
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[str] = mapped_column(String(60))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(60))
    hire_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    employment_id: Mapped[int | None] = mapped_column(ForeignKey("employments.id", ondelete="SET NULL"))


class OnjobTraining(Timestamps, Base):
    """An on-job training course (岗位培训) run by a business, cooperative, association or artisan: the
    subject of an 在职职工岗位培训补贴 application (engine table ``onjob_trainings``)."""

    __tablename__ = "onjob_trainings"
    __table_args__ = (
        CheckConstraint(_in("provider_kind", ONJOB_PROVIDER_KINDS), name="provider_kind_valid"),
        CheckConstraint(_in("course_level", ONJOB_COURSE_LEVELS), name="course_level_valid"),
        CheckConstraint("trainees >= 1 AND trainees <= 1000", name="trainees_range"),
        CheckConstraint("completion_date >= start_date", name="dates_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_no: Mapped[str] = mapped_column(String(40), unique=True)
    provider_kind: Mapped[str] = mapped_column(String(20))
    business_id: Mapped[int | None] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    provider_name: Mapped[str | None] = mapped_column(String(120))  # an association (no registry row)
    founded_by_returning: Mapped[bool | None] = mapped_column(Boolean)  # providers without a business row
    district: Mapped[int] = mapped_column(Integer, index=True)
    course: Mapped[str] = mapped_column(String(80))
    course_level: Mapped[str] = mapped_column(String(20))
    skilled_post: Mapped[bool | None] = mapped_column(Boolean)
    trainees: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[dt.date] = mapped_column(Date)
    completion_date: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(60))
