"""Uniqueness for tenancies and open-ended key-group memberships; parameter sources of a match run.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_tenancies_business_id_carrier_id_start"), ["business_id", "carrier_id", "start"]
        )
    with op.batch_alter_table("person_groups", schema=None) as batch_op:
        batch_op.create_index(
            "uq_person_groups_open_since",
            ["person_id", "group_code"],
            unique=True,
            sqlite_where=sa.text("since IS NULL"),
            postgresql_where=sa.text("since IS NULL"),
        )
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parameter_sources", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("match_runs", schema=None) as batch_op:
        batch_op.drop_column("parameter_sources")
    with op.batch_alter_table("person_groups", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_person_groups_open_since",
            sqlite_where=sa.text("since IS NULL"),
            postgresql_where=sa.text("since IS NULL"),
        )
    with op.batch_alter_table("tenancies", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tenancies_business_id_carrier_id_start"), type_="unique")
