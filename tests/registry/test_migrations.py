"""Migrations run on SQLite and PostgreSQL; the register's constraints hold in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, inspect
from sqlalchemy.exc import IntegrityError

from xiangchuang.models import Base, Grant


def test_every_model_table_exists(db_engine):
    tables = set(inspect(db_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def _grant(**kw):
    base = {
        "program": "startup_subsidy",
        "subject_kind": "business",
        "subject_key": "B1",
        "period": "2022",
        "slot": 1,
        "amount_fen": 100,
        "district": 500101,
        "source": "test",
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (_grant(), _grant(period="2023")),  # same slot
        (_grant(), _grant(slot=2)),  # same period
        (
            _grant(program="online_sales_subsidy", slot=None),
            _grant(program="online_sales_subsidy", slot=None, period="2023"),
        ),
        (
            _grant(program="job_subsidy", subject_key="B1", person_key="P9", slot=None, period="2022"),
            _grant(program="job_subsidy", subject_key="B2", person_key="P9", slot=None, period="2023"),
        ),
        (
            _grant(program="training_syb", subject_key="P1", slot=None),
            _grant(program="training_syb", subject_key="P1", slot=None, period="2024"),
        ),
    ],
)
def test_register_exclusivity_is_enforced_by_the_database(db_engine, first, second):
    with db_engine.begin() as conn:
        conn.execute(insert(Grant), [first])
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(Grant), [second])


def test_startup_subsidy_has_at_most_three_slots(db_engine):
    with db_engine.begin() as conn:
        conn.execute(
            insert(Grant), [_grant(period=str(y), slot=s) for s, y in ((1, 2021), (2, 2022), (3, 2023))]
        )
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(insert(Grant), [_grant(period="2024", slot=4)])


def test_different_programs_and_subjects_do_not_collide(db_engine):
    with db_engine.begin() as conn:
        conn.execute(
            insert(Grant),
            [
                _grant(),
                _grant(subject_key="B2"),
                _grant(program="online_sales_subsidy", slot=None),
                _grant(program="training_iyb", subject_key="P1", slot=None),
                _grant(program="training_syb", subject_key="P1", slot=None),
            ],
        )


def test_alembic_config_keeps_percent_signs_in_the_database_url() -> None:
    """An encoded password or ``options=-csearch_path%3D…`` must not trip configparser interpolation."""
    from sqlalchemy import create_engine

    from xiangchuang.dbmigrate import alembic_config

    url = "postgresql+psycopg://u:p%40ss@127.0.0.1:5432/test?options=-csearch_path%3Dx"
    engine = create_engine(url)
    try:
        assert alembic_config(engine).get_main_option("sqlalchemy.url") == url
    finally:
        engine.dispose()
