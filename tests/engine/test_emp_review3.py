"""Review 3 (rev-emp): what the worked cases (policy/cases/emp_review3.yaml) cannot check — the amount
rule's text (no figure for an unknown fact, README choice 68), an on-the-job training count past the
amount bound in a batch (README choice 28: that row only, never an overflow that stops the batch,
and the batch equals the single cases), and the workshop award's district values outside the
published bounds (refused when the parameters load). Each test fails on the code before it."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import AMOUNT_PENDING, result_document
from xiangchuang.engine.parameters import load_parameters

PARAMS = load_parameters()


def _program(case: dict[str, Any], on: str, pid: str) -> dict[str, Any]:
    doc = evaluate(case, dt.date.fromisoformat(on), PARAMS)
    (row,) = [p for p in doc["programs"] if p["program"] == pid]
    return row


def _si_case(**hire: Any) -> dict[str, Any]:
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    return {
        "business": {"id": "B1", "district": 500235, "kind": "enterprise", "founded_by_returning": True},
        "hires": [
            {
                "id": "H1",
                "person": {
                    "id": "W1",
                    "groups": ["poverty_registered"],
                    "birth_date": "1990-01-01",
                    "gender": "M",
                },
                "contract": True,
                "contributions": [{"month": m, "employer_fen": 72000} for m in months],
                **hire,
            }
        ],
        "received": [],
    }


def test_si_rule_without_the_hire_date_quotes_no_figure() -> None:
    """The hire date unknown: no 「计¥0.00（0个月）」, the rule names the hire date (README choice 68)."""
    row = _program(_si_case(), "2024-01-20", "social_insurance_subsidy")
    assert row["status"] == "undetermined"
    assert "¥0.00" not in row["amount_rule"] and "0个月" not in row["amount_rule"], row["amount_rule"]
    assert row["amount_rule"] == AMOUNT_PENDING.format(missing="招用日期")
    # Known: the figures as before.
    row = _program(_si_case(hire_date="2023-01-01"), "2024-01-20", "social_insurance_subsidy")
    assert row["status"] == "eligible" and "¥4,320.00（6个月）" in row["amount_rule"], row["amount_rule"]


def test_syb_rule_with_an_unknown_amount_received_quotes_no_figure() -> None:
    case = {
        "person": {
            "id": "P1",
            "returning_entrepreneur": True,
            "startup_intention": True,
            "has_licence": True,
            "licence_date": "2024-03-01",
        },
        "trainings": [
            {"id": "T1", "kind": "syb", "start_date": "2024-01-06", "completion_date": "2024-01-17"}
        ],
        "received": [{"program": "training_syb", "period": "2024-01"}],
    }
    row = _program(case, "2024-06-01", "training_syb")
    assert row["status"] == "undetermined"
    assert "已享受¥" not in row["amount_rule"], row["amount_rule"]
    assert "已享受金额未知" in row["amount_rule"], row["amount_rule"]
    (cond,) = [c for c in row["conditions"] if c["id"] == "amount_facts_known"]
    assert "所需信息" not in cond["message"] and "已享受的SYB培训补贴金额" in cond["message"], cond["message"]
    # With the amount: 「已享受¥500.00，本次补足差额」.
    case["received"][0]["amount_fen"] = 50000
    row = _program(case, "2024-06-01", "training_syb")
    assert row["status"] == "eligible" and "已享受¥500.00，本次补足差额" in row["amount_rule"]


def _onjob(trainees: int, level: str = "senior", oid: str = "O1") -> dict[str, Any]:
    return {
        "onjob_trainings": [
            {
                "id": oid,
                "provider_kind": "business",
                "founded_by_returning": True,
                "district": 500101,
                "course_level": level,
                "trainees": trainees,
                "skilled_post": True,
                "completion_date": "2024-01-10",
            }
        ],
        "received": [],
    }


def test_onjob_count_past_the_amount_bound_fails_its_row_only_in_a_batch() -> None:
    """A schema-valid count whose amount would pass 10^15 fen: that row fails (data error, named),
    the batch runs and its other rows are what they are alone (README choice 28; batch = single)."""
    on = dt.date(2024, 3, 15)
    cases = [_onjob(30), _onjob(999_999_999_999_999), _onjob(10**12), _onjob(1, "junior")]
    singles = [
        [
            p
            for p in evaluate(copy.deepcopy(c), on, PARAMS)["programs"]
            if p["program"] == "onjob_training_subsidy"
        ]
        for c in cases
    ]
    assert [s[0]["status"] for s in singles] == ["eligible", "ineligible", "ineligible", "eligible"]
    assert singles[0][0]["amount_fen"] > 0 and singles[3][0]["amount_fen"] > 0
    for s in singles[1:3]:
        (cond,) = [c for c in s[0]["conditions"] if c["id"] == "amount_in_range"]
        assert cond["status"] == "fail" and "数据有误" in cond["message"], cond
    renamed = []
    for k, c in enumerate(cases):
        c = copy.deepcopy(c)
        c["onjob_trainings"][0]["id"] = f"O{k}"
        renamed.append(c)
    outs = run(combine([case_to_tables(c) for c in renamed]), on, PARAMS)
    batch = [
        p for p in result_document(outs, PARAMS, on)["programs"] if p["program"] == "onjob_training_subsidy"
    ]
    assert len(batch) == len(cases)
    for alone, together in zip(singles, batch, strict=True):
        together = dict(together, subject=alone[0]["subject"])
        assert together == alone[0]


def _workshop(employed: int, new: bool = False, cost: int | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {
        "id": "B1",
        "district": 500238,
        "registration_date": "2019-05-01",
        "workshop_recognised": True,
        "workshop_employed": employed,
        "workshop_new_build": new,
        "claim_year": 2023,
    }
    if cost is not None:
        b["workshop_build_cost_fen"] = cost
    return {"business": b, "received": []}


def _overlay(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "overlay.yaml"
    path.write_text(text, encoding="utf-8")
    return load_parameters(str(path))


@pytest.mark.parametrize("award", [10000, 150000])
def test_workshop_tier_award_outside_the_published_range_is_refused(tmp_path: Path, award: int) -> None:
    """A district tier award outside 20,000–100,000 yuan (渝人社发〔2022〕21号, the dated parameters
    workshop_award.award_min/award_max) is a parameter error naming the table, the district and the
    range — never paid (before: ¥10,000.00 and ¥150,000.00 were paid). It is raised when the overlay
    is read, not in the middle of an evaluation (README choice 81: that was a traceback in ``check``
    and ``match`` and an HTTP 500 in the public check-up)."""
    from xiangchuang.engine.parameters import ParameterError

    with pytest.raises(
        ParameterError, match=r"workshop_award\.tiers（区县 500238.*公布范围¥20,000\.00至¥100,000\.00"
    ):
        _overlay(
            tmp_path,
            "workshop_award.tiers:\n  districts:\n    500238:\n      - since: 2020-08-05\n"
            "        paid_by: 区县财政\n        status: assumed\n        value:\n"
            f"          - {{min_employed: 10, award: 20000}}\n          - {{min_employed: 60, award: {award}}}\n",
        )


def test_workshop_build_cap_above_the_published_maximum_is_not_applied(tmp_path: Path) -> None:
    """A district construction cap above the published 500,000 yuan (notice_maximum, README choice 54):
    the city's 500,000 applies (before: ¥800,000.00 was paid)."""
    params = _overlay(
        tmp_path,
        "workshop_award.build_cap:\n  districts:\n    500238:\n"
        "      - {since: 2020-08-05, value: 800000, paid_by: 区县财政, status: assumed}\n",
    )
    (row,) = [
        p
        for p in evaluate(_workshop(10, True, 200_000_000), dt.date(2024, 3, 1), params)["programs"]
        if p["program"] == "workshop_award"
    ]
    assert row["status"] == "eligible"
    assert row["amount_info"]["build_fen"] == 50_000_000, row["amount_info"]
