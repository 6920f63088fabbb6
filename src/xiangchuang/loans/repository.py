"""Queries of the loan service (no business rules here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiangchuang.models import Loan, LoanInstalment, LoanPeriod, LoanRepayment, LoanSubsidyLine

SUBSIDISED_STATES = ("repaying", "overdue", "extended", "settled")


def load(session: Session, loan_id: int) -> Loan | None:
    """The loan as it is now in the database (never a stale identity-map copy)."""
    return session.execute(
        select(Loan).where(Loan.id == loan_id).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def by_contract(session: Session, contract_no: str) -> Loan | None:
    return session.execute(select(Loan).where(Loan.contract_no == contract_no)).scalar_one_or_none()


def current_schedule(session: Session, loan_id: int) -> list[LoanInstalment]:
    """The instalments in force (not superseded by an extension), in due order."""
    return list(
        session.scalars(
            select(LoanInstalment)
            .where(LoanInstalment.loan_id == loan_id, LoanInstalment.superseded.is_(False))
            .order_by(LoanInstalment.due_date, LoanInstalment.schedule_no, LoanInstalment.seq)
        )
    )


def repayments(session: Session, loan_id: int) -> list[LoanRepayment]:
    return list(
        session.scalars(
            select(LoanRepayment)
            .where(LoanRepayment.loan_id == loan_id)
            .order_by(LoanRepayment.paid_on, LoanRepayment.id)
        )
    )


def repayment_by_ref(session: Session, loan_id: int, ref: str) -> LoanRepayment | None:
    return session.execute(
        select(LoanRepayment).where(LoanRepayment.loan_id == loan_id, LoanRepayment.repayment_ref == ref)
    ).scalar_one_or_none()


def principal_repaid(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LoanRepayment.principal_fen), 0)).where(
            LoanRepayment.loan_id == loan_id
        )
    )
    return int(total or 0)


def total_repaid(session: Session, loan_id: int) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(LoanRepayment.principal_fen + LoanRepayment.interest_fen), 0)).where(
            LoanRepayment.loan_id == loan_id
        )
    )
    return int(total or 0)


def periods(session: Session, loan_id: int, kind: str | None = None) -> list[LoanPeriod]:
    stmt = select(LoanPeriod).where(LoanPeriod.loan_id == loan_id)
    if kind is not None:
        stmt = stmt.where(LoanPeriod.kind == kind)
    return list(session.scalars(stmt.order_by(LoanPeriod.start_date, LoanPeriod.id)))


def open_overdue(session: Session, loan_id: int) -> LoanPeriod | None:
    return session.execute(
        select(LoanPeriod).where(
            LoanPeriod.loan_id == loan_id, LoanPeriod.kind == "overdue", LoanPeriod.end_date.is_(None)
        )
    ).scalar_one_or_none()


def loans_to_settle(
    session: Session, *, start: dt.date, end: dt.date, district: int | None, bank: str | None
) -> Sequence[int]:
    """Contracted loans whose interest could run in [start, end], for a quarter's settlement."""
    stmt = select(Loan.id).where(
        Loan.state.in_(SUBSIDISED_STATES),
        Loan.subsidy_eligible.is_(True),
        Loan.start_date <= end,
        Loan.maturity_date > start,
    )
    if district is not None:
        stmt = stmt.where(Loan.district == district)
    if bank is not None:
        stmt = stmt.where(Loan.bank_code == bank)
    return list(session.scalars(stmt.order_by(Loan.id)))


def subsidy_line(session: Session, loan_id: int, quarter: str) -> LoanSubsidyLine | None:
    return session.execute(
        select(LoanSubsidyLine).where(LoanSubsidyLine.loan_id == loan_id, LoanSubsidyLine.quarter == quarter)
    ).scalar_one_or_none()


def subsidy_lines(
    session: Session, *, quarter: str, district: int | None, bank: str | None
) -> list[tuple[LoanSubsidyLine, Loan]]:
    stmt = (
        select(LoanSubsidyLine, Loan)
        .join(Loan, Loan.id == LoanSubsidyLine.loan_id)
        .where(LoanSubsidyLine.quarter == quarter)
    )
    if district is not None:
        stmt = stmt.where(LoanSubsidyLine.district == district)
    if bank is not None:
        stmt = stmt.where(LoanSubsidyLine.bank_code == bank)
    return [(line, loan) for line, loan in session.execute(stmt.order_by(Loan.loan_no)).all()]
