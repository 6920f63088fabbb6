"""Editing an application's answers while it is a draft or returned for correction (退回补正).

The applicant (or a window clerk acting for them) may change the form and the amount requested only in
``draft`` and ``returned``; the change is audited (which fields changed, not their values) in the
caller's transaction and bumps the version, so a reviewer acting on an older page gets a conflict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.orm import Session

from xiangchuang.applications import repository as repo
from xiangchuang.applications.scope import check_scope
from xiangchuang.applications.service import _check_form
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.audit import record
from xiangchuang.errors import Forbidden, InvalidTransition, ValidationFailed
from xiangchuang.models import Application

EDITABLE_STATES: Final = ("draft", "returned")


def update_answers(
    session: Session,
    *,
    application_id: int,
    form: Mapping[str, Any],
    amount_requested_fen: int | None,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Application:
    app = repo.load(session, application_id)
    if role not in ("applicant", "window_clerk"):
        raise Forbidden("只有申请人或街道/乡镇经办（代办）可以修改申请内容")
    check_scope(app, actor=actor, role=role, actor_district=actor_district, acting=True)
    if app.state not in EDITABLE_STATES:
        raise InvalidTransition(
            f"申请当前状态为「{STATE_LABELS[app.state]}」，不能修改（仅草稿和退回补正时可修改）"
        )
    if amount_requested_fen is not None and amount_requested_fen < 0:
        raise ValidationFailed("申请金额不能为负数")
    body = _check_form(form)
    changed = sorted(k for k in set(body) | set(app.form or {}) if (app.form or {}).get(k) != body.get(k))
    if amount_requested_fen != app.amount_requested_fen:
        changed.append("amount_requested_fen")
    app.form = body
    app.amount_requested_fen = amount_requested_fen
    app.version = app.version + 1
    session.flush()
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action="application.edit",
        subject=f"applications:{app.application_no}",
        details={"fields": changed, "state": app.state, "on_behalf": role == "window_clerk"},
        at=now,
    )
    return app
