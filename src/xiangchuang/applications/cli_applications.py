"""Application commands (registered on the main Typer app by xiangchuang.cli).

- ``xiangchuang invite RUN_ID [--district CODE] [--program ID]…``: 免申即享 invitations from a stored
  政策找人 run (a district reviewer's command with ``--district``, the scheduled job without it);
  running it again creates nothing new.
- ``xiangchuang expire-invitations``: the scheduled job moving unanswered invitations to 已过期.
- ``xiangchuang publicity BATCH_NO [-o 公示名单.xlsx]``: print a publicity list as the public sees it
  (masked); with ``-o`` write the Excel file to post (the export is audited).
- ``xiangchuang disburse budget|batch|run|export|confirm|payee-account``: district finance (区县财政) in the terminal —
  open the budget, make a batch of approved applications (拨付中), pay it, write the bank file, confirm
  已拨付; each acts as the district_finance account named by ``--actor`` in ``--district`` and is audited
  like the finance pages (rules in :mod:`xiangchuang.applications.disbursement`).

Each command is one transaction; the audit key is derived from the key ring, as for ``verify-audit``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from xiangchuang.applications import disbursement, invitations, publicity
from xiangchuang.applications import repository as repo
from xiangchuang.audit import audit_key
from xiangchuang.cli_common import ChineseTyper, console, district_option, fail
from xiangchuang.cli_common import Table as RichTable
from xiangchuang.config import get_settings
from xiangchuang.crypto import FieldCipher, KeyRing, KeyRingError
from xiangchuang.db import make_engine, make_sessionmaker, transaction
from xiangchuang.engine.money import format_fen, yuan_to_fen
from xiangchuang.errors import DomainError
from xiangchuang.models import DisbursementItem
from xiangchuang.registry.pii import Pii

__all__ = ["register"]

ActorOpt = Annotated[str, typer.Option("--actor", help="操作人账号（写入审计日志）")]


def _ring() -> KeyRing:
    settings = get_settings()
    try:
        return KeyRing.load(settings.keyring, settings.resolved_keyring_file)
    except KeyRingError as exc:
        raise fail(str(exc)) from None


@contextmanager
def _session() -> Iterator[Session]:
    engine = make_engine(get_settings().resolved_database_url)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
    except DomainError as exc:
        raise fail(exc.message, code=1) from None
    finally:
        engine.dispose()


def invite_command(
    run_id: Annotated[int, typer.Argument(help="政策找人运行编号（xiangchuang match-results 显示）")],
    district: Annotated[
        str | None, typer.Option("--district", help="区县人社审核：只邀请本区县的结果（6位数字）")
    ] = None,
    program: Annotated[
        list[str] | None, typer.Option("--program", help="只邀请这些项目（可多次指定）")
    ] = None,
    actor: ActorOpt = "system:invitations",
) -> None:
    """免申即享：把一次政策找人运行中“符合”的结果变成待确认的申请，并通知申请人（可重复运行，不会重复邀请）。"""
    code = district_option(district)
    key = audit_key(_ring())
    with _session() as s:
        report = invitations.create_invitations(
            s,
            run_id=run_id,
            actor=actor,
            role="district_reviewer" if code is not None else "system",
            actor_district=code,
            audit_key=key,
            programs=program or None,
        )
    console.print(
        f"新发出邀请 {len(report.created)} 份；此前已邀请 {report.existing} 份；跳过 {len(report.skipped)} 份"
    )
    for prog, subject, reason in report.skipped[:20]:
        console.print(f"  跳过 {prog} {subject}：{reason}")


def expire_command() -> None:
    """定时任务：把超过有效期仍未确认的免申即享邀请标记为已过期。"""
    key = audit_key(_ring())
    with _session() as s:
        expired = invitations.expire_invitations(s, audit_key=key)
    console.print(f"已过期的邀请 {len(expired)} 份")


def publicity_command(
    batch_no: Annotated[str, typer.Argument(help="公示批次号，如 GS50010120250303")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="导出公示名单 Excel")] = None,
    actor: ActorOpt = "cli",
) -> None:
    """显示公示名单（姓名、身份证号脱敏）；指定 -o 时导出 Excel（导出写审计日志）。"""
    ring = _ring()
    pii = Pii(FieldCipher(ring))
    with _session() as s:
        view = publicity.public_view(s, batch_no=batch_no, pii=pii)
        if output is not None:
            batch = repo.publicity_batch(s, batch_no=batch_no)
            n = publicity.export_list(
                s,
                batch_id=batch.id,
                pii=pii,
                path=output,
                actor=actor,
                role="city_admin",
                actor_district=None,
                audit_key=audit_key(ring),
            )
            console.print(f"已导出 {n} 行到 {output}")
    table = RichTable(title=view.title, caption=view.period_text)
    for header in ("序号", "姓名", "身份证号", "经营主体", "补贴项目", "拟补贴金额"):
        table.add_column(header)
    for line in view.lines:
        table.add_row(str(line.seq), line.name, line.id_number, line.business_name, line.program, line.amount)
    console.print(table)
    if view.end_date < dt.date.today():
        console.print(f"公示期已于 {view.end_date} 结束")


# --- disburse (区县财政) ----------------------------------------------------------------------------

DistrictOpt = Annotated[str, typer.Option("--district", help="区县代码，6位数字（以该区县财政的身份办理）")]
FinanceActorOpt = Annotated[str, typer.Option("--actor", help="区县财政操作人账号（写入审计日志）")]
BatchArg = Annotated[int, typer.Argument(help="拨付批次编号（xiangchuang disburse batch 显示）")]
FINANCE = "district_finance"


def _actor(actor: str) -> str:
    if not actor.strip():
        raise fail("--actor：须填写区县财政操作人账号")
    return actor.strip()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def budget_command(
    district: DistrictOpt,
    amount_yuan: Annotated[str, typer.Option("--amount-yuan", help="下达预算金额（元，最多两位小数）")],
    note: Annotated[str, typer.Option("--note", help="备注（如文号）")] = "",
) -> None:
    """下达（追加）本区县市级及以上资金预算。"""
    code = district_option(district)
    try:
        fen = yuan_to_fen(amount_yuan.replace(",", "").strip())
    except (ValueError, ArithmeticError):
        raise fail(f"--amount-yuan：须为金额数字（元，最多两位小数），不是 {amount_yuan!r}") from None
    with _session() as s:
        disbursement.open_budget(s, district=code, amount_fen=fen, at=_now(), note=note)
    console.print(f"已下达预算 {format_fen(fen)}（区县 {code}）")


def batch_command(
    district: DistrictOpt,
    ids: Annotated[str, typer.Option("--ids", help="已核准申请的编号，逗号分隔，如 1,2,3")],
    actor: FinanceActorOpt,
) -> None:
    """把已核准的申请转为拨付中，并生成拨付批次。"""
    code = district_option(district)
    parts = [p.strip() for p in ids.replace("，", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise fail(f"--ids：须为逗号分隔的申请编号，如 1,2,3，不是 {ids!r}")
    key = audit_key(_ring())
    at, who = _now(), _actor(actor)
    held: str | None = None
    with _session() as s:
        try:
            with s.begin_nested():
                batch = disbursement.start_batch(
                    s,
                    application_ids=[int(p) for p in parts],
                    district=code,
                    at=at,
                    params=None,
                    audit_key=key,
                    actor=who,
                    role=FINANCE,
                    actor_district=code,
                )
        except disbursement.PayeeHeld as exc:  # refused as a whole; the holds are audited (committed)
            exc.record(s, audit_key=key, actor=who, role=FINANCE, at=at)
            held = exc.message
        else:
            count, total = s.execute(
                select(func.count(), func.coalesce(func.sum(DisbursementItem.amount_fen), 0)).where(
                    DisbursementItem.batch_id == batch.id
                )
            ).one()
            batch_id, batch_no = batch.id, batch.batch_no
    if held is not None:
        raise fail(held, code=1)
    console.print(f"拨付批次 {batch_id}（{batch_no}）：{count} 笔，合计 {format_fen(int(total))}")


def payee_account_command(
    district: DistrictOpt,
    org_code: Annotated[str, typer.Option("--org", help="单位代码（申请中 org: 之后的部分）")],
    org_name: Annotated[str, typer.Option("--name", help="单位名称")],
    bank_name: Annotated[str, typer.Option("--bank", help="开户银行")],
    account: Annotated[str, typer.Option("--account", help="对公账号（8–32 位数字）")],
    actor: FinanceActorOpt,
) -> None:
    """登记（或更正）收款单位对公账户：以单位名义申请的补贴（培训机构、载体运营单位）拨付到该账户。"""
    code = district_option(district)
    ring = _ring()
    with _session() as s:
        row = disbursement.register_payee_account(
            s,
            org_code=org_code,
            org_name=org_name,
            bank_name=bank_name,
            account=account,
            district=code,
            actor=_actor(actor),
            role=FINANCE,
            actor_district=code,
            cipher=FieldCipher(ring),
            audit_key=audit_key(ring),
            at=_now(),
        )
        shown = f"{row.org_code} {row.org_name} {row.bank_name} {row.account_masked}"
    console.print(f"已登记收款单位账户：{shown}")


def run_command(
    batch_id: BatchArg,
    district: DistrictOpt,
    actor: Annotated[
        str, typer.Option("--actor", help="区县财政操作人账号（写入审计日志；缺省 cli）")
    ] = "cli",
) -> None:
    """支付拨付批次中尚未支付的各笔（每笔单独记账，可重复运行，不会重复支付）。
    经营主体的申请在支付日重新核对收款人：已不是现任法定代表人（经营者）的暂缓拨付（写入审计日志）。"""
    code = district_option(district)
    key = audit_key(_ring())
    engine = make_engine(get_settings().resolved_database_url)
    try:
        result = disbursement.run_disbursement(
            make_sessionmaker(engine),
            batch_id=batch_id,
            district=code,
            audit_key=key,
            actor=_actor(actor),
            role=FINANCE,
            at=_now(),
        )
    except (OperationalError, ProgrammingError) as exc:
        raise fail(f"数据库访问失败（是否已运行 xiangchuang db upgrade？）：{exc.orig}") from None
    except DomainError as exc:
        raise fail(exc.message, code=1) from None
    finally:
        engine.dispose()
    console.print(
        f"本次支付 {result.paid} 笔；此前已支付 {result.already_paid} 笔；合计 {format_fen(result.total_fen)}"
    )
    if result.held:
        raise fail(f"{len(result.held)} 笔暂缓拨付：" + "；".join(result.held), code=1)


def export_command(
    batch_id: BatchArg,
    district: DistrictOpt,
    actor: FinanceActorOpt,
    output: Annotated[Path, typer.Option("-o", "--output", help="银行代发文件（Excel）")],
) -> None:
    """导出银行代发文件（含完整账号，导出写审计日志）。"""
    code = district_option(district)
    ring = _ring()
    with _session() as s:
        n = disbursement.export_bank_file(
            s,
            batch_id=batch_id,
            district=code,
            pii=Pii(FieldCipher(ring)),
            path=output,
            actor=_actor(actor),
            audit_key=audit_key(ring),
        )
    console.print(f"已导出 {n} 笔到 {output}")


def confirm_command(batch_id: BatchArg, district: DistrictOpt, actor: FinanceActorOpt) -> None:
    """把批次中已支付各笔对应的申请标记为已拨付。"""
    code = district_option(district)
    key = audit_key(_ring())
    with _session() as s:
        done = disbursement.confirm_batch(
            s,
            batch_id=batch_id,
            district=code,
            at=_now(),
            params=None,
            audit_key=key,
            actor=_actor(actor),
            role=FINANCE,
            actor_district=code,
        )
    console.print(f"已确认拨付 {done} 份申请")


def register(app: typer.Typer) -> None:
    app.command("invite")(invite_command)
    app.command("expire-invitations")(expire_command)
    app.command("publicity")(publicity_command)
    disburse = ChineseTyper(
        help="区县财政：下达预算、拨付批次、支付、银行代发文件、确认拨付", no_args_is_help=True
    )
    disburse.command("budget")(budget_command)
    disburse.command("batch")(batch_command)
    disburse.command("run")(run_command)
    disburse.command("export")(export_command)
    disburse.command("confirm")(confirm_command)
    disburse.command("payee-account")(payee_account_command)
    app.add_typer(disburse, name="disburse")
