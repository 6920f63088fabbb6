"""The medians computed in Python (NumPy, one pass over the durations) equal the SQL window-function
medians, on both databases, and the rounding is ROUND(AVG(two middle values)) half away from zero."""

from __future__ import annotations

import statistics
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests.stats.scenario import build
from xiangchuang.stats import indicators as registry
from xiangchuang.stats import repository as repo
from xiangchuang.stats.periods import Quarter, Window


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-(10**9), 10**9)), min_size=1, max_size=60))
def test_group_medians_match_the_definition(pairs):
    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.int64)
    ids, medians = repo._group_medians(groups, values)
    expected = {}
    for g in sorted(set(groups.tolist())):
        m = Decimal(str(statistics.median(sorted(v for gg, v in pairs if gg == g))))
        expected[g] = int(m.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # half away from zero
    assert dict(zip(ids.tolist(), medians.tolist(), strict=True)) == expected


def test_python_medians_equal_the_sql_medians(db_engine, pii):
    build(db_engine, pii)
    ind = registry.get("step_median_days")
    for window in (Window.of(Quarter(2026, 2), Quarter(2026, 3)), Window((Quarter(2026, 3),))):
        with Session(db_engine) as s:
            fast = sorted(repo.median_figures(s, ind, window, city=True))
            slow = sorted(
                (int(d), str(q), str(dim), int(v))
                for d, q, dim, v in repo.run(s, repo.aggregate_both(ind, window))
            )
            assert fast == slow and len(fast) > 3
            one = sorted(repo.median_figures(s, ind, window, city=False, district=fast[-1][0]))
            assert one == [r for r in fast if r[0] == fast[-1][0]]
            # the groups by label (an open dimension), and the same when a row's dim is not among the
            # declared ones (not dropped): the integer groups give way to them
            for other in (replace(ind, dims=None), replace(ind, dims=ind.dims[:2])):
                assert sorted(repo.median_figures(s, other, window, city=True)) == fast
                one_other = repo.median_figures(s, other, window, city=False, district=fast[-1][0])
                assert sorted(one_other) == one
