"""The guaranteed-loan service (创业担保贷款 一网通办, clause 1.2).

Services take keyword-only arguments and never commit: the caller owns the transaction, so a state
change, its transition log row, its determination, its schedule, its audit record and its notifications
commit together or not at all.

Every move goes through one table row (:mod:`xiangchuang.loans.workflow`) and is checked in this order:
the actor's role; data scope (an applicant acts on their own loans; 人社 staff, window clerks and the
guarantee fund on their own district's; a bank on the loans it was chosen for in its own district;
``city_admin`` reads everything and acts nowhere); the version the caller saw (optimistic locking); the
row for (state, action) names the role; the row's guards. The change is written with
``UPDATE … WHERE version = :seen``, so of two concurrent moves exactly one wins.

Determinations: at 人社 review (``pass_eligibility``), at the guarantee review and at signing, the engine
is re-run on the registry facts of the borrower (and business) on that day plus the loan's own terms
(a one-row ``loans`` table, and the ``other_loans`` the applicant declared), and the result is stored
immutably with the facts, the engine and parameter versions and the explanation.

Choices where PROVISIONS.md is silent (also in the README's list):

- The applicant declares their other outstanding loans on the form (kind and balance); the registry holds
  none. The declared list is a *supplied* table: an empty list is a known "none" (the bank checks the
  credit report; a false declaration is the borrower's).
- Every loan applied for here is 新发放 (a new loan) for the counter-guarantee waiver; renewals are not
  modelled.
- At 人社 review the contract date is not known yet: dated parameters are taken on the review day, and
  "subsidy eligible" means the subsidy regime (``loan_interest_subsidy.borrower_max_below_lpr_bp``) is in
  force then; at signing it is decided again on the contract date with the contract rate (rate cap).
- At signing the engine's determinations on the contract date decide (README choice 84): a loan its own
  program no longer finds eligible (e.g. a graduate's 10-year window ended since the review) cannot be
  signed (the bank refuses it, with the reasons); the subsidy is kept unless the engine's
  ``loan_interest_subsidy`` is "ineligible", in which case the contract is signed without it and the
  reasons are stated (details ``no_subsidy``, the borrower's notice).
- The LPR of a contract is the 1-year LPR in force on the contract date (``loan.lpr_1y_bp``); the bank
  does not type it.
- A partnership's partners must be persons in the registry; the engine checks the borrower (the partner
  who signs) and counts the partners for the ceiling — each partner's own eligibility is not modelled.
- One live guaranteed loan per borrowing subject (person for individual/partnership, business for
  small/micro), enforced by a unique key.
- An instalment is covered when the repayments so far (principal + interest, in order) reach the
  cumulative scheduled amount; covered after its due date it was late. An overdue period runs from the
  day after the missed due date to the day the arrears are repaid, both included (the repayment day is
  counted as overdue: no subsidy for it).
- A contract repays at least 1 yuan of principal per instalment (amount ≥ term × 100 fen), so the
  equal-principal schedule's last instalment never goes negative after rounding.
- 受理 and the eligibility review are 人社's (role ``district_reviewer``); a window clerk may create and
  submit on the applicant's behalf (事务代办), recorded as such.
- One extension (展期) per loan, requested on or before maturity with no arrears, of at most the original
  term (short-term loans, ≤ 12 months) or half of it (longer loans) — 贷款通则 第十二条; the unpaid
  instalments are replaced by a new schedule of the outstanding principal, by the same method, over the
  remaining and added months. The extension period (original maturity → new maturity) gets no subsidy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

import numpy as np
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.applications.workflow import Row
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.assemble import Facts
from xiangchuang.engine.dates import add_months_scalar, to_day
from xiangchuang.engine.explain import STATUS_ZH, Explainer
from xiangchuang.engine.facts import FACTS, Col, Table
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.engine.programs import BY_ID
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.loans import repository as repo
from xiangchuang.loans.schedule import METHOD_LABELS, build_schedule
from xiangchuang.loans.workflow import LOAN_ROLE_LABELS, LOAN_ROLES, LOAN_TABLE, STATE_LABELS, find_row
from xiangchuang.models import (
    Loan,
    LoanDetermination,
    LoanInstalment,
    LoanPeriod,
    LoanRepayment,
    LoanTransition,
)
from xiangchuang.models.loans import LOAN_KINDS
from xiangchuang.outbox.service import enqueue
from xiangchuang.registry import repository as registry_repo
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.matching import evaluate
from xiangchuang.registry.repository import Scope

MAX_REASON: Final = 500
KIND_LABELS: Final = {
    "individual": "个人创业担保贷款",
    "partnership": "合伙创业担保贷款",
    "small_micro": "小微企业创业担保贷款",
}
LOAN_PROGRAM: Final = {
    "individual": "loan_individual",
    "partnership": "loan_individual",
    "small_micro": "loan_small_micro",
}
OTHER_LOAN_KINDS: Final = FACTS["other_loans"]["kind"].choices
WAIVER_GROUNDS: Final = {c.id: c.pass_msg for c in BY_ID["counter_guarantee_waiver"].any_of}
_BANK_CODE: Final = re.compile(r"^[A-Za-z0-9]{2,20}$")
_STATUS_ZH: Final = {**STATUS_ZH, "not_in_registry": "登记库中没有该借款人或经营主体"}


@dataclass(frozen=True)
class Actor:
    """Who acts: account, role, the district they serve (staff, guarantee fund, bank branch) and, for a
    bank, the bank's code."""

    user: str
    role: str
    district: int | None = None
    bank: str | None = None


@dataclass(frozen=True)
class LoanRequest:
    """The loan application form."""

    kind: str
    borrower_person_no: str
    district: int
    bank_code: str
    amount_requested_fen: int
    term_months: int
    purpose: str
    business_no: str | None = None
    partners: tuple[str, ...] = ()  # partnership: every partner's person number (borrower included)
    other_loans: tuple[tuple[str, int], ...] = ()  # declared outstanding loans: (kind, balance fen)


@dataclass(frozen=True)
class ContractTerms:
    contract_no: str
    amount_fen: int
    rate_bp: int
    contract_date: dt.date
    start_date: dt.date
    term_months: int
    repayment_method: str


@dataclass(frozen=True)
class MoveResult:
    loan: Loan
    row: Row
    determinations: list[LoanDetermination] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _text(value: str, what: str, limit: int) -> str:
    """The shared text rule (fields.text); an empty value is "" here (the API's optional strings)."""
    return fields.text(value, what, limit, required=False) or ""


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValidationFailed(f"{what}须为正整数，收到 {value!r}")
    return value


# --- scope ----------------------------------------------------------------------------------------


def _check_scope(loan: Loan, actor: Actor, *, acting: bool) -> None:
    if actor.role not in LOAN_ROLES:
        raise Forbidden(f"角色 {actor.role!r} 不能办理创业担保贷款")
    if actor.role == "applicant":
        if loan.applicant_user != actor.user:
            raise Forbidden("只能查看或办理本人的贷款申请")
    elif actor.role == "city_admin":
        if acting:
            raise Forbidden("市级管理员可查看各区县贷款，但不能办理审批环节")
    elif actor.role == "bank":
        if actor.bank != loan.bank_code or actor.district != loan.district:
            raise Forbidden(
                f"经办银行只能办理选择本行（{loan.bank_code}）且在本行所在区县（{loan.district}）的贷款"
            )
    elif actor.district != loan.district:
        raise Forbidden(f"无权查看或办理其他区县（{loan.district}）的贷款")


def get_loan(session: Session, *, loan_id: int, actor: Actor) -> Loan:
    """One loan, if the actor's scope covers it (404 if it does not exist, 403 if out of scope)."""
    loan = repo.load(session, loan_id)
    if loan is None:
        raise NotFound(f"贷款申请 {loan_id} 不存在")
    _check_scope(loan, actor, acting=False)
    return loan


def get_by_contract(session: Session, *, contract_no: str, actor: Actor) -> Loan:
    loan = repo.by_contract(session, contract_no)
    if loan is None:
        raise NotFound(f"借款合同 {contract_no} 不存在")
    _check_scope(loan, actor, acting=False)
    return loan


def schedule_of(session: Session, *, loan_id: int, actor: Actor) -> list[LoanInstalment]:
    loan = get_loan(session, loan_id=loan_id, actor=actor)
    return repo.current_schedule(session, loan.id)


# --- create ---------------------------------------------------------------------------------------


def _live_key(kind: str, person_no: str, business_no: str | None) -> str:
    subject = business_no if kind == "small_micro" else person_no
    return f"{'small_micro' if kind == 'small_micro' else 'individual'}|{subject}"


def create_loan(
    session: Session,
    *,
    request: LoanRequest,
    applicant_user: str,
    actor: Actor,
    audit_key: bytes,
    params: ParameterSet | None = None,
    now: dt.datetime | None = None,
) -> Loan:
    """A draft loan application (by the applicant, or a window clerk on their behalf — 事务代办)."""
    at = fields.now_utc(now)
    params = params or load_parameters()
    r = request
    if r.kind not in LOAN_KINDS:
        raise ValidationFailed(f"贷款类型（kind）须为 {'、'.join(LOAN_KINDS)} 之一，收到 {r.kind!r}")
    person_no = _text(r.borrower_person_no, "借款人编号（borrower_person_no）", 64)
    if not person_no:
        raise ValidationFailed("借款人编号（borrower_person_no）不能为空")
    business_no = _text(r.business_no or "", "经营主体编号（business_no）", 64) or None
    if r.kind == "small_micro" and business_no is None:
        raise ValidationFailed("小微企业创业担保贷款须填写借款经营主体编号（business_no）")
    if not _BANK_CODE.match(r.bank_code or ""):
        raise ValidationFailed("经办银行代码（bank_code）须为 2–20 位字母或数字")
    amount = _positive_int(r.amount_requested_fen, "申请金额（amount_requested_fen，分）")
    term = _positive_int(r.term_months, "申请期限（term_months，月）")
    purpose = _text(r.purpose, "贷款用途（purpose）", 200)
    if not purpose:
        raise ValidationFailed("贷款用途（purpose）不能为空")
    partners = [_text(p, "合伙人编号（partners）", 64) for p in r.partners]
    if r.kind == "partnership":
        if len(set(partners)) < 2 or "" in partners:
            raise ValidationFailed("合伙创业贷款须列出至少2名不同的合伙人（partners），含借款人本人")
        if person_no not in partners:
            raise ValidationFailed("合伙人名单（partners）须包含借款人本人")
    elif partners:
        raise ValidationFailed("只有合伙创业贷款才填写合伙人（partners）")
    other: list[dict[str, Any]] = []
    for n, (kind, balance) in enumerate(r.other_loans, start=1):
        if kind not in OTHER_LOAN_KINDS:
            raise ValidationFailed(
                f"其他贷款第{n}笔：种类须为 {'、'.join(OTHER_LOAN_KINDS)} 之一，收到 {kind!r}"
            )
        if isinstance(balance, bool) or not isinstance(balance, int) or balance < 0:
            raise ValidationFailed(f"其他贷款第{n}笔：余额（分）须为非负整数")
        other.append({"kind": kind, "amount_fen": balance})
    if actor.role == "applicant":
        if actor.user != applicant_user:
            raise Forbidden("申请人只能为本人申请贷款；代办请由街道/乡镇经办办理")
    elif actor.role == "window_clerk":
        if actor.district != r.district:
            raise Forbidden(f"无权为其他区县（{r.district}）的借款人代办贷款申请")
    else:
        raise Forbidden(f"{LOAN_ROLE_LABELS.get(actor.role, actor.role)}不能创建贷款申请")
    loan = Loan(
        loan_no=f"DK{china_date(at):%Y%m%d}{secrets.token_hex(5).upper()}",
        kind=r.kind,
        borrower_person_no=person_no,
        business_no=business_no,
        district=r.district,
        bank_code=r.bank_code,
        state="draft",
        live_key=_live_key(r.kind, person_no, business_no),
        applicant_user=applicant_user,
        created_by=actor.user,
        on_behalf=actor.role == "window_clerk",
        purpose=purpose,
        amount_requested_fen=amount,
        term_months_requested=term,
        partners=partners,
        other_loans=other,
        version=1,
    )
    try:
        with session.begin_nested():
            session.add(loan)
            session.flush()
    except IntegrityError:
        who = f"经营主体 {business_no}" if r.kind == "small_micro" else f"借款人 {person_no}"
        raise Conflict(f"{who}已有未结清或在办的创业担保贷款，不能同时申请第二笔") from None
    record(
        session,
        key=audit_key,
        actor=actor.user,
        actor_role=actor.role,
        district=loan.district,
        action="loan.create",
        subject=f"loans:{loan.loan_no}",
        details={"kind": loan.kind, "on_behalf": loan.on_behalf, "bank": loan.bank_code},
        at=at,
    )
    return loan


# --- the move -------------------------------------------------------------------------------------


def _begin(
    session: Session, *, loan_id: int, action: str, actor: Actor, expected_version: int | None
) -> tuple[Loan, Row]:
    loan = repo.load(session, loan_id)
    if loan is None:
        raise NotFound(f"贷款申请 {loan_id} 不存在")
    _check_scope(loan, actor, acting=True)
    if expected_version is not None and expected_version != loan.version:
        raise Conflict("贷款申请已被他人处理（版本已变化），请刷新后重试")
    row = find_row(loan.state, action)
    if row is None:
        label = next((r.staff_label for r in LOAN_TABLE if r.action == action), action)
        raise InvalidTransition(f"贷款当前状态为「{STATE_LABELS[loan.state]}」，不能执行「{label}」")
    if actor.role not in row.roles:
        raise Forbidden(f"{LOAN_ROLE_LABELS[actor.role]}不能执行「{row.staff_label}」")
    return loan, row


def _reason(row: Row, reason: str | None) -> str | None:
    text = _text(reason or "", "原因（reason）", MAX_REASON) or None
    if "reason_required" in row.guards and text is None:
        raise ValidationFailed(f"「{row.staff_label}」须填写原因（reason）")
    return text


def _finish(
    session: Session,
    *,
    loan: Loan,
    row: Row,
    actor: Actor,
    audit_key: bytes,
    at: dt.datetime,
    reason: str | None = None,
    values: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    notice: Mapping[str, Any] | None = None,
) -> Loan:
    seen = loan.version
    vals: dict[str, Any] = {"state": row.to_state, "version": seen + 1, **(values or {})}
    if row.to_state in ("refused", "withdrawn", "settled"):
        vals["live_key"] = None
    if row.to_state == "refused":
        vals["decision_reason"] = reason
    result = session.execute(
        update(Loan)
        .where(Loan.id == loan.id, Loan.version == seen)
        .values(**vals)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("贷款申请已被他人同时处理，本次操作未生效，请刷新后重试")
    session.add(
        LoanTransition(
            loan_id=loan.id,
            from_state=row.from_state,
            action=row.action,
            to_state=row.to_state,
            actor=actor.user,
            role=actor.role,
            reason=reason,
            at=at,
        )
    )
    session.flush()
    _notify(session, loan, row, reason, notice or {})
    record(
        session,
        key=audit_key,
        actor=actor.user,
        actor_role=actor.role,
        district=loan.district,
        action=f"loan.{row.action}",
        subject=f"loans:{loan.loan_no}",
        details={
            "from": row.from_state,
            "to": row.to_state,
            "reason_given": reason is not None,
            **(details or {}),
        },
        at=at,
    )
    session.refresh(loan)
    return loan


def _notify(session: Session, loan: Loan, row: Row, reason: str | None, extra: Mapping[str, Any]) -> None:
    payload: dict[str, Any] = {
        "loan_no": loan.loan_no,
        "title": KIND_LABELS[loan.kind],
        "state": row.to_state,
        "state_label": STATE_LABELS[row.to_state],
        "message": row.applicant_label,
        **extra,
    }
    if reason is not None and row.to_state == "refused":
        payload["reason"] = reason
    enqueue(session, template=f"loan.{row.to_state}", payload=payload, user=loan.applicant_user)
    next_roles = sorted(
        {r for nxt in LOAN_TABLE if nxt.from_state == row.to_state for r in nxt.roles} - {"applicant"}
    )
    for role in next_roles:
        enqueue(
            session,
            template="loan.task",
            payload={
                **payload,
                "message": f"待办：{KIND_LABELS[loan.kind]} {loan.loan_no}（{STATE_LABELS[row.to_state]}）",
            },
            role=role,
            district=loan.district,
        )


def act(
    session: Session,
    *,
    loan_id: int,
    action: str,
    actor: Actor,
    audit_key: bytes,
    reason: str | None = None,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """The moves that need nothing but the table: submit, withdraw, accept, refuse, disburse (放款)."""
    if action == "refuse":
        return refuse(
            session,
            loan_id=loan_id,
            actor=actor,
            audit_key=audit_key,
            reason=reason,
            now=now,
            expected_version=expected_version,
        )
    if action not in ("submit", "withdraw", "accept", "disburse"):
        raise InvalidTransition(f"「{action}」须通过专门的办理功能执行")
    at = fields.now_utc(now)
    loan, row = _begin(
        session, loan_id=loan_id, action=action, actor=actor, expected_version=expected_version
    )
    text = _reason(row, reason)
    values: dict[str, Any] = {}
    if action == "submit":
        values["on_behalf"] = actor.role == "window_clerk" or loan.on_behalf
    loan = _finish(
        session, loan=loan, row=row, actor=actor, audit_key=audit_key, at=at, reason=text, values=values
    )
    return MoveResult(loan, row)


# --- determinations ---------------------------------------------------------------------------------


def _snapshot(facts: Facts) -> dict[str, Any]:
    """The facts as read (before the engine derives anything): unknown → null."""
    out: dict[str, Any] = {}
    for name, table in facts.tables.items():
        cols: dict[str, Any] = {}
        for col_name, col in table.cols.items():
            values = col.values.tolist()
            known = np.asarray(col.known).tolist()
            cols[col_name] = [v if k else None for v, k in zip(values, known, strict=True)]
        out[name] = {"n": table.n, "columns": cols}
    return dict(json.loads(json.dumps(out, default=str)))


def _col(value: Any, dtype: type[np.generic]) -> Col:
    known = value is not None
    return Col(np.asarray([value if known else 0], dtype=dtype), np.asarray([known]))


def _loan_facts(
    session: Session, loan: Loan, *, on: dt.date, terms: Mapping[str, Any]
) -> tuple[Facts, dict[str, Any]] | None:
    """Registry facts of the borrower (and business) on ``on`` plus the loan's one-row table."""
    conn = session.connection()
    person_pk = registry_repo.subject_pk(conn, "persons", loan.borrower_person_no)
    if person_pk is None:
        return None
    business_pk = registry_repo.subject_pk(conn, "businesses", loan.business_no) if loan.business_no else None
    if loan.business_no and business_pk is None:
        return None
    scope = Scope(person_ids=(person_pk,), business_ids=(business_pk,) if business_pk is not None else ())
    facts = assemble_facts(session, on=on, district=None, subjects=scope)
    persons, businesses = facts.tables["persons"], facts.tables["businesses"]
    p_rows = np.flatnonzero(persons["id"].values == loan.borrower_person_no)
    if not p_rows.size:
        return None
    b_row: int | None = None
    if loan.business_no:
        b_rows = np.flatnonzero(businesses["id"].values == loan.business_no)
        if not b_rows.size:
            return None
        b_row = int(b_rows[0])
    loan_fact = FACTS["loans"]
    table = Table("loans", 1)
    table["id"] = Col(np.asarray([loan.loan_no], dtype=object), np.asarray([True]))
    table["kind"] = _col(loan_fact["kind"].code_of(loan.kind), np.int32)
    table["borrower_id"] = _col(int(p_rows[0]), np.int64)
    table["business_id"] = _col(b_row, np.int64)
    table["district"] = _col(loan.district, np.int32)
    table["partners"] = _col(len(loan.partners) if loan.kind == "partnership" else None, np.int64)
    table["new_loan"] = _col(True, np.bool_)
    if b_row is not None:
        rec, rated = businesses["recommended_by"], businesses["credit_rated"]
        table["recommended_by"] = Col(rec.values[[b_row]].astype(np.int32), rec.known[[b_row]])
        table["credit_rated"] = Col(rated.values[[b_row]].astype(bool), rated.known[[b_row]])
    for name in ("amount_fen", "term_months", "rate_bp", "lpr_bp"):
        table[name] = _col(terms.get(name), np.int64)
    contract_date = terms.get("contract_date")
    table["contract_date"] = _col(None if contract_date is None else to_day(contract_date), np.int32)
    facts.tables["loans"] = table
    other = Table("other_loans", len(loan.other_loans))
    other_fact = FACTS["other_loans"]
    n = other.n
    other["person_id"] = Col(np.full(n, int(p_rows[0]), dtype=np.int64), np.ones(n, dtype=bool))
    other["kind"] = Col(
        np.asarray([other_fact["kind"].code_of(o["kind"]) for o in loan.other_loans], dtype=np.int32),
        np.ones(n, dtype=bool),
    )
    other["amount_fen"] = Col(
        np.asarray([int(o["amount_fen"]) for o in loan.other_loans], dtype=np.int64), np.ones(n, dtype=bool)
    )
    facts.tables["other_loans"] = other
    facts.supplied.add("other_loans")
    return facts, _snapshot(facts)


def _determine(
    session: Session,
    loan: Loan,
    *,
    stage: str,
    programs: Sequence[str],
    on: dt.date,
    params: ParameterSet,
    terms: Mapping[str, Any],
) -> dict[str, LoanDetermination]:
    """Run the engine and store one immutable determination per program."""
    base = {"loan_id": loan.id, "stage": stage, "on": on, "engine_version": ENGINE_VERSION}
    built = _loan_facts(session, loan, on=on, terms=terms)
    out: dict[str, LoanDetermination] = {}
    if built is None:
        for prog in programs:
            row = LoanDetermination(
                **base,
                program=prog,
                status="not_in_registry",
                amount_fen=None,
                facts={},
                parameters_version=params.version[:80],
                result={
                    "program": prog,
                    "status": "not_in_registry",
                    "message": "登记库中没有该借款人或经营主体",
                },
            )
            session.add(row)
            out[prog] = row
        session.flush()
        return out
    facts, snapshot = built
    outcomes = {
        o.program.id: o for o in evaluate(facts, on=on, params=params, programs=[BY_ID[p] for p in programs])
    }
    explainer = Explainer(params)
    for prog in programs:
        doc = explainer.program(outcomes[prog], 0)
        doc["engine_version"] = ENGINE_VERSION
        doc["parameters_version"] = params.version
        doc = dict(json.loads(json.dumps(doc, ensure_ascii=False, default=str)))
        amount = doc.get("amount_fen")
        row = LoanDetermination(
            **base,
            program=prog,
            status=str(doc["status"]),
            amount_fen=None if amount is None else int(amount),
            facts=snapshot,
            parameters_version=params.version[:80],
            result=doc,
        )
        session.add(row)
        out[prog] = row
    session.flush()
    return out


def _condition(det: LoanDetermination, cond_id: str) -> dict[str, Any] | None:
    for c in det.result.get("conditions", []):
        if c.get("id") == cond_id:
            return dict(c)
    return None


def _failed_reasons(det: LoanDetermination, *, only_failed: bool = False) -> str:
    """The messages of the conditions that did not pass (``only_failed``: that failed, leaving out the
    unknown ones, e.g. a subsidy's settlement facts before any quarter is settled)."""
    parts = [
        str(c["message"])
        for c in det.result.get("conditions", [])
        if c.get("status") != "pass" and not c.get("group") and (c.get("status") == "fail" or not only_failed)
    ]
    return "；".join(parts) or _STATUS_ZH.get(det.status, det.status)


# --- 人社 eligibility -------------------------------------------------------------------------------------


def pass_eligibility(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """人社 eligibility: re-run the engine; eligible → the maximum amount and subsidy eligibility are set
    and the loan goes to the guarantee fund. Not eligible → :class:`InvalidTransition` naming the failed
    conditions (nothing is written); 人社 then refuses with :func:`refuse`, which stores the
    determination it refused on."""
    at = fields.now_utc(now)
    today = china_date(at)
    params = params or load_parameters()
    loan, row = _begin(
        session, loan_id=loan_id, action="pass_eligibility", actor=actor, expected_version=expected_version
    )
    program = LOAN_PROGRAM[loan.kind]
    conn = session.connection()
    unknown = [p for p in loan.partners if registry_repo.subject_pk(conn, "persons", str(p)) is None]
    if unknown:
        raise InvalidTransition(
            f"合伙人（partners）{'、'.join(map(str, unknown))} 不在登记库中，无法核实，不能审核通过"
        )
    terms = {
        "amount_fen": loan.amount_requested_fen,
        "term_months": loan.term_months_requested,
        "contract_date": today,
    }
    dets = _determine(
        session,
        loan,
        stage="eligibility",
        programs=(program, "loan_interest_subsidy"),
        on=today,
        params=params,
        terms=terms,
    )
    det = dets[program]
    if det.status != "eligible":
        raise InvalidTransition(
            f"按登记库当前数据复核，{BY_ID[program].title}结论为「{_STATUS_ZH.get(det.status, det.status)}」"
            f"（{_failed_reasons(det)}），不能审核通过：请不予支持并写明原因"
        )
    regime = _condition(dets["loan_interest_subsidy"], "regime_applies")
    subsidy = regime is not None and regime.get("status") == "pass"
    assert det.amount_fen is not None
    loan = _finish(
        session,
        loan=loan,
        row=row,
        actor=actor,
        audit_key=audit_key,
        at=at,
        values={"max_amount_fen": det.amount_fen, "subsidy_eligible": subsidy},
        details={"determination": det.status, "max_amount_fen": det.amount_fen, "subsidy_eligible": subsidy},
        notice={"max_amount": format_fen(det.amount_fen), "subsidy_eligible": subsidy},
    )
    return MoveResult(
        loan, row, list(dets.values()), {"max_amount_fen": det.amount_fen, "subsidy_eligible": subsidy}
    )


def refuse(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    reason: str | None,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """不予支持 at any review (人社, guarantee fund, bank), with the reason. At 人社 review the engine's
    determination the refusal rests on is stored with it."""
    at = fields.now_utc(now)
    loan, row = _begin(
        session, loan_id=loan_id, action="refuse", actor=actor, expected_version=expected_version
    )
    text = _reason(row, reason)
    dets: list[LoanDetermination] = []
    if loan.state == "hrss_review":
        today = china_date(at)
        terms = {
            "amount_fen": loan.amount_requested_fen,
            "term_months": loan.term_months_requested,
            "contract_date": today,
        }
        program = LOAN_PROGRAM[loan.kind]
        dets = list(
            _determine(
                session,
                loan,
                stage="eligibility",
                programs=(program,),
                on=today,
                params=params or load_parameters(),
                terms=terms,
            ).values()
        )
    details = {"determination": dets[0].status} if dets else {}
    loan = _finish(
        session, loan=loan, row=row, actor=actor, audit_key=audit_key, at=at, reason=text, details=details
    )
    return MoveResult(loan, row, dets)


# --- guarantee fund ---------------------------------------------------------------------------------


def approve_guarantee(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    guaranteed_amount_fen: int,
    counter_guarantee: str,
    waiver_ground: str | None = None,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """The guarantee fund agrees to guarantee ``guaranteed_amount_fen`` (≤ the 人社 maximum), with a
    counter-guarantee ``required`` or ``waived``; a waiver names its ground (an id of the
    counter_guarantee_waiver program's grounds), which the engine must find satisfied."""
    at = fields.now_utc(now)
    today = china_date(at)
    params = params or load_parameters()
    loan, row = _begin(
        session, loan_id=loan_id, action="approve_guarantee", actor=actor, expected_version=expected_version
    )
    amount = _positive_int(guaranteed_amount_fen, "担保金额（guaranteed_amount_fen，分）")
    assert loan.max_amount_fen is not None
    if amount > loan.max_amount_fen:
        raise ValidationFailed(
            f"担保金额（guaranteed_amount_fen）{format_fen(amount)} 超过人社核定的最高贷款额度 {format_fen(loan.max_amount_fen)}"
        )
    if counter_guarantee not in ("required", "waived"):
        raise ValidationFailed(
            "反担保（counter_guarantee）须为 required（需要反担保）或 waived（免除反担保）"
        )
    ground: str | None = None
    if counter_guarantee == "waived":
        if waiver_ground not in WAIVER_GROUNDS:
            raise ValidationFailed(
                "免除反担保须写明依据（waiver_ground），可选："
                + "、".join(f"{k}（{v.split('，')[0]}）" for k, v in WAIVER_GROUNDS.items())
            )
        ground = waiver_ground
    elif waiver_ground:
        raise ValidationFailed("需要反担保时不填写免除依据（waiver_ground）")
    terms = {"amount_fen": amount, "term_months": loan.term_months_requested, "contract_date": today}
    dets = _determine(
        session,
        loan,
        stage="guarantee",
        programs=("counter_guarantee_waiver",),
        on=today,
        params=params,
        terms=terms,
    )
    det = dets["counter_guarantee_waiver"]
    if ground is not None:
        cond = _condition(det, ground)
        if cond is None or cond.get("status") != "pass":
            said = cond.get("message") if cond else "登记库中无此借款人"
            raise ValidationFailed(
                f"免除反担保依据（waiver_ground）「{ground}」不成立：{said}（74号文 一、（二）；"
                f"按登记库复核，成立的依据：{'、'.join(det.result.get('any_of', {}).get('satisfied_by', [])) or '无'}）"
            )
        if det.status != "eligible":
            # The ground holds but the loan itself does not qualify (README choice 80): no waiver.
            raise ValidationFailed(
                f"免除反担保依据（waiver_ground）「{ground}」成立，但贷款本身须符合创业担保贷款条件才能免除反担保"
                f"（74号文 一、（二））：{_failed_reasons(det)}"
            )
    loan = _finish(
        session,
        loan=loan,
        row=row,
        actor=actor,
        audit_key=audit_key,
        at=at,
        values={
            "guaranteed_amount_fen": amount,
            "counter_guarantee": counter_guarantee,
            "waiver_ground": ground,
        },
        details={
            "guaranteed_amount_fen": amount,
            "counter_guarantee": counter_guarantee,
            "waiver_ground": ground,
        },
        notice={
            "guaranteed_amount": format_fen(amount),
            "counter_guarantee": "免除反担保" if ground else "需提供反担保",
        },
    )
    return MoveResult(loan, row, [det], {"waiver_ground": ground})


# --- bank: contract, repayments, overdue, extension ---------------------------------------------------


def _param(params: ParameterSet, name: str, on: dt.date, district: int | None = None) -> Any:
    value = params[name].value_at(on, district)
    if value is None:
        raise ValidationFailed(f"参数 {name}（{params[name].label}）在 {on} 尚未生效")
    return value


def max_term_months(params: ParameterSet, kind: str, on: dt.date, district: int) -> int:
    name = "loan_small_micro.max_term_months" if kind == "small_micro" else "loan_individual.max_term_months"
    return int(_param(params, name, on, district))


def rate_cap_bp(params: ParameterSet, on: dt.date, district: int) -> int:
    high = {str(c) for c in _param(params, "loan.rate_cap_high_districts", on)}
    name = "loan.rate_cap_high_over_lpr_bp" if str(district) in high else "loan.rate_cap_over_lpr_bp"
    return int(_param(params, name, on, district))


def sign_contract(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    terms: ContractTerms,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """The bank signs the contract: checks every term against the parameters on the contract date,
    stores the LPR in force, re-runs the loan and subsidy determinations with the contract (a loan no
    longer eligible is not signed; an ineligible subsidy is dropped, with the reasons), writes the schedule."""
    at = fields.now_utc(now)
    today = china_date(at)
    params = params or load_parameters()
    loan, row = _begin(
        session, loan_id=loan_id, action="sign_contract", actor=actor, expected_version=expected_version
    )
    t = terms
    contract_no = _text(t.contract_no, "合同编号（contract_no）", 40)
    if not contract_no:
        raise ValidationFailed("合同编号（contract_no）不能为空")
    amount = _positive_int(t.amount_fen, "合同金额（amount_fen，分）")
    assert loan.max_amount_fen is not None and loan.guaranteed_amount_fen is not None
    if amount > loan.max_amount_fen:
        raise ValidationFailed(
            f"合同金额（amount_fen）{format_fen(amount)} 超过人社核定的最高额度 {format_fen(loan.max_amount_fen)}"
        )
    if amount > loan.guaranteed_amount_fen:
        raise ValidationFailed(
            f"合同金额（amount_fen）{format_fen(amount)} 超过担保金额 {format_fen(loan.guaranteed_amount_fen)}"
        )
    if t.contract_date > today:
        raise ValidationFailed(f"合同日期（contract_date）{t.contract_date} 不能晚于今天 {today}")
    if t.start_date < t.contract_date:
        raise ValidationFailed("起息日（start_date）不能早于合同日期（contract_date）")
    term = _positive_int(t.term_months, "贷款期限（term_months，月）")
    limit = max_term_months(params, loan.kind, t.contract_date, loan.district)
    if term > limit:
        raise ValidationFailed(
            f"贷款期限（term_months）{term} 个月超过{KIND_LABELS[loan.kind]}最长期限 {limit} 个月（含本数）"
        )
    if amount < term * 100:
        raise ValidationFailed(
            f"合同金额（amount_fen）须不少于期数×1元（{term}期至少 {format_fen(term * 100)}）"
        )
    methods = tuple(_param(params, "loan.repayment_methods", t.contract_date))
    if t.repayment_method not in methods:
        raise ValidationFailed(
            "还款方式（repayment_method）须为 "
            + "、".join(f"{m}（{METHOD_LABELS[m]}）" for m in methods)
            + " 之一"
        )
    if isinstance(t.rate_bp, bool) or not isinstance(t.rate_bp, int) or t.rate_bp < 0:
        raise ValidationFailed("年利率（rate_bp，基点）须为非负整数")
    lpr = int(_param(params, "loan.lpr_1y_bp", t.contract_date))
    cap = rate_cap_bp(params, t.contract_date, loan.district)
    if t.rate_bp > lpr + cap:
        raise ValidationFailed(
            f"年利率（rate_bp）{t.rate_bp} 基点超过上限 {lpr + cap} 基点："
            f"合同日期 {t.contract_date} 的一年期LPR {lpr} 基点加 {cap} 基点（参数 loan.rate_cap_*，含本数）"
        )
    facts_terms = {
        "amount_fen": amount,
        "term_months": term,
        "contract_date": t.contract_date,
        "rate_bp": t.rate_bp,
        "lpr_bp": lpr,
    }
    dets = _determine(
        session,
        loan,
        stage="contract",
        programs=(LOAN_PROGRAM[loan.kind], "loan_interest_subsidy"),
        on=today,
        params=params,
        terms=facts_terms,
    )
    det = dets[LOAN_PROGRAM[loan.kind]]
    if det.status != "eligible":
        # Re-determined on the contract date (e.g. a graduate's 10-year window ended since the review):
        # not a guaranteed loan, so the bank may not sign it as one (README choice 84).
        raise InvalidTransition(
            f"按登记库当前数据于合同日期 {t.contract_date} 复核，{BY_ID[det.program].title}结论为"
            f"「{_STATUS_ZH.get(det.status, det.status)}」（{_failed_reasons(det)}），"
            "不能签订创业担保贷款合同：请不予贷款并写明原因"
        )
    # The subsidy on the engine's own status: only its settlement facts (period, balance, excluded
    # days) are unknown before a quarter is settled, so "undetermined" keeps the subsidy and
    # "ineligible" (a failed condition, e.g. the regime not in force on the contract date) drops it.
    sub = dets["loan_interest_subsidy"]
    subsidy = bool(loan.subsidy_eligible) and sub.status != "ineligible"
    no_subsidy = "" if subsidy or not loan.subsidy_eligible else _failed_reasons(sub, only_failed=True)
    maturity = add_months_scalar(t.start_date, term)
    months_per_year = int(_param(params, "loan.schedule_months_per_year", t.contract_date))
    plan = build_schedule(
        principal_fen=amount,
        rate_bp=t.rate_bp,
        start_date=t.start_date,
        method=t.repayment_method,
        first_month=1,
        last_month=term,
        months_per_year=months_per_year,
    )
    if repo.by_contract(session, contract_no) is not None:
        raise Conflict(f"合同编号（contract_no）{contract_no} 已被其他贷款使用")
    for inst in plan:
        session.add(
            LoanInstalment(
                loan_id=loan.id,
                schedule_no=1,
                seq=inst.seq,
                month=inst.month,
                due_date=inst.due_date,
                principal_fen=inst.principal_fen,
                interest_fen=inst.interest_fen,
                superseded=False,
            )
        )
    values = {
        "contract_no": contract_no,
        "contract_amount_fen": amount,
        "rate_bp": t.rate_bp,
        "lpr_bp": lpr,
        "contract_date": t.contract_date,
        "start_date": t.start_date,
        "term_months": term,
        "repayment_method": t.repayment_method,
        "maturity_date": maturity,
        "subsidy_eligible": subsidy,
    }
    try:
        with session.begin_nested():
            loan = _finish(
                session,
                loan=loan,
                row=row,
                actor=actor,
                audit_key=audit_key,
                at=at,
                values=values,
                details={
                    **{k: str(v) for k, v in values.items()},
                    "instalments": len(plan),
                    **({"no_subsidy": no_subsidy} if no_subsidy else {}),
                },
                notice={
                    "contract_no": contract_no,
                    "amount": format_fen(amount),
                    "rate_bp": t.rate_bp,
                    "lpr_bp": lpr,
                    "maturity_date": maturity.isoformat(),
                    "method": METHOD_LABELS[t.repayment_method],
                    "subsidy_eligible": subsidy,
                    **({"no_subsidy": f"本笔贷款不享受贴息：{no_subsidy}"} if no_subsidy else {}),
                },
            )
    except IntegrityError:
        raise Conflict(f"合同编号（contract_no）{contract_no} 已被其他贷款使用") from None
    extra: dict[str, Any] = {"lpr_bp": lpr, "subsidy_eligible": subsidy}
    if no_subsidy:
        extra["no_subsidy"] = no_subsidy
    return MoveResult(loan, row, list(dets.values()), extra)


def _cover(session: Session, loan: Loan, paid_on: dt.date) -> tuple[list[LoanInstalment], int]:
    """Mark the instalments the repayments so far cover (in due order); returns the newly covered ones
    and the amount left over towards the next instalment."""
    schedule = repo.current_schedule(session, loan.id)
    available = repo.total_repaid(session, loan.id) - sum(
        i.principal_fen + i.interest_fen for i in schedule if i.covered_on
    )
    newly: list[LoanInstalment] = []
    for inst in schedule:
        if inst.covered_on is not None:
            continue
        due = inst.principal_fen + inst.interest_fen
        if available < due:
            break
        available -= due
        inst.covered_on = paid_on
        newly.append(inst)
    session.flush()
    return newly, available


def arrears(session: Session, loan_id: int, on: dt.date) -> list[LoanInstalment]:
    """Instalments past due (due date before ``on``) and not covered."""
    return [i for i in repo.current_schedule(session, loan_id) if i.covered_on is None and i.due_date < on]


def record_repayment(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    repayment_ref: str,
    paid_on: dt.date,
    principal_fen: int,
    interest_fen: int,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """The bank records a repayment (idempotent on its transaction number ``repayment_ref``: a replay
    with the same content returns the loan unchanged, different content is a conflict). The move is
    chosen by the outcome: 结清 when no principal is left, 逾期已还清 when the arrears are repaid, else
    登记还款. A covered instalment paid after its due date was late: its overdue period is recorded."""
    at = fields.now_utc(now)
    today = china_date(at)
    ref = _text(repayment_ref, "还款流水号（repayment_ref）", 40)
    if not ref:
        raise ValidationFailed("还款流水号（repayment_ref）不能为空")
    loan = repo.load(session, loan_id)
    if loan is None:
        raise NotFound(f"贷款申请 {loan_id} 不存在")
    _check_scope(loan, actor, acting=True)
    existing = repo.repayment_by_ref(session, loan.id, ref)
    if existing is not None:
        same = (existing.paid_on, existing.principal_fen, existing.interest_fen) == (
            paid_on,
            principal_fen,
            interest_fen,
        )
        if not same:
            raise Conflict(f"还款流水号（repayment_ref）{ref} 已登记过内容不同的还款，本次未登记")
        replay_row = find_row(loan.state, "record_repayment") or find_row("repaying", "settle")
        assert replay_row is not None
        return MoveResult(loan, replay_row, details={"replayed": True})
    loan, _ = _begin(
        session, loan_id=loan_id, action="record_repayment", actor=actor, expected_version=expected_version
    )
    for value, what in (
        (principal_fen, "还款本金（principal_fen）"),
        (interest_fen, "还款利息（interest_fen）"),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValidationFailed(f"{what}须为非负整数（分）")
    if principal_fen + interest_fen <= 0:
        raise ValidationFailed("还款金额（本金 + 利息）须大于0")
    if loan.start_date is not None and paid_on < loan.start_date:
        raise ValidationFailed(f"还款日期（paid_on）{paid_on} 不能早于起息日 {loan.start_date}")
    if paid_on > today:
        raise ValidationFailed(f"还款日期（paid_on）{paid_on} 不能晚于今天 {today}")
    outstanding = (loan.contract_amount_fen or 0) - repo.principal_repaid(session, loan.id)
    if principal_fen > outstanding:
        raise ValidationFailed(
            f"还款本金（principal_fen）{format_fen(principal_fen)} 超过贷款余额 {format_fen(outstanding)}"
        )
    last = repo.repayments(session, loan.id)
    if last and paid_on < last[-1].paid_on:
        raise ValidationFailed(
            f"还款日期（paid_on）{paid_on} 早于已登记的最近一笔还款（{last[-1].paid_on}），请按时间顺序登记"
        )
    repayment = LoanRepayment(
        loan_id=loan.id,
        repayment_ref=ref,
        paid_on=paid_on,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        late=False,
        recorded_by=actor.user,
        recorded_at=at,
    )
    session.add(repayment)
    session.flush()
    newly, _ = _cover(session, loan, paid_on)
    late = [i for i in newly if i.due_date < paid_on]
    repayment.late = bool(late)
    left = arrears(session, loan.id, paid_on)
    opened = repo.open_overdue(session, loan.id)
    if opened is not None and not left:
        opened.end_date = paid_on
    elif opened is None and late:
        session.add(
            LoanPeriod(
                loan_id=loan.id,
                kind="overdue",
                start_date=late[0].due_date + dt.timedelta(days=1),
                end_date=paid_on,
                note=f"第{late[0].seq}期（应还日 {late[0].due_date}）逾期，{paid_on} 还清",
            )
        )
    session.flush()
    if outstanding - principal_fen == 0:
        action = "settle"
    elif loan.state == "overdue" and not left:
        action = "cure_extended" if loan.extended_maturity_date is not None else "cure"
    else:
        action = "record_repayment"
    row = find_row(loan.state, action)
    assert row is not None and actor.role in row.roles  # every repayable state has these rows (tested)
    values: dict[str, Any] = {"settled_on": paid_on} if action == "settle" else {}
    loan = _finish(
        session,
        loan=loan,
        row=row,
        actor=actor,
        audit_key=audit_key,
        at=at,
        values=values,
        details={
            "repayment_ref": ref,
            "principal_fen": principal_fen,
            "interest_fen": interest_fen,
            "late": bool(late),
        },
        notice={
            "paid_on": paid_on.isoformat(),
            "amount": format_fen(principal_fen + interest_fen),
            "late": bool(late),
        },
    )
    return MoveResult(loan, row, details={"late": bool(late), "covered": [i.seq for i in newly]})


def mark_overdue(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    on: dt.date | None = None,
    now: dt.datetime | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """The bank marks a loan overdue: an instalment due before ``on`` is not covered. The overdue period
    opens the day after that due date and stays open until the arrears are repaid."""
    at = fields.now_utc(now)
    day = on or china_date(at)
    loan, row = _begin(
        session, loan_id=loan_id, action="mark_overdue", actor=actor, expected_version=expected_version
    )
    late = arrears(session, loan.id, day)
    if not late:
        raise InvalidTransition(f"截至 {day} 没有到期未还的款项，不能登记逾期")
    first = late[0]
    session.add(
        LoanPeriod(
            loan_id=loan.id,
            kind="overdue",
            start_date=first.due_date + dt.timedelta(days=1),
            end_date=None,
            note=f"第{first.seq}期（应还日 {first.due_date}）到期未还",
        )
    )
    loan = _finish(
        session,
        loan=loan,
        row=row,
        actor=actor,
        audit_key=audit_key,
        at=at,
        details={"instalment": first.seq, "due_date": first.due_date.isoformat()},
        notice={
            "due_date": first.due_date.isoformat(),
            "amount": format_fen(first.principal_fen + first.interest_fen),
        },
    )
    return MoveResult(
        loan, row, details={"overdue_from": (first.due_date + dt.timedelta(days=1)).isoformat()}
    )


def max_extension_months(params: ParameterSet, term: int, on: dt.date) -> int:
    """贷款通则 第十二条: short-term loans at most the original term, longer ones at most half of it."""
    short = int(_param(params, "loan.extension_short_term_months", on))
    ratio: Fraction = _param(
        params, "loan.extension_ratio_short" if term <= short else "loan.extension_ratio_medium", on
    )
    return int(term * ratio)


def extend(
    session: Session,
    *,
    loan_id: int,
    actor: Actor,
    audit_key: bytes,
    months: int,
    reason: str | None,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> MoveResult:
    """展期: the maturity moves ``months`` later; unpaid instalments are replaced by a new schedule."""
    at = fields.now_utc(now)
    today = china_date(at)
    params = params or load_parameters()
    loan, row = _begin(
        session, loan_id=loan_id, action="extend", actor=actor, expected_version=expected_version
    )
    text = _reason(row, reason)
    months = _positive_int(months, "展期月数（months）")
    assert loan.maturity_date and loan.start_date and loan.term_months and loan.rate_bp is not None
    if loan.extended_maturity_date is not None:
        raise InvalidTransition("该贷款已办理过展期，不能再次展期")
    if today > loan.maturity_date:
        raise InvalidTransition(f"展期须在贷款到期日（{loan.maturity_date}）前申请")
    if arrears(session, loan.id, today):
        raise InvalidTransition("有到期未还款项的贷款不能展期，请先还清逾期款项")
    limit = max_extension_months(params, loan.term_months, loan.contract_date or today)
    if months > limit:
        raise ValidationFailed(
            f"展期月数（months）{months} 超过上限 {limit} 个月（原期限 {loan.term_months} 个月；贷款通则 第十二条）"
        )
    schedule = repo.current_schedule(session, loan.id)
    unpaid = [i for i in schedule if i.covered_on is None]
    outstanding = (loan.contract_amount_fen or 0) - repo.principal_repaid(session, loan.id)
    first_month = unpaid[0].month if unpaid else loan.term_months
    new_maturity = add_months_scalar(loan.start_date, loan.term_months + months)
    for old in unpaid:
        old.superseded = True
    schedule_no = max(i.schedule_no for i in schedule) + 1 if schedule else 2
    months_per_year = int(_param(params, "loan.schedule_months_per_year", loan.contract_date or today))
    assert loan.repayment_method is not None
    plan = build_schedule(
        principal_fen=outstanding,
        rate_bp=loan.rate_bp,
        start_date=loan.start_date,
        method=loan.repayment_method,
        first_month=first_month,
        last_month=loan.term_months + months,
        months_per_year=months_per_year,
    )
    for inst in plan:
        session.add(
            LoanInstalment(
                loan_id=loan.id,
                schedule_no=schedule_no,
                seq=inst.seq,
                month=inst.month,
                due_date=inst.due_date,
                principal_fen=inst.principal_fen,
                interest_fen=inst.interest_fen,
                superseded=False,
            )
        )
    session.add(
        LoanPeriod(
            loan_id=loan.id,
            kind="extension",
            start_date=loan.maturity_date,
            end_date=new_maturity - dt.timedelta(days=1),
            note=text,
        )
    )
    loan = _finish(
        session,
        loan=loan,
        row=row,
        actor=actor,
        audit_key=audit_key,
        at=at,
        reason=text,
        values={"extended_maturity_date": new_maturity},
        details={"months": months, "new_maturity": new_maturity.isoformat(), "instalments": len(plan)},
        notice={"new_maturity": new_maturity.isoformat()},
    )
    return MoveResult(loan, row, details={"new_maturity": new_maturity})
