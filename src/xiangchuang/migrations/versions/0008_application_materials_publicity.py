"""Application materials, publicity lists, invitations, exclusivity keys.

- ``application_attachments``: uploaded materials (metadata; the file is content-addressed on disk);
- ``publicity_batches`` / ``publicity_lines``: 公示 lists per district and publication day;
- ``application_objections.publicity_line_id``: the line an objection was raised against;
- ``application_invitations``: 免申即享 invitations, one per (match run, subject, program);
- ``applications``: ``street`` (街道/乡镇, for the work queue); states ``invited`` / ``declined`` / ``expired``; ``exclusive_key`` (unique) for the
  notice's once-only rules across periods and subjects.

On SQLite the applications table is rebuilt (batch mode) to change its CHECK constraints; that works
on a populated database because :mod:`xiangchuang.dbmigrate` runs migrations with foreign-key
enforcement off and checks ``PRAGMA foreign_key_check`` before commit (tested with rows that reference
the applications).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OLD_STATES = (
    "'draft', 'submitted', 'accepted', 'first_review', 'second_review', 'publicity', 'objection', "
    "'approved', 'disbursing', 'disbursed', 'returned', 'not_accepted', 'rejected', 'withdrawn'"
)
_NEW_STATES = (
    "'invited', 'draft', 'submitted', 'accepted', 'first_review', 'second_review', 'publicity', "
    "'objection', 'approved', 'disbursing', 'disbursed', 'returned', 'not_accepted', 'rejected', "
    "'withdrawn', 'declined', 'expired'"
)
_OLD_ENDED = "'not_accepted', 'rejected', 'withdrawn'"
_NEW_ENDED = "'not_accepted', 'rejected', 'withdrawn', 'declined', 'expired'"


def upgrade() -> None:
    op.create_table(
        "publicity_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_no", sa.String(length=40), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_publicity_batches_period_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicity_batches")),
        sa.UniqueConstraint("batch_no", name=op.f("uq_publicity_batches_batch_no")),
        sa.UniqueConstraint("district", "start_date", name=op.f("uq_publicity_batches_district_start_date")),
    )
    with op.batch_alter_table("publicity_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_publicity_batches_district"), ["district"], unique=False)

    op.create_table(
        "publicity_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("business_name", sa.String(length=120), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.CheckConstraint("status IN ('listed', 'withdrawn')", name=op.f("ck_publicity_lines_status_known")),
        sa.CheckConstraint(
            "amount_fen IS NULL OR amount_fen >= 0", name=op.f("ck_publicity_lines_amount_nonneg")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_publicity_lines_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["publicity_batches.id"], name=op.f("fk_publicity_lines_batch_id_publicity_batches")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_publicity_lines_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publicity_lines")),
        sa.UniqueConstraint(
            "batch_id", "application_id", name=op.f("uq_publicity_lines_batch_id_application_id")
        ),
        sa.UniqueConstraint("batch_id", "seq", name=op.f("uq_publicity_lines_batch_id_seq")),
    )
    with op.batch_alter_table("publicity_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_publicity_lines_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_publicity_lines_batch_id"), ["batch_id"], unique=False)

    op.create_table(
        "application_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("material", sa.String(length=40), nullable=False),
        sa.Column("original_name", sa.String(length=120), nullable=False),
        sa.Column("file_type", sa.String(length=10), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("uploader_role", sa.String(length=30), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "file_type IN ('pdf', 'jpeg', 'png', 'xlsx', 'docx', 'ofd')",
            name=op.f("ck_application_attachments_file_type_known"),
        ),
        sa.CheckConstraint("size_bytes > 0", name=op.f("ck_application_attachments_size_positive")),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_attachments_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_attachments")),
        sa.UniqueConstraint(
            "application_id",
            "material",
            "sha256",
            name=op.f("uq_application_attachments_application_id_material_sha256"),
        ),
    )
    with op.batch_alter_table("application_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_application_attachments_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_application_attachments_sha256"), ["sha256"], unique=False)

    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exclusive_key", sa.String(length=140), nullable=True))
        batch_op.add_column(sa.Column("street", sa.String(length=60), nullable=True))
        batch_op.create_index(batch_op.f("ix_applications_street"), ["street"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_applications_exclusive_key"), ["exclusive_key"])
        batch_op.drop_constraint(batch_op.f("ck_applications_state_known"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_applications_live_key_iff_live"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_applications_state_known"), f"state IN ({_NEW_STATES})"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_applications_live_key_iff_live"), f"(live_key IS NULL) = (state IN ({_NEW_ENDED}))"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_applications_exclusive_only_live"), "exclusive_key IS NULL OR live_key IS NOT NULL"
        )

    op.create_table(
        "application_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.Integer(), nullable=False),
        sa.Column("program", sa.String(length=40), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_application_invitations_application_id_applications"),
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["match_results.id"],
            name=op.f("fk_application_invitations_result_id_match_results"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["match_runs.id"], name=op.f("fk_application_invitations_run_id_match_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_invitations")),
        sa.UniqueConstraint("application_id", name=op.f("uq_application_invitations_application_id")),
        sa.UniqueConstraint(
            "run_id",
            "subject_key",
            "program",
            name=op.f("uq_application_invitations_run_id_subject_key_program"),
        ),
    )
    with op.batch_alter_table("application_invitations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_application_invitations_run_id"), ["run_id"], unique=False)

    with op.batch_alter_table("application_objections", schema=None) as batch_op:
        batch_op.add_column(sa.Column("publicity_line_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_application_objections_publicity_line_id"), ["publicity_line_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_application_objections_publicity_line_id_publicity_lines"),
            "publicity_lines",
            ["publicity_line_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("application_objections", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_application_objections_publicity_line_id_publicity_lines"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_application_objections_publicity_line_id"))
        batch_op.drop_column("publicity_line_id")

    with op.batch_alter_table("application_invitations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_invitations_run_id"))
    op.drop_table("application_invitations")

    # The old schema has no invitation states: an invitation (open, declined or expired) becomes a
    # withdrawn application, which keeps its history (determinations, transitions) intact.
    op.execute(
        "UPDATE applications SET state = 'withdrawn', live_key = NULL, exclusive_key = NULL "
        "WHERE state IN ('invited', 'declined', 'expired')"
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_applications_exclusive_only_live"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_applications_live_key_iff_live"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_applications_state_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_applications_state_known"), f"state IN ({_OLD_STATES})"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_applications_live_key_iff_live"), f"(live_key IS NULL) = (state IN ({_OLD_ENDED}))"
        )
        batch_op.drop_constraint(batch_op.f("uq_applications_exclusive_key"), type_="unique")
        batch_op.drop_column("exclusive_key")
        batch_op.drop_index(batch_op.f("ix_applications_street"))
        batch_op.drop_column("street")

    with op.batch_alter_table("application_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_application_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_application_attachments_application_id"))
    op.drop_table("application_attachments")

    with op.batch_alter_table("publicity_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publicity_lines_batch_id"))
        batch_op.drop_index(batch_op.f("ix_publicity_lines_application_id"))
    op.drop_table("publicity_lines")
    with op.batch_alter_table("publicity_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publicity_batches_district"))
    op.drop_table("publicity_batches")
