"""Outreach (clause 4.12) through the JSON API, on SQLite and PostgreSQL: register with consent → campaign
contact → return → business founded (linked to the registry); consent withdrawn → purge (audited, gone
from the database including the ciphertexts); bad input (Chinese message naming the field, nothing
written); introduced talent and family requests; the 乡情 talent pool."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from tests.registry.factories import Registry
from xiangchuang.chinatime import china_date
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import (
    AuditEvent,
    Business,
    HometownTalent,
    OutreachContact,
    OutreachPerson,
    OutreachVenture,
    Person,
)
from xiangchuang.outreach import service as S

TODAY = china_date(dt.datetime.now(dt.UTC))
PHONE = "13912345678"


def person_body(**over):
    body = {
        "name": "李四",
        "phone": PHONE,
        "home_town": "龙兴镇",
        "work_place": "广东省深圳市",
        "trade": "电子制造",
        "skills": "焊接、设备维修",
        "consent_on": (TODAY - dt.timedelta(days=60)).isoformat(),
        "consent_scope": ["phone", "wechat"],
        "other_contact": "wx-lisi-01",
    }
    return {**body, **over}


def audit_actions(db_engine) -> list[str]:
    with db_engine.connect() as conn:
        return list(conn.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars())


def numbers(db_engine, linked) -> tuple[str, str]:
    with db_engine.connect() as conn:
        person_no = conn.execute(
            select(Person.person_no).where(Person.id == linked["person_id"])
        ).scalar_one()
        business_no = conn.execute(
            select(Business.business_no).where(Business.id == linked["business_id"])
        ).scalar_one()
    return person_no, business_no


def test_register_contact_return_and_business_founded(as_role, db_engine, cipher, linked):
    clerk = as_role("o.clerk", "window_clerk")
    reviewer = as_role("o.reviewer", "district_reviewer")
    person_no, business_no = numbers(db_engine, linked)

    r = clerk.api("POST", "/api/v1/outreach/people", json=person_body())
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["name_masked"] == "李*" and p["phone_masked"] == "+86139****5678" and PHONE not in r.text
    assert p["consent_scope"] == ["phone", "wechat"] and p["status"] == "away"
    assert p["retain_until"] == S.add_months(TODAY - dt.timedelta(days=60), 36).isoformat()
    pid = p["id"]
    with db_engine.connect() as conn:
        row = conn.execute(
            select(OutreachPerson.phone_enc, OutreachPerson.name_enc).where(OutreachPerson.id == pid)
        ).one()
    assert PHONE.encode() not in row.phone_enc and "李四".encode() not in row.name_enc

    r = reviewer.api(
        "POST",
        "/api/v1/outreach/campaigns",
        json={
            "name": "春节返乡人员座谈",
            "occasion": "spring_festival",
            "starts_on": (TODAY - dt.timedelta(days=20)).isoformat(),
            "ends_on": TODAY.isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    contact = {
        "contacted_on": (TODAY - dt.timedelta(days=5)).isoformat(),
        "method": "sms",
        "answer": "will_return",
        "campaign_id": cid,
    }
    refused = clerk.api("POST", f"/api/v1/outreach/people/{pid}/contacts", json=contact)
    assert refused.status_code == 403 and "未同意通过“短信”联系" in refused.json()["detail"]
    ok = clerk.api("POST", f"/api/v1/outreach/people/{pid}/contacts", json={**contact, "method": "phone"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["answer_label"] == "计划返乡（创业/就业）"
    rows = reviewer.api("GET", f"/api/v1/outreach/campaigns/{cid}/contacts").json()
    assert [(c["ref_no"], c["method"]) for c in rows] == [(p["ref_no"], "phone")]

    early = clerk.api("POST", f"/api/v1/outreach/people/{pid}/ventures", json={"business_no": business_no})
    assert early.status_code == 409 and "须先登记返乡" in early.json()["detail"]
    back = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{pid}/return",
        json={"returned_on": TODAY.isoformat(), "person_no": person_no},
    )
    assert back.status_code == 200, back.text
    assert back.json()["status"] == "returned" and back.json()["person_no"] == person_no
    founded = clerk.api("POST", f"/api/v1/outreach/people/{pid}/ventures", json={"business_no": business_no})
    assert founded.status_code == 201, founded.text
    assert [v["business_no"] for v in founded.json()["ventures"]] == [business_no]
    with db_engine.connect() as conn:
        venture = conn.execute(select(OutreachVenture.business_id, OutreachVenture.outreach_person_id)).one()
    assert venture.business_id == linked["business_id"] and venture.outreach_person_id == pid

    before = audit_actions(db_engine)
    shown = clerk.api("POST", f"/api/v1/outreach/people/{pid}/reveal")
    assert shown.status_code == 200 and shown.json() == {
        "name": "李四",
        "phone": "+86" + PHONE,
        "other_contact": "wx-lisi-01",
    }
    assert audit_actions(db_engine)[len(before) :] == ["outreach.person.reveal_contact"]
    assert [a for a in audit_actions(db_engine) if a.startswith("outreach.")] == [
        "outreach.person.register",
        "outreach.campaign.create",
        "outreach.contact.log",
        "outreach.person.return",
        "outreach.venture.record",
        "outreach.person.reveal_contact",
    ]
    with db_engine.connect() as conn:
        details = list(
            conn.execute(select(AuditEvent.details).where(AuditEvent.action.like("outreach.%"))).scalars()
        )
    flat = repr(details)
    assert PHONE not in flat and "李四" not in flat and "wx-lisi" not in flat
    listed = clerk.api("GET", "/api/v1/outreach/people").json()
    assert [x["id"] for x in listed] == [pid] and PHONE not in repr(listed)


def test_consent_withdrawn_then_purged_with_ciphertexts(as_role, db_engine, cipher):
    clerk = as_role("o.clerk", "window_clerk")
    made = {}
    for key, phone, consent in (
        ("withdraws", "13912340001", TODAY - dt.timedelta(days=30)),
        ("expired", "13912340002", dt.date(2021, 1, 10)),
        ("stays", "13912340003", TODAY - dt.timedelta(days=30)),
    ):
        r = clerk.api(
            "POST", "/api/v1/outreach/people", json=person_body(phone=phone, consent_on=consent.isoformat())
        )
        assert r.status_code == 201, r.text
        made[key] = r.json()["id"]
    w = made["withdraws"]
    assert (
        clerk.api(
            "POST",
            f"/api/v1/outreach/people/{w}/contacts",
            json={"contacted_on": TODAY.isoformat(), "method": "phone", "answer": "not_now"},
        ).status_code
        == 201
    )
    t = clerk.api(
        "POST",
        "/api/v1/outreach/talents",
        json={
            "kind": "nenggong_qiaojiang",
            "town": "龙兴镇",
            "trade": "竹编",
            "skills": "竹编、木工",
            "recognised_on": TODAY.isoformat(),
            "outreach_person_id": w,
        },
    )
    assert t.status_code == 201, t.text
    r = clerk.api("POST", f"/api/v1/outreach/people/{w}/withdraw-consent", json={"on": TODAY.isoformat()})
    assert r.status_code == 200 and r.json()["consent_withdrawn_on"] == TODAY.isoformat()
    assert clerk.api("POST", f"/api/v1/outreach/people/{w}/reveal").status_code == 409
    again = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{w}/contacts",
        json={"contacted_on": TODAY.isoformat(), "method": "phone", "answer": "not_now"},
    )
    assert again.status_code == 409 and "撤回" in again.json()["detail"]
    assert clerk.api("GET", "/api/v1/outreach/talents").json() == []  # withdrawn: out of the pool at once
    with db_engine.connect() as conn:
        blobs = [
            b
            for row in conn.execute(
                select(
                    OutreachPerson.name_enc, OutreachPerson.phone_enc, OutreachPerson.other_contact_enc
                ).where(OutreachPerson.id.in_([made["withdraws"], made["expired"]]))
            )
            for b in row
            if b
        ]
    assert len(blobs) == 6

    with transaction(make_sessionmaker(db_engine)) as session:
        result = S.purge(session, params=load_parameters(), today=TODAY, audit_key=_key(cipher))
    S.scrub_storage(db_engine)
    assert result.withdrawn == (made["withdraws"],) and result.expired == (made["expired"],)
    assert (result.contacts, result.talents) == (1, 1)
    with db_engine.connect() as conn:
        left = list(conn.execute(select(OutreachPerson.id)).scalars())
        assert left == [made["stays"]]
        assert conn.execute(select(func.count()).select_from(OutreachContact)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(HometownTalent)).scalar_one() == 0
        event = conn.execute(select(AuditEvent.details).where(AuditEvent.action == "outreach.purge")).one()
    assert event.details["withdrawn_ids"] == [made["withdraws"]] and event.details["expired_ids"] == [
        made["expired"]
    ]
    assert (
        event.details["withdrawn"] == 1 and event.details["expired"] == 1 and event.details["contacts"] == 1
    )
    assert "1391234000" not in repr(event.details)
    if db_engine.dialect.name == "sqlite":
        path = Path(db_engine.url.database or "")
        raw = path.read_bytes() + (Path(f"{path}-wal").read_bytes() if Path(f"{path}-wal").exists() else b"")
        assert not [b for b in blobs if b in raw]  # no page of the file still holds a purged ciphertext
    with transaction(make_sessionmaker(db_engine)) as session:
        assert S.purge(session, params=load_parameters(), today=TODAY, audit_key=_key(cipher)).total == 0


def _key(cipher) -> bytes:
    from xiangchuang.audit import audit_key

    return audit_key(cipher.ring)


@pytest.mark.parametrize(
    ("over", "fragment"),
    [
        ({"phone": "12345"}, "手机号：不是有效的中国大陆手机号"),
        ({"name": "x"}, "姓名："),
        ({"consent_on": (TODAY + dt.timedelta(days=3)).isoformat()}, "同意联系日期：不能晚于今天"),
        ({"consent_scope": []}, "同意的联系方式：至少选择一种"),
        ({"home_town": "  "}, "家乡乡镇/街道：不能为空"),
        ({"consent_scope": ["fax"]}, "consent_scope"),
        ({"consent_on": "2026-13-40"}, "consent_on"),
    ],
)
def test_bad_register_input_is_refused_in_chinese_and_writes_nothing(as_role, db_engine, over, fragment):
    clerk = as_role("o.clerk", "window_clerk")
    before = audit_actions(db_engine)
    r = clerk.api("POST", "/api/v1/outreach/people", json=person_body(**over))
    assert r.status_code == 422 and fragment in r.json()["detail"], r.text
    assert PHONE not in r.text
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OutreachPerson)).scalar_one() == 0
    assert audit_actions(db_engine) == before


def test_refusals_duplicates_scope_and_registry_links(as_role, db_engine, linked):
    clerk = as_role("o.clerk", "window_clerk")
    other = as_role("o.other", "window_clerk", 500102)
    pid = clerk.api("POST", "/api/v1/outreach/people", json=person_body()).json()["id"]
    dup = clerk.api("POST", "/api/v1/outreach/people", json=person_body(name="王五"))
    assert dup.status_code == 409 and "手机号：该手机号已在外出人员登记中" in dup.json()["detail"]
    assert other.api("GET", f"/api/v1/outreach/people/{pid}").status_code == 404
    assert other.api("GET", "/api/v1/outreach/people").json() == []
    unknown = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{pid}/return",
        json={"returned_on": TODAY.isoformat(), "person_no": "P404"},
    )
    assert unknown.status_code == 422 and "登记库人员编号" in unknown.json()["detail"]
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(OutreachPerson.status).where(OutreachPerson.id == pid)).scalar_one() == "away"
        )
    wrong_date = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{pid}/contacts",
        json={"contacted_on": "2020-01-01", "method": "phone", "answer": "not_now"},
    )
    assert wrong_date.status_code == 422 and "联系日期" in wrong_date.json()["detail"]
    declined = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{pid}/contacts",
        json={"contacted_on": TODAY.isoformat(), "method": "wechat", "answer": "declined"},
    )
    assert declined.status_code == 201
    detail = clerk.api("GET", f"/api/v1/outreach/people/{pid}").json()
    assert detail["consent_withdrawn_on"] == TODAY.isoformat()  # 不愿再被联系 = consent withdrawn
    clerk_campaign = clerk.api(
        "POST",
        "/api/v1/outreach/campaigns",
        json={
            "name": "春节",
            "occasion": "spring_festival",
            "starts_on": "2026-01-01",
            "ends_on": "2026-02-01",
        },
    )
    assert clerk_campaign.status_code == 403
    for role in ("applicant", "bank", "city_admin"):
        c = as_role(f"o.{role.replace('_', '')}", role)
        assert c.api("GET", "/api/v1/outreach/people").status_code == 403


def test_introduced_talent_and_family_requests(as_role, db_engine, pii, linked):
    clerk = as_role("o.clerk", "window_clerk")
    reviewer = as_role("o.reviewer", "district_reviewer")
    reviewer2 = as_role("o.reviewer2", "district_reviewer")
    _, business_no = numbers(db_engine, linked)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(200)
        engineer = reg.person(no="P0000200")
        reg.hire(linked["business_id"], engineer, dt.date(2024, 4, 1))
        stranger = reg.person(no="P0000201")
        plain = reg.business(
            founder=stranger, registration_date=dt.date(2023, 1, 1), no="B0000202", founded_by_returning=False
        )
        reg.hire(plain, engineer, dt.date(2024, 4, 1))
    body = {
        "business_no": business_no,
        "person_no": "P0000200",
        "position": "技术总监",
        "category": "technical",
        "qualification": "高级工程师",
        "hired_on": "2024-04-01",
        "evidence": "劳动合同 HT-2024-017，社保缴费证明",
    }
    not_returning = clerk.api("POST", "/api/v1/outreach/introduced", json={**body, "business_no": "B0000202"})
    assert (
        not_returning.status_code == 422
        and "不是返乡入乡创业人员创办的主体" in not_returning.json()["detail"]
    )
    not_employed = clerk.api("POST", "/api/v1/outreach/introduced", json={**body, "person_no": "P0000201"})
    assert not_employed.status_code == 422 and "在职用工记录" in not_employed.json()["detail"]
    proposed = reviewer.api("POST", "/api/v1/outreach/introduced", json=body)
    assert proposed.status_code == 201 and proposed.json()["state"] == "pending", proposed.text
    tid = proposed.json()["id"]
    assert (
        clerk.api(
            "POST", f"/api/v1/outreach/introduced/{tid}/decision", json={"decision": "recognised"}
        ).status_code
        == 403
    )
    own = reviewer.api("POST", f"/api/v1/outreach/introduced/{tid}/decision", json={"decision": "recognised"})
    assert own.status_code == 403 and "提出人不能自己认定" in own.json()["detail"]
    family = {
        "talent_id": tid,
        "kind": "schooling",
        "description": "子女转入区内小学三年级",
        "owner_department": "区教委",
        "received_on": TODAY.isoformat(),
    }
    assert clerk.api("POST", "/api/v1/outreach/family-requests", json=family).status_code == 409
    ok = reviewer2.api(
        "POST",
        f"/api/v1/outreach/introduced/{tid}/decision",
        json={"decision": "recognised", "note": "材料齐全"},
    )
    assert ok.status_code == 200 and ok.json()["state"] == "recognised"
    listed = clerk.api("GET", "/api/v1/outreach/introduced?state=recognised").json()
    assert [(x["person_no"], x["name_masked"][0]) for x in listed] == [("P0000200", "测")]
    req = clerk.api("POST", "/api/v1/outreach/family-requests", json=family)
    assert req.status_code == 201, req.text
    assert (
        req.json()["deadline"] == (TODAY + dt.timedelta(days=20)).isoformat()
        and req.json()["state"] == "open"
    )
    rid = req.json()["id"]
    empty = clerk.api("POST", f"/api/v1/outreach/family-requests/{rid}/answer", json={"answer": ""})
    assert empty.status_code == 422 and "答复内容" in empty.json()["detail"]
    assert (
        clerk.api("POST", f"/api/v1/outreach/family-requests/{rid}/accept", json={}).json()["state"]
        == "in_progress"
    )
    done = clerk.api(
        "POST", f"/api/v1/outreach/family-requests/{rid}/answer", json={"answer": "已安排就近入学"}
    )
    assert done.json()["state"] == "answered" and done.json()["answered_on"] == TODAY.isoformat()
    assert clerk.api("POST", f"/api/v1/outreach/family-requests/{rid}/accept", json={}).status_code == 409
    assert clerk.api("GET", "/api/v1/outreach/introduced").json()[0]["open_requests"] == 0
    export = clerk.get("/outreach/introduced/export.xlsx")
    assert export.status_code == 200 and export.content.startswith(b"PK")
    assert "outreach.talent.export" in audit_actions(db_engine)


def test_talent_pool_for_labour_matching(as_role, db_engine, pii, linked):
    clerk = as_role("o.clerk", "window_clerk")
    person_no, _ = numbers(db_engine, linked)
    r = clerk.api(
        "POST",
        "/api/v1/outreach/talents",
        json={
            "kind": "tu_zhuanjia",
            "town": "龙兴镇",
            "trade": "柑橘种植",
            "skills": "嫁接，病虫害防治",
            "recognised_on": "2025-05-01",
            "person_no": person_no,
        },
    )
    assert r.status_code == 201, r.text
    dup = clerk.api(
        "POST",
        "/api/v1/outreach/talents",
        json={
            "kind": "tu_zhuanjia",
            "town": "龙兴镇",
            "trade": "柑橘",
            "skills": "嫁接",
            "recognised_on": "2025-05-01",
            "person_no": person_no,
        },
    )
    assert dup.status_code == 409
    nobody = clerk.api(
        "POST",
        "/api/v1/outreach/talents",
        json={
            "kind": "tian_xiucai",
            "town": "龙兴镇",
            "trade": "养殖",
            "skills": "养蜂",
            "recognised_on": "2025-05-01",
        },
    )
    assert nobody.status_code == 422 and "人员" in nobody.json()["detail"]
    with transaction(make_sessionmaker(db_engine)) as session:
        pool = S.talent_pool(session, 500101)
        assert S.talent_pool(session, 500102) == []
    assert [(p.kind_label, p.skills, p.person_no, p.away) for p in pool] == [
        ("土专家", ("嫁接", "病虫害防治"), person_no, False)
    ]
    with db_engine.begin() as conn:
        conn.execute(update(HometownTalent).values(district=500102))
    with transaction(make_sessionmaker(db_engine)) as session:
        assert S.talent_pool(session, 500101) == []


def test_renewed_consent_moves_the_retention_and_the_channels(as_role, db_engine, cipher):
    clerk = as_role("o.clerk", "window_clerk")
    old = dt.date(2023, 12, 1)
    p = clerk.api("POST", "/api/v1/outreach/people", json=person_body(consent_on=old.isoformat())).json()
    assert p["retain_until"] == "2026-12-01"
    sms = {"contacted_on": TODAY.isoformat(), "method": "sms", "answer": "interested"}
    assert clerk.api("POST", f"/api/v1/outreach/people/{p['id']}/contacts", json=sms).status_code == 403
    bad = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{p['id']}/renew-consent",
        json={"on": TODAY.isoformat(), "consent_scope": []},
    )
    assert bad.status_code == 422 and "至少选择一种" in bad.json()["detail"]
    early = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{p['id']}/renew-consent",
        json={"on": "2023-01-01", "consent_scope": ["sms"]},
    )
    assert early.status_code == 422 and "原同意日期" in early.json()["detail"]
    ok = clerk.api(
        "POST",
        f"/api/v1/outreach/people/{p['id']}/renew-consent",
        json={"on": TODAY.isoformat(), "consent_scope": ["phone", "sms"]},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["retain_until"] == S.add_months(TODAY, 36).isoformat()
    assert ok.json()["consent_scope"] == ["phone", "sms"]
    assert clerk.api("POST", f"/api/v1/outreach/people/{p['id']}/contacts", json=sms).status_code == 201
    assert "outreach.consent.renew" in audit_actions(db_engine)
    with transaction(make_sessionmaker(db_engine)) as session:
        later = S.add_months(old, 36) + dt.timedelta(days=1)
        assert S.purge(session, params=load_parameters(), today=later, audit_key=_key(cipher)).total == 0
