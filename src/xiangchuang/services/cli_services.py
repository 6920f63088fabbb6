"""Service-window and leaders'-contact commands, registered on the main Typer app by xiangchuang.cli:

- ``xiangchuang services overdue``: run the monitoring rules for overdue problems (领导干部联系企业) and
  overdue coordination tasks (会商): a new overdue item opens an alert and notifies the district's reviewers
  through the outbox; an item resolved since is cleared.
- ``xiangchuang services summary [--district CODE]``: the per-district summary (windows, requests,
  ratings, purchased / delivered services, visits, problems raised / solved / overdue, tasks).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from xiangchuang.audit.chain import audit_key
from xiangchuang.chinatime import china_date
from xiangchuang.cli_common import ChineseTyper, console, district_option, fail
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.errors import DomainError
from xiangchuang.services import repository as repo
from xiangchuang.stats.service import district_name

__all__ = ["register"]

OVERDUE_RULES = ("svc_problem_overdue", "svc_task_overdue")
SECTIONS = (
    (
        "创业服务窗口与服务超市",
        (
            ("windows", "窗口"),
            ("requests", "请求"),
            ("requests_completed", "办结"),
            ("rating_avg", "评价"),
            ("purchased", "购买"),
            ("delivered", "交付"),
            ("staff_trained", "培训"),
        ),
    ),
    (
        "领导干部联系企业与会商",
        (
            ("officials", "干部"),
            ("businesses_in_contact", "企业"),
            ("visits", "走访"),
            ("problems_raised", "问题"),
            ("problems_solved", "解决"),
            ("problems_overdue", "逾期"),
            ("tasks_open", "任务"),
            ("tasks_overdue", "逾期任务"),
        ),
    ),
)


def register(app: typer.Typer) -> None:
    services = ChineseTyper(no_args_is_help=True, help="创业服务窗口、服务超市、领导干部联系企业与会商")
    app.add_typer(services, name="services")

    @services.command("overdue")
    def overdue() -> None:
        """检查逾期未办结的企业问题和会商任务：新逾期的生成预警并通知区县审核人员。"""
        from xiangchuang.stats.alerts import run_alerts

        settings = get_settings()
        try:
            key = audit_key(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
        except KeyRingError as exc:
            raise fail(str(exc)) from None
        engine = make_engine(settings.resolved_database_url)
        try:
            with transaction(make_sessionmaker(engine)) as s:
                res = run_alerts(s, audit_key=key, now=dt.datetime.now(dt.UTC), rules=OVERDUE_RULES)
        except (OperationalError, ProgrammingError) as exc:
            raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
        except DomainError as exc:
            raise fail(exc.message) from None
        finally:
            engine.dispose()
        console.print(
            f"逾期问题 {res.by_rule.get('svc_problem_overdue', 0)} 个，逾期会商任务 {res.by_rule.get('svc_task_overdue', 0)} 项；"
            f"新增预警 {len(res.opened)} 条，自动解除 {len(res.resolved)} 条"
        )

    @services.command("summary")
    def summary(
        district_text: Annotated[str | None, typer.Option("--district", help="只看该区县（6位数字）")] = None,
    ) -> None:
        """按区县汇总：窗口、服务请求与评价、购买服务交付、走访、问题与会商任务。"""
        district = district_option(district_text)
        engine = make_engine(get_settings().resolved_database_url)
        try:
            with transaction(make_sessionmaker(engine)) as s:
                rows = repo.district_summary(s, district=district, today=china_date(dt.datetime.now(dt.UTC)))
        except (OperationalError, ProgrammingError) as exc:
            raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
        finally:
            engine.dispose()
        if not rows:
            console.print("暂无记录")
            return
        for title, columns in SECTIONS:
            table = RichTable(title=title)
            table.add_column("区县")
            for _, label in columns:
                table.add_column(label, justify="right")
            for r in rows:
                cells = [
                    ("—" if r.get(k) is None else str(r[k])) if k == "rating_avg" else str(r.get(k, 0))
                    for k, _ in columns
                ]
                table.add_row(district_name(r["district"]), *cells)
            console.print(table)
