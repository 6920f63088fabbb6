"""The transition table: every allowed move works for every role it names; everything else is refused."""

from __future__ import annotations

import pytest

from tests.applications import (
    EXPIRED,
    LATER,
    NOW,
    PATHS,
    act,
    application_in,
    audit_count,
    setup,
    state_of,
)
from xiangchuang.applications.kinds import KIND_IDS, KINDS
from xiangchuang.applications.workflow import (
    ACTIONS,
    GUARDS,
    ROLES,
    STANDARD,
    STATE_LABELS,
    TABLES,
    allowed_actions,
)
from xiangchuang.engine.programs import PROGRAM_IDS
from xiangchuang.errors import Forbidden, InvalidTransition
from xiangchuang.models.applications import APPLICATION_STATES

CASES = [(row, role) for row in STANDARD for role in row.roles]


def test_every_kind_is_an_engine_program_with_a_table():
    assert set(KIND_IDS) <= set(PROGRAM_IDS)
    assert set(TABLES) == set(KINDS)
    assert not any(k.startswith("loan") or k == "counter_guarantee_waiver" for k in KIND_IDS)


def test_the_table_names_only_known_states_roles_and_guards_and_has_chinese_labels():
    for row in STANDARD:
        assert row.from_state in APPLICATION_STATES and row.to_state in APPLICATION_STATES
        assert set(row.roles) <= set(ROLES) and row.roles
        assert set(row.guards) <= set(GUARDS)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row.staff_label + row.applicant_label)
    assert set(STATE_LABELS) == set(APPLICATION_STATES)


def test_one_row_per_state_and_action():
    keys = [(r.from_state, r.action) for r in STANDARD]
    assert len(keys) == len(set(keys))


def test_every_state_is_reachable_by_a_path_of_table_rows():
    assert set(PATHS) == set(APPLICATION_STATES)


def test_city_admin_acts_nowhere_and_finance_only_on_disbursement():
    assert not any("city_admin" in r.roles for r in STANDARD)
    assert {r.action for r in STANDARD if "district_finance" in r.roles} == {
        "start_disbursement",
        "confirm_disbursement",
    }


def test_allowed_actions_lists_what_a_role_may_press():
    assert [r.action for r in allowed_actions("startup_subsidy", "submitted", "window_clerk")] == [
        "accept",
        "refuse",
        "return",
        "withdraw",
    ]


@pytest.mark.parametrize(
    ("row", "role"), CASES, ids=[f"{r.from_state}-{r.action}-{role}" for r, role in CASES]
)
def test_every_allowed_transition_works(db_engine, pii, row, role):
    setup(db_engine, pii)
    app_id = application_in(db_engine, row.from_state)
    reason = "说明理由" if "reason_required" in row.guards else None
    now = {"approve": LATER, "expire": EXPIRED}.get(row.action, NOW)
    before = audit_count(db_engine)
    result = act(db_engine, app_id, row.action, role, reason=reason, now=now)
    assert result.application.state == row.to_state
    assert state_of(db_engine, app_id) == row.to_state
    assert audit_count(db_engine) == before + 1


@pytest.mark.parametrize("state", APPLICATION_STATES)
def test_every_disallowed_role_state_action_is_refused(db_engine, pii, state):
    setup(db_engine, pii)
    app_id = application_in(db_engine, state)
    before = audit_count(db_engine)
    allowed = {(r.action, role) for r in STANDARD if r.from_state == state for role in r.roles}
    refused = 0
    for action in ACTIONS:
        for role in ROLES:
            if (action, role) in allowed:
                continue
            with pytest.raises((InvalidTransition, Forbidden)):
                act(db_engine, app_id, action, role, reason="说明理由", now=LATER)
            refused += 1
    assert refused == len(ACTIONS) * len(ROLES) - len(allowed)
    assert state_of(db_engine, app_id) == state
    assert audit_count(db_engine) == before
