"""The public 政策体检 questionnaire in a real browser (Debian chromium): three steps forward and back, the
business's operating status (经营状态) answered with the case schema's labels and carried between steps,
and 不清楚 giving 待确定 with 经营状态 named as missing (never assumed 正常)."""

from __future__ import annotations

import pytest

from tests.e2e.kit import By, Journey, Select, chromium, make_server


@pytest.fixture
def browser():
    yield from chromium()


@pytest.fixture
def server(tmp_path):
    yield from make_server(tmp_path)


def _set(d, element_id: str, value: str) -> None:
    el = d.find_element(By.ID, element_id)
    d.execute_script("arguments[0].value = arguments[1]", el, value)


def _radio(d, name: str, value: str) -> None:
    d.find_element(By.CSS_SELECTOR, f"input[type=radio][name='{name}'][value='{value}']").click()


def _startup_section(d) -> str:
    for section in d.find_elements(By.CSS_SELECTOR, "section.result"):
        if "创业补助" in section.find_element(By.TAG_NAME, "h3").text:
            return str(section.text)
    raise AssertionError("no 创业补助 result")


def test_public_checkup_asks_the_business_status(server, browser):
    j = Journey(browser, server)
    d = browser
    j.go("/checkup")
    j.wait_text("第一步")
    _set(d, "birth_date", "1990-06-15")
    d.find_element(By.CSS_SELECTOR, "input[name=groups][value=returning_migrant_worker]").click()
    _radio(d, "returning_entrepreneur", "yes")
    _radio(d, "first_business", "yes")
    j.click("button[value=next]")
    j.wait_text("第二步")
    _radio(d, "has_business", "yes")
    Select(d.find_element(By.ID, "kind")).select_by_value("enterprise")
    Select(d.find_element(By.ID, "size_class")).select_by_value("small_micro")
    _set(d, "registration_date", "2022-03-10")
    status = Select(d.find_element(By.ID, "business_status"))
    # the case schema's choices with its labels, and 不清楚 (the default: no answer)
    assert [o.text for o in status.options] == ["不清楚", "正常", "经营异常", "注销", "吊销"]
    assert status.first_selected_option.text == "不清楚"
    label = d.find_element(By.CSS_SELECTOR, "label[for='business_status']").text
    assert label.startswith("经营状态")
    status.select_by_visible_text("正常")
    Select(d.find_element(By.ID, "district")).select_by_value("500101")
    d.find_element(By.ID, "si_paid_yuan").send_keys("86400")
    j.shot("checkup-business-status")
    j.click("button[value=next]")
    j.wait_text("第三步")
    # back to step 2: the answer is still there
    j.click("button[value=back]")
    j.wait_text("第二步")
    assert Select(d.find_element(By.ID, "business_status")).first_selected_option.text == "正常"
    j.click("button[value=next]")
    j.wait_text("第三步")
    Select(d.find_element(By.ID, "received")).select_by_value("none")
    j.click("button[value=finish]")
    j.wait_text("政策体检结果")
    section = _startup_section(d)
    assert "符合" in section and "¥17,280.00" in section, section
    j.shot("checkup-result-status-normal")

    # 修改回答 (back to step 2, the answer kept) → 不清楚: 待确定, 经营状态 named as missing
    j.click("button[value=back]")
    j.wait_text("第二步")
    assert Select(d.find_element(By.ID, "business_status")).first_selected_option.text == "正常"
    Select(d.find_element(By.ID, "business_status")).select_by_visible_text("不清楚")
    j.click("button[value=finish]")
    j.wait_text("政策体检结果")
    section = _startup_section(d)
    assert "待确定" in section and "¥17,280.00" not in section, section
    missing = d.find_elements(By.CSS_SELECTOR, "section.result p.missing")
    assert any("经营状态" in m.text for m in missing if m.text and "还缺少的信息" in m.text)
    assert "还缺少的信息" in section and "经营状态" in section.split("还缺少的信息", 1)[1], section
    j.shot("checkup-result-status-unknown")
