"""Review of the carrier programs (1.1, 3.8) and the mentor service subsidy (2.6): defects found by
probes, each test failing on the code before its fix."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.parameters import load_parameters

DEFAULT = "carrier_rent_reduction.default_schedule"


def _tenant(on_carrier: dict[str, Any] | None = None, **business: Any) -> dict[str, Any]:
    carrier = {
        "id": "C1",
        "kind": "incubator",
        "level": "municipal",
        "district": 500101,
        **(on_carrier or {}),
    }
    b = {
        "id": "B1",
        "district": 500101,
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2023-03-01",
        "status": "normal",
        "founded_by_returning": True,
        "tenancy_start": "2023-04-01",
        "rent_fen": 300000,
        "property_fee_fen": 12345,
        "utilities_fen": 50000,
        **business,
    }
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "carrier": carrier,
        "business": b,
    }


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    rows = [p for p in doc["programs"] if p["program"] == program]
    assert len(rows) == 1, rows
    return rows[0]


def _cond(result: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in result["conditions"] if c["id"] == cid)


# ---- defect 1: a default schedule the row did not use is neither cited nor pending ----


def test_own_schedule_does_not_cite_the_default_schedule():
    doc = evaluate(_tenant({"schedule": "1:100/100/100;2:50/50/50"}), dt.date(2024, 3, 31))
    r = _program(doc, "carrier_rent_reduction")
    assert r["status"] == "eligible"
    assert r["amount_fen"] == 362345
    assert DEFAULT not in r["pending_parameters"]
    assert DEFAULT not in [p["name"] for p in r["parameters"]]
    within = _cond(r, "within_schedule")
    assert within["parameters"] == []
    assert "载体自定方案" in within["message"]


def test_default_schedule_is_cited_and_pending_when_it_is_used():
    doc = evaluate(_tenant(), dt.date(2024, 3, 31))
    r = _program(doc, "carrier_rent_reduction")
    assert r["amount_fen"] == 306173
    assert DEFAULT in r["pending_parameters"]
    within = _cond(r, "within_schedule")
    assert [p["name"] for p in within["parameters"]] == [DEFAULT]
    assert "默认方案" in within["message"]


def test_batch_rows_cite_the_default_schedule_only_where_it_is_used():
    """Tenants of two carriers in one batch: only the one without its own schedule cites the default,
    and every row explains as the same case alone does."""
    on = dt.date(2024, 3, 31)
    params = load_parameters()
    cases = [_tenant(), _tenant({"schedule": "1:80/0/0"}), _tenant(tenancy_start="2024-04-10")]
    singles = [_program(evaluate(c, on, params), "carrier_rent_reduction") for c in cases]
    outcomes = run(combine([case_to_tables(c) for c in cases]), on, params)
    o = next(o for o in outcomes if o.program.id == "carrier_rent_reduction")
    ex = Explainer(params)
    batch = [ex.program(o, i) for i in range(3)]
    assert [b["amount_fen"] for b in batch] == [306173, 240000, 0]
    assert [DEFAULT in b["pending_parameters"] for b in batch] == [True, False, True]
    for b, single in zip(batch, singles, strict=True):
        assert b == single


def test_own_schedule_row_is_not_failed_for_a_default_that_is_not_in_force(tmp_path: Path):
    """A default schedule with no value in force does not fail a tenant whose carrier has its own."""
    overlay = tmp_path / "later-default.yaml"
    overlay.write_text(
        "carrier_rent_reduction.carrier_kinds:\n"
        "  districts:\n"
        "    500101:\n"
        "      - {since: 2019-01-01, value: [incubator, returning_park], paid_by: 区县财政, status: assumed,"
        " reference: 测试}\n",
        encoding="utf-8",
    )
    params = load_parameters(str(overlay))
    own = evaluate(
        _tenant({"schedule": "1:100/0/0"}, tenancy_start="2019-06-01"), dt.date(2020, 3, 1), params
    )
    r = _program(own, "carrier_rent_reduction")
    assert r["status"] == "eligible", r["conditions"]
    assert r["amount_fen"] == 300000
    default = evaluate(_tenant(tenancy_start="2019-06-01"), dt.date(2020, 3, 1), params)
    d = _program(default, "carrier_rent_reduction")
    assert d["status"] == "ineligible"
    assert _cond(d, "parameters_in_force")["status"] == "fail"


# ---- defect 2: before the tenancy starts there is no 「入驻第0年」 ----


def test_tenancy_not_started_yet_says_so_and_never_year_zero():
    doc = evaluate(_tenant(tenancy_start="2024-04-10"), dt.date(2024, 3, 31))
    r = _program(doc, "carrier_rent_reduction")
    assert r["status"] == "ineligible"
    text = " ".join(c["message"] + c.get("distance", "") for c in r["conditions"])
    assert "第0年" not in text
    assert _cond(r, "in_carrier")["status"] == "pass"
    started = _cond(r, "tenancy_started")
    assert started["status"] == "fail"
    assert "2024-04-10" in started["message"]
    assert "还差10天" in started["distance"]
    assert started["passes_on"] == "2024-04-10"
    # everything else holds: it will qualify by itself on the first day of the tenancy
    assert r.get("soon") is True and r["eligible_from"] == "2024-04-10"
    assert r["projected_amount_fen"] == 306173
    within = _cond(r, "within_schedule")
    assert within["status"] == "pass"
    assert "入驻第1年" in within["message"]


def test_tenancy_starting_on_the_evaluation_date_is_the_first_year():
    doc = evaluate(_tenant(tenancy_start="2024-03-31"), dt.date(2024, 3, 31))
    r = _program(doc, "carrier_rent_reduction")
    assert r["status"] == "eligible"
    assert r["amount_fen"] == 306173
    assert "入驻第1年" in _cond(r, "within_schedule")["message"]


# ---- the default schedule is the carrier's district's (README 27) ----

_OVERLAY_500102 = (
    "carrier_rent_reduction.default_schedule:\n"
    "  districts:\n"
    "    500102:\n"
    "      - since: 2021-01-01\n"
    "        paid_by: 区县财政\n"
    "        status: assumed\n"
    "        reference: 测试\n"
    "        value:\n"
    "          - {year: 1, rent: 10000, property: 10000, utilities: 10000}\n"
    "          - {year: 2, rent: 5000, property: 0, utilities: 0}\n"  # (no year below the city's)
    "          - {year: 3, rent: 3000, property: 0, utilities: 0}\n"
)


@pytest.mark.parametrize(
    ("carrier_district", "business_district", "amount", "district_part"),
    [
        (500102, 500101, 362345, 56172),  # carrier in the overriding district: its default
        (500101, 500102, 306173, 0),  # business registered there, carrier elsewhere: the city default
        (500102, 500102, 362345, 56172),
    ],
)
def test_default_schedule_is_that_of_the_carriers_district(
    tmp_path: Path, carrier_district: int, business_district: int, amount: int, district_part: int
):
    overlay = tmp_path / "o.yaml"
    overlay.write_text(_OVERLAY_500102, encoding="utf-8")
    params = load_parameters(str(overlay))
    case = _tenant({"district": carrier_district}, district=business_district)
    r = _program(evaluate(case, dt.date(2024, 3, 31), params), "carrier_rent_reduction")
    assert r["amount_fen"] == amount
    parts = {f["source"]: f["amount_fen"] for f in r["funding"]}
    assert parts.get("区县财政", 0) == district_part
    assert sum(parts.values()) == amount


# ---- amounts stay exact for every fee in the input range (README 28) ----


def test_largest_fee_in_range_is_reduced_exactly():
    fee = 10**15 - 1
    case = _tenant({"schedule": "1:99.99/33.35/0.01"}, rent_fen=fee, property_fee_fen=fee, utilities_fen=fee)
    r = _program(evaluate(case, dt.date(2024, 3, 31)), "carrier_rent_reduction")
    expected = sum((fee * p * 2 + 10000) // 20000 for p in (9999, 3335, 1))
    assert r["amount_fen"] == expected


# ---- carrier_award: an unknown recognition date is not quoted as 1970-01-01 ----


def test_municipal_by_level_does_not_quote_an_unknown_date():
    case = {
        "carrier": {"id": "C1", "kind": "incubator", "level": "municipal", "district": 500235},
        "received": [],
    }
    r = _program(evaluate(case, dt.date(2024, 3, 1)), "carrier_award")
    municipal = _cond(r, "municipal")
    assert municipal["status"] == "pass"
    assert "1970" not in municipal["message"]
    # the one-off award is determined; the performance award waits for its facts (README 36)
    assert r["status"] == "eligible" and r["amount_fen"] == 60000000
    assert {m["fact"] for m in r["missing"]} >= {"award_year", "rating", "municipal_date"}


# ---- mentor_service_subsidy: amounts never wrap around in int64 ----


def _mentor(units: int, **kw: Any) -> dict[str, Any]:
    service = {
        "id": "M1",
        "mentor_id": "T001",
        "district": 500101,
        "level": "city",
        "activity": "pairing",
        "units": units,
        "rating": "excellent",
        "confirmed": True,
        **kw,
    }
    return {"mentor_services": [service], "received": []}


def test_mentor_amount_is_exact_for_a_large_workload():
    """4 × 10^9 units × ¥2,000 × 1.2 = 9.6 × 10^14 fen, below the bound of amounts (README choice
    28), is exact; it used to be refused (the intermediate units × rate × 2 × 6 passed 2^61)."""
    r = _program(evaluate(_mentor(4 * 10**9), dt.date(2024, 6, 1)), "mentor_service_subsidy")
    assert r["amount_fen"] == 4 * 10**9 * 200000 * 6 // 5


@pytest.mark.parametrize("units", [3 * 10**12, 99_999_999_999_999])
def test_mentor_amount_past_the_bound_is_a_data_error_of_the_row(units: int):
    """99,999,999,999,999 units × ¥2,000 wrapped around in int64 and was reported eligible with a
    wrong amount of ¥15,532,559,262,902,483.84 (then the capitals crashed); then it raised an
    OverflowError, which stopped the whole case or batch; now the row fails amount_in_range (README
    choice 28: amounts below 10^15 fen, as the on-the-job training's), naming the workload."""
    r = _program(evaluate(_mentor(units, rating="good"), dt.date(2024, 6, 1)), "mentor_service_subsidy")
    (cond,) = [c for c in r["conditions"] if c["id"] == "amount_in_range"]
    assert r["status"] == "ineligible" and cond["status"] == "fail"
    assert f"服务工作量{units}" in cond["message"] and "超出金额上限" in cond["message"]


@pytest.mark.parametrize(("units", "rating"), [(1, "pass"), (3, "excellent"), (7, "good"), (13, "pass")])
def test_mentor_amount_half_up_after_the_factor(units: int, rating: str):
    factor = {"excellent": (6, 5), "good": (1, 1), "pass": (4, 5)}[rating]
    r = _program(
        evaluate(_mentor(units, rating=rating, activity="other", level="district"), dt.date(2024, 6, 1)),
        "mentor_service_subsidy",
    )
    num, den = factor
    assert r["amount_fen"] == (units * 20000 * num * 2 + den) // (2 * den)


def test_free_workstation_is_in_kind_and_lists_no_funding_source():
    """「实物支持，无资金」: the result used to list 「市级及以上资金 ¥0.00」 as its funding."""
    case = {
        "person": {
            "id": "P1",
            "birth_date": "1990-05-01",
            "groups": [],
            "startup_intention": True,
            "holds_free_workstation": False,
        },
        "received": [],  # (none granted: README choice 85)
    }
    r = _program(evaluate(case, dt.date(2024, 6, 1)), "free_workstation")
    assert r["status"] == "eligible"
    assert "funding" not in r
