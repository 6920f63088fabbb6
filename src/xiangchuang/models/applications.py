"""Applications (一网通办): the application, its immutable determinations, its transition log, the
objections raised while it is publicised, its attachments (materials) and the invitation it came from.

- ``live_key`` is ``kind|subject_key|period`` while the application is live and NULL once it is
  withdrawn, not accepted or rejected; its unique constraint is what stops a subject from holding two
  live applications for the same program and period, also under concurrency (no check-then-insert).
- ``version`` is the optimistic lock: every transition updates ``WHERE version = :seen`` and bumps it.
- ``exclusive_key`` carries the notice's once-only rules across periods and subjects (e.g. one
  online-sales subsidy per business ever, by either route; one job subsidy per hired person across
  employers): unique, NULL when the kind has no such rule or the application has ended.
- ``form`` holds the form's answers without personal numbers (those live encrypted in the registry).
- Determinations are written once and never updated (the migration adds a trigger refusing UPDATE).
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
    Index,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen

APPLICATION_STATES = (
    "invited",
    "draft",
    "submitted",
    "accepted",
    "first_review",
    "second_review",
    "publicity",
    "objection",
    "approved",
    "disbursing",
    "disbursed",
    "returned",
    "not_accepted",
    "rejected",
    "withdrawn",
    "declined",
    "expired",
)
ENDED_STATES = (
    "not_accepted",
    "rejected",
    "withdrawn",
    "declined",
    "expired",
)  # no longer live: live_key is NULL
DETERMINATION_STAGES = (
    "checkup",
    "first_review",
    "second_review",
    "approval",
)  # approval: a refused 核准 (0031)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(_in("state", APPLICATION_STATES), name="state_known"),
        CheckConstraint(
            f"(live_key IS NULL) = ({_in('state', ENDED_STATES)})",
            name="live_key_iff_live",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("exclusive_key IS NULL OR live_key IS NOT NULL", name="exclusive_only_live"),
        CheckConstraint("amount_requested_fen IS NULL OR amount_requested_fen >= 0", name="requested_nonneg"),
        CheckConstraint("amount_approved_fen IS NULL OR amount_approved_fen >= 0", name="approved_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject_table: Mapped[str] = mapped_column(String(20))  # businesses | persons | hires | carriers | …
    subject_key: Mapped[str] = mapped_column(String(64), index=True)  # business_no, person_no, …
    period: Mapped[str] = mapped_column(String(20))  # claim period: "2024", "once", "202401-202412", …
    district: Mapped[int] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(60), index=True)  # 街道/乡镇 where it was made
    state: Mapped[str] = mapped_column(String(20), index=True)
    live_key: Mapped[str | None] = mapped_column(String(140), unique=True)
    exclusive_key: Mapped[str | None] = mapped_column(String(140), unique=True)
    applicant_user: Mapped[str] = mapped_column(String(64), index=True)  # the applicant's account
    applicant_person_no: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str | None] = mapped_column(String(64))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # 事务代办
    form: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount_requested_fen: Mapped[int | None] = mapped_column(Fen)
    amount_approved_fen: Mapped[int | None] = mapped_column(Fen)
    return_note: Mapped[str | None] = mapped_column(String(500))  # 退回补正: what to fix
    decision_reason: Mapped[str | None] = mapped_column(String(500))  # 不予受理 / 不予批准
    publicity_start: Mapped[dt.date | None] = mapped_column(Date)
    publicity_end: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Determination(Base):
    """The engine's result for one application at one stage, with the facts and versions it used."""

    __tablename__ = "determinations"
    __table_args__ = (CheckConstraint(_in("stage", DETERMINATION_STAGES), name="stage_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(
        String(20)
    )  # eligible | ineligible | unknown | not_in_registry | not_applicable
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine_version: Mapped[str] = mapped_column(String(20))
    parameters_version: Mapped[str] = mapped_column(String(80))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TransitionLog(Base):
    __tablename__ = "application_transitions"
    __table_args__ = (  # statistics: events by action and time; steps left in a period
        # an action's transitions in a period, and "no earlier transition of this action" (first
        # submission, first approval: (at, id) order), from the index alone
        Index("ix_application_transitions_action_at", "action", "at", "application_id", "id"),
        # the steps left in a period with when they were entered (the step durations: an index range
        # over the period, nothing else read from the table)
        Index("ix_application_transitions_at", "at", "application_id", "from_state", "entered_at", "id"),
        # an application's history in order (a new transition's predecessor)
        Index("ix_application_transitions_history", "application_id", "at", "id", "from_state"),
        # "no earlier transition of this action" (first submission, first approval) from the index alone
        Index("ix_application_transitions_first", "application_id", "action", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # when the step left here (from_state) was entered: the ``at`` of the application's previous transition
    # in (at, id) order; NULL for its first transition. Derived, stored when the row is written
    # (applications.repository.append_transition) so the step durations need no window over histories.
    entered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Objection(Base):
    """An objection raised during 公示; approval waits until every objection is resolved."""

    __tablename__ = "application_objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    text: Mapped[str] = mapped_column(String(1000))
    raised_by: Mapped[str] = mapped_column(String(64))
    raised_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(1000))
    publicity_line_id: Mapped[int | None] = mapped_column(ForeignKey("publicity_lines.id"), index=True)


class Attachment(Base):
    """One uploaded material. The file lives under the data directory at a path made of its SHA-256
    (content-addressed); the user's file name is kept, sanitised, only as metadata here."""

    __tablename__ = "application_attachments"
    __table_args__ = (
        UniqueConstraint("application_id", "material", "sha256"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("file_type IN ('pdf', 'jpeg', 'png', 'xlsx', 'docx', 'ofd')", name="file_type_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    material: Mapped[str] = mapped_column(String(40))
    original_name: Mapped[str] = mapped_column(String(120))
    file_type: Mapped[str] = mapped_column(String(10))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploader_role: Mapped[str] = mapped_column(String(30))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class Invitation(Base):
    """免申即享: an application pre-filled from one stored 政策找人 result. One per (run, subject, program)."""

    __tablename__ = "application_invitations"
    __table_args__ = (UniqueConstraint("run_id", "subject_key", "program"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("match_results.id"))
    program: Mapped[str] = mapped_column(String(40))
    subject_key: Mapped[str] = mapped_column(String(64))
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
