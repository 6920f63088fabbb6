"""organisation payees: payee_accounts (对公账户) and disbursement items paid to an organisation

Revision ID: 0024
Revises: 0016
Create Date: 2026-11-27 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payee_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_code", sa.String(length=40), nullable=False),
        sa.Column("org_name", sa.String(length=120), nullable=False),
        sa.Column("bank_name", sa.String(length=60), nullable=False),
        sa.Column("account_enc", sa.LargeBinary(), nullable=False),
        sa.Column("account_masked", sa.String(length=40), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("registered_by", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payee_accounts")),
        sa.UniqueConstraint("org_code", name=op.f("uq_payee_accounts_org_code")),
    )
    op.create_index(op.f("ix_payee_accounts_district"), "payee_accounts", ["district"], unique=False)
    with op.batch_alter_table("disbursement_items") as batch:
        batch.add_column(sa.Column("payee_org_code", sa.String(length=40), nullable=True))
        batch.alter_column("payee_person_id", existing_type=sa.Integer(), nullable=True)
        batch.create_index(batch.f("ix_disbursement_items_payee_org_code"), ["payee_org_code"], unique=False)
        batch.create_check_constraint("one_payee", "(payee_person_id IS NULL) <> (payee_org_code IS NULL)")


def downgrade() -> None:
    op.execute("DELETE FROM disbursement_items WHERE payee_org_code IS NOT NULL")
    with op.batch_alter_table("disbursement_items") as batch:
        batch.drop_constraint(op.f("ck_disbursement_items_one_payee"), type_="check")
        batch.drop_index(batch.f("ix_disbursement_items_payee_org_code"))
        batch.alter_column("payee_person_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("payee_org_code")
    op.drop_index(op.f("ix_payee_accounts_district"), table_name="payee_accounts")
    op.drop_table("payee_accounts")
