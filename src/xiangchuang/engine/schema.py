"""JSON Schema of the case document and of the result document (documented in the README)."""

from __future__ import annotations

from typing import Any

from xiangchuang.engine.dates import (
    DATE_RANGE_ZH,
    FIRST_DATE,
    LAST_DATE,
    MONTH_RANGE_ZH,
    YEAR_RANGE_ZH,
    check_year,
    month_text_pattern,
)
from xiangchuang.engine.facts import (
    DISTRICT_CODES,
    DIVISION_MAX,
    DIVISION_MIN,
    FACTS,
    GROUPS,
    INT_LIMIT,
    Fact,
)
from xiangchuang.engine.programs import PROGRAM_IDS

SCHEMA_ID = "https://xiangchuang.example/schema"


def _years_pattern(first: int, last: int) -> str:
    """A regular expression (alternatives) for the four-digit years ``first`` … ``last``: each run of
    years sharing a prefix as one alternative (1900 … 2099: ``19[0-9]{2}|20[0-9]{2}``; ``[0-9]``, not
    ``\\d``, which in Python's re, as jsonschema uses it, also matches other digits such as ２)."""
    parts: list[str] = []
    year = first
    while year <= last:
        digits = next(k for k in (3, 2, 1, 0) if year % 10**k == 0 and year + 10**k - 1 <= last)
        parts.append(str(year)[: 4 - digits] + (f"[0-9]{{{digits}}}" if digits else ""))
        year += 10**digits
    return "|".join(parts)


# A month as text of the supported range (README choice 28; its months run from January of the first
# year to December of the last): the form the case loader and the batch reader read
# (engine.dates.month_text_pattern), with the years of the range. ("$" in Python's re, which
# jsonschema uses, also matches before a final newline: the length binds "2024-03\n" out.)
MONTH_PATTERN = rf"^{month_text_pattern(_years_pattern(FIRST_DATE.year, LAST_DATE.year))}$"
MONTH_TEXT_LENGTH = len("YYYY-MM")
# A month as an integer YYYYMM (a case's JSON/YAML number, a Parquet integer column): one of the
# months 01–12 of a year of the supported range; JSON Schema has no remainder test, so one range a year.
MONTH_NUMBERS = [
    {"minimum": year * 100 + 1, "maximum": year * 100 + 12}
    for year in range(FIRST_DATE.year, LAST_DATE.year + 1)
]
# A year of the supported range written as a key (``business.years``), as the case loader checks it.
YEAR_KEY_PATTERN = rf"^(?:{_years_pattern(FIRST_DATE.year, LAST_DATE.year)})$"
# A date of the supported range: exactly YYYY-MM-DD (no space around it, as the case loader reads it)
# with a year of the range; ``format: date`` checks that the day exists.
DATE_PATTERN = rf"^(?:{_years_pattern(FIRST_DATE.year, LAST_DATE.year)})-[0-9]{{2}}-[0-9]{{2}}$"


def _fact_schema(f: Fact) -> dict[str, Any]:
    base: dict[str, Any] = {"description": f.label + (f"。{f.description}" if f.description else "")}
    if f.kind == "date":
        base.update(type="string", format="date", pattern=DATE_PATTERN)
        base["description"] += f"（{DATE_RANGE_ZH}）"
    elif f.kind == "month":
        # (pattern and lengths bind a text, the ranges a number: each keyword ignores the other type)
        base.update(
            type=["string", "integer"],
            pattern=MONTH_PATTERN,
            minLength=MONTH_TEXT_LENGTH,
            maxLength=MONTH_TEXT_LENGTH,
            anyOf=MONTH_NUMBERS,
        )
        base["description"] += f"（YYYY-MM，或整数 YYYYMM；{MONTH_RANGE_ZH}）"
    elif f.kind in ("int", "fen"):
        # (below 10^15, the case loader's limit for counts and amounts: README choice 28)
        base.update(type="integer", minimum=0, maximum=INT_LIMIT - 1)
        if f.check is check_year:  # (a year fact: the years of the supported range)
            base.update(minimum=FIRST_DATE.year, maximum=LAST_DATE.year)
            base["description"] += f"（{YEAR_RANGE_ZH}）"
    elif f.kind == "bool":
        base.update(type="boolean")
    elif f.kind == "code":
        codes = sorted(DISTRICT_CODES)
        base.update(type=["string", "integer"], enum=[*codes, *(str(c) for c in codes)])
    elif f.kind == "division":
        base.update(
            type=["string", "integer"],
            pattern=r"^[1-8][0-9]{5}$",  # ([0-9]: Python's \d, which jsonschema uses, also takes ０–９)
            minimum=DIVISION_MIN,
            maximum=DIVISION_MAX,
        )
    elif f.kind == "enum":
        base.update(type="string", enum=list(f.choices))
    elif f.kind == "groups":
        base.update(type="array", items={"type": "string", "enum": list(GROUPS)}, uniqueItems=True)
    elif f.name == "program" and f.kind == "text":  # (a register entry's program: one of the 17)
        base.update(type="string", enum=list(PROGRAM_IDS))
    elif f.kind in ("id", "ref"):  # a number is read as its text; never empty or blank (README choice 82)
        base.update(type=["string", "integer"], pattern=r"\S")
    else:  # text: a number is read as its text (e.g. a period 2023)
        base.update(type=["string", "integer"])
    # null, like a missing key, means "unknown" (PROVISIONS §0), which the case loader accepts.
    types = base["type"]
    base["type"] = [*types, "null"] if isinstance(types, list) else [types, "null"]
    if "enum" in base:
        base["enum"] = [*base["enum"], None]
    return base


def _object(table: str, extra: dict[str, Any] | None = None, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    props = {name: _fact_schema(f) for name, f in FACTS[table].items() if name not in skip}
    props.update(extra or {})
    return {"type": "object", "properties": props, "additionalProperties": False}


def _received() -> dict[str, Any]:
    """A register entry: its program is required, one of the 17 (the loader cannot tell what an
    entry without one counts against)."""
    entry = _object("received")
    program = entry["properties"]["program"]
    program["type"] = "string"
    program["enum"] = [p for p in program["enum"] if p is not None]
    entry["required"] = ["program"]
    return entry


def case_schema() -> dict[str, Any]:
    person = _object(
        "persons", {"other_loans": {"type": "array", "items": _object("other_loans", skip=("person_id",))}}
    )
    years = {
        "type": "object",
        "patternProperties": {YEAR_KEY_PATTERN: _object("business_years", skip=("business_id", "year"))},
        "additionalProperties": False,
    }
    business = _object("businesses", {"years": years})
    hire = _object(
        "hires",
        {
            "person": _object("persons"),
            "contributions": {"type": "array", "items": _object("contributions", skip=("hire_id",))},
        },
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID}/case.json",
        "title": "乡创通 政策体检案例",
        "description": "一个申请人的已知事实。缺省的键表示“未知”，空列表表示“确知没有”。金额单位为分（整数）。",
        "type": "object",
        "properties": {
            "name": {"type": ["string", "null"], "description": "案例名称（文本）"},
            "on": {
                "type": ["string", "null"],
                "format": "date",
                "pattern": DATE_PATTERN,
                "description": f"评估日期（申请日期），{DATE_RANGE_ZH}",
            },
            "person": person,
            "business": business,
            "hires": {"type": "array", "items": hire},
            "loan": _object("loans"),
            "loans": {"type": "array", "items": _object("loans")},
            "trainings": {"type": "array", "items": _object("trainings")},
            "mentor_services": {"type": "array", "items": _object("mentor_services")},
            "carrier": _object("carriers"),
            "carriers": {"type": "array", "items": _object("carriers")},
            "onjob_trainings": {"type": "array", "items": _object("onjob_trainings")},
            "received": {"type": "array", "items": _received()},
            "note": {"type": ["string", "null"], "description": "备注（文本）"},
        },
        "additionalProperties": False,
    }


def result_schema() -> dict[str, Any]:
    param = {
        "type": "object",
        "required": ["name", "value", "since", "reference", "status"],
        "properties": {
            "name": {"type": "string"},
            "label": {"type": "string"},
            "value": {
                "description": "取值；unit 为 yuan（元）的金额以分计（整数），display 为按元显示的文本；"
                "unit 为 table 的表格参数与参数文件写法相同（映射，或映射的列表）"
            },
            "unit": {
                "type": "string",
                "description": "参数的单位（yuan、ratio、years、months、count、list、table 等）",
            },
            "since": {"type": ["string", "null"], "format": "date"},
            "reference": {"type": ["string", "null"]},
            "status": {"enum": ["confirmed", "secondary", "assumed", None]},
            "district": {"type": ["integer", "null"]},
            "paid_by": {"type": ["string", "null"]},
            "pending": {"type": "boolean"},
            "display": {"type": "string"},
        },
    }
    condition = {
        "type": "object",
        "required": ["id", "status", "clause", "message", "parameters"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["pass", "fail", "unknown"]},
            "clause": {"type": "string"},
            "message": {"type": "string"},
            "distance": {"type": "string"},
            "passes_on": {"type": "string", "format": "date"},
            "group": {"enum": ["any_of"]},
            "parameters": {"type": "array", "items": param},
        },
    }
    program = {
        "type": "object",
        "required": [
            "program",
            "title",
            "clause",
            "subject",
            "status",
            "amount_fen",
            "conditions",
            "missing",
        ],
        "properties": {
            "program": {"enum": list(PROGRAM_IDS)},
            "title": {"type": "string"},
            "clause": {"type": "string"},
            "subject": {
                "type": "object",
                "properties": {"table": {"type": "string"}, "id": {"type": "string"}},
            },
            "status": {"enum": ["eligible", "ineligible", "undetermined"]},
            "status_label": {"type": "string"},
            "amount_fen": {
                "type": ["integer", "null"],
                "description": "符合时为金额（分），不符合为0，待定为null",
            },
            "amount_info": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "description": "符合时金额的组成数字（如社保补贴的补贴月数 claim_months），核准时记入已享受登记",
            },
            "amount": {"type": ["string", "null"]},
            "amount_capital": {"type": ["string", "null"]},
            "conditions": {"type": "array", "items": condition},
            "missing": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"fact": {"type": "string"}, "label": {"type": "string"}},
                },
            },
            "soon": {"type": "boolean"},
            "eligible_from": {"type": "string", "format": "date"},
            "funding": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"source": {"type": "string"}, "amount_fen": {"type": "integer"}},
                },
            },
            "pending_parameters": {"type": "array", "items": {"type": "string"}},
            "parameters": {"type": "array", "items": param},
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_ID}/result.json",
        "title": "乡创通 政策体检结果",
        "type": "object",
        "required": ["on", "engine_version", "parameters_version", "programs"],
        "properties": {
            "on": {"type": "string", "format": "date"},
            "engine_version": {"type": "string"},
            "parameters_version": {"type": "string"},
            "programs": {"type": "array", "items": program},
        },
    }
