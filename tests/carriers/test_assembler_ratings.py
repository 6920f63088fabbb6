"""The registry assembler gives the engine a carrier's award year and rating: the CarrierRating of the
last completed year before the evaluation date; none recorded → both unknown (as in a batch file)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert

from tests.registry.factories import Registry
from xiangchuang.engine.facts import FACTS
from xiangchuang.models import CarrierRating
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.repository import Scope


def test_last_years_rating_is_the_award_year_and_rating(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        rated = reg.carrier(no="C-RATED", municipal_date=dt.date(2022, 3, 1))
        reg.carrier(no="C-UNRATED", municipal_date=dt.date(2022, 3, 1))
        for year, rating in ((2023, "B"), (2024, "A")):
            conn.execute(
                insert(CarrierRating).values(
                    carrier_id=rated, year=year, rating=rating, evidence="评估报告", rated_on=dt.date(year + 1, 1, 5),
                    recorded_by="u-reviewer",
                )
            )  # fmt: skip
    with db_engine.connect() as conn:
        facts = assemble_facts(conn, on=dt.date(2025, 3, 1), district=500101, subjects=Scope(district=500101))
        later = assemble_facts(conn, on=dt.date(2026, 3, 1), district=500101, subjects=Scope(district=500101))
    t = facts.tables["carriers"]
    row = {str(v): i for i, v in enumerate(t["id"].values)}
    r, u = row["C-RATED"], row["C-UNRATED"]
    assert t["award_year"].known[r] and int(t["award_year"].values[r]) == 2024
    assert t["rating"].known[r] and int(t["rating"].values[r]) == FACTS["carriers"]["rating"].code_of("A")
    assert not t["award_year"].known[u] and not t["rating"].known[u]
    # In 2026 the last completed year (2025) has no rating yet: unknown, not the older one.
    t2 = later.tables["carriers"]
    assert not t2["rating"].known[row["C-RATED"]]
