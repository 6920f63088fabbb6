"""community: support after failure (3.10), places and trades (5.14), typical entrepreneurs (5.15)

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-27 03:23:09.810477
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "places",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("town_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint("kind IN ('town', 'village')", name=op.f("ck_places_kind_known")),
        sa.ForeignKeyConstraint(["town_id"], ["places.id"], name=op.f("fk_places_town_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_places")),
        sa.UniqueConstraint("place_code", name=op.f("uq_places_place_code")),
    )
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_places_district"), ["district"], unique=False)

    op.create_table(
        "closure_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_no", sa.String(length=40), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=False),
        sa.Column("offered_on", sa.Date(), nullable=False),
        sa.Column("offered_by", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("consent_scope", sa.JSON(), nullable=True),
        sa.Column("consent_via", sa.String(length=12), nullable=True),
        sa.Column("consent_recorded_by", sa.String(length=60), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "state IN ('offered', 'consented', 'declined', 'withdrawn', 'closed')",
            name=op.f("ck_closure_cases_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_closure_cases_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_closure_cases_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_cases")),
        sa.UniqueConstraint("business_id", name=op.f("uq_closure_cases_business_id")),
        sa.UniqueConstraint("case_no", name=op.f("uq_closure_cases_case_no")),
    )
    with op.batch_alter_table("closure_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closure_cases_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_closure_cases_person_id"), ["person_id"], unique=False)

    op.create_table(
        "nominations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_no", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("nominated_on", sa.Date(), nullable=False),
        sa.Column("nominated_by", sa.String(length=60), nullable=False),
        sa.Column("headline", sa.String(length=120), nullable=False),
        sa.Column("story", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=14), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("score_milli", sa.Integer(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("consent_on", sa.Date(), nullable=True),
        sa.Column("consent_name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("consent_withdrawn_on", sa.Date(), nullable=True),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "category IN ('returning_entrepreneur', 'rural_business_leader')",
            name=op.f("ck_nominations_category_known"),
        ),
        sa.CheckConstraint(
            "state IN ('nominated', 'in_review', 'selected', 'not_selected', 'published')",
            name=op.f("ck_nominations_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["business_id"], ["businesses.id"], name=op.f("fk_nominations_business_id_businesses")
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["mentor_events.id"], name=op.f("fk_nominations_event_id_mentor_events")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_nominations_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nominations")),
        sa.UniqueConstraint("nomination_no", name=op.f("uq_nominations_nomination_no")),
        sa.UniqueConstraint(
            "person_id", "year", "category", name=op.f("uq_nominations_person_id_year_category")
        ),
    )
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nominations_district"), ["district"], unique=False)
        batch_op.create_index(batch_op.f("ix_nominations_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_nominations_person_id"), ["person_id"], unique=False)

    op.create_table(
        "place_designations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("designated_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("tag", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["place_id"],
            ["places.id"],
            name=op.f("fk_place_designations_place_id_places"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_designations")),
        sa.UniqueConstraint(
            "place_id",
            "title",
            "designated_on",
            name=op.f("uq_place_designations_place_id_title_designated_on"),
        ),
    )
    with op.batch_alter_table("place_designations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_designations_place_id"), ["place_id"], unique=False)

    op.create_table(
        "place_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=False),
        sa.Column("tag_kind", sa.String(length=20), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(
            ["place_id"], ["places.id"], name=op.f("fk_place_tags_place_id_places"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_place_tags")),
        sa.UniqueConstraint("place_id", "tag_kind", "tag", name=op.f("uq_place_tags_place_id_tag_kind_tag")),
    )
    with op.batch_alter_table("place_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_place_tags_place_id"), ["place_id"], unique=False)

    op.create_table(
        "rural_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_no", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("district", sa.Integer(), nullable=False),
        sa.Column("place_id", sa.Integer(), nullable=True),
        sa.Column("operator", sa.String(length=120), nullable=True),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('info_to_village', 'ecommerce_to_rural')", name=op.f("ck_rural_projects_kind_known")
        ),
        sa.CheckConstraint(
            "end_on IS NULL OR end_on >= start_on", name=op.f("ck_rural_projects_dates_ordered")
        ),
        sa.ForeignKeyConstraint(["place_id"], ["places.id"], name=op.f("fk_rural_projects_place_id_places")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rural_projects")),
        sa.UniqueConstraint("project_no", name=op.f("uq_rural_projects_project_no")),
    )
    with op.batch_alter_table("rural_projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rural_projects_district"), ["district"], unique=False)

    op.create_table(
        "closure_referrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_no", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("agency", sa.String(length=120), nullable=False),
        sa.Column("owner", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("next_followup_on", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("outcome_on", sa.Date(), nullable=True),
        sa.Column("outcome_note", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.CheckConstraint(
            "state IN ('referred', 'in_progress', 'completed', 'cancelled')",
            name=op.f("ck_closure_referrals_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["closure_cases.id"],
            name=op.f("fk_closure_referrals_case_id_closure_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_referrals")),
        sa.UniqueConstraint("case_id", "kind", name=op.f("uq_closure_referrals_case_id_kind")),
        sa.UniqueConstraint("referral_no", name=op.f("uq_closure_referrals_referral_no")),
    )
    with op.batch_alter_table("closure_referrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closure_referrals_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_closure_referrals_next_followup_on"), ["next_followup_on"], unique=False
        )

    op.create_table(
        "commendations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("awarded_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=True),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nominations.id"],
            name=op.f("fk_commendations_nomination_id_nominations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commendations")),
        sa.UniqueConstraint("nomination_id", "title", name=op.f("uq_commendations_nomination_id_title")),
    )
    with op.batch_alter_table("commendations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_commendations_nomination_id"), ["nomination_id"], unique=False)

    op.create_table(
        "rural_project_reach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("reached_on", sa.Date(), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.id"],
            name=op.f("fk_rural_project_reach_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["rural_projects.id"],
            name=op.f("fk_rural_project_reach_project_id_rural_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rural_project_reach")),
        sa.UniqueConstraint(
            "project_id", "business_id", name=op.f("uq_rural_project_reach_project_id_business_id")
        ),
    )
    with op.batch_alter_table("rural_project_reach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rural_project_reach_business_id"), ["business_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rural_project_reach_project_id"), ["project_id"], unique=False)

    op.create_table(
        "closure_followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=60), nullable=False),
        sa.Column("next_followup_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["closure_referrals.id"],
            name=op.f("fk_closure_followups_referral_id_closure_referrals"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closure_followups")),
    )
    with op.batch_alter_table("closure_followups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_closure_followups_referral_id"), ["referral_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("closure_followups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closure_followups_referral_id"))

    op.drop_table("closure_followups")
    with op.batch_alter_table("rural_project_reach", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rural_project_reach_project_id"))
        batch_op.drop_index(batch_op.f("ix_rural_project_reach_business_id"))

    op.drop_table("rural_project_reach")
    with op.batch_alter_table("commendations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commendations_nomination_id"))

    op.drop_table("commendations")
    with op.batch_alter_table("closure_referrals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closure_referrals_next_followup_on"))
        batch_op.drop_index(batch_op.f("ix_closure_referrals_case_id"))

    op.drop_table("closure_referrals")
    with op.batch_alter_table("rural_projects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rural_projects_district"))

    op.drop_table("rural_projects")
    with op.batch_alter_table("place_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_tags_place_id"))

    op.drop_table("place_tags")
    with op.batch_alter_table("place_designations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_place_designations_place_id"))

    op.drop_table("place_designations")
    with op.batch_alter_table("nominations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nominations_person_id"))
        batch_op.drop_index(batch_op.f("ix_nominations_event_id"))
        batch_op.drop_index(batch_op.f("ix_nominations_district"))

    op.drop_table("nominations")
    with op.batch_alter_table("closure_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_closure_cases_person_id"))
        batch_op.drop_index(batch_op.f("ix_closure_cases_district"))

    op.drop_table("closure_cases")
    with op.batch_alter_table("places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_places_district"))

    op.drop_table("places")
