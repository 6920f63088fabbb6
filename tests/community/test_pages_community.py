"""The community pages (both databases): staff forms, the applicant's consents, the public stories page;
a refused form re-renders with the Chinese reason (role="alert") and writes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from xiangchuang.chinatime import china_date
from xiangchuang.models import AuditEvent, Business, ClosureCase, Nomination, Person, Place

TODAY = china_date(dt.datetime.now(dt.UTC))


def _count(engine, model) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def test_closure_pages_and_applicant_consent(as_role, db_engine, linked):
    staff = as_role("p.rev", "district_reviewer")
    app = as_role("p.app", "applicant")
    with db_engine.connect() as conn:
        bno = conn.execute(
            select(Business.business_no).where(Business.id == linked["business_id"])
        ).scalar_one()
    assert staff.get("/community/closures").status_code == 200
    r = staff.post("/community/closures", {"business_no": bno})  # not deregistered
    assert r.status_code == 422 and 'role="alert"' in r.text and "未注销" in r.text
    assert _count(db_engine, ClosureCase) == 0
    with db_engine.begin() as conn:
        conn.execute(
            update(Business)
            .where(Business.id == linked["business_id"])
            .values(deregistration_date=TODAY - dt.timedelta(days=2))
        )
    assert bno in staff.get("/community/closures").text
    r = staff.post("/community/closures", {"business_no": bno})
    assert r.status_code == 303
    case_url = r.headers["location"]
    case_no = case_url.rsplit("/", 1)[1]
    r = staff.post(f"{case_url}/consent", {"consent_on": TODAY.isoformat()})  # no kind ticked
    assert r.status_code == 422 and 'role="alert"' in r.text and "同意范围" in r.text
    # the founder consents on their own page
    page = app.get("/me/community")
    assert page.status_code == 200 and case_no in page.text
    r = app.post("/me/community/consent", {"case_no": case_no, "kinds": ["employment_service"]})
    assert r.status_code == 303, r.text
    r = staff.post(
        f"{case_url}/refer",
        {
            "kind": "employment_service",
            "agency": "区就业服务中心",
            "owner": "",
            "referred_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 422 and "跟踪责任人" in r.text
    r = staff.post(
        f"{case_url}/refer",
        {
            "kind": "employment_service",
            "agency": "区就业服务中心",
            "owner": "张",
            "referred_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 303
    page = staff.get(case_url)
    assert "已转介" in page.text and "区就业服务中心" in page.text
    r = staff.post(
        f"{case_url}/outcome", {"referral_no": f"{case_no}-JY", "outcome": "employed", "on": "bad"}
    )
    assert r.status_code == 422 and "结果日期" in r.text
    r = staff.post(
        f"{case_url}/outcome",
        {"referral_no": f"{case_no}-JY", "outcome": "employed", "on": TODAY.isoformat()},
    )
    assert r.status_code == 303
    assert "已办结" in staff.get(case_url).text
    # an applicant cannot open the staff pages
    assert app.get(case_url).status_code == 403


def test_places_and_nomination_pages(as_role, db_engine, linked, client):
    rev = as_role("p.rev", "district_reviewer")
    app = as_role("p.app", "applicant")
    r = rev.post(
        "/community/places/place", {"place_code": "T-1", "name": "某镇", "kind": "town", "district": "abc"}
    )
    assert r.status_code == 422 and 'role="alert"' in r.text and "区县代码" in r.text
    assert _count(db_engine, Place) == 0
    r = rev.post(
        "/community/places/place", {"place_code": "T-1", "name": "某镇", "kind": "town", "district": "500101"}
    )
    assert r.status_code == 303
    assert "某镇" in rev.get("/community/places").text
    x = rev.get("/community/tag-report.xlsx")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    with db_engine.connect() as conn:
        pno = conn.execute(select(Person.person_no).where(Person.id == linked["person_id"])).scalar_one()
        bno = conn.execute(
            select(Business.business_no).where(Business.id == linked["business_id"])
        ).scalar_one()
    form = {
        "person_no": pno,
        "business_no": bno,
        "category": "rural_business_leader",
        "year": str(TODAY.year),
        "headline": "带头人",
        "story": "请拨打 13812345678",
    }
    r = rev.post("/community/nominations", form)
    assert r.status_code == 422 and "事迹材料" in r.text
    assert _count(db_engine, Nomination) == 0
    r = rev.post("/community/nominations", {**form, "story": "带领村民发展产业。"})
    assert r.status_code == 303
    url = r.headers["location"]
    no = url.rsplit("/", 1)[1]
    assert "尚未送评" in rev.get(url).text
    r = rev.post(f"{url}/publish")
    assert r.status_code == 422 and "入选" in r.text
    # the person's own consent page
    assert no in app.get("/me/community").text
    r = app.post("/me/community/publish-consent", {"nomination_no": no, "publish_name": "x"})
    assert r.status_code == 422 and "姓名" in r.text
    assert (
        app.post("/me/community/publish-consent", {"nomination_no": no, "publish_name": "张某某"}).status_code
        == 303
    )
    assert "已同意" in rev.get(url).text
    # the public page shows nothing that is not published
    page = client.get("/stories")
    assert page.status_code == 200 and "暂无公开" in page.text and "张某某" not in page.text
    with db_engine.connect() as conn:
        actions = set(
            conn.execute(select(AuditEvent.action).where(AuditEvent.action.like("community.%"))).scalars()
        )
    assert actions == {"community.place_add", "community.nominate", "community.publication_consent"}
