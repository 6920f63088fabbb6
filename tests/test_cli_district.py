"""Every command's ``--district`` reads through one parser (``cli_common.district_option``, README
choices 67 and 82): exactly six ASCII digits, one of the 41 districts. ``match-db`` and
``facts-snapshot`` took "0500101" and "+500101" as 500101 while ``match --from-db`` (the same
command) refused them; other commands took any integer. A bad code is refused before any database
is opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.cli_common import district_option

runner = CliRunner()

# Per command with a --district option, the other arguments it needs to reach the option's check.
COMMANDS: dict[str, list[str]] = {
    "match": ["match", "--from-db"],
    "params": ["params", "loan_individual.ceiling"],
    "import": ["import", "persons", "persons.csv"],
    "match-db": ["match-db"],
    "facts-snapshot": ["facts-snapshot", "--rebuild"],
    "invite": ["invite", "1"],
    "report": ["report", "--quarter", "2026Q3", "-o", "report.xlsx"],
    "training-classes": ["training-classes"],
    "training-purchases": ["training-purchases"],
    "closures-pending": ["closures-pending"],
    "community-tag-report": ["community-tag-report", "tags.xlsx"],
    "jobs-board": ["jobs-board"],
    "carrier-list": ["carrier-list", "--as", "u1", "--role", "district_reviewer"],
    "carrier-bills": ["carrier-bills", "C1", "2025-01", "--as", "u1", "--role", "district_reviewer"],
    "loans settle": ["loans", "settle", "--quarter", "2026Q3"],
    "loans statement": ["loans", "statement", "--quarter", "2026Q3", "-o", "s.xlsx"],
    "disburse budget": ["disburse", "budget", "--amount-yuan", "10"],
    "disburse batch": ["disburse", "batch", "--ids", "1", "--actor", "u1"],
    "disburse run": ["disburse", "run", "1"],
    "disburse export": ["disburse", "export", "1", "--actor", "u1", "-o", "bank.xlsx"],
    "disburse confirm": ["disburse", "confirm", "1", "--actor", "u1"],
    "disburse payee-account": [
        "disburse",
        "payee-account",
        "--org",
        "O1",
        "--name",
        "机构",
        "--bank",
        "银行",
        "--account",
        "6222000011112222",
        "--actor",
        "u1",
    ],
    "alerts list": ["alerts", "list"],
    "outreach talent-pool": ["outreach", "talent-pool"],
    "services summary": ["services", "summary"],
}


def _with_district(cmd: Any, path: list[str]) -> list[str]:
    """The commands (space-separated paths) under ``cmd`` that have a --district option."""
    subs = getattr(cmd, "commands", None)
    if subs is not None:
        return [name for key, sub in subs.items() for name in _with_district(sub, [*path, key])]
    return [" ".join(path)] if any("--district" in getattr(p, "opts", ()) for p in cmd.params) else []


def test_the_table_names_every_command_with_a_district_option() -> None:
    assert sorted(_with_district(typer.main.get_command(app), [])) == sorted(COMMANDS)


@pytest.fixture()
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory and database of the test's own (nothing should reach them)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XIANGCHUANG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    return tmp_path


@pytest.mark.parametrize("code", ["0500101", "+500101", " 500101", "500101.0", "５００１０１", "500999"])
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_district_option_is_six_ascii_digits(isolated: Path, command: str, code: str) -> None:
    res = runner.invoke(app, [*COMMANDS[command], "--district", code])
    said = str(res.output).replace("\n", "")
    assert res.exit_code == 2, res.output
    assert "错误" in said and "--district" in said, res.output
    assert "须为重庆市41个区县之一的代码" in said and "写作6位数字" in said, res.output
    assert not (isolated / "x.db").exists()  # refused before any database is opened


def test_the_parser_reads_a_code_and_with_names_a_name() -> None:
    assert district_option("500101") == 500101
    assert district_option(None) is None
    assert district_option("万州区", names=True) == 500101
    assert district_option("重庆市万州区", names=True) == 500101
    with pytest.raises(typer.Exit):
        district_option("万州区")  # (a command that takes a code only)
    for bad in ("0500101", "+500101", "火星"):
        with pytest.raises(typer.Exit):
            district_option(bad, names=True)
