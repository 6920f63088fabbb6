"""Quarter close: the published figures are frozen; a later difference is a dated revision beside them."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests.stats.scenario import A, B, build
from xiangchuang.audit.chain import audit_key, verify
from xiangchuang.errors import Conflict, Forbidden, NotFound, ValidationFailed
from xiangchuang.models import Application, AuditEvent, StatFigure, StatPublication
from xiangchuang.stats.periods import Quarter
from xiangchuang.stats.service import CITY, close_quarter, quarter_report, revise_quarter

Q3 = Quarter(2026, 3)
AFTER = dt.datetime(2026, 10, 8, 2, 0, tzinfo=dt.UTC)


def test_close_freezes_and_a_later_change_is_a_dated_revision(db_engine, pii):
    world = build(db_engine, pii)
    key = audit_key(pii.cipher.ring)
    with Session(db_engine) as s, s.begin():
        live = quarter_report(s, quarter=Q3)
        assert live.status == "provisional"
        pub = close_quarter(s, quarter=Q3, actor="admin1", audit_key=key, now=AFTER)
        assert pub.revision == 0 and pub.figure_count == len(live.figures)
    with Session(db_engine) as s, s.begin(), pytest.raises(Conflict):
        close_quarter(s, quarter=Q3, actor="admin2", audit_key=key, now=AFTER)
    # Nothing changed: recomputing stores no revision.
    with Session(db_engine) as s, s.begin():
        assert revise_quarter(s, quarter=Q3, actor="admin1", audit_key=key, now=AFTER) is None

    # A correction after the close: application 5 moves from 涪陵 to 万州.
    with db_engine.begin() as conn:
        conn.execute(update(Application).where(Application.id == world["app5"]).values(district=A))
    with Session(db_engine) as s, s.begin():
        report = quarter_report(s, quarter=Q3)
        assert report.status == "published"
        assert report.value("applications_received", B, "job_subsidy") == 1  # published, not silently changed
        assert report.revisions == []
        later = AFTER + dt.timedelta(days=20)
        rev = revise_quarter(s, quarter=Q3, actor="admin1", audit_key=key, note="区县更正", now=later)
        assert rev is not None and rev.revision == 1 and rev.published_at == later
    with Session(db_engine) as s:
        report = quarter_report(s, quarter=Q3)
        assert report.value("applications_received", B, "job_subsidy") == 1
        assert report.value("applications_received", A, "job_subsidy") == 1  # app 2 only, as published
        (revision,) = report.revisions
        changes = {
            (c["indicator"], c["district"], c["dim"]): (c["original"], c["revised"]) for c in revision.changes
        }
        assert changes[("applications_received", B, "job_subsidy")] == (1, 0)
        assert changes[("applications_received", A, "job_subsidy")] == (1, 2)
        assert ("applications_received", CITY, "job_subsidy") not in changes  # the city total did not move
        assert revision.note == "区县更正" and revision.published_by == "admin1"
        doc = report.as_json()
        assert doc["status"] == "published" and doc["revisions"][0]["revision"] == 1
        # The original rows are untouched: revision 0 still says 涪陵 had 1.
        original = s.execute(
            select(StatFigure.value)
            .join(StatPublication, StatPublication.id == StatFigure.publication_id)
            .where(
                StatPublication.quarter == "2026Q3",
                StatPublication.revision == 0,
                StatFigure.indicator == "applications_received",
                StatFigure.district == B,
                StatFigure.dim == "job_subsidy",
            )
        ).scalar_one()
        assert original == 1
        actions = [a for (a,) in s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
        assert actions == ["stats.quarter_close", "stats.quarter_revise"]
        assert verify(s, key) is None
    # A second, identical recomputation adds nothing.
    with Session(db_engine) as s, s.begin():
        assert revise_quarter(s, quarter=Q3, actor="admin1", audit_key=key, now=AFTER) is None


def test_an_unfinished_quarter_cannot_be_closed_and_an_open_one_has_nothing_to_revise(db_engine, pii):
    key = audit_key(pii.cipher.ring)
    with Session(db_engine) as s, s.begin():
        with pytest.raises(ValidationFailed):
            close_quarter(
                s, quarter=Q3, actor="a", audit_key=key, now=dt.datetime(2026, 9, 30, 15, 0, tzinfo=dt.UTC)
            )
        with pytest.raises(NotFound):
            revise_quarter(s, quarter=Q3, actor="a", audit_key=key, now=AFTER)
        with pytest.raises(Forbidden):
            close_quarter(s, quarter=Q3, actor="r", audit_key=key, role="district_reviewer", now=AFTER)
