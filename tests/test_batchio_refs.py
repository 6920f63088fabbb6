"""Reading batch tables: reference columns resolved to row numbers.

The loader gathers every reference column and resolves them with one id lookup per target table,
and looks a run of equal ids up once. These tests check the row numbers against a plain Python
lookup, with runs, nulls inside runs, unknown ids, and register rows of several programs."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from xiangchuang.batchio import BatchInputError, load_directory
from xiangchuang.engine.facts import NO_REF, UNRESOLVED_REF


def _write(directory: Path, name: str, columns: dict[str, list[object]], fmt: str) -> None:
    table = pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})
    if fmt == "csv":
        pacsv.write_csv(table, directory / f"{name}.csv")
    else:
        pq.write_table(table, directory / f"{name}.parquet")


def _expected(ids: list[str], refs: list[str | None]) -> tuple[list[int], list[bool]]:
    row = {x: k for k, x in enumerate(ids)}
    # (An id given that names no row is UNRESOLVED_REF: unknown, but given; an empty cell NO_REF.)
    values = [row.get(r, UNRESOLVED_REF) if r is not None else NO_REF for r in refs]
    return values, [r is not None and r in row for r in refs]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_reference_columns_resolve_to_the_rows_a_plain_lookup_gives(tmp_path: Path, fmt: str) -> None:
    rng = random.Random(5)
    persons = [f"P{k:05d}" for k in range(400)]
    businesses = [f"B{k:04d}" for k in range(120)]
    hires = [f"H{k:04d}" for k in range(300)]
    rng.shuffle(persons)  # row order is not id order

    def pick(pool: list[str], n: int, unknown: str) -> list[str | None]:
        out: list[str | None] = []
        for _ in range(n):
            u = rng.random()
            out.append(None if u < 0.05 else unknown if u < 0.1 else rng.choice(pool))
        return out

    founders = pick(persons, len(businesses), "P-NONE")
    hire_business = pick(businesses, len(hires), "B-NONE")
    hire_person = pick(persons, len(hires), "P-NONE")
    # Contributions in runs of one hire (the usual export), with a null and an unknown id inside runs.
    contrib: list[str | None] = []
    for h in hires:
        contrib += [h] * rng.randint(1, 9)
    for k in range(0, len(contrib), 37):
        contrib[k] = None
    for k in range(5, len(contrib), 53):
        contrib[k] = "H-NONE"
    months = [f"2023-{(k % 12) + 1:02d}" for k in range(len(contrib))]
    trainees = pick(persons, 80, "P-NONE")
    received_programs = ["job_subsidy", "startup_subsidy", "training_syb"] * 20
    received_subjects = [
        rng.choice(persons) if p != "startup_subsidy" else rng.choice([*businesses, "B-NONE"])
        for p in received_programs
    ]

    _write(tmp_path, "persons", {"id": persons}, fmt)
    _write(tmp_path, "businesses", {"id": businesses, "founder_id": founders}, fmt)
    _write(tmp_path, "hires", {"id": hires, "business_id": hire_business, "person_id": hire_person}, fmt)
    _write(tmp_path, "contributions", {"hire_id": contrib, "month": months}, fmt)
    _write(tmp_path, "trainings", {"id": [f"T{k}" for k in range(80)], "person_id": trainees}, fmt)
    _write(
        tmp_path,
        "received",
        {
            "program": received_programs,
            "subject_id": [
                s if p != "job_subsidy" else None
                for p, s in zip(received_programs, received_subjects, strict=True)
            ],
            "person_id": [
                s if p == "job_subsidy" else None
                for p, s in zip(received_programs, received_subjects, strict=True)
            ],
        },
        fmt,
    )

    facts, report = load_directory(tmp_path)
    t = facts.tables
    for table, col, ids, refs in (
        ("businesses", "founder_id", persons, founders),
        ("hires", "business_id", businesses, hire_business),
        ("hires", "person_id", persons, hire_person),
        ("contributions", "hire_id", hires, contrib),
        ("trainings", "person_id", persons, trainees),
    ):
        values, known = _expected(ids, refs)
        got = t[table][col]
        assert got.values.tolist() == values, (table, col)
        assert got.known.tolist() == known, (table, col)
        unknown_given = sum(1 for r, k in zip(refs, known, strict=True) if r is not None and not k)
        assert report.unresolved.get(f"{table}.{col}", 0) == unknown_given, (table, col)
    # The register's subjects: businesses for startup_subsidy, persons for the others.
    subject_row = t["received"]["subject_row"].values.tolist()
    for k, (p, s) in enumerate(zip(received_programs, received_subjects, strict=True)):
        pool = businesses if p == "startup_subsidy" else persons
        assert subject_row[k] == (pool.index(s) if s in pool else NO_REF), (k, p, s)
    # The report lists unresolved references in table and column order.
    assert list(report.unresolved) == sorted(
        report.unresolved,
        key=lambda x: ["businesses", "hires", "contributions", "trainings"].index(x.split(".")[0]),
    )
    assert np.count_nonzero(t["contributions"]["hire_id"].known) < len(contrib)


@pytest.mark.parametrize("table", ["persons", "businesses", "trainings"])
def test_duplicate_or_empty_ids_are_refused_naming_the_file_and_column(tmp_path: Path, table: str) -> None:
    """Duplicate ids are found whether or not another table refers to the table (persons and
    businesses are referred to here, trainings is not); an empty id is refused too."""
    ids = {"persons": ["P1", "P2", "P3"], "businesses": ["B1", "B2"], "trainings": ["T1", "T2"]}
    ids[table] = [*ids[table], ids[table][0]]
    _write(tmp_path, "persons", {"id": ids["persons"]}, "csv")
    _write(
        tmp_path,
        "businesses",
        {"id": ids["businesses"], "founder_id": ["P1"] * len(ids["businesses"])},
        "csv",
    )
    _write(
        tmp_path, "trainings", {"id": ids["trainings"], "person_id": ["P2"] * len(ids["trainings"])}, "csv"
    )
    # (the repeated id by the data rows of both, the first written in row 1)
    row, first = len(ids[table]), ids[table][0]
    with pytest.raises(
        BatchInputError,
        match=rf"{table}\.csv 第{row}行数据 列 id.*编号 '{first}' 重复（第1行数据已有）.*编号须唯一",
    ):
        load_directory(tmp_path)
    # (An empty id in a one-column CSV would be a blank line, which is skipped: Parquet keeps it.
    # The CSV goes: a directory holding both files of a table is refused.)
    (tmp_path / f"{table}.csv").unlink()
    _write(tmp_path, table, {"id": [*ids[table][1:-1], None]}, "parquet")
    with pytest.raises(BatchInputError, match=rf"{table}\.parquet 第{row - 1}行数据 列 id.*编号为空"):
        load_directory(tmp_path)


def test_references_resolve_the_same_when_codes_come_in_another_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one-pass resolution relies on dictionary_encode numbering values in order of first
    appearance; were that to change, the ids' codes would not be 0…n-1 and every reference column
    is looked up with index_in instead — the same rows."""
    persons = [f"P{k}" for k in range(50)]
    refs = [persons[k % 50] if k % 7 else "P-NONE" for k in range(200)]
    _write(tmp_path, "persons", {"id": persons}, "parquet")
    _write(tmp_path, "trainings", {"id": [f"T{k}" for k in range(200)], "person_id": refs}, "parquet")
    expected = load_directory(tmp_path)[0].tables["trainings"]["person_id"]

    real = pc.dictionary_encode

    def reversed_codes(arr: pa.Array) -> pa.DictionaryArray:
        enc = real(arr)
        last = len(enc.dictionary) - 1
        indices = pc.subtract(pa.scalar(last, enc.indices.type), enc.indices)
        return pa.DictionaryArray.from_arrays(indices, enc.dictionary.take(pa.array(range(last, -1, -1))))

    monkeypatch.setattr(pc, "dictionary_encode", reversed_codes)
    got = load_directory(tmp_path)[0].tables["trainings"]["person_id"]
    assert got.values.tolist() == expected.values.tolist()
    assert got.known.tolist() == expected.known.tolist()
    assert expected.values.tolist() == [persons.index(r) if r in persons else UNRESOLVED_REF for r in refs]


def test_ids_are_compact_strings_that_explanations_and_match_rows_read_as_str(tmp_path: Path) -> None:
    """Ids are NumPy variable-width strings (16 bytes an id, not a Python object each): the result
    document and the match rows carry them as plain str, equal to the file's."""
    import datetime as dt

    from xiangchuang.batchio import ID_DTYPE, match_rows
    from xiangchuang.engine.evaluate import run
    from xiangchuang.engine.explain import Explainer
    from xiangchuang.engine.parameters import load_parameters

    _write(
        tmp_path, "persons", {"id": ["P1", "P2"], "groups": ["veteran", "returning_migrant_worker"]}, "csv"
    )
    _write(
        tmp_path,
        "businesses",
        {
            "id": ["B-甲", "B-乙-一个很长的编号超过十五个字节"],
            "founder_id": ["P1", "P2"],
            "kind": ["enterprise", "individual_business"],
            "registration_date": ["2022-01-10", "2023-05-01"],
            "status": ["normal", "normal"],
        },
        "csv",
    )
    facts, _ = load_directory(tmp_path)
    ids = facts.tables["businesses"]["id"].values
    assert ids.dtype == ID_DTYPE and facts.tables["persons"]["id"].values.dtype == ID_DTYPE
    params = load_parameters()
    outcomes = run(facts, dt.date(2024, 3, 20), params)
    startup = next(o for o in outcomes if o.program.id == "startup_subsidy")
    subjects = [Explainer(params).program(startup, i)["subject"]["id"] for i in range(2)]
    assert subjects == ["B-甲", "B-乙-一个很长的编号超过十五个字节"] and all(type(s) is str for s in subjects)
    rows = match_rows(outcomes, include_undetermined=True).to_pylist()
    assert {r["subject_id"] for r in rows if r["subject_table"] == "businesses"} <= set(subjects)
    assert any(r["subject_id"] == "B-乙-一个很长的编号超过十五个字节" for r in rows)


def test_match_rows_leave_an_unknown_district_empty(tmp_path: Path) -> None:
    """A row's district is the one its values were looked up by: empty where the table does not
    give it (never 0, which is no district code), the code where it does."""
    import datetime as dt

    from xiangchuang.batchio import match_rows
    from xiangchuang.engine.evaluate import run
    from xiangchuang.engine.parameters import load_parameters

    _write(tmp_path, "persons", {"id": ["P1", "P2"], "groups": ["veteran", "veteran"]}, "csv")
    _write(
        tmp_path,
        "businesses",
        {
            "id": ["B1", "B2"],
            "founder_id": ["P1", "P2"],
            "district": ["500101", None],
            "kind": ["enterprise", "enterprise"],
            "registration_date": ["2022-01-10", "2022-01-10"],
            "status": ["normal", "normal"],
        },
        "csv",
    )
    facts, _ = load_directory(tmp_path)
    outcomes = run(facts, dt.date(2024, 3, 20), load_parameters())
    rows = match_rows(outcomes, include_undetermined=True).to_pylist()
    by_subject = {r["subject_id"]: r["district"] for r in rows if r["program"] == "startup_subsidy"}
    assert by_subject == {"B1": 500101, "B2": None}
