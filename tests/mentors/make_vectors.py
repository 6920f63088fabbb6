"""Write the published test vectors: ``python -m tests.mentors.make_vectors`` (deterministic secrets).

Each vector is a complete manifest. tests/mentors/test_vectors.py checks that the package and the
standalone verifier both reproduce every vector byte for byte, and that regenerating gives the same files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.mentors.builders import RULES, event, inputs, mentor
from xiangchuang.mentors import draw as D

VECTORS = Path(__file__).parent / "vectors"


def _basic() -> dict[str, Any]:
    pool = [mentor(i, "agriculture", "city", employer=f"b-e{i % 4}") for i in range(12)]
    pool += [mentor(100 + i, "ecommerce", "district", district=500101 + i % 3) for i in range(8)]
    projects = [
        {
            "id": "P1",
            "persons": ["p-a1", "p-a2"],
            "businesses": ["b-a1"],
            "employers": ["b-e1"],
            "districts": [500102],
        },
        {"id": "P2", "persons": ["p-a3"], "businesses": ["b-a2"], "employers": [], "districts": [500103]},
    ]
    pool[3]["relations"] = [{"person": "p-a2", "relation": "spouse"}]
    pool[5]["involvements"] = [{"party": "b-a2", "kind": "invested", "date": "2022-01-15"}]
    pool[6]["involvements"] = [{"party": "b-a2", "kind": "advised", "date": "2020-01-15"}]  # > 3 years
    pool[7]["available"] = False
    ev = event(
        [("agriculture", "city", 3), ("ecommerce", "district", 2)],
        kind="competition_final",
        projects=projects,
        staff=["p-m00008"],
    )
    ev["earliest_draw_time"] = "2024-06-06T09:00:00+08:00"
    history = [
        {"event": "E2024-000", "date": "2024-05-20", "mentors": ["m00009"], "applicants": ["b-x"]},
        {"event": "E2023-050", "date": "2023-09-01", "mentors": ["m00010"], "applicants": ["p-a3"]},
    ]
    inp, rev = inputs(ev, pool, history=history)
    return D.run(inp, rev)


def _public_value_declines() -> dict[str, Any]:
    pool = [mentor(i, "finance", "district") for i in range(6)]
    pool += [mentor(50 + i, "law", "city") for i in range(4)]
    ev = event([("finance", "district", 2), ("law", "city", 1)], eid="E2024-002", backups=1)
    inp, rev = inputs(ev, pool, public_value_source="2024-06-06 福彩3D开奖号码")
    first = D.run(inp, rev, public_value="381")
    law = next(p["mentor"] for p in first["result"]["panel"] if p["stratum"] == "law/city")
    law_backup = first["result"]["backups"]["law/city"][0]
    declines = [
        {"mentor": law, "at": "2024-06-08T09:00:00+08:00"},
        {"mentor": law_backup, "at": "2024-06-08T11:00:00+08:00"},  # the seated backup declines too
    ]
    return D.run(inp, rev, public_value="381", declines=declines)


def _failed() -> dict[str, Any]:
    pool = [mentor(i, "technology", "city", employer="b-a1" if i < 3 else None) for i in range(5)]
    ev = event([("technology", "city", 3)], eid="E2024-003", backups=1)
    inp, rev = inputs(ev, pool)
    return D.run(inp, rev)


def _caps() -> dict[str, Any]:
    pool = [mentor(i, "marketing", "city", district=500101 + i % 2) for i in range(10)]
    rules = dict(RULES, recuse_same_district=True)
    ev = event([("marketing", "city", 1)], eid="E2024-004", backups=1)
    history = [
        {"event": f"H{j}", "date": f"2024-0{1 + j % 4}-0{1 + j % 5}", "mentors": ["m00002"], "applicants": []}
        for j in range(6)
    ]
    history.append({"event": "H9", "date": "2023-12-01", "mentors": ["m00004"], "applicants": ["p-a1"]})
    inp, rev = inputs(ev, pool, history=history, rules=rules)
    return D.run(inp, rev)


BUILDERS = {
    "basic_final": _basic,
    "public_value_declines": _public_value_declines,
    "failed_stratum_short": _failed,
    "caps_and_district": _caps,
}


def render(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def main() -> None:
    VECTORS.mkdir(exist_ok=True)
    for name, build in BUILDERS.items():
        (VECTORS / f"{name}.json").write_text(render(build()), encoding="utf-8")


if __name__ == "__main__":
    main()
