from __future__ import annotations

from collections import Counter

import pytest

from xiangchuang.engine.districts import (
    District,
    codes_by_short_names,
    district_by_code,
    district_codes,
    is_district,
    load_districts,
)

FUNCTIONAL_ZONES = {500190: "两江新区", 500192: "重庆高新区", 500193: "万盛经开区"}


def test_41_entries_with_unique_codes() -> None:
    districts = load_districts()
    assert len(districts) == 41
    assert len(set(district_codes())) == 41
    assert len({d.short for d in districts}) == 41
    assert len({d.name for d in districts}) == 41


def test_kinds() -> None:
    assert Counter(d.kind for d in load_districts()) == {"区": 26, "县": 8, "自治县": 4, "功能区": 3}


def test_known_codes() -> None:
    assert district_by_code(500101) == District(500101, "万州区", "万州", "区", 156.4)
    assert district_by_code(500102).name == "涪陵区"
    assert district_by_code(500103).name == "渝中区"
    assert district_by_code(500110).name == "綦江区"
    assert district_by_code(500243).name == "彭水苗族土家族自治县"
    assert district_by_code(500233).short == "忠县"


def test_functional_zones_use_project_codes() -> None:
    for code, name in FUNCTIONAL_ZONES.items():
        district = district_by_code(code)
        assert district.name == name
        assert district.kind == "功能区"
    real = [d.code for d in load_districts() if d.kind != "功能区"]
    assert not set(FUNCTIONAL_ZONES) & set(real)


def test_gb_codes_are_chongqing() -> None:
    assert all(500101 <= code <= 500243 for code in district_codes())


def test_census_population_total_is_plausible() -> None:
    total = sum(d.population_10k for d in load_districts() if d.kind != "功能区")
    assert 3195 <= total <= 3215  # 第七次人口普查全市常住人口 3205.42 万


def test_unknown_code() -> None:
    with pytest.raises(KeyError, match="未知的区县代码"):
        district_by_code(500100)
    assert not is_district(500100)
    assert is_district(500101)
    assert is_district(500190)


def test_codes_by_short_names() -> None:
    assert codes_by_short_names(["万州", "两江", "秀山"]) == (500101, 500190, 500241)
    assert codes_by_short_names(["万州区", " 高新 "]) == (500101, 500192)
    assert codes_by_short_names([]) == ()
    assert codes_by_short_names("大渡口") == (500104,)


def test_unknown_short_name() -> None:
    with pytest.raises(ValueError, match="未知的区县名称：「成都」"):
        codes_by_short_names(["万州", "成都"])


def test_cached() -> None:
    assert load_districts() is load_districts()
