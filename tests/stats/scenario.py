"""A small, fully known world for the statistics tests: three districts, two quarters, events at the
China-date quarter boundary, applications with several state changes, payments through the real ledger."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import Connection, Engine, insert, update
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.ledger import approve, disburse, open_budget
from xiangchuang.ledger.service import PaymentInstruction
from xiangchuang.models import Application, Contribution, JournalEntry, TransitionLog
from xiangchuang.models.applications import ENDED_STATES

A, B, C = 500101, 500102, 500103  # 万州区, 涪陵区, 渝中区
UTC = dt.UTC


def t(text: str) -> dt.datetime:
    """An instant in UTC from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# (action, from, to, at)
STANDARD_PATH = [
    ("accept", "submitted", "accepted"),
    ("start_first_review", "accepted", "first_review"),
    ("pass_first_review", "first_review", "second_review"),
    ("pass_second_review", "second_review", "publicity"),
    ("approve", "publicity", "approved"),
]


def add_application(
    conn: Connection,
    *,
    no: str,
    kind: str,
    district: int,
    subject: str,
    steps: list[tuple[str, str, str, dt.datetime]],
    amount_approved_fen: int | None = None,
) -> int:
    state = steps[-1][2] if steps else "draft"
    app_id = int(
        conn.execute(
            insert(Application)
            .values(
                application_no=no,
                kind=kind,
                subject_table="businesses",
                subject_key=subject,
                period="2026",
                district=district,
                state=state,
                live_key=None if state in ENDED_STATES else f"{kind}|{subject}|2026",
                applicant_user=f"u-{subject}",
                created_by=f"u-{subject}",
                form={},
                amount_approved_fen=amount_approved_fen,
                version=len(steps) + 1,
            )
            .returning(Application.id)
        ).scalar_one()
    )
    entered = entered_at(steps)
    for (action, frm, to, at), since in zip(steps, entered, strict=True):
        conn.execute(
            insert(TransitionLog).values(
                application_id=app_id,
                from_state=frm,
                action=action,
                to_state=to,
                actor="staff",
                role="x",
                at=at,
                entered_at=since,
            )
        )
    return app_id


def entered_at(steps: list[tuple[str, str, str, dt.datetime]]) -> list[dt.datetime | None]:
    """Each step's ``entered_at`` as the application writes it: the ``at`` of the step before it in
    (at, insertion order = id) order, None for the first — whatever order the steps are listed in."""
    order = sorted(range(len(steps)), key=lambda i: (steps[i][3], i))
    out: list[dt.datetime | None] = [None] * len(steps)
    for prev, cur in itertools.pairwise(order):
        out[cur] = steps[prev][3]
    return out


def path(start: dt.datetime, rows: list[tuple[str, str, str]], *, hours: int = 24) -> list[Any]:
    """Steps at ``start``, then every ``hours`` after it."""
    return [(a, f, to, start + dt.timedelta(hours=hours * i)) for i, (a, f, to) in enumerate(rows)]


SUBMIT = ("submit", "draft", "submitted")


def build(engine: Engine, pii: Any) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        p1 = reg.person(returning_entrepreneur=True, group_rows=[("veteran", dt.date(2020, 1, 1), None)])
        p2 = reg.person()
        p3 = reg.person(returning_entrepreneur=True, groups=["farmer"])
        p4 = reg.person(groups=["college_graduate"])
        p5 = reg.person()
        p6 = reg.person()  # founder of a business not run by returning entrepreneurs
        b1 = reg.business(
            founder=p1, registration_date=dt.date(2026, 8, 1), district=A, founded_by_returning=None
        )
        b2 = reg.business(
            founder=p2, registration_date=dt.date(2026, 5, 1), district=B, kind="individual_business"
        )
        reg.business(founder=p3, registration_date=dt.date(2019, 3, 1), district=C, kind="farmer_cooperative")
        b4 = reg.business(
            founder=p6, registration_date=dt.date(2026, 8, 2), district=A, founded_by_returning=False
        )
        e1 = reg.hire(b1, p4, dt.date(2026, 8, 5))
        e2 = reg.hire(b2, p5, dt.date(2026, 7, 10))
        e3 = reg.hire(b4, p5, dt.date(2026, 8, 10))  # not a returning business: never counted
        for emp, months in ((e1, [202608, 202609]), (e2, [202606, 202607, 202608, 202609]), (e3, [202609])):
            for m in months:
                conn.execute(
                    insert(Contribution).values(employment_id=emp, month=m, employer_pension_fen=100)
                )

        # 1: returned once, resubmitted, approved — one application, many state changes.
        s1 = t("2026-07-02 02:00")
        steps1 = path(
            s1,
            [
                SUBMIT,
                ("accept", "submitted", "accepted"),
                ("start_first_review", "accepted", "first_review"),
                ("return", "first_review", "returned"),
                ("resubmit", "returned", "submitted"),
                *STANDARD_PATH,
            ],
        )
        ids["app1"] = add_application(
            conn,
            no="SQ1",
            kind="startup_subsidy",
            district=A,
            subject="B1",
            steps=steps1,
            amount_approved_fen=1_000_000,
        )
        # 2: submitted at 2026-07-01 00:30 China time (2026-06-30 16:30Z): Q3. Rejected.
        steps2 = path(
            t("2026-06-30 16:30"),
            [
                SUBMIT,
                ("accept", "submitted", "accepted"),
                ("start_first_review", "accepted", "first_review"),
                ("reject", "first_review", "rejected"),
            ],
            hours=48,
        )
        ids["app2"] = add_application(
            conn, no="SQ2", kind="job_subsidy", district=A, subject="H1", steps=steps2
        )
        # 3: submitted at 2026-06-30 23:30 China time (15:30Z): Q2; approved in Q3.
        steps3 = [(*SUBMIT, t("2026-06-30 15:30")), *path(t("2026-08-01 00:00"), STANDARD_PATH, hours=72)]
        ids["app3"] = add_application(
            conn,
            no="SQ3",
            kind="startup_subsidy",
            district=B,
            subject="B2",
            steps=steps3,
            amount_approved_fen=500_050,
        )
        # 4: not accepted (不予受理).
        ids["app4"] = add_application(
            conn,
            no="SQ4",
            kind="training_syb",
            district=C,
            subject="T1",
            steps=path(t("2026-08-10 01:00"), [SUBMIT, ("refuse", "submitted", "not_accepted")]),
        )
        # 5: returned twice in Q3 (counted once), resubmitted.
        ids["app5"] = add_application(
            conn,
            no="SQ5",
            kind="job_subsidy",
            district=B,
            subject="H2",
            steps=path(
                t("2026-07-20 01:00"),
                [
                    SUBMIT,
                    ("return", "submitted", "returned"),
                    ("resubmit", "returned", "submitted"),
                    ("return", "submitted", "returned"),
                    ("resubmit", "returned", "submitted"),
                ],
            ),
        )
        ids.update(persons=(p1, p2, p3, p4, p5, p6), businesses=(b1, b2, b4), employments=(e1, e2, e3))

    with Session(engine) as session, session.begin():
        open_budget(session, idempotency_key="bA", district=A, funding_source="city", amount_fen=10_000_000)
        open_budget(
            session, idempotency_key="bB", district=B, funding_source="district", amount_fen=2_000_000
        )
        approve(
            session,
            idempotency_key="aA",
            district=A,
            funding_source="city",
            application_ref="SQ1",
            amount_fen=1_000_000,
        )
        approve(
            session,
            idempotency_key="aB",
            district=B,
            funding_source="district",
            application_ref="SQ3",
            amount_fen=500_050,
        )
        pays = [
            ("pA", A, "city", "SQ1", 1_000_000, t("2026-09-30 15:59")),  # 23:59 China, Q3
            ("pB1", B, "district", "SQ3", 300_025, t("2026-09-01 03:00")),
            ("pB2", B, "district", "SQ3", 200_025, t("2026-09-30 16:00")),  # 10-01 00:00 China: Q4
        ]
        for key, d, src, ref, amount, at in pays:
            res = disburse(
                session,
                instruction=PaymentInstruction(
                    idempotency_key=key,
                    district=d,
                    funding_source=src,
                    application_ref=ref,
                    amount_fen=amount,
                    payee_ref="acct",
                ),
            )
            session.execute(update(JournalEntry).where(JournalEntry.id == res.entry_id).values(created_at=at))
    return ids
