"""Evaluating a case leaves no reference cycles behind.

A condition memoized in its context may quote a value computed on demand (``Later``) by a closure
over that context: a reference cycle, so nothing of the case was freed until the cyclic garbage
collector ran — every few cases, which made single cases ~6% slower at the median and doubled the
p99. ``api.evaluate`` releases the contexts' memos once the document is built; this checks that
every worked case (the examples of every program and condition) is freed by reference counting.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from pathlib import Path
from typing import Any

from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError, load_yaml
from xiangchuang.engine.parameters import load_parameters

CASES = Path(__file__).resolve().parents[2] / "src" / "xiangchuang" / "policy" / "cases"
PARAMS = load_parameters()


def _worked() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in sorted(CASES.glob("*.yaml")):
        out.extend(load_yaml(f.read_text(encoding="utf-8")))
    return out


def test_a_case_evaluated_leaves_no_reference_cycles() -> None:
    worked = _worked()
    assert len(worked) > 300
    for w in worked[:5]:  # (first use fills module-level caches)
        evaluate(w["case"], w["on"], PARAMS)
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        left = []
        for w in worked:
            with contextlib.suppress(CaseError):
                evaluate(w["case"], w["on"], PARAMS)
            n = gc.collect()
            if n:
                left.append((w["name"], n))
    finally:
        if was:
            gc.enable()
    assert left == []


EXAMPLE = CASES.parent / "examples" / "returning_founder.yaml"


def test_a_case_leaves_the_collector_nothing_young_to_walk() -> None:
    """``evaluate`` pauses the cyclic collector while it builds a case's thousands of small
    containers, and frees them before resuming it: only the result document is young afterwards,
    so evaluating cases one after another starts (almost) no collector pass. Before, the tables
    and outcomes were still alive when the collector resumed, and the next allocation started a
    generation-0 pass over all of them after every case of this size (which collected nothing)."""
    case = load_yaml(EXAMPLE.read_text(encoding="utf-8"))
    on = dt.date(2024, 3, 20)
    for _ in range(5):
        evaluate(case, on, PARAMS)
    passes: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes.append(info["generation"])

    was = gc.isenabled()
    gc.enable()
    gc.collect()
    gc.callbacks.append(count)
    try:
        for _ in range(40):
            evaluate(case, on, PARAMS)
    finally:
        gc.callbacks.remove(count)
        if not was:
            gc.disable()
    assert len(passes) <= 4, passes  # (before: 40, one a case)
