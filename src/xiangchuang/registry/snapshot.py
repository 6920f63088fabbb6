"""The columnar facts snapshot: a versioned cache of exactly what ``assembler.assemble_facts`` returns.

``match --from-db`` over 100,000 businesses reads ~2.7 million rows; even Parquet takes 0.8 s to load them,
against 0.05 s for the engine. The snapshot stores the engine's input tables as raw NumPy columns in one
file under the data directory (``facts-snapshots/``) and loads them in one read.

Never stale. Every write to a table the assembler reads (``SOURCE_TABLES``) is noted by a database trigger
(migration 0025: SQLite a random version per table, PostgreSQL one row per writing transaction and table
in ``facts_changes``). A snapshot is labelled with what it was read at — SQLite the versions, PostgreSQL
the transaction snapshot (``pg_current_snapshot()``, REPEATABLE READ: the label and the content are one
read) — and is used only when the label still describes the database as the caller's transaction sees
it. Otherwise it is rebuilt (the next match pays one load from the database plus the write of the file).
It is never used when a source table lacks its trigger, and the key holds everything else the content
depends on: the database's identity, the code that assembles the facts (a hash of its source), the
format version, the evaluation date ``on`` (the assembler resolves memberships, founders, tenancies,
ratings… in force on that date) and the district.

District: one snapshot per district, built by ``assemble_facts(district=…)`` itself. The district's scope
(its businesses, their founders and employees, tenancy carriers, every register row about them, its
on-job trainings and mentor services, and as context the other employments of its hired persons with
their contributions and employers) is defined once, in SQL (``repository.scope_sql``); filtering the
city-wide arrays in NumPy would be a second definition of it. A district's snapshot is small.

Atomic and checked: written to a temporary name, flushed to disk, then renamed; the header carries the
SHA-256 of the manifest and the manifest the size and SHA-256 of the data, so a truncated, corrupt or
foreign file is deleted and rebuilt, never trusted. Concurrent builders each write their own temporary
file; the rename is atomic, so a reader sees a whole file or none.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from xiangchuang.engine.assemble import Facts
from xiangchuang.engine.facts import Col, Table
from xiangchuang.registry.assembler import LoadStats, assemble_facts, context_rows
from xiangchuang.registry.repository import Method

FORMAT_VERSION: Final = 1
DIRNAME: Final = "facts-snapshots"  # under the data directory; a derived cache (not backed up)
SUFFIX: Final = ".facts"
MAGIC: Final = b"XCFACTS1"
_HEADER: Final = struct.Struct("<8sQ32s")  # magic, manifest length, SHA-256 of the manifest
_ALIGN: Final = 64
_SEP: Final = "\x1f"  # joins a text column (a column with a value holding it is stored as JSON)
KEEP_FILES: Final = 12  # snapshots kept (most recently written or used first)
PRUNE_ROWS: Final = 10_000  # PostgreSQL: prune facts_changes beyond this many rows
_CODE_MODULES: Final = (
    "xiangchuang.registry.assembler",
    "xiangchuang.registry.repository",
    "xiangchuang.registry.snapshot",
    "xiangchuang.engine.facts",
    "xiangchuang.engine.case",
)

# Every table the assembler reads (tests check this against the assembler's selects).
SOURCE_TABLES: Final = (
    "persons",
    "person_groups",
    "honours",
    "founders",
    "businesses",
    "recommendations",
    "credit_ratings",
    "tenancies",
    "business_years",
    "employments",
    "contributions",
    "carriers",
    "carrier_ratings",
    "grants",
    "training_enrolments",
    "training_classes",
    "training_courses",
    "onjob_trainings",
    "mentor_services",
    "mentors",
)

Outcome = Literal["snapshot", "built", "direct"]


@dataclass
class SnapshotUse:
    """How the facts were obtained (printed by the CLI, reported by the benchmark)."""

    outcome: Outcome  # snapshot: a fresh file was loaded; built: read from the database and saved; direct: read only
    reason: str  # Chinese: why it was (re)built or not used
    path: Path | None = None
    check_seconds: float = 0.0  # the version check (and key)
    load_seconds: float = 0.0  # reading the file (snapshot) or the database (built / direct)
    save_seconds: float = 0.0  # writing the file (built)
    bytes: int = 0

    @property
    def message(self) -> str:
        if self.outcome == "snapshot":
            return f"使用事实快照（{self.bytes / 1e6:.1f} MB，校验 {self.check_seconds * 1000:.0f} ms）"
        if self.outcome == "built":
            return f"已重建事实快照：{self.reason}（写入 {self.save_seconds:.2f}s）"
        return f"未使用事实快照：{self.reason}"


class SnapshotError(RuntimeError):
    """A snapshot file that cannot be read or does not match its checksums (it is then rebuilt)."""


# ---- change tracking ------------------------------------------------------------------------------


def _triggers_present(conn: Connection) -> bool:
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            text(
                "SELECT count(*) FROM unnest(CAST(:tables AS text[])) AS t WHERE EXISTS (SELECT 1 FROM pg_trigger "
                "WHERE tgrelid = to_regclass(t) AND tgname = 'facts_changes_' || t AND tgenabled <> 'D')"
            ),
            {"tables": list(SOURCE_TABLES)},
        ).scalar_one()
        return bool(
            int(found) == len(SOURCE_TABLES)
            and conn.execute(
                text(
                    "SELECT to_regclass('facts_changes') IS NOT NULL AND to_regclass('facts_horizon') IS NOT NULL"
                )
            ).scalar_one()
        )
    if conn.dialect.name == "sqlite":
        wanted = {f"facts_v_{t}_{e}" for t in SOURCE_TABLES for e in ("ins", "upd", "del")}
        wanted.add("facts_versions_keep")
        rows = conn.execute(text("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")).all()
        have = {
            name
            for name, table in rows
            if name in wanted and (name.startswith(f"facts_v_{table}_") or table == "facts_versions")
        }
        if have != wanted:
            return False
        return bool(
            conn.execute(
                text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'facts_versions'")
            ).scalar_one()
            == 1
        )
    return False


def _identity(conn: Connection) -> dict[str, Any]:
    """What tells this database apart from any other (or from itself restored from a backup)."""
    if conn.dialect.name == "postgresql":
        row = conn.execute(
            text(
                "SELECT current_database(), current_schema(), "
                "(SELECT oid FROM pg_database WHERE datname = current_database()), "
                "to_regclass('facts_changes')::oid, pg_postmaster_start_time()::text, "
                # a TRUNCATE of the tracking tables (a new file node) invalidates every snapshot
                "pg_relation_filenode('facts_changes'), pg_relation_filenode('facts_horizon'), "
                "coalesce(inet_server_addr()::text, ''), coalesce(inet_server_port(), 0)"
            )
        ).one()
        return {
            "dialect": "postgresql",
            "database": row[0],
            "schema": row[1],
            "database_oid": int(row[2]),
            "tracking_oid": int(row[3]),
            "server_started": row[4],
            "tracking_files": [int(row[5]), int(row[6])],
            "server": f"{row[7]}:{row[8]}",
        }
    path = conn.execute(text("SELECT file FROM pragma_database_list WHERE name = 'main'")).scalar_one()
    return {"dialect": "sqlite", "file": str(Path(path).resolve()) if path else ":memory:"}


def _sqlite_versions(conn: Connection) -> dict[str, int]:
    rows = conn.execute(text("SELECT table_name, version FROM facts_versions")).all()
    return {str(t): int(v) for t, v in rows}


def _sqlite_committed_versions(engine: Engine) -> dict[str, int] | None:
    """The versions as committed (a reader outside any transaction: WAL shows the last commit)."""
    raw = engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        if dbapi is None or getattr(dbapi, "in_transaction", True):
            return None
        cur = dbapi.execute("SELECT table_name, version FROM facts_versions")
        return {str(t): int(v) for t, v in cur.fetchall()}
    finally:
        raw.close()


# xid8 values as bigint (facts_changes.xid): CAST(CAST(x AS text) AS bigint), and back.
_XMIN: Final = "CAST(CAST(pg_snapshot_xmin(CAST(:s AS pg_snapshot)) AS text) AS bigint)"
_NOW_XMAX: Final = "CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS text) AS bigint)"
_OWN: Final = "CAST(CAST(pg_current_xact_id_if_assigned() AS text) AS bigint)"
_PG_FRESH: Final = text(
    # Nothing pruned that this label would need …
    f"SELECT coalesce((SELECT pruned_below FROM facts_horizon WHERE id = 1), 0) <= {_XMIN} "
    # … and no write visible to this statement (committed, or this transaction's own) that the labelled
    # snapshot did not see. A committed row with an xid at or past this statement's xmax comes from
    # another cluster (a restored dump): it cannot be a commit visible here.
    "AND NOT EXISTS (SELECT 1 FROM facts_changes "
    f"WHERE xid >= {_XMIN} AND (xid < {_NOW_XMAX} OR xid = {_OWN}) "
    "AND NOT pg_visible_in_snapshot(CAST(CAST(xid AS text) AS xid8), CAST(:s AS pg_snapshot))), "
    "current_setting('transaction_isolation'), "
    "pg_snapshot_xmax(CAST(:s AS pg_snapshot)) <= pg_snapshot_xmin(pg_current_snapshot())"
)


def _fresh(conn: Connection, token: Any, current: dict[str, int] | None) -> bool:
    """Does the label ``token`` describe the source tables as ``conn``'s transaction sees them?"""
    if conn.dialect.name == "sqlite":
        return current is not None and token == current
    unchanged, isolation, older = conn.execute(_PG_FRESH, {"s": str(token)}).one()
    if not unchanged:
        return False
    # READ COMMITTED: this statement's snapshot is newer than any file, so nothing in the file is too new.
    # An older transaction snapshot (REPEATABLE READ …) must not see commits it cannot see itself.
    return bool(isolation == "read committed" or older)


# ---- the store ------------------------------------------------------------------------------------


@cache
def _code_fingerprint() -> str:
    import importlib

    h = hashlib.sha256(str(FORMAT_VERSION).encode())
    for name in _CODE_MODULES:
        mod = importlib.import_module(name)
        source = getattr(mod, "__file__", None)
        h.update(name.encode())
        h.update(Path(source).read_bytes() if source and Path(source).is_file() else b"?")
    return h.hexdigest()[:16]


def _key(identity: dict[str, Any], on: dt.date, district: int | None) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "code": _code_fingerprint(),
        "db": identity,
        "on": on.isoformat(),
        "district": district,
    }


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


@dataclass
class SnapshotStore:
    """Snapshot files in ``root`` (normally ``<data directory>/facts-snapshots``)."""

    root: Path
    keep: int = KEEP_FILES
    last: SnapshotUse | None = field(default=None, repr=False)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SnapshotStore:
        return cls(data_dir / DIRNAME)

    # -- the one entry point ---------------------------------------------------------------------------

    def facts(
        self,
        conn_or_session: Connection | Session,
        *,
        on: dt.date,
        district: int | None,
        method: Method = "auto",
        workers: int | None = None,
        stats: LoadStats | None = None,
        rebuild: bool = False,
    ) -> tuple[Facts, SnapshotUse]:
        """``assemble_facts(…, on=on, district=district)`` as ``conn_or_session``'s transaction would read
        it: from a fresh snapshot, else read from the database (and saved when it can be labelled)."""
        stats = stats if stats is not None else LoadStats()
        conn = conn_or_session.connection() if isinstance(conn_or_session, Session) else conn_or_session
        t0 = time.perf_counter()
        facts, use = self._facts(conn, on, district, method, workers, stats, rebuild, t0)
        stats.seconds = time.perf_counter() - t0  # the whole load phase: check, read, save
        self.last = use
        return facts, use

    def _facts(
        self,
        conn: Connection,
        on: dt.date,
        district: int | None,
        method: Method,
        workers: int | None,
        stats: LoadStats,
        rebuild: bool,
        t0: float,
    ) -> tuple[Facts, SnapshotUse]:
        def direct(reason: str) -> tuple[Facts, SnapshotUse]:
            facts = assemble_facts(
                conn, on=on, district=district, method=method, workers=workers, stats=stats
            )
            return facts, SnapshotUse("direct", reason, check_seconds=t1 - t0, load_seconds=stats.seconds)

        t1 = t0
        if not _triggers_present(conn):
            t1 = time.perf_counter()
            return direct("数据库缺少变更跟踪触发器（请运行数据库迁移 0025）")
        key = _key(_identity(conn), on, district)
        key_id = _digest(key)
        current = _sqlite_versions(conn) if conn.dialect.name == "sqlite" else None
        reason = "按要求重建" if rebuild else "尚无该日期、范围的快照"
        if not rebuild:
            candidates = self._candidates(key_id, current)
            if not candidates and self.root.is_dir() and any(self.root.glob(f"{key_id}-*{SUFFIX}")):
                reason = "登记库自快照生成后有变动"
            for path in candidates:
                try:
                    manifest = read_manifest(path)
                except FileNotFoundError:  # removed by a concurrent builder meanwhile
                    continue
                except (OSError, SnapshotError):
                    _unlink(path)
                    reason = "快照文件损坏或不完整，已删除"
                    continue
                if manifest.get("key") != key:
                    reason = "快照与当前数据库或程序版本不符"
                    continue
                if not _fresh(conn, manifest["token"], current):
                    reason = "登记库自快照生成后有变动"
                    continue
                t1 = time.perf_counter()
                try:
                    facts, size = load(path, {"key": key, "token": manifest["token"]})
                except FileNotFoundError:
                    continue
                except (OSError, SnapshotError, ValueError):
                    _unlink(path)
                    reason = "快照文件损坏（校验不符），已删除"
                    continue
                t2 = time.perf_counter()
                _touch(path)
                stats.rows = {name: t.n for name, t in facts.tables.items()}
                stats.context = context_rows(facts.tables)
                stats.methods = dict.fromkeys(facts.tables, "snapshot")
                return facts, SnapshotUse("snapshot", "", path, t1 - t0, t2 - t1, bytes=size)
        t1 = time.perf_counter()
        if conn.dialect.name == "sqlite":
            assert current is not None
            engine = conn.engine
            if _sqlite_committed_versions(engine) != current:
                return direct("本事务中登记库有未提交的修改（不据此生成快照）")
            token: Any = current
            facts = assemble_facts(
                conn, on=on, district=district, method=method, workers=workers, stats=stats
            )
        else:
            token, facts = self._pg_build(conn.engine, on, district, method, workers, stats)
            if not _fresh(conn, token, None):
                # This transaction has its own uncommitted writes, or sees an older state: read it directly.
                return direct("本事务所见的登记库与刚生成的快照不一致（有未提交的修改或更早的事务快照）")
        t2 = time.perf_counter()
        path, size = self._save(key, key_id, token, facts)
        t3 = time.perf_counter()
        if conn.dialect.name == "postgresql":
            self._pg_prune(conn.engine, token)
        return facts, SnapshotUse("built", reason, path, t1 - t0, t2 - t1, t3 - t2, bytes=size)

    # -- building -----------------------------------------------------------------------------------

    @staticmethod
    def _pg_build(
        engine: Engine,
        on: dt.date,
        district: int | None,
        method: Method,
        workers: int | None,
        stats: LoadStats,
    ) -> tuple[str, Facts]:
        """Label and content in ONE read: a REPEATABLE READ, read-only transaction on its own connection."""
        with (
            engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            ) as c,
            c.begin(),
        ):
            token = str(c.execute(text("SELECT CAST(pg_current_snapshot() AS text)")).scalar_one())
            facts = assemble_facts(c, on=on, district=district, method=method, workers=workers, stats=stats)
        return token, facts

    @staticmethod
    def _pg_prune(engine: Engine, token: str) -> None:
        """Forget change rows older than this snapshot's xmin once there are many; snapshots labelled
        before the new horizon then count as stale (they are rebuilt, never trusted)."""
        with engine.connect() as c, c.begin():
            many = c.execute(
                text("SELECT count(*) > :n FROM (SELECT 1 FROM facts_changes LIMIT :m) AS x"),
                {"n": PRUNE_ROWS, "m": PRUNE_ROWS + 1},
            ).scalar_one()
            if not many:
                return
            c.execute(
                text(f"DELETE FROM facts_changes WHERE xid < {_XMIN} OR xid >= {_NOW_XMAX}"), {"s": token}
            )
            c.execute(
                text(
                    f"INSERT INTO facts_horizon (id, pruned_below) VALUES (1, {_XMIN}) ON CONFLICT (id) "
                    "DO UPDATE SET pruned_below = greatest(facts_horizon.pruned_below, excluded.pruned_below)"
                ),
                {"s": token},
            )

    # -- files ----------------------------------------------------------------------------------------

    def _candidates(self, key_id: str, current: dict[str, int] | None) -> list[Path]:
        if current is not None:  # SQLite: the label is known, so is the file name
            path = self.root / f"{key_id}-{_digest(current)}{SUFFIX}"
            return [path] if path.exists() else []
        if not self.root.is_dir():
            return []
        found = [p for p in self.root.glob(f"{key_id}-*{SUFFIX}") if p.is_file()]
        return sorted(found, key=_mtime, reverse=True)

    def _save(self, key: dict[str, Any], key_id: str, token: Any, facts: Facts) -> tuple[Path, int]:
        """Write the file under a temporary name, flush it to disk, rename it (atomic); returns the path
        and size (a concurrent builder may already have replaced or removed the file by then)."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self.root / f"{key_id}-{_digest(token)}{SUFFIX}"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=self.root)
        try:
            with os.fdopen(fd, "wb") as f:
                write(f, facts, {"key": key, "token": token})
                f.flush()
                os.fsync(f.fileno())
                size = f.tell()
            os.replace(tmp, final)
        except BaseException:
            _unlink(Path(tmp))
            raise
        with contextlib.suppress(OSError):
            dfd = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        self._tidy(key_id, final)
        return final, size

    def _tidy(self, key_id: str, keep: Path) -> None:
        """Delete this key's older files, old temporary files (a crashed build) and the least recently
        used files beyond ``keep``.

        Only files of the key older than ``keep`` go: two builders finishing together (A renames, B
        renames, A tidies, B tidies) used to delete each other's fresh file and leave none; now the
        later file always stays (a file cannot be older than each of two others' that are older than it)."""
        now = time.time()
        mine = _mtime_ns(keep)
        files = []
        for p in self.root.iterdir():
            if p.name.startswith(".tmp-"):
                if now - _mtime(p) > 3600:
                    _unlink(p)
            elif p.suffix == SUFFIX and p != keep:
                if p.name.startswith(f"{key_id}-"):
                    if mine is not None and (_mtime_ns(p) or 0) < mine:
                        _unlink(p)
                else:
                    files.append(p)
        for p in sorted(files, key=_mtime, reverse=True)[max(self.keep - 1, 0) :]:
            _unlink(p)

    def status(self, conn_or_session: Connection | Session) -> list[dict[str, Any]]:
        """The stored snapshots, each with ``fresh``: would this database's next match use it?"""
        conn = conn_or_session.connection() if isinstance(conn_or_session, Session) else conn_or_session
        tracked = _triggers_present(conn)
        identity = _identity(conn) if tracked else None
        current = _sqlite_versions(conn) if tracked and conn.dialect.name == "sqlite" else None
        out = self.entries()
        for e in out:
            if not e["ok"]:
                continue
            key = _key(identity, dt.date.fromisoformat(e["on"]), e["district"]) if identity else None
            e["fresh"] = bool(key and e["key"] == key and _fresh(conn, e["token"], current))
        return out

    def entries(self) -> list[dict[str, Any]]:
        """The stored snapshots (newest first), read from their manifests."""
        out: list[dict[str, Any]] = []
        if not self.root.is_dir():
            return out
        for p in sorted(self.root.glob(f"*{SUFFIX}"), key=_mtime, reverse=True):
            try:
                m = read_manifest(p)
                size = p.stat().st_size
            except FileNotFoundError:
                continue
            except (OSError, SnapshotError):
                out.append({"path": p, "ok": False})
                continue
            out.append(
                {
                    "path": p,
                    "ok": True,
                    "key": m["key"],
                    "on": m["key"]["on"],
                    "district": m["key"]["district"],
                    "db": m["key"]["db"],
                    "rows": {t["name"]: t["n"] for t in m["tables"]},
                    "bytes": size,
                    "created": m.get("created"),
                    "token": m["token"],
                }
            )
        return out

    def clear(self) -> int:
        n = 0
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.suffix == SUFFIX or p.name.startswith(".tmp-"):
                    _unlink(p)
                    n += 1
        return n


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _mtime_ns(p: Path) -> int | None:
    try:
        return p.stat().st_mtime_ns
    except OSError:
        return None


def _touch(p: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(p)


def _unlink(p: Path) -> None:
    with contextlib.suppress(OSError):
        p.unlink()


# ---- the file format --------------------------------------------------------------------------------
#
#   header (magic, manifest length, SHA-256 of the manifest) | manifest (JSON) | padding | data
#
# The manifest lists each table's columns: for an array its dtype, shape, offset and length in the data;
# text columns (object arrays of str) as one UTF-8 text joined by _SEP; a text column with NULLs or
# holding _SEP as a JSON list (nothing is unpickled: a file is data, never code). The manifest holds the
# data's size and SHA-256, checked on every load.


def _pad(n: int) -> int:
    return (-n) % _ALIGN


def write(f: Any, facts: Facts, meta: dict[str, Any]) -> None:
    """Write ``facts`` (and ``meta``: key and token) to the binary file ``f``."""
    blobs: list[bytes | memoryview] = []
    offset = 0

    def put(data: bytes | memoryview) -> tuple[int, int]:
        nonlocal offset
        start = offset
        blobs.append(data)
        offset += len(data)
        pad = _pad(offset)
        if pad:
            blobs.append(b"\0" * pad)
            offset += pad
        return start, len(data)

    def array(a: np.ndarray[Any, Any]) -> dict[str, Any]:
        if a.dtype == object:
            values = a.tolist()
            if all(type(v) is str and _SEP not in v for v in values):
                start, size = put(_SEP.join(values).encode("utf-8"))
                return {"enc": "text", "n": len(values), "offset": start, "size": size}
            if not all(v is None or type(v) is str for v in values):
                raise SnapshotError("对象列只能含文本或空值，不能写入快照")
            start, size = put(json.dumps(values, ensure_ascii=False).encode("utf-8"))
            return {"enc": "json", "n": len(values), "offset": start, "size": size}
        if a.ndim == 1 and a.size and a.dtype == np.bool_ and (bool(a.all()) or not a.any()):
            return {"enc": "const", "dtype": a.dtype.str, "n": int(a.size), "value": bool(a[0])}
        c = np.ascontiguousarray(a)
        start, size = put(c.data.cast("B"))
        return {"enc": "raw", "dtype": c.dtype.str, "shape": list(c.shape), "offset": start, "size": size}

    tables = []
    for name, t in facts.tables.items():
        if t.lazy:
            raise SnapshotError(f"表 {name} 含延迟计算的列，不能写入快照")
        cols = [
            {"name": cname, "values": array(col.values), "known": array(col.known)}
            for cname, col in t.cols.items()
        ]
        tables.append({"name": name, "n": t.n, "cols": cols})
    digest = hashlib.sha256()
    for b in blobs:
        digest.update(b)
    manifest = {
        **meta,
        "format": FORMAT_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "supplied": sorted(facts.supplied),
        "tables": tables,
        "data_size": offset,
        "data_sha256": digest.hexdigest(),
    }
    body = json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode("utf-8")
    f.write(_HEADER.pack(MAGIC, len(body), hashlib.sha256(body).digest()))
    f.write(body)
    f.write(b"\0" * _pad(_HEADER.size + len(body)))
    for b in blobs:
        f.write(b)


def _read_header(f: Any) -> tuple[dict[str, Any], int]:
    head = f.read(_HEADER.size)
    if len(head) != _HEADER.size:
        raise SnapshotError("快照文件过短")
    magic, length, digest = _HEADER.unpack(head)
    if magic != MAGIC or length > 1 << 30:
        raise SnapshotError("不是事实快照文件")
    body = f.read(length)
    if len(body) != length or hashlib.sha256(body).digest() != digest:
        raise SnapshotError("快照清单校验不符")
    try:
        manifest = json.loads(body)
    except ValueError:
        raise SnapshotError("快照清单无法解析") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise SnapshotError("快照格式版本不符")
    start = _HEADER.size + length
    return manifest, start + _pad(start)


def read_manifest(path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        manifest, start = _read_header(f)
        if os.fstat(f.fileno()).st_size != start + int(manifest["data_size"]):
            raise SnapshotError("快照文件大小与清单不符（不完整）")
    return manifest


def load(path: Path, expect: dict[str, Any] | None = None) -> tuple[Facts, int]:
    """The facts stored in ``path`` (checked against the manifest's size and SHA-256; with ``expect``,
    the manifest's key and token must be those the caller checked)."""
    with path.open("rb") as f:
        manifest, start = _read_header(f)
        if expect is not None and any(manifest.get(k) != v for k, v in expect.items()):
            raise SnapshotError("快照文件在校验后被替换")
        size = int(manifest["data_size"])
        f.seek(start)
        buf = bytearray(size)
        if f.readinto(buf) != size or f.read(1):
            raise SnapshotError("快照文件大小与清单不符（不完整）")
    # The checksum runs on another thread (hashlib releases the GIL) while the columns are decoded.
    digest: list[str] = []
    hasher = threading.Thread(target=lambda: digest.append(hashlib.sha256(buf).hexdigest()), daemon=True)
    hasher.start()
    mem = memoryview(buf)

    def array(d: dict[str, Any]) -> np.ndarray[Any, Any]:
        if d["enc"] == "const":
            return np.full(d["n"], bool(d["value"]), dtype=np.dtype(d["dtype"]))
        raw = mem[d["offset"] : d["offset"] + d["size"]]
        if d["enc"] == "raw":
            count = int(np.prod(d["shape"])) if d["shape"] else 1
            return np.frombuffer(raw, dtype=np.dtype(d["dtype"]), count=count).reshape(d["shape"])
        if d["enc"] == "text":
            out = np.empty(d["n"], dtype=object)
            if d["n"]:
                values = bytes(raw).decode("utf-8").split(_SEP)
                if len(values) != d["n"]:
                    raise SnapshotError("快照列长度不符")
                out[:] = values
            return out
        if d["enc"] == "json":
            values = json.loads(bytes(raw))
            if not isinstance(values, list) or len(values) != d["n"]:
                raise SnapshotError("快照列长度不符")
            out = np.empty(d["n"], dtype=object)
            out[:] = values
            return out
        raise SnapshotError(f"快照列编码 {d['enc']!r} 未知")

    tables: dict[str, Table] = {}
    for t in manifest["tables"]:
        table = Table(t["name"], int(t["n"]))
        for c in t["cols"]:
            table.cols[c["name"]] = Col(array(c["values"]), array(c["known"]))
        tables[t["name"]] = table
    hasher.join()
    if digest != [manifest["data_sha256"]]:
        raise SnapshotError("快照数据校验不符")
    return Facts(tables, set(manifest["supplied"])), _HEADER.size + size


def iter_columns(facts: Facts) -> Iterator[tuple[str, str, Col]]:
    """Every (table, column, Col) of ``facts`` (for comparisons)."""
    for name, t in facts.tables.items():
        for cname, col in t.cols.items():
            yield name, cname, col
