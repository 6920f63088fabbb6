"""Signed-in TestClients for any role (one cookie jar per client), sharing one app."""

from __future__ import annotations

import re

import pyotp
import pytest
from fastapi.testclient import TestClient


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form has no CSRF field"
    return m.group(1)


def sign_in(client: TestClient, login: str, secret: str | None) -> None:
    from tests.web.conftest import PASSWORD

    page = client.get("/login")
    r = client.post(
        "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if secret:
        page = client.get("/login/totp")
        r = client.post(
            "/login/totp",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text


class Signed:
    """A signed-in client with its CSRF token (``post`` adds it to every form)."""

    def __init__(self, client: TestClient, user_id: int) -> None:
        self.client = client
        self.user_id = user_id
        self.token = csrf(client.get("/login?next=/me", follow_redirects=True).text)

    def get(self, url: str, **kw):
        return self.client.get(url, follow_redirects=False, **kw)

    def post(self, url: str, data: dict | None = None, **kw):
        return self.client.post(
            url, data={**(data or {}), "csrf_token": self.token}, follow_redirects=False, **kw
        )

    def api(self, method: str, url: str, **kw):
        return self.client.request(method, url, headers={"x-csrf-token": self.token}, **kw)


@pytest.fixture
def app(db_engine, web_settings):
    from xiangchuang.web.app import create_app

    return create_app(web_settings, engine=db_engine)


@pytest.fixture
def as_role(app, make_user):
    """``as_role(login, role, district=None)`` → a :class:`Signed` client."""
    opened: list[TestClient] = []

    def make(login: str, role: str, district: int | None = None) -> Signed:
        uid, secret = make_user(login, role, district=district)
        c = TestClient(app, base_url="http://testserver")
        c.__enter__()
        opened.append(c)
        sign_in(c, login, secret)
        return Signed(c, uid)

    yield make
    for c in opened:
        c.__exit__(None, None, None)
