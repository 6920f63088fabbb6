"""The mentor pool's quarterly indicators (stats/ind_mentors.py) on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from tests.mentors.test_service import _drawn
from xiangchuang.mentors import service as S
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Window
from xiangchuang.stats.service import CITY, compute

IDS = ("mentors_in_pool", "mentor_services", "mentor_service_units", "mentor_events", "mentor_draws")


def test_pool_services_events_and_draws_per_quarter(db_engine, pii, tmp_path):
    keys, _draw_id, status = _drawn(db_engine, pii, tmp_path)
    assert status == "drawn"
    with Session(db_engine) as s, s.begin():
        for no, units in (("S1", 3), ("S2", 2)):
            S.record_service(
                s,
                keys=keys,
                actor="u-org",
                role="organiser",
                service_no=no,
                mentor_no="T04",
                activity="lecture",
                units=units,
                district=500101,
                occurred_on=dt.date(2025, 2, 1),
                organiser="万州区就业局",
            )
        S.confirm_service(s, keys=keys, actor="u-org", role="organiser", service_no="S1", rating="good")
    inds = [registry.get(i) for i in IDS]
    assert {i.group for i in inds} == {"mentors"}
    now_q = f"{dt.date.today().year}Q{(dt.date.today().month - 1) // 3 + 1}"
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of("2025Q1", "2025Q2"), indicators=inds)
        pool = compute(s, window=Window.of(now_q), indicators=inds[:1])[now_q]
    q1, q2 = figs["2025Q1"], figs["2025Q2"]
    assert q1[("mentor_services", 500101, "lecture")] == 2
    assert q1[("mentor_service_units", 500101, "lecture")] == 3  # only the confirmed record
    # the city event is counted where its projects are (B-APP in 500102), once
    assert q2[("mentor_events", 500102, "project_review")] == 1
    assert q2[("mentor_events", CITY, "project_review")] == 1
    assert q2[("mentor_draws", 500102, "drawn")] == 1
    # 9 city-level and 5 district-level mentors of 万州区 (500101) are in the pool
    assert pool[("mentors_in_pool", 500101, "city")] == 9
    assert pool[("mentors_in_pool", 500101, "district")] == 5
