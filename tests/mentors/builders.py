"""Builders for draw inputs: deterministic pools, events and secrets for vectors and property tests."""

from __future__ import annotations

import hashlib
from typing import Any

from xiangchuang.mentors import draw as D

RULES: dict[str, Any] = {
    "involvement_years": 3,
    "max_draws_12_months": 6,
    "max_per_applicant_year": 1,
    "cool_down_days": 30,
    "recuse_same_district": False,
    "min_final_panel": 5,
    "required_parties": ["organiser", "supervisor"],
}


def secret_of(label: str) -> str:
    """A fixed, reproducible secret for published vectors (real draws use ``secrets``)."""
    return hashlib.sha256(f"test-vector-secret:{label}".encode()).hexdigest()


def mentor(
    i: int,
    specialty: str = "agriculture",
    level: str = "city",
    *,
    employer: str | None = None,
    district: int = 500101,
    available: bool = True,
    relations: list[dict[str, str]] | None = None,
    involvements: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "mentor": f"m{i:05d}",
        "person": f"p-m{i:05d}",
        "specialty": specialty,
        "level": level,
        "employer": employer,
        "district": district,
        "available": available,
        "relations": relations or [],
        "involvements": involvements or [],
    }


def event(
    quotas: list[tuple[str, str, int]],
    *,
    eid: str = "E2024-001",
    kind: str = "project_review",
    date: str = "2024-06-10",
    backups: int = 2,
    projects: list[dict[str, Any]] | None = None,
    staff: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "id": eid,
        "kind": kind,
        "date": date,
        "earliest_draw_time": None,
        "panel_size": sum(q[2] for q in quotas),
        "backups": backups,
        "quotas": [{"specialty": s, "level": lv, "count": n} for s, lv, n in quotas],
        "projects": projects
        or [
            {"id": "P1", "persons": ["p-a1"], "businesses": ["b-a1"], "employers": [], "districts": [500102]}
        ],
        "staff": staff or [],
    }


def inputs(
    ev: dict[str, Any],
    pool: list[dict[str, Any]],
    *,
    history: list[dict[str, Any]] | None = None,
    rules: dict[str, Any] | None = None,
    parties: tuple[str, ...] = ("organiser", "supervisor"),
    public_value_source: str | None = None,
    salt: str = "",
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    secrets = {p: secret_of(f"{ev['id']}:{p}:{salt}") for p in parties}
    inp = {
        "event": ev,
        "rules": dict(rules or RULES),
        "pool": pool,
        "history": history or [],
        "commitments": [{"party": p, "commitment": D.commitment(ev["id"], p, s)} for p, s in secrets.items()],
        "public_value_source": public_value_source,
    }
    return inp, [{"party": p, "secret": s} for p, s in secrets.items()]
