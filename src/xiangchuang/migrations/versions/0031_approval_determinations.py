"""applications: a refused approval keeps its determination (stage ``approval``, README choice 88)

核准 determines the application again on the day (README choice 86). When that determination refuses the
approval, it is stored with the application as every review's is — ``determinations.stage = 'approval'`` —
and the audit entry of the refusal names it. ``ck_determinations_stage_known`` admitted the check-up and
the two reviews only; it now admits ``approval`` too (the model's ``DETERMINATION_STAGES``; frozen here, as
a migration's values are).

SQLite has no ALTER of a CHECK constraint: ``batch_alter_table`` rebuilds the table, which drops its
triggers (``determinations_no_update``, 0004: a determination is never updated). They are read from
``sqlite_master`` before the rebuild and created again, as they were, after it (as 0030 does). PostgreSQL
drops and adds the constraint in place (its trigger stays).

The downgrade refuses, naming the count, while an ``approval`` determination exists (the narrower
constraint would fail on it; no determination is dropped by a migration).

Revision ID: 0031
Revises: 0030
Create Date: 2026-11-29 15:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

TABLE = "determinations"
NAME = "stage_known"  # ck_determinations_stage_known under the naming convention
OLD_STAGES = ("checkup", "first_review", "second_review")
NEW_STAGES = (*OLD_STAGES, "approval")


def _check(stages: tuple[str, ...]) -> str:
    return "stage IN (" + ", ".join(f"'{s}'" for s in stages) + ")"


def _recreate(stages: tuple[str, ...]) -> None:
    bind = op.get_bind()
    triggers: list[str] = []
    if bind.dialect.name == "sqlite":
        triggers = list(
            bind.execute(
                sa.text(
                    "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t ORDER BY name"
                ),
                {"t": TABLE},
            ).scalars()
        )
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(op.f(f"ck_{TABLE}_{NAME}"), type_="check")
        batch.create_check_constraint(NAME, _check(stages))
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    _recreate(NEW_STAGES)


def downgrade() -> None:
    bind = op.get_bind()
    kept = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE stage = 'approval'")).scalar_one()
    if kept:
        raise RuntimeError(
            f"判定记录中有 {kept} 条核准时重新判定（不予核准）的记录，不能降级到 0030：旧版本不接受该阶段"
        )
    _recreate(OLD_STAGES)
