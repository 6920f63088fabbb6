"""Migration 0007: upgrades, downgrades (trigger included) and matches the models at head."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect, text
from sqlalchemy.pool import NullPool

from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.models import Base

_TABLES = {
    "loans",
    "loan_determinations",
    "loan_transitions",
    "loan_instalments",
    "loan_repayments",
    "loan_periods",
    "loan_subsidy_lines",
}


@pytest.fixture
def fresh_engine(db_engine, tmp_path):
    if db_engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"xc_loans_mig_{os.getpid()}"
    with db_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(db_engine.url.render_as_string(hide_password=False), poolclass=NullPool)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    yield engine
    engine.dispose()
    with db_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def test_migration_0007_upgrades_downgrades_and_matches_the_models(fresh_engine):
    upgrade(fresh_engine, "0005")
    assert not _TABLES & set(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= _TABLES
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    downgrade(fresh_engine, "0005")
    assert not _TABLES & set(inspect(fresh_engine).get_table_names())
    upgrade(fresh_engine, "0007")  # the trigger and its function were dropped: upgrading again works
    assert set(inspect(fresh_engine).get_table_names()) >= _TABLES
