"""创业担保贷款 pages: the entrepreneur applies and follows the loan (status timeline, repayment schedule,
quarterly subsidy lines); 人社, the guarantee fund and the bank work their queues and act on a loan with
exactly the moves the workflow table allows their role in its state; 区县财政 / the city settle a quarter
and download the statement. Routes only call :mod:`xiangchuang.loans` services."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from xiangchuang.chinatime import china_date
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.errors import Forbidden, InvalidTransition, NotFound, ValidationFailed
from xiangchuang.loans import queries, settlement
from xiangchuang.loans import repository as repo
from xiangchuang.loans import service as loans
from xiangchuang.loans.workflow import LOAN_ROLES, STATE_LABELS, allowed_actions, find_row
from xiangchuang.models import Business, Founder, Person, User
from xiangchuang.models.loans import LOAN_KINDS, REPAYMENT_METHODS
from xiangchuang.registry.assembler import person_district
from xiangchuang.web import workbench as wb
from xiangchuang.web.deps import MAX_ROW_ID, ParamsDep, SessionDep, StateDep, now_utc, require_role
from xiangchuang.web.loan_actor import user_actor
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)

LoanUser = Annotated[User, Depends(require_role(*LOAN_ROLES))]
Applicant = Annotated[User, Depends(require_role("applicant"))]
Settler = Annotated[User, Depends(require_role(*settlement.SETTLING_ROLES))]
KIND_LABELS = {
    "individual": "个人创业担保贷款",
    "partnership": "合伙创业担保贷款",
    "small_micro": "小微企业创业担保贷款",
}
METHOD_LABELS = {
    "equal_principal": "等额本金",
    "equal_instalment": "等额本息",
    "interest_only_bullet": "按期付息、到期还本",
}
REPAY_ACTIONS = ("record_repayment", "settle", "cure", "cure_extended")


def fen(text: str | None, what: str) -> int:
    """Yuan typed in a form → integer fen (two decimals at most)."""
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed(f"{what}：须为金额（元，最多两位小数）") from None
    cents = value * 100
    if cents != cents.to_integral_value() or value < 0:
        raise ValidationFailed(f"{what}：须为非负金额，最多两位小数")
    return int(cents)


def _int(text: str | None, what: str) -> int:
    t = (text or "").strip()
    if not t.isdigit() or int(t) > MAX_ROW_ID:  # past a database integer: a 422, not a server error
        raise ValidationFailed(f"{what}：须为不超过 {MAX_ROW_ID} 的正整数")
    return int(t)


def _date(text: str | None, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None


@router.get("/loans")
def loan_list(request: Request, user: LoanUser, db: SessionDep, state: str | None = None) -> Response:
    actor = user_actor(user)
    rows = queries.loans_for(db, actor, state=state if state in STATE_LABELS else None)
    todo = {loan.id for loan in rows if allowed_actions(loan.state, user.role)}
    return render(
        request,
        "loans/list.html",
        {
            "loans": rows,
            "todo": todo,
            "state_labels": STATE_LABELS,
            "kind_labels": KIND_LABELS,
            "filter": state,
            "is_applicant": user.role == "applicant",
            "is_clerk": user.role == "window_clerk",
        },
    )


@router.get("/loans/new")
def new_loan(request: Request, user: Applicant, db: SessionDep) -> Response:
    return render(
        request,
        "loans/new.html",
        {
            "kinds": KIND_LABELS,
            "has_business": user.business_id is not None,
            "districts": wb.district_options(),
        },
    )


@router.post("/loans/new")
def create_loan(
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Applicant,
    kind: Annotated[str, Form(max_length=20)],
    bank_code: Annotated[str, Form(max_length=20)],
    amount: Annotated[str, Form(max_length=20)],
    term_months: Annotated[str, Form(max_length=4)],
    purpose: Annotated[str, Form(max_length=200)],
    other_housing: Annotated[str | None, Form(max_length=20)] = None,
    district: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    if kind not in LOAN_KINDS or kind == "partnership":
        raise ValidationFailed(
            "贷款类型：网上申请可选个人或小微企业创业担保贷款（合伙创业请到街道/乡镇经办代办）"
        )
    person = db.get(Person, user.person_id) if user.person_id is not None else None
    business = db.get(Business, user.business_id) if user.business_id is not None else None
    if person is None and kind == "individual":
        raise ValidationFailed("借款人：您的账号未关联登记库中的人员，请到街道/乡镇经办核实")
    if business is None and kind == "small_micro":
        raise ValidationFailed("经营主体：您的账号未关联经营主体，不能申请小微企业贷款")
    today = china_date(now_utc())
    if person is None and business is not None:
        # An account linked only to its business borrows as the business's legal representative in
        # force (README choice 23), the person the engine reads as its founder.
        person = wb.applicant_person(db, user, on=today)
        if person is None:
            raise ValidationFailed(
                f"借款人：经营主体 {business.business_no} 在登记库中没有现任法定代表人（经营者），"
                "请到街道/乡镇经办核实"
            )
    borrower = person.person_no if person is not None else ""
    where = wb.applicant_district(db, user, on=today, chosen=district)
    other = (("housing", fen(other_housing, "住房贷款余额")),) if (other_housing or "").strip() else ()
    me = f"user:{user.id}"
    loan = loans.create_loan(
        db,
        request=loans.LoanRequest(
            kind=kind,
            borrower_person_no=borrower,
            business_no=business.business_no if (business is not None and kind == "small_micro") else None,
            district=where,
            bank_code=bank_code.strip(),
            amount_requested_fen=fen(amount, "申请金额"),
            term_months=_int(term_months, "申请期限（月）"),
            purpose=purpose,
            other_loans=other,
        ),
        applicant_user=me,
        actor=user_actor(user),
        audit_key=state.audit_key,
        params=params,
        now=now_utc(),
    )
    return RedirectResponse(f"/loans/{loan.id}", status_code=303)


Clerk = Annotated[User, Depends(require_role("window_clerk"))]


@router.get("/loans/on-behalf")
def on_behalf_page(request: Request, user: Clerk) -> Response:
    return render(request, "loans/on_behalf.html", {"kinds": KIND_LABELS})


@router.post("/loans/on-behalf")
def create_on_behalf(
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Clerk,
    kind: Annotated[str, Form(max_length=20)],
    borrower_person_no: Annotated[str, Form(max_length=64)],
    bank_code: Annotated[str, Form(max_length=20)],
    amount: Annotated[str, Form(max_length=20)],
    term_months: Annotated[str, Form(max_length=4)],
    purpose: Annotated[str, Form(max_length=200)],
    business_no: Annotated[str | None, Form(max_length=64)] = None,
    partners: Annotated[str | None, Form(max_length=400)] = None,
) -> Response:
    """事务代办: a 街道/乡镇 clerk makes the application for a borrower of their district who has an account."""
    person_no = borrower_person_no.strip()
    account = db.execute(
        select(User)
        .join(Person, Person.id == User.person_id)
        .where(Person.person_no == person_no, User.role == "applicant", User.disabled.is_(False))
    ).scalar_one_or_none()
    if account is None:
        raise ValidationFailed("借款人编号：登记库中没有该人员，或该人员尚未开通申请人账号")
    person = db.get(Person, account.person_id)
    business = db.get(Business, account.business_id) if account.business_id is not None else None
    # The borrower's districts: the account's business and where the engine files the person (where
    # they founded, else work) — never the 户籍 (README choice 12).
    filed = person_district(db, person.person_no, on=china_date(now_utc())) if person is not None else None
    home = {d for d in (filed, business.district if business else None) if d}
    if user.district not in home:
        raise Forbidden("借款人不属于本区县（登记库中其创办或就业的经营主体均不在本区县），不能代办")
    assert user.district is not None
    named_no = (business_no or "").strip()
    if named_no:  # the borrowing business: one of this district's, founded by the borrower
        named = db.execute(select(Business).where(Business.business_no == named_no)).scalar_one_or_none()
        if named is None or named.district != user.district:
            raise NotFound(f"经营主体编号：本区县登记库中没有经营主体 {named_no}")
        founders = db.scalars(select(Founder.person_id).where(Founder.business_id == named.id)).all()
        if person is None or person.id not in founders:
            raise Forbidden(f"经营主体编号：借款人不是经营主体 {named_no} 的创办人，不能以该主体代办贷款")
    loan = loans.create_loan(
        db,
        request=loans.LoanRequest(
            kind=kind,
            borrower_person_no=person_no,
            business_no=(business_no or "").strip() or None,
            district=user.district,
            bank_code=bank_code.strip(),
            amount_requested_fen=fen(amount, "申请金额"),
            term_months=_int(term_months, "申请期限（月）"),
            purpose=purpose,
            partners=tuple(p.strip() for p in (partners or "").replace("，", ",").split(",") if p.strip()),
        ),
        applicant_user=f"user:{account.id}",
        actor=user_actor(user),
        audit_key=state.audit_key,
        params=params,
        now=now_utc(),
    )
    return RedirectResponse(f"/loans/{loan.id}", status_code=303)


def beijing(moment: dt.datetime) -> str:
    """A stored UTC time (naive on SQLite) as Beijing time for display."""
    aware = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
    return aware.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")


def _district_name(code: int) -> str:
    return district_by_code(code).name if is_district(code) else str(code)


def _detail_context(db: SessionDep, params: ParamsDep, user: User, loan_id: int) -> dict[str, Any]:
    actor = user_actor(user)
    loan = loans.get_loan(db, loan_id=loan_id, actor=actor)
    today = china_date(now_utc())
    moves = [] if user.role == "city_admin" else allowed_actions(loan.state, user.role)
    lpr = cap = None
    if any(r.action == "sign_contract" for r in moves):
        lpr = params["loan.lpr_1y_bp"].value_at(today)
        cap = loans.rate_cap_bp(params, today, loan.district)
    return {
        "loan": loan,
        "timeline": queries.timeline(db, loan.id),
        "schedule": repo.current_schedule(db, loan.id),
        "repayments": repo.repayments(db, loan.id),
        "lines": queries.subsidy_lines(db, loan.id),
        "moves": moves,
        "repay_moves": [r for r in moves if r.action in REPAY_ACTIONS],
        "other_moves": [r for r in moves if r.action not in REPAY_ACTIONS],
        "is_applicant": user.role == "applicant",
        "state_labels": STATE_LABELS,
        "kind_labels": KIND_LABELS,
        "method_labels": METHOD_LABELS,
        "waiver_grounds": loans.WAIVER_GROUNDS,
        "lpr": lpr,
        "cap": cap,
        "methods": REPAYMENT_METHODS,
        "today": today.isoformat(),
        "beijing": beijing,
        "district_name": _district_name(loan.district),
    }


@router.get("/loans/{loan_id}")
def loan_page(loan_id: int, request: Request, user: LoanUser, db: SessionDep, params: ParamsDep) -> Response:
    return render(request, "loans/detail.html", _detail_context(db, params, user, loan_id))


@router.post("/loans/{loan_id}/act/{action}")
async def loan_act(
    loan_id: int,
    action: str,
    request: Request,
    user: LoanUser,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
) -> Response:
    actor = user_actor(user)
    loan = loans.get_loan(db, loan_id=loan_id, actor=actor)
    rows = {r.action for r in allowed_actions(loan.state, user.role)}
    if user.role == "city_admin" or (
        action not in rows and not (action == "record_repayment" and rows & set(REPAY_ACTIONS))
    ):
        if find_row(loan.state, action) is None:
            raise InvalidTransition(f"贷款当前状态“{STATE_LABELS[loan.state]}”不能办理「{action}」")
        raise Forbidden("您的角色不能在贷款当前状态办理此项")
    form = await request.form()
    f = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    common: dict[str, Any] = {
        "loan_id": loan.id,
        "actor": actor,
        "audit_key": state.audit_key,
        "now": now_utc(),
    }
    version = _int(f.get("version"), "版本") if f.get("version") else None
    common["expected_version"] = version
    if action in ("submit", "withdraw", "accept", "refuse", "disburse"):
        loans.act(db, action=action, reason=f.get("reason"), **common)
    elif action == "pass_eligibility":
        loans.pass_eligibility(db, params=params, **common)
    elif action == "approve_guarantee":
        loans.approve_guarantee(
            db,
            guaranteed_amount_fen=fen(f.get("guaranteed_amount"), "担保金额"),
            counter_guarantee=f.get("counter_guarantee", ""),
            waiver_ground=f.get("waiver_ground") or None,
            params=params,
            **common,
        )
    elif action == "sign_contract":
        loans.sign_contract(
            db,
            terms=loans.ContractTerms(
                contract_no=f.get("contract_no", ""),
                amount_fen=fen(f.get("amount"), "合同金额"),
                rate_bp=_int(f.get("rate_bp"), "年利率（基点）"),
                contract_date=_date(f.get("contract_date"), "合同日期"),
                start_date=_date(f.get("start_date"), "起息日"),
                term_months=_int(f.get("term_months"), "期限（月）"),
                repayment_method=f.get("repayment_method", ""),
            ),
            params=params,
            **common,
        )
    elif action in REPAY_ACTIONS:
        loans.record_repayment(
            db,
            repayment_ref=f.get("repayment_ref", ""),
            paid_on=_date(f.get("paid_on"), "还款日期"),
            principal_fen=fen(f.get("principal"), "本金"),
            interest_fen=fen(f.get("interest"), "利息"),
            **common,
        )
    elif action == "mark_overdue":
        loans.mark_overdue(db, on=_date(f.get("on"), "逾期认定日期") if f.get("on") else None, **common)
    elif action == "extend":
        loans.extend(
            db, months=_int(f.get("months"), "展期月数"), reason=f.get("reason"), params=params, **common
        )
    else:
        raise InvalidTransition(f"「{action}」不是贷款办理事项")
    return RedirectResponse(f"/loans/{loan.id}", status_code=303)


# --- quarterly settlement (区县财政 / 市级) -----------------------------------------------------------


@router.get("/loans-settlement")
def settlement_page(request: Request, user: Settler) -> Response:
    return render(request, "loans/settlement.html", {"report": None, "district": user.district})


@router.post("/loans-settlement")
def settle(
    request: Request,
    user: Settler,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    quarter: Annotated[str, Form(max_length=6)],
    bank: Annotated[str | None, Form(max_length=20)] = None,
) -> Response:
    settlement.quarter_bounds(quarter)
    # Each loan in a savepoint of the request's transaction (a failed loan leaves nothing written, the
    # others go on); all of it commits with the request, so SQLite never sees two writers.
    per_loan = sessionmaker(
        bind=db.connection(), join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    report = settlement.settle_quarter(
        per_loan,
        quarter=quarter.strip(),
        actor=user_actor(user),
        audit_key=state.audit_key,
        district=user.district if user.role == "district_finance" else None,
        bank=(bank or "").strip() or None,
        params=params,
        now=now_utc(),
    )
    return render(request, "loans/settlement.html", {"report": report, "district": user.district})


@router.get("/loans-settlement/{quarter}/statement.xlsx")
def statement(quarter: str, user: Settler, db: SessionDep, state: StateDep) -> Response:
    settlement.quarter_bounds(quarter)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"statement-{quarter}.xlsx"
        settlement.export_statement(
            db,
            quarter=quarter,
            path=path,
            actor=user_actor(user),
            audit_key=state.audit_key,
            district=user.district if user.role == "district_finance" else None,
        )
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"content-disposition": f'attachment; filename="loan-subsidy-{quarter}.xlsx"'},
    )
