"""Mentor pool (创业导师库), service records, events, sealed draws, scores and the 渝创渝新 programme
(clauses 2.6 and 3.9).

- A mentor is a registry person (``person_id``): 身份证号 and phone stay encrypted in ``persons``.
- A draw's selection is stored only inside ``mentor_draws.manifest_enc`` (SM4-GCM with the field
  cipher); ``mentor_draw_slots`` holds the slots' status (notified / confirmed / declined) without
  the mentor, so staff see "slot 3 confirmed" and no name before the unseal time.
- Scores are stored encrypted (``score_enc``) until every panel member has scored.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
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

from xiangchuang.models.base import Base, Timestamps

MENTOR_LEVELS = ("city", "district")
MENTOR_STATUSES = ("active", "suspended", "retired")
EVENT_KINDS = ("competition_round", "competition_final", "project_review")
EVENT_STATES = ("planned", "committing", "drawn", "failed", "scoring", "closed")
SLOT_STATES = ("notified", "confirmed", "declined", "vacant")
SUPPORT_KINDS = ("brand", "financing", "sales_channel", "other")


class Mentor(Timestamps, Base):
    __tablename__ = "mentors"
    __table_args__ = (
        CheckConstraint("level IN ('city', 'district')", name="level"),
        CheckConstraint("status IN ('active', 'suspended', 'retired')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_no: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), unique=True)
    level: Mapped[str] = mapped_column(String(10))
    specialty: Mapped[str] = mapped_column(String(30))  # primary specialty: the draw's stratum
    other_specialties: Mapped[str | None] = mapped_column(String(200))
    employer_uscc: Mapped[str | None] = mapped_column(String(18))
    employer_name: Mapped[str | None] = mapped_column(String(120))
    district: Mapped[int] = mapped_column(Integer, index=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(12), default="active")
    user_id: Mapped[str | None] = mapped_column(String(60), unique=True)  # the mentor's login


class MentorRelation(Base):
    """A declared relative (spouse, direct line, collateral within 3 generations, close in-law)."""

    __tablename__ = "mentor_relations"
    __table_args__ = (UniqueConstraint("mentor_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"))
    relation: Mapped[str] = mapped_column(String(20))


class MentorInvolvement(Base):
    """Mentored, invested in or advised a person or business on a date (recusal within N years)."""

    __tablename__ = "mentor_involvements"
    __table_args__ = (CheckConstraint("(person_id IS NULL) <> (business_id IS NULL)", name="one_party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    kind: Mapped[str] = mapped_column(String(20))
    on_date: Mapped[dt.date] = mapped_column(Date)


class MentorService(Timestamps, Base):
    """A service (lecture, assessment, pairing, other); confirmed by the organiser it is a subject of
    the engine's ``mentor_service_subsidy``."""

    __tablename__ = "mentor_services"
    __table_args__ = (CheckConstraint("units > 0", name="units_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_no: Mapped[str] = mapped_column(String(40), unique=True)
    mentor_id: Mapped[int] = mapped_column(ForeignKey("mentors.id"), index=True)
    activity: Mapped[str] = mapped_column(String(20))
    units: Mapped[int] = mapped_column(Integer)
    district: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    organiser: Mapped[str] = mapped_column(String(120))
    rating: Mapped[str | None] = mapped_column(String(20))
    confirmed_by: Mapped[str | None] = mapped_column(String(60))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MentorEvent(Timestamps, Base):
    """A competition round or project review: projects, panel size, quotas, backups, draw times."""

    __tablename__ = "mentor_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_no: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    district: Mapped[int | None] = mapped_column(Integer)
    event_date: Mapped[dt.date] = mapped_column(Date)
    earliest_draw_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    unseal_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    panel_size: Mapped[int] = mapped_column(Integer)
    backups: Mapped[int] = mapped_column(Integer)
    quotas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    staff_person_ids: Mapped[list[int]] = mapped_column(JSON)
    recuse_same_district: Mapped[bool] = mapped_column(Boolean, default=False)
    public_value_source: Mapped[str | None] = mapped_column(String(200))
    public_value: Mapped[str | None] = mapped_column(String(200))
    tie_rule: Mapped[str] = mapped_column(String(40))  # stated before scoring
    trim_threshold: Mapped[int] = mapped_column(Integer)
    organiser_user: Mapped[str] = mapped_column(String(60))
    supervisor_user: Mapped[str] = mapped_column(String(60))
    chair_user: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12), default="planned")
    year: Mapped[int] = mapped_column(Integer)
    # Frozen when the last required commitment is in (before any reveal): the draw's inputs.
    inputs_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    inputs_sha256: Mapped[str | None] = mapped_column(String(64))
    inputs_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MentorEventProject(Base):
    __tablename__ = "mentor_event_projects"
    __table_args__ = (
        UniqueConstraint("event_id", "project_no"),
        CheckConstraint("person_id IS NOT NULL OR business_id IS NOT NULL", name="has_applicant"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("mentor_events.id", ondelete="CASCADE"), index=True)
    project_no: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"))
    is_returning: Mapped[bool] = mapped_column(Boolean, default=False)  # 返乡创业项目
    final_score_milli: Mapped[int | None] = mapped_column(Integer)  # trimmed mean × 1000
    rank: Mapped[int | None] = mapped_column(Integer)
    award: Mapped[str | None] = mapped_column(String(40))


class DrawCommitment(Base):
    __tablename__ = "mentor_draw_commitments"
    __table_args__ = (UniqueConstraint("event_id", "party"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("mentor_events.id", ondelete="CASCADE"))
    party: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(60))
    commitment: Mapped[str] = mapped_column(String(64))
    committed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    secret: Mapped[str | None] = mapped_column(String(64))  # revealed after the inputs are fixed
    revealed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MentorDraw(Base):
    __tablename__ = "mentor_draws"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("mentor_events.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(12))  # drawn | failed | incomplete
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    drawn_by: Mapped[str] = mapped_column(String(60))
    seed: Mapped[str] = mapped_column(String(64))
    inputs_sha256: Mapped[str] = mapped_column(String(64))
    failure: Mapped[str | None] = mapped_column(String(500))
    manifest_enc: Mapped[bytes] = mapped_column(LargeBinary)  # sealed: SM4-GCM, field mentor.draw
    version: Mapped[int] = mapped_column(Integer, default=1)


class MentorDrawSlot(Base):
    """A seat on the panel: stratum and status only, never the mentor."""

    __tablename__ = "mentor_draw_slots"
    __table_args__ = (UniqueConstraint("draw_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("mentor_draws.id", ondelete="CASCADE"), index=True)
    slot: Mapped[int] = mapped_column(Integer)
    stratum: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class MentorScore(Base):
    """One panel member's score of one project: sealed (encrypted) until all are in."""

    __tablename__ = "mentor_scores"
    __table_args__ = (UniqueConstraint("project_id", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("mentor_events.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("mentor_event_projects.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    score_enc: Mapped[bytes] = mapped_column(LargeBinary)
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AccelerationSelection(Base):
    """渝创渝新 acceleration: a supportable returning-entrepreneur project selected for a year."""

    __tablename__ = "acceleration_selections"
    __table_args__ = (UniqueConstraint("year", "project_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("mentor_event_projects.id"))
    selected_by: Mapped[str] = mapped_column(String(60))
    selected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(200))


class AccelerationSupport(Base):
    """Follow-up support (brand building, financing, sales channels) with progress over time."""

    __tablename__ = "acceleration_supports"
    __table_args__ = (CheckConstraint("progress BETWEEN 0 AND 100", name="progress_pct"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    selection_id: Mapped[int] = mapped_column(
        ForeignKey("acceleration_selections.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    on_date: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(500))
    progress: Mapped[int] = mapped_column(Integer)
    recorded_by: Mapped[str] = mapped_column(String(60))
