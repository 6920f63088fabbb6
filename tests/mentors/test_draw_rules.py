"""Rules of the pure draw module: commitments, public value, draw time, panel rules, declines."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tests.mentors.builders import RULES, event, inputs, mentor
from xiangchuang.mentors import draw as D


def _pool(n: int = 10) -> list[dict[str, object]]:
    return [mentor(i, "law", "city") for i in range(n)]


def test_commitments_from_two_required_parties() -> None:
    ev = event([("law", "city", 1)])
    inp, rev = inputs(ev, _pool(), parties=("organiser",))
    with pytest.raises(D.DrawInputError, match="至少两个参与方"):
        D.run(inp, rev)
    inp, rev = inputs(ev, _pool(), parties=("organiser", "notary"))
    with pytest.raises(D.DrawInputError, match="supervisor"):
        D.run(inp, rev)
    inp, rev = inputs(ev, _pool(), parties=("organiser", "supervisor", "notary"))
    with pytest.raises(D.DrawInputError, match="未揭示：notary"):
        D.run(inp, rev[:2])
    assert D.run(inp, rev)["result"]["status"] == "drawn"


def test_public_value_announced_in_advance_enters_the_seed() -> None:
    ev = event([("law", "city", 1)])
    inp, rev = inputs(ev, _pool(), public_value_source="福彩3D 2024-06-06")
    with pytest.raises(D.DrawInputError, match="尚未填入"):
        D.run(inp, rev)
    a = D.run(inp, rev, public_value="381")
    b = D.run(inp, rev, public_value="382")
    assert a["result"]["seed"] != b["result"]["seed"]
    inp2, rev2 = inputs(ev, _pool())
    with pytest.raises(D.DrawInputError, match="未事先公告"):
        D.run(inp2, rev2, public_value="381")


def test_nothing_chosen_at_draw_time_enters_the_seed() -> None:
    """Once inputs are frozen and secrets revealed the outcome is fixed: no retry for a better seed."""
    ev = event([("law", "city", 1)])
    inp, rev = inputs(ev, _pool())
    assert D.run(inp, rev) == D.run(copy.deepcopy(inp), list(reversed(rev)))
    assert "drawn_at" not in D.run(inp, rev)


def test_competition_final_panel_is_odd_and_at_least_the_minimum() -> None:
    for quotas in ([("law", "city", 4)], [("law", "city", 3)]):
        inp, rev = inputs(event(quotas, kind="competition_final"), _pool())
        with pytest.raises(D.DrawInputError, match="奇数"):
            D.run(inp, rev)
    inp, rev = inputs(event([("law", "city", 5)], kind="competition_final", backups=1), _pool())
    assert len(D.run(inp, rev)["result"]["panel"]) == 5


def test_inputs_are_normalized_and_order_does_not_matter() -> None:
    ev = event([("law", "city", 2)])
    inp, rev = inputs(ev, _pool())
    shuffled = copy.deepcopy(inp)
    shuffled["pool"].reverse()
    assert D.run(inp, rev) == D.run(shuffled, rev)
    dup = copy.deepcopy(inp)
    dup["pool"].append(dup["pool"][0])
    with pytest.raises(D.DrawInputError, match="重复"):
        D.run(dup, rev)


def test_declines_use_backups_then_supplementary_rounds_then_leave_a_vacancy() -> None:
    inp, rev = inputs(event([("law", "city", 1)], backups=1), _pool(4))
    declines: list[dict[str, str]] = []
    seen = []
    for k in range(4):
        cur = D.run(inp, rev, declines=declines)
        if not cur["result"]["panel"]:
            break
        who = cur["result"]["panel"][0]["mentor"]
        seen.append(who)
        declines.append({"mentor": who, "at": f"2024-06-09T1{k}:00:00+08:00"})
    final = D.run(inp, rev, declines=declines)
    log = final["result"]["replacements"]
    # backup; round 1 seats one and queues one backup; that backup; round 2 finds nobody.
    assert [e.get("supplementary_round", 0) for e in log] == [0, 1, 0, 2]
    assert log[-1]["replacement"] is None and "补充抽取失败" in log[-1]["message"]
    assert final["result"]["status"] == "incomplete" and final["result"]["panel"] == []
    assert sorted(seen) == [f"m{i:05d}" for i in range(4)]
    with pytest.raises(D.DrawInputError, match="既不在评审组"):
        D.run(inp, rev, declines=[*declines, {"mentor": "m00000", "at": "2024-06-09T20:00:00+08:00"}])
    assert D.verify(final).ok


def test_a_backup_may_withdraw_before_being_seated() -> None:
    inp, rev = inputs(event([("law", "city", 1)], backups=2), _pool())
    first = D.run(inp, rev)["result"]
    b1, b2 = first["backups"]["law/city"]
    res = D.run(inp, rev, declines=[{"mentor": b1, "at": "2024-06-09T10:00:00+08:00"}])["result"]
    assert res["backups"]["law/city"] == [b2] and res["replacements"][0]["backup_withdrawn"] is True


def test_floats_and_unknown_fields_are_refused(tmp_path: Path) -> None:
    inp, rev = inputs(event([("law", "city", 1)]), _pool())
    man = D.run(inp, rev)
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(man).replace('"district": 500101', '"district": 500101.0', 1), encoding="utf-8"
    )
    with pytest.raises(D.DrawInputError, match="小数"):
        D.load(str(path))
    bad = copy.deepcopy(man)
    bad["inputs"]["pool"][0]["nickname"] = "x"
    res = D.verify(bad)
    assert not res.ok and "nickname" in res.message


def test_rules_are_required_in_full() -> None:
    inp, rev = inputs(
        event([("law", "city", 1)]), _pool(), rules={k: v for k, v in RULES.items() if k != "cool_down_days"}
    )
    with pytest.raises(D.DrawInputError, match="cool_down_days"):
        D.run(inp, rev)
