"""The main navigation: each pages module adds its entries (:func:`add`) at import time; the base template
shows a signed-in user the entries for their role (:func:`for_role`), in ``order``.

One list instead of a role switch in base.html, so a new service adds its links next to its routes and
the route × role matrix (tests/web/test_route_matrix.py) checks that every link a role sees opens for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: frozenset[str]
    order: int = 100


_ITEMS: dict[str, NavItem] = {}


def add(href: str, label: str, roles: tuple[str, ...] | list[str], order: int = 100) -> None:
    """Register a link (idempotent per ``href``: a module imported twice adds it once)."""
    _ITEMS[href] = NavItem(href, label, frozenset(roles), order)


def for_role(role: str) -> list[NavItem]:
    return sorted((i for i in _ITEMS.values() if role in i.roles), key=lambda i: (i.order, i.href))


def all_items() -> list[NavItem]:
    return sorted(_ITEMS.values(), key=lambda i: (i.order, i.href))


# The links of the modules that existed before this registry (their pages modules are in web/).
add("/admin/audit", "审计日志", ("audit_admin",), 10)
add("/admin/security", "安全设置", ("sec_admin",), 10)
add("/admin/users", "账号", ("sys_admin", "sec_admin"), 11)
add("/admin/tokens", "API 令牌", ("sys_admin", "sec_admin"), 12)
add("/city/parameters", "政策参数", ("city_admin",), 20)
add("/city/districts", "区县概况", ("city_admin",), 21)
add(
    "/loans",
    "创业担保贷款",
    ("applicant", "district_reviewer", "guarantee_fund", "bank", "city_admin", "window_clerk"),
    30,
)
add("/me/contact", "联系方式", ("applicant",), 40)
add("/my", "我的申请", ("applicant",), 41)
add("/staff/queue", "工作台", ("window_clerk", "district_reviewer", "city_admin"), 41)
add("/finance", "资金拨付", ("district_finance",), 41)
