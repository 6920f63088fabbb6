"""Changing one's phone / bank account needs the password again; shown masked; audited without values."""

from __future__ import annotations

from sqlalchemy import select

from xiangchuang.models import AuditEvent, Person, User
from xiangchuang.registry.pii import Pii


def test_change_phone_and_bank_account_after_reauthentication(as_role, db_engine, cipher, linked):
    from tests.web.conftest import PASSWORD

    me = as_role("zhang.san", "applicant")
    assert me.get("/me/contact").status_code == 200
    wrong = me.post("/me/contact", {"phone": "13812345678", "password": "not-my-password"})
    assert wrong.status_code == 401 and "当前密码" in wrong.text
    with db_engine.connect() as conn:
        assert (
            conn.execute(select(Person.phone_bidx).where(Person.id == linked["person_id"])).scalar_one()
            != (Pii(cipher).phone("13812345678")[1])
        )
        assert conn.execute(select(User.failed_count).where(User.id == me.user_id)).scalar_one() == 1
    ok = me.post(
        "/me/contact", {"phone": "13812345678", "bank_account": "4111111111111111", "password": PASSWORD}
    )
    assert ok.status_code == 200 and "已更新" in ok.text
    assert "13812345678" not in ok.text and "4111111111111111" not in ok.text
    assert "5678" in ok.text and "1111" in ok.text  # masked, ends shown
    with db_engine.connect() as conn:
        person = conn.execute(
            select(Person.phone_enc, Person.bank_account_enc).where(Person.id == linked["person_id"])
        ).one()
        details = conn.execute(
            select(AuditEvent.details).where(AuditEvent.action == "person.contact_change")
        ).scalar_one()
    pii = Pii(cipher)
    assert pii.masked_phone(person.phone_enc) is not None and b"13812345678" not in person.phone_enc
    assert details == {"fields": ["phone", "bank_account"], "reauthenticated": True}
    bad = me.post("/me/contact", {"phone": "12345", "password": PASSWORD})
    assert bad.status_code == 422 and "12345" not in bad.text.replace("12345678", "")


def test_repeated_wrong_passwords_lock_the_account_and_end_the_session(as_role):
    me = as_role("zhang.san", "applicant")
    for _ in range(5):
        r = me.post("/me/contact", {"phone": "13812345678", "password": "wrong-wrong-wrong"})
    assert r.status_code == 401 and "锁定" in r.text
    assert me.get("/me/contact").status_code == 303  # signed out


def test_only_applicants(as_role):
    for role in ("window_clerk", "sys_admin", "bank"):
        c = as_role(f"c.{role.replace('_', '')}", role, 500101 if role == "window_clerk" else None)
        assert c.get("/me/contact").status_code == 403
        assert c.post("/me/contact", {"phone": "13812345678", "password": "x"}).status_code == 403
