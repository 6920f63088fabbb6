"""吸纳就业 — 渝人社发〔2020〕74号 一、（三）, clause 1.3.

job_subsidy (岗位补贴 6000元/人), social_insurance_subsidy (社保补贴) and workshop_award
(扶贫/就业帮扶车间 带动就业示范奖补). The hired person's facts come from the persons table.

Choices where the notice is not explicit (README “规范不明确处的选择”):

- Contributions: a month after the evaluation month is not counted (it cannot have been paid on
  the evaluation date; assemble.py leaves such rows out). The evaluation month itself counts when
  it is on record; the latest month may lag by ``job_subsidy.reporting_lag_months`` (choice 4).
- 「即将符合」 of the 12-month run: if payments go on and each month is on record by the end of the
  reporting lag, the run reaches the minimum on the first day of month ``last + missing + lag``
  (always after the evaluation date); for a hire after the last paid month, counted from the hire
  month. No date where the hire date is unknown (whether the months count is unknown then), and
  the months still needed are then a lower bound (「至少还需…」, README choice 39).
- One job subsidy per hired person (每人一次): besides the register (received), among the hire
  records of one person in the same evaluation (one case, or a whole batch / registry) only one
  can be paid: the earliest by hire date (then by row order) among those that meet every other
  condition. A later record fails while an earlier one meets every other condition; it is
  undetermined while an earlier one is undetermined or when the order is not known (a hire date
  missing). Hires whose person is not given are not compared. A failed record's message names the
  record paid instead only where that one qualifies; else the candidates, one of which will be.
- Social-insurance subsidy: a month whose employer contribution is not given makes the amount
  unknown (never zero). The limit of 36 months extends to retirement when fewer than 5 years
  remain at hire; without the birth date or gender the limit lies between 36 months and the
  longest such extension, and the result is undetermined only where it depends on it. From
  2025-01-01 (evaluation date) the retirement age is the original one plus the gradual delay of
  the 2024 decision (by birth month: men born from 1965-01 one month more per 4 months of birth,
  up to 36; women of original age 50 born from 1975-01 one per 2 months, up to 60): README
  choice 52. The female original age 50 (worker, not cadre) stays an assumption.
- Social-insurance subsidy, a month is paid once: the claim period (default: the six months before
  the evaluation month, ``default_claim_period``) from the hire month up to the evaluation month
  must not overlap a register entry of the hired person (any employer), whose period is the month
  range it paid, 「YYYY-MM/YYYY-MM」 (or 「YYYY-MM至YYYY-MM」). An entry written as a year that the
  claim touches, or without a readable period, leaves the condition unknown. An entry without
  ``months`` counts the months of its range (neither: the months received are unknown). Months
  between subsidised ranges are claimable by a claim period of their own; a claim period that
  overlaps a range fails as a whole (the register records one month range per grant, README
  choice 49) and its distance names its months with contributions that no entry may cover.
- Social-insurance subsidy, a month is paid once within one evaluation too (one case, or a whole
  batch / registry; ``months_claimed_once``): of one person's hire records, a record whose months
  (as above, from the hire month) meet the months an earlier record claims (hire date, then row,
  as ``one_per_person``) fails as a whole while that record meets every other condition and is not
  itself outdone — as it would fail ``months_not_subsidised`` once the earlier claim is
  registered; undetermined while the earlier record may, or where the order is not known.
- Social-insurance subsidy, the limit within one evaluation (``_si_together``): a record's months
  left are the limit less the register's months and the months the person's earlier records of
  the same evaluation claim where they get them (meet every condition, not outdone; hire date,
  then row). Its claim is cut to them, earliest months first (as against the register), and with
  none left it fails ``months_left``, naming those records and their months — as approving the
  earlier records and registering their months would decide it. Undetermined where a record that
  may get months first (undetermined itself, or of unknown order: a hire date missing) changes
  the claim or that condition; such a record counts with the most months it may claim.
- 每人一次 and 「即将符合」: of one person's hire records at most one is listed as eligible or
  「即将符合」 (``one_listing_per_person``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.assemble import format_month_range
from xiangchuang.engine.dates import (
    add_months,
    anniversary,
    from_day,
    month_index,
    month_index_scalar,
    month_label,
    month_start,
)
from xiangchuang.engine.facts import filled
from xiangchuang.engine.money import format_fen, mul_rate_half_up
from xiangchuang.engine.parameters import ParameterError, thaw, yuan_to_fen
from xiangchuang.engine.program import (
    NEVER_DAY,
    SOON_UNPRICED,
    AmountOut,
    Condition,
    CondOut,
    Ctx,
    DayArray,
    Info,
    IntArray,
    Later,
    Program,
    Projection,
)
from xiangchuang.engine.programs.common import (
    bit,
    completed_year,
    group_names,
    has_all,
    in_groups,
    is_false,
    is_true,
    none_received,
)
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import lexsort, pick

CLAUSE = "1.3"


def employer_founded_by_returning(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["business__founded_by_returning"])


def labour_contract(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["contract"])


# ---- job_subsidy ------------------------------------------------------------------------------


def job_group(ctx: Ctx) -> CondOut:
    """农村建档立卡贫困人员（脱贫人口）, 登记失业的低保家庭人员, and the districts' extensions."""
    g = ctx.t["person__groups"]
    notice = ctx.groups_mask("job_subsidy.groups")
    listed = notice | ctx.groups_mask("job_subsidy.extra_groups")
    both = bit("registered_unemployed") | bit("dibao")
    # in_groups(g, listed) OR has_all(g, both): one fact, so one tri-state of the two tests.
    v = g.values.astype(np.int64, copy=False)
    _extension_moot(ctx, "job_subsidy.extra_groups", g.known & (((v & notice) != 0) | ((v & both) == both)))
    return CondOut(
        tri(((v & listed) != 0) | ((v & both) == both), g.known), info={"groups": group_names(listed)}
    )


def _extension_moot(ctx: Ctx, extension: str, by_notice: npt.NDArray[np.bool_]) -> None:
    """A list extending the notice's groups (Chongqing's or a district's) did not decide the rows
    the notice's own groups admit: not cited there, nor 「参数待核实」, nor a district's to pay
    (README choice 42)."""
    if by_notice.any():
        ctx.unused(extension, ctx.full(by_notice))


def consecutive_contributions(ctx: Ctx) -> CondOut:
    """连续缴纳1年以上且仍在缴纳: the current unbroken run, ending no earlier than the latest
    expected month (evaluation month minus the reporting lag), is at least 12 months long."""
    t = ctx.t
    run, last, hire = t["si_run_months"], t["si_last_month"], t["hire_date"]
    need = ctx.ints("job_subsidy.min_consecutive_months")
    lag = ctx.ints("job_subsidy.reporting_lag_months")
    expected = (month_index(ctx.on_col) - lag).astype(np.int32)
    last_v = last.values.astype(np.int32, copy=False)
    current = last_v >= expected
    # Only the months of this employment count: none before the hire month (a month before it is
    # not paid by this employer for this hire; README proposed choice). Hire date unknown: the run
    # as recorded, and the condition is unknown where the months before a hire could matter.
    # (In place on fresh columns: at 2M hires every pass saved is ~0.5 ms.)
    since_hire = np.subtract(last_v, t["hire_month"].values)  # a new column: reused
    since_hire += np.int32(1)
    np.maximum(since_hire, np.int32(0), out=since_hire)
    run_now = run.values.astype(np.int32)  # (a copy: written below)
    np.minimum(run_now, since_hire, out=run_now, where=hire.known)
    run_now *= current  # 0 unless the run is current
    need32 = np.asarray(need, dtype=np.int32)
    ok = run_now >= need32
    # If payments go on, the run reaches the minimum with month last + missing, which is on record
    # (at the latest) once the reporting lag has passed: from the first day of month
    # last + missing + lag the condition holds. As last >= expected = on month - lag and missing
    # >= 1, that day is after the evaluation date. A hire after the last paid month: its run
    # starts with the hire month, that many months later. Not current: never. Hire date unknown:
    # no date (whether the months count is unknown then, README choice 26). Only those rows get
    # a date (a sparse projection: at 2M hires no full column of "never" and no scan of it).
    growing = np.flatnonzero((current > ok) & hire.known)  # current and not ok
    when = np.zeros(0, dtype=np.int32)
    if growing.size:
        lag_rows = ctx.full(np.asarray(lag, dtype=np.int32))[growing]
        last_g = last_v[growing]
        missing_g = ctx.full(need32)[growing] - run_now[growing]  # (≥ 1: not ok)
        hire_m = t["hire_month"].values[growing]
        late = np.maximum(hire_m - last_g - np.int32(1), np.int32(0))
        when = np.maximum(month_start(last_g + missing_g + late + lag_rows), np.int32(ctx.on + 1))

    def need_text() -> npt.NDArray[np.object_]:
        """The months still needed: exact with the hire date; without it the run may hold months
        before the hire, so the need is a lower bound (no date from it, README choice 26)."""
        need_n = np.maximum(need32 - run_now, np.int32(0))
        bound = ~ctx.full(hire.known) & (run_now > 0)
        out = [
            f"至少还需连续缴纳{k}个月（招用日期未知，招用前的缴费月份不计入）"
            if b
            else f"还需连续缴纳{k}个月"
            for k, b in zip(ctx.full(need_n).tolist(), bound.tolist(), strict=True)
        ]
        return np.asarray(out, dtype=object)

    def shortfall() -> npt.NDArray[np.object_]:
        """Why the run falls short: too few months so far, or payments that stopped (naming the
        last month paid and the month payments should have reached), or none on record."""
        rows = zip(
            ctx.full(current).tolist(),
            ctx.full(last_v).tolist(),
            run_now.tolist(),
            ctx.full(need32).tolist(),
            ctx.full(expected).tolist(),
            # (the hire month where known: a month paid before it is not this hire's, README choice 39)
            ctx.full(pick(hire.known, t["hire_month"].values, -1)).tolist(),
            strict=True,
        )
        out = [
            f"连续缴纳社会保险费{r}个月，不足{m}个月"
            if cur
            else (
                f"无本次招用的社会保险缴费记录（应缴至{month_label(e)}）"
                if lm < 0 or lm < hm
                else f"最近一次缴费为{month_label(lm)}，此后未再缴纳（应缴至{month_label(e)}），连续缴费已中断"
            )
            for cur, lm, r, m, e, hm in rows
        ]
        return np.asarray(out, dtype=object)

    return CondOut(
        tri(ok, run.known & (hire.known | ~ok)),
        passes_on=Projection(ctx.n, growing, when.astype(np.int32, copy=False)),
        info={
            "run_months": run_now,
            "min_months": need,
            "need_text": Later(need_text),
            "shortfall": Later(shortfall),
            "soon_note": Later(lambda: _withheld_note(ctx)),
        },
    )


_WITHHELD: Final = "job_subsidy.soon_withheld"


def one_listing_per_person(
    ctx: Ctx, status: TriArray, soon: npt.NDArray[np.bool_], eligible_from: DayArray
) -> tuple[npt.NDArray[np.bool_], DayArray]:
    """每人一次 and 「即将符合」 (README choice 59): of one person's hire records, at most one
    is listed as eligible or 「即将符合」. A record is not 「即将符合」 while another record of the
    same person is eligible now (the person's one subsidy can be paid now), nor when another of the
    person's 「即将符合」 records reaches its date first (then by hire date, then row: the order of
    ``one_per_person``). The generic rule looks at each record alone; here only the 「即将符合」
    records of persons hired more than once are looked at (no loop over rows)."""
    t = ctx.t
    # Only the records of persons hired more than once (assemble.py lists them): no pass over
    # every row.
    repeat = ctx.tables["repeat_hires"]["row"].values
    cand = np.sort(repeat[ctx.full(soon)[repeat]])
    if not cand.size:
        return soon, eligible_from
    who = t["person_id"].values.astype(np.int64, copy=False)
    when = ctx.full(eligible_from)
    # Per person with an eligible record, that record (one_per_person leaves at most one per person).
    eligible = np.sort(repeat[ctx.full(status)[repeat] == PASS])
    paid_who, first_at = np.unique(who[eligible], return_index=True)
    if paid_who.size:
        pos = np.minimum(np.searchsorted(paid_who, who[cand]), paid_who.size - 1)
        by_paid = paid_who[pos] == who[cand]
        paid_instead = eligible[first_at[pos[by_paid]]]
    else:
        by_paid = np.zeros(cand.size, dtype=bool)
        paid_instead = np.zeros(0, dtype=np.int64)
    # The others: per person the record reaching its date first (then hire date, then row) is listed.
    rest = cand[~by_paid]
    hire = t["hire_date"].values.astype(np.int64, copy=False)
    ranked = rest[lexsort((rest, hire[rest], when[rest], who[rest]))]
    head = np.r_[True, who[ranked][1:] != who[ranked][:-1]] if ranked.size else np.zeros(0, dtype=bool)
    listed = ranked[head][np.cumsum(head) - 1]  # per ranked record, its person's listed record
    withheld = np.concatenate([cand[by_paid], ranked[~head]])
    if not withheld.size:
        return soon, eligible_from
    instead = np.concatenate([paid_instead, listed[~head]]).astype(np.int64)
    instead_day = np.concatenate(
        [np.full(paid_instead.size, NEVER_DAY, dtype=np.int64), when[listed[~head]].astype(np.int64)]
    )
    out_soon = np.array(ctx.full(soon))  # (writable columns of their own)
    out_from: DayArray = np.array(when, dtype=np.int32)
    out_soon[withheld] = False
    out_from[withheld] = NEVER_DAY
    ctx.memo(_WITHHELD, lambda: (withheld, instead, instead_day))
    return out_soon, out_from


def _withheld_note(ctx: Ctx) -> npt.NDArray[np.object_]:
    """Per record, why it is not 「即将符合」 although its only failing condition will pass in time
    (``one_listing_per_person``): the person's record listed instead; "" for every other record."""
    out = np.full(ctx.n, "", dtype=object)
    got = ctx.memo(_WITHHELD, lambda: None)
    if got is None:
        return out
    withheld, instead, instead_day = got
    ids = ctx.t["id"].values
    # The record listed instead may itself have been left out for want of a known projected amount
    # (evaluate._soon_amount_known): it still comes first, so this record is not listed either.
    unpriced = ctx.memo(SOON_UNPRICED, lambda: None)
    for row, other, day in zip(withheld.tolist(), instead.tolist(), instead_day.tolist(), strict=True):
        if day == NEVER_DAY:
            first = f"（该人员的招用记录{ids[other]}现已可享受岗位补贴"
        elif unpriced is not None and unpriced[other]:
            first = (
                f"（该人员的招用记录{ids[other]}将于{from_day(day).isoformat()}起满足各项条件"
                "（预计金额待定，未列为即将符合），先于本条"
            )
        else:
            first = f"（该人员的招用记录{ids[other]}将于{from_day(day).isoformat()}起符合"
        out[row] = first + "，每人只享受一次，本条不列为即将符合）"
    return out


def job_not_received(ctx: Ctx) -> CondOut:
    """Not received yet. The count is what the entries naming the person add up to; it is unknown
    where an entry naming no one may be the person's (assemble.py), but one entry is enough to fail."""
    return none_received(ctx.t["job_subsidy_received"])


def _memo(test: Callable[[Ctx], CondOut], program: str = "job_subsidy") -> Callable[[Ctx], CondOut]:
    """A condition whose outcome is computed once per evaluation (``one_per_person`` and
    ``months_claimed_once`` read the other conditions of their program too)."""
    key = f"{program}.{test.__name__}"

    def memoized(ctx: Ctx) -> CondOut:
        out: CondOut = ctx.memo(key, lambda: test(ctx))
        return out

    memoized.__name__ = test.__name__
    return memoized


_JOB_TESTS = tuple(
    _memo(f)
    for f in (
        employer_founded_by_returning,
        job_group,
        labour_contract,
        consecutive_contributions,
        job_not_received,
    )
)


def one_per_person(ctx: Ctx) -> CondOut:
    """每人一次 within one evaluation: of the hire records of one person, only the earliest (hire
    date, then row) of those meeting every other condition can be paid (see the module notes)."""
    n = ctx.n
    if n <= 1:
        return CondOut(filled(np.int8, PASS, n))
    t = ctx.t
    state = np.full(n, PASS, dtype=np.int8)
    # Only the hires of persons with several records are compared, per person in order: the
    # records with a known hire date by (date, row), then the others (assemble.py lists them).
    rep = ctx.tables["repeat_hires"]
    rows = rep["row"].values
    if not rows.size:
        return CondOut(state)
    group, start = rep["group"].values, rep["start"].values
    persons = int(group[-1]) + 1
    others = all_of(*(ctx.full(f(ctx).state)[rows] for f in _JOB_TESTS))
    g_dated = t["hire_date"].known[rows]
    g_pass = others == PASS
    g_unk = others == UNKNOWN

    def before(x: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        """Per record, how many records of the same person before it have ``x``."""
        c = np.cumsum(x, dtype=np.int64) - x
        out: npt.NDArray[np.int64] = c - c[start]
        return out

    def total(x: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
        out: npt.NDArray[np.int64] = np.bincount(group, weights=x, minlength=persons).astype(np.int64)
        return out

    # A dated record: its dated predecessors are the records before it; an undated record of the
    # person may come before or after it.
    pass_before = before(g_pass & g_dated)
    unk_before = before(g_unk & g_dated)
    undated_open = total(~g_dated & (g_pass | g_unk))[group]
    dated_state = np.where(
        pass_before > 0, FAIL, np.where((unk_before > 0) | (undated_open > 0), UNKNOWN, PASS)
    )
    # An undated record: any other record that meets or may meet the other conditions may be earlier.
    open_others = (total(g_pass) + total(g_unk))[group] - (g_pass | g_unk)
    undated_state = np.where(open_others > 0, UNKNOWN, PASS)
    state[rows] = np.where(g_dated, dated_state, undated_state).astype(np.int8)

    def earlier() -> npt.NDArray[np.object_]:
        """Per failed record, which earlier record is paid instead: the first dated one meeting the
        rest where it is eligible itself; else the candidates, one of which will be (it, the open
        dated records before it and the open records without a hire date, any of which may come
        first): whichever it is comes before the failed record."""
        ids = t["id"].values
        out = np.full(n, "", dtype=object)
        winner_pos = np.full(persons, -1, dtype=np.int64)
        hits = np.flatnonzero(g_pass & g_dated)
        groups, at = np.unique(group[hits], return_index=True)  # (the first of each person)
        winner_pos[groups] = hits[at]
        failed = np.flatnonzero(dated_state == FAIL)
        winner = winner_pos[group[failed]]
        sure = dated_state[winner] == PASS
        out[rows[failed[sure]]] = [
            f"更早的招用记录{x}已可享受岗位补贴" for x in ids[rows[winner[sure]]].tolist()
        ]
        # (A person's records: the dated ones first, in order; so all before the winner are dated.)
        open_undated = ~g_dated & (g_pass | g_unk)
        for f, w in zip(failed[~sure].tolist(), winner[~sure].tolist(), strict=True):
            first, end = int(start[f]), int(np.searchsorted(group, group[f], side="right"))
            dated = [str(ids[rows[p]]) for p in range(first, w + 1) if g_unk[p] or p == w]
            undated = [str(ids[rows[p]]) for p in range(w + 1, end) if open_undated[p]]
            maybe = f"或招用日期未知的{'、'.join(undated)}" if undated else ""
            out[rows[f]] = (
                f"更早的招用记录{'、'.join(dated)}{maybe}之一将享受岗位补贴"
                f"（{ids[rows[w]]}已满足其他各项条件，哪一条享受尚待判定），本条不能享受"
            )
        return out

    return CondOut(state, info={"earlier_hire": Later(earlier)})


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
            _JOB_TESTS[0],
            "用人单位由返乡入乡创业人员创办",
            "用人单位不是返乡入乡创业人员创办",
            facts=("business__founded_by_returning",),
        ),
        Condition(
            "hired_group",
            CLAUSE,
            _JOB_TESTS[1],
            "招用人员属于岗位补贴人员范围（{groups}、登记失业的低保家庭人员）",
            "招用人员不属于岗位补贴人员范围（{groups}、登记失业的低保家庭人员）",
            facts=("person__groups",),
            params=("job_subsidy.groups", "job_subsidy.extra_groups"),
        ),
        Condition(
            "labour_contract",
            CLAUSE,
            _JOB_TESTS[2],
            "已签订劳动合同",
            "未签订劳动合同",
            facts=("contract",),
        ),
        Condition(
            "consecutive_contributions",
            CLAUSE,
            _JOB_TESTS[3],
            "已连续缴纳社会保险费{run_months}个月且仍在缴纳（不少于{min_months}个月）",
            "{shortfall}",
            facts=("si_run_months", "hire_date"),
            params=("job_subsidy.min_consecutive_months", "job_subsidy.reporting_lag_months"),
            gap_msg="{need_text}{soon_note}",
        ),
        Condition(
            "not_received",
            CLAUSE,
            _JOB_TESTS[4],
            "该人员尚未享受过岗位补贴",
            "该人员已享受过岗位补贴（每人只享受一次）",
            unknown_msg="缺少事实，无法判断：{missing}（未提供已享受登记，或登记中有岗位补贴记录未写明被招用人员（person_id），可能就是该人员）",
            facts=("job_subsidy_received",),
        ),
        Condition(
            "one_per_person",
            CLAUSE,
            one_per_person,
            "该人员在本次评估中没有更早的可享受岗位补贴的招用记录",
            "该人员{earlier_hire}（每人只享受一次）",
            unknown_msg="该人员另有招用记录尚待判定或招用先后不明，本条能否享受岗位补贴暂无法确定（每人只享受一次）",
            facts=("hire_date",),
        ),
    ),
    amount=job_amount,
    amount_msg="每人{job_subsidy.amount}",
    amount_params=("job_subsidy.amount",),
    soon_rule=one_listing_per_person,
)


# ---- social_insurance_subsidy -------------------------------------------------------------------


def si_group(ctx: Ctx) -> CondOut:
    """脱贫人口 (and CQ extensions), or a 登记失业 college graduate hired within 2 years of leaving school."""
    t = ctx.t
    g = t["person__groups"]
    notice = ctx.groups_mask("social_insurance_subsidy.groups")
    listed = in_groups(g, notice | ctx.groups_mask("social_insurance_subsidy.extra_groups"))
    grad_unemployed = has_all(g, bit("college_graduate") | bit("registered_unemployed"))
    gd, hd = t["person__graduation_date"], t["hire_date"]
    years = ctx.ints("social_insurance_subsidy.graduate_years")
    # 离校2年内: hired on or after leaving school and no later than the anniversary (a person hired
    # before leaving school was not an unemployed graduate when hired).
    grad = gd.values.astype(np.int32, copy=False)
    after = hd.values >= grad
    within = tri(after & (hd.values <= anniversary(grad, years)), gd.known & hd.known)
    graduate = all_of(grad_unemployed, within)
    _extension_moot(
        ctx,
        "social_insurance_subsidy.extra_groups",
        (in_groups(g, notice) == PASS) | (graduate == PASS),
    )
    return CondOut(any_of(listed, graduate), info={"graduate_years": years})


def _si_limits(ctx: Ctx) -> tuple[IntArray, IntArray]:
    """Per hire, the fewest and the most months it may be subsidised for: 36, or up to retirement
    when fewer than 5 years remain at hire. The two differ only where the birth date or gender is
    missing: then the limit lies between 36 months and the longest extension possible."""
    lo, hi, _retired = _si_limits_and_retired(ctx)
    return lo, hi


def _retired_at_hire(ctx: Ctx) -> npt.NDArray[np.int8]:
    """Per hire (a full column), whether the person had reached statutory retirement age on the hire
    date: ``RETIRED_SURE``, ``RETIRED_MAYBE`` (by one of the two retirement ages, the gender missing)
    or 0. A limit of 0 months without it: the person reaches retirement age in the hire month, after
    the hire date (no whole month before it)."""
    return _si_limits_and_retired(ctx)[2]


RETIRED_SURE: Final = 2
RETIRED_MAYBE: Final = 1


def _si_limits_and_retired(ctx: Ctx) -> tuple[IntArray, IntArray, npt.NDArray[np.int8]]:
    result: tuple[IntArray, IntArray, npt.NDArray[np.int8]] = ctx.memo(
        "si_limits", lambda: _si_limits_uncached(ctx)
    )
    return result


def _month_labels(months: npt.NDArray[Any]) -> npt.NDArray[np.str_]:
    """Month numbers as 「YYYY-MM」, a text column (``month_label`` for every row at once)."""
    year, month0 = np.divmod(np.asarray(months, dtype=np.int64), 12)
    out: npt.NDArray[np.str_] = np.char.add(
        np.char.add(np.char.zfill((year + 1970).astype(str), 4), "-"),
        np.char.zfill((month0 + 1).astype(str), 2),
    )
    return out


# Why a hire has no month to subsidise (limit 0, README choice 5): the person had reached retirement
# age when hired, or reaches it in the hire month after the hire date (no whole month before it), or
# (the gender missing) one or the other.
_NONE_RETIRED: Final = "招用时已达法定退休年龄"
_NONE_RETIRING: Final = "招用当月即达法定退休年龄"
_NONE_EITHER: Final = "视性别而定，招用时已达或招用当月即达法定退休年龄"


def _no_month_reason(ctx: Ctx) -> npt.NDArray[np.str_]:
    """Per hire (a full column), which of them a limit of 0 months means."""
    retired = _retired_at_hire(ctx)
    out: npt.NDArray[np.str_] = np.where(
        retired == RETIRED_SURE, _NONE_RETIRED, np.where(retired == 0, _NONE_RETIRING, _NONE_EITHER)
    )
    return out


def _retirement_note(ctx: Ctx, *, none_left: bool = True) -> Later:
    """Per hire whose limit is known and set by retirement (not the usual ``max_months``): 「（招用时
    距法定退休不足N年，补贴至退休）」, or where the limit is 0 why (``_no_month_reason``: 「（招用当月即达
    法定退休年龄，退休当月及以后的月份不予补贴）」); "" elsewhere (README choice 5: the months up to the one
    before retirement). Without ``none_left``, "" where the limit is 0 too (for a message that gives
    the reason already: it is said once)."""

    def make() -> npt.NDArray[np.object_]:
        lo, hi = (ctx.full(x) for x in _si_limits(ctx))
        sure = (lo == hi) & ctx.full(ctx.t["hire_date"].known)
        usual = ctx.full(ctx.ints("social_insurance_subsidy.max_months"))
        near = ctx.full(ctx.ints("social_insurance_subsidy.near_retirement_years")).astype(str)
        by_retirement = sure & (lo != usual) & (none_left | (lo != 0))
        if not by_retirement.any():
            return _NO_TEXT
        text = np.char.add(np.char.add("（招用时距法定退休不足", near), "年，补贴至退休）")
        none = np.char.add(np.char.add("（", _no_month_reason(ctx)), "，退休当月及以后的月份不予补贴）")
        out: npt.NDArray[np.object_] = np.where(by_retirement, np.where(lo == 0, none, text), "").astype(
            object
        )
        return out

    return Later(make)


def _si_limits_uncached(ctx: Ctx) -> tuple[IntArray, IntArray, npt.NDArray[np.int8]]:
    t = ctx.t
    max_months = ctx.ints("social_insurance_subsidy.max_months")
    near = ctx.ints("social_insurance_subsidy.near_retirement_years")
    male_age = ctx.ints("social_insurance_subsidy.retirement_age_male")
    female_age = ctx.ints("social_insurance_subsidy.retirement_age_female")
    birth, gender, hire = t["person__birth_date"], t["person__gender"], t["hire_date"]
    born = birth.values.astype(np.int32, copy=False)
    # One anniversary per original retirement age (table lookups), then pick by gender. The 2025
    # delay only moves retirement later, so a hire far from the original retirement is far from
    # the delayed one too: the delay is worked out only for the rows that may be near.
    retire_f, retire_m = anniversary(born, female_age), anniversary(born, male_age)
    retire = pick(gender.values == 1, retire_f, retire_m)
    hire_v = hire.values.astype(np.int32, copy=False)
    # Fewer than ``near`` whole years from hire to retirement: the near-th anniversary of the hire
    # falls after the retirement date (the anniversary rule of completed years, 29 Feb included).
    hire_near = anniversary(hire_v, near)
    sure = birth.known & gender.known
    delays = (_RetirementDelay(ctx, "female", female_age), _RetirementDelay(ctx, "male", male_age))
    cand = np.flatnonzero(sure & hire.known & (hire_near > retire))
    limit = ctx.full(max_months).astype(np.int64)  # (a copy: written below)
    retired = np.zeros(limit.shape, dtype=np.int8)  # (``_retired_at_hire``)
    if cand.size:
        is_f = ctx.full(gender.values == 1)[cand]
        ret_c = np.empty(cand.size, dtype=np.int32)  # each row's own sex only (every row is one of them)
        for delay, mine in zip(delays, (is_f, ~is_f), strict=True):
            at = mine.nonzero()[0]
            if at.size:
                ret_c[at] = delay.retirement(born[cand[at]], cand[at])
        near_c = ctx.full(hire_near)[cand] > ret_c
        near_rows, ret_near = cand[near_c], ret_c[near_c]
        cap = ctx.full(max_months)[near_rows]
        months_left = month_index(ret_near).astype(np.int64) - month_index(hire_v[near_rows])
        # Until retirement, whether longer or shorter than the usual limit: no month after the
        # retirement date (a person already retired when hired: none).
        limit[near_rows] = np.maximum(months_left, 0)
        retired[near_rows] = np.where(hire_v[near_rows] >= ret_near, RETIRED_SURE, 0)
    unsure = np.flatnonzero(hire.known & ~ctx.full(sure))
    if not unsure.size:
        return limit, limit, retired
    lo, hi = limit, limit.copy()
    cap = ctx.full(max_months)[unsure].astype(np.int64)
    hire_u, near_u = hire_v[unsure], ctx.full(hire_near)[unsure]

    def extended(ret: npt.NDArray[np.int32]) -> IntArray:
        left = month_index(ret).astype(np.int64) - month_index(hire_u)
        out: IntArray = np.where(near_u > ret, np.maximum(left, 0), cap)
        return out

    # Birth date known, gender not: either retirement age. Birth date unknown: retirement may fall
    # anywhere, so the limit is at most the whole ``near`` years.
    born_u = ctx.full(born)[unsure]
    ret_f_u, ret_m_u = (delays[0].retirement(born_u, unsure), delays[1].retirement(born_u, unsure))
    by_f, by_m = extended(ret_f_u), extended(ret_m_u)
    born_known = ctx.full(birth.known)[unsure]
    retired[unsure] = born_known * ((hire_u >= ret_f_u).astype(np.int8) + (hire_u >= ret_m_u))
    longest = np.maximum(cap, ctx.full(near)[unsure].astype(np.int64) * 12)
    # (Birth date unknown: the person may have retired already, so no month is sure.)
    lo[unsure] = np.where(born_known, np.minimum(by_f, by_m), 0)
    hi[unsure] = np.where(born_known, np.maximum(by_f, by_m), longest)
    return lo, hi, retired


# The statutory retirement date's parameters (``_si_limits_uncached``, ``_RetirementDelay``).
RETIREMENT_PARAMS: Final = (
    "social_insurance_subsidy.retirement_age_male",
    "social_insurance_subsidy.retirement_age_female",
    *(
        f"social_insurance_subsidy.retirement_delay_{k}_{sex}"
        for sex in ("male", "female")
        for k in ("from", "step", "max")
    ),
)


class _RetirementDelay:
    """The statutory retirement date by the 2024 decision on the gradual delay (渐进式延迟法定退休
    年龄, in force from 2025-01-01): the original age plus one month per ``step`` months of birth
    from the ``from`` birth month on, at most ``max`` months (README choice 52). Before the
    decision is in force at the evaluation date: the original age, and its parameters are not
    used (not cited, never "not in force")."""

    def __init__(self, ctx: Ctx, sex: str, age: IntArray) -> None:
        self.ctx, self.age = ctx, age
        self.names = tuple(
            f"social_insurance_subsidy.retirement_delay_{k}_{sex}" for k in ("from", "step", "max")
        )
        self.on = ctx.in_force(self.names[0])
        # Read for every row (explanations cite the values in force), before marking the rows
        # where the decision is not in force (reading a parameter again would unmark them).
        self.values = tuple(ctx.ints(name) for name in self.names)
        off = ~ctx.full(self.on)
        if off.any():
            for name in self.names:
                ctx.unused(name, off)

    def retirement(self, born: DayArray, rows: npt.NDArray[np.int64]) -> DayArray:
        """Retirement dates of the persons born on ``born``, the table's rows ``rows``."""
        ctx = self.ctx
        first, step, most = (ctx.full(v)[rows] for v in self.values)
        age = ctx.full(self.age)[rows]
        reform = ctx.full(self.on)[rows]
        # Months of birth from the first delayed month; before it -1, which gives no delay.
        since = np.maximum(month_index(born) - month_index(first.astype(np.int32)), -1)
        delay = pick(reform, np.minimum(since // np.maximum(step, 1) + 1, most), 0)
        return add_months(born, 12 * age + delay)


# The default claim period: the six months before the evaluation month (README choice 5).
DEFAULT_PERIOD_FIRST: Final = 6  # months before the evaluation month
DEFAULT_PERIOD_LAST: Final = 1


def default_claim_period(on: dt.date) -> str:
    """The social-insurance subsidy's default claim period on ``on``, 「YYYY-MM/YYYY-MM」: the
    period the engine evaluates when a hire names none (the one definition, used by ``si_period``
    and offered by the applications module)."""
    m = month_index_scalar(on)
    return format_month_range(m - DEFAULT_PERIOD_FIRST, m - DEFAULT_PERIOD_LAST)


def si_period(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """The claim period's first and last month per hire (default: the six months before ``on``).
    A period given by one bound only takes the default for the other, but never past the bound
    given: start only, the end is the default end or the start month if later; end only, the start
    is the default start or the end month if earlier (a one-sided period is never inverted into
    one with no month, which would read as "no contributions"; both bounds given and inverted are
    an input error, README choice 73)."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        t = ctx.t
        on_month = month_index(ctx.on_col)
        s, e = t["si_period_start"], t["si_period_end"]
        start = pick(s.known, s.values, on_month - DEFAULT_PERIOD_FIRST)
        end = pick(e.known, e.values, on_month - DEFAULT_PERIOD_LAST)
        start = pick(~s.known & e.known, np.minimum(start, end), start).astype(np.int32, copy=False)
        end = pick(s.known & ~e.known, np.maximum(start, end), end).astype(np.int32, copy=False)
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


def _claim(
    ctx: Ctx,
    limit: IntArray,
    rows: npt.NDArray[np.int64] | None = None,
    extra: IntArray | None = None,
    *,
    used_up: bool = True,
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Per hire (or per hire of ``rows``) with the subsidy limit ``limit``: the employer contributions
    claimable in the claim period, the months claimed, how many of them have no known amount, and
    where the months claimed start among the distinct paid months (``contribution_months``).
    ``extra`` (per hire of ``rows``): months used up besides the register's, by the person's earlier
    records of the same evaluation (``_si_together``). Without ``used_up``: the months of the claim
    period within the subsidy window before the months already used up cut them
    (``_si_period_paid``)."""
    t = ctx.t
    cm = ctx.tables["contribution_months"]
    month = cm["month"].values
    before = cm["fen_before"].values.astype(np.int64, copy=False)
    unknown_before = cm.cols.get("unknown_before")

    def sub(a: npt.NDArray[Any]) -> npt.NDArray[Any]:
        return a if rows is None else ctx.full(a)[rows]

    count = sub(t["si_paid_months"].values)
    first = sub(t["si_first_month"].values)
    seg = sub(t["si_months_start"].values).astype(np.int64, copy=False)
    # Hires whose paid months have a gap (last - first + 1 months spanned, fewer paid).
    broken = np.flatnonzero(sub(t["si_last_month"].values) - first + 1 != count)

    start, end = si_period(ctx)
    start, end = sub(start), sub(end)
    lim = sub(limit)
    rec = t["si_months_received"]
    received = sub(pick(rec.known, rec.values, 0))
    if extra is not None:
        received = received + extra
    hire_m = sub(t["hire_month"].values)
    # Per hire, the first and last claimable month: inside the claim period, not before the hire,
    # and within the subsidy limit counted from the hire month; then at most the months still
    # left under the cap, earliest first.
    lo = np.maximum(start, hire_m)
    hi = np.minimum(end, hire_m + lim - 1)
    below_lo, up_to_hi = _paid_before(month, seg, count, first, broken, lo, hi + 1)
    in_window = up_to_hi - below_lo
    months = pick(hi >= lo, np.minimum(in_window, np.maximum(lim - received, 0)) if used_up else in_window, 0)
    at = seg + below_lo
    total = before[at + months] - before[at]
    if unknown_before is None:
        unknown = np.zeros(total.shape, dtype=np.int64)
    else:
        ub = unknown_before.values
        unknown = ub[at + months] - ub[at]
    return total, np.asarray(months, dtype=np.int64), unknown, np.asarray(at, dtype=np.int64)


class _SiClaim:
    """The claim per hire with the most months the subsidy limit may allow (``total``, ``months``,
    ``unknown``: months claimed without a known amount), and where it differs from the claim with
    the fewest (``depends``: the result rests on a missing birth date or gender)."""

    __slots__ = ("at", "depends", "months", "total", "unknown")

    def __init__(
        self, total: IntArray, months: IntArray, unknown: IntArray, at: IntArray, depends: Any
    ) -> None:
        self.total, self.months, self.unknown, self.at, self.depends = total, months, unknown, at, depends


def _claims(ctx: Ctx, rows: npt.NDArray[np.int64] | None = None, extra: IntArray | None = None) -> _SiClaim:
    """The claim of every hire, or of the hires ``rows`` with ``extra`` months used up besides the
    register's: with the fewest months the limit allows and, where the limit may be longer (a
    missing birth date or gender), with the most (``depends``: where the two differ)."""
    lo, hi = _si_limits(ctx)
    total, months, unknown, at = _claim(ctx, lo, rows, extra)
    depends: npt.NDArray[np.bool_] | None = None
    if hi is not lo:
        k = np.flatnonzero(hi != lo if rows is None else hi[rows] != lo[rows])
        if k.size:
            t2, m2, u2, a2 = _claim(
                ctx, hi, k if rows is None else rows[k], None if extra is None else extra[k]
            )
            depends = np.zeros(total.shape[0], dtype=bool)
            depends[k] = (t2 != total[k]) | (m2 != months[k]) | (u2 != unknown[k])
            total, months, unknown, at = total.copy(), months.copy(), unknown.copy(), at.copy()
            total[k], months[k], unknown[k], at[k] = t2, m2, u2, a2
    return _SiClaim(total, months, unknown, at, depends)


def si_claim(ctx: Ctx) -> _SiClaim:
    """Employer contributions and months claimable in the claim period, per hire (exact ints): with
    the months the register leaves, less those the person's earlier records of this evaluation
    claim (``_si_together``)."""
    return _si_together(ctx).claim


def _left_state(received: npt.NDArray[Any], known: npt.NDArray[np.bool_], hi: IntArray) -> TriArray:
    """``months_left`` from the months used up (``received``; where not ``known``, at least these):
    fails at the most months the limit may allow. (Where an entry naming no one may be the person's,
    the months are unknown but at least the months of the entries naming the person: at the limit
    already, the condition fails.)"""
    out: TriArray = pick(received >= hi, FAIL, tri(received < hi, known)).astype(np.int8)
    return out


def _limit_open(
    received: npt.NDArray[Any],
    known: npt.NDArray[np.bool_],
    lo: IntArray,
    hi: IntArray,
    depends: npt.NDArray[np.bool_] | None,
) -> npt.NDArray[np.bool_]:
    """Where the result rests on the limit's being unknown (``si_limit_known``): months would be
    left under the most months the limit may allow and not under the fewest, or the claim differs.
    Where the months used up are not ``known`` (at least ``received``), wherever months may be left
    under the most and the two limits differ: the months used up may lie between them (so that an
    unknown register never decides what a known one leaves open)."""
    differs: npt.NDArray[np.bool_] = np.where(
        known, (received < lo) != (received < hi), (received < hi) & (lo != hi)
    )
    return differs if depends is None else differs | depends


def _si_received(ctx: Ctx) -> npt.NDArray[Any]:
    """Per hire, the months used up as ``months_left`` counts them: the register's (where not
    known, at least these) and those the person's earlier records of this evaluation claim
    (``_si_together``)."""
    rec = ctx.t["si_months_received"]
    extra = _si_together(ctx).extra
    return rec.values if extra is None else rec.values + extra


def _si_exhausted(ctx: Ctx) -> npt.NDArray[np.bool_]:
    """Per hire, whether the months used up are at the most months the limit may allow (where
    ``months_left`` fails): no later month can be subsidised."""
    _lo, hi = _si_limits(ctx)
    return ctx.full(np.asarray(_si_received(ctx) >= hi))


def _next_claim(
    ctx: Ctx, next_month: IntArray, note: npt.NDArray[np.object_]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """The distance of a claim period that meets months already subsidised: the months of it that
    may still be claimed on their own (``note``) and the first month after those subsidised
    (「可从2024-01起申领」); where the limit is used up, neither (no month can be claimed any more)
    but 「已达最长补贴月数，不能再申领」. Texts for the rows with a first month (``next_month`` > 0)."""
    n = ctx.n
    nxt = ctx.full(np.asarray(next_month))
    out = np.full(n, "", dtype=object)
    kept = np.array(note, dtype=object)
    rows = np.flatnonzero(nxt > 0)
    if rows.size:
        used_up = _si_exhausted(ctx)[rows]
        out[rows] = [
            "已享受的月数已达最长补贴月数，此后各月均不能再申领" if u else f"可从{month_label(m)}起申领"
            for m, u in zip(nxt[rows].tolist(), used_up.tolist(), strict=True)
        ]
        kept[rows[used_up]] = ""
    return out, kept


def _contributions_state(total: IntArray, unknown: IntArray, known: npt.NDArray[np.bool_]) -> TriArray:
    """``contributions_in_period`` from the claim: some known contribution (pass), none (fail), or
    only months whose amount is not given (unknown: never read as zero); unknown where the hire date
    or the contributions are not known."""
    state = pick(total > 0, PASS, pick(unknown > 0, UNKNOWN, FAIL)).astype(np.int8)
    out: TriArray = pick(known, state, UNKNOWN).astype(np.int8)
    return out


_REGISTER_OPEN: Final = "缺少事实，无法判断已享受社保补贴的月数（未提供已享受登记，或登记中有社保补贴记录未写明被招用人员（person_id），可能就是该人员）"


def si_months_left(ctx: Ctx) -> CondOut:
    """Months left under the limit (with the most months the limit may allow: where that depends
    on a missing birth date or gender, ``si_limit_known`` is unknown). The months used up are the
    register's and those the person's earlier records of this evaluation claim (``_si_together``):
    with none left the record fails, naming those records; undetermined where records that may
    claim months first (undetermined, or of unknown order) change its claim or this condition."""
    rec = ctx.t["si_months_received"]
    lo, hi = _si_limits(ctx)
    together = _si_together(ctx)
    received = _si_received(ctx)
    # The limit quoted: the fewest months where fewer were used up (true whatever the limit).
    shown = hi if hi is lo else pick(received < lo, lo, hi)
    state = _left_state(received, rec.known, hi)
    unsure = together.unsure
    if unsure.size:
        state[unsure] = pick(state[unsure] == PASS, UNKNOWN, state[unsure])
    info: Info = {
        "months_received": rec.values,
        "limit_months": shown,
        "retirement_note": _retirement_note(ctx),
    }

    def limit_text() -> npt.NDArray[np.object_]:
        """The limit a passing row is under: 「36个月」, or where it rests on a missing birth date or
        gender and the months used up are not below the fewest, both bounds (not the longest as if
        known)."""
        lo_f, hi_f, shown_f = (ctx.full(x).astype(np.int64) for x in (lo, hi, shown))
        sure = np.char.add(shown_f.astype(str), "个月")
        if hi is lo:
            return sure.astype(object)
        open_ = np.char.add(
            np.char.add(np.char.add("最长补贴月数（在", lo_f.astype(str)), "至"),
            np.char.add(hi_f.astype(str), "个月之间，视出生日期、性别而定）"),
        )
        out: npt.NDArray[np.object_] = np.where(shown_f == lo_f, sure, open_).astype(object)
        return out

    info["limit_text"] = Later(limit_text)
    info["earlier_note"] = Later(lambda: _earlier_note(ctx, rec.values))
    info["unknown_reason"] = Later(lambda: _left_unknown(ctx, state, rec.values, rec.known, shown))
    return CondOut(state, info=info)


def si_limit_known(ctx: Ctx) -> CondOut:
    """Unknown where the birth date or gender is missing and the result depends on it: the claim
    or the months left differ between the fewest and the most months the limit may allow."""
    lo, hi = _si_limits(ctx)
    claim = si_claim(ctx)
    if hi is lo:
        return CondOut(filled(np.int8, PASS, ctx.n))
    rec = ctx.t["si_months_received"]
    differs = _limit_open(_si_received(ctx), rec.known, lo, hi, claim.depends)
    state = np.where(ctx.full(differs), UNKNOWN, PASS).astype(np.int8)
    return CondOut(state, info={"min_limit_months": lo, "max_limit_months": hi})


def si_window(ctx: Ctx) -> tuple[IntArray, IntArray]:
    """Per hire, the months a claim is checked against what was (or will be) subsidised already:
    the claim period from the hire month (where the hire date is known: else from the period's
    first month, which covers every month the hire might claim) up to the evaluation month (later
    months cannot have been paid yet). Full columns; lo > hi where there is no such month."""

    def make() -> tuple[IntArray, IntArray]:
        start, end = si_period(ctx)
        hd = ctx.t["hire_date"]
        hire_m = ctx.t["hire_month"].values
        lo = pick(hd.known, np.maximum(start, hire_m), start).astype(np.int64)
        hi = np.minimum(end, month_index(ctx.on_col)).astype(np.int64)
        return ctx.full(lo), ctx.full(hi)

    result: tuple[IntArray, IntArray] = ctx.memo("si_window", make)
    return result


def months_not_subsidised(ctx: Ctx) -> CondOut:
    """No month of the claim period was subsidised already (a month is paid once): the months
    evaluated (the claim period from the hire month, up to the evaluation month) against every
    register entry of the hired person, across employers (``si_register``, assemble.py).

    An entry whose period is a month range that overlaps them fails the condition, naming the
    overlap, the months of the claim period that the hire paid contributions for and no entry may
    cover (gap months, claimable by a period of their own) and the first month after the
    overlapping entries. The claim is not cut down to its unpaid months (README choice 49: a grant
    records one month range). An entry whose period is a year
    touching those months, or is missing or other text, may cover them: unknown (README choice
    34). Unknown too where the register was not supplied or an entry naming no one may be the
    person's (as ``months_left``), and where the hire date is unknown and a range overlaps (the
    months before the hire are not claimed, and may have been paid to another employer)."""
    t = ctx.t
    n = ctx.n
    start, end = si_period(ctx)
    hd = t["hire_date"]
    lo, hi = si_window(ctx)
    reg = ctx.tables["si_register"]
    fail = np.zeros(n, dtype=bool)
    unsure = np.zeros(n, dtype=bool)
    over_from = np.zeros(n, dtype=np.int64)
    over_to = np.zeros(n, dtype=np.int64)
    next_m = np.zeros(n, dtype=np.int64)
    entry_of = np.full(n, -1, dtype=np.int64)
    if reg.n:
        h = reg["hire"].values.astype(np.int64, copy=False)
        first, last, exact = reg["first"].values, reg["last"].values, reg["exact"].values
        hit = (first <= hi[h]) & (last >= lo[h]) & (lo[h] <= hi[h])
        sure = hit & exact & ctx.full(hd.known)[h]
        fail[h[sure]] = True
        unsure[h[hit & ~sure]] = True
        at = np.flatnonzero(sure)
        if at.size:
            # Per failing hire: its earliest overlapping entry (quoted), and the first month after
            # every overlapping entry.
            order = at[np.lexsort((first[at], h[at]))[::-1]]  # (the earliest written last)
            hh = h[order]
            entry_of[hh] = reg["entry"].values[order]
            over_from[hh] = np.maximum(first[order], lo[hh])
            over_to[hh] = np.minimum(last[order], hi[hh])
            np.maximum.at(next_m, h[at], last[at] + 1)
    # Where the register itself is open (not supplied, or an entry naming no one may be the
    # person's: ``si_register_open``, with ``si_months_received`` unknown), unknown whatever the
    # periods. (``si_received_periods`` is unknown where the person has an entry without a month
    # range: named as the missing fact when such an entry touches the months, ``unsure``.)
    open_ = ctx.full(t["si_register_open"].values)
    state = np.where(fail, FAIL, np.where(unsure | open_, UNKNOWN, PASS)).astype(np.int8)

    def period_text() -> npt.NDArray[np.object_]:
        out = np.full(n, "", dtype=object)
        rows = np.flatnonzero(entry_of >= 0)
        if rows.size:
            p = ctx.tables["received"]["period"]
            out[rows] = [str(x) for x in p.values[entry_of[rows]].tolist()]
        return out

    def gap_text() -> npt.NDArray[np.object_]:
        """Per failed row whose register is not open: the months of the claim period before the
        first month after the overlapping entries that the hire paid contributions for and that no
        entry of the person may cover (gap months between subsidised ranges, or before them),
        which a claim of their own may take; "" where there are none."""
        out = np.full(n, "", dtype=object)
        rows = np.flatnonzero(fail & ~open_)
        if not rows.size:
            return out
        owner, first_m, last_m = _unclaimed_runs(ctx, rows, lo, np.minimum(hi, next_m - 1))
        texts: dict[int, list[str]] = {}
        for k, a, b in zip(owner.tolist(), first_m.tolist(), last_m.tolist(), strict=True):
            texts.setdefault(int(rows[k]), []).append(
                month_label(a) if a == b else f"{month_label(a)}至{month_label(b)}"
            )
        for row, runs in texts.items():
            out[row] = f"申领期中{'、'.join(runs)}有单位缴费且未享受社保补贴，可按这些月份另行申领；其后"
        return out

    made: list[tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]] = []

    def claim() -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
        if not made:
            made.append(_next_claim(ctx, next_m, gap_text()))
        return made[0]

    return CondOut(
        state,
        info={
            "start_month": start,
            "end_month": end,
            "overlap_first_month": over_from,
            "overlap_last_month": over_to,
            "next_month": next_m,
            "received_period": Later(period_text),
            "unclaimed_note": Later(lambda: claim()[1]),
            "next_claim": Later(lambda: claim()[0]),
        },
    )


def _unclaimed_runs(
    ctx: Ctx,
    rows: npt.NDArray[np.intp],
    lo: IntArray,
    top: IntArray,
    extra: tuple[IntArray, IntArray, IntArray] | None = None,
) -> tuple[IntArray, IntArray, IntArray]:
    """For the hires ``rows`` (ascending): their paid months from ``lo`` to ``top`` that no register
    entry of the hire's person may cover (a month range, or every month of a year or of an entry
    without a readable period), nor any of the ``extra`` month ranges (hire row, first month, last
    month: what other records of the person claim in the same evaluation), as runs of consecutive
    months: (index into ``rows``, first month, last month), in row and month order. NumPy over the
    rows' months and entries (no row loop)."""
    t = ctx.t
    month = ctx.tables["contribution_months"]["month"].values
    seg = t["si_months_start"].values[rows].astype(np.int64)
    cnt = t["si_paid_months"].values[rows].astype(np.int64)
    offsets = np.cumsum(cnt) - cnt
    owner = np.repeat(np.arange(rows.size, dtype=np.int64), cnt)
    m = month[np.repeat(seg - offsets, cnt) + np.arange(int(cnt.sum()), dtype=np.int64)].astype(np.int64)
    keep = (m >= lo[rows][owner]) & (m <= top[rows][owner])
    owner, m = owner[keep], m[keep]
    # The months in (owner, month) order as keys; each entry of an owner's person marks the keys it
    # spans (a running count of entries open over each month).
    shift, span = np.int64(1 << 20), np.int64(1 << 32)  # (month numbers of 1900–2199 fit in ±2**20)
    key = owner * span + (m + shift)
    reg = ctx.tables["si_register"]
    h = reg["hire"].values.astype(np.int64, copy=False)
    first = reg["first"].values.astype(np.int64)
    last = reg["last"].values.astype(np.int64)
    if extra is not None:
        h = np.concatenate([h, extra[0].astype(np.int64)])
        first = np.concatenate([first, extra[1].astype(np.int64)])
        last = np.concatenate([last, extra[2].astype(np.int64)])
    at = np.minimum(np.searchsorted(rows, h), rows.size - 1)
    mine = np.flatnonzero(rows[at] == h)
    if mine.size and key.size:
        e_owner = at[mine].astype(np.int64)
        e_first = np.clip(first[mine], -shift, shift - 1) + shift
        e_last = np.clip(last[mine], -shift, shift - 1) + shift
        opens = np.searchsorted(key, e_owner * span + e_first, side="left")
        closes = np.searchsorted(key, e_owner * span + e_last, side="right")
        depth = np.zeros(key.size + 1, dtype=np.int64)
        np.add.at(depth, opens, 1)
        np.add.at(depth, closes, -1)
        free = np.cumsum(depth[:-1]) == 0
        owner, m = owner[free], m[free]
    if not m.size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    starts = np.flatnonzero(np.r_[True, (owner[1:] != owner[:-1]) | (m[1:] != m[:-1] + 1)])
    ends = np.r_[starts[1:] - 1, m.size - 1]
    return owner[starts], m[starts], m[ends]


def _used_months(ctx: Ctx, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Per hire of ``rows``, the months already used up: the register's (where known) and those the
    person's earlier records of this evaluation claim (``_si_together``)."""
    rec = ctx.t["si_months_received"]
    used: npt.NDArray[np.int64] = (ctx.full(rec.values)[rows] * ctx.full(rec.known)[rows]).astype(np.int64)
    extra = _si_together(ctx).extra
    if extra is not None:
        used = used + ctx.full(extra)[rows]
    return used


def _si_period_paid(ctx: Ctx) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Per hire (full columns): the employer contributions of the claim period within the subsidy
    window (from the hire month, the most months the limit may allow), before the months already
    used up (register, earlier records of this evaluation) cut them; as ``_claim``."""

    def make() -> tuple[IntArray, IntArray, IntArray, IntArray]:
        # Where no month is used up the claim is the period's own (the same window, nothing cut):
        # the period is worked out again only for the hires with months used up.
        claim = si_claim(ctx)
        cols = [ctx.full(x) for x in (claim.total, claim.months, claim.unknown, claim.at)]
        every = np.arange(ctx.n, dtype=np.int64)
        rows = every[_used_months(ctx, every) > 0]
        if rows.size:
            again = _claim(ctx, _si_limits(ctx)[1], rows, used_up=False)
            cols = [c.copy() for c in cols]
            for c, a in zip(cols, again, strict=True):
                c[rows] = a
        return cols[0], cols[1], cols[2], cols[3]

    result: tuple[IntArray, IntArray, IntArray, IntArray] = ctx.memo("si_period_paid", make)
    return result


def _unknown_months_text(ctx: Ctx, months: IntArray, unknown: IntArray, at: IntArray) -> Later:
    """Per hire, 「，其中YYYY-MM、…的单位缴费金额未知」 for the months ``months`` from ``at`` (among the
    distinct paid months) whose employer contribution is not given; "" where there is none (a sum
    over such months is only the known part, PROVISIONS §0: unknown is not zero)."""

    def make() -> npt.NDArray[np.object_]:
        ub = ctx.tables["contribution_months"].cols.get("unknown_before")
        if ub is None or not unknown.any():
            return _NO_TEXT
        out = np.full(ctx.n, "", dtype=object)
        rows = np.flatnonzero(ctx.full(unknown) > 0)
        month = ctx.tables["contribution_months"]["month"].values
        flags, first, count = ub.values, ctx.full(at), ctx.full(months)
        for i in rows.tolist():
            j = np.arange(int(first[i]), int(first[i] + count[i]), dtype=np.int64)
            gone = month[j[flags[j + 1] > flags[j]]].astype(np.int64)
            if gone.size >= count[i]:
                out[i] = "，各月的单位缴费金额均未知"
                continue
            out[i] = "，其中" + "、".join(month_label(int(m)) for m in gone.tolist()) + "的单位缴费金额未知"
        return out

    return Later(make)


def _sum_words(total: int, months: int, unknown: int) -> str | None:
    """A sum of employer contributions over ``months`` months of which ``unknown`` have no amount
    given, as a message quotes it where it is not the plain figure: 「已知部分¥X」 (some unknown),
    「金额未知」 (all: no ¥0.00, PROVISIONS §0 unknown is not zero); None for the plain figure."""
    if unknown <= 0:
        return None
    return "金额未知" if unknown >= months else "已知部分" + format_fen(total)


def _sum_fen(ctx: Ctx, total: IntArray, months: IntArray, unknown: IntArray) -> Later:
    """Per hire, a sum of employer contributions as quoted (``_sum_words``): the amount in fen
    where every month's is known, else the words (a ``_fen`` column of Python ints and texts:
    always of objects, so that it is never one of the amount's own figures, ``amount_info``)."""

    def make() -> npt.NDArray[np.object_]:
        u = ctx.full(unknown)
        out: npt.NDArray[np.object_] = ctx.full(total).astype(object)
        t, m = ctx.full(total), ctx.full(months)
        for i in np.flatnonzero(u > 0).tolist():
            out[i] = _sum_words(int(t[i]), int(m[i]), int(u[i]))
        return out

    return Later(make)


# A message value that is empty on every row (a one-row column quoted for any row).
_NO_TEXT: Final = np.asarray([""], dtype=object)
_NO_TEXT.setflags(write=False)


def si_contributions(ctx: Ctx) -> CondOut:
    """Employer contributions in the claim period: some known and positive (pass), none (fail), or
    only months whose amount is not given (unknown: never read as zero).

    The claim as the limit leaves it is tested, except where the months already used up leave it no
    month at all: ``months_left`` fails then (the limit is its job), and this condition tests the
    period's contributions before that cut (so it never says the period has none when it has). Its
    messages give the period's contributions and, where the limit cut them, what is left
    (「其中按最长补贴月数可补贴…」). (``_si_together`` decides with the claim as cut: it differs
    only where ``months_left`` fails.)"""
    claim = si_claim(ctx)
    t = ctx.t
    known = t["si_run_months"].known & t["hire_date"].known
    c_months = ctx.full(claim.months)
    total, unknown = ctx.full(claim.total), ctx.full(claim.unknown)
    # Only a hire with months already used up can have its claim cut to nothing by them: the
    # period's own claim is worked out for those few here (the whole column only to explain).
    cut = np.flatnonzero(c_months == 0)
    cut = cut[_used_months(ctx, cut) > 0]
    if cut.size:
        p_total, p_months, p_unknown, _ = _claim(ctx, _si_limits(ctx)[1], cut, used_up=False)
        some = p_months > 0
        total, unknown = total.copy(), unknown.copy()
        total[cut[some]], unknown[cut[some]] = p_total[some], p_unknown[some]
    state = _contributions_state(total, unknown, ctx.full(known))

    def period(k: int) -> Later:
        return Later(lambda: _si_period_paid(ctx)[k])

    start, end = si_period(ctx)

    def cut_note() -> npt.NDArray[np.object_]:
        """Where the months already used up cut the period's months: what the limit leaves."""
        rows = np.flatnonzero(c_months != _si_period_paid(ctx)[1])
        if not rows.size:
            return _NO_TEXT
        out = np.full(ctx.n, "", dtype=object)
        c_total, c_unknown = ctx.full(claim.total), ctx.full(claim.unknown)
        unknown_text = np.broadcast_to(
            _unknown_months_text(ctx, claim.months, claim.unknown, claim.at).make(), (ctx.n,)
        )
        for i in rows.tolist():
            m = int(c_months[i])
            if m == 0:
                out[i] = "，已享受月数已达最长补贴月数，本次无可补贴月份"
                continue
            words = _sum_words(int(c_total[i]), m, int(c_unknown[i]))
            text = f"{words or format_fen(int(c_total[i]))}（{m}个月{unknown_text[i]}）"
            out[i] = (
                f"，其中按最长补贴月数可补贴{text}"
                if state[i] != FAIL
                else f"；按最长补贴月数可补贴的{m}个月无单位缴费"
            )
        return out

    def window() -> npt.NDArray[np.object_]:
        """The months the hire may be subsidised for, quoted where none is claimed: from the hire
        month for the limit (「本次招用可补贴的月份为2024-03至2027-02」); where the limit rests on a
        missing birth date or gender, both bounds, not the longest as if known (README choice 5);
        none, and why, where the limit is 0 (``_no_month_reason``)."""
        lo, hi = (ctx.full(x).astype(np.int64) for x in _si_limits(ctx))
        first = ctx.full(t["hire_month"].values).astype(np.int64)
        start = _month_labels(first)
        span = np.char.add(
            np.char.add(np.char.add("本次招用可补贴的月份为", start), "至"), _month_labels(first + hi - 1)
        )
        open_ = np.char.add(
            np.char.add(np.char.add(np.char.add("本次招用可补贴的月份自", start), "起最长"), lo.astype(str)),
            np.char.add(np.char.add("至", hi.astype(str)), "个月（视出生日期、性别而定）"),
        )
        none = np.char.add(_no_month_reason(ctx), "，本次招用无可补贴的月份")
        out: npt.NDArray[np.object_] = np.where(lo != hi, open_, np.where(hi > 0, span, none)).astype(object)
        return out

    return CondOut(
        state,
        info={
            "claim_fen": claim.total,
            "claim_months": claim.months,
            "period_months": period(1),
            "period_sum_fen": Later(lambda: _sum_fen(ctx, *_si_period_paid(ctx)[:3]).make()),
            "period_unknown_note": Later(lambda: _unknown_months_text(ctx, *_si_period_paid(ctx)[1:]).make()),
            "cut_note": Later(cut_note),
            "start_month": start,
            "end_month": end,
            "window_text": Later(window),
            # (where the window says there is no month, it says why: the note is not repeated)
            "retirement_note": _retirement_note(ctx, none_left=False),
        },
    )


@dataclass(frozen=True, slots=True)
class _Compared:
    """The hire records of persons hired more than once as one evaluation decides them, per record
    in ``repeat_hires`` order (assemble.py: per person the dated records by hire date then row, then
    the undated ones by row). ``oth``: the conditions other than ``months_claimed_once`` (``once``);
    ``took``: whether a dated record gets its months (every condition; an undated record's is not
    used); ``may_take``: whether it may get months in some order (with the register alone no
    condition fails), at most ``most`` months within ``blo``..``bhi`` (its claim with the register
    alone, or its window when its hire date or contributions are unknown); ``months``, ``rlo``..
    ``rhi``: the months it claims; ``wlo``..``whi``: its window (``si_window``); ``sure``: months the
    person's records before it that get theirs claim; ``may``: at most how many more records that
    may get months before it (undetermined, or of unknown order) claim. ``p``, ``q``, ``both``: the
    ordered pairs compared (``q`` may take months ``p`` claims; ``both``: both dated, ``q`` first)."""

    rows: IntArray
    group: IntArray
    rank: IntArray
    dated: npt.NDArray[np.bool_]
    exact: npt.NDArray[np.bool_]
    oth: TriArray
    once: TriArray
    took: TriArray
    may_take: npt.NDArray[np.bool_]
    most: IntArray
    blo: IntArray
    bhi: IntArray
    months: IntArray
    rlo: IntArray
    rhi: IntArray
    wlo: IntArray
    whi: IntArray
    sure: IntArray
    may: IntArray
    unsure: npt.NDArray[np.bool_]
    p: IntArray
    q: IntArray
    both: npt.NDArray[np.bool_]


class _Together:
    """What one evaluation's records make of each other (``_si_together``): the claim of every hire
    (full columns), the months the person's earlier records that get theirs claim (``extra``, full;
    None where no record has any), the hires whose months left rest on records that may claim
    months first (``unsure``), and the records compared (None: no person hired more than once)."""

    __slots__ = ("claim", "compared", "extra", "unsure")

    def __init__(
        self,
        claim: _SiClaim,
        extra: IntArray | None,
        unsure: npt.NDArray[np.int64],
        compared: _Compared | None,
    ) -> None:
        self.claim, self.extra, self.unsure, self.compared = claim, extra, unsure, compared


def _si_together(ctx: Ctx) -> _Together:
    """The hire records of one person evaluated together (one case, a batch, the registry), as
    approving them one at a time in order (hire date, then row, as ``one_per_person``) and
    registering each approved record's months would decide them (README choices 61 and 63):

    - a month is paid once (``months_claimed_once``): a record whose months meet the months an
      earlier record that gets its months claims fails as a whole;
    - the limit counts every month paid (``months_left``): a record's months left are the limit
      less the register's months and the months its person's earlier records that get theirs
      claim; its claim is cut to them (earliest months first, as against the register), and with
      none left it fails.

    A record that fails a condition, or is outdone, claims nothing. Undetermined where a record
    that may get months first changes the result: an earlier one that is undetermined, or one
    whose order is unknown (a hire date missing: it may come first, and claim any month of its
    window). Such a record counts with the most months it may claim, and records of unknown order
    are compared with what they may claim in any order (their claim with the register alone).

    NumPy over the records of persons hired more than once (``repeat_hires``), one pass per
    position in a person's order (second records, then third, ...): an earlier record is decided
    before a later one reads it. A single case runs the same code."""
    result: _Together = ctx.memo("si_together", lambda: _together(ctx))
    return result


def _meets(a_lo: IntArray, a_hi: IntArray, b_lo: IntArray, b_hi: IntArray) -> npt.NDArray[np.bool_]:
    """Whether two month ranges (first > last: none) have a month in common."""
    out: npt.NDArray[np.bool_] = (a_lo <= a_hi) & (b_lo <= b_hi) & (a_lo <= b_hi) & (a_hi >= b_lo)
    return out


def _together(ctx: Ctx) -> _Together:
    base: _SiClaim = ctx.memo("si_base_claim", lambda: _claims(ctx))
    nothing = np.zeros(0, dtype=np.int64)
    rep = ctx.tables.get("repeat_hires")
    if ctx.n <= 1 or rep is None or not rep.n:
        return _Together(base, None, nothing, None)
    t = ctx.t
    rows = rep["row"].values.astype(np.int64, copy=False)
    m = rows.size
    group = rep["group"].values.astype(np.int64, copy=False)
    gs = rep["start"].values.astype(np.int64, copy=False)
    everyone = np.arange(m, dtype=np.int64)
    rank = everyone - gs
    persons = int(group[-1]) + 1
    dated = ctx.full(t["hire_date"].known)[rows]
    exact = dated & ctx.full(t["si_run_months"].known)[rows]
    # The conditions that no other record changes.
    ind = all_of(*(ctx.full(f(ctx).state)[rows] for f in _SI_OWN))
    rec = t["si_months_received"]
    rec_v = ctx.full(rec.values)[rows].astype(np.int64)
    rec_k = ctx.full(rec.known)[rows]
    lim_lo, lim_hi = (ctx.full(x)[rows].astype(np.int64) for x in _si_limits(ctx))
    wlo, whi = (c[rows] for c in si_window(ctx))
    window_months = np.maximum(whi - wlo + 1, 0)
    month = ctx.tables["contribution_months"]["month"].values

    total = ctx.full(base.total)[rows].astype(np.int64)
    months = ctx.full(base.months)[rows].astype(np.int64)
    unknown = ctx.full(base.unknown)[rows].astype(np.int64)
    at = ctx.full(base.at)[rows].astype(np.int64)
    depends = np.zeros(m, dtype=bool) if base.depends is None else base.depends[rows]

    def states(
        k: IntArray, used: IntArray, tot: IntArray, unk: IntArray, dep: npt.NDArray[np.bool_] | None
    ) -> tuple[TriArray, TriArray, TriArray]:
        """months_left, limit_known and contributions_in_period of the records ``k`` with ``used``
        months used up besides the register's and the claim (``tot``, ``unk``, ``dep``)."""
        received = rec_v[k] + used
        left = _left_state(received, rec_k[k], lim_hi[k])
        lk = np.where(_limit_open(received, rec_k[k], lim_lo[k], lim_hi[k], dep), UNKNOWN, PASS)
        return left, lk.astype(np.int8), _contributions_state(tot, unk, exact[k])

    def claimed(k: IntArray) -> tuple[IntArray, IntArray]:
        """The first and last month the records ``k`` claim (none: 1, 0); their window where their
        hire date or contributions are unknown."""
        mo, a = months[k], at[k]
        some = mo > 0
        lo = np.where(exact[k], np.where(some, month[a], 1), wlo[k]).astype(np.int64)
        hi = np.where(exact[k], np.where(some, month[np.maximum(a + mo - 1, 0)], 0), whi[k]).astype(np.int64)
        return lo, hi

    left, lk, contrib = states(everyone, np.zeros(m, dtype=np.int64), total, unknown, depends)
    # In some order (first, with the register alone) a record may get months where no condition
    # fails then; at most its claim then, which any other claim of it is a part of (a claim is cut
    # from its end), or any month of its window where its hire date or contributions are unknown.
    may_take = all_of(ind, left, lk, contrib) != FAIL
    blo, bhi = claimed(everyone)
    most = np.where(exact, months, window_months)
    rlo, rhi = blo.copy(), bhi.copy()
    sure = np.zeros(m, dtype=np.int64)
    may = np.zeros(m, dtype=np.int64)
    unsure = np.zeros(m, dtype=bool)
    once = np.full(m, PASS, dtype=np.int8)
    took = np.full(m, FAIL, dtype=np.int8)

    def settle(k: IntArray) -> None:
        """The claim and the limit's conditions of the records ``k``, once ``sure`` and ``may`` are
        known for them: the claim cut by ``sure``; months_left unknown where ``may`` more months
        used up would change the claim or those conditions."""
        cut = k[sure[k] > 0]
        if cut.size:
            c = _claims(ctx, rows[cut], sure[cut])
            total[cut], months[cut], unknown[cut], at[cut] = c.total, c.months, c.unknown, c.at
            depends[cut] = False if c.depends is None else c.depends
        left[k], lk[k], contrib[k] = states(k, sure[k], total[k], unknown[k], depends[k])
        w = k[may[k] > 0]
        if w.size:
            used = sure[w] + may[w]
            c = _claims(ctx, rows[w], used)
            l2, lk2, c2 = states(w, used, c.total, c.unknown, c.depends)
            differ = (c.months != months[w]) | (l2 != left[w]) | (lk2 != lk[w]) | (c2 != contrib[w])
            unsure[w] = differ
            left[w] = np.where(differ & (left[w] == PASS), UNKNOWN, left[w])

    # Every ordered pair (p, q) of two records of one person where q may come first: of two dated
    # records the earlier one; with an undated record either.
    starts = np.flatnonzero(gs == everyone)
    others_n = (np.diff(np.r_[starts, m]) - 1)[group].astype(np.int64)
    p = np.repeat(everyone, others_n)
    q = gs[p] + np.arange(p.size, dtype=np.int64) - np.repeat(np.cumsum(others_n) - others_n, others_n)
    q += q >= p
    both = dated[q] & dated[p]
    keep = ~both | (q < p)
    p, q, both = p[keep], q[keep], both[keep]
    # Of unknown order: undetermined where q may take months p claims (in some order).
    op, oq = p[~both], q[~both]
    hit = may_take[oq] & _meets(blo[oq], bhi[oq], wlo[op], whi[op])
    np.minimum.at(once, op[hit], UNKNOWN)

    # The dated records, a person's second records after the first ones, and so on: an earlier
    # record is decided (whether it gets its months, and which) before the later ones read it.
    # The undated records of the person may come before any of them, with at most ``most`` months.
    open_months = np.bincount(group, weights=np.where(~dated & may_take, most, 0), minlength=persons).astype(
        np.int64
    )
    sure_got = np.zeros(persons, dtype=np.int64)
    may_got = np.zeros(persons, dtype=np.int64)
    d = np.flatnonzero(dated)
    d = d[np.argsort(rank[d], kind="stable")]
    sp, sq = p[both], q[both]
    by = np.argsort(rank[sp], kind="stable")
    sp, sq = sp[by], sq[by]
    sp_rank = rank[sp]
    d_rank = rank[d]
    for r in np.unique(d_rank).tolist():
        k = d[np.searchsorted(d_rank, r) : np.searchsorted(d_rank, r, side="right")]
        a, b = np.searchsorted(sp_rank, r), np.searchsorted(sp_rank, r, side="right")
        if b > a:
            pp, qq = sp[a:b], sq[a:b]
            meet = _meets(rlo[qq], rhi[qq], wlo[pp], whi[pp])
            np.minimum.at(once, pp[meet], (PASS - took[qq[meet]]).astype(np.int8))  # NOT took
        g = group[k]
        sure[k], may[k] = sure_got[g], may_got[g] + open_months[g]
        settle(k)
        took[k] = all_of(ind[k], left[k], lk[k], contrib[k], once[k])
        rlo[k], rhi[k] = claimed(k)
        sure_got[g] += np.where(took[k] == PASS, months[k], 0)
        may_got[g] += np.where(took[k] == UNKNOWN, np.where(exact[k], months[k], window_months[k]), 0)

    # The undated records: any other record of the person may come first, with the most it may take.
    u = np.flatnonzero(~dated)
    if u.size:
        per_person = np.bincount(group, weights=np.where(may_take, most, 0), minlength=persons)
        may[u] = per_person.astype(np.int64)[group[u]] - np.where(may_take[u], most[u], 0)
        settle(u)

    compared = _Compared(
        rows=rows,
        group=group,
        rank=rank,
        dated=dated,
        exact=exact,
        oth=all_of(ind, left, lk, contrib),
        once=once,
        took=took,
        may_take=may_take,
        most=most,
        blo=blo,
        bhi=bhi,
        months=months,
        rlo=rlo,
        rhi=rhi,
        wlo=wlo,
        whi=whi,
        sure=sure,
        may=may,
        unsure=unsure,
        p=p,
        q=q,
        both=both,
    )
    claim, extra = base, None
    changed = np.flatnonzero(sure > 0)
    if changed.size:
        r = rows[changed]

        def patched(col: IntArray, values: IntArray) -> IntArray:
            out: IntArray = np.array(ctx.full(col), dtype=np.int64)
            out[r] = values[changed]
            return out

        dep = base.depends
        if dep is not None or depends[changed].any():
            dep = np.zeros(ctx.n, dtype=bool) if dep is None else np.array(dep)
            dep[r] = depends[changed]
        claim = _SiClaim(
            patched(base.total, total),
            patched(base.months, months),
            patched(base.unknown, unknown),
            patched(base.at, at),
            dep,
        )
        extra = np.zeros(ctx.n, dtype=np.int64)
        extra[r] = sure[changed]
    return _Together(claim, extra, rows[unsure], compared)


def _earlier_paid(cmp: _Compared, ids: npt.NDArray[Any]) -> dict[int, list[tuple[int, str, str, int]]]:
    """Per person (group), the dated records that get their months: (rank, id, months claimed as
    text, months)."""
    out: dict[int, list[tuple[int, str, str, int]]] = {}
    k = np.flatnonzero(cmp.dated & (cmp.took == PASS) & (cmp.months > 0))
    runs = _month_runs(cmp.rlo[k], cmp.rhi[k])
    for j, run in zip(k.tolist(), runs, strict=True):
        out.setdefault(int(cmp.group[j]), []).append(
            (int(cmp.rank[j]), str(ids[cmp.rows[j]]), run, int(cmp.months[j]))
        )
    return out


def _earlier_note(ctx: Ctx, received: npt.NDArray[Any]) -> npt.NDArray[np.object_]:
    """Per hire, what its person's earlier records of this evaluation that get their months claim,
    as counted against the limit (「，该人员更早的招用记录H1符合社保补贴各项条件，在本次评估中申领
    2023-11至2024-04（6个月），合计36个月」); "" where none (one shared value when no hire has one)."""
    cmp = _si_together(ctx).compared
    k = np.zeros(0, dtype=np.int64) if cmp is None else np.flatnonzero(cmp.sure > 0)
    if cmp is None or not k.size:
        return np.asarray([""], dtype=object)
    out = np.full(ctx.n, "", dtype=object)
    paid = _earlier_paid(cmp, ctx.t["id"].values)
    rec = ctx.full(received)
    for j in k.tolist():
        row = int(cmp.rows[j])
        before = [x for x in paid.get(int(cmp.group[j]), []) if x[0] < cmp.rank[j]]
        out[row] = (
            f"，该人员更早的招用记录{'、'.join(x[1] for x in before)}符合社保补贴各项条件，在本次评估中申领"
            f"{'、'.join(f'{x[2]}（{x[3]}个月）' for x in before)}，合计{int(rec[row]) + int(cmp.sure[j])}个月"
        )
    return out


def _left_unknown(
    ctx: Ctx, state: TriArray, received: npt.NDArray[Any], known: npt.NDArray[np.bool_], shown: IntArray
) -> npt.NDArray[np.object_]:
    """Per undetermined hire, why its months left are not known: the register (not supplied, or an
    entry naming no one may be the person's), and/or records of its person that may claim months
    first (undetermined, or of unknown order), named with the months they may claim (one shared
    value when no hire has such records)."""
    cmp = _si_together(ctx).compared
    mine = np.zeros(0, dtype=np.int64)
    if cmp is not None:
        mine = np.flatnonzero(cmp.unsure & (ctx.full(state)[cmp.rows] == UNKNOWN))
    if cmp is None or not mine.size:
        return np.asarray([_REGISTER_OPEN], dtype=object)
    out = np.full(ctx.n, _REGISTER_OPEN, dtype=object)
    ids = ctx.t["id"].values
    note = _earlier_note(ctx, received)
    rec, rec_known, limit = ctx.full(received), ctx.full(known), ctx.full(shown)
    # What each record may claim first: a dated record before a dated one, as it claims now (its
    # earlier records decided); any record before an undated one, as it may claim in any order.
    in_order = np.where(cmp.exact, cmp.months, np.maximum(cmp.whi - cmp.wlo + 1, 0))
    texts = (
        _month_runs(cmp.rlo, cmp.rhi),
        _month_runs(cmp.blo, cmp.bhi),
    )
    groups = set(cmp.group[mine].tolist())
    by_person: dict[int, list[int]] = {}
    for j in np.flatnonzero(np.isin(cmp.group, list(groups))).tolist():
        by_person.setdefault(int(cmp.group[j]), []).append(j)
    for j in mine.tolist():
        row = int(cmp.rows[j])
        ordered = bool(cmp.dated[j])
        named = []
        for x in by_person[int(cmp.group[j])]:
            if x == j:
                continue
            if ordered and cmp.dated[x]:  # a dated record before it, undetermined
                if cmp.rank[x] < cmp.rank[j] and cmp.took[x] == UNKNOWN and in_order[x] > 0:
                    named.append((str(ids[cmp.rows[x]]), texts[0][x], int(in_order[x])))
            elif cmp.may_take[x] and cmp.most[x] > 0:  # of unknown order
                named.append((str(ids[cmp.rows[x]]), texts[1][x], int(cmp.most[x])))
        text = (
            f"该人员的招用记录{'、'.join(x[0] for x in named)}尚待判定或与本条的招用先后不明，可能在本次评估中申领"
            f"{'、'.join(f'{x[1]}（至多{x[2]}个月）' for x in named)}；"
            f"已享受{int(rec[row])}个月{note[row if note.size > 1 else 0]}，"
            f"最长补贴{int(limit[row])}个月，本条可补贴的月数暂无法确定"
        )
        out[row] = text if rec_known[row] else f"{_REGISTER_OPEN}；{text}"
    return out


def months_claimed_once(ctx: Ctx) -> CondOut:
    """A month is paid once within one evaluation too (README choice 61): of the hire records of
    one person evaluated together (one case, or a whole batch / registry), a record whose months
    (``si_window``) meet the months an earlier record claims fails while that record gets its months
    (meets every other condition and is not itself outdone) — the months the earlier claim covers
    (``si_claim``, first to last) are what the grant register records when it is approved, and
    against them this record would then fail ``months_not_subsidised``. The whole claim period
    fails, as there (README choice 60: a grant records one month range); the distance names the
    months no other record claims.

    "Earlier": by hire date, then row (``one_per_person``'s order); a chain is followed record by
    record. Undetermined where an overlapping earlier record may get its months, and where the order
    is not known (a hire date missing: such a record may claim any month of its claim period, and
    may come first). Decided with the limit's months left by ``_si_together``."""
    n = ctx.n
    start, end = si_period(ctx)
    info: Info = {"start_month": start, "end_month": end}
    cmp = _si_together(ctx).compared
    if cmp is None:
        return CondOut(filled(np.int8, PASS, n), info=info)
    t = ctx.t
    rows, own = cmp.rows, cmp.once
    state = np.full(n, PASS, dtype=np.int8)
    state[rows] = own

    def details() -> dict[str, npt.NDArray[Any]]:
        """Per failed or unknown record: the earliest record that takes (or may take) its months,
        with that record's months and the overlap; for a failed one also the first month after
        every record taking its months, and the months of its own no record may take."""
        ids = t["id"].values
        p, q, both = cmp.p, cmp.q, cmp.both
        # What q takes (dated pairs, in order) or may take (of unknown order, in any order).
        q_lo = np.where(both, cmp.rlo[q], cmp.blo[q])
        q_hi = np.where(both, cmp.rhi[q], cmp.bhi[q])
        took = np.where(both, cmp.took[q], np.where(cmp.may_take[q], UNKNOWN, FAIL))
        hit = (took != FAIL) & _meets(q_lo, q_hi, cmp.wlo[p], cmp.whi[p])
        p, q, both, took, q_lo, q_hi = p[hit], q[hit], both[hit], took[hit], q_lo[hit], q_hi[hit]
        sure = both & (took == PASS)
        may = ~both | (took == UNKNOWN)
        named = np.flatnonzero(np.where(own[p] == FAIL, sure, may & (own[p] == UNKNOWN)))
        named = named[np.r_[True, p[named][1:] != p[named][:-1]]] if named.size else named
        np_, nq = p[named], q[named]
        # (Text columns left empty (None) outside the records compared, which no message of theirs
        # quotes: at 2M hires a column filled with "" costs ~60 ms, an empty one ~10 ms.)
        out: dict[str, npt.NDArray[Any]] = {}
        for key in ("other_hire", "other_months", "overlap_months", "unclaimed_note"):
            out[key] = np.empty(n, dtype=object)
            out[key][rows] = ""
        out["next_month"] = np.zeros(n, dtype=np.int64)
        r = rows[np_]
        out["other_hire"][r] = [str(x) for x in ids[rows[nq]].tolist()]
        out["other_months"][r] = _month_runs(q_lo[named], q_hi[named])
        out["overlap_months"][r] = _month_runs(
            np.maximum(q_lo[named], cmp.wlo[np_]), np.minimum(q_hi[named], cmp.whi[np_])
        )
        next_g = np.zeros(rows.size, dtype=np.int64)
        np.maximum.at(next_g, p[sure], q_hi[sure] + 1)
        out["next_month"][rows] = next_g
        # The months of a failed record's window with contributions, before that month, that
        # neither the register nor any record that takes or may take months covers.
        failed = np.sort(rows[(own == FAIL) & ~ctx.full(t["si_register_open"].values)[rows]])
        if failed.size:
            lo, hi = si_window(ctx)
            top = np.minimum(hi, out["next_month"] - 1)
            cover = sure | may
            extra = (rows[p[cover]], q_lo[cover], q_hi[cover])
            owner, first_m, last_m = _unclaimed_runs(ctx, failed, lo, top, extra)
            texts: dict[int, list[str]] = {}
            for k, run in zip(owner.tolist(), _month_runs(first_m, last_m), strict=True):
                texts.setdefault(int(failed[k]), []).append(run)
            for row, runs in texts.items():
                out["unclaimed_note"][row] = (
                    f"申领期中{'、'.join(runs)}有单位缴费，未享受社保补贴，该人员其他招用记录也未申领，"
                    "可按这些月份另行申领；其后"
                )
        return out

    made: list[dict[str, npt.NDArray[Any]]] = []  # (this evaluation's: computed once, when asked)

    def value(key: str) -> npt.NDArray[Any]:
        if not made:
            made.append(details())
        return made[0][key]

    for key in ("other_hire", "other_months", "overlap_months", "next_month"):
        info[key] = Later(partial(value, key))
    claimed: list[tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]] = []

    def claim() -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
        if not claimed:
            claimed.append(_next_claim(ctx, value("next_month"), value("unclaimed_note")))
        return claimed[0]

    info["unclaimed_note"] = Later(lambda: claim()[1])
    info["next_claim"] = Later(lambda: claim()[0])
    return CondOut(state, info=info)


def _month_runs(first: IntArray, last: IntArray) -> list[str]:
    """Month ranges as text: 「2023-11至2024-01」, one month 「2024-01」."""
    return [
        month_label(a) if a == b else f"{month_label(a)}至{month_label(b)}"
        for a, b in zip(first.tolist(), last.tolist(), strict=True)
    ]


_SI_TESTS = tuple(
    _memo(f, "social_insurance_subsidy")
    for f in (
        si_group,
        labour_contract,
        si_months_left,
        months_not_subsidised,
        si_limit_known,
        si_contributions,
    )
)
# The conditions that no other record of the evaluation changes (``_si_together`` reads them).
_SI_OWN: Final = (_SI_TESTS[0], _SI_TESTS[1], _SI_TESTS[3])


def si_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    claim = si_claim(ctx)
    total, months = claim.total, claim.months
    # A claimed month without a known employer contribution: the amount is unknown.
    known = claim.unknown == 0

    def claimed(offset: int) -> Callable[[], IntArray]:
        def make() -> IntArray:
            """The first (offset 0) or last (-1) month claimed (-1 where none): the months the grant
            register records for an approved claim (「YYYY-MM/YYYY-MM」)."""
            month = ctx.tables["contribution_months"]["month"].values.astype(np.int64)
            pos = claim.at + (0 if offset == 0 else months - 1)
            out: IntArray = np.where(months > 0, month[np.maximum(pos, 0)], -1).astype(np.int64)
            return out

        return make

    return AmountOut(
        total,
        info={
            "claim_fen": total,
            "claim_months": months,
            "claim_sum_fen": _sum_fen(ctx, total, months, claim.unknown),
            "unknown_note": _unknown_months_text(ctx, claim.months, claim.unknown, claim.at),
            "claimed_first_month": Later(claimed(0)),
            "claimed_last_month": Later(claimed(-1)),
            # The most months the person may be subsidised for (36, or to retirement: README choice 5;
            # the fewest the limit may be where a birth date or gender is missing, which an eligible
            # claim does not rest on): the one-stop register holds an approval to it.
            "claim_limit_months": _si_limits(ctx)[0],
        },
        known=None if bool(known.all()) else known,
    )


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
            _SI_TESTS[0],
            "招用人员属于脱贫人口、登记失业离校{graduate_years}年内高校毕业生等群体",
            "招用人员不属于脱贫人口、登记失业离校{graduate_years}年内高校毕业生等群体"
            "（高校毕业生须在离校之日起{graduate_years}年内被招用，离校前招用的不计）",
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
            _SI_TESTS[1],
            "已签订劳动合同",
            "未签订劳动合同",
            facts=("contract",),
        ),
        Condition(
            "months_left",
            CLAUSE,
            _SI_TESTS[2],
            "已享受{months_received}个月{earlier_note}，未超过{limit_text}{retirement_note}",
            "已享受{months_received}个月{earlier_note}，达到{limit_months}个月上限{retirement_note}",
            unknown_msg="{unknown_reason}",
            facts=("si_months_received",),
            # (The retirement date the limit runs to: without a value in force on the date the
            # condition is not met, never computed from another date's age, README choice 25.)
            params=(
                "social_insurance_subsidy.max_months",
                "social_insurance_subsidy.near_retirement_years",
                *RETIREMENT_PARAMS,
            ),
        ),
        Condition(
            "months_not_subsidised",
            CLAUSE,
            _SI_TESTS[3],
            "申领期{start_month}至{end_month}的月份未享受过社保补贴",
            "申领期{start_month}至{end_month}中{overlap_first_month}至{overlap_last_month}已享受社保补贴"
            "（已享受登记所属期间{received_period}），同一月份不重复补贴",
            unknown_msg=(
                "缺少事实，无法判断：{missing}（申领期{start_month}至{end_month}的月份是否已享受社保补贴："
                "已享受登记的所属期间须写明月份区间，如 2023-09/2024-02）"
            ),
            facts=("si_months_received", "si_received_periods", "hire_date"),
            gap_msg="{unclaimed_note}{next_claim}",
        ),
        Condition(
            "limit_known",
            CLAUSE,
            _SI_TESTS[4],
            "最长补贴月数可以确定（或不影响本次结果）",
            "最长补贴月数可以确定（或不影响本次结果）",
            unknown_msg=(
                "法定退休之后的月份不予补贴，招用时距退休不足{social_insurance_subsidy.near_retirement_years}的补贴至退休；"
                "缺少{missing}，最长补贴月数在{min_limit_months}至{max_limit_months}个月之间，影响本次结果"
            ),
            facts=("person__birth_date", "person__gender"),
            params=(
                "social_insurance_subsidy.near_retirement_years",
                "social_insurance_subsidy.retirement_age_male",
                "social_insurance_subsidy.retirement_age_female",
                *(
                    f"social_insurance_subsidy.retirement_delay_{k}_{sex}"
                    for sex in ("male", "female")
                    for k in ("from", "step", "max")
                ),
            ),
        ),
        Condition(
            "contributions_in_period",
            CLAUSE,
            _SI_TESTS[5],
            "申领期{start_month}至{end_month}单位缴纳社会保险费{period_sum_fen}"
            "（{period_months}个月{period_unknown_note}）{cut_note}",
            "申领期{start_month}至{end_month}无可补贴的单位缴费"
            "（{window_text}{retirement_note}，须有单位缴费）{cut_note}",
            unknown_msg="缺少事实，无法判断：{missing}（申领期{start_month}至{end_month}）",
            facts=("si_run_months", "hire_date", "si_employer_fen"),
        ),
        Condition(
            "months_claimed_once",
            CLAUSE,
            months_claimed_once,
            "申领期{start_month}至{end_month}的月份没有由该人员更早的招用记录在本次一并申领（同一月份只补贴一次）",
            "该人员更早的招用记录{other_hire}符合社保补贴各项条件，申领{other_months}，"
            "与本条申领期{start_month}至{end_month}重叠{overlap_months}"
            "（同一月份只补贴一次，本条整个申领期不予补贴）",
            unknown_msg=(
                "该人员的招用记录{other_hire}可能申领{other_months}，"
                "与本条申领期{start_month}至{end_month}重叠{overlap_months}；"
                "该记录尚待判定或与本条的招用先后不明，本条能否享受社保补贴暂无法确定（同一月份只补贴一次）"
            ),
            facts=("hire_date",),
            gap_msg="{unclaimed_note}{next_claim}",
        ),
    ),
    amount=si_amount,
    amount_msg="按申领期内单位实际缴纳的养老、医疗（含大额）、生育、失业、工伤保险费计{claim_sum_fen}"
    "（{claim_months}个月{unknown_note}），不含个人缴费",
    amount_params=("social_insurance_subsidy.max_months",),
    amount_facts=("si_employer_fen",),
    # The months claimed rest on the hire date and (the limit) the birth date and gender: a row not
    # eligible for want of them quotes no figure (README choice 68). The months whose contribution
    # is unknown are not here: the rule names them (「已知部分」, README choice 73). Nor is the
    # contribution record as a whole, where it matters and is unknown (no contributions given for
    # the person: ``si_run_months``): the rule then says what is missing, not 「计¥0.00（0个月）」.
    rule_facts=("hire_date", "person__birth_date", "person__gender", "si_run_months"),
)


# ---- workshop_award -------------------------------------------------------------------------------


def _tiers(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the award for the employed count, and the lowest tier's threshold (district tables).
    Every tier's award lies within the published range (``workshop_award.award_min``/``award_max``,
    the table's ``bounds``): checked when the parameters are built, never here (README choice 81)."""
    t = ctx.t
    employed = t["workshop_employed"].values.astype(np.int64, copy=False)
    ver = ctx.version("workshop_award.tiers")
    award = np.zeros(ctx.n, dtype=np.int64)
    lowest = np.zeros(ctx.n, dtype=np.int64)
    for v in np.unique(ver):
        if v < 0:
            continue
        rows = ctx.full(ver == v)
        version = ctx.param("workshop_award.tiers").versions[int(v)]
        tiers = sorted(thaw(version.value), key=lambda x: x["min_employed"])
        mins = np.asarray([_head_count(x["min_employed"]) for x in tiers], dtype=np.int64)
        # (Yuan exactly to fen: an award of 25000.50 yuan is 2500050 fen, never truncated.)
        awards = np.asarray(
            [yuan_to_fen(x["award"], "参数 workshop_award.tiers") for x in tiers], dtype=np.int64
        )
        idx = np.searchsorted(mins, employed[rows], side="right") - 1
        award[rows] = pick(idx >= 0, awards[np.maximum(idx, 0)], 0)
        lowest[rows] = mins[0]
    return award, lowest


def _head_count(raw: Any) -> int:
    """A tier's 吸纳人数下限: a whole number of persons (never truncated from 5.5)."""
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ParameterError(f"参数 workshop_award.tiers：吸纳人数下限须为非负整数（{raw!r}）")
    return raw


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


def workshop_year_valid(ctx: Ctx) -> CondOut:
    """The award year (``claim_year``) is a completed calendar year in which the business existed
    (README choice 1, as the startup subsidy's claim year); a year not yet ended passes on 1 January
    of the next year (「即将符合」, common.completed_year)."""
    return completed_year(ctx, ctx.t["claim_year"], "claim_year")


def workshop_year_free(ctx: Ctx) -> CondOut:
    """Not yet awarded for the award year (``claim_year``: by default the last completed year, so
    the messages name it rather than say 本年度)."""
    out = is_false(ctx.t["workshop_claimed_this_year"])
    out.info["claim_year"] = ctx.t["claim_year"].values
    return out


def workshop_build_facts(ctx: Ctx) -> CondOut:
    nb, cost = ctx.t["workshop_new_build"], ctx.t["workshop_build_cost_fen"]
    new = nb.known & nb.values.astype(bool)
    return CondOut(pick(new, tri(cost.values >= 0, cost.known), PASS).astype(np.int8))


def workshop_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    """The yearly employment award by tier, plus for a newly built workshop the construction
    subsidy — once per workshop: not again where the register holds it (period ``build``, written
    apart from the yearly awards when an award is approved)."""
    t = ctx.t
    award, _ = _tiers(ctx)
    nb = t["workshop_new_build"]
    done = t["workshop_build_received"]
    new = nb.known & nb.values.astype(bool)
    num, den = ctx.ratio("workshop_award.build_rate")
    cap = ctx.ints("workshop_award.build_cap")
    build = pick(
        new & ~(done.known & (done.values > 0)),
        np.minimum(
            mul_rate_half_up(t["workshop_build_cost_fen"].values.astype(np.int64, copy=False), num, den), cap
        ),
        0,
    )
    # Whether the workshop is newly built decides the construction part: not given, the amount is
    # unknown (never read as "not new", PROVISIONS §0) unless no construction cost could be paid;
    # and for a new one, whether its construction subsidy was already paid must be known.
    cost = t["workshop_build_cost_fen"]
    no_cost = cost.known & (cost.values == 0)
    known = (nb.known | no_cost) & (~new | done.known | no_cost)
    return AmountOut(
        award + build,
        info={
            "employment_award_fen": award,
            "build_fen": build,
            "build_note": Later(
                lambda: np.where(
                    new & done.known & (done.values > 0), "，该车间已享受过建设补助，不再发放", ""
                )
            ),
        },
        known=None if bool(np.all(known)) else known,
    )


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
            "claim_year_valid",
            CLAUSE,
            workshop_year_valid,
            "奖补年度{claim_year}年为已结束且主体已登记的年度",
            "奖补年度{claim_year}年尚未结束或早于主体登记年度",
            facts=("claim_year", "registration_date"),
            gap_msg="{claim_year_note}",
        ),
        Condition(
            "year_not_claimed",
            CLAUSE,
            workshop_year_free,
            "{claim_year}年度尚未享受带动就业奖补",
            "{claim_year}年度已享受带动就业奖补（每年度一次）",
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
    amount_msg="带动就业奖补{employment_award_fen}（按档次）+ 建设补助{build_fen}（新建车间按建设投入的比例，"
    "最高{workshop_award.build_cap}，每个车间一次{build_note}）",
    rule_facts=(
        "workshop_employed",
        "workshop_new_build",
        "workshop_build_cost_fen",
        "workshop_build_received",
    ),
    amount_params=(
        "workshop_award.tiers",
        "workshop_award.award_min",
        "workshop_award.award_max",
        "workshop_award.build_rate",
        "workshop_award.build_cap",
    ),
    amount_facts=("workshop_new_build", "workshop_build_received"),
)
