"""Helpers for the application workflow tests: a small registry, actors, and a driver that runs each
service call in its own transaction (as a request would)."""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests.registry.factories import Registry
from xiangchuang.applications import attachments, invitations, service
from xiangchuang.applications.kinds import KINDS
from xiangchuang.db import make_sessionmaker
from xiangchuang.engine.parameters import load_parameters
from xiangchuang.models import Application, AuditEvent, MatchResult, MatchRun
from xiangchuang.registry.pii import Pii

D1, D2 = 500101, 500102
KEY = bytes(range(32))
PARAMS = load_parameters()
NOW = dt.datetime(2025, 3, 3, 2, 0, tzinfo=dt.UTC)  # Monday 2025-03-03, 10:00 in Chongqing
LATER = dt.datetime(2025, 3, 20, 2, 0, tzinfo=dt.UTC)  # well after a publicity started on NOW
EXPIRED = dt.datetime(2025, 5, 1, 2, 0, tzinfo=dt.UTC)  # after an invitation made on NOW has lapsed
ACTORS = {
    "applicant": "P-VET",  # an applicant's account is their registry person number
    "window_clerk": "u-clerk",
    "district_reviewer": "u-reviewer",
    "district_finance": "u-finance",
    "city_admin": "u-city",
    "system": "system:test",
}
_periods = itertools.count(1)
DATA_DIR = Path(tempfile.mkdtemp(prefix="xc-attachments-"))
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def registry(conn: Any, pii: Pii) -> None:
    """B-VET: eligible for 创业补助 on NOW (district D1); B-ONLINE2: already received the one-off online
    sales subsidy (ineligible); B-OTHER: a D2 business."""
    reg = Registry(conn, pii)
    vet = reg.person(no="P-VET", groups=["veteran"])
    b = reg.business(no="B-VET", founder=vet, registration_date=dt.date(2022, 5, 1))
    reg.year(b, 2024, employer_si_paid_fen=987_653)
    o = reg.business(
        no="B-ONLINE2", founder=reg.person(no="P-ONLINE2"), registration_date=dt.date(2021, 1, 1)
    )
    reg.year(o, 2024, online_revenue_fen=60_000_000)
    reg.grant("online_sales_subsidy", "B-ONLINE2", period="2023", amount_fen=2_500_000)
    oth = reg.person(no="P-OTHER", groups=["veteran"])
    ob = reg.business(no="B-OTHER", founder=oth, registration_date=dt.date(2020, 1, 1), district=D2)
    reg.year(ob, 2024, employer_si_paid_fen=100_000)


def setup(engine: Engine, pii: Pii) -> None:
    with engine.begin() as conn:
        registry(conn, pii)


def district_of(role: str, district: int = D1) -> int | None:
    return None if role == "city_admin" else district


def create(
    engine: Engine,
    *,
    kind: str = "startup_subsidy",
    subject: str = "B-VET",
    period: str | None = None,
    district: int = D1,
    role: str = "applicant",
    now: dt.datetime = NOW,
    materials: bool = True,
    form: dict[str, Any] | None = None,
    street: str | None = None,
) -> int:
    with make_sessionmaker(engine)() as s, s.begin():
        app = service.create_application(
            s,
            kind=kind,
            subject_key=subject,
            period=period or f"P{next(_periods)}",
            district=district,
            applicant_user=ACTORS["applicant"],
            actor=ACTORS[role],
            role=role,
            actor_district=district_of(role, district),
            audit_key=KEY,
            form=form or {"说明": "测试申请"},
            street=street,
            now=now,
        )
        if materials:
            upload_required(s, app.id, role=role, district=district, now=now)
        return app.id


def upload_required(
    s: Session, app_id: int, *, role: str = "applicant", district: int = D1, now: dt.datetime = NOW
) -> None:
    """Upload a small PDF for every required material of the application's kind."""
    app = s.get(Application, app_id)
    assert app is not None
    for material in KINDS[app.kind].required_materials:
        attachments.upload(
            s,
            application_id=app_id,
            material=material.id,
            filename=f"{material.label}.pdf",
            content=PDF,
            actor=ACTORS[role],
            role=role,
            actor_district=district_of(role, district),
            audit_key=KEY,
            data_dir=DATA_DIR,
            now=now,
        )


def act(
    engine: Engine,
    app_id: int,
    action: str,
    role: str,
    *,
    reason: str | None = None,
    now: dt.datetime = NOW,
    district: int = D1,
    actor: str | None = None,
    expected_version: int | None = None,
) -> service.TransitionResult:
    with make_sessionmaker(engine)() as s, s.begin():
        return service.transition(
            s,
            application_id=app_id,
            action=action,
            actor=actor or ACTORS[role],
            role=role,
            actor_district=district_of(role, district),
            reason=reason,
            now=now,
            params=PARAMS,
            audit_key=KEY,
            expected_version=expected_version,
        )


# How to reach each state from a new draft: (action, role, reason, now).
_R = "请补充材料说明"
PATHS: dict[str, list[tuple[str, str, str | None, dt.datetime]]] = {"draft": [], "invited": []}
INVITED = ("invited", "declined", "expired")  # start from a 免申即享 invitation, not a draft
PATHS["declined"] = [("decline", "applicant", None, NOW)]
PATHS["expired"] = [("expire", "system", None, EXPIRED)]
PATHS["submitted"] = [("submit", "applicant", None, NOW)]
PATHS["withdrawn"] = [("withdraw", "applicant", None, NOW)]
PATHS["returned"] = PATHS["submitted"] + [("return", "window_clerk", _R, NOW)]
PATHS["not_accepted"] = PATHS["submitted"] + [("refuse", "window_clerk", "不属于本辖区受理范围", NOW)]
PATHS["accepted"] = PATHS["submitted"] + [("accept", "window_clerk", None, NOW)]
PATHS["first_review"] = PATHS["accepted"] + [("start_first_review", "window_clerk", None, NOW)]
PATHS["second_review"] = PATHS["first_review"] + [("pass_first_review", "window_clerk", None, NOW)]
PATHS["rejected"] = PATHS["first_review"] + [("reject", "window_clerk", "不符合申请条件", NOW)]
PATHS["publicity"] = PATHS["second_review"] + [("pass_second_review", "district_reviewer", None, NOW)]
PATHS["objection"] = PATHS["publicity"] + [("object", "district_reviewer", "群众反映经营地址不实", NOW)]
PATHS["approved"] = PATHS["publicity"] + [("approve", "district_reviewer", None, LATER)]
PATHS["disbursing"] = PATHS["approved"] + [("start_disbursement", "district_finance", None, LATER)]
PATHS["disbursed"] = PATHS["disbursing"] + [("confirm_disbursement", "district_finance", None, LATER)]


def stored_run(engine: Engine, results: list[tuple[str, str, int]], *, on: dt.date | None = None) -> int:
    """A stored 政策找人 run with eligible results (program, subject, amount) in D1."""
    with make_sessionmaker(engine)() as s, s.begin():
        run = MatchRun(
            on=on or NOW.date(),
            district=D1,
            engine_version="t",
            parameters_version=PARAMS.version[:40],
            subjects=len(results),
            results=len(results),
            load_seconds=0.0,
            evaluate_seconds=0.0,
        )
        s.add(run)
        s.flush()
        for program, subject, amount in results:
            table = KINDS[program].subject_table
            s.add(
                MatchResult(
                    run_id=run.id,
                    program=program,
                    subject_table=table,
                    subject_key=subject,
                    district=D1,
                    status="eligible",
                    amount_fen=amount,
                    district_part_fen=0,
                )
            )
        return run.id


def invite(
    engine: Engine, *, kind: str = "startup_subsidy", subject: str = "B-VET", now: dt.datetime = NOW
) -> int:
    """An application in 'invited' made from a stored run (one result)."""
    run_id = stored_run(engine, [(kind, subject, 197_531)])
    with make_sessionmaker(engine)() as s, s.begin():
        report = invitations.create_invitations(
            s,
            run_id=run_id,
            actor=ACTORS["district_reviewer"],
            role="district_reviewer",
            actor_district=D1,
            audit_key=KEY,
            params=PARAMS,
            now=now,
        )
    assert len(report.created) == 1, report
    return report.created[0]


def application_in(engine: Engine, state: str, **create_kw: Any) -> int:
    app_id = invite(engine) if state in INVITED else create(engine, **create_kw)
    for action, role, reason, now in PATHS[state]:
        act(engine, app_id, action, role, reason=reason, now=now)
    return app_id


def state_of(engine: Engine, app_id: int) -> str:
    with Session(engine) as s:
        return s.execute(select(Application.state).where(Application.id == app_id)).scalar_one()


def audit_count(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())
