"""Migration 0007: upgrades, downgrades (trigger included) and matches the models at head."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

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
