"""The audit trail: an append-only, hash-chained log (等保2.0 安全审计; 网络安全法 §21).

``audit_events`` holds one row per audited act: who (actor, role, district), what (action, subject as
``table:key`` — never a personal value), when (UTC), outcome and sanitised details. Each row carries
``prev_hash`` (the previous row's ``hash``) and ``hash`` = HMAC-SM3 over its canonical serialisation, so
editing, deleting or reordering rows breaks the chain (see :mod:`xiangchuang.audit.chain`).

``audit_chain_head`` is a single row (id 1) naming the last seq and hash, MAC'd with the same key. Appenders
lock it (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises writers anyway), so
concurrent writers cannot fork the chain, and a deleted tail is detectable because the head still names it.
``prev_hash`` is unique as a second line of defence: two rows can never extend the same predecessor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base

OUTCOMES = ("success", "denied", "failure")


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint("seq >= 1", name="seq_positive"),
        CheckConstraint("outcome IN ('success', 'denied', 'failure')", name="outcome_known"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)  # UTC
    actor: Mapped[str] = mapped_column(String(64), index=True)  # user id, or "system"
    actor_role: Mapped[str | None] = mapped_column(String(40))
    district: Mapped[int | None] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(60), index=True)  # application.submit, login.failure, …
    subject: Mapped[str] = mapped_column(String(120), index=True)  # table:key
    outcome: Mapped[str] = mapped_column(String(10))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain head: one row, locked by every appender; names the last seq and hash (MAC'd)."""

    __tablename__ = "audit_chain_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str] = mapped_column(String(64))
