"""Small building blocks shared by the program modules (each a legal notion used more than once)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.facts import FACTS, GROUPS, Col
from xiangchuang.engine.program import CondOut, Ctx
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, TriArray, tri
from xiangchuang.engine.vec import pick

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


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


def has_all(col: Col, mask: int) -> TriArray:
    return tri((col.values.astype(np.int64, copy=False) & mask) == mask, col.known)


def enum_codes_mask(ctx: Ctx, param: str, table: str, field: str) -> IntArray:
    """Per row, a bit mask of the enum codes listed in a list parameter (e.g. allowed kinds)."""
    fact = FACTS[table][field]
    p = ctx.param(param)
    masks = []
    for v in p.versions:
        m = 0
        for name in v.value:
            if name in fact.choices:
                m |= 1 << fact.choices.index(name)
        masks.append(m)
    ver = ctx.version(param)
    out: IntArray = np.asarray(masks, dtype=np.int64)[pick(ver >= 0, ver, 0)]
    return out


def enum_in(col: Col, mask: IntArray | int) -> TriArray:
    return tri(((1 << col.values.astype(np.int64, copy=False)) & mask) != 0, col.known)


def enum_is(col: Col, table: str, field: str, choice: str) -> TriArray:
    code = FACTS[table][field].code_of(choice)
    return tri(col.values == code, col.known)


def none_received(col: Col) -> CondOut:
    return CondOut(tri(col.values == 0, col.known), info={"received_count": col.values})


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
