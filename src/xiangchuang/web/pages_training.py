"""创业培训 pages (clauses 2.4–2.5). Routes only call :mod:`xiangchuang.training.service`.

- Public: the class list (``/training/classes``), a class page, and the certificate check
  (``/training/verify``, masked name only).
- Applicant: 「我的培训」 (courses, certificates, what they can take next by the engine) and enrolment.
- Training provider (``users.org_code`` → its provider): its classes, rosters, attendance, completion,
  claims (uploading the identity proof and submitting through the application workflow).
- District staff (district reviewer, window clerk; the city reads): providers and accreditation, courses,
  classes of their district, 项目制 purchases, Excel import of enrolments / attendance, roster export.

A refused form re-renders the page with the Chinese reason (``role="alert"``); the service call runs
in a savepoint, so nothing of a refused action is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from xiangchuang.applications.kinds import KINDS, TOP_UP_KINDS
from xiangchuang.applications.workflow import STATE_LABELS
from xiangchuang.chinatime import china_date
from xiangchuang.engine.districts import district_by_code, district_codes, is_district
from xiangchuang.errors import DomainError, Forbidden, ValidationFailed
from xiangchuang.ids.masking import mask_name
from xiangchuang.models import Person, User
from xiangchuang.models.training import CLASS_MODES, COURSE_KINDS, PROVIDER_KINDS
from xiangchuang.training import repository as repo
from xiangchuang.training import service as svc
from xiangchuang.training.excel import roster_xlsx
from xiangchuang.training.service import Actor
from xiangchuang.web import nav
from xiangchuang.web.deps import MaybeSession, ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render
from xiangchuang.web.workbench import clock

router = APIRouter(include_in_schema=False)

STAFF_VIEW: Final = ("district_reviewer", "window_clerk", "city_admin")
RUNNERS: Final = ("district_reviewer", "window_clerk", "training_provider")
XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD: Final = 5 * 1024 * 1024

Applicant = Annotated[User, Depends(require_role("applicant"))]
Provider = Annotated[User, Depends(require_role("training_provider"))]
Staff = Annotated[User, Depends(require_role(*STAFF_VIEW))]
Runner = Annotated[User, Depends(require_role(*RUNNERS))]
SignedIn = Annotated[User, Depends(require_role("applicant", *RUNNERS))]

nav.add("/training/classes", "培训班", ("applicant", "training_provider", *STAFF_VIEW), 35)
nav.add("/training/my", "我的培训", ("applicant",), 36)
nav.add("/training/provider", "培训机构工作台", ("training_provider",), 30)
nav.add("/training/staff", "创业培训管理", STAFF_VIEW, 36)

LABELS: Final = {
    "kinds": svc.KIND_LABELS,
    "modes": svc.MODE_LABELS,
    "provider_kinds": svc.PROVIDER_KIND_LABELS,
    "enrolment_states": svc.ENROLMENT_LABELS,
    "class_states": svc.CLASS_STATE_LABELS,
    "app_states": STATE_LABELS,
}


def actor_of(db: Session, user: User) -> Actor:
    """The service's actor for a signed-in user (a provider account → its provider by org_code)."""
    provider_id = None
    if user.role == "training_provider":
        provider = repo.provider_by_org(db, user.org_code)
        provider_id = provider.id if provider is not None else None
    return Actor(user.login, user.role, user.district, provider_id=provider_id, person_id=user.person_id)


def district_label(code: int) -> str:
    return district_by_code(code).name if is_district(code) else str(code)


def attempt(db: Session, fn: Callable[[], Any]) -> tuple[Any, str | None, int]:
    """Run a service call in a savepoint: (result, None, 200) or (None, the Chinese reason, status)."""
    try:
        with db.begin_nested():
            return fn(), None, 200
    except DomainError as exc:
        return None, exc.message, exc.status


def parse_date(text: str | None, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None


def parse_int(text: str | None, what: str) -> int:
    t = (text or "").strip()
    if not t.isdigit() or len(t) > 9:
        raise ValidationFailed(f"{what}：须为正整数")
    return int(t)


def parse_fen(text: str | None, what: str) -> int:
    try:
        value = Decimal((text or "").strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationFailed(f"{what}：须为金额（元，最多两位小数）") from None
    cents = value * 100
    if cents != cents.to_integral_value() or value <= 0:
        raise ValidationFailed(f"{what}：须为大于 0 的金额，最多两位小数")
    return int(cents)


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _class_rows(db: Session, rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "c": c,
            "course": co,
            "provider": p,
            "taken": repo.taken(db, c.id),
            "district_name": district_label(c.district),
        }
        for c, co, p in rows
    ]


# ---- public: class list, class page, certificate check --------------------------------------------


@router.get("/training/classes")
def class_list(
    request: Request,
    db: SessionDep,
    active: MaybeSession,
    kind: str | None = None,
    district: int | None = None,
) -> Response:
    today = china_date(clock(request))
    rows = repo.classes(db, open_only=True, district=district if district and is_district(district) else None)
    rows = [r for r in rows if r[0].end_date >= today and (kind not in COURSE_KINDS or r[1].kind == kind)]
    role = active.user.role if active is not None and active.full else None
    return render(
        request,
        "training/classes.html",
        {
            "rows": _class_rows(db, rows),
            "labels": LABELS,
            "is_applicant": role == "applicant",
            "kind": kind,
            "msg": request.query_params.get("msg"),
        },
    )


def _class_page(
    request: Request,
    db: Session,
    user: User | None,
    class_id: int,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    klass = repo.klass(db, class_id)
    course = repo.course(db, klass.course_id)
    provider = repo.provider(db, klass.provider_id)
    who = actor_of(db, user) if user is not None else None
    manages = False
    if who is not None:
        try:
            svc.may_run_class(who, klass)
            manages = True
        except Forbidden:
            manages = False
    ctx: dict[str, Any] = {
        "klass": klass,
        "course": course,
        "provider": provider,
        "teachers": repo.teachers(db, klass.id),
        "taken": repo.taken(db, klass.id),
        "district_name": district_label(klass.district),
        "labels": LABELS,
        "manages": manages,
        "is_provider": manages and who is not None and who.role == "training_provider",
        "is_applicant": who is not None and who.role == "applicant",
        "error": error,
        "msg": request.query_params.get("msg"),
        "mine": None,
        "today": china_date(clock(request)).isoformat(),
    }
    if manages:
        roster = repo.roster(db, klass.id)
        marks = repo.attendance(db, klass.id)
        claims = repo.claims(db, [e.training_no for e, _ in roster])
        ctx["roster"] = [
            {
                "e": e,
                "person_no": p.person_no,
                "name": mask_name(p.name),
                "attended": sum(1 for v in marks.get(e.id, {}).values() if v),
                "marks": marks.get(e.id, {}),
                "claim": claims.get(e.training_no),
            }
            for e, p in roster
        ]
        ctx["sessions"] = list(range(1, klass.sessions + 1))
        ctx["claimable"] = course.kind in svc.ENGINE_PROGRAMS
        ctx["top_up"] = svc.ENGINE_PROGRAMS.get(course.kind) in TOP_UP_KINDS
    elif who is not None and who.role == "applicant" and who.person_id is not None:
        ctx["mine"] = next(
            (e for e, c, _, _ in repo.person_enrolments(db, who.person_id) if c.id == klass.id), None
        )
    return render(request, "training/class.html", ctx, status=status)


@router.get("/training/classes/{class_id}")
def class_page(class_id: int, request: Request, db: SessionDep, active: MaybeSession) -> Response:
    user = active.user if active is not None and active.full else None
    return _class_page(request, db, user, class_id)


@router.get("/training/verify")
def verify_page(
    request: Request, db: SessionDep, code: Annotated[str | None, Query(max_length=40)] = None
) -> Response:
    result = svc.verify_certificate(db, code=code) if code else None
    return render(request, "training/verify.html", {"result": result, "code": code or "", "labels": LABELS})


# ---- applicant ---------------------------------------------------------------------------------------


@router.get("/training/my")
def my_training(request: Request, db: SessionDep, params: ParamsDep, user: Applicant) -> Response:
    today = china_date(clock(request))
    mine: list[Any] = []
    steps: list[svc.NextStep] = []
    if user.person_id is not None:
        mine = list(repo.person_enrolments(db, user.person_id))
        steps = svc.next_steps(db, person_id=user.person_id, on=today, params=params)
    return render(
        request,
        "training/my.html",
        {
            "mine": mine,
            "steps": steps,
            "linked": user.person_id is not None,
            "labels": LABELS,
            "msg": request.query_params.get("msg"),
        },
    )


@router.post("/training/classes/{class_id}/enrol")
def enrol_self(
    class_id: int, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Applicant
) -> Response:
    if user.person_id is None:
        raise Forbidden("您的账号尚未关联登记库中的人员，请到街道/乡镇窗口核实身份")
    who = actor_of(db, user)
    person_id = user.person_id
    row, error, status = attempt(
        db,
        lambda: svc.enrol(
            db,
            class_id=class_id,
            person_id=person_id,
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
            params=params,
        ),
    )
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    text = "报名成功" if row.state == "enrolled" else f"名额已满，已列入候补第 {row.waiting_seq} 位"
    return _redirect(f"/training/my?msg={text}")


@router.post("/training/enrolments/{enrolment_id}/withdraw")
def withdraw(
    enrolment_id: int, request: Request, db: SessionDep, state: StateDep, user: SignedIn
) -> Response:
    who = actor_of(db, user)
    e = repo.enrolment(db, enrolment_id)
    _, error, status = attempt(
        db,
        lambda: svc.withdraw(
            db, enrolment_id=enrolment_id, who=who, audit_key=state.audit_key, now=clock(request)
        ),
    )
    if error:
        return _class_page(request, db, user, e.class_id, error=error, status=status)
    if user.role == "applicant":
        return _redirect("/training/my?msg=已退出报名")
    return _redirect(f"/training/classes/{e.class_id}?msg=已退出报名")


@router.get("/training/enrolments/{enrolment_id}/certificate.pdf")
def certificate(enrolment_id: int, db: SessionDep, user: SignedIn) -> Response:
    e, pdf = svc.certificate_bytes_for(db, enrolment_id=enrolment_id, who=actor_of(db, user))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{e.certificate_code}.pdf"'},
    )


# ---- running a class (provider or district staff) ----------------------------------------------------


@router.post("/training/classes/{class_id}/enrol-person")
def enrol_person(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Runner,
    person_no: Annotated[str, Form(max_length=40)],
) -> Response:
    who = actor_of(db, user)

    def run() -> Any:
        from sqlalchemy import select

        pk = db.execute(select(Person.id).where(Person.person_no == person_no.strip())).scalar_one_or_none()
        if pk is None:
            raise ValidationFailed(f"登记库人员编号：{person_no.strip()} 不在登记库中")
        return svc.enrol(
            db,
            class_id=class_id,
            person_id=int(pk),
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
            params=params,
        )

    row, error, status = attempt(db, run)
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    return _redirect(f"/training/classes/{class_id}?msg=已报名（{svc.ENROLMENT_LABELS[row.state]}）")


@router.post("/training/classes/{class_id}/attendance")
async def attendance(
    class_id: int, request: Request, db: SessionDep, state: StateDep, user: Runner
) -> Response:
    form = await request.form()
    present = {str(v) for v in form.getlist("present")}
    everyone = [str(v) for v in form.getlist("trainee")]
    session_no, session_date = str(form.get("session_no", "")), str(form.get("session_date", ""))

    def run() -> Any:
        return svc.record_attendance(
            db,
            class_id=class_id,
            session_no=parse_int(session_no, "课次"),
            session_date=parse_date(session_date, "上课日期"),
            present={no: no in present for no in everyone},
            who=actor_of(db, user),
            audit_key=state.audit_key,
            now=clock(request),
        )

    from starlette.concurrency import run_in_threadpool

    def go() -> Response:
        _, error, status = attempt(db, run)
        if error:
            return _class_page(request, db, user, class_id, error=error, status=status)
        return _redirect(f"/training/classes/{class_id}?msg=第 {session_no} 课次考勤已保存")

    return await run_in_threadpool(go)


@router.post("/training/classes/{class_id}/complete")
def complete(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Runner,
    completion_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def run() -> svc.CompletionResult:
        day = parse_date(completion_date, "结业日期") if completion_date.strip() else None
        return svc.complete_class(
            db,
            class_id=class_id,
            who=actor_of(db, user),
            audit_key=state.audit_key,
            now=clock(request),
            params=params,
            completion_date=day,
        )

    res, error, status = attempt(db, run)
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    return _redirect(
        f"/training/classes/{class_id}?msg=已结业 {len(res.completed)} 人，未达结业要求 {len(res.not_completed)} 人"
        f"（出勤比例要求 ≥ {float(res.ratio):.0%}）"
    )


@router.post("/training/classes/{class_id}/state")
def class_state(
    class_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Runner,
    to: Annotated[str, Form(max_length=10)],
) -> Response:
    _, error, status = attempt(
        db,
        lambda: svc.set_class_state(
            db,
            class_id=class_id,
            state=to,
            who=actor_of(db, user),
            audit_key=state.audit_key,
            now=clock(request),
        ),
    )
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    return _redirect(f"/training/classes/{class_id}?msg=报名状态已更新")


@router.get("/training/classes/{class_id}/roster.xlsx")
def roster_export(class_id: int, db: SessionDep, state: StateDep, user: Runner) -> Response:
    klass = repo.klass(db, class_id)
    svc.may_run_class(actor_of(db, user), klass)
    return Response(
        roster_xlsx(db, class_id=class_id, cipher=state.cipher),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="roster-{klass.class_no}.xlsx"'},
    )


async def _read_upload(upload: UploadFile) -> bytes:
    if not upload.filename:
        raise ValidationFailed("文件：请选择 Excel（.xlsx）文件")
    content = await upload.read(MAX_UPLOAD + 1)
    if len(content) > MAX_UPLOAD:
        raise ValidationFailed(f"文件：不超过 {MAX_UPLOAD // 1024 // 1024} MB")
    return content


@router.post("/training/classes/{class_id}/import/{what}")
async def import_sheet(
    class_id: int,
    what: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Runner,
    file: Annotated[UploadFile, File()],
) -> Response:
    from starlette.concurrency import run_in_threadpool

    if what not in ("enrolments", "attendance"):
        raise ValidationFailed("导入类别：只能是报名名单或考勤表")
    content = await _read_upload(file)

    def go() -> Response:
        who = actor_of(db, user)
        if what == "enrolments":
            made, error, status = attempt(
                db,
                lambda: svc.import_enrolments(
                    db,
                    class_id=class_id,
                    content=content,
                    who=who,
                    audit_key=state.audit_key,
                    now=clock(request),
                    params=params,
                ),
            )
            text = f"已导入报名 {len(made)} 人" if made is not None else ""
        else:
            n, error, status = attempt(
                db,
                lambda: svc.import_attendance(
                    db,
                    class_id=class_id,
                    content=content,
                    who=who,
                    audit_key=state.audit_key,
                    now=clock(request),
                ),
            )
            text = f"已导入考勤 {n} 行" if n is not None else ""
        if error:
            return _class_page(request, db, user, class_id, error=error, status=status)
        return _redirect(f"/training/classes/{class_id}?msg={text}")

    return await run_in_threadpool(go)


# ---- provider: dashboard, classes, claims ------------------------------------------------------------


def _provider_page(
    request: Request, db: Session, user: User, *, error: str | None = None, status: int = 200
) -> Response:
    provider = repo.provider_by_org(db, user.org_code)
    ctx: dict[str, Any] = {
        "provider": provider,
        "labels": LABELS,
        "error": error,
        "msg": request.query_params.get("msg"),
    }
    if provider is not None:
        rows = repo.classes(db, provider_id=provider.id)
        ctx["rows"] = _class_rows(db, rows)
        ctx["courses"] = repo.courses(db)
        ctx["accreditations"] = repo.accreditations(db, provider.id)
        ctx["districts"] = [(c, district_label(c)) for c in district_codes()]
        nos = [e.training_no for c, _, _ in rows for e, _ in repo.roster(db, c.id) if e.state == "completed"]
        ctx["claims"] = sorted(repo.claims(db, nos).values(), key=lambda a: a.id, reverse=True)
        ctx["materials"] = {k: KINDS[k].materials for k in svc.ENGINE_PROGRAMS.values()}
        ctx["titles"] = {k: KINDS[k].title for k in svc.ENGINE_PROGRAMS.values()}
        ctx["modes"] = CLASS_MODES
    return render(request, "training/provider.html", ctx, status=status)


@router.get("/training/provider")
def provider_home(request: Request, db: SessionDep, user: Provider) -> Response:
    return _provider_page(request, db, user)


@router.post("/training/classes")
def create_class(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Runner,
    course_id: Annotated[str, Form(max_length=12)],
    mode: Annotated[str, Form(max_length=20)],
    district: Annotated[str, Form(max_length=6)],
    place: Annotated[str, Form(max_length=200)],
    start_date: Annotated[str, Form(max_length=10)],
    end_date: Annotated[str, Form(max_length=10)],
    capacity: Annotated[str, Form(max_length=4)],
    sessions: Annotated[str, Form(max_length=4)],
    provider_id: Annotated[str, Form(max_length=12)] = "",
    teacher_name: Annotated[str, Form(max_length=30)] = "",
    mentor_no: Annotated[str, Form(max_length=40)] = "",
    purchase_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    who = actor_of(db, user)

    def run() -> Any:
        if who.role == "training_provider":
            if who.provider_id is None:
                raise Forbidden("您的账号未关联培训机构（机构代码），请联系区县人社")
            pid = who.provider_id
        else:
            pid = parse_int(provider_id, "培训机构")
        teachers = []
        if mentor_no.strip():
            teachers.append(svc.TeacherIn(mentor_no=mentor_no.strip()))
        if teacher_name.strip():
            teachers.append(svc.TeacherIn(name=teacher_name.strip()))
        return svc.create_class(
            db,
            provider_id=pid,
            course_id=parse_int(course_id, "课程"),
            mode=mode,
            district=parse_int(district, "举办区县"),
            place=place,
            start_date=parse_date(start_date, "开始日期"),
            end_date=parse_date(end_date, "结束日期"),
            capacity=parse_int(capacity, "人数"),
            sessions=parse_int(sessions, "课次"),
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
            cipher=state.cipher,
            teachers=teachers,
            purchase_id=parse_int(purchase_id, "项目制合同") if purchase_id.strip() else None,
        )

    klass, error, status = attempt(db, run)
    if error:
        if user.role == "training_provider":
            return _provider_page(request, db, user, error=error, status=status)
        return _staff_page(request, db, user, error=error, status=status)
    return _redirect(f"/training/classes/{klass.id}?msg=培训班已开设")


@router.post("/training/classes/{class_id}/claims")
def claim(class_id: int, request: Request, db: SessionDep, state: StateDep, user: Provider) -> Response:
    res, error, status = attempt(
        db,
        lambda: svc.claim(
            db,
            class_id=class_id,
            who=actor_of(db, user),
            audit_key=state.audit_key,
            now=clock(request),
            data_dir=state.settings.data_dir,
        ),
    )
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    return _redirect(
        f"/training/provider?msg=已生成补贴申请 {len(res.created)} 份（草稿），请上传学员身份证明等材料后提交"
        + (f"；{len(res.skipped)} 人已有申请" if res.skipped else "")
    )


@router.post("/training/classes/{class_id}/top-up")
def claim_top_up(
    class_id: int, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Provider
) -> Response:
    """补足差额: top-up applications for the trainees paid the reduced SYB share who have since
    registered a business in time (the engine decides who; the others are listed with its reason)."""
    res, error, status = attempt(
        db,
        lambda: svc.claim_top_up(
            db,
            class_id=class_id,
            who=actor_of(db, user),
            audit_key=state.audit_key,
            params=params,
            now=clock(request),
            data_dir=state.settings.data_dir,
        ),
    )
    if error:
        return _class_page(request, db, user, class_id, error=error, status=status)
    skipped = "；".join(f"{no}：{why}" for no, why in sorted(res.skipped.items())[:5])
    return _redirect(
        f"/training/provider?msg=已生成补差申请 {len(res.created)} 份（草稿），请上传学员身份证明后提交"
        + (f"；未生成：{skipped}" if skipped else "")
    )


@router.post("/training/claims/{application_id}/materials")
async def claim_material(
    application_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Provider,
    material: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File()],
) -> Response:
    from starlette.concurrency import run_in_threadpool

    content = await _read_upload(file)
    name = file.filename or "material"

    def go() -> Response:
        _, error, status = attempt(
            db,
            lambda: svc.upload_claim_material(
                db,
                application_id=application_id,
                material=material,
                filename=name,
                content=content,
                who=actor_of(db, user),
                audit_key=state.audit_key,
                now=clock(request),
                data_dir=state.settings.data_dir,
            ),
        )
        if error:
            return _provider_page(request, db, user, error=error, status=status)
        return _redirect("/training/provider?msg=材料已上传")

    return await run_in_threadpool(go)


@router.post("/training/claims/{application_id}/submit")
def claim_submit(
    application_id: int, request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Provider
) -> Response:
    app, error, status = attempt(
        db,
        lambda: svc.submit_claim(
            db,
            application_id=application_id,
            who=actor_of(db, user),
            audit_key=state.audit_key,
            now=clock(request),
            params=params,
        ),
    )
    if error:
        return _provider_page(request, db, user, error=error, status=status)
    return _redirect(f"/training/provider?msg=申请 {app.application_no} 已提交")


# ---- district staff ----------------------------------------------------------------------------------


def _staff_page(
    request: Request, db: Session, user: User, *, error: str | None = None, status: int = 200
) -> Response:
    district = None if user.role == "city_admin" else user.district
    providers = repo.providers(db, district)
    purchases = repo.purchases(db, district)
    return render(
        request,
        "training/staff.html",
        {
            "providers": [(p, repo.accreditations(db, p.id)) for p in providers],
            "all_providers": repo.providers(db, None),
            "courses": repo.courses(db),
            "rows": _class_rows(db, repo.classes(db, district=district)),
            "purchases": [svc.purchase_progress(db, p) for p in purchases],
            "provider_names": {p.id: p.name for p in repo.providers(db, None)},
            "labels": LABELS,
            "course_kinds": COURSE_KINDS,
            "provider_kinds": PROVIDER_KINDS,
            "modes": CLASS_MODES,
            "districts": [(c, district_label(c)) for c in district_codes()],
            "district": district,
            "is_reviewer": user.role == "district_reviewer",
            "can_act": user.role in svc.STAFF_ROLES,
            "error": error,
            "msg": request.query_params.get("msg"),
            "today": china_date(clock(request)).isoformat(),
        },
        status=status,
    )


@router.get("/training/staff")
def staff_home(request: Request, db: SessionDep, user: Staff) -> Response:
    return _staff_page(request, db, user)


StaffActor = Annotated[User, Depends(require_role(*svc.STAFF_ROLES))]


@router.post("/training/staff/providers")
def staff_provider(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: StaffActor,
    org_code: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=120)],
    kind: Annotated[str, Form(max_length=24)],
    uscc: Annotated[str, Form(max_length=18)] = "",
) -> Response:
    who = actor_of(db, user)
    _, error, status = attempt(
        db,
        lambda: svc.create_provider(
            db,
            org_code=org_code,
            name=name,
            kind=kind,
            district=user.district or 0,
            uscc=uscc,
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
        ),
    )
    if error:
        return _staff_page(request, db, user, error=error, status=status)
    return _redirect("/training/staff?msg=培训机构已登记")


@router.post("/training/staff/providers/{provider_id}/accreditations")
def staff_accredit(
    provider_id: int,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: StaffActor,
    accreditation_no: Annotated[str, Form(max_length=40)],
    valid_from: Annotated[str, Form(max_length=10)],
    valid_until: Annotated[str, Form(max_length=10)],
    course_kinds: Annotated[list[str] | None, Form()] = None,
) -> Response:
    who = actor_of(db, user)
    _, error, status = attempt(
        db,
        lambda: svc.accredit(
            db,
            provider_id=provider_id,
            accreditation_no=accreditation_no,
            course_kinds=course_kinds or [],
            valid_from=parse_date(valid_from, "有效期起"),
            valid_until=parse_date(valid_until, "有效期止"),
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
        ),
    )
    if error:
        return _staff_page(request, db, user, error=error, status=status)
    return _redirect("/training/staff?msg=认定已登记")


@router.post("/training/courses")
def create_course(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Runner,
    course_code: Annotated[str, Form(max_length=30)],
    kind: Annotated[str, Form(max_length=10)],
    title: Annotated[str, Form(max_length=120)],
    hours: Annotated[str, Form(max_length=5)],
    content: Annotated[str, Form(max_length=4000)],
) -> Response:
    who = actor_of(db, user)
    _, error, status = attempt(
        db,
        lambda: svc.create_course(
            db,
            course_code=course_code,
            kind=kind,
            title=title,
            hours=parse_int(hours, "课时"),
            content=content,
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
        ),
    )
    back = "/training/provider" if user.role == "training_provider" else "/training/staff"
    if error:
        if user.role == "training_provider":
            return _provider_page(request, db, user, error=error, status=status)
        return _staff_page(request, db, user, error=error, status=status)
    return _redirect(f"{back}?msg=课程已登记")


@router.post("/training/staff/purchases")
def staff_purchase(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: StaffActor,
    contract_no: Annotated[str, Form(max_length=40)],
    provider_id: Annotated[str, Form(max_length=12)],
    course_kind: Annotated[str, Form(max_length=10)],
    trainees: Annotated[str, Form(max_length=6)],
    price: Annotated[str, Form(max_length=20)],
    signed_on: Annotated[str, Form(max_length=10)],
    deliver_by: Annotated[str, Form(max_length=10)],
) -> Response:
    who = actor_of(db, user)
    _, error, status = attempt(
        db,
        lambda: svc.create_purchase(
            db,
            contract_no=contract_no,
            provider_id=parse_int(provider_id, "培训机构"),
            course_kind=course_kind,
            trainees=parse_int(trainees, "购买人数"),
            price_fen=parse_fen(price, "单价（元）"),
            signed_on=parse_date(signed_on, "签订日期"),
            deliver_by=parse_date(deliver_by, "完成期限"),
            who=who,
            audit_key=state.audit_key,
            now=clock(request),
        ),
    )
    if error:
        return _staff_page(request, db, user, error=error, status=status)
    return _redirect("/training/staff?msg=项目制购买合同已登记")
