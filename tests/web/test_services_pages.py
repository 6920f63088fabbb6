"""The service-window, supermarket, leaders'-contact and coordination pages, on both databases: each part's
forms by the roles that own them, bad input shown again with the Chinese reason (role="alert") and
nothing written, the public page without signing in, and the pages limited to the caller's district."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from xiangchuang.chinatime import china_date
from xiangchuang.models import (
    Business,
    CoordinationMeeting,
    LiaisonOfficial,
    LiaisonProblem,
    ServiceOffering,
    ServiceWindow,
)

D = 500101
TODAY = china_date(dt.datetime.now(dt.UTC)).isoformat()


def _count(db_engine, model) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _no(location: str) -> str:
    return location.rsplit("/", 1)[1]


def test_windows_catalogue_request_and_rating_pages(as_role, db_engine, app):
    reviewer = as_role("pg.rev", "district_reviewer", D)
    clerk = as_role("pg.clerk", "window_clerk", D)
    applicant = as_role("pg.app", "applicant")
    window = {
        "name": "解放碑街道创业服务窗口",
        "level": "town",
        "street": "",
        "centre": "解放碑街道便民服务中心",
        "address": "解放碑某路2号",
        "hours": "工作日 9:00–17:00",
        "handles": ["policy_consult", "on_behalf"],
        "staff_logins": "pg.clerk",
    }
    bad = reviewer.post("/services/windows", window)
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "所在镇街：必填" in bad.text
    assert "解放碑街道便民服务中心" in bad.text  # the form keeps what was typed
    assert _count(db_engine, ServiceWindow) == 0
    assert clerk.post("/services/windows", {**window, "street": "解放碑街道"}).status_code == 403
    assert reviewer.post("/services/windows", {**window, "street": "解放碑街道"}).status_code == 303
    r = reviewer.post(
        "/services/offerings",
        {
            "category": "legal",
            "title": "创业法律咨询",
            "provider_name": "区法律援助中心",
            "provider_kind": "public",
            "description": "合同、劳动用工法律咨询",
            "fee_note": "免费",
        },
    )
    assert r.status_code == 303
    with db_engine.connect() as conn:
        offering_no = conn.execute(select(ServiceOffering.offering_no)).scalar_one()
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://testserver") as anonymous:
        public = anonymous.get("/service-windows")
    assert (
        public.status_code == 200
        and "解放碑街道创业服务窗口" in public.text
        and "创业法律咨询" in public.text
    )

    assert (
        "撤销窗口" in reviewer.get("/services/windows").text
        and "撤销窗口" not in clerk.get("/services/windows").text
    )
    page = applicant.get("/services/catalogue")
    assert page.status_code == 200 and "创业法律咨询" in page.text and '<label for="r-detail">' in page.text
    bad = applicant.post("/services/requests/new", {"offering_no": offering_no, "detail": " "})
    assert bad.status_code == 422 and "需求说明：必填" in bad.text
    r = applicant.post("/services/requests/new", {"offering_no": offering_no, "detail": "劳动合同审查"})
    assert r.status_code == 303
    no = _no(r.headers["location"])
    assert "已提交" in applicant.get("/services/requests").text
    assert clerk.post(f"/services/requests/{no}/accept", {}).status_code == 303
    bad = clerk.post(f"/services/requests/{no}/complete", {"text": ""})
    assert bad.status_code == 422 and "办理结果：必填" in bad.text
    assert clerk.post(f"/services/requests/{no}/complete", {"text": "已出具意见"}).status_code == 303
    bad = applicant.post(f"/services/requests/{no}/rate", {"rating": ""})
    assert bad.status_code == 422 and "评价：须为 1–5 的整数" in bad.text
    assert (
        applicant.post(f"/services/requests/{no}/rate", {"rating": "4", "comment": "专业"}).status_code == 303
    )
    detail = applicant.get(f"/services/requests/{no}").text
    assert re.search(r'id="rating">4 星', detail) and "已办结" in detail
    # the district list and another district's clerk
    assert no in reviewer.get("/services/requests").text
    assert reviewer.post(f"/services/offerings/{offering_no}/withdraw", {}).status_code == 303
    assert "创业法律咨询" not in applicant.get("/services/catalogue").text
    bad = reviewer.post(f"/services/offerings/{offering_no}/withdraw", {})
    assert bad.status_code == 422 and "已撤销" in bad.text
    other = as_role("pg.clerk3", "window_clerk", 500103)
    assert no not in other.get("/services/requests").text
    assert other.get(f"/services/requests/{no}").status_code == 404


def test_purchase_and_staff_training_pages(as_role, db_engine):
    reviewer = as_role("pp.rev", "district_reviewer", D)
    clerk = as_role("pp.clerk", "window_clerk", D)
    reviewer.post(
        "/services/offerings",
        {
            "category": "ecommerce",
            "title": "电商开店辅导",
            "provider_name": "某电商服务公司",
            "provider_kind": "market",
            "description": "网店开设与运营",
            "fee_note": "政府购买",
        },
    )
    with db_engine.connect() as conn:
        offering_no = conn.execute(select(ServiceOffering.offering_no)).scalar_one()
    form = {
        "contract_no": "GM-2026-07",
        "provider_name": "某电商服务公司",
        "offering_no": offering_no,
        "quantity": "20",
        "unit_price": "300.5",
        "start_on": TODAY,
        "end_on": "2020-01-01",
    }
    bad = reviewer.post("/services/purchases", form)
    assert bad.status_code == 422 and "服务期止：不能早于服务期起" in bad.text
    r = reviewer.post("/services/purchases", {**form, "end_on": "2099-12-31"})
    assert r.status_code == 303
    page = reviewer.get(r.headers["location"])
    assert page.status_code == 200 and "20 次 × 300.50 元" in page.text
    assert "GM-2026-07" in clerk.get("/services/purchases").text
    bad = clerk.post(
        "/services/staff-training",
        {
            "staff_name": "孙经办",
            "topic": "政策",
            "organiser": "区人社局",
            "trained_on": TODAY,
            "hours": "abc",
        },
    )
    assert bad.status_code == 422 and "学时：须为 1–500 的整数" in bad.text
    ok = clerk.post(
        "/services/staff-training",
        {
            "staff_name": "孙经办",
            "topic": "政策",
            "organiser": "区人社局",
            "trained_on": TODAY,
            "hours": "6",
            "passed": "1",
        },
    )
    assert ok.status_code == 303
    listing = reviewer.get("/services/staff-training").text
    assert "孙**" in listing and "孙经办" not in listing  # names shown masked


def test_officials_visits_problems_and_confirmation_pages(as_role, db_engine, linked):
    clerk = as_role("pl.clerk", "window_clerk", D)
    applicant = as_role("pl.app", "applicant")
    city = as_role("pl.city", "city_admin")
    with db_engine.connect() as conn:
        bno = conn.execute(
            select(Business.business_no).where(Business.id == linked["business_id"])
        ).scalar_one()
    bad = clerk.post("/services/officials", {"name": "周副区长", "title": "", "unit": "区政府"})
    assert bad.status_code == 422 and "职务：必填" in bad.text and _count(db_engine, LiaisonOfficial) == 0
    assert (
        clerk.post(
            "/services/officials", {"name": "周副区长", "title": "副区长", "unit": "区政府"}
        ).status_code
        == 303
    )
    with db_engine.connect() as conn:
        official_no = conn.execute(select(LiaisonOfficial.official_no)).scalar_one()
    bad = clerk.post("/services/officials/assign", {"official_no": official_no, "business_no": "NOPE"})
    # a record that is not there (or not the caller's to see) answers 404, the form shown again with why
    assert bad.status_code == 404 and "登记库中没有" in bad.text and 'role="alert"' in bad.text
    assert (
        clerk.post("/services/officials/assign", {"official_no": official_no, "business_no": bno}).status_code
        == 303
    )
    page = clerk.get("/services/officials").text
    assert "周副区长" in page and "至今" in page
    r = clerk.post(
        "/services/visits",
        {
            "official_no": official_no,
            "business_no": bno,
            "visited_on": TODAY,
            "mode": "on_site",
            "summary": "走访",
        },
    )
    assert r.status_code == 303
    bad = clerk.post(
        "/services/problems",
        {
            "business_no": bno,
            "category": "labour",
            "description": "",
            "owner_department": "hrss",
            "owner": "就业科",
        },
    )
    assert bad.status_code == 422 and "问题描述：必填" in bad.text and _count(db_engine, LiaisonProblem) == 0
    r = clerk.post(
        "/services/problems",
        {
            "business_no": bno,
            "category": "labour",
            "description": "招工难",
            "owner_department": "hrss",
            "owner": "就业科",
        },
    )
    assert r.status_code == 303
    pno = _no(r.headers["location"])
    assert clerk.post(f"/services/problems/{pno}/progress", {"note": "已发布招聘信息"}).status_code == 303
    assert clerk.post(f"/services/problems/{pno}/resolve", {"resolution": "招到 5 人"}).status_code == 303
    mine = applicant.get("/services/problems").text
    assert pno in mine and "请确认" in mine
    bad = applicant.post(f"/services/problems/{pno}/confirm", {"accept": "0", "note": ""})
    assert bad.status_code == 422 and "不认可的理由：必填" in bad.text
    assert applicant.post(f"/services/problems/{pno}/confirm", {"accept": "1"}).status_code == 303
    assert "企业已确认解决" in applicant.get(f"/services/problems/{pno}").text
    overview = city.get("/services/overview")
    assert overview.status_code == 200 and "万州区" in overview.text and "周副区长" in overview.text
    assert city.post("/services/officials", {"name": "x", "title": "y", "unit": "z"}).status_code == 403


def test_meeting_and_task_pages(as_role, db_engine):
    reviewer = as_role("pm.rev", "district_reviewer", D)
    form = {
        "title": "返乡创业工作会商",
        "held_on": TODAY,
        "convener": "副区长",
        "decisions": "议定一\n议定二",
    }
    bad = reviewer.post("/services/meetings", {**form, "departments": ["hrss"]})
    assert bad.status_code == 422 and "参会部门：会商须至少两个部门参加" in bad.text
    assert _count(db_engine, CoordinationMeeting) == 0
    r = reviewer.post("/services/meetings", {**form, "departments": ["hrss", "agriculture"]})
    assert r.status_code == 303
    mno = _no(r.headers["location"])
    page = reviewer.get(f"/services/meetings/{mno}").text
    assert "议定二" in page
    assert (
        reviewer.post(
            f"/services/meetings/{mno}/tasks",
            {"department": "agriculture", "owner": "农业农村委", "description": "梳理一村一品产业"},
        ).status_code
        == 303
    )
    page = reviewer.get(f"/services/meetings/{mno}").text
    task_no = re.search(r"(RW-\d+-\d+-[0-9A-F]+)", page).group(1)
    bad = reviewer.post(f"/services/tasks/{task_no}/done", {"note": "", "meeting_no": mno})
    assert bad.status_code == 422 and "完成情况：必填" in bad.text
    assert (
        reviewer.post(f"/services/tasks/{task_no}/done", {"note": "已完成", "meeting_no": mno}).status_code
        == 303
    )
    assert "已完成（" in reviewer.get(f"/services/meetings/{mno}").text
    assert "没有未完成的任务" in reviewer.get("/services/meetings").text


def test_demo_seeder_makes_each_part_once(db_engine, pii, linked, make_user, akey):
    from sqlalchemy.orm import Session

    from xiangchuang.demo_seed import SeedContext
    from xiangchuang.models import LiaisonVisit, ServiceRequest
    from xiangchuang.services.demo import seed

    make_user("demo.clerk", "window_clerk", district=D)
    ctx = SeedContext(cipher=pii.cipher, audit_key=akey, on=china_date(dt.datetime.now(dt.UTC)), district=D)
    with Session(db_engine) as s, s.begin():
        first = seed(s, ctx)
    with Session(db_engine) as s, s.begin():
        second = seed(s, ctx)
    assert "服务超市 7 项" in first and "未重复生成" in second
    assert _count(db_engine, ServiceWindow) == 2 and _count(db_engine, ServiceRequest) == 1
    assert _count(db_engine, LiaisonVisit) == 1 and _count(db_engine, CoordinationMeeting) == 1
