"""The application workflow service: create, submit, and one :func:`transition` for every move.

Services take keyword-only arguments and never commit: the request or command owns the transaction,
so a state change, its transition log row, its audit record and its notifications commit together or
not at all.

:func:`transition` checks, in order: the role exists; data scope (an applicant acts on their own
applications only; staff on their own district's; ``city_admin`` may read everything but acts only
where the table names it); the version the caller saw (``expected_version``, optimistic locking) is
current, before anything else, so a caller acting on a stale page gets
:class:`~xiangchuang.errors.Conflict`; the table has a row for (state, action) that names the role; the
row's guards. Then it writes the change with ``UPDATE … WHERE version = :seen``: of two concurrent
transitions exactly one updates the row, the other gets :class:`~xiangchuang.errors.Conflict`.

At each review decision (leaving 初审 or 复审) the engine is re-run on the registry facts of the subject
on that day and a :class:`~xiangchuang.models.Determination` is stored (facts, engine and parameter
versions, the result document), with its difference from the applicant's check-up (the determination
stored when the application was submitted).

Also in the same transaction: passing 复审 lists the application on its district's 公示 batch of the
day (:mod:`~xiangchuang.applications.publicity`), an objection is recorded against that line and an
upheld one takes the line off; submitting checks the required materials
(:mod:`~xiangchuang.applications.attachments`). :func:`create_application` also sets the kind's
``exclusive_key`` (one online-sales subsidy per business ever; one job subsidy per hired person), whose
unique constraint refuses a second live application across periods and employers under concurrency.
Queries live in :mod:`~xiangchuang.applications.repository`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from xiangchuang.applications import calendar, publicity
from xiangchuang.applications import repository as repo
from xiangchuang.applications.attachments import missing_required
from xiangchuang.applications.kinds import KINDS, TOP_UP_KINDS, check_period
from xiangchuang.applications.scope import check_scope
from xiangchuang.applications.workflow import (
    ROLE_LABELS,
    STATE_LABELS,
    Row,
    find_row,
    table_for,
)
from xiangchuang.audit import contains_personal_number, record
from xiangchuang.chinatime import china_date
from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.assemble import SYB_TOP_UP_PERIOD, Facts
from xiangchuang.engine.dates import month_range
from xiangchuang.engine.explain import STATUS_ZH, Explainer
from xiangchuang.engine.facts import Col
from xiangchuang.engine.money import format_fen
from xiangchuang.engine.parameters import ParameterSet, load_parameters
from xiangchuang.engine.programs import BY_ID
from xiangchuang.errors import Conflict, Forbidden, InvalidTransition, RefusalRecorded, ValidationFailed
from xiangchuang.models import Application, Determination, Objection, TransitionLog
from xiangchuang.models.applications import ENDED_STATES
from xiangchuang.outbox.service import enqueue
from xiangchuang.registry import repository as registry_repo
from xiangchuang.registry.assembler import assemble_facts
from xiangchuang.registry.matching import evaluate
from xiangchuang.registry.repository import Scope

MAX_REASON: Final = 500
REVIEW_STAGES: Final = ("first_review", "second_review")
_STATUS_ZH: Final = {**STATUS_ZH, "not_in_registry": "登记库中无此主体", "not_applicable": "不适用本项目"}


@dataclass(frozen=True)
class TransitionResult:
    application: Application
    row: Row
    determination: Determination | None = None
    difference: dict[str, Any] = field(default_factory=dict)  # from the check-up: status / amount


class ApprovalRefused(RefusalRecorded):
    """核准 refused by the determination on the day (:func:`_still_due`): the message names the engine's
    reasons; the determination is kept with the application by :func:`keep_refused_approval` (which
    :func:`xiangchuang.applications.disbursement.act`, the door of every approval, calls once the
    approval's savepoint is rolled back), and the caller commits it (``DomainError.keeps_record``)."""

    def __init__(
        self, message: str, *, application_id: int, determination: dict[str, Any], version: int | None = None
    ) -> None:
        super().__init__(message)
        self.application_id = application_id
        self.determination = determination
        self.version = version  # the application's version the determination was made on
        self.stored_id: int | None = None  # the Determination row, once kept


def _now(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(dt.UTC)


def _check_text(value: str, what: str) -> None:
    if contains_personal_number(value):
        raise ValidationFailed(f"{what}中不得包含身份证号、手机号或银行卡号")


def _check_form(form: Mapping[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> None:
        if isinstance(value, str):
            _check_text(value, "申请表")
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(str(k))
                walk(v)
        elif isinstance(value, list | tuple):
            for v in value:
                walk(v)

    walk(form)
    try:
        return dict(json.loads(json.dumps(dict(form), ensure_ascii=False, allow_nan=False)))
    except (TypeError, ValueError):
        raise ValidationFailed("申请表内容须可保存为 JSON（文字、数字、列表）") from None


def _live_key(kind: str, subject_key: str, period: str) -> str:
    return f"{kind}|{subject_key}|{period}"


def _check_scope(
    app: Application, *, actor: str, role: str, actor_district: int | None, acting: bool
) -> None:
    check_scope(app, actor=actor, role=role, actor_district=actor_district, acting=acting)


def _load(session: Session, application_id: int) -> Application:
    return repo.load(session, application_id)


def exclusive_key(session: Session, kind: str, subject_key: str, period: str | None = None) -> str | None:
    """The key of the notice's once-only rule for this kind and subject (None: no such rule, or the
    hired person is not in the registry — the review will not pass then either). A SYB top-up claim
    (period ``SYB_TOP_UP_PERIOD``) has a key of its own: one top-up per trainee beside the claim."""
    once = KINDS[kind].once_per
    if period == SYB_TOP_UP_PERIOD and kind in TOP_UP_KINDS:
        person = repo.trainee_person_no(session, subject_key)
        return None if person is None else f"{kind}|person:{person}|{SYB_TOP_UP_PERIOD}"
    if once == "subject":
        return f"{kind}|{subject_key}"
    if once == "hired_person":
        person = repo.hired_person_no(session, subject_key)
        return None if person is None else f"{kind}|person:{person}"
    if once == "trainee":
        person = repo.trainee_person_no(session, subject_key)
        return None if person is None else f"{kind}|person:{person}"
    return None


def _check_top_up(session: Session, kind: str, training_no: str) -> None:
    """A top-up claim needs a registered claim of the trainee to top up (whether it is due — less than
    the full amount paid, a business registered in time — is the engine's determination)."""
    person = repo.trainee_person_no(session, training_no)
    if person is None or not repo.has_grant(session, kind, person, exclude_period=SYB_TOP_UP_PERIOD):
        raise ValidationFailed(
            f"补足差额：该学员（{training_no}）没有已享受的「{KINDS[kind].title}」登记，不需要补差，请按培训期次申领"
        )


def _exclusive_message(kind: str, subject_key: str) -> str:
    if KINDS[kind].once_per == "subject":
        return f"该主体（{subject_key}）已有「{KINDS[kind].title}」的有效申请或已享受：同一主体只能享受一次，不能重复申请"
    if KINDS[kind].once_per == "trainee":
        return (
            f"该学员已有「{KINDS[kind].title}」的有效申请或已享受：每类培训补贴每人只能享受一次，不能重复申请"
        )
    return f"该招用人员已有「{KINDS[kind].title}」的有效申请或已享受：同一人员只能享受一次，不能重复申请"


def get_application(
    session: Session, *, application_id: int, actor: str, role: str, actor_district: int | None
) -> Application:
    """One application, if the actor's scope covers it (404 if it does not exist, 403 if out of scope)."""
    app = _load(session, application_id)
    _check_scope(app, actor=actor, role=role, actor_district=actor_district, acting=False)
    return app


def create_application(
    session: Session,
    *,
    kind: str,
    subject_key: str,
    period: str,
    district: int,
    applicant_user: str,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    applicant_person_no: str | None = None,
    form: Mapping[str, Any] | None = None,
    amount_requested_fen: int | None = None,
    street: str | None = None,
    now: dt.datetime | None = None,
) -> Application:
    """A draft application (by the applicant, or by a window clerk on the applicant's behalf — 事务代办).

    The subject's live application for the same kind and period is unique in the database: a second one
    gets :class:`Conflict` (also when both are created at the same time)."""
    at = _now(now)
    if kind not in KINDS:
        raise ValidationFailed(f"申请类型 {kind!r} 不存在")
    subject_key, period = subject_key.strip(), period.strip()
    if not subject_key or len(subject_key) > 64:
        raise ValidationFailed(f"申请主体编号（{KINDS[kind].subject_key}）不能为空，且不超过 64 个字符")
    if not period or len(period) > 20:
        raise ValidationFailed("申请期间不能为空，且不超过 20 个字符")
    period = check_period(kind, period)  # (the engine evaluates it: in the kind's convention)
    _check_text(subject_key, "申请主体编号")
    if amount_requested_fen is not None and amount_requested_fen < 0:
        raise ValidationFailed("申请金额不能为负数")
    street = (street or "").strip() or None
    if street is not None and len(street) > 60:
        raise ValidationFailed("街道/乡镇名称不超过 60 个字符")
    if role == "applicant":
        if actor != applicant_user:
            raise Forbidden("申请人只能为本人创建申请；代办请由街道/乡镇经办创建")
    elif role == "window_clerk":
        if actor_district != district:
            raise Forbidden(f"无权为其他区县（{district}）的主体代办申请")
    else:
        raise Forbidden(f"{ROLE_LABELS.get(role, role)}不能创建申请")
    body = _check_form(form or {})
    if period == SYB_TOP_UP_PERIOD:
        _check_top_up(session, kind, subject_key)
    exclusive = exclusive_key(session, kind, subject_key, period)
    app = Application(
        application_no=f"SQ{china_date(at):%Y%m%d}{secrets.token_hex(5).upper()}",
        kind=kind,
        subject_table=KINDS[kind].subject_table,
        subject_key=subject_key,
        period=period,
        district=district,
        street=street,
        state="draft",
        live_key=_live_key(kind, subject_key, period),
        exclusive_key=exclusive,
        applicant_user=applicant_user,
        applicant_person_no=applicant_person_no,
        created_by=actor,
        on_behalf=role == "window_clerk",
        form=body,
        amount_requested_fen=amount_requested_fen,
        version=1,
    )
    try:
        with session.begin_nested():
            session.add(app)
            session.flush()
    except IntegrityError as exc:
        if exclusive is not None and "exclusive_key" in str(exc.orig):
            raise Conflict(_exclusive_message(kind, subject_key)) from None
        raise Conflict(
            f"该主体（{subject_key}）已有「{KINDS[kind].title}」{period} 期间的有效申请，不能重复申请"
        ) from None
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=district,
        action="application.create",
        subject=f"applications:{app.application_no}",
        details={"kind": kind, "on_behalf": app.on_behalf},
        at=at,
    )
    return app


def submit(
    session: Session,
    *,
    application_id: int,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Submit a draft (a window clerk submitting is recorded as 代办); stores the check-up determination."""
    return transition(
        session,
        application_id=application_id,
        action="submit",
        actor=actor,
        role=role,
        actor_district=actor_district,
        audit_key=audit_key,
        now=now,
        params=params,
        expected_version=expected_version,
    )


def transition(
    session: Session,
    *,
    application_id: int,
    action: str,
    actor: str,
    role: str,
    actor_district: int | None,
    audit_key: bytes,
    reason: str | None = None,
    now: dt.datetime | None = None,
    params: ParameterSet | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Move one application by one row of its kind's table (see the module docstring for the checks)."""
    at = _now(now)
    today = china_date(at)
    app = _load(session, application_id)
    _check_scope(app, actor=actor, role=role, actor_district=actor_district, acting=True)
    if expected_version is not None and expected_version != app.version:
        raise Conflict("申请已被他人处理（版本已变化），请刷新后重试")
    row = find_row(app.kind, app.state, action)
    if row is None:
        raise InvalidTransition(
            f"申请当前状态为「{STATE_LABELS[app.state]}」，不能执行「{_action_label(app.kind, action)}」"
        )
    if role not in row.roles:
        raise Forbidden(f"{ROLE_LABELS[role]}不能执行「{row.staff_label}」")
    reason = (reason or "").strip() or None
    if reason is not None:
        if len(reason) > MAX_REASON:
            raise ValidationFailed(f"原因不超过 {MAX_REASON} 个字符")
        _check_text(reason, "原因")

    determination: dict[str, Any] | None = None
    if app.state in REVIEW_STAGES or row.action in ("submit", "resubmit", "confirm"):
        determination = determine(session, app, on=today, params=params or load_parameters())
    for guard in row.guards:
        _check_guard(
            guard, session=session, app=app, row=row, reason=reason, today=today, determination=determination
        )
    if row.action == "approve":
        _still_due(session, app, today=today, params=params or load_parameters())

    seen = app.version
    values: dict[str, Any] = {"state": row.to_state, "version": seen + 1}
    if row.to_state in ENDED_STATES:
        values["live_key"] = None
        values["exclusive_key"] = None
    if row.action in ("submit", "resubmit", "confirm"):
        values["submitted_by"] = actor
        values["on_behalf"] = role == "window_clerk"
    if row.action == "return":
        values["return_note"] = reason
    if row.action in ("refuse", "reject"):
        values["decision_reason"] = reason
    line = None
    if row.to_state == "publicity" and row.from_state == "second_review":
        amount = None if determination is None else determination["amount_fen"]
        line = publicity.list_application(
            session, app=app, today=today, amount_fen=amount, actor=actor, at=at
        )
        batch = repo.publicity_batch(session, batch_id=line.batch_id)
        values["publicity_start"] = batch.start_date
        values["publicity_end"] = batch.end_date
    if row.action == "approve":
        values["amount_approved_fen"] = repo.latest_amount(session, app.id)
    result = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == seen)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise Conflict("申请已被他人同时处理，本次操作未生效，请刷新后重试")

    stored: Determination | None = None
    difference: dict[str, Any] = {}
    if determination is not None:
        stage = app.state if app.state in REVIEW_STAGES else "checkup"
        if stage != "checkup":
            difference = _difference(session, app.id, determination)
            determination["result"]["difference_from_checkup"] = difference
        stored = Determination(application_id=app.id, stage=stage, **determination)
        session.add(stored)
    if row.action == "object":
        current = repo.current_line(session, app.id)
        session.add(
            Objection(
                application_id=app.id,
                text=reason or "",
                raised_by=actor,
                raised_at=at,
                publicity_line_id=None if current is None else current.id,
            )
        )
    if row.action == "review_again":
        publicity.withdraw_line(session, app)
    if row.action in ("dismiss_objection", "review_again"):
        session.execute(
            update(Objection)
            .where(Objection.application_id == app.id, Objection.resolved_at.is_(None))
            .values(resolved_at=at, resolved_by=actor, resolution=reason)
        )
    repo.append_transition(
        session,
        TransitionLog(
            application_id=app.id,
            from_state=row.from_state,
            action=row.action,
            to_state=row.to_state,
            actor=actor,
            role=role,
            reason=reason,
            at=at,
        ),
    )
    session.flush()
    _notify(session, app, row, reason)
    details: dict[str, Any] = {
        "kind": app.kind,
        "from": row.from_state,
        "to": row.to_state,
        "on_behalf": role == "window_clerk" and row.action in ("submit", "resubmit"),
        "reason_given": reason is not None,
    }
    if line is not None:
        details["publicity_line"] = line.id
    if stored is not None:
        details["determination"] = stored.status
        if difference:
            details["difference"] = sorted(difference)
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action=f"application.{row.action}",
        subject=f"applications:{app.application_no}",
        details=details,
        at=at,
    )
    session.refresh(app)
    return TransitionResult(application=app, row=row, determination=stored, difference=difference)


def _action_label(kind: str, action: str) -> str:
    for r in table_for(kind):
        if r.action == action:
            return r.staff_label
    return action


def _check_guard(
    guard: str,
    *,
    session: Session,
    app: Application,
    row: Row,
    reason: str | None,
    today: dt.date,
    determination: dict[str, Any] | None,
) -> None:
    if guard == "reason_required":
        if reason is None:
            raise ValidationFailed(f"「{row.staff_label}」须填写原因或说明")
    elif guard == "determination_eligible":
        status = determination["status"] if determination else "not_in_registry"
        if status != "eligible":
            why = refusal_reasons(determination["result"]) if determination else ""
            raise InvalidTransition(
                f"按登记库当前数据复核，结论为「{_STATUS_ZH.get(status, status)}」"
                f"{f'（{why}）' if why else ''}，不能审核通过：请退回补正或不予批准"
            )
    elif guard == "publicity_over":
        if app.publicity_end is None or today <= app.publicity_end:
            end = app.publicity_end.isoformat() if app.publicity_end else "—"
            raise InvalidTransition(
                f"公示期至 {end} 止（{calendar.publicity_working_days(app.publicity_end)}个工作日），期满后方可核准"
            )
    elif guard == "objections_resolved":
        open_count = repo.open_objections(session, app.id)
        if open_count:
            raise InvalidTransition(f"尚有 {open_count} 条公示异议未处理，处理完毕后方可核准")
    elif guard == "materials_complete":
        missing = missing_required(session, app)
        if missing:
            first = missing[0]
            more = f"等 {len(missing)} 项" if len(missing) > 1 else ""
            raise ValidationFailed(f"缺少必需材料「{first.label}」{more}（{first.rule}），请上传后再提交")
    elif guard in ("invitation_open", "invitation_expired"):
        invitation = repo.invitation_of(session, app.id)
        expires = invitation.expires_on if invitation is not None else None
        if guard == "invitation_open" and (expires is None or today > expires):
            raise InvalidTransition(f"申请邀请已于 {expires} 过期，不能再确认；如仍需申请，请重新提交申请")
        if guard == "invitation_expired" and (expires is None or today <= expires):
            raise InvalidTransition(f"申请邀请有效期至 {expires}，尚未过期")
    else:  # pragma: no cover - the table only names known guards (tested)
        raise AssertionError(f"unknown guard {guard}")


def _difference(session: Session, application_id: int, now: dict[str, Any]) -> dict[str, Any]:
    """How this review's determination differs from the check-up (status and amount, old → new)."""
    checkup = repo.latest_checkup(session, application_id)
    if checkup is None:
        return {"checkup": "missing"}
    status, amount = checkup
    out: dict[str, Any] = {}
    if status != now["status"]:
        out["status"] = {"checkup": status, "now": now["status"]}
    if amount != now["amount_fen"]:
        out["amount_fen"] = {"checkup": amount, "now": now["amount_fen"]}
    return out


def _scope(session: Session, table: str, key: str) -> Scope | None:
    conn = session.connection()
    pk = registry_repo.subject_pk(conn, table, key)
    if pk is None:
        return None
    if table == "businesses":
        return Scope(business_ids=(pk,))
    if table == "hires":
        return Scope(business_ids=(registry_repo.employment_business(conn, pk),))
    if table == "persons":
        return Scope(person_ids=(pk,))
    if table == "trainings":  # a training record: its trainee (the assembler reads their trainings)
        return Scope(person_ids=(registry_repo.training_person(conn, pk),))
    if table == "onjob_trainings":
        return Scope(onjob_ids=(pk,))
    if table == "mentor_services":
        return Scope(mentor_service_ids=(pk,))
    return Scope(carrier_ids=(pk,))


def _snapshot(facts: Facts) -> dict[str, Any]:
    """The registry facts as read (before the engine derives anything): unknown → null."""
    out: dict[str, Any] = {}
    for name, table in facts.tables.items():
        cols: dict[str, Any] = {}
        for col_name, col in table.cols.items():
            values = col.values.tolist()
            known = np.asarray(col.known).tolist()
            cols[col_name] = [v if k else None for v, k in zip(values, known, strict=True)]
        out[name] = {"n": table.n, "columns": cols}
    return dict(json.loads(json.dumps(out, default=str)))


def _claim_period_facts(session: Session, facts: Facts, app: Application) -> None:
    """The application's own claim period as the engine's facts of its subject: the social-insurance
    subsidy's claim months (``hires.si_period_start``/``si_period_end``), the startup subsidy's claim
    year and the workshop award's award year (``businesses.claim_year``, which both read), the carrier
    award's award year with the carrier's 等次 of that year (``carriers.award_year``/``rating``: the
    registry's rating of the year claimed, unknown when none is recorded — README choice 87; the
    assembler's own is that of the last completed year, which a review or an approval in a later
    year would otherwise judge). Without them the engine would evaluate its default period
    whatever the application claims. A period the engine cannot read (an application made before
    periods were checked), or none at all (the applicant's own check-up, which has no application
    yet), is left out: the engine's default applies, as for a match."""
    values: dict[str, int | None]
    if app.period is None:
        return
    if app.kind == "social_insurance_subsidy":
        months = month_range(app.period)
        if months is None:
            return
        table, values = facts.tables["hires"], {"si_period_start": months[0], "si_period_end": months[1]}
    elif app.kind in ("startup_subsidy", "workshop_award", "carrier_award"):  # (the claim / award year)
        text = app.period.strip()
        if not (len(text) == 4 and text.isdigit()):
            return
        year = int(text)
        if app.kind == "carrier_award":
            rating = registry_repo.carrier_rating(session.connection(), app.subject_key, year)
            table, values = facts.tables["carriers"], {"award_year": year, "rating": rating}
        else:
            table, values = facts.tables["businesses"], {"claim_year": year}
    else:
        return
    ids = table.cols.get("id")
    if ids is None or not table.n:
        return
    rows = np.asarray(ids.values == app.subject_key, dtype=bool)
    for name, value in values.items():
        col = table[name]
        got: Any = np.array(col.values, copy=True)
        known = np.array(col.known, dtype=bool, copy=True)
        if value is not None:
            got[rows] = value
        known[rows] = value is not None
        table.cols[name] = Col(got, known)


def determine(session: Session, app: Application, *, on: dt.date, params: ParameterSet) -> dict[str, Any]:
    """The engine's result for the application's subject and program on ``on``, as a Determination row:
    the engine evaluates the application's own claim period (:func:`_claim_period_facts`)."""
    base = {"on": on, "engine_version": ENGINE_VERSION, "parameters_version": params.version[:80]}
    program = BY_ID[app.kind]
    scope = _scope(session, app.subject_table, app.subject_key)
    missing = {
        **base,
        "status": "not_in_registry",
        "amount_fen": None,
        "facts": {},
        "result": {
            "program": app.kind,
            "status": "not_in_registry",
            "message": "登记库中没有该主体，无法自动判定",
        },
    }
    if scope is None:
        return missing
    facts = assemble_facts(session, on=on, district=None, subjects=scope)
    _claim_period_facts(session, facts, app)
    snapshot = _snapshot(facts)
    outcomes = evaluate(facts, on=on, params=params, programs=(program,))
    if not outcomes:
        return {**missing, "facts": snapshot}
    outcome = outcomes[0]
    rows = np.flatnonzero(outcome.ctx.t["id"].values == app.subject_key)
    if not rows.size:
        return {**missing, "facts": snapshot}
    if not outcome.applies[int(rows[0])]:
        # The subject is in the registry but is not what the program is about (e.g. rent reduction for a
        # business that is not a carrier's tenant): a known "not this program", not an engine failure.
        return {
            **base,
            "status": "not_applicable",
            "amount_fen": None,
            "facts": snapshot,
            "result": {
                "program": app.kind,
                "status": "not_applicable",
                "message": f"该主体不属于「{program.title}」的适用对象",
            },
        }
    doc = Explainer(params).program(outcome, int(rows[0]))
    doc["engine_version"] = ENGINE_VERSION
    doc["parameters_version"] = params.version
    doc = dict(json.loads(json.dumps(doc, ensure_ascii=False, default=str)))
    amount = doc.get("amount_fen")
    return {
        **base,
        "status": str(doc["status"]),
        "amount_fen": None if amount is None else int(amount),
        "facts": snapshot,
        "result": doc,
    }


def _still_due(session: Session, app: Application, *, today: dt.date, params: ParameterSet) -> None:
    """核准 determines the application again on the day, against the registry as it is then: what
    was granted since the second review (another application of the same subject approved meanwhile,
    an imported register entry) counts before this one is approved, so nothing is paid twice (the
    social-insurance months of two overlapping claims, a year claimed twice). Approval is refused
    unless the engine still finds it eligible for at least the amount reviewed and publicised (the
    amount approved stays the one publicised: a higher figure on the day is not approved unseen).
    The refusal (:class:`ApprovalRefused`) names the engine's reasons (:func:`refusal_reasons`) and
    carries the day's determination, which is kept with the application (README choice 88)."""
    reviewed = repo.latest_amount(session, app.id)
    now = determine(session, app, on=today, params=params)
    amount = now["amount_fen"]
    if now["status"] == "eligible" and amount is not None and (reviewed is None or amount >= reviewed):
        return
    verdict = _STATUS_ZH.get(now["status"], now["status"])
    if now["status"] == "eligible" and amount is not None:
        verdict += f" {format_fen(amount)}"
    why = refusal_reasons(now["result"])
    raise ApprovalRefused(
        f"核准前按登记库当前数据（{today.isoformat()}）重新判定，结论为「{verdict}」"
        f"{f'（{why}）' if why else ''}，与复审并公示的"
        f"{'「符合」' if reviewed is None else f'「符合 {format_fen(reviewed)}」'}不一致，不能核准"
        "（本次判定已随申请保存）："
        "请登记公示异议并选择「异议成立，重新复审」，按当前数据重新判定",
        application_id=app.id,
        determination=now,
        version=app.version,
    )


def refusal_reasons(result: Mapping[str, Any]) -> str:
    """Why the engine's result document is not the one reviewed, in the engine's own words: for an
    eligible result (a lower amount) its amount rule first (the parts and what each lacks); the
    messages of its conditions that do not pass (failed or unknown; a ground of an 「之一」 group only
    where no ground of the group passes, or where the amount is what differs — a ground that does not
    pass may be a part not paid; where another ground holds, an either/or route not taken, such as the
    online-sales orders route of a business qualifying by sales, is no reason); then the facts it misses by their Chinese
    labels (``missing``: why it is 待定; those a condition's message does not already name); a result
    without conditions (not in the registry, not applicable) by its message."""
    parts: list[str] = []
    if result.get("status") == "eligible" and result.get("amount_rule"):
        parts.append(f"金额：{result['amount_rule']}")
    conds = result.get("conditions") or []
    eligible = result.get("status") == "eligible"
    met = {c.get("group") for c in conds if c.get("group") and c.get("status") == "pass"}
    parts += [
        str(c.get("message") or c.get("id"))
        for c in conds
        if c.get("status") != "pass" and (eligible or c.get("group") not in met)
    ]
    said = "；".join(parts)
    missing = [
        label
        for label in (str(m.get("label") or m.get("fact")) for m in result.get("missing") or [])
        if label not in said  # (a condition's own message already names it: not twice)
    ]
    if missing:
        parts.append(f"尚缺：{'、'.join(missing)}")
    if not parts and result.get("status") != "eligible" and result.get("message"):
        parts.append(str(result["message"]))
    return "；".join(parts)


def keep_refused_approval(
    session: Session,
    refused: ApprovalRefused,
    *,
    actor: str,
    role: str,
    audit_key: bytes,
    now: dt.datetime | None = None,
) -> Determination:
    """Store a refused approval's determination with the application (stage ``approval``) and an audit
    entry (``application.approve_refused``, outcome denied) that names it; the application stays where
    it was. In the caller's transaction (which commits it: ``DomainError.keeps_record``).

    The application's row is read again under a row lock (PostgreSQL; SQLite's writer already holds
    the database): where another transaction has acted on it since this one read it (its version
    moved on: e.g. approved it, so that this determination saw that approval's own grant), nothing
    is kept and :class:`Conflict` is raised instead — a refusal recorded against an application
    already approved would be false evidence."""
    at = _now(now)
    app = session.execute(
        select(Application)
        .where(Application.id == refused.application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if refused.version is not None and app.version != refused.version:
        raise Conflict(
            f"申请 {app.application_no} 已由他人办理（当前状态「{STATE_LABELS.get(app.state, app.state)}」），"
            "本次核准未执行，重新判定也未保存：请刷新后查看"
        )
    stored = Determination(application_id=app.id, stage="approval", **refused.determination)
    session.add(stored)
    session.flush()
    refused.stored_id = stored.id
    record(
        session,
        key=audit_key,
        actor=actor,
        actor_role=role,
        district=app.district,
        action="application.approve_refused",
        subject=f"applications:{app.application_no}",
        outcome="denied",
        details={
            "kind": app.kind,
            "state": app.state,
            "determination_id": stored.id,
            "determination": stored.status,
            "amount_fen": stored.amount_fen,
        },
        at=at,
    )
    return stored


def _notify(session: Session, app: Application, row: Row, reason: str | None) -> None:
    payload: dict[str, Any] = {
        "application_no": app.application_no,
        "kind": app.kind,
        "title": KINDS[app.kind].title,
        "state": row.to_state,
        "state_label": STATE_LABELS[row.to_state],
        "message": row.applicant_label,
    }
    if reason is not None and row.action in ("return", "refuse", "reject"):
        payload["reason"] = reason
    enqueue(session, template=f"application.{row.to_state}", payload=payload, user=app.applicant_user)
    next_roles = sorted(
        {r for nxt in table_for(app.kind) if nxt.from_state == row.to_state for r in nxt.roles}
        - {"applicant"}
    )
    for role in next_roles:
        enqueue(
            session,
            template="application.task",
            payload={
                **payload,
                "message": f"待办：{KINDS[app.kind].title}申请 {app.application_no}（{STATE_LABELS[row.to_state]}）",
            },
            role=role,
            district=app.district,
        )
