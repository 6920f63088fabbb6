"""创业导师服务补助 mentor_service_subsidy — 渝人社发〔2020〕74号 二、（六）, clause 2.6.

根据服务工作量、导师层级和服务实效，按规定给予服务补助: amount = units × rate[activity][level]
× factor[rating], rounded half-up to the fen. The tables are configured (status: assumed).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Final

import numpy as np

from xiangchuang.engine.facts import FACTS
from xiangchuang.engine.money import mul_rate_half_up
from xiangchuang.engine.parameters import thaw, yuan_to_fen
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import is_true, none_received, within_amount_bound
from xiangchuang.engine.tri import FAIL, PASS, TriArray, all_of, tri
from xiangchuang.engine.vec import pick

CLAUSE = "2.6"
_RATES_WHERE = "参数 mentor_service_subsidy.rates"
_ACT = FACTS["mentor_services"]["activity"].choices
_LVL = FACTS["mentor_services"]["level"].choices
_RATING = FACTS["mentor_services"]["rating"].choices
# The ratings' Chinese names (the one definition; the mentor pool's pages use it too).
RATING_LABELS: Final = {"excellent": "优秀", "good": "良好", "pass": "合格", "poor": "较差"}


def _tables(ctx: Ctx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: rate (fen per unit), factor numerator and denominator (district tables by version)."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = ctx.t
        act = t["activity"].values.astype(np.int64, copy=False)
        lvl = t["level"].values.astype(np.int64, copy=False)
        rat = t["rating"].values.astype(np.int64, copy=False)
        rate = np.zeros(ctx.n, dtype=np.int64)
        fnum = np.zeros(ctx.n, dtype=np.int64)
        fden = np.ones(ctx.n, dtype=np.int64)
        vr = ctx.version("mentor_service_subsidy.rates")
        vf = ctx.version("mentor_service_subsidy.rating_factor")
        for v in np.unique(vr):
            if v < 0:
                continue
            table = thaw(ctx.param("mentor_service_subsidy.rates").versions[int(v)].value)
            grid = np.asarray(
                [[yuan_to_fen(table.get(a, {}).get(lv, 0), _RATES_WHERE) for lv in _LVL] for a in _ACT],
                dtype=np.int64,
            )
            rows = ctx.full(vr == v)
            rate[rows] = grid[act[rows], lvl[rows]]
        for v in np.unique(vf):
            if v < 0:
                continue
            table = thaw(ctx.param("mentor_service_subsidy.rating_factor").versions[int(v)].value)
            fr = [Fraction(Decimal(str(table.get(r, "0")))) for r in _RATING]
            rows = ctx.full(vf == v)
            fnum[rows] = np.asarray([f.numerator for f in fr], dtype=np.int64)[rat[rows]]
            fden[rows] = np.asarray([f.denominator for f in fr], dtype=np.int64)[rat[rows]]
        return rate, fnum, fden

    result: tuple[np.ndarray, np.ndarray, np.ndarray] = ctx.memo("mentor_tables", make)
    return result


def confirmed(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["confirmed"])


def workload(ctx: Ctx) -> CondOut:
    """Some workload, of a kind with a rate: no workload (units ≤ 0) fails whatever the activity
    and level (nothing to pay however they turn out), only the rate waits for them."""
    u = ctx.t["units"]
    rate, _, _ = _tables(ctx)
    state = all_of(tri(u.values > 0, u.known), tri(rate > 0, ctx.t["activity"].known & ctx.t["level"].known))
    return CondOut(state, info={"units": u.values, "rate_fen": rate})


def _factor_text(ctx: Ctx) -> Later:
    """Each row's rating factor, exact (「1.2」), for the messages."""
    _, fnum, fden = _tables(ctx)
    return Later(
        lambda: np.asarray(
            [
                f"{(Decimal(int(n)) / Decimal(int(d))).normalize():f}"
                for n, d in zip(ctx.full(fnum), ctx.full(fden), strict=True)
            ],
            dtype=object,
        )
    )


def effective(ctx: Ctx) -> CondOut:
    _, fnum, _ = _tables(ctx)
    rating = ctx.t["rating"]
    labels = np.asarray([RATING_LABELS[r] for r in _RATING], dtype=object)
    return CondOut(
        tri(fnum > 0, rating.known),
        info={
            "rating_label": Later(lambda: labels[ctx.full(rating.values).astype(np.int64)]),
            "factor": _factor_text(ctx),
        },
    )


def not_received(ctx: Ctx) -> CondOut:
    return none_received(ctx.t["mentor_service_subsidy_received"])


def _parts(units: np.ndarray, num: np.ndarray, fden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """units × rate × factor (``num / fden``, num = rate × factor numerator) in two parts, exact: the
    whole multiples of the denominator (``whole``, to be multiplied by ``num``) and the rest (< fden
    units) times the rate, rounded half-up to the fen."""
    whole, rest = np.divmod(units, fden)
    return whole, mul_rate_half_up(rest, num, fden)


def _within(units: np.ndarray, num: np.ndarray, fden: np.ndarray) -> np.ndarray:
    """Per row, whether the amount (whole × num + the rounded rest, ``_parts``) is below the bound of
    amounts (README choice 28), exactly: the same test as the on-the-job training's
    (``within_amount_bound``)."""
    whole, rest = _parts(units, num, fden)
    return within_amount_bound(whole, num, rest)


def _units_amount(units: np.ndarray, per_unit: np.ndarray, fnum: np.ndarray, fden: np.ndarray) -> np.ndarray:
    """units × per_unit × fnum / fden rounded half-up to the fen, exact (``_parts``). A row past the
    bound of amounts fails ``amount_in_range`` (a data error of that row, its amount not paid): 0
    here; every other row's amount is below 10^15, so none wraps around in int64, whatever other
    rows hold (a huge workload stopped the whole case or batch with an OverflowError)."""
    num = per_unit * fnum  # (a rate in fen times a small factor numerator)
    units = pick(_within(units, num, fden), units, 0)
    whole, rest = _parts(units, num, fden)
    out: np.ndarray = whole * num + rest
    return out


def amount_in_range(ctx: Ctx) -> CondOut:
    """The subsidy (units × rate × factor) is below the bound of amounts (README choice 28, as the
    on-the-job training's ``amount_in_range``): past it the row fails as a data error naming the
    workload, never an overflow that stops the whole case or batch. Decided where the workload, the
    activity, the level and the rating are known (otherwise the rate is not known: passes, the
    workload condition waits for them)."""
    t = ctx.t
    rate, fnum, fden = _tables(ctx)
    units = t["units"].values.astype(np.int64, copy=False)
    known = t["units"].known & t["activity"].known & t["level"].known & t["rating"].known
    state = pick(known & ~_within(units, rate * fnum, fden), FAIL, PASS)
    return CondOut(
        state.astype(np.int8),
        info={"units": t["units"].values, "rate_fen": rate, "factor": _factor_text(ctx)},
    )


def amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    rate, fnum, fden = _tables(ctx)
    units = ctx.t["units"].values.astype(np.int64, copy=False)
    return AmountOut(
        _units_amount(units, rate, fnum, fden),
        info={"rate_fen": rate, "units": units, "factor": _factor_text(ctx)},
    )


PROGRAM = Program(
    id="mentor_service_subsidy",
    clause=CLAUSE,
    title="创业导师服务补助",
    subject="mentor_services",
    benefit="服务补助",
    paid_to="创业导师",
    summary="参加创业讲座、项目论证、结对帮扶等公共服务活动的导师，按工作量、导师层级和服务实效给予补助。",
    conditions=(
        Condition(
            "confirmed",
            CLAUSE,
            confirmed,
            "服务已由组织单位确认",
            "服务尚未经组织单位确认",
            facts=("confirmed",),
        ),
        Condition(
            "workload",
            CLAUSE,
            workload,
            "服务工作量{units}（每次/场/对{rate_fen}）",
            "无有效服务工作量或该类服务未配置标准",
            facts=("units", "activity", "level"),
            params=("mentor_service_subsidy.rates",),
        ),
        Condition(
            "effective",
            CLAUSE,
            effective,
            "服务实效评价为{rating_label}（系数{factor}）",
            "服务实效评价为{rating_label}（系数{factor}），不予补助",
            facts=("rating",),
            params=("mentor_service_subsidy.rating_factor",),
        ),
        Condition(
            "amount_in_range",
            CLAUSE,
            amount_in_range,
            "补助金额在可核定的范围内",
            "服务工作量{units} × 每次{rate_fen} × 系数{factor}超出金额上限（须小于10^15分），数据有误，请核对服务工作量",
            facts=("units", "activity", "level", "rating"),
            params=("mentor_service_subsidy.rates", "mentor_service_subsidy.rating_factor"),
        ),
        Condition(
            "not_received",
            CLAUSE,
            not_received,
            "该服务记录尚未领取补助",
            "该服务记录已领取补助",
            facts=("mentor_service_subsidy_received",),
        ),
    ),
    amount=amount,
    amount_msg="工作量{units}次 × 每次{rate_fen} × 服务实效系数{factor}（四舍五入到分）",
    # (The amount reads all four: a row that fails on no workload while its activity is unknown does
    # not quote a placeholder rate, README choice 68.)
    amount_facts=("units", "activity", "level", "rating"),
    rule_facts=("units", "activity", "level", "rating"),
    amount_params=("mentor_service_subsidy.rates", "mentor_service_subsidy.rating_factor"),
)
