"""Emptying a migrated test database between tests (one definition for the fixtures that need it)."""

from __future__ import annotations

from sqlalchemy import Engine, text


def empty_database(engine: Engine) -> None:
    """Remove every row of every model table (PostgreSQL: TRUNCATE … RESTART IDENTITY; SQLite: DELETE)."""
    from xiangchuang.models import Base

    with engine.begin() as conn:
        names = [t.name for t in reversed(Base.metadata.sorted_tables)]
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
        else:
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))
