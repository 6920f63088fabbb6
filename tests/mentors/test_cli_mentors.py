"""The mentor commands end to end on a SQLite file: import, event, commit, reveal, draw, sealed view,
refused export, verify-draw."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.registry.factories import Registry
from xiangchuang.cli import app
from xiangchuang.config import get_settings
from xiangchuang.crypto import FieldCipher, generate_keyring
from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import upgrade
from xiangchuang.models import AuditEvent, MentorDraw, OutboxMessage
from xiangchuang.registry.pii import Pii

runner = CliRunner()


def test_mentor_commands_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "m.db"
    ring = generate_keyring(tmp_path / "keyring.json")
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(tmp_path / "keyring.json"))
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    pii = Pii(FieldCipher(ring))
    with engine.begin() as conn:
        reg = Registry(conn, pii)
        reg.person(no="P-APP")
        for i in range(8):
            reg.person(no=f"P-M{i}")
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["导师编号", "人员编号", "导师层级", "主专业", "所在区县", "登录账号"])
    for i in range(8):
        ws.append([f"T{i}", f"P-M{i}", "市级", "法律", "万州区", f"u-m{i}"])
    wb.save(tmp_path / "mentors.xlsx")
    try:
        res = runner.invoke(app, ["mentors-import", str(tmp_path / "mentors.xlsx")])
        assert res.exit_code == 0, res.output
        today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
        spec = {
            "event_no": "E-CLI",
            "title": "项目评审",
            "kind": "project_review",
            "event_date": (today + dt.timedelta(days=1)).isoformat(),
            "unseal_at": f"{today + dt.timedelta(days=1)}T08:00:00+08:00",
            "backups": 2,
            "quotas": [{"specialty": "law", "level": "city", "count": 3}],
            "projects": [{"project_no": "PJ1", "title": "民宿", "person_no": "P-APP", "returning": True}],
            "organiser_user": "u-org",
            "supervisor_user": "u-sup",
        }
        (tmp_path / "event.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
        res = runner.invoke(app, ["mentor-event-create", str(tmp_path / "event.yaml"), "--as", "u-org"])
        assert res.exit_code == 0, res.output
        assert "最早抽取时间" in res.output
        for user, role in (("u-org", "organiser"), ("u-sup", "supervisor")):
            res = runner.invoke(
                app,
                [
                    "mentor-commit",
                    "E-CLI",
                    "--as",
                    user,
                    "--role",
                    role,
                    "--secret-file",
                    str(tmp_path / f"{user}.secret"),
                ],
            )
            assert res.exit_code == 0, res.output
        assert "抽取输入已冻结" in res.output
        assert (tmp_path / "u-org.secret").stat().st_mode & 0o777 == 0o600
        res = runner.invoke(app, ["mentor-draw", "E-CLI", "--as", "u-org"])
        assert res.exit_code == 1 and "尚未揭示秘密" in res.output
        for user, role in (("u-org", "organiser"), ("u-sup", "supervisor")):
            res = runner.invoke(
                app,
                [
                    "mentor-reveal",
                    "E-CLI",
                    "--as",
                    user,
                    "--role",
                    role,
                    "--secret-file",
                    str(tmp_path / f"{user}.secret"),
                ],
            )
            assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["mentor-draw", "E-CLI", "--as", "u-org"])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["mentor-unseal", "E-CLI", "--as", "u-sup", "--role", "supervisor"])
        assert res.exit_code == 0, res.output
        assert "密封中" in res.output and "测试人员" not in res.output and "已通知" in res.output
        res = runner.invoke(
            app,
            [
                "mentor-export",
                "E-CLI",
                "--as",
                "u-sup",
                "--role",
                "supervisor",
                "-o",
                str(tmp_path / "m.json"),
            ],
        )
        assert res.exit_code == 1 and "密封" in res.output
        assert not (tmp_path / "m.json").exists()
        with Session(engine) as s:
            assert s.execute(select(func.count()).select_from(MentorDraw)).scalar_one() == 1
            assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 3
            actions = set(s.execute(select(AuditEvent.action)).scalars())
        assert {
            "mentor_draw.commit",
            "mentor_draw.reveal",
            "mentor_draw.draw",
            "mentor_draw.view_sealed",
        } <= actions
        vec = Path(__file__).parent / "vectors" / "basic_final.json"
        res = runner.invoke(app, ["verify-draw", str(vec)])
        assert res.exit_code == 0 and "通过" in res.output
        doc = json.loads(vec.read_text(encoding="utf-8"))
        doc["reveals"][0]["secret"] = "0" * 64
        (tmp_path / "bad.json").write_text(json.dumps(doc), encoding="utf-8")
        res = runner.invoke(app, ["verify-draw", str(tmp_path / "bad.json")])
        assert res.exit_code == 1 and "承诺校验失败" in res.output
    finally:
        engine.dispose()
        get_settings.cache_clear()
