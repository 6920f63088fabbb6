"""Append-only, tamper-evident audit trail: HMAC-SM3 hash chain (等保2.0 安全审计, GB/T 39786-2021).

Writing — :func:`record` appends one row in the caller's transaction and never commits, so a rolled
back business transaction leaves no audit row and a committed one always has its row.

- **Key**: a dedicated audit key, ``HKDF-SM3(index_key, salt=None, info="xiangchuang audit chain v1",
  32 bytes)`` (:func:`audit_key`). Deriving it keeps the key ring's one secret and separates the uses: a
  blind-index value can never be replayed as an audit MAC or the other way round. The index key is not
  rotated (blind indexes depend on it); a future rotation would add a key id column.
- **Hash**: ``hash = HMAC-SM3(key, "xiangchuang-audit-v1\\0" + canonical)`` where ``canonical`` is the
  compact, key-sorted UTF-8 JSON array ``[seq, at, actor, actor_role, district, action, subject,
  outcome, details, prev_hash]`` with ``at`` as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTC). Seq 1 links to
  64 zeros.
- **No forks**: appenders lock the single ``audit_chain_head`` row (``SELECT … FOR UPDATE`` on
  PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serialises writers), read the last seq and hash from
  it, insert seq + 1 and move the head. ``prev_hash`` is unique, so even a broken lock cannot commit a
  fork. The lock is held until the caller commits: call :func:`record` late in the transaction.
- **Head MAC**: the head row is MAC'd, so truncating the tail and rewinding the head needs the key;
  :func:`record` refuses to extend a head whose MAC fails. (Restoring an *older genuine* head after
  deleting the rows since is only detectable against an external copy of the head — ``verify-audit``
  prints it; keep it in the 审计员's records.)
- **No PII, no log injection**: subject is ``table:key``; control, format and line/paragraph-separator
  characters are stripped from every text; a text that looks like a 身份证号, mobile or bank card number
  is refused.

Reading — :func:`verify` walks the chain in seq order and returns the first broken record (seq and
reason) or ``None``; :func:`verify_audit` is what ``xiangchuang verify-audit`` calls.
"""

from __future__ import annotations

import datetime as dt
import hmac as std_hmac
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from xiangchuang.crypto import KeyRing
from xiangchuang.models import AuditEvent, AuditHead
from xiangchuang.models.audit import OUTCOMES

GENESIS: Final = "0" * 64
HEAD_ID: Final = 1
KEY_INFO: Final = b"xiangchuang audit chain v1"
_ROW_DOMAIN: Final = b"xiangchuang-audit-v1\0"
_HEAD_DOMAIN: Final = b"xiangchuang-audit-head-v1\0"

_MAX_TEXT: Final = 500
_MAX_DEPTH: Final = 6
_STRIP_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp"})
_ACTION = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+")
_SUBJECT = re.compile(r"[a-z][a-z0-9_]*:\S{1,100}")
# 身份证号 (18 or 15 digits), mobile (11), bank card (16–19, maybe grouped by 4) as a standalone number.
_PII = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{11,19}[Xx]?|1[3-9]\d[- ]\d{4}[- ]\d{4}|\d{4}(?:[- ]\d{4}){3}(?:[- ]\d{1,3})?)"
    r"(?![0-9A-Za-z])"
)


class AuditError(ValueError):
    """An audit record was refused (bad field, suspected personal data); message in Chinese."""


class AuditChainError(RuntimeError):
    """The chain head is missing or fails its MAC: the log was tampered with; nothing is appended."""


@dataclass(frozen=True)
class Recorded:
    seq: int
    hash: str


@dataclass(frozen=True)
class Broken:
    """The first broken record: its seq, a reason code and a Chinese explanation."""

    seq: int
    reason: str  # hash_mismatch | prev_hash_mismatch | seq_gap | tail_deleted | beyond_head | head_*
    message: str


@dataclass(frozen=True)
class AuditVerification:
    checked: int
    head_seq: int | None
    head_hash: str | None
    broken: Broken | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    @property
    def message(self) -> str:
        if self.broken is not None:
            return f"审计链在第 {self.broken.seq} 条处断裂：{self.broken.message}"
        if self.head_seq is None:
            return "审计日志为空"
        return f"审计链完整：共校验 {self.checked} 条，链头为第 {self.head_seq} 条，哈希 {self.head_hash}"


def audit_key(ring: KeyRing) -> bytes:
    """The audit chain's key: HKDF-SM3 of the key ring's index key (info ``xiangchuang audit chain v1``)."""
    return HKDF(algorithm=hashes.SM3(), length=32, salt=None, info=KEY_INFO).derive(ring.index_key)


# --- writing -------------------------------------------------------------------------------------------


def record(
    session: Session,
    *,
    key: bytes,
    actor: str,
    action: str,
    subject: str,
    outcome: str = "success",
    details: Mapping[str, Any] | None = None,
    actor_role: str | None = None,
    district: int | None = None,
    at: dt.datetime | None = None,
) -> Recorded:
    """Append one audit row in the caller's transaction (never commits). Returns its seq and hash."""
    fields = _sanitised(
        actor=actor,
        action=action,
        subject=subject,
        outcome=outcome,
        details=details,
        actor_role=actor_role,
        district=district,
        at=at or dt.datetime.now(dt.UTC),
    )
    head_seq, head_hash = _lock_head(session, key)
    seq = head_seq + 1
    digest = _row_hash(key, seq=seq, prev_hash=head_hash, **fields)
    session.execute(insert(AuditEvent).values(seq=seq, prev_hash=head_hash, hash=digest, **fields))
    session.execute(
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(seq=seq, hash=digest, mac=_head_mac(key, seq, digest))
    )
    return Recorded(seq=seq, hash=digest)


def _lock_head(session: Session, key: bytes) -> tuple[int, str]:
    stmt = (
        select(AuditHead.seq, AuditHead.hash, AuditHead.mac).where(AuditHead.id == HEAD_ID).with_for_update()
    )
    head = session.execute(stmt).first()
    if head is None:
        _create_head(session, key)
        head = session.execute(stmt).one()
    if not std_hmac.compare_digest(head.mac, _head_mac(key, head.seq, head.hash)):
        raise AuditChainError(
            "审计链头校验失败（链头被修改或密钥不符）：已停止写入，请运行 xiangchuang verify-audit"
        )
    return int(head.seq), str(head.hash)


def _create_head(session: Session, key: bytes) -> None:
    """Create the genesis head unless a concurrent appender just did. Creating it while audit rows exist
    means the head was deleted: refuse, and leave nothing behind (the insert was a savepoint)."""
    values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS, "mac": _head_mac(key, 0, GENESIS)}
    dialect = session.get_bind().dialect.name
    with session.begin_nested():  # an exception rolls the savepoint back
        if dialect == "postgresql":
            stmt = pg_insert(AuditHead).values(values).on_conflict_do_nothing().returning(AuditHead.id)
        elif dialect == "sqlite":
            stmt = sqlite_insert(AuditHead).values(values).on_conflict_do_nothing().returning(AuditHead.id)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            stmt = insert(AuditHead).values(values).returning(AuditHead.id)
        created = session.execute(stmt).first() is not None
        if created and session.execute(select(AuditEvent.seq).limit(1)).first() is not None:
            raise AuditChainError(
                "审计链头记录缺失，审计日志可能被篡改：已停止写入，请运行 xiangchuang verify-audit"
            )


# --- sanitising ----------------------------------------------------------------------------------------


def clean_text(value: str, *, limit: int = _MAX_TEXT) -> str:
    """Strip control / format / line-separator characters (log injection) and cut to ``limit``."""
    cleaned = "".join(ch for ch in value if unicodedata.category(ch) not in _STRIP_CATEGORIES)
    return cleaned[:limit]


def contains_personal_number(text: str) -> bool:
    """Whether a text holds something shaped like a 身份证号, mobile or bank card number."""
    return _PII.search(text) is not None


def _no_pii(text: str, where: str) -> str:
    if contains_personal_number(text):
        raise AuditError(f"审计{where}疑似包含身份证号、手机号或银行卡号，审计日志不得记录个人信息")
    return text


def _clean_value(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        raise AuditError("审计详情嵌套过深")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError("审计详情中的数值须为有限数")
        return value
    if isinstance(value, str):
        return _no_pii(clean_text(value), "详情")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            name = _no_pii(clean_text(str(k), limit=80), "详情")
            out[name] = _clean_value(v, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_clean_value(v, depth + 1) for v in value]
    raise AuditError(f"审计详情不支持 {type(value).__name__} 类型的值")


def _sanitised(
    *,
    actor: str,
    action: str,
    subject: str,
    outcome: str,
    details: Mapping[str, Any] | None,
    actor_role: str | None,
    district: int | None,
    at: dt.datetime,
) -> dict[str, Any]:
    actor = _no_pii(clean_text(actor, limit=64), "操作人")
    if not actor:
        raise AuditError("审计记录须写明操作人（用户编号或 system）")
    action = clean_text(action, limit=60)
    if not _ACTION.fullmatch(action):
        raise AuditError(f"审计动作 {action!r} 格式不正确，应如 application.submit")
    subject = _no_pii(clean_text(subject, limit=120), "对象")
    if not _SUBJECT.fullmatch(subject):
        raise AuditError(f"审计对象 {subject!r} 格式不正确，应为“表名:编号”，且不得含个人信息")
    if outcome not in OUTCOMES:
        raise AuditError(f"审计结果须为 {'/'.join(OUTCOMES)} 之一")
    if district is not None and (isinstance(district, bool) or not isinstance(district, int)):
        raise AuditError("审计记录的区县须为行政区划代码（整数）")
    if at.tzinfo is None:
        raise AuditError("审计时间须带时区（UTC）")
    return {
        "at": at.astimezone(dt.UTC),
        "actor": actor,
        "actor_role": clean_text(actor_role, limit=40) if actor_role is not None else None,
        "district": district,
        "action": action,
        "subject": subject,
        "outcome": outcome,
        "details": _clean_value(dict(details or {}), 0),
    }


# --- hashing -------------------------------------------------------------------------------------------


def _utc_text(at: dt.datetime) -> str:
    """SQLite hands the stored UTC wall clock back naive; PostgreSQL an aware value."""
    at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _mac(key: bytes, data: bytes) -> str:
    h = hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def _row_hash(
    key: bytes,
    *,
    seq: int,
    at: dt.datetime,
    actor: str,
    actor_role: str | None,
    district: int | None,
    action: str,
    subject: str,
    outcome: str,
    details: Any,
    prev_hash: str,
) -> str:
    canonical = json.dumps(
        [seq, _utc_text(at), actor, actor_role, district, action, subject, outcome, details, prev_hash],
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
        allow_nan=False,
    )
    return _mac(key, _ROW_DOMAIN + canonical.encode("utf-8"))


def _head_mac(key: bytes, seq: int, digest: str) -> str:
    return _mac(key, _HEAD_DOMAIN + f"{seq}:{digest}".encode())


# --- verifying -----------------------------------------------------------------------------------------


def verify(conn: Connection | Session, key: bytes) -> Broken | None:
    """Walk the chain in seq order; the first broken record, or ``None`` when the chain is intact."""
    return _walk(conn, key).broken


def verification(conn: Connection | Session, key: bytes) -> AuditVerification:
    """The full result (rows checked, head, first break) read through the caller's connection or session
    (a web request verifies inside its own transaction)."""
    return _walk(conn, key)


def _walk(conn: Connection | Session, key: bytes) -> AuditVerification:
    head = conn.execute(
        select(AuditHead.seq, AuditHead.hash, AuditHead.mac).where(AuditHead.id == HEAD_ID)
    ).first()
    rows = conn.execute(
        select(
            AuditEvent.seq,
            AuditEvent.at,
            AuditEvent.actor,
            AuditEvent.actor_role,
            AuditEvent.district,
            AuditEvent.action,
            AuditEvent.subject,
            AuditEvent.outcome,
            AuditEvent.details,
            AuditEvent.prev_hash,
            AuditEvent.hash,
        )
        .order_by(AuditEvent.seq)
        .execution_options(yield_per=1000)
    )
    head_seq = int(head.seq) if head is not None else None
    head_hash = str(head.hash) if head is not None else None

    def result(checked: int, broken: Broken | None) -> AuditVerification:
        return AuditVerification(checked=checked, head_seq=head_seq, head_hash=head_hash, broken=broken)

    expected, prev, checked = 1, GENESIS, 0
    for row in rows:
        if head_seq is not None and row.seq > head_seq and expected > head_seq:
            rows.close()
            return result(
                checked, Broken(row.seq, "beyond_head", f"第 {row.seq} 条记录位于链头之后（未经正常写入）")
            )
        if row.seq != expected:
            rows.close()
            return result(
                checked, Broken(expected, "seq_gap", f"缺少第 {expected} 条记录（记录被删除或序号被修改）")
            )
        fields = row._asdict()
        stored = fields.pop("hash")
        if not std_hmac.compare_digest(_row_hash(key, **fields), stored):
            rows.close()
            return result(
                checked,
                Broken(row.seq, "hash_mismatch", f"第 {row.seq} 条记录的内容与其哈希不符（记录被修改）"),
            )
        if row.prev_hash != prev:
            rows.close()
            return result(
                checked,
                Broken(
                    row.seq,
                    "prev_hash_mismatch",
                    f"第 {row.seq} 条记录未接续第 {row.seq - 1} 条（记录被替换或重排）",
                ),
            )
        prev, expected, checked = stored, expected + 1, checked + 1
    last = expected - 1
    if head is None:
        if last == 0:
            return result(0, None)
        return result(
            checked, Broken(last + 1, "head_missing", "审计链头记录缺失（无法确认末尾记录未被删除）")
        )
    if not std_hmac.compare_digest(head.mac, _head_mac(key, head.seq, head.hash)):
        return result(
            checked, Broken(int(head.seq), "head_mac_mismatch", "审计链头校验失败（链头被修改或密钥不符）")
        )
    if head.seq > last:
        return result(
            checked,
            Broken(
                last + 1,
                "tail_deleted",
                f"链头记到第 {head.seq} 条，但记录只到第 {last} 条（末尾记录被删除）",
            ),
        )
    if head.hash != prev:
        return result(checked, Broken(last, "head_hash_mismatch", f"链头哈希与第 {last} 条记录不符"))
    return result(checked, None)


def verify_audit(*, engine: Engine, ring: KeyRing) -> AuditVerification:
    """What ``xiangchuang verify-audit`` runs: one consistent snapshot of the head and every row."""
    key = audit_key(ring)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            return _walk(conn, key)
