"""创业载体 commands: list carriers, generate a month's bills (reductions by the engine) and export them.

Registered on the main Typer app by one line in ``cli.py``. Each command owns one transaction; the acting
user, role and district / organisation code are given as options (the web layer takes them from the login).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.audit import audit_key
from xiangchuang.carriers import repository as repo
from xiangchuang.carriers import service as S
from xiangchuang.carriers.repository import Actor
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_common import console, district_option, fail
from xiangchuang.config import Settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.errors import DomainError
from xiangchuang.paramchanges.service import effective_parameters
from xiangchuang.registry.cli_import import _db_reason, _migrated_engine

__all__ = ["register"]

AsOpt = Annotated[str, typer.Option("--as", help="操作人账号")]
RoleOpt = Annotated[str, typer.Option("--role", help="角色：" + "、".join(repo.READ_ROLES))]
DistrictOpt = Annotated[str | None, typer.Option("--district", help="区县代码，6位数字（区县工作人员）")]
OrgOpt = Annotated[str | None, typer.Option("--org", help="运营单位代码（载体运营方）")]


def _run(fn: Any) -> Any:
    settings = Settings()
    try:
        key = audit_key(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
    except KeyRingError as exc:
        raise fail(str(exc)) from None
    engine = _migrated_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return fn(session, key)
    except DomainError as exc:
        raise fail(exc.message, 1) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库错误，操作已回滚（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("carrier-list")
    def carrier_list(
        actor_login: AsOpt, role: RoleOpt, district: DistrictOpt = None, org: OrgOpt = None
    ) -> None:
        """列出操作人范围内的创业载体：类型、级别、工位占用、累计减免。"""
        actor = Actor(actor_login, role, district_option(district), org)
        today = dt.date.today()

        def work(session: Any, key: bytes) -> None:
            table = RichTable(title="创业载体")
            for col in (
                "编号",
                "名称",
                "类型",
                "级别",
                "区县",
                "入驻企业",
                "工位在用/总数",
                "累计减免（元）",
            ):
                table.add_column(col)
            for c in repo.carriers(session, actor):
                occ = S.occupancy(session, c, today)
                _, red = repo.reduction_total(session, c.id)
                table.add_row(
                    c.carrier_no, c.name, S.KIND_LABELS[c.kind], S.LEVEL_LABELS[c.level], str(c.district),
                    str(occ.tenants), f"{occ.used}/{occ.total}", f"{red / 100:,.2f}",
                )  # fmt: skip
            console.print(table)

        _run(work)

    @app.command("carrier-bills")
    def carrier_bills(
        carrier_no: Annotated[str, typer.Argument(help="载体编号")],
        month: Annotated[str, typer.Argument(help="账单月份 YYYY-MM")],
        actor_login: AsOpt,
        role: RoleOpt,
        district: DistrictOpt = None,
        org: OrgOpt = None,
        xlsx: Annotated[Path | None, typer.Option("--xlsx", help="同时导出该月账单到 Excel 文件")] = None,
    ) -> None:
        """生成载体某月入驻企业账单（场租、物业费、水电费减免由政策引擎 carrier_rent_reduction 计算）。"""
        actor = Actor(actor_login, role, district_option(district), org)

        def work(session: Any, key: bytes) -> None:
            m = S.parse_month(month)
            made = S.generate_bills(
                session,
                carrier_no=carrier_no,
                month=m,
                params=effective_parameters(session, load_parameters()),
                actor=actor,
                audit_key=key,
            )
            console.print(
                f"{S.month_label(m)}：生成账单 {len(made)} 张，应收 {sum(b.gross_fen for b in made) / 100:,.2f} 元，"
                f"减免 {sum(b.reduction_fen for b in made) / 100:,.2f} 元"
            )
            if xlsx is not None:
                xlsx.write_bytes(S.export_bills(session, carrier_no=carrier_no, month=m, actor=actor))
                console.print(f"已导出：{xlsx}")

        _run(work)
