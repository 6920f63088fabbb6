"""End to end in a real browser (Debian chromium + chromedriver, driven by Selenium; never downloads a
driver): a real server (uvicorn subprocess, SQLite seeded here), and the whole path of a 创业补助
application — the entrepreneur checks eligibility and applies with attachments; the street clerk accepts
and passes the first review; the district reviewer returns it for correction; the entrepreneur fixes it
and resubmits; clerk and reviewer review again; 公示 (the server's test clock moves past the publicity
period); the reviewer approves (budget reserved); district finance makes a batch, pays and confirms; the
entrepreneur sees 已拨付. Keyboard-only use (Tab order) and labels are checked on the apply form.

A screenshot of each step is saved in test-artifacts/e2e/ (gitignored). Without chromium the test is
skipped locally and FAILS under CI=true (.ci/run installs chromium and chromium-driver)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from tests.applications import LATER, NOW, PDF, registry
from tests.web.conftest import PASSWORD
from xiangchuang.applications.kinds import KINDS

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"


def _browser_available() -> bool:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


if not _browser_available():
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError(
            "CI=true 但没有可用的浏览器：需要 /usr/bin/chromium、/usr/bin/chromedriver 和 selenium（.ci/run 会安装）"
        )
    pytest.skip("chromium / chromedriver / selenium not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

USERS = (
    ("e2e.vet", "applicant", None),
    ("e2e.clerk", "window_clerk", 500101),
    ("e2e.reviewer", "district_reviewer", 500101),
    ("e2e.finance", "district_finance", 500101),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(data_dir: Path) -> dict[str, str | None]:
    """Keyring, migrated SQLite, the registry of tests.applications, accounts with known TOTP secrets."""
    from xiangchuang.audit import audit_key
    from xiangchuang.crypto import FieldCipher, generate_keyring
    from xiangchuang.db import make_engine, make_sessionmaker, transaction
    from xiangchuang.dbmigrate import upgrade
    from xiangchuang.models import Business, Person
    from xiangchuang.registry.pii import Pii
    from xiangchuang.users.service import create_user

    ring = generate_keyring(data_dir / "keyring.json")
    pii = Pii(FieldCipher(ring))
    engine = make_engine(f"sqlite:///{data_dir / 'xiangchuang.db'}")
    upgrade(engine)
    with engine.begin() as conn:
        registry(conn, pii)
        enc, _ = pii.bank_account("6217000010001234567")
        conn.execute(update(Person).where(Person.person_no == "P-VET").values(bank_account_enc=enc))
    secrets: dict[str, str | None] = {}
    with transaction(make_sessionmaker(engine)) as s:
        person = s.execute(select(Person.id).where(Person.person_no == "P-VET")).scalar()
        business = s.execute(select(Business.id).where(Business.business_no == "B-VET")).scalar()
        for login, role, district in USERS:
            secret = None if role == "applicant" else pyotp.random_base32()
            secrets[login] = secret
            create_user(
                s,
                login=login,
                display_name={"applicant": "王创业"}.get(role, login),
                role=role,
                password=PASSWORD,
                actor="system",
                audit_key=audit_key(ring),
                district=district,
                person_id=person if role == "applicant" else None,
                business_id=business if role == "applicant" else None,
                totp_secret=secret,
                cipher=pii.cipher,
            )
    engine.dispose()
    return secrets


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    secrets = _seed(data)
    clock = tmp_path / "clock.txt"
    clock.write_text(NOW.isoformat())
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIANGCHUANG_")}
    env.update({"XIANGCHUANG_DATA_DIR": str(data), "XC_E2E_CLOCK_FILE": str(clock), "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.e2e.serve_app:app_with_test_clock",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            break
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "server exited"
            assert time.monotonic() < deadline, "server did not start within 60 s"
            time.sleep(0.3)
    yield {"base": base, "secrets": secrets, "clock": clock}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1100,1400",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _is_stale(exc: WebDriverException) -> bool:
    # chromium sometimes reports a replaced document as an inspector error, not as a stale element
    return isinstance(exc, StaleElementReferenceException) or "does not belong to the document" in str(exc)


def _gone(element) -> bool:
    """``ec.staleness_of`` that also understands chromium's inspector wording for a replaced document."""
    try:
        element.is_enabled()
    except WebDriverException as exc:
        if _is_stale(exc):
            return True
        raise
    return False


class Journey:
    def __init__(self, driver, server) -> None:
        self.d = driver
        self.base = server["base"]
        self.secrets = server["secrets"]
        self.clock = server["clock"]
        self.jars: dict[str, list[dict]] = {}
        self.n = 0
        self.as_user: str | None = None
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def shot(self, name: str) -> None:
        self.n += 1
        path = ARTIFACTS / f"{self.n:02d}-{name}.png"
        self.d.save_screenshot(str(path))
        assert path.stat().st_size > 1000

    def go(self, path: str) -> None:
        self.d.get(self.base + path)

    def wait_text(self, text: str, timeout: float = 30) -> None:
        WebDriverWait(self.d, timeout).until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), text))

    def click(self, css: str) -> None:
        """Click and wait for the next page. On a loaded machine chromium may still be swapping documents
        when the element is found ("Node with given id does not belong to the document"): the click was
        never dispatched then, so find the element again and retry."""
        for attempt in range(4):
            try:
                old = self.d.find_element(By.TAG_NAME, "html")
                self.d.find_element(By.CSS_SELECTOR, css).click()
                break
            except WebDriverException as exc:
                if not _is_stale(exc) or attempt == 3:
                    raise
                time.sleep(0.5)
        WebDriverWait(self.d, 30).until(lambda _d: _gone(old))

    def sign_in(self, login: str) -> None:
        if self.as_user == login:
            return
        if self.as_user is not None:
            self.jars[self.as_user] = self.d.get_cookies()
        self.go("/login")
        self.d.delete_all_cookies()
        if login in self.jars:
            for cookie in self.jars[login]:
                self.d.add_cookie(cookie)
            self.as_user = login
            return
        self.go("/login")
        self.d.find_element(By.ID, "login").send_keys(login)
        self.d.find_element(By.ID, "password").send_keys(PASSWORD)
        self.click("form button[type=submit]")
        secret = self.secrets[login]
        if secret:
            self.d.find_element(By.ID, "code").send_keys(pyotp.TOTP(secret).now())
            self.click("form button[type=submit]")
        self.wait_text("退出登录")
        self.as_user = login

    def staff_act(self, app_id: int, action: str, reason: str | None = None) -> None:
        self.go(f"/staff/applications/{app_id}")
        if reason:
            self.d.find_element(By.ID, f"reason-{action}").send_keys(reason)
        self.click(f"#act-{action}")
        assert 'role="alert"' not in self.d.page_source, self.d.find_element(By.CSS_SELECTOR, ".error").text

    def state(self) -> str:
        return str(self.d.find_element(By.ID, "state").text)


def _files(tmp: Path) -> dict[str, Path]:
    out = {}
    for m in KINDS["startup_subsidy"].materials:
        path = tmp / f"{m.label[:8]}.pdf"
        path.write_bytes(PDF + m.id.encode() + b"\n")
        out[m.id] = path
    return out


def test_startup_subsidy_end_to_end(server, browser, tmp_path):
    j = Journey(browser, server)
    files = _files(tmp_path)
    d = browser

    # finance opens the year's budget (so 核准 can reserve it)
    j.sign_in("e2e.finance")
    j.go("/finance")
    d.find_element(By.ID, "budget-amount").send_keys("500000")
    d.find_element(By.ID, "budget-note").send_keys("渝财社〔2025〕1号")
    j.click("form[action='/finance/budget'] button")
    j.wait_text("已完成")
    j.shot("finance-budget")

    # 1. the entrepreneur checks eligibility on their registry data
    j.sign_in("e2e.vet")
    j.go("/my/checkup")
    j.wait_text("按我的登记信息体检")
    assert "创业补贴" in d.page_source or "创业补助" in d.page_source
    j.shot("applicant-checkup")

    # 2. apply: choose the program → the form (keyboard only, labels) → materials → check → submit
    j.go("/my/apply")
    j.click("a[href='/my/apply/startup_subsidy']")
    form = d.find_element(By.ID, "apply-form")
    fields = [
        e
        for e in form.find_elements(By.CSS_SELECTOR, "input, textarea, select")
        if e.get_attribute("type") != "hidden"
    ]
    assert [f.get_attribute("id") for f in fields] == ["period", "amount", "description"]
    for f in fields:
        labels = d.find_elements(By.CSS_SELECTOR, f"label[for='{f.get_attribute('id')}']")
        assert len(labels) == 1 and labels[0].text.strip(), f"field {f.get_attribute('id')} has no label"
    # keyboard only: from the page start, Tab reaches every field and the submit button, in order
    d.refresh()  # focus at the start of the document
    reached: list[str] = []
    for _ in range(40):
        ActionChains(d).send_keys(Keys.TAB).perform()
        el = d.switch_to.active_element
        ident = el.get_attribute("id") or f"{el.tag_name}:{el.text[:10]}"
        reached.append(ident)
        if ident == "apply-next":
            break
    order = [x for x in reached if x in ("period", "amount", "description", "apply-next")]
    assert order == ["period", "amount", "description", "apply-next"], reached
    # type and submit with the keyboard only
    period = d.find_element(By.ID, "period")
    period.send_keys(Keys.CONTROL, "a")
    period.send_keys("2024")
    d.find_element(By.ID, "description").send_keys("退役军人返乡创业，2022年开办")
    j.shot("applicant-apply-form")
    old = d.find_element(By.TAG_NAME, "html")
    d.find_element(By.ID, "apply-next").send_keys(Keys.ENTER)
    WebDriverWait(d, 30).until(lambda _d: _gone(old))
    j.wait_text("上传材料")
    app_id = int(d.current_url.rstrip("/").split("/")[-2])
    for material, path in files.items():
        d.find_element(By.ID, f"file_{material}").send_keys(str(path))
    j.click("#upload")
    j.wait_text("已上传")
    j.shot("applicant-materials")
    j.click("#to-review")
    j.wait_text("核对申请信息")
    assert "还缺少必需材料" not in d.page_source
    j.shot("applicant-check-answers")
    j.click("#submit")
    j.wait_text("申请已提交")
    app_no = d.find_element(By.ID, "application-no").text
    assert app_no.startswith("SQ")
    j.shot("applicant-confirmation")

    # 3. the street clerk accepts it from the queue and passes the first review
    j.sign_in("e2e.clerk")
    j.go("/staff/queue")
    j.wait_text(app_no)
    j.shot("clerk-queue")
    j.staff_act(app_id, "accept")
    assert j.state() == "已受理"
    j.shot("clerk-accepted")
    j.staff_act(app_id, "start_first_review")
    j.staff_act(app_id, "pass_first_review")
    assert j.state() == "复审（区县）"

    # 4. the district reviewer returns it for correction
    j.sign_in("e2e.reviewer")
    j.go(f"/staff/applications/{app_id}")
    assert "与申请人体检结果一致" in d.page_source
    j.shot("reviewer-application")
    j.staff_act(app_id, "return", "社保缴费证明页面不清晰，请重新上传")
    assert j.state() == "退回补正"

    # 5. the entrepreneur sees what to fix, uploads a new file and resubmits
    j.sign_in("e2e.vet")
    j.go(f"/my/applications/{app_id}")
    assert d.find_element(By.ID, "return-note").text == "社保缴费证明页面不清晰，请重新上传"
    j.shot("applicant-returned")
    j.go(f"/my/applications/{app_id}/materials")
    clearer = tmp_path / "社保缴费证明-清晰.pdf"
    clearer.write_bytes(PDF + b"% clearer scan\n")
    d.find_element(By.ID, "file_social_insurance_record").send_keys(str(clearer))
    j.click("#upload")
    j.wait_text("已上传")
    j.go(f"/my/applications/{app_id}/review")
    j.click("#submit")
    j.wait_text("申请已提交")
    j.shot("applicant-resubmitted")

    # 6. clerk and reviewer review; 公示
    j.sign_in("e2e.clerk")
    for action in ("accept", "start_first_review", "pass_first_review"):
        j.staff_act(app_id, action)
    j.sign_in("e2e.reviewer")
    j.staff_act(app_id, "pass_second_review")
    assert j.state() == "公示中"
    j.go("/staff/publicity")
    j.click("table a")
    j.wait_text("公示期")
    assert "P-VET" not in d.page_source
    j.shot("reviewer-publicity-list")

    # 7. the publicity period ends (the server's test clock moves on); approval
    j.clock.write_text(LATER.isoformat())
    j.staff_act(app_id, "approve")
    assert j.state() == "已核准"
    j.shot("reviewer-approved")

    # 8. finance: batch, pay, bank file, confirm
    j.sign_in("e2e.finance")
    j.go("/finance")
    d.find_element(By.ID, f"pay-{app_id}").send_keys(Keys.SPACE)
    j.click("#create-batch")
    j.wait_text("拨付批次")
    run = d.find_element(By.CSS_SELECTOR, "button[id^='run-']")
    batch_id = run.get_attribute("id").split("-")[1]
    j.click(f"#run-{batch_id}")
    j.wait_text("已支付")
    cookies = {c["name"]: c["value"] for c in d.get_cookies()}
    bank = httpx.get(f"{j.base}/finance/batches/{batch_id}/bank.xlsx", cookies=cookies, timeout=30)
    assert bank.status_code == 200 and bank.content[:2] == b"PK"
    j.click(f"#confirm-{batch_id}")
    j.wait_text("已拨付")
    j.shot("finance-disbursed")

    # 9. the entrepreneur sees 已拨付
    j.sign_in("e2e.vet")
    j.go(f"/my/applications/{app_id}")
    assert j.state() == "已拨付"
    assert "补贴已拨付" in d.page_source
    j.shot("applicant-disbursed")
    assert len(list(ARTIFACTS.glob("*.png"))) >= 15
    _ = (dt, shutil)
