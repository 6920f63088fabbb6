"""Employment relations (labour contracts) and monthly social-insurance contributions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.engine.dates import FIRST_DATE, LAST_DATE
from xiangchuang.models.base import Base, Fen


class Employment(Base):
    __tablename__ = "employments"
    __table_args__ = (
        UniqueConstraint("business_id", "person_id", "hire_date"),
        # statistics: the employers with an employment running in a month, from the index alone
        Index("ix_employments_business_active", "business_id", "hire_date", "left_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employment_no: Mapped[str] = mapped_column(String(40), unique=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    hire_date: Mapped[dt.date] = mapped_column(Date)
    contract: Mapped[bool | None] = mapped_column(Boolean)
    contract_start: Mapped[dt.date | None] = mapped_column(Date)
    contract_end: Mapped[dt.date | None] = mapped_column(Date)
    post: Mapped[str | None] = mapped_column(String(60))
    left_on: Mapped[dt.date | None] = mapped_column(Date)


class Contribution(Base):
    """One month of social insurance for one employment: employer parts by type, individual total."""

    __tablename__ = "contributions"
    __table_args__ = (
        UniqueConstraint("employment_id", "month"),
        # (a month of the supported range, 1900-01 … 2099-12: README choice 28, migration 0030)
        CheckConstraint(
            f"month >= {FIRST_DATE:%Y%m} AND month <= {LAST_DATE:%Y%m} AND month % 100 BETWEEN 1 AND 12",
            name="month_valid",
        ),
        CheckConstraint(
            "employer_pension_fen >= 0 AND employer_medical_fen >= 0 AND employer_maternity_fen >= 0 "
            "AND employer_unemployment_fen >= 0 AND employer_injury_fen >= 0 AND individual_fen >= 0",
            name="amounts_non_negative",
        ),
        # statistics: contributions of a quarter's months; the month's work-injury payers from the index alone
        Index("ix_contributions_month", "month", "employment_id", "employer_injury_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employment_id: Mapped[int] = mapped_column(ForeignKey("employments.id", ondelete="CASCADE"))
    month: Mapped[int] = mapped_column(Integer)  # YYYYMM
    employer_pension_fen: Mapped[int] = mapped_column(Fen, default=0)
    employer_medical_fen: Mapped[int] = mapped_column(Fen, default=0)  # 含大额医疗
    employer_maternity_fen: Mapped[int] = mapped_column(Fen, default=0)
    employer_unemployment_fen: Mapped[int] = mapped_column(Fen, default=0)
    employer_injury_fen: Mapped[int] = mapped_column(Fen, default=0)
    individual_fen: Mapped[int] = mapped_column(Fen, default=0)
