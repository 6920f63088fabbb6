"""Mentor-pool commands (clause 2.6): import mentors, create an event, commit and reveal, enter the
public value, draw, view the (sealed or unsealed) draw, export the manifest, ``verify-draw``.

Registered on the main Typer app by one line in ``cli.py``. Each command owns one transaction; the
acting user and role are given with ``--as`` and ``--role`` (the web layer takes them from the login).
A party's secret is made with :mod:`secrets` by ``mentor-commit`` and written to a file only that party
keeps (mode 0600); ``mentor-reveal`` reads it back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.chinatime import CHINA
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_common import console, fail
from xiangchuang.config import Settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.errors import DomainError
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import service as S
from xiangchuang.registry.cli_import import _db_reason, _migrated_engine, import_command
from xiangchuang.registry.importer import DEFAULT_BATCH_SIZE

__all__ = ["register", "verify_draw_file"]

AsOpt = Annotated[str, typer.Option("--as", help="操作人账号")]
RoleOpt = Annotated[str, typer.Option("--role", help="角色：" + "、".join(S.ROLES))]
EventArg = Annotated[str, typer.Argument(help="评审活动编号")]
STATUS_ZH = {"notified": "已通知", "confirmed": "已确认", "declined": "已谢绝", "vacant": "空缺"}


def verify_draw_file(path: Path) -> D.VerifyResult:
    try:
        manifest = D.load(str(path))
    except (OSError, ValueError) as exc:
        raise fail(f"无法读取抽选清单 {path}：{exc}") from None
    return D.verify(manifest)


def _keys(settings: Settings) -> S.Keys:
    try:
        return S.Keys.from_ring(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
    except KeyRingError as exc:
        raise fail(str(exc)) from None


def _run(fn: Any) -> Any:
    """Run ``fn(session, keys)`` in one transaction; domain errors exit in Chinese."""
    settings = Settings()
    keys = _keys(settings)
    engine = _migrated_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            return fn(session, keys)
    except DomainError as exc:
        raise fail(exc.message, 1) from None
    except SQLAlchemyError as exc:
        raise fail(f"数据库错误，操作已回滚（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()


def _date(value: Any, what: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise fail(f"{what} 日期格式错误：{value!r}") from None


def _moment(value: Any, what: str) -> dt.datetime:
    t = value if isinstance(value, dt.datetime) else None
    if t is None:
        try:
            t = dt.datetime.fromisoformat(str(value))
        except ValueError:
            raise fail(f"{what} 时间格式错误：{value!r}（如 2025-06-12T08:30:00+08:00）") from None
    if t.tzinfo is None:
        raise fail(f"{what} 须带时区（如 +08:00）")
    return t


def _event_spec(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise fail(f"无法读取活动文件 {path}：{exc}") from None
    if not isinstance(doc, dict):
        raise fail("活动文件顶层须为对象")
    need = (
        *("event_no", "title", "kind", "event_date", "unseal_at", "backups", "quotas", "projects"),
        *("organiser_user", "supervisor_user"),
    )
    missing = [k for k in need if k not in doc]
    if missing:
        raise fail(f"活动文件缺少：{'、'.join(missing)}")
    return doc


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("verify-draw")
    def verify_draw(
        manifest: Annotated[Path, typer.Argument(help="抽选清单（JSON）")],
    ) -> None:
        """复核导师抽选：按清单中的输入、承诺、揭示和谢绝记录重新抽取，逐字节比对结果。"""
        res = verify_draw_file(manifest)
        if res.ok:
            console.print(f"通过：{res.message}")
            return
        console.print(f"未通过：{res.message}")
        raise typer.Exit(1)

    @app.command("mentors-import")
    def mentors_import(
        file: Annotated[Path, typer.Argument(help="导师名单：.xlsx、.csv 或 .parquet")],
        mode: Annotated[
            str, typer.Option("--mode", help="all-or-nothing 或 accept-valid")
        ] = "all-or-nothing",
        errors: Annotated[Path | None, typer.Option("--errors", help="错误报告（.xlsx）")] = None,
    ) -> None:
        """导入创业导师库（与 xiangchuang import mentors 相同：逐行校验，错误报告注明行、列和规则）。"""
        import_command("mentors", file, mode, errors, None, DEFAULT_BATCH_SIZE)

    @app.command("mentor-event-create")
    def event_create(
        spec: Annotated[
            Path, typer.Argument(help="活动文件（YAML）：编号、类型、日期、配额、项目、组织方、监督方…")
        ],
        actor: AsOpt,
        role: RoleOpt = "organiser",
    ) -> None:
        """创建大赛轮次或项目评审活动（最早抽取时间按活动前的工作日参数计算）。"""
        doc = _event_spec(spec)
        projects = [
            S.ProjectIn(
                str(p["project_no"]),
                str(p.get("title", p["project_no"])),
                p.get("person_no"),
                p.get("business_no"),
                bool(p.get("returning", False)),
            )
            for p in doc["projects"]
        ]
        quotas = [(q["specialty"], q["level"], int(q["count"])) for q in doc["quotas"]]

        def go(session: Any, keys: S.Keys) -> Any:
            ev = S.create_event(
                session,
                keys=keys,
                actor=actor,
                role=role,
                event_no=str(doc["event_no"]),
                title=str(doc["title"]),
                kind=str(doc["kind"]),
                event_date=_date(doc["event_date"], "event_date"),
                unseal_at=_moment(doc["unseal_at"], "unseal_at"),
                quotas=quotas,
                backups=int(doc["backups"]),
                projects=projects,
                organiser_user=str(doc["organiser_user"]),
                supervisor_user=str(doc["supervisor_user"]),
                chair_user=doc.get("chair_user"),
                staff_person_nos=[str(x) for x in doc.get("staff_person_nos", [])],
                district=doc.get("district"),
                recuse_same_district=bool(doc.get("recuse_same_district", False)),
                public_value_source=doc.get("public_value_source"),
                tie_rule=str(doc.get("tie_rule", "higher_median")),
            )
            return ev.event_no, S._aware(ev.earliest_draw_at).astimezone(CHINA), ev.trim_threshold

        no, earliest, trim = _run(go)
        console.print(
            f"已创建评审活动 {no}；最早抽取时间 {earliest:%Y-%m-%d %H:%M}；{trim} 人以上评分去掉最高最低分"
        )

    @app.command("mentor-commit")
    def commit_cmd(
        event_no: EventArg,
        actor: AsOpt,
        secret_file: Annotated[Path, typer.Option("--secret-file", help="保存本方秘密的文件（仅本方保管）")],
        role: RoleOpt = "organiser",
    ) -> None:
        """生成本方秘密并提交其哈希承诺；全部参与方承诺后冻结抽取输入。"""
        if secret_file.exists():
            raise fail(f"{secret_file} 已存在：不覆盖已有秘密")
        secret = D.make_secret()

        def go(session: Any, keys: S.Keys) -> Any:
            ev = S._event(session, event_no)
            party = S._party_of(ev, actor)
            row = S.commit(
                session,
                keys=keys,
                actor=actor,
                role=role,
                event_no=event_no,
                commitment=D.commitment(event_no, party, secret),
            )
            return row.party, row.commitment, ev.inputs_sha256

        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret + "\n")
        try:
            party, digest, frozen = _run(go)
        except typer.Exit:
            secret_file.unlink()
            raise
        console.print(f"{party} 承诺：{digest}\n秘密已写入 {secret_file}（请妥善保管，揭示时使用）")
        if frozen:
            console.print(f"全部参与方已承诺，抽取输入已冻结：SHA-256 {frozen}")

    @app.command("mentor-reveal")
    def reveal_cmd(
        event_no: EventArg,
        actor: AsOpt,
        secret_file: Annotated[Path, typer.Option("--secret-file", help="mentor-commit 写出的秘密文件")],
        role: RoleOpt = "organiser",
    ) -> None:
        """揭示本方秘密（须与事先提交的承诺一致）。"""
        try:
            secret = secret_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise fail(f"无法读取秘密文件：{exc}") from None
        party = _run(
            lambda s, k: S.reveal(s, keys=k, actor=actor, role=role, event_no=event_no, secret=secret).party
        )
        console.print(f"{party} 已揭示，与承诺一致")

    @app.command("mentor-public-value")
    def public_value_cmd(
        event_no: EventArg,
        value: Annotated[str, typer.Argument(help="事先公告来源的公开随机值，如当晚开奖号码")],
        actor: AsOpt,
        role: RoleOpt = "supervisor",
    ) -> None:
        """录入事先公告的公开随机值。"""
        _run(
            lambda s, k: S.set_public_value(s, keys=k, actor=actor, role=role, event_no=event_no, value=value)
        )
        console.print("已录入公开随机值")

    @app.command("mentor-draw")
    def draw_cmd(event_no: EventArg, actor: AsOpt, role: RoleOpt = "organiser") -> None:
        """抽取评审导师（系统随机，无人工挑选）；结果密封，入选导师经通知队列收到本人通知。"""

        def go(session: Any, keys: S.Keys) -> Any:
            d = S.run_draw(session, keys=keys, actor=actor, role=role, event_no=event_no)
            return d.status, d.seed, d.failure

        status, seed, failure = _run(go)
        if status == "failed":
            console.print(f"[red]抽取失败（未放宽任何规则）：{failure}[/]")
            raise typer.Exit(1)
        console.print(f"抽取完成，结果已密封至揭封时间；种子将在揭封后公布（{len(seed)} 位十六进制）")

    @app.command("mentor-unseal")
    def unseal_cmd(event_no: EventArg, actor: AsOpt, role: RoleOpt) -> None:
        """查看抽选结果：揭封前只显示席位状态；揭封后监督方、评审组长、组织方和市级管理员可见姓名（每次查看均记入审计）。"""
        view = _run(lambda s, k: S.draw_view(s, keys=k, actor=actor, role=role, event_no=event_no))
        t = RichTable(title=f"{view.event_no} 评审组（{'密封中' if view.sealed else '已揭封'}）")
        for col in ("席位", "分层", "状态", "导师编号", "姓名"):
            t.add_column(col)
        for x in view.slots:
            spec, lvl = x.stratum.split("/")
            t.add_row(
                str(x.slot),
                D.stratum_zh(spec, lvl),
                STATUS_ZH.get(x.status, x.status),
                x.mentor_no or "—",
                x.name or "—",
            )
        console.print(t)
        if view.failure:
            console.print(f"[yellow]{escape(view.failure)}[/]")

    @app.command("mentor-export")
    def export_cmd(
        event_no: EventArg,
        actor: AsOpt,
        role: RoleOpt,
        out: Annotated[Path, typer.Option("--out", "-o", help="清单文件（JSON）")],
    ) -> None:
        """揭封后导出化名抽选清单（供公布与 verify-draw 复核）。"""
        man = _run(lambda s, k: S.export_manifest(s, keys=k, actor=actor, role=role, event_no=event_no))
        out.write_text(json.dumps(man, ensure_ascii=False, sort_keys=True, indent=1) + "\n", encoding="utf-8")
        res = D.verify(man)
        console.print(f"已导出 {out}；复核：{res.message}")
