"""grant register: months_from and the unique months chain (social-insurance subsidy 36-month cap)

Revision ID: 0023
Revises: 0014
Create Date: 2026-11-27 03:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("grants") as batch:
        batch.add_column(sa.Column("months_from", sa.Integer(), nullable=True))
    op.create_index(
        "uq_grants_months_chain",
        "grants",
        ["program", "person_key", "months_from"],
        unique=True,
        sqlite_where=sa.text("months_from IS NOT NULL"),
        postgresql_where=sa.text("months_from IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_grants_months_chain", table_name="grants")
    with op.batch_alter_table("grants") as batch:
        batch.drop_column("months_from")
