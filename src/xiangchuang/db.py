"""Database engine and sessions. SQLite (WAL, foreign keys, BEGIN IMMEDIATE) by default, PostgreSQL in
production. Nothing here runs at import time: call :func:`make_engine`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.errors import DomainError

SQLITE_CHANGES_AT_BEGIN: Final = "xiangchuang.sqlite_changes_at_begin"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event issue BEGIN IMMEDIATE
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE (take the write lock now) unless the connection asks for a read transaction
            # (execution option sqlite_begin="DEFERRED": the statistics' parallel readers).
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            conn.exec_driver_sql("BEGIN DEFERRED" if mode == "DEFERRED" else "BEGIN IMMEDIATE")
            # What the transaction has written so far is the connection's change counter minus this.
            conn.connection.info[SQLITE_CHANGES_AT_BEGIN] = conn.connection.dbapi_connection.total_changes

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_counter_engine(url: str, **kwargs: Any) -> Engine:
    """A PostgreSQL engine for counters that may lose their last increments in a server crash (the rate
    limits): autocommit, so counting is one statement and one round trip; ``synchronous_commit=off`` on
    its connections (no WAL flush wait per request); no ping on checkout — the caller retries once on a
    connection the server has dropped (:func:`xiangchuang.users.ratelimit.count`)."""
    # Added to any ``options`` the URL already carries (a search_path, say), which connect_args would replace.
    given = make_url(url).query.get("options") or ()
    options = " ".join([*([given] if isinstance(given, str) else given), "-c synchronous_commit=off"])
    return make_engine(
        url, isolation_level="AUTOCOMMIT", pool_pre_ping=False, connect_args={"options": options}, **kwargs
    )


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The caller (a request or a command) owns the transaction; services never commit. A refusal that
    is itself a record (``DomainError.keeps_record``: a refused approval's determination) is committed
    before it is raised again; any other exception rolls the transaction back."""
    with factory() as session:
        session.begin()
        try:
            yield session
        except DomainError as exc:
            if exc.keeps_record:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise
        session.commit()
