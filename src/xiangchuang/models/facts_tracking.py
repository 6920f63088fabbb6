"""Change tracking of the tables the facts assembler reads (migration 0025, used by registry.snapshot).

Written only by database triggers and by the snapshot's pruning, never by services:

- ``facts_versions`` (SQLite): per source table a random 64-bit version, replaced by every write (a
  row-level trigger); a deleted row comes back at the next write.
- ``facts_changes`` (PostgreSQL): (transaction id, table) for every transaction that wrote a source table
  (a statement-level trigger; ``xid`` = ``pg_current_xact_id()`` as a bigint).
- ``facts_horizon`` (PostgreSQL): change rows below ``pruned_below`` were deleted; a snapshot taken before
  it is never trusted.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base


class FactsVersion(Base):
    __tablename__ = "facts_versions"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class FactsChange(Base):
    __tablename__ = "facts_changes"

    xid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)


class FactsHorizon(Base):
    __tablename__ = "facts_horizon"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    pruned_below: Mapped[int] = mapped_column(BigInteger)
