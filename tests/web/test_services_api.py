"""Service windows, the 就业创业服务超市, purchased services, leaders' contact and coordination through the
JSON API, on SQLite and PostgreSQL: each main path end to end by the roles that own its steps, the audit
trail, overdue alerts through stats.alerts and the outbox, and bad input (a Chinese message naming the
field, nothing written)."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import func, select

from tests.registry.factories import Registry
from xiangchuang.chinatime import china_date
from xiangchuang.models import (
    AuditEvent,
    Business,
    CoordinationMeeting,
    LiaisonAssignment,
    OutboxMessage,
    ServiceRequest,
    StatAlert,
    StatFigure,
)
from xiangchuang.stats.alerts import run_alerts

D = 500101
S = "/api/v1/services"
TODAY = china_date(dt.datetime.now(dt.UTC))


def _ok(r, code=200):
    assert r.status_code == code, r.text
    return r.json()


def _business_no(db_engine, business_id: int) -> str:
    with db_engine.connect() as conn:
        return conn.execute(select(Business.business_no).where(Business.id == business_id)).scalar_one()


def _other_business(db_engine, pii, district=D) -> str:
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(50)  # past the `linked` fixture's person and business
        bid = reg.business(founder=reg.person(), registration_date=dt.date(2023, 1, 5), district=district)
    return _business_no(db_engine, bid)


def _offering(reviewer, **over):
    body = {
        "category": "accounting",
        "title": "小微企业代理记账",
        "provider_name": "某某财务咨询有限公司",
        "provider_kind": "market",
        "description": "建账、记账、纳税申报",
        "fee_note": "政府购买，创业者免费",
        **over,
    }
    return _ok(reviewer.api("POST", f"{S}/catalogue", json=body), 201)


def _audit_actions(db_engine) -> list[str]:
    with db_engine.connect() as conn:
        return list(
            conn.execute(select(AuditEvent.action).where(AuditEvent.action.like("services.%"))).scalars()
        )


def test_request_is_accepted_completed_and_rated(as_role, db_engine):
    reviewer = as_role("svc.rev", "district_reviewer", D)
    clerk = as_role("svc.clerk", "window_clerk", D)
    applicant = as_role("svc.app", "applicant")
    window = _ok(
        reviewer.api(
            "POST",
            f"{S}/windows",
            json={
                "name": "万州区创业服务专门窗口",
                "level": "district",
                "centre": "万州区政务服务中心",
                "address": "万州区某路1号",
                "hours": "工作日 9:00–17:00",
                "handles": ["policy_consult", "on_behalf", "supermarket"],
                "staff_logins": ["svc.clerk"],
            },
        ),
        201,
    )
    assert window["staff_count"] == 1 and "事务代办" in window["handles_labels"]
    offering = _offering(reviewer)
    public = applicant.client.get(f"{S}/catalogue")  # the catalogue is public
    assert any(o["offering_no"] == offering["offering_no"] for o in public.json())

    req = _ok(
        applicant.api(
            "POST",
            f"{S}/requests",
            json={
                "offering_no": offering["offering_no"],
                "detail": "需要代理记账",
                "window_no": window["window_no"],
            },
        ),
        201,
    )
    no = req["request_no"]
    assert req["state"] == "submitted"
    # default deadline: services.request_deadline_days[accounting] = 10
    assert dt.date.fromisoformat(req["due_on"]) == TODAY + dt.timedelta(days=10)
    # cannot rate before completion; cannot complete before acceptance
    r = applicant.api("POST", f"{S}/requests/{no}/rating", json={"rating": 5})
    assert r.status_code == 409 and "办结后才能评价" in r.json()["detail"]
    r = clerk.api("POST", f"{S}/requests/{no}/complete", json={"text": "已办"})
    assert r.status_code == 409 and "须先受理" in r.json()["detail"]
    assert applicant.api("POST", f"{S}/requests/{no}/accept", json={}).status_code == 403

    assert _ok(clerk.api("POST", f"{S}/requests/{no}/accept", json={}))["handler_login"] == "svc.clerk"
    done = _ok(clerk.api("POST", f"{S}/requests/{no}/complete", json={"text": "已完成建账"}))
    assert done["state"] == "completed"
    r = applicant.api("POST", f"{S}/requests/{no}/rating", json={"rating": 6})
    assert r.status_code == 422 and "评价：须为 1–5" in r.json()["detail"]
    rated = _ok(applicant.api("POST", f"{S}/requests/{no}/rating", json={"rating": 5, "comment": "很及时"}))
    assert rated["rating"] == 5
    r = applicant.api("POST", f"{S}/requests/{no}/rating", json={"rating": 3})
    assert r.status_code == 409 and "不能重复评价" in r.json()["detail"]
    mine = _ok(applicant.api("GET", f"{S}/requests"))
    assert [m["request_no"] for m in mine] == [no]
    # another district's clerk sees nothing of it
    other = as_role("svc.clerk2", "window_clerk", 500103)
    assert _ok(other.api("GET", f"{S}/requests")) == []
    assert other.api("GET", f"{S}/requests/{no}").status_code == 404
    # a service taken off the catalogue and a window closed: no new request; history stays
    assert clerk.api("POST", f"{S}/catalogue/{offering['offering_no']}/withdrawal").status_code == 403
    _ok(reviewer.api("POST", f"{S}/catalogue/{offering['offering_no']}/withdrawal"))
    _ok(reviewer.api("POST", f"{S}/windows/{window['window_no']}/withdrawal"))
    again = reviewer.api("POST", f"{S}/windows/{window['window_no']}/withdrawal")
    assert again.status_code == 409 and "已撤销" in again.json()["detail"]
    assert (
        _ok(applicant.api("GET", f"{S}/catalogue")) == [] and _ok(applicant.api("GET", f"{S}/windows")) == []
    )
    r = applicant.api(
        "POST", f"{S}/requests", json={"offering_no": offering["offering_no"], "detail": "再来一次"}
    )
    assert r.status_code == 404 and "已下架" in r.json()["detail"]
    assert _ok(applicant.api("GET", f"{S}/requests/{no}"))["rating"] == 5
    actions = _audit_actions(db_engine)
    for a in ("window_create", "offering_create", "request_submit", "request_accept", "request_complete",
              "offering_withdraw", "window_withdraw"):  # fmt: skip
        assert f"services.{a}" in actions
    assert actions.count("services.request_rate") == 1
    with db_engine.connect() as conn:
        templates = set(conn.execute(select(OutboxMessage.template)).scalars())
    assert {"services.request_submitted", "services.request_completed"} <= templates


def test_purchase_counts_delivered_requests_and_not_beyond_its_quantity(as_role, db_engine):
    reviewer = as_role("p.rev", "district_reviewer", D)
    clerk = as_role("p.clerk", "window_clerk", D)
    applicant = as_role("p.app", "applicant")
    offering = _offering(reviewer)
    body = {
        "contract_no": "YZ-2026-GM-01",
        "provider_name": "某某财务咨询有限公司",
        "offering_no": offering["offering_no"],
        "quantity": 1,
        "unit_price_fen": 80000,
        "start_on": (TODAY - dt.timedelta(days=10)).isoformat(),
        "end_on": (TODAY + dt.timedelta(days=300)).isoformat(),
    }
    assert clerk.api("POST", f"{S}/purchases", json=body).status_code == 403
    bad = reviewer.api("POST", f"{S}/purchases", json={**body, "quantity": 0})
    assert bad.status_code == 422 and "购买数量" in bad.json()["detail"]
    purchase = _ok(reviewer.api("POST", f"{S}/purchases", json=body), 201)
    pno = purchase["purchase_no"]
    assert (purchase["quantity"], purchase["delivered"], purchase["remaining"]) == (1, 0, 1)
    nos = [
        _ok(
            applicant.api(
                "POST", f"{S}/requests", json={"offering_no": offering["offering_no"], "detail": f"第{i}次"}
            ),
            201,
        )["request_no"]
        for i in (1, 2)
    ]
    _ok(clerk.api("POST", f"{S}/requests/{nos[0]}/accept", json={"purchase_no": pno}))
    full = clerk.api("POST", f"{S}/requests/{nos[1]}/accept", json={"purchase_no": pno})
    assert full.status_code == 409 and "已全部使用" in full.json()["detail"]
    assert _ok(clerk.api("GET", f"{S}/requests/{nos[1]}"))["state"] == "submitted"  # nothing half-written
    _ok(clerk.api("POST", f"{S}/requests/{nos[0]}/complete", json={"text": "已交付"}))
    got = _ok(reviewer.api("GET", f"{S}/purchases/{pno}"))
    assert (got["delivered"], got["remaining"], got["delivered_fen"], got["deliveries"]) == (
        1,
        0,
        80000,
        [nos[0]],
    )
    # staff training of grass-roots staff
    t = _ok(
        clerk.api(
            "POST",
            f"{S}/staff-trainings",
            json={
                "staff_name": "李基层",
                "topic": "创业政策业务培训",
                "organiser": "区就业服务中心",
                "trained_on": TODAY.isoformat(),
                "hours": 8,
                "passed": True,
            },
        ),
        201,
    )
    assert t["staff_name_masked"] == "李**"
    bad = clerk.api(
        "POST",
        f"{S}/staff-trainings",
        json={
            **{k: "x" for k in ("staff_name", "topic", "organiser")},
            "trained_on": "2026-01-01",
            "hours": 0,
            "passed": True,
        },
    )
    assert bad.status_code == 422 and "学时" in bad.json()["detail"]
    summary = _ok(reviewer.api("GET", f"{S}/summary"))
    row = next(d for d in summary["districts"] if d["district"] == D)
    assert (row["purchased"], row["delivered"], row["staff_trained"], row["requests_completed"]) == (
        1,
        1,
        1,
        1,
    )


def test_official_visit_problem_progress_and_confirmed_resolution(as_role, db_engine, pii, linked):
    clerk = as_role("l.clerk", "window_clerk", D)
    reviewer = as_role("l.rev", "district_reviewer", D)
    applicant = as_role("l.app", "applicant")
    bno = _business_no(db_engine, linked["business_id"])
    other_bno = _other_business(db_engine, pii)
    a = _ok(
        clerk.api("POST", f"{S}/officials", json={"name": "王书记", "title": "副区长", "unit": "区政府"}), 201
    )
    b = _ok(
        clerk.api("POST", f"{S}/officials", json={"name": "赵局长", "title": "局长", "unit": "区人力社保局"}),
        201,
    )
    # one official, several businesses
    _ok(clerk.api("POST", f"{S}/officials/{a['official_no']}/assignments", json={"business_no": bno}), 201)
    _ok(
        clerk.api("POST", f"{S}/officials/{a['official_no']}/assignments", json={"business_no": other_bno}),
        201,
    )
    dup = clerk.api("POST", f"{S}/officials/{a['official_no']}/assignments", json={"business_no": bno})
    assert dup.status_code == 409
    # reassigning the business ends the previous assignment; the history stays
    _ok(
        clerk.api("POST", f"{S}/officials/{b['official_no']}/assignments", json={"business_no": other_bno}),
        201,
    )
    history = _ok(reviewer.api("GET", f"{S}/assignments"))
    of_other = [h for h in history if h["business_no"] == other_bno]
    assert len(of_other) == 2 and sum(h["until"] is None for h in of_other) == 1
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).where(LiaisonAssignment.until.is_(None))).scalar() == 2

    visit = _ok(
        clerk.api(
            "POST",
            f"{S}/visits",
            json={
                "official_no": a["official_no"],
                "business_no": bno,
                "visited_on": TODAY.isoformat(),
                "mode": "on_site",
                "summary": "了解用工和融资需求",
            },
        ),
        201,
    )
    problem = _ok(
        clerk.api(
            "POST",
            f"{S}/problems",
            json={
                "business_no": bno,
                "visit_no": visit["visit_no"],
                "category": "financing",
                "description": "流动资金不足，希望对接创业担保贷款",
                "owner_department": "hrss",
                "owner": "区就业中心主任",
            },
        ),
        201,
    )
    pno = problem["problem_no"]
    assert problem["official_no"] == a["official_no"]
    assert dt.date.fromisoformat(problem["due_on"]) == TODAY + dt.timedelta(days=30)  # parameter default
    assert applicant.api("POST", f"{S}/problems", json={**problem, "business_no": bno}).status_code == 403
    _ok(clerk.api("POST", f"{S}/problems/{pno}/progress", json={"note": "已联系承办银行"}))
    r = applicant.api("POST", f"{S}/problems/{pno}/confirmation", json={"accept": True})
    assert r.status_code == 409  # nothing to confirm yet
    _ok(reviewer.api("POST", f"{S}/problems/{pno}/resolve", json={"text": "银行已受理贷款申请"}))
    # the business rejects the resolution with a reason; it goes back to 办理中
    r = applicant.api("POST", f"{S}/problems/{pno}/confirmation", json={"accept": False})
    assert r.status_code == 422 and "不认可的理由" in r.json()["detail"]
    back = _ok(
        applicant.api("POST", f"{S}/problems/{pno}/confirmation", json={"accept": False, "note": "尚未放款"})
    )
    assert back["state"] == "in_progress"
    _ok(reviewer.api("POST", f"{S}/problems/{pno}/resolve", json={"text": "贷款已放款 10 万元"}))
    closed = _ok(applicant.api("POST", f"{S}/problems/{pno}/confirmation", json={"accept": True}))
    assert closed["state"] == "closed" and [n["kind"] for n in closed["notes"]] == [
        "progress",
        "resolution",
        "rejected",
        "resolution",
        "confirmed",
    ]
    summary = _ok(reviewer.api("GET", f"{S}/summary"))
    official = next(o for o in summary["officials"] if o["official_no"] == a["official_no"])
    assert (official["businesses_now"], official["businesses_ever"], official["visits"]) == (1, 2, 1)
    assert (official["problems_raised"], official["problems_solved"], official["problems_overdue"]) == (
        1,
        1,
        0,
    )
    district = next(d for d in summary["districts"] if d["district"] == D)
    assert (district["officials"], district["businesses_in_contact"], district["problems_solved"]) == (
        2,
        2,
        1,
    )
    assert "services.problem_confirm" in _audit_actions(db_engine)


def test_overdue_problem_and_task_raise_alerts_through_the_outbox(as_role, db_engine, linked, akey):
    clerk = as_role("o.clerk", "window_clerk", D)
    bno = _business_no(db_engine, linked["business_id"])
    due = TODAY + dt.timedelta(days=2)
    problem = _ok(
        clerk.api(
            "POST",
            f"{S}/problems",
            json={
                "business_no": bno,
                "category": "land",
                "description": "厂房用地手续",
                "owner_department": "natural_resources",
                "owner": "规划科",
                "due_on": due.isoformat(),
            },
        ),
        201,
    )
    meeting = _ok(
        clerk.api(
            "POST",
            f"{S}/meetings",
            json={
                "title": "第一季度返乡创业会商",
                "held_on": TODAY.isoformat(),
                "convener": "分管副区长",
                "departments": ["hrss", "finance", "agriculture"],
                "decisions": ["设立返乡创业服务专区"],
            },
        ),
        201,
    )
    task = _ok(
        clerk.api(
            "POST",
            f"{S}/meetings/{meeting['meeting_no']}/tasks",
            json={
                "department": "finance",
                "owner": "财政局",
                "description": "落实场租补贴资金",
                "due_on": due.isoformat(),
            },
        ),
        201,
    )
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=5)
    from sqlalchemy.orm import Session

    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=akey, now=later, rules=["svc_problem_overdue", "svc_task_overdue"])
    assert len(res.opened) == 2
    with db_engine.connect() as conn:
        alerts = conn.execute(select(StatAlert).where(StatAlert.state == "open")).all()
        assert {a.subject for a in alerts} == {
            f"svc_problems:{problem['problem_no']}",
            f"svc_tasks:{task['task_no']}",
        }
        assert all(a.district == D and a.role == "district_reviewer" for a in alerts)
        assert conn.execute(select(func.count()).where(OutboxMessage.template == "stats.alert")).scalar() == 2
    # the task is done and the problem resolved: the next run clears both alerts
    _ok(clerk.api("POST", f"{S}/tasks/{task['task_no']}/done", json={"text": "资金已下达"}))
    _ok(clerk.api("POST", f"{S}/problems/{problem['problem_no']}/resolve", json={"text": "手续已办结"}))
    with Session(db_engine) as s, s.begin():
        res = run_alerts(s, audit_key=akey, now=later, rules=["svc_problem_overdue", "svc_task_overdue"])
    assert len(res.resolved) == 2 and not res.opened
    again = clerk.api("POST", f"{S}/tasks/{task['task_no']}/done", json={"text": "重复"})
    assert again.status_code == 409


def test_meeting_task_done_and_bad_input_writes_nothing(as_role, db_engine):
    clerk = as_role("m.clerk", "window_clerk", D)
    applicant = as_role("m.app", "applicant")
    base = {"title": "会商", "held_on": TODAY.isoformat(), "convener": "副区长", "decisions": ["议定一"]}
    r = clerk.api("POST", f"{S}/meetings", json={**base, "departments": ["hrss"]})
    assert r.status_code == 422 and "参会部门：会商须至少两个部门参加" in r.json()["detail"]
    r = clerk.api(
        "POST", f"{S}/meetings", json={**base, "departments": ["hrss", "finance"], "decisions": [" "]}
    )
    assert r.status_code == 422 and "议定事项" in r.json()["detail"]
    r = clerk.api("POST", f"{S}/meetings", json={**base, "departments": ["hrss", "nasa"]})
    assert r.status_code == 422 and "参会部门：须为" in r.json()["detail"]
    r = clerk.api(
        "POST", f"{S}/meetings", json={**base, "departments": ["hrss", "finance"], "title": "会\x00商"}
    )
    assert r.status_code == 422 and "会议名称：不能含有空字符" in r.json()["detail"]
    r = clerk.api("GET", f"{S}/catalogue", params={"category": "*\x00"})
    assert r.status_code == 422 and "服务类别" in r.json()["detail"]
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(CoordinationMeeting)).scalar() == 0
    m = _ok(clerk.api("POST", f"{S}/meetings", json={**base, "departments": ["hrss", "finance"]}), 201)
    t = _ok(
        clerk.api(
            "POST",
            f"{S}/meetings/{m['meeting_no']}/tasks",
            json={"department": "hrss", "owner": "就业科", "description": "建立服务台账"},
        ),
        201,
    )
    assert dt.date.fromisoformat(t["due_on"]) == TODAY + dt.timedelta(days=30)  # services.task_deadline_days
    r = clerk.api(
        "POST",
        f"{S}/meetings/{m['meeting_no']}/tasks",
        json={"department": "hrss", "owner": "x", "description": "y", "due_on": "2020-01-01"},
    )
    assert r.status_code == 422 and "完成时限：不能早于今天" in r.json()["detail"]
    done = _ok(clerk.api("POST", f"{S}/tasks/{t['task_no']}/done", json={"text": "台账已建立"}))
    assert done["state"] == "done" and not done["overdue"]
    got = _ok(clerk.api("GET", f"{S}/meetings/{m['meeting_no']}"))
    assert [x["state"] for x in got["tasks"]] == ["done"]
    assert applicant.api("GET", f"{S}/meetings").status_code == 403
    # a request with no detail, an unknown offering: Chinese reasons, no row
    r = applicant.api("POST", f"{S}/requests", json={"offering_no": "FW\x00", "detail": "x"})
    assert r.status_code == 404
    r = applicant.api("POST", f"{S}/requests", json={"offering_no": "FW-0-X", "detail": "x"})
    assert r.status_code == 404 and "不存在" in r.json()["detail"]
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ServiceRequest)).scalar() == 0


def test_statistics_count_requests_ratings_visits_and_problems(as_role, db_engine, linked):
    from sqlalchemy.orm import Session

    from xiangchuang.stats.periods import Quarter, Window
    from xiangchuang.stats.service import CITY, compute

    reviewer = as_role("st.rev", "district_reviewer", D)
    clerk = as_role("st.clerk", "window_clerk", D)
    applicant = as_role("st.app", "applicant")
    bno = _business_no(db_engine, linked["business_id"])
    offering = _offering(reviewer, category="legal", title="法律咨询")
    no = _ok(
        applicant.api(
            "POST", f"{S}/requests", json={"offering_no": offering["offering_no"], "detail": "合同审查"}
        ),
        201,
    )["request_no"]
    _ok(clerk.api("POST", f"{S}/requests/{no}/accept", json={}))
    _ok(clerk.api("POST", f"{S}/requests/{no}/complete", json={"text": "已审查"}))
    _ok(applicant.api("POST", f"{S}/requests/{no}/rating", json={"rating": 4}))
    official = _ok(
        clerk.api("POST", f"{S}/officials", json={"name": "钱主任", "title": "主任", "unit": "街道"}), 201
    )
    _ok(
        clerk.api(
            "POST",
            f"{S}/visits",
            json={
                "official_no": official["official_no"],
                "business_no": bno,
                "visited_on": TODAY.isoformat(),
                "mode": "phone",
                "summary": "电话回访",
            },
        ),
        201,
    )
    q = Quarter.of_date(TODAY)
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of(q))[q.label]
    assert figs[("svc_requests", D, "legal")] == 1 and figs[("svc_requests", CITY, "legal")] == 1
    assert figs[("svc_requests_completed", D, "legal")] == 1
    assert figs[("svc_ratings", D, "4")] == 1
    assert figs[("svc_visits", D, "phone")] == 1
    assert figs.get(("svc_problems_raised", D, "financing"), 0) == 0
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(func.count()).select_from(StatFigure)).scalar() == 0
        )  # compute writes nothing
