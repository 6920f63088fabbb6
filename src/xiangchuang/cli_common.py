"""What every command module shares: the consoles, the Chinese error exit, dates, parameter sets."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, Final, overload

import rich._wrap
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table as _RichTable
from typer.core import TyperCommand, TyperGroup
from typer.models import CommandFunctionType

try:  # Typer ≥ 0.2x vendors Click
    from typer._click import exceptions as _click_exc
    from typer._click.core import Command as _ClickCommand
except ImportError:  # pragma: no cover
    from click import Command as _ClickCommand  # type: ignore[assignment]
    from click import exceptions as _click_exc  # type: ignore[no-redef]

from xiangchuang.engine.dates import check_supported, parse_date
from xiangchuang.engine.districts import codes_by_short_names
from xiangchuang.engine.facts import CODE_RULE, code_ok, code_text_ok
from xiangchuang.engine.parameters import ParameterError, ParameterSet, load_parameters
from xiangchuang.errors import os_reason as os_reason  # (re-exported: the commands import it from here)

# Chinese line breaking for everything the CLI prints (reports and table cells). rich breaks lines
# only at spaces, so a Chinese sentence (no spaces) was folded at the exact width, even inside an
# amount or a date: 「各自最高¥200,000.」 / 「00」. The rule here is the common core of UAX #14 for
# zh-CN: a line may break between two Chinese characters, and between a Chinese character and
# other text, but not inside a run of other text (an amount, a date, an id, a Latin word), not
# before closing punctuation (，。、；：）」 …) and not after opening punctuation (（「 …); spaces
# still break. A token longer than the line is folded as before.
_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
_OPEN = "（「『【〔《〈“‘"
_CLOSE = "，。、；：？！）」』】〕》〉”’…％·"
_TOKEN = re.compile(rf"\s*[{_OPEN}]*(?:[{_CJK}]|[^\s{_CJK}]+)[{_CLOSE}]*\s*")


def chinese_words(text: str) -> Iterator[tuple[int, int, str]]:
    """rich's ``words`` (the units a line may break between) with Chinese line breaking."""
    match = _TOKEN.match(text)
    while match is not None:  # (every character but a space starts a token: none is skipped)
        start, end = match.span()
        yield start, end, match.group(0)
        match = _TOKEN.match(text, end)


if callable(getattr(rich._wrap, "words", None)):
    rich._wrap.words = chinese_words  # divide_line, which all wrapping uses, looks it up by name

console = Console()
err = Console(stderr=True)
# (Click raises it for a group called with no command, to print the group's help: left to Typer)
_NO_ARGS_IS_HELP: Final = getattr(_click_exc, "NoArgsIsHelpError", ())


class Table(_RichTable):
    """rich's table whose cells wrap (fold) when the terminal is narrow, instead of ending in "…":
    a value, a name or a reference (文号 + 条款) cut to a few characters is unreadable. A column
    may still ask for another overflow or ``no_wrap``."""

    def add_column(self, *args: Any, overflow: Any = "fold", **kwargs: Any) -> None:
        super().add_column(*args, overflow=overflow, **kwargs)


OnOpt = Annotated[str | None, typer.Option("--on", help="评估日期 YYYY-MM-DD（默认今天）")]
# ``check`` reads a case, which may name its own evaluation date.
CaseOnOpt = Annotated[
    str | None, typer.Option("--on", help="评估日期 YYYY-MM-DD（默认：案例中的 on，否则今天）")
]
OverlayOpt = Annotated[
    list[Path] | None, typer.Option("--params-overlay", help="区县参数叠加文件（YAML，可多次指定）")
]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a Chinese error and return the exit to raise. The message is printed as written:
    text in square brackets (a value quoted from the input, an example list, a file name) is not
    read as Rich markup, which would drop it."""
    err.print(f"[bold red]错误：[/]{escape(message)}")
    return typer.Exit(code)


# ---- usage errors in Chinese --------------------------------------------------------------------
# Click (vendored by Typer) reports a usage error (an unknown option, a missing argument, a value
# of the wrong type) in English, in a panel titled "Error". The app's group (``ChineseUsageGroup``)
# catches every usage error raised while parsing the command line, or by a command, and reports it
# as every other error: 「错误：用法错误：…」 naming the option or argument and the rule, the usage
# line and where the help is, exit code 2 (as Click). ``--help`` and a group called with no command
# (which prints its help) are left to Typer.

_VALUE_RULES: Final[dict[str, str]] = {
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "int_type": "须为整数",
    "float_parsing": "须为数字",
    "float_type": "须为数字",
    "bool_parsing": "须为 true 或 false",
    "greater_than_equal": "须不小于 {ge}",
    "greater_than": "须大于 {gt}",
    "less_than_equal": "须不大于 {le}",
    "less_than": "须小于 {lt}",
}
_PATH_RULES: Final = (
    (" does not exist.", "不存在"),
    (" is a file.", "是文件，须为目录"),
    (" is a directory.", "是目录，须为文件"),
    (" is not readable.", "不可读取"),
    (" is not writable.", "不可写入"),
)
_NO_SUCH_COMMAND: Final = re.compile(r"No such command '(.*?)'\.")
_EXTRA_ARGUMENTS: Final = re.compile(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", re.S)
_REQUIRES: Final = re.compile(r"requires (?:an argument|(\d+) arguments)")


def _param_name(param: Any) -> str:
    """How the help names a parameter: its option (``--district``) or its argument (``case_file``)."""
    opts = [o for o in getattr(param, "opts", None) or () if o.startswith("-")]
    if opts:
        return f"选项 {' / '.join(opts)}"
    return f"参数 {getattr(param, 'name', None) or '?'}"


def _bad_value(exc: Any) -> str:
    """The rule a bad parameter value broke, in Chinese (Typer checks values with Pydantic)."""
    cause = exc.__cause__
    errors = cause.errors() if hasattr(cause, "errors") else []
    if errors:
        first = errors[0]
        rule = _VALUE_RULES.get(first.get("type", ""))
        shown = repr(first.get("input"))
        if rule is not None:
            return f"取值 {shown} {rule.format(**(first.get('ctx') or {}))}"
        return f"取值 {shown} 无效（{first.get('msg')}）"
    message = str(exc.message)
    for ending, rule in _PATH_RULES:
        if message.endswith(ending):
            return f"{message.removesuffix(ending).split(' ', 1)[-1]} {rule}"
    return message if not message.isascii() else f"取值无效（{message}）"


def usage_error_zh(exc: Any) -> str:
    """A Click usage error's message in Chinese, naming the option, argument or command."""
    message = str(getattr(exc, "message", exc))
    if isinstance(exc, _click_exc.NoSuchOption):
        text = f"未知选项 {exc.option_name}"
        if exc.possibilities:
            text += f"（是否想用 {'、'.join(sorted(exc.possibilities))}？）"
        return text
    if isinstance(exc, _click_exc.MissingParameter):
        param = exc.param
        if param is None:
            return "缺少参数"
        kind = "缺少" + _param_name(param)
        help_text = getattr(param, "help", None)
        return f"{kind}：{help_text}" if help_text else kind
    if isinstance(exc, _click_exc.BadParameter):
        where = _param_name(exc.param) if exc.param is not None else "参数"
        return f"{where}：{_bad_value(exc)}"
    if isinstance(exc, _click_exc.BadOptionUsage):
        needs = _REQUIRES.search(message)
        if needs:
            return f"选项 {exc.option_name} 后须跟{needs.group(1) or '一'}个取值"
        if "does not take a value" in message:
            return f"选项 {exc.option_name} 不接受取值"
    found = _NO_SUCH_COMMAND.match(message)  # (Typer may add its own "Did you mean …")
    if found:
        name = found.group(1)
        ctx = exc.ctx
        commands = (
            ctx.command.list_commands(ctx)
            if ctx is not None and hasattr(ctx.command, "list_commands")
            else []
        )
        close = difflib.get_close_matches(name, commands, n=3)
        return f"未知命令 {name}" + (f"（是否想用 {'、'.join(close)}？）" if close else "")
    if message == "Missing command.":
        return "缺少命令"
    extra = _EXTRA_ARGUMENTS.fullmatch(message)
    if extra:
        return f"多余的参数 {extra.group(1)}"
    return message if not message.isascii() else f"命令行用法不正确（{message}）"


def usage_exit(exc: Any) -> typer.Exit:
    """Print a usage error in Chinese (the message, the usage line, the help) and return the exit."""
    err.print(f"[bold red]错误：[/]用法错误：{escape(usage_error_zh(exc))}")
    ctx = exc.ctx
    if ctx is not None:
        usage = ctx.get_usage().removeprefix(USAGE_PREFIX).strip()
        err.print(f"用法：{escape(usage)}", highlight=False)
        if ctx.help_option_names:
            err.print(f"运行 {escape(ctx.command_path)} {ctx.help_option_names[0]} 查看帮助", highlight=False)
    return typer.Exit(exc.exit_code)


# ---- help in Chinese ----------------------------------------------------------------------------
# ``--help`` (and a group called with no command) printed Click's and Typer's English boilerplate:
# the help option's own help ("Show this message and exit."), the usage line ("Usage: … [OPTIONS]
# COMMAND [ARGS]..."), the panel titles ("Arguments", "Options", "Commands") and the markers
# ("[default: …]", "[required]"). Every command and group of the app is built by ``ChineseTyper``
# (the root app and every sub-app): its commands are ``ChineseCommand``s and its groups
# ``ChineseUsageGroup``s, whose help is Chinese through Click's and Typer's hooks (the ``cls`` of a
# command or group, ``options_metavar``/``subcommand_metavar``, ``get_help_option``,
# ``format_usage``, ``format_help``), except the panel titles and markers: Typer's rich help
# (typer.rich_utils.rich_format_help) reads them from module constants of typer.rich_utils, with no
# parameter to give them (they go through gettext at import, which would need a global gettext
# domain with a compiled catalogue); those constants are set here, just before the help is printed
# (typer.rich_utils is imported only then: it costs ~0.15 s, not paid by a command that runs).

HELP_OPTION_HELP: Final = "显示本帮助并退出。"
USAGE_PREFIX: Final = "用法："
OPTIONS_METAVAR: Final = "[选项]"
SUBCOMMAND_METAVAR: Final = "命令 [参数]..."
_RICH_HELP_TEXTS: Final[dict[str, str]] = {
    "ARGUMENTS_PANEL_TITLE": "参数",
    "OPTIONS_PANEL_TITLE": "选项",
    "COMMANDS_PANEL_TITLE": "命令",
    "DEFAULT_STRING": "[默认：{}]",
    "REQUIRED_LONG_STRING": "[必填]",
    "ENVVAR_STRING": "[环境变量：{}]",
    "DEPRECATED_STRING": "（已停用）",
}


# The type column of an option or argument (Typer's ``<str>``, ``<int range>``, ``<list[Path]>``):
# Chinese words for Typer's labels; a flag (``<bool>``) shows none. A label not listed here (a
# metavar the command gives, such as 「<文件名>」, or a choice list) is shown as it is.
_TYPE_WORDS: Final[dict[str, str]] = {
    "str": "文本",
    "int": "整数",
    "int range": "整数",
    "float": "数值",
    "float range": "数值",
    "path": "路径",
    "file": "文件",
    "directory": "目录",
    "Path": "路径",
    "datetime": "日期时间",
}


def chinese_type(label: str | None, flag: bool = False) -> str | None:
    """The type column in Chinese: 「<文本>」 for ``<str>``, 「<路径>（可多次）」 for ``<list[Path]>``,
    nothing for a flag."""
    if flag:
        return None
    if not label or not (label.startswith("<") and label.endswith(">")):
        return label
    inner = label[1:-1]
    many = inner.startswith("list[") and inner.endswith("]")
    word = _TYPE_WORDS.get(inner[5:-1] if many else inner)
    if word is None:
        return label
    return f"<{word}>（可多次）" if many else f"<{word}>"


class _ChineseHelp(_ClickCommand):
    """What a command and a group of the app share: their help in Chinese."""

    rich_markup_mode: Any  # (set by TyperCommand and TyperGroup)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # (made once per command, then kept)
        if option is not None:
            option.help = HELP_OPTION_HELP
        return option

    def format_usage(self, ctx: Any, formatter: Any) -> None:
        pieces = self.collect_usage_pieces(ctx)
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=USAGE_PREFIX)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        # Always Typer's rich help (also under TYPER_USE_RICH=0, whose plain help is Click's
        # English sections): one rendering, in Chinese.
        from typer import rich_utils

        for name, text in _RICH_HELP_TEXTS.items():
            setattr(rich_utils, name, text)
        # The type column: each parameter's ``display_type_rich`` (Typer's hook for that column)
        # shadowed on the instance while the help is drawn, then the class's again (a metavar
        # would also rename the parameter in the usage line and in error messages).
        shadowed = []
        for param in self.get_params(ctx):
            shown = getattr(param, "display_type_rich", None)
            if shown is not None and "display_type_rich" not in vars(param):
                flag = bool(getattr(param, "is_flag", False))
                param.display_type_rich = lambda ctx, shown=shown, flag=flag: chinese_type(shown(ctx), flag)  # type: ignore[attr-defined]
                shadowed.append(param)
        try:
            rich_utils.rich_format_help(obj=self, ctx=ctx, markup_mode=self.rich_markup_mode or "rich")
        finally:
            for param in shadowed:
                del param.display_type_rich  # type: ignore[attr-defined]


class ChineseCommand(_ChineseHelp, TyperCommand):
    """A command of the app: its help in Chinese."""


class ChineseUsageGroup(_ChineseHelp, TyperGroup):
    """The app's command groups (the root and every sub-app): the help in Chinese, and usage errors
    (parsing the command line, or raised by a command, of this group and of every group under it)
    in Chinese, as ``usage_exit`` prints them. A parameter error raised by any command (parameters
    that are not consistent, e.g. approved changes read from the registry, README choice 81) is
    reported as every other error, 「错误：参数 …」, never a traceback."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _click_exc.UsageError as exc:
            if isinstance(exc, _NO_ARGS_IS_HELP):
                raise
            raise usage_exit(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except _click_exc.UsageError as exc:
            if isinstance(exc, _NO_ARGS_IS_HELP):
                raise
            raise usage_exit(exc) from None
        except ParameterError as exc:
            raise fail(str(exc)) from None


class ChineseTyper(typer.Typer):
    """``typer.Typer`` for the app and every sub-app: its groups are ``ChineseUsageGroup``s, its
    commands ``ChineseCommand``s and its usage line Chinese, so that every ``--help`` is Chinese."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", ChineseUsageGroup)
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or ChineseCommand, **kwargs)


def to_date(text: str | None, default: dt.date | None = None, option: str = "--on") -> dt.date:
    """The date an option gives (YYYY-MM-DD, in the supported range: ``engine.dates.check_supported``),
    else ``default`` or today; a Chinese error naming the option and the rule. Every command's date
    option reads through here (check, match, params, demo, closures-pending, outreach purge …)."""
    if text is None:
        return default or dt.date.today()
    try:
        return check_supported(parse_date(text))
    except ValueError as exc:
        raise fail(f"{option}：{exc}") from None


@overload
def district_option(text: str, option: str = ..., *, names: bool = ...) -> int: ...
@overload
def district_option(text: None, option: str = ..., *, names: bool = ...) -> None: ...
@overload
def district_option(text: str | None, option: str = ..., *, names: bool = ...) -> int | None: ...
def district_option(text: str | None, option: str = "--district", *, names: bool = False) -> int | None:
    """The district code an option gives, held to the rule of a case's and a batch file's code
    (``engine.facts.code_text_ok`` and ``code_ok``, README choice 67): exactly six ASCII digits
    ("0500101", "+500101", " 500101" and "500101.0" are refused), one of the 41 districts; else a
    Chinese error naming the option. Every command's ``--district`` reads through here (README
    choice 82). With ``names`` (the commands whose option takes a code or a name) a text without a
    digit is a district's name (「万州区」, 「万州」, 「重庆市万州区」); any other is held to the code rule."""
    if text is None:
        return None
    if names and not any(c.isdigit() for c in text):
        name = text.strip().removeprefix("重庆市").removeprefix("重庆").strip() or text
        try:
            return codes_by_short_names(name)[0]
        except ValueError:
            raise fail(f"{option} {text!r}：未知的区县名称，应为区县名称（如 万州区）或6位区县代码") from None
    if not code_text_ok(text) or not code_ok("code", int(text)):
        shown = text if text and text == text.strip() else repr(text)
        raise fail(f"{option} {shown}：{CODE_RULE['code']}，写作6位数字")
    return int(text)


def parameter_set(overlays: list[Path] | None) -> ParameterSet:
    try:
        return load_parameters(*[str(p) for p in overlays or []])
    except ParameterError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:  # (Python's message is English: "[Errno 2] No such file or directory")
        raise fail(f"--params-overlay {exc.filename}：无法读取（{os_reason(exc)}）") from None
