"""Rate limits in the database (fixed windows), so a limit holds across worker processes and machines.

:func:`hit` counts one request in the current window with one atomic upsert (``INSERT … ON CONFLICT DO
UPDATE SET count = count + 1 RETURNING count``, on SQLite and PostgreSQL) and says whether the request is
within the limit. The client is stored as a hash, never as an address. Old windows are removed as new ones
are written. The caller runs it in a short transaction of its own, so a refused or failed request is
still counted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import Connection, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


def hit(session: Session | Connection, *, limit: Limit, client: str, now: dt.datetime) -> Verdict:
    """Count one request. ``session`` may be a Core connection in a transaction (the web guard's: no ORM
    unit of work for two statements)."""
    epoch = int(now.timestamp())
    start_epoch = epoch - epoch % limit.seconds
    start = dt.datetime.fromtimestamp(start_epoch, dt.UTC)
    key = client_key(limit, client)
    dialect = session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
    ins = pg_insert(RateLimitBucket) if dialect == "postgresql" else sqlite_insert(RateLimitBucket)
    stmt = (
        ins.values(key=key, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[RateLimitBucket.key, RateLimitBucket.window_start],
            set_={"count": RateLimitBucket.count + 1},
        )
        .returning(RateLimitBucket.count)
    )
    count = int(session.execute(stmt).scalar_one())
    if count == 1:  # first request of a window: drop this client's finished windows
        session.execute(
            delete(RateLimitBucket).where(RateLimitBucket.key == key, RateLimitBucket.window_start < start)
        )
    return Verdict(count <= limit.count, count, start_epoch + limit.seconds - epoch)


def purge(session: Session, *, before: dt.datetime) -> int:
    """Remove every window that started before ``before`` (housekeeping)."""
    res = session.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < before))
    return int(getattr(res, "rowcount", 0) or 0)
