"""The columns ``assemble`` derives once for the programs that compare or count a hire's months:

- ``repeat_hires``: the hire records of persons hired more than once, per person in the order
  in which ``one_per_person``, ``months_claimed_once`` and the job subsidy's 「即将符合」 listing
  compare them (dated records by hire date then row, then the undated ones by row), with each
  record's person number and where the person's records start;
- ``hire_month`` (hires) and ``registration_year`` (businesses), built on first use.

Both of the listing's paths (a case's few rows in Python, a registry's rows in NumPy) are checked
against a plain Python reference, and a second assembly derives the columns again from the facts
it is given.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from xiangchuang.engine.assemble import SMALL, Facts, assemble
from xiangchuang.engine.dates import month_index_scalar, to_day
from xiangchuang.engine.facts import Col, Table

ON = to_day(dt.date(2024, 3, 1))
DAY0 = dt.date(1970, 1, 1)


def _facts(
    n_hires: int, n_persons: int, seed: int
) -> tuple[Facts, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    persons = Table("persons", n_persons)
    persons["id"] = Col(
        np.asarray([f"P{k}" for k in range(n_persons)], dtype=object), np.ones(n_persons, bool)
    )
    who = rng.integers(0, n_persons, n_hires).astype(np.int64)
    who_known = rng.random(n_hires) > 0.05
    day = (to_day(dt.date(2020, 1, 1)) + rng.integers(0, 40, n_hires) * 30).astype(np.int32)  # (ties)
    dated = rng.random(n_hires) > 0.2
    hires = Table("hires", n_hires)
    hires["id"] = Col(np.asarray([f"H{k}" for k in range(n_hires)], dtype=object), np.ones(n_hires, bool))
    hires["person_id"] = Col(who, who_known)
    hires["hire_date"] = Col(day, dated)
    return Facts({"persons": persons, "hires": hires}), who, who_known, day, dated


def _reference(who: np.ndarray, who_known: np.ndarray, day: np.ndarray, dated: np.ndarray) -> list[int]:
    count: dict[int, int] = {}
    for w, k in zip(who.tolist(), who_known.tolist(), strict=True):
        if k:
            count[w] = count.get(w, 0) + 1
    rows = [i for i in range(who.size) if who_known[i] and count[int(who[i])] > 1]
    return sorted(rows, key=lambda i: (int(who[i]), not dated[i], int(day[i]) if dated[i] else 0, i))


@pytest.mark.parametrize(("n_hires", "n_persons"), [(6, 3), (SMALL, 20), (SMALL + 1, 30), (5_000, 2_000)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repeat_hires_are_listed_per_person_in_the_comparison_order(
    n_hires: int, n_persons: int, seed: int
) -> None:
    facts, who, who_known, day, dated = _facts(n_hires, n_persons, seed)
    assemble(facts, ON)
    rep = facts.tables["repeat_hires"]
    want = _reference(who, who_known, day, dated)
    assert len(want) > 1  # (persons hired more than once in every variant)
    assert rep["row"].values.tolist() == want
    persons = [int(who[i]) for i in want]
    group = rep["group"].values.tolist()
    start = rep["start"].values.tolist()
    for k in range(len(want)):
        same = persons[k] == persons[k - 1] if k else False
        assert group[k] == (group[k - 1] if same else (group[k - 1] + 1 if k else 0))
        assert start[k] == (start[k - 1] if same else k)


def test_no_repeat_hires_gives_an_empty_listing() -> None:
    facts, *_ = _facts(1, 1, 1)
    assemble(facts, ON)
    rep = facts.tables["repeat_hires"]
    assert rep.n == 0
    assert rep["row"].values.size == rep["group"].values.size == rep["start"].values.size == 0


def test_derived_columns_follow_the_facts_of_each_assembly() -> None:
    facts, *_ = _facts(40, 10, 4)
    hires = facts.tables["hires"]
    businesses = Table("businesses", 2)
    reg = np.asarray([to_day(dt.date(2019, 12, 31)), to_day(dt.date(2021, 1, 1))], dtype=np.int32)
    businesses["registration_date"] = Col(reg, np.asarray([True, False]))
    facts.tables["businesses"] = businesses
    assemble(facts, ON)
    day = hires["hire_date"].values
    want = [month_index_scalar(DAY0 + dt.timedelta(days=int(d))) for d in day.tolist()]
    assert hires["hire_month"].values.tolist() == want
    assert hires["hire_month"].known.tolist() == hires["hire_date"].known.tolist()
    assert businesses["registration_year"].values.tolist() == [2019, 2021]
    assert businesses["registration_year"].known.tolist() == [True, False]
    # Other facts, assembled again: the columns are derived again, not kept from before.
    hires.cols["hire_date"] = Col(
        np.full(hires.n, to_day(dt.date(2023, 7, 9)), dtype=np.int32), np.ones(hires.n, bool)
    )
    businesses.cols["registration_date"] = Col(reg + 366, np.asarray([True, True]))
    assemble(facts, ON)
    assert set(hires["hire_month"].values.tolist()) == {month_index_scalar(dt.date(2023, 7, 1))}
    assert hires["hire_month"].known.all()
    assert businesses["registration_year"].values.tolist() == [2020, 2022]
