"""The browser tests' kit: the availability guard, a real server (uvicorn subprocess on a seeded SQLite
with a test clock), a headless Debian chromium, and :class:`Journey` (sign in as any seeded account, click
and wait, screenshots in test-artifacts/e2e/).

Importing this module skips the importing test module when chromium, chromedriver or selenium is missing —
except under CI=true, where it FAILS (.ci/run installs them). A new browser test::

    from tests.e2e.kit import Journey, chromium, make_server

    @pytest.fixture
    def browser():
        yield from chromium()

    @pytest.fixture
    def server(tmp_path):
        yield from make_server(tmp_path, users=USERS + (("e2e.provider", "training_provider", None),),
                               extra_seed=my_seed)

``extra_seed(session, cipher, audit_key)`` runs after the registry and the accounts exist (one
transaction), to add the records the journey needs.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select, update

from tests.applications import NOW, registry
from tests.web.conftest import PASSWORD

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
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

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


def _seed(
    data_dir: Path,
    users: tuple[tuple[str, str, int | None], ...] = (),
    extra_seed: Callable[..., Any] | None = None,
) -> dict[str, str | None]:
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
        for login, role, district in users or USERS:
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
        if extra_seed is not None:
            extra_seed(s, pii.cipher, audit_key(ring))
    engine.dispose()
    return secrets


def make_server(
    tmp_path: Path,
    users: tuple[tuple[str, str, int | None], ...] = (),
    extra_seed: Callable[..., Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """A generator for a fixture: seed, start the server, yield {base, secrets, clock}, stop it."""
    data = tmp_path / "data"
    data.mkdir()
    secrets = _seed(data, users, extra_seed)
    clock = tmp_path / "clock.txt"
    clock.write_text(NOW.isoformat())
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIANGCHUANG_")}
    env.update(
        {
            "XIANGCHUANG_DATA_DIR": str(data),
            "XC_E2E_CLOCK_FILE": str(clock),
            "PYTHONPATH": os.pathsep.join((str(ROOT / "src"), str(ROOT))),
        }
    )
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


def chromium() -> Iterator[Any]:
    """A generator for a fixture: a headless Debian chromium driven by Selenium."""
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


__all__ = [
    "ARTIFACTS",
    "ActionChains",
    "By",
    "Journey",
    "Keys",
    "Select",
    "WebDriverWait",
    "chromium",
    "ec",
    "gone",
    "make_server",
]
gone = _gone
