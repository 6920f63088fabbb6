"""Import registry records from Excel, CSV or Parquet: validate every row, upsert in bulk, report errors.

One import is one transaction owned by the caller (the command): :func:`import_table` never commits.
It runs in two phases:

1. **Validate** the whole file, column by column with Arrow (each distinct value is parsed once, so a
   million rows with a few thousand distinct dates cost a few thousand parses), then resolve references
   with one query per chunk of distinct values, and find duplicate natural keys with an Arrow group-by.
2. **Write** the valid rows in batches: one query fetches the stored rows of the batch by natural key,
   Arrow compares them (inserted / updated / unchanged), and only inserted and changed rows are written —
   SQLite: ``executemany`` of ``INSERT … ON CONFLICT DO UPDATE`` compiled by SQLAlchemy Core;
   PostgreSQL: ``COPY`` into a temporary staging table, then ``INSERT … SELECT … ON CONFLICT DO UPDATE``
   (updates: ``UPDATE … FROM`` the staging table). Unchanged rows are not touched, so re-importing the
   same file changes nothing (ciphertexts, ``updated_at`` included).

The writes run inside a SAVEPOINT: in all-or-nothing mode any row error rolls it back, and only the
ImportBatch log row (status ``rejected``) remains for the caller to commit. Any exception propagates and
the caller's transaction rolls back, leaving the database exactly as before.

Personal data: 身份证号, mobile numbers and bank accounts are validated, encrypted (SM4-GCM) and
indexed (HMAC-SM3) through :class:`~xiangchuang.registry.pii.Pii`; error reports show them masked.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import time
import unicodedata
import uuid
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import openpyxl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from xiangchuang.engine.dates import (
    FIRST_DATE,
    FIRST_MONTH,
    LAST_DATE,
    LAST_MONTH,
    OutOfRange,
    add_months_scalar,
    check_month,
    check_period,
    check_supported,
    date_out_of_range,
    month_out_of_range,
    year_out_of_range,
)
from xiangchuang.engine.districts import codes_by_short_names, district_by_code, is_district
from xiangchuang.engine.schedule import ScheduleError, format_schedule, parse_schedule
from xiangchuang.ids import (
    IdValidationError,
    check_bank_card,
    mask_bank_card,
    mask_name,
    mask_phone,
    mask_resident_id,
    mask_uscc,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)
from xiangchuang.models import Business, Carrier, Employment, ImportBatch, Person, PersonGroup
from xiangchuang.models.grants import ONCE_PER_SUBJECT
from xiangchuang.registry.kinds import (
    GRANT_SUBJECT,
    KINDS,
    PERSON_GROUPS,
    Column,
    KindSpec,
    Ref,
    normalize_header,
)
from xiangchuang.registry.pii import BANK_FIELD, ID_FIELD, PHONE_FIELD, Pii

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ImportFileError",
    "ImportResult",
    "Mode",
    "RowError",
    "Source",
    "import_file",
    "import_table",
    "mobile_e164",
    "parse_district_value",
    "read_source",
    "source_from_table",
    "write_error_report",
]

Mode = Literal["all_or_nothing", "accept_valid"]
Progress = Callable[[str, int, int], None]
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]

DEFAULT_BATCH_SIZE: Final = 10_000
IN_CHUNK: Final = 10_000  # values per IN (...) list: under SQLite's 32,766 and PostgreSQL's 65,535 parameters
PG_ANY_CHUNK: Final = 200_000  # values per ``= ANY(array)`` on PostgreSQL
PG_COPY_MIN_ROWS: Final = 500  # PostgreSQL: at or above this many rows a batch goes through COPY
MAX_REPORT_VALUE: Final = 100
SUFFIXES: Final = (".xlsx", ".csv", ".parquet")
INT_MAX: Final = 2**31 - 1  # INTEGER columns (PostgreSQL refuses more)


class ImportFileError(ValueError):
    """The file cannot be read as an import (type, encoding, structure); message in Chinese."""


class _Invalid(ValueError):
    """A value failed parsing; ``reason`` is Chinese and never contains the full value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: ``row`` as Excel numbers it (header = row 1), the column's header, the
    value (masked for personal data) and the reason in Chinese. ``level`` is 错误 or 提示."""

    row: int
    column: str
    value: str
    reason: str
    level: str = "错误"


@dataclass
class ImportResult:
    kind: str
    file_name: str
    mode: Mode
    status: str = "done"  # done | rejected
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    batch_id: int | None = None
    error_report: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "done"


@dataclass
class Source:
    """A table read from a file: headers as written, one Arrow array per column, Excel row numbers."""

    headers: list[str]
    columns: list[pa.Array]
    rows: Ints
    name: str
    sha256: str

    @property
    def n(self) -> int:
        return len(self.rows)


# ---- reading -----------------------------------------------------------------------------------------


def read_source(path: Path) -> Source:
    """Read ``.xlsx``, ``.csv`` (UTF-8 or GB18030) or ``.parquet``; the content must match the suffix."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportFileError(
            f"不支持的文件类型 {path.suffix or '（无扩展名）'}：仅支持 .xlsx、.csv、.parquet"
        )
    try:
        data = path.read_bytes()
    except OSError:
        raise ImportFileError(f"无法读取文件 {path.name}") from None
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".xlsx":
        if not data.startswith(b"PK\x03\x04"):
            raise ImportFileError(f"{path.name} 不是有效的 Excel（.xlsx）文件")
        return _read_xlsx(data, path.name, digest)
    if suffix == ".parquet":
        if not (data.startswith(b"PAR1") and data.endswith(b"PAR1")):
            raise ImportFileError(f"{path.name} 不是有效的 Parquet 文件")
        try:
            table = pq.read_table(pa.BufferReader(data))
        except (pa.ArrowException, OSError) as exc:
            raise ImportFileError(f"{path.name} 无法按 Parquet 读取：{exc}") from None
        return source_from_table(table, name=path.name, sha256=digest)
    return _read_csv(data, path.name, digest)


def source_from_table(table: pa.Table, *, name: str, sha256: str | None = None) -> Source:
    """An in-memory Arrow table as an import source (row 1 is the header, as in a file)."""
    if sha256 is None:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        sha256 = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    cols = [c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c for c in table.columns]
    cols = [pc.cast(c, c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in cols]
    return Source(
        list(table.column_names), cols, np.arange(2, table.num_rows + 2, dtype=np.int64), name, sha256
    )


def _decode(data: bytes, name: str) -> str:
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{name} 的编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV")


def _read_csv(data: bytes, name: str, digest: str) -> Source:
    if b"\0" in data[:4096]:
        raise ImportFileError(f"{name} 不是文本格式的 CSV 文件")
    text = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError(f"{name} 是空文件") from None
    except csv.Error as exc:
        raise ImportFileError(f"{name} 不是有效的 CSV：{exc}") from None
    width = len(header)
    cols: list[list[str | None]] = [[] for _ in range(width)]
    rows: list[int] = []
    try:
        for i, rec in enumerate(reader, start=2):
            if not rec or all(not v.strip() for v in rec):
                continue
            if len(rec) > width and any(v.strip() for v in rec[width:]):
                raise ImportFileError(f"{name} 第{i}行的列数（{len(rec)}）多于表头（{width}）")
            rows.append(i)
            for j in range(width):
                v = rec[j] if j < len(rec) else ""
                cols[j].append(v if v != "" else None)
    except csv.Error as exc:
        raise ImportFileError(f"{name} 不是有效的 CSV：{exc}") from None
    return Source(
        [h.strip() for h in header],
        [pa.array(c, type=pa.string()) for c in cols],
        np.asarray(rows, dtype=np.int64),
        name,
        digest,
    )


def _cell_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v if v.strip() else None
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return format(v, ".15g")
    return str(v)


def _read_xlsx(data: bytes, name: str, digest: str) -> Source:
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"{name} 无法按 Excel 读取：{exc}") from None
    try:
        sheets = [ws for ws in wb.worksheets if ws.title not in ("说明", "取值")] or list(wb.worksheets)
        if not sheets:
            raise ImportFileError(f"{name} 中没有工作表")
        ws = sheets[0]
        header: list[str] | None = None
        cols: list[list[str | None]] = []
        rows: list[int] = []
        for i, values in enumerate(ws.iter_rows(values_only=True), start=1):
            texts = [_cell_text(v) for v in values]
            if header is None:
                if any(t is not None for t in texts):
                    header = [t.strip() if t else "" for t in texts]
                    while header and not header[-1]:
                        header.pop()
                    cols = [[] for _ in header]
                continue
            if all(t is None for t in texts):
                continue
            if len(texts) > len(header) and any(t is not None for t in texts[len(header) :]):
                raise ImportFileError(f"{name} 第{i}行有表头以外的数据（第{len(header) + 1}列起）")
            rows.append(i)
            for j in range(len(header)):
                cols[j].append(texts[j] if j < len(texts) else None)
    finally:
        wb.close()
    if header is None:
        raise ImportFileError(f"{name} 是空表")
    return Source(
        header,
        [pa.array(c, type=pa.string()) for c in cols],
        np.asarray(rows, dtype=np.int64),
        name,
        digest,
    )


# ---- problems ----------------------------------------------------------------------------------------


class _Problems:
    """Errors and warnings by row index (0-based data row) and field."""

    def __init__(self, n: int) -> None:
        self.bad = np.zeros(n, dtype=bool)
        self.items: list[tuple[int, str, str]] = []
        self.warn_items: list[tuple[int, str, str]] = []
        self.file_items: list[tuple[str, str]] = []
        self.by_field: dict[str, Bools] = {}

    def add(self, idx: Iterable[int] | Ints | int, fld: str, reason: str | Sequence[str]) -> None:
        ids = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        if ids.size == 0:
            return
        self.bad[ids] = True
        self.by_field.setdefault(fld, np.zeros(self.bad.size, dtype=bool))[ids] = True
        if isinstance(reason, str):
            self.items.extend((int(i), fld, reason) for i in ids)
        else:
            self.items.extend((int(i), fld, r) for i, r in zip(ids, reason, strict=True))

    def add_mask(self, mask: Bools, fld: str, reason: str) -> None:
        self.add(np.flatnonzero(mask), fld, reason)

    def warn(self, idx: Ints, fld: str, reason: str) -> None:
        self.warn_items.extend((int(i), fld, reason) for i in np.atleast_1d(idx))

    def file_error(self, column: str, reason: str) -> None:
        self.file_items.append((column, reason))


# ---- value parsers (one call per distinct value) -----------------------------------------------------

_DATE_RE: Final = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
)
_DATE8_RE: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE: Final = re.compile(r"^(\d{5})(?:\.0+)?$")
_MONTH_RE: Final = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))$")
_INT_RE: Final = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_MONEY_RE: Final = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")
_REGNO_RE: Final = re.compile(r"^[0-9A-Z]{8,30}$")
_SCI_RE: Final = re.compile(r"^\d(?:\.\d+)?[eE]\+?\d+$")
_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_TRUE: Final = frozenset({"是", "true", "t", "yes", "y", "1", "有", "√", "✓", "对"})
_FALSE: Final = frozenset({"否", "false", "f", "no", "n", "0", "无", "×", "✗", "不是"})
_DATE_MSG: Final = "日期格式错误：应为 YYYY-MM-DD（或 Excel 日期）"
_MONTH_MSG: Final = "月份格式错误：应为 YYYY-MM 或 YYYYMM"
_REQUIRED_MSG: Final = "必填项不能为空"


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


# Dates, months and years are those of the engine's supported range (engine.dates, README choice 28):
# a row the engine would refuse in a case or a batch file is refused here, in the same words, rather
# than stored and met by ``match --from-db``.


def _in_range(check: Callable[[Any], object], value: Any) -> None:
    """``check`` (engine.dates) of one value; its OutOfRange as the row's reason."""
    try:
        check(value)
    except OutOfRange as exc:
        raise _Invalid(str(exc)) from None


def parse_date_value(u: Any) -> dt.date:
    """A date from a date, an Excel serial number or text (YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年M月D日),
    in the supported range."""
    d = _date_value(u)
    _in_range(check_supported, d)
    return d


def _date_value(u: Any) -> dt.date:
    """:func:`parse_date_value` without the range (a month's date is checked as a month)."""
    if isinstance(u, dt.datetime):
        if u.time() != dt.time(0, 0):
            raise _Invalid("应为日期，不应包含时间")
        return u.date()
    if isinstance(u, dt.date):
        return u
    if isinstance(u, bool):
        raise _Invalid(_DATE_MSG)
    if isinstance(u, int | float) and float(u).is_integer() and 10_000 <= u <= 99_999:
        return _EXCEL_EPOCH + dt.timedelta(days=int(u))
    s = str(u).strip()
    try:
        if m := _DATE_RE.match(s):
            if any(g and int(g) for g in m.groups()[3:]):
                raise _Invalid("应为日期，不应包含时间")
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DATE8_RE.match(s):
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _SERIAL_RE.match(s):
            return _EXCEL_EPOCH + dt.timedelta(days=int(m[1]))
    except _Invalid:
        raise
    except ValueError:
        raise _Invalid("不是有效的日期（月或日超出范围）") from None
    raise _Invalid(_DATE_MSG)


def parse_month_value(u: Any) -> int:
    """A month as YYYYMM from YYYY-MM, YYYYMM, YYYY年M月, a date or an Excel date, in the supported range."""
    if isinstance(u, dt.date):
        year, month = u.year, u.month
    elif isinstance(u, bool):
        raise _Invalid(_MONTH_MSG)
    else:
        s = str(int(u)) if isinstance(u, int | float) and float(u).is_integer() else str(u).strip()
        m = _MONTH_RE.match(s)
        if m:
            year, month = int(m[1]), int(m[2] or m[3])
        else:
            try:
                d = _date_value(s)
            except _Invalid:
                raise _Invalid(_MONTH_MSG) from None
            year, month = d.year, d.month
    if not 1 <= month <= 12:
        raise _Invalid("月份须在1–12之间")
    _in_range(check_month, (year - 1970) * 12 + month - 1)
    return year * 100 + month


def _parse_int(u: Any) -> int:
    if isinstance(u, bool):
        raise _Invalid("须为整数")
    if isinstance(u, int):
        return u
    if isinstance(u, float):
        if u.is_integer():
            return int(u)
        raise _Invalid("须为整数")
    s = str(u).strip().replace(",", "").replace("，", "")
    if not _INT_RE.match(s):
        raise _Invalid("须为整数")
    return int(Decimal(s))


def _parse_bool(u: Any) -> bool:
    if isinstance(u, bool):
        return u
    if isinstance(u, int) and u in (0, 1):
        return bool(u)
    s = _norm(str(u))
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _Invalid("须为“是”或“否”")


def parse_money_value(u: Any, *, yuan: bool) -> int:
    """Exact fen from yuan (≤ 2 decimals) or from fen (integers); never through a float."""
    if isinstance(u, bool):
        raise _Invalid("金额格式错误")
    if isinstance(u, int):
        d = Decimal(u)
    elif isinstance(u, float):
        if u != u or u in (float("inf"), float("-inf")):
            raise _Invalid("金额格式错误")
        d = Decimal(format(u, ".15g"))
    elif isinstance(u, Decimal):
        d = u
    else:
        s = str(u).strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
        s = s.removesuffix("元").strip() if yuan else s.removesuffix("分").strip()
        if not _MONEY_RE.match(s):
            raise _Invalid(
                "金额格式错误：应为数字（元，最多2位小数）" if yuan else "金额格式错误：应为整数（分）"
            )
        try:
            d = Decimal(s)
        except InvalidOperation:
            raise _Invalid("金额格式错误") from None
    fen = d * 100 if yuan else d
    if fen != fen.to_integral_value():
        raise _Invalid("金额最多保留2位小数（精确到分）" if yuan else "金额（分）须为整数")
    value = int(fen)
    if value < 0:
        raise _Invalid("金额不能为负数")
    if value >= 10**15:
        raise _Invalid("金额过大")
    return value


def parse_district_value(u: Any) -> int:
    if isinstance(u, bool):
        raise _Invalid("未知的区县")
    if isinstance(u, int | float) and float(u).is_integer():
        code = int(u)
    else:
        s = str(u).strip()
        if s.isdigit():
            code = int(s)
        else:
            name = s.removeprefix("重庆市").removeprefix("重庆").strip() or s
            try:
                return codes_by_short_names([name])[0]
            except ValueError:
                raise _Invalid("未知的区县名称：应为区县名称（如 万州区）或6位区县代码") from None
    if not is_district(code):
        raise _Invalid(f"未知的区县代码 {code}：应为重庆市41个区县（含功能区）之一")
    return code


def _parse_regno(u: Any) -> str:
    s = (str(int(u)) if isinstance(u, int | float) and float(u).is_integer() else str(u)).strip().upper()
    if not _REGNO_RE.match(s):
        raise _Invalid("注册号格式错误：应为8–30位数字或大写字母")
    return s


def _parse_schedule(u: Any) -> str:
    """The engine's reader decides (one definition); the registry stores the canonical text."""
    try:
        steps = parse_schedule(str(u))
    except ScheduleError as exc:
        raise _Invalid(str(exc)) from None
    if not steps:
        raise _Invalid("减免方案为空")
    return format_schedule(steps)


def mobile_e164(text: str) -> str:
    """The validated E.164 form (kept as the importer's name; the fast path lives in ids.phone)."""
    return validate_mobile(text)


def _id_text(u: Any) -> str:
    s = str(u).strip()
    if _SCI_RE.match(s):
        raise _Invalid("身份证号被存成了数字（精度已丢失）：请把该列设为文本格式后重新填写")
    return s


def _enum_lookup(col: Column) -> dict[str, str]:
    table: dict[str, str] = {}
    for ch in col.choices:
        for name in (ch.code, ch.label, *ch.synonyms):
            table.setdefault(_norm(name), ch.code)
    return table


def _enum_message(col: Column) -> str:
    labels = "、".join(ch.label for ch in col.choices)
    return f"取值不在允许范围内（可选：{labels}）"


# ---- column parsing (Arrow) --------------------------------------------------------------------------


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> Bools:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def _is_textual(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _clean_text(arr: pa.Array) -> pa.Array:
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), type=pa.string())
    if not _is_textual(arr.type):
        arr = pc.cast(arr, pa.string())
    arr = pc.utf8_trim_whitespace(pc.replace_substring(arr, "\x00", ""))  # PostgreSQL refuses NUL in text
    return pc.if_else(pc.equal(arr, ""), pa.scalar(None, type=arr.type), arr)


def _map_unique(
    arr: pa.Array, fn: Callable[[Any], Any], out_type: pa.DataType
) -> tuple[pa.Array, Ints, list[str]]:
    """Apply ``fn`` once per distinct value; returns values, the rows that failed and their reasons."""
    if len(arr) == 0:
        return pa.array([], type=out_type), np.zeros(0, dtype=np.int64), []
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    values: list[Any] = []
    bad: dict[int, str] = {}
    for i, u in enumerate(enc.dictionary.to_pylist()):
        try:
            values.append(fn(u))
        except _Invalid as exc:
            values.append(None)
            bad[i] = exc.reason
        except IdValidationError as exc:
            values.append(None)
            bad[i] = str(exc)
    out = pc.take(pa.array(values, type=out_type), enc.indices)
    if not bad:
        return out, np.zeros(0, dtype=np.int64), []
    codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(np.isin(codes, np.fromiter(bad, dtype=np.int64)))
    return out, rows, [bad[int(c)] for c in codes[rows]]


@dataclass
class _Ctx:
    pii: Pii
    district: int | None
    warnings: list[tuple[Ints, str]] = field(default_factory=list)


def _parse_column(
    col: Column, unit: str | None, raw: pa.Array, ctx: _Ctx, as_ref: bool
) -> tuple[pa.Array, Ints, list[str]]:
    t = raw.type
    kind = col.type
    empty = np.zeros(0, dtype=np.int64)
    if pa.types.is_null(t):
        raw = pa.nulls(len(raw), type=pa.string())
        t = raw.type
    textual = _is_textual(t)
    if textual:
        raw = _clean_text(raw)
    if kind == "text":
        out = raw if textual else _clean_text(raw)
        if col.max_len is not None:
            too_long = _np_bool(pc.greater(pc.utf8_length(out), col.max_len))
            rows = np.flatnonzero(too_long)
            return out, rows, [f"长度不能超过{col.max_len}个字符"] * rows.size
        return out, empty, []
    if kind in ("int", "year"):
        if pa.types.is_integer(t):
            out = pc.cast(raw, pa.int64())
            rows, reasons = empty, list[str]()
        else:
            out, rows, reasons = _map_unique(raw, _parse_int, pa.int64())
        if kind == "year":
            return _years(out, rows, reasons)
        return _range(out, rows, reasons, col.minimum, col.maximum or INT_MAX)
    if kind == "bool":
        if pa.types.is_boolean(t):
            return raw, empty, []
        return _map_unique(raw, _parse_bool, pa.bool_())
    if kind == "date":
        if pa.types.is_date32(t):
            out = raw
        elif pa.types.is_date64(t) or pa.types.is_timestamp(t):
            out = pc.cast(raw, pa.date32())
        else:
            return _map_unique(raw, parse_date_value, pa.date32())
        bad = _np_bool(pc.or_(pc.less(out, pa.scalar(FIRST_DATE)), pc.greater(out, pa.scalar(LAST_DATE))))
        rows = np.flatnonzero(bad)
        return out, rows, [str(date_out_of_range(d)) for d in pc.take(out, pa.array(rows)).to_pylist()]
    if kind == "month":
        if pa.types.is_date32(t) or pa.types.is_timestamp(t):
            out = pc.cast(pc.add(pc.multiply(pc.year(raw), 100), pc.month(raw)), pa.int64())
            return out, *_months_out_of_range(out)
        return _map_unique(raw, parse_month_value, pa.int64())
    if kind == "money":
        yuan = unit != "fen"
        if pa.types.is_integer(t):
            out = pc.cast(raw, pa.int64())
            if yuan:
                out = pc.multiply_checked(out, 100)
            neg = np.flatnonzero(_np_bool(pc.less(out, 0)))
            return out, neg, ["金额不能为负数"] * neg.size
        return _map_unique(raw, lambda u: parse_money_value(u, yuan=yuan), pa.int64())
    if kind == "enum":
        table = _enum_lookup(col)
        msg = _enum_message(col)

        def enum_fn(u: Any) -> str:
            code = table.get(_norm(str(u)))
            if code is None:
                raise _Invalid(msg)
            return code

        return _map_unique(raw, enum_fn, pa.string())
    if kind == "district":
        return _map_unique(raw, parse_district_value, pa.int64())
    if kind == "id_number":
        if as_ref:
            return _map_unique(raw, lambda u: ctx.pii.id_index(_id_text(u)), pa.string())
        return _map_unique(raw, lambda u: validate_resident_id(_id_text(u)).number, pa.string())
    if kind == "phone":
        return _map_unique(raw, lambda u: mobile_e164(_id_text(u)), pa.string())
    if kind == "bank":
        luhn_failed: set[str] = set()

        def bank_fn(u: Any) -> str:
            check = check_bank_card(_id_text(u))
            if check.warning:
                luhn_failed.add(check.number)
            return check.number

        out, rows, reasons = _map_unique(raw, bank_fn, pa.string())
        if luhn_failed:
            warn = np.flatnonzero(_np_bool(pc.is_in(out, value_set=pa.array(sorted(luhn_failed)))))
            ctx.warnings.append((warn, "银行账号未通过Luhn校验，请核对"))
        return out, rows, reasons
    if kind == "uscc":
        return _map_unique(raw, lambda u: validate_uscc(str(u)).code, pa.string())
    if kind == "regno":
        return _map_unique(raw, _parse_regno, pa.string())
    if kind == "schedule":
        return _map_unique(raw, _parse_schedule, pa.string())
    if kind == "groups":
        return _parse_groups(col, raw)
    raise AssertionError(f"unknown column type {kind}")


def _months_out_of_range(out: pa.Array) -> tuple[Ints, list[str]]:
    """The rows of a YYYYMM column (months of dates) outside the supported range's months, and why."""
    v = np.asarray(pc.fill_null(out, 197001).to_numpy(zero_copy_only=False), dtype=np.int64)
    number = (v // 100 - 1970) * 12 + v % 100 - 1
    rows = np.flatnonzero((number < FIRST_MONTH) | (number > LAST_MONTH))
    return rows, [str(month_out_of_range(int(m))) for m in number[rows]]


def _years(out: pa.Array, rows: Ints, reasons: list[str]) -> tuple[pa.Array, Ints, list[str]]:
    """A year column's values outside the years of the supported range as errors (as check_year)."""
    bad = _np_bool(pc.or_(pc.less(out, FIRST_DATE.year), pc.greater(out, LAST_DATE.year)))
    bad[rows] = False
    extra = np.flatnonzero(bad)
    if extra.size == 0:
        return out, rows, reasons
    why = [str(year_out_of_range(y)) for y in pc.take(out, pa.array(extra)).to_pylist()]
    out = pc.if_else(pa.array(bad), pa.scalar(None, type=out.type), out)
    return out, np.concatenate([rows, extra]), [*reasons, *why]


def _range(
    out: pa.Array, rows: Ints, reasons: list[str], lo: int | None, hi: int | None
) -> tuple[pa.Array, Ints, list[str]]:
    bad = np.zeros(len(out), dtype=bool)
    if lo is not None:
        bad |= _np_bool(pc.less(out, lo))
    if hi is not None:
        bad |= _np_bool(pc.greater(out, hi))
    bad[rows] = False
    extra = np.flatnonzero(bad)
    if extra.size == 0:
        return out, rows, reasons
    if lo is not None and hi is not None:
        msg = f"须在{lo}–{hi}之间"
    elif lo is not None:
        msg = f"须不小于{lo}"
    else:
        msg = f"须不大于{hi}"
    out = pc.if_else(pa.array(bad), pa.scalar(None, type=out.type), out)
    return out, np.concatenate([rows, extra]), [*reasons, *([msg] * extra.size)]


def _parse_groups(col: Column, raw: pa.Array) -> tuple[pa.Array, Ints, list[str]]:
    """A list of key groups per row (a list column, or text split on | 、 , ; and spaces)."""
    table = _enum_lookup(col)
    n = len(raw)
    if pa.types.is_list(raw.type) or pa.types.is_large_list(raw.type):
        lists = raw
    else:
        lists = pc.split_pattern_regex(
            raw if _is_textual(raw.type) else pc.cast(raw, pa.string()), r"[|,，、;；/\s]+"
        )
    flat = pc.utf8_trim_whitespace(pc.cast(pc.list_flatten(lists), pa.string()))
    parent = np.asarray(pc.list_parent_indices(lists).to_numpy(zero_copy_only=False), dtype=np.int64)

    def code_of(u: Any) -> str | None:
        if not u:
            return None
        code = table.get(_norm(str(u)))
        if code is None:
            raise _Invalid(str(u))
        return code

    codes, bad, unknown = _map_unique(flat, code_of, pa.string())
    null_rows = _np_bool(pc.is_null(lists))
    rows: list[int] = []
    reasons: list[str] = []
    if bad.size:
        by_row: dict[int, list[str]] = {}
        for i, item in zip(parent[bad], unknown, strict=True):
            by_row.setdefault(int(i), []).append(item)
        allowed = "、".join(c.label for c in col.choices)
        for r, items in sorted(by_row.items()):
            rows.append(r)
            reasons.append(f"未知的人员类别：{'、'.join(dict.fromkeys(items))}（可选：{allowed}）")
        null_rows[np.asarray(rows, dtype=np.int64)] = True
    keep = _np_bool(pc.is_valid(codes)) & ~null_rows[parent] if parent.size else np.zeros(0, dtype=bool)
    counts = np.bincount(parent[keep], minlength=n) if n else np.zeros(0, dtype=np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    out = pa.ListArray.from_arrays(offsets, codes.filter(pa.array(keep)), mask=pa.array(null_rows))
    return out, np.asarray(rows, dtype=np.int64), reasons


# ---- the work of one import --------------------------------------------------------------------------


@dataclass
class _Work:
    spec: KindSpec
    source: Source
    mode: Mode
    ctx: _Ctx
    file_label: str
    headers: dict[str, str] = field(default_factory=dict)  # field → header as in the file
    raw: dict[str, pa.Array] = field(default_factory=dict)
    units: dict[str, str | None] = field(default_factory=dict)
    values: dict[str, pa.Array] = field(default_factory=dict)
    extra: dict[str, dict[str, pa.Array]] = field(default_factory=dict)  # ref field → target columns
    derived: set[str] = field(default_factory=set)  # model fields computed by hooks (always written)
    problems: _Problems = field(init=False)

    def __post_init__(self) -> None:
        self.problems = _Problems(self.source.n)

    @property
    def n(self) -> int:
        return self.source.n

    def present(self, name: str) -> bool:
        return name in self.values

    def header(self, name: str) -> str:
        if name in self.headers:
            return self.headers[name]
        col = self.spec.by_field.get(name)
        return col.display if col else name

    def null(self, name: str) -> Bools:
        if name not in self.values:
            return np.ones(self.n, dtype=bool)
        return _np_bool(pc.is_null(self.values[name]))


def _map_headers(work: _Work) -> list[str]:
    lookup = work.spec.header_lookup()
    ignored: list[str] = []
    for header, arr in zip(work.source.headers, work.source.columns, strict=True):
        hit = lookup.get(normalize_header(header))
        if hit is None:
            if header:
                ignored.append(header)
            continue
        col, unit = hit
        if col.field in work.raw:
            work.problems.file_error(header, f"与“{work.headers[col.field]}”是同一列，请只保留一列")
            continue
        work.headers[col.field] = header
        work.raw[col.field] = arr
        work.units[col.field] = unit
    return ignored


def _ref_by_fields(spec: KindSpec) -> set[str]:
    return {b for r in spec.refs for b in r.by}


def _check_required_columns(work: _Work) -> None:
    spec = work.spec
    by = _ref_by_fields(spec)
    for col in spec.columns:
        if not col.required or col.field in work.raw or col.field in by or col.default is not None:
            continue
        if _is_scope(col) and work.ctx.district is not None:
            continue
        work.problems.file_error(col.display, "缺少必填列")
    for ref in spec.refs:
        if ref.required and not any(b in work.raw for b in ref.by):
            if spec.name == "contributions":
                continue
            names = "、".join(spec.column(b).display for b in ref.by)
            work.problems.file_error(names, f"缺少{ref.label}列：至少需要其中一列")
    if spec.name == "contributions" and "employment_no" not in work.raw:
        person = any(b in work.raw for b in ("id_number", "person_no"))
        business = any(b in work.raw for b in ("uscc", "registration_no", "business_no"))
        if not (person and business):
            work.problems.file_error(
                "用工编号",
                "缺少用工列：需要“用工编号”，或“身份证号/人员编号”和“统一社会信用代码/注册号/主体编号”",
            )


def _parse_all(work: _Work) -> None:
    by = _ref_by_fields(work.spec)
    for name, raw in work.raw.items():
        col = work.spec.column(name)
        values, rows, reasons = _parse_column(col, work.units[name], raw, work.ctx, as_ref=name in by)
        if rows.size:
            work.problems.add(rows, name, reasons)
        work.values[name] = values
    for idx, reason in work.ctx.warnings:
        work.problems.warn(idx, "bank_account", reason)
    work.ctx.warnings.clear()
    # Defaults, scope district, required cells.
    for col in work.spec.columns:
        name = col.field
        if _is_scope(col) and work.ctx.district is not None:
            scope = work.ctx.district
            if name in work.values:
                vals = work.values[name]
                other = _np_bool(pc.not_equal(vals, scope))
                if other.any():
                    label = district_by_code(scope).name
                    work.problems.add_mask(other, name, f"不属于本次导入的区县（{label}）")
                work.values[name] = pc.fill_null(vals, scope)
            elif col.store:
                work.values[name] = pa.array(np.full(work.n, scope, dtype=np.int64))
                work.derived.add(name)
        if col.default is not None and name in work.values:
            work.values[name] = pc.fill_null(work.values[name], pa.scalar(col.default))
        if col.required and name in work.values and name not in by:
            flagged = work.problems.by_field.get(name)
            missing = work.null(name) if flagged is None else work.null(name) & ~flagged
            work.problems.add_mask(missing, name, _REQUIRED_MSG)


def _is_scope(col: Column) -> bool:
    """The district column that ``--district`` fills and restricts (not 户籍所在区县)."""
    return col.field == "district" and col.type == "district"


# ---- references --------------------------------------------------------------------------------------


_TARGET_TABLE: Final[dict[str, Table]] = {
    "person": Person.__table__,  # type: ignore[dict-item]
    "business": Business.__table__,  # type: ignore[dict-item]
    "employment": Employment.__table__,  # type: ignore[dict-item]
    "carrier": Carrier.__table__,  # type: ignore[dict-item]
}
_TARGET_EXTRA: Final[dict[str, tuple[str, ...]]] = {
    "person": ("person_no",),
    "business": ("business_no", "district"),
    "employment": ("business_id", "person_id", "hire_date", "left_on"),
    "carrier": ("carrier_no", "district"),
}
_TARGET_LABEL: Final = {
    "person": "人员",
    "business": "经营主体",
    "employment": "用工记录",
    "carrier": "创业载体",
}
_MISSING_HINT: Final = {
    "person": "请先导入人员",
    "business": "请先导入经营主体",
    "employment": "请先导入用工",
    "carrier": "请先导入创业载体",
}


def _lookup_column(target: str, col: Column) -> str:
    if target == "person":
        return "id_number_bidx" if col.type == "id_number" else "person_no"
    if target == "business":
        return {"uscc": "uscc", "regno": "registration_no"}.get(col.type, "business_no")
    return {"employment": "employment_no", "carrier": "carrier_no"}[target]


def _chunks(values: list[Any], size: int = IN_CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _in(conn: Connection, col: Any, values: list[Any]) -> Any:
    """``col IN (…)``; on PostgreSQL ``col = ANY(:array)`` (one parameter however many values)."""
    if conn.dialect.name == "postgresql":
        return col == sa.any_(sa.literal(values, type_=ARRAY(col.type)))
    return col.in_(values)


def _batches(conn: Connection, values: list[Any]) -> Iterable[list[Any]]:
    """Chunks of values for one IN list each (PostgreSQL: one array for all)."""
    size = PG_ANY_CHUNK if conn.dialect.name == "postgresql" else IN_CHUNK
    return _chunks(values, size)


def _lookup(conn: Connection, target: str, key: str, values: pa.Array) -> pa.Table:
    """Stored rows of ``target`` whose ``key`` is one of ``values`` (distinct, chunked IN lists)."""
    table = _TARGET_TABLE[target]
    extra = _TARGET_EXTRA[target]
    cols: list[Any] = [table.c[key], table.c.id, *(table.c[e] for e in extra)]
    if target == "employment":
        btab = Business.__table__
        cols.append(btab.c.district)
        base = sa.select(*cols).join_from(table, btab, table.c.business_id == btab.c.id)
    else:
        base = sa.select(*cols)
    distinct = pc.unique(pc.drop_null(values)).to_pylist()
    names = ["_key", "id", *extra, *(["district"] if target == "employment" else [])]
    found: list[tuple[Any, ...]] = []
    for chunk in _batches(conn, distinct):
        found.extend(tuple(r) for r in conn.execute(base.where(_in(conn, table.c[key], chunk))))
    types = [_col_type(table, key), *(_col_type(table, n) if n in table.c else pa.int64() for n in names[1:])]
    return _rows_to_table(found, names, types)


def _col_type(table: Table, name: str) -> pa.DataType:
    t = table.c[name].type
    if isinstance(t, sa.Boolean):
        return pa.bool_()
    if isinstance(t, sa.Integer):
        return pa.int64()
    if isinstance(t, sa.Date):
        return pa.date32()
    if isinstance(t, sa.LargeBinary):
        return pa.binary()
    return pa.string()


def _rows_to_table(rows: list[tuple[Any, ...]], names: list[str], types: list[pa.DataType]) -> pa.Table:
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.table({n: pa.array(list(c), type=t) for n, c, t in zip(names, cols, types, strict=True)})


def _resolve_refs(conn: Connection, work: _Work) -> None:
    for ref in work.spec.refs:
        _resolve_ref(conn, work, ref)


def _resolve_ref(conn: Connection, work: _Work, ref: Ref) -> None:
    n = work.n
    ids = np.full(n, -1, dtype=np.int64)
    extras = {e: pa.nulls(n, type=_col_type(_TARGET_TABLE[ref.target], e)) for e in _TARGET_EXTRA[ref.target]}
    if ref.target == "employment":
        extras["district"] = pa.nulls(n, type=pa.int64())
    given_any = np.zeros(n, dtype=bool)
    for by in ref.by:
        if by not in work.values:
            continue
        col = work.spec.column(by)
        vals = work.values[by]
        given = ~work.null(by) & ~work.problems.bad
        given_any |= ~work.null(by)
        if not given.any():
            continue
        found = _lookup(conn, ref.target, _lookup_column(ref.target, col), pc.filter(vals, pa.array(given)))
        pos = pc.fill_null(pc.index_in(vals, value_set=found.column(0), skip_nulls=True), -1)
        pos_np = pos.to_numpy(zero_copy_only=False).astype(np.int64)
        hit = given & (pos_np >= 0)
        miss = given & (pos_np < 0)
        if miss.any():
            work.problems.add_mask(
                miss,
                by,
                f"系统中没有该{col.header}对应的{_TARGET_LABEL[ref.target]}（{_MISSING_HINT[ref.target]}）",
            )
        found_ids = found.column("id").to_numpy(zero_copy_only=False).astype(np.int64)
        row_ids = np.where(hit, found_ids[np.maximum(pos_np, 0)] if found_ids.size else -1, -1)
        clash = hit & (ids >= 0) & (row_ids != ids)
        if clash.any():
            first = next(b for b in ref.by if b in work.values)
            work.problems.add_mask(
                clash, by, f"与“{work.header(first)}”指向的不是同一{_TARGET_LABEL[ref.target]}"
            )
        take = hit & (ids < 0)
        if take.any():
            idx = pa.array(np.where(take, np.maximum(pos_np, 0), 0))
            mask = pa.array(take)
            for e in extras:
                extras[e] = pc.if_else(mask, pc.take(found.column(e), idx), extras[e])
            ids = np.where(take, row_ids, ids)
    if ref.required and ref.target != "employment":
        missing = ~given_any & ~work.problems.bad
        if missing.any():
            names = "或".join(work.spec.column(b).display for b in ref.by)
            work.problems.add_mask(missing, ref.by[0], f"须填写{names}")
    work.values[ref.field] = pa.array(ids, mask=ids < 0)
    work.extra[ref.field] = extras


def _check_scope(work: _Work) -> None:
    scope = work.ctx.district
    if scope is None:
        return
    label = district_by_code(scope).name
    for ref in work.spec.refs:
        if ref.target not in ("business", "employment"):
            continue
        dist = work.extra[ref.field].get("district")
        if dist is None:
            continue
        other = _np_bool(pc.not_equal(dist, scope))
        if other.any():
            col = next((b for b in ref.by if b in work.values and not work.null(b).all()), ref.by[0])
            work.problems.add_mask(
                other & ~work.problems.bad,
                col,
                f"该{_TARGET_LABEL[ref.target]}不属于本次导入的区县（{label}）",
            )


# ---- kind-specific derivations and checks ------------------------------------------------------------


def _order_check(work: _Work, first: str, second: str, reason: str) -> None:
    if first in work.values and second in work.values:
        bad = _np_bool(pc.greater(work.values[first], work.values[second]))
        work.problems.add_mask(bad & ~work.problems.bad, second, reason)


def _hook_persons(work: _Work, conn: Connection) -> None:
    numbers = work.values["id_number"]
    pii = work.ctx.pii
    bidx = _map_unique(numbers, lambda u: pii.cipher.blind_index(u, ID_FIELD), pa.string())[0]
    work.values["id_number_bidx"] = bidx
    ok = ~work.null("id_number")
    birth_text = pc.utf8_slice_codeunits(numbers, 6, 14)
    birth = pc.strptime(birth_text, format="%Y%m%d", unit="s", error_is_null=True)
    birth = pc.cast(birth, pa.date32())
    digit = pc.cast(pc.utf8_slice_codeunits(numbers, 16, 17), pa.int64())
    gender = pc.if_else(pc.equal(pc.bit_wise_and(digit, 1), 1), "M", "F")
    if "birth_date" in work.values:
        differ = _np_bool(pc.not_equal(work.values["birth_date"], birth)) & ok
        work.problems.add_mask(differ & ~work.problems.bad, "birth_date", "与身份证号中的出生日期不一致")
    if "gender" in work.values:
        differ = _np_bool(pc.not_equal(work.values["gender"], gender)) & ok
        work.problems.add_mask(differ & ~work.problems.bad, "gender", "与身份证号中的性别不一致")
    work.values["birth_date"] = birth
    work.values["gender"] = gender
    work.derived.update({"birth_date", "gender", "id_number_bidx"})


def _hook_businesses(work: _Work, conn: Connection) -> None:
    none = work.null("uscc") & work.null("registration_no") & ~work.problems.bad
    if none.any():
        work.problems.add_mask(none, "uscc", "统一社会信用代码和注册号至少填写一项")
    _order_check(work, "registration_date", "deregistration_date", "注销日期早于登记日期")


def _hook_person_groups(work: _Work, conn: Connection) -> None:
    _order_check(work, "since", "until", "截止日期早于起始日期")
    if "since" not in work.values:
        work.values["since"] = pa.nulls(work.n, type=pa.date32())
        work.derived.add("since")


def _hook_founders(work: _Work, conn: Connection) -> None:
    _order_check(work, "since", "until", "截止日期早于起始日期")


def _hook_employments(work: _Work, conn: Connection) -> None:
    if "contract_months" in work.values and "contract_start" in work.values:
        months = work.values["contract_months"].to_pylist()
        starts = work.values["contract_start"].to_pylist()
        ends = work.values["contract_end"].to_pylist() if "contract_end" in work.values else [None] * work.n
        out: list[dt.date | None] = []
        for i, (m, s, e) in enumerate(zip(months, starts, ends, strict=True)):
            derived = (
                add_months_scalar(s, m) - dt.timedelta(days=1) if m is not None and s is not None else None
            )
            if e is not None and derived is not None and e != derived and not work.problems.bad[i]:
                work.problems.add(i, "contract_end", "合同终止日期与合同起始日期、合同期限不一致")
            out.append(e if e is not None else derived)
        work.values["contract_end"] = pa.array(out, type=pa.date32())
        work.derived.add("contract_end")
    _order_check(work, "contract_start", "contract_end", "合同终止日期早于合同起始日期")
    _order_check(work, "hire_date", "left_on", "离职日期早于招用日期")


def _hook_contributions(work: _Work, conn: Connection) -> None:
    emp = _ids(work, "employment_id")
    months = work.values["month"]
    extra = work.extra["employment_id"]
    # Rows given by person + business: the employment in force that month (latest hire date first).
    pid = _ids(work, "person_id")
    bid = _ids(work, "business_id")
    need = (emp < 0) & (pid >= 0) & (bid >= 0) & ~work.problems.bad
    if need.any():
        emp = _match_employments(conn, work, emp, pid, bid, need)
    given = (emp >= 0) | ~work.null("employment_no") | ((pid >= 0) & (bid >= 0))
    missing = ~given & ~work.problems.bad
    if missing.any():
        work.problems.add_mask(
            missing,
            "employment_no",
            "须填写用工编号，或填写身份证号（人员编号）和统一社会信用代码（注册号、主体编号）",
        )
    unmatched = (emp < 0) & (pid >= 0) & (bid >= 0) & ~work.problems.bad
    if unmatched.any():
        col = "id_number" if "id_number" in work.values else "person_no"
        work.problems.add_mask(
            unmatched, col, "该人员在该经营主体于缴费月份没有在职的用工记录（请先导入用工）"
        )
    # Rows given by employment number: consistency and the month within the employment.
    by_no = (emp >= 0) & ~work.null("employment_no")
    if by_no.any():
        e_person = _ids_of(extra["person_id"])
        e_business = _ids_of(extra["business_id"])
        wrong = by_no & (((pid >= 0) & (e_person != pid)) | ((bid >= 0) & (e_business != bid)))
        work.problems.add_mask(
            wrong & ~work.problems.bad, "employment_no", "用工编号与所填人员或经营主体不一致"
        )
        hire = extra["hire_date"]
        hire_month = pc.add(pc.multiply(pc.year(hire), 100), pc.month(hire))
        early = _np_bool(pc.less(months, pc.cast(hire_month, pa.int64()))) & by_no
        work.problems.add_mask(early & ~work.problems.bad, "month", "缴费月份早于该用工的招用日期")
        left = extra["left_on"]
        left_month = pc.add(pc.multiply(pc.year(left), 100), pc.month(left))
        late = _np_bool(pc.greater(months, pc.cast(left_month, pa.int64()))) & by_no
        work.problems.add_mask(late & ~work.problems.bad, "month", "缴费月份晚于该用工的离职日期")
    work.values["employment_id"] = pa.array(emp, mask=emp < 0)


def _ids(work: _Work, name: str) -> Ints:
    if name not in work.values:
        return np.full(work.n, -1, dtype=np.int64)
    return _ids_of(work.values[name])


def _ids_of(arr: pa.Array) -> Ints:
    return np.asarray(pc.fill_null(arr, -1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _match_employments(conn: Connection, work: _Work, emp: Ints, pid: Ints, bid: Ints, need: Bools) -> Ints:
    table = Employment.__table__
    persons = np.unique(pid[need]).tolist()
    rows: list[tuple[Any, ...]] = []
    for chunk in _batches(conn, persons):
        q = sa.select(table.c.id, table.c.person_id, table.c.business_id, table.c.hire_date, table.c.left_on)
        rows.extend(tuple(r) for r in conn.execute(q.where(_in(conn, table.c.person_id, chunk))))
    if not rows:
        return emp
    found = _rows_to_table(
        rows,
        ["eid", "person_id", "business_id", "hire_date", "left_on"],
        [pa.int64(), pa.int64(), pa.int64(), pa.date32(), pa.date32()],
    )
    idx = np.flatnonzero(need)
    month = _ids_of(work.values["month"])[idx]
    m_start = ((month // 100 - 1970) * 12 + month % 100 - 1).astype("datetime64[M]")
    start_day = m_start.astype("datetime64[D]").astype(np.int64)
    end_day = (m_start + 1).astype("datetime64[D]").astype(np.int64) - 1
    q = pa.table(
        {
            "r": pa.array(idx),
            "person_id": pa.array(pid[idx]),
            "business_id": pa.array(bid[idx]),
            "start": pa.array(start_day),
            "end": pa.array(end_day),
        }
    )
    found = found.set_column(3, "hire", pc.cast(pc.cast(found.column("hire_date"), pa.int32()), pa.int64()))
    found = found.set_column(
        4, "left", pc.fill_null(pc.cast(pc.cast(found.column("left_on"), pa.int32()), pa.int64()), 2**40)
    )
    j = q.join(found, keys=["person_id", "business_id"], join_type="inner")
    active = pc.and_(
        pc.less_equal(j.column("hire"), j.column("end")),
        pc.greater_equal(j.column("left"), j.column("start")),
    )
    j = j.filter(active).sort_by([("r", "ascending"), ("hire", "descending")])
    if j.num_rows == 0:
        return emp
    r = j.column("r").to_numpy()
    first = np.concatenate([[True], r[1:] != r[:-1]])
    emp = emp.copy()
    emp[r[first]] = j.column("eid").to_numpy()[first]
    return emp


def _hook_honours(work: _Work, conn: Connection) -> None:
    none = work.null("person_id") & work.null("business_id") & ~work.problems.bad
    first = next(
        (b for b in ("id_number", "person_no", "uscc", "registration_no", "business_no") if b in work.values),
        "id_number",
    )
    work.problems.add_mask(
        none, first, "人员（身份证号/人员编号）和经营主体（统一社会信用代码/注册号/主体编号）至少填写一项"
    )


def _hook_tenancies(work: _Work, conn: Connection) -> None:
    _order_check(work, "start", "end", "退出日期早于入驻日期")


def _hook_credit_ratings(work: _Work, conn: Connection) -> None:
    _hook_honours(work, conn)
    _order_check(work, "rated_on", "valid_until", "有效期早于评定日期")


def _grantee_column(work: _Work) -> str:
    return next((c for c in ("grantee_id_number", "grantee_person_no") if c in work.values), "subject_key")


def _check_period(u: Any) -> str:
    text = str(u)
    _in_range(check_period, text)
    return text


def _hook_grants(work: _Work, conn: Connection) -> None:
    n = work.n
    # A period written as a month range or as a year names months or a year of the supported range,
    # as a register period of a case or a batch file (engine.dates.check_period).
    if "period" in work.values:
        _, bad, reasons = _map_unique(work.values["period"], _check_period, pa.string())
        work.problems.add(bad, "period", reasons)
    programs = work.values["program"].to_pylist()
    kinds = [GRANT_SUBJECT.get(p) if p else None for p in programs]
    work.values["subject_kind"] = pa.array(kinds, type=pa.string())
    work.derived.add("subject_kind")
    # Subject keys: business numbers (or USCC / registration number), person numbers, carrier numbers.
    keys = work.values["subject_key"].to_pylist()
    out: list[str | None] = list(keys)
    for kind in ("business", "person", "carrier"):
        sel = [i for i in range(n) if kinds[i] == kind and keys[i] is not None and not work.problems.bad[i]]
        if not sel:
            continue
        wanted = pa.array([keys[i] for i in sel], type=pa.string())
        hits: dict[str, str] = {}
        if kind == "business":
            for col in ("business_no", "uscc", "registration_no"):
                t = _lookup(conn, "business", col, pc.utf8_upper(wanted) if col != "business_no" else wanted)
                for k, no in zip(t.column(0).to_pylist(), t.column("business_no").to_pylist(), strict=True):
                    hits.setdefault(k, no)
        else:
            t = _lookup(conn, kind, "person_no" if kind == "person" else "carrier_no", wanted)
            hits = {k: k for k in t.column(0).to_pylist()}
        for i in sel:
            hit = hits.get(keys[i]) or hits.get(keys[i].upper())
            if hit is None:
                work.problems.add(i, "subject_key", f"系统中没有该主体编号对应的{_TARGET_LABEL[kind]}")
            else:
                out[i] = hit
    work.values["subject_key"] = pa.array(out, type=pa.string())
    # The person a grant was for (job / social-insurance subsidies: the hired person).
    person = work.extra.get("grantee", {}).get("person_no")
    person = person if person is not None else pa.nulls(n, type=pa.string())
    own = pa.array([k == "person" for k in kinds])
    person = pc.if_else(pc.and_(own, pc.is_null(person)), work.values["subject_key"], person)
    work.values["person_key"] = person
    work.derived.add("person_key")
    job = np.array([p == "job_subsidy" for p in programs]) & work.null("person_key") & ~work.problems.bad
    first = _grantee_column(work)
    work.problems.add_mask(job, first, "岗位补贴须填写享受人员（身份证号或人员编号）")
    startup = np.array([p == "startup_subsidy" for p in programs])
    no_slot = startup & work.null("slot") & ~work.problems.bad
    work.problems.add_mask(no_slot, "slot", "创业补助须填写申领次序（1–3）")
    source = f"import:{work.file_label}"[:40]
    if "source" in work.values:
        work.values["source"] = pc.fill_null(work.values["source"], source)
    else:
        work.values["source_default"] = pa.array([source] * n, type=pa.string())
    # Within the file: the register's other unique rules.
    _dup_check(work, ["program", "subject_key", "slot"], "slot", skip_null=["slot"], what="申领次序")
    once = np.array([p in ONCE_PER_SUBJECT for p in programs])
    _dup_check(work, ["program", "subject_key"], "period", rows=once, what="只能享受一次的项目")
    _dup_check(
        work,
        ["program", "person_key"],
        first,
        rows=np.array([p == "job_subsidy" for p in programs]),
        what="岗位补贴（每人只能享受一次）",
    )


_HOOKS: Final[dict[str, Callable[[_Work, Connection], None]]] = {
    "persons": _hook_persons,
    "person_groups": _hook_person_groups,
    "businesses": _hook_businesses,
    "founders": _hook_founders,
    "employments": _hook_employments,
    "contributions": _hook_contributions,
    "honours": _hook_honours,
    "credit_ratings": _hook_credit_ratings,
    "tenancies": _hook_tenancies,
    "grants": _hook_grants,
}


# ---- duplicates within the file ----------------------------------------------------------------------


def _dup_check(
    work: _Work,
    keys: list[str],
    report_field: str,
    *,
    skip_null: Sequence[str] = (),
    rows: Bools | None = None,
    what: str = "",
) -> None:
    """Later rows repeating an earlier row's ``keys`` are errors naming the earlier row."""
    if not all(k in work.values for k in keys):
        return
    sel = ~work.problems.bad
    if rows is not None:
        sel &= rows
    for k in skip_null:
        sel &= ~work.null(k)
    idx = np.flatnonzero(sel)
    if idx.size < 2:
        return
    key = _key_strings([pc.take(work.values[k], pa.array(idx)) for k in keys])
    t = pa.table({"k": key, "r": pa.array(idx)})
    first = t.group_by(["k"], use_threads=False).aggregate([("r", "min")])
    if first.num_rows == t.num_rows:
        return
    joined = t.join(first, keys=["k"], join_type="left outer")
    r = joined.column("r").to_numpy()
    r0 = joined.column("r_min").to_numpy()
    dup = r != r0
    if not dup.any():
        return
    rows_no = work.source.rows
    label = what or "、".join(work.header(k) for k in keys)
    reasons = [f"与第{rows_no[a]}行重复（{label}相同）" for a in r0[dup]]
    work.problems.add(r[dup], report_field, reasons)


def _check_duplicates(work: _Work) -> None:
    spec = work.spec
    report = {
        "persons": "id_number",
        "businesses": "uscc",
        "carriers": "carrier_no",
        "grants": "period",
        "contributions": "month",
        "business_years": "year",
    }.get(spec.name)
    if spec.name == "businesses":
        _dup_check(work, ["uscc"], "uscc", skip_null=["uscc"], what="统一社会信用代码")
        _dup_check(work, ["registration_no"], "registration_no", skip_null=["registration_no"], what="注册号")
    else:
        field_ = report or next(
            (f for f in reversed(spec.key) if spec.by_field.get(f) is not None and f in work.values),
            spec.key[-1],
        )
        label = spec.key_note
        _dup_check(work, list(spec.key), field_, what=label)
    for u in spec.unique:
        if u in spec.key or (spec.name == "businesses" and u in ("uscc", "registration_no")):
            continue
        if u in work.values:
            _dup_check(work, [u], u, skip_null=[u], what=work.header(u))


# ---- phase 2: match stored rows, classify, write -----------------------------------------------------


def _store_fields(work: _Work) -> list[str]:
    """Model columns this import writes (columns present in the file, resolved references, derived)."""
    table = work.spec.table
    out: list[str] = []
    for name in [c.name for c in table.columns]:
        if name in ("id", "created_at", "updated_at"):
            continue
        col = work.spec.by_field.get(name)
        if (name in work.values and (col is None or col.store)) or name in work.derived:
            out.append(name)
    return out


def _fetch_existing(conn: Connection, work: _Work, batch: pa.Table, cols: list[str]) -> pa.Table:
    spec = work.spec
    table = spec.table
    names = ["id", *cols]
    sel = sa.select(*(table.c[c] for c in names))
    rows: list[tuple[Any, ...]] = []
    if spec.name == "businesses":
        uscc = pc.unique(pc.drop_null(batch.column("uscc"))).to_pylist()
        regno = pc.unique(pc.drop_null(batch.column("registration_no"))).to_pylist()
        for i in range(0, max(len(uscc), len(regno)), IN_CHUNK):
            cond = sa.or_(
                _in(conn, table.c.uscc, uscc[i : i + IN_CHUNK]),
                _in(conn, table.c.registration_no, regno[i : i + IN_CHUNK]),
            )
            rows.extend(tuple(r) for r in conn.execute(sel.where(cond)))
    elif spec.name in ("honours", "credit_ratings"):
        for c in ("person_id", "business_id"):
            vals = pc.unique(pc.drop_null(batch.column(c))).to_pylist()
            for chunk in _batches(conn, vals):
                rows.extend(tuple(r) for r in conn.execute(sel.where(_in(conn, table.c[c], chunk))))
        seen: set[int] = set()
        rows = [r for r in rows if not (r[0] in seen or seen.add(r[0]))]  # type: ignore[func-returns-value]
    elif spec.name == "grants":
        pairs = (
            pa.table({"p": batch.column("program"), "s": batch.column("subject_key")})
            .group_by(["p", "s"])
            .aggregate([])
        )
        tuples = list(zip(pairs.column("p").to_pylist(), pairs.column("s").to_pylist(), strict=True))
        for chunk in _chunks(tuples, IN_CHUNK // 2):
            cond = sa.tuple_(table.c.program, table.c.subject_key).in_(chunk)
            rows.extend(tuple(r) for r in conn.execute(sel.where(cond)))
    else:
        lookup = {"employments": "person_id", "carriers": "carrier_no"}.get(spec.name, spec.key[0])
        vals = pc.unique(pc.drop_null(batch.column(lookup))).to_pylist()
        for chunk in _batches(conn, vals):
            rows.extend(tuple(r) for r in conn.execute(sel.where(_in(conn, table.c[lookup], chunk))))
    return _rows_to_table(rows, names, [_col_type(table, c) for c in names])


def _key_strings(cols: Sequence[pa.Array | pa.ChunkedArray]) -> pa.Array:
    parts = [pc.fill_null(pc.cast(c, pa.string()), "\x00") for c in cols]
    out = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _match(work: _Work, batch: pa.Table, existing: pa.Table, local: Ints) -> Ints:
    """Position in ``existing`` of each batch row (-1: new)."""
    if existing.num_rows == 0:
        return np.full(batch.num_rows, -1, dtype=np.int64)
    if work.spec.name == "businesses":
        pu = _ids_of(pc.index_in(batch.column("uscc"), value_set=existing.column("uscc"), skip_nulls=True))
        pr = _ids_of(
            pc.index_in(
                batch.column("registration_no"), value_set=existing.column("registration_no"), skip_nulls=True
            )
        )
        both = (pu >= 0) & (pr >= 0) & (pu != pr)
        work.problems.add(local[both], "registration_no", "统一社会信用代码与注册号分属两个已登记的主体")
        e_uscc = existing.column("uscc").to_pylist()
        b_uscc = batch.column("uscc").to_pylist()
        other = np.array(
            [
                pu[i] < 0 <= pr[i] and b_uscc[i] is not None and e_uscc[pr[i]] not in (None, b_uscc[i])
                for i in range(len(pu))
            ],
            dtype=bool,
        )
        work.problems.add(local[other], "registration_no", "该注册号已登记在统一社会信用代码不同的主体下")
        return np.where(pu >= 0, pu, pr)
    keys = list(work.spec.key)
    bk = _key_strings([batch.column(k) for k in keys])
    ek = _key_strings([existing.column(k) for k in keys])
    return _ids_of(pc.index_in(bk, value_set=ek))


def _same(a: pa.Array | pa.ChunkedArray, b: pa.Array | pa.ChunkedArray) -> Bools:
    eq = _np_bool(pc.equal(a, b))
    both_null = _np_bool(pc.and_(pc.is_null(a), pc.is_null(b)))
    return eq | both_null


@dataclass
class _Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


class _Writer:
    """Inserts and updates of one import; PostgreSQL batches go through COPY and staging tables."""

    def __init__(self, conn: Connection, spec: KindSpec) -> None:
        self.conn = conn
        self.spec = spec
        self.pg = conn.dialect.name == "postgresql"
        self.token = uuid.uuid4().hex[:8]
        self.staged: set[str] = set()

    def _conflict(self, rows: pa.Table) -> list[tuple[tuple[str, ...] | None, pa.Table]]:
        groups: list[tuple[tuple[str, ...] | None, pa.Table]] = []
        rest = rows
        for key in self.spec.conflict_keys:
            if not all(k in rest.column_names for k in key):
                continue
            full = np.ones(rest.num_rows, dtype=bool)
            for k in key:
                full &= ~_np_bool(pc.is_null(rest.column(k)))
            if full.any():
                groups.append((key, rest.filter(pa.array(full))))
            rest = rest.filter(pa.array(~full))
            if rest.num_rows == 0:
                break
        if rest.num_rows:
            groups.append((None, rest))
        return groups

    def insert(self, rows: pa.Table) -> None:
        if rows.num_rows == 0:
            return
        for key, part in self._conflict(rows):
            if self.pg and part.num_rows >= PG_COPY_MIN_ROWS:
                self._pg_insert_copy(part, key)
            else:
                self._insert_many(part, key)

    def update(self, rows: pa.Table) -> None:
        if rows.num_rows == 0 or rows.num_columns <= 1:
            return
        if self.pg and rows.num_rows >= PG_COPY_MIN_ROWS:
            self._pg_update_copy(rows)
            return
        table = self.spec.table
        cols = [c for c in rows.column_names if c != "id"]
        stmt = (
            sa.update(table)
            .where(table.c.id == sa.bindparam("v_id"))
            .values({c: sa.bindparam(f"v_{c}") for c in cols})
        )
        self.conn.execute(stmt, _records(rows.rename_columns([f"v_{c}" for c in rows.column_names])))

    def _set_clause(self, stmt: Any, cols: list[str], key: tuple[str, ...]) -> dict[str, Any]:
        table = self.spec.table
        set_ = {c: stmt.excluded[c] for c in cols if c not in key}
        if set_ and "updated_at" in table.c:
            set_["updated_at"] = sa.func.now()
        return set_

    def _insert_many(self, rows: pa.Table, key: tuple[str, ...] | None) -> None:
        table = self.spec.table
        cols = rows.column_names
        if self.conn.dialect.name == "sqlite":
            stmt: Any = sqlite_insert(table)
            if key is not None:
                set_ = self._set_clause(stmt, cols, key)
                stmt = (
                    stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
                    if set_
                    else stmt.on_conflict_do_nothing(index_elements=list(key))
                )
            compiled = stmt.compile(dialect=self.conn.dialect, column_keys=list(cols))
            order = list(compiled.positiontup or [])
            data = _tuples(rows, order)
            self.conn.exec_driver_sql(compiled.string, data)
            return
        stmt = pg_insert(table)
        if key is not None:
            set_ = self._set_clause(stmt, cols, key)
            stmt = (
                stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
                if set_
                else stmt.on_conflict_do_nothing(index_elements=list(key))
            )
        self.conn.execute(stmt, _records(rows))

    def _stage(self, rows: pa.Table, purpose: str) -> Any:
        table = self.spec.table
        cols = rows.column_names
        digest = hashlib.sha256(",".join(cols).encode()).hexdigest()[:8]
        name = f"_xc_{purpose}_{table.name}_{self.token}_{digest}"
        collist = ", ".join(f'"{c}"' for c in cols)
        if name not in self.staged:
            self.conn.exec_driver_sql(
                f'CREATE TEMP TABLE "{name}" ON COMMIT DROP AS SELECT {collist} FROM "{table.name}" WITH NO DATA'
            )
            self.staged.add(name)
        else:
            self.conn.exec_driver_sql(f'TRUNCATE "{name}"')
        buf = io.BytesIO()
        pacsv.write_csv(_for_copy(rows), buf, pacsv.WriteOptions(include_header=False))
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f'COPY "{name}" ({collist}) FROM STDIN (FORMAT csv)') as copy:  # type: ignore[union-attr]
            copy.write(buf.getvalue())
        return sa.table(name, *(sa.column(c) for c in cols))

    def _pg_insert_copy(self, rows: pa.Table, key: tuple[str, ...] | None) -> None:
        table = self.spec.table
        cols = rows.column_names
        stage = self._stage(rows, "i")
        stmt: Any = pg_insert(table).from_select(cols, sa.select(*(stage.c[c] for c in cols)))
        if key is not None:
            set_ = self._set_clause(stmt, cols, key)
            stmt = (
                stmt.on_conflict_do_update(index_elements=list(key), set_=set_)
                if set_
                else stmt.on_conflict_do_nothing(index_elements=list(key))
            )
        self.conn.execute(stmt)

    def _pg_update_copy(self, rows: pa.Table) -> None:
        table = self.spec.table
        cols = [c for c in rows.column_names if c != "id"]
        stage = self._stage(rows, "u")
        stmt = sa.update(table).where(table.c.id == stage.c.id).values({c: stage.c[c] for c in cols})
        self.conn.execute(stmt)


def _for_copy(rows: pa.Table) -> pa.Table:
    for i, f in enumerate(rows.schema):
        if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type):
            hexed = [None if b is None else "\\x" + b.hex() for b in rows.column(i).to_pylist()]
            rows = rows.set_column(i, f.name, pa.array(hexed, type=pa.string()))
    return rows


def _records(rows: pa.Table) -> list[dict[str, Any]]:
    return rows.to_pylist()  # type: ignore[no-any-return]


def _tuples(rows: pa.Table, order: list[str]) -> list[tuple[Any, ...]]:
    cols: list[list[Any]] = []
    for name in order:
        col = rows.column(name)
        if pa.types.is_date32(col.type):
            col = pc.cast(col, pa.string())
        cols.append(col.to_pylist())
    return list(zip(*cols, strict=True))


def _flush(conn: Connection, writer: _Writer, inserts: pa.Table, updates: pa.Table) -> None:
    """Write one batch (the point where a failure is injected in tests)."""
    writer.update(updates)
    writer.insert(inserts)


def _derive_numbers(work: _Work, rows: pa.Table) -> pa.Table:
    """Fill blank person_no / business_no / employment_no of rows being inserted."""
    name = work.spec.name
    target = {"persons": "person_no", "businesses": "business_no", "employments": "employment_no"}.get(name)
    if target is None or rows.num_rows == 0:
        return rows
    cur = rows.column(target).to_pylist() if target in rows.column_names else [None] * rows.num_rows
    for i, v in enumerate(cur):
        if v is not None:
            continue
        if name == "persons":
            cur[i] = "P" + str(rows.column("id_number_bidx")[i].as_py())[:15].upper()
        elif name == "businesses":
            cur[i] = rows.column("uscc")[i].as_py() or rows.column("registration_no")[i].as_py()
        else:
            basis = ":".join(
                str(rows.column(c)[i].as_py()) for c in ("business_id", "person_id", "hire_date")
            )
            cur[i] = "E" + hashlib.sha256(basis.encode()).hexdigest()[:15].upper()
    arr = pa.array(cur, type=pa.string())
    if target in rows.column_names:
        return rows.set_column(rows.column_names.index(target), target, arr)
    return rows.append_column(target, arr)


def _persons_pii(
    work: _Work, batch_idx: Ints, rows: pa.Table, existing: pa.Table, pos: Ints
) -> tuple[pa.Table, Bools]:
    """Phone and bank-account comparison by blind index / plaintext; ciphertexts for what is written."""
    cipher = work.ctx.pii.cipher
    n = rows.num_rows
    changed = np.zeros(n, dtype=bool)
    matched = pos >= 0
    safe = pa.array(np.maximum(pos, 0))
    numbers = pc.take(work.values["id_number"], pa.array(batch_idx)).to_pylist()
    id_enc = [None if matched[i] else cipher.encrypt(numbers[i], ID_FIELD) for i in range(n)]
    rows = rows.append_column("id_number_enc", pa.array(id_enc, type=pa.binary()))
    if "phone" in work.values:
        phones = pc.take(work.values["phone"], pa.array(batch_idx)).to_pylist()
        bidx = [None if p is None else cipher.blind_index(p, PHONE_FIELD) for p in phones]
        old_bidx = (
            pc.take(existing.column("phone_bidx"), safe).to_pylist() if existing.num_rows else [None] * n
        )
        old_enc = pc.take(existing.column("phone_enc"), safe).to_pylist() if existing.num_rows else [None] * n
        enc: list[bytes | None] = []
        for i in range(n):
            same = matched[i] and old_bidx[i] == bidx[i]
            if matched[i] and not same:
                changed[i] = True
            if phones[i] is None:
                enc.append(None)
            elif same:
                enc.append(old_enc[i])
            else:
                enc.append(cipher.encrypt(phones[i], PHONE_FIELD))
        rows = rows.append_column("phone_bidx", pa.array(bidx, type=pa.string()))
        rows = rows.append_column("phone_enc", pa.array(enc, type=pa.binary()))
    if "bank_account" in work.values:
        banks = pc.take(work.values["bank_account"], pa.array(batch_idx)).to_pylist()
        old = (
            pc.take(existing.column("bank_account_enc"), safe).to_pylist()
            if existing.num_rows
            else [None] * n
        )
        benc: list[bytes | None] = []
        for i in range(n):
            prev = old[i] if matched[i] else None
            if banks[i] is None:
                benc.append(None)
                changed[i] |= bool(matched[i] and prev is not None)
                continue
            if prev is not None and cipher.decrypt(prev, BANK_FIELD) == banks[i]:
                benc.append(prev)
                continue
            changed[i] |= bool(matched[i])
            benc.append(cipher.encrypt(banks[i], BANK_FIELD))
        rows = rows.append_column("bank_account_enc", pa.array(benc, type=pa.binary()))
        # Blind index of the account (monitoring: the same account across many applicants).
        bank_bidx = [None if b is None else cipher.blind_index(b, BANK_FIELD) for b in banks]
        rows = rows.append_column("bank_account_bidx", pa.array(bank_bidx, type=pa.string()))
    return rows, changed


def _person_group_rows(
    conn: Connection,
    work: _Work,
    batch_idx: Ints,
    rows: pa.Table,
    writer_factory: Callable[[KindSpec], _Writer],
) -> Bools:
    """Add the listed key groups a person does not have yet (any dates); returns rows that gained one."""
    gained = np.zeros(rows.num_rows, dtype=bool)
    if "groups" not in work.values:
        return gained
    groups = pc.take(work.values["groups"], pa.array(batch_idx)).to_pylist()
    want = [i for i, g in enumerate(groups) if g]
    if not want:
        return gained
    table = Person.__table__
    bidx = [rows.column("id_number_bidx")[i].as_py() for i in want]
    ids: dict[str, int] = {}
    for chunk in _batches(conn, bidx):
        for b, pid in conn.execute(
            sa.select(table.c.id_number_bidx, table.c.id).where(_in(conn, table.c.id_number_bidx, chunk))
        ):
            ids[b] = pid
    pg_t = PersonGroup.__table__
    have: set[tuple[int, str]] = set()
    for chunk in _batches(conn, list(ids.values())):
        have.update(
            (pid, code)
            for pid, code in conn.execute(
                sa.select(pg_t.c.person_id, pg_t.c.group_code).where(_in(conn, pg_t.c.person_id, chunk))
            )
        )
    new_pid: list[int] = []
    new_code: list[str] = []
    for i, b in zip(want, bidx, strict=True):
        pid = ids.get(b)
        if pid is None:
            continue
        for code in groups[i] or []:
            if (pid, code) not in have:
                new_pid.append(pid)
                new_code.append(code)
                have.add((pid, code))
                gained[i] = True
    if new_pid:
        add = pa.table(
            {
                "person_id": pa.array(new_pid, type=pa.int64()),
                "group_code": pa.array(new_code, type=pa.string()),
                "since": pa.nulls(len(new_pid), type=pa.date32()),
            }
        )
        writer_factory(PERSON_GROUPS).insert(add)
    return gained


def _grant_conflicts(
    conn: Connection, work: _Work, batch: pa.Table, existing: pa.Table, pos: Ints, local: Ints
) -> None:
    """The register's unique rules against stored grants (other rows than the one being upserted)."""
    if existing.num_rows == 0 and not any(p == "job_subsidy" for p in batch.column("program").to_pylist()):
        return
    e_id = existing.column("id").to_pylist()
    e_prog = existing.column("program").to_pylist()
    e_subj = existing.column("subject_key").to_pylist()
    e_slot = existing.column("slot").to_pylist() if "slot" in existing.column_names else [None] * len(e_id)
    by_pair: dict[tuple[str, str], list[int]] = {}
    for j, key in enumerate(zip(e_prog, e_subj, strict=True)):
        by_pair.setdefault(key, []).append(j)
    progs = batch.column("program").to_pylist()
    subjs = batch.column("subject_key").to_pylist()
    slots = batch.column("slot").to_pylist() if "slot" in batch.column_names else [None] * batch.num_rows
    persons = batch.column("person_key").to_pylist()
    for i, (p, s) in enumerate(zip(progs, subjs, strict=True)):
        own = e_id[pos[i]] if pos[i] >= 0 else None
        for j in by_pair.get((p, s), []):
            if e_id[j] == own:
                continue
            if p in ONCE_PER_SUBJECT:
                work.problems.add(local[i], "period", "该主体已享受过该项目（只能享受一次）")
                break
            if slots[i] is not None and e_slot[j] == slots[i]:
                work.problems.add(local[i], "slot", f"该主体的第{slots[i]}次申领已登记")
                break
    jobs = [(i, persons[i]) for i, p in enumerate(progs) if p == "job_subsidy" and persons[i] is not None]
    if jobs:
        g = work.spec.table
        keys = sorted({k for _, k in jobs})
        taken: dict[str, int] = {}
        for chunk in _batches(conn, keys):
            q = sa.select(g.c.person_key, g.c.id).where(
                g.c.program == "job_subsidy", _in(conn, g.c.person_key, chunk)
            )
            taken.update({k: gid for k, gid in conn.execute(q)})
        for i, k in jobs:
            own = e_id[pos[i]] if pos[i] >= 0 else None
            if k in taken and taken[k] != own:
                col = _grantee_column(work)
                work.problems.add(local[i], col, "该人员已享受过岗位补贴（每人只能享受一次）")


def _unique_conflicts(
    conn: Connection, work: _Work, batch: pa.Table, existing: pa.Table, pos: Ints, local: Ints
) -> None:
    table = work.spec.table
    for u in work.spec.unique:
        if u in ("uscc", "registration_no") or u not in batch.column_names:
            continue
        vals = batch.column(u)
        found: dict[Any, int] = {}
        for chunk in _batches(conn, pc.unique(pc.drop_null(vals)).to_pylist()):
            found.update(
                {
                    k: i
                    for k, i in conn.execute(
                        sa.select(table.c[u], table.c.id).where(_in(conn, table.c[u], chunk))
                    )
                }
            )
        if not found:
            continue
        e_ids = existing.column("id").to_pylist()
        for i, v in enumerate(vals.to_pylist()):
            if v is None or v not in found:
                continue
            own = e_ids[pos[i]] if pos[i] >= 0 else None
            if found[v] != own:
                work.problems.add(local[i], u, f"该{work.header(u)}已被其他记录使用")


def _write_phase(
    conn: Connection,
    work: _Work,
    *,
    write: bool,
    batch_size: int,
    progress: Progress | None,
) -> _Counts:
    spec = work.spec
    table = spec.table
    counts = _Counts()
    fields = _store_fields(work)
    match_only = [c for c in ("uscc", "registration_no") if spec.name == "businesses" and c not in fields]
    defaults = [
        c.field
        for c in spec.columns
        if c.store and c.field not in fields and c.field in table.c and c.default is not None
    ]
    compare = fields if spec.name == "businesses" else [f for f in fields if f not in spec.key]
    fetch_cols = list(dict.fromkeys([*spec.key, *compare, *spec.unique, *spec.keep_if_blank]))
    if spec.name == "persons":
        fetch_cols += ["phone_bidx", "phone_enc"] if "phone" in work.values else []
        fetch_cols += ["bank_account_enc"] if "bank_account" in work.values else []
    if spec.name == "grants":
        fetch_cols += ["slot", "program", "subject_key"]
    fetch_cols = [c for c in dict.fromkeys(fetch_cols) if c in table.c and c != "id"]
    valid = np.flatnonzero(~work.problems.bad)
    total = int(valid.size)
    writer = _Writer(conn, spec)
    writers: dict[str, _Writer] = {spec.name: writer}

    def writer_for(s: KindSpec) -> _Writer:
        return writers.setdefault(s.name, _Writer(conn, s))

    if progress:
        progress("写入", 0, total)
    for start in range(0, total, batch_size):
        local = valid[start : start + batch_size]
        take = pa.array(local)
        batch = pa.table({f: pc.take(work.values[f], take) for f in fields})
        for c in match_only:
            batch = batch.append_column(
                c, pc.take(work.values[c], take) if c in work.values else pa.nulls(len(local), pa.string())
            )
        existing = _fetch_existing(conn, work, batch, fetch_cols)
        pos = _match(work, batch, existing, local)
        _unique_conflicts(conn, work, batch, existing, pos, local)
        if spec.name == "grants":
            _grant_conflicts(conn, work, batch, existing, pos, local)
        keep = ~work.problems.bad[local]
        if not keep.all():
            batch, pos, local = batch.filter(pa.array(keep)), pos[keep], local[keep]
        matched = pos >= 0
        has_existing = existing.num_rows > 0
        safe = pa.array(np.maximum(pos, 0))
        # A blank cell in a keep-if-blank column keeps the stored value.
        for f in spec.keep_if_blank:
            if f in batch.column_names and has_existing:
                stored = pc.take(existing.column(f), safe)
                filled = pc.if_else(pa.array(matched), pc.coalesce(batch.column(f), stored), batch.column(f))
                batch = batch.set_column(batch.column_names.index(f), f, filled)
        changed = np.zeros(batch.num_rows, dtype=bool)
        if has_existing:
            for f in compare:
                changed |= ~_same(batch.column(f), pc.take(existing.column(f), safe))
        if spec.name == "persons":
            batch, pii_changed = _persons_pii(work, local, batch, existing, pos)
            changed |= pii_changed
        new = ~matched
        upd = matched & changed
        ins_rows = _derive_numbers(work, batch.filter(pa.array(new)))
        for f in defaults:
            default = spec.column(f).default
            ins_rows = ins_rows.append_column(
                f, pa.array([default] * ins_rows.num_rows, type=_col_type(table, f))
            )
        if spec.name == "grants" and "source_default" in work.values:
            ins_rows = ins_rows.append_column(
                "source", pc.take(work.values["source_default"], pa.array(local[new]))
            )
        ins_rows = ins_rows.select([c for c in ins_rows.column_names if c in table.c])
        upd_cols = [
            c for c in batch.column_names if c in table.c and c != "id_number_enc" and c not in match_only
        ]
        upd_rows = batch.select(upd_cols).filter(pa.array(upd))
        upd_ids = (
            pc.take(existing.column("id"), pa.array(pos[upd])) if upd.any() else pa.array([], pa.int64())
        )
        upd_rows = upd_rows.append_column("id", upd_ids)
        if write and work.mode == "all_or_nothing" and work.problems.bad.any():
            write = False  # the savepoint will be rolled back: stop writing, keep checking
        if write:
            _flush(conn, writer, ins_rows, upd_rows)
            if spec.name == "persons":
                gained = _person_group_rows(conn, work, local, batch, writer_for)
                upd |= gained & matched & ~changed
        counts.inserted += int(new.sum())
        counts.updated += int(upd.sum())
        counts.unchanged += int((matched & ~upd).sum())
        if progress:
            progress("写入", min(start + batch_size, total), total)
    return counts


# ---- the import --------------------------------------------------------------------------------------


def import_table(
    conn: Connection,
    *,
    kind: str,
    source: Source,
    pii: Pii,
    mode: Mode = "all_or_nothing",
    district: int | None = None,
    error_report: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate and upsert ``source`` as records of ``kind`` inside the caller's transaction.

    Never commits. Writes happen in a SAVEPOINT that is rolled back when ``mode`` is all-or-nothing and
    any row fails; an ImportBatch row logs the outcome either way. ``error_report`` is only recorded in
    the log (write the report with :func:`write_error_report`).
    """
    t0 = time.perf_counter()
    spec = KINDS.get(kind)
    if spec is None:
        raise ImportFileError(f"未知的记录类别 {kind}：可选 {'、'.join(KINDS)}")
    if mode not in ("all_or_nothing", "accept_valid"):
        raise ImportFileError(f"未知的导入模式 {mode}")
    if district is not None and not is_district(district):
        raise ImportFileError(f"未知的区县代码 {district}")
    if batch_size < 1:
        raise ImportFileError("批大小须为正整数")
    work = _Work(spec, source, mode, _Ctx(pii, district), source.name)
    result = ImportResult(kind=kind, file_name=source.name, mode=mode, total=source.n)
    result.ignored_columns = _map_headers(work)
    _check_required_columns(work)
    if not work.problems.file_items:
        if progress:
            progress("校验", 0, source.n)
        _parse_all(work)
        _resolve_refs(conn, work)
        _check_scope(work)
        hook = _HOOKS.get(spec.name)
        if hook:
            hook(work, conn)
        _check_duplicates(work)
        if progress:
            progress("校验", source.n, source.n)
        write = not (mode == "all_or_nothing" and work.problems.bad.any())
        savepoint = conn.begin_nested()
        try:
            counts = _write_phase(conn, work, write=write, batch_size=batch_size, progress=progress)
        except BaseException:
            savepoint.rollback()
            raise
        if mode == "all_or_nothing" and work.problems.bad.any():
            savepoint.rollback()
            result.status = "rejected"
        else:
            savepoint.commit()
            result.inserted, result.updated, result.unchanged = (
                counts.inserted,
                counts.updated,
                counts.unchanged,
            )
    else:
        result.status = "rejected"
    result.rejected = int(work.problems.bad.sum()) if not work.problems.file_items else source.n
    result.errors, result.warnings = _materialize(work)
    if (result.errors or result.warnings) and error_report:
        result.error_report = error_report
    result.batch_id = _log_batch(conn, result, source.sha256)
    result.seconds = time.perf_counter() - t0
    return result


def import_file(
    conn: Connection,
    *,
    kind: str,
    path: Path,
    pii: Pii,
    mode: Mode = "all_or_nothing",
    district: int | None = None,
    error_report: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Progress | None = None,
) -> ImportResult:
    """Read ``path`` and :func:`import_table` it."""
    source = read_source(path)
    return import_table(
        conn,
        kind=kind,
        source=source,
        pii=pii,
        mode=mode,
        district=district,
        error_report=error_report,
        batch_size=batch_size,
        progress=progress,
    )


def _log_batch(conn: Connection, result: ImportResult, sha256: str) -> int:
    res = conn.execute(
        sa.insert(ImportBatch).values(
            kind=result.kind,
            file_name=result.file_name[:255],
            sha256=sha256,
            mode=result.mode,
            status=result.status,
            inserted=result.inserted,
            updated=result.updated,
            unchanged=result.unchanged,
            rejected=result.rejected,
            error_report=(result.error_report or None) and str(result.error_report)[:500],
        )
    )
    pk = res.inserted_primary_key
    return int(pk[0]) if pk else 0


# ---- error report ------------------------------------------------------------------------------------

_DIGIT_RUN: Final = re.compile(r"\d{11,}")


def _scrub(text: str) -> str:
    """Mask any long digit run (a stray 身份证号, phone or card number in a non-PII column)."""
    return _DIGIT_RUN.sub(lambda m: m[0][:3] + "*" * (len(m[0]) - 7) + m[0][-4:], text)


def _mask(col: Column | None, value: str) -> str:
    if not value:
        return ""
    pii = col.pii if col else None
    if pii == "id":
        return mask_resident_id(value)
    if pii == "phone":
        return mask_phone(value)
    if pii == "bank":
        return mask_bank_card(value)
    if pii == "name":
        return mask_name(value)
    if col is not None and col.type == "uscc":
        return mask_uscc(value)  # public, but an 18-character column is where a stray 身份证号 lands
    text = value if len(value) <= MAX_REPORT_VALUE else value[:MAX_REPORT_VALUE] + "…"
    return _scrub(text)


def _raw_text(work: _Work, name: str, idx: int) -> str:
    arr = work.raw.get(name)
    if arr is None:
        return ""
    v = arr[idx].as_py()
    if v is None:
        return ""
    if isinstance(v, list):
        return "|".join(str(x) for x in v)
    return str(v)


def _materialize(work: _Work) -> tuple[list[RowError], list[RowError]]:
    rows = work.source.rows
    errors: list[RowError] = [RowError(1, c, "", r) for c, r in work.problems.file_items]
    order = {c.field: i for i, c in enumerate(work.spec.columns)}
    items = sorted(work.problems.items, key=lambda t: (t[0], order.get(t[1], 999)))
    seen: set[tuple[int, str, str]] = set()
    for idx, name, reason in items:
        if (idx, name, reason) in seen:
            continue
        seen.add((idx, name, reason))
        col = work.spec.by_field.get(name)
        errors.append(
            RowError(int(rows[idx]), work.header(name), _mask(col, _raw_text(work, name, idx)), reason)
        )
    warnings = [
        RowError(
            int(rows[idx]),
            work.header(name),
            _mask(work.spec.by_field.get(name), _raw_text(work, name, idx)),
            reason,
            "提示",
        )
        for idx, name, reason in work.problems.warn_items
    ]
    return errors, warnings


def write_error_report(result: ImportResult, path: Path) -> Path:
    """Write the errors (and warnings) of ``result`` as an Excel workbook; personal data masked."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("错误报告")
    ws.column_dimensions["A"].width = 8
    ws.column_dimensions["B"].width = 22
    ws.column_dimensions["C"].width = 28
    ws.column_dimensions["D"].width = 70
    ws.column_dimensions["E"].width = 8
    ws.append(["行号", "列", "值（已脱敏）", "原因", "类型"])
    for e in [*result.errors, *result.warnings]:
        ws.append([e.row, e.column, e.value, e.reason, e.level])
    info = wb.create_sheet("汇总")
    label = KINDS[result.kind].label if result.kind in KINDS else result.kind
    mode = {"all_or_nothing": "全部或全不（有错误则不写入）", "accept_valid": "接受有效行"}[result.mode]
    status = {"done": "已导入", "rejected": "已拒绝（未写入）"}.get(result.status, result.status)
    for k, v in (
        ("记录类别", f"{label}（{result.kind}）"),
        ("文件", result.file_name),
        ("模式", mode),
        ("结果", status),
        ("总行数", result.total),
        ("新增", result.inserted),
        ("更新", result.updated),
        ("未变", result.unchanged),
        ("拒绝", result.rejected),
        ("错误条数", len(result.errors)),
        ("提示条数", len(result.warnings)),
        ("忽略的列", "、".join(result.ignored_columns)),
    ):
        info.append([k, v])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
