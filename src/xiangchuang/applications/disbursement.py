"""Approval reserves the budget; disbursement batches (拨付) from approved applications.

The rules every edge (pages, API, CLI) goes through:

- :func:`act` performs one transition in a savepoint and, for 核准 (``approve``), reserves the approved
  amount in the ledger and writes the register of what was granted (applications/register.py: the
  startup subsidy's 3-year slots, the social-insurance subsidy's 36 months, once-only programs) in the same
  savepoint — an approval that the budget cannot cover or the register refuses leaves the application
  where it was;
- :func:`open_budget` opens (or tops up) a district's budget of :data:`FUNDING_SOURCE`;
- :func:`start_batch` moves approved applications to 拨付中 and lists them in a new batch;
- :func:`run_disbursement` pays the batch (one transaction per item, see ``ledger.batches.run_batch``);
- :func:`export_bank_file` writes the bank's file (audited);
- :func:`confirm_batch` marks 已拨付 every application whose item the ledger has paid.

A business's application (its subject a business or a hire of one) is paid to the business's legal
representative / operator in force (``registry.repository.founder_in_force``), recorded as the applicant.
The payee is checked again when the batch is made, on the payment date and before the bank file is written
(README choice 93): if the representative in force that day is someone else (or nobody), the application is
not paid to the recorded payee — :func:`start_batch` refuses the whole batch (:class:`PayeeHeld`, nothing
written; the edge audits the refusal with :meth:`PayeeHeld.record`), :func:`run_disbursement` holds the item
(left pending, audited in its own transaction, reported in ``BatchRun.held``), :func:`export_bank_file`
refuses the file. An individual's application (a person, a training …) and an organisation's are not
affected.

Keyword-only functions taking a Session; they never commit (except :func:`run_disbursement`, which takes
a session factory because the batch runner commits each payment on its own). Errors are Chinese
:class:`~xiangchuang.errors.DomainError`\\ s.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang import ledger
from xiangchuang.applications import repository, service
from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.register import register_approval
from xiangchuang.applications.workflow import IN_KIND_KINDS
from xiangchuang.audit import record
from xiangchuang.chinatime import china_date
from xiangchuang.crypto import FieldCipher
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from xiangchuang.ids.masking import mask_bank_card
from xiangchuang.ledger import batches
from xiangchuang.models import (
    Application,
    Business,
    DisbursementBatch,
    DisbursementItem,
    PayeeAccount,
    Person,
)
from xiangchuang.registry.pii import Pii

__all__ = [
    "FUNDING_SOURCE",
    "MAX_BATCH",
    "PayeeChange",
    "PayeeHeld",
    "act",
    "approve_with_budget",
    "confirm_batch",
    "export_bank_file",
    "get_batch",
    "ledger_refusal",
    "open_budget",
    "payee_accounts",
    "payee_change",
    "register_payee_account",
    "run_disbursement",
    "start_batch",
]

FUNDING_SOURCE = "city"  # 市级及以上资金 (the notice's subsidies; a district top-up is a separate source)
MAX_BATCH = 500  # applications taken into one batch (the rest of a longer list is left for the next)
BATCH_ACTIONS = ("start_disbursement", "confirm_disbursement")  # only through the batch functions
ORG_PREFIX = "org:"  # an organisation's applications (training providers, carrier operators …)


def ledger_refusal(exc: ledger.LedgerError) -> DomainError:
    """A ledger refusal as the domain error of the same HTTP status (Chinese message kept)."""
    text = f"资金账本：{exc.message}"
    if isinstance(exc, ledger.AccountNotFound):
        text += "（本区县尚未登记该资金来源的预算：请区县财政先下达预算）"
    return ValidationFailed(text) if exc.status == 422 else Conflict(text)


@dataclass(frozen=True)
class PayeeChange:
    """A business's application whose recorded payee is not the legal representative / operator in force
    on the payment date ``on`` (``current_*`` None: nobody in force that day)."""

    application_no: str
    district: int
    business_no: str
    business_name: str
    recorded_no: str
    recorded_name: str
    current_no: str | None
    current_name: str | None
    on: dt.date

    @property
    def message(self) -> str:
        now = (
            f"{self.on.isoformat()} 在任的法定代表人（经营者）是 {self.current_name}（{self.current_no}）"
            if self.current_no is not None
            else f"登记库中 {self.on.isoformat()} 没有在任的法定代表人（经营者）"
        )
        return (
            f"申请 {self.application_no}：暂缓拨付——登记的收款人 {self.recorded_name}（{self.recorded_no}）"
            f"已不是经营主体 {self.business_name}（{self.business_no}）的法定代表人（经营者），{now}。"
            "不向原收款人拨付：请核实法定代表人变更，登记库有误的先更正登记库再拨付；确已变更的，"
            "本笔保持暂缓，请与现任法定代表人（经营者）核实后报区县人社部门按规定处理"
        )

    def record(
        self, session: Session, *, audit_key: bytes, actor: str, role: str | None, at: dt.datetime | None
    ) -> None:
        """The audit entry of the hold (registry numbers only, no names)."""
        record(
            session,
            key=audit_key,
            actor=actor,
            actor_role=role,
            action="disbursement.payee_held",
            subject=f"applications:{self.application_no}",
            outcome="denied",
            district=self.district,
            details={
                "business": self.business_no,
                "recorded_payee": self.recorded_no,
                "in_force": self.current_no,
                "on": self.on.isoformat(),
            },
            at=at,
        )


class PayeeHeld(ValidationFailed):
    """:func:`start_batch` refused: the payee of one or more applications changed (nothing written)."""

    def __init__(self, changes: Sequence[PayeeChange]) -> None:
        super().__init__("拨付批次未生成：" + "；".join(c.message for c in changes))
        self.changes = tuple(changes)

    def record(
        self, session: Session, *, audit_key: bytes, actor: str, role: str | None, at: dt.datetime | None
    ) -> None:
        """Audit each hold (the edge calls this in a fresh transaction after rolling back the refused one)."""
        for change in self.changes:
            change.record(session, audit_key=audit_key, actor=actor, role=role, at=at)


def payee_change(
    session: Session, *, application: Application, payee_person_id: int | None, on: dt.date
) -> PayeeChange | None:
    """Whether a business's application would pay someone other than the business's legal representative
    / operator in force on ``on`` (one definition: ``founder_of``, README choice 23); None when the payee is
    that person, or the application is not a business's (an individual's, an organisation's)."""
    if payee_person_id is None or application.applicant_user.startswith(ORG_PREFIX):
        return None
    business_id = repository.business_id_of(session, application.subject_table, application.subject_key)
    if business_id is None:
        return None
    current = repository.founder_of(session, business_id, on=on)
    if current is not None and current.id == payee_person_id:
        return None
    recorded = session.get(Person, payee_person_id)
    business = session.get(Business, business_id)
    assert recorded is not None and business is not None
    return PayeeChange(
        application_no=application.application_no,
        district=application.district,
        business_no=business.business_no,
        business_name=business.name,
        recorded_no=recorded.person_no,
        recorded_name=recorded.name,
        current_no=None if current is None else current.person_no,
        current_name=None if current is None else current.name,
        on=on,
    )


def _applicant_person_id(session: Session, application: Application) -> int | None:
    """The registry person an application is paid to (its applicant); None for an organisation's."""
    if application.applicant_user.startswith(ORG_PREFIX):
        return None
    found = session.execute(select(Person.id).where(Person.person_no == application.applicant_user)).scalar()
    return None if found is None else int(found)


def approve_with_budget(session: Session, *, application: Application) -> None:
    """核准 reserves the approved amount in the ledger (same transaction as the transition)."""
    amount = application.amount_approved_fen
    if not amount:
        raise ValidationFailed("核准金额为空：复审时的判定没有金额，不能核准")
    try:
        ledger.approve(
            session,
            idempotency_key=f"approve:{application.application_no}",
            district=application.district,
            funding_source=FUNDING_SOURCE,
            application_ref=application.application_no,
            amount_fen=amount,
        )
    except ledger.LedgerError as exc:
        raise ledger_refusal(exc) from None


def act(
    session: Session,
    *,
    application_id: int,
    action: str,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    reason: str | None = None,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
    via_batch: bool = False,
) -> service.TransitionResult:
    """One transition in a savepoint; for ``approve`` the budget reservation is in the same savepoint.

    Every edge that moves an application calls this, so no approval escapes the ledger. 发起拨付 and
    确认已拨付 are refused here unless a batch function makes them (``via_batch``): an application is paid
    only as an item of a disbursement batch, and 已拨付 only once the ledger has paid that item.

    A 核准 refused by the determination on the day (``service.ApprovalRefused``) keeps that determination
    with the application, and an audit entry naming it, once the savepoint is rolled back
    (``service.keep_refused_approval``; the caller commits it, README choice 88)."""
    if action in BATCH_ACTIONS and not via_batch:
        raise ValidationFailed(
            "拨付须通过拨付批次办理：请在“资金拨付”中把已核准的申请编入批次、支付并确认（不能逐件标记已拨付）"
        )
    try:
        return _act(
            session,
            application_id=application_id,
            action=action,
            actor=actor,
            role=role,
            actor_district=actor_district,
            audit_key=audit_key,
            reason=reason,
            now=now,
            params=params,
            expected_version=expected_version,
        )
    except service.ApprovalRefused as refused:
        service.keep_refused_approval(session, refused, actor=actor, role=role, audit_key=audit_key, now=now)
        raise


def _act(
    session: Session,
    *,
    application_id: int,
    action: str,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    reason: str | None,
    now: dt.datetime | None,
    params: ParameterSet | None,
    expected_version: int | None,
) -> service.TransitionResult:
    with session.begin_nested():
        result = service.transition(
            session,
            application_id=application_id,
            action=action,
            reason=reason,
            audit_key=audit_key,
            now=now,
            params=params,
            expected_version=expected_version,
            actor=actor,
            role=role,
            actor_district=actor_district,
        )
        if action == "approve":
            if result.application.kind not in IN_KIND_KINDS:  # (in kind: nothing to reserve or pay)
                approve_with_budget(session, application=result.application)
            register_approval(
                session,
                application=result.application,
                on=china_date(now or dt.datetime.now(dt.UTC)),
                params=params or load_parameters(),
            )
    return result


def open_budget(
    session: Session, *, district: int, amount_fen: int, at: dt.datetime, note: str = ""
) -> ledger.LedgerResult:
    """下达预算: open (or top up) the district's budget; one posting per moment ``at``."""
    if amount_fen <= 0:
        raise ValidationFailed("下达预算金额：须大于 0")
    try:
        return ledger.open_budget(
            session,
            idempotency_key=f"budget:{district}:{at.isoformat()}",
            district=district,
            funding_source=FUNDING_SOURCE,
            amount_fen=amount_fen,
            description=note[:100],
        )
    except ledger.LedgerError as exc:
        raise ledger_refusal(exc) from None


def start_batch(
    session: Session,
    *,
    application_ids: Sequence[int],
    district: int,
    actor: str,
    role: str,
    actor_district: int | None,
    at: dt.datetime,
    params: ParameterSet | None,
    audit_key: bytes,
) -> DisbursementBatch:
    """Move each approved application to 拨付中 and list it in a new batch of the district.

    Refused as a whole (:class:`PayeeHeld`, before anything is written) when a business's application
    would pay someone no longer its legal representative on the day (China date of ``at``)."""
    if not application_ids:
        raise ValidationFailed("拨付批次：请至少勾选一条已核准的申请")
    ids = list(application_ids)[:MAX_BATCH]
    on = china_date(at)
    changes = []
    for app_id in ids:
        application = session.get(Application, app_id)
        if (
            application is None
            or application.kind in IN_KIND_KINDS
            or application.state != "approved"
            or application.district != district
            or (actor_district is not None and application.district != actor_district)
        ):
            # Refused below, as before (by kind, state or scope): the re-check reads and names a
            # business's payee and representatives, so it never runs on another district's
            # application (nor on one not approved) — a user of one district could otherwise read
            # another's names by the refusal.
            continue
        payee_id = _applicant_person_id(session, application)
        if (
            change := payee_change(session, application=application, payee_person_id=payee_id, on=on)
        ) is not None:
            changes.append(change)
    if changes:
        raise PayeeHeld(changes)
    lines = []
    for app_id in ids:
        kind = session.execute(select(Application.kind).where(Application.id == app_id)).scalar()
        if kind in IN_KIND_KINDS:
            raise ValidationFailed(
                f"拨付批次：「{KINDS[kind].title}」是实物支持或由载体在账单中减免，核准后不拨付资金，不能编入拨付批次"
            )
        app = act(
            session,
            application_id=app_id,
            action="start_disbursement",
            actor=actor,
            role=role,
            actor_district=actor_district,
            audit_key=audit_key,
            now=at,
            params=params,
            via_batch=True,
        ).application
        amount, purpose = int(app.amount_approved_fen or 0), KINDS[app.kind].title
        if app.applicant_user.startswith(ORG_PREFIX):
            code = app.applicant_user[len(ORG_PREFIX) :]
            if session.execute(select(PayeeAccount.id).where(PayeeAccount.org_code == code)).first() is None:
                raise ValidationFailed(
                    f"申请 {app.application_no}：收款单位 {code} 尚未登记对公账户，"
                    "请区县财政先在“资金拨付”登记收款单位账户"
                )
            lines.append(batches.BatchLine(app.application_no, None, amount, purpose, payee_org_code=code))
            continue
        payee = _applicant_person_id(session, app)
        if payee is None:
            raise ValidationFailed(f"申请 {app.application_no}：登记库中没有申请人，无法拨付")
        lines.append(batches.BatchLine(app.application_no, payee, amount, purpose))
    return batches.create_batch(
        session,
        batch_no=f"BF{district}{at:%Y%m%d%H%M%S%f}"[:40],
        district=district,
        funding_source=FUNDING_SOURCE,
        created_by=actor,
        lines=lines,
    )


def get_batch(session: Session, *, batch_id: int, district: int | None) -> DisbursementBatch:
    """A batch of the actor's district (404 when missing, 403 for another district's)."""
    batch = session.get(DisbursementBatch, batch_id)
    if batch is None:
        raise NotFound(f"拨付批次 {batch_id} 不存在")
    if batch.district != district:
        raise Forbidden(f"无权办理其他区县（{batch.district}）的拨付批次")
    return batch


def _item_change(session: Session, item: DisbursementItem, on: dt.date) -> PayeeChange | None:
    application = session.execute(
        select(Application).where(Application.application_no == item.application_ref)
    ).scalar_one_or_none()
    if application is None:
        return None
    return payee_change(session, application=application, payee_person_id=item.payee_person_id, on=on)


def run_disbursement(
    factory: sessionmaker[Session],
    *,
    batch_id: int,
    district: int | None,
    audit_key: bytes,
    actor: str,
    role: str | None,
    at: dt.datetime | None = None,
) -> batches.BatchRun:
    """Pay the pending items of a batch of the district (each payment commits on its own).

    The payee of each business's item is checked on the payment date (China date of ``at``, default now):
    an item whose recorded payee is no longer the legal representative in force is held — not paid, left
    pending, audited, its reason in ``BatchRun.held`` — and paid by a later run once the registry shows the
    recorded payee in force again."""
    on = china_date(at or dt.datetime.now(dt.UTC))

    def verify(session: Session, item: DisbursementItem) -> str | None:
        change = _item_change(session, item, on)
        if change is None:
            return None
        change.record(session, audit_key=audit_key, actor=actor, role=role, at=at)
        return change.message

    with factory() as session:
        get_batch(session, batch_id=batch_id, district=district)
    try:
        return batches.run_batch(factory, batch_id=batch_id, verify=verify)
    except ledger.LedgerError as exc:
        raise ledger_refusal(exc) from None


def export_bank_file(
    session: Session,
    *,
    batch_id: int,
    district: int | None,
    pii: Pii,
    path: Path,
    actor: str,
    audit_key: bytes,
    at: dt.datetime | None = None,
) -> int:
    """The bank's payment file of a batch of the district (audited); returns the row count.

    Refused while an item not yet paid would go to a payee no longer the business's legal representative
    (checked on the export date, China date of ``at``, default now): the bank must not pay the stale payee."""
    get_batch(session, batch_id=batch_id, district=district)
    on = china_date(at or dt.datetime.now(dt.UTC))
    pending = session.execute(
        select(DisbursementItem)
        .where(DisbursementItem.batch_id == batch_id, DisbursementItem.status != "paid")
        .order_by(DisbursementItem.seq)
    ).scalars()
    changes = [c for item in pending if (c := _item_change(session, item, on)) is not None]
    if changes:
        raise ValidationFailed("无法生成银行拨付文件：" + "；".join(c.message for c in changes))
    return batches.export_bank_file(
        session, batch_id=batch_id, pii=pii, path=path, actor=actor, audit_key=audit_key
    )


def confirm_batch(
    session: Session,
    *,
    batch_id: int,
    district: int | None,
    actor: str,
    role: str,
    actor_district: int | None,
    at: dt.datetime,
    params: ParameterSet | None,
    audit_key: bytes,
) -> int:
    """Mark 已拨付 every application of the batch whose item the ledger has paid; returns how many."""
    get_batch(session, batch_id=batch_id, district=district)
    items = (
        session.execute(select(DisbursementItem).where(DisbursementItem.batch_id == batch_id)).scalars().all()
    )
    done = 0
    for item in items:
        if item.status != "paid":
            continue
        app = session.execute(
            select(Application).where(Application.application_no == item.application_ref)
        ).scalar_one()
        if app.state == "disbursing":
            act(
                session,
                application_id=app.id,
                action="confirm_disbursement",
                actor=actor,
                role=role,
                actor_district=actor_district,
                audit_key=audit_key,
                now=at,
                params=params,
                via_batch=True,
            )
            done += 1
    return done


_ORG_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{1,39}")
_ACCOUNT = re.compile(r"[0-9]{8,32}")


def register_payee_account(
    session: Session,
    *,
    org_code: str,
    org_name: str,
    bank_name: str,
    account: str,
    district: int,
    actor: str,
    role: str,
    actor_district: int | None,
    cipher: FieldCipher,
    audit_key: bytes,
    at: dt.datetime,
) -> PayeeAccount:
    """登记（或更正）收款单位对公账户: subsidies applied for as ``org:<code>`` are paid to it. District
    finance of the district (or the city). The account number is stored encrypted; audited with the masked
    number only."""
    if role not in ("district_finance", "city_admin"):
        raise Forbidden("只有区县财政或市级管理员可以登记收款单位账户")
    if actor_district is not None and actor_district != district:
        raise Forbidden("只能登记本区县的收款单位账户")
    code, name, bank = org_code.strip(), org_name.strip(), bank_name.strip()
    number = re.sub(r"[\s-]", "", account)
    if not _ORG_CODE.fullmatch(code):
        raise ValidationFailed(
            "单位代码：须为 2–40 位字母、数字、点、横线或下划线（即申请中的 org: 之后部分）"
        )
    if not name or len(name) > 120:
        raise ValidationFailed("单位名称：必填，不超过 120 个字符")
    if not bank or len(bank) > 60:
        raise ValidationFailed("开户银行：必填，不超过 60 个字符")
    if not _ACCOUNT.fullmatch(number):
        raise ValidationFailed("对公账号：须为 8–32 位数字")
    masked = mask_bank_card(number)
    row = session.execute(select(PayeeAccount).where(PayeeAccount.org_code == code)).scalar_one_or_none()
    if row is not None and actor_district is not None and row.district != actor_district:
        raise Forbidden("该单位的收款账户由其他区县登记，不能更正")
    if row is None:
        row = PayeeAccount(org_code=code)
        session.add(row)
    row.org_name, row.bank_name, row.district = name, bank, district
    row.account_enc = cipher.encrypt(number, "payee.account")
    row.account_masked = masked
    row.registered_by, row.registered_at = actor, at
    session.flush()
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        action="disbursement.payee_account",
        subject=f"org:{code}",
        district=district,
        details={"account": masked, "bank": bank},
        at=at,
    )
    return row


def payee_accounts(session: Session, *, district: int | None) -> list[PayeeAccount]:
    stmt = select(PayeeAccount).order_by(PayeeAccount.org_code)
    if district is not None:
        stmt = stmt.where(PayeeAccount.district == district)
    return list(session.execute(stmt).scalars())
