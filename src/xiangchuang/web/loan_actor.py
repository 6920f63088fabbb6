"""Who acts on a loan: a signed-in user or an API token, as the loan service's :class:`Actor`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from xiangchuang.errors import Forbidden
from xiangchuang.loans.service import Actor
from xiangchuang.models import ApiToken, User
from xiangchuang.users.service import ApiPrincipal


def user_actor(user: User) -> Actor:
    return Actor(
        user=f"user:{user.id}",
        role=user.role,
        district=user.district,
        bank=user.org_code if user.role == "bank" else None,
    )


def token_actor(db: Session, principal: ApiPrincipal, scope: str) -> Actor:
    """A bank's or the guarantee fund's system, limited to its organisation and district."""
    if scope not in principal.scopes:
        raise Forbidden(f"API 令牌没有“{scope}”权限")
    row = db.get(ApiToken, principal.token_id)
    if row is None or row.district is None:
        raise Forbidden("API 令牌未指定所服务的区县，不能办理贷款")
    return Actor(
        user=principal.actor,
        role=principal.owner_org,
        district=row.district,
        bank=row.org_code if principal.owner_org == "bank" else None,
    )
