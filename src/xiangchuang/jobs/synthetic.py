"""Synthetic posts and seekers as matching arrays (benchmark, quality test, demo); no real data.

:func:`population` draws a city-wide market: districts weighted by population, ~15 towns per district,
posts of one trade with 1–3 of its skills (sometimes one more from another trade), seekers with 2–5
skills mostly of one trade, monthly wages 2,500–12,000 元.

:func:`with_known_best` builds a market where each seeker has one post made for them (all its skills
are the seeker's, same town, wage reaching the expectation) and three near misses (another town of the
district; one skill the seeker lacks; a wage 20% short), among random posts: the made-for post is the
known best match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.districts import load_districts
from xiangchuang.jobs.catalogue import SKILL_BIT, SKILLS_BY_TRADE, TRADES
from xiangchuang.jobs.matching import Side

TOWNS_PER_DISTRICT = 15
_TRADES = tuple(TRADES)
_TRADE_BITS = [np.asarray([SKILL_BIT[c] for c in SKILLS_BY_TRADE[t]], dtype=np.int64) for t in _TRADES]


@dataclass
class Market:
    seekers: Side
    posts: Side
    best: npt.NDArray[np.int64] | None = None  # known best post per seeker (with_known_best)


def _districts(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    ds = [d for d in load_districts() if d.kind != "功能区"]
    codes = np.asarray([d.code for d in ds], dtype=np.int64)
    w = np.asarray([d.population_10k for d in ds], dtype=np.float64)
    return rng.choice(codes, size=n, p=w / w.sum())


def _skills(rng: np.random.Generator, n: int, lo: int, hi: int, extra: float) -> npt.NDArray[np.uint64]:
    """n masks: lo..hi skills of one random trade, plus with probability ``extra`` one of another."""
    trades = rng.integers(0, len(_TRADES), size=n)
    counts = rng.integers(lo, hi + 1, size=n)
    out = np.zeros(n, dtype=np.uint64)
    for t, bits in enumerate(_TRADE_BITS):
        rows = np.flatnonzero(trades == t)
        if not rows.size:
            continue
        # random priority per (row, skill of the trade): take the first `count` skills
        pri = rng.random((rows.size, bits.size)).argsort(axis=1)
        take = pri < np.minimum(counts[rows], bits.size)[:, None]
        vals = (np.uint64(1) << bits.astype(np.uint64))[None, :]
        out[rows] = np.bitwise_or.reduce(np.where(take, vals, np.uint64(0)), axis=1)
    more = rng.random(n) < extra
    bit = rng.integers(0, sum(b.size for b in _TRADE_BITS), size=n).astype(np.uint64)
    out[more] |= np.uint64(1) << bit[more]
    return out


def _town(rng: np.random.Generator, district: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return district * 100 + rng.integers(0, TOWNS_PER_DISTRICT, size=district.size)


def population(n_seekers: int, n_posts: int, seed: int = 2026) -> Market:
    rng = np.random.default_rng(seed)
    pd = _districts(rng, n_posts)
    lo = rng.integers(25, 80, size=n_posts) * 100
    posts = Side(
        mask=_skills(rng, n_posts, 1, 3, 0.15),
        district=pd,
        town=_town(rng, pd),
        wage_lo=lo.astype(np.float32),
        wage_hi=(lo + rng.integers(5, 40, size=n_posts) * 100).astype(np.float32),
    )
    sd = _districts(rng, n_seekers)
    e = (rng.integers(25, 100, size=n_seekers) * 100).astype(np.float32)
    seekers = Side(
        mask=_skills(rng, n_seekers, 2, 5, 0.3), district=sd, town=_town(rng, sd), wage_lo=e, wage_hi=e
    )
    return Market(seekers, posts)


def with_known_best(n_seekers: int, n_random_posts: int, seed: int = 7) -> Market:
    rng = np.random.default_rng(seed)
    base = population(n_seekers, n_random_posts, seed)
    s = base.seekers
    n = s.n
    # each seeker lives in a town of their own (no other seeker's made-for post is in it)
    s.town = 10**9 + np.arange(n, dtype=np.int64)
    # the made-for post: a non-empty subset of the seeker's skills (all of them here), same town
    target_mask = s.mask.copy()
    target_hi = s.wage_lo + rng.integers(0, 20, size=n).astype(np.float32) * 100
    # near miss 1: same skills, another town of the same district
    other_town = s.district * 100 + rng.integers(0, TOWNS_PER_DISTRICT, size=n)
    # near miss 2: same town, the seeker's skills plus one they lack
    lacks = np.zeros(n, dtype=np.uint64)
    all_bits = sum(b.size for b in _TRADE_BITS)
    for i in range(n):
        while True:
            b = np.uint64(1) << np.uint64(rng.integers(0, all_bits))
            if not (s.mask[i] & b):
                lacks[i] = b
                break
    # near miss 3: same town and skills, maximum wage 20% below the expectation
    short_hi = (s.wage_lo * np.float32(0.8)).astype(np.float32)
    masks = np.concatenate([target_mask, target_mask, target_mask | lacks, target_mask, base.posts.mask])
    districts = np.concatenate([s.district, s.district, s.district, s.district, base.posts.district])
    towns = np.concatenate([s.town, other_town, s.town, s.town, base.posts.town])
    hi = np.concatenate([target_hi, target_hi, target_hi, short_hi, base.posts.wage_hi])
    lo = np.minimum(
        hi,
        np.concatenate(
            [s.wage_lo - 500, s.wage_lo - 500, s.wage_lo - 500, short_hi - 500, base.posts.wage_lo]
        ),
    )
    # shuffle the posts so the made-for post is not at a predictable place (ties: lower index wins)
    perm = rng.permutation(masks.size)
    inv = np.empty_like(perm)
    inv[perm] = np.arange(perm.size)
    posts = Side(
        mask=masks[perm],
        district=districts[perm],
        town=towns[perm],
        wage_lo=lo[perm].astype(np.float32),
        wage_hi=hi[perm].astype(np.float32),
    )
    return Market(s, posts, best=inv[np.arange(n)])
