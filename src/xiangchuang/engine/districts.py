"""Chongqing's 41 county-level units used by 渝人社发〔2020〕74号.

The list lives in ``xiangchuang/policy/districts.yaml``: the 38 区县 under their GB/T 2260 codes and the
three functional zones (两江新区, 重庆高新区, 万盛经开区) under project-assigned codes 500190, 500192 and
500193, which are *not* GB/T 2260 codes. Populations are approximate (see the YAML header).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

__all__ = [
    "KINDS",
    "District",
    "codes_by_short_names",
    "district_by_code",
    "district_codes",
    "is_district",
    "load_districts",
]

KINDS: Final[frozenset[str]] = frozenset({"区", "县", "自治县", "功能区"})

_RESOURCE_PACKAGE: Final = "xiangchuang.policy"
_RESOURCE_NAME: Final = "districts.yaml"


@dataclass(frozen=True, slots=True)
class District:
    """One county-level unit: code, full name, short name, kind and population in 10,000s."""

    code: int
    name: str
    short: str
    kind: str
    population_10k: float


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"区县名录 {_RESOURCE_NAME} 格式错误：{message}")


def _parse_entry(index: int, raw: Any) -> District:
    _require(isinstance(raw, dict), f"第{index + 1}项不是映射")
    code = raw.get("code")
    name = raw.get("name")
    short = raw.get("short")
    kind = raw.get("kind")
    population = raw.get("population_10k")
    _require(
        isinstance(code, int) and not isinstance(code, bool) and 100000 <= code <= 999999,
        f"第{index + 1}项的 code 必须是6位整数",
    )
    _require(isinstance(name, str) and bool(name), f"代码 {code} 缺少 name")
    _require(isinstance(short, str) and bool(short), f"代码 {code} 缺少 short")
    _require(isinstance(kind, str) and kind in KINDS, f"代码 {code} 的 kind 无效：{kind!r}")
    _require(
        isinstance(population, int | float) and not isinstance(population, bool) and population > 0,
        f"代码 {code} 的 population_10k 必须为正数",
    )
    return District(
        code=int(code),
        name=str(name),
        short=str(short),
        kind=str(kind),
        population_10k=float(population),
    )


@cache
def load_districts() -> tuple[District, ...]:
    """All districts in file order (38 区县 then 3 功能区). Cached."""
    text = resources.files(_RESOURCE_PACKAGE).joinpath(_RESOURCE_NAME).read_text(encoding="utf-8")
    data: Any = yaml.safe_load(text)
    _require(isinstance(data, dict) and isinstance(data.get("districts"), list), "缺少 districts 列表")
    districts = tuple(_parse_entry(i, raw) for i, raw in enumerate(data["districts"]))
    codes = [d.code for d in districts]
    _require(len(set(codes)) == len(codes), "代码重复")
    labels = [d.short for d in districts] + [d.name for d in districts if d.name != d.short]
    _require(len(set(labels)) == len(labels), "名称或简称重复")
    return districts


@cache
def _by_code() -> dict[int, District]:
    return {d.code: d for d in load_districts()}


@cache
def _by_label() -> dict[str, District]:
    table: dict[str, District] = {}
    for d in load_districts():
        table[d.name] = d
        table[d.short] = d
    return table


def district_by_code(code: int) -> District:
    """The district with this code; ``KeyError`` (Chinese message) if there is none."""
    try:
        return _by_code()[code]
    except (KeyError, TypeError):
        raise KeyError(f"未知的区县代码：{code}") from None


def district_codes() -> tuple[int, ...]:
    """All 41 codes in file order."""
    return tuple(d.code for d in load_districts())


def is_district(code: int) -> bool:
    """Whether ``code`` is one of the 41 codes (never raises)."""
    try:
        return code in _by_code()
    except TypeError:
        return False


def codes_by_short_names(names: Iterable[str]) -> tuple[int, ...]:
    """Codes for short names such as ``["万州", "两江"]``, in input order.

    Full names (``万州区``) are accepted too; surrounding whitespace is ignored. An unknown name raises
    ``ValueError`` naming it in Chinese.
    """
    table = _by_label()
    if isinstance(names, str):  # a single name, not an iterable of characters
        names = (names,)
    codes: list[int] = []
    for raw in names:
        key = raw.strip() if isinstance(raw, str) else raw
        district = table.get(key) if isinstance(key, str) else None
        if district is None:
            raise ValueError(f"未知的区县名称：「{raw}」")
        codes.append(district.code)
    return tuple(codes)
