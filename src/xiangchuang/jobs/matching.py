"""Matching job seekers and posts (clause 4.11), vectorised with NumPy.

Score of a seeker *s* for a post *p* (weights and levels are dated parameters ``jobs.matching.*``)::

    score = w_skill · skill + w_place · place + w_wage · wage            (each part in [0, 1])

- **skill** = |skills(s) ∩ skills(p)| / |skills(p)| — the share of the post's required skills the
  seeker has (1 when the post lists none). A post sharing fewer than ``min_skill_overlap`` of its skills
  with the seeker is not recommended at all (a post that lists no skills is open to everyone).
- **place** — distance between places by district code and town (乡镇/街道) name, in four levels:
  same town (same district and same town name) > same district > same region > elsewhere. Regions are
  the parameter ``jobs.matching.regions`` (重庆“一区两群”: 中心城区, 主城新区, 渝东北, 渝东南). Chosen
  because the registry has district codes and town names but no coordinates; travel within a region is
  a day trip, across regions it means moving. A district outside every region is its own region.
- **wage** = 1 when the post's maximum monthly wage reaches the seeker's expectation; below it, it
  falls linearly with the shortfall and reaches 0 when the shortfall is ``wage_tolerance`` of the
  expectation (no expectation → 1).

Only recommendations with ``score ≥ min_score`` are returned, at most ``top_n``; ties are broken by the
lower post (seeker) index, i.e. the earlier record.

Speed (:func:`top_posts`): seekers are sorted by their skill mask and processed in chunks; a chunk
is compared only with the posts that share a skill with some seeker of the chunk (plus the posts that
list no skill) — exact, since other posts fail the overlap rule. Each chunk is one dense NumPy block
(popcount of 64-bit masks, three equality tests for place, an affine clip for wage) and a partial sort;
chunks run on a small thread pool (NumPy releases the GIL inside its loops). :func:`score_pairs` is
the same arithmetic over given (seeker, post) pairs — used for one post against all seekers and for the
reasons shown with every recommendation.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from xiangchuang.engine.parameters import ParameterSet, thaw
from xiangchuang.jobs.catalogue import SKILL_BIT, SKILLS

PLACE_LEVELS: Final = ("elsewhere", "same_region", "same_district", "same_town")
PLACE_ZH: Final = {
    "elsewhere": "不在同一片区",
    "same_region": "同一片区",
    "same_district": "同一区县",
    "same_town": "同一乡镇/街道",
}
_SKILL_CODES: Final = tuple(SKILLS)
SCALE: Final = 10_000  # scores are computed in 1/10000 and rounded, so equal scores compare equal

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class MatchParams:
    w_skill: float
    w_place: float
    w_wage: float
    place: tuple[float, float, float, float]  # by PLACE_LEVELS
    regions: Mapping[int, str]  # district code → region name
    wage_tolerance: float
    min_overlap: int
    min_score: float
    top_n: int

    @classmethod
    def from_params(cls, params: ParameterSet, on: dt.date, district: int | None = None) -> MatchParams:
        def ratio(name: str) -> float:
            return float(Fraction(params[name].value_at(on, district)))

        table = thaw(params["jobs.matching.place_scores"].value_at(on, district))
        regions = thaw(params["jobs.matching.regions"].value_at(on, district))
        return cls(
            w_skill=ratio("jobs.matching.weight_skill"),
            w_place=ratio("jobs.matching.weight_place"),
            w_wage=ratio("jobs.matching.weight_wage"),
            place=tuple(float(Fraction(str(table[level]))) for level in PLACE_LEVELS),  # type: ignore[arg-type]
            regions={int(code): str(name) for name, codes in regions.items() for code in codes},
            wage_tolerance=ratio("jobs.matching.wage_tolerance"),
            min_overlap=int(params["jobs.matching.min_skill_overlap"].value_at(on, district)),
            min_score=ratio("jobs.matching.min_score"),
            top_n=int(params["jobs.matching.top_n"].value_at(on, district)),
        )

    def region_ids(self, districts: npt.NDArray[np.integer[Any]]) -> I64:
        """A region number per district (a district in no region is a region of its own)."""
        names = sorted(set(self.regions.values()))
        lookup = {code: names.index(name) for code, name in self.regions.items()}
        d = np.asarray(districts, dtype=np.int64)
        uniq, inv = np.unique(d, return_inverse=True)
        ids = np.asarray([lookup.get(int(c), -1 - int(c)) for c in uniq], dtype=np.int64)
        return ids[inv.reshape(-1)] if d.size else np.zeros(0, dtype=np.int64)


@dataclass
class Side:
    """Posts or seekers as arrays. ``town`` is a number per (district, town) shared by both sides
    (:func:`town_keys`); ``wage_lo``/``wage_hi``: a post's monthly range, a seeker's expectation (both)."""

    mask: npt.NDArray[np.uint64]
    district: I64
    town: I64
    wage_lo: F32
    wage_hi: F32

    @property
    def n(self) -> int:
        return int(self.mask.size)


def town_keys(districts: Sequence[int], towns: Sequence[str]) -> I64:
    """One number per distinct (district, town name) over the given rows (pass posts and seekers
    together so the numbers agree)."""
    keys = np.asarray([f"{d}|{t.strip()}" for d, t in zip(districts, towns, strict=True)], dtype=object)
    if not keys.size:
        return np.zeros(0, dtype=np.int64)
    _, inv = np.unique(keys.astype(str), return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def masks(skill_lists: Sequence[Sequence[str]]) -> npt.NDArray[np.uint64]:
    out = np.zeros(len(skill_lists), dtype=np.uint64)
    for i, codes in enumerate(skill_lists):
        m = 0
        for c in codes:
            m |= 1 << SKILL_BIT[c]
        out[i] = m
    return out


@dataclass
class Ranking:
    """For each query row, the indexes of the best matches (−1: none) and their scores, best first."""

    index: npt.NDArray[np.int32]
    score: F32


class _Prepared:
    """Per-side constants with the weights folded in (so a block costs as few passes as possible)."""

    def __init__(self, seekers: Side, posts: Side, mp: MatchParams) -> None:
        self.mp = mp
        n_req = np.bitwise_count(posts.mask).astype(np.float32)
        self.has = n_req > 0
        self.w_skill = SCALE * mp.w_skill
        self.w_wage = np.float32(SCALE * mp.w_wage)
        self.p_skill_per = np.where(self.has, self.w_skill / np.maximum(n_req, 1), 0).astype(np.float32)
        self.p_region = mp.region_ids(posts.district)
        self.s_region = mp.region_ids(seekers.district)
        # wage: w_wage · clip((hi − (1 − tol)·e) / (tol·e), 0, 1) = clip(hi·a − b, 0, w) with
        # a = w / (tol·e), b = w·(1 − tol)/tol; no expectation (e = 0) → a = 0, b = −w (always w).
        e = seekers.wage_lo.astype(np.float64)
        tol = max(mp.wage_tolerance, 1e-9)
        pos = e > 0
        w_wage = SCALE * mp.w_wage
        self.s_wage_a = np.where(pos, w_wage / (tol * np.where(pos, e, 1)), 0).astype(np.float32)
        self.s_wage_b = np.where(pos, w_wage * (1 - tol) / tol, -w_wage).astype(np.float32)
        w = SCALE * mp.w_place
        self.place_base = np.float32(w * mp.place[0])
        self.place_steps = tuple(np.float32(w * (mp.place[i] - mp.place[i - 1])) for i in (1, 2, 3))

    def candidates(self, posts: Side, mask: np.uint64) -> tuple[I64, F32]:
        """The posts a seeker with skill ``mask`` may be recommended, and their skill part (weighted)."""
        ov = np.bitwise_count(posts.mask & mask)
        ok = ~self.has | (ov >= self.mp.min_overlap)
        pj = np.flatnonzero(ok)
        skill = np.where(self.has[pj], ov[pj] * self.p_skill_per[pj], self.w_skill).astype(np.float32)
        return pj.astype(np.int64), skill + self.place_base

    def block(self, seekers: Side, posts: Side, si: I64, pj: I64, skill: F32, *, steps: int) -> F32:
        """Scores of seekers ``si`` (one skill mask) × posts ``pj``; ``skill`` holds the skill part plus
        the place levels already known for the block, ``steps`` the place levels still to test (0: all
        posts are in another region; 2: all in the seekers' region, test district and town)."""
        total = posts.wage_hi[pj][None, :] * self.s_wage_a[si][:, None]
        total -= self.s_wage_b[si][:, None]
        np.clip(total, 0, self.w_wage, out=total)
        total += skill[None, :]
        if steps:
            tests = (
                (self.place_steps[1], seekers.district[si], posts.district[pj]),
                (self.place_steps[2], seekers.town[si], posts.town[pj]),
            )
            for step, s_key, p_key in tests:
                np.add(total, step, out=total, where=s_key[:, None] == p_key[None, :])
        np.rint(total, out=total)
        return total


def _top(total: F32, k: int, min_score: float) -> tuple[npt.NDArray[np.int64], F32]:
    """Per row the k best columns of ``total`` (whole score units), score descending then column
    ascending (exact: the column is part of the sort key); −1 where fewer than k reach ``min_score``."""
    n, m = total.shape
    kk = min(k, m)
    if kk == 0:
        return np.full((n, k), -1, dtype=np.int64), np.zeros((n, k), dtype=np.float32)
    wide = m >= 1 << 16
    key: npt.NDArray[Any] = total.astype(np.int64 if wide else np.int32)
    shift = 32 if wide else 16
    key <<= shift
    key |= ((1 << shift) - 1 - np.arange(m, dtype=key.dtype))[None, :]
    if m > kk:
        key = np.partition(key, m - kk, axis=1)[:, m - kk :]
    best = -np.sort(-key, axis=1) if key.shape[1] > 1 else key
    idx = ((1 << shift) - 1 - (best & ((1 << shift) - 1))).astype(np.int64)
    sc = (best >> shift).astype(np.float32)
    if kk < k:
        idx = np.pad(idx, ((0, 0), (0, k - kk)), constant_values=-1)
        sc = np.pad(sc, ((0, 0), (0, k - kk)), constant_values=-np.inf)
    idx = np.where(sc >= np.float32(min_score) - np.float32(0.5), idx, -1)
    return idx, np.where(idx >= 0, sc, -np.inf).astype(np.float32)


def _ids(columns: I64, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Block columns → post numbers (−1 stays −1)."""
    if columns.size == 0:
        return np.full(idx.shape, -1, dtype=np.int64)
    return np.where(idx >= 0, columns[np.maximum(idx, 0)], -1)


def top_posts(
    seekers: Side,
    posts: Side,
    mp: MatchParams,
    *,
    k: int | None = None,
    chunk: int = 256,
    workers: int = 1,
) -> Ranking:
    """The best ``k`` (default ``top_n``) posts for every seeker. See the module docstring."""
    k = mp.top_n if k is None else k
    prep = _Prepared(seekers, posts, mp)
    out_idx = np.full((seekers.n, k), -1, dtype=np.int32)
    out_score = np.zeros((seekers.n, k), dtype=np.float32)
    if seekers.n == 0 or posts.n == 0:
        return Ranking(out_idx, out_score)
    # Seekers with the same skills share their candidate posts and the skill part of the score; within
    # such a group they are taken region by region. First the posts of the seeker's own region; the
    # posts of other regions (place level "elsewhere", so score ≤ their skill part + w_wage) are scored
    # only for seekers whose k-th best so far does not beat that bound — exact, ties included.
    region = prep.s_region
    order = np.lexsort((region, seekers.mask))
    sorted_masks, sorted_regions = seekers.mask[order], region[order]
    change = (sorted_masks[1:] != sorted_masks[:-1]) | (sorted_regions[1:] != sorted_regions[:-1])
    bounds = np.concatenate([[0], np.flatnonzero(change) + 1, [seekers.n]])
    jobs = [
        (int(a), int(min(a + chunk, b)))
        for b0, b in itertools.pairwise(bounds)
        for a in range(int(b0), int(b), chunk)
    ]
    eps = np.float32(0.5)  # half a score unit (scores are whole units of 1/SCALE)
    w_wage = prep.w_wage
    in_region = np.float32(prep.place_steps[0])
    out_sc = np.full((seekers.n, k), -np.inf, dtype=np.float32)
    out_ids = np.full((seekers.n, k), -1, dtype=np.int64)

    def work(part: list[tuple[int, int]]) -> None:
        last: tuple[int, int] | None = None
        mask_last: int | None = None
        cand: tuple[I64, F32, I64] | None = None
        split: tuple[I64, F32, I64, F32, np.float32] | None = None
        for a, b in part:
            mask, reg = int(sorted_masks[a]), int(sorted_regions[a])
            if mask != mask_last or cand is None:
                pj, skill = prep.candidates(posts, sorted_masks[a])
                cand, mask_last, last = (pj, skill, prep.p_region[pj]), mask, None
            if (mask, reg) != last or split is None:
                pj, skill, p_reg = cand
                inside = p_reg == reg
                s_out = skill[~inside]
                bound = np.float32(s_out.max() + w_wage) if s_out.size else np.float32(-np.inf)
                split, last = (pj[inside], skill[inside] + in_region, pj[~inside], s_out, bound), (mask, reg)
            p_in, s_in, p_out, s_out, bound = split
            si = order[a:b]
            idx, sc = _top(prep.block(seekers, posts, si, p_in, s_in, steps=2), k, -np.inf)
            ids = _ids(p_in, idx)
            need = np.flatnonzero(sc[:, k - 1] < bound + eps)
            if need.size:
                keep = s_out + w_wage >= sc[need, k - 1].min() - eps
                p2, s2 = p_out[keep], s_out[keep]
                idx2, sc2 = _top(prep.block(seekers, posts, si[need], p2, s2, steps=0), k, -np.inf)
                ids2 = _ids(p2, idx2)
                both_ids = np.concatenate([ids[need], ids2], axis=1)
                both_sc = np.concatenate([sc[need], sc2], axis=1)
                key = np.where(both_ids >= 0, both_ids, np.iinfo(np.int64).max)
                o = np.lexsort((key, -both_sc), axis=1)[:, :k]
                ids[need] = np.take_along_axis(both_ids, o, axis=1)
                sc[need] = np.take_along_axis(both_sc, o, axis=1)
            out_ids[si] = ids
            out_sc[si] = sc

    if workers <= 1 or len(jobs) < 2 * workers:
        work(jobs)
    else:
        step = -(-len(jobs) // workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(work, [jobs[i : i + step] for i in range(0, len(jobs), step)]))
    ok = (out_ids >= 0) & (out_sc >= np.float32(round(SCALE * mp.min_score)) - eps)
    out_idx[...] = np.where(ok, out_ids, -1)
    out_score[...] = np.where(ok, out_sc / SCALE, 0)
    return Ranking(out_idx, out_score)


@dataclass
class PairScores:
    """The parts of the score for aligned (seeker, post) pairs."""

    overlap: npt.NDArray[np.uint8]  # skills in common
    required: npt.NDArray[np.uint8]  # skills the post lists
    skill: F32  # in [0, 1]
    place_level: npt.NDArray[np.uint8]  # index into PLACE_LEVELS
    wage: F32  # in [0, 1]
    total: F32  # weighted; −1 when the pair is not eligible (skill overlap rule)
    eligible: npt.NDArray[np.bool_]


def score_pairs(seekers: Side, posts: Side, si: I64, pj: I64, mp: MatchParams) -> PairScores:
    """Scores and their parts for the pairs (si[i], pj[i])."""
    sm, pm = seekers.mask[si], posts.mask[pj]
    ov = np.bitwise_count(sm & pm).astype(np.uint8)
    req = np.bitwise_count(pm).astype(np.uint8)
    skill = np.where(req > 0, ov / np.maximum(req, 1), 1.0).astype(np.float32)
    s_reg, p_reg = mp.region_ids(seekers.district[si]), mp.region_ids(posts.district[pj])
    lvl = (
        (s_reg == p_reg).astype(np.uint8)
        + (seekers.district[si] == posts.district[pj])
        + (seekers.town[si] == posts.town[pj])
    ).astype(np.uint8)
    place = np.asarray(mp.place, dtype=np.float32)[lvl]
    e = seekers.wage_lo[si].astype(np.float64)
    hi = posts.wage_hi[pj].astype(np.float64)
    tol = max(mp.wage_tolerance, 1e-9)
    short = np.where(e > 0, np.maximum(e - hi, 0) / np.where(e > 0, e, 1), 0)
    wage = np.clip(1 - short / tol, 0, 1).astype(np.float32)
    total = (np.rint(SCALE * (mp.w_skill * skill + mp.w_place * place + mp.w_wage * wage)) / SCALE).astype(
        np.float32
    )
    eligible = (req == 0) | (ov >= mp.min_overlap)
    return PairScores(ov, req, skill, lvl, wage, np.where(eligible, total, -1).astype(np.float32), eligible)


def top_seekers(seekers: Side, posts: Side, post: int, mp: MatchParams, *, k: int | None = None) -> Ranking:
    """The best ``k`` seekers for one post (a row of one)."""
    k = mp.top_n if k is None else k
    si = np.arange(seekers.n, dtype=np.int64)
    pj = np.full(seekers.n, post, dtype=np.int64)
    total = np.rint(score_pairs(seekers, posts, si, pj, mp).total * SCALE)[None, :].astype(np.float32)
    idx, sc = _top(total, k, round(SCALE * mp.min_score))
    return Ranking(idx.astype(np.int32), np.where(idx >= 0, sc / SCALE, 0).astype(np.float32))


def reasons(
    *,
    overlap: Sequence[str],
    required: Sequence[str],
    place_level: int,
    region: str | None,
    wage_min_fen: int,
    wage_max_fen: int,
    expected_fen: int,
) -> list[str]:
    """The reasons of one recommendation, in Chinese."""
    out: list[str] = []
    if required:
        have = "、".join(SKILLS[c] for c in overlap) or "无"
        missing = [SKILLS[c] for c in required if c not in overlap]
        text = f"技能相符 {len(overlap)}/{len(required)} 项（{have}）"
        if missing:
            text += f"，尚缺：{'、'.join(missing)}"
        out.append(text)
    else:
        out.append("岗位不限技能")
    level = PLACE_LEVELS[place_level]
    out.append(f"地点：{PLACE_ZH[level]}" + (f"（{region}）" if level == "same_region" and region else ""))
    lo, hi, e = wage_min_fen // 100, wage_max_fen // 100, expected_fen // 100
    if expected_fen <= 0:
        out.append(f"月工资 {lo}–{hi} 元（未填期望工资）")
    elif wage_max_fen >= expected_fen:
        out.append(f"月工资 {lo}–{hi} 元，达到期望 {e} 元")
    else:
        pct = round(100 * (expected_fen - wage_max_fen) / expected_fen)
        out.append(f"月工资最高 {hi} 元，低于期望 {e} 元约 {pct}%")
    return out


def skill_codes(mask: int) -> list[str]:
    return [c for c in _SKILL_CODES if mask >> SKILL_BIT[c] & 1]
