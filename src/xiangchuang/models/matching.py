"""Stored 政策找人 results: who qualifies, who will soon, amounts, and how to re-derive the explanation."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen


class MatchRun(Base):
    __tablename__ = "match_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    on: Mapped[dt.date] = mapped_column(Date)
    district: Mapped[int | None] = mapped_column(Integer)
    engine_version: Mapped[str] = mapped_column(String(20))
    parameters_version: Mapped[str] = mapped_column(String(40))
    parameter_sources: Mapped[str | None] = mapped_column(String(500))  # parameter files and overlays used
    subjects: Mapped[int] = mapped_column(Integer)
    results: Mapped[int] = mapped_column(Integer)
    load_seconds: Mapped[float] = mapped_column()
    evaluate_seconds: Mapped[float] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MatchResult(Base):
    """One (subject, program) that qualifies or soon will. The explanation is re-derived on demand
    from the registry facts at ``on`` with the run's engine and parameter versions."""

    __tablename__ = "match_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("match_runs.id", ondelete="CASCADE"), index=True)
    program: Mapped[str] = mapped_column(String(40), index=True)
    subject_table: Mapped[str] = mapped_column(String(30))
    subject_key: Mapped[str] = mapped_column(String(60), index=True)
    district: Mapped[int] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(20))  # eligible | soon
    amount_fen: Mapped[int] = mapped_column(Fen)
    district_part_fen: Mapped[int] = mapped_column(Fen)
    eligible_from: Mapped[dt.date | None] = mapped_column(Date)
