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
choice 33). Trainings not yet completed block nothing; a training whose person is unknown is neither
blocked nor blocks (the register check stays unknown for it). One case and a batch with the same
rows give the same result.

Messages never quote a date computed from an unknown licence date (the fill value): where the
person has no licence the failure says so (未取得营业执照), and where the licence date is unknown
the condition is unknown and lists the missing fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import add_months, anniversary
from xiangchuang.engine.facts import FACTS, NO_REF, filled
from xiangchuang.engine.money import format_fen, mul_exact, mul_rate_half_up
from xiangchuang.engine.parameters import thaw, yuan_to_fen
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import enum_codes_mask, enum_in, is_true, none_received
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import pick

CLAUSE = "2.4"
_KINDS = FACTS["trainings"]["kind"].choices
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
    c = ctx.t["completion_date"]
    s = ctx.t["start_date"]
    return CondOut(
        tri((c.values <= ctx.on) & (c.values >= s.values), c.known & s.known),
        info={"completion_date": c.values},
    )


def _stage(kind: str, ctx: Ctx) -> CondOut:
    """The training's own stage condition (``early_stage``, for IYB ``established``), computed once
    per evaluation: the condition itself and ``once_per_kind`` read it."""
    test = established if kind == "iyb" else early_stage
    out: CondOut = ctx.memo("stage", lambda: test(ctx))
    return out


def _once_per_kind(kind: str):  # type: ignore[no-untyped-def]
    """Among the trainings of one person and this kind, only the first completed one that meets its
    own stage condition passes (see the module docstring). Columns only: the completed rows sorted
    by (person, completion, start, row); per person the first whose stage condition passes and the
    first whose stage condition is unknown, found by binary search."""
    code = _KINDS.index(kind)

    def test(ctx: Ctx) -> CondOut:
        n = ctx.n
        if n == 1:  # one training: nothing to compare with
            return CondOut(filled(np.int8, PASS, 1))
        t = ctx.t
        pid, k, c, s = t["person_id"], t["kind"], t["completion_date"], t["start_date"]
        person = pid.values.astype(np.int64, copy=False)
        mine = pid.known & (person != NO_REF) & k.known & (k.values == code)
        done = mine & c.known & s.known & (c.values <= ctx.on) & (c.values >= s.values)
        rows = np.flatnonzero(done)
        if rows.size == 0:
            return CondOut(filled(np.int8, PASS, n))
        by = np.lexsort((rows, s.values[rows], c.values[rows], person[rows]))
        sorted_rows, sorted_person = rows[by], person[rows][by]
        rank = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)  # (not completed: after every other)
        rank[sorted_rows] = np.arange(sorted_rows.size)
        stage = ctx.full(_stage(kind, ctx).state)[sorted_rows]
        cand = np.flatnonzero(mine)

        def first_with(state: np.int8) -> npt.NDArray[np.int64]:
            """Per row, the first completed training of its person whose stage condition is ``state``
            (-1: none)."""
            keep = stage == state
            heads_row, heads_person = sorted_rows[keep], sorted_person[keep]
            out = np.full(n, -1, dtype=np.int64)
            if heads_row.size:
                head = np.ones(heads_row.size, dtype=bool)
                head[1:] = heads_person[1:] != heads_person[:-1]
                fp, fr = heads_person[head], heads_row[head]
                pos = np.minimum(np.searchsorted(fp, person[cand]), fp.size - 1)
                found = fp[pos] == person[cand]
                out[cand[found]] = fr[pos[found]]
            return out

        first, maybe = first_with(PASS), first_with(UNKNOWN)
        safe = pick(first >= 0, first, 0)
        blocked = (first >= 0) & (rank[safe] < rank)
        open_ = ~blocked & (maybe >= 0) & (rank[pick(maybe >= 0, maybe, 0)] < rank)
        ids = t["id"].values
        return CondOut(
            pick(blocked, FAIL, pick(open_, UNKNOWN, PASS)).astype(np.int8),
            info={
                "earlier_id": Later(lambda: ids[safe]),
                "earlier_completion_date": c.values[safe],
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


def _syb_not_received(ctx: Ctx) -> CondOut:
    t = ctx.t
    count, paid = t["person__training_syb_received"], t["person__training_syb_received_fen"]
    full = ctx.ints("training_syb.amount")
    nothing = tri(count.values == 0, count.known)
    top_up = all_of(
        tri(count.values > 0, count.known), tri(paid.values < full, paid.known), syb_registered(ctx)
    )
    months = ctx.ints("training_syb.business_within_months")

    def note() -> TextArray:
        received = np.asarray([format_fen(int(x)) for x in ctx.full(paid.values).tolist()], dtype=np.str_)
        within = _cat("结业后", np.asarray(months).astype(str), "个月内")
        short = paid.known & (paid.values < full)
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
    amount = pick(registered == PASS, full, mul_rate_half_up(full, num, den))
    # Something received before: only the difference to the full amount (补足差额; the condition
    # not_received decides whether it is due).
    count, paid = t["person__training_syb_received"], t["person__training_syb_received_fen"]
    again = count.known & (count.values > 0)
    amount = pick(again, np.maximum(full - paid.values, 0), amount)

    def note() -> TextArray:
        # The deadline only from a known completion date.
        return _choose(ctx.n, [(ctx.full(~comp.known), "")], _cat("（", _iso(deadline), "及以前）"))

    def top_up_note() -> TextArray:
        received = np.asarray([format_fen(int(x)) for x in ctx.full(paid.values).tolist()], dtype=np.str_)
        return _choose(
            ctx.n, [(ctx.full(again), _cat("；已享受", received, "，本次补足差额"))], np.asarray("")
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
            "尚未结业",
            facts=("completion_date",),
        ),
        Condition(
            "once_per_kind",
            CLAUSE,
            _once_per_kind(kind),
            f"该学员没有更早结业且符合条件的{label}培训（每类培训每人限享受一次）",
            f"该学员已有更早结业且符合条件的{label}培训（{{earlier_id}}，{{earlier_completion_date}}结业），"
            "每类培训每人限享受一次",
            # (unknown where an earlier training's own stage condition is: the person's facts)
            facts=("person_id", "completion_date", *_STAGE_FACTS[kind]),
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
    benefit="培训补贴（拨付培训机构）",
    paid_to="培训机构",
    summary="准备创业或培训前1年内取得营业执照的返乡入乡创业人员参加SYB培训并结业的，按人给予培训补贴。",
    conditions=(*_common("syb", "SYB"), _stage_condition("syb"), *_tail("syb", "SYB")),
    amount=syb_amount,
    amount_msg="每人{training_syb.amount}；结业后{training_syb.business_within_months}内{deadline_note}未登记经营主体的按{training_syb.no_business_share}支付{top_up_note}",
    amount_params=(
        "training_syb.amount",
        "training_syb.no_business_share",
        "training_syb.business_within_months",
    ),
    amount_facts=("person__has_licence", "person__licence_date", "completion_date"),
)

TRAINING_ONLINE = Program(
    id="training_online",
    clause=CLAUSE,
    title="网络创业培训补贴",
    subject="trainings",
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
    mask = enum_codes_mask(ctx, "onjob_training_subsidy.provider_kinds", "onjob_trainings", "provider_kind")
    return CondOut(enum_in(ctx.t["provider_kind"], mask))


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
    levels = FACTS["onjob_trainings"]["course_level"].choices
    ver = ctx.version("onjob_training_subsidy.per_trainee")
    out = np.zeros(ctx.n, dtype=np.int64)
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
    return out


def level_configured(ctx: Ctx) -> CondOut:
    lv = ctx.t["course_level"]
    per = _per_trainee(ctx)
    return CondOut(tri(per > 0, lv.known), info={"per_trainee_fen": per})


def onjob_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    per = _per_trainee(ctx)
    return AmountOut(
        mul_exact(ctx.t["trainees"].values.astype(np.int64, copy=False), per, "培训合格人数（trainees）"),
        info={"per_trainee_fen": per},
    )


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
            "培训主体类型符合规定",
            "培训主体类型不在补贴范围内",
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
    amount_params=("onjob_training_subsidy.per_trainee",),
)
