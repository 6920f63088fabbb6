"""The README's clause coverage tables (Chinese and English) say what clauses.yaml says, clause by clause,
and no clause is left unbuilt."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import yaml

README = Path(__file__).resolve().parents[1] / "README.md"
ZH = {"已建成": "built", "部分建成": "partial", "未建成": "not_built"}
EN = {"built": "built", "partial": "partial", "not built": "not_built"}


def _clauses() -> dict[str, str]:
    text = resources.files("xiangchuang.policy").joinpath("clauses.yaml").read_text(encoding="utf-8")
    return {k: v["status"] for k, v in yaml.safe_load(text).items()}


def _table(labels: dict[str, str]) -> dict[str, str]:
    row = re.compile(r"^\| (\d+\.\d+) \| [^|]+ \| (" + "|".join(map(re.escape, labels)) + r") \|", re.M)
    return {m.group(1): labels[m.group(2)] for m in row.finditer(README.read_text(encoding="utf-8"))}


def test_readme_tables_match_the_clauses():
    clauses = _clauses()
    assert list(clauses) == [c for c in clauses]  # 1.1 … 5.15 in order
    assert _table(ZH) == clauses
    assert _table(EN) == clauses
    assert "not_built" not in clauses.values()
