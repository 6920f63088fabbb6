"""创业导师库 pages (clauses 2.6, 3.9): the city office keeps the pool (search, Excel import with an error
report, status), creates review events, the organiser and supervisor commit and reveal their secrets, the
draw runs (nobody picks), slots are shown without names until the unseal time, the manifest is exported
after it, scores are summarised, and 渝创渝新 acceleration projects are selected and followed. District
reviewers work their district's events and service records. A mentor sees and keeps only their own
profile and assignments.

Routes only call :mod:`xiangchuang.mentors.service` (rules, audit) and :mod:`xiangchuang.mentors.repository`
(lists); every view of a draw goes through ``draw_view`` / ``my_assignment``, which audit the access."""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from xiangchuang.audit import record
from xiangchuang.chinatime import CHINA, china_date
from xiangchuang.engine.dates import OutOfRange, check_year
from xiangchuang.engine.districts import district_by_code, is_district
from xiangchuang.errors import DomainError, Forbidden, NotFound, ValidationFailed
from xiangchuang.mentors import draw as D
from xiangchuang.mentors import labels as L
from xiangchuang.mentors import repository as repo
from xiangchuang.mentors import service as S
from xiangchuang.models import MentorEvent, User
from xiangchuang.models.mentors import MENTOR_STATUSES, SUPPORT_KINDS
from xiangchuang.registry.importer import ImportFileError, import_table, read_source, write_error_report
from xiangchuang.registry.templates import write_template
from xiangchuang.web import nav
from xiangchuang.web import workbench as wb
from xiangchuang.web.deps import AppState, ParamsDep, SessionDep, StateDep, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
STAFF_ROLES = ("city_admin", "district_reviewer")
Staff = Annotated[User, Depends(require_role(*STAFF_ROLES))]
City = Annotated[User, Depends(require_role("city_admin"))]
MentorUser = Annotated[User, Depends(require_role("mentor"))]
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT = 20 * 1024 * 1024
LABELS = {
    "specialty": L.SPECIALTY,
    "level": L.LEVEL,
    "status": L.STATUS,
    "kind": L.EVENT_KIND,
    "event_status": L.EVENT_STATUS,
    "slot": L.SLOT_STATUS,
    "activity": L.ACTIVITY,
    "rating": L.RATING,
    "relation": L.RELATION,
    "support": L.SUPPORT,
    "party": L.PARTY,
    "tie": S.TIE_RULES,
}
T = TypeVar("T")

nav.add("/mentors/pool", "导师库", STAFF_ROLES, 50)
nav.add("/mentors/events", "评审抽选", STAFF_ROLES, 51)
nav.add("/mentors/services", "导师服务记录", STAFF_ROLES, 52)
nav.add("/mentors/acceleration", "渝创渝新加速", ("city_admin",), 53)
nav.add("/mentor/me", "我的导师资料", ("mentor",), 50)


def keys_of(state: AppState) -> S.Keys:
    return S.Keys(state.cipher, state.audit_key)


def role_of(user: User) -> str:
    """The service role of a web user (city office, district reviewer, mentor)."""
    return user.role


def scope_district(user: User) -> int | None:
    """City staff see the city; a district reviewer sees their district only."""
    return None if user.role == "city_admin" else user.district


def attempt(db: Any, fn: Callable[[], T]) -> tuple[T | None, str | None]:
    """Run ``fn`` in a savepoint: a domain error undoes everything it wrote and comes back as a message."""
    try:
        with db.begin_nested():
            return fn(), None
    except DomainError as exc:
        return None, exc.message


def _ctx(**kw: Any) -> dict[str, Any]:
    return {"labels": LABELS, **kw}


def event_for(db: Any, user: User, event_no: str) -> MentorEvent:
    ev = repo.event(db, event_no)
    if ev is None:
        raise NotFound(f"评审活动 {event_no} 不存在")
    d = scope_district(user)
    if d is not None and ev.district != d:
        raise Forbidden("区县审核人员只能查看本区县的评审活动")
    return ev


def district_label(code: int | None) -> str:
    if code is None:
        return "市级"
    try:
        return district_by_code(code).name
    except KeyError:
        return str(code)


def _china(t: dt.datetime | None) -> str:
    if t is None:
        return "—"
    t = t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
    return f"{t.astimezone(CHINA):%Y-%m-%d %H:%M}"


# ---- pool ----------------------------------------------------------------------------------------------


@router.get("/mentors/pool")
def pool_page(
    request: Request,
    db: SessionDep,
    user: Staff,
    q: str = "",
    level: str = "",
    specialty: str = "",
    status: str = "",
    district: str = "",
) -> Response:
    dist = scope_district(user)
    if dist is None and district.strip().isdigit():
        dist = int(district)
    rows = repo.pool(
        db,
        district=dist,
        level=level if level in L.LEVEL else None,
        specialty=specialty if specialty in L.SPECIALTY else None,
        status=status if status in L.STATUS else None,
        q=q.strip()[:60] or None,
    )
    return render(
        request,
        "mentors/pool.html",
        _ctx(
            rows=rows,
            f={"q": q, "level": level, "specialty": specialty, "status": status, "district": district},
            is_city=user.role == "city_admin",
            statuses=MENTOR_STATUSES,
            district_name=district_label,
        ),
        headers=NO_STORE,
    )


@router.post("/mentors/pool/{mentor_no}/status")
def pool_status(
    mentor_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: City,
    status: Annotated[str, Form(max_length=12)],
) -> Response:
    S.set_status(
        db, keys=keys_of(state), actor=user.login, role="city_admin", mentor_no=mentor_no, status=status
    )
    return RedirectResponse(f"/mentors/pool?q={mentor_no}", status_code=303)


def _report_dir(state: AppState) -> Path:
    return state.settings.data_dir / "import-reports" / "mentors"


@router.get("/mentors/import")
def import_form(request: Request, user: City) -> Response:
    return render(request, "mentors/import.html", _ctx(result=None, error=None, report=None))


@router.post("/mentors/import")
async def import_run(request: Request, db: SessionDep, state: StateDep, user: City) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "mentors/import.html",
            _ctx(result=None, report=None, error="文件：请选择要导入的导师名单（Excel .xlsx 或 CSV）"),
            status=422,
        )
    content = await upload.read(MAX_IMPORT + 1)
    if len(content) > MAX_IMPORT:
        return render(
            request,
            "mentors/import.html",
            _ctx(result=None, report=None, error=f"文件：超过 {MAX_IMPORT // 1024 // 1024} MB"),
            status=422,
        )
    name = Path(upload.filename).name

    def run() -> Response:
        token = secrets.token_hex(8)
        report = _report_dir(state) / f"{token}.xlsx"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / (name if re.fullmatch(r"[\w.\-\u4e00-\u9fff]{1,120}", name) else "upload.xlsx")
            path.write_bytes(content)
            try:
                source = read_source(path)
                with db.begin_nested():
                    result = import_table(
                        db.connection(),
                        kind="mentors",
                        source=source,
                        pii=wb.pii(state),
                        mode="all_or_nothing",
                        district=None,
                        error_report=str(report),
                    )
            except ImportFileError as exc:
                return render(
                    request, "mentors/import.html", _ctx(result=None, report=None, error=str(exc)), status=422
                )
        if result.errors or result.warnings:
            report.parent.mkdir(parents=True, exist_ok=True)
            write_error_report(result, report)
        record(
            db,
            key=state.audit_key,
            actor=user.login,
            actor_role=user.role,
            action="mentor.import",
            subject=f"import_batches:{result.batch_id}",
            details={"status": result.status, "inserted": result.inserted, "rejected": result.rejected},
        )
        return render(
            request,
            "mentors/import.html",
            _ctx(result=result, error=None, report=token if (result.errors or result.warnings) else None),
            status=200 if result.ok else 422,
        )

    return await run_in_threadpool(run)


@router.get("/mentors/import/reports/{token}.xlsx")
def import_report(token: str, state: StateDep, user: City) -> Response:
    if not re.fullmatch(r"[0-9a-f]{16}", token):
        raise NotFound("错误报告不存在")
    path = _report_dir(state) / f"{token}.xlsx"
    if not path.exists():
        raise NotFound("错误报告不存在")
    return FileResponse(path, media_type=XLSX, filename="mentor-import-errors.xlsx", headers=NO_STORE)


@router.get("/mentors/import/template.xlsx")
def import_template(user: City) -> Response:
    """The documented import template of the registry kind ``mentors`` (headers, notes, an example)."""
    out = write_template("mentors", Path(tempfile.mkdtemp()) / "mentors-template.xlsx")
    return FileResponse(out, media_type=XLSX, filename="mentors-template.xlsx")


# ---- events --------------------------------------------------------------------------------------------


@router.get("/mentors/events")
def events_page(request: Request, db: SessionDep, user: Staff) -> Response:
    rows = repo.events(db, district=scope_district(user))
    return render(request, "mentors/events.html", _ctx(events=rows, china=_china))


def _new_defaults(user: User, today: dt.date) -> dict[str, str]:
    day = today + dt.timedelta(days=7)
    return {
        "event_no": f"HD{today:%Y%m%d}{secrets.token_hex(2).upper()}",
        "title": "",
        "kind": "project_review",
        "event_date": day.isoformat(),
        "unseal_at": f"{day.isoformat()}T08:30",
        "quotas": "农业种养 市级 3\n电子商务 区县级 2",
        "backups": "2",
        "projects": "",
        "organiser_user": user.login,
        "supervisor_user": "",
        "chair_user": "",
        "staff": "",
        "district": str(user.district or ""),
        "recuse_same_district": "",
        "public_value_source": "",
        "tie_rule": "higher_median",
    }


@router.get("/mentors/events/new")
def event_new(request: Request, user: Staff) -> Response:
    return render(
        request,
        "mentors/event_new.html",
        _ctx(
            v=_new_defaults(user, china_date(wb.clock(request))),
            error=None,
            is_city=user.role == "city_admin",
        ),
    )


_SPEC_BY_LABEL = {**{v: k for k, v in L.SPECIALTY.items()}, **{k: k for k in L.SPECIALTY}}
_LEVEL_BY_LABEL = {
    "市级": "city",
    "区县级": "district",
    "区级": "district",
    "city": "city",
    "district": "district",
}
_YES = {"是", "y", "yes", "true", "1", "返乡"}


def parse_quotas(text: str) -> list[tuple[str, str, int]]:
    """Lines "主专业 层级 人数" (e.g. 农业种养 市级 3)."""
    out = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        parts = line.replace(",", " ").replace("，", " ").split()
        if len(parts) != 3 or parts[0] not in _SPEC_BY_LABEL or parts[1] not in _LEVEL_BY_LABEL:
            raise ValidationFailed(
                f"名额第 {i + 1} 行：须为“主专业 层级 人数”，主专业为 {'、'.join(L.SPECIALTY.values())} 之一，"
                "层级为 市级 或 区县级"
            )
        if not parts[2].isdigit() or not 1 <= int(parts[2]) <= 50:
            raise ValidationFailed(f"名额第 {i + 1} 行：人数须为 1–50 的整数")
        out.append((_SPEC_BY_LABEL[parts[0]], _LEVEL_BY_LABEL[parts[1]], int(parts[2])))
    if not out:
        raise ValidationFailed("名额：至少一行“主专业 层级 人数”")
    return out


def parse_projects(text: str) -> list[S.ProjectIn]:
    """Lines "项目编号 | 项目名称 | 申报人人员编号 | 申报主体编号 | 是否返乡项目"."""
    out = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        parts += [""] * (5 - len(parts))
        no, title, person, business, returning = parts[:5]
        if not no or not title or len(no) > 40 or len(title) > 120:
            raise ValidationFailed(f"项目第 {i + 1} 行：须有项目编号（≤40字）和项目名称（≤120字）")
        if not person and not business:
            raise ValidationFailed(f"项目第 {i + 1} 行：须填申报人人员编号或申报主体编号")
        out.append(S.ProjectIn(no, title, person or None, business or None, returning.lower() in _YES))
    if not out:
        raise ValidationFailed("项目：至少一行")
    return out


def _moment(text: str, what: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期时间 YYYY-MM-DD HH:MM（北京时间）") from None
    return t.replace(tzinfo=CHINA) if t.tzinfo is None else t


@router.post("/mentors/events/new")
async def event_create(
    request: Request, db: SessionDep, state: StateDep, params: ParamsDep, user: Staff
) -> Response:
    form = await request.form()
    v = {k: str(form.get(k, "") or "")[:4000] for k in _new_defaults(user, dt.date.today())}
    v["tie_rule"] = v["tie_rule"] or "higher_median"  # the form's default when the field is not sent

    def go() -> MentorEvent:
        try:
            event_date = dt.date.fromisoformat(v["event_date"].strip())
        except ValueError:
            raise ValidationFailed("活动日期：须为日期 YYYY-MM-DD") from None
        if not v["backups"].strip().isdigit() or int(v["backups"]) > 20:
            raise ValidationFailed("备选人数：须为 0–20 的整数")
        district: int | None = None
        if user.role == "district_reviewer":
            district = user.district  # a district reviewer organises their own district's events
        elif v["district"].strip():
            if not v["district"].strip().isdigit() or not is_district(int(v["district"])):
                raise ValidationFailed("区县：须为重庆市区县代码（如 500101），市级活动留空")
            district = int(v["district"])
        title = v["title"].strip()
        if not title or len(title) > 120:
            raise ValidationFailed("活动名称：不能为空，且不超过 120 字")
        event_no = v["event_no"].strip()
        if not re.fullmatch(r"[A-Za-z0-9\-]{1,40}", event_no):
            raise ValidationFailed("活动编号：1–40 位字母、数字或连字符")
        if repo.event(db, event_no) is not None:
            raise ValidationFailed(f"活动编号：{event_no} 已存在")
        staff = [x for x in re.split(r"[\s,，、]+", v["staff"]) if x]
        return S.create_event(
            db,
            keys=keys_of(state),
            actor=user.login,
            role="city_admin" if user.role == "city_admin" else "organiser",
            event_no=event_no,
            title=title,
            kind=v["kind"],
            event_date=event_date,
            unseal_at=_moment(v["unseal_at"], "揭封时间"),
            quotas=parse_quotas(v["quotas"]),
            backups=int(v["backups"]),
            projects=parse_projects(v["projects"]),
            organiser_user=user.login
            if user.role == "district_reviewer"
            else (v["organiser_user"].strip() or user.login),
            supervisor_user=v["supervisor_user"].strip(),
            chair_user=v["chair_user"].strip() or None,
            staff_person_nos=staff,
            district=district,
            recuse_same_district=bool(v["recuse_same_district"]),
            public_value_source=v["public_value_source"].strip() or None,
            tie_rule=v["tie_rule"],
            params=params,
        )

    ev, error = attempt(db, go)
    if ev is None:
        return render(
            request,
            "mentors/event_new.html",
            _ctx(v=v, error=error, is_city=user.role == "city_admin"),
            status=422,
        )
    return RedirectResponse(f"/mentors/events/{ev.event_no}", status_code=303)


def _event_page(
    request: Request, db: Any, state: AppState, user: User, ev: MentorEvent, **extra: Any
) -> Response:
    now = wb.clock(request)
    keys = keys_of(state)
    d = repo.draw(db, ev.id)
    view = None
    progress = None
    if d is not None:
        view = S.draw_view(db, keys=keys, actor=user.login, role=role_of(user), event_no=ev.event_no, now=now)
        progress = S.scoring_progress(db, event_no=ev.event_no)
    commits = repo.commitments(db, ev.id)
    party = None
    if user.login == ev.organiser_user:
        party = "organiser"
    elif user.login == ev.supervisor_user:
        party = "supervisor"
    mine = next((c for c in commits if c.party == party), None)
    ctx = _ctx(
        ev=ev,
        view=view,
        draw=d,
        progress=progress,
        commits=commits,
        party=party,
        mine=mine,
        projects=repo.projects(db, ev.id),
        china=_china,
        stratum=L.stratum,
        now=now,
        can_draw=d is None
        and ev.inputs_sha256 is not None
        and (user.role == "city_admin" or party is not None),
        early=now
        < (ev.earliest_draw_at if ev.earliest_draw_at.tzinfo else ev.earliest_draw_at.replace(tzinfo=dt.UTC)),
        can_finalize=user.role == "city_admin" or user.login in (ev.organiser_user, ev.chair_user),
        error=None,
        secret=None,
    )
    ctx.update(extra)
    status = 422 if ctx.get("error") else 200
    return render(request, "mentors/event.html", ctx, status=status, headers=NO_STORE)


@router.get("/mentors/events/{event_no}")
def event_page(event_no: str, request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    return _event_page(request, db, state, user, event_for(db, user, event_no))


@router.post("/mentors/events/{event_no}/commit")
def event_commit(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    params: ParamsDep,
    user: Staff,
    commitment: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Commit: a hash the party made themselves, or — left empty — a secret made here with ``secrets``,
    shown once and never stored (the party keeps it for the reveal)."""
    ev = event_for(db, user, event_no)
    secret = None
    value = commitment.strip().lower()
    if not value:
        party = "organiser" if user.login == ev.organiser_user else "supervisor"
        secret = D.make_secret()
        value = D.commitment(ev.event_no, party, secret)
    _, error = attempt(
        db,
        lambda: S.commit(
            db,
            keys=keys_of(state),
            actor=user.login,
            role=role_of(user),
            event_no=event_no,
            commitment=value,
            now=wb.clock(request),
            params=params,
        ),
    )
    ev = event_for(db, user, event_no)
    return _event_page(request, db, state, user, ev, error=error, secret=None if error else secret)


def _act(
    request: Request, db: Any, state: AppState, user: User, event_no: str, call: Callable[..., object]
) -> Response:
    """One event step by the signed-in staff member: ``call(db, keys=, actor=, role=, event_no=, now=)``;
    a refusal re-renders the event page with the Chinese reason, nothing written."""
    event_for(db, user, event_no)
    _, error = attempt(
        db,
        lambda: call(
            db,
            keys=keys_of(state),
            actor=user.login,
            role=role_of(user),
            event_no=event_no,
            now=wb.clock(request),
        ),
    )
    if error:
        return _event_page(request, db, state, user, event_for(db, user, event_no), error=error)
    return RedirectResponse(f"/mentors/events/{event_no}", status_code=303)


@router.post("/mentors/events/{event_no}/reveal")
def event_reveal(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    secret: Annotated[str, Form(max_length=200)],
) -> Response:
    return _act(request, db, state, user, event_no, functools.partial(S.reveal, secret=secret.strip()))


@router.post("/mentors/events/{event_no}/public-value")
def event_public_value(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    value: Annotated[str, Form(max_length=200)],
) -> Response:
    return _act(
        request, db, state, user, event_no, functools.partial(S.set_public_value, value=value.strip())
    )


@router.post("/mentors/events/{event_no}/draw")
def event_draw(event_no: str, request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    return _act(request, db, state, user, event_no, S.run_draw)


@router.get("/mentors/events/{event_no}/manifest.json")
def event_manifest(event_no: str, request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    """The pseudonymous manifest (after unseal; a refusal is audited too and shown in Chinese)."""
    event_for(db, user, event_no)
    man, error = attempt(
        db,
        lambda: S.export_manifest(
            db,
            keys=keys_of(state),
            actor=user.login,
            role=role_of(user),
            event_no=event_no,
            now=wb.clock(request),
        ),
    )
    if man is None:
        # The service audits the refusal, but its savepoint was rolled back with the error: write the
        # refusal again in the request's transaction, which commits because a page (not an error) is returned.
        record(
            db,
            key=state.audit_key,
            actor=user.login,
            actor_role=user.role,
            action="mentor_draw.export",
            subject=f"mentor_event:{event_no}",
            outcome="denied",
        )
        return render(request, "error.html", {"message": error, "status": 403}, status=403, headers=NO_STORE)
    body = D.canonical_json(man)
    return Response(
        body,
        media_type="application/json",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="manifest-{event_no}.json"'},
    )


def parse_awards(text: str) -> list[tuple[str, int]]:
    """Lines "奖项名称 名额" (e.g. 一等奖 1), awarded in rank order."""
    out = []
    for i, line in enumerate(x for x in text.splitlines() if x.strip()):
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            raise ValidationFailed(f"奖项第 {i + 1} 行：须为“奖项名称 名额”，如 一等奖 1")
        out.append((parts[0][:40], int(parts[1])))
    return out


@router.post("/mentors/events/{event_no}/finalize")
def event_finalize(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    awards: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    def finalize(db: Any, **kw: Any) -> object:
        return S.finalize_scores(db, awards=parse_awards(awards), **kw)

    return _act(request, db, state, user, event_no, finalize)


# ---- service records -----------------------------------------------------------------------------------


@router.get("/mentors/services")
def services_page(request: Request, db: SessionDep, user: Staff) -> Response:
    return render(
        request,
        "mentors/services.html",
        _ctx(rows=repo.services(db, district=scope_district(user)), error=None, v={}, district=user.district),
        headers=NO_STORE,
    )


def _int_field(text: str, what: str, low: int = 1, high: int = 10_000) -> int:
    t = text.strip()
    if not t.isdigit() or not low <= int(t) <= high:
        raise ValidationFailed(f"{what}：须为 {low}–{high} 的整数")
    return int(t)


def _date_field(text: str, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{what}：须为日期 YYYY-MM-DD") from None


@router.post("/mentors/services")
async def services_record(request: Request, db: SessionDep, state: StateDep, user: Staff) -> Response:
    form = await request.form()
    v = {
        k: str(form.get(k, "") or "")[:200]
        for k in ("mentor_no", "activity", "units", "district", "occurred_on", "organiser")
    }

    def go() -> Any:
        district = (
            user.district
            if user.role == "district_reviewer"
            else _int_field(v["district"], "服务所在区县", 500000, 509999)
        )
        if district is None or not is_district(district):
            raise ValidationFailed("服务所在区县：须为重庆市区县代码（如 500101）")
        if not v["organiser"].strip():
            raise ValidationFailed("组织单位：不能为空")
        return S.record_service(
            db,
            keys=keys_of(state),
            actor=user.login,
            role=role_of(user),
            service_no=f"FW{china_date(wb.clock(request)):%Y%m%d}{secrets.token_hex(3).upper()}",
            mentor_no=v["mentor_no"].strip(),
            activity=v["activity"],
            units=_int_field(v["units"], "服务工作量（次/场/对）", 1, 1000),
            district=district,
            occurred_on=_date_field(v["occurred_on"], "服务日期"),
            organiser=v["organiser"].strip()[:120],
        )

    _, error = attempt(db, go)
    if error:
        return render(
            request,
            "mentors/services.html",
            _ctx(
                rows=repo.services(db, district=scope_district(user)),
                error=error,
                v=v,
                district=user.district,
            ),
            status=422,
            headers=NO_STORE,
        )
    return RedirectResponse("/mentors/services", status_code=303)


@router.post("/mentors/services/{service_no}/confirm")
def services_confirm(
    service_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Staff,
    rating: Annotated[str, Form(max_length=12)],
) -> Response:
    d = scope_district(user)
    if d is not None and not any(
        r.service_no == service_no for r in repo.services(db, district=d, limit=10_000)
    ):
        raise Forbidden("区县审核人员只能确认本区县的服务记录")
    S.confirm_service(
        db, keys=keys_of(state), actor=user.login, role=role_of(user), service_no=service_no, rating=rating
    )
    return RedirectResponse("/mentors/services", status_code=303)


# ---- 导师服务补助: the window clerk applies on the mentor's behalf (one workflow) -----------------------

Clerk = Annotated[User, Depends(require_role("window_clerk"))]
nav.add("/mentors/subsidy-on-behalf", "导师服务补助代办", ("window_clerk",), 54)


@router.get("/mentors/subsidy-on-behalf")
def subsidy_form(request: Request, db: SessionDep, user: Clerk) -> Response:
    rows = [r for r in repo.services(db, district=user.district) if r.confirmed]
    return render(request, "mentors/subsidy.html", _ctx(rows=rows, error=None, v={}))


@router.post("/mentors/subsidy-on-behalf")
def subsidy_create(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: Clerk,
    service_no: Annotated[str, Form(max_length=40)],
    period: Annotated[str, Form(max_length=20)],
) -> Response:
    """A mentor service subsidy application for a confirmed service record of the clerk's district: the
    applicant is the mentor (their registry person number, as their own account would be); the rest is
    the normal workflow (materials, submit, acceptance, reviews with the engine's determination, publicity,
    approval, disbursement)."""
    from xiangchuang.applications import service as applications

    def go() -> Any:
        mentor_person = repo.service_mentor_person(db, service_no.strip())
        if mentor_person is None:
            raise NotFound(f"服务记录 {service_no} 不存在")
        record, person_no = mentor_person
        if record.district != user.district:
            raise Forbidden("只能代办本区县的导师服务补助")
        if record.confirmed_at is None:
            raise ValidationFailed(f"服务记录 {service_no}：组织单位尚未确认，不能申请补助")
        return applications.create_application(
            db,
            kind="mentor_service_subsidy",
            subject_key=record.service_no,
            period=period,
            district=record.district,
            street=user.street,
            applicant_user=person_no,
            applicant_person_no=person_no,
            audit_key=state.audit_key,
            now=wb.clock(request),
            **wb.actor_for(db, user).kw(),
        )

    app, error = attempt(db, go)
    if app is None:
        rows = [r for r in repo.services(db, district=user.district) if r.confirmed]
        v = {"service_no": service_no, "period": period}
        return render(request, "mentors/subsidy.html", _ctx(rows=rows, error=error, v=v), status=422)
    return RedirectResponse(f"/staff/applications/{app.id}/materials", status_code=303)


# ---- 渝创渝新 acceleration (3.9) --------------------------------------------------------------------------


@router.get("/mentors/acceleration")
def acceleration_page(request: Request, db: SessionDep, user: City, year: int | None = None) -> Response:
    """The year's selection (this year when none is asked for). A year asked for is one of the supported
    range (``engine.dates.check_year``, README choice 28): outside it a 422 naming the field, as a stats
    page's quarter (it fell back to this year without a word, and took 2000–2100 as its own range)."""
    try:
        y = check_year(year) if year is not None else china_date(wb.clock(request)).year
    except OutOfRange as exc:
        raise ValidationFailed(exc.rule("年度")) from None
    return render(
        request,
        "mentors/acceleration.html",
        _ctx(
            year=y,
            report=S.acceleration_report(db, year=y),
            candidates=repo.award_candidates(db, y),
            is_city=user.role == "city_admin",
            kinds=SUPPORT_KINDS,
            error=None,
            today=china_date(wb.clock(request)).isoformat(),
        ),
    )


@router.post("/mentors/acceleration/select")
def acceleration_select(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: City,
    year: Annotated[int, Form()],
    pick: Annotated[str, Form(max_length=90)],
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    event_no, _, project_no = pick.partition("/")
    S.select_for_acceleration(
        db,
        keys=keys_of(state),
        actor=user.login,
        role="city_admin",
        year=year,
        event_no=event_no,
        project_no=project_no,
        note=note.strip() or None,
        now=wb.clock(request),
    )
    return RedirectResponse(f"/mentors/acceleration?year={year}", status_code=303)


@router.post("/mentors/acceleration/support")
def acceleration_support(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: City,
    year: Annotated[int, Form()],
    selection_id: Annotated[int, Form()],
    kind: Annotated[str, Form(max_length=20)],
    on: Annotated[str, Form(max_length=10)],
    description: Annotated[str, Form(max_length=500)],
    progress: Annotated[str, Form(max_length=3)],
) -> Response:
    S.record_support(
        db,
        keys=keys_of(state),
        actor=user.login,
        role=role_of(user),
        selection_id=selection_id,
        kind=kind,
        on=_date_field(on, "日期"),
        description=description.strip() or "—",
        progress=_int_field(progress, "进度（%）", 0, 100),
    )
    return RedirectResponse(f"/mentors/acceleration?year={year}", status_code=303)


# ---- the mentor's own pages ----------------------------------------------------------------------------


def _me_page(request: Request, db: Any, state: AppState, user: User, **extra: Any) -> Response:
    m = repo.mentor_of_user(db, user.login)
    ctx = _ctx(linked=m is not None, error=None, saved=False)
    if m is not None:
        keys = keys_of(state)
        ctx.update(
            profile=S.my_profile(db, keys=keys, actor=user.login),
            relations=S.my_relations(db, actor=user.login),
            assignments=S.my_assignments(db, keys=keys, actor=user.login, now=wb.clock(request)),
            services=repo.services(db, mentor_id=m.id),
        )
    ctx.update(extra)
    return render(request, "mentors/me.html", ctx, status=422 if ctx.get("error") else 200, headers=NO_STORE)


@router.get("/mentor/me")
def me_page(request: Request, db: SessionDep, state: StateDep, user: MentorUser) -> Response:
    return _me_page(request, db, state, user)


@router.post("/mentor/me")
def me_update(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: MentorUser,
    available: Annotated[str, Form(max_length=5)] = "",
    other_specialties: Annotated[str, Form(max_length=200)] = "",
    employer_name: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    _, error = attempt(
        db,
        lambda: S.update_own_profile(
            db,
            keys=keys_of(state),
            actor=user.login,
            changes={
                "available": available == "yes",
                "other_specialties": other_specialties.strip() or None,
                "employer_name": employer_name.strip() or None,
            },
            now=wb.clock(request),
        ),
    )
    return _me_page(request, db, state, user, error=error, saved=error is None)


@router.post("/mentor/me/relations")
def me_relation(
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: MentorUser,
    person_no: Annotated[str, Form(max_length=40)],
    relation: Annotated[str, Form(max_length=20)],
) -> Response:
    _, error = attempt(
        db,
        lambda: S.declare_relation(
            db,
            keys=keys_of(state),
            actor=user.login,
            person_no=person_no.strip(),
            relation=relation,
            now=wb.clock(request),
        ),
    )
    return _me_page(request, db, state, user, error=error, saved=error is None)


@router.get("/mentor/events/{event_no}")
def my_event(event_no: str, request: Request, db: SessionDep, state: StateDep, user: MentorUser) -> Response:
    seat = S.my_assignment(
        db, keys=keys_of(state), actor=user.login, event_no=event_no, now=wb.clock(request)
    )
    if seat is None:
        raise NotFound("您不在本活动的评审组中")
    ev = repo.event(db, event_no)
    assert ev is not None  # my_assignment found it
    return render(
        request,
        "mentors/my_event.html",
        _ctx(
            seat=seat,
            ev=ev,
            projects=repo.projects(db, ev.id),
            error=None,
            scored=_scored(db, state, user, ev),
        ),
        headers=NO_STORE,
    )


def _scored(db: Any, state: AppState, user: User, ev: MentorEvent) -> set[str]:
    return S.my_scored_projects(db, keys=keys_of(state), actor=user.login, event_no=ev.event_no)


@router.post("/mentor/events/{event_no}/respond")
def my_respond(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: MentorUser,
    answer: Annotated[str, Form(max_length=10)],
) -> Response:
    if answer not in ("accept", "decline"):
        raise ValidationFailed("答复：须为 确认参加 或 谢绝")
    seat = S.respond(
        db,
        keys=keys_of(state),
        actor=user.login,
        event_no=event_no,
        accept=answer == "accept",
        now=wb.clock(request),
    )
    return RedirectResponse(f"/mentor/events/{event_no}" if seat else "/mentor/me", status_code=303)


@router.post("/mentor/events/{event_no}/scores")
def my_score(
    event_no: str,
    request: Request,
    db: SessionDep,
    state: StateDep,
    user: MentorUser,
    project_no: Annotated[str, Form(max_length=40)],
    score: Annotated[str, Form(max_length=4)],
) -> Response:
    S.submit_score(
        db,
        keys=keys_of(state),
        actor=user.login,
        event_no=event_no,
        project_no=project_no,
        score=_int_field(score, "评分", 0, S.MAX_SCORE),
        now=wb.clock(request),
    )
    return RedirectResponse(f"/mentor/events/{event_no}", status_code=303)
