"""Repayment schedules in exact integer fen (pure functions, no database).

Methods (the parameter ``loan.repayment_methods`` lists those allowed, by date):

- ``equal_principal`` 等额本金: every instalment repays round_half_up(P / n) of principal, the last one
  the remainder; interest on the balance before the instalment.
- ``equal_instalment`` 等额本息: a level payment A = round_half_up(P·r·(1+r)^n / ((1+r)^n − 1)) computed
  exactly with fractions (A = round_half_up(P / n) at a zero rate); each instalment's interest is
  round_half_up(balance · r) and its principal A − interest; the last instalment repays the whole
  remaining balance (it absorbs every rounding difference).
- ``interest_only_bullet`` 按月付息、到期还本: interest on the whole principal every month, the principal
  in the last instalment.

Conventions (assumptions, documented in the README too):

- Instalments are monthly. Instalment k falls due on the day k months after the start date by the 民法典
  rule (:func:`xiangchuang.engine.dates.add_months_scalar`: 31 January + 1 month = 28/29 February).
- The schedule's monthly rate is the annual rate divided by ``loan.schedule_months_per_year`` (12), as
  banks do for monthly instalments. The interest subsidy does not use the schedule: it is computed on the
  balance actually outstanding each day (see :mod:`xiangchuang.loans.settlement`).
- Every amount is rounded half-up to the fen once; the principal parts add up to P exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from xiangchuang.engine.dates import add_months_scalar

METHOD_LABELS: Final = {
    "equal_principal": "等额本金",
    "equal_instalment": "等额本息",
    "interest_only_bullet": "按月付息、到期还本",
}


@dataclass(frozen=True)
class Instalment:
    seq: int
    month: int  # months after the start date
    due_date: dt.date
    principal_fen: int
    interest_fen: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.interest_fen


def half_up(value: Fraction) -> int:
    """round_half_up of a non-negative exact fraction (四舍五入 to the fen)."""
    if value < 0:
        raise ValueError("half_up expects a non-negative amount")
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def monthly_interest(balance_fen: int, rate_bp: int, months_per_year: int = 12) -> int:
    return half_up(Fraction(balance_fen * rate_bp, 10000 * months_per_year))


def level_payment(principal_fen: int, rate_bp: int, n: int, months_per_year: int = 12) -> int:
    """等额本息 monthly payment, exact then rounded half-up."""
    if rate_bp == 0:
        return half_up(Fraction(principal_fen, n))
    r = Fraction(rate_bp, 10000 * months_per_year)
    growth = (1 + r) ** n
    return half_up(principal_fen * r * growth / (growth - 1))


def build_schedule(
    *,
    principal_fen: int,
    rate_bp: int,
    start_date: dt.date,
    method: str,
    first_month: int,
    last_month: int,
    months_per_year: int = 12,
    first_seq: int = 1,
) -> list[Instalment]:
    """Instalments due ``first_month`` … ``last_month`` months after ``start_date`` repaying
    ``principal_fen`` (the original schedule: months 1 … term; after an extension: the outstanding
    principal over the remaining months)."""
    n = last_month - first_month + 1
    if n < 1:
        raise ValueError("还款期数须至少为1期")
    if principal_fen <= 0 or rate_bp < 0:
        raise ValueError("本金须为正数、利率不能为负数")
    months = range(first_month, last_month + 1)
    balance = principal_fen
    out: list[Instalment] = []
    if method == "equal_principal":
        each = half_up(Fraction(principal_fen, n))
        if each * (n - 1) > principal_fen:
            raise ValueError("本金过小：每期应还本金不足以分摊到各期")
    elif method == "equal_instalment":
        payment = level_payment(principal_fen, rate_bp, n, months_per_year)
    elif method != "interest_only_bullet":
        raise ValueError(f"未知的还款方式 {method!r}")
    for k, month in enumerate(months):
        last = k == n - 1
        interest = monthly_interest(balance, rate_bp, months_per_year)
        if last:
            principal = balance
        elif method == "equal_principal":
            principal = each
        elif method == "equal_instalment":
            principal = min(max(payment - interest, 0), balance)
        else:
            principal = 0
        out.append(
            Instalment(
                seq=first_seq + k,
                month=month,
                due_date=add_months_scalar(start_date, month),
                principal_fen=principal,
                interest_fen=interest,
            )
        )
        balance -= principal
    return out
