"""Messages review 3: a list of kinds (business, carrier, other-loan, training-provider kinds) is named
in a condition's message from the list in force for the row — a district's extension included — and
every parameter's value shows Chinese labels, never codes (README choice 75). The city's lists are
worked cases (policy/cases/msg_review3.yaml); a district's list needs an overlay, here."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.explain import format_param
from xiangchuang.engine.facts import FACTS, LIST_CHOICES
from xiangchuang.engine.parameters import load_parameters

_OVERLAY = """\
startup_subsidy.business_kinds:
  districts:
    500101:
      - {since: 2021-01-01, value: [enterprise, individual_business, farmer_cooperative], paid_by: 区县财政, status: assumed, reference: 测试}
loan.exempt_loan_kinds:
  districts:
    500101:
      - {since: 2021-01-01, value: [student, housing, car, business], paid_by: 区县财政, status: assumed, reference: 测试}
carrier_rent_reduction.carrier_kinds:
  districts:
    500101:
      - {since: 2021-01-01, value: [incubator, returning_park, station], paid_by: 区县财政, status: assumed, reference: 测试}
"""

ON = dt.date(2024, 3, 20)


@pytest.fixture(scope="module")
def params(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("kinds") / "kinds.yaml"
    path.write_text(_OVERLAY, encoding="utf-8")
    return load_parameters(str(path))


def _case(district: int) -> dict[str, Any]:
    return {
        "person": {
            "id": "P1",
            "groups": ["returning_migrant_worker"],
            "first_business": True,
            "returning_entrepreneur": True,
            "other_loans": [{"kind": "business", "amount_fen": 100000}],
        },
        "business": {
            "id": "B1",
            "district": district,
            "kind": "farmer_cooperative",
            "size_class": "small_micro",
            "registration_date": "2021-03-10",
            "status": "normal",
            "founded_by_returning": True,
            "years": {"2023": {"employer_si_paid_fen": 1000000}},
            "tenancy_start": "2023-04-01",
            "rent_fen": 300000,
            "property_fee_fen": 0,
            "utilities_fen": 0,
        },
        "carrier": {"id": "C1", "kind": "station", "level": "municipal", "district": district},
        "loan": {
            "kind": "individual",
            "district": district,
            "contract_date": "2024-03-01",
            "amount_fen": 10000000,
        },
        "received": [],
    }


def _cond(doc: dict[str, Any], program: str, cid: str) -> dict[str, Any]:
    row = next(p for p in doc["programs"] if p["program"] == program)
    return next(c for c in row["conditions"] if c["id"] == cid)


def test_a_districts_extended_kinds_are_named_in_the_message(params: Any) -> None:
    """Before: a farmer cooperative passed with 「主体为企业或个体工商户」, a borrower with a business
    loan with 「除助学、住房、购车及小额消费贷款外…」, and the values showed `enterprise、…`."""
    doc = evaluate(_case(500101), ON, params)
    kind = _cond(doc, "startup_subsidy", "business_kind")
    assert kind["status"] == "pass"
    assert kind["message"] == "主体类型属于企业、个体工商户、农民专业合作社（本主体为农民专业合作社）"
    assert [p["display"] for p in kind["parameters"]] == ["企业、个体工商户、农民专业合作社"]
    loans = _cond(doc, "loan_individual", "no_blocking_loans")
    assert loans["status"] == "pass"
    assert (
        loans["message"]
        == "除助学贷款、住房贷款、购车贷款、经营贷款及¥50,000.00以下消费贷款外无其他未结清贷款"
    )
    assert loans["parameters"][0]["display"] == "助学贷款、住房贷款、购车贷款、经营贷款"
    carrier = _cond(doc, "carrier_rent_reduction", "in_carrier")
    assert carrier["status"] == "pass"
    assert carrier["message"] == "入驻载体类型属于创业孵化基地、返乡创业园、创业服务站（本载体为创业服务站）"


def test_another_district_is_told_the_citys_kinds(params: Any) -> None:
    doc = evaluate(_case(500103), ON, params)
    kind = _cond(doc, "startup_subsidy", "business_kind")
    assert kind["status"] == "fail"
    assert kind["message"] == "主体类型为农民专业合作社，不属于可享受创业补助的主体类型（企业、个体工商户）"
    loans = _cond(doc, "loan_individual", "no_blocking_loans")
    assert loans["status"] == "fail"
    assert (
        loans["message"] == "有1笔其他未结清贷款（助学贷款、住房贷款、购车贷款及¥50,000.00以下消费贷款除外）"
    )
    carrier = _cond(doc, "carrier_rent_reduction", "in_carrier")
    assert (
        carrier["message"] == "入驻载体为创业服务站，不属于可享受减免的载体类型（创业孵化基地、返乡创业园）"
    )


def test_before_the_rules_a_kinds_list_is_quoted_as_without_a_value() -> None:
    """A loan contracted before the exemption list is in force: no list borrowed from a later date."""
    case = _case(500103)
    case["loan"]["contract_date"] = "2019-06-01"
    doc = evaluate(case, dt.date(2019, 6, 10))
    loans = _cond(doc, "loan_individual", "no_blocking_loans")
    # (a condition citing parameters with no value in force says so and fails: README choice 25)
    assert loans["status"] == "fail"
    assert loans["message"] == (
        "该日期尚无有效的政策参数（不影响申请的其他贷款种类、不影响申请的小额消费贷款上限（含本数：“5万元以下”）），"
        "本条件不能满足"
    )
    assert [p["display"] for p in loans["parameters"]] == ["该日期无有效参数"] * 2


def test_every_list_of_kinds_shows_chinese_labels() -> None:
    """Each list parameter of kinds: every entry of every version has a label (no code shown)."""
    p = load_parameters()
    for name, (table, field) in LIST_CHOICES.items():
        fact = FACTS[table][field]
        assert fact.labels, name
        for v in p[name].versions:
            shown = format_param(v.value, p[name].unit, name)
            for code in v.value:
                assert code in fact.choices, (name, code)
                assert code not in shown.split("、"), (name, shown)


def test_the_training_providers_kinds_are_named_from_the_list_in_force() -> None:
    """Before: 「培训主体类型符合规定」, a fixed text naming neither the list nor the provider's kind."""
    row = {
        "id": "O1",
        "provider_kind": "cooperative",
        "founded_by_returning": True,
        "district": "500101",
        "course_level": "senior",
        "trainees": 12,
        "skilled_post": True,
        "completion_date": "2024-01-10",
    }
    doc = evaluate({"onjob_trainings": [row]}, dt.date(2024, 3, 1))
    kind = _cond(doc, "onjob_training_subsidy", "provider_kind")
    assert kind["status"] == "pass"
    assert kind["message"] == (
        "培训主体类型属于企业、农民专业合作社、专业技术协会、手工艺传承人（本主体为农民专业合作社）"
    )


def test_a_missing_fact_of_another_subject_says_their_shared_words_once() -> None:
    """A loan's missing business fact was labelled 「经营主体主体类型」 (whose + the fact's label,
    both saying 主体); now 「经营主体类型」. Every prefixed label says no two-character word twice."""
    from xiangchuang.engine.explain import _PREFIX, fact_label

    case = {
        "person": {
            "id": "P1",
            "groups": ["registered_unemployed"],
            "other_loans": [],
            "second_time_founder_stable": False,
            "honour_city_level": False,
        },
        "loan": {
            "kind": "individual",
            "new_loan": True,
            "recommended_by": "none",
            "credit_rated": False,
            "contract_date": "2024-06-01",
            "amount_fen": 10000000,
        },
        "received": [],
    }
    doc = evaluate(case, dt.date(2024, 7, 1), load_parameters())
    assert "经营主体类型" in str(doc) and "经营主体主体" not in str(doc)
    for prefix, (table, who) in _PREFIX.items():
        for name in FACTS[table]:
            label = fact_label("loans", f"{prefix}__{name}")
            assert label.startswith(who)
            rest = label[len(who) :]
            assert not any(rest.startswith(who[-k:]) for k in range(2, len(who) + 1)), label
    assert fact_label("loans", "business__kind") == "经营主体类型"
