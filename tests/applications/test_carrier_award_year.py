"""The carrier award is determined for the application's own year (``carriers.award_year`` = its claim
year, ``rating`` = the carrier's 等次 of that year), at review, publicity and approval alike — as the
workshop award is for its ``claim_year`` (README choice 87) — on SQLite and PostgreSQL. Before, the
performance part followed the rating of the last completed year before the day of the determination."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, KEY, PARAMS, application_in, state_of
from tests.applications.test_register import _budget, _grants
from tests.applications.test_si_periods import _determination
from tests.registry.factories import Registry
from xiangchuang.applications import disbursement
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import Application, CarrierRating

CA = "carrier_award"
ONEOFF, A_AWARD, B_AWARD = 60_000_000, 30_000_000, 20_000_000  # 市级一次性; 绩效 A / B 等 (fen)


def _carrier(engine, pii, ratings: dict[int, str]) -> None:
    with engine.begin() as conn:
        carrier = Registry(conn, pii).carrier(no="C-AW", municipal_date=dt.date(2022, 3, 1))
        for year, rating in ratings.items():
            conn.execute(
                insert(CarrierRating).values(
                    carrier_id=carrier, year=year, rating=rating, evidence="评估报告",
                    rated_on=dt.date(year + 1, 1, 5), recorded_by="u-reviewer",
                )
            )  # fmt: skip


def _performance(engine, app_id: int, stage: str) -> tuple[str, str]:
    det = _determination(engine, app_id, stage)
    (cond,) = [c for c in det["result"]["conditions"] if c["id"] == "performance"]
    return cond["status"], cond["message"]


def test_review_judges_the_rating_of_the_year_applied_for(db_engine, pii):
    """A 2023 application reviewed in 2025 (NOW): the 2023 rating (B), not the 2024 one (A)."""
    _carrier(db_engine, pii, {2023: "B", 2024: "A"})
    app = application_in(db_engine, "publicity", kind=CA, subject="C-AW", period="2023")
    status, message = _performance(db_engine, app, "second_review")
    assert status == "pass" and "2023" in message and "2024" not in message
    det = _determination(db_engine, app, "second_review")
    assert det["result"]["amount_fen"] == ONEOFF + B_AWARD


def test_approval_in_the_next_year_judges_the_year_applied_for(db_engine, pii):
    """A 2024 application reviewed and publicised in 2025 is approved in January 2026, before any 2025
    rating is recorded: approval determines it again for 2024 (rating A) and approves it. Before, the
    approval read the 2025 rating (none: 待定) and was refused."""
    _carrier(db_engine, pii, {2024: "A"})
    _budget(db_engine)
    app = application_in(db_engine, "publicity", kind=CA, subject="C-AW", period="2024")
    assert _determination(db_engine, app, "second_review")["result"]["amount_fen"] == ONEOFF + A_AWARD
    with transaction(make_sessionmaker(db_engine)) as s:
        disbursement.act(
            s,
            application_id=app,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=dt.datetime(2026, 1, 12, 2, 0, tzinfo=dt.UTC),
            params=PARAMS,
        )
    assert state_of(db_engine, app) == "approved"
    assert {g.period: g.amount_fen for g in _grants(db_engine, program=CA)} == {
        "oneoff": ONEOFF,
        "performance:2024": A_AWARD,
    }
    with Session(db_engine) as s:
        approved = s.execute(select(Application.amount_approved_fen).where(Application.id == app)).scalar()
    assert approved == ONEOFF + A_AWARD


def test_a_year_without_a_rating_is_undetermined(db_engine, pii):
    """No rating recorded for the year applied for: the performance part is unknown (待定), even though
    another year is rated — never that year's rating."""
    _carrier(db_engine, pii, {2024: "A"})
    app = application_in(db_engine, "second_review", kind=CA, subject="C-AW", period="2023")
    status, _ = _performance(db_engine, app, "first_review")
    assert status == "unknown"
