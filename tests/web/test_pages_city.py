"""City parameters (four-eyes changes that reach the engine) and the district overview, both databases."""

from __future__ import annotations

import copy
import datetime as dt

from sqlalchemy import select

from xiangchuang.engine.parameters import DatedValue, load_parameters, with_dated_values
from xiangchuang.models import AuditEvent
from xiangchuang.web.api import CASE_EXAMPLE

PARAM = "startup_subsidy.rate"


def test_with_dated_values_is_pure_and_dated():
    base = load_parameters()
    new = with_dated_values(base, [DatedValue(PARAM, dt.date(2031, 1, 1), "0.3", "测试")])
    assert str(base[PARAM].value_at(dt.date(2031, 6, 1))) == "1/5"  # base untouched
    assert str(new[PARAM].value_at(dt.date(2030, 12, 31))) == "1/5"
    assert str(new[PARAM].value_at(dt.date(2031, 1, 1))) == "3/10"
    assert new.version != base.version
    assert with_dated_values(base, []) is base
    same_day = with_dated_values(new, [DatedValue(PARAM, dt.date(2031, 1, 1), "0.25", "再调")])
    assert str(same_day[PARAM].value_at(dt.date(2031, 1, 1))) == "1/4"


def _rule(client, on: dt.date) -> str:
    case = copy.deepcopy(CASE_EXAMPLE)
    case["on"] = on.isoformat()
    # A claim year whose contributions the case gives: the rule then quotes its figures (with the
    # contributions unknown it names them instead).
    case["business"]["claim_year"] = min(int(y) for y in case["business"]["years"])
    r = client.api("POST", "/api/v1/checkup", json=case)
    assert r.status_code == 200, r.text
    return next(p for p in r.json()["programs"] if p["program"] == "startup_subsidy")["amount_rule"]


def test_change_takes_effect_on_its_date_only_after_a_second_admin_approves(as_role, db_engine):
    a = as_role("city.a", "city_admin")
    b = as_role("city.b", "city_admin")
    since = dt.date.today() + dt.timedelta(days=40)
    r = a.post(
        f"/city/parameters/{PARAM}/changes",
        {
            "value": "0.3",
            "since": since.isoformat(),
            "reason": "市政府常务会议决定",
            "reference": "渝府办〔2026〕1号",
        },
    )
    assert r.status_code == 303, r.text
    page = a.get(f"/city/parameters/{PARAM}")
    assert page.status_code == 200 and "待复核" in page.text
    change_id = int(page.text.split("/city/changes/")[1].split("/")[0])
    # pending: not yet in force
    assert "30%" not in _rule(a, since + dt.timedelta(days=1))
    # the requester cannot approve their own change
    assert a.post(f"/city/changes/{change_id}/approve").status_code == 403
    assert b.post(f"/city/changes/{change_id}/approve").status_code == 303
    assert "30%" in _rule(a, since + dt.timedelta(days=1))
    assert "20%" in _rule(a, since - dt.timedelta(days=1))
    page = b.get(f"/city/parameters/{PARAM}")
    assert "已生效" in page.text and "渝府办〔2026〕1号" in page.text
    # decided: cannot be decided again
    assert b.post(f"/city/changes/{change_id}/reject", {"note": "x"}).status_code == 409
    with db_engine.connect() as conn:
        actions = list(
            conn.execute(
                select(AuditEvent.action)
                .where(AuditEvent.action.like("parameter_change.%"))
                .order_by(AuditEvent.seq)
            ).scalars()
        )
    assert actions == ["parameter_change.request", "parameter_change.approve"]


def test_reject_and_withdraw(as_role):
    a = as_role("city.a", "city_admin")
    b = as_role("city.b", "city_admin")
    since = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    form = {"value": "0.3", "since": since, "reason": "理由", "reference": "依据"}
    a.post(f"/city/parameters/{PARAM}/changes", form)
    a.post(f"/city/parameters/{PARAM}/changes", form)
    text = a.get(f"/city/parameters/{PARAM}").text
    ids = sorted({int(x.split("/")[0]) for x in text.split("/city/changes/")[1:]})
    assert len(ids) == 2
    assert b.post(f"/city/changes/{ids[0]}/reject").status_code == 422  # a rejection needs a reason
    assert b.post(f"/city/changes/{ids[0]}/reject", {"note": "依据不足"}).status_code == 303
    assert b.post(f"/city/changes/{ids[1]}/withdraw").status_code == 403  # only the requester
    assert a.post(f"/city/changes/{ids[1]}/withdraw").status_code == 303
    text = a.get(f"/city/parameters/{PARAM}").text
    assert "已驳回" in text and "依据不足" in text and "已撤回" in text
    assert "30%" not in _rule(a, dt.date.today() + dt.timedelta(days=20))


def test_bad_values_and_past_dates_are_refused(as_role):
    a = as_role("city.a", "city_admin")
    past = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    future = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    r = a.post(
        f"/city/parameters/{PARAM}/changes", {"value": "0.3", "since": past, "reason": "r", "reference": "x"}
    )
    assert r.status_code == 422 and "生效日期" in r.text
    r = a.post(
        f"/city/parameters/{PARAM}/changes",
        {"value": "abc", "since": future, "reason": "r", "reference": "x"},
    )
    assert r.status_code == 422 and "新取值" in r.text
    assert a.get("/city/parameters/no.such").status_code == 404


def test_other_roles_cannot_change_or_see_the_overview(as_role):
    reviewer = as_role("rev.one", "district_reviewer", 500101)
    assert reviewer.get("/city/parameters").status_code == 200  # read-only
    assert "申请调整" not in reviewer.get(f"/city/parameters/{PARAM}").text
    since = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    form = {"value": "0.3", "since": since, "reason": "r", "reference": "x"}
    assert reviewer.post(f"/city/parameters/{PARAM}/changes", form).status_code == 403
    assert reviewer.get("/city/districts").status_code == 403
    for role in ("applicant", "sys_admin", "bank"):
        c = as_role(f"u.{role.replace('_', '')}", role)
        assert c.get("/city/parameters").status_code == 403
        assert c.post(f"/city/parameters/{PARAM}/changes", form).status_code == 403
        assert c.get("/city/districts").status_code == 403


def test_district_overview_counts_by_state(as_role, db_engine, linked):
    from xiangchuang.models import Application

    with db_engine.begin() as conn:
        for i, (st, amt) in enumerate([("submitted", None), ("approved", 500000), ("disbursed", 300000)]):
            conn.execute(
                Application.__table__.insert().values(
                    application_no=f"A{i}",
                    kind="startup_subsidy",
                    subject_table="businesses",
                    subject_key="B1",
                    period="2024",
                    district=500101,
                    state=st,
                    applicant_user="user:1",
                    created_by="user:1",
                    form={},
                    live_key=f"live{i}",
                    amount_approved_fen=amt,
                )
            )
    city = as_role("city.a", "city_admin")
    page = city.get("/city/districts")
    assert page.status_code == 200
    assert "8000.00" in page.text and "3000.00" in page.text and "已拨付" in page.text


def test_city_api_changes_parameter_history_and_districts(as_role):
    a = as_role("city.a", "city_admin")
    b = as_role("city.b", "city_admin")
    since = dt.date.today() + dt.timedelta(days=15)
    a.post(
        f"/city/parameters/{PARAM}/changes",
        {"value": "0.25", "since": since.isoformat(), "reason": "理由", "reference": "依据"},
    )
    rows = a.get(f"/api/v1/city/parameter-changes?name={PARAM}").json()
    assert [(r["state"], r["value"]) for r in rows] == [("pending", "0.25")]
    b.post(f"/city/changes/{rows[0]['id']}/approve")
    hist = b.get(f"/api/v1/city/parameters/{PARAM}").json()
    assert hist["versions"][-1]["since"] == since.isoformat() and hist["versions"][-1]["value"] == "0.25"
    assert b.get("/api/v1/city/districts").status_code == 200
    assert b.get("/api/v1/city/parameters/no.such").status_code == 404
    other = as_role("rev.one", "district_reviewer", 500101)
    for url in (
        "/api/v1/city/parameter-changes",
        f"/api/v1/city/parameters/{PARAM}",
        "/api/v1/city/districts",
    ):
        assert other.get(url).status_code == 403
