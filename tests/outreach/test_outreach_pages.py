"""The outreach pages: a refused form comes back with the Chinese reason (role="alert") and nothing
written; the Excel import is all or nothing with errors per row and column; the masked list and export;
the full contact only by the audited button; the street clerk sees their town only."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select, update

from xiangchuang.chinatime import china_date
from xiangchuang.models import AuditEvent, OutreachPerson, User
from xiangchuang.outreach.service import IMPORT_COLUMNS

TODAY = china_date(dt.datetime.now(dt.UTC))


def count(db_engine) -> int:
    with db_engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(OutreachPerson)).scalar_one()


def form(**over):
    data = {
        "name": "赵六",
        "phone": "13712345678",
        "home_town": "龙兴镇",
        "work_place": "浙江省宁波市",
        "trade": "模具",
        "skills": "数控、钳工",
        "consent_on": TODAY.isoformat(),
        "consent_scope": ["phone", "visit"],
    }
    return {**data, **over}


def xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append([label for _, label in IMPORT_COLUMNS])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_register_form_refusal_and_success(as_role, db_engine):
    clerk = as_role("p.clerk", "window_clerk")
    assert clerk.get("/outreach/new").status_code == 200
    bad = clerk.post("/outreach/new", form(phone="1234", consent_scope=[]))
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert "手机号：不是有效的中国大陆手机号" in bad.text and "同意的联系方式：至少选择一种" in bad.text
    assert 'value="浙江省宁波市"' in bad.text  # the form keeps what was typed (except the mobile)
    assert count(db_engine) == 0
    ok = clerk.post("/outreach/new", form())
    assert ok.status_code == 303
    page = clerk.get(ok.headers["location"])
    assert page.status_code == 200 and "已保存" in page.text and "13712345678" not in page.text
    assert "赵*" in page.text and "+86137****5678" in page.text
    listed = clerk.get("/outreach")
    assert "赵*" in listed.text and "13712345678" not in listed.text
    pid = ok.headers["location"].split("/")[-1].split("?")[0]
    shown = clerk.post(f"/outreach/people/{pid}/reveal")
    assert shown.status_code == 200 and "+8613712345678" in shown.text and "赵六" in shown.text
    assert "no-store" in shown.headers["cache-control"]
    wrong = clerk.post(
        f"/outreach/people/{pid}/contacts",
        {"contacted_on": TODAY.isoformat(), "method": "sms", "answer": "not_now"},
    )
    assert wrong.status_code == 403 and 'role="alert"' in wrong.text and "短信" in wrong.text
    good = clerk.post(
        f"/outreach/people/{pid}/contacts",
        {"contacted_on": TODAY.isoformat(), "method": "visit", "answer": "interested"},
    )
    assert good.status_code == 303
    renew_bad = clerk.post(f"/outreach/people/{pid}/renew", {"on": TODAY.isoformat()})
    assert (
        renew_bad.status_code == 422 and 'role="alert"' in renew_bad.text and "至少选择一种" in renew_bad.text
    )
    renew = clerk.post(
        f"/outreach/people/{pid}/renew", {"on": TODAY.isoformat(), "consent_scope": ["phone", "sms"]}
    )
    assert renew.status_code == 303
    assert "短信" in clerk.get(f"/outreach/people/{pid}").text
    with db_engine.connect() as conn:
        actions = list(
            conn.execute(
                select(AuditEvent.action).where(AuditEvent.action.like("outreach.%")).order_by(AuditEvent.seq)
            ).scalars()
        )
    assert actions == [
        "outreach.person.register",
        "outreach.person.reveal_contact",
        "outreach.contact.log",
        "outreach.consent.renew",
    ]
    export = clerk.get("/outreach/export.xlsx")
    assert export.status_code == 200
    ws = load_workbook(io.BytesIO(export.content)).active
    values = [[c for c in row] for row in ws.iter_rows(values_only=True)]
    assert values[1][1] == "赵*" and values[1][2] == "+86137****5678"
    assert "13712345678" not in repr(values)


def test_excel_import_is_all_or_nothing(as_role, db_engine):
    clerk = as_role("p.clerk", "window_clerk")
    good = [
        "钱七",
        "13612345671",
        "龙兴镇",
        "江苏省苏州市",
        "电子",
        "贴片",
        TODAY.isoformat(),
        "电话、微信",
        "",
    ]
    good2 = ["孙八", "13612345672", "龙兴镇", "上海市", "餐饮", "厨师", TODAY.isoformat(), "短信", "wx-sun"]
    bad = ["周九", "1361234", "龙兴镇", "上海市", "餐饮", "", "2026-02-30", "传真", ""]
    dup = ["吴十", "13612345671", "龙兴镇", "上海市", "餐饮", "", TODAY.isoformat(), "电话", ""]
    r = clerk.client.post(
        "/outreach/import",
        data={"csrf_token": clerk.token},
        files={"file": ("register.xlsx", xlsx([good, bad, good2, dup]), "application/octet-stream")},
    )
    assert r.status_code == 422 and "未写入任何数据" in r.text
    assert "手机号：不是有效的中国大陆手机号" in r.text and "同意联系日期：须为日期" in r.text
    assert "“传真”不是可选项" in r.text and "手机号：与第 2 行重复" in r.text
    assert count(db_engine) == 0
    notxlsx = clerk.client.post(
        "/outreach/import",
        data={"csrf_token": clerk.token},
        files={"file": ("a.xlsx", b"hello", "text/plain")},
    )
    assert notxlsx.status_code == 422 and "不是 Excel" in notxlsx.text
    r = clerk.client.post(
        "/outreach/import",
        data={"csrf_token": clerk.token},
        files={"file": ("register.xlsx", xlsx([good, good2]), "application/octet-stream")},
    )
    assert r.status_code == 200 and "已导入 2 人" in r.text
    assert count(db_engine) == 2
    again = clerk.client.post(
        "/outreach/import",
        data={"csrf_token": clerk.token},
        files={"file": ("register.xlsx", xlsx([good]), "application/octet-stream")},
    )
    assert again.status_code == 422 and "已在外出人员登记中" in again.text and count(db_engine) == 2
    template = clerk.get("/outreach/import-template.xlsx")
    assert template.status_code == 200 and template.content.startswith(b"PK")


def test_street_clerk_sees_and_registers_only_their_town(as_role, db_engine):
    reviewer = as_role("p.reviewer", "district_reviewer")
    street = as_role("p.street", "window_clerk")
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == street.user_id).values(street="龙兴镇"))
    assert reviewer.post("/outreach/new", form(home_town="双溪镇")).status_code == 303
    assert street.post("/outreach/new", form(phone="13712345679")).status_code == 303
    other = street.post("/outreach/new", form(phone="13712345670", home_town="双溪镇"))
    assert other.status_code == 403 and "只能登记本街道/乡镇（龙兴镇）" in other.text
    towns = [p["home_town"] for p in street.api("GET", "/api/v1/outreach/people").json()]
    assert towns == ["龙兴镇"]
    assert sorted(p["home_town"] for p in reviewer.api("GET", "/api/v1/outreach/people").json()) == [
        "双溪镇",
        "龙兴镇",
    ]
    assert count(db_engine) == 2


def test_campaign_and_talent_pages(as_role, db_engine):
    reviewer = as_role("p.reviewer", "district_reviewer")
    clerk = as_role("p.clerk", "window_clerk")
    bad = reviewer.post(
        "/outreach/campaigns",
        {
            "name": "春节座谈",
            "occasion": "spring_festival",
            "starts_on": "2026-02-10",
            "ends_on": "2026-02-01",
        },
    )
    assert bad.status_code == 422 and "结束日期：不能早于开始日期" in bad.text
    ok = reviewer.post(
        "/outreach/campaigns",
        {
            "name": "春节座谈",
            "occasion": "spring_festival",
            "starts_on": "2026-02-01",
            "ends_on": "2026-02-20",
        },
    )
    assert ok.status_code == 303
    assert "春节座谈" in clerk.get(ok.headers["location"]).text
    assert "由区县人社审核人员创建" in clerk.get("/outreach/campaigns").text
    t = clerk.post(
        "/outreach/talents",
        {
            "kind": "tian_xiucai",
            "town": "龙兴镇",
            "trade": "种植",
            "skills": "育苗",
            "recognised_on": TODAY.isoformat(),
        },
    )
    assert t.status_code == 422 and "人员：须填写登记库人员编号" in t.text
