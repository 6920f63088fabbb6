"""Accounts, server-side sessions, API tokens and rate-limit buckets (SECURITY.md: authentication).

- ``users``: one account per person or officer. ``login`` is the sign-in name (letters, digits, ``._-``;
  never a personal number), ``role`` one of :data:`USER_ROLES` (the workflow's roles plus the bank, the
  guarantee fund, mentors and the 三员). Staff roles hold a district (and a street for a 街道 clerk); an
  applicant account is linked to the registry person and/or business it speaks for. The password is an
  argon2id hash; the TOTP secret is a field-cipher ciphertext (SM4-GCM), and ``totp_last_step`` makes each
  code single use. ``failed_count`` counts failures since ``failed_window_start`` (lockout).
- ``user_sessions``: the server side of a browser session. Only the SHA-256 of the session id is stored;
  ``stage`` is ``mfa`` between password and TOTP, ``full`` after. Idle and absolute expiry are checked
  on every request; logout and disabling an account delete the rows.
- ``api_tokens``: for other agencies' systems (banks, the guarantee fund): a hash, scopes and expiry.
- ``rate_limit_buckets``: fixed-window counters in the database, so limits hold across worker processes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from xiangchuang.models.base import Base

# The workflow's roles (xiangchuang.applications.workflow.ROLES) come first, with the same names.
USER_ROLES = (
    "applicant",
    "window_clerk",
    "district_reviewer",
    "district_finance",
    "city_admin",
    "bank",
    "guarantee_fund",
    "mentor",
    "sys_admin",
    "sec_admin",
    "audit_admin",
    "training_provider",
    "carrier_operator",
)
DISTRICT_ROLES = ("window_clerk", "district_reviewer", "district_finance")
API_ORGS = ("bank", "guarantee_fund")
SESSION_STAGES = ("mfa", "full")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", USER_ROLES), name="role_known"),
        CheckConstraint(
            f"NOT ({_in('role', DISTRICT_ROLES)}) OR district IS NOT NULL",
            name="district_staff_have_district",
        ),
        CheckConstraint(
            "role <> 'applicant' OR person_id IS NOT NULL OR business_id IS NOT NULL",
            name="applicant_is_linked",
        ),
        CheckConstraint("failed_count >= 0", name="failed_count_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20), index=True)
    district: Mapped[int | None] = mapped_column(Integer, index=True)
    street: Mapped[str | None] = mapped_column(String(60))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id"), index=True)
    org_name: Mapped[str | None] = mapped_column(String(80))  # bank / guarantee fund / mentor's unit
    org_code: Mapped[str | None] = mapped_column(String(20))  # a bank's code (loans.bank_code)
    password_hash: Mapped[str] = mapped_column(String(200))
    password_changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    totp_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    failed_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_window_start: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (CheckConstraint(_in("stage", SESSION_STAGES), name="stage_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the session id
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)  # absolute


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_in("owner_org", API_ORGS), name="owner_org_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex of the token
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to tell tokens apart
    name: Mapped[str] = mapped_column(String(80))
    owner_org: Mapped[str] = mapped_column(String(20))
    org_name: Mapped[str] = mapped_column(String(80))
    org_code: Mapped[str | None] = mapped_column(String(20))  # a bank's code (loans.bank_code)
    district: Mapped[int | None] = mapped_column(Integer)  # the district the organisation serves
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RateLimitBucket(Base):
    __tablename__ = "rate_limit_buckets"
    __table_args__ = (CheckConstraint("count >= 0", name="count_nonneg"),)

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # bucket:hash(client)
    window_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True, index=True)
    count: Mapped[int] = mapped_column(Integer)
