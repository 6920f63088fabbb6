"""Disbursement batches (拨付批次): approved amounts paid out item by item through the ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen


class DisbursementBatch(Base):
    __tablename__ = "disbursement_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_no: Mapped[str] = mapped_column(String(40), unique=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    funding_source: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DisbursementItem(Base):
    __tablename__ = "disbursement_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "seq"),
        UniqueConstraint("batch_id", "application_ref"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'paid')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("disbursement_batches.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    application_ref: Mapped[str] = mapped_column(String(60))
    payee_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    purpose: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    ledger_entry_id: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
