"""The statistics count a business as founded by returning / incoming entrepreneurs as the engine does
(README choice 76): the business's own flag where given, else its founder's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.registry.factories import Registry
from xiangchuang.models import Business
from xiangchuang.stats.repository import is_returning


def test_the_businesss_own_flag_wins_over_its_founders(db_engine, pii) -> None:  # type: ignore[no-untyped-def]
    day = dt.date(2026, 8, 1)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        returning = reg.person(returning_entrepreneur=True)
        other = reg.person(returning_entrepreneur=False)
        ids = {
            "false_flag_returning_founder": reg.business(
                founder=returning, registration_date=day, founded_by_returning=False
            ),
            "no_flag_returning_founder": reg.business(
                founder=returning, registration_date=day, founded_by_returning=None
            ),
            "true_flag_other_founder": reg.business(
                founder=other, registration_date=day, founded_by_returning=True
            ),
            "no_flag_other_founder": reg.business(
                founder=other, registration_date=day, founded_by_returning=None
            ),
        }
        counted = set(conn.execute(select(Business.id).where(is_returning())).scalars())
    assert {name for name, bid in ids.items() if bid in counted} == {
        "no_flag_returning_founder",
        "true_flag_other_founder",
    }
