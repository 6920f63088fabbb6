"""Backup and restore: the database, the data directory's files and a signed manifest, in one tar file.

- SQLite: the online backup API (``sqlite3.Connection.backup``), a consistent copy while the server runs.
- PostgreSQL: ``pg_dump --format=custom`` of the database's current schema, restored with ``pg_restore``
  (the client binaries must be installed; version ≥ the server's).
- The data directory's files (attachments and other files), except the SQLite database itself, the
  facts snapshots (``facts-snapshots/``: a cache derived from the database, rebuilt when used) and the
  key ring: **the key ring is never in a backup** — back it up separately (docs/deployment.md).
- ``manifest.json``: format, creation time, dialect, migration revision, row counts per table, and every
  member's size and SHA-256; ``manifest.hmac``: HMAC-SM3 of the manifest under a key derived from the key
  ring (HKDF-SM3, info ``xiangchuang backup manifest v1``). A restore checks the signature and every
  checksum before it touches anything: a tampered or truncated backup, or one made under another key ring,
  is refused with a Chinese message.
- :func:`restore` refuses a database that already holds tables unless ``force`` (then the schema, or the
  SQLite file, is replaced) and refuses to overwrite differing data files unless ``force``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac as std_hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as c_hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from xiangchuang import __version__
from xiangchuang.crypto import KeyRing
from xiangchuang.errors import Conflict, ValidationFailed
from xiangchuang.models import Base
from xiangchuang.registry.snapshot import DIRNAME as SNAPSHOT_DIR

FORMAT: Final = "xiangchuang-backup"
VERSION: Final = 1
MANIFEST: Final = "manifest.json"
SIGNATURE: Final = "manifest.hmac"
KEY_INFO: Final = b"xiangchuang backup manifest v1"
SQLITE_MEMBER: Final = "database/xiangchuang.db"
PG_MEMBER: Final = "database/xiangchuang.pgdump"
CHUNK: Final = 1 << 20


class BackupError(ValidationFailed):
    """A backup that cannot be made or restored (the message says why, in Chinese)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    dialect: str
    revision: str | None
    tables: dict[str, int]
    files: int
    size: int


def manifest_key(ring: KeyRing) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=32, salt=None, info=KEY_INFO).derive(ring.index_key)


def _sign(key: bytes, data: bytes) -> str:
    h = c_hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def row_counts(engine: Engine) -> dict[str, int]:
    """Rows per table of the application's metadata (and the migration revision's table)."""
    present = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in present:
                counts[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    return counts


def _revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        value = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None


# --- PostgreSQL helpers -----------------------------------------------------------------------------------


def _pg_target(engine: Engine) -> tuple[str, dict[str, str], str]:
    """(libpq URL without password, environment with PGPASSWORD, current schema)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env, pg_schema(engine)


def pg_schema(engine: Engine) -> str:
    """The schema the engine works in: ``current_schema()``, or the first ``search_path`` entry when that
    schema does not exist yet (a fresh restore target)."""
    with engine.connect() as conn:
        current = conn.execute(text("SELECT current_schema()")).scalar()
        if current is not None:
            return str(current)
        path = str(conn.execute(text("SELECT current_setting('search_path')")).scalar_one())
    first = path.split(",")[0].strip().strip('"')
    if not first or first == "$user":
        return "public"
    return first


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"找不到 PostgreSQL 客户端程序 {name}：请安装 postgresql-client（版本不低于数据库服务器）"
        )
    return found


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what}失败（退出码 {done.returncode}）：{done.stderr.strip()[-800:]}")


# --- backup ----------------------------------------------------------------------------------------------


def _data_files(data_dir: Path, exclude: set[Path]) -> Iterator[tuple[Path, str]]:
    if not data_dir.is_dir():
        return
    for path in sorted(data_dir.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        resolved = path.resolve()
        if resolved in exclude or path.name.startswith("keyring") or path.suffix in (".db-wal", ".db-shm"):
            continue
        if path.relative_to(data_dir).parts[0] == SNAPSHOT_DIR:  # a derived cache, rebuilt on use
            continue
        yield path, path.relative_to(data_dir).as_posix()


def backup(
    *, engine: Engine, data_dir: Path, keyring_file: Path | None, ring: KeyRing, out: Path
) -> BackupSummary:
    """Write a backup of ``engine``'s database and ``data_dir``'s files to ``out`` (refuses to overwrite)."""
    if out.exists():
        raise BackupError(f"备份文件 {out} 已存在：请指定新的文件名（不会覆盖已有备份）")
    dialect = engine.dialect.name
    exclude = {p.resolve() for p in ([keyring_file] if keyring_file else [])}
    with tempfile.TemporaryDirectory(prefix="xc-backup-") as tmp_dir:
        tmp = Path(tmp_dir)
        members: list[tuple[Path, str]] = []
        if dialect == "sqlite":
            database = engine.url.database
            if not database:
                raise BackupError("内存中的 SQLite 数据库无法备份")
            src_path = Path(database).resolve()
            exclude |= {src_path, Path(f"{src_path}-wal"), Path(f"{src_path}-shm")}
            dump = tmp / "xiangchuang.db"
            src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=30)
            dst = sqlite3.connect(dump)
            try:
                src.backup(dst)  # online backup API: consistent while others write
            finally:
                dst.close()
                src.close()
            members.append((dump, SQLITE_MEMBER))
        elif dialect == "postgresql":
            url, env, schema = _pg_target(engine)
            dump = tmp / "xiangchuang.pgdump"
            _run(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--schema={schema}",
                    f"--file={dump}",
                    f"--dbname={url}",
                ],
                env,
                "pg_dump 导出数据库",
            )
            members.append((dump, PG_MEMBER))
        else:
            raise BackupError(f"不支持的数据库类型 {dialect}")
        counts = row_counts(engine)
        revision = _revision(engine)
        files = list(_data_files(data_dir, exclude))
        members.extend((p, f"data/{rel}") for p, rel in files)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "app_version": __version__,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": {
                "dialect": dialect,
                "member": SQLITE_MEMBER if dialect == "sqlite" else PG_MEMBER,
                "revision": revision,
                "schema": pg_schema(engine) if dialect == "postgresql" else None,
                "tables": counts,
            },
            "keyring_included": False,
            "members": [
                {"name": name, "size": p.stat().st_size, "sha256": _sha256(p)} for p, name in members
            ],
        }
        body = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()
        signature = _sign(manifest_key(ring), body).encode()
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for data, name in ((body, MANIFEST), (signature, SIGNATURE)):
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, int(dt.datetime.now(dt.UTC).timestamp())
                tar.addfile(info, io.BytesIO(data))
            for path, name in members:
                tar.add(path, arcname=name, recursive=False)
        partial.chmod(0o600)
        partial.replace(out)
    return BackupSummary(out, dialect, revision, counts, len(files), out.stat().st_size)


# --- restore ---------------------------------------------------------------------------------------------


def _safe_member(name: str) -> str:
    p = PurePosixPath(name)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise BackupError(f"备份文件中的成员名 {name!r} 不安全，拒绝恢复")
    return p.as_posix()


@contextmanager
def opened(path: Path, ring: KeyRing) -> Iterator[tuple[dict[str, Any], Path]]:
    """Unpack ``path`` to a temporary directory after checking the signature and every checksum."""
    if not path.is_file():
        raise BackupError(f"备份文件 {path} 不存在")
    with tempfile.TemporaryDirectory(prefix="xc-restore-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            tar = tarfile.open(path, "r:gz")  # noqa: SIM115 (closed by the with below)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"备份文件 {path.name} 无法读取（不是乡创通备份或已损坏）：{exc}") from None
        with tar:
            try:
                names = tar.getnames()
                if MANIFEST not in names or SIGNATURE not in names:
                    raise BackupError(f"备份文件 {path.name} 缺少清单或签名：不是乡创通备份")
                body = _read_small(tar, MANIFEST)
                signature = _read_small(tar, SIGNATURE).decode("ascii", "replace").strip()
                if not std_hmac.compare_digest(signature, _sign(manifest_key(ring), body)):
                    raise BackupError(
                        "备份清单签名不符：备份文件被篡改，或当前密钥环不是制作备份时的密钥环，拒绝恢复"
                    )
                manifest = json.loads(body)
                if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
                    raise BackupError("备份格式或版本不受支持")
                expected = {m["name"]: m for m in manifest["members"]}
                extra = set(names) - set(expected) - {MANIFEST, SIGNATURE}
                if extra:
                    raise BackupError(f"备份文件含清单之外的成员 {sorted(extra)[:3]}：拒绝恢复")
                for name, meta in expected.items():
                    target = tmp / "m" / _safe_member(name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    source = tar.extractfile(name)
                    if source is None:
                        raise BackupError(f"备份文件缺少成员 {name}：拒绝恢复")
                    h = hashlib.sha256()
                    size = 0
                    with target.open("wb") as f:
                        while chunk := source.read(CHUNK):
                            h.update(chunk)
                            size += len(chunk)
                            f.write(chunk)
                    if size != meta["size"] or h.hexdigest() != meta["sha256"]:
                        raise BackupError(f"备份成员 {name} 的校验和不符（被篡改或损坏），拒绝恢复")
            except KeyError as exc:
                raise BackupError(f"备份文件缺少成员 {exc}：拒绝恢复") from None
            except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
                raise BackupError(f"备份文件已损坏：{type(exc).__name__}：{exc}") from None
        yield manifest, tmp / "m"


def _read_small(tar: tarfile.TarFile, name: str) -> bytes:
    member = tar.getmember(name)
    if member.size > 10 * CHUNK:
        raise BackupError(f"备份成员 {name} 过大")
    f = tar.extractfile(member)
    if f is None:
        raise BackupError(f"备份成员 {name} 无法读取")
    return f.read()


def _has_tables(engine: Engine) -> bool:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                {"s": pg_schema(engine)},
            ).scalar_one()
        return bool(found)
    return bool(inspect(engine).get_table_names())


def restore(
    *, engine: Engine, data_dir: Path, ring: KeyRing, source: Path, force: bool = False
) -> BackupSummary:
    """Restore ``source`` into ``engine``'s database (the same dialect) and ``data_dir``."""
    with opened(source, ring) as (manifest, root):
        db = manifest["database"]
        dialect = engine.dialect.name
        if db["dialect"] != dialect:
            raise BackupError(f"备份来自 {db['dialect']} 数据库，不能恢复到 {dialect} 数据库")
        if dialect == "postgresql" and db.get("schema") != pg_schema(engine):
            raise BackupError(
                f"备份来自 PostgreSQL 模式 {db.get('schema')}，目标连接使用模式 {pg_schema(engine)}："
                "请在目标连接中使用同名模式（search_path）"
            )
        if _has_tables(engine) and not force:
            raise Conflict("目标数据库不是空的：恢复会覆盖其中全部数据；确认无误请加 --force")
        data_members = [m["name"] for m in manifest["members"] if m["name"].startswith("data/")]
        for name in data_members:
            target = data_dir / name[len("data/") :]
            if target.exists() and not force and _sha256(target) != _sha256(root / name):
                raise Conflict(f"数据目录中已有不同的文件 {target.name}：确认覆盖请加 --force")
        if dialect == "sqlite":
            _restore_sqlite(engine, root / SQLITE_MEMBER)
        else:
            _restore_pg(engine, root / PG_MEMBER, force=force)
        for name in data_members:
            target = data_dir / name[len("data/") :]
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / name, target)
        engine.dispose()
        counts = row_counts(engine)
        if counts != db["tables"]:
            raise BackupError(f"恢复后的行数与备份清单不一致：{counts} ≠ {db['tables']}")
        return BackupSummary(
            source, dialect, db.get("revision"), counts, len(data_members), source.stat().st_size
        )


def _restore_sqlite(engine: Engine, dump: Path) -> None:
    database = engine.url.database
    if not database:
        raise BackupError("内存中的 SQLite 数据库不能作为恢复目标")
    engine.dispose()
    target = Path(database)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{dump}?mode=ro", uri=True)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst)  # replaces every page of the target
    finally:
        dst.close()
        src.close()


def _restore_pg(engine: Engine, dump: Path, *, force: bool) -> None:
    url, env, schema = _pg_target(engine)
    engine.dispose()
    with engine.begin() as conn:  # the dump recreates its schema (``public`` included)
        cascade = " CASCADE" if force else ""  # without --force the schema holds no table (checked)
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}"{cascade}'))
    engine.dispose()
    args = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={url}"]
    _run([*args, "--single-transaction", str(dump)], env, "pg_restore 恢复数据库")


def database_url_for_display(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
