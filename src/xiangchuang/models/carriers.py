"""Carriers (返乡创业园, 孵化基地, stations, e-commerce centres, logistics parks), their workstations,
tenancies, free-workstation allocations, monthly bills with reductions, and yearly ratings.

``Carrier`` and ``Tenancy`` are read by the registry assembler (the engine's ``carriers`` table and the
businesses' tenancy facts); the other tables belong to the carriers service (``xiangchuang.carriers``).
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
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen

CARRIER_KINDS = ("incubator", "returning_park", "station", "ecommerce_center", "logistics_park")
CARRIER_LEVELS = ("national", "municipal", "district")
RATINGS = ("A", "B", "C", "none")


class Carrier(Base):
    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    level: Mapped[str] = mapped_column(String(20))
    district: Mapped[int] = mapped_column(Integer, index=True)
    municipal_date: Mapped[dt.date | None] = mapped_column(Date)
    national_date: Mapped[dt.date | None] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)
    schedule: Mapped[str | None] = mapped_column(Text)  # 入驻年次:场租%/物业%/水电%;…
    operator: Mapped[str | None] = mapped_column(String(120))
    # Added by the carriers service (0016): the place, the district-level recognition date, the services
    # offered (codes, comma-separated) and the operating organisation's code (users.org_code).
    address: Mapped[str | None] = mapped_column(String(200))
    district_date: Mapped[dt.date | None] = mapped_column(Date)
    services: Mapped[str | None] = mapped_column(String(300))
    operator_org_code: Mapped[str | None] = mapped_column(String(20), index=True)


class Tenancy(Base):
    __tablename__ = "tenancies"
    __table_args__ = (UniqueConstraint("business_id", "carrier_id", "start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date | None] = mapped_column(Date)
    workstation: Mapped[str | None] = mapped_column(String(40))
    rent_fen: Mapped[int | None] = mapped_column(Fen)
    property_fee_fen: Mapped[int | None] = mapped_column(Fen)
    utilities_fen: Mapped[int | None] = mapped_column(Fen)


class Workstation(Base):
    """A numbered workstation (工位) of a carrier; ``free`` = offered as a free startup workstation."""

    __tablename__ = "carrier_workstations"
    __table_args__ = (UniqueConstraint("carrier_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    free: Mapped[bool] = mapped_column(Boolean, default=False)


class WorkstationAllocation(Base):
    """A free workstation allocated to a person (free_workstation, decided by the engine), with its term
    and renewals. ``status``: active | ended."""

    __tablename__ = "workstation_allocations"
    __table_args__ = (CheckConstraint("status IN ('active', 'ended')", name="status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_no: Mapped[str] = mapped_column(String(30), unique=True)
    workstation_id: Mapped[int] = mapped_column(
        ForeignKey("carrier_workstations.id", ondelete="CASCADE"), index=True
    )
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    start: Mapped[dt.date] = mapped_column(Date)
    end: Mapped[dt.date] = mapped_column(Date)  # last day of the current term
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    decision: Mapped[str] = mapped_column(Text)  # the engine's sentence(s) of the last decision
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CarrierBill(Base):
    """One tenant's bill for one month, with the reduction the engine computed (carrier_rent_reduction)."""

    __tablename__ = "carrier_bills"
    __table_args__ = (
        UniqueConstraint("tenancy_id", "month"),
        CheckConstraint("reduction_fen >= 0 AND reduction_fen <= gross_fen", name="reduction_bounded"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_no: Mapped[str] = mapped_column(String(30), unique=True)
    tenancy_id: Mapped[int] = mapped_column(ForeignKey("tenancies.id", ondelete="CASCADE"), index=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    month: Mapped[int] = mapped_column(Integer, index=True)  # YYYYMM
    rent_fen: Mapped[int] = mapped_column(Fen)
    property_fee_fen: Mapped[int] = mapped_column(Fen)
    utilities_fen: Mapped[int] = mapped_column(Fen)
    gross_fen: Mapped[int] = mapped_column(Fen)
    tenancy_year: Mapped[int | None] = mapped_column(Integer)
    rent_cut_fen: Mapped[int] = mapped_column(Fen, default=0)
    property_cut_fen: Mapped[int] = mapped_column(Fen, default=0)
    utilities_cut_fen: Mapped[int] = mapped_column(Fen, default=0)
    reduction_fen: Mapped[int] = mapped_column(Fen, default=0)
    due_fen: Mapped[int] = mapped_column(Fen)
    status: Mapped[str] = mapped_column(
        String(20)
    )  # the engine's status: eligible | ineligible | undetermined
    reason: Mapped[str] = mapped_column(Text)  # the engine's Chinese explanation
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CarrierRating(Base):
    """A carrier's yearly performance rating (绩效评估等次) with its evidence, recorded by district staff."""

    __tablename__ = "carrier_ratings"
    __table_args__ = (
        UniqueConstraint("carrier_id", "year"),
        CheckConstraint("rating IN ('A', 'B', 'C', 'none')", name="rating_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(4))
    score: Mapped[int | None] = mapped_column(Integer)
    evidence: Mapped[str] = mapped_column(Text)  # the evaluation report's reference and summary
    rated_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(60))
