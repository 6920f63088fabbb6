"""创业载体 — clauses 1.1 and 3.8: carrier_rent_reduction, free_workstation, carrier_award."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from xiangchuang.engine.assemble import names_no_subject
from xiangchuang.engine.dates import anniversary, completed_years, from_day, years_of
from xiangchuang.engine.facts import FACTS, NO_REF
from xiangchuang.engine.money import mul_rate_half_up
from xiangchuang.engine.parameters import thaw, yuan_to_fen
from xiangchuang.engine.program import (
    AmountOut,
    Condition,
    CondOut,
    Ctx,
    Later,
    Program,
    district_fact,
)
from xiangchuang.engine.programs.common import (
    enum_is,
    in_groups,
    is_false,
    is_true,
    kind_in_list,
    none_received,
)
from xiangchuang.engine.schedule import PERMYRIAD, parse_schedule
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import keep, pick

# ---- carrier_rent_reduction ------------------------------------------------------------------------


def small_micro(ctx: Ctx) -> CondOut:
    return CondOut(enum_is(ctx.t["size_class"], "businesses", "size_class", "small_micro"))


def founded_by_returning(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["founded_by_returning"])


def in_carrier(ctx: Ctx) -> CondOut:
    """The carrier's kind is on the list of the carrier's district (a district may add kinds and pays
    for what only it admits), as the default schedule: one district governs the row (README 42)."""
    return kind_in_list(
        ctx, "carrier_rent_reduction.carrier_kinds", "carrier__kind", "carrier_kinds", _carrier_districts(ctx)
    )


_NEVER = np.int32(2**31 - 1)  # (evaluate.NEVER: no date from which it passes by itself)


def tenancy_started(ctx: Ctx) -> CondOut:
    """The tenancy has begun: its first day is day 1 of the first year of tenancy. A tenancy that
    begins later passes by itself on its first day (「即将符合」 within the horizon)."""
    start = ctx.t["tenancy_start"]
    days = start.values.astype(np.int32, copy=False)
    started = days <= ctx.on_col
    return CondOut(
        tri(started, start.known),
        passes_on=pick(start.known & ~started, days, _NEVER).astype(np.int32),
        info={
            "tenancy_start_date": days,
            "gap_days": Later(lambda: (days - ctx.on_col).astype(np.int64)),
        },
    )


_DEFAULT = "carrier_rent_reduction.default_schedule"


def _schedule_rates(ctx: Ctx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row: tenancy year, and the rent / property / utilities reduction in per-myriad.

    Before the tenancy begins the year is the first (the year that will apply on its first day;
    ``tenancy_started`` fails meanwhile): there is no year 0."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        t = ctx.t
        start = t["tenancy_start"].values.astype(np.int32, copy=False)
        year = np.maximum(completed_years(start, ctx.on_col).astype(np.int64) + 1, 1)
        uniq, inv = _schedule_codes(ctx)
        # The default schedule of the district where each row's carrier is (README 27; a district
        # may set its own and pays the difference), for the rows whose carrier has no schedule of its
        # own (the others do not use it: it is neither cited nor 「参数待核实」 for them): one
        # schedule per version of the parameter, and none before any is in force (no reductions).
        param = ctx.param(_DEFAULT)
        districts, known = _carrier_districts(ctx)
        ver = ctx.full(ctx.version(_DEFAULT, districts=districts, districts_known=known)).astype(np.int64)
        ctx.unused(_DEFAULT, inv != 0)
        defaults = [
            [(int(r["year"]), int(r["rent"]), int(r["property"]), int(r["utilities"])) for r in thaw(v.value)]
            for v in param.versions
        ] + [[]]
        # Slots: the carriers' own schedules (code k ≥ 1 → slot k - 1), then the defaults by version.
        parsed = [parse_schedule(u) for u in uniq[1:]] + defaults
        # (An unreadable schedule, code -1, reads the empty slot after the defaults: no reductions;
        # within_schedule is unknown there.)
        slot = pick(inv > 0, inv - 1, len(uniq) - 1 + pick(ver >= 0, ver, len(param.versions)))
        slot = pick(inv < 0, len(parsed) - 1, slot)
        max_year = max([1] + [r[0] for rows in parsed for r in rows])
        # One table per rate (rent, property, utilities) of slot × tenancy year; each row's rates
        # are read at one flat cell, each as its own contiguous column.
        grid = np.zeros((3, len(parsed), max_year + 2), dtype=np.int64)
        for i, rows in enumerate(parsed):
            for y, a, b, c in rows:
                grid[:, i, y] = (a, b, c)
        cell = slot.reshape(-1) * (max_year + 2) + np.clip(year, 0, max_year + 1)
        rent, prop, util = (grid[k].reshape(-1)[cell] for k in range(3))
        return year, rent, prop, util

    result: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = ctx.memo("schedule", make)
    return result


def _carrier_districts(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """The district of each row's carrier, where the carrier and its district are known; else the
    business's own district (the only district known for that row); and where that district is
    known (neither known: the district is unknown). The district that governs the row: the carrier
    kinds and the default schedule are looked up by it (one pair of columns per evaluation, so each
    parameter's lookup is shared)."""
    result: tuple[np.ndarray, np.ndarray] = ctx.memo(
        "carrier_districts", lambda: _find_carrier_districts(ctx)
    )
    return result


def _find_carrier_districts(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    own = ctx.t[district_fact(ctx.t.name)]  # (a column not given reads as unknown)
    own_values, own_known = ctx.full(own.values), ctx.full(own.known)
    carriers = ctx.tables.get("carriers")
    if carriers is None or carriers.n == 0 or "district" not in carriers:
        return own_values.astype(np.int32), own_known
    ref = ctx.t["carrier_id"]
    idx = ref.values.astype(np.int64, copy=False)
    valid = ref.known & (idx != NO_REF)
    safe = keep(valid, idx)
    dist = carriers["district"]
    has = ctx.full(valid & dist.known[safe])
    theirs = dist.values.astype(np.int32, copy=False)[safe]
    return pick(has, theirs, own_values).astype(np.int32), has | own_known


def _schedule_codes(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """The carrier's schedule (``carrier__schedule``) of each row as a code: 0 for none (the default
    schedule), k for the k-th of the distinct schedule texts ``uniq[k]``, -1 for a schedule stored
    but not readable (a text marked not known: the registry assembler's mark for a schedule stored
    before the reader became stricter; the row's reductions are unknown, not the default's).
    Schedules are few and belong to carriers, so each distinct text is found once among the
    carriers rows refer to, not once per row."""
    ref = ctx.t["carrier_id"]
    carriers = ctx.tables.get("carriers")
    idx = ref.values.astype(np.int64, copy=False)
    valid = ref.known & (idx != NO_REF)
    if carriers is None or carriers.n == 0 or not valid.any():
        return np.asarray([""]), np.zeros(ctx.n, dtype=np.int64)
    safe = keep(valid, idx)
    referred = np.bincount(safe[valid], minlength=carriers.n) > 0
    sched = carriers["schedule"]
    named = np.flatnonzero(referred & sched.known & (sched.values != ""))
    uniq_named, inv_named = np.unique(sched.values[named].astype(str), return_inverse=True)
    code = np.zeros(carriers.n, dtype=np.int64)
    code[named] = inv_named.reshape(-1) + 1
    unreadable = referred & ~sched.known & np.asarray(sched.values, dtype=object).astype(bool)  # (text given)
    code[unreadable] = -1
    return np.concatenate([np.asarray([""]), uniq_named]), keep(valid, code[safe])


def _schedule_known(ctx: Ctx) -> np.ndarray:
    """Where the row's schedule, and so its tenancy year's rates, are known: the tenancy start is
    given, the carrier is given (whether it has a schedule of its own is otherwise unknown, README
    choice 42) and its schedule is readable."""

    def make() -> np.ndarray:
        _, inv = _schedule_codes(ctx)
        ref = ctx.t["carrier_id"]
        known: np.ndarray = ctx.t["tenancy_start"].known & (inv >= 0) & ref.known & (ref.values != NO_REF)
        return known

    result: np.ndarray = ctx.memo("schedule_known", make)
    return result


def within_schedule(ctx: Ctx) -> CondOut:
    """The tenancy year has a reduction under the carrier's schedule (its own, or its district's
    default where it has none). Unknown where the schedule is not known (``_schedule_known``)."""
    year, r, p, u = _schedule_rates(ctx)
    any_rate = (r + p + u) > 0
    _, inv = _schedule_codes(ctx)
    return CondOut(
        tri(any_rate, _schedule_known(ctx)),
        info={
            "tenancy_year": year,
            "rent_permyriad": r,
            "property_permyriad": p,
            "utilities_permyriad": u,
            "schedule_source": Later(
                lambda: np.where(inv > 0, "载体自定方案", "所在区县默认方案").astype(object)
            ),
        },
    )


def _bill_given(fee: str, rate: int, label: str) -> Callable[[Ctx], CondOut]:
    """The test that the current bill of ``fee`` (``label``) is given where the row needs it: where
    its reduction rate for the tenancy year (``_schedule_rates`` item ``rate``) is above 0, or the
    schedule is not known. A fee reduced by 0% that year reduces nothing whatever it is: it is not
    needed, and its absence leaves nothing undetermined (README choice 41)."""

    def test(ctx: Ctx) -> CondOut:
        rates = _schedule_rates(ctx)
        col = ctx.t[fee]
        needed = (rates[rate] > 0) | ~_schedule_known(ctx)
        year = rates[0]

        def note() -> np.ndarray:
            given, years = ctx.full(col.known).tolist(), ctx.full(year).tolist()
            return np.asarray(
                [
                    f"当期{label}已提供" if g else f"入驻第{y}年{label}减免比例为0，无需提供当期{label}"
                    for g, y in zip(given, years, strict=True)
                ],
                dtype=object,
            )

        return CondOut(tri(np.ones(ctx.n, dtype=bool), col.known | ~needed), info={"bill_note": Later(note)})

    return test


_DEN = np.asarray([PERMYRIAD], dtype=np.int64)  # broadcasts against every row


def _cut(fee: np.ndarray, permyriad: np.ndarray) -> np.ndarray:
    """fee × permyriad / 10000, rounded half-up to the fen, exact for every fee in the input range
    (< 10^15 fen, README 28): the whole ten-thousands of fen are cut exactly, and only the rest
    (< 10000 fen) is multiplied and rounded, so nothing overflows (fee × 10000 may not fit)."""
    fee = fee.astype(np.int64, copy=False)
    whole, rest = np.divmod(fee, PERMYRIAD)
    cut: np.ndarray = whole * permyriad + mul_rate_half_up(rest, permyriad, _DEN)
    return cut


def rent_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    t = ctx.t
    year, r, p, u = _schedule_rates(ctx)
    rent = _cut(t["rent_fen"].values, r)
    prop = _cut(t["property_fee_fen"].values, p)
    util = _cut(t["utilities_fen"].values, u)
    return AmountOut(
        rent + prop + util,
        info={
            "rent_cut_fen": rent,
            "property_cut_fen": prop,
            "utilities_cut_fen": util,
            "tenancy_year": year,
        },
    )


CARRIER_RENT_REDUCTION = Program(
    id="carrier_rent_reduction",
    clause="1.1",
    title="载体场租、物业费、水电费减免",
    subject="businesses",
    benefit="当期场租、物业费、水电费减免",
    paid_to="入驻企业（由载体减收）",
    summary="返乡入乡创业人员创办的小微企业入驻创业孵化基地、返乡创业园的，按载体的减免方案减免场租、物业费、水电费。",
    conditions=(
        Condition(
            "small_micro",
            "1.1",
            small_micro,
            "入驻主体为小微企业",
            "入驻主体不是小微企业",
            facts=("size_class",),
        ),
        Condition(
            "founded_by_returning",
            "1.1",
            founded_by_returning,
            "由返乡入乡创业人员创办",
            "不是返乡入乡创业人员创办",
            facts=("founded_by_returning",),
        ),
        Condition(
            "in_carrier",
            "3.8",
            in_carrier,
            "入驻载体类型属于{carrier_kinds}（本载体为{kind_name}）",
            "入驻载体为{kind_name}，不属于可享受减免的载体类型（{carrier_kinds}）",
            facts=("carrier__kind",),
            params=("carrier_rent_reduction.carrier_kinds",),
        ),
        Condition(
            "tenancy_started",
            "3.8",
            tenancy_started,
            "入驻日期{tenancy_start_date}，已开始入驻",
            "入驻日期{tenancy_start_date}尚未到，尚未开始入驻",
            facts=("tenancy_start",),
            gap_msg="还差{gap_days}天开始入驻（{tenancy_start_date}起）",
        ),
        Condition(
            "within_schedule",
            "3.8",
            within_schedule,
            "入驻第{tenancy_year}年，按{schedule_source}减免：场租{rent_permyriad}、物业{property_permyriad}、"
            "水电{utilities_permyriad}",
            "入驻第{tenancy_year}年，{schedule_source}对该年次无减免（已超出减免期限或比例为0）",
            facts=("tenancy_start", "carrier__schedule"),
            params=("carrier_rent_reduction.default_schedule",),
        ),
        *(
            Condition(
                f"{fee.removesuffix('_fen')}_given",
                "3.8",
                _bill_given(fee, rate, label),
                "{bill_note}",
                f"当期{label}未提供",
                facts=(fee,),
            )
            for fee, rate, label in (
                ("rent_fen", 1, "场租"),
                ("property_fee_fen", 2, "物业费"),
                ("utilities_fen", 3, "水电费"),
            )
        ),
    ),
    amount=rent_amount,
    amount_msg="减免场租{rent_cut_fen}、物业费{property_cut_fen}、水电费{utilities_cut_fen}",
    rule_facts=(
        "tenancy_start",
        "carrier_id",
        "carrier__schedule",
        "rent_fen",
        "property_fee_fen",
        "utilities_fen",
    ),
    amount_params=("carrier_rent_reduction.default_schedule",),
)


# ---- free_workstation --------------------------------------------------------------------------------


def startup_intention(ctx: Ctx) -> CondOut:
    """「向有创业意愿的青年人才、农村建档立卡贫困人员提供」: the intention qualifies both groups (two
    nouns joined by 、 share the attribute; a workstation is for starting a business), so it is a
    condition of its own beside the youth-or-poverty ground (README choice 74)."""
    return is_true(ctx.t["startup_intention"])


def youth(ctx: Ctx) -> CondOut:
    """青年人才: age ≤ 35 (周岁, inclusive): the evaluation date is before the 36th birthday."""
    b = ctx.t["birth_date"]
    max_age = ctx.ints("free_workstation.youth_max_age")
    limit = anniversary(b.values.astype(np.int32, copy=False), max_age + 1)
    return CondOut(tri(ctx.on_col < limit, b.known), info={"max_age": max_age})


def poverty(ctx: Ctx) -> CondOut:
    return CondOut(in_groups(ctx.t["groups"], ctx.groups_mask("free_workstation.poverty_groups")))


def not_holding(ctx: Ctx) -> CondOut:
    return is_false(ctx.t["holds_free_workstation"])


def not_granted(ctx: Ctx) -> CondOut:
    """No free workstation registered as granted to the person (the register ``received``, which an
    approval writes with the period ``once``): a registered grant is not granted again (README choice
    84). Unknown where the register is not given (PROVISIONS §0)."""
    return none_received(ctx.t["free_workstation_received"])


def workstation_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    return AmountOut(
        np.zeros(ctx.n, dtype=np.int64), info={"term_months": ctx.ints("free_workstation.term_months")}
    )


FREE_WORKSTATION = Program(
    id="free_workstation",
    clause="1.1",
    title="免费创业工位",
    subject="persons",
    benefit="免费创业工位",
    paid_to="申请人（实物）",
    summary="向有创业意愿的青年人才、农村建档立卡贫困人员提供免费创业工位。",
    conditions=(
        Condition(
            "startup_intention",
            "1.1",
            startup_intention,
            "有创业意愿",
            "未表示创业意愿",
            facts=("startup_intention",),
        ),
        Condition(
            "not_holding",
            "1.1",
            not_holding,
            "目前未使用免费工位",
            "目前已在使用免费工位",
            facts=("holds_free_workstation",),
        ),
        Condition(
            "not_granted",
            "1.1",
            not_granted,
            "此前未登记享受过免费创业工位",
            "已登记享受过免费创业工位（已核准的不重复提供）",
            facts=("free_workstation_received",),
        ),
    ),
    any_of=(
        Condition(
            "youth",
            "1.1",
            youth,
            "为{max_age}周岁及以下青年人才",
            "年龄超过{max_age}周岁",
            facts=("birth_date",),
            params=("free_workstation.youth_max_age",),
        ),
        Condition(
            "poverty",
            "1.1",
            poverty,
            "为农村建档立卡贫困人员",
            "不是农村建档立卡贫困人员",
            facts=("groups",),
            params=("free_workstation.poverty_groups",),
        ),
    ),
    any_of_label="青年人才或农村建档立卡贫困人员",
    amount=workstation_amount,
    amount_msg="免费工位，期限{term_months}个月（实物支持，无资金）",
    funded=False,  # in kind: no public money is paid, so no funding source is listed
    amount_params=("free_workstation.term_months",),
)


# ---- carrier_award ------------------------------------------------------------------------------------


def _award_register(ctx: Ctx) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per carrier: one-off received, national bonus received, performance received for award_year,
    and whether the register holds a carrier award whose period is none of ``oneoff``, ``national``
    or ``performance:<four-digit year>`` (missing, 「2023」, …): such an entry may be any part, so
    whether a part not otherwise recorded was received is unknown (as README choice 34). An entry
    naming no carrier (a batch file's empty subject_id) may be any carrier's: it leaves every
    carrier's parts not otherwise recorded unknown alike (README choice 16; assemble._received)."""

    def make() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = ctx.n
        oneoff = np.zeros(n, dtype=bool)
        national = np.zeros(n, dtype=bool)
        perf = np.zeros(n, dtype=bool)
        unclear = np.zeros(n, dtype=bool)
        rec = ctx.tables.get("received")
        if rec is not None and rec.n:
            sel = np.flatnonzero(rec["program"].values == "carrier_award")
            rows = rec["subject_row"].values[sel].astype(np.int64)
            period = rec["period"]
            periods, known = period.values[sel], period.known[sel]
            award_year = ctx.t["award_year"].values
            for r, p, k in zip(rows, periods, known, strict=True):  # the register of one program: small
                if not 0 <= r < n:
                    continue
                text = str(p).strip() if k else ""
                year = text.removeprefix("performance:")
                if text == "oneoff":
                    oneoff[r] = True
                elif text == "national":
                    national[r] = True
                elif text.startswith("performance:") and len(year) == 4 and year.isdigit():
                    perf[r] |= int(year) == int(award_year[r])
                else:
                    unclear[r] = True
            if names_no_subject(rec, sel, rows):
                unclear[:] = True
        return oneoff, national, perf, unclear

    result: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] = ctx.memo("award_register", make)
    return result


def award_kind(ctx: Ctx) -> CondOut:
    return kind_in_list(ctx, "carrier_award.kinds", "kind", "kinds")


def municipal(ctx: Ctx) -> CondOut:
    """Recognised at municipal level or above: the current level decides when known, else the
    dates: recognised at municipal level, or at national level (above it), by the evaluation date
    (a Kleene OR: either known past date passes)."""
    d, lvl, nat = ctx.t["municipal_date"], ctx.t["level"], ctx.t["national_date"]
    by_level = tri(lvl.values != FACTS["carriers"]["level"].code_of("district"), lvl.known)
    by_date = any_of(tri(d.values <= ctx.on, d.known), tri(nat.values <= ctx.on, nat.known))

    def since() -> np.ndarray:
        full = ctx.full
        m_known, m_day = full(d.known).tolist(), full(d.values).tolist()
        n_known, n_day = full(nat.known).tolist(), full(nat.values).tolist()
        out = np.empty(ctx.n, dtype=object)
        for i in range(ctx.n):
            # The date the condition passed on: the municipal one when it has passed, else the
            # national one when it has (a future municipal date is no ground).
            if m_known[i] and m_day[i] <= ctx.on:
                out[i] = f"（认定日期{from_day(int(m_day[i])).isoformat()}）"
            elif n_known[i] and n_day[i] <= ctx.on:
                out[i] = f"（国家级认定日期{from_day(int(n_day[i])).isoformat()}）"
            else:
                out[i] = ""
        return out

    return CondOut(pick(lvl.known, by_level, by_date).astype(np.int8), info={"municipal_since": Later(since)})


def _received_state(ctx: Ctx, flags: np.ndarray) -> TriArray:
    """Not received: fails where the register records the part; unknown where the register was not
    supplied or holds an entry of unclear period (which may be this part)."""
    unclear = _award_register(ctx)[3]
    return tri(~flags, ctx.supplied("received") & (flags | ~unclear))


def register_clear(ctx: Ctx) -> CondOut:
    """Which parts were already received can be told: the register is supplied and every carrier
    award entry of the carrier names its part. (Carries the missing fact for the parts it leaves
    unknown; it never fails.)"""
    unclear = _award_register(ctx)[3]
    return CondOut(tri(np.ones(ctx.n, dtype=bool), ctx.supplied("received") & ~unclear))


# What an award part's unknown condition lacks (README choice 43): the register, where it was not
# supplied, or which part its unclear entries are.
_REGISTER_MISSING = "已享受政策登记（received）"
_REGISTER_UNCLEAR = "已享受政策登记中期间不明或未写明载体的载体奖补记录属于哪一项"


def _lacking(ctx: Ctx, parts: tuple[tuple[TriArray, tuple[str, ...]], ...], received: TriArray) -> Later:
    """Per row, what an award part's condition lacks where it is unknown, for its message: the facts
    not given of each of its ``parts`` (a state and the carrier facts it reads) that is unknown, and
    the register where whether the part was received is unknown. Never 「所需信息」: the register
    is not a carrier fact, so the generic list of missing facts cannot name it."""

    def make() -> np.ndarray:
        full, t = ctx.full, ctx.t
        supplied = ctx.supplied("received")
        states = [full(state).tolist() for state, _ in parts]
        known = {n: full(t[n].known).tolist() for _, names in parts for n in names}
        got = full(received).tolist()
        labels = FACTS["carriers"]
        out = np.empty(ctx.n, dtype=object)
        for i in range(ctx.n):
            names: dict[str, None] = {}
            for (_, facts), state in zip(parts, states, strict=True):
                if state[i] == UNKNOWN:
                    names.update((labels[n].label, None) for n in facts if not known[n][i])
            if got[i] == UNKNOWN:
                names[_REGISTER_UNCLEAR if supplied else _REGISTER_MISSING] = None
            out[i] = "、".join(names)
        return out

    return Later(make)


def oneoff(ctx: Ctx) -> CondOut:
    received = _received_state(ctx, _award_register(ctx)[0])
    return CondOut(received, info={"lacking": _lacking(ctx, (), received)})


def performance(ctx: Ctx) -> CondOut:
    t = ctx.t
    p = _award_register(ctx)[2]
    ay, rating, md = t["award_year"], t["rating"], t["municipal_date"]
    years = ctx.ints("carrier_award.performance_years")
    first = years_of(md.values.astype(np.int32, copy=False)).astype(np.int64) + 1
    this_year = years_of(ctx.on_col).astype(np.int64)
    in_years = (ay.values >= first) & (ay.values < first + years)
    ended = ay.values < this_year
    rated = rating.values != FACTS["carriers"]["rating"].code_of("none")
    received = _received_state(ctx, p)
    # A year not yet ended fails whatever the recognition date; only the window waits for it.
    year_ended, window, is_rated = (
        tri(ended, ay.known),
        tri(in_years, ay.known & md.known),
        tri(rated, rating.known),
    )
    state = all_of(year_ended, window, is_rated, received)
    parts = (
        (year_ended, ("award_year",)),
        (window, ("award_year", "municipal_date")),
        (is_rated, ("rating",)),
    )

    def reason() -> np.ndarray:  # (quoted by a failed condition's message only: why, row by row)
        full = ctx.full
        a_year, a_known, d_known = full(ay.values).tolist(), full(ay.known).tolist(), full(md.known).tolist()
        f_year, n_years = full(first).tolist(), full(np.broadcast_to(years, first.shape)).tolist()
        inside, rated_, r_known = full(in_years).tolist(), full(rated).tolist(), full(rating.known).tolist()
        got, now = full(received).tolist(), int(this_year.reshape(-1)[0])
        out = np.empty(ctx.n, dtype=object)
        for i in range(ctx.n):
            why = []
            if a_known[i] and d_known[i] and not inside[i]:
                last = f_year[i] + n_years[i] - 1
                why.append(f"不在认定后的{n_years[i]}个完整年度（{f_year[i]}—{last}年度）内")
            if a_known[i] and a_year[i] >= now:
                why.append(f"{a_year[i]}年度尚未结束，结束后按评估等次核定")
            if r_known[i] and not rated_[i]:
                why.append("该年度未评定绩效等次" if a_known[i] else "未评定绩效等次")
            if got[i] == 0:
                why.append("该年度绩效奖补已领取")
            out[i] = "；".join(why)
        return out

    def year_text() -> np.ndarray:  # (a year not given is never quoted as a number, PROVISIONS §0)
        a_year, a_known = ctx.full(ay.values).tolist(), ctx.full(ay.known).tolist()
        return np.asarray(
            [f"{y}年度" if k else "申请奖补年度未知，" for y, k in zip(a_year, a_known, strict=True)],
            dtype=object,
        )

    return CondOut(
        state,
        info={
            "award_year": ay.values,
            "years": years,
            "perf_reason": Later(reason),
            "perf_year": Later(year_text),
            "lacking": _lacking(ctx, parts, received),
        },
    )


def national(ctx: Ctx) -> CondOut:
    nat = _award_register(ctx)[1]
    d = ctx.t["national_date"]
    lvl = ctx.t["level"]
    # The current level decides when known; otherwise the date of national recognition.
    by_level = enum_is(lvl, "carriers", "level", "national")
    by_date = tri(d.values <= ctx.on, d.known)
    promoted = pick(lvl.known, by_level, by_date).astype(np.int8)

    def reason() -> np.ndarray:  # (quoted by a failed condition's message only)
        not_promoted, got = (ctx.full(promoted) == FAIL).tolist(), ctx.full(nat).tolist()
        out = np.empty(ctx.n, dtype=object)
        for i in range(ctx.n):
            out[i] = "；".join(
                [
                    w
                    for w, x in (("未晋升为国家级载体", not_promoted[i]), ("已领取国家级追加奖补", got[i]))
                    if x
                ]
            )
        return out

    received = _received_state(ctx, nat)
    return CondOut(
        all_of(promoted, received),
        info={
            "national_reason": Later(reason),
            "lacking": _lacking(ctx, ((promoted, ("national_date", "level")),), received),
        },
    )


def award_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    t = ctx.t
    one = pick(states["oneoff"] == PASS, ctx.ints("carrier_award.municipal_oneoff"), 0)
    nat = pick(states["national"] == PASS, ctx.ints("carrier_award.national_bonus"), 0)
    ver = ctx.version("carrier_award.performance")
    ratings = FACTS["carriers"]["rating"].choices
    perf = np.zeros(ctx.n, dtype=np.int64)
    rating = t["rating"].values.astype(np.int64, copy=False)
    for v in np.unique(ver):
        if v < 0:
            continue
        table = thaw(ctx.param("carrier_award.performance").versions[int(v)].value)
        fen = np.asarray(
            [yuan_to_fen(table.get(r, 0), "参数 carrier_award.performance") for r in ratings], dtype=np.int64
        )
        rows = ctx.full(ver == v)
        perf[rows] = fen[rating[rows]]
    perf = pick(states["performance"] == PASS, perf, 0)
    # The three parts are separate awards, each in the register on its own: a part whose ground is
    # still unknown (e.g. the year not rated yet) is not in this amount and is determined later; the
    # explanation lists its missing facts (README choice 36).
    return AmountOut(
        (one + nat + perf).astype(np.int64),
        info={"oneoff_fen": one, "performance_fen": perf, "national_fen": nat},
    )


_LACKING_MSG = "缺少事实，无法判断：{lacking}"

CARRIER_AWARD = Program(
    id="carrier_award",
    clause="3.8",
    title="返乡创业园、创业孵化基地奖补",
    subject="carriers",
    benefit="载体奖补",
    paid_to="载体运营主体",
    summary="认定为市级的创业孵化基地、返乡创业园给予一次性奖补，连续3年按绩效评估给予奖补，晋升国家级的追加奖补。",
    conditions=(
        Condition(
            "carrier_kind",
            "3.8",
            award_kind,
            "载体类型属于{kinds}（本载体为{kind_name}）",
            "载体为{kind_name}，不在奖补范围（{kinds}）",
            facts=("kind",),
            params=("carrier_award.kinds",),
        ),
        Condition(
            "municipal",
            "3.8",
            municipal,
            "已认定为市级及以上载体{municipal_since}",
            "尚未认定为市级及以上载体",
            facts=("level", "municipal_date", "national_date"),
        ),
        Condition(
            "register_clear",
            "3.8",
            register_clear,
            "已享受政策登记已提供，其中的载体奖补记录均写明构成",
            "已享受政策登记已提供，其中的载体奖补记录均写明构成",
            unknown_msg="无法判断已领取哪些奖补：未提供已享受政策登记，或其中有期间不明的载体奖补记录"
            "（期间应为 oneoff、performance:年度 或 national），或有未写明载体的载体奖补记录",
            facts=("received",),
        ),
    ),
    any_of=(
        Condition(
            "oneoff",
            "3.8",
            oneoff,
            "尚未领取市级认定一次性奖补",
            "已领取市级认定一次性奖补",
            _LACKING_MSG,
            facts=("received",),
        ),
        Condition(
            "performance",
            "3.8",
            performance,
            "{award_year}年度在认定后{years}年内且已评定绩效等次",
            "{perf_year}不能享受绩效奖补：{perf_reason}",
            _LACKING_MSG,
            facts=("award_year", "rating", "municipal_date"),
            params=("carrier_award.performance_years",),
        ),
        Condition(
            "national",
            "3.8",
            national,
            "已晋升国家级且未领取追加奖补",
            "不能享受国家级追加奖补：{national_reason}",
            _LACKING_MSG,
            facts=("national_date", "level"),
        ),
    ),
    any_of_label="一次性奖补、年度绩效奖补、国家级追加奖补至少一项",
    amount=award_amount,
    amount_msg="一次性奖补{oneoff_fen} + 绩效奖补{performance_fen} + 国家级追加{national_fen}",
    pending_parts=(
        ("oneoff_fen", "oneoff"),
        ("performance_fen", "performance"),
        ("national_fen", "national"),
    ),
    rule_facts=("received", "award_year", "rating", "municipal_date", "national_date", "level"),
    amount_params=(
        "carrier_award.municipal_oneoff",
        "carrier_award.performance",
        "carrier_award.national_bonus",
    ),
)
