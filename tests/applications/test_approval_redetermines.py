"""核准 determines the application again on the day (service._still_due): what was granted since its
second review counts before it is approved, so nothing is paid twice — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.applications import application_in, state_of
from tests.applications.test_register import _approve, _budget, _grants, _reserved
from tests.applications.test_si_periods import SI, _registry
from xiangchuang.errors import InvalidTransition


def test_the_second_of_two_overlapping_social_insurance_claims_is_not_approved(db_engine, pii):
    """Two claims of one hire, 2024-01/2024-06 and 2024-04/2024-09, both reviewed and publicised
    while neither was approved: the first is approved and registered; the second, determined again,
    overlaps the registered months (README choices 49, 60) and is refused in Chinese with the
    engine's reason — before, both were approved and 2024-04..06 paid twice."""
    _registry(db_engine, pii)
    _budget(db_engine)
    a = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    b = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-04/2024-09")
    _approve(db_engine, a)
    with pytest.raises(
        InvalidTransition, match=r"核准前按登记库当前数据.*重新判定.*不一致，不能核准"
    ) as refused:
        _approve(db_engine, b)
    assert "2024-04" in str(refused.value)  # (the engine's reason names the overlapping months)
    assert state_of(db_engine, a) == "approved" and state_of(db_engine, b) == "publicity"
    assert _reserved(db_engine, b) == 0
    assert [g.period for g in _grants(db_engine, program=SI)] == ["2024-01/2024-06"]


def test_an_application_still_due_is_approved_at_the_amount_publicised(db_engine, pii):
    _registry(db_engine, pii)
    _budget(db_engine)
    a = application_in(db_engine, "publicity", kind=SI, subject="H-POOR", period="2024-01/2024-06")
    _approve(db_engine, a)
    assert state_of(db_engine, a) == "approved"
    (grant,) = _grants(db_engine, program=SI)
    assert grant.amount_fen == _reserved(db_engine, a) > 0


def test_the_workshop_award_year_is_the_applications_year(db_engine, pii):
    """The engine evaluates the year the application claims (businesses.claim_year), as for the
    startup subsidy: a 2023 application is determined for 2023, and once 2023 and 2024 are
    registered, another 2024 application is refused. Before, the engine evaluated its default year
    (2024) for the 2023 application, and a 2024 application was then paid for 2024 again."""
    from tests.applications.test_si_periods import _determination
    from tests.applications.test_workshop_build_facts import WS, YEAR_AWARD, _workshop

    _workshop(db_engine, pii, new_build=False, cost=None)
    _budget(db_engine)
    first = application_in(db_engine, "publicity", kind=WS, subject="B-WS", period="2023")
    det = _determination(db_engine, first, "second_review")
    (year_msg,) = [c["message"] for c in det["result"]["conditions"] if c["id"] == "claim_year_valid"]
    assert "2023" in year_msg and "2024" not in year_msg
    _approve(db_engine, first)
    second = application_in(db_engine, "publicity", kind=WS, subject="B-WS", period="2024年")
    _approve(db_engine, second)
    assert [(g.period, g.amount_fen) for g in _grants(db_engine, program=WS)] == [
        ("2023", YEAR_AWARD),
        ("2024", YEAR_AWARD),
    ]


def test_a_yearly_period_is_written_one_way() -> None:
    """「2024年」 and 「2024年度」 are the year 2024 (one once-per-year key, the register's period) —
    before, 「2024」 and 「2024年」 were two applications, each approved for the engine's 2024."""
    from xiangchuang.applications.kinds import check_period

    for kind in ("startup_subsidy", "workshop_award", "carrier_award", "job_subsidy"):
        assert [check_period(kind, t) for t in ("2024", " 2024年 ", "2024年度")] == ["2024"] * 3
        assert check_period(kind, "２０２４") == "２０２４"  # (not ASCII digits: not read as a year)
