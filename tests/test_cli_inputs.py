"""Bad command-line input: a Chinese error naming the option or file and the rule, non-zero exit."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from xiangchuang.cli import app

runner = CliRunner()


def test_params_refuses_a_district_that_is_not_one_of_the_41() -> None:
    for code in ("500999", "123"):
        res = runner.invoke(app, ["params", "loan_individual.ceiling", "--district", code])
        assert res.exit_code != 0, res.output
        assert f"--district {code}" in res.output and "41个区县" in res.output
    res = runner.invoke(app, ["params", "loan_individual.ceiling", "--district", "500154"])
    assert res.exit_code == 0, res.output


def test_check_refuses_a_case_file_with_another_extension(tmp_path: Path) -> None:
    f = tmp_path / "case.txt"
    f.write_text("{}", encoding="utf-8")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code != 0 and "扩展名须为 .json、.yaml 或 .yml" in res.output
