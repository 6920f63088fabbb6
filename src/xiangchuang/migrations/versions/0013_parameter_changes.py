"""city parameter changes (four-eyes); bank code and district on users and API tokens

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 01:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parameter_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected', 'withdrawn')",
            name=op.f("ck_parameter_changes_state_known"),
        ),
        sa.CheckConstraint(
            "decided_by IS NULL OR decided_by <> requested_by", name=op.f("ck_parameter_changes_four_eyes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parameter_changes")),
    )
    op.create_index(op.f("ix_parameter_changes_name"), "parameter_changes", ["name"], unique=False)
    op.create_index(op.f("ix_parameter_changes_state"), "parameter_changes", ["state"], unique=False)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("org_code", sa.String(length=20), nullable=True))
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("org_code", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("district", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("district")
        batch.drop_column("org_code")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("org_code")
    op.drop_index(op.f("ix_parameter_changes_state"), table_name="parameter_changes")
    op.drop_index(op.f("ix_parameter_changes_name"), table_name="parameter_changes")
    op.drop_table("parameter_changes")
