"""Hypothesis over random pools, events, histories and declines: 0 recusal, quota or cap violations,
and infeasible draws fail with the right reason. An independent oracle (written apart from draw.py)
decides what each mentor's reasons are.

CI runs XC_DRAW_EXAMPLES (default 300) instances; the full run is

    XC_DRAW_EXAMPLES=100000 .venv/bin/pytest tests/mentors/test_properties.py -q

or, in seeded chunks logged one by one (with the 10^5-seed uniformity check first),
``bash scripts/mentor_draw_full.sh`` (see the script for its arguments).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from xiangchuang.mentors import draw as D

EXAMPLES = int(os.environ.get("XC_DRAW_EXAMPLES", "300"))
SPECS = ("agriculture", "ecommerce", "law")
PERSONS = [f"p{i}" for i in range(8)]
BUSINESSES = [f"b{i}" for i in range(6)]
DISTRICTS = [500101, 500102, 500103]
DAY = dt.date(2024, 6, 10)


def _day(offset: int) -> str:
    return (DAY - dt.timedelta(days=offset)).isoformat()


@st.composite
def instances(draw: st.DrawFn) -> dict[str, Any]:
    strata = draw(
        st.lists(
            st.tuples(st.sampled_from(SPECS), st.sampled_from(D.LEVELS)), min_size=1, max_size=2, unique=True
        )
    )
    n = draw(st.integers(0, 40))
    pool = []
    for i in range(n):
        sp, lv = draw(st.sampled_from(strata * 6 + [(s, lv) for s in SPECS for lv in D.LEVELS]))
        pool.append(
            {
                "mentor": f"m{i:03d}",
                "person": draw(st.sampled_from([f"pm{i}"] * 8 + PERSONS[:2])),
                "specialty": sp,
                "level": lv,
                "employer": draw(st.sampled_from([None] * 12 + BUSINESSES)),
                "district": draw(st.sampled_from(DISTRICTS)),
                "available": draw(st.sampled_from([True] * 9 + [False])),
                "relations": [
                    {"person": p, "relation": r}
                    for p, r in draw(
                        st.lists(
                            st.tuples(st.sampled_from(PERSONS), st.sampled_from(D.RELATIONS)), max_size=1
                        )
                    )
                ],
                "involvements": [
                    {"party": p, "kind": k, "date": _day(o)}
                    for p, k, o in draw(
                        st.lists(
                            st.tuples(
                                st.sampled_from(PERSONS + BUSINESSES),
                                st.sampled_from(D.INVOLVEMENTS),
                                st.integers(-30, 2500),
                            ),
                            max_size=1,
                        )
                    )
                ],
            }
        )
    quotas = [{"specialty": s, "level": lv, "count": draw(st.integers(1, 2))} for s, lv in strata]
    projects = [
        {
            "id": f"P{j}",
            "persons": draw(st.lists(st.sampled_from(PERSONS), max_size=2, unique=True)),
            "businesses": draw(st.lists(st.sampled_from(BUSINESSES), max_size=1)),
            "employers": draw(st.lists(st.sampled_from(BUSINESSES), max_size=1)),
            "districts": draw(st.lists(st.sampled_from(DISTRICTS), max_size=1)),
        }
        for j in range(draw(st.integers(1, 3)))
    ]
    mentors = [m["mentor"] for m in pool]
    history = [
        {
            "event": f"H{k}",
            "date": _day(draw(st.integers(-5, 500))),
            "mentors": draw(st.lists(st.sampled_from(mentors), max_size=4, unique=True)) if mentors else [],
            "applicants": draw(st.lists(st.sampled_from(PERSONS + BUSINESSES), max_size=2, unique=True)),
        }
        for k in range(draw(st.integers(0, 12)))
    ]
    rules = {
        "involvement_years": draw(st.integers(0, 5)),
        "max_draws_12_months": draw(st.integers(1, 6)),
        "max_per_applicant_year": draw(st.integers(1, 2)),
        "cool_down_days": draw(st.integers(0, 60)),
        "recuse_same_district": draw(st.sampled_from([False, False, False, True])),
        "min_final_panel": 1,
        "required_parties": ["organiser", "supervisor"],
    }
    ev = {
        "id": "E",
        "kind": "project_review",
        "date": DAY.isoformat(),
        "earliest_draw_time": None,
        "panel_size": sum(q["count"] for q in quotas),
        "backups": draw(st.integers(0, 2)),
        "quotas": quotas,
        "projects": projects,
        "staff": draw(st.lists(st.sampled_from([*PERSONS, "pm0", "pm1"]), max_size=2)),
    }
    salt = draw(st.binary(min_size=1, max_size=8))
    secrets = {p: hashlib.sha256(salt + p.encode()).hexdigest() for p in ("organiser", "supervisor")}
    inp = {
        "event": ev,
        "rules": rules,
        "pool": pool,
        "history": history,
        "commitments": [{"party": p, "commitment": D.commitment("E", p, s)} for p, s in secrets.items()],
        "public_value_source": None,
    }
    return {
        "inputs": inp,
        "reveals": [{"party": p, "secret": s} for p, s in secrets.items()],
        "declines": draw(st.lists(st.integers(0, 10), max_size=4)),
    }


def oracle_reasons(inp: dict[str, Any], m: dict[str, Any]) -> set[str]:
    """What the rules (MENTOR_DRAW.md) say, written out plainly, independently of draw.exclusions."""
    ev, rules = inp["event"], inp["rules"]
    day = dt.date.fromisoformat(ev["date"])
    persons = {x for p in ev["projects"] for x in p["persons"]}
    businesses = {x for p in ev["projects"] for x in p["businesses"]}
    employers = businesses | {x for p in ev["projects"] for x in p["employers"]}
    districts = {x for p in ev["projects"] for x in p["districts"]}
    parties = persons | businesses
    out = set()
    if not m["available"]:
        out.add("unavailable")
    if m["person"] in parties:
        out.add("applicant")
    if m["employer"] is not None and m["employer"] in employers:
        out.add("employer")
    if any(r["person"] in persons for r in m["relations"]):
        out.add("relation")
    for v in m["involvements"]:
        d = dt.date.fromisoformat(v["date"])
        if v["party"] in parties and d <= day and D.years_before(day, rules["involvement_years"]) <= d:
            out.add("prior_involvement")
    if m["person"] in ev["staff"]:
        out.add("supervising_staff")
    if rules["recuse_same_district"] and m["district"] in districts:
        out.add("same_district")
    past = [h for h in inp["history"] if h["event"] != ev["id"] and m["mentor"] in h["mentors"]]
    year_ago = D.years_before(day, 1)
    within_year = [h for h in past if year_ago < dt.date.fromisoformat(h["date"]) <= day]
    if len(within_year) >= rules["max_draws_12_months"]:
        out.add("cap_12_months")
    if len([h for h in within_year if parties & set(h["applicants"])]) >= rules["max_per_applicant_year"]:
        out.add("cap_applicant_year")
    if any(0 <= (day - dt.date.fromisoformat(h["date"])).days < rules["cool_down_days"] for h in past):
        out.add("cool_down")
    return out


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(instances())
def test_no_violations_and_infeasible_fails_with_the_reason(case: dict[str, Any]) -> None:
    inp = case["inputs"]
    man = D.run(inp, case["reveals"])
    res = man["result"]
    ev = man["inputs"]["event"]
    pool = {m["mentor"]: m for m in man["inputs"]["pool"]}
    oracle = {k: oracle_reasons(man["inputs"], m) for k, m in pool.items()}
    strata = {D.stratum_key(q["specialty"], q["level"]): q["count"] for q in ev["quotas"]}
    in_strata = {k for k, m in pool.items() if D.stratum_key(m["specialty"], m["level"]) in strata}
    # Every exclusion reason is exactly the oracle's.
    got = {e["mentor"]: {r["code"] for r in e["reasons"]} for e in res["excluded"]}
    assert got == {k: v for k, v in oracle.items() if v and k in in_strata}
    eligible = {
        s: [
            k
            for k in in_strata
            if not oracle[k] and D.stratum_key(pool[k]["specialty"], pool[k]["level"]) == s
        ]
        for s in strata
    }
    short = [s for s in sorted(strata) if len(eligible[s]) < strata[s] + ev["backups"]]
    event("failed" if short else "drawn")
    if short:
        assert res["status"] == "failed" and res["panel"] == []
        f = res["failure"]
        assert f["code"] == "stratum_short" and f["stratum"] == short[0]
        assert f["eligible"] == len(eligible[short[0]]) and f["need"] == strata[short[0]] + ev["backups"]
        assert "专业×级别 分层可用导师不足" in f["message"]
        assert D.verify(man).ok
        return
    assert res["status"] == "drawn"

    def check(result: dict[str, Any], declined: set[str]) -> None:
        seen = set()
        per: dict[str, int] = {}
        for p in result["panel"]:
            m = p["mentor"]
            assert m not in seen and m not in declined
            seen.add(m)
            assert not oracle[m], (m, oracle[m])  # 0 recusal / cap violations
            assert D.stratum_key(pool[m]["specialty"], pool[m]["level"]) == p["stratum"]
            per[p["stratum"]] = per.get(p["stratum"], 0) + 1
        for _s, queue in result["backups"].items():
            for m in queue:
                assert not oracle[m] and m not in seen and m not in declined
        if result["status"] == "drawn":
            assert per == strata  # quotas exact
        else:
            assert result["status"] == "incomplete"
            assert all(per.get(s, 0) <= q for s, q in strata.items())

    check(res, set())
    # Declines, in order: always a seated mentor picked by index; slots refilled without violations.
    declines: list[dict[str, str]] = []
    declined: set[str] = set()
    current = man
    for k in case["declines"]:
        panel = current["result"]["panel"]
        if not panel:
            break
        who = panel[k % len(panel)]["mentor"]
        declines.append({"mentor": who, "at": "2024-06-09T10:00:00+08:00"})
        declined.add(who)
        current = D.run(inp, case["reveals"], declines=declines)
        check(current["result"], declined)
        last = current["result"]["replacements"][-1]
        event("supplementary" if "supplementary_round" in last else "backup")
        if last["replacement"] is None:
            event("incomplete")
    assert D.verify(current).ok
