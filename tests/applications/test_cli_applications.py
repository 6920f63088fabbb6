"""The application commands: invite (idempotent), expire-invitations, publicity (masked, Excel export)."""

from __future__ import annotations

import base64
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.applications import KEY, application_in, setup, stored_run
from xiangchuang.applications import cli_applications
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.models import Application, AuditEvent

runner = CliRunner()


@pytest.fixture
def cli_env(db_engine, pii, monkeypatch):
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            path = conn.execute(text("SHOW search_path")).scalar_one()
        url += f"?options=-csearch_path%3D{path.strip(chr(34))}"
    ring = pii.cipher.ring
    doc = {
        "active": ring.active,
        "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()},
        "index_key": base64.b64encode(ring.index_key).decode(),
    }
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING", json.dumps(doc))
    monkeypatch.setattr(cli_applications, "audit_key", lambda _ring: KEY)  # one chain key with the helpers
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_invite_is_idempotent_and_expire_runs(db_engine, pii, cli_env):
    setup(db_engine, pii)
    run_id = stored_run(db_engine, [("startup_subsidy", "B-VET", 197_531)])
    first = runner.invoke(app, ["invite", str(run_id), "--district", "500101", "--actor", "u-reviewer"])
    assert first.exit_code == 0, first.output
    assert "新发出邀请 1 份" in first.output
    again = runner.invoke(app, ["invite", str(run_id), "--district", "500101"])
    assert again.exit_code == 0 and "新发出邀请 0 份；此前已邀请 1 份" in again.output
    with Session(db_engine) as s:
        assert s.execute(select(func.count()).select_from(Application)).scalar_one() == 1
    expired = runner.invoke(app, ["expire-invitations"])
    assert expired.exit_code == 0 and "已过期的邀请 0 份" in expired.output  # valid for 30 days from today
    missing = runner.invoke(app, ["invite", "999"])
    assert missing.exit_code == 1 and "政策找人运行 999 不存在" in missing.output


def test_publicity_prints_the_masked_list_and_exports_it(db_engine, pii, cli_env, tmp_path):
    setup(db_engine, pii)
    application_in(db_engine, "publicity")
    out = tmp_path / "公示.xlsx"
    result = runner.invoke(app, ["publicity", "GS50010120250303", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出 1 行" in result.output and "¥1,975.31" in result.output
    assert not re.search(r"\d{17}[\dX]", result.output)
    rows = list(openpyxl.load_workbook(out).active.iter_rows(values_only=True))
    assert rows[3][4] == "创业补助"
    with Session(db_engine) as s:
        assert (
            s.execute(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "export.publicity_list")
            ).scalar_one()
            == 1
        )
    unknown = runner.invoke(app, ["publicity", "GS0"])
    assert unknown.exit_code == 1 and "公示批次 GS0 不存在" in unknown.output
