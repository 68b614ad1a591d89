"""The staff console under /staff: one parent blueprint that does login, permissions, CSRF and the template
context once for every page and API of the console; each section is a child blueprint.

Sections: 测试台 (bench), 质量 (quality, with its background runs in jobs), 对话回看 (review, over
the tracker store read by tracker), 需求 (demand, figures from demand_stats), 内容 (content), 好差评 (ratings: the
follow-up of every 差评), 模型 (models: retraining in the background by retrain, 上线 and 回滚), 账号 (accounts)
and 审计 (audit). Who may use which endpoint is in roles.py (deny by default).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for

from ..marks import is_json_api
from . import auth, roles

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static")
PUBLIC = roles.PUBLIC  # reachable without a staff session
PERMISSION_NAMES = {"view": "查看", "edit": "内容编辑", "label": "标注", "ratings": "好差评处理", "retrain": "重新训练",
                    "accounts": "账号管理", "audit": "审计"}


@bp.before_request
def guard():
    """Every console route but the login needs a live session and the permission roles.py maps it to (none
    mapped: refused to everyone); every state change its CSRF token."""
    if request.endpoint in PUBLIC:
        return None
    json_api = is_json_api(current_app.view_functions.get(request.endpoint))
    staff = auth.current_staff()
    if staff is None:
        if json_api:
            return jsonify(error="请先登录。"), 401
        return redirect(url_for("staff.auth.login", next=request.path))
    if not roles.allowed(staff["role"], request.endpoint):
        needed = roles.permission_of(request.endpoint)
        message = (f"您的角色（{staff['role_name']}）没有“{PERMISSION_NAMES.get(needed, needed)}”权限，不能使用这项功能。"
                   "如确需使用，请联系管理员。" if needed else "这项功能还没有设置权限，暂时谁都不能使用，请联系管理员。")
        if needed is None:
            current_app.logger.error("console endpoint %s has no permission in staff/roles.py", request.endpoint)
        if json_api:
            return jsonify(error=message), 403
        return render_template("staff/forbidden.html", message=message), 403
    if request.method not in ("GET", "HEAD", "OPTIONS") and not auth.csrf_ok():
        return ("请求已过期，请刷新页面后重试。", 400)
    return None


@bp.context_processor
def staff_context() -> dict[str, Any]:
    return {"staff": auth.current_staff(), "can": auth.can, "role_names": roles.ROLE_NAMES}


def _register() -> None:
    from . import accounts, audit, bench, content, demand, models, quality, ratings, review

    for child in (auth.bp, bench.bp, quality.bp, review.bp, demand.bp, content.bp, ratings.bp, models.bp, accounts.bp,
                  audit.bp):
        bp.register_blueprint(child)


_register()
