"""facts snapshot: change tracking of every table the facts assembler reads (triggers)

The columnar facts snapshot (``registry.snapshot``) may only be used while no table it was built from has
changed. Every write — ORM, Core, raw SQL, COPY, an import — is noted by a database trigger:

- SQLite (one writer at a time): ``facts_versions`` holds one version per source table; row-level AFTER
  INSERT / UPDATE / DELETE triggers replace it with a fresh random 64-bit value (an upsert: never a counter
  that a restored backup could bring back to a value a snapshot was labelled with); a deleted version row
  comes back with a new value.
- PostgreSQL: a statement-level AFTER INSERT / UPDATE / DELETE / TRUNCATE trigger inserts (transaction id,
  table) into ``facts_changes`` (ON CONFLICT DO NOTHING: one row per writing transaction and table). No
  shared row is updated, so concurrent writers never wait for each other or deadlock on the tracking. A
  snapshot is labelled with the transaction snapshot it was read in (``pg_current_snapshot()``); it is
  stale iff a committed change row is not visible in that snapshot. ``facts_horizon`` records up to where
  old change rows were pruned.

The three tables exist on both databases (the schema equals the models); each database uses its own.
The list of tables is frozen here; ``registry.snapshot.SOURCE_TABLES`` is the live one, and the snapshot
is never used when a source table lacks its trigger (a later migration that adds a source table, or that
rebuilds one on SQLite, must add the trigger again: tests/registry/test_snapshot.py checks it).

Revision ID: 0025
Revises: 0022
Create Date: 2026-11-27 06:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLES = (
    "persons",
    "person_groups",
    "honours",
    "founders",
    "businesses",
    "recommendations",
    "credit_ratings",
    "tenancies",
    "business_years",
    "employments",
    "contributions",
    "carriers",
    "carrier_ratings",
    "grants",
    "training_enrolments",
    "training_classes",
    "training_courses",
    "onjob_trainings",
    "mentor_services",
    "mentors",
)


def upgrade() -> None:
    op.create_table(
        "facts_versions",
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_facts_versions")),
    )
    op.create_table(
        "facts_changes",
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("table_name", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("xid", "table_name", name=op.f("pk_facts_changes")),
    )
    op.create_table(
        "facts_horizon",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("pruned_below", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_facts_horizon")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION facts_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                EXECUTE format(
                    'INSERT INTO %I.facts_changes (xid, table_name) '
                    'VALUES (CAST(CAST(pg_current_xact_id() AS text) AS bigint), $1) ON CONFLICT DO NOTHING',
                    TG_TABLE_SCHEMA
                ) USING TG_TABLE_NAME;
                RETURN NULL;
            END $$
            """
        )
        for t in TABLES:
            op.execute(
                f"CREATE TRIGGER facts_changes_{t} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {t} "
                "FOR EACH STATEMENT EXECUTE FUNCTION facts_note_change()"
            )
            # Also in sessions with session_replication_role = replica (logical replication, tools).
            op.execute(f"ALTER TABLE {t} ENABLE ALWAYS TRIGGER facts_changes_{t}")
        return
    for t in TABLES:
        op.execute(f"INSERT INTO facts_versions (table_name, version) VALUES ('{t}', random())")
    # Deleting a version row is a change too: it comes back with a new value (a label can never match a
    # table whose row was deleted and recreated in between).
    op.execute(
        "CREATE TRIGGER facts_versions_keep AFTER DELETE ON facts_versions BEGIN "
        "INSERT INTO facts_versions (table_name, version) VALUES (old.table_name, random()); END"
    )
    for t in TABLES:
        for event in ("INSERT", "UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER facts_v_{t}_{event.lower()[:3]} AFTER {event} ON {t} BEGIN "
                f"INSERT INTO facts_versions (table_name, version) VALUES ('{t}', random()) "
                "ON CONFLICT (table_name) DO UPDATE SET version = excluded.version; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS facts_changes_{t} ON {t}")
        op.execute("DROP FUNCTION IF EXISTS facts_note_change()")
    else:
        for t in TABLES:
            for event in ("ins", "upd", "del"):
                op.execute(f"DROP TRIGGER IF EXISTS facts_v_{t}_{event}")
        op.execute("DROP TRIGGER IF EXISTS facts_versions_keep")
    op.drop_table("facts_horizon")
    op.drop_table("facts_changes")
    op.drop_table("facts_versions")
