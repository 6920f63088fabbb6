"""Every ``--help`` of the command line in Chinese: the root, every command, every sub-app and its
commands (Click's and Typer's English boilerplate was printed around the Chinese help texts)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer.main
from typer.testing import CliRunner

from xiangchuang.cli import app

runner = CliRunner(env={"COLUMNS": "400"})  # (no line wrapped inside a phrase)

# (whole words, any case, after option names such as --on are taken out)
_ENGLISH = re.compile(
    r"\b(?:Show this message|Options?|Commands?|Arguments?|Usage|default|required|ARGS|env var|deprecated)\b",
    re.IGNORECASE,
)
_OPTION_NAME = re.compile(r"--?[A-Za-z][\w-]*")
# Typer's type column (「<str>」「<int range>」「<list[Path]>」「<bool>」): Chinese words, none for a flag.
_TYPER_TYPES = re.compile(r"<(?:str|int|int range|float|bool|path|file|directory|datetime|list\[[^\]]*\])>")


def _paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _paths(sub, (*path, name))


PATHS = list(_paths(typer.main.get_command(app)))


def _english(text: str) -> list[str]:
    return _ENGLISH.findall(_OPTION_NAME.sub(" ", text))


def test_every_command_and_sub_app_is_listed() -> None:
    assert len(PATHS) > 60
    assert {("check",), ("loans",), ("loans", "settle"), ("db", "upgrade"), ("disburse", "run")} <= set(PATHS)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "xiangchuang")
def test_help_is_chinese(path: tuple[str, ...]) -> None:
    res = runner.invoke(app, [*path, "--help"])
    assert res.exit_code == 0, res.output
    text = res.output
    assert "用法：" in text and "显示本帮助并退出。" in text and "选项" in text, text
    assert not _english(text), (_english(text), text)
    assert not _TYPER_TYPES.search(text), text
    if len(path) < 2 and path[:1] in ((), ("loans",), ("db",)):
        assert "命令" in text, text


def test_markers_and_argument_panel_are_chinese() -> None:
    res = runner.invoke(app, ["check", "--help"])
    assert "参数" in res.output and "[必填]" in res.output, res.output
    res = runner.invoke(app, ["synth", "--help"])
    assert "[默认：10000]" in res.output.replace("\n", ""), res.output


@pytest.mark.parametrize("args", [[], ["loans"]])
def test_a_group_called_without_a_command_prints_the_chinese_help(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert "用法：" in res.output and "命令" in res.output and "用法错误" not in res.output, res.output
    assert not _english(res.output), res.output


def test_a_usage_error_shows_the_chinese_usage_line() -> None:
    res = runner.invoke(app, ["loans", "settle", "--nosuch"])
    assert res.exit_code == 2, res.output
    text = res.output.replace("\n", "")
    assert "用法错误：未知选项 --nosuch" in text and "用法：" in text and "[选项]" in text, res.output
    assert not _english(text), res.output


def test_type_column_is_chinese_and_only_while_help_is_drawn() -> None:
    res = runner.invoke(app, ["check", "--help"])
    text = res.output
    assert "<路径>" in text and "<文本>" in text and "<路径>（可多次）" in text, text
    res = runner.invoke(app, ["deliver-messages", "--help"])
    assert "<整数>" in res.output, res.output
    res = runner.invoke(app, ["alerts", "run", "--help"])
    assert "<文本>（可多次）" in res.output, res.output
    # While the help is drawn only: afterwards each parameter is Typer's own again (a metavar or a
    # lasting type text would also change the usage line and error messages).
    check = typer.main.get_command(app).commands["check"]  # type: ignore[attr-defined]
    ctx = check.make_context("check", ["case.json"])
    check.format_help(ctx, ctx.make_formatter())
    assert all("display_type_rich" not in vars(p) for p in check.get_params(ctx))
    assert check.params[0].display_type_rich(ctx) == "<path>"
    res = runner.invoke(app, ["alerts", "resolve", "x"])
    assert res.exit_code == 2 and "参数 alert_id：取值 'x' 须为整数" in res.output, res.output
