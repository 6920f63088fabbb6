"""Notifications through a transactional outbox.

- :func:`enqueue` writes an ``outbox_messages`` row in the caller's business transaction: if that
  transaction rolls back, no one is notified; if it commits, the message will be delivered.
- :func:`deliver_pending` takes pending messages of one channel (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, so several deliverers share the work; SQLite serialises writers), hands each to the
  channel's adapter inside a SAVEPOINT and marks it delivered, or records the failure and leaves it
  pending for the next run (until ``max_attempts``).
- Delivery is **at-least-once**: an external adapter (SMS, e-mail) may send and then the deliverer's
  transaction may fail to commit, so the message is sent again on the next run. Adapters are therefore
  idempotent per message id — :class:`InAppAdapter` writes at most one inbox row per outbox message
  (``inbox_messages.outbox_id`` is unique); an SMS gateway is given the message id as its dedup key.
- :func:`inbox` reads a recipient's in-app messages: addressed to the user, or to the user's role in
  the user's district, or to the role city-wide (district NULL). A role message's read mark is shared
  by the role's holders (a team inbox).

Payloads hold references and display values only; text shaped like a 身份证号, mobile or bank card
number is refused (it would otherwise sit in plaintext at rest). Services never commit.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy import ColumnElement, and_, false, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from xiangchuang.audit import contains_personal_number
from xiangchuang.models import InboxMessage, OutboxMessage
from xiangchuang.models.outbox import CHANNELS

_TEMPLATE: Final = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*")
_MAX_ERROR: Final = 500


class OutboxError(ValueError):
    """A message was refused (no recipient, unknown channel, personal data in the payload)."""


@dataclass(frozen=True)
class PendingMessage:
    id: int
    recipient_user: str | None
    recipient_role: str | None
    recipient_district: int | None
    channel: str
    template: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    failed: int


@dataclass(frozen=True)
class InboxItem:
    id: int
    outbox_id: int
    template: str
    payload: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


class Adapter(Protocol):
    """Sends one message on one channel. Must be idempotent per ``message.id``; raise to report failure."""

    channel: str

    def send(self, session: Session, message: PendingMessage) -> None: ...


class InAppAdapter:
    """Delivers into ``inbox_messages`` (one row per outbox message, however often it is delivered)."""

    channel = "in_app"

    def send(self, session: Session, message: PendingMessage) -> None:
        values = {
            "outbox_id": message.id,
            "recipient_user": message.recipient_user,
            "recipient_role": message.recipient_role,
            "recipient_district": message.recipient_district,
            "template": message.template,
            "payload": message.payload,
        }
        dialect = session.get_bind().dialect.name
        if dialect == "postgresql":
            session.execute(pg_insert(InboxMessage).values(values).on_conflict_do_nothing())
        elif dialect == "sqlite":
            session.execute(sqlite_insert(InboxMessage).values(values).on_conflict_do_nothing())
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            exists = select(InboxMessage.id).where(InboxMessage.outbox_id == message.id)
            if session.execute(exists).first() is None:
                session.execute(insert(InboxMessage).values(values))


# --- writing -------------------------------------------------------------------------------------------


def enqueue(
    session: Session,
    *,
    template: str,
    payload: Mapping[str, Any] | None = None,
    user: str | None = None,
    role: str | None = None,
    district: int | None = None,
    channel: str = "in_app",
) -> int:
    """Queue a notification in the caller's transaction; returns the message id."""
    if not user and not role:
        raise OutboxError("通知须指定接收人：用户编号，或角色（可加区县）")
    if user and (role or district is not None):
        raise OutboxError("通知的接收人只能是一个用户，或一个角色（可加区县），不能同时指定")
    if channel not in CHANNELS:
        raise OutboxError(f"通知渠道 {channel!r} 不受支持，应为 {'、'.join(CHANNELS)} 之一")
    if not _TEMPLATE.fullmatch(template) or len(template) > 80:
        raise OutboxError(f"通知模板编号 {template!r} 格式不正确，应如 application.approved")
    if district is not None and (isinstance(district, bool) or not isinstance(district, int)):
        raise OutboxError("通知接收区县须为行政区划代码（整数）")
    body = _checked_payload(dict(payload or {}))
    return int(
        session.execute(
            insert(OutboxMessage)
            .values(
                recipient_user=user,
                recipient_role=role,
                recipient_district=district,
                channel=channel,
                template=template,
                payload=body,
                attempts=0,
            )
            .returning(OutboxMessage.id)
        ).scalar_one()
    )


def deliver_pending(
    session: Session,
    *,
    adapter: Adapter,
    limit: int = 100,
    max_attempts: int = 10,
    now: dt.datetime | None = None,
) -> DeliveryReport:
    """Deliver up to ``limit`` pending messages of the adapter's channel, oldest first."""
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.recipient_user,
            OutboxMessage.recipient_role,
            OutboxMessage.recipient_district,
            OutboxMessage.channel,
            OutboxMessage.template,
            OutboxMessage.payload,
            OutboxMessage.attempts,
        )
        .where(
            OutboxMessage.delivered_at.is_(None),
            OutboxMessage.channel == adapter.channel,
            OutboxMessage.attempts < max_attempts,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    delivered = failed = 0
    for row in rows:
        message = PendingMessage(**row._asdict())
        try:
            with session.begin_nested():
                adapter.send(session, message)
        except OperationalError:
            raise  # the database itself is in trouble: let the transaction owner retry
        except Exception as exc:
            failed += 1
            error = "".join(ch for ch in f"{type(exc).__name__}: {exc}" if ch.isprintable())[:_MAX_ERROR]
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message.id)
                .values(attempts=OutboxMessage.attempts + 1, last_error=error)
            )
            continue
        delivered += 1
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                attempts=OutboxMessage.attempts + 1,
                delivered_at=now or dt.datetime.now(dt.UTC),
                last_error=None,
            )
        )
    return DeliveryReport(delivered=delivered, failed=failed)


# --- reading -------------------------------------------------------------------------------------------


def _visible_to(user: str, role: str | None, district: int | None) -> ColumnElement[bool]:
    by_role: ColumnElement[bool] = false()
    if role:
        here: ColumnElement[bool] = InboxMessage.recipient_district.is_(None)
        if district is not None:
            here = or_(here, InboxMessage.recipient_district == district)
        by_role = and_(InboxMessage.recipient_role == role, here)
    return or_(InboxMessage.recipient_user == user, by_role)


def inbox(
    session: Session,
    *,
    user: str,
    role: str | None = None,
    district: int | None = None,
    unread_only: bool = False,
    limit: int = 50,
) -> list[InboxItem]:
    """A recipient's in-app messages, newest first."""
    stmt = select(
        InboxMessage.id,
        InboxMessage.outbox_id,
        InboxMessage.template,
        InboxMessage.payload,
        InboxMessage.created_at,
        InboxMessage.read_at,
    ).where(_visible_to(user, role, district))
    if unread_only:
        stmt = stmt.where(InboxMessage.read_at.is_(None))
    rows = session.execute(stmt.order_by(InboxMessage.id.desc()).limit(limit)).all()
    return [InboxItem(**row._asdict()) for row in rows]


def mark_read(
    session: Session,
    *,
    message_id: int,
    user: str,
    role: str | None = None,
    district: int | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Mark one in-app message read; ``False`` when it is not the recipient's (or does not exist)."""
    result = session.execute(
        update(InboxMessage)
        .where(
            InboxMessage.id == message_id, _visible_to(user, role, district), InboxMessage.read_at.is_(None)
        )
        .values(read_at=now or dt.datetime.now(dt.UTC))
    )
    if getattr(result, "rowcount", 0):
        return True
    visible = select(InboxMessage.id).where(InboxMessage.id == message_id, _visible_to(user, role, district))
    return session.execute(visible).first() is not None


# --- internals -----------------------------------------------------------------------------------------


def _checked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> None:
        if isinstance(value, str):
            if contains_personal_number(value):
                raise OutboxError("通知内容疑似包含身份证号、手机号或银行卡号：请只放编号和脱敏后的信息")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(str(k))
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)
        elif isinstance(value, float) and not math.isfinite(value):
            raise OutboxError("通知内容中的数值须为有限数")

    walk(payload)
    try:
        return dict(json.loads(json.dumps(payload, ensure_ascii=False, allow_nan=False)))
    except (TypeError, ValueError) as exc:
        raise OutboxError(f"通知内容须可保存为 JSON：{exc}") from None
