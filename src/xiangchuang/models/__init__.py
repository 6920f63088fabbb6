"""All SQLAlchemy models (imported here so Alembic sees the whole metadata)."""

from xiangchuang.models.applications import (
    Application,
    Attachment,
    Determination,
    Invitation,
    Objection,
    TransitionLog,
)
from xiangchuang.models.audit import AuditEvent, AuditHead
from xiangchuang.models.base import Base
from xiangchuang.models.businesses import (
    Business,
    BusinessTag,
    BusinessYear,
    CreditRating,
    Founder,
    Honour,
    Recommendation,
)
from xiangchuang.models.carriers import (
    Carrier,
    CarrierBill,
    CarrierRating,
    Tenancy,
    Workstation,
    WorkstationAllocation,
)
from xiangchuang.models.disbursement import DisbursementBatch, DisbursementItem
from xiangchuang.models.employment import Contribution, Employment
from xiangchuang.models.grants import Grant
from xiangchuang.models.idempotency import IdempotencyRecord
from xiangchuang.models.imports import ImportBatch
from xiangchuang.models.ledger import Account, JournalEntry, Posting
from xiangchuang.models.loans import (
    Loan,
    LoanDetermination,
    LoanInstalment,
    LoanPeriod,
    LoanRepayment,
    LoanSubsidyLine,
    LoanTransition,
)
from xiangchuang.models.matching import MatchResult, MatchRun
from xiangchuang.models.mentors import (
    AccelerationSelection,
    AccelerationSupport,
    DrawCommitment,
    Mentor,
    MentorDraw,
    MentorDrawSlot,
    MentorEvent,
    MentorEventProject,
    MentorInvolvement,
    MentorRelation,
    MentorScore,
    MentorService,
)
from xiangchuang.models.outbox import InboxMessage, OutboxMessage
from xiangchuang.models.parameter_changes import ParameterChange
from xiangchuang.models.people import Person, PersonGroup
from xiangchuang.models.publicity import PublicityBatch, PublicityLine
from xiangchuang.models.stats import StatAlert, StatFigure, StatPublication
from xiangchuang.models.users import ApiToken, RateLimitBucket, User, UserSession

__all__ = [
    "AccelerationSelection",
    "AccelerationSupport",
    "Account",
    "ApiToken",
    "Application",
    "Attachment",
    "AuditEvent",
    "AuditHead",
    "Base",
    "Business",
    "BusinessTag",
    "BusinessYear",
    "Carrier",
    "CarrierBill",
    "CarrierRating",
    "Contribution",
    "CreditRating",
    "Determination",
    "DisbursementBatch",
    "DisbursementItem",
    "DrawCommitment",
    "Employment",
    "Founder",
    "Grant",
    "Honour",
    "IdempotencyRecord",
    "ImportBatch",
    "InboxMessage",
    "Invitation",
    "JournalEntry",
    "Loan",
    "LoanDetermination",
    "LoanInstalment",
    "LoanPeriod",
    "LoanRepayment",
    "LoanSubsidyLine",
    "LoanTransition",
    "MatchResult",
    "MatchRun",
    "Mentor",
    "MentorDraw",
    "MentorDrawSlot",
    "MentorEvent",
    "MentorEventProject",
    "MentorInvolvement",
    "MentorRelation",
    "MentorScore",
    "MentorService",
    "Objection",
    "OutboxMessage",
    "ParameterChange",
    "Person",
    "PersonGroup",
    "Posting",
    "PublicityBatch",
    "PublicityLine",
    "RateLimitBucket",
    "Recommendation",
    "StatAlert",
    "StatFigure",
    "StatPublication",
    "Tenancy",
    "TransitionLog",
    "User",
    "UserSession",
    "Workstation",
    "WorkstationAllocation",
]
