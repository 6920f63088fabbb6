"""政策找人 over the database: load (DB → engine facts) against evaluate (the engine), SQLite and PostgreSQL.

A synthetic registry (``xiangchuang.synth``, normalised by ``tests.registry.factories.registry_tables``)
is bulk-inserted (Core ``insert()`` executemany, PII encrypted) into a SQLite file and into a PostgreSQL
schema. Then, per backend and fetch method, the best of ``--repeat`` runs of:

- load: ``registry.assembler.assemble_facts`` for the whole city (every table, one select each);
- evaluate: ``registry.matching.evaluate`` (the engine's assemble + all programs);
- a full ``run_match`` (load + evaluate + storing the run and its results, one transaction), once;
- the columnar facts snapshot (``registry.snapshot``): after a write (one UPDATE), the rebuild the next
  match pays (database read + writing the file); then the warm load (version check + reading the file)
  and evaluate over the loaded facts — the target is met on this warm path; ``run_match`` through it,
  and the largest district's snapshot.

For reference the same tables are written to Parquet and run through ``batchio.load_directory`` + the
engine. Target: load ≤ 3 × evaluate (met on the warm snapshot path; a cold load after a write is not).
Writes benchmarks/results/match_db.json and prints the figures.

    .venv/bin/python benchmarks/match_db_bench.py [--businesses 100000] [--seed 7] [--backends sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sqlalchemy import Engine, event, text, update  # noqa: E402
from tests.registry.factories import bulk_load, registry_tables  # noqa: E402

from xiangchuang import synth  # noqa: E402
from xiangchuang.batchio import load_directory  # noqa: E402
from xiangchuang.crypto import FieldCipher, generate_keyring  # noqa: E402
from xiangchuang.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from xiangchuang.dbmigrate import upgrade  # noqa: E402
from xiangchuang.engine.evaluate import run  # noqa: E402
from xiangchuang.engine.parameters import load_parameters  # noqa: E402
from xiangchuang.models import Business  # noqa: E402
from xiangchuang.registry.assembler import LoadStats, assemble_facts  # noqa: E402
from xiangchuang.registry.matching import evaluate, run_match  # noqa: E402
from xiangchuang.registry.pii import Pii  # noqa: E402
from xiangchuang.registry.snapshot import SnapshotStore  # noqa: E402

ON = dt.date(2025, 12, 31)
PG_URL = os.environ.get("XIANGCHUANG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_SCHEMA = "xc_match_bench"


def pg_engine(fresh: bool) -> Engine:
    base = make_engine(PG_URL)
    if fresh:
        with base.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{PG_SCHEMA}"'))
    base.dispose()
    engine = make_engine(PG_URL)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_conn: Any, _rec: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{PG_SCHEMA}"')
        cur.close()
        dbapi_conn.commit()

    return engine


def _touch_registry(engine: Engine) -> None:
    """One real write (an UPDATE of one business through Core): the next match must rebuild."""
    with engine.begin() as conn:
        conn.execute(update(Business).where(Business.id == 1).values(staff_count=Business.staff_count))


def measure_snapshot(engine: Engine, store: SnapshotStore, params: Any, repeat: int) -> dict[str, Any]:
    """The columnar facts snapshot: build after a write (the next match pays it once), warm load (version
    check + reading the file), evaluate over the loaded facts; the target is warm load ≤ 3 × evaluate."""
    workers = 2 if engine.dialect.name == "postgresql" else 1

    def facts_via_store() -> tuple[Any, Any, float, float]:
        with engine.connect() as conn, conn.begin():
            c0, t0 = time.process_time(), time.perf_counter()
            facts, use = store.facts(conn, on=ON, district=None, workers=workers)
            return facts, use, time.perf_counter() - t0, time.process_time() - c0

    builds: list[dict[str, float]] = []
    for _ in range(repeat):
        _touch_registry(engine)
        _, use, wall, cpu = facts_via_store()
        assert use.outcome == "built", use
        builds.append(
            {
                "total_s": wall,
                "check_s": use.check_seconds,
                "read_db_s": use.load_seconds,
                "write_file_s": use.save_seconds,
                "cpu_s": cpu,
            }
        )
    warm, warm_cpu, evals = [], [], []
    size = 0
    for _ in range(repeat + 2):
        facts, use, wall, cpu = facts_via_store()
        assert use.outcome == "snapshot", use
        size = use.bytes
        warm.append(wall)
        warm_cpu.append(cpu)
        t = time.perf_counter()
        evaluate(facts, on=ON, params=params)
        evals.append(time.perf_counter() - t)
    best_build = min(builds, key=lambda b: b["total_s"])
    best_warm, best_eval = min(warm), min(evals)
    out = {
        "file_mb": round(size / 1e6, 1),
        "build_after_write_s": {k: round(v, 3) for k, v in best_build.items()},
        "all_build_s": [round(b["total_s"], 3) for b in builds],
        "warm_load_s": round(best_warm, 4),
        "warm_load_cpu_s": round(min(warm_cpu), 4),
        "all_warm_load_s": [round(x, 4) for x in warm],
        "evaluate_s": round(best_eval, 4),
        "all_evaluate_s": [round(x, 4) for x in evals],
        "warm_load_over_evaluate": round(best_warm / best_eval, 2),
        "target_met": best_warm <= 3 * best_eval,
    }
    print(
        f"  snapshot: build after a write {best_build['total_s']:.2f}s (read {best_build['read_db_s']:.2f}s, "
        f"write {best_build['write_file_s']:.2f}s, {out['file_mb']} MB); warm load {best_warm:.3f}s "
        f"(CPU {min(warm_cpu):.3f}s) evaluate {best_eval:.3f}s ratio {best_warm / best_eval:.2f} "
        f"{'≤3× ✓' if out['target_met'] else '>3× ✗'}"
    )
    return out


def measure(engine: Engine, methods: list[str], repeat: int, store: SnapshotStore) -> dict[str, Any]:
    params = load_parameters()
    out: dict[str, Any] = {}
    for variant in methods:
        method, _, workers = variant.partition("/")  # "columns/2": two connections on one snapshot
        if workers and engine.dialect.name != "postgresql":
            continue
        loads, evals, rows_methods = [], [], {}
        for _ in range(repeat):
            with engine.connect() as conn, conn.begin():
                stats = LoadStats()
                facts = assemble_facts(
                    conn,
                    on=ON,
                    district=None,
                    method=method,  # type: ignore[arg-type]
                    workers=int(workers or 1),
                    stats=stats,
                )
            t = time.perf_counter()
            evaluate(facts, on=ON, params=params)
            evals.append(time.perf_counter() - t)
            loads.append(stats.seconds)
            rows_methods = {"rows": stats.rows, "methods": stats.methods, "connections": stats.connections}
        best_load, best_eval = min(loads), min(evals)
        out[variant] = {
            "load_s": round(best_load, 3),
            "evaluate_s": round(best_eval, 3),
            "load_over_evaluate": round(best_load / best_eval, 2),
            "target_met": best_load <= 3 * best_eval,
            "all_load_s": [round(x, 3) for x in loads],
            "all_evaluate_s": [round(x, 3) for x in evals],
            **rows_methods,
        }
        print(
            f"  {variant:10s} load {best_load:6.2f}s  evaluate {best_eval:6.2f}s  "
            f"ratio {best_load / best_eval:4.2f}  {'≤3× ✓' if best_load <= 3 * best_eval else '>3× ✗'}"
        )
    out["snapshot"] = measure_snapshot(engine, store, params, repeat)
    with transaction(make_sessionmaker(engine)) as session:
        report = run_match(session=session, on=ON, district=None, params=params)
    out["run_match"] = {
        "load_s": round(report.load_seconds, 3),
        "evaluate_s": round(report.evaluate_seconds, 3),
        "store_s": round(report.store_seconds, 3),
        "results_stored": report.run.results,
    }
    print(
        f"  run_match: load {report.load_seconds:.2f}s evaluate {report.evaluate_seconds:.2f}s "
        f"store {report.store_seconds:.2f}s ({report.run.results:,} results)"
    )
    with engine.begin() as conn:
        district = conn.execute(
            text("SELECT district FROM businesses GROUP BY district ORDER BY count(*) DESC")
        ).first()
    if district is not None:
        with engine.connect() as conn, conn.begin():
            stats = LoadStats()
            facts = assemble_facts(conn, on=ON, district=int(district[0]), stats=stats)
        t = time.perf_counter()
        evaluate(facts, on=ON, params=params)
        ev = time.perf_counter() - t
        warm = []
        for _ in range(repeat + 1):
            with engine.connect() as conn, conn.begin():
                t = time.perf_counter()
                _, use = store.facts(conn, on=ON, district=int(district[0]))
                warm.append((time.perf_counter() - t, use.outcome))
        warm_s = min(w for w, o in warm if o == "snapshot")
        out["largest_district"] = {
            "district": int(district[0]),
            "businesses": facts.tables["businesses"].n,
            "load_s": round(stats.seconds, 3),
            "snapshot_warm_load_s": round(warm_s, 4),
            "evaluate_s": round(ev, 3),
        }
        print(
            f"  district {district[0]} ({facts.tables['businesses'].n:,} businesses): "
            f"load {stats.seconds:.2f}s (snapshot warm {warm_s:.3f}s) evaluate {ev:.3f}s"
        )
    with transaction(make_sessionmaker(engine)) as session:
        report = run_match(session=session, on=ON, district=None, params=params, snapshots=store)
    assert report.snapshot is not None
    out["run_match_snapshot"] = {
        "snapshot": report.snapshot.outcome,
        "load_s": round(report.load_seconds, 3),
        "evaluate_s": round(report.evaluate_seconds, 3),
        "store_s": round(report.store_seconds, 3),
        "results_stored": report.run.results,
    }
    print(
        f"  run_match (snapshot {report.snapshot.outcome}): load {report.load_seconds:.3f}s "
        f"evaluate {report.evaluate_seconds:.2f}s store {report.store_seconds:.2f}s"
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--businesses", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument(
        "--methods", default="columns,rows,columns/2", help="columns/2: two connections (PostgreSQL)"
    )
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help=f"keep the PostgreSQL schema {PG_SCHEMA}")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "match_db.json")
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="match_db_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    methods = args.methods.split(",")

    t = time.perf_counter()
    tables = registry_tables(synth.generate(args.businesses, args.seed), ON)
    rows = {k: v.num_rows for k, v in tables.items()}
    print(f"synth {args.businesses:,} businesses: {time.perf_counter() - t:.1f}s  {rows}")
    key_path = work / "keyring.json"
    if key_path.exists():
        key_path.unlink()
    pii = Pii(FieldCipher(generate_keyring(key_path)))

    result: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
        },
        "data": {"businesses": args.businesses, "seed": args.seed, "on": ON.isoformat(), "rows": rows},
        "target": "load (DB → facts) ≤ 3 × evaluate (engine)",
        "target_status": (
            "met on the warm path only: when the registry has not changed since the last match, the facts "
            "come from the columnar facts snapshot (snapshot.warm_load_s: version check + reading the file); "
            "the first match after any write to a table the assembler reads pays a rebuild "
            "(snapshot.build_after_write_s: the cold load plus writing the file), as does the first match "
            "of a new evaluation date or district; the cold load itself (columns, rows, columns/2) is "
            "unchanged and still far above 3 × evaluate"
        ),
        "backends": {},
    }

    files = work / "files"
    synth.write(tables, files)
    params = load_parameters()
    t = time.perf_counter()
    facts, _ = load_directory(files)
    t1 = time.perf_counter()
    run(facts, ON, params)
    t2 = time.perf_counter()
    result["files_reference"] = {"load_s": round(t1 - t, 3), "evaluate_s": round(t2 - t1, 3)}
    print(f"files (Parquet, batchio): load {t1 - t:.2f}s evaluate {t2 - t1:.2f}s")

    for backend in args.backends.split(","):
        if backend == "sqlite":
            path = work / "registry.db"
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            engine = make_engine(f"sqlite:///{path}")
        elif backend == "postgresql":
            engine = pg_engine(fresh=True)
        else:
            raise SystemExit(f"unknown backend {backend}")
        upgrade(engine)
        t = time.perf_counter()
        with engine.begin() as conn:
            inserted = bulk_load(conn, tables, pii, ON)
        insert_s = time.perf_counter() - t
        if backend == "postgresql":
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
        print(f"{backend}: bulk insert {insert_s:.1f}s ({sum(inserted.values()):,} rows)")
        figures = measure(engine, methods, args.repeat, SnapshotStore(work / f"facts-snapshots-{backend}"))
        figures["bulk_insert_s"] = round(insert_s, 1)
        figures["inserted"] = inserted
        result["backends"][backend] = figures
        engine.dispose()
        if backend == "postgresql" and not args.keep:
            cleanup = make_engine(PG_URL)
            with cleanup.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{PG_SCHEMA}" CASCADE'))
            cleanup.dispose()

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"→ {args.out}")


if __name__ == "__main__":
    main()
