"""Indicators over a known world, on SQLite and PostgreSQL: the figures, the China-date quarter boundary,
an application counted once, and the reconciliation proofs (ledger to the fen; districts sum to the city)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.stats.scenario import A, B, C, build
from xiangchuang.chinatime import CHINA
from xiangchuang.errors import ValidationFailed
from xiangchuang.models import Account, DisbursementItem, JournalEntry
from xiangchuang.stats import indicators as registry
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute, drill_down

Q2, Q3, Q4 = Quarter(2026, 2), Quarter(2026, 3), Quarter(2026, 4)


@pytest.fixture
def world(db_engine, pii):
    return build(db_engine, pii)


@pytest.fixture
def figures(db_engine, world):
    with Session(db_engine) as s:
        return compute(s, window=Window.of(Q2, Q4))


def test_quarters_follow_china_dates():
    q = Quarter.parse("2026Q3")
    assert (q.start, q.end, q.zh) == (dt.date(2026, 7, 1), dt.date(2026, 10, 1), "2026年第三季度")
    assert q.start_utc == dt.datetime(2026, 6, 30, 16, 0, tzinfo=dt.UTC)
    assert Quarter.of_instant(dt.datetime(2026, 6, 30, 16, 30, tzinfo=dt.UTC)) == q
    assert Quarter.of_instant(dt.datetime(2026, 6, 30, 15, 59, tzinfo=dt.UTC)) == Quarter(2026, 2)
    assert Quarter.of_instant(dt.datetime(2026, 7, 1, 0, 30, tzinfo=CHINA)) == q
    assert Quarter.parse("2026q4").prev() == q and Quarter(2026, 4).next() == Quarter(2027, 1)


def test_a_quarter_is_one_of_the_supported_range():
    """A quarter's year had its own range (2000–2999): 2100Q1 was computed, and its last month then met
    the community's month rule. Now the years of README choice 28 (engine.dates.check_year)."""
    assert Quarter.parse("2099Q4") == Quarter(2099, 4) and Quarter.parse("1999Q1") == Quarter(1999, 1)
    for text, year in (("2100Q1", 2100), ("1899Q4", 1899), ("2999Q1", 2999)):
        with pytest.raises(ValidationFailed) as exc:
            Quarter.parse(text)
        assert str(exc.value) == f"季度 {text}：年份 {year} 超出范围，须在1900至2099之间"
    with pytest.raises(ValidationFailed, match="格式错误"):
        Quarter.parse("2026Q5")


def v(figs, q, ind, district=CITY, dim=""):
    return figs[q.label].get((ind, district, dim), 0)


def test_application_figures_per_program_and_district(figures):
    # received: first submission; app 3 was submitted 23:30 China time on 30 June → Q2.
    assert v(figures, Q3, "applications_received", A, "startup_subsidy") == 1
    assert v(figures, Q3, "applications_received", A, "job_subsidy") == 1  # 00:30 China on 1 July
    assert v(figures, Q2, "applications_received", B, "startup_subsidy") == 1
    assert v(figures, Q3, "applications_received", B, "job_subsidy") == 1  # resubmitted twice: once
    assert v(figures, Q3, "applications_received", C, "training_syb") == 1
    assert (
        sum(val for (i, d, _), val in figures["2026Q3"].items() if i == "applications_received" and d == CITY)
        == 4
    )
    assert v(figures, Q3, "applications_approved", A, "startup_subsidy") == 1
    assert v(figures, Q3, "applications_approved", B, "startup_subsidy") == 1
    assert v(figures, Q3, "applications_rejected", A, "job_subsidy") == 1
    assert v(figures, Q3, "applications_not_accepted", C, "training_syb") == 1
    assert v(figures, Q3, "applications_returned", B, "job_subsidy") == 1  # returned twice in Q3: once
    assert v(figures, Q3, "applications_returned", A, "startup_subsidy") == 1
    assert v(figures, Q3, "beneficiaries", CITY, "startup_subsidy") == 2
    assert v(figures, Q3, "amount_approved", CITY, "startup_subsidy") == 1_500_050


def test_money_paid_comes_from_the_ledger_by_quarter_and_source(figures):
    assert v(figures, Q3, "amount_paid", A, "startup_subsidy") == 1_000_000  # 23:59 China on 30 Sept
    assert v(figures, Q3, "amount_paid", B, "startup_subsidy") == 300_025
    assert v(figures, Q4, "amount_paid", B, "startup_subsidy") == 200_025  # 00:00 China on 1 Oct
    assert v(figures, Q3, "paid_by_source", CITY, "city") == 1_000_000
    assert v(figures, Q3, "paid_by_source", CITY, "district") == 300_025


def test_registry_figures(figures):
    assert v(figures, Q3, "entrepreneurs_new", A) == 1
    assert v(figures, Q2, "entrepreneurs_new", B) == 1
    assert v(figures, Q3, "entrepreneurs_total") == 3  # includes the 2019 founder in C
    assert v(figures, Q3, "entrepreneurs_total", C) == 1
    assert v(figures, Q3, "entrepreneurs_new_by_group", A, "veteran") == 1
    assert v(figures, Q3, "entrepreneurs_total_by_group", C, "farmer") == 1
    assert v(figures, Q3, "businesses_new") == 1  # the business of a non-returning founder is not counted
    assert v(figures, Q3, "businesses_total") == 3
    assert v(figures, Q2, "businesses_new_by_kind", B, "individual_business") == 1
    assert v(figures, Q3, "businesses_new_by_industry", A, "未填写") == 1
    assert v(figures, Q3, "jobs_created") == 2
    assert v(figures, Q3, "jobs_created_key_groups", A) == 1
    assert v(figures, Q3, "jobs_insured_new", A) == 1
    assert v(figures, Q2, "jobs_insured_new", B) == 1
    assert v(figures, Q3, "jobs_insured_quarter_end") == 2


def test_median_time_per_step_from_the_state_history(figures):
    day = 86_400
    assert v(figures, Q3, "step_median_days", A, "first_review") == day
    assert v(figures, Q3, "step_median_days", B, "first_review") == 3 * day
    # city: 1, 1, 2, 3 days → the median of an even count is the mean of the middle two
    assert v(figures, Q3, "step_median_days", CITY, "first_review") == (day + 2 * day) // 2
    assert v(figures, Q3, "step_median_days", A, "submitted") == day


def test_district_rows_sum_to_the_city_total(figures):
    checked = 0
    for ind in registry.all_indicators():
        if not ind.additive:
            continue
        for q, figs in figures.items():
            city = {(i, dim): val for (i, d, dim), val in figs.items() if d == CITY and i == ind.id}
            districts: dict[tuple[str, str], int] = {}
            for (i, d, dim), val in figs.items():
                if d != CITY and i == ind.id:
                    districts[(i, dim)] = districts.get((i, dim), 0) + val
            assert districts == city, (q, ind.id)
            checked += len(city)
    assert checked > 30


def test_paid_amounts_equal_the_ledger_to_the_fen(db_engine, world):
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of("2020Q1", "2027Q4"))
        ledger_disbursed = s.execute(
            select(func.sum(Account.balance_fen)).where(Account.kind == "disbursed")
        ).scalar_one()
        entries = s.execute(
            select(func.sum(JournalEntry.amount_fen)).where(JournalEntry.operation == "disburse")
        ).scalar_one()
        items = s.execute(select(func.coalesce(func.sum(DisbursementItem.amount_fen), 0))).scalar_one()
        for district in (A, B):
            per_district = s.execute(
                select(func.sum(Account.balance_fen)).where(
                    Account.kind == "disbursed", Account.district == district
                )
            ).scalar_one()
            paid = sum(
                val
                for q in figs.values()
                for (i, d, _), val in q.items()
                if i == "paid_by_source" and d == district
            )
            assert paid == per_district
    paid_by_program = sum(
        val for q in figs.values() for (i, d, _), val in q.items() if i == "amount_paid" and d == CITY
    )
    paid_by_source = sum(
        val for q in figs.values() for (i, d, _), val in q.items() if i == "paid_by_source" and d == CITY
    )
    assert paid_by_program == paid_by_source == ledger_disbursed == entries == 1_500_050
    assert items == 0  # no batch in this world: the ledger is the only record of payment


def test_an_application_is_counted_once_over_a_long_window(db_engine, world):
    with Session(db_engine) as s:
        figs = compute(s, window=Window.of("2026Q1", "2026Q4"))
    received = sum(
        val
        for q in figs.values()
        for (i, d, _), val in q.items()
        if i == "applications_received" and d == CITY
    )
    approved = sum(
        val
        for q in figs.values()
        for (i, d, _), val in q.items()
        if i == "applications_approved" and d == CITY
    )
    assert received == 5 and approved == 2


def test_drill_down_from_city_to_district_to_applications(db_engine, world):
    with Session(db_engine) as s:
        city = drill_down(s, indicator="applications_received", quarter=Q3)
        assert {r["district"]: r["value"] for r in city["districts"]} == {A: 2, B: 1, C: 1}
        assert city["districts"][0]["district_name"] == "万州区"
        district = drill_down(s, indicator="applications_received", quarter=Q3, district=A)
        assert district["application_ids"] == sorted([world["app1"], world["app2"]])
        one = drill_down(s, indicator="applications_received", quarter=Q3, district=A, dim="job_subsidy")
        assert one["application_ids"] == [world["app2"]]
        paid = drill_down(s, indicator="amount_paid", quarter=Q3, district=B)
        assert paid["application_ids"] == [world["app3"]] and [r["amount"] for r in paid["records"]] == [
            300_025
        ]


def test_json_for_the_dashboard_and_the_api(db_engine, world):
    import json

    from xiangchuang.stats.indicators import catalogue
    from xiangchuang.stats.service import quarter_report, trend

    with Session(db_engine) as s:
        series = trend(s, indicator="amount_paid", first=Q2, last=Q4)
        doc = quarter_report(s, quarter=Q3).as_json()
        one = quarter_report(s, quarter=Q3, district=B).as_json(district=B)
    assert [p["quarter"] for p in series["series"]] == ["2026Q2", "2026Q3", "2026Q4"]
    assert series["series"][1]["values"] == {"startup_subsidy": 13000.25}  # 元
    assert series["series"][2]["values"] == {"startup_subsidy": 2000.25}
    assert {p["status"] for p in series["series"]} == {"provisional"}
    json.dumps(doc, ensure_ascii=False)  # JSON-ready
    assert doc["status"] == "provisional" and doc["quarter_label"] == "2026年第三季度"
    received = next(i for i in doc["indicators"] if i["id"] == "applications_received")
    assert {(r["district_name"], r["dim"], r["value"]) for r in received["rows"]} >= {
        ("万州区", "job_subsidy", 1),
        ("全市", "job_subsidy", 2),
    }
    rows = next(i for i in one["indicators"] if i["id"] == "applications_received")["rows"]
    assert {r["district"] for r in rows} == {B, CITY}
    cat = catalogue()
    assert len(cat) == len(registry.all_indicators()) and all(c["definition"] for c in cat)


def test_a_module_adds_its_indicators_by_registering_them(db_engine, world):
    from sqlalchemy import literal
    from sqlalchemy import select as sql_select

    from xiangchuang.models import Application
    from xiangchuang.stats.indicators import Group, Indicator, register, register_group

    register_group(Group("test_module", "测试模块", 99))

    def source(_w):
        return sql_select(
            Application.id.label("entity"),
            Application.district.label("district"),
            Application.created_at.label("at"),
            literal("").label("dim"),
            literal(1).label("amount"),
            Application.id.label("application_id"),
        )

    ind = register(
        Indicator("test_applications_created", "测试：创建申请", "件", "test_module", source, "instant")
    )
    try:
        with Session(db_engine) as s:
            now_q = Quarter.of_instant(dt.datetime.now(dt.UTC))
            figs = compute(s, window=Window((now_q,)), indicators=[ind])
        assert figs[now_q.label][("test_applications_created", CITY, "")] == 5
        assert figs[now_q.label][("test_applications_created", A, "")] == 2
    finally:
        from xiangchuang.stats import indicators as mod

        mod._INDICATORS.pop("test_applications_created")
        mod._GROUPS.pop("test_module")
