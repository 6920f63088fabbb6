"""Mentor pool pages and API on both databases: a city administrator creates an event through the form,
organiser and supervisor commit (the page makes the secret) and reveal, the draw runs; then every mentor
page and API route is fetched as every role while the draw is sealed — no drawn mentor's name appears
anywhere except on that mentor's own page — and every access to the sealed draw is audited. After the
unseal time the organiser sees the names and downloads a manifest the verifier reproduces."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.mentors.test_service import HEADERS, _xlsx
from tests.registry.factories import Registry
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import service as S
from xiangchuang.models import AuditEvent, Business, MentorDraw, MentorEvent, Person
from xiangchuang.users.service import ROLE_LABELS

CREATE_AT = dt.datetime(2025, 6, 2, 2, 0, tzinfo=dt.UTC)
DRAW_AT = dt.datetime(2025, 6, 10, 1, 0, tzinfo=dt.UTC)
AFTER = dt.datetime(2025, 6, 12, 1, 0, tzinfo=dt.UTC)
DISTRICT_ROLES = ("window_clerk", "district_reviewer", "district_finance", "guarantee_fund", "bank")


def _setup(engine, pii, tmp_path) -> None:
    """As tests/mentors/test_service.py: applicant P-APP/B-APP, 9 agriculture/city and 5 ecommerce/district
    mentors T00–T13 (logins u-m00–u-m13), imported from Excel; person numbers start at 100 so they never
    collide with the web fixtures' person."""
    from xiangchuang.registry.importer import import_file

    with engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(100)
        applicant = reg.person(no="P-APP")
        biz = reg.business(
            no="B-APP", founder=applicant, registration_date=dt.date(2021, 1, 1), district=500102
        )
        for i in range(14):
            reg.person(no=f"P-M{i:02d}")
        uscc = conn.execute(select(Business.uscc).where(Business.id == biz)).scalar_one()
    rows = [
        [
            f"T{i:02d}",
            f"P-M{i:02d}",
            "市级" if i < 9 else "区县级",
            "农业种养" if i < 9 else "电子商务",
            uscc if i == 0 else None,
            "某大学" if i else None,
            "万州区",
            f"u-m{i:02d}",
        ]
        for i in range(14)
    ]
    with engine.begin() as conn:
        res = import_file(conn, kind="mentors", path=_xlsx(tmp_path / "mentors.xlsx", HEADERS, rows), pii=pii)
    assert res.ok and res.inserted == 14, res.errors


class Clock:
    def __init__(self, t: dt.datetime) -> None:
        self.t = t

    def __call__(self) -> dt.datetime:
        return self.t


def _secret(html: str) -> str:
    m = re.search(r'<code id="party-secret">([0-9a-f]{64})</code>', html)
    assert m, "no secret shown"
    return m.group(1)


def _drawn_names(engine, pii) -> dict[str, str]:
    """user login → full name of every mentor seated or queued as backup in E1's draw (test-only read)."""
    keys = S.Keys(pii.cipher, b"")
    with Session(engine) as s:
        d = s.execute(select(MentorDraw)).scalar_one()
        man = S._manifest(keys, d)
        drawn = {p["mentor"] for p in man["result"]["panel"]}
        drawn |= {m for q in man["result"]["backups"].values() for m in q}
        by_p = S._mentors_by_pseudonym(s, keys, drawn)
        return {m.user_id or m.mentor_no: s.get(Person, m.person_id).name for m in by_p.values()}


def test_event_draw_and_no_sealed_name_for_any_role(app, as_role, db_engine, pii, tmp_path):
    _setup(db_engine, pii, tmp_path)
    clock = Clock(CREATE_AT)
    app.state.test_clock = clock
    city = as_role("u-city", "city_admin")
    sup = as_role("u-sup", "city_admin")
    form = {
        "event_no": "E1",
        "title": "2025年返乡创业大赛复赛",
        "kind": "project_review",
        "event_date": "2025-06-12",
        "unseal_at": "2025-06-12T08:30",
        "quotas": "农业种养 市级 3\n电子商务 区县级 2",
        "backups": "1",
        "projects": "PJ1 | 生态养殖 | P-APP | B-APP | 是\nPJ2 | 电商助农 | P-M13 | | 否",
        "organiser_user": "u-city",
        "supervisor_user": "u-sup",
        "chair_user": "",
        "staff": "P-M01",
        "district": "",
        "public_value_source": "",
        "tie_rule": "higher_median",
    }
    bad = city.post("/mentors/events/new", {**form, "quotas": "农业种养 省级 3"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text and "层级" in bad.text
    bad = city.post("/mentors/events/new", {**form, "supervisor_user": "u-city"})
    assert bad.status_code == 422 and "不同" in bad.text
    with Session(db_engine) as s:
        assert (
            s.execute(select(func.count()).select_from(MentorEvent)).scalar_one() == 0
        )  # nothing half-written
    r = city.post("/mentors/events/new", form)
    assert r.status_code == 303 and r.headers["location"] == "/mentors/events/E1", r.text[:2000]
    # commit: the page makes the secret and shows it once
    r = city.post("/mentors/events/E1/commit")
    assert r.status_code == 200, r.text[:2000]
    s_org = _secret(r.text)
    r = sup.post("/mentors/events/E1/commit")
    s_sup = _secret(r.text)
    assert "抽取输入摘要" in r.text
    r = city.post("/mentors/events/E1/reveal", {"secret": "0" * 64})
    assert r.status_code == 422 and "承诺不符" in r.text
    assert city.post("/mentors/events/E1/reveal", {"secret": s_org}).status_code == 303
    assert sup.post("/mentors/events/E1/reveal", {"secret": s_sup}).status_code == 303
    r = city.post("/mentors/events/E1/draw")
    assert r.status_code == 422 and "最早抽取时间" in r.text
    clock.t = DRAW_AT
    r = city.post("/mentors/events/E1/draw")
    assert r.status_code == 303, r.text[:3000]

    names = _drawn_names(db_engine, pii)
    assert len(names) >= 5
    mentor_logins = sorted(names)[:2]
    clients = {}
    for role in ROLE_LABELS:
        clients[role] = as_role(
            f"w.{role.replace('_', '')}", role, 500101 if role in DISTRICT_ROLES else None
        )
    for login in mentor_logins:
        clients[login] = as_role(login, "mentor")
    urls = [
        "/mentors/pool",
        "/mentors/pool?q=T01",
        "/mentors/events",
        "/mentors/events/E1",
        "/mentors/events/E1/manifest.json",
        "/mentors/services",
        "/mentors/acceleration",
        "/mentor/me",
        "/mentor/events/E1",
        "/api/v1/mentors",
        "/api/v1/mentors/events",
        "/api/v1/mentors/events/E1",
        "/api/v1/mentors/me",
        "/api/v1/mentors/me/assignments",
    ]
    leaks = []
    seen_own = 0
    for who, c in [*clients.items(), ("u-city", city), ("u-sup", sup)]:
        for url in urls:
            got = c.get(url)
            assert got.status_code < 500, (who, url, got.text[:500])
            for login, name in names.items():
                if re.search(re.escape(name) + r"(?!\d)", got.text):
                    if login == who and url in ("/mentor/me", "/mentor/events/E1"):
                        seen_own += 1  # a mentor's own name on their own page
                    else:
                        leaks.append((who, url, login))
    assert leaks == []
    assert seen_own >= 2
    # the seated mentor sees their seat, without anyone else's name; the manifest is refused while sealed
    me = clients[mentor_logins[0]]
    api = me.get("/api/v1/mentors/me/assignments").json()
    page = me.get("/mentor/me").text
    assert [a["event_no"] for a in api] in ([], ["E1"])
    if api:
        assert "E1" in page and me.get("/mentor/events/E1").status_code == 200
    assert city.get("/mentors/events/E1/manifest.json").status_code == 403
    with Session(db_engine) as s:
        actions = dict(
            s.execute(
                select(AuditEvent.action, func.count())
                .where(AuditEvent.action.like("mentor_draw.%"))
                .group_by(AuditEvent.action)
            ).all()
        )
    assert actions["mentor_draw.view_sealed"] >= 4  # staff views of the sealed draw
    assert actions["mentor_draw.own_assignment"] >= 2
    assert actions["mentor_draw.export"] >= 1  # the refused export, kept although it was refused

    # a seated mentor declines from their page: the seat passes to the stratum's backup (notified), the
    # decliner no longer holds it, and staff see the seat's status only
    keys = S.Keys(pii.cipher, b"")
    with Session(db_engine) as s:
        seated = S._seated_users(s, keys, "E1")
    decliner = clients.get(seated[0]) or as_role(seated[0], "mentor")
    page = decliner.get("/mentor/events/E1")
    assert page.status_code == 200 and 'id="respond-btn"' in page.text
    r = decliner.post("/mentor/events/E1/respond", {"answer": "decline"})
    assert r.status_code == 303 and r.headers["location"] == "/mentor/me"
    assert decliner.get("/api/v1/mentors/me/assignments").json() == []
    with Session(db_engine) as s:
        after = S._seated_users(s, keys, "E1")
    assert seated[0] not in after and after[1:] == seated[1:] and after[0]
    slots = city.get("/api/v1/mentors/events/E1").json()["slots"]
    assert slots[0]["status"] == "notified" and all(x["name"] is None for x in slots)

    # after the unseal time: the organiser sees names; the manifest verifies
    clock.t = AFTER
    r = city.get("/mentors/events/E1")
    assert any(name in r.text for name in names.values())
    assert "（密封）" not in r.text
    man = city.get("/mentors/events/E1/manifest.json")
    assert man.status_code == 200 and "no-store" in man.headers["cache-control"]
    assert D.verify(json.loads(man.content)).ok
    # a district reviewer of another district sees neither the event nor its slots
    assert clients["district_reviewer"].get("/mentors/events/E1").status_code == 403
    assert clients["district_reviewer"].get("/api/v1/mentors/events/E1").status_code == 403


def test_mentor_keeps_only_their_own_profile_and_answers_a_seat(app, as_role, db_engine, pii, tmp_path):
    _setup(db_engine, pii, tmp_path)
    app.state.test_clock = Clock(DRAW_AT)
    m = as_role("u-m05", "mentor")
    page = m.get("/mentor/me")
    assert page.status_code == 200 and "T05" in page.text and "no-store" in page.headers["cache-control"]
    r = m.post("/mentor/me", {"available": "", "other_specialties": "法律", "employer_name": "某大学"})
    assert r.status_code == 200 and "已保存" in r.text
    assert m.get("/api/v1/mentors/me").json()["available"] is False
    r = m.post("/mentor/me/relations", {"person_no": "P-NOBODY", "relation": "spouse"})
    assert r.status_code == 422 and 'role="alert"' in r.text
    r = m.post("/mentor/me/relations", {"person_no": "P-APP", "relation": "spouse"})
    assert r.status_code == 200 and "P-APP" in r.text
    # an unlinked mentor account gets a page, not an error
    other = as_role("u-nobody", "mentor")
    assert "尚未关联" in other.get("/mentor/me").text
    assert other.get("/api/v1/mentors/me").json() == {"linked": False} | {
        k: None
        for k in (
            "mentor_no",
            "level",
            "specialty",
            "other_specialties",
            "employer_name",
            "district",
            "available",
            "status",
        )
    }
    # staff pages are not for mentors
    assert m.get("/mentors/pool").status_code == 403
    assert m.get("/mentors/events").status_code == 403


def test_pool_import_status_and_services(app, as_role, db_engine, pii, tmp_path):
    _setup(db_engine, pii, tmp_path)
    app.state.test_clock = Clock(DRAW_AT)
    city = as_role("u-city", "city_admin")
    page = city.get("/mentors/pool?level=city")
    assert page.status_code == 200 and "T00" in page.text and "T10" not in page.text
    assert city.post("/mentors/pool/T03/status", {"status": "suspended"}).status_code == 303
    assert "暂停" in city.get("/mentors/pool?q=T03").text
    # a bad import: nothing written, an error report to download
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["导师编号", "人员编号", "导师层级", "主专业", "所在区县"])
    ws.append(["TX1", "P-APP", "省级", "农业种养", "万州区"])
    path = tmp_path / "bad.xlsx"
    book.save(path)
    with path.open("rb") as fh:
        r = city.client.post(
            "/mentors/import",
            data={"csrf_token": city.token},
            files={"file": ("bad.xlsx", fh, "application/octet-stream")},
        )
    assert r.status_code == 422 and "导师层级" in r.text
    link = re.search(r'href="(/mentors/import/reports/[0-9a-f]{16}\.xlsx)"', r.text)
    assert link and city.get(link.group(1)).status_code == 200
    assert city.get("/mentors/import/template.xlsx").status_code == 200
    # service records: recorded, confirmed by staff (not by the mentor themselves)
    r = city.post(
        "/mentors/services",
        {
            "mentor_no": "T04",
            "activity": "lecture",
            "units": "3",
            "district": "500101",
            "occurred_on": "2025-03-01",
            "organiser": "万州区就业局",
        },
    )
    assert r.status_code == 303
    text = city.get("/mentors/services").text
    no = re.search(r"(FW\d{8}[0-9A-F]{6})", text).group(1)
    assert city.post(f"/mentors/services/{no}/confirm", {"rating": "excellent"}).status_code == 303
    assert "已确认" in city.get("/mentors/services").text
    r = city.post("/mentors/services", {"mentor_no": "T04", "activity": "lecture", "units": "0"})
    assert r.status_code == 422 and 'role="alert"' in r.text


def test_finished_review_results_and_acceleration_pages(app, as_role, db_engine, pii, akey):
    """On the demo seeder's records: results with ranks and awards, the manifest after unseal, the
    渝创渝新 selection with its progress, and support recorded from the page (progress never goes back)."""
    from xiangchuang.demo_seed import SeedContext
    from xiangchuang.mentors import demo

    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(300)
        for i in range(4):
            reg.business(founder=reg.person(), registration_date=dt.date(2022, 1, 1 + i), district=500101)
        for _ in range(16):
            reg.person()
    with Session(db_engine) as s, s.begin():
        demo.seed(s, SeedContext(cipher=pii.cipher, audit_key=akey, on=dt.date.today(), district=500101))
    city = as_role("demo.city", "city_admin")
    page = city.get("/mentors/events/DEMO-HD1")
    assert page.status_code == 200 and "一等奖" in page.text and "二等奖" in page.text
    man = city.get("/mentors/events/DEMO-HD1/manifest.json")
    assert man.status_code == 200 and D.verify(json.loads(man.content)).ok
    year = (dt.date.today() - dt.timedelta(days=60)).year
    acc = city.get(f"/mentors/acceleration?year={year}")
    assert acc.status_code == 200 and "XM1" in acc.text and "60%" in acc.text
    sel = re.search(r'<option value="(\d+)">XM1</option>', acc.text).group(1)
    form = {"year": str(year), "selection_id": sel, "kind": "financing", "on": dt.date.today().isoformat()}
    back = city.post("/mentors/acceleration/support", {**form, "description": "贷款", "progress": "30"})
    assert back.status_code == 422 and "倒退" in back.text
    ok = city.post("/mentors/acceleration/support", {**form, "description": "贷款发放", "progress": "100"})
    assert ok.status_code == 303
    assert "100%" in city.get(f"/mentors/acceleration?year={year}").text
    # the upcoming review stays sealed for the city office too
    assert "（密封）" in city.get("/mentors/events/DEMO-HD2").text
    reviewer = as_role("r.other", "district_reviewer", 500102)
    assert reviewer.get("/mentors/acceleration").status_code == 403
    assert reviewer.get("/mentors/events/DEMO-HD1").status_code == 403


def test_district_reviewer_organises_their_district_event(app, as_role, db_engine, pii, tmp_path):
    _setup(db_engine, pii, tmp_path)
    app.state.test_clock = Clock(CREATE_AT)
    reviewer = as_role("u-rev", "district_reviewer", 500101)
    form = {
        "event_no": "QX1",
        "title": "万州区返乡创业项目评审",
        "kind": "project_review",
        "event_date": "2025-06-12",
        "unseal_at": "2025-06-12T08:30",
        "quotas": "农业种养 市级 3",
        "backups": "1",
        "projects": "PJ1 | 生态养殖 | P-APP | B-APP | 是",
        "supervisor_user": "u-city",
        "district": "500102",  # ignored: a district reviewer organises their own district's events
    }
    r = reviewer.post("/mentors/events/new", form)
    assert r.status_code == 303, r.text[:1500]
    with Session(db_engine) as s:
        ev = s.execute(select(MentorEvent).where(MentorEvent.event_no == "QX1")).scalar_one()
        assert (ev.district, ev.organiser_user) == (500101, "u-rev")
    page = reviewer.get("/mentors/events/QX1")
    assert page.status_code == 200 and 'id="commit-btn"' in page.text  # the organiser may commit
    assert "QX1" in reviewer.get("/mentors/events").text
    other = as_role("u-rev2", "district_reviewer", 500102)
    assert other.get("/mentors/events/QX1").status_code == 403
    assert "QX1" not in other.get("/mentors/events").text
    assert all(m["district"] == 500102 for m in other.get("/api/v1/mentors").json())


def test_window_clerk_applies_for_a_mentor_service_subsidy_on_behalf(app, as_role, db_engine, pii, tmp_path):
    from xiangchuang.models import Application

    _setup(db_engine, pii, tmp_path)
    app.state.test_clock = Clock(DRAW_AT)
    city = as_role("u-city", "city_admin")
    record = {"activity": "lecture", "units": "3", "district": "500101", "occurred_on": "2025-03-01"}
    for mentor in ("T04", "T05"):
        city.post("/mentors/services", {**record, "mentor_no": mentor, "organiser": "万州区就业局"})
    nos = re.findall(r"<td>(FW\d{8}[0-9A-F]{6})</td><td>(T0[45])</td>", city.get("/mentors/services").text)
    by_mentor = {m: no for no, m in nos}
    city.post(f"/mentors/services/{by_mentor['T04']}/confirm", {"rating": "excellent"})
    clerk = as_role("u-clerk", "window_clerk", 500101)
    page = clerk.get("/mentors/subsidy-on-behalf")
    assert page.status_code == 200 and by_mentor["T04"] in page.text and by_mentor["T05"] not in page.text
    r = clerk.post("/mentors/subsidy-on-behalf", {"service_no": by_mentor["T05"], "period": "2025"})
    assert r.status_code == 422 and "尚未确认" in r.text
    r = clerk.post("/mentors/subsidy-on-behalf", {"service_no": by_mentor["T04"], "period": "2025"})
    assert r.status_code == 303 and r.headers["location"].endswith("/materials")
    assert clerk.get(r.headers["location"]).status_code == 200
    with Session(db_engine) as s:
        a = s.execute(select(Application)).scalar_one()
        assert (a.kind, a.subject_table, a.subject_key) == (
            "mentor_service_subsidy",
            "mentor_services",
            by_mentor["T04"],
        )
        assert a.applicant_person_no == "P-M04" and a.on_behalf
    other = as_role("u-clerk2", "window_clerk", 500102)
    r = other.post("/mentors/subsidy-on-behalf", {"service_no": by_mentor["T04"], "period": "2026"})
    assert r.status_code == 422 and "本区县" in r.text


def test_acceleration_year_is_one_of_the_supported_range(app, as_role):
    """The acceleration page had a year range of its own (2000–2100) and showed this year's page, without
    a word, for any other year asked for (1999, 2101…). Its year is now one of the supported range
    (engine.dates.check_year, README choice 28): outside it a 422 naming the field, as a stats page's
    quarter; 1900–2099 (1999 included) is that year's page."""
    app.state.test_clock = Clock(CREATE_AT)
    city = as_role("u-acc", "city_admin")
    for year in (2100, 1899, 2101):
        r = city.get(f"/mentors/acceleration?year={year}")
        assert r.status_code == 422, r.text
        assert f"年度 {year} 超出范围，须在1900至2099之间" in r.text
    for year in (2099, 1999, 1900):
        r = city.get(f"/mentors/acceleration?year={year}")
        assert r.status_code == 200 and f"渝创渝新加速计划 {year} 年" in r.text
    r = city.get("/mentors/acceleration")
    assert r.status_code == 200 and "渝创渝新加速计划 2025 年" in r.text
