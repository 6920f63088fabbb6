"""``xiangchuang deliver-messages``: the scheduled job that delivers pending in-app messages (the outbox's
``in_app`` channel) into the inbox the ``/my/messages`` page and the application pages read. Runs in
batches, one transaction per batch, until nothing is pending (or ``--max`` messages)."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from xiangchuang.cli_common import console, fail
from xiangchuang.config import get_settings
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.outbox.service import InAppAdapter, deliver_pending

__all__ = ["register"]


def deliver_messages_command(
    batch: Annotated[int, typer.Option("--batch", min=1, max=10000, help="每批条数")] = 500,
    most: Annotated[int, typer.Option("--max", min=1, help="本次最多投递条数")] = 100_000,
) -> None:
    """投递站内消息（定时任务）：把待发送的站内消息放入收件箱。"""
    engine = make_engine(get_settings().resolved_database_url)
    delivered = failed = 0
    try:
        while delivered + failed < most:
            with transaction(make_sessionmaker(engine)) as s:
                report = deliver_pending(
                    s, adapter=InAppAdapter(), limit=min(batch, most - delivered - failed)
                )
            delivered += report.delivered
            failed += report.failed
            if report.delivered + report.failed == 0:
                break
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
    finally:
        engine.dispose()
    console.print(f"站内消息：投递 {delivered} 条，失败 {failed} 条")
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("deliver-messages")(deliver_messages_command)
