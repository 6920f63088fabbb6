"""Application kinds: one per program of the notice that a person or business applies for.

Each kind names its engine program (the same id), the registry table its subject is a row of and the
number that identifies the subject there, and how its claim period is written. Loans are not here:
创业担保贷款 has its own flow (guarantee fund, bank), see issue 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xiangchuang.engine.programs import BY_ID


@dataclass(frozen=True)
class Kind:
    id: str  # = the engine program id
    subject_table: str  # engine/registry table of the subject
    subject_key: str  # the registry number that identifies the subject
    period: str  # how the claim period is written (shown to the applicant)

    @property
    def title(self) -> str:
        return BY_ID[self.id].title

    @property
    def clause(self) -> str:
        return BY_ID[self.id].clause


_KINDS: Final = (
    Kind("startup_subsidy", "businesses", "business_no", "年度，如 2024"),
    Kind("online_sales_subsidy", "businesses", "business_no", "一次性：once"),
    Kind("job_subsidy", "hires", "employment_no", "年度，如 2024"),
    Kind("social_insurance_subsidy", "hires", "employment_no", "年度，如 2024"),
    Kind("training_syb", "trainings", "training_no", "培训期次"),
    Kind("training_online", "trainings", "training_no", "培训期次"),
    Kind("training_iyb", "trainings", "training_no", "培训期次"),
    Kind("free_workstation", "persons", "person_no", "一次性：once"),
    Kind("carrier_rent_reduction", "businesses", "business_no", "年度，如 2024"),
    Kind("workshop_award", "businesses", "business_no", "年度，如 2024"),
    Kind("carrier_award", "carriers", "carrier_no", "年度，如 2024"),
    Kind("mentor_service_subsidy", "mentor_services", "service_no", "服务期，如 2024"),
    Kind("onjob_training_subsidy", "onjob_trainings", "training_no", "培训期次"),
)

KINDS: Final[dict[str, Kind]] = {k.id: k for k in _KINDS}
KIND_IDS: Final[tuple[str, ...]] = tuple(KINDS)
