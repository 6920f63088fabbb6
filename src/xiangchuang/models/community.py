"""Support after a business fails (3.10), places and trades (5.14), typical entrepreneurs (5.15).

- ``closure_cases``: a closed (deregistered) business offered support; the founder's consent (date and
  scope: which referrals) is recorded on the case. ``closure_referrals``: one referral per kind
  (employment services, employment assistance, social relief) with owner, follow-up date and outcome;
  ``closure_followups``: the follow-up log.
- ``places`` (towns and villages) with ``place_tags`` (一乡一业 / 一村一品; businesses carry the
  registry's ``business_tags``), ``place_designations`` (demonstration villages and towns),
  ``rural_projects`` (信息进村入户 / 电子商务进农村) and the businesses they reach.
- ``nominations`` of typical entrepreneurs with their evidence, reviewed by a panel drawn with the mentor
  draw (``mentor_events``: the nomination is a project of the event), the person's publication consent
  (the name to publish is encrypted) and ``commendations``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Timestamps

REFERRAL_KINDS = ("employment_service", "employment_assistance", "social_relief")
CASE_STATES = ("offered", "consented", "declined", "withdrawn", "closed")
REFERRAL_STATES = ("referred", "in_progress", "completed", "cancelled")
PLACE_KINDS = ("town", "village")
PROJECT_KINDS = ("info_to_village", "ecommerce_to_rural")
NOMINATION_CATEGORIES = ("returning_entrepreneur", "rural_business_leader")
NOMINATION_STATES = ("nominated", "in_review", "selected", "not_selected", "published")


class ClosureCase(Timestamps, Base):
    __tablename__ = "closure_cases"
    __table_args__ = (
        CheckConstraint(
            "state IN ('offered', 'consented', 'declined', 'withdrawn', 'closed')", name="state_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(40), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)  # the founder
    district: Mapped[int] = mapped_column(Integer, index=True)
    closed_on: Mapped[dt.date] = mapped_column(Date)
    offered_on: Mapped[dt.date] = mapped_column(Date)
    offered_by: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(12), default="offered")
    consent_on: Mapped[dt.date | None] = mapped_column(Date)
    consent_scope: Mapped[list[str] | None] = mapped_column(JSON)  # referral kinds consented to
    consent_via: Mapped[str | None] = mapped_column(String(12))  # self | staff (a signed paper form)
    consent_recorded_by: Mapped[str | None] = mapped_column(String(60))
    withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClosureReferral(Timestamps, Base):
    __tablename__ = "closure_referrals"
    __table_args__ = (
        UniqueConstraint("case_id", "kind"),
        CheckConstraint("state IN ('referred', 'in_progress', 'completed', 'cancelled')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_no: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("closure_cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    agency: Mapped[str] = mapped_column(String(120))
    owner: Mapped[str] = mapped_column(String(60))  # the staff member following it up
    state: Mapped[str] = mapped_column(String(12), default="referred")
    referred_on: Mapped[dt.date] = mapped_column(Date)
    next_followup_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_on: Mapped[dt.date | None] = mapped_column(Date)
    outcome_note: Mapped[str | None] = mapped_column(String(500))


class ClosureFollowup(Base):
    __tablename__ = "closure_followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(
        ForeignKey("closure_referrals.id", ondelete="CASCADE"), index=True
    )
    on_date: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(60))
    next_followup_on: Mapped[dt.date | None] = mapped_column(Date)


class Place(Timestamps, Base):
    """A town (乡镇/街道) or village (村/社区) of a district."""

    __tablename__ = "places"
    __table_args__ = (CheckConstraint("kind IN ('town', 'village')", name="kind_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(8))
    district: Mapped[int] = mapped_column(Integer, index=True)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))  # a village's town


class PlaceTag(Base):
    __tablename__ = "place_tags"
    __table_args__ = (UniqueConstraint("place_id", "tag_kind", "tag"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    tag_kind: Mapped[str] = mapped_column(String(20))
    tag: Mapped[str] = mapped_column(String(60))


class PlaceDesignation(Base):
    """A demonstration village or town (示范村镇): title, level, date and document."""

    __tablename__ = "place_designations"
    __table_args__ = (UniqueConstraint("place_id", "title", "designated_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    place_id: Mapped[int] = mapped_column(ForeignKey("places.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(12))  # national | provincial | city | district
    designated_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(120))
    tag: Mapped[str | None] = mapped_column(String(60))  # the product it was designated for


class RuralProject(Timestamps, Base):
    """A 信息进村入户 or 电子商务进农村 project."""

    __tablename__ = "rural_projects"
    __table_args__ = (
        CheckConstraint("kind IN ('info_to_village', 'ecommerce_to_rural')", name="kind_known"),
        CheckConstraint("end_on IS NULL OR end_on >= start_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(120))
    district: Mapped[int] = mapped_column(Integer, index=True)
    place_id: Mapped[int | None] = mapped_column(ForeignKey("places.id"))
    operator: Mapped[str | None] = mapped_column(String(120))
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)


class ProjectReach(Base):
    __tablename__ = "rural_project_reach"
    __table_args__ = (UniqueConstraint("project_id", "business_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rural_projects.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    reached_on: Mapped[dt.date] = mapped_column(Date)
    service: Mapped[str | None] = mapped_column(String(200))


class Nomination(Timestamps, Base):
    """A typical-entrepreneur nomination; its review is a project of a mentor event (drawn panel)."""

    __tablename__ = "nominations"
    __table_args__ = (
        CheckConstraint(
            "category IN ('returning_entrepreneur', 'rural_business_leader')", name="category_known"
        ),
        CheckConstraint(
            "state IN ('nominated', 'in_review', 'selected', 'not_selected', 'published')", name="state_known"
        ),
        UniqueConstraint("person_id", "year", "category"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_no: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    category: Mapped[str] = mapped_column(String(24))
    district: Mapped[int] = mapped_column(Integer, index=True)
    year: Mapped[int] = mapped_column(Integer)
    nominated_on: Mapped[dt.date] = mapped_column(Date)
    nominated_by: Mapped[str] = mapped_column(String(60))
    headline: Mapped[str] = mapped_column(String(120))
    story: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)  # jobs created, growth (from the registry)
    state: Mapped[str] = mapped_column(String(14), default="nominated")
    event_id: Mapped[int | None] = mapped_column(ForeignKey("mentor_events.id"), index=True)
    score_milli: Mapped[int | None] = mapped_column(Integer)
    rank: Mapped[int | None] = mapped_column(Integer)
    consent_on: Mapped[dt.date | None] = mapped_column(Date)
    consent_name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # the name consented to publish
    consent_withdrawn_on: Mapped[dt.date | None] = mapped_column(Date)
    published_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Commendation(Base):
    __tablename__ = "commendations"
    __table_args__ = (UniqueConstraint("nomination_id", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    nomination_id: Mapped[int] = mapped_column(ForeignKey("nominations.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(12))
    awarded_on: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(120))
    recorded_by: Mapped[str] = mapped_column(String(60))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
