"""Run Alembic migrations from code (the CLI, the tests, the demo).

On SQLite, foreign-key enforcement is switched off for the migration (before its transaction: the
pragma is a no-op inside one) and ``PRAGMA foreign_key_check`` must come back empty before commit.
Batch-mode migrations rebuild a table (copy, drop, rename); with enforcement on, dropping a table that
other rows reference fails or leaves deferred violations that nothing clears — SQLite's documented
procedure for such schema changes is exactly this: enforcement off, rebuild, check, commit.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("xiangchuang").joinpath("migrations")))
    if engine is not None:
        cfg.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )  # configparser interpolation
    return cfg


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            _pragma(conn, "PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg = alembic_config(engine)
                cfg.attributes["connection"] = conn
                step(cfg)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"迁移后外键检查未通过（表、行、引用表）：{broken[:5]}")
        finally:
            if sqlite:
                _pragma(conn, "PRAGMA foreign_keys=ON")


def _pragma(conn: Connection, statement: str) -> None:
    """Run a pragma on the driver connection outside any transaction (autocommit)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    cur.execute(statement)
    cur.close()


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda cfg: command.downgrade(cfg, revision))
