"""Matching (clause 4.11): quality on synthetic data with known best matches, exactness of the fast path
against a dense computation of every pair, each part of the score, and the Chinese reasons."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import ValidationFailed
from xiangchuang.jobs import synthetic
from xiangchuang.jobs.catalogue import parse_skills, skill_mask
from xiangchuang.jobs.matching import MatchParams, Side, reasons, score_pairs, top_posts, top_seekers

ON = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def mp() -> MatchParams:
    return MatchParams.from_params(load_parameters(), ON)


def test_the_known_best_post_ranks_first_for_at_least_90_percent(mp):
    market = synthetic.with_known_best(3000, 4000, seed=11)
    ranking = top_posts(market.seekers, market.posts, mp)
    assert market.best is not None
    share = float(np.mean(ranking.index[:, 0] == market.best))
    assert share >= 0.90, share
    # and the near misses (another town; one skill missing; wage 20% short) never outrank it
    assert np.all(ranking.score[:, 0] >= ranking.score[:, 1])


def _dense_top(market, mp, i, k=10):
    pj = np.arange(market.posts.n)
    ps = score_pairs(market.seekers, market.posts, np.full(pj.size, i), pj, mp)
    order = np.lexsort((pj, -ps.total))[:k]
    return [int(j) if ps.total[j] >= mp.min_score - 1e-6 else -1 for j in order]


@pytest.mark.parametrize("workers", [1, 2])
def test_fast_path_equals_every_pair_scored(mp, workers):
    market = synthetic.population(1500, 1200, seed=5)
    ranking = top_posts(market.seekers, market.posts, mp, workers=workers, chunk=64)
    for i in range(0, 1500, 13):
        assert ranking.index[i].tolist() == _dense_top(market, mp, i), i


def test_parts_of_the_score(mp):
    # seeker: welding + electrician, 500101 town 1, expects 5000; posts vary one part each
    s = Side(
        mask=np.asarray([skill_mask(("welding", "electrician"))], dtype=np.uint64),
        district=np.asarray([500101]),
        town=np.asarray([1]),
        wage_lo=np.asarray([500000], dtype=np.float32),
        wage_hi=np.asarray([500000], dtype=np.float32),
    )
    masks = [
        ("welding",),
        ("welding", "assembly"),
        ("welding",),
        ("welding",),
        ("welding",),
        ("cooking",),
        (),
    ]
    p = Side(
        mask=np.asarray([skill_mask(m) for m in masks], dtype=np.uint64),
        district=np.asarray([500101, 500101, 500101, 500154, 500103, 500101, 500101]),
        town=np.asarray([1, 1, 2, 3, 4, 1, 1]),
        wage_lo=np.full(7, 300000, dtype=np.float32),
        wage_hi=np.asarray([600000, 600000, 600000, 600000, 600000, 600000, 425000], dtype=np.float32),
    )
    ps = score_pairs(s, p, np.zeros(7, dtype=np.int64), np.arange(7), mp)
    assert ps.skill.tolist() == [1.0, 0.5, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert ps.place_level.tolist() == [
        3,
        3,
        2,
        1,
        0,
        3,
        3,
    ]  # town, town, district, region (渝东北), elsewhere
    assert ps.wage.tolist()[:6] == [1.0] * 6 and ps.wage[6] == pytest.approx(
        0.5
    )  # 15% short of 30% tolerance
    assert ps.total.tolist()[:5] == pytest.approx([1.0, 0.75, 0.91, 0.82, 0.73])
    assert not ps.eligible[5] and ps.total[5] == -1  # no skill in common: never recommended
    assert ps.eligible[6]  # a post listing no skill is open to everyone
    r = top_posts(s, p, mp)
    assert r.index[0].tolist()[:6] == [0, 2, 6, 3, 1, 4]  # 1.0, 0.91, 0.9 (wage half), 0.82, 0.75, 0.73
    seekers = top_seekers(s, p, 1, mp)
    assert seekers.index[0, 0] == 0 and seekers.score[0, 0] == pytest.approx(0.75)


def test_reasons_in_chinese():
    text = reasons(
        overlap=["welding"],
        required=["welding", "assembly"],
        place_level=1,
        region="渝东北",
        wage_min_fen=300000,
        wage_max_fen=425000,
        expected_fen=500000,
    )
    assert text == [
        "技能相符 1/2 项（焊工），尚缺：装配",
        "地点：同一片区（渝东北）",
        "月工资最高 4250 元，低于期望 5000 元约 15%",
    ]


def test_skills_are_checked_against_the_catalogue():
    assert parse_skills("焊工、electrician") == ("welding", "electrician")
    with pytest.raises(ValidationFailed, match="不在技能目录"):
        parse_skills(["welding", "飞行"])


def test_empty_sides(mp):
    market = synthetic.population(5, 0)
    r = top_posts(market.seekers, market.posts, mp)
    assert (r.index == -1).all()


def test_a_seeker_whose_region_has_no_candidate(mp):
    # the only post sharing a skill is in another region: found by the second stage
    s = Side(
        mask=np.asarray([skill_mask(("cooking",))], dtype=np.uint64),
        district=np.asarray([500101]),
        town=np.asarray([1]),
        wage_lo=np.asarray([0], dtype=np.float32),
        wage_hi=np.asarray([0], dtype=np.float32),
    )
    p = Side(
        mask=np.asarray([skill_mask(("cooking",)), skill_mask(("welding",))], dtype=np.uint64),
        district=np.asarray([500103, 500101]),
        town=np.asarray([2, 1]),
        wage_lo=np.asarray([300000, 300000], dtype=np.float32),
        wage_hi=np.asarray([400000, 400000], dtype=np.float32),
    )
    r = top_posts(s, p, mp)
    assert r.index[0].tolist() == [0] + [-1] * 9
    assert r.score[0, 0] == pytest.approx(0.73)
