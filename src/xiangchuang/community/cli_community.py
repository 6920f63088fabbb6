"""Community commands: ``closures-pending`` lists businesses deregistered within the look-back period
(parameter ``community.closure_lookback_days``) that have no support offer yet (``--offer`` also makes
the offers, notifying each founder); ``community-tag-report`` writes the report by tag as Excel.

Registered on the main Typer app by one line in ``cli.py``; each command owns one transaction; the acting
user is given with ``--as`` (a district with ``--district``, else the whole city)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.audit import audit_key
from xiangchuang.chinatime import china_date
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_common import console, district_option, fail, to_date
from xiangchuang.community import places as P
from xiangchuang.community import service as S
from xiangchuang.community.common import district_label
from xiangchuang.config import Settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.errors import DomainError
from xiangchuang.registry.cli_import import _db_reason, _migrated_engine
from xiangchuang.users.service import UserScope

__all__ = ["register"]

AsOpt = Annotated[str, typer.Option("--as", help="操作人账号（记入审计日志）")]
DistrictOpt = Annotated[str | None, typer.Option("--district", help="区县代码，6位数字（缺省为全市）")]


def _scope(login: str, district_text: str | None) -> UserScope:
    district = district_option(district_text)
    if district is None:
        return UserScope(level="city", user_id=0, login=login, role="city_admin")
    return UserScope(level="district", user_id=0, login=login, role="district_reviewer", district=district)


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

    @app.command("closures-pending")
    def closures_pending(
        actor: AsOpt = "system",
        district: DistrictOpt = None,
        on: Annotated[str | None, typer.Option("--on", help="统计日（YYYY-MM-DD，缺省为今天）")] = None,
        offer: Annotated[bool, typer.Option("--offer", help="同时对列出的主体发起帮扶告知")] = False,
    ) -> None:
        """列出新注销、尚未发起创业失败帮扶（就业服务、就业援助、社会救助转介）的经营主体。"""
        day = to_date(on, china_date(dt.datetime.now(dt.UTC)))
        scope = _scope(actor, district)

        def work(session: Any, key: bytes) -> list[dict[str, Any]]:
            rows = S.closed_without_offer(session, scope=scope, today=day)
            if offer:
                for r in rows:
                    S.offer(session, scope=scope, audit_key=key, business_no=r["business_no"], today=day)
            return rows

        rows = _run(work)
        table = RichTable(
            title=f"新注销未发起帮扶的经营主体（{district_label(scope.district)}，{day.isoformat()}）"
        )
        for col in ("主体编号", "名称", "区县", "注销日期", "创办人编号", "已注销天数"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["business_no"],
                r["name"],
                r["district_name"],
                str(r["closed_on"]),
                r["founder_person_no"] or "未登记",
                str(r["days_since"]),
            )
        console.print(table)
        verb = "已发起帮扶告知" if offer else "待发起帮扶"
        console.print(f"{verb}：{len(rows)} 户")

    @app.command("community-tag-report")
    def tag_report(
        out: Annotated[Path, typer.Argument(help="输出文件（.xlsx）")],
        district: DistrictOpt = None,
    ) -> None:
        """一县一品/一村一品按标签统计，导出 Excel（按标签汇总、标注主体明细）。"""
        if out.suffix.lower() != ".xlsx":
            raise fail("输出文件须为 .xlsx")
        scope = _scope("system", district)
        day = china_date(dt.datetime.now(dt.UTC))
        data = _run(lambda s, _k: P.tag_report_xlsx(s, scope=scope, today=day))
        out.write_bytes(data)
        console.print(f"已写出 {out}")
