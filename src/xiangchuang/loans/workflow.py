"""The guaranteed-loan workflow as a table you can read: (from, action, to, roles, guards, staff label,
applicant label), like :mod:`xiangchuang.applications.workflow`.

Path (创业担保贷款 一网通办, clause 1.2): 草稿 → 已提交 → 人社审核 → 担保审核 → 银行审批 → 已签约 → 还款中 →
已结清; from 还款中 a missed instalment makes the loan 逾期 (repaid arrears bring it back), and the bank
may grant one 展期. Each review may end in 不予支持 (reason required); the applicant may withdraw before
人社 takes the application up.

Guards (checked by :mod:`xiangchuang.loans.service`):

- ``reason_required``: a non-empty reason.
- ``determination_eligible``: the engine, re-run on the registry facts and the application at this
  review, finds the borrower eligible (``loan_individual`` / ``loan_small_micro``); stored either way.
- ``guarantee_decided``: the guarantee fund states the guaranteed amount (≤ the determined maximum) and
  whether a counter-guarantee is required; a waiver names its ground and the engine's
  ``counter_guarantee_waiver`` determination must find that very ground satisfied.
- ``contract_valid``: contract number, amount ≤ the determined maximum and the guaranteed amount, annual
  rate ≤ LPR (on the contract date) + the rate cap, term ≤ the maximum term, an allowed repayment method.
- ``arrears``: an instalment is past due and not covered (逾期).
- ``arrears_cleared``: no instalment past due is left uncovered.
- ``repaid_in_full``: no principal is outstanding.
- ``extension_allowed``: on or before maturity, no arrears, not extended before, extension within 贷款通则
  第十二条 (parameters ``loan.extension_*``).
"""

from __future__ import annotations

from typing import Final

from xiangchuang.applications.workflow import ROLE_LABELS, Row  # one row type for every workflow table

# The application workflow's roles plus the two only loans need: the guarantee fund (创业担保基金 /
# 担保机构, district-scoped) and the lending bank (scoped to its own loans in its own district). They
# are added here, not to applications.workflow.ROLES, so no application table can ever name them.
LOAN_ROLES: Final = ("applicant", "window_clerk", "district_reviewer", "guarantee_fund", "bank", "city_admin")
LOAN_ROLE_LABELS: Final[dict[str, str]] = {
    **{role: str(ROLE_LABELS[role]) for role in LOAN_ROLES if role in ROLE_LABELS},
    "district_reviewer": "区县人社",
    "district_finance": ROLE_LABELS["district_finance"],
    "guarantee_fund": "创业担保基金（担保机构）",
    "bank": "经办银行",
}

STATE_LABELS: Final = {
    "draft": "草稿",
    "submitted": "已提交",
    "hrss_review": "人社审核",
    "guarantee_review": "担保审核",
    "bank_review": "银行审批",
    "contracted": "已签约",
    "repaying": "还款中",
    "overdue": "逾期",
    "extended": "展期",
    "settled": "已结清",
    "refused": "不予支持",
    "withdrawn": "已撤回",
}
GUARDS: Final = (
    "reason_required",
    "determination_eligible",
    "guarantee_decided",
    "contract_valid",
    "arrears",
    "arrears_cleared",
    "repaid_in_full",
    "extension_allowed",
)

A, C, R, G, B = "applicant", "window_clerk", "district_reviewer", "guarantee_fund", "bank"


# fmt: off
LOAN_TABLE: Final[tuple[Row, ...]] = (
    #   from                action                to                  roles    guards                          staff label                    applicant label
    Row("draft",            "submit",             "submitted",        (A, C),  (),                             "提交贷款申请",                "您的创业担保贷款申请已提交，等待人社部门受理"),
    Row("draft",            "withdraw",           "withdrawn",        (A, C),  (),                             "撤回申请",                    "您已撤回贷款申请"),
    Row("submitted",        "withdraw",           "withdrawn",        (A, C),  (),                             "撤回申请",                    "您已撤回贷款申请"),
    Row("submitted",        "accept",             "hrss_review",      (R,),    (),                             "受理，开始资格审核",          "您的贷款申请已受理，人社部门正在审核资格"),
    Row("submitted",        "refuse",             "refused",          (R,),    ("reason_required",),           "不予受理",                    "您的贷款申请不予支持，请查看原因"),
    Row("hrss_review",      "pass_eligibility",   "guarantee_review", (R,),    ("determination_eligible",),    "资格审核通过，送担保审核",    "您已通过资格审核，担保机构正在审核"),
    Row("hrss_review",      "refuse",             "refused",          (R,),    ("reason_required",),           "资格审核不予支持",            "您的贷款申请不予支持，请查看原因"),
    Row("guarantee_review", "approve_guarantee",  "bank_review",      (G,),    ("guarantee_decided",),         "同意担保，送银行审批",        "担保机构已同意担保，经办银行正在审批"),
    Row("guarantee_review", "refuse",             "refused",          (G,),    ("reason_required",),           "不予担保",                    "担保机构不予担保，请查看原因"),
    Row("bank_review",      "sign_contract",      "contracted",       (B,),    ("contract_valid",),            "签订借款合同",                "借款合同已签订，请查看还款计划"),
    Row("bank_review",      "refuse",             "refused",          (B,),    ("reason_required",),           "银行不予贷款",                "经办银行不予贷款，请查看原因"),
    Row("contracted",       "disburse",           "repaying",         (B,),    (),                             "放款",                        "贷款已发放，请按还款计划按时还款"),
    Row("repaying",         "record_repayment",   "repaying",         (B,),    (),                             "登记还款",                    "您的还款已入账"),
    Row("repaying",         "settle",             "settled",          (B,),    ("repaid_in_full",),            "登记还款，贷款结清",          "您的贷款已全部还清"),
    Row("repaying",         "mark_overdue",       "overdue",          (B,),    ("arrears",),                   "登记逾期",                    "您有到期未还的贷款，已逾期：逾期期间不享受贴息"),
    Row("repaying",         "extend",             "extended",         (B,),    ("reason_required", "extension_allowed"), "办理展期",          "您的贷款已展期：展期期间不享受贴息"),
    Row("overdue",          "record_repayment",   "overdue",          (B,),    (),                             "登记还款（仍有逾期）",        "您的还款已入账，仍有逾期未还款项"),
    Row("overdue",          "cure",               "repaying",         (B,),    ("arrears_cleared",),           "登记还款，逾期已还清",        "逾期款项已还清，贷款恢复正常"),
    Row("overdue",          "cure_extended",      "extended",         (B,),    ("arrears_cleared",),           "登记还款，逾期已还清（展期中）", "逾期款项已还清，贷款恢复为展期"),
    Row("overdue",          "settle",             "settled",          (B,),    ("repaid_in_full",),            "登记还款，贷款结清",          "您的贷款已全部还清"),
    Row("extended",         "record_repayment",   "extended",         (B,),    (),                             "登记还款",                    "您的还款已入账"),
    Row("extended",         "mark_overdue",       "overdue",          (B,),    ("arrears",),                   "登记逾期",                    "您有到期未还的贷款，已逾期：逾期期间不享受贴息"),
    Row("extended",         "settle",             "settled",          (B,),    ("repaid_in_full",),            "登记还款，贷款结清",          "您的贷款已全部还清"),
)
# fmt: on

ACTIONS: Final = tuple(dict.fromkeys(r.action for r in LOAN_TABLE))
ACTION_LABELS: Final = {r.action: r.staff_label for r in LOAN_TABLE}


def find_row(state: str, action: str) -> Row | None:
    """The table row for ``action`` from ``state`` (None: the action is not possible there)."""
    for row in LOAN_TABLE:
        if row.from_state == state and row.action == action:
            return row
    return None


def allowed_actions(state: str, role: str) -> list[Row]:
    """What ``role`` may do from ``state``."""
    return [r for r in LOAN_TABLE if r.from_state == state and role in r.roles]
