"""The outbox on SQLite and PostgreSQL: enqueued with the business transaction, delivered at least once,
idempotent per message id, readable per recipient."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.db import make_engine
from xiangchuang.models import InboxMessage, OutboxMessage
from xiangchuang.outbox import (
    DeliveryReport,
    InAppAdapter,
    OutboxError,
    PendingMessage,
    deliver_pending,
    enqueue,
    inbox,
    mark_read,
)


@pytest.fixture
def factory(db_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(db_engine, expire_on_commit=False)


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _pending(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        stmt = select(OutboxMessage.id).where(OutboxMessage.delivered_at.is_(None)).order_by(OutboxMessage.id)
        return list(conn.execute(stmt).scalars())


class Recording:
    """An external channel (think SMS gateway): what it sent survives a database rollback."""

    def __init__(self, channel: str = "sms", fail_ids: set[int] | None = None) -> None:
        self.channel = channel
        self.sent: list[int] = []
        self.fail_ids = fail_ids or set()
        self.lock = threading.Lock()

    def send(self, session: Session, message: PendingMessage) -> None:
        if message.id in self.fail_ids:
            raise ConnectionError("短信网关超时\n第二行")
        with self.lock:
            self.sent.append(message.id)


class CountingInApp(InAppAdapter):
    def __init__(self) -> None:
        self.handed: Counter[int] = Counter()
        self.lock = threading.Lock()

    def send(self, session: Session, message: PendingMessage) -> None:
        with self.lock:
            self.handed[message.id] += 1
        super().send(session, message)


# --- enqueue -------------------------------------------------------------------------------------------


def test_enqueue_is_rolled_back_with_the_business_transaction(db_engine, factory):
    with pytest.raises(RuntimeError), factory.begin() as s:
        enqueue(s, user="u1", template="application.approved", payload={"application": "A1"})
        raise RuntimeError("业务失败，整笔回滚")
    assert _count(db_engine, OutboxMessage) == 0
    with factory.begin() as s:
        message_id = enqueue(s, user="u1", template="application.approved", payload={"application": "A1"})
    assert _pending(db_engine) == [message_id]


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({}, "接收人"),
        ({"user": "u1", "role": "clerk"}, "只能是一个用户"),
        ({"user": "u1", "channel": "wechat"}, "渠道"),
        ({"user": "u1", "template": "Approved!"}, "模板"),
        ({"user": "u1", "payload": {"phone": "13800138000"}}, "手机号"),
        ({"user": "u1", "payload": {"ids": ["500101199001011234"]}}, "身份证号"),
        ({"user": "u1", "payload": {"when": dt.date(2024, 1, 1)}}, "JSON"),
        ({"role": "clerk", "district": "500101"}, "区县"),
    ],
)
def test_malformed_messages_are_refused_in_chinese(db_engine, factory, kw, message):
    args: dict[str, Any] = {"template": "application.approved", **kw}
    with pytest.raises(OutboxError, match=message), factory.begin() as s:
        enqueue(s, **args)
    assert _count(db_engine, OutboxMessage) == 0


# --- delivery ------------------------------------------------------------------------------------------


def test_in_app_delivery_marks_delivered_and_each_recipient_reads_their_own(db_engine, factory):
    with factory.begin() as s:
        to_user = enqueue(s, user="u1", template="application.approved", payload={"application": "A1"})
        to_clerks = enqueue(
            s, role="clerk", district=500101, template="application.submitted", payload={"n": 1}
        )
        to_all_clerks = enqueue(s, role="clerk", template="notice.parameters_changed")
        enqueue(s, user="u1", channel="sms", template="application.approved")
    with factory.begin() as s:
        report = deliver_pending(s, adapter=InAppAdapter())
    assert (report.delivered, report.failed) == (3, 0)
    assert _count(db_engine, InboxMessage) == 3
    with db_engine.connect() as conn:
        rows = conn.execute(
            select(OutboxMessage.id, OutboxMessage.attempts, OutboxMessage.delivered_at)
        ).all()
    assert {r.id: r.attempts for r in rows if r.delivered_at is not None} == {
        to_user: 1,
        to_clerks: 1,
        to_all_clerks: 1,
    }
    assert len(_pending(db_engine)) == 1  # the SMS waits for its own adapter
    with factory() as s:
        assert [m.outbox_id for m in inbox(s, user="u1")] == [to_user]
        assert [m.outbox_id for m in inbox(s, user="c1", role="clerk", district=500101)] == [
            to_all_clerks,
            to_clerks,
        ]
        assert [m.outbox_id for m in inbox(s, user="c2", role="clerk", district=500102)] == [to_all_clerks]
        assert inbox(s, user="u2") == []
        item = inbox(s, user="u1")[0]
    assert (
        item.template == "application.approved"
        and item.payload == {"application": "A1"}
        and item.read_at is None
    )


def test_redelivering_a_message_is_idempotent_per_message_id(db_engine, factory):
    with factory.begin() as s:
        ids = [enqueue(s, user=f"u{i}", template="application.approved") for i in range(3)]
    with factory.begin() as s:
        deliver_pending(s, adapter=InAppAdapter())
    with db_engine.begin() as conn:  # as if the deliverer had crashed after delivering, before marking
        conn.execute(update(OutboxMessage).values(delivered_at=None))
    with factory.begin() as s:
        report = deliver_pending(s, adapter=InAppAdapter())
    assert report.delivered == 3
    assert _count(db_engine, InboxMessage) == 3
    with db_engine.connect() as conn:
        assert sorted(conn.execute(select(InboxMessage.outbox_id)).scalars()) == ids
    assert _pending(db_engine) == []


def test_delivery_is_at_least_once_when_the_deliverer_crashes_before_commit(db_engine, factory):
    with factory.begin() as s:
        message_id = enqueue(s, user="u1", channel="sms", template="application.approved")
    gateway = Recording()
    with pytest.raises(RuntimeError), factory.begin() as s:
        deliver_pending(s, adapter=gateway)
        raise RuntimeError("进程在提交前崩溃")
    assert gateway.sent == [message_id]
    assert _pending(db_engine) == [message_id]
    with factory.begin() as s:
        deliver_pending(s, adapter=gateway)
    assert gateway.sent == [message_id, message_id]
    assert _pending(db_engine) == []
    with factory.begin() as s:
        assert deliver_pending(s, adapter=gateway).delivered == 0


def test_a_failing_message_is_retried_later_and_does_not_block_the_others(db_engine, factory):
    with factory.begin() as s:
        bad = enqueue(s, user="u1", channel="sms", template="application.approved")
        good = enqueue(s, user="u2", channel="sms", template="application.approved")
    gateway = Recording(fail_ids={bad})
    for _ in range(3):
        with factory.begin() as s:
            deliver_pending(s, adapter=gateway, max_attempts=3)
    assert gateway.sent == [good]
    with db_engine.connect() as conn:
        row = conn.execute(select(OutboxMessage).where(OutboxMessage.id == bad)).one()
    assert row.attempts == 3 and row.delivered_at is None
    assert row.last_error == "ConnectionError: 短信网关超时第二行"
    with factory.begin() as s:  # attempts exhausted: left for an operator
        assert deliver_pending(s, adapter=gateway, max_attempts=3) == DeliveryReport(delivered=0, failed=0)
    gateway.fail_ids.clear()
    with factory.begin() as s:
        assert deliver_pending(s, adapter=gateway, max_attempts=4).delivered == 1
    assert _pending(db_engine) == []


def test_concurrent_deliverers_hand_each_message_over_once(db_engine, factory):
    n_messages, n_workers = 30, 4
    with factory.begin() as s:
        for i in range(n_messages):
            enqueue(s, user=f"u{i}", template="application.approved")
    wide = make_engine(
        db_engine.url.render_as_string(hide_password=False), pool_size=n_workers, max_overflow=0
    )
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            path = conn.exec_driver_sql("SHOW search_path").scalar_one()

        @event.listens_for(wide, "connect")
        def _search_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute(f"SET search_path TO {path}")
            cur.close()
            dbapi_conn.commit()

    adapter = CountingInApp()
    barrier = threading.Barrier(n_workers)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            while True:
                with sessionmaker(wide).begin() as s:
                    if deliver_pending(s, adapter=adapter, limit=5).delivered == 0:
                        return
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n_workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wide.dispose()
    assert errors == []
    assert len(adapter.handed) == n_messages and set(adapter.handed.values()) == {1}
    assert _count(db_engine, InboxMessage) == n_messages
    assert _pending(db_engine) == []


# --- reading -------------------------------------------------------------------------------------------


def test_only_a_recipient_can_mark_a_message_read(factory):
    with factory.begin() as s:
        enqueue(s, user="u1", template="application.approved")
        enqueue(s, role="clerk", district=500101, template="application.submitted")
    with factory.begin() as s:
        deliver_pending(s, adapter=InAppAdapter())
    with factory.begin() as s:
        own = inbox(s, user="u1")[0]
        team = inbox(s, user="c1", role="clerk", district=500101)[0]
        assert not mark_read(s, message_id=own.id, user="u2")
        assert not mark_read(s, message_id=team.id, user="c9", role="clerk", district=500102)
        assert mark_read(s, message_id=own.id, user="u1")
        assert mark_read(s, message_id=team.id, user="c1", role="clerk", district=500101)
        assert mark_read(s, message_id=own.id, user="u1")  # already read: still the recipient's
    with factory() as s:
        assert inbox(s, user="u1", unread_only=True) == []
        assert inbox(s, user="u1")[0].read_at is not None
        assert inbox(s, user="c2", role="clerk", district=500101, unread_only=True) == []
