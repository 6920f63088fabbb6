"""Idempotency keys on the API (web/idempotency.py) and the real client address behind trusted proxies
(web/proxy.py), on SQLite and PostgreSQL. The cross-process versions are in test_deployment.py."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from xiangchuang.models import IdempotencyRecord, RateLimitBucket
from xiangchuang.web.proxy import parse_trusted, real_client

CASE = {"on": "2024-03-20", "person": {"id": "P1", "groups": ["returning_migrant_worker"]}, "received": []}


def _count(engine, model) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_same_key_same_request_is_replayed_from_the_database(client, db_engine):
    first = client.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 200 and "idempotency-replayed" not in first.headers
    again = client.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-1"})
    assert again.status_code == 200 and again.headers["idempotency-replayed"] == "true"
    assert again.content == first.content
    assert again.headers["x-content-type-options"] == "nosniff"  # replays get the security headers
    assert again.headers["cache-control"].startswith("no-store")
    assert _count(db_engine, IdempotencyRecord) == 1


def test_same_key_different_body_is_409_in_chinese(client):
    assert client.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-2"}).status_code == 200
    other = dict(CASE, on="2025-01-01")
    r = client.post("/api/v1/checkup", json=other, headers={"Idempotency-Key": "k-2"})
    assert r.status_code == 409 and "幂等键已用于另一个不同的请求" in r.json()["detail"]


def test_keys_belong_to_one_caller(client, db_engine):
    assert client.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-3"}).status_code == 200
    r = client.post(
        "/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-3", "Cookie": "xc_session=someone-else"}
    )
    # another caller's key does not collide (this caller's session is unknown → it is simply anonymous-ish)
    assert "idempotency-replayed" not in r.headers
    assert _count(db_engine, IdempotencyRecord) == 2


def test_client_errors_are_stored_and_replayed_too(client):
    bad = {"on": "not a date"}
    first = client.post("/api/v1/checkup", json=bad, headers={"Idempotency-Key": "k-4"})
    assert first.status_code == 422
    again = client.post("/api/v1/checkup", json=bad, headers={"Idempotency-Key": "k-4"})
    assert again.status_code == 422 and again.headers["idempotency-replayed"] == "true"
    assert again.json() == first.json()


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "tab\tkey"])
def test_malformed_keys_are_refused(client, key):
    r = client.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": key})
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["detail"]


def test_without_a_key_nothing_is_stored(client, db_engine):
    assert client.post("/api/v1/checkup", json=CASE).status_code == 200
    assert _count(db_engine, IdempotencyRecord) == 0


def test_a_server_error_releases_the_key(db_engine, web_settings, monkeypatch):
    from xiangchuang.web import api
    from xiangchuang.web.app import create_app

    calls = {"n": 0}
    real = api.run_checkup

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "run_checkup", flaky)
    with TestClient(create_app(web_settings, engine=db_engine), raise_server_exceptions=False) as c:
        assert c.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-5"}).status_code == 500
        assert _count(db_engine, IdempotencyRecord) == 0
        r = c.post("/api/v1/checkup", json=CASE, headers={"Idempotency-Key": "k-5"})
        assert r.status_code == 200 and "idempotency-replayed" not in r.headers
    assert calls["n"] == 2


# --- proxies ---------------------------------------------------------------------------------------------


def test_real_client_reads_forwarded_for_only_from_trusted_peers():
    trusted = parse_trusted("127.0.0.1, 10.0.0.0/8")
    assert real_client("127.0.0.1", "203.0.113.5", trusted) == "203.0.113.5"
    assert real_client("127.0.0.1", "198.51.100.9, 203.0.113.5, 10.1.2.3", trusted) == "203.0.113.5"
    assert real_client("198.51.100.1", "203.0.113.5", trusted) == "198.51.100.1"  # untrusted peer
    assert real_client("127.0.0.1", "203.0.113.5", ()) == "127.0.0.1"  # nothing trusted
    assert real_client("127.0.0.1", "garbage", trusted) == "127.0.0.1"
    assert real_client("127.0.0.1", "[2001:db8::1]:443", trusted) == "2001:db8::1"
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_trusted("127.0.0.1, not-an-ip")


def _login_buckets(db_engine) -> int:
    with db_engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(RateLimitBucket).where(RateLimitBucket.key.like("login:%"))
            ).scalar_one()
        )


def _fail_login(c: TestClient, forwarded: str) -> int:
    return c.post(
        "/login",
        data={"login": "nobody.here", "password": "wrong-password-1", "csrf_token": "t" * 20},
        headers={"X-Forwarded-For": forwarded, "Cookie": "xc_csrf=" + "t" * 20},
    ).status_code


def test_forged_forwarded_for_from_an_untrusted_client_does_not_change_the_bucket(db_engine, web_settings):
    from xiangchuang.web.app import create_app

    settings = web_settings.model_copy(update={"rate_login": "2/600", "trusted_proxies": "10.0.0.1"})
    app = create_app(settings, engine=db_engine)
    with TestClient(app, client=("198.51.100.7", 5000)) as c:  # not a trusted proxy
        codes = [_fail_login(c, f"203.0.113.{i}") for i in range(3)]
    assert codes == [401, 401, 429] and _login_buckets(db_engine) == 1
    with TestClient(app, client=("10.0.0.1", 5000)) as proxy:  # the trusted proxy names two clients
        assert [_fail_login(proxy, "203.0.113.50") for _ in range(3)] == [401, 401, 429]
        assert _fail_login(proxy, "203.0.113.51") == 401
    assert _login_buckets(db_engine) == 3
