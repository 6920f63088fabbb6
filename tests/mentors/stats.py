"""Chi-square p-values with the standard library (regularized upper incomplete gamma, Numerical Recipes
series / continued fraction), checked against known quantiles in test_uniformity.py."""

from __future__ import annotations

import math
from collections.abc import Sequence


def _gamma_p_series(a: float, x: float) -> float:
    total = term = 1.0 / a
    n = a
    for _ in range(10_000):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-15:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_q_fraction(a: float, x: float) -> float:
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(stat: float, dof: int) -> float:
    """P(X ≥ stat) for X ~ χ²(dof)."""
    if stat <= 0:
        return 1.0
    a, x = dof / 2, stat / 2
    if x < a + 1:
        return 1.0 - _gamma_p_series(a, x)
    return _gamma_q_fraction(a, x)


def chi2_uniform(counts: Sequence[int]) -> tuple[float, float]:
    """Chi-square statistic and p-value of ``counts`` against equal expected counts."""
    n = sum(counts)
    k = len(counts)
    e = n / k
    stat = sum((c - e) ** 2 / e for c in counts)
    return stat, chi2_sf(stat, k - 1)
