"""Synthetic data (xiangchuang.synth): shapes, identifiers, references, encodings, round trips."""

from __future__ import annotations

import re
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from xiangchuang import synth
from xiangchuang.engine.case import RECEIVED_SUBJECT
from xiangchuang.engine.districts import district_codes, load_districts
from xiangchuang.engine.facts import GROUPS, TABLES
from xiangchuang.ids import make_resident_id, validate_mobile, validate_resident_id, validate_uscc

N = 1500
END = date(2025, 12, 31)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return synth.generate(N, seed=11)


def _py(table: pa.Table, column: str) -> list[Any]:
    values: list[Any] = table.column(column).to_pylist()
    return values


def test_same_seed_gives_identical_tables() -> None:
    a = synth.generate(500, seed=5)
    b = synth.generate(500, seed=5)
    assert list(a) == list(b) == list(TABLES)
    for name in a:
        assert a[name].equals(b[name]), name
    c = synth.generate(500, seed=6)
    assert not a["persons"].equals(c["persons"])


def test_every_engine_column_is_present_with_its_encoding(tables: dict[str, pa.Table]) -> None:
    expected_type = {
        "id": pa.string(),
        "ref": pa.string(),
        "text": pa.string(),
        "enum": pa.string(),
        "month": pa.string(),
        "date": pa.date32(),
        "bool": pa.bool_(),
        "int": pa.int64(),
        "fen": pa.int64(),
        "code": pa.int32(),
        "division": pa.int32(),
        "groups": pa.list_(pa.string()),
    }
    for name, facts in TABLES.items():
        schema = tables[name].schema
        for fact in facts:
            assert fact.name in schema.names, f"{name}.{fact.name}"
            assert schema.field(fact.name).type == expected_type[fact.kind], f"{name}.{fact.name}"
            col = tables[name].column(fact.name)
            if fact.kind == "enum":
                values = set(pc.unique(col.drop_null()).to_pylist())
                assert values <= set(fact.choices), f"{name}.{fact.name}: {values - set(fact.choices)}"
            if fact.kind == "month":
                assert all(
                    re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", m) for m in pc.unique(col.drop_null()).to_pylist()
                )
            if fact.kind == "code":
                assert set(pc.unique(col.drop_null()).to_pylist()) <= set(district_codes()), (
                    f"{name}.{fact.name}"
                )


def test_fen_columns_are_int64_and_never_negative(tables: dict[str, pa.Table]) -> None:
    for name, facts in TABLES.items():
        for fact in facts:
            if fact.kind == "fen":
                col = tables[name].column(fact.name)
                assert col.type == pa.int64(), f"{name}.{fact.name}"
                if col.null_count < len(col):
                    assert pc.min(col).as_py() >= 0, f"{name}.{fact.name}"


def test_row_counts_are_in_the_documented_proportions(tables: dict[str, pa.Table]) -> None:
    rows = synth.summary(tables)
    assert rows == {name: t.num_rows for name, t in tables.items()}
    assert rows["businesses"] == N
    assert 2.7 * N <= rows["persons"] <= 3.3 * N
    assert 1.7 * N <= rows["hires"] <= 2.4 * N
    assert 10 * N <= rows["contributions"] <= 16 * N
    assert rows["loans"] == N // 10
    assert rows["carriers"] == 5
    assert rows["mentor_services"] == max(5, N // 200)


def test_all_districts_occur_and_follow_population() -> None:
    businesses = synth.generate(20_000, seed=3)["businesses"]
    districts = load_districts()
    counts = dict(zip(*np.unique(businesses.column("district").to_numpy(), return_counts=True), strict=True))
    assert set(counts) == {d.code for d in districts}
    weights = np.array([d.population_10k for d in districts])
    weights /= weights.sum()
    shares = np.array([counts[d.code] for d in districts]) / businesses.num_rows
    assert 0.5 * np.abs(shares - weights).sum() < 0.1  # total variation distance: a loose check
    assert np.corrcoef(shares, weights)[0, 1] > 0.9


def test_resident_ids_are_valid_unique_and_match_the_person(tables: dict[str, pa.Table]) -> None:
    persons = tables["persons"]
    numbers = _py(persons, "id_number")
    assert len(set(numbers)) == len(numbers)
    for number, birth, gender, hukou in zip(
        numbers,
        _py(persons, "birth_date"),
        _py(persons, "gender"),
        _py(persons, "hukou_district"),
        strict=True,
    ):
        rid = validate_resident_id(number, today=END)
        assert rid.birth_date == birth
        assert rid.gender == gender
        assert rid.region_code == synth.ID_REGION_OF_ZONE.get(hukou, hukou)


def test_vectorized_check_characters_agree_with_the_ids_module() -> None:
    rng = np.random.default_rng(0)
    region = rng.choice(np.array(district_codes()), 300)
    region = np.array([synth.ID_REGION_OF_ZONE.get(int(r), int(r)) for r in region])
    birth = rng.integers(-20_000, 20_000, 300)
    seq = rng.integers(0, 1000, 300)
    ours = synth.resident_ids(region, birth, seq).to_pylist()
    for r, b, s, number in zip(region, birth, seq, ours, strict=True):
        day = date.fromordinal(date(1970, 1, 1).toordinal() + int(b))
        assert number == make_resident_id(int(r), day, int(s))


def test_usccs_are_valid_unique_and_match_kind_and_district(tables: dict[str, pa.Table]) -> None:
    b = tables["businesses"]
    codes = _py(b, "uscc")
    assert len(set(codes)) == len(codes)
    expected = {"enterprise": ("9", "1"), "individual_business": ("9", "2"), "farmer_cooperative": ("9", "3"),
                "other": ("N", "2")}  # fmt: skip
    for code, kind, district in zip(codes, _py(b, "kind"), _py(b, "district"), strict=True):
        u = validate_uscc(code)
        assert (u.authority, u.category) == expected[kind]
        assert u.region_code == synth.ID_REGION_OF_ZONE.get(district, district)


def test_phones_are_valid_unique_mobiles(tables: dict[str, pa.Table]) -> None:
    phones = _py(tables["persons"], "phone")
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert validate_mobile(phone) == "+86" + phone


def test_names_are_chinese(tables: dict[str, pa.Table]) -> None:
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", n) for n in _py(tables["persons"], "name"))
    names = _py(tables["businesses"], "name")
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{4,30}", n) for n in names)
    kinds = _py(tables["businesses"], "kind")
    assert all(n.endswith("公司") for n, k in zip(names, kinds, strict=True) if k == "enterprise")
    assert all(
        n.endswith("专业合作社") for n, k in zip(names, kinds, strict=True) if k == "farmer_cooperative"
    )
    assert set(_py(tables["businesses"], "industry")) <= set(synth.INDUSTRIES)


def _ids(tables: dict[str, pa.Table], name: str) -> set[str]:
    ids = _py(tables[name], "id")
    assert len(set(ids)) == len(ids), f"duplicate ids in {name}"
    return set(ids)


def test_references_resolve(tables: dict[str, pa.Table]) -> None:
    ids = {name: _ids(tables, name) for name, t in tables.items() if "id" in t.column_names}
    for name, facts in TABLES.items():
        for fact in facts:
            if fact.kind == "ref":
                refs = set(tables[name].column(fact.name).drop_null().to_pylist())
                assert refs <= ids[fact.ref or ""], f"{name}.{fact.name}"
    rec = tables["received"]
    for program, subject, col in zip(
        _py(rec, "program"), _py(rec, "subject_id"), _py(rec, "person_id"), strict=True
    ):
        table, field = RECEIVED_SUBJECT[program]
        key = subject if field == "subject_id" else col
        assert key in ids[table], (program, key)
        assert col is None or col in ids["persons"]


def test_founders_and_hires_fit_the_business(tables: dict[str, pa.Table]) -> None:
    b, h, p = tables["businesses"], tables["hires"], tables["persons"]
    reg = dict(zip(_py(b, "id"), _py(b, "registration_date"), strict=True))
    for bid, hired in zip(_py(h, "business_id"), _py(h, "hire_date"), strict=True):
        assert reg[bid] <= hired <= END
    licence = dict(zip(_py(p, "id"), _py(p, "licence_date"), strict=True))
    for bid, founder in zip(_py(b, "id"), _py(b, "founder_id"), strict=True):
        assert licence[founder] is not None and licence[founder] <= reg[bid]


def test_contributions_are_sorted_by_hire_then_month(tables: dict[str, pa.Table]) -> None:
    order = {hid: i for i, hid in enumerate(_py(tables["hires"], "id"))}
    c = tables["contributions"]
    keys = [(order[h], m) for h, m in zip(_py(c, "hire_id"), _py(c, "month"), strict=True)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert max(m for _, m in keys) <= "2025-12"
    assert min(m for _, m in keys) >= "2024-01"  # at most the last 24 months


def test_employer_si_covers_the_hires_contributions(tables: dict[str, pa.Table]) -> None:
    h, c, by = tables["hires"], tables["contributions"], tables["business_years"]
    bus = dict(zip(_py(h, "id"), _py(h, "business_id"), strict=True))
    paid: dict[tuple[str, int], int] = {}
    for hid, month, fen in zip(_py(c, "hire_id"), _py(c, "month"), _py(c, "employer_fen"), strict=True):
        key = (bus[hid], int(month[:4]))
        paid[key] = paid.get(key, 0) + fen
    total = {
        (b, y): si
        for b, y, si in zip(
            _py(by, "business_id"), _py(by, "year"), _py(by, "employer_si_paid_fen"), strict=True
        )
    }
    for key, fen in paid.items():
        assert key in total
        assert total[key] is None or total[key] >= fen


def test_unknown_facts_are_a_small_share(tables: dict[str, pa.Table]) -> None:
    p, by = tables["persons"], tables["business_years"]
    assert 0.005 < p.column("groups").null_count / p.num_rows < 0.04
    assert 0.005 < by.column("online_revenue_fen").null_count / by.num_rows < 0.04
    assert 0 < p.column("graduation_date").null_count < p.num_rows
    assert p.column("id_number").null_count == 0


def test_edge_cases_are_present(tables: dict[str, pa.Table]) -> None:
    reg = set(_py(tables["businesses"], "registration_date"))
    assert date(2020, 2, 29) in reg
    assert date(2024, 2, 29) in reg
    assert date(2024, 12, 31) in reg  # exactly one year of operation on `end`
    by = tables["business_years"]
    assert 50_000_000 in set(_py(by, "online_revenue_fen"))
    assert 2000 in set(_py(by, "online_orders"))
    rev = by.column("online_revenue_fen").drop_null().to_numpy()
    assert 0.05 < np.mean(rev >= 50_000_000) < 0.15
    staff = set(_py(tables["businesses"], "staff_count"))
    assert {100, 101} <= staff
    periods = [p for p, g in zip(_py(tables["received"], "period"), _py(tables["received"], "program"), strict=True)
               if g == "carrier_award"]  # fmt: skip
    assert all(re.fullmatch(r"oneoff|national|performance:\d{4}", x) for x in periods)


def test_group_names_are_the_engine_groups(tables: dict[str, pa.Table]) -> None:
    flat = set(pc.list_flatten(tables["persons"].column("groups")).to_pylist())
    assert flat <= set(GROUPS)
    assert {"college_graduate", "returning_migrant_worker", "poverty_registered"} <= flat


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_round_trip(tmp_path: Path, fmt: str) -> None:
    small = synth.generate(300, seed=2)
    paths = synth.write(small, tmp_path / fmt, fmt)  # type: ignore[arg-type]
    assert [p.name for p in paths] == [f"{name}.{fmt}" for name in small]
    for name, path in zip(small, paths, strict=True):
        back = synth.read(path, schema=small[name].schema)
        original = small[name]
        assert back.schema.names == original.schema.names
        back = back.cast(original.schema)
        assert back.equals(original), name


def test_csv_groups_distinguish_empty_from_unknown(tmp_path: Path) -> None:
    small = synth.generate(300, seed=2)
    synth.write({"persons": small["persons"]}, tmp_path, "csv")
    text = (tmp_path / "persons.csv").read_text(encoding="utf-8")
    header = text.splitlines()[0]
    assert '"groups"' in header
    back = synth.read(tmp_path / "persons.csv", schema=small["persons"].schema)
    groups = back.column("groups").to_pylist()
    assert [] in groups
    assert None in groups
    assert any(g and len(g) > 1 for g in groups)


def test_small_generation_is_fast() -> None:
    t0 = time.perf_counter()
    synth.generate(2000, seed=1)
    assert time.perf_counter() - t0 < 2.0


def test_ages_and_dates_are_plausible() -> None:
    """Founders are adults at their earliest registration, employees at least 16 at every hire,
    licences held from 18, graduates at most 35 at graduation, no contribution before the hire."""
    t = synth.generate(20_000, seed=7)
    persons = {p["id"]: p for p in t["persons"].to_pylist()}
    reg = {b["id"]: b["registration_date"] for b in t["businesses"].to_pylist()}

    def age(birth: date, on: date) -> float:
        return (on - birth).days / 365.2425

    for b in t["businesses"].to_pylist():
        p = persons[b["founder_id"]]
        assert age(p["birth_date"], b["registration_date"]) >= 18, (b["id"], p["id"])
    hires = {h["id"]: h for h in t["hires"].to_pylist()}
    for h in hires.values():
        assert age(persons[h["person_id"]]["birth_date"], h["hire_date"]) >= 16, h["id"]
        assert h["hire_date"] >= reg[h["business_id"]], h["id"]
    for p in persons.values():
        if p["licence_date"] is not None:
            assert age(p["birth_date"], p["licence_date"]) > 17.99, p["id"]  # (from the 18th birthday)
        if p["graduation_date"] is not None:
            assert 18 <= age(p["birth_date"], p["graduation_date"]) <= 35, p["id"]
    for c in t["contributions"].to_pylist():
        assert c["month"] >= hires[c["hire_id"]]["hire_date"].strftime("%Y-%m"), c


def test_the_register_pays_one_job_subsidy_per_person() -> None:
    """The register and the rule allow one job subsidy per hired person across employers: a person
    hired twice used to get two entries, which the demo's registry import then refused (seed 2020)."""
    for n, seed in ((N, 11), (5000, 2020)):
        rec = synth.generate(n, seed=seed)["received"]
        job = rec.filter(pc.equal(rec.column("program"), "job_subsidy"))
        persons = job.column("person_id").to_pylist()
        assert persons and len(persons) == len(set(persons)), (n, seed)
