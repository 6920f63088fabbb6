"""Role × route × {own, other applicant, other district} on both databases, for every route WITH path
parameters (tests/web/test_route_matrix.py covers those without).

Routes are discovered from the app; each path parameter is filled from :data:`PARAMS` (param name, or
"path prefix|param" when a name means different things on different routes) → the id of the world's
object of each ownership (tests/web/scope_world.py; the service packages' records — training, carriers,
jobs, outreach, services, community, mentors — in tests/web/scope_world_services.py). Expected, per route,
role and ownership:

- a role outside the route's ``require_role`` (or :data:`CALLER_ROLES` for routes that check the caller
  themselves): 403;
- an applicant: 200 for their own object only; district staff (and a bank / the guarantee fund of the
  district): 200 for district A objects; a training provider / carrier operator: 200 for its own
  organisation's (users.org_code); the city office: 200 for everything. An object outside the
  caller's scope must be refused with 403 or 404 (404 does not reveal existence): a 200 is an unexpected
  success;
- parameters that name no one's object (a program, a kind, a parameter name, a quarter) are checked per
  role only;
- never a 5xx; no 200 (HTML, JSON or an xlsx download) carries a full 身份证号 / mobile / bank card number,
  nor a JSON key for a person's number or contact details other than a masked one, nor the name of a
  person outside the caller's view (the other applicant's or the other district's).

Any GET route of the app whose parameters are not in the table fails the test (a new route must be added
here with its expected access). Routes whose scope differs from the default (a public page, a record an
organisation owns, a page of the organiser only) say so in :data:`ROUTE_SCOPE`.

State-changing POSTs with path parameters: every one refuses roles outside ``require_role``; the
application transitions (page and API), material uploads, the loan steps (page and API) and the finance
batch steps are also tried by an applicant / staff of the wrong ownership or district: 403/404, and the
row's (state, version) and the attachment count are unchanged afterwards. The service packages' state
changes (classes, enrolments, carriers, labour needs, seekers, service requests, problems, meetings, the
outreach register) are tried by an applicant / organisation on another's record and by district A's staff
on district B's: 403/404, and no row of any table (but the audit log, sessions, users and the outbox)
changes; the role refusals are checked against the same whole-database snapshot.

The world is built once per database for the module (it is most of the run time).

Also: every list page (routes without parameters) × role in the same world shows nothing out of scope;
the bank's and the guarantee fund's API tokens; ids past the database's integer columns (404/422, not
503)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import openpyxl
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.db_reset import empty_database
from tests.web.apps_world import upload_all
from tests.web.scope_world import (
    APPLICATION,
    CALLERS,
    LOAN,
    OWNERSHIPS,
    PEOPLE,
    REQUIRED,
    ScopeWorld,
    build,
    row_state,
)
from tests.web.test_route_matrix import PII, _roles_required
from xiangchuang.loans.workflow import LOAN_ROLES
from xiangchuang.models import Attachment, DisbursementItem, Invitation, ParameterChange
from xiangchuang.users.service import ROLE_LABELS

ALL_ROLES = frozenset(ROLE_LABELS)
# Routes that check the caller themselves instead of require_role (the loan API also takes bank tokens).
CALLER_ROLES: dict[str, frozenset[str]] = {
    "/api/v1/loans/{loan_no}": frozenset(LOAN_ROLES),
    # the training API checks the caller in the service (as the page's require_role)
    "/api/v1/training/enrolments/{enrolment_id}/certificate": frozenset(
        {"applicant", "window_clerk", "district_reviewer", "training_provider"}
    ),
    # the community API: the founder (their own case / nomination) and the staff of the district
    "/api/v1/community/closures/{case_no}": frozenset(
        {"applicant", "window_clerk", "district_reviewer", "city_admin"}
    ),
    "/api/v1/community/nominations/{nomination_no}": frozenset(
        {"applicant", "window_clerk", "district_reviewer", "city_admin"}
    ),
    "/programs/{program_id}": ALL_ROLES,  # public
    "/api/v1/programs/{program_id}": ALL_ROLES,  # public
}
# (route, role) → why a role the route lets in is refused on an object in its scope by a rule other than
# scope (kept explicit so a change shows up here; an entry that no longer applies fails the test).
RULE_REFUSALS: dict[tuple[str, str], str] = {
    (
        "/mentors/events/{event_no}/manifest.json",
        "city_admin",
    ): "no draw yet: the manifest exists after the draw",
    ("/mentors/events/{event_no}/manifest.json", "district_reviewer"): "no draw yet",
}

Fill = Callable[[ScopeWorld, str], str]


def _by_owner(kind: str) -> Fill:
    return lambda w, own: w.ids[kind][own]


def _fixed(value: str) -> Fill:
    return lambda _w, _own: value


# param (or "prefix|param") → (scoped?, filler). A scoped parameter names an object with an owner and a
# district; an unscoped one names something every allowed role may open.
PARAMS: dict[str, tuple[bool, Fill]] = {
    "application_id": (True, _by_owner("application_id")),
    "attachment_id": (True, _by_owner("attachment_id")),
    "loan_id": (True, _by_owner("loan_id")),
    "loan_no": (True, _by_owner("loan_no")),
    "/staff/publicity|batch_id": (True, _by_owner("batch_id")),
    "/finance/batches|batch_id": (True, _by_owner("finance_batch_id")),
    "/mentors/import|token": (False, _fixed("d" * 16)),  # the city office's only (before "token")
    "token": (True, _by_owner("token")),
    "program_id": (False, _fixed("startup_subsidy")),
    "kind_id": (False, _fixed("startup_subsidy")),
    "name": (False, _fixed("startup_subsidy.rate")),
    "quarter": (False, _fixed("2025Q1")),
    # the service packages (tests/web/scope_world_services.py)
    "class_id": (True, _by_owner("class_id")),
    "enrolment_id": (True, _by_owner("enrolment_id")),
    "/api/v1/training/certificates|code": (True, _by_owner("certificate_code")),
    "carrier_no": (True, _by_owner("carrier_no")),
    "bill_no": (True, _by_owner("bill_no")),
    "request_no": (True, _by_owner("request_no")),
    "problem_no": (True, _by_owner("problem_no")),
    "purchase_no": (True, _by_owner("purchase_no")),
    "meeting_no": (True, _by_owner("meeting_no")),
    "person_id": (True, _by_owner("outreach_person_id")),
    "campaign_id": (True, _by_owner("campaign_id")),
    "fmt": (False, _fixed("xlsx")),
    "post_no": (True, _by_owner("post_no")),
    "seeker_no": (True, _by_owner("seeker_no")),
    "case_no": (True, _by_owner("case_no")),
    "nomination_no": (True, _by_owner("nomination_no")),
    "event_no": (True, _by_owner("event_no")),
    "/community/nominations|no": (True, _by_owner("nomination_no")),
}
# A value naming nothing (the "missing" column): an allowed role gets 404 (or 403), never 200 or a 5xx.
MISSING: dict[str, str] = {
    "application_id": "999999",
    "attachment_id": "999999",
    "loan_id": "999999",
    "loan_no": "DK20250101NONE",
    "batch_id": "999999",
    "token": "c" * 16,
    "program_id": "no_such_program",
    "kind_id": "no_such_kind",
    "name": "no_such.parameter",
    "class_id": "999999",
    "enrolment_id": "999999",
    # (no "code": the public certificate check answers an unknown number with 200 {"valid": false})
    "carrier_no": "C-NONE",
    "bill_no": "ZD-NONE",
    "request_no": "FW-NONE",
    "problem_no": "WT-NONE",
    "purchase_no": "GM-NONE",
    "meeting_no": "HS-NONE",
    "person_id": "999999",
    "campaign_id": "999999",
    "fmt": "docx",
    "post_no": "GW-NONE",
    "seeker_no": "QZ-NONE",
    "case_no": "BF-NONE",
    "nomination_no": "DX-NONE",
    "no": "DX-NONE",
    "event_no": "HD-NONE",
}
# Downloads whose purpose is to carry a number the PII scan looks for: the bank payment file of a
# disbursement batch carries the payees' card numbers (district finance only, its own district's batch).
PII_PURPOSE: dict[str, frozenset[int]] = {"/finance/batches/{batch_id}/bank.xlsx": frozenset({2})}
# District A's staff. The window clerk WITH a street has the same scope as one without: applications carry
# a street only when made at a window (most are made online), and the scope rule is the district's.
DISTRICT_A_STAFF = {
    "window_clerk",
    "street_clerk",
    "district_reviewer",
    "district_finance",
    "bank",
    "guarantee_fund",
}


def _walk(items: Any) -> Iterator[Any]:
    for r in items:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _walk(inner.routes)
        else:
            yield r


def _param_routes(app: Any, method: str) -> list[APIRoute]:
    return [r for r in _walk(app.routes) if isinstance(r, APIRoute) and method in r.methods and "{" in r.path]


def _filler(route: APIRoute, param: str) -> tuple[bool, Fill] | None:
    for key, value in PARAMS.items():
        prefix, _, name = key.rpartition("|")
        if name == param and route.path.startswith(prefix):
            return value
    return None


def _fill(route: APIRoute, w: ScopeWorld, own: str) -> tuple[str, bool] | None:
    """The URL for one ownership ("missing": a value naming nothing), and whether any of its parameters
    is scoped (None: a parameter is not in the table, or has no "missing" value)."""
    url, scoped = route.path, False
    for param in route.param_convertors:
        found = _filler(route, param)
        if found is None or (own == "missing" and param not in MISSING):
            return None
        is_scoped, fill = found
        scoped = scoped or is_scoped
        url = url.replace("{" + param + "}", MISSING[param] if own == "missing" else fill(w, own))
    return url, scoped


def _huge_ids(route: APIRoute) -> list[str]:
    """The route's URL with each integer path parameter set past a PostgreSQL ``integer`` (others: 1)."""
    ints = [p.alias for p in route.dependant.path_params if p.field_info.annotation is int]
    out = []
    for name in ints:
        url = route.path
        for param in route.param_convertors:
            url = url.replace("{" + param + "}", "2147483648" if param == name else "1")
        out.append(url)
    return out


def _allowed(route: APIRoute) -> frozenset[str]:
    if route.path in CALLER_ROLES:
        return CALLER_ROLES[route.path]
    roles = _roles_required(route.dependant)
    return ALL_ROLES if roles is None else frozenset(roles)


def _in_scope(login: str, role: str, own: str) -> bool:
    if role == "city_admin":
        return True
    if role == "applicant":
        return own == "own"
    if login == "bank":  # a bank sees the loans that chose it: the peer's loan is at another bank
        return own == "own"
    if login in DISTRICT_A_STAFF:
        return own in ("own", "peer")
    if role in ("training_provider", "carrier_operator"):  # their organisation's records (users.org_code)
        return own == "own"
    return False


def _everyone(_login: str, _role: str, _own: str) -> bool:
    return True


def _not_street(login: str, role: str, own: str) -> bool:
    return login != "street_clerk" and _in_scope(login, role, own)


# route → who gets a 200 on which ownership, where it is not :func:`_in_scope` (the route's roles still
# apply: a role outside them gets 403).
ROUTE_SCOPE: dict[str, Callable[[str, str, str], bool]] = {
    # product judgement: the class catalogue is open to every signed-in user (the roster is shown only to
    # the class's provider and the district's staff: the name scan below checks that)
    "/training/classes/{class_id}": _everyone,
    "/api/v1/training/classes/{class_id}": _everyone,
    # product judgement: the certificate check is public (anyone holding a certificate number may verify it)
    "/api/v1/training/certificates/{code}": _everyone,
    # product judgement: a published labour need is on the public board (applications, matches and the
    # management page stay with the business and its district's staff)
    "/jobs/posts/{post_no}": _everyone,
    "/api/v1/jobs/posts/{post_no}": _everyone,
    # the world's mentor holds no seat in any event (none is drawn): a mentor's own seat is checked in
    # tests/web/test_mentors_web.py; here every event is refused to the mentor
    "/mentor/events/{event_no}": lambda _login, _role, _own: False,
    # the outreach register is kept by the person's home town: a clerk with a street (城东街道) sees the
    # persons of their street only (the world's are of 龙兴镇); the district's other staff see the district's
    "/outreach/people/{person_id}": _not_street,
    "/api/v1/outreach/people/{person_id}": _not_street,
}


def _route_in_scope(route: str, login: str, role: str, own: str) -> bool:
    return ROUTE_SCOPE.get(route, _in_scope)(login, role, own)


def _texts(response: Any) -> str:
    """The text to scan: the body, or every cell of an xlsx download."""
    if response.content[:2] == b"PK":
        book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v
        )
    return response.text


# JSON keys that would carry a person's number or contact details: no API response has them.
PERSONAL_KEYS = ("id_number", "resident_id", "phone", "mobile", "bank_account", "card", "address")


# route → keys matching PERSONAL_KEYS that name an organisation's data, not a person's
NOT_PERSONAL: dict[str, frozenset[str]] = {
    "/api/v1/carriers/{carrier_no}": frozenset({"address"}),  # the carrier's (a business park's) address
    "/api/v1/services/windows": frozenset({"address"}),  # a public service window's office address
}


def _personal_keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        # a masked value ("phone_masked": 139****5678) is what a role without the permission sees; the
        # number scan checks it carries no full number; "has_phone" is a yes / no
        own = [
            k
            for k in value
            if any(p in k.lower() for p in PERSONAL_KEYS) and "masked" not in k and not k.startswith("has_")
        ]
        return own + [k for v in value.values() for k in _personal_keys(v)]
    if isinstance(value, list):
        return [k for v in value for k in _personal_keys(v)]
    return []


def _leaks(w: ScopeWorld, route: str, login: str, role: str, response: Any, sent: str = "") -> list[str]:
    """What ``response`` shows that ``login`` may not see (``sent``: what the caller typed, which a form
    may echo)."""
    text = _texts(response)
    purpose = PII_PURPOSE.get(route, frozenset())
    if "template" in route and route.endswith(".xlsx"):
        # An import template's example row is synthetic (a made-up 身份证号 / mobile in the documented
        # format, the same for everyone): not a person's data. Names and numbers of the world still count.
        purpose = frozenset(range(len(PII)))
    found = [
        hit.group(0)
        for i, pattern in enumerate(PII)
        if i not in purpose
        for hit in [pattern.search(text)]
        if hit
    ]
    if response.headers.get("content-type", "").startswith("application/json"):
        allowed = NOT_PERSONAL.get(route, frozenset())
        found += [f"personal field {k}" for k in _personal_keys(response.json()) if k not in allowed]
    for own, name in w.names.items():
        if _in_scope(login, role, own):
            continue
        marks = {"name": name}
        if role != "audit_admin":  # the audit log is city-wide: subjects by number, never names
            marks |= {"business": PEOPLE[own][1]}
            marks |= {kind: w.ids[kind][own] for kind in ("application_no", "loan_no")}
        found += [f"{what} of {own}" for what, mark in marks.items() if mark in text and mark not in sent]
    return found


@pytest.fixture(scope="module")
def sworld(migrated_engine, pii, tmp_path_factory):
    """One world per database for the whole module (building it is most of the time): every test below
    leaves it as it found it (each asserts that nothing changed), except the last steps some take after
    their checks (a legitimate loan on behalf, a parameter change, API tokens), which no later check
    depends on. The rows are removed afterwards, as ``db_engine`` does."""
    from tests.web.conftest import ring_json
    from xiangchuang.audit import audit_key
    from xiangchuang.config import Settings

    settings = Settings(
        data_dir=tmp_path_factory.mktemp("scope"),
        keyring=ring_json(pii.cipher.ring),
        rate_checkup="1000/60",
        rate_login="1000/60",
    )
    w = build(migrated_engine, pii, settings, audit_key(pii.cipher.ring))
    yield w
    w.world.close()
    empty_database(migrated_engine)


def test_get_routes_with_parameters_role_by_ownership(sworld, capsys):
    w = sworld
    routes = _param_routes(w.world.app, "GET")
    uncovered, unexpected = [], []
    rule_refusals_seen: set[tuple[str, str]] = set()
    covered = checks = 0
    for route in routes:
        urls = {own: _fill(route, w, own) for own in OWNERSHIPS}
        if urls["own"] is None:
            uncovered.append(route.path)
            continue
        covered += 1
        allowed = _allowed(route)
        scoped = urls["own"][1]
        for login in CALLERS:
            role = w.role(login)
            client = w.clients[login]
            for own in OWNERSHIPS if scoped else ("own",):
                url = urls[own][0]  # type: ignore[index]
                got = client.get(url, follow_redirects=False)
                checks += 1
                code = got.status_code
                if code >= 500:
                    unexpected.append((route.path, login, own, code, got.text[:200]))
                    continue
                if role not in allowed:
                    if code != 403:
                        unexpected.append((route.path, login, own, code, "role not allowed"))
                    continue
                if not scoped or _route_in_scope(route.path, login, role, own):
                    refused_by_rule = (route.path, role) in RULE_REFUSALS
                    if refused_by_rule and code == 403:
                        rule_refusals_seen.add((route.path, role))
                    elif code != 200:
                        unexpected.append((route.path, login, own, code, got.text[:200]))
                elif code == 200:
                    unexpected.append((route.path, login, own, code, "unexpected success"))
                elif code not in (403, 404):
                    unexpected.append((route.path, login, own, code, got.text[:200]))
                if code in (200, 403, 404):  # a refusal must not tell what it refused either
                    for leak in _leaks(w, route.path, login, role, got):
                        unexpected.append((route.path, login, own, "leak", leak))
            missing = _fill(route, w, "missing")
            if missing is not None:
                got = client.get(missing[0], follow_redirects=False)
                checks += 1
                # a route checking the caller itself may look the record up first: 404 tells nothing
                want = {403} if role not in allowed and route.path not in CALLER_ROLES else {403, 404}
                if got.status_code not in want:
                    unexpected.append((route.path, login, "missing", got.status_code, got.text[:200]))
            for huge in _huge_ids(route):  # past the id columns: a 404 like any missing row, not a 5xx
                got = client.get(huge, follow_redirects=False)
                checks += 1
                if got.status_code not in (403, 404):
                    unexpected.append((huge, login, got.status_code, got.text[:200]))
    with capsys.disabled():
        print(f"\nscope matrix (GET): {covered} routes, {checks} role × ownership checks")
    assert uncovered == [], f"routes with path parameters not in PARAMS: {uncovered}"
    assert covered >= 20  # the check itself must not become empty
    assert unexpected == []
    assert rule_refusals_seen == set(RULE_REFUSALS)  # the table holds no stale entry


def test_lists_without_parameters_show_only_what_is_in_scope(sworld):
    """Every GET route without path parameters (queues, lists, searches, my pages) × every role, in the
    world with objects of all three owners: no 5xx, and no 200 shows a number, name, business number,
    application or loan number of a person outside the caller's view."""
    w = sworld
    routes = [
        r
        for r in _walk(w.world.app.routes)
        if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path and "logout" not in r.path
    ]
    unexpected, shown = [], 0
    queries = {"/staff/registry": "?q=B-", "/api/v1/staff/queue": "?page_size=200"}
    for route in routes:
        for login in CALLERS:
            role = w.role(login)
            got = w.clients[login].get(route.path + queries.get(route.path, ""), follow_redirects=False)
            if got.status_code >= 500:
                unexpected.append((route.path, login, got.status_code, got.text[:200]))
            if got.status_code == 200:
                shown += 1
                unexpected += [(route.path, login, leak) for leak in _leaks(w, route.path, login, role, got)]
    print(f"\nscope matrix (lists): {len(routes)} routes × {len(CALLERS)} callers, {shown} pages scanned")
    assert shown > 100
    assert unexpected == []


def test_post_routes_with_parameters_refuse_roles_outside_require_role(sworld):
    """Every state-changing POST with path parameters refuses a role it does not name, whatever the
    object, and the objects it could touch are unchanged."""
    w = sworld
    before = _all_rows(w)
    unexpected, checked = [], 0
    for route in _param_routes(w.world.app, "POST"):
        roles = _roles_required(route.dependant)
        if roles is None:
            continue  # the loan API (caller checked in the route): see the ownership test below
        url = route.path
        for param in route.param_convertors:
            found = _filler(route, param)
            value = found[1](w, "own") if found else "1"
            url = url.replace("{" + param + "}", value)
        for login in CALLERS:
            if w.role(login) in roles:
                continue
            checked += 1
            got = w.clients[login].post(url, data={"action": "submit", "reason": "x"}, follow_redirects=False)
            if got.status_code != 403:
                unexpected.append((route.path, login, got.status_code))
    routes = {r.path for r in _param_routes(w.world.app, "POST")}
    print(f"\nscope matrix (POST, role): {len(routes)} routes, {checked} refusals checked")
    assert checked > 100
    assert unexpected == []
    after = _all_rows(w)
    assert [name for name in before if before[name] != after[name]] == []


def _snapshot(w: ScopeWorld) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for own in OWNERSHIPS:
        out[f"app.{own}"] = row_state(w.engine, APPLICATION, int(w.ids["application_id"][own]))
        out[f"loan.{own}"] = row_state(w.engine, LOAN, int(w.ids["loan_id"][own]))
    with w.engine.connect() as conn:
        for model in (Attachment, APPLICATION, Invitation, LOAN):
            out[model.__tablename__] = conn.execute(select(func.count()).select_from(model)).scalar_one()
        out["items"] = sorted(conn.execute(select(DisbursementItem.id, DisbursementItem.status)).all())
        out["changes"] = sorted(conn.execute(select(ParameterChange.id, ParameterChange.state)).all())
    return out


def test_post_with_wrong_ownership_or_district_changes_nothing(sworld):
    """Transitions, uploads, loan steps and batch steps on someone else's object: 403/404, nothing
    changes (row state and version, attachment count)."""
    w = sworld
    ids, c = w.ids, w.clients
    app, loan, no = ids["application_id"], ids["loan_id"], ids["loan_no"]
    fb = ids["finance_batch_id"]
    attempts: list[tuple[str, str, Callable[[], Any]]] = []

    def form(login: str, url: str, data: dict[str, Any] | None = None) -> None:
        sent = f"{url} {data}"
        attempts.append((login, sent, lambda: c[login].post(url, data=data or {}, follow_redirects=False)))

    def api(login: str, url: str, body: dict[str, Any]) -> None:
        attempts.append((login, url, lambda: c[login].post(url, json=body)))

    for own in ("peer", "far"):  # the signed-in applicant on another applicant's objects
        form("applicant", f"/my/applications/{app[own]}/act", {"action": "withdraw"})
        form("applicant", f"/my/applications/{app[own]}/edit", {"amount": "1", "description": "改"})
        api("applicant", f"/api/v1/applications/{app[own]}/actions", {"action": "withdraw"})
        form("applicant", f"/loans/{loan[own]}/act/withdraw")
        form("applicant", f"/loans/{loan[own]}/act/submit")
    attempts.append(
        (
            "applicant",
            "materials of peer",
            lambda: upload_all(c["applicant"], int(app["peer"]), REQUIRED),
        )
    )
    for login in ("window_clerk", "street_clerk", "district_reviewer", "district_finance", "city_admin"):
        # district A staff (and the city office, which may look but not act) on district B's application
        form(login, f"/staff/applications/{app['far']}/act", {"action": "accept"})
        form(login, f"/staff/applications/{app['far']}/act", {"action": "refuse", "reason": "不属于本辖区"})
        api(login, f"/api/v1/applications/{app['far']}/actions", {"action": "accept"})
    attempts.append(
        (
            "window_clerk",
            "materials of far",
            lambda: upload_all(c["window_clerk"], int(app["far"]), REQUIRED, base="/staff/applications"),
        )
    )
    for login in ("window_clerk", "district_reviewer", "guarantee_fund", "bank"):
        for action in ("accept", "pass_eligibility", "reject", "withdraw"):
            form(login, f"/loans/{loan['far']}/act/{action}")
    form("city_admin", f"/loans/{loan['peer']}/act/accept")
    api(
        "guarantee_fund",
        f"/api/v1/loans/{no['far']}/guarantee",
        {"guaranteed_amount_fen": 1, "counter_guarantee": "required"},
    )
    api("bank", f"/api/v1/loans/{no['far']}/overdue", {})
    api("bank", f"/api/v1/loans/{no['far']}/disburse", {})
    api("applicant", f"/api/v1/loans/{no['peer']}/disburse", {})
    form("district_finance", f"/finance/batches/{fb['far']}/run")
    form("district_finance", f"/finance/batches/{fb['far']}/confirm")
    # objects named in form fields rather than the path
    form("district_finance", "/finance/batches", {"ids": [app["far"], app["peer"]]})
    form(
        "window_clerk",
        "/staff/on-behalf",
        {"kind": "startup_subsidy", "business_no": "B-OTHER", "period": "2024"},
    )
    # a loan on behalf naming district B's business (the borrower's home district is A) or a business the
    # borrower did not found
    on_behalf = {
        "kind": "small_micro",
        "bank_code": "CQRCB",
        "amount": "50000",
        "term_months": "12",
        "purpose": "代办",
    }
    form(
        "window_clerk",
        "/loans/on-behalf",
        {**on_behalf, "borrower_person_no": "P-OTHER", "business_no": "B-OTHER"},
    )
    form(
        "window_clerk",
        "/loans/on-behalf",
        {**on_behalf, "borrower_person_no": "P-VET", "business_no": "B-ONLINE2"},
    )
    # four eyes: the city administrator who asked for a parameter change cannot approve it
    r = c["city_admin"].post(
        "/city/parameters/startup_subsidy.rate/changes",
        data={"value": "0.5", "since": "2099-01-01", "reason": "测试", "reference": "测试文件"},
        follow_redirects=False,
    )
    with w.engine.connect() as conn:
        change = conn.execute(select(ParameterChange.id)).scalar_one()
    assert r.status_code == 303, r.text
    form("city_admin", f"/city/changes/{change}/approve", {"note": "自己复核"})

    before = _snapshot(w)
    unexpected = []
    for login, url, call in attempts:
        got = call()
        if got.status_code not in (403, 404):
            unexpected.append((login, url, got.status_code, got.text[:200]))
        unexpected += [(login, url, leak) for leak in _leaks(w, url, login, w.role(login), got, sent=url)]
    # batch actions on district B's application: refused item by item
    for login in ("window_clerk", "street_clerk", "district_reviewer"):
        got = c[login].post("/staff/queue/batch", data={"ids": [app["far"]], "action": "accept"})
        if got.status_code >= 500 or (got.status_code == 200 and "成功" in got.text):
            unexpected.append((login, "batch accept far", got.status_code, got.text[:200]))
    # 免申即享 from district B's match run by district A's reviewer: nothing is created for B
    got = c["district_reviewer"].post(f"/staff/matches/{ids['run_id']['far']}/invite", follow_redirects=False)
    if got.status_code >= 500 or (got.status_code == 200 and "B-OTHER" in got.text):
        unexpected.append(("district_reviewer", "invite far run", got.status_code, got.text[:200]))
    print(f"\nscope matrix (POST, wrong owner / district): {len(attempts) + 4} attempts")
    assert len(attempts) >= 40
    assert unexpected == []
    assert _snapshot(w) == before
    # the rules above refuse only what is out of scope: the borrower's own business of district A passes
    legit = {**on_behalf, "borrower_person_no": "P-VET", "business_no": "B-VET"}
    assert c["window_clerk"].post("/loans/on-behalf", data=legit, follow_redirects=False).status_code == 303


def _token(w: ScopeWorld, owner_org: str, org_code: str, scopes: list[str]) -> str:
    import re

    form = {
        "name": f"{owner_org} 系统",
        "owner_org": owner_org,
        "org_name": f"机构{org_code}",
        "org_code": org_code,
        "district": "500101",
        "days": "30",
        "scopes": scopes,
    }
    r = w.clients["sys_admin"].post("/admin/tokens", data=form)
    assert r.status_code == 200, r.text
    found = re.search(r"<code>(xct_[^<]+)</code>", r.text)
    assert found
    return found.group(1)


def test_numbers_past_the_id_columns_are_refused_not_errors(sworld):
    """Ids and versions past a database integer, in the path, in form lists and in version fields: a
    4xx like any wrong number (PostgreSQL rejects the bound value itself), never a 5xx, nothing changes."""
    w = sworld
    c, app, loan = w.clients, w.ids["application_id"], w.ids["loan_id"]
    huge = "2147483648"
    before = _snapshot(w)
    calls = [
        ("window_clerk", "/staff/queue/batch", {"ids": [huge], "action": "accept"}, None),
        ("district_finance", "/finance/batches", {"ids": [huge]}, None),
        ("window_clerk", f"/staff/applications/{app['peer']}/act", {"action": "accept", "version": huge}, None),
        ("peer", f"/my/applications/{app['peer']}/act", {"action": "withdraw", "version": huge}, None),
        ("peer", f"/loans/{loan['peer']}/act/withdraw", {"version": huge}, None),
        ("window_clerk", f"/api/v1/applications/{app['peer']}/actions", None, {"action": "accept", "expected_version": int(huge)}),
        ("guarantee_fund", f"/api/v1/loans/{w.ids['loan_no']['own']}/guarantee", None,
         {"guaranteed_amount_fen": 1, "counter_guarantee": "required", "expected_version": int(huge)}),
        ("window_clerk", f"/staff/applications/{huge}/act", {"action": "accept"}, None),
        ("district_finance", f"/finance/batches/{huge}/run", {}, None),
    ]  # fmt: skip
    problems = []
    for login, url, data, body in calls:
        client = c[login]
        got = (
            client.post(url, json=body)
            if body is not None
            else client.post(url, data=data, follow_redirects=False)
        )
        if got.status_code >= 500 or got.status_code in (200, 201, 303):
            problems.append((login, url, got.status_code, got.text[:200]))
    assert problems == []
    assert _snapshot(w) == before


def test_bank_and_fund_tokens_by_ownership(sworld):
    """The bank's and the guarantee fund's systems (API tokens of district A): the bank's token reads the
    loans that chose it (own), not another bank's (peer) nor district B's; the fund reads district A's;
    neither acts on district B's loan, and nothing changes."""
    from tests.web.scope_world import BANK, FUND

    w = sworld
    tokens = {
        "bank": _token(w, "bank", BANK, ["loans:read", "loans:write"]),
        "guarantee_fund": _token(w, "guarantee_fund", FUND, ["loans:read", "guarantees:write"]),
    }
    before = _snapshot(w)
    unexpected = []
    with TestClient(w.world.app, base_url="http://testserver") as client:
        for login, token in tokens.items():
            h = {"authorization": f"Bearer {token}"}
            for own in OWNERSHIPS:
                got = client.get(f"/api/v1/loans/{w.ids['loan_no'][own]}", headers=h)
                want = {200} if _in_scope(login, login, own) else {403, 404}
                if got.status_code not in want:
                    unexpected.append((login, own, got.status_code))
                unexpected += [(login, own, leak) for leak in _leaks(w, "", login, login, got)]
            listed = client.get("/api/v1/loans", headers=h)
            assert listed.status_code == 200
            unexpected += [(login, "list", leak) for leak in _leaks(w, "", login, login, listed)]
            far = w.ids["loan_no"]["far"]
            for step, body in (
                ("guarantee", {"guaranteed_amount_fen": 1, "counter_guarantee": "required"}),
                ("overdue", {}),
                ("disburse", {}),
            ):
                got = client.post(f"/api/v1/loans/{far}/{step}", json=body, headers=h)
                if got.status_code not in (403, 404):
                    unexpected.append((login, step, got.status_code, got.text[:200]))
    assert unexpected == []
    assert _snapshot(w) == before


# tables a refused request may write to (the audit log of the refusal, the session's last use, the outbox)
_VOLATILE = ("audit", "session", "idempot", "outbox", "users", "login")


def _all_rows(w: ScopeWorld) -> dict[str, list[str]]:
    """Every row of every table but the volatile ones, as text (what a refused POST must leave as is)."""
    from xiangchuang.models import Base

    out = {}
    with w.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if any(v in table.name for v in _VOLATILE):
                continue
            out[table.name] = sorted(str(tuple(r)) for r in conn.execute(select(table)).all())
    return out


def test_service_posts_on_someone_elses_records_change_nothing(sworld):
    """The service packages' state-changing routes tried by an applicant on another applicant's record, by
    an organisation on another organisation's, by district A's staff on district B's: 403/404, and no row
    of any table changes."""
    w = sworld
    ids, c = w.ids, w.clients
    cls, enr, car = ids["class_id"], ids["enrolment_id"], ids["carrier_no"]
    post, seeker, req = ids["post_no"], ids["seeker_no"], ids["request_no"]
    prob, meet, person = ids["problem_no"], ids["meeting_no"], ids["outreach_person_id"]
    attempts: list[tuple[str, str, Callable[[], Any]]] = []

    def form(login: str, url: str, data: dict[str, Any] | None = None) -> None:
        attempts.append((login, url, lambda: c[login].post(url, data=data or {}, follow_redirects=False)))

    def api(login: str, method: str, url: str, body: dict[str, Any]) -> None:
        attempts.append((login, f"{method} {url}", lambda: c[login].request(method, url, json=body)))

    today = "2025-03-03"
    for own in ("peer", "far"):
        # training: the provider on another provider's class, the applicant on another's enrolment
        form("training_provider", f"/training/classes/{cls[own]}/state", {"to": "cancelled"})
        form("training_provider", f"/training/classes/{cls[own]}/complete", {"completion_date": today})
        form("training_provider", f"/training/classes/{cls[own]}/enrol-person", {"person_no": "P-VET"})
        api("training_provider", "POST", f"/api/v1/training/classes/{cls[own]}/completion", {})
        form("applicant", f"/training/enrolments/{enr[own]}/withdraw")
        api("applicant", "POST", f"/api/v1/training/enrolments/{enr[own]}/withdraw", {})
        # carriers: the operator on another operator's carrier
        form("carrier_operator", f"/carriers/{car[own]}/bills", {"month": "2025-02"})
        form("carrier_operator", f"/carriers/{car[own]}/schedule", {"year": "1", "rent": "0"})
        api("carrier_operator", "POST", f"/api/v1/carriers/{car[own]}/bills", {"month": "2025-02"})
        api("carrier_operator", "POST", f"/api/v1/carriers/{car[own]}/workstations", {"count": 1})
        # jobs: the applicant on another business's post and seeker record
        form("applicant", f"/jobs/manage/{post[own]}/close")
        api("applicant", "POST", f"/api/v1/jobs/posts/{post[own]}/close", {})
        api("applicant", "POST", f"/api/v1/jobs/seekers/{seeker[own]}/withdraw", {})
        # services: the applicant on another business's request and problem
        form("applicant", f"/services/requests/{req[own]}/cancel")
        api("applicant", "POST", f"/api/v1/services/requests/{req[own]}/cancel", {})
        api("applicant", "POST", f"/api/v1/services/requests/{req[own]}/rating", {"rating": 1})
        api("applicant", "POST", f"/api/v1/services/problems/{prob[own]}/confirmation", {"accept": False})
    # district A's staff on district B's records
    for login in ("window_clerk", "district_reviewer"):
        form(login, f"/training/classes/{cls['far']}/state", {"to": "cancelled"})
        form(login, f"/training/classes/{cls['far']}/complete", {"completion_date": today})
        form(login, f"/carriers/{car['far']}/edit", {"name": "改名", "address": "改址", "capacity": "9"})
        form(login, f"/carriers/{car['far']}/level", {"level": "national", "on": today})
        form(
            login,
            f"/carriers/{car['far']}/ratings",
            {"year": "2024", "rating": "C", "score": "10", "evidence": "x"},
        )
        attempts.append(
            (
                login,
                "PUT schedule far",
                lambda login=login: c[login].put(
                    f"/api/v1/carriers/{car['far']}/schedule",
                    json=[{"year": 1, "rent": 0, "property": 0, "utilities": 0}],
                ),
            )
        )
        api(login, "POST", f"/api/v1/jobs/posts/{post['far']}/close", {})
        api(login, "POST", f"/api/v1/jobs/posts/{post['far']}/verify", {"decision": "reject", "reason": "x"})
        form(login, f"/jobs/staff/queue/{post['far']}", {"decision": "reject", "reason": "x"})
        api(login, "POST", f"/api/v1/jobs/seekers/{seeker['far']}/withdraw", {})
        api(login, "POST", f"/api/v1/services/requests/{req['far']}/accept", {})
        api(login, "POST", f"/api/v1/services/requests/{req['far']}/reject", {"text": "x"})
        form(login, f"/services/requests/{req['far']}/reject", {"reason": "x"})
        api(login, "POST", f"/api/v1/services/problems/{prob['far']}/progress", {"note": "x"})
        api(login, "POST", f"/api/v1/services/problems/{prob['far']}/resolve", {"text": "x"})
        form(login, f"/services/problems/{prob['far']}/resolve", {"resolution": "x"})
        api(login, "POST", f"/api/v1/services/meetings/{meet['far']}/tasks", {"department": "finance", "owner": "x", "description": "x"})  # fmt: skip
        api(login, "POST", f"/api/v1/outreach/people/{person['far']}/reveal", {})
        api(login, "POST", f"/api/v1/outreach/people/{person['far']}/withdraw-consent", {"on": today})
        form(login, f"/outreach/people/{person['far']}/reveal")
        form(login, f"/outreach/people/{person['far']}/withdraw-consent")
    # the clerk with a street on a person of another town of the district
    form("street_clerk", f"/outreach/people/{person['own']}/withdraw-consent")
    api("street_clerk", "POST", f"/api/v1/outreach/people/{person['own']}/reveal", {})

    before = _all_rows(w)
    unexpected = []
    for login, url, call in attempts:
        got = call()
        if got.status_code not in (403, 404):
            unexpected.append((login, url, got.status_code, got.text[:200]))
        unexpected += [(login, url, leak) for leak in _leaks(w, url, login, w.role(login), got, sent=url)]
    after = _all_rows(w)
    changed = [name for name in before if before[name] != after[name]]
    print(f"\nscope matrix (POST, service packages, wrong owner / district): {len(attempts)} attempts")
    assert len(attempts) >= 75
    assert unexpected == []
    assert changed == []
