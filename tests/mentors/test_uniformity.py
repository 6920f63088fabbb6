"""Uniformity of the draw: per-mentor selection counts over many seeds (chi-square, p > 0.01) and the
mentor at each backup rank.

CI runs XC_CHI_SEEDS (default 3,000) seeds; the full-size run is

    XC_CHI_SEEDS=100000 .venv/bin/pytest tests/mentors/test_uniformity.py -q
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter

import pytest

from tests.mentors.builders import event, inputs, mentor
from tests.mentors.stats import chi2_sf, chi2_uniform
from xiangchuang.mentors import draw as D

SEEDS = int(os.environ.get("XC_CHI_SEEDS", "3000"))
N, Q, B = 30, 5, 3


def test_chi2_sf_matches_known_quantiles() -> None:
    # Quantiles from standard tables: χ²(1) 3.841 → 0.05; χ²(10) 23.209 → 0.01; χ²(29) 49.588 → 0.01.
    assert chi2_sf(3.841, 1) == pytest.approx(0.05, abs=1e-3)
    assert chi2_sf(23.209, 10) == pytest.approx(0.01, abs=1e-4)
    assert chi2_sf(49.588, 29) == pytest.approx(0.01, abs=1e-4)
    assert chi2_sf(29.0, 29) == pytest.approx(0.4656, abs=1e-3)


def _draws() -> list[dict[str, object]]:
    pool = [mentor(i, "agriculture", "city") for i in range(N)]
    pool.append(mentor(N, "agriculture", "city", available=False))  # never drawn
    ev = event([("agriculture", "city", Q)], backups=B)
    out = []
    for k in range(SEEDS):
        inp, rev = inputs(ev, pool, salt=str(k))
        out.append(D.run(inp, rev)["result"])
    return out


@pytest.fixture(scope="module")
def draws() -> list[dict[str, object]]:
    return _draws()


def test_selection_counts_are_uniform(draws: list[dict[str, object]]) -> None:
    counts: Counter[str] = Counter()
    for r in draws:
        counts.update(p["mentor"] for p in r["panel"])  # type: ignore[attr-defined]
    assert f"m{N:05d}" not in counts
    per = [counts[f"m{i:05d}"] for i in range(N)]
    assert sum(per) == SEEDS * Q
    stat, p = chi2_uniform(per)
    print(f"selection: seeds={SEEDS} chi2={stat:.2f} dof={N - 1} p={p:.4f}")
    assert p > 0.01


@pytest.mark.parametrize("rank", range(B))
def test_backup_rank_is_uniform(draws: list[dict[str, object]], rank: int) -> None:
    counts = Counter(r["backups"]["agriculture/city"][rank] for r in draws)  # type: ignore[index]
    per = [counts[f"m{i:05d}"] for i in range(N)]
    stat, p = chi2_uniform(per)
    print(f"backup rank {rank + 1}: chi2={stat:.2f} p={p:.4f}")
    assert p > 0.01


def test_inclusion_probability_is_quota_over_eligible(draws: list[dict[str, object]]) -> None:
    """Each eligible mentor is drawn with probability q/n: the mean count is SEEDS·q/n exactly."""
    total = sum(len(r["panel"]) for r in draws)  # type: ignore[arg-type]
    assert total / (SEEDS * N) == pytest.approx(Q / N)


def test_tickets_do_not_depend_on_who_else_is_eligible() -> None:
    """Removing (recusing) one mentor reorders nobody else."""
    seed = hashlib.sha256(b"x").digest()
    full = [m for _, m in D._tickets(seed, "E", "s", [f"m{i}" for i in range(50)])]
    less = [m for _, m in D._tickets(seed, "E", "s", [f"m{i}" for i in range(50) if i != 7])]
    assert [m for m in full if m != "m7"] == less
