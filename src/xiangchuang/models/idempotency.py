"""Stored responses of unsafe API requests that carried an ``Idempotency-Key`` (SECURITY.md: money and
concurrency). One row per (caller scope, key): the SHA-256 of the request (method, path, query, content
type, body), and once the request has been handled, its status, content type and body. ``status`` is
NULL while the first request is being handled (a concurrent duplicate is told to retry)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_records"

    scope: Mapped[str] = mapped_column(String(80), primary_key=True)  # who: hash of the token / session
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
