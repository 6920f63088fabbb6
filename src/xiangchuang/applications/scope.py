"""Who may see or act on an application (data scope), shared by the workflow and the attachments.

- an applicant: their own applications only;
- staff (window clerk, district reviewer, district finance): their own district's;
- ``city_admin``: reads every district, acts nowhere in the tables;
- ``system``: scheduled jobs (invitation expiry) — acts where a table row names it; never granted to a
  person by the login layer.
"""

from __future__ import annotations

from xiangchuang.applications.workflow import ROLES
from xiangchuang.errors import Forbidden
from xiangchuang.models import Application


def check_scope(app: Application, *, actor: str, role: str, actor_district: int | None, acting: bool) -> None:
    if role not in ROLES:
        raise Forbidden(f"未知角色 {role!r}")
    if role == "applicant":
        if app.applicant_user != actor:
            raise Forbidden("只能查看或办理本人的申请")
    elif role == "city_admin":
        if acting:
            raise Forbidden("市级管理员可查看各区县申请，但不能办理审批环节")
    elif role == "system":
        return
    elif actor_district != app.district:
        raise Forbidden(f"无权查看或办理其他区县（{app.district}）的申请")


def check_read_scope(app: Application, *, actor: str, role: str, actor_district: int | None) -> None:
    check_scope(app, actor=actor, role=role, actor_district=actor_district, acting=False)
