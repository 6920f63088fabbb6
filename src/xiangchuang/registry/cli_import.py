"""Registry commands: import, template, demo-data, keygen, db upgrade (registered on the main Typer app).

Each command owns its transaction: the import runs in one transaction (SQLite BEGIN IMMEDIATE /
PostgreSQL), so a killed process or a database error leaves the database exactly as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from xiangchuang.cli_common import ChineseTyper, console, district_option, err, fail
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import Settings
from xiangchuang.crypto import KeyRingError, generate_keyring
from xiangchuang.db import make_engine
from xiangchuang.registry.importer import (
    DEFAULT_BATCH_SIZE,
    ImportFileError,
    ImportResult,
    Mode,
    import_table,
    read_source,
    write_error_report,
)
from xiangchuang.registry.kinds import KINDS
from xiangchuang.registry.pii import Pii, pii_from_settings

__all__ = ["register"]


MODES: dict[str, Mode] = {"all-or-nothing": "all_or_nothing", "accept-valid": "accept_valid"}
KIND_HELP = "记录类别：" + "、".join(f"{k}（{s.label}）" for k, s in KINDS.items())


_fail = fail


def _kind(kind: str) -> str:
    if kind not in KINDS:
        raise _fail(f"未知的记录类别 {kind}。{KIND_HELP}")
    return kind


def _engine(settings: Settings) -> Engine:
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    return make_engine(url)


def _migrated_engine(settings: Settings) -> Engine:
    engine = _engine(settings)
    try:
        ready = inspect(engine).has_table("import_batches")
    except SQLAlchemyError as exc:
        raise _fail(f"无法连接数据库：{_db_reason(exc)}") from None
    if not ready:
        raise _fail("数据库尚未初始化：请先运行 xiangchuang db upgrade")
    return engine


def _pii(settings: Settings, *, allow_demo_keygen: bool = False) -> Pii:
    try:
        return pii_from_settings(settings)
    except KeyRingError as exc:
        if allow_demo_keygen and settings.demo and not settings.keyring:
            generate_keyring(settings.resolved_keyring_file)
            console.print(f"演示模式：已生成本地密钥环 {settings.resolved_keyring_file}")
            return pii_from_settings(settings)
        raise _fail(str(exc)) from None


def _db_reason(exc: BaseException) -> str:
    """The first line of the driver's message (no SQL parameters, which could carry personal data)."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return f"{type(orig).__name__}：{first[:200]}"


class _Bar:
    """A rich progress bar fed by the importer's (stage, done, total) callback."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.label = label
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        task = self.tasks.get(stage)
        if task is None:
            task = self.progress.add_task(f"{self.label} {stage}", total=max(total, 1))
            self.tasks[stage] = task
        self.progress.update(task, completed=done, total=max(total, 1))


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    )


def _summary(results: list[ImportResult], title: str, *, show_file: bool = True) -> None:
    table = RichTable(title=title)
    cols = [
        "记录类别",
        *(["文件"] if show_file else []),
        "结果",
        "总行数",
        "新增",
        "更新",
        "未变",
        "拒绝",
        "用时",
    ]
    for col in cols:
        table.add_column(col, justify="left" if col in ("记录类别", "文件", "结果") else "right")
    for r in results:
        status = "[green]已导入[/]" if r.status == "done" else "[red]已拒绝（未写入）[/]"
        table.add_row(
            KINDS[r.kind].label,
            *([r.file_name] if show_file else []),
            status,
            f"{r.total:,}",
            f"{r.inserted:,}",
            f"{r.updated:,}",
            f"{r.unchanged:,}",
            f"{r.rejected:,}",
            f"{r.seconds:.1f}s",
        )
    console.print(table)


def _print_errors(result: ImportResult, limit: int = 10) -> None:
    if not result.errors:
        return
    table = RichTable(
        title=f"错误（前{min(limit, len(result.errors))}条，共{len(result.errors):,}条；值已脱敏）"
    )
    for col in ("行号", "列", "值", "原因"):
        table.add_column(col)
    for e in result.errors[:limit]:
        table.add_row(str(e.row), e.column, e.value, e.reason)
    console.print(table)


def import_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    file: Annotated[Path, typer.Argument(help="数据文件：.xlsx、.csv（UTF-8 或 GBK）或 .parquet")],
    mode: Annotated[
        str, typer.Option("--mode", help="all-or-nothing：任一行有错则全部不写入；accept-valid：写入有效行")
    ] = "all-or-nothing",
    errors: Annotated[
        Path | None, typer.Option("--errors", help="错误报告（.xlsx），缺省为 <文件名>_错误报告.xlsx")
    ] = None,
    district: Annotated[
        str | None, typer.Option("--district", help="区县代码或名称：缺省区县，且只接受该区县的记录")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="每批写入的行数")
    ] = DEFAULT_BATCH_SIZE,
) -> None:
    """导入登记数据：逐行校验，按自然键幂等写入（新增/更新/未变），错误行写入 Excel 报告（个人信息脱敏）。"""
    kind = _kind(kind)
    if mode not in MODES:
        raise _fail("--mode 须为 all-or-nothing 或 accept-valid")
    scope = district_option(district, names=True)
    settings = Settings()
    pii = _pii(settings)
    try:
        source = read_source(file)
    except ImportFileError as exc:
        raise _fail(str(exc)) from None
    report = errors or file.with_name(f"{file.stem}_错误报告.xlsx")
    if report.suffix.lower() != ".xlsx":
        raise _fail("--errors 须为 .xlsx 文件")
    engine = _migrated_engine(settings)
    try:
        with _progress() as progress, engine.begin() as conn:
            result = import_table(
                conn,
                kind=kind,
                source=source,
                pii=pii,
                mode=MODES[mode],
                district=scope,
                error_report=str(report),
                batch_size=batch_size,
                progress=_Bar(progress, KINDS[kind].label),
            )
    except ImportFileError as exc:
        raise _fail(str(exc)) from None
    except SQLAlchemyError as exc:
        raise _fail(f"数据库错误，本次导入已整体回滚，数据库未作任何修改（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()
    if result.errors or result.warnings:
        write_error_report(result, report)
    _summary([result], f"导入 {KINDS[kind].label}")
    if result.ignored_columns:
        console.print(f"[yellow]未识别的列（已忽略）：{escape('、'.join(result.ignored_columns))}[/]")
    _print_errors(result)
    if result.warnings:
        console.print(f"[yellow]提示 {len(result.warnings):,} 条（不影响导入），见报告[/]")
    if result.errors or result.warnings:
        console.print(f"错误报告：{report}")
    if result.status != "done":
        console.print(
            "[red]有错误，按“全部或全不”模式未写入任何数据。请修正后重新导入，或使用 --mode accept-valid。[/]"
        )
        raise typer.Exit(1)


def template_command(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    output: Annotated[Path, typer.Option("-o", "--output", help="模板文件 .xlsx")] = Path("模板.xlsx"),
) -> None:
    """生成某类记录的 Excel 导入模板（中文表头，说明工作表列出每列是否必填、格式、取值和示例）。"""
    from xiangchuang.registry.templates import write_template

    kind = _kind(kind)
    if output.suffix.lower() != ".xlsx":
        raise _fail("模板文件须为 .xlsx")
    write_template(kind, output)
    console.print(f"已生成 {KINDS[kind].label} 导入模板：{output}")


def demo_data_command(
    businesses: Annotated[int, typer.Option("--businesses", min=1, help="经营主体数量")] = 5000,
    seed: Annotated[int, typer.Option("--seed")] = 2020,
) -> None:
    """把合成数据（非真实个人信息）经同一导入流程（校验、加密）装入数据库，用于演示。"""
    from xiangchuang.registry.demo_data import load_demo

    settings = Settings()
    pii = _pii(settings, allow_demo_keygen=True)
    engine = _migrated_engine(settings)
    bars: dict[str, _Bar] = {}
    try:
        with _progress() as progress, engine.begin() as conn:

            def step(kind: str, stage: str, done: int, total: int) -> None:
                bar = bars.setdefault(kind, _Bar(progress, KINDS[kind].label))
                bar(stage, done, total)

            results = load_demo(conn, businesses=businesses, seed=seed, pii=pii, progress=step)
    except SQLAlchemyError as exc:
        raise _fail(f"数据库错误，演示数据已整体回滚（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()
    _summary(results, f"演示数据（{businesses:,} 个经营主体，种子 {seed}）", show_file=False)
    rejected = sum(r.rejected for r in results)
    if rejected:
        console.print(f"[yellow]合成数据中有 {rejected:,} 行未通过校验，已跳过[/]")
        for r in results:
            _print_errors(r, 3)


def keygen_command() -> None:
    """生成本地密钥环（SM4 数据密钥 + HMAC-SM3 索引密钥），文件权限 0600；已存在则拒绝覆盖。"""
    settings = Settings()
    path = settings.resolved_keyring_file
    if settings.keyring:
        console.print("[yellow]注意：已设置 XIANGCHUANG_KEYRING，运行时将优先使用该环境变量中的密钥环[/]")
    try:
        generate_keyring(path)
    except KeyRingError as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"无法写入密钥环 {path}：{exc.strerror}") from None
    console.print(f"已生成密钥环：{path}（请妥善备份：丢失后已加密的个人信息无法解密）")


def db_upgrade_command() -> None:
    """运行数据库迁移（Alembic）到最新版本。"""
    from xiangchuang.dbmigrate import upgrade

    settings = Settings()
    engine = _engine(settings)
    try:
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise _fail(f"数据库迁移失败：{_db_reason(exc)}", 1) from None
    finally:
        engine.dispose()
    console.print(f"数据库已升级到最新版本：{engine.url.render_as_string(hide_password=True)}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("import")(import_command)
    app.command("template")(template_command)
    app.command("demo-data")(demo_data_command)
    app.command("keygen")(keygen_command)
    db = ChineseTyper(no_args_is_help=True, help="数据库管理")
    db.command("upgrade")(db_upgrade_command)
    app.add_typer(db, name="db")


def demo_services_command(on: dt.date) -> None:
    """Run the services' demo seeders (xiangchuang.demo_seed), each in its own transaction."""
    from xiangchuang.audit import audit_key
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.demo_seed import SeedContext, seeders
    from xiangchuang.users.demo_accounts import demo_district

    settings = Settings()
    pii = _pii(settings, allow_demo_keygen=True)
    engine = _migrated_engine(settings)
    factory = make_sessionmaker(engine)
    try:
        with transaction(factory) as session:
            district = demo_district(session)
        ctx = SeedContext(cipher=pii.cipher, audit_key=audit_key(pii.cipher.ring), on=on, district=district)
        found = seeders()
        if not found:
            console.print("（没有需要演示记录的服务）")
        for _spec, seed in found:
            with transaction(factory) as session:
                console.print(seed(session, ctx))
    except SQLAlchemyError as exc:
        raise _fail(f"数据库错误，该项演示记录已整体回滚（{_db_reason(exc)}）", 1) from None
    finally:
        engine.dispose()
