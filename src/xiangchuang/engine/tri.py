"""Three-valued logic over columns: FAIL < UNKNOWN < PASS.

With that order, Kleene AND is the element-wise minimum and OR the maximum, so an unknown fact
never turns into a pass or a fail: it stays unknown unless another condition already decides.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt

TriArray = npt.NDArray[np.int8]
BoolArray = npt.NDArray[np.bool_]

FAIL: Final = np.int8(0)
UNKNOWN: Final = np.int8(1)
PASS: Final = np.int8(2)

NAMES: Final = {0: "fail", 1: "unknown", 2: "pass"}
_ONE_ROW: Final = tuple(np.asarray([v], dtype=np.int8) for v in (0, 1, 2))


def tri(holds: BoolArray, known: BoolArray) -> TriArray:
    """PASS where known and holds, FAIL where known and not, UNKNOWN where not known."""
    if type(holds) is np.ndarray and type(known) is np.ndarray and holds.shape == known.shape:
        if holds.shape == (1,):
            # One row (a single case): plain Python, a copy of a ready-made one-row column.
            return _ONE_ROW[(2 if holds.item() else 0) if known.item() else 1].copy()
        if holds.ndim == 1 and holds.size <= 16:
            # The few rows of a single case (two persons, three hires): a list beats four NumPy calls.
            return np.asarray(
                [(2 if h else 0) if k else 1 for h, k in zip(holds.tolist(), known.tolist(), strict=True)],
                dtype=np.int8,
            )
    # int8 arithmetic, one byte per row: known → 2·holds, unknown → 1.
    h = np.asarray(holds, dtype=bool).view(np.int8)
    k = np.asarray(known, dtype=bool).view(np.int8)
    out: TriArray = (h * np.int8(2) - np.int8(1)) * k + np.int8(1)
    return out


def all_of(*parts: TriArray) -> TriArray:
    """Kleene AND: the element-wise minimum."""
    low = _one_row_extreme(parts, min)
    if low is not None:
        return _ONE_ROW[low].copy()
    out = parts[0]
    for p in parts[1:]:
        out = np.minimum(out, p)
    return out


def any_of(*parts: TriArray) -> TriArray:
    """Kleene OR: the element-wise maximum."""
    high = _one_row_extreme(parts, max)
    if high is not None:
        return _ONE_ROW[high].copy()
    out = parts[0]
    for p in parts[1:]:
        out = np.maximum(out, p)
    return out


def _one_row_extreme(parts: tuple[TriArray, ...], pick: Callable[[list[int]], int]) -> int | None:
    """For one row (every part a one-row column, the single case): the minimum or maximum state
    as a Python int, without a NumPy call per part. None when any part has another shape."""
    values = []
    for p in parts:
        if type(p) is not np.ndarray or p.shape != (1,):
            return None
        values.append(p.item())
    return pick(values)


def negate(t: TriArray) -> TriArray:
    return (2 - t).astype(np.int8)
