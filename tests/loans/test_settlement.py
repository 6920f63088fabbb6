"""Quarterly interest-subsidy settlement: exact against a hand-computed example, overdue and extended
periods excluded, the city / district split of an overlay, idempotent under replay and under two
concurrent settlements, the Excel statement."""

from __future__ import annotations

import datetime as dt
import threading

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.loans import (
    ACTORS,
    BANK,
    D2,
    KEY,
    PARAMS,
    PARAMS_OVERLAY,
    D,
    at,
    budgets,
    contracted,
    repay,
    run,
    setup,
)
from xiangchuang.audit.chain import verify
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.ledger import budget_summary, reconcile
from xiangchuang.loans import service
from xiangchuang.loans.service import Actor
from xiangchuang.loans.settlement import export_statement, settle_quarter
from xiangchuang.models import AuditEvent, JournalEntry, LoanInstalment, LoanSubsidyLine, OutboxMessage

SETTLE_NOW = at(dt.date(2026, 10, 8))
FINANCE = ACTORS["district_finance"]


def _plan(engine, loan_id):
    with Session(engine) as s:
        return list(
            s.scalars(
                select(LoanInstalment)
                .where(LoanInstalment.loan_id == loan_id, LoanInstalment.superseded.is_(False))
                .order_by(LoanInstalment.due_date)
            )
        )


def _repay_through(engine, loan_id, last_due, late=None, tag="A"):
    """Repay every instalment due up to ``last_due`` on its due date (``late``: {due: paid_on})."""
    for k, inst in enumerate(_plan(engine, loan_id), start=1):
        if inst.due_date > last_due:
            break
        paid_on = (late or {}).get(inst.due_date, inst.due_date)
        repay(engine, loan_id, f"{tag}{k}", paid_on, inst.principal_fen, inst.interest_fen)


def _settle(engine, params=PARAMS, actor=FINANCE, **kw):
    return settle_quarter(
        make_sessionmaker(engine),
        quarter="2026Q3",
        actor=actor,
        audit_key=KEY,
        params=params,
        now=SETTLE_NOW,
        **kw,
    )


def _disbursed(engine, source, district=D):
    with Session(engine) as s:
        return budget_summary(s, district=district, funding_source=source).disbursed_fen


def _lines(engine):
    with Session(engine) as s:
        return {line.loan_id: line for line in s.scalars(select(LoanSubsidyLine))}


# The worked example, by hand.
#
# Loan: 200,000.00 yuan, contract and start 2026-04-10, 24 months, equal principal, rate 3.50% (350bp) in
# 渝中区 (500103). LPR on 2026-04-10: 3.00% (300bp, in force since 2025-05-20); cap LPR + 50bp = 350 ✓.
# Subsidised rate: 350 − (300 − 150) = 200bp. Principal per month 833,333 fen, due on the 10th.
# Balance in 2026Q3 (1 July – 30 September, 92 days), repaid on time on 10 May, 10 June, 10 July,
# 10 August, 10 September (the repayment day already earns no interest on what it repays):
#
#   1–9 July        9 days × 18,333,334 =   165,000,006
#   10 July–9 Aug  31 days × 17,500,001 =   542,500,031
#   10 Aug–9 Sep   31 days × 16,666,668 =   516,666,708
#   10–30 Sep      21 days × 15,833,335 =   332,500,035
#                  92 days               1,556,666,780 fen·days
#
# Subsidy = 1,556,666,780 × 200 / (10,000 × 360) = 86,481.4878 → 86,481 fen (¥864.81), all city money.
# With the test overlay (渝中 bears the borrower down to LPR − 200bp): 350 − 100 = 250bp in total,
# 1,556,666,780 × 250 / 3,600,000 = 108,101.8597 → 108,102 fen; city 86,481, district 21,621.
#
# Paid late: the 10 August instalment paid on 20 August → overdue 11–20 August (10 days) excluded:
#   9 × 18,333,334 + 31 × 17,500,001 + 1 × 17,500,001 (10 Aug) + 20 × 16,666,668 (21 Aug–9 Sep)
#   + 21 × 15,833,335 = 1,390,833,433; × 200 / 3,600,000 = 77,268.524 → 77,269 fen; 82 days, 10 excluded
#   (20 August itself is overdue: the arrears were repaid that day).
WORKED_CITY = 86_481


def test_worked_example_is_exact_and_booked_to_the_city(db_engine, pii):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    _repay_through(db_engine, loan_id, dt.date(2026, 9, 10))
    report = _settle(db_engine)
    assert report.failed == [] and report.already == []
    assert [(c, d) for _, c, d in report.settled] == [(WORKED_CITY, 0)]
    line = _lines(db_engine)[loan_id]
    assert (line.subsidised_days, line.excluded_days) == (92, 0)
    assert line.principal_days_total == 1_556_666_780
    assert (line.gov_bp_city, line.gov_bp_total, line.total_fen) == (200, 200, WORKED_CITY)
    assert [s["balance_fen"] for s in line.detail["segments"]] == [
        18_333_334,
        17_500_001,
        16_666_668,
        15_833_335,
    ]
    assert _disbursed(db_engine, "city") == WORKED_CITY and _disbursed(db_engine, "district") == 0
    with Session(db_engine) as s:
        assert reconcile(s) == []
        assert verify(s, KEY) is None
        notice = s.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "loan.subsidy_settled")
        ).one()
        assert notice.recipient_user == ACTORS["applicant"].user
        assert (
            notice.payload["amount"] == "¥864.81"
            and notice.payload["amount_capital"] == "捌佰陆拾肆元捌角壹分"
        )
        assert s.scalar(select(func.count()).where(AuditEvent.action == "loan.subsidy_settled")) == 1

    # settling the quarter again pays nothing more
    again = _settle(db_engine)
    assert again.settled == [] and len(again.already) == 1
    assert _disbursed(db_engine, "city") == WORKED_CITY
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 2 + 2  # two budgets; approve + pay
        assert s.scalar(select(func.count()).where(AuditEvent.action == "loan.subsidy_settled")) == 1


def test_a_district_overlay_splits_the_subsidy(db_engine, pii):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    _repay_through(db_engine, loan_id, dt.date(2026, 9, 10))
    report = _settle(db_engine, params=PARAMS_OVERLAY)
    assert [(c, d) for _, c, d in report.settled] == [(86_481, 21_621)]
    line = _lines(db_engine)[loan_id]
    assert (line.gov_bp_city, line.gov_bp_total, line.total_fen) == (200, 250, 108_102)
    assert _disbursed(db_engine, "city") == 86_481
    assert _disbursed(db_engine, "district") == 21_621  # 区县财政, its own funding source


def test_overdue_days_are_excluded(db_engine, pii):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    _repay_through(
        db_engine, loan_id, dt.date(2026, 9, 10), late={dt.date(2026, 8, 10): dt.date(2026, 8, 20)}
    )
    report = _settle(db_engine)
    line = _lines(db_engine)[loan_id]
    assert (line.subsidised_days, line.excluded_days, line.principal_days_total) == (82, 10, 1_390_833_433)
    assert line.total_fen == 77_269 and [c for _, c, _ in report.settled] == [77_269]
    assert [s["excluded"] for s in line.detail["segments"]] == [None, None, "overdue", "overdue", None, None]


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "unmarked"])
def test_an_open_overdue_period_runs_to_the_quarter_end(db_engine, pii, marked):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    _repay_through(db_engine, loan_id, dt.date(2026, 8, 10))  # 10 September is missed
    if marked:  # the bank marks it overdue; unmarked arrears are excluded all the same
        run(
            db_engine,
            service.mark_overdue,
            loan_id=loan_id,
            actor=ACTORS["bank"],
            audit_key=KEY,
            now=at(dt.date(2026, 9, 15)),
        )
    _settle(db_engine)
    line = _lines(db_engine)[loan_id]
    # 11–30 September (20 days) excluded; 1 July – 10 September subsidised (72 days)
    assert (line.subsidised_days, line.excluded_days) == (72, 20)
    # 9 × 18,333,334 + 31 × 17,500,001 + 32 × 16,666,668 = 1,240,833,413; × 200 / 3,600,000 = 68,935.19
    assert line.principal_days_total == 1_240_833_413 and line.total_fen == 68_935


def test_an_extended_period_gets_no_subsidy(db_engine, pii):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine, term_months=3, repayment_method="interest_only_bullet")
    _repay_through(db_engine, loan_id, dt.date(2026, 6, 10))
    run(
        db_engine,
        service.extend,
        loan_id=loan_id,
        actor=ACTORS["bank"],
        audit_key=KEY,
        months=2,
        reason="季节性经营，回款延后",
        now=at(dt.date(2026, 6, 20)),
        params=PARAMS,
    )
    _settle(db_engine)
    line = _lines(db_engine)[loan_id]
    # 1–9 July within the term: 9 × 20,000,000 × 200 / 3,600,000 = 10,000 fen exactly; then the extension
    # (10 July – 9 September, 62 days); the interest due on 10 July and 10 August and the principal due
    # on 10 September were never paid, so from 10 September on (21 days) the loan is overdue
    assert (line.subsidised_days, line.excluded_days, line.total_fen) == (9, 83, 10_000)
    assert [s["excluded"] for s in line.detail["segments"]] == [None, "extension", "overdue"]


def test_only_finance_of_the_district_settles_an_ended_quarter(db_engine, pii):
    setup(db_engine, pii)
    with pytest.raises(Forbidden, match="区县财政"):
        _settle(db_engine, actor=ACTORS["bank"])
    with pytest.raises(Forbidden, match=str(D2)):
        _settle(db_engine, district=D2)
    with pytest.raises(ValidationFailed, match="尚未结束"):
        settle_quarter(
            make_sessionmaker(db_engine),
            quarter="2026Q4",
            actor=FINANCE,
            audit_key=KEY,
            params=PARAMS,
            now=SETTLE_NOW,
        )


def test_a_loan_that_cannot_be_paid_leaves_nothing(db_engine, pii):
    setup(db_engine, pii)  # no budget opened
    loan_id = contracted(db_engine)
    _repay_through(db_engine, loan_id, dt.date(2026, 9, 10))
    report = _settle(db_engine)
    assert report.settled == [] and "尚未下达预算" in report.failed[0][1]
    assert _lines(db_engine) == {}
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "loan.subsidy_settled")) == 0
    budgets(db_engine)
    assert [c for _, c, _ in _settle(db_engine).settled] == [WORKED_CITY]


def test_two_concurrent_settlements_pay_once(db_engine, pii):
    if db_engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL (SQLite serialises the whole database)")
    setup(db_engine, pii)
    budgets(db_engine)
    first = contracted(db_engine)
    second = contracted(db_engine, person="P-PART", contract_no="HT2026-0002")
    _repay_through(db_engine, first, dt.date(2026, 9, 10), tag="A")
    _repay_through(
        db_engine, second, dt.date(2026, 9, 10), late={dt.date(2026, 8, 10): dt.date(2026, 8, 20)}, tag="B"
    )
    barrier = threading.Barrier(2)
    reports, errors = [], []

    def worker():
        try:
            barrier.wait()
            reports.append(_settle(db_engine, params=PARAMS_OVERLAY))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    settled = [entry for r in reports for entry in r.settled]
    assert len(settled) == 2 and sum(len(r.already) for r in reports) == 2
    lines = _lines(db_engine)
    assert set(lines) == {first, second}
    city = sum(line.city_fen for line in lines.values())
    district = sum(line.district_fen for line in lines.values())
    assert _disbursed(db_engine, "city") == city and _disbursed(db_engine, "district") == district
    assert lines[first].total_fen == 108_102
    with Session(db_engine) as s:
        assert reconcile(s) == []
        assert verify(s, KEY) is None
        assert s.scalar(select(func.count()).where(AuditEvent.action == "loan.subsidy_settled")) == 2


def test_the_statement_is_an_excel_file_with_capitals(db_engine, pii, tmp_path):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)
    _repay_through(db_engine, loan_id, dt.date(2026, 9, 10))
    _settle(db_engine, params=PARAMS_OVERLAY)
    path = tmp_path / "贴息结算单.xlsx"
    rows = run(
        db_engine, export_statement, quarter="2026Q3", path=path, actor=FINANCE, audit_key=KEY, bank=BANK
    )
    assert rows == 1
    ws = openpyxl.load_workbook(path).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert "2026Q3" in values[0][0] and "CQRCB" in values[0][0]
    header = values[1]
    assert header[0] == "序号" and header[-1] == "贴息合计（大写）"
    line = dict(zip(header, values[2], strict=True))
    assert line["合同编号"] == "HT2026-0001" and line["贷款类型"] == "个人创业担保贷款"
    assert line["借款人"].startswith("测") and "*" in line["借款人"]  # masked name
    assert (line["贴息天数"], line["市级贴息利率（基点）"], line["合计贴息利率（基点）"]) == (92, 200, 250)
    assert line["市级及以上资金（元）"] == 864.81 and line["区县财政（元）"] == 216.21
    assert line["贴息合计（元）"] == 1081.02 and line["贴息合计（大写）"] == "壹仟零捌拾壹元零贰分"
    total = values[3]
    assert total[0] == "合计" and total[-1] == "壹仟零捌拾壹元零贰分"
    assert "捌佰陆拾肆元捌角壹分" in values[4][0] and "贰佰壹拾陆元贰角壹分" in values[4][0]
    with Session(db_engine) as s:
        assert s.scalar(select(func.count()).where(AuditEvent.action == "export.loan_subsidy_statement")) == 1
    with pytest.raises(Forbidden):
        run(
            db_engine,
            export_statement,
            quarter="2026Q3",
            path=path,
            actor=Actor("u-b", "bank", D, BANK),
            audit_key=KEY,
        )
