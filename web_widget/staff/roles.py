"""Who may do what in the console: roles grant named permissions, and every console endpoint needs one.

Permissions (by name; views never look at roles):
  view      open the console's pages and APIs, try the assistant on the 测试台, and manage one's own session
            and password (every role has it)
  edit      content: mark records checked, rebuild the staging catalogue, publish, edit records
  label     review: label citizens' messages (and merge the labels into the training data)
  ratings   好差评: follow up citizens' ratings
  retrain   run the quality checks and retrain the model (go live, roll back)
  accounts  staff accounts: add, change role, disable/enable, remove, reset a password
  audit     read the audit trail

Roles (stored in the staff table by their English key; shown by their Chinese name):
  管理员 admin     view, accounts, audit. The administrator manages who may do what and reads who did what,
                   but changes no content and labels nothing: changes are made by the people whose role it is,
                   so the audit trail always names a content editor or reviewer, never an all-powerful account.
                   (An administrator can give someone, even a second account of their own, another role; that
                   change is audited too.)
  内容编辑 editor   view, edit
  审核员 reviewer   view, label, ratings, retrain
  只读 readonly     view

ENDPOINTS maps every console endpoint (but PUBLIC ones) to the one permission it needs; the console's guard
refuses an endpoint missing here (deny by default), and tests/web_widget/staff/test_roles.py fails for one. A new
console page or API gets its line here.
"""

from __future__ import annotations

PERMISSIONS = ("view", "edit", "label", "ratings", "retrain", "accounts", "audit")

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset({"view", "accounts", "audit"}),
    "editor": frozenset({"view", "edit"}),
    "reviewer": frozenset({"view", "label", "ratings", "retrain"}),
    "readonly": frozenset({"view"}),
}
ROLE_NAMES = {"admin": "管理员", "editor": "内容编辑", "reviewer": "审核员", "readonly": "只读"}
ROLE_ALIASES = {"read-only": "readonly", "viewer": "readonly", "administrator": "admin", "content-editor": "editor"}
LEGACY_ROLE = "admin"  # accounts made before roles existed (the staff table's default), so a deployment keeps working

PUBLIC = frozenset({"staff.auth.login", "staff.static"})  # reachable without a staff session

ENDPOINTS: dict[str, str] = {
    # signed in: the home page, who am I, logging out, one's own password
    "staff.auth.home": "view",
    "staff.auth.me": "view",
    "staff.auth.logout": "view",
    "staff.auth.password": "view",
    # 测试台: a bench conversation of its own, which review and demand leave out
    "staff.bench.page": "view",
    "staff.bench.run": "view",
    # 质量
    "staff.quality.page": "view",
    "staff.quality.run": "retrain",
    # 对话回看
    "staff.review.conversation_list": "view",
    "staff.review.conversation_list_api": "view",
    "staff.review.conversation_detail": "view",
    "staff.review.label": "label",
    # 需求
    "staff.demand.demand_page": "view",
    "staff.demand.demand_api": "view",
    # 内容
    "staff.content.overview": "view",
    "staff.content.records": "view",
    "staff.content.bundle": "view",
    "staff.content.check": "edit",
    "staff.content.rebuild": "edit",
    "staff.content.publish_staged": "edit",
    "staff.content.edit": "edit",  # a record's form (only editors open it)
    "staff.content.save": "edit",
    "staff.content.new": "edit",
    "staff.content.create": "edit",
    # 好差评: everyone sees them, reviewers follow them up
    "staff.ratings.page": "view",
    "staff.ratings.api": "view",
    "staff.ratings.assign": "ratings",
    "staff.ratings.advance": "ratings",
    # 模型: everyone sees the comparison, reviewers train, make live and roll back
    "staff.models.page": "view",
    "staff.models.train": "retrain",
    "staff.models.promote": "retrain",
    "staff.models.rollback": "retrain",
    # 账号
    "staff.accounts.page": "accounts",
    "staff.accounts.add": "accounts",
    "staff.accounts.role": "accounts",
    "staff.accounts.disable": "accounts",
    "staff.accounts.enable": "accounts",
    "staff.accounts.remove": "accounts",
    "staff.accounts.reset_password": "accounts",
    # 审计
    "staff.audit.page": "audit",
}


def role_key(name: str) -> str | None:
    """The role's key for a Chinese or English name (管理员, admin, 内容编辑, editor, …), or None."""
    text = (name or "").strip()
    for key, chinese in ROLE_NAMES.items():
        if text == chinese:
            return key
    text = text.lower()
    text = ROLE_ALIASES.get(text, text)
    return text if text in ROLES else None


def permission_of(endpoint: str | None) -> str | None:
    """The permission an endpoint needs; None when it has none mapped (then nobody may use it)."""
    return ENDPOINTS.get(endpoint or "")


def allowed(role: str | None, endpoint: str | None) -> bool:
    needed = permission_of(endpoint)
    return needed is not None and needed in ROLES.get(role or "", frozenset())
