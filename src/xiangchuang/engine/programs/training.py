"""创业培训补贴 — 渝人社发〔2020〕74号 二、（四）, clause 2.4; 岗位培训补贴 四、（十一）, clause 4.11.

SYB and 网络创业培训: a returning/incoming entrepreneur preparing to start, or whose licence was
obtained within 1 year before the training start (start ≤ anniversary(licence, 1)).
IYB: licence obtained ≥ 1 year before the start (start ≥ anniversary(licence, 1)). On the exact
anniversary both hold. Subsidies are paid to the training provider on completion.

Each kind at most once per person (PROVISIONS §1): the register (``received``) check
``not_received``, and within the trainings evaluated together (one case, one batch) the condition
``once_per_kind``: among the trainings of one person and one kind only the first completed one
that meets its own stage condition (``early_stage``, for IYB ``established``) can be paid — the
earliest completion date among those completed by the evaluation date (结业日 known, not before the
start, not after the evaluation date), ties broken by the earlier start date, then by the row order.
Every other training of that person and kind (a later completed one, one not yet completed, one
whose completion is unknown) fails, naming the first one. A training that fails its own stage
condition was never paid and blocks nothing (e.g. an IYB begun before the licence's first
anniversary does not bar the IYB taken after it); where an earlier completed one's stage condition
is unknown, the later ones are unknown (it may be the one paid), as for the job subsidy (README
choice 33). Likewise a training whose start date is unknown (its completion date known, by the
evaluation date) may or may not be completed (completed means not before the start): it blocks
nothing for sure, the trainings after it are unknown (naming its start date), and a later-completed
training does not fail it; on the same completion day its place by start date is unknown both
ways. Trainings not yet completed block nothing; a training whose person is unknown is neither
blocked nor blocks (the register check stays unknown for it). One case and a batch with the same
rows give the same result.

Messages never quote a date computed from an unknown licence date (the fill value): where the
person has no licence the failure says so (未取得营业执照), and where the licence date is unknown
the condition is unknown and lists the missing fact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.assemble import SYB_TOP_UP_PERIOD, _register_rows
from xiangchuang.engine.dates import add_months, anniversary, month_range, month_start, period_year, to_day
from xiangchuang.engine.facts import FACTS, NO_REF, filled
from xiangchuang.engine.money import format_fen, mul_rate_half_up
from xiangchuang.engine.parameters import thaw, yuan_to_fen
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import is_true, kind_in_list, none_received, within_amount_bound
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import pick

CLAUSE = "2.4"
_KINDS = FACTS["trainings"]["kind"].choices
# Start dates (1900–2099) shifted to be positive below 2 * _START_OFFSET, for ordering keys.
_START_OFFSET = 1 << 20
TextArray = npt.NDArray[np.str_]


def _kind(code: str):  # type: ignore[no-untyped-def]
    def test(ctx: Ctx) -> CondOut:
        k = ctx.t["kind"]
        return CondOut(pick(k.known & (k.values == _KINDS.index(code)), PASS, FAIL).astype(np.int8))

    return test


# ---- message texts ---------------------------------------------------------------------------------
# Some failures need a different sentence per row (no licence at all vs. a licence of the wrong age):
# the sentence is a message value, built for all rows at once and only when an explanation asks.


def _iso(days: npt.NDArray[Any]) -> TextArray:
    """Day numbers as ISO dates (YYYY-MM-DD), as a text column."""
    out: TextArray = np.datetime_as_string(np.asarray(days, dtype=np.int64).astype("datetime64[D]"), unit="D")
    return out


def _cat(*parts: str | npt.NDArray[Any]) -> TextArray:
    """Texts and text columns joined row by row (columns broadcast)."""
    out: TextArray = np.asarray(parts[0], dtype=np.str_)
    for p in parts[1:]:
        out = np.char.add(out, np.asarray(p, dtype=np.str_))
    return out


def _choose(
    n: int, cases: list[tuple[npt.NDArray[np.bool_], str | TextArray]], default: TextArray
) -> TextArray:
    """Per row the text of the first case whose mask holds, else ``default``."""
    out: TextArray = np.broadcast_to(np.asarray(default, dtype=np.str_), (n,))
    for mask, text in reversed(cases):
        out = np.where(np.broadcast_to(mask, (n,)), text, out)
    return out


# ---- SYB / 网络创业 / IYB conditions -------------------------------------------------------------


def returning_entrepreneur(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["person__returning_entrepreneur"])


def early_stage(ctx: Ctx) -> CondOut:
    """准备创业, or 培训前1年内取得营业执照 (licence ≤ start ≤ anniversary(licence, 1))."""
    t = ctx.t
    start, has, lic, intent = (
        t["start_date"],
        t["person__has_licence"],
        t["person__licence_date"],
        t["person__startup_intention"],
    )
    years = ctx.ints("training.licence_window_years")
    lic_v = lic.values.astype(np.int32, copy=False)
    ann = anniversary(lic_v, years)
    licensed_before = all_of(
        tri(has.values.astype(bool), has.known), tri(lic_v <= start.values, lic.known & start.known)
    )
    within = tri(start.values <= ann, lic.known & start.known)
    no_licence_yet = any_of(
        tri(~has.values.astype(bool), has.known), tri(lic_v > start.values, lic.known & start.known)
    )
    preparing = all_of(no_licence_yet, tri(intent.values.astype(bool), intent.known))

    def why() -> TextArray:
        # A failed row is one of: no licence (and no intention); a licence obtained after the
        # start (and no intention); a licence older than the window at the start (with an unknown
        # has_licence also no intention). Only the last two quote dates, both from a known licence.
        y = np.asarray(years).astype(str)
        no_licence = has.known & ~has.values.astype(bool)
        after_start = lic.known & start.known & (lic_v > start.values)
        has_true = has.known & has.values.astype(bool)
        too_old = _cat("培训开始时取得营业执照已超过", y, "年（", _iso(ann), "起应参加IYB培训）")
        return _choose(
            ctx.n,
            [
                (no_licence, "未取得营业执照且无创业意愿，不属于准备创业或创业初期人员"),
                (
                    after_start,
                    _cat(
                        "培训开始时尚未取得营业执照（",
                        _iso(lic_v),
                        "取得）且无创业意愿，不属于准备创业或创业初期人员",
                    ),
                ),
                (~has_true, _cat(too_old, "，且无创业意愿")),
            ],
            too_old,
        )

    return CondOut(
        any_of(preparing, all_of(licensed_before, within)), info={"years": years, "reason": Later(why)}
    )


def established(ctx: Ctx) -> CondOut:
    """成功创业（取得营业执照）1年以上: start ≥ anniversary(licence, 1)."""
    t = ctx.t
    start, has, lic = t["start_date"], t["person__has_licence"], t["person__licence_date"]
    years = ctx.ints("training.licence_window_years")
    ann = anniversary(lic.values.astype(np.int32, copy=False), years)
    state = all_of(tri(has.values.astype(bool), has.known), tri(start.values >= ann, lic.known & start.known))

    def no_licence() -> npt.NDArray[np.bool_]:
        # A failed row either has no licence (the licence date, if any, is not quoted) or a known
        # licence date less than the window before the start.
        return ctx.full(has.known & ~has.values.astype(bool))

    def why() -> TextArray:
        y = np.asarray(years).astype(str)
        return _choose(
            ctx.n,
            [(no_licence(), _cat("未取得营业执照，不属于IYB培训对象（须取得营业执照满", y, "年）"))],
            _cat("培训开始时取得营业执照未满", y, "年（", _iso(ann), "起可参加IYB）"),
        )

    def gap() -> TextArray:
        y = np.asarray(years).astype(str)
        days = np.asarray(ann - start.values, dtype=np.int64).astype(str)
        return _choose(
            ctx.n,
            [(no_licence(), _cat("须先取得营业执照，并满", y, "年"))],
            _cat("培训开始日距取得营业执照满", y, "年还差", days, "天"),
        )

    return CondOut(state, info={"years": years, "reason": Later(why), "gap": Later(gap)})


def completed(ctx: Ctx) -> CondOut:
    """Completed by the evaluation date: the completion date known, not after the evaluation date
    and not before the start date (README choice 32). Fails where the completion date is after
    the evaluation date (尚未结业) or, both dates known, before the start date (a completion date
    that cannot be: not completed as recorded); unknown otherwise."""
    c = ctx.t["completion_date"]
    s = ctx.t["start_date"]
    later = c.known & (c.values > ctx.on)
    state = pick(later, FAIL, tri(c.values >= s.values, c.known & s.known)).astype(np.int8)

    def why() -> TextArray:
        before_start = c.known & s.known & (c.values < s.values)
        return _choose(
            ctx.n,
            [
                (
                    ctx.full(before_start & ~later),
                    _cat(
                        "结业日期（",
                        _iso(c.values),
                        "）早于培训开始日期（",
                        _iso(s.values),
                        "），记录有误，不能认定已结业",
                    ),
                )
            ],
            np.asarray("尚未结业", dtype=np.str_),
        )

    return CondOut(state, info={"completion_date": c.values, "completed_reason": Later(why)})


def _stage(kind: str, ctx: Ctx) -> CondOut:
    """The training's own stage condition (``early_stage``, for IYB ``established``), computed once
    per evaluation: the condition itself and ``once_per_kind`` read it."""
    test = established if kind == "iyb" else early_stage
    out: CondOut = ctx.memo("stage", lambda: test(ctx))
    return out


def _once_per_kind(kind: str, label: str):  # type: ignore[no-untyped-def]
    """Among the trainings of one person and this kind, only the first completed one that meets its
    own stage condition passes (see the module docstring). Columns only.

    Each training is placed by (completion, start, row). A training whose start date is unknown
    (its completion date known, by the evaluation date) may or may not be completed (README choice
    32: completed means not before the start): it may be the one paid, and its place among trainings
    completed the same day is unknown, so it spans from before every start to after every start.
    A row fails where a training that surely counts (completed, stage condition met) surely comes
    first; else it is unknown where a training that may count may come first; else it passes."""
    code = _KINDS.index(kind)

    def test(ctx: Ctx) -> CondOut:
        n = ctx.n
        if n == 1:  # one training: nothing to compare with
            return CondOut(filled(np.int8, PASS, 1))
        t = ctx.t
        pid, k, c, s = t["person_id"], t["kind"], t["completion_date"], t["start_date"]
        person = pid.values.astype(np.int64, copy=False)
        mine = pid.known & (person != NO_REF) & k.known & (k.values == code)
        cv = pick(c.known, c.values, 0).astype(np.int64)
        sv = pick(s.known, s.values, 0).astype(np.int64)
        by_on = mine & c.known & (cv <= ctx.on)
        done = pick(by_on & s.known & (cv >= sv), PASS, pick(by_on & ~s.known, UNKNOWN, FAIL))
        counts = all_of(done.astype(np.int8), ctx.full(_stage(kind, ctx).state))
        cand = np.flatnonzero(mine)
        if not np.any(counts[cand] != FAIL):
            return CondOut(filled(np.int8, PASS, n))
        # The place of each row, earliest and latest: (key, row) with the key (completion, start);
        # an unknown start spans every start (and every row on the same start), a training not
        # completed comes after every completed one.
        row = np.arange(n, dtype=np.int64)
        base = cv << 21
        late = np.iinfo(np.int64).max
        placed = done != FAIL
        k_lo = pick(placed, base + pick(s.known, sv + _START_OFFSET, 0), late)
        k_hi = pick(placed, base + pick(s.known, sv + _START_OFFSET, 2 * _START_OFFSET - 1), late)
        r_lo = pick(placed & ~s.known, -1, row)
        r_hi = pick(placed & ~s.known, n, row)

        def before(a: npt.NDArray[np.int64], rows: npt.NDArray[np.int64], hi: bool) -> npt.NDArray[np.bool_]:
            """Whether training ``a`` (at its earliest place) comes before ``rows`` (at their latest
            place with ``hi``, else their earliest)."""
            kb, rb = (k_hi, r_hi) if hi else (k_lo, r_lo)
            out: npt.NDArray[np.bool_] = (k_lo[a] < kb[rows]) | ((k_lo[a] == kb[rows]) & (r_lo[a] < rb[rows]))
            return out

        def heads(keep: npt.NDArray[np.bool_], m: int) -> list[npt.NDArray[np.int64]]:
            """Per candidate row, the first ``m`` trainings of its person among ``keep`` in place
            order (-1: none)."""
            sel = np.flatnonzero(keep)
            order = np.lexsort((r_lo[sel], k_lo[sel], person[sel]))
            srow, sper = sel[order], person[sel][order]
            outs = []
            for j in range(m):
                out = np.full(n, -1, dtype=np.int64)
                if srow.size:
                    pos = np.searchsorted(sper, person[cand]) + j
                    ok = pos < srow.size
                    ok[ok] = sper[pos[ok]] == person[cand][ok]
                    out[cand[ok]] = srow[pos[ok]]
                outs.append(out)
            return outs

        (first,) = heads(counts == PASS, 1)
        g1, g2 = heads(counts != FAIL, 2)
        other = pick(g1 == row, g2, g1)
        blocked = (first >= 0) & before(pick(first >= 0, first, 0), row, hi=False)
        open_ = ~blocked & (other >= 0) & before(pick(other >= 0, other, 0), row, hi=True)
        earlier = pick(blocked, first, pick(open_, other, 0))
        ids = t["id"].values

        def open_reason() -> TextArray:
            # The training that may come first: its start date unknown (it may not be completed),
            # this one's start date unknown (the same completion day: the order is unknown), or
            # its own stage condition unknown.
            name = np.asarray([str(x) for x in ids[earlier].tolist()], dtype=np.str_)
            other = _cat(label, "培训", name, "（", _iso(cv[earlier]), "结业）")
            tail = "，本条暂无法确定能否享受（每类培训每人限享受一次）"
            return _choose(
                n,
                [
                    (
                        ~ctx.full(s.known)[earlier],
                        _cat(
                            "缺少事实，无法判断：",
                            name,
                            "的培训开始日期（",
                            other,
                            "结业不晚于本条，培训开始日期未知，无法判断是否已结业",
                            tail,
                            "）",
                        ),
                    ),
                    (
                        ctx.full(~s.known) & (cv[earlier] == cv),
                        _cat(
                            "缺少事实，无法判断：培训开始日期（本条与同日结业的",
                            other,
                            "先后不明",
                            tail,
                            "）",
                        ),
                    ),
                ],
                _cat("缺少事实，无法判断：更早结业的", other, "是否符合培训对象条件", tail),
            )

        return CondOut(
            pick(blocked, FAIL, pick(open_, UNKNOWN, PASS)).astype(np.int8),
            info={
                "earlier_id": Later(lambda: ids[earlier]),
                "earlier_completion_date": c.values[earlier],
                "open_reason": Later(open_reason),
            },
        )

    return test


def _not_received(kind: str):  # type: ignore[no-untyped-def]
    def test(ctx: Ctx) -> CondOut:
        return none_received(ctx.t[f"person__training_{kind}_received"])

    return test


def syb_not_received(ctx: Ctx) -> CondOut:
    """每类培训每人限享受一次, but a trainee paid less than the full SYB subsidy (the reduced share,
    no business registered when it was paid) who registers a business within the window after
    completion (:func:`syb_registered`) is paid the difference (补足差额, README choice 6): PASS
    with nothing received, or with less than the full amount received and a business registered
    in time; FAIL with the full amount received, or a business not registered in time; UNKNOWN
    where the register, the amount received or the registration is not known."""
    out: CondOut = ctx.memo("syb_not_received", lambda: _syb_not_received(ctx))
    return out


def _syb_paid_before(ctx: Ctx) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Per SYB training: whether the trainee's SYB register holds an entry dated before this
    training's completion — its period a year, a month or a month range ending before the
    completion date — which was then paid for an earlier class (a subsidy is paid on completion),
    and that entry (row of the register, -1 where none). SYB is paid once per person (PROVISIONS
    §1, README choice 6): the reduced share of an earlier class is not topped up by another class.
    An entry whose period is no date (a class number, 「补差」, missing) may be this class's."""
    n = ctx.n
    none = np.zeros(n, dtype=bool), np.full(n, -1, dtype=np.int64)
    rec = ctx.tables.get("received")
    if rec is None or not rec.n:
        return none
    sel = _register_rows(rec).get("training_syb")
    if sel is None or not sel.size:
        return none
    owner = rec["subject_row"].values[sel].astype(np.int64, copy=False)
    period = rec["period"]
    # The last day each entry's period covers, undated: none. Each distinct period text is read
    # once (a batch has tens of thousands of entries but few distinct periods).
    never = np.iinfo(np.int64).max
    texts, inverse = np.unique(
        np.asarray(
            [
                str(x) if k else ""
                for x, k in zip(period.values[sel].tolist(), period.known[sel].tolist(), strict=True)
            ],
            dtype=object,
        ),
        return_inverse=True,
    )
    text_ends = np.asarray([_period_end(str(text)) for text in texts.tolist()], dtype=np.int64)
    ends = text_ends[inverse.reshape(-1)] if text_ends.size else np.full(sel.size, never, dtype=np.int64)
    dated = np.flatnonzero((owner >= 0) & (ends < never))
    if not dated.size:
        return none
    # Per person the earliest-ending dated entry.
    order = dated[np.lexsort((ends[dated], owner[dated]))]
    persons, first = np.unique(owner[order], return_index=True)
    entry, end = order[first], ends[order[first]]
    t = ctx.t
    pid, comp = t["person_id"], t["completion_date"]
    person = pid.values.astype(np.int64, copy=False)
    at = np.minimum(np.searchsorted(persons, person), persons.size - 1)
    mine = pid.known & (person != NO_REF) & (persons[at] == person)
    before = ctx.full(mine & comp.known & (end[at] < comp.values))
    return before, np.where(before, ctx.full(sel[entry[at]]), -1).astype(np.int64)


def _period_end(text: str) -> int:
    """The last day (day number) a register period written as a year, a month range or one month
    covers; the int64 maximum for any other text (a class number, 「补差」, none)."""
    if not text or text.strip() == SYB_TOP_UP_PERIOD:
        return int(np.iinfo(np.int64).max)
    year = period_year(text)
    if year is not None:
        return to_day(dt.date(year, 12, 31))
    months = month_range(text) or _one_month(text)
    if months is None:
        return int(np.iinfo(np.int64).max)
    return int(month_start(np.asarray([months[1] + 1]))[0]) - 1


def _one_month(text: str) -> tuple[int, int] | None:
    """A period written as one month 「2024-01」: (month, month), else None."""
    return month_range(f"{text}/{text}")


def _syb_not_received(ctx: Ctx) -> CondOut:
    t = ctx.t
    count, paid = t["person__training_syb_received"], t["person__training_syb_received_fen"]
    full = ctx.ints("training_syb.amount")
    nothing = none_received(count).state
    earlier, entry = _syb_paid_before(ctx)
    top_up = all_of(
        tri(count.values > 0, count.known | (count.values > 0)),
        # (the amount is the least received: reaching the full amount fails whatever else is open)
        tri(paid.values < full, paid.known | (paid.values >= full)),
        syb_registered(ctx),
        # (the reduced share of an earlier class is not this class's to top up)
        pick(earlier, FAIL, PASS).astype(np.int8),
    )
    months = ctx.ints("training_syb.business_within_months")

    def note() -> TextArray:
        received = np.asarray(
            [
                format_fen(int(x)) if k else "（金额未登记）"
                for x, k in zip(ctx.full(paid.values).tolist(), ctx.full(paid.known).tolist(), strict=True)
            ],
            dtype=np.str_,
        )
        within = _cat("结业后", np.asarray(months).astype(str), "个月内")
        short = paid.known & (paid.values < full)
        rows = np.flatnonzero(earlier)
        before = np.full(ctx.n, "", dtype=object)
        if rows.size:
            texts = ctx.tables["received"]["period"].values
            before[rows] = [str(texts[e]) for e in entry[rows].tolist()]
        # Not registered yet, but the window is still open (the deadline day included): registering
        # by the deadline still earns the difference, so the window is named, not closed.
        comp, has = t["completion_date"], t["person__has_licence"]
        deadline = add_months(comp.values.astype(np.int32, copy=False), months)
        still_open = comp.known & has.known & ~has.values.astype(bool) & (ctx.on_col <= deadline)
        return _choose(
            ctx.n,
            [
                (count.known & (count.values == 0), "此前未享受过SYB培训补贴"),
                (
                    earlier,
                    _cat(
                        "已享受SYB培训补贴",
                        received,
                        "（已享受登记所属期间",
                        before.astype(np.str_),
                        "，早于本次培训结业，是此前培训班的补贴），每人限享受一次，本次培训不予补贴，也不补差额",
                    ),
                ),
                (
                    short & (syb_registered(ctx) == PASS),
                    _cat("已按比例享受SYB培训补贴", received, "，", within, "已登记经营主体，补足差额"),
                ),
                (
                    short & still_open,
                    _cat(
                        "已按比例享受SYB培训补贴",
                        received,
                        "，尚未登记经营主体；",
                        within,
                        "（",
                        _iso(deadline),
                        "及以前）登记的，可补足差额",
                    ),
                ),
                (
                    short,
                    _cat(
                        "已按比例享受SYB培训补贴",
                        received,
                        "，",
                        within,
                        "未登记经营主体的不补差额（每类培训每人限享受一次）",
                    ),
                ),
            ],
            np.asarray("已享受过SYB培训补贴（每类培训每人限享受一次）", dtype=np.str_),
        )

    return CondOut(
        any_of(nothing, top_up),
        info={"received_count": count.values, "received_fen": paid.values, "syb_received_note": Later(note)},
    )


def syb_registered(ctx: Ctx) -> TriArray:
    """Whether a business was registered (licence obtained) by the deadline, 6 months after
    completion (the deadline day included): PASS with a licence dated by then, FAIL without a licence
    or with a later one, UNKNOWN otherwise — in particular where has_licence is unknown although a
    licence date by the deadline is known (the eligibility conditions do not infer a licence from
    its date either: ``early_stage`` needs has_licence for a licence before the start)."""
    t = ctx.t
    months = ctx.ints("training_syb.business_within_months")
    comp, has, lic = t["completion_date"], t["person__has_licence"], t["person__licence_date"]
    deadline = add_months(comp.values.astype(np.int32, copy=False), months)
    return all_of(tri(has.values.astype(bool), has.known), tri(lic.values <= deadline, lic.known))


def syb_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    """Full subsidy when a business is registered within 6 months of completion; otherwise the
    reduced share (paid now; the rest follows if a business is registered within the window).
    Where registration is unknown (:func:`syb_registered`) the amount depends on an unknown fact
    (whether the person holds a licence): undetermined, never the reduced share as if not registered."""
    t = ctx.t
    full = ctx.ints("training_syb.amount")
    num, den = ctx.ratio("training_syb.no_business_share")
    months = ctx.ints("training_syb.business_within_months")
    comp = t["completion_date"]
    deadline = add_months(comp.values.astype(np.int32, copy=False), months)
    registered = syb_registered(ctx)
    reduced = mul_rate_half_up(full, num, den)
    amount = pick(registered == PASS, full, reduced)
    # Something received before: only the difference to the full amount (补足差额; the condition
    # not_received decides whether it is due). With the city's values (evaluate.run_program: what
    # the city pays of a district's raised standard) the grant received counts at the city's part
    # of it: a top-up follows the reduced share, of which the city paid at most its own reduced
    # share and the district the rest — so the district pays only its raised part over both grants.
    count, paid = t["person__training_syb_received"], t["person__training_syb_received_fen"]
    again = count.known & (count.values > 0)
    counted = np.minimum(paid.values, reduced) if ctx.city_only else paid.values
    amount = pick(again, np.maximum(full - counted, 0), amount)

    def note() -> TextArray:
        # The deadline only from a known completion date.
        return _choose(ctx.n, [(ctx.full(~comp.known), "")], _cat("（", _iso(deadline), "及以前）"))

    def top_up_note() -> TextArray:
        # (an amount received that the register does not give is not written as a figure:
        # README choice 68)
        received = np.asarray([format_fen(int(x)) for x in ctx.full(paid.values).tolist()], dtype=np.str_)
        return _choose(
            ctx.n,
            [
                (
                    ctx.full(again & ~paid.known),
                    "；已享受金额未知（已享受登记未写金额 amount_fen），补足差额待定",
                ),
                (ctx.full(again), _cat("；已享受", received, "，本次补足差额")),
            ],
            np.asarray(""),
        )

    return AmountOut(
        amount.astype(np.int64),
        info={
            "full_fen": full,
            "deadline_date": deadline,
            "deadline_note": Later(note),
            "top_up_note": Later(top_up_note),
        },
        known=(registered != UNKNOWN) & (~again | paid.known),
    )


def flat_amount(param: str):  # type: ignore[no-untyped-def]
    def amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
        return AmountOut(ctx.ints(param))

    return amount


_STAGE_FACTS = {
    "syb": ("person__startup_intention", "person__has_licence", "person__licence_date"),
    "online": ("person__startup_intention", "person__has_licence", "person__licence_date"),
    "iyb": ("person__has_licence", "person__licence_date"),
}


def _stage_condition(kind: str) -> Condition:
    return Condition(
        "early_stage",
        CLAUSE,
        lambda ctx: _stage(kind, ctx),
        "准备创业或培训前{years}年内取得营业执照",
        "{reason}",
        facts=(*_STAGE_FACTS[kind], "start_date"),
        params=("training.licence_window_years",),
    )


def _common(kind: str, label: str) -> tuple[Condition, ...]:
    return (
        Condition("training_kind", CLAUSE, _kind(kind), f"{label}培训", f"不是{label}培训", facts=("kind",)),
        Condition(
            "returning_entrepreneur",
            CLAUSE,
            returning_entrepreneur,
            "学员为返乡入乡创业人员",
            "学员不是返乡入乡创业人员",
            facts=("person__returning_entrepreneur",),
        ),
    )


def _tail(kind: str, label: str) -> tuple[Condition, ...]:
    return (
        Condition(
            "completed",
            CLAUSE,
            completed,
            "已于{completion_date}结业",
            "{completed_reason}",
            facts=("completion_date", "start_date"),
        ),
        Condition(
            "once_per_kind",
            CLAUSE,
            _once_per_kind(kind, label),
            f"该学员没有更早结业且符合条件的{label}培训（每类培训每人限享受一次）",
            f"该学员已有更早结业且符合条件的{label}培训（{{earlier_id}}，{{earlier_completion_date}}结业），"
            "每类培训每人限享受一次",
            "{open_reason}",
            # (unknown where an earlier training's own stage condition is: the person's facts; where
            # this training's start date is: its place among those completed the same day)
            facts=("person_id", "completion_date", "start_date", *_STAGE_FACTS[kind]),
        ),
        Condition(
            "not_received",
            CLAUSE,
            _not_received(kind),
            f"此前未享受过{label}培训补贴",
            f"已享受过{label}培训补贴（每类培训每人限享受一次）",
            facts=(f"person__training_{kind}_received",),
        )
        if kind != "syb"
        else Condition(
            "not_received",
            CLAUSE,
            syb_not_received,
            "{syb_received_note}",
            "{syb_received_note}",
            facts=(
                "person__training_syb_received",
                "person__training_syb_received_fen",
                "person__has_licence",
                "person__licence_date",
                "completion_date",
            ),
            params=("training_syb.amount", "training_syb.business_within_months"),
        ),
    )


TRAINING_SYB = Program(
    id="training_syb",
    clause=CLAUSE,
    title="创办你的企业（SYB）培训补贴",
    subject="trainings",
    city_without_district=True,  # (README choice 38)
    benefit="培训补贴（拨付培训机构）",
    paid_to="培训机构",
    summary="准备创业或培训前1年内取得营业执照的返乡入乡创业人员参加SYB培训并结业的，按人给予培训补贴。",
    conditions=(*_common("syb", "SYB"), _stage_condition("syb"), *_tail("syb", "SYB")),
    amount=syb_amount,
    amount_msg="每人{training_syb.amount}；结业后{training_syb.business_within_months}内{deadline_note}未登记经营主体的按{training_syb.no_business_share}支付{top_up_note}",
    rule_facts=(),  # (the rule says what an unknown completion date or licence leaves open)
    amount_params=(
        "training_syb.amount",
        "training_syb.no_business_share",
        "training_syb.business_within_months",
    ),
    amount_facts=(
        "person__has_licence",
        "person__licence_date",
        "completion_date",
        "person__training_syb_received_fen",
    ),
)

TRAINING_ONLINE = Program(
    id="training_online",
    clause=CLAUSE,
    title="网络创业培训补贴",
    subject="trainings",
    city_without_district=True,  # (README choice 38)
    benefit="培训补贴（拨付培训机构）",
    paid_to="培训机构",
    summary="准备创业或培训前1年内取得营业执照的返乡入乡创业人员参加网络创业培训并结业的，按人给予培训补贴。",
    conditions=(*_common("online", "网络创业"), _stage_condition("online"), *_tail("online", "网络创业")),
    amount=flat_amount("training_online.amount"),
    amount_msg="每人{training_online.amount}",
    amount_params=("training_online.amount",),
)

TRAINING_IYB = Program(
    id="training_iyb",
    clause=CLAUSE,
    title="改善你的企业（IYB）培训补贴",
    subject="trainings",
    city_without_district=True,  # (README choice 38)
    benefit="培训补贴（拨付培训机构）",
    paid_to="培训机构",
    summary="取得营业执照1年以上的返乡入乡创业人员参加IYB培训并结业的，按人给予培训补贴。",
    conditions=(
        *_common("iyb", "IYB"),
        Condition(
            "established",
            CLAUSE,
            lambda ctx: _stage("iyb", ctx),
            "培训开始时取得营业执照已满{years}年",
            "{reason}",
            facts=(*_STAGE_FACTS["iyb"], "start_date"),
            params=("training.licence_window_years",),
            gap_msg="{gap}",
        ),
        *_tail("iyb", "IYB"),
    ),
    amount=flat_amount("training_iyb.amount"),
    amount_msg="每人{training_iyb.amount}",
    amount_params=("training_iyb.amount",),
)


# ---- onjob_training_subsidy (4.11) ----------------------------------------------------------------


def provider_kind(ctx: Ctx) -> CondOut:
    """The provider's kind is in the list in force for the row (a district may extend it: the
    message names the list, README choice 75)."""
    return kind_in_list(ctx, "onjob_training_subsidy.provider_kinds", "provider_kind", "provider_kinds")


def provider_returning(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["founded_by_returning"])


def skilled_post(ctx: Ctx) -> CondOut:
    """Businesses train staff in skilled posts; other providers train anyone: the provider is not a
    business, or the post is a skilled one (Kleene OR — a known skilled post passes whatever the
    provider kind, a known non-business provider whatever the post)."""
    pk, sp = ctx.t["provider_kind"], ctx.t["skilled_post"]
    business = pk.values == FACTS["onjob_trainings"]["provider_kind"].code_of("business")
    return CondOut(any_of(tri(~business, pk.known), tri(sp.values.astype(bool), sp.known)))


def trainees_completed(ctx: Ctx) -> CondOut:
    t = ctx.t
    n, c = t["trainees"], t["completion_date"]
    return CondOut(
        all_of(tri(n.values > 0, n.known), tri(c.values <= ctx.on, c.known)), info={"trainees": n.values}
    )


def onjob_not_received(ctx: Ctx) -> CondOut:
    return none_received(ctx.t["onjob_training_subsidy_received"])


def _per_trainee(ctx: Ctx) -> np.ndarray:
    return _per_trainee_and_most(ctx)[0]


def _per_trainee_and_most(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the amount per trainee of its course level, and the most of any level (for a row
    whose level is unknown)."""
    levels = FACTS["onjob_trainings"]["course_level"].choices
    ver = ctx.version("onjob_training_subsidy.per_trainee")
    out = np.zeros(ctx.n, dtype=np.int64)
    most = np.zeros(ctx.n, dtype=np.int64)
    lv = ctx.t["course_level"].values.astype(np.int64, copy=False)
    for v in np.unique(ver):
        if v < 0:
            continue
        table = thaw(ctx.param("onjob_training_subsidy.per_trainee").versions[int(v)].value)
        fen = np.asarray(
            [yuan_to_fen(table.get(name, 0), "参数 onjob_training_subsidy.per_trainee") for name in levels],
            dtype=np.int64,
        )
        rows = ctx.full(ver == v)
        out[rows] = fen[lv[rows]]
        most[rows] = fen.max(initial=0)
    return out, most


def amount_in_range(ctx: Ctx) -> CondOut:
    """The subsidy (trainees × the amount per trainee) is below the bound of amounts (README choice
    28: amounts in fen below 10^15): a count past it is a data error of this row, which fails naming
    the count (never an overflow that stops the whole case or batch); unknown where the course
    level is unknown and the count is past the bound for some level."""
    n, lv = ctx.t["trainees"], ctx.t["course_level"]
    per, most = _per_trainee_and_most(ctx)
    count = n.values.astype(np.int64, copy=False)
    own, any_level = within_amount_bound(count, per), within_amount_bound(count, most)
    state = pick(n.known & lv.known & ~own, FAIL, pick(n.known & ~lv.known & ~any_level, UNKNOWN, PASS))
    return CondOut(state.astype(np.int8), info={"trainees": n.values, "per_trainee_fen": per})


def level_configured(ctx: Ctx) -> CondOut:
    lv = ctx.t["course_level"]
    per = _per_trainee(ctx)
    return CondOut(tri(per > 0, lv.known), info={"per_trainee_fen": per})


def onjob_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    per = _per_trainee(ctx)
    count = ctx.t["trainees"].values.astype(np.int64, copy=False)
    # A row past the bound fails ``amount_in_range`` (its amount is not paid): 0 here. Every other
    # row's product is below 10^15, so none overflows (README choice 28), whatever other rows hold.
    count = pick(within_amount_bound(count, per), count, 0)
    amount: npt.NDArray[np.int64] = (count * per).astype(np.int64, copy=False)
    return AmountOut(amount, info={"per_trainee_fen": per})


ONJOB_TRAINING_SUBSIDY = Program(
    id="onjob_training_subsidy",
    clause="4.11",
    title="在职职工岗位培训补贴 / 主体培训补贴",
    subject="onjob_trainings",
    benefit="培训补贴",
    paid_to="培训主体",
    summary="返乡入乡创业企业对技能岗位职工开展培训，或合作社、专业技术协会、手工艺传承人作为主体提供培训的，按培训合格人数给予补贴。",
    conditions=(
        Condition(
            "provider_kind",
            "4.11",
            provider_kind,
            "培训主体类型属于{provider_kinds}（本主体为{kind_name}）",
            "培训主体类型为{kind_name}，不属于可享受补贴的培训主体类型（{provider_kinds}）",
            facts=("provider_kind",),
            params=("onjob_training_subsidy.provider_kinds",),
        ),
        Condition(
            "founded_by_returning",
            "4.11",
            provider_returning,
            "培训主体为返乡入乡创业主体",
            "培训主体不是返乡入乡创业主体",
            facts=("founded_by_returning",),
        ),
        Condition(
            "skilled_post",
            "4.11",
            skilled_post,
            "企业职工培训针对技能岗位（或为合作社等主体培训）",
            "企业职工培训不是技能岗位培训",
            facts=("provider_kind", "skilled_post"),
        ),
        Condition(
            "trainees_completed",
            "4.11",
            trainees_completed,
            "培训已结业，合格{trainees}人",
            "培训尚未结业或无合格人员",
            facts=("trainees", "completion_date"),
        ),
        Condition(
            "level_configured",
            "4.11",
            level_configured,
            "培训等级补贴标准每人{per_trainee_fen}",
            "该培训等级未配置补贴标准",
            facts=("course_level",),
            params=("onjob_training_subsidy.per_trainee",),
        ),
        Condition(
            "amount_in_range",
            "4.11",
            amount_in_range,
            "补贴金额在可核定的范围内",
            "培训合格人数{trainees}人 × 每人{per_trainee_fen}超出金额上限（须小于10^15分），数据有误，请核对培训合格人数",
            unknown_msg="缺少事实，无法判断：{missing}（培训合格人数{trainees}人，按部分培训等级的标准计算超出金额上限）",
            facts=("trainees", "course_level"),
            params=("onjob_training_subsidy.per_trainee",),
        ),
        Condition(
            "not_received",
            "4.11",
            onjob_not_received,
            "本次培训尚未享受补贴",
            "本次培训已享受补贴",
            facts=("onjob_training_subsidy_received",),
        ),
    ),
    amount=onjob_amount,
    amount_msg="合格人数 × 每人{per_trainee_fen}",
    rule_facts=("course_level",),
    amount_params=("onjob_training_subsidy.per_trainee",),
)
