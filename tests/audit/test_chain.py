"""The audit trail on SQLite and PostgreSQL: one row per record, none on rollback, every edit, deletion
or reordering detected at the first broken seq, and concurrent writers never fork the chain."""

from __future__ import annotations

import datetime as dt
import os
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, delete, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.audit import (
    AuditChainError,
    AuditError,
    audit_key,
    record,
    verify,
    verify_audit,
)
from xiangchuang.audit.chain import GENESIS
from xiangchuang.crypto import KeyRing
from xiangchuang.db import make_engine
from xiangchuang.models import AuditEvent, AuditHead


@pytest.fixture(scope="module")
def ring() -> KeyRing:
    return KeyRing(keys={"k1": os.urandom(16)}, active="k1", index_key=os.urandom(32))


@pytest.fixture(scope="module")
def key(ring: KeyRing) -> bytes:
    return audit_key(ring)


def _record(factory: sessionmaker[Session], key: bytes, i: int, **kw: Any) -> None:
    args: dict[str, Any] = {
        "actor": f"u{i}",
        "actor_role": "district_reviewer",
        "district": 500101,
        "action": "application.submit",
        "subject": f"applications:A{i}",
        "details": {"step": i, "amount_fen": 300_000_00, "note": "复审通过"},
    }
    args.update(kw)
    with factory.begin() as session:
        record(session, key=key, **args)


@pytest.fixture
def chain(db_engine: Engine, key: bytes) -> Engine:
    """Five records, each in its own transaction."""
    factory = sessionmaker(db_engine)
    for i in range(1, 6):
        _record(factory, key, i)
    return db_engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def _verify(engine: Engine, key: bytes):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return verify(conn, key)


def _concurrent_engine(engine: Engine, size: int) -> Engine:
    """The same database with a pool wide enough for every thread to hold its own connection at once."""
    wide = make_engine(engine.url.render_as_string(hide_password=False), pool_size=size, max_overflow=0)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            path = conn.exec_driver_sql("SHOW search_path").scalar_one()

        @event.listens_for(wide, "connect")
        def _search_path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute(f"SET search_path TO {path}")
            cur.close()
            dbapi_conn.commit()

    return wide


# --- writing -------------------------------------------------------------------------------------------


def test_each_record_writes_exactly_one_row(db_engine, key):
    factory = sessionmaker(db_engine)
    for i in range(1, 4):
        _record(factory, key, i)
        assert _count(db_engine) == i
    with db_engine.connect() as conn:
        rows = conn.execute(select(AuditEvent).order_by(AuditEvent.seq)).all()
        head = conn.execute(select(AuditHead)).one()
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_hash == GENESIS
    assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
    assert (head.seq, head.hash) == (3, rows[-1].hash)


def test_a_rollback_writes_no_row(db_engine, key):
    factory = sessionmaker(db_engine)
    _record(factory, key, 1)
    with pytest.raises(RuntimeError), factory.begin() as session:
        record(session, key=key, actor="u2", action="application.submit", subject="applications:A2")
        raise RuntimeError("业务失败")
    assert _count(db_engine) == 1
    _record(factory, key, 3)
    assert _verify(db_engine, key) is None
    with db_engine.connect() as conn:
        assert conn.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars().all() == [1, 2]


def test_record_returns_seq_and_hash_and_time_is_utc(db_engine, key):
    at = dt.datetime(2024, 6, 1, 9, 30, 15, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with sessionmaker(db_engine).begin() as session:
        rec = record(session, key=key, actor="system", action="draw.run", subject="draws:2024-06", at=at)
    assert rec.seq == 1
    with db_engine.connect() as conn:
        row = conn.execute(select(AuditEvent)).one()
    stored = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
    assert stored == at
    assert row.hash == rec.hash
    assert _verify(db_engine, key) is None


def test_an_intact_chain_verifies(chain, key, ring):
    assert _verify(chain, key) is None
    result = verify_audit(engine=chain, ring=ring)
    assert result.ok
    assert (result.checked, result.head_seq) == (5, 5)
    assert "完整" in result.message


def test_an_empty_log_verifies(db_engine, ring):
    result = verify_audit(engine=db_engine, ring=ring)
    assert result.ok and result.checked == 0 and "为空" in result.message


def test_a_different_key_breaks_the_first_record(chain):
    broken = _verify(chain, os.urandom(32))
    assert broken is not None and (broken.seq, broken.reason) == (1, "hash_mismatch")


# --- tampering -----------------------------------------------------------------------------------------

EDITS: dict[str, Any] = {
    "at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    "actor": "u-evil",
    "actor_role": "city_admin",
    "district": 500102,
    "action": "application.approve",
    "subject": "applications:FORGED",
    "outcome": "denied",
    "details": {"step": 99},
    "prev_hash": "f" * 64,
    "hash": "e" * 64,
}


@pytest.mark.parametrize("seq", [1, 3, 5])
@pytest.mark.parametrize("field", list(EDITS))
def test_editing_any_field_of_any_row_is_detected_at_that_row(chain, key, ring, field, seq):
    with chain.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == seq).values({field: EDITS[field]}))
    broken = _verify(chain, key)
    assert broken is not None
    assert (broken.seq, broken.reason) == (seq, "hash_mismatch")
    result = verify_audit(engine=chain, ring=ring)
    assert not result.ok and f"第 {seq} 条" in result.message


@pytest.mark.parametrize("seq", [1, 3])
def test_deleting_a_row_is_detected_at_the_missing_seq(chain, key, seq):
    with chain.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == seq))
    broken = _verify(chain, key)
    assert broken is not None and (broken.seq, broken.reason) == (seq, "seq_gap")


def test_deleting_the_last_row_is_detected_via_the_head(chain, key):
    with chain.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
    broken = _verify(chain, key)
    assert broken is not None and (broken.seq, broken.reason) == (5, "tail_deleted")


def test_deleting_every_row_is_detected_via_the_head(chain, key):
    with chain.begin() as conn:
        conn.execute(delete(AuditEvent))
    broken = _verify(chain, key)
    assert broken is not None and (broken.seq, broken.reason) == (1, "tail_deleted")


def test_rewinding_the_head_after_truncation_is_detected_and_blocks_writing(chain, key):
    with chain.begin() as conn:
        conn.execute(delete(AuditEvent).where(AuditEvent.seq == 5))
        last = conn.execute(select(AuditEvent.hash).where(AuditEvent.seq == 4)).scalar_one()
        conn.execute(update(AuditHead).values(seq=4, hash=last))
    broken = _verify(chain, key)
    assert broken is not None and broken.reason == "head_mac_mismatch"
    with pytest.raises(AuditChainError, match="链头"), sessionmaker(chain).begin() as session:
        record(session, key=key, actor="u9", action="application.submit", subject="applications:A9")


def test_deleting_the_head_is_detected_and_blocks_writing(chain, key):
    with chain.begin() as conn:
        conn.execute(delete(AuditHead))
    broken = _verify(chain, key)
    assert broken is not None and broken.reason == "head_missing"
    with pytest.raises(AuditChainError, match="链头"), sessionmaker(chain).begin() as session:
        record(session, key=key, actor="u9", action="application.submit", subject="applications:A9")


def test_reordering_rows_is_detected_at_the_first_moved_seq(chain, key):
    with chain.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 2).values(seq=1000))
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 4).values(seq=2))
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 1000).values(seq=4))
    broken = _verify(chain, key)
    assert broken is not None and (broken.seq, broken.reason) == (2, "hash_mismatch")


def test_a_row_inserted_after_the_head_is_detected(chain, key):
    with chain.begin() as conn:
        last = conn.execute(select(AuditEvent).where(AuditEvent.seq == 5)).one()._asdict()
        conn.execute(AuditEvent.__table__.insert().values({**last, "seq": 6, "prev_hash": last["hash"]}))
    broken = _verify(chain, key)
    assert broken is not None and (broken.seq, broken.reason) == (6, "beyond_head")


def test_appending_continues_an_intact_chain(chain, key):
    _record(sessionmaker(chain), key, 6)
    assert _verify(chain, key) is None
    assert _count(chain) == 6


# --- concurrency ---------------------------------------------------------------------------------------


def test_twenty_concurrent_writers_produce_one_unbroken_chain(db_engine, key):
    n = 20
    wide = _concurrent_engine(db_engine, n)
    barrier = threading.Barrier(n)
    errors: list[BaseException] = []

    def writer(i: int) -> None:
        try:
            with wide.connect() as conn:  # its own connection; BEGIN comes with the first statement
                barrier.wait(timeout=30)
                with Session(bind=conn) as session, session.begin():
                    record(
                        session,
                        key=key,
                        actor=f"u{i}",
                        action="application.submit",
                        subject=f"applications:A{i}",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wide.dispose()
    assert errors == []
    with db_engine.connect() as conn:
        seqs = conn.execute(select(AuditEvent.seq).order_by(AuditEvent.seq)).scalars().all()
        actors = set(conn.execute(select(AuditEvent.actor)).scalars())
    assert seqs == list(range(1, n + 1))
    assert actors == {f"u{i}" for i in range(n)}
    assert _verify(db_engine, key) is None


# --- what may be written -------------------------------------------------------------------------------


def test_control_characters_and_newlines_are_stripped(db_engine, key):
    with sessionmaker(db_engine).begin() as session:
        record(
            session,
            key=key,
            actor="u1\r\n2024-01-01 forged line",
            action="login.failure",
            subject="users:u1\x1b[31m",
            outcome="failure",
            details={"reason\n": "密码错误\r\nINFO 伪造的日志行\u2028\u202e", "tries": 3},
        )
    with db_engine.connect() as conn:
        row = conn.execute(select(AuditEvent)).one()
    assert row.actor == "u12024-01-01 forged line"
    assert row.subject == "users:u1[31m"
    assert row.details == {"reason": "密码错误INFO 伪造的日志行", "tries": 3}
    assert _verify(db_engine, key) is None


@pytest.mark.parametrize(
    "details",
    [
        {"phone": "13800138000"},
        {"phone": "138-0013-8000"},
        {"id": "身份证500101199001011234"},
        {"id": "50010119900101123X"},
        {"card": "6222 0200 1234 5678 901"},
        {"nested": [{"x": "6222020012345678"}]},
    ],
)
def test_personal_numbers_are_refused(db_engine, key, details):
    with pytest.raises(AuditError, match="个人信息"), sessionmaker(db_engine).begin() as session:
        record(session, key=key, actor="u1", action="pii.unmask", subject="persons:P1", details=details)
    assert _count(db_engine) == 0


def test_hashes_and_amounts_are_not_mistaken_for_personal_numbers(db_engine, key):
    with sessionmaker(db_engine).begin() as session:
        record(
            session,
            key=key,
            actor="system",
            action="export.registry",
            subject="exports:E1",
            details={
                "sha256": "0123456789" * 6 + "abcd",
                "amount_fen": 12_345_678_901,
                "date": dt.date(2024, 6, 1),
            },
        )
    assert _count(db_engine) == 1


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"subject": "5001011990"}, "表名:编号"),
        ({"subject": "persons:500101199001011234"}, "个人信息"),
        ({"action": "Submit"}, "application.submit"),
        ({"outcome": "ok"}, "success"),
        ({"actor": ""}, "操作人"),
        ({"details": {"x": object()}}, "不支持"),
        ({"at": dt.datetime(2024, 1, 1)}, "时区"),
    ],
)
def test_malformed_records_are_refused_with_a_chinese_message(db_engine, key, kw, message):
    args: dict[str, Any] = {"actor": "u1", "action": "application.submit", "subject": "applications:A1"}
    args.update(kw)
    with pytest.raises(AuditError, match=message), sessionmaker(db_engine).begin() as session:
        record(session, key=key, **args)


def test_audit_key_is_derived_and_separate_from_the_index_key(ring):
    key = audit_key(ring)
    assert len(key) == 32 and key != ring.index_key[:32]
    assert audit_key(ring) == key
    other = KeyRing(keys=ring.keys, active=ring.active, index_key=os.urandom(32))
    assert audit_key(other) != key
