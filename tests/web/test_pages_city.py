"""City parameters (four-eyes changes that reach the engine) and the district overview, both databases."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from sqlalchemy import select

from tests.engine.test_parameter_bounds import workshop_case
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


# ---- the workshop tier table within its published range (README choice 81) -------------------------------
# A change that would leave a tier of workshop_award.tiers outside workshop_award.award_min/award_max in force
# is refused when it is requested or approved, naming the parameters and the rule, and nothing is written.
# Before, the form accepted award_max 80,000 (the city's top tier is 100,000) and, once approved, every
# check-up of a workshop answered HTTP 500.

TOP_80K = "[{min_employed: 10, award: 20000}, {min_employed: 50, award: 80000}]"
TOP_100K = "[{min_employed: 10, award: 20000}, {min_employed: 50, award: 100000}]"


def _workshop_case(on: dt.date) -> dict:
    return {"on": on.isoformat(), **workshop_case()}


def _changes(client, name: str) -> list[dict]:
    return client.get(f"/api/v1/city/parameter-changes?name={name}").json()


def _request(client, name: str, value: str, since: dt.date):
    form = {
        "value": value,
        "since": since.isoformat(),
        "reason": "调整档次",
        "reference": "渝人社〔2026〕1号",
    }
    return client.post(f"/city/parameters/{name}/changes", form)


def test_a_change_leaving_a_workshop_tier_outside_the_published_range_is_refused(as_role, db_engine):
    a = as_role("city.a", "city_admin")
    b = as_role("city.b", "city_admin")
    since = dt.date.today() + dt.timedelta(days=30)
    # The range lowered below the city's table: refused on request, nothing written.
    r = _request(a, "workshop_award.award_max", "80000", since)
    assert r.status_code == 422, r.text
    assert "workshop_award.tiers" in r.text and "公布范围¥20,000.00至¥80,000.00" in r.text, r.text
    assert _changes(a, "workshop_award.award_max") == []
    # The table lowered first (approved), then the range: accepted.
    assert _request(a, "workshop_award.tiers", TOP_80K, since).status_code == 303
    (tiers,) = _changes(a, "workshop_award.tiers")
    assert b.post(f"/city/changes/{tiers['id']}/approve").status_code == 303
    assert _request(a, "workshop_award.award_max", "80000", since).status_code == 303
    (rng,) = _changes(a, "workshop_award.award_max")
    # A table raised back on the same day is valid while the range change is pending …
    assert _request(a, "workshop_award.tiers", TOP_100K, since).status_code == 303
    raised = next(c for c in _changes(a, "workshop_award.tiers") if c["state"] == "pending")
    assert b.post(f"/city/changes/{rng['id']}/approve").status_code == 303
    # … and refused on approval once the range is in force: it stays pending, nothing is recorded.
    r = b.post(f"/city/changes/{raised['id']}/approve")
    assert r.status_code == 422 and "不能批准" in r.text and "¥100,000.00" in r.text, r.text
    assert (
        next(c for c in _changes(a, "workshop_award.tiers") if c["id"] == raised["id"])["state"] == "pending"
    )
    with db_engine.connect() as conn:
        approvals = conn.execute(
            select(AuditEvent.subject).where(AuditEvent.action == "parameter_change.approve")
        ).scalars()
        assert f"parameter_changes:{raised['id']}" not in list(approvals)
    # The engine pays the table in force: 100,000 before the day, 80,000 from it.
    for day, fen in ((since - dt.timedelta(days=1), 10_000_000), (since, 8_000_000)):
        got = a.api("POST", "/api/v1/checkup", json=_workshop_case(day))
        assert got.status_code == 200, got.text
        (row,) = [p for p in got.json()["programs"] if p["program"] == "workshop_award"]
        assert row["amount_fen"] == fen, row


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("workshop_award.award_max", 80000, "公布范围¥20,000.00至¥80,000.00"),
        # (not a range error: a parameter error the evaluation meets)
        ("workshop_award.tiers", [{"min_employed": 5.5, "award": 20000}], "吸纳人数下限须为非负整数"),
    ],
)
def test_a_parameter_error_in_the_public_check_up_is_a_chinese_503_not_a_500(
    client, db_engine, name, value, says
):
    """Parameters made inconsistent before the check (a change approved by an earlier version) or a
    parameter error the evaluation meets: the check-up answers with the engine's Chinese error, naming the
    parameter (503), not 「系统内部错误」 (500)."""
    from xiangchuang.models import ParameterChange

    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    with db_engine.begin() as conn:
        conn.execute(
            ParameterChange.__table__.insert().values(
                name=name,
                value=value,
                since=dt.date(2024, 1, 1),
                reference="旧版本批准",
                reason="旧版本批准",
                state="approved",
                requested_by="user:1",
                requested_at=now,
                decided_by="user:2",
                decided_at=now,
            )
        )
    r = client.post("/api/v1/checkup", json=_workshop_case(dt.date(2024, 3, 20)))
    assert r.status_code == 503, r.text
    detail = r.json()["detail"]
    assert detail.startswith("政策参数配置有误") and "参数 workshop_award.tiers" in detail and says in detail
