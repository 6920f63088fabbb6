"""Guaranteed-loan indicators (创业担保贷款, clause 1.2 / 5.13): loans issued (number and amount), loans
and principal outstanding at the quarter's end, and the interest subsidy paid by funding source.

Sources are the loan tables themselves (``loans``, ``loan_transitions``, ``loan_repayments``,
``loan_subsidy_lines``); the subsidy paid is reconciled with the ledger's ``disburse`` entries of the
settlement to the fen (tests/stats/test_ind_loans.py).

- Issued: a loan the bank has disbursed (放款: a ``disburse`` transition), counted once, in the quarter of
  its start date (起息日) and its own district; amount = the contract amount.
- Outstanding: a stock at the quarter's end, built as a running sum of flows (cumulative indicator):
  + the contract amount on the start date, − each repayment's principal on its payment date (the same
  balance the subsidy settlement accrues on); loans: + 1 on the start date, − 1 on the day it was settled.
- Interest subsidy paid: each settled subsidy line's city part (市级及以上资金) and district part (区县财政),
  in the quarter it was settled (booked and paid to the bank in the same transaction).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, Select, String, cast, exists, literal, null, select, union_all

from xiangchuang.ledger.service import SOURCE_LABELS
from xiangchuang.loans.service import KIND_LABELS
from xiangchuang.models import Loan, LoanRepayment, LoanSubsidyLine, LoanTransition
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import Window

LOAN_KIND_DIMS = tuple(KIND_LABELS.items())
SOURCE_DIMS = tuple(SOURCE_LABELS.items())

register_group(Group("loans", "创业担保贷款", 55))


def _disbursed() -> Any:
    return exists(
        select(LoanTransition.id).where(
            LoanTransition.loan_id == Loan.id, LoanTransition.action == "disburse"
        )
    )


def _no_app() -> Any:
    return cast(null(), Integer())


def _issued(amount: str) -> Any:
    def source(w: Window) -> Select[Any]:
        value: Any = Loan.contract_amount_fen if amount == "contract" else literal(1, Integer())
        lo = w.since("date")
        stmt = select(
            Loan.id.label("entity"),
            Loan.district.label("district"),
            Loan.start_date.label("at"),
            Loan.kind.label("dim"),
            value.label("amount"),
            _no_app().label("application_id"),
        ).where(Loan.start_date.is_not(None), Loan.start_date < w.until("date"), _disbursed())
        if lo is not None:
            stmt = stmt.where(Loan.start_date >= lo)
        return stmt

    return source


def src_outstanding_principal(w: Window) -> Any:
    """+ contract amount on the start date, − principal of each repayment on its payment date."""
    until = w.until("date")
    lent = select(
        Loan.id.label("entity"),
        Loan.district.label("district"),
        Loan.start_date.label("at"),
        Loan.kind.label("dim"),
        Loan.contract_amount_fen.label("amount"),
        _no_app().label("application_id"),
    ).where(Loan.start_date.is_not(None), Loan.start_date < until, _disbursed())
    repaid = (
        select(
            Loan.id.label("entity"),
            Loan.district.label("district"),
            LoanRepayment.paid_on.label("at"),
            Loan.kind.label("dim"),
            (-LoanRepayment.principal_fen).label("amount"),
            _no_app().label("application_id"),
        )
        .join(Loan, Loan.id == LoanRepayment.loan_id)
        .where(LoanRepayment.paid_on < until, LoanRepayment.principal_fen > 0)
    )
    return select(union_all(lent, repaid).subquery("flows"))


def src_outstanding_loans(w: Window) -> Any:
    """+ 1 on the start date, − 1 on the day the loan was settled (repaid in full)."""
    until = w.until("date")
    one = literal(1, Integer())
    opened = select(
        Loan.id.label("entity"),
        Loan.district.label("district"),
        Loan.start_date.label("at"),
        Loan.kind.label("dim"),
        one.label("amount"),
        _no_app().label("application_id"),
    ).where(Loan.start_date.is_not(None), Loan.start_date < until, _disbursed())
    closed = select(
        Loan.id.label("entity"),
        Loan.district.label("district"),
        Loan.settled_on.label("at"),
        Loan.kind.label("dim"),
        literal(-1, Integer()).label("amount"),
        _no_app().label("application_id"),
    ).where(Loan.settled_on.is_not(None), Loan.settled_on < until, Loan.start_date.is_not(None))
    return select(union_all(opened, closed).subquery("flows"))


def src_subsidy_paid(w: Window) -> Any:
    """The city part and the district part of each subsidy line, in the quarter it was settled."""
    lo = w.since("instant")
    parts = []
    for source, column in (("city", LoanSubsidyLine.city_fen), ("district", LoanSubsidyLine.district_fen)):
        stmt = select(
            (cast(LoanSubsidyLine.id, String()) + literal(f"|{source}", String())).label("entity"),
            LoanSubsidyLine.district.label("district"),
            LoanSubsidyLine.settled_at.label("at"),
            literal(source, String()).label("dim"),
            column.label("amount"),
            _no_app().label("application_id"),
        ).where(column > 0, LoanSubsidyLine.settled_at < w.until("instant"))
        if lo is not None:
            stmt = stmt.where(LoanSubsidyLine.settled_at >= lo)
        parts.append(stmt)
    return select(union_all(*parts).subquery("parts"))


_BY_KIND = "按贷款所属区县；维度为贷款类型。"
register(
    Indicator(
        "loans_issued",
        "发放创业担保贷款笔数",
        "笔",
        "loans",
        _issued("count"),
        "date",
        dims=LOAN_KIND_DIMS,
        dim_label="贷款类型",
        dim_total=True,
        entity="loans",
        definition="经办银行已放款的贷款，按起息日计入季度，每笔计一次。" + _BY_KIND,
    )
)
register(
    Indicator(
        "loans_issued_amount",
        "发放创业担保贷款金额",
        "元",
        "loans",
        _issued("contract"),
        "date",
        measure="sum",
        dims=LOAN_KIND_DIMS,
        dim_label="贷款类型",
        dim_total=True,
        entity="loans",
        scale=100,
        decimals=2,
        definition="已放款贷款的合同金额（分精确），按起息日计入季度。" + _BY_KIND,
    )
)
register(
    Indicator(
        "loans_outstanding",
        "季末在贷笔数",
        "笔",
        "loans",
        src_outstanding_loans,
        "date",
        measure="sum",
        cumulative=True,
        dims=LOAN_KIND_DIMS,
        dim_label="贷款类型",
        dim_total=True,
        entity="loans",
        definition="截至季末已放款且尚未结清的贷款笔数。" + _BY_KIND,
    )
)
register(
    Indicator(
        "loans_outstanding_amount",
        "季末贷款余额",
        "元",
        "loans",
        src_outstanding_principal,
        "date",
        measure="sum",
        cumulative=True,
        dims=LOAN_KIND_DIMS,
        dim_label="贷款类型",
        dim_total=True,
        entity="loans",
        scale=100,
        decimals=2,
        definition="截至季末：已放款贷款的合同金额减去银行登记的已还本金（按还款日）。" + _BY_KIND,
    )
)
register(
    Indicator(
        "loan_subsidy_paid",
        "贴息资金拨付按资金来源",
        "元",
        "loans",
        src_subsidy_paid,
        "instant",
        measure="sum",
        dims=SOURCE_DIMS,
        dim_label="资金来源",
        dim_total=True,
        entity="subsidy_lines",
        scale=100,
        decimals=2,
        definition="季度贴息结算的市级部分（市级及以上资金）与区县部分（区县财政），按结算拨付时间计入季度、"
        "按贷款所属区县计入区县；与台账拨付分录逐分核对一致。",
    )
)
