"""The public check-up's two short cuts, on the real databases:

- rate-limit counting on PostgreSQL runs on an autocommit engine of its own (one statement, one round
  trip, no ping, ``synchronous_commit=off``), still shared between worker processes through the database,
  and survives the server dropping its connections;
- the public pages' parameters (:class:`RecentParameters`) are at most ``max_age`` seconds old: a decision
  taken in this process is seen at once, one taken in another process after ``max_age``; anything that
  stores a determination still reads them in its own transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text

PARAM = "startup_subsidy.rate"


def _own_url(db_engine) -> str:  # type: ignore[no-untyped-def]
    """A URL for the test database that an app opens itself (its own engines, as `xiangchuang serve`)."""
    if db_engine.dialect.name == "sqlite":
        return str(db_engine.url)
    with db_engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    url = db_engine.url.render_as_string(hide_password=False)
    return f"{url}?options={quote(f'-csearch_path={schema}')}"


def test_rate_limit_counts_in_one_statement_on_its_own_engine_and_survives_a_dropped_connection(
    db_engine, web_settings
):
    from xiangchuang.web.app import create_app

    settings = web_settings.model_copy(update={"rate_checkup": "3/600", "database_url": _own_url(db_engine)})
    # two app instances stand for two worker processes: the count is shared through the database
    apps = [create_app(settings), create_app(settings)]
    pg = db_engine.dialect.name == "postgresql"
    counters = apps[0].state.xc.counters
    assert (counters is not apps[0].state.xc.engine) is pg
    statements: list[str] = []

    @event.listens_for(counters, "before_cursor_execute")
    def _seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    case = {"person": {"id": "P1"}}
    with TestClient(apps[0]) as a, TestClient(apps[1]) as b:
        assert a.post("/api/v1/checkup", json=case).status_code == 200
        statements.clear()
        assert b.post("/api/v1/checkup", json=case).status_code == 200  # b's own counter engine
        assert a.post("/api/v1/checkup", json=case).status_code == 200
        if pg:
            assert statements == ["INSERT"]  # autocommit: no BEGIN, no SET, no ping, no COMMIT
            with counters.connect() as conn:
                assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "off"
            with db_engine.begin() as conn:  # a server restart, as the counter pools see it
                dropped = conn.execute(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                        "AND query LIKE '%rate_limit_buckets%'"
                    )
                ).scalar_one()
            assert dropped >= 1
        refused = b.post("/api/v1/checkup", json=case)
        assert refused.status_code == 429 and "请求过于频繁" in refused.json()["detail"]
        assert a.post("/api/v1/checkup", json=case).status_code == 429
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT sum(count) FROM rate_limit_buckets")).scalar_one() == 5


def _change(db_engine, akey, make_user, value: str, since: dt.date, *, other_process: bool) -> None:  # type: ignore[no-untyped-def]
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.engine.parameters import load_parameters
    from xiangchuang.models import User
    from xiangchuang.paramchanges import service

    now = dt.datetime.now(dt.UTC)
    seen = service._decisions[0]
    with transaction(make_sessionmaker(db_engine)) as s:
        a = s.execute(select(User).where(User.login == "city.a")).scalar_one()
        b = s.execute(select(User).where(User.login == "city.b")).scalar_one()
        change = service.request_change(
            s,
            user=a,
            params=load_parameters(),
            name=PARAM,
            value_text=value,
            since=since,
            reason="测试",
            reference="测试文号",
            audit_key=akey,
            now=now,
        )
        service.decide(
            s,
            user=b,
            params=load_parameters(),
            change_id=change.id,
            decision="approve",
            note=None,
            audit_key=akey,
            now=now,
        )
    if other_process:
        service._decisions[0] = seen  # this process did not see the decision happen


def test_public_parameters_are_at_most_max_age_old_and_stored_determinations_read_their_own(
    db_engine, web_settings, make_user, akey, monkeypatch
):
    from xiangchuang.paramchanges import service
    from xiangchuang.web.api import CASE_EXAMPLE
    from xiangchuang.web.app import create_app
    from xiangchuang.web.deps import current_params

    make_user("city.a", "city_admin")
    make_user("city.b", "city_admin")
    clock = [1000.0]
    monkeypatch.setattr(service.time, "monotonic", lambda: clock[0])
    app = create_app(web_settings.model_copy(update={"public_params_max_age": 5.0}), engine=db_engine)
    since = dt.date.today() + dt.timedelta(days=30)
    case = copy.deepcopy(CASE_EXAMPLE)
    case["on"] = (since + dt.timedelta(days=1)).isoformat()
    case["business"]["claim_year"] = min(int(y) for y in case["business"]["years"])  # (known contributions)

    def rule(client: TestClient) -> str:
        r = client.post("/api/v1/checkup", json=case)
        assert r.status_code == 200, r.text
        return next(p for p in r.json()["programs"] if p["program"] == "startup_subsidy")["amount_rule"]

    with TestClient(app) as client:
        assert "20%" in rule(client)
        _change(db_engine, akey, make_user, "0.3", since, other_process=True)
        clock[0] += 4.9
        assert "20%" in rule(client)  # another worker's decision: not yet read
        with app.state.xc.sessions() as s:  # a stored determination reads the database itself
            assert str(current_params(app.state.xc, s)[PARAM].value_at(since)) == "3/10"
        clock[0] += 0.2
        assert "30%" in rule(client)  # read again after max_age
        _change(db_engine, akey, make_user, "0.4", since, other_process=False)
        assert "40%" in rule(client)  # this process's decision: at once


def test_max_age_zero_reads_every_time(db_engine, web_settings, make_user, akey):
    from xiangchuang.web.api import CASE_EXAMPLE
    from xiangchuang.web.app import create_app

    make_user("city.a", "city_admin")
    make_user("city.b", "city_admin")
    app = create_app(web_settings.model_copy(update={"public_params_max_age": 0.0}), engine=db_engine)
    since = dt.date.today() + dt.timedelta(days=30)
    case = copy.deepcopy(CASE_EXAMPLE)
    case["on"] = (since + dt.timedelta(days=1)).isoformat()
    case["business"]["claim_year"] = min(int(y) for y in case["business"]["years"])  # (known contributions)
    with TestClient(app) as client:
        client.post("/api/v1/checkup", json=case)
        _change(db_engine, akey, make_user, "0.3", since, other_process=True)
        r = client.post("/api/v1/checkup", json=case).json()
        assert "30%" in next(p for p in r["programs"] if p["program"] == "startup_subsidy")["amount_rule"]


@pytest.mark.parametrize("bad", [-1, 61])
def test_max_age_setting_is_bounded(bad):
    from pydantic import ValidationError

    from xiangchuang.config import Settings

    with pytest.raises(ValidationError):
        Settings(public_params_max_age=bad)
