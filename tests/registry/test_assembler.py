"""The facts assembler: registry rows → the engine's input tables (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import update

from tests.registry.factories import PARTS, Registry, months
from xiangchuang.engine.dates import month_index_scalar, to_day
from xiangchuang.engine.facts import FACTS, group_mask
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import Business
from xiangchuang.registry.assembler import (
    CONTEXT,
    FIRST_BUSINESS_OVERRIDE,
    PERSON_DISTRICT,
    LoadStats,
    assemble_facts,
    schedule_warnings,
)
from xiangchuang.registry.matching import evaluate
from xiangchuang.registry.repository import RegistryDataError

ON = dt.date(2025, 3, 1)
D1, D2 = 500101, 500102


def row(table, key):
    ids = table["id"].values
    hit = np.flatnonzero(ids == key)
    assert hit.size == 1, f"{key} not in {table.name}"
    return int(hit[0])


def value(table, key, col):
    i = row(table, key)
    c = table[col]
    return c.values[i] if c.known[i] else None


def test_groups_are_the_memberships_in_force_on_the_date(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg.person(
            no="P1",
            group_rows=[
                ("veteran", None, None),
                ("college_graduate", dt.date(2019, 7, 1), ON),  # until is inclusive
                ("poverty_registered", dt.date(2018, 1, 1), ON - dt.timedelta(days=1)),  # expired
                ("dibao", ON + dt.timedelta(days=1), None),  # not yet
                ("veteran", dt.date(2010, 1, 1), None),  # the same group twice counts once
            ],
        )
        reg.person(no="P2")
        facts = assemble_facts(conn, on=ON, district=None)
    persons = facts.tables["persons"]
    assert value(persons, "P1", "groups") == group_mask(["veteran", "college_graduate"])
    assert value(persons, "P2", "groups") == 0  # no membership: a known "none"


def test_unknown_group_code_is_a_clear_chinese_error(db_engine, pii):
    with db_engine.begin() as conn:
        Registry(conn, pii).person(no="P1", groups=["veteran", "space_cadet"])
        with pytest.raises(RegistryDataError, match="space_cadet"):
            assemble_facts(conn, on=ON, district=None)


def test_first_business_and_licence_come_from_the_business_history(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        serial = reg.person(no="P1")
        once = reg.person(no="P2")
        late = reg.person(no="P3")
        reg.person(no="P4")
        reg.business(no="B1", founder=serial, registration_date=dt.date(2021, 6, 1))
        reg.business(no="B2", founder=serial, registration_date=dt.date(2023, 6, 1), district=D2)
        reg.business(no="B3", founder=once, registration_date=dt.date(2022, 1, 1))
        reg.business(no="B4", founder=late, registration_date=ON + dt.timedelta(days=5))
        facts = assemble_facts(conn, on=ON, district=None)
    p, b = facts.tables["persons"], facts.tables["businesses"]
    assert value(p, "P1", "first_business") is np.False_  # two businesses: not a first-time founder any more
    assert value(p, "P2", "first_business") is np.True_
    assert value(p, "P4", "first_business") is np.True_  # never founded
    assert value(p, "P1", "has_licence") and value(p, "P1", "licence_date") == to_day(dt.date(2021, 6, 1))
    assert not value(p, "P3", "has_licence") and value(p, "P3", "licence_date") is None  # registered after on
    assert not value(p, "P4", "has_licence")
    # Per business: the serial founder's earliest business is the first one.
    assert value(b, "B1", FIRST_BUSINESS_OVERRIDE) and not value(b, "B2", FIRST_BUSINESS_OVERRIDE)
    assert value(b, "B3", FIRST_BUSINESS_OVERRIDE)
    # ... and that is what the startup subsidy's condition reads after evaluation.
    outcomes = evaluate(facts, on=ON, params=load_parameters())
    startup = next(o for o in outcomes if o.program.id == "startup_subsidy")
    states = startup.conds["first_business"].state
    assert states[row(b, "B1")] == 2 and states[row(b, "B2")] == 0 and states[row(b, "B3")] == 2


def test_first_business_in_the_district_sees_the_history_in_other_districts(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        p = reg.person(no="P1")
        reg.business(no="B1", founder=p, registration_date=dt.date(2020, 1, 1), district=D2)
        reg.business(no="B2", founder=p, registration_date=dt.date(2022, 1, 1), district=D1)
        facts = assemble_facts(conn, on=ON, district=D1)
    b = facts.tables["businesses"]
    assert list(b["id"].values) == ["B2"]
    assert not value(b, "B2", FIRST_BUSINESS_OVERRIDE)
    assert value(facts.tables["persons"], "P1", "licence_date") == to_day(dt.date(2020, 1, 1))


def test_founder_is_the_legal_representative_in_force(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        old, new, partner = reg.person(no="P1"), reg.person(no="P2"), reg.person(no="P3")
        b = reg.business(no="B1", founder=None, registration_date=dt.date(2020, 1, 1))
        reg.founder(b, old, since=dt.date(2020, 1, 1), until=dt.date(2024, 12, 31))
        reg.founder(b, new, since=dt.date(2025, 1, 1))
        reg.founder(b, partner, role="partner", since=dt.date(2020, 1, 1))
        reg.business(no="B2", founder=None, registration_date=dt.date(2020, 1, 1))
        facts = assemble_facts(conn, on=ON, district=None)
    p, bt = facts.tables["persons"], facts.tables["businesses"]
    assert value(bt, "B1", "founder_id") == row(p, "P2")
    assert value(bt, "B2", "founder_id") is None  # nobody recorded: unknown, not "nobody"
    # Founding B1 as a partner is business history too.
    assert value(p, "P3", "first_business") is np.True_ and value(p, "P3", "has_licence")


def test_business_facts_in_force_on_the_date(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        p = reg.person(no="P1")
        b1 = reg.business(no="B1", founder=p, registration_date=dt.date(2020, 1, 1))
        b2 = reg.business(
            no="B2", founder=p, registration_date=dt.date(2020, 1, 1), founded_by_returning=None
        )
        b3 = reg.business(
            no="B3", founder=p, registration_date=dt.date(2020, 1, 1), deregistration_date=dt.date(2025, 2, 1)
        )
        reg.honour(business=b1, level="provincial", awarded_on=dt.date(2023, 1, 1))
        reg.honour(business=b2, level="district", awarded_on=dt.date(2023, 1, 1))  # below city level
        reg.honour(business=b2, level="city", awarded_on=ON + dt.timedelta(days=1))  # after the date
        reg.honour(person=p, level="national", awarded_on=dt.date(2024, 1, 1))
        reg.recommendation(b1, "credit_community", dt.date(2022, 1, 1))
        reg.recommendation(b1, "national_incubator_demo", dt.date(2024, 1, 1))  # the latest counts
        reg.recommendation(b2, "credit_community", ON + dt.timedelta(days=3))  # not yet
        reg.credit_rating(b1, dt.date(2024, 1, 1), ON)  # valid through the date
        reg.credit_rating(b2, dt.date(2023, 1, 1), ON - dt.timedelta(days=1))  # expired
        c = reg.carrier(no="C1", kind="returning_park", level="municipal", schedule="1:100/50/0")
        reg.tenancy(b1, c, dt.date(2024, 6, 1), rent_fen=123_400)
        reg.tenancy(b2, c, dt.date(2022, 1, 1), dt.date(2024, 12, 31))  # ended
        reg.tenancy(b3, c, ON + dt.timedelta(days=10))  # not yet
        facts = assemble_facts(conn, on=ON, district=None)
    b, codes = facts.tables["businesses"], FACTS["businesses"]
    assert value(b, "B1", "honour_city_level") and not value(b, "B2", "honour_city_level")
    assert value(facts.tables["persons"], "P1", "honour_city_level")
    assert value(b, "B1", "recommended_by") == codes["recommended_by"].code_of("national_incubator_demo")
    assert value(b, "B2", "recommended_by") == codes["recommended_by"].code_of("none")
    assert value(b, "B1", "credit_rated") and value(b, "B2", "credit_rated") is np.False_
    assert value(b, "B1", "carrier_id") == 0 and value(b, "B1", "tenancy_start") == to_day(
        dt.date(2024, 6, 1)
    )
    assert value(b, "B1", "rent_fen") == 123_400
    assert value(b, "B2", "carrier_id") is None and value(b, "B3", "carrier_id") is None
    assert value(b, "B2", "founded_by_returning") is None  # NULL is unknown
    assert value(b, "B1", "status") == codes["status"].code_of("normal")
    assert value(b, "B3", "status") == codes["status"].code_of("deregistered")
    assert value(b, "B1", "claim_year") is None  # not in the registry: the engine's default applies
    assert value(facts.tables["carriers"], "C1", "schedule") == "1:100/50/0"


def test_contributions_sum_the_five_employer_parts_not_the_individual_part(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        owner, worker = reg.person(no="P1"), reg.person(no="P2")
        b = reg.business(no="B1", founder=owner, registration_date=dt.date(2020, 1, 1))
        h = reg.hire(b, worker, dt.date(2024, 1, 2), no="H1")
        reg.contributions(h, months(202401, 3))
        facts = assemble_facts(conn, on=ON, district=None)
    con = facts.tables["contributions"]
    assert con.n == 3 and "contributions" in facts.supplied
    assert set(con["employer_fen"].values.tolist()) == {sum(PARTS)}
    assert sorted(con["month"].values.tolist()) == [
        month_index_scalar(dt.date(2024, m, 1)) for m in (1, 2, 3)
    ]
    assert set(con["hire_id"].values.tolist()) == {row(facts.tables["hires"], "H1")}
    hires = facts.tables["hires"]
    assert value(hires, "H1", "person_id") == row(facts.tables["persons"], "P2")
    assert value(hires, "H1", "contract")


def test_register_rows_resolve_to_their_subjects(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        owner, worker = reg.person(no="P1"), reg.person(no="P2")
        b = reg.business(no="B1", founder=owner, registration_date=dt.date(2020, 1, 1))
        reg.hire(b, worker, dt.date(2024, 1, 2))
        reg.grant("online_sales_subsidy", "B1", period="2023", amount_fen=100)
        reg.grant("job_subsidy", "B1", person_key="P2", period="2024", amount_fen=600_000)
        reg.grant("startup_subsidy", "B-gone", period="2023", amount_fen=5, slot=1)
        facts = assemble_facts(conn, on=ON, district=None)
    rec = facts.tables["received"]
    rows = dict(zip(rec["program"].values.tolist(), rec["subject_row"].values.tolist(), strict=True))
    assert rows["online_sales_subsidy"] == row(facts.tables["businesses"], "B1")
    assert rows["job_subsidy"] == row(facts.tables["persons"], "P2")
    assert rows["startup_subsidy"] == -1


def test_district_reads_only_that_districts_subjects(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        mine_p, mine_w = reg.person(no="P1"), reg.person(no="P2")
        other_p, other_w = reg.person(no="P3"), reg.person(no="P4")
        reg.person(no="P5")  # linked to nothing
        mine = reg.business(no="B1", founder=mine_p, registration_date=dt.date(2020, 1, 1), district=D1)
        other = reg.business(no="B2", founder=other_p, registration_date=dt.date(2020, 1, 1), district=D2)
        reg.year(mine, 2024, employer_si_paid_fen=1)
        reg.year(other, 2024, employer_si_paid_fen=2)
        reg.contributions(reg.hire(mine, mine_w, dt.date(2024, 1, 1), no="H1"), months(202401, 2))
        reg.contributions(reg.hire(other, other_w, dt.date(2024, 1, 1), no="H2"), months(202401, 5))
        c1 = reg.carrier(no="C1", district=D2)  # B1 is its tenant: read although in D2
        reg.carrier(no="C2", district=D1)  # the district's own carrier
        reg.carrier(no="C3", district=D2)
        reg.tenancy(mine, c1, dt.date(2023, 1, 1))
        reg.grant("online_sales_subsidy", "B1", period="2023", amount_fen=1)
        reg.grant("online_sales_subsidy", "B2", period="2023", amount_fen=2)
        reg.grant("job_subsidy", "B9", person_key="P2", period="2023", amount_fen=3, district=D2)
        district = assemble_facts(conn, on=ON, district=D1)
        city = assemble_facts(conn, on=ON, district=None)
    t = district.tables
    assert list(t["businesses"]["id"].values) == ["B1"]
    assert sorted(t["persons"]["id"].values) == ["P1", "P2"]
    assert list(t["hires"]["id"].values) == ["H1"]
    assert t["contributions"].n == 2 and t["business_years"].n == 1
    assert sorted(t["carriers"]["id"].values) == ["C1", "C2"]
    # The register rows about the district's subjects, whichever district paid them.
    assert sorted(t["received"]["amount_fen"].values.tolist()) == [1, 3]
    assert (
        city.tables["businesses"].n == 2 and city.tables["persons"].n == 5 and city.tables["carriers"].n == 3
    )


def test_district_reads_its_hired_persons_other_hires_as_context(db_engine, pii):
    """P2 works for B1 (D1) and B2 (D2): a D1 read holds H2 and B2 as context (marked, so no program
    applies to them) with H2's contributions, and nothing more of B2 — not its founder, its other
    employee, its year figures or its register rows (no condition deciding H2 reads them)."""
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        p1, p2, p3, p4 = (reg.person(no=f"P{k}") for k in range(1, 5))
        b1 = reg.business(no="B1", founder=p1, registration_date=dt.date(2020, 1, 1), district=D1)
        b2 = reg.business(
            no="B2",
            founder=p3,
            registration_date=dt.date(2020, 1, 1),
            district=D2,
            founded_by_returning=False,
        )
        reg.year(b2, 2024, employer_si_paid_fen=2)
        reg.grant("online_sales_subsidy", "B2", period="2023", amount_fen=2)
        reg.contributions(reg.hire(b1, p2, dt.date(2024, 1, 1), no="H1"), months(202401, 2))
        reg.contributions(reg.hire(b2, p2, dt.date(2023, 1, 1), no="H2"), months(202301, 3))
        reg.contributions(reg.hire(b2, p4, dt.date(2023, 1, 1), no="H3"), months(202301, 4))
        facts = assemble_facts(conn, on=ON, district=D1, stats=(stats := LoadStats()))
    t = facts.tables
    assert list(t["businesses"]["id"].values) == ["B1", "B2"]
    assert t["businesses"][CONTEXT].values.tolist() == [False, True]
    assert list(t["hires"]["id"].values) == ["H1", "H2"]
    assert t["hires"][CONTEXT].values.tolist() == [False, True]
    assert stats.context == {"businesses": 1, "hires": 1}
    assert sorted(t["persons"]["id"].values) == ["P1", "P2"]
    assert t["contributions"].n == 2 + 3 and t["business_years"].n == 0 and t["received"].n == 0
    # What H2 is decided by: its employer's district and founded_by_returning (B2's founder unknown).
    assert value(t["businesses"], "B2", "district") == D2
    assert value(t["businesses"], "B2", "founded_by_returning") in (False,)  # known, false
    assert value(t["businesses"], "B2", "founder_id") is None
    # The person is filed under the district of the read's own subjects.
    assert value(t["persons"], "P2", PERSON_DISTRICT) == D1


@pytest.mark.parametrize("district", [None, D1])
def test_both_fetch_methods_give_the_same_facts(db_engine, pii, district):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        p = reg.person(
            no="P1", groups=["veteran"], returning_entrepreneur=True, graduation_date=dt.date(2015, 7, 1)
        )
        w = reg.person(no="P2", groups=["poverty_registered"], gender="F")
        b = reg.business(no="B1", founder=p, registration_date=dt.date(2022, 3, 4), staff_count=None)
        reg.year(b, 2024, employer_si_paid_fen=10, online_orders=None)
        reg.contributions(reg.hire(b, w, dt.date(2024, 1, 1), contract=None), months(202401, 4))
        reg.carrier(no="C1", schedule=None)
        reg.grant(
            "social_insurance_subsidy",
            "B1",
            person_key=None,
            period="2024-01/2024-06",
            amount_fen=7,
            months=6,
        )
        stats_c, stats_r = LoadStats(), LoadStats()
        a = assemble_facts(conn, on=ON, district=district, method="columns", stats=stats_c)
        r = assemble_facts(conn, on=ON, district=district, method="rows", stats=stats_r)
    assert set(stats_c.methods.values()) == {"columns"} and set(stats_r.methods.values()) == {"rows"}
    assert a.tables.keys() == r.tables.keys()
    for name, table in a.tables.items():
        other = r.tables[name]
        assert table.n == other.n and table.cols.keys() == other.cols.keys(), name
        for col, c in table.cols.items():
            assert np.array_equal(c.known, other.cols[col].known), (name, col)
            assert np.array_equal(c.values, other.cols[col].values), (name, col)
            assert c.values.dtype == other.cols[col].values.dtype, (name, col)


def test_a_value_outside_the_documented_choices_is_a_clear_error(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        b = reg.business(no="B1", founder=reg.person(no="P1"), registration_date=dt.date(2020, 1, 1))
        conn.execute(update(Business).where(Business.id == b).values(kind="合作社"))
        with pytest.raises(RegistryDataError, match=r"B1.*主体类型"):
            assemble_facts(conn, on=ON, district=None)


def test_a_text_holding_the_separator_falls_back_to_rows(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        reg.carrier(no="C1", schedule="1:100/50/0\n2:50/0/0")
        stats = LoadStats()
        facts = assemble_facts(conn, on=ON, district=None, stats=stats)
    assert stats.methods["carriers"] == "rows"
    carriers = facts.tables["carriers"]
    assert carriers["schedule"].values[row(carriers, "C1")] == "1:100/50/0\n2:50/0/0"
    # (The engine's reader refuses a schedule separated by a newline: the text arrives whole, marked
    # not known, and the run names the carrier instead of failing.)
    assert value(carriers, "C1", "schedule") is None
    assert [w.split("：")[0] for w in schedule_warnings(facts.tables)] == ["载体 C1"]


def test_parallel_reading_sees_the_same_snapshot_and_facts(db_engine, pii):
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        p = reg.person(no="P1", groups=["veteran"])
        b = reg.business(no="B1", founder=p, registration_date=dt.date(2022, 3, 4))
        reg.year(b, 2024, employer_si_paid_fen=10)
        reg.contributions(reg.hire(b, reg.person(no="P2"), dt.date(2024, 1, 1)), months(202401, 4))
    with db_engine.connect() as conn:
        one, two = LoadStats(), LoadStats()
        a = assemble_facts(conn, on=ON, district=None, stats=one)
        r = assemble_facts(conn, on=ON, district=None, workers=3, stats=two)
    assert one.connections == 1 and two.connections == (3 if db_engine.dialect.name == "postgresql" else 1)
    for name, table in a.tables.items():
        for col, c in table.cols.items():
            assert np.array_equal(c.values, r.tables[name].cols[col].values), (name, col)


def test_parallel_reading_falls_back_after_this_transaction_wrote(db_engine, pii):
    with db_engine.begin() as conn:
        Registry(conn, pii).person(no="P1")
        stats = LoadStats()
        facts = assemble_facts(conn, on=ON, district=None, workers=2, stats=stats)
    assert stats.connections == 1 and facts.tables["persons"].n == 1


def test_large_tables_read_in_key_ranges_give_the_same_facts(db_engine, pii, monkeypatch):
    from xiangchuang.registry import repository

    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        for k in range(3):
            p = reg.person(no=f"P{k}", groups=["veteran"])
            b = reg.business(no=f"B{k}", founder=p, registration_date=dt.date(2021, 1, 1 + k))
            reg.contributions(reg.hire(b, reg.person(no=f"W{k}"), dt.date(2024, 1, 1)), months(202401, 5))
    with db_engine.connect() as conn:
        whole = assemble_facts(conn, on=ON, district=None)
        monkeypatch.setattr(repository, "CHUNK_KEYS", 2)
        chunked = assemble_facts(conn, on=ON, district=None)
    for name, table in whole.tables.items():
        for col, c in table.cols.items():
            assert np.array_equal(c.values, chunked.tables[name].cols[col].values), (name, col)
            assert np.array_equal(c.known, chunked.tables[name].cols[col].known), (name, col)
