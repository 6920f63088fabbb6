"""Migration 0027 on a populated database: every existing transition gets ``entered_at`` = the ``at`` of
its application's previous transition in (at, id) order — the LAG the step durations computed before —
on a history with ties in ``at`` and rows inserted out of time order; down and up again."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from xiangchuang.dbmigrate import downgrade, upgrade
from xiangchuang.models import Base, TransitionLog

T0 = dt.datetime(2026, 6, 30, 15, 0, tzinfo=dt.UTC)


def _utc(at: dt.datetime | None) -> dt.datetime | None:
    if at is None:
        return None
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _populate(engine) -> dict[int, dt.datetime | None]:  # type: ignore[no-untyped-def]
    """Applications whose transitions are inserted interleaved and out of time order, many at the same
    instant; returns {transition id: expected entered_at} computed here by sorting on (at, id)."""
    rng = random.Random(27)
    rows: list[tuple[int, int, dt.datetime]] = []
    with engine.begin() as conn:
        apps = []
        for n in range(12):
            apps.append(
                conn.execute(
                    text(
                        "INSERT INTO applications (application_no, kind, subject_table, subject_key, period, "
                        "district, state, live_key, applicant_user, created_by, form, version, on_behalf) "
                        "VALUES (:no, 'startup_subsidy', 'businesses', :s, '2026', 500101, 'accepted', :k, "
                        "'u', 'u', '{}', 1, false) RETURNING id"
                    ),
                    {"no": f"A{n}", "s": f"S{n}", "k": f"startup_subsidy|S{n}|2026"},
                ).scalar_one()
            )
        states = ("draft", "submitted", "accepted", "first_review", "second_review", "publicity")
        for _ in range(90):
            app = rng.choice(apps)
            at = T0 + dt.timedelta(seconds=rng.choice([0, 0, 1, 3600, 86400 * rng.randrange(1, 30)]))
            frm, to = rng.choice(list(itertools.pairwise(states)))
            tid = conn.execute(
                text(
                    "INSERT INTO application_transitions (application_id, from_state, action, to_state, "
                    "actor, role, at) VALUES (:a, :f, 'x', :t, 'staff', 'x', :at) RETURNING id"
                ),
                {"a": app, "f": frm, "t": to, "at": at},
            ).scalar_one()
            rows.append((tid, app, at))
    expected: dict[int, dt.datetime | None] = {}
    by_app = sorted(rows, key=lambda r: (r[1], r[2], r[0]))
    for _, history in itertools.groupby(by_app, key=lambda r: r[1]):
        prev = None
        for tid, _app, at in history:
            expected[tid] = prev
            prev = at
    assert len({at for _, _, at in rows}) < len(rows)  # ties in at
    return expected


def test_0027_backfills_entered_at_as_the_lag_by_at_and_id(fresh_engine):
    upgrade(fresh_engine, "0026")
    expected = _populate(fresh_engine)
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        stored = dict(conn.execute(select(TransitionLog.id, TransitionLog.entered_at)).all())
        lag = dict(
            conn.execute(
                select(
                    TransitionLog.id,
                    func.lag(TransitionLog.at, type_=TransitionLog.at.type).over(
                        partition_by=TransitionLog.application_id,
                        order_by=(TransitionLog.at, TransitionLog.id),
                    ),
                )
            ).all()
        )
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    assert {i: _utc(v) for i, v in stored.items()} == expected
    assert stored == lag
    assert sum(v is None for v in stored.values()) == 12  # each application's first transition

    downgrade(fresh_engine, "0026")
    columns = {c["name"] for c in inspect(fresh_engine).get_columns("application_transitions")}
    assert "entered_at" not in columns
    with fresh_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM application_transitions")).scalar_one() == 90
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        again = dict(conn.execute(select(TransitionLog.id, TransitionLog.entered_at)).all())
    assert again == stored
