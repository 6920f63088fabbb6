"""The loan workflow: the full path, refusals at each step, the counter-guarantee waiver, contracts
against LPR and caps, repayments, overdue and extension, scope, audit and notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.loans import (
    ACTORS,
    APPLY,
    BANK,
    D2,
    KEY,
    PARAMS,
    SIGN,
    D,
    at,
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
from xiangchuang.audit.chain import verify
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, ValidationFailed
from xiangchuang.loans import service
from xiangchuang.loans.service import Actor
from xiangchuang.loans.workflow import LOAN_TABLE, STATE_LABELS
from xiangchuang.models import (
    AuditEvent,
    LoanDetermination,
    LoanInstalment,
    LoanPeriod,
    LoanTransition,
    OutboxMessage,
    Person,
    PersonGroup,
)


def _count(engine, model, *where):
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _schedule(engine, loan_id):
    with Session(engine) as s:
        return list(
            s.scalars(
                select(LoanInstalment)
                .where(LoanInstalment.loan_id == loan_id, LoanInstalment.superseded.is_(False))
                .order_by(LoanInstalment.due_date)
            )
        )


def test_the_table_is_complete_and_labelled():
    for row in LOAN_TABLE:
        assert row.from_state in STATE_LABELS and row.to_state in STATE_LABELS
        assert row.staff_label and row.applicant_label and row.roles
    for state in ("repaying", "overdue", "extended"):  # every repayable state can record and settle
        assert {r.action for r in LOAN_TABLE if r.from_state == state} >= {"record_repayment", "settle"}
    assert STATE_LABELS["refused"] == "不予支持" and STATE_LABELS["extended"] == "展期"


def test_the_full_path_from_application_to_settled(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    assert loan_row(db_engine, loan_id).state == "draft"
    submit_and_accept(db_engine, loan_id)
    result = eligible(db_engine, loan_id)
    loan = result.loan
    assert loan.state == "guarantee_review"
    assert loan.max_amount_fen == 20_000_000  # the requested 200,000 within the 2025-06 ceiling of 500,000
    assert loan.subsidy_eligible is True
    det = {d.program: d for d in result.determinations}
    assert det["loan_individual"].status == "eligible" and det["loan_individual"].stage == "eligibility"
    assert det["loan_individual"].facts["loans"]["columns"]["amount_fen"] == [20_000_000]
    assert det["loan_individual"].result["parameters_version"] == PARAMS.version

    loan = guarantee(db_engine, loan_id).loan
    assert (loan.state, loan.counter_guarantee, loan.waiver_ground) == ("bank_review", "required", None)
    signed = sign(db_engine, loan_id)
    loan = signed.loan
    assert loan.state == "contracted"
    assert (loan.lpr_bp, loan.rate_bp, loan.maturity_date) == (300, 350, dt.date(2028, 4, 10))
    assert {d.program for d in signed.determinations} == {"loan_individual", "loan_interest_subsidy"}
    plan = _schedule(db_engine, loan_id)
    assert len(plan) == 24 and sum(i.principal_fen for i in plan) == 20_000_000
    assert plan[0].due_date == dt.date(2026, 5, 10)
    run(
        db_engine,
        service.act,
        loan_id=loan_id,
        action="disburse",
        actor=ACTORS["bank"],
        audit_key=KEY,
        now=SIGN,
    )
    for k, inst in enumerate(plan[:-1], start=1):
        assert (
            repay(
                db_engine, loan_id, f"R{k}", inst.due_date, inst.principal_fen, inst.interest_fen
            ).loan.state
            == "repaying"
        )
    last = plan[-1]
    final = repay(db_engine, loan_id, "R24", last.due_date, last.principal_fen, last.interest_fen)
    assert (
        final.loan.state == "settled"
        and final.loan.live_key is None
        and final.loan.settled_on == last.due_date
    )
    assert _count(db_engine, LoanPeriod) == 0  # always on time: no overdue period

    with Session(db_engine) as s:
        assert verify(s, KEY) is None
        actions = list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
        assert actions[:8] == [
            "loan.create",
            "loan.submit",
            "loan.accept",
            "loan.pass_eligibility",
            "loan.approve_guarantee",
            "loan.sign_contract",
            "loan.disburse",
            "loan.record_repayment",
        ]
        assert actions[-1] == "loan.settle"
        notices = list(
            s.scalars(
                select(OutboxMessage.template).where(OutboxMessage.recipient_user == ACTORS["applicant"].user)
            )
        )
        assert "loan.contracted" in notices and "loan.settled" in notices
        tasks = s.scalars(
            select(OutboxMessage.recipient_role).where(OutboxMessage.template == "loan.task")
        ).all()
        assert {"guarantee_fund", "bank", "district_reviewer"} <= set(tasks)
    assert (
        _count(db_engine, LoanTransition, LoanTransition.loan_id == loan_id) == 6 + 24
    )  # submit … disburse, then 24 repayments


def test_small_micro_and_partnership_loans(db_engine, pii):
    setup(db_engine, pii)
    sm = create(db_engine, person="P-SM", kind="small_micro", business_no="B-SM", amount_yuan=8_000_000)
    submit_and_accept(db_engine, sm)
    assert eligible(db_engine, sm).loan.max_amount_fen == 600_000_000  # capped at the 2025-06 ceiling
    part = create(
        db_engine, person="P-PART", kind="partnership", partners=["P-PART", "P-LOAN"], amount_yuan=2_000_000
    )
    submit_and_accept(db_engine, part)
    # 550,000 per partner × 2 = 1,100,000 (within the 6,000,000 total)
    assert eligible(db_engine, part).loan.max_amount_fen == 110_000_000
    ghost = create(
        db_engine, person="P-NONE", kind="partnership", partners=["P-NONE", "P-GHOST"], amount_yuan=300_000
    )
    submit_and_accept(db_engine, ghost)
    with pytest.raises(InvalidTransition, match="P-GHOST"):
        eligible(db_engine, ghost)


def test_one_live_loan_per_borrower(db_engine, pii):
    setup(db_engine, pii)
    create(db_engine)
    with pytest.raises(Conflict, match="已有未结清"):
        create(db_engine)


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"kind": "mortgage"}, "kind"),
        ({"amount_yuan": 0}, "amount_requested_fen"),
        ({"term_months": 0}, "term_months"),
        ({"purpose": ""}, "purpose"),
        ({"bank_code": "银行"}, "bank_code"),
        ({"kind": "small_micro"}, "business_no"),
        ({"kind": "partnership", "partners": ["P-LOAN"]}, "partners"),
        ({"other_loans": [("gambling", 1)]}, "其他贷款第1笔"),
        ({"purpose": "联系 13800001234"}, "手机号"),
    ],
)
def test_a_malformed_application_names_the_field(db_engine, pii, changes, fragment):
    setup(db_engine, pii)
    with pytest.raises(ValidationFailed, match=fragment):
        create(db_engine, **changes)


# --- refusals at each step -----------------------------------------------------------------------


def test_hrss_cannot_pass_an_ineligible_borrower_and_refuses_with_the_determination(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine, person="P-NONE")
    submit_and_accept(db_engine, loan_id)
    with pytest.raises(InvalidTransition, match="不属于创业担保贷款扶持范围"):
        eligible(db_engine, loan_id)
    assert loan_row(db_engine, loan_id).state == "hrss_review"
    assert _count(db_engine, LoanDetermination) == 0  # the refused move left nothing
    with pytest.raises(ValidationFailed, match="原因"):
        run(
            db_engine,
            service.refuse,
            loan_id=loan_id,
            actor=ACTORS["district_reviewer"],
            audit_key=KEY,
            reason=" ",
            now=APPLY,
        )
    result = run(
        db_engine,
        service.refuse,
        loan_id=loan_id,
        actor=ACTORS["district_reviewer"],
        audit_key=KEY,
        reason="借款人不属于扶持范围",
        now=APPLY,
        params=PARAMS,
    )
    assert result.loan.state == "refused" and result.loan.live_key is None
    assert result.loan.decision_reason == "借款人不属于扶持范围"
    assert [d.status for d in result.determinations] == ["ineligible"]
    create(db_engine, person="P-NONE")  # refused: the borrower may apply again


def test_a_blocking_declared_loan_makes_the_borrower_ineligible(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine, other_loans=[("business", 5_000_000)])
    submit_and_accept(db_engine, loan_id)
    with pytest.raises(InvalidTransition, match="其他未结清贷款"):
        eligible(db_engine, loan_id)


def test_guarantee_fund_and_bank_refusals(db_engine, pii):
    setup(db_engine, pii)
    first = create(db_engine)
    submit_and_accept(db_engine, first)
    eligible(db_engine, first)
    refused = run(
        db_engine,
        service.refuse,
        loan_id=first,
        actor=ACTORS["guarantee_fund"],
        audit_key=KEY,
        reason="项目风险过高",
        now=APPLY,
    )
    assert refused.loan.state == "refused"
    second = create(db_engine)
    submit_and_accept(db_engine, second)
    eligible(db_engine, second)
    guarantee(db_engine, second)
    bank = run(
        db_engine,
        service.refuse,
        loan_id=second,
        actor=ACTORS["bank"],
        audit_key=KEY,
        reason="授信不足",
        now=APPLY,
    )
    assert bank.loan.state == "refused" and bank.loan.decision_reason == "授信不足"
    with Session(db_engine) as s:
        reasons = s.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.template == "loan.refused")
        ).all()
        assert {p["reason"] for p in reasons} == {"项目风险过高", "授信不足"}


def test_the_applicant_withdraws_before_review_only(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    run(
        db_engine,
        service.act,
        loan_id=loan_id,
        action="submit",
        actor=ACTORS["applicant"],
        audit_key=KEY,
        now=APPLY,
    )
    run(
        db_engine,
        service.act,
        loan_id=loan_id,
        action="accept",
        actor=ACTORS["district_reviewer"],
        audit_key=KEY,
        now=APPLY,
    )
    with pytest.raises(InvalidTransition, match="人社审核"):
        run(
            db_engine,
            service.act,
            loan_id=loan_id,
            action="withdraw",
            actor=ACTORS["applicant"],
            audit_key=KEY,
            now=APPLY,
        )


# --- counter-guarantee waiver -------------------------------------------------------------------------


def test_a_waiver_is_recorded_with_its_ground_and_checked_by_the_engine(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine, amount_yuan=150_000)
    submit_and_accept(db_engine, loan_id)
    eligible(db_engine, loan_id)
    # 150,000 is above the 100,000 of the small-new-loan ground: refused, naming the ground and the rule
    with pytest.raises(ValidationFailed, match=r"small_new_individual.*不成立"):
        guarantee(
            db_engine, loan_id, 150_000, counter_guarantee="waived", waiver_ground="small_new_individual"
        )
    with pytest.raises(ValidationFailed, match="waiver_ground"):
        guarantee(db_engine, loan_id, 100_000, counter_guarantee="waived")
    with pytest.raises(ValidationFailed, match="waiver_ground"):
        guarantee(db_engine, loan_id, 100_000, counter_guarantee="waived", waiver_ground="friendship")
    with pytest.raises(ValidationFailed, match="最高贷款额度"):
        guarantee(db_engine, loan_id, 150_001)
    assert loan_row(db_engine, loan_id).state == "guarantee_review"
    # 100,000 (以下 includes the bound): the ground holds, and is recorded with the engine's evidence
    result = guarantee(
        db_engine, loan_id, 100_000, counter_guarantee="waived", waiver_ground="small_new_individual"
    )
    assert (result.loan.counter_guarantee, result.loan.waiver_ground) == ("waived", "small_new_individual")
    det = result.determinations[0]
    assert det.stage == "guarantee" and det.program == "counter_guarantee_waiver"
    assert "small_new_individual" in det.result["any_of"]["satisfied_by"]
    with Session(db_engine) as s:
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action == "loan.approve_guarantee")).one()
        assert "small_new_individual" in str(audit.details)
    # the contract may not exceed the guaranteed amount
    with pytest.raises(ValidationFailed, match="超过担保金额"):
        sign(db_engine, loan_id, amount_fen=10_000_001)


def test_a_waiver_needs_the_loan_itself_to_qualify(db_engine, pii):
    """README choice 80: the ground (a new loan of 100,000) holds, but the borrower's group record was
    withdrawn after the 人社 review; the engine's waiver is then ineligible and the fund may not waive."""
    setup(db_engine, pii)
    loan_id = create(db_engine, amount_yuan=100_000)
    submit_and_accept(db_engine, loan_id)
    eligible(db_engine, loan_id)
    with db_engine.begin() as conn:
        pid = conn.scalar(select(Person.id).where(Person.person_no == "P-LOAN"))
        conn.execute(PersonGroup.__table__.delete().where(PersonGroup.person_id == pid))
    with pytest.raises(ValidationFailed, match=r"成立，但贷款本身须符合.*扶持范围"):
        guarantee(
            db_engine, loan_id, 100_000, counter_guarantee="waived", waiver_ground="small_new_individual"
        )
    assert loan_row(db_engine, loan_id).state == "guarantee_review"


def test_loan_determinations_cannot_be_updated(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    submit_and_accept(db_engine, loan_id)
    eligible(db_engine, loan_id)
    with pytest.raises(DBAPIError, match="不可修改"), db_engine.begin() as conn:
        conn.execute(update(LoanDetermination).values(status="eligible", amount_fen=1))


# --- contract -----------------------------------------------------------------------------------------


def _at_bank_review(engine, pii):
    setup(engine, pii)
    loan_id = create(engine)
    submit_and_accept(engine, loan_id)
    eligible(engine, loan_id)
    guarantee(engine, loan_id)
    return loan_id


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"rate_bp": 351}, r"年利率（rate_bp）351 基点超过上限 350 基点.*LPR 300"),
        ({"term_months": 37}, r"贷款期限（term_months）37 个月超过个人创业担保贷款最长期限 36 个月"),
        ({"amount_fen": 20_000_001}, "超过人社核定的最高额度"),
        ({"repayment_method": "balloon"}, "还款方式（repayment_method）"),
        ({"contract_no": ""}, "合同编号（contract_no）"),
        ({"start_date": dt.date(2026, 4, 9)}, "起息日（start_date）"),
        ({"contract_date": dt.date(2026, 4, 11)}, "不能晚于今天"),
    ],
)
def test_a_contract_outside_the_rules_is_refused(db_engine, pii, changes, fragment):
    loan_id = _at_bank_review(db_engine, pii)
    with pytest.raises(ValidationFailed, match=fragment):
        sign(db_engine, loan_id, **changes)
    assert loan_row(db_engine, loan_id).state == "bank_review"
    assert _count(db_engine, LoanInstalment) == 0


def test_the_lpr_is_the_one_in_force_on_the_contract_date(db_engine, pii):
    loan_id = _at_bank_review(db_engine, pii)
    # a contract dated 2025-05-19 had LPR 310 and the 2023 cap LPR + 150bp: 460 is allowed
    loan = sign(
        db_engine, loan_id, contract_date=dt.date(2025, 5, 19), start_date=dt.date(2025, 5, 20), rate_bp=460
    ).loan
    assert (loan.lpr_bp, loan.rate_bp) == (310, 460)


def test_a_contract_number_is_unique(db_engine, pii):
    first = _at_bank_review(db_engine, pii)
    sign(db_engine, first)
    second = create(db_engine, person="P-PART")
    submit_and_accept(db_engine, second)
    eligible(db_engine, second)
    guarantee(db_engine, second)
    with pytest.raises(Conflict, match="HT2026-0001"):
        sign(db_engine, second)


# --- repayments, overdue, extension ------------------------------------------------------------------


def test_late_repayment_overdue_and_cure(db_engine, pii):
    setup(db_engine, pii)
    loan_id = contracted(db_engine)
    plan = _schedule(db_engine, loan_id)
    repay(db_engine, loan_id, "R1", plan[0].due_date, plan[0].principal_fen, plan[0].interest_fen)
    with pytest.raises(InvalidTransition, match="没有到期未还"):
        run(
            db_engine,
            service.mark_overdue,
            loan_id=loan_id,
            actor=ACTORS["bank"],
            audit_key=KEY,
            now=at(plan[1].due_date),
        )
    marked = run(
        db_engine,
        service.mark_overdue,
        loan_id=loan_id,
        actor=ACTORS["bank"],
        audit_key=KEY,
        now=at(dt.date(2026, 6, 15)),
    )
    assert marked.loan.state == "overdue"
    # a partial payment leaves it overdue; paying the arrears cures it
    partial = repay(db_engine, loan_id, "R2a", dt.date(2026, 6, 16), 0, 10_000)
    assert partial.loan.state == "overdue"
    rest = plan[1].principal_fen + plan[1].interest_fen - 10_000
    cured = repay(
        db_engine, loan_id, "R2b", dt.date(2026, 6, 18), plan[1].principal_fen, rest - plan[1].principal_fen
    )
    assert cured.loan.state == "repaying" and cured.details["late"] is True
    with Session(db_engine) as s:
        period = s.scalars(select(LoanPeriod)).one()
        assert (period.kind, period.start_date, period.end_date) == (
            "overdue",
            dt.date(2026, 6, 11),
            dt.date(2026, 6, 18),
        )
    # the bank's transaction number is idempotent: a replay changes nothing, different content conflicts
    again = repay(
        db_engine, loan_id, "R2b", dt.date(2026, 6, 18), plan[1].principal_fen, rest - plan[1].principal_fen
    )
    assert again.details == {"replayed": True}
    with pytest.raises(Conflict, match="R2b"):
        repay(db_engine, loan_id, "R2b", dt.date(2026, 6, 18), 1, 0)
    with pytest.raises(ValidationFailed, match="超过贷款余额"):
        repay(db_engine, loan_id, "R3", dt.date(2026, 6, 20), 20_000_000, 0)


def test_a_late_payment_without_marking_records_its_overdue_days(db_engine, pii):
    setup(db_engine, pii)
    loan_id = contracted(db_engine)
    plan = _schedule(db_engine, loan_id)
    result = repay(
        db_engine, loan_id, "R1", dt.date(2026, 5, 13), plan[0].principal_fen, plan[0].interest_fen
    )
    assert result.loan.state == "repaying" and result.details["late"] is True
    with Session(db_engine) as s:
        period = s.scalars(select(LoanPeriod)).one()
        assert (period.start_date, period.end_date) == (dt.date(2026, 5, 11), dt.date(2026, 5, 13))


def test_extension_reschedules_and_is_limited(db_engine, pii):
    setup(db_engine, pii)
    loan_id = contracted(db_engine, term_months=6, repayment_method="interest_only_bullet")
    plan = _schedule(db_engine, loan_id)
    for k, inst in enumerate(plan[:3], start=1):
        repay(db_engine, loan_id, f"R{k}", inst.due_date, inst.principal_fen, inst.interest_fen)
    ext = dict(
        loan_id=loan_id, actor=ACTORS["bank"], audit_key=KEY, now=at(dt.date(2026, 7, 20)), params=PARAMS
    )
    with pytest.raises(ValidationFailed, match=r"展期月数（months）7 超过上限 6 个月"):
        run(db_engine, service.extend, months=7, reason="经营周期延长", **ext)
    with pytest.raises(ValidationFailed, match="原因"):
        run(db_engine, service.extend, months=3, reason=None, **ext)
    result = run(db_engine, service.extend, months=3, reason="经营周期延长", **ext)
    loan = result.loan
    assert loan.state == "extended" and loan.extended_maturity_date == dt.date(2027, 1, 10)
    new = _schedule(db_engine, loan_id)
    assert len(new) == 9 and sum(i.principal_fen for i in new) == 20_000_000
    assert new[-1].due_date == dt.date(2027, 1, 10) and new[-1].principal_fen == 20_000_000
    with Session(db_engine) as s:
        period = s.scalars(select(LoanPeriod)).one()
        assert (period.kind, period.start_date, period.end_date) == (
            "extension",
            dt.date(2026, 10, 10),
            dt.date(2027, 1, 9),
        )
    with pytest.raises(InvalidTransition):
        run(db_engine, service.extend, months=1, reason="再次展期", **ext)


# --- scope ---------------------------------------------------------------------------------------------


def test_scope_refusals(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    submit_and_accept(db_engine, loan_id)
    with pytest.raises(Forbidden, match="其他区县"):
        run(
            db_engine,
            service.pass_eligibility,
            loan_id=loan_id,
            actor=Actor("u-x", "district_reviewer", D2),
            audit_key=KEY,
            now=APPLY,
            params=PARAMS,
        )
    with pytest.raises(Forbidden, match="经办银行"):
        run(
            db_engine,
            service.pass_eligibility,
            loan_id=loan_id,
            actor=ACTORS["bank"],
            audit_key=KEY,
            now=APPLY,
            params=PARAMS,
        )
    eligible(db_engine, loan_id)
    with pytest.raises(Forbidden, match="其他区县"):
        guarantee(db_engine, loan_id, actor=Actor("u-fund2", "guarantee_fund", D2))
    with pytest.raises(Forbidden, match="不能执行"):
        guarantee(db_engine, loan_id, actor=ACTORS["district_reviewer"])
    guarantee(db_engine, loan_id)
    with pytest.raises(Forbidden, match="选择本行"):
        sign(db_engine, loan_id, actor=Actor("u-bank2", "bank", D, "ICBC"))
    with pytest.raises(Forbidden, match="选择本行"):
        sign(db_engine, loan_id, actor=Actor("u-bank3", "bank", D2, BANK))
    with pytest.raises(Forbidden, match="市级管理员"):
        sign(db_engine, loan_id, actor=ACTORS["city_admin"])
    with pytest.raises(Forbidden, match="本人"):
        run(db_engine, service.get_loan, loan_id=loan_id, actor=Actor("u-other", "applicant"))
    assert (
        run(db_engine, service.get_loan, loan_id=loan_id, actor=ACTORS["city_admin"]).state == "bank_review"
    )
    with pytest.raises(Forbidden, match="不能办理"):
        run(db_engine, service.get_loan, loan_id=loan_id, actor=Actor("u-f", "district_finance", D))
    assert loan_row(db_engine, loan_id).state == "bank_review"


def test_a_stale_version_is_a_conflict(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    with pytest.raises(Conflict, match="版本"):
        run(
            db_engine,
            service.act,
            loan_id=loan_id,
            action="submit",
            actor=ACTORS["applicant"],
            audit_key=KEY,
            now=APPLY,
            expected_version=7,
        )


def test_a_window_clerk_applies_on_behalf(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine, role="window_clerk")
    loan = loan_row(db_engine, loan_id)
    assert loan.on_behalf and loan.created_by == ACTORS["window_clerk"].user
    with pytest.raises(Forbidden):
        create(db_engine, person="P-PART", role="window_clerk", district=D2)


def test_a_rollback_leaves_no_trace(db_engine, pii):
    setup(db_engine, pii)
    loan_id = create(db_engine)
    before = _count(db_engine, AuditEvent)
    with pytest.raises(Forbidden):
        run(
            db_engine,
            service.act,
            loan_id=loan_id,
            action="submit",
            actor=ACTORS["bank"],
            audit_key=KEY,
            now=APPLY,
        )
    assert _count(db_engine, AuditEvent) == before
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM loan_transitions")).scalar_one() == 0
