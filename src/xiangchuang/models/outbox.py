"""Notifications: the transactional outbox and the in-app inbox.

A business transaction enqueues ``outbox_messages`` rows in the same transaction (so a rollback
sends nothing); a deliverer hands pending rows to the channel's adapter and marks them delivered.
Delivery is at-least-once; adapters are idempotent per message id — the in-app adapter writes one
``inbox_messages`` row per outbox message (``outbox_id`` is unique).

A recipient is a user id, or a role within a district (every clerk of 500101), or a role city-wide
(district NULL). Payloads carry references and display values, never a personal number: an SMS
adapter looks the phone up by user id at delivery time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base

CHANNELS = ("in_app", "sms", "email")

_RECIPIENT = "recipient_user IS NOT NULL OR recipient_role IS NOT NULL"


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        CheckConstraint(_RECIPIENT, name="has_recipient"),
        CheckConstraint("channel IN ('in_app', 'sms', 'email')", name="channel_known"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index(
            "ix_outbox_messages_pending",
            "channel",
            "id",
            sqlite_where=text("delivered_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_user: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(40))
    recipient_district: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500))


class InboxMessage(Base):
    """A delivered in-app message, readable by its recipient (user, or role within district)."""

    __tablename__ = "inbox_messages"
    __table_args__ = (CheckConstraint(_RECIPIENT, name="has_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), unique=True)
    recipient_user: Mapped[str | None] = mapped_column(String(64), index=True)
    recipient_role: Mapped[str | None] = mapped_column(String(40))
    recipient_district: Mapped[int | None] = mapped_column(Integer)
    template: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
