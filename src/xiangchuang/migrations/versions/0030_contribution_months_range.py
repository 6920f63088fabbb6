"""registry: a contribution's month is one of the supported range, 1900-01 … 2099-12 (README choice 28)

``ck_contributions_month_valid`` allowed months up to 2999-12 — a range of its own; every other door
(a case, a batch file, a registry import) takes the months of ``engine.dates`` only. The constraint now
ends at 2099-12 (``month <= 209912``), as the model's (derived there from ``engine.dates``; frozen here,
as a migration's values are).

The upgrade refuses, naming the count, while a row holds a later month (re-creating the constraint would
fail on it; no register row is dropped by a migration). The downgrade widens the constraint again.

SQLite has no ALTER of a CHECK constraint: ``batch_alter_table`` rebuilds the table (copy, drop, rename),
which drops the table's triggers with it — the facts change tracking of 0025 (``facts_v_contributions_*``).
They are read from ``sqlite_master`` before the rebuild and created again, as they were, after it (the
rows are copied unchanged: no version needs to move). PostgreSQL drops and adds the constraint in place
(its statement-level trigger stays).

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-28 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

TABLE = "contributions"
NAME = "month_valid"  # ck_contributions_month_valid under the naming convention
OLD_LAST = 299912
NEW_LAST = 209912


def _check(last: int) -> str:
    return f"month >= 190001 AND month <= {last} AND month % 100 BETWEEN 1 AND 12"


def _recreate(last: int) -> None:
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
        batch.create_check_constraint(NAME, _check(last))
    for sql in triggers:
        op.execute(sql)


def upgrade() -> None:
    bind = op.get_bind()
    later = bind.execute(sa.text(f"SELECT count(*) FROM {TABLE} WHERE month > {NEW_LAST}")).scalar_one()
    if later:
        raise RuntimeError(
            f"缴费记录中有 {later} 条的缴费月份晚于 2099-12（须在1900-01至2099-12之间），不能升级到 0030："
            "请先更正这些记录"
        )
    _recreate(NEW_LAST)


def downgrade() -> None:
    _recreate(OLD_LAST)
