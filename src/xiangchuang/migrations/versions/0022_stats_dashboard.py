"""statistics: an index over each application's history in order (application_id, at, id), so the step
durations find each transition's predecessor from the index alone

Revision ID: 0022
Revises: 0024
Create Date: 2026-11-27 04:00:00
"""

from alembic import op

revision = "0022"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_application_transitions_history", "application_transitions", ["application_id", "at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_application_transitions_history", table_name="application_transitions")
