"""carriers service: carrier address / services / operator code, workstations, free-workstation
allocations, monthly bills with reductions, yearly ratings

Revision ID: 0016
Revises: 0017
Create Date: 2026-11-27 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("district_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("services", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("operator_org_code", sa.String(length=20), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_carriers_operator_org_code"), ["operator_org_code"], unique=False
        )

    op.create_table(
        "carrier_workstations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carrier_id"],
            ["carriers.id"],
            name=op.f("fk_carrier_workstations_carrier_id_carriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_workstations")),
        sa.UniqueConstraint("carrier_id", "number", name=op.f("uq_carrier_workstations_carrier_id_number")),
    )
    with op.batch_alter_table("carrier_workstations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carrier_workstations_carrier_id"), ["carrier_id"], unique=False)

    op.create_table(
        "workstation_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("allocation_no", sa.String(length=30), nullable=False),
        sa.Column("workstation_id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("renewals", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('active', 'ended')", name=op.f("ck_workstation_allocations_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"],
            ["carriers.id"],
            name=op.f("fk_workstation_allocations_carrier_id_carriers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_workstation_allocations_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workstation_id"],
            ["carrier_workstations.id"],
            name=op.f("fk_workstation_allocations_workstation_id_carrier_workstations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workstation_allocations")),
        sa.UniqueConstraint("allocation_no", name=op.f("uq_workstation_allocations_allocation_no")),
    )
    with op.batch_alter_table("workstation_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_workstation_allocations_carrier_id"), ["carrier_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_workstation_allocations_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workstation_allocations_workstation_id"), ["workstation_id"], unique=False
        )

    op.create_table(
        "carrier_bills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bill_no", sa.String(length=30), nullable=False),
        sa.Column("tenancy_id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("rent_fen", sa.BigInteger(), nullable=False),
        sa.Column("property_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("utilities_fen", sa.BigInteger(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("tenancy_year", sa.Integer(), nullable=True),
        sa.Column("rent_cut_fen", sa.BigInteger(), nullable=False),
        sa.Column("property_cut_fen", sa.BigInteger(), nullable=False),
        sa.Column("utilities_cut_fen", sa.BigInteger(), nullable=False),
        sa.Column("reduction_fen", sa.BigInteger(), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "reduction_fen >= 0 AND reduction_fen <= gross_fen",
            name=op.f("ck_carrier_bills_reduction_bounded"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_carrier_bills_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["carrier_id"],
            ["carriers.id"],
            name=op.f("fk_carrier_bills_carrier_id_carriers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenancy_id"],
            ["tenancies.id"],
            name=op.f("fk_carrier_bills_tenancy_id_tenancies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_bills")),
        sa.UniqueConstraint("bill_no", name=op.f("uq_carrier_bills_bill_no")),
        sa.UniqueConstraint("tenancy_id", "month", name=op.f("uq_carrier_bills_tenancy_id_month")),
    )
    with op.batch_alter_table("carrier_bills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carrier_bills_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carrier_bills_carrier_id"), ["carrier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_carrier_bills_month"), ["month"], unique=False)
        batch_op.create_index(batch_op.f("ix_carrier_bills_tenancy_id"), ["tenancy_id"], unique=False)

    op.create_table(
        "carrier_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("carrier_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(length=4), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.CheckConstraint("rating IN ('A', 'B', 'C', 'none')", name=op.f("ck_carrier_ratings_rating_known")),
        sa.ForeignKeyConstraint(
            ["carrier_id"],
            ["carriers.id"],
            name=op.f("fk_carrier_ratings_carrier_id_carriers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_ratings")),
        sa.UniqueConstraint("carrier_id", "year", name=op.f("uq_carrier_ratings_carrier_id_year")),
    )
    with op.batch_alter_table("carrier_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_carrier_ratings_carrier_id"), ["carrier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("carrier_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carrier_ratings_carrier_id"))
    op.drop_table("carrier_ratings")
    with op.batch_alter_table("carrier_bills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carrier_bills_tenancy_id"))
        batch_op.drop_index(batch_op.f("ix_carrier_bills_month"))
        batch_op.drop_index(batch_op.f("ix_carrier_bills_carrier_id"))
        batch_op.drop_index(batch_op.f("ix_carrier_bills_business_id"))
    op.drop_table("carrier_bills")
    with op.batch_alter_table("workstation_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workstation_allocations_workstation_id"))
        batch_op.drop_index(batch_op.f("ix_workstation_allocations_person_id"))
        batch_op.drop_index(batch_op.f("ix_workstation_allocations_carrier_id"))
    op.drop_table("workstation_allocations")
    with op.batch_alter_table("carrier_workstations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carrier_workstations_carrier_id"))
    op.drop_table("carrier_workstations")
    with op.batch_alter_table("carriers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_carriers_operator_org_code"))
        batch_op.drop_column("operator_org_code")
        batch_op.drop_column("services")
        batch_op.drop_column("district_date")
        batch_op.drop_column("address")
