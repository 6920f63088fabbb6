"""The community indicators per district and quarter (both databases): offers, consents, referrals and
outcomes, injury-insurance participation at quarter end, tags, demonstration places, project reach,
nominations, commendations, published stories — and the district rows add up to the city."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.audit import audit_key
from xiangchuang.community import places as P
from xiangchuang.community import service as S
from xiangchuang.community import typical as T
from xiangchuang.models import Nomination
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute
from xiangchuang.users.service import UserScope

A, B = 500101, 500102
Q2, Q3 = Quarter(2025, 2), Quarter(2025, 3)
REV = UserScope(level="district", user_id=1, login="t.rev", role="district_reviewer", district=A)
CITY_ADMIN = UserScope(level="city", user_id=2, login="t.city", role="city_admin")


def _world(engine, pii) -> None:
    key = audit_key(pii.cipher.ring)
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        p1 = reg.person(no="P-F1")
        reg.business(
            founder=p1,
            no="B-CLOSED",
            registration_date=dt.date(2021, 1, 1),
            deregistration_date=dt.date(2025, 4, 20),
        )
        p2 = reg.person(no="P-F2")
        reg.business(founder=p2, no="B-TAG", registration_date=dt.date(2022, 1, 1))
        # quarter-end (June 2025) small employers: two in A (one insured), one in B (insured)
        for no, district, insured in (("B-E1", A, True), ("B-E2", A, False), ("B-E3", B, True)):
            b = reg.business(
                founder=reg.person(), no=no, registration_date=dt.date(2022, 1, 1), district=district
            )
            e = reg.hire(b, reg.person(), dt.date(2024, 1, 1))
            reg.contributions(e, [202506], parts=(100, 100, 10, 10, 5 if insured else 0))
    with Session(engine) as s, s.begin():
        S.offer(s, scope=REV, audit_key=key, business_no="B-CLOSED", today=dt.date(2025, 5, 1))
        S.record_consent(
            s, scope=REV, audit_key=key, case_no="BF-B-CLOSED", kinds=["employment_service", "social_relief"],
            consent_on=dt.date(2025, 5, 2), today=dt.date(2025, 5, 2),
        )  # fmt: skip
        for kind in ("employment_service", "social_relief"):
            S.refer(
                s, scope=REV, audit_key=key, case_no="BF-B-CLOSED", kind=kind, agency="区就业服务中心",
                owner="张", referred_on=dt.date(2025, 5, 3), today=dt.date(2025, 5, 3),
            )  # fmt: skip
        S.record_outcome(
            s, scope=REV, audit_key=key, referral_no="BF-B-CLOSED-JY", outcome="employed",
            on=dt.date(2025, 7, 10), today=dt.date(2025, 7, 10),
        )  # fmt: skip
        P.tag_business(
            s, scope=REV, audit_key=key, business_no="B-TAG", tag_kind="village_product", tag="柑橘"
        )
        P.add_place(s, scope=REV, audit_key=key, place_code="T1", name="某镇", kind="town", district=A)
        P.designate(
            s, scope=REV, audit_key=key, place_code="T1", title="全国一村一品示范村镇", level="national",
            designated_on=dt.date(2025, 5, 1), today=dt.date(2025, 5, 1),
        )  # fmt: skip
        P.add_project(
            s, scope=REV, audit_key=key, project_no="DS1", kind="ecommerce_to_rural", title="电商进农村",
            district=A, start_on=dt.date(2025, 1, 1),
        )  # fmt: skip
        P.reach(
            s, scope=REV, audit_key=key, project_no="DS1", business_no="B-TAG", reached_on=dt.date(2025, 8, 1),
            today=dt.date(2025, 8, 1),
        )  # fmt: skip
        n = T.nominate(
            s, scope=REV, audit_key=key, person_no="P-F2", business_no="B-TAG", category="rural_business_leader",
            year=2025, headline="柑橘带头人", story="带动村民种植柑橘。", today=dt.date(2025, 5, 5),
        )  # fmt: skip
        no = n.nomination_no
    with engine.begin() as conn:  # the drawn review is tested end to end in test_api_community
        conn.execute(update(Nomination).values(state="selected", score_milli=90000))
    with Session(engine) as s, s.begin():
        T.commend(
            s, scope=CITY_ADMIN, audit_key=key, nomination_no=no, title="市级农村创业带头人", level="city",
            awarded_on=dt.date(2025, 8, 20), today=dt.date(2025, 8, 20),
        )  # fmt: skip
    with engine.begin() as conn:
        conn.execute(update(Nomination).values(state="published", published_on=dt.date(2025, 9, 1)))


def test_community_figures(db_engine, pii):
    _world(db_engine, pii)
    inds = registry.all_indicators("community")
    assert {i.id for i in inds} >= {
        "closures_offered",
        "injury_participation",
        "tagged_businesses",
        "nominations",
    }
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of(Q2, Q3), indicators=inds)
    q2, q3 = figs[Q2.label], figs[Q3.label]
    assert q2[("closures_offered", A, "")] == 1 and q2[("closures_consented", CITY, "")] == 1
    assert q2[("referrals_by_kind", A, "employment_service")] == 1
    assert q2[("referrals_by_kind", A, "social_relief")] == 1
    assert ("referral_outcomes", A, "employed") not in q2 and q3[("referral_outcomes", A, "employed")] == 1
    # injury insurance at the end of Q2 (June): A 1 of 2, B 1 of 1; the closed business does not count
    assert q2[("injury_participation", A, "insured")] == 1
    assert q2[("injury_participation", A, "not_insured")] == 1
    assert q2[("injury_participation", B, "insured")] == 1
    assert q2[("injury_participation", CITY, "insured")] == 2
    # cumulative: the tagged business (registered 2022) and the demonstration town count in both quarters
    for q in (q2, q3):
        assert q[("tagged_businesses", A, "village_product")] == 1
        assert q[("demonstration_places", A, "national")] == 1
    assert q3[("project_reach", A, "ecommerce_to_rural")] == 1
    assert q2[("nominations", A, "rural_business_leader")] == 1
    assert q3[("commendations", A, "city")] == 1 and q3[("stories_published", A, "")] == 1
    # district rows add up to the city total for every additive figure
    for q in (q2, q3):
        for (ind, district, dim), value in q.items():
            if district == CITY:
                parts = sum(v for (i, d, m), v in q.items() if i == ind and m == dim and d != CITY)
                assert parts == value, (ind, dim)
