"""A small world for the application pages: the registry of tests.applications (B-VET eligible for
创业补助 in 500101 on 2025-03-03; B-OTHER in 500102), accounts for each role, and signed-in clients.

The app's clock is the test clock (``app.state.test_clock``), so the publicity period can end inside
the test."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.applications import D1, D2, NOW, PDF, registry
from tests.web.conftest import PASSWORD
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import Business, Person
from xiangchuang.users.service import create_user, new_totp_secret

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form has no CSRF field"
    return m.group(1)


@dataclass
class Clock:
    now: dt.datetime = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class World:
    engine: Any
    app: Any
    clock: Clock
    secrets: dict[str, str | None] = field(default_factory=dict)
    clients: list[TestClient] = field(default_factory=list)

    def client(self, login: str) -> TestClient:
        c = TestClient(self.app, base_url="http://testserver")
        c.__enter__()
        self.clients.append(c)
        page = c.get("/login")
        r = c.post(
            "/login",
            data={"login": login, "password": PASSWORD, "csrf_token": csrf(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        secret = self.secrets[login]
        if secret:
            page = c.get("/login/totp")
            r = c.post(
                "/login/totp",
                data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(page.text)},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
        c.headers["x-csrf-token"] = csrf(c.get("/me").text)
        return c

    def close(self) -> None:
        for c in self.clients:
            c.__exit__(None, None, None)


ACCOUNTS = (
    ("vet", "applicant", None, "P-VET", "B-VET"),
    ("other", "applicant", None, "P-OTHER", "B-OTHER"),
    ("clerk", "window_clerk", D1, None, None),
    ("rev", "district_reviewer", D1, None, None),
    ("fin", "district_finance", D1, None, None),
    ("clerk2", "window_clerk", D2, None, None),
    ("rev2", "district_reviewer", D2, None, None),
)


def build(engine: Any, pii: Any, settings: Any, akey: bytes) -> World:
    from xiangchuang.web.app import create_app

    with engine.begin() as conn:
        registry(conn, pii)
        enc, _ = pii.bank_account("6217000010001234567")
        conn.execute(update(Person).where(Person.person_no == "P-VET").values(bank_account_enc=enc))
    factory = make_sessionmaker(engine)
    secrets: dict[str, str | None] = {}
    with transaction(factory) as s:
        for login, role, district, person_no, business_no in ACCOUNTS:
            from sqlalchemy import select

            person_id = (
                s.execute(select(Person.id).where(Person.person_no == person_no)).scalar()
                if person_no
                else None
            )
            business_id = (
                s.execute(select(Business.id).where(Business.business_no == business_no)).scalar()
                if business_no
                else None
            )
            secret = None if role == "applicant" else new_totp_secret()
            secrets[login] = secret
            create_user(
                s,
                login=login,
                display_name=f"测试{login}",
                role=role,
                password=PASSWORD,
                actor="system",
                audit_key=akey,
                district=district,
                person_id=person_id,
                business_id=business_id,
                totp_secret=secret,
                cipher=pii.cipher,
                now=T0,
            )
    app = create_app(settings, engine=engine)
    clock = Clock()
    app.state.test_clock = clock
    return World(engine, app, clock, secrets)


def upload_all(c: TestClient, app_id: int, materials: list[str], base: str = "/my/applications") -> Any:
    files = [(f"file_{m}", (f"{m}.pdf", PDF, "application/pdf")) for m in materials]
    return c.post(f"{base}/{app_id}/materials", files=files, follow_redirects=False)
