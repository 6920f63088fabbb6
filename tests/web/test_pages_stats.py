"""The statistics dashboard, drill-down, downloads, alerts and their API, per role, on both databases:
the city sees every district, a district its own only, every other role 403; a closed quarter shows its
closed snapshot (not recomputed), and later corrections only as a dated revision beside it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from tests.stats import scenario
from tests.stats.scenario import A, B
from xiangchuang.models import Application, StatAlert
from xiangchuang.stats.periods import Quarter
from xiangchuang.stats.service import close_quarter, revise_quarter

Q3 = Quarter(2026, 3)
AFTER = dt.datetime(2026, 10, 8, 2, tzinfo=dt.UTC)
DASH = "/stats?quarter=2026Q3&group=applications"


class _Registry(Registry):
    """Numbers clear of the signed-in applicant's linked person and business (tests/web/conftest.py)."""

    def __init__(self, conn, pii):
        super().__init__(conn, pii)
        self._seq = itertools.count(101)


@pytest.fixture
def world(db_engine, pii, linked, monkeypatch):
    monkeypatch.setattr(scenario, "Registry", _Registry)
    return scenario.build(db_engine, pii)


def _close(app, db_engine):
    key = app.state.xc.audit_key
    with Session(db_engine) as s, s.begin():
        close_quarter(s, quarter=Q3, actor="admin1", audit_key=key, now=AFTER)


def test_dashboard_per_role_and_the_closed_snapshot(app, as_role, db_engine, world):
    _close(app, db_engine)
    city = as_role("s.city", "city_admin")
    reviewer = as_role("s.rev", "district_reviewer", A)
    finance = as_role("s.fin", "district_finance", A)
    r = city.get(DASH)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"].startswith("no-store")
    page = r.text
    assert "万州区" in page and "涪陵区" in page and "全市" in page
    assert "已关账发布" in page and "关账日期 2026-10-08" in page and "修订 0" in page
    assert "/static/vendor/echarts/echarts.min.js" in page and 'id="chart-data"' in page
    assert 'data-kind="by_district"' in page and 'data-kind="trend"' in page
    for g in ("创业人员", "补贴金额", "创业担保贷款", "办理时长"):  # every registered group is a tab
        assert g in page
    for fmt in ("xlsx", "pdf", "csv"):
        assert f"/stats/download/{fmt}?quarter=2026Q3" in page
    for client in (reviewer, finance):
        r = client.get(DASH)
        assert r.status_code == 200, r.text
        assert "万州区" in r.text and "涪陵区" not in r.text and 'data-kind="by_district"' not in r.text
    for role in ("applicant", "bank", "window_clerk", "guarantee_fund", "sys_admin", "audit_admin"):
        assert (
            as_role(f"s.{role.replace('_', '')}", role, A if role == "window_clerk" else None)
            .get(DASH)
            .status_code
            == 403
        )

    # API: the same data per role
    doc = city.get("/api/v1/stats/dashboard?quarter=2026Q3&group=applications").json()
    assert doc["scope"] == "city" and doc["status"] == "published" and doc["revision"] == 0
    received = next(p for p in doc["indicators"] if p["id"] == "applications_received")
    totals = {row["district"]: row["total"] for row in received["table"]}
    assert totals[0] == 4 and totals[A] == 2 and totals[B] == 1
    assert totals[0] == sum(v for d, v in totals.items() if d)  # district rows add up to the city
    own = reviewer.get("/api/v1/stats/dashboard?quarter=2026Q3&group=applications").json()
    assert own["scope"] == "district" and own["district"] == A
    mine = next(p for p in own["indicators"] if p["id"] == "applications_received")
    assert [row["district"] for row in mine["table"]] == [A] and mine["table"][0]["total"] == 2
    quarter = reviewer.get("/api/v1/stats/quarter?quarter=2026Q3").json()
    assert {r["district"] for i in quarter["indicators"] for r in i["rows"]} == {A}
    cat = finance.get("/api/v1/stats/indicators").json()
    assert {"loans_issued", "step_median_days"} <= {i["id"] for i in cat}
    assert as_role("s.bank2", "bank").get("/api/v1/stats/dashboard").status_code == 403

    # a correction after the close: the dashboard keeps the snapshot; the revision appears beside it
    with db_engine.begin() as conn:
        conn.execute(update(Application).where(Application.id == world["app5"]).values(district=A))
    doc = city.get("/api/v1/stats/dashboard?quarter=2026Q3&group=applications").json()
    received = next(p for p in doc["indicators"] if p["id"] == "applications_received")
    assert {row["district"]: row["total"] for row in received["table"]}[B] == 1  # not silently changed
    with Session(db_engine) as s, s.begin():
        revise_quarter(s, quarter=Q3, actor="admin1", audit_key=app.state.xc.audit_key, note="区县更正",
                       now=AFTER + dt.timedelta(days=20))  # fmt: skip
    page = city.get(DASH).text
    assert "修订记录" in page and "区县更正" in page and "修订 1" in page
    doc = city.get("/api/v1/stats/dashboard?quarter=2026Q3&group=applications").json()
    assert doc["revision"] == 1 and doc["revisions"][0]["changes"]


def test_an_open_quarter_is_live_and_provisional(as_role, db_engine, world):
    doc = as_role("o.city", "city_admin").get("/api/v1/stats/dashboard?quarter=2026Q3&group=money").json()
    assert doc["status"] == "provisional" and doc["computed_at"]
    paid = next(p for p in doc["indicators"] if p["id"] == "amount_paid")
    assert paid["table"][-1]["district"] == 0 and paid["table"][-1]["total"] == 1_300_025


def test_drill_down_is_scope_checked(app, as_role, db_engine, world):
    _close(app, db_engine)
    city = as_role("d.city", "city_admin")
    reviewer = as_role("d.rev", "district_reviewer", A)
    base = "/stats/drill?indicator=applications_received&quarter=2026Q3"
    assert reviewer.get(f"{base}&district={B}").status_code == 403
    assert reviewer.get(f"/api/v1/stats/records?quarter=2026Q3&district={B}").status_code == 403
    assert reviewer.get(f"/api/v1/stats/breakdown?quarter=2026Q3&district={B}").status_code == 403
    r = reviewer.get(f"{base}&district={A}")
    assert r.status_code == 200 and "创业补助" in r.text and "关账快照" in r.text
    r = reviewer.get(f"{base}&district={A}&dim=startup_subsidy")
    assert r.status_code == 200 and "SQ1" in r.text and "SQ2" not in r.text
    r = reviewer.get(f"{base}")  # no district: the reviewer's own
    assert r.status_code == 200 and "万州区" in r.text
    r = city.get(f"{base}&district={B}&dim=job_subsidy")
    assert r.status_code == 200 and "SQ5" in r.text and "SQ3" not in r.text  # SQ3 was received in Q2
    doc = city.get(f"/api/v1/stats/records?quarter=2026Q3&district={A}").json()
    assert {a["application_no"] for a in doc["applications"]} == {"SQ1", "SQ2"}
    assert all("*" in a["subject"] for a in doc["applications"])  # masked
    b = city.get(f"/api/v1/stats/breakdown?quarter=2026Q3&district={A}").json()
    assert b["status"] == "published" and b["total"] == 2
    assert {x["dim"]: x["value"] for x in b["dims"]}["startup_subsidy"] == 1
    assert as_role("d.app", "applicant").get(f"{base}&district={A}").status_code == 403


def test_downloads_and_the_echarts_file(as_role, db_engine, world, client):
    r = client.get("/static/vendor/echarts/echarts.min.js")
    assert r.status_code == 200 and "echarts" in r.text[:5000].lower() and len(r.content) > 500_000
    assert client.get("/static/vendor/echarts/LICENSE").status_code == 200
    assert client.get("/static/stats-dashboard.js").status_code == 200
    reviewer = as_role("x.rev", "district_reviewer", A)
    r = reviewer.get("/stats/download/xlsx?quarter=2026Q3")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert r.headers["content-disposition"].endswith(f'stats-2026Q3-{A}.xlsx"')
    r = reviewer.get("/stats/download/csv?quarter=2026Q3")
    assert r.status_code == 200 and "涪陵区" not in r.content.decode("utf-8-sig")
    assert as_role("x.city", "city_admin").get("/stats/download/pdf?quarter=2026Q3").content[:4] == b"%PDF"
    assert reviewer.get("/stats/download/doc").status_code == 404


def _alert(conn, district, role, key):
    now = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
    return conn.execute(
        insert(StatAlert).values(
            rule="stale_step",
            finding_key=key,
            open_key=f"stale_step|{key}",
            district=district,
            role=role,
            subject=f"applications:{key}",
            message=f"申请 {key} 超时",
            details={},
            state="open",
            first_seen_at=now,
            last_seen_at=now,
        )
    ).inserted_primary_key[0]


def test_alerts_page_and_resolution(as_role, db_engine, pii):
    with db_engine.begin() as conn:
        mine = _alert(conn, A, "district_reviewer", "SQ1")
        other = _alert(conn, B, "district_reviewer", "SQ3")
        finance = _alert(conn, A, "district_finance", "SQ9")
    reviewer = as_role("a.rev", "district_reviewer", A)
    city = as_role("a.city", "city_admin")
    page = reviewer.get("/stats/alerts").text
    assert "申请 SQ1 超时" in page and "SQ3" not in page and "SQ9" not in page
    assert {a["id"] for a in city.get("/api/v1/stats/alerts").json()} == {mine, other, finance}
    r = reviewer.post(f"/stats/alerts/{mine}/resolve", {"resolution": "  "})
    assert r.status_code == 422 and 'role="alert"' in r.text and "处理说明" in r.text
    assert reviewer.post(f"/stats/alerts/{other}/resolve", {"resolution": "越权"}).status_code == 403
    assert reviewer.post(f"/stats/alerts/{finance}/resolve", {"resolution": "越权"}).status_code == 403
    r = reviewer.post(f"/stats/alerts/{mine}/resolve", {"resolution": "已电话催办"})
    assert r.status_code == 303
    with Session(db_engine) as s:
        a = s.execute(select(StatAlert).where(StatAlert.id == mine)).scalar_one()
        assert a.state == "resolved" and a.resolution == "已电话催办" and a.resolved_by == "a.rev"
    assert "SQ1" not in reviewer.get("/stats/alerts").text
    r = city.api("POST", f"/api/v1/stats/alerts/{other}/resolve", json={"resolution": "已核实"})
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert as_role("a.app", "applicant").get("/stats/alerts").status_code == 403
