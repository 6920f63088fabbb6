"""Entrepreneur pages (``/my``): my business and records (masked), a check-up on my registry data, apply
step by step (program → answers → materials → check your answers → confirmation), my applications with
their timeline and messages, answering 退回补正, and 免申即享 invitations. Routes only call services;
the applicant's actor id is the registry person number (:mod:`xiangchuang.web.workbench`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from xiangchuang.applications import attachments, disbursement, drafts, service
from xiangchuang.applications import repository as repo
from xiangchuang.applications.kinds import KINDS, Kind
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.checkup.service import PUBLIC_STATUS
from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.errors import DomainError, NotFound, ValidationFailed
from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import Application, Business, User
from xiangchuang.outbox.service import inbox
from xiangchuang.web import workbench as wb
from xiangchuang.web.deps import MAX_ROW_ID, AppState, SessionDep, StateDep, current_params, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
Applicant = Annotated[User, Depends(require_role("applicant"))]
MAX_UPLOAD = 20 * 1024 * 1024
# The subjects an applicant account applies for online: its business and its person (the other kinds —
# carriers, trainings, mentor services, hires — are made by the organisation or at the window).
SELF_SERVICE_TABLES = ("businesses", "persons")


def parse_yuan(text: str | None, field: str = "申请金额") -> int | None:
    """Yuan as typed (``12,000.50``) → fen; empty → None."""
    raw = (text or "").replace(",", "").replace("，", "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValidationFailed(f"{field}：须为金额数字，如 10000 或 10000.50") from None
    if value < 0 or value != value.quantize(Decimal("0.01")) or value > Decimal("100000000"):
        raise ValidationFailed(f"{field}：须为不超过 1 亿元的非负金额，最多两位小数")
    return int(value * 100)


def form_answers(description: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if description and description.strip():
        if len(description) > 1000:
            raise ValidationFailed("情况说明：不超过 1000 个字符")
        out["description"] = description.strip()
    return out


def my_subjects(db: Session, user: User) -> dict[str, str]:
    """subject table → the subject key this account applies for."""
    out: dict[str, str] = {}
    person = wb.applicant_person(db, user)
    if person is not None:
        out["persons"] = person.person_no
    if user.business_id is not None:
        business = db.get(Business, user.business_id)
        if business is not None:
            out["businesses"] = business.business_no
    return out


def _mine(db: Session, user: User, application_id: int) -> Application:
    actor = wb.applicant_actor(db, user)
    return service.get_application(
        db, application_id=application_id, actor=actor, role="applicant", actor_district=None
    )


def registry_checkup(db: Session, state: AppState, user: User, on: dt.date) -> dict[str, Any]:
    """The engine on the applicant's registry facts: one result per self-service program, the same
    document shape as the public check-up."""
    subjects = my_subjects(db, user)
    programs = []
    for kind in KINDS.values():
        key = subjects.get(kind.subject_table)
        if key is None:
            continue
        probe = Application(kind=kind.id, subject_table=kind.subject_table, subject_key=key)
        det = service.determine(db, probe, on=on, params=current_params(state, db))
        result = dict(det["result"])
        if result.get("status") not in PUBLIC_STATUS:
            continue
        programs.append(result)
    return {
        "on": on.isoformat(),
        "engine_version": ENGINE_VERSION,
        "parameters_version": current_params(state, db).version,
        "programs": programs,
    }


@router.get("/my")
def my_home(request: Request, db: SessionDep, state: StateDep, user: Applicant) -> Response:
    actor = wb.applicant_actor(db, user)
    person = wb.applicant_person(db, user)
    business = db.get(Business, user.business_id) if user.business_id is not None else None
    p = wb.pii(state)
    record: dict[str, Any] = {}
    if person is not None:
        record = {
            "name": mask_name_middle(person.name),
            "id_number": p.masked_id(person.id_number_enc),
            "phone": p.masked_phone(person.phone_enc) or "—",
            "bank": p.masked_bank(person.bank_account_enc) or "未登记",
            "person_no": person.person_no,
        }
    apps = repo.work_queue(
        db, actor=actor, role="applicant", actor_district=None, sort="created", descending=True, page_size=100
    ).items
    return render(
        request,
        "applicant/home.html",
        {
            "record": record,
            "business": business,
            "apps": [a for a in apps if a.state != "invited"],
            "invitations": [a for a in apps if a.state == "invited"],
            "labels": STATE_LABELS,
            "kinds": KINDS,
            "yuan": wb.yuan,
        },
    )


@router.get("/my/checkup")
def my_checkup(request: Request, db: SessionDep, state: StateDep, user: Applicant) -> Response:
    doc = registry_checkup(db, state, user, wb.china_day(wb.clock(request)))
    return render(request, "applicant/checkup.html", {"doc": doc, "public_status": PUBLIC_STATUS})


@router.get("/my/messages")
def my_messages(request: Request, db: SessionDep, user: Applicant) -> Response:
    items = inbox(db, user=wb.applicant_actor(db, user), limit=100)
    return render(request, "applicant/messages.html", {"items": items})


# --- apply ---------------------------------------------------------------------------------------------


@router.get("/my/apply")
def apply_choose(request: Request, db: SessionDep, user: Applicant) -> Response:
    subjects = my_subjects(db, user)
    kinds = [
        k for k in KINDS.values() if k.subject_table in SELF_SERVICE_TABLES and k.subject_table in subjects
    ]
    return render(request, "applicant/choose.html", {"kinds": kinds})


def _kind(kind_id: str) -> Kind:
    kind = KINDS.get(kind_id)
    if kind is None or kind.subject_table not in SELF_SERVICE_TABLES:
        raise NotFound(f"申请类型 {kind_id} 不存在或不能在网上自助申请")
    return kind


def _answers_page(
    request: Request, kind: Kind, values: dict[str, Any], error: str | None, app: Application | None = None
) -> Response:
    return render(
        request,
        "applicant/answers.html",
        {
            "kind": kind,
            "v": values,
            "error": error,
            "app": app,
            "steps": STEPS,
            "step": 1,
            "districts": wb.district_options(),
        },
        status=422 if error else 200,
    )


STEPS = ("填写申请信息", "上传材料", "核对信息", "提交完成")


@router.get("/my/apply/{kind_id}")
def apply_form(kind_id: str, request: Request, user: Applicant) -> Response:
    kind = _kind(kind_id)
    period = kind.fixed_period or str(wb.china_day(wb.clock(request)).year - 1)
    return _answers_page(request, kind, {"period": period}, None)


@router.post("/my/apply/{kind_id}")
def apply_create(
    kind_id: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Applicant,
    period: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=20)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
    district: Annotated[str, Form(max_length=6)] = "",
) -> Response:
    kind = _kind(kind_id)
    values = {"period": period, "amount": amount, "description": description, "district": district}
    subject = my_subjects(db, user).get(kind.subject_table)
    if subject is None:
        return _answers_page(request, kind, values, "您的账号没有关联可申请该项目的主体")
    try:
        with db.begin_nested():
            actor = wb.applicant_actor(db, user)
            app = service.create_application(
                db,
                kind=kind.id,
                subject_key=subject,
                period=period,
                district=wb.applicant_district(db, user, on=wb.china_day(wb.clock(request)), chosen=district),
                applicant_user=actor,
                applicant_person_no=actor,
                actor=actor,
                role="applicant",
                actor_district=None,
                audit_key=state.audit_key,
                form=form_answers(description),
                amount_requested_fen=parse_yuan(amount),
                now=wb.clock(request),
            )
    except DomainError as exc:
        return _answers_page(request, kind, values, exc.message)
    return RedirectResponse(f"/my/applications/{app.id}/materials", status_code=303)


@router.get("/my/applications/{application_id}/edit")
def edit_form(application_id: int, request: Request, db: SessionDep, user: Applicant) -> Response:
    app = _mine(db, user, application_id)
    values = {
        "period": app.period,
        "amount": "" if app.amount_requested_fen is None else f"{app.amount_requested_fen / 100:.2f}",
        "description": (app.form or {}).get("description", ""),
    }
    return _answers_page(request, KINDS[app.kind], values, None, app)


@router.post("/my/applications/{application_id}/edit")
def edit_save(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Applicant,
    amount: Annotated[str, Form(max_length=20)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    app = _mine(db, user, application_id)
    values = {"period": app.period, "amount": amount, "description": description}
    try:
        with db.begin_nested():
            drafts.update_answers(
                db,
                application_id=app.id,
                form=form_answers(description),
                amount_requested_fen=parse_yuan(amount),
                audit_key=state.audit_key,
                now=wb.clock(request),
                **wb.actor_for(db, user).kw(),
            )
    except DomainError as exc:
        return _answers_page(request, KINDS[app.kind], values, exc.message, app)
    return RedirectResponse(f"/my/applications/{app.id}/materials", status_code=303)


def _materials_page(
    request: Request, db: Session, app: Application, error: str | None = None, base: str = "/my/applications"
) -> Response:
    return render(
        request,
        "applicant/materials.html",
        {
            "app": app,
            "kind": KINDS[app.kind],
            "materials": wb.materials(db, app),
            "error": error,
            "steps": STEPS,
            "step": 2,
            "base": base,
            "uploaded": request.query_params.get("uploaded"),
        },
        status=422 if error else 200,
    )


@router.get("/my/applications/{application_id}/materials")
def materials_page(application_id: int, request: Request, db: SessionDep, user: Applicant) -> Response:
    return _materials_page(request, db, _mine(db, user, application_id))


async def upload_files(request: Request) -> list[tuple[str, str, bytes]]:
    """(material id, file name, content) for every non-empty file field named ``file_<material>``."""
    form = await request.form()
    out = []
    for name, value in form.multi_items():
        if name.startswith("file_") and isinstance(value, UploadFile) and value.filename:
            content = await value.read(MAX_UPLOAD + 1)
            out.append((name[5:], value.filename, content))
    return out


@router.post("/my/applications/{application_id}/materials")
async def materials_upload(
    application_id: int, request: Request, db: SessionDep, state: StateDep, user: Applicant
) -> Response:
    files = await upload_files(request)
    return await run_in_threadpool(
        store_uploads, request, db, state, user, application_id, files, "/my/applications"
    )


def store_uploads(
    request: Request,
    db: Session,
    state: AppState,
    user: User,
    application_id: int,
    files: list[tuple[str, str, bytes]],
    base: str,
) -> Response:
    """Store the uploaded files (all or none); back to the materials page (with the error, if any)."""
    actor = wb.actor_for(db, user)
    app = service.get_application(db, application_id=application_id, **actor.kw())
    if not files:
        return _materials_page(request, db, app, "请选择要上传的文件", base)
    try:
        with db.begin_nested():
            for material, filename, content in files:
                if len(content) > MAX_UPLOAD:
                    raise ValidationFailed(f"{filename}：文件超过 {MAX_UPLOAD // 1024 // 1024} MB")
                attachments.upload(
                    db,
                    application_id=app.id,
                    material=material,
                    filename=filename,
                    content=content,
                    audit_key=state.audit_key,
                    data_dir=state.settings.data_dir,
                    now=wb.clock(request),
                    **actor.kw(),
                )
    except DomainError as exc:
        return _materials_page(request, db, app, exc.message, base)
    return RedirectResponse(f"{base}/{app.id}/materials?uploaded={len(files)}", status_code=303)


@router.get("/my/applications/{application_id}/review")
def review_page(application_id: int, request: Request, db: SessionDep, user: Applicant) -> Response:
    app = _mine(db, user, application_id)
    return render(
        request,
        "applicant/review.html",
        {
            "app": app,
            "kind": KINDS[app.kind],
            "materials": wb.materials(db, app),
            "missing": attachments.missing_required(db, app),
            "subject": wb.subject_label(db, app),
            "yuan": wb.yuan,
            "steps": STEPS,
            "step": 3,
            "error": None,
        },
    )


@router.post("/my/applications/{application_id}/act")
def act(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Applicant,
    action: Annotated[str, Form(max_length=30)],
    version: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    """The applicant's moves: submit / resubmit / withdraw, and confirm / decline an invitation."""
    app = _mine(db, user, application_id)
    if action not in ("submit", "resubmit", "withdraw", "confirm", "decline"):
        raise ValidationFailed(f"操作 {action!r} 不正确")
    try:
        disbursement.act(
            db,
            application_id=app.id,
            action=action,
            audit_key=state.audit_key,
            now=wb.clock(request),
            params=current_params(state, db),
            expected_version=version,
            **wb.actor_for(db, user).kw(),
        )
    except DomainError as exc:
        db.refresh(app)
        return render(
            request,
            "applicant/review.html",
            {
                "app": app,
                "kind": KINDS[app.kind],
                "materials": wb.materials(db, app),
                "missing": attachments.missing_required(db, app),
                "subject": wb.subject_label(db, app),
                "yuan": wb.yuan,
                "steps": STEPS,
                "step": 3,
                "error": exc.message,
            },
            status=exc.status,
        )
    if action in ("submit", "resubmit", "confirm"):
        return RedirectResponse(f"/my/applications/{app.id}/done", status_code=303)
    return RedirectResponse(f"/my/applications/{app.id}", status_code=303)


@router.get("/my/applications/{application_id}/done")
def done(application_id: int, request: Request, db: SessionDep, user: Applicant) -> Response:
    app = _mine(db, user, application_id)
    return render(
        request, "applicant/done.html", {"app": app, "kind": KINDS[app.kind], "steps": STEPS, "step": 4}
    )


@router.get("/my/applications/{application_id}")
def application_page(application_id: int, request: Request, db: SessionDep, user: Applicant) -> Response:
    app = _mine(db, user, application_id)
    actor = wb.applicant_actor(db, user)
    messages = [
        m for m in inbox(db, user=actor, limit=200) if m.payload.get("application_no") == app.application_no
    ]
    return render(
        request,
        "applicant/application.html",
        {
            "app": app,
            "kind": KINDS[app.kind],
            "label": STATE_LABELS[app.state],
            "timeline": wb.timeline(db, app, audience="applicant"),
            "materials": wb.materials(db, app),
            "actions": wb.actions_for(app, "applicant"),
            "messages": messages,
            "subject": wb.subject_label(db, app),
            "yuan": wb.yuan,
            "invitation": repo.invitation_of(db, app.id) if app.state == "invited" else None,
        },
    )
