"""A registry-wide run on several threads gives what one thread gives, word for word.

``run_programs`` evaluates the programs of a large batch on threads that share the tables; their
lazy columns (the joins) are then built once under a lock (``Table.share``). These tests force the
threads on a small synthetic registry (``min_rows=0``) with 5% of its facts blanked, and compare
every row's explanation of every program, and the columns a batch keeps, with one thread; and
check the table's lock itself: a column built once while another thread waits, a failed build left
to be tried again (never read as an unknown column).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.synth_cases import blank_facts
from xiangchuang import synth
from xiangchuang.batchio import load_directory
from xiangchuang.engine.assemble import assemble
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.evaluate import Outcome, run_programs
from xiangchuang.engine.explain import Explainer
from xiangchuang.engine.facts import Col, Table
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.programs import BATCH_ORDER, PROGRAM_IDS, PROGRAMS

PARAMS = load_parameters()


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("threads")
    synth.write(blank_facts(synth.generate(400, seed=11), 0.05, seed=11), d)
    return d


def _documents(outcomes: list[Outcome]) -> dict[tuple[str, int], str]:
    ex = Explainer(PARAMS)
    return {
        (o.program.id, int(i)): json.dumps(ex.program(o, int(i)), sort_keys=True, ensure_ascii=False)
        for o in outcomes
        for i in np.flatnonzero(o.applies)
    }


def _run(directory: Path, on: int, workers: int, details: bool) -> tuple[list[Outcome], list[str]]:
    facts, _ = load_directory(directory)
    assemble(facts, on)
    finished: list[str] = []
    got = run_programs(
        PROGRAMS,
        facts,
        on,
        PARAMS,
        details=details,
        workers=workers,
        min_rows=0,
        done=lambda p: finished.append(p.id),
    )
    return got, finished


@pytest.mark.parametrize("on", [dt.date(2024, 3, 20), dt.date(2025, 7, 1)], ids=str)
def test_threads_give_the_documents_of_one_thread(directory: Path, on: dt.date) -> None:
    day = to_day(on)
    one, done_one = _run(directory, day, 1, details=True)
    two, done_two = _run(directory, day, 2, details=True)
    assert [o.program.id for o in two] == list(PROGRAM_IDS)  # in the programs' order, whatever finished first
    assert done_one == list(PROGRAM_IDS) and sorted(done_two) == sorted(PROGRAM_IDS)
    docs = _documents(one)
    assert len(docs) > 1000
    assert _documents(two) == docs


def test_threads_keep_the_batch_columns(directory: Path) -> None:
    day = to_day(dt.date(2025, 3, 31))
    one, _ = _run(directory, day, 1, details=False)
    two, _ = _run(directory, day, 2, details=False)
    for a, b in zip(one, two, strict=True):
        for name in ("applies", "status", "amount", "soon", "eligible_from", "district_part"):
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), (a.program.id, name)
            if x is not None:
                assert np.array_equal(x, y), (a.program.id, name)


def test_batch_order_lists_every_program_once() -> None:
    assert sorted(BATCH_ORDER) == sorted(PROGRAM_IDS)


def test_a_shared_table_builds_a_lazy_column_once_while_others_wait() -> None:
    t = Table("businesses", 3)
    calls: list[int] = []

    def slow() -> Col:
        calls.append(1)
        time.sleep(0.05)  # (long enough for the other threads to ask meanwhile)
        return Col(np.arange(3, dtype=np.int64), np.ones(3, dtype=bool))

    t.lazy["x"] = slow
    t.share(True)
    got: list[Col] = []
    threads = [threading.Thread(target=lambda: got.append(t["x"])) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    t.share(False)
    assert len(calls) == 1
    assert len(got) == 4 and all(c is got[0] for c in got)
    assert got[0].known.all()  # (not an unknown column made by a thread that found no maker)


def test_a_shared_table_lets_a_failed_build_be_tried_again() -> None:
    t = Table("businesses", 2)
    attempts: list[int] = []
    started = threading.Event()

    def flaky() -> Col:
        attempts.append(1)
        if len(attempts) == 1:
            started.set()
            time.sleep(0.05)
            raise MemoryError("first build fails")
        return Col(np.ones(2, dtype=np.int64), np.ones(2, dtype=bool))

    t.lazy["y"] = flaky
    t.share(True)
    errors: list[BaseException] = []
    got: list[Col] = []

    def first() -> None:
        try:
            t["y"]
        except MemoryError as exc:
            errors.append(exc)

    a = threading.Thread(target=first)
    a.start()
    started.wait()
    b = threading.Thread(target=lambda: got.append(t["y"]))  # waits for the first, then builds anew
    b.start()
    a.join()
    b.join()
    t.share(False)
    assert len(errors) == 1 and len(attempts) == 2
    assert got and got[0].known.all() and got[0].values.tolist() == [1, 1]
