"""Guaranteed loans (创业担保贷款 一网通办, clause 1.2): the loan, its immutable determinations, its
transition log, its repayment schedule, the repayments the bank records, its overdue and extension
periods, and the quarterly interest-subsidy lines.

- ``live_key`` is the borrowing subject (``individual|<person_no>`` or ``small_micro|<business_no>``)
  while the loan is live, NULL once refused, withdrawn or repaid in full: its unique constraint means a
  borrower holds at most one guaranteed loan (application or contract) at a time, also under
  concurrency. (财金〔2020〕21号 lets a borrower who repaid borrow again; it does not allow two at once.)
- ``version`` is the optimistic lock, as for applications.
- Loan determinations are written once and never updated (the migration adds a trigger).
- A subsidy line is unique per (loan, quarter): a quarter is settled once for a loan, whoever settles it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base, Fen

LOAN_KINDS = ("individual", "partnership", "small_micro")
LOAN_STATES = (
    "draft",
    "submitted",
    "hrss_review",
    "guarantee_review",
    "bank_review",
    "contracted",
    "repaying",
    "overdue",
    "extended",
    "settled",
    "refused",
    "withdrawn",
)
LOAN_ENDED_STATES = ("refused", "withdrawn", "settled")  # no longer live: live_key is NULL
REPAYMENT_METHODS = ("equal_principal", "equal_instalment", "interest_only_bullet")
LOAN_DETERMINATION_STAGES = ("eligibility", "guarantee", "contract")
LOAN_PERIOD_KINDS = ("overdue", "extension")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Loan(Base):
    __tablename__ = "loans"
    __table_args__ = (
        CheckConstraint(_in("state", LOAN_STATES), name="state_known"),
        CheckConstraint(_in("kind", LOAN_KINDS), name="kind_known"),
        CheckConstraint(
            f"(live_key IS NULL) = ({_in('state', LOAN_ENDED_STATES)})", name="live_key_iff_live"
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("amount_requested_fen > 0", name="requested_positive"),
        CheckConstraint("term_months_requested > 0", name="term_positive"),
        CheckConstraint("max_amount_fen IS NULL OR max_amount_fen >= 0", name="max_nonneg"),
        CheckConstraint(
            "guaranteed_amount_fen IS NULL OR guaranteed_amount_fen > 0", name="guaranteed_positive"
        ),
        CheckConstraint(
            "counter_guarantee IS NULL OR counter_guarantee IN ('required', 'waived')",
            name="counter_guarantee_known",
        ),
        CheckConstraint(
            "(counter_guarantee = 'waived') = (waiver_ground IS NOT NULL)", name="waiver_ground_iff_waived"
        ),
        CheckConstraint(
            "repayment_method IS NULL OR " + _in("repayment_method", REPAYMENT_METHODS), name="method_known"
        ),
        CheckConstraint(
            "(contract_no IS NULL) = (contract_amount_fen IS NULL) AND (contract_no IS NULL) = (rate_bp IS NULL)"
            " AND (contract_no IS NULL) = (start_date IS NULL) AND (contract_no IS NULL) = (maturity_date IS NULL)",
            name="contract_complete",
        ),
        CheckConstraint("contract_amount_fen IS NULL OR contract_amount_fen > 0", name="contract_positive"),
        CheckConstraint(
            "contract_amount_fen IS NULL OR max_amount_fen IS NULL OR contract_amount_fen <= max_amount_fen",
            name="contract_within_max",
        ),
        CheckConstraint("rate_bp IS NULL OR rate_bp >= 0", name="rate_nonneg"),
        CheckConstraint(
            "extended_maturity_date IS NULL OR extended_maturity_date > maturity_date", name="extension_later"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_no: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    borrower_person_no: Mapped[str] = mapped_column(String(64), index=True)
    business_no: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[int] = mapped_column(Integer, index=True)
    bank_code: Mapped[str] = mapped_column(String(20), index=True)  # 经办银行
    state: Mapped[str] = mapped_column(String(20), index=True)
    live_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    applicant_user: Mapped[str] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    on_behalf: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # 事务代办
    purpose: Mapped[str] = mapped_column(String(200))
    amount_requested_fen: Mapped[int] = mapped_column(Fen)
    term_months_requested: Mapped[int] = mapped_column(Integer)
    partners: Mapped[list[Any]] = mapped_column(JSON)  # person numbers of a partnership's partners
    other_loans: Mapped[list[Any]] = mapped_column(JSON)  # declared outstanding loans: {kind, amount_fen}
    # 人社 eligibility
    max_amount_fen: Mapped[int | None] = mapped_column(Fen)
    subsidy_eligible: Mapped[bool | None] = mapped_column(Boolean)
    # guarantee fund
    guaranteed_amount_fen: Mapped[int | None] = mapped_column(Fen)
    counter_guarantee: Mapped[str | None] = mapped_column(String(10))
    waiver_ground: Mapped[str | None] = mapped_column(String(40))
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    # bank contract
    contract_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    contract_amount_fen: Mapped[int | None] = mapped_column(Fen)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    lpr_bp: Mapped[int | None] = mapped_column(Integer)
    contract_date: Mapped[dt.date | None] = mapped_column(Date)
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    term_months: Mapped[int | None] = mapped_column(Integer)
    repayment_method: Mapped[str | None] = mapped_column(String(30))
    maturity_date: Mapped[dt.date | None] = mapped_column(Date)
    extended_maturity_date: Mapped[dt.date | None] = mapped_column(Date)
    settled_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class LoanDetermination(Base):
    """The engine's result for one loan program at one stage, with the facts and versions it used."""

    __tablename__ = "loan_determinations"
    __table_args__ = (CheckConstraint(_in("stage", LOAN_DETERMINATION_STAGES), name="stage_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    program: Mapped[str] = mapped_column(String(40))
    on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int | None] = mapped_column(Fen)
    facts: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine_version: Mapped[str] = mapped_column(String(20))
    parameters_version: Mapped[str] = mapped_column(String(80))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LoanTransition(Base):
    __tablename__ = "loan_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    from_state: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoanInstalment(Base):
    """One instalment of a repayment schedule. An extension supersedes the unpaid instalments and adds
    a new schedule (``schedule_no`` + 1) for the outstanding principal."""

    __tablename__ = "loan_instalments"
    __table_args__ = (
        UniqueConstraint("loan_id", "schedule_no", "seq"),
        CheckConstraint("principal_fen >= 0", name="principal_nonneg"),
        CheckConstraint("interest_fen >= 0", name="interest_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    schedule_no: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)  # months after the start date
    due_date: Mapped[dt.date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    covered_on: Mapped[dt.date | None] = mapped_column(Date)  # the day repayments covered it
    superseded: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")


class LoanRepayment(Base):
    """A repayment the bank recorded; ``repayment_ref`` is the bank's transaction number (idempotent)."""

    __tablename__ = "loan_repayments"
    __table_args__ = (
        UniqueConstraint("loan_id", "repayment_ref"),
        CheckConstraint("principal_fen >= 0", name="principal_nonneg"),
        CheckConstraint("interest_fen >= 0", name="interest_nonneg"),
        CheckConstraint("principal_fen + interest_fen > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    repayment_ref: Mapped[str] = mapped_column(String(40))
    paid_on: Mapped[dt.date] = mapped_column(Date)
    principal_fen: Mapped[int] = mapped_column(Fen)
    interest_fen: Mapped[int] = mapped_column(Fen)
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class LoanPeriod(Base):
    """An overdue (逾期) or extension (展期) period, days inclusive; an open overdue period has no end."""

    __tablename__ = "loan_periods"
    __table_args__ = (
        CheckConstraint(_in("kind", LOAN_PERIOD_KINDS), name="kind_known"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))


class LoanSubsidyLine(Base):
    """One loan's interest subsidy for one quarter (季度贴息), split city / district."""

    __tablename__ = "loan_subsidy_lines"
    __table_args__ = (
        UniqueConstraint("loan_id", "quarter"),
        CheckConstraint("city_fen >= 0 AND district_fen >= 0", name="parts_nonneg"),
        CheckConstraint("total_fen = city_fen + district_fen", name="parts_add_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    quarter: Mapped[str] = mapped_column(String(6), index=True)  # 2026Q3
    district: Mapped[int] = mapped_column(Integer, index=True)
    bank_code: Mapped[str] = mapped_column(String(20))
    subsidised_days: Mapped[int] = mapped_column(Integer)
    excluded_days: Mapped[int] = mapped_column(Integer)
    principal_days_city: Mapped[int] = mapped_column(Fen)  # Σ daily balance (fen·days), city ceiling
    principal_days_total: Mapped[int] = mapped_column(Fen)
    gov_bp_city: Mapped[int] = mapped_column(Integer)
    gov_bp_total: Mapped[int] = mapped_column(Integer)
    city_fen: Mapped[int] = mapped_column(Fen)
    district_fen: Mapped[int] = mapped_column(Fen)
    total_fen: Mapped[int] = mapped_column(Fen)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    settled_by: Mapped[str] = mapped_column(String(64))
    settled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
