"""Turning rows of synthetic tables back into case documents (shared by the batch-versus-case tests)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xiangchuang.engine.facts import FACTS


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
