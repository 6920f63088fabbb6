"""Quarterly interest-subsidy settlement (季度贴息结算) and the settlement statement (Excel).

The subsidy of a loan for a quarter is the interest actually accrued in the quarter on the balance
outstanding each day, times the subsidised share of the rate::

    subsidy = round_half_up( Σ_days balance(d) × gov_bp / (10000 × day_count) )
    gov_bp  = max(rate − max(LPR − N, 0), 0)      (the borrower bears at most LPR − N bp)

- ``balance(d)``: the contract amount less the principal repaid on or before d (计息 算头不算尾: a
  repayment stops interest on the principal it repays from its own day), capped at the loan ceiling of
  the contract date; ``LPR`` is the loan's contract LPR; ``N`` = ``loan_interest_subsidy.
  borrower_max_below_lpr_bp`` and ``day_count`` = ``loan_interest_subsidy.day_count`` (360) on the
  contract date.
- Days counted: from the later of the quarter start and the loan's start date, to the earlier of the
  quarter end and the day before the subsidy term ends. The subsidy term is the contract term from the
  contract date, never longer than the maximum term of the loan kind (``loan_*.max_term_months``) — the
  engine's own definition (:func:`xiangchuang.engine.programs.loans.subsidy_term_end`, also read by its
  condition ``settlement_within_term``), so with a start date (起息日) after the contract date the last
  days of the repayment schedule get nothing; an extension (展期) gets nothing either. Days inside an overdue (逾期) or extension period — including
  arrears the bank has not marked: from the day after the due date of the first instalment still
  uncovered when the quarter is settled — and days past
  the subsidy term, are excluded (and counted as such on the statement); days after the loan is repaid
  in full are not counted at all.
- City and district: where an overlay raises the ceiling or the subsidised share for the loan's district
  (``paid_by: 区县财政``), the subsidy is computed with the district's values (the total) and with the
  city's values (the city part, never more than the total); the district part is the difference, booked
  to the district's own funding source (区县财政). Each part is rounded once; they add up to the total.

Booking: per loan, in one transaction: the subsidy line (unique per loan and quarter), and for each
non-zero part a ledger ``approve`` then ``disburse`` (to the bank that settles with the borrower) with
idempotency keys ``LS<quarter>:<loan_no>:<source>:a|p``, the audit record and the borrower's notice.
Settling a quarter again finds the line and pays nothing; two settlements at the same time collide on
the line's unique key (and on the ledger keys), so each loan is paid once. A settled quarter is final.

Who and when (assumptions): 区县财政 (``district_finance``) settles its own district, ``city_admin`` any
district (the command line acts as city_admin); a quarter can be settled from the day after it ends
(China time). The subsidy is paid to the lending bank (``payee_ref = bank:<code>``), which credits the
borrower per the contract; the borrower is notified through the outbox.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

import numpy as np
import openpyxl
from openpyxl.styles import Alignment, Font
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.audit import record
from xiangchuang.chinatime import CHINA
from xiangchuang.engine.dates import add_months_scalar, from_day, to_day
from xiangchuang.engine.money import fen_to_capital, format_fen
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.engine.programs.loans import subsidy_term_end
from xiangchuang.errors import DomainError, Forbidden, ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.ledger.service import (
    SOURCE_LABELS,
    LedgerError,
    PaymentInstruction,
    approve,
    disburse,
    run_in_transaction,
)
from xiangchuang.loans import repository as repo
from xiangchuang.loans.schedule import half_up
from xiangchuang.loans.service import KIND_LABELS, Actor, max_term_months
from xiangchuang.models import Loan, LoanSubsidyLine, Person
from xiangchuang.outbox.service import enqueue

_QUARTER: Final = re.compile(r"^(\d{4})Q([1-4])$")
SETTLING_ROLES: Final = ("district_finance", "city_admin")


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter written 2026Q3."""
    m = _QUARTER.match(quarter.strip())
    if not m:
        raise ValidationFailed(f"季度（quarter）{quarter!r} 格式错误，应为 YYYYQn，如 2026Q3")
    year, q = int(m.group(1)), int(m.group(2))
    start = dt.date(year, 3 * q - 2, 1)
    return start, add_months_scalar(start, 3) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Segment:
    first: dt.date
    last: dt.date
    balance_fen: int
    excluded: str | None  # None, "overdue", "extension" or "term" (past the subsidy term)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class SubsidyCalc:
    subsidised_days: int
    excluded_days: int
    principal_days_city: int
    principal_days_total: int
    gov_bp_city: int
    gov_bp_total: int
    city_fen: int
    district_fen: int
    segments: tuple[Segment, ...]

    @property
    def total_fen(self) -> int:
        return self.city_fen + self.district_fen


def gov_bp(rate_bp: int, lpr_bp: int, below_bp: int) -> int:
    """The subsidised part of the rate: the borrower bears at most LPR − below."""
    return max(rate_bp - max(lpr_bp - below_bp, 0), 0)


def compute_subsidy(
    *,
    start: dt.date,
    end: dt.date,
    loan_start: dt.date,
    subsidy_end: dt.date,
    amount_fen: int,
    repayments: Sequence[tuple[dt.date, int]],
    excluded: Sequence[tuple[str, dt.date, dt.date | None]],
    rate_bp: int,
    lpr_bp: int,
    below_city_bp: int,
    below_total_bp: int,
    ceiling_city_fen: int,
    ceiling_total_fen: int,
    day_count: int,
) -> SubsidyCalc:
    """The subsidy of one loan for the days ``start`` … ``end`` (see the module docstring);
    ``subsidy_end`` is the first day without subsidy (exclusive)."""
    segments: list[Segment] = []
    sub_days = exc_days = pd_city = pd_total = 0
    day = max(start, loan_start)
    while day <= end:
        balance = amount_fen - sum(p for paid_on, p in repayments if paid_on <= day)
        if balance <= 0:  # repaid in full: no interest, nothing to subsidise or exclude
            break
        why = next((k for k, s, e in excluded if s <= day and (e is None or day <= e)), None)
        if why is None and day >= subsidy_end:
            why = "term"  # past the subsidy term (e.g. still owed after maturity)
        if why is None:
            sub_days += 1
            pd_city += min(balance, ceiling_city_fen)
            pd_total += min(balance, ceiling_total_fen)
        else:
            exc_days += 1
        if segments and segments[-1].balance_fen == balance and segments[-1].excluded == why:
            prev = segments[-1]
            segments[-1] = Segment(prev.first, day, balance, why)
        else:
            segments.append(Segment(day, day, balance, why))
        day += dt.timedelta(days=1)
    g_city, g_total = gov_bp(rate_bp, lpr_bp, below_city_bp), gov_bp(rate_bp, lpr_bp, below_total_bp)
    total = half_up(Fraction(pd_total * g_total, 10000 * day_count))
    city = min(half_up(Fraction(pd_city * g_city, 10000 * day_count)), total)
    return SubsidyCalc(
        sub_days, exc_days, pd_city, pd_total, g_city, g_total, city, total - city, tuple(segments)
    )


def loan_ceiling(params: ParameterSet, loan: Loan, on: dt.date, district: int | None) -> int:
    """The loan ceiling (fen) on ``on``: the city's (``district=None``) or the district's."""
    if loan.kind == "small_micro":
        return int(params["loan_small_micro.ceiling"].value_at(on, district))
    single = int(params["loan_individual.ceiling"].value_at(on, district))
    if loan.kind == "individual":
        return single
    uplift: Fraction = params["loan_individual.partner_uplift"].value_at(on, district)
    total = int(params["loan_individual.partnership_total"].value_at(on, district))
    return min(half_up(single * uplift) * len(loan.partners), total)


def subsidy_for(session: Session, loan: Loan, quarter: str, params: ParameterSet) -> SubsidyCalc:
    """One loan's subsidy for a quarter, from its contract, repayments and periods."""
    start, end = quarter_bounds(quarter)
    assert loan.contract_date and loan.start_date and loan.term_months and loan.maturity_date
    assert loan.contract_amount_fen and loan.rate_bp is not None and loan.lpr_bp is not None
    cd = loan.contract_date
    limit = max_term_months(params, loan.kind, cd, loan.district)
    subsidy_end = from_day(
        int(subsidy_term_end(np.array([to_day(cd)]), np.array([loan.term_months]), np.array([limit]))[0])
    )
    below = params["loan_interest_subsidy.borrower_max_below_lpr_bp"]
    city_below, total_below = below.value_at(cd, None), below.value_at(cd, loan.district)
    if city_below is None or total_below is None:
        raise ValidationFailed(
            f"贷款 {loan.loan_no} 的合同日期 {cd} 早于现行贴息规则施行日期，不按本规则贴息"
        )
    # Arrears the bank has not marked are overdue all the same: an instalment due in or before the
    # quarter and not covered when the quarter is settled excludes the days after its due date.
    unpaid: list[tuple[str, dt.date, dt.date | None]] = []
    first_unpaid = next(
        (i for i in repo.current_schedule(session, loan.id) if i.covered_on is None and i.due_date < end),
        None,
    )
    if first_unpaid is not None:
        unpaid.append(("overdue", first_unpaid.due_date + dt.timedelta(days=1), None))
    return compute_subsidy(
        start=start,
        end=end,
        loan_start=loan.start_date,
        subsidy_end=subsidy_end,
        amount_fen=loan.contract_amount_fen,
        repayments=[(r.paid_on, r.principal_fen) for r in repo.repayments(session, loan.id)],
        excluded=[(p.kind, p.start_date, p.end_date) for p in repo.periods(session, loan.id)] + unpaid,
        rate_bp=loan.rate_bp,
        lpr_bp=loan.lpr_bp,
        below_city_bp=int(city_below),
        below_total_bp=int(total_below),
        ceiling_city_fen=loan_ceiling(params, loan, cd, None),
        ceiling_total_fen=loan_ceiling(params, loan, cd, loan.district),
        day_count=int(params["loan_interest_subsidy.day_count"].value_at(cd)),
    )


@dataclass
class SettlementReport:
    quarter: str
    district: int | None
    bank: str | None
    settled: list[tuple[str, int, int]] = field(default_factory=list)  # loan_no, city, district
    already: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def city_fen(self) -> int:
        return sum(c for _, c, _ in self.settled)

    @property
    def district_fen(self) -> int:
        return sum(d for _, _, d in self.settled)


def _check_settler(actor: Actor, district: int | None) -> int | None:
    if actor.role not in SETTLING_ROLES:
        raise Forbidden("季度贴息结算由区县财政或市级管理员办理")
    if actor.role == "district_finance":
        if district is not None and district != actor.district:
            raise Forbidden(f"区县财政只能结算本区县的贴息，不能结算区县 {district}")
        return actor.district
    return district


def _settle_one(
    session: Session,
    *,
    loan_id: int,
    quarter: str,
    actor: Actor,
    audit_key: bytes,
    params: ParameterSet,
    at: dt.datetime,
) -> tuple[str, LoanSubsidyLine | None]:
    if repo.subsidy_line(session, loan_id, quarter) is not None:
        return "already", None
    loan = repo.load(session, loan_id)
    assert loan is not None
    calc = subsidy_for(session, loan, quarter, params)
    line = LoanSubsidyLine(
        loan_id=loan.id,
        quarter=quarter,
        district=loan.district,
        bank_code=loan.bank_code,
        subsidised_days=calc.subsidised_days,
        excluded_days=calc.excluded_days,
        principal_days_city=calc.principal_days_city,
        principal_days_total=calc.principal_days_total,
        gov_bp_city=calc.gov_bp_city,
        gov_bp_total=calc.gov_bp_total,
        city_fen=calc.city_fen,
        district_fen=calc.district_fen,
        total_fen=calc.total_fen,
        detail={
            "segments": [
                {
                    "from": s.first.isoformat(),
                    "to": s.last.isoformat(),
                    "days": s.days,
                    "balance_fen": s.balance_fen,
                    "excluded": s.excluded,
                }
                for s in calc.segments
            ],
            "rate_bp": loan.rate_bp,
            "lpr_bp": loan.lpr_bp,
            "parameters_version": params.version,
        },
        settled_by=actor.user,
        settled_at=at,
    )
    try:
        with session.begin_nested():
            session.add(line)
            session.flush()
    except IntegrityError:
        return "already", None  # a concurrent settlement wrote this loan's line first
    ref = f"{loan.loan_no}:{quarter}"
    memo = f"创业担保贷款贴息 {quarter} 合同 {loan.contract_no}"
    for source, amount in (("city", calc.city_fen), ("district", calc.district_fen)):
        if amount <= 0:
            continue
        key = f"LS{quarter}:{loan.loan_no}:{source}"
        approve(
            session,
            idempotency_key=f"{key}:a",
            district=loan.district,
            funding_source=source,
            application_ref=ref,
            amount_fen=amount,
            description=memo,
        )
        disburse(
            session,
            instruction=PaymentInstruction(
                idempotency_key=f"{key}:p",
                district=loan.district,
                funding_source=source,
                application_ref=ref,
                amount_fen=amount,
                payee_ref=f"bank:{loan.bank_code}",
                memo=memo,
            ),
        )
    record(
        session,
        key=audit_key,
        actor=actor.user,
        actor_role=actor.role,
        district=loan.district,
        action="loan.subsidy_settled",
        subject=f"loans:{loan.loan_no}",
        details={
            "quarter": quarter,
            "city_fen": calc.city_fen,
            "district_fen": calc.district_fen,
            "subsidised_days": calc.subsidised_days,
            "excluded_days": calc.excluded_days,
        },
        at=at,
    )
    enqueue(
        session,
        template="loan.subsidy_settled",
        payload={
            "loan_no": loan.loan_no,
            "contract_no": loan.contract_no,
            "title": KIND_LABELS[loan.kind],
            "quarter": quarter,
            "amount": format_fen(calc.total_fen),
            "amount_capital": fen_to_capital(calc.total_fen),
            "message": (
                f"您的创业担保贷款 {quarter} 贴息 {format_fen(calc.total_fen)} 已结算，由经办银行按合同办理"
                + (f"（逾期、展期 {calc.excluded_days} 天不贴息）" if calc.excluded_days else "")
            ),
        },
        user=loan.applicant_user,
    )
    return "settled", line


def settle_quarter(
    factory: sessionmaker[Session],
    *,
    quarter: str,
    actor: Actor,
    audit_key: bytes,
    district: int | None = None,
    bank: str | None = None,
    params: ParameterSet | None = None,
    now: dt.datetime | None = None,
) -> SettlementReport:
    """Settle a quarter's subsidies (one district or, for city_admin, all; optionally one bank): one
    transaction per loan, retried on serialization failures. A loan that cannot be settled (e.g. the
    budget is exhausted) is reported and leaves nothing written; the others go on."""
    at = now if now is not None else dt.datetime.now(dt.UTC)
    params = params or load_parameters()
    start, end = quarter_bounds(quarter)
    today = at.astimezone(CHINA).date()
    if today <= end:
        raise ValidationFailed(f"季度（quarter）{quarter} 尚未结束（至 {end}），期满后方可结算贴息")
    scope = _check_settler(actor, district)
    report = SettlementReport(quarter=quarter, district=scope, bank=bank)
    with factory() as session:
        ids = repo.loans_to_settle(session, start=start, end=end, district=scope, bank=bank)
        numbers = {
            int(i): str(n) for i, n in session.execute(select(Loan.id, Loan.loan_no).where(Loan.id.in_(ids)))
        }
    for loan_id in ids:
        work = functools.partial(
            _settle_one,
            loan_id=loan_id,
            quarter=quarter,
            actor=actor,
            audit_key=audit_key,
            params=params,
            at=at,
        )
        try:
            outcome, line = run_in_transaction(factory, work)
        except (DomainError, LedgerError) as exc:
            report.failed.append((numbers[loan_id], exc.message))
            continue
        if outcome == "already" or line is None:
            report.already.append(numbers[loan_id])
        else:
            report.settled.append((numbers[loan_id], line.city_fen, line.district_fen))
    return report


HEADERS: Final = (
    "序号",
    "贷款编号",
    "合同编号",
    "借款人",
    "贷款类型",
    "经办银行",
    "区县",
    "合同利率（基点）",
    "LPR（基点）",
    "贴息天数",
    "不贴息天数（逾期、展期）",
    "市级贴息利率（基点）",
    "合计贴息利率（基点）",
    "市级及以上资金（元）",
    "区县财政（元）",
    "贴息合计（元）",
    "贴息合计（大写）",
)


def export_statement(
    session: Session,
    *,
    quarter: str,
    path: Path,
    actor: Actor,
    audit_key: bytes,
    district: int | None = None,
    bank: str | None = None,
) -> int:
    """Write the quarter's settlement statement (Excel; borrower names masked; amounts in yuan and in
    Chinese capitals, totals per funding source) and audit the export. Returns the number of loans."""
    quarter_bounds(quarter)
    scope = _check_settler(actor, district)
    rows = repo.subsidy_lines(session, quarter=quarter, district=scope, bank=bank)
    wanted = {loan.borrower_person_no for _, loan in rows}
    names = {
        str(no): str(name)
        for no, name in session.execute(
            select(Person.person_no, Person.name).where(Person.person_no.in_(wanted))
        )
    }
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "贴息结算明细"
    where = f"区县 {scope}" if scope is not None else "全市"
    ws.append([f"创业担保贷款贴息结算单 {quarter}（{where}{'，经办银行 ' + bank if bank else ''}）"])
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    city = district_part = 0
    for n, (line, loan) in enumerate(rows, start=1):
        city += line.city_fen
        district_part += line.district_fen
        values: list[Any] = [
            n,
            loan.loan_no,
            loan.contract_no,
            mask_name(names.get(loan.borrower_person_no, "")),
            KIND_LABELS[loan.kind],
            loan.bank_code,
            loan.district,
            loan.rate_bp,
            loan.lpr_bp,
            line.subsidised_days,
            line.excluded_days,
            line.gov_bp_city,
            line.gov_bp_total,
            line.city_fen / 100,
            line.district_fen / 100,
            line.total_fen / 100,
            fen_to_capital(line.total_fen),
        ]
        ws.append(values)
        for col in (14, 15, 16):
            ws.cell(row=ws.max_row, column=col).number_format = "#,##0.00"
    total = city + district_part
    ws.append(["合计", *[""] * 12, city / 100, district_part / 100, total / 100, fen_to_capital(total)])
    for col in (14, 15, 16):
        ws.cell(row=ws.max_row, column=col).number_format = "#,##0.00"
    ws.append(
        [
            f"其中：{SOURCE_LABELS['city']} {fen_to_capital(city)}；{SOURCE_LABELS['district']} {fen_to_capital(district_part)}"
        ]
    )
    for letter, width in zip(
        "ABCDEFGHIJKLMNOPQ", (6, 22, 18, 10, 20, 10, 8, 10, 10, 8, 12, 12, 12, 14, 14, 14, 30), strict=True
    ):
        ws.column_dimensions[letter].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    record(
        session,
        key=audit_key,
        actor=actor.user,
        actor_role=actor.role,
        district=scope,
        action="export.loan_subsidy_statement",
        subject=f"loan_subsidy:{quarter}",
        details={"rows": len(rows), "city_fen": city, "district_fen": district_part, "bank": bank},
    )
    return len(rows)
