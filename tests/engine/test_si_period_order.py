"""A hire's social-insurance claim period given as two months (``si_period_start``,
``si_period_end``) must not end before it starts (README choice 5, 「止月不早于起月」, as a register
period's month range): the case loader and the batch reader refuse it in Chinese, naming the field
(a case's path, a file's row and column) and the rule with both months. The same month twice, or
only one of the two, is accepted."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from xiangchuang.batchio import BatchInputError, load_directory
from xiangchuang.cli import app
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError, case_to_tables
from xiangchuang.engine.dates import MONTH_ORDER_RULE
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.schema import case_schema

RULE = "社保补贴申领期止（月） 2023-09 早于社保补贴申领期起（月） 2024-01（止月不早于起月）"


def _case(*periods: dict[str, str]) -> dict[str, Any]:
    return {
        "business": {"id": "B1", "district": "500235", "founded_by_returning": True},
        "hires": [
            {"id": f"H{i + 1}", "person": {"id": f"W{i + 1}"}, "hire_date": "2023-01-01", **p}
            for i, p in enumerate(periods)
        ],
        "received": [],
    }


GOOD = {"si_period_start": "2023-09", "si_period_end": "2024-01"}
REVERSED = {"si_period_start": "2024-01", "si_period_end": "2023-09"}


def test_the_rule_is_the_register_periods_rule() -> None:
    assert MONTH_ORDER_RULE == "止月不早于起月"


def test_a_reversed_claim_period_is_refused_by_the_case_loader_naming_the_field() -> None:
    with pytest.raises(CaseError) as exc:
        case_to_tables(_case(GOOD, REVERSED))
    assert exc.value.field == "hires[1].si_period_end"
    assert exc.value.rule == RULE
    with pytest.raises(CaseError):  # (one hire: the one-row path)
        evaluate(_case(REVERSED), dt.date(2024, 3, 15), load_parameters())


@pytest.mark.parametrize(
    "period",
    [
        {"si_period_start": "2023-09", "si_period_end": "2023-09"},
        {"si_period_start": "2024-01"},
        {"si_period_end": "2023-09"},
    ],
)
def test_one_month_or_one_bound_is_accepted(period: dict[str, str]) -> None:
    case_to_tables(_case(period))
    case_to_tables(_case(GOOD, period))


def test_the_cli_check_prints_the_chinese_rule(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(_case(REVERSED), allow_unicode=True), encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(path), "--on", "2024-03-15"])
    assert res.exit_code != 0
    assert "hires[0].si_period_end" in res.output and "止月不早于起月" in res.output
    assert "Traceback" not in res.output


def _batch(tmp_path: Path, rows: list[str]) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    (d / "businesses.csv").write_text("id,district,kind\nB1,500235,enterprise\n", encoding="utf-8")
    (d / "persons.csv").write_text("id\nW1\nW2\n", encoding="utf-8")
    (d / "hires.csv").write_text(
        "id,business_id,person_id,hire_date,contract,si_period_start,si_period_end\n"
        + "\n".join(rows)
        + "\n",
        encoding="utf-8",
    )
    return d


def test_a_reversed_claim_period_is_refused_by_the_batch_reader_naming_row_and_column(tmp_path: Path) -> None:
    d = _batch(
        tmp_path, ["H1,B1,W1,2023-01-01,true,2023-09,2023-09", "H2,B1,W2,2023-01-01,true,2024-01,2023-09"]
    )
    with pytest.raises(BatchInputError) as exc:
        load_directory(d)
    assert str(exc.value) == f"hires.csv 第2行数据 列 si_period_end（社保补贴申领期止（月））：{RULE}"


def test_the_batch_reader_accepts_periods_in_order_or_with_one_bound(tmp_path: Path) -> None:
    load_directory(
        _batch(tmp_path, ["H1,B1,W1,2023-01-01,true,2023-09,2023-09", "H2,B1,W2,2023-01-01,true,,2023-09"])
    )


def test_the_case_schema_states_the_rule() -> None:
    text = str(case_schema())
    assert f"与申领期起（月）同时写明时，{MONTH_ORDER_RULE}" in text
