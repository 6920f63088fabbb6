"""City parameter changes (four-eyes): one city administrator requests a new dated value, a second,
different one approves it; only approved rows are laid over the YAML parameters (engine.parameters.
with_dated_values). ``value`` is stored as written in the YAML files (JSON), ``since`` is the effective
date. States: pending → approved | rejected | withdrawn."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base

CHANGE_STATES = ("pending", "approved", "rejected", "withdrawn")


class ParameterChange(Base):
    __tablename__ = "parameter_changes"
    __table_args__ = (
        CheckConstraint(f"state IN ({', '.join(repr(s) for s in CHANGE_STATES)})", name="state_known"),
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    value: Mapped[Any] = mapped_column(JSON)
    since: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
