"""The /jobs pages on both databases: a business reports a need through the form (bad input re-renders the
form with the Chinese error, nothing written), staff verify it in their queue, the public board shows it, a
seeker registers, sees it recommended with reasons, applies, and the business records the hire."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from xiangchuang.models import Employment, JobPost, JobSeeker

TODAY = dt.date.today()


def _form(**over):
    data = {
        "title": "电商直播运营",
        "trade": "ecommerce",
        "skills": ["live_streaming", "online_store"],
        "positions": "2",
        "wage_min": "4500",
        "wage_max": "7000",
        "town": "城关镇",
        "start_date": (TODAY + dt.timedelta(days=7)).isoformat(),
        "contract_kind": "fixed_term",
        "contract_months": "12",
        "terms": "缴纳五险",
    }
    data.update(over)
    return data


def test_need_to_hire_through_the_pages(as_role, db_engine, linked):
    business = as_role("biz", "applicant")
    reviewer = as_role("rev", "district_reviewer")
    anonymous = business.client  # the board is public; the same client is fine for reading it

    assert business.get("/jobs/my-posts").status_code == 200
    r = business.post("/jobs/my-posts/new", _form(positions="0"))
    assert r.status_code == 422 and 'role="alert"' in r.text and "招聘人数" in r.text
    assert 'value="电商直播运营"' in r.text  # the form keeps what was typed
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(JobPost)).scalar_one() == 0
    r = business.post("/jobs/my-posts/new", _form())
    assert r.status_code == 303, r.text
    no = r.headers["location"].rsplit("/", 1)[1]

    queue = reviewer.get("/jobs/staff/queue")
    assert queue.status_code == 200 and no in queue.text
    r = reviewer.post(f"/jobs/staff/queue/{no}", {"decision": "reject"})
    assert r.status_code == 422 and "退回原因" in r.text
    r = reviewer.post(f"/jobs/staff/queue/{no}", {"decision": "publish", "version": "1"})
    assert r.status_code == 303
    board = anonymous.get("/jobs", params={"trade": "ecommerce", "min_wage": "5000"})
    assert board.status_code == 200 and "电商直播运营" in board.text and "共 1 个岗位" in board.text
    assert "共 0 个岗位" in anonymous.get("/jobs", params={"min_wage": "8000"}).text
    assert anonymous.get(f"/jobs/posts/{no}").status_code == 200

    r = business.post(
        "/jobs/seeker",
        {
            "category": "graduate",
            "district": "500101",
            "town": "城关镇",
            "skills": ["live_streaming"],
            "phone": "123",
        },
    )
    assert r.status_code == 422 and "联系电话" in r.text
    r = business.post(
        "/jobs/seeker",
        {
            "category": "returning_worker",
            "district": "500101",
            "town": "城关镇",
            "skills": ["live_streaming", "graphic_design"],
            "trades": ["ecommerce"],
            "wage_expected": "5000",
            "phone": "13987654321",
        },
    )
    assert r.status_code == 303, r.text
    page = business.get("/jobs/seeker")
    assert "电商直播运营" in page.text and "技能相符 1/2 项" in page.text and "13987654321" not in page.text
    assert business.post("/jobs/seeker/apply", {"post_no": no}).status_code == 303
    again = business.post("/jobs/seeker/apply", {"post_no": no})
    assert again.status_code == 409 and "重复应聘" in again.text

    manage = business.get(f"/jobs/manage/{no}")
    assert manage.status_code == 200 and "已应聘" in manage.text
    with db_engine.connect() as conn:
        seeker_id = conn.execute(select(JobSeeker.id)).scalar_one()
        from xiangchuang.models import JobApplication

        app_id = conn.execute(
            select(JobApplication.id).where(JobApplication.seeker_id == seeker_id)
        ).scalar_one()
    r = business.post(f"/jobs/manage/{no}/hire", {"application_id": str(app_id), "hire_date": "2001-01-01"})
    assert r.status_code == 422 and "入职日期" in r.text
    r = business.post(
        f"/jobs/manage/{no}/hire",
        {"application_id": str(app_id), "hire_date": TODAY.isoformat(), "contract_start": TODAY.isoformat()},
    )
    assert r.status_code == 303, r.text
    with db_engine.connect() as conn:
        assert conn.execute(select(Employment.post)).scalar_one() == "电商直播运营"
        assert conn.execute(select(JobPost.hired, JobPost.state)).one() == (1, "published")  # 2 positions


def test_staff_pages_and_scope(as_role, db_engine, linked):
    clerk = as_role("clerk", "window_clerk")
    city = as_role("city", "city_admin")
    assert clerk.get("/jobs/staff/seekers").status_code == 200
    assert clerk.get("/jobs/trainings").status_code == 200
    r = clerk.post("/jobs/staff/report", _form(business_no="B404"))
    assert r.status_code == 404 and "经营主体编号" in r.text
    r = clerk.post(
        "/jobs/staff/seekers",
        {
            "person_no": "",
            "category": "graduate",
            "district": "500101",
            "town": "x",
            "skills": ["computer"],
            "id_number": "110101199003077777",
        },
    )
    assert r.status_code in (404, 422) and "110101199003077777" not in r.text
    assert city.get("/jobs/staff/queue").status_code == 200
    for name in ("jobs.matching.regions", "jobs.matching.place_scores", "jobs.matching.weight_skill"):
        page = city.get(f"/city/parameters/{name}")  # the matching parameters are ordinary dated parameters
        assert page.status_code == 200, (name, page.text[:300])
    assert city.post("/jobs/staff/queue/GW1", {"decision": "publish"}).status_code == 403
