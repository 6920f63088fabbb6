"""Mentor draw benchmark: one draw over 10,000 mentors (target < 100 ms on one core).

Measured per repetition (fresh inputs each time, the same work the service does at draw time):

* **draw** — ``draw.run``: validate and normalize the inputs, canonical JSON and SHA-256 of the inputs,
  verify the reveals against the commitments, derive the seed, recusal and caps for every mentor, one
  HMAC ticket per eligible mentor, sort, select, backups; returns the manifest;
* **verify** — ``draw.verify`` of that manifest (a full re-run plus canonical JSON of both manifests);
* **core** — recusal, tickets and selection alone (``draw._draw`` on normalized inputs).

Pool: 10,000 mentors over 10 specialties × 2 levels, each with one declared relation and one
involvement; 200 history entries; 4 projects; quotas 3 + 2 + 2 with 2 backups per stratum.

    python benchmarks/draw_bench.py [--mentors 10000] [--repeat 15]

Prints the figures and writes benchmarks/results/draw.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src" / "xiangchuang" / "mentors"))

import draw as D  # noqa: E402  (the standalone module: no package import cost)


def make_inputs(n: int, salt: int) -> tuple[dict[str, Any], list[dict[str, str]]]:
    pool = []
    for i in range(n):
        pool.append(
            {
                "mentor": f"m-{i:016x}",
                "person": f"p-{i:016x}",
                "specialty": D.SPECIALTIES[i % 10],
                "level": D.LEVELS[(i // 10) % 2],
                "employer": f"b-{i % 700:016x}",
                "district": 500101 + i % 38,
                "available": i % 23 != 0,
                "relations": [{"person": f"p-{(i * 7919) % (n * 3):016x}", "relation": "spouse"}],
                "involvements": [
                    {"party": f"b-{(i * 31) % 900:016x}", "kind": "advised", "date": f"20{19 + i % 6}-03-01"}
                ],
            }
        )
    history = [
        {
            "event": f"H{k}",
            "date": (dt.date(2024, 6, 1) - dt.timedelta(days=k * 2)).isoformat(),
            "mentors": [f"m-{(k * 37 + j) % n:016x}" for j in range(5)],
            "applicants": [f"b-{k % 900:016x}"],
        }
        for k in range(200)
    ]
    projects = [
        {
            "id": f"P{j}",
            "persons": [f"p-{j * 11:016x}"],
            "businesses": [f"b-{j * 13:016x}"],
            "employers": [],
            "districts": [500101 + j],
        }
        for j in range(4)
    ]
    ev = {
        "id": f"E-BENCH-{salt}",
        "kind": "competition_final",
        "date": "2024-06-10",
        "earliest_draw_time": None,
        "panel_size": 7,
        "backups": 2,
        "quotas": [
            {"specialty": "agriculture", "level": "city", "count": 3},
            {"specialty": "ecommerce", "level": "district", "count": 2},
            {"specialty": "finance", "level": "city", "count": 2},
        ],
        "projects": projects,
        "staff": [],
    }
    secrets = {p: D.make_secret() for p in ("organiser", "supervisor")}
    inputs = {
        "event": ev,
        "rules": {
            "involvement_years": 3,
            "max_draws_12_months": 6,
            "max_per_applicant_year": 1,
            "cool_down_days": 30,
            "recuse_same_district": False,
            "min_final_panel": 5,
            "required_parties": ["organiser", "supervisor"],
        },
        "pool": pool,
        "history": history,
        "commitments": [{"party": p, "commitment": D.commitment(ev["id"], p, s)} for p, s in secrets.items()],
        "public_value_source": None,
    }
    return inputs, [{"party": p, "secret": s} for p, s in secrets.items()]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mentors", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    wall: dict[str, list[float]] = {"draw": [], "verify": [], "core": []}
    cpu: dict[str, list[float]] = {"draw": [], "verify": [], "core": []}
    man: dict[str, Any] = {}

    def timed(name: str, fn: Any) -> Any:
        w, c = time.perf_counter(), time.thread_time()
        out = fn()
        cpu[name].append(time.thread_time() - c)
        wall[name].append(time.perf_counter() - w)
        return out

    for r in range(args.repeat):
        inputs, reveals = make_inputs(args.mentors, r)
        man = timed("draw", lambda: D.run(inputs, reveals))  # noqa: B023
        assert timed("verify", lambda: D.verify(man).ok)  # noqa: B023
        seed = bytes.fromhex(man["result"]["seed"])
        timed("core", lambda: D._draw(man["inputs"], seed, []))  # noqa: B023
    res = man["result"]
    out = {
        "date": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "pinned_to_one_core": hasattr(os, "sched_setaffinity"),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "data": {
            "mentors": args.mentors,
            "history": 200,
            "projects": 4,
            "panel": len(res["panel"]),
            "excluded_in_requested_strata": len(res["excluded"]),
            "eligible_per_stratum": {s["specialty"] + "/" + s["level"]: s["eligible"] for s in res["strata"]},
            "repeat": args.repeat,
        },
        "note": "wall = perf_counter; cpu = thread_time of the benchmark thread (the machine is shared, "
        "so wall time includes waiting for the core)",
        "results_ms": {
            name: {
                kind: {
                    "median": round(statistics.median(xs) * 1000, 2),
                    "min": round(min(xs) * 1000, 2),
                    "max": round(max(xs) * 1000, 2),
                }
                for kind, xs in (("wall", wall[name]), ("cpu", cpu[name]))
            }
            for name in ("draw", "verify", "core")
        },
        "target_ms": {"draw": 100},
    }
    out["meets_target"] = {
        "wall_median": out["results_ms"]["draw"]["wall"]["median"] < 100,
        "cpu_median": out["results_ms"]["draw"]["cpu"]["median"] < 100,
    }
    path = ROOT / "benchmarks" / "results" / "draw.json"
    path.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for name, v in out["results_ms"].items():
        for kind in ("wall", "cpu"):
            x = v[kind]
            print(
                f"{name:7s} {kind:4s} median {x['median']:8.2f} ms  (min {x['min']:.2f}, max {x['max']:.2f})"
            )
    met = out["meets_target"]
    print(
        f"目标：一次抽取 < 100 ms —— 墙钟中位数{'达到' if met['wall_median'] else '未达到'}，"
        f"CPU 中位数{'达到' if met['cpu_median'] else '未达到'}；结果写入 {path}"
    )


if __name__ == "__main__":
    main()
