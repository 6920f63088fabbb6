"""The report's statements on several database connections at once, all reading ONE snapshot.

A quarterly report is some 60 independent aggregate statements; on a machine with several cores they run
side by side on ``stats_workers`` connections (:func:`run_parallel`). Every connection reads exactly the
database state the caller's transaction sees, so the figures are the same as computed one after another
(and consistent with each other, which one-after-another in READ COMMITTED does not even guarantee):

- PostgreSQL: the caller's transaction exports its snapshot (``pg_export_snapshot()``); each reader is a
  READ ONLY, REPEATABLE READ transaction that imports it (``SET TRANSACTION SNAPSHOT``) as its first
  statement — the mechanism ``pg_dump --jobs`` uses.
- SQLite: the caller's transaction began with ``BEGIN IMMEDIATE`` (:mod:`xiangchuang.db`) and so holds the
  write lock: nothing can be committed while it is open, and each reader's deferred read transaction sees
  the last committed state, the caller's. (WAL mode: readers do not wait for the writer.)

Readers cannot see what the caller's own transaction has written and not yet committed, so when it has
written (PostgreSQL: it has a transaction id; SQLite: the connection's change counter moved since BEGIN)
or when readers cannot be opened at all (an in-memory SQLite database, a session bound to a connection
rather than an engine, one worker configured), :func:`readers_possible` says no and the caller runs the
statements on its own session, one after another.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from typing import Final, TypeVar

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from xiangchuang.db import SQLITE_CHANGES_AT_BEGIN

T = TypeVar("T")
R = TypeVar("R")

_SNAPSHOT_ID: Final = re.compile(r"^[0-9A-Fa-f]+-[0-9A-Fa-f]+(-[0-9]+)?$")


def _engine_of(session: Session) -> Engine | None:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else None


def _sqlite_in_memory(engine: Engine) -> bool:
    db = engine.url.database or ""
    return db in ("", ":memory:") or "mode=memory" in db or "mode=memory" in str(engine.url.query)


def readers_possible(session: Session, workers: int) -> bool:
    """Whether ``workers`` > 1 readers can see exactly what ``session``'s transaction sees."""
    engine = _engine_of(session)
    if workers < 2 or engine is None:
        return False
    conn = session.connection()  # begins the caller's transaction if it has not begun
    if engine.dialect.name == "postgresql":
        written = conn.execute(text("SELECT txid_current_if_assigned()")).scalar()
        return written is None
    if engine.dialect.name == "sqlite":
        if _sqlite_in_memory(engine):
            return False
        dbapi = conn.connection.dbapi_connection
        began = conn.connection.info.get(SQLITE_CHANGES_AT_BEGIN)
        return dbapi is not None and began is not None and dbapi.total_changes == began
    return False


@contextmanager
def readers(
    session: Session, workers: int, prepare: Callable[[Connection], None]
) -> Iterator[list[Connection]]:
    """``workers`` connections in read-only transactions on ``session``'s snapshot (check
    :func:`readers_possible` first). ``prepare`` runs on each (session settings) before any statement."""
    engine = _engine_of(session)
    assert engine is not None
    caller = session.connection()
    snapshot: str | None = None
    if engine.dialect.name == "postgresql":
        snapshot = str(caller.execute(text("SELECT pg_export_snapshot()")).scalar_one())
        if not _SNAPSHOT_ID.match(snapshot):  # it is spliced into the statement below
            raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
    with ExitStack() as stack:
        conns: list[Connection] = []
        for _ in range(workers):
            if snapshot is not None:
                c = stack.enter_context(engine.connect()).execution_options(
                    isolation_level="REPEATABLE READ", postgresql_readonly=True
                )
                stack.enter_context(c.begin())
                c.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            else:
                c = stack.enter_context(engine.connect()).execution_options(sqlite_begin="DEFERRED")
                stack.enter_context(c.begin())
                c.exec_driver_sql("PRAGMA query_only = ON")
            prepare(c)
            conns.append(c)
        try:
            yield conns
        finally:
            for c in conns:
                if c.dialect.name == "sqlite":
                    c.exec_driver_sql("PRAGMA query_only = OFF")


def run_parallel(
    conns: Sequence[Connection], items: Sequence[T], work: Callable[[Connection, T], R]
) -> list[R]:
    """``work(conn, item)`` for every item, the items taken in order by whichever connection is free
    (put the costly ones first); results in the order of ``items``. The first error is raised once
    every connection has stopped."""
    results: list[R | None] = [None] * len(items)
    lock = threading.Lock()
    queue = iter(range(len(items)))
    failed: list[BaseException] = []

    def drain(conn: Connection) -> None:
        while not failed:
            with lock:
                i = next(queue, None)
            if i is None:
                return
            try:
                results[i] = work(conn, items[i])
            except BaseException as exc:  # stop the others, raise in the caller
                failed.append(exc)
                return

    with ThreadPoolExecutor(max_workers=len(conns), thread_name_prefix="stats") as pool:
        for f in [pool.submit(drain, c) for c in conns]:
            f.result()
    if failed:
        raise failed[0]
    return results  # type: ignore[return-value]
