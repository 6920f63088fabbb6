"""Outreach commands (clause 4.12), registered on the main Typer app by xiangchuang.cli:

- ``xiangchuang outreach purge [--on YYYY-MM-DD]``: the scheduled purge (e.g. a daily systemd timer or
  cron job) — deletes the register records whose consent was withdrawn or whose retention period
  (``outreach.retention_months``, counted from the consent date) has passed, with their contact log,
  venture links and 乡情 talent records, in one transaction with one audit row (counts and ids, no
  personal data). Then the storage is scrubbed (SQLite: WAL checkpoint after ``secure_delete``; PostgreSQL:
  VACUUM) so no old page or dead row keeps a ciphertext.
- ``xiangchuang outreach talent-pool --district CODE``: the 乡情 talent pool (no personal data).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from xiangchuang.audit.chain import audit_key
from xiangchuang.chinatime import china_date
from xiangchuang.cli_common import (
    ChineseTyper,
    OverlayOpt,
    console,
    district_option,
    fail,
    parameter_set,
    to_date,
)
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.errors import DomainError
from xiangchuang.outreach import service as S
from xiangchuang.paramchanges.service import effective_parameters

__all__ = ["register"]


def _key() -> bytes:
    settings = get_settings()
    try:
        return audit_key(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
    except KeyRingError as exc:
        raise fail(str(exc)) from None


def purge_command(
    on: Annotated[
        str | None, typer.Option("--on", help="按该日期判断保存期限（缺省：今天，北京时间）")
    ] = None,
    overlays: OverlayOpt = None,
) -> None:
    """删除已撤回同意或超过保存期限的外出人员登记（含联系记录），并写入审计（只记数量和编号）。"""
    today = to_date(on, china_date(dt.datetime.now(dt.UTC)))
    key = _key()
    base = parameter_set(overlays)
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            result = S.purge(session, params=effective_parameters(session, base), today=today, audit_key=key)
        if result.total:
            S.scrub_storage(engine)
    except (OperationalError, ProgrammingError) as exc:
        raise fail(
            f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{type(exc.orig).__name__}"
        ) from None
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()
    console.print(
        f"外出人员登记清理（{today.isoformat()}）：撤回同意 {len(result.withdrawn)} 条，"
        f"超过保存期限 {len(result.expired)} 条；同时删除联系记录 {result.contacts} 条、"
        f"创办主体关联 {result.ventures} 条、乡情人才记录 {result.talents} 条。已写入审计。"
    )


def talent_pool_command(
    district_text: Annotated[str, typer.Option("--district", help="区县代码（6位数字）")],
) -> None:
    """列出区县的乡情人才（田秀才、土专家、乡创客、能工巧匠）及其技能，供人岗匹配使用。"""
    district = district_option(district_text)
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            pool = S.talent_pool(session, district)
    except (OperationalError, ProgrammingError) as exc:
        raise fail(
            f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{type(exc.orig).__name__}"
        ) from None
    finally:
        engine.dispose()
    table = RichTable("编号", "类型", "乡镇/街道", "行业", "技能", "人员编号/登记编号", "在外")
    for p in pool:
        table.add_row(
            str(p.talent_id),
            p.kind_label,
            p.town,
            p.trade,
            "、".join(p.skills),
            p.person_no or p.outreach_ref or "",
            "是" if p.away else "否",
        )
    console.print(table)
    console.print(f"共 {len(pool)} 人")


def register(app: typer.Typer) -> None:
    outreach = ChineseTyper(help="外出人员联络（4.12）：定期清理、乡情人才库", no_args_is_help=True)
    outreach.command("purge")(purge_command)
    outreach.command("talent-pool")(talent_pool_command)
    app.add_typer(outreach, name="outreach")
