"""Training (clauses 2.4–2.5): providers and their accreditation, the course catalogue, classes with their
teachers, enrolments (one per trainee and class: the subject of a provider's subsidy claim, numbered
``training_no``), attendance per session, and 项目制 purchases by a district.

- A trainee is a registry person (``person_id``); no name or number of a trainee is stored here.
- A teacher is a mentor of the pool (``mentor_id``) or a named teacher of the provider: the name is a
  field-cipher ciphertext (``name_enc``) and only its masked form is shown.
- A certificate is identified by ``certificate_code`` (unique); the PDF is drawn on demand from the record.
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen, Timestamps

PROVIDER_KINDS = ("vocational_school", "training_institution")
COURSE_KINDS = ("syb", "iyb", "online", "skills", "package")
CLASS_MODES = ("on_site", "direct_train", "night_school", "remote", "online")
CLASS_STATES = ("open", "closed", "finished")
ENROLMENT_STATES = ("enrolled", "waiting", "withdrawn", "completed", "not_completed")


def _in(col: str, values: tuple[str, ...]) -> str:
    return f"{col} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class TrainingProvider(Timestamps, Base):
    __tablename__ = "training_providers"
    __table_args__ = (CheckConstraint(_in("kind", PROVIDER_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(String(20), unique=True)  # = users.org_code of its accounts
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))
    district: Mapped[int] = mapped_column(Integer, index=True)
    uscc: Mapped[str | None] = mapped_column(String(18))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Accreditation(Timestamps, Base):
    """认定: which course kinds a provider may run, from when until when, granted by which district."""

    __tablename__ = "training_accreditations"
    __table_args__ = (CheckConstraint("valid_until >= valid_from", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("training_providers.id"), index=True)
    accreditation_no: Mapped[str] = mapped_column(String(40), unique=True)
    course_kinds: Mapped[str] = mapped_column(String(60))  # comma-separated COURSE_KINDS
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    district: Mapped[int] = mapped_column(Integer)  # the accrediting district
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class Course(Timestamps, Base):
    __tablename__ = "training_courses"
    __table_args__ = (
        CheckConstraint(_in("kind", COURSE_KINDS), name="kind"),
        CheckConstraint("hours > 0", name="hours_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_code: Mapped[str] = mapped_column(String(30), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(120))
    hours: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)


class TrainingClass(Timestamps, Base):
    __tablename__ = "training_classes"
    __table_args__ = (
        CheckConstraint(_in("mode", CLASS_MODES), name="mode"),
        CheckConstraint(_in("state", CLASS_STATES), name="state"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("sessions > 0", name="sessions_positive"),
        CheckConstraint("end_date >= start_date", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_no: Mapped[str] = mapped_column(String(30), unique=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("training_providers.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id"))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("training_purchases.id"), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    district: Mapped[int] = mapped_column(Integer, index=True)
    place: Mapped[str] = mapped_column(String(200))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    sessions: Mapped[int] = mapped_column(Integer)  # number of sessions attendance is taken for
    state: Mapped[str] = mapped_column(String(10), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)


class ClassTeacher(Base):
    __tablename__ = "training_class_teachers"
    __table_args__ = (CheckConstraint("(mentor_id IS NULL) <> (name_enc IS NULL)", name="one_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id", ondelete="CASCADE"), index=True)
    mentor_id: Mapped[int | None] = mapped_column(ForeignKey("mentors.id"))
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    name_masked: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str | None] = mapped_column(String(60))


class Enrolment(Timestamps, Base):
    """One trainee in one class: the ``trainings`` row of the engine (``training_no`` = its id)."""

    __tablename__ = "training_enrolments"
    __table_args__ = (
        UniqueConstraint("class_id", "person_id"),
        CheckConstraint(_in("state", ENROLMENT_STATES), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    training_no: Mapped[str] = mapped_column(String(30), unique=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("training_classes.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    state: Mapped[str] = mapped_column(String(14))
    waiting_seq: Mapped[int | None] = mapped_column(Integer)  # order on the waiting list
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the engine's result
    completion_date: Mapped[dt.date | None] = mapped_column(Date)
    certificate_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    certificate_issued_on: Mapped[dt.date | None] = mapped_column(Date)
    enrolled_by: Mapped[str] = mapped_column(String(60))


class Attendance(Base):
    __tablename__ = "training_attendance"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "session_no"),
        CheckConstraint("session_no > 0", name="session_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("training_enrolments.id", ondelete="CASCADE"), index=True
    )
    session_no: Mapped[int] = mapped_column(Integer)
    session_date: Mapped[dt.date] = mapped_column(Date)
    present: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(60))


class Purchase(Timestamps, Base):
    """项目制购买: a district buys training for N trainees at a price each from a provider."""

    __tablename__ = "training_purchases"
    __table_args__ = (
        CheckConstraint("trainees > 0", name="trainees_positive"),
        CheckConstraint("price_fen >= 0", name="price_nonnegative"),
        CheckConstraint(_in("course_kind", COURSE_KINDS), name="course_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_no: Mapped[str] = mapped_column(String(40), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("training_providers.id"), index=True)
    course_kind: Mapped[str] = mapped_column(String(10))
    trainees: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(Fen)  # per trainee
    signed_on: Mapped[dt.date] = mapped_column(Date)
    deliver_by: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(60))
