"""创业补助 startup_subsidy — 渝人社发〔2020〕74号 一、（一）, clause 1.1.

高校毕业生、退役军人、返乡农民工等重点群体首次创办企业（含个体工商户）且正常经营1年以上的，
按企业实际缴纳社保费单位缴纳部分的20%给予创业补助，最长不超过3年。
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import anniversary
from xiangchuang.engine.money import mul_rate_half_up
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import (
    completed_year,
    enum_is,
    group_names,
    in_groups,
    is_false,
    is_true,
    kind_in_list,
)
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, tri
from xiangchuang.engine.vec import pick

CLAUSE = "1.1"


def founder_key_group(ctx: Ctx) -> CondOut:
    mask = ctx.groups_mask("startup_subsidy.key_groups")
    return CondOut(in_groups(ctx.t["founder__groups"], mask), info={"key_groups": group_names(mask)})


def first_business(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["founder__first_business"])


def business_kind(ctx: Ctx) -> CondOut:
    """The business's kind is in the list in force for the row (a district may extend it: the
    message names the list, README choice 75)."""
    return kind_in_list(ctx, "startup_subsidy.business_kinds", "kind", "business_kinds")


def operated_one_year(ctx: Ctx) -> CondOut:
    """正常经营1年以上: holds on T iff T ≥ anniversary(registration, 1) (民法典 第201条)."""
    reg = ctx.t["registration_date"]
    years = ctx.ints("startup_subsidy.min_operation_years")
    ann = anniversary(reg.values.astype(np.int32, copy=False), years)
    return CondOut(
        tri(ctx.on_col >= ann, reg.known),
        passes_on=ann,
        info={
            "anniversary_date": ann,
            "gap_days": Later(lambda: (ann - ctx.on_col).astype(np.int64)),
            "years": years,
        },
    )


def operating_normally(ctx: Ctx) -> CondOut:
    return CondOut(enum_is(ctx.t["status"], "businesses", "status", "normal"))


def claim_year_valid(ctx: Ctx) -> CondOut:
    """The claim year is a completed calendar year in which the business existed; a year not yet
    ended passes on 1 January of the next year (「即将符合」, common.completed_year)."""
    t = ctx.t
    return completed_year(ctx, t["claim_year"], "claim_year")


def year_not_claimed(ctx: Ctx) -> CondOut:
    return is_false(ctx.t["startup_claimed_this_year"])


def within_max_years(ctx: Ctx) -> CondOut:
    """不超过3年: the distinct years already received (any district) stay below the maximum.

    Register entries naming the same year count once; an entry whose period is not a year may be a
    year not yet counted: PASS when even the most possible is below the maximum, FAIL when the least
    reaches it, UNKNOWN in between (the least is then not known: README choice 34). Without the
    register (not supplied) both are unknown. The least counts only entries naming the business: it
    reaches the maximum — FAIL — even where an entry naming no one leaves the most unknown (README
    choice 16)."""
    least, most = ctx.t["startup_years_claimed"], ctx.t["startup_years_claimed_max"]
    max_years = ctx.ints("startup_subsidy.max_years")
    state = pick(least.values >= max_years, FAIL, pick(most.values < max_years, PASS, UNKNOWN))
    return CondOut(
        pick(most.known | (least.values >= max_years), state, UNKNOWN).astype(np.int8),
        info={"years_claimed": Later(lambda: _years_text(ctx)), "max_years": max_years},
    )


def _years_text(ctx: Ctx) -> npt.NDArray[np.object_]:
    """The years already received as the register shows them: exact, a range where entries whose
    period is not a year may or may not be years already counted (「1至2」), or a least where an
    entry naming no one may be the business's (「至少3」: FAIL needs only the least)."""
    least, most = ctx.t["startup_years_claimed"], ctx.t["startup_years_claimed_max"]
    rows = zip(
        ctx.full(least.values).tolist(),
        ctx.full(most.values).tolist(),
        ctx.full(most.known).tolist(),
        strict=True,
    )
    out = [
        f"{lo}至{hi}" if known and hi > lo else str(lo) if known else f"至少{lo}" for lo, hi, known in rows
    ]
    return np.asarray(out, dtype=object)


def contributions_paid(ctx: Ctx) -> CondOut:
    paid = ctx.t["employer_si_paid_fen"]
    return CondOut(tri(paid.values > 0, paid.known), info={"paid_fen": paid.values})


def amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    paid = ctx.t["employer_si_paid_fen"].values.astype(np.int64, copy=False)
    num, den = ctx.ratio("startup_subsidy.rate")
    return AmountOut(mul_rate_half_up(paid, num, den), info={"paid_fen": paid})


PROGRAM = Program(
    id="startup_subsidy",
    clause=CLAUSE,
    title="创业补助",
    subject="businesses",
    benefit="创业补助（按年度申领）",
    paid_to="创业主体",
    summary="重点群体首次创业、正常经营满1年的，按单位实际缴纳社保费的20%补助，最长3年。",
    conditions=(
        Condition(
            "founder_key_group",
            CLAUSE,
            founder_key_group,
            "创办人属于创业补助重点群体（{key_groups}）",
            "创办人不属于创业补助重点群体（{key_groups}）",
            facts=("founder__groups",),
            params=("startup_subsidy.key_groups",),
        ),
        Condition(
            "first_business",
            CLAUSE,
            first_business,
            "创办人系首次创办企业或个体工商户",
            "创办人此前已创办过企业或个体工商户，不属于首次创业",
            facts=("founder__first_business",),
        ),
        Condition(
            "business_kind",
            CLAUSE,
            business_kind,
            "主体类型属于{business_kinds}（本主体为{kind_name}）",
            "主体类型为{kind_name}，不属于可享受创业补助的主体类型（{business_kinds}）",
            facts=("kind",),
            params=("startup_subsidy.business_kinds",),
        ),
        Condition(
            "operated_one_year",
            CLAUSE,
            operated_one_year,
            "自登记之日起正常经营已满{years}年（{anniversary_date}起满足）",
            "正常经营未满{years}年",
            facts=("registration_date",),
            params=("startup_subsidy.min_operation_years",),
            gap_msg="还差{gap_days}天满{years}年（{anniversary_date}起满足）",
        ),
        Condition(
            "operating_normally",
            CLAUSE,
            operating_normally,
            "主体目前正常经营",
            "主体已注销、吊销或列入经营异常名录，不属于正常经营",
            facts=("status",),
        ),
        Condition(
            "claim_year_valid",
            CLAUSE,
            claim_year_valid,
            "申领年度{claim_year}年为已结束且主体已登记的年度",
            "申领年度{claim_year}年尚未结束或早于主体登记年度",
            facts=("claim_year", "registration_date"),
            gap_msg="{claim_year_note}",
        ),
        Condition(
            "year_not_claimed",
            CLAUSE,
            year_not_claimed,
            "该年度尚未享受创业补助",
            "该年度已享受过创业补助，同一年度不得重复申领",
            facts=("startup_claimed_this_year",),
        ),
        Condition(
            "within_max_years",
            CLAUSE,
            within_max_years,
            "已享受{years_claimed}个年度，未超过最长{max_years}年",
            "已享受{years_claimed}个年度，达到最长{max_years}年的上限",
            facts=("startup_years_claimed",),
            params=("startup_subsidy.max_years",),
        ),
        Condition(
            "contributions_paid",
            CLAUSE,
            contributions_paid,
            "申领年度企业实际缴纳社保费单位部分{paid_fen}",
            "申领年度企业未缴纳社保费单位部分，补助额为零",
            facts=("employer_si_paid_fen",),
        ),
    ),
    amount=amount,
    amount_msg="按申领年度单位实际缴纳社保费{paid_fen}的{startup_subsidy.rate}计算（四舍五入到分）",
    rule_facts=("employer_si_paid_fen",),
    amount_params=("startup_subsidy.rate",),
)
