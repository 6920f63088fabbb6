"""The engine's public entry points."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from xiangchuang.engine.case import case_to_tables
from xiangchuang.engine.evaluate import run
from xiangchuang.engine.explain import result_document
from xiangchuang.engine.parameters import ParameterSet, load_parameters


def evaluate(case: Mapping[str, Any], on: dt.date, params: ParameterSet | None = None) -> dict[str, Any]:
    """Evaluate one case at date ``on`` and explain every program that applies to it."""
    params = params or load_parameters()
    facts = case_to_tables(case)
    outcomes = run(facts, on, params)
    return result_document(outcomes, params, on)
