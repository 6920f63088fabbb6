"""Support after failure (3.10), places and trades (5.14), typical entrepreneurs (5.15): the API end to end,
on SQLite and PostgreSQL — each main path, and bad input (a Chinese error naming the field, nothing
half-written)."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import openpyxl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.chinatime import china_date
from xiangchuang.mentors import draw as D
from xiangchuang.models import (
    AuditEvent,
    Business,
    ClosureCase,
    ClosureReferral,
    Honour,
    Mentor,
    Nomination,
    OutboxMessage,
    Person,
    StatAlert,
)
from xiangchuang.stats.alerts import run_alerts

TODAY = china_date(dt.datetime.now(dt.UTC))
D1 = 500101


def _actions(engine, prefix: str = "community.") -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(AuditEvent.action).where(AuditEvent.action.like(prefix + "%")).order_by(AuditEvent.seq)
            ).scalars()
        )


def _person_no(engine, person_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Person.person_no).where(Person.id == person_id)).scalar_one()


def _business_no(engine, business_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(Business.business_no).where(Business.id == business_id)).scalar_one()


# ---- 3.10 after failure ------------------------------------------------------------------------------


def test_closure_consent_referral_outcome(as_role, db_engine, linked):
    closed = TODAY - dt.timedelta(days=10)
    with db_engine.begin() as conn:
        conn.execute(
            update(Business)
            .where(Business.id == linked["business_id"])
            .values(deregistration_date=closed, status="deregistered")
        )
    bno = _business_no(db_engine, linked["business_id"])
    staff = as_role("c.rev", "district_reviewer")
    other = as_role("c.rev2", "district_reviewer", 500102)
    app = as_role("c.app", "applicant")

    pending = staff.api("GET", "/api/v1/community/closures/pending").json()
    assert [p["business_no"] for p in pending] == [bno]
    assert other.api("GET", "/api/v1/community/closures/pending").json() == []  # another district's
    # another district may not offer; an open business cannot be offered
    assert other.api("POST", "/api/v1/community/closures", json={"business_no": bno}).status_code == 403
    r = staff.api("POST", "/api/v1/community/closures", json={"business_no": bno})
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["state"] == "offered" and case["founder_person_no"] == _person_no(
        db_engine, linked["person_id"]
    )
    no = case["case_no"]
    assert staff.api("GET", "/api/v1/community/closures/pending").json() == []
    assert staff.api("POST", "/api/v1/community/closures", json={"business_no": bno}).status_code == 409

    # no referral before consent
    refer = {
        "kind": "employment_service",
        "agency": "区就业服务中心",
        "owner": "张科员",
        "referred_on": TODAY.isoformat(),
    }
    r = staff.api("POST", f"/api/v1/community/closures/{no}/referrals", json=refer)
    assert r.status_code == 409 and "同意" in r.json()["detail"]
    # bad consent: empty scope, unknown kind, future date
    for body, word in (
        ({"kinds": [], "consent_on": TODAY.isoformat()}, "同意范围"),
        ({"kinds": ["lottery"], "consent_on": TODAY.isoformat()}, "同意范围"),
        ({"kinds": ["social_relief"], "consent_on": (TODAY + dt.timedelta(days=3)).isoformat()}, "同意日期"),
    ):
        r = app.api("POST", f"/api/v1/community/closures/{no}/consent", json=body)
        assert r.status_code == 422 and word in r.json()["detail"], r.text
    with Session(db_engine) as s:
        assert s.execute(select(ClosureCase.state)).scalar_one() == "offered"  # nothing half-written

    # the founder consents to two kinds
    r = app.api(
        "POST",
        f"/api/v1/community/closures/{no}/consent",
        json={"kinds": ["employment_service", "social_relief"], "consent_on": TODAY.isoformat()},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "consented" and r.json()["consent_via"] == "self"
    # outside the scope: refused
    r = staff.api(
        "POST", f"/api/v1/community/closures/{no}/referrals", json={**refer, "kind": "employment_assistance"}
    )
    assert r.status_code == 403 and "同意范围外" in r.json()["detail"]
    # bad referral: owner missing, phone number in the agency
    r = staff.api("POST", f"/api/v1/community/closures/{no}/referrals", json={**refer, "owner": " "})
    assert r.status_code == 422 and "跟踪责任人" in r.json()["detail"]
    r = staff.api(
        "POST", f"/api/v1/community/closures/{no}/referrals", json={**refer, "agency": "联系13812345678"}
    )
    assert r.status_code == 422 and "承接机构" in r.json()["detail"]
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(ClosureReferral)).scalar_one() == 0

    r = staff.api("POST", f"/api/v1/community/closures/{no}/referrals", json=refer)
    assert r.status_code == 201, r.text
    ref = r.json()["referrals"][0]
    assert (
        ref["state"] == "referred" and ref["next_followup_on"] == (TODAY + dt.timedelta(days=30)).isoformat()
    )
    r = staff.api(
        "POST",
        f"/api/v1/community/closures/{no}/referrals",
        json={**refer, "kind": "social_relief", "agency": "街道民政办"},
    )
    assert r.status_code == 201
    jy, jz = (x["referral_no"] for x in r.json()["referrals"])
    r = staff.api(
        "POST",
        f"/api/v1/community/referrals/{jy}/followups",
        json={"on": TODAY.isoformat(), "note": "已推荐3个岗位"},
    )
    assert r.status_code == 201, r.text
    r = staff.api(
        "POST", f"/api/v1/community/referrals/{jy}/outcome", json={"outcome": "won", "on": TODAY.isoformat()}
    )
    assert r.status_code == 422 and "转介结果" in r.json()["detail"]
    r = staff.api(
        "POST",
        f"/api/v1/community/referrals/{jy}/outcome",
        json={"outcome": "employed", "on": TODAY.isoformat()},
    )
    assert r.json()["state"] == "completed"
    assert app.api("GET", f"/api/v1/community/closures/{no}").json()["state"] == "consented"  # one still open
    r = staff.api(
        "POST",
        f"/api/v1/community/referrals/{jz}/outcome",
        json={"outcome": "relief_granted", "on": TODAY.isoformat()},
    )
    assert r.status_code == 200
    view = app.api("GET", "/api/v1/community/closures").json()
    assert len(view) == 1 and view[0]["state"] == "closed"
    assert {x["outcome"] for x in view[0]["referrals"]} == {"employed", "relief_granted"}
    # the founder was told through the outbox; every change audited
    with Session(db_engine) as s:
        assert (
            s.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.template == "community.closure_offer")
            ).scalar_one()
            == 1
        )
    assert _actions(db_engine) == [
        "community.closure_offer",
        "community.closure_consent",
        "community.referral_create",
        "community.referral_create",
        "community.referral_followup",
        "community.referral_outcome",
        "community.referral_outcome",
    ]


def test_withdrawing_consent_cancels_open_referrals(as_role, db_engine, linked):
    with db_engine.begin() as conn:
        conn.execute(
            update(Business)
            .where(Business.id == linked["business_id"])
            .values(deregistration_date=TODAY - dt.timedelta(days=3))
        )
    staff = as_role("c.clerk", "window_clerk")
    app = as_role("c.app", "applicant")
    stranger = as_role("c.city", "city_admin")
    no = staff.api(
        "POST",
        "/api/v1/community/closures",
        json={"business_no": _business_no(db_engine, linked["business_id"])},
    ).json()["case_no"]
    # staff record a signed paper consent
    r = staff.api(
        "POST",
        f"/api/v1/community/closures/{no}/consent",
        json={"kinds": ["employment_assistance"], "consent_on": TODAY.isoformat()},
    )
    assert r.json()["consent_via"] == "staff"
    staff.api(
        "POST",
        f"/api/v1/community/closures/{no}/referrals",
        json={
            "kind": "employment_assistance",
            "agency": "区就业援助站",
            "owner": "李",
            "referred_on": TODAY.isoformat(),
        },
    )
    r = app.api("POST", f"/api/v1/community/closures/{no}/withdraw", json={"on": TODAY.isoformat()})
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert r.json()["referrals"][0]["state"] == "cancelled"
    # the city admin sees it; a non-staff role does not
    assert stranger.api("GET", f"/api/v1/community/closures/{no}").status_code == 200
    bank = as_role("c.bank", "bank", D1)
    assert bank.api("GET", f"/api/v1/community/closures/{no}").status_code == 403


def test_low_injury_participation_alerts_the_district(db_engine, pii):
    """4 small employers in 500101 last month, one pays injury insurance (25 % < 60 %): an alert to the
    district's reviewers through the outbox; once three pay (75 %) it resolves by itself."""
    from xiangchuang.audit import audit_key
    from xiangchuang.community.service import injury_participation, previous_month

    month = previous_month(TODAY)
    first = dt.date(month // 100, month % 100, 1)
    key = audit_key(pii.cipher.ring)
    emps = []
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        for _ in range(4):
            p = reg.person()
            b = reg.business(founder=p, registration_date=dt.date(2022, 1, 1))
            worker = reg.person()
            emps.append(reg.hire(b, worker, dt.date(2023, 1, 1)))
        # a medium business and a closed one do not count
        big = reg.business(founder=reg.person(), registration_date=dt.date(2022, 1, 1), size_class="medium")
        reg.hire(big, reg.person(), dt.date(2023, 1, 1))
        gone = reg.business(
            founder=reg.person(),
            registration_date=dt.date(2022, 1, 1),
            deregistration_date=first - dt.timedelta(days=1),
        )
        reg.hire(gone, reg.person(), dt.date(2023, 1, 1))
        reg.contributions(emps[0], [month])
        reg.contributions(emps[1], [month], parts=(100, 100, 10, 10, 0))  # no injury part
    with Session(db_engine) as s:
        rows = injury_participation(s, month=month)
        assert [(r["district"], r["employers"], r["insured"]) for r in rows] == [(D1, 4, 1)]
    with Session(db_engine) as s:
        from xiangchuang.community.service import uninsured_employers
        from xiangchuang.users.service import UserScope

        rev = UserScope(level="district", user_id=1, login="t", role="district_reviewer", district=D1)
        assert len(uninsured_employers(s, scope=rev, month=month)) == 3
    now = dt.datetime.now(dt.UTC)
    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=key, now=now, rules=["injury_participation_low"])
    assert res.by_rule == {"injury_participation_low": 1} and len(res.opened) == 1
    with Session(db_engine) as s:
        alert = s.execute(select(StatAlert)).scalar_one()
        assert alert.district == D1 and alert.role == "district_reviewer" and "25.0%" in alert.message
        msg = s.execute(select(OutboxMessage).where(OutboxMessage.template == "stats.alert")).scalar_one()
        assert msg.recipient_role == "district_reviewer" and msg.recipient_district == D1
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg.contributions(emps[2], [month])
        reg.contributions(emps[3], [month])
    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=key, now=now, rules=["injury_participation_low"])
    assert res.resolved and not res.opened


def test_a_query_month_is_one_of_the_supported_range(as_role):
    """The injury-participation month had its own range (years 1900–2999): 2100-01 was queried. Now an
    input month of README choice 28 (engine.dates), refused in its one wording; 2099-12 is still a month."""
    rev = as_role("c.rev", "district_reviewer")
    urls = ("/api/v1/community/injury-participation", "/api/v1/community/injury-participation/uninsured")
    for url in urls:
        for month, label in ((210001, "2100-01"), (189912, "1899-12"), (300001, "3000-01")):
            r = rev.api("GET", url, params={"month": month})
            assert r.status_code == 422, r.text
            assert r.json()["detail"] == f"月份 {label} 超出范围，须在1900-01至2099-12之间"
        r = rev.api("GET", url, params={"month": 202413})
        assert r.status_code == 422 and "应为 YYYYMM" in r.json()["detail"]
        assert rev.api("GET", url, params={"month": 209912}).status_code == 200


# ---- 5.14 places and trades ---------------------------------------------------------------------------


def test_tag_place_project_report(as_role, db_engine, linked):
    rev = as_role("c.rev", "district_reviewer")
    clerk = as_role("c.clerk", "window_clerk")
    bno = _business_no(db_engine, linked["business_id"])
    r = clerk.api(
        "POST",
        "/api/v1/community/business-tags",
        json={"business_no": bno, "tag_kind": "village_product", "tag": "柑橘"},
    )
    assert r.status_code == 201, r.text
    r = clerk.api(
        "POST",
        "/api/v1/community/business-tags",
        json={"business_no": bno, "tag_kind": "village_product", "tag": "柑橘"},
    )
    assert r.status_code == 409
    r = clerk.api(
        "POST",
        "/api/v1/community/business-tags",
        json={"business_no": bno, "tag_kind": "star", "tag": "柑橘"},
    )
    assert r.status_code == 422 and "标签类型" in r.json()["detail"]
    # places: a clerk may not add them; a village needs its town
    town = {"place_code": "500101001", "name": "高笋塘街道", "kind": "town", "district": D1}
    assert clerk.api("POST", "/api/v1/community/places", json=town).status_code == 403
    assert rev.api("POST", "/api/v1/community/places", json=town).status_code == 201
    village = {"place_code": "500101001201", "name": "青龙村", "kind": "village", "district": D1}
    r = rev.api("POST", "/api/v1/community/places", json=village)
    assert r.status_code == 422 and "所属乡镇" in r.json()["detail"]
    assert (
        rev.api("POST", "/api/v1/community/places", json={**village, "town_code": "500101001"}).status_code
        == 201
    )
    r = rev.api(
        "POST", "/api/v1/community/places/500101001/tags", json={"tag_kind": "village_product", "tag": "柑橘"}
    )
    assert r.status_code == 422 and "一村一品" in r.json()["detail"]
    assert (
        rev.api(
            "POST",
            "/api/v1/community/places/500101001201/tags",
            json={"tag_kind": "village_product", "tag": "柑橘"},
        ).status_code
        == 201
    )
    r = rev.api(
        "POST",
        "/api/v1/community/places/500101001201/designations",
        json={
            "title": "全国一村一品示范村镇",
            "level": "national",
            "designated_on": "2024-12-01",
            "reference": "农办市〔2024〕8号",
            "tag": "柑橘",
        },
    )
    assert r.status_code == 201, r.text
    r = rev.api(
        "POST",
        "/api/v1/community/places/500101001201/designations",
        json={"title": "示范村", "level": "galactic", "designated_on": "2024-12-01"},
    )
    assert r.status_code == 422 and "级别" in r.json()["detail"]
    # a project and the businesses it reaches
    proj = {
        "project_no": "DS-2025-01",
        "kind": "ecommerce_to_rural",
        "title": "电子商务进农村综合示范",
        "district": D1,
        "start_on": "2025-01-01",
        "end_on": None,
        "place_code": "500101001201",
        "operator": "区商务委",
    }
    assert (
        rev.api("POST", "/api/v1/community/projects", json={**proj, "end_on": "2024-01-01"}).status_code
        == 422
    )
    assert rev.api("POST", "/api/v1/community/projects", json=proj).status_code == 201
    r = clerk.api(
        "POST",
        "/api/v1/community/projects/DS-2025-01/reach",
        json={"business_no": bno, "reached_on": "2024-06-01"},
    )
    assert r.status_code == 422 and "实施期" in r.json()["detail"]
    r = clerk.api(
        "POST",
        "/api/v1/community/projects/DS-2025-01/reach",
        json={"business_no": bno, "reached_on": TODAY.isoformat(), "service": "开设网店"},
    )
    assert r.status_code == 201, r.text
    projects = rev.api("GET", "/api/v1/community/projects").json()
    assert projects[0]["businesses"][0]["business_no"] == bno
    report = rev.api("GET", "/api/v1/community/tag-report").json()
    assert report == [
        {
            "tag_kind": "village_product",
            "tag_kind_label": "一村一品",
            "tag": "柑橘",
            "businesses": 1,
            "open_businesses": 1,
            "staff": 5,
            "districts": report[0]["districts"],
            "places": 1,
            "demonstration_places": 1,
            "reached_info": 0,
            "reached_ecommerce": 1,
        }
    ]
    x = rev.api("GET", "/api/v1/community/tag-report.xlsx")
    assert x.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(x.content))
    assert wb.sheetnames == ["按标签汇总", "标注主体明细"]
    assert [c.value for c in wb["按标签汇总"][3]][:4] == ["一村一品", "柑橘", 1, 1]
    assert wb["标注主体明细"]["C2"].value == bno
    # another district sees none of it
    other = as_role("c.rev2", "district_reviewer", 500102)
    assert other.api("GET", "/api/v1/community/tag-report").json() == []
    assert len([a for a in _actions(db_engine) if a.startswith("community.")]) == 7


# ---- 5.15 typical entrepreneurs ---------------------------------------------------------------------


def _mentors(engine, pii, logins: list[str]) -> None:
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(200)
        for i, login in enumerate(logins):
            pid = reg.person(hukou_district=500102)
            conn.execute(
                Mentor.__table__.insert().values(
                    mentor_no=f"M-{i}",
                    person_id=pid,
                    level="city",
                    specialty="agriculture",
                    district=500102,
                    available=True,
                    status="active",
                    user_id=login,
                )
            )


def test_nomination_drawn_panel_scores_consent_publication(as_role, client, db_engine, pii, linked):
    pno = _person_no(db_engine, linked["person_id"])
    bno = _business_no(db_engine, linked["business_id"])
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(100)  # the linked applicant used the first numbers
        for _ in range(3):
            reg.hire(linked["business_id"], reg.person(), dt.date(2023, 3, 1))
        reg.year(
            linked["business_id"], TODAY.year - 2, employer_si_paid_fen=100_000, online_revenue_fen=1_000_000
        )
        reg.year(
            linked["business_id"], TODAY.year - 1, employer_si_paid_fen=150_000, online_revenue_fen=1_500_000
        )
    rev = as_role("c.rev", "district_reviewer")
    city = as_role("c.city", "city_admin")
    sup = as_role("c.sup", "city_admin")
    app = as_role("c.app", "applicant")
    judges = [as_role(f"c.m{i}", "mentor") for i in range(3)]
    _mentors(db_engine, pii, [f"c.m{i}" for i in range(3)])

    body = {
        "person_no": pno,
        "business_no": bno,
        "category": "returning_entrepreneur",
        "year": TODAY.year,
        "headline": "返乡种柑橘，带动乡亲就业",
        "story": "2022年返乡创办合作社，带动村民就业。",
    }
    for bad, word in (
        ({**body, "category": "hero"}, "推荐类别"),
        ({**body, "story": "联系电话13812345678"}, "事迹材料"),
        ({**body, "headline": ""}, "事迹标题"),
    ):
        r = rev.api("POST", "/api/v1/community/nominations", json=bad)
        assert r.status_code == 422 and word in r.json()["detail"], r.text
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Nomination)).scalar_one() == 0
    r = rev.api("POST", "/api/v1/community/nominations", json=body)
    assert r.status_code == 201, r.text
    nom = r.json()
    ev = nom["evidence"]
    assert ev["jobs_created"] == 3 and ev["current_staff"] == 3 and ev["si_growth_pct"] == 50.0
    assert ev["online_growth_pct"] == 50.0
    no = nom["nomination_no"]
    assert rev.api("POST", "/api/v1/community/nominations", json=body).status_code == 409

    # the review: a mentor event drawn by the mentor draw
    event_day = TODAY + dt.timedelta(days=1)
    review = {
        "event_no": "DX-REVIEW-1",
        "title": "创业典型评审",
        "nomination_nos": [no],
        "event_date": event_day.isoformat(),
        "unseal_at": (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat(),
        "quotas": [{"specialty": "agriculture", "level": "city", "count": 3}],
        "backups": 0,
        "organiser_user": "c.city",
        "supervisor_user": "c.sup",
    }
    assert rev.api("POST", "/api/v1/community/reviews", json=review).status_code == 403
    r = city.api("POST", "/api/v1/community/reviews", json=review)
    assert r.status_code == 201, r.text
    assert rev.api("GET", f"/api/v1/community/nominations/{no}").json()["state"] == "in_review"
    secrets = {"c.city": D.make_secret(), "c.sup": D.make_secret()}
    for client, login, party in ((city, "c.city", "organiser"), (sup, "c.sup", "supervisor")):
        r = client.api(
            "POST",
            "/api/v1/community/reviews/DX-REVIEW-1/commit",
            json={"commitment": D.commitment("DX-REVIEW-1", party, secrets[login])},
        )
        assert r.status_code == 200, r.text
    for client, login in ((city, "c.city"), (sup, "c.sup")):
        assert (
            client.api(
                "POST", "/api/v1/community/reviews/DX-REVIEW-1/reveal", json={"secret": secrets[login]}
            ).status_code
            == 200
        )
    r = city.api("POST", "/api/v1/community/reviews/DX-REVIEW-1/draw")
    assert r.status_code == 200 and r.json()["state"] == "drawn", r.text
    # not all scores in: finalize refused, nothing changes
    r = judges[0].api(
        "POST", "/api/v1/community/reviews/DX-REVIEW-1/scores", json={"project_no": no, "score": 101}
    )
    assert r.status_code == 422 and "评分" in r.json()["detail"]
    for j, score in zip(judges, (90, 85, 88), strict=True):
        assert (
            j.api(
                "POST",
                "/api/v1/community/reviews/DX-REVIEW-1/scores",
                json={"project_no": no, "score": score},
            ).status_code
            == 201
        )
    r = city.api("POST", "/api/v1/community/reviews/DX-REVIEW-1/finalize")
    assert r.status_code == 200, r.text
    assert r.json()[0]["state"] == "selected" and r.json()[0]["score"] == 87.667

    # publication needs the person's consent
    r = rev.api("POST", f"/api/v1/community/nominations/{no}/publish")
    assert r.status_code == 403 and "同意" in r.json()["detail"]
    assert (
        rev.api(
            "POST", f"/api/v1/community/nominations/{no}/consent", json={"publish_name": "王某"}
        ).status_code
        == 403
    )
    r = app.api("POST", f"/api/v1/community/nominations/{no}/consent", json={"publish_name": "王1"})
    assert r.status_code == 422 and "姓名" in r.json()["detail"]
    assert (
        app.api(
            "POST", f"/api/v1/community/nominations/{no}/consent", json={"publish_name": "王创业"}
        ).status_code
        == 200
    )
    assert rev.api("POST", f"/api/v1/community/nominations/{no}/publish").json()["state"] == "published"
    # a commendation (city level: also a registry honour); a district reviewer may only record district level
    cm = {
        "title": "重庆市返乡创业之星",
        "level": "city",
        "awarded_on": TODAY.isoformat(),
        "reference": "渝人社〔2026〕9号",
    }
    assert rev.api("POST", f"/api/v1/community/nominations/{no}/commendations", json=cm).status_code == 403
    assert city.api("POST", f"/api/v1/community/nominations/{no}/commendations", json=cm).status_code == 201
    with Session(db_engine) as s:
        assert (
            s.execute(select(Honour.level).where(Honour.person_id == linked["person_id"])).scalar_one()
            == "city"
        )

    # the public page: the consented name and story only, no registry numbers
    anon = client
    stories = anon.get("/api/v1/community/stories").json()
    assert [s["name"] for s in stories] == ["王创业"]
    assert stories[0]["commendations"][0]["title"] == "重庆市返乡创业之星"
    page = anon.get("/stories")
    assert page.status_code == 200 and "王创业" in page.text and "返乡种柑橘" in page.text
    assert pno not in page.text and bno not in page.text and "测试人员" not in page.text
    # withdrawing consent takes it off at once
    assert (
        app.api("POST", f"/api/v1/community/nominations/{no}/withdraw-consent").json()["state"] == "selected"
    )
    assert anon.get("/api/v1/community/stories").json() == []
    assert "王创业" not in anon.get("/stories").text
    acts = _actions(db_engine)
    assert acts[:3] == ["community.nominate", "community.review_open", "community.review_results"]
    assert acts[-4:] == [
        "community.publication_consent",
        "community.publish",
        "community.commend",
        "community.publication_withdraw",
    ]
    assert {"mentor_draw.commit", "mentor_draw.draw", "mentor_score.finalize"} <= set(
        _actions(db_engine, "mentor")
    )


def test_overdue_followup_alerts_until_followed_up(db_engine, pii):
    from xiangchuang.audit import audit_key
    from xiangchuang.community import service as S
    from xiangchuang.users.service import UserScope

    key = audit_key(pii.cipher.ring)
    staff = UserScope(level="district", user_id=1, login="t.rev", role="district_reviewer", district=D1)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg.business(
            founder=reg.person(), no="B-X", registration_date=dt.date(2021, 1, 1),
            deregistration_date=TODAY - dt.timedelta(days=80),
        )  # fmt: skip
    start = TODAY - dt.timedelta(days=70)
    with Session(db_engine) as s, s.begin():
        S.offer(s, scope=staff, audit_key=key, business_no="B-X", today=start)
        S.record_consent(
            s, scope=staff, audit_key=key, case_no="BF-B-X", kinds=["social_relief"], consent_on=start, today=start
        )  # fmt: skip
        S.refer(
            s, scope=staff, audit_key=key, case_no="BF-B-X", kind="social_relief", agency="街道民政办",
            owner="李", referred_on=start, today=start,
        )  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=key, now=now, rules=["referral_followup_overdue"])
    assert res.by_rule == {"referral_followup_overdue": 1}
    with Session(db_engine) as s:
        alert = s.execute(select(StatAlert)).scalar_one()
        assert alert.district == D1 and "已逾期 40 天" in alert.message
    with Session(db_engine) as s, s.begin():
        S.follow_up(
            s,
            scope=staff,
            audit_key=key,
            referral_no="BF-B-X-JZ",
            on=TODAY,
            note="已受理低保申请",
            today=TODAY,
        )
    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=key, now=now, rules=["referral_followup_overdue"])
    assert res.resolved and not res.opened
