"""Training commands (clauses 2.4–2.5): list classes, check a certificate code, show 项目制 purchases with
their delivery, and write a class roster to Excel. Read-only; changes go through the pages and the API,
where the acting user and role come from the login."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_common import console, district_option, fail
from xiangchuang.config import Settings
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.errors import DomainError
from xiangchuang.registry.cli_import import _db_reason, _migrated_engine
from xiangchuang.training import repository as repo
from xiangchuang.training import service as svc

__all__ = ["register"]


def _run(fn: Any) -> Any:
    settings = Settings()
    engine = _migrated_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return fn(session)
    except DomainError as exc:
        raise fail(exc.message, 1) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库错误，操作已回滚（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("training-classes")
    def classes(
        district_text: Annotated[
            str | None, typer.Option("--district", help="举办区县代码（6位数字）")
        ] = None,
        open_only: Annotated[bool, typer.Option("--open", help="只列报名中的培训班")] = False,
    ) -> None:
        """列出培训班（类别、方式、日期、人数、状态）。"""
        district = district_option(district_text)

        def go(s: Any) -> None:
            t = RichTable("班级", "课程", "类别", "方式", "区县", "日期", "人数", "状态", "培训机构")
            for c, co, p in repo.classes(s, district=district, open_only=open_only):
                t.add_row(
                    c.class_no, co.title, svc.KIND_LABELS[co.kind], svc.MODE_LABELS[c.mode], str(c.district),
                    f"{c.start_date}–{c.end_date}", f"{repo.taken(s, c.id)}/{c.capacity}",
                    svc.CLASS_STATE_LABELS[c.state], p.name,
                )  # fmt: skip
            console.print(t)

        _run(go)

    @app.command("training-verify")
    def verify(code: Annotated[str, typer.Argument(help="证书编号（验证码），如 XC-ABCD2345EFGH")]) -> None:
        """查验培训合格证（与公开查询页相同，只显示脱敏姓名）。"""

        def go(s: Any) -> svc.Verification:
            return svc.verify_certificate(s, code=code)

        v = _run(go)
        if not v.valid:
            console.print(f"无效：{v.message}")
            raise typer.Exit(1)
        console.print(
            f"有效：{v.code} 学员 {v.masked_name}，{v.course}（{v.kind_label}，{v.hours}学时），"
            f"{v.provider} 班级 {v.class_no}，结业日期 {v.completion_date}"
        )

    @app.command("training-purchases")
    def purchases(
        district_text: Annotated[str | None, typer.Option("--district", help="区县代码（6位数字）")] = None,
    ) -> None:
        """项目制购买合同及完成情况：购买人数、已结业、计价人数、应付金额。"""
        district = district_option(district_text)

        def go(s: Any) -> None:
            t = RichTable(
                "合同编号", "区县", "类别", "购买人数", "单价（元）", "已结业", "计价人数", "应付（元）"
            )
            for p in repo.purchases(s, district):
                g = svc.purchase_progress(s, p)
                t.add_row(
                    p.contract_no, str(p.district), svc.KIND_LABELS[p.course_kind], str(p.trainees),
                    f"{p.price_fen / 100:,.2f}", str(g.delivered), str(g.countable), f"{g.amount_due_fen / 100:,.2f}",
                )  # fmt: skip
            console.print(t)

        _run(go)

    @app.command("training-roster")
    def roster(
        class_no: Annotated[str, typer.Argument(help="培训班编号")],
        out: Annotated[Path, typer.Option("--out", help="写入的 Excel 文件")] = Path("roster.xlsx"),
    ) -> None:
        """导出培训班花名册（Excel；身份证号、手机号不导出）。"""
        from sqlalchemy import select

        from xiangchuang.models import TrainingClass
        from xiangchuang.training.excel import roster_xlsx

        def go(s: Any) -> bytes:
            cid = s.execute(
                select(TrainingClass.id).where(TrainingClass.class_no == class_no)
            ).scalar_one_or_none()
            if cid is None:
                raise fail(f"培训班 {class_no} 不存在", 1)
            return roster_xlsx(s, class_id=int(cid))

        out.write_bytes(_run(go))
        console.print(f"已写入 {out}")
