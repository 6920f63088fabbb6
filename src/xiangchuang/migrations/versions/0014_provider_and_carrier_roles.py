"""two more account roles: training providers (培训机构) and carrier operators (创业载体运营方)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-27 03:30:00
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_OLD = (
    "applicant",
    "window_clerk",
    "district_reviewer",
    "district_finance",
    "city_admin",
    "bank",
    "guarantee_fund",
    "mentor",
    "sys_admin",
    "sec_admin",
    "audit_admin",
)
_NEW = (*_OLD, "training_provider", "carrier_operator")


def _in(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch.create_check_constraint("role_known", _in(_NEW))


def downgrade() -> None:
    op.execute("DELETE FROM users WHERE role IN ('training_provider', 'carrier_operator')")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint(op.f("ck_users_role_known"), type_="check")
        batch.create_check_constraint("role_known", _in(_OLD))
