"""The ledger on SQLite and PostgreSQL: balanced entries, budgets that cannot be overdrawn (also under
concurrency), idempotent payments, and a reconciliation that finds tampering."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.db import make_engine
from xiangchuang.ledger import (
    AccountNotFound,
    BudgetExceeded,
    Conflict,
    LedgerError,
    PaymentInstruction,
    approve,
    approved_outstanding,
    budget_summary,
    disburse,
    is_retryable,
    open_budget,
    reconcile,
    release,
    run_in_transaction,
)
from xiangchuang.models import Account, JournalEntry, Posting

D = 500101
YUAN = 100


@pytest.fixture
def factory(db_engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(db_engine, expire_on_commit=False)


def _budget(
    factory: sessionmaker[Session], amount_fen: int, *, source: str = "city", key: str = "B1"
) -> None:
    with factory.begin() as s:
        open_budget(s, idempotency_key=key, district=D, funding_source=source, amount_fen=amount_fen)


def _approve(s: Session, app: str, amount_fen: int, *, key: str | None = None, source: str = "city") -> Any:
    return approve(
        s,
        idempotency_key=key or f"approve-{app}",
        district=D,
        funding_source=source,
        application_ref=app,
        amount_fen=amount_fen,
    )


def _pay(app: str, amount_fen: int, *, key: str = "P1", payee: str = "bank_accounts:7") -> PaymentInstruction:
    return PaymentInstruction(
        idempotency_key=key,
        district=D,
        funding_source="city",
        application_ref=app,
        amount_fen=amount_fen,
        payee_ref=payee,
        memo="创业补贴",
    )


def _counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(select(func.count()).select_from(m)).scalar_one())
            for m in (JournalEntry, Posting, Account)
        )


def _summary(factory: sessionmaker[Session], source: str = "city"):  # type: ignore[no-untyped-def]
    with factory() as s:
        return budget_summary(s, district=D, funding_source=source)


def _reconcile(factory: sessionmaker[Session]) -> list[Any]:
    with factory() as s:
        return reconcile(s)


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


# --- double entry --------------------------------------------------------------------------------------


def test_every_entry_sums_to_zero_and_balances_follow_the_postings(db_engine, factory):
    _budget(factory, 1000 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 300 * YUAN)
        disburse(s, instruction=_pay("A1", 200 * YUAN))
        release(
            s,
            idempotency_key="R1",
            district=D,
            funding_source="city",
            application_ref="A1",
            amount_fen=50 * YUAN,
        )
    with db_engine.connect() as conn:
        sums = conn.execute(
            select(Posting.entry_id, func.sum(Posting.amount_fen)).group_by(Posting.entry_id)
        ).all()
    assert len(sums) == 4 and all(total == 0 for _, total in sums)
    s = _summary(factory)
    assert (s.budget_fen, s.available_fen, s.approved_outstanding_fen, s.disbursed_fen) == (
        1000 * YUAN,
        750 * YUAN,
        50 * YUAN,
        200 * YUAN,
    )
    assert s.approved_total_fen == 250 * YUAN
    assert _reconcile(factory) == []


def test_funding_sources_are_separate_budgets_and_accept_chinese_names(factory):
    _budget(factory, 100 * YUAN, source="市级及以上资金", key="B-city")
    _budget(factory, 40 * YUAN, source="区县财政", key="B-district")
    with factory.begin() as s:
        _approve(s, "A1", 90 * YUAN, source="city")
        with pytest.raises(BudgetExceeded):
            _approve(s, "A1", 50 * YUAN, source="district", key="approve-A1-district")
    assert _summary(factory, "district").available_fen == 40 * YUAN
    assert _summary(factory, "city").available_fen == 10 * YUAN


def test_approve_result_reports_balances_after(factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        result = _approve(s, "A1", 30 * YUAN)
    assert result.balances_after == {"available": 70 * YUAN, "approved:A1": 30 * YUAN}
    assert not result.replayed


# --- budgets cannot be overdrawn -----------------------------------------------------------------------


def test_an_over_budget_approval_is_rejected_in_chinese_and_writes_nothing(db_engine, factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 60 * YUAN)
    before = _counts(db_engine)
    with factory.begin() as s:
        with pytest.raises(BudgetExceeded) as err:
            _approve(s, "A2", 50 * YUAN)
        assert err.value.status == 409
        assert (
            "预算不足" in err.value.message
            and "¥40.00" in err.value.message
            and "¥50.00" in err.value.message
        )
        # the caller's transaction is still usable: the refused operation was a savepoint
        _approve(s, "A3", 40 * YUAN)
    after = _counts(db_engine)
    assert after == (before[0] + 1, before[1] + 2, before[2] + 1)
    with factory() as s:
        assert approved_outstanding(s, district=D, funding_source="city", application_ref="A2") == 0
    assert _summary(factory).available_fen == 0
    assert _reconcile(factory) == []


def test_disbursing_more_than_approved_is_rejected(db_engine, factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 30 * YUAN)
    before = _counts(db_engine)
    with pytest.raises(BudgetExceeded, match=r"超出核准金额.*A1.*¥30\.00.*¥31\.00"), factory.begin() as s:
        disburse(s, instruction=_pay("A1", 31 * YUAN))
    assert _counts(db_engine) == before
    with pytest.raises(BudgetExceeded, match="撤销"), factory.begin() as s:
        release(
            s,
            idempotency_key="R1",
            district=D,
            funding_source="city",
            application_ref="A1",
            amount_fen=31 * YUAN,
        )


def test_approving_without_a_budget_or_paying_an_unapproved_application_is_refused(db_engine, factory):
    with pytest.raises(AccountNotFound, match="尚未下达预算"), factory.begin() as s:
        _approve(s, "A1", 1)
    _budget(factory, 100 * YUAN)
    with pytest.raises(AccountNotFound, match="没有已核准的金额"), factory.begin() as s:
        disburse(s, instruction=_pay("A9", 1))
    assert _counts(db_engine) == (1, 2, 2)


def test_the_database_refuses_a_negative_budget_balance_directly(db_engine, factory):
    _budget(factory, 100)
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(update(Account).where(Account.kind == "available").values(balance_fen=-1))
    with pytest.raises(IntegrityError), db_engine.begin() as conn:
        conn.execute(update(Account).where(Account.kind == "budget").values(balance_fen=1))


@pytest.mark.parametrize("amount", [0, -100, 1.5, True, "100"])
def test_amounts_must_be_positive_integer_fen(factory, amount):
    _budget(factory, 100 * YUAN)
    with pytest.raises(LedgerError, match="正整数"), factory.begin() as s:
        _approve(s, "A1", amount)


def test_an_unknown_funding_source_is_refused(factory):
    with pytest.raises(LedgerError, match="资金来源"), factory.begin() as s:
        open_budget(s, idempotency_key="B1", district=D, funding_source="中央", amount_fen=1)


# --- idempotency ---------------------------------------------------------------------------------------


def test_a_replayed_payment_returns_the_stored_result_and_pays_once(db_engine, factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 80 * YUAN)
    with factory.begin() as s:
        first = disburse(s, instruction=_pay("A1", 50 * YUAN))
    before = _counts(db_engine)
    with factory.begin() as s:
        again = disburse(s, instruction=_pay("A1", 50 * YUAN))
    assert again.replayed and not first.replayed
    assert again.entry_id == first.entry_id and again.balances_after == first.balances_after
    assert _counts(db_engine) == before
    assert _summary(factory).disbursed_fen == 50 * YUAN


@pytest.mark.parametrize(
    "changed",
    [
        {"amount_fen": 40 * YUAN},
        {"payee_ref": "bank_accounts:8"},
        {"application_ref": "A2"},
        {"memo": "其他"},
    ],
)
def test_the_same_key_with_a_different_body_is_a_conflict(db_engine, factory, changed):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 80 * YUAN)
        _approve(s, "A2", 10 * YUAN)
        disburse(s, instruction=_pay("A1", 50 * YUAN))
    before = _counts(db_engine)
    body = {**_pay("A1", 50 * YUAN).__dict__, **changed}
    with pytest.raises(Conflict) as err, factory.begin() as s:
        disburse(s, instruction=PaymentInstruction(**body))
    assert err.value.status == 409 and "幂等键 P1" in err.value.message and "内容不同" in err.value.message
    assert _counts(db_engine) == before


def test_a_key_used_for_an_approval_cannot_be_reused_for_a_payment(factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 80 * YUAN, key="K")
    with pytest.raises(Conflict), factory.begin() as s:
        disburse(s, instruction=_pay("A1", 80 * YUAN, key="K"))


def test_a_refused_operation_does_not_burn_its_key(factory):
    _budget(factory, 10 * YUAN)
    with pytest.raises(BudgetExceeded), factory.begin() as s:
        _approve(s, "A1", 20 * YUAN, key="K")
    _budget(factory, 10 * YUAN, key="B2")
    with factory.begin() as s:
        assert not _approve(s, "A1", 20 * YUAN, key="K").replayed


# --- reconciliation ------------------------------------------------------------------------------------


def test_reconciliation_finds_a_tampered_balance_and_an_unbalanced_entry(db_engine, factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 30 * YUAN)
    with db_engine.begin() as conn:
        conn.execute(
            update(Account).where(Account.kind == "available").values(balance_fen=Account.balance_fen + 1)
        )
    found = _reconcile(factory)
    assert [d.kind for d in found] == ["balance_mismatch", "invariant"]
    assert "available" in found[0].message and "不符" in found[0].message
    with db_engine.begin() as conn:
        conn.execute(
            update(Account).where(Account.kind == "available").values(balance_fen=Account.balance_fen - 1)
        )
        first = conn.execute(select(func.min(Posting.id))).scalar_one()
        conn.execute(update(Posting).where(Posting.id == first).values(amount_fen=Posting.amount_fen - 1))
    kinds = {d.kind for d in _reconcile(factory)}
    assert "entry_unbalanced" in kinds and "balance_mismatch" in kinds


def test_random_operations_keep_every_invariant(factory):
    rng = random.Random(74)
    _budget(factory, 500 * YUAN)
    apps = [f"A{i}" for i in range(6)]
    for n in range(60):
        op, app, amount = (
            rng.choice(["approve", "disburse", "release", "budget"]),
            rng.choice(apps),
            rng.randint(1, 150) * YUAN,
        )
        try:
            with factory.begin() as s:
                if op == "approve":
                    _approve(s, app, amount, key=f"k{n}")
                elif op == "disburse":
                    disburse(s, instruction=_pay(app, amount, key=f"k{n}"))
                elif op == "release":
                    release(
                        s,
                        idempotency_key=f"k{n}",
                        district=D,
                        funding_source="city",
                        application_ref=app,
                        amount_fen=amount,
                    )
                else:
                    open_budget(
                        s, idempotency_key=f"k{n}", district=D, funding_source="city", amount_fen=amount
                    )
        except (BudgetExceeded, AccountNotFound):
            pass
        s_ = _summary(factory)
        assert 0 <= s_.disbursed_fen <= s_.approved_total_fen <= s_.budget_fen
        assert s_.available_fen + s_.approved_total_fen == s_.budget_fen
    assert _reconcile(factory) == []


# --- concurrency ---------------------------------------------------------------------------------------


def _race(engine: Engine, n: int, work, *, isolation: str | None = None) -> list[Any]:  # type: ignore[no-untyped-def]
    """Run ``work(session, i)`` in n threads, each its own connection and retried transaction."""
    wide = _concurrent_engine(engine, n)
    if isolation:
        wide = wide.execution_options(isolation_level=isolation)
    factory = sessionmaker(wide, expire_on_commit=False)
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = run_in_transaction(factory, lambda s: work(s, i), attempts=40)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wide.dispose()
    return results


@pytest.mark.parametrize("isolation", [None, "SERIALIZABLE"])
def test_twenty_concurrent_approvals_against_a_budget_for_five_approve_exactly_five(
    db_engine, factory, isolation
):
    if isolation and db_engine.dialect.name != "postgresql":
        pytest.skip("SQLite 以 BEGIN IMMEDIATE 串行化写事务")
    _budget(factory, 5 * 300 * YUAN)
    results = _race(db_engine, 20, lambda s, i: _approve(s, f"A{i}", 300 * YUAN), isolation=isolation)
    unexpected = [r for r in results if isinstance(r, BaseException) and not isinstance(r, BudgetExceeded)]
    assert unexpected == []
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert sum(isinstance(r, BudgetExceeded) for r in results) == 15
    s = _summary(factory)
    assert (s.available_fen, s.approved_outstanding_fen) == (0, 5 * 300 * YUAN)
    assert _reconcile(factory) == []


def test_concurrent_duplicates_of_one_payment_pay_once(db_engine, factory):
    _budget(factory, 100 * YUAN)
    with factory.begin() as s:
        _approve(s, "A1", 100 * YUAN)
    results = _race(db_engine, 10, lambda s, i: disburse(s, instruction=_pay("A1", 60 * YUAN)))
    assert all(not isinstance(r, BaseException) for r in results), results
    assert len({r.entry_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert _summary(factory).disbursed_fen == 60 * YUAN
    assert _reconcile(factory) == []


# --- the retry loop ------------------------------------------------------------------------------------


class _Orig(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(("sqlstate", "retry"), [("40001", True), ("40P01", True), ("23505", False)])
def test_serialization_failures_and_deadlocks_are_retryable(sqlstate, retry):
    assert is_retryable(OperationalError("UPDATE …", {}, _Orig(sqlstate))) is retry


def test_run_in_transaction_retries_then_commits(factory):
    calls = []

    def work(s: Session) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OperationalError("UPDATE …", {}, _Orig("40001"))
        open_budget(s, idempotency_key="B1", district=D, funding_source="city", amount_fen=100)
        return "done"

    assert run_in_transaction(factory, work, base_delay=0) == "done"
    assert len(calls) == 3
    assert _summary(factory).budget_fen == 100


def test_run_in_transaction_does_not_retry_domain_errors(factory):
    calls = []

    def work(s: Session) -> None:
        calls.append(1)
        _approve(s, "A1", 1)

    with pytest.raises(AccountNotFound):
        run_in_transaction(factory, work)
    assert len(calls) == 1
