"""Persons and their key-group memberships (with evidence and dates). PII columns are ciphertexts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from xiangchuang.models.base import Base, Timestamps


class Person(Timestamps, Base):
    __tablename__ = "persons"
    # statistics: the returning / incoming entrepreneurs (returning_entrepreneur = true) as an index range
    __table_args__ = (Index("ix_persons_returning", "returning_entrepreneur", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_no: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    id_number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_bidx: Mapped[str] = mapped_column(String(64), unique=True)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    bank_account_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    bank_account_bidx: Mapped[str | None] = mapped_column(String(64), index=True)
    birth_date: Mapped[dt.date] = mapped_column(Date)
    gender: Mapped[str] = mapped_column(String(1))
    hukou_district: Mapped[int | None] = mapped_column(Integer)
    graduation_date: Mapped[dt.date | None] = mapped_column(Date)
    returning_entrepreneur: Mapped[bool | None] = mapped_column(Boolean)
    startup_intention: Mapped[bool | None] = mapped_column(Boolean)
    second_time_founder_stable: Mapped[bool | None] = mapped_column(Boolean)
    holds_free_workstation: Mapped[bool | None] = mapped_column(Boolean)

    groups: Mapped[list[PersonGroup]] = relationship(
        back_populates="person", lazy="raise", cascade="all, delete-orphan"
    )


class PersonGroup(Base):
    """Membership of a key group (重点群体) from ``since`` until ``until`` (inclusive), with evidence."""

    __tablename__ = "person_groups"
    __table_args__ = (
        UniqueConstraint("person_id", "group_code", "since"),
        # The constraint above treats NULL ``since`` values as distinct; this one does not.
        Index(
            "uq_person_groups_open_since",
            "person_id",
            "group_code",
            unique=True,
            sqlite_where=text("since IS NULL"),
            postgresql_where=text("since IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    group_code: Mapped[str] = mapped_column(String(40))
    since: Mapped[dt.date | None] = mapped_column(Date)
    until: Mapped[dt.date | None] = mapped_column(Date)
    evidence: Mapped[str | None] = mapped_column(String(200))

    person: Mapped[Person] = relationship(back_populates="groups", lazy="raise")
