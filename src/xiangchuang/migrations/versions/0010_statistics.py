"""quarterly statistics: publications, figures, alerts; bank-account blind index on persons

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-26 23:55:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stat_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=6), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("published_by", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("figure_count", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint("revision >= 0", name=op.f("ck_stat_publications_revision_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_publications")),
        sa.UniqueConstraint("quarter", "revision", name=op.f("uq_stat_publications_quarter_revision")),
    )
    with op.batch_alter_table("stat_publications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stat_publications_quarter"), ["quarter"], unique=False)

    op.create_table(
        "stat_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=60), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("dim", sa.String(length=60), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("previous", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["stat_publications.id"],
            name=op.f("fk_stat_figures_publication_id_stat_publications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_figures")),
        sa.UniqueConstraint(
            "publication_id",
            "indicator",
            "district",
            "dim",
            name=op.f("uq_stat_figures_publication_id_indicator_district_dim"),
        ),
    )
    with op.batch_alter_table("stat_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stat_figures_publication_id"), ["publication_id"], unique=False)

    op.create_table(
        "stat_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=40), nullable=False),
        sa.Column("finding_key", sa.String(length=160), nullable=False),
        sa.Column("open_key", sa.String(length=200), nullable=True),
        sa.Column("district", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=120), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.CheckConstraint("state IN ('open', 'resolved')", name=op.f("ck_stat_alerts_state_known")),
        sa.CheckConstraint(
            "(open_key IS NULL) = (state = 'resolved')", name=op.f("ck_stat_alerts_open_key_iff_open")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_alerts")),
        sa.UniqueConstraint("open_key", name=op.f("uq_stat_alerts_open_key")),
    )
    with op.batch_alter_table("stat_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stat_alerts_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_stat_alerts_rule"), ["rule"], unique=False)
        batch_op.create_index(batch_op.f("ix_stat_alerts_state"), ["state"], unique=False)

    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bank_account_bidx", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_persons_bank_account_bidx"), ["bank_account_bidx"], unique=False)

    # Statistics read applications by their transitions and the ledger by operation and time.
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_application_transitions_action_at", ["action", "at", "application_id"], unique=False
        )
        batch_op.create_index("ix_application_transitions_at", ["at", "application_id"], unique=False)
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.create_index("ix_contributions_month", ["month", "employment_id"], unique=False)
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ledger_entries_operation_created_at", ["operation", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_entries_operation_created_at")
    with op.batch_alter_table("contributions", schema=None) as batch_op:
        batch_op.drop_index("ix_contributions_month")
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_application_transitions_at")
        batch_op.drop_index("ix_application_transitions_action_at")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_bank_account_bidx"))
        batch_op.drop_column("bank_account_bidx")
    with op.batch_alter_table("stat_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stat_alerts_state"))
        batch_op.drop_index(batch_op.f("ix_stat_alerts_rule"))
        batch_op.drop_index(batch_op.f("ix_stat_alerts_district"))
    op.drop_table("stat_alerts")
    with op.batch_alter_table("stat_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stat_figures_publication_id"))
    op.drop_table("stat_figures")
    with op.batch_alter_table("stat_publications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stat_publications_quarter"))
    op.drop_table("stat_publications")
