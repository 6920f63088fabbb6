"""In a real browser (Debian chromium, Selenium; see tests/e2e/kit.py), one page per part of clauses 3.7 and
5.13: the entrepreneur requests a 服务超市 service, the clerk accepts and completes it, the entrepreneur
rates it; the clerk records a visit and the problem the business raised, resolves it, and the business
confirms the resolution; the district reviewer records a coordination meeting with two departments, assigns
a task and marks it done. Bad input is shown again with the Chinese reason. Screenshots in
test-artifacts/e2e/."""

from __future__ import annotations

import pytest
from selenium.webdriver.support.ui import Select

from tests.applications import NOW
from tests.e2e.kit import USERS, By, Journey, chromium, make_server


def _seed(session, cipher, audit_key) -> None:
    from xiangchuang.services import service as svc
    from xiangchuang.users.service import UserScope

    reviewer = UserScope(
        level="district", user_id=0, login="e2e.reviewer", role="district_reviewer", district=500101
    )
    clerk = UserScope(level="district", user_id=0, login="e2e.clerk", role="window_clerk", district=500101)
    kw = {"audit_key": audit_key, "now": NOW}
    svc.create_window(
        session, scope=reviewer, **kw, name="创业服务专门窗口", level="district", district=None, street=None,
        centre="区政务服务中心", address="一楼 8 号窗口", hours="工作日 9:00–17:00",
        handles=["policy_consult", "on_behalf", "supermarket"], staff_logins=["e2e.clerk"],
    )  # fmt: skip
    svc.create_offering(
        session, scope=reviewer, **kw, category="accounting", title="小微企业代理记账", provider_name="演示财务公司",
        provider_kind="market", district=None, description="建账记账、纳税申报", fee_note="政府购买，免费",
    )  # fmt: skip
    svc.create_official(session, scope=clerk, **kw, name="周副区长", title="副区长", unit="区政府")


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path, users=USERS, extra_seed=_seed)


def _set(d, element_id: str, value: str) -> None:
    """A date input's value, independent of the browser's locale-specific typing order."""
    d.execute_script("arguments[0].value = arguments[1]", d.find_element(By.ID, element_id), value)


def _alert(d) -> str:
    found = d.find_elements(By.CSS_SELECTOR, '[role="alert"]')
    return found[0].text if found else ""


def test_service_windows_leaders_contact_and_coordination(server, browser):
    j = Journey(browser, server)
    d = browser
    today = NOW.date().isoformat()

    # --- 3.7 服务超市: request → accepted → completed → rated ------------------------------------------
    j.sign_in("e2e.vet")
    j.go("/services/catalogue")
    j.wait_text("小微企业代理记账")
    j.click("#r-submit")  # no detail: the form comes back with the reason
    assert "需求说明：必填" in _alert(d)
    d.find_element(By.ID, "r-detail").send_keys("需要代理记账和纳税申报")
    j.click("#r-submit")
    assert j.state() == "已提交"
    request_url = d.current_url
    j.shot("services-request")
    j.sign_in("e2e.clerk")
    d.get(request_url)
    j.click("#act-accept")
    d.find_element(By.ID, "c-text").send_keys("已完成建账")
    j.click("#act-complete")
    assert j.state() == "已办结"
    j.sign_in("e2e.vet")
    d.get(request_url)
    Select(d.find_element(By.ID, "rate-stars")).select_by_value("5")
    j.click("#act-rate")
    assert "5 星" in d.find_element(By.ID, "rating").text
    j.shot("services-rated")

    # --- 5.13 领导干部联系企业: assign → visit → problem → resolution confirmed by the business ----------
    j.sign_in("e2e.clerk")
    j.go("/services/officials")
    d.find_element(By.ID, "as-business").send_keys("B-VET")
    j.click("#as-submit")
    j.wait_text("至今")
    j.go("/services/visits")
    d.find_element(By.ID, "v-business").send_keys("B-VET")
    _set(d, "v-date", today)
    d.find_element(By.ID, "v-summary").send_keys("了解融资需求")
    j.click("#v-submit")
    assert not _alert(d), _alert(d)
    j.go("/services/problems")
    d.find_element(By.ID, "q-business").send_keys("B-VET")
    d.find_element(By.ID, "q-owner").send_keys("区就业中心")
    j.click("#q-submit")
    assert "问题描述：必填" in _alert(d)
    d.find_element(By.ID, "q-description").send_keys("流动资金不足")
    j.click("#q-submit")
    assert j.state() == "待办理"
    problem_url = d.current_url
    d.find_element(By.ID, "pg-note").send_keys("已对接银行")
    j.click("#act-progress")
    d.find_element(By.ID, "rs-text").send_keys("贷款已发放")
    j.click("#act-resolve")
    assert j.state() == "已办结待企业确认"
    j.sign_in("e2e.vet")
    d.get(problem_url)
    j.click("#act-confirm")
    assert j.state() == "企业已确认解决"
    j.shot("services-problem-confirmed")

    # --- 5.13 会商: meeting with decisions → task → done ------------------------------------------------
    j.sign_in("e2e.reviewer")
    j.go("/services/meetings")
    d.find_element(By.ID, "m-title").send_keys("返乡入乡创业工作会商")
    _set(d, "m-date", today)
    d.find_element(By.ID, "m-convener").send_keys("分管副区长")
    d.find_element(By.CSS_SELECTOR, 'input[name="departments"][value="hrss"]').click()
    d.find_element(By.ID, "m-decisions").send_keys("设立创业服务专区")
    j.click("#m-submit")
    assert "会商须至少两个部门参加" in _alert(d)
    d.find_element(By.CSS_SELECTOR, 'input[name="departments"][value="hrss"]').click()
    d.find_element(By.CSS_SELECTOR, 'input[name="departments"][value="finance"]').click()
    j.click("#m-submit")
    j.wait_text("设立创业服务专区")
    d.find_element(By.ID, "k-owner").send_keys("区财政局")
    d.find_element(By.ID, "k-desc").send_keys("落实场租补贴资金")
    j.click("#k-submit")
    d.find_element(By.ID, "done-1").send_keys("资金已下达")
    j.click("#act-done-1")
    assert "已完成" in d.find_element(By.ID, "task-1").text
    j.shot("services-meeting-task-done")
