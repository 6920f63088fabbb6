"""Registry work for district staff: Excel imports through the registry importer (result, error report
download) and a masked registry search, both limited to the staff member's district."""

from __future__ import annotations

import re
import secrets
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import or_, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from xiangchuang.audit import record
from xiangchuang.errors import NotFound, ValidationFailed
from xiangchuang.ids.masking import mask_name_middle
from xiangchuang.models import Business, Founder, Person, User
from xiangchuang.registry.importer import ImportFileError, import_table, read_source, write_error_report
from xiangchuang.registry.kinds import KINDS
from xiangchuang.web import workbench as wb
from xiangchuang.web.deps import SessionDep, StateDep, require_role
from xiangchuang.web.render import render

router = APIRouter(include_in_schema=False)
DistrictStaff = Annotated[User, Depends(require_role("window_clerk", "district_reviewer"))]
MAX_IMPORT = 50 * 1024 * 1024
MODES = {"all_or_nothing": "全部或全不（有错误则不写入）", "accept_valid": "只导入正确的行"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _report_dir(data_dir: Path, district: int | None) -> Path:
    return data_dir / "import-reports" / str(district)


@router.get("/staff/imports")
def imports_form(request: Request, user: DistrictStaff) -> Response:
    return render(
        request, "staff/imports.html", {"kinds": KINDS, "modes": MODES, "result": None, "error": None}
    )


@router.post("/staff/imports")
async def imports_run(request: Request, db: SessionDep, state: StateDep, user: DistrictStaff) -> Response:
    form = await request.form()
    kind, mode, upload = str(form.get("kind", "")), str(form.get("mode", "all_or_nothing")), form.get("file")
    if kind not in KINDS or mode not in MODES:
        raise ValidationFailed("记录类别或导入模式不正确")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise ValidationFailed("文件：请选择要导入的 Excel（.xlsx）或 CSV 文件")
    content = await upload.read(MAX_IMPORT + 1)
    if len(content) > MAX_IMPORT:
        raise ValidationFailed(f"文件：超过 {MAX_IMPORT // 1024 // 1024} MB")
    name = Path(upload.filename).name

    def run() -> Response:
        token = secrets.token_hex(8)
        report = _report_dir(state.settings.data_dir, user.district) / f"{token}.xlsx"
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / (name if re.fullmatch(r"[\w.\-\u4e00-\u9fff]{1,120}", name) else "upload.xlsx")
            path.write_bytes(content)
            try:
                source = read_source(path)
                with db.begin_nested():
                    result = import_table(
                        db.connection(),
                        kind=kind,
                        source=source,
                        pii=wb.pii(state),
                        mode=mode,  # type: ignore[arg-type]
                        district=user.district,
                        error_report=str(report),
                    )
            except ImportFileError as exc:
                return render(
                    request,
                    "staff/imports.html",
                    {"kinds": KINDS, "modes": MODES, "result": None, "error": str(exc)},
                    status=422,
                )
        if result.errors or result.warnings:
            report.parent.mkdir(parents=True, exist_ok=True)
            write_error_report(result, report)
        record(
            db,
            key=state.audit_key,
            actor=user.login,
            actor_role=user.role,
            district=user.district,
            action="registry.import",
            subject=f"import_batches:{result.batch_id}",
            details={
                "kind": kind,
                "mode": mode,
                "status": result.status,
                "inserted": result.inserted,
                "updated": result.updated,
                "rejected": result.rejected,
            },
        )
        return render(
            request,
            "staff/imports.html",
            {
                "kinds": KINDS,
                "modes": MODES,
                "result": result,
                "error": None,
                "report": token if (result.errors or result.warnings) else None,
            },
        )

    return await run_in_threadpool(run)


@router.get("/staff/imports/reports/{token}.xlsx")
def import_report(token: str, state: StateDep, user: DistrictStaff) -> Response:
    if not re.fullmatch(r"[0-9a-f]{16}", token):
        raise NotFound("错误报告不存在")
    path = _report_dir(state.settings.data_dir, user.district) / f"{token}.xlsx"
    if not path.exists():  # another district's report is not in this district's folder
        raise NotFound("错误报告不存在")
    return FileResponse(path, media_type=XLSX, filename="import-errors.xlsx")


@router.get("/staff/registry")
def registry_search(
    request: Request, db: SessionDep, state: StateDep, user: DistrictStaff, q: str = ""
) -> Response:
    """Businesses of the district by number or name (masked founder name and 身份证号)."""
    q = q.strip()[:60]
    rows = []
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        found = db.execute(
            select(Business, Person)
            .outerjoin(Founder, Founder.business_id == Business.id)
            .outerjoin(Person, Person.id == Founder.person_id)
            .where(
                Business.district == user.district, or_(Business.business_no == q, Business.name.like(like))
            )
            .order_by(Business.id)
            .limit(50)
        ).all()
        p = wb.pii(state)
        for business, person in found:
            rows.append(
                {
                    "business": business,
                    "founder": mask_name_middle(person.name) if person else "—",
                    "id_number": p.masked_id(person.id_number_enc) if person else "—",
                    "person_no": person.person_no if person else "—",
                }
            )
    return render(request, "staff/registry.html", {"q": q, "rows": rows})
