"""公示 publicity lists: one batch per district and publication day, one line per application listed.

A line keeps what was published (program, business name, amount) and a reference to the person; the
name and 身份证号 are masked when the list is rendered (the ciphertext never leaves the registry).
A line whose application goes back to 复审 after an upheld objection is marked ``withdrawn``; when the
application passes again it is listed anew in that day's batch.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen

LINE_STATUSES = ("listed", "withdrawn")


class PublicityBatch(Base):
    __tablename__ = "publicity_batches"
    __table_args__ = (
        UniqueConstraint("district", "start_date"),
        CheckConstraint("end_date >= start_date", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PublicityLine(Base):
    __tablename__ = "publicity_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq"),
        UniqueConstraint("batch_id", "application_id"),
        CheckConstraint("status IN ('listed', 'withdrawn')", name="status_known"),
        CheckConstraint("amount_fen IS NULL OR amount_fen >= 0", name="amount_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("publicity_batches.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    business_name: Mapped[str | None] = mapped_column(String(120))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(String(10), default="listed")
