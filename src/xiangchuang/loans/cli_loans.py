"""Loan commands (创业担保贷款), registered on the main Typer app by xiangchuang.cli:

- ``xiangchuang loans settle --quarter 2026Q3 [--district CODE] [--bank CODE]``: the quarter's interest
  subsidies, one transaction per loan, booked through the ledger (idempotent: running it again pays
  nothing more); exit 1 if a loan could not be settled.
- ``xiangchuang loans schedule CONTRACT_NO``: the repayment schedule in force, with what is covered.
- ``xiangchuang loans statement --quarter 2026Q3 -o 结算单.xlsx [--district] [--bank]``: the Excel statement.

The command line is the city operator's tool: it acts as ``city_admin`` (account ``cli:<OS user>``), and
writes the audit chain with the key derived from the key ring (XIANGCHUANG_KEYRING / _KEYRING_FILE).
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from xiangchuang.audit.chain import audit_key
from xiangchuang.cli_common import ChineseTyper, OverlayOpt, console, district_option, fail, parameter_set
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import get_settings
from xiangchuang.crypto import KeyRing, KeyRingError
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.engine.money import fen_to_capital, format_fen
from xiangchuang.errors import DomainError
from xiangchuang.loans import repository as repo
from xiangchuang.loans.schedule import METHOD_LABELS
from xiangchuang.loans.service import KIND_LABELS, Actor, get_by_contract
from xiangchuang.loans.settlement import export_statement, settle_quarter
from xiangchuang.loans.workflow import STATE_LABELS
from xiangchuang.paramchanges.service import effective_parameters

__all__ = ["register"]

QuarterOpt = Annotated[str, typer.Option("--quarter", help="结算季度，如 2026Q3")]
DistrictOpt = Annotated[str | None, typer.Option("--district", help="只结算该区县（6位数字）；缺省为全市")]
BankOpt = Annotated[str | None, typer.Option("--bank", help="只结算该经办银行（银行代码）")]


def _actor() -> Actor:
    return Actor(user=f"cli:{getpass.getuser()}", role="city_admin")


def _key() -> bytes:
    settings = get_settings()
    try:
        return audit_key(KeyRing.load(settings.keyring, settings.resolved_keyring_file))
    except KeyRingError as exc:
        raise fail(str(exc)) from None


@contextmanager
def _engine() -> Iterator[Engine]:
    engine = make_engine(get_settings().resolved_database_url)
    try:
        yield engine
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
    except DomainError as exc:
        raise fail(exc.message) from None
    finally:
        engine.dispose()


def settle_command(
    quarter: QuarterOpt,
    district: DistrictOpt = None,
    bank: BankOpt = None,
    params_overlay: OverlayOpt = None,
) -> None:
    """季度贴息结算：逐笔贷款按实际余额、贴息利率、贴息天数计算，市级与区县财政部分分别记账（重复运行不重复支付）。"""
    code = district_option(district)
    params = parameter_set(params_overlay)
    key = _key()
    with _engine() as engine:
        with make_sessionmaker(engine)() as s:  # the YAML plus the city's approved parameter changes
            params = effective_parameters(s, params)
        report = settle_quarter(
            make_sessionmaker(engine),
            quarter=quarter,
            actor=_actor(),
            audit_key=key,
            district=code,
            bank=bank,
            params=params,
        )
    table = RichTable(title=f"创业担保贷款贴息结算 {quarter}")
    for col in ("贷款编号", "市级及以上资金", "区县财政", "合计"):
        table.add_column(col, justify="right" if col != "贷款编号" else "left")
    for loan_no, city, dist in report.settled:
        table.add_row(loan_no, format_fen(city), format_fen(dist), format_fen(city + dist))
    console.print(table)
    total = report.city_fen + report.district_fen
    console.print(
        f"本次结算 {len(report.settled)} 笔，合计 {format_fen(total)}（{fen_to_capital(total)}）："
        f"市级及以上资金 {format_fen(report.city_fen)}，区县财政 {format_fen(report.district_fen)}；"
        f"此前已结算 {len(report.already)} 笔"
    )
    for loan_no, message in report.failed:
        console.print(f"[bold red]未结算[/] {loan_no}：{message}")
    if report.failed:
        raise typer.Exit(1)


def schedule_command(contract_no: Annotated[str, typer.Argument(help="借款合同编号")]) -> None:
    """显示借款合同的还款计划（现行计划：展期后为新计划），含已还清的期次。"""
    with _engine() as engine, transaction(make_sessionmaker(engine)) as session:
        loan = get_by_contract(session, contract_no=contract_no, actor=_actor())
        plan = repo.current_schedule(session, loan.id)
        assert loan.contract_amount_fen is not None and loan.repayment_method is not None
        console.print(
            f"{KIND_LABELS[loan.kind]} {loan.loan_no}，合同 {contract_no}：{format_fen(loan.contract_amount_fen)}，"
            f"年利率 {loan.rate_bp}基点（LPR {loan.lpr_bp}基点），{loan.term_months}个月，"
            f"{METHOD_LABELS[loan.repayment_method]}，到期日 {loan.extended_maturity_date or loan.maturity_date}，"
            f"状态：{STATE_LABELS[loan.state]}"
        )
        table = RichTable()
        for col in ("期次", "应还日", "本金", "利息", "合计", "已还清"):
            table.add_column(col, justify="right")
        for inst in plan:
            table.add_row(
                str(inst.seq),
                inst.due_date.isoformat(),
                format_fen(inst.principal_fen),
                format_fen(inst.interest_fen),
                format_fen(inst.principal_fen + inst.interest_fen),
                inst.covered_on.isoformat() if inst.covered_on else "",
            )
        console.print(table)
        principal = sum(i.principal_fen for i in plan)
        interest = sum(i.interest_fen for i in plan)
        console.print(f"本金合计 {format_fen(principal)}，利息合计 {format_fen(interest)}")


def statement_command(
    quarter: QuarterOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="输出 Excel 文件")],
    district: DistrictOpt = None,
    bank: BankOpt = None,
) -> None:
    """导出季度贴息结算单（Excel，借款人姓名脱敏，金额含中文大写），导出写审计。"""
    code = district_option(district)
    key = _key()
    with _engine() as engine, transaction(make_sessionmaker(engine)) as session:
        rows = export_statement(
            session,
            quarter=quarter,
            path=out,
            actor=_actor(),
            audit_key=key,
            district=code,
            bank=bank,
        )
    console.print(f"已导出 {rows} 笔贴息结算明细：{out}")


def register(app: typer.Typer) -> None:
    loans = ChineseTyper(help="创业担保贷款：季度贴息结算、还款计划、结算单", no_args_is_help=True)
    loans.command("settle")(settle_command)
    loans.command("schedule")(schedule_command)
    loans.command("statement")(statement_command)
    app.add_typer(loans, name="loans")
