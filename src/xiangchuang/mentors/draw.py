"""Mentor draw (导师随机抽选): random, confidential, verifiable — clause 2.6, design/MENTOR_DRAW.md.

This file is PURE: standard library only, no database, no package imports. The same file is the
standalone verifier an outside auditor runs without installing anything::

    python3 draw.py MANIFEST.json          # exit 0: reproduced byte for byte; 1: differs; 2: unreadable

(``tools/verify_draw.py`` is a byte-identical copy; a test keeps them identical.)

How a draw works
----------------
1. **Inputs** (fixed before any secret is revealed): the event (projects with their pseudonymous persons,
   businesses, applicants' employers and districts; supervising staff; quotas per specialty × level;
   backups per stratum; earliest draw time), the rules (dated parameter values), the pseudonymous pool
   (one stratum per mentor: primary specialty × level), the draw history, the parties' commitments and
   the description of an optional public value announced in advance. ``inputs_sha256`` =
   SHA-256(canonical JSON of the normalized inputs).
2. **Commitments**: each party (at least two; the rules name the required ones, organiser and
   supervisor) commits ``SHA-256("xiangchuang-draw-commit-v1\\0" ‖ lp(event) ‖ lp(party) ‖ lp(secret))``
   before the draw and reveals ``secret`` (64 hex digits, made with :mod:`secrets`) after the inputs are
   fixed. ``lp(x)`` = 4-byte big-endian length ‖ UTF-8 bytes of ``x``.
3. **Seed** = SHA-256("xiangchuang-draw-seed-v1\\0" ‖ inputs_sha256 (32 bytes) ‖ for each party in
   code-point order: lp(party) ‖ lp(secret) ‖ lp(public value, "" if none)). Nothing chosen at draw
   time enters the seed (not even the clock): once the inputs are frozen and the secrets revealed the
   outcome is fixed, so nobody can retry for a better one. The draw time and the earliest-draw-time
   check belong to the service and its audit chain, not to the manifest.
4. **Eligibility** (hard filters, every applicable reason code recorded): ``unavailable``, ``applicant``
   (the mentor is a party of a project), ``employer`` (same employer as an applicant or an applicant
   business), ``relation`` (declared relative of an applicant), ``prior_involvement`` (mentored,
   invested in or advised a party within N years before the event), ``supervising_staff``,
   ``same_district`` (when the rule is on), and from the history ``cap_12_months`` (already drawn
   ``max_draws_12_months`` times in the 12 months up to the event), ``cap_applicant_year`` (already drawn
   ``max_per_applicant_year`` times for one of the applicants within a year) and ``cool_down`` (drawn
   for an event less than ``cool_down_days`` days before).
5. **Tickets**: ``HMAC-SHA256(seed, lp(event) ‖ lp(stratum) ‖ lp(mentor))`` for each eligible mentor of
   a requested stratum (``specialty/level``); sorted ascending (ties impossible in practice, broken by
   pseudonym). The first ``q`` of each stratum sit on the panel, the next ``b`` are ordered backups.
   Removing a mentor changes nobody else's ticket; each eligible mentor of stratum s is drawn with
   probability q_s / n_s.
6. **Fail closed**: a stratum with fewer than q + b eligible mentors fails the whole draw with the reason
   and the numbers; nothing is relaxed and nobody picks by hand.
7. **Declines** (after the draw, in order): a seated mentor's slot goes to the stratum's next backup; a
   declining backup leaves the queue. When the queue is empty a supplementary round r of that stratum
   draws from the eligible mentors never yet drawn, with seed SHA-256("xiangchuang-draw-supplementary-v1\\0"
   ‖ seed ‖ lp(stratum) ‖ r as 4 bytes): the first takes the slot, the next b are the new queue.

The manifest is canonical JSON (UTF-8, keys sorted, no spaces, integers only) of ``format``,
``inputs``, ``inputs_sha256``, ``reveals``, ``public_value``, ``declines`` and ``result``.
:func:`verify` re-runs it and compares byte for byte.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import hmac
import itertools
import json
import secrets
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FORMAT = "xiangchuang-mentor-draw/1"
SPECIALTIES = (
    "agriculture",
    "ecommerce",
    "finance",
    "law",
    "marketing",
    "management",
    "technology",
    "culture_tourism",
    "manufacturing",
    "services",
)
SPECIALTY_ZH = {
    "agriculture": "农业种养",
    "ecommerce": "电子商务",
    "finance": "财务金融",
    "law": "法律",
    "marketing": "市场营销",
    "management": "企业管理",
    "technology": "技术创新",
    "culture_tourism": "文化旅游",
    "manufacturing": "加工制造",
    "services": "生活服务",
}
LEVELS = ("city", "district")
LEVEL_ZH = {"city": "市级", "district": "区县级"}
EVENT_KINDS = ("competition_round", "competition_final", "project_review")
RELATIONS = ("spouse", "lineal", "collateral3", "in_law", "other")
INVOLVEMENTS = ("mentored", "invested", "advised")
REASONS = {
    "unavailable": "不在岗或暂停",
    "applicant": "本人为申报方",
    "employer": "与申报方同一单位",
    "relation": "与申报人有申报的亲属关系",
    "prior_involvement": "近年内指导、投资或咨询过申报方",
    "supervising_staff": "为本次活动监督人员",
    "same_district": "与申报方同一区县",
    "cap_12_months": "12个月内抽中次数已达上限",
    "cap_applicant_year": "一年内为同一申报方抽中次数已达上限",
    "cool_down": "距上次抽中未满冷却期",
}
RULE_KEYS = (
    "involvement_years",
    "max_draws_12_months",
    "max_per_applicant_year",
    "cool_down_days",
    "recuse_same_district",
    "min_final_panel",
    "required_parties",
)

_COMMIT_DOMAIN = b"xiangchuang-draw-commit-v1\0"
_SEED_DOMAIN = b"xiangchuang-draw-seed-v1\0"
_SUPP_DOMAIN = b"xiangchuang-draw-supplementary-v1\0"
_HEX = frozenset("0123456789abcdef")


class DrawInputError(ValueError):
    """The inputs of a draw are malformed or a reveal does not match its commitment (Chinese message)."""


# ---- canonical encoding ------------------------------------------------------------------------------


def canonical_json(obj: Any) -> bytes:
    """UTF-8 JSON, keys sorted, no insignificant whitespace. Floats never occur: every input value is
    validated as an integer, text, boolean or null, and :func:`load` refuses floats."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _lp(text: str) -> bytes:
    data = text.encode("utf-8")
    return len(data).to_bytes(4, "big") + data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---- commitments and seed ----------------------------------------------------------------------------


def make_secret() -> str:
    """A fresh 256-bit secret as 64 lowercase hex digits (``secrets``, never ``random``)."""
    return secrets.token_hex(32)


def _check_secret(secret: Any, party: str) -> str:
    if not isinstance(secret, str) or len(secret) != 64 or not set(secret) <= _HEX:
        raise DrawInputError(f"参与方 {party} 的秘密须为64位小写十六进制数")
    return secret


def commitment(event_id: str, party: str, secret: str) -> str:
    """The hash a party publishes before the draw."""
    _check_secret(secret, party)
    return sha256_hex(_COMMIT_DOMAIN + _lp(event_id) + _lp(party) + _lp(secret))


def inputs_sha256(inputs: Mapping[str, Any]) -> str:
    return sha256_hex(canonical_json(inputs))


def derive_seed(inputs_hash: str, reveals: Mapping[str, str], public_value: str | None) -> bytes:
    data = bytearray(_SEED_DOMAIN)
    data += bytes.fromhex(inputs_hash)
    for party in sorted(reveals):
        data += _lp(party) + _lp(reveals[party])
    data += _lp(public_value or "")
    return hashlib.sha256(bytes(data)).digest()


def stratum_key(specialty: str, level: str) -> str:
    return f"{specialty}/{level}"


def stratum_zh(specialty: str, level: str) -> str:
    return f"{SPECIALTY_ZH.get(specialty, specialty)}×{LEVEL_ZH.get(level, level)}"


def ticket(seed: bytes, event_id: str, stratum: str, mentor: str) -> str:
    return hmac.new(seed, _lp(event_id) + _lp(stratum) + _lp(mentor), hashlib.sha256).hexdigest()


def _tickets(seed: bytes, event_id: str, stratum: str, mentors: Iterable[str]) -> list[tuple[str, str]]:
    """(ticket, mentor) sorted: one HMAC state keyed once, copied per mentor."""
    base = hmac.new(seed, _lp(event_id) + _lp(stratum), hashlib.sha256)
    out = []
    for m in mentors:
        h = base.copy()
        h.update(_lp(m))
        out.append((h.hexdigest(), m))
    out.sort()
    return out


# ---- input validation and normalisation --------------------------------------------------------------


def _date(value: Any, where: str) -> dt.date:
    if not isinstance(value, str):
        raise DrawInputError(f"{where} 须为日期文本 YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DrawInputError(f"{where} 日期格式错误：{value!r}（应为 YYYY-MM-DD）") from None


def _datetime(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise DrawInputError(f"{where} 须为带时区的时间文本")
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        raise DrawInputError(f"{where} 时间格式错误：{value!r}") from None
    if t.tzinfo is None:
        raise DrawInputError(f"{where} 须带时区（如 +08:00）")
    return t


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise DrawInputError(f"{where} 须为1–200字的文本")
    return value


def _int(value: Any, where: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise DrawInputError(f"{where} 须为不小于{minimum}的整数")
    return value


def _texts(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise DrawInputError(f"{where} 须为数组")
    out = sorted({_text(v, where) for v in value})
    return out


def _ints(value: Any, where: str) -> list[int]:
    if not isinstance(value, list):
        raise DrawInputError(f"{where} 须为数组")
    return sorted({_int(v, where) for v in value})


def _obj(value: Any, where: str, keys: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise DrawInputError(f"{where} 须为对象")
    extra = set(value) - set(keys)
    if extra:
        raise DrawInputError(f"{where} 含未知字段：{'、'.join(sorted(extra))}")
    return value


def _choice(value: Any, where: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise DrawInputError(f"{where} 取值 {value!r} 无效，应为 {'、'.join(choices)} 之一")
    return str(value)


def _norm_rules(raw: Any) -> dict[str, Any]:
    r = _obj(raw, "rules", RULE_KEYS)
    missing = [k for k in RULE_KEYS if k not in r]
    if missing:
        raise DrawInputError(f"rules 缺少：{'、'.join(missing)}")
    if not isinstance(r["recuse_same_district"], bool):
        raise DrawInputError("rules.recuse_same_district 须为布尔值")
    parties = _texts(r["required_parties"], "rules.required_parties")
    if len(parties) < 2:
        raise DrawInputError("rules.required_parties 至少须有两个参与方")
    return {
        "involvement_years": _int(r["involvement_years"], "rules.involvement_years"),
        "max_draws_12_months": _int(r["max_draws_12_months"], "rules.max_draws_12_months", 1),
        "max_per_applicant_year": _int(r["max_per_applicant_year"], "rules.max_per_applicant_year", 1),
        "cool_down_days": _int(r["cool_down_days"], "rules.cool_down_days"),
        "recuse_same_district": r["recuse_same_district"],
        "min_final_panel": _int(r["min_final_panel"], "rules.min_final_panel", 1),
        "required_parties": parties,
    }


_EVENT_KEYS = (
    "id",
    "kind",
    "date",
    "earliest_draw_time",
    "panel_size",
    "backups",
    "quotas",
    "projects",
    "staff",
)
_PROJECT_KEYS = ("id", "persons", "businesses", "employers", "districts")


def _norm_event(raw: Any, rules: Mapping[str, Any]) -> dict[str, Any]:
    e = _obj(raw, "event", _EVENT_KEYS)
    missing = [k for k in _EVENT_KEYS if k not in e]
    if missing:
        raise DrawInputError(f"event 缺少：{'、'.join(missing)}")
    eid = _text(e["id"], "event.id")
    kind = _choice(e["kind"], "event.kind", EVENT_KINDS)
    date = _date(e["date"], "event.date").isoformat()
    earliest = e["earliest_draw_time"]
    if earliest is not None:
        earliest = _datetime(earliest, "event.earliest_draw_time").isoformat()
    panel = _int(e["panel_size"], "event.panel_size", 1)
    backups = _int(e["backups"], "event.backups")
    if not isinstance(e["quotas"], list) or not e["quotas"]:
        raise DrawInputError("event.quotas 须为非空数组（专业×级别配额）")
    quotas: list[dict[str, Any]] = []
    seen = set()
    for i, q in enumerate(e["quotas"]):
        w = f"event.quotas[{i}]"
        q = _obj(q, w, ("specialty", "level", "count"))
        sp = _choice(q.get("specialty"), f"{w}.specialty", SPECIALTIES)
        lv = _choice(q.get("level"), f"{w}.level", LEVELS)
        n = _int(q.get("count"), f"{w}.count", 1)
        if (sp, lv) in seen:
            raise DrawInputError(f"{w}：{stratum_zh(sp, lv)} 重复配额")
        seen.add((sp, lv))
        quotas.append({"specialty": sp, "level": lv, "count": n})
    quotas.sort(key=lambda q: (q["specialty"], q["level"]))
    total = sum(q["count"] for q in quotas)
    if total != panel:
        raise DrawInputError(f"配额合计 {total} 与评审组人数 {panel} 不一致")
    if kind == "competition_final" and (panel < rules["min_final_panel"] or panel % 2 == 0):
        raise DrawInputError(f"大赛决赛评审组须为不少于{rules['min_final_panel']}人的奇数，当前 {panel} 人")
    if not isinstance(e["projects"], list) or not e["projects"]:
        raise DrawInputError("event.projects 须为非空数组")
    projects: list[dict[str, Any]] = []
    for i, p in enumerate(e["projects"]):
        w = f"event.projects[{i}]"
        p = _obj(p, w, _PROJECT_KEYS)
        projects.append(
            {
                "id": _text(p.get("id"), f"{w}.id"),
                "persons": _texts(p.get("persons", []), f"{w}.persons"),
                "businesses": _texts(p.get("businesses", []), f"{w}.businesses"),
                "employers": _texts(p.get("employers", []), f"{w}.employers"),
                "districts": _ints(p.get("districts", []), f"{w}.districts"),
            }
        )
    projects.sort(key=lambda p: p["id"])
    ids = [p["id"] for p in projects]
    if len(set(ids)) != len(ids):
        raise DrawInputError("event.projects 的 id 重复")
    return {
        "id": eid,
        "kind": kind,
        "date": date,
        "earliest_draw_time": earliest,
        "panel_size": panel,
        "backups": backups,
        "quotas": quotas,
        "projects": projects,
        "staff": _texts(e["staff"], "event.staff"),
    }


_MENTOR_KEYS = (
    "mentor",
    "person",
    "specialty",
    "level",
    "employer",
    "district",
    "available",
    "relations",
    "involvements",
)


_MENTOR_KEYSET = frozenset(_MENTOR_KEYS)
_SPECIALTY_SET = frozenset(SPECIALTIES)
_LEVEL_SET = frozenset(LEVELS)
_RELATION_SET = frozenset(RELATIONS)
_INVOLVEMENT_SET = frozenset(INVOLVEMENTS)
_REL_KEYS = frozenset(("person", "relation"))
_INV_KEYS = frozenset(("party", "kind", "date"))


def _ok_text(v: Any) -> bool:
    return type(v) is str and 0 < len(v) <= 200


_DATE_SEEN: dict[str, bool] = {}


def _ok_date(v: Any) -> bool:
    """A canonical YYYY-MM-DD date (results memoized: dates repeat across a pool)."""
    if type(v) is not str:
        return False
    ok = _DATE_SEEN.get(v)
    if ok is None:
        try:
            ok = len(v) == 10 and dt.date.fromisoformat(v).isoformat() == v
        except ValueError:
            ok = False
        if len(_DATE_SEEN) < 100_000:
            _DATE_SEEN[v] = ok
    return ok


def _rel_ok(r: Any) -> bool:
    return (
        type(r) is dict and r.keys() == _REL_KEYS and _ok_text(r["person"]) and r["relation"] in _RELATION_SET
    )


def _inv_ok(v: Any) -> bool:
    return (
        type(v) is dict
        and v.keys() == _INV_KEYS
        and _ok_text(v["party"])
        and v["kind"] in _INVOLVEMENT_SET
        and _ok_date(v["date"])
    )


def _rel_sort(r: dict[str, str]) -> tuple[str, str]:
    return (r["person"], r["relation"])


def _inv_sort(v: dict[str, str]) -> tuple[str, str, str]:
    return (v["party"], v["date"], v["kind"])


def _norm_mentor(raw: Any, i: int) -> dict[str, Any]:
    """One pool entry; the fast path checks a well-formed entry with few calls (10,000 per draw) and
    copies it (entries are copied, never shared with the caller)."""
    if type(raw) is dict and raw.keys() == _MENTOR_KEYSET:
        m = raw
        rel, inv = m["relations"], m["involvements"]
        emp, dist = m["employer"], m["district"]
        if (
            _ok_text(m["mentor"])
            and _ok_text(m["person"])
            and m["specialty"] in _SPECIALTY_SET
            and m["level"] in _LEVEL_SET
            and (emp is None or _ok_text(emp))
            and type(dist) is int
            and dist >= 0
            and type(m["available"]) is bool
            and type(rel) is list
            and type(inv) is list
            and all(map(_rel_ok, rel))
            and all(map(_inv_ok, inv))
        ):
            out = dict(m)
            n_rel, n_inv = len(rel), len(inv)
            out["relations"] = (
                [dict(rel[0])] if n_rel == 1 else sorted(map(dict, rel), key=_rel_sort) if n_rel else []
            )
            out["involvements"] = (
                [dict(inv[0])] if n_inv == 1 else sorted(map(dict, inv), key=_inv_sort) if n_inv else []
            )
            return out
    return _norm_mentor_slow(raw, i)


def _norm_mentor_slow(raw: Any, i: int) -> dict[str, Any]:
    w = f"pool[{i}]"
    m = _obj(raw, w, _MENTOR_KEYS)
    missing = [k for k in _MENTOR_KEYS if k not in m]
    if missing:
        raise DrawInputError(f"{w} 缺少：{'、'.join(missing)}")
    if not isinstance(m["available"], bool):
        raise DrawInputError(f"{w}.available 须为布尔值")
    employer = m["employer"]
    if employer is not None:
        employer = _text(employer, f"{w}.employer")
    if not isinstance(m["relations"], list) or not isinstance(m["involvements"], list):
        raise DrawInputError(f"{w}.relations / involvements 须为数组")
    rel = []
    for j, r in enumerate(m["relations"]):
        r = _obj(r, f"{w}.relations[{j}]", ("person", "relation"))
        rel.append(
            {
                "person": _text(r.get("person"), f"{w}.relations[{j}].person"),
                "relation": _choice(r.get("relation"), f"{w}.relations[{j}].relation", RELATIONS),
            }
        )
    inv = []
    for j, v in enumerate(m["involvements"]):
        v = _obj(v, f"{w}.involvements[{j}]", ("party", "kind", "date"))
        inv.append(
            {
                "party": _text(v.get("party"), f"{w}.involvements[{j}].party"),
                "kind": _choice(v.get("kind"), f"{w}.involvements[{j}].kind", INVOLVEMENTS),
                "date": _date(v.get("date"), f"{w}.involvements[{j}].date").isoformat(),
            }
        )
    return {
        "mentor": _text(m["mentor"], f"{w}.mentor"),
        "person": _text(m["person"], f"{w}.person"),
        "specialty": _choice(m["specialty"], f"{w}.specialty", SPECIALTIES),
        "level": _choice(m["level"], f"{w}.level", LEVELS),
        "employer": employer,
        "district": _int(m["district"], f"{w}.district"),
        "available": m["available"],
        "relations": sorted(rel, key=lambda r: (r["person"], r["relation"])),
        "involvements": sorted(inv, key=lambda v: (v["party"], v["date"], v["kind"])),
    }


def _norm_history(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise DrawInputError("history 须为数组")
    out = []
    for i, h in enumerate(raw):
        w = f"history[{i}]"
        h = _obj(h, w, ("event", "date", "mentors", "applicants"))
        out.append(
            {
                "event": _text(h.get("event"), f"{w}.event"),
                "date": _date(h.get("date"), f"{w}.date").isoformat(),
                "mentors": _texts(h.get("mentors", []), f"{w}.mentors"),
                "applicants": _texts(h.get("applicants", []), f"{w}.applicants"),
            }
        )
    out.sort(key=lambda h: (h["date"], h["event"]))
    return out


def normalize_inputs(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Validate and put the inputs in canonical order (sorted lists, no duplicates)."""
    r = _obj(raw, "inputs", ("event", "rules", "pool", "history", "commitments", "public_value_source"))
    for k in ("event", "rules", "pool", "history", "commitments", "public_value_source"):
        if k not in r:
            raise DrawInputError(f"inputs 缺少：{k}")
    rules = _norm_rules(r["rules"])
    event = _norm_event(r["event"], rules)
    if not isinstance(r["pool"], list):
        raise DrawInputError("pool 须为数组")
    pool = sorted((_norm_mentor(m, i) for i, m in enumerate(r["pool"])), key=lambda m: m["mentor"])
    for a, b in itertools.pairwise(pool):
        if a["mentor"] == b["mentor"]:
            raise DrawInputError(f"pool 中导师化名 {a['mentor']} 重复")
    if not isinstance(r["commitments"], list):
        raise DrawInputError("commitments 须为数组")
    commits = []
    for i, c in enumerate(r["commitments"]):
        c = _obj(c, f"commitments[{i}]", ("party", "commitment"))
        value = c.get("commitment")
        if not isinstance(value, str) or len(value) != 64 or not set(value) <= _HEX:
            raise DrawInputError(f"commitments[{i}].commitment 须为64位小写十六进制 SHA-256 值")
        commits.append({"party": _text(c.get("party"), f"commitments[{i}].party"), "commitment": value})
    commits.sort(key=lambda c: c["party"])
    parties = [c["party"] for c in commits]
    if len(set(parties)) != len(parties):
        raise DrawInputError("同一参与方提交了多个承诺")
    if len(parties) < 2:
        raise DrawInputError("承诺须来自至少两个参与方")
    absent = [p for p in rules["required_parties"] if p not in parties]
    if absent:
        raise DrawInputError(f"缺少必需参与方的承诺：{'、'.join(absent)}")
    pvs = r["public_value_source"]
    if pvs is not None:
        pvs = _text(pvs, "public_value_source")
    return {
        "event": event,
        "rules": rules,
        "pool": pool,
        "history": _norm_history(r["history"]),
        "commitments": commits,
        "public_value_source": pvs,
    }


def _norm_reveals(raw: Any, inputs: Mapping[str, Any]) -> dict[str, str]:
    if not isinstance(raw, list):
        raise DrawInputError("reveals 须为数组")
    reveals: dict[str, str] = {}
    for i, r in enumerate(raw):
        r = _obj(r, f"reveals[{i}]", ("party", "secret"))
        party = _text(r.get("party"), f"reveals[{i}].party")
        if party in reveals:
            raise DrawInputError(f"参与方 {party} 重复揭示")
        reveals[party] = _check_secret(r.get("secret"), party)
    eid = inputs["event"]["id"]
    committed = {c["party"]: c["commitment"] for c in inputs["commitments"]}
    if set(reveals) != set(committed):
        missing = sorted(set(committed) - set(reveals))
        extra = sorted(set(reveals) - set(committed))
        parts = []
        if missing:
            parts.append(f"未揭示：{'、'.join(missing)}")
        if extra:
            parts.append(f"未承诺却揭示：{'、'.join(extra)}")
        raise DrawInputError("揭示与承诺的参与方不一致（" + "；".join(parts) + "）")
    for party, secret in reveals.items():
        if not hmac.compare_digest(commitment(eid, party, secret), committed[party]):
            raise DrawInputError(f"承诺校验失败：参与方 {party} 揭示的秘密与其事先提交的承诺不符")
    return reveals


# ---- eligibility -------------------------------------------------------------------------------------


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` earlier (29 February → 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def exclusions(
    inputs: Mapping[str, Any], strata: Iterable[str] | None = None
) -> dict[str, list[dict[str, str]]]:
    """Mentor → every reason it cannot sit on this panel (code and a non-identifying detail); with
    ``strata`` only for mentors of those strata (the others are never drawn)."""
    wanted = None if strata is None else frozenset(strata)
    event, rules = inputs["event"], inputs["rules"]
    day = dt.date.fromisoformat(event["date"])
    since_inv = years_before(day, rules["involvement_years"]).isoformat()
    year_ago = years_before(day, 1).isoformat()
    cool_from = (day - dt.timedelta(days=rules["cool_down_days"])).isoformat()
    today = event["date"]
    person_of: dict[str, list[str]] = {}
    employer_of: dict[str, list[str]] = {}
    party_of: dict[str, list[str]] = {}
    district_of: dict[int, list[str]] = {}
    for p in event["projects"]:
        for x in p["persons"]:
            person_of.setdefault(x, []).append(p["id"])
            party_of.setdefault(x, []).append(p["id"])
        for x in p["businesses"]:
            employer_of.setdefault(x, []).append(p["id"])
            party_of.setdefault(x, []).append(p["id"])
        for x in p["employers"]:
            employer_of.setdefault(x, []).append(p["id"])
        for d in p["districts"]:
            district_of.setdefault(d, []).append(p["id"])
    staff = set(event["staff"])
    applicants = set(party_of)
    # History, counted per mentor: draws in the last 12 months, last draw date, per-applicant draws.
    in_12: dict[str, int] = {}
    recent: dict[str, str] = {}
    per_app: dict[str, int] = {}
    for h in inputs["history"]:
        if h["event"] == event["id"] or h["date"] > today:
            continue
        hit_app = bool(applicants.intersection(h["applicants"])) and h["date"] > year_ago
        for m in h["mentors"]:
            if h["date"] > year_ago:
                in_12[m] = in_12.get(m, 0) + 1
            if h["date"] > cool_from:
                recent[m] = max(recent.get(m, ""), h["date"])
            if hit_app:
                per_app[m] = per_app.get(m, 0) + 1
    out: dict[str, list[dict[str, str]]] = {}
    for m in inputs["pool"]:
        if wanted is not None and f"{m['specialty']}/{m['level']}" not in wanted:
            continue
        reasons: list[dict[str, str]] = []
        if not m["available"]:
            reasons.append({"code": "unavailable", "detail": ""})
        if m["person"] in party_of:
            reasons.append({"code": "applicant", "detail": ",".join(party_of[m["person"]])})
        if m["employer"] is not None and m["employer"] in employer_of:
            reasons.append({"code": "employer", "detail": ",".join(employer_of[m["employer"]])})
        rel = [
            f"{','.join(person_of[r['person']])}:{r['relation']}"
            for r in m["relations"]
            if r["person"] in person_of
        ]
        if rel:
            reasons.append({"code": "relation", "detail": ";".join(rel)})
        inv = [
            f"{','.join(party_of[v['party']])}:{v['kind']}:{v['date']}"
            for v in m["involvements"]
            if v["party"] in party_of and since_inv <= v["date"] <= today
        ]
        if inv:
            reasons.append({"code": "prior_involvement", "detail": ";".join(inv)})
        if m["person"] in staff:
            reasons.append({"code": "supervising_staff", "detail": ""})
        if rules["recuse_same_district"] and m["district"] in district_of:
            reasons.append({"code": "same_district", "detail": ",".join(district_of[m["district"]])})
        mid = m["mentor"]
        if in_12.get(mid, 0) >= rules["max_draws_12_months"]:
            reasons.append({"code": "cap_12_months", "detail": str(in_12[mid])})
        if per_app.get(mid, 0) >= rules["max_per_applicant_year"]:
            reasons.append({"code": "cap_applicant_year", "detail": str(per_app[mid])})
        if mid in recent:
            reasons.append({"code": "cool_down", "detail": recent[mid]})
        if reasons:
            out[mid] = reasons
    return out


# ---- the draw ----------------------------------------------------------------------------------------


@dataclass
class _Stratum:
    specialty: str
    level: str
    quota: int
    pool: int = 0
    eligible: list[tuple[str, str]] = field(default_factory=list)  # (ticket, mentor) sorted

    @property
    def key(self) -> str:
        return stratum_key(self.specialty, self.level)


def _norm_declines(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        raise DrawInputError("declines 须为数组")
    out = []
    for i, d in enumerate(raw):
        d = _obj(d, f"declines[{i}]", ("mentor", "at"))
        out.append(
            {
                "mentor": _text(d.get("mentor"), f"declines[{i}].mentor"),
                "at": _datetime(d.get("at"), f"declines[{i}].at").isoformat(),
            }
        )
    return out


def _failure(code: str, message: str, **numbers: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **numbers}


def run(
    inputs: Mapping[str, Any],
    reveals: Sequence[Mapping[str, str]],
    public_value: str | None = None,
    declines: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """Run the draw and return the manifest. Malformed inputs or a bad reveal raise DrawInputError;
    an infeasible draw returns a manifest whose result has status ``failed`` and the reason.

    The cyclic garbage collector is paused while it runs: the draw builds tens of thousands of small
    containers and no reference cycles, and the collector's passes cost about a fifth of the time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _run(inputs, reveals, public_value, declines)
    finally:
        if was_enabled:
            gc.enable()


def _run(
    inputs: Mapping[str, Any],
    reveals: Sequence[Mapping[str, str]],
    public_value: str | None,
    declines: Sequence[Mapping[str, str]],
) -> dict[str, Any]:
    norm = normalize_inputs(inputs)
    rev = _norm_reveals(list(reveals), norm)
    if norm["public_value_source"] is not None and not public_value:
        raise DrawInputError(f"事先公告的公开随机值（{norm['public_value_source']}）尚未填入")
    if norm["public_value_source"] is None and public_value:
        raise DrawInputError("未事先公告公开随机值来源，不得使用公开随机值")
    if public_value is not None:
        public_value = _text(public_value, "public_value")
    decl = _norm_declines(list(declines))
    ih = inputs_sha256(norm)
    seed = derive_seed(ih, rev, public_value)
    result = _draw(norm, seed, decl)
    return {
        "format": FORMAT,
        "inputs": norm,
        "inputs_sha256": ih,
        "reveals": [{"party": p, "secret": rev[p]} for p in sorted(rev)],
        "public_value": public_value,
        "declines": decl,
        "result": result,
    }


def _draw(inputs: Mapping[str, Any], seed: bytes, declines: list[dict[str, str]]) -> dict[str, Any]:
    event = inputs["event"]
    eid = event["id"]
    backups = event["backups"]
    excluded = exclusions(inputs, [stratum_key(q["specialty"], q["level"]) for q in event["quotas"]])
    strata = {
        stratum_key(q["specialty"], q["level"]): _Stratum(q["specialty"], q["level"], q["count"])
        for q in event["quotas"]
    }
    members: dict[str, list[str]] = {k: [] for k in strata}
    counted: dict[str, str] = {}
    for m in inputs["pool"]:
        k = stratum_key(m["specialty"], m["level"])
        if k not in strata:
            continue
        strata[k].pool += 1
        counted[m["mentor"]] = k
        if m["mentor"] not in excluded:
            members[k].append(m["mentor"])
    for k, s in strata.items():
        s.eligible = _tickets(seed, eid, k, members[k])
    excluded_out = [{"mentor": m, "reasons": excluded[m]} for m in sorted(excluded) if m in counted]
    strata_out = []
    failure = None
    for k, s in strata.items():
        n = len(s.eligible)
        strata_out.append(
            {
                "specialty": s.specialty,
                "level": s.level,
                "quota": s.quota,
                "pool": s.pool,
                "eligible": n,
                "order": [{"mentor": m, "ticket": t} for t, m in s.eligible],
            }
        )
        if failure is None and n < s.quota + backups:
            failure = _failure(
                "stratum_short",
                f"专业×级别 分层可用导师不足：{stratum_zh(s.specialty, s.level)} 需抽取 {s.quota} 名"
                f"并备选 {backups} 名（共 {s.quota + backups} 名），池中 {s.pool} 名，"
                f"回避或受限 {s.pool - n} 名，可用 {n} 名",
                stratum=k,
                need=s.quota + backups,
                pool=s.pool,
                eligible=n,
            )
    base = {
        "seed": seed.hex(),
        "excluded": excluded_out,
        "strata": strata_out,
    }
    if failure is not None:
        return {
            **base,
            "status": "failed",
            "failure": failure,
            "panel": [],
            "backups": {},
            "replacements": [],
        }
    panel: list[dict[str, Any]] = []
    queues: dict[str, list[str]] = {}
    used: dict[str, set[str]] = {}
    for k, s in strata.items():
        order = [m for _, m in s.eligible]
        for m in order[: s.quota]:
            panel.append({"slot": len(panel) + 1, "stratum": k, "mentor": m})
        queues[k] = order[s.quota : s.quota + backups]
        used[k] = set(order[: s.quota + backups])
    initial_backups = {k: list(v) for k, v in queues.items()}
    seat = {p["mentor"]: p for p in panel}
    rounds = dict.fromkeys(strata, 0)
    replacements: list[dict[str, Any]] = []
    status = "drawn"
    for d in declines:
        m = d["mentor"]
        if m in seat:
            slot = seat.pop(m)
            k = str(slot["stratum"])
            entry: dict[str, Any] = {"declined": m, "at": d["at"], "slot": slot["slot"], "stratum": k}
            if not queues[k]:
                rounds[k] += 1
                sub = hashlib.sha256(_SUPP_DOMAIN + seed + _lp(k) + rounds[k].to_bytes(4, "big")).digest()
                rest = [m2 for m2 in members[k] if m2 not in used[k]]
                ranked = [m2 for _, m2 in _tickets(sub, eid, k, rest)]
                entry["supplementary_round"] = rounds[k]
                entry["supplementary_seed"] = sub.hex()
                queues[k] = ranked[: 1 + backups]
                used[k].update(queues[k])
            if queues[k]:
                new = queues[k].pop(0)
                slot["mentor"] = new
                seat[new] = slot
                entry["replacement"] = new
            else:
                entry["replacement"] = None
                status = "incomplete"
                entry["message"] = (
                    f"补充抽取失败：{stratum_zh(*k.split('/'))} 已无未抽中的合格导师，第{slot['slot']}席空缺"
                )
            replacements.append(entry)
        elif m in counted and m in queues[counted[m]]:
            queues[counted[m]].remove(m)
            replacements.append(
                {"declined": m, "at": d["at"], "stratum": counted[m], "backup_withdrawn": True}
            )
        else:
            raise DrawInputError(f"谢绝记录中的导师 {m} 既不在评审组也不在备选序列中")
    panel_out = sorted(
        ({"slot": p["slot"], "stratum": p["stratum"], "mentor": p["mentor"]} for p in seat.values()),
        key=lambda p: p["slot"],
    )
    return {
        **base,
        "status": status,
        "failure": None,
        "initial_backups": initial_backups,
        "panel": panel_out,
        "backups": {k: list(v) for k, v in queues.items()},
        "replacements": replacements,
    }


# ---- verification ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    message: str
    differences: tuple[str, ...] = ()
    seed: str | None = None
    status: str | None = None


def _diff(a: Any, b: Any, path: str, out: list[str], limit: int = 20) -> None:
    if len(out) >= limit:
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}.{k}")
            else:
                _diff(a[k], b[k], f"{path}.{k}", out, limit)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, f"{path}[{i}]", out, limit)
    elif canonical_json(a) != canonical_json(b):
        out.append(path)


def verify(manifest: Mapping[str, Any]) -> VerifyResult:
    """Re-run the draw from the manifest's inputs, reveals, public value and declines; the manifest
    verifies when the re-run is identical byte for byte (canonical JSON)."""
    try:
        if not isinstance(manifest, Mapping) or manifest.get("format") != FORMAT:
            return VerifyResult(False, f"不是抽选清单（format 应为 {FORMAT}）")
        again = run(
            manifest["inputs"],
            manifest["reveals"],
            manifest.get("public_value"),
            manifest.get("declines", []),
        )
    except DrawInputError as exc:
        return VerifyResult(False, f"清单无法复算：{exc}")
    except (KeyError, TypeError, AttributeError) as exc:
        return VerifyResult(False, f"清单结构错误：{exc!r}")
    try:
        given = canonical_json(manifest)
    except DrawInputError as exc:
        return VerifyResult(False, f"清单无法规范化：{exc}")
    seed = again["result"]["seed"]
    status = again["result"]["status"]
    if given == canonical_json(again):
        return VerifyResult(True, f"复算一致（种子 {seed}，结果 {status}）", (), seed, status)
    diffs: list[str] = []
    _diff(manifest, again, "manifest", diffs)
    shown = "、".join(diffs[:10]) or "字节顺序或格式"
    return VerifyResult(False, f"复算不一致：{shown}", tuple(diffs), seed, status)


def _refuse_float(text: str) -> Any:
    raise DrawInputError(f"清单含小数 {text}：只允许整数、文本、布尔、null、数组和对象")


def load(path: str) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh, parse_float=_refuse_float)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print("用法：python3 verify_draw.py MANIFEST.json（仅需 Python 标准库）", file=sys.stderr)
        return 2
    try:
        manifest = load(args[0])
    except (OSError, ValueError) as exc:
        print(f"无法读取清单 {args[0]}：{exc}", file=sys.stderr)
        return 2
    res = verify(manifest)
    print(("通过：" if res.ok else "未通过：") + res.message)
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
