"""The report's statements on several connections reading the caller's snapshot (stats/parallel.py), on
SQLite and PostgreSQL: the same figures as one after another; readers see exactly the caller's snapshot,
not what is committed after it; a transaction that has written, or an in-memory database, is computed
on the session itself (readers could not see its writes)."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.stats.scenario import build
from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import upgrade
from xiangchuang.models import StatPublication
from xiangchuang.stats import indicators as registry
from xiangchuang.stats import parallel
from xiangchuang.stats import repository as repo
from xiangchuang.stats.periods import Quarter, Window

W = Window.of(Quarter(2026, 2), Quarter(2026, 4))


def _publication(quarter: str) -> dict[str, object]:
    return {
        "quarter": quarter,
        "revision": 0,
        "published_by": "tester",
        "published_at": dt.datetime(2026, 10, 9, tzinfo=dt.UTC),
        "figure_count": 0,
        "digest": "0" * 64,
    }


def _count(conn: object) -> int:
    return int(conn.execute(select(func.count()).select_from(StatPublication)).scalar_one())  # type: ignore[attr-defined]


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many connections each parallel run used."""
    calls: list[int] = []
    real = repo.run_parallel

    def counting(conns, items, work):  # type: ignore[no-untyped-def]
        calls.append(len(conns))
        return real(conns, items, work)

    monkeypatch.setattr(repo, "run_parallel", counting)
    return calls


def test_parallel_figures_equal_sequential(db_engine, pii, spy):
    build(db_engine, pii)
    inds = registry.all_indicators()
    with Session(db_engine) as s:
        one = repo.figures_many(s, inds, W, workers=1)
    assert spy == []
    with Session(db_engine) as s:
        two = repo.figures_many(s, inds, W, workers=2)
    assert spy == [2]
    assert {k: sorted(v) for k, v in one.items()} == {k: sorted(v) for k, v in two.items()}
    assert sum(len(v) for v in two.values()) > 50  # the world has figures to compare


def test_readers_see_the_callers_snapshot(db_engine):
    with Session(db_engine) as s:
        before = _count(s)
        assert parallel.readers_possible(s, 2)
        with parallel.readers(s, 2, partial(repo.tune, side_by_side=True)) as conns:
            if db_engine.dialect.name == "postgresql":
                # committed by someone else after the snapshot: not seen by the readers
                with db_engine.begin() as other:
                    other.execute(insert(StatPublication).values(_publication("2031Q1")))
            else:
                # SQLite: the caller's transaction holds the write lock, so nobody can commit meanwhile
                assert db_engine.dialect.name == "sqlite"
            assert [_count(c) for c in conns] == [before, before]
            if db_engine.dialect.name == "postgresql":  # the readers are the parallelism (repo.tune)
                assert {
                    c.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() for c in conns
                } == {"0"}
            with pytest.raises(DBAPIError, match=r"read-only|readonly"):  # read-only transactions
                conns[0].execute(insert(StatPublication).values(_publication("2031Q2")))
    with db_engine.begin() as conn:
        conn.execute(StatPublication.__table__.delete().where(StatPublication.quarter.like("2031Q%")))


def test_a_transaction_that_has_written_is_computed_on_itself(db_engine, spy):
    inds = [registry.get("applications_received")]
    with Session(db_engine) as s:
        s.execute(select(1))
        assert parallel.readers_possible(s, 2)
        s.execute(insert(StatPublication).values(_publication("2031Q3")))
        assert not parallel.readers_possible(s, 2)
        repo.figures_many(s, inds, W, workers=2)
        assert spy == []
        assert _count(s) >= 1  # its own write, unaffected
        s.rollback()


def test_in_memory_sqlite_and_one_worker_are_sequential(tmp_path):
    engine = make_engine("sqlite://")
    upgrade(engine)
    with Session(engine) as s:
        assert not parallel.readers_possible(s, 2)
    file_engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(file_engine)
    with Session(file_engine) as s:
        assert not parallel.readers_possible(s, 1)
        assert parallel.readers_possible(s, 2)


def test_an_error_in_one_reader_is_raised_and_the_others_stop():
    seen: list[int] = []

    def work(conn: object, item: int) -> int:
        seen.append(item)
        if item == 1:
            raise ValueError("坏的语句")
        return item * 10

    with pytest.raises(ValueError, match="坏的语句"):
        parallel.run_parallel([object(), object()], list(range(100)), work)  # type: ignore[list-item]
    assert len(seen) < 100
    assert parallel.run_parallel([object(), object()], [1, 2, 3], lambda c, i: i * 2) == [2, 4, 6]  # type: ignore[list-item]
