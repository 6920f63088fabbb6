"""Migration 0028 on a populated database: ``businesses.workshop_new_build`` / ``workshop_build_cost_fen``
are added as unknown (NULL) for existing businesses, a negative cost is refused by the database, a write to
them is tracked for the facts snapshot (0025's triggers survive both directions: no table rebuild), and
down and up again keeps every business; at head the schema equals the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.models import Base
from xiangchuang.registry import snapshot

NEW = {"workshop_new_build", "workshop_build_cost_fen"}


def _columns(engine: Engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("businesses")}


def _tracked(engine: Engine, statement: str, table: str = "businesses") -> bool:
    """Whether ``statement`` (a write to ``table``) is noted by the change tracking."""
    with engine.connect() as conn:
        assert snapshot._triggers_present(conn)
    if engine.dialect.name == "sqlite":
        read = f"SELECT version FROM facts_versions WHERE table_name = '{table}'"
        with engine.connect() as conn:
            before = conn.execute(text(read)).scalar_one()
        with engine.begin() as conn:
            conn.execute(text(statement))
        with engine.connect() as conn:
            return bool(conn.execute(text(read)).scalar_one() != before)
    with engine.begin() as conn:
        conn.execute(text(statement))
        return bool(
            conn.execute(
                text(
                    f"SELECT count(*) FROM facts_changes WHERE table_name = '{table}' "
                    "AND xid = CAST(CAST(pg_current_xact_id() AS text) AS bigint)"
                )
            ).scalar_one()
        )


def test_0028_adds_the_workshop_build_facts_as_unknown_and_round_trips(fresh_engine):
    upgrade(fresh_engine, "0027")
    assert not NEW & _columns(fresh_engine)
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO businesses (business_no, uscc, name, kind, registration_date, district, status, "
                "workshop_recognised, workshop_employed) VALUES ('B1', '915001010000000001', '车间甲', "
                "'enterprise', '2021-04-01', 500101, 'normal', true, 25)"
            )
        )
    upgrade(fresh_engine)
    assert _columns(fresh_engine) >= NEW
    with fresh_engine.connect() as conn:
        row = conn.execute(
            text("SELECT workshop_employed, workshop_new_build, workshop_build_cost_fen FROM businesses")
        ).one()
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert tuple(row) == (25, None, None)  # unknown, never "not new" / 0

    assert _tracked(
        fresh_engine,
        "UPDATE businesses SET workshop_new_build = true, workshop_build_cost_fen = 12345678",
    )
    with pytest.raises(IntegrityError), fresh_engine.begin() as conn:
        conn.execute(text("UPDATE businesses SET workshop_build_cost_fen = -1"))
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT workshop_build_cost_fen FROM businesses")).scalar_one() == 12345678

    downgrade(fresh_engine, "0027")
    assert not NEW & _columns(fresh_engine)
    assert _tracked(fresh_engine, "UPDATE businesses SET staff_count = 3")  # the triggers are still there
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        got = conn.execute(
            text(
                "SELECT business_no, staff_count, workshop_new_build, workshop_build_cost_fen FROM businesses"
            )
        ).all()
    assert [tuple(r) for r in got] == [("B1", 3, None, None)]
    assert _tracked(fresh_engine, "UPDATE businesses SET workshop_build_cost_fen = 0")
