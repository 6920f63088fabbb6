"""Street / district staff pages (``/staff``) and district finance (``/finance``).

- the work queue (scoped by :func:`~xiangchuang.applications.repository.work_queue`: own district;
  filters, sorting, paging) with batch actions (the same transition on several applications, each in a
  savepoint: the ones the table allows move, the others are listed with the reason);
- an application page: materials (download audited), the stored determinations with their
  explanation and the difference from the applicant's check-up, and one button per allowed
  transition (a reason field where the guard needs one). 核准 reserves the budget in the ledger in the
  same transaction;
- publicity batches (staff view, Excel export); 政策找人 runs → invitations; acting on behalf of an
  applicant (代办: the clerk creates the application for a registry business of the district);
- finance: open budget, approved applications → disbursement batch (拨付中), run it, bank file, confirm.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from xiangchuang import ledger
from xiangchuang.applications import attachments, disbursement, invitations, publicity, service
from xiangchuang.applications import repository as repo
from xiangchuang.applications.kinds import KINDS
from xiangchuang.applications.workflow import ACTION_LABELS, IN_KIND_KINDS, STATE_LABELS, find_row
from xiangchuang.errors import Conflict, DomainError, NotFound, ValidationFailed
from xiangchuang.models import (
    Application,
    Business,
    DisbursementBatch,
    DisbursementItem,
    MatchRun,
    PublicityBatch,
    User,
)
from xiangchuang.web import workbench as wb
from xiangchuang.web.deps import MAX_ROW_ID, SessionDep, StateDep, current_params, require_role, row_ids
from xiangchuang.web.pages_applicant import parse_yuan, store_uploads, upload_files
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
Staff = Annotated[
    User, Depends(require_role("window_clerk", "district_reviewer", "district_finance", "city_admin"))
]
Clerk = Annotated[User, Depends(require_role("window_clerk"))]
Reviewer = Annotated[User, Depends(require_role("district_reviewer"))]
Finance = Annotated[User, Depends(require_role("district_finance"))]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def queue_filter(request: Request) -> repo.QueueFilter:
    q = request.query_params
    return repo.QueueFilter(
        states=tuple(s for s in q.getlist("state") if s),
        kinds=tuple(k for k in q.getlist("kind") if k),
        subject_key=q.get("subject") or None,
        application_no=q.get("no") or None,
        on_behalf={"1": True, "0": False}.get(q.get("on_behalf", "")),
    )


def _int(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and len(text) < 7 else default


@router.get("/staff/queue")
def queue(request: Request, db: SessionDep, user: Staff) -> Response:
    actor = wb.actor_for(db, user)
    q = request.query_params
    page = repo.work_queue(
        db,
        **actor.kw(),
        filters=queue_filter(request),
        sort=q.get("sort", "created"),
        descending=q.get("desc") == "1",
        page=_int(q.get("page"), 1),
        page_size=min(_int(q.get("size"), 20), 200),
    )
    return render(
        request,
        "staff/queue.html",
        {
            "page": page,
            "labels": STATE_LABELS,
            "kinds": KINDS,
            "q": q,
            "batch_actions": ("accept", "start_first_review"),
            "action_labels": ACTION_LABELS,
            "results": None,
            "yuan": wb.yuan,
        },
    )


@router.post("/staff/queue/batch")
async def queue_batch(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    form = await request.form()
    ids = row_ids(form.getlist("ids"))
    action = str(form.get("action", ""))
    if action not in ("accept", "start_first_review"):
        raise ValidationFailed("批量操作：只支持「受理」「开始初审」")
    if not ids:
        raise ValidationFailed("批量操作：请至少勾选一条申请")

    def run() -> list[tuple[int, str]]:
        actor = wb.actor_for(db, user)
        out = []
        for app_id in ids[:200]:
            try:
                disbursement.act(
                    db,
                    application_id=app_id,
                    action=action,
                    audit_key=state.audit_key,
                    now=wb.clock(request),
                    params=current_params(state, db),
                    **actor.kw(),
                )
                out.append((app_id, "成功"))
            except DomainError as exc:
                out.append((app_id, exc.message))
        return out

    results = await run_in_threadpool(run)
    return render(request, "staff/batch_result.html", {"results": results, "label": ACTION_LABELS[action]})


def _app_page(
    request: Request,
    db: Any,
    state: Any,
    user: User,
    app: Application,
    error: str | None = None,
    status: int = 422,
) -> Response:
    actor = wb.actor_for(db, user)
    dets = list(repo.determinations(db, app.id))
    return render(
        request,
        "staff/application.html",
        {
            "app": app,
            "kind": KINDS[app.kind],
            "label": STATE_LABELS[app.state],
            "timeline": wb.timeline(db, app, audience="staff"),
            "materials": wb.materials(db, app),
            "determinations": dets,
            "actions": [] if user.role == "city_admin" else wb.actions_for(app, actor.role),
            "subject": wb.subject_label(db, app),
            "yuan": wb.yuan,
            "error": error,
            "public_status": {
                "eligible": "符合",
                "ineligible": "不符合",
                "undetermined": "待定",
                "not_in_registry": "登记库中无此主体",
                "not_applicable": "不适用本项目",
            },
        },
        status=status if error else 200,
    )


@router.get("/staff/applications/{application_id}")
def staff_application(
    application_id: int, request: Request, db: SessionDep, state: StateDep, user: Staff
) -> Response:
    app = service.get_application(db, application_id=application_id, **wb.actor_for(db, user).kw())
    return _app_page(request, db, state, user, app)


def act_on(
    db: Any,
    state: Any,
    request: Request,
    user: User,
    application_id: int,
    action: str,
    reason: str | None,
    version: int | None,
) -> Application:
    """One transition by the signed-in user (核准 reserves the budget: see applications.disbursement)."""
    return disbursement.act(
        db,
        application_id=application_id,
        action=action,
        reason=reason,
        audit_key=state.audit_key,
        now=wb.clock(request),
        params=current_params(state, db),
        expected_version=version,
        **wb.actor_for(db, user).kw(),
    ).application


@router.post("/staff/applications/{application_id}/act")
def staff_act(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    action: Annotated[str, Form(max_length=30)],
    reason: Annotated[str, Form(max_length=1000)] = "",
    version: Annotated[int | None, Form(ge=1, le=MAX_ROW_ID)] = None,
) -> Response:
    app = service.get_application(db, application_id=application_id, **wb.actor_for(db, user).kw())
    if find_row(app.kind, app.state, action) is None and action not in ACTION_LABELS:
        raise ValidationFailed(f"操作 {action!r} 不正确")
    try:
        act_on(db, state, request, user, app.id, action, reason or None, version)
    except DomainError as exc:
        db.refresh(app)
        return _app_page(request, db, state, user, app, exc.message, exc.status)
    return RedirectResponse(f"/staff/applications/{app.id}?done={action}", status_code=303)


@router.get("/staff/attachments/{attachment_id}")
def download(attachment_id: int, db: SessionDep, state: StateDep, user: Staff, request: Request) -> Response:
    stored = attachments.read(
        db,
        attachment_id=attachment_id,
        audit_key=state.audit_key,
        data_dir=state.settings.data_dir,
        now=wb.clock(request),
        **wb.actor_for(db, user).kw(),
    )
    from urllib.parse import quote

    return Response(
        stored.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(stored.attachment.original_name)}"
        },
    )


# --- 代办 (on behalf) ----------------------------------------------------------------------------------


@router.get("/staff/on-behalf")
def on_behalf_form(request: Request, user: Clerk) -> Response:
    kinds = [k for k in KINDS.values() if k.subject_table == "businesses"]
    return render(request, "staff/on_behalf.html", {"kinds": kinds, "error": None, "v": {}})


@router.post("/staff/on-behalf")
def on_behalf_create(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Clerk,
    kind: Annotated[str, Form(max_length=40)],
    business_no: Annotated[str, Form(max_length=40)],
    period: Annotated[str, Form(max_length=20)],
    amount: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The window clerk creates the application for a business of their district; the applicant is the
    business's founder (the same actor id the founder's own account would use)."""
    v = {"kind": kind, "business_no": business_no, "period": period, "amount": amount}
    kinds = [k for k in KINDS.values() if k.subject_table == "businesses"]
    try:
        business = db.execute(
            select(Business).where(Business.business_no == business_no.strip())
        ).scalar_one_or_none()
        if business is None or business.district != user.district:
            raise NotFound(f"本区县登记库中没有经营主体 {business_no}")
        if kind not in KINDS or KINDS[kind].subject_table != "businesses":
            raise ValidationFailed(f"申请类型 {kind!r} 不能代办")
        founder = repo.founder_of(db, business.id, on=wb.china_day(wb.clock(request)))
        if founder is None:
            raise ValidationFailed(f"经营主体 {business_no} 没有现任法定代表人（经营者），无法确定申请人")
        with db.begin_nested():
            app = service.create_application(
                db,
                kind=kind,
                subject_key=business.business_no,
                period=period,
                district=business.district,
                street=user.street,
                applicant_user=founder.person_no,
                applicant_person_no=founder.person_no,
                audit_key=state.audit_key,
                amount_requested_fen=parse_yuan(amount),
                now=wb.clock(request),
                **wb.actor_for(db, user).kw(),
            )
    except DomainError as exc:
        return render(
            request, "staff/on_behalf.html", {"kinds": kinds, "error": exc.message, "v": v}, status=exc.status
        )
    return RedirectResponse(f"/staff/applications/{app.id}/materials", status_code=303)


@router.get("/staff/applications/{application_id}/materials")
def staff_materials(application_id: int, request: Request, db: SessionDep, user: Clerk) -> Response:
    from xiangchuang.web.pages_applicant import _materials_page

    app = service.get_application(db, application_id=application_id, **wb.actor_for(db, user).kw())
    return _materials_page(request, db, app, None, "/staff/applications")


@router.post("/staff/applications/{application_id}/materials")
async def staff_upload(
    application_id: int, request: Request, db: SessionDep, state: StateDep, user: Clerk
) -> Response:
    files = await upload_files(request)
    return await run_in_threadpool(
        store_uploads, request, db, state, user, application_id, files, "/staff/applications"
    )


# --- publicity ------------------------------------------------------------------------------------------


@router.get("/staff/publicity")
def publicity_batches(request: Request, db: SessionDep, user: Staff) -> Response:
    stmt = select(PublicityBatch).order_by(PublicityBatch.start_date.desc()).limit(100)
    if user.role != "city_admin":
        stmt = stmt.where(PublicityBatch.district == user.district)
    return render(request, "staff/publicity.html", {"batches": list(db.execute(stmt).scalars())})


@router.get("/staff/publicity/{batch_id}")
def publicity_batch(
    batch_id: int, request: Request, db: SessionDep, state: StateDep, user: Staff
) -> Response:
    public, lines = publicity.staff_view(
        db, batch_id=batch_id, pii=wb.pii(state), role=user.role, actor_district=user.district
    )
    return render(
        request, "staff/publicity_batch.html", {"public": public, "lines": lines, "batch_id": batch_id}
    )


@router.get("/staff/publicity/{batch_id}/export.xlsx")
def publicity_export(batch_id: int, db: SessionDep, state: StateDep, user: Staff) -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.xlsx"
        publicity.export_list(
            db,
            batch_id=batch_id,
            pii=wb.pii(state),
            path=path,
            actor=user.login,
            role=user.role,
            actor_district=user.district,
            audit_key=state.audit_key,
        )
        content = path.read_bytes()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="publicity-{batch_id}.xlsx"'},
    )


# --- 政策找人 → invitations -----------------------------------------------------------------------------


@router.get("/staff/matches")
def match_runs(request: Request, db: SessionDep, user: Staff) -> Response:
    stmt = select(MatchRun).order_by(MatchRun.id.desc()).limit(50)
    if user.role != "city_admin":
        stmt = stmt.where((MatchRun.district == user.district) | MatchRun.district.is_(None))
    runs = list(db.execute(stmt).scalars())
    results = {}
    district = None if user.role == "city_admin" else user.district
    for run in runs[:5]:
        found = repo.match_results(
            db, run_id=run.id, statuses=("eligible",), programs=None, district=district
        )
        results[run.id] = list(found)[:50]
    return render(
        request,
        "staff/matches.html",
        {"runs": runs, "results": results, "kinds": KINDS, "report": None, "yuan": wb.yuan},
    )


@router.post("/staff/matches/{run_id}/invite")
def invite(run_id: int, request: Request, db: SessionDep, state: StateDep, user: Reviewer) -> Response:
    report = invitations.create_invitations(
        db,
        run_id=run_id,
        audit_key=state.audit_key,
        params=current_params(state, db),
        now=wb.clock(request),
        **wb.actor_for(db, user).kw(),
    )
    return render(request, "staff/invited.html", {"report": report, "run_id": run_id})


# --- finance --------------------------------------------------------------------------------------------


@router.get("/finance")
def finance(request: Request, db: SessionDep, user: Finance) -> Response:
    approved = [  # (to be paid: in-kind approvals end at 核准, nothing to disburse)
        a
        for a in repo.work_queue(
            db, **wb.actor_for(db, user).kw(), filters=repo.QueueFilter(states=("approved",)), page_size=200
        ).items
        if a.kind not in IN_KIND_KINDS
    ]
    batches = list(
        db.execute(
            select(DisbursementBatch)
            .where(DisbursementBatch.district == user.district)
            .order_by(DisbursementBatch.id.desc())
            .limit(50)
        ).scalars()
    )
    summary = ledger.budget_summary(
        db, district=user.district or 0, funding_source=disbursement.FUNDING_SOURCE
    )
    items = {
        b.id: list(
            db.execute(
                select(DisbursementItem)
                .where(DisbursementItem.batch_id == b.id)
                .order_by(DisbursementItem.seq)
            ).scalars()
        )
        for b in batches
    }
    states = {
        a.application_no: a.state
        for a in db.execute(
            select(Application).where(
                Application.application_no.in_([i.application_ref for v in items.values() for i in v])
            )
        ).scalars()
    }
    return render(
        request,
        "staff/finance.html",
        {
            "approved": approved,
            "batches": batches,
            "items": items,
            "states": states,
            "summary": summary,
            "yuan": wb.yuan,
            "kinds": KINDS,
            "labels": STATE_LABELS,
            "msg": request.query_params.get("msg"),
            "payees": disbursement.payee_accounts(db, district=user.district),
        },
    )


@router.post("/finance/payee-accounts")
def register_payee(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Finance,
    org_code: Annotated[str, Form(max_length=40)],
    org_name: Annotated[str, Form(max_length=120)],
    bank_name: Annotated[str, Form(max_length=60)],
    account: Annotated[str, Form(max_length=40)],
) -> Response:
    actor = wb.actor_for(db, user)
    disbursement.register_payee_account(
        db,
        org_code=org_code,
        org_name=org_name,
        bank_name=bank_name,
        account=account,
        district=user.district or 0,
        **actor.kw(),
        cipher=state.cipher,
        audit_key=state.audit_key,
        at=wb.clock(request),
    )
    return RedirectResponse("/finance?msg=payee", status_code=303)


@router.post("/finance/budget")
def open_budget(
    request: Request,
    db: SessionDep,
    user: Finance,
    amount: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    fen = parse_yuan(amount, "下达预算金额")
    disbursement.open_budget(
        db, district=user.district or 0, amount_fen=fen or 0, at=wb.clock(request), note=note
    )
    return RedirectResponse("/finance?msg=budget", status_code=303)


@router.post("/finance/batches")
async def new_batch(request: Request, db: SessionDep, state: StateDep, user: Finance) -> Response:
    form = await request.form()
    ids = row_ids(form.getlist("ids"))
    at = wb.clock(request)

    def run() -> int:
        return disbursement.start_batch(
            db,
            application_ids=ids,
            district=user.district or 0,
            at=at,
            params=current_params(state, db),
            audit_key=state.audit_key,
            **wb.actor_for(db, user).kw(),
        ).id

    def audit_hold(exc: disbursement.PayeeHeld) -> None:
        # The refused batch is rolled back; its audit entries are written in a transaction of their own.
        db.rollback()
        exc.record(db, audit_key=state.audit_key, actor=user.login, role=user.role, at=at)
        db.commit()

    try:
        await run_in_threadpool(run)
    except disbursement.PayeeHeld as exc:
        await run_in_threadpool(audit_hold, exc)
        raise
    return RedirectResponse("/finance?msg=batch", status_code=303)


def _my_batch(db: Any, user: User, batch_id: int) -> DisbursementBatch:
    return disbursement.get_batch(db, batch_id=batch_id, district=user.district)


@router.post("/finance/batches/{batch_id}/run")
def run_disbursement(
    batch_id: int, request: Request, db: SessionDep, state: StateDep, user: Finance
) -> Response:
    _my_batch(db, user, batch_id)
    db.commit()  # the batch runner uses one transaction per item of its own
    result = disbursement.run_disbursement(
        state.sessions,
        batch_id=batch_id,
        district=user.district,
        audit_key=state.audit_key,
        actor=user.login,
        role=user.role,
        at=wb.clock(request),
    )
    if result.held:  # the others are paid (and committed); the held ones are named
        raise Conflict(f"本次支付 {result.paid} 笔；{len(result.held)} 笔暂缓拨付：" + "；".join(result.held))
    return RedirectResponse(f"/finance?msg=paid{result.paid}", status_code=303)


@router.get("/finance/batches/{batch_id}/bank.xlsx")
def bank_file(batch_id: int, request: Request, db: SessionDep, state: StateDep, user: Finance) -> Response:
    batch = _my_batch(db, user, batch_id)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bank.xlsx"
        disbursement.export_bank_file(
            db,
            batch_id=batch_id,
            district=user.district,
            pii=wb.pii(state),
            path=path,
            actor=user.login,
            audit_key=state.audit_key,
            at=wb.clock(request),
        )
        content = path.read_bytes()
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{batch.batch_no}.xlsx"'},
    )


@router.post("/finance/batches/{batch_id}/confirm")
def confirm_paid(batch_id: int, request: Request, db: SessionDep, state: StateDep, user: Finance) -> Response:
    """Mark disbursed (已拨付) every application of the batch whose item the ledger has paid."""
    done = disbursement.confirm_batch(
        db,
        batch_id=batch_id,
        district=user.district,
        at=wb.clock(request),
        params=current_params(state, db),
        audit_key=state.audit_key,
        **wb.actor_for(db, user).kw(),
    )
    return RedirectResponse(f"/finance?msg=confirmed{done}", status_code=303)
