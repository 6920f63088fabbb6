"""A case document (JSON/YAML) → the engine's tables.

A case bundles what is known about one applicant: ``person``, ``business`` (with ``years``),
``hires`` (each with its ``person`` and ``contributions``), ``loan``/``loans``, ``trainings``,
``mentor_services``, ``carrier``, ``onjob_trainings`` and ``received`` (the register of what was
already granted). Absent keys are unknown facts; an empty list is a known "none".
Bad input raises :class:`CaseError` with the field path and the rule, in Chinese.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import yaml

from xiangchuang.engine.assemble import Facts
from xiangchuang.engine.dates import parse_date, parse_month, to_day
from xiangchuang.engine.facts import FACTS, NO_REF, Col, Fact, Table, group_mask

# Which table the subject of a received (already granted) entry lives in, and which id names it.
RECEIVED_SUBJECT: dict[str, tuple[str, str]] = {
    "startup_subsidy": ("businesses", "subject_id"),
    "online_sales_subsidy": ("businesses", "subject_id"),
    "workshop_award": ("businesses", "subject_id"),
    "carrier_rent_reduction": ("businesses", "subject_id"),
    "free_workstation": ("persons", "subject_id"),
    "job_subsidy": ("persons", "person_id"),
    "social_insurance_subsidy": ("persons", "person_id"),
    "training_syb": ("persons", "subject_id"),
    "training_online": ("persons", "subject_id"),
    "training_iyb": ("persons", "subject_id"),
    "carrier_award": ("carriers", "subject_id"),
    "mentor_service_subsidy": ("mentor_services", "subject_id"),
    "onjob_training_subsidy": ("onjob_trainings", "subject_id"),
    "loan_individual": ("persons", "subject_id"),
    "loan_small_micro": ("businesses", "subject_id"),
    "loan_interest_subsidy": ("loans", "subject_id"),
    "counter_guarantee_waiver": ("loans", "subject_id"),
}


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans (so a key ``on:`` stays the string "on")."""


_Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:bool"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_yaml(text: str) -> Any:
    """Parse case / worked-case YAML (YAML 1.2 booleans: ``on``, ``yes`` and ``no`` stay strings)."""
    return yaml.load(text, Loader=_Yaml12Loader)


class CaseError(ValueError):
    """Malformed case: names the field (path) and the rule, in Chinese."""

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"字段 {field}：{rule}")


def _parse_value(fact: Fact, raw: Any, path: str) -> int | bool | str:
    try:
        if fact.kind == "date":
            return to_day(parse_date(raw))
        if fact.kind == "month":
            return parse_month(raw)
        if fact.kind == "bool":
            if not isinstance(raw, bool):
                raise CaseError(path, f"{fact.label}须为 true 或 false")
            return raw
        if fact.kind in ("int", "fen"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                unit = "整数（分）" if fact.kind == "fen" else "整数"
                raise CaseError(path, f"{fact.label}须为{unit}，不能是小数或文本")
            if raw < 0:
                raise CaseError(path, f"{fact.label}不能为负数")
            return raw
        if fact.kind == "code":
            text = str(raw)
            if isinstance(raw, bool) or not (isinstance(raw, int) or (text.isascii() and text.isdigit())):
                raise CaseError(path, f"{fact.label}须为6位数字的行政区划代码（500xxx），不能是小数或文字")
            code = int(text)
            if not 500000 <= code < 501000:
                raise CaseError(path, "区县代码须为重庆市的6位行政区划代码（500xxx）")
            return code
        if fact.kind == "enum":
            return fact.code_of(str(raw))
        if fact.kind == "groups":
            if not isinstance(raw, list):
                raise CaseError(path, "人员类别须为列表，如 [college_graduate, veteran]")
            return group_mask([str(x) for x in raw])
        return str(raw)
    except CaseError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        if fact.kind == "date":
            raise CaseError(path, f"{fact.label}须为有效日期 YYYY-MM-DD") from exc
        if fact.kind == "month":
            raise CaseError(path, f"{fact.label}须为月份 YYYY-MM") from exc
        message = str(exc)
        if message.isascii():  # a library's English message (ours are Chinese): say it in Chinese
            message = f"{fact.label}的取值无法识别（{raw!r}）"
        raise CaseError(path, message) from exc


def _build(
    name: str, rows: Sequence[tuple[str, Mapping[str, Any]]], refs: dict[str, dict[str, int]]
) -> Table:
    facts = FACTS[name]
    n = len(rows)
    table = Table(name, n)
    if n == 0:
        return table  # missing columns of an empty table read as empty and unknown
    present = set().union(*(row.keys() for _, row in rows))
    for fname, fact in facts.items():
        if fname not in present and fact.kind != "ref":
            continue  # never given: the table reads it as unknown
        if fact.kind in ("id", "text"):
            vals = np.full(n, "", dtype=object)
        elif fact.kind == "bool":
            vals = np.zeros(n, dtype=np.bool_)
        elif fact.kind in ("int", "fen", "ref"):
            vals = np.zeros(n, dtype=np.int64)
        else:
            vals = np.zeros(n, dtype=np.int32)
        known = np.zeros(n, dtype=np.bool_)
        for i, (path, row) in enumerate(rows):
            if fname not in row or row[fname] is None:
                if fact.kind == "ref":
                    vals[i] = NO_REF
                continue
            raw = row[fname]
            if fact.kind == "ref":
                target = refs.get(fact.ref or "", {})
                key = str(raw)
                if key not in target:
                    raise CaseError(f"{path}.{fname}", f"引用的编号 {key} 在案例中不存在")
                vals[i] = target[key]
                known[i] = True
                continue
            vals[i] = _parse_value(fact, raw, f"{path}.{fname}")
            known[i] = True
        table[fname] = Col(vals, known)
    return table


def _check_keys(path: str, row: Mapping[str, Any], table: str, extra: set[str]) -> None:
    allowed = set(FACTS[table]) | extra
    for key in row:
        if key not in allowed:
            raise CaseError(f"{path}.{key}", "不是可识别的字段（见 xiangchuang schema case）")


def _as_map(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CaseError(path, "须为对象（键值映射）")
    return value


def _as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise CaseError(path, "须为列表")
    return value


def case_to_tables(case: Mapping[str, Any]) -> Facts:
    """Convert one case document to engine tables (refs resolved to row numbers)."""
    case = _as_map(case, "案例")
    top = {
        "person",
        "business",
        "hires",
        "loan",
        "loans",
        "trainings",
        "mentor_services",
        "carrier",
        "carriers",
        "onjob_trainings",
        "received",
        "on",
        "name",
        "note",
    }
    for key in case:
        if key not in top:
            raise CaseError(key, "不是可识别的案例字段（见 xiangchuang schema case）")
    rows: dict[str, list[tuple[str, dict[str, Any]]]] = {t: [] for t in FACTS}
    ids: dict[str, dict[str, int]] = {t: {} for t in FACTS}

    def add(table: str, path: str, row: dict[str, Any], default_id: str) -> str:
        rid = str(row.get("id", default_id))
        row = dict(row)
        row["id"] = rid
        if rid in ids[table]:
            raise CaseError(f"{path}.id", f"编号 {rid} 重复")
        ids[table][rid] = len(rows[table])
        rows[table].append((path, row))
        return rid

    person_extra = {"other_loans"}
    founder_id: str | None = None
    other_loans: list[tuple[str, dict[str, Any]]] = []
    if "person" in case:
        p = dict(_as_map(case["person"], "person"))
        _check_keys("person", p, "persons", person_extra)
        founder_id = add("persons", "person", p, "P1")
        if "other_loans" in p:
            for j, ol in enumerate(_as_list(p["other_loans"], "person.other_loans")):
                olm = dict(_as_map(ol, f"person.other_loans[{j}]"))
                _check_keys(f"person.other_loans[{j}]", olm, "other_loans", set())
                olm["person_id"] = founder_id
                other_loans.append((f"person.other_loans[{j}]", olm))

    carriers = list(_as_list(case.get("carriers", []), "carriers"))
    if "carrier" in case:
        carriers.insert(0, case["carrier"])
    for j, c in enumerate(carriers):
        path = "carrier" if ("carrier" in case and j == 0) else f"carriers[{j}]"
        cm = dict(_as_map(c, path))
        _check_keys(path, cm, "carriers", set())
        add("carriers", path, cm, f"C{j + 1}")

    business_id: str | None = None
    years: list[tuple[str, dict[str, Any]]] = []
    if "business" in case:
        b = dict(_as_map(case["business"], "business"))
        _check_keys("business", b, "businesses", {"years"})
        if founder_id is not None:
            b.setdefault("founder_id", founder_id)
        if "carrier_id" not in b and len(ids["carriers"]) == 1 and "tenancy_start" in b:
            b["carrier_id"] = next(iter(ids["carriers"]))
        business_id = add("businesses", "business", b, "B1")
        for year, y in _as_map(b.get("years", {}), "business.years").items():
            ym = dict(_as_map(y, f"business.years.{year}"))
            _check_keys(f"business.years.{year}", ym, "business_years", set())
            try:
                ym["year"] = int(year)
            except ValueError:
                raise CaseError(f"business.years.{year}", "年度须为四位整数") from None
            ym["business_id"] = business_id
            years.append((f"business.years.{year}", ym))
        # The founder's licence is the business's registration, unless the person says otherwise.
        if founder_id is not None and "registration_date" in b:
            prow = rows["persons"][ids["persons"][founder_id]][1]
            prow.setdefault("has_licence", True)
            prow.setdefault("licence_date", b["registration_date"])

    contributions: list[tuple[str, dict[str, Any]]] = []
    for j, h in enumerate(_as_list(case.get("hires", []), "hires")):
        path = f"hires[{j}]"
        hm = dict(_as_map(h, path))
        _check_keys(path, hm, "hires", {"person", "contributions"})
        if "person" in hm:
            pm = dict(_as_map(hm.pop("person"), f"{path}.person"))
            _check_keys(f"{path}.person", pm, "persons", set())
            hm["person_id"] = add("persons", f"{path}.person", pm, f"H{j + 1}P")
        if business_id is not None:
            hm.setdefault("business_id", business_id)
        hid = add("hires", path, hm, f"H{j + 1}")
        if "contributions" in hm:
            for k, c in enumerate(_as_list(hm["contributions"], f"{path}.contributions")):
                cm = dict(_as_map(c, f"{path}.contributions[{k}]"))
                _check_keys(f"{path}.contributions[{k}]", cm, "contributions", set())
                cm["hire_id"] = hid
                contributions.append((f"{path}.contributions[{k}]", cm))

    loans = list(_as_list(case.get("loans", []), "loans"))
    if "loan" in case:
        loans.insert(0, case["loan"])
    for j, ln in enumerate(loans):
        path = "loan" if ("loan" in case and j == 0) else f"loans[{j}]"
        lm = dict(_as_map(ln, path))
        _check_keys(path, lm, "loans", set())
        kind = lm.get("kind")
        if kind in ("individual", "partnership") and founder_id is not None:
            lm.setdefault("borrower_id", founder_id)
        if business_id is not None:
            # The applicant's business: its size, honours and credit rating count for the loan.
            lm.setdefault("business_id", business_id)
        if "district" not in lm and business_id is not None and "district" in case["business"]:
            lm["district"] = case["business"]["district"]
        add("loans", path, lm, f"L{j + 1}")

    for section, table, prefix in (
        ("trainings", "trainings", "T"),
        ("mentor_services", "mentor_services", "M"),
        ("onjob_trainings", "onjob_trainings", "O"),
    ):
        for j, r in enumerate(_as_list(case.get(section, []), section)):
            path = f"{section}[{j}]"
            rm = dict(_as_map(r, path))
            _check_keys(path, rm, table, set())
            if table == "trainings" and founder_id is not None:
                rm.setdefault("person_id", founder_id)
            add(table, path, rm, f"{prefix}{j + 1}")

    tables = {
        "persons": _build("persons", rows["persons"], ids),
        "carriers": _build("carriers", rows["carriers"], ids),
        "businesses": _build("businesses", rows["businesses"], ids),
        "business_years": _build("business_years", years, ids),
        "hires": _build("hires", rows["hires"], ids),
        "contributions": _build("contributions", contributions, ids),
        "loans": _build("loans", rows["loans"], ids),
        "other_loans": _build("other_loans", other_loans, ids),
        "trainings": _build("trainings", rows["trainings"], ids),
        "mentor_services": _build("mentor_services", rows["mentor_services"], ids),
        "onjob_trainings": _build("onjob_trainings", rows["onjob_trainings"], ids),
    }

    # Which optional facts were given at all (absent → unknown; [] → known none), per row.
    def flags(table: str, key: str, found: list[bool]) -> None:
        tables[table].cols[key] = Col(np.asarray(found, dtype=bool), np.ones(len(found), dtype=bool))

    flags(
        "hires",
        "__contributions_supplied",
        [isinstance(h, Mapping) and "contributions" in h for h in case.get("hires", [])],
    )
    flags(
        "persons",
        "__other_loans_supplied",
        [pid == founder_id and "other_loans" in case.get("person", {}) for pid in ids["persons"]],
    )
    flags("businesses", "__years_supplied", ["years" in case.get("business", {}) for _ in ids["businesses"]])
    known_sections = {"received": "received" in case}
    received_rows: list[tuple[str, dict[str, Any]]] = []
    for j, r in enumerate(_as_list(case.get("received", []), "received")):
        path = f"received[{j}]"
        rm = dict(_as_map(r, path))
        _check_keys(path, rm, "received", set())
        if rm.get("program") not in RECEIVED_SUBJECT:
            raise CaseError(f"{path}.program", "不是已知的项目编号（见 xiangchuang provisions）")
        subject_table, id_field = RECEIVED_SUBJECT[str(rm["program"])]
        if id_field not in rm:
            default = {"businesses": business_id, "persons": founder_id}.get(subject_table)
            if default is None:
                raise CaseError(f"{path}.{id_field}", "须写明享受主体的编号")
            rm[id_field] = default
        received_rows.append((path, rm))
    tables["received"] = _build("received", received_rows, ids)
    applicant = np.zeros(tables["persons"].n, dtype=bool)
    if founder_id is not None:
        applicant[ids["persons"][founder_id]] = True
    tables["persons"].cols["__applicant"] = Col(applicant, np.ones_like(applicant))
    tables["received"].cols["subject_row"] = Col(
        np.asarray(
            [
                ids[RECEIVED_SUBJECT[str(r["program"])][0]].get(
                    str(r[RECEIVED_SUBJECT[str(r["program"])][1]]), NO_REF
                )
                for _, r in received_rows
            ],
            dtype=np.int64,
        ),
        np.ones(len(received_rows), dtype=bool),
    )
    return Facts(tables, {name for name, present in known_sections.items() if present})


def case_date(case: Mapping[str, Any]) -> dt.date | None:
    on = case.get("on")
    return None if on is None else parse_date(on)


def combine(parts: Sequence[Facts]) -> Facts:
    """Concatenate the tables of several cases into one batch (references re-based).

    All parts must agree on which optional tables were supplied (as a batch of files does).
    """
    if not parts:
        raise ValueError("no cases")
    supplied = parts[0].supplied
    if any(("received" in p.supplied) != ("received" in supplied) for p in parts):
        raise ValueError("cases differ in whether they supply the register of received benefits")
    supplied = set().union(*(p.supplied for p in parts))
    names = list(parts[0].tables)
    offsets: dict[str, list[int]] = {}
    for name in names:
        acc, offs = 0, []
        for p in parts:
            offs.append(acc)
            acc += p.tables[name].n
        offsets[name] = offs
    out: dict[str, Table] = {}
    for name in names:
        total = sum(p.tables[name].n for p in parts)
        table = Table(name, total)
        cols = set().union(*(set(p.tables[name].cols) for p in parts))
        for col in sorted(cols):
            fact = FACTS.get(name, {}).get(col)
            values, known = [], []
            for k, p in enumerate(parts):
                c = p.tables[name][col]
                v = c.values
                if fact is not None and fact.kind == "ref" and fact.ref:
                    v = np.where(c.values >= 0, c.values + offsets[fact.ref][k], c.values)
                elif name == "received" and col == "subject_row":
                    progs = p.tables[name]["program"].values
                    shift = np.asarray(
                        [offsets[RECEIVED_SUBJECT[str(g)][0]][k] for g in progs], dtype=np.int64
                    )
                    v = np.where(c.values >= 0, c.values + shift, c.values)
                values.append(v)
                known.append(c.known)
            table.cols[col] = Col(np.concatenate(values), np.concatenate(known))  # type: ignore[arg-type]
        out[name] = table
    return Facts(out, set(supplied))
