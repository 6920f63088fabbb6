"""Changing one's own phone or bank account, after re-authentication (SECURITY.md: re-authenticate
before changing bank account or phone).

The applicant types their password again; a wrong password counts as a failed login (lockout applies)
and changes nothing. The new values are validated, encrypted (SM4-GCM, blind index for the phone) and
shown back masked only. Audited as ``person.contact_change`` with the names of the changed fields —
never their values. Keyword-only, over a Session; never commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.orm import Session

from xiangchuang.audit import record
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.ids.errors import IdValidationError
from xiangchuang.models import Person, User, UserSession
from xiangchuang.registry.pii import Pii
from xiangchuang.users.passwords import verify_password
from xiangchuang.users.service import SecurityPolicy, register_failure


@dataclass(frozen=True)
class Contact:
    phone: str | None  # masked
    bank_account: str | None  # masked


@dataclass(frozen=True)
class ContactChange:
    """``ok`` False: the password was wrong (the failure is counted; nothing changed) — ``message``."""

    ok: bool
    contact: Contact
    warning: str | None = None  # a bank card that fails the Luhn check
    message: str | None = None


def own_person(session: Session, user: User) -> Person:
    if user.role != "applicant" or user.person_id is None:
        raise Forbidden("只有关联了登记库人员的申请人账号可以修改本人联系方式")
    person = session.get(Person, user.person_id)
    if person is None:
        raise Forbidden("账号关联的人员不存在")
    return person


def masked_contact(session: Session, *, user: User, pii: Pii) -> Contact:
    person = own_person(session, user)
    return Contact(pii.masked_phone(person.phone_enc), pii.masked_bank(person.bank_account_enc))


def change_contact(
    session: Session,
    *,
    user: User,
    password: str,
    phone: str | None,
    bank_account: str | None,
    pii: Pii,
    audit_key: bytes,
    policy: SecurityPolicy,
    now: dt.datetime,
) -> ContactChange:
    """Change the phone and/or bank account if ``password`` is the user's; the caller commits either way
    (a wrong password is a counted failure, returned, not raised, so the count is kept)."""
    person = own_person(session, user)
    if not verify_password(user.password_hash, password, policy.argon2):
        result = register_failure(
            session, user=user, audit_key=audit_key, policy=policy, at=now, reason="reauth_password"
        )
        message = "当前密码：不正确，修改手机号或银行账号须重新验证密码"
        if result.outcome == "locked":  # locked: this session ends too
            message = result.message
            session.execute(delete(UserSession).where(UserSession.user_id == user.id))
        return ContactChange(False, masked_contact(session, user=user, pii=pii), message=message)
    phone = (phone or "").strip() or None
    bank_account = (bank_account or "").strip() or None
    if phone is None and bank_account is None:
        raise ValidationFailed("新手机号或新银行账号：至少填写一项")
    changed: list[str] = []
    warning = None
    try:
        if phone is not None:
            person.phone_enc, person.phone_bidx = pii.phone(phone)
            changed.append("phone")
        if bank_account is not None:
            person.bank_account_enc, warning = pii.bank_account(bank_account)
            changed.append("bank_account")
    except IdValidationError as exc:
        raise ValidationFailed(str(exc)) from None
    session.flush()
    record(
        session,
        key=audit_key,
        actor=f"user:{user.id}",
        actor_role=user.role,
        action="person.contact_change",
        subject=f"persons:{person.person_no}",
        details={"fields": changed, "reauthenticated": True},
        at=now,
    )
    shown = Contact(pii.masked_phone(person.phone_enc), pii.masked_bank(person.bank_account_enc))
    return ContactChange(True, shown, warning=warning)
