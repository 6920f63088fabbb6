"""The web app through FastAPI's TestClient, on SQLite and PostgreSQL: sign-in, sessions, CSRF, headers,
the check-up page and API, rate limits, readiness."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.conftest import PASSWORD
from xiangchuang.engine.api import evaluate
from xiangchuang.engine.case import load_yaml
from xiangchuang.engine.dates import parse_date
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import AuditEvent, UserSession


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form has no CSRF field"
    return m.group(1)


def _sign_in(client, login, secret=None):
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"login": login, "password": PASSWORD, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    if secret:
        assert r.headers["location"].startswith("/login/totp")
        page = client.get("/login/totp")
        r = client.post(
            "/login/totp",
            data={"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(page.text)},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    return r


def test_applicant_signs_in_sees_own_page_with_no_store(client, make_user):
    make_user("zhang.san")
    r = _sign_in(client, "zhang.san")
    assert r.headers["location"] == "/me"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = client.get("/me")
    assert page.status_code == 200 and "测试zhang.san" in page.text and "本人/本机构" in page.text
    assert page.headers["cache-control"].startswith("no-store")
    assert (
        page.headers["x-frame-options"] == "DENY"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )
    api = client.get("/api/v1/me")
    assert api.json()["role"] == "applicant" and api.json()["scope"] == "own"


def test_staff_need_a_totp_code_before_the_session_is_full(client, make_user):
    _, secret = make_user("li.clerk", "window_clerk")
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"login": "li.clerk", "password": PASSWORD, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert r.headers["location"].startswith("/login/totp")
    assert client.get("/api/v1/me").status_code == 401  # password alone is not a session
    totp = client.get("/login/totp")
    code = pyotp.TOTP(secret).now()
    r = client.post(
        "/login/totp", data={"code": code, "csrf_token": _csrf(totp.text)}, follow_redirects=False
    )
    assert r.status_code == 303
    me = client.get("/api/v1/me").json()
    assert me["role"] == "window_clerk" and me["scope"] == "district" and me["district"] == 500101


def test_totp_code_cannot_be_used_twice_through_the_web(db_engine, web_settings, make_user):
    from xiangchuang.web.app import create_app

    _, secret = make_user("wang.reviewer", "district_reviewer")
    code = pyotp.TOTP(secret).now()
    app = create_app(web_settings, engine=db_engine)
    outcomes = []
    for _ in range(2):
        with TestClient(app) as c:
            page = c.get("/login")
            c.post(
                "/login",
                data={"login": "wang.reviewer", "password": PASSWORD, "csrf_token": _csrf(page.text)},
            )
            totp = c.get("/login/totp")
            r = c.post(
                "/login/totp", data={"code": code, "csrf_token": _csrf(totp.text)}, follow_redirects=False
            )
            outcomes.append(r.status_code)
    assert outcomes == [303, 401]


def test_logout_invalidates_the_session_server_side(client, db_engine, make_user):
    make_user("zhao.liu")
    _sign_in(client, "zhao.liu")
    cookie = client.cookies.get("xc_session")
    page = client.get("/me")
    r = client.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert r.status_code == 303
    with db_engine.connect() as conn:
        actions = conn.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions[-2:] == ["auth.login", "auth.logout"]
    client.cookies.set("xc_session", cookie)  # replaying the old cookie
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize("expiry", ["idle", "absolute"])
def test_expired_sessions_get_401_on_the_api_and_a_redirect_on_pages(client, db_engine, make_user, expiry):
    make_user("sun.qi")
    _sign_in(client, "sun.qi")
    now = dt.datetime.now(dt.UTC)
    values = (
        {"last_seen_at": now - dt.timedelta(minutes=31)}
        if expiry == "idle"
        else {"expires_at": now - dt.timedelta(seconds=1)}
    )
    with db_engine.begin() as conn:
        conn.execute(update(UserSession).values(**values))
    assert client.get("/api/v1/me").status_code == 401
    r = client.get("/me", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/me"


def test_unsafe_requests_need_the_csrf_token(client, make_user):
    make_user("zhou.ba")
    _sign_in(client, "zhou.ba")
    assert client.post("/logout", follow_redirects=False).status_code == 403  # missing
    r = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text  # wrong
    r = client.post("/api/v1/checkup", json={"person": {"id": "P1"}}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert client.get("/api/v1/me").status_code == 200  # still signed in


def test_login_form_without_its_token_is_refused(client, make_user):
    make_user("wu.jiu")
    r = client.post("/login", data={"login": "wu.jiu", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_lockout_through_the_login_page(client, make_user, web_settings):
    make_user("zheng.shi")
    page = client.get("/login")
    token = _csrf(page.text)
    codes = [
        client.post(
            "/login", data={"login": "zheng.shi", "password": "wrong-password", "csrf_token": token}
        ).status_code
        for _ in range(web_settings.lockout_threshold)
    ]
    assert codes == [401] * (web_settings.lockout_threshold - 1) + [423]
    r = client.post("/login", data={"login": "zheng.shi", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 423 and "锁定" in r.text


def test_checkup_api_returns_the_engine_result_for_the_example(client):
    text = (
        resources.files("xiangchuang.policy")
        .joinpath("examples", "returning_founder.yaml")
        .read_text(encoding="utf-8")
    )
    case = load_yaml(text)
    expected = evaluate(case, parse_date(case["on"]), load_parameters())
    import json

    case_json = json.loads(json.dumps(case, default=str))
    r = client.post("/api/v1/checkup", json=case_json)
    assert r.status_code == 200, r.text
    assert r.json() == json.loads(json.dumps(expected, default=str))
    assert r.headers["cache-control"].startswith("no-store")


def test_checkup_api_names_the_bad_field_in_chinese(client):
    r = client.post("/api/v1/checkup", json={"business": {"id": "B1", "registration_date": "2024-02-30"}})
    assert r.status_code == 422
    assert "registration_date" in r.json()["detail"] and "日期" in r.json()["detail"]


@pytest.mark.parametrize(
    ("case", "detail"),
    [
        (
            {"on": "2100-01-01", "person": {"id": "P1"}},
            "字段 on：评估日期 2100-01-01 超出范围，须在1900-01-01至2099-12-31之间",
        ),
        (
            {"on": "1899-12-31", "person": {"id": "P1"}},
            "字段 on：评估日期 1899-12-31 超出范围，须在1900-01-01至2099-12-31之间",
        ),
        (
            {"on": "2024-03-01", "hires": [{"id": "H1", "contributions": [{"month": "2100-01"}]}]},
            "字段 hires[0].contributions[0].month：缴费月份 2100-01 超出范围，须在1900-01至2099-12之间",
        ),
    ],
)
def test_checkup_api_refuses_a_date_or_month_outside_the_supported_range_as_check_does(
    client, tmp_path, case, detail
):
    """The web check-up evaluated a case's own ``on`` of any year (2100, 1899), where ``check`` refused
    it; now it answers 422 with check's message (README choice 28)."""
    import json

    from typer.testing import CliRunner

    from xiangchuang.cli import app

    r = client.post("/api/v1/checkup", json=case)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == detail
    f = tmp_path / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    res = CliRunner().invoke(app, ["check", str(f), "--json"])
    assert res.exit_code == 2 and detail in res.output.replace("\n", ""), res.output


def test_programs_api_and_pages_are_generated_from_the_definitions(client):
    from xiangchuang.engine.programs import PROGRAMS

    listing = client.get("/api/v1/programs").json()
    assert [p["id"] for p in listing] == [p.id for p in PROGRAMS]
    detail = client.get("/api/v1/programs/startup_subsidy").json()
    assert any(c["text"] == "自登记之日起正常经营已满1年" for c in detail["conditions"])
    assert {"登记日期", "经营状态"} <= {f["label"] for f in detail["prepare"]}
    assert client.get("/api/v1/programs/nope").json()["detail"] == "项目 nope 不存在"
    page = client.get("/programs/loan_individual")
    assert page.status_code == 200 and "谁可以享受" in page.text and "需要准备的信息" in page.text
    assert client.get("/openapi.json").json()["paths"]["/api/v1/checkup"]["post"]
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/static/swagger/swagger-ui-bundle.js" in docs.text  # vendored, no CDN
    assert "SwaggerUIBundle" in client.get("/static/swagger/swagger-ui-bundle.js").text


def test_checkup_page_walks_three_steps_and_renders_chinese_results(client):
    start = client.get("/checkup")
    assert "第一步" in start.text
    token = _csrf(start.text)
    answers = {
        "csrf_token": token,
        "step": "1",
        "action": "next",
        "birth_date": "1990-06-15",
        "gender": "M",
        "groups": "returning_migrant_worker",
        "returning_entrepreneur": "yes",
        "first_business": "yes",
    }
    step2 = client.post("/checkup", data=answers)
    assert step2.status_code == 200 and "第二步" in step2.text
    answers.update(
        {
            "step": "2",
            "has_business": "yes",
            "kind": "enterprise",
            "size_class": "small_micro",
            "registration_date": "2022-03-10",
            "business_status": "normal",
            "district": "500101",
            "si_paid_yuan": "86400",
        }
    )
    step3 = client.post("/checkup", data=answers)
    assert "第三步" in step3.text
    # the status answer is carried through step 3 and shown again on going back
    assert '<input type="hidden" name="business_status" value="normal">' in step3.text
    back = client.post("/checkup", data={**answers, "step": "3", "action": "back"})
    assert "第二步" in back.text and '<option value="normal" selected>正常</option>' in back.text
    answers.update(
        {
            "step": "3",
            "action": "finish",
            "loan_kind": "individual",
            "loan_amount_yuan": "300000",
            "other_loans": "none",
            "received": "none",
        }
    )
    result = client.post("/checkup", data=answers)
    assert result.status_code == 200
    assert "政策体检结果" in result.text and "创业补助" in result.text
    assert "符合" in result.text and "〔第1.1条〕" in result.text
    assert "¥17,280.00" in result.text  # 20% of 86,400 yuan


def test_checkup_business_status_offers_the_case_schema_choices_and_their_labels():
    from xiangchuang.checkup import questionnaire as q
    from xiangchuang.engine.facts import FACTS

    status = FACTS["businesses"]["status"]
    assert [c for c, _ in q.BUSINESS_STATUSES] == list(status.choices)
    assert dict(q.BUSINESS_STATUSES) == {
        "normal": "正常",
        "abnormal": "经营异常",
        "deregistered": "注销",
        "revoked": "吊销",
    }
    assert "business_status" in q.STEP_FIELDS[1] and q.FIELDS.count("business_status") == 1
    today = dt.date(2026, 6, 1)
    case = q.build_case({"has_business": "yes", "business_status": "revoked"}, today)
    assert case["business"]["status"] == "revoked"
    # 不清楚 (no answer) leaves the key out: unknown is not 正常
    assert "status" not in q.build_case({"has_business": "yes"}, today)["business"]
    with pytest.raises(Exception, match="经营状态：请从列表中选择"):
        q.build_case({"has_business": "yes", "business_status": "open"}, today)


def _checkup_to_the_end(client, status: str | None):
    token = _csrf(client.get("/checkup").text)
    answers = {
        "csrf_token": token,
        "step": "2",
        "action": "finish",
        "birth_date": "1990-06-15",
        "groups": "returning_migrant_worker",
        "returning_entrepreneur": "yes",
        "first_business": "yes",
        "has_business": "yes",
        "kind": "enterprise",
        "size_class": "small_micro",
        "registration_date": "2022-03-10",
        "district": "500101",
        "si_paid_yuan": "86400",
        "received": "none",
        **({"business_status": status} if status is not None else {}),
    }
    return client.post("/checkup", data=answers)


def test_checkup_status_unknown_is_undetermined_and_named_missing(client):
    """不清楚 for the business's status: the startup subsidy (which requires normal operation) is 待确定
    with 经营状态 named among the missing facts — not 符合 as if 正常 had been answered."""
    known = _checkup_to_the_end(client, "normal")
    assert known.status_code == 200 and "¥17,280.00" in known.text
    unknown = _checkup_to_the_end(client, None)
    assert unknown.status_code == 200 and "¥17,280.00" not in unknown.text
    section = unknown.text.split("创业补助", 1)[1].split("</section>", 1)[0]
    assert "待确定" in section
    missing = re.search(r'<p class="missing">还缺少的信息：([^<]*)', section)
    assert missing and "经营状态" in missing.group(1)
    revoked = _checkup_to_the_end(client, "revoked")
    section = revoked.text.split("创业补助", 1)[1].split("</section>", 1)[0]
    assert "暂不符合" in section and "主体已注销、吊销或列入经营异常名录" in section


def test_checkup_page_names_a_bad_answer(client):
    start = client.get("/checkup")
    r = client.post(
        "/checkup", data={"csrf_token": _csrf(start.text), "step": "1", "birth_date": "2990-01-01"}
    )
    assert r.status_code == 422 and "出生日期" in r.text


def test_public_checkup_is_rate_limited_in_the_database(db_engine, web_settings):
    from xiangchuang.web.app import create_app

    settings = web_settings.model_copy(update={"rate_checkup": "3/600"})
    # two app instances stand for two worker processes: the count is shared through the database
    a = TestClient(create_app(settings, engine=db_engine))
    b = TestClient(create_app(settings, engine=db_engine))
    case = {"person": {"id": "P1"}}
    codes = [c.post("/api/v1/checkup", json=case).status_code for c in (a, b, a, b)]
    assert codes == [200, 200, 200, 429]
    r = b.post("/api/v1/checkup", json=case)
    assert r.status_code == 429 and "请求过于频繁" in r.json()["detail"] and int(r.headers["retry-after"]) > 0


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"


def test_readyz_and_pages_say_503_in_chinese_when_the_database_is_down(web_settings):
    from xiangchuang.db import make_engine
    from xiangchuang.web.app import create_app

    down = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with TestClient(create_app(web_settings, engine=down), raise_server_exceptions=False) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "数据库" in r.json()["detail"]
        page = c.get("/login")
        page = c.post(
            "/login",
            data={"login": "a.b", "password": "x" * 10, "csrf_token": c.cookies.get("xc_csrf") or ""},
        )
        assert page.status_code == 503 and "数据库暂时无法访问" in page.text
        assert "Traceback" not in page.text and "psycopg" not in page.text
        api = c.post("/api/v1/checkup", json={"person": {"id": "P1"}})
        assert api.status_code == 503 and "数据库暂时无法访问" in api.json()["detail"]


@pytest.mark.parametrize(("role", "status"), [("audit_admin", 200), ("sys_admin", 403), ("applicant", 403)])
def test_require_role_lets_only_the_audit_admin_verify_the_log(client, make_user, role, status):
    _, secret = make_user(f"x.{role.replace('_', '')}", role)
    _sign_in(client, f"x.{role.replace('_', '')}", secret)
    r = client.get("/api/v1/audit/verify")
    assert r.status_code == status
    if status == 200:
        body = r.json()
        assert body["ok"] and body["checked"] >= 2 and "审计链完整" in body["message"]  # user.create + login
        page = client.get("/audit")
        assert page.status_code == 200 and "审计链完整" in page.text
    else:
        assert "无权访问" in r.json()["detail"]
        page = client.get("/audit")
        assert page.status_code == 403 and "无权访问" in page.text and "<html" in page.text


def test_api_tokens_authenticate_by_bearer_header_and_need_no_csrf(client, db_engine, akey):
    from xiangchuang.db import make_sessionmaker, transaction
    from xiangchuang.users.service import create_api_token

    with transaction(make_sessionmaker(db_engine)) as s:
        raw, _ = create_api_token(
            s,
            name="农商行",
            owner_org="bank",
            org_name="重庆农村商业银行",
            scopes=["loans:read"],
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor="system",
            audit_key=akey,
        )
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {raw}"})
    assert r.status_code == 200 and r.json() == {
        "kind": "api_token",
        "login": None,
        "display_name": None,
        "role": "bank",
        "role_label": None,
        "scope": None,
        "district": None,
        "org": "重庆农村商业银行",
        "scopes": ["loans:read"],
    }
    assert r.headers["cache-control"].startswith("no-store")
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer xct_wrong"}).status_code == 401
    # the public check-up takes no token, but a token presented must hold the "checkup" scope
    case = {"person": {"id": "P1"}}
    wrong = client.post("/api/v1/checkup", json=case, headers={"Authorization": f"Bearer {raw}"})
    assert wrong.status_code == 403 and "checkup" in wrong.json()["detail"]
    with transaction(make_sessionmaker(db_engine)) as s:
        raw2, _ = create_api_token(
            s,
            name="担保基金",
            owner_org="guarantee_fund",
            org_name="担保基金",
            scopes=["checkup"],
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
            actor="system",
            audit_key=akey,
        )
    ok = client.post("/api/v1/checkup", json=case, headers={"Authorization": f"Bearer {raw2}"})
    assert ok.status_code == 200


def test_domain_errors_render_as_chinese_html_on_pages_and_json_on_the_api(client):
    page = client.get("/programs/nope")
    assert (
        page.status_code == 404
        and "text/html" in page.headers["content-type"]
        and "项目 nope 不存在" in page.text
    )
    api = client.get("/api/v1/programs/nope")
    assert api.status_code == 404 and api.json() == {"detail": "项目 nope 不存在", "status": 404}
    bad = client.post("/api/v1/checkup", content=b"not json", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and "JSON" in bad.json()["detail"]


def test_login_is_rate_limited(db_engine, web_settings):
    from xiangchuang.web.app import create_app

    settings = web_settings.model_copy(update={"rate_login": "2/600"})
    with TestClient(create_app(settings, engine=db_engine)) as c:
        token = _csrf(c.get("/login").text)
        codes = [
            c.post(
                "/login", data={"login": "nobody.here", "password": "whatever-pass", "csrf_token": token}
            ).status_code
            for _ in range(3)
        ]
    assert codes == [401, 401, 429]


def test_request_logs_are_json_without_query_strings_or_form_values(client, make_user, caplog):
    import logging

    from xiangchuang.web.logs import JsonFormatter

    make_user("qian.yi")
    with caplog.at_level(logging.INFO, logger="xiangchuang.web"):
        client.get("/programs?who=13800138000")
        token = _csrf(client.get("/login").text)
        client.post("/login", data={"login": "qian.yi", "password": "secret-wrong-pass", "csrf_token": token})
    lines = [JsonFormatter().format(r) for r in caplog.records]
    text = "\n".join(lines)
    assert '"path": "/programs"' in text and '"path": "/login"' in text
    assert "13800138000" not in text and "secret-wrong-pass" not in text and "qian.yi" not in text
