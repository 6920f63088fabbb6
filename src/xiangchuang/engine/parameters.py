"""Dated policy parameters with references, status and per-district overrides.

Each parameter lives in ``xiangchuang/policy/parameters/*.yaml``::

    loan_individual.ceiling:
      label: 个人创业担保贷款额度上限
      unit: yuan
      clause: "1.2"
      reference: 财金〔2020〕21号
      status: confirmed
      values:
        - {since: 2020-04-01, value: 200000}
        - {since: 2024-05-01, value: 300000, status: secondary, reference: ...}
      districts:
        500101:
          - {since: 2024-06-01, value: 350000, paid_by: 区县财政, status: assumed}

A table of rows may declare a published range for one column (``bounds: {column, label, min, max,
rule}``, ``min``/``max`` naming two amount parameters): every set built (files, overlays, approved
changes) is checked against it, so no evaluation meets a table outside it (``_check_bounds``).

Lookups take a column of district codes and a column of dates and return a column of version
indices (vectorized: one ``searchsorted`` and one fancy index, no Python loop over rows). The
version tells value, effective date, reference, status and who pays a district's difference.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import yaml

from xiangchuang.engine.dates import from_day, parse_date, to_day
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.vec import pick

Status = Literal["confirmed", "secondary", "assumed"]
STATUSES: Final = ("confirmed", "secondary", "assumed")
STATUS_LABELS: Final = {
    "confirmed": "已核实",
    "secondary": "二手来源，参数待核实",
    "assumed": "假设值，参数待核实",
}
UNITS: Final = ("yuan", "ratio", "count", "days", "months", "years", "bp", "list", "bool", "table", "date")
_WHOLE_UNITS: Final = ("list", "bool", "table", "date")  # (not compared as numbers)
CITY: Final = 0
NO_VERSION: Final = -1
_CODE_BASE: Final = 500000
_CODE_SPAN: Final = 1000


class ParameterError(ValueError):
    """A parameter file is malformed (message in Chinese, names the parameter and field)."""


@dataclass(frozen=True)
class Version:
    """One dated value of a parameter, for the city or for one district."""

    index: int
    name: str
    since: dt.date
    value: Any
    reference: str
    status: Status
    district: int | None = None
    paid_by: str | None = None
    note: str | None = None

    @property
    def pending(self) -> bool:
        """True when the value is not confirmed: shown as 「参数待核实」."""
        return self.status != "confirmed"

    def as_dict(self, unit: str) -> dict[str, Any]:
        return {
            "name": self.name,
            # (a table as written in the YAML: mappings and lists, not the frozen pairs)
            "value": _jsonable(thaw(self.value)),
            "unit": unit,
            "since": self.since.isoformat(),
            "reference": self.reference,
            "status": self.status,
            "district": self.district,
            "paid_by": self.paid_by,
            "pending": self.pending,
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, Fraction):
        return str(Decimal(v.numerator) / Decimal(v.denominator))
    if isinstance(v, (tuple, list)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


@dataclass(frozen=True)
class Bounds:
    """A published range for one column of a table of rows (``bounds:`` in the YAML): every row's
    ``column`` (an amount in yuan, ``label`` in messages) lies within the values of the parameters
    ``least`` and ``most`` in force on the same day for the same district (``rule`` names the
    range). Checked whenever a parameter set is built (files, overlays, approved changes:
    :func:`_check_bounds`), so that no evaluation meets a table outside it (README choice 81)."""

    column: str
    label: str
    least: str
    most: str
    rule: str


_BOUNDS_KEYS: Final = {"column": "column", "label": "label", "min": "least", "max": "most", "rule": "rule"}


def _parse_bounds(name: str, unit: str, raw: Any) -> Bounds | None:
    if raw is None:
        return None
    if (
        unit != "table"
        or not isinstance(raw, dict)
        or set(raw) != set(_BOUNDS_KEYS)
        or not all(isinstance(v, str) and v for v in raw.values())
    ):
        raise ParameterError(
            f"参数 {name}：bounds 只用于按行排列的表格参数，须写明 column、label、min、max、rule（均为文本）"
        )
    return Bounds(**{field_: raw[key] for key, field_ in _BOUNDS_KEYS.items()})


@dataclass
class Parameter:
    """A named parameter with its city timeline, district overrides and a compiled lookup grid."""

    name: str
    label: str
    unit: str
    clause: str
    versions: list[Version]
    description: str = ""
    # Which way is more generous to the applicant ("higher" for an amount or a ceiling, "lower" for
    # a threshold), or None. The notice lets a district set values *more generously* (1.2): where a
    # district's value is less generous than the city's value in force on the same day (e.g. a city
    # ceiling raised later past a district's own), the city's value applies there.
    generous: str | None = None
    # Whether the city's value is a maximum the notice sets (不超过 / 最高 / 最长不超过): where a
    # district's value is above the city's value in force on the same day, the city's applies there
    # (1.2 lets districts raise loan ceilings and interest shares, not these maxima).
    notice_maximum: bool = False
    # For a table of rows (a list of mappings, e.g. the default rent schedule), the column that
    # names each row (``year``): the rows are then compared entry by entry with ``generous``, a
    # row one table lacks counting as 0 in every other column (README choice 72).
    row_key: str | None = None
    # A published range for one column of the table's rows (``Bounds``), or None.
    bounds: Bounds | None = None
    _breaks: npt.NDArray[np.int32] = field(init=False, repr=False)
    _grid: npt.NDArray[np.int32] = field(init=False, repr=False)
    _row_of_code: npt.NDArray[np.int32] = field(init=False, repr=False)
    _num: npt.NDArray[np.int64] = field(init=False, repr=False)
    _den: npt.NDArray[np.int64] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._compile()

    @property
    def has_overrides(self) -> bool:
        return self._has_overrides

    def city_versions(self) -> list[Version]:
        return [v for v in self.versions if v.district is None]

    def district_versions(self, code: int) -> list[Version]:
        return [v for v in self.versions if v.district == code]

    def _compile(self) -> None:
        self._has_overrides = any(v.district is not None for v in self.versions)
        districts = sorted({v.district for v in self.versions if v.district is not None})
        breaks = sorted({to_day(v.since) for v in self.versions})
        self._breaks = np.asarray(breaks, dtype=np.int32)
        self._breaks_list = list(breaks)
        self._one: dict[tuple[int | None, int], npt.NDArray[np.int32]] = {}
        grid = np.full((1 + len(districts), len(breaks)), NO_VERSION, dtype=np.int32)
        timelines: list[list[Version]] = [self.city_versions()] + [
            self.district_versions(d) for d in districts
        ]
        for row, timeline in enumerate(timelines):
            for col, day in enumerate(breaks):
                current = [v for v in timeline if to_day(v.since) <= day]
                if current:
                    grid[row, col] = max(current, key=lambda v: v.since).index
                    if row > 0 and (
                        self._less_generous(int(grid[row, col]), int(grid[0, col]))
                        or self._above_notice_maximum(int(grid[row, col]), int(grid[0, col]))
                    ):
                        grid[row, col] = grid[0, col]
                elif row > 0:
                    grid[row, col] = grid[0, col]
        self._grid = grid
        row_of_code = np.zeros(_CODE_SPAN, dtype=np.int32)
        for row, code in enumerate(districts, start=1):
            row_of_code[code - _CODE_BASE] = row
        self._row_of_code = row_of_code
        nums, dens = [], []
        for v in self.versions:
            n, d = _as_ratio(v.value)
            nums.append(n)
            dens.append(d)
        self._num = np.asarray(nums, dtype=np.int64)
        self._den = np.asarray(dens, dtype=np.int64)
        # Length-1 columns (one date, one district: the single case) for every version, built once.
        self._one_numbers: dict[
            int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]
        ] = {}
        for index in range(NO_VERSION, len(self.versions)):
            k = max(index, 0)
            if k < len(nums):
                cols = (
                    self._num[k : k + 1].copy(),
                    self._den[k : k + 1].copy(),
                    self._num[k : k + 1] // self._den[k : k + 1],
                )
                for c in cols:
                    c.setflags(write=False)
                self._one_numbers[index] = cols

    def _above_notice_maximum(self, district_index: int, city_index: int) -> bool:
        """Whether a district's version is above the city's where the city's value is the notice's
        maximum (then the city's applies: the notice does not let a district exceed it)."""
        if not self.notice_maximum or city_index < 0:
            return False
        mine = Fraction(*_as_ratio(self.versions[district_index].value))
        return mine > Fraction(*_as_ratio(self.versions[city_index].value))

    def _less_generous(self, district_index: int, city_index: int) -> bool:
        """Whether a district's version is less generous than the city's (then the city's applies).
        A table of numbers is less generous where any of the city's entries is missing from it or
        less generous in it (README choice 72). A list (key groups, kinds of business, ...) is less
        generous where it lacks any of the city's entries: a district may extend the city's list,
        not narrow it (PROVISIONS §0, 等; 1.2)."""
        if city_index < 0:
            return False
        if self.unit == "list":
            return not set(self.versions[city_index].value) <= set(self.versions[district_index].value)
        if self.generous is None:
            return False
        if self.unit == "table" and self.row_key is not None:
            mine_r = row_table_numbers(self.versions[district_index].value, self.row_key) or {}
            city_r = row_table_numbers(self.versions[city_index].value, self.row_key) or {}
            zero = Fraction(0)
            return any(
                mine_r.get(k, zero) < city_r.get(k, zero)
                if self.generous == "higher"
                else mine_r.get(k, zero) > city_r.get(k, zero)
                for k in city_r.keys() | mine_r.keys()
            )
        if self.unit == "table":
            mine_t = table_numbers(self.versions[district_index].value) or {}
            city_t = table_numbers(self.versions[city_index].value) or {}
            return any(
                k not in mine_t or (mine_t[k] < v if self.generous == "higher" else mine_t[k] > v)
                for k, v in city_t.items()
            )
        mine = Fraction(*_as_ratio(self.versions[district_index].value))
        city = Fraction(*_as_ratio(self.versions[city_index].value))
        return mine < city if self.generous == "higher" else mine > city

    def lookup(
        self, districts: npt.NDArray[np.int32] | None, days: npt.NDArray[np.int32], *, city_only: bool = False
    ) -> npt.NDArray[np.int32]:
        """Version index in force for each (district, day); NO_VERSION before the first value."""
        if days.shape == (1,):
            # One date for every row (the evaluation date): a length-1 column that broadcasts,
            # unless district overrides make the value differ by row.
            if districts is None or city_only or self._grid.shape[0] == 1:
                return self.lookup_one(None, int(days[0]))
            if districts.shape == (1,):
                return self.lookup_one(int(districts[0]), int(days[0]))
        col = np.searchsorted(self._breaks, days, side="right").astype(np.int64) - 1
        col_ok = col >= 0
        col = pick(col_ok, col, 0)
        if districts is None or city_only or self._grid.shape[0] == 1:
            rows: npt.NDArray[np.int32] | int = 0
        else:
            offs = districts.astype(np.int64) - _CODE_BASE
            inside = (offs >= 0) & (offs < _CODE_SPAN)
            rows = pick(inside, self._row_of_code[pick(inside, offs, 0)], 0)
        out = self._grid[rows, col]
        return pick(col_ok, out, NO_VERSION).astype(np.int32)

    def lookup_one(self, district: int | None, day: int) -> npt.NDArray[np.int32]:
        """The same lookup for one row (the single-case path), without array machinery."""
        key = (district, day)
        got = self._one.get(key)
        if got is None:
            col = bisect.bisect_right(self._breaks_list, day) - 1
            row = 0
            if district is not None and 0 <= district - _CODE_BASE < _CODE_SPAN:
                row = int(self._row_of_code[district - _CODE_BASE])
            got = np.asarray([self._grid[row, col] if col >= 0 else NO_VERSION], dtype=np.int32)
            got.setflags(write=False)
            if len(self._one) < 4096:
                self._one[key] = got
        return got

    def numbers(self, version: npt.NDArray[np.int32]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(numerator, denominator) columns for numeric parameters (fen for yuan amounts)."""
        if version.shape == (1,):
            got = self._one_numbers.get(int(version[0]))
            if got is not None:
                return got[0], got[1]
        safe = pick(version >= 0, version, 0)
        return self._num[safe], self._den[safe]

    def ints(self, version: npt.NDArray[np.int32]) -> npt.NDArray[np.int64]:
        if version.shape == (1,):
            got = self._one_numbers.get(int(version[0]))
            if got is not None:
                return got[2]
        num, den = self.numbers(version)
        return num // den

    def changes_within(self, after: int, until: int) -> list[int]:
        """The days in (``after``, ``until``] from which a value (the city's or a district's) takes
        effect, ascending: where a lookup's result may change between the two days."""
        lo = bisect.bisect_right(self._breaks_list, after)
        hi = bisect.bisect_right(self._breaks_list, until)
        return self._breaks_list[lo:hi]

    def value_at(self, on: dt.date, district: int | None = None) -> Any:
        v = self.version_at(on, district)
        return None if v is None else v.value

    def value_at_day(self, day: int) -> Any:
        """City value in force at a day number (for list and table parameters used whole)."""
        idx = int(self.lookup(None, np.asarray([day], dtype=np.int32))[0])
        return None if idx < 0 else self.versions[idx].value

    def version_at(self, on: dt.date, district: int | None = None) -> Version | None:
        d = np.asarray([district if district is not None else 0], dtype=np.int32)
        idx = int(self.lookup(d, np.asarray([to_day(on)], dtype=np.int32))[0])
        return None if idx < 0 else self.versions[idx]


def _as_ratio(value: Any) -> tuple[int, int]:
    if isinstance(value, bool):
        return int(value), 1
    if isinstance(value, int):
        return value, 1
    if isinstance(value, Fraction):
        return value.numerator, value.denominator
    if isinstance(value, dt.date):
        return to_day(value), 1  # a date parameter as a column: its day number (``Ctx.ints``)
    return 0, 1


def table_numbers(value: Any) -> dict[tuple[str, ...], Fraction] | None:
    """A table parameter whose entries are numbers (a mapping, possibly nested: ``{A: 300000}``,
    ``{lecture: {city: 1000}}``) as its numbers by key path; None for any other table (a list of
    rows, a text or a list entry)."""
    out: dict[tuple[str, ...], Fraction] = {}

    def walk(v: Any, path: tuple[str, ...]) -> bool:
        if (
            isinstance(v, tuple)
            and v
            and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in v)
        ):
            return all(walk(x, (*path, k)) for k, x in v)
        if isinstance(v, bool) or not path:
            return False
        if isinstance(v, (int, Fraction)):
            out[path] = Fraction(v)
            return True
        try:
            out[path] = Fraction(Decimal(str(v)))
        except (ArithmeticError, ValueError):
            return False
        return True

    return out if walk(value, ()) else None


def row_table_numbers(value: Any, key: str) -> dict[tuple[str, ...], Fraction] | None:
    """A table of rows (a list of mappings, each naming itself by column ``key``: ``[{year: 1,
    rent: 10000, …}, …]``) as its numbers by (row, column); None where it is not one (a row
    without the key, twice the same row, or an entry that is not a number)."""
    rows = thaw(value)
    if not isinstance(rows, list):
        return None
    out: dict[tuple[str, ...], Fraction] = {}
    seen: set[str] = set()
    for row in rows:
        if not isinstance(row, dict) or key not in row or str(row[key]) in seen:
            return None
        name = str(row[key])
        seen.add(name)
        for col, v in row.items():
            if col == key:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, Fraction, str, float)):
                return None
            try:
                out[(name, str(col))] = Fraction(Decimal(str(v)))
            except (ArithmeticError, ValueError):
                return None
    return out


def yuan_to_fen(raw: Any, where: str) -> int:
    """An amount written in yuan (a parameter's value, or a cell of a table parameter) as an
    integer number of fen, exactly: 1200.5 → 120050; a fraction of a fen is refused, never rounded
    or truncated."""
    try:
        d = Decimal(str(raw)) * 100
    except ArithmeticError:
        raise ParameterError(f"{where}：金额 {raw!r} 不是数") from None
    if not d.is_finite() or d != d.to_integral_value():
        raise ParameterError(f"{where}：金额必须精确到分（{raw!r}）")
    return int(d)


def _convert(name: str, unit: str, raw: Any) -> Any:
    where = f"参数 {name}"
    try:
        if unit == "yuan":
            return yuan_to_fen(raw, where)
        if unit == "ratio":
            if isinstance(raw, float):
                raise ParameterError(f'{where}：比例须写成带引号的小数（如 "0.05"），避免二进制浮点')
            return Fraction(Decimal(str(raw)))
        if unit in ("count", "days", "months", "years", "bp"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ParameterError(f"{where}：单位 {unit} 须为整数")
            return raw
        if unit == "list":
            if not isinstance(raw, list):
                raise ParameterError(f"{where}：单位 list 须为列表")
            return tuple(str(x) for x in raw)
        if unit == "bool":
            return bool(raw)
        if unit == "date":
            return parse_date(raw)
        if unit == "table":
            return _freeze(raw)
    except (ArithmeticError, TypeError, ValueError) as exc:
        if isinstance(exc, ParameterError):
            raise
        raise ParameterError(f"{where}：取值 {raw!r} 不符合单位 {unit}") from exc
    raise ParameterError(f"{where}：未知单位 {unit}")


def _freeze(raw: Any) -> Any:
    if isinstance(raw, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in raw.items()))
    if isinstance(raw, list):
        return tuple(_freeze(x) for x in raw)
    return raw


def thaw(value: Any) -> Any:
    """Table parameters are stored frozen (hashable); turn them back into dicts and lists."""
    if isinstance(value, tuple):
        if value and all(isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) for x in value):
            return {k: thaw(v) for k, v in value}
        return [thaw(x) for x in value]
    return value


class ParameterSet(Mapping[str, Parameter]):
    """All parameters, with a content hash as ``version`` so a determination can name them."""

    def __init__(self, params: dict[str, Parameter], digest: str, sources: tuple[str, ...]) -> None:
        _check_bounds(params)
        self._params = params
        self.digest = digest
        self.sources = sources
        # The parameters some district has values of its own for (none without overlays).
        self.overridden: frozenset[str] = frozenset(n for n, p in params.items() if p.has_overrides)

    @property
    def version(self) -> str:
        return self.digest[:16]

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._params[name]
        except KeyError:
            raise KeyError(f"未定义的参数：{name}") from None

    def __iter__(self) -> Any:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def version_of(self, index: int, name: str) -> Version:
        return self._params[name].versions[index]


def _parse_versions(
    name: str, spec: Mapping[str, Any], entries: Any, district: int | None, start: int, unit: str
) -> list[Version]:
    if not isinstance(entries, list) or not entries:
        raise ParameterError(f"参数 {name}：values 须为非空列表")
    out: list[Version] = []
    for offset, entry in enumerate(entries):
        if not isinstance(entry, dict) or "since" not in entry or "value" not in entry:
            raise ParameterError(f"参数 {name}：每个取值须有 since 和 value")
        status = entry.get("status", spec.get("status"))
        if status not in STATUSES:
            raise ParameterError(f"参数 {name}：status 须为 confirmed/secondary/assumed，而不是 {status!r}")
        reference = entry.get("reference", spec.get("reference"))
        if not reference:
            raise ParameterError(f"参数 {name}：缺少 reference（文号及条款）")
        paid_by = entry.get("paid_by")
        if district is not None and not paid_by:
            raise ParameterError(f"参数 {name}：区县 {district} 的调整值须写明 paid_by（差额由谁承担）")
        out.append(
            Version(
                index=start + offset,
                name=name,
                since=parse_date(entry["since"]),
                value=_convert(name, unit, entry["value"]),
                reference=str(reference),
                status=status,
                district=district,
                paid_by=paid_by,
                note=entry.get("note"),
            )
        )
    return out


def parse_parameters(docs: Iterable[tuple[str, Mapping[str, Any]]]) -> ParameterSet:
    """Build a ParameterSet from parsed YAML documents (later documents overlay earlier ones)."""
    specs: dict[str, dict[str, Any]] = {}
    digest = hashlib.sha256()
    sources: list[str] = []
    for source, doc in docs:
        sources.append(source)
        digest.update(source.encode())
        digest.update(yaml.safe_dump(doc, sort_keys=True, allow_unicode=True).encode())
        for name, spec in doc.items():
            if not isinstance(spec, dict):
                raise ParameterError(f"参数 {name}：定义须为映射")
            if name in specs and set(spec) - {"districts"}:
                raise ParameterError(f"参数 {name}：在 {source} 中重复定义（叠加文件只能添加 districts）")
            if name in specs:
                specs[name].setdefault("districts", {}).update(spec.get("districts") or {})
            else:
                specs[name] = dict(spec)
    params: dict[str, Parameter] = {}
    for name, spec in specs.items():
        unit = spec.get("unit")
        if unit not in UNITS:
            raise ParameterError(f"参数 {name}：unit 须为 {', '.join(UNITS)} 之一")
        versions = _parse_versions(name, spec, spec.get("values"), None, 0, unit)
        for code, entries in sorted((spec.get("districts") or {}).items()):
            code_int = int(code)
            if not _CODE_BASE <= code_int < _CODE_BASE + _CODE_SPAN:
                raise ParameterError(f"参数 {name}：区县代码 {code} 不在重庆市范围（500xxx）")
            versions += _parse_versions(name, spec, entries, code_int, len(versions), unit)
        generous = spec.get("generous")
        row_key = spec.get("row_key")
        if row_key is not None and (
            unit != "table"
            or not isinstance(row_key, str)
            or any(row_table_numbers(v.value, row_key) is None for v in versions)
        ):
            raise ParameterError(
                f"参数 {name}：row_key 只用于按行排列的表格参数，每行须有该列且不重复，其余各项均为数值"
            )
        numbers_table = unit == "table" and all(
            (table_numbers(v.value) if row_key is None else row_table_numbers(v.value, row_key)) is not None
            for v in versions
        )
        if generous not in (None, "higher", "lower") or (
            generous is not None and unit in _WHOLE_UNITS and not numbers_table
        ):
            raise ParameterError(
                f"参数 {name}：generous 须为 higher（越高越优惠）或 lower（越低越优惠），"
                "且只用于数值参数或各项均为数值的表格参数"
            )
        notice_maximum = spec.get("notice_maximum", False)
        if notice_maximum not in (False, True) or (notice_maximum and generous != "higher"):
            raise ParameterError(
                f"参数 {name}：notice_maximum 须为 true 或 false，且只用于 generous: higher 的数值参数"
            )
        params[name] = Parameter(
            name=name,
            label=str(spec.get("label", name)),
            unit=unit,
            clause=str(spec.get("clause", "")),
            versions=versions,
            description=str(spec.get("description", "")),
            generous=generous,
            notice_maximum=bool(notice_maximum),
            row_key=row_key,
            bounds=_parse_bounds(name, unit, spec.get("bounds")),
        )
    return ParameterSet(params, digest.hexdigest(), tuple(sources))


def _check_bounds(params: Mapping[str, Parameter]) -> None:
    """Every table with ``bounds`` within its published range on every day and in every district:
    the table in force there against the range in force there (the days on which any of the three
    parameters changes, the city and each district any of them names). Else a parameter error naming
    the table's value (district, start date), the amount, the range, the parameters that set it and
    the day and district it applies to (README choice 81)."""
    for p in params.values():
        b = p.bounds
        if b is None:
            continue
        least, most = params.get(b.least), params.get(b.most)
        if least is None or most is None or least.unit != "yuan" or most.unit != "yuan":
            raise ParameterError(f"参数 {p.name}：bounds 的 min、max 须为已定义的金额参数（单位 yuan）")
        trio = (p, least, most)
        days = sorted({to_day(v.since) for q in trio for v in q.versions})
        codes = sorted({v.district for q in trio for v in q.versions if v.district is not None})
        for district in (None, *codes):
            for day in days:
                at = [int(q.lookup_one(district, day)[0]) for q in trio]
                if min(at) < 0:
                    continue
                version = p.versions[at[0]]
                lo, hi = int(least.versions[at[1]].value), int(most.versions[at[2]].value)
                where = "全市" if version.district is None else f"区县 {version.district}"
                rows = thaw(version.value)
                if not isinstance(rows, list) or not all(isinstance(r, dict) and b.column in r for r in rows):
                    raise ParameterError(
                        f"参数 {p.name}（{where}，{version.since.isoformat()}起的取值）：须为按行排列的表格，"
                        f"每行须有 {b.column}（{b.label}）"
                    )
                for r in rows:
                    fen = yuan_to_fen(r[b.column], f"参数 {p.name}（{b.label}）")
                    if not lo <= fen <= hi:
                        scope = "全市" if district is None else f"区县 {district}"
                        raise ParameterError(
                            f"参数 {p.name}（{where}，{version.since.isoformat()}起的取值）：{b.label}"
                            f"{format_fen(fen)}超出{b.rule}{format_fen(lo)}至{format_fen(hi)}"
                            f"（{from_day(day).isoformat()}起{scope}适用的参数 {b.least}、{b.most}），请更正其中之一"
                        )


def _builtin_docs() -> list[tuple[str, Mapping[str, Any]]]:
    root = resources.files("xiangchuang.policy").joinpath("parameters")
    docs = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            docs.append((f"parameters/{entry.name}", yaml.safe_load(entry.read_text(encoding="utf-8")) or {}))
    return docs


@cache
def load_parameters(*overlays: str) -> ParameterSet:
    """The built-in parameters, plus overlay files (district overrides) in the order given."""
    docs = _builtin_docs()
    for path in overlays:
        text = Path(path).read_text(encoding="utf-8")
        docs.append((Path(path).name, yaml.safe_load(text) or {}))
    return parse_parameters(docs)


@dataclass(frozen=True)
class DatedValue:
    """One extra dated value to lay over a ParameterSet (an approved parameter change). ``value`` is
    written as in the YAML files (yuan as a number, a ratio as a decimal string, a list as a list)."""

    name: str
    since: dt.date
    value: Any
    reference: str
    status: Status = "confirmed"
    district: int | None = None
    paid_by: str | None = None
    note: str | None = None


def convert_value(params: ParameterSet, name: str, raw: Any) -> Any:
    """``raw`` (YAML-style) converted and checked against the unit of parameter ``name``."""
    param = params[name]
    return _convert(name, param.unit, raw)


def with_dated_values(params: ParameterSet, extra: Iterable[DatedValue]) -> ParameterSet:
    """A new ParameterSet: ``params`` plus ``extra`` dated values, applied in the order given. A value
    dated the same day (and for the same district) as an existing one replaces it; the timeline before
    the new date is untouched. Pure: the caller reads the values from wherever it keeps them."""
    extra = list(extra)
    if not extra:
        return params
    by_name: dict[str, list[Version]] = {name: list(p.versions) for name, p in params.items()}
    digest = hashlib.sha256(params.digest.encode())
    for item in extra:
        if item.name not in by_name:
            raise ParameterError(f"参数 {item.name}：未定义，不能调整")
        if item.status not in STATUSES:
            raise ParameterError(f"参数 {item.name}：status 须为 confirmed/secondary/assumed")
        if not item.reference:
            raise ParameterError(f"参数 {item.name}：缺少 reference（依据）")
        value = _convert(item.name, params[item.name].unit, item.value)
        kept = [v for v in by_name[item.name] if not (v.since == item.since and v.district == item.district)]
        kept.append(
            Version(
                index=0,
                name=item.name,
                since=item.since,
                value=value,
                reference=item.reference,
                status=item.status,
                district=item.district,
                paid_by=item.paid_by,
                note=item.note,
            )
        )
        by_name[item.name] = kept
        digest.update(
            repr((item.name, item.since.isoformat(), _jsonable(value), item.district, item.status)).encode()
        )
    out: dict[str, Parameter] = {}
    for name, old in params.items():
        versions = by_name[name]
        if versions is old.versions or versions == old.versions:
            out[name] = old
            continue
        out[name] = Parameter(
            name=old.name,
            label=old.label,
            unit=old.unit,
            clause=old.clause,
            versions=[replace(v, index=i) for i, v in enumerate(versions)],
            description=old.description,
            generous=old.generous,
            notice_maximum=old.notice_maximum,
            row_key=old.row_key,
            bounds=old.bounds,
        )
    return ParameterSet(out, digest.hexdigest(), (*params.sources, "db:parameter_changes"))
