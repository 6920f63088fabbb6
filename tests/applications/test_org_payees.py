"""Money moves only through disbursement batches, and an organisation that applied as ``org:<code>`` (a
training provider, a carrier operator) is paid to its registered account (对公账户): refused without one,
paid and confirmed with one, the bank file naming the organisation; on both databases."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, D2, KEY, LATER, NOW, PARAMS, application_in, setup, state_of
from xiangchuang.applications import disbursement
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.models import Application, AuditEvent, DisbursementItem, PayeeAccount, Posting
from xiangchuang.registry.pii import Pii

FIN = {"actor": ACTORS["district_finance"], "role": "district_finance", "actor_district": D1}


def _approved_org_application(engine, pii) -> int:
    setup(engine, pii)
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.open_budget(s, district=D1, amount_fen=100_000_000, at=NOW, note="测试预算")
    app_id = application_in(engine, "publicity", period="2024")
    with engine.begin() as conn:  # the same application made by an organisation
        conn.execute(update(Application).where(Application.id == app_id).values(applicant_user="org:ORG01"))
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            now=LATER,
            params=PARAMS,
        )
    return app_id


def _register(s: Session, pii: Pii, **over: object) -> PayeeAccount:
    args: dict = {
        "org_code": "ORG01",
        "org_name": "某某职业培训学校",
        "bank_name": "重庆农村商业银行",
        "account": "3100 1234 5678 901",
        "district": D1,
        "cipher": pii.cipher,
        "audit_key": KEY,
        "at": LATER,
        **FIN,
    }
    args.update(over)
    return disbursement.register_payee_account(s, **args)


def test_payment_steps_only_through_batches(db_engine, pii):
    app_id = _approved_org_application(db_engine, pii)
    for action in disbursement.BATCH_ACTIONS:
        with (
            pytest.raises(ValidationFailed, match="拨付须通过拨付批次办理"),
            make_sessionmaker(db_engine)() as s,
        ):
            disbursement.act(s, application_id=app_id, action=action, audit_key=KEY, now=LATER, **FIN)
    assert state_of(db_engine, app_id) == "approved"


def test_an_organisation_is_paid_to_its_registered_account(db_engine, pii, tmp_path):
    app_id = _approved_org_application(db_engine, pii)
    factory = make_sessionmaker(db_engine)
    with pytest.raises(ValidationFailed, match="收款单位 ORG01 尚未登记对公账户"), factory() as s, s.begin():
        disbursement.start_batch(
            s, application_ids=[app_id], district=D1, at=LATER, params=PARAMS, audit_key=KEY, **FIN
        )
    assert state_of(db_engine, app_id) == "approved"  # the refusal left nothing behind
    with factory() as s, s.begin():
        row = _register(s, pii)
        assert row.account_masked != "310012345678901" and row.account_enc != b"310012345678901"
        batch_id = disbursement.start_batch(
            s, application_ids=[app_id], district=D1, at=LATER, params=PARAMS, audit_key=KEY, **FIN
        ).id
    disbursement.run_disbursement(
        factory,
        batch_id=batch_id,
        district=D1,
        audit_key=KEY,
        actor=FIN["actor"],
        role="district_finance",
        at=LATER,
    )
    path = tmp_path / "bank.xlsx"
    with factory() as s, s.begin():
        assert (
            disbursement.export_bank_file(
                s, batch_id=batch_id, district=D1, pii=pii, path=path, actor=FIN["actor"], audit_key=KEY
            )
            == 1
        )
        assert (
            disbursement.confirm_batch(
                s, batch_id=batch_id, district=D1, at=LATER, params=PARAMS, audit_key=KEY, **FIN
            )
            == 1
        )
    assert state_of(db_engine, app_id) == "disbursed"
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet[3]][1:3] == ["某某职业培训学校", "310012345678901"]
    with Session(db_engine) as s:
        item = s.execute(select(DisbursementItem).where(DisbursementItem.batch_id == batch_id)).scalar_one()
        assert (item.payee_org_code, item.payee_person_id, item.status) == ("ORG01", None, "paid")
        assert s.execute(select(Posting).limit(1)).first() is not None
        audit = s.execute(
            select(AuditEvent.details).where(AuditEvent.action == "disbursement.payee_account")
        ).scalar_one()
        assert "310012345678901" not in str(audit)  # the audit keeps the masked number only


def test_payee_accounts_are_validated_and_district_scoped(db_engine, pii):
    setup(db_engine, pii)
    factory = make_sessionmaker(db_engine)
    for over, message in (
        ({"account": "12ab"}, "对公账号：须为 8–32 位数字"),
        ({"org_code": "机构"}, "单位代码"),
        ({"org_name": " "}, "单位名称：必填"),
        ({"bank_name": ""}, "开户银行：必填"),
    ):
        with pytest.raises(ValidationFailed, match=message), factory() as s:
            _register(s, pii, **over)
    with pytest.raises(Forbidden), factory() as s:
        _register(s, pii, district=D2)  # a district's finance registers its own district's payees only
    with pytest.raises(Forbidden), factory() as s:
        _register(s, pii, role="district_reviewer")
    with factory() as s, s.begin():
        _register(s, pii)
    with factory() as s, s.begin():  # a correction replaces the account, still one row per organisation
        _register(s, pii, account="6222000011112222")
    with Session(db_engine) as s:
        rows = disbursement.payee_accounts(s, district=D1)
        assert (
            len(rows) == 1 and pii.cipher.decrypt(rows[0].account_enc, "payee.account") == "6222000011112222"
        )
        assert disbursement.payee_accounts(s, district=D2) == []
