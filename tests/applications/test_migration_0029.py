"""Migration 0029: a SYB top-up (period 补差) is a second SYB row of the trainee — the once-per-subject
index leaves it out, one top-up per trainee stays unique, any other second row is still refused; the
downgrade refuses while a top-up row exists (it would break the old index) and works once it is gone."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.engine.assemble import SYB_TOP_UP_PERIOD
from xiangchuang.models import Base, Grant
from xiangchuang.models.grants import TOP_UP_PERIOD


def _grant(engine, period: str, program: str = "training_syb") -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            insert(Grant).values(
                program=program, subject_kind="person", subject_key="P1", person_key="P1", period=period,
                amount_fen=50_000, district=500101, source="test",
            )
        )  # fmt: skip


def test_the_model_and_the_engine_name_the_same_top_up_period():
    assert TOP_UP_PERIOD == SYB_TOP_UP_PERIOD


def test_0029_lets_one_top_up_row_beside_the_claim(fresh_engine):
    upgrade(fresh_engine, "0028")
    _grant(fresh_engine, "C1")
    with pytest.raises(IntegrityError):  # before 0029: a second SYB row of the trainee is refused
        _grant(fresh_engine, SYB_TOP_UP_PERIOD)
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    _grant(fresh_engine, SYB_TOP_UP_PERIOD)
    for period in (SYB_TOP_UP_PERIOD, "C2"):  # a second top-up, or a second claim: refused
        with pytest.raises(IntegrityError):
            _grant(fresh_engine, period)
    _grant(fresh_engine, "C1", program="training_iyb")
    with pytest.raises(IntegrityError):  # only SYB has a top-up: an IYB row named 补差 is a second IYB row
        _grant(fresh_engine, SYB_TOP_UP_PERIOD, program="training_iyb")

    with pytest.raises(RuntimeError, match="补差记录"):
        downgrade(fresh_engine, "0028")
    with fresh_engine.begin() as conn:
        conn.execute(delete(Grant).where(Grant.period == SYB_TOP_UP_PERIOD))
    downgrade(fresh_engine, "0028")
    with pytest.raises(IntegrityError):
        _grant(fresh_engine, SYB_TOP_UP_PERIOD)
    upgrade(fresh_engine)
