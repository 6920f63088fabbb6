"""The training pages on both databases: district staff register a provider, its accreditation, a course
and a 项目制 purchase through the forms; a provider runs a class through its pages (open, enrol, attendance,
completion, claim, material upload, submit); bad form input re-renders with a Chinese error and writes
nothing; an unlinked provider account gets an explanation, not an error."""

from __future__ import annotations

import datetime as dt
import io
import re

import openpyxl
from sqlalchemy import func, select, update

from xiangchuang.chinatime import china_date
from xiangchuang.models import Accreditation, Application, Course, Purchase, TrainingProvider, User

D = 500101
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _n(db_engine, model) -> int:
    with db_engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_staff_and_provider_pages(as_role, db_engine, linked):
    today = china_date(dt.datetime.now(dt.UTC))
    rev = as_role("rev.one", "district_reviewer", D)
    clerk = as_role("clerk.one", "window_clerk", D)
    tp = as_role("tp.one", "training_provider")
    page = tp.get("/training/provider")
    assert page.status_code == 200 and "未关联培训机构" in page.text

    # bad input: re-rendered with the reason, nothing written
    r = rev.post(
        "/training/staff/providers", {"org_code": "TP 01", "name": "某校", "kind": "vocational_school"}
    )
    assert (
        r.status_code == 422
        and 'role="alert"' in r.text
        and "机构代码：只能由字母、数字和连字符组成" in r.text
    )
    assert _n(db_engine, TrainingProvider) == 0
    r = rev.post(
        "/training/staff/providers", {"org_code": "TP01", "name": "万州职教中心", "kind": "vocational_school"}
    )
    assert r.status_code == 303
    pid = int(
        re.search(r"/training/staff/providers/(\d+)/accreditations", rev.get("/training/staff").text).group(1)
    )
    acc = {"accreditation_no": "万人社认〔2026〕1号", "valid_from": "2026-01-01", "valid_until": "2027-12-31"}
    r = rev.post(f"/training/staff/providers/{pid}/accreditations", acc)
    assert r.status_code == 422 and "认定培训类别：至少选择一项" in r.text
    refused = clerk.post(f"/training/staff/providers/{pid}/accreditations", {**acc, "course_kinds": ["syb"]})
    assert refused.status_code == 403 and "只有区县人社审核可以认定培训机构" in refused.text
    assert _n(db_engine, Accreditation) == 0
    r = rev.post(
        f"/training/staff/providers/{pid}/accreditations", {**acc, "course_kinds": ["iyb", "skills"]}
    )
    assert r.status_code == 303 and _n(db_engine, Accreditation) == 1
    course = {
        "course_code": "C-IYB",
        "kind": "iyb",
        "title": "改善你的企业",
        "hours": "40",
        "content": "经营改善",
    }
    assert rev.post("/training/courses", {**course, "hours": "0"}).status_code == 422
    assert _n(db_engine, Course) == 0
    assert rev.post("/training/courses", course).status_code == 303
    purchase = {
        "contract_no": "HT-2026-1", "provider_id": str(pid), "course_kind": "skills", "trainees": "30",
        "price": "800.50", "signed_on": "2026-02-01", "deliver_by": "2026-12-31",
    }  # fmt: skip
    r = rev.post("/training/staff/purchases", {**purchase, "price": "-1"})
    assert r.status_code == 422 and "单价（元）" in r.text and _n(db_engine, Purchase) == 0
    assert rev.post("/training/staff/purchases", purchase).status_code == 303
    staff = rev.get("/training/staff").text
    assert "万州职教中心" in staff and "HT-2026-1" in staff and "800.50" in staff

    # the provider account linked by org_code runs a class through its pages
    with db_engine.begin() as conn:
        conn.execute(update(User).where(User.id == tp.user_id).values(org_code="TP01"))
    with db_engine.connect() as conn:
        cid = conn.execute(select(Course.id)).scalar_one()
    form = {
        "course_id": str(cid), "mode": "direct_train", "district": str(D), "place": "某村文化室",
        "start_date": today.isoformat(), "end_date": today.isoformat(), "capacity": "5", "sessions": "1",
        "mentor_no": "M-NOBODY",
    }  # fmt: skip
    r = tp.post("/training/classes", form)
    assert r.status_code == 422 and "不在创业导师库中" in r.text
    r = tp.post("/training/classes", {**form, "mentor_no": "", "teacher_name": "赵老师"})
    assert r.status_code == 303, r.text
    class_url = r.headers["location"].split("?")[0]
    class_id = int(class_url.rsplit("/", 1)[1])
    from xiangchuang.models import Person

    with db_engine.begin() as conn:
        conn.execute(
            update(Person).where(Person.id == linked["person_id"]).values(returning_entrepreneur=True)
        )
        pno = conn.execute(select(Person.person_no).where(Person.id == linked["person_id"])).scalar_one()
    r = tp.post(f"{class_url}/enrol-person", {"person_no": "P-NOBODY"})
    assert r.status_code == 422 and "不在登记库中" in r.text
    assert tp.post(f"{class_url}/enrol-person", {"person_no": pno}).status_code == 303
    page = tp.get(class_url).text
    no = re.search(r'name="trainee" value="([^"]+)"', page).group(1)
    # Excel import with a bad row: re-rendered with the row's reason
    wb = openpyxl.Workbook()
    wb.active.append(["学员编号", "课次", "上课日期", "出勤"])
    wb.active.append([no, 1, today.isoformat(), "不知道"])
    buf = io.BytesIO()
    wb.save(buf)
    r = tp.client.post(
        f"{class_url}/import/attendance", data={"csrf_token": tp.token},
        files={"file": ("a.xlsx", buf.getvalue(), "application/octet-stream")}, follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 422 and "第 2 行「出勤」：须填 是 或 否" in r.text
    r = tp.post(
        f"{class_url}/attendance",
        {"session_no": "1", "session_date": today.isoformat(), "trainee": no, "present": no},
    )
    assert r.status_code == 303
    assert tp.post(f"{class_url}/complete", {}).status_code == 303
    page = tp.get(class_url).text
    assert "已结业" in page and "XC-" in page
    # 补足差额 is for SYB classes only: no button here, and the route refuses with the reason.
    assert "生成补差申请" not in page and "生成补贴申请" in page
    r = tp.post(f"/training/classes/{class_id}/top-up")
    assert r.status_code == 422 and "没有补足差额" in r.text
    assert tp.post(f"/training/classes/{class_id}/claims").status_code == 303
    with db_engine.connect() as conn:
        app_id = conn.execute(select(Application.id)).scalar_one()
    for material in ("identity", "business_licence"):
        r = tp.client.post(
            f"/training/claims/{app_id}/materials", data={"csrf_token": tp.token, "material": material},
            files={"file": (f"{material}.pdf", PDF, "application/pdf")}, follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303, r.text
    assert tp.post(f"/training/claims/{app_id}/submit").status_code == 303
    page = tp.get("/training/provider").text
    assert "改善你的企业（IYB）培训补贴" in page and "已提交" in page
    roster = tp.get(f"{class_url}/roster.xlsx")
    assert roster.status_code == 200 and roster.content[:2] == b"PK"
    assert clerk.get(class_url).status_code == 200 and "学员名册" in clerk.get(class_url).text
