"""Months outside the supported range (1900-01 … 2099-12, README choice 28): a case, a batch file and
the case schema agree on which months are given, and a case and a batch file refuse the others with
the same rule, naming the field (case) or the file, row and column (batch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.engine.dates import FIRST_MONTH, LAST_MONTH, month_label
from xiangchuang.engine.schema import case_schema

runner = CliRunner()

ON = "2024-03-01"
# The months either side of each end of the range, one inside, and years far outside it.
MONTHS = [
    month_label(FIRST_MONTH - 1),
    month_label(FIRST_MONTH),
    "2024-03",
    month_label(LAST_MONTH),
    month_label(LAST_MONTH + 1),
    "0000-01",
    "9999-12",
]
RULE = "超出范围，须在1900-01至2099-12之间"


def _in_range(month: str) -> bool:
    year, mo = (int(x) for x in month.split("-"))
    return FIRST_MONTH <= (year - 1970) * 12 + mo - 1 <= LAST_MONTH


def _case(field: str, month: str) -> dict[str, Any]:
    hire: dict[str, Any] = {"id": "H1", "person": {"id": "P1"}, "hire_date": "2023-01-10"}
    case: dict[str, Any] = {"hires": [hire]}
    if field == "month":
        hire["contributions"] = [{"month": month, "employer_fen": 100}]
    elif field == "period":
        case["received"] = [
            {"program": "social_insurance_subsidy", "person_id": "P1", "period": f"{month}/{month}"}
        ]
    else:
        hire[field] = month
    return case


def _tables(directory: Path, field: str, month: str) -> Path:
    """The same facts as ``_case`` as a directory of batch files (CSV)."""
    directory.mkdir()
    (directory / "persons.csv").write_text("id\nP1\n", encoding="utf-8")
    hire_extra = ("," + field, "," + month) if field in ("si_period_start", "si_period_end") else ("", "")
    (directory / "hires.csv").write_text(
        f"id,person_id,hire_date{hire_extra[0]}\nH1,P1,2023-01-10{hire_extra[1]}\n", encoding="utf-8"
    )
    if field == "month":
        (directory / "contributions.csv").write_text(
            f"hire_id,month,employer_fen\nH1,{month},100\n", encoding="utf-8"
        )
    if field == "period":
        (directory / "received.csv").write_text(
            f"program,person_id,period\nsocial_insurance_subsidy,P1,{month}/{month}\n", encoding="utf-8"
        )
    return directory


@pytest.mark.parametrize("field", ["month", "si_period_start", "si_period_end", "period"])
@pytest.mark.parametrize("month", MONTHS)
def test_a_case_and_a_batch_file_agree_on_the_months_they_take(
    tmp_path: Path, field: str, month: str
) -> None:
    """Both took any year (2100-01, 0000-01, 9999-12 were read; a register period naming such months
    read as an unreadable period): both now take exactly 1900-01 … 2099-12 and refuse the others with
    the same rule, as the case schema describes the month facts."""
    f = tmp_path / "case.json"
    f.write_text(json.dumps(_case(field, month)), encoding="utf-8")
    case = runner.invoke(app, ["check", str(f), "--on", ON, "--json"])
    out = tmp_path / "out.csv"
    batch = runner.invoke(
        app, ["match", str(_tables(tmp_path / "t", field, month)), "--on", ON, "-o", str(out)]
    )
    ok = _in_range(month)
    assert case.exit_code == (0 if ok else 2), case.output
    assert batch.exit_code == (0 if ok else 2), batch.output
    if field != "period":  # (a register period is free text in the schema: no month pattern)
        validator = jsonschema.Draft202012Validator(case_schema())
        valid = not list(validator.iter_errors(_case(field, month)))
        assert valid == ok, month
    if ok:
        return
    path = {
        "month": "hires[0].contributions[0].month",
        "period": "received[0].period",
    }.get(field, f"hires[0].{field}")
    file = {"month": "contributions.csv", "period": "received.csv"}.get(field, "hires.csv")
    case_text, batch_text = case.output.replace("\n", ""), batch.output.replace("\n", "")
    assert f"字段 {path}：" in case_text and f"{month} {RULE}" in case_text, case.output
    assert f"{file} 第1行数据 列 {field}" in batch_text and f"月份 {month} {RULE}" in batch_text, batch.output
    assert not case.stdout.strip().startswith("{") and not out.exists()


def test_an_integer_month_far_outside_the_range_is_named_not_an_amount_overflow(tmp_path: Path) -> None:
    """An integer month such as 100000000001 did not fit the month column: check said 「金额超出可精确
    计算的范围」 (no field, and not about an amount)."""
    case = _case("month", "2024-03")
    case["hires"][0]["contributions"][0]["month"] = 100000000001
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", ON, "--json"])
    assert res.exit_code == 2, res.output
    text = res.output.replace("\n", "")
    assert f"字段 hires[0].contributions[0].month：缴费月份 1000000000-01 {RULE}" in text, res.output
    assert "金额" not in text


# The forms a month may be written in (README choice 28): text exactly YYYY-MM, or an integer YYYYMM
# (a case's JSON/YAML number, a Parquet integer column); in the supported range.
FORMS: list[tuple[object, bool]] = [
    ("2024-03", True),
    ("1900-01", True),
    ("2099-12", True),
    (202403, True),
    (190001, True),
    (209912, True),
    ("2024-3", False),
    (" 2024-03 ", False),
    ("2024-03 ", False),
    ("2024-03\n", False),
    ("2024-03-01", False),
    ("202403", False),
    ("2024/03", False),
    ("2024-13", False),
    ("2024-00", False),
    ("+2024-03", False),
    ("2024-+3", False),
    ("2_024-03", False),
    ("２０２４-０３", False),
    ("20２４-03", False),
    ("02024-03", False),
    ("2024-003", False),
    ("2024 - 03", False),
    ("2100-01", False),
    (202413, False),
    (202400, False),
    (210001, False),
    (189912, False),
    (True, False),
]


@pytest.mark.parametrize("field", ["month", "si_period_start"])
@pytest.mark.parametrize(("value", "accepted"), FORMS, ids=repr)
def test_a_case_a_batch_file_and_the_schema_take_the_same_month_forms(
    tmp_path: Path, field: str, value: object, accepted: bool
) -> None:
    """A case read a month's text leniently (「2024-3」, 「 2024-03 」, 「+2024-03」, 「2_024-03」, full-width
    digits: Python's int() of each part) where a batch file and the case schema refused it; the case
    schema refused an integer YYYYMM that a case and a Parquet file read. Now one rule (engine.dates
    MONTH_TEXT, parse_month) for all three: the same inputs accepted, the others refused naming the
    field (case) or the file, row and column (batch)."""
    case = _case(field, "2024-03")
    if field == "month":
        case["hires"][0]["contributions"][0]["month"] = value
    else:
        case["hires"][0][field] = value
    validator = jsonschema.Draft202012Validator(case_schema())
    assert (not list(validator.iter_errors(case))) == accepted, value

    f = tmp_path / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", ON, "--json"])
    assert res.exit_code == (0 if accepted else 2), res.output
    if not accepted:
        path = "hires[0].contributions[0].month" if field == "month" else f"hires[0].{field}"
        assert f"字段 {path}：" in res.output.replace("\n", ""), res.output

    # The batch: a Parquet column of the value's type (text, integer, boolean), and a CSV file (text)
    table = "contributions" if field == "month" else "hires"
    column = pa.array([value])
    doors = []
    d = _tables(tmp_path / "pq", field, "2024-03")
    (d / f"{table}.csv").unlink()
    if table == "contributions":
        data = {"hire_id": ["H1"], "month": column, "employer_fen": [100]}
    else:
        data = {"id": ["H1"], "person_id": ["P1"], "hire_date": ["2023-01-10"], field: column}
    pq.write_table(pa.table(data), d / f"{table}.parquet")
    doors.append((d, f"{table}.parquet"))
    if isinstance(value, str) and "\n" not in value:
        doors.append((_tables(tmp_path / "csv", field, value), f"{table}.csv"))
    for directory, file in doors:
        out = tmp_path / f"{file}.out.csv"
        res = runner.invoke(app, ["match", str(directory), "--on", ON, "-o", str(out)])
        assert res.exit_code == (0 if accepted else 2), (file, res.output)
        if not accepted:
            assert f"{file} 第1行数据 列 {field}" in res.output.replace("\n", ""), (file, res.output)
