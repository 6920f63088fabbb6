"""Published vectors: the package, the standalone file and the CLI reproduce them; any flipped bit fails."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.mentors.make_vectors import BUILDERS, VECTORS, render
from xiangchuang.cli import app
from xiangchuang.mentors import draw as D

ROOT = Path(__file__).resolve().parents[2]
STANDALONE = ROOT / "tools" / "verify_draw.py"
NAMES = sorted(BUILDERS)


def _load(name: str) -> Any:
    return D.load(str(VECTORS / f"{name}.json"))


def test_standalone_file_is_draw_module() -> None:
    """One definition: tools/verify_draw.py is byte-identical to the package's draw.py."""
    assert STANDALONE.read_bytes() == Path(D.__file__).read_bytes()


def test_draw_module_uses_only_the_standard_library() -> None:
    src = Path(D.__file__).read_text(encoding="utf-8")
    imports = {
        line.split()[1].split(".")[0]
        for line in src.splitlines()
        if line.startswith(("import ", "from ")) and not line.startswith("from __future__")
    }
    assert imports <= set(sys.stdlib_module_names)


@pytest.mark.parametrize("name", NAMES)
def test_vector_is_regenerated_identically(name: str) -> None:
    assert render(BUILDERS[name]()) == (VECTORS / f"{name}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_package_reproduces_vector(name: str) -> None:
    res = D.verify(_load(name))
    assert res.ok, res.message


@pytest.mark.parametrize("name", NAMES)
def test_standalone_reproduces_vector_without_the_package(name: str, tmp_path: Path) -> None:
    """Run with -I -S: no site-packages, so nothing installed is importable, only the standard library."""
    tool = tmp_path / "verify_draw.py"
    shutil.copy(STANDALONE, tool)
    manifest = tmp_path / "m.json"
    shutil.copy(VECTORS / f"{name}.json", manifest)
    ok = subprocess.run(
        [sys.executable, "-I", "-S", str(tool), str(manifest)], cwd=tmp_path, capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "通过" in ok.stdout
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc["result"]["seed"] = "0" * 64
    manifest.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-I", "-S", str(tool), str(manifest)], cwd=tmp_path, capture_output=True, text=True
    )
    assert bad.returncode == 1
    assert "未通过" in bad.stdout and "result.seed" in bad.stdout


def test_cli_verify_draw(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["verify-draw", str(VECTORS / "basic_final.json")])
    assert res.exit_code == 0, res.output
    assert "通过" in res.output
    doc = _load("basic_final")
    doc["inputs"]["pool"][0]["district"] += 1
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    res = runner.invoke(app, ["verify-draw", str(path)])
    assert res.exit_code == 1
    assert "未通过" in res.output


def _leaves(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(obj, dict):
        return [p for k in obj for p in _leaves(obj[k], (*path, k))]
    if isinstance(obj, list):
        return [p for i, v in enumerate(obj) for p in _leaves(v, (*path, i))]
    return [path] if obj is not None else []


def _flip(doc: Any, path: tuple[Any, ...]) -> Any:
    out = copy.deepcopy(doc)
    parent = out
    for k in path[:-1]:
        parent = parent[k]
    v = parent[path[-1]]
    if isinstance(v, bool):
        parent[path[-1]] = not v
    elif isinstance(v, int):
        parent[path[-1]] = v ^ 1
    else:
        parent[path[-1]] = chr(ord(v[-1]) ^ 1).join([v[:-1], ""]) if v else "x"
    return out


@pytest.mark.parametrize("name", NAMES)
def test_flipping_any_bit_fails_verification(name: str) -> None:
    """Every leaf of the manifest (commitments, reveals, mentor attributes, history, results …)."""
    doc = _load(name)
    leaves = _leaves(doc)
    assert len(leaves) > 30
    for path in leaves:
        res = D.verify(_flip(doc, path))
        assert not res.ok, path


@pytest.mark.parametrize(
    "path",
    [
        ("inputs", "commitments", 0, "commitment"),
        ("inputs", "pool", 4, "employer"),
        ("inputs", "pool", 2, "district"),
        ("inputs", "pool", 11, "available"),
        ("inputs", "history", 1, "date"),
        ("inputs", "history", 0, "applicants", 0),
        ("inputs", "event", "projects", 0, "persons", 0),
    ],
)
def test_flipping_an_input_changes_the_draw(path: tuple[Any, ...]) -> None:
    """Re-drawn with the flipped input (commitments re-made where the flip touched them), the seed
    changes, so every ticket does."""
    doc = _load("basic_final")
    flipped = _flip(doc, path)
    inputs = flipped["inputs"]
    reveals = doc["reveals"]
    if path[1] == "commitments":
        # A flipped commitment no longer matches its reveal: the draw refuses to run.
        with pytest.raises(D.DrawInputError, match="承诺校验失败"):
            D.run(inputs, reveals)
        return
    again = D.run(inputs, reveals)
    assert again["result"]["seed"] != doc["result"]["seed"]
    assert again["result"]["strata"] != doc["result"]["strata"]


def test_flipping_a_reveal_is_refused() -> None:
    doc = _load("basic_final")
    reveals = copy.deepcopy(doc["reveals"])
    reveals[1]["secret"] = reveals[1]["secret"][:-1] + ("0" if reveals[1]["secret"][-1] != "0" else "1")
    with pytest.raises(D.DrawInputError, match="supervisor"):
        D.run(doc["inputs"], reveals)
