"""「即将符合」 rows: listed only with their projected amount known (README choices 11, 26, 69), and
with the district's part of the projected amount (PROVISIONS §0, Districts; choice 68)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa

from xiangchuang.batchio import match_rows
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import Outcome, run
from xiangchuang.engine.parameters import ParameterSet, load_parameters

PARAMS = load_parameters()


def _program(doc: dict[str, Any], program: str) -> dict[str, Any]:
    return next(p for p in doc["programs"] if p["program"] == program)


def _rows(outcomes: list[Outcome], program: str) -> dict[str, dict[str, Any]]:
    table: pa.Table = match_rows(outcomes, include_undetermined=True)
    return {r["subject_id"]: r for r in table.to_pylist() if r["program"] == program}


def _batch(cases: list[dict[str, Any]], on: dt.date, params: ParameterSet) -> list[Outcome]:
    return run(combine([case_to_tables(c) for c in cases]), on, params)


def _online(bid: str, courier_fees_fen: int | None) -> dict[str, Any]:
    year: dict[str, Any] = {"online_revenue_fen": 60_000_000, "online_orders": 2_500}
    if courier_fees_fen is not None:
        year["courier_fees_fen"] = courier_fees_fen
    return {
        "person": {"id": f"P{bid}", "groups": ["returning_migrant_worker"], "returning_entrepreneur": True},
        "business": {
            "id": bid,
            "district": 500101,
            "kind": "enterprise",
            "registration_date": "2021-01-05",
            "status": "normal",
            "founded_by_returning": True,
            "sales_year": 2024,
            "years": {2024: year},
        },
        "received": [],
    }


def test_soon_is_not_listed_where_the_amount_rests_on_an_unknown_fact() -> None:
    """Revenue ¥600,000 pays ¥30,000, below the cap; 2,500 orders with unknown courier fees may pay
    more: on its eligible date the row is 待定, so it is not 即将符合 with ¥30,000 beforehand."""
    on = dt.date(2024, 12, 20)
    doc = _program(evaluate(_online("B1", None), on, PARAMS), "online_sales_subsidy")
    assert doc["status"] == "ineligible"
    assert "soon" not in doc and "projected_amount_fen" not in doc
    assert "尚缺当年快递费用" in doc["amount_rule"]
    # With the courier fees known (¥0.01 × 5% is less than the revenue route) it is 即将符合.
    known = _program(evaluate(_online("B1", 1), on, PARAMS), "online_sales_subsidy")
    assert known["soon"] is True and known["projected_amount_fen"] == 3_000_000
    # The batch lists the same rows.
    rows = _rows(_batch([_online("B1", None), _online("B2", 1)], on, PARAMS), "online_sales_subsidy")
    assert "B1" not in rows
    assert (rows["B2"]["status"], rows["B2"]["amount_fen"]) == ("soon", 3_000_000)


_KEY_GROUPS_OVERLAY = """\
startup_subsidy.key_groups:
  districts:
    500101:
      - {since: 2021-01-01, value: [college_graduate, veteran, returning_migrant_worker, registered_unemployed], paid_by: 区县财政, status: assumed, reference: 测试}
startup_subsidy.rate:
  districts:
    500102:
      - {since: 2021-01-01, value: "0.25", paid_by: 区县财政, status: assumed, reference: 测试}
"""


def _startup(bid: str, district: int, group: str, **business: Any) -> dict[str, Any]:
    return {
        "person": {"id": f"P{bid}", "groups": [group], "first_business": True},
        "business": {
            "id": bid,
            "district": district,
            "kind": "enterprise",
            "registration_date": "2021-03-10",
            "status": "normal",
            "years": {2021: {"employer_si_paid_fen": 1_000_003}},
            **business,
        },
        "received": [],
    }


def test_soon_rows_carry_the_district_part_of_the_projected_amount(tmp_path: Path) -> None:
    """500101 adds 登记失业人员 to the key groups: the whole projected amount will be the district's;
    500102 raises the rate to 25%: the part above the city's 20% will be."""
    overlay = tmp_path / "districts.yaml"
    overlay.write_text(_KEY_GROUPS_OVERLAY, encoding="utf-8")
    params = load_parameters(str(overlay))
    on = dt.date(2022, 2, 20)
    group = _startup("B1", 500101, "registered_unemployed")
    rate = _startup("B2", 500102, "college_graduate")
    city = _startup("B3", 500103, "college_graduate")
    want = {"B1": (200_001, 200_001), "B2": (250_001, 50_000), "B3": (200_001, 0)}
    for case in (group, rate, city):
        doc = _program(evaluate(case, on, params), "startup_subsidy")
        total, district = want[case["business"]["id"]]
        assert doc["soon"] is True and doc["projected_amount_fen"] == total
        funding = {f["source"]: f["amount_fen"] for f in doc["funding"]}
        assert funding.get("区县财政", 0) == district
        assert sum(funding.values()) == total
    # Unknown first business (operating a year already): undetermined, and no district part where
    # there is no amount.
    unknown = _startup("B4", 500101, "registered_unemployed", registration_date="2020-01-05")
    del unknown["person"]["first_business"]
    rows = _rows(_batch([group, rate, city, unknown], on, params), "startup_subsidy")
    for bid, (total, district) in want.items():
        assert (rows[bid]["status"], rows[bid]["amount_fen"], rows[bid]["district_part_fen"]) == (
            "soon",
            total,
            district,
        )
    assert rows["B4"]["status"] == "undetermined"
    assert rows["B4"]["amount_fen"] is None and rows["B4"]["district_part_fen"] is None


_CHANGE_OVERLAY = """\
startup_subsidy.rate:
  districts:
    500101:
      - {since: 2022-01-01, value: "0.25", paid_by: 区县财政, status: assumed, reference: 测试（2022-01-01起提高）}
"""


def test_a_soon_rows_projected_amount_is_at_the_values_in_force_on_its_eligible_date(tmp_path: Path) -> None:
    """README choice 11: 500101 raises the startup rate to 25% from 2022-01-01. On 2021-12-20 a claim
    for 2021 is 即将符合 from 2022-01-01 (the claim year's end): it will be paid 25%, ¥500 of it by
    the district — as it is on that day — not 20% all from the city (the values of the evaluation
    date, as before). Another district's row keeps the city's 20%; alone and in a batch alike, and
    the amount rule quotes the rate it is priced at, citing the district's version."""
    overlay = tmp_path / "districts.yaml"
    overlay.write_text(_CHANGE_OVERLAY, encoding="utf-8")
    params = load_parameters(str(overlay))
    before, on_day = dt.date(2021, 12, 20), dt.date(2022, 1, 1)
    raised = _startup("B1", 500101, "veteran", registration_date="2020-03-01", claim_year=2021)
    raised["business"]["years"] = {2021: {"employer_si_paid_fen": 1_000_000}}
    city = _startup("B2", 500102, "veteran", registration_date="2020-03-01", claim_year=2021)
    city["business"]["years"] = {2021: {"employer_si_paid_fen": 1_000_000}}
    paid = _program(evaluate(raised, on_day, params), "startup_subsidy")
    assert (paid["status"], paid["amount_fen"]) == ("eligible", 250_000)
    soon = _program(evaluate(raised, before, params), "startup_subsidy")
    assert soon["soon"] is True and soon["eligible_from"] == "2022-01-01"
    assert soon["projected_amount_fen"] == 250_000
    assert {f["source"]: f["amount_fen"] for f in soon["funding"]} == {
        "市级及以上资金": 200_000,
        "区县财政": 50_000,
    }
    assert "的25%计算" in soon["amount_rule"]
    rate = [p for p in soon["parameters"] if p["name"] == "startup_subsidy.rate"]
    assert rate and rate[0]["since"] == "2022-01-01" and rate[0]["status"] == "assumed"
    other = _program(evaluate(city, before, params), "startup_subsidy")
    assert other["projected_amount_fen"] == 200_000 and "的20%计算" in other["amount_rule"]
    rows = _rows(_batch([raised, city], before, params), "startup_subsidy")
    assert (rows["B1"]["status"], rows["B1"]["amount_fen"], rows["B1"]["district_part_fen"]) == (
        "soon",
        250_000,
        50_000,
    )
    assert (rows["B2"]["amount_fen"], rows["B2"]["district_part_fen"]) == (200_000, 0)
