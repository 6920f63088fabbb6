"""A bound on the requests a worker handles at once (pure ASGI), so the database pool cannot deadlock.

A request's session holds its pooled connection from its first query until the commit at the end, and
between the two it needs thread-pool hops (sync dependencies, the route, the commit). With more requests
in flight than the pool has connections, every thread of the pool can end up waiting for a connection
while every connection belongs to a request waiting for a thread: nothing moves until the pool's timeout
(30 s), then 503s. Each request holds at most one connection at a time (the short transactions of the rate
limit, the token check and the idempotency record run before or after the request's own), so admitting
at most as many requests as the pool has connections rules that out; the others wait their turn, in
order, before they take anything. ``/healthz`` and static files use no connection and are not counted.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Final

from sqlalchemy import Engine
from starlette.types import ASGIApp, Receive, Scope, Send

UNCOUNTED: Final = ("/static/", "/healthz")
DEFAULT_SLOTS: Final = 15  # SQLAlchemy's default pool: 5 connections + 10 overflow


def pool_capacity(engine: Engine) -> int:
    """How many connections ``engine``'s pool can hand out at once (QueuePool: size + max overflow)."""
    pool: Any = engine.pool
    size = getattr(pool, "size", None)
    overflow = getattr(pool, "_max_overflow", None)
    if callable(size) and isinstance(overflow, int):
        total = int(size()) + max(0, overflow)
        return max(1, total) if overflow >= 0 else DEFAULT_SLOTS
    return DEFAULT_SLOTS


class InFlightLimit:
    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        # One semaphore per event loop (a test may drive one app from several loops).
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNCOUNTED):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.slots)
        async with gate:
            await self.app(scope, receive, send)
