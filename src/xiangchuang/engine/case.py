"""A case document (JSON/YAML) → the engine's tables.

A case bundles what is known about one applicant: ``person``, ``business`` (with ``years``),
``hires`` (each with its ``person`` and ``contributions``), ``loan``/``loans``, ``trainings``,
``mentor_services``, ``carrier``, ``onjob_trainings`` and ``received`` (the register of what was
already granted). Absent keys are unknown facts; an empty list is a known "none".
Bad input raises :class:`CaseError` with the field path and the rule, in Chinese. An integer may be
written as a number with a zero fraction (202403.0), as the case schema's "integer" allows (README
choice 64); 3.5, NaN, a boolean or a float beyond 2^53 are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import yaml

from xiangchuang.engine.assemble import Facts
from xiangchuang.engine.dates import (
    EPOCH,
    FIRST_MONTH,
    LAST_MONTH,
    NoSuchDate,
    OutOfRange,
    check_supported,
    check_year,
    month_label,
    parse_date,
    parse_month,
    to_day,
)
from xiangchuang.engine.facts import (
    CODE_RULE,
    DAY_MAX,
    DAY_MIN,
    DISTRICT_CODES,
    DIVISION_MAX,
    DIVISION_MIN,
    FACTS,
    GROUPS,
    INT_LIMIT,
    MONTH_PERIODS,
    NO_REF,
    Col,
    Fact,
    Table,
    code_ok,
    code_text_ok,
    filled,
    group_mask,
    period_out_of_order,
    repeated_key,
    repeated_key_rule,
)

# Which table the subject of a received (already granted) entry lives in, and which id names it.
RECEIVED_SUBJECT: dict[str, tuple[str, str]] = {
    "startup_subsidy": ("businesses", "subject_id"),
    "online_sales_subsidy": ("businesses", "subject_id"),
    "workshop_award": ("businesses", "subject_id"),
    "carrier_rent_reduction": ("businesses", "subject_id"),
    "free_workstation": ("persons", "subject_id"),
    "job_subsidy": ("persons", "person_id"),
    "social_insurance_subsidy": ("persons", "person_id"),
    "training_syb": ("persons", "subject_id"),
    "training_online": ("persons", "subject_id"),
    "training_iyb": ("persons", "subject_id"),
    "carrier_award": ("carriers", "subject_id"),
    "mentor_service_subsidy": ("mentor_services", "subject_id"),
    "onjob_training_subsidy": ("onjob_trainings", "subject_id"),
    "loan_individual": ("persons", "subject_id"),
    "loan_small_micro": ("businesses", "subject_id"),
    "loan_interest_subsidy": ("loans", "subject_id"),
    "counter_guarantee_waiver": ("loans", "subject_id"),
}


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans (so a key ``on:`` stays the string "on")."""


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _timestamp_or_text(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    """A YAML date, or its text when the day does not exist (2024-02-30): the case loader then
    names the field (PyYAML raised ValueError from inside the parser, with no field)."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError:
        return loader.construct_scalar(node)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_or_text)


def _mapping_without_repeats(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    """A YAML mapping whose keys are each written once: a key written twice (two
    ``registration_date:`` lines) is an error naming the key and its line, not the last one silently
    winning."""
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        line = key_node.start_mark.line + 1
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"第{line}行：键 {key} 重复（第{seen[key]}行已写过），每个键只能写一次",
                key_node.start_mark,
            )
        seen[key] = line
    return loader.construct_mapping(node)


_Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _mapping_without_repeats)


def json_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``'s ``object_pairs_hook``: an object whose keys are each written once (a repeated
    key is an error naming it, not the last value silently winning)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"键 {key} 重复，每个键只能写一次")
        out[key] = value
    return out


def load_yaml(text: str) -> Any:
    """Parse case / worked-case YAML (YAML 1.2 booleans: ``on``, ``yes`` and ``no`` stay strings)."""
    return yaml.load(text, Loader=_Yaml12Loader)


class CaseError(ValueError):
    """Malformed case: names the field (path) and the rule, in Chinese."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"字段 {field}：{rule}")


# The largest integer every float up to which is exact: a float beyond it (2**60 written 1.0e18) is
# no longer the integer its text looks like, so it is refused rather than read as a nearby integer.
FLOAT_EXACT: Final = 2**53


def _integral(raw: Any, fact: Fact, path: str, refusal: str) -> int:
    """A number with a zero fraction (202403.0, 100000.0) as its integer, as the case schema's
    "integer" allows it (JSON Schema counts 1.0 an integer; README choice 64); CaseError ``refusal``
    for anything else (3.5, NaN, infinity, a boolean, text), and one of its own for a float beyond
    ±2^53. Only ever called on the slow path, once the common forms (int, str) have been ruled out."""
    if not isinstance(raw, float) or not raw.is_integer():
        raise CaseError(path, refusal)
    if abs(raw) > FLOAT_EXACT:
        raise CaseError(
            path, f"{fact.label}数值过大（{raw!r}），无法精确表示为整数：超过 2^53 的整数须不带小数写出"
        )
    return int(raw)


def _parse_value(fact: Fact, raw: Any, path: str) -> int | bool | str:
    try:
        if fact.kind == "date":
            return to_day(check_supported(_case_date_text(raw)))
        if fact.kind == "month":
            if isinstance(raw, float):  # (integer YYYYMM written 202403.0)
                refusal = f"{fact.label}须为月份 YYYY-MM 或整数 YYYYMM，不能是小数"
                return _parse_value(fact, _integral(raw, fact, path, refusal), path)
            return parse_month(raw)
        if fact.kind == "bool":
            if not isinstance(raw, bool):
                raise CaseError(path, f"{fact.label}须为 true 或 false")
            return raw
        if fact.kind in ("int", "fen"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                unit = "整数（分）" if fact.kind == "fen" else "整数"
                refusal = f"{fact.label}须为{unit}，不能是小数或文本"
                return _parse_value(fact, _integral(raw, fact, path, refusal), path)
            if raw < 0:
                raise CaseError(path, f"{fact.label}不能为负数")
            if raw >= INT_LIMIT:
                raise CaseError(path, f"{fact.label}过大（须小于10^15）")
            if fact.check is not None:  # (a year: in the supported range, dates.check_year)
                fact.check(raw)
            return raw
        if fact.kind in ("code", "division"):
            text = str(raw)
            # (as text exactly six digits, as the schema's pattern: not "0500101" nor " 500101")
            written = isinstance(raw, str) and code_text_ok(text)
            if isinstance(raw, bool) or not (isinstance(raw, int) or written):
                refusal = f"{fact.label}须为6位数字的行政区划代码，不能是小数或文字"
                return _parse_value(fact, _integral(raw, fact, path, refusal), path)
            code = int(text)
            if not code_ok(fact.kind, code):
                raise CaseError(path, f"{fact.label} {text}：{CODE_RULE[fact.kind]}")
            return code
        if fact.kind == "enum":
            return fact.code_of(str(raw))
        if fact.kind == "groups":
            if not isinstance(raw, list):
                raise CaseError(path, "人员类别须为列表，如 [college_graduate, veteran]")
            return group_mask([str(x) for x in raw])
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            refusal = f"{fact.label}须为文本（或整数），不能是{_TYPE_ZH.get(type(raw), '此类取值')}"
            return _parse_value(fact, _integral(raw, fact, path, refusal), path)
        text = str(raw)
        if fact.check is not None:
            try:
                fact.check(text)
            except ValueError as exc:
                raise CaseError(path, str(exc)) from None
        return text
    except CaseError:
        raise
    except OutOfRange as exc:  # (a date, a month or a year that reads, outside the supported range)
        raise CaseError(path, exc.rule(fact.label)) from None
    except (TypeError, ValueError, OverflowError) as exc:
        if fact.kind == "date":
            raise CaseError(path, f"{fact.label}须为有效日期 YYYY-MM-DD") from exc
        if fact.kind == "month":
            raise CaseError(path, f"{fact.label}须为月份 YYYY-MM") from exc
        message = str(exc)
        if message.isascii():  # a library's English message (ours are Chinese): say it in Chinese
            message = f"{fact.label}的取值无法识别（{raw!r}）"
        raise CaseError(path, message) from exc


def _case_date_text(raw: Any) -> dt.date:
    """A date in a case: exactly YYYY-MM-DD (``parse_date``) with no space around it, as the case
    schema's date pattern and a month's text (README choice 28) — the CLI options and web forms
    may trim what a person typed, a document is read as written. ValueError otherwise."""
    if isinstance(raw, str) and raw != raw.strip():
        raise ValueError(raw)
    return parse_date(raw)


def _id_text(raw: Any, fact: Fact, path: str) -> str:
    """The text of an id named by a reference not written as text: an integer's digits, and a number
    with a zero fraction its integer's (1.0 names the id 1, as it does written as an id: README choice
    64); anything else its text, as before (which then names no id)."""
    if isinstance(raw, float):
        return str(_integral(raw, fact, path, f"{fact.label}须为文本（或整数），不能是小数"))
    return str(raw)


_TYPE_ZH: Final[dict[type, str]] = {
    bool: "真假值",
    int: "数字",
    float: "小数",
    list: "列表",
    dict: "对象",
    dt.date: "日期",
    dt.datetime: "日期时间",
}

_SLOW: Final = object()  # a fast parser's "not the common form: ask _parse_value"
_EPOCH_ORDINAL: Final = EPOCH.toordinal()


def _fast_date(raw: Any) -> Any:
    if type(raw) is dt.date:
        day = raw.toordinal() - _EPOCH_ORDINAL
    elif type(raw) is str and len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            day = dt.date.fromisoformat(raw).toordinal() - _EPOCH_ORDINAL
        except ValueError:
            return _SLOW
    else:
        return _SLOW
    return day if DAY_MIN <= day <= DAY_MAX else _SLOW


def _fast_month(raw: Any) -> Any:
    if type(raw) is str:
        month = _MONTH_TEXT.get(raw)
        if month is not None:
            return month
    elif type(raw) is not int:
        return _SLOW
    try:
        return parse_month(raw)
    except (TypeError, ValueError, OverflowError):
        return _SLOW


# 'YYYY-MM' → month number for the months contributions are paid in, 1970-01 to the last month of
# the supported range (a static table; any other text goes through parse_month, as before).
_MONTH_TEXT: Final = {month_label(m): m for m in range(max(FIRST_MONTH, 0), LAST_MONTH + 1)}


def _fast_bool(raw: Any) -> Any:
    return raw if raw is True or raw is False else _SLOW


def _fast_int(raw: Any) -> Any:
    return raw if type(raw) is int and 0 <= raw < INT_LIMIT else _SLOW


def _int_code(raw: Any) -> Any:
    if type(raw) is str and code_text_ok(raw):
        return int(raw)
    return raw if type(raw) is int else _SLOW


def _fast_code(raw: Any) -> Any:
    code = _int_code(raw)
    return code if code in DISTRICT_CODES else _SLOW


def _fast_division(raw: Any) -> Any:
    code = _int_code(raw)
    return code if code is not _SLOW and DIVISION_MIN <= code <= DIVISION_MAX else _SLOW


def _fast_text(raw: Any) -> Any:
    return raw if type(raw) is str else _SLOW


def _fast_checked(check: Callable[[Any], object], base: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A value with a check of its own (text with a documented format, a year): the value in the
    kind's common form (``base``) when it passes, else _SLOW (which names the error)."""

    def parse(raw: Any) -> Any:
        value = base(raw)
        if value is _SLOW:
            return _SLOW
        try:
            check(value)
        except ValueError:
            return _SLOW
        return value

    return parse


def _fast_enum(codes: dict[str, int]) -> Callable[[Any], Any]:
    def parse(raw: Any) -> Any:
        return codes.get(raw, _SLOW) if type(raw) is str else _SLOW

    return parse


def _fast_groups(raw: Any) -> Any:
    if type(raw) is not list:
        return _SLOW
    mask = 0
    for x in raw:
        bit = _GROUP_BITS.get(x) if type(x) is str else None
        if bit is None:
            return _SLOW
        mask |= bit
    return mask


_GROUP_BITS: Final = {name: 1 << bit for name, (bit, _) in GROUPS.items()}


def _REF(raw: Any) -> Any:  # (references are resolved by the builders, not parsed)
    return _SLOW


def _fast_parser(fact: Fact) -> Callable[[Any], Any]:
    """The value of a given fact in its common form (what _parse_value returns), else _SLOW."""
    if fact.kind == "ref":
        return _REF
    if fact.kind == "enum":
        codes: dict[str, int] = {}
        for i, choice in enumerate(fact.choices):
            codes.setdefault(choice, i)
        return _fast_enum(codes)
    base = {
        "date": _fast_date,
        "month": _fast_month,
        "bool": _fast_bool,
        "int": _fast_int,
        "fen": _fast_int,
        "code": _fast_code,
        "division": _fast_division,
        "groups": _fast_groups,
    }.get(fact.kind, _fast_text)
    return base if fact.check is None else _fast_checked(fact.check, base)


def _value_dtype(kind: str) -> type[np.generic]:
    if kind in ("id", "text"):
        return np.object_
    if kind == "bool":
        return np.bool_
    if kind in ("int", "fen", "ref"):
        return np.int64
    return np.int32


# Per table, per fact: (name, fact, values dtype, value where unknown, fast parser). Static.
_Spec = tuple[str, Fact, type[np.generic], object, Callable[[Any], Any]]
_SPECS: Final[dict[str, tuple[_Spec, ...]]] = {
    table: tuple(
        (
            fname,
            fact,
            _value_dtype(fact.kind),
            "" if fact.kind in ("id", "text") else NO_REF if fact.kind == "ref" else 0,
            _fast_parser(fact),
        )
        for fname, fact in facts.items()
    )
    for table, facts in FACTS.items()
}


# One row (one case's person, business, loan…) takes _build_one: the same columns, fewer calls.
# (Tests turn it off to compare it with the general path.)
ONE_ROW = True


def _build(
    name: str, rows: Sequence[tuple[str, Mapping[str, Any]]], refs: dict[str, dict[str, int]]
) -> Table:
    """The table of ``rows`` (path, row). Values are checked fact by fact, row by row; the first
    bad value raises."""
    n = len(rows)
    table = Table(name, n)
    if n == 0:
        return table  # missing columns of an empty table read as empty and unknown
    if n == 1 and ONE_ROW:
        _build_one(table, rows[0], refs)
        return table
    present = set().union(*(row.keys() for _, row in rows))
    cols = table.cols
    for fname, fact, dtype, unknown, parse in _SPECS[name]:
        if fact.kind == "ref":
            cols[fname] = _ref_column(fname, fact, rows, refs)
        elif fname in present:
            cols[fname] = _column(fname, fact, dtype, unknown, parse, rows)
        # else never given: the table reads it as unknown
    return table


def _build_one(
    table: Table, path_row: tuple[str, Mapping[str, Any]], refs: dict[str, dict[str, int]]
) -> None:
    """``_build`` of one row (one case's person, business, loan…): the same columns, fewer calls."""
    path, row = path_row
    cols = table.cols
    known = filled(np.bool_, True, 1)
    unknown_mask = filled(np.bool_, False, 1)
    array = np.array
    for fname, fact, dtype, unknown, parse in _SPECS[table.name]:
        raw = row.get(fname)
        if raw is None:
            if parse is _REF:
                cols[fname] = Col(filled(np.int64, NO_REF, 1), unknown_mask)
            elif fname in row:
                cols[fname] = Col(filled(dtype, unknown, 1), unknown_mask)
            continue  # else never given: the table reads it as unknown
        value: Any
        if parse is _REF:
            key = raw if type(raw) is str else _id_text(raw, fact, f"{path}.{fname}")
            value = refs.get(fact.ref or "", {}).get(key)
            if value is None:
                raise _no_such_ref(f"{path}.{fname}", key)
        else:
            value = parse(raw)
            if value is _SLOW:
                value = _parse_value(fact, raw, f"{path}.{fname}")
        values: Any = array((value,), dtype=dtype)
        cols[fname] = Col(values, known)


def _column(
    fname: str,
    fact: Fact,
    dtype: type[np.generic],
    unknown: object,
    parse: Callable[[Any], Any],
    rows: Sequence[tuple[str, Mapping[str, Any]]],
) -> Col:
    values: list[Any] = []
    known: list[bool] = []
    try:
        for path, row in rows:
            raw = row.get(fname)
            if raw is None:
                values.append(unknown)
                known.append(False)
                continue
            value = parse(raw)
            if value is _SLOW:
                value = _parse_value(fact, raw, f"{path}.{fname}")
            values.append(value)
            known.append(True)
    except Exception:
        # A value is stored as soon as it is read: one out of the column's range (OverflowError)
        # before the bad value is what fails first.
        np.array(values, dtype=dtype)
        raise
    n = len(values)
    return Col(
        np.array(values, dtype=dtype),
        filled(np.bool_, True, n) if all(known) else np.array(known, dtype=np.bool_),
    )


def _ref_column(
    fname: str, fact: Fact, rows: Sequence[tuple[str, Mapping[str, Any]]], refs: dict[str, dict[str, int]]
) -> Col:
    target = refs.get(fact.ref or "", {})
    values: list[int] = []
    for path, row in rows:
        raw = row.get(fname)
        if raw is None:
            values.append(NO_REF)
            continue
        key = raw if type(raw) is str else _id_text(raw, fact, f"{path}.{fname}")
        got = target.get(key)
        if got is None:
            raise _no_such_ref(f"{path}.{fname}", key)
        values.append(got)
    n = len(values)
    if NO_REF not in values:
        return Col(np.array(values, dtype=np.int64), filled(np.bool_, True, n))
    if all(v == NO_REF for v in values):
        return Col(filled(np.int64, NO_REF, n), filled(np.bool_, False, n))
    return Col(np.array(values, dtype=np.int64), np.array([v != NO_REF for v in values], dtype=np.bool_))


_ALLOWED: Final = {table: frozenset(facts) for table, facts in FACTS.items()}
_NO_EXTRA: Final[frozenset[str]] = frozenset()
# The keys a nested row takes from where it is written (its parent), as the case schema leaves them
# out: written again they are refused, not silently replaced by the parent's (README choice 65).
_PLACED: Final[dict[str, tuple[str, ...]]] = {
    "other_loans": ("person_id",),
    "business_years": ("business_id", "year"),
    "contributions": ("hire_id",),
}
_NESTED_ALLOWED: Final = {t: _ALLOWED[t] - frozenset(keys) for t, keys in _PLACED.items()}
_PARENT_ZH: Final = {
    "other_loans": "所在的人员",
    "business_years": "所在的经营主体与年度键",
    "contributions": "所在的招用记录",
}


def _check_keys(
    path: str, row: Mapping[str, Any], table: str, extra: frozenset[str] = _NO_EXTRA, *, nested: bool = False
) -> None:
    """Every key of ``row`` is a fact of ``table`` (or one of ``extra``); for a ``nested`` row (an
    other loan, a business year, a contribution), not one its position sets (``_PLACED``)."""
    allowed = _NESTED_ALLOWED[table] if nested else _ALLOWED[table]
    if allowed.issuperset(row):
        return
    for key in row:
        if key not in allowed and key not in extra:
            if nested and key in _PLACED[table]:
                raise CaseError(
                    f"{path}.{key}", f"由{_PARENT_ZH[table]}决定，不能另写（见 xiangchuang schema case）"
                )
            raise CaseError(f"{path}.{key}", "不是可识别的字段（见 xiangchuang schema case）")


def _as_map(value: Any, path: str) -> Mapping[str, Any]:
    if type(value) is not dict and not isinstance(value, Mapping):
        raise CaseError(path, "须为对象（键值映射）")
    return value


def _as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise CaseError(path, "须为列表")
    return value


_TOP: Final = frozenset(
    {
        "person",
        "business",
        "hires",
        "loan",
        "loans",
        "trainings",
        "mentor_services",
        "carrier",
        "carriers",
        "onjob_trainings",
        "received",
        "on",
        "name",
        "note",
    }
)
# The case's own free-text fields (the schema: text or null), by their Chinese names.
_FREE_TEXT: Final = {"name": "案例名称", "note": "备注"}
_PERSON_EXTRA: Final = frozenset({"other_loans"})
_BUSINESS_EXTRA: Final = frozenset({"years"})
_HIRE_EXTRA: Final = frozenset({"person", "contributions"})


def case_to_tables(case: Mapping[str, Any]) -> Facts:
    """Convert one case document to engine tables (refs resolved to row numbers)."""
    case = _as_map(case, "案例")
    for key in case:
        if key not in _TOP:
            raise CaseError(key, "不是可识别的案例字段（见 xiangchuang schema case）")
    for key, label in _FREE_TEXT.items():
        value = case.get(key)
        if value is not None and not isinstance(value, str):  # (null, like a missing key: none)
            raise CaseError(key, f"{label}须为文本，不能是{_TYPE_ZH.get(type(value), '此类取值')}")
    if case.get("on") is not None:  # (the case's own evaluation date: checked whoever reads it)
        case_date(case)
    rows: dict[str, list[tuple[str, dict[str, Any]]]] = {t: [] for t in FACTS}
    ids: dict[str, dict[str, int]] = {t: {} for t in FACTS}

    def add(table: str, path: str, row: dict[str, Any], default_id: str) -> str:
        # (row is the caller's own copy of the document's mapping: it becomes the table's row)
        raw = row.get("id")
        # (text or an integer, as every id: a decimal, a boolean or a list is refused, not read as text)
        rid = default_id if raw is None else str(_parse_value(FACTS[table]["id"], raw, f"{path}.id"))
        if not rid.strip():  # (as a batch file's blank id: README choice 82)
            raise CaseError(f"{path}.id", "编号为空（编号须唯一且不能为空；不写时由系统编号）")
        row["id"] = rid
        if rid in ids[table]:
            raise CaseError(f"{path}.id", f"编号 {rid} 重复")
        ids[table][rid] = len(rows[table])
        rows[table].append((path, row))
        return rid

    founder_id: str | None = None
    other_loans: list[tuple[str, dict[str, Any]]] = []
    if "person" in case:
        p = dict(_as_map(case["person"], "person"))
        _check_keys("person", p, "persons", _PERSON_EXTRA)
        founder_id = add("persons", "person", p, "P1")
        if "other_loans" in p:
            for j, ol in enumerate(_as_list(p["other_loans"], "person.other_loans")):
                rpath = f"person.other_loans[{j}]"
                olm = dict(_as_map(ol, rpath))
                _check_keys(rpath, olm, "other_loans", nested=True)
                olm["person_id"] = founder_id
                other_loans.append((rpath, olm))

    carriers = list(_as_list(case.get("carriers", []), "carriers"))
    shift = 0  # (with ``carrier`` first, the list's own carriers[k] is the (k+1)-th)
    if "carrier" in case:
        carriers.insert(0, case["carrier"])
        shift = 1
    for j, c in enumerate(carriers):
        path = "carrier" if (shift and j == 0) else f"carriers[{j - shift}]"
        cm = dict(_as_map(c, path))
        _check_keys(path, cm, "carriers")
        add("carriers", path, cm, f"C{j + 1}")

    business_id: str | None = None
    years: list[tuple[str, dict[str, Any]]] = []
    if "business" in case:
        b = dict(_as_map(case["business"], "business"))
        _check_keys("business", b, "businesses", _BUSINESS_EXTRA)
        if founder_id is not None:
            b.setdefault("founder_id", founder_id)
        if "carrier_id" not in b and len(ids["carriers"]) == 1 and "tenancy_start" in b:
            b["carrier_id"] = next(iter(ids["carriers"]))
        business_id = add("businesses", "business", b, "B1")
        for year, y in _as_map(b.get("years", {}), "business.years").items():
            rpath = f"business.years.{year}"
            ym = dict(_as_map(y, rpath))
            _check_keys(rpath, ym, "business_years", nested=True)
            # (four digits, as the schema's year keys: "23", "+2023", " 2023" or a boolean key are not a year)
            if isinstance(year, bool) or not re.fullmatch(r"[0-9]{4}", str(year)):
                raise CaseError(rpath, "年度须为四位整数")
            try:  # (a year of the supported range, as every year fact: named at its key)
                ym["year"] = check_year(int(year))
            except OutOfRange as exc:
                raise CaseError(rpath, exc.rule("年度")) from None
            ym["business_id"] = business_id
            years.append((rpath, ym))
        # The founder's licence is the business's registration, unless the person says otherwise.
        if founder_id is not None and "registration_date" in b:
            registered = b["registration_date"]
            if registered is not None and _fast_date(registered) is _SLOW:
                # (checked here, so that a bad date is named where it was written, not as the
                # person's licence date, which is built first)
                _parse_value(
                    FACTS["businesses"]["registration_date"], registered, "business.registration_date"
                )
            prow = rows["persons"][ids["persons"][founder_id]][1]
            prow.setdefault("has_licence", True)
            prow.setdefault("licence_date", b["registration_date"])

    contributions: list[tuple[str, dict[str, Any]]] = []
    for j, h in enumerate(_as_list(case.get("hires", []), "hires")):
        path = f"hires[{j}]"
        hm = dict(_as_map(h, path))
        _check_keys(path, hm, "hires", _HIRE_EXTRA)
        if "person" in hm:
            pm = dict(_as_map(hm.pop("person"), f"{path}.person"))
            _check_keys(f"{path}.person", pm, "persons")
            # A hire may name its person both ways only if they agree (README choice 65): a person_id
            # and a person without an id is that person; two different ids are refused, not one
            # silently dropped.
            named = hm.get("person_id")
            if named is not None and pm.get("id") is None:
                pm["id"] = named
            pid = add("persons", f"{path}.person", pm, f"H{j + 1}P")
            if named is not None:
                fact = FACTS["hires"]["person_id"]
                text = named if type(named) is str else _id_text(named, fact, f"{path}.person_id")
                if text != pid:
                    raise CaseError(
                        f"{path}.person_id",
                        f"{fact.label}编号 {text} 与 {path}.person 的编号 {pid} 不一致：只写其一，或写同一编号",
                    )
            hm["person_id"] = pid
        if business_id is not None:
            hm.setdefault("business_id", business_id)
        hid = add("hires", path, hm, f"H{j + 1}")
        if "contributions" in hm:
            cpath = f"{path}.contributions"
            allowed = _NESTED_ALLOWED["contributions"]
            for k, c in enumerate(_as_list(hm["contributions"], cpath)):
                rpath = f"{cpath}[{k}]"
                cm = dict(c if type(c) is dict else _as_map(c, rpath))
                if not allowed.issuperset(cm):
                    _check_keys(rpath, cm, "contributions", nested=True)
                cm["hire_id"] = hid
                contributions.append((rpath, cm))

    loans = list(_as_list(case.get("loans", []), "loans"))
    shift = 0  # (as for carriers: with ``loan`` first, loans[k] is the (k+1)-th)
    if "loan" in case:
        loans.insert(0, case["loan"])
        shift = 1
    for j, ln in enumerate(loans):
        path = "loan" if (shift and j == 0) else f"loans[{j - shift}]"
        lm = dict(_as_map(ln, path))
        _check_keys(path, lm, "loans")
        kind = lm.get("kind")
        # The person borrows for an individual or partnership loan, and may for a loan of kind not
        # given (a small/micro-firm loan is the business's).
        if kind != "small_micro" and founder_id is not None:
            lm.setdefault("borrower_id", founder_id)
        if business_id is not None:
            # The applicant's business: its size, honours and credit rating count for the loan.
            lm.setdefault("business_id", business_id)
        if "district" not in lm and business_id is not None and "district" in case["business"]:
            lm["district"] = case["business"]["district"]
        add("loans", path, lm, f"L{j + 1}")

    for section, table, prefix in (
        ("trainings", "trainings", "T"),
        ("mentor_services", "mentor_services", "M"),
        ("onjob_trainings", "onjob_trainings", "O"),
    ):
        for j, r in enumerate(_as_list(case.get(section, []), section)):
            path = f"{section}[{j}]"
            rm = dict(_as_map(r, path))
            _check_keys(path, rm, table)
            if table == "trainings" and founder_id is not None:
                rm.setdefault("person_id", founder_id)
            add(table, path, rm, f"{prefix}{j + 1}")

    tables = {
        "persons": _build("persons", rows["persons"], ids),
        "carriers": _build("carriers", rows["carriers"], ids),
        "businesses": _build("businesses", rows["businesses"], ids),
        "business_years": _build("business_years", years, ids),
        "hires": _build("hires", rows["hires"], ids),
        "contributions": _build("contributions", contributions, ids),
        "loans": _build("loans", rows["loans"], ids),
        "other_loans": _build("other_loans", other_loans, ids),
        "trainings": _build("trainings", rows["trainings"], ids),
        "mentor_services": _build("mentor_services", rows["mentor_services"], ids),
        "onjob_trainings": _build("onjob_trainings", rows["onjob_trainings"], ids),
    }
    # A period given as two months (a hire's claim period): not out of order (README choice 5).
    for table in MONTH_PERIODS:
        wrong = period_out_of_order(table, tables[table].cols)
        if wrong is not None:
            row, field, rule = wrong
            raise CaseError(f"{rows[table][row][0]}.{field}", rule)

    # A hire's month or a business's year given twice (README: the registry's unique keys).
    for table, given in (("contributions", contributions), ("business_years", years)):
        found = repeated_key(table, tables[table].cols)
        if found is not None:
            row, earlier = found
            path, before = given[row][0], given[earlier][0]
            # (a YAML year key written 2023 and "2023": the same year at the same path)
            before = f"{before} " if before != path else '前面以另一种写法（如 2023 与 "2023"）写出的同一键'
            rule = repeated_key_rule(table, tables[table].cols, row, before, lambda t, r: list(ids[t])[r])
            raise CaseError(path, rule)

    # Which optional facts were given at all (absent → unknown; [] → known none), per row.
    def flags(table: str, key: str, found: list[bool]) -> None:
        tables[table].cols[key] = Col(np.array(found, dtype=np.bool_), filled(np.bool_, True, len(found)))

    flags(
        "hires",
        "__contributions_supplied",
        [isinstance(h, Mapping) and "contributions" in h for h in case.get("hires", [])],
    )
    flags(
        "persons",
        "__other_loans_supplied",
        [pid == founder_id and "other_loans" in case.get("person", {}) for pid in ids["persons"]],
    )
    flags("businesses", "__years_supplied", ["years" in case.get("business", {}) for _ in ids["businesses"]])
    received_rows: list[tuple[str, dict[str, Any]]] = []
    for j, r in enumerate(_as_list(case.get("received", []), "received")):
        path = f"received[{j}]"
        rm = dict(_as_map(r, path))
        _check_keys(path, rm, "received")
        program = rm.get("program")
        if type(program) is not str or program not in RECEIVED_SUBJECT:  # (a list is no program either)
            raise CaseError(f"{path}.program", "不是已知的项目编号（见 xiangchuang provisions）")
        subject_table, id_field = RECEIVED_SUBJECT[str(rm["program"])]
        if id_field == "person_id":
            # About a hired person (README choice 16), never defaulted to the applicant: an entry
            # naming no one belongs to this case and may be any of its business's hired persons.
            if "person_id" not in rm and "subject_id" not in rm and business_id is not None:
                rm["subject_id"] = business_id
        elif id_field not in rm:
            default = {"businesses": business_id, "persons": founder_id}.get(subject_table)
            if default is None:
                raise CaseError(f"{path}.{id_field}", "须写明享受主体的编号")
            rm[id_field] = default
        received_rows.append((path, rm))
    tables["received"] = _build("received", received_rows, ids)
    applicant = [pid == founder_id for pid in ids["persons"]]
    tables["persons"].cols["__applicant"] = Col(
        np.array(applicant, dtype=np.bool_), filled(np.bool_, True, len(applicant))
    )
    subject_rows: list[int] = []
    for path, r in received_rows:
        subject_table, id_field = RECEIVED_SUBJECT[str(r["program"])]
        if id_field not in r:
            subject_rows.append(NO_REF)
            continue
        raw = r[id_field]
        key = raw if type(raw) is str else _id_text(raw, FACTS["received"][id_field], f"{path}.{id_field}")
        subject_rows.append(ids[subject_table].get(key, NO_REF))
    tables["received"].cols["subject_row"] = Col(
        np.asarray(subject_rows, dtype=np.int64), filled(np.bool_, True, len(received_rows))
    )
    return Facts(tables, {"received"} if "received" in case else set())


def _no_such_ref(where: str, key: str) -> CaseError:
    """A reference naming no row of the case: a blank one says so (no 「编号  」 with nothing between)."""
    if not key.strip():
        return CaseError(where, "引用的编号为空（须写明案例中已有的编号，未知时不写该字段）")
    return CaseError(where, f"引用的编号 {key} 在案例中不存在")


def case_date(case: Mapping[str, Any]) -> dt.date | None:
    """The case's own evaluation date (``on``; None when not given): a date YYYY-MM-DD in the
    supported range, else CaseError naming the field ``on`` (as ``check`` and the web check-up say)."""
    on = case.get("on")
    if on is None:
        return None
    try:
        day = _case_date_text(on)
    except NoSuchDate as exc:  # (the right form, a month or day that does not exist: say which)
        raise CaseError("on", f"评估{exc}") from None
    except (TypeError, ValueError):
        raise CaseError("on", f"评估日期 {on!r} 须为 YYYY-MM-DD") from None
    try:
        return check_supported(day)
    except OutOfRange as exc:
        raise CaseError("on", exc.rule("评估日期")) from None


def combine(parts: Sequence[Facts]) -> Facts:
    """Concatenate the tables of several cases into one batch (references re-based).

    All parts must agree on which optional tables were supplied (as a batch of files does).
    """
    if not parts:
        raise ValueError("no cases")
    supplied = parts[0].supplied
    if any(("received" in p.supplied) != ("received" in supplied) for p in parts):
        raise ValueError("cases differ in whether they supply the register of received benefits")
    supplied = set().union(*(p.supplied for p in parts))
    names = list(parts[0].tables)
    offsets: dict[str, list[int]] = {}
    for name in names:
        acc, offs = 0, []
        for p in parts:
            offs.append(acc)
            acc += p.tables[name].n
        offsets[name] = offs
    out: dict[str, Table] = {}
    for name in names:
        total = sum(p.tables[name].n for p in parts)
        table = Table(name, total)
        cols = set().union(*(set(p.tables[name].cols) for p in parts))
        for col in sorted(cols):
            fact = FACTS.get(name, {}).get(col)
            values, known = [], []
            for k, p in enumerate(parts):
                c = p.tables[name][col]
                v = c.values
                if fact is not None and fact.kind == "ref" and fact.ref:
                    v = np.where(c.values >= 0, c.values + offsets[fact.ref][k], c.values)
                elif name == "received" and col == "subject_row":
                    progs = p.tables[name]["program"].values
                    shift = np.asarray(
                        [offsets[RECEIVED_SUBJECT[str(g)][0]][k] for g in progs], dtype=np.int64
                    )
                    v = np.where(c.values >= 0, c.values + shift, c.values)
                values.append(v)
                known.append(c.known)
            table.cols[col] = Col(np.concatenate(values), np.concatenate(known))  # type: ignore[arg-type]
        out[name] = table
    return Facts(out, set(supplied))
