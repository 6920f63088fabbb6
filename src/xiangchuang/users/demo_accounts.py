"""Demo accounts: one per role, only in demo mode, with random passwords shown once.

SECURITY.md: no default accounts. :func:`seed_demo_accounts` refuses unless the settings say demo mode,
does nothing when demo accounts already exist (their passwords were shown when they were made and are
stored only as argon2id hashes), puts the district accounts in the district with the most demo
businesses, and links the applicant to a business of that district and its legal representative in the
registry (whose person number is the applicant's actor id in applications, invitations and messages).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from xiangchuang import fields
from xiangchuang.applications.repository import founder_of
from xiangchuang.chinatime import china_date
from xiangchuang.config import Settings
from xiangchuang.crypto import FieldCipher
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.models import Business, Founder, User
from xiangchuang.users.service import (
    DEFAULT_POLICY,
    ROLE_LABELS,
    SecurityPolicy,
    create_user,
    needs_totp,
    new_totp_secret,
    totp_uri,
)

PREFIX: Final = "demo."
# (role, login suffix, display name, org)
ACCOUNTS: Final = (
    ("applicant", "applicant", "演示创业者", None),
    ("window_clerk", "clerk", "演示街道经办", None),
    ("district_reviewer", "reviewer", "演示区县审核", None),
    ("district_finance", "finance", "演示区县财政", None),
    ("city_admin", "city", "演示市级管理员", None),
    ("bank", "bank", "演示承办银行", "重庆农村商业银行（演示）"),
    ("guarantee_fund", "fund", "演示担保基金", "重庆市创业担保基金（演示）"),
    ("mentor", "mentor", "演示创业导师", None),
    ("sys_admin", "sysadmin", "演示系统管理员", None),
    ("sec_admin", "secadmin", "演示安全管理员", None),
    ("audit_admin", "auditor", "演示审计管理员", None),
    ("training_provider", "provider", "演示培训机构", "重庆市演示职业培训学校"),
    ("carrier_operator", "carrier", "演示载体运营方", "演示返乡创业园运营公司"),
)
# The organisation code a demo account of these roles speaks for (users.org_code); the services' demo
# seeders (xiangchuang.demo_seed) give their demo provider / carrier these codes.
DEMO_ORG_CODES: Final = {"training_provider": "DEMOTP01", "carrier_operator": "DEMOCR01"}


@dataclass(frozen=True)
class DemoAccount:
    login: str
    role: str
    role_label: str
    password: str
    district: int | None
    totp_secret: str | None
    totp_uri: str | None


def strong_password() -> str:
    """20 random characters from an unambiguous alphabet (≈ 115 bits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    return "".join(secrets.choice(alphabet) for _ in range(20))


def demo_district(session: Session) -> int:
    row = session.execute(
        select(Business.district, func.count().label("n"))
        .group_by(Business.district)
        .order_by(func.count().desc(), Business.district)
        .limit(1)
    ).first()
    if row is None:
        raise ValidationFailed("登记库中没有演示数据：请先运行 xiangchuang demo（或 demo-data）")
    return int(row.district)


def seed_demo_accounts(
    session: Session,
    *,
    settings: Settings,
    cipher: FieldCipher,
    audit_key: bytes,
    policy: SecurityPolicy = DEFAULT_POLICY,
    now: dt.datetime | None = None,
) -> list[DemoAccount]:
    """Create the demo accounts and return them with their passwords (to print once). Empty when they exist."""
    if not settings.demo:
        raise Forbidden("只有演示模式（XIANGCHUANG_DEMO=true）才能创建演示账号；生产环境不设任何默认账号")
    if session.execute(select(User.id).where(User.login.startswith(PREFIX)).limit(1)).first() is not None:
        return []
    district = demo_district(session)
    linked = session.execute(
        select(Business.id, Founder.person_id)
        .join(Founder, Founder.business_id == Business.id)
        .where(Business.district == district, Business.status == "normal")
        .order_by(Business.id)
        .limit(1)
    ).first()
    if linked is None:
        raise ValidationFailed(f"演示区县 {district} 没有带创办人的正常经营主体，无法关联演示申请人")
    # The applicant's actor id is the registry person number of the person the account speaks for
    # (xiangchuang.web.workbench); link the business's legal representative, the person 免申即享
    # invitations for the business go to, so both name the same person.
    representative = founder_of(session, int(linked.id), on=china_date(fields.now_utc(now)))
    person_id = representative.id if representative is not None else int(linked.person_id)
    out: list[DemoAccount] = []
    made: list[tuple[str, User]] = []
    for role, suffix, name, org in ACCOUNTS:
        password = strong_password()
        login = PREFIX + suffix
        in_district = role in ("window_clerk", "district_reviewer", "district_finance", "applicant")
        probe = User(role=role)
        secret = new_totp_secret() if needs_totp(probe, policy) else None
        user = create_user(
            session,
            login=login,
            display_name=name,
            role=role,
            password=password,
            actor="system",
            audit_key=audit_key,
            district=district if in_district else None,
            person_id=person_id if role == "applicant" else None,
            business_id=int(linked.id) if role == "applicant" else None,
            org_name=org,
            totp_secret=secret,
            cipher=cipher,
            policy=policy,
            now=now,
        )
        made.append((role, user))
        out.append(
            DemoAccount(
                login=login,
                role=role,
                role_label=ROLE_LABELS[role],
                password=password,
                district=district if in_district else None,
                totp_secret=secret,
                totp_uri=totp_uri(secret, login) if secret else None,
            )
        )
    for role, user in made:
        user.org_code = DEMO_ORG_CODES.get(role, user.org_code)
    return out
