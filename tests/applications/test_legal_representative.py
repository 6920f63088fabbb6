"""The applicant of a business's application is its legal representative / operator *in force* — the
founder the engine determines on (README choice 23): invitations, the one-stop service's
business-only accounts and therefore the disbursement payee never go to a former representative."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, KEY, LATER, NOW, PARAMS, act, invite, setup
from tests.applications.test_register import _approve, _budget
from tests.registry.factories import Registry
from xiangchuang.applications import disbursement
from xiangchuang.applications import repository as repo
from xiangchuang.db import make_sessionmaker
from xiangchuang.models import Application, Business, Determination, DisbursementItem, Person
from xiangchuang.registry.pii import Pii


def _changed_representative(engine: Engine, pii: Pii) -> None:
    """B-X: P-OLD was the legal representative until 2023-12-31; P-NEW (a veteran) the operator since
    2024-01-01. Only P-NEW's facts make 创业补助 eligible."""
    setup(engine, pii)
    with engine.begin() as conn:
        reg = Registry(conn, pii, start=950)
        old = reg.person(no="P-OLD")
        new = reg.person(no="P-NEW", groups=["veteran"])
        b = reg.business(no="B-X", founder=None, registration_date=dt.date(2021, 1, 1))
        reg.founder(b, old, since=dt.date(2021, 1, 1), until=dt.date(2023, 12, 31))
        reg.founder(b, new, role="operator", since=dt.date(2024, 1, 1))
        reg.year(b, 2024, employer_si_paid_fen=1_000_000)


def _business_id(s: Session, no: str) -> int:
    return int(s.execute(select(Business.id).where(Business.business_no == no)).scalar_one())


def test_founder_of_is_the_representative_in_force(db_engine, pii):
    _changed_representative(db_engine, pii)
    with Session(db_engine) as s:
        bid = _business_id(s, "B-X")

        def on(day: dt.date) -> str | None:
            p = repo.founder_of(s, bid, on=day)
            return None if p is None else p.person_no

        assert on(dt.date(2022, 6, 1)) == "P-OLD"
        assert on(dt.date(2023, 12, 31)) == "P-OLD"  # until is inclusive
        assert on(dt.date(2024, 1, 1)) == "P-NEW"
        assert on(dt.date(2020, 6, 1)) is None  # nobody in force: none, not the earliest row ever


def test_founder_of_orders_as_the_assembler(db_engine, pii):
    """Several representatives in force: the earliest ``since`` with NULL first ("since the
    beginning"), then the lowest record id — the assembler's order."""
    with db_engine.begin() as conn:
        reg = Registry(conn, pii, start=960)
        a, b_, c = reg.person(no="P-A"), reg.person(no="P-B"), reg.person(no="P-C")
        b = reg.business(no="B-Y", founder=None, registration_date=dt.date(2021, 1, 1))
        reg.founder(b, a, since=dt.date(2021, 1, 1))
        reg.founder(b, b_, since=None)
        reg.founder(b, c, role="partner", since=None)  # not a founder role
    with Session(db_engine) as s:
        person = repo.founder_of(s, _business_id(s, "B-Y"), on=dt.date(2024, 1, 1))
        assert person is not None and person.person_no == "P-B"


def test_invitation_and_payee_are_the_representative_in_force(db_engine, pii):
    _changed_representative(db_engine, pii)
    app_id = invite(db_engine, subject="B-X")
    with Session(db_engine) as s:
        app = s.get(Application, app_id)
        det = s.execute(select(Determination).where(Determination.application_id == app_id)).scalars().first()
        assert app is not None and det is not None and det.status == "eligible"
        cols = det.facts["businesses"]["columns"]
        engine_founder = det.facts["persons"]["columns"]["id"][cols["founder_id"][0]]
        assert engine_founder == "P-NEW"
        assert (app.applicant_user, app.applicant_person_no) == ("P-NEW", "P-NEW")
    act(db_engine, app_id, "confirm", "applicant", actor="P-NEW")
    for action, role in (
        ("accept", "window_clerk"),
        ("start_first_review", "window_clerk"),
        ("pass_first_review", "window_clerk"),
        ("pass_second_review", "district_reviewer"),
    ):
        act(db_engine, app_id, action, role)
    _budget(db_engine)
    _approve(db_engine, app_id)
    with make_sessionmaker(db_engine)() as s, s.begin():
        batch = disbursement.start_batch(
            s,
            application_ids=[app_id],
            district=D1,
            actor=ACTORS["district_finance"],
            role="district_finance",
            actor_district=D1,
            at=LATER,
            params=PARAMS,
            audit_key=KEY,
        )
        item = s.execute(select(DisbursementItem).where(DisbursementItem.batch_id == batch.id)).scalar_one()
        payee = s.get(Person, item.payee_person_id)
        assert payee is not None and payee.person_no == "P-NEW"


def test_invitation_skipped_when_no_representative_in_force(db_engine, pii):
    """A business whose only representative left: no applicant, the invitation is skipped with the
    reason (never addressed to the former representative)."""
    from tests.applications import stored_run
    from xiangchuang.applications import invitations

    _changed_representative(db_engine, pii)
    with db_engine.begin() as conn:
        reg = Registry(conn, pii, start=970)
        gone = reg.person(no="P-GONE", groups=["veteran"])
        b = reg.business(no="B-Z", founder=None, registration_date=dt.date(2021, 1, 1))
        reg.founder(b, gone, since=dt.date(2021, 1, 1), until=dt.date(2023, 12, 31))
    run_id = stored_run(db_engine, [("startup_subsidy", "B-Z", 100_000)])
    with make_sessionmaker(db_engine)() as s, s.begin():
        report = invitations.create_invitations(
            s,
            run_id=run_id,
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            params=PARAMS,
            now=NOW,
        )
    assert not report.created
    assert [r[1] for r in report.skipped] == ["B-Z"]
