"""Fixtures for the web and account tests: an audit key, a cipher, a registry with one business, the app."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.registry.factories import Registry
from tests.web.roles import app, as_role  # noqa: F401  (signed-in clients for any role)
from xiangchuang.audit import audit_key
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.users.service import create_user, new_totp_secret

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC)
PASSWORD = "Lemon-tree-on-the-hill"


@pytest.fixture
def akey(pii):
    return audit_key(pii.cipher.ring)


@pytest.fixture
def cipher(pii):
    return pii.cipher


@pytest.fixture
def linked(db_engine, pii):
    """A person who founded a business in 500101 (ids of both)."""
    with db_engine.begin() as conn:
        reg = Registry(conn, pii)
        person = reg.person(groups=["returning_migrant_worker"])
        business = reg.business(founder=person, registration_date=dt.date(2022, 3, 10), district=500101)
    return {"person_id": person, "business_id": business}


@pytest.fixture
def make_user(db_engine, akey, cipher, linked):
    """Create an account; returns (user id, TOTP secret or None)."""
    factory = make_sessionmaker(db_engine)

    def make(login: str, role: str = "applicant", *, district: int | None = None, totp: bool | None = None):
        secret = new_totp_secret() if (totp if totp is not None else role != "applicant") else None
        extra = linked if role == "applicant" else {}
        if role in ("window_clerk", "district_reviewer", "district_finance") and district is None:
            district = 500101
        with transaction(factory) as s:
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
                cipher=cipher,
                now=T0,
                **extra,
            )
            return user.id, secret

    return make


def ring_json(ring) -> str:
    import base64
    import json

    return json.dumps(
        {
            "active": ring.active,
            "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()},
            "index_key": base64.b64encode(ring.index_key).decode(),
        }
    )


@pytest.fixture
def web_settings(pii, tmp_path):
    from xiangchuang.config import Settings

    return Settings(
        data_dir=tmp_path, keyring=ring_json(pii.cipher.ring), rate_checkup="1000/60", rate_login="1000/60"
    )


@pytest.fixture
def client(db_engine, web_settings):
    from fastapi.testclient import TestClient

    from xiangchuang.web.app import create_app

    with TestClient(create_app(web_settings, engine=db_engine), base_url="http://testserver") as c:
        yield c
