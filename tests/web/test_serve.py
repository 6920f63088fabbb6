"""`xiangchuang serve` really starts (a subprocess on a free port answers /healthz and /readyz), and the
demo-accounts command refuses outside demo mode."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from xiangchuang.cli import app

BIN = Path(sys.executable).parent / "xiangchuang"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_and_answers_health_checks(tmp_path):
    from xiangchuang.crypto import generate_keyring
    from xiangchuang.db import make_engine
    from xiangchuang.dbmigrate import upgrade

    generate_keyring(tmp_path / "keyring.json")
    engine = make_engine(f"sqlite:///{tmp_path / 'xiangchuang.db'}")
    upgrade(engine)
    engine.dispose()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XIANGCHUANG_")}
    env.update({"XIANGCHUANG_DATA_DIR": str(tmp_path)})
    proc = subprocess.Popen(
        [str(BIN), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
                assert time.monotonic() < deadline, "server did not start within 60 s"
                time.sleep(0.3)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert r.headers["x-content-type-options"] == "nosniff"
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        page = httpx.get(f"http://127.0.0.1:{port}/checkup", timeout=10)
        assert page.status_code == 200 and "政策体检" in page.text
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            _, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    lines = [line for line in err.decode().splitlines() if line.startswith("{")]
    assert any('"event": "request"' in line and '"path": "/checkup"' in line for line in lines)


def test_demo_accounts_command_refuses_outside_demo_mode(monkeypatch, tmp_path):
    monkeypatch.delenv("XIANGCHUANG_DEMO", raising=False)
    monkeypatch.setenv("XIANGCHUANG_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["demo-accounts"])
    assert result.exit_code == 2
    assert "演示模式" in result.output
    assert not (tmp_path / "xiangchuang.db").exists()


def test_demo_accounts_print_the_totp_command_whole_on_a_narrow_terminal(monkeypatch, tmp_path):
    from xiangchuang.cli_common import console
    from xiangchuang.crypto import generate_keyring
    from xiangchuang.db import make_engine
    from xiangchuang.dbmigrate import upgrade

    generate_keyring(tmp_path / "keyring.json")
    engine = make_engine(f"sqlite:///{tmp_path / 'xiangchuang.db'}")
    upgrade(engine)
    engine.dispose()
    for name in ("XIANGCHUANG_DATABASE_URL", "XIANGCHUANG_KEYRING", "XIANGCHUANG_KEYRING_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XIANGCHUANG_DEMO", "true")
    monkeypatch.setenv("XIANGCHUANG_DATA_DIR", str(tmp_path))
    seeded = CliRunner().invoke(app, ["demo-data", "--businesses", "20"])
    assert seeded.exit_code == 0, seeded.output
    monkeypatch.setattr(console, "width", 40)
    result = CliRunner().invoke(app, ["demo-accounts"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # Copied from the terminal as it is: the command on one line of its own, an account's login,
    # password and TOTP secret on one line each.
    assert "  .venv/bin/python -c \"import pyotp; print(pyotp.TOTP('密钥').now())\"" in lines
    accounts = [line for line in lines if "登录名" in line]
    assert accounts and all("密码" in line for line in accounts)
    assert any("动态口令密钥（TOTP）" in line for line in accounts)
