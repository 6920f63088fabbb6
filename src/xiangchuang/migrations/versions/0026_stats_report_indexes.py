"""statistics: indexes for the quarterly report's largest probes

- ``persons (returning_entrepreneur, id)``: the returning / incoming entrepreneurs (``= true``) as an index
  range, not a probe of every founder's person row;
- ``application_transitions (application_id, action, at)``: "no earlier transition of this action" (the
  first submission, the first approval …) from the index alone, without reading each earlier history row;
- ``employments (business_id, hire_date, left_on)``: the employers with an employment running in a month
  (work-injury participation) from the index alone;
- the history index ``application_transitions (application_id, at, id)`` (0022) also holds ``from_state``:
  the step durations read each history in order from the index alone, without a table row per transition.

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


HISTORY = "ix_application_transitions_history"


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    op.drop_index(HISTORY, table_name="application_transitions")
    op.create_index(HISTORY, "application_transitions", ["application_id", "at", "id", "from_state"])


def downgrade() -> None:
    op.drop_index(HISTORY, table_name="application_transitions")
    op.create_index(HISTORY, "application_transitions", ["application_id", "at", "id"])
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
