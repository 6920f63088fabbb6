"""One-stop service (clause 3.7): 创业服务专门窗口, the 就业创业服务超市 catalogue and its requests, services a
district purchases (购买服务) and the training of grass-roots service staff; and clause 5.13's 领导干部联系企业
(officials assigned to businesses, visits, problems with progress notes and the business's confirmation)
and the inter-department coordination mechanism (会商: meetings, decisions, tasks).

No personal number or phone is stored here: an entrepreneur is named by the registry's person / business
ids and the account login; staff by their login.
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen, Timestamps

WINDOW_LEVELS = ("district", "town")
PROVIDER_KINDS = ("public", "market")
OFFERING_CATEGORIES = (
    "registration",
    "accounting",
    "legal",
    "financing",
    "ecommerce",
    "angel_fund",
    "venture_fund",
    "policy",
    "other",
)
REQUEST_STATES = ("submitted", "accepted", "completed", "rejected", "cancelled")
PROBLEM_STATES = ("open", "in_progress", "resolved", "closed")
TASK_STATES = ("open", "done")
VISIT_MODES = ("on_site", "phone", "meeting")


class ServiceWindow(Timestamps, Base):
    """创业服务专门窗口 at a district or town (镇街) 政务服务中心."""

    __tablename__ = "svc_windows"
    __table_args__ = (CheckConstraint("level IN ('district', 'town')", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    window_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(10))
    district: Mapped[int] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(60))  # the 镇街 of a town window
    centre: Mapped[str] = mapped_column(String(120))  # the 政务服务中心 it sits in
    address: Mapped[str] = mapped_column(String(200))  # the centre's public address (not a person's)
    hours: Mapped[str] = mapped_column(String(120))
    handles: Mapped[list[str]] = mapped_column(JSON)  # matters handled (codes of MATTERS)
    staff_logins: Mapped[list[str]] = mapped_column(JSON)  # the clerks' accounts
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServiceOffering(Timestamps, Base):
    """A service of the 就业创业服务超市: from a public agency or a contracted market provider."""

    __tablename__ = "svc_offerings"
    __table_args__ = (CheckConstraint("provider_kind IN ('public', 'market')", name="provider_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_no: Mapped[str] = mapped_column(String(40), unique=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    title: Mapped[str] = mapped_column(String(120))
    provider_name: Mapped[str] = mapped_column(String(120))
    provider_kind: Mapped[str] = mapped_column(String(10))
    district: Mapped[int | None] = mapped_column(Integer, index=True)  # NULL: city-wide
    description: Mapped[str] = mapped_column(String(500))
    fee_note: Mapped[str] = mapped_column(String(120))  # 免费 / 政府购买 / 市场价…
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ServicePurchase(Timestamps, Base):
    """A service a district buys (购买基本创业服务成果): contract, provider, quantity and unit price."""

    __tablename__ = "svc_purchases"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_fen >= 0", name="price_non_negative"),
        CheckConstraint("end_on >= start_on", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_no: Mapped[str] = mapped_column(String(40), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    contract_no: Mapped[str] = mapped_column(String(60))
    provider_name: Mapped[str] = mapped_column(String(120))
    offering_id: Mapped[int] = mapped_column(ForeignKey("svc_offerings.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(Fen)
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(60))


class ServiceRequest(Timestamps, Base):
    """An entrepreneur's request for a catalogue service, tracked to completion and rated."""

    __tablename__ = "svc_requests"
    __table_args__ = (
        CheckConstraint(
            "state IN ('submitted', 'accepted', 'completed', 'rejected', 'cancelled')", name="state"
        ),
        CheckConstraint("rating IS NULL OR (rating BETWEEN 1 AND 5)", name="rating_range"),
        CheckConstraint("rating IS NULL OR state = 'completed'", name="rated_when_completed"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_no: Mapped[str] = mapped_column(String(40), unique=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("svc_offerings.id"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(60))
    window_id: Mapped[int | None] = mapped_column(ForeignKey("svc_windows.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    requester_login: Mapped[str] = mapped_column(String(60), index=True)
    on_behalf_by: Mapped[str | None] = mapped_column(String(60))  # 事务代办: the clerk who filed it
    detail: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(12), index=True)
    handler_login: Mapped[str | None] = mapped_column(String(60))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("svc_purchases.id"), index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    accepted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(500))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(300))
    rated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class StaffTraining(Timestamps, Base):
    """A training record of a grass-roots (基层) service staff member."""

    __tablename__ = "svc_staff_trainings"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(60))
    staff_name: Mapped[str] = mapped_column(String(60))  # plain like persons.name; shown masked
    staff_login: Mapped[str | None] = mapped_column(String(60))
    topic: Mapped[str] = mapped_column(String(120))
    organiser: Mapped[str] = mapped_column(String(120))
    trained_on: Mapped[dt.date] = mapped_column(Date)
    hours: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    recorded_by: Mapped[str] = mapped_column(String(60))


class LiaisonOfficial(Timestamps, Base):
    """A leading official (领导干部) who keeps contact with returning entrepreneurs' businesses."""

    __tablename__ = "svc_officials"

    id: Mapped[int] = mapped_column(primary_key=True)
    official_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(60))  # 职务
    unit: Mapped[str] = mapped_column(String(120))  # 单位
    district: Mapped[int] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class LiaisonAssignment(Base):
    """Official ↔ business from ``since`` to ``until`` (history kept); one open assignment per business."""

    __tablename__ = "svc_assignments"
    __table_args__ = (
        Index(
            "uq_svc_assignments_open_business",
            "business_id",
            unique=True,
            sqlite_where=text("until IS NULL"),
            postgresql_where=text("until IS NULL"),
        ),
        CheckConstraint("until IS NULL OR until >= since", name="period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("svc_officials.id"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    since: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    assigned_by: Mapped[str] = mapped_column(String(60))
    end_reason: Mapped[str | None] = mapped_column(String(200))


class LiaisonVisit(Timestamps, Base):
    """A visit (走访) of an official to a business."""

    __tablename__ = "svc_visits"
    __table_args__ = (CheckConstraint("mode IN ('on_site', 'phone', 'meeting')", name="mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_no: Mapped[str] = mapped_column(String(40), unique=True)
    official_id: Mapped[int] = mapped_column(ForeignKey("svc_officials.id"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    visited_on: Mapped[dt.date] = mapped_column(Date)
    mode: Mapped[str] = mapped_column(String(10))
    summary: Mapped[str] = mapped_column(String(1000))
    recorded_by: Mapped[str] = mapped_column(String(60))


class LiaisonProblem(Timestamps, Base):
    """A problem a business raised: owner, deadline, progress notes, a resolution the business confirms."""

    __tablename__ = "svc_problems"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'in_progress', 'resolved', 'closed')", name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_no: Mapped[str] = mapped_column(String(40), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("svc_officials.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("svc_visits.id"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(1000))
    owner_department: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(60))  # the responsible person's account or post
    raised_on: Mapped[dt.date] = mapped_column(Date)
    due_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(12), index=True)
    resolution: Mapped[str | None] = mapped_column(String(1000))
    resolved_on: Mapped[dt.date | None] = mapped_column(Date)
    confirmed_on: Mapped[dt.date | None] = mapped_column(Date)
    confirmed_by: Mapped[str | None] = mapped_column(String(60))
    raised_by: Mapped[str] = mapped_column(String(60))


class ProblemNote(Base):
    """A progress note on a problem (also the business's rejection of a proposed resolution)."""

    __tablename__ = "svc_problem_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("svc_problems.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(12))  # progress / resolution / rejected / confirmed
    note: Mapped[str] = mapped_column(String(1000))


class CoordinationMeeting(Timestamps, Base):
    """A meeting of the inter-department coordination mechanism (会商机制) and its decisions."""

    __tablename__ = "svc_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_no: Mapped[str] = mapped_column(String(40), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(120))
    convener: Mapped[str] = mapped_column(String(60))
    departments: Mapped[list[str]] = mapped_column(JSON)
    decisions: Mapped[list[Any]] = mapped_column(JSON)  # the decisions, one text each
    recorded_by: Mapped[str] = mapped_column(String(60))


class CoordinationTask(Timestamps, Base):
    """A task assigned at a meeting: department, owner, deadline; tracked to completion."""

    __tablename__ = "svc_tasks"
    __table_args__ = (CheckConstraint("state IN ('open', 'done')", name="state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_no: Mapped[str] = mapped_column(String(40), unique=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("svc_meetings.id", ondelete="CASCADE"), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    department: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(500))
    due_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(8), index=True)
    done_on: Mapped[dt.date | None] = mapped_column(Date)
    done_note: Mapped[str | None] = mapped_column(String(500))
    done_by: Mapped[str | None] = mapped_column(String(60))
