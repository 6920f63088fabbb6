"""The statistics commands end to end, on the migrated test database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv

import openpyxl
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.stats.scenario import build
from xiangchuang.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(db_engine, pii, tmp_path, monkeypatch):
    from xiangchuang.config import get_settings
    from xiangchuang.crypto import generate_keyring

    build(db_engine, pii)
    url = db_engine.url.render_as_string(hide_password=False)
    if db_engine.dialect.name == "postgresql":
        with db_engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        url += f"?options=-csearch_path%3D{schema}"
    generate_keyring(tmp_path / "keyring.json")
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", url)
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.delenv("XIANGCHUANG_KEYRING", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_report_close_and_alerts_commands(cli_env):
    out = cli_env
    for fmt in ("xlsx", "pdf", "csv"):
        res = runner.invoke(
            app, ["report", "--quarter", "2026Q3", "--format", fmt, "-o", str(out / f"q.{fmt}")]
        )
        assert res.exit_code == 0, res.output
        assert "未关账实时数" in res.output
    wb = openpyxl.load_workbook(out / "q.xlsx")
    assert wb["申请办理"]["A2"].value.startswith("状态：未关账")
    assert (out / "q.pdf").read_bytes()[:5] == b"%PDF-"

    res = runner.invoke(
        app,
        [
            "report",
            "--quarter",
            "2026Q3",
            "--district",
            "万州区",
            "--format",
            "csv",
            "-o",
            str(out / "d.csv"),
        ],
    )
    assert res.exit_code == 0, res.output
    rows = list(csv.reader((out / "d.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert {r[3] for r in rows[1:]} == {"万州区", "全市"}

    res = runner.invoke(app, ["quarter-close", "2026Q3", "--actor", "admin1"])
    assert res.exit_code == 0, res.output
    assert "2026年第三季度已关账" in res.output
    again = runner.invoke(app, ["quarter-close", "2026Q3"])
    assert again.exit_code == 2 and "已关账" in again.output
    res = runner.invoke(app, ["quarter-revise", "2026Q3"])
    assert res.exit_code == 0 and "未生成修订" in res.output
    res = runner.invoke(app, ["report", "--quarter", "2026Q3", "--format", "csv", "-o", str(out / "p.csv")])
    assert res.exit_code == 0 and "已关账发布数" in res.output
    bad = runner.invoke(app, ["report", "--quarter", "2026Q5", "--format", "csv", "-o", str(out / "x.csv")])
    assert bad.exit_code == 2 and "季度" in bad.output

    res = runner.invoke(app, ["alerts", "run"])
    assert res.exit_code == 0, res.output
    assert "数据导入未按期到达" in res.output
    listed = runner.invoke(app, ["alerts", "list"])
    assert listed.exit_code == 0 and "未导入" in listed.output
    resolved = runner.invoke(app, ["alerts", "resolve", "1", "--note", "已通知数据报送单位"])
    assert resolved.exit_code == 0, resolved.output
    listed = runner.invoke(app, ["alerts", "list", "--state", "resolved"])
    assert "已处理" in listed.output
    res = runner.invoke(app, ["verify-audit"])
    assert res.exit_code == 0 and "审计链完整" in res.output
