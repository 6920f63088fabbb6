"""Small building blocks shared by the program modules (each a legal notion used more than once)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.dates import month_start, years_of
from xiangchuang.engine.facts import (
    FACTS,
    GROUPS,
    INT_LIMIT,
    LIST_CHOICES,
    NO_VALUE,
    Col,
    group_labels,
    list_labels,
)
from xiangchuang.engine.parameters import Parameter
from xiangchuang.engine.program import CondOut, Ctx, DayArray, Later, Projection, one_row_columns
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, tri
from xiangchuang.engine.vec import pick

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
# Per row, the district a parameter is looked up by when not the subject's own, and where it is
# known (``Ctx.version(..., districts=, districts_known=)``).
Districts = tuple[npt.NDArray[np.int32], BoolArray]


def _version(
    ctx: Ctx, param: str, days: DayArray | None, districts: Districts | None
) -> npt.NDArray[np.int32]:
    if districts is None:
        return ctx.version(param, days)
    return ctx.version(param, days, districts=districts[0], districts_known=districts[1])


def within_amount_bound(count: IntArray, per: IntArray, plus: IntArray | int = 0) -> BoolArray:
    """Whether ``count × per + plus`` (all non-negative) is below the bound of amounts (README choice
    28: amounts in fen below 10^15), exactly and without forming the product. A row past it is a data
    error of that row (a condition ``amount_in_range`` fails), never an overflow stopping the case or
    batch. (``plus``: an amount's part that is not a whole multiple, e.g. a rounded remainder.)"""
    room = (INT_LIMIT - 1) - np.asarray(plus, dtype=np.int64)
    out: BoolArray = (room >= 0) & ((per <= 0) | (count <= np.maximum(room, 0) // np.maximum(per, 1)))
    return out


def bit(name: str) -> int:
    return 1 << GROUPS[name][0]


def is_true(col: Col) -> CondOut:
    """A yes/no fact that must be yes."""
    return CondOut(tri(col.values.astype(bool), col.known))


def is_false(col: Col) -> CondOut:
    return CondOut(tri(~col.values.astype(bool), col.known))


def in_groups(col: Col, mask: IntArray | int) -> TriArray:
    """Membership of a person's groups in a set of groups (bit mask)."""
    return tri((col.values.astype(np.int64, copy=False) & mask) != 0, col.known)


def group_names(mask: IntArray | int) -> Later:
    """Per row, the groups of a bit mask (the group lists in force for the row, a district's
    extension included) as 「、」-joined labels: what a condition's message names (README choice 72
    for lists), never a fixed text that a district's list may contradict."""

    def make() -> npt.NDArray[np.object_]:
        m = np.asarray(mask, dtype=np.int64).reshape(-1)
        if m.size == 1:
            return np.asarray(["、".join(group_labels(int(m[0])))], dtype=object)
        masks, inverse = np.unique(m, return_inverse=True)
        texts = np.asarray(["、".join(group_labels(int(x))) for x in masks.tolist()], dtype=object)
        out: npt.NDArray[np.object_] = texts[inverse.reshape(-1)]
        return out

    return Later(make)


def list_names(
    ctx: Ctx, param: str, days: DayArray | None = None, districts: Districts | None = None
) -> Later:
    """Per row, the entries of the list parameter in force for the row (its date, its district's
    extension included; ``districts``: looked up by those, not the subject's own) as 「、」-joined
    Chinese labels (``facts.list_labels``); 「（无有效值）」 where none is in force. What a condition's
    message names for a list of kinds (README choice 75), never a fixed text that a district's list
    may contradict."""
    ver = _version(ctx, param, days, districts)
    p = ctx.param(param)

    def make() -> npt.NDArray[np.object_]:
        texts = {
            v: "、".join(list_labels(param, p.versions[v].value)) if v >= 0 else NO_VALUE
            for v in np.unique(ver).tolist()
        }
        return np.asarray([texts[v] for v in ctx.full(ver).tolist()], dtype=object)

    return Later(make)


def choice_names(col: Col, table: str, field: str) -> Later:
    """Per row, the Chinese label of an enum fact's value (e.g. the business's kind); 「未知」 where
    it is not given."""
    fact = FACTS[table][field]

    def make() -> npt.NDArray[np.object_]:
        labels = [fact.label_of(c) for c in fact.choices]
        codes = np.asarray(col.values).tolist()
        known = np.broadcast_to(col.known, np.shape(col.values)).tolist()
        return np.asarray(
            [labels[c] if k and 0 <= c < len(labels) else "未知" for c, k in zip(codes, known, strict=True)],
            dtype=object,
        )

    return Later(make)


def has_all(col: Col, mask: int) -> TriArray:
    return tri((col.values.astype(np.int64, copy=False) & mask) == mask, col.known)


def enum_codes_mask(
    ctx: Ctx, param: str, table: str, field: str, districts: Districts | None = None
) -> IntArray:
    """Per row, a bit mask of the enum codes listed in a list parameter (e.g. allowed kinds), looked
    up by the subject's district or by ``districts``."""
    if LIST_CHOICES.get(param) != (table, field):  # (what its value and messages show: its labels)
        raise ValueError(f"{param}: not listed in facts.LIST_CHOICES as choices of {table}.{field}")
    masks, one_row = _enum_masks(ctx.param(param), table, field)
    ver = _version(ctx, param, None, districts)
    if ver.shape == (1,):  # one row (the single case)
        v = ver.item()
        return one_row[v if v >= 0 else 0]
    out: IntArray = masks[pick(ver >= 0, ver, 0)]
    return out


_ENUM_MASKS: dict[tuple[int, str, str], tuple[Parameter, IntArray, tuple[IntArray, ...]]] = {}


def _enum_masks(p: Parameter, table: str, field: str) -> tuple[IntArray, tuple[IntArray, ...]]:
    """Per version of a list parameter, the bit mask of the enum codes it lists (computed once)."""
    key = (id(p), table, field)
    got = _ENUM_MASKS.get(key)
    if got is None or got[0] is not p:
        choices = FACTS[table][field].choices
        masks = []
        for v in p.versions:
            m = 0
            for name in v.value:
                if name in choices:
                    m |= 1 << choices.index(name)
            masks.append(m)
        arr = np.asarray(masks, dtype=np.int64)
        got = (p, arr, one_row_columns(arr))
        _ENUM_MASKS[key] = got
    return got[1], got[2]


def kind_in_list(ctx: Ctx, param: str, col: str, key: str, districts: Districts | None = None) -> CondOut:
    """The row's kind (the enum fact ``col``) is one the list parameter ``param`` admits for the row
    (its district's extension included: the subject's district, or ``districts`` where another's
    governs the row). The message values: the list in force (``key``) and the row's own kind
    (``kind_name``), in Chinese (README choice 75)."""
    table, field = LIST_CHOICES[param]
    kind = ctx.t[col]
    return CondOut(
        enum_in(kind, enum_codes_mask(ctx, param, table, field, districts)),
        info={key: list_names(ctx, param, None, districts), "kind_name": choice_names(kind, table, field)},
    )


def enum_in(col: Col, mask: IntArray | int) -> TriArray:
    return tri(((1 << col.values.astype(np.int64, copy=False)) & mask) != 0, col.known)


def enum_is(col: Col, table: str, field: str, choice: str) -> TriArray:
    code = FACTS[table][field].code_of(choice)
    return tri(col.values == code, col.known)


def none_received(col: Col) -> CondOut:
    """Nothing received (a register count). A count above zero fails even where the count is not
    known in full: the entries naming the subject are counted, and an entry naming no one, or one
    of a hire's other entries, can only add to them (README choice 16)."""
    v = col.values
    return CondOut(tri(v == 0, col.known | (v > 0)), info={"received_count": v})


def date_not_after(date: Col, limit: npt.NDArray[np.int32]) -> TriArray:
    return tri(date.values <= limit, date.known)


def in_force(ctx: Ctx, name: str, days: npt.NDArray[np.int32] | None = None) -> TriArray:
    """PASS where the parameter has a value at the date, FAIL before its first effective date."""
    ok = ctx.in_force(name, days)
    return pick(ok, PASS, FAIL).astype(np.int8)


def known_positive(col: Col) -> TriArray:
    return tri(col.values > 0, col.known)


def pass_if_unknown(state: TriArray) -> TriArray:
    """Only for limits on a requested loan's own terms (see loans.py): absent → no limit broken."""
    return pick(state == UNKNOWN, PASS, state).astype(np.int8)


def date_or_on(ctx: Ctx, col: Col) -> npt.NDArray[np.int32]:
    """The fact's date where known, otherwise the evaluation date (e.g. a loan not yet contracted)."""
    return pick(col.known, col.values, ctx.on).astype(np.int32)


def ceil_div(a: IntArray, b: IntArray) -> IntArray:
    return -((-a) // b)


# The last year whose end (1 January of the next year) a completed-year condition projects: the
# date tables' range (dates are at most 2099-12-31, README choice 28).
_LAST_PROJECTED_YEAR = 2198


def completed_year(ctx: Ctx, year: Col, key: str) -> CondOut:
    """A claim year or sales year must be a calendar year that has ended by the evaluation date and
    in which the business existed (not before its registration year; README choices 1, 46).

    Where the only failure is that the year has not ended yet (known, not before registration), the
    condition passes by time alone on 1 January of the next year: that day is projected (a sparse
    ``passes_on``, for 「即将符合」 and the explanation's 「X起满足」). A year before registration
    never passes. The message values: the year (``key``) and, for a failed row, why and from when
    (``{key}_note``).

    Kleene AND of the two halves: a known year that has not ended fails even where the registration
    date is unknown (no projection then: on 1 January the condition still depends on it)."""
    y = year.values
    registration = ctx.t["registration_year"]  # (the year of registration_date)
    reg_year = registration.values
    on_year = years_of(ctx.on_col)
    ended = y < on_year
    both = year.known & registration.known
    known = both | (year.known & ~ended)
    not_before = y >= reg_year
    state = tri(not_before & ended, known)
    if ctx.n == 1:  # one row (the single case): no NumPy selection for one value
        waiting = not_before & ~ended & both & (y <= _LAST_PROJECTED_YEAR)
        rows = np.arange(1 if waiting.item() else 0, dtype=np.intp)
    else:
        # Only the few rows whose year has not ended are looked at further (no more passes over
        # every row).
        rows = np.flatnonzero(ctx.full(~ended))
        full = ctx.full
        rows = rows[full(not_before)[rows] & full(both)[rows] & (full(y)[rows] <= _LAST_PROJECTED_YEAR)]
    next_year = ctx.full(y)[rows].astype(np.int32) + np.int32(1)
    days = month_start((next_year - np.int32(1970)) * np.int32(12))
    projection = Projection(ctx.n, rows, days.astype(np.int32, copy=False))

    def note() -> npt.NDArray[np.object_]:
        """Why a failed year fails: not ended yet (and from when it passes), or before registration."""
        full = ctx.full
        out = np.full(ctx.n, "", dtype=object)
        failed = np.flatnonzero(full(state) == FAIL)
        years, regs = full(y)[failed].tolist(), full(reg_year)[failed].tolist()
        reg_known = full(registration.known)[failed].tolist()
        for i, yy, ry, nb, rk in zip(
            failed.tolist(), years, regs, full(not_before)[failed].tolist(), reg_known, strict=True
        ):
            out[i] = (
                f"{yy}年度尚未结束（主体登记日期未知，此后是否满足待定）"
                if not rk
                else f"{yy}年度尚未结束，{yy + 1}-01-01起满足"
                if nb
                else f"须为主体登记年度（{ry}年）或以后已结束的年度"
            )
        return out

    return CondOut(state, passes_on=projection, info={key: y, f"{key}_note": Later(note)})
