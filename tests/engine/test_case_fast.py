"""The fast paths for one case give exactly the tables of the general paths.

``case_to_tables`` builds a one-row table (the case's person, business, loan…) with ``_build_one``;
``assemble`` takes Python paths for tables of at most ``assemble.SMALL`` rows; constant columns of
a few rows are shared read-only arrays (``facts.filled``). Turning all three off gives the general
(vectorized) paths that a registry or a batch takes. Both must give the same tables: the same
columns in the same order, dtypes, values and known masks, the same lazy columns, and the same
errors for bad input.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xiangchuang.engine.assemble as A
import xiangchuang.engine.case as C
import xiangchuang.engine.facts as F
from tests.engine.strategies import cases, supplied_sets
from xiangchuang.engine.dates import to_day
from xiangchuang.engine.facts import CODE_RULE

ON = dt.date(2024, 3, 20)
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def general_paths() -> Iterator[None]:
    """No one-row builder, no small paths, no shared columns: what a registry or a batch takes."""
    saved = C.ONE_ROW, A.SMALL, F.SHARED_MAX
    C.ONE_ROW, A.SMALL, F.SHARED_MAX = False, -1, -1
    try:
        yield
    finally:
        C.ONE_ROW, A.SMALL, F.SHARED_MAX = saved


def _array(a: np.ndarray) -> tuple[Any, ...]:
    if a.dtype == object:
        items = [
            sorted((k, v.dtype.str, v.tolist()) for k, v in x.items())
            if isinstance(x, dict)
            else (type(x), x)
            for x in a.tolist()
        ]
        return ("O", a.shape, items)
    return (a.dtype.str, a.shape, a.tolist())


def _describe(facts: C.Facts) -> list[Any]:
    """Every table: name, rows, columns in order (dtype, values, known) and the lazy columns' names."""
    return [
        (name, t.n, [(c, _array(col.values), _array(col.known)) for c, col in t.cols.items()], list(t.lazy))
        for name, t in facts.tables.items()
    ] + [sorted(facts.supplied)]


def _stages(make: Any, on: dt.date = ON) -> list[Any]:
    """The tables as built, as assembled, and with every lazy column built."""
    facts = make()
    out = [_describe(facts)]
    A.assemble(facts, to_day(on))
    out.append(_describe(facts))
    for t in facts.tables.values():
        for key in list(t.lazy):
            t[key]
    out.append(_describe(facts))
    return out


def _both(make: Any, on: dt.date = ON) -> None:
    fast = _stages(make, on)
    with general_paths():
        general = _stages(make, on)
    assert fast == general


def _worked_cases() -> list[tuple[str, dict[str, Any], dt.date]]:
    out = []
    examples = Path(str(resources.files("xiangchuang.policy").joinpath("examples")))
    for path in sorted(examples.glob("*.yaml")):
        doc = C.load_yaml(path.read_text(encoding="utf-8"))
        out.append((path.name, doc, C.case_date(doc) or ON))
    root = Path(str(resources.files("xiangchuang.policy").joinpath("cases")))
    for path in sorted(root.glob("*.yaml")):
        for i, case in enumerate(C.load_yaml(path.read_text(encoding="utf-8")) or []):
            on = case["on"] if isinstance(case["on"], dt.date) else dt.date.fromisoformat(str(case["on"]))
            out.append((f"{path.name}[{i}]", case["case"], on))
    return out


WORKED = _worked_cases()


def test_the_worked_cases_cover_what_the_fast_paths_handle():
    docs = [doc for _, doc, _ in WORKED]
    assert len(docs) >= 80
    assert any(len(d.get("hires", [])) >= 2 for d in docs)
    assert any(d.get("received") for d in docs)
    assert any("loan" in d or d.get("loans") for d in docs)
    assert any("carrier" in d or d.get("carriers") for d in docs)
    assert any(d.get("trainings") for d in docs)


@pytest.mark.parametrize(("name", "doc", "on"), WORKED, ids=[w[0] for w in WORKED])
def test_worked_cases_give_the_same_tables_on_both_paths(name, doc, on):
    _both(lambda: C.case_to_tables(doc), on)


@SETTINGS
@given(st.data(), supplied_sets)
def test_random_cases_give_the_same_tables_on_both_paths(data, supplied):
    doc = data.draw(cases(supplied))
    _both(lambda: C.case_to_tables(doc))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), supplied_sets, st.sampled_from([3, 30, 90]))
def test_batches_give_the_same_tables_on_both_paths(data, supplied, n):
    """Combined cases: a few rows take the small paths, more than SMALL rows the vectorized ones."""
    docs = [data.draw(cases(supplied)) for _ in range(n)]
    _both(lambda: C.combine([C.case_to_tables(d) for d in docs]))


def test_a_case_with_unknown_facts_several_hires_and_a_register():
    doc = {
        "person": {"id": "P1", "groups": ["farmer"], "other_loans": [{"kind": "car", "amount_fen": 5}]},
        "business": {
            "id": "B1",
            "district": "500101",
            "staff_count": None,
            "years": {"2023": {"online_orders": 7}, "2021": {"employer_si_paid_fen": 9}},
        },
        "carriers": [{"id": "C1", "kind": "incubator"}, {"id": "C2", "level": "district"}],
        "hires": [
            {
                "id": "H1",
                "person": {"id": "E1", "birth_date": None},
                "contributions": [
                    {"month": "2023-05", "employer_fen": 3},
                    {"month": "2023-03", "employer_fen": 1},
                    {"month": "2023-06", "employer_fen": 4},
                    {"month": "2023-04"},
                ],
            },
            {"id": "H2", "person": {"id": "E2", "gender": "F"}, "contributions": []},
            {"id": "H3"},
        ],
        "loans": [{"kind": "individual", "amount_fen": 1}, {"kind": "small_micro", "district": "500102"}],
        "trainings": [{"kind": "syb"}, {"kind": "iyb", "person_id": "E2"}],
        "received": [
            {"program": "job_subsidy", "person_id": "E1", "months": 6},
            {"program": "social_insurance_subsidy", "person_id": "E2", "months": 4},
            {"program": "startup_subsidy", "period": "2023"},
            {"program": "carrier_award", "subject_id": "C2"},
        ],
    }
    _both(lambda: C.case_to_tables(doc))
    empty = {"business": {"id": "B1"}}
    _both(lambda: C.case_to_tables(empty))


def test_shared_columns_are_read_only_and_large_tables_get_their_own():
    facts = C.case_to_tables(WORKED[0][1])
    A.assemble(facts, to_day(ON))
    unknown = facts["persons"]["graduation_date"]
    assert not unknown.known.any()
    with pytest.raises(ValueError, match="read-only"):
        unknown.known[0] = True
    with pytest.raises(ValueError, match="read-only"):
        facts["hires"]["si_last_month"].known[0] = False
    big = F.Table("persons", F.SHARED_MAX + 1)
    col = big["graduation_date"]
    assert col.values.flags.writeable and col.known.flags.writeable
    assert col.known is not big["birth_date"].known


ID_BLANK = "编号为空（编号须唯一且不能为空；不写时由系统编号）"
BASE: dict[str, Any] = {
    "person": {"id": "P1", "birth_date": "1990-06-15", "gender": "M", "groups": ["farmer"]},
    "business": {
        "id": "B1",
        "district": "500101",
        "registration_date": "2022-03-10",
        "staff_count": 20,
        "years": {"2023": {"employer_si_paid_fen": 100}},
    },
    "hires": [
        {
            "id": "H1",
            "hire_date": "2022-06-01",
            "person": {"id": "E1", "birth_date": "1985-03-02"},
            "contributions": [
                {"month": "2023-02", "employer_fen": 7},
                {"month": "2023-03", "employer_fen": 7},
            ],
        },
        {"id": "H2", "hire_date": "2022-07-01", "person": {"id": "E2", "gender": "F"}},
    ],
    "loan": {"kind": "individual", "amount_fen": 100},
    "received": [{"program": "job_subsidy", "person_id": "E1", "months": 3}],
}


def _at(doc: Any, *edits: tuple[list[Any], Any]) -> Any:
    out = copy.deepcopy(doc)
    for path, value in edits:
        o = out
        for k in path[:-1]:
            o = o[k]
        o[path[-1]] = value
    return out


# (document, error type, field, message): what the general builder has always said.
BAD = [
    (_at(BASE, (["bogus"], 1)), C.CaseError, "bogus", "不是可识别的案例字段（见 xiangchuang schema case）"),
    ([], C.CaseError, "案例", "须为对象（键值映射）"),
    (
        _at(BASE, (["person", "nope"], 1)),
        C.CaseError,
        "person.nope",
        "不是可识别的字段（见 xiangchuang schema case）",
    ),
    (
        _at(BASE, (["person", "birth_date"], "1990-13-01")),
        C.CaseError,
        "person.birth_date",
        "出生日期须为有效日期 YYYY-MM-DD",
    ),
    (
        _at(BASE, (["person", "gender"], "X")),
        C.CaseError,
        "person.gender",
        "性别（gender）：取值 'X' 不在允许范围内（M、F）",
    ),
    (
        _at(BASE, (["person", "groups"], "farmer")),
        C.CaseError,
        "person.groups",
        "人员类别须为列表，如 [college_graduate, veteran]",
    ),
    (
        _at(BASE, (["person", "groups"], ["farmer", "alien"])),
        C.CaseError,
        "person.groups",
        "未知的人员类别：alien",
    ),
    (
        _at(BASE, (["person", "first_business"], "yes")),
        C.CaseError,
        "person.first_business",
        "首次创业（此前未创办过企业或个体工商户）须为 true 或 false",
    ),
    (
        _at(BASE, (["business", "district"], "万州")),
        C.CaseError,
        "business.district",
        "所在区县须为6位数字的行政区划代码，不能是小数或文字",
    ),
    (
        _at(BASE, (["business", "district"], "110101")),
        C.CaseError,
        "business.district",
        "所在区县 110101：" + CODE_RULE["code"],
    ),
    (
        _at(BASE, (["business", "district"], "500999")),  # 500xxx, but no such district
        C.CaseError,
        "business.district",
        "所在区县 500999：" + CODE_RULE["code"],
    ),
    (
        _at(BASE, (["person", "hukou_district"], "990101")),
        C.CaseError,
        "person.hukou_district",
        "户籍所在地 990101：" + CODE_RULE["division"],
    ),
    (
        _at(BASE, (["business", "district"], True)),
        C.CaseError,
        "business.district",
        "所在区县须为6位数字的行政区划代码，不能是小数或文字",
    ),
    (
        _at(BASE, (["business", "staff_count"], 2.5)),
        C.CaseError,
        "business.staff_count",
        "现有职工人数（含当年新招用）须为整数，不能是小数或文本",
    ),
    (
        _at(BASE, (["business", "staff_count"], -1)),
        C.CaseError,
        "business.staff_count",
        "现有职工人数（含当年新招用）不能为负数",
    ),
    (
        _at(BASE, (["loan", "amount_fen"], "100")),
        C.CaseError,
        "loan.amount_fen",
        "申请/合同金额（分）须为整数（分），不能是小数或文本",
    ),
    (
        _at(BASE, (["loan", "kind"], "mortgage")),
        C.CaseError,
        "loan.kind",
        "贷款类型（kind）：取值 'mortgage' 不在允许范围内（individual、partnership、small_micro）",
    ),
    (_at(BASE, (["business", "years"], {"abc": {}})), C.CaseError, "business.years.abc", "年度须为四位整数"),
    (
        _at(BASE, (["hires", 1, "person", "birth_date"], "x")),
        C.CaseError,
        "hires[1].person.birth_date",
        "出生日期须为有效日期 YYYY-MM-DD",
    ),
    (
        _at(BASE, (["hires", 0, "contributions", 1, "month"], "2023-13")),
        C.CaseError,
        "hires[0].contributions[1].month",
        "缴费月份须为月份 YYYY-MM",
    ),
    (
        _at(BASE, (["hires", 0, "contributions", 1, "employer_fen"], -5)),
        C.CaseError,
        "hires[0].contributions[1].employer_fen",
        "单位缴纳部分（养老、医疗含大额、生育、失业、工伤，分）不能为负数",
    ),
    (
        _at(BASE, (["hires", 0, "contributions", 0], 5)),
        C.CaseError,
        "hires[0].contributions[0]",
        "须为对象（键值映射）",
    ),
    (_at(BASE, (["hires", 1, "id"], "H1")), C.CaseError, "hires[1].id", "编号 H1 重复"),
    (
        _at(BASE, (["business", "carrier_id"], "C9")),
        C.CaseError,
        "business.carrier_id",
        "引用的编号 C9 在案例中不存在",
    ),
    (_at(BASE, (["hires", 1, "id"], " ")), C.CaseError, "hires[1].id", ID_BLANK),
    (_at(BASE, (["person", "id"], "")), C.CaseError, "person.id", ID_BLANK),
    (
        _at(BASE, (["business", "carrier_id"], "")),
        C.CaseError,
        "business.carrier_id",
        "引用的编号为空（须写明案例中已有的编号，未知时不写该字段）",
    ),
    (
        _at(BASE, (["received", 0, "program"], "nope")),
        C.CaseError,
        "received[0].program",
        "不是已知的项目编号（见 xiangchuang provisions）",
    ),
    (
        _at(BASE, (["received"], [{"program": "carrier_award"}])),
        C.CaseError,
        "received[0].subject_id",
        "须写明享受主体的编号",
    ),
    (
        _at(BASE, (["received", 0, "months"], "3")),
        C.CaseError,
        "received[0].months",
        "补贴月数须为整数，不能是小数或文本",
    ),
    # With ``loan`` (``carrier``) and ``loans`` (``carriers``) both given, loans[k] is named as written
    # (it was named loans[k+1]: the single one counted into the list's index).
    (
        _at(BASE, (["loans"], [{"kind": "small_micro"}, {"amount_fen": -1}])),
        C.CaseError,
        "loans[1].amount_fen",
        "申请/合同金额（分）不能为负数",
    ),
    (
        _at(BASE, (["carrier"], {"id": "C1"}), (["carriers"], [{"id": "C2", "award_year": "x"}])),
        C.CaseError,
        "carriers[0].award_year",
        "申请奖补年度须为整数，不能是小数或文本",
    ),
    # Several bad values: the first fact (column) of the table wins, then the first row.
    (
        _at(BASE, (["hires", 0, "person", "birth_date"], "bad1"), (["person", "birth_date"], "bad0")),
        C.CaseError,
        "person.birth_date",
        "出生日期须为有效日期 YYYY-MM-DD",
    ),
    (
        _at(BASE, (["hires", 0, "person", "birth_date"], "bad"), (["hires", 1, "person", "gender"], "X")),
        C.CaseError,
        "hires[0].person.birth_date",
        "出生日期须为有效日期 YYYY-MM-DD",
    ),
    # A month outside 1900-01 … 2099-12 is refused naming its field (README choice 28), before a bad
    # value in a later row (it was an OverflowError when stored: English, no field).
    (
        _at(BASE, (["hires", 0, "contributions"], [{"month": 100000000001}, {"month": "bad"}])),
        C.CaseError,
        "hires[0].contributions[0].month",
        "缴费月份 1000000000-01 超出范围，须在1900-01至2099-12之间",
    ),
    # A count or an amount from 10^15 is an input error (it used to overflow int64 when stored).
    (
        _at(BASE, (["business", "staff_count"], 2**70)),
        C.CaseError,
        "business.staff_count",
        "现有职工人数（含当年新招用）过大（须小于10^15）",
    ),
]


@pytest.mark.parametrize("general", [False, True])
@pytest.mark.parametrize(("doc", "error", "field", "message"), BAD)
def test_bad_input_raises_the_same_error_on_both_paths(doc, error, field, message, general):
    before = copy.deepcopy(doc)
    with general_paths() if general else nullcontext(), pytest.raises(error) as raised:
        C.case_to_tables(doc)
    if error is C.CaseError:
        assert (raised.value.field, raised.value.rule) == (field, message)
    else:
        assert str(raised.value) == message
    assert doc == before  # the caller's document is never changed


def test_the_common_forms_and_the_others_parse_alike():
    """The fast parsers take the common forms (date objects, ISO text, ints, codes as text); the
    rest goes through the general parser and means the same."""
    docs = [
        {"person": {"id": "P1", "birth_date": dt.date(1990, 6, 15), "hukou_district": 500101}},
        {"person": {"id": "P1", "birth_date": "1990-06-15", "hukou_district": "500101"}},
        {"person": {"id": "P1", "birth_date": "1990-06-15", "hukou_district": 500101}},
        {"person": {"id": "P1", "birth_date": dt.datetime(1990, 6, 15, 8), "hukou_district": "500101"}},
    ]
    got = [C.case_to_tables(d)["persons"] for d in docs]
    for t in got:
        assert t["birth_date"].values.tolist() == [to_day(dt.date(1990, 6, 15))]
        assert t["hukou_district"].values.tolist() == [500101]
    months = [
        C.case_to_tables({"hires": [{"contributions": [{"month": m}]}]})["contributions"]["month"].values[0]
        for m in (202303, "2023-03")
    ]
    assert len(set(months)) == 1
    # (and written both ways in one hire, the same month twice: refused, as the registry's unique key)
    with pytest.raises(C.CaseError, match="缴费月份 2023-03 重复"):
        C.case_to_tables({"hires": [{"contributions": [{"month": 202303}, {"month": "2023-03"}]}]})
    # A date in a case is read as written: with a space around it, refused on both paths as the
    # schema refuses it (README choice 66).
    for general in (False, True):
        with general_paths() if general else nullcontext(), pytest.raises(C.CaseError) as err:
            C.case_to_tables({"person": {"id": "P1", "birth_date": " 1990-06-15 "}})
        assert err.value.field == "person.birth_date"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-1, 4),
            st.one_of(st.integers(600, 640), st.integers(-(2**31), 2**31 - 1)),
            st.integers(-(2**40), 2**40),
        ),
        max_size=40,
    ),
    st.integers(0, 4),
    st.booleans(),
)
def test_contribution_runs_of_a_few_rows_match_the_vectorized_runs(rows, n_hires, with_fen):
    h = np.asarray([r[0] for r in rows], dtype=np.int64)
    m = np.asarray([r[1] for r in rows], dtype=np.int32)
    f = np.asarray([r[2] for r in rows], dtype=np.int64) if with_fen else None

    def runs() -> Any:
        try:
            got = A.contribution_runs(h, m, n_hires, f)
        except IndexError as exc:  # (rows but none about a hire: the vectorized path fails so)
            return repr(exc)
        return [
            (a.dtype, a.tolist())
            for a in (got.last, got.first, got.run, got.count, got.start, got.months, got.fen)
        ]

    small = runs()
    with general_paths():
        assert small == runs()


def test_lazy_columns_are_built_once_on_first_use_by_either_kind_of_maker():
    t = F.Table("persons", 1)
    built: list[str] = []

    def make() -> F.Col:
        built.append("plain")
        return F.Col(np.array([7], dtype=np.int64), np.array([True]))

    class Both(F.LazyColumns):
        def column(self, key: str) -> F.Col:
            built.append(key)
            return F.Col(np.array([len(key)], dtype=np.int64), np.array([True]))

    t.lazy["a"] = make
    t.lazy.update(dict.fromkeys(("b", "cc"), Both()))
    assert "a" in t and "cc" in t and list(t.lazy) == ["a", "b", "cc"]
    assert t["cc"].values.tolist() == [2] and t["a"].values.tolist() == [7]
    assert t["cc"] is t["cc"] and built == ["cc", "plain"]
    assert list(t.lazy) == ["b"]
