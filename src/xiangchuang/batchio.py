"""Batch input and output for 政策找人: documented tables (Parquet or CSV) ⇄ engine columns.

Input: a directory with one file per table, ``<table>.parquet`` or ``<table>.csv``, columns as in
``xiangchuang.engine.facts.TABLES`` (see ``xiangchuang schema tables`` and the README). Unknown
values are nulls. References (founder_id, business_id, …) are resolved to row numbers with Arrow's
hash lookups; groups are lists (Parquet) or ``|``-joined text (CSV). Extra columns are ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from xiangchuang.engine.assemble import OPTIONAL_LONG, Facts
from xiangchuang.engine.case import RECEIVED_SUBJECT
from xiangchuang.engine.dates import (
    DATE_RANGE_ZH,
    FIRST_MONTH,
    LAST_MONTH,
    MONTH_TEXT,
    OutOfRange,
    date_out_of_range,
    from_day,
    parse_month,
    to_day,
)
from xiangchuang.engine.evaluate import NEVER, Outcome
from xiangchuang.engine.facts import (
    CODE_RULE,
    CODE_TEXT_PATTERN,
    DAY_MAX,
    DAY_MIN,
    FACTS,
    GROUPS,
    INT_LIMIT,
    NATURAL_KEYS,
    NO_REF,
    UNRESOLVED_REF,
    Col,
    Fact,
    Table,
    code_text_ok,
    codes_ok,
    period_out_of_order,
    repeated_key,
    repeated_key_rule,
)
from xiangchuang.errors import NOT_UTF8, os_reason

ID_DTYPE: Final = np.dtypes.StringDType()

LOAD_ORDER = (
    "persons",
    "carriers",
    "businesses",
    "business_years",
    "hires",
    "contributions",
    "loans",
    "other_loans",
    "trainings",
    "mentor_services",
    "onjob_trainings",
    "received",
)


class BatchInputError(ValueError):
    """A batch file is malformed: names the file, the column and the rule, in Chinese."""


def find_file(directory: Path, table: str) -> Path | None:
    """The table's file in ``directory`` (``<table>.parquet`` or ``<table>.csv``), None if neither;
    both is an error naming them (one of them is stale: which was meant cannot be known)."""
    found = [p for p in (directory / f"{table}.parquet", directory / f"{table}.csv") if p.exists()]
    if len(found) > 1:
        raise BatchInputError(
            f"目录 {directory} 中同时有 {found[0].name} 和 {found[1].name}：每张表只能有一个文件，"
            "请删除或移走其中一个（不知道哪一个是要用的数据）"
        )
    return found[0] if found else None


# Columns a registry export or the synthetic data carries beside the engine's (names, 身份证号, phone,
# 统一社会信用代码, industry): documented, never read. Any other column not in the table's schema is
# refused, so that a misspelt column (``birth_dat``) is not silently read as "unknown" for every row.
REGISTRY_EXTRAS: Final[dict[str, frozenset[str]]] = {
    "persons": frozenset({"name", "id_number", "phone"}),
    "businesses": frozenset({"uscc", "name", "industry"}),
}

_CSV_TYPES: Final[dict[str, pa.DataType]] = {
    "date": pa.date32(),
    "int": pa.int64(),
    "fen": pa.int64(),
    "bool": pa.bool_(),
    # Codes are read as text and then held to the case's rule (engine.facts.code_text_ok): as an
    # integer column, Arrow read "0500101" and "+500101" as 500101.
    "code": pa.string(),
    "division": pa.string(),
}
_TRUE: Final = ("true", "True", "1", "是")
_FALSE: Final = ("false", "False", "0", "否")
_NULLS: Final = ("", "NULL", "null", "NA")
_KIND_RULE: Final = {
    "date": "须为有效日期 YYYY-MM-DD",
    "int": "须为整数",
    "fen": "须为整数（单位：分）",
    "bool": "须为 true/false（或 是/否、1/0）",
    "code": "须为6位数字的区县代码",
    "division": "须为6位数字的行政区划代码",
}


def _check_columns(names: list[str], path: Path, table: str) -> None:
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:  # (pyarrow refused it later with a KeyError: a traceback)
        raise BatchInputError(f"{path.name}：列 {'、'.join(twice)} 重复出现，每列只能有一个")
    allowed = FACTS[table].keys() | REGISTRY_EXTRAS.get(table, frozenset())
    unknown = [c for c in names if c not in allowed]
    if unknown:
        raise BatchInputError(
            f"{path.name}：列 {'、'.join(unknown)} 不是 {table} 表的列（可用的列见 xiangchuang schema tables："
            f"{'、'.join(FACTS[table])}）"
        )


def _csv_value_ok(kind: str, text: str) -> bool:
    """Whether one CSV cell converts to the column's type (the error path only: Python per cell). A
    cell read as unknown (unquoted empty, NULL, NA) is never asked about: a quoted 「""」 is a known
    empty text, which no date, number or true/false is."""
    if kind == "date":
        if len(text) != 10 or text[4] != "-" or text[7] != "-":
            return False
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            return False
        return True
    if kind == "bool":
        return text in _TRUE or text in _FALSE
    body = text[1:] if text[:1] in "+-" else text
    return body.isascii() and body.isdigit() and -(2**63) <= int(text) < 2**63  # (an int64 column)


def _csv_error(path: Path, table: str, exc: pa.ArrowInvalid) -> BatchInputError:
    """The first cell that does not convert, by row and column, in Chinese (pyarrow names neither)."""
    try:
        text = pacsv.read_csv(
            path,
            # (the unknowns as the typed read has them: only a quoted "" is an empty text)
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(FACTS[table], pa.string()),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
                null_values=list(_NULLS),
            ),
        )
    except pa.ArrowInvalid as exc2:
        return _ragged_row(path) or _unreadable(path, exc2)
    for name in text.column_names:
        fact = FACTS[table].get(name)
        if fact is None or fact.kind not in _CSV_TYPES:
            continue
        for row, value in enumerate(text.column(name).to_pylist(), start=1):
            if value is not None and not _csv_value_ok(fact.kind, value):
                rule = _KIND_RULE[fact.kind]
                if fact.kind in ("int", "fen") and value.lstrip("+-").isdigit():
                    rule = "数值过大（须小于10^15）"
                return BatchInputError(
                    f"{path.name} 第{row}行数据（文件第{row + 1}行）列 {name}（{fact.label}）：{value!r} {rule}"
                )
    return _unreadable(path, exc)


def _ragged_row(path: Path) -> BatchInputError | None:
    """The first data row with more or fewer cells than the header, by its row and line (pyarrow's
    "Expected 17 columns, got 16" quotes the row but names neither); None if every row has as many."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None) or []
        row = 0
        for cells in reader:
            if not cells:  # (a blank line is skipped, as pyarrow skips it: no data row)
                continue
            row += 1
            if len(cells) != len(header):
                return BatchInputError(
                    f"{path.name} 第{row}行数据（文件第{reader.line_num}行）：有 {len(cells)} 列，"
                    f"表头有 {len(header)} 列，每行的列数须与表头相同"
                )
    return None


_INTEGER_KINDS: Final = ("int", "fen", "code", "division")
_NULL_AS: Final[dict[str, pa.DataType]] = {
    **dict.fromkeys(_INTEGER_KINDS, pa.int64()),
    "bool": pa.bool_(),
    "date": pa.date32(),
}


def _typed(col: pa.ChunkedArray, kind: str, where: str) -> pa.ChunkedArray:
    """A Parquet column whose type is not the kind's: a Chinese error naming the file, the column and
    the type (Arrow failed inside the conversion: a traceback). A column of Arrow's null type (no
    value at all) is all unknown (it failed the same way). A float column of whole numbers (pandas
    writes an integer column with gaps so) is read as integers; a fraction is refused by row (it
    was truncated: 1.5 fen read as 1). CSV columns are read with the kind's type already."""
    t = col.type
    if pa.types.is_null(t):  # (a column with no value at all, as pandas writes one: all unknown)
        return pa.chunked_array([pa.nulls(len(col), _NULL_AS.get(kind, pa.string()))])
    if kind in ("code", "division") and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        return col  # (codes written as text, as a case may write them: _codes holds them to the rule)
    if kind in _INTEGER_KINDS:
        if pa.types.is_uint64(t) and pc.any(pc.greater_equal(col, pa.scalar(INT_LIMIT, t))).as_py():
            # (read as int64 first, 2^64-5 became -5: 「-5 不能为负数」)
            row, value = _first_row(col, lambda x: x >= INT_LIMIT)
            rule = "数值过大（须小于10^15）" if kind in ("int", "fen") else CODE_RULE[kind]
            raise BatchInputError(f"{_at(where, row)}：{value} {rule}")
        if pa.types.is_integer(t):
            return col
        if pa.types.is_floating(t):
            whole = pc.fill_null(pc.equal(pc.floor(col), col), True)  # (false for NaN)
            small = pc.fill_null(pc.less(pc.abs(col), float(INT_LIMIT)), True)
            for ok, rule, bad in (
                (whole, "须为整数，不能是小数", lambda x: not math.isfinite(x) or x != int(x)),
                (small, "数值过大（须小于10^15）", lambda x: abs(x) >= INT_LIMIT),
            ):
                if not pc.all(ok).as_py():
                    row, value = _first_row(col, bad)
                    raise BatchInputError(f"{_at(where, row)}：{value!r} {rule}")
            return pc.cast(col, pa.int64())
        raise BatchInputError(f"{where}：列的类型为 {t}，须为整数类型")
    if kind == "bool" and not pa.types.is_boolean(t):
        raise BatchInputError(f"{where}：列的类型为 {t}，须为布尔类型（true/false）")
    if kind == "groups" and not (
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or (
            (pa.types.is_list(t) or pa.types.is_large_list(t))
            and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type))
        )
    ):
        raise BatchInputError(f"{where}：列的类型为 {t}，须为字符串列表（或以 | 分隔的文本）")
    return col


def read_table(path: Path, table: str) -> pa.Table:
    try:
        if path.suffix == ".parquet":
            present = pq.read_schema(path).names
            _check_columns(present, path, table)
            # Only the documented columns: PII and registry extras (names, 身份证号 …) are never read.
            wanted = [c for c in FACTS[table] if c in present]
            dictionary = [c for c in wanted if FACTS[table][c].kind in ("month", "enum")]
            return pq.read_table(path, columns=wanted, read_dictionary=dictionary)
        facts = FACTS[table]
        types = {name: _CSV_TYPES.get(f.kind, pa.string()) for name, f in facts.items()}
        opts = pacsv.ConvertOptions(
            column_types=types,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # unquoted empty = unknown; a quoted "" = known empty
            null_values=list(_NULLS),
            true_values=list(_TRUE),
            false_values=list(_FALSE),
        )
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
        if not header:
            raise BatchInputError(f"{path.name}：文件为空（第一行须为列名）")
        _check_columns(header, path, table)
        try:
            return pacsv.read_csv(path, convert_options=opts)
        except pa.ArrowInvalid as exc:
            raise _csv_error(path, table, exc) from None
    except BatchInputError:
        raise
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except OSError as exc:
        raise BatchInputError(f"{path.name}：无法读取（{os_reason(exc)}）") from None
    except (pa.ArrowException, csv.Error) as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> BatchInputError:
    """A file pyarrow or Python's csv could not read, in Chinese (their texts are English)."""
    if path.suffix == ".parquet":
        return BatchInputError(f"{path.name}：不是可读取的 Parquet 文件（文件已损坏，或不是 Parquet 格式）")
    if "UTF8" in str(exc) or "UTF-8" in str(exc):  # (pyarrow's check of a text column)
        return _not_utf8(path)
    return BatchInputError(f"{path.name}：不是可读取的 CSV 文件（格式有误）")


def _not_utf8(path: Path) -> BatchInputError:
    """A CSV file that is not UTF-8, at its first such line (the error path only: Python per line)."""
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return BatchInputError(f"{path.name} 文件第{number}行：{NOT_UTF8}")
    return BatchInputError(f"{path.name}：{NOT_UTF8}")


def _via_dictionary(arr: pa.ChunkedArray | pa.Array, fn: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """Apply ``fn`` to the distinct values of a dictionary column only, then expand by index."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_dictionary(arr.type):
        return fn(arr.dictionary).take(arr.indices)
    return fn(arr)


def _np(arr: pa.ChunkedArray | pa.Array, dtype: Any, fill: Any) -> tuple[np.ndarray, np.ndarray]:
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    known = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    values = np.asarray(pc.fill_null(arr, fill).to_numpy(zero_copy_only=False)).astype(dtype)
    return values, known


_MONTH_RE: Final = rf"^(?:{MONTH_TEXT})$"  # (a month as text: engine.dates.MONTH_TEXT, for Arrow)


def _first_row(arr: pa.ChunkedArray | pa.Array, bad: Callable[[Any], bool]) -> tuple[int, Any]:
    """The first data row (1-based) whose value is bad, and the value (the error path only)."""
    for row, value in enumerate(arr.to_pylist(), start=1):
        if value is not None and bad(value):
            return row, value
    return 0, None


def _at(where: str, row: int) -> str:
    """``file 列 x（…）`` → ``file 第N行数据 列 x（…）``."""
    file, _, rest = where.partition(" ")
    return f"{file} 第{row}行数据 {rest}" if row else where


def _months(arr: pa.ChunkedArray, where: str) -> tuple[np.ndarray, np.ndarray]:
    def parse(values: pa.Array) -> pa.Array:
        if pa.types.is_integer(values.type):
            v = pc.cast(values, pa.int64())
            year, month = pc.divide(v, 100), pc.subtract(v, pc.multiply(pc.divide(v, 100), 100))
            if pc.any(pc.or_(pc.less(month, 1), pc.greater(month, 12))).as_py():
                row, value = _first_row(arr, lambda x: not 1 <= x % 100 <= 12)
                raise BatchInputError(f"{_at(where, row)}：{value!r} 的月份须在1至12之间")
        else:
            text = pc.cast(values, pa.string())
            # (min_count=0: a column of unknowns only is all right; by default pc.all of no value is null)
            if not pc.all(pc.match_substring_regex(text, _MONTH_RE), min_count=0).as_py():
                row, value = _first_row(
                    pc.cast(arr, pa.string()), lambda x: re.fullmatch(_MONTH_RE, x) is None
                )
                raise BatchInputError(f"{_at(where, row)}：{value!r} 须为月份 YYYY-MM（月份1至12）")
            year = pc.cast(pc.utf8_slice_codeunits(text, 0, 4), pa.int64())
            month = pc.cast(pc.utf8_slice_codeunits(text, 5, 7), pa.int64())
        number = pc.add(pc.multiply(pc.subtract(year, 1970), 12), pc.subtract(month, 1))
        # In the supported range (README choice 28), as a case's months: checked before the values
        # become int32 (an integer month such as 100000000001 wrapped around silently).
        bounds = pc.min_max(number)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if low is not None and (low < FIRST_MONTH or high > LAST_MONTH):
            row, value = _first_row(arr, lambda x: _month_out_of_range(x) is not None)
            raise BatchInputError(f"{_at(where, row)}：{_month_out_of_range(value)}")
        return number

    return _np(_via_dictionary(arr, parse), np.int32, 0)


def _codes(col: pa.ChunkedArray, kind: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A district (``code``) or 户籍 (``division``) column: written as text (every CSV column, a
    Parquet text column), each value exactly six ASCII digits, as in a case; then one of the codes
    the kind allows (engine.facts.codes_ok)."""
    if not pa.types.is_integer(col.type):
        if not pc.all(pc.match_substring_regex(col, CODE_TEXT_PATTERN), min_count=0).as_py():
            row, value = _first_row(col, lambda x: not code_text_ok(x))
            raise BatchInputError(f"{_at(where, row)}：{value!r} {_KIND_RULE[kind]}")
        col = pc.cast(col, pa.int64())
    values, known = _np(col, np.int64, 0)
    bad = known & ~codes_ok(kind, values)
    if np.any(bad):
        row = int(np.flatnonzero(bad)[0])
        raise BatchInputError(f"{_at(where, row + 1)}：{int(values[row])} {CODE_RULE[kind]}")
    return values.astype(np.int32), known


def _month_out_of_range(value: str | int) -> OutOfRange | None:
    """The range error of one month of a batch file (already of the column's form), as a case's month
    would be refused (the error path only)."""
    try:
        parse_month(value)
    except OutOfRange as exc:
        return exc
    return None


def _dates(arr: pa.ChunkedArray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A date column: a date (date32, date64), a timestamp, or text YYYY-MM-DD. An integer column
    is refused, whatever its width: int32 was read as days since 1970 (20240101 as the year 57,000,
    7309 silently as 1990-01-05) while int64 was refused."""
    arr = arr.combine_chunks()
    t = arr.type
    if not (
        pa.types.is_date(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_string(t)
        or pa.types.is_large_string(t)
    ):
        raise BatchInputError(f"{where}：列的类型为 {t}，须为日期类型（或 YYYY-MM-DD 文本）")
    if not pa.types.is_date32(arr.type):
        text = pa.types.is_string(t) or pa.types.is_large_string(t)
        try:
            arr = pc.cast(pc.cast(arr, pa.timestamp("s")) if text else arr, pa.date32())
        except pa.ArrowException as exc:
            if not text:
                raise BatchInputError(
                    f"{where}：列的类型为 {arr.type}，须为日期类型（或 YYYY-MM-DD 文本）"
                ) from exc
            row, value = _first_row(arr, lambda x: not _date_text_ok(x))
            raise BatchInputError(f"{_at(where, row)}：{value!r} 须为有效日期 YYYY-MM-DD") from exc
    v, known = _np(pc.cast(arr, pa.int32()), np.int32, 0)
    out = known & ((v < DAY_MIN) | (v > DAY_MAX))
    if np.any(out):
        row = int(np.flatnonzero(out)[0])
        raise BatchInputError(f"{_at(where, row + 1)}：{_day_out_of_range(int(v[row]))}")
    return v, known


def _day_out_of_range(day: int) -> OutOfRange:
    """The range error of a day number outside the supported dates, also of one beyond the years
    Python's dates hold (a date32 of 20240101 days: OverflowError, a traceback)."""
    try:
        return date_out_of_range(from_day(day))
    except OverflowError:
        return OutOfRange(f"第{day}天（自1970-01-01起）", DATE_RANGE_ZH, "日期")


def _date_text_ok(text: str) -> bool:
    """Whether one text of a date column converts as the column does (the error path only)."""
    try:
        pc.cast(pa.array([text]), pa.timestamp("s"))
    except pa.ArrowException:
        return False
    return True


def _enum(arr: pa.ChunkedArray, fact: Fact, where: str) -> tuple[np.ndarray, np.ndarray]:
    def lookup(values: pa.Array) -> pa.Array:
        text = pc.cast(values, pa.string())
        idx = pc.index_in(text, value_set=pa.array(list(fact.choices)))
        bad = pc.and_(pc.is_null(idx), pc.is_valid(text))
        if pc.any(bad).as_py():
            row, first = _first_row(pc.cast(arr, pa.string()), lambda x: x not in fact.choices)
            raise BatchInputError(
                f"{_at(where, row)}：取值 {first!r} 不在允许范围内（{'、'.join(fact.choices)}）"
            )
        return idx

    return _np(_via_dictionary(arr, lookup), np.int32, 0)


def _groups(arr: pa.ChunkedArray, where: str) -> tuple[np.ndarray, np.ndarray]:
    arr = arr.combine_chunks()
    known = ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        arr = pc.split_pattern(pc.fill_null(arr, ""), "|")
    n = len(arr)
    flat = pc.list_flatten(arr)
    parents = np.asarray(pc.list_parent_indices(arr).to_numpy())
    names = list(GROUPS)
    flat_s = pc.utf8_trim_whitespace(pc.cast(flat, pa.string()))
    nonempty = pc.not_equal(flat_s, "")
    flat_s = pc.filter(flat_s, nonempty)
    parents = parents[np.asarray(nonempty.to_numpy(zero_copy_only=False), dtype=bool)]
    idx = pc.index_in(flat_s, value_set=pa.array(names))
    if pc.any(pc.is_null(idx)).as_py():
        k = int(np.flatnonzero(np.asarray(pc.is_null(idx).to_numpy(zero_copy_only=False)))[0])
        raise BatchInputError(
            f"{_at(where, int(parents[k]) + 1)}：未知的人员类别 {flat_s[k].as_py()!r}（可选：{'、'.join(names)}）"
        )
    bits = np.asarray([1 << GROUPS[g][0] for g in names], dtype=np.int64)[np.asarray(idx.to_numpy())]
    mask = np.zeros(n, dtype=np.int64)
    np.bitwise_or.at(mask, parents, bits)
    return mask, known


def _check_texts(arr: pa.Array, check: Callable[[str], object], where: str) -> None:
    """Every distinct text of a formatted column reads (e.g. carriers' schedules), else a Chinese error."""
    for text in pc.unique(arr).to_pylist():  # (in order of first appearance)
        if text:
            try:
                check(text)
            except ValueError as exc:
                row = pc.index(arr, text).as_py() + 1  # (its first row)
                raise BatchInputError(f"{_at(where, row)}：{exc}") from None


def _check_range(values: np.ndarray, known: np.ndarray, check: Callable[[int], object], where: str) -> None:
    """Every known value of an integer column with a range of its own (a year: ``dates.check_year``)
    lies in it, else the check's Chinese error at the first row that does not. The check is of an
    interval: the least and the greatest value passing, every value does (two reductions)."""
    if not known.any():
        return
    given = values[known]
    for value in (int(given.min()), int(given.max())):
        try:
            check(value)
        except ValueError:
            break
    else:
        return
    for row in np.flatnonzero(known).tolist():  # (the error path only)
        try:
            check(int(values[row]))
        except ValueError as exc:
            raise BatchInputError(f"{_at(where, row + 1)}：{exc}") from None


def _ids(arr: pa.ChunkedArray) -> pa.Array:
    return pc.cast(arr.combine_chunks(), pa.string())


def _refs(arr: pa.Array, target_ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the ids in ``arr`` among ``target_ids`` (``index_in``), and where found."""
    values, found = _np(pc.index_in(arr, value_set=target_ids), np.int64, NO_REF)
    return values, found & _valid(arr)


def _run_heads(arr: pa.Array) -> np.ndarray | None:
    """The first row of each run of equal, non-null values (a null is a run of its own), when the
    runs are at most half as many as the rows; else None (looking every row up costs less)."""
    n = len(arr)
    if n < 64 or pa.types.is_dictionary(arr.type):
        return None
    same = pc.fill_null(pc.equal(arr.slice(1), arr.slice(0, n - 1)), False)
    changed = ~np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
    heads = np.flatnonzero(np.concatenate(([True], changed)))
    return heads if len(heads) * 2 <= n else None


_RefDone = Callable[[np.ndarray, np.ndarray, np.ndarray], None]


class _RefLookups:
    """The id columns and the reference columns of the tables being read, resolved at the end.

    Each table's ids and every reference to that table go through one hash pass
    (``dictionary_encode`` of the ids followed by the references): the ids are unique exactly when
    they take the codes 0…n-1 in row order, and a reference's code is then its row number (a code
    ≥ n is an id the table does not have). Checking the ids (``count_distinct``) and looking each
    reference column up (``index_in``) separately built the hash of 3M person ids twelve times,
    ~1 s each. A run of equal ids (a hire's monthly contributions) is looked up once."""

    def __init__(self) -> None:
        self._ids: dict[str, tuple[pa.Array, str]] = {}
        self._pending: dict[str, list[tuple[pa.Array, _RefDone]]] = {}

    def add_ids(self, table: str, arr: pa.Array, where: str) -> None:
        """A table's id column (checked for uniqueness when resolved; nulls are refused now)."""
        # (a quoted "" reads as a known empty text, " " as a blank: no id either, README)
        blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(arr), ""), True)
        if pc.any(blank).as_py():
            row = int(np.flatnonzero(np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool))[0]) + 1
            raise BatchInputError(f"{_at(where, row)}：编号为空（编号须唯一且不能为空）")
        self._ids[table] = (arr, where)

    def add(self, target: str, col: pa.ChunkedArray | pa.Array, done: _RefDone) -> None:
        """Look ``col`` up in ``target``'s ids later; ``done(rows, found, given)`` receives the row
        numbers, where they were found, and where an id was given at all."""
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        self._pending.setdefault(target, []).append((pc.cast(arr, pa.string()), done))

    def resolve(self) -> None:
        """Check every table's ids and resolve every reference; raises on duplicate ids."""
        for target, (ids, where) in self._ids.items():
            items = self._pending.pop(target, [])
            if not items:
                if pc.count_distinct(ids).as_py() != len(ids):
                    raise _repeated_id(ids, where)
                continue
            self._resolve(ids, where, items)
        for items in self._pending.values():  # references to a table that was not supplied
            for a, done in items:
                given = _valid(a)
                done(np.full(len(a), NO_REF, dtype=np.int64), np.zeros(len(a), dtype=bool), given)
        self._pending.clear()

    @staticmethod
    def _resolve(ids: pa.Array, where: str, items: list[tuple[pa.Array, _RefDone]]) -> None:
        n = len(ids)
        parts: list[pa.Array] = [ids]
        runs: list[tuple[np.ndarray, np.ndarray] | None] = []
        for a, _ in items:
            heads = _run_heads(a)
            if heads is None:
                parts.append(a)
                runs.append(None)
            else:
                parts.append(a.take(pa.array(heads)))
                runs.append((heads, np.diff(np.append(heads, len(a)))))
        codes_arr = pc.dictionary_encode(pa.concat_arrays(parts)).indices
        codes = np.asarray(pc.fill_null(codes_arr, -1).to_numpy(zero_copy_only=False), dtype=np.int64)
        if not np.array_equal(codes[:n], np.arange(n, dtype=np.int64)):
            if pc.count_distinct(ids).as_py() != n:
                raise _repeated_id(ids, where)
            # (Unique ids whose codes are not in row order: not Arrow's behaviour today; look up.)
            for a, done in items:
                values, found = _refs(a, ids)
                done(values, found, _valid(a))
            return
        start = n
        for (a, done), part, run in zip(items, parts[1:], runs, strict=True):
            code = codes[start : start + len(part)]
            start += len(part)
            found = (code >= 0) & (code < n)
            values = np.where(found, code, NO_REF)
            if run is not None:
                values, found = np.repeat(values, run[1]), np.repeat(found, run[1])
            done(values, found, _valid(a))


def _repeated_id(ids: pa.Array, where: str) -> BatchInputError:
    """The first id given twice, by the rows of both (the error path only)."""
    seen: dict[str, int] = {}
    for row, value in enumerate(ids.to_pylist(), start=1):
        if value in seen:
            return BatchInputError(
                f"{_at(where, row)}：编号 {value!r} 重复（第{seen[value]}行数据已有），编号须唯一且不能为空"
            )
        seen[value] = row
    return BatchInputError(f"{where}：编号须唯一且不能为空")  # pragma: no cover (not reached)


def _valid(a: pa.Array) -> np.ndarray:
    return np.asarray(a.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


@dataclass
class LoadReport:
    rows: dict[str, int]
    files: dict[str, str]
    unresolved: dict[str, int]
    # Tables with no file in the directory (every fact of theirs unknown: a notice says so) and the
    # other .csv/.parquet files there, not read (a notice names them).
    absent: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def other_files(directory: Path) -> list[str]:
    """The .csv and .parquet files in ``directory`` that are not a table's file (not read). One
    whose name is close to a table with no file of its own is refused as a misspelling: read as
    absent, that table's facts would all be unknown (a missing register makes most results 待定 or
    drops them) with nothing but a notice to say why."""
    names = [
        p.name
        for p in sorted(directory.iterdir())
        if p.is_file() and p.suffix in (".csv", ".parquet") and p.stem not in LOAD_ORDER
    ]
    absent = [t for t in LOAD_ORDER if find_file(directory, t) is None]
    for name in names:
        close = difflib.get_close_matches(Path(name).stem, absent, n=1, cutoff=0.8)
        if close:
            raise BatchInputError(
                f"目录 {directory} 中的文件 {name} 不是数据表的文件名（可用的表见 xiangchuang schema tables）："
                f"是否应为 {close[0]}{Path(name).suffix}？目录中没有 {close[0]} 表的文件，"
                "若按原名运行，该表的全部事实都按“未知”处理；请改正文件名后重新运行"
            )
    return names


def load_directory(
    directory: Path, progress: Callable[[str], None] | None = None
) -> tuple[Facts, LoadReport]:
    """Read every table present in ``directory`` into engine tables (refs resolved)."""
    tables: dict[str, Table] = {}
    ids: dict[str, pa.Array] = {}
    supplied: set[str] = set()
    rows: dict[str, int] = {}
    files: dict[str, str] = {}
    unresolved: dict[str, int] = {}
    raw_received: pa.Table | None = None
    refs = _RefLookups()
    ignored = other_files(directory)
    for name in LOAD_ORDER:
        path = find_file(directory, name)
        if path is None:
            continue
        if progress:
            progress(name)
        data = read_table(path, name)
        files[name] = path.name
        rows[name] = data.num_rows
        if name in OPTIONAL_LONG:
            supplied.add(name)
        if name == "received":
            raw_received = data
        table = Table(name, data.num_rows)
        for fname, fact in FACTS[name].items():
            if fname not in data.column_names:
                continue
            where = f"{path.name} 列 {fname}（{fact.label}）"
            col = _typed(data.column(fname), fact.kind, where)
            if fact.kind in ("id", "text"):
                arr = _ids(col)
                known = _valid(arr)
                if fact.kind == "id":
                    ids[name] = arr
                    refs.add_ids(name, arr, where)  # (refuses an empty id)
                    # Ids as NumPy variable-width strings: 16 bytes an id (inline up to 15 bytes)
                    # against ~65 for a Python str in an object column — ~320 MB less at 1M
                    # businesses. Every reader treats an id as an opaque str (indexing, ==, Arrow).
                    values = arr.to_numpy(zero_copy_only=False).astype(ID_DTYPE)
                else:
                    if fact.check is not None:
                        _check_texts(arr, fact.check, where)
                    values = np.asarray(pc.fill_null(arr, "").to_numpy(zero_copy_only=False), dtype=object)
            elif fact.kind == "ref":
                refs.add(fact.ref or "", col, _set_ref(table, fname, f"{name}.{fname}", unresolved))
                continue
            elif fact.kind == "date":
                values, known = _dates(col, where)
            elif fact.kind == "month":
                values, known = _months(col, where)
            elif fact.kind == "enum":
                values, known = _enum(col, fact, where)
            elif fact.kind == "groups":
                values, known = _groups(col, where)
            elif fact.kind == "bool":
                values, known = _np(col, np.bool_, False)
            elif fact.kind in ("code", "division"):
                values, known = _codes(col, fact.kind, where)
            else:
                values, known = _np(col, np.int64, 0)
                for bad, rule in (
                    (known & (values < 0), "不能为负数"),
                    (known & (values >= INT_LIMIT), "数值过大（须小于10^15）"),
                ):
                    if np.any(bad):
                        row = int(np.flatnonzero(bad)[0])
                        raise BatchInputError(f"{_at(where, row + 1)}：{int(values[row])} {rule}")
                if fact.check is not None:  # (a year: in the supported range, as a case's)
                    _check_range(values, known, fact.check, where)
            table[fname] = Col(values, known)
        # A period given as two months (a hire's claim period): not out of order (README choice 5).
        wrong = period_out_of_order(name, table.cols)
        if wrong is not None:
            row, field, rule = wrong
            raise BatchInputError(
                f"{_at(f'{path.name} 列 {field}（{FACTS[name][field].label}）', row + 1)}：{rule}"
            )
        tables[name] = table
    if raw_received is not None:
        rec = tables["received"]
        subject_row = np.full(rec.n, NO_REF, dtype=np.int64)
        programs = rec["program"].values
        for program, (target, id_field) in RECEIVED_SUBJECT.items():
            sel = np.flatnonzero(programs == program)
            if not sel.size or target not in ids or id_field not in raw_received.column_names:
                continue

            def done(vals: np.ndarray, found: np.ndarray, _given: np.ndarray, sel: np.ndarray = sel) -> None:
                subject_row[sel] = np.where(found, vals, NO_REF)

            refs.add(target, raw_received.column(id_field).take(pa.array(sel)), done)
        rec.cols["subject_row"] = Col(subject_row, np.ones(rec.n, dtype=bool))
    if not files:
        raise BatchInputError(
            f"目录 {directory} 中没有任何输入表：须有 <表名>.parquet 或 <表名>.csv，表名为 {'、'.join(LOAD_ORDER)}"
        )
    refs.resolve()
    _refuse_repeated_keys(tables, files)
    # Arrow's allocator (mimalloc) keeps the freed buffers of the files just read: ~540 MB at 1M
    # businesses, which the evaluation (NumPy, another allocator) can never reuse.
    pa.default_memory_pool().release_unused()
    order = {f"{t}.{c}": (k, j) for k, t in enumerate(LOAD_ORDER) for j, c in enumerate(FACTS[t])}
    unresolved = dict(sorted(unresolved.items(), key=lambda kv: order.get(kv[0], (len(order), 0))))
    absent = [name for name in LOAD_ORDER if name not in files]
    return Facts(tables, supplied), LoadReport(rows, files, unresolved, absent, ignored)


def _refuse_repeated_keys(tables: dict[str, Table], files: dict[str, str]) -> None:
    """A second row of a natural key (a hire's month, a business's year: ``facts.repeated_key``) is
    an error naming the file, both rows and the key, as a repeated id."""

    def id_of(target: str, row: int) -> str:
        return str(tables[target]["id"].values[row])

    for name in NATURAL_KEYS:
        if name not in tables:
            continue
        found = repeated_key(name, tables[name].cols)
        if found is not None:
            row, earlier = found
            rule = repeated_key_rule(name, tables[name].cols, row, f"第{earlier + 1}行数据", id_of)
            raise BatchInputError(f"{files[name]} 第{row + 1}行数据：{rule}")


def _set_ref(table: Table, fname: str, label: str, unresolved: dict[str, int]) -> _RefDone:
    """Store a resolved reference column and count the given ids that name no row."""

    def done(values: np.ndarray, known: np.ndarray, given: np.ndarray) -> None:
        dangling = ~known & given
        missing = int(np.count_nonzero(dangling))
        if missing:
            unresolved[label] = missing
            values = np.where(dangling, UNRESOLVED_REF, values)  # (given, unlike an empty cell)
        table[fname] = Col(values, known)

    return done


# ---- output ------------------------------------------------------------------------------------

MATCH_COLUMNS = (
    "program",
    "subject_table",
    "subject_id",
    "district",
    "status",
    "amount_fen",
    "district_part_fen",
    "eligible_from",
)


def match_rows(outcomes: Iterable[Outcome], include_undetermined: bool = False) -> pa.Table:
    """One row per (subject, program) that is eligible or soon eligible (optionally undetermined)."""
    parts: list[pa.Table] = []
    for o in outcomes:
        t = o.ctx.t
        eligible = o.status == 2
        keep = o.applies & (eligible | o.soon | ((o.status == 1) if include_undetermined else False))
        idx = np.flatnonzero(keep)
        if not idx.size:
            continue
        status = np.where(eligible[idx], "eligible", np.where(o.soon[idx], "soon", "undetermined"))
        # The district the row's values were looked up by (the subject's own, or e.g. the carrier's
        # for the rent reduction's default schedule); empty where it is not known (never 0).
        lookup = o.ctx.lookup_district()
        dcol = lookup[0][idx] if lookup is not None else np.zeros(idx.size, dtype=np.int32)
        dunknown = ~lookup[1][idx] if lookup is not None else np.ones(idx.size, dtype=bool)
        ef = o.eligible_from[idx]
        ef_dates = pa.array(np.where(ef < NEVER, ef, 0).astype(np.int32), type=pa.int32()).cast(pa.date32())
        ef_dates = pc.if_else(pa.array(ef < NEVER), ef_dates, pa.scalar(None, pa.date32()))
        # An eligible row's amount; a 「即将符合」 row's projected amount; none for an undetermined
        # row (unknown is not zero, PROVISIONS §0: what it will get depends on the missing facts).
        amount = np.where(eligible[idx], o.amount[idx], o.amount_out.amount[idx])
        undetermined = ~eligible[idx] & ~o.soon[idx]
        dpart = o.district_part[idx] if o.district_part is not None else np.zeros(idx.size, dtype=np.int64)
        ids = t["id"].values[idx] if "id" in t else idx.astype(str)
        parts.append(
            pa.table(
                {
                    "program": pa.array(np.full(idx.size, o.program.id, dtype=object), pa.string()),
                    "subject_table": pa.array(
                        np.full(idx.size, o.program.subject, dtype=object), pa.string()
                    ),
                    "subject_id": pa.array(ids, pa.string()),
                    "district": pa.array(dcol.astype(np.int32), mask=dunknown),
                    "status": pa.array(status, pa.string()),
                    "amount_fen": pa.array(amount.astype(np.int64), mask=undetermined),
                    # (none where the amount is none: an undetermined row's share is not known)
                    "district_part_fen": pa.array(dpart.astype(np.int64), mask=undetermined),
                    "eligible_from": ef_dates,
                }
            )
        )
    if not parts:
        schema = pa.schema(
            [
                ("program", pa.string()),
                ("subject_table", pa.string()),
                ("subject_id", pa.string()),
                ("district", pa.int32()),
                ("status", pa.string()),
                ("amount_fen", pa.int64()),
                ("district_part_fen", pa.int64()),
                ("eligible_from", pa.date32()),
            ]
        )
        return schema.empty_table()
    return pa.concat_tables(parts)


def check_output(path: Path) -> None:
    """Refuse an output path before any work: the extension, and a directory that can be written."""
    if path.suffix not in (".csv", ".parquet"):
        raise BatchInputError(f"输出文件 {path}：扩展名须为 .csv 或 .parquet")
    if path.is_dir():
        raise BatchInputError(f"输出文件 {path}：这是一个目录，须为文件路径")
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise BatchInputError(f"输出文件 {path}：目录 {parent} 不存在或不可写入")


def write_output(table: pa.Table, path: Path) -> None:
    """Write the result to ``path`` whole or not at all (a temporary file renamed into place)."""
    check_output(path)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        if path.suffix == ".parquet":
            pq.write_table(table, tmp)
        else:
            pacsv.write_csv(table, tmp)
        os.chmod(tmp, _output_mode(path))  # (mkstemp's file is 0600 whatever the umask)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise BatchInputError(f"输出文件 {path}：无法写入（{exc.strerror or exc}）") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _output_mode(path: Path) -> int:
    """The permissions of an output file: those of the file it replaces, else a new file's under the
    process's umask (as ``touch`` or ``synth`` would create it)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0o022)  # (the only way to read it: set, then set back at once)
        os.umask(umask)
        return 0o666 & ~umask


def check_not_input(output: Path, directory: Path) -> None:
    """Refuse an output path that is, or would become, one of the input tables of ``directory``
    (``<table>.csv`` or ``<table>.parquet`` there, also through a symbolic or hard link or another
    spelling of the path): writing it would replace or add to the data being read."""
    target = output.resolve()
    inputs = [directory / f"{t}{ext}" for t in LOAD_ORDER for ext in (".parquet", ".csv")]
    named = target.parent == directory.resolve() and target.name in {p.name for p in inputs}
    if named or (target.exists() and any(p.exists() and os.path.samefile(p, target) for p in inputs)):
        raise BatchInputError(
            f"输出文件 {output}：是输入目录 {directory} 中的输入表文件，写出会覆盖或混入输入数据；"
            "请另选输出文件名或目录"
        )


def summarize(outcomes: Iterable[Outcome]) -> list[dict[str, Any]]:
    out = []
    for o in outcomes:
        a = o.applies
        out.append(
            {
                "program": o.program.id,
                "title": o.program.title,
                "subjects": int(np.count_nonzero(a)),
                "eligible": int(np.count_nonzero(a & (o.status == 2))),
                "soon": int(np.count_nonzero(a & o.soon)),
                "undetermined": int(np.count_nonzero(a & (o.status == 1))),
                "ineligible": int(np.count_nonzero(a & (o.status == 0) & ~o.soon)),
                "amount_fen": int(o.amount[a].sum()),
            }
        )
    return out


_ = (dt, from_day, to_day)
