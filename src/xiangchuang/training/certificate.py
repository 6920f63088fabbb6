"""The training certificate (培训合格证) as a PDF: ReportLab with the built-in CID font STSong-Light (no font
file shipped), drawn from the record on demand. It carries the trainee's name (the certificate is the
trainee's own document), the course, hours, provider, class, completion date and the verification code
with the address of the public check (which shows a masked name only)."""

from __future__ import annotations

import io
from typing import Final

from sqlalchemy.orm import Session

from xiangchuang.errors import InvalidTransition
from xiangchuang.models import Person
from xiangchuang.training import repository as repo

FONT: Final = "STSong-Light"
VERIFY_PATH: Final = "/training/verify"
KIND_TITLES: Final = {
    "syb": "创办你的企业（SYB）创业培训",
    "iyb": "改善你的企业（IYB）创业培训",
    "online": "网络创业培训",
    "skills": "技能培训",
    "package": "培训包培训",
}


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def certificate_pdf(session: Session, *, enrolment_id: int) -> bytes:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    e = repo.enrolment(session, enrolment_id)
    if e.state != "completed" or not e.certificate_code or e.completion_date is None:
        raise InvalidTransition("该学员尚未结业，没有培训证书")
    klass = repo.klass(session, e.class_id)
    course = repo.course(session, klass.course_id)
    provider = repo.provider(session, klass.provider_id)
    person = session.get(Person, e.person_id)
    assert person is not None
    _register_font()
    buf = io.BytesIO()
    size = landscape(A4)
    c = canvas.Canvas(buf, pagesize=size, pageCompression=0)
    c.setTitle(f"培训合格证 {e.certificate_code}")
    c.setAuthor(provider.name)
    w, h = size
    c.setLineWidth(2)
    c.rect(12 * mm, 12 * mm, w - 24 * mm, h - 24 * mm)
    c.setFont(FONT, 30)
    c.drawCentredString(w / 2, h - 45 * mm, "培训合格证")
    c.setFont(FONT, 15)
    lines = [
        f"学员 {person.name} 于 {klass.start_date.isoformat()} 至 {klass.end_date.isoformat()}",
        f"参加 {provider.name} 举办的「{course.title}」",
        f"（{KIND_TITLES[course.kind]}，{course.hours} 学时，班级 {klass.class_no}），",
        f"经考核，准予结业。结业日期：{e.completion_date.isoformat()}",
    ]
    y = h - 75 * mm
    for line in lines:
        c.drawString(35 * mm, y, line)
        y -= 12 * mm
    c.setFont(FONT, 12)
    c.drawString(35 * mm, 40 * mm, f"证书编号（验证码）：{e.certificate_code}")
    c.drawString(35 * mm, 32 * mm, f"真伪查询：乡创通 {VERIFY_PATH}?code={e.certificate_code}")
    c.drawRightString(w - 35 * mm, 40 * mm, provider.name)
    issued = e.certificate_issued_on or e.completion_date
    c.drawRightString(w - 35 * mm, 32 * mm, f"发证日期：{issued.isoformat()}")
    c.showPage()
    c.save()
    return buf.getvalue()
