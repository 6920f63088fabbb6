"""The application pages and their API twins through TestClient, on SQLite and PostgreSQL: the whole path
(apply with materials → accept → return → fix and resubmit → reviews → 公示 → approve with budget →
disbursement batch → 已拨付), the applicant actor mapping, scope (another district's clerk, another
applicant), masking, batch actions, publicity export, and on-behalf applications."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from tests.applications import LATER, NOW
from tests.web.apps_world import build, upload_all
from xiangchuang.applications.kinds import KINDS
from xiangchuang.models import Application, AuditEvent, InboxMessage, OutboxMessage

REQUIRED = [m.id for m in KINDS["startup_subsidy"].required_materials]


@pytest.fixture
def world(db_engine, pii, web_settings, akey):
    w = build(db_engine, pii, web_settings, akey)
    yield w
    w.close()


def _app_id(location: str) -> int:
    m = re.search(r"/applications/(\d+)", location)
    assert m, location
    return int(m.group(1))


def _apply(c) -> int:
    page = c.get("/my/apply/startup_subsidy")
    assert page.status_code == 200
    for field in ("period", "amount", "description"):  # every field has a label
        assert f'<label for="{field}">' in page.text
    r = c.post(
        "/my/apply/startup_subsidy",
        data={"period": "2024", "amount": "", "description": "退役军人创业"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return _app_id(r.headers["location"])


def _act(c, app_id: int, action: str, reason: str | None = None) -> None:
    data = {"action": action}
    if reason:
        data["reason"] = reason
    r = c.post(f"/staff/applications/{app_id}/act", data=data, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_full_path_through_the_pages(world, db_engine):
    vet, clerk, rev, fin = (world.client(n) for n in ("vet", "clerk", "rev", "fin"))

    # check-up on my registry data: 创业补助 eligible
    checkup = vet.get("/my/checkup")
    assert (checkup.status_code == 200 and "一次性创业补贴" in checkup.text) or "创业" in checkup.text
    doc = vet.get("/api/v1/my/checkup").json()
    startup = next(p for p in doc["programs"] if p["program"] == "startup_subsidy")
    assert startup["status"] == "eligible"

    app_id = _apply(vet)
    # submitting without materials is refused, naming the first missing material
    r = vet.post(f"/my/applications/{app_id}/act", data={"action": "submit"})
    assert r.status_code == 422 and "缺少必需材料" in r.text
    up = upload_all(vet, app_id, REQUIRED)
    assert up.status_code == 303, re.findall(r"role=\"alert\">([^<]*)", up.text)
    review = vet.get(f"/my/applications/{app_id}/review")
    assert "还缺少必需材料" not in review.text
    r = vet.post(f"/my/applications/{app_id}/act", data={"action": "submit"}, follow_redirects=False)
    assert r.headers["location"].endswith("/done")
    done = vet.get(r.headers["location"])
    assert "申请编号" in done.text and "接下来" in done.text

    # the applicant actor is the registry person number, everywhere
    with db_engine.connect() as conn:
        app = conn.execute(select(Application).where(Application.id == app_id)).one()
        assert app.applicant_user == "P-VET" and app.applicant_person_no == "P-VET"
        assert conn.execute(
            select(OutboxMessage.recipient_user).where(OutboxMessage.recipient_user.is_not(None))
        ).scalars().all() == ["P-VET"]

    queue = clerk.get("/staff/queue?state=submitted")
    assert app.application_no in queue.text
    _act(clerk, app_id, "accept")
    # the reviewer cannot accept (not in the table for their role) and sees no such button
    page = rev.get(f"/staff/applications/{app_id}")
    assert 'id="act-accept"' not in page.text
    _act(clerk, app_id, "start_first_review")
    _act(clerk, app_id, "pass_first_review")
    page = rev.get(f"/staff/applications/{app_id}")
    assert "与申请人体检结果一致" in page.text and 'id="act-return"' in page.text
    # return without a reason: refused with the field named
    r = rev.post(f"/staff/applications/{app_id}/act", data={"action": "return"})
    assert r.status_code == 422 and "须填写原因" in r.text
    _act(rev, app_id, "return", "社保缴费证明不清晰，请重新上传")

    mine = vet.get(f"/my/applications/{app_id}")
    assert "需要补正" in mine.text and "社保缴费证明不清晰" in mine.text
    api = vet.get(f"/api/v1/my/applications/{app_id}").json()
    assert api["state"] == "returned" and api["return_note"] == "社保缴费证明不清晰，请重新上传"
    assert "resubmit" in api["allowed_actions"] and "subject_key" not in api
    r = vet.post(
        f"/my/applications/{app_id}/edit",
        data={"amount": "5000", "description": "已补正"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = vet.post(
        f"/my/applications/{app_id}/materials",
        files=[
            ("file_social_insurance_record", ("社保.pdf", b"%PDF-1.4\n% clearer\n%%EOF\n", "application/pdf"))
        ],
        follow_redirects=False,
    )
    assert r.status_code == 303
    r = vet.post(f"/my/applications/{app_id}/act", data={"action": "resubmit"}, follow_redirects=False)
    assert r.status_code == 303

    _act(clerk, app_id, "accept")
    _act(clerk, app_id, "start_first_review")
    _act(clerk, app_id, "pass_first_review")
    _act(rev, app_id, "pass_second_review")
    # 公示: approving before the period ends is refused
    r = rev.post(f"/staff/applications/{app_id}/act", data={"action": "approve"})
    assert r.status_code == 409 and "公示期至" in r.text
    batches = rev.get("/staff/publicity")
    batch_id = int(re.search(r"/staff/publicity/(\d+)", batches.text).group(1))
    listing = rev.get(f"/staff/publicity/{batch_id}")
    assert "P-VET" not in listing.text and "****" in listing.text  # masked
    x = rev.get(f"/staff/publicity/{batch_id}/export.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    assert "公示" in ws["A1"].value and ws.max_row >= 4
    world.clock.now = LATER
    # no budget yet: approval refused by the ledger, nothing changes
    r = rev.post(f"/staff/applications/{app_id}/act", data={"action": "approve"})
    assert r.status_code == 409 and "资金账本" in r.text
    assert "公示中" in rev.get(f"/staff/applications/{app_id}").text
    api = rev.post(f"/api/v1/applications/{app_id}/actions", json={"action": "approve"})
    assert api.status_code == 409 and "资金账本" in api.json()["detail"]
    r = fin.post(
        "/finance/budget", data={"amount": "1000000", "note": "渝财社〔2025〕1号"}, follow_redirects=False
    )
    assert r.status_code == 303
    _act(rev, app_id, "approve")
    page = fin.get("/finance")
    assert f'id="pay-{app_id}"' in page.text
    r = fin.post("/finance/batches", data={"ids": [str(app_id)]}, follow_redirects=False)
    assert r.status_code == 303
    page = fin.get("/finance")
    bid = int(re.search(r'id="run-(\d+)"', page.text).group(1))
    assert fin.post(f"/finance/batches/{bid}/run", follow_redirects=False).status_code == 303
    bank = fin.get(f"/finance/batches/{bid}/bank.xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(bank.content)).active
    assert ws.cell(row=3, column=3).value == "6217000010001234567"  # the bank's file holds the full number
    assert fin.post(f"/finance/batches/{bid}/confirm", follow_redirects=False).status_code == 303

    final = vet.get(f"/my/applications/{app_id}")
    assert "已拨付" in final.text and "补贴已拨付" in final.text
    with db_engine.connect() as conn:
        actions = set(conn.execute(select(AuditEvent.action)).scalars())
    assert {
        "application.edit",
        "attachment.upload",
        "application.confirm_disbursement",
        "export.bank_payment_file",
        "export.publicity_list",
    } <= actions


def test_scope_other_district_and_other_applicant(world, db_engine):
    vet, other, clerk2, rev2, clerk = (world.client(n) for n in ("vet", "other", "clerk2", "rev2", "clerk"))
    app_id = _apply(vet)
    upload_all(vet, app_id, REQUIRED)
    vet.post(f"/my/applications/{app_id}/act", data={"action": "submit"})
    # another applicant: page and API refused, and the list does not show it
    assert other.get(f"/my/applications/{app_id}").status_code == 403
    assert other.get(f"/api/v1/my/applications/{app_id}").status_code == 403
    assert other.get("/api/v1/my/applications").json() == []
    assert other.post(f"/my/applications/{app_id}/act", data={"action": "withdraw"}).status_code == 403
    # a clerk of another district: 403 on the page, the API, the action, the materials; empty queue
    assert clerk2.get(f"/staff/applications/{app_id}").status_code == 403
    assert clerk2.get(f"/api/v1/staff/applications/{app_id}").status_code == 403
    assert clerk2.post(f"/staff/applications/{app_id}/act", data={"action": "accept"}).status_code == 403
    assert clerk2.get("/api/v1/staff/queue").json()["total"] == 0
    page = clerk.get(f"/staff/applications/{app_id}")
    att = int(re.search(r"/staff/attachments/(\d+)", page.text).group(1))
    assert clerk2.get(f"/staff/attachments/{att}").status_code == 403
    got = clerk.get(f"/staff/attachments/{att}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    assert rev2.get("/staff/publicity").status_code == 200
    # applicants cannot reach staff pages, staff cannot reach applicant pages
    assert vet.get("/staff/queue").status_code == 403 and vet.get("/finance").status_code == 403
    assert clerk.get("/my").status_code == 403
    assert clerk.post("/finance/budget", data={"amount": "1"}).status_code == 403
    # a nonexistent application: 404
    assert clerk.get("/staff/applications/999999").status_code == 404
    # the staff API model carries no personal numbers
    body = clerk.get(f"/api/v1/staff/applications/{app_id}").text
    assert "id_number" not in body and "phone" not in body and "bank" not in body
    with db_engine.connect() as conn:
        reads = conn.execute(select(AuditEvent).where(AuditEvent.action == "attachment.read")).all()
    assert len(reads) == 1


def test_my_page_masks_records(world):
    vet = world.client("vet")
    page = vet.get("/my")
    assert "6217000010001234567" not in page.text and "4567" in page.text
    assert "B-VET" in page.text
    assert re.search(r"\d{4}\*{10}\w{4}", page.text)  # masked 身份证号
    assert not re.search(r"\d{17}[0-9X]", page.text)


def test_a_period_outside_the_supported_range_gets_the_range_rule(world):
    """The form and the API took a claim year 2100 (the startup subsidy's period is the engine's claim
    year): now the range's rule (README choice 28), shown on the form and as the API's 422."""
    vet = world.client("vet")
    rule = "申请期间 2100 超出范围，须在1900至2099之间"
    r = vet.post("/my/apply/startup_subsidy", data={"period": "2100"}, follow_redirects=False)
    assert r.status_code == 422 and rule in r.text
    r = vet.post("/api/v1/my/applications", json={"kind": "startup_subsidy", "period": "2100"})
    assert r.status_code == 422 and r.json()["detail"] == rule
    r = vet.post("/my/apply/startup_subsidy", data={"period": "2099"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_batch_accept_and_api_actions(world):
    vet, clerk, rev = (world.client(n) for n in ("vet", "clerk", "rev"))
    ids = []
    for period in ("2023", "2024"):
        r = vet.post("/my/apply/startup_subsidy", data={"period": period}, follow_redirects=False)
        app_id = _app_id(r.headers["location"])
        upload_all(vet, app_id, REQUIRED)
        ok = vet.post(f"/api/v1/applications/{app_id}/actions", json={"action": "submit"})
        assert ok.status_code == 200 and ok.json()["state"] == "submitted" and "subject_key" not in ok.json()
        ids.append(app_id)
    r = clerk.post("/staff/queue/batch", data={"ids": [str(i) for i in ids], "action": "accept"})
    assert r.status_code == 200 and r.text.count("成功") == 2
    q = clerk.get("/api/v1/staff/queue", params={"state": "accepted"}).json()
    assert q["total"] == 2 and {i["id"] for i in q["items"]} == set(ids)
    # paging and sorting: one per page, newest first
    p1 = clerk.get("/api/v1/staff/queue", params={"page_size": 1, "sort": "created", "desc": True}).json()
    p2 = clerk.get(
        "/api/v1/staff/queue", params={"page_size": 1, "page": 2, "sort": "created", "desc": True}
    ).json()
    assert p1["pages"] == 2 and [p1["items"][0]["id"], p2["items"][0]["id"]] == [ids[1], ids[0]]
    page = clerk.get("/staff/queue", params={"size": "1", "sort": "created", "desc": "1"})
    assert "第 1/2 页" in page.text and "下一页" in page.text
    assert clerk.get("/staff/queue", params={"sort": "bogus"}).status_code == 422
    # exactly the allowed transitions are offered, as buttons
    buttons = set(re.findall(r'id="act-([a-z_]+)"', clerk.get(f"/staff/applications/{ids[0]}").text))
    assert buttons == {"start_first_review", "withdraw"}
    # the reviewer cannot accept, and a stale version is a conflict
    staff = rev.get(f"/api/v1/staff/applications/{ids[0]}").json()
    assert staff["actions"] == [] and staff["subject_key"] == "B-VET"
    bad = clerk.post(
        f"/api/v1/applications/{ids[0]}/actions", json={"action": "start_first_review", "expected_version": 1}
    )
    assert bad.status_code == 409
    r = rev.post(f"/api/v1/applications/{ids[0]}/actions", json={"action": "start_first_review"})
    assert r.status_code == 403


def test_clerk_acts_on_behalf(world, db_engine):
    clerk, vet = world.client("clerk"), world.client("vet")
    page = clerk.get("/staff/on-behalf")
    for field in ("kind", "business_no", "period", "amount"):
        assert f'<label for="{field}">' in page.text
    r = clerk.post(
        "/staff/on-behalf", data={"kind": "startup_subsidy", "business_no": "B-OTHER", "period": "2024"}
    )
    assert r.status_code == 404  # another district's business
    r = clerk.post(
        "/staff/on-behalf",
        data={"kind": "startup_subsidy", "business_no": "B-VET", "period": "2024"},
        follow_redirects=False,
    )
    app_id = _app_id(r.headers["location"])
    upload_all(clerk, app_id, REQUIRED, base="/staff/applications")
    r = clerk.post(f"/api/v1/applications/{app_id}/actions", json={"action": "submit"})
    assert r.status_code == 200 and r.json()["on_behalf"] is True
    # the founder sees it as their own application
    assert vet.get(f"/api/v1/my/applications/{app_id}").json()["timeline"][0]["on_behalf"] is True
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(Application.applicant_user).where(Application.id == app_id)).scalar()
            == "P-VET"
        )


def test_invitation_confirm_from_the_applicant_page(world, db_engine):
    from tests.applications import stored_run

    rev, vet = world.client("rev"), world.client("vet")
    run_id = stored_run(db_engine, [("startup_subsidy", "B-VET", 1_000_000)], on=NOW.date())
    r = rev.post(f"/staff/matches/{run_id}/invite")
    assert r.status_code == 200 and "新发出 1 份邀请" in r.text
    home = vet.get("/my")
    assert "免申即享邀请" in home.text
    app_id = (
        int(re.search(r'/my/applications/(\d+)">创业', home.text).group(1))
        if re.search(r'/my/applications/(\d+)">创业', home.text)
        else None
    )
    if app_id is None:
        app_id = int(re.search(r"/my/applications/(\d+)", home.text.split("免申即享邀请")[1]).group(1))
    page = vet.get(f"/my/applications/{app_id}")
    assert "确认申请" in page.text and "谢绝" in page.text
    r = vet.post(f"/my/applications/{app_id}/act", data={"action": "confirm"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("/done")
    assert vet.get(f"/api/v1/my/applications/{app_id}").json()["state"] == "submitted"


def test_messages_page_lists_delivered_messages(world, db_engine):
    vet = world.client("vet")
    app_id = _apply(vet)
    upload_all(vet, app_id, REQUIRED)
    vet.post(f"/my/applications/{app_id}/act", data={"action": "submit"})
    from xiangchuang.db import make_sessionmaker
    from xiangchuang.outbox.service import InAppAdapter, deliver_pending

    with make_sessionmaker(db_engine)() as s, s.begin():
        deliver_pending(s, adapter=InAppAdapter())
    with db_engine.connect() as conn:
        assert "P-VET" in conn.execute(select(InboxMessage.recipient_user)).scalars().all()
    page = vet.get("/my/messages")
    assert "您的申请已提交" in page.text
    assert "您的申请已提交" in vet.get(f"/my/applications/{app_id}").text
    _ = dt


def _to_publicity(vet, clerk, rev) -> int:
    app_id = _apply(vet)
    upload_all(vet, app_id, REQUIRED)
    assert vet.post(f"/api/v1/applications/{app_id}/actions", json={"action": "submit"}).status_code == 200
    for action in ("accept", "start_first_review", "pass_first_review"):
        assert (
            clerk.post(f"/api/v1/applications/{app_id}/actions", json={"action": action}).status_code == 200
        )
    r = rev.post(f"/api/v1/applications/{app_id}/actions", json={"action": "pass_second_review"})
    assert r.status_code == 200 and r.json()["state"] == "publicity"
    return app_id


def test_objection_recorded_and_resolved_from_the_pages(world, db_engine):
    from xiangchuang.models import Objection

    vet, clerk, rev = (world.client(n) for n in ("vet", "clerk", "rev"))
    app_id = _to_publicity(vet, clerk, rev)
    batch_page = rev.get("/staff/publicity")
    batch_id = int(re.search(r"/staff/publicity/(\d+)", batch_page.text).group(1))
    assert f"/staff/applications/{app_id}" in rev.get(f"/staff/publicity/{batch_id}").text
    _act(clerk, app_id, "object", "群众来电反映经营地址不实")
    page = rev.get(f"/staff/applications/{app_id}")
    assert "公示异议处理中" in page.text and 'id="act-dismiss_objection"' in page.text
    _act(rev, app_id, "dismiss_objection", "经实地核查，经营地址属实")
    with db_engine.connect() as conn:
        obj = conn.execute(select(Objection)).one()
    assert obj.resolved_by == "rev" and obj.resolution == "经实地核查，经营地址属实"
    assert rev.get(f"/api/v1/staff/applications/{app_id}").json()["state"] == "publicity"


def test_finance_of_another_district_cannot_touch_a_batch(world, db_engine, akey, pii):
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.users.service import create_user, new_totp_secret

    secret = new_totp_secret()
    with transaction(make_sessionmaker(db_engine)) as s:
        create_user(
            s,
            login="fin2",
            display_name="测试fin2",
            role="district_finance",
            password="Lemon-tree-on-the-hill",
            actor="system",
            audit_key=akey,
            district=500102,
            totp_secret=secret,
            cipher=pii.cipher,
        )
    world.secrets["fin2"] = secret
    vet, clerk, rev, fin, fin2 = (world.client(n) for n in ("vet", "clerk", "rev", "fin", "fin2"))
    app_id = _to_publicity(vet, clerk, rev)
    world.clock.now = LATER
    fin.post("/finance/budget", data={"amount": "100000"})
    _act(rev, app_id, "approve")
    assert app_id and f'id="pay-{app_id}"' not in fin2.get("/finance").text
    assert fin2.post("/finance/batches", data={"ids": [str(app_id)]}).status_code == 403
    fin.post("/finance/batches", data={"ids": [str(app_id)]})
    bid = int(re.search(r'id="run-(\d+)"', fin.get("/finance").text).group(1))
    assert fin2.post(f"/finance/batches/{bid}/run").status_code == 403
    assert fin2.get(f"/finance/batches/{bid}/bank.xlsx").status_code == 403
    assert fin2.post(f"/finance/batches/{bid}/confirm").status_code == 403


def test_demo_applicant_actor_is_the_person_invitations_go_to(db_engine, pii, akey):
    """The one mapping: an applicant account acts as the registry person number of its linked person,
    which for the demo applicant is the legal representative of its business — the person a 免申即享
    invitation for that business is addressed to."""
    from tests.applications import registry
    from xiangchuang.applications import repository as repo
    from xiangchuang.chinatime import china_date
    from xiangchuang.config import Settings
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.models import Business, User
    from xiangchuang.users.demo_accounts import seed_demo_accounts
    from xiangchuang.web.workbench import actor_for, applicant_actor

    with db_engine.begin() as conn:
        registry(conn, pii)
    with transaction(make_sessionmaker(db_engine)) as s:
        seed_demo_accounts(s, settings=Settings(demo=True), cipher=pii.cipher, audit_key=akey)
    with transaction(make_sessionmaker(db_engine)) as s:
        user = s.execute(select(User).where(User.role == "applicant")).scalar_one()
        business = s.get(Business, user.business_id)
        assert business is not None
        today = china_date(dt.datetime.now(dt.UTC))
        expected = repo.person_no_for_subject(s, "businesses", business.business_no, on=today)
        assert expected is not None and applicant_actor(s, user) == expected
        assert actor_for(s, user).role == "applicant" and actor_for(s, user).district is None
        # an account linked only to its business acts as the business's representative as well
        user.person_id = None
        assert applicant_actor(s, user) == expected
        s.rollback()


def test_openapi_documents_the_application_api_with_per_role_models(client):
    doc = client.get("/openapi.json").json()
    paths = doc["paths"]
    for path in (
        "/api/v1/my/applications",
        "/api/v1/my/applications/{application_id}",
        "/api/v1/my/checkup",
        "/api/v1/staff/queue",
        "/api/v1/staff/applications/{application_id}",
        "/api/v1/applications/{application_id}/actions",
    ):
        assert path in paths, path
    schemas = doc["components"]["schemas"]
    applicant = set(schemas["ApplicantApplication"]["properties"])
    staff = set(schemas["StaffApplication"]["properties"])
    assert "subject_key" not in applicant and "determinations" not in applicant
    assert {"subject_key", "determinations", "actions"} <= staff
    assert not any(p.startswith("/my") or p.startswith("/staff") for p in paths)  # pages stay out
    # the pages' routes answer 401 on the API for anonymous callers, and redirect to login on pages
    assert client.get("/api/v1/staff/queue").status_code == 401
    r = client.get("/staff/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_more_scope_publicity_materials_and_api_create(world):
    vet, other, clerk, rev, rev2, clerk2 = (
        world.client(n) for n in ("vet", "other", "clerk", "rev", "rev2", "clerk2")
    )
    # create through the API: the subject is the account's own business, whatever the caller says
    made = vet.post("/api/v1/my/applications", json={"kind": "startup_subsidy", "period": "2022"})
    assert made.status_code == 201 and made.json()["state"] == "draft"
    bad = vet.post(
        "/api/v1/my/applications",
        json={"kind": "startup_subsidy", "period": "2022", "subject_key": "B-OTHER"},
    )
    assert bad.status_code == 422  # extra fields are refused
    draft = made.json()["id"]
    assert vet.get(f"/api/v1/my/applications/{draft}/missing").json()[0] == "营业执照"
    # another applicant cannot upload to, edit or view the materials of this application
    assert upload_all(other, draft, REQUIRED).status_code == 403
    assert other.post(f"/my/applications/{draft}/edit", data={"amount": "1"}).status_code == 403
    assert other.get(f"/my/applications/{draft}/materials").status_code == 403
    # a clerk of another district cannot upload on behalf either
    assert upload_all(clerk2, draft, REQUIRED, base="/staff/applications").status_code == 403
    app_id = _to_publicity(vet, clerk, rev)
    batch_id = int(re.search(r"/staff/publicity/(\d+)", rev.get("/staff/publicity").text).group(1))
    assert rev2.get(f"/staff/publicity/{batch_id}").status_code == 403
    assert rev2.get(f"/staff/publicity/{batch_id}/export.xlsx").status_code == 403
    assert "暂无公示批次" in rev2.get("/staff/publicity").text
    assert (
        rev2.post(f"/staff/applications/{app_id}/act", data={"action": "object", "reason": "x"}).status_code
        == 403
    )


def test_deliver_messages_command_fills_the_inbox(world, db_engine, monkeypatch):
    """The scheduled job (xiangchuang deliver-messages) delivers the workflow's in-app messages; the
    applicant's messages page then shows them (addressed to the person number)."""
    from typer.testing import CliRunner

    from xiangchuang.cli import app as cli

    vet = world.client("vet")
    app_id = _apply(vet)
    upload_all(vet, app_id, REQUIRED)
    vet.post(f"/my/applications/{app_id}/act", data={"action": "submit"})
    assert "暂无消息" in vet.get("/my/messages").text
    monkeypatch.setattr("xiangchuang.outbox.cli_outbox.make_engine", lambda url: db_engine)
    monkeypatch.setattr(db_engine, "dispose", lambda: None)
    result = CliRunner().invoke(cli, ["deliver-messages", "--batch", "1"])
    assert result.exit_code == 0, result.output
    assert "投递 2 条" in result.output  # the applicant's and the clerks' task message
    page = vet.get("/my/messages")
    assert "您的申请已提交" in page.text and "待办" not in page.text
    again = CliRunner().invoke(cli, ["deliver-messages"])
    assert "投递 0 条" in again.output


def test_the_finance_to_pay_list_leaves_out_in_kind_approvals(world, db_engine):
    """Only money is paid: an approved application of an in-kind kind (here the approved startup claim
    relabelled as a rent reduction, which the carrier grants on its bills) is not offered for a batch."""
    from sqlalchemy import update

    vet, clerk, rev, fin = (world.client(n) for n in ("vet", "clerk", "rev", "fin"))
    app_id = _to_publicity(vet, clerk, rev)
    world.clock.now = LATER
    fin.post("/finance/budget", data={"amount": "100000"})
    _act(rev, app_id, "approve")
    assert f'id="pay-{app_id}"' in fin.get("/finance").text
    with db_engine.begin() as conn:
        conn.execute(
            update(Application).where(Application.id == app_id).values(kind="carrier_rent_reduction")
        )
    assert f'id="pay-{app_id}"' not in fin.get("/finance").text


def test_a_refused_approval_shows_its_reasons_and_keeps_its_determination(world, db_engine, pii):
    """核准 determined again on the day finds the subsidy already registered (an imported entry): the page
    and the API refuse naming the engine's unmet condition, and each refused determination is kept
    with the application — listed on the staff page (核准前重新判定) and in the staff API view, with
    an audit entry naming it (README choice 88). Before, the refusal was lost with its determination."""
    from tests.registry.factories import Registry
    from xiangchuang.models import Determination

    vet, clerk, rev = (world.client(n) for n in ("vet", "clerk", "rev"))
    app_id = _to_publicity(vet, clerk, rev)
    with db_engine.begin() as conn:
        Registry(conn, pii).grant("startup_subsidy", "B-VET", period="2024", amount_fen=197_531)
    world.clock.now = LATER
    r = rev.post(f"/staff/applications/{app_id}/act", data={"action": "approve"})
    assert r.status_code == 409 and "不能核准" in r.text and "本次判定已随申请保存" in r.text
    with db_engine.connect() as conn:
        kept = conn.execute(
            select(Determination).where(
                Determination.application_id == app_id, Determination.stage == "approval"
            )
        ).all()
    assert len(kept) == 1 and kept[0].status == "ineligible"
    failed = [c["message"] for c in kept[0].result["conditions"] if c["status"] != "pass"]
    assert failed and all(m in r.text for m in failed)
    page = rev.get(f"/staff/applications/{app_id}")
    assert "核准前重新判定（不予核准）" in page.text and failed[0] in page.text and "公示中" in page.text

    api = rev.post(f"/api/v1/applications/{app_id}/actions", json={"action": "approve"})
    assert api.status_code == 409 and failed[0] in api.json()["detail"]
    view = rev.get(f"/api/v1/staff/applications/{app_id}").json()
    approval = [d for d in view["determinations"] if d["stage"] == "approval"]
    assert len(approval) == 2 and all(d["status"] == "ineligible" for d in approval)  # (the API's kept too)
    assert failed[0] in [c["message"] for c in approval[-1]["conditions"]]
    with db_engine.connect() as conn:
        audits = conn.execute(
            select(AuditEvent).where(AuditEvent.action == "application.approve_refused")
        ).all()
        ids = [d.id for d in conn.execute(select(Determination.id).where(Determination.stage == "approval"))]
    assert sorted(a.details["determination_id"] for a in audits) == sorted(ids)
