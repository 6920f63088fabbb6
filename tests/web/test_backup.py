"""xiangchuang backup / restore on SQLite and PostgreSQL: backup → restore into a fresh database →
the audit chain verifies and every table has the same number of rows; data files come back byte for
byte; a non-empty target needs --force; a tampered backup (a member, or the manifest) is refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text

from tests.conftest import PG_URL
from xiangchuang.audit import verify_audit
from xiangchuang.backup import BackupError, backup, pg_schema, restore, row_counts
from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import upgrade
from xiangchuang.errors import Conflict


@pytest.fixture
def populated(db_engine, make_user, tmp_path) -> tuple[Engine, Path]:
    make_user("zhang.san")  # a registry person and business, an account, audit rows
    make_user("li.clerk", "window_clerk")
    data = tmp_path / "data"
    (data / "attachments" / "2026").mkdir(parents=True)
    (data / "attachments" / "2026" / "营业执照.pdf").write_bytes(b"%PDF-1.4 test " + os.urandom(2000))
    (data / "keyring.json").write_text("{}")  # never backed up
    return db_engine, data


@pytest.fixture
def fresh_target(db_engine, tmp_path) -> Iterator[Engine]:
    """An empty database of the same kind: a new SQLite file, or a new PostgreSQL database whose
    search_path names the source's schema (which does not exist there yet)."""
    if db_engine.dialect.name == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
        yield engine
        engine.dispose()
        return
    name = f"xc_restore_{os.getpid()}"
    schema = pg_schema(db_engine)
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(PG_URL.rsplit("/", 1)[0] + f"/{name}")

    @event.listens_for(engine, "connect")
    def _path(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute(f'SET search_path TO "{schema}"')
        cur.close()
        dbapi_conn.commit()

    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_then_restore_into_a_fresh_database(populated, fresh_target, pii, tmp_path):
    source, data = populated
    ring = pii.cipher.ring
    before = row_counts(source)
    assert before["audit_events"] >= 2 and before["users"] == 2
    out = tmp_path / "b.xcbak"
    summary = backup(engine=source, data_dir=data, keyring_file=data / "keyring.json", ring=ring, out=out)
    assert summary.tables == before and summary.files == 1
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert not any("keyring" in n for n in names)  # the key ring is never in a backup
    with tarfile.open(out) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert manifest["keyring_included"] is False

    restored_data = tmp_path / "restored-data"
    result = restore(engine=fresh_target, data_dir=restored_data, ring=ring, source=out)
    assert result.tables == before
    assert row_counts(fresh_target) == before
    check = verify_audit(engine=fresh_target, ring=ring)
    assert check.ok and check.checked == before["audit_events"], check.message
    original = data / "attachments" / "2026" / "营业执照.pdf"
    assert (restored_data / "attachments" / "2026" / "营业执照.pdf").read_bytes() == original.read_bytes()

    # A second restore into the now non-empty database needs --force.
    with pytest.raises(Conflict, match="--force"):
        restore(engine=fresh_target, data_dir=restored_data, ring=ring, source=out)
    again = restore(engine=fresh_target, data_dir=restored_data, ring=ring, source=out, force=True)
    assert again.tables == before and verify_audit(engine=fresh_target, ring=ring).ok


def _rewrite(src: Path, dst: Path, change) -> None:  # type: ignore[no-untyped-def]
    with tarfile.open(src) as tin, tarfile.open(dst, "w:gz") as tout:
        for member in tin.getmembers():
            content = tin.extractfile(member).read()  # type: ignore[union-attr]
            content = change(member.name, content)
            member.size = len(content)
            tout.addfile(member, io.BytesIO(content))


def test_a_tampered_backup_is_refused(populated, fresh_target, pii, tmp_path):
    source, data = populated
    ring = pii.cipher.ring
    out = tmp_path / "b.xcbak"
    backup(engine=source, data_dir=data, keyring_file=None, ring=ring, out=out)

    def flip_attachment(name: str, content: bytes) -> bytes:
        return content[:-1] + bytes([content[-1] ^ 1]) if name.endswith(".pdf") else content

    def edit_manifest(name: str, content: bytes) -> bytes:
        if name != "manifest.json":
            return content
        m = json.loads(content)
        m["database"]["tables"]["users"] += 1
        return json.dumps(m, ensure_ascii=False, indent=2, sort_keys=True).encode()

    def flip_database(name: str, content: bytes) -> bytes:
        if not name.startswith("database/"):
            return content
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1 :]

    for change, message in (
        (flip_attachment, "校验和不符"),
        (edit_manifest, "签名不符"),
        (flip_database, "校验和不符"),
    ):
        bad = tmp_path / f"bad-{change.__name__}.xcbak"
        _rewrite(out, bad, change)
        with pytest.raises(BackupError, match=message):
            restore(engine=fresh_target, data_dir=tmp_path / "r", ring=ring, source=bad)
    truncated = tmp_path / "truncated.xcbak"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(BackupError):
        restore(engine=fresh_target, data_dir=tmp_path / "r", ring=ring, source=truncated)
    assert row_counts(fresh_target) == {} or sum(row_counts(fresh_target).values()) == 0
    assert not (tmp_path / "r").exists()  # nothing written


def test_backup_and_restore_commands_while_the_server_database_is_in_use(tmp_path):
    """The CLI end to end on SQLite (processes, environment): backup, restore refuses a non-empty
    database, restore into an empty one, verify-audit OK."""
    from xiangchuang.crypto import generate_keyring

    bin_ = Path(sys.executable).parent / "xiangchuang"
    live, copy = tmp_path / "live", tmp_path / "copy"
    live.mkdir()
    copy.mkdir()
    generate_keyring(tmp_path / "keyring.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIANGCHUANG_")}
    env["XIANGCHUANG_KEYRING_FILE"] = str(tmp_path / "keyring.json")
    engine = make_engine(f"sqlite:///{live / 'xiangchuang.db'}")
    upgrade(engine)
    engine.dispose()
    (live / "files").mkdir()
    (live / "files" / "a.txt").write_text("附件")

    def run(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bin_), *args], env={**env, "XIANGCHUANG_DATA_DIR": str(data)}, capture_output=True, text=True
        )

    made = run("backup", "-o", str(tmp_path / "x.xcbak"), data=live)
    assert made.returncode == 0, made.stderr + made.stdout
    assert "密钥环不在备份中" in made.stdout
    refused = run("restore", str(tmp_path / "x.xcbak"), data=live)
    assert refused.returncode != 0 and "--force" in refused.stderr + refused.stdout
    done = run("restore", str(tmp_path / "x.xcbak"), data=copy)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "审计链完整" in done.stdout or "审计日志为空" in done.stdout
    assert (copy / "files" / "a.txt").read_text() == "附件"
    verified = run("verify-audit", data=copy)
    assert verified.returncode == 0, verified.stderr
