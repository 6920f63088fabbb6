"""Trimmed mean and the tie rules stated in advance (pure functions of the scoring service)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xiangchuang.mentors.service import TIE_RULES, rank_key, trimmed_mean_milli


def test_trimmed_only_from_the_threshold() -> None:
    assert trimmed_mean_milli([90, 80, 85, 70], 5) == 81250  # 4 scores: plain mean
    assert trimmed_mean_milli([90, 80, 85, 70, 99], 5) == 85000  # drop 99 and 70
    assert trimmed_mean_milli([1, 2, 2], 5) == 1667  # 5/3 = 1.6667 → half up in thousandths
    assert trimmed_mean_milli([1, 2, 2, 3, 3, 3, 100], 5) == 2600  # drop one 100 and one 1
    with pytest.raises(ValueError):
        trimmed_mean_milli([], 5)


@given(st.lists(st.integers(0, 100), min_size=1, max_size=15), st.integers(3, 9))
def test_trimmed_mean_is_exact(scores: list[int], threshold: int) -> None:
    xs = sorted(scores)[1:-1] if len(scores) >= threshold else scores
    exact = sum(xs) * 1000 / len(xs)
    assert abs(trimmed_mean_milli(scores, threshold) - exact) <= 0.5


def test_tie_rules() -> None:
    a, b = [80, 80, 90, 70, 80], [75, 85, 80, 80, 80]  # both trimmed means 80
    assert trimmed_mean_milli(a, 5) == trimmed_mean_milli(b, 5) == 80000
    assert set(TIE_RULES) == {"higher_median", "higher_max", "project_no"}
    # higher_max: A (90) before B (85)
    assert rank_key("higher_max", "B", a, 5) < rank_key("higher_max", "A", b, 5)
    # higher_median: equal medians (80) → project number decides
    assert rank_key("higher_median", "A", a, 5) < rank_key("higher_median", "B", b, 5)
    assert rank_key("project_no", "A", b, 5) < rank_key("project_no", "B", a, 5)
    c = [70, 90, 90, 60, 100]  # trimmed mean 83.333 beats any tie rule
    assert rank_key("higher_max", "Z", c, 5) < rank_key("higher_max", "A", a, 5)
