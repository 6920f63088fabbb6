"""xiangchuang — 乡创通 command line.

check: 政策体检 for one case; match: 政策找人 over tables; params: the parameter tree;
provisions: clause coverage; schema: JSON Schemas; synth: synthetic data; demo: the main job.
"""

from __future__ import annotations

import difflib
import json
import sys
import time
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import typer
import yaml
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from xiangchuang.cli_common import (
    CaseOnOpt,
    ChineseTyper,
    OnOpt,
    OverlayOpt,
    console,
    district_option,
    err,
    fail,
    os_reason,
    parameter_set,
    to_date,
)
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.cli_report import district_label, paid_by_text, print_program, status_text
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import CaseError, case_date, json_without_repeats, load_yaml
from xiangchuang.engine.dates import parse_date
from xiangchuang.engine.explain import STATUS_ZH, format_param
from xiangchuang.engine.parameters import Version
from xiangchuang.engine.programs import BY_ID, PROGRAMS, city_only_parameters
from xiangchuang.errors import NOT_UTF8

app = ChineseTyper(
    add_completion=False,
    no_args_is_help=True,
    help="乡创通：返乡入乡创业政策规则引擎与一网通办（渝人社发〔2020〕74号）",
)
_fail = fail
_date = to_date
_params = parameter_set


def _load_case(path: Path) -> dict[str, Any]:
    if path.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise _fail(f"案例文件 {path.name}：扩展名须为 .json、.yaml 或 .yml")
    try:
        # (a byte-order mark, as Windows editors write it, is skipped)
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise _fail(f"无法读取案例文件 {path}（{os_reason(exc)}）") from None
    except UnicodeDecodeError:
        raise _fail(f"案例文件 {path.name}：{NOT_UTF8}") from None
    is_json = path.suffix.lower() == ".json"  # (as the extension check above: .JSON is JSON)
    try:
        data = json.loads(text, object_pairs_hook=json_without_repeats) if is_json else load_yaml(text)
    except (ValueError, yaml.YAMLError) as exc:  # (json.JSONDecodeError is a ValueError)
        raise _fail(
            f"案例文件 {path.name} 不是有效的 {'JSON' if is_json else 'YAML'}：{_syntax_zh(exc)}"
        ) from None
    if not isinstance(data, dict):
        raise _fail(f"案例文件 {path.name}：顶层须为对象")
    return data


# The parsers' English problems, by a phrase each contains, in Chinese (the first that matches).
_SYNTAX_ZH: Final = (
    ("Expecting value", "此处缺少取值（或文件为空）"),
    ("Expecting ',' delimiter", "缺少逗号"),
    ("Expecting ':' delimiter", "缺少冒号"),
    ("Expecting property name", "键须为双引号括起的文本（或多了一个逗号）"),
    ("Unterminated string", "字符串缺少结束的引号"),
    ("Invalid control character", "字符串中有控制字符（如制表符或换行）"),
    ("Invalid \\escape", "无效的转义字符"),
    ("Extra data", "完整的 JSON 之后还有多余的内容"),
    ("'\\t' that cannot start any token", "有制表符：YAML 须用空格缩进"),
    ("mapping values are not allowed", "此处不能出现「键: 值」（缩进有误，或值中的冒号须加引号）"),
    ("could not find expected ':'", "缺少冒号"),
    ("found unexpected end of stream", "文件意外结束（引号或括号未闭合）"),
    ("expected ',' or ']'", "列表 [ ] 未闭合，或缺少逗号"),
    ("expected ',' or '}'", "对象 { } 未闭合，或缺少逗号"),
    ("undefined alias", "引用了未定义的锚点"),
    ("could not determine a constructor", "不支持的标签（!!…）"),
)


def _syntax_zh(exc: Exception) -> str:
    """A JSON or YAML syntax error in Chinese, at its line and column (the parsers' texts are
    English); a message already in Chinese (a key written twice) as it is."""
    if isinstance(exc, json.JSONDecodeError):
        problem, line, column = exc.msg, exc.lineno, exc.colno
    elif isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or ""
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
    else:
        problem, line, column = str(exc), 0, 0
    if not problem.isascii():  # (ours: 「第4行：键 district 重复（第3行已写过）…」)
        return problem
    reason = next((zh for phrase, zh in _SYNTAX_ZH if phrase in problem), "语法错误")
    return f"第{line}行第{column}列：{reason}" if line else reason


@app.command()
def check(
    case_file: Annotated[Path, typer.Argument(help="案例文件（JSON 或 YAML）")],
    on: CaseOnOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出稳定的 JSON 结果文档")] = False,
    params_overlay: OverlayOpt = None,
) -> None:
    """政策体检：评估一个案例，逐项说明符合与否、金额、条件、依据和所缺信息。"""
    case = _load_case(case_file)
    try:
        default = case_date(case)
    except CaseError as exc:
        raise _fail(str(exc)) from None
    day = _date(on, default)
    params = _params(params_overlay)
    try:
        doc = evaluate(case, day, params)
    except CaseError as exc:
        raise _fail(str(exc)) from None
    except OverflowError as exc:  # an amount the facts make too large to compute exactly
        raise _fail(str(exc) if not str(exc).isascii() else "金额超出可精确计算的范围") from None
    if as_json:
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
        return
    print_report(doc)


def print_report(doc: dict[str, Any]) -> None:
    """The readable check-up: the same facts as ``check --json`` (``cli_report.print_program``)."""
    console.print(
        f"[bold]政策体检结果[/]  评估日期 {doc['on']}  引擎 {doc['engine_version']}  参数版本 {doc['parameters_version']}"
    )
    if not doc["programs"]:
        console.print(
            "[yellow]没有适用的项目：案例中没有可评估的主体（person、business、hires、loan、trainings、"
            "mentor_services、carrier、onjob_trainings 之一）[/]"
        )
    for p in doc["programs"]:
        print_program(p)


@app.command()
def match(
    tables: Annotated[
        Path | None,
        typer.Argument(help="输入表所在目录（<表名>.parquet 或 .csv，见 README）；或用 --from-db"),
    ] = None,
    on: OnOpt = None,
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件 .csv 或 .parquet")] = Path(
        "match.csv"
    ),
    include_undetermined: Annotated[bool, typer.Option(help="同时输出“待定”行")] = False,
    params_overlay: OverlayOpt = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="从登记库读取并保存匹配结果（同 match-db）")
    ] = False,
    district_text: Annotated[
        str | None, typer.Option("--district", help="与 --from-db 同用：只评估该区县（6位数字，如 500101）")
    ] = None,
    rebuild_snapshot: Annotated[
        bool, typer.Option("--rebuild-snapshot", help="与 --from-db 同用：重建事实快照（不使用现有快照）")
    ] = False,
) -> None:
    """政策找人：对整批主体运行全部项目，输出符合及即将符合的（主体, 项目）行和金额。"""
    if from_db:
        from xiangchuang.registry.cli_match import match_from_db

        match_from_db(
            on=on,
            district=district_option(district_text),
            params_overlay=params_overlay,
            rebuild_snapshot=rebuild_snapshot,
        )
        return
    if tables is None:
        raise _fail("请指定输入表目录，或使用 --from-db 从登记库读取")
    from xiangchuang.batchio import (
        BatchInputError,
        check_not_input,
        check_output,
        load_directory,
        match_rows,
        summarize,
        write_output,
    )
    from xiangchuang.engine.assemble import assemble
    from xiangchuang.engine.dates import to_day
    from xiangchuang.engine.evaluate import run_programs
    from xiangchuang.engine.program import Program

    if not tables.exists():
        raise _fail(f"输入表目录 {tables} 不存在")
    if not tables.is_dir():
        raise _fail(
            f"{tables} 不是目录：match 的参数是输入表所在的目录（其中每张表一个 .parquet 或 .csv 文件）"
        )
    day = _date(on)
    params = _params(params_overlay)
    try:
        check_output(output)
        check_not_input(output, tables)
    except BatchInputError as exc:
        raise _fail(str(exc)) from None
    t0 = time.perf_counter()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        disable=False,  # (Rich animates it on a terminal and prints its last state once elsewhere)
    ) as progress:
        load = progress.add_task("读取数据表", total=12)
        try:
            facts, report = load_directory(tables, lambda name: progress.advance(load))
        except BatchInputError as exc:
            raise _fail(str(exc)) from None
        progress.update(load, completed=12)
        t1 = time.perf_counter()
        assemble(facts, to_day(day))
        task = progress.add_task("评估政策项目", total=len(PROGRAMS))

        def finished(prog: Program) -> None:
            progress.update(task, description=f"已评估 {prog.title}")
            progress.advance(task)

        try:
            outcomes = run_programs(PROGRAMS, facts, to_day(day), params, details=False, done=finished)
        except OverflowError as exc:  # an input so large that an amount cannot be exact
            raise _fail(str(exc)) from None
        t2 = time.perf_counter()
    result = match_rows(outcomes, include_undetermined)
    try:
        write_output(result, output)
    except BatchInputError as exc:
        raise _fail(str(exc)) from None
    t3 = time.perf_counter()
    table = RichTable(
        title=f"政策找人 {day.isoformat()}（{', '.join(f'{k} {v}' for k, v in report.rows.items() if k in ('businesses', 'persons'))}）"
    )
    for col in ("项目", "评估对象", "符合", "即将符合", "待定", "不符合", "符合金额（元）"):
        table.add_column(col, justify="right" if col != "项目" else "left")
    for s in summarize(outcomes):
        table.add_row(
            s["title"],
            f"{s['subjects']:,}",
            f"{s['eligible']:,}",
            f"{s['soon']:,}",
            f"{s['undetermined']:,}",
            f"{s['ineligible']:,}",
            f"{s['amount_fen'] / 100:,.2f}",
        )
    console.print(table)
    for ref, n in report.unresolved.items():
        console.print(f"[yellow]提示：{ref} 有 {n} 行引用的编号不存在，按“未知”处理[/]")
    if report.absent:
        console.print(
            f"[yellow]提示：目录中没有这些表的文件，其事实均按“未知”处理（可用的表见 xiangchuang schema tables）："
            f"{escape('、'.join(report.absent))}[/]"
        )
    if report.ignored:
        console.print(
            f"[yellow]提示：未读取的文件（不是数据表的文件名）：{escape('、'.join(report.ignored))}[/]"
        )
    console.print(
        f"写出 {result.num_rows:,} 行 → {output}；读取 {t1 - t0:.2f}s，评估 {t2 - t1:.2f}s，写出 {t3 - t2:.2f}s"
    )


@app.command()
def params(
    name: Annotated[
        str | None,
        typer.Argument(
            help="参数全名（如 loan_individual.ceiling）只显示该参数；参数组名（点号分隔的前段，"
            "如 loan_individual 或 loan_individual.）显示组内全部参数；缺省显示全部。"
            "其他名称（含不在点号处截断的前缀）报错，并列出最接近的参数名"
        ),
    ] = None,
    on: OnOpt = None,
    district_text: Annotated[
        str | None, typer.Option("--district", help="区县代码，6位数字，如 500101")
    ] = None,
    params_overlay: OverlayOpt = None,
    history: Annotated[
        bool, typer.Option("--history", help="列出每个参数的全部历史版本（只查一个参数时自动列出）")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """参数树：每个参数在某日、某区县的取值、生效日期、依据和核实状态，以及全部历史。

    NAME 为参数全名时只显示该参数（并列出其历史版本）；为参数组名（点号处的前段，如 loan_individual
    或 loan_individual.）时显示该组全部参数；不是参数名也不是参数组名时报错（退出码 2），并列出最接近的名称。
    """
    pset = _params(params_overlay)
    day = _date(on)
    district = district_option(district_text)
    names = _select_parameters(list(pset), name)
    # Parameters the engine reads at the city's values only (their programs' subjects have no
    # district: free workstations): a district's value of them is shown as such, never as in force.
    city_only = city_only_parameters()

    def applied(n: str) -> Version | None:
        return pset[n].version_at(day, None if n in city_only else district)

    docs = []
    for n in names:
        p = pset[n]
        v = applied(n)
        doc: dict[str, Any] = {
            "name": n,
            "label": p.label,
            "unit": p.unit,
            "clause": p.clause,
            # (A money value (unit yuan) is in fen; ``display`` shows it in yuan.)
            "in_force": {**v.as_dict(p.unit), "display": format_param(v.value, p.unit, n)} if v else None,
            "history": [
                {**x.as_dict(p.unit), "display": format_param(x.value, p.unit, n)} for x in p.versions
            ],
        }
        if n in city_only:
            doc["city_only"] = True
            doc["note"] = CITY_ONLY_NOTE
        docs.append(doc)
    if as_json:
        sys.stdout.write(json.dumps(docs, ensure_ascii=False, indent=2) + "\n")
        return
    where = f"，区县 {district_label(district)}" if district is not None else ""
    table = RichTable(title=f"参数（{day.isoformat()}{where}）")
    # With --district, whose value applies: the district's own, or the city's (全市).
    columns = (
        "参数",
        "说明",
        "取值",
        *(("适用范围",) if district is not None else ()),
        "生效日期",
        "依据",
        "状态",
    )
    for col in columns:
        table.add_column(col, no_wrap=col == "生效日期")
    for n in names:
        p = pset[n]
        v = applied(n)
        scope = () if district is None else (("",) if v is None else (_scope(v, n in city_only),))
        if v is None:
            table.add_row(n, p.label, "（该日无有效值）", *scope, "", "", "")
            continue
        table.add_row(
            n,
            p.label,
            format_param(v.value, p.unit, n) + _paid_by(v, where=district is None),
            *scope,
            v.since.isoformat(),
            v.reference,
            _status(v),
        )
    console.print(table)
    shown_city_only = [n for n in names if n in city_only and pset[n].has_overrides]
    if shown_city_only or (district is not None and any(n in city_only for n in names)):
        console.print(f"[yellow]注意：{'、'.join(n for n in names if n in city_only)}——{CITY_ONLY_NOTE}[/]")
    if history or len(names) == 1:
        several = len(names) > 1
        hist = RichTable(title="历史版本（按生效日期；「适用」为上表所查日期、区县适用的版本）")
        if several:
            hist.add_column("参数")
        hist.add_column("生效日期", no_wrap=True)
        for col in ("适用范围", "取值", "依据", "状态"):
            hist.add_column(col)
        hist.add_column("", no_wrap=True)
        for n in names:
            p = pset[n]
            current = applied(n)
            for k, v in enumerate(sorted(p.versions, key=lambda x: (x.district or 0, x.since))):
                cells = [n if k == 0 else ""] if several else []
                hist.add_row(
                    *cells,
                    v.since.isoformat(),
                    _scope(v, n in city_only),
                    format_param(v.value, p.unit, n) + _paid_by(v, where=False),
                    v.reference,
                    _status(v),
                    "适用" if v is current else "",
                )
        console.print(hist)


def _select_parameters(all_names: list[str], name: str | None) -> list[str]:
    """The parameters ``params NAME`` shows: all (no NAME); the one named NAME exactly; or the group
    NAME names at a dot boundary (``loan`` or ``loan.``: loan.*, not loan_individual.*). Anything
    else is an error naming the closest parameter and group names."""
    if name is None:
        return all_names
    if name in all_names:
        return [name]
    group = name.removesuffix(".")
    members = [n for n in all_names if n.startswith(group + ".")] if group else []
    if members:
        return members
    groups = sorted({n[:i] for n in all_names for i, ch in enumerate(n) if ch == "."})
    close = difflib.get_close_matches(name, [*all_names, *groups], n=5, cutoff=0.6)
    hint = f"最接近的名称：{'、'.join(close)}" if close else "不带名称运行 xiangchuang params 可列出全部参数"
    raise _fail(f"没有名为「{name}」的参数或参数组（{hint}）")


# Why a parameter's district values never apply (``city_only_parameters``, README choice 38).
CITY_ONLY_NOTE = (
    "只按全市取值：使用该参数的项目（免费创业工位）的对象是人员，系统没有其所在区县，"
    "区县设定的取值不会适用（README 选择 38）"
)


def _scope(v: Version, city_only: bool = False) -> str:
    """Where a version applies: 全市, or the district that set it (which never applies to a
    parameter read at city values only)."""
    if not v.district:
        return "全市"
    return district_label(v.district) + ("（不适用：只按全市取值）" if city_only else "")


def _paid_by(v: Version, *, where: bool = True) -> str:
    return paid_by_text(v.district, v.paid_by, where=where)


def _status(v: Version) -> str:
    return status_text(v.status)


@app.command()
def provisions(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """条款覆盖表：通知 1.1–5.15 每一条由哪个项目或功能实现、尚未建成的部分。"""
    data = yaml.safe_load(
        resources.files("xiangchuang.policy").joinpath("clauses.yaml").read_text(encoding="utf-8")
    )
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        return
    table = RichTable(title="渝人社发〔2020〕74号 条款覆盖表", show_lines=True)
    for col in ("条款", "标题", "实现项目", "状态", "已建成", "尚未建成"):
        table.add_column(col)
    labels = {"built": "[green]已建成[/]", "partial": "[yellow]部分建成[/]", "not_built": "[red]未建成[/]"}
    for clause, c in data.items():
        progs = "、".join(f"{p}（{BY_ID[p].title}）" for p in c.get("programs") or [])
        table.add_row(
            clause, c["title"], progs, labels[c["status"]], c.get("built", ""), c.get("missing", "")
        )
    console.print(table)


@app.command()
def schema(which: Annotated[str, typer.Argument(help="case | result | tables")]) -> None:
    """输出 JSON Schema：case（案例文档）、result（结果文档）或 tables（批量输入表的列）。"""
    from xiangchuang.engine.facts import TABLES
    from xiangchuang.engine.schema import case_schema, result_schema

    if which == "case":
        doc: Any = case_schema()
    elif which == "result":
        doc = result_schema()
    elif which == "tables":
        doc = {
            t: [{"name": f.name, "kind": f.kind, "label": f.label, "choices": list(f.choices)} for f in fs]
            for t, fs in TABLES.items()
        }
    else:
        raise _fail("schema 的参数须为 case、result 或 tables")
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


# The most businesses ``synth`` generates: ten times the 1M benchmark data. A larger number is a
# usage error in Chinese (10^20 ended in NumPy's "Maximum allowed dimension exceeded" traceback).
SYNTH_MAX_BUSINESSES = 10_000_000


@app.command()
def synth(
    businesses: Annotated[
        int, typer.Option("--businesses", min=1, max=SYNTH_MAX_BUSINESSES, help="经营主体数量")
    ] = 10000,
    seed: Annotated[int, typer.Option("--seed", min=0, help="随机种子（非负整数）")] = 1,
    output: Annotated[Path, typer.Option("-o", "--output", help="输出目录")] = Path("data/synth"),
    fmt: Annotated[str, typer.Option("--format", help="parquet 或 csv")] = "parquet",
) -> None:
    """生成逼真的重庆合成数据（41个区县按人口加权、有效身份证号和统一社会信用代码、社保缴费历史等）。"""
    from xiangchuang import synth as synth_mod

    if fmt not in ("parquet", "csv"):
        raise _fail("--format 须为 parquet 或 csv")
    if output.exists() and not output.is_dir():
        raise _fail(f"输出目录 {output}：这是一个文件，须为目录")
    t0 = time.perf_counter()
    with console.status(f"生成 {businesses:,} 个经营主体的合成数据……"):
        try:
            tables = synth_mod.generate(businesses, seed)
        except MemoryError:
            raise _fail(f"--businesses {businesses:,}：内存不足，无法生成这么多经营主体的数据") from None
        try:
            paths = synth_mod.write(tables, output, fmt)  # type: ignore[arg-type]
        except OSError as exc:  # (all or nothing: the directory is as it was)
            where = f" {exc.filename}" if exc.filename else ""
            raise _fail(f"输出目录 {output}：无法写入{where}（{os_reason(exc)}），未写出任何文件") from None
    for p in paths:
        console.print(f"  {p}")
    console.print(
        f"完成：{', '.join(f'{k} {v:,}' for k, v in synth_mod.summary(tables).items())}（{time.perf_counter() - t0:.1f}s）"
    )


@app.command()
def demo(
    businesses: Annotated[int, typer.Option("--businesses", min=1, help="演示经营主体数量")] = 5000,
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="演示数据目录（SQLite 数据库与密钥环）")
    ] = Path("data/demo"),
    on: OnOpt = None,
    reset: Annotated[bool, typer.Option("--reset", help="删除已有演示数据库和密钥环后重新生成")] = False,
) -> None:
    """主任务（演示）：在内嵌 SQLite 上生成密钥、迁移数据库、载入合成演示数据（非真实个人信息），
    运行政策找人并保存结果，再展示一个案例的完整解释。"""
    import os

    from xiangchuang.config import get_settings
    from xiangchuang.registry.cli_import import db_upgrade_command, demo_data_command, demo_services_command
    from xiangchuang.registry.cli_match import match_from_db

    data_dir = data_dir.resolve()
    db_file = data_dir / "xiangchuang.db"
    if reset:
        for f in (
            db_file,
            db_file.with_name(db_file.name + "-wal"),
            db_file.with_name(db_file.name + "-shm"),
            data_dir / "keyring.json",
        ):
            f.unlink(missing_ok=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    # The demo always runs on its own embedded database, whatever the environment names.
    os.environ["XIANGCHUANG_DATA_DIR"] = str(data_dir)
    os.environ["XIANGCHUANG_DATABASE_URL"] = f"sqlite:///{db_file}"
    os.environ["XIANGCHUANG_DEMO"] = "true"
    os.environ.pop("XIANGCHUANG_KEYRING", None)
    os.environ.pop("XIANGCHUANG_KEYRING_FILE", None)
    get_settings.cache_clear()
    console.rule("[bold]1. 数据库迁移")
    db_upgrade_command()
    console.rule("[bold]2. 载入演示数据（合成数据，经导入校验与 SM4 加密）")
    if _registry_is_empty(f"sqlite:///{db_file}"):
        demo_data_command(businesses=businesses, seed=2020)
    else:
        console.print("登记库已有数据，跳过（--reset 可重新生成）")
    console.rule("[bold]3. 政策找人（登记库，结果已保存）")
    if on is None:
        on = DEMO_ON
        console.print(f"合成数据截至2025年底，演示评估日期取 {DEMO_ON}（--on 可改）")
    match_from_db(on=on, district=None, params_overlay=None)
    console.rule("[bold]4. 各项服务的演示记录（培训、载体、用工、联络等）")
    demo_services_command(_date(on))
    console.rule("[bold]5. 政策体检：一个案例的完整解释")
    example = resources.files("xiangchuang.policy").joinpath("examples", "returning_founder.yaml")
    case = load_yaml(example.read_text(encoding="utf-8"))
    print_report(evaluate(case, parse_date(case.get("on") or _date(on))))
    console.print(
        f"\n演示数据目录：{data_dir}。接着可以试：xiangchuang match-results、xiangchuang explain-match 结果编号、"
        "xiangchuang check 案例.yaml、xiangchuang params、xiangchuang provisions"
    )


@app.command("verify-audit")
def verify_audit_command() -> None:
    """校验审计日志的 HMAC-SM3 哈希链：完整则输出链头（请另行留存），断裂则指出第一条断裂记录并以非零退出。"""
    from sqlalchemy.exc import SQLAlchemyError

    from xiangchuang.audit.chain import verify_audit
    from xiangchuang.config import get_settings
    from xiangchuang.crypto import KeyRing, KeyRingError
    from xiangchuang.db import make_engine

    settings = get_settings()
    try:
        ring = KeyRing.load(settings.keyring, settings.resolved_keyring_file)
    except KeyRingError as exc:
        raise _fail(str(exc)) from None
    engine = make_engine(settings.resolved_database_url)
    try:
        result = verify_audit(engine=engine, ring=ring)
    except SQLAlchemyError as exc:
        raise _fail(
            f"无法读取审计日志（是否已运行 xiangchuang db upgrade？）：{type(exc).__name__}"
        ) from None
    finally:
        engine.dispose()
    if not result.ok:
        err.print(f"[bold red]{escape(result.message)}[/]")
        raise typer.Exit(1)
    console.print(result.message)


DEMO_ON = "2026-01-20"


def _registry_is_empty(url: str) -> bool:
    from sqlalchemy import func, select

    from xiangchuang.db import make_engine
    from xiangchuang.models import Business

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return not conn.execute(select(func.count()).select_from(Business)).scalar_one()
    finally:
        engine.dispose()


def _register_registry_commands() -> None:
    from xiangchuang import cli_backup
    from xiangchuang.applications import cli_applications
    from xiangchuang.carriers import cli_carriers
    from xiangchuang.community import cli_community
    from xiangchuang.jobs import cli_jobs
    from xiangchuang.loans import cli_loans
    from xiangchuang.mentors import cli_mentors
    from xiangchuang.outbox import cli_outbox
    from xiangchuang.outreach import cli_outreach
    from xiangchuang.registry import cli_import, cli_match
    from xiangchuang.services import cli_services
    from xiangchuang.stats import cli_stats
    from xiangchuang.training import cli_training
    from xiangchuang.web import cli_web

    cli_import.register(app)
    cli_match.register(app)
    cli_web.register(app)
    cli_loans.register(app)
    cli_applications.register(app)
    cli_stats.register(app)
    cli_mentors.register(app)
    cli_backup.register(app)
    cli_outbox.register(app)
    cli_training.register(app)
    cli_outreach.register(app)
    cli_services.register(app)
    cli_community.register(app)
    cli_jobs.register(app)
    cli_carriers.register(app)


_register_registry_commands()


def main() -> None:
    app()


_ = STATUS_ZH


if __name__ == "__main__":
    main()
