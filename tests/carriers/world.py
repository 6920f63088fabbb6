"""A small world for the carriers tests: a registry in 500101 (an eligible small/micro tenant founded by
a returning entrepreneur, a medium-sized one, a young person with a startup intention, an older one),
staff, a carrier operator (org code ORG1), the city, a reviewer of 500102, and signed-in API clients
with the app's test clock."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from tests.registry.factories import Registry
from tests.web.apps_world import Clock
from tests.web.apps_world import World as AppsWorld
from tests.web.conftest import PASSWORD
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import AuditEvent
from xiangchuang.users.service import create_user, new_totp_secret

D1, D2 = 500101, 500102
NOW = dt.datetime(2025, 6, 10, 2, 0, tzinfo=dt.UTC)  # Tuesday 2025-06-10, 10:00 in Chongqing
LATER = dt.datetime(2025, 6, 30, 2, 0, tzinfo=dt.UTC)  # after a publicity started on NOW
T0 = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ACCOUNTS = (
    ("opr", "carrier_operator", None, "ORG1"),
    ("opr2", "carrier_operator", None, "ORG2"),
    ("clerk", "window_clerk", D1, None),
    ("revw", "district_reviewer", D1, None),
    ("finc", "district_finance", D1, None),
    ("revw2", "district_reviewer", D2, None),
    ("city", "city_admin", None, None),
)


def registry(conn: Any, pii: Any) -> None:
    reg = Registry(conn, pii)
    founder = reg.person(no="P-RET", groups=["returning_migrant_worker"], returning_entrepreneur=True)
    reg.business(no="B-OK", founder=founder, registration_date=dt.date(2022, 5, 1))
    other = reg.person(no="P-MED")
    reg.business(no="B-MED", founder=other, registration_date=dt.date(2021, 1, 1), size_class="medium")
    reg.business(no="B-IMP", founder=reg.person(no="P-IMP"), registration_date=dt.date(2023, 1, 1))
    reg.person(
        no="P-YOUNG", birth_date=dt.date(1998, 4, 2), startup_intention=True, holds_free_workstation=False
    )
    reg.person(
        no="P-OLD", birth_date=dt.date(1970, 4, 2), startup_intention=True, holds_free_workstation=False
    )


class World(AppsWorld):
    """The application pages' world (signed-in clients, test clock) plus the carriers' audit count."""

    def audit_count(self, prefix: str = "carrier.") -> int:
        with make_sessionmaker(self.engine)() as s:
            return int(s.scalar(select(func.count()).where(AuditEvent.action.startswith(prefix))) or 0)


def build(engine: Any, pii: Any, settings: Any, akey: bytes) -> World:
    from xiangchuang.web.app import create_app

    with engine.begin() as conn:
        registry(conn, pii)
    secrets: dict[str, str | None] = {}
    with transaction(make_sessionmaker(engine)) as s:
        for login, role, district, org in ACCOUNTS:
            secret = new_totp_secret()
            secrets[login] = secret
            user = create_user(
                s,
                login=login,
                display_name=f"测试{login}",
                role=role,
                password=PASSWORD,
                actor="system",
                audit_key=akey,
                district=district,
                totp_secret=secret,
                cipher=pii.cipher,
                now=T0,
            )
            user.org_code = org
    app = create_app(settings, engine=engine)
    clock = Clock(NOW)
    app.state.test_clock = clock
    return World(engine, app, clock, secrets)


CARRIER = {
    "carrier_no": "C-T1",
    "name": "测试返乡创业园",
    "kind": "incubator",
    "level": "municipal",
    "district": D1,
    "address": "测试区创业路 8 号",
    "capacity": 10,
    "services": ["policy", "mentoring"],
    "operator": "测试运营公司",
    "operator_org_code": "ORG1",
    "municipal_date": "2023-05-01",
    "workstations": 10,
    "free_workstations": 2,
}
