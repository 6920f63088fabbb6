"""创业培训补贴 — 渝人社发〔2020〕74号 二、（四）, clause 2.4; 岗位培训补贴 四、（十一）, clause 4.11.

SYB and 网络创业培训: a returning/incoming entrepreneur preparing to start, or whose licence was
obtained within 1 year before the training start (start ≤ anniversary(licence, 1)).
IYB: licence obtained ≥ 1 year before the start (start ≥ anniversary(licence, 1)). On the exact
anniversary both hold. Subsidies are paid to the training provider on completion, each kind once.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from xiangchuang.engine.dates import add_months, anniversary
from xiangchuang.engine.facts import FACTS
from xiangchuang.engine.money import mul_rate_half_up
from xiangchuang.engine.parameters import thaw
from xiangchuang.engine.program import AmountOut, Condition, CondOut, Ctx, Later, Program
from xiangchuang.engine.programs.common import enum_codes_mask, enum_in, is_true, none_received
from xiangchuang.engine.tri import FAIL, PASS, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import pick

CLAUSE = "2.4"
_KINDS = FACTS["trainings"]["kind"].choices


def _kind(code: str):  # type: ignore[no-untyped-def]
    def test(ctx: Ctx) -> CondOut:
        k = ctx.t["kind"]
        return CondOut(pick(k.known & (k.values == _KINDS.index(code)), PASS, FAIL).astype(np.int8))

    return test


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
    return CondOut(
        any_of(preparing, all_of(licensed_before, within)),
        info={"years": years, "licence_anniversary_date": ann},
    )


def established(ctx: Ctx) -> CondOut:
    """成功创业（取得营业执照）1年以上: start ≥ anniversary(licence, 1)."""
    t = ctx.t
    start, has, lic = t["start_date"], t["person__has_licence"], t["person__licence_date"]
    years = ctx.ints("training.licence_window_years")
    ann = anniversary(lic.values.astype(np.int32, copy=False), years)
    state = all_of(tri(has.values.astype(bool), has.known), tri(start.values >= ann, lic.known & start.known))
    return CondOut(
        state,
        info={
            "years": years,
            "licence_anniversary_date": ann,
            "gap_days": Later(lambda: (ann - start.values).astype(np.int64)),
        },
    )


def completed(ctx: Ctx) -> CondOut:
    c = ctx.t["completion_date"]
    s = ctx.t["start_date"]
    return CondOut(
        tri((c.values <= ctx.on) & (c.values >= s.values), c.known & s.known),
        info={"completion_date": c.values},
    )


def _not_received(kind: str):  # type: ignore[no-untyped-def]
    def test(ctx: Ctx) -> CondOut:
        return none_received(ctx.t[f"person__training_{kind}_received"])

    return test


def syb_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    """Full subsidy when a business is registered within 6 months of completion; otherwise the
    reduced share (paid now; the rest follows if a business is registered within the window)."""
    t = ctx.t
    full = ctx.ints("training_syb.amount")
    num, den = ctx.ratio("training_syb.no_business_share")
    months = ctx.ints("training_syb.business_within_months")
    comp, has, lic = t["completion_date"], t["person__has_licence"], t["person__licence_date"]
    deadline = add_months(comp.values.astype(np.int32, copy=False), months)
    registered = has.known & has.values.astype(bool) & lic.known & (lic.values <= deadline)
    amount = pick(registered, full, mul_rate_half_up(full, num, den))
    return AmountOut(amount.astype(np.int64), info={"full_fen": full, "deadline_date": deadline})


def flat_amount(param: str):  # type: ignore[no-untyped-def]
    def amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
        return AmountOut(ctx.ints(param))

    return amount


def _stage_condition() -> Condition:
    return Condition(
        "early_stage",
        CLAUSE,
        early_stage,
        "准备创业或培训前{years}年内取得营业执照",
        "培训开始时取得营业执照已超过{years}年（{licence_anniversary_date}起应参加IYB培训），或无创业意愿",
        facts=("person__startup_intention", "person__has_licence", "person__licence_date", "start_date"),
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
            "not_received",
            CLAUSE,
            _not_received(kind),
            f"此前未享受过{label}培训补贴",
            f"已享受过{label}培训补贴（每类培训每人一次）",
            facts=(f"person__training_{kind}_received",),
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
    conditions=(*_common("syb", "SYB"), _stage_condition(), *_tail("syb", "SYB")),
    amount=syb_amount,
    amount_msg="每人{training_syb.amount}；结业后{training_syb.business_within_months}个月内（{deadline_date}前）未登记经营主体的按{training_syb.no_business_share}支付",
    amount_params=(
        "training_syb.amount",
        "training_syb.no_business_share",
        "training_syb.business_within_months",
    ),
)

TRAINING_ONLINE = Program(
    id="training_online",
    clause=CLAUSE,
    title="网络创业培训补贴",
    subject="trainings",
    benefit="培训补贴（拨付培训机构）",
    paid_to="培训机构",
    summary="准备创业或培训前1年内取得营业执照的返乡入乡创业人员参加网络创业培训并结业的，按人给予培训补贴。",
    conditions=(*_common("online", "网络创业"), _stage_condition(), *_tail("online", "网络创业")),
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
            established,
            "培训开始时取得营业执照已满{years}年",
            "培训开始时取得营业执照未满{years}年（{licence_anniversary_date}起可参加IYB）",
            facts=("person__has_licence", "person__licence_date", "start_date"),
            params=("training.licence_window_years",),
            gap_msg="培训开始日距取得营业执照满{years}年还差{gap_days}天",
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
    """Businesses train staff in skilled posts; other providers train anyone."""
    pk, sp = ctx.t["provider_kind"], ctx.t["skilled_post"]
    business = pk.known & (pk.values == FACTS["onjob_trainings"]["provider_kind"].code_of("business"))
    return CondOut(
        pick(business, tri(sp.values.astype(bool), sp.known), pick(pk.known, PASS, np.int8(1))).astype(
            np.int8
        )
    )


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
        fen = np.asarray([int(table.get(name, 0)) * 100 for name in levels], dtype=np.int64)
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
        per * ctx.t["trainees"].values.astype(np.int64, copy=False), info={"per_trainee_fen": per}
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
