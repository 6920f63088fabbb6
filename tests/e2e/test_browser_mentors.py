"""Browser journey of the mentor draw (clause 2.6) in headless chromium against a real server: the city
administrator creates a review event through the form, organiser and supervisor each commit (the page
makes and shows the secret once) and reveal, the draw runs from the page and the slots stay sealed; the
drawn mentor signs in, sees their own assignment (and no one else's name) and confirms it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from tests.e2e.kit import By, Journey, chromium, make_server

USERS = (
    ("e2e.city", "city_admin", None),
    ("e2e.sup", "city_admin", None),
    ("e2e.m", "mentor", None),
)
MENTORS = 4


def seed_mentors(session, cipher, audit_key) -> None:
    from tests.registry.factories import Registry
    from xiangchuang.models import Mentor
    from xiangchuang.registry.pii import Pii

    reg = Registry(session.connection(), Pii(cipher))
    reg._seq = itertools.count(200)
    for i in range(MENTORS):
        person = reg.person(no=f"P-MT{i}")
        session.add(
            Mentor(
                mentor_no=f"MT{i}",
                person_id=person,
                level="city",
                specialty="agriculture",
                district=500101,
                employer_name=f"某农业大学{i}",
                available=True,
                status="active",
                user_id="e2e.m" if i == 0 else None,
            )
        )
    session.flush()


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path, users=USERS, extra_seed=seed_mentors)


def _set(j: Journey, element_id: str, value: str) -> None:
    """Set a field's value (date inputs do not take typed text the same way in every locale)."""
    el = j.d.find_element(By.ID, element_id)
    j.d.execute_script("arguments[0].value = arguments[1];", el, value)


def test_city_admin_runs_a_draw_and_the_mentor_sees_their_seat(browser, server):
    j = Journey(browser, server)
    j.sign_in("e2e.city")
    j.go("/mentors/events")
    j.click("#new-event")
    _set(j, "event_no", "E2E1")
    _set(j, "title", "返乡创业项目评审（浏览器测试）")
    _set(j, "event_date", "2025-03-05")
    _set(j, "unseal_at", "2025-03-05T08:30")
    _set(j, "quotas", f"农业种养 市级 {MENTORS}")
    _set(j, "backups", "0")
    _set(j, "projects", "XM1 | 生态养殖 | P-VET | B-VET | 是")
    _set(j, "supervisor_user", "e2e.sup")
    j.shot("mentors-event-form")
    j.click("form.form button[type=submit]")
    j.wait_text("承诺与揭示")
    assert "E2E1" in j.d.title or "E2E1" in j.d.page_source
    j.click("#commit-btn")
    secret_org = j.d.find_element(By.ID, "party-secret").text
    assert len(secret_org) == 64
    j.shot("mentors-commit-secret")

    j.sign_in("e2e.sup")
    j.go("/mentors/events/E2E1")
    j.click("#commit-btn")
    secret_sup = j.d.find_element(By.ID, "party-secret").text
    j.wait_text("抽取输入摘要")
    j.go("/mentors/events/E2E1")
    j.d.find_element(By.ID, "secret").send_keys(secret_sup)
    j.click("#reveal-btn")

    j.sign_in("e2e.city")
    j.go("/mentors/events/E2E1")
    j.d.find_element(By.ID, "secret").send_keys(secret_org)
    j.click("#reveal-btn")
    j.click("#draw-btn")
    j.wait_text("抽取完成")
    slots = j.d.find_element(By.ID, "slots").text
    assert slots.count("（密封）") == MENTORS  # "slot 3 notified", never a name before unseal
    assert "测试人员" not in j.d.page_source
    j.shot("mentors-draw-sealed")

    j.sign_in("e2e.m")
    j.go("/mentor/me")
    j.wait_text("E2E1")
    table = j.d.find_element(By.ID, "assignments").text
    assert "E2E1" in table and "已通知" in table
    j.click("#assignments a")
    j.wait_text("其他评审专家的姓名不向您显示")
    page = j.d.page_source
    others = [f"测试人员{200 + i}" for i in range(1, MENTORS)]  # the other mentors' registry names
    assert not any(name in page for name in others)
    j.click("#respond-btn")
    assert j.d.find_element(By.ID, "seat-status").text == "已确认"
    j.shot("mentors-own-seat-confirmed")

    j.sign_in("e2e.city")
    j.go("/mentors/events/E2E1")
    assert "已确认" in j.d.find_element(By.ID, "slots").text
    assert dt.date(2025, 3, 5).isoformat() in j.d.page_source
