"""registry: a workshop's 新建车间 and 建设投入 (the workshop award's construction subsidy)

- ``businesses.workshop_new_build`` (boolean, nullable): the workshop is newly built and its construction
  subsidy is applied for (engine fact ``workshop_new_build``);
- ``businesses.workshop_build_cost_fen`` (BIGINT fen, nullable, ≥ 0): its construction investment (engine
  fact ``workshop_build_cost_fen``).

Both are NULL (unknown) for every existing business: the engine then leaves a recognised workshop's
amount undetermined as before (README choice 51), never reads NULL as "not new" or 0.

Change tracking (0025): the triggers are per table and fire on any written column, so writes to the new
columns are tracked without new triggers. Neither direction rebuilds the table on SQLite — ADD COLUMN and
DROP COLUMN are native ALTER TABLE statements (DROP COLUMN since SQLite 3.35; ``batch_alter_table`` would
copy the table and lose its triggers) — so the businesses triggers survive an upgrade and a downgrade.

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-28 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

TABLE = "businesses"


def upgrade() -> None:
    op.add_column(TABLE, sa.Column("workshop_new_build", sa.Boolean(), nullable=True))
    op.add_column(
        TABLE,
        sa.Column(
            "workshop_build_cost_fen",
            sa.BigInteger(),
            sa.CheckConstraint(
                "workshop_build_cost_fen IS NULL OR workshop_build_cost_fen >= 0",
                name=op.f("ck_businesses_build_cost_non_negative"),
            ),
            nullable=True,
        ),
    )


def downgrade() -> None:
    # Not batch mode: on SQLite that recreates the table, dropping the facts-tracking triggers with it.
    op.drop_column(TABLE, "workshop_build_cost_fen")
    op.drop_column(TABLE, "workshop_new_build")
