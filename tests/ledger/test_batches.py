"""Disbursement batches: paid exactly once through crashes; the bank file opened and checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from tests.registry.factories import Registry
from xiangchuang.audit.chain import audit_key, verify
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import ValidationFailed
from xiangchuang.ledger import batches
from xiangchuang.ledger.batches import BatchLine, create_batch, export_bank_file, run_batch
from xiangchuang.ledger.service import approve, budget_summary, open_budget, reconcile
from xiangchuang.models import AuditEvent, DisbursementItem, JournalEntry, Person

AMOUNTS = (600_000, 1_234_550, 99, 20_000_000)


@pytest.fixture
def factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(db_engine)


def _setup(db_engine: Engine, factory: sessionmaker[Session], pii: Any) -> int:
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        people = [reg.person() for _ in AMOUNTS]
    with factory.begin() as s:
        for pid, n in zip(people, range(len(AMOUNTS)), strict=True):
            blob, _warning = pii.bank_account(f"6222020200112233{n:03d}")
            s.execute(update(Person).where(Person.id == pid).values(bank_account_enc=blob))
        open_budget(s, idempotency_key="budget", district=500101, funding_source="city", amount_fen=10**9)
        for n, amount in enumerate(AMOUNTS):
            approve(
                s,
                idempotency_key=f"approve:{n}",
                district=500101,
                funding_source="city",
                application_ref=f"A{n}",
                amount_fen=amount,
            )
        batch = create_batch(
            s,
            batch_no="PB-2026-001",
            district=500101,
            funding_source="city",
            created_by="fin1",
            lines=[
                BatchLine(f"A{n}", pid, amount, "创业补助")
                for n, (pid, amount) in enumerate(zip(people, AMOUNTS, strict=True))
            ],
        )
        return batch.id


def _paid(factory: sessionmaker[Session]) -> tuple[int, int, int]:
    with factory() as s:
        items = (
            s.scalar(
                select(func.count()).select_from(DisbursementItem).where(DisbursementItem.status == "paid")
            )
            or 0
        )
        entries = (
            s.scalar(
                select(func.count()).select_from(JournalEntry).where(JournalEntry.operation == "disburse")
            )
            or 0
        )
        disbursed = budget_summary(s, district=500101, funding_source="city").disbursed_fen
        return int(items), int(entries), disbursed


def test_a_batch_pays_every_item_once_and_a_rerun_pays_nothing(db_engine, factory, pii):
    batch_id = _setup(db_engine, factory, pii)
    first = run_batch(factory, batch_id=batch_id)
    assert first.paid == len(AMOUNTS) and first.total_fen == sum(AMOUNTS)
    again = run_batch(factory, batch_id=batch_id)
    assert again.paid == 0 and again.already_paid == len(AMOUNTS)
    assert _paid(factory) == (len(AMOUNTS), len(AMOUNTS), sum(AMOUNTS))
    with factory() as s:
        assert reconcile(s) == []


@pytest.mark.parametrize("crash_at", range(len(AMOUNTS)))
def test_a_crash_inside_any_payment_leaves_no_partial_entry_and_the_retry_pays_exactly_once(
    db_engine, factory, pii, monkeypatch, crash_at
):
    batch_id = _setup(db_engine, factory, pii)
    real = batches.disburse
    calls = {"n": 0}

    def crashing(session: Session, **kw: Any) -> Any:
        result = real(session, **kw)  # the posting is written …
        calls["n"] += 1
        if calls["n"] == crash_at + 1:
            raise RuntimeError("进程在提交前崩溃（注入）")  # … but never committed
        return result

    monkeypatch.setattr(batches, "disburse", crashing)
    with pytest.raises(RuntimeError):
        run_batch(factory, batch_id=batch_id)
    done = sum(AMOUNTS[:crash_at])
    assert _paid(factory) == (crash_at, crash_at, done)
    monkeypatch.setattr(batches, "disburse", real)
    run_batch(factory, batch_id=batch_id)
    assert _paid(factory) == (len(AMOUNTS), len(AMOUNTS), sum(AMOUNTS))


def test_a_crash_between_payments_is_resumed(db_engine, factory, pii):
    batch_id = _setup(db_engine, factory, pii)

    def stop_after_two(item_id: int) -> None:
        if _paid(factory)[0] == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(factory, batch_id=batch_id, after_each=stop_after_two)
    assert _paid(factory)[0] == 2
    assert run_batch(factory, batch_id=batch_id).paid == len(AMOUNTS) - 2
    assert _paid(factory) == (len(AMOUNTS), len(AMOUNTS), sum(AMOUNTS))


def test_the_bank_file_has_full_accounts_amounts_and_capitals_and_is_audited(
    db_engine, factory, pii, tmp_path
):
    batch_id = _setup(db_engine, factory, pii)
    run_batch(factory, batch_id=batch_id)
    path = tmp_path / "拨付.xlsx"
    with factory.begin() as s:
        rows = export_bank_file(
            s, batch_id=batch_id, pii=pii, path=path, actor="fin1", audit_key=audit_key(pii.cipher.ring)
        )
    assert rows == len(AMOUNTS)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[2]]
    assert header == list(batches.HEADERS)
    body = [[c.value for c in row] for row in ws.iter_rows(min_row=3, max_row=2 + len(AMOUNTS))]
    assert [r[2] for r in body] == [f"6222020200112233{n:03d}" for n in range(len(AMOUNTS))]
    assert [Decimal(str(r[3])) * 100 for r in body] == [Decimal(a) for a in AMOUNTS]
    assert body[1][4] == "壹万贰仟叁佰肆拾伍元伍角整" and body[2][4] == "玖角玖分"
    total_row = [c.value for c in ws[3 + len(AMOUNTS)]]
    assert total_row[0] == "合计" and Decimal(str(total_row[3])) * 100 == sum(AMOUNTS)
    with db_engine.connect() as conn:
        assert verify(conn, audit_key(pii.cipher.ring)) is None
        actions = conn.execute(select(AuditEvent.action, AuditEvent.details)).all()
    assert [a for a, _ in actions] == ["export.bank_payment_file"]
    assert "6222" not in str(actions[0][1])


def test_a_payee_without_a_bank_account_stops_the_export(db_engine, factory, pii, tmp_path):
    batch_id = _setup(db_engine, factory, pii)
    with factory.begin() as s:
        s.execute(update(Person).values(bank_account_enc=None))
    with pytest.raises(ValidationFailed, match="没有登记银行账号"), factory.begin() as s:
        export_bank_file(
            s,
            batch_id=batch_id,
            pii=pii,
            path=tmp_path / "x.xlsx",
            actor="fin1",
            audit_key=audit_key(pii.cipher.ring),
        )
    assert not (tmp_path / "x.xlsx").exists()
