"""Statistics commands: report, quarter-close, quarter-revise, alerts run|list|resolve.

Each command owns one transaction on the configured database (XIANGCHUANG_DATABASE_URL or the data
directory); the key ring (for the audit chain) comes from XIANGCHUANG_KEYRING / the key-ring file.
"""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from xiangchuang.cli_common import ChineseTyper, console, district_option, fail
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import get_settings
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.errors import DomainError

__all__ = ["register"]

QuarterArg = Annotated[str, typer.Argument(help="季度，如 2026Q3（按北京时间划分）")]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="操作人（写入审计日志；默认当前系统用户）")]


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise fail(
            f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{type(exc.orig).__name__}"
        ) from None
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()


def _audit_key() -> bytes:
    from xiangchuang.audit.chain import audit_key
    from xiangchuang.crypto import KeyRing, KeyRingError

    settings = get_settings()
    try:
        return audit_key(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
    except KeyRingError as exc:
        raise fail(str(exc)) from None


def _quarter(text: str):  # type: ignore[no-untyped-def]
    from xiangchuang.stats.periods import Quarter

    try:
        return Quarter.parse(text)
    except DomainError as exc:
        raise fail(exc.message) from None


def _actor(actor: str | None) -> str:
    return actor or f"cli:{getpass.getuser()}"


def register(app: typer.Typer) -> None:
    @app.command("report")
    def report(
        quarter: Annotated[str, typer.Option("--quarter", help="季度，如 2026Q3")],
        output: Annotated[Path, typer.Option("-o", "--output", help="输出文件")],
        fmt: Annotated[str, typer.Option("--format", help="xlsx | pdf | csv")] = "xlsx",
        district: Annotated[
            str | None, typer.Option("--district", help="只输出一个区县（并列全市合计）")
        ] = None,
    ) -> None:
        """季度统计报表：已关账季度为发布数（并列修订记录），未关账季度为实时数。"""
        from xiangchuang.stats.reports import FORMATS, write
        from xiangchuang.stats.service import quarter_report

        if fmt not in FORMATS:
            raise fail(f"--format 须为 {' | '.join(FORMATS)}，而不是 {fmt!r}")
        q, code = _quarter(quarter), district_option(district, names=True)
        with _session() as s:
            rep = quarter_report(s, quarter=q)
        output.parent.mkdir(parents=True, exist_ok=True)
        write(rep, output, fmt=fmt, district=code)
        status = "已关账发布数" if rep.status == "published" else "未关账实时数"
        extra = f"，含 {len(rep.revisions)} 次修订" if rep.revisions else ""
        console.print(f"{q.zh} 统计报表（{status}{extra}）已写入 {output}")

    @app.command("quarter-close")
    def quarter_close(quarter: QuarterArg, actor: ActorOpt = None) -> None:
        """季度关账：冻结该季度的发布数（记录操作人与时间，写审计日志）；关账后不可更改，只能生成修订。"""
        from xiangchuang.stats.service import close_quarter

        q, key = _quarter(quarter), _audit_key()
        with _session() as s:
            pub = close_quarter(s, quarter=q, actor=_actor(actor), audit_key=key)
            count, digest = pub.figure_count, pub.digest
        console.print(f"{q.zh}已关账：发布 {count} 项数据，摘要 SHA-256 {digest}")

    @app.command("quarter-revise")
    def quarter_revise(
        quarter: QuarterArg,
        actor: ActorOpt = None,
        note: Annotated[str | None, typer.Option("--note", help="修订说明")] = None,
    ) -> None:
        """重新计算已关账季度：与发布数不一致时生成一次带日期的修订（原发布数不变）。"""
        from xiangchuang.stats.service import revise_quarter

        q, key = _quarter(quarter), _audit_key()
        with _session() as s:
            pub = revise_quarter(s, quarter=q, actor=_actor(actor), audit_key=key, note=note)
            result = None if pub is None else (pub.revision, pub.figure_count)
        if result is None:
            console.print(f"{q.zh}重新计算结果与发布数一致，未生成修订")
        else:
            console.print(f"{q.zh}生成第 {result[0]} 次修订：{result[1]} 项数据变化")

    alerts = ChineseTyper(no_args_is_help=True, help="动态监测预警：运行规则、查看、处理")
    app.add_typer(alerts, name="alerts")

    @alerts.command("run")
    def alerts_run(
        rule: Annotated[list[str] | None, typer.Option("--rule", help="只运行指定规则（可多次）")] = None,
    ) -> None:
        """运行预警规则：新发现的问题生成预警并通知负责角色；已消除的自动解除。"""
        from xiangchuang.stats.alerts import RULES, run_alerts

        key = _audit_key()
        with _session() as s:
            res = run_alerts(s, audit_key=key, now=dt.datetime.now(dt.UTC), rules=rule)
        table = RichTable(title="预警规则运行结果")
        for col in ("规则", "发现"):
            table.add_column(col)
        for rule_id, n in res.by_rule.items():
            table.add_row(RULES[rule_id].label, str(n))
        console.print(table)
        console.print(
            f"新增预警 {len(res.opened)} 条，仍存在 {res.seen_again} 条，已人工处理不再提示 {res.suppressed} 条，"
            f"自动解除 {len(res.resolved)} 条"
        )

    @alerts.command("list")
    def alerts_list(
        state: Annotated[str, typer.Option("--state", help="open | resolved | all")] = "open",
        district: Annotated[str | None, typer.Option("--district", help="区县名称或代码")] = None,
    ) -> None:
        """列出预警（默认未处理的）。"""
        from xiangchuang.stats.alerts import list_alerts

        if state not in ("open", "resolved", "all"):
            raise fail("--state 须为 open、resolved 或 all")
        code = district_option(district, names=True)
        with _session() as s:
            rows = list_alerts(s, state=None if state == "all" else state, district=code)
        table = RichTable(
            title=f"预警（{ {'open': '未处理', 'resolved': '已处理', 'all': '全部'}[state] }，共 {len(rows)} 条）"
        )
        for col in ("编号", "规则", "区县", "负责角色", "内容", "状态", "首次发现"):
            table.add_column(col)
        for r in rows:
            table.add_row(
                str(r["id"]), r["rule_label"], r["district_name"], r["role_label"], r["message"],
                "未处理" if r["state"] == "open" else f"已处理（{r['resolved_by']}）", r["first_seen_at"][:16],
            )  # fmt: skip
        console.print(table)

    @alerts.command("resolve")
    def alerts_resolve(
        alert_id: Annotated[int, typer.Argument(help="预警编号")],
        note: Annotated[str, typer.Option("--note", help="处理说明（必填）")],
        actor: ActorOpt = None,
    ) -> None:
        """以市级管理员身份处理一条预警（写审计日志）。"""
        from xiangchuang.stats.alerts import resolve_alert

        key = _audit_key()
        with _session() as s:
            resolve_alert(
                s, alert_id=alert_id, actor=_actor(actor), role="city_admin", actor_district=None,
                resolution=note, audit_key=key,
            )  # fmt: skip
        console.print(f"预警 {alert_id} 已处理")
