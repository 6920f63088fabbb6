"""吸纳就业 — 渝人社发〔2020〕74号 一、（三）, clause 1.3.

job_subsidy (岗位补贴 6000元/人), social_insurance_subsidy (社保补贴) and workshop_award
(扶贫/就业帮扶车间 带动就业示范奖补). The hired person's facts come from the persons table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from xiangchuang.engine.dates import anniversary, month_index, month_start
from xiangchuang.engine.money import mul_rate_half_up
from xiangchuang.engine.parameters import thaw
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import (
    bit,
    has_all,
    in_groups,
    is_false,
    is_true,
    none_received,
)
from xiangchuang.engine.tri import PASS, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import pick

CLAUSE = "1.3"


def employer_founded_by_returning(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["business__founded_by_returning"])


def labour_contract(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["contract"])


# ---- job_subsidy ------------------------------------------------------------------------------


def job_group(ctx: Ctx) -> CondOut:
    """农村建档立卡贫困人员（脱贫人口）, 登记失业的低保家庭人员, and the districts' extensions."""
    g = ctx.t["person__groups"]
    listed = in_groups(g, ctx.groups_mask("job_subsidy.groups") | ctx.groups_mask("job_subsidy.extra_groups"))
    unemployed_dibao = has_all(g, bit("registered_unemployed") | bit("dibao"))
    return CondOut(any_of(listed, unemployed_dibao))


def consecutive_contributions(ctx: Ctx) -> CondOut:
    """连续缴纳1年以上且仍在缴纳: the current unbroken run, ending no earlier than the latest
    expected month (evaluation month minus the reporting lag), is at least 12 months long."""
    t = ctx.t
    run, last = t["si_run_months"], t["si_last_month"]
    need = ctx.ints("job_subsidy.min_consecutive_months")
    lag = ctx.ints("job_subsidy.reporting_lag_months")
    expected = (month_index(ctx.on_col) - lag).astype(np.int32)
    current = last.values >= expected
    run_now = pick(current, run.values, np.int32(0))
    need32 = np.asarray(need, dtype=np.int32)
    ok = run_now >= need32  # run_now is 0 unless current
    missing = np.maximum(need32 - run_now, np.int32(0))
    # If payments go on, the run reaches the minimum in month last + missing; not current: never.
    passes_on = np.full(ctx.n, np.int32(2**31 - 1), dtype=np.int32)
    growing = np.flatnonzero(current & ~ok)
    passes_on[growing] = month_start(last.values[growing] + missing[growing])
    return CondOut(
        tri(ok, run.known),
        passes_on=passes_on,
        info={"run_months": run_now, "min_months": need, "need_months": missing},
    )


def job_not_received(ctx: Ctx) -> CondOut:
    return none_received(ctx.t["job_subsidy_received"])


def job_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    return AmountOut(ctx.ints("job_subsidy.amount"))


JOB_SUBSIDY = Program(
    id="job_subsidy",
    clause=CLAUSE,
    title="岗位补贴",
    subject="hires",
    benefit="岗位补贴（每人一次）",
    paid_to="用人单位",
    summary="返乡入乡创业企业招用脱贫人口、登记失业的低保家庭人员等，签订劳动合同并连续缴纳社保1年以上且仍在缴纳的，每人6000元。",
    conditions=(
        Condition(
            "employer_founded_by_returning",
            CLAUSE,
            employer_founded_by_returning,
            "用人单位由返乡入乡创业人员创办",
            "用人单位不是返乡入乡创业人员创办",
            facts=("business__founded_by_returning",),
        ),
        Condition(
            "hired_group",
            CLAUSE,
            job_group,
            "招用人员属于脱贫人口、登记失业的低保家庭人员等群体",
            "招用人员不属于脱贫人口、登记失业的低保家庭人员等群体",
            facts=("person__groups",),
            params=("job_subsidy.groups", "job_subsidy.extra_groups"),
        ),
        Condition(
            "labour_contract",
            CLAUSE,
            labour_contract,
            "已签订劳动合同",
            "未签订劳动合同",
            facts=("contract",),
        ),
        Condition(
            "consecutive_contributions",
            CLAUSE,
            consecutive_contributions,
            "已连续缴纳社会保险费{run_months}个月且仍在缴纳（不少于{min_months}个月）",
            "连续缴纳社会保险费{run_months}个月，不足{min_months}个月或已中断",
            facts=("si_run_months",),
            params=("job_subsidy.min_consecutive_months", "job_subsidy.reporting_lag_months"),
            gap_msg="还需连续缴纳{need_months}个月",
        ),
        Condition(
            "not_received",
            CLAUSE,
            job_not_received,
            "该人员尚未享受过岗位补贴",
            "该人员已享受过岗位补贴（每人只享受一次）",
            facts=("job_subsidy_received",),
        ),
    ),
    amount=job_amount,
    amount_msg="每人{job_subsidy.amount}",
    amount_params=("job_subsidy.amount",),
)


# ---- social_insurance_subsidy -------------------------------------------------------------------


def si_group(ctx: Ctx) -> CondOut:
    """脱贫人口 (and CQ extensions), or a 登记失业 college graduate hired within 2 years of leaving school."""
    t = ctx.t
    g = t["person__groups"]
    listed = in_groups(
        g,
        ctx.groups_mask("social_insurance_subsidy.groups")
        | ctx.groups_mask("social_insurance_subsidy.extra_groups"),
    )
    grad_unemployed = has_all(g, bit("college_graduate") | bit("registered_unemployed"))
    gd, hd = t["person__graduation_date"], t["hire_date"]
    years = ctx.ints("social_insurance_subsidy.graduate_years")
    within = tri(hd.values <= anniversary(gd.values.astype(np.int32, copy=False), years), gd.known & hd.known)
    return CondOut(any_of(listed, all_of(grad_unemployed, within)), info={"graduate_years": years})


def _si_limits(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Months a hire may be subsidised for (36, or up to retirement when < 5 years remain at hire)."""
    result: tuple[np.ndarray, np.ndarray] = ctx.memo("si_limits", lambda: _si_limits_uncached(ctx))
    return result


def _si_limits_uncached(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    t = ctx.t
    max_months = ctx.ints("social_insurance_subsidy.max_months")
    near = ctx.ints("social_insurance_subsidy.near_retirement_years")
    male_age = ctx.ints("social_insurance_subsidy.retirement_age_male")
    female_age = ctx.ints("social_insurance_subsidy.retirement_age_female")
    birth, gender, hire = t["person__birth_date"], t["person__gender"], t["hire_date"]
    born = birth.values.astype(np.int32, copy=False)
    # One anniversary per retirement age (table lookups), then pick by gender.
    retire = pick(gender.values == 1, anniversary(born, female_age), anniversary(born, male_age))
    hire_v = hire.values.astype(np.int32, copy=False)
    # Fewer than ``near`` whole years from hire to retirement: the near-th anniversary of the hire
    # falls after the retirement date (the anniversary rule of completed years, 29 Feb included).
    near_rows = np.flatnonzero(birth.known & gender.known & hire.known & (anniversary(hire_v, near) > retire))
    limit = ctx.full(max_months).astype(np.int64)  # (a copy: written below)
    if near_rows.size:
        cap = ctx.full(max_months)[near_rows]
        months_left = month_index(retire[near_rows]).astype(np.int64) - month_index(hire_v[near_rows])
        limit[near_rows] = pick(months_left > cap, months_left, cap)
    return limit, max_months


def si_period(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """The claim period's first and last month per hire (default: the six months before ``on``)."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        t = ctx.t
        on_month = month_index(ctx.on_col)
        s, e = t["si_period_start"], t["si_period_end"]
        start = pick(s.known, s.values, on_month - 6).astype(np.int32, copy=False)
        end = pick(e.known, e.values, on_month - 1).astype(np.int32, copy=False)
        return start, end

    result: tuple[np.ndarray, np.ndarray] = ctx.memo("si_period", make)
    return result


def _paid_before(
    month: np.ndarray,
    seg: np.ndarray,
    count: np.ndarray,
    first: np.ndarray,
    broken: np.ndarray,
    *bounds: np.ndarray,
) -> list[np.ndarray]:
    """Per hire and per bound, how many of its paid months come before month ``bound``. A hire's
    months are ``month[seg : seg + count]``, distinct and ascending. When they are one unbroken run
    from ``first`` that is a subtraction; for the hires listed in ``broken`` they are compared one by
    one (the months of those hires are gathered once for all the bounds)."""
    outs = []
    for bound in bounds:
        out = np.asarray(bound - first, dtype=np.int64)
        np.maximum(out, 0, out=out)
        np.minimum(out, count, out=out)
        outs.append(out)
    if broken.size:
        lens = count[broken].astype(np.int64)
        offsets = np.cumsum(lens) - lens
        pos = np.repeat(seg[broken] - offsets, lens) + np.arange(int(lens.sum()), dtype=np.int64)
        paid = month[pos]
        for bound, out in zip(bounds, outs, strict=True):
            below = paid < np.repeat(bound[broken], lens)
            out[broken] = np.add.reduceat(below.astype(np.int64), offsets)
    return outs


def si_claim(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Employer contributions and months claimable in the claim period, per hire (exact ints)."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        t = ctx.t
        cm = ctx.tables["contribution_months"]
        month = cm["month"].values
        before = cm["fen_before"].values.astype(np.int64, copy=False)
        count = t["si_paid_months"].values
        first = t["si_first_month"].values
        seg = t["si_months_start"].values.astype(np.int64, copy=False)
        # Hires whose paid months have a gap (last - first + 1 months spanned, fewer paid).
        broken = np.flatnonzero(t["si_last_month"].values - first + 1 != count)

        start, end = si_period(ctx)
        limit, _ = _si_limits(ctx)
        rec = t["si_months_received"]
        received = pick(rec.known, rec.values, 0)
        hire_m = month_index(t["hire_date"].values.astype(np.int32, copy=False))
        # Per hire, the first and last claimable month: inside the claim period, not before the hire,
        # and within the subsidy limit counted from the hire month; then at most the months still
        # left under the cap, earliest first.
        lo = np.maximum(start, hire_m)
        hi = np.minimum(end, hire_m + limit - 1)
        below_lo, up_to_hi = _paid_before(month, seg, count, first, broken, lo, hi + 1)
        months = pick(hi >= lo, np.minimum(up_to_hi - below_lo, np.maximum(limit - received, 0)), 0)
        at = seg + below_lo
        total = before[at + months] - before[at]
        return total, months

    result: tuple[np.ndarray, np.ndarray] = ctx.memo("si_claim", make)
    return result


def si_months_left(ctx: Ctx) -> CondOut:
    rec = ctx.t["si_months_received"]
    limit, _ = _si_limits(ctx)
    return CondOut(
        tri(rec.values < limit, rec.known), info={"months_received": rec.values, "limit_months": limit}
    )


def si_contributions(ctx: Ctx) -> CondOut:
    total, months = si_claim(ctx)
    known = ctx.t["si_run_months"].known & ctx.t["hire_date"].known
    start, end = si_period(ctx)
    return CondOut(
        tri(total > 0, known),
        info={"claim_fen": total, "claim_months": months, "start_month": start, "end_month": end},
    )


def si_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    total, months = si_claim(ctx)
    return AmountOut(total, info={"claim_fen": total, "claim_months": months})


SOCIAL_INSURANCE_SUBSIDY = Program(
    id="social_insurance_subsidy",
    clause=CLAUSE,
    title="社保补贴",
    subject="hires",
    benefit="社会保险补贴（单位缴费部分）",
    paid_to="用人单位",
    summary="招用脱贫人口、登记失业离校2年内高校毕业生等并缴纳社保的，按单位实际缴纳的社会保险费给予补贴，最长3年。",
    conditions=(
        Condition(
            "hired_group",
            CLAUSE,
            si_group,
            "招用人员属于脱贫人口、登记失业离校{graduate_years}年内高校毕业生等群体",
            "招用人员不属于脱贫人口、登记失业离校{graduate_years}年内高校毕业生等群体",
            facts=("person__groups", "person__graduation_date", "hire_date"),
            params=(
                "social_insurance_subsidy.groups",
                "social_insurance_subsidy.extra_groups",
                "social_insurance_subsidy.graduate_years",
            ),
        ),
        Condition(
            "labour_contract",
            CLAUSE,
            labour_contract,
            "已签订劳动合同",
            "未签订劳动合同",
            facts=("contract",),
        ),
        Condition(
            "months_left",
            CLAUSE,
            si_months_left,
            "已享受{months_received}个月，未超过{limit_months}个月",
            "已享受{months_received}个月，达到{limit_months}个月上限",
            facts=("si_months_received",),
            params=("social_insurance_subsidy.max_months", "social_insurance_subsidy.near_retirement_years"),
        ),
        Condition(
            "contributions_in_period",
            CLAUSE,
            si_contributions,
            "申领期{start_month}至{end_month}单位缴纳社会保险费{claim_fen}（{claim_months}个月）",
            "申领期{start_month}至{end_month}无可补贴的单位缴费",
            facts=("si_run_months", "hire_date"),
        ),
    ),
    amount=si_amount,
    amount_msg="按申领期内单位实际缴纳的养老、医疗（含大额）、生育、失业、工伤保险费计{claim_fen}（{claim_months}个月），不含个人缴费",
    amount_params=("social_insurance_subsidy.max_months",),
)


# ---- workshop_award -------------------------------------------------------------------------------


def _tiers(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Per row: the award for the employed count, and the lowest tier's threshold (district tables)."""
    t = ctx.t
    employed = t["workshop_employed"].values.astype(np.int64, copy=False)
    ver = ctx.version("workshop_award.tiers")
    award = np.zeros(ctx.n, dtype=np.int64)
    lowest = np.zeros(ctx.n, dtype=np.int64)
    for v in np.unique(ver):
        if v < 0:
            continue
        rows = ctx.full(ver == v)
        tiers = sorted(
            thaw(ctx.param("workshop_award.tiers").versions[int(v)].value), key=lambda x: x["min_employed"]
        )
        mins = np.asarray([int(x["min_employed"]) for x in tiers], dtype=np.int64)
        awards = np.asarray([int(x["award"]) * 100 for x in tiers], dtype=np.int64)
        idx = np.searchsorted(mins, employed[rows], side="right") - 1
        award[rows] = pick(idx >= 0, awards[np.maximum(idx, 0)], 0)
        lowest[rows] = mins[0]
    return award, lowest


def workshop_recognised(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["workshop_recognised"])


def workshop_employment(ctx: Ctx) -> CondOut:
    e = ctx.t["workshop_employed"]
    _award, lowest = _tiers(ctx)
    return CondOut(
        tri(e.values >= lowest, e.known),
        info={
            "employed": e.values,
            "lowest_tier": lowest,
            "need": Later(lambda: np.maximum(lowest - e.values, 0)),
        },
    )


def workshop_year_free(ctx: Ctx) -> CondOut:
    return is_false(ctx.t["workshop_claimed_this_year"])


def workshop_build_facts(ctx: Ctx) -> CondOut:
    nb, cost = ctx.t["workshop_new_build"], ctx.t["workshop_build_cost_fen"]
    new = nb.known & nb.values.astype(bool)
    return CondOut(pick(new, tri(cost.values >= 0, cost.known), PASS).astype(np.int8))


def workshop_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    t = ctx.t
    award, _ = _tiers(ctx)
    nb = t["workshop_new_build"]
    new = nb.known & nb.values.astype(bool)
    num, den = ctx.ratio("workshop_award.build_rate")
    cap = ctx.ints("workshop_award.build_cap")
    build = pick(
        new,
        np.minimum(
            mul_rate_half_up(t["workshop_build_cost_fen"].values.astype(np.int64, copy=False), num, den), cap
        ),
        0,
    )
    return AmountOut(award + build, info={"employment_award_fen": award, "build_fen": build})


WORKSHOP_AWARD = Program(
    id="workshop_award",
    clause=CLAUSE,
    title="扶贫（就业帮扶）车间带动就业示范奖补",
    subject="businesses",
    benefit="年度带动就业奖补（及新建车间建设补助）",
    paid_to="车间经营主体",
    summary="认定的扶贫（就业帮扶）车间吸纳脱贫人口等就业困难人员，按吸纳人数分档给予年度奖补，新建车间另有建设补助。",
    conditions=(
        Condition(
            "workshop_recognised",
            CLAUSE,
            workshop_recognised,
            "已认定为扶贫（就业帮扶）车间",
            "未认定为扶贫（就业帮扶）车间",
            facts=("workshop_recognised",),
        ),
        Condition(
            "employment_tier",
            CLAUSE,
            workshop_employment,
            "吸纳脱贫人口等就业困难人员{employed}人，达到最低档{lowest_tier}人",
            "吸纳脱贫人口等就业困难人员{employed}人，未达到最低档{lowest_tier}人",
            facts=("workshop_employed",),
            params=("workshop_award.tiers",),
            gap_msg="还需吸纳{need}名脱贫人口等就业困难人员",
        ),
        Condition(
            "year_not_claimed",
            CLAUSE,
            workshop_year_free,
            "本年度尚未享受带动就业奖补",
            "本年度已享受带动就业奖补",
            facts=("workshop_claimed_this_year",),
        ),
        Condition(
            "build_facts",
            CLAUSE,
            workshop_build_facts,
            "建设补助所需信息完整",
            "新建车间须提供建设投入金额",
            facts=("workshop_build_cost_fen",),
        ),
    ),
    amount=workshop_amount,
    amount_msg="带动就业奖补{employment_award_fen}（按档次）+ 建设补助{build_fen}（按建设投入的比例，最高{workshop_award.build_cap}）",
    amount_params=("workshop_award.tiers", "workshop_award.build_rate", "workshop_award.build_cap"),
)
