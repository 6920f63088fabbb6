"""Double-entry ledger of subsidy money, per district budget and funding source (1.2: 区县提高标准的部分
由区县财政承担).

Accounts, per (district, funding source):

- ``budget``     the appropriation: its balance is minus the total budget opened (credit-normal, ≤ 0);
- ``available``  budget not yet committed (≥ 0);
- ``approved``   one per application (``application_ref``): approved and not yet paid (≥ 0);
- ``disbursed``  paid out (≥ 0).

Every journal entry's postings sum to zero, so per district and source
``-budget = available + Σ approved + disbursed``; with the sign CHECKs that gives
disbursed ≤ approved ≤ budget, enforced by the database under concurrency, not by check-then-insert.
A posting's ``amount_fen`` is signed: positive debits, negative credits. Money is integer fen.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
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

FUNDING_SOURCES = ("city", "district")  # 市级及以上资金 / 区县财政
ACCOUNT_KINDS = ("budget", "available", "approved", "disbursed")
OPERATIONS = ("open_budget", "approve", "release", "disburse")


class Account(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("district", "funding_source", "kind", "application_ref"),
        CheckConstraint("funding_source IN ('city', 'district')", name="funding_source_known"),
        CheckConstraint("kind IN ('budget', 'available', 'approved', 'disbursed')", name="kind_known"),
        CheckConstraint(
            "(kind = 'budget' AND balance_fen <= 0) OR (kind <> 'budget' AND balance_fen >= 0)",
            name="balance_sign",
        ),
        CheckConstraint(
            "(kind = 'approved' AND application_ref <> '') OR (kind <> 'approved' AND application_ref = '')",
            name="approved_per_application",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    district: Mapped[int] = mapped_column(Integer)
    funding_source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    application_ref: Mapped[str] = mapped_column(String(60), default="")
    balance_fen: Mapped[int] = mapped_column(Fen, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JournalEntry(Base):
    """One money operation. ``idempotency_key`` is unique: a replay with the same request (same
    ``request_hash``) returns the stored ``result``; a different request under the same key is refused."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(
            "operation IN ('open_budget', 'approve', 'release', 'disburse')", name="operation_known"
        ),
        Index("ix_ledger_entries_operation_created_at", "operation", "created_at"),  # statistics
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(20))
    district: Mapped[int] = mapped_column(Integer, index=True)
    funding_source: Mapped[str] = mapped_column(String(20))
    application_ref: Mapped[str | None] = mapped_column(String(60), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
    description: Mapped[str] = mapped_column(String(200), default="")
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="amount_nonzero"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(Fen)
