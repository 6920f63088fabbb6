"""Monitoring alerts: each rule fires on its condition and not below it; alerts go to the responsible role
through the outbox, are audited, open once per finding, and are resolved by staff or when the condition
clears."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from tests.stats.scenario import A, B, C, add_application, t
from xiangchuang.audit.chain import audit_key, verify
from xiangchuang.errors import Forbidden, ValidationFailed
from xiangchuang.ledger import approve, open_budget
from xiangchuang.models import Application, ImportBatch, Objection, OutboxMessage, Person, StatAlert
from xiangchuang.stats.alerts import list_alerts, resolve_alert, run_alerts

NOW = t("2026-11-20 02:00")


def _world(engine, pii):
    ago = lambda days, hours=0: NOW - dt.timedelta(days=days, hours=hours)  # noqa: E731
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        people = [reg.person() for _ in range(4)]
        nos = [f"P{n + 1:07d}" for n in range(4)]
        # the same phone for three applicants, the same bank account for three (blind indexes)
        conn.execute(update(Person).where(Person.id.in_(people[:3])).values(phone_bidx="f" * 64))
        conn.execute(update(Person).where(Person.id.in_(people[1:])).values(bank_account_bidx="e" * 64))
        sub = ("submit", "draft", "submitted")
        ret = ("return", "submitted", "returned")  # waiting on the applicant: no staff time limit
        # stale: 初审 entered 15 days ago (limit 10) → the window clerk of A
        add_application(conn, no="ST1", kind="startup_subsidy", district=A, subject="S1",
                        steps=[(*sub, ago(20)), ("accept", "submitted", "accepted", ago(16)),
                               ("start_first_review", "accepted", "first_review", ago(15))])  # fmt: skip
        # not stale: 复审 for 3 days
        add_application(conn, no="ST2", kind="startup_subsidy", district=A, subject="S2",
                        steps=[(*sub, ago(9)), ("accept", "submitted", "accepted", ago(8)),
                               ("start_first_review", "accepted", "first_review", ago(7)),
                               ("pass_first_review", "first_review", "second_review", ago(3))])  # fmt: skip
        # objections: one open for 6 days (limit 5), one open for 2 days, one resolved
        ob = add_application(conn, no="OB1", kind="job_subsidy", district=C, subject="O1",
                             steps=[(*sub, ago(30)), ("object", "publicity", "objection", ago(6))])  # fmt: skip
        conn.execute(insert(Objection).values(application_id=ob, text="x", raised_by="c", raised_at=ago(6)))
        ob2 = add_application(conn, no="OB2", kind="job_subsidy", district=C, subject="O2",
                              steps=[(*sub, ago(30)), ("object", "publicity", "objection", ago(2))])  # fmt: skip
        conn.execute(insert(Objection).values(application_id=ob2, text="x", raised_by="c", raised_at=ago(2)))
        # applicants of the shared phone / account
        for n, no in enumerate(nos):
            add_application(conn, no=f"PH{n}", kind="training_syb", district=A if n < 3 else B, subject=f"T{n}",
                            steps=[(*sub, ago(40)), (*ret, ago(39))])  # fmt: skip
            conn.execute(
                update(Application)
                .where(Application.application_no == f"PH{n}")
                .values(applicant_person_no=no)
            )
        # spike in B: 12 submissions in the last 7 days, 4 in the 28 days before
        for n in range(12):
            add_application(conn, no=f"SP{n}", kind="job_subsidy", district=B, subject=f"J{n}",
                            steps=[(*sub, ago(1 + n % 6)), (*ret, ago(n % 6, 1))])  # fmt: skip
        for n in range(4):
            add_application(conn, no=f"SB{n}", kind="job_subsidy", district=B, subject=f"K{n}",
                            steps=[(*sub, ago(10 + 5 * n)), (*ret, ago(9))])  # fmt: skip
        # imports: contributions arrived 3 days ago; persons 200 days ago; the others never
        conn.execute(insert(ImportBatch), [
            {"kind": "contributions", "file_name": "c.xlsx", "sha256": "a" * 64, "mode": "all_or_nothing",
             "status": "done", "created_at": ago(3)},
            {"kind": "persons", "file_name": "p.xlsx", "sha256": "b" * 64, "mode": "all_or_nothing",
             "status": "done", "created_at": ago(200)},
        ])  # fmt: skip
    with Session(engine) as s, s.begin():
        open_budget(s, idempotency_key="b1", district=A, funding_source="city", amount_fen=1_000_000)
        approve(
            s,
            idempotency_key="a1",
            district=A,
            funding_source="city",
            application_ref="ST1",
            amount_fen=900_000,
        )
        open_budget(s, idempotency_key="b2", district=B, funding_source="city", amount_fen=1_000_000)
        approve(
            s,
            idempotency_key="a2",
            district=B,
            funding_source="city",
            application_ref="SP1",
            amount_fen=899_999,
        )


def test_each_rule_fires_goes_to_its_role_and_opens_once(db_engine, pii):
    _world(db_engine, pii)
    key = audit_key(pii.cipher.ring)
    with Session(db_engine) as s, s.begin():
        first = run_alerts(s, audit_key=key, now=NOW)
    assert first.by_rule == {
        "stale_step": 1,
        "budget_used": 1,  # A at exactly 90 %; B at 89.9999 % does not fire
        "objection_open": 1,
        "shared_contact": 2,
        "district_spike": 1,
        "import_overdue": 3,  # persons (200 days), businesses and employments (never); contributions arrived
        "svc_problem_overdue": 0,  # stats.ind_services: no 联系企业 problem, no 会商 task in this world
        "svc_task_overdue": 0,
        "injury_participation_low": 0,  # registered by xiangchuang.community.monitoring (RULE_PROVIDERS)
        "referral_followup_overdue": 0,
    }
    with Session(db_engine) as s:
        alerts = {a["rule"]: a for a in list_alerts(s)}
        assert alerts["stale_step"]["role"] == "window_clerk" and alerts["stale_step"]["district"] == A
        assert (
            "ST1" in alerts["stale_step"]["message"] and "超过时限 10 天" in alerts["stale_step"]["message"]
        )
        assert (
            alerts["budget_used"]["role"] == "district_finance"
            and "90.0%" in alerts["budget_used"]["message"]
        )
        assert alerts["objection_open"]["subject"] == "applications:OB1"
        assert alerts["district_spike"]["district"] == B and alerts["district_spike"]["role"] == "city_admin"
        shared = [a for a in list_alerts(s, rule_id="shared_contact")]
        phone = next(a for a in shared if a["details"]["what"] == "phone")
        assert phone["details"]["person_nos"] == ["P0000001", "P0000002", "P0000003"]
        assert phone["role"] == "district_reviewer" and phone["district"] == A
        bank = next(a for a in shared if a["details"]["what"] == "bank_account")
        assert bank["district"] is None and bank["role"] == "city_admin"  # applicants in two districts
        assert "f" * 20 not in phone["message"] and "e" * 20 not in bank["message"]
        messages = (
            s.execute(select(OutboxMessage).where(OutboxMessage.template == "stats.alert")).scalars().all()
        )
        assert len(messages) == 9
        assert {(m.recipient_role, m.recipient_district) for m in messages} >= {
            ("window_clerk", A),
            ("district_finance", A),
            ("district_reviewer", C),
            ("city_admin", None),
        }
    # Run again: nothing new opens, nothing is sent twice.
    with Session(db_engine) as s, s.begin():
        again = run_alerts(s, audit_key=key, now=NOW + dt.timedelta(hours=1))
    assert again.opened == [] and again.seen_again == 9 and again.resolved == []
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 9

    # Staff resolve one; the objection is handled, so its alert resolves itself at the next run.
    with Session(db_engine) as s, s.begin():
        stale_id = s.execute(select(StatAlert.id).where(StatAlert.rule == "stale_step")).scalar_one()
        with pytest.raises(Forbidden):
            resolve_alert(s, alert_id=stale_id, actor="r2", role="window_clerk", actor_district=B,
                          resolution="已催办", audit_key=key)  # fmt: skip
        with pytest.raises(ValidationFailed):
            resolve_alert(s, alert_id=stale_id, actor="c1", role="window_clerk", actor_district=A,
                          resolution=" ", audit_key=key)  # fmt: skip
        resolve_alert(s, alert_id=stale_id, actor="c1", role="window_clerk", actor_district=A,
                      resolution="已催办，申请人补充材料中", audit_key=key, now=NOW)  # fmt: skip
        s.execute(update(Objection).values(resolved_at=NOW))
    with Session(db_engine) as s, s.begin():
        third = run_alerts(
            s, audit_key=key, now=NOW + dt.timedelta(hours=2), rules=["objection_open", "stale_step"]
        )
        # the objection's alert resolves itself; the stale application is still stale, but staff handled
        # that finding, so it is not raised again
        assert len(third.resolved) == 1 and third.opened == [] and third.suppressed == 1
    with Session(db_engine) as s:
        resolved = list_alerts(s, state="resolved")
        by = {a["rule"]: a for a in resolved}
        assert by["stale_step"]["resolved_by"] == "c1"
        assert by["objection_open"]["resolved_by"] == "system"
        assert verify(s, key) is None


def test_thresholds_are_parameters_with_district_overrides(db_engine, pii, tmp_path):
    from xiangchuang.engine.parameters import load_parameters

    _world(db_engine, pii)
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "monitoring.step_time_limit_days:\n"
        "  districts:\n"
        f"    {A}:\n"
        "      - since: 2020-08-05\n"
        "        value: {submitted: 5, accepted: 5, first_review: 20, second_review: 10, objection: 10, approved: 15, disbursing: 10}\n"
        "        reference: 区县经办规程（测试）\n"
        "        status: assumed\n"
        "        paid_by: 不涉及资金\n",
        encoding="utf-8",
    )
    params = load_parameters(str(overlay))
    with Session(db_engine) as s, s.begin():
        res = run_alerts(
            s, audit_key=audit_key(pii.cipher.ring), now=NOW, rules=["stale_step"], params=params
        )
    assert res.by_rule == {"stale_step": 0}  # 15 days in 初审 is within A's 20
