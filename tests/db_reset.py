"""Emptying a migrated test database between tests (one definition for the fixtures that need it)."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

# Written to by statement triggers of the fact tables (ENABLE ALWAYS, migration 0025) whenever one
# of them is emptied: emptied first, so that what the emptying itself records stays, as it does
# after one TRUNCATE of every table (whose AFTER TRUNCATE triggers fire once it is done).
_TRIGGER_LOG = "facts_changes"


def empty_database(engine: Engine) -> None:
    """Remove every row of every model table and restart the sequences used.

    PostgreSQL: DELETE with triggers and foreign keys off (``session_replication_role = replica``,
    a superuser's setting; the suite connects as one). A TRUNCATE of the ~110 tables cost ~420 ms
    per test, against ~25 ms, because it gives every table and index a new file: ~1,100 tests made
    hundreds of thousands of files, and the checkpoint that a DROP DATABASE forces then spent 40–55 s
    syncing them (``test_backup``'s teardown). Without the privilege: TRUNCATE … RESTART IDENTITY.
    SQLite: DELETE.
    """
    from xiangchuang.models import Base

    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name != "postgresql":
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))
            return
        if conn.execute(text("SELECT current_setting('is_superuser')")).scalar_one() != "on":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
            return
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for n in sorted(names, key=lambda n: n != _TRIGGER_LOG):
            conn.execute(text(f'DELETE FROM "{n}"'))
        _restart_sequences(conn)


def _restart_sequences(conn: Connection) -> None:
    """What RESTART IDENTITY does, for the sequences of the current schema that were used (one
    statement)."""
    conn.execute(
        text(
            "SELECT setval(CAST(format('%I.%I', schemaname, sequencename) AS regclass), start_value, false) "
            "FROM pg_sequences WHERE schemaname = current_schema() AND last_value IS NOT NULL"
        )
    )
