"""Subsidy money: a double-entry ledger per district budget and funding source.

Operations (each one journal entry whose postings sum to zero; amounts in integer fen):

============  ======================================  =============================================
operation     postings                                 refused when
============  ======================================  =============================================
open_budget   budget −A, available +A                  —
approve       available −A, approved[application] +A   available would go below 0 (预算不足)
release       approved[application] −A, available +A   more than the application's approved balance
disburse      approved[application] −A, disbursed +A   more than the application's approved balance
============  ======================================  =============================================

``approve`` reserves budget for one application; ``release`` returns an approval that will not be paid.
The invariants ``disbursed ≤ approved ≤ budget`` per district and source and "no budget goes negative"
are CHECK constraints on the account balances (see :mod:`xiangchuang.models.ledger`). Balances change by
``UPDATE … SET balance_fen = balance_fen + :delta`` in account-id order, so concurrent operations queue
on the row lock and the constraint, evaluated on the committed value, refuses the one that would
overdraw — no check-then-insert. Each operation runs inside a SAVEPOINT: a refused one leaves nothing.

Idempotency: every operation carries an idempotency key; its request hash is SM3 over the canonical
JSON of the request. A replay with the same request returns the stored result (``replayed=True``);
the same key with a different request raises :class:`Conflict`. The key is unique in the database, so
two concurrent first attempts cannot both post.

Services never commit. :func:`run_in_transaction` is for the transaction owner (request, command,
test): it retries the whole unit of work on PostgreSQL serialization failure / deadlock
(SQLSTATE 40001 / 40P01) and on SQLite ``SQLITE_BUSY``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final, TypeVar

from cryptography.hazmat.primitives import hashes
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from xiangchuang.engine.money import format_fen
from xiangchuang.models import Account, JournalEntry, Posting

T = TypeVar("T")

SOURCE_LABELS: Final = {"city": "市级及以上资金", "district": "区县财政"}
_SOURCE_ALIASES: Final = {
    "city": "city",
    "市级": "city",
    "市级及以上资金": "city",
    "district": "district",
    "区县": "district",
    "区县财政": "district",
}
_BALANCE_CHECK: Final = "ck_ledger_accounts_balance_sign"
_KEY_UNIQUE: Final = "uq_ledger_entries_idempotency_key"
_RETRY_SQLSTATES: Final = frozenset({"40001", "40P01"})


# --- errors (carry their HTTP status; Chinese messages) ------------------------------------------------


class LedgerError(Exception):
    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Conflict(LedgerError):
    """Same idempotency key, different request."""

    status = 409


class BudgetExceeded(LedgerError):
    """The operation would overdraw a budget or an application's approved balance."""

    status = 409


class AccountNotFound(LedgerError):
    status = 404


# --- requests and results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentInstruction:
    """One disbursement. ``payee_ref`` names the payee's bank-account record (never the number itself)."""

    idempotency_key: str
    district: int
    funding_source: str
    application_ref: str
    amount_fen: int
    payee_ref: str
    memo: str = ""


@dataclass(frozen=True)
class LedgerResult:
    entry_id: int
    operation: str
    idempotency_key: str
    district: int
    funding_source: str
    application_ref: str | None
    amount_fen: int
    balances_after: dict[str, int]
    replayed: bool = False

    def stored(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("replayed")
        return doc

    @classmethod
    def from_stored(cls, doc: dict[str, Any], *, replayed: bool) -> LedgerResult:
        return cls(**doc, replayed=replayed)


@dataclass(frozen=True)
class BudgetSummary:
    district: int
    funding_source: str
    budget_fen: int  # total budget opened
    available_fen: int  # not yet committed
    approved_outstanding_fen: int  # approved, not yet paid
    disbursed_fen: int

    @property
    def approved_total_fen(self) -> int:
        return self.approved_outstanding_fen + self.disbursed_fen


@dataclass(frozen=True)
class Discrepancy:
    kind: str  # entry_unbalanced | entry_mixed | balance_mismatch | invariant
    ref: str
    message: str


@dataclass(frozen=True)
class _Leg:
    kind: str
    application_ref: str
    delta: int
    create: bool  # create the account if missing (an account only credited may be new)


# --- operations ----------------------------------------------------------------------------------------


def open_budget(
    session: Session,
    *,
    idempotency_key: str,
    district: int,
    funding_source: str,
    amount_fen: int,
    description: str = "",
) -> LedgerResult:
    """Open (or top up) the budget of a district and funding source."""
    source = _source(funding_source)
    _amount(amount_fen)
    request = _request("open_budget", district, source, None, amount_fen, description)
    legs = [_Leg("budget", "", -amount_fen, True), _Leg("available", "", amount_fen, True)]
    return _post(session, key=idempotency_key, request=request, legs=legs)


def approve(
    session: Session,
    *,
    idempotency_key: str,
    district: int,
    funding_source: str,
    application_ref: str,
    amount_fen: int,
    description: str = "",
) -> LedgerResult:
    """Reserve budget for an approved application (available → approved[application])."""
    source = _source(funding_source)
    _amount(amount_fen)
    ref = _application(application_ref)
    request = _request("approve", district, source, ref, amount_fen, description)
    legs = [_Leg("available", "", -amount_fen, False), _Leg("approved", ref, amount_fen, True)]
    return _post(session, key=idempotency_key, request=request, legs=legs)


def release(
    session: Session,
    *,
    idempotency_key: str,
    district: int,
    funding_source: str,
    application_ref: str,
    amount_fen: int,
    description: str = "",
) -> LedgerResult:
    """Return (part of) an approval that will not be paid to the available budget."""
    source = _source(funding_source)
    _amount(amount_fen)
    ref = _application(application_ref)
    request = _request("release", district, source, ref, amount_fen, description)
    legs = [_Leg("approved", ref, -amount_fen, False), _Leg("available", "", amount_fen, False)]
    return _post(session, key=idempotency_key, request=request, legs=legs)


def disburse(session: Session, *, instruction: PaymentInstruction) -> LedgerResult:
    """Pay (part of) an application's approved amount. Idempotent on the instruction's key."""
    i = instruction
    source = _source(i.funding_source)
    _amount(i.amount_fen)
    ref = _application(i.application_ref)
    request = _request("disburse", i.district, source, ref, i.amount_fen, i.memo, payee_ref=i.payee_ref)
    legs = [_Leg("approved", ref, -i.amount_fen, False), _Leg("disbursed", "", i.amount_fen, True)]
    return _post(session, key=i.idempotency_key, request=request, legs=legs)


# --- reading -------------------------------------------------------------------------------------------


def budget_summary(session: Session, *, district: int, funding_source: str) -> BudgetSummary:
    source = _source(funding_source)
    rows = session.execute(
        select(Account.kind, func.coalesce(func.sum(Account.balance_fen), 0))
        .where(Account.district == district, Account.funding_source == source)
        .group_by(Account.kind)
    ).all()
    by_kind = {str(kind): int(total) for kind, total in rows}
    return BudgetSummary(
        district=district,
        funding_source=source,
        budget_fen=-by_kind.get("budget", 0),
        available_fen=by_kind.get("available", 0),
        approved_outstanding_fen=by_kind.get("approved", 0),
        disbursed_fen=by_kind.get("disbursed", 0),
    )


def approved_outstanding(
    session: Session, *, district: int, funding_source: str, application_ref: str
) -> int:
    """An application's approved amount not yet paid (0 when it has none)."""
    balance = session.execute(
        select(Account.balance_fen).where(
            Account.district == district,
            Account.funding_source == _source(funding_source),
            Account.kind == "approved",
            Account.application_ref == application_ref,
        )
    ).scalar_one_or_none()
    return int(balance or 0)


def reconcile(session: Session) -> list[Discrepancy]:
    """Check the books: every entry sums to zero within one district and source, every balance equals
    the sum of its postings, and disbursed ≤ approved ≤ budget. An empty list means reconciled."""
    out: list[Discrepancy] = []
    sums = (
        select(
            JournalEntry.id,
            JournalEntry.idempotency_key,
            func.coalesce(func.sum(Posting.amount_fen), 0).label("total"),
            func.count(Posting.id).label("legs"),
        )
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.idempotency_key)
    )
    for entry_id, key, total, legs in session.execute(sums):
        if total != 0 or legs < 2:
            out.append(
                Discrepancy(
                    "entry_unbalanced",
                    f"ledger_entries:{entry_id}",
                    f"分录 {entry_id}（幂等键 {key}）借贷不平：{legs} 笔过账合计 {format_fen(int(total))}",
                )
            )
    mixed = (
        select(JournalEntry.id)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(
            (Account.district != JournalEntry.district)
            | (Account.funding_source != JournalEntry.funding_source)
        )
        .distinct()
    )
    for (entry_id,) in session.execute(mixed):
        out.append(
            Discrepancy(
                "entry_mixed",
                f"ledger_entries:{entry_id}",
                f"分录 {entry_id} 过账到了其他区县或资金来源的账户",
            )
        )
    posted = (
        select(Posting.account_id, func.sum(Posting.amount_fen).label("total"))
        .group_by(Posting.account_id)
        .subquery()
    )
    balances = select(
        Account.id,
        Account.kind,
        Account.application_ref,
        Account.balance_fen,
        func.coalesce(posted.c.total, 0),
    ).outerjoin(posted, posted.c.account_id == Account.id)
    for account_id, kind, ref, balance, total in session.execute(balances):
        if balance != total:
            name = f"{kind}[{ref}]" if ref else kind
            out.append(
                Discrepancy(
                    "balance_mismatch",
                    f"ledger_accounts:{account_id}",
                    f"账户 {account_id}（{name}）余额 {format_fen(balance)} 与过账合计 {format_fen(int(total))} 不符",
                )
            )
    pairs = session.execute(select(Account.district, Account.funding_source).distinct()).all()
    for district, source in pairs:
        s = budget_summary(session, district=district, funding_source=source)
        where = f"区县 {district} {SOURCE_LABELS.get(source, source)}"
        ordered = 0 <= s.disbursed_fen <= s.approved_total_fen <= s.budget_fen and s.available_fen >= 0
        if not ordered or s.available_fen + s.approved_total_fen != s.budget_fen:
            out.append(
                Discrepancy(
                    "invariant",
                    f"ledger_accounts:{district}/{source}",
                    f"{where}：须满足 已拨付 ≤ 已核准 ≤ 预算 且 可用 + 已核准 = 预算，实际 "
                    f"已拨付 {format_fen(s.disbursed_fen)}、已核准 {format_fen(s.approved_total_fen)}、"
                    f"可用 {format_fen(s.available_fen)}、预算 {format_fen(s.budget_fen)}",
                )
            )
    return out


# --- the transaction owner's retry loop ----------------------------------------------------------------


def is_retryable(exc: BaseException) -> bool:
    """PostgreSQL serialization failure or deadlock; SQLite busy/locked."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    name = getattr(orig, "sqlite_errorname", "")
    return isinstance(name, str) and name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


def run_in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 10,
    base_delay: float = 0.01,
) -> T:
    """Run ``work`` in a fresh transaction and commit; on a retryable failure roll back and run it again
    (jittered exponential back-off). Domain errors are not retried."""
    for attempt in range(1, attempts + 1):
        try:
            with factory.begin() as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(0, base_delay * 2 ** min(attempt, 6)))
    raise AssertionError("unreachable")  # pragma: no cover


# --- internals -----------------------------------------------------------------------------------------


def _source(value: str) -> str:
    try:
        return _SOURCE_ALIASES[value]
    except KeyError:
        raise LedgerError(
            f"资金来源 {value!r} 不正确，应为 市级及以上资金（city）或 区县财政（district）"
        ) from None


def _amount(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LedgerError(f"金额须为正整数（单位：分），收到 {value!r}")


def _application(ref: str) -> str:
    ref = ref.strip() if isinstance(ref, str) else ""
    if not ref or len(ref) > 60:
        raise LedgerError("须写明申请编号（1–60 个字符）")
    return ref


def _key(key: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > 80 or not key.isprintable():
        raise LedgerError("幂等键须为 1–80 个可打印字符")
    return key


def _request(
    operation: str,
    district: int,
    source: str,
    application_ref: str | None,
    amount_fen: int,
    description: str,
    **extra: str,
) -> dict[str, Any]:
    if isinstance(district, bool) or not isinstance(district, int):
        raise LedgerError("区县须为行政区划代码（整数）")
    if len(description) > 200:
        raise LedgerError("摘要不得超过 200 个字符")
    return {
        "operation": operation,
        "district": district,
        "funding_source": source,
        "application_ref": application_ref,
        "amount_fen": amount_fen,
        "description": description,
        **extra,
    }


def request_hash(request: dict[str, Any]) -> str:
    """SM3 over the canonical JSON of a request (sorted keys, compact, UTF-8)."""
    h = hashes.Hash(hashes.SM3())
    h.update(json.dumps(request, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"))
    return h.finalize().hex()


def _replay(session: Session, key: str, digest: str) -> LedgerResult | None:
    row = session.execute(
        select(JournalEntry.request_hash, JournalEntry.result).where(JournalEntry.idempotency_key == key)
    ).first()
    if row is None:
        return None
    if row.request_hash != digest or row.result is None:
        raise Conflict(
            f"幂等键 {key} 已用于另一笔内容不同的请求，本次请求未执行；如为新的请求，请使用新的幂等键"
        )
    return LedgerResult.from_stored(dict(row.result), replayed=True)


def _post(session: Session, *, key: str, request: dict[str, Any], legs: list[_Leg]) -> LedgerResult:
    key = _key(key)
    if sum(leg.delta for leg in legs) != 0:  # pragma: no cover - a programming error, not user input
        raise AssertionError("postings of an entry must sum to zero")
    digest = request_hash(request)
    replayed = _replay(session, key, digest)
    if replayed is not None:
        return replayed
    district, source = request["district"], request["funding_source"]
    try:
        with session.begin_nested():
            entry_id = session.execute(
                insert(JournalEntry)
                .values(
                    idempotency_key=key,
                    request_hash=digest,
                    operation=request["operation"],
                    district=district,
                    funding_source=source,
                    application_ref=request["application_ref"],
                    amount_fen=request["amount_fen"],
                    description=request["description"],
                    request=request,
                )
                .returning(JournalEntry.id)
            ).scalar_one()
            accounts = [(_account(session, district, source, leg), leg) for leg in legs]
            balances: dict[str, int] = {}
            for account_id, leg in sorted(accounts, key=lambda pair: pair[0]):
                balance = session.execute(
                    update(Account)
                    .where(Account.id == account_id)
                    .values(balance_fen=Account.balance_fen + leg.delta)
                    .returning(Account.balance_fen)
                ).scalar_one()
                balances[f"{leg.kind}:{leg.application_ref}" if leg.application_ref else leg.kind] = int(
                    balance
                )
            session.execute(
                insert(Posting),
                [{"entry_id": entry_id, "account_id": a, "amount_fen": leg.delta} for a, leg in accounts],
            )
            result = LedgerResult(
                entry_id=entry_id,
                operation=request["operation"],
                idempotency_key=key,
                district=district,
                funding_source=source,
                application_ref=request["application_ref"],
                amount_fen=request["amount_fen"],
                balances_after=balances,
            )
            session.execute(
                update(JournalEntry).where(JournalEntry.id == entry_id).values(result=result.stored())
            )
            return result
    except IntegrityError as exc:
        text = str(exc.orig)
        if _BALANCE_CHECK in text:
            raise _shortfall(session, request, legs) from None
        if _KEY_UNIQUE in text or "ledger_entries.idempotency_key" in text:
            # a concurrent first attempt with the same key committed meanwhile
            replayed = _replay(session, key, digest)
            if replayed is not None:
                return replayed
        raise


def _account(session: Session, district: int, source: str, leg: _Leg) -> int:
    where = and_(
        Account.district == district,
        Account.funding_source == source,
        Account.kind == leg.kind,
        Account.application_ref == leg.application_ref,
    )
    found = session.execute(select(Account.id).where(where)).scalar_one_or_none()
    if found is not None:
        return int(found)
    if not leg.create:
        label = f"区县 {district} {SOURCE_LABELS[source]}"
        if leg.kind == "available":
            raise AccountNotFound(f"{label} 尚未下达预算，无法核准")
        raise AccountNotFound(f"申请 {leg.application_ref} 在 {label} 下没有已核准的金额")
    values = {
        "district": district,
        "funding_source": source,
        "kind": leg.kind,
        "application_ref": leg.application_ref,
        "balance_fen": 0,
    }
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(pg_insert(Account).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(Account).values(values).on_conflict_do_nothing())
    else:
        session.execute(insert(Account).values(values))
    return int(session.execute(select(Account.id).where(where)).scalar_one())


def _shortfall(session: Session, request: dict[str, Any], legs: list[_Leg]) -> BudgetExceeded:
    """The Chinese message for a refused overdraft, with the balance as it now stands."""
    district, source = request["district"], request["funding_source"]
    label = f"区县 {district} {SOURCE_LABELS[source]}"
    amount = format_fen(request["amount_fen"])
    debit = next(leg for leg in legs if leg.delta < 0)
    if debit.kind == "available":
        now = budget_summary(session, district=district, funding_source=source).available_fen
        return BudgetExceeded(f"预算不足：{label} 可用预算 {format_fen(now)}，本次核准 {amount}，未予核准")
    now = approved_outstanding(
        session, district=district, funding_source=source, application_ref=debit.application_ref
    )
    verb = "拨付" if request["operation"] == "disburse" else "撤销"
    return BudgetExceeded(
        f"超出核准金额：申请 {debit.application_ref} 在 {label} 下已核准未拨付 {format_fen(now)}，"
        f"本次{verb} {amount}，未予{verb}"
    )
