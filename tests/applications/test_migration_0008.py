"""Migration 0008 on a populated database: the applications table is rebuilt on SQLite (new states,
exclusivity key, street) without losing rows or the rows that reference it; down and up again."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import DBAPIError

from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.models import Application, Base, Determination, Objection, TransitionLog

AT = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)
NEW = {"application_attachments", "publicity_batches", "publicity_lines", "application_invitations"}


def _app(no: str, state: str, live_key: str | None) -> dict[str, object]:
    return {
        "application_no": no,
        "kind": "startup_subsidy",
        "subject_table": "businesses",
        "subject_key": "B1",
        "period": no,
        "district": 500101,
        "state": state,
        "live_key": live_key,
        "applicant_user": "P1",
        "created_by": "P1",
        "form": {"说明": "迁移前的申请"},
        "version": 3,
    }


def test_0008_keeps_rows_and_their_references_and_goes_down_and_up(fresh_engine):
    upgrade(fresh_engine, "0005")
    cols = ("id", "application_no", "state", "live_key", "version")
    with fresh_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO applications (application_no, kind, subject_table, subject_key, period, district, "
                "state, live_key, applicant_user, created_by, form, version, on_behalf) VALUES "
                "('A1', 'startup_subsidy', 'businesses', 'B1', '2024', 500101, 'publicity', 'k1', 'P1', 'P1', "
                "'{}', 3, false), ('A2', 'startup_subsidy', 'businesses', 'B1', '2023', 500101, 'rejected', "
                "NULL, 'P1', 'P1', '{}', 5, false)"
            )
        )
        a1 = conn.execute(text("SELECT id FROM applications WHERE application_no = 'A1'")).scalar_one()
        conn.execute(
            text(
                'INSERT INTO determinations (application_id, stage, "on", status, facts, engine_version, '
                "parameters_version, result) VALUES (:a, 'checkup', '2025-03-03', 'eligible', '{}', 'e', 'p', '{}')"
            ),
            {"a": a1},
        )
        conn.execute(
            text(
                "INSERT INTO application_transitions (application_id, from_state, action, to_state, actor, role, at) "
                "VALUES (:a, 'draft', 'submit', 'submitted', 'P1', 'applicant', :at)"
            ),
            {"a": a1, "at": AT},
        )
        conn.execute(
            text(
                "INSERT INTO application_objections (application_id, text, raised_by, raised_at) "
                "VALUES (:a, '来信反映', 'u', :at)"
            ),
            {"a": a1, "at": AT},
        )
        before = conn.execute(text(f"SELECT {', '.join(cols)} FROM applications ORDER BY id")).all()

    upgrade(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= NEW
    with fresh_engine.connect() as conn:
        assert (
            conn.execute(select(*(getattr(Application, c) for c in cols)).order_by(Application.id)).all()
            == before
        )
        assert conn.execute(select(Determination.application_id)).scalars().all() == [a1]
        assert conn.execute(select(TransitionLog.application_id)).scalars().all() == [a1]
        assert conn.execute(select(Objection.application_id, Objection.publicity_line_id)).all() == [
            (a1, None)
        ]
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    with pytest.raises(DBAPIError), fresh_engine.begin() as conn:  # the determinations trigger survived
        conn.execute(update(Determination).values(status="ineligible"))
    with fresh_engine.begin() as conn:  # the new states are allowed, unknown ones are not
        conn.execute(insert(Application), [_app("A3", "invited", "k3")])
    with pytest.raises(DBAPIError), fresh_engine.begin() as conn:
        conn.execute(insert(Application), [_app("A4", "dreaming", "k4")])
    with pytest.raises(DBAPIError), fresh_engine.begin() as conn:  # an ended application holds no key
        conn.execute(insert(Application), [{**_app("A5", "declined", None), "exclusive_key": "x"}])

    downgrade(fresh_engine, "0005")
    assert not NEW & set(inspect(fresh_engine).get_table_names())
    with fresh_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT application_no, state, live_key FROM applications ORDER BY id")
        ).all()
        assert rows == [("A1", "publicity", "k1"), ("A2", "rejected", None), ("A3", "withdrawn", None)]
        assert conn.execute(text("SELECT count(*) FROM determinations")).scalar_one() == 1
    upgrade(fresh_engine)
    assert set(inspect(fresh_engine).get_table_names()) >= NEW
