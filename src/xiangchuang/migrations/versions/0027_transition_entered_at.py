"""statistics: each transition's step-entry time, stored when it is written

- ``application_transitions.entered_at`` (nullable): when the step the transition leaves (``from_state``)
  was entered — the ``at`` of the application's previous transition in (at, id) order, NULL for its first
  one. The step durations read it instead of a LAG window over every active application's whole history.
  Existing rows are backfilled by ONE set-based statement computing exactly that LAG (an UPDATE … FROM a
  window over the table: PostgreSQL, SQLite ≥ 3.33); new rows get it from
  ``applications.repository.append_transition``.
- ``ix_application_transitions_at`` ``(at, application_id)`` widened to ``(at, application_id, from_state,
  entered_at, id)``: the steps left in a quarter with their entry time are an index range scan, nothing
  read from the table;
- ``ix_application_transitions_action_at`` ``(action, at, application_id)`` widened with ``id``: an
  action's transitions in the quarter (the first submissions, approvals …) and "no earlier transition of
  this action" by (at, id) come from the index alone on PostgreSQL, not from ~1 heap page per candidate
  and a scan of the whole table (SQLite's indexes hold the rowid = id already).

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

TABLE = "application_transitions"
# (index, columns before, columns after): indexes widened to cover the report's queries
WIDENED = (
    (
        "ix_application_transitions_at",
        ["at", "application_id"],
        ["at", "application_id", "from_state", "entered_at", "id"],
    ),
    (
        "ix_application_transitions_action_at",
        ["action", "at", "application_id"],
        ["action", "at", "application_id", "id"],
    ),
)


def upgrade() -> None:
    # the indexes to be widened are dropped first: the backfill then maintains two indexes fewer
    # (PostgreSQL writes a new entry in every index of the table for each row it updates)
    for name, _before, _after in WIDENED:
        op.drop_index(name, table_name=TABLE)
    op.add_column(TABLE, sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(BACKFILL)
    for name, _before, after in WIDENED:
        op.create_index(name, TABLE, after)


def downgrade() -> None:
    for name, before, _after in WIDENED:
        op.drop_index(name, table_name=TABLE)
        op.create_index(name, TABLE, before)
    with op.batch_alter_table(TABLE) as batch_op:
        batch_op.drop_column("entered_at")
