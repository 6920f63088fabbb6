"""Test helpers that insert registry rows (PII encrypted through ``registry.pii.Pii``).

- :class:`Registry`: one row at a time, for the scenario tests.
- :func:`registry_tables` + :func:`bulk_load`: a whole synthetic registry (``xiangchuang.synth``) with bulk
  Core inserts — for the equality test and ``benchmarks/match_db_bench.py``. ``registry_tables`` turns the
  synth tables into what the registry can hold (the normalisations are listed there); the same
  normalised tables, written to Parquet, are the file side of the equality test.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, insert, text

from xiangchuang.engine.case import RECEIVED_SUBJECT
from xiangchuang.ids import make_resident_id, make_uscc
from xiangchuang.models import (
    Business,
    BusinessYear,
    Carrier,
    Contribution,
    CreditRating,
    Employment,
    Founder,
    Grant,
    Honour,
    Person,
    PersonGroup,
    Recommendation,
    Tenancy,
)
from xiangchuang.registry.pii import ID_FIELD, PHONE_FIELD, Pii

# Employer parts of one month (pension, medical, maternity, unemployment, injury) and the individual part.
PARTS = (16_000, 8_000, 500, 500, 400)
INDIVIDUAL = 10_500

SUBJECT_KIND = {"businesses": "business", "persons": "person", "carriers": "carrier"}


def months(first: int, count: int, skip: Iterable[int] = ()) -> list[int]:
    """``count`` consecutive months YYYYMM from ``first``, leaving out those in ``skip``."""
    y, m = divmod(first, 100)
    out = []
    idx = y * 12 + m - 1
    for k in range(count):
        yy, mm = divmod(idx + k, 12)
        ym = yy * 100 + mm + 1
        if ym not in set(skip):
            out.append(ym)
    return out


class Registry:
    """Insert registry rows one at a time (Core inserts on ``conn``; the caller owns the transaction)."""

    def __init__(self, conn: Connection, pii: Pii, *, start: int = 1) -> None:
        """``start``: the first sequence number (a second Registry on the same database starts past the
        first one's numbers, so generated ID numbers and phones stay unique)."""
        self.conn = conn
        self.pii = pii
        self._seq = itertools.count(start)

    def _id(self, stmt: Any) -> int:
        return int(self.conn.execute(stmt).scalar_one())

    def person(
        self,
        *,
        no: str | None = None,
        groups: Sequence[str] = (),
        group_rows: Sequence[tuple[str, dt.date | None, dt.date | None]] = (),
        birth_date: dt.date = dt.date(1990, 5, 17),
        gender: str = "M",
        returning_entrepreneur: bool | None = None,
        graduation_date: dt.date | None = None,
        startup_intention: bool | None = None,
        second_time_founder_stable: bool | None = None,
        holds_free_workstation: bool | None = None,
        hukou_district: int | None = 500101,
    ) -> int:
        k = next(self._seq)
        rid = make_resident_id(500101, birth_date, (k % 500) * 2 + (1 if gender == "M" else 0))
        protected = self.pii.resident_id(rid)
        phone_enc, phone_bidx = self.pii.phone(f"1380000{k:04d}")
        pid = self._id(
            insert(Person)
            .values(
                person_no=no or f"P{k:07d}",
                name=f"测试人员{k}",
                id_number_enc=protected.ciphertext,
                id_number_bidx=protected.blind_index,
                phone_enc=phone_enc,
                phone_bidx=phone_bidx,
                birth_date=birth_date,
                gender=gender,
                hukou_district=hukou_district,
                graduation_date=graduation_date,
                returning_entrepreneur=returning_entrepreneur,
                startup_intention=startup_intention,
                second_time_founder_stable=second_time_founder_stable,
                holds_free_workstation=holds_free_workstation,
            )
            .returning(Person.id)
        )
        rows = [(g, None, None) for g in groups] + list(group_rows)
        for code, since, until in rows:
            self.conn.execute(
                insert(PersonGroup).values(person_id=pid, group_code=code, since=since, until=until)
            )
        return pid

    def business(
        self,
        *,
        founder: int | None,
        registration_date: dt.date,
        no: str | None = None,
        district: int = 500101,
        kind: str = "enterprise",
        size_class: str | None = "small_micro",
        status: str = "normal",
        founded_by_returning: bool | None = True,
        staff_count: int | None = 5,
        new_eligible_hires: int | None = 0,
        workshop_recognised: bool | None = False,
        workshop_employed: int | None = None,
        workshop_new_build: bool | None = None,
        workshop_build_cost_fen: int | None = None,
        deregistration_date: dt.date | None = None,
        role: str = "legal_representative",
    ) -> int:
        k = next(self._seq)
        bid = self._id(
            insert(Business)
            .values(
                business_no=no or f"B{k:07d}",
                uscc=make_uscc("9", "1", district, k),
                name=f"测试经营主体{k}",
                kind=kind,
                size_class=size_class,
                registration_date=registration_date,
                deregistration_date=deregistration_date,
                district=district,
                status=status,
                founded_by_returning=founded_by_returning,
                staff_count=staff_count,
                new_eligible_hires=new_eligible_hires,
                workshop_recognised=workshop_recognised,
                workshop_employed=workshop_employed,
                workshop_new_build=workshop_new_build,
                workshop_build_cost_fen=workshop_build_cost_fen,
            )
            .returning(Business.id)
        )
        if founder is not None:
            self.founder(bid, founder, role=role, since=registration_date)
        return bid

    def founder(
        self,
        business: int,
        person: int,
        *,
        role: str = "legal_representative",
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> None:
        self.conn.execute(
            insert(Founder).values(
                business_id=business, person_id=person, role=role, since=since, until=until
            )
        )

    def year(self, business: int, year: int, **figures: int | None) -> None:
        self.conn.execute(insert(BusinessYear).values(business_id=business, year=year, **figures))

    def hire(
        self,
        business: int,
        person: int,
        hire_date: dt.date,
        *,
        contract: bool | None = True,
        no: str | None = None,
    ) -> int:
        k = next(self._seq)
        return self._id(
            insert(Employment)
            .values(
                employment_no=no or f"H{k:07d}",
                business_id=business,
                person_id=person,
                hire_date=hire_date,
                contract=contract,
                contract_start=hire_date if contract else None,
            )
            .returning(Employment.id)
        )

    def contributions(
        self,
        employment: int,
        paid: Iterable[int],
        *,
        parts: Sequence[int] = PARTS,
        individual: int = INDIVIDUAL,
    ) -> None:
        rows = [
            {
                "employment_id": employment,
                "month": ym,
                "employer_pension_fen": parts[0],
                "employer_medical_fen": parts[1],
                "employer_maternity_fen": parts[2],
                "employer_unemployment_fen": parts[3],
                "employer_injury_fen": parts[4],
                "individual_fen": individual,
            }
            for ym in paid
        ]
        if rows:
            self.conn.execute(insert(Contribution), rows)

    def grant(
        self,
        program: str,
        subject_key: str,
        *,
        period: str,
        amount_fen: int,
        district: int = 500101,
        person_key: str | None = None,
        slot: int | None = None,
        months: int | None = None,
    ) -> None:
        self.conn.execute(
            insert(Grant).values(
                program=program,
                subject_kind=SUBJECT_KIND.get(RECEIVED_SUBJECT[program][0], "other"),
                subject_key=subject_key,
                person_key=person_key,
                period=period,
                slot=slot,
                months=months,
                amount_fen=amount_fen,
                district=district,
                source="test",
            )
        )

    def honour(
        self,
        *,
        awarded_on: dt.date,
        person: int | None = None,
        business: int | None = None,
        level: str = "city",
    ) -> None:
        self.conn.execute(
            insert(Honour).values(
                person_id=person,
                business_id=business,
                level=level,
                title="优秀返乡创业者",
                awarded_on=awarded_on,
            )
        )

    def recommendation(self, business: int, recommended_by: str, recommended_on: dt.date) -> None:
        self.conn.execute(
            insert(Recommendation).values(
                business_id=business, recommended_by=recommended_by, recommended_on=recommended_on
            )
        )

    def credit_rating(self, business: int, rated_on: dt.date, valid_until: dt.date | None = None) -> None:
        self.conn.execute(
            insert(CreditRating).values(
                business_id=business,
                institution="重庆农村商业银行",
                rated_on=rated_on,
                valid_until=valid_until,
            )
        )

    def carrier(
        self,
        *,
        no: str | None = None,
        kind: str = "incubator",
        level: str = "municipal",
        district: int = 500101,
        municipal_date: dt.date | None = None,
        schedule: str | None = None,
    ) -> int:
        k = next(self._seq)
        return self._id(
            insert(Carrier)
            .values(
                carrier_no=no or f"C{k:07d}",
                name=f"测试孵化基地{k}",
                kind=kind,
                level=level,
                district=district,
                municipal_date=municipal_date,
                schedule=schedule,
            )
            .returning(Carrier.id)
        )

    def tenancy(
        self,
        business: int,
        carrier: int,
        start: dt.date,
        end: dt.date | None = None,
        *,
        rent_fen: int | None = 100_000,
        property_fee_fen: int | None = 20_000,
        utilities_fen: int | None = 30_000,
    ) -> None:
        self.conn.execute(
            insert(Tenancy).values(
                business_id=business,
                carrier_id=carrier,
                start=start,
                end=end,
                rent_fen=rent_fen,
                property_fee_fen=property_fee_fen,
                utilities_fen=utilities_fen,
            )
        )


# ---- a whole synthetic registry ------------------------------------------------------------------

DROPPED = ("loans", "other_loans", "trainings", "mentor_services", "onjob_trainings")


def _nulls(table: pa.Table, *names: str) -> pa.Table:
    for name in names:
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pa.nulls(table.num_rows, table.schema.field(name).type))
    return table


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    i = table.schema.get_field_index(name)
    if i < 0:
        return table.append_column(name, values)
    return table.set_column(i, name, values)


def registry_tables(tables: dict[str, pa.Table], on: dt.date) -> dict[str, pa.Table]:
    """The synth tables as the registry holds them (engine columns, plus the PII columns).

    Normalisations (each is what the database can represent, so both sides see the same facts):
    - persons: unknown ``groups`` → no group (the registry has membership rows, not "unknown");
      ``has_licence``/``licence_date`` → the earliest founded business (registered on or before ``on``);
      ``first_business`` → "founded at most one business" (the person-level value; see assembler);
    - businesses: unknown ``honour_city_level``/``credit_rated`` → false (no honour / rating row);
    - hires: ``si_period_start``/``si_period_end`` → unknown (no registry column); a duplicate
      (business, person, hire date) is dropped with its contributions;
    - carriers: ``award_year``/``rating`` → unknown (no registry column);
    - received: what the register's constraints allow — the second job subsidy of a person is dropped,
      a job / social-insurance subsidy's period carries the person (one business may pay several persons
      in a period; the engine reads the period only for startup and workshop awards);
    - loans, other_loans, trainings, mentor_services, onjob_trainings: not in the registry → dropped.
    """
    out: dict[str, pa.Table] = {}
    persons, businesses = tables["persons"], tables["businesses"]
    on_day = np.datetime64(on, "D").astype(np.int64)

    # Business history: founded count and earliest registration per person.
    founder_row = np.asarray(
        pc.index_in(businesses["founder_id"], value_set=persons["id"]).to_numpy(zero_copy_only=False)
    )
    reg = businesses["registration_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    n = persons.num_rows
    has_founder = ~np.isnan(founder_row.astype(float))
    fr = founder_row[has_founder].astype(np.int64)
    founded = np.bincount(fr, minlength=n)
    first_reg = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_reg, fr, reg[has_founder])
    has_lic = (founded > 0) & (first_reg <= on_day)
    groups = persons["groups"].combine_chunks()
    empty = pa.array([[]] * n, type=groups.type)
    persons = _set(persons, "groups", pc.if_else(pc.is_null(groups), empty, groups))
    persons = _set(persons, "first_business", pa.array(founded <= 1))
    persons = _set(persons, "has_licence", pa.array(has_lic))
    persons = _set(
        persons,
        "licence_date",
        pa.array(np.where(has_lic, first_reg, 0).astype("datetime64[D]"), type=pa.date32(), mask=~has_lic),
    )
    persons = _set(persons, "honour_city_level", pc.fill_null(persons["honour_city_level"], False))
    out["persons"] = persons

    b = businesses
    b = _set(b, "honour_city_level", pc.fill_null(b["honour_city_level"], False))
    b = _set(b, "credit_rated", pc.fill_null(b["credit_rated"], False))
    out["businesses"] = b
    out["business_years"] = tables["business_years"]

    hires = tables["hires"]
    key = pc.binary_join_element_wise(
        hires["business_id"], hires["person_id"], pc.cast(hires["hire_date"], pa.string()), "|"
    )
    _, first = np.unique(
        np.asarray(key.to_numpy(zero_copy_only=False), dtype=object).astype(str), return_index=True
    )
    keep = np.zeros(hires.num_rows, dtype=bool)
    keep[first] = True
    hires = _nulls(hires.filter(pa.array(keep)), "si_period_start", "si_period_end")
    out["hires"] = hires
    con = tables["contributions"]
    out["contributions"] = con.filter(pc.is_in(con["hire_id"], value_set=hires["id"]))
    out["carriers"] = _nulls(tables["carriers"], "award_year", "rating")
    out["received"] = _registry_received(tables["received"])
    return out


def _registry_received(rec: pa.Table) -> pa.Table:
    program = np.asarray(rec["program"].to_numpy(zero_copy_only=False), dtype=object).astype(str)
    subject = np.asarray(rec["subject_id"].to_numpy(zero_copy_only=False), dtype=object).astype(str)
    person = rec["person_id"].to_pylist()
    period = np.asarray(rec["period"].to_numpy(zero_copy_only=False), dtype=object).astype(str)
    keep = np.ones(rec.num_rows, dtype=bool)
    seen_job: set[str] = set()
    seen_key: set[tuple[str, str, str]] = set()
    new_period = period.astype(object)
    for i in range(rec.num_rows):
        if program[i] in ("job_subsidy", "social_insurance_subsidy"):
            new_period[i] = f"{period[i]}#{person[i]}"
        if program[i] == "job_subsidy":
            if person[i] in seen_job:
                keep[i] = False
                continue
            seen_job.add(str(person[i]))
        k = (program[i], subject[i], str(new_period[i]))
        if k in seen_key:
            keep[i] = False
            continue
        seen_key.add(k)
    rec = _set(rec, "period", pa.array(new_period.tolist(), type=pa.string()))
    return rec.filter(pa.array(keep))


def _col(table: pa.Table, name: str) -> list[Any]:
    return table[name].to_pylist()


def _chunks(rows: Sequence[dict[str, Any]], size: int = 20_000) -> Iterator[Sequence[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _insert(conn: Connection, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for part in _chunks(rows):
        conn.execute(insert(model), list(part))


def bulk_load(conn: Connection, reg: dict[str, pa.Table], pii: Pii, on: dt.date) -> dict[str, int]:
    """Insert the normalised synth registry (``registry_tables``) with bulk Core inserts and explicit
    primary keys (row number + 1). Adds rows that must NOT count on ``on`` (expired group memberships,
    district-level or future honours, expired credit ratings, future recommendations, ended tenancies),
    so the equality test also exercises the in-force rules. Returns rows inserted per table."""
    cipher = pii.cipher
    persons, businesses = reg["persons"], reg["businesses"]
    p_ids = persons["id"]
    p_index = {k: i + 1 for i, k in enumerate(p_ids.to_pylist())}
    b_index = {k: i + 1 for i, k in enumerate(businesses["id"].to_pylist())}
    c_index = {k: i + 1 for i, k in enumerate(reg["carriers"]["id"].to_pylist())}
    h_index = {k: i + 1 for i, k in enumerate(reg["hires"]["id"].to_pylist())}
    counts: dict[str, int] = {}
    later = on + dt.timedelta(days=30)

    numbers = _col(persons, "id_number")
    phones = _col(persons, "phone")
    rows = [
        {
            "id": i + 1,
            "person_no": no,
            "name": name,
            "id_number_enc": cipher.encrypt(num, ID_FIELD),
            "id_number_bidx": cipher.blind_index(num, ID_FIELD),
            "phone_enc": cipher.encrypt("+86" + ph, PHONE_FIELD),
            "phone_bidx": cipher.blind_index("+86" + ph, PHONE_FIELD),
            "birth_date": bd,
            "gender": g,
            "hukou_district": hk,
            "graduation_date": gd,
            "returning_entrepreneur": re,
            "startup_intention": si,
            "second_time_founder_stable": st,
            "holds_free_workstation": fw,
        }
        for i, (no, name, num, ph, bd, g, hk, gd, re, si, st, fw) in enumerate(
            zip(
                _col(persons, "id"),
                _col(persons, "name"),
                numbers,
                phones,
                _col(persons, "birth_date"),
                _col(persons, "gender"),
                _col(persons, "hukou_district"),
                _col(persons, "graduation_date"),
                _col(persons, "returning_entrepreneur"),
                _col(persons, "startup_intention"),
                _col(persons, "second_time_founder_stable"),
                _col(persons, "holds_free_workstation"),
                strict=True,
            )
        )
    ]
    _insert(conn, Person, rows)
    counts["persons"] = len(rows)

    groups = _col(persons, "groups")
    rows = []
    for i, gs in enumerate(groups):
        for gname in gs or ():
            rows.append(
                {"person_id": i + 1, "group_code": gname, "since": dt.date(2018, 1, 1), "until": None}
            )
        if i % 20 == 3 and "registered_unemployed" not in (gs or ()):
            rows.append(
                {
                    "person_id": i + 1,
                    "group_code": "registered_unemployed",
                    "since": None,
                    "until": on - dt.timedelta(days=1),
                }
            )
        if i % 31 == 5 and "dibao" not in (gs or ()):
            rows.append({"person_id": i + 1, "group_code": "dibao", "since": later, "until": None})
    _insert(conn, PersonGroup, rows)
    counts["person_groups"] = len(rows)

    rows = []
    for i, flag in enumerate(_col(persons, "honour_city_level")):
        if flag:
            rows.append(
                {
                    "person_id": i + 1,
                    "business_id": None,
                    "level": ("city", "provincial", "national")[i % 3],
                    "title": "返乡创业之星",
                    "awarded_on": dt.date(2020, 1, 1),
                }
            )
        elif i % 17 == 2:
            rows.append(
                {
                    "person_id": i + 1,
                    "business_id": None,
                    "level": "district",
                    "title": "区县创业之星",
                    "awarded_on": dt.date(2020, 1, 1),
                }
            )
        elif i % 19 == 4:
            rows.append(
                {
                    "person_id": i + 1,
                    "business_id": None,
                    "level": "city",
                    "title": "返乡创业之星",
                    "awarded_on": later,
                }
            )

    reg_dates = _col(businesses, "registration_date")
    b_rows = []
    f_rows = []
    for i, (
        no,
        name,
        uscc,
        district,
        kind,
        size,
        rd,
        status,
        founder,
        fbr,
        staff,
        new,
        ws,
        wse,
        wsn,
        wsc,
        ind,
    ) in enumerate(
        zip(
            _col(businesses, "id"),
            _col(businesses, "name"),
            _col(businesses, "uscc"),
            _col(businesses, "district"),
            _col(businesses, "kind"),
            _col(businesses, "size_class"),
            reg_dates,
            _col(businesses, "status"),
            _col(businesses, "founder_id"),
            _col(businesses, "founded_by_returning"),
            _col(businesses, "staff_count"),
            _col(businesses, "new_eligible_hires"),
            _col(businesses, "workshop_recognised"),
            _col(businesses, "workshop_employed"),
            _col(businesses, "workshop_new_build"),
            _col(businesses, "workshop_build_cost_fen"),
            _col(businesses, "industry"),
            strict=True,
        )
    ):
        b_rows.append(
            {
                "id": i + 1,
                "business_no": no,
                "uscc": uscc,
                "registration_no": None,
                "name": name,
                "kind": kind,
                "size_class": size,
                "registration_date": rd,
                "deregistration_date": None,
                "district": district,
                "industry": ind,
                "status": status,
                "founded_by_returning": fbr,
                "staff_count": staff,
                "new_eligible_hires": new,
                "workshop_recognised": ws,
                "workshop_employed": wse,
                "workshop_new_build": wsn,
                "workshop_build_cost_fen": wsc,
            }
        )
        if founder is not None:
            f_rows.append(
                {
                    "business_id": i + 1,
                    "person_id": p_index[founder],
                    "role": "legal_representative",
                    "since": rd,
                    "until": None,
                }
            )
    _insert(conn, Business, b_rows)
    _insert(conn, Founder, f_rows)
    counts["businesses"] = len(b_rows)
    counts["founders"] = len(f_rows)

    for i, flag in enumerate(_col(businesses, "honour_city_level")):
        if flag:
            rows.append(
                {
                    "person_id": None,
                    "business_id": i + 1,
                    "level": ("city", "national")[i % 2],
                    "title": "市级示范项目",
                    "awarded_on": reg_dates[i],
                }
            )
        elif i % 13 == 1:
            rows.append(
                {
                    "person_id": None,
                    "business_id": i + 1,
                    "level": "district",
                    "title": "区级示范项目",
                    "awarded_on": reg_dates[i],
                }
            )
    _insert(conn, Honour, rows)
    counts["honours"] = len(rows)

    rows = []
    other = {"national_incubator_demo": "credit_community", "credit_community": "national_incubator_demo"}
    for i, rec in enumerate(_col(businesses, "recommended_by")):
        if rec and rec != "none":
            rows.append({"business_id": i + 1, "recommended_by": rec, "recommended_on": reg_dates[i]})
            if i % 7 == 0:  # an older recommendation by the other kind: the latest one counts
                rows.append(
                    {
                        "business_id": i + 1,
                        "recommended_by": other[rec],
                        "recommended_on": reg_dates[i] - dt.timedelta(days=10),
                    }
                )
        elif i % 11 == 0:
            rows.append({"business_id": i + 1, "recommended_by": "credit_community", "recommended_on": later})
    _insert(conn, Recommendation, rows)
    counts["recommendations"] = len(rows)

    rows = []
    for i, flag in enumerate(_col(businesses, "credit_rated")):
        if flag:
            rows.append(
                {
                    "person_id": None,
                    "business_id": i + 1,
                    "institution": "重庆农村商业银行",
                    "rated_on": reg_dates[i],
                    "valid_until": None,
                }
            )
        elif i % 9 == 0:
            rows.append(
                {
                    "person_id": None,
                    "business_id": i + 1,
                    "institution": "重庆银行",
                    "rated_on": reg_dates[i],
                    "valid_until": on - dt.timedelta(days=1),
                }
            )
    _insert(conn, CreditRating, rows)
    counts["credit_ratings"] = len(rows)

    carriers = reg["carriers"]
    rows = [
        {
            "id": i + 1,
            "carrier_no": no,
            "name": f"合成载体{i + 1}",
            "kind": kind,
            "level": level,
            "district": district,
            "municipal_date": md,
            "national_date": nd,
            "schedule": sched,
        }
        for i, (no, kind, level, district, md, nd, sched) in enumerate(
            zip(
                _col(carriers, "id"),
                _col(carriers, "kind"),
                _col(carriers, "level"),
                _col(carriers, "district"),
                _col(carriers, "municipal_date"),
                _col(carriers, "national_date"),
                _col(carriers, "schedule"),
                strict=True,
            )
        )
    ]
    _insert(conn, Carrier, rows)
    counts["carriers"] = len(rows)

    rows = []
    for i, (cid, start, rent, prop, util) in enumerate(
        zip(
            _col(businesses, "carrier_id"),
            _col(businesses, "tenancy_start"),
            _col(businesses, "rent_fen"),
            _col(businesses, "property_fee_fen"),
            _col(businesses, "utilities_fen"),
            strict=True,
        )
    ):
        if cid is not None:
            rows.append(
                {
                    "business_id": i + 1,
                    "carrier_id": c_index[cid],
                    "start": start,
                    "end": None,
                    "rent_fen": rent,
                    "property_fee_fen": prop,
                    "utilities_fen": util,
                }
            )
            if i % 5 == 0:
                rows.append(
                    {
                        "business_id": i + 1,
                        "carrier_id": c_index[cid],
                        "start": start - dt.timedelta(days=400),
                        "end": start - dt.timedelta(days=1),
                        "rent_fen": 1,
                        "property_fee_fen": 1,
                        "utilities_fen": 1,
                    }
                )
        elif i % 29 == 0 and carriers.num_rows:
            rows.append(
                {
                    "business_id": i + 1,
                    "carrier_id": 1 + i % carriers.num_rows,
                    "start": reg_dates[i],
                    "end": on - dt.timedelta(days=1),
                    "rent_fen": 1,
                    "property_fee_fen": 1,
                    "utilities_fen": 1,
                }
            )
    _insert(conn, Tenancy, rows)
    counts["tenancies"] = len(rows)

    by = reg["business_years"]
    rows = [
        {
            "business_id": b_index[bid],
            "year": y,
            "employer_si_paid_fen": si,
            "online_revenue_fen": rev,
            "online_orders": orders,
            "courier_fees_fen": fees,
        }
        for bid, y, si, rev, orders, fees in zip(
            _col(by, "business_id"),
            _col(by, "year"),
            _col(by, "employer_si_paid_fen"),
            _col(by, "online_revenue_fen"),
            _col(by, "online_orders"),
            _col(by, "courier_fees_fen"),
            strict=True,
        )
    ]
    _insert(conn, BusinessYear, rows)
    counts["business_years"] = len(rows)

    hires = reg["hires"]
    rows = [
        {
            "id": i + 1,
            "employment_no": no,
            "business_id": b_index[bid],
            "person_id": p_index[pid],
            "hire_date": hd,
            "contract": contract,
            "contract_start": hd if contract else None,
        }
        for i, (no, bid, pid, hd, contract) in enumerate(
            zip(
                _col(hires, "id"),
                _col(hires, "business_id"),
                _col(hires, "person_id"),
                _col(hires, "hire_date"),
                _col(hires, "contract"),
                strict=True,
            )
        )
    ]
    _insert(conn, Employment, rows)
    counts["employments"] = len(rows)

    con = reg["contributions"]
    ym = pc.cast(pc.replace_substring(con["month"], "-", ""), pa.int64()).to_numpy()
    fen = con["employer_fen"].to_numpy()
    pension = fen * 16 // 27
    medical = fen * 8 // 27
    maternity = fen // 27
    unemployment = fen // 54
    injury = fen - pension - medical - maternity - unemployment
    hire_pk = np.asarray([h_index[h] for h in _col(con, "hire_id")], dtype=np.int64)
    cols = [hire_pk, ym, pension, medical, maternity, unemployment, injury, fen // 3]
    rows = [
        {
            "employment_id": e,
            "month": m,
            "employer_pension_fen": a,
            "employer_medical_fen": b_,
            "employer_maternity_fen": c,
            "employer_unemployment_fen": d,
            "employer_injury_fen": e_,
            "individual_fen": ind,
        }
        for e, m, a, b_, c, d, e_, ind in zip(*(x.tolist() for x in cols), strict=True)
    ]
    _insert(conn, Contribution, rows)
    counts["contributions"] = len(rows)

    rec = reg["received"]
    rows = []
    slots: dict[str, int] = {}
    for program, subject, person, period, months_, amount, district in zip(
        _col(rec, "program"),
        _col(rec, "subject_id"),
        _col(rec, "person_id"),
        _col(rec, "period"),
        _col(rec, "months"),
        _col(rec, "amount_fen"),
        _col(rec, "district"),
        strict=True,
    ):
        slot = None
        if program == "startup_subsidy":
            slot = slots[subject] = slots.get(subject, 0) + 1
        rows.append(
            {
                "program": program,
                "subject_kind": SUBJECT_KIND.get(RECEIVED_SUBJECT[program][0], "other"),
                "subject_key": subject,
                "person_key": person,
                "period": period,
                "slot": slot,
                "months": months_,
                "amount_fen": amount,
                "district": district,
                "source": "synth",
            }
        )
    _insert(conn, Grant, rows)
    counts["grants"] = len(rows)

    if conn.dialect.name == "postgresql":
        for table in ("persons", "businesses", "carriers", "employments"):
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    return counts
