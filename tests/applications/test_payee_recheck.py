"""A business's payee is checked again at payment (README choice 93): if the legal representative in force
changed after the application was approved, the recorded payee is not paid — the batch is refused as a
whole when it is made, the item is held (left pending) when the batch is run, the bank file is refused —
with a Chinese error naming the application, the recorded payee and the representative now in force, and
an audit entry; an individual's application is not affected. On both databases (``db_engine``)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from tests.applications import ACTORS, D1, KEY, LATER, PARAMS, application_in, setup, state_of
from tests.applications.test_register import _approve, _budget
from tests.registry.factories import Registry
from xiangchuang.applications import disbursement
from xiangchuang.db import make_sessionmaker
from xiangchuang.errors import DomainError, ValidationFailed
from xiangchuang.models import (
    Application,
    AuditEvent,
    Business,
    DisbursementBatch,
    DisbursementItem,
    Founder,
    Person,
    Posting,
)
from xiangchuang.registry.pii import Pii

FIN = {"actor": ACTORS["district_finance"], "role": "district_finance", "actor_district": D1}
CHANGE = dt.date(2025, 3, 25)  # after approval and the batch (LATER = 2025-03-20), before payment
PAY_DAY = dt.datetime(2025, 3, 26, 2, 0, tzinfo=dt.UTC)  # 2025-03-26 10:00 in Chongqing


def _approved(engine: Engine, pii: Pii) -> tuple[int, str]:
    """An approved 创业补助 application of B-VET, applied for (and to be paid to) P-VET, its legal
    representative; and P-NEW, a person of the registry."""
    setup(engine, pii)
    app_id = application_in(engine, "publicity", period="2024")
    _budget(engine)
    _approve(engine, app_id)
    with engine.begin() as conn:
        Registry(conn, pii, start=970).person(no="P-NEW")
    with Session(engine) as s:
        app_no = s.execute(select(Application.application_no).where(Application.id == app_id)).scalar_one()
    return app_id, app_no


def _change_representative(engine: Engine, since: dt.date) -> None:
    """P-VET's term as B-VET's legal representative ends the day before ``since``; P-NEW's starts."""
    with Session(engine) as s, s.begin():
        bid = s.execute(select(Business.id).where(Business.business_no == "B-VET")).scalar_one()
        old = s.execute(select(Person.id).where(Person.person_no == "P-VET")).scalar_one()
        new = s.execute(select(Person.id).where(Person.person_no == "P-NEW")).scalar_one()
        s.execute(
            update(Founder)
            .where(Founder.business_id == bid, Founder.person_id == old)
            .values(until=since - dt.timedelta(days=1))
        )
        s.add(Founder(business_id=bid, person_id=new, role="legal_representative", since=since))


def _undo_change(engine: Engine) -> None:
    """The registry corrected: P-VET is the representative again (the change was entered in error)."""
    with Session(engine) as s, s.begin():
        new = s.execute(select(Person.id).where(Person.person_no == "P-NEW")).scalar_one()
        s.execute(delete(Founder).where(Founder.person_id == new))
        s.execute(update(Founder).values(until=None))


def _start(engine: Engine, app_id: int, at: dt.datetime = LATER) -> int:
    with make_sessionmaker(engine)() as s, s.begin():
        return disbursement.start_batch(
            s, application_ids=[app_id], district=D1, at=at, params=PARAMS, audit_key=KEY, **FIN
        ).id


def _run(engine: Engine, batch_id: int, at: dt.datetime = PAY_DAY):
    return disbursement.run_disbursement(
        make_sessionmaker(engine),
        batch_id=batch_id,
        district=D1,
        audit_key=KEY,
        actor=FIN["actor"],
        role="district_finance",
        at=at,
    )


def _names(engine: Engine) -> tuple[str, str]:
    with Session(engine) as s:
        old, new = (
            s.execute(select(Person.name).where(Person.person_no == no)).scalar_one()
            for no in ("P-VET", "P-NEW")
        )
    return old, new


def _holds(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(
            s.execute(select(AuditEvent).where(AuditEvent.action == "disbursement.payee_held")).scalars()
        )


def test_payment_after_the_representative_changed_is_held_not_paid(db_engine, pii, tmp_path):
    app_id, app_no = _approved(db_engine, pii)
    batch_id = _start(db_engine, app_id)  # P-VET still in force on the batch date
    _change_representative(db_engine, CHANGE)
    old_name, new_name = _names(db_engine)

    result = _run(db_engine, batch_id)
    assert (result.paid, result.total_fen) == (0, 0)
    assert len(result.held) == 1
    message = result.held[0]
    for part in (
        app_no,
        f"{old_name}（P-VET）",
        f"{new_name}（P-NEW）",
        "2025-03-26",
        "暂缓拨付",
        "更正登记库",
    ):
        assert part in message, message
    with Session(db_engine) as s:
        item = s.execute(select(DisbursementItem).where(DisbursementItem.batch_id == batch_id)).scalar_one()
        assert (item.status, item.ledger_entry_id) == ("pending", None)  # nothing half-written
    holds = _holds(db_engine)
    assert len(holds) == 1 and holds[0].subject == f"applications:{app_no}" and holds[0].outcome == "denied"
    assert holds[0].details["recorded_payee"] == "P-VET" and holds[0].details["in_force"] == "P-NEW"
    assert holds[0].actor == FIN["actor"]

    # the bank file is refused too, and nothing is confirmed
    with (
        pytest.raises(ValidationFailed, match=f"无法生成银行拨付文件：申请 {app_no}"),
        make_sessionmaker(db_engine)() as s,
        s.begin(),
    ):
        disbursement.export_bank_file(
            s,
            batch_id=batch_id,
            district=D1,
            pii=pii,
            path=tmp_path / "bank.xlsx",
            actor=FIN["actor"],
            audit_key=KEY,
            at=PAY_DAY,
        )
    with make_sessionmaker(db_engine)() as s, s.begin():
        done = disbursement.confirm_batch(
            s, batch_id=batch_id, district=D1, at=PAY_DAY, params=PARAMS, audit_key=KEY, **FIN
        )
    assert done == 0 and state_of(db_engine, app_id) == "disbursing"

    # the registry corrected: a later run pays the item once
    _undo_change(db_engine)
    again = _run(db_engine, batch_id)
    assert (again.paid, again.held) == (1, ())
    assert _run(db_engine, batch_id).paid == 0


def test_ledger_posting_is_not_written_for_a_held_item(db_engine, pii):
    app_id, _ = _approved(db_engine, pii)
    batch_id = _start(db_engine, app_id)
    _change_representative(db_engine, CHANGE)
    with Session(db_engine) as s:
        before = s.execute(select(Posting.id)).all()
    _run(db_engine, batch_id)
    with Session(db_engine) as s:
        assert s.execute(select(Posting.id)).all() == before
    # paid on a date the recorded payee was still in force (the check is on the payment date)
    assert _run(db_engine, batch_id, at=LATER).paid == 1


def test_a_batch_with_a_changed_payee_is_refused_as_a_whole_and_audited(db_engine, pii):
    app_id, app_no = _approved(db_engine, pii)
    _change_representative(db_engine, dt.date(2025, 3, 20))  # in force on the batch date already
    old_name, new_name = _names(db_engine)
    factory = make_sessionmaker(db_engine)
    with factory() as s:
        with pytest.raises(disbursement.PayeeHeld) as caught:
            disbursement.start_batch(
                s, application_ids=[app_id], district=D1, at=LATER, params=PARAMS, audit_key=KEY, **FIN
            )
        s.rollback()
        # (what the edges do: audit the refusal in a transaction of its own)
        caught.value.record(s, audit_key=KEY, actor=FIN["actor"], role="district_finance", at=LATER)
        s.commit()
    message = caught.value.message
    assert isinstance(caught.value, ValidationFailed) and caught.value.status == 422
    for part in (app_no, f"{old_name}（P-VET）", f"{new_name}（P-NEW）", "拨付批次未生成"):
        assert part in message, message
    assert state_of(db_engine, app_id) == "approved"  # nothing half-written
    with Session(db_engine) as s:
        assert s.execute(select(DisbursementBatch.id)).first() is None
    assert [h.details["in_force"] for h in _holds(db_engine)] == ["P-NEW"]


def test_nobody_in_force_is_named(db_engine, pii):
    app_id, _ = _approved(db_engine, pii)
    batch_id = _start(db_engine, app_id)
    with Session(db_engine) as s, s.begin():
        s.execute(update(Founder).values(until=CHANGE))
    (message,) = _run(db_engine, batch_id).held
    assert "登记库中 2025-03-26 没有在任的法定代表人（经营者）" in message


def test_an_individuals_application_is_not_rechecked(db_engine, pii):
    """A person's own application (subject: the person, a training …) has no business representative:
    ``payee_change`` never holds it, whoever represents any business."""
    _approved(db_engine, pii)
    _change_representative(db_engine, dt.date(2025, 3, 1))
    with Session(db_engine) as s:
        vet = s.execute(select(Person.id).where(Person.person_no == "P-VET")).scalar_one()
        for table, key in (("persons", "P-VET"), ("trainings", "T-1"), ("businesses", "B-NONE")):
            app = Application(
                application_no="SQ-X",
                subject_table=table,
                subject_key=key,
                applicant_user="P-VET",
                district=D1,
            )
            assert (
                disbursement.payee_change(s, application=app, payee_person_id=vet, on=PAY_DAY.date()) is None
            )
        business_app = Application(
            application_no="SQ-Y",
            subject_table="businesses",
            subject_key="B-VET",
            applicant_user="P-VET",
            district=D1,
        )
        assert disbursement.payee_change(s, application=business_app, payee_person_id=vet, on=PAY_DAY.date())


def test_another_districts_finance_user_is_refused_by_scope_and_told_no_names(db_engine, pii):
    """The payee re-check reads and names a business's representatives: it runs only on the batch's
    own district's approved applications. A finance user of another district naming this one's
    application gets the scope refusal, as before the re-check, not its payee's names (review of
    choice 93: application ids are sequential, so every district's names could be read)."""
    app_id, _app_no = _approved(db_engine, pii)
    _change_representative(db_engine, CHANGE)
    old_name, new_name = _names(db_engine)
    other = 500102 if D1 != 500102 else 500103
    at = dt.datetime(2025, 3, 26, 2, 0, tzinfo=dt.UTC)
    with make_sessionmaker(db_engine)() as s, s.begin(), pytest.raises(DomainError) as caught:
        disbursement.start_batch(
            s,
            application_ids=[app_id],
            district=other,
            at=at,
            params=PARAMS,
            audit_key=KEY,
            actor="fin-other",
            role="district_finance",
            actor_district=other,
        )
    assert not isinstance(caught.value, disbursement.PayeeHeld), caught.value.message
    assert old_name not in caught.value.message and new_name not in caught.value.message
    assert "P-NEW" not in caught.value.message and "P-VET" not in caught.value.message
    assert state_of(db_engine, app_id) == "approved"
