"""Shared test configuration.

- Hypothesis profiles (CI is derandomized so a run is reproducible).
- Database fixtures: every test that takes ``db_engine`` runs on SQLite and on PostgreSQL
  (``XIANGCHUANG_TEST_PG_URL``, default 127.0.0.1:5432/test) in a schema of its own, migrated by
  Alembic. Outside CI an unreachable PostgreSQL skips those tests; with CI=true it fails them.
- ``pii``: a fresh key ring for the test session.
- pytest-xdist (``scripts/test.sh`` runs two workers): each worker is a process of its own, so the
  PostgreSQL schemas and the SQLite files below are named per process; a worker inherits
  COLUMNS=80, which rich would fix as the width of the CLI's consoles (tests set COLUMNS themselves).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

settings.register_profile("ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

PG_URL = os.environ.get("XIANGCHUANG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_engine(schema: str) -> Engine:
    from xiangchuang.db import make_engine

    base = make_engine(PG_URL)
    try:
        with base.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        base.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL 不可达（{PG_URL}）：CI 必须对 PostgreSQL 运行数据库测试：{exc}")
        pytest.skip(f"PostgreSQL 不可达（{PG_URL}），跳过（CI 中会失败）")
    base.dispose()
    engine = make_engine(PG_URL)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    from xiangchuang.db import make_engine
    from xiangchuang.dbmigrate import upgrade

    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "test.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return
    schema = f"xc_test_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'w')}"
    engine = _pg_engine(schema)
    upgrade(engine)
    yield engine
    engine.dispose()
    cleanup = make_engine(PG_URL)
    with cleanup.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    cleanup.dispose()


@pytest.fixture
def db_engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated, empty database (rows from the previous test are removed)."""
    from tests.db_reset import empty_database

    yield migrated_engine
    empty_database(migrated_engine)


@pytest.fixture
def fresh_engine(db_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """An empty, unmigrated database of the same kind as ``db_engine`` (a file / schema of its own), for the
    migration up/down tests."""
    from xiangchuang.db import make_engine

    if db_engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
        yield engine
        engine.dispose()
        return
    schema = f"xc_fresh_{os.getpid()}_{os.environ.get('PYTEST_XDIST_WORKER', 'w')}"
    engine = _pg_engine(schema)
    yield engine
    engine.dispose()
    with db_engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def pii(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from xiangchuang.crypto import FieldCipher, generate_keyring
    from xiangchuang.registry.pii import Pii

    ring = generate_keyring(tmp_path_factory.mktemp("keys") / "keyring.json")
    return Pii(FieldCipher(ring))
