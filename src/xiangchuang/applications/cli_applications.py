"""Application commands (registered on the main Typer app by xiangchuang.cli).

- ``xiangchuang invite RUN_ID [--district CODE] [--program ID]…``: 免申即享 invitations from a stored
  政策找人 run (a district reviewer's command with ``--district``, the scheduled job without it);
  running it again creates nothing new.
- ``xiangchuang expire-invitations``: the scheduled job moving unanswered invitations to 已过期.
- ``xiangchuang publicity BATCH_NO [-o 公示名单.xlsx]``: print a publicity list as the public sees it
  (masked); with ``-o`` write the Excel file to post (the export is audited).

Each command is one transaction; the audit key is derived from the key ring, as for ``verify-audit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from xiangchuang.applications import invitations, publicity
from xiangchuang.applications import repository as repo
from xiangchuang.audit import audit_key
from xiangchuang.cli_common import console, fail
from xiangchuang.config import get_settings
from xiangchuang.crypto import FieldCipher, KeyRing, KeyRingError
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.engine.districts import is_district
from xiangchuang.errors import DomainError
from xiangchuang.registry.pii import Pii

__all__ = ["register"]

ActorOpt = Annotated[str, typer.Option("--actor", help="操作人账号（写入审计日志）")]


def _ring() -> KeyRing:
    settings = get_settings()
    try:
        return KeyRing.load(settings.keyring, settings.resolved_keyring_file)
    except KeyRingError as exc:
        raise fail(str(exc)) from None


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
    except DomainError as exc:
        raise fail(exc.message, code=1) from None
    finally:
        engine.dispose()


def invite_command(
    run_id: Annotated[int, typer.Argument(help="政策找人运行编号（xiangchuang match-results 显示）")],
    district: Annotated[
        int | None, typer.Option("--district", help="区县人社审核：只邀请本区县的结果")
    ] = None,
    program: Annotated[
        list[str] | None, typer.Option("--program", help="只邀请这些项目（可多次指定）")
    ] = None,
    actor: ActorOpt = "system:invitations",
) -> None:
    """免申即享：把一次政策找人运行中“符合”的结果变成待确认的申请，并通知申请人（可重复运行，不会重复邀请）。"""
    if district is not None and not is_district(district):
        raise fail(f"区县代码 {district} 不是重庆市的区县")
    key = audit_key(_ring())
    with _session() as s:
        report = invitations.create_invitations(
            s,
            run_id=run_id,
            actor=actor,
            role="district_reviewer" if district is not None else "system",
            actor_district=district,
            audit_key=key,
            programs=program or None,
        )
    console.print(
        f"新发出邀请 {len(report.created)} 份；此前已邀请 {report.existing} 份；跳过 {len(report.skipped)} 份"
    )
    for prog, subject, reason in report.skipped[:20]:
        console.print(f"  跳过 {prog} {subject}：{reason}")


def expire_command() -> None:
    """定时任务：把超过有效期仍未确认的免申即享邀请标记为已过期。"""
    key = audit_key(_ring())
    with _session() as s:
        expired = invitations.expire_invitations(s, audit_key=key)
    console.print(f"已过期的邀请 {len(expired)} 份")


def publicity_command(
    batch_no: Annotated[str, typer.Argument(help="公示批次号，如 GS50010120250303")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="导出公示名单 Excel")] = None,
    actor: ActorOpt = "cli",
) -> None:
    """显示公示名单（姓名、身份证号脱敏）；指定 -o 时导出 Excel（导出写审计日志）。"""
    ring = _ring()
    pii = Pii(FieldCipher(ring))
    with _session() as s:
        view = publicity.public_view(s, batch_no=batch_no, pii=pii)
        if output is not None:
            batch = repo.publicity_batch(s, batch_no=batch_no)
            n = publicity.export_list(
                s,
                batch_id=batch.id,
                pii=pii,
                path=output,
                actor=actor,
                role="city_admin",
                actor_district=None,
                audit_key=audit_key(ring),
            )
            console.print(f"已导出 {n} 行到 {output}")
    table = RichTable(title=view.title, caption=view.period_text)
    for header in ("序号", "姓名", "身份证号", "经营主体", "补贴项目", "拟补贴金额"):
        table.add_column(header)
    for line in view.lines:
        table.add_row(str(line.seq), line.name, line.id_number, line.business_name, line.program, line.amount)
    console.print(table)
    if view.end_date < dt.date.today():
        console.print(f"公示期已于 {view.end_date} 结束")


def register(app: typer.Typer) -> None:
    app.command("invite")(invite_command)
    app.command("expire-invitations")(expire_command)
    app.command("publicity")(publicity_command)
