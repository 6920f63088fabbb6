"""The world of the scope matrix (tests/web/test_scope_matrix.py): three applicants and, for every kind of
object a path parameter names, one object of each ownership.

- ``own``: the signed-in applicant's (P-VET / B-VET, district A = 500101);
- ``peer``: another applicant of district A (P-ONLINE2 / B-ONLINE2);
- ``far``: an applicant of district B = 500102 (P-OTHER / B-OTHER).

Accounts: the three applicants, district A staff (window clerk with and without a street, reviewer,
finance), a bank and the guarantee fund of district A (with org codes), the city office, a mentor, the
三员, a training provider and a carrier operator. The persons get distinct names so a page can be
searched for the name of someone it should not show."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from tests.applications import D1, D2, registry
from tests.web.apps_world import Clock, World, upload_all
from tests.web.conftest import PASSWORD
from tests.web.scope_world_services import build_services
from xiangchuang.applications.kinds import KINDS
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.models import (
    Application,
    Business,
    DisbursementBatch,
    DisbursementItem,
    Loan,
    MatchResult,
    MatchRun,
    Person,
    PublicityBatch,
    PublicityLine,
    User,
)
from xiangchuang.users.service import ROLE_LABELS, create_user, new_totp_secret

T0 = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
OWNERSHIPS = ("own", "peer", "far")
PEOPLE = {"own": ("P-VET", "B-VET", "赵甲本人"), "peer": ("P-ONLINE2", "B-ONLINE2", "钱乙同区"),
          "far": ("P-OTHER", "B-OTHER", "孙丙外区")}  # fmt: skip
BANK = "CQRCB"
OTHER_BANK = "CCBCQ"  # the peer's loan chose another bank: the bank account must not see it
FUND = "CQGF01"
REQUIRED = [m.id for m in KINDS["startup_subsidy"].required_materials]
# login → (role, district, street, org_code, ownership of the linked applicant)
ACCOUNTS: dict[str, tuple[str, int | None, str | None, str | None, str | None]] = {
    "applicant": ("applicant", None, None, None, "own"),
    "peer": ("applicant", None, None, None, "peer"),
    "far": ("applicant", None, None, None, "far"),
    "window_clerk": ("window_clerk", D1, None, None, None),
    "street_clerk": ("window_clerk", D1, "城东街道", None, None),
    "district_reviewer": ("district_reviewer", D1, None, None, None),
    "district_finance": ("district_finance", D1, None, None, None),
    "city_admin": ("city_admin", None, None, None, None),
    "bank": ("bank", D1, None, BANK, None),
    "guarantee_fund": ("guarantee_fund", D1, None, FUND, None),
    "mentor": ("mentor", None, None, None, None),
    "sys_admin": ("sys_admin", None, None, None, None),
    "sec_admin": ("sec_admin", None, None, None, None),
    "audit_admin": ("audit_admin", None, None, None, None),
    "training_provider": ("training_provider", None, None, "DEMOTP01", None),
    "carrier_operator": ("carrier_operator", None, None, "DEMOCR01", None),
}
# the callers of the matrix: every account but the two other applicants (they only own objects)
CALLERS = tuple(login for login in ACCOUNTS if login not in ("peer", "far"))
assert {ACCOUNTS[c][0] for c in CALLERS} == set(ROLE_LABELS)  # every role is in the matrix


@dataclass
class ScopeWorld:
    world: World
    clients: dict[str, TestClient] = field(default_factory=dict)
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # object kind → ownership → id
    names: dict[str, str] = field(default_factory=dict)  # ownership → person name

    @property
    def engine(self) -> Any:
        return self.world.engine

    def role(self, login: str) -> str:
        return ACCOUNTS[login][0]


def _user_ids(s: Any) -> dict[str, int]:
    return {u.login: u.id for u in s.execute(select(User)).scalars()}


def build(engine: Any, pii: Any, settings: Any, akey: bytes) -> ScopeWorld:
    from xiangchuang.web.app import create_app

    with engine.begin() as conn:
        registry(conn, pii)
        for person_no, _b, name in PEOPLE.values():
            conn.execute(update(Person).where(Person.person_no == person_no).values(name=name))
        for k, (person_no, _b, _n) in enumerate(PEOPLE.values()):
            enc, _ = pii.bank_account(f"621700001000123456{k}")
            conn.execute(update(Person).where(Person.person_no == person_no).values(bank_account_enc=enc))
    factory = make_sessionmaker(engine)
    secrets: dict[str, str | None] = {}
    with transaction(factory) as s:
        for login, (role, district, street, org_code, owner) in ACCOUNTS.items():
            person_id = business_id = None
            if owner:
                person_no, business_no, _ = PEOPLE[owner]
                person_id = s.execute(select(Person.id).where(Person.person_no == person_no)).scalar()
                business_id = s.execute(
                    select(Business.id).where(Business.business_no == business_no)
                ).scalar()
            secret = None if role == "applicant" else new_totp_secret()
            secrets[login] = secret
            user = create_user(
                s,
                login=login,
                display_name=f"账号{login}",
                role=role,
                password=PASSWORD,
                actor="system",
                audit_key=akey,
                district=district,
                street=street,
                person_id=person_id,
                business_id=business_id,
                totp_secret=secret,
                cipher=pii.cipher,
                now=T0,
            )
            if org_code:
                user.org_code = org_code
                user.org_name = f"机构{org_code}"
    app = create_app(settings, engine=engine)
    app.state.test_clock = Clock()
    world = World(engine, app, app.state.test_clock, secrets)
    sw = ScopeWorld(world, names={k: v[2] for k, v in PEOPLE.items()})
    sw.clients = {login: world.client(login) for login in ACCOUNTS}
    _objects(sw, settings.data_dir)
    build_services(sw, akey, pii, settings.data_dir)
    return sw


def _objects(sw: ScopeWorld, data_dir: Path) -> None:
    """One object of each kind per ownership, made through the pages / API as the owners would."""
    c = sw.clients
    owners = {"own": c["applicant"], "peer": c["peer"], "far": c["far"]}
    apps: dict[str, str] = {}
    loans: dict[str, str] = {}
    loan_nos: dict[str, str] = {}
    for own, client in owners.items():
        made = client.post("/api/v1/my/applications", json={"kind": "startup_subsidy", "period": "2024"})
        assert made.status_code == 201, made.text
        apps[own] = str(made.json()["id"])
        assert upload_all(client, int(apps[own]), REQUIRED).status_code == 303
        r = client.post(
            "/loans/new",
            data={
                "kind": "individual",
                "bank_code": OTHER_BANK if own == "peer" else BANK,
                "amount": "50000",
                "term_months": "12",
                "purpose": "种植",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        loans[own] = r.headers["location"].rsplit("/", 1)[1]
        loan_nos[own] = client.get("/api/v1/loans").json()[0]["loan_no"]
    # the others' objects are submitted (staff work on them); the signed-in applicant's stay drafts
    for own in ("peer", "far"):
        r = owners[own].post(
            f"/my/applications/{apps[own]}/act", data={"action": "submit"}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        r = owners[own].post(f"/loans/{loans[own]}/act/submit", follow_redirects=False)
        assert r.status_code == 303, r.text
    sw.ids["application_id"] = apps
    with sw.engine.connect() as conn:
        sw.ids["application_no"] = {
            own: conn.execute(select(Application.application_no).where(Application.id == int(i))).scalar_one()
            for own, i in apps.items()
        }
    sw.ids["loan_id"] = loans
    sw.ids["loan_no"] = loan_nos
    with sw.engine.begin() as conn:
        atts = {}
        for own, app_id in apps.items():
            from xiangchuang.models import Attachment

            atts[own] = str(
                conn.execute(select(Attachment.id).where(Attachment.application_id == int(app_id)))
                .scalars()
                .first()
            )
        sw.ids["attachment_id"] = atts
        # publicity and disbursement batches of each district (the lists' contents do not matter here)
        now = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
        pub = {}
        disb = {}
        for own, district in (("own", D1), ("far", D2)):
            pub[own] = str(
                conn.execute(
                    insert(PublicityBatch)
                    .values(
                        batch_no=f"GS-{district}-1",
                        district=district,
                        start_date=now.date(),
                        end_date=now.date() + dt.timedelta(days=7),
                        working_days=5,
                        created_by="system",
                        created_at=now,
                    )
                    .returning(PublicityBatch.id)
                ).scalar_one()
            )
            disb[own] = str(
                conn.execute(
                    insert(DisbursementBatch)
                    .values(
                        batch_no=f"BF-{district}-1",
                        district=district,
                        funding_source="district",
                        created_by="x",
                    )
                    .returning(DisbursementBatch.id)
                ).scalar_one()
            )
        pub["peer"], disb["peer"] = pub["own"], disb["own"]  # a batch is a district's, not an applicant's
        # each batch lists its district's applicants: A's batches the own and the peer's, B's the far one's
        for own, app_id in apps.items():
            batch = "far" if own == "far" else "own"
            person_id = conn.execute(select(Person.id).where(Person.person_no == PEOPLE[own][0])).scalar_one()
            seq = {"own": 1, "peer": 2, "far": 1}[own]
            conn.execute(
                insert(PublicityLine).values(
                    batch_id=int(pub[batch]),
                    seq=seq,
                    application_id=int(app_id),
                    kind="startup_subsidy",
                    person_id=person_id,
                    business_name=f"{PEOPLE[own][2]}的店",
                    amount_fen=1_000_000,
                    status="listed",
                )
            )
            conn.execute(
                insert(DisbursementItem).values(
                    batch_id=int(disb[batch]),
                    seq=seq,
                    application_ref=f"A-{app_id}",
                    payee_person_id=person_id,
                    amount_fen=1_000_000,
                    purpose="创业补贴",
                    status="pending",
                )
            )
        # a 政策找人 run of district B with one eligible result (district A's reviewer must not invite it)
        run = conn.execute(
            insert(MatchRun)
            .values(
                on=now.date(),
                district=D2,
                engine_version="t",
                parameters_version="t",
                subjects=1,
                results=1,
                load_seconds=0.0,
                evaluate_seconds=0.0,
            )
            .returning(MatchRun.id)
        ).scalar_one()
        conn.execute(
            insert(MatchResult).values(
                run_id=run,
                program="startup_subsidy",
                subject_table="businesses",
                subject_key="B-OTHER",
                district=D2,
                status="eligible",
                amount_fen=1_000_000,
                district_part_fen=0,
            )
        )
        sw.ids["run_id"] = {"far": str(run)}
        sw.ids["batch_id"] = pub
        sw.ids["finance_batch_id"] = disb
    # an import error report in each district's folder
    tokens = {}
    for own, district in (("own", D1), ("far", D2)):
        folder = data_dir / "import-reports" / str(district)
        folder.mkdir(parents=True, exist_ok=True)
        import openpyxl

        token = ("a" if own == "own" else "b") * 16
        wb = openpyxl.Workbook()
        wb.active.append(["行", "字段", "错误"])
        wb.save(folder / f"{token}.xlsx")
        tokens[own] = token
    tokens["peer"] = tokens["own"]
    sw.ids["token"] = tokens


def row_state(engine: Any, model: Any, obj_id: int) -> tuple[Any, ...]:
    """(state, version) of an application or loan row: what a refused POST must leave unchanged."""
    with engine.connect() as conn:
        row = conn.execute(select(model.state, model.version).where(model.id == obj_id)).one()
    return tuple(row)


APPLICATION, LOAN = Application, Loan
DIGITS = re.compile(r"\d+")
