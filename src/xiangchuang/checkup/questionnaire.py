"""The public check-up questionnaire: three steps of plain questions → an engine case document.

Step 1 — 您的情况: birth date, gender, hukou district (recorded only: hukou changes no result, 1.1), key
groups, returning entrepreneur, first business, graduation date, wish to start a business.
Step 2 — 您的经营主体: whether there is one; kind, size, registration date, operating status (经营状态:
the case schema's choices and labels, ``facts``; 不清楚 leaves it out — never assumed 正常), district,
staff and new hires,
employer social insurance paid and online sales in the last full year (in yuan; the case holds fen).
Step 3 — 贷款: the loan wanted (kind, amount, term, partners) and other outstanding loans; whether any
support was received before.

Every answer may be left as 不清楚: the key is then left out of the case, and the engine reports the
program as 待确定 with the missing fact, never as 不符合 (a missing fact is never false).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from xiangchuang.engine.dates import FIRST_DATE
from xiangchuang.engine.districts import is_district, load_districts
from xiangchuang.engine.facts import FACTS, GROUPS
from xiangchuang.errors import ValidationFailed

STEPS: Final = (
    ("person", "您的情况"),
    ("business", "您的经营主体"),
    ("loan", "贷款与已享受的扶持"),
)
YES_NO: Final = (("yes", "是"), ("no", "否"), ("unknown", "不清楚"))
BUSINESS_KINDS: Final = (
    ("enterprise", "企业（公司等）"),
    ("individual_business", "个体工商户"),
    ("farmer_cooperative", "农民专业合作社"),
    ("other", "其他"),
)
# The operating status: the engine's choices with their labels (one definition, ``facts``).
BUSINESS_STATUSES: Final = tuple(
    (code, FACTS["businesses"]["status"].label_of(code)) for code in FACTS["businesses"]["status"].choices
)
SIZE_CLASSES: Final = (("small_micro", "小微企业"), ("medium", "中型企业"), ("large", "大型企业"))
LOAN_KINDS: Final = (
    ("none", "不需要贷款"),
    ("individual", "个人创业担保贷款"),
    ("partnership", "合伙创业担保贷款"),
    ("small_micro", "小微企业创业担保贷款"),
)
OTHER_LOANS: Final = (
    ("none", "没有其他未结清贷款"),
    ("exempt", "只有助学、住房、购车或5万元以下消费贷款"),
    ("business", "有其他经营性贷款"),
    ("unknown", "不清楚"),
)
RECEIVED: Final = (("none", "没有享受过本通知的扶持"), ("unknown", "享受过或不清楚"))
STEP_FIELDS: Final = (
    (  # 您的情况
        "birth_date", "gender", "hukou_district", "groups", "groups_none", "returning_entrepreneur",
        "first_business", "graduation_date", "startup_intention",
    ),
    (  # 您的经营主体
        "has_business", "kind", "size_class", "registration_date", "business_status", "district", "staff_count",
        "new_eligible_hires", "si_paid_yuan", "online_revenue_yuan", "online_orders",
    ),
    (  # 贷款与已享受的扶持
        "loan_kind", "loan_amount_yuan", "loan_term_months", "partners", "other_loans", "received",
    ),
)  # fmt: skip
FIELDS: Final = tuple(name for step in STEP_FIELDS for name in step)
_MAX_YUAN: Final = Decimal("100000000")


def districts() -> list[tuple[int, str]]:
    return [(d.code, d.name) for d in load_districts()]


def groups() -> list[tuple[str, str]]:
    return [(k, label) for k, (_, label) in GROUPS.items()]


def answers_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only the questionnaire's fields (text; ``groups`` a list)."""
    out: dict[str, Any] = {}
    for name in FIELDS:
        if name == "groups":
            raw = form.getlist("groups") if hasattr(form, "getlist") else form.get("groups") or []
            out["groups"] = [str(g) for g in raw if str(g) in GROUPS]
        else:
            value = form.get(name)
            if isinstance(value, str) and value.strip():
                out[name] = value.strip()[:40]
    return out


def _date(answers: Mapping[str, Any], name: str, label: str, today: dt.date) -> dt.date | None:
    text = answers.get(name)
    if not text:
        return None
    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"{label}：须为有效日期（年-月-日）") from None
    if d > today or d < FIRST_DATE:
        raise ValidationFailed(f"{label}：不能晚于今天，也不能早于{FIRST_DATE.year}年")
    return d


def _int(answers: Mapping[str, Any], name: str, label: str, maximum: int = 1_000_000) -> int | None:
    text = answers.get(name)
    if not text:
        return None
    if not re.fullmatch(r"\d{1,9}", text):
        raise ValidationFailed(f"{label}：须为不小于0的整数")
    value = int(text)
    if value > maximum:
        raise ValidationFailed(f"{label}：不能超过 {maximum}")
    return value


def _fen(answers: Mapping[str, Any], name: str, label: str) -> int | None:
    text = answers.get(name)
    if not text:
        return None
    try:
        yuan = Decimal(text.replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise ValidationFailed(f"{label}：须为金额（元，最多两位小数）") from None
    if not yuan.is_finite() or yuan < 0 or yuan > _MAX_YUAN or yuan != yuan.quantize(Decimal("0.01")):
        raise ValidationFailed(f"{label}：须为不小于0的金额（元，最多两位小数）")
    return int(yuan * 100)


def _tri(answers: Mapping[str, Any], name: str) -> bool | None:
    return {"yes": True, "no": False}.get(str(answers.get(name, "")))


def _choice(
    answers: Mapping[str, Any], name: str, label: str, choices: tuple[tuple[str, str], ...]
) -> str | None:
    value = answers.get(name)
    if not value:
        return None
    if value not in {c for c, _ in choices}:
        raise ValidationFailed(f"{label}：请从列表中选择")
    return str(value)


def _district(answers: Mapping[str, Any], name: str, label: str) -> str | None:
    value = answers.get(name)
    if not value:
        return None
    if not (value.isdigit() and is_district(int(value))):
        raise ValidationFailed(f"{label}：请选择重庆市的区县")
    return str(value)


def build_case(answers: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """The engine case for the answers (validated; Chinese errors name the question)."""
    person: dict[str, Any] = {"id": "P1"}
    if (d := _date(answers, "birth_date", "出生日期", today)) is not None:
        person["birth_date"] = d.isoformat()
    if (g := _choice(answers, "gender", "性别", (("M", "男"), ("F", "女")))) is not None:
        person["gender"] = g
    if (h := _district(answers, "hukou_district", "户籍所在区县")) is not None:
        person["hukou_district"] = h
    if answers.get("groups"):
        person["groups"] = list(answers["groups"])
    elif answers.get("groups_none") == "yes":
        person["groups"] = []  # known: none of the groups
    for name in ("returning_entrepreneur", "first_business", "startup_intention"):
        if (b := _tri(answers, name)) is not None:
            person[name] = b
    if (d := _date(answers, "graduation_date", "毕业（离校）日期", today)) is not None:
        person["graduation_date"] = d.isoformat()
    other = answers.get("other_loans")
    if other == "none":
        person["other_loans"] = []
    elif other == "exempt":
        person["other_loans"] = [{"kind": "student", "amount_fen": 0}]
    elif other == "business":
        person["other_loans"] = [{"kind": "business", "amount_fen": 1}]
    case: dict[str, Any] = {"on": today.isoformat(), "person": person}

    if answers.get("has_business") == "yes":
        # (the status only as answered: 不清楚 leaves it out, and the programs it decides are 待确定)
        business: dict[str, Any] = {"id": "B1", "founder_id": "P1"}
        if (k := _choice(answers, "kind", "主体类型", BUSINESS_KINDS)) is not None:
            business["kind"] = k
        if (sz := _choice(answers, "size_class", "规模", SIZE_CLASSES)) is not None:
            business["size_class"] = sz
        if (d := _date(answers, "registration_date", "登记日期", today)) is not None:
            business["registration_date"] = d.isoformat()
        if (st := _choice(answers, "business_status", "经营状态", BUSINESS_STATUSES)) is not None:
            business["status"] = st
        if (dist := _district(answers, "district", "经营所在区县")) is not None:
            business["district"] = dist
        if (r := _tri(answers, "returning_entrepreneur")) is not None:
            business["founded_by_returning"] = r
        if (n := _int(answers, "staff_count", "现有职工人数")) is not None:
            business["staff_count"] = n
        if (n := _int(answers, "new_eligible_hires", "当年新招用重点群体人数")) is not None:
            business["new_eligible_hires"] = n
        year: dict[str, Any] = {}
        if (f := _fen(answers, "si_paid_yuan", "上一年度单位缴纳社保费")) is not None:
            year["employer_si_paid_fen"] = f
        if (f := _fen(answers, "online_revenue_yuan", "上一年度线上销售收入")) is not None:
            year["online_revenue_fen"] = f
        if (n := _int(answers, "online_orders", "上一年度线上销售单数", 100_000_000)) is not None:
            year["online_orders"] = n
        if year:
            business["years"] = {str(today.year - 1): year}
        case["business"] = business

    loan_kind = _choice(answers, "loan_kind", "贷款类型", LOAN_KINDS)
    if loan_kind and loan_kind != "none":
        loan: dict[str, Any] = {"id": "L1", "kind": loan_kind, "new_loan": True, "borrower_id": "P1"}
        if loan_kind == "small_micro" and "business" in case:
            loan["business_id"] = "B1"
        if (f := _fen(answers, "loan_amount_yuan", "申请贷款金额")) is not None:
            loan["amount_fen"] = f
        if (n := _int(answers, "loan_term_months", "贷款期限（月）", 120)) is not None:
            loan["term_months"] = n
        if (n := _int(answers, "partners", "合伙人数", 100)) is not None:
            loan["partners"] = n
        if "business" in case and case["business"].get("district"):
            loan["district"] = case["business"]["district"]
        case["loan"] = loan
    if answers.get("received") == "none":
        case["received"] = []
    return case
