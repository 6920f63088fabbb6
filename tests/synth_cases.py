"""Turning rows of synthetic tables back into case documents, and blanking facts at random
(shared by the batch-versus-case and the threads-versus-one-thread tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from xiangchuang.engine.assemble import Facts, assemble
from xiangchuang.engine.case import case_to_tables, combine
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.facts import FACTS
from xiangchuang.engine.tri import FAIL, PASS, UNKNOWN


def blank_facts(tables: dict[str, pa.Table], rate: float, seed: int) -> dict[str, pa.Table]:
    """Facts (not ids, references, years or programs) made unknown at random. A register entry's
    subject and person are references too: an entry naming no one may be any subject's (README
    choice 16), which a case of one business cannot hold (tests/engine/test_register_no_subject.py)."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, t in tables.items():
        for j, f in enumerate(t.schema):
            fact = FACTS[name].get(f.name)
            if (
                fact is None
                or fact.kind in ("id", "ref")
                or f.name in ("year", "program")
                or (name == "received" and f.name in ("subject_id", "person_id"))
            ):
                continue
            mask = pa.array(rng.random(t.num_rows) < rate)
            t = t.set_column(j, f.name, pc.if_else(mask, pa.nulls(t.num_rows, f.type), t.column(j)))
        out[name] = t
    return out


def clean(row: dict[str, Any], table: str, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A table row as a case mapping: documented columns only, dates as ISO text."""
    return {
        k: v.isoformat() if isinstance(v, dt.date) else v
        for k, v in row.items()
        if k in FACTS[table] and k not in drop
    }


def contributions_and_years(
    rows: dict[str, list[dict[str, Any]]],
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Each hire's monthly contributions and each business's years, as a case holds them."""
    contributions: dict[str, list[dict[str, Any]]] = {}
    for c in rows["contributions"]:
        contributions.setdefault(c["hire_id"], []).append(clean(c, "contributions", ("hire_id",)))
    years: dict[str, dict[str, Any]] = {}
    for y in rows["business_years"]:
        years.setdefault(y["business_id"], {})[str(y["year"])] = clean(
            y, "business_years", ("business_id", "year")
        )
    return contributions, years


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    """A batch input table as CSV (None as an empty cell)."""
    lines = [",".join(header)] + [",".join("" if v is None else str(v) for v in r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def month_list(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` ("YYYY-MM", both included)."""
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def check_cases_then_batch(
    docs: list[dict[str, Any]], on: dt.date, check: Callable[[Facts], set[int]], alone: int = 10
) -> None:
    """A rule checked against its reference by ``check`` (which returns the states it saw): on the
    first ``alone`` cases each assembled alone (the small paths), then on all of them as one batch
    (more rows than the small paths take), where every state must occur."""
    for doc in docs[:alone]:
        facts = case_to_tables(doc)
        assemble(facts, to_day(on))
        check(facts)
    batch = combine([case_to_tables(d) for d in docs])
    assemble(batch, to_day(on))
    assert check(batch) == {int(FAIL), int(UNKNOWN), int(PASS)}
