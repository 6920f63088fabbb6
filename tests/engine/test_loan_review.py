"""Loan programs, second review: district values that would make a loan rule stricter yield to the
city's (README choice 48), and the borrower's founder facts for a small/micro-firm loan."""

import datetime as dt

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import load_parameters

_STRICTER = """
loan_small_micro.large_staff_threshold:
  districts:
    "500103":
      - {since: 2020-08-05, value: 200, paid_by: 区县财政, status: assumed, reference: 测试（不如全市优惠）}
    "500104":
      - {since: 2020-08-05, value: 50, paid_by: 区县财政, status: assumed, reference: 测试（比全市优惠）}
loan.rate_cap_over_lpr_bp:
  districts:
    "500103":
      - {since: 2020-04-01, value: 100, paid_by: 区县财政, status: assumed, reference: 测试（不如全市优惠）}
loan_interest_subsidy.day_count:
  districts:
    "500103":
      - {since: 2021-01-01, value: 400, paid_by: 区县财政, status: assumed, reference: 测试（不如全市优惠）}
"""


@pytest.fixture
def stricter(tmp_path):
    path = tmp_path / "stricter.yaml"
    path.write_text(_STRICTER, encoding="utf-8")
    return load_parameters(str(path))


@pytest.mark.parametrize(
    ("name", "district", "value"),
    [
        ("loan_small_micro.large_staff_threshold", 500103, 100),  # stricter: the city's
        ("loan_small_micro.large_staff_threshold", 500104, 50),  # more generous: the district's
        ("loan.rate_cap_over_lpr_bp", 500103, 150),
        ("loan_interest_subsidy.day_count", 500103, 360),
    ],
)
def test_a_stricter_district_loan_value_yields_to_the_citys(stricter, name, district, value):
    assert stricter[name].value_at(dt.date(2024, 6, 1), district) == value


def _small_micro(district: int, staff: int, hires: int) -> dict:
    return {
        "person": {"id": "P1", "groups": ["returning_migrant_worker"], "other_loans": []},
        "business": {
            "id": "B1",
            "district": district,
            "kind": "enterprise",
            "size_class": "small_micro",
            "staff_count": staff,
            "new_eligible_hires": hires,
            "founder_id": "P1",
        },
        "loan": {
            "kind": "small_micro",
            "contract_date": "2024-06-01",
            "amount_fen": 100000000,
            "term_months": 24,
        },
    }


def _row(doc: dict, program: str) -> dict:
    (row,) = [r for r in doc["programs"] if r["program"] == program]
    return row


def test_a_district_cannot_keep_15_percent_for_firms_over_100_staff(stricter):
    """150 staff, 12 new hires (8%): the city's rule (8% above 100 staff) holds in 渝中区 although
    its overlay raised the threshold to 200 (stricter: ignored)."""
    doc = evaluate(_small_micro(500103, 150, 12), dt.date(2024, 7, 1), stricter)
    assert _row(doc, "loan_small_micro")["status"] == "eligible"


def test_a_district_may_lower_the_staff_threshold(stricter):
    """60 staff, 5 new hires (8.3%): eligible in 500104, whose threshold of 50 is more generous."""
    assert (
        _row(evaluate(_small_micro(500104, 60, 5), dt.date(2024, 7, 1), stricter), "loan_small_micro")[
            "status"
        ]
        == "eligible"
    )
    assert (
        _row(evaluate(_small_micro(500105, 60, 5), dt.date(2024, 7, 1), stricter), "loan_small_micro")[
            "status"
        ]
        == "ineligible"
    )
