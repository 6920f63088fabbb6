"""The audit trail: append-only, HMAC-SM3 hash-chained, written in the business transaction."""

from xiangchuang.audit.chain import (
    AuditChainError,
    AuditError,
    AuditVerification,
    Broken,
    Recorded,
    audit_key,
    contains_personal_number,
    record,
    verification,
    verify,
    verify_audit,
)

__all__ = [
    "AuditChainError",
    "AuditError",
    "AuditVerification",
    "Broken",
    "Recorded",
    "audit_key",
    "contains_personal_number",
    "record",
    "verification",
    "verify",
    "verify_audit",
]
