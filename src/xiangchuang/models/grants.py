"""The register of everything already granted, across districts.

Every rule that says once / 不重复 / at most n years reads it, and the database enforces it:
- one row per (program, subject, period);
- startup_subsidy: at most 3 claim years per business — each claim takes a ``slot`` 1..3 and
  (program, subject, slot) is unique;
- online_sales_subsidy: one per business, ever; job_subsidy: one per hired person, ever;
  training_*: each kind once per person — partial unique indexes (a SYB top-up, period 补差, is a
  second row: README choice 6).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen, Timestamps

ONCE_PER_SUBJECT = ("online_sales_subsidy", "training_syb", "training_online", "training_iyb")
# The SYB top-up (补足差额, README choice 6) is a second row of the trainee with this period
# (= engine.assemble.SYB_TOP_UP_PERIOD, checked by a test; models import nothing from the engine):
# left out of the once-per-subject index; (program, subject_key, period) keeps one per trainee.
TOP_UP_PERIOD = "补差"
_ONCE_WHERE = (
    f"program IN ({','.join(repr(p) for p in ONCE_PER_SUBJECT)}) "
    f"AND NOT (program = 'training_syb' AND period = '{TOP_UP_PERIOD}')"
)


class Grant(Timestamps, Base):
    __tablename__ = "grants"
    __table_args__ = (
        UniqueConstraint("program", "subject_key", "period"),
        UniqueConstraint("program", "subject_key", "slot"),
        CheckConstraint("amount_fen >= 0", name="amount_non_negative"),
        CheckConstraint("program <> 'startup_subsidy' OR (slot BETWEEN 1 AND 3)", name="startup_slots"),
        CheckConstraint("program <> 'job_subsidy' OR person_key IS NOT NULL", name="job_person"),
        Index(
            "uq_grants_once_per_subject",
            "program",
            "subject_key",
            unique=True,
            sqlite_where=text(_ONCE_WHERE),
            postgresql_where=text(_ONCE_WHERE),
        ),
        Index(
            "uq_grants_months_chain",
            "program",
            "person_key",
            "months_from",
            unique=True,
            sqlite_where=text("months_from IS NOT NULL"),
            postgresql_where=text("months_from IS NOT NULL"),
        ),
        Index(
            "uq_grants_job_once_per_person",
            "program",
            "person_key",
            unique=True,
            sqlite_where=text("program = 'job_subsidy'"),
            postgresql_where=text("program = 'job_subsidy'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program: Mapped[str] = mapped_column(String(40))
    subject_kind: Mapped[str] = mapped_column(String(20))  # business | person | carrier | mentor_service | …
    subject_key: Mapped[str] = mapped_column(String(60))  # business_no / person_no / carrier_no …
    person_key: Mapped[str | None] = mapped_column(String(60))  # the hired person, for job / SI subsidies
    period: Mapped[str] = mapped_column(String(40))
    slot: Mapped[int | None] = mapped_column(Integer)
    months: Mapped[int | None] = mapped_column(Integer)
    months_from: Mapped[int | None] = mapped_column(Integer)  # months registered before this row (workflow)
    amount_fen: Mapped[int] = mapped_column(Fen)
    district: Mapped[int] = mapped_column(Integer, index=True)
    source: Mapped[str] = mapped_column(String(40))  # import:<file> | workflow:<application no>
    granted_on: Mapped[dt.date | None] = mapped_column(Date)
