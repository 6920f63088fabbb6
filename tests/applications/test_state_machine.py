"""A Hypothesis state machine over the workflow and the ledger.

Each run starts from the same registry and an empty workflow (applications, ledger, audit, outbox, …
emptied), opens one district budget, then applies random steps: create applications (with or without
their materials), random (action, role, reason, day) attempts — most refused —, table-guided moves,
approval with the budget reservation and disbursement through a disbursement batch (in the workflow
these go together: ``approve`` + ``ledger.approve`` in one transaction, ``start_disbursement`` → batch
run → ``confirm_disbursement``), and attempts to pay an application a second time. After every step:

- every application's state is a state of the table, and equals the model's;
- every logged transition is a row of its kind's table; each has exactly one audit row (and nothing
  else wrote an application.* row), each application exactly one ``application.create`` row;
- the ledger reconciles (every entry balanced, balances = postings, disbursed ≤ approved ≤ budget);
- no application is paid twice, a paid one is paid exactly its approved amount, an approved one holds
  exactly its approved amount in the ledger;
- the audit chain verifies.

Sizes: ``XC_STATE_MACHINE_EXAMPLES`` (default 1,000 on SQLite, 100 on PostgreSQL) and
``XC_STATE_MACHINE_STEPS`` (default 6).
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import os
import time
from collections import Counter
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, EXPIRED, KEY, LATER, NOW, PARAMS, create, district_of, setup
from xiangchuang import ledger
from xiangchuang.applications import service
from xiangchuang.applications.workflow import ACTIONS, ROLES, find_row, table_for
from xiangchuang.audit.chain import verify
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import DomainError
from xiangchuang.ledger.batches import BatchLine, create_batch, run_batch
from xiangchuang.models import (
    Account,
    Application,
    Attachment,
    AuditEvent,
    AuditHead,
    Determination,
    DisbursementBatch,
    DisbursementItem,
    InboxMessage,
    Invitation,
    JournalEntry,
    Objection,
    OutboxMessage,
    Person,
    Posting,
    PublicityBatch,
    PublicityLine,
    TransitionLog,
)
from xiangchuang.models.applications import APPLICATION_STATES

BUDGET_FEN = 350_000  # room for one approval of 197,531 fen, not two: the second is refused
MONEY_ACTIONS = ("approve", "start_disbursement", "confirm_disbursement")
RANDOM_ACTIONS = tuple(a for a in ACTIONS if a not in MONEY_ACTIONS)
DAYS = (NOW, LATER, EXPIRED)
PAID_DAY = dt.datetime(2025, 6, 3, 2, 0, tzinfo=dt.UTC)  # after any publicity started on one of DAYS
FORWARD = {
    "draft": "submit",
    "returned": "resubmit",
    "submitted": "accept",
    "accepted": "start_first_review",
    "first_review": "pass_first_review",
    "second_review": "pass_second_review",
    "objection": "dismiss_objection",
}
_WORKFLOW_TABLES = (
    DisbursementItem,
    DisbursementBatch,
    Posting,
    JournalEntry,
    Account,
    Objection,
    PublicityLine,
    PublicityBatch,
    Attachment,
    Invitation,
    Determination,
    TransitionLog,
    Application,
    InboxMessage,
    OutboxMessage,
    AuditEvent,
    AuditHead,
)
_batches = itertools.count(1)
STATS: Counter[str] = Counter()  # how far the runs got (printed with the timing)


def _reset(engine: Engine) -> None:
    with engine.begin() as conn:
        for model in _WORKFLOW_TABLES:
            conn.execute(delete(model))


class WorkflowAndLedger(RuleBasedStateMachine):
    engine: Engine

    def __init__(self) -> None:
        super().__init__()
        self.factory = make_sessionmaker(self.engine)
        self.model: dict[int, str] = {}
        self.payee = 0

    def _pick(self, index: int, *states: str) -> int:
        ids = sorted(a for a, state in self.model.items() if not states or state in states)
        return ids[index % len(ids)]

    def _any(self, *states: str) -> bool:
        return any(state in states for state in self.model.values())

    @initialize()
    def empty_workflow_and_a_budget(self) -> None:
        _reset(self.engine)
        with self.factory() as s, s.begin():
            ledger.open_budget(
                s, idempotency_key="budget", district=D1, funding_source="city", amount_fen=BUDGET_FEN
            )
            self.payee = int(s.execute(select(Person.id).where(Person.person_no == "P-VET")).scalar_one())

    # --- steps ---------------------------------------------------------------------------------------

    @precondition(lambda self: len(self.model) < 4)
    @rule(materials=st.sampled_from([True, True, True, False]))
    def create_application(self, materials: bool) -> None:
        app_id = create(self.engine, materials=materials)
        self.model[app_id] = "draft"

    @precondition(lambda self: bool(self.model))
    @rule(
        index=st.integers(0, 3),
        action=st.sampled_from(RANDOM_ACTIONS),
        role=st.sampled_from(ROLES),
        reason=st.sampled_from([None, "", "核查后说明理由"]),
        day=st.sampled_from(DAYS),
    )
    def attempt(self, index: int, action: str, role: str, reason: str | None, day: Any) -> None:
        """A random action by a random role: done exactly when the table allows it (guards aside)."""
        self._try(self._pick(index), action, role, reason, day)

    @precondition(lambda self: bool(self.model))
    @rule(
        index=st.integers(0, 3),
        picks=st.lists(st.integers(0, 9), min_size=1, max_size=7),
        day=st.sampled_from(DAYS),
    )
    def advance(self, index: int, picks: list[int], day: Any) -> None:
        """Up to seven moves the table offers from the current state, each by a role it names (with a
        reason), each in its own transaction: mostly the forward move, sometimes any other row."""
        app = self._pick(index)
        for pick in picks:
            state = self.model[app]
            rows = [
                r
                for r in table_for("startup_subsidy")
                if r.from_state == state and r.action not in MONEY_ACTIONS
            ]
            if not rows:
                return
            forward = [r for r in rows if r.action == FORWARD.get(state)]
            row = forward[0] if forward and pick < 7 else rows[pick % len(rows)]
            self._try(app, row.action, row.roles[pick % len(row.roles)], "核查后说明理由", day)

    @precondition(lambda self: self._any("draft", "returned"))
    @rule(
        index=st.integers(0, 3),
        day=st.sampled_from(DAYS),
        then=st.sampled_from(["publicity", "approve", "pay", "pay_rerun", "pay_twice"]),
    )
    def happy_path(self, index: int, day: Any, then: str) -> None:
        """The forward moves from 草稿 / 退回补正 to 公示, each by the role the table names; then maybe
        核准 (with the reservation) and 拨付 (also possible as separate steps)."""
        app = self._pick(index, "draft", "returned")
        while self.model[app] in FORWARD and self.model[app] not in ("objection", "publicity"):
            before = self.model[app]
            row = find_row("startup_subsidy", before, FORWARD[before])
            assert row is not None
            self._try(app, row.action, row.roles[0], None, day)
            if self.model[app] == before:  # refused (a material missing): stop here
                return
        if self.model[app] == "publicity" and then != "publicity":
            self._approve(app, {"approve": "stop"}.get(then, then))

    @precondition(lambda self: any(state != "publicity" for state in self.model.values()))
    @rule(index=st.integers(0, 3))
    def approve_outside_publicity(self, index: int) -> None:
        """核准 is refused outside 公示 (and nothing is reserved)."""
        self._approve(self._pick(index, *{s for s in self.model.values() if s != "publicity"}), "stop")

    @precondition(lambda self: self._any("publicity"))
    @rule(index=st.integers(0, 3), then=st.sampled_from(["stop", "pay", "pay_rerun", "pay_twice"]))
    def approve_with_budget(self, index: int, then: str) -> None:
        self._approve(self._pick(index, "publicity"), then)

    def _approve(self, app: int, then: str) -> None:
        """公示期满 → 核准 and the budget reservation, in one transaction (both or neither); then maybe
        pay (also possible as separate steps: disburse, pay_again)."""
        before = self.model[app]
        try:
            with self.factory() as s, s.begin():
                result = self._transition(s, app, "approve", "district_reviewer", None, PAID_DAY)
                amount = result.application.amount_approved_fen
                assert amount is not None and amount > 0
                ledger.approve(
                    s,
                    idempotency_key=f"approve:{result.application.application_no}",
                    district=D1,
                    funding_source="city",
                    application_ref=result.application.application_no,
                    amount_fen=amount,
                )
        except ledger.BudgetExceeded:
            STATS["budget_exceeded"] += 1
            assert self._state(app) == before
            return
        except (DomainError, ledger.LedgerError) as exc:
            STATS[f"approve_refused_in_{before}:{type(exc).__name__}"] += 1
            assert self._state(app) == before
            return
        assert before == "publicity"
        STATS["approved"] += 1
        self.model[app] = "approved"
        if then != "stop":  # also as separate steps (disburse, pay_again) below
            self._disburse(app, rerun=then == "pay_rerun")
            if then == "pay_twice":
                self._pay_again(app)

    @precondition(lambda self: self._any("approved"))
    @rule(index=st.integers(0, 3), rerun=st.booleans())
    def disburse(self, index: int, rerun: bool) -> None:
        self._disburse(self._pick(index, "approved"), rerun=rerun)

    def _disburse(self, app: int, *, rerun: bool) -> None:
        """拨付: start, pay through a disbursement batch (ledger), confirm; optionally run the batch again."""
        with self.factory() as s, s.begin():
            result = self._transition(s, app, "start_disbursement", "district_finance", None, PAID_DAY)
            no = result.application.application_no
            batch = create_batch(
                s,
                batch_no=f"BF{next(_batches)}",
                district=D1,
                funding_source="city",
                created_by=ACTORS["district_finance"],
                lines=[
                    BatchLine(no, self.payee, int(result.application.amount_approved_fen or 0), "创业补助")
                ],
            )
            batch_id = batch.id
        self.model[app] = "disbursing"
        assert run_batch(self.factory, batch_id=batch_id).paid == 1
        if rerun:
            again = run_batch(self.factory, batch_id=batch_id)
            assert (again.paid, again.already_paid) == (0, 1)
        with self.factory() as s, s.begin():
            self._transition(s, app, "confirm_disbursement", "district_finance", None, PAID_DAY)
        self.model[app] = "disbursed"
        STATS["disbursed"] += 1

    @precondition(lambda self: self._any("disbursed"))
    @rule(index=st.integers(0, 3))
    def pay_again(self, index: int) -> None:
        self._pay_again(self._pick(index, "disbursed"))

    def _pay_again(self, app: int) -> None:
        """A second payment for a paid application (a new batch) is refused by the ledger."""
        with self.factory() as s, s.begin():
            no = s.execute(select(Application.application_no).where(Application.id == app)).scalar_one()
            batch_id = create_batch(
                s,
                batch_no=f"BF{next(_batches)}",
                district=D1,
                funding_source="city",
                created_by=ACTORS["district_finance"],
                lines=[BatchLine(no, self.payee, 1, "重复拨付")],
            ).id
        try:
            run_batch(self.factory, batch_id=batch_id)
        except ledger.BudgetExceeded:
            STATS["second_payment_refused"] += 1
        else:
            raise AssertionError("a second payment was accepted")

    # --- helpers -------------------------------------------------------------------------------------

    def _transition(self, s: Session, app: int, action: str, role: str, reason: str | None, day: Any) -> Any:
        return service.transition(
            s,
            application_id=app,
            action=action,
            actor=ACTORS[role],
            role=role,
            actor_district=district_of(role),
            reason=reason,
            now=day,
            params=PARAMS,
            audit_key=KEY,
        )

    def _state(self, app: int) -> str:
        with Session(self.engine) as s:
            return str(s.execute(select(Application.state).where(Application.id == app)).scalar_one())

    def _try(self, app: int, action: str, role: str, reason: str | None, day: Any) -> None:
        before = self.model[app]
        row = find_row("startup_subsidy", before, action)
        try:
            with self.factory() as s, s.begin():
                result = self._transition(s, app, action, role, reason, day)
        except DomainError as exc:
            STATS[f"refused:{type(exc).__name__}"] += 1
            assert self._state(app) == before
            return
        assert row is not None and role in row.roles, (before, action, role)
        assert result.application.state == row.to_state
        self.model[app] = row.to_state
        STATS[row.to_state] += 1

    # --- invariants ----------------------------------------------------------------------------------

    @invariant()
    def states_are_in_the_table_and_match_the_model(self) -> None:
        with Session(self.engine) as s:
            rows = dict(s.execute(select(Application.id, Application.state)).all())
        assert rows == self.model
        assert set(rows.values()) <= set(APPLICATION_STATES)

    @invariant()
    def every_change_is_a_table_row_with_exactly_one_audit_row(self) -> None:
        with Session(self.engine) as s:
            logs = s.execute(
                select(TransitionLog.from_state, TransitionLog.action, TransitionLog.to_state)
            ).all()
            for from_state, action, to_state in logs:
                row = find_row("startup_subsidy", from_state, action)
                assert row is not None and row.to_state == to_state
            per_action = dict(
                s.execute(
                    select(AuditEvent.action, func.count())
                    .where(AuditEvent.action.like("application.%"))
                    .group_by(AuditEvent.action)
                ).all()
            )
            logged = dict(
                s.execute(select(TransitionLog.action, func.count()).group_by(TransitionLog.action)).all()
            )
            assert per_action.pop("application.create", 0) == len(self.model)
            assert {k.removeprefix("application."): v for k, v in per_action.items()} == logged

    @invariant()
    def ledger_balanced_no_double_payment_and_amounts_agree(self) -> None:
        with Session(self.engine) as s:
            assert ledger.reconcile(s) == []
            summary = ledger.budget_summary(s, district=D1, funding_source="city")
            assert (
                0 <= summary.disbursed_fen <= summary.approved_total_fen <= summary.budget_fen == BUDGET_FEN
            )
            paid = dict(
                s.execute(
                    select(JournalEntry.application_ref, func.count())
                    .where(JournalEntry.operation == "disburse")
                    .group_by(JournalEntry.application_ref)
                ).all()
            )
            assert all(n == 1 for n in paid.values())
            apps = s.execute(
                select(Application.application_no, Application.state, Application.amount_approved_fen)
            ).all()
            for no, state, amount in apps:
                outstanding = ledger.approved_outstanding(
                    s, district=D1, funding_source="city", application_ref=no
                )
                if state in ("approved", "disbursing"):
                    assert outstanding == amount and no not in paid
                elif state == "disbursed":
                    assert outstanding == 0 and paid.get(no) == 1
                    entry_amount = s.execute(
                        select(JournalEntry.amount_fen).where(
                            JournalEntry.operation == "disburse", JournalEntry.application_ref == no
                        )
                    ).scalar_one()
                    assert entry_amount == amount
                else:
                    assert outstanding == 0 and no not in paid

    @invariant()
    def audit_chain_verifies(self) -> None:
        with Session(self.engine) as s:
            assert verify(s, KEY) is None


def _memoised_engine(monkeypatch) -> None:
    """The registry does not change during the runs, so the engine's determination is a function of
    (subject, program, day): computed by the real engine once, stored for real at every review. This
    keeps ≥ 1,000 runs affordable; the engine itself is tested in tests/engine and tests/policy."""
    real = service.determine
    memo: dict[tuple[str, str, dt.date], dict[str, Any]] = {}

    def determine(session: Session, app: Application, *, on: dt.date, params: Any) -> dict[str, Any]:
        key = (app.kind, app.subject_key, on)
        if key not in memo:
            memo[key] = real(session, app, on=on, params=params)
        return copy.deepcopy(memo[key])

    monkeypatch.setattr(service, "determine", determine)


def test_the_workflow_and_the_ledger_keep_every_invariant(db_engine, pii, monkeypatch):
    setup(db_engine, pii)
    _memoised_engine(monkeypatch)
    sqlite = db_engine.dialect.name == "sqlite"
    examples = int(os.environ.get("XC_STATE_MACHINE_EXAMPLES", "1000" if sqlite else "100"))
    steps = int(os.environ.get("XC_STATE_MACHINE_STEPS", "6"))
    WorkflowAndLedger.engine = db_engine
    STATS.clear()
    started = time.perf_counter()
    run_state_machine_as_test(
        WorkflowAndLedger,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    elapsed = time.perf_counter() - started
    print(
        f"\nstate machine on {db_engine.dialect.name}: {examples} runs × ≤{steps} steps in {elapsed:.1f} s; "
        f"{dict(STATS)}"
    )
    # the runs reached the money paths (not only refusals)
    assert STATS["approved"] and STATS["disbursed"] and STATS["second_payment_refused"], dict(STATS)
