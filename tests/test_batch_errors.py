"""`xiangchuang match` on bad input: a Chinese message naming the file, row and column, a
non-zero exit, no traceback and no output file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from xiangchuang import synth
from xiangchuang.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("good")
    synth.write(synth.generate(2000, seed=5), d, "csv")
    return d


def _edit(src: Path, dst: Path, table: str, line: int, old: str, new: str) -> None:
    shutil.copytree(src, dst)
    f = dst / f"{table}.csv"
    lines = f.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    f.write_text("\n".join(lines), encoding="utf-8")


def _bad_cell(line: str, column: int, value: str) -> tuple[str, str]:
    cells = line.split(",")
    return ",".join(cells[: column + 1]), ",".join([*cells[:column], value])


def _match(tmp_path: Path, tables: Path, out: str = "out.csv") -> tuple[int, str, Path]:
    target = tmp_path / out
    res = runner.invoke(app, ["match", str(tables), "--on", "2026-01-20", "-o", str(target)])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.output, target


@pytest.mark.parametrize(
    ("table", "column", "value", "fragments"),
    [
        ("persons", 1, "1990-02-30", ["persons.csv 第5000行数据", "birth_date", "1990-02-30", "YYYY-MM-DD"]),
        ("persons", 1, "abc", ["第5000行数据", "birth_date"]),
        ("contributions", 1, '"2025-13"', ["contributions.csv 第5000行数据", "month", "2025-13"]),
        ("contributions", 1, '"2025-07-1"', ["第5000行数据", "month", "YYYY-MM"]),
        ("contributions", 2, "12.5", ["第5000行数据", "employer_fen", "整数"]),
        ("contributions", 2, "-5", ["第5000行数据", "employer_fen", "不能为负数"]),
        ("hires", 4, "maybe", ["hires.csv 第1000行数据", "contract", "true/false"]),
        ("businesses", 1, "123", ["businesses.csv 第1000行数据", "district", "'123' 须为6位数字"]),
        ("businesses", 1, "500999", ["businesses.csv 第1000行数据", "district", "41个区县之一"]),
        ("businesses", 2, '"company"', ["第1000行数据", "kind", "company", "不在允许范围内"]),
        # A code is six ASCII digits, as in a case (README choice 67): these were read as 500101.
        ("businesses", 1, "0500101", ["businesses.csv 第1000行数据", "district", "'0500101' 须为6位数字"]),
        ("businesses", 1, "+500101", ["第1000行数据", "district", "'+500101' 须为6位数字"]),
        ("businesses", 1, '" 500101"', ["第1000行数据", "district", "6位数字"]),
        ("businesses", 1, "500101.0", ["第1000行数据", "district", "'500101.0' 须为6位数字"]),
        ("businesses", 1, "５００１０１", ["第1000行数据", "district", "6位数字"]),
        ("businesses", 1, '""', ["第1000行数据", "district", "'' 须为6位数字"]),
        # Months outside 1900-01 … 2099-12 (README choice 28), as a case's months: they were read.
        (
            "contributions",
            1,
            '"2100-01"',
            ["contributions.csv 第5000行数据 列 month", "月份 2100-01 超出范围，须在1900-01至2099-12之间"],
        ),
        ("contributions", 1, '"1899-12"', ["contributions.csv 第5000行数据", "月份 1899-12 超出范围"]),
        ("hires", 5, '"0000-01"', ["hires.csv 第1000行数据 列 si_period_start", "月份 0000-01 超出范围"]),
        ("hires", 6, '"9999-12"', ["hires.csv 第1000行数据 列 si_period_end", "月份 9999-12 超出范围"]),
        # A date outside the range: the same rule, in the same words as a case's and --on's.
        (
            "persons",
            1,
            "2100-01-01",
            [
                "persons.csv 第5000行数据 列 birth_date",
                "日期 2100-01-01 超出范围，须在1900-01-01至2099-12-31之间",
            ],
        ),
    ],
)
def test_a_bad_value_is_named_by_file_row_and_column(
    good: Path, tmp_path: Path, table: str, column: int, value: str, fragments: list[str]
) -> None:
    row = 5000 if table in ("persons", "contributions") else 1000
    line = (good / f"{table}.csv").read_text(encoding="utf-8").split("\n")[row]
    old, new = _bad_cell(line, column, value)
    _edit(good, tmp_path / "in", table, row + 1, old, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code != 0
    assert "Traceback" not in output and "ArrowInvalid" not in output
    for fragment in fragments:
        assert fragment in output.replace("\n", ""), (fragment, output)
    assert not out.exists()


def test_an_unknown_column_is_refused_naming_it(good: Path, tmp_path: Path) -> None:
    _edit(good, tmp_path / "in", "persons", 1, '"birth_date"', '"birth_dat"')
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code != 0 and "birth_dat" in output and "不是 persons 表的列" in output.replace("\n", "")
    assert not out.exists()


def test_registry_extra_columns_are_allowed(good: Path, tmp_path: Path) -> None:
    code, output, out = _match(tmp_path, good)
    assert code == 0, output
    assert out.exists()


def test_an_empty_directory_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, output, out = _match(tmp_path, tmp_path / "empty")
    assert code != 0 and "没有任何输入表" in output
    assert not out.exists()


def test_a_file_instead_of_a_directory_is_named(good: Path, tmp_path: Path) -> None:
    code, output, _ = _match(tmp_path, good / "persons.csv")
    assert code != 0 and "不是目录" in output


def test_an_empty_csv_file_is_an_error(good: Path, tmp_path: Path) -> None:
    shutil.copytree(good, tmp_path / "in")
    (tmp_path / "in" / "loans.csv").write_text("", encoding="utf-8")
    code, output, _ = _match(tmp_path, tmp_path / "in")
    assert code != 0 and "loans.csv" in output and "文件为空" in output


@pytest.mark.parametrize("out", ["out.txt", "persons_dir"])
def test_a_bad_output_path_is_refused_before_the_work(good: Path, tmp_path: Path, out: str) -> None:
    if out == "persons_dir":
        (tmp_path / out).mkdir()
    code, output, _ = _match(tmp_path, good, out)
    assert code != 0 and "输出文件" in output
    assert "评估" not in output  # refused before reading and evaluating


def test_an_unwritable_output_leaves_no_file(good: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, output, _ = _match(tmp_path, good, "file/out.csv")
    assert code != 0 and "输出文件" in output and "Traceback" not in output
    assert (tmp_path / "file").read_text(encoding="utf-8") == "x"


def test_a_month_column_with_no_value_at_all_is_all_unknown_not_an_error(tmp_path: Path) -> None:
    """A column that is present but empty in every row means unknown everywhere (pyarrow's ``all``
    of no value is null, which was read as "some value is not a month")."""
    import pyarrow.parquet as pq

    d = tmp_path / "t"
    d.mkdir()
    tables = synth.generate(300, seed=2)
    hires = tables["hires"]
    idx = hires.schema.get_field_index("si_period_start")
    tables["hires"] = hires.set_column(idx, "si_period_start", pa.nulls(hires.num_rows, type=pa.string()))
    synth.write(tables, d, "parquet")
    assert pq.read_table(d / "hires.parquet").column("si_period_start").null_count == hires.num_rows
    code, output, target = _match(tmp_path, d)
    assert code == 0, output
    assert target.exists()


def test_a_csv_with_a_column_twice_is_refused_naming_it(good: Path, tmp_path: Path) -> None:
    """pyarrow's KeyError ('Field "rent_fen" exists 2 times in schema'): a traceback."""
    _edit(good, tmp_path / "in", "businesses", 1, '"property_fee_fen"', '"rent_fen"')
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code == 2, output
    assert "Traceback" not in output and "rent_fen" in output and "重复" in output, output
    assert not out.exists()


@pytest.mark.parametrize(("column", "value"), [(1, "99999999999"), (20, "99999999999999999999999")])
def test_a_csv_integer_too_large_for_its_column_is_named_by_row(
    good: Path, tmp_path: Path, column: int, value: str
) -> None:
    """The cell passed the digit check, so the message was Arrow's English one, with no row or column."""
    line = (good / "businesses.csv").read_text(encoding="utf-8").split("\n")[1000]
    old, new = _bad_cell(line, column, value)
    _edit(good, tmp_path / "in", "businesses", 1001, old, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    name, rule = (("district", "41个区县"), ("rent_fen", "数值过大"))[column != 1]
    assert code == 2, output
    text = output.replace("\n", "")
    assert "businesses.csv 第1000行数据" in text and name in text and "conversion" not in text, output
    assert rule in text or "6位数字" in text, output
    assert not out.exists()


def _parquet_dir(tmp_path: Path, table: str, column: str, values: pa.Array | None = None) -> Path:
    """A small Parquet directory whose ``table.column`` is replaced by ``values`` (None: unchanged)."""
    d = tmp_path / "pq"
    tables = synth.generate(300, seed=3)
    if values is not None:
        t = tables[table]
        tables[table] = t.set_column(t.schema.get_field_index(column), column, values)
    synth.write(tables, d, "parquet")
    return d


@pytest.mark.parametrize(
    ("table", "column", "make", "fragments"),
    [
        ("businesses", "rent_fen", lambda n: pa.array(["100"] * n), ["rent_fen", "string", "整数"]),
        ("businesses", "staff_count", lambda n: pa.array(["x"] * n), ["staff_count", "整数"]),
        ("businesses", "district", lambda n: pa.array([500101.5] * n), ["district", "整数"]),
        ("businesses", "district", lambda n: pa.array([True] * n), ["district", "整数"]),
        ("businesses", "district", lambda n: pa.array(["0500101"] * n), ["第1行数据", "district", "6位数字"]),
        (
            "businesses",
            "founded_by_returning",
            lambda n: pa.array(["false"] * n),
            ["founded_by_returning", "true/false"],
        ),
        (
            "businesses",
            "founded_by_returning",
            lambda n: pa.array([2] * n),
            ["founded_by_returning", "int64"],
        ),
        ("persons", "groups", lambda n: pa.array([1] * n), ["persons.parquet", "groups", "列表"]),
    ],
)
def test_a_parquet_column_of_another_type_is_named(
    tmp_path: Path, table: str, column: str, make: Any, fragments: list[str]
) -> None:
    """Arrow failed inside the conversion to NumPy (ArrowTypeError …): a traceback, exit 1."""
    n = synth.generate(300, seed=3)[table].num_rows
    code, output, out = _match(tmp_path, _parquet_dir(tmp_path, table, column, make(n)))
    assert code == 2, output
    assert "Traceback" not in output and "Arrow" not in output, output
    for fragment in [f"{table}.parquet", *fragments]:
        assert fragment in output.replace("\n", ""), (fragment, output)
    assert not out.exists()


def test_a_parquet_fraction_in_an_integer_column_is_refused_by_row(tmp_path: Path) -> None:
    """A float column was truncated to integers: 1.5 fen read as 1, district 500101.7 as 500101."""
    tables = synth.generate(300, seed=3)
    rent = tables["businesses"].column("rent_fen").to_pylist()
    row = next(i for i, v in enumerate(rent) if v is not None)
    floats = pa.array([None if v is None else float(v) for v in rent], pa.float64())
    # A float column of whole numbers (pandas writes an integer column with gaps so) reads as before.
    code, output, out = _match(tmp_path, _parquet_dir(tmp_path, "businesses", "rent_fen", floats))
    assert code == 0, output
    import pyarrow.csv as pacsv

    same = pacsv.read_csv(out)
    code, output, out2 = _match(tmp_path, _parquet_dir(tmp_path / "b", "businesses", "rent_fen"), "out2.csv")
    assert code == 0 and pacsv.read_csv(out2).equals(same)
    rent[row] = rent[row] + 0.5
    d = _parquet_dir(tmp_path / "c", "businesses", "rent_fen", pa.array(rent, pa.float64()))
    code, output, out3 = _match(tmp_path, d, "out3.csv")
    assert code == 2, output
    text = output.replace("\n", "")
    assert f"businesses.parquet 第{row + 1}行数据" in text and "rent_fen" in text and "小数" in text, output
    assert not out3.exists()


@pytest.mark.parametrize(
    ("table", "column"),
    [
        ("businesses", "rent_fen"),
        ("businesses", "district"),
        ("businesses", "founded_by_returning"),
        ("businesses", "claim_year"),
        ("businesses", "registration_date"),
        ("persons", "groups"),
    ],
)
def test_a_parquet_column_of_arrows_null_type_is_all_unknown(tmp_path: Path, table: str, column: str) -> None:
    """A column with no value at all, as pandas writes an all-None column (Arrow's null type), is
    unknown in every row, as the same column of typed nulls (a traceback, exit 1, for all kinds but dates)."""
    n = synth.generate(300, seed=3)[table].num_rows
    typ = synth.generate(300, seed=3)[table].schema.field(column).type
    code, output, out = _match(tmp_path, _parquet_dir(tmp_path, table, column, pa.nulls(n)))
    assert code == 0, output
    code, output, typed = _match(
        tmp_path, _parquet_dir(tmp_path / "t", table, column, pa.nulls(n, typ)), "t.csv"
    )
    assert code == 0, output
    assert out.read_bytes() == typed.read_bytes()


def _line(good: Path, table: str, row: int) -> str:
    return (good / f"{table}.csv").read_text(encoding="utf-8").split("\n")[row]


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "fragments"),
    [
        # An unknown group among known ones: the row (it named only the file and column).
        ("persons", 4000, 4, '"veteran|martian"', ["persons.csv 第4000行数据", "groups", "martian"]),
        # A carrier schedule that does not read: the row of the schedule.
        ("carriers", 3, 8, '"1:999/0/0"', ["carriers.csv 第3行数据", "schedule", "999"]),
        # An empty id: its row.
        ("businesses", 1500, 0, "", ["businesses.csv 第1500行数据", "列 id", "编号为空"]),
    ],
)
def test_a_bad_value_found_per_column_is_named_by_its_row(
    good: Path, tmp_path: Path, table: str, row: int, column: int, value: str, fragments: list[str]
) -> None:
    old, new = _bad_cell(_line(good, table, row), column, value)
    _edit(good, tmp_path / "in", table, row + 1, old, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code == 2, output
    text = output.replace("\n", "")
    for fragment in fragments:
        assert fragment in text, (fragment, output)
    assert not out.exists()


def test_an_id_given_twice_is_named_by_both_rows(good: Path, tmp_path: Path) -> None:
    """「编号须唯一且不能为空」 named the file and column only: in 6,000 persons, which id, which rows?"""
    first = _line(good, "persons", 10).split(",")[0]
    old = _line(good, "persons", 5000).split(",")[0]
    _edit(good, tmp_path / "in", "persons", 5001, old, first)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code == 2, output
    text = output.replace("\n", "")
    assert (
        f"persons.csv 第5000行数据 列 id（人员编号）：编号 {first.strip(chr(34))!r} 重复（第10行数据已有）"
        in text
    ), output
    assert not out.exists()


@pytest.mark.parametrize("change", ["fewer", "more"])
def test_a_csv_row_with_another_number_of_cells_is_named_by_row_and_line(
    good: Path, tmp_path: Path, change: str
) -> None:
    """pyarrow's "Expected 17 columns, got 16" quoted the row's text but named no row."""
    line = _line(good, "persons", 3000)
    new = line.rsplit(",", 1)[0] if change == "fewer" else line + ",x"
    _edit(good, tmp_path / "in", "persons", 3001, line, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code == 2, output
    text = output.replace("\n", "")
    cells = 16 if change == "fewer" else 18
    assert f"persons.csv 第3000行数据（文件第3001行）：有 {cells} 列，表头有 17 列" in text, output
    assert "Expected" not in text
    assert not out.exists()


def test_a_parquet_date_written_as_text_that_is_not_a_date_is_named_by_row(tmp_path: Path) -> None:
    """A date column of text (as a registry export may write it) with a day that does not exist was
    refused for the whole column (「日期须为 YYYY-MM-DD」), with no row or value."""
    dates = synth.generate(300, seed=3)["businesses"].column("registration_date").to_pylist()
    texts = [None if d is None else d.isoformat() for d in dates]
    code, output, out = _match(
        tmp_path, _parquet_dir(tmp_path, "businesses", "registration_date", pa.array(texts))
    )
    assert code == 0 and out.exists(), output  # (text dates that read: as the date column)
    row = next(i for i, t in enumerate(texts) if t is not None and i > 40)
    texts[row] = "2021-02-30"
    d = _parquet_dir(tmp_path / "b", "businesses", "registration_date", pa.array(texts))
    code, output, out2 = _match(tmp_path, d, "out2.csv")
    assert code == 2, output
    text = output.replace("\n", "")
    assert f"businesses.parquet 第{row + 1}行数据 列 registration_date" in text, output
    assert "'2021-02-30'" in text and "YYYY-MM-DD" in text, output
    assert not out2.exists()


def test_a_parquet_integer_month_outside_the_range_is_named_by_row(tmp_path: Path) -> None:
    """An integer month column (YYYYMM) took any year: 210001 was read as January 2100, and
    100000000001 wrapped around when stored as int32 (a month of no meaning, silently)."""
    months = synth.generate(300, seed=3)["contributions"].column("month").to_pylist()
    whole = [None if m is None else int(m.replace("-", "")) for m in months]
    code, output, out = _match(
        tmp_path, _parquet_dir(tmp_path, "contributions", "month", pa.array(whole, pa.int64()))
    )
    assert code == 0 and out.exists(), output  # (integer months in the range read as the text ones)
    row = next(i for i, m in enumerate(whole) if m is not None and i > 40)
    for k, (value, shown) in enumerate(
        ((100000000001, "1000000000-01"), (210001, "2100-01"), (189912, "1899-12"))
    ):
        bad = list(whole)
        bad[row] = value
        d = _parquet_dir(tmp_path / str(k), "contributions", "month", pa.array(bad, pa.int64()))
        code, output, target = _match(tmp_path, d, f"out{k}.csv")
        assert code == 2, output
        text = output.replace("\n", "")
        assert f"contributions.parquet 第{row + 1}行数据 列 month" in text, output
        assert f"月份 {shown} 超出范围，须在1900-01至2099-12之间" in text, output
        assert not target.exists()


@pytest.mark.parametrize(
    ("period", "shown"),
    [("2100-01/2100-06", "2100-01"), ("1899-12至1900-02", "1899-12"), ("2023-09/2100-01", "2100-01")],
)
def test_a_register_period_naming_months_outside_the_range_is_named_by_row(
    good: Path, tmp_path: Path, period: str, shown: str
) -> None:
    """A register period written as a month range (README choice 5) whose months lie outside 1900-01 …
    2099-12 read as an unreadable period (any months at all); it is refused as a case's is."""
    old, new = _bad_cell(_line(good, "received", 300), 3, f'"{period}"')
    _edit(good, tmp_path / "in", "received", 301, old, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code == 2, output
    text = output.replace("\n", "")
    assert "received.csv 第300行数据 列 period（所属期间）" in text, output
    assert f"月份 {shown} 超出范围，须在1900-01至2099-12之间" in text, output
    assert not out.exists()


def test_codes_written_as_text_read_as_the_same_codes(tmp_path: Path) -> None:
    """A Parquet column of district and 户籍 codes written as text (as a case may write them) gives the
    same rows as the same codes as integers; in a CSV file a code is read as text before its check."""
    import pyarrow.csv as pacsv

    tables = synth.generate(300, seed=3)
    base = tmp_path / "int"
    synth.write(tables, base, "parquet")
    text = dict(tables)
    for table, column in (("businesses", "district"), ("persons", "hukou_district")):
        t = text[table]
        as_text = pa.compute.cast(t.column(column), pa.string())
        text[table] = t.set_column(t.schema.get_field_index(column), column, as_text)
    synth.write(text, tmp_path / "text", "parquet")
    csv_dir = tmp_path / "csv"
    synth.write(tables, csv_dir, "csv")
    assert pacsv.read_csv(csv_dir / "businesses.csv").column("district").type == pa.int64()  # (unquoted)
    outputs = []
    for d in (base, tmp_path / "text", csv_dir):
        code, output, target = _match(tmp_path, d, f"{d.name}.csv")
        assert code == 0, output
        outputs.append(target.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0].count("\n") > 10


@pytest.mark.parametrize(
    ("table", "column", "fragments"),
    [
        (
            "persons",
            1,
            ["persons.csv 第5000行数据（文件第5001行）列 birth_date", "'' 须为有效日期 YYYY-MM-DD"],
        ),
        (
            "contributions",
            2,
            ["contributions.csv 第5000行数据（文件第5001行）列 employer_fen", "'' 须为整数"],
        ),
        ("hires", 4, ["hires.csv 第1000行数据（文件第1001行）列 contract", "'' 须为 true/false"]),
    ],
)
def test_a_quoted_empty_text_in_a_typed_csv_column_is_named_by_row(
    good: Path, tmp_path: Path, table: str, column: int, fragments: list[str]
) -> None:
    """A quoted "" is a known empty text (an unquoted empty cell is unknown): no date, number or
    true/false; it was reported as 「不是可读取的 CSV 文件」 naming neither row nor column."""
    row = 5000 if table in ("persons", "contributions") else 1000
    line = (good / f"{table}.csv").read_text(encoding="utf-8").split("\n")[row]
    old, new = _bad_cell(line, column, '""')
    _edit(good, tmp_path / "in", table, row + 1, old, new)
    code, output, out = _match(tmp_path, tmp_path / "in")
    assert code != 0 and not out.exists()
    for fragment in fragments:
        assert fragment in output.replace("\n", ""), (fragment, output)
