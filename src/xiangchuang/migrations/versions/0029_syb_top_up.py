"""register: the SYB top-up (补足差额) is a second SYB row of the trainee

A trainee paid the reduced SYB share (no business registered when it was paid) who registers a business
within the window after completion is paid the difference (README choice 6). The top-up is registered
as its own row, period ``补差`` (``engine.assemble.SYB_TOP_UP_PERIOD``); the once-per-subject index of the
training subsidies (and the online-sales subsidy) now leaves the SYB top-up rows out (only those), and
``(program, subject_key, period)`` — unique since 0001 — keeps one top-up per trainee.

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-28 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

NAME = "uq_grants_once_per_subject"
ONCE = "program IN ('online_sales_subsidy','training_syb','training_online','training_iyb')"
TOP_UP = "补差"


def _create(where: str) -> None:
    op.create_index(
        NAME,
        "grants",
        ["program", "subject_key"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.drop_index(NAME, table_name="grants")
    _create(f"{ONCE} AND NOT (program = 'training_syb' AND period = '{TOP_UP}')")


def downgrade() -> None:
    # A top-up row would break the old index: the downgrade refuses rather than drop a register row.
    bind = op.get_bind()
    count = bind.execute(sa.text("SELECT count(*) FROM grants WHERE period = :p"), {"p": TOP_UP}).scalar_one()
    if count:
        raise RuntimeError(f"登记中有 {count} 条补差记录（所属期间「{TOP_UP}」），不能降级到 0028")
    op.drop_index(NAME, table_name="grants")
    _create(ONCE)
