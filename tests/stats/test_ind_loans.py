"""Loan indicators (stats/ind_loans.py): issued, outstanding at the quarter's end, and the interest subsidy
paid by funding source — the subsidy reconciled with the ledger's disburse entries to the fen."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.loans import PARAMS_OVERLAY, D, budgets, contracted, setup
from tests.loans.test_settlement import _repay_through, _settle
from xiangchuang.models import JournalEntry, Loan
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute

LOANS = (
    "loans_issued",
    "loans_issued_amount",
    "loans_outstanding",
    "loans_outstanding_amount",
    "loan_subsidy_paid",
)


def test_the_loan_group_is_registered():
    assert "loans" in [g.id for g in registry.groups()]
    assert [i.id for i in registry.all_indicators("loans")] == list(LOANS)


def test_loans_issued_outstanding_and_subsidy_reconcile_with_the_ledger(db_engine, pii):
    setup(db_engine, pii)
    budgets(db_engine)
    loan_id = contracted(db_engine)  # 200,000.00 yuan, start 2026-04-10, 24 months, equal principal
    _repay_through(db_engine, loan_id, dt.date(2026, 9, 10))  # five instalments of 833,333 fen
    report = _settle(db_engine, params=PARAMS_OVERLAY)  # settled 2026-10-08: city 86,481, district 21,621
    assert [(c, d) for _, c, d in report.settled] == [(86_481, 21_621)]
    now_q = Quarter.of_instant(dt.datetime.now(dt.UTC))
    window = Window.of(Quarter(2026, 1), max(now_q, Quarter(2026, 4)))
    inds = [registry.get(i) for i in LOANS]
    with Session(db_engine) as s:
        figs = compute(s, window=window, indicators=inds)
        loan_no = s.execute(select(Loan.loan_no).where(Loan.id == loan_id)).scalar_one()
        ledger = s.execute(
            select(JournalEntry.district, JournalEntry.funding_source, JournalEntry.amount_fen).where(
                JournalEntry.operation == "disburse", JournalEntry.application_ref.like(f"{loan_no}:%")
            )
        ).all()
    q1, q2, q3, q4 = (figs[f"2026Q{n}"] for n in (1, 2, 3, 4))
    for d in (D, CITY):
        assert q1.get(("loans_issued", d, "individual"), 0) == 0
        assert q2[("loans_issued", d, "individual")] == 1
        assert q2[("loans_issued_amount", d, "individual")] == 20_000_000
        assert ("loans_issued", d, "individual") not in q3  # a flow: counted in its start quarter only
        # stocks at the quarter's end: the balance the subsidy settlement accrued on
        assert q2[("loans_outstanding", d, "individual")] == 1
        assert q3[("loans_outstanding", d, "individual")] == 1
        assert q2[("loans_outstanding_amount", d, "individual")] == 20_000_000 - 2 * 833_333
        assert q3[("loans_outstanding_amount", d, "individual")] == 15_833_335
        assert q4[("loans_outstanding_amount", d, "individual")] == 15_833_335
        assert q4[("loan_subsidy_paid", d, "city")] == 86_481
        assert q4[("loan_subsidy_paid", d, "district")] == 21_621
        assert ("loan_subsidy_paid", d, "city") not in q3
    # reconciliation: the subsidy paid over the window equals the ledger's disburse entries to the fen
    from_ledger: dict[tuple[int, str], int] = defaultdict(int)
    for district, source, amount in ledger:
        from_ledger[(int(district), source)] += int(amount)
    from_stats: dict[tuple[int, str], int] = defaultdict(int)
    for by_key in figs.values():
        for (ind, d, dim), value in by_key.items():
            if ind == "loan_subsidy_paid" and d != CITY:
                from_stats[(d, dim)] += value
    assert dict(from_ledger) == dict(from_stats) == {(D, "city"): 86_481, (D, "district"): 21_621}
