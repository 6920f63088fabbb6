"""workshop_award tiers configured per district (PROVISIONS §1 workshop_award: tiers are not published,
districts configure them): an award in yuan with jiao/fen is taken exactly, never truncated; a head
count that is not a whole number is refused, naming the parameter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.parameters import ParameterError, load_parameters

ON = dt.date(2024, 3, 20)
CASE = {
    "business": {
        "id": "B1",
        "district": 500101,
        "founded_by_returning": True,
        "registration_date": "2021-03-10",
        "workshop_recognised": True,
        "workshop_employed": 6,
        "workshop_new_build": True,
        "workshop_build_cost_fen": 12345,
    },
    "received": [],
}


def _overlay(tmp_path: Path, min_employed: str, award: str) -> str:
    path = tmp_path / "tiers.yaml"
    path.write_text(
        "workshop_award.tiers:\n"
        "  districts:\n"
        "    500101:\n"
        "      - since: 2021-01-01\n"
        "        paid_by: 区县财政\n"
        "        status: assumed\n"
        "        reference: 测试\n"
        "        value:\n"
        f"          - {{min_employed: {min_employed}, award: {award}}}\n"
        "          - {min_employed: 15, award: 50000}\n",
        encoding="utf-8",
    )
    return str(path)


def _row(params: object) -> dict:
    doc = evaluate(CASE, ON, params)  # type: ignore[arg-type]
    return next(r for r in doc["programs"] if r["program"] == "workshop_award")


def test_a_district_award_with_fen_is_exact(tmp_path: Path) -> None:
    row = _row(load_parameters(_overlay(tmp_path, "5", "25000.50")))
    assert row["status"] == "eligible"
    # 25,000.50 yuan + half of 123.45 yuan = 61.725 → 61.73 (half-up to the fen)
    assert row["amount_fen"] == 2_500_050 + 6_173


def test_a_head_count_that_is_not_whole_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"workshop_award\.tiers"):
        _row(load_parameters(_overlay(tmp_path, "5.5", "25000")))
