"""The workflow as tables you can read: (from, action, to, roles, guard, staff label, applicant label).

One table per application kind (:data:`TABLES`): :data:`STANDARD`, or :data:`IN_KIND` for the in-kind kinds
(the same path ending at 已核准: nothing is disbursed). A kind whose procedure differs gets its own tuple here.

Path: 草稿 → 已提交 → 已受理 → 初审（街道/乡镇）→ 复审（区县）→ 公示 → 已核准 → 拨付中 → 已拨付; with 退回补正
(say what to fix; the applicant resubmits), 不予受理 / 不予批准 (reason required), 撤回, and 异议 during
公示 (resolved → 公示 continues; upheld → back to 复审).

Guards (checked by :mod:`xiangchuang.applications.service`):

- ``reason_required``: a non-empty reason (what to fix, why refused, the objection, its resolution).
- ``determination_eligible``: the engine, re-run on the registry facts at this review, finds the subject
  eligible (the determination is stored either way).
- ``publicity_over``: the publicity period (working days, see :mod:`~xiangchuang.applications.calendar`)
  has ended.
- ``objections_resolved``: no objection is open.
- ``materials_complete``: every required material of the kind has a file
  (:mod:`~xiangchuang.applications.attachments`); the refusal names the first missing one.
- ``invitation_open`` / ``invitation_expired``: the invitation's last day
  (``applications.invitation_valid_days`` after it was made) has / has not passed.

免申即享 invitations start in ``invited`` (made from a 政策找人 result, see
:mod:`~xiangchuang.applications.invitations`): the applicant (or a clerk for them) confirms — the
application is then submitted and reviewed like any other, without materials, the registry being the
evidence — or declines; an invitation nobody answered is expired by the scheduled job (role ``system``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from xiangchuang.applications.kinds import KIND_IDS

ROLES: Final = ("applicant", "window_clerk", "district_reviewer", "district_finance", "city_admin", "system")
MACHINE_ROLES: Final = ("system",)  # scheduled jobs act in this role; no user account can hold it
ROLE_LABELS: Final = {
    "applicant": "申请人",
    "window_clerk": "街道/乡镇经办",
    "district_reviewer": "区县人社审核",
    "district_finance": "区县财政",
    "city_admin": "市级管理员",
    "system": "系统（定时任务）",
}
STATE_LABELS: Final = {
    "invited": "待确认（免申即享邀请）",
    "draft": "草稿",
    "submitted": "已提交",
    "accepted": "已受理",
    "first_review": "初审（街道/乡镇）",
    "second_review": "复审（区县）",
    "publicity": "公示中",
    "objection": "公示异议处理中",
    "approved": "已核准",
    "disbursing": "拨付中",
    "disbursed": "已拨付",
    "returned": "退回补正",
    "not_accepted": "不予受理",
    "rejected": "不予批准",
    "withdrawn": "已撤回",
    "declined": "已谢绝邀请",
    "expired": "邀请已过期",
}
GUARDS: Final = (
    "reason_required",
    "determination_eligible",
    "publicity_over",
    "objections_resolved",
    "materials_complete",
    "invitation_open",
    "invitation_expired",
)

A, C, R, F, S = "applicant", "window_clerk", "district_reviewer", "district_finance", "system"


@dataclass(frozen=True)
class Row:
    from_state: str
    action: str
    to_state: str
    roles: tuple[str, ...]
    guards: tuple[str, ...]
    staff_label: str
    applicant_label: str


# fmt: off
STANDARD: Final[tuple[Row, ...]] = (
    #   from             action                 to               roles     guards                                          staff label               applicant label
    Row("invited",       "confirm",             "submitted",     (A, C),   ("invitation_open",),                           "确认申请（免申即享）",   "您已确认申请，等待受理"),
    Row("invited",       "decline",             "declined",      (A, C),   (),                                             "谢绝邀请",               "您已谢绝本次申请邀请"),
    Row("invited",       "expire",              "expired",       (S,),     ("invitation_expired",),                        "邀请过期",               "申请邀请已过期，如需申请请重新提交"),
    Row("draft",         "submit",              "submitted",     (A, C),   ("materials_complete",),                        "提交申请",               "您的申请已提交，等待受理"),
    Row("draft",         "withdraw",            "withdrawn",     (A, C),   (),                                             "撤回申请",               "您已撤回申请"),
    Row("submitted",     "accept",              "accepted",      (C,),     (),                                             "受理",                   "您的申请已受理"),
    Row("submitted",     "refuse",              "not_accepted",  (C,),     ("reason_required",),                           "不予受理",               "您的申请不予受理，请查看原因"),
    Row("submitted",     "return",              "returned",      (C,),     ("reason_required",),                           "退回补正",               "您的申请需要补正，请按提示修改后重新提交"),
    Row("submitted",     "withdraw",            "withdrawn",     (A, C),   (),                                             "撤回申请",               "您已撤回申请"),
    Row("returned",      "resubmit",            "submitted",     (A, C),   ("materials_complete",),                        "补正后重新提交",         "您已补正并重新提交，等待受理"),
    Row("returned",      "withdraw",            "withdrawn",     (A, C),   (),                                             "撤回申请",               "您已撤回申请"),
    Row("accepted",      "start_first_review",  "first_review",  (C,),     (),                                             "开始初审",               "您的申请正在初审（街道/乡镇）"),
    Row("accepted",      "withdraw",            "withdrawn",     (A, C),   (),                                             "撤回申请",               "您已撤回申请"),
    Row("first_review",  "pass_first_review",   "second_review", (C,),     ("determination_eligible",),                    "初审通过，报区县复审",   "您的申请已通过初审，正在复审（区县）"),
    Row("first_review",  "return",              "returned",      (C,),     ("reason_required",),                           "退回补正",               "您的申请需要补正，请按提示修改后重新提交"),
    Row("first_review",  "reject",              "rejected",      (C,),     ("reason_required",),                           "初审不予批准",           "您的申请未获批准，请查看原因"),
    Row("second_review", "pass_second_review",  "publicity",     (R,),     ("determination_eligible",),                    "复审通过，进入公示",     "您的申请已通过复审，正在公示"),
    Row("second_review", "return",              "returned",      (R,),     ("reason_required",),                           "退回补正",               "您的申请需要补正，请按提示修改后重新提交"),
    Row("second_review", "reject",              "rejected",      (R,),     ("reason_required",),                           "复审不予批准",           "您的申请未获批准，请查看原因"),
    Row("publicity",     "object",              "objection",     (C, R),   ("reason_required",),                           "登记公示异议",           "您的申请在公示期间收到异议，正在核查"),
    Row("objection",     "object",              "objection",     (C, R),   ("reason_required",),                           "登记公示异议",           "您的申请在公示期间收到异议，正在核查"),
    Row("objection",     "dismiss_objection",   "publicity",     (R,),     ("reason_required",),                           "异议不成立，继续公示",   "异议经核查不成立，公示继续"),
    Row("objection",     "review_again",        "second_review", (R,),     ("reason_required",),                           "异议成立，重新复审",     "因公示异议，您的申请重新复审"),
    Row("publicity",     "approve",             "approved",      (R,),     ("publicity_over", "objections_resolved"),      "公示期满无异议，核准",   "您的申请已核准，等待拨付"),
    Row("approved",      "start_disbursement",  "disbursing",    (F,),     (),                                             "发起拨付",               "补贴正在拨付"),
    Row("disbursing",    "confirm_disbursement", "disbursed",    (F,),     (),                                             "确认已拨付",             "补贴已拨付，请查收"),
)

# In-kind support (no public money is paid to the applicant): a free workstation the carrier provides, and a
# rent / property-fee / utility reduction the carrier grants on the tenant's bills (carriers module, computed by
# the engine's carrier_rent_reduction). 核准 recognises the entitlement and is the end: nothing is reserved in
# the ledger or disbursed (a cash payment would pay the reduction a second time).
IN_KIND_KINDS: Final = ("free_workstation", "carrier_rent_reduction")
IN_KIND: Final[tuple[Row, ...]] = (
    *(r for r in STANDARD if r.action not in ("approve", "start_disbursement", "confirm_disbursement")),
    Row("publicity",     "approve",             "approved",      (R,),     ("publicity_over", "objections_resolved"),      "公示期满无异议，核准",   "您的申请已核准（实物支持或由载体在账单中减免，不拨付资金）"),
)
# fmt: on

TABLES: Final[dict[str, tuple[Row, ...]]] = {
    kind: IN_KIND if kind in IN_KIND_KINDS else STANDARD for kind in KIND_IDS
}

ACTIONS: Final = tuple(dict.fromkeys(r.action for r in STANDARD))
ACTION_LABELS: Final = {r.action: r.staff_label for r in STANDARD}


def table_for(kind: str) -> tuple[Row, ...]:
    return TABLES[kind]


def find_row(kind: str, state: str, action: str) -> Row | None:
    """The table row for ``action`` from ``state`` (None: the action is not possible there)."""
    for row in TABLES[kind]:
        if row.from_state == state and row.action == action:
            return row
    return None


def allowed_actions(kind: str, state: str, role: str) -> list[Row]:
    """What ``role`` may do from ``state`` (what a page offers as buttons)."""
    return [r for r in TABLES[kind] if r.from_state == state and role in r.roles]
