"""The command line: check, match, params, provisions, schema — real files, Chinese errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from xiangchuang import synth
from xiangchuang.cli import app
from xiangchuang.cli import console as cli_console
from xiangchuang.engine.programs import PROGRAM_IDS
from xiangchuang.engine.schema import case_schema, result_schema

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/examples/returning_founder.yaml"


def test_check_prints_a_chinese_report():
    res = runner.invoke(app, ["check", str(EXAMPLE)])
    assert res.exit_code == 0, res.output
    assert "创业补助" in res.output and "符合" in res.output and "〔1.1〕" in res.output


def test_check_json_is_the_stable_document():
    res = runner.invoke(app, ["check", str(EXAMPLE), "--json", "--on", "2024-03-20"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, result_schema())
    startup = next(p for p in doc["programs"] if p["program"] == "startup_subsidy")
    assert startup["status"] == "eligible" and startup["amount_fen"] == 1_728_000  # 20% of 86,400.00


def test_example_case_matches_the_case_schema():
    from xiangchuang.engine.case import load_yaml

    case = load_yaml(EXAMPLE.read_text(encoding="utf-8"))
    case = json.loads(json.dumps(case, default=str))
    jsonschema.validate(case, case_schema())


def test_every_worked_case_matches_the_case_schema():
    """The schema describes what the loader accepts: every worked case (null = unknown, a period
    written as a number) validates, with date formats checked."""
    import yaml

    validator = jsonschema.Draft202012Validator(case_schema(), format_checker=jsonschema.FormatChecker())
    cases = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/cases"
    checked = 0
    for path in sorted(cases.glob("*.yaml")):
        for item in yaml.safe_load(path.read_text(encoding="utf-8")):
            doc = json.loads(json.dumps(item["case"], default=str))
            errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(doc)]
            assert not errors, (path.name, item["name"], errors)
            checked += 1
    assert checked >= 300


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            '{"business": {"id": "B1"}, "received": [{"program": "startup_subsidy", "period": true}]}',
            "received[0].period",
        ),
        (
            '{"business": {"id": "B1"}, "received": [{"program": "startup_subsidy", "period": 2023.5}]}',
            "不能是小数",
        ),
        ('{"business": {"registration_date": "2021-02-30"}}', "business.registration_date"),
        ('{"business": {"staff_count": 1.5}}', "business.staff_count"),
        ('{"person": {"groups": ["martian"]}}', "未知的人员类别"),
        ('{"persons": {}}', "persons"),
        ("{not json", "不是有效的 JSON"),
        # (500999.0 is the integer 500999, README choice 64: no such district; it was Python's English
        # int() message, then a refusal of every decimal)
        ('{"business": {"district": 500999.0}}', "所在区县 500999：须为重庆市41个区县之一"),
        ('{"business": {"district": 500101.5}}', "行政区划代码，不能是小数"),
        ('{"business": {"staff_count": 1e300}}', "无法精确表示为整数"),
        ('{"business": {"district": "万州"}}', "不能是小数或文字"),
    ],
)
def test_malformed_case_gets_a_chinese_error_naming_the_field(tmp_path, content, fragment):
    f = tmp_path / "case.json"
    f.write_text(content, encoding="utf-8")
    res = runner.invoke(app, ["check", str(f)])
    assert res.exit_code == 2
    text = res.output.replace("\n", "")  # (a long message wraps between Chinese characters)
    assert fragment in text and "错误" in text


@pytest.fixture(scope="module")
def synth_dirs(tmp_path_factory):
    tables = synth.generate(800, seed=11)
    out = tmp_path_factory.mktemp("synth")
    synth.write(tables, out / "pq", "parquet")
    synth.write(tables, out / "csv", "csv")
    return out


def _rows(path: Path) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8") as fh:
        return sorted(tuple(r) for r in csv.reader(fh))


def test_match_gives_the_same_rows_from_parquet_and_csv(synth_dirs, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    for src, out in ((synth_dirs / "pq", a), (synth_dirs / "csv", b)):
        res = runner.invoke(app, ["match", str(src), "--on", "2025-03-31", "-o", str(out)])
        assert res.exit_code == 0, res.output
    rows_a, rows_b = _rows(a), _rows(b)
    assert rows_a == rows_b and len(rows_a) > 100
    assert rows_a[-1] and {r[0] for r in rows_a[:-1]} <= set(PROGRAM_IDS) | {"program"}


def test_match_writes_parquet_with_soon_rows(synth_dirs, tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "m.parquet"
    res = runner.invoke(app, ["match", str(synth_dirs / "pq"), "--on", "2026-01-10", "-o", str(out)])
    assert res.exit_code == 0, res.output
    t = pq.read_table(out)
    statuses = set(t.column("status").to_pylist())
    assert statuses <= {"eligible", "soon"} and "eligible" in statuses
    assert t.column("amount_fen").type.bit_width == 64


def test_match_rejects_a_bad_enum_naming_file_and_column(synth_dirs, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(synth_dirs / "csv", bad)
    text = (bad / "businesses.csv").read_text(encoding="utf-8").replace('"small_micro"', '"tiny"', 1)
    (bad / "businesses.csv").write_text(text, encoding="utf-8")
    res = runner.invoke(app, ["match", str(bad), "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 2
    assert "businesses.csv" in res.output and "size_class" in res.output and "tiny" in res.output


def test_match_refuses_a_misspelt_table_file_and_names_absent_tables(synth_dirs, tmp_path):
    """A register saved as recieved.csv used to be skipped in silence: every grant then unknown
    (here the startup subsidy's and the free workstation's rows disappeared from the list). A file
    whose name is close to a table without a file is refused; an unrelated file is named as not
    read; tables without a file are named as unknown."""
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(synth_dirs / "csv", bad)
    (bad / "received.csv").rename(bad / "recieved.csv")
    res = runner.invoke(app, ["match", str(bad), "--on", "2025-03-31", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 2, res.output
    out = "".join(res.output.split())  # (Rich wraps long lines, a temporary path among them)
    assert "recieved.csv" in out and "是否应为received.csv" in out
    (bad / "recieved.csv").rename(bad / "notes.csv")
    (bad / "trainings.csv").unlink()
    res = runner.invoke(app, ["match", str(bad), "--on", "2025-03-31", "-o", str(tmp_path / "x.csv")])
    assert res.exit_code == 0, res.output
    out = "".join(res.output.split())
    assert "未读取的文件" in out and "notes.csv" in out
    assert "没有这些表的文件" in out and "received" in out and "trainings" in out


def test_params_shows_dated_values_and_status():
    res = runner.invoke(app, ["params", "loan_individual.ceiling", "--on", "2024-06-01", "--json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc[0]["in_force"]["value"] == 30_000_000 and doc[0]["in_force"]["status"] == "secondary"
    assert len(doc[0]["history"]) == 3
    # A money value is in fen; its display is in yuan.
    assert doc[0]["unit"] == "yuan" and doc[0]["in_force"]["display"] == "¥300,000.00"
    assert [h["display"] for h in doc[0]["history"]] == ["¥200,000.00", "¥300,000.00", "¥500,000.00"]


def test_table_parameters_are_mappings_in_json(tmp_path):
    """A table parameter comes out as written in the YAML (a mapping, or a list of mappings), not
    as the frozen [key, value] pairs the engine keeps: in ``params --json`` and in a result."""
    import yaml

    res = runner.invoke(app, ["params", "carrier_award.performance", "--on", "2024-06-01", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["in_force"]["value"] == {"A": 300000, "B": 200000, "C": 100000}
    res = runner.invoke(app, ["params", "carrier_rent_reduction.default_schedule", "--json"])
    rows = json.loads(res.stdout)[0]["in_force"]["value"]
    assert rows[0] == {"year": 1, "rent": 10000, "property": 5000, "utilities": 0}
    res = runner.invoke(app, ["params", "mentor_service_subsidy.rates", "--json"])
    assert json.loads(res.stdout)[0]["in_force"]["value"]["lecture"] == {"city": 1000, "district": 600}
    cases = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/cases/carriers.yaml"
    case = tmp_path / "case.yaml"
    case.write_text(
        yaml.safe_dump(yaml.safe_load(cases.read_text(encoding="utf-8"))[0]["case"], allow_unicode=True),
        encoding="utf-8",
    )
    res = runner.invoke(app, ["check", str(case), "--on", "2024-03-31", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, result_schema())
    rent = next(p for p in doc["programs"] if p["program"] == "carrier_rent_reduction")
    cited = next(p for p in rent["parameters"] if p["name"] == "carrier_rent_reduction.default_schedule")
    assert cited["value"][1] == {"year": 2, "rent": 5000, "property": 0, "utilities": 0}


def test_params_of_a_city_only_program_never_show_a_district_value_in_force(tmp_path, monkeypatch):
    """Free workstations are for persons, who have no district (README choice 38): a district's
    value of their parameters is never applied, and ``params --district`` says so."""
    monkeypatch.setattr(cli_console, "width", 200)
    overlay = tmp_path / "ws.yaml"
    overlay.write_text(
        "free_workstation.youth_max_age:\n  districts:\n    500101:\n"
        "      - {since: 2022-01-01, value: 40, paid_by: 区县财政, status: assumed, reference: 测试}\n",
        encoding="utf-8",
    )
    args = ["params", "free_workstation.youth_max_age", "--on", "2024-06-01", "--district", "500101"]
    res = runner.invoke(app, [*args, "--params-overlay", str(overlay), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)[0]
    assert doc["in_force"]["value"] == 35 and doc["in_force"]["district"] is None
    assert doc["city_only"] is True and "只按全市取值" in doc["note"]
    res = runner.invoke(app, [*args, "--params-overlay", str(overlay)])
    assert res.exit_code == 0, res.output
    main, hist = res.output.split("历史版本", 1)
    assert "只按全市取值" in main and "40年" not in main and "35年" in main
    assert "不适用：只按全市取值" in hist  # (the district's version is listed, as not applying)
    applied = [line for line in res.output.splitlines() if line.rstrip("│ ").endswith("适用")]
    assert len(applied) == 1 and "全市" in applied[0]
    # A parameter with district values that apply is not marked.
    res = runner.invoke(app, ["params", "loan_individual.ceiling", "--json"])
    assert "city_only" not in json.loads(res.stdout)[0]


def test_params_table_is_readable_whole_and_lists_the_history(monkeypatch: pytest.MonkeyPatch):
    """In a narrow terminal the cells wrap rather than end in "…"; asking for one parameter lists
    every dated version (district versions with their district and payer) and marks the one in force."""
    monkeypatch.setattr(cli_console, "width", 80)
    overlay = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/overlays/demo-districts.yaml"
    args = ["params", "loan_individual.ceiling", "--on", "2024-07-01", "--district", "500154"]
    res = runner.invoke(app, [*args, "--params-overlay", str(overlay)])
    assert res.exit_code == 0, res.output
    assert "…" not in res.output
    # Each column's pieces read top to bottom (a folded cell continues on the next line).
    columns: dict[int, str] = {}
    for line in res.output.splitlines():
        if line.startswith("│"):
            for k, piece in enumerate(line.strip("│").split("│")):
                columns[k] = columns.get(k, "") + piece.strip()
    flat = " ".join(columns.values())
    assert "历史版本" in res.output
    for value in ("¥200,000.00", "¥300,000.00", "¥500,000.00", "¥400,000.00"):
        assert value in flat
    assert "财金〔2020〕21号" in flat and "开州区" in flat and "区县财政承担差额" in flat
    hist = res.output[res.output.index("历史版本") :]
    applied = [line for line in hist.splitlines() if line.rstrip("│ ").endswith("适用")]
    assert len(applied) == 1 and "2024-06-01" in applied[0]  # the district's own version applies
    assert "开州" in applied[0] or "500154" in applied[0]
    # A prefix lists several parameters: the history only with --history.
    res = runner.invoke(app, ["params", "loan_individual", "--on", "2024-07-01"])
    assert res.exit_code == 0 and "历史版本" not in res.output and "…" not in res.output
    res = runner.invoke(app, ["params", "loan_individual", "--on", "2024-07-01", "--history"])
    assert res.exit_code == 0 and "历史版本" in res.output


def test_params_with_a_district_says_whose_value_applies(monkeypatch: pytest.MonkeyPatch):
    """With --district the main table names the scope of the value in force: the district's own
    version (开州区 in the demo overlay) or the city's (全市) where the district has none."""
    monkeypatch.setattr(cli_console, "width", 200)
    overlay = Path(__file__).resolve().parents[1] / "src/xiangchuang/policy/overlays/demo-districts.yaml"
    rows = {}
    for code in ("500154", "500101"):
        args = ["params", "loan_individual.ceiling", "--on", "2024-07-01", "--district", code]
        res = runner.invoke(app, [*args, "--params-overlay", str(overlay)])
        assert res.exit_code == 0, res.output
        main = res.output[: res.output.index("历史版本")]
        rows[code] = next(line for line in main.splitlines() if line.startswith("│ loan_individual.ceiling"))
        assert "适用范围" in main
    assert "开州区" in rows["500154"] and "全市" not in rows["500154"]
    assert "全市" in rows["500101"] and "¥300,000.00" in rows["500101"]
    res = runner.invoke(app, ["params", "loan_individual.ceiling", "--on", "2024-07-01"])
    assert "适用范围" not in res.output[: res.output.index("历史版本")]  # (no district asked: no column)


def test_provisions_lists_every_clause():
    res = runner.invoke(app, ["provisions", "--json"])
    data = json.loads(res.stdout)
    assert list(data) == [
        "1.1",
        "1.2",
        "1.3",
        "2.4",
        "2.5",
        "2.6",
        "3.7",
        "3.8",
        "3.9",
        "3.10",
        "4.11",
        "4.12",
        "5.13",
        "5.14",
        "5.15",
    ]
    covered = {p for c in data.values() for p in c["programs"]}
    assert covered == set(PROGRAM_IDS)
    # 3.8 also asks for 示范山村（街） and 孵化实训基地 covering every district: not built, so partial.
    assert data["3.8"]["status"] == "partial"
    assert "示范山村（街）" in data["3.8"]["missing"] and "孵化实训基地" in data["3.8"]["missing"]


@pytest.mark.parametrize("which", ["case", "result", "tables"])
def test_schema_outputs_json(which):
    res = runner.invoke(app, ["schema", which])
    assert res.exit_code == 0
    json.loads(res.stdout)


def test_demo_main_job_runs_end_to_end_on_sqlite(tmp_path, monkeypatch):
    from xiangchuang.config import get_settings

    for var in ("XIANGCHUANG_DATA_DIR", "XIANGCHUANG_DATABASE_URL", "XIANGCHUANG_DEMO"):
        monkeypatch.delenv(var, raising=False)
    try:
        res = runner.invoke(app, ["demo", "--businesses", "300", "--data-dir", str(tmp_path / "demo")])
        assert res.exit_code == 0, res.output
        assert "政策找人" in res.output and "已保存匹配运行" in res.output and "创业补助" in res.output
        assert (tmp_path / "demo" / "xiangchuang.db").exists() and (
            tmp_path / "demo" / "keyring.json"
        ).exists()
        again = runner.invoke(app, ["demo", "--businesses", "300", "--data-dir", str(tmp_path / "demo")])
        assert again.exit_code == 0 and "跳过" in again.output
    finally:
        for var in ("XIANGCHUANG_DATA_DIR", "XIANGCHUANG_DATABASE_URL", "XIANGCHUANG_DEMO"):
            monkeypatch.delenv(var, raising=False)
        get_settings.cache_clear()


def test_verify_audit_reports_an_intact_chain_and_names_the_first_broken_record(tmp_path, monkeypatch):
    from sqlalchemy import text

    from xiangchuang.audit.chain import audit_key, record
    from xiangchuang.config import get_settings
    from xiangchuang.crypto import generate_keyring
    from xiangchuang.db import make_engine, make_sessionmaker, transaction
    from xiangchuang.dbmigrate import upgrade

    db = tmp_path / "a.db"
    ring = generate_keyring(tmp_path / "keyring.json")
    monkeypatch.setenv("XIANGCHUANG_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("XIANGCHUANG_KEYRING_FILE", str(tmp_path / "keyring.json"))
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    for i in range(3):
        with transaction(make_sessionmaker(engine)) as s:
            record(
                s,
                key=audit_key(ring),
                actor="u1",
                action="application.submit",
                subject=f"app:{i}",
                outcome="success",
                details={},
            )
    try:
        ok = runner.invoke(app, ["verify-audit"])
        assert ok.exit_code == 0 and "审计链完整" in ok.output
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET subject = 'app:x' WHERE seq = 2"))
        bad = runner.invoke(app, ["verify-audit"])
        assert bad.exit_code == 1 and "第 2 条" in bad.output
    finally:
        engine.dispose()
        get_settings.cache_clear()
