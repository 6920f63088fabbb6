"""Applications: applications (one live per kind, subject and period), immutable determinations,
transition log, publicity objections.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


_NO_UPDATE_MESSAGE = "判定记录不可修改（determinations 只增不改）"


def _immutable_determinations() -> None:
    """A trigger refusing UPDATE on determinations (a decision's evidence is written once)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION determinations_immutable() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_NO_UPDATE_MESSAGE}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER determinations_no_update BEFORE UPDATE ON determinations "
            "FOR EACH ROW EXECUTE FUNCTION determinations_immutable()"
        )
    else:
        op.execute(
            "CREATE TRIGGER determinations_no_update BEFORE UPDATE ON determinations "
            f"BEGIN SELECT RAISE(ABORT, '{_NO_UPDATE_MESSAGE}'); END"
        )


def _drop_immutable_determinations() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS determinations_no_update ON determinations")
        op.execute("DROP FUNCTION IF EXISTS determinations_immutable()")
    else:
        op.execute("DROP TRIGGER IF EXISTS determinations_no_update")


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_no", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject_table", sa.String(length=20), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("live_key", sa.String(length=140), nullable=True),
        sa.Column("applicant_user", sa.String(length=64), nullable=False),
        sa.Column("applicant_person_no", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("on_behalf", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("form", sa.JSON(), nullable=False),
        sa.Column("amount_requested_fen", sa.BigInteger(), nullable=True),
        sa.Column("amount_approved_fen", sa.BigInteger(), nullable=True),
        sa.Column("return_note", sa.String(length=500), nullable=True),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("publicity_start", sa.Date(), nullable=True),
        sa.Column("publicity_end", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "(live_key IS NULL) = (state IN ('not_accepted', 'rejected', 'withdrawn'))",
            name=op.f("ck_applications_live_key_iff_live"),
        ),
        sa.CheckConstraint(
            "state IN ('draft', 'submitted', 'accepted', 'first_review', 'second_review', 'publicity', 'objection', 'approved', 'disbursing', 'disbursed', 'returned', 'not_accepted', 'rejected', 'withdrawn')",
            name=op.f("ck_applications_state_known"),
        ),
        sa.CheckConstraint(
            "amount_approved_fen IS NULL OR amount_approved_fen >= 0",
            name=op.f("ck_applications_approved_nonneg"),
        ),
        sa.CheckConstraint(
            "amount_requested_fen IS NULL OR amount_requested_fen >= 0",
            name=op.f("ck_applications_requested_nonneg"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_applications_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("application_no", name=op.f("uq_applications_application_no")),
        sa.UniqueConstraint("live_key", name=op.f("uq_applications_live_key")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_applicant_user"), ["applicant_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_applications_subject_key"), ["subject_key"], unique=False)

    op.create_table(
        "application_objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("raised_by", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolution", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_objections_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_objections")),
    )
    with op.batch_alter_table("application_objections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_objections_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "application_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_transitions_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_transitions")),
    )
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_transitions_application_id"), ["application_id"], unique=False
        )

    op.create_table(
        "determinations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("engine_version", sa.String(length=20), nullable=False),
        sa.Column("parameters_version", sa.String(length=80), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('checkup', 'first_review', 'second_review')",
            name=op.f("ck_determinations_stage_known"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_determinations_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_determinations")),
    )
    with op.batch_alter_table("determinations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_determinations_application_id"), ["application_id"], unique=False
        )
    _immutable_determinations()


def downgrade() -> None:
    _drop_immutable_determinations()
    with op.batch_alter_table("determinations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_determinations_application_id"))

    op.drop_table("determinations")
    with op.batch_alter_table("application_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_transitions_application_id"))

    op.drop_table("application_transitions")
    with op.batch_alter_table("application_objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_objections_application_id"))

    op.drop_table("application_objections")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_subject_key"))
        batch_op.drop_index(batch_op.f("ix_applications_state"))
        batch_op.drop_index(batch_op.f("ix_applications_kind"))
        batch_op.drop_index(batch_op.f("ix_applications_district"))
        batch_op.drop_index(batch_op.f("ix_applications_applicant_user"))

    op.drop_table("applications")
