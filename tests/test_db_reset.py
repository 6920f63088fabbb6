"""The fixture that empties the database between tests: every row gone, identities restarted."""

from __future__ import annotations

from sqlalchemy import Engine, func, insert, select, text

from xiangchuang.models import Base


def test_rows_go_and_identities_restart(db_engine: Engine) -> None:
    from tests.db_reset import empty_database

    horizon = Base.metadata.tables["facts_horizon"]
    with db_engine.begin() as conn:
        conn.execute(insert(horizon).values(id=1, pruned_below=7))
        if db_engine.dialect.name == "postgresql":
            for _ in range(3):
                conn.execute(text("SELECT nextval('businesses_id_seq')"))
    empty_database(db_engine)
    with db_engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(horizon)).scalar_one() == 0
        if db_engine.dialect.name == "postgresql":
            assert conn.execute(text("SELECT nextval('businesses_id_seq')")).scalar_one() == 1
