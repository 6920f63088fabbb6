"""Quarterly statistics (clause 5.13): published figures of closed quarters, their revisions, and alerts.

- ``stat_publications``: one row per publication of a quarter. Revision 0 is the quarter close (the
  published figures); revision n ≥ 1 is a later recomputation that differed, dated and signed. A quarter
  is closed iff its revision 0 exists; (quarter, revision) is unique, so two concurrent closes cannot
  both publish.
- ``stat_figures``: the figures of a publication, one row per (indicator, district, dimension value).
  Revision 0 holds every figure; a revision holds only the figures that changed (with the value it
  replaces). ``district`` 0 is the city total (全市). Values are integers in the indicator's base unit
  (persons, fen, seconds …). Rows are never updated.
- ``stat_alerts``: monitoring alerts. ``open_key`` is the rule's key for the finding while the alert is
  open and NULL once resolved; it is unique, so re-running the rules never opens a second alert for
  the same finding.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base

ALERT_STATES = ("open", "resolved")


class StatPublication(Base):
    __tablename__ = "stat_publications"
    __table_args__ = (
        UniqueConstraint("quarter", "revision"),
        CheckConstraint("revision >= 0", name="revision_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)  # 2026Q3
    revision: Mapped[int] = mapped_column(Integer)
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    figure_count: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 over the canonical figures of this row
    note: Mapped[str | None] = mapped_column(String(500))


class StatFigure(Base):
    __tablename__ = "stat_figures"
    __table_args__ = (UniqueConstraint("publication_id", "indicator", "district", "dim"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(
        ForeignKey("stat_publications.id", ondelete="CASCADE"), index=True
    )
    indicator: Mapped[str] = mapped_column(String(60))
    district: Mapped[int] = mapped_column(Integer)  # 0 = 全市
    dim: Mapped[str] = mapped_column(String(60))  # "" when the indicator has no dimension
    value: Mapped[int] = mapped_column(BigInteger)
    previous: Mapped[int | None] = mapped_column(BigInteger)  # revisions: the value it replaces


class StatAlert(Base):
    __tablename__ = "stat_alerts"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'resolved')", name="state_known"),
        CheckConstraint("(open_key IS NULL) = (state = 'resolved')", name="open_key_iff_open"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), index=True)
    finding_key: Mapped[str] = mapped_column(String(160))
    open_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    district: Mapped[int | None] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(40))  # the responsible role (outbox recipient)
    subject: Mapped[str] = mapped_column(String(120))  # table:key, never a personal value
    message: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), index=True)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    outbox_id: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolution: Mapped[str | None] = mapped_column(String(500))
