"""The optimised median indicator (step_median_days: medians in the database on PostgreSQL, NumPy over the
DB-API cursor on SQLite, under the report's session tuning) equals a straightforward Python computation
from the raw histories, on a randomized data set, on both databases: per district, city-wide, over one
quarter and over two, and for one district alone."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import statistics
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy.orm import Session

from tests.stats.scenario import add_application
from xiangchuang.stats import indicators as registry
from xiangchuang.stats import repository as repo
from xiangchuang.stats.periods import Quarter, Window
from xiangchuang.stats.service import CITY, compute

DISTRICTS = (500101, 500102, 500103, 500104)
KINDS = ("startup_subsidy", "job_subsidy")
STATES = ("submitted", "accepted", "first_review", "second_review", "publicity", "approved", "disbursing")
START = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _history(rng: random.Random) -> list[tuple[str, str, str, dt.datetime]]:
    """draft → submitted → … along the states, a random prefix, with random gaps (some zero: ties on
    ``at`` are ordered by id) — across the 2026Q2/Q3 boundary in China time."""
    at = START + dt.timedelta(seconds=rng.randrange(0, 200 * 86400))
    steps = [("submit", "draft", "submitted", at)]
    chain = list(STATES)
    for frm, to in itertools.pairwise(chain):
        if rng.random() < 0.2:
            break
        gap = rng.choice([0, 1, 59, 3600, rng.randrange(1, 40 * 86400)])
        at = at + dt.timedelta(seconds=gap)
        steps.append((f"to_{to}", frm, to, at))
    return steps


def _half_up(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))  # durations are ≥ 0: half away from zero


def _reference(
    apps: list[tuple[int, list[tuple[str, str, str, dt.datetime]]]], window: Window, district: int | None
) -> dict[tuple[str, int, str], int]:
    """{(quarter, district, step): median seconds} straight from the histories (insertion order = id)."""
    labels = {q.label for q in window.quarters}
    by: dict[tuple[str, int, str], list[int]] = defaultdict(list)
    for d, steps in apps:
        ordered = sorted(enumerate(steps), key=lambda e: (e[1][3], e[0]))
        for (_, prev), (_, cur) in itertools.pairwise(ordered):
            q = Quarter.of_instant(cur[3]).label
            if q not in labels or cur[1] not in repo.TIMED_STEPS:
                continue
            if district is not None and d != district:
                continue
            seconds = int((cur[3] - prev[3]).total_seconds())
            by[(q, d, cur[1])].append(seconds)
            if district is None:
                by[(q, CITY, cur[1])].append(seconds)
    return {k: _half_up(Decimal(str(statistics.median(v)))) for k, v in by.items()}


@pytest.mark.parametrize("seed", [1, 2])
def test_step_medians_equal_the_reference(db_engine, seed):
    rng = random.Random(seed)
    apps = []
    with db_engine.begin() as conn:
        for i in range(160):
            d = rng.choice(DISTRICTS)
            steps = _history(rng)
            add_application(
                conn,
                no=f"SQ{seed}{i:05d}",
                kind=rng.choice(KINDS),
                district=d,
                subject=f"S{seed}-{i}",
                steps=steps,
            )
            apps.append((d, steps))
    ind = registry.get("step_median_days")
    for window in (Window((Quarter(2026, 3),)), Window.of(Quarter(2026, 2), Quarter(2026, 3))):
        expected = _reference(apps, window, None)
        assert len(expected) > 20 and any(v % 2 for v in expected.values())
        with Session(db_engine) as s:
            got = compute(s, window=window, indicators=[ind])
            flat = {(q, d, dim): v for q, figs in got.items() for (_, d, dim), v in figs.items()}
            assert flat == {k: v for k, v in expected.items() if v}
            # the same figures as the window-function SQL (the one aggregation, no shortcut)
            slow = {
                (str(q), int(d), str(dim)): int(v)
                for d, q, dim, v in repo.run(s, repo.aggregate_both(ind, window))
            }
            assert slow == expected
            one = DISTRICTS[seed]
            alone = compute(s, window=window, indicators=[ind], district=one)
            flat = {(q, d, dim): v for q, figs in alone.items() for (_, d, dim), v in figs.items()}
            assert flat == {k: v for k, v in _reference(apps, window, one).items() if v}
