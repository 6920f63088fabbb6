"""创业载体 indicators (clauses 1.1, 3.8): carriers by kind and level, workstations (total and occupied by
billed tenants), fee reductions per quarter, tenants with a reduction, free workstations granted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, Integer, Select, String, and_, cast, func, literal, null, select

from xiangchuang.carriers.service import KIND_LABELS, LEVEL_LABELS
from xiangchuang.models import Carrier, CarrierBill, Tenancy, Workstation, WorkstationAllocation
from xiangchuang.stats.indicators import Group, Indicator, register, register_group
from xiangchuang.stats.periods import Window

KIND_DIMS = tuple(KIND_LABELS.items())
LEVEL_DIMS = tuple(LEVEL_LABELS.items())
# A carrier with no recognition date on record counts from the notice's date (渝人社发〔2020〕74号).
_SINCE = dt.date(2020, 8, 5)

register_group(Group("carriers", "创业载体", 75))


def _recognised() -> Any:
    return func.coalesce(
        Carrier.district_date, Carrier.municipal_date, Carrier.national_date, literal(_SINCE, Date())
    )


def _no_app() -> Any:
    return cast(null(), Integer())


def _in_window(column: Any, w: Window, kind: str) -> list[Any]:
    lo = w.since(kind)  # type: ignore[arg-type]
    out = [column < w.until(kind)]  # type: ignore[arg-type]
    if lo is not None:
        out.append(column >= lo)
    return out


def src_carriers(dim: str) -> Any:
    def source(w: Window) -> Select[Any]:
        d: Any = {"kind": Carrier.kind, "level": Carrier.level}.get(dim, literal("", String()))
        at = _recognised()
        return select(
            Carrier.id.label("entity"),
            Carrier.district.label("district"),
            at.label("at"),
            d.label("dim"),
            literal(1, Integer()).label("amount"),
            _no_app().label("application_id"),
        ).where(*_in_window(at, w, "date"))

    return source


def src_workstations(w: Window) -> Select[Any]:
    at = _recognised()
    return (
        select(
            Workstation.id.label("entity"),
            Carrier.district.label("district"),
            at.label("at"),
            literal("", String()).label("dim"),
            literal(1, Integer()).label("amount"),
            _no_app().label("application_id"),
        )
        .join(Carrier, Carrier.id == Workstation.carrier_id)
        .where(*_in_window(at, w, "date"))
    )


def src_workstations_billed(w: Window) -> Select[Any]:
    return (
        select(
            Workstation.id.label("entity"),
            Carrier.district.label("district"),
            CarrierBill.month.label("at"),
            literal("", String()).label("dim"),
            literal(1, Integer()).label("amount"),
            _no_app().label("application_id"),
        )
        .join(Tenancy, Tenancy.id == CarrierBill.tenancy_id)
        .join(Carrier, Carrier.id == CarrierBill.carrier_id)
        .join(
            Workstation, and_(Workstation.carrier_id == Carrier.id, Workstation.number == Tenancy.workstation)
        )
        .where(*_in_window(CarrierBill.month, w, "month"))
    )


def src_reductions(*, tenants: bool) -> Any:
    def source(w: Window) -> Select[Any]:
        return (
            select(
                (CarrierBill.business_id if tenants else CarrierBill.id).label("entity"),
                Carrier.district.label("district"),
                CarrierBill.month.label("at"),
                Carrier.kind.label("dim"),
                CarrierBill.reduction_fen.label("amount"),
                _no_app().label("application_id"),
            )
            .join(Carrier, Carrier.id == CarrierBill.carrier_id)
            .where(
                *_in_window(CarrierBill.month, w, "month"),
                *([CarrierBill.reduction_fen > 0] if tenants else []),
            )
        )

    return source


def src_free_workstations(w: Window) -> Select[Any]:
    return (
        select(
            WorkstationAllocation.id.label("entity"),
            Carrier.district.label("district"),
            WorkstationAllocation.start.label("at"),
            literal("", String()).label("dim"),
            literal(1, Integer()).label("amount"),
            _no_app().label("application_id"),
        )
        .join(Carrier, Carrier.id == WorkstationAllocation.carrier_id)
        .where(*_in_window(WorkstationAllocation.start, w, "date"))
    )


register(
    Indicator(
        "carriers_total_by_kind",
        "创业载体按类型",
        "个",
        "carriers",
        src_carriers("kind"),
        "date",
        cumulative=True,
        dims=KIND_DIMS,
        dim_label="载体类型",
        dim_total=True,
        entity="carriers",
        definition="截至季末已登记的创业载体（返乡创业园、创业孵化基地、孵化服务指导站、农村电商公共服务中心、快递物流园区），按最早认定日期计入；无认定日期的自2020-08-05起计。",
    )
)
register(
    Indicator(
        "carriers_total_by_level",
        "创业载体按级别",
        "个",
        "carriers",
        src_carriers("level"),
        "date",
        cumulative=True,
        dims=LEVEL_DIMS,
        dim_label="载体级别",
        dim_total=True,
        entity="carriers",
        definition="截至季末，按载体当前级别（国家级、市级、区县级）。",
    )
)
register(
    Indicator(
        "carrier_workstations_total",
        "载体工位总数",
        "个",
        "carriers",
        src_workstations,
        "date",
        cumulative=True,
        entity="carrier_workstations",
        definition="截至季末各载体登记的工位数（含免费工位）。",
    )
)
register(
    Indicator(
        "carrier_workstations_occupied",
        "季度内在用工位（入驻企业出账）",
        "个",
        "carriers",
        src_workstations_billed,
        "month",
        entity="carrier_workstations",
        definition="季度内有入驻企业月度账单的工位数（同一工位只计一次）；占用率 = 本指标 ÷ 载体工位总数。",
    )
)
register(
    Indicator(
        "carrier_reductions",
        "载体场租、物业费、水电费减免金额",
        "元",
        "carriers",
        src_reductions(tenants=False),
        "month",
        measure="sum",
        dims=KIND_DIMS,
        dim_label="载体类型",
        dim_total=True,
        entity="carrier_bills",
        scale=100,
        decimals=2,
        definition="按账单月份计入季度：入驻企业月度账单中由政策引擎（carrier_rent_reduction）核定的减免合计。",
    )
)
register(
    Indicator(
        "carrier_reduction_tenants",
        "享受减免的入驻企业",
        "户",
        "carriers",
        src_reductions(tenants=True),
        "month",
        dims=KIND_DIMS,
        dim_label="载体类型",
        entity="businesses",
        definition="季度内至少一张账单有减免的入驻企业，每户计一次。",
    )
)
register(
    Indicator(
        "free_workstations_granted",
        "新分配免费创业工位",
        "个",
        "carriers",
        src_free_workstations,
        "date",
        entity="workstation_allocations",
        definition="按开始日期计入季度：经政策引擎（free_workstation）判定后分配给青年人才、农村建档立卡贫困人员的免费工位（续期不重复计）。",
    )
)
