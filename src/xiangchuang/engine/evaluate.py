"""Run programs over tables: one code path for one case and for a registry.

``run(facts, on)`` returns an :class:`Outcome` per program with columns (status, amount,
condition states, eligible-from dates, the district-funded part). ``explain`` (explain.py) turns
one row of an outcome into the Chinese explanation; ``batch`` writes rows for whole registries.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.assemble import Facts, assemble
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.facts import SHARED_MAX, filled
from xiangchuang.engine.parameters import NO_VERSION, ParameterSet, load_parameters
from xiangchuang.engine.program import (
    NO_VALUE_KEY,
    NOT_USED,
    SOON_UNPRICED,
    AmountOut,
    Condition,
    CondOut,
    Ctx,
    Later,
    Program,
    Projection,
    district_fact,
)
from xiangchuang.engine.programs import PROGRAMS, batch_rank
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import pick

NEVER = np.int32(2**31 - 1)


@dataclass
class Outcome:
    """One program over every row of its subject table."""

    program: Program
    ctx: Ctx
    applies: npt.NDArray[np.bool_]
    status: TriArray
    amount: npt.NDArray[np.int64]
    conds: dict[str, CondOut]
    any_state: TriArray | None
    amount_out: AmountOut
    soon: npt.NDArray[np.bool_]
    eligible_from: npt.NDArray[np.int32]
    district_part: npt.NDArray[np.int64] | None = None
    city_used: dict[str, npt.NDArray[np.int32]] = field(default_factory=dict)

    @property
    def rows(self) -> npt.NDArray[np.int64]:
        return np.flatnonzero(self.applies)


def _states(program: Program, ctx: Ctx) -> tuple[dict[str, CondOut], TriArray, TriArray | None]:
    conds: dict[str, CondOut] = {}
    for c in program.conditions + program.any_of:
        conds[c.id] = c.test(ctx)
    required = [conds[c.id].state for c in program.conditions]
    grp = any_of(*[conds[c.id].state for c in program.any_of]) if program.any_of else None
    parts = required + ([grp] if grp is not None else [])
    status = all_of(*parts) if parts else filled(np.int8, PASS, ctx.n)
    return conds, status, grp


def _empty(program: Program, ctx: Ctx, applies: npt.NDArray[np.bool_]) -> Outcome:
    """No row of the subject table is the program's business (e.g. no contracted loan)."""
    n = ctx.n
    zeros = np.zeros(n, dtype=np.int64)
    soon, eligible_from = _none_soon(n)
    return Outcome(
        program,
        ctx,
        applies,
        np.zeros(n, dtype=np.int8),
        zeros,
        {},
        None,
        AmountOut(zeros),
        soon,
        eligible_from,
    )


def _soon(
    program: Program,
    ctx: Ctx,
    conds: dict[str, CondOut],
    status: TriArray,
    grp: TriArray | None,
    on: int,
    horizon: int,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """「即将符合」: failed now, but every failed condition passes by itself within the horizon and
    nothing is unknown. Only rows where a time-based condition will pass within the horizon can
    qualify, so only they are checked."""
    if ctx.n == 1:
        return _soon_one(program, conds, status, grp, on, horizon)
    projected = [c for c in program.conditions if conds[c.id].passes_on is not None]
    if not projected:
        return _none_soon(ctx.n)
    # Rows where some time-based condition fails now and will pass within the horizon: a scan of
    # each dense projection, only the listed rows of a sparse one (:class:`Projection`).
    passing_soon: npt.NDArray[np.bool_] | None = None
    listed: list[npt.NDArray[np.intp]] = []
    for c in projected:
        co = conds[c.id]
        p = co.passes_on
        if isinstance(p, Projection):
            r = p.rows
            listed.append(r[(ctx.full(co.state)[r] == FAIL) & (p.days <= horizon) & (p.days > on)])
        else:
            assert p is not None
            m = ctx.full((co.state == FAIL) & (p <= horizon) & (p > on))
            passing_soon = m if passing_soon is None else passing_soon | m
    if passing_soon is not None:
        if listed:
            passing_soon = np.array(passing_soon)  # (a writable column of its own)
            for r in listed:
                passing_soon[r] = True
        cand = np.flatnonzero(passing_soon & (status == FAIL))
    else:
        cand = listed[0] if len(listed) == 1 else np.unique(np.concatenate(listed))
        cand = cand[ctx.full(status)[cand] == FAIL]
    if not cand.size:
        return _none_soon(ctx.n)
    soon = np.zeros(ctx.n, dtype=bool)
    eligible_from = np.full(ctx.n, NEVER, dtype=np.int32)
    ok = np.ones(cand.size, dtype=bool)
    when = np.zeros(cand.size, dtype=np.int32)
    for c in program.conditions:
        co = conds[c.id]
        state = ctx.full(co.state)[cand]
        if co.passes_on is None:
            ok &= state == PASS  # neither failed nor unknown
        else:
            p = co.passes_on
            passes_on = p.at(cand) if isinstance(p, Projection) else ctx.full(p)[cand]
            failed = state == FAIL
            ok &= (state == PASS) | (failed & (passes_on <= horizon) & (passes_on > on))
            when = pick(failed, np.maximum(when, passes_on), when)
    if grp is not None:
        ok &= ctx.full(grp)[cand] == PASS
    soon[cand] = ok
    eligible_from[cand] = pick(ok, when, NEVER)
    return soon, eligible_from


def _none_soon(n: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """No row is 「即将符合」: read-only columns that take no memory (most programs have no
    time-based condition; at 1M rows the filled columns held ~50 MB that a first pass faults in).
    For a few rows (one case), shared read-only columns: ``np.broadcast_to`` costs ~6 µs a call."""
    if n <= SHARED_MAX:
        return filled(np.bool_, False, n), filled(np.int32, NEVER_INT, n)
    return np.broadcast_to(np.False_, (n,)), np.broadcast_to(NEVER, (n,))


def _soon_one(
    program: Program,
    conds: dict[str, CondOut],
    status: TriArray,
    grp: TriArray | None,
    on: int,
    horizon: int,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """:func:`_soon` for a table of one row (the single case), in Python ints: the same rule."""
    when = NEVER_INT
    if int(status.item()) == FAIL:
        when = 0
        projected = False
        for c in program.conditions:
            co = conds[c.id]
            state = int(co.state.item())
            if co.passes_on is None:
                if state != PASS:
                    when = NEVER_INT
                    break
                continue
            p = co.passes_on
            passes_on = p.day(0) if isinstance(p, Projection) else int(p.item())
            if state == FAIL:
                if not on < passes_on <= horizon:
                    when = NEVER_INT
                    break
                projected = True
                when = max(when, passes_on)
            elif state != PASS:
                when = NEVER_INT
                break
        if not projected or (grp is not None and int(grp.item()) != PASS):
            when = NEVER_INT
    soon = np.asarray([when != NEVER_INT], dtype=bool)
    return soon, np.asarray([when], dtype=np.int32)


def _soon_amount_known(
    program: Program,
    ctx: Ctx,
    out: AmountOut,
    soon: npt.NDArray[np.bool_],
    eligible_from: npt.NDArray[np.int32],
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int32]]:
    """A row is 「即将符合」 only with its projected amount known (README choices 11 and 26): not
    where the amount rests on an unknown fact, nor where its district is unknown while a parameter
    the program read has district values (the district's own values may give another amount,
    choice 69). Such a row is not listed in advance with a figure it may not get."""
    if not (soon.item() if soon.shape == (1,) else soon.any()):
        return soon, eligible_from
    drop: npt.NDArray[np.bool_] | None = None
    if out.known is not None:
        drop = ~ctx.full(np.asarray(out.known, dtype=bool))
    unknown = _district_unknown(program, ctx)
    if unknown is not None:
        rows = _union(ctx, list(unknown.values()))
        drop = rows if drop is None else drop | rows
    if drop is None or not (soon & drop).any():
        return soon, eligible_from
    # (Kept for the explanation of a record the program's own rule withheld in favour of this row.)
    ctx.memo(SOON_UNPRICED, lambda: ctx.full(soon & drop))
    return soon & ~drop, pick(drop, NEVER, eligible_from).astype(np.int32)


NEVER_INT = int(NEVER)
_HORIZON: dict[tuple[str, int], int] = {}


def _horizon_days(params: ParameterSet, on: int) -> int:
    """「即将符合」's horizon in days at date ``on`` (a city value; kept per parameter set and date)."""
    key = (params.digest, on)
    got = _HORIZON.get(key)
    if got is None:
        p = params["general.soon_horizon_days"]
        ver = p.lookup(None, np.asarray([on], dtype=np.int32))
        # No value in force on the date: nothing is 「即将符合」 (never another date's horizon, README
        # choice 25).
        got = int(p.ints(ver)[0]) if int(ver[0]) != NO_VERSION else 0
        if len(_HORIZON) < 4096:
            _HORIZON[key] = got
    return got


# Two rules every program obeys beside its own conditions; each appears in a row's explanation as
# a condition of its own when it decides something there.
IN_FORCE = "parameters_in_force"
AMOUNT_KNOWN = "amount_facts_known"
DISTRICT_KNOWN = "district_known"
# (``NO_VALUE_KEY``, program.py: the info key naming a row's parameters without a value in force.)
EXTRA_RULES: Final = (IN_FORCE, AMOUNT_KNOWN, DISTRICT_KNOWN)
_EXTRA: dict[tuple[str, str], tuple[Program, Condition]] = {}


def _decided_by_run_program(ctx: Ctx) -> CondOut:
    """The test of the two program-wide rules: they are decided by ``run_program`` from what the
    program's own conditions and amount used, never evaluated as a condition on their own."""
    raise RuntimeError("parameters_in_force / amount_facts_known are decided by run_program")


def extra_condition(program: Program, cid: str) -> Condition:
    """The condition document's definition of one of the two program-wide rules."""
    got = _EXTRA.get((program.id, cid))
    if got is None or got[0] is not program:
        if cid == IN_FORCE:
            cond = Condition(
                IN_FORCE,
                program.clause,
                _decided_by_run_program,
                "所需政策参数在该日期均有有效值",
                "该日期尚无有效的政策参数（{lacking}），不在政策施行期内，不予享受",
            )
        elif cid == DISTRICT_KNOWN:
            cond = Condition(
                DISTRICT_KNOWN,
                program.clause,
                _decided_by_run_program,
                "所在区县已知",
                "所在区县已知",
                unknown_msg="有区县调整了本项目的政策参数（{overridden}），所在区县未知，无法确定：{missing}",
                facts=(district_fact(program.subject),),
            )
        else:
            cond = Condition(
                AMOUNT_KNOWN,
                program.clause,
                _decided_by_run_program,
                "计算金额所需的事实齐全",
                "计算金额所需的事实齐全",
                unknown_msg="计算金额所需的事实缺失，金额无法确定：{missing}",
                facts=program.amount_facts,
            )
        got = (program, cond)
        _EXTRA[(program.id, cid)] = got
    return got[1]


# Rows lacking a parameter in force, their labels, and each such parameter's rows (``_lacking``).
Lacking = tuple[npt.NDArray[np.bool_], Later, list[tuple[str, npt.NDArray[np.bool_]]]]


def _lacking(ctx: Ctx) -> Lacking | None:
    """Rows for which a parameter the program used has no value in force at the date it was read
    (before the notice, or a loan contracted before its ceiling existed), with the parameters'
    labels and each such parameter's rows; None when there is none (the usual case)."""
    bad: list[tuple[str, npt.NDArray[np.bool_]]] = []
    for name, ver in ctx.used.items():
        if ver.shape == (1,):
            if ver.item() != NO_VERSION:  # (a value, or NOT_USED: the row did not use it)
                continue
            bad.append((name, filled(np.bool_, True, ctx.n)))
        else:
            miss = ver == NO_VERSION
            if miss.any():
                bad.append((name, ctx.full(miss)))
    if not bad:
        return None
    mask = _union(ctx, [m for _, m in bad])
    return mask, _row_labels(ctx, bad, mask), bad


def _union(ctx: Ctx, masks: Sequence[npt.NDArray[np.bool_]]) -> npt.NDArray[np.bool_]:
    """The rows in any of ``masks`` (a full column)."""
    out = np.zeros(ctx.n, dtype=bool)
    for m in masks:
        out |= ctx.full(m)
    return out


def _row_labels(
    ctx: Ctx, by_param: Sequence[tuple[str, npt.NDArray[np.bool_]]], rows: npt.NDArray[np.bool_]
) -> Later:
    """Per row of ``rows``, the labels of the parameters whose rows (``by_param``) include it, in
    the order given and joined by 「、」 ("" elsewhere): each row names its own parameters, never
    another row's. Made when an explanation asks, one text per distinct combination of parameters
    (no loop over rows)."""
    params = ctx.params

    def make() -> npt.NDArray[np.object_]:
        out = np.full(ctx.n, "", dtype=object)
        at = np.flatnonzero(ctx.full(rows))
        if not at.size:
            return out
        bits = np.stack([ctx.full(m)[at] for _, m in by_param])
        combos, which = np.unique(bits, axis=1, return_inverse=True)
        names = [name for name, _ in by_param]
        texts = np.empty(combos.shape[1], dtype=object)
        for k in range(combos.shape[1]):  # (one per combination of parameters: a handful)
            texts[k] = "、".join(params[names[j]].label for j in np.flatnonzero(combos[:, k]).tolist())
        out[at] = texts[np.asarray(which).reshape(-1)]
        return out

    return Later(make)


def _without_value(
    program: Program, ctx: Ctx, conds: dict[str, CondOut], bad: list[tuple[str, npt.NDArray[np.bool_]]]
) -> None:
    """A condition citing a parameter that has no value in force on a row (README choice 25) cannot
    be met there: it fails on that row, and its explanation names those parameters instead of
    quoting a group list, a figure or a date computed from another date's value (the earliest
    value is never borrowed, not even for a message); it projects no date (explain.py,
    ``NO_VALUE_KEY``). A condition that says so itself, failing there already
    (``Condition.quotes_no_value``: the interest subsidy's regime_applies), keeps its own message;
    the loans' ceilings and term limits fail here like any other (README choice 90)."""
    lacking = dict(bad)
    for c in program.conditions + program.any_of:
        if c.quotes_no_value:
            continue
        hit = [(n, lacking[n]) for n in c.params if n in lacking]
        if not hit:
            continue
        rows = _union(ctx, [m for _, m in hit])
        co = conds[c.id]
        conds[c.id] = CondOut(
            pick(rows, FAIL, ctx.full(co.state)).astype(np.int8),
            co.passes_on,
            {**co.info, NO_VALUE_KEY: _row_labels(ctx, hit, rows)},
        )


def _district_open(
    program: Program, ctx: Ctx, conds: dict[str, CondOut]
) -> tuple[npt.NDArray[np.bool_], dict[str, npt.NDArray[np.bool_]]] | None:
    """Rows where a parameter the row used has district values while the district its value was
    looked up by is unknown (README choice 69): the city's values were read there, but the row's
    own district may be more favourable (a failed condition could pass, an amount could be higher).
    The district is the subject's own (``district_fact``) unless the program looked the parameter
    up by another (``Ctx.lookup_district``: the rent reduction's default schedule goes by the
    carrier's district); a row marked ``NOT_USED`` for a parameter (a carrier's own schedule) does
    not depend on it. Such a row is undecided unless it fails on a condition that reads none of
    the parameters open *for that row* (per row: which parameters another row of the table left
    open changes nothing here, README choice 69). With those parameters' rows; None where there is
    no such row (the usual case: no district values, or every district known)."""
    open_by = _district_unknown(program, ctx)
    if open_by is None:
        return None
    open_rows = _union(ctx, list(open_by.values()))
    fails_anyway = np.zeros(ctx.n, dtype=bool)
    for c in program.conditions:
        failed = ctx.full(conds[c.id].state == FAIL)
        if not failed.any():
            continue
        blocked = _union(ctx, [open_by[p] for p in c.params if p in open_by])
        fails_anyway |= failed & ~blocked
    open_rows = open_rows & ~fails_anyway
    return (open_rows, open_by) if open_rows.any() else None


def _district_unknown(program: Program, ctx: Ctx) -> dict[str, npt.NDArray[np.bool_]] | None:
    """Per parameter with district values that rows used while the district it was looked up by is
    unknown, those rows (README choice 69); None where there is none, or where the program takes the
    city's values for a row without a district (``Program.city_without_district``, choice 38). One
    definition for the program-wide rule ``district_known`` and for 「即将符合」 (a projected amount
    is not quoted from the city's values where the district's may differ)."""
    if not ctx.params.overridden or program.city_without_district:
        return None
    overridden = ctx.params.overridden.intersection(ctx.used)
    if not overridden:
        return None
    open_by: dict[str, npt.NDArray[np.bool_]] = {}
    for param in sorted(overridden):
        lookup = ctx.lookup_district(param)
        if lookup is None or lookup[1].all():
            continue
        known = lookup[1]
        rows = ctx.full(~known)
        ver = ctx.used[param]
        if (ver == NOT_USED).any():
            rows = rows & ctx.full(ver != NOT_USED)
        if rows.any():
            open_by[param] = rows
    return open_by or None


def _program_rules(
    program: Program,
    ctx: Ctx,
    conds: dict[str, CondOut],
    status: TriArray,
    out: AmountOut,
    lacking: Lacking | None,
) -> TriArray:
    """A row is never eligible on a parameter that has no value in force (it fails), never
    paid a guessed amount (undetermined where the amount depends on an unknown fact), and never
    decided on the city's values where its unknown district may have values of its own."""
    if lacking is not None:
        mask, names, bad = lacking
        _without_value(program, ctx, conds, bad)
        conds[IN_FORCE] = CondOut(tri(~mask, filled(np.bool_, True, ctx.n)), info={"lacking": names})
        status = pick(mask, FAIL, status).astype(np.int8)
    if out.known is not None:
        known = ctx.full(np.asarray(out.known, dtype=bool))
        affected = ~known & (status != FAIL)
        if affected.any():
            # Unknown only where it decides: a row that fails on its own conditions shows no amount
            # rule, in a batch as alone (whatever the other rows of the table are).
            conds[AMOUNT_KNOWN] = CondOut(tri(filled(np.bool_, True, ctx.n), ~affected))
            status = pick(affected, UNKNOWN, status).astype(np.int8)
    got = _district_open(program, ctx, conds)
    if got is not None:
        open_rows, open_by = got
        if lacking is not None:  # (no value in force: it fails whatever the district)
            open_rows = open_rows & ~lacking[0]
        conds[DISTRICT_KNOWN] = CondOut(
            tri(filled(np.bool_, True, ctx.n), ~open_rows),
            # Each row names the parameters open for it (not those another row left open).
            info={"overridden": _row_labels(ctx, list(open_by.items()), open_rows)},
        )
        status = pick(open_rows, UNKNOWN, status).astype(np.int8)
    return status


def run_program(
    program: Program, facts: Facts, on: int, params: ParameterSet, *, details: bool = True
) -> Outcome:
    """Evaluate one program over its subject table. With ``details=False`` (registry-wide runs) the
    per-condition states and message values are dropped once the result is known, to keep memory
    flat; a row is explained by evaluating it again with details."""
    table = facts.tables[program.subject]
    ctx = Ctx(params, table, on, tables=facts.tables, supplied=facts.supplied)
    applies = program.applies(ctx) if program.applies is not None else filled(np.bool_, True, ctx.n)
    if not (applies.item() if applies.shape == (1,) else applies.any()):
        return _empty(program, ctx, applies)
    conds, status, grp = _states(program, ctx)
    states = {k: v.state for k, v in conds.items()}
    out = program.amount(ctx, states)
    out.amount = ctx.full(np.asarray(out.amount, dtype=np.int64))
    status = ctx.full(status)
    lacking = _lacking(ctx)
    status = _program_rules(program, ctx, conds, status, out, lacking)
    amount: npt.NDArray[np.int64]
    if ctx.n == 1:  # one row (the single case): no NumPy selection for one value
        amount = out.amount.copy() if status.item() == PASS else np.zeros(1, dtype=np.int64)
    else:
        amount = pick(status == PASS, out.amount, 0)

    # 「即将符合」: every failed condition will pass by itself within the horizon, nothing unknown.
    horizon = on + _horizon_days(params, on)
    soon, eligible_from = _soon(program, ctx, conds, status, grp, on, horizon)
    if lacking is not None:  # no parameter in force: never 「即将符合」 either
        soon = pick(lacking[0], False, soon)
        eligible_from = pick(lacking[0], NEVER, eligible_from).astype(np.int32)
    # The program's own rule on which row is listed (the job subsidy's one per person) first: a
    # row it would list that has no known projected amount is then not listed, and the rule has
    # already withheld the person's other rows (never listed in its place, README choice 59).
    if program.soon_rule is not None and ctx.n > 1 and soon.any():
        soon, eligible_from = program.soon_rule(ctx, status, soon, eligible_from)
    # A 「即将符合」 row's projected amount is what it will be paid on its eligible date: at the values
    # in force then, where one takes effect before that date (README choice 11).
    shifts = _param_shifts(ctx, soon, eligible_from, on)
    if shifts:
        out = _projected(program, ctx, out, states, shifts, lambda day: _ctx_at(ctx, facts, day))
    soon, eligible_from = _soon_amount_known(program, ctx, out, soon, eligible_from)

    if not details:
        # A registry-wide run keeps what its rows need (status, amounts, 「即将符合」 and the
        # district part); the conditions' states and values go once the result is known (at 1M
        # businesses ~60 MB of state columns, which also had to be faulted in on a first pass).
        conds, states, grp = {}, {}, None
        out.info = {}
    outcome = Outcome(program, ctx, applies, status, amount, conds, grp, out, soon, eligible_from)
    overridden = [n for n in ctx.used if params[n].has_overrides] if program.funded else []
    if overridden and ctx.n and not ctx.district_differs:
        # Every row got the city's values: nothing for a district to pay.
        outcome.district_part = np.zeros(ctx.n, dtype=np.int64)
    elif overridden and ctx.n:
        # What the city's own values would give; the rest is the district's (区县财政) to pay.
        city = Ctx(params, table, on, tables=facts.tables, supplied=facts.supplied, city_only=True)
        c_conds, c_status, c_grp = _states(program, city)
        c_states = {k: v.state for k, v in c_conds.items()}
        c_raw = city.full(np.asarray(program.amount(city, c_states).amount))
        for day, rows in shifts:  # (a projected amount: the city's values on the eligible date)
            at_day = _ctx_at(city, facts, day)
            c_raw = pick(rows, at_day.full(np.asarray(program.amount(at_day, c_states).amount)), c_raw)
            _cite_from(city, at_day, rows)
        c_status = city.full(c_status)
        c_lacking = _lacking(city)
        if c_lacking is not None:
            # A district's value in force before the city has one: the city's own values give
            # nothing on that date (no earlier or later city value is borrowed, README choice 25);
            # the whole amount is the district's to pay.
            c_status = pick(c_lacking[0], FAIL, c_status).astype(np.int8)
        c_gives = c_status == PASS
        paid = amount
        if soon.item() if soon.shape == (1,) else soon.any():
            # A 「即将符合」 row's projected amount is split as it will be paid from its eligible date:
            # the city pays what its own values give by then (eligible or 即将符合 by that date).
            paid = pick(soon, out.amount, amount)
            c_soon, c_from = _soon(program, city, c_conds, c_status, c_grp, on, horizon)
            if c_lacking is not None:  # (no city value in force: nothing 即将符合 on the city's values)
                c_soon = c_soon & ~c_lacking[0]
            c_gives = c_gives | (c_soon & (c_from <= eligible_from))
        c_amount = pick(c_gives, c_raw, 0)
        outcome.district_part = np.maximum(paid - np.minimum(c_amount, paid), 0).astype(np.int64)
        outcome.city_used = city.used
    if not details:
        ctx.release()
    return outcome


def _param_shifts(
    ctx: Ctx, soon: npt.NDArray[np.bool_], eligible_from: npt.NDArray[np.int32], on: int
) -> list[tuple[int, npt.NDArray[np.bool_]]]:
    """The 「即将符合」 rows whose parameter values will have changed by their eligible date, by the
    day of the last change before it: [(day, rows)], none in the usual case (no parameter the
    program read takes a new value within the horizon)."""
    if not (soon.item() if soon.shape == (1,) else soon.any()):
        return []
    days = ctx.full(eligible_from)
    latest = int(days.max(initial=on, where=ctx.full(soon)))
    changes = sorted({c for name in ctx.used for c in ctx.params[name].changes_within(on, latest)})
    if not changes:
        return []
    shifts = []
    for k, day in enumerate(changes):
        until = changes[k + 1] if k + 1 < len(changes) else NEVER_INT
        rows = ctx.full(soon) & (days >= day) & (days < until)
        if rows.any():
            shifts.append((day, rows))
    return shifts


def _ctx_at(ctx: Ctx, facts: Facts, day: int) -> Ctx:
    """A context like ``ctx`` (the same rows, evaluation date and city-only choice) whose parameter
    values are those in force on ``day``."""
    return Ctx(
        ctx.params,
        ctx.t,
        ctx.on,
        tables=facts.tables,
        supplied=facts.supplied,
        city_only=ctx.city_only,
        param_day=day,
    )


def _cite_from(ctx: Ctx, other: Ctx, rows: npt.NDArray[np.bool_]) -> None:
    """``rows`` cite the parameter versions ``other`` used (a projected amount's values)."""
    for name, ver in other.used.items():
        before = ctx.used.get(name)
        base = ctx.full(before) if before is not None else np.int32(NOT_USED)
        ctx.used[name] = pick(rows, ctx.full(ver), base).astype(np.int32)


def _projected(
    program: Program,
    ctx: Ctx,
    out: AmountOut,
    states: dict[str, TriArray],
    shifts: list[tuple[int, npt.NDArray[np.bool_]]],
    at: Callable[[int], Ctx],
) -> AmountOut:
    """``out`` with the rows of each shift priced at the parameter values of its day: amount,
    whether it is known, the values its rule quotes, and the versions they cite."""
    for day, rows in shifts:
        p_ctx = at(day)
        p = program.amount(p_ctx, states)
        p_amount = ctx.full(np.asarray(p.amount, dtype=np.int64))
        known = None
        if out.known is not None or p.known is not None:
            known = pick(
                rows,
                ctx.full(np.asarray(p.known if p.known is not None else True, dtype=bool)),
                ctx.full(np.asarray(out.known if out.known is not None else True, dtype=bool)),
            ).astype(bool)
        info = {k: _merged(ctx.n, rows, v, p.info[k]) if k in p.info else v for k, v in out.info.items()}
        out = AmountOut(pick(rows, p_amount, out.amount).astype(np.int64), info, known)
        _cite_from(ctx, p_ctx, rows)
        ctx.district_differs = ctx.district_differs or p_ctx.district_differs
    return out


def _merged(
    n: int, rows: npt.NDArray[np.bool_], base: npt.NDArray[Any] | Later, shifted: npt.NDArray[Any] | Later
) -> Later:
    """A message value: ``shifted``'s on ``rows``, ``base``'s elsewhere (computed when quoted)."""

    def make() -> npt.NDArray[Any]:
        a = np.broadcast_to(shifted.make() if isinstance(shifted, Later) else np.asarray(shifted), (n,))
        b = np.broadcast_to(base.make() if isinstance(base, Later) else np.asarray(base), (n,))
        merged: npt.NDArray[Any] = np.where(rows, a, b)
        return merged

    return Later(make)


def run(
    facts: Facts,
    on: dt.date | int,
    params: ParameterSet | None = None,
    programs: Sequence[Program] = PROGRAMS,
    *,
    assembled: bool = False,
) -> list[Outcome]:
    """Evaluate programs over all tables at date ``on``."""
    params = params or load_parameters()
    day = on if isinstance(on, int) else to_day(on)
    if not assembled:
        assemble(facts, day)
    # A program whose subject table is empty has nothing to say (e.g. no trainings in a case).
    return run_programs([p for p in programs if facts.tables[p.subject].n], facts, day, params)


# Below this many rows in the largest table a batch runs on one thread: for a case or a small
# registry the programs take microseconds to milliseconds and threads would only add overhead.
PARALLEL_MIN_ROWS: Final = 50_000


def default_workers() -> int:
    """The threads a registry-wide run uses: the CPUs this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # (not on Linux)
        return max(os.cpu_count() or 1, 1)


def run_programs(
    programs: Sequence[Program],
    facts: Facts,
    on: int,
    params: ParameterSet,
    *,
    details: bool = True,
    workers: int | None = None,
    min_rows: int = PARALLEL_MIN_ROWS,
    done: Callable[[Program], None] | None = None,
) -> list[Outcome]:
    """:func:`run_program` for each of ``programs`` over assembled ``facts``, in their order.

    A registry-wide run evaluates the programs on ``workers`` threads (default: every CPU this
    process may use) when its largest subject table has ``min_rows`` rows or more. Each program's
    evaluation is independent and NumPy releases the GIL inside its loops over whole columns, so
    two programs proceed at once; the heaviest programs start
    first (``BATCH_ORDER``) so that no thread is left with a long program at the end. Results are
    the same as one after the other (the programs share only the tables, whose lazy columns are
    then built once under a lock: ``Table.share``). ``done`` is called, on the calling thread, as
    each program finishes (a progress bar). An amount too large to be exact raises OverflowError
    naming the program."""

    def one(p: Program) -> Outcome:
        try:
            return run_program(p, facts, on, params, details=details)
        except OverflowError as exc:  # an input so large that an amount cannot be exact: say where
            why = str(exc) if not str(exc).isascii() else "金额超出可精确计算的范围"  # (not NumPy's English)
            raise OverflowError(f"{p.title}（{p.id}）：{why}") from exc

    largest = max((facts.tables[p.subject].n for p in programs), default=0)
    # (A case never asks how many CPUs there are: that is a system call.)
    n_workers = 1 if largest < min_rows else default_workers() if workers is None else workers
    if n_workers <= 1 or len(programs) <= 1:
        outcomes = []
        for p in programs:
            outcomes.append(one(p))
            if done is not None:
                done(p)
        return outcomes
    tables = list(facts.tables.values())
    for t in tables:
        t.share(True)
    try:
        with ThreadPoolExecutor(max_workers=min(n_workers, len(programs))) as pool:
            futures = {pool.submit(one, p): p for p in sorted(programs, key=batch_rank)}
            try:
                for f in as_completed(futures):
                    f.result()  # (the first failure is raised here, the rest are cancelled)
                    if done is not None:
                        done(futures[f])
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
            by_id = {futures[f].id: f.result() for f in futures}
    finally:
        for t in tables:
            t.share(False)
    return [by_id[p.id] for p in programs]
