"""The result document of the single-case path against the explainer as it was before the
one-row fast path and the compiled message templates (kept here verbatim as the reference): the same
JSON text, key order included, for every worked case, the examples, district overlays, rows of
several-row tables and random cases.

The reference below is explain.py at 94ab848 (only renamed and without the parameter-document cache).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import numpy as np

from xiangchuang.engine import ENGINE_VERSION
from xiangchuang.engine.dates import from_day, month_label
from xiangchuang.engine.evaluate import (
    AMOUNT_KNOWN,
    DISTRICT_KNOWN,
    IN_FORCE,
    NEVER,
    Outcome,
    extra_condition,
)
from xiangchuang.engine.explain import _DERIVED, _PREFIX, STATUS, STATUS_ZH
from xiangchuang.engine.facts import FACTS, list_labels
from xiangchuang.engine.money import fen_to_capital, format_fen
from xiangchuang.engine.parameters import NO_VERSION, ParameterSet, Version, thaw
from xiangchuang.engine.program import NO_VALUE_KEY, NOT_USED, Condition, Later, Projection
from xiangchuang.engine.tri import FAIL, NAMES, PASS, UNKNOWN

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

# ---- the reference (old code path) ---------------------------------------------------------------


def _amount_rule(
    prog: Any, outcome: Outcome, i: int, status: str, amount_vars: Any, missing: list[str]
) -> str:
    """The amount rule with its figures; on a row that is not eligible (nor soon) where a fact the
    figures rest on (``rule_facts``, default the amount facts) is unknown and matters (a condition
    lacks it, or the amount reads it), the missing facts."""
    in_force = outcome.conds.get(IN_FORCE)
    if in_force is not None and int(in_force.state[i]) == FAIL:
        # (README choice 25: no figure computed from another date's value; the parameters named.)
        lacking = _resolve(in_force.info["lacking"])[i]
        return f"该日期尚无有效的政策参数（{lacking}），不计算金额"
    names = prog.amount_facts if prog.rule_facts is None else prog.rule_facts
    t = outcome.ctx.t
    unknown = [n for n in names if (n in missing or n in prog.amount_facts) and not bool(t[n].known[i])]
    if DISTRICT_KNOWN in outcome.conds and int(outcome.conds[DISTRICT_KNOWN].state[i]) == UNKNOWN:
        unknown.append("district" if "district" in FACTS.get(prog.subject, {}) else "business__district")
    if _PLACEHOLDER.search(prog.amount_msg) and status != "eligible" and not outcome.soon[i] and unknown:
        labels = "、".join(_fact_label(prog.subject, n) for n in unknown)
        return f"尚缺{labels}，暂不计算金额（补齐后按本项目的计算规则核定）"
    for key, cid in prog.pending_parts:  # a separate part whose own condition is unknown: 待定
        if int(outcome.conds[cid].state[i]) == UNKNOWN:
            cond = next(c for c in (*prog.conditions, *prog.any_of) if c.id == cid)
            lacking = "、".join(_fact_label(prog.subject, n) for n in cond.facts if not bool(t[n].known[i]))
            amount_vars.extra[key] = f"待定（缺{lacking}）" if lacking else "待定"
    return str(_fill(prog.amount_msg, amount_vars))


def _fact_label(table: str, name: str) -> str:
    if name in _DERIVED:
        return _DERIVED[name]
    if "__" in name:
        prefix, base = name.split("__", 1)
        if prefix in _PREFIX:
            t, who = _PREFIX[prefix]
            if base.endswith("_received"):
                return f"{who}的{base}（received 登记）"
            fact = FACTS[t].get(base)
            if fact is None:
                return f"{who}{base}"
            # (the words whose and the label share, two characters or more, said once)
            shared = max((k for k in range(2, len(who) + 1) if who.endswith(fact.label[:k])), default=0)
            return who + fact.label[shared:]
    fact = FACTS.get(table, {}).get(name)
    return fact.label if fact else name


def _format_param(value: Any, unit: str, name: str) -> str:
    if value is None:
        return "（无有效值）"
    if unit == "yuan":
        return format_fen(int(value))
    if unit == "ratio":
        pct = Decimal(value.numerator) / Decimal(value.denominator) * 100
        return f"{pct.normalize():f}%"
    if unit == "list":  # (kinds and groups by their Chinese labels: README choice 75)
        return "、".join(list_labels(name, value))
    if unit == "table":
        return str(thaw(value))
    suffix = {"days": "天", "months": "个月", "years": "年", "bp": "个基点", "count": ""}.get(unit, "")
    return f"{value}{suffix}"


def _format_var(key: str, value: Any) -> str:
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        v = int(value)
        if key.endswith("_date"):
            return "—" if v >= int(NEVER) else from_day(v).isoformat()
        if key.endswith("_fen"):
            return format_fen(v)
        if key.endswith("_month"):
            return month_label(v)
        if key.endswith("_permyriad"):
            text = f"{Decimal(v) / 100:f}"
            if "." in text:  # only fraction digits are trimmed: 10000 → 100%, 1550 → 15.5%, 0 → 0%
                text = text.rstrip("0").rstrip(".")
            return text + "%"
        return str(v)
    return str(value)


def _fill(template: str, values: Mapping[str, str] | _Vars) -> str:
    if "{" not in template:
        return template
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)


def _resolve(value: Any) -> Any:
    return value.make() if isinstance(value, Later) else value


class _Vars:
    """The values a message may quote, formatted only when a placeholder asks for one: the
    condition's own values (``info``), then the evaluation date and the parameters used."""

    def __init__(self, explainer: _RefExplainer, outcome: Outcome, i: int, info: Mapping[str, Any]) -> None:
        self._ex = explainer
        self._outcome = outcome
        self._i = i
        self._info = info
        self.extra: dict[str, str] = {}

    def get(self, key: str, default: str) -> str:
        if key in self.extra:
            return self.extra[key]
        i = self._i
        if key in self._info:
            a = np.asarray(_resolve(self._info[key]))
            return _format_var(key, a[i] if a.ndim and a.size > i else (a.item() if a.ndim == 0 else a[0]))
        if key == "on":
            return from_day(self._outcome.ctx.on).isoformat()
        ver = self._outcome.ctx.used.get(key)
        if ver is not None and _uses(self._outcome, key, i):
            v = int(ver[i]) if len(ver) > i else int(ver[0])
            p = self._ex.params[key]
            return _format_param(p.versions[v].value if v >= 0 else None, p.unit, key)
        return default


def _uses(outcome: Outcome, name: str, i: int) -> bool:
    """Whether row ``i`` used parameter ``name`` (read for every row, it may not count for some:
    ``NOT_USED``, e.g. the default rent schedule for a carrier with its own)."""
    ver = outcome.ctx.used.get(name)
    return ver is not None and int(ver[i] if len(ver) > i else ver[0]) != NOT_USED


def _param_doc(params: ParameterSet, name: str, version: int) -> dict[str, Any]:
    p = params[name]
    if version < 0:
        return {
            "name": name,
            "label": p.label,
            "value": None,
            "unit": p.unit,
            "since": None,
            "reference": None,
            "status": None,
            # 「参数待核实」 is about a value's status (secondary, assumed): a parameter with no value in
            # force has none to check (the rule parameters_in_force says so), whatever its status.
            "pending": False,
            "display": "该日期无有效参数",
        }
    v: Version = p.versions[version]
    doc = v.as_dict(p.unit)
    doc["label"] = p.label
    doc["display"] = _format_param(v.value, p.unit, name)
    return doc


class _RefExplainer:
    """Builds result documents for single rows (the single-case path)."""

    def __init__(self, params: ParameterSet) -> None:
        self.params = params

    def condition(self, outcome: Outcome, c: Condition, i: int, group: str | None) -> dict[str, Any]:
        co = outcome.conds[c.id]
        state = int(co.state[i])
        variables = _Vars(self, outcome, i, co.info)
        table = outcome.program.subject
        missing = [n for n in c.facts if not outcome.ctx.t[n].known[i]] if state == UNKNOWN else []
        variables.extra["missing"] = "、".join(_fact_label(table, n) for n in missing) or "所需信息"
        template = c.pass_msg if state == PASS else (c.unknown_msg if state == UNKNOWN else c.fail_msg)
        # A parameter without a value in force on the row (README choice 25): its labels, not figures.
        no_value = co.info.get(NO_VALUE_KEY)
        lacks = "" if no_value is None else str(np.asarray(_resolve(no_value))[i])
        if lacks:
            template = f"该日期尚无有效的政策参数（{lacks}），本条件不能满足"
        doc: dict[str, Any] = {
            "id": c.id,
            "status": NAMES[state],
            "clause": c.clause,
            "message": template if lacks else _fill(template, variables),
            "parameters": [self._used_param(outcome, n, i) for n in c.params if _uses(outcome, n, i)],
            "missing": missing,
        }
        if group:
            doc["group"] = group
        if state == 0 and c.gap_msg and not lacks:
            doc["distance"] = _fill(c.gap_msg, variables)
        p = co.passes_on
        day = None if p is None else (p.day(i) if isinstance(p, Projection) else int(p[i]))
        if day is not None and state == FAIL and day < int(NEVER) and not lacks:
            doc["passes_on"] = from_day(day).isoformat()
        return doc

    def _used_param(self, outcome: Outcome, name: str, i: int) -> dict[str, Any]:
        ver = outcome.ctx.used[name]
        return _param_doc(self.params, name, int(ver[i]) if len(ver) > i else int(ver[0]))

    def program(self, outcome: Outcome, i: int) -> dict[str, Any]:
        prog = outcome.program
        t = outcome.ctx.t
        status = STATUS[int(outcome.status[i])]
        conditions = [self.condition(outcome, c, i, None) for c in prog.conditions]
        conditions += [self.condition(outcome, c, i, "any_of") for c in prog.any_of]
        # The program-wide rules (no parameter in force; an amount resting on an unknown fact),
        # where they decide the row.
        conditions += [
            self.condition(outcome, extra_condition(prog, cid), i, None)
            for cid in (IN_FORCE, AMOUNT_KNOWN, DISTRICT_KNOWN)
            if cid in outcome.conds and int(outcome.conds[cid].state[i]) != PASS
        ]
        missing: list[dict[str, str]] = []
        seen = set()
        for c in conditions:
            for n in c.pop("missing"):
                if n not in seen:
                    seen.add(n)
                    missing.append({"fact": n, "label": _fact_label(prog.subject, n)})
        amount = int(outcome.amount[i]) if status == "eligible" else (0 if status == "ineligible" else None)
        amount_vars = _Vars(self, outcome, i, outcome.amount_out.info)
        used_names = sorted(n for n in outcome.ctx.used if _uses(outcome, n, i))
        params_docs = [self._used_param(outcome, n, i) for n in used_names]
        # Parameters only grounds that did not hold cite, where one did: not pending (README 42).
        held = [c["id"] for c in conditions if c.get("group") and c["status"] == "pass"]
        moot: set[str] = set()
        if held:
            other = set(prog.amount_params)
            for c in (*prog.conditions, *prog.any_of):
                if c in prog.any_of and c.id not in held:
                    moot.update(c.params)
                else:
                    other.update(c.params)
            other.update(
                p
                for cid in (IN_FORCE, AMOUNT_KNOWN, DISTRICT_KNOWN)
                for p in extra_condition(prog, cid).params
            )
            moot -= other
        doc: dict[str, Any] = {
            "program": prog.id,
            "title": prog.title,
            "clause": prog.clause,
            "subject": {"table": prog.subject, "id": str(t["id"].values[i]) if "id" in t else str(i)},
            "status": status,
            "status_label": STATUS_ZH[status],
            "amount_fen": amount,
            "amount": format_fen(amount) if amount is not None else None,
            "amount_capital": fen_to_capital(amount) if amount else None,
            "benefit": prog.benefit,
            "paid_to": prog.paid_to,
            "amount_rule": _amount_rule(prog, outcome, i, status, amount_vars, [m["fact"] for m in missing]),
            "conditions": conditions,
            "missing": missing,
            "parameters": params_docs,
            "pending_parameters": [
                d["name"] for d in params_docs if d.get("pending") and d["name"] not in moot
            ],
        }
        if status == "eligible" and outcome.amount_out.info:
            # The amount's own figures (e.g. claim_months of the social-insurance subsidy): what the
            # grant register records beside the amount when the application is approved.
            info = {k: np.asarray(_resolve(v)) for k, v in outcome.amount_out.info.items()}
            doc["amount_info"] = {
                k: int(a[i] if a.ndim and a.size > i else a.reshape(-1)[0])
                for k, a in info.items()
                if a.dtype.kind in "iu" and a.size
            }
        if prog.any_of:
            doc["any_of"] = {
                "label": prog.any_of_label,
                "satisfied_by": [c.id for c in prog.any_of if int(outcome.conds[c.id].state[i]) == PASS],
            }
        if outcome.soon[i]:
            doc["soon"] = True
            doc["eligible_from"] = from_day(int(outcome.eligible_from[i])).isoformat()
            doc["status_label"] = STATUS_ZH["soon"] + f"（{doc['eligible_from']}起）"
            doc["projected_amount_fen"] = int(outcome.amount_out.amount[i])
            if prog.funded:  # (added since: who will pay the projected amount)
                doc["funding"] = self._funding(outcome, i, doc["projected_amount_fen"])
        if status == "eligible" and amount is not None and prog.funded:
            doc["funding"] = self._funding(outcome, i, amount)
        if prog.id == "online_sales_subsidy":
            used = outcome.ctx.used

            def lacks(*names: str) -> bool:  # (a parameter of the route read without a value in force)
                return any(
                    n in used and int(used[n][i if len(used[n]) > i else 0]) == NO_VERSION for n in names
                )

            doc["alternatives"] = {
                "revenue": None
                if int(outcome.conds["revenue_route"].state[i]) == UNKNOWN
                or lacks(
                    "online_sales_subsidy.revenue_threshold",
                    "online_sales_subsidy.revenue_rate",
                    "online_sales_subsidy.cap",
                )
                else int(_resolve(outcome.amount_out.info["route_revenue_fen"])[i]),
                "orders": None
                if int(outcome.conds["orders_route"].state[i]) == UNKNOWN
                or lacks(
                    "online_sales_subsidy.orders_threshold",
                    "online_sales_subsidy.courier_rate",
                    "online_sales_subsidy.cap",
                )
                else int(_resolve(outcome.amount_out.info["route_orders_fen"])[i]),
            }
        return doc

    def _funding(self, outcome: Outcome, i: int, amount: int) -> list[dict[str, Any]]:
        extra = int(outcome.district_part[i]) if outcome.district_part is not None else 0
        parts = [{"source": "市级及以上资金", "amount_fen": amount - extra}]
        if extra:
            payer = "区县财政"
            for name, ver in outcome.ctx.used.items():
                v = int(ver[i]) if len(ver) > i else int(ver[0])
                if v >= 0 and self.params[name].versions[v].paid_by:
                    payer = self.params[name].versions[v].paid_by or payer
            parts.append(
                {"source": payer, "amount_fen": extra, "reason": "区县提高标准的部分由区县财政承担（1.2）"}
            )
        return parts


def ref_result_document(outcomes: list[Outcome], params: ParameterSet, on: dt.date) -> dict[str, Any]:
    """The stable JSON document for a single case: every applicable row of every program."""
    ex = _RefExplainer(params)
    programs = []
    for o in outcomes:
        for i in o.rows:
            programs.append(ex.program(o, int(i)))
    return {
        "on": on.isoformat(),
        "engine_version": ENGINE_VERSION,
        "parameters_version": params.version,
        "programs": programs,
    }


# ---- the comparison ------------------------------------------------------------------------------

from importlib import resources  # noqa: E402

import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.engine.strategies import cases, supplied_sets  # noqa: E402
from xiangchuang.engine.case import case_to_tables, combine, load_yaml  # noqa: E402
from xiangchuang.engine.dates import to_day  # noqa: E402
from xiangchuang.engine.evaluate import run, run_program  # noqa: E402
from xiangchuang.engine.explain import Explainer, result_document  # noqa: E402
from xiangchuang.engine.parameters import load_parameters  # noqa: E402
from xiangchuang.engine.programs import PROGRAMS  # noqa: E402

PARAMS = load_parameters()
OVERLAY = str(resources.files("xiangchuang.policy").joinpath("overlays", "demo-districts.yaml"))
PARAM_SETS = {"city": PARAMS, "districts": load_parameters(OVERLAY)}


def _policy_cases() -> list[tuple[str, dt.date, dict[str, Any]]]:
    """(name, date, case document) of every worked case and every example."""
    root = resources.files("xiangchuang.policy")
    out: list[tuple[str, dt.date, dict[str, Any]]] = []
    for entry in sorted(root.joinpath("cases").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            for case in load_yaml(entry.read_text(encoding="utf-8")) or []:
                on = case["on"] if isinstance(case["on"], dt.date) else dt.date.fromisoformat(str(case["on"]))
                out.append((f"{entry.name}: {case['name']}", on, case["case"]))
    for entry in sorted(root.joinpath("examples").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            out.append((entry.name, dt.date(2024, 3, 20), load_yaml(entry.read_text(encoding="utf-8"))))
    return out


POLICY_CASES = _policy_cases()


def _text(doc: Any) -> str:
    """The JSON text (key order included); numpy scalars or other non-JSON values fail here."""
    return json.dumps(doc, ensure_ascii=False)


def _check_single(case: dict[str, Any], on: dt.date, params: ParameterSet) -> None:
    outcomes = run(case_to_tables(case), on, params)
    got = result_document(outcomes, params, on)
    expected = _text(ref_result_document(outcomes, params, on))
    assert _text(got) == expected
    # A document handed out is the caller's: changing it changes nothing in the next one.
    for p in got["programs"]:
        for d in p["parameters"] + [d for c in p["conditions"] for d in c["parameters"]]:
            d["display"] = "changed"
            d.clear()
        p["conditions"].clear()
    assert _text(result_document(outcomes, params, on)) == expected


def test_policy_cases_cover_the_interesting_paths() -> None:
    """The comparison below is only worth something if the cases reach every kind of output."""
    seen: set[str] = set()
    for _, on, case in POLICY_CASES:
        for params in PARAM_SETS.values():
            for p in ref_result_document(run(case_to_tables(case), on, params), params, on)["programs"]:
                seen.update(k for k in p if k in {"soon", "funding", "amount_info", "alternatives", "any_of"})
                seen.update("funding2" for f in [p.get("funding") or []] if len(f) > 1)
                seen.update("missing" for _ in p["missing"][:1])
                seen.update("pending" for _ in p["pending_parameters"][:1])
                for c in p["conditions"]:
                    seen.update(k for k in c if k in {"distance", "passes_on", "group"})
                    seen.add(c["status"])
    assert seen >= {
        "soon", "funding", "funding2", "amount_info", "alternatives", "any_of", "missing",
        "distance", "passes_on", "group", "pass", "fail", "unknown",
    }, seen  # fmt: skip


@pytest.mark.parametrize("params_name", sorted(PARAM_SETS))
def test_policy_cases_match_the_reference(params_name: str) -> None:
    params = PARAM_SETS[params_name]
    for name, on, case in POLICY_CASES:
        for day in (on, on + dt.timedelta(days=200)):
            try:
                _check_single(case, day, params)
            except AssertionError as e:
                raise AssertionError(f"{name} on {day}: {e}") from None


@pytest.mark.parametrize("params_name", sorted(PARAM_SETS))
def test_rows_of_several_row_tables_match_the_reference(params_name: str) -> None:
    """Explainer.program on row i of a table of many cases (the registry's path)."""
    params = PARAM_SETS[params_name]
    groups: dict[bool, list[dict[str, Any]]] = {}
    for _, _, case in POLICY_CASES:  # a batch agrees on whether the register of received benefits is supplied
        groups.setdefault("received" in case_to_tables(case).supplied, []).append(case)
    rows = 0
    for group, on in itertools.product(groups.values(), (dt.date(2022, 6, 30), dt.date(2024, 3, 20))):
        facts = combine([case_to_tables(case) for case in group])
        outcomes = run(facts, on, params)
        ex, ref = Explainer(params), _RefExplainer(params)
        for o in outcomes:
            for i in o.rows:
                rows += 1
                assert _text(ex.program(o, int(i))) == _text(ref.program(o, int(i))), (o.program.id, i)
                for c in o.program.conditions + o.program.any_of:
                    grp = "any_of" if c in o.program.any_of else None
                    got = ex.condition(o, c, int(i), grp)
                    assert _text(got) == _text(ref.condition(o, c, int(i), grp)), (c.id, i)
        # Registry-wide runs (details=False) give the same results and keep no condition states or
        # message values: explaining such a row is refused with a message saying to evaluate it again.
        by_id = {o.program.id: o for o in outcomes}
        for program in PROGRAMS:
            if facts.tables[program.subject].n:
                o = run_program(program, facts, to_day(on), params, details=False)
                full = by_id[program.id]
                for name in ("applies", "status", "amount", "soon", "eligible_from"):
                    assert np.array_equal(getattr(o, name), getattr(full, name)), (program.id, name)
                assert np.array_equal(o.amount_out.amount, full.amount_out.amount), program.id
                if full.district_part is not None:
                    assert np.array_equal(o.district_part, full.district_part), program.id
                assert o.conds == {} and o.any_state is None and o.amount_out.info == {}
                for i in o.rows:
                    with pytest.raises(ValueError, match="重新评估"):
                        ex.program(o, int(i))
    assert rows > 400


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), supplied_sets, st.dates(min_value=dt.date(2020, 9, 1), max_value=dt.date(2026, 6, 30)))
def test_random_cases_match_the_reference(data: st.DataObject, supplied: Any, on: dt.date) -> None:
    case = data.draw(cases(supplied))
    for params in PARAM_SETS.values():
        _check_single(case, on, params)


# ---- the formatting shortcuts against what they stand for ---------------------------------------


@settings(max_examples=1000, deadline=None)
@given(
    st.sampled_from(["years", "paid_fen", "anniversary_date", "start_month", "rate_permyriad", "x_date_fen"]),
    st.one_of(st.integers(-(10**6), 10**6), st.integers(-(2**62), 2**62), st.just(int(NEVER))),
)
def test_quoted_integers_match_the_reference(key: str, value: int) -> None:
    from xiangchuang.engine.explain import _format_var as new_format_var

    for v in (value, np.int64(value), np.int32(np.clip(value, -(2**31), 2**31 - 1))):
        try:
            expected: Any = _format_var(key, v)
        except (OverflowError, ValueError) as e:
            expected = type(e)
        try:
            got: Any = new_format_var(key, v)
        except (OverflowError, ValueError) as e:
            got = type(e)
        assert got == expected, (key, v)
