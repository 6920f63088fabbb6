"""The outreach indicators per district and quarter (China dates), on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.models import IntroducedTalent, OutreachContact, OutreachPerson, OutreachVenture
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute

Q2, Q3 = Quarter(2026, 2), Quarter(2026, 3)
A, B = 500101, 500102


def _person(conn, k: int, district: int, created: dt.datetime, returned: dt.date | None = None) -> int:
    return int(
        conn.execute(
            insert(OutreachPerson)
            .values(
                ref_no=f"WCTEST{k}",
                district=district,
                home_town="龙兴镇",
                work_place="深圳",
                trade="电子",
                skills="焊接",
                name_enc=b"x",
                phone_enc=b"x",
                phone_bidx=f"bidx{k}",
                consent_on=dt.date(2026, 1, 1),
                consent_scope="phone",
                status="returned" if returned else "away",
                returned_on=returned,
                created_by="t",
                created_at=created,
            )
            .returning(OutreachPerson.id)
        ).scalar_one()
    )


def test_outreach_figures_by_district_and_quarter(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        founder = reg.person()
        business = reg.business(founder=founder, registration_date=dt.date(2026, 8, 3))
        staff = reg.person()
        # 23:30 China time on 30 June is Q2; 00:30 China time on 1 July is Q3
        p1 = _person(
            conn, 1, A, dt.datetime(2026, 6, 30, 15, 30, tzinfo=dt.UTC), returned=dt.date(2026, 7, 20)
        )
        p2 = _person(conn, 2, A, dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC))
        p3 = _person(conn, 3, B, dt.datetime(2026, 8, 1, 2, 0, tzinfo=dt.UTC))
        for pid, day, method in (
            (p1, dt.date(2026, 7, 2), "phone"),
            (p1, dt.date(2026, 7, 9), "visit"),
            (p2, dt.date(2026, 9, 30), "sms"),
            (p3, dt.date(2026, 5, 5), "phone"),
        ):
            conn.execute(
                insert(OutreachContact).values(
                    outreach_person_id=pid,
                    district=A if pid != p3 else B,
                    contacted_on=day,
                    method=method,
                    answer="interested",
                    note="",
                    recorded_by="t",
                )
            )
        conn.execute(
            insert(OutreachVenture).values(
                outreach_person_id=p1,
                business_id=business,
                district=A,
                started_on=dt.date(2026, 8, 3),
                recorded_by="t",
            )
        )
        conn.execute(
            insert(IntroducedTalent).values(
                district=A,
                business_id=business,
                person_id=staff,
                position="技术员",
                category="technical",
                qualification="",
                hired_on=dt.date(2026, 8, 10),
                evidence="合同",
                state="recognised",
                proposed_by="a",
                decided_by="b",
                decided_on=dt.date(2026, 9, 1),
            )
        )
    inds = [i for i in registry.all_indicators() if i.group == "outreach"]
    assert {i.id for i in inds} == {
        "outreach_registered",
        "outreach_registered_total",
        "outreach_contacted",
        "outreach_returned",
        "outreach_ventures",
        "introduced_talent",
    }
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of(Q2, Q3), indicators=inds)

    def v(q, ind, district=CITY, dim=""):
        return figs[q.label].get((ind, district, dim), 0)

    assert (
        v(Q2, "outreach_registered", A),
        v(Q3, "outreach_registered", A),
        v(Q3, "outreach_registered", B),
    ) == (1, 1, 1)
    assert (v(Q2, "outreach_registered_total"), v(Q3, "outreach_registered_total")) == (1, 3)
    assert v(Q3, "outreach_contacted", A) == 2  # p1 twice → once, p2 once
    assert (v(Q2, "outreach_contacted", B), v(Q3, "outreach_contacted", B)) == (1, 0)
    assert (v(Q3, "outreach_returned", A), v(Q3, "outreach_returned")) == (1, 1)
    assert v(Q3, "outreach_ventures", A) == 1 and v(Q2, "outreach_ventures", A) == 0
    assert (
        v(Q3, "introduced_talent", A, "technical") == 1 and v(Q3, "introduced_talent", A, "management") == 0
    )
