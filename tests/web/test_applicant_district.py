"""The district of an applicant's application or loan, and the borrower of a business-only account's
small/micro loan, on both databases through the pages.

District: the account's business, else the district the engine files the person under (where they
founded, else work), else the district the applicant chooses on the form — never the 户籍 (README
choice 12; an incoming entrepreneur's hukou may be any county in China). Borrower: an account linked
only to its business borrows as the legal representative in force (README choice 23)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from tests.registry.factories import Registry
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import InvalidTransition
from xiangchuang.loans import service as loans
from xiangchuang.loans.service import Actor
from xiangchuang.models import Application, Business, Founder, Loan, LoanDetermination, Person, User

BEIJING = 110101
LOAN = {"bank_code": "CQRCB", "amount": "100000", "term_months": "24", "purpose": "开办民宿"}


def _beijing_hukou(db_engine, person_id: int) -> None:
    with db_engine.begin() as conn:
        conn.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(hukou_district=BEIJING, birth_date=dt.date(1998, 1, 1), startup_intention=True)
        )


def _person_only(db_engine, user_id: int, person_id: int | None = None) -> None:
    values: dict[str, object] = {"business_id": None}
    if person_id is not None:
        values["person_id"] = person_id
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(**values))


def _districts(db_engine) -> tuple[list[tuple[str, int]], list[int]]:
    with db_engine.connect() as conn:
        apps = [(str(k), int(d)) for k, d in conn.execute(select(Application.kind, Application.district))]
        loan_districts = [int(d) for d in conn.execute(select(Loan.district)).scalars()]
    return apps, loan_districts


def _business_only_small_micro_loan(applicant, db_engine):
    """Unlink the account's person (the account keeps its business) and apply online for a small/micro
    loan; the response."""
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == applicant.user_id).values(person_id=None))
    form = {"kind": "small_micro", "bank_code": "CQRCB", "amount": "500000", "term_months": "24"}
    return applicant.post("/loans/new", {**form, "purpose": "扩大生产"})


def test_founder_with_outside_hukou_files_where_they_founded(as_role, db_engine, linked):
    """The linked person founded a business in 500101 and has a Beijing hukou: the application and
    the loan are filed under 500101, the district the engine files the person under."""
    _beijing_hukou(db_engine, linked["person_id"])
    applicant = as_role("ru.xiang", "applicant")
    _person_only(db_engine, applicant.user_id)
    r = applicant.post(
        "/my/apply/free_workstation", data={"period": "once", "amount": "", "description": "入乡创业"}
    )
    assert r.status_code == 303, r.text
    r = applicant.post("/loans/new", {"kind": "individual", **LOAN})
    assert r.status_code == 303, r.text
    assert _districts(db_engine) == ([("free_workstation", 500101)], [500101])


def test_person_the_registry_places_nowhere_chooses_the_district(as_role, db_engine, linked, pii):
    """An incoming entrepreneur who founded and works nowhere yet: the forms ask for the district (a
    clear Chinese error when none is chosen or the code is not a Chongqing district); the hukou is
    never used."""
    with db_engine.begin() as conn:
        newcomer = Registry(conn, pii, start=900).person(
            no="P-NEWCOMER", hukou_district=BEIJING, birth_date=dt.date(1998, 1, 1), startup_intention=True
        )
    applicant = as_role("ru.xiang2", "applicant")
    _person_only(db_engine, applicant.user_id, newcomer)
    form = {"period": "once", "amount": "", "description": "入乡创业"}
    assert "所在区县" in applicant.get("/my/apply/free_workstation").text
    assert 'name="district"' in applicant.get("/loans/new").text

    r = applicant.post("/my/apply/free_workstation", data=form)
    assert r.status_code == 422 and "所在区县：登记库中没有您创办或就业的经营主体" in r.text
    r = applicant.post("/my/apply/free_workstation", data={**form, "district": str(BEIJING)})
    assert r.status_code == 422 and "不是重庆市的区县代码" in r.text
    r = applicant.post("/loans/new", {"kind": "individual", **LOAN})
    assert r.status_code == 422 and "所在区县" in r.text
    assert _districts(db_engine) == ([], [])

    r = applicant.post("/my/apply/free_workstation", data={**form, "district": "500102"})
    assert r.status_code == 303, r.text
    r = applicant.post("/loans/new", {"kind": "individual", **LOAN, "district": "500102"})
    assert r.status_code == 303, r.text
    assert _districts(db_engine) == ([("free_workstation", 500102)], [500102])


def test_employee_files_where_they_work(as_role, db_engine, linked, pii):
    """A person who founded nothing but is employed by a 500103 business: filed under 500103 even
    when the form names another district (the registry decides when it knows)."""
    with db_engine.begin() as conn:
        reg = Registry(conn, pii, start=910)
        worker = reg.person(no="P-WORKER", hukou_district=BEIJING)
        boss = reg.person(no="P-BOSS")
        b = reg.business(
            no="B-EMPLOYER", founder=boss, registration_date=dt.date(2020, 1, 1), district=500103
        )
        reg.hire(b, worker, dt.date(2023, 1, 1))
    applicant = as_role("ru.xiang3", "applicant")
    _person_only(db_engine, applicant.user_id, worker)
    r = applicant.post("/loans/new", {"kind": "individual", **LOAN, "district": "500102"})
    assert r.status_code == 303, r.text
    assert _districts(db_engine)[1] == [500103]


def test_business_only_account_borrows_as_the_representative_in_force(as_role, db_engine, linked, akey, pii):
    """A small/micro loan from an account linked only to its business: the borrower is the legal
    representative in force (not the business number, not a former representative), so the 人社
    review determines on the registry instead of 「登记库中没有该借款人」."""
    with db_engine.begin() as conn:
        successor = Registry(conn, pii, start=920).person(no="P-SUCCESSOR")
        conn.execute(
            update(Founder)
            .where(Founder.business_id == linked["business_id"])
            .values(until=dt.date(2024, 12, 31))
        )
        conn.execute(
            Founder.__table__.insert().values(
                business_id=linked["business_id"],
                person_id=successor,
                role="legal_representative",
                since=dt.date(2025, 1, 1),
            )
        )
        conn.execute(
            update(Business)
            .where(Business.id == linked["business_id"])
            .values(staff_count=20, new_eligible_hires=3)
        )
    r = _business_only_small_micro_loan(as_role("qi.ye", "applicant"), db_engine)
    assert r.status_code == 303, r.text
    with db_engine.connect() as conn:
        loan = conn.execute(select(Loan)).mappings().one()
        bno = conn.execute(
            select(Business.business_no).where(Business.id == linked["business_id"])
        ).scalar_one()
    assert (loan["borrower_person_no"], loan["business_no"], loan["district"]) == ("P-SUCCESSOR", bno, 500101)
    reviewer = Actor("u-hrss", "district_reviewer", 500101)
    f = make_sessionmaker(db_engine)
    with f() as s, s.begin():
        loans.act(
            s,
            loan_id=loan["id"],
            action="submit",
            actor=Actor(loan["applicant_user"], "applicant"),
            audit_key=akey,
        )
        loans.act(s, loan_id=loan["id"], action="accept", actor=reviewer, audit_key=akey)
    refused = ""
    with f() as s, s.begin():  # the registry facts of the representative decide, whatever the outcome
        try:
            loans.pass_eligibility(s, loan_id=loan["id"], actor=reviewer, audit_key=akey)
        except InvalidTransition as exc:
            refused = exc.message
        statuses = (
            s.execute(select(LoanDetermination.status).where(LoanDetermination.loan_id == loan["id"]))
            .scalars()
            .all()
        )
    assert statuses and "not_in_registry" not in statuses
    assert "登记库中没有该借款人" not in refused and "无此借款人" not in refused


def test_business_without_representative_in_force_cannot_borrow_online(as_role, db_engine, linked):
    with db_engine.begin() as conn:
        conn.execute(
            update(Founder)
            .where(Founder.business_id == linked["business_id"])
            .values(until=dt.date(2024, 12, 31))
        )
    r = _business_only_small_micro_loan(as_role("qi.ye2", "applicant"), db_engine)
    assert r.status_code == 422 and "没有现任法定代表人" in r.text
    with db_engine.connect() as conn:
        assert conn.execute(select(Loan.id)).first() is None
