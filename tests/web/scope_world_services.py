"""The service packages' records of the scope matrix's world (tests/web/scope_world.py): for every kind of
record a path parameter of training, carriers, jobs, outreach, services, community, mentors names, one
record of each ownership, made through each package's service layer (as its own tests do):

- ``own``: the signed-in applicant's (P-VET / B-VET) or the signed-in organisation's (the training
  provider DEMOTP01, the carrier operator DEMOCR01), in district A (500101);
- ``peer``: another applicant's (P-ONLINE2 / B-ONLINE2) or another organisation's, in district A;
- ``far``: district B's (500102), of the third applicant (P-OTHER / B-OTHER) and a third organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select

from tests.applications import D1, D2
from xiangchuang.db import make_sessionmaker, transaction
from xiangchuang.engine.parameters import load_parameters

# the organisations: the signed-in account's (own), another of district A (peer), one of district B (far)
TRAINING_ORGS = {"own": "DEMOTP01", "peer": "PEERTP01", "far": "FARTP01"}
CARRIER_ORGS = {"own": "DEMOCR01", "peer": "PEERCR01", "far": "FARCR01"}
DISTRICT = {"own": D1, "peer": D1, "far": D2}
PEOPLE_NO = {"own": ("P-VET", "B-VET"), "peer": ("P-ONLINE2", "B-ONLINE2"), "far": ("P-OTHER", "B-OTHER")}


def build_services(sw: Any, akey: bytes, pii: Any, data_dir: Any) -> None:
    cipher = pii.cipher
    factory = make_sessionmaker(sw.engine)
    now = sw.world.clock.now
    with transaction(factory) as s:
        _training(s, sw, akey, cipher, now)
    with transaction(factory) as s:
        _carriers(s, sw, akey, now)
    _demo_seeds(sw, akey, cipher, now)
    with transaction(factory) as s:
        _jobs(s, sw, akey, pii, now)
    _community(sw, akey, pii, now)
    with transaction(factory) as s:
        _mentor_events(s, sw, akey, cipher, now)
    with transaction(factory) as s:
        _records_of_the_state_changes(s, sw, akey, now)
    # a mentor import's error report (the city office's only)
    import openpyxl

    folder = data_dir / "import-reports" / "mentors"
    folder.mkdir(parents=True, exist_ok=True)
    wb = openpyxl.Workbook()
    wb.active.append(["行", "字段", "错误"])
    wb.save(folder / f"{'d' * 16}.xlsx")


def _person_id(s: Any, own: str) -> int:
    from xiangchuang.models import Person

    return int(s.execute(select(Person.id).where(Person.person_no == PEOPLE_NO[own][0])).scalar_one())


def _training(s: Any, sw: Any, key: bytes, cipher: Any, now: dt.datetime) -> None:
    from xiangchuang.models import Enrolment
    from xiangchuang.training import service as svc

    today = now.date()
    classes, enrolments, codes = {}, {}, {}
    course = None
    for own, org in TRAINING_ORGS.items():
        staff = svc.Actor("scope.seed", "district_reviewer", DISTRICT[own])
        p = svc.create_provider(
            s, org_code=org, name=f"培训机构{org}", kind="training_institution", district=DISTRICT[own],
            who=staff, audit_key=key, now=now,
        )  # fmt: skip
        svc.accredit(
            s, provider_id=p.id, accreditation_no=f"认〔2025〕{org}号", course_kinds="syb,iyb,online,skills",
            valid_from=today - dt.timedelta(days=365), valid_until=today + dt.timedelta(days=730), who=staff,
            audit_key=key, now=now,
        )  # fmt: skip
        if course is None:
            course = svc.create_course(
                s, course_code="C-SCOPE", kind="syb", title="创办你的企业", hours=56, content="创业意识",
                who=staff, audit_key=key, now=now,
            ).id  # fmt: skip
        me = svc.Actor(f"scope.{org}", "training_provider", None, provider_id=p.id)
        klass = svc.create_class(
            s, provider_id=p.id, course_id=course, mode="night_school", district=DISTRICT[own],
            place=f"{own}镇农民夜校", start_date=today + dt.timedelta(days=3), end_date=today + dt.timedelta(days=7),
            capacity=20, sessions=2, who=me, audit_key=key, cipher=cipher,
            teachers=[svc.TeacherIn(name="王老师", subject="市场评估")], now=now,
        )  # fmt: skip
        classes[own] = str(klass.id)
        code = "XC-" + f"SCOPE{own.upper()}".ljust(12, "7")
        e = s.execute(
            insert(Enrolment)
            .values(
                training_no=f"T-SCOPE-{own}",
                class_id=klass.id,
                person_id=_person_id(s, own),
                state="completed",
                enrolled_at=now,
                eligibility={},
                completion_date=today,
                certificate_code=code,
                certificate_issued_on=today,
                enrolled_by="scope.seed",
                created_at=now,
                updated_at=now,
            )
            .returning(Enrolment.id)
        ).scalar_one()
        enrolments[own] = str(e)
        codes[own] = code
    sw.ids["class_id"] = classes
    sw.ids["enrolment_id"] = enrolments
    sw.ids["certificate_code"] = codes


def _carriers(s: Any, sw: Any, key: bytes, now: dt.datetime) -> None:
    from xiangchuang.carriers import repository as repo
    from xiangchuang.carriers import service as S
    from xiangchuang.carriers.repository import Actor
    from xiangchuang.models import CarrierBill

    params = load_parameters()
    today = now.date()
    carriers, bills = {}, {}
    for own, org in CARRIER_ORGS.items():
        actor = Actor("scope.seed", "district_reviewer", DISTRICT[own])
        no = f"C-{own.upper()}"
        S.create_carrier(
            s,
            data=S.CarrierInput(
                carrier_no=no, name=f"{own}返乡创业园", kind="returning_park", level="municipal",
                district=DISTRICT[own], address="创业大道 1 号", capacity=10, services=("policy",),
                operator=f"运营公司{org}", operator_org_code=org, district_date=dt.date(2021, 3, 1),
                municipal_date=dt.date(2023, 6, 1), workstations=5, free_workstations=1,
            ),
            actor=actor, audit_key=key, now=now,
        )  # fmt: skip
        S.add_tenant(
            s, carrier_no=no,
            data=S.TenantInput(
                business_no=PEOPLE_NO[own][1], start=dt.date(2024, 6, 1), workstation="002", rent_fen=150_000,
                property_fee_fen=30_000, utilities_fen=12_000,
            ),
            actor=actor, audit_key=key, now=now,
        )  # fmt: skip
        month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y%m")
        S.generate_bills(
            s, carrier_no=no, month=int(month), params=params, actor=actor, audit_key=key, now=now
        )
        carriers[own] = no
        carrier = repo.carrier_by_no(s, no)
        bills[own] = s.execute(
            select(CarrierBill.bill_no).where(CarrierBill.carrier_id == carrier.id)
        ).scalar_one()
    sw.ids["carrier_no"] = carriers
    sw.ids["bill_no"] = bills


def _demo_seeds(sw: Any, key: bytes, cipher: Any, now: dt.datetime) -> None:
    """The services' and outreach's demo seeders (idempotent per district) for district A and B, then the
    records of each ownership picked from them."""
    from xiangchuang.demo_seed import SeedContext
    from xiangchuang.models import (
        Business,
        CoordinationMeeting,
        LiaisonProblem,
        OutreachCampaign,
        OutreachPerson,
        ServicePurchase,
        ServiceRequest,
    )
    from xiangchuang.services import demo as services_demo

    factory = make_sessionmaker(sw.engine)
    for district in (D1, D2):
        ctx = SeedContext(cipher=cipher, audit_key=key, on=now.date(), district=district)
        with transaction(factory) as s:
            services_demo.seed(s, ctx)
    with transaction(factory) as s:
        _outreach(s, key, cipher, now)
    with sw.engine.connect() as conn:
        biz = {own: conn.execute(select(Business.id).where(Business.business_no == b)).scalar_one()
               for own, (_p, b) in PEOPLE_NO.items()}  # fmt: skip

        def first(col: Any, where: Any) -> str:
            return str(conn.execute(select(col).where(where).order_by(col)).scalars().first())

        sw.ids["request_no"] = {
            o: first(ServiceRequest.request_no, ServiceRequest.business_id == b) for o, b in biz.items()
        }
        sw.ids["problem_no"] = {
            o: first(LiaisonProblem.problem_no, LiaisonProblem.business_id == b) for o, b in biz.items()
        }
        for kind, model, col in (
            ("purchase_no", ServicePurchase, ServicePurchase.purchase_no),
            ("meeting_no", CoordinationMeeting, CoordinationMeeting.meeting_no),
            ("campaign_id", OutreachCampaign, OutreachCampaign.id),
        ):
            a, b = first(col, model.district == D1), first(col, model.district == D2)
            sw.ids[kind] = {"own": a, "peer": a, "far": b}  # a district's record, not an applicant's
        a = (
            conn.execute(
                select(OutreachPerson.id).where(OutreachPerson.district == D1).order_by(OutreachPerson.id)
            )
            .scalars()
            .all()
        )
        b = first(OutreachPerson.id, OutreachPerson.district == D2)
        sw.ids["outreach_person_id"] = {"own": str(a[0]), "peer": str(a[1]), "far": b}


def _outreach(s: Any, key: bytes, cipher: Any, now: dt.datetime) -> None:
    """Two persons working away of district A, one of district B, a campaign of each district with a
    contact (made-up names and 199-numbers, as the outreach demo)."""
    from xiangchuang.outreach import service as S

    today = now.date()
    for k, (own, district) in enumerate((("own", D1), ("peer", D1), ("far", D2))):
        clerk = S.Actor("scope.clerk", "window_clerk", district)
        row = S.register_person(
            s, actor=clerk, cipher=cipher,
            data=S.PersonInput(
                name=f"外出{own}", phone=f"1990001{k:04d}", home_town="龙兴镇", work_place="广东省深圳市",
                trade="construction", skills=(), consent_on=today - dt.timedelta(days=10),
                consent_scope=("phone",),
            ),
            audit_key=key, today=today,
        )  # fmt: skip
        if own == "peer":
            continue
        campaign = S.create_campaign(
            s, actor=S.Actor("scope.reviewer", "district_reviewer", district), name=f"春节走访{own}",
            occasion="spring_festival", starts_on=today - dt.timedelta(days=5), ends_on=today,
            description="春节前后走访返乡过年人员", audit_key=key,
        )  # fmt: skip
        S.log_contact(
            s, actor=clerk, person_id=row.id, contacted_on=today - dt.timedelta(days=1), method="phone",
            answer="interested", note="介绍创业担保贷款", campaign_id=campaign.id, audit_key=key, today=today,
        )  # fmt: skip


def _jobs(s: Any, sw: Any, key: bytes, pii: Any, now: dt.datetime) -> None:
    """A labour need of each applicant's business, verified and published (on the public board; its
    applications and matches are the business's and its district staff's), and each applicant as a job
    seeker."""
    from xiangchuang.jobs import service as J

    posts, seekers = {}, {}
    for own, district in DISTRICT.items():
        clerk = J.Actor("scope.clerk", "window_clerk", district)
        post = J.report_post(
            s, actor=clerk, business_no=PEOPLE_NO[own][1], audit_key=key, now=now,
            data=J.PostInput(
                title=f"竹编师傅{own}", trade="crafts", skills=["bamboo_weaving"], positions=1, wage_min_yuan=4000,
                wage_max_yuan=6000, town="龙驹镇", start_date=now.date() + dt.timedelta(days=10),
                contract_kind="fixed_term", contract_months=24, terms="包午餐",
            ),
        )  # fmt: skip
        J.verify_post(
            s, actor=J.Actor("scope.reviewer", "district_reviewer", district), post_no=post.post_no,
            decision="publish", audit_key=key, now=now,
        )  # fmt: skip
        posts[own] = post.post_no
        seeker = J.register_seeker(
            s, actor=clerk, person_no=PEOPLE_NO[own][0], pii=pii, audit_key=key, now=now,
            data=J.SeekerInput(
                category="other", district=district, town="龙驹镇", skills=["bamboo_weaving"],
                trades=["crafts"], wage_expected_yuan=5000, phone=f"1391234{5670 + len(seekers)}",
            ),
        )  # fmt: skip
        seekers[own] = seeker.seeker_no
    sw.ids["post_no"] = posts
    sw.ids["seeker_no"] = seekers


def _community(sw: Any, key: bytes, pii: Any, now: dt.datetime) -> None:
    """A closure case (创业失败帮扶) of a second, deregistered business of each applicant, offered by its
    district's reviewer, and a 创业典型 nomination of each applicant's business."""
    import itertools

    from tests.registry.factories import Registry
    from xiangchuang.community import service as C
    from xiangchuang.community import typical as T
    from xiangchuang.models import Business, Person
    from xiangchuang.users.service import UserScope

    today = now.date()
    closed = today - dt.timedelta(days=20)
    with sw.engine.begin() as conn:
        reg = Registry(conn, pii)
        reg._seq = itertools.count(300)  # clear of the world's synthetic ID numbers
        for own, (person_no, business_no) in PEOPLE_NO.items():
            person_id = conn.execute(select(Person.id).where(Person.person_no == person_no)).scalar_one()
            bid = reg.business(
                founder=person_id, registration_date=dt.date(2021, 5, 1), no=f"{business_no}-C",
                district=DISTRICT[own], status="deregistered",
            )  # fmt: skip
            conn.execute(
                Business.__table__.update().where(Business.id == bid).values(deregistration_date=closed)
            )
    cases, noms = {}, {}
    with transaction(make_sessionmaker(sw.engine)) as s:
        for own, (person_no, business_no) in PEOPLE_NO.items():
            staff = UserScope(level="district", user_id=0, login="scope.reviewer", role="district_reviewer",
                              district=DISTRICT[own])  # fmt: skip
            cases[own] = C.offer(
                s, scope=staff, audit_key=key, business_no=f"{business_no}-C", today=today
            ).case_no
            noms[own] = T.nominate(
                s, scope=staff, audit_key=key, person_no=person_no, business_no=business_no,
                category="returning_entrepreneur", year=today.year, headline=f"返乡创业{own}",
                story="在外务工十年后返乡，流转土地发展柑橘种植，成立合作社统一品牌和销售。", today=today,
            ).nomination_no  # fmt: skip
    sw.ids["case_no"] = cases
    sw.ids["nomination_no"] = noms


def _mentor_events(s: Any, sw: Any, key: bytes, cipher: Any, now: dt.datetime) -> None:
    """A review event of district A for each of the two applicants' projects, one of district B (not yet
    drawn: the world's mentor holds no seat)."""
    from xiangchuang.chinatime import CHINA
    from xiangchuang.mentors import service as M

    keys = M.Keys(cipher, key)
    day = now.date() + dt.timedelta(days=30)
    events = {}
    for own, (person_no, business_no) in PEOPLE_NO.items():
        no = f"HD-SCOPE-{own.upper()}"
        M.create_event(
            s, keys=keys, actor="city_admin", role="city_admin", event_no=no, title=f"返乡创业大赛{own}",
            kind="competition_round", event_date=day, unseal_at=dt.datetime.combine(day, dt.time(8, 30), CHINA),
            quotas=[("marketing", "city", 1)], backups=0,
            projects=[M.ProjectIn(project_no=f"XM-{own}", title=f"项目{own}", person_no=person_no,
                                  business_no=business_no, returning=True)],
            organiser_user="city_admin", supervisor_user="scope.supervisor", district=DISTRICT[own],
        )  # fmt: skip
        events[own] = no
    sw.ids["event_no"] = events


def _records_of_the_state_changes(s: Any, sw: Any, key: bytes, now: dt.datetime) -> None:
    """The records only a state-changing route names (the wrong-owner / wrong-district attempts of
    tests/web/test_scope_matrix.py need one of each ownership): carrier tenancies, free-workstation
    allocations and award applications; training claims and providers; closure referrals; the services'
    windows, offerings, officials, assignments and coordination tasks (from the demo seeds); introduced
    talents and their families' requests; places and rural projects; job applications; statistics alerts."""
    from xiangchuang.applications import service as applications
    from xiangchuang.carriers import service as CS
    from xiangchuang.carriers.repository import Actor as CarrierActor
    from xiangchuang.models import (
        Business,
        Carrier,
        ClosureCase,
        ClosureReferral,
        CoordinationTask,
        Enrolment,
        FamilyServiceRequest,
        IntroducedTalent,
        JobApplication,
        JobPost,
        JobSeeker,
        LiaisonAssignment,
        LiaisonOfficial,
        Mentor,
        MentorService,
        OnjobTraining,
        Place,
        RuralProject,
        ServiceOffering,
        ServiceWindow,
        StatAlert,
        Tenancy,
        TrainingClass,
        Workstation,
        WorkstationAllocation,
    )
    from xiangchuang.training.service import ENGINE_PROGRAMS

    today = now.date()
    ids: dict[str, dict[str, str]] = {k: {} for k in (
        "tenancy_id", "allocation_no", "award_id", "claim_id", "provider_id", "referral_no", "talent_id",
        "family_request_id", "place_code", "project_no", "job_application_id", "alert_id", "onjob_training_no",
        "mentor_service_no",
    )}  # fmt: skip

    def new(model: Any, **values: Any) -> int:
        return int(s.execute(insert(model).values(**values).returning(model.id)).scalar_one())

    for own, org in CARRIER_ORGS.items():
        carrier = s.execute(
            select(Carrier).where(Carrier.carrier_no == sw.ids["carrier_no"][own])
        ).scalar_one()
        ids["tenancy_id"][own] = str(
            s.execute(select(Tenancy.id).where(Tenancy.carrier_id == carrier.id)).scalars().first()
        )
        station = (
            s.execute(
                select(Workstation.id)
                .where(Workstation.carrier_id == carrier.id)
                .order_by(Workstation.id.desc())
            )
            .scalars()
            .first()
        )
        no = f"GW-SCOPE-{own.upper()}"
        new(
            WorkstationAllocation, allocation_no=no, workstation_id=station, carrier_id=carrier.id,
            person_id=_person_id(s, own), start=today - dt.timedelta(days=30),
            end=today + dt.timedelta(days=335), renewals=0, status="active", decision="（测试）",
        )  # fmt: skip
        ids["allocation_no"][own] = no
        operator = CarrierActor(f"scope.{org}", "carrier_operator", None, org)
        award = CS.apply_award(
            s, carrier_no=carrier.carrier_no, year=now.year - 1, actor=operator, audit_key=key, now=now
        )
        ids["award_id"][own] = str(award.id)
    for own in ("own", "peer", "far"):
        e = s.get(Enrolment, int(sw.ids["enrolment_id"][own]))
        klass = s.get(TrainingClass, e.class_id)
        ids["provider_id"][own] = str(klass.provider_id)
        me = f"org:{TRAINING_ORGS[own]}"
        claim = applications.create_application(
            s, kind=ENGINE_PROGRAMS["syb"], subject_key=e.training_no, period=klass.class_no,
            district=klass.district, applicant_user=me, actor=me, role="applicant", actor_district=None,
            audit_key=key, applicant_person_no=PEOPLE_NO[own][0], form={"class_no": klass.class_no}, now=now,
        )  # fmt: skip
        ids["claim_id"][own] = str(claim.id)
        case = s.execute(
            select(ClosureCase.id).where(ClosureCase.case_no == sw.ids["case_no"][own])
        ).scalar_one()
        no = f"ZJ-SCOPE-{own.upper()}"
        new(
            ClosureReferral, referral_no=no, case_id=case, kind="employment_service", agency="区就业服务中心",
            owner="scope.reviewer", state="referred", referred_on=today,
            next_followup_on=today + dt.timedelta(days=7),
        )  # fmt: skip
        ids["referral_no"][own] = no
        business = s.execute(
            select(Business.id).where(Business.business_no == PEOPLE_NO[own][1])
        ).scalar_one()
        talent = new(
            IntroducedTalent, district=DISTRICT[own], business_id=business, person_id=_person_id(s, own),
            position="技术员", category="technical", hired_on=today - dt.timedelta(days=60), evidence="劳动合同",
            state="pending", proposed_by="scope.clerk",
        )  # fmt: skip
        ids["talent_id"][own] = str(talent)
        ids["family_request_id"][own] = str(
            new(
                FamilyServiceRequest,
                talent_id=talent,
                district=DISTRICT[own],
                kind="schooling",
                description="子女入学",
                owner_department="区教委",
                received_on=today,
                deadline=today + dt.timedelta(days=20),
                state="open",
                recorded_by="scope.clerk",
            )
        )
        post = s.execute(select(JobPost.id).where(JobPost.post_no == sw.ids["post_no"][own])).scalar_one()
        seeker = s.execute(
            select(JobSeeker.id).where(JobSeeker.seeker_no == sw.ids["seeker_no"][own])
        ).scalar_one()
        no = f"GP-SCOPE-{own.upper()}"
        new(
            OnjobTraining, training_no=no, provider_kind="business", business_id=business,
            district=DISTRICT[own], course="竹编技艺", course_level="junior", trainees=5,
            start_date=today - dt.timedelta(days=40), completion_date=today - dt.timedelta(days=10),
            recorded_by="scope.clerk",
        )  # fmt: skip
        ids["onjob_training_no"][own] = no
        ids["job_application_id"][own] = str(
            new(
                JobApplication,
                post_id=post,
                seeker_id=seeker,
                state="applied",
                applied_at=now,
                applied_by="x",
            )
        )
    mentor = new(
        Mentor, mentor_no="DS-SCOPE", person_id=_person_id(s, "far"), level="district", specialty="marketing",
        district=D2, available=True, status="active",
    )  # fmt: skip
    for own, district in (("own", D1), ("far", D2)):
        no = f"FWJL-SCOPE-{own.upper()}"
        new(
            MentorService, service_no=no, mentor_id=mentor, activity="pairing", units=1, district=district,
            occurred_on=today - dt.timedelta(days=3), organiser="区就业局",
        )  # fmt: skip
        ids["mentor_service_no"][own] = no
        code = f"SCOPE{own.upper()}"
        place = new(Place, place_code=code, name=f"{own}村", kind="village", district=district)
        ids["place_code"][own] = code
        no = f"XM-SCOPE-{own.upper()}"
        new(
            RuralProject, project_no=no, kind="info_to_village", title=f"益农信息社{own}", district=district,
            place_id=place, start_on=today - dt.timedelta(days=100),
        )  # fmt: skip
        ids["project_no"][own] = no
        ids["alert_id"][own] = str(
            new(
                StatAlert,
                rule="scope",
                finding_key=f"scope:{own}",
                open_key=f"scope:{own}",
                district=district,
                role="district_reviewer",
                subject="businesses:x",
                message="测试预警",
                details={},
                state="open",
                first_seen_at=now,
                last_seen_at=now,
            )
        )
    for kind in ("place_code", "project_no", "alert_id", "mentor_service_no"):
        ids[kind]["peer"] = ids[kind]["own"]  # a district's record, not an applicant's
    for kind, col, district_col in (
        ("window_no", ServiceWindow.window_no, ServiceWindow.district),
        ("offering_no", ServiceOffering.offering_no, ServiceOffering.district),
        ("official_no", LiaisonOfficial.official_no, LiaisonOfficial.district),
        ("task_no", CoordinationTask.task_no, CoordinationTask.district),
        ("assignment_id", LiaisonAssignment.id, LiaisonAssignment.district),
    ):
        a, b = (
            str(s.execute(select(col).where(district_col == d).order_by(col)).scalars().first())
            for d in (D1, D2)
        )
        ids[kind] = {"own": a, "peer": a, "far": b}
    missing = [(kind, own) for kind, by in ids.items() for own, v in by.items() if v in ("None", "")]
    assert missing == [], f"the world lacks records: {missing}"  # an attempt on nothing proves nothing
    sw.ids.update(ids)
