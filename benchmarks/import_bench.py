"""Import benchmark: 100,000 persons, 50,000 businesses, their employments and 1,000,000 monthly
contributions, from Parquet files in the import format, on SQLite (file) and PostgreSQL.

Side by side in the same run, per backend and in fresh databases:

* **import** — ``xiangchuang import`` for each kind (one transaction per file, as the command does):
  read, validate every row, resolve references, encrypt personal data, classify against stored rows,
  bulk upsert, log the batch;
* **re-import** — the same files again (every row unchanged: what an idempotent upsert costs);
* **baseline** — the same final rows, prepared before the clock starts (references resolved, personal
  data already encrypted), written the plainest way: SQLite ``executemany`` of plain INSERTs,
  PostgreSQL ``COPY`` into the same tables. The time to prepare them (no validation) is reported apart.

Each measurement runs in its own process, so peak RSS is its own. With ``--tracking both`` (default) all
three run twice per backend: on a schema migrated to the revision before the facts snapshot's
change-tracking triggers (0022) and at head (0025: a trigger on every table the facts assembler reads),
and ``change_tracking_cost`` is the ratio of the two. Writes benchmarks/results/import.json.

    python benchmarks/import_bench.py [--persons 100000] [--businesses 50000] [--contributions 1000000]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--skip-pg] [--tracking both|on|off]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("persons", "businesses", "employments", "contributions")
SCHEMA = "xc_import_bench"
# The schema revision the workers migrate to: "head", or WITHOUT_TRACKING (the revision before the facts
# snapshot's change-tracking triggers, migration 0025) to measure what the triggers cost.
WITHOUT_TRACKING = "0022"
REVISION = ["head"]
END_MONTH = 2026 * 12 + 8  # 2026-09 as months since year 0 (contributions run up to here)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- data --------------------------------------------------------------------------------------------


def ensure_data(persons: int, businesses: int, contributions: int, seed: int) -> Path:
    """Parquet files in the import format (English column names), generated once from synth data."""
    out = ROOT / "benchmarks" / "data" / f"import-{persons}-{businesses}-{contributions}-{seed}"
    if all((out / f"{k}.parquet").exists() for k in KINDS):
        return out
    from xiangchuang import synth
    from xiangchuang.registry.demo_data import import_tables, split_employer_fen

    t0 = time.perf_counter()
    tables = import_tables(synth.generate(businesses, seed), seed)
    p = tables["persons"]
    if p.num_rows < persons:
        raise SystemExit(f"合成数据只有 {p.num_rows} 名人员，少于 {persons}")
    p = p.slice(0, persons)  # the founders first, then employees
    kept = pa.array(p.column("person_no").to_pylist())
    b = tables["businesses"].slice(0, businesses)
    e = tables["employments"]
    e = e.filter(
        pc.and_(
            pc.is_in(e.column("person_no"), kept), pc.is_in(e.column("business_no"), b.column("business_no"))
        )
    )
    # Monthly contributions: every employment from its hire month to 2026-09, sampled down to the target.
    hire = (
        e.column("hire_date").to_numpy(zero_copy_only=False).astype("datetime64[M]").astype(np.int64)
        + 1970 * 12
    )
    months = np.maximum(END_MONTH - hire + 1, 0)
    if months.sum() < contributions:
        raise SystemExit(f"用工记录只能产生 {months.sum()} 行缴费，少于 {contributions}")
    rng = np.random.default_rng(seed)
    owner = np.repeat(np.arange(e.num_rows), months)
    start = np.repeat(np.cumsum(months) - months, months)
    month = hire[owner] + (np.arange(owner.size) - start)
    pick = np.sort(rng.choice(owner.size, size=contributions, replace=False))
    owner, month = owner[pick], month[pick]
    base = rng.integers(3000, 9001, e.num_rows) * 100 * 268 // 1000  # 26.8 % of a 3,000–9,000 yuan wage
    total = pa.array(base[owner])
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in month]
    c = pa.table(
        {
            "employment_no": pc.take(e.column("employment_no"), pa.array(owner)),
            "month": pa.array(labels, type=pa.string()),
            **split_employer_fen(total),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    for name, t in (("persons", p), ("businesses", b), ("employments", e), ("contributions", c)):
        pq.write_table(t, out / f"{name}.parquet")
    print(
        f"数据：人员 {p.num_rows:,}，经营主体 {b.num_rows:,}，用工 {e.num_rows:,}，缴费 {c.num_rows:,}"
        f"（生成 {time.perf_counter() - t0:.1f}s）→ {out}",
        flush=True,
    )
    return out


# ---- databases ---------------------------------------------------------------------------------------


def fresh_engine(backend: str, workdir: Path, pg_url: str) -> Any:
    from sqlalchemy import event, text

    from xiangchuang.db import make_engine
    from xiangchuang.dbmigrate import upgrade

    if backend == "sqlite":
        db = workdir / "bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db}")
    else:
        base = make_engine(pg_url)
        with base.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
        base.dispose()
        engine = make_engine(pg_url)

        @event.listens_for(engine, "connect")
        def _path(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f'SET search_path TO "{SCHEMA}"')
            cur.close()
            dbapi_conn.commit()

    upgrade(engine, REVISION[0])
    return engine


def attach_engine(backend: str, workdir: Path, pg_url: str) -> Any:
    from sqlalchemy import event

    from xiangchuang.db import make_engine

    if backend == "sqlite":
        return make_engine(f"sqlite:///{workdir / 'bench.db'}")
    engine = make_engine(pg_url)

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn: Any, _rec: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{SCHEMA}"')
        cur.close()
        dbapi_conn.commit()

    return engine


def table_counts(engine: Any) -> dict[str, int]:
    from sqlalchemy import text

    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
            for t in ("persons", "person_groups", "businesses", "employments", "contributions")
        }


# ---- workers (each in its own process) ---------------------------------------------------------------


def worker_import(
    backend: str, data: Path, workdir: Path, pg_url: str, keyring: Path, fresh: bool
) -> dict[str, Any]:
    from xiangchuang.crypto import FieldCipher, KeyRing
    from xiangchuang.registry.importer import import_file
    from xiangchuang.registry.pii import Pii

    pii = Pii(FieldCipher(KeyRing.load(None, keyring)))
    engine = fresh_engine(backend, workdir, pg_url) if fresh else attach_engine(backend, workdir, pg_url)
    per_kind: dict[str, Any] = {}
    t0 = time.perf_counter()
    for kind in KINDS:
        t = time.perf_counter()
        with engine.begin() as conn:
            res = import_file(conn, kind=kind, path=data / f"{kind}.parquet", pii=pii)
        if not res.ok or res.rejected:
            raise SystemExit(f"{kind}: {res.status}, {res.rejected} rejected: {res.errors[:3]}")
        per_kind[kind] = {
            "seconds": round(time.perf_counter() - t, 3),
            "rows": res.total,
            "inserted": res.inserted,
            "updated": res.updated,
            "unchanged": res.unchanged,
        }
    total = time.perf_counter() - t0
    out = {
        "seconds": round(total, 3),
        "kinds": per_kind,
        "peak_rss_mb": round(rss_mb(), 1),
        "counts": table_counts(engine),
    }
    engine.dispose()
    return out


def _prepare_rows(engine: Any, data: Path, pii: Any) -> dict[str, pa.Table]:
    """The final rows of each table, as the import stores them (no validation)."""
    from sqlalchemy import text

    from xiangchuang.registry.pii import BANK_FIELD, ID_FIELD, PHONE_FIELD

    cipher = pii.cipher
    p = pq.read_table(data / "persons.parquet")
    ids = p.column("id_number").to_pylist()
    phones = ["+86" + x if x else None for x in p.column("phone").to_pylist()]
    banks = p.column("bank_account").to_pylist()
    bidx = [cipher.blind_index(x, ID_FIELD) for x in ids]
    persons = pa.table(
        {
            "person_no": p.column("person_no"),
            "name": p.column("name"),
            "id_number_enc": pa.array([cipher.encrypt(x, ID_FIELD) for x in ids], pa.binary()),
            "id_number_bidx": pa.array(bidx, pa.string()),
            "phone_enc": pa.array(
                [cipher.encrypt(x, PHONE_FIELD) if x else None for x in phones], pa.binary()
            ),
            "phone_bidx": pa.array(
                [cipher.blind_index(x, PHONE_FIELD) if x else None for x in phones], pa.string()
            ),
            "bank_account_enc": pa.array(
                [cipher.encrypt(x, BANK_FIELD) if x else None for x in banks], pa.binary()
            ),
            "birth_date": p.column("birth_date"),
            "gender": p.column("gender"),
            "hukou_district": pc.cast(p.column("hukou_district"), pa.int64()),
            "graduation_date": p.column("graduation_date"),
            "returning_entrepreneur": p.column("returning_entrepreneur"),
            "startup_intention": p.column("startup_intention"),
            "second_time_founder_stable": p.column("second_time_founder_stable"),
            "holds_free_workstation": p.column("holds_free_workstation"),
        }
    )
    pid = {no: i + 1 for i, no in enumerate(p.column("person_no").to_pylist())}
    groups_pid: list[int] = []
    groups_code: list[str] = []
    for no, gs in zip(p.column("person_no").to_pylist(), p.column("groups").to_pylist(), strict=True):
        for g in gs or []:
            groups_pid.append(pid[no])
            groups_code.append(g)
    person_groups = pa.table(
        {"person_id": pa.array(groups_pid, pa.int64()), "group_code": pa.array(groups_code)}
    )
    b = pq.read_table(data / "businesses.parquet")
    businesses = pa.table(
        {
            "business_no": b.column("business_no"),
            "uscc": b.column("uscc"),
            "name": b.column("name"),
            "kind": b.column("kind"),
            "size_class": b.column("size_class"),
            "registration_date": b.column("registration_date"),
            "district": pc.cast(b.column("district"), pa.int64()),
            "industry": b.column("industry"),
            "status": b.column("status"),
            "founded_by_returning": b.column("founded_by_returning"),
            "staff_count": b.column("staff_count"),
            "new_eligible_hires": b.column("new_eligible_hires"),
            "workshop_recognised": b.column("workshop_recognised"),
            "workshop_employed": b.column("workshop_employed"),
            "workshop_new_build": b.column("workshop_new_build"),
            "workshop_build_cost_fen": b.column("workshop_build_cost_fen"),
        }
    )
    bid = {no: i + 1 for i, no in enumerate(b.column("business_no").to_pylist())}
    e = pq.read_table(data / "employments.parquet")
    employments = pa.table(
        {
            "employment_no": e.column("employment_no"),
            "business_id": pa.array([bid[x] for x in e.column("business_no").to_pylist()], pa.int64()),
            "person_id": pa.array([pid[x] for x in e.column("person_no").to_pylist()], pa.int64()),
            "hire_date": e.column("hire_date"),
            "contract": e.column("contract"),
        }
    )
    eid = {no: i + 1 for i, no in enumerate(e.column("employment_no").to_pylist())}
    c = pq.read_table(data / "contributions.parquet")
    month = c.column("month").to_pylist()
    contributions = pa.table(
        {
            "employment_id": pa.array([eid[x] for x in c.column("employment_no").to_pylist()], pa.int64()),
            "month": pa.array([int(m[:4]) * 100 + int(m[5:]) for m in month], pa.int64()),
            **{n: c.column(n) for n in c.column_names if n.endswith("_fen")},
        }
    )
    _ = text
    return {
        "persons": persons,
        "person_groups": person_groups,
        "businesses": businesses,
        "employments": employments,
        "contributions": contributions,
    }


def worker_baseline(backend: str, data: Path, workdir: Path, pg_url: str, keyring: Path) -> dict[str, Any]:
    from xiangchuang.crypto import FieldCipher, KeyRing
    from xiangchuang.registry.pii import Pii

    pii = Pii(FieldCipher(KeyRing.load(None, keyring)))
    engine = fresh_engine(backend, workdir, pg_url)
    t = time.perf_counter()
    rows = _prepare_rows(engine, data, pii)
    prep = time.perf_counter() - t
    per_table: dict[str, float] = {}
    t0 = time.perf_counter()
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        for name, table in rows.items():
            t = time.perf_counter()
            cols = table.column_names
            collist = ", ".join(f'"{c}"' for c in cols)
            if backend == "sqlite":
                values = []
                for col in table.columns:
                    if pa.types.is_date32(col.type):
                        col = pc.cast(col, pa.string())
                    values.append(col.to_pylist())
                sql = f'INSERT INTO "{name}" ({collist}) VALUES ({", ".join("?" for _ in cols)})'
                cur = dbapi.cursor()
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany(sql, list(zip(*values, strict=True)))
                cur.execute("COMMIT")
                cur.close()
            else:
                for i, f in enumerate(table.schema):
                    if pa.types.is_binary(f.type):
                        hexed = [None if v is None else "\\x" + v.hex() for v in table.column(i).to_pylist()]
                        table = table.set_column(i, f.name, pa.array(hexed, pa.string()))
                buf = io.BytesIO()
                pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
                with (
                    dbapi.cursor() as cur,
                    cur.copy(f'COPY "{name}" ({collist}) FROM STDIN (FORMAT csv)') as cp,
                ):
                    cp.write(buf.getvalue())
                dbapi.commit()
            per_table[name] = round(time.perf_counter() - t, 3)
    finally:
        raw.close()
    total = time.perf_counter() - t0
    out = {
        "seconds": round(total, 3),
        "prepare_seconds": round(prep, 3),
        "tables": per_table,
        "peak_rss_mb": round(rss_mb(), 1),
        "counts": table_counts(engine),
    }
    engine.dispose()
    return out


# ---- driver ------------------------------------------------------------------------------------------


def run_worker(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {args[:2]} failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--persons", type=int, default=100_000)
    ap.add_argument("--businesses", type=int, default=50_000)
    ap.add_argument("--contributions", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--skip-pg", action="store_true")
    ap.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "import.json")
    ap.add_argument(
        "--tracking",
        choices=("both", "on", "off"),
        default="both",
        help="change-tracking triggers (migration 0025): both = measure with and without, same run",
    )
    ap.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        role, backend, data, workdir, pg_url, keyring, revision = args.worker
        REVISION[0] = revision
        if role == "baseline":
            result = worker_baseline(backend, Path(data), Path(workdir), pg_url, Path(keyring))
        else:
            result = worker_import(
                backend, Path(data), Path(workdir), pg_url, Path(keyring), role == "import"
            )
        print(json.dumps(result))
        return

    from xiangchuang.crypto import generate_keyring

    data = ensure_data(args.persons, args.businesses, args.contributions, args.seed)
    rows = {k: pq.ParquetFile(data / f"{k}.parquet").metadata.num_rows for k in KINDS}
    backends = ["sqlite"] + ([] if args.skip_pg else ["postgresql"])
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="xc-import-bench-") as tmp:
        work = Path(tmp)
        keyring = work / "keyring.json"
        generate_keyring(keyring)
        for backend in backends:
            passes: dict[str, dict[str, Any]] = {}
            for tracking in ("off", "on") if args.tracking == "both" else (args.tracking,):
                revision = "head" if tracking == "on" else WITHOUT_TRACKING
                common = [backend, str(data), str(work), args.pg, str(keyring), revision]
                label = "" if tracking == "on" else "（无变更跟踪触发器）"
                print(f"[{backend}] 导入{label}……", flush=True)
                imp = run_worker(["import", *common])
                print(f"[{backend}] 重复导入（全部未变）{label}……", flush=True)
                again = run_worker(["reimport", *common])
                print(f"[{backend}] 基线{label}……", flush=True)
                base = run_worker(["baseline", *common])
                ratio = imp["seconds"] / base["seconds"]
                passes[tracking] = {
                    "import": imp,
                    "reimport": again,
                    "baseline": base,
                    "ratio_import_to_baseline": round(ratio, 2),
                    "ratio_import_to_baseline_with_preparation": round(
                        imp["seconds"] / (base["seconds"] + base["prepare_seconds"]), 2
                    ),
                    "targets": {
                        "within_3x_of_baseline": ratio <= 3.0,
                        "under_2_minutes": imp["seconds"] < 120.0,
                    },
                }
            main_pass = passes.get("on") or passes["off"]
            results[backend] = dict(main_pass, change_tracking=args.tracking != "off")
            if "on" in passes and "off" in passes:
                on, off = passes["on"], passes["off"]
                results[backend]["without_change_tracking"] = off
                results[backend]["change_tracking_cost"] = {
                    k: round(on[k]["seconds"] / off[k]["seconds"], 3)
                    for k in ("import", "reimport", "baseline")
                }
        if "postgresql" in backends:
            from sqlalchemy import text

            from xiangchuang.db import make_engine

            cleanup = make_engine(args.pg)
            with cleanup.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
            cleanup.dispose()
    doc = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": __import__("os").cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "sqlite": __import__("sqlite3").sqlite_version,
        },
        "data": {"rows": rows, "source": str(data.relative_to(ROOT))},
        "results": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print()
    print(f"行数：{', '.join(f'{k} {v:,}' for k, v in rows.items())}")
    print(
        f"{'':12}{'导入':>10}{'重复导入':>10}{'基线':>10}{'基线准备':>10}{'倍数':>8}{'峰值RSS(导入/基线)':>22}"
    )
    for backend, r in results.items():
        print(
            f"{backend:12}{r['import']['seconds']:>9.1f}s{r['reimport']['seconds']:>9.1f}s"
            f"{r['baseline']['seconds']:>9.1f}s{r['baseline']['prepare_seconds']:>9.1f}s"
            f"{r['ratio_import_to_baseline']:>7.2f}×"
            f"{r['import']['peak_rss_mb']:>12.0f} / {r['baseline']['peak_rss_mb']:.0f} MB"
        )
        for kind, k in r["import"]["kinds"].items():
            print(f"    {kind:16}{k['rows']:>10,} 行 {k['seconds']:>7.1f}s")
        if "without_change_tracking" in r:
            off = r["without_change_tracking"]
            cost = r["change_tracking_cost"]
            print(
                f"    无变更跟踪触发器：导入 {off['import']['seconds']:.1f}s，重复导入 {off['reimport']['seconds']:.1f}s，"
                f"基线 {off['baseline']['seconds']:.1f}s，倍数 {off['ratio_import_to_baseline']:.2f}×；"
                f"触发器使之变为 导入 ×{cost['import']}，重复导入 ×{cost['reimport']}，基线 ×{cost['baseline']}"
            )
    print(f"→ {args.output.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
