"""JSON API v1 for guaranteed loans: the bank's and the guarantee fund's systems (API tokens with scopes,
limited to their organisation and district) and signed-in users. Each role gets its own response model:
an applicant sees their loan, schedule and subsidy lines; staff, the guarantee fund and the bank also
see the decisions and contract terms. No personal number, phone or account ever appears (the borrower is
named by the registry's person number only)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from xiangchuang.errors import Forbidden
from xiangchuang.loans import queries
from xiangchuang.loans import repository as repo
from xiangchuang.loans import service as loans
from xiangchuang.loans.service import Actor
from xiangchuang.loans.workflow import LOAN_ROLES, STATE_LABELS
from xiangchuang.models import Loan
from xiangchuang.web.api import error_responses
from xiangchuang.web.deps import MAX_ROW_ID, ApiCaller, ParamsDep, SessionDep, StateDep, now_utc
from xiangchuang.web.loan_actor import token_actor, user_actor

# Every signed-in API answer may be one of the Chinese error bodies (web/app.py handlers).
router = APIRouter(
    prefix="/api/v1/loans", tags=["创业担保贷款"], responses=error_responses(401, 403, 404, 409, 422, 503)
)


class Instalment(BaseModel):
    seq: int
    due_date: dt.date
    principal_fen: int
    interest_fen: int
    covered_on: dt.date | None


class SubsidyLine(BaseModel):
    quarter: str
    subsidised_days: int
    excluded_days: int
    city_fen: int
    district_fen: int
    total_fen: int


class TimelineEntry(BaseModel):
    at: dt.datetime
    action: str
    to_state: str
    to_state_label: str
    reason: str | None


class LoanForApplicant(BaseModel):
    """What the borrower sees."""

    model_config = ConfigDict(extra="forbid")
    view: Literal["applicant"] = "applicant"
    id: int
    loan_no: str
    kind: str
    district: int
    bank_code: str
    state: str
    state_label: str
    amount_requested_fen: int
    term_months_requested: int
    decision_reason: str | None
    contract_amount_fen: int | None
    rate_bp: int | None
    maturity_date: dt.date | None
    timeline: list[TimelineEntry]
    schedule: list[Instalment]
    subsidy: list[SubsidyLine]


class LoanForStaff(LoanForApplicant):
    """人社, the guarantee fund, the bank and the city: the decisions and the contract as well."""

    view: Literal["staff"] = "staff"  # type: ignore[assignment]
    borrower_person_no: str = Field(description="登记库人员编号（不是身份证号）")
    business_no: str | None
    max_amount_fen: int | None
    subsidy_eligible: bool | None
    guaranteed_amount_fen: int | None
    counter_guarantee: str | None
    waiver_ground: str | None
    contract_no: str | None
    lpr_bp: int | None
    contract_date: dt.date | None
    start_date: dt.date | None
    term_months: int | None
    repayment_method: str | None
    extended_maturity_date: dt.date | None
    version: int


class LoanSummary(BaseModel):
    id: int
    loan_no: str
    kind: str
    district: int
    bank_code: str
    state: str
    state_label: str
    amount_requested_fen: int


def _actor(caller: ApiCaller, db: SessionDep, scope: str) -> Actor:
    if caller.token is not None:
        return token_actor(db, caller.token, scope)
    assert caller.user is not None
    if caller.user.role not in LOAN_ROLES:
        raise Forbidden("您的角色不能查看或办理创业担保贷款")
    return user_actor(caller.user)


def _view(db: SessionDep, loan: Loan, actor: Actor) -> LoanForApplicant | LoanForStaff:
    base: dict[str, Any] = {
        "id": loan.id,
        "loan_no": loan.loan_no,
        "kind": loan.kind,
        "district": loan.district,
        "bank_code": loan.bank_code,
        "state": loan.state,
        "state_label": STATE_LABELS[loan.state],
        "amount_requested_fen": loan.amount_requested_fen,
        "term_months_requested": loan.term_months_requested,
        "decision_reason": loan.decision_reason,
        "contract_amount_fen": loan.contract_amount_fen,
        "rate_bp": loan.rate_bp,
        "maturity_date": loan.extended_maturity_date or loan.maturity_date,
        "timeline": [
            TimelineEntry(
                at=t.at,
                action=t.action,
                to_state=t.to_state,
                to_state_label=STATE_LABELS[t.to_state],
                reason=t.reason,
            )
            for t in queries.timeline(db, loan.id)
        ],
        "schedule": [
            Instalment(
                seq=i.seq,
                due_date=i.due_date,
                principal_fen=i.principal_fen,
                interest_fen=i.interest_fen,
                covered_on=i.covered_on,
            )
            for i in repo.current_schedule(db, loan.id)
        ],
        "subsidy": [
            SubsidyLine(
                quarter=s.quarter,
                subsidised_days=s.subsidised_days,
                excluded_days=s.excluded_days,
                city_fen=s.city_fen,
                district_fen=s.district_fen,
                total_fen=s.total_fen,
            )
            for s in queries.subsidy_lines(db, loan.id)
        ],
    }
    if actor.role == "applicant":
        return LoanForApplicant(**base)
    return LoanForStaff(
        **base,
        borrower_person_no=loan.borrower_person_no,
        business_no=loan.business_no,
        max_amount_fen=loan.max_amount_fen,
        subsidy_eligible=loan.subsidy_eligible,
        guaranteed_amount_fen=loan.guaranteed_amount_fen,
        counter_guarantee=loan.counter_guarantee,
        waiver_ground=loan.waiver_ground,
        contract_no=loan.contract_no,
        lpr_bp=loan.lpr_bp,
        contract_date=loan.contract_date,
        start_date=loan.start_date,
        term_months=loan.term_months,
        repayment_method=loan.repayment_method,
        extended_maturity_date=loan.extended_maturity_date,
        version=loan.version,
    )


def _by_no(db: SessionDep, loan_no: str, actor: Actor) -> Loan:
    loan = db.query(Loan).filter(Loan.loan_no == loan_no[:40]).one_or_none()
    return loans.get_loan(db, loan_id=loan.id if loan is not None else -1, actor=actor)


@router.get("", response_model=list[LoanSummary], summary="本机构/本人范围内的贷款（令牌须有 loans:read）")
def list_loans(caller: ApiCaller, db: SessionDep, state: str | None = None) -> list[LoanSummary]:
    actor = _actor(caller, db, "loans:read")
    return [
        LoanSummary(
            id=x.id,
            loan_no=x.loan_no,
            kind=x.kind,
            district=x.district,
            bank_code=x.bank_code,
            state=x.state,
            state_label=STATE_LABELS[x.state],
            amount_requested_fen=x.amount_requested_fen,
        )
        for x in queries.loans_for(db, actor, state=state if state in STATE_LABELS else None)
    ]


@router.get(
    "/{loan_no}",
    response_model=LoanForStaff | LoanForApplicant,
    summary="一笔贷款：进度、还款计划、季度贴息（申请人与机构看到的字段不同）",
)
def get_loan(loan_no: str, caller: ApiCaller, db: SessionDep) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "loans:read")
    return _view(db, _by_no(db, loan_no, actor), actor)


class GuaranteeDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    guaranteed_amount_fen: int = Field(ge=1)
    counter_guarantee: Literal["required", "waived"]
    waiver_ground: str | None = Field(None, description="免除反担保的依据（waived 时必填）")
    expected_version: int | None = Field(None, ge=1, le=MAX_ROW_ID)


@router.post(
    "/{loan_no}/guarantee", response_model=LoanForStaff, summary="担保基金：同意担保（guarantees:write）"
)
def guarantee(
    loan_no: str,
    caller: ApiCaller,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    body: Annotated[GuaranteeDecision, Body()],
) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "guarantees:write")
    loan = _by_no(db, loan_no, actor)
    result = loans.approve_guarantee(
        db,
        loan_id=loan.id,
        actor=actor,
        audit_key=state.audit_key,
        guaranteed_amount_fen=body.guaranteed_amount_fen,
        counter_guarantee=body.counter_guarantee,
        waiver_ground=body.waiver_ground,
        params=params,
        now=now_utc(),
        expected_version=body.expected_version,
    )
    return _view(db, result.loan, actor)


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract_no: str = Field(max_length=40)
    amount_fen: int = Field(ge=1)
    rate_bp: int = Field(ge=0)
    contract_date: dt.date
    start_date: dt.date
    term_months: int = Field(ge=1)
    repayment_method: str
    expected_version: int | None = Field(None, ge=1, le=MAX_ROW_ID)


@router.post(
    "/{loan_no}/contract", response_model=LoanForStaff, summary="经办银行：签订借款合同（loans:write）"
)
def contract(
    loan_no: str,
    caller: ApiCaller,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    body: Annotated[Contract, Body()],
) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "loans:write")
    loan = _by_no(db, loan_no, actor)
    result = loans.sign_contract(
        db,
        loan_id=loan.id,
        actor=actor,
        audit_key=state.audit_key,
        terms=loans.ContractTerms(
            contract_no=body.contract_no,
            amount_fen=body.amount_fen,
            rate_bp=body.rate_bp,
            contract_date=body.contract_date,
            start_date=body.start_date,
            term_months=body.term_months,
            repayment_method=body.repayment_method,
        ),
        params=params,
        now=now_utc(),
        expected_version=body.expected_version,
    )
    return _view(db, result.loan, actor)


@router.post("/{loan_no}/disburse", response_model=LoanForStaff, summary="经办银行：放款（loans:write）")
def disburse(
    loan_no: str, caller: ApiCaller, db: SessionDep, state: StateDep
) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "loans:write")
    loan = _by_no(db, loan_no, actor)
    result = loans.act(
        db, loan_id=loan.id, action="disburse", actor=actor, audit_key=state.audit_key, now=now_utc()
    )
    return _view(db, result.loan, actor)


class Repayment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    repayment_ref: str = Field(max_length=40, description="银行还款流水号（重复提交相同内容不重复入账）")
    paid_on: dt.date
    principal_fen: int = Field(ge=0)
    interest_fen: int = Field(ge=0)


@router.post(
    "/{loan_no}/repayments", response_model=LoanForStaff, summary="经办银行：登记还款（loans:write）"
)
def repayment(
    loan_no: str, caller: ApiCaller, db: SessionDep, state: StateDep, body: Annotated[Repayment, Body()]
) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "loans:write")
    loan = _by_no(db, loan_no, actor)
    result = loans.record_repayment(
        db,
        loan_id=loan.id,
        actor=actor,
        audit_key=state.audit_key,
        repayment_ref=body.repayment_ref,
        paid_on=body.paid_on,
        principal_fen=body.principal_fen,
        interest_fen=body.interest_fen,
        now=now_utc(),
    )
    return _view(db, result.loan, actor)


class Overdue(BaseModel):
    model_config = ConfigDict(extra="forbid")
    on: dt.date | None = None


@router.post("/{loan_no}/overdue", response_model=LoanForStaff, summary="经办银行：登记逾期（loans:write）")
def overdue(
    loan_no: str, caller: ApiCaller, db: SessionDep, state: StateDep, body: Annotated[Overdue, Body()]
) -> LoanForApplicant | LoanForStaff:
    actor = _actor(caller, db, "loans:write")
    loan = _by_no(db, loan_no, actor)
    result = loans.mark_overdue(
        db, loan_id=loan.id, actor=actor, audit_key=state.audit_key, on=body.on, now=now_utc()
    )
    return _view(db, result.loan, actor)
