"""A workshop award is registered as the year's employment award and, apart, the construction
subsidy (period ``build``), which the engine then pays only once per workshop."""

from __future__ import annotations

import datetime as dt

import pytest

from xiangchuang.applications import register
from xiangchuang.engine.assemble import WORKSHOP_BUILD_PERIOD
from xiangchuang.errors import ValidationFailed
from xiangchuang.models import Application, Grant


def _template(amount: int) -> Grant:
    return Grant(
        program="workshop_award",
        subject_kind="business",
        subject_key="B-WS",
        period="2024",
        amount_fen=amount,
        district=500101,
        source="workflow:T",
        granted_on=dt.date(2025, 3, 20),
    )


def _parts(monkeypatch: pytest.MonkeyPatch, info: dict[str, int], amount: int) -> list[tuple[str, int]]:
    monkeypatch.setattr(register, "_amount_info", lambda session, app: info)
    grants = register._workshop_award_parts(None, Application(kind="workshop_award"), _template(amount))  # type: ignore[arg-type]
    return [(g.period, g.amount_fen) for g in grants]


def test_the_construction_subsidy_is_registered_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    info = {"employment_award_fen": 2_000_000, "build_fen": 10_000_000}
    assert _parts(monkeypatch, info, 12_000_000) == [("2024", 2_000_000), (WORKSHOP_BUILD_PERIOD, 10_000_000)]


def test_without_construction_subsidy_one_row(monkeypatch: pytest.MonkeyPatch) -> None:
    info = {"employment_award_fen": 2_000_000, "build_fen": 0}
    assert _parts(monkeypatch, info, 2_000_000) == [("2024", 2_000_000)]


def test_parts_that_do_not_add_up_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationFailed, match="奖补构成"):
        _parts(monkeypatch, {"employment_award_fen": 2_000_000, "build_fen": 0}, 2_500_000)
