"""``xiangchuang backup -o FILE`` and ``xiangchuang restore FILE [--force]`` (module: xiangchuang.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.cli_common import console, fail
from xiangchuang.config import Settings
from xiangchuang.crypto import KeyRing

__all__ = ["register"]


def _context() -> tuple[Settings, KeyRing, Engine]:
    from xiangchuang.config import get_settings
    from xiangchuang.crypto import KeyRingError
    from xiangchuang.db import make_engine

    settings = get_settings()
    try:
        ring = KeyRing.load(settings.keyring, settings.resolved_keyring_file)
    except KeyRingError as exc:
        raise fail(str(exc)) from None
    return settings, ring, make_engine(settings.resolved_database_url)


def backup_command(
    out: Annotated[Path, typer.Option("-o", "--output", help="备份文件（.xcbak；不覆盖已有文件）")],
) -> None:
    """备份数据库与数据目录中的文件（带校验和与签名的清单）。密钥环不在备份中，请另行备份。"""
    from xiangchuang.audit import audit_key, record
    from xiangchuang.backup import backup
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.errors import DomainError

    settings, ring, engine = _context()
    keyring_file = None if settings.keyring else settings.resolved_keyring_file
    try:
        summary = backup(
            engine=engine, data_dir=settings.data_dir, keyring_file=keyring_file, ring=ring, out=out
        )
        with transaction(make_sessionmaker(engine)) as session:  # the export is audited (after the copy)
            record(
                session,
                key=audit_key(ring),
                actor="system:cli",
                action="system.backup",
                subject=f"backup:{out.name}"[:120],
                details={"dialect": summary.dialect, "files": summary.files, "bytes": summary.size},
            )
    except DomainError as exc:
        raise fail(exc.message) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库访问失败：{type(exc).__name__}", 1) from None
    finally:
        engine.dispose()
    rows = sum(summary.tables.values())
    console.print(
        f"已备份到 {summary.path}（{summary.size:,} 字节；{summary.dialect}，迁移版本 {summary.revision}，"
        f"{len(summary.tables)} 张表 {rows:,} 行，数据文件 {summary.files} 个）。"
    )
    console.print("注意：密钥环不在备份中，请另行备份（没有密钥环，加密字段无法解密、审计链无法校验）。")


def restore_command(
    source: Annotated[Path, typer.Argument(help="xiangchuang backup 制作的备份文件")],
    force: Annotated[bool, typer.Option("--force", help="目标数据库非空时仍然覆盖")] = False,
) -> None:
    """从备份恢复数据库与数据文件：先校验签名和每个成员的校验和；目标数据库非空时须加 --force。"""
    from xiangchuang.audit import verify_audit
    from xiangchuang.backup import restore
    from xiangchuang.errors import DomainError

    settings, ring, engine = _context()
    try:
        summary = restore(engine=engine, data_dir=settings.data_dir, ring=ring, source=source, force=force)
        check = verify_audit(engine=engine, ring=ring)
    except DomainError as exc:
        raise fail(exc.message) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库访问失败：{type(exc).__name__}", 1) from None
    finally:
        engine.dispose()
    console.print(
        f"已恢复 {summary.path.name}：{len(summary.tables)} 张表 {sum(summary.tables.values()):,} 行，"
        f"数据文件 {summary.files} 个，迁移版本 {summary.revision}。"
    )
    if not check.ok:
        raise fail(f"恢复后审计链校验失败：{check.message}", 1)
    console.print(check.message)


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)
