"""The finance pages re-check a business's payee (README choice 93), on SQLite and PostgreSQL: a batch
whose application's legal representative changed is refused with a Chinese error naming the application,
the recorded payee and the representative in force, and the refusal is audited (committed though the
batch is not); a change after the batch holds the item at payment (others paid) and refuses the bank file."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import tests.applications as ta
from tests.applications import D1, LATER, PARAMS, application_in, state_of
from tests.applications.test_payee_recheck import _change_representative
from tests.registry.factories import Registry
from tests.web.apps_world import build
from xiangchuang.applications import disbursement
from xiangchuang.db import make_sessionmaker
from xiangchuang.models import Application, AuditEvent, DisbursementBatch, DisbursementItem, Person


@pytest.fixture
def world(db_engine, pii, web_settings, akey, monkeypatch):
    monkeypatch.setattr(ta, "KEY", akey)  # the helpers audit with the app's key (one audit chain)
    w = build(db_engine, pii, web_settings, akey)
    with db_engine.begin() as conn:
        Registry(conn, pii, start=970).person(no="P-NEW")
    yield w
    w.close()


def _approved(engine, akey) -> tuple[int, str]:
    app_id = application_in(engine, "publicity", period="2024")
    with make_sessionmaker(engine)() as s, s.begin():
        disbursement.open_budget(s, district=D1, amount_fen=100_000_000, at=ta.NOW, note="测试预算")
        disbursement.act(
            s,
            application_id=app_id,
            action="approve",
            actor=ta.ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=akey,
            now=LATER,
            params=PARAMS,
        )
    with Session(engine) as s:
        no = s.execute(select(Application.application_no).where(Application.id == app_id)).scalar_one()
    return app_id, no


def _name(engine, person_no: str) -> str:
    with Session(engine) as s:
        return str(s.execute(select(Person.name).where(Person.person_no == person_no)).scalar_one())


def test_the_batch_page_refuses_a_changed_payee_and_audits_it(world, db_engine, akey):
    app_id, app_no = _approved(db_engine, akey)
    _change_representative(db_engine, dt.date(2025, 3, 15))
    world.clock.now = LATER
    fin = world.client("fin")
    r = fin.post("/finance/batches", data={"ids": [str(app_id)]}, follow_redirects=False)
    assert r.status_code == 422
    for part in (app_no, f"{_name(db_engine, 'P-VET')}（P-VET）", f"{_name(db_engine, 'P-NEW')}（P-NEW）"):
        assert part in r.text
    assert state_of(db_engine, app_id) == "approved"
    with Session(db_engine) as s:
        assert s.execute(select(DisbursementBatch.id)).first() is None
        held = s.execute(
            select(AuditEvent).where(AuditEvent.action == "disbursement.payee_held")
        ).scalar_one()
        assert held.actor == "fin" and held.subject == f"applications:{app_no}"


def test_the_run_page_holds_a_changed_payee_and_the_bank_file_is_refused(world, db_engine, akey):
    app_id, app_no = _approved(db_engine, akey)
    world.clock.now = LATER
    fin = world.client("fin")
    assert (
        fin.post("/finance/batches", data={"ids": [str(app_id)]}, follow_redirects=False).status_code == 303
    )
    bid = int(re.search(r'id="run-(\d+)"', fin.get("/finance").text).group(1))
    _change_representative(db_engine, dt.date(2025, 3, 25))
    world.clock.now = dt.datetime(2025, 3, 26, 2, 0, tzinfo=dt.UTC)
    r = fin.post(f"/finance/batches/{bid}/run", follow_redirects=False)
    assert r.status_code == 409 and "本次支付 0 笔；1 笔暂缓拨付" in r.text and app_no in r.text
    bank = fin.get(f"/finance/batches/{bid}/bank.xlsx")
    assert bank.status_code == 422 and "无法生成银行拨付文件" in bank.text
    with Session(db_engine) as s:
        assert s.execute(select(DisbursementItem.status)).scalar_one() == "pending"
        assert s.execute(
            select(AuditEvent.actor).where(AuditEvent.action == "disbursement.payee_held")
        ).first()
    assert state_of(db_engine, app_id) == "disbursing"
