"""statistics: each transition's step-entry time, stored when it is written

- ``application_transitions.entered_at`` (nullable): when the step the transition leaves (``from_state``)
  was entered — the ``at`` of the application's previous transition in (at, id) order, NULL for its first
  one. The step durations read it instead of a LAG window over every active application's whole history.
  Existing rows are backfilled by ONE set-based statement computing exactly that LAG (an UPDATE … FROM a
  window over the table: PostgreSQL, SQLite ≥ 3.33); new rows get it from
  ``applications.repository.append_transition``.
- ``ix_application_transitions_at`` ``(at, application_id)`` widened to ``(at, application_id, from_state,
  entered_at, id)``: the steps left in a quarter with their entry time are an index range scan, nothing
  read from the table.

The table is not hashed or guarded by triggers (the tamper-evident chain is the audit log's, which the
backfill does not touch; the facts change tracking of 0025 does not cover it): the backfill breaks no
verification.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-27 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE application_transitions
SET entered_at = prev.entered_at
FROM (
    SELECT id, LAG(at) OVER (PARTITION BY application_id ORDER BY at, id) AS entered_at
    FROM application_transitions
) AS prev
WHERE prev.id = application_transitions.id AND prev.entered_at IS NOT NULL
"""

INDEX = "ix_application_transitions_at"
BEFORE = ["at", "application_id"]
AFTER = ["at", "application_id", "from_state", "entered_at", "id"]


def upgrade() -> None:
    op.add_column(
        "application_transitions", sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(BACKFILL)
    op.drop_index(INDEX, table_name="application_transitions")
    op.create_index(INDEX, "application_transitions", AFTER)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="application_transitions")
    op.create_index(INDEX, "application_transitions", BEFORE)
    with op.batch_alter_table("application_transitions") as batch_op:
        batch_op.drop_column("entered_at")
