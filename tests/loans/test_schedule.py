"""Repayment schedules: exact fen, the principal adds up for every method; the subsidy arithmetic."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.engine.api import evaluate
from xiangchuang.errors import ValidationFailed
from xiangchuang.loans.schedule import build_schedule, level_payment
from xiangchuang.loans.settlement import compute_subsidy, gov_bp, quarter_bounds

METHODS = ("equal_principal", "equal_instalment", "interest_only_bullet")


@given(
    method=st.sampled_from(METHODS),
    term=st.integers(1, 54),
    per_month=st.integers(100, 20_000_000),
    rate=st.integers(0, 1_000),
    start=st.dates(dt.date(2021, 1, 1), dt.date(2030, 12, 31)),
    offset=st.integers(0, 12),
)
def test_every_schedule_repays_exactly_the_principal(method, term, per_month, rate, start, offset):
    principal = per_month * term  # the contract rule: at least 1 yuan of principal per instalment
    plan = build_schedule(
        principal_fen=principal,
        rate_bp=rate,
        start_date=start,
        method=method,
        first_month=offset + 1,
        last_month=offset + term,
    )
    assert len(plan) == term
    assert sum(i.principal_fen for i in plan) == principal
    assert all(i.principal_fen >= 0 and i.interest_fen >= 0 for i in plan)
    assert all(isinstance(i.principal_fen, int) and isinstance(i.interest_fen, int) for i in plan)
    dues = [i.due_date for i in plan]
    assert dues == sorted(dues) and len(set(dues)) == term
    if method == "equal_principal":
        assert len({i.principal_fen for i in plan[:-1]}) <= 1  # the last one absorbs the remainder
    if method == "interest_only_bullet":
        assert [i.principal_fen for i in plan[:-1]] == [0] * (term - 1)
    if method == "equal_instalment" and term > 2:
        totals = {i.total_fen for i in plan[:-1]}
        assert max(totals) - min(totals) <= 1  # a level payment (interest rounding moves it by ≤ 1 fen)


def test_worked_schedule_equal_principal_and_month_ends():
    plan = build_schedule(
        principal_fen=20_000_000,
        rate_bp=350,
        start_date=dt.date(2026, 1, 31),
        method="equal_principal",
        first_month=1,
        last_month=24,
    )
    # 20,000,000 / 24 = 833,333.33 → 833,333 each; the last 20,000,000 − 23 × 833,333 = 833,341
    assert [i.principal_fen for i in plan[:2]] == [833_333, 833_333] and plan[-1].principal_fen == 833_341
    # interest: 20,000,000 × 3.5% / 12 = 58,333.33 → 58,333; then 19,166,667 × 3.5% / 12 = 55,902.78 → 55,903
    assert [i.interest_fen for i in plan[:2]] == [58_333, 55_903]
    # 民法典 month arithmetic: 31 January + 1 month = 28 February; + 2 months = 31 March
    assert [i.due_date for i in plan[:3]] == [
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
    ]


def test_level_payment_is_exact():
    # 120,000.00 at 3.6% over 12 months: r = 0.003, (1+r)^12 = 1.0365999803, A = 120,000 × 0.003 × 1.0365999803
    # / 0.0365999803 = 10,196.0709 yuan → 1,019,607 fen
    assert level_payment(12_000_000, 360, 12) == 1_019_607
    assert level_payment(1_200, 0, 12) == 100


def test_a_too_small_principal_is_refused():
    with pytest.raises(ValueError, match="本金过小"):
        build_schedule(
            principal_fen=20,
            rate_bp=0,
            start_date=dt.date(2026, 1, 1),
            method="equal_principal",
            first_month=1,
            last_month=36,
        )


def test_quarters():
    assert quarter_bounds("2026Q3") == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))
    assert quarter_bounds("2024Q1") == (dt.date(2024, 1, 1), dt.date(2024, 3, 31))
    with pytest.raises(ValidationFailed, match="YYYYQn"):
        quarter_bounds("2026-3")


def test_subsidised_rate_is_the_part_above_lpr_minus_n():
    assert gov_bp(350, 300, 150) == 200
    assert gov_bp(515, 365, 150) == 300
    assert gov_bp(100, 300, 150) == 0  # the borrower already pays less than LPR − 150bp
    assert gov_bp(350, 100, 150) == 350  # LPR − 150 below zero: the whole rate


def test_constant_balance_agrees_with_the_engine():
    """The settlement arithmetic and the engine's loan_interest_subsidy give the same fen for a quarter
    with a constant balance (PROVISIONS worked case: 151,667)."""
    calc = compute_subsidy(
        start=dt.date(2023, 4, 1),
        end=dt.date(2023, 6, 30),
        loan_start=dt.date(2023, 1, 10),
        subsidy_end=dt.date(2026, 1, 10),
        amount_fen=20_000_000,
        repayments=[],
        excluded=[],
        rate_bp=515,
        lpr_bp=365,
        below_city_bp=150,
        below_total_bp=150,
        ceiling_city_fen=20_000_000,
        ceiling_total_fen=20_000_000,
        day_count=360,
    )
    case = {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "loan": {
            "kind": "individual",
            "district": 500103,
            "contract_date": "2023-01-10",
            "amount_fen": 20_000_000,
            "term_months": 36,
            "lpr_bp": 365,
            "rate_bp": 515,
            "settle_start": "2023-04-01",
            "settle_end": "2023-06-30",
            "principal_fen": 20_000_000,
            "excluded_days": 0,
        },
    }
    doc = evaluate(case, dt.date(2023, 7, 5))
    engine = next(p for p in doc["programs"] if p["program"] == "loan_interest_subsidy")
    assert calc.total_fen == engine["amount_fen"] == 151_667
    assert calc.subsidised_days == 91 and calc.district_fen == 0


def test_excluded_days_and_the_end_of_the_term():
    calc = compute_subsidy(
        start=dt.date(2026, 7, 1),
        end=dt.date(2026, 9, 30),
        loan_start=dt.date(2026, 4, 10),
        subsidy_end=dt.date(2026, 7, 10),
        amount_fen=3_000_000,
        repayments=[],
        excluded=[("extension", dt.date(2026, 7, 10), dt.date(2026, 9, 9))],
        rate_bp=350,
        lpr_bp=300,
        below_city_bp=150,
        below_total_bp=150,
        ceiling_city_fen=50_000_000,
        ceiling_total_fen=50_000_000,
        day_count=360,
    )
    # 9 days (1–9 July) × 3,000,000 × 200bp / 360 = 1,500 fen; 10 July – 9 September extension (62 days),
    # 10–30 September past the term (21 days)
    assert (calc.subsidised_days, calc.excluded_days, calc.total_fen) == (9, 83, 1_500)
    assert [s.excluded for s in calc.segments] == [None, "extension", "term"]
