"""The carriers API end to end, on SQLite and PostgreSQL: carrier → schedule → tenants → a month's bills
with the engine's reduction → export → rating → carrier award through the application workflow to
approved; free workstations (engine decides, term, renewal, refusal with the engine's reason); bad input
(clear Chinese error, nothing half-written); district scope and audit."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.carriers.world import CARRIER, LATER, PDF
from xiangchuang.applications import disbursement
from xiangchuang.applications.kinds import KINDS
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import CarrierBill, Determination, Tenancy, WorkstationAllocation


def _count(world, model) -> int:
    with make_sessionmaker(world.engine)() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _setup(world):
    rev, op = world.client("revw"), world.client("opr")
    r = rev.post("/api/v1/carriers", json=CARRIER)
    assert r.status_code == 201, r.text
    r = op.put(
        "/api/v1/carriers/C-T1/schedule",
        json=[
            {"year": 1, "rent": 100, "property": 50, "utilities": 0},
            {"year": 2, "rent": 50, "property": 0, "utilities": 0},
        ],
    )
    assert r.status_code == 200, r.text
    for no, start, ws, prop in (
        ("B-OK", "2024-09-01", "003", 30_001),
        ("B-MED", "2025-01-01", "004", 30_000),
    ):
        r = op.post(
            "/api/v1/carriers/C-T1/tenants",
            json={"business_no": no, "start": start, "workstation": ws, "rent_fen": 150_000,
                  "property_fee_fen": prop, "utilities_fen": 12_345},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    return rev, op


def test_carrier_tenant_bill_reduction_and_award(world):
    rev, op = _setup(world)
    detail = op.get("/api/v1/carriers/C-T1").json()
    assert [s["rent"] for s in detail["schedule"]] == [100, 50] and not detail["schedule_is_default"]
    assert detail["workstations"] == 10 and detail["workstations_used"] == 2 and detail["tenants"] == 2
    assert sum(w["free"] for w in detail["workstation_list"]) == 2

    # May's bills: the engine's carrier_rent_reduction, with the month's utilities for B-OK.
    r = op.post("/api/v1/carriers/C-T1/bills", json={"month": "2025-05", "utilities_fen": {"B-OK": 20_000}})
    assert r.status_code == 201, r.text
    bills = {b["business_no"]: b for b in r.json()}
    ok = bills["B-OK"]
    assert ok["status"] == "eligible" and ok["tenancy_year"] == 1
    assert (ok["rent_cut_fen"], ok["property_cut_fen"], ok["utilities_cut_fen"]) == (150_000, 15_001, 0)
    assert ok["gross_fen"] == 150_000 + 30_001 + 20_000 and ok["reduction_fen"] == 165_001
    assert ok["due_fen"] == 35_000
    assert "入驻第1年，按载体自定方案减免：场租100%、物业50%、水电0%" in ok["reason"]
    med = bills["B-MED"]
    assert med["status"] == "ineligible" and med["reduction_fen"] == 0 and "不是小微企业" in med["reason"]
    # Billing the same month again makes nothing new.
    assert op.post("/api/v1/carriers/C-T1/bills", json={"month": "2025-05"}).json() == []

    # Reported per tenant and per carrier; the bill page and the Excel export.
    detail = op.get("/api/v1/carriers/C-T1").json()
    assert detail["reduced_fen"] == 165_001
    assert {t["business_no"]: t["reduced_fen"] for t in detail["tenant_list"]} == {
        "B-OK": 165_001,
        "B-MED": 0,
    }
    page = op.get(f"/carriers/C-T1/bills/{ok['bill_no']}")
    assert page.status_code == 200 and "1,650.01" in page.text and "350.00" in page.text
    x = op.get("/api/v1/carriers/C-T1/bills.xlsx?month=2025-05")
    assert x.status_code == 200
    rows = list(load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True))
    assert rows[-1][0] == "合计" and float(rows[-1][12]) == 1650.01

    # Yearly rating with its evidence (district staff), then the award through the workflow.
    r = rev.post(
        "/api/v1/carriers/C-T1/ratings",
        json={
            "year": 2024,
            "rating": "A",
            "score": 91,
            "evidence": "测试区人社局 2024 年度绩效评估报告：优秀",
        },
    )
    assert r.status_code == 201, r.text
    r = op.post("/api/v1/carriers/C-T1/awards", json={"year": 2023})
    assert r.status_code == 422 and "须为 2024" in r.json()["detail"]
    r = op.post("/api/v1/carriers/C-T1/awards", json={"year": 2024})
    assert r.status_code == 201, r.text
    app_id = r.json()["id"]
    assert op.post(f"/api/v1/carriers/awards/{app_id}/submit").status_code == 422  # materials missing
    for m in KINDS["carrier_award"].required_materials:
        r = op.post(
            f"/api/v1/carriers/awards/{app_id}/materials",
            data={"material": m.id},
            files={"file": (f"{m.id}.pdf", PDF, "application/pdf")},
        )
        assert r.status_code == 200, r.text
    r = op.post(f"/api/v1/carriers/awards/{app_id}/submit")
    assert r.status_code == 200 and r.json()["state"] == "submitted", r.text
    clerk = world.client("clerk")
    for action in ("accept", "start_first_review", "pass_first_review"):
        r = clerk.post(f"/api/v1/applications/{app_id}/actions", json={"action": action})
        assert r.status_code == 200, (action, r.text)
    r = rev.post(f"/api/v1/applications/{app_id}/actions", json={"action": "pass_second_review"})
    assert r.status_code == 200, r.text
    with make_sessionmaker(world.engine)() as s:
        det = s.scalars(
            select(Determination)
            .where(Determination.application_id == app_id)
            .order_by(Determination.id.desc())
        ).first()
        assert det is not None and det.status == "eligible"
        # 市级一次性 600,000 + 2024 年度绩效 A 等 300,000 (the rating the assembler read).
        assert det.amount_fen == 90_000_000
        s.close()
    with transaction(make_sessionmaker(world.engine)) as s:
        disbursement.open_budget(s, district=500101, amount_fen=100_000_000, at=LATER)
    world.clock.now = LATER
    r = rev.post(f"/api/v1/applications/{app_id}/actions", json={"action": "approve"})
    assert r.status_code == 200 and r.json()["state"] == "approved", r.text
    assert op.get("/api/v1/carriers/C-T1").json()["awards"][0]["state"] == "approved"
    # The register holds each part paid, as the engine reads it: the one-off and the 2024 performance
    # award can never be paid again (the next review finds both received).
    from xiangchuang.applications import service as applications
    from xiangchuang.engine.parameters import load_parameters
    from xiangchuang.models import Application, Grant

    with make_sessionmaker(world.engine)() as s:
        grants = {
            g.period: g.amount_fen for g in s.scalars(select(Grant).where(Grant.program == "carrier_award"))
        }
        assert grants == {"oneoff": 60_000_000, "performance:2024": 30_000_000}
        probe = Application(kind="carrier_award", subject_table="carriers", subject_key="C-T1")
        again = applications.determine(s, probe, on=dt.date(2025, 7, 1), params=load_parameters())
    assert again["status"] == "ineligible"
    assert world.audit_count() >= 7


def test_free_workstation_decided_by_the_engine(world):
    _rev, op = _setup(world)
    r = op.post("/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-OLD", "start": "2025-06-10"})
    assert r.status_code == 422
    assert "不予分配免费工位" in r.json()["detail"] and "年龄超过35周岁" in r.json()["detail"]
    assert _count(world, WorkstationAllocation) == 0
    r = op.post(
        "/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-YOUNG", "start": "2025-06-10"}
    )
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["workstation"] == "001" and a["end"] == "2026-06-09" and a["person_no"] == "P-YOUNG"
    assert a["person_name_masked"] != "测试人员4" and "青年人才" in a["decision"]
    # Holding one now: a second allocation is refused.
    r = op.post(
        "/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-YOUNG", "start": "2025-06-11"}
    )
    assert r.status_code == 422 and "已在使用免费工位" in r.json()["detail"]
    r = op.post(f"/api/v1/carriers/allocations/{a['allocation_no']}/renew")
    assert r.status_code == 200, r.text
    assert r.json()["end"] == "2027-06-09" and r.json()["renewals"] == 1
    r = op.post(f"/api/v1/carriers/allocations/{a['allocation_no']}/end", json={"on": "2025-07-31"})
    assert r.status_code == 200 and r.json()["status"] == "ended" and r.json()["end"] == "2025-07-31"
    # No longer holding one: the engine allows a new allocation.
    r = op.post(
        "/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-YOUNG", "start": "2025-08-01"}
    )
    assert r.status_code == 201, r.text


def test_bill_months_and_rating_years_are_those_of_the_supported_range(world):
    """A bill month had a floor of its own (2000, which no rule names) and no ceiling: 「1999-03」 was a
    format error and 「2100-01」 was listed; a rating year had the same floor. Both are now input values
    of README choice 28 (engine.dates) in its one wording; a month not yet begun and a year not yet
    ended stay the business rules they are."""
    rev, op = _setup(world)
    out_of_range = "账单月份 2100-01 超出范围，须在1900-01至2099-12之间"
    r = op.get("/api/v1/carriers/C-T1/bills", params={"month": "2100-01"})
    assert r.status_code == 422 and r.json()["detail"] == out_of_range
    r = op.post("/api/v1/carriers/C-T1/bills", json={"month": "2100-01"})
    assert r.status_code == 422 and r.json()["detail"] == out_of_range
    r = op.get("/api/v1/carriers/C-T1/bills", params={"month": "1999-03"})
    assert r.status_code == 200 and r.json() == []
    r = op.post("/api/v1/carriers/C-T1/bills", json={"month": "2099-12"})
    assert r.status_code == 422 and "尚未开始" in r.json()["detail"]
    r = rev.post("/api/v1/carriers/C-T1/ratings", json={"year": 1899, "rating": "A", "evidence": "报告一份"})
    assert r.status_code == 422 and r.json()["detail"] == "评估年度 1899 超出范围，须在1900至2099之间"
    r = rev.post("/api/v1/carriers/C-T1/ratings", json={"year": 2099, "rating": "A", "evidence": "报告一份"})
    assert r.status_code == 422 and "须为已结束的年度" in r.json()["detail"]
    assert _count(world, CarrierBill) == 0


def test_bad_input_is_refused_in_chinese_and_nothing_is_written(world):
    rev, op = _setup(world)
    tenancies = _count(world, Tenancy)
    cases = [
        ("/api/v1/carriers/C-T1/tenants", {"business_no": "B-NONE", "start": "2025-01-01", "rent_fen": 1,
                                           "property_fee_fen": 0, "utilities_fen": 0}, "不在登记库中"),
        ("/api/v1/carriers/C-T1/tenants", {"business_no": "B-IMP", "start": "2025-01-01", "rent_fen": -5,
                                           "property_fee_fen": 0, "utilities_fen": 0}, "月场租"),
        ("/api/v1/carriers/C-T1/tenants", {"business_no": "B-IMP", "start": "2025-01-01", "workstation": "003",
                                           "rent_fen": 1, "property_fee_fen": 0, "utilities_fen": 0}, "已被占用"),
        ("/api/v1/carriers/C-T1/tenants", {"business_no": "B-IMP", "start": "2025-01-01", "workstation": "001",
                                           "rent_fen": 1, "property_fee_fen": 0, "utilities_fen": 0}, "免费创业工位"),
        ("/api/v1/carriers/C-T1/bills", {"month": "2025-13"}, "账单月份"),
        ("/api/v1/carriers/C-T1/bills", {"month": "2025-05", "utilities_fen": {"B-IMP": 5}}, "不是本月待出账"),
    ]  # fmt: skip
    for url, body, words in cases:
        r = op.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert words in r.json()["detail"], r.json()
    r = op.put(
        "/api/v1/carriers/C-T1/schedule", json=[{"year": 2, "rent": 50, "property": 0, "utilities": 0}]
    )
    assert r.status_code == 422 and "入驻年次须依次为" in r.json()["detail"]
    r = op.put(
        "/api/v1/carriers/C-T1/schedule", json=[{"year": 1, "rent": 120, "property": 0, "utilities": 0}]
    )
    assert r.status_code == 422 and "场租减免比例" in r.json()["detail"]
    assert [s["rent"] for s in op.get("/api/v1/carriers/C-T1").json()["schedule"]] == [100, 50]
    bad = dict(CARRIER, carrier_no="C-T2", kind="factory")
    r = rev.post("/api/v1/carriers", json=bad)
    assert r.status_code == 422 and "载体类型" in r.json()["detail"]
    r = rev.post("/api/v1/carriers", json=dict(CARRIER, carrier_no="C-T2", level="national"))
    assert r.status_code == 422 and "国家级" in r.json()["detail"]
    assert rev.post("/api/v1/carriers", json=CARRIER).status_code == 409
    r = rev.post("/api/v1/carriers/C-T1/ratings", json={"year": 2025, "rating": "A", "evidence": "报告一份"})
    assert r.status_code == 422 and "评估年度" in r.json()["detail"]

    # Excel import: one bad row → every error reported, nothing imported.
    wb = Workbook()
    ws = wb.active
    ws.append(["经营主体编号", "入驻日期", "工位号", "月场租（元）", "月物业费（元）", "月水电费（元）"])
    ws.append(["B-IMP", "2025-02-01", "005", "1200.50", "300", "88.8"])
    ws.append(["B-NONE", "2025-02-01", "006", "1200", "300", "88"])
    ws.append(["B-IMP", "2025-02-30", "007", "12.345", "300", "88"])
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = ("t.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r = op.post("/api/v1/carriers/C-T1/tenants/import", files={"file": xlsx})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert "未写入任何数据" in detail and "第 4 行" in detail and "入驻日期" in detail and "月场租" in detail
    assert _count(world, Tenancy) == tenancies
    # The good rows alone import.
    wb = Workbook()
    ws = wb.active
    ws.append(["经营主体编号", "入驻日期", "工位号", "月场租（元）", "月物业费（元）", "月水电费（元）"])
    ws.append(["B-IMP", "2025-02-01", "005", "1200.50", "300", "88.8"])
    buf = io.BytesIO()
    wb.save(buf)
    r = op.post("/api/v1/carriers/C-T1/tenants/import", files={"file": ("t.xlsx", buf.getvalue(), xlsx[2])})
    assert r.status_code == 200 and r.json()["rows"] == 1, r.text
    assert _count(world, Tenancy) == tenancies + 1
    assert _count(world, CarrierBill) == 0


def test_scope_and_pages(world):
    rev, op = _setup(world)
    other = world.client("revw2")
    assert other.get("/api/v1/carriers/C-T1").status_code == 403
    assert other.get("/api/v1/carriers").json() == []
    op2 = world.client("opr2")
    assert op2.get("/api/v1/carriers").json() == []
    assert op2.get("/api/v1/carriers/C-T1").status_code == 403
    assert op2.post("/api/v1/carriers/C-T1/bills", json={"month": "2025-05"}).status_code == 403
    city = world.client("city")
    assert [c["carrier_no"] for c in city.get("/api/v1/carriers").json()] == ["C-T1"]
    assert city.post("/api/v1/carriers/C-T1/bills", json={"month": "2025-05"}).status_code == 403
    # Pages: the operator's carrier page, a refused form re-rendered with the reason.
    page = op.get("/carriers/C-T1")
    assert page.status_code == 200 and "B-OK" in page.text and "no-store" in page.headers["cache-control"]
    token = op.headers["x-csrf-token"]
    r = op.post(
        "/carriers/C-T1/tenants",
        data={"csrf_token": token, "business_no": "B-IMP", "start": "2025-03-01", "rent": "abc",
              "property_fee": "0", "utilities": "0"},
    )  # fmt: skip
    assert r.status_code == 422 and 'role="alert"' in r.text and "月场租（元）：须为金额" in r.text
    form = {
        "csrf_token": token,
        "rent": ["100", "60", ""],
        "property_fee": ["50", "", ""],
        "utilities": ["0", "", ""],
    }
    r = op.post("/carriers/C-T1/schedule", data=form)
    assert r.status_code == 422 and "减免方案第 2 年物业费减免比例" in r.text
    r = op.post(
        "/carriers/C-T1/schedule", data={**form, "property_fee": ["50", "0", ""], "utilities": ["0", "0", ""]}
    )
    assert r.status_code == 200  # redirected to the page
    assert [s["rent"] for s in op.get("/api/v1/carriers/C-T1").json()["schedule"]] == [100, 60]
    r = op.post(
        "/carriers/C-T1/bills", data={"csrf_token": token, "month": "2025-05"}, follow_redirects=False
    )
    assert r.status_code == 303
    # District staff change the carrier's details and level; the capacity cannot fall below the tenants.
    change = {"name": "测试返乡创业园（新）", "address": "测试区新址", "capacity": 1, "services": ["policy"],
              "operator": "测试运营公司", "operator_org_code": "ORG1"}  # fmt: skip
    r = rev.put("/api/v1/carriers/C-T1", json=change)
    assert r.status_code == 422 and "不能少于目前在驻的 2 家企业" in r.json()["detail"]
    r = rev.put("/api/v1/carriers/C-T1", json={**change, "capacity": 12})
    assert r.status_code == 200 and r.json()["name"] == "测试返乡创业园（新）" and r.json()["capacity"] == 12
    assert op.put("/api/v1/carriers/C-T1", json=change).status_code == 403
    r = rev.post("/api/v1/carriers/C-T1/level", json={"level": "national", "on": "2025-01-10"})
    assert r.status_code == 200 and r.json()["national_date"] == "2025-01-10"
    # The award review now finds the one-off and the national-level uplift (no 2024 rating: performance
    # unknown, the other two suffice): 600,000 + 500,000.
    from xiangchuang.applications import service as applications
    from xiangchuang.engine.parameters import load_parameters
    from xiangchuang.models import Application

    with make_sessionmaker(world.engine)() as s:
        probe = Application(kind="carrier_award", subject_table="carriers", subject_key="C-T1")
        det = applications.determine(s, probe, on=dt.date(2025, 6, 10), params=load_parameters())
    assert det["status"] == "eligible" and det["amount_fen"] == 110_000_000
    assert set(det["result"]["any_of"]["satisfied_by"]) == {"oneoff", "national"}
    tid = next(t["tenancy_id"] for t in r.json()["tenant_list"] if t["business_no"] == "B-MED")
    r = op.post(f"/carriers/C-T1/tenants/{tid}/end", data={"csrf_token": token, "on": "2024-01-01"})
    assert r.status_code == 422 and "退出日期：不能早于入驻日期" in r.text
    r = op.post(
        f"/carriers/C-T1/tenants/{tid}/end",
        data={"csrf_token": token, "on": "2025-06-30"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    listing = city.get("/carriers")
    assert listing.status_code == 200 and "测试返乡创业园" in listing.text and "各区县" in listing.text


def test_quarterly_statistics(world):
    from sqlalchemy.orm import Session

    from xiangchuang.stats.periods import Quarter, Window
    from xiangchuang.stats.service import CITY, compute

    _rev, op = _setup(world)
    assert op.post("/api/v1/carriers/C-T1/bills", json={"month": "2025-05"}).status_code == 201
    r = op.post(
        "/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-YOUNG", "start": "2025-06-10"}
    )
    assert r.status_code == 201
    with Session(world.engine) as s:
        figs = compute(s, window=Window.of(Quarter(2025, 2)))["2025Q2"]
    for district in (500101, CITY):
        assert figs.get(("carriers_total_by_kind", district, "incubator")) == 1
        assert figs.get(("carriers_total_by_level", district, "municipal")) == 1
        assert figs.get(("carrier_workstations_total", district, "")) == 10
        assert figs.get(("carrier_workstations_occupied", district, "")) == 2
        assert figs.get(("carrier_reductions", district, "incubator")) == 150_000 + 15_001
        assert figs.get(("carrier_reduction_tenants", district, "incubator")) == 1
        assert figs.get(("free_workstations_granted", district, "")) == 1


# ---- dates a user enters for a carrier: those of the supported range (README choice 28) -----------------

LAST, AFTER, BEFORE = dt.date(2099, 12, 31), dt.date(2100, 1, 1), dt.date(1899, 12, 31)


def _rule(noun: str, day: dt.date) -> str:
    return f"{noun} {day.isoformat()} 超出范围，须在1900-01-01至2099-12-31之间"


def _state(world):  # type: ignore[no-untyped-def]
    """The carriers' rows, audit entries and C-T1's recognition dates and level."""
    from xiangchuang.models import Carrier

    with make_sessionmaker(world.engine)() as s:
        c = s.scalars(select(Carrier).where(Carrier.carrier_no == "C-T1")).one()
        dates = (c.district_date, c.municipal_date, c.national_date, c.level)
    counts = [_count(world, m) for m in (Carrier, Tenancy, WorkstationAllocation)]
    return counts, world.audit_count(), dates


def _refused_and_nothing_written(world, noun: str, day: dt.date, act) -> None:  # type: ignore[no-untyped-def]
    """``act(session, day)`` is refused with the range's rule naming ``noun``; the session is committed
    all the same, and no row, audit entry or date of the carriers has changed."""
    from xiangchuang.errors import ValidationFailed

    before = _state(world)
    with transaction(make_sessionmaker(world.engine)) as s:
        with pytest.raises(ValidationFailed) as refused:
            act(s, day)
        assert refused.value.message == _rule(noun, day)
    assert _state(world) == before


def test_carrier_dates_are_those_of_the_supported_range_in_the_service(world, akey):
    """Recognition dates, a tenancy's start and end, a free workstation's start and end: 2099-12-31 is
    taken, 2100-01-01 and 1899-12-31 are refused with the range's one wording naming the field, before
    anything (a row, an audit entry) is written. They were stored as given (any year Python reads)."""
    from xiangchuang.carriers import service as S
    from xiangchuang.carriers.repository import Actor
    from xiangchuang.engine.parameters import load_parameters
    from xiangchuang.errors import ValidationFailed

    _setup(world)
    staff, opr = Actor("revw", "district_reviewer", 500101), Actor("opr", "carrier_operator", None, "ORG1")
    params = load_parameters()

    def carrier(level: str, **dates: dt.date):  # type: ignore[no-untyped-def]
        base = {k: v for k, v in CARRIER.items() if not k.endswith("_date")}
        return S.CarrierInput(**{**base, "carrier_no": "C-T9", "level": level, "services": (), **dates})

    recognition = {
        "认定为区县级载体日期": ("district", "district_date", {}),
        "认定为市级载体日期": ("municipal", "municipal_date", {}),
        "认定为国家级载体日期": ("national", "national_date", {"municipal_date": dt.date(2020, 1, 1)}),
    }
    for noun, (level, field, other) in recognition.items():
        for day in (AFTER, BEFORE):
            _refused_and_nothing_written(
                world, noun, day,
                lambda s, d, level=level, field=field, other=other: S.create_carrier(
                    s, data=carrier(level, **{field: d}, **other), actor=staff, audit_key=akey
                ),
            )  # fmt: skip
            _refused_and_nothing_written(
                world, noun, day,
                lambda s, d, level=level: S.set_level(
                    s, carrier_no="C-T1", level=level, on=d, actor=staff, audit_key=akey
                ),
            )  # fmt: skip
    with transaction(make_sessionmaker(world.engine)) as s:
        made = S.create_carrier(
            s, data=carrier("national", municipal_date=LAST, national_date=LAST), actor=staff, audit_key=akey
        )
        assert (made.municipal_date, made.national_date) == (LAST, LAST)
        for level in ("district", "municipal", "national"):
            S.set_level(s, carrier_no="C-T1", level=level, on=LAST, actor=staff, audit_key=akey)
    assert _state(world)[2] == (LAST, LAST, LAST, "national")

    def tenant(s, d, no="B-IMP"):  # type: ignore[no-untyped-def]
        data = S.TenantInput(no, d, None, 100, 0, 0)
        return S.add_tenant(s, carrier_no="C-T1", data=data, actor=opr, audit_key=akey)

    with make_sessionmaker(world.engine)() as s:
        ok = s.scalars(select(Tenancy).where(Tenancy.start == dt.date(2024, 9, 1))).one().id

    def end(s, d):  # type: ignore[no-untyped-def]
        return S.end_tenancy(s, carrier_no="C-T1", tenancy_id=ok, end=d, actor=opr, audit_key=akey)

    def allocate(s, d):  # type: ignore[no-untyped-def]
        return S.allocate_free_workstation(
            s, carrier_no="C-T1", person_no="P-YOUNG", start=d, params=params, actor=opr, audit_key=akey
        )

    for day in (AFTER, BEFORE):
        _refused_and_nothing_written(world, "入驻日期", day, tenant)
        _refused_and_nothing_written(world, "退出日期", day, end)
        _refused_and_nothing_written(world, "开始日期", day, allocate)
    with transaction(make_sessionmaker(world.engine)) as s:
        assert tenant(s, LAST).start == LAST
        assert end(s, LAST).end == LAST
    # The last day is a date the engine decides on (a refusal then is its own: P-YOUNG is 101).
    with transaction(make_sessionmaker(world.engine)) as s, pytest.raises(ValidationFailed) as refused:
        allocate(s, LAST)
    assert refused.value.message.startswith("不予分配免费工位") and "超出范围" not in refused.value.message
    with transaction(make_sessionmaker(world.engine)) as s:
        alloc = allocate(s, dt.date(2025, 6, 10)).allocation_no

    def end_alloc(s, d):  # type: ignore[no-untyped-def]
        return S.end_allocation(s, allocation_no=alloc, on=d, actor=opr, audit_key=akey)

    for day in (AFTER, BEFORE):
        _refused_and_nothing_written(world, "退出日期", day, end_alloc)
    with transaction(make_sessionmaker(world.engine)) as s:
        ended = end_alloc(s, LAST)
        assert (ended.status, ended.ended_on) == ("ended", LAST)


def test_carrier_dates_outside_the_supported_range_are_a_422_on_the_api_the_pages_and_the_import(world):
    """The same rule through the API (a 422 with the message, not a 500), a form and an Excel import."""
    rev, op = _setup(world)
    tenancies = _count(world, Tenancy)
    for day in (AFTER, BEFORE):
        text, rule = day.isoformat(), _rule("认定为国家级载体日期", day)
        r = rev.post("/api/v1/carriers", json={**CARRIER, "carrier_no": "C-T2", "level": "national",
                                               "national_date": text})  # fmt: skip
        assert r.status_code == 422 and r.json()["detail"] == rule
        r = rev.post("/api/v1/carriers/C-T1/level", json={"level": "national", "on": text})
        assert r.status_code == 422 and r.json()["detail"] == rule
        r = op.post("/api/v1/carriers/C-T1/tenants", json={"business_no": "B-IMP", "start": text, "rent_fen": 1,
                                                           "property_fee_fen": 0, "utilities_fen": 0})  # fmt: skip
        assert r.status_code == 422 and r.json()["detail"] == _rule("入驻日期", day)
        tid = op.get("/api/v1/carriers/C-T1").json()["tenant_list"][0]["tenancy_id"]
        r = op.post(f"/api/v1/carriers/C-T1/tenants/{tid}/end", json={"on": text})
        assert r.status_code == 422 and r.json()["detail"] == _rule("退出日期", day)
        r = op.post("/api/v1/carriers/C-T1/free-workstations", json={"person_no": "P-YOUNG", "start": text})
        assert r.status_code == 422 and r.json()["detail"] == _rule("开始日期", day)
    token = op.headers["x-csrf-token"]
    r = op.post(
        "/carriers/C-T1/tenants",
        data={"csrf_token": token, "business_no": "B-IMP", "start": "2100-01-01", "rent": "1",
              "property_fee": "0", "utilities": "0"},
    )  # fmt: skip
    assert r.status_code == 422 and _rule("入驻日期", AFTER) in r.text
    wb = Workbook()
    ws = wb.active
    ws.append(["经营主体编号", "入驻日期", "工位号", "月场租（元）", "月物业费（元）", "月水电费（元）"])
    ws.append(["B-IMP", "2099-12-31", "005", "1", "0", "0"])
    ws.append(["B-IMP", dt.datetime(2100, 1, 1), "006", "1", "0", "0"])
    buf = io.BytesIO()
    wb.save(buf)
    xlsx = ("t.xlsx", buf.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    r = op.post("/api/v1/carriers/C-T1/tenants/import", files={"file": xlsx})
    assert r.status_code == 422 and f"第 3 行：{_rule('入驻日期', AFTER)}" in r.json()["detail"]
    assert "第 2 行" not in r.json()["detail"]
    assert _count(world, Tenancy) == tenancies


def test_free_workstation_term_is_the_citys_value(world, akey, tmp_path):
    """A district's term for free workstations is not applied (README choice 38, as the engine's
    free_workstation and `xiangchuang params --district` say): 500101 setting 24 months still allots
    and renews 12. (The service used the carrier's district: 24.)"""
    from xiangchuang.carriers import service as S
    from xiangchuang.carriers.repository import Actor
    from xiangchuang.engine.parameters import load_parameters
    from xiangchuang.engine.programs import city_only_parameters

    overlay = tmp_path / "term.yaml"
    overlay.write_text(
        "free_workstation.term_months:\n  districts:\n    500101:\n"
        "      - {since: 2021-01-01, value: 24, paid_by: 区县财政, status: assumed, reference: 测试}\n",
        encoding="utf-8",
    )
    params = load_parameters(str(overlay))
    assert params["free_workstation.term_months"].value_at(dt.date(2025, 6, 10), CARRIER["district"]) == 24
    assert "free_workstation.term_months" in city_only_parameters()
    _setup(world)
    opr = Actor("opr", "carrier_operator", None, "ORG1")
    with transaction(make_sessionmaker(world.engine)) as s:
        a = S.allocate_free_workstation(
            s, carrier_no="C-T1", person_no="P-YOUNG", start=dt.date(2025, 6, 10), params=params,
            actor=opr, audit_key=akey,
        )  # fmt: skip
        assert a.end == dt.date(2026, 6, 9)
        renewed = S.renew_allocation(
            s, allocation_no=a.allocation_no, params=params, actor=opr, audit_key=akey
        )
        assert renewed.end == dt.date(2027, 6, 9)


def test_a_stored_schedule_the_reader_now_refuses_is_shown_not_failed(world):
    """A schedule stored before the reader refused skipped years: the carrier's API detail and page
    still open (they failed with the reader's error), say the schedule cannot be read and ask for it
    to be saved again, and show neither it nor the default as the carrier's."""
    from xiangchuang.models import Carrier

    _, op = _setup(world)
    with transaction(make_sessionmaker(world.engine)) as s:
        c = s.scalars(select(Carrier).where(Carrier.carrier_no == "C-T1")).one()
        c.schedule = "1:100/0/0;3:50/0/0"
    r = op.get("/api/v1/carriers/C-T1")
    assert r.status_code == 200, r.text
    detail = r.json()
    assert detail["schedule"] == [] and detail["schedule_is_default"] is False
    assert (
        "入驻年次须从1起依次递增" in detail["schedule_problem"] and "请重新保存" in detail["schedule_problem"]
    )
    page = op.get("/carriers/C-T1")
    assert page.status_code == 200 and "无法读取" in page.text and "未自定，按默认方案" not in page.text
