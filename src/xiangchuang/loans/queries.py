"""Read-side queries for the loan pages and API: a role's list of loans, a loan's timeline and subsidy
lines. Scope: applicants see their own loans, district staff and the guarantee fund their district's, a
bank its own loans in its district, the city office every district."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from xiangchuang.loans.service import Actor
from xiangchuang.models import Loan, LoanDetermination, LoanSubsidyLine, LoanTransition

LIST_LIMIT = 500


def loans_for(session: Session, actor: Actor, *, state: str | None = None) -> list[Loan]:
    stmt = select(Loan).order_by(Loan.id.desc()).limit(LIST_LIMIT)
    if actor.role == "applicant":
        stmt = stmt.where(Loan.applicant_user == actor.user)
    elif actor.role == "bank":
        if not actor.bank:
            return []  # a bank account not yet tied to a bank code sees no loans (a NUL placeholder was a 503)
        stmt = stmt.where(Loan.district == actor.district, Loan.bank_code == actor.bank)
    elif actor.role in ("window_clerk", "district_reviewer", "guarantee_fund", "district_finance"):
        stmt = stmt.where(Loan.district == actor.district)
    elif actor.role != "city_admin":
        return []
    if state:
        stmt = stmt.where(Loan.state == state)
    return list(session.execute(stmt).scalars())


def timeline(session: Session, loan_id: int) -> list[LoanTransition]:
    return list(
        session.execute(
            select(LoanTransition).where(LoanTransition.loan_id == loan_id).order_by(LoanTransition.id)
        ).scalars()
    )


def subsidy_lines(session: Session, loan_id: int) -> list[LoanSubsidyLine]:
    return list(
        session.execute(
            select(LoanSubsidyLine)
            .where(LoanSubsidyLine.loan_id == loan_id)
            .order_by(LoanSubsidyLine.quarter)
        ).scalars()
    )


def determinations(session: Session, loan_id: int) -> list[LoanDetermination]:
    return list(
        session.execute(
            select(LoanDetermination)
            .where(LoanDetermination.loan_id == loan_id)
            .order_by(LoanDetermination.id)
        ).scalars()
    )
