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

State-changing routes (POST / PUT / PATCH / DELETE) with path parameters: every one refuses roles outside
``require_role``. Every one is also tried on someone else's record (:func:`_core_attempts`: the
application transitions, uploads, loan and batch steps; :func:`_service_attempts`: training, carriers,
jobs, services, outreach, community, mentors, statistics) by an applicant / organisation on another's
record and by district A's staff on district B's (and, for routes naming two records, with the caller's
own record in the path and another's beside it): 403/404, no personal data in the answer, and nothing
changes — (state, version) and counts for the applications and loans, no row of any table (but the audit
log, sessions, users and the outbox) for the rest. The completeness test maps each attempt to the route the app dispatches it to and fails on a route not
tried and not exempted with its reason in :data:`NOT_SOMEONE_ELSES`, or not tried by a side its
``require_role`` lets in (an applicant / organisation role, a district staff role).

The world is built once per database for the module (it is most of the run time).

Also: every list page (routes without parameters) × role in the same world shows nothing out of scope;
the bank's and the guarantee fund's API tokens; ids past the database's integer columns (404/422, not
503)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Attempt:
    """One state-changing request on a record outside the caller's ownership or district."""

    login: str
    method: str
    url: str  # the path requested (the completeness check maps it to the app's route)
    sent: str  # what the caller typed (a refusal may echo it)
    call: Callable[[], Any]


class Attempts(list[Attempt]):
    def __init__(self, w: ScopeWorld) -> None:
        super().__init__()
        self.c = w.clients

    def form(self, login: str, url: str, data: dict[str, Any] | None = None) -> None:
        c = self.c
        self.append(Attempt(login, "POST", url, f"{url} {data}", lambda: c[login].post(url, data=data or {}, follow_redirects=False)))  # fmt: skip

    def api(self, login: str, method: str, url: str, body: Any) -> None:
        c = self.c
        self.append(Attempt(login, method, url, url, lambda: c[login].request(method, url, json=body)))

    def upload(self, login: str, url: str, data: dict[str, Any] | None = None, name: str = "file") -> None:
        c = self.c
        files = {name: ("x.xlsx", b"PK\x03\x04 not a workbook", "application/octet-stream")}
        self.append(Attempt(login, "POST", url, f"{url} {data}", lambda: c[login].post(url, data=data or {}, files=files, follow_redirects=False)))  # fmt: skip

    def call(self, login: str, url: str, call: Callable[[], Any]) -> None:
        self.append(Attempt(login, "POST", url, url, call))


def _said(response: Any) -> str:
    """What a response says (its error message, without the page around it)."""
    import re

    text = response.text
    found = re.search(r'class="(?:error|flash[^"]*|alert[^"]*)"[^>]*>(.*?)</', text, re.S)
    return (found.group(1) if found else re.sub(r"<[^>]+>|\s+", " ", text))[:160]


def _core_attempts(w: ScopeWorld, change: str) -> Attempts:
    """Transitions, uploads, loan steps and batch steps on someone else's object (``change``: the
    parameter change the city administrator asked for, which they may not approve themselves)."""
    ids, c = w.ids, w.clients
    app, loan, no = ids["application_id"], ids["loan_id"], ids["loan_no"]
    fb = ids["finance_batch_id"]
    a = Attempts(w)
    for own in ("peer", "far"):  # the signed-in applicant on another applicant's objects
        a.form("applicant", f"/my/applications/{app[own]}/act", {"action": "withdraw"})
        a.form("applicant", f"/my/applications/{app[own]}/edit", {"amount": "1", "description": "改"})
        a.api("applicant", "POST", f"/api/v1/applications/{app[own]}/actions", {"action": "withdraw"})
        a.form("applicant", f"/loans/{loan[own]}/act/withdraw")
        a.form("applicant", f"/loans/{loan[own]}/act/submit")
    a.call(
        "applicant",
        f"/my/applications/{app['peer']}/materials",
        lambda: upload_all(c["applicant"], int(app["peer"]), REQUIRED),
    )
    for login in ("window_clerk", "street_clerk", "district_reviewer", "district_finance", "city_admin"):
        # district A staff (and the city office, which may look but not act) on district B's application
        a.form(login, f"/staff/applications/{app['far']}/act", {"action": "accept"})
        a.form(login, f"/staff/applications/{app['far']}/act", {"action": "refuse", "reason": "不属于本辖区"})
        a.api(login, "POST", f"/api/v1/applications/{app['far']}/actions", {"action": "accept"})
    a.call(
        "window_clerk",
        f"/staff/applications/{app['far']}/materials",
        lambda: upload_all(c["window_clerk"], int(app["far"]), REQUIRED, base="/staff/applications"),
    )
    for login in ("window_clerk", "district_reviewer", "guarantee_fund", "bank"):
        for action in ("accept", "pass_eligibility", "reject", "withdraw"):
            a.form(login, f"/loans/{loan['far']}/act/{action}")
    a.form("city_admin", f"/loans/{loan['peer']}/act/accept")
    a.api(
        "guarantee_fund",
        "POST",
        f"/api/v1/loans/{no['far']}/guarantee",
        {"guaranteed_amount_fen": 1, "counter_guarantee": "required"},
    )
    contract = {
        "contract_no": "HT-1", "amount_fen": 5_000_000, "rate_bp": 300, "contract_date": "2025-03-03",
        "start_date": "2025-03-03", "term_months": 12, "repayment_method": "equal_installment",
    }  # fmt: skip
    repayment = {"repayment_ref": "R-1", "paid_on": "2025-03-03", "principal_fen": 1, "interest_fen": 1}
    for own in ("peer", "far"):  # the peer's loan chose another bank
        a.api("bank", "POST", f"/api/v1/loans/{no[own]}/overdue", {})
        a.api("bank", "POST", f"/api/v1/loans/{no[own]}/disburse", {})
        a.api("bank", "POST", f"/api/v1/loans/{no[own]}/contract", contract)
        a.api("bank", "POST", f"/api/v1/loans/{no[own]}/repayments", repayment)
    a.api("applicant", "POST", f"/api/v1/loans/{no['peer']}/disburse", {})
    a.form("district_finance", f"/finance/batches/{fb['far']}/run")
    a.form("district_finance", f"/finance/batches/{fb['far']}/confirm")
    # objects named in form fields rather than the path
    a.form("district_finance", "/finance/batches", {"ids": [app["far"], app["peer"]]})
    a.form(
        "window_clerk",
        "/staff/on-behalf",
        {"kind": "startup_subsidy", "business_no": "B-OTHER", "period": "2024"},
    )
    # a loan on behalf naming district B's business (the borrower's home district is A) or a business the
    # borrower did not found
    a.form("window_clerk", "/loans/on-behalf", {**ON_BEHALF, "borrower_person_no": "P-OTHER", "business_no": "B-OTHER"})  # fmt: skip
    a.form("window_clerk", "/loans/on-behalf", {**ON_BEHALF, "borrower_person_no": "P-VET", "business_no": "B-ONLINE2"})  # fmt: skip
    # four eyes: the city administrator who asked for a parameter change cannot approve it
    a.form("city_admin", f"/city/changes/{change}/approve", {"note": "自己复核"})
    # 免申即享 from district B's match run by district A's reviewer: nothing is created for B (the page
    # answers 200 with the refusal, checked in the test)
    return a


ON_BEHALF = {
    "kind": "small_micro",
    "bank_code": "CQRCB",
    "amount": "50000",
    "term_months": "12",
    "purpose": "代办",
}


def test_post_with_wrong_ownership_or_district_changes_nothing(sworld):
    """Transitions, uploads, loan steps and batch steps on someone else's object: 403/404, nothing
    changes (row state and version, attachment count)."""
    w = sworld
    ids, c = w.ids, w.clients
    app = ids["application_id"]
    r = c["city_admin"].post(
        "/city/parameters/startup_subsidy.rate/changes",
        data={"value": "0.5", "since": "2099-01-01", "reason": "测试", "reference": "测试文件"},
        follow_redirects=False,
    )
    with w.engine.connect() as conn:
        change = conn.execute(select(ParameterChange.id)).scalar_one()
    assert r.status_code == 303, r.text
    attempts = _core_attempts(w, str(change))

    before = _snapshot(w)
    unexpected = []
    for t in attempts:
        got = t.call()
        if got.status_code not in (403, 404):
            unexpected.append((t.login, t.sent, got.status_code, got.text[:200]))
        unexpected += [(t.login, t.sent, leak) for leak in _leaks(w, t.url, t.login, w.role(t.login), got, sent=t.sent)]  # fmt: skip
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
    legit = {**ON_BEHALF, "borrower_person_no": "P-VET", "business_no": "B-VET"}
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


TODAY = "2025-03-03"
# the district A accounts that act for the district (the matrix's "district A staff" tried on district B)
DISTRICT_ACTORS = ("window_clerk", "district_reviewer")


def _service_attempts(w: ScopeWorld) -> Attempts:
    """The service packages' state changes on someone else's record: an applicant on another applicant's,
    an organisation (training provider, carrier operator, mentor) on another organisation's or an event it
    holds no seat in, district A's staff on district B's."""
    ids = w.ids
    cls, enr, car = ids["class_id"], ids["enrolment_id"], ids["carrier_no"]
    post, seeker, req = ids["post_no"], ids["seeker_no"], ids["request_no"]
    prob, meet, person = ids["problem_no"], ids["meeting_no"], ids["outreach_person_id"]
    ten, alloc, award = ids["tenancy_id"], ids["allocation_no"], ids["award_id"]
    claim, provider = ids["claim_id"], ids["provider_id"]
    case, ref, nom, event = ids["case_no"], ids["referral_no"], ids["nomination_no"], ids["event_no"]
    talent, family = ids["talent_id"], ids["family_request_id"]
    place, project, alert = ids["place_code"], ids["project_no"], ids["alert_id"]
    job_app, onjob = ids["job_application_id"], ids["onjob_training_no"]
    a = Attempts(w)
    form, api, upload = a.form, a.api, a.upload
    today = TODAY
    tenant = {
        "business_no": "B-VET",
        "start": today,
        "rent_fen": 0,
        "property_fee_fen": 0,
        "utilities_fen": 0,
    }
    tenant_form = {"business_no": "B-VET", "start": today, "rent": "0", "property_fee": "0", "utilities": "0"}
    job_post = {
        "title": "改", "trade": "crafts", "skills": ["bamboo_weaving"], "positions": 1, "wage_min_yuan": 1,
        "wage_max_yuan": 2, "town": "龙驹镇", "start_date": "2025-04-01", "contract_kind": "fixed_term",
        "contract_months": 12,
    }  # fmt: skip
    for own in ("peer", "far"):
        # training: the provider on another provider's class and claims, the applicant on another's enrolment
        tp = "training_provider"
        form(tp, f"/training/classes/{cls[own]}/state", {"to": "cancelled"})
        form(tp, f"/training/classes/{cls[own]}/complete", {"completion_date": today})
        form(tp, f"/training/classes/{cls[own]}/enrol-person", {"person_no": "P-VET"})
        form(tp, f"/training/classes/{cls[own]}/attendance", {"session_no": "1", "session_date": today})
        upload(tp, f"/training/classes/{cls[own]}/import/enrolments")
        upload(tp, f"/training/classes/{cls[own]}/import/attendance")
        form(tp, f"/training/classes/{cls[own]}/claims")
        form(tp, f"/training/classes/{cls[own]}/top-up")
        form(tp, f"/training/enrolments/{enr[own]}/withdraw")
        upload(tp, f"/training/claims/{claim[own]}/materials", {"material": "id_card"})
        form(tp, f"/training/claims/{claim[own]}/submit")
        api(tp, "POST", f"/api/v1/training/classes/{cls[own]}/completion", {})
        api(tp, "POST", f"/api/v1/training/classes/{cls[own]}/enrolments", {"person_no": "P-VET"})
        api(tp, "POST", f"/api/v1/training/classes/{cls[own]}/attendance", {"session_no": 1, "session_date": today, "present": {}})  # fmt: skip
        api(tp, "POST", f"/api/v1/training/classes/{cls[own]}/claims", {})
        api(tp, "POST", f"/api/v1/training/classes/{cls[own]}/top-up", {})
        api(tp, "POST", f"/api/v1/training/enrolments/{enr[own]}/withdraw", {})
        upload(tp, f"/api/v1/training/claims/{claim[own]}/materials", {"material": "id_card"})
        api(tp, "POST", f"/api/v1/training/claims/{claim[own]}/submit", {})
        form("applicant", f"/training/enrolments/{enr[own]}/withdraw")
        api("applicant", "POST", f"/api/v1/training/enrolments/{enr[own]}/withdraw", {})
        # carriers: the operator on another operator's carrier, tenancy, allocation and award application
        op = "carrier_operator"
        form(op, f"/carriers/{car[own]}/bills", {"month": "2025-02"})
        form(op, f"/carriers/{car[own]}/schedule", {"rent": ["0"], "property_fee": ["0"], "utilities": ["0"]})
        form(op, f"/carriers/{car[own]}/tenants", tenant_form)
        upload(op, f"/carriers/{car[own]}/tenants/import")
        form(op, f"/carriers/{car[own]}/free-workstations", {"person_no": "P-VET", "start": today})
        form(op, f"/carriers/{car[own]}/tenants/{ten[own]}/end", {"on": today})
        form(op, f"/carriers/{car[own]}/allocations/{alloc[own]}/renew")
        form(op, f"/carriers/{car[own]}/allocations/{alloc[own]}/end", {"on": today})
        form(op, f"/carriers/{car[own]}/awards", {"year": "2024"})
        upload(op, f"/carriers/{car[own]}/awards/{award[own]}/materials", {"material": "x"})
        form(op, f"/carriers/{car[own]}/awards/{award[own]}/submit")
        # the operator's own carrier in the path, another's tenancy / allocation / award in it
        form(op, f"/carriers/{car['own']}/tenants/{ten[own]}/end", {"on": today})
        form(op, f"/carriers/{car['own']}/allocations/{alloc[own]}/renew")
        form(op, f"/carriers/{car['own']}/allocations/{alloc[own]}/end", {"on": today})
        upload(op, f"/carriers/{car['own']}/awards/{award[own]}/materials", {"material": "x"})
        form(op, f"/carriers/{car['own']}/awards/{award[own]}/submit")
        api(op, "POST", f"/api/v1/carriers/{car[own]}/bills", {"month": "2025-02"})
        api(op, "POST", f"/api/v1/carriers/{car[own]}/workstations", {"count": 1})
        api(op, "PUT", f"/api/v1/carriers/{car[own]}/schedule", [{"year": 1, "rent": 0, "property": 0, "utilities": 0}])  # fmt: skip
        api(op, "POST", f"/api/v1/carriers/{car[own]}/tenants", tenant)
        upload(op, f"/api/v1/carriers/{car[own]}/tenants/import")
        api(op, "POST", f"/api/v1/carriers/{car[own]}/tenants/{ten[own]}/end", {"on": today})
        api(op, "POST", f"/api/v1/carriers/{car['own']}/tenants/{ten[own]}/end", {"on": today})
        api(
            op,
            "POST",
            f"/api/v1/carriers/{car[own]}/free-workstations",
            {"person_no": "P-VET", "start": today},
        )
        api(op, "POST", f"/api/v1/carriers/allocations/{alloc[own]}/renew", {})
        api(op, "POST", f"/api/v1/carriers/allocations/{alloc[own]}/end", {"on": today})
        api(op, "POST", f"/api/v1/carriers/{car[own]}/awards", {"year": 2024})
        upload(op, f"/api/v1/carriers/awards/{award[own]}/materials", {"material": "x"})
        api(op, "POST", f"/api/v1/carriers/awards/{award[own]}/submit", {})
        # jobs: the applicant on another business's post, seeker record and job application
        form("applicant", f"/jobs/manage/{post[own]}/close")
        form(
            "applicant",
            f"/jobs/manage/{post[own]}/hire",
            {"application_id": job_app[own], "hire_date": today},
        )
        api("applicant", "PUT", f"/api/v1/jobs/posts/{post[own]}", job_post)
        api("applicant", "POST", f"/api/v1/jobs/posts/{post[own]}/close", {})
        api("applicant", "POST", f"/api/v1/jobs/seekers/{seeker[own]}/withdraw", {})
        api("applicant", "POST", f"/api/v1/jobs/applications/{job_app[own]}/hire", {"hire_date": today})
        api("applicant", "POST", f"/api/v1/jobs/applications/{job_app[own]}/decline", {})
        api("applicant", "POST", f"/api/v1/jobs/trainings/{onjob[own]}/apply", {})
        form("applicant", f"/jobs/trainings/{onjob[own]}/apply")
        # services: the applicant on another business's request and problem
        form("applicant", f"/services/requests/{req[own]}/cancel")
        form("applicant", f"/services/requests/{req[own]}/rate", {"rating": "1"})
        form("applicant", f"/services/problems/{prob[own]}/confirm", {"accept": "0"})
        api("applicant", "POST", f"/api/v1/services/requests/{req[own]}/cancel", {})
        api("applicant", "POST", f"/api/v1/services/requests/{req[own]}/rating", {"rating": 1})
        api("applicant", "POST", f"/api/v1/services/problems/{prob[own]}/confirmation", {"accept": False})
        # community: the founder of another business's closure case and nomination
        api("applicant", "POST", f"/api/v1/community/closures/{case[own]}/consent", {"kinds": ["employment_service"], "consent_on": today})  # fmt: skip
        api("applicant", "POST", f"/api/v1/community/closures/{case[own]}/decline", {"on": today})
        api("applicant", "POST", f"/api/v1/community/closures/{case[own]}/withdraw", {"on": today})
        api(
            "applicant", "POST", f"/api/v1/community/nominations/{nom[own]}/consent", {"publish_name": "full"}
        )
        api("applicant", "POST", f"/api/v1/community/nominations/{nom[own]}/withdraw-consent", {})
        form("applicant", "/me/community/consent", {"case_no": case[own], "kinds": ["employment_service"]})
        form("applicant", "/me/community/decline", {"case_no": case[own]})
        form(
            "applicant", "/me/community/publish-consent", {"nomination_no": nom[own], "publish_name": "full"}
        )
        # mentors: the world's mentor holds no seat in any event
        form("mentor", f"/mentor/events/{event[own]}/respond", {"answer": "accept"})
        form("mentor", f"/mentor/events/{event[own]}/scores", {"project_no": f"XM-{own}", "score": "90"})
        api("mentor", "POST", f"/api/v1/mentors/me/assignments/{event[own]}/answer", {"answer": "accept"})
        api("mentor", "POST", f"/api/v1/community/reviews/{event[own]}/scores", {"project_no": f"XM-{own}", "score": 90})  # fmt: skip
    # district A's staff on district B's records
    for login in DISTRICT_ACTORS:
        far = "far"
        form(login, f"/training/classes/{cls[far]}/state", {"to": "cancelled"})
        form(login, f"/training/classes/{cls[far]}/complete", {"completion_date": today})
        form(login, f"/training/classes/{cls[far]}/enrol-person", {"person_no": "P-VET"})
        form(login, f"/training/classes/{cls[far]}/attendance", {"session_no": "1", "session_date": today})
        upload(login, f"/training/classes/{cls[far]}/import/enrolments")
        form(login, f"/training/enrolments/{enr[far]}/withdraw")
        form(login, f"/training/staff/providers/{provider[far]}/accreditations", {"accreditation_no": "认X", "valid_from": today, "valid_until": "2026-03-03", "course_kinds": ["syb"]})  # fmt: skip
        api(login, "POST", f"/api/v1/training/classes/{cls[far]}/enrolments", {"person_no": "P-VET"})
        api(login, "POST", f"/api/v1/training/classes/{cls[far]}/attendance", {"session_no": 1, "session_date": today, "present": {}})  # fmt: skip
        api(login, "POST", f"/api/v1/training/classes/{cls[far]}/completion", {})
        api(login, "POST", f"/api/v1/training/enrolments/{enr[far]}/withdraw", {})
        api(login, "POST", f"/api/v1/training/providers/{provider[far]}/accreditations", {"accreditation_no": "认X", "course_kinds": ["syb"], "valid_from": today, "valid_until": "2026-03-03"})  # fmt: skip
        form(login, f"/carriers/{car[far]}/edit", {"name": "改名", "address": "改址", "capacity": "9"})
        form(login, f"/carriers/{car[far]}/level", {"level": "national", "on": today})
        form(
            login,
            f"/carriers/{car[far]}/ratings",
            {"year": "2024", "rating": "C", "score": "10", "evidence": "x"},
        )
        form(login, f"/carriers/{car[far]}/bills", {"month": "2025-02"})
        form(
            login,
            f"/carriers/{car[far]}/schedule",
            {"rent": ["0"], "property_fee": ["0"], "utilities": ["0"]},
        )
        form(login, f"/carriers/{car[far]}/tenants", tenant_form)
        upload(login, f"/carriers/{car[far]}/tenants/import")
        form(login, f"/carriers/{car[far]}/free-workstations", {"person_no": "P-VET", "start": today})
        form(login, f"/carriers/{car[far]}/tenants/{ten[far]}/end", {"on": today})
        form(login, f"/carriers/{car[far]}/allocations/{alloc[far]}/renew")
        form(login, f"/carriers/{car[far]}/allocations/{alloc[far]}/end", {"on": today})
        form(login, f"/carriers/{car['own']}/allocations/{alloc[far]}/end", {"on": today})
        api(login, "PUT", f"/api/v1/carriers/{car[far]}", {"name": "改名", "address": "改址", "capacity": 9})
        api(login, "PUT", f"/api/v1/carriers/{car[far]}/schedule", [{"year": 1, "rent": 0, "property": 0, "utilities": 0}])  # fmt: skip
        api(login, "POST", f"/api/v1/carriers/{car[far]}/level", {"level": "national", "on": today})
        api(login, "POST", f"/api/v1/carriers/{car[far]}/workstations", {"count": 1})
        api(login, "POST", f"/api/v1/carriers/{car[far]}/tenants", tenant)
        upload(login, f"/api/v1/carriers/{car[far]}/tenants/import")
        api(login, "POST", f"/api/v1/carriers/{car[far]}/tenants/{ten[far]}/end", {"on": today})
        api(login, "POST", f"/api/v1/carriers/{car[far]}/bills", {"month": "2025-02"})
        api(
            login,
            "POST",
            f"/api/v1/carriers/{car[far]}/free-workstations",
            {"person_no": "P-VET", "start": today},
        )
        api(login, "POST", f"/api/v1/carriers/allocations/{alloc[far]}/renew", {})
        api(login, "POST", f"/api/v1/carriers/allocations/{alloc[far]}/end", {"on": today})
        api(
            login,
            "POST",
            f"/api/v1/carriers/{car[far]}/ratings",
            {"year": 2024, "rating": "C", "evidence": "x"},
        )
        api(login, "POST", f"/api/v1/jobs/posts/{post[far]}/close", {})
        api(login, "POST", f"/api/v1/jobs/posts/{post[far]}/verify", {"decision": "reject", "reason": "x"})
        api(login, "PUT", f"/api/v1/jobs/posts/{post[far]}", job_post)
        api(login, "POST", f"/api/v1/jobs/seekers/{seeker[far]}/withdraw", {})
        api(login, "POST", f"/api/v1/jobs/applications/{job_app[far]}/hire", {"hire_date": today})
        api(login, "POST", f"/api/v1/jobs/applications/{job_app[far]}/decline", {})
        form(login, f"/jobs/staff/queue/{post[far]}", {"decision": "reject", "reason": "x"})
        form(login, f"/jobs/manage/{post[far]}/close")
        form(login, f"/jobs/manage/{post[far]}/hire", {"application_id": job_app[far], "hire_date": today})
        form(login, f"/jobs/staff/seekers/{seeker[far]}/apply", {"post_no": post[far]})
        api(login, "POST", f"/api/v1/jobs/trainings/{onjob[far]}/apply", {})
        form(login, f"/jobs/trainings/{onjob[far]}/apply")
        api(login, "POST", f"/api/v1/services/requests/{req[far]}/accept", {})
        api(login, "POST", f"/api/v1/services/requests/{req[far]}/complete", {"text": "x"})
        api(login, "POST", f"/api/v1/services/requests/{req[far]}/reject", {"text": "x"})
        form(login, f"/services/requests/{req[far]}/reject", {"reason": "x"})
        api(login, "POST", f"/api/v1/services/problems/{prob[far]}/progress", {"note": "x"})
        api(login, "POST", f"/api/v1/services/problems/{prob[far]}/resolve", {"text": "x"})
        form(login, f"/services/problems/{prob[far]}/resolve", {"resolution": "x"})
        api(login, "POST", f"/api/v1/services/meetings/{meet[far]}/tasks", {"department": "finance", "owner": "x", "description": "x"})  # fmt: skip
        form(login, f"/services/meetings/{meet[far]}/tasks", {"department": "finance", "owner": "x", "description": "x"})  # fmt: skip
        api(login, "POST", f"/api/v1/services/officials/{ids['official_no'][far]}/assignments", {"business_no": "B-OTHER"})  # fmt: skip
        api(login, "POST", f"/api/v1/services/assignments/{ids['assignment_id'][far]}/end", {"text": "x"})
        form(login, f"/services/assignments/{ids['assignment_id'][far]}/end", {"reason": "x"})
        api(login, "POST", f"/api/v1/services/tasks/{ids['task_no'][far]}/done", {"text": "x"})
        form(login, f"/services/tasks/{ids['task_no'][far]}/done", {"note": "x"})
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/reveal", {})
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/withdraw-consent", {"on": today})
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/renew-consent", {"on": today, "consent_scope": ["phone"]})  # fmt: skip
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/contacts", {"contacted_on": today, "method": "phone", "answer": "interested"})  # fmt: skip
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/return", {"returned_on": today})
        api(login, "POST", f"/api/v1/outreach/people/{person[far]}/ventures", {"business_no": "B-OTHER"})
        api(login, "POST", f"/api/v1/outreach/introduced/{talent[far]}/decision", {"decision": "refused", "note": "x"})  # fmt: skip
        api(login, "POST", f"/api/v1/outreach/family-requests/{family[far]}/accept", {})
        api(login, "POST", f"/api/v1/outreach/family-requests/{family[far]}/answer", {"answer": "x"})
        form(login, f"/outreach/people/{person[far]}/reveal")
        form(login, f"/outreach/people/{person[far]}/withdraw-consent")
        form(login, f"/outreach/introduced/{talent[far]}/decision", {"decision": "refused", "note": "x"})
        form(login, f"/outreach/family/{family[far]}/accept")
        api(login, "POST", f"/api/v1/community/closures/{case[far]}/consent", {"kinds": ["employment_service"], "consent_on": today})  # fmt: skip
        api(login, "POST", f"/api/v1/community/closures/{case[far]}/decline", {"on": today})
        api(login, "POST", f"/api/v1/community/closures/{case[far]}/withdraw", {"on": today})
        referral = {"kind": "employment_assistance", "agency": "x", "owner": "x", "referred_on": today}
        api(login, "POST", f"/api/v1/community/closures/{case[far]}/referrals", referral)
        api(login, "POST", f"/api/v1/community/referrals/{ref[far]}/followups", {"on": today, "note": "x"})
        api(
            login,
            "POST",
            f"/api/v1/community/referrals/{ref[far]}/outcome",
            {"outcome": "employed", "on": today},
        )
        api(login, "POST", f"/api/v1/community/projects/{project[far]}/reach", {"business_no": "B-VET", "reached_on": today})  # fmt: skip
        form(login, f"/community/closures/{case[far]}/decline", {"on": today})
        form(login, f"/community/closures/{case[far]}/refer", {**referral, "next_followup_on": ""})
        # district A's case in the path, district B's referral in the form
        form(login, f"/community/closures/{case['own']}/followup", {"referral_no": ref[far], "on": today, "note": "x"})  # fmt: skip
        form(login, f"/community/closures/{case['own']}/outcome", {"referral_no": ref[far], "outcome": "employed", "on": today})  # fmt: skip
        form(login, "/community/places/reach", {"project_no": project[far], "business_no": "B-VET", "reached_on": today})  # fmt: skip
        form(
            login,
            "/community/places/place-tag",
            {"place_code": place[far], "tag_kind": "village_product", "tag": "柑橘"},
        )
        for url, data in (
            (f"/stats/alerts/{alert[far]}/resolve", {"resolution": "x"}),
            (f"/api/v1/stats/alerts/{alert[far]}/resolve", None),
        ):
            if data is None:
                api(login, "POST", url, {"resolution": "x"})
            else:
                form(login, url, data)
    # the district reviewer (the planner, the nominations' and the events' district) on district B's
    rv = "district_reviewer"
    api(rv, "POST", f"/api/v1/services/windows/{ids['window_no']['far']}/withdrawal", {})
    api(rv, "POST", f"/api/v1/services/catalogue/{ids['offering_no']['far']}/withdrawal", {})
    form(rv, f"/services/windows/{ids['window_no']['far']}/withdraw")
    form(rv, f"/services/offerings/{ids['offering_no']['far']}/withdraw")
    api(
        rv,
        "POST",
        f"/api/v1/community/places/{place['far']}/tags",
        {"tag_kind": "village_product", "tag": "柑橘"},
    )
    api(rv, "POST", f"/api/v1/community/places/{place['far']}/designations", {"title": "x", "level": "district", "designated_on": today})  # fmt: skip
    api(rv, "POST", f"/api/v1/community/nominations/{nom['far']}/publish", {})
    api(rv, "POST", f"/api/v1/community/nominations/{nom['far']}/commendations", {"title": "x", "level": "district", "awarded_on": today})  # fmt: skip
    form(rv, f"/community/nominations/{nom['far']}/publish")
    form(
        rv,
        f"/community/nominations/{nom['far']}/commend",
        {"title": "x", "level": "district", "awarded_on": today},
    )
    for step, data in (
        ("commit", {"commitment": "a" * 64}),
        ("reveal", {"secret": "a" * 64}),
        ("public-value", {"value": "1"}),
        ("draw", {}),
        ("finalize", {}),
    ):
        form(rv, f"/mentors/events/{event['far']}/{step}", data)
    api(rv, "POST", f"/api/v1/community/reviews/{event['far']}/commit", {"commitment": "a" * 64})
    api(rv, "POST", f"/api/v1/community/reviews/{event['far']}/reveal", {"secret": "a" * 64})
    api(rv, "POST", f"/api/v1/community/reviews/{event['far']}/draw", {})
    form(rv, f"/mentors/services/{ids['mentor_service_no']['far']}/confirm", {"rating": "good"})
    form("district_finance", f"/stats/alerts/{alert['far']}/resolve", {"resolution": "x"})
    # the clerk with a street on a person of another town of the district
    form("street_clerk", f"/outreach/people/{person['own']}/withdraw-consent")
    api("street_clerk", "POST", f"/api/v1/outreach/people/{person['own']}/reveal", {})
    return a


def test_service_posts_on_someone_elses_records_change_nothing(sworld):
    """The service packages' state-changing routes tried by an applicant on another applicant's record, by
    an organisation on another organisation's, by district A's staff on district B's: 403/404, and no row
    of any table changes."""
    w = sworld
    attempts = _service_attempts(w)
    before = _all_rows(w)
    unexpected = []
    for t in attempts:
        got = t.call()
        if got.status_code not in (403, 404):
            unexpected.append((t.login, t.method, t.url, got.status_code, _said(got)))
        unexpected += [(t.login, t.url, leak) for leak in _leaks(w, t.url, t.login, w.role(t.login), got, sent=t.sent)]  # fmt: skip
    after = _all_rows(w)
    changed = [name for name in before if before[name] != after[name]]
    print(f"\nscope matrix (POST, service packages, wrong owner / district): {len(attempts)} attempts")
    assert len(attempts) >= 250
    assert unexpected == [], "\n".join(map(str, unexpected))
    assert changed == []


STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# State-changing routes with a path parameter that are NOT tried on someone else's record, and why. Only
# routes whose parameter names no one's record (a kind, a parameter, a city-wide register) or whose only
# role is city-wide belong here: the role refusals of every one are checked above.
NOT_SOMEONE_ELSES: dict[str, str] = {
    "/my/apply/{kind_id}": "申请种类（政策项目），不是任何人的记录 / a programme kind, no one's record",
    "/city/parameters/{name}/changes": "政策参数名，仅市级 / a policy parameter, city office only",
    "/admin/users/{user_id}/reset-password": "三员管理全市账号，无区县范围 / the 三员 manage city-wide accounts",
    "/admin/users/{user_id}/totp": "三员管理全市账号，无区县范围 / the 三员 manage city-wide accounts",
    "/admin/users/{user_id}/disable": "三员管理全市账号，无区县范围 / the 三员 manage city-wide accounts",
    "/admin/users/{user_id}/area": "三员管理全市账号，无区县范围 / the 三员 manage city-wide accounts",
    "/admin/security/unlock/{user_id}": "三员管理全市账号，无区县范围 / the 三员 manage city-wide accounts",
    "/admin/tokens/{token_id}/revoke": "三员管理全市接口令牌 / the 三员 manage the city's API tokens",
    "/mentors/pool/{mentor_no}/status": "导师库全市统一，仅市级 / the mentor pool is city-wide, city office only",
    "/api/v1/community/reviews/{event_no}/finalize": "仅市级（全市范围）/ city office only, city-wide",
    "/training/classes/{class_id}/enrol": (
        "报名本人参加任一公开培训班（班级目录向所有登录用户开放，见 ROUTE_SCOPE）/ an applicant enrols "
        "themselves in any published class (the catalogue is open, see ROUTE_SCOPE)"
    ),
}
# Tried outside the attempt lists (a different expectation: the page answers 200 with the refusal).
TRIED_ELSEWHERE = {"/staff/matches/{run_id}/invite": "district_reviewer"}
OWNER_ROLES = frozenset({"applicant", "training_provider", "carrier_operator", "mentor"})
DISTRICT_ROLES = frozenset(
    {"window_clerk", "district_reviewer", "district_finance", "bank", "guarantee_fund"}
)
# (route, side) → why the side is not tried although the route lets such a role in
SIDE_EXEMPT: dict[tuple[str, str], str] = {}


def _state_changing(app: Any) -> list[APIRoute]:
    return [
        r
        for r in _walk(app.routes)
        if isinstance(r, APIRoute) and r.methods & STATE_CHANGING and "{" in r.path
    ]


def _route_of(app: Any, method: str, url: str) -> str | None:
    """The route the app dispatches ``method url`` to (the first full match, as Starlette does)."""
    from starlette.routing import Match

    scope = {"type": "http", "path": url.split("?")[0], "method": method}
    for r in _walk(app.routes):
        if isinstance(r, APIRoute) and r.matches(scope)[0] == Match.FULL:
            return r.path
    return None


def test_every_state_changing_route_is_tried_on_someone_elses_record(sworld):
    """Completeness of the two tests above: every state-changing route (POST / PUT / PATCH / DELETE, pages
    and /api/v1) with a path parameter is tried on someone else's record — by an applicant / organisation
    where its roles include one (another's record), by district A's staff where they include district staff
    (district B's record) — or is listed in NOT_SOMEONE_ELSES with the reason. A new route fails here."""
    w = sworld
    app = w.world.app
    routes = {r.path: r for r in _state_changing(app)}
    tried: dict[str, set[str]] = {path: {login} for path, login in TRIED_ELSEWHERE.items()}
    for t in [*_core_attempts(w, "1"), *_service_attempts(w)]:
        path = _route_of(app, t.method, t.url)
        assert path is not None, f"{t.method} {t.url} 不对应任何路由 / matches no route"
        tried.setdefault(path, set()).add(t.login)
    untried = sorted(set(routes) - set(tried) - set(NOT_SOMEONE_ELSES))
    assert untried == [], "\n".join(
        f"状态变更路由未在越权（他人记录 / 外区记录）矩阵中尝试，也未列入豁免 NOT_SOMEONE_ELSES："
        f"{p} / state-changing route not tried on someone else's record nor exempted: {p}"
        for p in untried
    )
    stale = sorted(p for p in NOT_SOMEONE_ELSES if p not in routes or p in tried)
    assert stale == [], f"豁免表中的过期条目 / stale exemptions: {stale}"
    sides = []
    for path, logins in tried.items():
        if path not in routes:
            continue
        roles = _roles_required(routes[path].dependant)
        if roles is None:
            continue  # the route checks the caller itself: tried as listed above
        by_role = {w.role(login) for login in logins}
        if OWNER_ROLES & set(roles) and not OWNER_ROLES & by_role and (path, "owner") not in SIDE_EXEMPT:
            sides.append(f"{path}：未由申请人/机构尝试他人记录 / not tried by an applicant or organisation")
        if (
            DISTRICT_ROLES & set(roles)
            and not DISTRICT_A_STAFF & logins
            and (path, "district") not in SIDE_EXEMPT
        ):
            sides.append(f"{path}：未由 A 区工作人员尝试 B 区记录 / not tried by district A's staff")
    assert sides == [], "\n".join(sides)
    attempted = sum(1 for p in tried if p in routes)
    print(
        f"\nscope matrix (POST, completeness): {attempted} of {len(routes)} state-changing routes tried, "
        f"{len(NOT_SOMEONE_ELSES)} exempt"
    )
