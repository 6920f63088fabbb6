"""Migration 0030: a contribution's month is one of the supported range (1900-01 … 2099-12, README choice
28) in the database too — 2100-01 was allowed up to 2999-12. The upgrade refuses while a later month is
held; on SQLite the table is rebuilt and keeps its rows, its other constraint and the facts change
tracking (0025's triggers); the downgrade widens the constraint again; at head the schema equals the
models."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from tests.registry.factories import Registry
from tests.registry.test_migration_0028 import _tracked
from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.engine.dates import LAST_MONTH, month_label
from xiangchuang.models import Base, Contribution


def _hire(engine: Engine, pii) -> int:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        business = reg.business(no="B1", founder=reg.person(no="P1"), registration_date=dt.date(2021, 4, 1))
        hire = reg.hire(business, reg.person(no="P2"), dt.date(2022, 1, 1))
        reg.contributions(hire, [202201, 209912])
    return hire


def _pay(engine: Engine, hire: int, month: int, pension: int = 100) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO contributions (employment_id, month, employer_pension_fen, employer_medical_fen, "
                "employer_maternity_fen, employer_unemployment_fen, employer_injury_fen, individual_fen) "
                "VALUES (:h, :m, :p, 0, 0, 0, 0, 0)"
            ),
            {"h": hire, "m": month, "p": pension},
        )


def _months(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT month FROM contributions ORDER BY month")).scalars())


def test_0030_ends_contribution_months_at_2099_12_and_round_trips(fresh_engine, pii):
    upgrade(fresh_engine, "0029")
    hire = _hire(fresh_engine, pii)
    _pay(fresh_engine, hire, 210001)  # before 0030: a month of 2100 was taken
    with pytest.raises(RuntimeError, match="1 条的缴费月份晚于 2099-12"):
        upgrade(fresh_engine)
    assert _months(fresh_engine) == [202201, 209912, 210001]  # refused: nothing changed
    with fresh_engine.begin() as conn:
        conn.execute(text("DELETE FROM contributions WHERE month = 210001"))

    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert _months(fresh_engine) == [202201, 209912]
    for month in (210001, 189912, 202213):
        with pytest.raises(IntegrityError):
            _pay(fresh_engine, hire, month)
    with pytest.raises(IntegrityError):  # the table's other constraint is kept
        _pay(fresh_engine, hire, 202202, pension=-1)
    _pay(fresh_engine, hire, 190001)
    assert _tracked(fresh_engine, "UPDATE contributions SET individual_fen = 1", table="contributions")

    downgrade(fresh_engine, "0029")
    _pay(fresh_engine, hire, 210001)
    assert _months(fresh_engine) == [190001, 202201, 209912, 210001]
    assert _tracked(fresh_engine, "UPDATE contributions SET individual_fen = 2", table="contributions")
    with fresh_engine.begin() as conn:
        conn.execute(text("DELETE FROM contributions WHERE month = 210001"))
    upgrade(fresh_engine)
    assert _tracked(fresh_engine, "DELETE FROM contributions WHERE month = 190001", table="contributions")
    assert _months(fresh_engine) == [202201, 209912]


def test_the_model_and_the_database_end_contribution_months_at_the_supported_range(db_engine):
    """The model's constraint (derived from engine.dates) and the one migration 0030 created end at the
    range's last month (compare_metadata does not compare CHECK constraints; PostgreSQL words them its own
    way, so the bound is compared)."""
    name, last = "ck_contributions_month_valid", month_label(LAST_MONTH).replace("-", "")
    (model,) = (
        str(c.sqltext)
        for c in Contribution.__table__.constraints
        if isinstance(c, CheckConstraint) and c.name == name
    )
    (database,) = (
        str(c["sqltext"])
        for c in inspect(db_engine).get_check_constraints("contributions")
        if c["name"] == name
    )
    for text_ in (model, database):
        assert last == "209912" and last in text_ and "299912" not in text_
