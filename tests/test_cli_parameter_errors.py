"""A parameter error is a Chinese error of the command, never a traceback (README choice 81): a workshop tier
outside the published range is refused when the overlay is read, and any other parameter error raised while
a command runs (here a tier's head count that is not a whole number, met by the evaluation) is reported as
「错误：参数 …」 with exit code 2. Before, ``check`` and ``match`` printed a Python traceback (exit 1) and the
batch produced nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from xiangchuang.cli import app

runner = CliRunner()

CASE = """on: 2024-03-20
business: {id: B1, district: "500101", kind: enterprise, size_class: small_micro, registration_date: 2021-01-01,
  status: normal, founded_by_returning: true, workshop_recognised: true, workshop_employed: 12,
  workshop_new_build: false}
received: []
"""
BUSINESSES = (
    "id,district,kind,size_class,registration_date,status,founded_by_returning,workshop_recognised,"
    "workshop_employed,workshop_new_build\n"
    "B1,500101,enterprise,small_micro,2021-01-01,normal,true,true,12,false\n"
)
TIERS = """workshop_award.tiers:
  districts:
    "500101":
      - since: 2021-01-01
        paid_by: 区县财政
        status: assumed
        reference: 测试
        value:
          - {{min_employed: {low}, award: 30000}}
          - {{min_employed: 50, award: {high}}}
"""
OUT_OF_RANGE = TIERS.format(low=10, high=120000)
NOT_WHOLE = TIERS.format(low=5.5, high=100000)


def _files(tmp_path: Path, overlay: str) -> tuple[Path, Path, Path]:
    case = tmp_path / "case.yaml"
    case.write_text(CASE, encoding="utf-8")
    tables = tmp_path / "in"
    tables.mkdir()
    (tables / "businesses.csv").write_text(BUSINESSES, encoding="utf-8")
    path = tmp_path / "overlay.yaml"
    path.write_text(overlay, encoding="utf-8")
    return case, tables, path


@pytest.mark.parametrize(
    ("overlay", "says"),
    [
        (OUT_OF_RANGE, "奖补金额¥120,000.00超出年度带动就业奖补的公布范围¥20,000.00至¥100,000.00"),
        (NOT_WHOLE, "吸纳人数下限须为非负整数（5.5）"),
    ],
)
def test_check_and_match_report_a_parameter_error_in_chinese(tmp_path: Path, overlay: str, says: str):
    case, tables, path = _files(tmp_path, overlay)
    out = tmp_path / "out.csv"
    for args in (
        ["check", str(case)],
        ["match", str(tables), "--on", "2024-03-20", "-o", str(out)],
    ):
        res = runner.invoke(app, [*args, "--params-overlay", str(path)])
        assert res.exit_code == 2, (args, res.output, res.exception)
        assert isinstance(res.exception, SystemExit), res.exception
        flat = "".join(res.output.split())  # (Rich wraps the message to the terminal's width)
        assert "错误：参数workshop_award.tiers" in flat and says in flat
        assert "Traceback" not in res.output and not out.exists()
