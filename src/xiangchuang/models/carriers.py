"""Carriers (返乡创业园, 孵化基地, stations, e-commerce centres, logistics parks) and tenancies."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen


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
