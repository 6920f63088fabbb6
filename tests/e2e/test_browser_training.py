"""创业培训 in a real browser (Debian chromium + chromedriver via Selenium; the server's test clock is
2025-03-03): the public class list and a class page, an entrepreneur refused for SYB with the engine's
Chinese reason (licence more than 1 year before the start → IYB) and enrolled in IYB, 「我的培训」 showing
the course, and the provider's class page with the trainee on the roster (masked name). Screenshots in
test-artifacts/e2e/."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from tests.e2e.kit import USERS, By, Journey, chromium, make_server
from xiangchuang.models import Person, User
from xiangchuang.training import service as svc

D = 500101
AT = dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
START = dt.date(2025, 3, 10)


def _seed(session, cipher, key) -> None:
    session.execute(update(Person).where(Person.person_no == "P-VET").values(returning_entrepreneur=True))
    session.execute(update(User).where(User.login == "e2e.provider").values(org_code="E2ETP"))
    staff = svc.Actor("e2e.seed", "district_reviewer", D)
    p = svc.create_provider(
        session, org_code="E2ETP", name="万州区创业培训学校", kind="vocational_school", district=D, who=staff,
        audit_key=key, now=AT,
    )  # fmt: skip
    svc.accredit(
        session, provider_id=p.id, accreditation_no="万人社认〔2025〕3号", course_kinds="syb,iyb",
        valid_from=dt.date(2025, 1, 1), valid_until=dt.date(2026, 12, 31), who=staff, audit_key=key, now=AT,
    )  # fmt: skip
    me = svc.Actor("e2e.provider", "training_provider", None, provider_id=p.id)
    for code, kind, title in (("E-SYB", "syb", "创办你的企业"), ("E-IYB", "iyb", "改善你的企业")):
        course = svc.create_course(
            session, course_code=code, kind=kind, title=title, hours=40, content="经营改善与财务管理",
            who=staff, audit_key=key, now=AT,
        )  # fmt: skip
        svc.create_class(
            session, provider_id=p.id, course_id=course.id, mode="night_school", district=D, place="某镇农民夜校",
            start_date=START, end_date=START + dt.timedelta(days=3), capacity=20, sessions=4, who=me,
            audit_key=key, cipher=cipher, teachers=[svc.TeacherIn(name="张老师")], now=AT,
        )  # fmt: skip


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(
        tmp_path, users=(*USERS, ("e2e.provider", "training_provider", None)), extra_seed=_seed
    )


def test_class_page_and_enrolment(server, browser):
    j = Journey(browser, server)
    d = browser

    # anyone: the public class list and a class page
    j.go("/training/classes")
    j.wait_text("创业培训班（报名中）")
    rows = d.find_elements(By.CSS_SELECTOR, "#class-list tbody tr")
    assert len(rows) == 2 and "农民夜校" in rows[0].text
    j.shot("training-classes-public")

    # the entrepreneur: SYB refused with the reason, IYB enrolled
    j.sign_in("e2e.vet")
    j.go("/training/classes")
    links = {a.text: a.get_attribute("href") for a in d.find_elements(By.CSS_SELECTOR, "#class-list a")}
    syb_row = next(r for r in d.find_elements(By.CSS_SELECTOR, "#class-list tbody tr") if "SYB" in r.text)
    syb_href = syb_row.find_element(By.CSS_SELECTOR, "a").get_attribute("href")
    iyb_href = next(h for t, h in links.items() if h != syb_href)
    d.get(syb_href)
    j.wait_text("创办你的企业")
    j.click("#enrol")
    alert = d.find_element(By.CSS_SELECTOR, '[role="alert"]').text
    assert "不符合" in alert and "应参加IYB培训" in alert, alert
    j.shot("training-syb-refused")
    d.get(iyb_href)
    j.wait_text("改善你的企业")
    label = d.find_element(By.CSS_SELECTOR, "#seats").text
    assert label == "0/20"
    j.click("#enrol")
    j.wait_text("报名成功")
    assert "改善你的企业" in d.find_element(By.ID, "my-courses").text
    assert "已报名" in d.find_element(By.ID, "my-courses").text
    steps = d.find_element(By.ID, "next-steps").text
    assert "IYB" in steps and "SYB" in steps
    j.shot("training-my")

    # the provider: the trainee on the roster, name masked
    j.sign_in("e2e.provider")
    d.get(iyb_href)
    j.wait_text("学员名册")
    roster = d.find_element(By.ID, "roster").text
    assert "P-VET" in roster and "已报名" in roster and "*" in roster
    assert d.find_element(By.CSS_SELECTOR, "label[for=session_no]").text == "课次"
    j.shot("training-provider-roster")
