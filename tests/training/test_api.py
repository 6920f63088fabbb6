"""The training API and pages end to end on both databases: a provider opens a class, an entrepreneur
enrols (refused for the wrong kind with the engine's Chinese reason), attendance, completion, the
certificate PDF (text read back with pdftotext) and its public check, the provider's claim through the
application workflow to 已拨付; bad input gives a clear Chinese error and writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import subprocess

import openpyxl
from sqlalchemy import func, select, update

from tests.training.world import PARAMS, build
from xiangchuang.chinatime import china_date
from xiangchuang.models import (
    Application,
    AuditEvent,
    DisbursementBatch,
    DisbursementItem,
    Enrolment,
    Person,
    TrainingClass,
    User,
)

D = 500101
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _provider(as_role, db_engine, login="tp.one", org="TP01"):
    c = as_role(login, "training_provider")
    with db_engine.begin() as conn:
        conn.execute(
            update(User).where(User.id == c.user_id).values(org_code=org, org_name="测试职业培训学校")
        )
    return c


def _count(db_engine, model) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _class(provider, course_id, today, **over):
    body = {
        "course_id": course_id,
        "mode": "night_school",
        "district": D,
        "place": "万州区某镇农民夜校",
        "start_date": today.isoformat(),
        "end_date": today.isoformat(),
        "capacity": 20,
        "sessions": 2,
        "teacher_names": ["王老师"],
        **over,
    }
    return provider.api("POST", "/api/v1/training/classes", json=body)


def test_enrol_attend_complete_certificate_claim_paid(as_role, db_engine, pii, linked, app, akey):
    w = build(db_engine, pii, akey)
    today = china_date(dt.datetime.now(dt.UTC))
    with db_engine.begin() as conn:  # the applicant: a returning entrepreneur, licence 2022-03-10 → IYB
        conn.execute(
            update(Person)
            .where(Person.id == linked["person_id"])
            .values(returning_entrepreneur=True, startup_intention=True)
        )
    provider = _provider(as_role, db_engine)
    applicant = as_role("zhang.san", "applicant")
    clerk = as_role("clerk.one", "window_clerk", D)
    reviewer = as_role("rev.one", "district_reviewer", D)
    finance = as_role("fin.one", "district_finance", D)

    r = _class(provider, w.iyb_course, today)
    assert r.status_code == 201, r.text
    iyb = r.json()
    assert iyb["teachers"] == ["王**"] and iyb["kind"] == "iyb"
    syb = _class(provider, w.syb_course, today).json()

    # the public list (no sign-in) and the public class page
    anon = app and __import__("fastapi.testclient", fromlist=["TestClient"]).TestClient(app)
    listed = anon.get("/api/v1/training/classes").json()
    assert {c["id"] for c in listed} >= {iyb["id"], syb["id"]}
    page = anon.get(f"/training/classes/{iyb['id']}")
    assert page.status_code == 200 and "改善你的企业" in page.text and "学员名册" not in page.text

    # SYB refused with the engine's reason (licence > 1 year before the start); nothing written
    before = _count(db_engine, AuditEvent)
    r = applicant.api("POST", f"/api/v1/training/classes/{syb['id']}/enrolments")
    assert r.status_code == 422 and "应参加IYB培训" in r.json()["detail"], r.text
    assert _count(db_engine, Enrolment) == 0 and _count(db_engine, AuditEvent) == before
    # the page shows the same reason on the class page (role="alert")
    page = applicant.post(f"/training/classes/{syb['id']}/enrol")
    assert page.status_code == 422 and 'role="alert"' in page.text and "应参加IYB培训" in page.text

    r = applicant.api("POST", f"/api/v1/training/classes/{iyb['id']}/enrolments")
    assert r.status_code == 201, r.text
    mine = r.json()
    assert mine["state"] == "enrolled" and mine["eligibility"]["status"] == "eligible"
    no = mine["training_no"]
    assert applicant.api("POST", f"/api/v1/training/classes/{iyb['id']}/enrolments").status_code == 409

    # attendance: bad input first (nothing written), then both sessions
    bad = provider.api(
        "POST",
        f"/api/v1/training/classes/{iyb['id']}/attendance",
        json={"session_no": 1, "session_date": today.isoformat(), "present": {no: True, "TR-NOBODY": True}},
    )
    assert bad.status_code == 422 and "TR-NOBODY 不是本班正式学员" in bad.json()["detail"]
    from xiangchuang.models import Attendance

    assert _count(db_engine, Attendance) == 0
    assert applicant.api(
        "POST", f"/api/v1/training/classes/{iyb['id']}/attendance",
        json={"session_no": 1, "session_date": today.isoformat(), "present": {no: True}},
    ).status_code == 403  # fmt: skip
    for k in (1, 2):
        r = provider.api(
            "POST",
            f"/api/v1/training/classes/{iyb['id']}/attendance",
            json={"session_no": k, "session_date": today.isoformat(), "present": {no: True}},
        )
        assert r.status_code == 200, r.text
    done = provider.api("POST", f"/api/v1/training/classes/{iyb['id']}/completion", json={})
    assert done.status_code == 200 and done.json()["completed"] == [no], done.text

    # certificate: the trainee downloads it; the text is in the PDF; the public check shows a masked name
    me = applicant.api("GET", "/api/v1/training/me").json()
    got = next(e for e in me["enrolments"] if e["training_no"] == no)
    code = got["certificate_code"]
    assert got["state"] == "completed" and code
    assert {s["kind"]: s["status"] for s in me["next_steps"]}["iyb"] == "ineligible"  # already done
    pdf = applicant.get(f"/api/v1/training/enrolments/{got['id']}/certificate")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True)
        out = text.stdout.decode()
        assert "培训合格证" in out and code in out and "改善你的企业" in out
    check = anon.get(f"/api/v1/training/certificates/{code}").json()
    assert check["valid"] and "*" in check["masked_name"] and check["course"] == "改善你的企业"
    assert "证书有效" in anon.get(f"/training/verify?code={code}").text
    assert not anon.get("/api/v1/training/certificates/XC-ZZZZZZZZZZZZ").json()["valid"]

    # 补足差额 is SYB's only: the API refuses it for this IYB class with the reason
    r = provider.api("POST", f"/api/v1/training/classes/{iyb['id']}/top-up", json={})
    assert r.status_code == 422 and "没有补足差额" in r.text
    # the provider's claim through the application workflow
    claims = provider.api("POST", f"/api/v1/training/classes/{iyb['id']}/claims", json={})
    assert claims.status_code == 201, claims.text
    app_id = claims.json()["created"][0]["id"]
    r = provider.api("POST", f"/api/v1/training/claims/{app_id}/submit")
    assert r.status_code == 422 and "身份证明" in r.json()["detail"]
    for material in ("identity", "business_licence"):  # IYB also needs the trainee's licence
        r = provider.client.post(
            f"/api/v1/training/claims/{app_id}/materials",
            data={"material": material},
            files={"file": (f"{material}.pdf", PDF, "application/pdf")},
            headers={"x-csrf-token": provider.token},
        )
        assert r.status_code == 200, r.text
    r = provider.api("POST", f"/api/v1/training/claims/{app_id}/submit")
    assert r.status_code == 200 and r.json()["state"] == "submitted", r.text

    def act(client, action):
        res = client.api("POST", f"/api/v1/applications/{app_id}/actions", json={"action": action})
        assert res.status_code == 200, (action, res.text)
        return res.json()

    for action in ("accept", "start_first_review", "pass_first_review"):
        act(clerk, action)
    assert act(reviewer, "pass_second_review")["state"] == "publicity"
    with db_engine.begin() as conn:  # the publicity period has passed
        conn.execute(
            update(Application)
            .where(Application.id == app_id)
            .values(publicity_end=today - dt.timedelta(days=1))
        )
    assert (
        finance.post("/finance/budget", {"amount": "1000000", "note": "渝财社〔2026〕1号"}).status_code == 303
    )
    assert act(reviewer, "approve")["state"] == "approved"
    # paid only as an item of a disbursement batch, to the provider's registered account (对公账户)
    refused = finance.api(
        "POST", f"/api/v1/applications/{app_id}/actions", json={"action": "start_disbursement"}
    )
    assert refused.status_code == 422 and "拨付须通过拨付批次办理" in refused.text
    no_account = finance.post("/finance/batches", {"ids": str(app_id)})
    assert no_account.status_code == 422 and "收款单位 TP01 尚未登记对公账户" in no_account.text
    r = finance.post(
        "/finance/payee-accounts",
        {
            "org_code": "TP01",
            "org_name": "测试职业培训学校",
            "bank_name": "重庆农商行",
            "account": "310012345678901",
        },
    )
    assert r.status_code == 303, r.text
    assert finance.post("/finance/batches", {"ids": str(app_id)}).status_code == 303
    with db_engine.connect() as conn:
        batch_id = conn.execute(select(func.max(DisbursementBatch.id))).scalar_one()
    assert finance.post(f"/finance/batches/{batch_id}/run", {}).status_code == 303
    bank = finance.get(f"/finance/batches/{batch_id}/bank.xlsx")
    assert bank.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(bank.content)).active
    row = [c.value for c in sheet[3]]
    assert row[1:3] == ["测试职业培训学校", "310012345678901"]
    assert finance.post(f"/finance/batches/{batch_id}/confirm", {}).status_code == 303
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(Application.state).where(Application.id == app_id)).scalar_one()
            == "disbursed"
        )
        item = conn.execute(select(DisbursementItem).where(DisbursementItem.batch_id == batch_id)).one()
    assert (item.payee_org_code, item.payee_person_id, item.status) == ("TP01", None, "paid")
    with db_engine.connect() as conn:
        amount = conn.execute(
            select(Application.amount_approved_fen).where(Application.id == app_id)
        ).scalar_one()
    assert amount == PARAMS["training_iyb.amount"].value_at(today)
    page = provider.get("/training/provider")
    assert page.status_code == 200 and "已拨付" in page.text


def test_bad_input_clear_chinese_errors_nothing_written(as_role, db_engine, pii, linked, akey):
    w = build(db_engine, pii, akey)
    today = china_date(dt.datetime.now(dt.UTC))
    provider = _provider(as_role, db_engine)
    before = _count(db_engine, AuditEvent)
    for over, msg in (
        ({"capacity": 0}, "人数：须为 1–500 的整数"),
        ({"mode": "boat"}, "培训方式"),
        ({"district": 999999}, "不是重庆市的区县代码"),
        ({"start_date": "2019-01-01", "end_date": "2019-01-02"}, "没有有效的"),
    ):
        r = _class(provider, w.iyb_course, today, **over)
        assert r.status_code == 422 and msg in r.json()["detail"], (over, r.text)
    r = _class(provider, w.iyb_course, today, start_date="not-a-date")
    assert r.status_code == 422 and "start_date" in r.json()["detail"]
    assert _count(db_engine, TrainingClass) == 0 and _count(db_engine, AuditEvent) == before
    # the page form re-renders with the reason
    page = provider.post(
        "/training/classes",
        {
            "course_id": str(w.iyb_course), "mode": "on_site", "district": str(D), "place": "某地",
            "start_date": today.isoformat(), "end_date": today.isoformat(), "capacity": "abc", "sessions": "2",
        },
    )  # fmt: skip
    assert page.status_code == 422 and 'role="alert"' in page.text and "人数：须为正整数" in page.text
    assert _count(db_engine, TrainingClass) == 0
    # another provider cannot run this provider's class
    cls = _class(provider, w.iyb_course, today).json()
    other = _provider(as_role, db_engine, "tp.two", "TP99")
    r = other.api("POST", f"/api/v1/training/classes/{cls['id']}/completion", json={})
    assert r.status_code == 403
    # staff of another district cannot, the same district can see the roster
    far = as_role("clerk.far", "window_clerk", 500102)
    assert far.api("POST", f"/api/v1/training/classes/{cls['id']}/completion", json={}).status_code == 403
    near = as_role("clerk.near", "window_clerk", D)
    detail = near.api("GET", f"/api/v1/training/classes/{cls['id']}").json()
    assert detail["roster"] == []
    r = near.get(f"/training/classes/{cls['id']}/roster.xlsx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
