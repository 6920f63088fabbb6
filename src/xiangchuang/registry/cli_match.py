"""Registry commands (政策找人 over the database): registered on the main Typer app by xiangchuang.cli.

- ``xiangchuang match-db --on DATE [--district CODE]``: run every program over the registry, store the
  run and its results (one transaction), print a summary and the load / evaluate times.
- ``xiangchuang match-results [RUN_ID]``: list stored results (with their ids) of a run.
- ``xiangchuang explain-match RESULT_ID``: re-derive the full explanation of one stored result.
- ``xiangchuang facts-snapshot [--on DATE] [--district CODE] [--rebuild] [--clear]``: the columnar facts
  snapshots (``registry.snapshot``): list them with whether each still matches the registry, rebuild one,
  or delete all.

``xiangchuang match --from-db`` delegates to :func:`match_from_db` (see cli.py).

Every command here evaluates with the parameters in force: the YAML (with any ``--params-overlay``) and
the city's approved parameter changes over it (``paramchanges.service.effective_parameters``), as the web
service and ``invite`` do, so a stored result and the determination attached to its invitation agree.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from xiangchuang.cli_common import OverlayOpt, console, district_option, fail, parameter_set, to_date
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_report import print_program
from xiangchuang.config import get_settings
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.engine.explain import STATUS_ZH
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.programs import BY_ID
from xiangchuang.paramchanges.service import effective_parameters
from xiangchuang.registry.matching import MatchError, explain_result, run_match, run_results
from xiangchuang.registry.repository import RegistryDataError
from xiangchuang.registry.snapshot import SnapshotStore

OnOpt = Annotated[str | None, typer.Option("--on", help="评估日期 YYYY-MM-DD（默认今天）")]
DistrictOpt = Annotated[
    str | None, typer.Option("--district", help="只评估该区县（6位数字，如 500101）；缺省为全市")
]


_fail = fail
_params = parameter_set


def _date(text: str | None) -> dt.date:
    return to_date(text)


@contextmanager
def _session() -> Iterator[Session]:
    """One transaction on the configured database (XIANGCHUANG_DATABASE_URL or the data directory)."""
    engine: Engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise _fail(f"数据库访问失败（是否已运行数据库迁移？）：{exc.orig}") from None
    except RegistryDataError as exc:
        raise _fail(str(exc)) from None
    except MatchError as exc:
        raise _fail(str(exc), code=1) from None
    finally:
        engine.dispose()


def _district_label(code: int | None) -> str:
    if code is None:
        return "全市"
    return f"{district_by_code(code).name}（{code}）"


RebuildOpt = Annotated[
    bool, typer.Option("--rebuild-snapshot", help="不使用现有事实快照，从登记库重新读取并重建快照")
]
NoSnapshotOpt = Annotated[
    bool, typer.Option("--no-snapshot", help="不使用也不写入事实快照（每次从登记库读取）")
]


def snapshot_store() -> SnapshotStore:
    """The facts snapshots of the configured data directory (``<data_dir>/facts-snapshots``)."""
    return SnapshotStore.in_data_dir(get_settings().data_dir)


def match_from_db(
    *,
    on: str | None,
    district: int | None,
    params_overlay: list[Path] | None,
    workers: int = 2,
    rebuild_snapshot: bool = False,
    use_snapshot: bool = True,
) -> None:
    """政策找人（登记库）: the body of ``match-db`` and of ``match --from-db``."""
    day = _date(on)
    if district is not None and not is_district(district):
        raise _fail(f"区县代码 {district} 不是重庆市的区县（见 xiangchuang params 或 districts.yaml）")
    params = _params(params_overlay)
    with (
        _session() as session,
        console.status(f"政策找人：读取登记库并评估（{_district_label(district)}）……"),
    ):
        report = run_match(
            session=session,
            on=day,
            district=district,
            params=effective_parameters(session, params),
            workers=workers,
            snapshots=snapshot_store() if use_snapshot else None,
            rebuild_snapshot=rebuild_snapshot,
        )
    run = report.run
    counts = "，".join(
        f"{label} {report.rows.get(name, 0) - report.context.get(name, 0):,}"
        for name, label in (("businesses", "经营主体"), ("persons", "人员"), ("hires", "招用记录"))
    )
    table = RichTable(title=f"政策找人（登记库）{day.isoformat()} {_district_label(district)}（{counts}）")
    for col in (
        "项目",
        "评估对象",
        "符合",
        "即将符合",
        "待定",
        "不符合",
        "符合金额（元）",
        "即将符合金额（元）",
    ):
        table.add_column(col, justify="left" if col == "项目" else "right")
    for s in report.summary:
        table.add_row(
            s["title"],
            f"{s['subjects']:,}",
            f"{s['eligible']:,}",
            f"{s['soon']:,}",
            f"{s['undetermined']:,}",
            f"{s['ineligible']:,}",
            f"{s['amount_fen'] / 100:,.2f}",
            f"{report.soon_amount_fen.get(s['program'], 0) / 100:,.2f}",
        )
    console.print(table)
    for w in report.warnings:
        console.print(f"[yellow]注意：{escape(w)}[/]")
    if report.context.get("hires"):
        console.print(
            f"另读取本范围所招用人员在范围外的招用记录 {report.context['hires']:,} 条"
            f"（{report.context.get('businesses', 0):,} 个经营主体），仅用于同一人员多条招用记录的比较"
            "（岗位补贴每人一次），不计入评估对象和结果"
        )
    console.print(
        f"已保存匹配运行 {run.id}：{run.results:,} 条结果（符合及即将符合），"
        f"引擎 {run.engine_version}，参数版本 {run.parameters_version}"
    )
    console.print(
        f"用时：读取登记库 {report.load_seconds:.2f}s，评估 {report.evaluate_seconds:.2f}s，"
        f"保存 {report.store_seconds:.2f}s"
    )
    if report.snapshot is not None:
        console.print(report.snapshot.message)  # the message names the snapshot itself
    else:
        console.print("未使用事实快照（--no-snapshot）")
    console.print(
        f"查看结果：xiangchuang match-results {run.id}；解释某条结果：xiangchuang explain-match 结果编号"
    )


def print_explanation(doc: dict[str, Any], warnings: list[str]) -> None:
    for w in warnings:
        console.print(f"[yellow]注意：{escape(w)}[/]")
    print_program(
        doc,
        subtitle=f"评估日期 {doc['on']}  引擎 {doc['engine_version']}  参数版本 {doc['parameters_version']}",
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""

    @app.command("match-db")
    def match_db(
        on: OnOpt = None,
        district: DistrictOpt = None,
        params_overlay: OverlayOpt = None,
        workers: Annotated[
            int,
            typer.Option("--workers", min=1, max=8, help="并行读取的数据库连接数（仅 PostgreSQL，同一快照）"),
        ] = 2,
        rebuild_snapshot: RebuildOpt = False,
        no_snapshot: NoSnapshotOpt = False,
    ) -> None:
        """政策找人（登记库）：对登记库中的主体运行全部项目，保存符合及即将符合的结果，并给出汇总和用时。

        登记库未变动时从事实快照（数据目录 facts-snapshots/）读取；任何写入后的下一次运行自动重建快照。"""
        match_from_db(
            on=on,
            district=district_option(district),
            params_overlay=params_overlay,
            workers=workers,
            rebuild_snapshot=rebuild_snapshot,
            use_snapshot=not no_snapshot,
        )

    @app.command("facts-snapshot")
    def facts_snapshot(
        on: OnOpt = None,
        district: DistrictOpt = None,
        rebuild: Annotated[
            bool, typer.Option("--rebuild", help="为该日期、范围从登记库重建快照（如在夜间导入后预先生成）")
        ] = False,
        clear: Annotated[bool, typer.Option("--clear", help="删除全部事实快照文件")] = False,
    ) -> None:
        """事实快照：列出数据目录中的快照及其是否仍与登记库一致；可重建或清除。"""
        code = district_option(district)
        store = snapshot_store()
        if clear:
            console.print(f"已删除 {store.clear()} 个事实快照文件（{store.root}）")
            return
        with _session() as session:
            if rebuild:
                _, use = store.facts(session, on=_date(on), district=code, rebuild=True)
                console.print(f"{_date(on).isoformat()} {_district_label(code)}：{use.message}")
            listing = store.status(session)
        table = RichTable(title=f"事实快照（{store.root}）")
        for col in ("评估日期", "范围", "主体数", "大小（MB）", "生成时间", "状态"):
            table.add_column(col)
        for s in listing:
            if not s["ok"]:
                table.add_row("—", "—", "—", "—", "—", "[red]文件损坏（下次使用时重建）[/]")
                continue
            table.add_row(
                s["on"],
                _district_label(s["district"]),
                f"{s['rows'].get('businesses', 0):,}",
                f"{s['bytes'] / 1e6:.1f}",
                s["created"] or "—",
                "[green]有效[/]" if s["fresh"] else "[yellow]已过期（下次使用时重建）[/]",
            )
        console.print(table)

    @app.command("match-results")
    def match_results(
        run_id: Annotated[int | None, typer.Argument(help="匹配运行编号（默认最近一次）")] = None,
        program: Annotated[
            str | None, typer.Option("--program", help="只看某个项目，如 startup_subsidy")
        ] = None,
        status: Annotated[
            str | None, typer.Option("--status", help="eligible（符合）或 soon（即将符合）")
        ] = None,
        limit: Annotated[int, typer.Option("--limit", min=1, help="最多显示条数")] = 50,
    ) -> None:
        """列出一次匹配运行保存的结果（含结果编号，供 explain-match 使用）。"""
        if program is not None and program not in BY_ID:
            raise _fail(f"没有编号为 {program} 的项目（见 xiangchuang provisions）")
        if status is not None and status not in ("eligible", "soon"):
            raise _fail("--status 须为 eligible 或 soon")
        with _session() as session:
            run, found, total = run_results(
                session=session, run_id=run_id, program=program, status=status, limit=limit
            )
            table = RichTable(
                title=f"匹配运行 {run.id}：{run.on.isoformat()} {_district_label(run.district)}，共 {total:,} 条结果"
            )
            for col in ("结果编号", "项目", "主体", "区县", "结论", "金额", "符合日期"):
                table.add_column(col)
            for r in found:
                table.add_row(
                    str(r.id),
                    BY_ID[r.program].title if r.program in BY_ID else r.program,
                    r.subject_key,
                    str(r.district),
                    STATUS_ZH.get(r.status, r.status),
                    format_fen(r.amount_fen),
                    r.eligible_from.isoformat() if r.eligible_from else "—",
                )
        console.print(table)

    @app.command("explain-match")
    def explain_match(
        result_id: Annotated[int, typer.Argument(help="匹配结果编号（见 match-results）")],
        as_json: Annotated[bool, typer.Option("--json", help="输出稳定的 JSON 结果文档")] = False,
        params_overlay: OverlayOpt = None,
    ) -> None:
        """重新推导一条已保存匹配结果的完整解释（按运行日期从登记库重建该主体的事实）。"""
        params = _params(params_overlay)
        with _session() as session:
            ex = explain_result(
                session=session, result_id=result_id, params=effective_parameters(session, params)
            )
        if as_json:
            doc = dict(
                ex.document,
                stored={"run_id": ex.run.id, "status": ex.result.status, "amount_fen": ex.result.amount_fen},
                warnings=ex.warnings,
            )
            sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
            return
        console.print(
            f"[bold]匹配结果 {result_id}[/]（运行 {ex.run.id}，{ex.run.on.isoformat()}，"
            f"{_district_label(ex.run.district)}）：保存的结论 {STATUS_ZH.get(ex.result.status, ex.result.status)}，"
            f"金额 {format_fen(ex.result.amount_fen)}"
        )
        print_explanation(ex.document, ex.warnings)
