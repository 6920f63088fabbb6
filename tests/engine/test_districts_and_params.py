"""Dated parameters, district overrides and who pays the difference (1.2)."""

import datetime as dt
from fractions import Fraction
from importlib import resources

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import ParameterError, load_parameters, parse_parameters

OVERLAY = str(resources.files("xiangchuang.policy").joinpath("overlays", "demo-districts.yaml"))


@pytest.mark.parametrize(
    ("contract", "ceiling_yuan"),
    [
        ("2023-01-01", 200_000),
        ("2024-06-01", 300_000),
        ("2025-07-01", 500_000),
        ("2024-04-30", 200_000),
    ],
)
def test_individual_loan_ceiling_follows_the_contract_date(contract, ceiling_yuan):
    p = load_parameters()["loan_individual.ceiling"]
    assert p.value_at(dt.date.fromisoformat(contract)) == ceiling_yuan * 100


def _loan_case(district: str, contract: str, **loan):
    return {
        "person": {"id": "P1", "groups": ["registered_unemployed"], "other_loans": []},
        "business": {"id": "B1", "district": district},
        "loan": {"kind": "individual", "contract_date": contract, **loan},
        "received": [],
    }


def test_district_raised_ceiling_raises_the_loan_which_is_not_a_payment():
    """A district's higher ceiling raises the loan; a loan is credit from the bank, not public money,
    so it has no funding split (the district pays only the extra interest subsidy, 1.2)."""
    params = load_parameters(OVERLAY)
    doc = evaluate(_loan_case("500154", "2024-07-01", amount_fen=40_000_000), dt.date(2024, 7, 1), params)
    loan = next(p for p in doc["programs"] if p["program"] == "loan_individual")
    assert loan["amount_fen"] == 40_000_000
    assert "funding" not in loan
    # Another district gets the city ceiling only.
    other = evaluate(_loan_case("500101", "2024-07-01", amount_fen=40_000_000), dt.date(2024, 7, 1), params)
    loan = next(p for p in other["programs"] if p["program"] == "loan_individual")
    assert loan["amount_fen"] == 30_000_000


def test_district_raised_interest_share_is_split():
    params = load_parameters(OVERLAY)
    case = _loan_case(
        "500154",
        "2024-07-01",
        rate_bp=395,
        lpr_bp=345,
        settle_start="2024-07-01",
        settle_end="2024-09-30",
        principal_fen=20_000_000,
        excluded_days=0,
    )
    doc = evaluate(case, dt.date(2024, 10, 10), params)
    sub = next(p for p in doc["programs"] if p["program"] == "loan_interest_subsidy")
    # City: borrower pays ≤ LPR-150 = 195 bp → 200 bp subsidised; district: ≤ LPR-200 = 145 → 250 bp.
    days = 92
    city = (20_000_000 * 200 * days * 2 + 10000 * 360) // (2 * 10000 * 360)
    total = (20_000_000 * 250 * days * 2 + 10000 * 360) // (2 * 10000 * 360)
    assert sub["amount_fen"] == total
    assert sub["funding"][1]["amount_fen"] == total - city


def test_district_extended_key_groups_make_the_whole_subsidy_the_districts():
    params = load_parameters(OVERLAY)
    case = {
        "person": {"id": "P1", "groups": ["registered_unemployed"], "first_business": True},
        "business": {
            "id": "B1",
            "district": "500101",
            "kind": "enterprise",
            "registration_date": "2021-05-01",
            "status": "normal",
            "years": {"2023": {"employer_si_paid_fen": 1_000_000}},
        },
        "received": [],
    }
    doc = evaluate(case, dt.date(2024, 3, 1), params)
    s = next(p for p in doc["programs"] if p["program"] == "startup_subsidy")
    assert s["status"] == "eligible" and s["amount_fen"] == 200_000
    assert s["funding"][0]["amount_fen"] == 0 and s["funding"][1]["amount_fen"] == 200_000
    city = evaluate(case, dt.date(2024, 3, 1), load_parameters())
    assert next(p for p in city["programs"] if p["program"] == "startup_subsidy")["status"] == "ineligible"


def test_unconfirmed_parameters_are_flagged_pending():
    doc = evaluate(_loan_case("500101", "2025-07-01"), dt.date(2025, 7, 1))
    loan = next(p for p in doc["programs"] if p["program"] == "loan_individual")
    assert "loan_individual.ceiling" in loan["pending_parameters"]


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        (
            {
                "x.y": {
                    "unit": "ratio",
                    "status": "confirmed",
                    "reference": "r",
                    "values": [{"since": "2020-01-01", "value": 0.05}],
                }
            },
            "带引号的小数",
        ),
        (
            {
                "x.y": {
                    "unit": "yuan",
                    "status": "maybe",
                    "reference": "r",
                    "values": [{"since": "2020-01-01", "value": 1}],
                }
            },
            "status",
        ),
        (
            {"x.y": {"unit": "yuan", "status": "confirmed", "values": [{"since": "2020-01-01", "value": 1}]}},
            "reference",
        ),
        (
            {
                "x.y": {
                    "unit": "yuan",
                    "status": "confirmed",
                    "reference": "r",
                    "values": [{"since": "2020-01-01", "value": 1}],
                    "districts": {500101: [{"since": "2021-01-01", "value": 2}]},
                }
            },
            "paid_by",
        ),
        (
            {
                "x.y": {
                    "unit": "yuan",
                    "status": "confirmed",
                    "reference": "r",
                    "values": [{"since": "2020-01-01", "value": "0.001"}],
                }
            },
            "精确到分",
        ),
    ],
)
def test_malformed_parameters_are_rejected_in_chinese(doc, fragment):
    with pytest.raises(ParameterError, match=fragment):
        parse_parameters([("t.yaml", doc)])


def test_every_parameter_has_reference_and_status():
    for p in load_parameters().values():
        for v in p.versions:
            assert v.reference and v.status in ("confirmed", "secondary", "assumed"), p.name


_TRAINING_OVERLAY = """
training_online.amount:
  districts:
    500236:   # 奉节县（测试）：网络创业培训补贴提高到每人1,500元
      - {since: 2022-01-01, value: 1500, paid_by: 区县财政, status: assumed, reference: 测试数据}
"""


def _online_training(district: str | None) -> dict:
    training = {"id": "T1", "person_id": "P1", "kind": "online", "start_date": "2023-03-01"}
    training["completion_date"] = "2023-03-20"
    if district is not None:
        training["district"] = district
    return {
        "person": {
            "id": "P1",
            "returning_entrepreneur": True,
            "startup_intention": True,
            "has_licence": False,
        },
        "trainings": [training],
        "received": [],
    }


@pytest.mark.parametrize(
    ("district", "amount", "district_part"),
    [("500236", 150_000, 20_000), ("500101", 130_000, 0), (None, 130_000, 0)],
)
def test_district_raised_training_subsidy_applies_where_the_training_is_held(
    tmp_path, district, amount, district_part
):
    """Trainings carry the district where they are held: that district's raised amount applies to
    them and the raised part is the district's to pay; elsewhere, or where not known, the city's."""
    overlay = tmp_path / "training.yaml"
    overlay.write_text(_TRAINING_OVERLAY, encoding="utf-8")
    params = load_parameters(str(overlay))
    doc = evaluate(_online_training(district), dt.date(2023, 4, 1), params)
    prog = next(p for p in doc["programs"] if p["program"] == "training_online")
    assert prog["status"] == "eligible"
    assert prog["amount_fen"] == amount
    parts = {f["source"]: f["amount_fen"] for f in prog["funding"]}
    assert parts.get("区县财政", 0) == district_part
    assert sum(parts.values()) == amount


def test_a_district_value_less_generous_than_a_later_city_value_yields_to_it():
    """开州's own ceiling (400,000 from 2024-06-01, demo overlay) raises the city's 300,000; once the
    city's ceiling rises to 500,000 (2025-06-01) the district's older value would lower it: the
    notice lets districts only be more generous (1.2), so the city's value applies there."""
    p = load_parameters(OVERLAY)["loan_individual.ceiling"]
    assert p.generous == "higher"
    assert p.value_at(dt.date(2024, 7, 1), 500154) == 400_000 * 100
    assert p.value_at(dt.date(2025, 7, 1), 500154) == 500_000 * 100
    assert p.value_at(dt.date(2025, 7, 1)) == 500_000 * 100


def test_generous_direction_is_checked_and_lower_keeps_the_lower_threshold(tmp_path):
    base = {
        "x.threshold": {
            "label": "门槛",
            "unit": "count",
            "clause": "1.1",
            "generous": "lower",
            "values": [{"since": "2021-01-01", "value": 10, "reference": "测试", "status": "assumed"}],
            "districts": {
                "500101": [
                    {
                        "since": "2021-01-01",
                        "value": 8,
                        "reference": "测试",
                        "status": "assumed",
                        "paid_by": "区县财政",
                    }
                ],
                "500102": [
                    {
                        "since": "2021-01-01",
                        "value": 12,
                        "reference": "测试",
                        "status": "assumed",
                        "paid_by": "区县财政",
                    }
                ],
            },
        }
    }
    p = parse_parameters([("t", base)])["x.threshold"]
    assert p.value_at(dt.date(2022, 1, 1), 500101) == 8  # more generous: the district's
    assert p.value_at(dt.date(2022, 1, 1), 500102) == 10  # stricter: the city's
    bad = {"x.threshold": {**base["x.threshold"], "generous": "more"}}
    with pytest.raises(ParameterError, match="generous"):
        parse_parameters([("t", bad)])


_ABOVE_NOTICE_MAXIMUM = """
online_sales_subsidy.cap:
  districts:
    "500102":
      - {since: 2021-01-01, value: 300000, paid_by: 区县财政, reference: 测试, status: assumed}
"""


@pytest.mark.parametrize(
    ("name", "value", "city"),
    [
        ("online_sales_subsidy.cap", "300000", 200_000 * 100),
        ("online_sales_subsidy.revenue_rate", '"0.06"', Fraction(5, 100)),
        ("online_sales_subsidy.courier_rate", '"0.35"', Fraction(30, 100)),
        ("startup_subsidy.max_years", "4", 3),
    ],
)
def test_a_district_value_above_the_notices_maximum_does_not_apply(tmp_path, name, value, city):
    """最高不超过20万元、按不超过销售额的5%、不超过快递费用的30%、最长不超过3年 (1.1) are maxima the
    notice sets: a district may not raise them (1.2 lets districts raise loan ceilings and interest
    shares, not these). Where a district's value is above the city's, the city's applies there."""
    overlay = tmp_path / "above.yaml"
    overlay.write_text(
        _ABOVE_NOTICE_MAXIMUM.replace("online_sales_subsidy.cap", name).replace("300000", value),
        encoding="utf-8",
    )
    p = load_parameters(str(overlay))[name]
    assert p.notice_maximum
    assert p.value_at(dt.date(2024, 3, 1), 500102) == city


def test_a_district_cap_above_200000_yuan_is_not_paid(tmp_path):
    """Before: 500102's 300,000 cap applied, and a business with 5,000,000 yuan of online sales was
    paid 250,000 yuan (5%), 50,000 of it booked to the district."""
    overlay = tmp_path / "above.yaml"
    overlay.write_text(_ABOVE_NOTICE_MAXIMUM, encoding="utf-8")
    case = {
        "business": {
            "id": "B1",
            "district": "500102",
            "kind": "enterprise",
            "registration_date": "2021-03-10",
            "status": "normal",
            "founded_by_returning": True,
            "years": {2023: {"online_revenue_fen": 500_000_000, "online_orders": 100, "courier_fees_fen": 0}},
        },
        "received": [],
    }
    doc = evaluate(case, dt.date(2024, 3, 20), load_parameters(str(overlay)))
    prog = next(p for p in doc["programs"] if p["program"] == "online_sales_subsidy")
    assert prog["status"] == "eligible"
    assert prog["amount_fen"] == 200_000 * 100
    assert {f["source"] for f in prog["funding"]} == {"市级及以上资金"}


def test_a_district_value_at_the_notices_maximum_applies(tmp_path):
    overlay = tmp_path / "same.yaml"
    overlay.write_text(_ABOVE_NOTICE_MAXIMUM.replace("300000", "200000"), encoding="utf-8")
    p = load_parameters(str(overlay))["online_sales_subsidy.cap"]
    assert p.value_at(dt.date(2024, 3, 1), 500102) == 200_000 * 100


def test_notice_maximum_is_only_for_a_higher_is_generous_number():
    spec = {
        "label": "上限",
        "unit": "count",
        "clause": "1.1",
        "notice_maximum": True,
        "values": [{"since": "2021-01-01", "value": 3, "reference": "测试", "status": "assumed"}],
    }
    with pytest.raises(ParameterError, match="notice_maximum"):
        parse_parameters([("t", {"x.max": spec})])


def test_the_syb_iyb_licence_boundary_applies_as_a_district_sets_it(tmp_path):
    """training.licence_window_years is the boundary between SYB (licence within N years before the
    training) and IYB (licence at least N years): no direction is more generous for both, so a
    district's value applies as set, raised or lowered (a lower value used to yield to the city's)."""
    overlay = tmp_path / "boundary.yaml"
    overlay.write_text(
        """
training.licence_window_years:
  districts:
    "500102":
      - {since: 2021-01-01, value: 2, paid_by: 区县财政, reference: 测试, status: assumed}
    "500103":
      - {since: 2021-01-01, value: 0, paid_by: 区县财政, reference: 测试, status: assumed}
""",
        encoding="utf-8",
    )
    p = load_parameters(str(overlay))["training.licence_window_years"]
    assert p.generous is None
    assert p.value_at(dt.date(2024, 3, 1), 500102) == 2
    assert p.value_at(dt.date(2024, 3, 1), 500103) == 0
    assert p.value_at(dt.date(2024, 3, 1), 500101) == 1


_MENTOR_RATES_OVERLAY = """
mentor_service_subsidy.rates:
  districts:
    500101:
      - since: 2021-01-01
        value:
          lecture: {city: 100, district: 600}
          assessment: {city: 500, district: 300}
          pairing: {city: 2000, district: 1200}
          other: {city: 300, district: 200}
        paid_by: 区县财政
        status: assumed
        reference: 测试
    500102:
      - since: 2021-01-01
        value:
          lecture: {city: 1200, district: 600}
          assessment: {city: 500, district: 300}
          pairing: {city: 2000, district: 1200}
          other: {city: 300, district: 200}
        paid_by: 区县财政
        status: assumed
        reference: 测试
"""


def test_a_district_table_less_generous_in_any_entry_yields_to_the_citys(tmp_path):
    """A table of amounts (mentor rates, per-trainee rates, performance awards, rating factors) is
    more favourable only if no entry is lower than the city's (README choice 72): 500101 lowers the
    city-level lecture rate to 100 yuan, so the city's table applies there; 500102 raises it to
    1,200 yuan and the district pays the 200 yuan difference per unit."""
    city = load_parameters()["mentor_service_subsidy.rates"].value_at(dt.date(2024, 3, 1))
    overlay = tmp_path / "mentor.yaml"
    overlay.write_text(_MENTOR_RATES_OVERLAY, encoding="utf-8")
    params = load_parameters(str(overlay))
    p = params["mentor_service_subsidy.rates"]
    assert p.generous == "higher"
    assert p.value_at(dt.date(2024, 3, 1), 500101) == city  # lower in one entry: the city's table
    assert p.value_at(dt.date(2024, 3, 1), 500102) != city

    def service(district: str) -> dict:
        case = {
            "mentor_services": [
                {
                    "id": "S1",
                    "mentor_id": "M1",
                    "district": district,
                    "level": "city",
                    "activity": "lecture",
                    "units": 3,
                    "rating": "good",
                    "confirmed": True,
                }
            ],
            "received": [],
        }
        doc = evaluate(case, dt.date(2024, 3, 1), params)
        return next(x for x in doc["programs"] if x["program"] == "mentor_service_subsidy")

    low, high = service("500101"), service("500102")
    assert low["status"] == high["status"] == "eligible"
    assert low["amount_fen"] == 3 * 1000 * 100  # the city's rate, nothing for the district to pay
    assert [f["source"] for f in low["funding"]] == ["市级及以上资金"]
    assert high["amount_fen"] == 3 * 1200 * 100
    assert {f["source"]: f["amount_fen"] for f in high["funding"]} == {
        "市级及以上资金": 300000,
        "区县财政": 60000,
    }


def test_generous_is_refused_on_a_table_that_is_not_of_numbers():
    doc = {
        "x.tiers": {
            "label": "档次",
            "unit": "table",
            "clause": "1.3",
            "generous": "higher",
            "values": [
                {
                    "since": "2021-01-01",
                    "value": [{"min": 10, "award": 1}],
                    "reference": "测试",
                    "status": "assumed",
                }
            ],
        }
    }
    with pytest.raises(ParameterError, match="各项均为数值的表格参数"):
        parse_parameters([("t", doc)])
