"""Accounts and authentication (service level, controlled clock): lockout, sessions, TOTP, tokens."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import func, select

from tests.web.conftest import PASSWORD, T0
from xiangchuang.config import Settings
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.errors import Conflict, Forbidden, ValidationFailed
from xiangchuang.models import AuditEvent, User, UserSession
from xiangchuang.users import service as svc
from xiangchuang.users.demo_accounts import seed_demo_accounts
from xiangchuang.users.passwords import check_password

POLICY = svc.SecurityPolicy()


def _tx(engine):
    return transaction(make_sessionmaker(engine))


def _login(engine, akey, login, password, at):
    with _tx(engine) as s:
        return svc.authenticate(
            s, login=login, password=password, audit_key=akey, policy=POLICY, now=at
        ).outcome


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("short1", "至少 8"),
        ("x" * 65, "不能超过 64"),
        ("password1", "常见密码"),
        ("Woaini1314", "常见密码"),
        ("qqqqqqqqqq", "常见密码|同一个字符"),
    ],
)
def test_password_policy_names_the_rule(password, rule):
    import re

    with pytest.raises(ValidationFailed, match=rule) as exc:
        check_password(password)
    assert re.search(rule, exc.value.message)


def test_a_64_character_passphrase_is_allowed():
    check_password("风吹麦浪" * 8 + "a quiet river runs far away, under the bridge at dusk!!"[:32])


def test_password_hash_is_argon2id_with_at_least_19_mib_and_two_passes(db_engine, make_user):
    uid, _ = make_user("alice")
    with db_engine.connect() as conn:
        stored = conn.execute(select(User.password_hash).where(User.id == uid)).scalar_one()
    assert stored.startswith("$argon2id$")
    params = dict(kv.split("=") for kv in stored.split("$")[3].split(","))
    assert int(params["m"]) >= 19 * 1024 and int(params["t"]) >= 2
    assert PASSWORD not in stored


def test_duplicate_login_is_a_conflict(db_engine, make_user):
    make_user("bob")
    with pytest.raises(Conflict, match="已被使用"):
        make_user("bob")


def test_lockout_happens_at_exactly_the_nth_failure_within_the_window(db_engine, akey, make_user):
    make_user("carol")
    n = POLICY.lockout_threshold
    for i in range(n - 1):
        assert _login(db_engine, akey, "carol", "wrong-password", T0 + dt.timedelta(minutes=i)) == "invalid"
    # N-1 failures: the right password still works (and resets the count).
    assert _login(db_engine, akey, "carol", PASSWORD, T0 + dt.timedelta(minutes=n)) == "ok"
    start = T0 + dt.timedelta(minutes=20)
    for i in range(n - 1):
        assert (
            _login(db_engine, akey, "carol", "wrong-password", start + dt.timedelta(seconds=i)) == "invalid"
        )
    assert _login(db_engine, akey, "carol", "wrong-password", start + dt.timedelta(seconds=n)) == "locked"
    # Locked: even the right password is refused until the lock ends.
    assert _login(db_engine, akey, "carol", PASSWORD, start + dt.timedelta(minutes=14)) == "locked"
    assert (
        _login(
            db_engine, akey, "carol", PASSWORD, start + POLICY.lockout_duration + dt.timedelta(seconds=n + 1)
        )
        == "ok"
    )
    with db_engine.connect() as conn:
        actions = conn.execute(select(AuditEvent.action, AuditEvent.outcome).order_by(AuditEvent.seq)).all()
    assert actions.count(("auth.lockout", "denied")) == 1
    assert actions.count(("auth.login", "failure")) == 2 * (n - 1) + 1
    assert actions.count(("auth.login", "success")) == 2


def test_failures_spread_beyond_the_window_do_not_lock(db_engine, akey, make_user):
    make_user("dave")
    for i in range(POLICY.lockout_threshold * 2):
        at = T0 + i * (POLICY.lockout_window / (POLICY.lockout_threshold - 1)) + dt.timedelta(seconds=1)
        assert _login(db_engine, akey, "dave", "wrong-password", at) == "invalid"


def test_audit_of_a_failed_login_has_no_typed_values(db_engine, akey, make_user):
    make_user("erin")
    _login(db_engine, akey, "13800138000", "my-secret-guess", T0)
    _login(db_engine, akey, "erin", "my-secret-guess", T0)
    with db_engine.connect() as conn:
        rows = conn.execute(select(AuditEvent.subject, AuditEvent.details, AuditEvent.actor)).all()
    text = repr(rows)
    assert "13800138000" not in text and "my-secret-guess" not in text
    assert ("user:unknown", {"reason": "unknown_login"}, "anonymous") in [tuple(r) for r in rows]


def test_sessions_expire_when_idle_and_at_their_absolute_limit(db_engine, make_user):
    uid, _ = make_user("frank")
    with _tx(db_engine) as s:
        started = svc.start_session(s, user=s.get(User, uid), stage="full", policy=POLICY, now=T0)
    raw = started.raw_id

    def alive(at):
        with _tx(db_engine) as s:
            return svc.load_session(s, raw_id=raw, policy=POLICY, now=at) is not None

    at = T0
    while at + dt.timedelta(minutes=29) < T0 + POLICY.absolute_timeout:
        at += dt.timedelta(minutes=29)
        assert alive(at)  # used every 29 minutes: never idle
    assert not alive(T0 + POLICY.absolute_timeout)  # absolute expiry, however active
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(UserSession)).scalar_one() == 0

    with _tx(db_engine) as s:
        raw = svc.start_session(s, user=s.get(User, uid), stage="full", policy=POLICY, now=T0).raw_id
    assert alive(T0 + dt.timedelta(minutes=29, seconds=59))
    assert not alive(T0 + dt.timedelta(minutes=29, seconds=59) + POLICY.idle_timeout)


def test_a_new_session_id_at_every_login_and_only_its_hash_is_stored(db_engine, make_user):
    uid, _ = make_user("gina")
    with _tx(db_engine) as s:
        a = svc.start_session(s, user=s.get(User, uid), stage="full", now=T0).raw_id
        b = svc.start_session(s, user=s.get(User, uid), stage="full", now=T0).raw_id
    assert a != b and len(a) >= 43
    with db_engine.connect() as conn:
        hashes = conn.execute(select(UserSession.id_hash)).scalars().all()
    assert a not in hashes and svc.token_hash(a) in hashes


def test_disabling_an_account_ends_its_sessions(db_engine, akey, make_user):
    uid, _ = make_user("hank")
    make_user("root.admin", "sys_admin")
    with _tx(db_engine) as s:
        raw = svc.start_session(s, user=s.get(User, uid), stage="full", now=T0).raw_id
    with pytest.raises(Forbidden), _tx(db_engine) as s:
        svc.disable_user(s, user_id=uid, actor="hank", actor_role="applicant", audit_key=akey, now=T0)
    with _tx(db_engine) as s:
        svc.disable_user(s, user_id=uid, actor="root.admin", actor_role="sys_admin", audit_key=akey, now=T0)
    with _tx(db_engine) as s:
        assert svc.load_session(s, raw_id=raw, now=T0) is None
    assert _login(db_engine, akey, "hank", PASSWORD, T0) == "disabled"


def test_totp_code_is_single_use(db_engine, akey, cipher, make_user):
    uid, secret = make_user("ivan.clerk", "window_clerk")
    code = pyotp.TOTP(secret).at(T0)

    def verify(code, at):
        with _tx(db_engine) as s:
            started = svc.start_session(s, user=s.get(User, uid), stage="mfa", now=at)
            active = svc.load_session(s, raw_id=started.raw_id, now=at)
            return svc.verify_totp(s, active=active, code=code, cipher=cipher, audit_key=akey, now=at)

    assert verify(code, T0).ok
    again = verify(code, T0 + dt.timedelta(seconds=5))
    assert not again.ok and again.reason == "totp_reused"
    assert not verify("000000" if code != "000000" else "111111", T0 + dt.timedelta(seconds=6)).ok
    # the next period's code works
    later = T0 + dt.timedelta(seconds=30)
    assert verify(pyotp.TOTP(secret).at(later), later).ok


def test_staff_need_totp_applicants_do_not():
    assert svc.needs_totp(User(role="window_clerk"))
    assert not svc.needs_totp(User(role="applicant"))


def test_api_tokens_are_hashed_scoped_and_expire(db_engine, akey):
    with _tx(db_engine) as s:
        raw, row = svc.create_api_token(
            s,
            name="农商行系统",
            owner_org="bank",
            org_name="重庆农村商业银行",
            scopes=["loans:read"],
            expires_at=T0 + dt.timedelta(days=30),
            actor="root.admin",
            audit_key=akey,
            now=T0,
        )
        assert row.token_hash != raw and raw not in repr(row.__dict__.get("token_hash"))
    with _tx(db_engine) as s:
        p = svc.authenticate_api_token(s, token=raw, now=T0 + dt.timedelta(days=1))
        assert p is not None and p.scopes == {"loans:read"} and p.owner_org == "bank"
        assert svc.authenticate_api_token(s, token=raw, now=T0 + dt.timedelta(days=30)) is None
        assert svc.authenticate_api_token(s, token=raw + "x", now=T0) is None
    with pytest.raises(ValidationFailed, match="权限范围"), _tx(db_engine) as s:
        svc.create_api_token(
            s,
            name="x",
            owner_org="bank",
            org_name="y",
            scopes=["everything"],
            expires_at=T0 + dt.timedelta(days=1),
            actor="a",
            audit_key=akey,
            now=T0,
        )


def test_scope_levels_by_role():
    assert svc.scope_for(User(id=1, login="a", role="applicant", business_id=3)).level == "own"
    assert (
        svc.scope_for(User(id=1, login="a", role="window_clerk", district=500101, street="龙门浩街道")).level
        == "street"
    )
    assert svc.scope_for(User(id=1, login="a", role="window_clerk", district=500101)).level == "district"
    assert svc.scope_for(User(id=1, login="a", role="district_reviewer", district=500101)).level == "district"
    assert svc.scope_for(User(id=1, login="a", role="city_admin")).level == "city"
    assert svc.scope_for(User(id=1, login="a", role="sys_admin")).level == "own"


def test_demo_accounts_are_not_seeded_outside_demo_mode(db_engine, akey, cipher, linked):
    with pytest.raises(Forbidden, match="演示模式"), _tx(db_engine) as s:
        seed_demo_accounts(s, settings=Settings(demo=False), cipher=cipher, audit_key=akey, now=T0)
    with db_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() == 0


def test_demo_accounts_one_per_role_once(db_engine, akey, cipher, linked):
    from xiangchuang.models.users import USER_ROLES

    with _tx(db_engine) as s:
        accounts = seed_demo_accounts(s, settings=Settings(demo=True), cipher=cipher, audit_key=akey, now=T0)
    assert sorted(a.role for a in accounts) == sorted(USER_ROLES)
    assert all(len(a.password) == 20 for a in accounts)
    assert all((a.totp_secret is None) == (a.role == "applicant") for a in accounts)
    with _tx(db_engine) as s:
        assert (
            seed_demo_accounts(s, settings=Settings(demo=True), cipher=cipher, audit_key=akey, now=T0) == []
        )
        applicant = s.execute(select(User).where(User.role == "applicant")).scalar_one()
        assert applicant.business_id == linked["business_id"] and applicant.person_id == linked["person_id"]
        assert {
            u.district
            for u in s.execute(
                select(User).where(User.role.in_(("window_clerk", "district_reviewer")))
            ).scalars()
        } == {500101}
    for a in accounts:
        assert _login(db_engine, akey, a.login, a.password, T0) == "ok"


def test_workflow_roles_are_user_roles():
    from xiangchuang.applications.workflow import ROLES
    from xiangchuang.models.users import USER_ROLES

    # "system" is the scheduled jobs' role in the workflow tables: never an account's role
    assert set(ROLES) - {"system"} <= set(USER_ROLES) and "system" not in USER_ROLES
