"""Invariants: hukou never changes a result (1.1); a batch equals its single cases; JSON is stable."""

from __future__ import annotations

import copy
import datetime as dt

import jsonschema
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.engine.strategies import DISTRICTS, cases, supplied_sets
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.engine.schema import result_schema

ON = st.dates(min_value=dt.date(2020, 9, 1), max_value=dt.date(2026, 6, 30))
PARAMS = load_parameters()
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Hukou may be anywhere in China (入乡: people come from other provinces), or not given at all.
HUKOU = st.one_of(st.sampled_from(DISTRICTS), st.sampled_from(["510104", "330106", "110101", 420102]))


@SETTINGS
@given(st.data(), supplied_sets, ON, HUKOU)
def test_hukou_never_changes_any_result(data, supplied, on, other):
    case = data.draw(cases(supplied))
    moved = copy.deepcopy(case)
    moved["person"]["hukou_district"] = other
    for h in moved.get("hires", []):
        h["person"]["hukou_district"] = other
    assert evaluate(case, on, PARAMS) == evaluate(moved, on, PARAMS)


@SETTINGS
@given(st.data(), supplied_sets, ON)
def test_result_document_matches_its_schema(data, supplied, on):
    doc = evaluate(data.draw(cases(supplied)), on, PARAMS)
    jsonschema.validate(doc, result_schema())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), supplied_sets, ON, st.integers(2, 12))
def test_batch_equals_single_cases(data, supplied, on, n):
    docs = [data.draw(cases(supplied)) for _ in range(n)]
    singles = [result_document(run(case_to_tables(c), on, PARAMS), PARAMS, on)["programs"] for c in docs]
    batch = combine([case_to_tables(c) for c in docs])
    outcomes = run(batch, on, PARAMS)
    for o in outcomes:
        single_rows = [p for s in singles for p in s if p["program"] == o.program.id]
        rows = o.rows
        assert len(rows) == len(single_rows), o.program.id
        status = {0: "ineligible", 1: "undetermined", 2: "eligible"}
        for i, expected in zip(rows, single_rows, strict=True):
            assert status[int(o.status[i])] == expected["status"], (o.program.id, expected["conditions"])
            if expected["status"] == "eligible":
                assert int(o.amount[i]) == expected["amount_fen"], o.program.id
            assert bool(o.soon[i]) == bool(expected.get("soon")), o.program.id
        assert np.all(o.amount[o.status != 2] == 0)
