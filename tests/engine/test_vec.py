"""vec.pick is np.where for integer and bool columns: same values, dtype and shape, overflow included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN, all_of, any_of, tri
from xiangchuang.engine.vec import isin, keep, lexsort, pick


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint8, np.bool_])
@given(seed=st.integers(0, 2**32 - 1), n=st.sampled_from([1, 3, 255, 256, 1000]))
def test_pick_equals_where(dtype, seed, n):
    rng = np.random.default_rng(seed)
    c = rng.random(n) < 0.5
    if dtype is np.bool_:
        a, b = rng.random(n) < 0.5, rng.random(n) < 0.5
        scalars: list[object] = [True, False]
    else:
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
        b = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
        scalars = [0, int(info.max), int(info.min), dtype(7), np.int64(3), np.int8(-1)]
    other = b.astype(np.int64) if dtype is not np.int64 else b.astype(np.int32)
    for x, y in (
        [(a, b), (a[:1], b), (a, b[:1]), (a[:1], b[:1]), (a[:1], other[:1]), (other[:1], a[:1])]
        + [(a, s) for s in scalars]
        + [(s, b) for s in scalars]
    ):
        want, got = np.where(c, x, y), pick(c, x, y)
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want)


def test_keep_is_where_zero():
    c = np.arange(600) % 3 == 0
    v = np.arange(600, dtype=np.int64) * 7
    assert np.array_equal(keep(c, v), np.where(c, v, 0))


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_])
@given(
    values=st.lists(st.integers(0, 8), min_size=0, max_size=40),
    codes=st.lists(st.integers(0, 8), max_size=4),
)
def test_isin_equals_np_isin(dtype, values, codes):
    """One row (the single case's Python path) and longer columns both equal np.isin."""
    v = np.asarray(values, dtype=dtype)
    want, got = np.isin(v, codes), isin(v, codes)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)


@given(
    holds=st.lists(st.booleans(), min_size=0, max_size=40),
    known_seed=st.integers(0, 2**32 - 1),
)
def test_tri_few_rows_equal_column_arithmetic(holds, known_seed):
    """tri's one-row and few-row Python paths give the column formula's values and dtype."""
    h = np.asarray(holds, dtype=bool)
    k = np.random.default_rng(known_seed).random(h.size) < 0.7
    want = np.where(k, np.where(h, PASS, FAIL), UNKNOWN).astype(np.int8)
    for hv in (h, h.astype(np.int64), h.astype(np.int32) * 3):
        got = tri(hv, k)
        assert got.dtype == np.int8 and got.shape == want.shape
        assert np.array_equal(got, want)
    assert np.array_equal(all_of(tri(h, k), tri(~h, k)), np.minimum(tri(h, k), tri(~h, k)))
    assert np.array_equal(any_of(tri(h, k), tri(~h, k)), np.maximum(tri(h, k), tri(~h, k)))


@given(seed=st.integers(0, 2**32 - 1), n=st.sampled_from([0, 1, 2, 5, 300]), wide=st.booleans())
def test_lexsort_equals_numpy_lexsort(seed, n, wide):
    """Packed into one key, or (ranges too wide for 63 bits) NumPy's own: the same order, ties in
    row order, for int32, int64, uint8 and bool keys."""
    rng = np.random.default_rng(seed)
    top = 2**62 if wide else 50
    keys = (
        rng.integers(-5, 5, n).astype(np.int32),
        rng.random(n) < 0.5,
        rng.integers(0, 4, n).astype(np.uint8),
        rng.integers(-top, top, n, dtype=np.int64),
    )
    assert np.array_equal(lexsort(keys), np.lexsort(keys))
