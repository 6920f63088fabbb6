"""三员 pages on both databases: each administrator does their own work and none of the others'."""

from __future__ import annotations

import datetime as dt
import re

import pyotp
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.roles import csrf
from xiangchuang.models import ApiToken, AuditEvent, User

ROLES = ("sys_admin", "sec_admin", "audit_admin")


def _three(as_role):
    return {r: as_role(f"adm.{r.replace('_', '')}", r) for r in ROLES}


def test_each_admin_sees_only_their_own_pages(as_role):
    admins = _three(as_role)
    pages = {
        "/admin/users": {"sys_admin", "sec_admin"},
        "/admin/tokens": {"sys_admin", "sec_admin"},
        "/admin/security": {"sec_admin"},
        "/admin/audit": {"audit_admin"},
        "/audit": {"audit_admin"},
    }
    for url, allowed in pages.items():
        for role, c in admins.items():
            assert c.get(url).status_code == (200 if role in allowed else 403), (url, role)
    for role in ("applicant", "city_admin", "bank", "district_reviewer"):
        c = as_role(f"other.{role.replace('_', '')}", role, 500101 if role == "district_reviewer" else None)
        for url in pages:
            assert c.get(url).status_code == 403, (url, role)


def test_sys_admin_creates_a_user_with_one_time_credentials_that_work(as_role, app, db_engine):
    admins = _three(as_role)
    sysadm = admins["sys_admin"]
    r = sysadm.post(
        "/admin/users",
        {"login": "rev.new", "display_name": "新审核员", "role": "district_reviewer", "district": "500102"},
    )
    assert r.status_code == 200, r.text
    password = re.search(r"一次性密码：<code>([^<]+)</code>", r.text).group(1)
    secret = re.search(r"动态口令（TOTP）密钥：<code>([^<]+)</code>", r.text).group(1)
    assert password not in sysadm.get("/admin/users").text  # shown once
    with TestClient(app) as c:
        page = c.get("/login")
        r = c.post("/login", data={"login": "rev.new", "password": password, "csrf_token": csrf(page.text)})
        page = c.get("/login/totp")
        r = c.post("/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf(page.text)})
        assert r.status_code == 200 and "新审核员" in r.text
    # the others cannot create accounts; nobody creates a 三员 account here
    form = {"login": "x.y.z", "display_name": "x", "role": "city_admin"}
    assert admins["sec_admin"].post("/admin/users", form).status_code == 403
    assert admins["audit_admin"].post("/admin/users", form).status_code == 403
    assert sysadm.post("/admin/users", {**form, "role": "audit_admin"}).status_code == 403
    with db_engine.connect() as conn:
        assert conn.execute(select(User.id).where(User.login == "x.y.z")).first() is None


def test_credentials_of_the_three_only_by_sec_admin_and_never_ones_own(as_role, db_engine):
    admins = _three(as_role)
    sysadm, secadm, audadm = admins["sys_admin"], admins["sec_admin"], admins["audit_admin"]
    clerk = as_role("clerk.one", "window_clerk", 500101)
    # sys_admin: ordinary accounts yes, 三员 no, self no
    assert sysadm.post(f"/admin/users/{clerk.user_id}/reset-password").status_code == 200
    assert sysadm.post(f"/admin/users/{audadm.user_id}/reset-password").status_code == 403
    assert sysadm.post(f"/admin/users/{sysadm.user_id}/totp").status_code == 403
    # sec_admin: 三员 yes, ordinary accounts no, self no
    assert secadm.post(f"/admin/users/{audadm.user_id}/totp").status_code == 200
    assert secadm.post(f"/admin/users/{clerk.user_id}/reset-password").status_code == 403
    assert secadm.post(f"/admin/users/{secadm.user_id}/reset-password").status_code == 403
    # audit_admin: nothing
    assert audadm.post(f"/admin/users/{clerk.user_id}/reset-password").status_code == 403
    assert audadm.post(f"/admin/users/{clerk.user_id}/disable").status_code == 403
    # area: sys_admin only; the clerk's sessions end
    r = sysadm.post(f"/admin/users/{clerk.user_id}/area", {"district": "500103", "street": "解放碑街道"})
    assert r.status_code == 303
    assert secadm.post(f"/admin/users/{clerk.user_id}/area", {"district": "500101"}).status_code == 403
    assert clerk.get("/me").status_code == 303  # signed out
    with db_engine.connect() as conn:
        row = conn.execute(select(User.district, User.street).where(User.id == clerk.user_id)).one()
        assert tuple(row) == (500103, "解放碑街道")
        actions = set(conn.execute(select(AuditEvent.action)).scalars())
    assert {"user.reset_password", "user.totp_enrol", "user.set_area"} <= actions


def test_sec_admin_sees_settings_and_unlocks(as_role, db_engine):
    secadm = as_role("adm.secadmin", "sec_admin")
    victim = as_role("zhang.san", "applicant")
    with db_engine.begin() as conn:
        conn.execute(
            update(User)
            .where(User.id == victim.user_id)
            .values(locked_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10), failed_count=5)
        )
    page = secadm.get("/admin/security")
    assert page.status_code == 200 and "锁定时长（分钟）" in page.text and "zhang.san" in page.text
    assert "1000/60" in page.text  # the configured login rate limit
    sysadm = as_role("adm.sysadmin", "sys_admin")
    assert sysadm.post(f"/admin/security/unlock/{victim.user_id}").status_code == 403
    assert secadm.post(f"/admin/security/unlock/{victim.user_id}").status_code == 303
    assert "zhang.san" not in secadm.get("/admin/security").text


def test_tokens_issued_and_revoked_by_sys_or_sec_admin(as_role, db_engine):
    admins = _three(as_role)
    form = {
        "name": "农行九龙坡",
        "owner_org": "bank",
        "org_name": "农业银行九龙坡支行",
        "org_code": "ABC01",
        "district": "500107",
        "days": "30",
        "scopes": "loans:read",
    }
    r = admins["sys_admin"].post("/admin/tokens", form)
    assert r.status_code == 200 and "xct_" in r.text
    assert admins["audit_admin"].post("/admin/tokens", form).status_code == 403
    with db_engine.connect() as conn:
        token_id, code, district = conn.execute(
            select(ApiToken.id, ApiToken.org_code, ApiToken.district)
        ).one()
    assert (code, district) == ("ABC01", 500107)
    assert admins["audit_admin"].post(f"/admin/tokens/{token_id}/revoke").status_code == 403
    assert admins["sec_admin"].post(f"/admin/tokens/{token_id}/revoke").status_code == 303
    assert "已吊销" in admins["sys_admin"].get("/admin/tokens").text


def test_audit_log_is_paged_filtered_and_shows_no_personal_values(as_role, db_engine, akey):
    from xiangchuang.audit import record
    from xiangchuang.db import make_sessionmaker, transaction

    with transaction(make_sessionmaker(db_engine)) as s:
        for i in range(60):
            record(s, key=akey, actor="system", action="test.event", subject=f"t:{i}", details={"n": i})
        record(
            s, key=akey, actor="system", action="test.pii", subject="t:x", details={"holder_name": "张三丰"}
        )
    aud = as_role("adm.auditadmin", "audit_admin")
    page = aud.get("/admin/audit")
    assert page.status_code == 200 and "第 1/" in page.text and "张三丰" not in page.text
    assert "***" in page.text
    filtered = aud.get("/admin/audit?action=test.event&page=2")
    assert filtered.status_code == 200 and "共 60 条" in filtered.text and "第 2/2 页" in filtered.text


def test_disable_follows_the_separation_and_ends_sessions(as_role, db_engine):
    admins = _three(as_role)
    clerk = as_role("clerk.two", "window_clerk", 500101)
    assert admins["sec_admin"].post(f"/admin/users/{clerk.user_id}/disable").status_code == 403
    assert (
        admins["sys_admin"].post(f"/admin/users/{admins['audit_admin'].user_id}/disable").status_code == 403
    )
    assert admins["sys_admin"].post(f"/admin/users/{clerk.user_id}/disable").status_code == 303
    assert clerk.get("/me").status_code == 303
    with db_engine.connect() as conn:
        assert conn.execute(select(User.disabled).where(User.id == clerk.user_id)).scalar_one() is True
    assert (
        admins["sec_admin"].post(f"/admin/users/{admins['audit_admin'].user_id}/disable").status_code == 303
    )


def test_admin_api_has_no_secrets_and_masks_audit_details(as_role, db_engine, akey):
    from xiangchuang.audit import record
    from xiangchuang.db import make_sessionmaker, transaction

    with transaction(make_sessionmaker(db_engine)) as s:
        record(
            s, key=akey, actor="system", action="test.pii", subject="t:x", details={"holder_name": "张三丰"}
        )
    admins = _three(as_role)
    rows = admins["sys_admin"].get("/api/v1/admin/users").json()
    assert {r["login"] for r in rows} >= {"adm.sysadmin", "adm.secadmin", "adm.auditadmin"}
    assert all(set(r) == set(rows[0]) for r in rows)
    assert not {"password_hash", "totp_secret_enc", "totp_last_step"} & set(rows[0])
    assert all(r["totp_enrolled"] for r in rows)
    events = admins["audit_admin"].get("/api/v1/admin/audit-events?action=test.pii").json()
    assert events["total"] == 1 and events["events"][0]["details"] == {"holder_name": "***"}
