"""Hypothesis strategies for random but plausible case documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from xiangchuang.engine.facts import GROUPS

DISTRICTS = ["500101", "500102", "500103", "500154", "500243", "500190"]
D0, D1 = dt.date(2018, 1, 1), dt.date(2025, 12, 31)
dates = st.dates(min_value=D0, max_value=D1).map(lambda d: d.isoformat())
births = st.dates(min_value=dt.date(1960, 1, 1), max_value=dt.date(2004, 12, 31)).map(lambda d: d.isoformat())
groups = st.lists(st.sampled_from(sorted(GROUPS)), max_size=3, unique=True)


def maybe(strategy: st.SearchStrategy[Any], p_missing: float = 0.15) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(None), strategy) if p_missing else strategy


def _strip(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@st.composite
def persons(draw: st.DrawFn, pid: str) -> dict[str, Any]:
    return _strip(
        {
            "id": pid,
            "birth_date": draw(maybe(births)),
            "gender": draw(maybe(st.sampled_from(["M", "F"]))),
            "hukou_district": draw(st.sampled_from(DISTRICTS)),
            "groups": draw(maybe(groups)),
            "returning_entrepreneur": draw(maybe(st.booleans())),
            "graduation_date": draw(maybe(dates)),
            "startup_intention": draw(maybe(st.booleans())),
            "first_business": draw(maybe(st.booleans())),
            "second_time_founder_stable": draw(maybe(st.booleans())),
            "honour_city_level": draw(maybe(st.booleans())),
            "holds_free_workstation": draw(maybe(st.booleans())),
        }
    )


def _months(start: dt.date, n: int, gap: int | None) -> list[str]:
    out = []
    y, m = start.year, start.month
    for i in range(n):
        if gap is None or i != gap:
            out.append(f"{y:04d}-{m:02d}")
        m += 1
        if m > 12:
            y, m = y + 1, 1
    return out


@st.composite
def cases(draw: st.DrawFn, supplied: frozenset[str]) -> dict[str, Any]:
    """A case; ``supplied`` names the optional sections present (so cases can form one batch)."""
    person = draw(persons("P1"))
    if "other_loans" in supplied:
        person["other_loans"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "kind": st.sampled_from(
                            ["student", "housing", "car", "consumer", "business", "other"]
                        ),
                        "amount_fen": st.integers(0, 20_000_000),
                    }
                ),
                max_size=2,
            )
        )
    business = _strip(
        {
            "id": "B1",
            "district": draw(st.sampled_from(DISTRICTS)),
            "kind": draw(
                maybe(st.sampled_from(["enterprise", "individual_business", "farmer_cooperative", "other"]))
            ),
            "size_class": draw(maybe(st.sampled_from(["small_micro", "medium"]))),
            "registration_date": draw(maybe(dates)),
            "status": draw(maybe(st.sampled_from(["normal", "normal", "abnormal", "deregistered"]))),
            "founded_by_returning": draw(maybe(st.booleans())),
            "online_route": draw(maybe(st.sampled_from(["auto", "revenue", "orders"]))),
            "staff_count": draw(maybe(st.integers(0, 200))),
            "new_eligible_hires": draw(maybe(st.integers(0, 40))),
            "honour_city_level": draw(maybe(st.booleans())),
            "credit_rated": draw(maybe(st.booleans())),
            "workshop_recognised": draw(maybe(st.booleans(), 0.5)),
            "workshop_employed": draw(maybe(st.integers(0, 60), 0.5)),
            "tenancy_start": draw(maybe(dates, 0.6)),
            "rent_fen": draw(maybe(st.integers(0, 2_000_000))),
            "property_fee_fen": draw(maybe(st.integers(0, 500_000))),
            "utilities_fen": draw(maybe(st.integers(0, 500_000))),
        }
    )
    if "business_years" in supplied:
        business["years"] = {
            str(y): _strip(
                {
                    "employer_si_paid_fen": draw(maybe(st.integers(0, 50_000_000))),
                    "online_revenue_fen": draw(maybe(st.integers(0, 600_000_000))),
                    "online_orders": draw(maybe(st.integers(0, 5000))),
                    "courier_fees_fen": draw(maybe(st.integers(0, 100_000_000))),
                }
            )
            for y in draw(st.lists(st.integers(2019, 2025), max_size=3, unique=True))
        }
    case: dict[str, Any] = {"person": person, "business": business}
    if draw(st.booleans()):
        case["carrier"] = {
            "id": "C1",
            "kind": draw(st.sampled_from(["incubator", "returning_park", "station"])),
            "level": "municipal",
            "municipal_date": draw(dates),
            "award_year": draw(st.integers(2019, 2025)),
            "rating": draw(st.sampled_from(["A", "B", "C", "none"])),
        }
        if "tenancy_start" in business:
            business["carrier_id"] = "C1"
    hires = []
    for j in range(draw(st.integers(0, 2))):
        hire = _strip(
            {
                "id": f"H{j + 1}",
                "person": draw(persons(f"E{j + 1}")),
                "hire_date": draw(maybe(dates)),
                "contract": draw(maybe(st.booleans())),
            }
        )
        if "contributions" in supplied:
            start = draw(st.dates(min_value=D0, max_value=D1))
            n = draw(st.integers(0, 30))
            gap = draw(st.one_of(st.none(), st.integers(0, 29)))
            hire["contributions"] = [
                {"month": m, "employer_fen": draw(st.integers(0, 200_000))} for m in _months(start, n, gap)
            ]
        hires.append(hire)
    case["hires"] = hires
    case["loan"] = _strip(
        {
            "kind": draw(st.sampled_from(["individual", "partnership", "small_micro"])),
            "contract_date": draw(maybe(dates, 0.4)),
            "amount_fen": draw(maybe(st.integers(0, 700_000_000))),
            "partners": draw(maybe(st.integers(1, 12))),
            "term_months": draw(maybe(st.integers(6, 48))),
            "rate_bp": draw(maybe(st.integers(300, 700))),
            "lpr_bp": draw(maybe(st.sampled_from([300, 310, 345, 355, 365, 385, 400]))),
            "new_loan": draw(maybe(st.booleans())),
            "recommended_by": draw(
                maybe(st.sampled_from(["none", "national_incubator_demo", "credit_community"]))
            ),
            "settle_start": draw(maybe(dates)),
            "settle_end": draw(maybe(dates)),
            "principal_fen": draw(maybe(st.integers(0, 600_000_000))),
            "excluded_days": draw(maybe(st.integers(0, 40))),
        }
    )
    case["trainings"] = [
        _strip(
            {
                "kind": draw(st.sampled_from(["syb", "iyb", "online"])),
                "start_date": draw(maybe(dates)),
                "completion_date": draw(maybe(dates)),
            }
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    case["mentor_services"] = [
        _strip(
            {
                "level": draw(maybe(st.sampled_from(["city", "district"]))),
                "activity": draw(maybe(st.sampled_from(["lecture", "assessment", "pairing", "other"]))),
                "units": draw(maybe(st.integers(0, 20))),
                "rating": draw(maybe(st.sampled_from(["excellent", "good", "pass", "poor"]))),
                "confirmed": draw(maybe(st.booleans())),
            }
        )
        for _ in range(draw(st.integers(0, 1)))
    ]
    case["onjob_trainings"] = [
        _strip(
            {
                "provider_kind": draw(
                    maybe(st.sampled_from(["business", "cooperative", "association", "artisan"]))
                ),
                "founded_by_returning": draw(maybe(st.booleans())),
                "course_level": draw(maybe(st.sampled_from(["junior", "intermediate", "senior", "special"]))),
                "trainees": draw(maybe(st.integers(0, 50))),
                "skilled_post": draw(maybe(st.booleans())),
                "completion_date": draw(maybe(dates)),
            }
        )
        for _ in range(draw(st.integers(0, 1)))
    ]
    if "received" in supplied:
        case["received"] = draw(
            st.lists(
                st.sampled_from(
                    [
                        {"program": "startup_subsidy", "period": "2022"},
                        {"program": "startup_subsidy", "period": "2023"},
                        {"program": "online_sales_subsidy", "period": "2022"},
                        {"program": "training_syb", "period": "2021"},
                        {"program": "workshop_award", "period": "2024"},
                    ]
                ),
                max_size=3,
                unique_by=lambda r: (r["program"], r["period"]),
            )
        )
    return case


supplied_sets = st.sets(st.sampled_from(["business_years", "contributions", "other_loans", "received"])).map(
    frozenset
)
