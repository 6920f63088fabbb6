"""乡情 talent (clause 4.12, outreach) is available to the labour matching (4.11): a published post shows the
district's consented talent whose skills meet the post's, with reasons and no personal data; another
district's talent and talent without the skills are not shown; a withdrawn consent removes the talent."""

from __future__ import annotations

import re

from tests.web.test_jobs_api import _post
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.jobs import service as jobs
from xiangchuang.jobs.service import Actor

ID_OR_PHONE = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def _talent(clerk, **over):
    body = {
        "kind": "nenggong_qiaojiang",
        "town": "龙驹镇",
        "trade": "竹编工艺",
        "skills": "竹编，篾器修补",
        "recognised_on": "2025-05-01",
    }
    body.update(over)
    return clerk.api("POST", "/api/v1/outreach/talents", json=body)


def _register_person(clerk, phone: str) -> tuple[int, str]:
    r = clerk.api(
        "POST",
        "/api/v1/outreach/people",
        json={
            "name": "外出测试",
            "phone": phone,
            "home_town": "龙驹镇",
            "work_place": "广东省东莞市",
            "trade": "竹编",
            "skills": "竹编",
            "consent_on": "2025-01-10",
            "consent_scope": ["phone"],
        },
    )
    assert r.status_code == 201, r.text
    return int(r.json()["id"]), str(r.json()["ref_no"])


def test_talent_for_a_post(as_role, db_engine, pii, linked):
    business = as_role("tb.biz", "applicant")
    reviewer = as_role("tb.rev", "district_reviewer")
    clerk = as_role("tb.clerk", "window_clerk")
    r = business.api("POST", "/api/v1/jobs/posts", json=_post())
    assert r.status_code == 201, r.text
    no = r.json()["post_no"]
    assert (
        reviewer.api(
            "POST", f"/api/v1/jobs/posts/{no}/verify", json={"decision": "publish", "version": 1}
        ).status_code
        == 200
    )

    pid, ref = _register_person(clerk, "13711112222")
    r = _talent(clerk, outreach_person_id=pid)
    assert r.status_code == 201, r.text
    other, _ = _register_person(clerk, "13711113333")
    assert _talent(clerk, skills="养蜂", trade="养殖", outreach_person_id=other).status_code == 201

    actor = Actor("tb.rev", "district_reviewer", 500101)
    with transaction(make_sessionmaker(db_engine)) as s:
        found = jobs.talent_for_post(s, actor=actor, post_no=no)
    assert [(t.kind_label, t.matched, t.outreach_ref, t.away) for t in found] == [
        ("能工巧匠", ("竹编",), ref, True)
    ]
    assert found[0].reasons[0] == "技能相符 1/2 项（竹编）" and "同一乡镇" in found[0].reasons[1]

    page = business.get(f"/jobs/manage/{no}")
    assert page.status_code == 200 and "能工巧匠" in page.text and ref in page.text
    assert "外出测试" not in page.text and not ID_OR_PHONE.search(page.text)

    # consent withdrawn: no longer offered
    assert (
        clerk.api(
            "POST", f"/api/v1/outreach/people/{pid}/withdraw-consent", json={"on": "2025-06-01"}
        ).status_code
        == 200
    )
    with transaction(make_sessionmaker(db_engine)) as s:
        assert jobs.talent_for_post(s, actor=actor, post_no=no) == []
