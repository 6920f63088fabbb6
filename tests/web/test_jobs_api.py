"""Labour demand (clause 4.11) through the JSON API, on both databases: report need → verify → publish →
match → apply → hire → employment record (seen by the engine's facts); bad input is refused with a Chinese
message and writes nothing; on-job training → subsidy application → the reviewer's determination."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from tests.registry.factories import Registry
from xiangchuang.applications import service as app_service
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import (
    Application,
    AuditEvent,
    Employment,
    JobApplication,
    JobPost,
    JobSeeker,
    OnjobTraining,
)
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.repository import Scope

TODAY = dt.date.today()
ID_OR_PHONE = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def _post(**over):
    body = {
        "title": "竹编工艺师傅",
        "trade": "crafts",
        "skills": ["bamboo_weaving", "woodcarving"],
        "positions": 1,
        "wage_min_yuan": 4000,
        "wage_max_yuan": 6000,
        "town": "龙驹镇",
        "start_date": (TODAY + dt.timedelta(days=10)).isoformat(),
        "contract_kind": "fixed_term",
        "contract_months": 24,
        "terms": "包午餐，缴纳五险",
    }
    body.update(over)
    return body


def _count(db_engine, model) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _other_person(db_engine, pii, no: str = "P7000001") -> int:
    with db_engine.begin() as conn:
        return Registry(conn, pii).person(
            no=no, birth_date=dt.date(1996, 2, 3), gender="F", groups=["returning_migrant_worker"]
        )


def test_need_to_hire_end_to_end(as_role, db_engine, pii, linked):
    business = as_role("biz", "applicant")
    reviewer = as_role("rev", "district_reviewer")
    clerk = as_role("clerk", "window_clerk")
    _other_person(db_engine, pii)

    r = business.api("POST", "/api/v1/jobs/posts", json=_post())
    assert r.status_code == 201, r.text
    post = r.json()
    assert post["state"] == "reported" and post["district"] == 500101
    no = post["post_no"]
    assert business.client.get("/api/v1/jobs/posts").json()["total"] == 0  # not public before verification
    assert business.client.get(f"/api/v1/jobs/posts/{no}").status_code == 404
    assert [p["post_no"] for p in reviewer.get("/api/v1/jobs/queue").json()] == [no]

    r = reviewer.api("POST", f"/api/v1/jobs/posts/{no}/verify", json={"decision": "publish", "version": 1})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "published"
    with db_engine.connect() as conn:  # a message to the business's account (its representative's number)
        from xiangchuang.models import OutboxMessage, Person

        to = conn.execute(
            select(OutboxMessage.recipient_user).where(OutboxMessage.template == "jobs.post_published")
        ).scalar_one()
        assert (
            to == conn.execute(select(Person.person_no).where(Person.id == linked["person_id"])).scalar_one()
        )
    board = business.client.get("/api/v1/jobs/posts", params={"district": 500101, "trade": "crafts"}).json()
    assert board["total"] == 1 and board["posts"][0]["skills_label"] == "竹编、木雕"
    assert business.client.get("/api/v1/jobs/posts", params={"min_wage": 7000}).json()["total"] == 0
    assert business.client.get("/jobs", params={"town": "龙驹"}).status_code == 200

    r = clerk.api(
        "POST",
        "/api/v1/jobs/seekers",
        json={
            "person_no": "P7000001",
            "category": "returning_worker",
            "district": 500101,
            "town": "龙驹镇",
            "skills": ["bamboo_weaving", "woodcarving", "pottery"],
            "trades": ["crafts"],
            "wage_expected_yuan": 5000,
            "phone": "13912345678",
        },
    )
    assert r.status_code == 201, r.text
    seeker = r.json()
    assert seeker["has_phone"] and "13912345678" not in r.text
    with db_engine.connect() as conn:
        enc = conn.execute(select(JobSeeker.phone_enc)).scalar_one()
    assert b"13912345678" not in enc

    matches = clerk.get(f"/api/v1/jobs/seekers/{seeker['seeker_no']}/matches").json()
    assert matches[0]["post"]["post_no"] == no
    assert matches[0]["score"] == 1.0
    assert any("技能相符 2/2 项" in x for x in matches[0]["reasons"])
    assert "地点：同一乡镇/街道" in matches[0]["reasons"]

    r = clerk.api("POST", "/api/v1/jobs/applications", json={"seeker_no": seeker["seeker_no"], "post_no": no})
    assert r.status_code == 201, r.text
    application = r.json()
    again = clerk.api(
        "POST", "/api/v1/jobs/applications", json={"seeker_no": seeker["seeker_no"], "post_no": no}
    )
    assert again.status_code == 409 and "重复应聘" in again.json()["detail"]

    found = business.get(f"/api/v1/jobs/posts/{no}/matches")
    assert found.status_code == 200 and found.json()[0]["seeker"]["seeker_no"] == seeker["seeker_no"]
    assert not ID_OR_PHONE.search(found.text)
    assert business.get(f"/api/v1/jobs/posts/{no}/applications").json()[0]["state"] == "applied"

    hire_day = TODAY.isoformat()
    r = business.api(
        "POST",
        f"/api/v1/jobs/applications/{application['id']}/hire",
        json={"hire_date": hire_day, "contract_start": hire_day},
    )
    assert r.status_code == 200, r.text
    hired = r.json()
    assert hired["state"] == "hired" and hired["employment_no"]
    with db_engine.connect() as conn:
        emp = conn.execute(select(Employment)).one()
        assert emp.business_id == linked["business_id"] and emp.hire_date == TODAY and emp.contract
        assert emp.contract_end is not None  # 24 months from the start (fixed term)
        assert conn.execute(select(JobPost.state, JobPost.hired)).one() == ("filled", 1)
        assert conn.execute(select(JobSeeker.state)).scalar_one() == "hired"
        actions = set(conn.execute(select(AuditEvent.action)).scalars())
        facts = assemble_facts(
            conn, on=TODAY, district=None, subjects=Scope(business_ids=(linked["business_id"],))
        )
    assert {
        "jobs.post.report",
        "jobs.post.publish",
        "jobs.seeker.register",
        "jobs.apply",
        "jobs.hire",
    } <= actions
    # the hire is in the registry the job / social-insurance subsidies read
    assert hired["employment_no"] in facts.tables["hires"]["id"].values.tolist()
    assert business.client.get("/api/v1/jobs/posts").json()["total"] == 0  # filled: off the board

    # the quarterly statistics count the post, its positions, the hire and the registration (stats/ind_jobs.py)
    from sqlalchemy.orm import Session

    from xiangchuang.stats.periods import Quarter, Window
    from xiangchuang.stats.service import CITY, compute

    q = Quarter.of_date(TODAY)
    with Session(db_engine) as s:
        figs = compute(s, window=Window((q,)))[q.label]
    for district in (500101, CITY):
        assert figs[("labour_posts_published", district, "")] == 1
        assert figs[("labour_positions_published", district, "")] == 1
        assert figs[("labour_hires", district, "returning_worker")] == 1
        assert figs[("labour_seekers_registered", district, "returning_worker")] == 1


def test_bad_input_is_refused_and_nothing_is_written(as_role, db_engine, pii, linked):
    business = as_role("biz", "applicant")
    cases = [
        ({"positions": 0}, "招聘人数"),
        ({"wage_min_yuan": 5000, "wage_max_yuan": 3000}, "月工资上限"),
        ({"skills": ["juggling"]}, "所需技能"),
        ({"trade": "space"}, "行业"),
        ({"terms": "联系 13812345678"}, "个人信息"),
        ({"contract_months": None}, "合同期限"),
        ({"start_date": (TODAY - dt.timedelta(days=90)).isoformat()}, "到岗日期"),
        ({"district": 123456}, "区县"),
    ]
    for over, fragment in cases:
        r = business.api("POST", "/api/v1/jobs/posts", json=_post(**over))
        assert r.status_code == 422, (over, r.text)
        assert fragment in r.json()["detail"], (over, r.json())
    r = business.client.post(
        "/api/v1/jobs/posts",
        content=b"\x19\x0c\xff\xfe",
        headers={"content-type": "application/json", "x-csrf-token": business.token},
    )
    assert (
        r.status_code == 422 and "JSON" in r.json()["detail"]
    )  # not UTF-8: the documented 422, not a bare 400
    assert _count(db_engine, JobPost) == 0

    post = business.api("POST", "/api/v1/jobs/posts", json=_post()).json()
    other = as_role("rev2", "district_reviewer", 500102)
    r = other.api("POST", f"/api/v1/jobs/posts/{post['post_no']}/verify", json={"decision": "publish"})
    assert r.status_code == 403
    reviewer = as_role("rev", "district_reviewer")
    r = reviewer.api("POST", f"/api/v1/jobs/posts/{post['post_no']}/verify", json={"decision": "reject"})
    assert r.status_code == 422 and "退回原因" in r.json()["detail"]
    r = reviewer.api(
        "POST", f"/api/v1/jobs/posts/{post['post_no']}/verify", json={"decision": "publish", "version": 7}
    )
    assert r.status_code == 409
    with db_engine.connect() as conn:
        assert conn.execute(select(JobPost.state)).scalar_one() == "reported"
    r = reviewer.api(
        "POST",
        f"/api/v1/jobs/posts/{post['post_no']}/verify",
        json={"decision": "reject", "reason": "工资区间请核实"},
    )
    assert r.status_code == 200 and r.json()["state"] == "rejected"
    r = business.api("PUT", f"/api/v1/jobs/posts/{post['post_no']}", json=_post(positions=0))
    assert r.status_code == 422  # the correction is validated like the report
    r = business.api("PUT", f"/api/v1/jobs/posts/{post['post_no']}", json=_post(wage_max_yuan=5500))
    assert r.status_code == 200 and r.json()["state"] == "reported" and r.json()["reject_reason"] is None

    clerk = as_role("clerk", "window_clerk")
    _other_person(db_engine, pii)
    bad_seekers = [
        ({"phone": "12345"}, "联系电话"),
        ({"skills": []}, "技能"),
        ({"district": 500102}, "本区县"),
        ({"person_no": "P404"}, "登记库中没有此人"),
        ({"wage_expected_yuan": -1}, "期望月工资"),
        ({"category": "unemployed"}, "登记失业人员"),  # not shown by the registry
    ]
    for over, fragment in bad_seekers:
        body = {
            "person_no": "P7000001",
            "category": "graduate",
            "district": 500101,
            "town": "龙驹镇",
            "skills": ["computer"],
            **over,
        }
        r = clerk.api("POST", "/api/v1/jobs/seekers", json=body)
        assert r.status_code in (403, 404, 422), (over, r.text)
        assert fragment in r.json()["detail"], (over, r.json())
    assert _count(db_engine, JobSeeker) == 0
    assert _count(db_engine, JobApplication) == 0
    # by 身份证号 (looked up through the blind index, never echoed), then withdrawn
    with db_engine.connect() as conn:
        from xiangchuang.models import Person

        enc = conn.execute(select(Person.id_number_enc).where(Person.person_no == "P7000001")).scalar_one()
    number = pii.reveal_id(enc)
    body = {
        "id_number": number,
        "category": "returning_worker",
        "district": 500101,
        "town": "龙驹镇",
        "skills": ["computer"],
    }
    r = clerk.api("POST", "/api/v1/jobs/seekers", json=body)
    assert r.status_code == 201 and number not in r.text, r.text
    r = clerk.api("POST", f"/api/v1/jobs/seekers/{r.json()['seeker_no']}/withdraw")
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"


def test_onjob_training_subsidy_through_the_workflow(as_role, db_engine, pii, linked):
    business = as_role("biz", "applicant")
    body = {
        "provider_kind": "business",
        "course": "竹编技能提升",
        "course_level": "intermediate",
        "skilled_post": True,
        "trainees": 12,
        "start_date": (TODAY - dt.timedelta(days=40)).isoformat(),
        "completion_date": (TODAY - dt.timedelta(days=5)).isoformat(),
    }
    r = business.api("POST", "/api/v1/jobs/trainings", json={**body, "skilled_post": None})
    assert r.status_code == 422 and "技能岗位" in r.json()["detail"]
    r = business.api(
        "POST",
        "/api/v1/jobs/trainings",
        json={**body, "completion_date": (TODAY + dt.timedelta(days=3)).isoformat()},
    )
    assert r.status_code == 422 and "结业日期" in r.json()["detail"]
    assert _count(db_engine, OnjobTraining) == 0
    r = business.api("POST", "/api/v1/jobs/trainings", json=body)
    assert r.status_code == 201, r.text
    training_no = r.json()["training_no"]
    r = business.api("POST", f"/api/v1/jobs/trainings/{training_no}/apply")
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "onjob_training_subsidy" and r.json()["state"] == "draft"
    again = business.api("POST", f"/api/v1/jobs/trainings/{training_no}/apply")
    assert again.status_code == 409

    # the reviewer's determination is assembled from the training record (12 × 1500 元, intermediate)
    with transaction(make_sessionmaker(db_engine)) as s:
        app = s.execute(select(Application)).scalar_one()
        det = app_service.determine(s, app, on=TODAY, params=load_parameters())
    assert det["status"] == "eligible", det["result"]
    assert det["amount_fen"] == 12 * 1500 * 100
    assert det["facts"]["onjob_trainings"]["columns"]["id"] == [training_no]
    # once paid (the register of what was received), the same training cannot be subsidised again
    with db_engine.begin() as conn:
        Registry(conn, pii).grant("onjob_training_subsidy", training_no, period="2026", amount_fen=1_800_000)
    with transaction(make_sessionmaker(db_engine)) as s:
        app = s.execute(select(Application)).scalar_one()
        det = app_service.determine(s, app, on=TODAY, params=load_parameters())
    assert det["status"] == "ineligible"
    assert {c["id"]: c["status"] for c in det["result"]["conditions"]}["not_received"] == "fail"

    clerk = as_role("clerk", "window_clerk")
    r = clerk.api(
        "POST",
        "/api/v1/jobs/trainings",
        json={
            **body,
            "provider_kind": "association",
            "provider_name": "区竹编协会",
            "founded_by_returning": True,
        },
    )
    assert r.status_code == 201, r.text
    r = clerk.api("POST", f"/api/v1/jobs/trainings/{r.json()['training_no']}/apply")
    assert r.status_code == 201, r.text
    with transaction(make_sessionmaker(db_engine)) as s:
        app = s.execute(select(Application).where(Application.on_behalf.is_(True))).scalar_one()
        det = app_service.determine(s, app, on=TODAY, params=load_parameters())
    assert det["status"] == "eligible" and det["amount_fen"] == 1_800_000
