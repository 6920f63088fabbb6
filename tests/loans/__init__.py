"""Helpers for the loan tests: a small registry, actors, and drivers that run each service call in its
own transaction (as a request would)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.db import make_sessionmaker
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.ledger import open_budget
from xiangchuang.loans import service
from xiangchuang.loans.service import Actor, ContractTerms, LoanRequest
from xiangchuang.models import Loan
from xiangchuang.registry.pii import Pii

D, D2 = 500103, 500104  # 渝中区, 大渡口区 (not in the higher-cap list)
BANK = "CQRCB"
KEY = bytes(range(32))
PARAMS = load_parameters()
OVERLAY = Path(__file__).parent / "overlay-500103.yaml"
PARAMS_OVERLAY = load_parameters(str(OVERLAY))


def at(day: dt.date, hour: int = 2) -> dt.datetime:
    """10:00 in Chongqing on ``day``."""
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=dt.UTC)


APPLY = at(dt.date(2026, 4, 8))
SIGN = at(dt.date(2026, 4, 10))

ACTORS: dict[str, Actor] = {
    "applicant": Actor("u-borrower", "applicant"),
    "window_clerk": Actor("u-clerk", "window_clerk", D),
    "district_reviewer": Actor("u-hrss", "district_reviewer", D),
    "guarantee_fund": Actor("u-fund", "guarantee_fund", D),
    "bank": Actor("u-bank", "bank", D, BANK),
    "district_finance": Actor("u-finance", "district_finance", D),
    "city_admin": Actor("u-city", "city_admin"),
}


def registry(conn: Any, pii: Pii) -> None:
    """P-LOAN: a returning migrant worker in 渝中 (eligible); P-NONE: in no key group (ineligible);
    B-SM: a small/micro business founded by P-SM with 3 eligible new hires out of 20 staff (15%)."""
    reg = Registry(conn, pii)
    reg.person(no="P-LOAN", groups=["returning_migrant_worker"])
    reg.person(no="P-PART", groups=["veteran"])
    reg.person(no="P-NONE")
    sm = reg.person(no="P-SM", groups=["returning_migrant_worker"])
    reg.business(
        no="B-SM",
        founder=sm,
        registration_date=dt.date(2022, 5, 1),
        district=D,
        staff_count=20,
        new_eligible_hires=3,
    )


def setup(engine: Engine, pii: Pii) -> None:
    with engine.begin() as conn:
        registry(conn, pii)


def run(engine: Engine, fn: Any, **kw: Any) -> Any:
    with make_sessionmaker(engine)() as s, s.begin():
        return fn(s, **kw)


def create(engine: Engine, *, person: str = "P-LOAN", amount_yuan: int = 200_000, **kw: Any) -> int:
    request = LoanRequest(
        kind=kw.pop("kind", "individual"),
        borrower_person_no=person,
        business_no=kw.pop("business_no", None),
        district=kw.pop("district", D),
        bank_code=kw.pop("bank_code", BANK),
        amount_requested_fen=amount_yuan * 100,
        term_months=kw.pop("term_months", 24),
        purpose=kw.pop("purpose", "开办农产品电商"),
        partners=tuple(kw.pop("partners", ())),
        other_loans=tuple(kw.pop("other_loans", (("housing", 30_000_000),))),
    )
    role = kw.pop("role", "applicant")
    loan = run(
        engine,
        service.create_loan,
        request=request,
        applicant_user=ACTORS["applicant"].user,
        actor=ACTORS[role],
        audit_key=KEY,
        now=APPLY,
    )
    return int(loan.id)


def submit_and_accept(engine: Engine, loan_id: int) -> None:
    run(
        engine,
        service.act,
        loan_id=loan_id,
        action="submit",
        actor=ACTORS["applicant"],
        audit_key=KEY,
        now=APPLY,
    )
    run(
        engine,
        service.act,
        loan_id=loan_id,
        action="accept",
        actor=ACTORS["district_reviewer"],
        audit_key=KEY,
        now=APPLY,
    )


def eligible(engine: Engine, loan_id: int, params: Any = PARAMS) -> service.MoveResult:
    return run(
        engine,
        service.pass_eligibility,
        loan_id=loan_id,
        actor=ACTORS["district_reviewer"],
        audit_key=KEY,
        now=APPLY,
        params=params,
    )


def guarantee(engine: Engine, loan_id: int, amount_yuan: int = 200_000, **kw: Any) -> service.MoveResult:
    return run(
        engine,
        service.approve_guarantee,
        loan_id=loan_id,
        actor=kw.pop("actor", ACTORS["guarantee_fund"]),
        audit_key=KEY,
        guaranteed_amount_fen=amount_yuan * 100,
        counter_guarantee=kw.pop("counter_guarantee", "required"),
        waiver_ground=kw.pop("waiver_ground", None),
        now=APPLY,
        params=kw.pop("params", PARAMS),
    )


def terms(**kw: Any) -> ContractTerms:
    base: dict[str, Any] = {
        "contract_no": "HT2026-0001",
        "amount_fen": 20_000_000,
        "rate_bp": 350,
        "contract_date": dt.date(2026, 4, 10),
        "start_date": dt.date(2026, 4, 10),
        "term_months": 24,
        "repayment_method": "equal_principal",
    }
    base.update(kw)
    return ContractTerms(**base)


def sign(
    engine: Engine, loan_id: int, params: Any = PARAMS, actor: Actor | None = None, **kw: Any
) -> service.MoveResult:
    return run(
        engine,
        service.sign_contract,
        loan_id=loan_id,
        actor=actor or ACTORS["bank"],
        audit_key=KEY,
        terms=terms(**kw),
        now=SIGN,
        params=params,
    )


def contracted(engine: Engine, *, params: Any = PARAMS, disburse: bool = True, **kw: Any) -> int:
    """A loan through every review to a signed (and disbursed) contract."""
    loan_id = create(engine, person=kw.pop("person", "P-LOAN"))
    submit_and_accept(engine, loan_id)
    eligible(engine, loan_id, params)
    guarantee(engine, loan_id, params=params)
    sign(engine, loan_id, params, **kw)
    if disburse:
        run(
            engine,
            service.act,
            loan_id=loan_id,
            action="disburse",
            actor=ACTORS["bank"],
            audit_key=KEY,
            now=SIGN,
        )
    return loan_id


def repay(
    engine: Engine, loan_id: int, ref: str, paid_on: dt.date, principal: int, interest: int
) -> service.MoveResult:
    return run(
        engine,
        service.record_repayment,
        loan_id=loan_id,
        actor=ACTORS["bank"],
        audit_key=KEY,
        repayment_ref=ref,
        paid_on=paid_on,
        principal_fen=principal,
        interest_fen=interest,
        now=at(paid_on, 8),
    )


def budgets(engine: Engine, district: int = D) -> None:
    for source in ("city", "district"):
        run(
            engine,
            open_budget,
            idempotency_key=f"budget-{district}-{source}",
            district=district,
            funding_source=source,
            amount_fen=100_000_000,
            description="2026年创业担保贷款贴息预算",
        )


def loan_row(engine: Engine, loan_id: int) -> Loan:
    with Session(engine) as s:
        loan = s.execute(select(Loan).where(Loan.id == loan_id)).scalar_one()
        s.expunge(loan)
        return loan
