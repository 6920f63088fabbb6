"""Personal data at rest: no 身份证号, mobile or card number in the raw database, only ciphertexts.

Synthetic persons (with phones and bank accounts) go through the importer into a SQLite file database;
the raw bytes of the .db file and its -wal file are scanned for ID, mobile and card patterns, and for
the exact values imported. On both databases every stored persons value is scanned the same way, and
the blind index finds a person by 身份证号.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine, select, text

from xiangchuang import synth
from xiangchuang.db import make_engine
from xiangchuang.dbmigrate import upgrade
from xiangchuang.models import Person
from xiangchuang.registry.demo_data import import_tables
from xiangchuang.registry.importer import import_table, source_from_table

# Whole tokens only: a 64-character hex blind index contains digit runs but is one alphanumeric token.
ID_PATTERN = re.compile(rb"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE_PATTERN = re.compile(rb"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
CARD_PATTERN = re.compile(rb"(?<![0-9A-Za-z])\d{16,19}(?![0-9A-Za-z])")
PATTERNS = {"身份证号": ID_PATTERN, "手机号": MOBILE_PATTERN, "银行卡号": CARD_PATTERN}


@pytest.fixture(scope="module")
def persons() -> pa.Table:
    table = import_tables(synth.generate(400, 21), seed=21)["persons"]
    assert table.num_rows > 1000
    assert table.column("bank_account").null_count < table.num_rows
    return table


def _import(engine: Engine, persons: pa.Table, pii: Any) -> None:
    with engine.begin() as conn:
        res = import_table(conn, kind="persons", source=source_from_table(persons, name="persons"), pii=pii)
    assert res.ok and res.inserted == persons.num_rows, res.errors[:3]


def _plaintexts(persons: pa.Table) -> list[bytes]:
    out: list[bytes] = []
    for col in ("id_number", "phone", "bank_account"):
        out += [v.encode() for v in persons.column(col).to_pylist() if v]
    return out


def _hits(blob: bytes) -> dict[str, int]:
    return {name: len(p.findall(blob)) for name, p in PATTERNS.items()}


def test_patterns_would_catch_a_leak(persons):
    leak = (
        b"x,"
        + persons.column("id_number")[0].as_py().encode()
        + b",+86"
        + persons.column("phone")[0].as_py().encode()
    )
    card = next(v for v in persons.column("bank_account").to_pylist() if v)
    hits = _hits(leak + b";" + card.encode() + b";")
    # An 18-digit ID is card-shaped too.
    assert hits["身份证号"] == 1 and hits["手机号"] == 1 and hits["银行卡号"] >= 1


def test_sqlite_file_and_wal_hold_no_personal_numbers(tmp_path: Path, persons, pii):
    db = tmp_path / "registry.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    _import(engine, persons, pii)
    wal = db.with_name(db.name + "-wal")
    blobs = {p.name: p.read_bytes() for p in (db, wal) if p.exists()}
    assert wal.name in blobs, "expected the WAL file to exist while the engine is open"
    engine.dispose()
    blobs["after-checkpoint"] = db.read_bytes()
    for name, blob in blobs.items():
        assert _hits(blob) == {"身份证号": 0, "手机号": 0, "银行卡号": 0}, name
    values = _plaintexts(persons)
    digits_only = [v.lstrip(b"+") for v in values]
    for name, blob in blobs.items():
        leaked = [v for v in digits_only if v in blob]
        assert leaked == [], f"{name}: {len(leaked)} plaintext values found"


def test_stored_rows_hold_no_personal_numbers(db_engine, persons, pii):
    _import(db_engine, persons, pii)
    with db_engine.connect() as conn:
        for table in ("persons", "person_groups", "import_batches"):
            rows = conn.execute(text(f'SELECT * FROM "{table}"')).all()
            assert rows
            blob = b"\n".join(
                bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for r in rows for v in r
            )
            assert _hits(blob) == {"身份证号": 0, "手机号": 0, "银行卡号": 0}, table
            for v in _plaintexts(persons)[:200]:
                assert v.lstrip(b"+") not in blob


def test_blind_index_finds_a_person_by_id_number(db_engine, persons, pii):
    _import(db_engine, persons, pii)
    number = persons.column("id_number")[7].as_py()
    with db_engine.connect() as conn:
        rows = conn.execute(select(Person).where(Person.id_number_bidx == pii.id_index(number))).all()
    assert len(rows) == 1
    person = rows[0]
    assert person.person_no == persons.column("person_no")[7].as_py()
    assert pii.reveal_id(person.id_number_enc) == number
    assert pii.masked_id(person.id_number_enc) == number[:4] + "*" * 10 + number[-4:]
