"""线上销售一次性补助 online_sales_subsidy — 渝人社发〔2020〕74号 一、（一）, clause 1.1.

线上年销售收入达到50万元及以上的，按不超过销售额的5%给予一次性补助，最高不超过20万元；
线上年销售2000单及以上的，按不超过快递费用的30%给予一次性补助，最高不超过20万元，同一主体不重复享受。
Both routes are computed and shown; by default the business gets the higher. ``online_route``
may name the other route, which must then qualify on its own.

By default (the higher route), when one route qualifies and the other's facts are unknown, the
amount is unknown (the other route might pay more: PROVISIONS §0, unknown is not zero) unless the
qualifying route already reaches the cap, or the other route's amount is known not to be higher.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.facts import FACTS
from xiangchuang.engine.money import format_fen, mul_rate_half_up
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import completed_year, is_true, none_received
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, tri
from xiangchuang.engine.vec import pick

CLAUSE = "1.1"
_ROUTES = FACTS["businesses"]["online_route"].choices


def founded_by_returning(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["founded_by_returning"])


def not_received_before(ctx: Ctx) -> CondOut:
    return none_received(ctx.t["online_sales_received"])


def sales_year_complete(ctx: Ctx) -> CondOut:
    """The sales year is a completed calendar year in which the business existed (registered in it
    or before): sales before its registration are not its own (as the startup subsidy's claim year,
    README choice 1). A year not yet ended passes on 1 January of the next year (「即将符合」,
    common.completed_year)."""
    return completed_year(ctx, ctx.t["sales_year"], "sales_year")


def revenue_route(ctx: Ctx) -> CondOut:
    out: CondOut = ctx.memo("revenue_route", lambda: _revenue_route(ctx))
    return out


def _revenue_route(ctx: Ctx) -> CondOut:
    rev = ctx.t["online_revenue_fen"]
    threshold = ctx.ints("online_sales_subsidy.revenue_threshold")
    return CondOut(
        tri(rev.values >= threshold, rev.known),
        info={
            "revenue_fen": rev.values,
            "threshold_fen": threshold,
            "gap_fen": Later(lambda: np.maximum(threshold - rev.values, 0)),
        },
    )


def orders_route(ctx: Ctx) -> CondOut:
    out: CondOut = ctx.memo("orders_route", lambda: _orders_route(ctx))
    return out


def _orders_route(ctx: Ctx) -> CondOut:
    """Route B: online orders in the year at least the threshold, paid as a share of the year's
    courier fees. Where the fees are known to give nothing — none, or so few that the share rounds
    to 0 fen — the route fails whatever the order count, known or not (README choices 57 and 89: a
    determination of ¥0.00 would use up the one-time subsidy, and a route that pays nothing is not
    undetermined for want of an order count). Fees unknown: a qualifying order count leaves the
    route unknown (its amount is)."""
    orders, fees = ctx.t["online_orders"], ctx.t["courier_fees_fen"]
    threshold = ctx.ints("online_sales_subsidy.orders_threshold")
    num, den = ctx.ratio("online_sales_subsidy.courier_rate")
    fee_v = np.maximum(fees.values.astype(np.int64, copy=False), 0)
    # Known fees whose share is 0 fen: none (README choice 57), or rounding half up to 0 (choice
    # 87): fees × rate < ½ fen, i.e. fees below ⌈den / (2·num)⌉ (no product that could overflow).
    least = pick(num > 0, -(-den // (2 * np.maximum(num, 1))), np.iinfo(np.int64).max)
    pays_nothing = fees.known & (fee_v < least)
    state = tri(orders.values >= threshold, orders.known)
    state = pick((state == PASS) & ~fees.known, UNKNOWN, state)
    state = pick(pays_nothing, FAIL, state).astype(np.int8)
    rate_text = Later(
        lambda: np.asarray(
            [
                _ratio_text(int(n), int(d))
                for n, d in zip(
                    ctx.full(np.asarray(num)).tolist(), ctx.full(np.asarray(den)).tolist(), strict=True
                )
            ],
            dtype=object,
        )
    )

    def texts(gap: bool) -> npt.NDArray[np.object_]:
        """Why the route fails: the courier fees give nothing, or too few orders (how many more)."""
        short = ctx.full(np.maximum(threshold - orders.values, 0)).tolist()
        limit = ctx.full(np.asarray(threshold)).tolist()
        count = ctx.full(orders.values).tolist()
        counted = ctx.full(orders.known).tolist()
        nothing = ctx.full(pays_nothing).tolist()
        fee = ctx.full(fee_v).tolist()
        rates = ctx.full(rate_text.make()).tolist()
        out = []
        for n, t, c, k, z, f, r in zip(short, limit, count, counted, nothing, fee, rates, strict=True):
            head = "" if gap else (f"线上年销售{c}单，" if k else "")
            if z and f <= 0:
                why = "快递费用为零，按快递费用计算的补助为零" + ("" if k else "，无论销售单数多少均不符合")
            elif z:
                why = f"快递费用{format_fen(f)}按{r}计算的补助四舍五入到分为零，按快递费用不能享受"
            else:
                why = f"线上年销售还差{n}单" if gap else f"未达到{t}单"
            out.append(head + why)
        return np.asarray(out, dtype=object)

    return CondOut(
        state,
        info={
            "orders": orders.values,
            "orders_threshold": threshold,
            "orders_fail_text": Later(lambda: texts(False)),
            "orders_gap_note": Later(lambda: texts(True)),
            "courier_fees_fen": fees.values,
        },
    )


def _ratio_text(num: int, den: int) -> str:
    """A rate as a percentage (3/10 → 30%)."""
    pct = Decimal(num) * 100 / Decimal(den)
    return f"{pct.normalize():f}%"


def _route_amount(ctx: Ctx, fact: str, rate: str, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """A route's amount on ``rows`` (its rate times the fact, rounded half up to the fen, then the
    cap), as a column that is 0 elsewhere. Only the rows whose route qualifies are computed: at 1M
    businesses a few per cent. (The rate and cap are read, and so quoted, whether or not a row
    qualifies: a row's explanation does not depend on the other rows.)"""
    out = np.zeros(ctx.n, dtype=np.int64)
    got = _amount_at(ctx, fact, rate, rows)
    if rows.size:
        out[rows] = got
    return out


def _amount_at(ctx: Ctx, fact: str, rate: str, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """A route's amount on ``rows`` only (rate, half up, cap; the values of a district's rows)."""

    def at(v: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return v if v.size == 1 else ctx.full(v)[rows]

    num, den = ctx.ratio(rate)
    cap = ctx.ints("online_sales_subsidy.cap")
    if not rows.size:
        return np.zeros(0, dtype=np.int64)
    base = ctx.t[fact].values[rows].astype(np.int64, copy=False)
    capped: npt.NDArray[np.int64] = np.minimum(mul_rate_half_up(base, at(num), at(den)), at(cap))
    return capped


def _by_route(ctx: Ctx, revenue: npt.NDArray[Any], orders: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Per row, the value of the route the applicant chose: by revenue, by orders, or (「auto」, the
    default, also where the choice is unknown) the higher of the two. Most rows take the default,
    so the higher is the column and only the rows with a chosen route are looked at."""
    route = ctx.t["online_route"]
    choice: npt.NDArray[Any] = ctx.memo("online_route_choice", lambda: pick(route.known, route.values, 0))
    out: npt.NDArray[Any] = np.maximum(revenue, orders)
    chosen = (choice != _ROUTES.index("auto")).nonzero()[0]  # (a column: np.flatnonzero's ravel not needed)
    if chosen.size:
        out = np.array(ctx.full(out))  # a writable column of its own
        given = choice[chosen]
        by_orders = pick(given == _ROUTES.index("orders"), ctx.full(orders)[chosen], out[chosen])
        out[chosen] = pick(given == _ROUTES.index("revenue"), ctx.full(revenue)[chosen], by_orders)
    return out


def chosen_route(ctx: Ctx) -> CondOut:
    """The route the applicant chose (default: the higher) must itself qualify. The messages say
    which route was taken and, where it fails, what the other route's state is: only where the
    other route qualifies is the applicant told to turn to it."""
    ra, ob = revenue_route(ctx).state, orders_route(ctx).state
    state = _by_route(ctx, ra, ob)

    def texts(failed: bool) -> npt.NDArray[np.object_]:
        route = ctx.t["online_route"]
        choice = ctx.full(ctx.memo("online_route_choice", lambda: pick(route.known, route.values, 0)))
        if not failed:
            return np.asarray([_PASSED[c] for c in choice.tolist()], dtype=object)
        by_revenue = choice == _ROUTES.index("revenue")
        other_state = pick(by_revenue, ctx.full(ob), ctx.full(ra))
        rows = zip(choice.tolist(), other_state.tolist(), strict=True)
        return np.asarray([_FAILED[c, o] for c, o in rows], dtype=object)

    return CondOut(
        state.astype(np.int8, copy=False),
        info={"route_passed": Later(lambda: texts(False)), "route_failed": Later(lambda: texts(True))},
    )


_LABEL = {"revenue": "销售额", "orders": "销售单数"}


def _route_texts() -> tuple[dict[int, str], dict[tuple[int, int], str]]:
    """chosen_route's messages by the route taken (code of ``online_route``) and, where it fails,
    the other route's state: only where the other route qualifies is the applicant told to turn to
    it. (A table of the few texts: a row's message is a lookup, not string work per row.)"""
    passed: dict[int, str] = {}
    failed: dict[tuple[int, int], str] = {}
    for code, name in enumerate(_ROUTES):
        if name not in _LABEL:  # 「auto」 (and no choice): the higher of the two
            passed[code] = "未选申领方式，默认取较高者，该方式符合条件"
            for state in (FAIL, UNKNOWN, PASS):
                failed[code, int(state)] = "按销售额、按销售单数两种方式均不符合条件"
            continue
        named = f"所选申领方式（按{_LABEL[name]}）"
        other_name = "按" + _LABEL["orders" if name == "revenue" else "revenue"]
        passed[code] = named + "符合条件"
        tails = {
            int(PASS): f"{other_name}符合条件，可改{other_name}申领",
            int(UNKNOWN): f"{other_name}是否符合尚缺信息",
            int(FAIL): f"{other_name}也不符合条件",
        }
        for other_state, tail in tails.items():
            failed[code, other_state] = f"{named}不符合条件，{tail}"
    return passed, failed


_PASSED, _FAILED = _route_texts()


def amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    ra, ob = ctx.full(states["revenue_route"]), ctx.full(states["orders_route"])
    by_revenue, by_orders = np.flatnonzero(ra == PASS), np.flatnonzero(ob == PASS)
    a = _route_amount(ctx, "online_revenue_fen", "online_sales_subsidy.revenue_rate", by_revenue)
    b = _route_amount(ctx, "courier_fees_fen", "online_sales_subsidy.courier_rate", by_orders)
    out = _by_route(ctx, a, b)
    # The higher of the two (the default) is unknown where one route qualifies below the cap and
    # the other is undecided with an amount that is unknown or higher. (The revenue route's amount
    # reads the revenue, which its own state reads: undecided means unknown. The orders route's
    # reads the courier fees, which may be known while the order count is not.) Only the rows of a
    # qualifying route are looked at.
    cap = ctx.full(ctx.ints("online_sales_subsidy.cap"))
    open_orders = by_revenue[(ob[by_revenue] == UNKNOWN) & (a[by_revenue] < cap[by_revenue])]
    if open_orders.size:
        fees_known = ctx.t["courier_fees_fen"].known[open_orders]
        fees_at = _amount_at(ctx, "courier_fees_fen", "online_sales_subsidy.courier_rate", open_orders)
        open_orders = open_orders[~(fees_known & (fees_at <= a[open_orders]))]
    open_revenue = by_orders[(ra[by_orders] == UNKNOWN) & (b[by_orders] < cap[by_orders])]
    known = None
    if open_orders.size or open_revenue.size:
        unsure = np.zeros(ctx.n, dtype=bool)
        unsure[open_orders] = True
        unsure[open_revenue] = True
        known = ~_auto_only(ctx, unsure)
    return AmountOut(
        out.astype(np.int64, copy=False),
        info={
            "route_revenue_fen": a,
            "route_orders_fen": b,
            # What the amount rule quotes: a route's amount, or that it cannot be computed where
            # whether the route qualifies is unknown (never ¥0.00 for an unknown revenue, §0);
            # and whether the higher route is taken or the applicant chose one.
            "route_revenue": Later(lambda: _route_amount_texts(ra, a)),
            "route_orders": Later(lambda: _route_amount_texts(ob, b)),
            "route_choice": Later(lambda: _choice_texts(ctx)),
        },
        known=known,
    )


def _route_amount_texts(state: TriArray, fen: npt.NDArray[np.int64]) -> npt.NDArray[np.object_]:
    """Per row, a route's amount as money, or 「无法计算（缺少事实）」 where its state is unknown."""
    out = np.asarray(
        [
            "无法计算（缺少事实）" if s == UNKNOWN else format_fen(int(x))
            for s, x in zip(state.tolist(), np.broadcast_to(fen, state.shape).tolist(), strict=True)
        ],
        dtype=object,
    )
    return out


_CHOICE_TEXTS: Final = {"revenue": "申请人选择按销售额申领", "orders": "申请人选择按快递费申领"}


def _choice_texts(ctx: Ctx) -> npt.NDArray[np.object_]:
    """Per row, which route's amount is paid: the applicant's choice, else the higher (default)."""
    route = ctx.t["online_route"]
    texts = np.asarray([_CHOICE_TEXTS.get(name, "默认取较高者") for name in _ROUTES], dtype=object)
    out: npt.NDArray[np.object_] = texts[
        pick(route.known, route.values, _ROUTES.index("auto")).astype(np.intp)
    ]
    return out


def _auto_only(ctx: Ctx, mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """``mask`` on the rows that take the higher route (「auto」 or no choice); False elsewhere."""
    route = ctx.t["online_route"]
    choice = ctx.memo("online_route_choice", lambda: pick(route.known, route.values, 0))
    out: npt.NDArray[np.bool_] = ctx.full(mask) & ctx.full(choice == _ROUTES.index("auto"))
    return out


PROGRAM = Program(
    id="online_sales_subsidy",
    clause=CLAUSE,
    title="线上销售一次性补助",
    subject="businesses",
    benefit="一次性补助",
    paid_to="创业主体",
    summary="返乡入乡创业企业线上年销售额达50万元或年销售2000单的，给予一次性补助，最高20万元，只享受一次。",
    conditions=(
        Condition(
            "founded_by_returning",
            CLAUSE,
            founded_by_returning,
            "主体由返乡入乡创业人员创办",
            "主体不是返乡入乡创业人员创办",
            facts=("founded_by_returning",),
        ),
        Condition(
            "not_received_before",
            CLAUSE,
            not_received_before,
            "此前未享受过线上销售补助",
            "已享受过线上销售一次性补助（同一主体不重复享受）",
            facts=("online_sales_received",),
        ),
        Condition(
            "sales_year_complete",
            CLAUSE,
            sales_year_complete,
            "销售年度{sales_year}年已结束且主体已登记",
            "销售年度{sales_year}年尚未结束或早于主体登记年度，须按主体登记后已结束的完整年度申请",
            facts=("sales_year", "registration_date"),
            gap_msg="{sales_year_note}",
        ),
        Condition(
            "chosen_route",
            CLAUSE,
            chosen_route,
            "{route_passed}",
            "{route_failed}",
            facts=("online_revenue_fen", "online_orders", "courier_fees_fen"),
            # (Decided by the routes' thresholds and the courier rate: without a value in force on
            # the date it is not met, README choice 25.)
            params=(
                "online_sales_subsidy.revenue_threshold",
                "online_sales_subsidy.orders_threshold",
                "online_sales_subsidy.courier_rate",
            ),
        ),
    ),
    any_of=(
        Condition(
            "revenue_route",
            CLAUSE,
            revenue_route,
            "线上年销售收入{revenue_fen}，达到{threshold_fen}及以上",
            "线上年销售收入{revenue_fen}，未达到{threshold_fen}",
            facts=("online_revenue_fen",),
            params=("online_sales_subsidy.revenue_threshold",),
            gap_msg="线上年销售收入还差{gap_fen}",
        ),
        Condition(
            "orders_route",
            CLAUSE,
            orders_route,
            "线上年销售{orders}单，达到{orders_threshold}单及以上",
            "{orders_fail_text}",
            facts=("online_orders", "courier_fees_fen"),
            params=("online_sales_subsidy.orders_threshold", "online_sales_subsidy.courier_rate"),
            gap_msg="{orders_gap_note}",
        ),
    ),
    any_of_label="销售额或销售单数满足其一",
    amount=amount,
    amount_msg=(
        "按销售额：{route_revenue}；按快递费：{route_orders}；"
        "{route_choice}，各自最高{online_sales_subsidy.cap}"
    ),
    amount_params=(
        "online_sales_subsidy.revenue_rate",
        "online_sales_subsidy.courier_rate",
        "online_sales_subsidy.cap",
    ),
    amount_facts=("online_revenue_fen", "online_orders", "courier_fees_fen"),
)
