"""Disbursement batches (拨付批次): approved amounts paid out item by item through the ledger.

A payee is a registry person (their bank account is on the person) or an organisation that applied as
``org:<code>`` — a training provider, a carrier operator — paid to the organisation's account
(对公账户) registered by district finance in :class:`PayeeAccount`. Exactly one of the two per item.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
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
        CheckConstraint("(payee_person_id IS NULL) <> (payee_org_code IS NULL)", name="one_payee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("disbursement_batches.id", ondelete="CASCADE"), index=True
    )
    seq: Mapped[int] = mapped_column(Integer)
    application_ref: Mapped[str] = mapped_column(String(60))
    payee_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    payee_org_code: Mapped[str | None] = mapped_column(String(40), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    purpose: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    ledger_entry_id: Mapped[int | None] = mapped_column(Integer)
    paid_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PayeeAccount(Base):
    """An organisation's bank account for subsidies paid to it (对公账户), registered by district finance.
    The account number is a field-cipher ciphertext; pages show only ``account_masked``."""

    __tablename__ = "payee_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(String(40), unique=True)
    org_name: Mapped[str] = mapped_column(String(120))
    bank_name: Mapped[str] = mapped_column(String(60))
    account_enc: Mapped[bytes] = mapped_column(LargeBinary)
    account_masked: Mapped[str] = mapped_column(String(40))
    district: Mapped[int] = mapped_column(Integer, index=True)
    registered_by: Mapped[str] = mapped_column(String(64))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
