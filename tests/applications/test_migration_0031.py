"""Migration 0031: a determination may be of stage ``approval`` (a refused 核准 keeps the day's
determination, README choice 88); the table's no-update trigger survives SQLite's table rebuild; the
downgrade refuses while an approval determination exists and works once it is gone."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from tests.applications import create, setup
from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.models import Base, Determination


def _determination(engine, app_id: int, stage: str) -> None:  # type: ignore[no-untyped-def]
    with engine.begin() as conn:
        conn.execute(
            insert(Determination).values(
                application_id=app_id, stage=stage, on=dt.date(2025, 3, 20), status="ineligible",
                amount_fen=0, facts={}, engine_version="t", parameters_version="t", result={},
            )
        )  # fmt: skip


def _no_update(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DBAPIError, match="判定记录不可修改"), engine.begin() as conn:
        conn.execute(update(Determination).values(status="eligible"))


def test_0031_admits_the_approval_stage_and_keeps_the_no_update_trigger(fresh_engine, pii):
    upgrade(fresh_engine)
    setup(fresh_engine, pii)
    app_id = create(fresh_engine, materials=False)
    downgrade(fresh_engine, "0030")
    with pytest.raises(IntegrityError):  # before 0031: no such stage
        _determination(fresh_engine, app_id, "approval")
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    _determination(fresh_engine, app_id, "approval")
    with pytest.raises(IntegrityError):
        _determination(fresh_engine, app_id, "publicity")
    _no_update(fresh_engine)  # (0004's trigger, rebuilt with the table)

    with pytest.raises(RuntimeError, match="不能降级到 0030"):
        downgrade(fresh_engine, "0030")
    with fresh_engine.begin() as conn:
        conn.execute(delete(Determination).where(Determination.stage == "approval"))
    downgrade(fresh_engine, "0030")
    _determination(fresh_engine, app_id, "second_review")
    _no_update(fresh_engine)
    upgrade(fresh_engine)
