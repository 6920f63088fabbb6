"""Signing and settlement follow the engine's own determinations: a loan the engine no longer finds
eligible on the contract date is not signed, a subsidy it finds ineligible is dropped with its reasons
(README choice 84), and the quarterly settlement ends the subsidy term where the engine's
``settlement_within_term`` does — the contract date plus the term (README choices 18, 29)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.loans import (
    ACTORS,
    KEY,
    PARAMS,
    SIGN,
    budgets,
    contracted,
    create,
    eligible,
    guarantee,
    loan_row,
    repay,
    run,
    setup,
    sign,
    submit_and_accept,
)
from tests.loans.test_settlement import _lines, _plan, _settle
from tests.registry.factories import Registry
from xiangchuang.engine.api import evaluate
from xiangchuang.errors import InvalidTransition
from xiangchuang.loans import service
from xiangchuang.models import LoanDetermination, LoanInstalment, LoanSubsidyLine, OutboxMessage


def _graduate(engine, pii):
    """P-GRAD: a college graduate whose 10-year window (loan.graduate_years) ends on 2026-04-09, between
    the 人社 review (2026-04-08) and the contract date (2026-04-10)."""
    setup(engine, pii)
    with engine.begin() as conn:
        Registry(conn, pii, start=800).person(
            no="P-GRAD", groups=["college_graduate"], graduation_date=dt.date(2016, 4, 9)
        )


def _at_the_bank(engine, person="P-LOAN"):
    """A loan through the 人社 and guarantee reviews, waiting for the bank (on 2026-04-08)."""
    loan_id = create(engine, person=person)
    submit_and_accept(engine, loan_id)
    eligible(engine, loan_id)
    guarantee(engine, loan_id)
    return loan_id


def _count(engine, model, **where):
    with Session(engine) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


def test_a_loan_no_longer_eligible_on_the_contract_date_is_not_signed(db_engine, pii):
    _graduate(db_engine, pii)
    budgets(db_engine)
    loan_id = _at_the_bank(db_engine, person="P-GRAD")  # within the 10-year window on the review day
    assert loan_row(db_engine, loan_id).subsidy_eligible is True
    with pytest.raises(InvalidTransition) as err:
        sign(db_engine, loan_id)
    text = str(err.value)
    assert "合同日期 2026-04-10 复核" in text and "个人创业担保贷款" in text and "不符合" in text
    assert "离校10年内高校毕业生" in text and "不能签订创业担保贷款合同" in text
    loan = loan_row(db_engine, loan_id)
    assert loan.state == "bank_review" and loan.contract_no is None
    assert _count(db_engine, LoanInstalment, loan_id=loan_id) == 0
    assert _count(db_engine, LoanDetermination, loan_id=loan_id, stage="contract") == 0
    # The bank refuses it, giving the reason; nothing is ever settled for it.
    refused = run(
        db_engine,
        service.refuse,
        loan_id=loan_id,
        actor=ACTORS["bank"],
        audit_key=KEY,
        reason="合同日期借款人已超出高校毕业生离校10年期限",
        now=SIGN,
        params=PARAMS,
    )
    assert refused.loan.state == "refused"
    report = _settle(db_engine)
    assert report.settled == [] and _count(db_engine, LoanSubsidyLine) == 0


def test_a_subsidy_the_engine_finds_ineligible_is_dropped_with_its_reasons(db_engine, pii):
    # A contract dated before the current subsidy rules (loan_interest_subsidy.* from 2021-01-01): the
    # loan itself qualifies, the engine's loan_interest_subsidy does not.
    setup(db_engine, pii)
    loan_id = _at_the_bank(db_engine)
    result = sign(db_engine, loan_id, contract_date=dt.date(2020, 6, 1), start_date=dt.date(2020, 6, 1))
    dets = {d.program: d.status for d in result.determinations}
    assert dets == {"loan_individual": "eligible", "loan_interest_subsidy": "ineligible"}
    assert result.loan.state == "contracted" and result.loan.subsidy_eligible is False
    why = result.details["no_subsidy"]
    assert "早于现行贴息规则施行日期" in why
    assert "结算期" not in why  # the settlement facts, unknown at signing, are no reason
    with Session(db_engine) as s:
        payload = s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.template == "loan.contracted")
        ).one()
    assert payload["subsidy_eligible"] is False
    assert payload["no_subsidy"] == f"本笔贷款不享受贴息：{why}"


def test_an_eligible_contract_keeps_the_subsidy_without_a_reason(db_engine, pii):
    setup(db_engine, pii)
    loan_id = _at_the_bank(db_engine)
    result = sign(db_engine, loan_id)
    assert {d.program: d.status for d in result.determinations} == {
        "loan_individual": "eligible",
        "loan_interest_subsidy": "undetermined",  # only the settlement facts are open
    }
    assert result.loan.subsidy_eligible is True and "no_subsidy" not in result.details


def _within_term(settle_end: str) -> str:
    """The engine's settlement_within_term on the loan below, for 2026-07-01 … settle_end."""
    case = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loan": {
            "kind": "individual",
            "district": 500103,
            "contract_date": "2026-04-10",
            "amount_fen": 20_000_000,
            "term_months": 3,
            "rate_bp": 350,
            "settle_start": "2026-07-01",
            "settle_end": settle_end,
            "principal_fen": 13_333_333,
            "excluded_days": 0,
        },
    }
    doc = evaluate(case, dt.date(2026, 10, 8), PARAMS)
    prog = next(p for p in doc["programs"] if p["program"] == "loan_interest_subsidy")
    return str(next(c for c in prog["conditions"] if c["id"] == "settlement_within_term")["status"])


def test_the_settlement_ends_the_subsidy_term_where_the_engine_does(db_engine, pii):
    # Contract 2026-04-10, start (起息日) 2026-05-10, 3 months: the engine's term ends on 2026-07-10
    # (the contract date plus 3 months, not subsidised), not on the schedule's last due date 2026-08-10.
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(
        db_engine, contract_date=dt.date(2026, 4, 10), start_date=dt.date(2026, 5, 10), term_months=3
    )
    loan = loan_row(db_engine, loan_id)
    assert loan.maturity_date == dt.date(2026, 8, 10)  # the repayment schedule's end
    for k, inst in enumerate(_plan(db_engine, loan_id), start=1):
        repay(db_engine, loan_id, f"R{k}", inst.due_date, inst.principal_fen, inst.interest_fen)
    report = _settle(db_engine)
    line = _lines(db_engine)[loan_id]
    paid = [s for s in line.detail["segments"] if s["excluded"] is None]
    assert [(s["from"], s["to"], s["balance_fen"]) for s in paid] == [
        ("2026-07-01", "2026-07-09", 13_333_333)
    ]
    assert line.subsidised_days == 9
    # 9 days × 13,333,333 fen × (350 − (300 − 150))bp / (10,000 × 360) = 6,666.67 → 6,667 fen
    assert report.settled == [(loan.loan_no, 6_667, 0)]
    # The same boundary as the engine's own condition.
    assert _within_term("2026-07-09") == "pass"
    assert _within_term("2026-07-10") == "fail"
