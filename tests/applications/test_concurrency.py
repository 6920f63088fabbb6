"""Concurrency: duplicate submissions and conflicting transitions, each thread on its own connection."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tests.applications import ACTORS, D1, KEY, NOW, PARAMS, application_in, setup, upload_required
from xiangchuang.applications import service
from xiangchuang.audit.chain import verify
from xiangchuang.db import make_engine, make_sessionmaker
from xiangchuang.errors import Conflict, DomainError
from xiangchuang.models import Application, TransitionLog

THREADS = 50


def _own_connections(engine: Engine) -> Engine:
    """An engine on the same database that opens a new connection for every session (no pool)."""
    fresh = make_engine(engine.url.render_as_string(hide_password=False), poolclass=NullPool)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            path = conn.execute(text("SHOW search_path")).scalar_one()

        @event.listens_for(fresh, "connect")
        def _search_path(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute(f"SET search_path TO {path}")
            cur.close()
            dbapi_conn.commit()

    return fresh


def _race(engine: Engine, jobs: list[Callable[[Session], Any]]) -> Counter[str]:
    """Run each job in its own thread, connection and transaction, all released at once."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []
    lock = threading.Lock()
    factory = make_sessionmaker(engine)

    def run(job: Callable[[Session], Any]) -> None:
        barrier.wait()
        try:
            with factory() as s, s.begin():
                job(s)
            outcome = "ok"
        except DomainError as exc:
            outcome = type(exc).__name__
        except Exception as exc:  # a raw database error would be a bug: count it
            outcome = f"error:{type(exc).__name__}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return Counter(outcomes)


def _submit_new(s: Session) -> None:
    app = service.create_application(
        s,
        kind="startup_subsidy",
        subject_key="B-VET",
        period="2024",
        district=D1,
        applicant_user=ACTORS["applicant"],
        actor=ACTORS["applicant"],
        role="applicant",
        actor_district=None,
        audit_key=KEY,
        now=NOW,
    )
    upload_required(s, app.id)
    service.submit(
        s,
        application_id=app.id,
        actor=ACTORS["applicant"],
        role="applicant",
        actor_district=None,
        audit_key=KEY,
        now=NOW,
        params=PARAMS,
    )


def test_fifty_concurrent_duplicate_submissions_leave_exactly_one_live_application(db_engine, pii):
    setup(db_engine, pii)
    engine = _own_connections(db_engine)
    try:
        outcomes = _race(engine, [_submit_new] * THREADS)
    finally:
        engine.dispose()
    assert outcomes == Counter({"ok": 1, "Conflict": THREADS - 1})
    with Session(db_engine) as s:
        live = s.execute(select(Application.state).where(Application.live_key.is_not(None))).scalars().all()
        assert live == ["submitted"]
        assert verify(s, KEY) is None


def _transition(
    app_id: int, action: str, reason: str | None, version: int | None
) -> Callable[[Session], Any]:
    def job(s: Session) -> None:
        service.transition(
            s,
            application_id=app_id,
            action=action,
            actor=ACTORS["window_clerk"],
            role="window_clerk",
            actor_district=D1,
            reason=reason,
            audit_key=KEY,
            now=NOW,
            params=PARAMS,
            expected_version=version,
        )

    return job


def _version(engine: Engine, app_id: int) -> int:
    with Session(engine) as s:
        return int(s.execute(select(Application.version).where(Application.id == app_id)).scalar_one())


def test_conflicting_transitions_on_the_same_version_one_wins_the_other_gets_conflict(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    seen = _version(db_engine, app_id)
    engine = _own_connections(db_engine)
    try:
        outcomes = _race(
            engine,
            [
                _transition(app_id, "accept", None, seen),
                _transition(app_id, "refuse", "不属于受理范围", seen),
            ],
        )
    finally:
        engine.dispose()
    assert outcomes == Counter({"ok": 1, "Conflict": 1})
    with Session(db_engine) as s:
        state = s.execute(select(Application.state).where(Application.id == app_id)).scalar_one()
        assert state in ("accepted", "not_accepted")
        logs = s.execute(
            select(func.count()).select_from(TransitionLog).where(TransitionLog.application_id == app_id)
        ).scalar_one()
        assert logs == 2  # submit + the winner
        assert verify(s, KEY) is None


def test_many_concurrent_identical_transitions_apply_once(db_engine, pii):
    setup(db_engine, pii)
    app_id = application_in(db_engine, "submitted")
    engine = _own_connections(db_engine)
    try:
        outcomes = _race(engine, [_transition(app_id, "accept", None, None)] * 10)
    finally:
        engine.dispose()
    assert outcomes["ok"] == 1
    assert set(outcomes) <= {"ok", "Conflict", "InvalidTransition"}  # the loser saw the old or the new state
    assert _version(db_engine, app_id) == 3


# --- cross-program exclusivity: the notice's once-only rules under concurrency ----------------------


def _exclusive_registry(engine: Engine, pii: Any) -> None:
    """B-WEB: an online shop (线上销售补助: one per business, ever, by either route); P-HIRED hired by two
    employers under H-1 and H-2 (岗位补贴: one per hired person across employers)."""
    from tests.registry.factories import Registry

    with engine.begin() as conn:
        reg = Registry(conn, pii)
        web = reg.business(no="B-WEB", founder=reg.person(no="P-WEB"), registration_date=dt.date(2021, 1, 1))
        reg.year(web, 2023, online_revenue_fen=60_000_000)
        reg.year(web, 2024, online_revenue_fen=80_000_000)
        hired = reg.person(no="P-HIRED", groups=["poverty_registered"])
        for n, employer in enumerate(("B-EMP1", "B-EMP2"), start=1):
            b = reg.business(
                no=employer, founder=reg.person(no=f"P-{employer}"), registration_date=dt.date(2021, 1, 1)
            )
            reg.hire(b, hired, dt.date(2023, 1, 1), no=f"H-{n}")


def _submit_exclusive(kind: str, subject: str, period: str, route: str) -> Callable[[Session], Any]:
    def job(s: Session) -> None:
        app = service.create_application(
            s,
            kind=kind,
            subject_key=subject,
            period=period,
            district=D1,
            applicant_user=ACTORS["applicant"],
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            form={"方式": route},
            now=NOW,
        )
        upload_required(s, app.id)
        service.submit(
            s,
            application_id=app.id,
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            now=NOW,
            params=PARAMS,
        )

    return job


def test_fifty_concurrent_online_sales_submissions_across_periods_and_routes_accept_exactly_one(
    db_engine, pii
):
    """同一主体不重复享受 (1.1): 50 different (period, route) applications for one business at once."""
    _exclusive_registry(db_engine, pii)
    periods = ["once", "2021", "2022", "2023", "2024"]
    routes = ["按线上销售额", "按快递费用"]
    jobs = [
        _submit_exclusive("online_sales_subsidy", "B-WEB", periods[i % 5], routes[i // 5 % 2])
        for i in range(THREADS)
    ]
    engine = _own_connections(db_engine)
    try:
        outcomes = _race(engine, jobs)
    finally:
        engine.dispose()
    assert outcomes == Counter({"ok": 1, "Conflict": THREADS - 1})
    with Session(db_engine) as s:
        live = s.execute(select(Application.state, Application.exclusive_key)).all()
        assert live == [("submitted", "online_sales_subsidy|B-WEB")]
        assert verify(s, KEY) is None


def test_fifty_concurrent_job_subsidy_submissions_for_one_person_at_two_employers_accept_exactly_one(
    db_engine, pii
):
    """岗位补贴 once per hired person across employers: the subjects (hires) differ, the person is one."""
    _exclusive_registry(db_engine, pii)
    jobs = [
        _submit_exclusive("job_subsidy", f"H-{1 + i % 2}", str(2021 + i % 4), "—") for i in range(THREADS)
    ]
    engine = _own_connections(db_engine)
    try:
        outcomes = _race(engine, jobs)
    finally:
        engine.dispose()
    assert outcomes == Counter({"ok": 1, "Conflict": THREADS - 1})
    with Session(db_engine) as s:
        assert s.execute(select(Application.exclusive_key)).scalars().all() == ["job_subsidy|person:P-HIRED"]
        assert verify(s, KEY) is None


def test_a_withdrawn_exclusive_application_frees_the_key_and_the_message_names_the_rule(db_engine, pii):
    _exclusive_registry(db_engine, pii)
    factory = make_sessionmaker(db_engine)
    with factory() as s, s.begin():
        _submit_exclusive("online_sales_subsidy", "B-WEB", "2023", "按线上销售额")(s)
    with pytest.raises(Conflict, match="同一主体只能享受一次"), factory() as s, s.begin():
        _submit_exclusive("online_sales_subsidy", "B-WEB", "2024", "按快递费用")(s)
    with factory() as s, s.begin():
        app_id = s.execute(select(Application.id)).scalar_one()
        service.transition(
            s,
            application_id=app_id,
            action="withdraw",
            actor=ACTORS["applicant"],
            role="applicant",
            actor_district=None,
            audit_key=KEY,
            now=NOW,
            params=PARAMS,
        )
    with factory() as s, s.begin():
        _submit_exclusive("online_sales_subsidy", "B-WEB", "2024", "按快递费用")(s)


def test_concurrent_invitation_runs_for_the_same_match_run_invite_once(db_engine, pii):
    from tests.applications import stored_run
    from xiangchuang.applications import invitations
    from xiangchuang.models import Invitation

    setup(db_engine, pii)
    run_id = stored_run(db_engine, [("startup_subsidy", "B-VET", 197_531)])

    def job(s: Session) -> None:
        invitations.create_invitations(
            s,
            run_id=run_id,
            actor="u-reviewer",
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            params=PARAMS,
            now=NOW,
        )

    engine = _own_connections(db_engine)
    try:
        outcomes = _race(engine, [job] * 10)
    finally:
        engine.dispose()
    assert outcomes == Counter({"ok": 10})
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Invitation)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(Application)).scalar_one() == 1
        assert verify(s, KEY) is None
