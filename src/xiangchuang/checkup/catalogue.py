"""The program catalogue, generated from the engine's definitions (not written per program).

For each program: title, clause, summary, benefit, who is paid, the amount rule, each condition (its clause
and a readable sentence built from its pass message), the facts an applicant should have ready (from the
facts every condition reads), and the parameters in force today (value, since, reference, status).

Condition messages are templates with case values (``{years}``, ``{paid_fen}``): a placeholder that names
one of the condition's parameters (``{max_years}`` ↔ ``startup_subsidy.max_years``, ``{years}`` ↔
``…min_operation_years``) is filled with that parameter's value today; a parenthesis that still holds a
case value is dropped; any other case value reads “…” (the parameter list beside it gives the numbers).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from importlib import resources
from typing import Any, Final

import yaml

from xiangchuang.engine.explain import fact_label, format_param
from xiangchuang.engine.parameters import ParameterSet
from xiangchuang.engine.program import Condition, Program
from xiangchuang.engine.programs import BY_ID, PROGRAMS

_PLACEHOLDER: Final = re.compile(r"\{([^{}]+)\}")
_SUFFIX: Final = {"days": "天", "months": "个月", "years": "年", "bp": "个基点"}
_PAREN: Final = re.compile(r"（[^（）]*\{[^{}]+\}[^（）]*）")
SUBJECT_LABELS: Final = {
    "businesses": "经营主体",
    "persons": "个人",
    "hires": "招用人员",
    "loans": "贷款",
    "trainings": "培训学员",
    "mentor_services": "导师服务",
    "carriers": "创业载体",
    "onjob_trainings": "培训主体",
}


@cache
def clause_titles() -> dict[str, str]:
    data = yaml.safe_load(
        resources.files("xiangchuang.policy").joinpath("clauses.yaml").read_text(encoding="utf-8")
    )
    return {str(k): str(v.get("title", "")) for k, v in data.items()}


def _param_for(name: str, names: tuple[str, ...]) -> str | None:
    if name in names:
        return name
    base = name.removesuffix("_fen")
    for full in names:
        last = full.rsplit(".", 1)[-1]
        if last == base or last.endswith("_" + base):
            return full
    return None


def describe(template: str, names: tuple[str, ...], params: ParameterSet, on: dt.date) -> str:
    """A condition or amount template as a general sentence (see the module docstring)."""

    def value(name: str, after: str) -> str | None:
        full = _param_for(name, names) or (name if name in params else None)
        if full is None or full not in params:
            return None
        p = params[full]
        shown = format_param(p.value_at(on), p.unit, full)
        suffix = _SUFFIX.get(p.unit, "")
        if (
            suffix and shown.endswith(suffix) and after.startswith((suffix, "周" + suffix))
        ):  # "{years}年" → "1年"
            shown = shown[: -len(suffix)]
        return shown

    def fill(m: re.Match[str]) -> str:
        got = value(m.group(1), m.string[m.end() :])
        return got if got is not None else "{" + m.group(1) + "}"

    text = _PLACEHOLDER.sub(fill, template)
    text = _PAREN.sub("", text)
    return _PLACEHOLDER.sub("…", text)


def _condition(c: Condition, prog: Program, params: ParameterSet, on: dt.date, group: bool) -> dict[str, Any]:
    return {
        "id": c.id,
        "clause": c.clause,
        "text": describe(c.pass_msg, c.params, params, on),
        "any_of": group,
        "facts": [{"fact": f, "label": fact_label(prog.subject, f)} for f in c.facts],
        "parameters": list(c.params),
    }


def _parameter(name: str, params: ParameterSet, on: dt.date) -> dict[str, Any] | None:
    if name not in params:
        return None
    p = params[name]
    v = p.version_at(on)
    return {
        "name": name,
        "label": p.label,
        "display": format_param(v.value, p.unit, name) if v else "（该日无有效值）",
        "since": v.since.isoformat() if v else None,
        "reference": v.reference if v else None,
        "status": v.status if v else None,
        "pending": bool(v.pending) if v else False,  # (no value in force: nothing to check)
    }


def program_entry(prog: Program, params: ParameterSet, on: dt.date) -> dict[str, Any]:
    conditions = [_condition(c, prog, params, on, False) for c in prog.conditions]
    conditions += [_condition(c, prog, params, on, True) for c in prog.any_of]
    facts: dict[str, str] = {}
    names: list[str] = []
    for c in (*prog.conditions, *prog.any_of):
        for f in c.facts:
            facts.setdefault(f, fact_label(prog.subject, f))
        names.extend(n for n in c.params if n not in names)
    names.extend(n for n in prog.amount_params if n not in names)
    amount_names = tuple(
        sorted({m.group(1) for m in _PLACEHOLDER.finditer(prog.amount_msg)} | set(prog.amount_params))
    )
    parameters = [d for d in (_parameter(n, params, on) for n in names) if d is not None]
    return {
        "id": prog.id,
        "title": prog.title,
        "clause": prog.clause,
        "clause_title": clause_titles().get(prog.clause, ""),
        "summary": prog.summary,
        "benefit": prog.benefit,
        "paid_to": prog.paid_to,
        "subject": SUBJECT_LABELS.get(prog.subject, prog.subject),
        "amount_rule": describe(prog.amount_msg, amount_names, params, on),
        "conditions": conditions,
        "any_of_label": prog.any_of_label or None,
        "prepare": [{"fact": k, "label": v} for k, v in facts.items()],
        "parameters": parameters,
        "on": on.isoformat(),
    }


def catalogue(params: ParameterSet, on: dt.date) -> list[dict[str, Any]]:
    return [program_entry(p, params, on) for p in PROGRAMS]


def program(program_id: str, params: ParameterSet, on: dt.date) -> dict[str, Any] | None:
    prog = BY_ID.get(program_id)
    return None if prog is None else program_entry(prog, params, on)
