"""Disbursement batches (拨付批次) and the bank payment file.

A batch lists approved applications to pay. ``run_batch`` pays the pending items one by one, each in
its own transaction: the ledger posting (idempotent on ``<batch_no>:<seq>``) and the item's 'paid'
mark commit together, so a crash at any step leaves no partial entry and a rerun pays every item
exactly once. A caller's ``verify`` may hold an item in its transaction (README choice 93: a business's
payee no longer its legal representative on the payment date): the item is not paid and stays pending,
its reason is reported in :attr:`BatchRun.held`, and whatever ``verify`` wrote (its audit entry) commits. ``export_bank_file`` writes the Excel file a bank needs — the only place the full
account number leaves the database — with amounts also in Chinese capitals, and audits the export.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.audit.chain import record
from xiangchuang.engine.money import fen_to_capital
from xiangchuang.errors import Conflict, NotFound, ValidationFailed
from xiangchuang.ledger.service import LedgerResult, PaymentInstruction, disburse, run_in_transaction
from xiangchuang.models import DisbursementBatch, DisbursementItem, PayeeAccount, Person
from xiangchuang.registry.pii import Pii


@dataclass(frozen=True)
class BatchLine:
    application_ref: str
    payee_person_id: int | None  # a registry person, or
    amount_fen: int
    purpose: str
    payee_org_code: str | None = None  # an organisation with a registered PayeeAccount


@dataclass(frozen=True)
class BatchRun:
    paid: int
    already_paid: int
    total_fen: int
    held: tuple[str, ...] = ()  # why each held item was not paid (Chinese), in item order


# Checks an item in its payment transaction: None to pay it, or the (Chinese) reason it is held.
Verify = Callable[[Session, DisbursementItem], str | None]


def create_batch(
    session: Session,
    *,
    batch_no: str,
    district: int,
    funding_source: str,
    created_by: str,
    lines: Sequence[BatchLine],
) -> DisbursementBatch:
    """A new batch with its items (caller's transaction). Amounts must be positive whole fen."""
    if not lines:
        raise ValidationFailed("拨付批次至少须包含一笔拨付")
    for n, line in enumerate(lines, start=1):
        if line.amount_fen <= 0:
            raise ValidationFailed(f"第{n}笔拨付（{line.application_ref}）：金额须大于0")
    if session.scalar(select(DisbursementBatch.id).where(DisbursementBatch.batch_no == batch_no)) is not None:
        raise Conflict(f"拨付批次号 {batch_no} 已存在")
    batch = DisbursementBatch(
        batch_no=batch_no, district=district, funding_source=funding_source, created_by=created_by
    )
    session.add(batch)
    session.flush()
    for seq, line in enumerate(lines, start=1):
        session.add(
            DisbursementItem(
                batch_id=batch.id,
                seq=seq,
                application_ref=line.application_ref,
                payee_person_id=line.payee_person_id,
                payee_org_code=line.payee_org_code,
                amount_fen=line.amount_fen,
                purpose=line.purpose,
                status="pending",
            )
        )
    session.flush()
    return batch


def _pay_one(session: Session, *, item_id: int, verify: Verify | None = None) -> LedgerResult | str | None:
    """Pay one item: its ledger result, None when there is nothing to pay, or the reason ``verify``
    holds it (not paid, left pending)."""
    item = session.get(DisbursementItem, item_id)
    if item is None or item.status == "paid":
        return None
    if verify is not None and (reason := verify(session, item)) is not None:
        return reason
    batch = session.get(DisbursementBatch, item.batch_id)
    assert batch is not None
    if item.payee_org_code is not None:
        payee_ref = f"org:{item.payee_org_code}"
    else:
        person = session.get(Person, item.payee_person_id)
        payee_ref = f"person:{person.person_no if person else item.payee_person_id}"
    result = disburse(
        session,
        instruction=PaymentInstruction(
            idempotency_key=f"{batch.batch_no}:{item.seq}",
            district=batch.district,
            funding_source=batch.funding_source,
            application_ref=item.application_ref,
            amount_fen=item.amount_fen,
            payee_ref=payee_ref,
            memo=item.purpose,
        ),
    )
    item.status = "paid"
    item.ledger_entry_id = result.entry_id
    item.paid_at = dt.datetime.now(dt.UTC)
    return result


def _pay_item(session: Session, *, item_id: int, verify: Verify | None = None) -> LedgerResult | str | None:
    return _pay_one(session, item_id=item_id, verify=verify)


def run_batch(
    factory: sessionmaker[Session],
    *,
    batch_id: int,
    after_each: Callable[[int], None] | None = None,
    verify: Verify | None = None,
) -> BatchRun:
    """Pay every pending item, one transaction per item (``after_each`` is a test hook); an item that
    ``verify`` holds is left pending and its reason reported."""
    with factory() as session:
        if session.get(DisbursementBatch, batch_id) is None:
            raise NotFound(f"拨付批次 {batch_id} 不存在")
        pending = list(
            session.scalars(
                select(DisbursementItem.id)
                .where(DisbursementItem.batch_id == batch_id, DisbursementItem.status == "pending")
                .order_by(DisbursementItem.seq)
            )
        )
        already = (
            session.scalar(
                select(func.count())
                .select_from(DisbursementItem)
                .where(DisbursementItem.batch_id == batch_id, DisbursementItem.status == "paid")
            )
            or 0
        )
    paid = 0
    held: list[str] = []
    for item_id in pending:
        result = run_in_transaction(factory, functools.partial(_pay_item, item_id=item_id, verify=verify))
        if isinstance(result, str):
            held.append(result)
        elif result is not None:
            paid += 1
        if after_each is not None:
            after_each(item_id)
    with factory() as session:
        total = (
            session.scalar(
                select(func.coalesce(func.sum(DisbursementItem.amount_fen), 0)).where(
                    DisbursementItem.batch_id == batch_id, DisbursementItem.status == "paid"
                )
            )
            or 0
        )
    return BatchRun(paid=paid, already_paid=int(already), total_fen=int(total), held=tuple(held))


HEADERS = ("序号", "收款人", "收款账号", "金额（元）", "金额大写", "申请编号", "用途")


def export_bank_file(
    session: Session, *, batch_id: int, pii: Pii, path: Path, actor: str, audit_key: bytes
) -> int:
    """Write the bank's payment file for a batch (Excel) and audit the export; returns the row count.

    Every payee must have a bank account on file; the file is the bank's and holds full numbers."""
    batch = session.get(DisbursementBatch, batch_id)
    if batch is None:
        raise NotFound(f"拨付批次 {batch_id} 不存在")
    rows = session.execute(
        select(DisbursementItem, Person, PayeeAccount)
        .outerjoin(Person, Person.id == DisbursementItem.payee_person_id)
        .outerjoin(PayeeAccount, PayeeAccount.org_code == DisbursementItem.payee_org_code)
        .where(DisbursementItem.batch_id == batch_id)
        .order_by(DisbursementItem.seq)
    ).all()
    missing = [
        item.seq
        for item, person, org in rows
        if (person is None or person.bank_account_enc is None) and org is None
    ]
    if missing:
        raise ValidationFailed(
            f"第{'、'.join(map(str, missing))}笔的收款人没有登记银行账号，无法生成银行拨付文件"
        )
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "拨付明细"
    ws.append([f"拨付批次 {batch.batch_no}（区县 {batch.district}，资金来源 {batch.funding_source}）"])
    ws.append(list(HEADERS))
    for cell in ws[2]:
        cell.font = Font(bold=True)
    total = 0
    for item, person, org in rows:
        if org is not None:
            name, account = org.org_name, pii.cipher.decrypt(org.account_enc, "payee.account")
        else:
            assert person is not None and person.bank_account_enc is not None
            name = person.name
            account = pii.cipher.decrypt(person.bank_account_enc, "person.bank_account")
        total += item.amount_fen
        ws.append(
            [
                item.seq,
                name,
                account,
                item.amount_fen / 100,
                fen_to_capital(item.amount_fen),
                item.application_ref,
                item.purpose,
            ]
        )
        ws.cell(row=ws.max_row, column=3).number_format = "@"
        ws.cell(row=ws.max_row, column=4).number_format = "#,##0.00"
    ws.append(["合计", "", "", total / 100, fen_to_capital(total), "", ""])
    ws.cell(row=ws.max_row, column=4).number_format = "#,##0.00"
    for col, width in zip("ABCDEFG", (6, 12, 24, 14, 30, 20, 24), strict=True):
        ws.column_dimensions[col].width = width
        ws[f"{col}2"].alignment = Alignment(horizontal="center")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    record(
        session,
        key=audit_key,
        actor=actor,
        action="export.bank_payment_file",
        subject=f"disbursement_batch:{batch.batch_no}",
        outcome="success",
        details={"rows": len(rows), "total_fen": total},
        district=batch.district,
    )
    return len(rows)
