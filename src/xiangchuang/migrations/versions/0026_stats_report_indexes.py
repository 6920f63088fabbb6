"""statistics: indexes for the quarterly report's largest probes

- ``persons (returning_entrepreneur, id)``: the returning / incoming entrepreneurs (``= true``) as an index
  range, not a probe of every founder's person row;
- ``application_transitions (application_id, action, at)``: "no earlier transition of this action" (the
  first submission, the first approval …) from the index alone, without reading each earlier history row;
- ``employments (business_id, hire_date, left_on)``: the employers with an employment running in a month
  (work-injury participation) from the index alone;
- the history index ``application_transitions (application_id, at, id)`` (0022) also holds ``from_state``:
  the step durations read each history in order from the index alone, without a table row per transition;
- the month index ``contributions (month, employment_id)`` also holds ``employer_injury_fen``: the month's
  payers of the work-injury part come from the index alone, not from ~1 heap page per contribution row.

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-27 10:20:00
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_persons_returning", "persons", ["returning_entrepreneur", "id"]),
    ("ix_application_transitions_first", "application_transitions", ["application_id", "action", "at"]),
    ("ix_employments_business_active", "employments", ["business_id", "hire_date", "left_on"]),
)


# (index, table, columns before, columns after): indexes widened to cover their queries
WIDENED = (
    (
        "ix_application_transitions_history",
        "application_transitions",
        ["application_id", "at", "id"],
        ["application_id", "at", "id", "from_state"],
    ),
    (
        "ix_contributions_month",
        "contributions",
        ["month", "employment_id"],
        ["month", "employment_id", "employer_injury_fen"],
    ),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    for name, table, _before, after in WIDENED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, after)


def downgrade() -> None:
    for name, table, before, _after in WIDENED:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, before)
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
