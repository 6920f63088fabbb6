"""Bad command-line input: a Chinese error naming the option or file and the rule, non-zero exit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from xiangchuang.cli import app
from xiangchuang.engine.schema import case_schema

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


def test_an_amount_too_large_to_compute_exactly_is_a_data_error_of_its_row_not_a_wrong_amount(
    tmp_path: Path,
) -> None:
    """99,999,999,999,999 trainees × a per-head amount in fen does not fit in int64: it used to wrap
    around (a wrong amount) and then crash in the amount-in-capitals step; then it stopped the whole
    case. Now the row fails its own condition amount_in_range (README choice 28): a result, no
    overflow, no amount."""
    f = tmp_path / "onjob.json"
    trainees = 99_999_999_999_999
    row = {
        "id": "O1",
        "provider_kind": "business",
        "founded_by_returning": True,
        "district": "500101",
        "course_level": "senior",
        "trainees": trainees,
        "skilled_post": True,
        "completion_date": "2024-01-10",
    }
    f.write_text(json.dumps({"onjob_trainings": [row]}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert res.exit_code == 0, res.output
    (doc,) = json.loads(res.output)["programs"]
    assert (doc["program"], doc["status"], doc["amount_fen"]) == ("onjob_training_subsidy", "ineligible", 0)
    cond = {c["id"]: c for c in doc["conditions"]}["amount_in_range"]
    assert cond["status"] == "fail" and "数据有误，请核对培训合格人数" in cond["message"]
    f.write_text(f.read_text(encoding="utf-8").replace(str(trainees), "12"), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert res.exit_code == 0, res.output


def test_dates_must_be_written_yyyy_mm_dd_and_exist() -> None:
    """Python's fromisoformat also reads 20240101 and 2024-W01-1: refused; 2024-02-30 is named as a
    day that does not exist, not as a format error."""
    for text, message in (
        ("20240101", "须写为 YYYY-MM-DD"),
        ("2024-W01-1", "须写为 YYYY-MM-DD"),
        ("2024-02-30", "2024-02-30 不存在"),
    ):
        res = runner.invoke(app, ["params", "loan_individual.ceiling", "--on", text])
        assert res.exit_code != 0 and message in res.output, (text, res.output)
    res = runner.invoke(app, ["params", "loan_individual.ceiling", "--on", "2024-02-29"])
    assert res.exit_code == 0, res.output


def test_a_case_date_in_another_iso_form_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "case.json"
    f.write_text(json.dumps({"business": {"id": "B1", "registration_date": "20210310"}}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01"])
    assert res.exit_code == 2 and "business.registration_date" in res.output, res.output


def test_a_case_with_no_subject_says_so(tmp_path: Path) -> None:
    f = tmp_path / "case.json"
    f.write_text("{}", encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01"])
    assert res.exit_code == 0 and "没有适用的项目" in res.output.replace("\n", ""), res.output


def test_a_yaml_case_with_a_date_that_does_not_exist_names_the_field(tmp_path: Path) -> None:
    """YAML reads an unquoted 2024-02-30 as a timestamp, which failed inside the YAML loader: a
    traceback ("day is out of range for month") instead of the field."""
    f = tmp_path / "case.yaml"
    f.write_text("on: 2024-03-01\nbusiness: {id: B1, district: 500101, registration_date: 2021-02-30}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2, res.output
    assert "business.registration_date" in res.output and "有效日期" in res.output, res.output
    f.write_text("on: 2024-02-30\nbusiness: {id: B1}\n")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2 and "字段 on" in res.output, res.output


def test_a_case_file_that_is_not_utf8_is_a_chinese_error(tmp_path: Path) -> None:
    f = tmp_path / "case.json"
    f.write_bytes('{"name": "返乡创业", "business": {"id": "B1"}}'.encode("gbk"))
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01"])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "case.json" in res.output and "UTF-8" in res.output, res.output


def test_a_case_file_with_a_utf8_bom_is_read(tmp_path: Path) -> None:
    """Windows editors save UTF-8 with a byte-order mark; the batch CSV reader accepts it, so does check."""
    f = tmp_path / "case.json"
    f.write_bytes(b"\xef\xbb\xbf" + json.dumps({"business": {"id": "B1"}}).encode())
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert res.exit_code == 0, res.output


def test_a_bad_registration_date_is_named_where_it_was_written(tmp_path: Path) -> None:
    """The founder's licence date defaults to the business's registration date; a bad registration
    date was reported as person.licence_date (营业执照取得日期), a field the case did not write."""
    f = tmp_path / "case.json"
    case = {
        "person": {"id": "P1", "groups": ["veteran"]},
        "business": {"id": "B1", "district": 500101, "registration_date": "2021-02-30"},
    }
    f.write_text(json.dumps(case), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01"])
    assert res.exit_code == 2, res.output
    assert "business.registration_date" in res.output and "licence_date" not in res.output, res.output


def test_an_id_that_is_a_decimal_is_refused(tmp_path: Path) -> None:
    """README and `schema case`: an id may be text or an integer, not a decimal, a boolean or a list;
    an id 1.5 was read as the text "1.5"."""
    f = tmp_path / "case.json"
    for bad in (1.5, True, [1]):
        f.write_text(json.dumps({"business": {"id": bad, "district": 500101}}), encoding="utf-8")
        res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
        assert res.exit_code == 2, (bad, res.output)
        assert "business.id" in res.output, (bad, res.output)
    f.write_text(json.dumps({"business": {"id": 15, "district": 500101}}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert res.exit_code == 0, res.output


def test_a_null_id_takes_the_default_id(tmp_path: Path) -> None:
    """null means unknown, like a missing key: the default id (B1), not the text "None"."""
    f = tmp_path / "case.json"
    f.write_text(json.dumps({"business": {"id": None, "district": 500101}}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert res.exit_code == 0, res.output
    assert {p["subject"]["id"] for p in json.loads(res.stdout)["programs"]} == {"B1"}


def test_synth_into_a_file_is_a_chinese_error(tmp_path: Path) -> None:
    """An output path that is a file (or under one) was a FileExistsError / NotADirectoryError traceback."""
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    for out in (f, f / "sub"):
        res = runner.invoke(app, ["synth", "--businesses", "10", "-o", str(out)])
        assert res.exit_code == 2, res.output
        assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
        assert "输出目录" in res.output, res.output
    assert f.read_text(encoding="utf-8") == "x"


def test_a_key_written_twice_in_a_case_file_is_refused_naming_it(tmp_path: Path) -> None:
    """Two ``district:`` lines (or a JSON object with ``id`` twice) used to be read silently with the
    last value winning; now the key (and, in YAML, its line) is named and nothing is evaluated."""
    y = tmp_path / "twice.yaml"
    y.write_text('business:\n  id: B1\n  district: "500101"\n  district: "500102"\n', encoding="utf-8")
    res = runner.invoke(app, ["check", str(y), "--on", "2024-03-01"])
    assert res.exit_code != 0
    assert "第4行：键 district 重复（第3行已写过）" in res.output.replace("\n", "")
    j = tmp_path / "twice.json"
    j.write_text('{"business": {"id": "B1", "id": "B2"}}', encoding="utf-8")
    res = runner.invoke(app, ["check", str(j), "--on", "2024-03-01"])
    assert res.exit_code != 0
    assert "键 id 重复" in res.output.replace("\n", "")


EXAMPLE = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/examples/returning_founder.yaml"


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": ["返乡", "创业"]}, "name"),
        ({"name": {"zh": "返乡创业"}}, "name"),
        ({"note": 3.5}, "note"),
        ({"note": True}, "note"),
        ({"name": "返乡创业", "note": "备注"}, None),
        ({"name": None, "note": None, "on": None}, None),  # (null, like a missing key)
        ({"business": {"id": "B1", "years": {"23": {}}}}, "business.years.23"),
        ({"business": {"id": "B1", "years": {"+2023": {}}}}, "business.years.+2023"),
        ({"business": {"id": "B1", "years": {"2023": {}}}}, None),
    ],
)
def test_the_case_schema_and_the_loader_agree(tmp_path: Path, doc: dict[str, Any], field: str | None) -> None:
    """`schema case` says what `check` accepts: a name or a note that is not text (a number, a list,
    an object) and a year key that is not four digits were read silently, though the schema refused
    them; now both refuse them, and the error names the field."""
    validator = jsonschema.Draft202012Validator(case_schema(), format_checker=jsonschema.FormatChecker())
    valid = not list(validator.iter_errors(doc))
    f = tmp_path / "case.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--on", "2024-03-01", "--json"])
    assert valid == (field is None), [e.message for e in validator.iter_errors(doc)]
    if field is None:
        assert res.exit_code == 0, res.output
        return
    assert res.exit_code == 2, res.output
    text = res.output.replace("\n", "")
    assert f"字段 {field}：" in text and "错误" in text, res.output
    assert "须为文本" in text or "四位整数" in text, res.output
    assert not res.stdout.strip().startswith("{")  # (no partial document)


@pytest.mark.parametrize("on", ["1899-12-31", "2100-01-01", "0001-01-01", "9999-12-31"])
def test_an_evaluation_date_outside_the_supported_range_is_refused_naming_the_option(
    tmp_path: Path, on: str
) -> None:
    """--on took any date (check evaluated year 9999, params showed the values of year 1); the case
    facts were already limited to 1900-01-01 … 2099-12-31: check, match and params now refuse
    --on outside it, as check does the case's own ``on``."""
    (tmp_path / "tables").mkdir()
    target = tmp_path / "out.csv"
    for args in (
        ["check", str(EXAMPLE), "--json"],
        ["params", "loan_individual.ceiling", "--json"],
        ["match", str(tmp_path / "tables"), "-o", str(target)],
    ):
        res = runner.invoke(app, [*args, "--on", on])
        assert res.exit_code == 2, (args, res.output)
        text = res.output.replace("\n", "")
        assert f"--on：日期 {on} 超出范围，须在1900-01-01至2099-12-31之间" in text, (args, res.output)
        assert "{" not in res.stdout, res.stdout
    assert not target.exists()
    f = tmp_path / "case.json"
    f.write_text(json.dumps({"on": on, "business": {"id": "B1"}}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f), "--json"])
    assert res.exit_code == 2, res.output
    assert "字段 on：评估日期" in res.output and "1900-01-01至2099-12-31" in res.output.replace("\n", "")


def test_the_first_and_last_supported_days_are_accepted() -> None:
    for on in ("1900-01-01", "2099-12-31"):
        res = runner.invoke(app, ["params", "loan_individual.ceiling", "--on", on, "--json"])
        assert res.exit_code == 0, res.output


_ENGLISH = ("Usage:", "Error", "Try '", "No such", "Missing", "Invalid value", "Got unexpected", "requires")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (
            ["check", "--foo", str(EXAMPLE)],
            ["用法错误：未知选项 --foo（是否想用 --on？）", "用法：", "check --help"],
        ),
        (["--foo"], ["用法错误：未知选项 --foo"]),
        (["check"], ["用法错误：缺少参数 case_file：案例文件"]),
        (["check", "a.yaml", "b.yaml"], ["用法错误：多余的参数 b.yaml"]),
        (["params", "--district", "abc"], ["--district abc：须为重庆市41个区县之一的代码"]),
        (["synth", "--businesses", "0"], ["用法错误：选项 --businesses：取值 '0' 须不小于 1"]),
        (["params", "--on"], ["用法错误：选项 --on 后须跟一个取值"]),
        (["check", "--json=yes", str(EXAMPLE)], ["用法错误：选项 --json 不接受取值"]),
        (["nosuch"], ["用法错误：未知命令 nosuch"]),
        (["chek"], ["用法错误：未知命令 chek（是否想用 check"]),
        (["loans", "nosuch"], ["用法错误：未知命令 nosuch", "loans --help"]),
        (["params", "--on", "notadate"], ["--on：日期 'notadate' 须写为 YYYY-MM-DD"]),
        (["check", "/nonexistent/case.yaml"], ["无法读取案例文件", "文件不存在"]),
        (
            ["params", "loan.lpr_1y_bp", "--params-overlay", "/nonexistent/overlay.yaml"],
            ["--params-overlay /nonexistent/overlay.yaml：无法读取（文件不存在）"],
        ),
    ],
)
def test_usage_errors_are_chinese_with_exit_code_2(args: list[str], fragments: list[str]) -> None:
    """Click's usage errors (unknown option or command, missing argument, a value of the wrong type,
    a missing file) were printed in English in an "Error" panel; now in Chinese, exit code 2."""
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    text = res.output.replace("\n", "")
    for fragment in fragments:
        assert fragment in text, (fragment, res.output)
    for english in _ENGLISH:
        assert english not in text, (english, res.output)


def test_help_and_a_group_without_a_command_still_print_the_help() -> None:
    res = runner.invoke(app, ["check", "--help"])
    assert res.exit_code == 0 and "政策体检" in res.output
    res = runner.invoke(app, ["loans"])
    assert "创业担保贷款" in res.output and "用法错误" not in res.output, res.output


def test_params_shows_a_parameter_by_its_exact_name_a_group_at_a_dot_and_refuses_anything_else() -> None:
    """`params loan` listed every parameter whose name starts with "loan" (loan_individual.*,
    loan_small_micro.* …) and a misspelt name showed nothing useful; now an exact name shows that
    parameter, a group name (with or without the dot) that group, anything else is an error listing
    the closest names."""

    def names(*args: str) -> list[str]:
        res = runner.invoke(app, ["params", *args, "--json"])
        assert res.exit_code == 0, res.output
        return [d["name"] for d in json.loads(res.stdout)]

    assert names("loan_individual.ceiling") == ["loan_individual.ceiling"]
    group = names("loan")
    assert group and all(n.startswith("loan.") for n in group), group
    assert names("loan.") == group
    assert all(n.startswith("jobs.matching.") for n in names("jobs.matching"))
    for wrong, closest in (
        ("loan_individual.ceilng", "loan_individual.ceiling"),
        ("loan_indiv", "loan_individual"),
        ("loan.lpr", "loan.lpr_1y_bp"),
    ):
        res = runner.invoke(app, ["params", wrong, "--json"])
        assert res.exit_code == 2, (wrong, res.output)
        text = res.output.replace("\n", "")
        assert f"没有名为「{wrong}」的参数或参数组" in text and closest in text, (wrong, res.output)
        assert not res.stdout.strip(), res.stdout
    res = runner.invoke(app, ["params", "zzzz"])
    assert res.exit_code == 2 and "xiangchuang params" in res.output.replace("\n", ""), res.output


@pytest.mark.parametrize(
    "command", [["closures-pending"], ["outreach", "purge"], ["jobs-match", "QZ0000001"]]
)
@pytest.mark.parametrize(
    ("on", "rule"),
    [
        ("2100-01-01", "日期 2100-01-01 超出范围，须在1900-01-01至2099-12-31之间"),
        ("1899-12-31", "日期 1899-12-31 超出范围，须在1900-01-01至2099-12-31之间"),
        ("10/03/2025", "日期 '10/03/2025' 须写为 YYYY-MM-DD"),
    ],
)
def test_the_other_date_options_are_read_as_on_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], on: str, rule: str
) -> None:
    """closures-pending, outreach purge and jobs-match parsed --on themselves: any year (2100, 1899) went
    on to the database, and a bad date had a message of its own. They read it as check's --on does,
    before any database access (the database here does not exist)."""
    from xiangchuang.config import get_settings

    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(tmp_path / "no-keyring.json"))
    get_settings.cache_clear()
    try:
        res = runner.invoke(app, [*command, "--on", on])
    finally:
        get_settings.cache_clear()
    assert res.exit_code == 2, res.output
    assert f"--on：{rule}" in res.output.replace("\n", ""), res.output
    assert not (tmp_path / "none.db").exists()


def test_an_error_quoting_square_brackets_is_printed_whole(tmp_path: Path) -> None:
    """Errors are printed through Rich: text in square brackets (an example list in the rule, a
    value quoted from the input, a file name) used to be read as markup and dropped, truncating the
    message or naming another file."""
    f = tmp_path / "case.json"
    f.write_text(json.dumps({"person": {"id": "P1", "groups": "veteran"}}), encoding="utf-8")

    def said(res: Any) -> str:  # (Rich wraps long lines, a temporary path among them)
        return "".join(res.output.split())

    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2 and "如[college_graduate,veteran]" in said(res), res.output
    f.write_text(json.dumps({"person": {"id": "P1", "groups": ["[x]"]}}), encoding="utf-8")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2 and "[x]" in said(res), res.output
    missing = tmp_path / "[draft]case.json"
    res = runner.invoke(app, ["check", str(missing)])
    assert res.exit_code != 0 and "[draft]case.json" in said(res), res.output
