"""The one registry of statistical indicators (clause 5.13 每季度汇总数据).

An indicator is data, not code paths: an id, a Chinese label, a unit, a group (one Excel sheet per
group), and a *source* — a SQLAlchemy ``Select`` with the columns

    entity          what is counted (an application id, a person id, …) — counted once per group
    district        the district code the entity is counted in
    at              the date / instant / month (``time``) that puts it into a quarter
    dim             the dimension value ('' when the indicator has none)
    amount          the summed or median value (fen, seconds, …; 1 for counts)
    application_id  the application behind the row, when there is one (drill-down), else NULL

The aggregation around the source is built once, in :mod:`xiangchuang.stats.repository`: GROUP BY
district, quarter, dim with ``COUNT(DISTINCT entity)``, ``SUM(amount)`` or the median (window functions),
on SQLite and PostgreSQL alike. A module adds its figures by calling :func:`register` (and
:func:`register_group` for a new sheet) at import time and listing itself in :data:`PROVIDERS`;
loans, training and mentors do so when they land.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Final, Literal

from sqlalchemy import Select

from xiangchuang.stats.periods import TimeKind, Window

Measure = Literal["count", "sum", "median"]
Source = Callable[[Window], Select[tuple[object, ...]]]


@dataclass(frozen=True)
class Group:
    id: str
    label: str  # the sheet name (≤ 31 characters)
    order: int


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    unit: str  # the unit shown: 人 / 户 / 个 / 件 / 元 / 天
    group: str
    source: Source
    time: TimeKind
    measure: Measure = "count"
    cumulative: bool = False  # the value at the quarter's end (everything up to it), not the quarter's flow
    dims: tuple[tuple[str, str], ...] | None = None  # a fixed dimension: (code, label) in display order
    dim_label: str | None = None  # the dimension's name (e.g. 人员类别); with dims=None: an open dimension
    dim_total: bool = False  # the dimension partitions the set: a 合计 column is the sum of its values
    entity: str = "applications"  # what drill-down returns ids of
    scale: int = 1  # stored units per shown unit (fen per 元 = 100; seconds per 天 = 86400)
    decimals: int = 0
    definition: str = ""  # 统计口径 in Chinese
    order: int = 0

    @property
    def additive(self) -> bool:
        """District rows add up to the city total (counts of entities in one district, sums)."""
        return self.measure != "median"

    @property
    def has_dim(self) -> bool:
        return self.dims is not None or self.dim_label is not None

    @property
    def header(self) -> str:
        return f"{self.label}（{self.unit}）"

    def dim_name(self, code: str) -> str:
        if self.dims is not None:
            for c, label in self.dims:
                if c == code:
                    return label
        return code

    def shown(self, value: int) -> float | int:
        """The stored integer in the shown unit (元 from fen, 天 from seconds)."""
        if self.scale == 1:
            return int(value)
        return round(value / self.scale, self.decimals)


_GROUPS: dict[str, Group] = {}
_INDICATORS: dict[str, Indicator] = {}
_order = [0]

# Modules that register indicators when imported (a new module appends itself here).
PROVIDERS: Final[list[str]] = [
    "xiangchuang.stats.builtin",
    "xiangchuang.stats.ind_training",
    "xiangchuang.stats.ind_outreach",
    "xiangchuang.stats.ind_services",
    "xiangchuang.stats.ind_community",
    "xiangchuang.stats.ind_jobs",
    "xiangchuang.stats.ind_carriers",
    "xiangchuang.stats.ind_mentors",
    "xiangchuang.stats.ind_loans",
]
_loaded = [False]


def register_group(group: Group) -> Group:
    existing = _GROUPS.get(group.id)
    if existing is not None and existing != group:
        raise ValueError(f"指标分组 {group.id} 已以不同定义注册")
    if len(group.label) > 31:
        raise ValueError(f"指标分组名称「{group.label}」超过 31 个字符（Excel 工作表名上限）")
    _GROUPS[group.id] = group
    return group


def register(indicator: Indicator) -> Indicator:
    """Add an indicator to the registry (ids are unique; its group must be registered first)."""
    if indicator.group not in _GROUPS:
        raise ValueError(f"指标 {indicator.id}：分组 {indicator.group} 未注册")
    if indicator.id in _INDICATORS and _INDICATORS[indicator.id] != indicator:
        raise ValueError(f"指标编号 {indicator.id} 重复")
    if indicator.dim_total and not indicator.has_dim:
        raise ValueError(f"指标 {indicator.id}：没有维度的指标不能有合计列")
    if indicator.measure == "median" and indicator.cumulative:
        raise ValueError(f"指标 {indicator.id}：中位数不能累计")
    if indicator.id not in _INDICATORS:
        _order[0] += 1
        indicator = replace(indicator, order=_order[0])
    _INDICATORS[indicator.id] = indicator
    return indicator


def load() -> None:
    """Import every provider module (idempotent)."""
    if _loaded[0]:
        return
    for name in PROVIDERS:
        importlib.import_module(name)
    _loaded[0] = True


def groups() -> list[Group]:
    load()
    return sorted(_GROUPS.values(), key=lambda g: (g.order, g.id))


def all_indicators(group: str | None = None) -> list[Indicator]:
    load()
    order = {g.id: g.order for g in _GROUPS.values()}
    out = [i for i in _INDICATORS.values() if group is None or i.group == group]
    return sorted(out, key=lambda i: (order[i.group], i.order))


def get(indicator_id: str) -> Indicator:
    load()
    try:
        return _INDICATORS[indicator_id]
    except KeyError:
        from xiangchuang.errors import NotFound

        raise NotFound(f"统计指标 {indicator_id!r} 不存在") from None


def select_indicators(ids: Iterable[str] | None) -> list[Indicator]:
    if ids is None:
        return all_indicators()
    return [get(i) for i in ids]


def catalogue() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    labels = {g.id: g.label for g in groups()}
    for i in all_indicators():
        out.append(
            {
                "id": i.id,
                "label": i.label,
                "unit": i.unit,
                "group": i.group,
                "group_label": labels[i.group],
                "measure": i.measure,
                "cumulative": i.cumulative,
                "dimension": i.dim_label,
                "dims": [{"code": c, "label": lab} for c, lab in i.dims] if i.dims else None,
                "additive": i.additive,
                "entity": i.entity,
                "definition": i.definition,
            }
        )
    return out
