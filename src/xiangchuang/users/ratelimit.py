"""Rate limits in the database (fixed windows), so a limit holds across worker processes and machines.

:func:`hit` counts one request in the current window with one atomic upsert (``INSERT … ON CONFLICT DO
UPDATE SET count = count + 1 RETURNING count``, on SQLite and PostgreSQL) and says whether the request is
within the limit. The client is stored as a hash, never as an address. Old windows are removed as new ones
are written. The caller runs it in a short transaction of its own, so a refused or failed request is
still counted: :func:`count` — on PostgreSQL on an autocommit engine of its own
(:func:`xiangchuang.db.make_counter_engine`), so a request costs one statement and one round trip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from sqlalchemy import Connection, Engine, Insert, bindparam, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from xiangchuang.models import RateLimitBucket

_SPEC: Final = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Limit:
    name: str
    count: int
    seconds: int

    @classmethod
    def parse(cls, name: str, spec: str) -> Limit:
        """``"10/300"``: 10 requests per 300 seconds."""
        m = _SPEC.fullmatch(spec.strip())
        if not m or int(m.group(1)) < 1 or int(m.group(2)) < 1:
            raise ValueError(f"限流设置 {name}={spec!r} 格式错误，应为“次数/秒数”，如 10/300")
        return cls(name, int(m.group(1)), int(m.group(2)))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends


def client_key(limit: Limit, client: str) -> str:
    digest = hashlib.sha256(f"xiangchuang-rate\0{client}".encode()).hexdigest()[:40]
    return f"{limit.name}:{digest}"


@cache
def _upsert(dialect: str) -> Insert:
    """The counting statement, built once per dialect (a request then only binds its key and window)."""
    ins = pg_insert(RateLimitBucket) if dialect == "postgresql" else sqlite_insert(RateLimitBucket)
    stmt: Insert = (
        ins.values(key=bindparam("key"), window_start=bindparam("start"), count=1)
        .on_conflict_do_update(
            index_elements=[RateLimitBucket.key, RateLimitBucket.window_start],
            set_={"count": RateLimitBucket.count + 1},
        )
        .returning(RateLimitBucket.count)
    )
    return stmt


def hit(session: Session | Connection, *, limit: Limit, client: str, now: dt.datetime) -> Verdict:
    """Count one request. ``session`` may be a Core connection in a transaction (the web guard's: no ORM
    unit of work for two statements)."""
    epoch = int(now.timestamp())
    start_epoch = epoch - epoch % limit.seconds
    start = dt.datetime.fromtimestamp(start_epoch, dt.UTC)
    key = client_key(limit, client)
    dialect = session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
    stmt = _upsert(dialect)
    seen = int(session.execute(stmt, {"key": key, "start": start}).scalar_one())
    if seen == 1:  # first request of a window: drop this client's finished windows
        session.execute(
            delete(RateLimitBucket).where(RateLimitBucket.key == key, RateLimitBucket.window_start < start)
        )
    return Verdict(seen <= limit.count, seen, start_epoch + limit.seconds - epoch)


def count(engine: Engine, *, limit: Limit, client: str, now: dt.datetime) -> Verdict:
    """Count one request in a transaction of its own, committed even when the request is then refused. On
    an autocommit engine each statement commits by itself; otherwise on PostgreSQL the transaction skips
    the WAL flush wait (a counter may lose its last increments in a server crash: not worth a flush per
    request). A connection the server has dropped (a restart; the counter engine does not ping on
    checkout) is retried once on a fresh one."""
    for attempt in (1, 2):
        try:
            with engine.begin() as conn:
                dbapi: Any = conn.connection.dbapi_connection
                if conn.dialect.name == "postgresql" and not dbapi.autocommit:
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                return hit(conn, limit=limit, client=client, now=now)
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    raise AssertionError("unreachable")


def purge(session: Session, *, before: dt.datetime) -> int:
    """Remove every window that started before ``before`` (housekeeping)."""
    res = session.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < before))
    return int(getattr(res, "rowcount", 0) or 0)
