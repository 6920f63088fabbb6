"""「即将符合」's date window, tested against the plain comparisons it replaces."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.engine.evaluate import _within_window

INT32 = st.integers(-(2**31), 2**31 - 1)


@given(st.lists(INT32, max_size=50), INT32, st.integers(-5, 400))
def test_window_is_exactly_after_on_and_up_to_the_horizon(days, on, width):
    col = np.asarray(days, dtype=np.int32)
    horizon = on + width
    expected = (col.astype(np.int64) > on) & (col.astype(np.int64) <= horizon)
    assert _within_window(col, on, horizon).tolist() == expected.tolist()


def test_other_dtypes_take_the_comparisons():
    col = np.asarray([5, 10, 11, 20, 21], dtype=np.int64)
    assert _within_window(col, 10, 20).tolist() == [False, False, True, True, False]


def test_the_ends_of_int32():
    col = np.asarray([-(2**31), -1, 0, 2**31 - 2, 2**31 - 1], dtype=np.int32)
    for on, horizon in ((2**31 - 2, 2**31 + 88), (-(2**31) - 1, -(2**31) + 10), (-2, 0)):
        expected = (col.astype(np.int64) > on) & (col.astype(np.int64) <= horizon)
        assert _within_window(col, on, horizon).tolist() == expected.tolist()
