"""创业担保贷款 — 渝人社发〔2020〕74号 一、（二）, clause 1.2.

loan_individual (incl. partnership), loan_small_micro, counter_guarantee_waiver and
loan_interest_subsidy. Ceilings, rate caps and the subsidy rule are dated by the loan's contract
date (a loan contracted 2024-06-01 gets the 300,000 ceiling, one on 2025-07-01 gets 500,000).

Choices documented here and in the README:

- A loan's own requested terms (amount, term) are not facts about the applicant. When absent, the
  result offers the ceiling and states the maximum term; when given, they must be within the limits.
- Interest subsidy is paid only for a loan that itself meets its program's conditions (the same
  condition functions as loan_individual / loan_small_micro, each checked for the loan kinds it
  belongs to) and only for a settlement period that ends within the loan's term: contract date +
  term months (民法典 month rule), the term counted up to the kind's maximum term and taken as that
  maximum when not given. Unknown 展期/逾期 days or an unknown number of partners make it
  undetermined (never taken as 0).
- Other outstanding loans: one whose kind is unknown (it might be exempt) or a consumer loan whose
  amount is unknown (it might be under the small-loan bound) makes "no blocking loans" unknown
  unless another loan already blocks; the borrower's other-loans information then counts as missing.
- 免除反担保「经金融机构评估认定的信用……商户」: 商户 includes the 个体工商户. A credit-rated loan
  (loans.credit_rated) or business (businesses.credit_rated) counts for a small/micro-firm loan,
  an online merchant or a farmer (borrower groups), or a borrower whose business is a 个体工商户
  (businesses.kind = individual_business).
- The LPR behind the rate cap and the interest subsidy is the published 1-year LPR in force on the
  contract date (loan.lpr_1y_bp), cited like every parameter. A case's stated ``lpr_bp`` is optional;
  when given it must equal the published value (lpr_as_published), else no subsidy and a prompt to
  check the contract: a typed figure is never a second source of the rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import add_months, anniversary, to_day
from xiangchuang.engine.facts import FACTS, NO_VALUE, filled
from xiangchuang.engine.money import format_fen, mul_rate_half_up
from xiangchuang.engine.parameters import NO_VERSION
from xiangchuang.engine.program import (
    NEVER_DAY,
    NO_VALUE_KEY,
    AmountOut,
    Condition,
    CondOut,
    Ctx,
    Later,
    Program,
)
from xiangchuang.engine.programs.common import (
    bit,
    ceil_div,
    date_or_on,
    enum_is,
    group_names,
    in_groups,
    is_true,
    list_names,
    pass_if_unknown,
)
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, all_of, any_of, tri
from xiangchuang.engine.vec import isin, pick

CLAUSE = "1.2"
_KINDS = FACTS["loans"]["kind"].choices
INDIVIDUAL, PARTNERSHIP, SMALL_MICRO = (_KINDS.index(k) for k in ("individual", "partnership", "small_micro"))


def _kind_is(ctx: Ctx, *codes: int) -> np.ndarray:
    k = ctx.t["kind"]
    hit: np.ndarray = k.values == codes[0]
    for c in codes[1:]:
        hit |= k.values == c
    out: np.ndarray = k.known & hit
    return out


def _may_be(ctx: Ctx, *codes: int) -> np.ndarray:
    """Loans that are, or may be (kind not given), of one of these kinds: the rows whose result a
    parameter of those kinds can decide (``Ctx.cited_for``)."""
    out: np.ndarray = ctx.full(_kind_is(ctx, *codes) | ~ctx.t["kind"].known)
    return out


def _kind_in(ctx: Ctx, *codes: int) -> TriArray:
    """Whether the loan is of one of these kinds: unknown where its kind is not given."""
    return tri(_kind_is(ctx, *codes), ctx.t["kind"].known)


def _loan_day(ctx: Ctx) -> np.ndarray:
    """The date that selects dated loan parameters: the contract date, else the evaluation date."""
    day: np.ndarray = ctx.memo("loan_day", lambda: date_or_on(ctx, ctx.t["contract_date"]))
    return day


def _figure(
    ctx: Ctx,
    names: tuple[str, ...],
    values: np.ndarray,
    fmt: Callable[[int], str],
    pending: np.ndarray | None = None,
    pending_text: str | Callable[[], np.ndarray] = "",
) -> Later:
    """A parameter-derived figure as a message quotes it, per row: ``fmt(value)``; 「（无有效值）」
    where one of the parameters it comes from has no value in force on the loan's date (never the
    earliest value as a placeholder), and ``pending_text`` where it depends on a fact not given
    (README choice 68): a text, or a function giving one per row (called only when a message is
    made)."""
    day = _loan_day(ctx)
    ok = ctx.full(np.ones(1, dtype=bool))
    for name in names:
        ok = ok & ctx.full(ctx.in_force(name, day))
    open_rows = ctx.full(np.zeros(1, dtype=bool) if pending is None else pending)

    def make() -> np.ndarray:
        v = ctx.full(np.asarray(values)).tolist()
        waiting = ctx.full(
            np.asarray([pending_text] if isinstance(pending_text, str) else pending_text())
        ).tolist()
        return np.asarray(
            [
                w if o else fmt(int(x)) if k else NO_VALUE
                for x, k, o, w in zip(v, ok.tolist(), open_rows.tolist(), waiting, strict=True)
            ],
            dtype=object,
        )

    return Later(make)


# ---- loan_individual -------------------------------------------------------------------------


def borrower_group(ctx: Ctx) -> CondOut:
    """In the borrower list, or a college graduate within N years of leaving school: left school on
    or before the contract date and contracted by the N-th anniversary of leaving (README choice 71;
    one who has not yet left school is not yet a graduate, as for the social-insurance subsidy)."""
    t = ctx.t
    day = _loan_day(ctx)
    groups = t["borrower__groups"]
    mask = ctx.groups_mask("loan.borrower_groups", day)
    listed = in_groups(groups, mask)
    grad = t["borrower__graduation_date"]
    years = ctx.ints("loan.graduate_years", day)
    is_grad = in_groups(groups, bit("college_graduate"))
    left = grad.values.astype(np.int32, copy=False)
    within = tri((left <= day) & (day <= anniversary(left, years)), grad.known)
    return CondOut(
        any_of(listed, all_of(is_grad, within)),
        info={"graduate_years": years, "borrower_groups": group_names(mask)},
    )


# What one of the borrower's other loans does to the application (a code per other-loan row).
_NO_EFFECT, _BLOCKS, _KIND_UNKNOWN, _AMOUNT_UNKNOWN = range(4)
_INCOMPLETE = 4  # added where the loan's kind, or a consumer loan's amount, is not given


def _per_borrower(ctx: Ctx, code: np.ndarray) -> np.ndarray:
    """For each loan row, how many of its borrower's other loans have each code (columns 0–7);
    zeros where the borrower is unknown.

    The other loans sorted by person (once per evaluation), each loan row finds its borrower's
    range by binary search, and the counts are differences of running totals per code: the work
    is on the (few) other-loan and loan rows, never a table as long as the persons' (at 3M persons
    a count array per person and code took 192 MB and ~25 ms)."""
    order, lo, hi, valid = ctx.memo("other_loans_by_borrower", lambda: _borrower_ranges(ctx))
    sorted_codes = code[order]
    running = np.zeros((sorted_codes.size + 1, 8), dtype=np.int64)
    running[np.arange(1, sorted_codes.size + 1), sorted_codes] = 1
    np.cumsum(running, axis=0, out=running)
    out: np.ndarray = (running[hi] - running[lo]) * valid[:, None]
    return out


def _borrower_ranges(
    ctx: Ctx,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """The other-loan rows of known persons in person order, and for each loan row the range of
    its borrower's among them (empty where the borrower is unknown: ``valid`` False)."""
    n_persons = ctx.tables["persons"].n
    who = ctx.tables["other_loans"]["person_id"]
    idx = who.values.astype(np.int64, copy=False)
    rows = np.flatnonzero(who.known & (idx >= 0) & (idx < n_persons))
    order = rows[np.argsort(idx[rows], kind="stable")]
    keys = idx[order]
    b = ctx.t["borrower_id"]
    bi = b.values.astype(np.int64, copy=False)
    valid = b.known & (bi >= 0) & (bi < n_persons)
    lo = np.searchsorted(keys, bi, side="left")
    hi = np.searchsorted(keys, bi, side="right")
    return order, lo, hi, valid


_PAIR: Final = 1 << 32


def no_blocking_loans(ctx: Ctx) -> CondOut:
    """No other outstanding loans, except student, housing, car and small consumer loans.

    A loan whose kind is unknown (it might be exempt), or a consumer loan whose amount is unknown
    (it might be small), leaves the condition unknown unless another loan already blocks.

    Which loans are exempt is read per loan row, like its ceiling: on its contract date and in its
    district (a district may relax the application conditions, 1.2)."""
    ol = ctx.tables["other_loans"]
    kinds = FACTS["other_loans"]["kind"].choices
    consumer = kinds.index("consumer")
    day = _loan_day(ctx)
    v_kinds = ctx.full(ctx.version("loan.exempt_loan_kinds", day))
    v_small = ctx.full(ctx.version("loan.consumer_loan_exempt_below", day))
    kinds_param = ctx.param("loan.exempt_loan_kinds")
    small_param = ctx.param("loan.consumer_loan_exempt_below")
    # Before a value is in force (a contract date before the rules): no kind exempt, and no
    # consumer loan small enough; the explanation cites the parameters as without a value.
    small_bound = pick(v_small >= 0, small_param.ints(v_small), 0).astype(np.int64)
    b = ctx.t["borrower_id"]
    bi = b.values.astype(np.int64, copy=False)
    valid = b.known & (bi >= 0) & (bi < max(ctx.tables["persons"].n, 1))
    listed = ctx.t["borrower__other_loans_known"]
    supplied = listed.known & listed.values.astype(bool)
    count = filled(np.int64, 0, ctx.n)
    unclear_kind = filled(np.int64, 0, ctx.n)
    unclear_amount = filled(np.int64, 0, ctx.n)
    if ol.n:
        k, a = ol["kind"], ol["amount_fen"]
        kv, kk = k.values, k.known
        av, ak = a.values, a.known
        is_consumer = kk & (kv == consumer)
        # One pass per distinct pair of parameter versions among the loan rows (a few at most).
        # (Versions are at least NOT_USED = -2: a pair packs into one int64 key.)
        packed = (v_kinds.astype(np.int64) + 2) * _PAIR + (v_small.astype(np.int64) + 2)
        for key in np.unique(packed).tolist():
            vk, vs = (x - 2 for x in divmod(key, _PAIR))
            rows = packed == key
            exempt = [
                kinds.index(x) for x in (kinds_param.versions[vk].value if vk >= 0 else ()) if x in kinds
            ]
            exempt_kind = kk & isin(kv, exempt)
            if vs < 0:
                small = maybe_small = np.zeros(ol.n, dtype=bool)
            else:
                # 5万元以下 includes 50,000 (以下 includes the bound, PROVISIONS §0).
                bound = int(small_param.versions[vs].value)
                small = ak & (av <= bound)
                maybe_small = ~ak | (av <= bound)
            # A loan of unknown kind might be exempt when some kind is, or when it might be a
            # small consumer loan.
            could_be_exempt = maybe_small | bool(exempt)
            blocks = (kk & ~exempt_kind & ~(is_consumer & maybe_small)) | (~kk & ~could_be_exempt)
            code = (
                blocks * _BLOCKS
                + (~kk & could_be_exempt) * _KIND_UNKNOWN
                + (is_consumer & ~exempt_kind & maybe_small & ~small) * _AMOUNT_UNKNOWN
                + (~kk | (is_consumer & ~ak)) * _INCOMPLETE
            ).astype(np.int64)
            c = _per_borrower(ctx, code)
            count = pick(rows, c[:, _BLOCKS] + c[:, _BLOCKS + _INCOMPLETE], count)
            unclear_kind = pick(rows, c[:, _KIND_UNKNOWN] + c[:, _KIND_UNKNOWN + _INCOMPLETE], unclear_kind)
            unclear_amount = pick(
                rows, c[:, _AMOUNT_UNKNOWN] + c[:, _AMOUNT_UNKNOWN + _INCOMPLETE], unclear_amount
            )
        # (Where a loan's kind, or a consumer loan's amount, is not given, assemble.py marks the
        # borrower's other-loans information as not known: the explanation names it as missing.)
    state = pick(
        valid & (count > 0),
        FAIL,
        pick(valid & supplied & (unclear_kind == 0) & (unclear_amount == 0), PASS, UNKNOWN),
    ).astype(np.int8)
    return CondOut(
        state,
        info={
            "blocking_loans": count,
            # The exempt kinds and the small consumer loans' bound in force for the loan row (its
            # contract date, its district's list: README choice 75); 「（无有效值）」 before the rules.
            "exempt_loan_kinds": list_names(ctx, "loan.exempt_loan_kinds", day),
            "exempt_below_fen": _figure(ctx, ("loan.consumer_loan_exempt_below",), small_bound, format_fen),
            "unclear_note": Later(lambda: _unclear_note(unclear_kind, unclear_amount)),
        },
    )


def _unclear_note(kind: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Which of the borrower's other loans leave the condition open (empty if none)."""
    notes = []
    for k, a in zip(kind.tolist(), amount.tolist(), strict=True):
        parts = ([f"{k}笔贷款种类未知"] if k else []) + ([f"{a}笔消费贷款金额未知"] if a else [])
        notes.append(f"（{'，'.join(parts)}，可能属于不影响申请的贷款）" if parts else "")
    return np.asarray(notes, dtype=object)


def individual_kind(ctx: Ctx) -> CondOut:
    return CondOut(_kind_in(ctx, INDIVIDUAL, PARTNERSHIP))


def partners_given(ctx: Ctx) -> CondOut:
    """A partnership names at least two partners. Where the loan's kind is unknown it might be a
    partnership: at least two partners pass, anything else is unknown."""
    p = ctx.t["partners"]
    k = ctx.t["kind"]
    is_p = _kind_is(ctx, PARTNERSHIP)
    enough = tri(p.values >= 2, p.known)
    state = pick(is_p, enough, pick(k.known, PASS, pick(enough == PASS, PASS, UNKNOWN)))
    return CondOut(state.astype(np.int8), info={"partners": p.values})


def individual_ceiling(ctx: Ctx) -> np.ndarray:
    day = _loan_day(ctx)
    single = ctx.ints("loan_individual.ceiling", day)
    un, ud = ctx.ratio("loan_individual.partner_uplift", day)
    per_partner = mul_rate_half_up(single, un, ud)
    total = ctx.ints("loan_individual.partnership_total", day)
    # More partners than the total ceiling can pay for change nothing: clip them to that bound
    # first, so an implausible count (10**13) cannot overflow int64.
    bound = total // np.maximum(per_partner, 1) + 1
    partners = np.clip(ctx.t["partners"].values.astype(np.int64, copy=False), 0, bound)
    partnership = np.minimum(per_partner * partners, total)
    return pick(_kind_is(ctx, PARTNERSHIP), partnership, single).astype(np.int64)


def _term_within(ctx: Ctx, limit: np.ndarray, name: str) -> CondOut:
    term = ctx.t["term_months"]
    return CondOut(
        pass_if_unknown(tri(term.values <= limit, term.known)),
        info={
            "term_months": term.values,
            "max_term_text": _figure(ctx, (name,), limit, lambda m: f"{m}个月"),
        },
    )


def individual_term(ctx: Ctx) -> CondOut:
    name = "loan_individual.max_term_months"
    return _term_within(ctx, ctx.ints(name, _loan_day(ctx)), name)


def individual_amount_within(ctx: Ctx) -> CondOut:
    """A requested amount above the ceiling is granted only up to the ceiling (never refused)."""
    ceiling = individual_ceiling(ctx)
    req = ctx.t["amount_fen"]
    return CondOut(
        filled(np.int8, PASS, ctx.n),
        info={"ceiling_text": _individual_ceiling_text(ctx, ceiling), "requested_fen": req.values},
    )


_CEILING_PARAMS = (
    "loan_individual.ceiling",
    "loan_individual.partner_uplift",
    "loan_individual.partnership_total",
)


def _individual_ceiling_text(ctx: Ctx, ceiling: np.ndarray) -> Later:
    """The individual ceiling as quoted: it depends on the kind (and a partnership's on the number
    of partners), so where those are not given it is not quoted as a figure."""
    k, p = ctx.t["kind"], ctx.t["partners"]
    kind_open = ~k.known
    partners_open = _kind_is(ctx, PARTNERSHIP) & ~p.known

    def text() -> np.ndarray:
        return np.where(kind_open, "视贷款类型而定", "视合伙人数而定").astype(object)

    return _figure(ctx, _CEILING_PARAMS, ceiling, format_fen, kind_open | partners_open, text)


def individual_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    ceiling = individual_ceiling(ctx)
    req = ctx.t["amount_fen"]
    granted = pick(req.known, np.minimum(req.values, ceiling), ceiling)
    return AmountOut(granted.astype(np.int64), info={"ceiling_text": _individual_ceiling_text(ctx, ceiling)})


def one_loan_per_borrower(ctx: Ctx) -> CondOut:
    """One borrower (the person for an individual or partnership loan, the business for a
    small/micro-firm loan) has one loan in progress at a time (README choice 18): a loan fails where
    the same borrower has another loan contracted before it (on the same day: earlier in record
    order) that has not matured on its contract date (a loan not yet contracted: on the evaluation
    date). Maturity is the contract date plus the term in months; a loan not yet contracted blocks
    nothing.

    Unknown where it might hold: the other loan's kind is not given (it might be the same
    borrower's), its term is not given (it may have matured: at the latest after its kind's maximum
    term), or a contract date is not given for a loan being settled (which came first is unknown).
    Only borrowers with more than one loan in the table are looked at (rare in a registry)."""
    t = ctx.t
    n = ctx.n
    state = filled(np.int8, PASS, n)
    other_day = filled(np.int32, NEVER_DAY, n)
    if n < 2:
        return CondOut(state, info={"other_contract_date": other_day})
    k, b, biz = t["kind"], t["borrower_id"], t["business_id"]
    cd, term = t["contract_date"], t["term_months"]
    kind = ctx.full(k.values).astype(np.int64)
    kk = ctx.full(k.known)
    person_ok = ctx.full(b.known) & ~(kk & (kind == SMALL_MICRO))
    business_ok = ctx.full(biz.known) & ~(kk & ((kind == INDIVIDUAL) | (kind == PARTNERSHIP)))
    # Every ordered pair (this loan, another) of one person's, or one business's, loans: built with
    # NumPy over the borrowers with more than one loan (no Python loop per loan at a registry's size).
    this_rows: list[npt.NDArray[np.intp]] = []
    other_rows: list[npt.NDArray[np.intp]] = []
    for ok, ref in ((person_ok, b), (business_ok, biz)):
        rows = np.flatnonzero(ok)
        if rows.size < 2:
            continue
        pair = _same_key_pairs(rows, ctx.full(ref.values).astype(np.int64)[rows])
        if pair is not None:
            this_rows.append(pair[0])
            other_rows.append(pair[1])
    if not this_rows:
        return CondOut(state, info={"other_contract_date": other_day})
    pi, pj = np.concatenate(this_rows), np.concatenate(other_rows)
    involved = np.unique(pi)
    ia, ja = np.searchsorted(involved, pi), np.searchsorted(involved, pj)
    cdk = ctx.full(cd.known)[involved]
    cdv = ctx.full(cd.values).astype(np.int32)[involved]
    tk = ctx.full(term.known)[involved]
    tv = ctx.full(term.values).astype(np.int64)[involved]
    settled = (
        ctx.full(t["settle_start"].known)
        | ctx.full(t["settle_end"].known)
        | ctx.full(t["principal_fen"].known)
    )[involved]
    kki = kk[involved]
    hi_v, lacking = _other_max_terms(ctx, involved, ia, ja, kind[involved], kki, cdk & ~tk)
    day = pick(cdk, cdv, np.int32(ctx.on)).astype(np.int32)
    start = pick(cdk, cdv, 0).astype(np.int32)
    mature = add_months(start, pick(tk, tv, 0).astype(np.int64))
    # A loan's latest maturity: its own term where given, else its kind's longest term.
    mature_hi = pick(tk, mature, add_months(start, hi_v)).astype(np.int32)
    own_date = cdk | ~settled  # this loan's date is known (its contract date, or the evaluation date)
    contracted = cdk[ja]
    counts = contracted | settled[ja]  # an application (neither) blocks nothing
    sure_order = contracted & own_date[ia]
    earlier = (cdv[ja] < day[ia]) | ((cdv[ja] == day[ia]) & (pj < pi))
    counts &= ~sure_order | earlier  # a known later loan does not block an earlier one
    share = kki[ia] & own_date[ia] & kki[ja]
    running = contracted & tk[ja] & (day[ia] < mature[ja])
    maybe_running = ~contracted | (day[ia] < mature_hi[ja])
    fails = counts & share & sure_order & running
    open_ = counts & ~fails & maybe_running
    m = involved.size
    fail_any = np.bincount(ia[fails], minlength=m) > 0
    open_any = np.bincount(ia[open_], minlength=m) > 0
    first = np.full(m, NEVER_DAY, dtype=np.int32)
    np.minimum.at(first, ia[fails], cdv[ja][fails])
    state = ctx.full(state).copy()
    state[involved] = pick(fail_any, FAIL, pick(open_any, UNKNOWN, PASS)).astype(np.int8)
    other_day = ctx.full(other_day).copy()
    other_day[involved] = first
    info: dict[str, np.ndarray | Later] = {"other_contract_date": other_day}
    if lacking:
        # Another loan's longest term has no value in force on this loan's date: not met, naming
        # the limit (not decided on another date's value, README choice 25; a loan that fails on a
        # loan surely running keeps that reason).
        blind = _union_rows(ctx.n, [m for _, m in lacking]) & (state != FAIL)
        state = pick(blind, FAIL, state).astype(np.int8)
        info[NO_VALUE_KEY] = _lacking_labels(ctx, lacking, blind)
    return CondOut(state, info=info)


def _union_rows(n: int, masks: list[npt.NDArray[np.bool_]]) -> npt.NDArray[np.bool_]:
    out = np.zeros(n, dtype=bool)
    for m in masks:
        out |= m
    return out


def _lacking_labels(
    ctx: Ctx, lacking: list[tuple[str, npt.NDArray[np.bool_]]], rows: npt.NDArray[np.bool_]
) -> Later:
    """Per row of ``rows``, the labels of the parameters of ``lacking`` it lacks (「、」-joined; ""
    elsewhere): what a condition's message names instead of a figure (``NO_VALUE_KEY``)."""

    def make() -> np.ndarray:
        out = np.full(ctx.n, "", dtype=object)
        for i in np.flatnonzero(rows).tolist():
            out[i] = "、".join(ctx.param(name).label for name, m in lacking if m[i])
        return out

    return Later(make)


def _other_max_terms(
    ctx: Ctx,
    involved: npt.NDArray[np.intp],
    ia: npt.NDArray[np.intp],
    ja: npt.NDArray[np.intp],
    kind: npt.NDArray[np.int64],
    kind_known: npt.NDArray[np.bool_],
    open_term: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], list[tuple[str, npt.NDArray[np.bool_]]]]:
    """The highest term (months) of each ``involved`` loan's kind (both kinds' where its kind is
    not given), for a contracted loan whose own term is not given (``open_term``): it may run that
    long. A loan cites the limit only where another loan of its borrower is such a loan (the limit
    decides its result there), so a row cites the same alone as in a registry (not both loan
    kinds' limits because some other borrower's loans needed them). With, per limit without a
    value in force on the loan's date, the loans that needed it (README choice 25: never decided
    on another date's limit)."""
    need = open_term[ja]
    small_kind = kind_known[ja] & (kind[ja] == SMALL_MICRO)
    other_kind = kind_known[ja] & ~small_kind
    hi = np.zeros(involved.size, dtype=np.int64)
    lacking: list[tuple[str, npt.NDArray[np.bool_]]] = []
    if not need.any():
        return hi, lacking
    day = _loan_day(ctx)
    limits = []
    for name, used_by in (
        ("loan_individual.max_term_months", ~small_kind),
        ("loan_small_micro.max_term_months", ~other_kind),
    ):
        rows = np.zeros(ctx.n, dtype=bool)
        rows[involved[ia[need & used_by]]] = True
        ver = ctx.full(ctx.version_for(name, rows, day))
        missing = rows & (ver == NO_VERSION)
        if missing.any():
            lacking.append((name, missing))
        limits.append(ctx.full(ctx.params[name].ints(ver)).astype(np.int64)[involved])
    ind, small = limits
    one = pick(kind_known & (kind == SMALL_MICRO), small, ind)
    return pick(kind_known, one, np.maximum(ind, small)).astype(np.int64), lacking


def _same_key_pairs(
    rows: npt.NDArray[np.intp], keys: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]] | None:
    """Every ordered pair (i, j), i ≠ j, of ``rows`` that share a key (one borrower's loans); None
    where no key is shared."""
    _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    shared = counts[inverse] > 1
    if not shared.any():
        return None
    order = np.argsort(inverse[shared], kind="stable")
    grouped = rows[shared][order]
    size = counts[inverse[shared]][order]
    group_start = np.arange(grouped.size) - _rank_in_group(inverse[shared][order])
    this = np.repeat(np.arange(grouped.size), size)
    offset = np.arange(this.size) - np.repeat(np.cumsum(size) - size, size)
    other = np.repeat(group_start, size) + offset
    keep = this != other
    return grouped[this[keep]], grouped[other[keep]]


def _rank_in_group(sorted_groups: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
    """For a sorted array of group numbers, each element's position within its group."""
    n = sorted_groups.size
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, n]))
    out: npt.NDArray[np.intp] = np.arange(n) - first
    return out


ONE_LOAN_PER_BORROWER = Condition(
    "one_loan_per_borrower",
    CLAUSE,
    one_loan_per_borrower,
    "同一借款主体没有其他在途的创业担保贷款",
    "同一借款主体已有一笔在此之前签订、尚未到期的创业担保贷款（合同日期{other_contract_date}），"
    "同一借款主体只能有一笔在途贷款",
    "同一借款主体另有贷款，其贷款类型、合同日期或期限不全，无法判断是否已有在途贷款",
    facts=(),
)


BORROWER_GROUP = Condition(
    "borrower_group",
    CLAUSE,
    borrower_group,
    "借款人属于创业担保贷款扶持范围",
    "借款人不属于创业担保贷款扶持范围（{borrower_groups}、离校{graduate_years}年内高校毕业生）",
    facts=("borrower__groups", "borrower__graduation_date"),
    params=("loan.borrower_groups", "loan.graduate_years"),
)

# (Also the pass text of the interest subsidy's and the waiver's copy of the condition.)
_NO_BLOCKING_PASS: Final = "除{exempt_loan_kinds}及{exempt_below_fen}以下消费贷款外无其他未结清贷款"

NO_BLOCKING_LOANS = Condition(
    "no_blocking_loans",
    CLAUSE,
    no_blocking_loans,
    _NO_BLOCKING_PASS,
    "有{blocking_loans}笔其他未结清贷款（{exempt_loan_kinds}及{exempt_below_fen}以下消费贷款除外）",
    "缺少事实，无法判断：{missing}{unclear_note}",
    facts=("borrower__other_loans",),
    params=("loan.exempt_loan_kinds", "loan.consumer_loan_exempt_below"),
)

PARTNERS_GIVEN = Condition(
    "partners_given",
    CLAUSE,
    partners_given,
    "合伙人数符合要求",
    "合伙创业须至少2名合伙人",
    facts=("partners",),
)


LOAN_INDIVIDUAL = Program(
    funded=False,  # a loan (or a waiver) is not a payment from public funds
    id="loan_individual",
    clause=CLAUSE,
    title="个人创业担保贷款（含合伙创业）",
    subject="loans",
    benefit="创业担保贷款额度",
    paid_to="借款人",
    summary="符合条件的个人可申请创业担保贷款，额度按合同日期的上限确定，合伙创业可上浮。",
    conditions=(
        Condition(
            "individual_kind",
            CLAUSE,
            individual_kind,
            "个人（含合伙）创业担保贷款",
            "不是个人创业担保贷款",
            facts=("kind",),
        ),
        BORROWER_GROUP,
        NO_BLOCKING_LOANS,
        PARTNERS_GIVEN,
        ONE_LOAN_PER_BORROWER,
        Condition(
            "term_within_limit",
            CLAUSE,
            individual_term,
            "贷款期限不超过{max_term_text}",
            "贷款期限{term_months}个月，超过{max_term_text}",
            params=("loan_individual.max_term_months",),
        ),
        Condition(
            "amount_within_ceiling",
            CLAUSE,
            individual_amount_within,
            "额度上限{ceiling_text}（按合同日期适用）",
            "额度上限{ceiling_text}",
            params=(
                "loan_individual.ceiling",
                "loan_individual.partner_uplift",
                "loan_individual.partnership_total",
            ),
        ),
    ),
    amount=individual_amount,
    amount_msg="可贷额度：申请金额与额度上限{ceiling_text}中的较小者",
    rule_facts=("kind", "partners"),
    amount_params=(
        "loan_individual.ceiling",
        "loan_individual.partner_uplift",
        "loan_individual.partnership_total",
    ),
)


# ---- loan_small_micro ------------------------------------------------------------------------


def small_micro_kind(ctx: Ctx) -> CondOut:
    return CondOut(_kind_in(ctx, SMALL_MICRO))


def is_small_micro(ctx: Ctx) -> CondOut:
    return CondOut(enum_is(ctx.t["business__size_class"], "businesses", "size_class", "small_micro"))


def _needed_hires(
    h: np.ndarray,
    s: np.ndarray,
    n1: np.ndarray,
    d1: np.ndarray,
    n2: np.ndarray,
    d2: np.ndarray,
    threshold: np.ndarray,
) -> np.ndarray:
    """Fewest extra eligible hires k with (h+k)/(s+k) ≥ the ratio for s+k staff (exact), and at
    least one member of staff afterwards (a business with no staff has no ratio to meet)."""
    at_least = np.maximum(1 - s, 0)
    k1 = np.maximum(ceil_div(n1 * s - d1 * h, d1 - n1), at_least)
    k2 = np.maximum(ceil_div(n2 * s - d2 * h, d2 - n2), at_least)
    k2_crossing = np.maximum(k2, threshold + 1 - s)
    k1_ok = (s + k1) <= threshold
    return pick(
        s > threshold,
        k2,
        pick(k1_ok, np.minimum(k1, k2_crossing), k2_crossing),
    ).astype(np.int64)


def hire_ratio(ctx: Ctx) -> CondOut:
    """当年新招用符合条件人员占现有职工比例 ≥ 15%（职工超过100人的 ≥ 8%）, exact fractions."""
    t = ctx.t
    day = _loan_day(ctx)
    h, s = t["business__new_eligible_hires"], t["business__staff_count"]
    n1, d1 = ctx.ratio("loan_small_micro.hire_ratio", day)
    n2, d2 = ctx.ratio("loan_small_micro.hire_ratio_large", day)
    threshold = ctx.ints("loan_small_micro.large_staff_threshold", day)
    hv, sv = h.values.astype(np.int64, copy=False), s.values.astype(np.int64, copy=False)
    large = sv > threshold
    num = pick(large, n2, n1)
    den = pick(large, d2, d1)
    # The staff count includes the new hires: more new hires than staff is a data error (it
    # fails, saying so, as 展期/逾期 days longer than the period do: README choice 18).
    consistent = hv <= sv
    ok = (sv > 0) & consistent & (hv * den >= num * sv)
    # No new hires fails whatever the staff count (a business with no staff has no ratio to meet);
    # so does no staff whatever the hires.
    known = (h.known & s.known) | (h.known & (hv == 0)) | (s.known & (sv == 0))
    state = tri(ok, known)
    need = _needed_hires(hv, sv, n1, d1, n2, d2, threshold)
    ratio = pick(sv > 0, (hv * 10000) // np.maximum(sv, 1), 0)
    required = num * 10000 // den
    staff_known = s.known
    h_known = h.known

    made: list[np.ndarray] = []

    def texts(which: int) -> np.ndarray:
        if not made:
            made.extend(_texts())
        return made[which]

    def _texts() -> tuple[np.ndarray, np.ndarray]:
        full = ctx.full
        fail_text = np.full(ctx.n, "", dtype=object)
        gap_text = np.full(ctx.n, "", dtype=object)
        failed = np.flatnonzero(full(state) == FAIL)
        cols = (full(hv), full(sv), full(staff_known), full(h_known), full(ratio), full(required), full(need))
        for i in failed.tolist():
            hi, si, sk, hk, r, q, k = (int(c[i]) for c in cols)
            if not sk:  # no new hires, staff unknown
                fail_text[i] = f"当年新招用符合条件人员{hi}名，任何职工人数下均未达到新招用比例要求"
                gap_text[i] = "还需新招用符合条件人员（人数视现有职工人数而定）"
            elif hk and hi > si:
                fail_text[i] = (
                    f"当年新招用符合条件人员{hi}名，多于现有职工{si}名：现有职工人数须含当年新招用人员，请核对"
                )
                gap_text[i] = "请核对现有职工人数（含当年新招用人员）与当年新招用人数"
            else:
                fail_text[i] = (
                    f"当年新招用符合条件人员{hi}名，占现有职工{si}名的{_percent(r)}，未达到{_percent(q)}"
                    if hk
                    else f"现有职工{si}名，无从达到新招用比例要求"
                )
                gap_text[i] = f"还需新招用{k}名符合条件人员"
        return fail_text, gap_text

    return CondOut(
        state,
        info={
            "hires": hv,
            "staff": sv,
            "ratio_permyriad": ratio,
            "required_permyriad": required,
            "fail_text": Later(lambda: texts(0)),
            "gap_text": Later(lambda: texts(1)),
        },
    )


def _percent(permyriad: int) -> str:
    """A ratio in 1/10000 as a percentage, trailing fraction zeros dropped (1500 → 15%)."""
    whole, frac = divmod(permyriad, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "%"


def small_micro_term(ctx: Ctx) -> CondOut:
    name = "loan_small_micro.max_term_months"
    return _term_within(ctx, ctx.ints(name, _loan_day(ctx)), name)


def small_micro_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    name = "loan_small_micro.ceiling"
    ceiling = ctx.ints(name, _loan_day(ctx))
    req = ctx.t["amount_fen"]
    granted = pick(req.known, np.minimum(req.values, ceiling), ceiling)
    return AmountOut(
        granted.astype(np.int64), info={"ceiling_text": _figure(ctx, (name,), ceiling, format_fen)}
    )


IS_SMALL_MICRO = Condition(
    "is_small_micro",
    CLAUSE,
    is_small_micro,
    "借款主体为小微企业",
    "借款主体不是小微企业",
    facts=("business__size_class",),
)

HIRE_RATIO = Condition(
    "hire_ratio",
    CLAUSE,
    hire_ratio,
    "当年新招用符合条件人员{hires}名，占现有职工{staff}名的{ratio_permyriad}，达到{required_permyriad}",
    "{fail_text}",
    facts=("business__new_eligible_hires", "business__staff_count"),
    params=(
        "loan_small_micro.hire_ratio",
        "loan_small_micro.hire_ratio_large",
        "loan_small_micro.large_staff_threshold",
    ),
    gap_msg="{gap_text}",
)


LOAN_SMALL_MICRO = Program(
    funded=False,  # a loan (or a waiver) is not a payment from public funds
    id="loan_small_micro",
    clause=CLAUSE,
    title="小微企业创业担保贷款",
    subject="loans",
    benefit="创业担保贷款额度",
    paid_to="小微企业",
    summary="当年新招用符合条件人员达到现有职工15%（超过100人的8%）的小微企业，可申请创业担保贷款。",
    conditions=(
        Condition(
            "small_micro_kind",
            CLAUSE,
            small_micro_kind,
            "小微企业创业担保贷款",
            "不是小微企业贷款",
            facts=("kind",),
        ),
        IS_SMALL_MICRO,
        HIRE_RATIO,
        ONE_LOAN_PER_BORROWER,
        Condition(
            "term_within_limit",
            CLAUSE,
            small_micro_term,
            "贷款期限不超过{max_term_text}",
            "贷款期限{term_months}个月，超过{max_term_text}",
            params=("loan_small_micro.max_term_months",),
        ),
    ),
    amount=small_micro_amount,
    amount_msg="可贷额度：申请金额与额度上限{ceiling_text}中的较小者",
    rule_facts=("kind",),
    amount_params=("loan_small_micro.ceiling",),
)


# ---- counter_guarantee_waiver ------------------------------------------------------------------


def small_new_individual(ctx: Ctx) -> CondOut:
    """A new individual (or partnership) loan within the small-loan limit. The limit decides those
    loans (and those of unknown kind) only: a small/micro-firm loan does not cite it."""
    return ctx.cited_for(_may_be(ctx, INDIVIDUAL, PARTNERSHIP), lambda: _small_new_individual(ctx))


def _small_new_individual(ctx: Ctx) -> CondOut:
    t = ctx.t
    amount, new = t["amount_fen"], t["new_loan"]
    name = "counter_guarantee_waiver.small_loan_max"
    limit = ctx.ints(name, _loan_day(ctx))
    individual = _kind_in(ctx, INDIVIDUAL, PARTNERSHIP)
    return CondOut(
        all_of(
            individual, tri(new.values.astype(bool), new.known), tri(amount.values <= limit, amount.known)
        ),
        info={"amount_fen": amount.values, "limit_text": _figure(ctx, (name,), limit, format_fen)},
    )


def recommended(ctx: Ctx) -> CondOut:
    r = ctx.t["recommended_by"]
    none = FACTS["loans"]["recommended_by"].choices.index("none")
    return CondOut(tri(r.values != none, r.known))


def honoured(ctx: Ctx) -> CondOut:
    t = ctx.t
    return CondOut(
        any_of(
            is_true(t["borrower__honour_city_level"]).state, is_true(t["business__honour_city_level"]).state
        )
    )


def credit_rated(ctx: Ctx) -> CondOut:
    """A credit-rated small/micro firm, merchant (商户: an online merchant or a 个体工商户) or farmer."""
    t = ctx.t
    rated = any_of(is_true(t["credit_rated"]).state, is_true(t["business__credit_rated"]).state)
    sm = _kind_in(ctx, SMALL_MICRO)
    merchant_or_farmer = in_groups(t["borrower__groups"], bit("online_merchant") | bit("farmer"))
    individual_business = enum_is(t["business__kind"], "businesses", "kind", "individual_business")
    return CondOut(all_of(rated, any_of(sm, merchant_or_farmer, individual_business)))


def second_time_founder(ctx: Ctx) -> CondOut:
    return is_true(ctx.t["borrower__second_time_founder_stable"])


def waiver_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    return AmountOut(np.zeros(ctx.n, dtype=np.int64))


# ---- loan_interest_subsidy -----------------------------------------------------------------------


def regime_applies(ctx: Ctx) -> CondOut:
    """The loan's contract date is on or after the current interest-subsidy rules took effect
    (the first date the borrower's share parameter has a value, city-wide: quoted on failure)."""
    day = _loan_day(ctx)
    name = "loan_interest_subsidy.borrower_max_below_lpr_bp"
    ok = ctx.in_force(name, day)
    cd = ctx.t["contract_date"]

    def since() -> np.ndarray:
        first = min(to_day(v.since) for v in ctx.param(name).versions if v.district is None)
        return filled(np.int32, first, ctx.n)

    return CondOut(tri(ok, cd.known), info={"regime_since_date": Later(since)})


def _caps(ctx: Ctx) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, list[int]]]]:
    """On each loan's contract date: the usual cap, the higher cap, and the list of districts with
    the higher cap in force (per version of that list: its rows and its district codes)."""
    day = _loan_day(ctx)
    normal = ctx.ints("loan.rate_cap_over_lpr_bp", day)
    high = ctx.ints("loan.rate_cap_high_over_lpr_bp", day)
    param = ctx.param("loan.rate_cap_high_districts")
    ver = ctx.version("loan.rate_cap_high_districts", day)
    lists = [
        (ver == v, [int(c) for c in param.versions[v].value or ()]) for v in np.unique(ver).tolist() if v >= 0
    ]
    return normal, high, lists


def _rate_cap(ctx: Ctx) -> np.ndarray:
    normal, high, lists = _caps(ctx)
    d = ctx.t["district"].values
    high_district = np.zeros(d.shape, dtype=bool)
    for rows, codes in lists:
        high_district |= rows & isin(d, codes)
    return pick(high_district, high, normal).astype(np.int64)


def _published_lpr(ctx: Ctx) -> np.ndarray:
    """The 1-year LPR in force on each loan's contract date (loan.lpr_1y_bp): the rate cap and the
    subsidised rate are computed from it, never from a figure typed into the case."""
    lpr: np.ndarray = ctx.ints("loan.lpr_1y_bp", _loan_day(ctx))
    return lpr


def lpr_as_published(ctx: Ctx) -> CondOut:
    """A contract's stated LPR (``lpr_bp``, optional) must be the LPR published for its contract
    date; a different figure is a contract (or data-entry) error to correct, not a second source
    of the rate. Not stated: the published LPR is used."""
    given, cd = ctx.t["lpr_bp"], ctx.t["contract_date"]
    lpr = _published_lpr(ctx)
    ok = ~given.known | (given.values.astype(np.int64, copy=False) == lpr)
    return CondOut(tri(ok, cd.known), info={"lpr_bp": lpr, "stated_lpr_bp": given.values})


def rate_within_cap(ctx: Ctx) -> CondOut:
    """The contract rate within the published LPR plus the loan district's cap. Where the district
    is unknown the cap is one of the city's caps in force (the usual one, or the higher one of the
    listed districts): a rate within the lowest passes, above the highest fails, between is unknown
    (README choice 69). A district override of a cap leaves an unknown district unknown."""
    rate, district = ctx.t["rate_bp"], ctx.t["district"]
    cap = _rate_cap(ctx)
    lpr = _published_lpr(ctx).astype(np.int64, copy=False)
    limit = lpr + cap
    known = rate.known & ctx.t["contract_date"].known
    state = tri(rate.values <= limit, known & district.known)
    no_district = known & ~district.known
    if no_district.any() and ctx.params.overridden.isdisjoint(_CAPS):
        normal, high, lists = _caps(ctx)
        listed = np.zeros(no_district.shape, dtype=bool)  # (a list of higher-cap districts in force)
        for rows, codes in lists:
            if codes:
                listed |= rows
        lo = pick(listed, np.minimum(normal, high), normal).astype(np.int64)
        hi = pick(listed, np.maximum(normal, high), normal).astype(np.int64)
        within = rate.values <= lpr + lo
        bounded = pick(within, PASS, pick(rate.values > lpr + hi, FAIL, UNKNOWN))
        state = pick(no_district, bounded, state).astype(np.int8)
        cap = pick(no_district, pick(within, lo, hi), cap).astype(np.int64)
        limit = lpr + cap
    return CondOut(state, info={"rate_bp": rate.values, "limit_bp": limit, "cap_bp": cap})


_CAPS = ("loan.rate_cap_over_lpr_bp", "loan.rate_cap_high_over_lpr_bp", "loan.rate_cap_high_districts")


def _max_terms(ctx: Ctx) -> tuple[np.ndarray, np.ndarray]:
    """The maximum term (months) of each row's loan kind, as a range: (lowest, highest). One value
    where the kind is known; the two kinds' limits where it is not. Both parameters are looked up
    for every row, each cited only by the loans of its own kind and those of unknown kind
    (``Ctx.cited_for``, README choice 91), the same for a row alone or in a registry."""

    def make() -> tuple[np.ndarray, np.ndarray]:
        day = _loan_day(ctx)
        k = ctx.t["kind"]
        sm = _kind_is(ctx, SMALL_MICRO)
        # Each kind's limit is cited by the loans of that kind and those of unknown kind only.
        ind = ctx.cited_for(
            _may_be(ctx, INDIVIDUAL, PARTNERSHIP), lambda: ctx.ints("loan_individual.max_term_months", day)
        )
        small = ctx.cited_for(
            _may_be(ctx, SMALL_MICRO), lambda: ctx.ints("loan_small_micro.max_term_months", day)
        )
        one = pick(sm, small, ind).astype(np.int64)
        lo = pick(k.known, one, np.minimum(ind, small)).astype(np.int64)
        hi = pick(k.known, one, np.maximum(ind, small)).astype(np.int64)
        return lo, hi

    got: tuple[np.ndarray, np.ndarray] = ctx.memo("max_terms", make)
    return got


def loan_term_within_limit(ctx: Ctx) -> CondOut:
    """The term limit of the loan's own kind (loan_individual / loan_small_micro). Where the kind
    is unknown: within the lower limit passes, above the higher one fails, between is unknown."""
    lo, hi = _max_terms(ctx)
    term = ctx.t["term_months"]
    state = pick(term.values <= lo, PASS, pick(term.values > hi, FAIL, UNKNOWN))
    # A loan's own term not given: no limit broken (as in loan_individual / loan_small_micro).
    return CondOut(
        pick(term.known, state, PASS).astype(np.int8),
        info={"term_months": term.values, "max_term_months": lo},
    )


def _only_for(kinds: tuple[int, ...], cond: Condition, pass_text: str) -> Condition:
    """One of loan_individual's / loan_small_micro's own conditions (the same definition), checked
    for loans of ``kinds``; loans of another kind pass it as not applicable; where the kind is
    unknown it passes if the condition passes (then it holds whichever the kind) and is unknown
    otherwise. ``pass_text`` may quote the condition's integer values ({hires}) and its texts (a
    ``Later``: {exempt_loan_kinds})."""
    labels = {
        INDIVIDUAL: "个人创业担保贷款",
        PARTNERSHIP: "合伙创业担保贷款",
        SMALL_MICRO: "小微企业创业担保贷款",
    }

    def test(ctx: Ctx) -> CondOut:
        k = ctx.t["kind"]
        mine = _kind_is(ctx, *kinds)
        # The condition's parameters decide only the loans it is checked for (and those of unknown
        # kind): a loan of another kind neither cites them nor waits for its district's values of
        # them (README choice 69), nor fails for want of a value in force (choice 25).
        inner = ctx.cited_for(mine | ~ctx.full(k.known), lambda: cond.test(ctx))
        # Another kind: not applicable (passes). An unknown kind: passes where the condition
        # passes (it then holds whichever the kind), else unknown.
        other = pick(k.known, PASS, pick(inner.state == PASS, PASS, UNKNOWN))
        state = pick(mine, inner.state, other).astype(np.int8)
        shown = mine | (~k.known & (inner.state == PASS))
        info = dict(inner.info)
        kind_values = k.values

        def texts() -> np.ndarray:
            # (the condition's integer values, and its texts made on demand: e.g. the list in force)
            values = {
                name: np.atleast_1d(v.make() if isinstance(v, Later) else v)
                for name, v in inner.info.items()
                if isinstance(v, (np.ndarray, Later))
            }
            out = []
            for j in range(ctx.n):
                if shown.item(j if shown.shape[0] > j else 0):
                    row = {name: v.item(j if v.shape[0] > j else 0) for name, v in values.items()}
                    out.append(pass_text.format(**row))
                else:
                    kind = kind_values.item(j if kind_values.shape[0] > j else 0)
                    out.append(f"不适用：{labels.get(kind, '该类贷款')}不审查此项")
            return np.asarray(out, dtype=object)

        info["pass_text"] = Later(texts)
        return CondOut(state, info=info)

    return Condition(
        f"loan_{cond.id}",
        cond.clause,
        test,
        "{pass_text}",
        cond.fail_msg,
        cond.unknown_msg,
        facts=("kind", *cond.facts),
        params=cond.params,
        gap_msg=cond.gap_msg,
    )


def settlement_period(ctx: Ctx) -> CondOut:
    t = ctx.t
    s, e, cd = t["settle_start"], t["settle_end"], t["contract_date"]
    ok = (s.values <= e.values) & (e.values < ctx.on) & (s.values >= cd.values)
    return CondOut(tri(ok, s.known & e.known & cd.known))


def subsidy_term_end(
    contract_day: np.ndarray, term_months: np.ndarray, max_term_months: np.ndarray
) -> np.ndarray:
    """The loan's maturity date, the first day past the subsidy term (算头不算尾: not subsidised): the
    contract date plus the term in months, a term above its kind's maximum counted as the maximum
    (README choices 18, 29). The one definition: ``settlement_within_term`` and the quarterly settlement
    (loans/settlement.py) both call it."""
    months = np.minimum(np.asarray(term_months, dtype=np.int64), max_term_months).astype(np.int64)
    end: np.ndarray = add_months(np.asarray(contract_day, dtype=np.int32), months)
    return end


def settlement_within_term(ctx: Ctx) -> CondOut:
    """The settlement period ends before the loan's maturity date: the contract date plus the term
    in months (民法典 month rule), the term counted up to its kind's maximum and taken as that
    maximum when not given (README choice 18). Interest counts the first day and not the last
    (算头不算尾): the last subsidised day is the day before maturity, as the quarterly settlement
    (loans/settlement.py) counts it."""
    t = ctx.t
    e, cd, term = t["settle_end"], t["contract_date"], t["term_months"]
    lo, hi = _max_terms(ctx)
    months = term.values.astype(np.int64, copy=False)
    start = cd.values.astype(np.int32, copy=False)
    end_lo = subsidy_term_end(start, pick(term.known, months, lo), lo)
    end_hi = subsidy_term_end(start, pick(term.known, months, hi), hi)
    hi = pick(term.known, np.minimum(months, hi), hi).astype(np.int64)
    state = pick(e.values < end_lo, PASS, pick(e.values >= end_hi, FAIL, UNKNOWN))
    state = pick(e.known & cd.known, state, UNKNOWN).astype(np.int8)
    return CondOut(
        state,
        info={"settle_end_date": e.values, "term_end_date": end_hi, "loan_term_months": hi},
    )


def principal_outstanding(ctx: Ctx) -> CondOut:
    p = ctx.t["principal_fen"]
    return CondOut(tri(p.values > 0, p.known))


def principal_within_amount(ctx: Ctx) -> CondOut:
    """The settlement period's balance is at most the loan's amount: a larger balance is a data
    error (it fails, saying so, as 展期/逾期 days longer than the period do; README choice 18),
    never paid on. Nothing to compare where either is not given (the balance is still capped at
    the ceiling; an unknown balance leaves principal_outstanding unknown)."""
    p, a = ctx.t["principal_fen"], ctx.t["amount_fen"]
    ok = ~(p.known & a.known) | (p.values <= a.values)
    return CondOut(
        pick(ok, PASS, FAIL).astype(np.int8), info={"principal_fen": p.values, "loan_amount_fen": a.values}
    )


def excluded_days_given(ctx: Ctx) -> CondOut:
    """展期、逾期 days are not subsidised: how many there were must be known (0 when none), and
    they are days of the settlement period (more than the period has is a data error: it fails,
    saying so, rather than pass with nothing to pay)."""
    t = ctx.t
    x, s, e = t["excluded_days"], t["settle_start"], t["settle_end"]
    period = e.values.astype(np.int64, copy=False) - s.values.astype(np.int64, copy=False) + 1
    within = x.values <= np.maximum(period, 0)
    state = tri(within | ~(s.known & e.known), x.known)
    return CondOut(state, info={"excluded_days": x.values, "period_days": period})


def interest_amount(ctx: Ctx, states: Mapping[str, TriArray]) -> AmountOut:
    """Outstanding principal (up to the ceiling) × subsidised rate × subsidised days / 360."""
    t = ctx.t
    day = _loan_day(ctx)
    floor = ctx.ints("loan_interest_subsidy.borrower_max_below_lpr_bp", day)
    basis = ctx.ints("loan_interest_subsidy.day_count", day)
    rate = t["rate_bp"].values.astype(np.int64, copy=False)
    lpr = _published_lpr(ctx).astype(np.int64, copy=False)
    gov_bp = np.maximum(rate - np.maximum(lpr - floor, 0), 0)
    # Unknown 展期/逾期 days leave the result undetermined (excluded_days_given); the amount of
    # such a row is never paid out.
    days = (
        t["settle_end"].values.astype(np.int64, copy=False)
        - t["settle_start"].values.astype(np.int64, copy=False)
        + 1
        - t["excluded_days"].values.astype(np.int64, copy=False)
    )
    days = np.maximum(days, 0)
    # Each kind's ceiling is cited by the loans of that kind (and those of unknown kind) only: a
    # district's own individual ceiling does not leave a small/micro-firm loan undecided.
    small = ctx.cited_for(_may_be(ctx, SMALL_MICRO), lambda: ctx.ints("loan_small_micro.ceiling", day))
    individual = ctx.cited_for(_may_be(ctx, INDIVIDUAL, PARTNERSHIP), lambda: individual_ceiling(ctx))
    ceiling = pick(_kind_is(ctx, SMALL_MICRO), small, individual)
    principal = np.minimum(t["principal_fen"].values.astype(np.int64, copy=False), ceiling)
    amount = mul_rate_half_up(principal * days, gov_bp, 10000 * np.maximum(basis, 1))
    return AmountOut(
        amount,
        info={"gov_bp": gov_bp, "days": days, "principal_fen": principal, "day_count": basis, "lpr_bp": lpr},
    )


_INDIVIDUAL_KINDS = (INDIVIDUAL, PARTNERSHIP)

# The loan itself is an eligible guaranteed loan: loan_individual's / loan_small_micro's own
# conditions (the same definitions), each checked for the loan's own kind. The interest subsidy and
# the counter-guarantee waiver both require them: both exist only for an eligible 创业担保贷款
# (README choice 80).
LOAN_ITSELF_ELIGIBLE: tuple[Condition, ...] = (
    _only_for(_INDIVIDUAL_KINDS, BORROWER_GROUP, "借款人属于创业担保贷款扶持范围"),
    _only_for(_INDIVIDUAL_KINDS, NO_BLOCKING_LOANS, _NO_BLOCKING_PASS),
    _only_for((PARTNERSHIP,), PARTNERS_GIVEN, "合伙人数{partners}名，符合要求"),
    _only_for((SMALL_MICRO,), IS_SMALL_MICRO, "借款主体为小微企业"),
    _only_for(
        (SMALL_MICRO,),
        HIRE_RATIO,
        "当年新招用符合条件人员{hires}名，占现有职工{staff}名，达到小微企业创业担保贷款的比例要求",
    ),
    ONE_LOAN_PER_BORROWER,
    Condition(
        "loan_term_within_limit",
        CLAUSE,
        loan_term_within_limit,
        "贷款期限不超过{max_term_months}个月",
        "贷款期限{term_months}个月，超过{max_term_months}个月",
        facts=("kind",),
        params=("loan_individual.max_term_months", "loan_small_micro.max_term_months"),
    ),
)

COUNTER_GUARANTEE_WAIVER = Program(
    funded=False,  # a loan (or a waiver) is not a payment from public funds
    id="counter_guarantee_waiver",
    clause=CLAUSE,
    title="免除反担保",
    subject="loans",
    benefit="免除反担保要求",
    paid_to="借款人",
    summary="10万元及以下个人新发放贷款、示范基地或信用社区推荐项目、市级以上荣誉、信用主体、稳定守信的二次创业者，免除反担保。",
    # A waiver is a term of an eligible guaranteed loan: the loan itself must qualify (README choice 80).
    conditions=LOAN_ITSELF_ELIGIBLE,
    any_of=(
        Condition(
            "small_new_individual",
            CLAUSE,
            small_new_individual,
            "新发放的个人创业担保贷款{amount_fen}，在{limit_text}及以下",
            "不是新发放的{limit_text}及以下个人创业担保贷款",
            facts=("kind", "new_loan", "amount_fen"),
            params=("counter_guarantee_waiver.small_loan_max",),
        ),
        Condition(
            "recommended",
            CLAUSE,
            recommended,
            "项目由全国创业孵化示范基地或信用社区（乡村）推荐",
            "项目未经全国创业孵化示范基地或信用社区（乡村）推荐",
            facts=("recommended_by",),
        ),
        Condition(
            "honoured",
            CLAUSE,
            honoured,
            "创业人员、项目或企业获得设区的市级以上荣誉称号",
            "未获得设区的市级以上荣誉称号",
            facts=("borrower__honour_city_level", "business__honour_city_level"),
        ),
        Condition(
            "credit_rated",
            CLAUSE,
            credit_rated,
            "经金融机构评估认定的信用小微企业、商户（含个体工商户）或农户",
            "不是经金融机构评估认定的信用小微企业、商户（含个体工商户）或农户",
            facts=("kind", "credit_rated", "business__credit_rated", "borrower__groups", "business__kind"),
        ),
        Condition(
            "second_time_founder",
            CLAUSE,
            second_time_founder,
            "经营稳定守信的二次创业者",
            "不是经营稳定守信的二次创业者",
            facts=("borrower__second_time_founder_stable",),
        ),
    ),
    any_of_label="符合任一免除反担保情形",
    amount=waiver_amount,
    amount_msg="免除反担保，无资金补助",
)


LOAN_INTEREST_SUBSIDY = Program(
    id="loan_interest_subsidy",
    clause=CLAUSE,
    title="创业担保贷款贴息",
    subject="loans",
    benefit="按季贴息",
    paid_to="借款人（经办银行结算）",
    summary="符合条件的创业担保贷款，借款人只承担不超过LPR减规定基点（按合同日期和所在区县取值）的利息，其余由财政贴息；"
    "贴息期限为贷款合同期限，展期、逾期期间不贴息。",
    conditions=(
        Condition(
            "regime_applies",
            CLAUSE,
            regime_applies,
            "合同日期适用现行贴息规则",
            "合同日期早于现行贴息规则施行日期（{regime_since_date}），须按原政策核定",
            facts=("contract_date",),
            params=("loan_interest_subsidy.borrower_max_below_lpr_bp",),
            quotes_no_value=True,  # (it is the rule saying so, quoting the rules' first date)
        ),
        *LOAN_ITSELF_ELIGIBLE,
        Condition(
            "lpr_as_published",
            CLAUSE,
            lpr_as_published,
            "按合同日期适用的一年期LPR {lpr_bp}基点计算",
            "合同载明的LPR {stated_lpr_bp}基点与合同日期适用的一年期LPR {lpr_bp}基点不一致："
            "利率上限与贴息均按公布的LPR计算，请核对合同后重新申请",
            facts=("contract_date",),
            params=("loan.lpr_1y_bp",),
        ),
        Condition(
            "rate_within_cap",
            CLAUSE,
            rate_within_cap,
            "合同利率{rate_bp}基点，不超过上限{limit_bp}基点（LPR加{cap_bp}基点）",
            "合同利率{rate_bp}基点，超过上限{limit_bp}基点（LPR加{cap_bp}基点）",
            facts=("rate_bp", "contract_date", "district"),
            params=(
                "loan.lpr_1y_bp",
                "loan.rate_cap_over_lpr_bp",
                "loan.rate_cap_high_over_lpr_bp",
                "loan.rate_cap_high_districts",
            ),
        ),
        Condition(
            "settlement_period",
            CLAUSE,
            settlement_period,
            "结算期已结束，且不早于合同日期",
            "结算期尚未结束或早于合同日期",
            facts=("settle_start", "settle_end", "contract_date"),
        ),
        Condition(
            "settlement_within_term",
            CLAUSE,
            settlement_within_term,
            "结算期止于{settle_end_date}，在贴息期限内（合同日期起{loan_term_months}个月，{term_end_date}到期，到期日不计息）",
            "结算期止于{settle_end_date}，超出贴息期限（合同日期起{loan_term_months}个月，{term_end_date}到期，"
            "计息算头不算尾，到期日不计息）：贴息期限为合同期限，且不超过该类贷款最长期限",
            facts=("settle_end", "contract_date", "kind"),
            params=("loan_individual.max_term_months", "loan_small_micro.max_term_months"),
        ),
        Condition(
            "principal_outstanding",
            CLAUSE,
            principal_outstanding,
            "结算期有贷款余额",
            "结算期无贷款余额",
            facts=("principal_fen",),
        ),
        Condition(
            "principal_within_amount",
            CLAUSE,
            principal_within_amount,
            "结算期贷款余额不超过贷款金额",
            "结算期贷款余额{principal_fen}多于贷款金额{loan_amount_fen}，请核对贷款余额与贷款金额",
            facts=("principal_fen", "amount_fen"),
        ),
        Condition(
            "excluded_days_given",
            CLAUSE,
            excluded_days_given,
            "结算期内展期、逾期{excluded_days}天，不贴息（从贴息天数中扣除）",
            "结算期内展期、逾期{excluded_days}天，多于结算期的{period_days}天，请核对展期、逾期天数",
            "缺少事实，无法判断：{missing}（展期、逾期期间不贴息；没有展期、逾期的填0）",
            facts=("excluded_days",),
        ),
    ),
    amount=interest_amount,
    amount_msg="贴息 = 贷款余额{principal_fen} × 贴息利率{gov_bp}基点 × {days}天 ÷ {day_count}"
    "（贴息利率 = 合同利率 − 借款人承担的利率：合同日期适用的LPR {lpr_bp}基点减"
    "{loan_interest_subsidy.borrower_max_below_lpr_bp}，不低于0；展期、逾期天数已扣除）",
    rule_facts=(
        "kind",
        "partners",
        "principal_fen",
        "rate_bp",
        "contract_date",
        "settle_start",
        "settle_end",
        "excluded_days",
    ),
    amount_params=(
        "loan_interest_subsidy.borrower_max_below_lpr_bp",
        "loan_interest_subsidy.day_count",
        "loan.lpr_1y_bp",
    ),
)
