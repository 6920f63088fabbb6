"""Idempotency keys for unsafe API requests (SECURITY.md: "key + request hash + stored response; same key
with a different body → 409").

A ``POST``/``PUT``/``PATCH``/``DELETE`` under ``/api/`` that carries an ``Idempotency-Key`` header is
handled at most once per caller and key, across every worker process (the record is in the database):

- the first request reserves ``(caller, key)`` with the SHA-256 of the request (method, path, query,
  content type, body) in a short transaction of its own, is handled, and its response (status < 500:
  status, content type, body) is stored; a 5xx or a crash releases the key so the client may retry;
- the same key with the same request again → the stored response, byte for byte, with
  ``Idempotency-Replayed: true`` (the route does not run again);
- the same key with a different request → 409 with a Chinese message; while the first request is still
  being handled → 409 with ``Retry-After: 1``.

The caller is the SHA-256 of the bearer token or of the session cookie (or ``anonymous``): a key is only
ever matched within what one caller sent. Records expire after :data:`TTL` (removed as new ones are made).
Requests without the header are untouched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from xiangchuang.db import transaction
from xiangchuang.models import IdempotencyRecord

HEADER: Final = "idempotency-key"
TTL: Final = dt.timedelta(hours=24)
MAX_STORED: Final = 5 * 1024 * 1024
KEY_RULE: Final = re.compile(r"[\x21-\x7e]{1,200}")
UNSAFE: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DB_DOWN: Final = "数据库暂时无法访问，请稍后再试（系统已记录，无需重复提交）"


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int | None
    content_type: str | None
    body: bytes | None


def request_hash(method: str, path: str, query: bytes, content_type: str, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, content_type.encode()):
        h.update(part)
        h.update(b"\0")
    h.update(body)
    return h.hexdigest()


def caller_scope(headers: dict[bytes, bytes]) -> str:
    auth = headers.get(b"authorization", b"")
    if auth.lower().startswith(b"bearer "):
        return "bearer:" + hashlib.sha256(auth[7:].strip()).hexdigest()[:40]
    for part in headers.get(b"cookie", b"").split(b";"):
        name, _, value = part.strip().partition(b"=")
        if name == b"xc_session" and value:
            return "session:" + hashlib.sha256(value).hexdigest()[:40]
    return "anonymous"


def reserve(session: Session, *, scope: str, key: str, rhash: str, now: dt.datetime) -> Stored | None:
    """Reserve ``(scope, key)`` for this request (→ None) or return what is already there."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert(IdempotencyRecord) if dialect == "postgresql" else sqlite_insert(IdempotencyRecord)
    inserted = session.execute(
        ins.values(scope=scope, key=key, request_hash=rhash, created_at=now)
        .on_conflict_do_nothing(index_elements=[IdempotencyRecord.scope, IdempotencyRecord.key])
        .returning(IdempotencyRecord.key)
    ).scalar_one_or_none()
    if inserted is not None:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - TTL))
        return None
    row = session.get(IdempotencyRecord, (scope, key), populate_existing=True)
    if row is None:  # released in between (after a 5xx): this request may go ahead
        session.add(IdempotencyRecord(scope=scope, key=key, request_hash=rhash, created_at=now))
        session.flush()
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    if created < now - TTL:  # expired: this request starts afresh
        row.request_hash, row.created_at, row.status, row.content_type, row.body = (
            rhash,
            now,
            None,
            None,
            None,
        )
        return None
    return Stored(row.request_hash, row.status, row.content_type, row.body)


def complete(session: Session, *, scope: str, key: str, status: int, content_type: str, body: bytes) -> None:
    session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .values(status=status, content_type=content_type[:100], body=body)
    )


def release(session: Session, *, scope: str, key: str) -> None:
    session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )


def _json(status: int, detail: str, extra: list[tuple[bytes, bytes]] | None = None) -> list[Message]:
    body = json.dumps({"detail": detail, "status": status}, ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return [
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])},
        {"type": "http.response.body", "body": body},
    ]


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER.encode())
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not KEY_RULE.fullmatch(key):
            for m in _json(400, "Idempotency-Key 请求头：须为 1–200 个可见 ASCII 字符（建议使用 UUID）"):
                await send(m)
            return

        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent_body = False

        async def replay_receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        who = caller_scope(headers)
        rhash = request_hash(
            scope["method"],
            scope["path"],
            scope.get("query_string", b""),
            headers.get(b"content-type", b"").decode("latin-1"),
            body,
        )
        sessions: sessionmaker[Session] = scope["app"].state.xc.sessions

        def _reserve() -> Stored | None:
            with transaction(sessions) as s:
                return reserve(s, scope=who, key=key, rhash=rhash, now=dt.datetime.now(dt.UTC))

        try:
            stored = await run_in_threadpool(_reserve)
        except SQLAlchemyError:
            for m in _json(503, DB_DOWN, [(b"retry-after", b"10")]):
                await send(m)
            return
        if stored is not None:
            await self._answer_stored(stored, rhash, send)
            return

        status = 500
        content_type = ""
        captured: list[bytes] = []
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, content_type, size
            if message["type"] == "http.response.start":
                status = message["status"]
                for k, v in message.get("headers", []):
                    if k.lower() == b"content-type":
                        content_type = v.decode("latin-1")
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size <= MAX_STORED:
                    captured.append(chunk)
            await send(message)

        def _finish(ok: bool) -> None:
            with transaction(sessions) as s:
                if ok:
                    complete(
                        s,
                        scope=who,
                        key=key,
                        status=status,
                        content_type=content_type,
                        body=b"".join(captured),
                    )
                else:
                    release(s, scope=who, key=key)

        try:
            await self.app(scope, replay_receive, capture)
        except BaseException:
            await run_in_threadpool(_finish, False)
            raise
        await run_in_threadpool(_finish, status < 500 and size <= MAX_STORED)

    @staticmethod
    async def _answer_stored(stored: Stored, rhash: str, send: Send) -> None:
        if stored.request_hash != rhash:
            messages = _json(
                409, "Idempotency-Key 请求头：该幂等键已用于另一个不同的请求；新的请求请使用新的幂等键"
            )
        elif stored.status is None:
            messages = _json(
                409,
                "Idempotency-Key 请求头：使用该幂等键的请求正在处理中，请稍后重试",
                [(b"retry-after", b"1")],
            )
        else:
            body = stored.body or b""
            messages = [
                {
                    "type": "http.response.start",
                    "status": stored.status,
                    "headers": [
                        (b"content-type", (stored.content_type or "application/octet-stream").encode()),
                        (b"content-length", str(len(body)).encode()),
                        (b"idempotency-replayed", b"true"),
                    ],
                },
                {"type": "http.response.body", "body": body},
            ]
        for m in messages:
            await send(m)
