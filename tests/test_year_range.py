"""Years outside the supported range (1900 … 2099, the years of README choice 28's dates): a case, a
batch file and the case schema agree on which years are given — the year facts (a claim year, a sales
year, a year of business data, a carrier's award year) and a register period written as a year — and a
case and a batch file refuse the others with the same rule (``engine.dates.check_year``), naming the
field (case) or the file, row and column (batch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.engine.dates import FIRST_DATE, LAST_DATE, OutOfRange, check_year
from xiangchuang.engine.schema import case_schema

runner = CliRunner()

ON = "2024-03-01"
# The years either side of each end of the range, one inside, and years far outside it.
YEARS = [FIRST_DATE.year - 1, FIRST_DATE.year, 2023, LAST_DATE.year, LAST_DATE.year + 1, 0, 9999]
RULE = "超出范围，须在1900至2099之间"
# field → (case path, the label the case names it by, batch file)
FIELDS = {
    "claim_year": ("business.claim_year", "创业补助申领年度", "businesses.csv"),
    "sales_year": ("business.sales_year", "线上销售年度", "businesses.csv"),
    "year": ("business.years.{year:04d}", "年度", "business_years.csv"),
    "award_year": ("carrier.award_year", "申请奖补年度", "carriers.csv"),
    "period": ("received[0].period", "年份", "received.csv"),
}


def _case(field: str, year: int) -> dict[str, Any]:
    business: dict[str, Any] = {"id": "B1", "registration_date": "2020-05-01"}
    case: dict[str, Any] = {"business": business}
    if field == "year":
        business["years"] = {f"{year:04d}": {"online_orders": 3}}
    elif field == "award_year":
        case["carrier"] = {"id": "C1", "award_year": year}
    elif field == "period":
        case["received"] = [{"program": "startup_subsidy", "subject_id": "B1", "period": f"{year:04d}"}]
    else:
        business[field] = year
    return case


def _tables(directory: Path, field: str, year: int) -> Path:
    """The same facts as ``_case`` as a directory of batch files (CSV)."""
    directory.mkdir()
    extra = ("," + field, f",{year}") if field in ("claim_year", "sales_year") else ("", "")
    (directory / "businesses.csv").write_text(
        f"id,registration_date{extra[0]}\nB1,2020-05-01{extra[1]}\n", encoding="utf-8"
    )
    if field == "year":
        (directory / "business_years.csv").write_text(
            f"business_id,year,online_orders\nB1,{year},3\n", encoding="utf-8"
        )
    if field == "award_year":
        (directory / "carriers.csv").write_text(f"id,award_year\nC1,{year}\n", encoding="utf-8")
    if field == "period":
        (directory / "received.csv").write_text(
            f"program,subject_id,period\nstartup_subsidy,B1,{year:04d}\n", encoding="utf-8"
        )
    return directory


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("year", YEARS)
def test_a_case_and_a_batch_file_agree_on_the_years_they_take(tmp_path: Path, field: str, year: int) -> None:
    """Both took any year (a claim year 2100 or 0, a register period 「9999」 were read and evaluated):
    both now take exactly 1900 … 2099 and refuse the others with the same rule, as the case schema
    describes the year facts."""
    f = tmp_path / "case.json"
    f.write_text(json.dumps(_case(field, year)), encoding="utf-8")
    case = runner.invoke(app, ["check", str(f), "--on", ON, "--json"])
    out = tmp_path / "out.csv"
    batch = runner.invoke(
        app, ["match", str(_tables(tmp_path / "t", field, year)), "--on", ON, "-o", str(out)]
    )
    ok = FIRST_DATE.year <= year <= LAST_DATE.year
    assert case.exit_code == (0 if ok else 2), case.output
    assert batch.exit_code == (0 if ok else 2), batch.output
    if field != "period":  # (a register period is free text in the schema)
        validator = jsonschema.Draft202012Validator(case_schema())
        valid = not list(validator.iter_errors(_case(field, year)))
        assert valid == ok, year
    if ok:
        return
    path, label, file = FIELDS[field]
    case_text, batch_text = case.output.replace("\n", ""), batch.output.replace("\n", "")
    assert f"字段 {path.format(year=year)}：{label} {year} {RULE}" in case_text, case.output
    assert f"{file} 第1行数据 列 {field}" in batch_text and f"年份 {year} {RULE}" in batch_text, batch.output
    assert not case.stdout.strip().startswith("{") and not out.exists()


def test_a_year_written_as_a_number_in_a_register_period_is_checked_too(tmp_path: Path) -> None:
    """A case may give a register period as an integer (2100, read as its text)."""
    case = _case("period", 2023)
    case["received"][0]["period"] = 2100
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", ON, "--json"])
    assert res.exit_code == 2, res.output
    assert f"字段 received[0].period：年份 2100 {RULE}" in res.output.replace("\n", "")


def test_the_year_rule_has_the_range_s_one_wording() -> None:
    assert check_year(2099) == 2099
    with pytest.raises(OutOfRange) as exc:
        check_year(2100)
    assert str(exc.value) == f"年份 2100 {RULE}"
    assert exc.value.rule("创业补助申领年度") == f"创业补助申领年度 2100 {RULE}"
